//! The sections of keapack's man pages that clap's definitions do not give: EXIT STATUS,
//! ENVIRONMENT, FILES and EXAMPLES, and the step that makes a page plain ASCII roff (the help
//! texts' dashes and ellipses as groff's own escapes), so that `groff -ww -man` warns of nothing.

/// The environment variables keapack reads, with what each does. `tests/command_line.rs` checks
/// that every `KEAPACK_*` variable the source reads is here.
pub(crate) const ENVIRONMENT: &[(&str, &str)] = &[
    ("KEAPACK_NO_CACHE", "When set and not 0: build and demo neither reuse a build from the build cache nor keep theirs there (as --no-cache)."),
    ("KEAPACK_CACHE_MAX", "The build cache's bound (a size: 5G, 500M, bytes); the oldest entries beyond it are removed after a build. Default 5G."),
    ("KEAPACK_FAIL_AT", "For tests: fail the run at the named point."),
    ("KEAPACK_PAUSE_AT", "For tests: stop at the named point, say so, and wait for SIGINT or SIGTERM."),
    ("SOURCE_DATE_EPOCH", "The one time written into the packages (seconds since 1970); default: the newest entry time in the Kea and premium inputs (demo: a fixed date)."),
    ("XDG_CACHE_HOME", "keapack's cache directory is $XDG_CACHE_HOME/keapack (default ~/.cache/keapack)."),
    ("HOME", "For the cache directory when XDG_CACHE_HOME is not set."),
    ("DPKG_ADMINDIR", "This host's dpkg database, read to name the packages that provide the hooks' libraries (default /var/lib/dpkg; a build root's own is always its /var/lib/dpkg)."),
    ("PATH", "Where the tools keapack runs are found (make, dpkg-deb, rpmbuild, gpg, lintian, rpmlint, ...)."),
];

/// The files keapack reads and writes.
const FILES: &[(&str, &str)] = &[
    ("keapack.toml", "A manifest (--manifest): package details, targets, configure options, extra profiles."),
    ("dist/", "The default --out: the packages, SHA256SUMS and the build record (*.keapack-buildinfo.json)."),
    ("~/.cache/keapack/NAME/", "The default --work directory of a build of NAME (demo: demo), marked as keapack's by its .keapack-work file; logs/ holds each step's log."),
    ("~/.cache/keapack/builds/", "The build cache (keapack cache list, keapack cache prune)."),
    ("REPO/.keapack/publish.lock", "The lock keapack publish holds on a repository while it changes it (not to be served: deny dot-paths)."),
    ("REPO/.keapack/publish.json", "The --url and --name a repository was last published with, used when a publish gives none."),
];

/// The exit codes, as docs/reference/exit-codes.md gives them.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "The command did what it was asked."),
    ("1", "It failed while doing its work (a build step, a signature, a repository check); for lint and build --lint: lintian or rpmlint found problems."),
    ("2", "The request was refused before any work: a usage or input mistake (an unknown option or value, an unknown --target, --revision '', --jobs 0, an --out that is a file, a missing --kea file); for lint and build --lint: a package could not be checked."),
    ("130, 143", "Stopped by SIGINT or SIGTERM (128 + the signal); nothing was published."),
    ("141", "The reader closed standard output before keapack had printed everything; keapack stops without a word."),
];

/// Examples for the page of `name` (`keapack`, `keapack-build`, ...).
fn examples(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "keapack-build" => vec![
            ("Build the hooks packages of two targets into dist/:", "keapack build --kea kea-2.6.5.tar.gz --premium kea-premium-2.6.5.tar.gz -t debian-12-amd64 -t rhel-9-x86_64"),
            ("Check the inputs and print the plan without building:", "keapack build --kea kea-2.6.5.tar.gz --premium kea-premium-2.6.5.tar.gz --dry-run"),
            ("One package per hook, with JSON events for CI:", "keapack build --kea kea-2.6.5.tar.gz --premium premium/ --split per-hook --message-format json"),
        ],
        "keapack-demo" => vec![("Build the bundled example for Debian 12 and lint the packages:", "keapack demo -t debian-12-amd64 --lint")],
        "keapack-guidance" => vec![("The text a package of two hooks prints on Rocky 9 with ISC's packages:", "keapack guidance -t rocky-9-x86_64 --runtime isc host_cmds flex_id")],
        "keapack-lint" => vec![("Check every package a build wrote:", "keapack lint dist/"), ("Check signed .rpm files with their public key:", "keapack lint --signed --key-file KEY.asc dist/*.rpm")],
        "keapack-publish" => vec![("Add a build's packages to signed apt and dnf repositories:", "keapack publish --repo /srv/repo --url https://repo.example.org/kea --key-file signing.asc dist/")],
        "keapack-sign" => vec![("Sign .rpm files with a key of your GnuPG:", "keapack sign --gpg-key FINGERPRINT dist/*.rpm")],
        "keapack-targets" => vec![("The CI matrix of a manifest's targets:", "keapack targets --json --manifest keapack.toml")],
        "keapack-cache" | "keapack-cache-list" | "keapack-cache-prune" => vec![("Keep the build cache under 10 GiB:", "keapack cache prune --max-size 10G")],
        "keapack-completions" => vec![("Install the bash completions:", "keapack completions bash > /etc/bash_completion.d/keapack")],
        "keapack-man" => vec![("Write the pages and read one:", "keapack man --out man && man ./man/keapack-build.1")],
        _ => vec![
            ("List the targets:", "keapack targets"),
            ("Build the example for Debian 12:", "keapack demo -t debian-12-amd64"),
            ("Build Kea's premium hooks for RHEL 9:", "keapack build --kea kea-2.6.5.tar.gz --premium kea-premium-2.6.5.tar.gz -t rhel-9-x86_64"),
        ],
    }
}

/// Text for a roff line: backslashes escaped, a leading dot or quote kept from being a request.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') { format!("\\&{s}") } else { s }
}

fn tagged(out: &mut String, heading: &str, items: &[(&str, &str)], bold: bool) {
    out.push_str(&format!(".SH \"{heading}\"\n"));
    for (tag, text) in items {
        let tag = roff_text(tag);
        out.push_str(".TP\n");
        out.push_str(&if bold { format!("\\fB{tag}\\fR\n") } else { format!("{tag}\n") });
        out.push_str(&format!("{}\n", roff_text(text)));
    }
}

/// The four sections of the page of `name`, as roff.
pub(crate) fn sections(name: &str) -> String {
    let mut out = String::new();
    tagged(&mut out, "EXIT STATUS", EXIT_STATUS, true);
    tagged(&mut out, "ENVIRONMENT", ENVIRONMENT, true);
    tagged(&mut out, "FILES", FILES, false);
    out.push_str(".SH EXAMPLES\n");
    for (what, command) in examples(name) {
        out.push_str(&format!(".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n", roff_text(what), roff_text(command)));
    }
    out
}

/// `page` (roff) with the four sections before its VERSION section (else at its end).
pub(crate) fn with_sections(page: &str, name: &str) -> String {
    let add = sections(name);
    match page.find("\n.SH VERSION") {
        Some(i) => format!("{}\n{add}{}", &page[..i], &page[i + 1..]),
        None if page.ends_with('\n') => format!("{page}{add}"),
        None => format!("{page}\n{add}"),
    }
}

/// `page` in plain ASCII: each other character as groff's escape for it.
pub(crate) fn ascii(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    for c in page.chars() {
        match c {
            c if c.is_ascii() => out.push(c),
            '\u{2014}' => out.push_str("\\(em"),
            '\u{2013}' => out.push_str("\\(en"),
            '\u{2026}' => out.push_str("..."),
            '\u{2018}' => out.push_str("\\(oq"),
            '\u{2019}' => out.push_str("\\(cq"),
            '\u{201C}' => out.push_str("\\(lq"),
            '\u{201D}' => out.push_str("\\(rq"),
            '\u{2192}' => out.push_str("\\(->"),
            c => out.push_str(&format!("\\[u{:04X}]", c as u32)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gets_its_sections_before_version_and_is_ascii() {
        let page = ".TH x 1\n.SH NAME\nx \u{2014} y\u{2026} 2.7.7\u{2013}2.7.9 K\u{e9}a\n.SH VERSION\nv1\n";
        let out = ascii(&with_sections(page, "keapack-lint"));
        assert!(out.is_ascii(), "{out}");
        assert!(out.contains("x \\(em y... 2.7.7\\(en2.7.9 K\\[u00E9]a"), "{out}");
        let [exit, env, files, ex, version] = ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "VERSION"].map(|h| out.find(&format!(".SH {h}")).or_else(|| out.find(&format!(".SH \"{h}\""))).unwrap_or(usize::MAX));
        assert!(exit < env && env < files && files < ex && ex < version && version != usize::MAX, "{out}");
        assert!(out.contains("keapack lint dist/"), "{out}");
        assert!(!out.lines().any(|l| l.starts_with('\'') || (l.starts_with('.') && l.len() > 1 && !l.as_bytes()[1].is_ascii_alphabetic())), "no line reads as a request by accident: {out}");
    }
}

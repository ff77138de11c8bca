//! The lintian overrides a keapack `.deb` ships in `/usr/share/lintian/overrides/<package>`:
//! only for tags that are unavoidable for a hooks package, each written exactly (tag and
//! context, so nothing else is silenced) and only when the package would draw the tag, each
//! with a comment saying why.
//!
//! - `initial-upload-closes-no-bugs`: a first revision (`-1`) with one changelog entry is, to
//!   lintian, a new package in the Debian archive, which must close its ITP bug. keapack's
//!   packages go to a site's own repository; there is no bug to close.
//! - `possible-bashism-in-maintainer-script 'function …'`: a post-install script (a user's
//!   template) that prints the guidance from a quoted here-document, where the guidance quotes
//!   Kea's own log message `HOOKS_LOAD_ERROR 'load' function in hook library …`. lintian reads
//!   here-document text as shell code and takes `function in` for a bash function definition.
//!   keapack's own templates print it as single-quoted `printf` arguments and draw no such tag.

use crate::plan::spec::PackageSpec;

/// The overrides file's path in the package.
pub(crate) fn path(package: &str) -> String {
    format!("/usr/share/lintian/overrides/{package}")
}

/// The overrides file for `spec`, or `None` when the package needs none. Reads the spec's
/// changelog, revision and post-install script, so call it once those are final.
pub(crate) fn lintian_overrides(spec: &PackageSpec) -> Option<String> {
    let mut out = String::new();
    let pkg = &spec.name;
    let first = spec.changelog.len() == 1 && spec.revision == "1" && !spec.changelog[0].text.contains("Closes:");
    if first {
        out.push_str("# Built by keapack for a site's own repository, not for the Debian archive:\n# there is no ITP bug for this first revision to close.\n");
        out.push_str(&format!("{pkg}: initial-upload-closes-no-bugs [usr/share/doc/{pkg}/changelog.Debian.gz:1]\n"));
    }
    if let Some(script) = &spec.post_install {
        // lintian skips comment lines, so they need no override.
        let hits: Vec<(usize, String)> = here_document_lines(script)
            .filter(|(_, line)| !line.trim_start().starts_with('#'))
            .filter_map(|(n, line)| function_word(line).map(|m| (n, m)))
            .collect();
        if !hits.is_empty() {
            out.push_str("# postinst prints the configuration guidance from a quoted here-document, and the\n# guidance quotes Kea's log message \"HOOKS_LOAD_ERROR 'load' function in hook library\".\n# lintian reads here-document text as shell code and sees a bash function definition.\n");
            for (n, m) in hits {
                out.push_str(&format!("{pkg}: possible-bashism-in-maintainer-script '{m}' [postinst:{n}]\n"));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// (1-based line number, text) of each line inside a quoted here-document (`<<'WORD'`).
fn here_document_lines(script: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut end: Option<String> = None;
    script.lines().enumerate().filter_map(move |(i, line)| {
        if let Some(word) = &end {
            if line == word {
                end = None;
                return None;
            }
            return Some((i + 1, line));
        }
        if let Some(rest) = line.split_once("<<'").map(|(_, r)| r) {
            end = rest.split_once('\'').map(|(w, _)| w.to_string());
        }
        None
    })
}

/// What lintian's `(?:^|\s+)function \w+(\s|\(|\Z)` bashism pattern matches on `line` after
/// its quoted strings are blanked, trimmed as lintian reports it (`function in`).
fn function_word(line: &str) -> Option<String> {
    let plain = blank_quotes(line);
    let mut from = 0;
    while let Some(i) = plain[from..].find("function ").map(|i| i + from) {
        from = i + 1;
        if i > 0 && !plain[..i].ends_with(char::is_whitespace) {
            continue;
        }
        let rest = &plain[i + "function ".len()..];
        let word_len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let after = rest[word_len..].chars().next();
        if word_len > 0 && after.is_none_or(|c| c.is_whitespace() || c == '(') {
            return Some(format!("function {}", &rest[..word_len]));
        }
    }
    None
}

/// The line with the insides of '…' and "…" removed, as lintian does before this check.
fn blank_quotes(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::sample_spec;
    use crate::plan::spec::{Compression, Format};

    #[test]
    fn overrides_only_what_the_package_draws() {
        let (_tmp, mut spec) = sample_spec(Format::Deb, Compression::Xz);
        spec.post_install = Some("#!/bin/sh\nset -e\ncat <<'G' || true\nA function here\nHOOKS_LOAD_ERROR 'load' function in hook library\nno 'function x' here\n# function y\nG\nfunction_not x\n".into());
        let text = lintian_overrides(&spec).unwrap();
        let tags: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(tags, [
            "kea-hook-test: initial-upload-closes-no-bugs [usr/share/doc/kea-hook-test/changelog.Debian.gz:1]",
            "kea-hook-test: possible-bashism-in-maintainer-script 'function here' [postinst:4]",
            "kea-hook-test: possible-bashism-in-maintainer-script 'function in' [postinst:5]",
        ]);
        assert!(text.lines().filter(|l| l.starts_with('#')).count() >= 4, "every override says why:\n{text}");

        spec.revision = "2".into();
        spec.post_install = Some("#!/bin/sh\ncat <<'G'\nnothing to see\nG\n".into());
        assert_eq!(lintian_overrides(&spec), None);
        assert_eq!(path("p"), "/usr/share/lintian/overrides/p");
    }
}

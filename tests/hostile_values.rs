//! Hostile values in every string of a manifest and of a manifest's profile, through
//! `keapack build --dry-run -m <manifest>`: each is refused before any work, naming its line
//! and key, or accepted (free text). The accepted texts are then printed by the maintainer
//! scripts the library renders (no build), run under dash and bash with every dpkg and rpm
//! argument as an unprivileged user: the exact printout, exit 0, and a sentinel directory and
//! the scratch directory unchanged.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The corpus: (label, value).
fn corpus() -> Vec<(&'static str, String)> {
    vec![
        ("newline+command", "/run/kea\ntouch /tmp/keapack-pwned".into()),
        ("heredoc EOF", "x\nEOF\ntouch pwned\nEOF".into()),
        ("heredoc KEAPACK", "x\nKEAPACK_GUIDANCE\ntouch pwned\nKEAPACK_UPGRADE_NOTE\nKEAPACK_REMOVAL_WARNING".into()),
        ("command substitution", "$(touch pwned)".into()),
        ("backticks", "`touch pwned`".into()),
        ("semicolon", "kea; touch pwned".into()),
        ("single quote", "it's '; touch pwned; '".into()),
        ("double quote", "say \"$(touch pwned)\"".into()),
        ("backslash", "a\\b\\nc\\".into()),
        ("parent dir", "../../../../etc/shadow".into()),
        ("absolute outside", "/etc/kea".into()),
        ("tmp path", "/tmp/kea".into()),
        ("control chars", "a\u{1b}[31mred\u{7}\r".into()),
        ("nul", "a\u{0}b".into()),
        ("very long", "a".repeat(5000)),
        ("empty", String::new()),
        ("blank", "   ".into()),
        ("unicode", "Kéa ✓ — ünïcode".into()),
        ("glob and redirect", "* > /tmp/x < /etc/passwd | cat &".into()),
        ("option injection", "--prefix=/;touch pwned".into()),
    ]
}

/// A manifest whose every string is valid, with a profile of its own; each key's line.
const BASE: &str = r#"targets = ["acme-5-amd64"]

[package]
name = "kea-premium-hooks"
revision = "1"
maintainer = "Release Team <release@example.org>"
homepage = "https://www.isc.org/kea/"
license = "LicenseRef-ISC-Premium"
license-text = "Licensed by ISC."
section = "net"
per-hook-prefix = "acme-kea"
changelog = "changelog.toml"

[build]
configure-options = ["--with-mysql"]
meson-options = ["-Dmysql=enabled"]
mirror = "http://deb.debian.org/debian"
root-packages = ["libmysqlclient-dev"]

[profile.acme-5]
name = "Acme Linux 5"
family = "deb"
os-id = "acme"
os-version-id = "5"
codename = "acme"
dist-tag = "+acme5"
container-image = "acme:5"
compression = "xz"

[profile.acme-5.runtime.distribution]
common = "acme-kea-common"
socket-dir = "/run/kea"
user = "_kea"

[profile.acme-5.runtime.distribution.services]
dhcp4 = "acme-kea-dhcp4"

[profile.acme-5.arch.amd64]
elf-machine = "x86_64"
libdir = "/usr/lib/x86_64-linux-gnu"

[profile.acme-5.build-root]
bootstrap = "debootstrap"
mirror = "http://deb.example.org/acme"
keyring = "/usr/share/keyrings/acme-archive-keyring.gpg"
components = ["main"]
suites = ["{codename}-updates"]

[profile.acme-5.build-deps]
tools = ["make"]
"#;

/// The keys of free text: (key, multi-line allowed, longest value).
const FREE_TEXT: &[(&str, bool, usize)] = &[("package.license-text", true, 65536), ("profile.acme-5.name", false, 200)];

/// Keys whose value is one of a fixed set of words.
const ENUMS: &[&str] = &["profile.acme-5.family", "profile.acme-5.compression", "profile.acme-5.build-root.bootstrap"];

/// Every string key of BASE: (full key, line, the line's text before the value).
fn keys() -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut table = String::new();
    for (i, line) in BASE.lines().enumerate() {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = t.to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once(" = ")
            && (v.starts_with('"') || v.starts_with("[\""))
        {
            let full = if table.is_empty() { k.to_string() } else { format!("{table}.{k}") };
            out.push((full, i + 1, format!("{k} = ")));
        }
    }
    out
}

/// BASE with the value of the key on `line` replaced by `value` (kept an array if it was).
fn with_value(line: usize, value: &str) -> String {
    let lit = toml::Value::String(value.to_string()).to_string();
    BASE.lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 != line {
                return l.to_string();
            }
            let (k, v) = l.split_once(" = ").unwrap();
            if v.starts_with('[') { format!("{k} = [{lit}]") } else { format!("{k} = {lit}") }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn dry_run(dir: &Path, manifest: &str) -> (bool, String) {
    let m = dir.join("keapack.toml");
    std::fs::write(&m, manifest).unwrap();
    std::fs::write(dir.join("changelog.toml"), "[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-01-02\ntext = \"first\"\n").unwrap();
    let out = run(keapack()
        .arg("build")
        .arg("--dry-run")
        .arg("-m")
        .arg(&m)
        .arg("--kea")
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium")
        .arg(examples().join("kea-premium-2.2.0"))
        // Planned on this host: a root of the profile's release needs root, and only the plan is asked for.
        .arg("--build-env")
        .arg("host")
        .arg("--work")
        .arg(dir.join("work"))
        .arg("--out")
        .arg(dir.join("out")));
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// What a free-text key accepts, by its own definition (not the library's rules).
fn free_text_accepts(multi: bool, max: usize, v: &str) -> bool {
    !v.trim().is_empty() && v.len() <= max && !v.chars().any(|c| c.is_control() && !(multi && (c == '\n' || c == '\t')))
}

#[test]
fn every_manifest_and_profile_string_refuses_or_accepts_each_hostile_value() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = dry_run(tmp.path(), BASE);
    assert!(ok, "the base manifest must pass --dry-run:\n{err}");
    let keys = keys();
    assert_eq!(keys.len(), 34, "{keys:?}");
    let (mut refused, mut accepted) = (0, 0);
    for (key, line, _) in &keys {
        for (label, value) in corpus() {
            let (ok, err) = dry_run(tmp.path(), &with_value(*line, &value));
            let free = FREE_TEXT.iter().find(|(k, _, _)| k == key);
            // A key of a fixed set of words (family, compression) is refused by the parser,
            // naming the line, when the value passes the one-line rule.
            if ENUMS.contains(&key.as_str()) {
                assert!(!ok && err.contains("keapack.toml") && err.contains(&format!("line {line}")), "{key} = {label}:\n{err}");
                refused += 1;
                continue;
            }
            let expect_ok = match free {
                Some((_, multi, max)) => free_text_accepts(*multi, *max, &value),
                // Only an empty dist tag is valid among the hostile values of a structured key.
                None => key == "profile.acme-5.dist-tag" && value.is_empty(),
            };
            if expect_ok {
                assert!(ok, "{key} = {label}: must be accepted:\n{err}");
                accepted += 1;
            } else {
                assert!(!ok, "{key} = {label}: must be refused");
                let want = format!("keapack.toml: line {line}: {key} = ");
                assert!(err.contains(&want) && err.contains("is refused: it must be") && err.contains("Fix: "), "{key} = {label}: expected {want:?} in:\n{err}");
                assert!(!tmp.path().join("work").exists() && !tmp.path().join("out").exists(), "{key} = {label}: work before the refusal");
                refused += 1;
            }
        }
    }
    eprintln!("{} keys x {} values: {refused} refused, {accepted} accepted", keys.len(), corpus().len());
    assert_eq!(refused + accepted, keys.len() * corpus().len());
    assert!(accepted > 0 && refused > 0);
}

#[test]
fn a_profiles_own_table_names_are_values_too() {
    let tmp = tempfile::tempdir().unwrap();
    for (from, to, line, key) in [
        ("[profile.acme-5]", "[profile.\"acme;id\"]", 20, "profile.<key>"),
        ("dhcp4 = \"acme-kea-dhcp4\"", "\"dhcp4 $(id)\" = \"acme-kea-dhcp4\"", 36, "profile.acme-5.runtime.distribution.services.<key>"),
        ("[profile.acme-5.arch.amd64]", "[profile.acme-5.arch.\"amd64\\n\"]", 38, "profile.acme-5.arch.<key>"),
    ] {
        let (ok, err) = dry_run(tmp.path(), &BASE.replace(from, to));
        assert!(!ok && err.contains(&format!("keapack.toml: line {line}: {key} = ")), "{to}:\n{err}");
    }
}

/// Run `script` with `shell` and `args` as an unprivileged user in `cwd`, DPKG_ROOT `root`.
fn run_script(shell: &str, script: &Path, args: &[&str], cwd: &Path, root: &Path) -> (i32, String, String) {
    let mut cmd = if unsafe_is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", shell]);
        c
    } else {
        Command::new(shell)
    };
    let out = cmd.arg(script).args(args).current_dir(cwd).env_clear().env("PATH", "/usr/bin:/bin").env("DPKG_ROOT", root).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn unsafe_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A directory's entries and contents, to tell that nothing touched it.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), Vec::new());
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

#[test]
fn accepted_texts_are_printed_exactly_by_the_maintainer_scripts() {
    use keapack::plan::{catalog::Catalog, guidance::Templates, manifest::PackageSection, profile::Profiles};
    require("dash", "dash");
    require("setpriv", "util-linux");
    // The texts a template, the catalog or a manifest's free text can put into what a script
    // prints: every corpus value some key accepts.
    let texts: Vec<(&str, String)> = corpus()
        .into_iter()
        .filter(|(_, v)| FREE_TEXT.iter().any(|(_, multi, max)| free_text_accepts(*multi, *max, v)))
        .collect();
    assert!(texts.len() >= 12, "{}", texts.len());
    let scratch = tempfile::tempdir().unwrap();
    chmod(scratch.path(), 0o755);
    let sentinel = scratch.path().join("sentinel");
    std::fs::create_dir(&sentinel).unwrap();
    std::fs::write(sentinel.join("keep"), "unchanged").unwrap();
    chmod(&sentinel, 0o777);
    let cwd = scratch.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    chmod(&cwd, 0o777);
    let mut runs = 0;
    for (label, text) in &texts {
        let t = tempfile::tempdir_in(scratch.path()).unwrap();
        chmod(t.path(), 0o755);
        let tpl = t.path().join("templates");
        std::fs::create_dir(&tpl).unwrap();
        let raw = |s: &str| format!("{{% raw %}}{s}{{% endraw %}}");
        std::fs::write(tpl.join("guidance.txt.j2"), format!("{}\npkg {{{{ package }}}}\n", raw(text))).unwrap();
        std::fs::write(tpl.join("upgrade-note.txt.j2"), format!("{} {{{{ old_version }}}} -> {{{{ version }}}}\n", raw(text))).unwrap();
        std::fs::write(tpl.join("removal-warning.txt.j2"), format!("{} {{{{ config }}}} {{{{ library }}}} {{{{ daemon }}}}\n", raw(text))).unwrap();
        let templates = Templates::with_overrides(Some(&tpl)).unwrap();
        let catalog = Catalog::builtin();
        let profiles = Profiles::builtin();
        let kea = keapack::source::version::KeaVersion::parse("2.2.0").unwrap();
        let lib = t.path().join("libdhcp_host_cmds.so");
        std::fs::write(&lib, "").unwrap();
        for (target, daemon) in [("debian-12-amd64", "kea-dhcp4 (kea-dhcp4-server)"), ("rhel-9-x86_64", "kea-dhcp4")] {
            let target = profiles.target(target).unwrap();
            let package = PackageSection { license_text: text.clone(), ..PackageSection::default() };
            let hooks = [keapack::stage::StagedHook { library: "libdhcp_host_cmds.so".into(), path: lib.clone(), premium: true, machine: target.arch_info.elf_machine.clone() }];
            let spec = keapack::plan::plan(&keapack::plan::PlanInput {
                package: &package,
                kea_version: &kea,
                hooks: &hooks,
                target: &target,
                epoch: 1_700_000_000,
                catalog: &catalog,
                templates: &templates,
                library_depends: &BTreeMap::new(),
            })
            .unwrap();
            let version = format!("{}-{}", spec.version, spec.revision);
            let hook = format!("{}/libdhcp_host_cmds.so", target.hooks_dir());
            // Roots: one with the library installed, one where it is gone and a configuration names it.
            let present = t.path().join(format!("present-{}", target.id()));
            std::fs::create_dir_all(present.join(hook.trim_start_matches('/')).parent().unwrap()).unwrap();
            std::fs::write(present.join(hook.trim_start_matches('/')), "").unwrap();
            let gone = t.path().join(format!("gone-{}", target.id()));
            std::fs::create_dir_all(gone.join("etc/kea")).unwrap();
            std::fs::write(gone.join("etc/kea/kea-dhcp4.conf"), format!("{{ \"Dhcp4\": {{ \"hooks-libraries\": [ {{ \"library\": \"{hook}\" }} ] }} }}\n")).unwrap();
            Command::new("chmod").args(["-R", "a+rX"]).arg(t.path()).status().unwrap();
            let write = |name: &str, s: &Option<String>| -> Option<PathBuf> {
                let p = t.path().join(format!("{}-{name}", target.id()));
                std::fs::write(&p, s.as_ref()?).unwrap();
                chmod(&p, 0o644);
                Some(p)
            };
            let (pre, post, postrm) = (write("pre", &spec.pre_install), write("post", &spec.post_install).unwrap(), write("postrm", &spec.post_remove).unwrap());
            let guidance = format!("{}\n", format!("{text}\npkg kea-premium-hooks").trim_end());
            let old = "2.2.0-0 $(touch pwned) '\"";
            let note = |old: &str| format!("{}\n", format!("{text} {old} -> {version}").trim_end());
            let conf = gone.join("etc/kea/kea-dhcp4.conf");
            let warning = format!("{}\n", format!("{text} {} {hook} {daemon}", conf.display()).trim_end());
            // (script, args, root, stdout, stderr)
            let mut cases: Vec<(&Path, Vec<&str>, &Path, String, String)> = Vec::new();
            let note_old = note(old);
            if target.profile.family == keapack::plan::spec::Format::Deb {
                assert!(pre.is_none());
                cases.push((&post, vec!["configure", ""], &present, guidance.clone(), String::new()));
                cases.push((&post, vec!["configure"], &present, guidance.clone(), String::new()));
                cases.push((&post, vec!["configure", old], &present, note_old.clone(), String::new()));
                for a in ["abort-upgrade", "abort-remove", "abort-deconfigure"] {
                    cases.push((&post, vec![a, "2.2.0-0"], &present, String::new(), String::new()));
                }
                cases.push((&postrm, vec!["remove"], &gone, String::new(), warning.clone()));
                for a in ["purge", "upgrade", "failed-upgrade", "abort-install", "abort-upgrade", "disappear"] {
                    cases.push((&postrm, vec![a, "2.2.0-0"], &gone, String::new(), String::new()));
                }
            } else {
                let pre = pre.as_ref().unwrap();
                cases.push((pre, vec!["1"], &present, String::new(), String::new()));
                cases.push((pre, vec!["2"], &present, note("an earlier version"), String::new()));
                cases.push((&post, vec!["1"], &present, guidance.clone(), String::new()));
                cases.push((&post, vec!["2"], &present, String::new(), String::new()));
                cases.push((&postrm, vec!["0"], &gone, String::new(), warning.clone()));
                cases.push((&postrm, vec!["1"], &gone, String::new(), String::new()));
            }
            for shell in ["dash", "bash"] {
                for (script, args, root, want_out, want_err) in &cases {
                    let before = (snapshot(&sentinel), snapshot(&cwd));
                    let (code, out, err) = run_script(shell, script, args, &cwd, root);
                    let ctx = format!("{label} {} {shell} {} {args:?}", target.id(), script.display());
                    assert_eq!(code, 0, "{ctx}: {err}");
                    assert_eq!(&out, want_out, "{ctx}");
                    assert_eq!(&err, want_err, "{ctx}");
                    assert_eq!((snapshot(&sentinel), snapshot(&cwd)), before, "{ctx}: the script changed the sentinel or scratch directory");
                    assert!(!Path::new("/tmp/keapack-pwned").exists(), "{ctx}");
                    runs += 1;
                }
            }
        }
    }
    eprintln!("{} texts: {runs} maintainer script runs", texts.len());
    assert_eq!(runs, texts.len() * 2 * (13 + 6));
}

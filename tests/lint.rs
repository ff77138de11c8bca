//! The packages keapack writes, judged by the distributions' own checkers: lintian on the
//! `.deb` (no error, no warning), rpmlint on the `.rpm` (no error) — through `keapack lint`
//! and run directly.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// One build of the example with `--lint`, shared by the tests of this file.
fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        require("lintian", "lintian");
        require("rpmlint", "rpmlint");
        build_example_tarballs("lint-rs-", "tar.gz", &["--lint"])
    })
}

/// (success, stdout + stderr) of a checker run directly.
fn check(cmd: &mut Command) -> (bool, String) {
    let out = run(cmd.env("LC_ALL", "C"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// Lines of lintian output at `level` (`E`, `W`, `O`, …).
fn lintian_level(out: &str, level: char) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with(&format!("{level}: "))).collect()
}

#[test]
#[ignore = "slow: builds the example"]
fn build_with_lint_flag_reports_both_packages_passed() {
    let b = built();
    assert!(b.stdout.contains(&format!("lintian {}:", b.deb.display())), "{}", b.stdout);
    assert!(b.stdout.contains(&format!("rpmlint {}:", b.rpm.display())), "{}", b.stdout);
    assert_eq!(b.stdout.matches("\npassed: 0 errors, ").count(), 2, "{}", b.stdout);
    assert!(!b.stdout.contains("FAILED"), "{}", b.stdout);
}

#[test]
#[ignore = "slow: builds the example"]
fn keapack_lint_passes_the_deb_and_the_rpm() {
    let b = built();
    let out = run(keapack().arg("lint").arg(&b.deb).arg(&b.rpm));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("passed: 0 errors, 0 warnings"), "lintian: no error, no warning:\n{text}");
    assert!(!text.lines().any(|l| l.starts_with("E: ") || l.starts_with("W: ") || l.contains(": E: ")), "{text}");
    assert!(text.contains("no-signature not counted"), "{text}");
}

#[test]
#[ignore = "slow: builds the example"]
fn lintian_directly_reports_no_error_no_warning_and_uses_every_override() {
    let b = built();
    let (_, out) = check(Command::new("lintian").args(["-EIL", "+pedantic", "--tag-display-limit", "0", "--show-overrides"]).arg(&b.deb));
    assert!(lintian_level(&out, 'E').is_empty() && lintian_level(&out, 'W').is_empty(), "lintian:\n{out}");
    // The package's own overrides are all used, and they are the only ones.
    let overridden: Vec<&str> = lintian_level(&out, 'O').iter().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    // (No initial-upload-closes-no-bugs: lintian takes only a version ending in -1 for a first
    // upload, and Debian 12's revision is 1+deb12.)
    // (No possible-bashism-in-maintainer-script either: postinst prints the guidance, which
    // quotes Kea's "HOOKS_LOAD_ERROR 'load' function in hook library", as single-quoted printf
    // arguments, which lintian does not read as code, not from a here-document.)
    assert!(overridden.is_empty(), "{out}");
    for tag in ["unused-override", "mismatched-override", "missing-dependency-on-libc", "hardening-no-bindnow", "hardening-no-relro",
        "binary-or-shlib-defines-rpath", "unstripped-binary-or-object", "copyright-without-copyright-notice"] {
        assert!(!out.contains(tag), "{tag}:\n{out}");
    }
    // The overrides file, when there is one, says why, above each override.
    let text = stdout(Command::new("sh").arg("-c").arg(format!(
        "dpkg-deb --fsys-tarfile '{}' | tar -xO ./usr/share/lintian/overrides/kea-premium-hooks 2>/dev/null || true", b.deb.display())));
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate().filter(|(_, l)| !l.starts_with('#')) {
        assert!(i > 0 && lines[i - 1].starts_with('#'), "override without a reason: {l}\n{text}");
    }
}

#[test]
#[ignore = "slow: builds the example"]
fn rpmlint_directly_reports_no_error_and_only_the_unsigned_error_without_the_filter() {
    let b = built();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/rpmlint.toml");
    let (ok, out) = check(Command::new("rpmlint").arg("-c").arg(&config).arg(&b.rpm));
    assert!(ok && !out.contains(": E: "), "rpmlint with keapack's configuration:\n{out}");
    let warnings: Vec<&str> = out.lines().filter_map(|l| l.split_once(": W: ")).map(|(_, w)| w.split(' ').next().unwrap()).collect();
    assert_eq!(warnings, ["invalid-license"], "only the documented warning:\n{out}");
    // Without the filter, the one error is the missing signature: packages are signed at publish time.
    let (ok, raw) = check(Command::new("rpmlint").arg(&b.rpm));
    let errors: Vec<&str> = raw.lines().filter(|l| l.contains(": E: ")).collect();
    assert!(!ok && errors.len() == 1 && errors[0].ends_with(": E: no-signature"), "{raw}");
    let signed = run(keapack().args(["lint", "--signed"]).arg(&b.rpm));
    assert_eq!(signed.status.code(), Some(1), "--signed counts no-signature");
}

#[test]
fn keapack_lint_fails_on_findings_and_on_files_it_cannot_check() {
    require("dpkg-deb", "dpkg");
    require("lintian", "lintian");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bad");
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::write(root.join("DEBIAN/control"), "Package: bad-hooks\nVersion: 1.0-1\nArchitecture: all\nMaintainer: A <a@example.org>\nDescription: bad\n bad\n").unwrap();
    let deb = tmp.path().join("bad-hooks_1.0-1_all.deb");
    stdout(Command::new("dpkg-deb").args(["-b", "--root-owner-group"]).arg(&root).arg(&deb));
    let out = run(keapack().arg("lint").arg(&deb));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("E: bad-hooks: no-copyright-file") && text.contains("FAILED:"), "{text}");

    let junk = tmp.path().join("junk.rpm");
    std::fs::write(&junk, "not a package").unwrap();
    let out = run(keapack().arg("lint").arg(&junk).arg(&deb));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("junk.rpm: not checked") && text.contains("neither a .deb nor an .rpm"), "{text}");
    assert!(text.contains("FAILED:"), "the other files are still checked:\n{text}");
}

#[test]
#[ignore = "slow: builds the example"]
fn keapack_lint_names_the_missing_checker_and_its_package() {
    let b = built();
    let empty = tempfile::tempdir().unwrap();
    let out = run(keapack().arg("lint").arg(&b.deb).arg(&b.rpm).env("PATH", empty.path()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("lintian is not installed") && text.contains("apt-get install lintian"), "{text}");
    assert!(text.contains("rpmlint is not installed") && text.contains("apt-get install rpmlint"), "{text}");
}

/// A profile like Debian 12 without a release suffix, whose first revision lintian takes for a
/// first upload to Debian (`initial-upload-closes-no-bugs`).
const SITE_PROFILE: &str = r#"[profile.site-12]
name = "Debian 12, site repository"
family = "deb"
os-id = "debian"
os-version-id = "12"
codename = "bookworm"
kea = "2.2.0"
compression = "xz"
[profile.site-12.runtime.distribution]
common = "kea-common"
services = { dhcp4 = "kea-dhcp4-server", dhcp6 = "kea-dhcp6-server" }
[profile.site-12.arch.amd64]
elf-machine = "x86_64"
libdir = "/usr/lib/x86_64-linux-gnu"
"#;

#[test]
#[ignore = "slow: builds the example"]
fn debug_symbol_packages_pass_lint_too() {
    require("lintian", "lintian");
    require("rpmlint", "rpmlint");
    let manifest_dir = tempfile::tempdir().unwrap();
    let manifest = manifest_dir.path().join("keapack.toml");
    std::fs::write(&manifest, SITE_PROFILE).unwrap();
    let b = build_example_tarballs("lint-debug-rs-", "tar.gz", &["--debug-symbols", "--lint", "--target", "site-12-amd64", "--manifest", manifest.to_str().unwrap()]);
    // Six packages: main and debug package of debian-12, site-12 and rhel-9, each passed.
    assert_eq!(b.stdout.matches("\npassed: 0 errors, ").count(), 6, "{}", b.stdout);
    assert!(!b.stdout.contains("FAILED") && !b.stdout.contains(": E: "), "{}", b.stdout);
    for dbg in ["kea-premium-hooks-dbgsym_2.2.0-1_amd64.deb", "kea-premium-hooks-dbgsym_2.2.0-1+deb12_amd64.deb"] {
        let (_, out) = check(Command::new("lintian").args(["-EIL", "+pedantic", "--show-overrides"]).arg(b.out.join(dbg)));
        assert!(lintian_level(&out, 'E').is_empty() && lintian_level(&out, 'W').is_empty(), "{dbg}:\n{out}");
        assert!(!out.contains("unused-override") && !out.contains("mismatched-override"), "{dbg}:\n{out}");
        let overridden: Vec<&str> = lintian_level(&out, 'O').iter().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
        // A first revision without a release suffix: the one override, with its reason.
        let want: &[&str] = if dbg.contains("+deb12") { &[] } else { &["initial-upload-closes-no-bugs"] };
        assert_eq!(overridden, want, "{dbg}:\n{out}");
    }
    // rpmlint with keapack's configuration: no error, and of the warnings only the documented
    // license one; every filtered tag of the -debuginfo package is listed in rpmlint.toml with
    // its reason.
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/rpmlint.toml");
    let rpm = b.out.join("kea-premium-hooks-debuginfo-2.2.0-1.el9.x86_64.rpm");
    let (ok, out) = check(Command::new("rpmlint").arg("-c").arg(&config).arg(&rpm));
    let findings: Vec<&str> = out.lines().filter(|l| l.contains(": E: ") || l.contains(": W: ")).collect();
    assert!(ok && findings == ["kea-premium-hooks-debuginfo.x86_64: W: invalid-license LicenseRef-ISC-Premium"], "{out}");
    let (_, raw) = check(Command::new("rpmlint").arg(&rpm));
    let text = std::fs::read_to_string(&config).unwrap();
    for tag in ["shared-library-without-dependency-information", "unstripped-binary-or-object", "no-documentation", "requires-on-release"] {
        assert!(raw.contains(tag), "without keapack's configuration rpmlint reports {tag}:\n{raw}");
        assert!(text.lines().any(|l| l.starts_with('#') && l.contains(tag)), "rpmlint.toml gives the reason for {tag}");
    }
}

//! The run is resolved before any work: every mistake keapack can see from the command line,
//! the manifest and the file system is refused before the first build step (the work directory
//! is not even created, nothing is unpacked or written), with a sentence naming the flag and the
//! fix; `--dry-run` prints the plan and writes nothing.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Dirs {
    tmp: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Dirs {
        Dirs { tmp: tempfile::tempdir().unwrap() }
    }
    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }
    fn out(&self) -> PathBuf {
        self.tmp.path().join("dist")
    }
}

/// `keapack build` of the example directories with `args`; returns (success, stdout, stderr).
fn build(d: &Dirs, args: &[&str]) -> (bool, String, String) {
    let started = Instant::now();
    let res = run(keapack()
        .arg("build")
        .arg("--kea").arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0"))
        .arg("--work").arg(d.work())
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    // Reported, not asserted: timing belongs to benchmarks.
    eprintln!("keapack build {args:?} answered in {:.0?}", started.elapsed());
    (res.status.success(), String::from_utf8_lossy(&res.stdout).into_owned(), String::from_utf8_lossy(&res.stderr).into_owned())
}

/// The refusal came before any work: no work directory, no output directory.
fn refused_before_work(d: &Dirs, args: &[&str], expect: &[&str]) {
    let out = d.out();
    let mut all = vec!["--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    if !all.contains(&"--target") {
        all.extend_from_slice(&["--target", "debian-12-amd64"]);
    }
    let (ok, _, err) = build(d, &all);
    assert!(!ok, "{args:?} must be refused");
    for e in expect {
        assert!(err.contains(e), "{args:?}: expected {e:?} in:\n{err}");
    }
    assert!(err.starts_with("keapack: error:"), "{args:?}: the refusal is the only output:\n{err}");
    assert!(!d.work().exists(), "{args:?}: the work directory was created before the refusal");
    assert!(!d.out().exists() || Path::new(&d.out()).is_file(), "{args:?}: the output directory was created before the refusal");
}

/// The architecture of the host's Debian-family profile that this host cannot build.
fn foreign_deb_target() -> (&'static str, &'static str) {
    if std::env::consts::ARCH == "aarch64" { ("debian-12-amd64", "x86_64") } else { ("debian-12-arm64", "aarch64") }
}

#[test]
fn a_revision_flag_is_checked_like_the_manifest_key() {
    let d = Dirs::new();
    refused_before_work(&d, &["--revision", "1-2"], &["--revision '1-2' must be letters, digits, + . ~"]);
    refused_before_work(&d, &["--revision", ""], &["--revision '' must be letters, digits, + . ~"]);
    refused_before_work(&d, &["--revision", "1 2"], &["--revision '1 2'"]);
}

#[test]
fn a_target_of_another_architecture_is_refused_with_the_fix() {
    let d = Dirs::new();
    let (target, machine) = foreign_deb_target();
    refused_before_work(&d, &["--target", target], &[&format!("target {target} needs {machine} hook libraries"), "does not cross-compile", &format!("on an {machine} host")]);
}

#[test]
fn out_naming_a_file_is_refused() {
    let d = Dirs::new();
    std::fs::write(d.out(), b"not a directory").unwrap();
    refused_before_work(&d, &[], &["--out", "this is a file, not a directory"]);
    assert_eq!(std::fs::read(d.out()).unwrap(), b"not a directory");
    let below = d.out().join("sub");
    let (ok, _, err) = build(&d, &["--target", "debian-12-amd64", "--out", below.to_str().unwrap()]);
    assert!(!ok && err.contains("cannot create the output directory") && err.contains("is a file"), "{err}");
}

#[test]
fn jobs_out_of_bounds_are_refused() {
    let d = Dirs::new();
    refused_before_work(&d, &["--jobs", "0"], &["--jobs 0 is out of range: give 1 to 1024"]);
    refused_before_work(&d, &["--jobs", "99999999999"], &["--jobs 99999999999 is out of range"]);
}

#[test]
fn targets_that_would_write_the_same_file_are_refused() {
    let d = Dirs::new();
    // RHEL and its rebuilds of one release share the dist tag .el9, hence the file name.
    refused_before_work(
        &d,
        &["--target", "rhel-9-x86_64", "--target", "rocky-9-x86_64"],
        &["targets rhel-9-x86_64 and rocky-9-x86_64 would both write kea-premium-hooks-2.2.0-1.el9.x86_64.rpm", "separate --out"],
    );
}

#[test]
fn debian_family_releases_write_side_by_side() {
    // Each Debian-family release has its own revision suffix, so one --out holds them all.
    // --build-env host: roots of the other releases would need root even in a dry run.
    let d = Dirs::new();
    let out = d.out();
    let (ok, stdout, err) = build(
        &d,
        &["--dry-run", "--build-env", "host", "--runtime", "isc", "-t", "debian-11-amd64", "-t", "debian-12-amd64", "-t", "debian-13-amd64", "-t", "ubuntu-22.04-amd64", "-t", "ubuntu-24.04-amd64", "--out", out.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    for want in [
        "debian-11-amd64  kea-premium-hooks_2.2.0-1+deb11_amd64.deb (package)",
        "debian-12-amd64  kea-premium-hooks_2.2.0-1+deb12_amd64.deb (package)",
        "debian-13-amd64  kea-premium-hooks_2.2.0-1+deb13_amd64.deb (package)",
        "ubuntu-22.04-amd64  kea-premium-hooks_2.2.0-1+ubuntu22.04_amd64.deb (package)",
        "ubuntu-24.04-amd64  kea-premium-hooks_2.2.0-1+ubuntu24.04_amd64.deb (package)",
    ] {
        assert!(stdout.contains(want), "expected {want:?} in:\n{stdout}");
    }
    assert!(!d.work().exists() && !out.exists(), "a dry run writes nothing");
}

#[test]
fn a_distribution_runtime_without_the_kea_being_built_is_refused() {
    // The example is Kea 2.2.0: Debian 13's archive ships 2.6.3, Debian 11's none, Ubuntu 24.04's 2.4.1.
    let d = Dirs::new();
    let ways_out = ["--runtime isc", "runtime = \"isc\""];
    refused_before_work(
        &d,
        &["--target", "debian-13-amd64"],
        &["target debian-13-amd64", "Debian 13 (trixie)'s own Kea (kea-common), which is Kea 2.6.3", "built from Kea 2.2.0", ways_out[0], ways_out[1], "build the Kea release Debian 13 (trixie) ships (--kea kea-2.6.3.tar.gz"],
    );
    refused_before_work(&d, &["--target", "debian-11-amd64", "--runtime", "distribution"], &["target debian-11-amd64", "ships no Kea in its archive", ways_out[0]]);
    refused_before_work(&d, &["--target", "debian-12-amd64", "--target", "ubuntu-24.04-amd64"], &["target ubuntu-24.04-amd64", "which is Kea 2.4.1", ways_out[0]]);
    // A manifest's runtime = "distribution" is overridden by --runtime isc, and the reverse.
    let manifest = d.tmp.path().join("keapack.toml");
    std::fs::write(&manifest, "[package]\nruntime = \"isc\"\n").unwrap();
    let m = manifest.to_str().unwrap();
    refused_before_work(&d, &["--manifest", m, "--runtime", "distribution", "--target", "debian-13-amd64"], &["target debian-13-amd64", "which is Kea 2.6.3"]);
    // --build-env host: a Debian 13 root would need root even in a dry run.
    let (ok, stdout, err) = build(&d, &["--manifest", m, "--dry-run", "--build-env", "host", "--target", "debian-13-amd64", "--out", d.out().to_str().unwrap()]);
    assert!(ok && stdout.contains("runtime:   isc (debian-13-amd64: isc-kea-common)"), "{stdout}{err}");
    // An unknown runtime word is refused by the command line.
    let (ok, _, err) = build(&d, &["--runtime", "debian", "--dry-run", "--target", "debian-12-amd64"]);
    assert!(!ok && err.contains("invalid value 'debian'") && err.contains("distribution, isc"), "{err}");
    assert!(!d.work().exists());
}

#[test]
fn the_same_target_with_runtime_isc_plans_fine() {
    let d = Dirs::new();
    let out = d.out();
    // --build-env host: a Debian 13 root would need root even in a dry run.
    let (ok, stdout, err) = build(&d, &["--dry-run", "--build-env", "host", "--runtime", "isc", "--target", "debian-13-amd64", "--out", out.to_str().unwrap()]);
    assert!(ok, "{err}");
    for want in ["runtime:   isc (debian-13-amd64: isc-kea-common)", "debian-13-amd64  kea-premium-hooks_2.2.0-1+deb13_amd64.deb (package)"] {
        assert!(stdout.contains(want), "expected {want:?} in:\n{stdout}");
    }
    assert!(!d.work().exists() && !out.exists(), "a dry run writes nothing");
}

#[test]
fn missing_inputs_are_refused() {
    let d = Dirs::new();
    let res = run(keapack()
        .args(["build", "--target", "debian-12-amd64", "--kea"])
        .arg(d.tmp.path().join("kea-9.9.9.tar.gz"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0"))
        .arg("--out").arg(d.out())
        .arg("--work").arg(d.work()));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success() && err.contains("--kea") && err.contains("kea-9.9.9.tar.gz: cannot find the Kea source"), "{err}");
    assert!(!d.work().exists() && !d.out().exists());
}

#[test]
fn a_template_that_cannot_render_is_refused() {
    let d = Dirs::new();
    let templates = d.tmp.path().join("templates");
    let templates_arg = templates.to_str().unwrap().to_string();
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("guidance.txt.j2"), "Hooks: {{ no_such_variable }}\n").unwrap();
    refused_before_work(&d, &["--templates", &templates_arg], &["cannot plan the packages of target debian-12-amd64", "guidance.txt.j2"]);
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let d = Dirs::new();
    let out = d.out();
    let (ok, stdout, err) = build(
        &d,
        &["--dry-run", "--debug-symbols", "--jobs", "3", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64", "--target", "debian-12-amd64", "--out", out.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    for want in [
        "dry run: nothing is unpacked, built or written",
        "kea:       2.2.0",
        "3 parallel jobs",
        "targets:   debian-12-amd64, rhel-9-x86_64\n",
        "debian-12-amd64  kea-premium-hooks_2.2.0-1+deb12_amd64.deb (package)",
        "debian-12-amd64  kea-premium-hooks-dbgsym_2.2.0-1+deb12_amd64.deb (debug-symbols)",
        "rhel-9-x86_64  kea-premium-hooks-2.2.0-1.el9.x86_64.rpm (package)",
        "rhel-9-x86_64  kea-premium-hooks-debuginfo-2.2.0-1.el9.x86_64.rpm (debug-symbols)",
        "kea-premium-hooks_2.2.0-1.keapack-buildinfo.json (build record)",
        "SHA256SUMS (checksums)",
    ] {
        assert!(stdout.contains(want), "expected {want:?} in:\n{stdout}");
    }
    assert_eq!(stdout.matches("kea-premium-hooks_2.2.0-1+deb12_amd64.deb").count(), 1, "a target given twice is planned once:\n{stdout}");
    assert!(!d.work().exists() && !out.exists(), "a dry run writes nothing");
}

#[test]
fn a_changelog_source_that_would_lie_is_refused_before_work() {
    let d = Dirs::new();
    std::fs::create_dir_all(d.tmp.path().join("m")).unwrap();
    let manifest = d.tmp.path().join("m/keapack.toml");
    std::fs::write(&manifest, "[package]\nchangelog = \"changelog.toml\"\n").unwrap();
    let m = manifest.to_str().unwrap();
    // Missing.
    refused_before_work(&d, &["--manifest", m], &["cannot read package.changelog", "changelog.toml"]);
    // An entry newer than the package being built.
    std::fs::write(d.tmp.path().join("m/changelog.toml"), "[[entry]]\nversion = \"2.2.0-5\"\ndate = 2025-11-03\ntext = \"later\"\n").unwrap();
    refused_before_work(&d, &["--manifest", m], &["the changelog source has an entry for 2.2.0-5, newer than this package (2.2.0-1)"]);
    // Not the documented format.
    std::fs::write(d.tmp.path().join("m/changelog.toml"), "[[entry]]\nversion = \"2.2.0\"\ndate = 2025-11-03\ntext = \"x\"\n").unwrap();
    refused_before_work(&d, &["--manifest", m], &["changelog.toml", "is not <Kea version>-<revision>"]);
    // Accepted as revision 5, in the plan.
    std::fs::write(d.tmp.path().join("m/changelog.toml"), "[[entry]]\nversion = \"2.2.0-5\"\ndate = 2025-11-03\ntext = \"later\"\n").unwrap();
    let (ok, out, err) = build(&d, &["--manifest", m, "--revision", "5", "--dry-run", "--target", "debian-12-amd64", "--out", d.out().to_str().unwrap()]);
    assert!(ok && out.contains("kea-premium-hooks_2.2.0-5+deb12_amd64.deb"), "{out}\n{err}");
}

/// `keapack build --dry-run` with these `--work` and `--out`: (exit code, stderr).
fn dry_run_with(work: &Path, out: &Path) -> (Option<i32>, String) {
    let res = run(keapack()
        .args(["build", "--dry-run", "--target", "debian-12-amd64"])
        .arg("--kea").arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0"))
        .arg("--work").arg(work)
        .arg("--out").arg(out)
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    (res.status.code(), String::from_utf8_lossy(&res.stderr).into_owned())
}

#[test]
fn an_out_inside_the_work_directory_or_around_it_is_refused_by_the_plan() {
    // A refused run clears parts of its work directory: earlier packages in an --out there
    // would go with them. Refused by the plan, so --dry-run refuses it too, creating nothing.
    let tmp = tempfile::tempdir().unwrap();
    let (w, o) = (tmp.path().join("w"), tmp.path().join("o"));
    let cases: [(PathBuf, PathBuf, &[&str]); 4] = [
        (w.clone(), w.join("source/out"), &["is inside the work directory --work", "choose an --out outside --work"]),
        (o.join("work"), o.clone(), &["is inside the output directory --out", "choose a --work outside --out"]),
        (w.clone(), w.clone(), &["are the same directory", "choose an --out outside --work"]),
        // Another spelling of the same place is the same place.
        (w.clone(), tmp.path().join("x/../w/out"), &["is inside the work directory --work"]),
    ];
    for (work, out, expect) in cases {
        let (code, err) = dry_run_with(&work, &out);
        assert_eq!(code, Some(2), "--work {work:?} --out {out:?} is refused:\n{err}");
        assert!(err.contains(&format!("--work {}", work.display())) && err.contains(&format!("--out {}", out.display())), "both flags are named:\n{err}");
        for e in expect {
            assert!(err.contains(e), "expected {e:?} in:\n{err}");
        }
        assert!(!work.exists() && !out.exists(), "neither directory is created: {work:?} {out:?}");
    }
    // Side by side, the same two are planned.
    let (code, err) = dry_run_with(&w, &o);
    assert_eq!(code, Some(0), "{err}");
    assert!(!w.exists() && !o.exists(), "a dry run creates nothing");
}

/// Which hooks are closed depends on the Kea release (docs/kea-facts.md §2): Kea 2.7.7 opened
/// twelve (ChangeLog entry 2335), so a dry run of a 3.2.0 build rehearses ISC's per-hook
/// packages of only cb_cmds and rbac, and a 2.6.5 build those of the premium hooks.
#[test]
fn dry_run_rehearses_the_hooks_still_closed_in_that_kea_release() {
    let d = Dirs::new();
    let plan = |kea: &str, premium: &str| {
        let (kea, premium) = (d.tmp.path().join(kea), d.tmp.path().join(premium));
        std::fs::write(&kea, b"").unwrap();
        std::fs::write(&premium, b"").unwrap();
        let out = run(keapack()
            .args(["build", "--dry-run", "--split", "per-hook", "--runtime", "isc", "--target", "rhel-9-x86_64"])
            .arg("--kea").arg(&kea)
            .arg("--premium").arg(&premium)
            .arg("--work").arg(d.work())
            .arg("--out").arg(d.out()));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let p = plan("kea-3.2.0.tar.xz", "kea-subscriber-3.2.0.tar.xz");
    let packages: Vec<&str> = p.lines().filter(|l| l.ends_with("(package)")).map(str::trim).collect();
    assert_eq!(packages, ["rhel-9-x86_64  isc-kea-subscriber-cb-cmds-3.2.0-1.el9.x86_64.rpm (package)", "rhel-9-x86_64  isc-kea-subscriber-rbac-3.2.0-1.el9.x86_64.rpm (package)"], "{p}");
    for opened in ["host-cmds", "flex-id", "forensic-log", "ddns-tuning", "ping-check", "gss-tsig"] {
        assert!(!p.contains(opened), "{opened} is open source in Kea 3.2.0:\n{p}");
    }
    let p = plan("kea-2.6.5.tar.gz", "kea-premium-2.6.5.tar.gz");
    let packages: Vec<&str> = p.lines().filter(|l| l.ends_with("(package)")).map(str::trim).collect();
    assert_eq!(
        packages,
        ["host-cmds", "flex-id", "forensic-log", "ddns-tuning"].map(|h| format!("rhel-9-x86_64  isc-kea-premium-{h}-2.6.5-1.el9.x86_64.rpm (package)")),
        "{p}"
    );
    assert!(!d.work().exists() && !d.out().exists(), "a dry run writes nothing");
}

/// A manifest profile describes a backports Kea (docs/kea-facts.md §6: trixie-backports carries
/// Kea 3.0.3): packaging/example-backports-manifest.toml extends debian-13 with kea = "3.0.3",
/// so a 3.0.3 build with the distribution runtime is accepted for it (its packages carry the
/// profile's suffix), while a 3.0.4 build is refused, naming the profile's Kea 3.0.3.
#[test]
fn a_manifest_profile_with_a_backports_kea_accepts_builds_of_that_kea() {
    let d = Dirs::new();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/example-backports-manifest.toml");
    let plan = |version: &str| {
        let (kea, premium) = (d.tmp.path().join(format!("kea-{version}.tar.xz")), d.tmp.path().join(format!("kea-subscriber-{version}.tar.xz")));
        std::fs::write(&kea, b"").unwrap();
        std::fs::write(&premium, b"").unwrap();
        run(keapack()
            .args(["build", "--dry-run"])
            .arg("--manifest").arg(&manifest)
            .arg("--kea").arg(&kea)
            .arg("--premium").arg(&premium)
            .arg("--work").arg(d.work())
            .arg("--out").arg(d.out()))
    };
    let out = plan("3.0.3");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    for want in ["kea:       3.0.3", "targets:   debian-13-backports-amd64\n", "runtime:   distribution (debian-13-backports-amd64: kea-common)", "debian-13-backports-amd64  kea-subscriber-hooks_3.0.3-1+deb13bpo_amd64.deb (package)"] {
        assert!(stdout.contains(want), "expected {want:?} in:\n{stdout}");
    }
    let out = plan("3.0.4");
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(stderr.contains("target debian-13-backports-amd64") && stderr.contains("which is Kea 3.0.3") && stderr.contains("built from Kea 3.0.4"), "{stderr}");
    assert!(!d.work().exists() && !d.out().exists(), "a dry run writes nothing");
}

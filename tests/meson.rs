//! The real binary on the meson example (`examples/kea-meson-2.2.0` + `kea-premium-meson-2.2.0`):
//! real meson and ninja build it, real dpkg-deb, rpm and readelf read what came out. Also the
//! build-system choice for a tree that has both configure.ac and meson.build, and the meson
//! failures: a meson too old, an overlay without premium/meson.build, an overlay not detected.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const HOOKS: [&str; 2] = ["libdhcp_host_cmds.so", "libdhcp_flex_id.so"];
const DEB_HOOKS_DIR: &str = "usr/lib/x86_64-linux-gnu/kea/hooks";

struct Built {
    _tmp: tempfile::TempDir,
    work: PathBuf,
    deb: PathBuf,
    rpm: PathBuf,
}

/// One build of the meson example from tarballs (Kea .tar.gz with a top directory, overlay
/// .tar.xz), for Debian 12 and RHEL 9, shared by the tests of this file: hooks-only, the default.
fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| built_with(&[]))
}

/// The same with `--full-build`: `meson compile` of everything, then `meson install`.
fn built_full() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| built_with(&["--full-build"]))
}

fn built_with(extra: &[&str]) -> Built {
    {
        require_meson_tools();
        let tmp = tempfile::tempdir().unwrap();
        let kea = tmp.path().join("kea-2.2.0.tar.gz");
        let premium = tmp.path().join("kea-premium-2.2.0.tar.xz");
        tarball(&examples().join("kea-meson-2.2.0"), "kea-2.2.0", &kea);
        tarball(&examples().join("kea-premium-meson-2.2.0"), "", &premium);
        let work = tmp.path().join("work");
        let out = tmp.path().join("dist");
        let mut args = vec!["--target", "debian-12-amd64", "--target", "rhel-9-x86_64"];
        args.extend(extra);
        let res = build(&kea, &premium, &work, &out, &args);
        assert!(res.status.success(), "build failed:\n{}", String::from_utf8_lossy(&res.stderr));
        let deb = out.join("kea-premium-hooks_2.2.0-1+deb12_amd64.deb");
        let rpm = out.join("kea-premium-hooks-2.2.0-1.el9.x86_64.rpm");
        let stdout = String::from_utf8_lossy(&res.stdout);
        assert!(stdout.contains(&deb.display().to_string()) && stdout.contains(&rpm.display().to_string()), "{stdout}");
        Built { _tmp: tmp, work, deb, rpm }
    }
}

/// `keapack build --quiet` with a fixed epoch.
fn build(kea: &Path, premium: &Path, work: &Path, out: &Path, extra: &[&str]) -> Output {
    run(keapack()
        .args(["build", "--quiet"])
        .args(extra)
        .arg("--kea").arg(kea)
        .arg("--premium").arg(premium)
        .arg("--out").arg(out)
        .arg("--work").arg(work)
        .env("SOURCE_DATE_EPOCH", "1700000000"))
}

/// Copy the meson example into `dir`, let `edit` change it, and build it for Debian 12 with
/// `path` as PATH (None: the test's own).
fn build_meson_example(dir: &Path, edit: impl FnOnce(&Path, &Path), path: Option<&std::ffi::OsStr>) -> (bool, String) {
    let kea = dir.join("kea-meson-2.2.0");
    let premium = dir.join("kea-premium-meson-2.2.0");
    copy_tree(&examples().join("kea-meson-2.2.0"), &kea);
    copy_tree(&examples().join("kea-premium-meson-2.2.0"), &premium);
    edit(&kea, &premium);
    let mut cmd = keapack();
    cmd.args(["build", "--target", "debian-12-amd64"])
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(dir.join("dist"))
        .arg("--work").arg(dir.join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000");
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = run(&mut cmd);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The log files a run left, by name.
fn logs(work: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(work.join("logs")) {
        Ok(d) => d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The RPATH/RUNPATH entries `readelf -d` shows for an ELF object.
fn rpaths(so: &Path) -> Vec<String> {
    require("readelf", "binutils");
    let text = stdout(Command::new("readelf").arg("-d").arg(so));
    text.lines().filter(|l| l.contains("(RPATH)") || l.contains("(RUNPATH)")).map(|l| l.trim().to_string()).collect()
}

#[test]
#[ignore = "slow: builds the meson example"]
fn deb_holds_the_premium_hooks_at_the_debian_path_as_root_0644() {
    let b = built();
    require("dpkg-deb", "dpkg");
    let list = stdout(Command::new("dpkg-deb").arg("-c").arg(&b.deb));
    for hook in HOOKS {
        let line = list.lines().find(|l| l.ends_with(&format!("./{DEB_HOOKS_DIR}/{hook}"))).unwrap_or_else(|| panic!("{hook} missing:\n{list}"));
        assert!(line.starts_with("-rw-r--r-- root/root"), "{line}");
    }
    assert!(!list.contains("lease_cmds"), "the open-source hook stays out:\n{list}");
    let control = |f: &str| stdout(Command::new("dpkg-deb").arg("-f").arg(&b.deb).arg(f)).trim().to_string();
    assert_eq!(control("Version"), "2.2.0-1+deb12");
    // What dpkg-shlibdeps writes for the same hooks, with kea-common narrowed to the release.
    let dpkg = common::packages::dpkg_shlibdeps_depends(&b.deb);
    let libs = dpkg.strip_prefix("kea-common (>= 2.2.0), ").unwrap_or_else(|| panic!("dpkg-shlibdeps: {dpkg}"));
    assert_eq!(control("Depends"), format!("kea-common (>= 2.2.0), kea-common (<< 2.2.1~), {libs}"));
    assert!(libs.starts_with("libc6 (>= 2.") && libs.contains("libstdc++6 (>= "), "{libs}");
}

#[test]
#[ignore = "slow: builds the meson example"]
fn rpm_holds_the_premium_hooks_in_lib64_as_root_0644() {
    let b = built();
    require("rpm", "rpm");
    let dump = stdout(Command::new("rpm").args(["-qp", "--dump"]).arg(&b.rpm));
    for hook in HOOKS {
        let line = dump.lines().find(|l| l.starts_with(&format!("/usr/lib64/kea/hooks/{hook} "))).unwrap_or_else(|| panic!("{hook}:\n{dump}"));
        let f: Vec<&str> = line.split(' ').collect();
        // path size mtime digest mode owner group …
        assert_eq!((f[4], f[5], f[6]), ("0100644", "root", "root"), "{line}");
    }
    assert!(!dump.contains("lease_cmds"), "{dump}");
}

#[test]
#[ignore = "slow: builds the meson example"]
fn umask_0027_in_the_stage_becomes_0644_in_the_packages() {
    // A hooks-only build installs the hooks itself, 0644, whatever the tree's install_umask.
    for hook in HOOKS {
        let mode = std::fs::metadata(built().work.join("stage").join(DEB_HOOKS_DIR).join(hook)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o644, "{hook} staged by a hooks-only build");
    }
    let b = built_full();
    // meson installed with the tree's install_umask=0027 (like Kea 2.7.9–3.1.8): no "other" bits.
    let stage = b.work.join("stage").join(DEB_HOOKS_DIR);
    for hook in HOOKS {
        let mode = std::fs::metadata(stage.join(hook)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o750, "{hook} staged as {mode:o}: the example's install_umask 0027 is not in effect, so this test proves nothing");
    }
    // …and the packages say 0644 all the same (checked by both package tests above); here the
    // bytes extracted by dpkg-deb itself.
    let tmp = tempfile::tempdir().unwrap();
    assert!(Command::new("dpkg-deb").arg("-x").arg(&b.deb).arg(tmp.path()).status().unwrap().success());
    for hook in HOOKS {
        let mode = std::fs::metadata(tmp.path().join(DEB_HOOKS_DIR).join(hook)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o644, "{hook}");
    }
}

#[test]
#[ignore = "slow: builds the meson example"]
fn with_kea_pkg_type_set_meson_leaves_no_rpath() {
    let b = built();
    let report = std::fs::read_to_string(b.work.join("source/kea/kea-2.2.0/build/config.report")).unwrap();
    assert!(report.contains("  Extended version:   2.2.0 (2.2.0-1 deb)"), "keapack set KEA_PKG_*_IN_CONFIGURE:\n{report}");
    assert!(report.contains("  Install RPATH:      none"), "{report}");
    for hook in HOOKS {
        let staged = b.work.join("stage").join(DEB_HOOKS_DIR).join(hook);
        assert_eq!(rpaths(&staged), Vec::<String>::new(), "{}", staged.display());
    }
    // A full build's meson install, the open-source hook included.
    for hook in HOOKS.iter().chain(&["libdhcp_lease_cmds.so"]) {
        let staged = built_full().work.join("stage").join(DEB_HOOKS_DIR).join(hook);
        assert_eq!(rpaths(&staged), Vec::<String>::new(), "{}", staged.display());
    }
    let tmp = tempfile::tempdir().unwrap();
    assert!(Command::new("dpkg-deb").arg("-x").arg(&b.deb).arg(tmp.path()).status().unwrap().success());
    for hook in HOOKS {
        assert_eq!(rpaths(&tmp.path().join(DEB_HOOKS_DIR).join(hook)), Vec::<String>::new(), "{hook} in the .deb");
    }
}

#[test]
#[ignore = "slow: builds the meson example"]
fn without_kea_pkg_type_the_example_installs_an_rpath() {
    // The control for the test above: built by hand, without the variable, meson writes the
    // install RPATH <prefix>/<libdir> into every hook, as Kea's meson.build does.
    require_meson_tools();
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("kea");
    copy_tree(&examples().join("kea-meson-2.2.0"), &tree);
    copy_tree(&examples().join("kea-premium-meson-2.2.0/premium"), &tree.join("premium"));
    let meson = |args: &[&str]| {
        let out = run(Command::new("meson").args(args).current_dir(&tree).env_remove("KEA_PKG_TYPE_IN_CONFIGURE").env_remove("KEA_PKG_VERSION_IN_CONFIGURE"));
        assert!(out.status.success(), "meson {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let setup = meson(&["setup", "build", "--prefix=/usr", "--libdir=/usr/lib/x86_64-linux-gnu", "--wrap-mode=nodownload"]);
    assert!(setup.contains("  Premium hooks:      yes"), "message() prints the report:\n{setup}");
    meson(&["compile", "-C", "build"]);
    let stage = tmp.path().join("stage");
    meson(&["install", "-C", "build", "--destdir", stage.to_str().unwrap()]);
    let found = rpaths(&stage.join(DEB_HOOKS_DIR).join("libdhcp_host_cmds.so"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("[/usr/lib/x86_64-linux-gnu]"), "{found:?}");
}

#[test]
#[ignore = "slow: builds the meson example"]
fn the_report_says_premium_hooks_yes_with_six_spaces_and_keapack_ran_meson() {
    let b = built();
    let report = std::fs::read_to_string(b.work.join("source/kea/kea-2.2.0/build/config.report")).unwrap();
    assert!(report.lines().any(|l| l == "  Premium hooks:      yes"), "{report}");
    assert_eq!(logs(&b.work)[..5], ["01-meson-version.log", "02-meson-setup.log", "03-meson-targets.log", "04-meson-install-plan.log", "05-meson-compile.log"]);
    // Hooks-only: meson compiles the premium hook targets by name, and nothing installs Kea.
    let compile = std::fs::read_to_string(b.work.join("logs/05-meson-compile.log")).unwrap();
    let first = compile.lines().next().unwrap();
    assert!(first.contains("premium/src/hooks/dhcp/host_cmds/dhcp_host_cmds.so") && first.contains("premium/src/hooks/dhcp/flex_id/dhcp_flex_id.so"), "{first}");
    assert!(!first.contains("lease_cmds") && !logs(&b.work).iter().any(|l| l.contains("meson-install.log")));
    assert_eq!(logs(&built_full().work)[..4], ["01-meson-version.log", "02-meson-setup.log", "03-meson-compile.log", "04-meson-install.log"]);
    let setup = std::fs::read_to_string(b.work.join("logs/02-meson-setup.log")).unwrap();
    let first = setup.lines().next().unwrap();
    for arg in ["setup build", "--prefix=/usr", "--libdir=/usr/lib/x86_64-linux-gnu", "--sysconfdir=/etc", "--localstatedir=/var", "--buildtype=release", "--wrap-mode=nodownload", "-Drunstatedir=/run"] {
        assert!(first.contains(arg), "{arg} missing from {first}");
    }
}

#[test]
fn the_meson_examples_cpp_is_the_autotools_examples() {
    // The C++ of the hook doubles is copied between the two examples (meson builds only files
    // inside its tree); the copies must not drift apart.
    let pairs = [
        ("kea-2.2.0/src/hooks/dhcp/lease_cmds", "kea-meson-2.2.0/src/hooks/dhcp/lease_cmds", ["lease_cmds.cc", "lease_cmds_log.cc", "lease_cmds_log.h"]),
        ("kea-premium-2.2.0/premium/src/hooks/dhcp/host_cmds", "kea-premium-meson-2.2.0/premium/src/hooks/dhcp/host_cmds", ["host_cmds.cc", "host_cmds_log.cc", "host_cmds_log.h"]),
        ("kea-premium-2.2.0/premium/src/hooks/dhcp/flex_id", "kea-premium-meson-2.2.0/premium/src/hooks/dhcp/flex_id", ["flex_id.cc", "flex_id_log.cc", "flex_id_log.h"]),
    ];
    for (a, m, files) in pairs {
        for f in files {
            let (a, m) = (examples().join(a).join(f), examples().join(m).join(f));
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&m).unwrap(), "{} and {} differ", a.display(), m.display());
        }
    }
}

#[test]
fn a_meson_too_old_is_refused_before_anything_builds() {
    let tmp = tempfile::tempdir().unwrap();
    // A stand-in for Debian 12's meson, for the version probe only.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("meson"), "#!/bin/sh\necho 1.0.1\n").unwrap();
    std::fs::set_permissions(bin.join("meson"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap()))).unwrap();
    let (ok, err) = build_meson_example(tmp.path(), |_, _| {}, Some(&path));
    assert!(!ok);
    assert!(err.contains(&format!("meson 1.0.1 ({}) is too old", bin.join("meson").display())), "{err}");
    assert!(err.contains("Kea 2.2.0 needs meson 1.1.0 or newer") && err.contains("pip install 'meson>=1.1.0'"), "{err}");
    assert_eq!(logs(&tmp.path().join("work")), ["01-meson-version.log"], "nothing ran after the probe");
    assert!(!tmp.path().join("work/stage").exists());
}

#[test]
fn an_overlay_without_premium_meson_build_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_meson_example(tmp.path(), |_, premium| std::fs::remove_file(premium.join("premium/meson.build")).unwrap(), None);
    assert!(!ok);
    assert!(err.contains("has no premium/meson.build") && err.contains("a meson build of Kea needs it"), "{err}");
    assert!(logs(&tmp.path().join("work")).is_empty(), "no step ran");
}

#[test]
fn an_autotools_overlay_on_a_meson_tree_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let kea = tmp.path().join("kea-meson-2.2.0");
    copy_tree(&examples().join("kea-meson-2.2.0"), &kea);
    let out = build(&kea, &examples().join("kea-premium-2.2.0"), &tmp.path().join("work"), &tmp.path().join("dist"), &["--target", "debian-12-amd64"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("has no premium/meson.build") && err.contains("It has premium/config.m4 instead"), "{err}");
}

#[test]
#[ignore = "slow: runs meson setup on the meson example"]
fn an_overlay_meson_did_not_detect_stops_with_the_report_line() {
    require_meson_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_meson_example(
        tmp.path(),
        |kea, _| {
            let mb = kea.join("meson.build");
            let text = std::fs::read_to_string(&mb).unwrap();
            assert!(text.contains("premium = fs.is_dir('premium')"));
            std::fs::write(&mb, text.replace("premium = fs.is_dir('premium')", "premium = fs.is_dir('premium-elsewhere')")).unwrap();
        },
        None,
    );
    assert!(!ok);
    assert!(err.contains("meson setup did not detect the premium overlay") && err.contains("Premium hooks:      no"), "{err}");
    assert!(err.contains("premium/ is not at the Kea tree's root") && err.contains("premium/meson.build is missing"), "{err}");
    let logs = logs(&tmp.path().join("work"));
    assert!(!logs.iter().any(|l| l.contains("compile")), "nothing compiled after the report said no: {logs:?}");
}

/// A Kea tree with both build systems (as Kea 2.7.7–2.7.9 tarballs are), and its overlay with
/// both premium/config.m4 and premium/meson.build: the two examples laid over each other.
fn both_build_systems(dir: &Path) -> (PathBuf, PathBuf) {
    let kea = dir.join("kea-2.2.0");
    let premium = dir.join("kea-premium-2.2.0");
    for (from, to) in [("kea-2.2.0", &kea), ("kea-meson-2.2.0", &kea), ("kea-premium-2.2.0", &premium), ("kea-premium-meson-2.2.0", &premium)] {
        copy_tree(&examples().join(from), to);
    }
    assert!(kea.join("configure.ac").is_file() && kea.join("meson.build").is_file());
    (kea, premium)
}

#[test]
#[ignore = "slow: builds the meson example"]
fn a_tree_with_both_builds_with_meson_by_default() {
    require_meson_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = both_build_systems(tmp.path());
    let work = tmp.path().join("work");
    let out = build(&kea, &premium, &work, &tmp.path().join("dist"), &["--target", "debian-12-amd64"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let logs = logs(&work);
    assert!(logs.iter().any(|l| l.ends_with("meson-setup.log")) && !logs.iter().any(|l| l.contains("configure") || l.contains("autoreconf")), "{logs:?}");
    assert!(tmp.path().join("dist/kea-premium-hooks_2.2.0-1+deb12_amd64.deb").is_file());
}

#[test]
#[ignore = "slow: builds the example"]
fn a_tree_with_both_builds_with_autotools_when_asked() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = both_build_systems(tmp.path());
    let work = tmp.path().join("work");
    let out = build(&kea, &premium, &work, &tmp.path().join("dist"), &["--target", "debian-12-amd64", "--build-system", "autotools"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let logs = logs(&work);
    assert!(logs.iter().any(|l| l.ends_with("autoreconf.log")) && !logs.iter().any(|l| l.contains("meson")), "{logs:?}");
    let list = stdout(Command::new("dpkg-deb").arg("-c").arg(tmp.path().join("dist/kea-premium-hooks_2.2.0-1+deb12_amd64.deb")));
    assert!(HOOKS.iter().all(|h| list.contains(h)), "{list}");
}

#[test]
fn build_system_meson_on_an_autotools_only_tree_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = build(&examples().join("kea-2.2.0"), &examples().join("kea-premium-2.2.0"), &tmp.path().join("work"), &tmp.path().join("dist"), &["--target", "debian-12-amd64", "--build-system", "meson"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--build-system meson was asked for") && err.contains("autotools only"), "{err}");
    let out = run(keapack().args(["build", "--build-system", "cmake", "--kea", "k", "--premium", "p"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("possible values: autotools, meson"), "{err}");
}

#[test]
fn demo_build_system_meson_takes_the_meson_example() {
    // With nothing on PATH the run stops at the tool check, after the example was chosen and
    // prepared: the tools it names are meson's.
    let tmp = tempfile::tempdir().unwrap();
    let out = run(keapack()
        .args(["demo", "--build-system", "meson", "--quiet"])
        .arg("--work").arg(tmp.path().join("work"))
        .arg("--out").arg(tmp.path().join("dist"))
        .env("PATH", "/nonexistent"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("missing build tools: meson, ninja"), "{err}");
    let source = tmp.path().join("work/source/kea");
    assert!(source.join("meson.build").is_file() && !source.join("configure.ac").exists());
    assert!(source.join("premium/meson.build").is_file());
}

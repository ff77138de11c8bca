//! Hooks-only builds (the default) against `--full-build` / `build.full`, and ccache, on the
//! real binary with both bundled examples: the packages must be the same bytes whatever was
//! built and however it was compiled, while the work tree shows what was (not) built.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One heavy build at a time: the machines running these tests have few cores.
static HEAVY: Mutex<()> = Mutex::new(());

const DEB: &str = "kea-premium-hooks_2.2.0-1+deb12_amd64.deb";
const RPM: &str = "kea-premium-hooks-2.2.0-1.el9.x86_64.rpm";
const RECORD: &str = "kea-premium-hooks_2.2.0-1.keapack-buildinfo.json";

/// `keapack build` of `kea` + `premium` for Debian 12 and RHEL 9 into `<dir>/out-<name>`, work
/// directory `<dir>/work-<name>`, keapack's cache (and so ccache's directory) under `cache`.
fn build(kea: &Path, premium: &Path, dir: &Path, name: &str, extra: &[&str], cache: &Path) -> PathBuf {
    let out = dir.join(format!("out-{name}"));
    let res = {
        let _one = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
        run(keapack()
            .args(["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
            .args(extra)
            .arg("--kea").arg(kea)
            .arg("--premium").arg(premium)
            .arg("--out").arg(&out)
            .arg("--work").arg(dir.join(format!("work-{name}")))
            .env("XDG_CACHE_HOME", cache)
            .env("SOURCE_DATE_EPOCH", "1700000000"))
    };
    assert!(res.status.success(), "build {name} {extra:?} failed:\n{}\n{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    out
}

fn record(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join(RECORD)).unwrap()).unwrap()
}

/// The .deb and .rpm of two runs are the same bytes.
fn same_packages(a: &Path, b: &Path) {
    for f in [DEB, RPM] {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(x == y, "{f} differs between {} and {}", a.display(), b.display());
    }
}

fn logs(work: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(work.join("logs")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

/// Whether any file under `dir` has a name ending in `suffix`.
fn has_file_ending(dir: &Path, suffix: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() { has_file_ending(&p, suffix) } else { p.to_string_lossy().ends_with(suffix) }
    })
}

fn runpath(so: &Path) -> Vec<String> {
    require("readelf", "binutils");
    let text = stdout(Command::new("readelf").arg("-d").arg(so));
    text.lines().filter(|l| l.contains("(RPATH)") || l.contains("(RUNPATH)")).map(|l| l.trim().to_string()).collect()
}

fn package_list(deb: &Path) -> String {
    require("dpkg-deb", "dpkg");
    stdout(Command::new("dpkg-deb").arg("-c").arg(deb))
}

#[test]
#[ignore = "slow: builds the example"]
fn autotools_hooks_only_and_build_full_write_the_same_packages() {
    require_build_tools();
    let tmp = shared_dir("hooks-only-autotools-");
    let d = tmp.path();
    let (kea, premium) = (examples().join("kea-2.2.0"), examples().join("kea-premium-2.2.0"));
    let manifest = d.join("full.toml");
    std::fs::write(&manifest, "[build]\nfull = true\n").unwrap();
    let cache = d.join("cache");
    let hooks = build(&kea, &premium, d, "hooks", &["--no-ccache"], &cache);
    let full = build(&kea, &premium, d, "full", &["--no-ccache", "--manifest", manifest.to_str().unwrap()], &cache);
    same_packages(&hooks, &full);
    assert_eq!(record(&hooks)["build"]["scope"], "hooks-only");
    assert_eq!(record(&full)["build"]["scope"], "full");

    // Hooks-only made and installed premium/ alone: the open-source hook was not compiled.
    let lease_cmds = |w: &str| d.join(w).join("source/kea/src/hooks/dhcp/lease_cmds");
    assert!(!has_file_ending(&lease_cmds("work-hooks"), ".o"), "hooks-only compiled lease_cmds");
    assert!(has_file_ending(&lease_cmds("work-full"), "lease_cmds.o"), "the full build compiles lease_cmds");
    let (h, f) = (logs(&d.join("work-hooks")), logs(&d.join("work-full")));
    assert!(h.iter().any(|l| l.ends_with("-make-premium.log")) && h.iter().any(|l| l.ends_with("-make-install-premium.log")), "{h:?}");
    assert!(!h.iter().any(|l| l.ends_with("-make-install.log")), "{h:?}");
    assert!(f.iter().any(|l| l.ends_with("-make-install.log")) && !f.iter().any(|l| l.contains("premium")), "{f:?}");
    let staged = |w: &str| d.join(w).join("stage/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so").exists();
    assert!(!staged("work-hooks") && staged("work-full"));
}

#[test]
#[ignore = "slow: builds the example"]
fn autotools_hooks_only_builds_and_installs_src_lib_the_hooks_link() {
    // Like real Kea, the premium hook links a libtool library of the tree
    // ($(top_builddir)/src/lib/…/libkea-*.la). It uses nothing of it, and -Wl,--as-needed
    // keeps it out of NEEDED, so the package needs nothing new.
    require_build_tools();
    let tmp = shared_dir("hooks-only-srclib-");
    let d = tmp.path();
    let (kea, premium) = (d.join("kea"), d.join("premium"));
    copy_tree(&examples().join("kea-2.2.0"), &kea);
    copy_tree(&examples().join("kea-premium-2.2.0"), &premium);
    std::fs::create_dir_all(kea.join("src/lib")).unwrap();
    std::fs::write(kea.join("src/lib/example.cc"), "int kea_example_unused() { return 1; }\n").unwrap();
    std::fs::write(kea.join("src/lib/Makefile.am"), "lib_LTLIBRARIES = libkea-example.la\nlibkea_example_la_SOURCES = example.cc\n").unwrap();
    let edit = |path: &Path, old: &str, new: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(old), "{}: {old:?} not found", path.display());
        std::fs::write(path, text.replacen(old, new, 1)).unwrap();
    };
    edit(&kea.join("src/Makefile.am"), "SUBDIRS = hooks", "SUBDIRS = lib hooks");
    edit(&kea.join("configure.ac"), "AC_CONFIG_FILES([src/Makefile])", "AC_CONFIG_FILES([src/Makefile])\nAC_CONFIG_FILES([src/lib/Makefile])");
    let hook = premium.join("premium/src/hooks/dhcp/host_cmds/Makefile.am");
    edit(&hook, "libdhcp_host_cmds_la_LIBADD  += -lkea-exceptions", "libdhcp_host_cmds_la_LIBADD  += -lkea-exceptions\nlibdhcp_host_cmds_la_LIBADD  += $(top_builddir)/src/lib/libkea-example.la");
    let cache = d.join("cache");
    let as_needed = "--as-needed";
    let with_ldflags = |name: &str, extra: &[&str]| {
        let _one = HEAVY.lock().unwrap_or_else(|e| e.into_inner());
        let out = d.join(format!("out-{name}"));
        let res = run(keapack()
            .args(["build", "--quiet", "--no-ccache", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
            .args(extra)
            .arg("--kea").arg(&kea)
            .arg("--premium").arg(&premium)
            .arg("--out").arg(&out)
            .arg("--work").arg(d.join(format!("work-{name}")))
            .env("XDG_CACHE_HOME", &cache)
            .env("LDFLAGS", format!("-Wl,{as_needed}"))
            .env("SOURCE_DATE_EPOCH", "1700000000"));
        assert!(res.status.success(), "build {name} failed:\n{}", String::from_utf8_lossy(&res.stderr));
        out
    };
    let hooks = with_ldflags("hooks", &[]);
    let full = with_ldflags("full", &["--full-build"]);
    same_packages(&hooks, &full);
    let work = d.join("work-hooks");
    let h = logs(&work);
    let at = |suffix: &str| h.iter().position(|l| l.ends_with(suffix)).unwrap_or_else(|| panic!("no {suffix} in {h:?}"));
    // src/lib is made before premium and installed before it: libtool relinks the hook
    // against the staged library.
    assert!(at("-make-src-lib.log") < at("-make-premium.log"), "{h:?}");
    assert!(at("-make-install-src-lib.log") < at("-make-install-premium.log"), "{h:?}");
    let install = std::fs::read_to_string(work.join("logs").join(&h[at("-make-install-premium.log")])).unwrap();
    assert!(install.contains("relinking 'libdhcp_host_cmds.la'"), "{install}");
    assert!(work.join("source/kea/src/lib/.libs/libkea-example.so").exists());
    assert!(!has_file_ending(&work.join("source/kea/src/hooks/dhcp/lease_cmds"), ".o"), "hooks-only compiled lease_cmds");
}

#[test]
#[ignore = "slow: builds both examples"]
fn hooks_only_builds_the_open_source_hooks_when_they_are_packaged() {
    require_build_tools();
    require_meson_tools();
    let tmp = shared_dir("hooks-only-open-");
    let d = tmp.path();
    let manifest = d.join("open.toml");
    std::fs::write(&manifest, "[package]\ninclude-open-hooks = true\n").unwrap();
    let m = manifest.to_str().unwrap();
    for (name, kea, premium) in [("autotools", "kea-2.2.0", "kea-premium-2.2.0"), ("meson", "kea-meson-2.2.0", "kea-premium-meson-2.2.0")] {
        let out = build(&examples().join(kea), &examples().join(premium), d, name, &["--no-ccache", "--manifest", m], &d.join("cache"));
        let list = package_list(&out.join(DEB));
        for hook in ["libdhcp_lease_cmds.so", "libdhcp_host_cmds.so", "libdhcp_flex_id.so"] {
            assert!(list.contains(&format!("/kea/hooks/{hook}")), "{name}: {hook} missing:\n{list}");
        }
        assert_eq!(record(&out)["build"]["scope"], "hooks-only");
    }
}

#[test]
#[ignore = "slow: builds the meson example"]
fn meson_hooks_only_installs_the_hooks_without_the_build_rpath_and_matches_full_build() {
    require_meson_tools();
    let tmp = shared_dir("hooks-only-meson-");
    let d = tmp.path();
    // Like real Kea, the hook links a library of the tree (src/lib), so meson gives the
    // built hook a build-tree RUNPATH ($ORIGIN/...). It uses nothing of it: with meson's
    // as-needed default the library is not NEEDED and the package needs nothing new.
    let (kea, premium) = (d.join("kea"), d.join("premium"));
    copy_tree(&examples().join("kea-meson-2.2.0"), &kea);
    copy_tree(&examples().join("kea-premium-meson-2.2.0"), &premium);
    std::fs::create_dir_all(kea.join("src/lib")).unwrap();
    std::fs::write(kea.join("src/lib/example.cc"), "int kea_example_unused() { return 1; }\n").unwrap();
    std::fs::write(kea.join("src/lib/meson.build"), "kea_example_lib = shared_library('kea-example', 'example.cc', install: true)\n").unwrap();
    let src = kea.join("src/meson.build");
    std::fs::write(&src, format!("subdir('lib')\n{}", std::fs::read_to_string(&src).unwrap())).unwrap();
    let hook = premium.join("premium/src/hooks/dhcp/host_cmds/meson.build");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.contains("    dependencies: [KEA_DEP],\n"), "{text}");
    std::fs::write(&hook, text.replace("    dependencies: [KEA_DEP],\n", "    dependencies: [KEA_DEP],\n    link_with: kea_example_lib,\n")).unwrap();

    let cache = d.join("cache");
    let hooks = build(&kea, &premium, d, "hooks", &["--no-ccache"], &cache);
    let built = d.join("work-hooks/source/kea/build/premium/src/hooks/dhcp/host_cmds/libdhcp_host_cmds.so");
    assert!(runpath(&built).iter().any(|l| l.contains("$ORIGIN")), "the build-tree hook has meson's build RUNPATH: {:?}", runpath(&built));
    let staged = d.join("work-hooks/stage/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so");
    assert_eq!(runpath(&staged), Vec::<String>::new());
    let full = build(&kea, &premium, d, "full", &["--no-ccache", "--full-build"], &cache);
    same_packages(&hooks, &full);
    assert_eq!(record(&hooks)["build"]["scope"], "hooks-only");
    assert_eq!(record(&full)["build"]["scope"], "full");
    // Only the hook targets and what they link were compiled.
    let lease_cmds = |w: &str| d.join(w).join("source/kea/build/src/hooks/dhcp/lease_cmds/libdhcp_lease_cmds.so").exists();
    assert!(!lease_cmds("work-hooks") && lease_cmds("work-full"));
    assert!(d.join("work-hooks/source/kea/build/src/lib/libkea-example.so").exists(), "the library the hook links was built");
    let h = logs(&d.join("work-hooks"));
    assert!(h.iter().any(|l| l.ends_with("-meson-depfixer-libdhcp_host_cmds.log")) && !h.iter().any(|l| l.ends_with("-meson-install.log")), "{h:?}");
    // The package's hooks carry no RUNPATH either (the stage check refuses one).
    require("dpkg-deb", "dpkg");
    let x = d.join("x");
    assert!(Command::new("dpkg-deb").arg("-x").arg(hooks.join(DEB)).arg(&x).status().unwrap().success());
    assert_eq!(runpath(&x.join("usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so")), Vec::<String>::new());
}

/// ccache's counters for the cache under `cache`: (hits, misses).
fn ccache_stats(cache: &Path) -> (u64, u64) {
    let text = stdout(Command::new("ccache").arg("--print-stats").env("CCACHE_DIR", cache.join("keapack/ccache")));
    let get = |k: &str| text.lines().filter_map(|l| l.split_once('\t')).filter(|(n, _)| *n == k).map(|(_, v)| v.trim().parse::<u64>().unwrap()).sum::<u64>();
    (get("direct_cache_hit") + get("preprocessed_cache_hit"), get("cache_miss"))
}

/// A copy of the overlay `premium` in `dir` whose two hooks each compile the same file,
/// `version.cc`, byte for byte (as hooks copied from one template do): only the directory it
/// is compiled in tells the two objects apart, and their debug information names it.
fn overlay_with_a_shared_source(premium: &Path, dir: &Path) -> PathBuf {
    // The same directory name: keapack reads the overlay's version from it.
    let copy = dir.join("shared-source").join(premium.file_name().unwrap());
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let st = Command::new("cp").arg("-a").arg(premium).arg(&copy).status().unwrap();
    assert!(st.success(), "cp -a {}", premium.display());
    for hook in ["host_cmds", "flex_id"] {
        let d = copy.join("premium/src/hooks/dhcp").join(hook);
        std::fs::write(d.join("version.cc"), "// The same in every hook.\nextern \"C\" int keapack_test_shared_source() { return 1; }\n").unwrap();
        let am = d.join("Makefile.am");
        if am.is_file() {
            let mut text = std::fs::read_to_string(&am).unwrap();
            text.push_str(&format!("libdhcp_{hook}_la_SOURCES += version.cc\n"));
            std::fs::write(&am, text).unwrap();
        }
        let mb = d.join("meson.build");
        if mb.is_file() {
            let text = std::fs::read_to_string(&mb).unwrap();
            let with = text.replacen(&format!("'{hook}.cc',"), &format!("'{hook}.cc',\n    'version.cc',"), 1);
            assert_ne!(with, text, "{} lists {hook}.cc", mb.display());
            std::fs::write(&mb, with).unwrap();
        }
    }
    copy
}

/// The source files of the compiles ccache's log (`log_file`) reports as misses.
fn ccache_misses(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("ccache wrote no log {}: {e}", log.display()));
    // Each line: `[<time> <pid>] <message>` (the pid padded to a width, so maybe `<pid> ]`);
    // one compile's lines share the pid.
    let mut source: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let mut missed = Vec::new();
    for line in text.lines() {
        let Some((head, msg)) = line.split_once("] ") else { continue };
        let pid = head.split_whitespace().last().unwrap_or("");
        if let Some(src) = msg.strip_prefix("Source file: ") {
            source.insert(pid, src.to_string());
        } else if msg == "Result: cache_miss" {
            missed.push(source.get(pid).cloned().unwrap_or_else(|| format!("(unknown source, pid {pid})")));
        }
    }
    missed
}

fn ccache_keeps_the_packages_and_hits_from_another_work_directory(kea: &str, premium: &str, prefix: &str) {
    require("ccache", "ccache");
    let tmp = shared_dir(prefix);
    let d = tmp.path();
    let kea = examples().join(kea);
    // Two hooks with one identical source file: a ccache that ignored the directory would hand
    // the second hook the first one's object (naming the other directory), and the packages
    // would differ from the build without ccache.
    let premium = overlay_with_a_shared_source(&examples().join(premium), d);
    let cache = d.join("cache");
    let plain = build(&kea, &premium, d, "plain", &["--no-ccache"], &cache);
    assert!(!cache.join("keapack/ccache").exists(), "--no-ccache left ccache's directory alone");
    let first = build(&kea, &premium, d, "first", &["--ccache"], &cache);
    let (hits_before, misses_before) = ccache_stats(&cache);
    assert!(misses_before > 0, "the first ccache build fills the cache");
    // ccache's own log for the second build: which compiles missed, and where (inside ccache's
    // directory, which the build's sandbox leaves writable).
    let log = cache.join("keapack/ccache/second-build.log");
    std::fs::write(cache.join("keapack/ccache/ccache.conf"), format!("log_file = {}\n", log.display())).unwrap();
    let second = build(&kea, &premium, d, "second", &["--ccache"], &cache);
    let (hits, misses) = ccache_stats(&cache);
    assert!(hits > hits_before, "the second build did not use the cache");
    // configure's probes (`$CC -c -g conftest.c`, without CFLAGS and so without the prefix map)
    // are hashed with the work directory and miss; every compile of the tree hits.
    let missed = ccache_misses(&log);
    assert_eq!(missed.len() as u64, misses - misses_before, "ccache's log and its counters disagree: {missed:?}");
    assert!(missed.iter().all(|src| src.starts_with("conftest.")), "the second build, in another work directory, missed compiles of the tree: {missed:?}");
    same_packages(&plain, &first);
    same_packages(&first, &second);

    let (p, a, b) = (record(&plain), record(&first), record(&second));
    assert_eq!(p["build"]["ccache"], false);
    assert_eq!(p["build"]["environment"]["CCACHE_DISABLE"], "1");
    assert_eq!(a["build"]["ccache"], true);
    assert_eq!(a["build"], b["build"], "two ccache builds in two work directories record the same build");
    let env = &a["build"]["environment"];
    assert!(env["CXX"].as_str().unwrap().starts_with("ccache "), "{env}");
    assert_eq!(env["CCACHE_BASEDIR"], "$BUILD_DIR");
    assert!(env.get("CCACHE_DIR").is_none(), "{env}");
    assert!(a["build"]["inherited-environment"].as_array().unwrap().iter().any(|v| v == "CCACHE_DIR"));
    assert!(a["tools"]["ccache"].as_str().unwrap().starts_with("ccache version"), "{}", a["tools"]);
    assert!(p["tools"].get("ccache").is_none(), "{}", p["tools"]);
}

#[test]
#[ignore = "slow: builds the example with ccache"]
fn ccache_autotools() {
    require_build_tools();
    ccache_keeps_the_packages_and_hits_from_another_work_directory("kea-2.2.0", "kea-premium-2.2.0", "hooks-only-ccache-autotools-");
}

#[test]
#[ignore = "slow: builds the meson example with ccache"]
fn ccache_meson() {
    require_meson_tools();
    ccache_keeps_the_packages_and_hits_from_another_work_directory("kea-meson-2.2.0", "kea-premium-meson-2.2.0", "hooks-only-ccache-meson-");
}

#[test]
fn ccache_flags_conflict() {
    let out = run(keapack().args(["build", "--ccache", "--no-ccache", "--dry-run"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"), "{}", String::from_utf8_lossy(&out.stderr));
}

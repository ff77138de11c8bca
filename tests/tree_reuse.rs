//! Another overlay in the same work directory reuses the built Kea tree: only the changed hook
//! is compiled again, configure (meson setup) is skipped when nothing it reads changed and runs
//! again in place when something did (a build file, the revision in the package variables), and
//! the packages are byte-identical to a fresh build without the cache. A cache hit keeps the
//! tree for later; an overlay refused by its checks leaves the tree as it was; a run stopped
//! while it changes the tree leaves a tree no run reuses; without the cache nothing is reused. Autotools and meson examples.
//!
//! Each test has a cache of its own (`XDG_CACHE_HOME` in its temporary directory); the builds
//! take turns.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A test's place: its cache and a copy of the example inputs it may change.
struct Place {
    tmp: tempfile::TempDir,
    kea: PathBuf,
    premium: PathBuf,
}

impl Place {
    fn new(meson: bool) -> Place {
        if meson { require_meson_tools() } else { require_build_tools() }
        let tmp = tempfile::tempdir().unwrap();
        let (k, p) = if meson { ("kea-meson-2.2.0", "kea-premium-meson-2.2.0") } else { ("kea-2.2.0", "kea-premium-2.2.0") };
        let kea = tmp.path().join(k);
        let premium = tmp.path().join("overlays/kea-premium-2.2.0");
        copy_tree(&examples().join(k), &kea);
        copy_tree(&examples().join(p), &premium);
        Place { tmp, kea, premium }
    }

    fn work(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(format!("out-{name}"))
    }

    /// The build of run `name` into its own output directory; `work`: the shared work directory, else one of its own.
    fn cmd(&self, name: &str, shared_work: bool, args: &[&str]) -> Command {
        self.cmd_with(&self.premium, name, shared_work, args)
    }

    /// The same with another overlay.
    fn cmd_with(&self, premium: &Path, name: &str, shared_work: bool, args: &[&str]) -> Command {
        let mut cmd = keapack();
        let work = if shared_work { self.work() } else { self.tmp.path().join(format!("work-{name}")) };
        cmd.env_remove("KEAPACK_NO_CACHE")
            .env("XDG_CACHE_HOME", self.tmp.path().join("xdg-cache"))
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["build", "--target", "debian-12-amd64", "--kea"])
            .arg(&self.kea)
            .arg("--premium")
            .arg(premium)
            .arg("--out")
            .arg(self.out(name))
            .arg("--work")
            .arg(work)
            .args(args);
        cmd
    }

    fn build(&self, name: &str, args: &[&str]) -> Output {
        let out = run(&mut self.cmd(name, true, args));
        assert!(out.status.success(), "build {name} {args:?} failed:\n{}", text(&out.stderr));
        out
    }

    /// The same inputs built from scratch without the cache, in a work directory of its own.
    fn fresh(&self, name: &str, args: &[&str]) {
        let out = run(self.cmd(name, false, args).arg("--no-cache"));
        assert!(out.status.success(), "fresh build {name} failed:\n{}", text(&out.stderr));
    }

    /// Change one hook's source: a new function in host_cmds.cc.
    fn change_source(&self, n: u32) {
        let f = self.premium.join("premium/src/hooks/dhcp/host_cmds/host_cmds.cc");
        let mut s = std::fs::read_to_string(&f).unwrap();
        s.push_str(&format!("\nextern \"C\" int keapack_tree_reuse_{n}() {{ return {n}; }}\n"));
        std::fs::write(&f, s).unwrap();
    }

    /// What `logs/tree.log` says of the last run.
    fn tree(&self) -> String {
        std::fs::read_to_string(self.work().join("logs/tree.log")).unwrap_or_default().trim().trim_start_matches("work tree: ").to_string()
    }

    fn logs(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.work().join("logs")).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    /// The text of the run's step log whose name contains `slug`.
    fn log(&self, slug: &str) -> String {
        let name = self.logs().into_iter().find(|l| l.contains(slug)).unwrap_or_else(|| panic!("no {slug} log in {:?}", self.logs()));
        std::fs::read_to_string(self.work().join("logs").join(name)).unwrap()
    }

    fn ran(&self, slug: &str) -> bool {
        self.logs().iter().any(|l| l.contains(slug))
    }
}

/// The packages (and record and SHA256SUMS) of two output directories are the same bytes.
fn same(a: &Path, b: &Path) {
    let (la, lb) = (listing(a), listing(b));
    assert_eq!(la.iter().map(|(n, _)| n).collect::<Vec<_>>(), lb.iter().map(|(n, _)| n).collect::<Vec<_>>());
    for ((n, x), (_, y)) in la.iter().zip(&lb) {
        assert!(x == y, "{n} differs between {} and {}", a.display(), b.display());
    }
}

fn deb(dir: &Path) -> Vec<u8> {
    listing(dir).into_iter().find(|(n, _)| n.ends_with(".deb")).expect("a .deb").1
}

#[test]
#[ignore = "slow: builds the examples and rebuilds them in place"]
fn autotools_a_changed_hook_source_rebuilds_that_hook_alone_and_writes_a_fresh_builds_bytes() {
    let _turn = turn();
    let p = Place::new(false);
    p.build("first", &[]);
    assert_eq!(p.tree(), "prepared");
    assert!(p.work().join("source/tree.json").is_file(), "a complete build is recorded");

    p.change_source(1);
    let out = p.build("changed", &[]);
    assert_eq!(p.tree(), "reused (1 changed, 0 added, 0 removed)", "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("reusing the Kea 2.2.0 tree built in"), "{}", text(&out.stderr));
    assert!(!p.ran("autoreconf") && !p.ran("configure"), "configure is skipped: {:?}", p.logs());
    let make = p.log("make-premium");
    assert!(make.contains("CXX      host_cmds.lo") && !make.contains("flex_id.lo"), "only the changed hook compiles:\n{make}");
    assert!(deb(&p.out("changed")) != deb(&p.out("first")), "the changed hook is packaged");
    p.fresh("changed-fresh", &[]);
    same(&p.out("changed"), &p.out("changed-fresh"));

    // A build file changed and a new revision (the package variables configure sees): the tree
    // is configured again in place, and still only the hook whose source changed is compiled.
    let am = p.premium.join("premium/src/hooks/dhcp/flex_id/Makefile.am");
    let mut s = std::fs::read_to_string(&am).unwrap();
    s.push_str("\n# a comment that changes nothing built\n");
    std::fs::write(&am, s).unwrap();
    p.change_source(2);
    p.build("reconfigured", &["--revision", "2"]);
    assert_eq!(p.tree(), "reused (2 changed, 0 added, 0 removed; configured again)");
    assert!(p.ran("autoreconf") && p.ran("configure"), "{:?}", p.logs());
    let make = p.log("make-premium");
    assert!(make.contains("host_cmds.lo"), "{make}");
    p.fresh("reconfigured-fresh", &["--revision", "2"]);
    same(&p.out("reconfigured"), &p.out("reconfigured-fresh"));

    // The first overlay again: a cache hit, which keeps the tree; then a third overlay reuses it.
    let host_cmds = p.premium.join("premium/src/hooks/dhcp/host_cmds/host_cmds.cc");
    let changed = std::fs::read_to_string(&host_cmds).unwrap();
    std::fs::write(&host_cmds, std::fs::read_to_string(examples().join("kea-premium-2.2.0/premium/src/hooks/dhcp/host_cmds/host_cmds.cc")).unwrap()).unwrap();
    std::fs::write(&am, std::fs::read_to_string(examples().join("kea-premium-2.2.0/premium/src/hooks/dhcp/flex_id/Makefile.am")).unwrap()).unwrap();
    p.build("first-again", &[]);
    assert_eq!(p.tree(), "restored from the build cache");
    same(&p.out("first"), &p.out("first-again"));
    assert!(p.work().join("source/tree.json").is_file(), "a hit keeps the built tree");
    std::fs::write(&host_cmds, changed + "\nextern \"C\" int keapack_tree_reuse_3() { return 3; }\n").unwrap();
    p.build("third", &["--revision", "2"]);
    assert!(p.tree().starts_with("reused ("), "{}", p.tree());
    p.fresh("third-fresh", &["--revision", "2"]);
    same(&p.out("third"), &p.out("third-fresh"));
}

#[test]
#[ignore = "slow: builds the examples and rebuilds them in place"]
fn meson_a_changed_hook_source_skips_setup_and_a_new_revision_sets_up_again_in_place() {
    let _turn = turn();
    let p = Place::new(true);
    p.build("first", &[]);
    assert_eq!(p.tree(), "prepared");

    p.change_source(1);
    p.build("changed", &[]);
    assert_eq!(p.tree(), "reused (1 changed, 0 added, 0 removed)");
    assert!(!p.ran("meson-setup"), "setup is skipped: {:?}", p.logs());
    let compile = p.log("meson-compile");
    assert!(compile.contains("host_cmds.cc.o") && !compile.contains("flex_id.cc.o"), "only the changed hook compiles:\n{compile}");
    p.fresh("changed-fresh", &[]);
    same(&p.out("changed"), &p.out("changed-fresh"));

    p.change_source(2);
    p.build("revision", &["--revision", "2"]);
    assert_eq!(p.tree(), "reused (1 changed, 0 added, 0 removed)");
    assert!(p.log("meson-setup").starts_with("$ ") && p.log("meson-setup").lines().next().unwrap().contains("--reconfigure"), "{}", p.log("meson-setup"));
    p.fresh("revision-fresh", &["--revision", "2"]);
    same(&p.out("revision"), &p.out("revision-fresh"));
}

#[test]
#[ignore = "slow: builds the examples and rebuilds them in place"]
fn a_run_stopped_while_it_changes_the_tree_leaves_one_no_run_reuses_and_no_cache_reuses_nothing() {
    let _turn = turn();
    let p = Place::new(false);
    p.build("first", &[]);
    p.change_source(1);

    // An overlay refused by its checks (another Kea version) leaves the tree as it was.
    let other = p.tmp.path().join("other/kea-premium-2.4.0");
    copy_tree(&p.premium, &other);
    let refused = run(&mut p.cmd_with(&other, "refused", true, &[]));
    assert!(!refused.status.success() && text(&refused.stderr).contains("version mismatch"), "{}", text(&refused.stderr));
    assert!(p.work().join("source/tree.json").is_file(), "the tree is still recorded");
    let host_cmds = p.work().join("source/kea/premium/src/hooks/dhcp/host_cmds/host_cmds.cc");
    assert!(!std::fs::read_to_string(&host_cmds).unwrap().contains("keapack_tree_reuse_1"), "and unchanged");

    // The first run's step logs go, so that the wait below sees this run's.
    std::fs::remove_dir_all(p.work().join("logs")).unwrap();
    let child = p.cmd("stopped", true, &["--quiet"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_step(&p.work(), "make-top");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(!wait_child(child).status.success(), "the run was stopped");
    assert!(!p.work().join("source/tree.json").exists(), "a tree being changed is not recorded");

    p.build("after", &[]);
    assert_eq!(p.tree(), "prepared", "the next run unpacks afresh");
    assert!(p.ran("autoreconf"));
    p.fresh("after-fresh", &[]);
    same(&p.out("after"), &p.out("after-fresh"));

    // Without the cache, the tree is not reused either.
    p.change_source(2);
    p.build("no-cache", &["--no-cache"]);
    assert_eq!(p.tree(), "prepared");
    assert!(p.ran("autoreconf"));
}

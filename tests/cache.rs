//! The build cache: a rerun and a packaging-only change reuse the staged build and write the
//! same bytes as a real build; a changed input, configure option, epoch or `--debug-symbols`
//! builds again; an interrupted build leaves no entry; concurrent runs of one identity share
//! one entry; `--no-cache`, `keapack cache list` and `keapack cache prune`.
//!
//! Each test has a cache of its own (`XDG_CACHE_HOME` in its temporary directory). The builds
//! are heavy, so the tests take turns (one build at a time).

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A test's place: its cache and the example inputs (copied, so a test may change them).
struct Place {
    tmp: tempfile::TempDir,
    kea: PathBuf,
    premium: PathBuf,
}

impl Place {
    fn new() -> Place {
        require_build_tools();
        let tmp = tempfile::tempdir().unwrap();
        let kea = tmp.path().join("kea-2.2.0");
        let premium = tmp.path().join("kea-premium-2.2.0");
        copy_tree(&examples().join("kea-2.2.0"), &kea);
        copy_tree(&examples().join("kea-premium-2.2.0"), &premium);
        Place { tmp, kea, premium }
    }

    fn cache(&self) -> PathBuf {
        self.tmp.path().join("xdg-cache")
    }

    fn work(&self, name: &str) -> PathBuf {
        self.tmp.path().join(format!("work-{name}"))
    }

    fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(format!("out-{name}"))
    }

    /// keapack with this place's cache on.
    fn keapack(&self) -> Command {
        let mut cmd = keapack();
        cmd.env_remove("KEAPACK_NO_CACHE").env_remove("KEAPACK_CACHE_MAX").env("XDG_CACHE_HOME", self.cache());
        cmd
    }

    /// The build command of run `name` (work and out directories of its own), Debian 12,
    /// SOURCE_DATE_EPOCH=1700000000, with `args` added.
    fn build_cmd(&self, name: &str, args: &[&str]) -> Command {
        let mut cmd = self.keapack();
        cmd.args(["build", "--target", "debian-12-amd64"])
            .args(args.iter().take_while(|a| **a != "--"))
            .arg("--kea")
            .arg(&self.kea)
            .arg("--premium")
            .arg(&self.premium)
            .arg("--out")
            .arg(self.out(name))
            .arg("--work")
            .arg(self.work(name))
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(args.iter().skip_while(|a| **a != "--"));
        cmd
    }

    /// Run `name` and require success.
    fn build(&self, name: &str, args: &[&str]) -> Output {
        self.build_env(name, args, &[])
    }

    fn build_env(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = run(self.build_cmd(name, args).envs(env.iter().copied()));
        assert!(out.status.success(), "build {name} {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// What the cache did for run `name`: `hit <key>`, `miss <key>` or `disabled`.
    fn status(&self, name: &str) -> String {
        std::fs::read_to_string(self.work(name).join("logs/cache.log")).unwrap().trim().trim_start_matches("build cache: ").to_string()
    }

    /// The complete entries (directories holding entry.json), sorted.
    fn entries(&self) -> Vec<String> {
        let dir = self.cache().join("keapack/builds");
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("entry.json").is_file())
            .map(|e| e.file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn cache_cmd(&self, args: &[&str]) -> Output {
        let out = run(self.keapack().arg("cache").args(args));
        assert!(out.status.success(), "cache {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        out
    }
}

/// The names of the logs of a run's steps.
fn logs(work: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(work.join("logs")).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

fn built(work: &Path) -> bool {
    logs(work).iter().any(|l| l.contains("configure"))
}

#[test]
#[ignore = "slow: builds the examples through the build cache"]
fn a_rerun_and_a_new_revision_reuse_the_build_and_write_what_a_real_build_writes() {
    let _turn = turn();
    let p = Place::new();
    let cold = p.build("cold", &[]);
    assert!(p.status("cold").starts_with("miss "), "{}", p.status("cold"));
    assert!(built(&p.work("cold")), "the first run builds: {:?}", logs(&p.work("cold")));
    assert!(!String::from_utf8_lossy(&cold.stderr).contains("reusing the build"));
    assert_eq!(p.entries().len(), 1);

    let again = p.build("again", &[]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("keapack: reusing the build of Kea 2.2.0 (autotools, host (") && stderr.contains("from the cache ("), "{stderr}");
    assert_eq!(p.status("again"), p.status("cold").replace("miss", "hit"));
    assert!(!built(&p.work("again")), "a hit runs no configure step: {:?}", logs(&p.work("again")));
    assert!(!p.work("again").join("source").exists(), "a hit unpacks nothing");
    assert_eq!(listing(&p.out("cold")), listing(&p.out("again")), "packages, build record and SHA256SUMS are byte-identical");
    sums_verify(&p.out("again"));

    // A packaging-only change, and one more target the same build serves: still a hit.
    let args = ["--revision", "2", "--target", "rhel-9-x86_64", "--split", "per-hook"];
    p.build("rev2", &args);
    assert!(p.status("rev2").starts_with("hit "), "{}", p.status("rev2"));
    assert!(!built(&p.work("rev2")));
    let names: Vec<String> = listing(&p.out("rev2")).into_iter().map(|(n, _)| n).collect();
    assert!(names.iter().any(|n| n.ends_with("_2.2.0-2+deb12_amd64.deb")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-2.2.0-2.el9.x86_64.rpm")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("2.2.0-1")), "{names:?}");

    // The same run without the cache really builds, reads and writes nothing there, and
    // writes the same bytes.
    p.build("rev2-nocache", &[&args[..], &["--no-cache"]].concat());
    assert_eq!(p.status("rev2-nocache"), "disabled");
    assert!(built(&p.work("rev2-nocache")));
    assert_eq!(listing(&p.out("rev2")), listing(&p.out("rev2-nocache")), "a cached build's outputs are a real build's");
    assert_eq!(p.entries().len(), 1, "--no-cache keeps nothing");

    let list = String::from_utf8(p.cache_cmd(&["list"]).stdout).unwrap();
    let key = &p.entries()[0];
    assert!(list.contains(key.as_str()) && list.contains("Kea 2.2.0") && list.contains("autotools") && list.contains("libdhcp_host_cmds.so"), "{list}");
    assert!(list.contains("1 entries"), "{list}");
    let pruned = String::from_utf8(p.cache_cmd(&["prune", "--all"]).stdout).unwrap();
    assert!(pruned.contains(&format!("removed {key}")), "{pruned}");
    assert!(p.entries().is_empty());
    assert!(String::from_utf8(p.cache_cmd(&["list"]).stdout).unwrap().contains("is empty"));
    // Pruning with no rule is refused rather than guessed.
    assert!(!run(p.keapack().args(["cache", "prune"])).status.success());
}

#[test]
#[ignore = "slow: builds the examples through the build cache"]
fn what_changes_the_build_misses_and_prune_removes_the_oldest_first() {
    let _turn = turn();
    let p = Place::new();
    p.build("base", &[]);
    let base = p.status("base");
    assert!(base.starts_with("miss "), "{base}");

    // One byte in the overlay.
    let src = p.premium.join("premium/src/hooks/dhcp/host_cmds/host_cmds.cc");
    let mut text = std::fs::read(&src).unwrap();
    text.push(b'\n');
    std::fs::write(&src, &text).unwrap();
    p.build("overlay", &[]);
    text.pop();
    std::fs::write(&src, &text).unwrap();

    p.build("configure", &["--", "--enable-keapack-cache-test"]);
    p.build_env("epoch", &[], &[("SOURCE_DATE_EPOCH", "1700000001")]);
    p.build("debug", &["--debug-symbols"]);
    let mut keys = vec![base.clone()];
    for name in ["overlay", "configure", "epoch", "debug"] {
        let s = p.status(name);
        assert!(s.starts_with("miss "), "{name}: {s}");
        assert!(built(&p.work(name)), "{name} builds");
        assert!(!keys.contains(&s), "{name} has a key of its own: {s}");
        keys.push(s);
    }
    assert_eq!(p.entries().len(), 5);
    // With the overlay as it was, the first entry serves again.
    p.build("base-again", &[]);
    assert_eq!(p.status("base-again"), base.replace("miss", "hit"));

    // Prune to the size of the newest entry: everything older goes, oldest first.
    let newest = keys.last().unwrap().trim_start_matches("miss ").to_string();
    let size: u64 = dir_size(&p.cache().join("keapack/builds").join(&newest));
    let pruned = String::from_utf8(p.cache_cmd(&["prune", "--max-size", &size.to_string()]).stdout).unwrap();
    let removed: Vec<&str> = pruned.lines().filter_map(|l| l.strip_prefix("removed ")).map(|l| l.split(' ').next().unwrap()).collect();
    let older: Vec<String> = keys[..4].iter().map(|k| k.trim_start_matches("miss ").to_string()).collect();
    assert_eq!(removed, older, "oldest first:\n{pruned}");
    assert_eq!(p.entries(), [newest]);

    // The bound: a run that adds an entry removes the older ones beyond KEAPACK_CACHE_MAX,
    // never its own.
    p.build_env("bounded", &[], &[("SOURCE_DATE_EPOCH", "1700000002"), ("KEAPACK_CACHE_MAX", "1")]);
    let bounded = p.status("bounded");
    assert!(bounded.starts_with("miss "), "{bounded}");
    assert_eq!(p.entries(), [bounded.trim_start_matches("miss ").to_string()]);
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() { dir_size(&e.path()) } else { m.len() };
    }
    total
}

#[test]
#[ignore = "slow: builds the examples through the build cache"]
fn an_interrupted_build_leaves_no_entry_and_the_next_run_builds() {
    let _turn = turn();
    let p = Place::new();
    let child = p.build_cmd("stopped", &["--quiet"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_step(&p.work("stopped"), "make");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = wait_child(child);
    assert!(!out.status.success(), "the run was stopped");
    assert!(p.entries().is_empty(), "an interrupted build leaves no entry");
    let partial: Vec<_> = std::fs::read_dir(p.cache().join("keapack/builds")).unwrap().flatten().filter(|e| e.path().is_dir()).map(|e| e.file_name()).collect();
    assert!(partial.is_empty(), "nor a half-made one: {partial:?}");

    p.build("after", &[]);
    assert!(p.status("after").starts_with("miss "), "{}", p.status("after"));
    assert!(built(&p.work("after")));
    assert_eq!(p.entries().len(), 1);
}

#[test]
#[ignore = "slow: builds the examples through the build cache"]
fn two_concurrent_runs_of_one_identity_share_one_entry() {
    let _turn = turn();
    let p = Place::new();
    let spawn = |name: &str| p.build_cmd(name, &["--quiet"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn("a"), spawn("b"));
    let (oa, ob) = (wait_child(a), wait_child(b));
    assert!(oa.status.success(), "{}", String::from_utf8_lossy(&oa.stderr));
    assert!(ob.status.success(), "{}", String::from_utf8_lossy(&ob.stderr));
    assert_eq!(p.entries().len(), 1);
    let mut statuses = [p.status("a"), p.status("b")].map(|s| s.split(' ').next().unwrap().to_string());
    statuses.sort();
    assert_eq!(statuses, ["hit", "miss"], "one built, the other waited and reused it");
    assert_eq!(listing(&p.out("a")), listing(&p.out("b")));
}

/// `keapack cache list` shows the release roots beside the build entries, and `prune --all`
/// removes them, but not one a running build holds (its `<key>.use` lock, held here by flock).
#[test]
fn roots_are_listed_and_pruned_beside_the_build_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let roots = tmp.path().join("keapack/roots");
    for key in ["bookworm-amd64-0123456789ab", "trixie-amd64-ba9876543210"] {
        std::fs::create_dir_all(roots.join(key).join("etc")).unwrap();
        std::fs::write(roots.join(key).join("etc/os-release"), "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").unwrap();
        std::fs::write(roots.join(key).join("etc/keapack-root"), "recipe 1\n").unwrap();
    }
    let cache = |args: &[&str]| {
        let out = run(keapack().arg("cache").args(args).env("XDG_CACHE_HOME", tmp.path()));
        assert!(out.status.success(), "cache {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (list, _) = cache(&["list"]);
    assert!(list.contains("is empty"), "no build entries: {list}");
    assert!(list.contains("root bookworm-amd64-0123456789ab") && list.contains("Debian GNU/Linux 12 (bookworm)") && list.contains("2 roots"), "{list}");

    // A build using the trixie root holds its lock shared; flock(1) stands in for it.
    let mut holder = Command::new("flock")
        .args(["--shared", "--close"])
        .arg(roots.join("trixie-amd64-ba9876543210.use"))
        .args(["sleep", "30"])
        .spawn()
        .expect("flock (util-linux) runs");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (pruned, warnings) = cache(&["prune", "--all"]);
    assert!(pruned.contains("removed root bookworm-amd64-0123456789ab"), "{pruned}");
    assert!(warnings.contains("kept root trixie-amd64-ba9876543210"), "{warnings}");
    assert!(!roots.join("bookworm-amd64-0123456789ab").exists() && roots.join("trixie-amd64-ba9876543210").exists());
    let _ = holder.kill();
    let _ = holder.wait();
    let (pruned, _) = cache(&["prune", "--all"]);
    assert!(pruned.contains("removed root trixie-amd64-ba9876543210"), "once let go: {pruned}");
    let (list, _) = cache(&["list"]);
    assert!(!list.contains("root "), "{list}");
}

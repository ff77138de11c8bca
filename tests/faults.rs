//! Killed at any instant, nothing corrupt. The real binary runs on the bundled example and is
//! killed with SIGKILL (its whole process group, as a CI runner's timeout does) at instants a
//! seeded generator spreads over the life of each command:
//! - `build` with the build cache warm (most kills land in restoring, packaging and the switch
//!   into `--out`), with the cache empty (unpacking, autoreconf, configure, make, install,
//!   staging, recording the tree, storing in the cache), with meson, and `--full-build`;
//! - `publish` of a newer set into apt and dnf repositories that serve an earlier one;
//! - `sign` of the packages in an output directory.
//!
//! After every kill: `--out` verifies (`sha256sum --strict -c`) and holds the earlier set, the
//! new one, or a switch in progress whose files are each the earlier or the new bytes; a
//! repository is consistent (`tests/common/repo.rs`), or the next publish repairs it; no cache
//! entry is incomplete; the work directory's lock is free. Then the same command runs again and
//! must succeed, leave no staging or journal behind, and produce what an uninterrupted run
//! produces (byte for byte; for signed files, the same signed text with a valid signature,
//! since a signature carries its creation time). The last publish state is checked by real
//! clients: `apt-get update` in a Debian 12 root and `dnf makecache` with `repo_gpgcheck`.
//!
//! The seed is printed; `KEAPACK_FAULT_SEED=<seed>` replays a run's instants. The test reports
//! how many kills landed in each phase (the step the run had last started, from its JSON
//! events) and fails if a phase it must reach was never hit.
//!
//! Beside the random kills, `every_rename_fsync_and_create_of_the_output_switch` and `…_of_a_publish` kill
//! the run at its Nth `rename`, `fsync` and file creation for every N, through an `LD_PRELOAD`
//! library built by the test (so each instant of the output switch and of a publish is visited).

mod common;
use common::gpgkey::Key;
use common::made::leftovers;
use common::repo::repo_problems;
use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// splitmix64: small, seedable, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration in [0, `max`).
    fn within(&mut self, max: Duration) -> Duration {
        Duration::from_nanos(self.next() % (max.as_nanos() as u64).max(1))
    }
}

fn seed() -> u64 {
    let seed = match std::env::var("KEAPACK_FAULT_SEED") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("KEAPACK_FAULT_SEED={s} is not a number")),
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64,
    };
    println!("fault seed: {seed} (replay with KEAPACK_FAULT_SEED={seed})");
    eprintln!("fault seed: {seed} (replay with KEAPACK_FAULT_SEED={seed})");
    seed
}

/// The phase of a kill that came after the run had finished.
const AFTER: &str = "after the run finished";

/// How a killed run ended.
struct Killed {
    /// The phase it was in: the step it had last started, or where it stood.
    phase: String,
}

/// The phase a step title belongs to.
fn phase_of(step: &str) -> String {
    let s = step;
    let p = if s.starts_with("prepare the source tree") {
        "unpack"
    } else if s.starts_with("put the new overlay") {
        "overlay into the built tree"
    } else if s.starts_with("autoreconf") || s.starts_with("configure") || s.starts_with("meson setup") || s.starts_with("meson introspect") || s.starts_with("meson --version") {
        "configure"
    } else if s.contains("install") {
        "install"
    } else if s.starts_with("make") || s.starts_with("ninja") || s.starts_with("meson compile") {
        "compile"
    } else if s.starts_with("strip") || s.starts_with("objcopy") || s.starts_with("stage") {
        "stage"
    } else if s.starts_with("record the built tree") {
        "tree record"
    } else if s.starts_with("store the build") {
        "cache store"
    } else if s.starts_with("restore the build") {
        "cache restore"
    } else if s.starts_with("write ") && (s.ends_with(".deb") || s.ends_with(".rpm") || s.ends_with(".ddeb")) {
        "package"
    } else if s.starts_with("publish the outputs") {
        "output switch"
    } else if s.starts_with("copy the packages into the apt pool") {
        "apt pool"
    } else if s.starts_with("write and sign the apt index") {
        "apt index and signatures"
    } else if s.starts_with("sign and copy the packages into the dnf") {
        "dnf packages signed into the pool"
    } else if s.starts_with("write and sign the dnf repository") {
        "dnf metadata and signature"
    } else if s.starts_with("write the client files") {
        "client files"
    } else if s.starts_with("sign the packages") {
        "sign in place"
    } else {
        return format!("other: {s}");
    };
    p.to_string()
}

/// The phases of an uninterrupted run of `cmd` (which prints JSON events), each with the
/// window of time it took from the start: where the kills are aimed, so that short phases are
/// hit as often as long ones. The run must succeed.
fn timeline(cmd: &mut Command, what: &str) -> Vec<(String, Duration, Duration)> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut marks: Vec<(String, Duration)> = vec![("start: inputs, plan and locks".to_string(), Duration::ZERO)];
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if v["event"] == "step-started" {
            let phase = phase_of(v["step"].as_str().unwrap_or(""));
            if marks.last().is_none_or(|(p, _)| *p != phase) {
                marks.push((phase, start.elapsed()));
            }
        }
    }
    let out = child.wait_with_output().unwrap();
    let end = start.elapsed();
    assert!(out.status.success(), "{what} failed:\n{}", text(&out.stderr));
    let mut windows = Vec::new();
    for (i, (phase, from)) in marks.iter().enumerate() {
        let to = marks.get(i + 1).map_or(end, |(_, t)| *t);
        windows.push((phase.clone(), *from, to));
    }
    windows
}

/// Where to kill: the phase (among those `allowed`) the kills so far were aimed at least (ties
/// broken at random), and a random offset into it, within its length in the timeline. Aiming
/// in turn spreads the kills over the phases, not over time, so a phase of milliseconds is
/// tried as often as `make`.
fn aim(windows: &[(String, Duration, Duration)], tally: &mut Tally, allowed: impl Fn(&str) -> bool, rng: &mut Rng) -> (String, Duration) {
    let aims = |p: &str| tally.aimed.get(p).copied().unwrap_or(0);
    let candidates: Vec<&(String, Duration, Duration)> = windows.iter().filter(|(p, _, _)| allowed(p)).collect();
    let least = candidates.iter().map(|(p, _, _)| aims(p)).min().expect("a phase to aim at");
    let least: Vec<_> = candidates.into_iter().filter(|(p, _, _)| aims(p) == least).collect();
    let (phase, from, to) = least[(rng.next() % least.len() as u64) as usize];
    *tally.aimed.entry(phase.clone()).or_default() += 1;
    (phase.clone(), rng.within(to.saturating_sub(*from).max(Duration::from_millis(1))))
}

/// Phases only a build with an empty cache has (the cold kills aim there; the warm ones cover
/// the rest).
fn cold_only(phase: &str) -> bool {
    !["start: inputs, plan and locks", "cache restore", "package", "output switch"].contains(&phase)
}

/// Run `cmd` (which prints JSON events) and kill its process group `delay` after the phase
/// `aimed` starts (after the start of the run for the first phase): timed from the phase's own
/// event, so that a phase of milliseconds is hit though the run before it varies by more. A run
/// that ends first (or never enters the phase) is not killed.
fn kill_after(cmd: &mut Command, aimed: &str, delay: Duration) -> Killed {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null());
    cmd.process_group(0);
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let from_start = aimed == "start: inputs, plan and locks";
    let entered: std::sync::Arc<std::sync::Mutex<Option<Instant>>> = std::sync::Arc::new(std::sync::Mutex::new(from_start.then_some(start)));
    let reader = {
        let (entered, aimed) = (entered.clone(), aimed.to_string());
        std::thread::spawn(move || {
            let mut last = String::from("start: inputs, plan and locks");
            let mut finished = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
                match v["event"].as_str() {
                    Some("step-started") => {
                        last = phase_of(v["step"].as_str().unwrap_or(""));
                        let mut e = entered.lock().unwrap();
                        if last == aimed && e.is_none() {
                            *e = Some(Instant::now());
                        }
                    }
                    Some("run-finished") => finished = true,
                    _ => {}
                }
            }
            (last, finished)
        })
    };
    let exited = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if entered.lock().unwrap().is_some_and(|t| t.elapsed() >= delay) {
            break false;
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    if !exited {
        // SAFETY: kill(2) of the process group this test made for the run.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    }
    child.wait().unwrap();
    let (phase, finished) = reader.join().unwrap();
    Killed { phase: if finished { AFTER.to_string() } else { phase } }
}

/// Run `cmd` to its end; its exit must be 0.
fn completed(cmd: &mut Command, what: &str) -> Duration {
    let start = Instant::now();
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{what} failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(!text(&out.stderr).contains("panicked"), "{what} panicked:\n{}", text(&out.stderr));
    start.elapsed()
}

/// The visible files of `dir` (not those starting with '.'), by name.
fn visible(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::made::visible(dir).into_iter().collect()
}

/// `sha256sum --strict -c SHA256SUMS` in `dir`, when the file exists.
fn sums_problem(dir: &Path) -> Option<String> {
    if !dir.join("SHA256SUMS").exists() {
        return None;
    }
    let out = Command::new("sha256sum").args(["--strict", "-c", "SHA256SUMS"]).current_dir(dir).output().unwrap();
    (!out.status.success()).then(|| format!("sha256sum -c fails in {}:\n{}{}", dir.display(), text(&out.stdout), text(&out.stderr)))
}

/// `--out` after a kill: it verifies; with no switch under way it holds the earlier or the new
/// set exactly, during one every file is the earlier or the new bytes.
fn out_problems(out: &Path, earlier: &BTreeMap<String, Vec<u8>>, newer: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut problems: Vec<String> = sums_problem(out).into_iter().collect();
    let now = visible(out);
    let switching = out.join(".keapack-switch").exists();
    if !switching && &now != earlier && &now != newer {
        problems.push(format!("{} holds neither the earlier set nor the new one: {:?}", out.display(), now.keys().collect::<Vec<_>>()));
    }
    for (name, bytes) in &now {
        // During a switch SHA256SUMS may be the interim list (checked by sha256sum above).
        if !(switching && name == "SHA256SUMS") && earlier.get(name) != Some(bytes) && newer.get(name) != Some(bytes) {
            problems.push(format!("{}/{name} is neither the earlier nor the new file", out.display()));
        }
    }
    problems
}

/// Cache entries a later run would use: every one must be complete (its entry.json readable).
fn cache_problems(cache: &Path) -> Vec<String> {
    let builds = cache.join("keapack/builds");
    let mut problems = Vec::new();
    for e in fs::read_dir(&builds).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".lock") || !e.path().is_dir() {
            continue;
        }
        let manifest = fs::read_to_string(e.path().join("entry.json")).ok();
        if manifest.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()).is_none() {
            problems.push(format!("cache entry {name} has no readable entry.json"));
        }
    }
    problems
}

/// Whether `path` (a lock file) can be locked now, i.e. no process holds it.
fn lock_free(path: &Path) -> bool {
    let Ok(f) = fs::File::open(path) else { return true };
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file this function owns.
    let got = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if got {
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
    }
    got
}

/// Replace `dir` by a copy of `from`.
fn reset(dir: &Path, from: &Path) {
    let _ = fs::remove_dir_all(dir);
    copy_tree(from, dir);
}

/// How two repository shapes differ: the paths only one has, and those whose bytes differ.
fn shape_diff(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut d: Vec<String> = a.keys().filter(|k| !b.contains_key(*k)).map(|k| format!("only after the rerun: {k}")).collect();
    d.extend(b.keys().filter(|k| !a.contains_key(*k)).map(|k| format!("only after an uninterrupted publish: {k}")));
    d.extend(a.iter().filter(|(k, v)| b.get(*k).is_some_and(|w| w != *v)).map(|(k, _)| format!("other bytes: {k}")));
    d
}

/// The kills of one suite run, by phase.
#[derive(Default)]
struct Tally {
    by_phase: BTreeMap<String, usize>,
    by_command: BTreeMap<String, usize>,
    /// Repository states a kill left inconsistent, which the next publish repaired.
    repaired: Vec<String>,
    total: usize,
    /// How long each part took.
    times: Vec<(String, Duration)>,
    /// The longest window each phase had in the uninterrupted runs' timelines.
    windows: BTreeMap<String, Duration>,
    /// How many kills were aimed at each phase.
    aimed: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, command: &str, k: &Killed) {
        *self.by_phase.entry(k.phase.clone()).or_default() += 1;
        *self.by_command.entry(command.to_string()).or_default() += 1;
        self.total += 1;
    }

    /// Kills that landed while the run ran (not after it had finished).
    fn landed(&self) -> usize {
        self.total - self.by_phase.get(AFTER).copied().unwrap_or(0)
    }

    /// Note the phases of a timeline and how long each took.
    fn saw(&mut self, timeline: &[(String, Duration, Duration)]) {
        for (p, from, to) in timeline {
            let w = self.windows.entry(p.clone()).or_default();
            *w = (*w).max(to.saturating_sub(*from));
        }
    }

    fn report(&self) -> String {
        let mut s = format!("{} kills, {} of them while the run ran\nby command:\n", self.total, self.landed());
        for (c, n) in &self.by_command {
            s += &format!("  {n:4}  {c}\n");
        }
        s += "by phase (the step the run had last started; its longest window in an uninterrupted run):\n";
        for (p, n) in &self.by_phase {
            let w = self.windows.get(p).map_or(String::new(), |w| format!(" ({:.1} ms)", w.as_secs_f64() * 1000.0));
            s += &format!("  {n:4}  {p}{w}\n");
        }
        for (p, w) in &self.windows {
            if !self.by_phase.contains_key(p) {
                s += &format!("     0  {p} ({:.1} ms)\n", w.as_secs_f64() * 1000.0);
            }
        }
        s += "time per part:\n";
        for (p, t) in &self.times {
            s += &format!("  {:5.0} s  {p}\n", t.as_secs_f64());
        }
        s += &format!("repository states a kill left inconsistent and the next publish repaired: {}\n", self.repaired.len());
        for r in &self.repaired {
            s += &format!("  {r}\n");
        }
        s
    }
}

/// The example's tarballs (autotools and meson) in `dir`.
fn inputs(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let kea = dir.join("kea-2.2.0.tar.gz");
    let premium = dir.join("kea-premium-2.2.0.tar.gz");
    tarball(&examples().join("kea-2.2.0"), "kea-2.2.0", &kea);
    tarball(&examples().join("kea-premium-2.2.0"), "", &premium);
    let mkea = dir.join("kea-meson-2.2.0.tar.gz");
    let mpremium = dir.join("kea-premium-meson-2.2.0.tar.gz");
    tarball(&examples().join("kea-meson-2.2.0"), "kea-2.2.0", &mkea);
    tarball(&examples().join("kea-premium-meson-2.2.0"), "", &mpremium);
    (kea, premium, mkea, mpremium)
}

/// One kind of build to kill: its arguments, how many kills, whether each try starts from an
/// empty cache and work directory.
struct BuildCase {
    name: &'static str,
    args: Vec<String>,
    /// Kills with the cache warm (and the work directory kept from try to try).
    warm: usize,
    /// Kills with an empty cache and a new work directory each time.
    cold: usize,
}

fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

/// Kill `case` at random instants, warm then cold; after each kill, check and rerun. The
/// earlier set (another SOURCE_DATE_EPOCH: the same names, other bytes) is built first, with the
/// cache empty, which times a cold run; the new set then, warm, times a warm one.
fn kill_builds(base: &Path, case: &BuildCase, rng: &mut Rng, tally: &mut Tally) {
    let started = Instant::now();
    // autoconf's configure cannot build in a path with spaces: the directory is a slug.
    let dir = base.join(slug(case.name));
    fs::create_dir_all(&dir).unwrap();
    let (out, earlier_dir, cache, work) = (dir.join("dist"), dir.join("earlier"), dir.join("cache"), dir.join("work"));
    let command = |work: &Path, cache: &Path, epoch: &str| {
        let mut c = keapack();
        c.env_remove("KEAPACK_NO_CACHE")
            .env("XDG_CACHE_HOME", cache)
            .env("SOURCE_DATE_EPOCH", epoch)
            .args(["build", "--message-format", "json", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
            .args(&case.args)
            .arg("--out")
            .arg(&out)
            .arg("--work")
            .arg(work);
        c
    };
    completed(&mut command(&work, &cache, "1700000000"), &format!("{}: the earlier build", case.name));
    copy_tree(&out, &earlier_dir);
    let earlier = visible(&out);
    completed(&mut command(&work, &cache, "1700000500"), &format!("{}: the uninterrupted build", case.name));
    // The warm kills repeat a run whose build the cache holds: their timeline is the second's.
    let warm_span = timeline(&mut command(&work, &cache, "1700000500"), &format!("{}: the uninterrupted build, again", case.name));
    tally.saw(&warm_span);
    // The cold kills' timeline: a build with no cache entry and a new work directory, its
    // compiler cache warmed by one such build first (as the cold tries find it).
    let cold_cache = dir.join("cold-cache");
    let mut cold_span = Vec::new();
    for round in 0..if case.cold > 0 { 2 } else { 0 } {
        let _ = fs::remove_dir_all(cold_cache.join("keapack/builds"));
        let w = dir.join(format!("cold-reference-{round}"));
        cold_span = timeline(&mut command(&w, &cold_cache, "1700000500"), &format!("{}: a cold build", case.name));
        let _ = fs::remove_dir_all(&w);
    }
    tally.saw(&cold_span);
    let newer = visible(&out);
    assert_ne!(earlier, newer, "the two epochs give other bytes");
    // The planned tries, then (up to 3) more cold ones for a phase of 20 ms or more that only a
    // cold build has and that no kill has hit yet: a kill aimed at a phase can land in its
    // neighbour when this run's phase is shorter than the timeline's.
    let unhit = |tally: &Tally| cold_span.iter().find(|(p, from, to)| cold_only(p) && to.saturating_sub(*from) >= Duration::from_millis(20) && !tally.by_phase.contains_key(p)).map(|(p, from, to)| (p.clone(), to.saturating_sub(*from)));
    let mut extra = 0;
    let mut i = 0;
    loop {
        let planned = i < case.warm + case.cold;
        let retry = if planned || case.cold == 0 || extra >= 3 { None } else { unhit(tally) };
        if !planned && retry.is_none() {
            break;
        }
        extra += usize::from(!planned);
        let cold = i >= case.warm;
        reset(&out, &earlier_dir);
        // A cold try: a new work directory and no build cache entry. The compiler cache stays
        // (as on a CI runner that keeps ccache), which makes the rebuilds affordable.
        let (work, cache) = if cold { (dir.join(format!("cold-{i}/work")), cold_cache.clone()) } else { (work.clone(), cache.clone()) };
        if cold {
            let _ = fs::remove_dir_all(cache.join("keapack/builds"));
        }
        let (aimed, delay) = match retry {
            Some((phase, len)) => (phase, rng.within(len)),
            None if cold => aim(&cold_span, tally, cold_only, rng),
            None => aim(&warm_span, tally, |_| true, rng),
        };
        let killed = kill_after(&mut command(&work, &cache, "1700000500"), &aimed, delay);
        println!("{}, {}: aimed at {aimed} ({delay:?}), landed in {}", case.name, if cold { "cold" } else { "warm" }, killed.phase);
        let mut problems = out_problems(&out, &earlier, &newer);
        problems.extend(cache_problems(&cache));
        if !lock_free(&work.join(".keapack.lock")) || !lock_free(&out.join(".keapack-out.lock")) {
            problems.push("a lock is still held after the kill".to_string());
        }
        assert!(problems.is_empty(), "{} killed at {delay:?} in {} (try {i}):\n{}", case.name, killed.phase, problems.join("\n"));
        completed(&mut command(&work, &cache, "1700000500"), &format!("{}: the run after a kill in {}", case.name, killed.phase));
        assert_eq!(visible(&out), newer, "{}: the run after a kill in {} writes what an uninterrupted run writes", case.name, killed.phase);
        sums_verify(&out);
        let left = leftovers(&out);
        assert!(left.is_empty(), "{}: left behind after a kill in {} and a rerun: {left:?}", case.name, killed.phase);
        tally.add(&format!("build, {}, cache {}", case.name, if cold { "empty" } else { "warm" }), &killed);
        if cold {
            let _ = fs::remove_dir_all(dir.join(format!("cold-{i}")));
        }
        i += 1;
    }
    tally.times.push((format!("build, {}", case.name), started.elapsed()));
}

#[test]
#[ignore = "slow: builds the example, then kills builds, publishes and signs over a hundred times"]
fn random_kills_leave_nothing_corrupt() {
    require_build_tools();
    require_meson_tools();
    require("sha256sum", "coreutils");
    require("createrepo_c", "createrepo-c");
    require("gpgv", "gpgv");
    let _turn = turn();
    let started = Instant::now();
    let mut rng = Rng(seed());
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let (kea, premium, mkea, mpremium) = inputs(base);
    let p = |p: &Path| p.display().to_string();
    let mut tally = Tally::default();

    let autotools = vec!["--kea".into(), p(&kea), "--premium".into(), p(&premium)];
    let cases = [
        BuildCase { name: "autotools", args: autotools.clone(), warm: 14, cold: 5 },
        BuildCase { name: "meson", args: vec!["--kea".into(), p(&mkea), "--premium".into(), p(&mpremium)], warm: 6, cold: 2 },
        BuildCase { name: "full build", args: [vec!["--full-build".to_string()], autotools.clone()].concat(), warm: 4, cold: 0 },
    ];
    for case in &cases {
        kill_builds(base, case, &mut rng, &mut tally);
    }
    // The autotools case's packages (revision 1) and revision 2 of them, from its warm cache.
    let pk = base.join(slug("autotools"));
    let rev2 = base.join("rev2");
    completed(
        keapack()
            .env_remove("KEAPACK_NO_CACHE")
            .env("XDG_CACHE_HOME", pk.join("cache"))
            .env("SOURCE_DATE_EPOCH", "1700000500")
            .args(["build", "--quiet", "--revision", "2", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
            .args(&autotools)
            .arg("--out")
            .arg(&rev2)
            .arg("--work")
            .arg(pk.join("work")),
        "the revision 2 build",
    );
    kill_publishes(base, &pk.join("earlier"), &rev2, &mut rng, &mut tally);
    kill_signs(base, &pk.join("earlier"), &mut rng, &mut tally);

    let report = tally.report();
    println!("{report}in {:.0} s", started.elapsed().as_secs_f64());
    eprintln!("{report}in {:.0} s", started.elapsed().as_secs_f64());
    assert!(tally.landed() >= 100, "at least 100 kills while the runs ran:\n{report}");
    // Every phase that lasts long enough to aim at (20 ms) must have been hit; the shorter ones
    // (writing the tree record, a few milliseconds of unpacking the small example) are aimed
    // at too and reported, and the instants of the output switch and of a publish are each
    // visited by the tests below.
    for (phase, w) in &tally.windows {
        if *w >= Duration::from_millis(20) {
            assert!(tally.by_phase.contains_key(phase), "no kill landed in '{phase}' ({w:?} long; a new seed spreads them again):\n{report}");
        }
    }
    for phase in ["configure", "compile", "install", "cache store", "cache restore", "package", "apt index and signatures", "dnf metadata and signature", "sign in place"] {
        assert!(tally.windows.contains_key(phase), "the runs went through '{phase}':\n{report}");
    }
}

/// The example's packages, revision 1 (`earlier`) then revision 2 (`newer`), published into a repository serving the earlier ones; killed.
fn kill_publishes(base: &Path, earlier: &Path, newer: &Path, rng: &mut Rng, tally: &mut Tally) {
    let key = Key::new();
    let dir = base.join("publish");
    fs::create_dir_all(&dir).unwrap();
    let repo = dir.join("repo");
    let pkgs = |d: &Path| -> Vec<PathBuf> { visible(d).into_keys().filter(|n| n.ends_with(".deb") || n.ends_with(".rpm")).map(|n| d.join(n)).collect() };
    let (old_pkgs, new_pkgs) = (pkgs(earlier), pkgs(newer));
    let publish = |packages: &[PathBuf]| {
        let mut c = key.command("publish");
        c.args(["--message-format", "json", "--url", "file:///srv/repo", "--repo"]).arg(&repo).args(packages);
        c
    };
    completed(&mut publish(&old_pkgs), "the earlier publish");
    let served = dir.join("served");
    copy_tree(&repo, &served);
    let t = timeline(&mut publish(&new_pkgs), "the uninterrupted publish");
    tally.saw(&t);
    assert!(repo_problems(&repo, "keapack").is_empty());
    let expected = common::repo::shape(&repo);
    let started = Instant::now();
    for i in 0..70 {
        reset(&repo, &served);
        let (aimed, delay) = aim(&t, tally, |_| true, rng);
        let killed = kill_after(&mut publish(&new_pkgs), &aimed, delay);
        println!("publish: aimed at {aimed} ({delay:?}), landed in {}", killed.phase);
        let problems = repo_problems(&repo, "keapack");
        if !problems.is_empty() {
            tally.repaired.push(format!("publish killed in {}: {}", killed.phase, problems.join("; ")));
        }
        assert!(lock_free(&repo.join(".keapack/publish.lock")), "the repository's lock is free after a kill");
        completed(&mut publish(&new_pkgs), &format!("the publish after a kill in {}", killed.phase));
        let problems = repo_problems(&repo, "keapack");
        assert!(problems.is_empty(), "publish killed at {delay:?} in {} (try {i}), then run again: {problems:?}", killed.phase);
        let diff = shape_diff(&common::repo::shape(&repo), &expected);
        assert!(diff.is_empty(), "the publish after a kill in {} leaves what an uninterrupted one does: {diff:?}", killed.phase);
        let left = leftovers(&repo);
        assert!(left.is_empty(), "left behind after a kill in {} and a rerun: {left:?}", killed.phase);
        tally.add("publish (apt and dnf)", &killed);
    }
    real_clients_accept(&repo, &key);
    tally.times.push(("publish, and the real clients".to_string(), started.elapsed()));
}

/// `apt-get update` in a Debian 12 root and `dnf makecache` with `repo_gpgcheck=1` accept the
/// repository.
fn real_clients_accept(repo: &Path, key: &Key) {
    let _ = key;
    let root = common::roots::Root::kea();
    let _ = fs::remove_file(root.join("/etc/apt/sources.list"));
    for e in fs::read_dir(root.join("/etc/apt/sources.list.d")).into_iter().flatten().flatten() {
        fs::remove_file(e.path()).unwrap();
    }
    copy_tree(repo, &root.join("/srv/repo"));
    fs::create_dir_all(root.join("/etc/apt/keyrings")).unwrap();
    fs::copy(repo.join("keapack-archive-keyring.gpg"), root.join("/etc/apt/keyrings/keapack-archive-keyring.gpg")).unwrap();
    let sources = fs::read_dir(repo.join("client")).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "sources")).expect("a .sources file");
    fs::copy(&sources, root.join("/etc/apt/sources.list.d/keapack.sources")).unwrap();
    let out = root.chroot("apt-get").args(["-q", "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "update", "--error-on=any"]).output().unwrap();
    assert!(out.status.success(), "apt-get update refuses the repository:\n{}{}", text(&out.stdout), text(&out.stderr));

    require("dnf", "dnf");
    let dnf_root = tempfile::tempdir().unwrap();
    let repo_file = fs::read_dir(repo.join("client")).unwrap().flatten().map(|e| e.path()).find(|p| p.extension().is_some_and(|x| x == "repo")).expect("a .repo file");
    let text_ = fs::read_to_string(&repo_file).unwrap().replace("file:///srv/repo", &format!("file://{}", repo.display()));
    assert!(text_.contains("repo_gpgcheck=1"), "{text_}");
    fs::create_dir_all(dnf_root.path().join("etc/yum.repos.d")).unwrap();
    fs::write(dnf_root.path().join("etc/yum.repos.d/keapack.repo"), &text_).unwrap();
    let out = Command::new("dnf")
        .args(["-y", "--refresh", "--releasever", "9", "--installroot"])
        .arg(dnf_root.path())
        .arg(format!("--setopt=reposdir={}", dnf_root.path().join("etc/yum.repos.d").display()))
        .arg(format!("--setopt=cachedir={}", dnf_root.path().join("var/cache/dnf").display()))
        .arg("makecache")
        .output()
        .unwrap();
    assert!(out.status.success(), "dnf makecache refuses the repository:\n{}{}", text(&out.stdout), text(&out.stderr));
}

/// `keapack sign` of the RPMs in an output directory, killed.
fn kill_signs(base: &Path, earlier: &Path, rng: &mut Rng, tally: &mut Tally) {
    let key = Key::new();
    let dir = base.join("sign");
    let out = dir.join("dist");
    let sign = || {
        let mut c = key.command("sign");
        c.args(["--message-format", "json"]).args(visible(earlier).into_keys().filter(|n| n.ends_with(".rpm")).map(|n| out.join(n)));
        c
    };
    reset(&out, earlier);
    let before = visible(&out);
    let t = timeline(&mut sign(), "the uninterrupted sign");
    tally.saw(&t);
    let after = visible(&out);
    sums_verify(&out);
    let started = Instant::now();
    for i in 0..30 {
        reset(&out, earlier);
        let (aimed, delay) = aim(&t, tally, |_| true, rng);
        let killed = kill_after(&mut sign(), &aimed, delay);
        println!("sign: aimed at {aimed} ({delay:?}), landed in {}", killed.phase);
        let now = visible(&out);
        let problems: Vec<String> = sums_problem(&out).into_iter().collect();
        assert!(problems.is_empty(), "sign killed at {delay:?} in {} (try {i}): {problems:?}", killed.phase);
        assert_eq!(now.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
        for (name, bytes) in &now {
            // An RPM is the unsigned one or a signed one; everything else is as it was.
            // An RPM is the unsigned one or a whole signed one (its digests hold); everything
            // else is as it was (SHA256SUMS is checked above).
            let whole_rpm = || name.ends_with(".rpm") && Command::new("rpm").args(["-K", "--nosignature"]).arg(out.join(name)).output().unwrap().status.success();
            assert!(before.get(name) == Some(bytes) || name == "SHA256SUMS" || whole_rpm(), "{name} after a kill of sign in {}", killed.phase);
        }
        completed(&mut sign(), "sign after a kill");
        sums_verify(&out);
        assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
        let rpm = visible(&out).into_keys().find(|n| n.ends_with(".rpm")).unwrap();
        let checked = Command::new("rpm").args(["-K", "--nosignature"]).arg(out.join(&rpm)).output().unwrap();
        assert!(checked.status.success(), "rpm -K after a kill in {}: {}", killed.phase, text(&checked.stdout));
        tally.add("sign", &killed);
    }
    tally.times.push(("sign".to_string(), started.elapsed()));
}

/// The kill library (`tests/faults/killat.c`), built for this run.
fn killat() -> PathBuf {
    require("cc", "gcc");
    let so = Path::new(env!("CARGO_TARGET_TMPDIR")).join("keapack-killat.so");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faults/killat.c");
    ok(Command::new("cc").args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"]).arg(&so).arg(&src).arg("-ldl").output().unwrap(), "cc killat.c");
    so
}

/// One instant to kill a run at.
#[derive(Debug, Clone)]
enum Point {
    /// Before its `n`th fsync or file creation under the watched directory (the library).
    Lib { kind: &'static str, n: usize },
    /// Before the `n`th call of the rename-family `syscall` (strace's fault injection: the
    /// renames of keapack's temporary files are made without the C library, which a preloaded
    /// library cannot see); `path` is what it renamed, for the report.
    Strace { syscall: String, n: usize, path: String },
}

impl std::fmt::Display for Point {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Point::Lib { kind, n } => write!(f, "before {kind} {n}"),
            Point::Strace { syscall, n, path } => write!(f, "before {syscall} {n} ({path})"),
        }
    }
}

/// `cmd` run under strace with `args` before it (strace passes the environment on).
fn under_strace(cmd: &Command, args: &[String]) -> Command {
    require("strace", "strace");
    let mut c = Command::new("strace");
    c.args(["-qq", "-e", "signal=none"]).args(args).arg("--").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// Every instant of a run of `cmd()` (each from the state `reset` makes) that writes under `under`: each fsync and creation the
/// library counts there, and each rename whose paths lie there.
fn points(so: &Path, cmd: impl Fn() -> Command, under: &Path, reset: impl Fn()) -> Vec<Point> {
    reset();
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = cmd().env("LD_PRELOAD", so).env("KEAPACK_KILL_UNDER", under).env("KEAPACK_KILL_AT", format!("count:{}", file.path().display())).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "the counted run failed:\n{}", text(&out.stderr));
    let counts: BTreeMap<String, usize> = fs::read_to_string(file.path()).unwrap().lines().filter_map(|l| l.split_once(' ')).map(|(k, n)| (k.to_string(), n.parse().unwrap())).collect();
    let mut points = Vec::new();
    for kind in ["fsync", "create"] {
        assert!(counts.get(kind).is_some_and(|n| *n > 0), "the library saw the run's {kind} calls under {}: {counts:?}", under.display());
        points.extend((1..=counts[kind]).map(|n| Point::Lib { kind, n }));
    }
    reset();
    let trace = tempfile::NamedTempFile::new().unwrap();
    let args = vec!["-o".to_string(), trace.path().display().to_string(), "-e".to_string(), "trace=rename,renameat,renameat2".to_string()];
    let out = under_strace(&cmd(), &args).stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "the traced run failed:\n{}", text(&out.stderr));
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let under = under.display().to_string();
    for line in fs::read_to_string(trace.path()).unwrap().lines() {
        let Some((syscall, rest)) = line.split_once('(') else { continue };
        if !["rename", "renameat", "renameat2"].contains(&syscall) {
            continue;
        }
        let n = seen.entry(syscall.to_string()).or_default();
        *n += 1;
        if rest.contains(&under) {
            let path = rest.rsplit(&format!("{under}/")).next().unwrap_or("").split('"').next().unwrap_or("").to_string();
            points.push(Point::Strace { syscall: syscall.to_string(), n: *n, path });
        }
    }
    assert!(points.iter().any(|p| matches!(p, Point::Strace { .. })), "strace saw renames under {under}");
    points
}

/// Run `cmd` killed at `point`; it must die of that SIGKILL.
fn killed_at(so: &Path, cmd: Command, under: &Path, point: &Point) {
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = match point {
        Point::Lib { kind, n } => {
            let mut cmd = cmd;
            cmd.env("LD_PRELOAD", so).env("KEAPACK_KILL_UNDER", under).env("KEAPACK_KILL_AT", format!("{kind}:{n}"));
            cmd
        }
        Point::Strace { syscall, n, .. } => under_strace(&cmd, &["-o".into(), "/dev/null".into(), "-e".into(), format!("trace={syscall}"), "-e".into(), format!("inject={syscall}:signal=SIGKILL:when={n}")]),
    };
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGKILL), "killed {point}: {:?}\n{}", out.status, text(&out.stderr));
}

#[test]
#[ignore = "slow: builds the example, then kills the output switch at each of its renames, fsyncs and creations"]
fn every_rename_fsync_and_create_of_the_output_switch() {
    require_build_tools();
    let _turn = turn();
    let so = killat();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let (kea, premium, _, _) = inputs(base);
    let (out, cache, work, earlier_dir) = (base.join("dist"), base.join("cache"), base.join("work"), base.join("earlier"));
    let build_into = |epoch: &str, out: &Path, revision: &str| {
        let mut c = keapack();
        c.env_remove("KEAPACK_NO_CACHE").env("XDG_CACHE_HOME", &cache).env("SOURCE_DATE_EPOCH", epoch);
        c.args(["build", "--quiet", "--revision", revision, "--target", "debian-12-amd64", "--target", "rhel-9-x86_64", "--kea"]).arg(&kea).arg("--premium").arg(&premium).arg("--out").arg(out).arg("--work").arg(&work);
        c
    };
    let build = |epoch: &str| build_into(epoch, &out, "1");
    completed(&mut build("1700000000"), "the earlier build");
    copy_tree(&out, &earlier_dir);
    let earlier = visible(&out);
    completed(&mut build("1700000500"), "the newer build");
    let newer = visible(&out);
    let mut report = String::new();

    // The output switch: every instant a build writes under --out.
    let all = points(&so, || build("1700000500"), &out, || reset(&out, &earlier_dir));
    assert_eq!(visible(&out), newer, "the library and strace change nothing when they only count");
    report += &format!("build into --out: {} instants: {}\n", all.len(), all.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "));
    for point in &all {
        reset(&out, &earlier_dir);
        killed_at(&so, build("1700000500"), &out, point);
        let problems = out_problems(&out, &earlier, &newer);
        assert!(problems.is_empty(), "build killed {point} under --out:\n{}", problems.join("\n"));
        completed(&mut build("1700000500"), &format!("the build after a kill {point}"));
        assert_eq!(visible(&out), newer, "the build after a kill {point} writes the new set");
        sums_verify(&out);
        assert!(leftovers(&out).is_empty(), "after a kill {point} and a rerun: {:?}", leftovers(&out));
    }
    println!("{report}");
    eprintln!("{report}");
}

#[test]
#[ignore = "slow: kills a publish at each of its renames, fsyncs and creations under the repository"]
fn every_rename_fsync_and_create_of_a_publish() {
    require("createrepo_c", "createrepo-c");
    let so = killat();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    let mut report = String::new();
    // A publish of revision 2 into a repository serving revision 1.
    let key = Key::new();
    let repo = base.join("repo");
    let earlier = [common::made::made_deb(base, 1), common::made::made_rpm(base, 1)];
    let new_pkgs = [common::made::made_deb(base, 2), common::made::made_rpm(base, 2)];
    let publish = |packages: &[PathBuf]| {
        let mut c = key.command("publish");
        c.args(["--url", "file:///srv/repo", "--repo"]).arg(&repo).args(packages);
        c
    };
    completed(&mut publish(&earlier), "the earlier publish");
    let served = base.join("served");
    copy_tree(&repo, &served);
    let all = points(&so, || publish(&new_pkgs), &repo, || reset(&repo, &served));
    assert!(repo_problems(&repo, "keapack").is_empty());
    let expected = common::repo::shape(&repo);
    report += &format!("publish: {} instants: {}\n", all.len(), all.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "));
    let mut inconsistent = Vec::new();
    for point in &all {
        reset(&repo, &served);
        killed_at(&so, publish(&new_pkgs), &repo, point);
        let problems = repo_problems(&repo, "keapack");
        if !problems.is_empty() {
            inconsistent.push(format!("{point}: {}", problems.join("; ")));
        }
        completed(&mut publish(&new_pkgs), &format!("the publish after a kill {point}"));
        let problems = repo_problems(&repo, "keapack");
        assert!(problems.is_empty(), "publish killed {point}, then run again: {problems:?}");
        let diff = shape_diff(&common::repo::shape(&repo), &expected);
        assert!(diff.is_empty(), "the publish after a kill {point} leaves what an uninterrupted one does: {diff:?}");
        assert!(leftovers(&repo).is_empty(), "after a kill {point} and a rerun: {:?}", leftovers(&repo));
    }
    report += &format!("publish states left inconsistent until the next publish repaired them: {}\n", inconsistent.len());
    for i in &inconsistent {
        report += &format!("  {i}\n");
    }
    println!("{report}");
    eprintln!("{report}");
}

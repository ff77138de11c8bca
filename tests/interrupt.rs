//! Interrupted and concurrent runs: SIGINT/SIGTERM stop the build's children, publish nothing,
//! and a rerun succeeds; a second run on the same work directory is refused; a second run into
//! the same output directory waits for the first to publish.

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn start_build(work: &Path, out: &Path) -> Child {
    start_run(work, out, &[], &[])
}

/// The example built for Debian 12 and RHEL 9 with `args` and `env` added, stderr piped.
fn start_run(work: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    keapack()
        .args(["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
        .args(args)
        .envs(env.iter().copied())
        .arg("--kea")
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium")
        .arg(examples().join("kea-premium-2.2.0"))
        .arg("--out")
        .arg(out)
        .arg("--work")
        .arg(work)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Send `sig`, wait (bounded) for the exit, and return (exit code, stderr).
fn interrupt(mut child: Child, sig: i32) -> (Option<i32>, String) {
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(child.id() as i32, sig) };
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "keapack did not stop after the signal");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Processes whose command line mentions `dir` (the build's children run inside it).
fn processes_in(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cwd) = std::fs::read_link(e.path().join("cwd"))
            && cwd.starts_with(dir)
        {
            found.push(format!("{} {}", e.file_name().to_string_lossy(), needle));
        }
    }
    found
}

fn assert_nothing_published(out: &Path) {
    let files: Vec<_> = std::fs::read_dir(out).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
    assert!(files.is_empty(), "the output directory must stay empty: {files:?}");
}

#[test]
#[ignore = "slow: builds the example and interrupts it"]
fn signals_stop_the_build_and_a_rerun_succeeds() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (work, out) = (tmp.path().join("work"), tmp.path().join("dist"));

    // SIGINT during configure; meanwhile a second run on the same work directory is refused.
    let child = start_build(&work, &out);
    let pid = child.id();
    wait_for_step(&work, "configure");
    let second = run(keapack().args(["build", "--target", "debian-12-amd64", "--kea"]).arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0")).arg("--work").arg(&work).arg("--out").arg(&out));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success() && err.contains(&format!("another keapack run (pid {pid})")), "{err}");
    let (code, err) = interrupt(child, libc::SIGINT);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted by SIGINT") && err.contains("nothing was published"), "{err}");
    assert!(processes_in(&work).is_empty(), "children left running: {:?}", processes_in(&work));
    assert_nothing_published(&out);

    // SIGTERM during make.
    let child = start_build(&work, &out);
    wait_for_step(&work, "make");
    let (code, err) = interrupt(child, libc::SIGTERM);
    assert_eq!(code, Some(143), "{err}");
    assert!(processes_in(&work).is_empty(), "children left running: {:?}", processes_in(&work));
    assert_nothing_published(&out);

    // The same command again finishes.
    let child = start_build(&work, &out);
    let res = child.wait_with_output().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    assert!(out.join("kea-premium-hooks_2.2.0-1+deb12_amd64.deb").is_file());
    assert!(out.join("SHA256SUMS").is_file());
}

/// A build of revision 2 over `out`, stopped at `point` by KEAPACK_PAUSE_AT or KEAPACK_FAIL_AT.
fn start_revision_2(work: &Path, out: &Path, hook: &str, point: &str) -> Child {
    start_run(work, out, &["--revision", "2"], &[(hook, point)])
}

/// Read the child's stderr until it says it paused; returns what it said.
fn wait_for_pause(child: &mut Child) -> String {
    wait_for_line(child, "paused at")
}

/// Read the child's stderr until a line contains `needle`; returns what it said up to there.
fn wait_for_line(child: &mut Child, needle: &str) -> String {
    use std::io::BufRead;
    let mut said = String::new();
    let mut lines = std::io::BufReader::new(child.stderr.as_mut().unwrap()).lines();
    loop {
        let line = lines.next().unwrap_or_else(|| panic!("keapack ended before it said {needle:?}:\n{said}")).unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains(needle) {
            return said;
        }
    }
}

#[test]
#[ignore = "slow: builds the example and interrupts it"]
fn a_failed_or_interrupted_set_leaves_the_earlier_outputs_verifying() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (work, out) = (tmp.path().join("work"), tmp.path().join("dist"));

    // The earlier set: revision 1 of both targets, plus a file of another run.
    let res = start_build(&work, &out).wait_with_output().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    std::fs::write(out.join("other_1.0-1_amd64.deb"), b"another run's package").unwrap();
    let before = listing(&out);
    sums_verify(&out);

    // A failure between the two targets (the .deb is written, the .rpm is next).
    let res = start_revision_2(&work, &out, "KEAPACK_FAIL_AT", "output-2").wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "the injected failure must fail the run");
    assert!(err.contains("stopped at output-2") && err.contains(&format!("nothing was published into {}", out.display())), "{err}");
    assert_eq!(listing(&out), before, "a failed run changes nothing in --out");
    sums_verify(&out);

    // SIGTERM and SIGINT while packaging: after the first package, and just before publishing.
    for (sig, code, point) in [(libc::SIGTERM, 143, "output-2"), (libc::SIGINT, 130, "publish")] {
        let mut child = start_revision_2(&work, &out, "KEAPACK_PAUSE_AT", point);
        wait_for_pause(&mut child);
        let (got, err) = interrupt(child, sig);
        assert_eq!(got, Some(code), "{err}");
        assert!(err.contains("nothing was published"), "{err}");
        assert_eq!(listing(&out), before, "an interrupted run at {point} changes nothing in --out");
        sums_verify(&out);
    }

    // The same run without a stop publishes revision 2 beside revision 1, and the sums cover all.
    let res = start_revision_2(&work, &out, "KEAPACK_UNUSED", "").wait_with_output().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let names: Vec<String> = listing(&out).into_iter().map(|(n, _)| n).collect();
    for n in ["kea-premium-hooks_2.2.0-1+deb12_amd64.deb", "kea-premium-hooks_2.2.0-2+deb12_amd64.deb", "kea-premium-hooks-2.2.0-2.el9.x86_64.rpm", "other_1.0-1_amd64.deb"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with('.') && n != ".keapack-out.lock"), "no staging directory left: {names:?}");
    sums_verify(&out);
}

/// `keapack demo` for Debian 12 in `work` into `out`, stamped `epoch`, with `env` added, stderr piped.
fn start_demo(work: &Path, out: &Path, epoch: &str, env: &[(&str, &str)]) -> Child {
    keapack()
        .args(["demo", "--quiet", "--target", "debian-12-amd64", "--work"])
        .arg(work)
        .arg("--out")
        .arg(out)
        .env("SOURCE_DATE_EPOCH", epoch)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
#[ignore = "slow: builds the example"]
fn a_second_run_into_the_same_out_waits_for_the_first() {
    // Two runs with their own work directories and different epochs (so different bytes under
    // the same file names) into one --out: unlocked, SHA256SUMS could list one run's .deb
    // while the other's lies there.
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let deb = out.join("kea-premium-hooks_2.2.0-1+deb12_amd64.deb");

    // The first stops right before it publishes, holding the output directory's lock.
    let mut first = start_demo(&tmp.path().join("work-a"), &out, "1700000000", &[("KEAPACK_PAUSE_AT", "publish")]);
    wait_for_pause(&mut first);
    let mut second = start_demo(&tmp.path().join("work-b"), &out, "1700000999", &[]);
    let said = wait_for_line(&mut second, "is publishing into");
    assert!(said.contains(&format!("another keapack run (pid {}) is publishing into {}", first.id(), out.display())) && said.contains("waits"), "{said}");
    assert!(second.try_wait().unwrap().is_none(), "the second run waits while the first holds --out");
    assert!(!deb.exists() && !out.join("SHA256SUMS").exists(), "nothing is published while both are stopped");

    // The first, stopped, publishes nothing and lets go; the second then publishes its own set.
    let (code, err) = interrupt(first, libc::SIGINT);
    assert_eq!(code, Some(130), "{err}");
    let res = wait_child(second);
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    sums_verify(&out);
    let record = std::fs::read_to_string(out.join("kea-premium-hooks_2.2.0-1.keapack-buildinfo.json")).unwrap();
    assert!(record.contains("1700000999"), "the set in place is the second run's: {record}");
    assert!(deb.is_file());
}

//! The command line for machines and shells: `--message-format json` events (a failed step's
//! log tail, a dry run, lint), exit codes, shell completions, man pages, help that lists the
//! accepted values, and `keapack targets`.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output};

/// Every line of standard output as a JSON event; fails on a line that is not one.
fn events(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("not a JSON event ({e}): {l}")))
        .inspect(|e| assert_eq!(e["version"], 1, "{e}"))
        .collect()
}

#[test]
#[ignore = "slow: runs autoreconf on the example"]
fn a_failed_step_is_an_error_event_with_its_log_tail_then_run_finished() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = (tmp.path().join("kea-2.2.0"), tmp.path().join("kea-premium-2.2.0"));
    copy_tree(&examples().join("kea-2.2.0"), &kea);
    copy_tree(&examples().join("kea-premium-2.2.0"), &premium);
    let ac = kea.join("configure.ac");
    let text = std::fs::read_to_string(&ac).unwrap();
    std::fs::write(&ac, format!("{text}\nm4_fatal([keapack probe: this tree cannot be configured])\n")).unwrap();
    let out = run(keapack()
        .args(["build", "--message-format", "json", "--target", "debian-12-amd64"])
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(tmp.path().join("dist"))
        .arg("--work").arg(tmp.path().join("work")));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let ev = events(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("keapack: error: step 'autoreconf -if' failed"), "the human error stays on stderr: {stderr}");
    let started = ev.iter().find(|e| e["event"] == "step-started" && e["step"] == "autoreconf -if").expect("autoreconf's step-started");
    let error = ev.iter().find(|e| e["event"] == "error").expect("an error event");
    assert_eq!(error["step"], "autoreconf -if");
    assert_eq!(error["log"], started["log"]);
    let log = std::fs::read_to_string(error["log"].as_str().unwrap()).unwrap();
    let tail: Vec<&str> = error["log_tail"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(!tail.is_empty() && tail.iter().any(|l| l.contains("keapack probe: this tree cannot be configured")), "{tail:?}");
    let log_lines: Vec<&str> = log.lines().collect();
    assert_eq!(&log_lines[log_lines.len() - tail.len()..], &tail[..], "the tail is the log's last lines");
    assert!(error["message"].as_str().unwrap().contains("step 'autoreconf -if' failed"), "{error}");
    assert!(!ev.iter().any(|e| e["event"] == "step-finished" && e["step"] == "autoreconf -if"));
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "run-finished");
    assert_eq!((last["command"].as_str(), last["status"].as_str(), last["exit_code"].as_u64()), (Some("build"), Some("failure"), Some(1)));
    assert_eq!(last["outputs"], serde_json::json!([]));
}

#[test]
fn a_dry_run_prints_its_plan_on_stderr_and_only_events_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(keapack().args(["demo", "--dry-run", "--message-format", "json", "-t", "debian-12-amd64"]).arg("--out").arg(tmp.path().join("dist")).arg("--work").arg(tmp.path().join("work")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ev = events(&out);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!((ev[0]["event"].as_str(), ev[0]["status"].as_str(), ev[0]["command"].as_str()), (Some("run-finished"), Some("success"), Some("demo")));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keapack build plan (dry run"), "{}", String::from_utf8_lossy(&out.stderr));
    // Human format: the plan on stdout, as always.
    let human = run(keapack().args(["demo", "--dry-run", "-t", "debian-12-amd64"]).arg("--out").arg(tmp.path().join("dist")).arg("--work").arg(tmp.path().join("work")));
    assert!(String::from_utf8_lossy(&human.stdout).starts_with("keapack build plan (dry run"));
}

#[test]
fn exit_codes_follow_one_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let not_a_package = tmp.path().join("notes.deb");
    std::fs::write(&not_a_package, "hello").unwrap();
    // lint could not check: 2, with an error event naming the file.
    let out = run(keapack().args(["lint", "--message-format", "json"]).arg(&not_a_package));
    assert_eq!(out.status.code(), Some(2));
    let ev = events(&out);
    let error = ev.iter().find(|e| e["event"] == "error").unwrap();
    assert_eq!(error["file"], not_a_package.display().to_string());
    assert!(error["message"].as_str().unwrap().contains("neither a .deb nor an .rpm"), "{error}");
    assert_eq!((ev.last().unwrap()["status"].as_str(), ev.last().unwrap()["exit_code"].as_u64()), (Some("failure"), Some(2)));
    // A refused command line: 2.
    assert_eq!(run(keapack().args(["build", "--no-such-option"])).status.code(), Some(2));
    assert_eq!(run(keapack().args(["demo", "--split", "halves"])).status.code(), Some(2));
    // A value keapack checks itself (an unknown target) is a usage mistake too: 2.
    let out = run(keapack().args(["demo", "--dry-run", "-t", "plan9-4-amd64"]).arg("--out").arg(tmp.path().join("d")).arg("--work").arg(tmp.path().join("w")));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown target 'plan9-4-amd64'"));
}

#[test]
fn help_lists_profiles_architectures_splits_runtimes_and_build_systems() {
    let help = stdout(keapack().args(["build", "--help"]));
    for p in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/profiles")).unwrap() {
        let id = p.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned();
        assert!(help.contains(&format!("{id} (")), "--target's help lacks {id}:\n{help}");
    }
    for v in ["debian-12 (amd64, arm64)", "rhel-9 (aarch64, x86_64)", "bundle", "per-hook", "distribution", "isc", "autotools", "meson", "[possible values: auto, host]"] {
        assert!(help.contains(v), "build --help lacks {v}:\n{help}");
    }
}

#[test]
fn completions_for_each_shell_name_the_subcommands_and_values() {
    require("bash", "bash");
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout(keapack().args(["completions", shell]));
        for word in ["build", "demo", "lint", "targets", "message-format", "per-hook"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        let file = tmp.path().join(shell);
        std::fs::write(&file, &script).unwrap();
        if shell == "bash" {
            let check = run(Command::new("bash").arg("-n").arg(&file));
            assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
            // Completing `keapack build --split ` offers the splits.
            let probe = format!(". '{}'; COMP_WORDS=(keapack build --split ''); COMP_CWORD=3; COMP_LINE='keapack build --split '; COMP_POINT=${{#COMP_LINE}}; _keapack keapack '' --split; printf '%s\\n' \"${{COMPREPLY[@]}}\"", file.display());
            let offered = stdout(Command::new("bash").arg("-c").arg(probe));
            assert_eq!(offered.lines().collect::<Vec<_>>(), ["bundle", "per-hook"], "{offered}");
        }
    }
    assert_eq!(run(keapack().args(["completions", "tcsh"])).status.code(), Some(2));
}

#[test]
fn man_writes_a_page_per_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let listed = stdout(keapack().args(["man", "--out"]).arg(&dir));
    let names: std::collections::BTreeSet<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    // One page for keapack, one per subcommand `keapack --help` lists, one per cache subcommand.
    let help = stdout(keapack().arg("--help"));
    let commands = help.split("Commands:\n").nth(1).unwrap().split("\n\n").next().unwrap();
    let mut expected: std::collections::BTreeSet<String> = commands.lines().map(|l| l.split_whitespace().next().unwrap()).filter(|c| *c != "help").map(|c| format!("keapack-{c}.1")).collect();
    expected.extend(["keapack.1", "keapack-cache-list.1", "keapack-cache-prune.1"].map(String::from));
    assert!(expected.contains("keapack-build.1") && expected.contains("keapack-targets.1"), "{expected:?}");
    assert_eq!(names, expected);
    assert_eq!(listed.lines().count(), names.len());
    let build = std::fs::read_to_string(dir.join("keapack-build.1")).unwrap();
    assert!(build.contains(".TH keapack-build 1") && build.contains("debian\\-12 (amd64, arm64)") && build.contains("per\\-hook"), "{build}");
}

#[test]
fn targets_lists_every_profile_architecture_and_json_groups_them_by_environment() {
    let human = stdout(keapack().arg("targets"));
    assert!(human.contains("debian-12-amd64") && human.contains("debian-12-x86_64") && human.contains("2.2.0"), "{human}");
    let all: serde_json::Value = serde_json::from_str(&stdout(keapack().args(["targets", "--json"]))).unwrap();
    assert_eq!(all["version"], 1);
    let targets = all["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 32, "16 profiles, two architectures each");
    let envs = all["environments"].as_array().unwrap();
    for t in targets {
        let env = envs.iter().find(|e| e["name"] == t["environment"]).unwrap();
        assert!(env["target-list"].as_array().unwrap().contains(&t["target"]));
        assert_eq!(env["machine"], t["machine"]);
        assert_eq!(env["os-id"], t["os-id"]);
    }
    let out = run(keapack().args(["targets", "--json", "-t", "nope-1-amd64"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown target 'nope-1-amd64'"));
}

//! The command line as a new user meets it: a closed standard output, one exit-code scheme,
//! `run-finished` last with `--message-format json`, the `targets` listing, `lint` of a
//! directory, one spelling per option, and the man pages.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

/// Exit code of a tool that stopped because its reader closed standard output (128 + SIGPIPE).
const STDOUT_CLOSED: i32 = 141;

/// Run `cmd` with standard output a pipe whose reader reads one line and closes it; return the
/// exit code and standard error.
fn read_one_line_and_close(cmd: &mut Command) -> (Option<i32>, String) {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("keapack runs");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(!line.is_empty(), "the command printed nothing before the reader closed");
    drop(reader);
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (child.wait().unwrap().code(), err)
}

#[test]
fn a_reader_that_closes_standard_output_stops_keapack_quietly() {
    let cases: [&[&str]; 4] = [&["targets", "--json"], &["targets"], &["guidance"], &["completions", "bash"]];
    for args in cases {
        for _ in 0..10 {
            let (code, err) = read_one_line_and_close(keapack().args(args));
            assert!(err.is_empty(), "keapack {args:?} said something on a closed pipe: {err}");
            assert!(matches!(code, Some(0) | Some(STDOUT_CLOSED)), "keapack {args:?} exited {code:?} on a closed pipe");
        }
    }
}

#[test]
fn a_standard_output_closed_before_the_first_write_exits_141_without_a_word() {
    for args in [&["targets"][..], &["targets", "--json"], &["guidance"], &["man", "--out"]] {
        let tmp = tempfile::tempdir().unwrap();
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = keapack();
        cmd.args(args);
        if args.last() == Some(&"--out") {
            cmd.arg(tmp.path());
        }
        let out = cmd.stdout(writer).output().unwrap();
        assert_eq!(out.status.code(), Some(STDOUT_CLOSED), "keapack {args:?}: {}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "keapack {args:?}: {}", text(&out.stderr));
    }
}

/// A file, for the refusals that need one.
fn a_file(dir: &std::path::Path) -> std::path::PathBuf {
    let f = dir.join("a-file");
    std::fs::write(&f, b"not a directory").unwrap();
    f
}

/// The usage and input mistakes keapack finds itself, after clap: (arguments, what the error names).
fn refusals(tmp: &std::path::Path) -> Vec<(Vec<String>, &'static str)> {
    let file = a_file(tmp).display().to_string();
    let dist = tmp.join("dist").display().to_string();
    let work = tmp.join("work").display().to_string();
    let demo = |extra: &[&str]| -> Vec<String> {
        ["demo", "--dry-run", "--out", &dist, "--work", &work].iter().chain(extra).map(|s| s.to_string()).collect()
    };
    vec![
        (demo(&["--target", "plan9-4-amd64"]), "unknown target 'plan9-4-amd64'"),
        (demo(&["--revision", ""]), "--revision ''"),
        (demo(&["--jobs", "0"]), "--jobs 0"),
        (["demo", "--dry-run", "--out", &file, "--work", &work].iter().map(|s| s.to_string()).collect(), "this is a file, not a directory"),
        (
            ["build", "--dry-run", "--kea", &format!("{}/kea-2.6.5.tar.gz", tmp.display()), "--premium", &file, "--out", &dist, "--work", &work].iter().map(|s| s.to_string()).collect(),
            "cannot find the Kea source",
        ),
        (["guidance", "--target", "plan9-4-amd64"].iter().map(|s| s.to_string()).collect(), "unknown target"),
        (["targets", "--target", "plan9-4-amd64"].iter().map(|s| s.to_string()).collect(), "unknown target"),
        (["cache", "prune"].iter().map(|s| s.to_string()).collect(), "say what to remove"),
        (
            ["publish", "--repo", &format!("{}/repo", tmp.display()), "--keep", "0", "--key-file", &file, &file].iter().map(|s| s.to_string()).collect(),
            "--keep 0",
        ),
    ]
}

#[test]
fn every_usage_or_input_mistake_exits_2_with_its_error_and_clap_s_too() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, says) in refusals(tmp.path()) {
        let out = run(keapack().args(&args));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "keapack {args:?}: {err}");
        assert!(err.contains(says), "keapack {args:?} should say {says:?}: {err}");
        assert!(!tmp.path().join("work").exists() && !tmp.path().join("repo").exists(), "keapack {args:?} did work before refusing");
    }
    // clap's own refusals: an unknown value, a missing argument.
    for args in [&["demo", "--runtime", "foo"][..], &["build"], &["lint"]] {
        let out = run(keapack().args(args));
        assert_eq!(out.status.code(), Some(2), "keapack {args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn a_failure_while_working_exits_1() {
    // A file that is no package, given to sign: the request is well formed, the work fails.
    let tmp = tempfile::tempdir().unwrap();
    let file = a_file(tmp.path());
    let out = run(keapack().args(["sign", "--key-file"]).arg(&file).arg(&file));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn with_json_events_every_failure_ends_with_run_finished_and_its_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cases: Vec<(Vec<String>, i32)> =
        refusals(tmp.path()).into_iter().filter(|(a, _)| ["demo", "build", "publish"].contains(&a[0].as_str())).map(|(a, _)| (a, 2)).collect();
    let file = a_file(tmp.path()).display().to_string();
    cases.push((vec!["lint".into(), file.clone()], 2));
    cases.push((vec!["sign".into(), "--key-file".into(), file.clone(), file], 1));
    for (mut args, code) in cases {
        args.extend(["--message-format".to_string(), "json".to_string()]);
        let out = run(keapack().args(&args));
        assert_eq!(out.status.code(), Some(code), "keapack {args:?}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("keapack {args:?}: not JSON ({e}): {l}"))).collect();
        let last = lines.last().unwrap_or_else(|| panic!("keapack {args:?} printed no event"));
        assert_eq!(last["event"], "run-finished", "keapack {args:?}: {stdout}");
        assert_eq!(last["command"], args[0].as_str(), "{last}");
        assert_eq!(last["status"], "failure", "{last}");
        assert_eq!(last["exit_code"], code, "{last}");
        let error = &lines[lines.len().checked_sub(2).unwrap_or_else(|| panic!("keapack {args:?}: no error event: {stdout}"))];
        assert_eq!(error["event"], "error", "keapack {args:?}: {stdout}");
    }
}

#[test]
fn targets_come_in_numeric_order_and_the_count_is_said_right() {
    let table = stdout(keapack().arg("targets"));
    let pos = |t: &str| table.find(&format!("\n{t} ")).unwrap_or_else(|| panic!("{t} missing:\n{table}"));
    assert!(pos("alma-8-x86_64") < pos("alma-9-x86_64") && pos("alma-9-x86_64") < pos("alma-10-x86_64"), "{table}");
    assert!(pos("rhel-9-x86_64") < pos("rhel-10-x86_64"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&stdout(keapack().args(["targets", "--json"]))).unwrap();
    let listed: Vec<&str> = json["targets"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap()).collect();
    let at = |t: &str| listed.iter().position(|l| *l == t).unwrap();
    assert!(at("alma-8-x86_64") < at("alma-10-x86_64"), "{listed:?}");
    let one = stdout(keapack().args(["targets", "-t", "alma-8-x86_64"]));
    assert!(one.contains("\n1 target in 1 build environment "), "{one}");
    let two = stdout(keapack().args(["targets", "-t", "alma-8-x86_64", "-t", "alma-8-aarch64"]));
    assert!(two.contains("\n2 targets in 2 build environments "), "{two}");
    assert!(table.contains(&format!("\n{} targets in ", listed.len())), "{table}");
}

#[test]
fn lint_takes_a_directory_and_checks_each_deb_and_rpm_in_it_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    std::fs::create_dir_all(dist.join("sub.deb")).unwrap();
    for f in ["b.deb", "a.rpm", "c.deb", "SHA256SUMS", "notes.txt"] {
        std::fs::write(dist.join(f), b"not a package").unwrap();
    }
    std::fs::write(dist.join("sub.deb/d.deb"), b"not a package").unwrap();
    let out = run(keapack().args(["lint", "--message-format", "json"]).arg(&dist));
    // The files are no packages: each is named as not checked, so 2; the directory is no error.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let steps: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["event"] == "step-started")
        .map(|e| e["step"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<String> = ["a.rpm", "b.deb", "c.deb"].iter().map(|f| format!("lint {}", dist.join(f).display())).collect();
    assert_eq!(steps, want);
    assert!(!text(&out.stderr).contains("Is a directory"), "{}", text(&out.stderr));

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run(keapack().arg("lint").arg(&empty));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("holds no .deb or .rpm file"), "{}", text(&out.stderr));
}

#[test]
fn message_format_is_taken_only_by_the_commands_that_report_events() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [&["targets"][..], &["guidance"], &["cache", "list"], &["completions", "bash"], &["man", "--out", "m"]] {
        let out = run(keapack().current_dir(tmp.path()).args(args).args(["--message-format", "json"]));
        assert_eq!(out.status.code(), Some(2), "keapack {args:?} --message-format json: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("unexpected argument '--message-format'"), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty() && !tmp.path().join("m").exists(), "keapack {args:?} ran");
    }
    // Before the subcommand it would apply to any: refused too.
    assert_eq!(run(keapack().args(["--message-format", "json", "targets"])).status.code(), Some(2));
    // Where it is taken, each command's help says so.
    for cmd in ["build", "demo", "lint", "publish", "sign"] {
        assert!(stdout(keapack().args([cmd, "--help"])).contains("--message-format"), "{cmd} --help");
    }
}

#[test]
fn one_spelling_per_option_with_the_old_ones_kept_hidden() {
    let isc = stdout(keapack().args(["guidance", "--runtime", "isc", "host_cmds"]));
    let distribution = stdout(keapack().args(["guidance", "--runtime", "distribution", "host_cmds"]));
    assert_ne!(isc, distribution, "--runtime changes the guidance");
    assert_eq!(stdout(keapack().args(["guidance", "host_cmds"])), distribution, "distribution is the default");
    assert_eq!(stdout(keapack().args(["guidance", "--isc", "host_cmds"])), isc, "--isc is --runtime isc");
    assert_eq!(run(keapack().args(["guidance", "--isc", "--runtime", "distribution"])).status.code(), Some(2));
    let help = stdout(keapack().args(["guidance", "--help"]));
    assert!(help.contains("--runtime <RUNTIME>") && !help.contains("--isc"), "{help}");

    let help = stdout(keapack().args(["lint", "--help"]));
    assert!(help.contains("--key-file <KEY_FILE>") && !help.contains("--key <"), "{help}");
    assert!(stdout(keapack().args(["publish", "--help"])).contains("--key-file <KEY_FILE>"));
    // Both spellings parse: the refusal is lint's own (not a package), not clap's.
    let tmp = tempfile::tempdir().unwrap();
    let file = a_file(tmp.path());
    for flag in ["--key-file", "--key"] {
        let out = run(keapack().args(["lint", "--signed", flag]).arg(&file).arg(&file));
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("not checked") && !text(&out.stderr).contains("unexpected argument"), "{flag}: {}", text(&out.stderr));
    }
}

/// Every `KEAPACK_*` variable the source reads with `env::var` or `var_os`.
fn keapack_variables_read() -> std::collections::BTreeSet<String> {
    fn walk(dir: &std::path::Path, found: &mut std::collections::BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, found);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for call in ["var(\"KEAPACK_", "var_os(\"KEAPACK_"] {
                    for (i, _) in text.match_indices(call) {
                        let name: String = text[i + call.len() - "KEAPACK_".len()..].chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
                        found.insert(name);
                    }
                }
            }
        }
    }
    let mut found = std::collections::BTreeSet::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
    found
}

#[test]
fn every_man_page_has_exit_status_environment_files_and_examples_and_groff_warns_of_nothing() {
    require("groff", "groff-base");
    let tmp = tempfile::tempdir().unwrap();
    let listed = stdout(keapack().arg("man").arg("--out").arg(tmp.path()));
    let pages: Vec<&str> = listed.lines().collect();
    assert!(pages.len() >= 10 && pages.iter().any(|p| p.ends_with("/keapack-build.1")), "{listed}");
    let vars = keapack_variables_read();
    assert!(vars.contains("KEAPACK_NO_CACHE") && vars.contains("KEAPACK_CACHE_MAX"), "the source scan finds the variables: {vars:?}");
    for page in pages {
        let roff = std::fs::read_to_string(page).unwrap();
        assert!(roff.is_ascii(), "{page} has non-ASCII characters");
        for section in [".SH \"EXIT STATUS\"", ".SH \"ENVIRONMENT\"", ".SH \"FILES\"", ".SH EXAMPLES"] {
            assert!(roff.contains(section), "{page} lacks {section}");
        }
        for v in &vars {
            assert!(roff.contains(v.as_str()), "{page} does not name {v}");
        }
        assert!(roff.contains("\\fB2\\fR") && roff.contains("\\fB141\\fR"), "{page}: exit codes");
        let out = run(Command::new("groff").args(["-ww", "-man", "-z", "-Tutf8"]).arg(page));
        assert!(out.status.success() && out.stderr.is_empty(), "groff warns about {page}: {}", text(&out.stderr));
    }
    let build = std::fs::read_to_string(tmp.path().join("keapack-build.1")).unwrap();
    assert!(build.contains("keapack build \\-\\-kea kea\\-2.6.5.tar.gz"), "the build page's examples are the build's");
}

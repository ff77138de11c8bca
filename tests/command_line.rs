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

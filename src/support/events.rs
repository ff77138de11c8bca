//! Machine-readable events (`--message-format json`): one JSON object per line on standard
//! output for each thing a run does — a step started or finished, a warning, an error, an output
//! written, the run finished — so CI can follow a run without parsing its human messages.
//!
//! Every command that runs steps or writes files (`build`, `demo`, `lint`, `publish`) sends
//! the same events through its `listener::Listener`; the human form (the default) drops them.
//! Every object carries `"version": VERSION` and `"event": "<kind>"`; a consumer ignores fields it
//! does not know, and a change to an existing field's meaning raises `VERSION`.
//!
//! With JSON on, standard output holds only event lines: the human notes, warnings and errors
//! still go to standard error (unchanged), and what a command would print on standard output for
//! a person (package paths, the `--dry-run` plan, lint findings) goes to standard error too.

use serde::Serialize;
use std::path::PathBuf;

/// The version of the event format: every event line carries it.
pub(crate) const VERSION: u32 = 1;

/// One thing that happened in a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub(crate) enum Event {
    /// A step (an external command or an in-process stage) began.
    StepStarted {
        step: String,
        /// The step's log file; `null` for in-process steps, which have none.
        log: Option<PathBuf>,
    },
    /// A step ended successfully.
    StepFinished {
        step: String,
        /// Wall-clock seconds.
        duration: f64,
        log: Option<PathBuf>,
    },
    /// Something to look at; the run goes on.
    Warning {
        message: String,
        /// The file the warning is about (a linted package), when there is one.
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<PathBuf>,
    },
    /// Why the run (or one part of it) failed.
    Error {
        message: String,
        /// The step that failed, its log and the log's last lines, when a command failed.
        step: Option<String>,
        log: Option<PathBuf>,
        log_tail: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<PathBuf>,
    },
    /// A file appeared in the output directory (or a repository).
    OutputWritten {
        path: PathBuf,
        /// The target id (`debian-12-amd64`); empty for a run's own files.
        target: String,
        /// `package`, `debug-symbols`, `build-record`, `checksums`, or a publisher's own kinds.
        kind: String,
        sha256: String,
        size: u64,
    },
    /// A target's packages were installed and loaded by the Kea they are for (`verified`), or
    /// could not be verified here (`not-verified` says why): the build record's entry.
    LoadVerified {
        /// The record's entry (`run::verify::Verification`), as JSON.
        #[serde(flatten)]
        verification: serde_json::Map<String, serde_json::Value>,
    },
    /// A file a run removed (an old package `publish --keep` dropped from a repository).
    OutputRemoved {
        path: PathBuf,
        /// What it was, as its `output-written` said (`repository-package`).
        kind: String,
    },
    /// The last event of a run.
    RunFinished {
        command: String,
        /// `success`, `failure` or `interrupted`.
        status: String,
        /// The process's exit code.
        exit_code: u8,
        /// Every output written, in the order of the `output-written` events.
        outputs: Vec<PathBuf>,
    },
}

/// An event as written: the version first, then the event's own fields.
#[derive(Serialize)]
struct Line<'a> {
    version: u32,
    #[serde(flatten)]
    event: &'a Event,
}

/// The event as its line, without the newline.
pub(crate) fn to_line(event: &Event) -> String {
    serde_json::to_string(&Line { version: VERSION, event }).expect("events serialise")
}

/// The error event for a failed run: a failed command's step, log and log tail when the error
/// (or one of its causes) is one.
pub(crate) fn error_event(e: &anyhow::Error, message: &str) -> Event {
    let failed = e.chain().find_map(|c| c.downcast_ref::<crate::support::runner::StepFailed>());
    Event::Error {
        message: message.to_string(),
        step: failed.map(|f| f.title.clone()),
        log: failed.map(|f| f.log.clone()),
        log_tail: failed.map(|f| f.tail.clone()).unwrap_or_default(),
        file: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_is_one_line_with_the_version_and_its_kind() {
        let line = to_line(&Event::StepFinished { step: "make".into(), duration: 1.5, log: Some("/w/logs/03-make.log".into()) });
        assert_eq!(line, r#"{"version":1,"event":"step-finished","step":"make","duration":1.5,"log":"/w/logs/03-make.log"}"#);
        let line = to_line(&Event::Error { message: "a\nb".into(), step: None, log: None, log_tail: vec![], file: None });
        assert_eq!(line, r#"{"version":1,"event":"error","message":"a\nb","step":null,"log":null,"log_tail":[]}"#);
        let line = to_line(&Event::OutputRemoved { path: "/srv/repo/apt/pool/main/k/kea/a.deb".into(), kind: "repository-package".into() });
        assert_eq!(line, r#"{"version":1,"event":"output-removed","path":"/srv/repo/apt/pool/main/k/kea/a.deb","kind":"repository-package"}"#);
        let line = to_line(&Event::RunFinished { command: "build".into(), status: "success".into(), exit_code: 0, outputs: vec!["d/x.deb".into()] });
        assert_eq!(line, r#"{"version":1,"event":"run-finished","command":"build","status":"success","exit_code":0,"outputs":["d/x.deb"]}"#);
    }

    #[test]
    fn a_failed_step_gives_its_log_and_tail_through_context() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = crate::support::runner::Runner::new(tmp.path(), Vec::new(), crate::support::listener::Human::channel(true)).unwrap();
        let e = r.run("fail", "fail", std::process::Command::new("sh").args(["-c", "echo one; echo two; exit 4"])).unwrap_err();
        let e = e.context("the build failed");
        let Event::Error { step, log, log_tail, .. } = error_event(&e, "m") else { panic!() };
        assert_eq!(step.as_deref(), Some("fail"));
        assert_eq!(log, Some(tmp.path().join("01-fail.log")));
        assert_eq!(log_tail, ["one", "two"]);
    }
}

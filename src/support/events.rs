//! Machine-readable events (`--message-format json`): one JSON object per line on standard
//! output for each thing a run does — a step started or finished, a warning, an error, an output
//! written, the run finished — so CI can follow a run without parsing its human messages.
//!
//! Every command that runs steps or writes files (`build`, `demo`, `lint`, `publish`) emits
//! the same events through [`emit`]; with the human format (the default) [`emit`] does nothing.
//! Every object carries `"version": VERSION` and `"event": "<kind>"`; a consumer ignores fields it
//! does not know, and a change to an existing field's meaning raises `VERSION`.
//!
//! With JSON on, standard output holds only event lines: the human notes, warnings and errors
//! still go to standard error (unchanged), and what a command would print on standard output for
//! a person (package paths, the `--dry-run` plan, lint findings) goes to standard error too.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The version of the event format: every event line carries it.
pub const VERSION: u32 = 1;

/// `--message-format`: how a command reports what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    /// Sentences for a person on standard error (and reports on standard output).
    #[default]
    Human,
    /// One JSON event per line on standard output; the sentences on standard error.
    Json,
}

/// One thing that happened in a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
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

static JSON: AtomicBool = AtomicBool::new(false);

/// Where events go: standard output, or a buffer in tests.
static SINK: Mutex<Option<Box<dyn Write + Send>>> = Mutex::new(None);

/// The outputs announced so far, for `run-finished`.
static OUTPUTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Turn JSON events on (`--message-format json`) before a run starts.
pub fn set_format(format: MessageFormat) {
    JSON.store(format == MessageFormat::Json, Ordering::SeqCst);
}

/// The output channel with JSON events on: every message still goes to standard error as a
/// sentence, and a warning is an event too. (An error becomes its event where the run ends,
/// with the failed step's log tail: see [`error_event`].)
struct Channel;

impl crate::support::output::Output for Channel {
    fn note(&self, msg: &str) {
        crate::support::output::Stderr.note(msg);
    }
    fn warning(&self, msg: &str) {
        crate::support::output::Stderr.warning(msg);
        emit(Event::Warning { message: msg.to_string(), file: None });
    }
    fn error(&self, msg: &str) {
        crate::support::output::Stderr.error(msg);
    }
}

/// Set the message format for the whole process, before anything is printed.
pub fn init(format: MessageFormat) {
    set_format(format);
    if format == MessageFormat::Json {
        let _ = crate::support::output::set(Box::new(Channel));
    }
}

/// Are JSON events on?
pub fn json() -> bool {
    JSON.load(Ordering::SeqCst)
}

/// Send events to `sink` instead of standard output (for tests of code that emits events).
pub fn set_sink(sink: Box<dyn Write + Send>) {
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink);
}

/// The event as its line, without the newline.
pub fn to_line(event: &Event) -> String {
    serde_json::to_string(&Line { version: VERSION, event }).expect("events serialise")
}

/// Write `event` as one line, when JSON events are on. A closed standard output does not stop
/// the run: the human messages on standard error still tell what happened.
pub fn emit(event: Event) {
    if !json() {
        return;
    }
    if let Event::OutputWritten { path, .. } = &event {
        OUTPUTS.lock().unwrap_or_else(|e| e.into_inner()).push(path.clone());
    }
    let line = to_line(&event) + "\n";
    let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    let _ = match sink.as_mut() {
        Some(w) => w.write_all(line.as_bytes()).and_then(|_| w.flush()),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(line.as_bytes()).and_then(|_| out.flush())
        }
    };
}

/// Announce a file written: its digest and size are read from the file.
pub fn output_written(path: &Path, target: &str, kind: &str) -> anyhow::Result<()> {
    if json() {
        let sha256 = crate::publish::sha256_file(path)?;
        let size = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?.len();
        emit(Event::OutputWritten { path: path.to_path_buf(), target: target.to_string(), kind: kind.to_string(), sha256, size });
    }
    Ok(())
}

/// Announce a build's outputs: every package with the target and kind its build record gives,
/// then the record and `SHA256SUMS`.
pub fn build_outputs(outcome: &crate::pipeline::BuildOutcome) -> anyhow::Result<()> {
    if !json() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&outcome.record).map_err(|e| anyhow::anyhow!("cannot read the build record {}: {e}", outcome.record.display()))?;
    let record: crate::publish::record::BuildRecordOutputs = serde_json::from_str(&text)?;
    let dir = outcome.record.parent().unwrap_or(Path::new("."));
    for o in record.outputs {
        emit(Event::OutputWritten { path: dir.join(&o.file), target: o.target, kind: o.kind, sha256: o.sha256, size: o.size });
    }
    output_written(&outcome.record, "", "build-record")?;
    output_written(&outcome.sums, "", "checksums")
}

/// The error event for a failed run: a failed command's step, log and log tail when the error
/// (or one of its causes) is one.
pub fn error_event(e: &anyhow::Error, message: &str) -> Event {
    let failed = e.chain().find_map(|c| c.downcast_ref::<crate::support::runner::StepFailed>());
    Event::Error {
        message: message.to_string(),
        step: failed.map(|f| f.title.clone()),
        log: failed.map(|f| f.log.clone()),
        log_tail: failed.map(|f| f.tail.clone()).unwrap_or_default(),
        file: None,
    }
}

/// The last event: `command`'s status from its exit code, and every output announced.
pub fn run_finished(command: &str, exit_code: u8) {
    let status = match exit_code {
        0 => "success",
        c if c > 128 => "interrupted",
        _ => "failure",
    };
    let outputs = std::mem::take(&mut *OUTPUTS.lock().unwrap_or_else(|e| e.into_inner()));
    emit(Event::RunFinished { command: command.to_string(), status: status.to_string(), exit_code, outputs });
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
        let line = to_line(&Event::RunFinished { command: "build".into(), status: "success".into(), exit_code: 0, outputs: vec!["d/x.deb".into()] });
        assert_eq!(line, r#"{"version":1,"event":"run-finished","command":"build","status":"success","exit_code":0,"outputs":["d/x.deb"]}"#);
    }

    #[test]
    fn a_failed_step_gives_its_log_and_tail_through_context() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = crate::support::runner::Runner::new(tmp.path(), Vec::new(), true).unwrap();
        let e = r.run("fail", "fail", std::process::Command::new("sh").args(["-c", "echo one; echo two; exit 4"])).unwrap_err();
        let e = e.context("the build failed");
        let Event::Error { step, log, log_tail, .. } = error_event(&e, "m") else { panic!() };
        assert_eq!(step.as_deref(), Some("fail"));
        assert_eq!(log, Some(tmp.path().join("01-fail.log")));
        assert_eq!(log_tail, ["one", "two"]);
    }
}

//! The one channel for everything the person or the CI job running keapack sees: progress
//! notes, warnings, errors, events (steps, outputs written) and reports (package paths, the
//! `--dry-run` plan, lint findings). The command line makes one [`Listener`] for a command and
//! hands it down as an [`Arc`]; nothing below it prints by other means.
//!
//! Two forms: [`Human`] (sentences on standard error, reports on standard output; events are
//! not shown) and [`Json`] (`--message-format json`: the same sentences on standard error, one
//! JSON event per line on standard output, reports on standard error; see `events`).

use crate::support::events::{self, Event};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where a command's messages, events and reports go.
pub(crate) trait Listener: Send + Sync {
    /// Progress: a step started or finished, what was found (silent with `--quiet`).
    fn note(&self, msg: &str);
    /// Something the user should look at; the run goes on.
    fn warning(&self, msg: &str);
    /// Why the command failed (may span lines: the causes follow the first).
    fn error(&self, msg: &str);
    /// Something that happened, for a program following the run.
    fn event(&self, event: Event);
    /// Whether events are read at all: a caller may skip work (digests) that only feeds them.
    fn wants_events(&self) -> bool;
    /// Where a report for a person goes.
    fn report(&self) -> Box<dyn Write + '_>;
    /// Whether a step may draw a progress spinner on the terminal.
    fn spinner(&self) -> bool;
}

/// The channel as it is handed down.
pub(crate) type Channel = Arc<dyn Listener>;

/// Announce a file written: its digest and size are read from the file, when events are read.
pub(crate) fn output_written(l: &dyn Listener, path: &Path, target: &str, kind: &str) -> anyhow::Result<()> {
    if l.wants_events() {
        let sha256 = crate::support::digest::sha256_file(path)?;
        let size = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?.len();
        l.event(Event::OutputWritten { path: path.to_path_buf(), target: target.to_string(), kind: kind.to_string(), sha256, size });
    }
    Ok(())
}

/// Run the in-process step `title`, told as `step-started` and, when it succeeds,
/// `step-finished` with its duration: what a program following the run sees of the phases that
/// run no command (storing in the cache, publishing into `--out`, writing a repository).
pub(crate) fn step<T>(l: &dyn Listener, title: &str, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    l.event(Event::StepStarted { step: title.to_string(), log: None });
    let start = std::time::Instant::now();
    let out = f()?;
    l.event(Event::StepFinished { step: title.to_string(), duration: start.elapsed().as_secs_f64(), log: None });
    Ok(out)
}

/// Sentences on standard error, one prefix each (`keapack: `, `keapack: warning: `,
/// `keapack: error: `); reports on standard output.
#[derive(Debug, Default)]
pub(crate) struct Human {
    quiet: bool,
}

impl Human {
    /// The human form; `quiet` drops the notes (`--quiet`), never warnings or errors.
    pub fn new(quiet: bool) -> Self {
        Human { quiet }
    }

    /// A channel for a command that shows everything.
    pub fn channel(quiet: bool) -> Channel {
        Arc::new(Human::new(quiet))
    }
}

impl Listener for Human {
    fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("keapack: {msg}");
        }
    }
    fn warning(&self, msg: &str) {
        eprintln!("keapack: warning: {msg}");
    }
    fn error(&self, msg: &str) {
        eprintln!("keapack: error: {msg}");
    }
    fn event(&self, _event: Event) {}
    fn wants_events(&self) -> bool {
        false
    }
    fn report(&self) -> Box<dyn Write + '_> {
        Box::new(crate::support::stdout::Stdout)
    }
    fn spinner(&self) -> bool {
        !self.quiet
    }
}

/// `--message-format json`: the human sentences still go to standard error; every event is a
/// line on the sink (standard output, or a buffer in tests); a warning is an event too; reports
/// go to standard error so that standard output holds only events. The outputs announced are
/// kept for `run-finished`.
pub(crate) struct Json {
    human: Human,
    sink: Mutex<Box<dyn Write + Send>>,
    outputs: Mutex<Vec<PathBuf>>,
}

impl Json {
    /// Events on standard output.
    pub fn new(quiet: bool) -> Self {
        Json::with_sink(quiet, Box::new(std::io::stdout()))
    }

    /// Events on `sink`.
    pub(crate) fn with_sink(quiet: bool, sink: Box<dyn Write + Send>) -> Self {
        Json { human: Human::new(quiet), sink: Mutex::new(sink), outputs: Mutex::new(Vec::new()) }
    }

    /// Every output announced so far, in order, and forget them.
    pub(crate) fn take_outputs(&self) -> Vec<PathBuf> {
        std::mem::take(&mut *self.outputs.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Listener for Json {
    fn note(&self, msg: &str) {
        self.human.note(msg);
    }
    fn warning(&self, msg: &str) {
        self.human.warning(msg);
        self.event(Event::Warning { message: msg.to_string(), file: None });
    }
    fn error(&self, msg: &str) {
        // The error's event is sent where the command ends, with the failed step's log tail.
        self.human.error(msg);
    }
    fn event(&self, event: Event) {
        if let Event::OutputWritten { path, .. } = &event {
            self.outputs.lock().unwrap_or_else(|e| e.into_inner()).push(path.clone());
        }
        let event = match event {
            Event::RunFinished { command, status, exit_code, .. } => Event::RunFinished { command, status, exit_code, outputs: self.take_outputs() },
            e => e,
        };
        let line = events::to_line(&event) + "\n";
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        // A closed standard output cannot be reported on it; the exit code still tells.
        let _ = sink.write_all(line.as_bytes()).and_then(|_| sink.flush());
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn report(&self) -> Box<dyn Write + '_> {
        Box::new(std::io::stderr())
    }
    fn spinner(&self) -> bool {
        self.human.spinner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_sends_warnings_and_outputs_as_events_and_lists_the_outputs_at_the_end() {
        let buf = Buffer::default();
        let l = Json::with_sink(true, Box::new(buf.clone()));
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("a.deb");
        std::fs::write(&f, b"abc").unwrap();
        l.note("not an event");
        l.warning("look");
        output_written(&l, &f, "debian-12-amd64", "package").unwrap();
        l.event(Event::RunFinished { command: "build".into(), status: "success".into(), exit_code: 0, outputs: Vec::new() });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], r#"{"version":1,"event":"warning","message":"look"}"#);
        assert!(lines[1].contains(r#""event":"output-written""#) && lines[1].contains("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "{}", lines[1]);
        assert!(lines[2].contains(r#""event":"run-finished""#) && lines[2].contains(&f.display().to_string()), "{}", lines[2]);
        assert!(l.take_outputs().is_empty(), "run-finished took the outputs");
    }

    #[test]
    fn human_reads_no_events_and_draws_no_spinner_when_quiet() {
        let l = Human::new(true);
        assert!(!l.wants_events() && !l.spinner());
        // Without events, announcing an output reads nothing, not even a missing file.
        output_written(&l, Path::new("/nonexistent/keapack"), "", "package").unwrap();
        assert!(Human::new(false).spinner());
    }
}

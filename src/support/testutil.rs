//! Test support for every layer: running the real tools the tests check packages with, failing
//! with the Debian package to install when one is missing. Compiled only for tests.

use std::process::Command;

/// Run a real tool (TZ=UTC, LC_ALL=C); panics, naming the Debian package to install, if the
/// tool is missing.
fn output(tool: &str, debian_package: &str, args: &[&str]) -> std::process::Output {
    match Command::new(tool).args(args).env("TZ", "UTC").env("LC_ALL", "C").output() {
        Ok(out) => out,
        // A PATH with a directory this user cannot search gives EACCES for a missing tool.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied) => {
            panic!("`{tool}` is not installed: apt-get install {debian_package}")
        }
        Err(e) => panic!("cannot run `{tool}`: {e}"),
    }
}

/// Run a tool that may fail (linters); returns (success, stdout followed by stderr).
pub(crate) fn run_status(tool: &str, debian_package: &str, args: &[&str]) -> (bool, String) {
    let out = output(tool, debian_package, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Run a tool that must succeed; returns its stdout.
pub(crate) fn run(tool: &str, debian_package: &str, args: &[&str]) -> String {
    let out = output(tool, debian_package, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{tool} {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
#[should_panic(expected = "apt-get install no-such-package")]
fn missing_tool_fails_naming_the_package() {
    run("keapack-no-such-tool", "no-such-package", &[]);
}

/// A listener that keeps what it is told: notes, warnings, errors, events and the report text.
#[derive(Default)]
pub(crate) struct Recorder {
    pub lines: std::sync::Mutex<Vec<String>>,
    pub events: std::sync::Mutex<Vec<crate::support::events::Event>>,
    pub report: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Recorder {
    /// The report written so far, as text.
    pub(crate) fn report_text(&self) -> String {
        String::from_utf8(self.report.lock().unwrap().clone()).unwrap()
    }
}

struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl crate::support::listener::Listener for Recorder {
    fn note(&self, msg: &str) {
        self.lines.lock().unwrap().push(format!("note: {msg}"));
    }
    fn warning(&self, msg: &str) {
        self.lines.lock().unwrap().push(format!("warning: {msg}"));
    }
    fn error(&self, msg: &str) {
        self.lines.lock().unwrap().push(format!("error: {msg}"));
    }
    fn event(&self, event: crate::support::events::Event) {
        self.events.lock().unwrap().push(event);
    }
    fn wants_events(&self) -> bool {
        true
    }
    fn report(&self) -> Box<dyn std::io::Write + '_> {
        Box::new(Shared(self.report.clone()))
    }
    fn spinner(&self) -> bool {
        false
    }
}

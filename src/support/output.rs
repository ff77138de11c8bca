//! The one channel through which keapack tells the person running it what is happening: notes
//! (progress), warnings and errors, each line with one prefix (`keapack: `,
//! `keapack: warning: `, `keapack: error: `). Reports a command prints on purpose (package
//! paths on stdout, lint findings) are not messages and do not go through here.
//!
//! Everything goes through the [`Output`] trait, so another front end (a JSON event stream for
//! CI) can replace the human-readable [`Stderr`] with [`set`] before a run starts.

use std::sync::OnceLock;

/// Where notes, warnings and errors go.
pub trait Output: Send + Sync {
    /// Progress: a step started or finished, what was found.
    fn note(&self, msg: &str);
    /// Something the user should look at; the run goes on.
    fn warning(&self, msg: &str);
    /// Why the run failed (may span lines: the causes follow the first).
    fn error(&self, msg: &str);
}

/// Lines on standard error for a person at a terminal or reading a CI log.
pub struct Stderr;

impl Output for Stderr {
    fn note(&self, msg: &str) {
        eprintln!("keapack: {msg}");
    }
    fn warning(&self, msg: &str) {
        eprintln!("keapack: warning: {msg}");
    }
    fn error(&self, msg: &str) {
        eprintln!("keapack: error: {msg}");
    }
}

static CHANNEL: OnceLock<Box<dyn Output>> = OnceLock::new();

/// Send every later message to `out` instead of [`Stderr`]; refused (returning `out`) once a
/// message has been sent or another channel set.
pub fn set(out: Box<dyn Output>) -> Result<(), Box<dyn Output>> {
    CHANNEL.set(out)
}

fn channel() -> &'static dyn Output {
    CHANNEL.get_or_init(|| Box::new(Stderr)).as_ref()
}

/// Print a progress note.
pub fn note(msg: &str) {
    channel().note(msg);
}

/// Print a warning.
pub fn warning(msg: &str) {
    channel().warning(msg);
}

/// Print an error.
pub fn error(msg: &str) {
    channel().error(msg);
}

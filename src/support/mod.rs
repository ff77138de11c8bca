//! Support code every stage may use: the one runner for external commands, interrupt handling,
//! the work-directory lock and the one output channel for notes, warnings and errors.

pub mod format;
pub(crate) mod gzip;
pub mod interrupt;
pub mod output;
pub mod runner;
pub mod text;
pub mod worklock;

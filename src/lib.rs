//! keapack: build ISC Kea with a premium overlay and package its hook libraries as .deb and .rpm.
//!
//! The flow runs one way, one folder per stage: `source` → `build` → `stage` → `plan` → `emit`
//! → `publish`; `check` lints written packages; `run` resolves a request into a plan and takes
//! it through the stages; `cli` is the command line. Every folder may use the folders before it
//! in [`LAYERS`] and never one after it (`tests/layers.rs` holds that).

/// The layers, lowest first: a module may import from its own layer and the layers before it.
pub const LAYERS: &[&str] = &["support", "source", "build", "stage", "plan", "emit", "check", "publish", "run", "cli"];

pub mod support;
pub mod source;
pub mod build;
pub mod stage;
pub mod plan;
pub mod emit;
pub mod check;
pub mod publish;
pub mod run;
pub mod cli;

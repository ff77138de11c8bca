//! keapack: build ISC Kea with a premium overlay and package its hook libraries as .deb and .rpm.
//!
//! The flow runs one way, one folder per stage: `source` → `build` → `stage` → `plan` → `emit`
//! → `publish`. A stage uses earlier stages and `support`, never a later stage. `runplan`
//! resolves and checks a run before any work, `pipeline` (with `demo` and `reproduce`) runs the
//! stages in order; `lint` checks written packages.

pub mod source;
pub mod build;
pub mod stage;
pub mod plan;
pub mod emit;
pub mod publish;
pub mod support;

pub mod demo;
pub mod lint;
pub mod pipeline;
pub mod runplan;
pub mod reproduce;
pub mod cache;
pub mod cli_extra;
pub mod targets;

#[cfg(test)]
mod testutil;

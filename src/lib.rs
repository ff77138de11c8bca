//! keapack: build ISC Kea with a premium overlay and package its hook libraries as .deb and .rpm.
//!
//! The flow runs one way: `source` → `build` → `stage` → `plan` → `emit` → `publish`.

pub mod emit;
pub mod extract;
pub mod spec;
pub mod catalog;
pub mod guidance;
pub mod interrupt;
pub mod profile;
pub mod report;
pub mod runner;
pub mod source;
pub mod version;
pub mod worklock;
pub mod text;
pub mod build;
pub mod buildenv;
pub mod debug;
pub mod demo;
pub mod deps;
pub mod manifest;
pub mod meson;
pub mod pipeline;
pub mod runplan;
pub mod plan;
pub mod publish;
pub mod record;
pub mod reproduce;
pub mod stage;
pub mod elf;
pub mod relation;
pub mod shlibdeps;
pub mod overrides;
pub mod lint;

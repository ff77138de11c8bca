//! keapack: build ISC Kea with a premium overlay and package its hook libraries as .deb and .rpm.
//!
//! The flow runs one way: `source` → `build` → `stage` → `plan` → `emit` → `publish`.

pub mod emit;
pub mod spec;

//! `keapack demo`: the whole flow on the small Kea-like trees and premium overlays in `examples/`,
//! one pair per build system (autotools: `kea-2.2.0` + `kea-premium-2.2.0`; meson:
//! `kea-meson-2.2.0` + `kea-premium-meson-2.2.0`).

use crate::source::BuildSystem;
use anyhow::{Context, Result};
use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};

static EXAMPLES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/examples");

/// The autotools example's Kea and overlay directory names.
pub(crate) const KEA_DIR: &str = "kea-2.2.0";
pub(crate) const PREMIUM_DIR: &str = "kea-premium-2.2.0";
/// The Kea version of both examples.
pub(crate) const EXAMPLE_VERSION: &str = "2.2.0";
/// The meson example's Kea and overlay directory names.
pub(crate) const MESON_KEA_DIR: &str = "kea-meson-2.2.0";
pub(crate) const MESON_PREMIUM_DIR: &str = "kea-premium-meson-2.2.0";

/// The demo's fixed timestamp when SOURCE_DATE_EPOCH is unset (2026-01-01T00:00:00Z), so two
/// demo runs give identical packages.
pub(crate) const DEMO_EPOCH: u64 = 1_767_225_600;

/// The example's Kea and overlay directory names for a build system.
pub(crate) fn example_dirs(system: BuildSystem) -> (&'static str, &'static str) {
    match system {
        BuildSystem::Autotools => (KEA_DIR, PREMIUM_DIR),
        BuildSystem::Meson => (MESON_KEA_DIR, MESON_PREMIUM_DIR),
    }
}

/// Write the bundled examples into `dir`; returns the Kea and overlay directories of `system`'s.
pub(crate) fn write_example(dir: &Path, system: BuildSystem) -> Result<(PathBuf, PathBuf)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    EXAMPLES.extract(dir).with_context(|| format!("cannot write the bundled example into {}", dir.display()))?;
    let (kea, premium) = example_dirs(system);
    Ok((dir.join(kea), dir.join(premium)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_examples_are_embedded_and_identified() {
        let tmp = tempfile::tempdir().unwrap();
        for system in [BuildSystem::Autotools, BuildSystem::Meson] {
            let (kea, premium) = write_example(tmp.path(), system).unwrap();
            let (version, found) = crate::source::identify_kea(&kea, &kea, None, &crate::support::listener::Human::new(true)).unwrap();
            assert_eq!((version.to_string().as_str(), found), (EXAMPLE_VERSION, system));
            assert!(premium.join("premium").join(system.overlay_file()).is_file(), "{system:?}");
        }
    }
}

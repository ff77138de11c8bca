//! `keapack demo`: the whole flow on the small Kea-like tree and premium overlay in `examples/`.

use anyhow::{Context, Result};
use include_dir::{Dir, include_dir};
use std::path::Path;

static EXAMPLES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/examples");

/// The example's Kea and overlay directory names.
pub const KEA_DIR: &str = "kea-2.2.0";
pub const PREMIUM_DIR: &str = "kea-premium-2.2.0";

/// The demo's fixed timestamp when SOURCE_DATE_EPOCH is unset (2026-01-01T00:00:00Z), so two
/// demo runs give identical packages.
pub const DEMO_EPOCH: u64 = 1_767_225_600;

/// Write the bundled example into `dir`; returns the Kea and overlay directories.
pub fn write_example(dir: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    EXAMPLES.extract(dir).with_context(|| format!("cannot write the bundled example into {}", dir.display()))?;
    Ok((dir.join(KEA_DIR), dir.join(PREMIUM_DIR)))
}

/// The whole flow on the bundled example: write it into `<work>/example`, then build it.
pub fn build(req: &crate::pipeline::BuildRequest) -> Result<crate::pipeline::BuildOutcome> {
    let (kea, premium) = write_example(&req.work.join("example"))?;
    crate::pipeline::build(&crate::pipeline::BuildRequest { kea, premium, ..req.clone() })
}

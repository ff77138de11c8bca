//! The work directory's Kea tree, reused for another overlay: a run whose build differs from
//! the tree's last complete build only in the premium overlay (the same Kea, options,
//! environment, tools and scope: the build cache's identity without the overlay) puts the new
//! overlay into that tree (`source::overlay`) instead of unpacking Kea again, and builds there,
//! so that only what the new overlay changes is compiled again.
//!
//! `source/tree.json` says which build the tree holds. It is written when a build in the tree
//! is complete and removed before anything changes the tree, so a run stopped part-way leaves
//! a tree that no later run reuses: that one unpacks afresh. A cache hit leaves such a tree in
//! place, so a later changed overlay still finds it.

use super::pipeline::*;
use crate::build::{self};
use crate::support::runner::Runner;
use crate::run::request::RunPlan;
use crate::source;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use crate::source::overlay;

/// The record, relative to the work directory.
const RECORD: &str = "source/tree.json";
/// Bump when the record's meaning changes: older records are then not reused.
const FORMAT: u32 = 1;

/// What the tree under `source/` holds: a complete build of `base`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct TreeRecord {
    format: u32,
    /// The key of the build's identity without the overlay.
    base: String,
    /// The tree's root, relative to the work directory.
    root: String,
    build_system: source::BuildSystem,
    kea_version: String,
    /// The newest entry time of the Kea input alone.
    kea_input_time: u64,
    /// What the tree was configured with (`build::configured_with`).
    configured_with: Vec<String>,
    /// The overlay's own paths under `premium/` (`source::overlay::listing`), apart from what
    /// the build made there.
    overlay: Vec<PathBuf>,
}

/// The base key: the build's identity without the overlay.
pub(super) fn base_key(identity: &crate::run::build_cache::Identity) -> String {
    identity.without("premium").key()
}

/// Whether `work/source` holds a complete build (some run may still reuse it).
pub(super) fn holds_build(work: &Path) -> bool {
    read(work).is_some()
}

fn read(work: &Path) -> Option<TreeRecord> {
    let text = std::fs::read_to_string(work.join(RECORD)).ok()?;
    serde_json::from_str::<TreeRecord>(&text).ok().filter(|r| r.format == FORMAT && work.join(&r.root).is_dir())
}

/// The tree's record, when it holds a complete build of `base`.
pub(super) fn reusable(work: &Path, base: &str) -> Option<TreeRecord> {
    read(work).filter(|r| r.base == base)
}

/// The tree is about to change: no later run may reuse it until a build in it is complete.
pub(super) fn forget(work: &Path) -> Result<()> {
    match std::fs::remove_file(work.join(RECORD)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).with_context(|| format!("cannot remove {}", work.join(RECORD).display())),
        _ => Ok(()),
    }
}

/// Say that the tree holds the complete build of `base` that `staged` came from.
pub(super) fn remember(work: &Path, base: &str, tree: &source::PreparedTree, overlay_paths: &[PathBuf], staged: &Staged) -> Result<()> {
    let record = TreeRecord {
        format: FORMAT,
        base: base.to_string(),
        root: tree.root.strip_prefix(work)?.to_string_lossy().into_owned(),
        build_system: tree.build_system,
        kea_version: tree.version.to_string(),
        kea_input_time: tree.kea_input_time,
        configured_with: build::configured_with(&staged.built.configure_args, &staged.opts),
        overlay: overlay_paths.to_vec(),
    };
    let path = work.join(RECORD);
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, serde_json::to_string_pretty(&record)? + "\n").with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Put the new overlay into the recorded tree and say how the build may reuse it (and, for
/// `logs/tree.log`, what changed).
pub(super) fn update(plan: &RunPlan, work: &Path, record: &TreeRecord, root_fs: Option<&Path>, runner: &mut Runner, (kea, premium): (PathBuf, PathBuf)) -> Result<(Prepared, build::Reuse, String)> {
    let req = &plan.request;
    let root = work.join(&record.root);
    let version = crate::source::version::KeaVersion::parse(&record.kea_version)?;
    let system = record.build_system;
    let listener = runner.channel();
    let (change, listing, overlay_time) = runner.in_process("put the new overlay into the built tree", || {
        overlay::replace(&root, &record.overlay, &kea, &premium, &work.join("source/overlay"), &version, system, req.allow_version_mismatch, req.limits, listener.as_ref(), || forget(work))
    })?;
    if system == source::BuildSystem::Meson {
        // What meson built for a removed directory lives in the build directory.
        for rel in &change.removed {
            let built = root.join(crate::build::meson::BUILD_DIR).join("premium").join(rel);
            if built.exists() {
                std::fs::remove_dir_all(&built).or_else(|_| std::fs::remove_file(&built)).with_context(|| format!("cannot remove {}", built.display()))?;
            }
        }
    }
    runner.note(&format!(
        "reusing the Kea {version} tree built in {} with another overlay (premium/: {}){}",
        root.display(),
        change.summary(),
        if change.touches_build_files() { "; build files changed, so it is configured again" } else { "" }
    ));
    let tree = source::PreparedTree { root, version, build_system: system, newest_input_time: record.kea_input_time.max(overlay_time), kea_input_time: record.kea_input_time };
    let reuse = build::Reuse { configured_with: record.configured_with.clone(), build_files_changed: change.touches_build_files() };
    let summary = format!("reused ({}{})", change.summary(), if reuse.build_files_changed { "; configured again" } else { "" });
    let prepared = Prepared::checked(plan, tree, (kea, premium), listing)?;
    build::check_tools(system, root_fs)?;
    Ok((prepared, reuse, summary))
}

/// Say in `logs/tree.log` how the run got its tree: `reused (…)`, `prepared` or `restored` (a cache hit).
pub(super) fn note(work: &Path, text: &str) {
    let _ = std::fs::create_dir_all(work.join("logs"));
    let _ = std::fs::write(work.join("logs/tree.log"), format!("work tree: {text}\n"));
}

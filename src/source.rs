//! Inputs to a prepared source tree: safe unpacking, the premium overlay, version checks.

use crate::extract::{Limits, unpack_input};
use crate::version::{self, KeaVersion};
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::{Path, PathBuf};

/// Which upstream build system a tree uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildSystem {
    Autotools,
    Meson,
}

/// A Kea source tree with the premium overlay in place, ready to build.
#[derive(Debug, Clone)]
pub struct PreparedTree {
    /// The tree's root (holds `configure.ac` and `premium/`).
    pub root: PathBuf,
    pub version: KeaVersion,
    pub build_system: BuildSystem,
    /// Newest modification time seen among the inputs' entries (seconds), for a derived epoch.
    pub newest_input_time: u64,
}

/// Unpack (or copy) the Kea source and the premium overlay into `dest` and check they match.
pub fn prepare(kea: &Path, premium: &Path, dest: &Path, allow_mismatch: bool, limits: Limits) -> Result<PreparedTree> {
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("cannot clear the old source tree {}", dest.display()))?;
    }
    fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;

    let kea_dir = dest.join("kea");
    let mut newest = unpack_input(kea, &kea_dir, limits)?;
    let root = single_top_dir(&kea_dir)?;
    let (version, build_system) = identify_kea(&root, kea)?;

    let overlay_dir = dest.join("overlay");
    newest = newest.max(unpack_input(premium, &overlay_dir, limits)?);
    let premium_src = find_premium_dir(&overlay_dir, premium)?;
    let target = root.join("premium");
    if target.exists() {
        bail!(
            "the Kea source {} already contains a premium/ directory; give keapack a clean Kea tarball and the overlay separately",
            kea.display()
        );
    }
    fs::rename(&premium_src, &target).with_context(|| format!("cannot move the overlay into {}", target.display()))?;
    check_overlay_files(&target, build_system, premium)?;

    check_versions(kea, premium, &version, allow_mismatch)?;
    Ok(PreparedTree { root, version, build_system, newest_input_time: newest })
}

/// Read the Kea version and build system from a tree; refuse a tree that is not Kea.
pub fn identify_kea(root: &Path, input: &Path) -> Result<(KeaVersion, BuildSystem)> {
    let ac = fs::read_to_string(root.join("configure.ac")).ok();
    let meson = fs::read_to_string(root.join("meson.build")).ok();
    let from_ac = ac.as_deref().and_then(version::from_ac_init);
    let from_meson = meson.as_deref().and_then(version::from_meson_project);
    let (found, system) = match (from_ac, from_meson) {
        (Some(v), _) => (v, BuildSystem::Autotools),
        (None, Some(v)) => (v, BuildSystem::Meson),
        (None, None) => bail!(
            "{} is not a Kea source tree: neither configure.ac (AC_INIT(kea, …)) nor meson.build (project('kea', …)) names kea",
            input.display()
        ),
    };
    let version = found.with_context(|| format!("cannot read Kea's version in {}", input.display()))?;
    Ok((version, system))
}

fn check_overlay_files(premium: &Path, system: BuildSystem, input: &Path) -> Result<()> {
    let needed = match system {
        BuildSystem::Autotools => "config.m4",
        BuildSystem::Meson => "meson.build",
    };
    let empty = fs::read_dir(premium).map(|mut d| d.next().is_none()).unwrap_or(true);
    if empty {
        bail!("the premium overlay {} has an empty premium/ directory: the overlay's files are missing", input.display());
    }
    if !premium.join(needed).is_file() {
        bail!(
            "the premium overlay {} has no premium/{needed}; a {} build of Kea needs it to include the premium hooks",
            input.display(),
            match system {
                BuildSystem::Autotools => "autotools",
                BuildSystem::Meson => "meson",
            }
        );
    }
    Ok(())
}

fn check_versions(kea: &Path, premium: &Path, tree: &KeaVersion, allow: bool) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(named) = KeaVersion::from_file_name(kea)
        && named != *tree
    {
        problems.push(format!("the Kea input is named {named} but its source says {tree}"));
    }
    match KeaVersion::from_file_name(premium) {
        Some(p) if p != *tree => problems.push(format!(
            "the premium overlay {} is version {p}, but the Kea source is {tree}; hooks must be built with the Kea release they load into",
            premium.display()
        )),
        Some(_) => {}
        None => eprintln!(
            "warning: cannot tell the premium overlay's version from its name {}; make sure it matches Kea {tree}",
            premium.display()
        ),
    }
    if problems.is_empty() {
        return Ok(());
    }
    if allow {
        for p in &problems {
            eprintln!("warning: {p} (continuing: --allow-version-mismatch)");
        }
        return Ok(());
    }
    bail!("version mismatch: {} (use the matching tarballs, or --allow-version-mismatch)", problems.join("; "))
}

/// The tree inside an unpacked Kea input: its single top-level directory, or the directory itself.
fn single_top_dir(dir: &Path) -> Result<PathBuf> {
    if dir.join("configure.ac").exists() || dir.join("meson.build").exists() {
        return Ok(dir.to_path_buf());
    }
    let entries: Vec<PathBuf> = fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    match entries.as_slice() {
        [only] if only.is_dir() => Ok(only.clone()),
        _ => Ok(dir.to_path_buf()),
    }
}

/// Find `premium/` in an unpacked overlay: at the top, or inside one wrapper directory.
fn find_premium_dir(dir: &Path, input: &Path) -> Result<PathBuf> {
    let direct = dir.join("premium");
    if direct.is_dir() {
        return Ok(direct);
    }
    let wrapped: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("premium"))
        .filter(|p| p.is_dir())
        .collect();
    match wrapped.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "the premium overlay {} has no premium/ directory at its top; expected the layout of kea-premium-X.Y.Z.tar.gz: premium/config.m4, premium/src/hooks/…",
            input.display()
        ),
        _ => bail!("the premium overlay {} holds several premium/ directories; keep exactly one", input.display()),
    }
}


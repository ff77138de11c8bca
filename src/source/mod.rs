//! Inputs to a prepared source tree: safe unpacking, the premium overlay, version checks.

pub(crate) mod links;
mod copydir;
pub mod extract;
pub(crate) mod overlay;
pub mod version;

use crate::source::extract::{Limits, unpack_input};
use crate::source::version::KeaVersion;
use crate::support::listener::Listener;
use crate::support::text;
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::{Path, PathBuf};

/// Which upstream build system a tree uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildSystem {
    Autotools,
    Meson,
}

impl BuildSystem {
    /// `autotools` or `meson`, as the command line and the manifest spell it.
    pub fn name(self) -> &'static str {
        match self {
            BuildSystem::Autotools => "autotools",
            BuildSystem::Meson => "meson",
        }
    }

    /// The file at the tree's root that marks this build system.
    pub(crate) fn top_file(self) -> &'static str {
        match self {
            BuildSystem::Autotools => "configure.ac",
            BuildSystem::Meson => "meson.build",
        }
    }

    /// The file the overlay must bring for this build system to include the premium hooks.
    pub(crate) fn overlay_file(self) -> &'static str {
        match self {
            BuildSystem::Autotools => "config.m4",
            BuildSystem::Meson => "meson.build",
        }
    }
}

/// A Kea source tree with the premium overlay in place, ready to build.
#[derive(Debug, Clone)]
pub(crate) struct PreparedTree {
    /// The tree's root (holds `configure.ac` and/or `meson.build`, and `premium/`).
    pub root: PathBuf,
    pub version: KeaVersion,
    pub build_system: BuildSystem,
    /// Newest modification time seen among the inputs' entries (seconds), for a derived epoch.
    pub newest_input_time: u64,
    /// The newest among the Kea input's entries alone (another overlay in the same tree is
    /// newest of the two).
    pub kea_input_time: u64,
}

/// Unpack (or copy) the Kea source and the premium overlay into `dest` and check they match.
/// `choice` picks the build system of a tree that has both (Kea 2.7.7–2.7.9); `None` means the
/// default (meson).
pub(crate) fn prepare(kea: &Path, premium: &Path, dest: &Path, allow_mismatch: bool, limits: Limits, choice: Option<BuildSystem>, listener: &dyn Listener) -> Result<PreparedTree> {
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("cannot clear the old source tree {}", text::path(dest)))?;
    }
    fs::create_dir_all(dest).with_context(|| format!("cannot create {}", text::path(dest)))?;

    let kea_dir = dest.join("kea");
    let kea_input_time = unpack_input(kea, &kea_dir, limits)?;
    let mut newest = kea_input_time;
    let root = single_top_dir(&kea_dir)?;
    let (version, build_system) = identify_kea(&root, kea, choice, listener)?;

    let overlay_dir = dest.join("overlay");
    newest = newest.max(unpack_input(premium, &overlay_dir, limits)?);
    let premium_src = find_premium_dir(&overlay_dir, premium, build_system)?;
    let target = root.join("premium");
    if fs::symlink_metadata(&target).is_ok() {
        bail!(
            "the Kea source {} already contains a premium/ directory; give keapack a clean Kea tarball and the overlay separately",
            text::path(kea)
        );
    }
    fs::rename(&premium_src, &target).with_context(|| format!("cannot move the overlay into {}", text::path(&target)))?;
    check_overlay_files(&target, build_system, premium)?;

    check_versions(kea, premium, &version, allow_mismatch, listener)?;
    Ok(PreparedTree { root, version, build_system, newest_input_time: newest, kea_input_time })
}

/// Read the Kea version and build system from a tree; refuse a tree that is not Kea.
///
/// `configure.ac` alone → autotools; `meson.build` alone → meson; both (Kea 2.7.7–2.7.9 tarballs)
/// → meson, unless `choice` says autotools. A `choice` the tree cannot build with is refused.
pub(crate) fn identify_kea(root: &Path, input: &Path, choice: Option<BuildSystem>, listener: &dyn Listener) -> Result<(KeaVersion, BuildSystem)> {
    let ac = fs::read_to_string(root.join("configure.ac")).ok();
    let meson = fs::read_to_string(root.join("meson.build")).ok();
    let from_ac = ac.as_deref().and_then(version::from_ac_init);
    let from_meson = meson.as_deref().and_then(version::from_meson_project);
    let (found, system) = match (from_ac, from_meson, choice) {
        (None, None, _) => bail!(
            "{} is not a Kea source tree: neither configure.ac (AC_INIT(kea, …)) nor meson.build (project('kea', …)) names kea",
            text::path(input)
        ),
        (Some(v), None, None | Some(BuildSystem::Autotools)) => (v, BuildSystem::Autotools),
        (None, Some(v), None | Some(BuildSystem::Meson)) => (v, BuildSystem::Meson),
        (Some(_), None, Some(BuildSystem::Meson)) | (None, Some(_), Some(BuildSystem::Autotools)) => {
            let asked = choice.expect("matched Some");
            let has = if asked == BuildSystem::Meson { BuildSystem::Autotools } else { BuildSystem::Meson };
            bail!(
                "--build-system {} was asked for, but the Kea source {} has no {} naming kea: it builds with {} only (drop --build-system, or give a Kea release with both, 2.7.7 to 2.7.9)",
                asked.name(),
                text::path(input),
                asked.top_file(),
                has.name()
            )
        }
        (Some(a), Some(m), choice) => {
            let system = choice.unwrap_or(BuildSystem::Meson);
            if let (Ok(a), Ok(m)) = (&a, &m)
                && a != m
            {
                listener.warning(&format!("{}: configure.ac says Kea {a} but meson.build says {m}; using the {} version", text::path(input), system.name()));
            }
            (if system == BuildSystem::Meson { m } else { a }, system)
        }
    };
    let version = found.with_context(|| format!("cannot read Kea's version in {}", text::path(input)))?;
    Ok((version, system))
}

pub(crate) fn check_overlay_files(premium: &Path, system: BuildSystem, input: &Path) -> Result<()> {
    let needed = system.overlay_file();
    let empty = fs::read_dir(premium).map(|mut d| d.next().is_none()).unwrap_or(true);
    if empty {
        bail!("the premium overlay {} has an empty premium/ directory: the overlay's files are missing", text::path(input));
    }
    if !premium.join(needed).is_file() {
        // An overlay made for the other build system says so by the file it does bring.
        let other = if system == BuildSystem::Meson { BuildSystem::Autotools } else { BuildSystem::Meson };
        let hint = if premium.join(other.overlay_file()).is_file() {
            format!(
                " It has premium/{} instead: it is an overlay for {} builds of Kea; use the overlay made for this Kea release's {} build",
                other.overlay_file(),
                other.name(),
                system.name()
            )
        } else {
            String::new()
        };
        let why = match system {
            BuildSystem::Autotools => "autoreconf includes premium/config.m4 through configure.ac's m4_sinclude",
            BuildSystem::Meson => "Kea's meson.build runs subdir('premium') whenever premium/ exists, and meson stops when premium/meson.build is missing",
        };
        bail!(
            "the premium overlay {} has no premium/{needed}; a {} build of Kea needs it to include the premium hooks ({why}).{hint}",
            text::path(input),
            system.name(),
        );
    }
    Ok(())
}

pub(crate) fn check_versions(kea: &Path, premium: &Path, tree: &KeaVersion, allow: bool, listener: &dyn Listener) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(named) = KeaVersion::from_file_name(kea)
        && named != *tree
    {
        problems.push(format!("the Kea input is named {named} but its source says {tree}"));
    }
    match KeaVersion::from_file_name(premium) {
        Some(p) if p != *tree => problems.push(format!(
            "the premium overlay {} is version {p}, but the Kea source is {tree}; hooks must be built with the Kea release they load into",
            text::path(premium)
        )),
        Some(_) => {}
        None => listener.warning(&format!(
            "cannot tell the premium overlay's version from its name {}; make sure it matches Kea {tree}",
            text::path(premium)
        )),
    }
    if problems.is_empty() {
        return Ok(());
    }
    if allow {
        for p in &problems {
            listener.warning(&format!("{p} (continuing: --allow-version-mismatch)"));
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
        [only] if is_real_dir(only) => Ok(only.clone()),
        _ => Ok(dir.to_path_buf()),
    }
}

/// A directory itself, not a link to one: what keapack may move or enter by name.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Find `premium/` in an unpacked overlay: at the top, or inside one wrapper directory. Links
/// are not followed: `premium/` and its wrapper must be directories of the input itself, since
/// keapack moves `premium/` into the Kea tree, and every link inside it must resolve inside it
/// (`links::check_links`), since what it points at moves with it.
pub(crate) fn find_premium_dir(dir: &Path, input: &Path, system: BuildSystem) -> Result<PathBuf> {
    let link_refusal = |at: &Path| {
        anyhow::anyhow!(
            "refusing {}: '{}' is a symlink, and keapack moves premium/ into the Kea tree by name and never through a link; pack premium/ (and its wrapper directory) as real directories",
            text::path(input),
            text::path(at.strip_prefix(dir).unwrap_or(at))
        )
    };
    let direct = dir.join("premium");
    let found = if is_real_dir(&direct) {
        direct
    } else {
        if fs::symlink_metadata(&direct).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(link_refusal(&direct));
        }
        let mut wrapped = Vec::new();
        for e in fs::read_dir(dir).with_context(|| format!("cannot read {}", text::path(dir)))? {
            let top = e?.path();
            let inner = top.join("premium");
            let top_is_link = fs::symlink_metadata(&top).is_ok_and(|m| m.file_type().is_symlink());
            if top_is_link && inner.is_dir() {
                return Err(link_refusal(&top));
            }
            if is_real_dir(&top) && fs::symlink_metadata(&inner).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(link_refusal(&inner));
            }
            if is_real_dir(&top) && is_real_dir(&inner) {
                wrapped.push(inner);
            }
        }
        match wrapped.as_slice() {
            [one] => one.clone(),
            [] => bail!(
                "the premium overlay {} has no premium/ directory at its top; expected the layout of kea-premium-X.Y.Z.tar.gz: premium/{}, premium/src/hooks/…",
                text::path(input),
                system.overlay_file()
            ),
            _ => bail!("the premium overlay {} holds several premium/ directories; keep exactly one", text::path(input)),
        }
    };
    let shown = found.strip_prefix(dir).unwrap_or(&found).to_path_buf();
    links::check_links(&found, input, &shown, "premium/")?;
    Ok(found)
}


#[cfg(test)]
mod tests {
    use super::*;

    /// A tree with the given top files; returns what identify_kea says for a choice.
    fn identify(ac: bool, meson: bool, choice: Option<BuildSystem>) -> Result<(KeaVersion, BuildSystem)> {
        let tmp = tempfile::tempdir().unwrap();
        if ac {
            fs::write(tmp.path().join("configure.ac"), "AC_INIT(kea, 2.7.8, kea-dev@lists.isc.org)\n").unwrap();
        }
        if meson {
            fs::write(tmp.path().join("meson.build"), "project('kea', 'cpp', version: '2.7.8', meson_version: '>=1.1.0')\n").unwrap();
        }
        identify_kea(tmp.path(), Path::new("kea-2.7.8.tar.gz"), choice, &crate::support::listener::Human::new(true))
    }

    #[test]
    fn the_top_files_decide_the_build_system() {
        assert_eq!(identify(true, false, None).unwrap().1, BuildSystem::Autotools);
        assert_eq!(identify(false, true, None).unwrap().1, BuildSystem::Meson);
        assert_eq!(identify(true, false, Some(BuildSystem::Autotools)).unwrap().1, BuildSystem::Autotools);
        assert_eq!(identify(false, true, Some(BuildSystem::Meson)).unwrap().1, BuildSystem::Meson);
        assert!(identify(false, false, None).unwrap_err().to_string().contains("is not a Kea source tree"));
    }

    #[test]
    fn a_tree_with_both_builds_with_meson_unless_told_otherwise() {
        let (v, system) = identify(true, true, None).unwrap();
        assert_eq!((v, system), (KeaVersion::new(2, 7, 8), BuildSystem::Meson));
        assert_eq!(identify(true, true, Some(BuildSystem::Autotools)).unwrap().1, BuildSystem::Autotools);
        assert_eq!(identify(true, true, Some(BuildSystem::Meson)).unwrap().1, BuildSystem::Meson);
    }

    #[test]
    fn a_build_system_the_tree_lacks_is_refused() {
        let err = identify(true, false, Some(BuildSystem::Meson)).unwrap_err().to_string();
        assert!(err.contains("--build-system meson") && err.contains("has no meson.build") && err.contains("autotools only"), "{err}");
        let err = identify(false, true, Some(BuildSystem::Autotools)).unwrap_err().to_string();
        assert!(err.contains("--build-system autotools") && err.contains("has no configure.ac") && err.contains("meson only"), "{err}");
    }

    #[test]
    fn an_overlay_for_the_other_build_system_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("config.m4"), "AC_DEFUN([AX_PREMIUM],[])\n").unwrap();
        let err = check_overlay_files(tmp.path(), BuildSystem::Meson, Path::new("kea-premium-3.0.0.tar.gz")).unwrap_err().to_string();
        assert!(err.contains("has no premium/meson.build") && err.contains("subdir('premium')"), "{err}");
        assert!(err.contains("It has premium/config.m4 instead") && err.contains("autotools builds"), "{err}");
        assert!(check_overlay_files(tmp.path(), BuildSystem::Autotools, Path::new("p")).is_ok());
    }
}

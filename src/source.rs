//! Inputs to a prepared source tree: safe unpacking, the premium overlay, version checks.

use crate::version::{self, KeaVersion};
use anyhow::{Context, Result, bail};
use std::fs;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

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
pub fn prepare(kea: &Path, premium: &Path, dest: &Path, allow_mismatch: bool) -> Result<PreparedTree> {
    if dest.exists() {
        fs::remove_dir_all(dest).with_context(|| format!("cannot clear the old source tree {}", dest.display()))?;
    }
    fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;

    let kea_dir = dest.join("kea");
    let mut newest = unpack_input(kea, &kea_dir)?;
    let root = single_top_dir(&kea_dir)?;
    let (version, build_system) = identify_kea(&root, kea)?;

    let overlay_dir = dest.join("overlay");
    newest = newest.max(unpack_input(premium, &overlay_dir)?);
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
    if let Some(named) = KeaVersion::from_file_name(kea) {
        if named != *tree {
            problems.push(format!("the Kea input is named {named} but its source says {tree}"));
        }
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

/// Unpack an archive, or copy a directory, into `dest`. Returns the newest entry time seen.
pub fn unpack_input(input: &Path, dest: &Path) -> Result<u64> {
    let meta = fs::metadata(input).with_context(|| format!("cannot read input {}", input.display()))?;
    fs::create_dir_all(dest)?;
    if meta.is_dir() {
        copy_tree(input, dest).with_context(|| format!("cannot copy {}", input.display()))
    } else {
        extract_archive(input, dest)
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<u64> {
    let mut newest = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let meta = entry.metadata()?;
        if kind.is_dir() {
            fs::create_dir_all(&dst)?;
            newest = newest.max(copy_tree(&src, &dst)?);
        } else if kind.is_file() {
            fs::copy(&src, &dst)?;
            newest = newest.max(mtime_secs(&meta));
        }
        // Symlinks and special files in a directory input are left out.
    }
    Ok(newest)
}

fn mtime_secs(meta: &fs::Metadata) -> u64 {
    meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs())
}

/// Open an archive with the decompressor its first bytes call for (not its name).
fn open_archive(path: &Path) -> Result<Box<dyn Read>> {
    let mut file = fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut magic = [0u8; 6];
    let n = file.read(&mut magic).with_context(|| format!("cannot read {}", path.display()))?;
    if n == 0 {
        bail!("{} is empty, not an archive", path.display());
    }
    let file = BufReader::new(fs::File::open(path)?);
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::GzDecoder::new(file)),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => Box::new(liblzma::read::XzDecoder::new(file)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(zstd::stream::read::Decoder::new(file)?),
        _ => Box::new(file),
    })
}

/// Extract an archive into `dest`, refusing entries that would land outside it.
fn extract_archive(path: &Path, dest: &Path) -> Result<u64> {
    let bad = |what: &str, entry: &Path| anyhow::anyhow!("refusing {}: entry '{}' {what}", path.display(), entry.display());
    let mut archive = tar::Archive::new(open_archive(path)?);
    let mut newest = 0;
    let mut count = 0usize;
    let entries = archive.entries().with_context(|| format!("{} is not a readable tar archive", path.display()))?;
    for entry in entries {
        let mut entry = entry.with_context(|| format!("{} is corrupt or truncated", path.display()))?;
        let name = entry.path().with_context(|| format!("{} has an entry with an unreadable name", path.display()))?.into_owned();
        let rel = safe_relative(&name).ok_or_else(|| bad("leaves the destination (absolute or ..)", &name))?;
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry.link_name()?.ok_or_else(|| bad("is a link without a target", &name))?;
                let base = if kind == tar::EntryType::Symlink { rel.parent().unwrap_or(Path::new("")).join(&target) } else { target.to_path_buf() };
                if target.is_absolute() || safe_relative(&base).is_none() {
                    return Err(bad(&format!("links to '{}', outside the destination", target.display()), &name));
                }
            }
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName | tar::EntryType::GNULongLink => continue,
            _ => return Err(bad("is a device, FIFO or other special file", &name)),
        }
        if rel.as_os_str().is_empty() {
            continue;
        }
        count += 1;
        if count > 500_000 {
            bail!("refusing {}: more than 500000 entries", path.display());
        }
        newest = newest.max(entry.header().mtime().unwrap_or(0));
        let mode = entry.header().mode().unwrap_or(0o644);
        entry.set_preserve_mtime(true);
        if !entry.unpack_in(dest).with_context(|| format!("cannot extract '{}' from {}", name.display(), path.display()))? {
            return Err(bad("leaves the destination", &name));
        }
        let out = dest.join(&rel);
        if matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory) {
            // Drop setuid/setgid/sticky and group/world write; keep the owner able to read and write.
            let clean = (mode & 0o755) | if kind == tar::EntryType::Directory { 0o700 } else { 0o600 };
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&out, fs::Permissions::from_mode(clean))?;
        }
    }
    Ok(newest)
}

/// The path with `.` removed, or `None` when it is absolute or climbs out with `..`.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_relative_refuses_escapes() {
        assert_eq!(safe_relative(Path::new("./a/b")), Some(PathBuf::from("a/b")));
        assert_eq!(safe_relative(Path::new("a/../b")), Some(PathBuf::from("b")));
        assert_eq!(safe_relative(Path::new("../b")), None);
        assert_eq!(safe_relative(Path::new("/etc/passwd")), None);
    }

    fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o4777);
            h.set_mtime(1_700_000_000);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn extracts_and_cleans_modes_and_reports_newest_time() {
        let tmp = tempfile::tempdir().unwrap();
        let arc = tmp.path().join("kea-premium-2.6.5.tar.gz");
        fs::write(&arc, tar_gz(&[("premium/config.m4", b"x")])).unwrap();
        let dest = tmp.path().join("out");
        let newest = unpack_input(&arc, &dest).unwrap();
        assert_eq!(newest, 1_700_000_000);
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dest.join("premium/config.m4")).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755, "setuid and world-write dropped");
    }

    #[test]
    fn refuses_a_symlink_that_escapes() {
        let tmp = tempfile::tempdir().unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_cksum();
        b.append_link(&mut h, "premium/evil", "../../etc").unwrap();
        let arc = tmp.path().join("bad.tar");
        fs::write(&arc, b.into_inner().unwrap()).unwrap();
        let err = unpack_input(&arc, &tmp.path().join("out")).unwrap_err().to_string();
        assert!(err.contains("premium/evil") && err.contains("outside"), "{err}");
    }

    #[test]
    fn empty_file_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let arc = tmp.path().join("kea-2.6.5.tar.gz");
        fs::write(&arc, b"").unwrap();
        let err = format!("{:#}", unpack_input(&arc, &tmp.path().join("out")).unwrap_err());
        assert!(err.contains("is empty"), "{err}");
    }
}

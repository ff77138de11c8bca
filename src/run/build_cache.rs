//! The build cache: a finished build's staged hooks (and their debug files), kept under
//! `$XDG_CACHE_HOME/keapack/builds/<key>/` and reused by a later run of the same identity, so
//! that a rerun or a packaging-only change (revision, templates, split, another target the same
//! build serves) skips unpacking, configuring and compiling.
//!
//! The key is the SHA-256 of an [`Identity`]: every input of the build that can change the
//! staged bytes (see `cached::cache_identity` for the list and the reasons). An entry is made
//! in a directory of its own (`.<key>.partial`) and renamed into place only when complete, under
//! a lock per key (`<key>.lock`), as build roots are (`build::root`): an interrupted run leaves
//! no entry, and a concurrent run of the same identity waits and then reuses the first one's.
//! Pruning takes an entry's lock without waiting and leaves an entry in use alone.

use crate::support::digest::hex;
use crate::support::digest::sha256_file;
use crate::source::BuildSystem;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Bump when what an entry holds or how the key is made changes: older entries are then missed.
const FORMAT: u32 = 1;
/// The manifest inside an entry.
const MANIFEST: &str = "entry.json";
/// The identity text inside an entry (what the key is the digest of), for people.
const IDENTITY: &str = "identity.txt";
/// The default bound on the cache's total size: 5 GiB.
pub(crate) const DEFAULT_MAX_BYTES: u64 = 5 << 30;

/// Where build entries are kept: `$XDG_CACHE_HOME/keapack/builds`.
pub(crate) fn dir() -> PathBuf {
    crate::support::cache_home().join("builds")
}

/// What identifies a build: named fields, in the order added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    fields: Vec<(String, String)>,
}

impl Identity {
    pub fn new() -> Identity {
        let mut id = Identity::default();
        id.add("cache format", FORMAT.to_string());
        id
    }

    pub fn add(&mut self, name: &str, value: impl Into<String>) {
        self.fields.push((name.to_string(), value.into()));
    }

    /// The same identity without the field `name`.
    pub fn without(&self, name: &str) -> Identity {
        Identity { fields: self.fields.iter().filter(|(k, _)| k != name).cloned().collect() }
    }

    /// The text the key is the digest of: one `name: value` line per field (values escaped).
    pub fn text(&self) -> String {
        self.fields.iter().map(|(k, v)| format!("{k}: {}\n", v.escape_default())).collect()
    }

    /// The entry's key: the first 32 hex digits of the text's SHA-256.
    pub fn key(&self) -> String {
        hex(&Sha256::digest(self.text().as_bytes()))[..32].to_string()
    }
}

/// The digest of an input as the build sees it. A file (an archive): the SHA-256 of its bytes,
/// which covers its entries' times too. A directory: the SHA-256 of its sorted tree — one line
/// per directory and regular file with its relative path, its mode and (files) its content's
/// SHA-256; symbolic links are left out, as keapack's copy leaves them out. With `times`, the
/// newest file time too (when the epoch is derived from the inputs, a newer file changes it).
pub(crate) fn input_digest(path: &Path, times: bool) -> Result<String> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read input {}", path.display()))?;
    if !meta.is_dir() {
        return Ok(format!("file {}", sha256_file(path)?));
    }
    let mut lines = Vec::new();
    let mut newest = 0u64;
    walk(path, Path::new(""), &mut lines, &mut newest)?;
    lines.sort();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l);
        h.update(b"\n");
    }
    if times {
        h.update(format!("newest {newest}\n").as_bytes());
    }
    Ok(format!("tree {}", hex(&h.finalize())))
}

fn walk(base: &Path, rel: &Path, lines: &mut Vec<Vec<u8>>, newest: &mut u64) -> Result<()> {
    let here = base.join(rel);
    for entry in fs::read_dir(&here).with_context(|| format!("cannot read {}", here.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = rel.join(entry.file_name());
        let meta = entry.metadata()?;
        let mode = meta.permissions().mode() & 0o7777;
        let mut line = Vec::new();
        if kind.is_dir() {
            line.extend_from_slice(format!("d {mode:o} ").as_bytes());
            line.extend_from_slice(path.as_os_str().as_encoded_bytes());
            lines.push(line);
            walk(base, &path, lines, newest)?;
        } else if kind.is_file() {
            let secs = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
            *newest = (*newest).max(secs);
            line.extend_from_slice(format!("f {mode:o} {} ", sha256_file(&entry.path())?).as_bytes());
            line.extend_from_slice(path.as_os_str().as_encoded_bytes());
            lines.push(line);
        }
    }
    Ok(())
}

/// What an entry holds, in its `entry.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub format: u32,
    pub key: String,
    pub keapack_version: String,
    /// When the entry was made (seconds since 1970).
    pub created: u64,
    /// Bytes of the entry's files.
    pub size: u64,
    pub kea_version: String,
    pub build_system: BuildSystem,
    /// Where it was built: `host (Debian GNU/Linux 12 (bookworm))` or the root's key.
    pub environment: String,
    /// The targets of the run that made it (a later run may serve others with it).
    pub targets: Vec<String>,
    pub libdir: String,
    /// The directory of the staged hooks, relative to the stage (`usr/lib/x86_64-linux-gnu/kea/hooks`).
    pub hooks_dir: String,
    /// The Kea tree's root relative to the work directory, as the build had it.
    pub source_root: String,
    pub newest_input_time: u64,
    /// The configure (or meson setup) command line, with the build directory as `$BUILD_DIR`.
    pub configure_args: Vec<String>,
    pub premium_libraries: Vec<String>,
    /// The configure report's premium line and included hooks.
    pub report_premium: Option<String>,
    pub report_included_hooks: Vec<String>,
    pub report_evidence: Vec<String>,
    pub hooks: Vec<Hook>,
    pub debug_files: Vec<DebugEntry>,
}

/// One staged (stripped) hook library, kept as `hooks/<library>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Hook {
    pub library: String,
    pub premium: bool,
    pub machine: String,
}

/// One hook's debug file, kept as `debug/<path below the debug directory>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct DebugEntry {
    pub library: String,
    pub build_id: String,
    /// Relative to the debug directory (`.build-id/ab/cdef….debug`).
    pub path: String,
}

/// One key's place in the cache, locked while held: a run holds it from the lookup until its
/// build is stored (or has failed), so a concurrent run of the same identity waits for it.
pub(crate) struct Slot {
    key: String,
    identity: String,
    dir: PathBuf,
    aside: crate::support::aside::Aside,
}

impl Slot {
    /// Lock `identity`'s entry (waiting for a run that holds it) and clear what an interrupted
    /// run may have left half-made.
    pub fn open(identity: &Identity) -> Result<Slot> {
        let base = dir();
        let key = identity.key();
        let aside = crate::support::aside::Aside::lock(&base, &key, crate::support::aside::remove_dir).with_context(|| format!("cannot use the build cache {}", base.display()))?;
        Ok(Slot { dir: aside.done().to_path_buf(), key, identity: identity.text(), aside })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The complete entry, if there is one; an unreadable one is removed (and missed).
    pub fn get(&self) -> Option<(Manifest, PathBuf)> {
        let text = fs::read_to_string(self.dir.join(MANIFEST)).ok();
        match text.and_then(|t| serde_json::from_str::<Manifest>(&t).ok()) {
            Some(m) if m.format == FORMAT && m.key == self.key => Some((m, self.dir.clone())),
            _ => {
                if self.dir.exists() {
                    let _ = fs::remove_dir_all(&self.dir);
                }
                None
            }
        }
    }

    /// Store a finished build: copy the staged hooks from `hooks_dir` and the debug files from
    /// `debug_dir` into a partial entry, write its manifest, then rename it into place.
    pub(crate) fn store(&self, mut manifest: Manifest, hooks_dir: &Path, debug_dir: Option<&Path>, stage: Option<&Path>) -> Result<()> {
        self.aside.make(|partial| {
            if let Some(stage) = stage {
                copy_tree(stage, &partial.join(STAGE)).context("cannot copy the staged Kea into the build cache")?;
            }
            fs::create_dir_all(partial.join("hooks"))?;
            for h in &manifest.hooks {
                fs::copy(hooks_dir.join(&h.library), partial.join("hooks").join(&h.library))
                    .with_context(|| format!("cannot copy {} into the build cache", h.library))?;
            }
            if let Some(debug_dir) = debug_dir {
                for d in &manifest.debug_files {
                    let to = partial.join("debug").join(&d.path);
                    fs::create_dir_all(to.parent().expect("has a parent"))?;
                    fs::copy(debug_dir.join(&d.path), &to).with_context(|| format!("cannot copy the debug file of {} into the build cache", d.library))?;
                }
            }
            fs::write(partial.join(IDENTITY), &self.identity)?;
            manifest.key = self.key.clone();
            manifest.format = FORMAT;
            manifest.size = tree_size(partial);
            fs::write(partial.join(MANIFEST), serde_json::to_string_pretty(&manifest)? + "\n")?;
            Ok(())
        })?;
        Ok(())
    }
}

/// The entry's copy of the whole stage, kept for Kea's own packages (`runtime = "own"`).
pub(crate) const STAGE: &str = "stage";

/// Copy the tree `from` to `to` (which must not exist): directories and regular files with
/// their permission bits, symbolic links as they read (never followed).
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir(to).with_context(|| format!("cannot create {}", to.display()))?;
    let mut entries: Vec<_> = fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let meta = fs::symlink_metadata(&src)?;
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &dst)?;
        } else if meta.is_dir() {
            copy_tree(&src, &dst)?;
            fs::set_permissions(&dst, fs::Permissions::from_mode(meta.permissions().mode() & 0o7777))?;
        } else if meta.is_file() {
            fs::copy(&src, &dst).with_context(|| format!("cannot copy {}", src.display()))?;
        }
    }
    Ok(())
}

/// Say in the work directory's `logs/cache.log` what the cache did for the run: `hit`, `miss`
/// or `disabled`, and the entry's key.
pub(crate) fn note(work: &Path, status: &str, key: Option<&str>) {
    let text = format!("build cache: {status}{}\n", key.map(|k| format!(" {k}")).unwrap_or_default());
    let _ = fs::create_dir_all(work.join("logs"));
    let _ = fs::write(work.join("logs/cache.log"), text);
}

/// Bytes of the regular files under `dir`.
fn tree_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

/// Every complete entry, oldest first.
pub(crate) fn list() -> Result<Vec<Manifest>> {
    let base = dir();
    let mut found = Vec::new();
    let Ok(rd) = fs::read_dir(&base) else { return Ok(found) };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".lock") || !e.path().is_dir() {
            continue;
        }
        if let Some(m) = fs::read_to_string(e.path().join(MANIFEST)).ok().and_then(|t| serde_json::from_str::<Manifest>(&t).ok())
            && m.key == name
        {
            found.push(m);
        }
    }
    found.sort_by(|a, b| (a.created, &a.key).cmp(&(b.created, &b.key)));
    Ok(found)
}

/// Which entries `prune` removes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PruneRule {
    /// Keep the total at most this many bytes (removing the oldest first).
    pub max_bytes: Option<u64>,
    /// Remove entries made more than this many seconds ago.
    pub older_than: Option<u64>,
    /// Remove every entry.
    pub all: bool,
}

/// What `prune` did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pruned {
    pub removed: Vec<Manifest>,
    /// Entries that should have gone but were in use (locked by a run).
    pub in_use: Vec<String>,
    /// Bytes of the entries left.
    pub left_bytes: u64,
}

/// Remove whole entries by `rule`, oldest first, never `keep` and never one a run holds.
pub(crate) fn prune(rule: PruneRule, keep: Option<&str>) -> Result<Pruned> {
    let entries = list()?;
    let now = now();
    let mut total: u64 = entries.iter().map(|m| m.size).sum();
    let mut out = Pruned::default();
    let base = dir();
    for m in entries {
        let too_old = rule.older_than.is_some_and(|age| now.saturating_sub(m.created) > age);
        let too_big = rule.max_bytes.is_some_and(|max| total > max);
        if !(rule.all || too_old || too_big) || keep == Some(m.key.as_str()) {
            continue;
        }
        let Some(_lock) = crate::support::lockfile::try_now(&base.join(format!("{}.lock", m.key)))? else {
            out.in_use.push(m.key.clone());
            continue;
        };
        let entry = base.join(&m.key);
        // Renamed away first, so a half-removed entry never looks complete.
        let doomed = base.join(format!(".{}.removing", m.key));
        fs::rename(&entry, &doomed).with_context(|| format!("cannot remove {}", entry.display()))?;
        fs::remove_dir_all(&doomed).with_context(|| format!("cannot remove {}", doomed.display()))?;
        total = total.saturating_sub(m.size);
        out.removed.push(m);
    }
    out.left_bytes = total;
    Ok(out)
}

/// The bound on the cache's size: `KEAPACK_CACHE_MAX` (a size such as `5G`, `500M`), else 5 GiB.
pub(crate) fn max_bytes() -> Result<u64> {
    match std::env::var("KEAPACK_CACHE_MAX") {
        Ok(v) if !v.trim().is_empty() => parse_size(&v).with_context(|| format!("KEAPACK_CACHE_MAX='{v}' is not a size (such as 5G, 500M, 1048576)")),
        _ => Ok(DEFAULT_MAX_BYTES),
    }
}

/// A size: bytes, or a number with K, M, G or T (powers of 1024; an optional `i`/`iB`/`B`).
pub(crate) fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().with_context(|| format!("'{t}' does not start with a number"))?;
    let shift = match unit.trim().trim_end_matches(['B', 'b']).trim_end_matches('i').to_ascii_uppercase().as_str() {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        other => bail!("unknown unit '{other}' in '{t}' (use K, M, G or T)"),
    };
    n.checked_mul(1 << shift).with_context(|| format!("'{t}' is too large"))
}

/// `12.3 MiB`.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// `3d`, `5h`, `12m`, `40s`.
pub(crate) fn human_age(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_every_field() {
        let mut a = Identity::new();
        a.add("input kea", "file 00");
        let mut b = a.clone();
        assert_eq!(a.key(), b.key());
        b.add("epoch", "1");
        assert_ne!(a.key(), b.key());
        // A value holding a newline cannot pass for two fields.
        let mut c = Identity::new();
        c.add("x", "1\ny: 2");
        let mut d = Identity::new();
        d.add("x", "1");
        d.add("y", "2");
        assert_ne!(c.key(), d.key());
    }

    #[test]
    fn a_tree_digest_sees_content_modes_and_names() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::create_dir(d.join("sub")).unwrap();
        fs::write(d.join("sub/a"), "one").unwrap();
        let first = input_digest(d, false).unwrap();
        assert_eq!(first, input_digest(d, false).unwrap());
        fs::write(d.join("sub/a"), "onE").unwrap();
        let content = input_digest(d, false).unwrap();
        assert_ne!(first, content);
        fs::set_permissions(d.join("sub/a"), fs::Permissions::from_mode(0o755)).unwrap();
        let mode = input_digest(d, false).unwrap();
        assert_ne!(content, mode);
        fs::rename(d.join("sub/a"), d.join("sub/b")).unwrap();
        assert_ne!(mode, input_digest(d, false).unwrap());
        let file = d.join("sub/b");
        assert!(input_digest(&file, false).unwrap().starts_with("file "));
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_size("5G").unwrap(), 5 << 30);
        assert_eq!(parse_size("500MiB").unwrap(), 500 << 20);
        assert_eq!(parse_size("2k").unwrap(), 2048);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3X").is_err());
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
        assert_eq!(human_age(90_000), "1d");
    }
}

//! Putting another premium overlay into a tree that was already configured and built with an
//! earlier one: only what differs is touched, so make and ninja rebuild only what the new
//! overlay changes.
//!
//! The new overlay is unpacked beside the tree and checked as `source::prepare` checks one.
//! Each of its files is compared by content, mode and (links) target with the tree's
//! `premium/`: an identical file is left as it is (its time too, so nothing that depends on it
//! is rebuilt); a changed or new file takes its place with the current time (an archive keeps
//! its entries' old times, which make would take for older than the objects built from the
//! earlier file); a file or directory the earlier overlay had and the new one lacks is removed,
//! with whatever the build made in that directory. What the build made elsewhere in `premium/`
//! (autotools builds there: objects, `.libs/`, Makefiles) is not the overlay's and stays, so the
//! earlier overlay's own paths come from its listing ([`listing`]), recorded when it was put in.

use crate::source::extract::{Limits, unpack_input};
use crate::source::version::KeaVersion;
use crate::source::{BuildSystem, check_overlay_files, check_versions, find_premium_dir};
use crate::support::text;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What putting the new overlay in place changed, by path relative to `premium/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OverlayChange {
    /// Files whose content, mode or link target differ.
    pub changed: Vec<PathBuf>,
    /// Files and directories only the new overlay has.
    pub added: Vec<PathBuf>,
    /// Files and directories only the old overlay had (removed from the tree).
    pub removed: Vec<PathBuf>,
}

impl OverlayChange {
    /// Whether anything differs.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }

    /// Whether the change reaches the build system: a file was added or removed, or a changed
    /// file is one autoreconf, configure or meson setup reads. Then the tree is configured again;
    /// otherwise make and ninja find what to rebuild by themselves.
    pub(crate) fn touches_build_files(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty() || self.changed.iter().any(|p| is_build_file(p))
    }

    /// One line for the log: how many files changed, were added and removed.
    pub fn summary(&self) -> String {
        format!("{} changed, {} added, {} removed", self.changed.len(), self.added.len(), self.removed.len())
    }
}

/// Whether a file is read by the build system rather than compiled: `Makefile.am`, `config.m4`
/// and other m4, `*.in`, `meson.build`, meson's options files.
pub(crate) fn is_build_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    matches!(name, "Makefile.am" | "Makefile.in" | "Makefile" | "meson.build" | "meson.options" | "meson_options.txt" | "configure.ac")
        || [".m4", ".ac", ".in", ".am"].iter().any(|ext| name.ends_with(ext))
}

/// One entry of an overlay tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir,
    File { mode: u32, len: u64 },
    Link(PathBuf),
}

/// Put the overlay `premium` (an archive or a directory, as for `prepare`) into the tree at
/// `root`, whose `premium/` holds an earlier overlay; `scratch` is where it is unpacked first
/// (cleared); `earlier`: the earlier overlay's [`listing`]. Checks the new overlay as `prepare`
/// does: its files for `system`, its version against `version` (and `kea`'s name). Returns what
/// changed, the new overlay's listing and its newest entry time. `before_change` runs once the
/// new overlay passed its checks, before the tree is touched (a refused overlay leaves the tree
/// as it was).
#[allow(clippy::too_many_arguments)]
pub(crate) fn replace(
    root: &Path,
    earlier: &[PathBuf],
    kea: &Path,
    premium: &Path,
    scratch: &Path,
    version: &KeaVersion,
    system: BuildSystem,
    allow_mismatch: bool,
    limits: Limits,
    listener: &dyn crate::support::listener::Listener,
    before_change: impl FnOnce() -> Result<()>,
) -> Result<(OverlayChange, Vec<PathBuf>, u64)> {
    if scratch.exists() {
        fs::remove_dir_all(scratch).with_context(|| format!("cannot clear {}", text::path(scratch)))?;
    }
    let newest = unpack_input(premium, scratch, limits)?;
    let new = find_premium_dir(scratch, premium, system)?;
    check_overlay_files(&new, system, premium)?;
    check_versions(kea, premium, version, allow_mismatch, listener)?;
    let now = listing(&new)?;
    before_change()?;
    let change = sync(&new, &root.join("premium"), earlier)?;
    fs::remove_dir_all(scratch).with_context(|| format!("cannot clear {}", text::path(scratch)))?;
    Ok((change, now, newest))
}

/// Every path of the overlay in `dir` (directories, files, links), relative to it, sorted.
pub(crate) fn listing(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?.into_keys().collect())
}

/// Make `old`, which holds the overlay listed in `earlier` (and what a build made there), hold
/// what `new` holds, touching only what differs (see the module's text); `new` is consumed
/// (changed and added files are moved out of it).
pub(crate) fn sync(new: &Path, old: &Path, earlier: &[PathBuf]) -> Result<OverlayChange> {
    let theirs = entries(new)?;
    let earlier: std::collections::BTreeSet<&PathBuf> = earlier.iter().collect();
    let ours: BTreeMap<PathBuf, Entry> = entries(old)?.into_iter().filter(|(rel, _)| earlier.contains(rel)).collect();
    let mut change = OverlayChange::default();
    // Removed first, children before their directory (a removed directory goes whole, with
    // what the build made in it); only the topmost removed path is reported.
    for (rel, entry) in ours.iter().rev() {
        let kept = theirs.get(rel).is_some_and(|e| same_kind(entry, e));
        let path = old.join(rel);
        if kept || path.symlink_metadata().is_err() {
            continue;
        }
        let parent_kept = rel.parent().is_none_or(|p| p.as_os_str().is_empty() || theirs.get(p) == Some(&Entry::Dir));
        if !theirs.contains_key(rel) && parent_kept {
            change.removed.push(rel.clone());
        }
        if entry == &Entry::Dir { fs::remove_dir_all(&path) } else { fs::remove_file(&path) }.with_context(|| format!("cannot remove {}", text::path(&path)))?;
    }
    change.removed.sort();
    let now = std::time::SystemTime::now();
    for (rel, entry) in &theirs {
        let (from, to) = (new.join(rel), old.join(rel));
        let present = ours.get(rel).filter(|e| same_kind(e, entry));
        match entry {
            Entry::Dir => {
                if present.is_none() {
                    // What the build made there (a file, or a link: never followed) goes.
                    if fs::symlink_metadata(&to).is_ok_and(|m| !m.is_dir()) {
                        clear(&to)?;
                    }
                    fs::create_dir_all(&to).with_context(|| format!("cannot create {}", text::path(&to)))?;
                    mark(&mut change, &ours, rel);
                }
            }
            Entry::Link(target) => {
                if present != Some(entry) {
                    clear(&to)?;
                    std::os::unix::fs::symlink(target, &to).with_context(|| format!("cannot create {}", text::path(&to)))?;
                    mark(&mut change, &ours, rel);
                }
            }
            Entry::File { mode, len } => {
                let same = present == Some(entry) && same_bytes(&from, &to, *len)?;
                if same {
                    continue;
                }
                // The new file with the current time, so that make and ninja see it as newer
                // than what was built from the old one.
                if fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir()) {
                    clear(&to)?;
                }
                fs::rename(&from, &to).with_context(|| format!("cannot move {} into the tree", text::path(&from)))?;
                let file = fs::File::options().write(true).open(&to).with_context(|| format!("cannot open {}", text::path(&to)))?;
                file.set_modified(now).with_context(|| format!("cannot set the time of {}", text::path(&to)))?;
                fs::set_permissions(&to, fs::Permissions::from_mode(*mode))?;
                mark(&mut change, &ours, rel);
            }
        }
    }
    Ok(change)
}

/// Remove whatever is at `path` (what a build made where the overlay now puts something).
fn clear(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(_) => return Ok(()),
    }
    .with_context(|| format!("cannot replace {}", text::path(path)))
}

/// Count `rel` as changed (the tree had it) or added (it had not; only the topmost new path).
fn mark(change: &mut OverlayChange, ours: &BTreeMap<PathBuf, Entry>, rel: &Path) {
    if ours.contains_key(rel) {
        change.changed.push(rel.to_path_buf());
    } else if !change.added.iter().any(|a| rel.starts_with(a)) {
        change.added.push(rel.to_path_buf());
    }
}

fn same_kind(a: &Entry, b: &Entry) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Every entry under `dir`, by path relative to it, parents before children.
fn entries(dir: &Path) -> Result<BTreeMap<PathBuf, Entry>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        for e in fs::read_dir(&here).with_context(|| format!("cannot read {}", text::path(&here)))? {
            let e = e?;
            let path = rel.join(e.file_name());
            let meta = e.path().symlink_metadata()?;
            let kind = meta.file_type();
            let entry = if kind.is_dir() {
                stack.push(path.clone());
                Entry::Dir
            } else if kind.is_symlink() {
                Entry::Link(fs::read_link(e.path())?)
            } else {
                Entry::File { mode: meta.permissions().mode() & 0o7777, len: meta.len() }
            };
            found.insert(path, entry);
        }
    }
    Ok(found)
}

fn same_bytes(a: &Path, b: &Path, len: u64) -> Result<bool> {
    use std::io::Read;
    let (mut fa, mut fb) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    let mut left = len;
    while left > 0 {
        let n = left.min(ba.len() as u64) as usize;
        fa.read_exact(&mut ba[..n])?;
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
        left -= n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn write(base: &Path, rel: &str, text: &str) {
        let p = base.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn mtime(p: &Path) -> SystemTime {
        fs::metadata(p).unwrap().modified().unwrap()
    }

    /// An old overlay as a build left it, and a new one as unpacked from an archive (old times),
    /// and the old overlay's listing.
    fn pair() -> (tempfile::TempDir, PathBuf, PathBuf, Vec<PathBuf>) {
        let tmp = tempfile::tempdir().unwrap();
        let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
        for base in [&old, &new] {
            write(base, "config.m4", "AC_DEFUN([X])\n");
            write(base, "src/a/a.cc", "int a() { return 1; }\n");
            write(base, "src/a/Makefile.am", "lib_LTLIBRARIES = a.la\n");
            write(base, "src/b/b.cc", "int b() { return 2; }\n");
        }
        let earlier = listing(&old).unwrap();
        // What the build left in the old tree.
        write(&old, "src/a/.libs/a.so", "built");
        write(&old, "src/b/b.lo", "built");
        let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        for rel in ["config.m4", "src/a/a.cc", "src/a/Makefile.am", "src/b/b.cc"] {
            fs::File::options().write(true).open(new.join(rel)).unwrap().set_modified(past).unwrap();
        }
        (tmp, old, new, earlier)
    }

    #[test]
    fn an_identical_overlay_changes_nothing_and_keeps_times_and_build_outputs() {
        let (_tmp, old, new, earlier) = pair();
        let before = mtime(&old.join("src/a/a.cc"));
        let change = sync(&new, &old, &earlier).unwrap();
        assert!(change.is_empty(), "{change:?}");
        assert!(!change.touches_build_files());
        assert_eq!(mtime(&old.join("src/a/a.cc")), before);
        assert!(old.join("src/a/.libs/a.so").is_file() && old.join("src/b/b.lo").is_file());
    }

    #[test]
    fn a_new_file_where_the_build_made_one_replaces_it_and_is_a_build_change() {
        let (_tmp, old, new, earlier) = pair();
        write(&old, "src/a/Makefile.in", "generated by automake");
        write(&new, "src/a/Makefile.in", "shipped by the overlay");
        let change = sync(&new, &old, &earlier).unwrap();
        assert_eq!(change.added, [PathBuf::from("src/a/Makefile.in")]);
        assert!(change.touches_build_files());
        assert_eq!(fs::read_to_string(old.join("src/a/Makefile.in")).unwrap(), "shipped by the overlay");
    }

    #[test]
    fn a_changed_source_is_replaced_with_a_new_time_and_is_not_a_build_change() {
        let (_tmp, old, new, earlier) = pair();
        write(&new, "src/a/a.cc", "int a() { return 3; }\n");
        fs::File::options().write(true).open(new.join("src/a/a.cc")).unwrap().set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000)).unwrap();
        let built = mtime(&old.join("src/a/.libs/a.so"));
        let change = sync(&new, &old, &earlier).unwrap();
        assert_eq!(change.changed, [PathBuf::from("src/a/a.cc")]);
        assert!(change.added.is_empty() && change.removed.is_empty());
        assert!(!change.touches_build_files(), "make finds the changed source by itself");
        assert_eq!(fs::read_to_string(old.join("src/a/a.cc")).unwrap(), "int a() { return 3; }\n");
        assert!(mtime(&old.join("src/a/a.cc")) >= built, "newer than what was built from the old file");
        assert!(old.join("src/a/.libs/a.so").is_file(), "build outputs stay");
        assert_eq!(change.summary(), "1 changed, 0 added, 0 removed");
    }

    #[test]
    fn a_changed_build_file_or_mode_counts_and_added_and_removed_paths_are_build_changes() {
        let (_tmp, old, new, earlier) = pair();
        write(&new, "src/a/Makefile.am", "lib_LTLIBRARIES = a.la\n# changed\n");
        let change = sync(&new, &old, &earlier).unwrap();
        assert_eq!(change.changed, [PathBuf::from("src/a/Makefile.am")]);
        assert!(change.touches_build_files());

        let (_tmp, old, new, earlier) = pair();
        fs::set_permissions(new.join("src/b/b.cc"), fs::Permissions::from_mode(0o755)).unwrap();
        let change = sync(&new, &old, &earlier).unwrap();
        assert_eq!(change.changed, [PathBuf::from("src/b/b.cc")]);
        assert_eq!(fs::metadata(old.join("src/b/b.cc")).unwrap().permissions().mode() & 0o777, 0o755);

        // A hook directory goes (with what was built in it), another comes.
        let (_tmp, old, new, earlier) = pair();
        fs::remove_dir_all(new.join("src/b")).unwrap();
        write(&new, "src/c/c.cc", "int c() { return 4; }\n");
        write(&new, "src/c/sub/c.h", "int c();\n");
        let change = sync(&new, &old, &earlier).unwrap();
        assert_eq!(change.removed, [PathBuf::from("src/b")]);
        assert_eq!(change.added, [PathBuf::from("src/c")]);
        assert!(change.changed.is_empty());
        assert!(change.touches_build_files());
        assert!(!old.join("src/b").exists(), "the removed hook's build outputs go too");
        assert_eq!(fs::read_to_string(old.join("src/c/sub/c.h")).unwrap(), "int c();\n");
        assert!(old.join("src/a/.libs/a.so").is_file());
    }

    #[test]
    fn a_file_that_becomes_a_directory_and_links_are_followed_as_entries() {
        let (_tmp, old, new, earlier) = pair();
        fs::remove_file(new.join("src/b/b.cc")).unwrap();
        write(&new, "src/b/b.cc/inner.cc", "int i();\n");
        std::os::unix::fs::symlink("a.cc", new.join("src/a/alias.cc")).unwrap();
        let change = sync(&new, &old, &earlier).unwrap();
        assert!(old.join("src/b/b.cc").is_dir());
        assert_eq!(fs::read_link(old.join("src/a/alias.cc")).unwrap(), PathBuf::from("a.cc"));
        assert!(change.changed.contains(&PathBuf::from("src/b/b.cc")), "{change:?}");
        assert!(change.added.contains(&PathBuf::from("src/a/alias.cc")), "{change:?}");
        assert!(change.touches_build_files());
    }

    /// Every entry under `dir` with its kind, mode, link target and bytes.
    fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut all: Vec<_> = entries(dir).unwrap().into_iter().map(|(rel, e)| {
            let bytes = if matches!(e, Entry::File { .. }) { fs::read(dir.join(&rel)).unwrap() } else { Vec::new() };
            (rel, format!("{e:?} {bytes:?}"))
        }).collect();
        all.sort();
        all
    }

    #[test]
    fn a_new_overlay_whose_links_leave_is_refused_before_the_tree_or_anything_outside_changes() {
        let deep = "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10";
        // scratch = <tmp>/work/source/overlay: three levels up is <tmp>, where the victim is.
        let chain = |from_depth: usize| format!("{}{deep}/s/../../../victim", "../".repeat(from_depth));
        for (case, at, depth) in [("wrapper", "kea-premium-2.2.0", 0), ("premium/", "premium", 0), ("inside premium/", "premium/hooks", 1)] {
            let tmp = tempfile::tempdir().unwrap();
            let victim = tmp.path().join("victim");
            write(&victim, "premium/config.m4", "AC_DEFUN([VICTIM])\n");
            write(&victim, "hooks/a.cc", "int victim();\n");
            write(&victim, "config.m4", "dnl victim\n");
            let root = tmp.path().join("work/source/kea/kea-2.2.0");
            write(&root, "premium/config.m4", "AC_DEFUN([OLD])\n");
            let earlier = listing(&root.join("premium")).unwrap();
            let (victim_before, tree_before) = (snapshot(&victim), snapshot(&root));

            let input = tmp.path().join("in/kea-premium-2.2.0");
            fs::create_dir_all(input.join(deep)).unwrap();
            std::os::unix::fs::symlink("../".repeat(10), input.join(deep).join("s")).unwrap();
            if at == "premium/hooks" {
                write(&input, "premium/config.m4", "AC_DEFUN([NEW])\n");
            }
            std::os::unix::fs::symlink(chain(depth), input.join(at)).unwrap();
            let mut touched = false;
            let scratch = tmp.path().join("work/source/overlay");
            let e = replace(&root, &earlier, Path::new("kea-2.2.0"), &input, &scratch, &KeaVersion::new(2, 2, 0), BuildSystem::Autotools, false, Limits::default(), &crate::support::listener::Human::new(true), || {
                touched = true;
                Ok(())
            })
            .expect_err(case);
            let e = format!("{e:#}");
            assert!(e.contains(&format!("entry '{at}' links to")) && e.contains("which leaves the destination once the link"), "{case}: {e}");
            assert!(!touched, "{case}: the tree's record stays");
            assert_eq!(snapshot(&victim), victim_before, "{case}: the files outside stay");
            assert_eq!(snapshot(&root), tree_before, "{case}: the tree is as it was");
            assert!(!scratch.exists(), "{case}: no planted link stays in the work directory");
        }
    }

    #[test]
    fn build_files_are_named_by_what_the_build_systems_read() {
        for f in ["Makefile.am", "premium/config.m4", "x/meson.build", "meson.options", "meson_options.txt", "m4/ax_x.m4", "x.h.in"] {
            assert!(is_build_file(Path::new(f)), "{f}");
        }
        for f in ["a.cc", "a.h", "a_messages.mes", "README", "x.dox"] {
            assert!(!is_build_file(Path::new(f)), "{f}");
        }
    }
}

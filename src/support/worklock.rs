//! The work directory is keapack's alone, and one keapack run uses it at a time.
//!
//! keapack clears what it finds under `source/`, `stage/`, `debug/`, `rebuild/`, `example/` of
//! its work directory, so before a run touches one it must be sure the directory is its own: a
//! directory keapack creates gets a mark (`.keapack-work`), and a non-empty directory without
//! the mark is refused untouched. An empty directory is adopted (marked), and so is one an
//! earlier keapack used (it holds `.keapack.lock` but no mark). The check reads two names and at
//! most one directory entry, never the tree. Then an advisory lock is held for the whole run.

use anyhow::{Context, Result, bail};
use std::fs;
use std::io::Write;
use std::path::Path;

/// Held while a run uses a work directory; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct WorkLock {
    _file: fs::File,
}

/// The file that marks a directory as a keapack work directory.
pub(crate) const MARK: &str = ".keapack-work";
/// The lock file; earlier keapack versions left it but no mark.
pub(crate) const LOCK: &str = ".keapack.lock";
const MARK_TEXT: &str = "This is a keapack work directory: keapack deletes and rewrites what is inside on every run.\n";

/// What `check` found at a work directory's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing yet: keapack creates and marks it.
    Missing,
    /// A directory with keapack's mark.
    Marked,
    /// Empty, or used by an earlier keapack (its lock, no mark): keapack marks it.
    Adoptable,
}

/// Whether `work` can be keapack's work directory, without changing anything: refuses a
/// non-directory and a non-empty directory without keapack's mark or an earlier lock.
pub(crate) fn check(work: &Path) -> Result<Found> {
    let shown = crate::support::text::path(work);
    match fs::metadata(work) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Found::Missing),
        Err(e) => Err(e).with_context(|| format!("cannot read the work directory {shown}")),
        Ok(m) if !m.is_dir() => bail!("the work directory {shown} is not a directory; choose an empty or new --work directory"),
        Ok(_) => {
            if fs::symlink_metadata(work.join(MARK)).is_ok_and(|m| m.is_file()) {
                return Ok(Found::Marked);
            }
            let earlier = fs::symlink_metadata(work.join(LOCK)).is_ok_and(|m| m.is_file());
            let empty = fs::read_dir(work).with_context(|| format!("cannot read the work directory {shown}"))?.next().is_none();
            if !earlier && !empty {
                bail!(
                    "the work directory {shown} is not empty and was not made by keapack (no {MARK}); \
                     choose an empty or new --work directory, or remove it yourself"
                );
            }
            Ok(Found::Adoptable)
        }
    }
}

/// Make sure `work` is a keapack work directory before anything in it is used or deleted:
/// create it (marked) when missing; adopt it when it is empty or holds an earlier keapack's
/// lock; refuse it, deleting nothing, when it holds anything else.
pub(crate) fn claim(work: &Path) -> Result<()> {
    let shown = crate::support::text::path(work);
    match check(work)? {
        Found::Marked => return Ok(()),
        Found::Missing => fs::create_dir_all(work).with_context(|| format!("cannot create the work directory {shown}"))?,
        Found::Adoptable => {}
    }
    fs::write(work.join(MARK), MARK_TEXT).with_context(|| format!("cannot mark the work directory {shown} as keapack's ({MARK})"))
}

/// Claim `work` (see [`claim`]) and lock it, or explain who holds it.
pub(crate) fn lock(work: &Path) -> Result<WorkLock> {
    claim(work)?;
    let path = work.join(LOCK);
    let Some(mut file) = crate::support::lockfile::try_now(&path)? else {
        let holder = fs::read_to_string(&path).unwrap_or_default();
        bail!(
            "another keapack run (pid {}) is using the work directory {}; wait for it to finish or choose another --work",
            crate::support::text::shown(holder.trim().if_empty("unknown")),
            crate::support::text::path(work)
        );
    };
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(WorkLock { _file: file })
}

trait IfEmpty {
    fn if_empty<'a>(&'a self, other: &'a str) -> &'a str;
}

impl IfEmpty for str {
    fn if_empty<'a>(&'a self, other: &'a str) -> &'a str {
        if self.is_empty() { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let first = super::lock(tmp.path()).unwrap();
        let err = super::lock(tmp.path()).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())) && err.contains("another keapack run"), "{err}");
        drop(first);
        super::lock(tmp.path()).unwrap();
    }

    fn mark_of(dir: &std::path::Path) -> Option<String> {
        std::fs::read_to_string(dir.join(super::MARK)).ok()
    }

    #[test]
    fn a_new_directory_is_created_marked() {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("a/b/work");
        let _lock = super::lock(&work).unwrap();
        assert!(mark_of(&work).unwrap().contains("keapack work directory"));
    }

    #[test]
    fn a_foreign_non_empty_directory_is_refused_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("source")).unwrap();
        std::fs::write(tmp.path().join("source/thesis.tex"), "years of work").unwrap();
        let err = super::lock(tmp.path()).unwrap_err().to_string();
        assert!(err.contains(&tmp.path().display().to_string()) && err.contains("not made by keapack (no .keapack-work)"), "{err}");
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["source"], "nothing added or removed");
        assert_eq!(std::fs::read_to_string(tmp.path().join("source/thesis.tex")).unwrap(), "years of work");
        // A hidden file counts too, and so does a directory named like the mark.
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join(super::MARK)).unwrap();
        assert!(super::lock(tmp.path()).is_err());
    }

    #[test]
    fn empty_and_earlier_keapack_directories_are_adopted() {
        let tmp = tempfile::tempdir().unwrap();
        drop(super::lock(tmp.path()).unwrap());
        assert!(mark_of(tmp.path()).is_some());
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(super::LOCK), "123").unwrap();
        std::fs::create_dir(tmp.path().join("stage")).unwrap();
        drop(super::lock(tmp.path()).unwrap());
        assert!(mark_of(tmp.path()).is_some());
        // Marked, it stays accepted with anything inside.
        std::fs::remove_file(tmp.path().join(super::LOCK)).unwrap();
        super::claim(tmp.path()).unwrap();
    }

    #[test]
    fn a_file_is_not_a_work_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let err = super::lock(&file).unwrap_err().to_string();
        assert!(err.contains("is not a directory"), "{err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }
}

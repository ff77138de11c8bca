//! A directory made aside and renamed into place whole, under a lock: `<base>/<key>` appears
//! complete or not at all. Its maker works in `<base>/.<key>.partial` while holding
//! `<base>/<key>.lock`; a partial directory left by an interrupted maker is cleared by the next
//! one. Build roots and build cache entries are made this way.

use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// How a directory of this kind is removed (a root needs more care than `remove_dir_all`).
pub(crate) type Remove = fn(&Path) -> Result<()>;

/// The lock on one key's place, held until dropped.
pub(crate) struct Aside {
    done: PathBuf,
    partial: PathBuf,
    remove: Remove,
    _lock: fs::File,
}

/// `remove_dir_all`, naming the directory when it fails.
pub(crate) fn remove_dir(dir: &Path) -> Result<()> {
    fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))
}

impl Aside {
    /// Lock `key`'s place in `base` (created if missing; waiting for another maker) and clear a
    /// partial directory an interrupted maker left.
    pub fn lock(base: &Path, key: &str, remove: Remove) -> Result<Aside> {
        fs::create_dir_all(base).with_context(|| format!("cannot create {}", base.display()))?;
        let lock = crate::support::lockfile::wait(&base.join(format!("{key}.lock")))?;
        let partial = base.join(format!(".{key}.partial"));
        if partial.exists() {
            remove(&partial)?;
        }
        Ok(Aside { done: base.join(key), partial, remove, _lock: lock })
    }

    /// Where the finished directory is.
    pub fn done(&self) -> &Path {
        &self.done
    }

    /// Make the directory: `make` fills an empty partial directory; when it succeeds (and the
    /// run was not interrupted) the partial directory replaces any earlier one at [`done`];
    /// when it fails the partial directory is removed and nothing changes.
    pub fn make(&self, make: impl FnOnce(&Path) -> Result<()>) -> Result<&Path> {
        let made = (|| {
            fs::create_dir_all(&self.partial).with_context(|| format!("cannot create {}", self.partial.display()))?;
            make(&self.partial)?;
            crate::support::interrupt::check()?;
            if self.done.exists() {
                (self.remove)(&self.done)?;
            }
            fs::rename(&self.partial, &self.done).with_context(|| format!("cannot move the finished directory to {}", self.done.display()))
        })();
        if made.is_err() && self.partial.exists() {
            let _ = (self.remove)(&self.partial);
        }
        made.map(|()| self.done.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_whole_or_not_at_all_and_a_leftover_partial_is_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("cache");
        // An interrupted maker's leftovers.
        fs::create_dir_all(base.join(".k.partial/junk")).unwrap();
        let a = Aside::lock(&base, "k", remove_dir).unwrap();
        assert!(!base.join(".k.partial").exists());
        let err = a.make(|p| {
            fs::write(p.join("half"), "x")?;
            anyhow::bail!("the maker failed")
        });
        assert!(err.is_err() && !a.done().exists() && !base.join(".k.partial").exists());
        a.make(|p| Ok(fs::write(p.join("whole"), "y")?)).unwrap();
        assert_eq!(fs::read_to_string(base.join("k/whole")).unwrap(), "y");
        // Made again, the new directory replaces the old one whole.
        a.make(|p| Ok(fs::write(p.join("newer"), "z")?)).unwrap();
        let names: Vec<_> = fs::read_dir(base.join("k")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["newer"]);
    }
}

//! One keapack run per work directory: an advisory lock held for the whole run.

use anyhow::{Context, Result, bail};
use std::fs;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Held while a run uses a work directory; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct WorkLock {
    _file: fs::File,
}

/// Create `work` if needed and lock it, or explain who holds it.
pub fn lock(work: &Path) -> Result<WorkLock> {
    fs::create_dir_all(work).with_context(|| format!("cannot create the work directory {}", work.display()))?;
    let path = work.join(".keapack.lock");
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock {}", path.display()))?;
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let holder = fs::read_to_string(&path).unwrap_or_default();
        bail!(
            "another keapack run (pid {}) is using the work directory {}; wait for it to finish or choose another --work",
            holder.trim().if_empty("unknown"),
            work.display()
        );
    }
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
}

//! keapack's one way to lock a file: `flock(LOCK_EX)` on a file opened (created if missing) for
//! the purpose, held until the returned file is dropped. Waiting or not is the caller's choice.

use anyhow::{Context, Result};
use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Open (creating) the lock file at `path` without truncating what it holds.
fn open(path: &Path) -> Result<fs::File> {
    fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).with_context(|| format!("cannot open the lock {}", path.display()))
}

/// The lock at `path`, waiting for another process that holds it (an interrupt ends the wait).
pub(crate) fn wait(path: &Path) -> Result<fs::File> {
    let file = open(path)?;
    // SAFETY: flock on a file descriptor we own.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
        crate::support::interrupt::check()?;
    }
    Ok(file)
}

/// The lock at `path` if no one holds it; `None` when another process does.
pub(crate) fn try_now(path: &Path) -> Result<Option<fs::File>> {
    let file = open(path)?;
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(None);
        }
        return Err(e).with_context(|| format!("cannot lock {}", path.display()));
    }
    Ok(Some(file))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_held_lock_is_not_taken_again_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.lock");
        std::fs::write(&p, "kept").unwrap();
        let held = super::wait(&p).unwrap();
        assert!(super::try_now(&p).unwrap().is_none());
        drop(held);
        assert!(super::try_now(&p).unwrap().is_some());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "kept", "opening a lock does not truncate it");
    }
}

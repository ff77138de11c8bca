//! keapack's one way to lock a file: `flock(LOCK_EX)` on a file opened (created if missing) for
//! the purpose, held until the returned file is dropped. Waiting or not is the caller's choice.

use anyhow::{Context, Result};
use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Open (creating) the lock file at `path` without truncating what it holds, and without
/// following a symbolic link in its place: a planted link would have the lock create or hold a
/// file outside the directory.
fn open(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW | libc::O_CLOEXEC);
    options.open(path).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            anyhow::anyhow!("the lock {} is a symbolic link; keapack locks only a file of its own there: remove the link", path.display())
        } else {
            anyhow::Error::new(e).context(format!("cannot open the lock {}", path.display()))
        }
    })
}

/// How often a waiting run tries the lock again (and looks for SIGINT/SIGTERM, which a thread of
/// its own handles, so a blocking `flock` would not be woken by them).
const POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The lock at `path`, waiting for another process that holds it (an interrupt ends the wait).
pub(crate) fn wait(path: &Path) -> Result<fs::File> {
    wait_telling(path, || {})
}

/// [`wait`], calling `waiting` once if the lock is held by another process when first tried.
pub(crate) fn wait_telling(path: &Path, waiting: impl FnOnce()) -> Result<fs::File> {
    if let Some(f) = try_now(path)? {
        return Ok(f);
    }
    waiting();
    loop {
        crate::support::interrupt::check()?;
        std::thread::sleep(POLL);
        if let Some(f) = try_now(path)? {
            return Ok(f);
        }
    }
}

/// A shared hold on the lock at `path`: any number of holders at once, none while another
/// process holds it with [`try_now`] or [`wait`] (waiting for that one, as [`wait`] does).
pub(crate) fn shared(path: &Path) -> Result<fs::File> {
    let file = open(path)?;
    loop {
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
            return Ok(file);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
        crate::support::interrupt::check()?;
        std::thread::sleep(POLL);
    }
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
    fn shared_holds_keep_the_exclusive_lock_away_and_each_other_not() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x.use");
        let a = super::shared(&p).unwrap();
        let b = super::shared(&p).unwrap();
        assert!(super::try_now(&p).unwrap().is_none(), "held shared: no exclusive lock");
        drop(a);
        assert!(super::try_now(&p).unwrap().is_none(), "still held by one");
        drop(b);
        let ex = super::try_now(&p).unwrap().expect("free once every holder let go");
        drop(ex);
    }

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

    #[test]
    fn a_link_in_place_of_the_lock_is_refused_and_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        let link = tmp.path().join("x.lock");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        for err in [super::wait(&link).unwrap_err(), super::try_now(&link).unwrap_err()] {
            assert!(err.to_string().contains("is a symbolic link") && err.to_string().contains("remove the link"), "{err}");
        }
        assert!(!outside.exists(), "the link's target was not created");
    }
}

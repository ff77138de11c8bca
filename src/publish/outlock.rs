//! One run at a time publishes into an output directory.
//!
//! Two runs that write the same file names into one `--out` would otherwise interleave their
//! renames, leaving one run's `.deb` beside the other's `SHA256SUMS`. A run holds
//! `<out>/.keapack-out.lock` (an advisory `flock`) from the moment it starts writing its output
//! set until it has published and announced it. A second run that reaches that point waits for
//! the first, saying so, rather than being refused: it has already built everything, and the
//! first one's publishing takes seconds. The two then publish one after the other, and
//! `SHA256SUMS` lists the bytes that are in place.
//!
//! The lock file stays in `--out` (removing it would let a waiting run lock a file no longer
//! there); it is hidden and empty, and taking it changes nothing in it, so a run that publishes
//! nothing leaves `--out` as it was once the file exists. It is never an output and never
//! listed in `SHA256SUMS` (an output name never starts with a dot). The waiting run names the
//! holder's pid from `/proc/locks`.

use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// The lock file's name inside `--out`.
pub(crate) const LOCK: &str = ".keapack-out.lock";

/// Held while a run writes and publishes into an output directory; released when dropped
/// (or when the process dies).
#[derive(Debug)]
pub(crate) struct OutLock {
    out: PathBuf,
    _file: fs::File,
}

impl OutLock {
    /// Create `out` if needed and lock it, waiting for another run that holds it: `tell` is
    /// told once, naming that run's pid. An interrupt ends the wait. Once locked, an output set
    /// a killed run left half-published is finished (or undone) before anything else, and
    /// `tell` is told that too.
    pub(crate) fn take(out: &Path, tell: impl Fn(&str)) -> Result<OutLock> {
        fs::create_dir_all(out).with_context(|| format!("cannot create the output directory {}", out.display()))?;
        let path = out.join(LOCK);
        let file = crate::support::lockfile::wait_telling(&path, || {
            tell(&format!(
                "another keapack run (pid {}) is publishing into {}; this run waits for it to finish, then publishes (Ctrl-C stops it)",
                holder(&path).map_or_else(|| "unknown".to_string(), |p| p.to_string()),
                crate::support::text::path(out)
            ))
        })?;
        if let Some(done) = super::switch::recover(out)? {
            tell(&done);
        }
        Ok(OutLock { out: out.to_path_buf(), _file: file })
    }

    /// The output directory this lock holds.
    pub(crate) fn dir(&self) -> &Path {
        &self.out
    }
}

/// The pid of the process holding the `flock` on `path`, as the kernel lists it in
/// `/proc/locks` (`1: FLOCK  ADVISORY  WRITE <pid> <major>:<minor>:<inode> 0 EOF`), matched by
/// inode. Read there rather than from the file, so taking the lock never changes `--out`.
fn holder(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let inode = fs::metadata(path).ok()?.ino().to_string();
    let locks = fs::read_to_string("/proc/locks").ok()?;
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let held = f.len() > 5 && f[1] == "FLOCK" && f[5].rsplit(':').next() == Some(inode.as_str());
        if held { f[4].parse().ok() } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_second_run_waits_for_the_first_and_is_told_who_holds_it() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("dist");
        let first = OutLock::take(&out, |m| panic!("nothing holds a new directory: {m}")).unwrap();
        assert_eq!(fs::read(out.join(LOCK)).unwrap(), b"", "the lock file stays empty");
        let (told, heard) = std::sync::mpsc::channel();
        let (done, finished) = std::sync::mpsc::channel();
        let second = {
            let out = out.clone();
            std::thread::spawn(move || {
                let lock = OutLock::take(&out, |m| told.send(m.to_string()).unwrap()).unwrap();
                done.send(()).unwrap();
                lock
            })
        };
        let said = heard.recv_timeout(Duration::from_secs(30)).expect("the second taker says it waits");
        assert!(said.contains(&format!("another keapack run (pid {})", std::process::id())) && said.contains(&out.display().to_string()) && said.contains("waits"), "{said}");
        assert!(finished.try_recv().is_err(), "the second taker waits while the first holds the lock");
        drop(first);
        finished.recv_timeout(Duration::from_secs(30)).expect("the second taker gets the lock once the first lets go");
        let second = second.join().unwrap();
        assert_eq!(second.dir(), out);
    }
}

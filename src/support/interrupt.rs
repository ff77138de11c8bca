//! SIGINT and SIGTERM: stop the running child processes, then let the run fail cleanly so no
//! partial file is published and the work directory stays consistent for a rerun.

use std::sync::{Condvar, Mutex};
use std::sync::atomic::{AtomicI32, Ordering};

/// The signal that interrupted the run, or 0.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Woken when a signal arrives, for `wait`.
static WOKEN: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());

/// Process groups of the children running now.
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Start watching for SIGINT and SIGTERM (once per process).
pub(crate) fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new().name("keapack-signals".into()).spawn(move || {
        for sig in signals.forever() {
            SIGNAL.store(sig, Ordering::SeqCst);
            // Under the lock, so a `wait` between its check and its sleep cannot miss it.
            drop(WOKEN.0.lock().unwrap_or_else(|e| e.into_inner()));
            WOKEN.1.notify_all();
            for pgid in CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                // SAFETY: kill has no memory-safety preconditions; a negative pid names a group.
                unsafe { libc::kill(-pgid, libc::SIGTERM) };
            }
        }
    })?;
    Ok(())
}

/// The signal that interrupted the run, if one did.
pub(crate) fn interrupted() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Block until SIGINT or SIGTERM arrives (returns at once if one already has).
pub(crate) fn wait() {
    let mut guard = WOKEN.0.lock().unwrap_or_else(|e| e.into_inner());
    while interrupted().is_none() {
        guard = WOKEN.1.wait(guard).unwrap_or_else(|e| e.into_inner());
    }
}

/// Named points of a run at which a test can stop it without timing: with
/// `KEAPACK_FAIL_AT=<point>` the run fails there, with `KEAPACK_PAUSE_AT=<point>` it says so on
/// stderr and waits for SIGINT or SIGTERM. Points: `output-N` before the N-th output file of
/// the set is written (1-based), and `publish` before the set is published; in `keapack
/// publish`, `repo-release` after a repository's packages and new metadata (apt: its by-hash
/// copies) are written and before the served indices and signed `Release`/`InRelease` or
/// `repomd.xml` are replaced.
pub(crate) fn checkpoint(point: &str, listener: &dyn crate::support::listener::Listener) -> anyhow::Result<()> {
    if std::env::var("KEAPACK_FAIL_AT").is_ok_and(|p| p == point) {
        anyhow::bail!("stopped at {point} because KEAPACK_FAIL_AT asked for it");
    }
    if std::env::var("KEAPACK_PAUSE_AT").is_ok_and(|p| p == point) {
        listener.warning(&format!("paused at {point} (KEAPACK_PAUSE_AT); waiting for SIGINT or SIGTERM"));
        wait();
    }
    check()
}

/// Fail with a clear message when the run was interrupted.
pub(crate) fn check() -> anyhow::Result<()> {
    match interrupted() {
        Some(sig) => Err(Interrupted(sig).into()),
        None => Ok(()),
    }
}

/// The error a run ends with after SIGINT/SIGTERM.
#[derive(Debug)]
pub(crate) struct Interrupted(pub i32);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = if self.0 == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
        write!(f, "interrupted by {name}: child processes stopped, nothing was published; run the same command again to finish")
    }
}

impl std::error::Error for Interrupted {}

/// Registers a child's process group for the signal watcher while it runs.
pub(crate) struct ChildGuard(i32);

impl ChildGuard {
    pub fn new(pgid: u32) -> ChildGuard {
        let pgid = pgid as i32;
        CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).push(pgid);
        // A signal that arrived just before registration still stops this child.
        if interrupted().is_some() {
            // SAFETY: as above.
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
        }
        ChildGuard(pgid)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        CHILDREN.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| *p != self.0);
    }
}

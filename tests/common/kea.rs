//! A real Kea daemon (Debian 12's kea-dhcp4 / kea-dhcp6) started inside a test root, watched
//! through its log with bounded waits, and stopped by its own process id.
//!
//! Kea runs the way Debian's systemd unit runs it: as `_kea`, with the unit's runtime, state
//! and log directories created for it, and with a pid-file and lock-file directory of its own
//! for this run (`KEA_PIDFILE_DIR`, `KEA_LOCKFILE_DIR`). `chroot` executes Kea in place, so
//! the child's process id is Kea's. Dropping a `Kea` that still runs kills that process and
//! nothing else.

use super::roots::Root;
use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Long enough for a slow CI machine; Kea 2.2 starts in well under a second here.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Kea {
    child: Child,
    log: PathBuf,
    /// Where this run keeps its pid file and lock file, inside the root.
    pub run_dir: String,
}

impl Kea {
    /// Start `daemon` (`kea-dhcp4`, `kea-dhcp6`) on `config` (a path inside the root), as
    /// Debian's unit does, with its output (the loggers' `stdout`) going to a log file.
    pub fn start(root: &Root, daemon: &str, config: &str, run_dir: &str) -> Kea {
        // systemd creates these for the unit (RuntimeDirectory=kea lock/kea,
        // StateDirectory=kea, LogsDirectory=kea), owned by User=_kea.
        let mut dirs = vec!["/run/kea", "/run/lock/kea", "/var/lib/kea", "/var/log/kea"];
        let (pid_dir, lock_dir) = (format!("{run_dir}/pid"), format!("{run_dir}/lock"));
        dirs.extend([run_dir, pid_dir.as_str(), lock_dir.as_str()]);
        for d in &dirs {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let chown = super::run(root.chroot("chown").arg("_kea:_kea").args(&dirs));
        assert!(chown.status.success(), "chown in the root: {}", String::from_utf8_lossy(&chown.stderr));
        // RuntimeDirectoryMode=0750, as the unit (and the guidance) has it: Kea 2.6.3 refuses a
        // control socket in a directory more open than that.
        fs::set_permissions(root.join("/run/kea"), std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
        let log = root.join(&format!("{run_dir}/{daemon}.log"));
        let out = File::create(&log).unwrap();
        let mut cmd = Command::new("chroot");
        cmd.arg("--userspec=_kea:_kea").arg(root.path()).arg(format!("/usr/sbin/{daemon}")).arg("-c").arg(config);
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("KEA_PIDFILE_DIR", &pid_dir)
            .env("KEA_LOCKFILE_DIR", &lock_dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {daemon} in {}: {e}", root.path().display()));
        Kea { child, log, run_dir: run_dir.to_string() }
    }

    /// Kea's process id (chroot executed Kea in place).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything Kea logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the log holds every one of `needles`; panic with the log when Kea exits
    /// first or `timeout` passes.
    pub fn wait_for(&mut self, needles: &[&str], timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        loop {
            let log = self.log();
            if needles.iter().all(|n| log.contains(n)) {
                return log;
            }
            let missing: Vec<_> = needles.iter().filter(|n| !log.contains(*n)).collect();
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("Kea exited ({st}) before logging {missing:?}:\n{log}");
            }
            if Instant::now() > end {
                panic!("Kea did not log {missing:?} within {timeout:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait for Kea to exit by itself; panic with the log when it is still running after
    /// `timeout` (it is killed on drop).
    pub fn wait_exit(&mut self, timeout: Duration) -> (ExitStatus, String) {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (st, self.log());
            }
            if Instant::now() > end {
                panic!("Kea still runs after {timeout:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop Kea as systemd does (SIGTERM to its pid), wait for it to exit, and return its
    /// exit status and log. Kills it if it ignores SIGTERM for 10 s.
    pub fn stop(mut self) -> (ExitStatus, String) {
        unsafe { libc::kill(self.pid() as libc::pid_t, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > end {
                let _ = self.child.kill();
                let st = self.child.wait().unwrap();
                panic!("Kea ignored SIGTERM for 10 s and was killed ({st}):\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (self.child.wait().unwrap(), self.log())
    }
}

impl Drop for Kea {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill(); // SIGKILL to this child's pid only
            let _ = self.child.wait();
        }
    }
}

/// Run `cmd` with its output collected, killing it when it runs longer than `timeout`.
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let (o, e) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&o).unwrap())
        .stderr(File::create(&e).unwrap())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {cmd:?}: {err}"));
    let end = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: fs::read(&o).unwrap(), stderr: fs::read(&e).unwrap() }
}

//! Commands run inside a build root with bubblewrap (`bwrap`), a well-kept sandbox tool: the
//! root at `/`, a private `/proc`, `/dev` and `/tmp`, and chosen host directories bound at their
//! own paths. The command keeps its arguments, working directory and environment.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `cmd` run inside `root` with the root writable (to install packages), the host's DNS.
pub(crate) fn writable(root: &Path, cmd: &Command) -> Command {
    let mut w = Command::new("bwrap");
    w.arg("--bind").arg(root).arg("/").args(["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]);
    w.args(["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]);
    finish(w, cmd)
}

/// `cmd` run inside `root` read-only, with `binds` (the work directory) writable at their own
/// paths and a private /tmp.
pub(crate) fn enter(root: &Path, binds: &[PathBuf], cmd: &Command) -> Command {
    let mut w = Command::new("bwrap");
    w.arg("--ro-bind").arg(root).arg("/").args(["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]);
    for b in binds {
        w.arg("--bind").arg(b).arg(b);
    }
    finish(w, cmd)
}

fn finish(mut w: Command, cmd: &Command) -> Command {
    if let Some(dir) = cmd.get_current_dir() {
        w.arg("--chdir").arg(dir);
    }
    w.arg("--").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    w
}

/// Create in `root` the directories where `binds` will be mounted: bwrap cannot create them
/// in a root mounted read-only. Refuses a path that crosses a symbolic link inside the root
/// (following it could create directories outside the root).
pub(crate) fn prepare_mount_points(root: &Path, binds: &[PathBuf]) -> anyhow::Result<()> {
    for b in binds {
        let mut at = root.to_path_buf();
        for part in b.strip_prefix("/").unwrap_or(b).components() {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    anyhow::bail!("cannot use {} inside the build root {}: {} is a symbolic link there; choose a --work directory outside it", b.display(), root.display(), at.display())
                }
                Ok(_) => {}
                Err(_) => std::fs::create_dir(&at).map_err(|e| anyhow::anyhow!("cannot create the mount point {}: {e}", at.display()))?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_enter_the_root_at_the_same_paths() {
        let mut c = Command::new("make");
        c.arg("-j2").current_dir("/work/x/source").env("LC_ALL", "C");
        let w = enter(Path::new("/cache/roots/trixie"), &[PathBuf::from("/work/x")], &c);
        let args: Vec<String> = w.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let joined = args.join(" ");
        assert!(joined.starts_with("--ro-bind /cache/roots/trixie / --proc /proc --dev /dev --perms 1777 --tmpfs /tmp --bind /work/x /work/x"), "{joined}");
        assert!(joined.ends_with("--chdir /work/x/source -- make -j2"), "{joined}");
        assert!(w.get_envs().any(|(k, v)| k == "LC_ALL" && v == Some(std::ffi::OsStr::new("C"))));
    }
}

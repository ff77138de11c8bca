//! A full disk and a read-only output directory: a clear error, earlier outputs intact, no
//! partial file. Uses real tmpfs mounts (the tests run as root, as CI does).

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, opts: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        // SAFETY: geteuid has no preconditions.
        assert_eq!(unsafe { libc::geteuid() }, 0, "this test mounts a tmpfs: run it as root (CI does)");
        let st = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", opts, "tmpfs"]).arg(dir).status().unwrap();
        assert!(st.success(), "mount -t tmpfs failed");
        Tmpfs(dir.to_path_buf())
    }
    fn remount(&self, opts: &str) {
        let st = std::process::Command::new("mount").args(["-o", &format!("remount,{opts}")]).arg(&self.0).status().unwrap();
        assert!(st.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap())).collect();
    v.sort();
    v
}

#[test]
fn full_disk_and_read_only_output_keep_earlier_outputs() {
    require_build_tools();
    require("mount", "mount");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let fs = Tmpfs::mount(&out, "size=24k");
    // Earlier outputs: another package, and an older copy of the one this run writes.
    std::fs::write(out.join("other_1.0-1_amd64.deb"), b"an earlier package").unwrap();
    std::fs::write(out.join("kea-premium-hooks_2.2.0-1_amd64.deb"), b"the previous build").unwrap();
    let before = listing(&out);

    let demo = |work: &str| {
        run(keapack().args(["demo", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64", "--out"]).arg(&out).arg("--work").arg(tmp.path().join(work)))
    };
    let res = demo("w1");
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "a 24 KiB output directory cannot hold the packages");
    assert!(err.contains("cannot write") && err.contains(&out.display().to_string()), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(listing(&out), before, "earlier outputs intact, no partial file");

    fs.remount("ro");
    let res = demo("w2");
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success());
    assert!(err.contains("cannot write in the output directory") && err.contains("Read-only file system"), "{err}");
    assert_eq!(listing(&out), before);
}

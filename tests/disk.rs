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

/// Bytes in use on the file system holding `dir`.
fn used_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs fills the struct we own from a NUL-terminated path.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    (st.f_blocks - st.f_bfree) as u64 * st.f_frsize as u64
}


#[test]
#[ignore = "slow: needs root: mounts a tmpfs; builds the example"]
fn full_disk_and_read_only_output_keep_earlier_outputs() {
    require_build_tools();
    require("mount", "mount");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let fs = Tmpfs::mount(&out, "size=4m");
    let demo = |work: &str, revision: &str| {
        run(keapack()
            .args(["demo", "--quiet", "--revision", revision, "--target", "debian-12-amd64", "--target", "rhel-9-x86_64", "--out"])
            .arg(&out)
            .arg("--work")
            .arg(tmp.path().join(work)))
    };
    // The earlier set: revision 1, with its SHA256SUMS, and another run's file.
    let res = demo("w1", "1");
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    std::fs::write(out.join("other_1.0-1_amd64.deb"), b"an earlier package").unwrap();
    let before = listing(&out);
    sums_verify(&out);
    let deb = std::fs::metadata(out.join("kea-premium-hooks_2.2.0-1+deb12_amd64.deb")).unwrap().len();
    let rpm = std::fs::metadata(out.join("kea-premium-hooks-2.2.0-1.el9.x86_64.rpm")).unwrap().len();

    // Room for revision 2's .deb (written first) but not its .rpm: the disk fills mid-set.
    let room = deb.next_multiple_of(4096) + 8192;
    assert!(room < rpm, "the example's .rpm ({rpm} bytes) must not fit in {room} bytes for this test");
    fs.remount(&format!("size={}", (used_bytes(&out) + room).next_multiple_of(4096)));
    let res = demo("w1", "2");
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "the .rpm cannot fit");
    assert!(err.contains("cannot write") && err.contains("kea-premium-hooks-2.2.0-2.el9.x86_64.rpm"), "the failure is the set's second file:\n{err}");
    assert!(err.contains("No space left on device") && err.contains(&format!("nothing was published into {}", out.display())), "{err}");
    assert_eq!(listing(&out), before, "earlier outputs intact, no partial file, no staging directory");
    sums_verify(&out);

    fs.remount("ro");
    let res = demo("w2", "2");
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success());
    assert!(err.contains("cannot write in the output directory") && err.contains("Read-only file system"), "{err}");
    assert!(!tmp.path().join("w2").exists(), "a read-only --out is refused before the work directory is made");
    assert_eq!(listing(&out), before);
}

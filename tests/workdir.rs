//! The work directory is keapack's alone, and text quoted from the inputs cannot forge lines:
//! runs of the real binary that must be refused (or accepted) before anything is built.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Every entry under `dir`: its kind, mode and content (a symlink's target), recursively.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (String, u32, Vec<u8>)> {
    let mut all = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let mode = m.permissions().mode();
            if m.is_dir() {
                all.insert(rel, ("dir".into(), mode, Vec::new()));
                todo.push(p);
            } else if m.is_symlink() {
                all.insert(rel, ("link".into(), mode, std::fs::read_link(&p).unwrap().into_os_string().into_encoded_bytes()));
            } else {
                all.insert(rel, ("file".into(), mode, std::fs::read(&p).unwrap()));
            }
        }
    }
    all
}

/// A directory keapack did not make, holding what a user might keep there, under the very
/// names keapack clears.
fn foreign_dir(dir: &Path) {
    for sub in ["source/kea", "stage/usr", "debug", "rebuild", "example", "logs", "notes"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("source/kea/patch.diff"), "--- a\n+++ b\n").unwrap();
    std::fs::write(dir.join("stage/usr/keep.bin"), [0u8, 1, 2, 255]).unwrap();
    std::fs::write(dir.join("rebuild/report.txt"), "mine").unwrap();
    std::fs::write(dir.join("notes/todo.txt"), "do not delete").unwrap();
    std::fs::write(dir.join(".hidden"), "x").unwrap();
    std::os::unix::fs::symlink("notes/todo.txt", dir.join("link")).unwrap();
}

/// `keapack build` of the example directories, with `--work` when given, under `PATH=path_env`.
fn build(tmp: &Path, work: Option<&Path>, path_env: &str) -> Output {
    let mut cmd = keapack();
    cmd.args(["build", "--quiet", "--target", "debian-12-amd64", "--kea"])
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0"))
        .arg("--out").arg(tmp.join("dist"))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env("XDG_CACHE_HOME", tmp.join("cache"))
        .env("PATH", path_env);
    if let Some(w) = work {
        cmd.arg("--work").arg(w);
    }
    run(&mut cmd)
}

fn refusal(work: &Path) -> String {
    format!(
        "keapack: error: the work directory {} is not empty and was not made by keapack (no .keapack-work); choose an empty or new --work directory, or remove it yourself",
        work.display()
    )
}

#[test]
fn a_foreign_work_directory_is_refused_and_left_byte_for_byte_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("mine");
    foreign_dir(&work);
    let before = snapshot(&work);
    // PATH as usual: were the directory accepted, the run would unpack, clear and build.
    let out = build(tmp.path(), Some(&work), &std::env::var("PATH").unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim_end(), refusal(&work), "the whole output is the refusal");
    assert_eq!(snapshot(&work), before, "nothing in the directory changed");
    assert!(!tmp.path().join("dist").exists(), "nothing was published");

    // The demo clears <work>/example; it is refused the same way.
    let out = run(keapack().args(["demo", "--quiet", "--target", "debian-12-amd64", "--work"]).arg(&work).arg("--out").arg(tmp.path().join("dist")));
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), refusal(&work));
    assert_eq!(snapshot(&work), before, "the demo changed nothing either");
}

#[test]
fn the_default_work_directory_is_checked_too() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("cache/keapack/kea-2.2.0");
    foreign_dir(&work);
    let before = snapshot(&work);
    let out = build(tmp.path(), None, &std::env::var("PATH").unwrap());
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end(), refusal(&work));
    assert_eq!(snapshot(&work), before);
}

/// With no tools on PATH, an accepted run stops at the tool check, after the source tree was
/// prepared in the work directory.
fn assert_accepted(tmp: &Path, work: &Path) {
    let out = build(tmp, Some(work), "/nonexistent");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("not made by keapack") && err.contains("missing build tools"), "{err}");
    assert!(work.join("source/kea/premium/config.m4").is_file(), "the source tree was prepared:\n{err}");
    let mark = std::fs::read_to_string(work.join(".keapack-work")).expect("the directory is marked now");
    assert!(mark.contains("keapack work directory"), "{mark}");
}

#[test]
fn an_earlier_keapack_work_directory_and_an_empty_one_are_accepted_and_marked() {
    let tmp = tempfile::tempdir().unwrap();
    // As keapack before the mark left it: a lock file, an old tree, logs.
    let earlier = tmp.path().join("earlier");
    foreign_dir(&earlier);
    std::fs::write(earlier.join(".keapack.lock"), "4242").unwrap();
    assert_accepted(tmp.path(), &earlier);
    assert!(!earlier.join("source/kea/patch.diff").exists(), "the old source tree was cleared, as before");

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_accepted(tmp.path(), &empty);

    // Once marked, a directory is accepted again whatever it holds.
    assert_accepted(tmp.path(), &empty);
}

/// A tar with one raw old-style header (hostile names get in as they are) and one byte of data.
fn raw_tar(name: &[u8], kind: tar::EntryType, link: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    h.set_entry_type(kind);
    h.set_size(if kind == tar::EntryType::Regular { 1 } else { 0 });
    h.set_mode(0o644);
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.push(b'x');
    bytes.resize(512 * 4, 0);
    bytes
}

/// Build with the overlay `archive`; the run must fail; returns stderr after checking that no
/// raw control character reached it and that its only `keapack:` line is the error's first.
fn refused_output(tmp: &Path, archive: &[u8]) -> String {
    let arc = tmp.join("kea-premium-2.2.0.tar");
    std::fs::write(&arc, archive).unwrap();
    let out = run(keapack()
        .args(["build", "--quiet", "--target", "debian-12-amd64", "--kea"])
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(&arc)
        .arg("--out").arg(tmp.join("dist"))
        .arg("--work").arg(tmp.join("work")));
    let err = String::from_utf8(out.stderr).expect("UTF-8 output");
    assert!(!out.status.success(), "{err}");
    let raw: Vec<char> = err.chars().filter(|c| c.is_control() && *c != '\n').collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in:\n{err}");
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("keapack:")).collect();
    assert_eq!(ours.len(), 1, "one keapack: line, the error's own:\n{err}");
    assert!(err.starts_with("keapack: error: ") && err.contains("\n  caused by: refusing "), "{err}");
    err
}

#[test]
fn an_entry_name_cannot_forge_a_line_or_move_the_cursor() {
    let tmp = tempfile::tempdir().unwrap();
    let name = b"premium/x\nkeapack: done: all good\x1b[2K\x1b[1A\r\xc2\x9b31m/../../../../escape";
    let err = refused_output(tmp.path(), &raw_tar(name, tar::EntryType::Regular, b""));
    assert!(
        err.contains(r"entry 'premium/x\nkeapack: done: all good\x1b[2K\x1b[1A\r\u{9b}31m/../../../../escape' leaves the destination"),
        "{err}"
    );
}

#[test]
fn a_link_target_cannot_forge_a_line() {
    let tmp = tempfile::tempdir().unwrap();
    let err = refused_output(tmp.path(), &raw_tar(b"premium/evil", tar::EntryType::Symlink, b"/etc/\nkeapack: ok\x1b]0;title\x07"));
    assert!(err.contains(r"entry 'premium/evil' links to '/etc/\nkeapack: ok\x1b]0;title\x07', outside the destination"), "{err}");
}

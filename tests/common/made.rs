//! Small packages made at run time, without building the example: a `.deb` by `dpkg-deb` of a
//! crafted directory and an `.rpm` from the `rpm` crate's builder, for the tests that publish
//! (repository repair, injected faults). And what a killed or failed run may leave behind.

use super::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// kea-premium-hooks 2.2.0-`rev`+deb12 for amd64, built by dpkg-deb in `dir` (uncompressed, with
/// a few kilobytes of payload, so a nearly full disk can fail at each of its writes).
pub fn made_deb(dir: &Path, rev: u32) -> PathBuf {
    require("dpkg-deb", "dpkg");
    let root = dir.join(format!("deb-{rev}"));
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::create_dir_all(root.join("usr/share/doc/kea-premium-hooks")).unwrap();
    let control = format!("Package: kea-premium-hooks\nVersion: 2.2.0-{rev}+deb12\nArchitecture: amd64\nMaintainer: keapack tests <test@example.org>\nDescription: hook libraries made for the tests\n A package made at run time.\n");
    fs::write(root.join("DEBIAN/control"), control).unwrap();
    fs::write(root.join("usr/share/doc/kea-premium-hooks/README"), format!("revision {rev}\n").repeat(200)).unwrap();
    let out = dir.join(format!("kea-premium-hooks_2.2.0-{rev}+deb12_amd64.deb"));
    ok(Command::new("dpkg-deb").args(["--build", "--root-owner-group", "-Znone"]).arg(&root).arg(&out).env("SOURCE_DATE_EPOCH", "1700000000").output().unwrap(), "dpkg-deb --build");
    out
}

/// kea-premium-hooks-2.2.0-`rev`.el9.x86_64.rpm, from the `rpm` crate's builder, in `dir`.
pub fn made_rpm(dir: &Path, rev: u32) -> PathBuf {
    let mut b = rpm::PackageBuilder::new("kea-premium-hooks", "2.2.0", "MIT", "x86_64", "hook libraries made for the tests");
    b.release(format!("{rev}.el9"));
    b.description("A package made at run time.");
    b.with_file_contents(format!("revision {rev}\n"), rpm::FileOptions::new("/usr/share/doc/kea-premium-hooks/README")).unwrap();
    let out = dir.join(format!("kea-premium-hooks-2.2.0-{rev}.el9.x86_64.rpm"));
    let mut bytes = Vec::new();
    b.build().unwrap().write(&mut bytes).unwrap();
    fs::write(&out, bytes).unwrap();
    out
}

/// What keapack leaves only while it runs, anywhere under `dir`: `.keapack-*` entries
/// (staging directories, switch journals, repodata stages) but the lock files, and `*.partial`
/// files. A test's own `.filler` is not counted.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == ".filler" {
                continue;
            }
            if (name.starts_with(".keapack-") && !name.ends_with(".lock")) || name.ends_with(".partial") {
                found.push(e.path().display().to_string());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    found
}

/// The top-level files of an output directory, the hidden ones (lock, staging) left out.
pub fn visible(out: &Path) -> Vec<(String, Vec<u8>)> {
    listing(out).into_iter().filter(|(n, _)| !n.starts_with('.')).collect()
}

/// Build the rpm a stand-in spec describes (`Name: kea-runtime-standin`, version 1-1, x86_64:
/// a test fixture that provides what the packages under test require) with rpmbuild in `dir`,
/// without debuginfo or post-install processing; returns its path.
pub fn rpmbuild_standin(dir: &Path, spec: &str) -> PathBuf {
    require("rpmbuild", "rpm");
    fs::create_dir_all(dir.join("SPECS")).unwrap();
    fs::write(dir.join("SPECS/standin.spec"), spec).unwrap();
    let out = Command::new("rpmbuild")
        .args(["-bb", "--quiet", "--nodeps", "--define", "debug_package %{nil}", "--define", "__os_install_post %{nil}", "--define"])
        .arg(format!("_topdir {}", dir.display()))
        .arg(dir.join("SPECS/standin.spec"))
        .output()
        .unwrap();
    assert!(out.status.success(), "rpmbuild of the stand-in failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    dir.join("RPMS/x86_64/kea-runtime-standin-1-1.x86_64.rpm")
}

/// `dnf -y --refresh --releasever 9 --installroot ROOT` with the root's own repository files and
/// cache, then `args`.
pub fn dnf_in(root: &Path, args: &[&str]) -> std::process::Output {
    require("dnf", "dnf");
    Command::new("dnf")
        .args(["-y", "--refresh", "--releasever", "9"])
        .arg("--installroot")
        .arg(root)
        .arg(format!("--setopt=reposdir={}", root.join("etc/yum.repos.d").display()))
        .arg(format!("--setopt=cachedir={}", root.join("var/cache/dnf").display()))
        .args(args)
        .output()
        .unwrap()
}

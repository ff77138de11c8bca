//! Small packages made at run time, in milliseconds: a .deb by dpkg-deb of a crafted directory,
//! an .rpm from the `rpm` crate's builder; for the tests of publishing, which need packages,
//! not the example's build.

use super::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// kea-premium-hooks 2.2.0-`rev`+deb12 for amd64, built by dpkg-deb in `dir`.
pub fn deb(dir: &Path, rev: u32) -> PathBuf {
    require("dpkg-deb", "dpkg");
    let root = dir.join(format!("deb-{rev}"));
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::create_dir_all(root.join("usr/share/doc/kea-premium-hooks")).unwrap();
    let control = format!("Package: kea-premium-hooks\nVersion: 2.2.0-{rev}+deb12\nArchitecture: amd64\nMaintainer: keapack tests <test@example.org>\nDescription: hook libraries for the repair tests\n A package made at run time.\n");
    fs::write(root.join("DEBIAN/control"), control).unwrap();
    fs::write(root.join("usr/share/doc/kea-premium-hooks/README"), format!("revision {rev}\n")).unwrap();
    let out = dir.join(format!("kea-premium-hooks_2.2.0-{rev}+deb12_amd64.deb"));
    ok(Command::new("dpkg-deb").args(["--build", "--root-owner-group"]).arg(&root).arg(&out).env("SOURCE_DATE_EPOCH", "1700000000").output().unwrap(), "dpkg-deb --build");
    out
}

/// kea-premium-hooks-2.2.0-`rev`.el9.x86_64.rpm, from the `rpm` crate's builder, in `dir`.
pub fn rpm(dir: &Path, rev: u32) -> PathBuf {
    let mut b = rpm::PackageBuilder::new("kea-premium-hooks", "2.2.0", "MIT", "x86_64", "hook libraries for the repair tests");
    b.release(format!("{rev}.el9"));
    b.description("A package made at run time.");
    b.with_file_contents(format!("revision {rev}\n"), rpm::FileOptions::new("/usr/share/doc/kea-premium-hooks/README")).unwrap();
    let out = dir.join(format!("kea-premium-hooks-2.2.0-{rev}.el9.x86_64.rpm"));
    let mut bytes = Vec::new();
    b.build().unwrap().write(&mut bytes).unwrap();
    fs::write(&out, bytes).unwrap();
    out
}

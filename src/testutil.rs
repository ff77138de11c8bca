//! Test support shared by the unit tests of several modules: a sample `PackageSpec` (and a
//! realistic one), writing and re-writing packages, and running the real tools the tests check
//! packages with. Compiled only for tests.

use crate::plan::spec::*;
use std::process::Command;

pub const MTIME: u64 = 1_709_251_200; // 2024-03-01T00:00:00Z

/// Run a real tool (TZ=UTC, LC_ALL=C); panics, naming the Debian package to install, if the
/// tool is missing.
fn output(tool: &str, debian_package: &str, args: &[&str]) -> std::process::Output {
    match Command::new(tool).args(args).env("TZ", "UTC").env("LC_ALL", "C").output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{tool}` is not installed: apt-get install {debian_package}")
        }
        Err(e) => panic!("cannot run `{tool}`: {e}"),
    }
}

/// Run a tool that may fail (linters); returns (success, stdout followed by stderr).
pub fn run_status(tool: &str, debian_package: &str, args: &[&str]) -> (bool, String) {
    let out = output(tool, debian_package, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Run a tool that must succeed; returns its stdout.
pub fn run(tool: &str, debian_package: &str, args: &[&str]) -> String {
    let out = output(tool, debian_package, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{tool} {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Write `spec` under its conventional name in `dir`; returns the path.
pub fn write_file(spec: &PackageSpec, dir: &std::path::Path) -> String {
    let path = dir.join(spec.file_name());
    crate::emit::write_package(spec, &mut std::fs::File::create(&path).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// Writing twice gives the same bytes, even after the on-disk source file's mtime changes.
pub fn assert_reproducible(format: Format, c: Compression) {
    let (_tmp, spec) = sample_spec(format, c);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    crate::emit::write_package(&spec, &mut a).unwrap();
    let Source::Path(p) = &spec.files[0].source else { panic!("fixture file 0 is on disk") };
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12_345)).unwrap();
    crate::emit::write_package(&spec, &mut b).unwrap();
    assert!(a == b, "{format:?} {c:?}: two writes differ");
}

/// What the planner would hand over: a real ELF library of this machine's architecture,
/// and for deb the copyright file, changelog.Debian.gz and a libc dependency.
pub fn realistic_spec(format: Format) -> (tempfile::TempDir, PackageSpec) {
    let (tmp, mut spec) = sample_spec(format, if format == Format::Deb { Compression::Xz } else { Compression::Zstd });
    let libc_files = run("dpkg", "dpkg", &["-L", "libc6"]);
    let elf = libc_files.lines().find(|l| l.ends_with("/libdl.so.2")).expect("libc6 ships libdl.so.2");
    spec.files[0] = FileEntry { source: Source::Path(elf.into()), mode: 0o644, ..spec.files[0].clone() };
    spec.changelog[0].text = "Initial release. (Closes: #1000000)".into();
    if format == Format::Rpm {
        spec.arch = run("uname", "coreutils", &["-m"]).trim().into();
        return (tmp, spec);
    }
    spec.arch = run("dpkg", "dpkg", &["--print-architecture"]).trim().into();
    spec.depends.push(Relation { name: "libc6".into(), constraint: Some((Op::Ge, "2.34".into())) });
    spec.files.retain(|f| f.role != FileRole::License);
    let copyright = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: kea\n\n\
        Files: *\nCopyright: 2024 Internet Systems Consortium, Inc.\nLicense: MPL-2.0\n";
    let changelog = crate::plan::changelog::changelog_debian_gz(&spec);
    for (name, bytes) in [("copyright", copyright.as_bytes().to_vec()), ("changelog.Debian.gz", changelog)] {
        let path = format!("/usr/share/doc/kea-hook-test/{name}");
        spec.files.push(FileEntry { path, source: Source::Bytes(bytes), mode: 0o644, role: FileRole::Doc });
    }
    spec.files.sort_by(|a, b| a.path.cmp(&b.path));
    (tmp, spec)
}

/// Two payload files (one streamed from disk, one in memory), a doc and a license file, an
/// empty owned directory, a postinst, and Depends using every operator.
pub fn sample_spec(format: Format, compression: Compression) -> (tempfile::TempDir, PackageSpec) {
    let tmp = tempfile::tempdir().unwrap();
    let so = tmp.path().join("libdhcp_test.so");
    std::fs::write(&so, vec![0x5a; 3000]).unwrap();
    let file = |path: &str, source, mode, role| FileEntry { path: path.into(), source, mode, role };
    let rel = |name: &str, c: Option<(Op, &str)>| Relation { name: name.into(), constraint: c.map(|(o, v)| (o, v.into())) };
    let spec = PackageSpec {
        format,
        name: "kea-hook-test".into(),
        version: "2.6.5".into(),
        revision: "1".into(),
        arch: if format == Format::Deb { "amd64" } else { "x86_64" }.into(),
        summary: "Test hook library for Kea".into(),
        description: "A hook library used by the emitter tests.\n\nIt does nothing.".into(),
        maintainer: "Test Packager <packager@example.org>".into(),
        homepage: "https://www.isc.org/kea/".into(),
        license: "MPL-2.0".into(),
        section: "net".into(),
        depends: vec![
            rel("kea-common", Some((Op::Ge, "2.6.5"))),
            rel("kea-common", Some((Op::Lt, "2.6.6"))),
            rel("kea-libs", Some((Op::Eq, "2.6.5"))),
            rel("adduser", None),
        ],
        conflicts: Vec::new(),
        replaces: Vec::new(),
        files: vec![
            file("/usr/lib/kea/hooks/libdhcp_test.so", Source::Path(so), 0o755, FileRole::Plain),
            file("/usr/share/doc/kea-hook-test/README", Source::Bytes(b"read me\n".to_vec()), 0o644, FileRole::Doc),
            file("/usr/share/licenses/kea-hook-test/LICENSE", Source::Bytes(b"MPL-2.0\n".to_vec()), 0o644, FileRole::License),
        ],
        owned_dirs: vec!["/usr/lib/kea/hooks".into(), "/var/lib/kea-hook-test".into()],
        pre_install: None,
        post_install: Some("#!/bin/sh\nset -e\necho configured kea-hook-test\n".into()),
        post_remove: None,
        changelog: vec![ChangelogEntry {
            version: "2.6.5-1".into(),
            author: "Test Packager <packager@example.org>".into(),
            time: MTIME,
            text: "Package the test hook.".into(),
        }],
        mtime: MTIME,
        compression,
    };
    (tmp, spec)
}

#[test]
#[should_panic(expected = "apt-get install no-such-package")]
fn missing_tool_fails_naming_the_package() {
    run("keapack-no-such-tool", "no-such-package", &[]);
}

//! Test support for the plan and the layers above it: a sample `PackageSpec` and a realistic one.
//! Compiled only for tests.

use crate::plan::spec::*;
use crate::support::testutil::run;

pub(crate) const MTIME: u64 = 1_709_251_200; // 2024-03-01T00:00:00Z

/// What the planner would hand over: a real ELF library of this machine's architecture,
/// and for deb the copyright file, changelog.Debian.gz and a libc dependency.
pub(crate) fn realistic_spec(format: Format) -> (tempfile::TempDir, PackageSpec) {
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
        spec.files.push(FileEntry::new(path, Source::Bytes(bytes), 0o644, FileRole::Doc));
    }
    spec.files.sort_by(|a, b| a.path.cmp(&b.path));
    (tmp, spec)
}

/// Two payload files (one streamed from disk, one in memory), a doc and a license file, an
/// empty owned directory, a postinst, and Depends using every operator.
pub(crate) fn sample_spec(format: Format, compression: Compression) -> (tempfile::TempDir, PackageSpec) {
    let tmp = tempfile::tempdir().unwrap();
    let so = tmp.path().join("libdhcp_test.so");
    std::fs::write(&so, vec![0x5a; 3000]).unwrap();
    let file = |path: &str, source, mode, role| FileEntry::new(path, source, mode, role);
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
        links: Vec::new(),
        owned_dirs: vec!["/usr/lib/kea/hooks".into(), "/var/lib/kea-hook-test".into()],
        dir_attrs: Vec::new(),
        pre_install: None,
        post_install: Some("#!/bin/sh\nset -e\necho configured kea-hook-test\n".into()),
        pre_remove: None,
        deb_control: Vec::new(),
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


/// Add what whole-Kea packages carry beyond a hook: a configuration file under /etc/kea, a file
/// owned by group `kea`, a relative symbolic link (`libfoo.so.1 -> libfoo.so.1.0.0`, its target
/// in the package), /etc/kea as 0750 root:kea, and a pre-removal script.
pub(crate) fn add_whole_kea_parts(spec: &mut PackageSpec) {
    let mut conf = FileEntry::new("/etc/kea/kea-hook-test.conf", Source::Bytes(b"{ }\n".to_vec()), 0o644, FileRole::Plain);
    conf.config = true;
    let mut state = FileEntry::new("/var/lib/kea-hook-test/state.json", Source::Bytes(b"[]\n".to_vec()), 0o640, FileRole::Plain);
    state.group = Some("kea".into());
    let lib = FileEntry::new("/usr/lib/kea-hook-test/libfoo.so.1.0.0", Source::Bytes(vec![0x7f; 100]), 0o644, FileRole::Plain);
    spec.files.extend([conf, state, lib]);
    spec.files.sort_by(|a, b| a.path.cmp(&b.path));
    spec.links.push(LinkEntry { path: "/usr/lib/kea-hook-test/libfoo.so.1".into(), target: "libfoo.so.1.0.0".into() });
    spec.owned_dirs.push("/etc/kea".into());
    spec.owned_dirs.sort();
    spec.dir_attrs.push(DirEntry { path: "/etc/kea".into(), mode: 0o750, group: Some("kea".into()) });
    spec.pre_remove = Some("#!/bin/sh\nset -e\necho removing kea-hook-test\n".into());
}

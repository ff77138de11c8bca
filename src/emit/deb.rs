//! The `.deb` emitter: one `PackageSpec` in, the bytes of a Debian binary package out.
//!
//! Layout: an ar archive of `debian-binary`, `control.tar[.ext]`, `data.tar[.ext]`, every member
//! and every tar header stamped with `spec.mtime`, owner 0/0 `root`. The data tar is streamed
//! through the compressor into a temporary file (its size must be known for the ar header), with
//! file contents streamed from disk and MD5-summed on the way; the control tar is small and built
//! in memory.

use crate::support::digest::hex;
use super::tarball::{Compressor, TarWriter, extension};
use crate::plan::spec::{FileEntry, LinkEntry, PackageSpec, Source};
use anyhow::{Context, Result, bail, ensure};
use md5::{Digest, Md5};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};

/// Write `spec` as a `.deb` to `out`.
pub(crate) fn write(spec: &PackageSpec, out: &mut dyn Write) -> Result<()> {
    let ext = extension(spec.compression);
    let mut data = tempfile::tempfile().context("creating a temporary file for data.tar")?;
    let summary = write_data_tar(spec, Compressor::new(spec.compression, &mut data)?)?;
    let data_len = data.stream_position()?;
    data.rewind()?;

    let control = control_tar(spec, &summary)?;
    let mut ar = ar::Builder::new(out);
    let mut member = |name: String, size: u64, body: &mut dyn Read| -> Result<()> {
        let mut h = ar::Header::new(name.into_bytes(), size);
        h.set_mtime(spec.mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mode(0o100644);
        ar.append(&h, body)?;
        Ok(())
    };
    member("debian-binary".into(), 4, &mut &b"2.0\n"[..])?;
    member(format!("control.tar{ext}"), control.len() as u64, &mut &control[..])?;
    member(format!("data.tar{ext}"), data_len, &mut data)?;
    Ok(())
}

/// What writing the data tar learned: `md5sums` lines and the Installed-Size in KiB.
struct DataSummary {
    md5sums: String,
    installed_kib: u64,
}

enum Item<'a> {
    /// A directory and its permission bits.
    Dir(u32),
    File(&'a FileEntry),
    Link(&'a LinkEntry),
}

/// Every entry of the data tar, keyed by its path components (so a directory sorts before its
/// contents and siblings sort by name): each file and link, every parent of every file or
/// link, every owned dir. Directories are 0755 unless `dir_attrs` gives their mode; the group
/// of a `dir_attrs` entry is not written (see [`write_data_tar`]).
fn data_items(spec: &PackageSpec) -> Result<Vec<(Vec<&str>, Item<'_>)>> {
    let mut dirs = BTreeSet::new();
    let mut items = Vec::new();
    for f in &spec.files {
        let parts = components(&f.path)?;
        add_parents(&parts, &mut dirs);
        items.push((parts, Item::File(f)));
    }
    for l in &spec.links {
        let parts = components(&l.path)?;
        ensure!(!l.target.is_empty() && !l.target.contains(['\n', '\0']),
            "symbolic link {} has the target {:?}: a target must be non-empty, one line, without NUL bytes", l.path, l.target);
        add_parents(&parts, &mut dirs);
        items.push((parts, Item::Link(l)));
    }
    let mut modes = BTreeMap::new();
    for d in &spec.dir_attrs {
        ensure!(spec.owned_dirs.contains(&d.path),
            "directory {} has its own mode or group (dir_attrs) but is not among the owned directories; add it to owned_dirs", d.path);
        let parts = components(&d.path)?;
        let mode = d.mode & 0o7777;
        if let Some(old) = modes.insert(parts.clone(), mode) {
            ensure!(old == mode, "directory {} is given two modes ({old:o} and {mode:o}) in dir_attrs; give it one", d.path);
        }
        add_parents(&parts, &mut dirs);
        dirs.insert(parts);
    }
    for d in &spec.owned_dirs {
        let parts = components(d)?;
        add_parents(&parts, &mut dirs);
        dirs.insert(parts);
    }
    items.extend(dirs.into_iter().map(|d| {
        let mode = modes.get(&d).copied().unwrap_or(0o755);
        (d, Item::Dir(mode))
    }));
    items.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in items.windows(2) {
        ensure!(pair[0].0 != pair[1].0, "/{} is in the package twice (or is both a file and a directory)", pair[0].0.join("/"));
    }
    Ok(items)
}

/// Insert every proper prefix of `parts` (the root `[]` included) into `dirs`.
fn add_parents<'a>(parts: &[&'a str], dirs: &mut BTreeSet<Vec<&'a str>>) {
    for i in 0..parts.len() {
        dirs.insert(parts[..i].to_vec());
    }
}

/// `/usr/lib/x` → `["usr", "lib", "x"]`, rejecting relative, `.`/`..` and empty components.
pub(crate) fn components(path: &str) -> Result<Vec<&str>> {
    let Some(rest) = path.strip_prefix('/') else { bail!("package path {path:?} is not absolute") };
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains(['\n', '\0'])) {
        bail!("package path {path:?} is not normalized");
    }
    Ok(parts)
}

/// Stream the data tar into `out`; returns md5sums and Installed-Size.
///
/// Installed-Size follows dpkg-gencontrol: each regular file counts ceil(size / 1024) KiB, each
/// symbolic link ceil(length of its target / 1024) KiB (its `lstat` size), and every other
/// object (here: each directory entry, including `./`) counts 1 KiB.
///
/// Every entry is owned by root:root (uid/gid 0) whatever the spec's `group` of a file or
/// directory says: the group may not exist before the package's maintainer scripts create it,
/// so the plan's scripts set it (a tar entry naming it would be left to whatever gid the name
/// resolves to at unpack time). Conffiles are not in md5sums (dpkg records their sums itself;
/// debhelper leaves them out the same way).
fn write_data_tar<W: Write>(spec: &PackageSpec, out: Compressor<W>) -> Result<DataSummary> {
    let mut tar = TarWriter::new(out, spec.mtime);
    let (mut md5sums, mut installed_kib) = (String::new(), 0);
    for (parts, item) in data_items(spec)? {
        let rel = parts.join("/");
        match item {
            Item::Dir(mode) => {
                tar.dir(&if rel.is_empty() { "./".into() } else { format!("./{rel}/") }, mode)?;
                installed_kib += 1;
            }
            Item::Link(l) => {
                tar.symlink(&format!("./{rel}"), &l.target).with_context(|| format!("adding symbolic link {} to data.tar", l.path))?;
                installed_kib += (l.target.len() as u64).div_ceil(1024);
            }
            Item::File(f) => {
                let (inner, size) = open(&f.source)?;
                let mut hasher = Hashing { inner, md5: Md5::new() };
                tar.file(&format!("./{rel}"), f.mode, size, &mut hasher)
                    .with_context(|| format!("adding {} to data.tar", f.path))?;
                if !f.config {
                    md5sums.push_str(&format!("{}  {rel}\n", hex(&hasher.md5.finalize())));
                }
                installed_kib += size.div_ceil(1024);
            }
        }
    }
    tar.finish()?.finish()?.flush()?;
    Ok(DataSummary { md5sums, installed_kib })
}

/// A reader over a file's bytes, and their length.
fn open(source: &Source) -> Result<(Box<dyn Read + '_>, u64)> {
    Ok(match source {
        Source::Bytes(b) => (Box::new(&b[..]), b.len() as u64),
        Source::Path(p) => {
            let file = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
            let len = file.metadata()?.len();
            (Box::new(file), len)
        }
    })
}

/// A reader that MD5-sums what passes through it.
struct Hashing<R> {
    inner: R,
    md5: Md5,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.md5.update(&buf[..n]);
        Ok(n)
    }
}

/// The compressed control tar: `./`, then sorted by name: `./conffiles` (when the package has
/// configuration files), `./control`, `./md5sums` (when a file is not a conffile), and the
/// maintainer scripts the spec has (`./postinst`, `./postrm`, `./preinst`, `./prerm`).
fn control_tar(spec: &PackageSpec, data: &DataSummary) -> Result<Vec<u8>> {
    let control = control_file(spec, data.installed_kib)?;
    let mut tar = TarWriter::new(Compressor::new(spec.compression, Vec::new())?, spec.mtime);
    tar.dir("./", 0o755)?;
    // Every member, written in name order.
    let mut members: std::collections::BTreeMap<String, (u32, String)> = std::collections::BTreeMap::new();
    let conffiles = conffiles(spec)?;
    if !conffiles.is_empty() {
        members.insert("conffiles".into(), (0o644, conffiles));
    }
    members.insert("control".into(), (0o644, control));
    if !data.md5sums.is_empty() {
        members.insert("md5sums".into(), (0o644, data.md5sums.clone()));
    }
    let scripts = [("postinst", &spec.post_install), ("postrm", &spec.post_remove), ("preinst", &spec.pre_install), ("prerm", &spec.pre_remove)];
    for (name, script) in scripts {
        let Some(script) = script else { continue };
        let script = if script.ends_with('\n') { script.clone() } else { format!("{script}\n") };
        ensure!(script.starts_with("#!"), "{name} must start with a #! line");
        members.insert(name.into(), (0o755, script));
    }
    for (name, text) in &spec.deb_control {
        ensure!(matches!(name.as_str(), "shlibs" | "triggers"), "control member {name}: only shlibs and triggers can be given");
        ensure!(members.insert(name.clone(), (0o644, text.clone())).is_none(), "control member {name} given twice");
    }
    for (name, (mode, text)) in &members {
        tar.file(&format!("./{name}"), *mode, text.len() as u64, &mut text.as_bytes())?;
    }
    Ok(tar.finish()?.finish()?)
}

/// The `conffiles` member: the absolute path of every configuration file, one a line, sorted;
/// empty when there is none.
fn conffiles(spec: &PackageSpec) -> Result<String> {
    let mut paths = BTreeSet::new();
    for f in spec.files.iter().filter(|f| f.config) {
        paths.insert(format!("/{}\n", components(&f.path)?.join("/")));
    }
    Ok(paths.into_iter().collect())
}

/// A relation field's value: `a (>= 1), b`.
fn relation_field(relations: &[crate::plan::spec::Relation]) -> String {
    let one = |r: &crate::plan::spec::Relation| match &r.constraint {
        None => r.name.clone(),
        Some((op, v)) => format!("{} ({} {v})", r.name, op.deb()),
    };
    relations.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// The `control` file, fields in the order dpkg-gencontrol writes them.
fn control_file(spec: &PackageSpec, installed_kib: u64) -> Result<String> {
    let version = if spec.revision.is_empty() { spec.version.clone() } else { format!("{}-{}", spec.version, spec.revision) };
    let fields = [
        ("Package", spec.name.clone()),
        ("Version", version),
        ("Architecture", spec.arch.clone()),
        ("Maintainer", spec.maintainer.clone()),
        ("Installed-Size", installed_kib.to_string()),
        ("Depends", relation_field(&spec.depends)),
        ("Conflicts", relation_field(&spec.conflicts)),
        ("Replaces", relation_field(&spec.replaces)),
        ("Section", spec.section.clone()),
        ("Priority", "optional".into()),
        ("Homepage", spec.homepage.clone()),
        ("Description", spec.summary.clone()),
    ];
    let mut out = String::new();
    for (name, value) in fields {
        ensure!(!value.contains('\n'), "control field {name} must be one line: {value:?}");
        if !value.is_empty() {
            out.push_str(&format!("{name}: {}\n", value.trim()));
        } else {
            ensure!(!matches!(name, "Package" | "Version" | "Architecture" | "Maintainer" | "Description"), "control field {name} is empty");
        }
    }
    // Long description: one leading space per line, blank lines as ` .`.
    let long = spec.description.trim_matches('\n');
    if !long.trim().is_empty() {
        for line in long.lines().map(str::trim_end) {
            out.push_str(&if line.is_empty() { " .\n".to_string() } else { format!(" {line}\n") });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::{MTIME, add_whole_kea_parts, realistic_spec, sample_spec};
    use crate::emit::testutil::{assert_reproducible, write_file};
    use crate::support::testutil::{run, run_status};
    use crate::plan::spec::{Compression, FileEntry, FileRole, Format};

    const ALL: [Compression; 4] = [Compression::Xz, Compression::Gzip, Compression::Zstd, Compression::None];

    #[test]
    fn dpkg_deb_reads_every_compression() {
        for c in ALL {
            let (tmp, mut spec) = sample_spec(Format::Deb, c);
            let long = format!("/usr/share/kea-hook-test/{}/long-name.json", "x".repeat(110));
            spec.files.push(FileEntry::new(long.clone(), Source::Bytes(b"{}\n".to_vec()), 0o644, FileRole::Plain));
            let deb = write_file(&spec, tmp.path());

            let info = run("dpkg-deb", "dpkg", &["-I", &deb]);
            for want in ["Package: kea-hook-test\n", "Version: 2.6.5-1\n", "Architecture: amd64\n", "Priority: optional\n",
                "Maintainer: Test Packager <packager@example.org>\n", "Description: Test hook library for Kea\n", " .\n", " postinst "] {
                assert!(info.contains(want), "{c:?}: {want:?} missing from\n{info}");
            }
            let depends = run("dpkg-deb", "dpkg", &["-f", &deb, "Depends"]);
            assert_eq!(depends, "kea-common (>= 2.6.5), kea-common (<< 2.6.6), kea-libs (= 2.6.5), adduser\n");

            let listing = run("dpkg-deb", "dpkg", &["-c", &deb]);
            let rows: Vec<(&str, &str)> = listing.lines().map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!((f[1], f[3], f[4]), ("root/root", "2024-03-01", "00:00"), "{l}");
                (f[0], f[5])
            }).collect();
            let dir = |p| ("drwxr-xr-x", p);
            let long_rel = format!(".{long}");
            assert_eq!(rows, vec![
                dir("./"), dir("./usr/"), dir("./usr/lib/"), dir("./usr/lib/kea/"), dir("./usr/lib/kea/hooks/"),
                ("-rwxr-xr-x", "./usr/lib/kea/hooks/libdhcp_test.so"),
                dir("./usr/share/"), dir("./usr/share/doc/"), dir("./usr/share/doc/kea-hook-test/"),
                ("-rw-r--r--", "./usr/share/doc/kea-hook-test/README"),
                dir("./usr/share/kea-hook-test/"), dir(&long_rel[..long_rel.len() - "long-name.json".len()]),
                ("-rw-r--r--", &long_rel),
                dir("./usr/share/licenses/"), dir("./usr/share/licenses/kea-hook-test/"),
                ("-rw-r--r--", "./usr/share/licenses/kea-hook-test/LICENSE"),
                dir("./var/"), dir("./var/lib/"), dir("./var/lib/kea-hook-test/"),
            ]);

            // The md5sums must verify against what dpkg-deb extracts.
            let root = tmp.path().join("root");
            run("dpkg-deb", "dpkg", &["-R", &deb, root.to_str().unwrap()]);
            let ok = run("sh", "dash", &["-c", &format!("cd '{}' && md5sum -c DEBIAN/md5sums", root.display())]);
            assert_eq!(ok.matches(": OK").count(), 4, "{ok}");
            let postinst = std::fs::read_to_string(root.join("DEBIAN/postinst")).unwrap();
            assert_eq!(postinst, "#!/bin/sh\nset -e\necho configured kea-hook-test\n");
        }
    }

    #[test]
    fn same_spec_same_bytes_whatever_the_disk_says() {
        ALL.into_iter().for_each(|c| assert_reproducible(Format::Deb, c));
    }

    /// (name, mode, mtime, uid, gid, uname) of every entry of a gzipped tar.
    fn tar_headers(gz: &[u8]) -> Vec<(String, u32, u64, u64, u64, String)> {
        let mut t = tar::Archive::new(flate2::read::GzDecoder::new(gz));
        t.entries().unwrap().map(|e| {
            let e = e.unwrap();
            let h = e.header();
            let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
            (name, h.mode().unwrap(), h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap(), h.username().unwrap().unwrap().into())
        }).collect()
    }

    #[test]
    fn ar_and_tar_headers_are_fixed() {
        let (_tmp, spec) = sample_spec(Format::Deb, Compression::Gzip);
        let mut deb = Vec::new();
        write(&spec, &mut deb).unwrap();
        assert!(deb.starts_with(b"!<arch>\n"));
        let mut ar = ar::Archive::new(&deb[..]);
        let mut m = Vec::new();
        while let Some(e) = ar.next_entry() {
            let mut e = e.unwrap();
            let h = e.header().clone();
            assert_eq!((h.mtime(), h.uid(), h.gid(), h.mode()), (MTIME, 0, 0, 0o100644));
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            m.push((String::from_utf8(h.identifier().to_vec()).unwrap(), body));
        }
        let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["debian-binary", "control.tar.gz", "data.tar.gz"]);
        assert_eq!(m[0].1, b"2.0\n");
        let fixed = |n: &str, mode| (n.to_string(), mode, MTIME, 0, 0, "root".to_string());
        let control = tar_headers(&m[1].1);
        assert_eq!(control, vec![fixed("./", 0o755), fixed("./control", 0o644), fixed("./md5sums", 0o644), fixed("./postinst", 0o755)]);
        let data = tar_headers(&m[2].1);
        assert_eq!(data.len(), 16);
        assert!(data.iter().all(|(_, _, t, u, g, n)| (*t, *u, *g, n.as_str()) == (MTIME, 0, 0, "root")));
        assert!(data.contains(&fixed("./usr/lib/kea/hooks/libdhcp_test.so", 0o755)));
        assert!(data.contains(&fixed("./var/lib/kea-hook-test/", 0o755)));
    }

    #[test]
    fn control_md5sums_and_installed_size() {
        let (_tmp, spec) = sample_spec(Format::Deb, Compression::None);
        let summary = write_data_tar(&spec, Compressor::new(Compression::None, Vec::new()).unwrap()).unwrap();
        // Files: 3000 B → 3 KiB, 8 B → 1, 8 B → 1; 13 directories (including ./) → 13.
        assert_eq!(summary.installed_kib, 18);
        let lines: Vec<&str> = summary.md5sums.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with("  usr/lib/kea/hooks/libdhcp_test.so"));
        assert_eq!(lines[1], format!("{}  usr/share/doc/kea-hook-test/README", hex(&Md5::digest(b"read me\n"))));
        assert_eq!(control_file(&spec, 18).unwrap(), concat!(
            "Package: kea-hook-test\nVersion: 2.6.5-1\nArchitecture: amd64\n",
            "Maintainer: Test Packager <packager@example.org>\nInstalled-Size: 18\n",
            "Depends: kea-common (>= 2.6.5), kea-common (<< 2.6.6), kea-libs (= 2.6.5), adduser\n",
            "Section: net\nPriority: optional\nHomepage: https://www.isc.org/kea/\n",
            "Description: Test hook library for Kea\n A hook library used by the emitter tests.\n .\n It does nothing.\n"));
        let mut bad = spec.clone();
        bad.files.push(bad.files[0].clone());
        assert!(write(&bad, &mut Vec::new()).is_err(), "duplicate paths must be refused");
        for path in ["usr/relative", "/usr/../etc/x", "/usr//x", "/usr/new\nline"] {
            bad.files[3].path = path.into();
            assert!(write(&bad, &mut Vec::new()).is_err(), "{path:?} must be refused");
        }
    }

    /// A realistic package (real ELF, copyright, changelog.Debian.gz) draws no lintian error or
    /// warning: nothing about the archive, control file, md5sums or sizes is off.
    #[test]
    fn lintian_is_quiet_on_a_realistic_deb() {
        let (tmp, spec) = realistic_spec(Format::Deb);
        let deb = write_file(&spec, tmp.path());
        let (_, out) = run_status("lintian", "lintian", &["--tag-display-limit", "0", "-EIL", "+pedantic", &deb]);
        let bad: Vec<&str> = out.lines().filter(|l| l.starts_with("E:") || l.starts_with("W:")).collect();
        assert!(bad.is_empty(), "lintian:\n{out}");
    }

    /// A conffile, a group-owned file, a relative symbolic link, a 0750 directory and a prerm,
    /// read back with dpkg-deb.
    #[test]
    fn conffiles_links_dir_modes_and_prerm() {
        let (tmp, mut spec) = sample_spec(Format::Deb, Compression::Xz);
        add_whole_kea_parts(&mut spec);
        let deb = write_file(&spec, tmp.path());

        let listing = run("dpkg-deb", "dpkg", &["-c", &deb]);
        let rows: Vec<String> = listing.lines().map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!((f[1], f[3], f[4]), ("root/root", "2024-03-01", "00:00"), "{l}");
            format!("{} {} {}", f[0], f[2], f[5..].join(" "))
        }).collect();
        for want in ["drwxr-x--- 0 ./etc/kea/", "-rw-r--r-- 4 ./etc/kea/kea-hook-test.conf",
            "lrwxrwxrwx 0 ./usr/lib/kea-hook-test/libfoo.so.1 -> libfoo.so.1.0.0",
            "-rw-r--r-- 100 ./usr/lib/kea-hook-test/libfoo.so.1.0.0", "drwxr-xr-x 0 ./usr/lib/kea-hook-test/",
            "-rw-r----- 3 ./var/lib/kea-hook-test/state.json", "drwxr-xr-x 0 ./etc/"] {
            assert!(rows.iter().any(|r| r == want), "{want:?} missing from\n{listing}");
        }
        assert_eq!(rows.len(), 23, "{listing}");

        // conffiles holds exactly the configuration file; prerm is there, executable.
        assert_eq!(run("dpkg-deb", "dpkg", &["-I", &deb, "conffiles"]), "/etc/kea/kea-hook-test.conf\n");
        let members = run("sh", "dash", &["-c", &format!("dpkg-deb --ctrl-tarfile '{deb}' | tar -tvf -")]);
        let members: Vec<String> = members.lines().map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", f[0], f[5])
        }).collect();
        assert_eq!(members, ["drwxr-xr-x ./", "-rw-r--r-- ./conffiles", "-rw-r--r-- ./control", "-rw-r--r-- ./md5sums",
            "-rwxr-xr-x ./postinst", "-rwxr-xr-x ./prerm"]);
        let root = tmp.path().join("root");
        run("dpkg-deb", "dpkg", &["-R", &deb, root.to_str().unwrap()]);
        assert_eq!(std::fs::read_to_string(root.join("DEBIAN/prerm")).unwrap(), "#!/bin/sh\nset -e\necho removing kea-hook-test\n");
        assert_eq!(std::fs::read_link(root.join("usr/lib/kea-hook-test/libfoo.so.1")).unwrap().to_str(), Some("libfoo.so.1.0.0"));

        // md5sums leaves the conffile out (dpkg keeps its sum) and verifies everything else.
        let md5sums = std::fs::read_to_string(root.join("DEBIAN/md5sums")).unwrap();
        assert!(!md5sums.contains("etc/kea"), "{md5sums}");
        let ok = run("sh", "dash", &["-c", &format!("cd '{}' && md5sum -c DEBIAN/md5sums", root.display())]);
        assert_eq!(ok.matches(": OK").count(), 5, "{ok}");

        // dpkg-gencontrol's count: 18 as in `control_md5sums_and_installed_size`, plus three
        // small files (1 KiB each), the link (its 15-byte target: 1 KiB), and /etc,
        // /etc/kea, /usr/lib/kea-hook-test (1 KiB each).
        assert_eq!(run("dpkg-deb", "dpkg", &["-f", &deb, "Installed-Size"]), "25\n");

        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&spec, &mut a).unwrap();
        write(&spec, &mut b).unwrap();
        assert!(a == b, "two writes differ");
    }

    #[test]
    fn bad_links_and_dir_attrs_are_refused() {
        let (_tmp, mut spec) = sample_spec(Format::Deb, Compression::None);
        add_whole_kea_parts(&mut spec);
        let err = |s: &PackageSpec| write(s, &mut Vec::new()).unwrap_err().to_string();
        let mut bad = spec.clone();
        bad.links[0].target = String::new();
        assert!(err(&bad).contains("libfoo.so.1 has the target \"\""), "{}", err(&bad));
        let mut bad = spec.clone();
        bad.links[0].path = "/usr/lib/kea-hook-test/libfoo.so.1.0.0".into();
        assert!(err(&bad).contains("in the package twice"), "{}", err(&bad));
        let mut bad = spec.clone();
        bad.owned_dirs.retain(|d| d != "/etc/kea");
        assert!(err(&bad).contains("not among the owned directories"), "{}", err(&bad));
        let mut bad = spec.clone();
        bad.dir_attrs.push(crate::plan::spec::DirEntry { mode: 0o700, ..bad.dir_attrs[0].clone() });
        assert!(err(&bad).contains("two modes"), "{}", err(&bad));
        let long = format!("../{}/libfoo.so.1.0.0", "t".repeat(120));
        let mut ok = spec.clone();
        ok.links[0].target = long.clone();
        let mut deb = Vec::new();
        write(&ok, &mut deb).unwrap();
        let mut ar = ar::Archive::new(&deb[..]);
        let mut data = None;
        while let Some(e) = ar.next_entry() {
            let mut e = e.unwrap();
            if e.header().identifier() == b"data.tar" {
                let mut body = Vec::new();
                e.read_to_end(&mut body).unwrap();
                data = Some(body);
            }
        }
        let data = data.expect("data.tar member");
        let mut t = tar::Archive::new(&data[..]);
        let link = t.entries().unwrap().map(|e| e.unwrap()).find(|e| e.header().entry_type() == tar::EntryType::Symlink).unwrap();
        assert_eq!(link.link_name_bytes().as_deref(), Some(long.as_bytes()), "a long target survives");
    }

    /// What lintian says about a realistic package with a conffile, a group-owned file, a link,
    /// a 0750 directory and a prerm: the 0750 /etc/kea and the 0640 file, which it flags in any
    /// package (nothing about the conffile, the link or the prerm).
    #[test]
    fn lintian_on_whole_kea_parts() {
        let (tmp, mut spec) = realistic_spec(Format::Deb);
        add_whole_kea_parts(&mut spec);
        let deb = write_file(&spec, tmp.path());
        let (_, out) = run_status("lintian", "lintian", &["--tag-display-limit", "0", "-EIL", "+pedantic", &deb]);
        let tags: Vec<&str> = out.lines().filter(|l| l.starts_with("E:") || l.starts_with("W:"))
            .map(|l| l.split_whitespace().nth(2).unwrap_or("")).collect();
        assert_eq!(tags, ["non-standard-dir-perm", "non-standard-file-perm"], "lintian:\n{out}");
    }
}

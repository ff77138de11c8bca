//! The `.rpm` emitter: one `PackageSpec` in, a binary RPM (v4) out, written by keapack itself so
//! that a payload of any size streams: each file is read once, into the cpio archive, through
//! the compressor into a temporary file, with its digest taken on the way; the header (which
//! names those digests and the payload's) is written after, then the payload is copied behind it.
//! Memory holds the header and the compressor's state, never a file's or the payload's bytes.
//!
//! What the header holds follows rpmbuild's v4 packages: the file list as base names, directory
//! names and indexes; SHA-256 file digests; the payload's SHA-256 compressed and uncompressed;
//! the dependencies rpm itself adds (`rpmlib(...)` features, the scriptlets' `/bin/sh`,
//! `config(NAME)`, `NAME(x86-64)`); the `user()`/`group()` provides that rpm 4.19+ makes from a
//! packaged `sysusers.d` file (and creates the users from); `Recommends: group(NAME)` for a file
//! owned by a group other than root. The `rpm` crate serialises the headers and reads packages
//! back in the tests.
//!
//! Reproducibility: every file and directory gets `spec.mtime`, owner `root:root` (the group
//! the spec names, if any), the spec's mode, symbolic links 0777; `BUILDTIME` is `spec.mtime`
//! (set, never clamped), the build host the fixed [`BUILD_HOST`], and the compressors' output
//! depends on the input only (xz's fixed blocks, as for the `.deb`; zstd single-threaded).

use super::rpm_header::signature_header;
use super::tarball::Compressor;
use crate::plan::spec::{Compression, FileRole, Op, PackageSpec, Source};
use crate::support::digest::hex;
use anyhow::{Context, Result, bail, ensure};
use rpm::{HeaderEntry, IndexData, IndexTag};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};

/// `RPMTAG_BUILDHOST`: fixed, so the machine's host name never reaches the package.
pub(crate) const BUILD_HOST: &str = "keapack";

// Dependency flags (rpm's rpmds.h).
const LESS: u32 = 0x2;
const GREATER: u32 = 0x4;
const EQUAL: u32 = 0x8;
const INTERP: u32 = 0x100;
const SCRIPT_PRE: u32 = 0x200;
const SCRIPT_POST: u32 = 0x400;
const SCRIPT_PREUN: u32 = 0x800;
const SCRIPT_POSTUN: u32 = 0x1000;
const FIND_PROVIDES: u32 = 0x8000;
const RPMLIB: u32 = 0x0100_0000;
const CONFIG: u32 = 0x1000_0000;

// File flags (rpm's rpmfiles.h).
const FILE_CONFIG: u32 = 0x1;
const FILE_DOC: u32 = 0x2;
const FILE_NOREPLACE: u32 = 0x10;
const FILE_LICENSE: u32 = 0x80;

/// `PGPHASHALGO_SHA256`, the file and payload digest algorithm.
const SHA256_ALGO: u32 = 8;

/// One dependency of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dep {
    name: String,
    flags: u32,
    version: String,
}

impl Dep {
    fn new(name: impl Into<String>, flags: u32, version: impl Into<String>) -> Self {
        Dep { name: name.into(), flags, version: version.into() }
    }
}

/// What a row of the file list holds.
enum Body<'a> {
    Dir,
    File(&'a Source),
    Link(&'a str),
}

/// One row of the file list (and one cpio entry).
struct Row<'a> {
    path: &'a str,
    /// Permission bits.
    perms: u16,
    group: &'a str,
    flags: u32,
    body: Body<'a>,
}

impl Row<'_> {
    fn mode(&self) -> u16 {
        let kind: u16 = match self.body {
            Body::Dir => 0o040000,
            Body::File(_) => 0o100000,
            Body::Link(_) => 0o120000,
        };
        kind | self.perms
    }
}

/// What writing the payload learned of each row: its size and digest.
struct Written {
    size: u32,
    digest: String,
}

/// The uncompressed archive's size and SHA-256, and the compressed payload's SHA-256.
struct Archive {
    size: u64,
    digest: String,
    compressed_digest: String,
}

/// Write `spec` as an `.rpm` to `out`.
pub(crate) fn write(spec: &PackageSpec, out: &mut dyn Write) -> Result<()> {
    let mtime = u32::try_from(spec.mtime).context("spec.mtime does not fit the rpm's 32-bit time fields")?;
    let rows = rows(spec)?;
    let mut payload = tempfile::tempfile().context("creating a temporary file for the rpm payload")?;
    let (written, archive) = write_payload(&rows, mtime, spec.compression, &mut payload)?;
    let payload_len = payload.stream_position()?;
    payload.rewind()?;

    let header = rpm::Header::from_entries(header_entries(spec, mtime, &rows, &written, &archive)?, IndexTag::RPMTAG_HEADERIMMUTABLE);
    let mut meta = rpm::PackageMetadata { lead: rpm::Lead::new(&spec.name), signature: rpm::Header::new_empty(), header };
    let header_bytes = meta.header_bytes().context("serialising the rpm header")?;
    meta.signature = signature_header(&header_bytes, payload_len, archive.size, None)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    meta.write(&mut out).context("writing the rpm headers")?;
    std::io::copy(&mut payload, &mut out).context("writing the rpm payload")?;
    out.flush()?;
    Ok(())
}

/// The file list: files, symbolic links and owned directories, sorted by path as rpm wants
/// them (the header's arrays and the cpio archive share this order).
fn rows(spec: &PackageSpec) -> Result<Vec<Row<'_>>> {
    let mut rows = Vec::with_capacity(spec.files.len() + spec.links.len() + spec.owned_dirs.len());
    for f in &spec.files {
        super::deb::components(&f.path)?;
        let mut flags = match f.role {
            FileRole::Plain => 0,
            FileRole::Doc => FILE_DOC,
            FileRole::License => FILE_LICENSE,
        };
        if f.config {
            flags |= FILE_CONFIG | FILE_NOREPLACE;
        }
        let perms = u16::try_from(f.mode & 0o7777).expect("masked to 12 bits");
        rows.push(Row { path: &f.path, perms, group: f.group.as_deref().unwrap_or("root"), flags, body: Body::File(&f.source) });
    }
    for l in &spec.links {
        super::deb::components(&l.path)?;
        ensure!(!l.target.is_empty() && !l.target.contains(['\n', '\0']),
            "symbolic link {} has the target {:?}: a target must be non-empty, one line, without NUL bytes; give it the path it points to", l.path, l.target);
        rows.push(Row { path: &l.path, perms: 0o777, group: "root", flags: 0, body: Body::Link(&l.target) });
    }
    for d in &spec.owned_dirs {
        super::deb::components(d)?;
        let (perms, group) = dir_attributes(spec, d)?;
        rows.push(Row { path: d, perms, group, flags: 0, body: Body::Dir });
    }
    if let Some(d) = spec.dir_attrs.iter().find(|d| !spec.owned_dirs.contains(&d.path)) {
        bail!("directory {} has its own mode or group (dir_attrs) but is not among the owned directories; add it to owned_dirs", d.path);
    }
    rows.sort_by(|a, b| a.path.cmp(b.path));
    for pair in rows.windows(2) {
        ensure!(pair[0].path != pair[1].path, "{} is in the package twice (or is both a file and a directory)", pair[0].path);
    }
    Ok(rows)
}

/// A writer that passes bytes on and takes their SHA-256 and count on the way.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing { inner, hasher: Sha256::new(), count: 0 }
    }
    fn finish(self) -> (W, u64, String) {
        (self.inner, self.count, hex(&self.hasher.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One newc ("070701") cpio header, as rpm's payloads carry them: inode, mode, owner 0:0, one
/// link, the time, the size, no devices, the name with its NUL, padded to four bytes.
fn cpio_header(out: &mut impl Write, name: &str, ino: u32, mode: u32, mtime: u32, size: u32) -> std::io::Result<()> {
    let namesize = name.len() + 1;
    let nlink = 1;
    write!(out, "070701{ino:08x}{mode:08x}{:08x}{:08x}{nlink:08x}{mtime:08x}{size:08x}", 0, 0)?;
    write!(out, "{:08x}{:08x}{:08x}{:08x}{namesize:08x}{:08x}", 0, 0, 0, 0, 0)?;
    out.write_all(name.as_bytes())?;
    out.write_all(&[0; 4][..1 + pad4(110 + namesize as u64)])
}

/// Bytes of padding after `len` bytes to reach a multiple of four.
fn pad4(len: u64) -> usize {
    ((4 - len % 4) % 4) as usize
}

/// Write the cpio archive of `rows` through the compressor into `file`. Each regular file is
/// read once, in pieces, its SHA-256 taken on the way.
fn write_payload(rows: &[Row<'_>], mtime: u32, compression: Compression, file: &mut std::fs::File) -> Result<(Vec<Written>, Archive)> {
    let compressed = Hashing::new(std::io::BufWriter::with_capacity(1 << 16, file));
    let mut cpio = Hashing::new(Compressor::new(compression, compressed)?);
    let mut written = Vec::with_capacity(rows.len());
    let mut buf = vec![0u8; 1 << 16];
    for (i, row) in rows.iter().enumerate() {
        let ino = u32::try_from(i + 1).context("too many files for one rpm")?;
        let name = format!(".{}", row.path);
        let mode = u32::from(row.mode());
        let too_big = || format!("{} is 4 GiB or more; keapack's rpms hold files under 4 GiB", row.path);
        let (size, digest) = match &row.body {
            Body::Dir => {
                cpio_header(&mut cpio, &name, ino, mode, mtime, 0)?;
                (0, String::new())
            }
            Body::Link(target) => {
                let size = u32::try_from(target.len()).with_context(too_big)?;
                cpio_header(&mut cpio, &name, ino, mode, mtime, size)?;
                cpio.write_all(target.as_bytes())?;
                (size, String::new())
            }
            Body::File(Source::Bytes(bytes)) => {
                let size = u32::try_from(bytes.len()).with_context(too_big)?;
                cpio_header(&mut cpio, &name, ino, mode, mtime, size)?;
                cpio.write_all(bytes)?;
                (size, hex(&Sha256::digest(bytes)))
            }
            Body::File(Source::Path(path)) => {
                let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {} for {}", path.display(), row.path))?;
                let meta = f.metadata().with_context(|| format!("cannot read {}", path.display()))?;
                ensure!(meta.is_file(), "{} (for {}) is not a regular file", path.display(), row.path);
                let size = u32::try_from(meta.len()).with_context(too_big)?;
                cpio_header(&mut cpio, &name, ino, mode, mtime, size)?;
                let mut hasher = Sha256::new();
                let mut left = u64::from(size);
                while left > 0 {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    let n = f.read(&mut buf[..want]).with_context(|| format!("cannot read {}", path.display()))?;
                    ensure!(n > 0, "{} shrank while it was being packaged; rerun once nothing writes it", path.display());
                    hasher.update(&buf[..n]);
                    cpio.write_all(&buf[..n])?;
                    left -= n as u64;
                }
                ensure!(f.read(&mut buf[..1])? == 0, "{} grew while it was being packaged; rerun once nothing writes it", path.display());
                (size, hex(&hasher.finalize()))
            }
        };
        cpio.write_all(&[0; 4][..pad4(u64::from(size))])?;
        written.push(Written { size, digest });
    }
    // The trailer: an empty entry named TRAILER!!!, with one link.
    cpio_header(&mut cpio, "TRAILER!!!", 0, 0, 0, 0)?;
    let (compressor, size, digest) = cpio.finish();
    let (buffered, _, compressed_digest) = compressor.finish().context("finishing the rpm payload's compression")?.finish();
    buffered.into_inner().map_err(|e| e.into_error()).context("writing the rpm payload")?;
    Ok((written, Archive { size, digest, compressed_digest }))
}

/// The main header's entries (the `rpm` crate lays them out, sorted by tag).
fn header_entries(spec: &PackageSpec, mtime: u32, rows: &[Row<'_>], written: &[Written], archive: &Archive) -> Result<Vec<HeaderEntry>> {
    let evr = format!("{}-{}", spec.version, spec.revision);
    let description = if spec.description.trim().is_empty() { spec.summary.trim() } else { spec.description.trim() };
    let total: u64 = written.iter().map(|w| u64::from(w.size)).sum();
    let total = u32::try_from(total).context("the package's files add up to 4 GiB or more; keapack's rpms hold less")?;
    let s = |v: &str| IndexData::StringTag(v.to_string());
    let mut e: Vec<(IndexTag, IndexData)> = vec![
        (IndexTag::RPMTAG_HEADERI18NTABLE, IndexData::StringArray(vec!["C".into()])),
        (IndexTag::RPMTAG_NAME, s(&spec.name)),
        (IndexTag::RPMTAG_VERSION, s(&spec.version)),
        (IndexTag::RPMTAG_RELEASE, s(&spec.revision)),
        (IndexTag::RPMTAG_SUMMARY, IndexData::I18NString(vec![spec.summary.clone()])),
        (IndexTag::RPMTAG_DESCRIPTION, IndexData::I18NString(vec![description.to_string()])),
        (IndexTag::RPMTAG_BUILDTIME, IndexData::Int32(vec![mtime])),
        (IndexTag::RPMTAG_BUILDHOST, s(BUILD_HOST)),
        (IndexTag::RPMTAG_SIZE, IndexData::Int32(vec![total])),
        (IndexTag::RPMTAG_LICENSE, s(&spec.license)),
        (IndexTag::RPMTAG_PACKAGER, s(&spec.maintainer)),
        // rpmbuild writes `Unspecified` when a spec has no Group (deprecated since Fedora 28 /
        // RHEL 8); rpmlint reports a missing Group tag as an error.
        (IndexTag::RPMTAG_GROUP, IndexData::I18NString(vec![if spec.section.is_empty() { "Unspecified".into() } else { spec.section.clone() }])),
        (IndexTag::RPMTAG_OS, s("linux")),
        (IndexTag::RPMTAG_ARCH, s(&spec.arch)),
        (IndexTag::RPMTAG_SOURCERPM, s(&format!("{}-{evr}.src.rpm", spec.name))),
        (IndexTag::RPMTAG_RPMVERSION, s(concat!("keapack ", env!("CARGO_PKG_VERSION")))),
        (IndexTag::RPMTAG_ENCODING, s("utf-8")),
        (IndexTag::RPMTAG_PAYLOADFORMAT, s("cpio")),
        (IndexTag::RPMTAG_PAYLOADFLAGS, s(compression_level(spec.compression))),
        (IndexTag::RPMTAG_FILEDIGESTALGO, IndexData::Int32(vec![SHA256_ALGO])),
        (IndexTag::RPMTAG_PAYLOADSHA256, IndexData::StringArray(vec![archive.compressed_digest.clone()])),
        (IndexTag::RPMTAG_PAYLOADSHA256ALT, IndexData::StringArray(vec![archive.digest.clone()])),
        (IndexTag::RPMTAG_PAYLOADSHA256ALGO, IndexData::Int32(vec![SHA256_ALGO])),
    ];
    if !spec.homepage.is_empty() {
        e.push((IndexTag::RPMTAG_URL, s(&spec.homepage)));
    }
    if let Some(name) = compressor_name(spec.compression) {
        e.push((IndexTag::RPMTAG_PAYLOADCOMPRESSOR, s(name)));
    }
    // Scriptlets run under /bin/sh with its builtins only; each asks for /bin/sh in its phase.
    let scripts = [
        (&spec.pre_install, IndexTag::RPMTAG_PREIN, IndexTag::RPMTAG_PREINPROG, SCRIPT_PRE),
        (&spec.post_install, IndexTag::RPMTAG_POSTIN, IndexTag::RPMTAG_POSTINPROG, SCRIPT_POST),
        (&spec.pre_remove, IndexTag::RPMTAG_PREUN, IndexTag::RPMTAG_PREUNPROG, SCRIPT_PREUN),
        (&spec.post_remove, IndexTag::RPMTAG_POSTUN, IndexTag::RPMTAG_POSTUNPROG, SCRIPT_POSTUN),
    ];
    let mut requires: Vec<Dep> = spec.depends.iter().map(dependency).collect();
    for (script, tag, prog, phase) in scripts {
        if let Some(script) = script {
            e.push((tag, s(&script_body(script))));
            e.push((prog, s("/bin/sh")));
            requires.push(Dep::new("/bin/sh", INTERP | phase, ""));
        }
    }
    if !rows.is_empty() {
        files_entries(&mut e, rows, written, mtime);
    }

    let mut provides = vec![Dep::new(&spec.name, EQUAL, &evr)];
    if let Some(isa) = isa(&spec.arch) {
        provides.push(Dep::new(format!("{}({isa})", spec.name), EQUAL, &evr));
    }
    if rows.iter().any(|r| r.flags & FILE_CONFIG != 0) {
        provides.push(Dep::new(format!("config({})", spec.name), CONFIG | EQUAL, &evr));
        requires.push(Dep::new(format!("config({})", spec.name), CONFIG | EQUAL, &evr));
    }
    let rpmlib = |feature: &str, version: &str| Dep::new(format!("rpmlib({feature})"), RPMLIB | LESS | EQUAL, version);
    requires.push(rpmlib("CompressedFileNames", "3.0.4-1"));
    requires.push(rpmlib("FileDigests", "4.6.0-1"));
    requires.push(rpmlib("PayloadFilesHavePrefix", "4.0-1"));
    if spec.compression == Compression::Zstd {
        requires.push(rpmlib("PayloadIsZstd", "5.4.18-1"));
    }
    // A group other than root: `Recommends: group(NAME)` (rpm 4.19+ creates such groups from
    // sysusers.d; older rpm ignores a weak dependency).
    let mut recommends: Vec<Dep> = Vec::new();
    for r in rows.iter().filter(|r| r.group != "root") {
        recommends.push(Dep::new(format!("group({})", r.group), SCRIPT_PRE | SCRIPT_POSTUN, ""));
    }
    let file_deps = sysusers_deps(rows, &mut provides, &mut requires)?;
    let mut conflicts: Vec<Dep> = spec.conflicts.iter().map(dependency).collect();
    // The spec's replaced packages are what rpm calls obsoleted.
    let mut obsoletes: Vec<Dep> = spec.replaces.iter().map(dependency).collect();
    for deps in [&mut provides, &mut requires, &mut conflicts, &mut obsoletes, &mut recommends] {
        deps.sort_by(|a, b| (&a.name, &a.version, a.flags).cmp(&(&b.name, &b.version, b.flags)));
        deps.dedup();
    }
    if !file_deps.is_empty() {
        let (x, n, dict) = depends_dict(rows.len(), &file_deps, &provides, &requires);
        e.push((IndexTag::RPMTAG_FILEDEPENDSX, IndexData::Int32(x)));
        e.push((IndexTag::RPMTAG_FILEDEPENDSN, IndexData::Int32(n)));
        e.push((IndexTag::RPMTAG_DEPENDSDICT, IndexData::Int32(dict)));
    }
    let kinds = [
        (provides, IndexTag::RPMTAG_PROVIDENAME, IndexTag::RPMTAG_PROVIDEFLAGS, IndexTag::RPMTAG_PROVIDEVERSION),
        (requires, IndexTag::RPMTAG_REQUIRENAME, IndexTag::RPMTAG_REQUIREFLAGS, IndexTag::RPMTAG_REQUIREVERSION),
        (conflicts, IndexTag::RPMTAG_CONFLICTNAME, IndexTag::RPMTAG_CONFLICTFLAGS, IndexTag::RPMTAG_CONFLICTVERSION),
        (obsoletes, IndexTag::RPMTAG_OBSOLETENAME, IndexTag::RPMTAG_OBSOLETEFLAGS, IndexTag::RPMTAG_OBSOLETEVERSION),
        (recommends, IndexTag::RPMTAG_RECOMMENDNAME, IndexTag::RPMTAG_RECOMMENDFLAGS, IndexTag::RPMTAG_RECOMMENDVERSION),
    ];
    for (deps, name, flags, version) in kinds {
        if !deps.is_empty() {
            e.push((name, IndexData::StringArray(deps.iter().map(|d| d.name.clone()).collect())));
            e.push((flags, IndexData::Int32(deps.iter().map(|d| d.flags).collect())));
            e.push((version, IndexData::StringArray(deps.iter().map(|d| d.version.clone()).collect())));
        }
    }
    if !spec.changelog.is_empty() {
        let mut times = Vec::new();
        for c in &spec.changelog {
            times.push(u32::try_from(c.time).context("changelog time does not fit 32 bits")?);
        }
        e.push((IndexTag::RPMTAG_CHANGELOGTIME, IndexData::Int32(times)));
        e.push((IndexTag::RPMTAG_CHANGELOGNAME, IndexData::StringArray(spec.changelog.iter().map(|c| format!("{} - {}", c.author, c.version)).collect())));
        e.push((IndexTag::RPMTAG_CHANGELOGTEXT, IndexData::StringArray(spec.changelog.iter().map(|c| changelog_text(&c.text)).collect())));
    }
    Ok(e.into_iter().map(|(tag, data)| HeaderEntry::new(tag as u32, data)).collect())
}

/// The file list's parallel arrays: sizes, modes, times, digests, link targets, flags, owners,
/// and the path split into directory names, their indexes and base names.
fn files_entries(e: &mut Vec<(IndexTag, IndexData)>, rows: &[Row<'_>], written: &[Written], mtime: u32) {
    let n = rows.len();
    let mut dirnames: Vec<&str> = Vec::new();
    let (mut dirindexes, mut basenames) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for r in rows {
        let cut = r.path.rfind('/').expect("paths are absolute") + 1;
        let (dir, base) = r.path.split_at(cut);
        let index = match dirnames.iter().position(|d| *d == dir) {
            Some(i) => i,
            None => {
                dirnames.push(dir);
                dirnames.len() - 1
            }
        };
        dirindexes.push(u32::try_from(index).expect("fewer directories than files"));
        basenames.push(base.to_string());
    }
    let strings = |f: &dyn Fn(usize) -> String| IndexData::StringArray((0..n).map(f).collect());
    e.extend([
        (IndexTag::RPMTAG_FILESIZES, IndexData::Int32(written.iter().map(|w| w.size).collect())),
        (IndexTag::RPMTAG_FILEMODES, IndexData::Int16(rows.iter().map(Row::mode).collect())),
        (IndexTag::RPMTAG_FILERDEVS, IndexData::Int16(vec![0; n])),
        (IndexTag::RPMTAG_FILEMTIMES, IndexData::Int32(vec![mtime; n])),
        (IndexTag::RPMTAG_FILEDIGESTS, strings(&|i| written[i].digest.clone())),
        (IndexTag::RPMTAG_FILELINKTOS, strings(&|i| match rows[i].body {
            Body::Link(t) => t.to_string(),
            _ => String::new(),
        })),
        (IndexTag::RPMTAG_FILEFLAGS, IndexData::Int32(rows.iter().map(|r| r.flags).collect())),
        (IndexTag::RPMTAG_FILEUSERNAME, strings(&|_| "root".to_string())),
        (IndexTag::RPMTAG_FILEGROUPNAME, strings(&|i| rows[i].group.to_string())),
        (IndexTag::RPMTAG_FILEVERIFYFLAGS, IndexData::Int32(vec![u32::MAX; n])),
        (IndexTag::RPMTAG_FILEDEVICES, IndexData::Int32(vec![1; n])),
        (IndexTag::RPMTAG_FILEINODES, IndexData::Int32((1..=n).map(|i| u32::try_from(i).expect("checked when written")).collect())),
        (IndexTag::RPMTAG_FILELANGS, strings(&|_| String::new())),
        (IndexTag::RPMTAG_DIRINDEXES, IndexData::Int32(dirindexes)),
        (IndexTag::RPMTAG_BASENAMES, IndexData::StringArray(basenames)),
        (IndexTag::RPMTAG_DIRNAMES, IndexData::StringArray(dirnames.into_iter().map(String::from).collect())),
    ]);
}

/// The provides (and requires) rpm 4.19+ reads from a packaged `/usr/lib/sysusers.d/*.conf`
/// and creates the users and groups from: `user(NAME)` and `group(NAME)` for a `u` line,
/// `group(NAME)` for `g`, `groupmember(USER/GROUP)` with requires for `m`. The version of a
/// versioned one is the line (fields joined by one space, NUL-padded to a multiple of three)
/// in base64 without padding. Returns each dependency with its row and kind (`P`/`R`).
fn sysusers_deps(rows: &[Row<'_>], provides: &mut Vec<Dep>, requires: &mut Vec<Dep>) -> Result<Vec<(usize, u8, Dep)>> {
    let mut found = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let Body::File(source) = &r.body else { continue };
        if !(r.path.starts_with("/usr/lib/sysusers.d/") && r.path.ends_with(".conf")) {
            continue;
        }
        let text = match source {
            Source::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Source::Path(p) => {
                let mut text = String::new();
                std::fs::File::open(p).and_then(|f| f.take(1 << 20).read_to_string(&mut text))
                    .with_context(|| format!("cannot read the sysusers.d file {}", p.display()))?;
                text
            }
        };
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(kind), Some(name)) = (fields.first(), fields.get(1)) else { continue };
            let mut joined = fields.join(" ").into_bytes();
            joined.resize(joined.len().next_multiple_of(3), 0);
            let version = base64(&joined);
            let versioned = |n: String| Dep::new(n, EQUAL | FIND_PROVIDES, version.clone());
            let mut add = |kind: u8, d: Dep| {
                found.push((i, kind, d.clone()));
                if kind == b'P' { provides.push(d) } else { requires.push(d) }
            };
            match *kind {
                "u" | "u!" => {
                    add(b'P', versioned(format!("user({name})")));
                    add(b'P', Dep::new(format!("group({name})"), FIND_PROVIDES, ""));
                }
                "g" => add(b'P', versioned(format!("group({name})"))),
                "m" => {
                    let Some(group) = fields.get(2) else { continue };
                    add(b'P', versioned(format!("groupmember({name}/{group})")));
                    add(b'R', Dep::new(format!("user({name})"), SCRIPT_PRE | SCRIPT_POSTUN, ""));
                    add(b'R', Dep::new(format!("group({group})"), SCRIPT_PRE | SCRIPT_POSTUN, ""));
                }
                _ => {}
            }
        }
    }
    Ok(found)
}

/// Which file brought which dependency: per file the first index into the dictionary and the
/// count, and the dictionary (the kind letter in the top byte, the index into the sorted
/// provides or requires below), versioned dependencies of a file first.
fn depends_dict(files: usize, file_deps: &[(usize, u8, Dep)], provides: &[Dep], requires: &[Dep]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut sorted: Vec<&(usize, u8, Dep)> = file_deps.iter().collect();
    sorted.sort_by_key(|(file, _, d)| (*file, d.version.is_empty()));
    let (mut x, mut n, mut dict) = (vec![0u32; files], vec![0u32; files], Vec::new());
    for (file, kind, dep) in sorted {
        let list = if *kind == b'P' { provides } else { requires };
        let index = list.iter().position(|d| d == dep).expect("every file dependency is in its list");
        if n[*file] == 0 {
            x[*file] = u32::try_from(dict.len()).expect("small");
        }
        n[*file] += 1;
        dict.push((u32::from(*kind) << 24) | (u32::try_from(index).expect("small") & 0x00ff_ffff));
    }
    (x, n, dict)
}

/// Standard base64 without `=` padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((v >> (18 - 6 * k)) & 0x3f) as usize]));
        }
    }
    out
}

/// rpm's instruction-set name for an architecture (`NAME(x86-64)` provides), as `%_isa` gives it.
fn isa(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" | "amd64" | "ia32e" => "x86-64",
        "i386" | "i486" | "i586" | "i686" | "athlon" | "geode" => "x86-32",
        "aarch64" => "aarch-64",
        "armv7hl" | "armv7hnl" => "armv7hl-32",
        "ppc64" | "ppc64p7" | "ppc64le" => "ppc-64",
        "ppc" => "ppc-32",
        "s390x" => "s390-64",
        "s390" => "s390-32",
        "riscv64" => "riscv-64",
        "loongarch64" => "loongarch-64",
        _ => return None,
    })
}

/// The permission bits and group of owned directory `path`: its `dir_attrs` entry's, else 0755
/// and root. Two entries for one path must agree.
fn dir_attributes<'a>(spec: &'a PackageSpec, path: &str) -> Result<(u16, &'a str)> {
    let mut found: Option<(u16, &str)> = None;
    for d in spec.dir_attrs.iter().filter(|d| d.path == path) {
        let attrs = (u16::try_from(d.mode & 0o7777).expect("masked to 12 bits"), d.group.as_deref().unwrap_or("root"));
        ensure!(found.is_none_or(|f| f == attrs), "directory {path} is given two different modes or groups in dir_attrs; give it one");
        found = Some(attrs);
    }
    Ok(found.unwrap_or((0o755, "root")))
}


/// A relation as an rpm dependency of any kind (requires, conflicts, obsoletes).
fn dependency(r: &crate::plan::spec::Relation) -> Dep {
    match &r.constraint {
        None => Dep::new(&r.name, 0, ""),
        Some((op, v)) => Dep::new(&r.name, match op {
            Op::Eq => EQUAL,
            Op::Ge => GREATER | EQUAL,
            Op::Lt => LESS,
            Op::Gt => GREATER,
            Op::Le => LESS | EQUAL,
        }, v),
    }
}

/// `PAYLOADCOMPRESSOR`: none for an uncompressed payload.
fn compressor_name(c: Compression) -> Option<&'static str> {
    match c {
        Compression::Zstd => Some("zstd"),
        Compression::Xz => Some("xz"),
        Compression::Gzip => Some("gzip"),
        Compression::None => None,
    }
}

/// `PAYLOADFLAGS`, the compression level: zstd 19, xz 6 (xz's default preset), gzip 9 (the
/// levels [`Compressor`] uses), empty when uncompressed.
fn compression_level(c: Compression) -> &'static str {
    match c {
        Compression::Zstd => "19",
        Compression::Xz => "6",
        Compression::Gzip => "9",
        Compression::None => "",
    }
}

/// The script without its `#!` line (rpm runs it with the interpreter set by `prog`) and
/// without surrounding blank lines, as rpmbuild stores scriptlets.
fn script_body(script: &str) -> String {
    let body = match script.strip_prefix("#!") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => script,
    };
    body.trim_matches('\n').to_string()
}

/// rpm changelog style: each item `- text`, continuation lines indented two spaces.
fn changelog_text(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| match l.strip_prefix("- ").or_else(|| l.strip_prefix("* ")) {
            Some(item) => format!("- {item}"),
            None if i == 0 => format!("- {l}"),
            None => format!("  {l}"),
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::{MTIME, add_whole_kea_parts, realistic_spec, sample_spec};
    use crate::emit::testutil::{assert_reproducible, write_file};
    use crate::support::testutil::{run, run_status};
    use crate::plan::spec::Format;

    fn q(rpm: &str, args: &[&str]) -> String {
        run("rpm", "rpm", &[&["-qp", "--nosignature"], args, &[rpm]].concat())
    }

    #[test]
    fn rpm_reads_every_compression() {
        for (c, tag) in [(Compression::Zstd, "zstd"), (Compression::Xz, "xz"), (Compression::Gzip, "gzip"), (Compression::None, "")] {
            let (tmp, spec) = sample_spec(Format::Rpm, c);
            let rpm = write_file(&spec, tmp.path());
            assert!(run("rpm", "rpm", &["-K", "--nosignature", &rpm]).contains("digests OK"));

            let qf = "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{GROUP}|%{URL}|%{PACKAGER}|%{BUILDHOST}|%{BUILDTIME}|%{PAYLOADCOMPRESSOR}";
            let fields = q(&rpm, &["--qf", qf]);
            let compressor = if tag.is_empty() { "(none)" } else { tag };
            assert_eq!(fields, format!("kea-hook-test|2.6.5|1|x86_64|MPL-2.0|net|https://www.isc.org/kea/|\
                Test Packager <packager@example.org>|keapack|{MTIME}|{compressor}"), "{c:?}");
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            assert_ne!(host.trim(), BUILD_HOST, "pick a build host that is not this machine's name");
            let info = q(&rpm, &["--info"]);
            assert!(info.contains("Summary     : Test hook library for Kea\n"), "{info}");
            assert!(info.contains("A hook library used by the emitter tests.\n\nIt does nothing."), "{info}");

            let requires = q(&rpm, &["--requires"]);
            for want in ["kea-common >= 2.6.5", "kea-common < 2.6.6", "kea-libs = 2.6.5", "adduser"] {
                assert!(requires.lines().any(|l| l == want), "{want:?} missing from\n{requires}");
            }

            // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink
            let dump: Vec<Vec<String>> = q(&rpm, &["--dump"]).lines()
                .map(|l| l.split(' ').map(String::from).collect()).collect();
            let rows: Vec<(&str, &str, &str, &str, &str, &str)> = dump.iter()
                .map(|f| (f[0].as_str(), f[1].as_str(), f[4].as_str(), f[5].as_str(), f[6].as_str(), f[8].as_str())).collect();
            assert_eq!(rows, vec![
                ("/usr/lib/kea/hooks", "0", "040755", "root", "root", "0"),
                ("/usr/lib/kea/hooks/libdhcp_test.so", "3000", "0100755", "root", "root", "0"),
                ("/usr/share/doc/kea-hook-test/README", "8", "0100644", "root", "root", "1"),
                ("/usr/share/licenses/kea-hook-test/LICENSE", "8", "0100644", "root", "root", "0"),
                ("/var/lib/kea-hook-test", "0", "040755", "root", "root", "0"),
            ]);
            let mtimes = q(&rpm, &["--qf", "[%{FILEMTIMES}\n]"]);
            assert_eq!(mtimes, format!("{MTIME}\n").repeat(5));
            assert_eq!(q(&rpm, &["--licensefiles"]), "/usr/share/licenses/kea-hook-test/LICENSE\n");
            assert_eq!(q(&rpm, &["--docfiles"]), "/usr/share/doc/kea-hook-test/README\n");

            let scripts = q(&rpm, &["--scripts"]);
            assert_eq!(scripts, "postinstall scriptlet (using /bin/sh):\nset -e\necho configured kea-hook-test\n");
            let changelog = q(&rpm, &["--changelog"]);
            assert_eq!(changelog, "* Fri Mar 01 2024 Test Packager <packager@example.org> - 2.6.5-1\n- Package the test hook.\n\n");

            // The payload unpacks, with the right bytes.
            let root = tmp.path().join("root");
            std::fs::create_dir(&root).unwrap();
            run("sh", "dash", &["-c", &format!("cd '{}' && rpm2cpio '{rpm}' | cpio -idm --quiet", root.display())]);
            assert_eq!(std::fs::read(root.join("usr/lib/kea/hooks/libdhcp_test.so")).unwrap(), vec![0x5a; 3000]);
        }
    }

    #[test]
    fn same_spec_same_bytes_whatever_the_disk_says() {
        for c in [Compression::Zstd, Compression::Xz, Compression::Gzip, Compression::None] {
            assert_reproducible(Format::Rpm, c);
        }
    }

    /// An mtime after "now" (the crate would write the current time as build time) still gives
    /// the same bytes a second later, with `BUILDTIME` and every file time set to it.
    #[test]
    fn future_mtime_is_set_not_clamped() {
        let (tmp, mut spec) = sample_spec(Format::Rpm, Compression::Gzip);
        spec.mtime = 4_102_444_800; // 2100-01-01
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&spec, &mut a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write(&spec, &mut b).unwrap();
        assert!(a == b, "two writes a second apart differ");
        let path = tmp.path().join("future.rpm");
        std::fs::write(&path, &a).unwrap();
        let rpm = path.to_str().unwrap();
        assert!(run("rpm", "rpm", &["-K", "--nosignature", rpm]).contains("digests OK"));
        assert_eq!(q(rpm, &["--qf", "%{BUILDTIME}"]), "4102444800");
        assert_eq!(q(rpm, &["--qf", "[%{FILEMTIMES}\n]"]), "4102444800\n".repeat(5));
    }

    /// rpmbuild's source package name and payload size, which repository tools read.
    #[test]
    fn source_rpm_and_payload_size_are_written() {
        for c in [Compression::Zstd, Compression::None] {
            let (tmp, spec) = sample_spec(Format::Rpm, c);
            let rpm = write_file(&spec, tmp.path());
            assert_eq!(q(&rpm, &["--qf", "%{SOURCERPM}"]), "kea-hook-test-2.6.5-1.src.rpm");
            let cpio_size = run("sh", "dash", &["-c", &format!("rpm2cpio '{rpm}' | wc -c")]);
            assert_eq!(q(&rpm, &["--qf", "%{ARCHIVESIZE}"]), cpio_size.trim(), "{c:?}");
            assert!(run("rpm", "rpm", &["-K", "--nosignature", &rpm]).contains("digests OK"));
        }
    }

    /// The same spec through the `rpm` crate's `PackageBuilder`, an rpm writer of its own: the
    /// reference for [`same_header_and_payload_as_the_crates_builder`].
    fn crate_reference(spec: &PackageSpec) -> rpm::Package {
        use rpm::{CompressionWithLevel, Dependency, FileOptions, PackageBuilder, Scriptlet, Timestamp};
        let mtime = spec.mtime as u32;
        let level = match spec.compression {
            Compression::Zstd => CompressionWithLevel::Zstd(19),
            Compression::Xz => CompressionWithLevel::Xz(6),
            Compression::Gzip => CompressionWithLevel::Gzip(9),
            Compression::None => CompressionWithLevel::None,
        };
        let mut b = PackageBuilder::new(&spec.name, &spec.version, &spec.license, &spec.arch, &spec.summary);
        let description = if spec.description.trim().is_empty() { &spec.summary } else { &spec.description };
        b.using_config(rpm::BuildConfig::default().source_date(mtime).compression(level))
            .release(&spec.revision).description(description.trim()).packager(&spec.maintainer).build_host(BUILD_HOST)
            .group(if spec.section.is_empty() { "Unspecified" } else { &spec.section });
        if !spec.homepage.is_empty() {
            b.url(&spec.homepage);
        }
        let dep = |r: &crate::plan::spec::Relation| match &r.constraint {
            None => Dependency::any(&r.name),
            Some((Op::Eq, v)) => Dependency::eq(&r.name, v),
            Some((Op::Ge, v)) => Dependency::greater_eq(&r.name, v),
            Some((Op::Lt, v)) => Dependency::less(&r.name, v),
            Some((Op::Gt, v)) => Dependency::greater(&r.name, v),
            Some((Op::Le, v)) => Dependency::less_eq(&r.name, v),
        };
        spec.depends.iter().for_each(|r| { b.requires(dep(r)); });
        spec.conflicts.iter().for_each(|r| { b.conflicts(dep(r)); });
        spec.replaces.iter().for_each(|r| { b.obsoletes(dep(r)); });
        let at = Timestamp::from(mtime);
        for f in &spec.files {
            let mut o = FileOptions::new(&f.path).permissions((f.mode & 0o7777) as u16).user("root")
                .group(f.group.as_deref().unwrap_or("root")).modified_at(at);
            o = match f.role { FileRole::Plain => o, FileRole::Doc => o.doc(), FileRole::License => o.license() };
            if f.config {
                o = o.config().noreplace();
            }
            match &f.source {
                Source::Path(p) => b.with_file(p, o),
                Source::Bytes(bytes) => b.with_file_contents(bytes.clone(), o),
            }.unwrap();
        }
        for l in &spec.links {
            b.with_symlink(FileOptions::symlink(&l.path, &l.target).user("root").group("root").modified_at(at)).unwrap();
        }
        for d in &spec.owned_dirs {
            let (mode, group) = dir_attributes(spec, d).unwrap();
            b.with_dir_entry(FileOptions::dir(d).permissions(mode).user("root").group(group).modified_at(at)).unwrap();
        }
        let script = |s: &String| Scriptlet::new(script_body(s)).prog(vec!["/bin/sh"]);
        if let Some(s) = &spec.pre_install { b.pre_install_script(script(s)); }
        if let Some(s) = &spec.post_install { b.post_install_script(script(s)); }
        if let Some(s) = &spec.pre_remove { b.pre_uninstall_script(script(s)); }
        if let Some(s) = &spec.post_remove { b.post_uninstall_script(script(s)); }
        for e in &spec.changelog {
            b.add_changelog_entry(format!("{} - {}", e.author, e.version), changelog_text(&e.text), e.time as u32);
        }
        b.build().unwrap()
    }

    /// keapack's streaming writer against the `rpm` crate's builder, on specs with every part
    /// keapack writes (config files, groups, links, directory modes, four scriptlets, a
    /// changelog, a sysusers.d file with `u`, `g` and `m` lines): every header entry is the
    /// same but the three that name the writer (`RPMVERSION`; the crate writes `(none)` as
    /// `SOURCERPM`, which rpmbuild never does) or the layout (the region tag), and so is the
    /// payload, compressed and not.
    #[test]
    fn same_header_and_payload_as_the_crates_builder() {
        let sysusers = "# keapack\nu kea - \"Kea DHCP\" /var/lib/kea /sbin/nologin\ng keaadm -\nm kea keaadm\n";
        for c in [Compression::Zstd, Compression::Xz, Compression::Gzip, Compression::None] {
            let (tmp, mut spec) = realistic_spec(Format::Rpm);
            spec.compression = c;
            add_whole_kea_parts(&mut spec);
            let conf = tmp.path().join("sysusers.conf");
            std::fs::write(&conf, sysusers).unwrap();
            spec.files.push(crate::plan::spec::FileEntry::new("/usr/lib/sysusers.d/kea-hook-test.conf", Source::Path(conf), 0o644, FileRole::Plain));
            spec.pre_install = Some("#!/bin/sh\necho pre\n".into());
            spec.post_remove = Some("#!/bin/sh\necho postun\n".into());
            let mut bytes = Vec::new();
            write(&spec, &mut bytes).unwrap();
            let mut ours = rpm::Package::parse(&mut &bytes[..]).unwrap();
            let mut theirs = crate_reference(&spec);
            let entries = |p: &rpm::Package| -> std::collections::BTreeMap<u32, rpm::IndexData> {
                p.metadata.header.get_all_entries().unwrap().into_iter()
                    .filter(|(t, _)| ![rpm::HEADER_IMMUTABLE, IndexTag::RPMTAG_RPMVERSION as u32, IndexTag::RPMTAG_SOURCERPM as u32].contains(t))
                    .collect()
            };
            let (mut a, mut b) = (entries(&ours), entries(&theirs));
            if c != Compression::None {
                // The compressed payload's digest: checked below, through the payload itself.
                a.remove(&(IndexTag::RPMTAG_PAYLOADSHA256 as u32));
                b.remove(&(IndexTag::RPMTAG_PAYLOADSHA256 as u32));
            }
            for tag in a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
                assert_eq!(a.get(tag), b.get(tag), "{c:?}: header tag {tag} differs (left keapack, right the crate)");
            }
            assert!(a.contains_key(&(IndexTag::RPMTAG_DEPENDSDICT as u32)), "the sysusers.d file brought its provides");
            ours.verify_digests().unwrap();
            let compressed = ours.payload.clone();
            ours.decompress_payload().unwrap();
            theirs.decompress_payload().unwrap();
            assert!(ours.payload == theirs.payload, "{c:?}: the cpio archives differ");
            // The compressed payload is the crate's archive compressed in one go: the crate
            // runs zstd on several workers, xz in one block on one thread and names no system
            // in its gzip header, while keapack's zstd runs single-threaded, its xz on every
            // CPU in fixed blocks (the output does not depend on how many) and its gzip is
            // `gzip -9n`'s.
            let plain = match c {
                Compression::Zstd => {
                    let mut e = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
                    e.write_all(&theirs.payload).unwrap();
                    e.finish().unwrap()
                }
                Compression::Xz => {
                    let mut e = super::super::tarball::xz_encoder(Vec::new(), 1).unwrap();
                    e.write_all(&theirs.payload).unwrap();
                    e.finish().unwrap()
                }
                Compression::Gzip => {
                    // As gzip -9n writes it on Unix (the crate names no system).
                    let mut e = flate2::GzBuilder::new().mtime(0).operating_system(3).write(Vec::new(), flate2::Compression::best());
                    e.write_all(&theirs.payload).unwrap();
                    e.finish().unwrap()
                }
                Compression::None => {
                    let mut crate_bytes = Vec::new();
                    crate_reference(&spec).write(&mut crate_bytes).unwrap();
                    rpm::Package::parse(&mut &crate_bytes[..]).unwrap().payload
                }
            };
            assert!(compressed == plain, "{c:?}: the compressed payload differs");
        }
    }

    /// A staged file that is missing or not a regular file is refused with its path; nothing
    /// is written to the output.
    #[test]
    fn a_missing_or_irregular_source_is_refused() {
        let (tmp, mut spec) = sample_spec(Format::Rpm, Compression::Gzip);
        let i = spec.files.iter().position(|f| matches!(f.source, Source::Path(_))).unwrap();
        for (what, source) in [("missing", tmp.path().join("gone.so")), ("a directory", tmp.path().to_path_buf())] {
            spec.files[i].source = Source::Path(source.clone());
            let mut out = Vec::new();
            let err = format!("{:#}", write(&spec, &mut out).unwrap_err());
            assert!(err.contains(&source.display().to_string()) && err.contains("/usr/lib/kea/hooks/libdhcp_test.so"), "{what}: {err}");
            assert!(out.is_empty(), "{what}: bytes were written before the refusal");
        }
    }

    /// The newc cpio headers of the payload carry the spec's time, owner 0:0 and mode, in
    /// sorted path order (rpm itself reads the header tags, but cpio tools read these).
    #[test]
    fn cpio_headers_carry_time_owner_and_mode() {
        let (_tmp, spec) = sample_spec(Format::Rpm, Compression::Gzip);
        let mut bytes = Vec::new();
        write(&spec, &mut bytes).unwrap();
        let mut pkg = rpm::Package::parse(&mut &bytes[..]).unwrap();
        pkg.decompress_payload().unwrap();
        let cpio = &pkg.payload[..];
        let field = |h: &[u8], i: usize| u32::from_str_radix(std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap();
        let (mut pos, mut rows) = (0, Vec::new());
        loop {
            let h = &cpio[pos..pos + 110];
            assert_eq!(&h[..6], b"070701", "newc magic at {pos}");
            let (mode, uid, gid, mtime, size, namesize) = (field(h, 1), field(h, 2), field(h, 3), field(h, 5), field(h, 6), field(h, 11));
            let name = std::str::from_utf8(&cpio[pos + 110..pos + 110 + namesize as usize - 1]).unwrap().to_string();
            if name == "TRAILER!!!" {
                break;
            }
            rows.push((name, mode, uid, gid, mtime));
            pos = (pos + 110 + namesize as usize).next_multiple_of(4);
            pos = (pos + size as usize).next_multiple_of(4);
        }
        let m = MTIME as u32;
        assert_eq!(rows, vec![
            ("./usr/lib/kea/hooks".to_string(), 0o40755, 0, 0, m),
            ("./usr/lib/kea/hooks/libdhcp_test.so".to_string(), 0o100755, 0, 0, m),
            ("./usr/share/doc/kea-hook-test/README".to_string(), 0o100644, 0, 0, m),
            ("./usr/share/licenses/kea-hook-test/LICENSE".to_string(), 0o100644, 0, 0, m),
            ("./var/lib/kea-hook-test".to_string(), 0o40755, 0, 0, m),
        ]);
    }

    #[test]
    fn script_and_changelog_text() {
        assert_eq!(script_body("#!/bin/sh\nset -e\n"), "set -e");
        assert_eq!(script_body("#!/bin/sh"), "");
        assert_eq!(script_body("echo hi\n\n"), "echo hi");
        assert_eq!(changelog_text("Fix it.\n- Two\n  more"), "- Fix it.\n- Two\n  more");
    }

    /// rpmlint on a realistic package reports only what no emitter can fix: the package is not
    /// signed, and Debian's rpmlint has an empty license list (`ValidLicenses = []`), so every
    /// License value draws `invalid-license`.
    #[test]
    fn rpmlint_only_reports_signature_and_license_list() {
        let (tmp, spec) = realistic_spec(Format::Rpm);
        let rpm = write_file(&spec, tmp.path());
        let (_, out) = run_status("rpmlint", "rpmlint", &[&rpm]);
        let tags: Vec<&str> = out.lines().filter_map(|l| l.split_once(": E: ").or(l.split_once(": W: ")))
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("")).collect();
        assert!(tags.iter().all(|t| ["no-signature", "invalid-license"].contains(t)), "rpmlint:\n{out}");
    }

    /// A `%config(noreplace)` file, a group-owned file, a relative symbolic link, a 0750
    /// root:kea directory and a %preun, read back with rpm.
    #[test]
    fn config_group_links_dir_modes_and_preun() {
        let (tmp, mut spec) = sample_spec(Format::Rpm, Compression::Gzip);
        add_whole_kea_parts(&mut spec);
        let rpm = write_file(&spec, tmp.path());
        assert!(run("rpm", "rpm", &["-K", "--nosignature", &rpm]).contains("digests OK"));

        // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink
        let dump = q(&rpm, &["--dump"]);
        let rows: Vec<String> = dump.lines().map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            format!("{} {} {} {}:{} config={} -> {}", f[0], f[1], f[4], f[5], f[6], f[7], f[10])
        }).collect();
        let m = |s: &str| s.to_string();
        assert_eq!(rows, vec![
            m("/etc/kea 0 040750 root:kea config=0 -> X"),
            m("/etc/kea/kea-hook-test.conf 4 0100644 root:root config=1 -> X"),
            m("/usr/lib/kea-hook-test/libfoo.so.1 15 0120777 root:root config=0 -> libfoo.so.1.0.0"),
            m("/usr/lib/kea-hook-test/libfoo.so.1.0.0 100 0100644 root:root config=0 -> X"),
            m("/usr/lib/kea/hooks 0 040755 root:root config=0 -> X"),
            m("/usr/lib/kea/hooks/libdhcp_test.so 3000 0100755 root:root config=0 -> X"),
            m("/usr/share/doc/kea-hook-test/README 8 0100644 root:root config=0 -> X"),
            m("/usr/share/licenses/kea-hook-test/LICENSE 8 0100644 root:root config=0 -> X"),
            m("/var/lib/kea-hook-test 0 040755 root:root config=0 -> X"),
            m("/var/lib/kea-hook-test/state.json 3 0100640 root:kea config=0 -> X"),
        ], "{dump}");
        // `c` config, `n` noreplace (rpm's own letters, as `%config(noreplace)` gives them).
        let flags = q(&rpm, &["--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]"]);
        assert!(flags.lines().any(|l| l == "/etc/kea/kea-hook-test.conf cn"), "{flags}");
        assert_eq!(flags.lines().filter(|l| l.rsplit(' ').next().is_some_and(|f| f.contains('c'))).count(), 1, "{flags}");
        assert_eq!(q(&rpm, &["--configfiles"]), "/etc/kea/kea-hook-test.conf\n");
        assert_eq!(q(&rpm, &["--qf", "[%{FILEMTIMES}\n]"]), format!("{MTIME}\n").repeat(10));

        let scripts = q(&rpm, &["--scripts"]);
        assert!(scripts.contains("preuninstall scriptlet (using /bin/sh):\nset -e\necho removing kea-hook-test\n"), "{scripts}");
        let requires = q(&rpm, &["--qf", "[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\n]"]);
        assert!(requires.lines().any(|l| l == "/bin/sh preun,interp"), "{requires}");
        assert!(q(&rpm, &["--recommends"]).lines().any(|l| l == "group(kea)"));

        // The payload unpacks the link as a link.
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        run("sh", "dash", &["-c", &format!("cd '{}' && rpm2cpio '{rpm}' | cpio -idm --quiet", root.display())]);
        assert_eq!(std::fs::read_link(root.join("usr/lib/kea-hook-test/libfoo.so.1")).unwrap().to_str(), Some("libfoo.so.1.0.0"));

        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&spec, &mut a).unwrap();
        write(&spec, &mut b).unwrap();
        assert!(a == b, "two writes differ");

        let mut bad = spec.clone();
        bad.owned_dirs.retain(|d| d != "/etc/kea");
        let err = write(&bad, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("/etc/kea") && err.contains("not among the owned directories"), "{err}");
        let mut bad = spec.clone();
        bad.links[0].target = String::new();
        assert!(write(&bad, &mut Vec::new()).is_err(), "an empty link target must be refused");
    }

    /// What rpmlint says about a realistic package with the same parts, beyond the signature and
    /// license list: the group `kea` (rpmlint knows only system groups), the 0750 directory and
    /// the 0640 file; nothing about the config file, the link or the %preun.
    #[test]
    fn rpmlint_on_whole_kea_parts() {
        let (tmp, mut spec) = realistic_spec(Format::Rpm);
        add_whole_kea_parts(&mut spec);
        let rpm = write_file(&spec, tmp.path());
        let (_, out) = run_status("rpmlint", "rpmlint", &[&rpm]);
        let mut tags: Vec<&str> = out.lines().filter_map(|l| l.split_once(": E: ").or(l.split_once(": W: ")))
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or(""))
            .filter(|t| !["no-signature", "invalid-license"].contains(t)).collect();
        tags.sort();
        assert_eq!(tags, ["non-readable", "non-standard-dir-perm", "non-standard-gid", "non-standard-gid"], "rpmlint:\n{out}");
    }
}

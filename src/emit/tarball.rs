//! Deterministic tar and compression helpers for the `.deb` emitter.
//!
//! Every header gets the same mtime, uid/gid 0, owner names `root`, and the mode it is given;
//! names are written verbatim (so `./usr/` keeps its `./` and trailing slash, as dpkg-deb writes
//! them) in GNU format, with a `././@LongLink` entry for names over 100 bytes. Nothing about the
//! build machine (file times, owners, umask, directory order) can reach the archive.

use crate::plan::spec::Compression;
use std::io::{self, Read, Write};

/// Space for a name in the header itself; longer names get a GNU long-name entry.
const NAME_FIELD: usize = 100;

/// A tar stream whose every header is deterministic.
pub struct TarWriter<W: Write> {
    inner: tar::Builder<W>,
    mtime: u64,
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W, mtime: u64) -> Self {
        TarWriter { inner: tar::Builder::new(out), mtime }
    }

    /// Append a directory entry; `name` should end in `/` (`./usr/lib/`).
    pub fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        let header = self.named_header(name, tar::EntryType::Directory, mode, 0)?;
        self.inner.append(&header, io::empty())
    }

    /// Append a regular file of exactly `size` bytes read from `data`.
    pub fn file(&mut self, name: &str, mode: u32, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let header = self.named_header(name, tar::EntryType::Regular, mode, size)?;
        self.inner.append(&header, Exact { inner: data.take(size), left: size })
    }

    /// Write the end-of-archive blocks and return the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.inner.into_inner()
    }

    /// A header carrying `name`, preceded in the stream by a long-name entry when needed.
    fn named_header(&mut self, name: &str, ty: tar::EntryType, mode: u32, size: u64) -> io::Result<tar::Header> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.contains(&0) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad tar entry name {name:?}")));
        }
        let mut header = header(ty, mode, size, self.mtime);
        if bytes.len() > NAME_FIELD {
            let mut long = header_with_name(b"././@LongLink", tar::EntryType::GNULongName, 0o644, bytes.len() as u64 + 1, self.mtime);
            long.set_cksum();
            self.inner.append(&long, bytes.chain(&[0u8][..]))?;
        }
        let n = bytes.len().min(NAME_FIELD);
        header.as_old_mut().name[..n].copy_from_slice(&bytes[..n]);
        header.set_cksum();
        Ok(header)
    }
}

/// A GNU header with the fixed fields: mtime, uid/gid 0, `root`/`root`, mode, type, size.
/// The name and checksum are left to the caller.
pub fn header(ty: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(ty);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("root").expect("`root` fits the GNU header");
    h.set_groupname("root").expect("`root` fits the GNU header");
    h
}

fn header_with_name(name: &[u8], ty: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
    let mut h = header(ty, mode, size, mtime);
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h
}

/// Reads exactly the promised number of bytes, failing if the source is shorter (a file that
/// shrank between `stat` and read would otherwise corrupt the archive).
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shorter than its recorded size"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The file-name suffix for a compressed tar member (`""`, `".gz"`, `".xz"`, `".zst"`).
pub fn extension(c: Compression) -> &'static str {
    match c {
        Compression::None => "",
        Compression::Gzip => ".gz",
        Compression::Xz => ".xz",
        Compression::Zstd => ".zst",
    }
}

/// xz's block size, fixed so that the output never depends on a library default: three times the
/// preset-6 dictionary, which is what xz itself uses in multithreaded mode.
pub const XZ_BLOCK_SIZE: u64 = 3 * (8 << 20);

/// Threads for compression: the CPUs this process may use, at most 8.
pub fn worker_threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) as u32
}

/// An xz writer (preset 6, CRC64) on liblzma's multithreaded encoder with `threads` threads.
pub fn xz_encoder<W: Write>(out: W, threads: u32) -> io::Result<liblzma::write::XzEncoder<W>> {
    xz_encoder_blocks(out, threads, XZ_BLOCK_SIZE)
}

fn xz_encoder_blocks<W: Write>(out: W, threads: u32, block_size: u64) -> io::Result<liblzma::write::XzEncoder<W>> {
    let stream = liblzma::stream::MtStreamBuilder::new()
        .preset(6)
        .threads(threads.max(1))
        .block_size(block_size)
        .check(liblzma::stream::Check::Crc64)
        .encoder()
        .map_err(io::Error::other)?;
    Ok(liblzma::write::XzEncoder::new_stream(out, stream))
}

/// A compressing writer; call `finish` to flush the stream trailer and get `W` back.
///
/// Levels: gzip 9 (no name, mtime 0), xz 6 (xz's and dpkg-deb's default; 8 MiB dictionary),
/// zstd 19. xz runs liblzma's multithreaded encoder with a fixed block size: blocks are
/// compressed independently, so the output depends on the input and the block size only, never
/// on how many threads did the work (a test pins this). gzip and zstd are single-threaded.
pub enum Compressor<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Xz(liblzma::write::XzEncoder<W>),
    Zstd(zstd::Encoder<'static, W>),
}

impl<W: Write> Compressor<W> {
    pub fn new(c: Compression, out: W) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Compressor::None(out),
            Compression::Gzip => Compressor::Gzip(gzip_writer(out)),
            Compression::Xz => Compressor::Xz(xz_encoder(out, worker_threads())?),
            Compression::Zstd => Compressor::Zstd(zstd::Encoder::new(out, 19)?),
        })
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Compressor::None(w) => Ok(w),
            Compressor::Gzip(e) => e.finish(),
            Compressor::Xz(e) => e.finish(),
            Compressor::Zstd(e) => e.finish(),
        }
    }

    fn as_write(&mut self) -> &mut dyn Write {
        match self {
            Compressor::None(w) => w,
            Compressor::Gzip(e) => e,
            Compressor::Xz(e) => e,
            Compressor::Zstd(e) => e,
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.as_write().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.as_write().flush()
    }
}

/// gzip at level 9 with no file name, mtime 0 and OS byte 3 (Unix): what `gzip -9n` writes in
/// its header (the deflate body differs from GNU gzip's, but is equally deterministic).
fn gzip_writer<W: Write>(out: W) -> flate2::write::GzEncoder<W> {
    flate2::GzBuilder::new().mtime(0).operating_system(3).write(out, flate2::Compression::best())
}

/// Gzip a small buffer deterministically (`gzip -9n` equivalent).
pub fn gzip_best(data: &[u8]) -> Vec<u8> {
    let mut e = gzip_writer(Vec::new());
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_fixed_and_long_names_survive() {
        let long = format!("./usr/share/{}/file.txt", "d".repeat(120));
        let mut t = TarWriter::new(Vec::new(), 1_700_000_000);
        t.dir("./", 0o755).unwrap();
        t.dir("./usr/", 0o755).unwrap();
        t.file(&long, 0o644, 3, &mut &b"abc"[..]).unwrap();
        let bytes = t.finish().unwrap();
        let mut ar = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let h = e.header().clone();
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.username().unwrap(), Some("root"));
            assert_eq!(h.groupname().unwrap(), Some("root"));
            let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
            let mut body = String::new();
            e.read_to_string(&mut body).unwrap();
            seen.push((name, h.mode().unwrap(), body));
        }
        assert_eq!(seen, vec![
            ("./".to_string(), 0o755, String::new()),
            ("./usr/".to_string(), 0o755, String::new()),
            (long, 0o644, "abc".to_string()),
        ]);
    }

    #[test]
    fn short_source_is_an_error() {
        let mut t = TarWriter::new(Vec::new(), 0);
        assert!(t.file("./x", 0o644, 10, &mut &b"abc"[..]).is_err());
    }

    #[test]
    fn gzip_header_matches_gzip_9n() {
        let gz = gzip_best(b"hello\n");
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello\n");
    }

    #[test]
    fn every_compressor_round_trips() {
        for c in [Compression::None, Compression::Gzip, Compression::Xz, Compression::Zstd] {
            let mut w = Compressor::new(c, Vec::new()).unwrap();
            w.write_all(b"payload payload payload").unwrap();
            let bytes = w.finish().unwrap();
            let mut r: Box<dyn Read> = match c {
                Compression::None => Box::new(&bytes[..]),
                Compression::Gzip => Box::new(flate2::read::GzDecoder::new(&bytes[..])),
                Compression::Xz => Box::new(liblzma::read::XzDecoder::new(&bytes[..])),
                Compression::Zstd => Box::new(zstd::Decoder::new(&bytes[..]).unwrap()),
            };
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            assert_eq!(s, "payload payload payload", "{c:?}");
        }
    }
}

/// Shared fixtures for the emitter tests: a sample spec and a runner for the real tools.
#[cfg(test)]
pub(crate) mod fixture {
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
        let changelog = crate::emit::deb::changelog_debian_gz(&spec);
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
            files: vec![
                file("/usr/lib/kea/hooks/libdhcp_test.so", Source::Path(so), 0o755, FileRole::Plain),
                file("/usr/share/doc/kea-hook-test/README", Source::Bytes(b"read me\n".to_vec()), 0o644, FileRole::Doc),
                file("/usr/share/licenses/kea-hook-test/LICENSE", Source::Bytes(b"MPL-2.0\n".to_vec()), 0o644, FileRole::License),
            ],
            owned_dirs: vec!["/usr/lib/kea/hooks".into(), "/var/lib/kea-hook-test".into()],
            post_install: Some("#!/bin/sh\nset -e\necho configured kea-hook-test\n".into()),
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

    #[test]
    fn xz_output_does_not_depend_on_the_thread_count() {
        use std::io::{Read, Write};
        // 3 MiB of varied data in 512 KiB blocks: six blocks, so the threads really share work
        // (the property holds for any block size; the real one is XZ_BLOCK_SIZE).
        let mut data = Vec::with_capacity(3 << 20);
        let mut x: u32 = 12345;
        while data.len() < (3 << 20) {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            data.extend_from_slice(format!("{} hook line {}\n", x % 1000, x >> 16).as_bytes());
        }
        let encode = |threads| {
            let mut e = crate::emit::tarball::xz_encoder_blocks(Vec::new(), threads, 512 << 10).unwrap();
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        };
        let (one, two, four) = (encode(1), encode(2), encode(4));
        assert!(one == two && two == four, "xz output changed with the thread count");
        let mut back = Vec::new();
        liblzma::read::XzDecoder::new(&one[..]).read_to_end(&mut back).unwrap();
        assert!(back == data);
    }

}

//! Deterministic tar and compression helpers for the `.deb` emitter.
//!
//! Every header gets the same mtime, uid/gid 0, owner names `root`, and the mode it is given;
//! names are written verbatim (so `./usr/` keeps its `./` and trailing slash, as dpkg-deb writes
//! them) in GNU format, with a `././@LongLink` entry for names over 100 bytes. Nothing about the
//! build machine (file times, owners, umask, directory order) can reach the archive.

use crate::plan::spec::Compression;
use crate::support::gzip::gzip_writer;
use std::io::{self, Read, Write};

/// Space for a name in the header itself; longer names get a GNU long-name entry.
const NAME_FIELD: usize = 100;

/// A tar stream whose every header is deterministic.
pub(crate) struct TarWriter<W: Write> {
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

    /// Append a symbolic link `name` → `target` (mode 0777, size 0, as GNU tar writes one); a
    /// target over 100 bytes is preceded by a GNU long-link entry.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        let bytes = target.as_bytes();
        if bytes.is_empty() || bytes.contains(&0) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad symbolic link target {target:?} for {name:?}")));
        }
        if bytes.len() > NAME_FIELD {
            let mut long = header_with_name(b"././@LongLink", tar::EntryType::GNULongLink, 0o644, bytes.len() as u64 + 1, self.mtime);
            long.set_cksum();
            self.inner.append(&long, bytes.chain(&[0u8][..]))?;
        }
        let mut header = self.named_header(name, tar::EntryType::Symlink, 0o777, 0)?;
        let n = bytes.len().min(NAME_FIELD);
        header.as_old_mut().linkname[..n].copy_from_slice(&bytes[..n]);
        header.set_cksum();
        self.inner.append(&header, io::empty())
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
pub(crate) fn header(ty: tar::EntryType, mode: u32, size: u64, mtime: u64) -> tar::Header {
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
pub(crate) fn extension(c: Compression) -> &'static str {
    match c {
        Compression::None => "",
        Compression::Gzip => ".gz",
        Compression::Xz => ".xz",
        Compression::Zstd => ".zst",
    }
}

/// xz's block size, fixed so that the output never depends on a library default: the preset-6
/// dictionary (8 MiB). xz itself uses three times that in multithreaded mode, which leaves a
/// payload under 24 MiB (most of Kea's libkea package) in one block on one thread; 8 MiB blocks
/// let two CPUs share it (measured on Kea 2.6.3's 12.5 MB libraries: 3.4 s instead of 5.4 s,
/// 2.7 % larger; docs/dev/benchmarks.md).
pub(crate) const XZ_BLOCK_SIZE: u64 = 8 << 20;

/// Threads for compression: the CPUs this process may use, at most 8.
pub(crate) fn worker_threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8) as u32
}

/// An xz writer (preset 6, CRC64) on liblzma's multithreaded encoder with `threads` threads.
pub(crate) fn xz_encoder<W: Write>(out: W, threads: u32) -> io::Result<liblzma::write::XzEncoder<W>> {
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
/// on how many threads did the work (a test pins this). gzip and zstd are single-threaded: zstd's
/// own multithreaded mode gains nothing below its job size (32 MiB at level 19) and holds
/// several jobs' input and output in memory above it; packages written in parallel use the CPUs.
pub(crate) enum Compressor<W: Write> {
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
            let mut e = xz_encoder_blocks(Vec::new(), threads, 512 << 10).unwrap();
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

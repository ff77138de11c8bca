//! gzip as `gzip -9n` writes it: no file name, mtime 0, OS byte 3 (Unix), level 9, so the same
//! bytes in give the same bytes out. Shared by the planner (changelog.Debian.gz) and the
//! emitters (gzip payloads).

use std::io::Write;

/// gzip at level 9 with no file name, mtime 0 and OS byte 3 (Unix): what `gzip -9n` writes in
/// its header (the deflate body differs from GNU gzip's, but is equally deterministic).
pub(crate) fn gzip_writer<W: Write>(out: W) -> flate2::write::GzEncoder<W> {
    flate2::GzBuilder::new().mtime(0).operating_system(3).write(out, flate2::Compression::best())
}

/// Gzip a small buffer deterministically (`gzip -9n` equivalent).
pub(crate) fn gzip_best(data: &[u8]) -> Vec<u8> {
    let mut e = gzip_writer(Vec::new());
    e.write_all(data).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_header_matches_gzip_9n() {
        let gz = gzip_best(b"hello\n");
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello\n");
    }
}

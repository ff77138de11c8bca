//! A `.deb` read strictly, before keapack copies anything: the ar archive dpkg-deb writes
//! (`!<arch>\n`, then `debian-binary`, `control.tar[.gz|.xz|.zst]`, `data.tar[.…]` in that
//! order, optionally followed by signature members whose names start with `_`), every member
//! header well formed and inside the file, the control tarball bounded in size and holding
//! exactly one `./control`, a regular file of at most [`control::MAX_CONTROL`] bytes in UTF-8.
//! Only the control text is decompressed; the data member is checked for its place and size.

use super::control::MAX_CONTROL;
use anyhow::{Result, bail};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A compressed control member larger than this is refused (dpkg's are a few KiB).
pub(crate) const MAX_CONTROL_MEMBER: u64 = 16 << 20;
/// The control tarball, decompressed, is read up to this size.
pub(crate) const MAX_CONTROL_TAR: u64 = 64 << 20;
/// 9999-12-31T23:59:59Z: the latest member time accepted.
const LAST_TIME: u64 = 253_402_300_799;
/// Entries in the control tarball (maintainer scripts, conffiles, md5sums, triggers…).
const MAX_CONTROL_ENTRIES: usize = 256;

/// What a `.deb` holds that publishing needs.
#[derive(Debug, Clone)]
pub(crate) struct DebFile {
    /// The control file's text.
    pub control: String,
    /// The newest member time (the package's build time).
    pub time: u64,
}

/// One ar member header.
struct Member {
    name: String,
    time: u64,
    /// Where its data starts in the file.
    offset: u64,
    size: u64,
}

/// Read the ar structure of `path` and its control file.
pub(crate) fn read(path: &Path) -> Result<DebFile> {
    let what = crate::support::text::path(path).to_string();
    let mut f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {what}: {e}"))?;
    let len = f.metadata()?.len();
    let members = members(&mut f, len, &what)?;
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let order_rule = "a .deb holds debian-binary, control.tar[.gz|.xz|.zst] and data.tar[.gz|.xz|.zst|.bz2] in that order (deb(5)): rebuild it with dpkg-deb --build";
    if names.len() < 3 || names[0] != "debian-binary" || !names[1].starts_with("control.tar") || !names[2].starts_with("data.tar") {
        bail!("{what}: its members are {}; {order_rule}", names.join(", "));
    }
    if let Some(extra) = names[3..].iter().find(|n| !n.starts_with('_')) {
        bail!("{what}: it has the member {extra} after data.tar; only signature members (named _…) may follow: {order_rule}");
    }
    let data_ext = &names[2]["data.tar".len()..];
    if !["", ".gz", ".xz", ".zst", ".bz2"].contains(&data_ext) {
        bail!("{what}: the data member is {}, compressed in a way dpkg does not read: {order_rule}", names[2]);
    }
    // debian-binary: "2.0\n" (a 2.x format; dpkg reads the major number).
    let db = &members[0];
    if db.size > 64 {
        bail!("{what}: debian-binary is {} bytes; it holds the format version, 2.0: {order_rule}", db.size);
    }
    let mut version = vec![0u8; db.size as usize];
    f.seek(SeekFrom::Start(db.offset))?;
    f.read_exact(&mut version)?;
    if !version.starts_with(b"2.") || !version.ends_with(b"\n") || version.iter().any(|&b| b != b'\n' && !b.is_ascii_graphic()) {
        bail!("{what}: debian-binary says {}, not format 2.x: {order_rule}", crate::support::text::shown(&String::from_utf8_lossy(&version)));
    }
    let cm = &members[1];
    if cm.size > MAX_CONTROL_MEMBER {
        bail!("{what}: its {} is {} bytes, more than the {MAX_CONTROL_MEMBER} keapack reads; a control member is a few KiB: rebuild the package", cm.name, cm.size);
    }
    let mut raw = vec![0u8; cm.size as usize];
    f.seek(SeekFrom::Start(cm.offset))?;
    f.read_exact(&mut raw)?;
    let control = control_file(&cm.name, &raw, &what)?;
    Ok(DebFile { control, time: members.iter().map(|m| m.time).max().unwrap_or(0) })
}

/// Every member header of the ar archive in `f` (`len` bytes), checked.
fn members(f: &mut std::fs::File, len: u64, what: &str) -> Result<Vec<Member>> {
    let mut magic = [0u8; 8];
    if len < 8 || f.read_exact(&mut magic).is_err() || &magic != b"!<arch>\n" {
        bail!("{what}: it does not start with the ar magic '!<arch>'; it is not a .deb (or is truncated)");
    }
    let mut out = Vec::new();
    let mut at = 8u64;
    while at < len {
        if out.len() >= 16 {
            bail!("{what}: it has more than 16 ar members; a .deb has three (deb(5)): rebuild it with dpkg-deb --build");
        }
        let mut h = [0u8; 60];
        if len - at < 60 {
            bail!("{what}: it ends inside an ar member header at byte {at}: the file is truncated; copy it again");
        }
        f.seek(SeekFrom::Start(at))?;
        f.read_exact(&mut h)?;
        if &h[58..60] != b"`\n" {
            bail!("{what}: the ar member header at byte {at} does not end in '`\\n': the file is damaged or not a .deb");
        }
        let field = |r: std::ops::Range<usize>| -> Result<&str> {
            std::str::from_utf8(&h[r]).map_err(|_| anyhow::anyhow!("{what}: the ar member header at byte {at} is not ASCII: the file is damaged"))
        };
        let raw_name = field(0..16)?.trim_end_matches(' ');
        let name = raw_name.strip_suffix('/').unwrap_or(raw_name);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-') {
            bail!("{what}: an ar member is named {}; a .deb's members are debian-binary, control.tar.* and data.tar.*: rebuild it", crate::support::text::shown(raw_name));
        }
        let number = |r: std::ops::Range<usize>, which: &str| -> Result<u64> {
            let s = field(r)?.trim_end_matches(' ');
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                bail!("{what}: the {which} of the ar member {name} is {}, not a decimal number: the file is damaged", crate::support::text::shown(s));
            }
            s.parse::<u64>().map_err(|_| anyhow::anyhow!("{what}: the {which} of the ar member {name} is out of range: the file is damaged"))
        };
        let time = number(16..28, "time")?;
        // Dates reach Release's Date: field and the pool file's mtime: keep them in range.
        if time > LAST_TIME {
            bail!("{what}: the ar member {name} is dated {time}, after the year 9999: the file is damaged or forged; rebuild it");
        }
        let size = number(48..58, "size")?;
        let offset = at + 60;
        if size > len - offset {
            bail!("{what}: the ar member {name} declares {size} bytes but only {} follow: the file is truncated or its sizes are forged; copy it again", len - offset);
        }
        out.push(Member { name: name.to_string(), time, offset, size });
        at = offset + size + (size & 1);
    }
    Ok(out)
}

/// The text of the one `./control` in the control tarball `raw` (member `member`).
fn control_file(member: &str, raw: &[u8], what: &str) -> Result<String> {
    let reader: Box<dyn Read + '_> = match &member["control.tar".len()..] {
        "" => Box::new(raw),
        ".gz" => Box::new(flate2::read::GzDecoder::new(raw)),
        ".xz" => Box::new(liblzma::read::XzDecoder::new(raw)),
        ".zst" => Box::new(zstd::Decoder::new(raw).map_err(|e| anyhow::anyhow!("{what}: {member} is not zstd data: {e}"))?),
        _ => bail!("{what}: the control member is {member}; dpkg reads control.tar, .gz, .xz or .zst: rebuild the package with dpkg-deb"),
    };
    let bad = |e: &dyn std::fmt::Display| anyhow::anyhow!("{what}: {member} is not a readable tar archive ({e}): the package is damaged; rebuild it");
    let mut tar = tar::Archive::new(reader.take(MAX_CONTROL_TAR));
    let mut control: Option<String> = None;
    let mut count = 0;
    for e in tar.entries().map_err(|e| bad(&e))? {
        let mut e = e.map_err(|e| bad(&e))?;
        count += 1;
        if count > MAX_CONTROL_ENTRIES {
            bail!("{what}: {member} holds more than {MAX_CONTROL_ENTRIES} entries; a control tarball holds a few files: rebuild the package");
        }
        let path = e.path_bytes().into_owned();
        if path.starts_with(b"/") || path.split(|&b| b == b'/').any(|c| c == b"..") {
            bail!(
                "{what}: {member} holds the entry {}, outside the control directory: rebuild the package with dpkg-deb --build",
                crate::support::text::shown(&String::from_utf8_lossy(&path))
            );
        }
        let mut name: &[u8] = &path;
        while let Some(rest) = name.strip_prefix(b"./") {
            name = rest;
        }
        if name != b"control" {
            continue;
        }
        if control.is_some() {
            bail!("{what}: {member} holds ./control twice; dpkg would read one and apt another: rebuild the package with one control file");
        }
        if e.header().entry_type() != tar::EntryType::Regular {
            bail!("{what}: ./control in {member} is not a regular file (a link or a directory): rebuild the package");
        }
        let size = e.header().size().map_err(|e| bad(&e))?;
        if size > MAX_CONTROL as u64 {
            bail!("{what}: ./control is {size} bytes, more than the {MAX_CONTROL} keapack reads; a control file is a few KiB: rebuild the package");
        }
        let mut bytes = Vec::with_capacity(size as usize);
        (&mut e).take(size).read_to_end(&mut bytes).map_err(|e| bad(&e))?;
        if bytes.len() as u64 != size {
            bail!("{what}: ./control in {member} is truncated: the package is damaged; rebuild it");
        }
        control = Some(String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what}: ./control is not UTF-8; control files are UTF-8 text (Debian policy 5.1): rebuild the package"))?);
    }
    control.ok_or_else(|| anyhow::anyhow!("{what}: {member} holds no ./control: the package is damaged or not a binary .deb; rebuild it with dpkg-deb --build"))
}

//! An `.rpm` read strictly, before the `rpm` crate (which trusts counts and offsets, and may
//! allocate or index by them) or createrepo_c sees it.
//!
//! The layout (rpm's `rpm-format` documentation): a 96-byte lead (magic `ed ab ee db`, major
//! version 3 or 4, binary or source, signature type 5); the signature header; padding to 8
//! bytes; the main header; the payload. Each header is `8e ad e8 01 00 00 00 00`, an index
//! count and a data size (big-endian), the index entries (tag, type, offset, count; 16 bytes
//! each) and the data. keapack checks every entry of both headers: a known type (1–9), its
//! data inside the header's data (strings NUL-terminated there, numbers aligned as rpm
//! aligns them), bounded counts and sizes, and the tags it knows at their types. Strings hold no
//! control characters but tab, newline and carriage return. The name, epoch, version, release
//! and architecture then follow rpm's grammar, and the architecture must be one the repository
//! serves, since it becomes a directory (`rpm/<el9>/<arch>/`).

use anyhow::{Result, bail};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const LEAD: u64 = 96;
const HEADER_MAGIC: [u8; 8] = [0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0];
/// rpm's own limits (`headerImport`): index entries and data bytes of one header.
const MAX_ENTRIES: u32 = 0xffff;
const MAX_DATA: u32 = 256 << 20;

/// What publishing needs from an `.rpm`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RpmFile {
    pub name: String,
    /// 0 when the package has none.
    pub epoch: u32,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub build_time: u64,
    /// SHA-256 of the main header: who the package is, whatever signs it.
    pub header_sha256: String,
}

impl RpmFile {
    /// `[epoch:]version-release`.
    pub(crate) fn evr(&self) -> String {
        if self.epoch > 0 { format!("{}:{}-{}", self.epoch, self.version, self.release) } else { format!("{}-{}", self.version, self.release) }
    }

    /// The file name rpmbuild gives it: `<name>-<version>-<release>.<arch>.rpm`.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}.{}.rpm", self.name, self.version, self.release, self.arch)
    }
}

/// One header: its index entries and data.
struct Header {
    entries: Vec<Entry>,
    data: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

const INT32: u32 = 4;
const STRING: u32 = 6;
const BIN: u32 = 7;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;
const INT64: u32 = 5;

/// Tags keapack or the `rpm` crate read, with the type rpm gives them: main header.
const MAIN_TAGS: &[(u32, u32, &str)] = &[
    (1000, STRING, "NAME"),
    (1001, STRING, "VERSION"),
    (1002, STRING, "RELEASE"),
    (1003, INT32, "EPOCH"),
    (1004, I18NSTRING, "SUMMARY"),
    (1005, I18NSTRING, "DESCRIPTION"),
    (1006, INT32, "BUILDTIME"),
    (1009, INT32, "SIZE"),
    (1021, STRING, "OS"),
    (1022, STRING, "ARCH"),
    (1044, STRING, "SOURCERPM"),
    (1124, STRING, "PAYLOADFORMAT"),
    (1125, STRING, "PAYLOADCOMPRESSOR"),
    (1126, STRING, "PAYLOADFLAGS"),
];
/// … and the signature header.
const SIG_TAGS: &[(u32, u32, &str)] =
    &[(267, BIN, "DSAHEADER"), (268, BIN, "RSAHEADER"), (269, STRING, "SHA1HEADER"), (270, INT64, "LONGSIGSIZE"), (271, INT64, "LONGARCHIVESIZE"), (273, STRING, "SHA256HEADER"), (1000, INT32, "SIGSIZE"), (1004, BIN, "MD5"), (1007, INT32, "PAYLOADSIZE")];

/// Read and check the lead and both headers of `path`; refuse a source package.
pub(crate) fn read(path: &Path, arches: &[String]) -> Result<RpmFile> {
    let what = crate::support::text::path(path).to_string();
    let mut f = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {what}: {e}"))?;
    let len = f.metadata()?.len();
    let mut lead = [0u8; LEAD as usize];
    if len < LEAD || f.read_exact(&mut lead).is_err() {
        bail!("{what}: it is shorter than an rpm lead (96 bytes): the file is truncated; copy it again");
    }
    if lead[..4] != [0xed, 0xab, 0xee, 0xdb] {
        bail!("{what}: it does not start with the rpm magic: it is not an .rpm");
    }
    if !(3..=4).contains(&lead[4]) {
        bail!("{what}: its lead says rpm format {}; rpm writes format 3 (or 4): rebuild it with rpmbuild", lead[4]);
    }
    let kind = u16::from_be_bytes([lead[6], lead[7]]);
    let sigtype = u16::from_be_bytes([lead[78], lead[79]]);
    if sigtype != 5 {
        bail!("{what}: its lead names signature type {sigtype}; rpm writes 5 (a header-style signature): rebuild it with rpmbuild");
    }
    if kind == 1 {
        bail!("{what} is a source rpm; publish binary packages");
    }
    if kind != 0 {
        bail!("{what}: its lead says package type {kind}; an rpm is binary (0) or source (1): the file is damaged");
    }
    let sig = header(&mut f, LEAD, len, &what, "signature header", SIG_TAGS)?;
    let sig_end = LEAD + 16 + 16 * sig.entries.len() as u64 + sig.data.len() as u64;
    let main_at = sig_end + (8 - sig_end % 8) % 8;
    let main = header(&mut f, main_at, len, &what, "main header", MAIN_TAGS)?;
    let main_bytes = {
        let n = 16 + 16 * main.entries.len() as u64 + main.data.len() as u64;
        let mut b = vec![0u8; n as usize];
        f.seek(SeekFrom::Start(main_at))?;
        f.read_exact(&mut b)?;
        b
    };
    if main.entries.iter().any(|e| e.tag == 1106) {
        bail!("{what} is a source rpm (it has SOURCEPACKAGE); publish binary packages");
    }
    let string = |tag: u32, label: &str| -> Result<String> {
        let e = main.entries.iter().find(|e| e.tag == tag).ok_or_else(|| anyhow::anyhow!("{what}: the main header has no {label}; a binary rpm needs NAME, VERSION, RELEASE and ARCH: rebuild it with rpmbuild"))?;
        let bytes = &main.data[e.offset as usize..];
        let end = bytes.iter().position(|&b| b == 0).expect("screened: NUL-terminated");
        String::from_utf8(bytes[..end].to_vec()).map_err(|_| anyhow::anyhow!("{what}: {label} is not UTF-8 text: rebuild the package"))
    };
    let int32 = |tag: u32| -> Option<u32> {
        main.entries.iter().find(|e| e.tag == tag).map(|e| {
            let at = e.offset as usize;
            u32::from_be_bytes(main.data[at..at + 4].try_into().expect("screened: four bytes"))
        })
    };
    let name = string(1000, "NAME")?;
    let version = string(1001, "VERSION")?;
    let release = string(1002, "RELEASE")?;
    let arch = string(1022, "ARCH")?;
    let epoch = int32(1003).unwrap_or(0);
    let build_time = int32(1006).unwrap_or(0) as u64;
    if let Err(rule) = crate::plan::values::rpm_package_name(&name) {
        bail!("{what}: NAME {}: {rule}: rebuild the package with a valid Name", crate::support::text::shown(&name));
    }
    for (label, value) in [("VERSION", &version), ("RELEASE", &release)] {
        if let Err(rule) = check_version_part(value) {
            bail!("{what}: {label} {}: {rule}: rebuild the package with a valid {}", crate::support::text::shown(value), label.to_lowercase());
        }
    }
    if epoch > i32::MAX as u32 {
        bail!("{what}: EPOCH {epoch} is out of rpm's range (0 to 2147483647): rebuild the package with a valid Epoch");
    }
    if arch != "noarch" && !arches.contains(&arch) {
        bail!(
            "{what}: ARCH {} is not one this repository serves ({}, noarch): publish a package built for one of them",
            crate::support::text::shown(&arch),
            arches.join(", ")
        );
    }
    let header_sha256 = crate::support::digest::hex(&sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&main_bytes)));
    Ok(RpmFile { name, epoch, version, release, arch, build_time, header_sha256 })
}

/// Read and check the header at `at`.
fn header(f: &mut std::fs::File, at: u64, len: u64, what: &str, which: &str, known: &[(u32, u32, &str)]) -> Result<Header> {
    let mut intro = [0u8; 16];
    if len < at + 16 {
        bail!("{what}: it ends before its {which}: the file is truncated; copy it again");
    }
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(&mut intro)?;
    if intro[..8] != HEADER_MAGIC {
        bail!("{what}: the {which} at byte {at} does not start with rpm's header magic: the file is damaged or not an .rpm");
    }
    let il = u32::from_be_bytes(intro[8..12].try_into().expect("4 bytes"));
    let dl = u32::from_be_bytes(intro[12..16].try_into().expect("4 bytes"));
    if il == 0 || il > MAX_ENTRIES {
        bail!("{what}: the {which} declares {il} index entries; rpm reads 1 to {MAX_ENTRIES}: the file is damaged or forged");
    }
    if dl > MAX_DATA {
        bail!("{what}: the {which} declares {dl} bytes of data; rpm reads at most {MAX_DATA}: the file is damaged or forged");
    }
    let need = 16 * il as u64 + dl as u64;
    if need > len - at - 16 {
        bail!("{what}: the {which} declares {il} entries and {dl} bytes of data, more than the {} bytes left in the file: it is truncated or forged", len - at - 16);
    }
    let mut raw = vec![0u8; need as usize];
    f.read_exact(&mut raw)?;
    let data = raw.split_off(16 * il as usize);
    let mut entries = Vec::with_capacity(il as usize);
    for (i, e) in raw.chunks_exact(16).enumerate() {
        let word = |k: usize| u32::from_be_bytes(e[4 * k..4 * k + 4].try_into().expect("4 bytes"));
        let entry = Entry { tag: word(0), kind: word(1), offset: word(2), count: word(3) };
        check_entry(&entry, &data, known).map_err(|rule| anyhow::anyhow!("{what}: entry {i} of the {which} (tag {}): {rule}: the file is damaged or forged", entry.tag))?;
        entries.push(entry);
    }
    Ok(Header { entries, data })
}

/// One index entry against its header's data.
fn check_entry(e: &Entry, data: &[u8], known: &[(u32, u32, &str)]) -> Result<(), String> {
    if !(1..=9).contains(&e.kind) {
        return Err(format!("type {} is none of rpm's (1 to 9)", e.kind));
    }
    if let Some((_, want, label)) = known.iter().find(|(t, _, _)| *t == e.tag)
        && e.kind != *want
    {
        return Err(format!("{label} has type {}, not {want} as rpm writes it", e.kind));
    }
    if e.count == 0 || e.count as usize > data.len().max(1) {
        return Err(format!("count {} is out of bounds (data is {} bytes)", e.count, data.len()));
    }
    let at = e.offset as usize;
    if at >= data.len() {
        return Err(format!("offset {} is past the header's {} bytes of data", e.offset, data.len()));
    }
    match e.kind {
        1..=5 | 7 => {
            let size = match e.kind {
                3 => 2,
                4 => 4,
                5 => 8,
                _ => 1,
            };
            if !at.is_multiple_of(size) {
                return Err(format!("offset {at} is not aligned to {size} bytes as rpm aligns numbers"));
            }
            if (e.count as usize).checked_mul(size).and_then(|n| n.checked_add(at)).is_none_or(|end| end > data.len()) {
                return Err(format!("{} values of {size} bytes at offset {at} run past the data ({} bytes)", e.count, data.len()));
            }
            if (e.tag == 1003 || e.tag == 1006) && e.count != 1 {
                return Err(format!("count {} where rpm writes one value", e.count));
            }
        }
        STRING | STRING_ARRAY | I18NSTRING => {
            if e.kind == STRING && e.count != 1 {
                return Err(format!("a STRING entry has count {}, not 1", e.count));
            }
            let mut pos = at;
            for _ in 0..e.count {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err("a string runs past the end of the data (no NUL)".into());
                };
                if let Some(&b) = data[pos..pos + end].iter().find(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f) {
                    return Err(format!("a string holds the control character 0x{b:02x}"));
                }
                pos += end + 1;
            }
        }
        other => return Err(format!("type {other} is none of rpm's")),
    }
    Ok(())
}

/// rpm's version and release: letters, digits and `._+~^`, no `-`, starting with a letter or digit.
pub(crate) fn check_version_part(v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > 128 {
        return Err("it is 1 to 128 characters".into());
    }
    if !v.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("it starts with a letter or a digit".into());
    }
    if let Some(c) = v.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '~' | '^'))) {
        return Err(format!("it is letters, digits, '.', '_', '+', '~' and '^' (no '-'), not {}", crate::support::text::shown(&c.to_string())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tag: u32, kind: u32, offset: u32, count: u32) -> Entry {
        Entry { tag, kind, offset, count }
    }

    #[test]
    fn entries_must_stay_inside_the_data() {
        let data = b"abc\0\0\0\0\0\0\0\0\x07".to_vec();
        assert!(check_entry(&entry(1000, STRING, 0, 1), &data, MAIN_TAGS).is_ok());
        assert!(check_entry(&entry(1000, STRING, 40, 1), &data, MAIN_TAGS).unwrap_err().contains("past"));
        assert!(check_entry(&entry(1000, INT32, 0, 1), &data, MAIN_TAGS).unwrap_err().contains("NAME has type 4"));
        assert!(check_entry(&entry(5000, INT32, 4, 3), &data, MAIN_TAGS).unwrap_err().contains("run past"));
        assert!(check_entry(&entry(5000, INT32, 2, 1), &data, MAIN_TAGS).unwrap_err().contains("aligned"));
        assert!(check_entry(&entry(5000, INT32, 4, 0xffff_ffff), &data, MAIN_TAGS).unwrap_err().contains("out of bounds"));
        assert!(check_entry(&entry(5000, 12, 0, 1), &data, MAIN_TAGS).unwrap_err().contains("type 12"));
        assert!(check_entry(&entry(5000, STRING_ARRAY, 0, 3), &data, MAIN_TAGS).is_ok());
        assert!(check_entry(&entry(5000, STRING_ARRAY, 8, 5), &data, MAIN_TAGS).unwrap_err().contains("no NUL"));
        let esc = b"a\x1bb\0".to_vec();
        assert!(check_entry(&entry(1000, STRING, 0, 1), &esc, MAIN_TAGS).unwrap_err().contains("0x1b"));
        assert!(check_entry(&entry(5000, BIN, 0, 13), &data, MAIN_TAGS).is_err());
    }

    #[test]
    fn names_and_versions_follow_rpm() {
        for bad in ["", "../../x", "a b", "a\u{1b}b", "a\nb", "-a", "a/b"] {
            assert!(crate::plan::values::rpm_package_name(bad).is_err(), "{bad:?}");
        }
        for good in ["kea-premium-hooks", "python3.11", "libstdc++", "_x"] {
            assert!(crate::plan::values::rpm_package_name(good).is_ok(), "{good}");
        }
        for bad in ["", "1-2", "../1", "1 2", ".1"] {
            assert!(check_version_part(bad).is_err(), "{bad:?}");
        }
        for good in ["2.2.0", "1.el9", "1~rc1", "1^git2"] {
            assert!(check_version_part(good).is_ok(), "{good}");
        }
    }
}

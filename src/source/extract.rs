//! Safe unpacking of the inputs: every archive entry lands inside the destination or the whole
//! extraction stops with an error naming the archive and the entry.
//!
//! Refused: absolute paths, `..` that leaves the destination, symlinks whose target leaves it once
//! resolved link by link as the kernel will (`beneath`, on the whole unpacked tree, whatever the
//! order of the entries), hard links that do not name an earlier file by its plain path, entries
//! written through a symlink the same archive planted, sparse members (GNU 'S', PAX 0.0, 0.1 and
//! 1.0), device nodes and FIFOs, and entries that replace an earlier entry of another type.
//! setuid/setgid/sticky bits and group/world write are dropped. Size and entry-count limits stop
//! decompression bombs. Directory inputs obey the same rules (`copydir`).

use crate::support::text;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

/// Limits on what one archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Total bytes of file content.
    pub max_bytes: u64,
    /// Number of entries.
    pub max_entries: u64,
}

impl Default for Limits {
    /// Generous: a Kea release unpacks to about 100 MB in about 7,000 entries.
    fn default() -> Self {
        Limits { max_bytes: 8 << 30, max_entries: 1_000_000 }
    }
}

/// Unpack an archive, or copy a directory, into `dest`, then resolve every link in it beneath
/// `dest` (`links::check_links`). Returns the newest entry time seen. On a refusal `dest` is
/// removed, so no link the input planted stays in the work directory.
pub fn unpack_input(input: &Path, dest: &Path, limits: Limits) -> Result<u64> {
    let meta = fs::metadata(input).with_context(|| format!("cannot read input {}", text::path(input)))?;
    fs::create_dir_all(dest).with_context(|| format!("cannot create {}", text::path(dest)))?;
    let unpacked = if meta.is_dir() { crate::source::copydir::copy_input(input, dest, limits) } else { extract_archive(input, dest, limits) }
        .and_then(|newest| crate::source::links::check_links(dest, input, Path::new(""), "the destination").map(|()| newest));
    if unpacked.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    unpacked
}

/// The compression an archive's first bytes announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Packing {
    Gzip,
    Xz,
    Zstd,
    Plain,
}

impl Packing {
    pub(crate) fn sniff(magic: &[u8]) -> Packing {
        match magic {
            [0x1f, 0x8b, ..] => Packing::Gzip,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Packing::Xz,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Packing::Zstd,
            _ => Packing::Plain,
        }
    }
}

/// Open an archive with the decompressor its first bytes call for (not its name).
fn open_archive(path: &Path) -> Result<(Box<dyn Read>, Packing)> {
    let mut file = fs::File::open(path).with_context(|| format!("cannot open {}", text::path(path)))?;
    let mut magic = [0u8; 6];
    let mut n = 0;
    while n < magic.len() {
        let got = file.read(&mut magic[n..]).with_context(|| format!("cannot read {}", text::path(path)))?;
        if got == 0 {
            break;
        }
        n += got;
    }
    if n == 0 {
        bail!("{} is empty, not an archive", text::path(path));
    }
    let packing = Packing::sniff(&magic[..n]);
    let file = BufReader::new(fs::File::open(path)?);
    let reader: Box<dyn Read> = match packing {
        Packing::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Packing::Xz => Box::new(liblzma::read::XzDecoder::new(file)),
        Packing::Zstd => Box::new(zstd::stream::read::Decoder::new(file)?),
        Packing::Plain => Box::new(file),
    };
    Ok((reader, packing))
}

/// What an earlier entry of the same archive made at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    File,
    Dir,
    Symlink,
}

/// Extract an archive into `dest`, refusing anything that would land outside it.
fn extract_archive(path: &Path, dest: &Path, limits: Limits) -> Result<u64> {
    let (reader, packing) = open_archive(path)?;
    let what = match packing {
        Packing::Gzip => "gzip-compressed tar archive",
        Packing::Xz => "xz-compressed tar archive",
        Packing::Zstd => "zstd-compressed tar archive",
        Packing::Plain => "tar archive",
    };
    let corrupt = || format!("{} is not a readable {what}: corrupt, truncated or not an archive", text::path(path));
    let refuse = |entry: &Path, why: String| anyhow::anyhow!("refusing {}: entry '{}' {why}", text::path(path), text::path(entry));

    let mut archive = tar::Archive::new(reader);
    let mut made: BTreeMap<PathBuf, Made> = BTreeMap::new();
    let (mut newest, mut count, mut bytes) = (0u64, 0u64, 0u64);
    for entry in archive.entries().with_context(corrupt)? {
        let mut entry = entry.with_context(corrupt)?;
        let name = entry.path().with_context(corrupt)?.into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName | tar::EntryType::GNULongLink) {
            continue;
        }
        if kind == tar::EntryType::GNUSparse {
            return Err(refuse(&name, SPARSE.replace("{flavour}", "GNU sparse ('S')")));
        }
        if let Some(flavour) = pax_sparse(&mut entry).with_context(corrupt)? {
            return Err(refuse(&name, SPARSE.replace("{flavour}", &flavour)));
        }
        let rel = safe_relative(&name).ok_or_else(|| refuse(&name, "leaves the destination (an absolute path or ..)".into()))?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        count += 1;
        if count > limits.max_entries {
            bail!("refusing {}: more than {} entries (raise the limit with --max-entries)", text::path(path), limits.max_entries);
        }
        // Nothing may be written through a symlink this archive planted.
        for ancestor in rel.ancestors().skip(1) {
            if made.get(ancestor) == Some(&Made::Symlink) {
                return Err(refuse(&name, format!("is written through the symlink '{}' planted earlier in the archive", text::path(ancestor))));
            }
        }
        let this = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Link => Made::File,
            tar::EntryType::Directory => Made::Dir,
            tar::EntryType::Symlink => Made::Symlink,
            tar::EntryType::Char | tar::EntryType::Block => return Err(refuse(&name, "is a device node".into())),
            tar::EntryType::Fifo => return Err(refuse(&name, "is a FIFO".into())),
            other => return Err(refuse(&name, format!("has an unsupported type ({other:?})"))),
        };
        if let Some(before) = made.get(&rel)
            && *before != this
        {
            return Err(refuse(&name, format!("would replace an earlier {before:?} entry with a {this:?}")));
        }
        let out = dest.join(&rel);
        let mode = entry.header().mode().unwrap_or(0o644);
        let mtime = entry.header().mtime().unwrap_or(0);
        newest = newest.max(mtime);
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", text::path(parent)))?;
        }
        match kind {
            tar::EntryType::Directory => {
                fs::create_dir_all(&out).with_context(|| format!("cannot create {}", text::path(&out)))?;
                set_mode(&out, clean_mode(mode, true))?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry.link_name().with_context(corrupt)?.ok_or_else(|| refuse(&name, "is a link without a target".into()))?.into_owned();
                if target.is_absolute() {
                    return Err(refuse(&name, format!("links to '{}', outside the destination", text::path(&target))));
                }
                // A symlink's text is resolved once the whole archive is out (unpack_input), link
                // by link as the kernel will: a later entry may be a link it goes through. A hard
                // link names an earlier member, so it must be one, by its plain name.
                if kind == tar::EntryType::Link && safe_relative(&target).is_none() {
                    return Err(refuse(&name, format!("hard-links to '{}', outside the destination; a hard link must name a file stored earlier in the archive: pack the file itself", text::path(&target))));
                }
                if kind == tar::EntryType::Link && target.components().any(|c| c == Component::ParentDir) {
                    return Err(refuse(&name, format!("hard-links to '{}' through '..'; a hard link names an earlier member by its plain path: pack the input again with GNU tar or store the file itself", text::path(&target))));
                }
                remove_existing(&out)?;
                if kind == tar::EntryType::Symlink {
                    std::os::unix::fs::symlink(&target, &out).with_context(|| format!("cannot create the symlink {}", text::path(&out)))?;
                } else {
                    let source = safe_relative(&target).expect("checked above");
                    if made.get(&source) != Some(&Made::File) {
                        return Err(refuse(&name, format!("hard-links to '{}', which is not a file extracted before it", text::path(&target))));
                    }
                    fs::hard_link(dest.join(&source), &out).with_context(|| format!("cannot create the link {}", text::path(&out)))?;
                }
            }
            _ => {
                let size = entry.header().size().unwrap_or(0);
                bytes = bytes.saturating_add(size);
                if bytes > limits.max_bytes {
                    bail!("refusing {}: it unpacks to more than {} bytes (raise the limit with --max-unpacked-size)", text::path(path), limits.max_bytes);
                }
                remove_existing(&out)?;
                let mut file = fs::File::create(&out).with_context(|| format!("cannot create {}", text::path(&out)))?;
                let copied = std::io::copy(&mut (&mut entry).take(size), &mut file).with_context(corrupt)?;
                if copied != size {
                    bail!("{}: entry '{}' is truncated", corrupt(), text::path(&name));
                }
                file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime))?;
                set_mode(&out, clean_mode(mode, false))?;
            }
        }
        made.insert(rel, this);
    }
    if count == 0 {
        bail!("{} holds no files: {}", text::path(path), corrupt());
    }
    Ok(newest)
}

/// What a sparse member is refused with; `{flavour}` names its format.
const SPARSE: &str = "is a sparse file ({flavour}); keapack does not unpack sparse members: GNU tar would expand them, other readers leave the raw sparse map under GNUSparseFile.N/. Pack the input again without --sparse (GNU tar) or with a tar that stores plain files";

/// The PAX sparse format an entry's extended header announces (GNU.sparse.* keys): 0.0 and
/// 0.1 by their maps, 1.0 by GNU.sparse.major/minor.
fn pax_sparse<R: Read>(entry: &mut tar::Entry<R>) -> std::io::Result<Option<String>> {
    let Some(exts) = entry.pax_extensions()? else { return Ok(None) };
    let mut keys = Vec::new();
    let (mut major, mut minor) = (None, None);
    for ext in exts {
        let ext = ext?;
        let key = String::from_utf8_lossy(ext.key_bytes()).into_owned();
        match key.as_str() {
            "GNU.sparse.major" => major = Some(String::from_utf8_lossy(ext.value_bytes()).into_owned()),
            "GNU.sparse.minor" => minor = Some(String::from_utf8_lossy(ext.value_bytes()).into_owned()),
            _ => {}
        }
        if key.starts_with("GNU.sparse.") {
            keys.push(key);
        }
    }
    Ok(match (major, minor) {
        (Some(ma), Some(mi)) => Some(format!("PAX sparse format {}.{}", text::shown(&ma), text::shown(&mi))),
        _ if keys.iter().any(|k| k == "GNU.sparse.map") => Some("PAX sparse format 0.1 (GNU.sparse.map)".into()),
        _ if keys.iter().any(|k| k == "GNU.sparse.offset") => Some("PAX sparse format 0.0 (GNU.sparse.offset)".into()),
        _ if !keys.is_empty() => Some(format!("PAX sparse keys {}", keys.join(", "))),
        _ => None,
    })
}

/// Replace a file or link from an earlier entry of the same type (tar's "later wins").
fn remove_existing(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => bail!("cannot replace the directory {} with a file", text::path(path)),
        Ok(_) => fs::remove_file(path).with_context(|| format!("cannot replace {}", text::path(path))),
        Err(_) => Ok(()),
    }
}

/// Drop setuid/setgid/sticky and group/world write; the owner can always read and write.
pub(crate) fn clean_mode(mode: u32, dir: bool) -> u32 {
    (mode & 0o755) | if dir { 0o700 } else { 0o600 }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).with_context(|| format!("cannot set the mode of {}", text::path(path)))
}

/// The path with `.` removed and `..` applied, or `None` when it is absolute or climbs out.
pub(crate) fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// One raw tar entry: name, type, link target, content, mode.
    struct E<'a>(&'a str, tar::EntryType, &'a str, &'a [u8], u32);

    /// Build a tar with raw headers, so hostile names get in as they are.
    fn raw_tar(entries: &[E]) -> Vec<u8> {
        let mut out = Vec::new();
        for E(name, kind, link, data, mode) in entries {
            let mut h = tar::Header::new_old();
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_mtime(1_700_000_000);
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.resize(out.len() + 1024, 0);
        out
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Extract `bytes` (written as `name`) into a fresh destination inside a sandbox; return the
    /// error text, and assert nothing appeared in the sandbox outside the destination.
    fn extract_err(name: &str, bytes: &[u8]) -> String {
        let sandbox = tempfile::tempdir().unwrap();
        let arc = sandbox.path().join(name);
        fs::write(&arc, bytes).unwrap();
        let dest = sandbox.path().join("a/b/dest");
        let err = unpack_input(&arc, &dest, Limits::default()).expect_err("extraction must fail");
        let mut outside: Vec<String> = Vec::new();
        for e in walk(sandbox.path()) {
            if !e.starts_with(&dest) && e != arc && !dest.starts_with(&e) {
                outside.push(e.display().to_string());
            }
        }
        assert!(outside.is_empty(), "written outside the destination: {outside:?}");
        format!("{err:#}")
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut all = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            all.push(p.clone());
            if fs::symlink_metadata(&p).unwrap().is_dir() {
                all.extend(walk(&p));
            }
        }
        all
    }

    use tar::EntryType::{Block, Char, Directory, Fifo, Link, Regular, Symlink};

    #[test]
    fn refuses_path_traversal_and_absolute_paths() {
        let e = extract_err("t.tar", &raw_tar(&[E("premium/../../../escape", Regular, "", b"x", 0o644)]));
        assert!(e.contains("refusing") && e.contains("t.tar") && e.contains("premium/../../../escape") && e.contains(".."), "{e}");
        let e = extract_err("t.tar.gz", &gz(&raw_tar(&[E("/tmp/keapack-abs", Regular, "", b"x", 0o644)])));
        assert!(e.contains("'/tmp/keapack-abs'") && e.contains("absolute"), "{e}");
        assert!(!Path::new("/tmp/keapack-abs").exists());
    }

    #[test]
    fn refuses_symlink_and_hardlink_escapes() {
        let e = extract_err("s.tar", &raw_tar(&[E("premium/evil", Symlink, "../../../etc", b"", 0o777)]));
        assert!(e.contains("premium/evil") && e.contains("outside the destination"), "{e}");
        let e = extract_err("s.tar", &raw_tar(&[E("evil", Symlink, "/etc/passwd", b"", 0o777)]));
        assert!(e.contains("'/etc/passwd'"), "{e}");
        let e = extract_err("h.tar", &raw_tar(&[E("evil", Link, "../outside", b"", 0o644)]));
        assert!(e.contains("outside the destination"), "{e}");
        let e = extract_err("h.tar", &raw_tar(&[E("evil", Link, "never-extracted", b"", 0o644)]));
        assert!(e.contains("not a file extracted before it"), "{e}");
    }

    #[test]
    fn refuses_writing_through_a_planted_symlink() {
        // `d` points inside the destination, so the link itself is allowed; writing through it is not.
        let e = extract_err("w.tar", &raw_tar(&[E("sub/", Directory, "", b"", 0o755), E("d", Symlink, "sub", b"", 0o777), E("d/file", Regular, "", b"x", 0o644)]));
        assert!(e.contains("'d/file'") && e.contains("through the symlink 'd'"), "{e}");
        // A link inside that resolves through another planted link to outside.
        let e = extract_err("w2.tar", &raw_tar(&[E("x/", Directory, "", b"", 0o755), E("x/up", Symlink, "..", b"", 0o777), E("esc", Symlink, "x/up/..", b"", 0o777)]));
        assert!(e.contains("'esc'") && e.contains("leaves the destination once the link 'x/up' (to '..') is followed"), "{e}");
    }

    #[test]
    fn a_chain_planted_before_the_link_it_goes_through_is_resolved_as_the_kernel_will() {
        // The wrapper comes first, so no earlier link explains it; its text stays inside when
        // `..` is applied to it, and leaves once d1/…/d10/s (planted later) is followed.
        let deep = "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10";
        let wrapper = format!("{deep}/s/../../../victim");
        let s_text = "../../../../../../../../../..";
        assert!(safe_relative(Path::new(&wrapper)).is_some() && safe_relative(&Path::new(deep).join(s_text)).is_some());
        let tar = raw_tar(&[E("kea-premium-2.2.0", Symlink, &wrapper, b"", 0o777), E(&format!("{deep}/"), Directory, "", b"", 0o755), E(&format!("{deep}/s"), Symlink, s_text, b"", 0o777)]);
        let e = extract_err("kea-premium-2.2.0.tar", &tar);
        assert!(e.contains(&format!("entry 'kea-premium-2.2.0' links to '{wrapper}', which leaves the destination once the link '{deep}/s'")), "{e}");
        // A link to a link that stays inside is kept, as the kernel would read it.
        let tmp = tempfile::tempdir().unwrap();
        let arc = tmp.path().join("ok.tar");
        fs::write(&arc, raw_tar(&[E("a/", Directory, "", b"", 0o755), E("a/f", Regular, "", b"x", 0o644), E("l1", Symlink, "l2/f", b"", 0o777), E("l2", Symlink, "a", b"", 0o777)])).unwrap();
        unpack_input(&arc, &tmp.path().join("d"), Limits::default()).unwrap();
        assert_eq!(fs::read(tmp.path().join("d/l1")).unwrap(), b"x");
    }

    #[test]
    fn hard_links_name_earlier_members_by_their_plain_path() {
        let e = extract_err("h.tar", &raw_tar(&[E("a", Regular, "", b"x", 0o644), E("b/", Directory, "", b"", 0o755), E("evil", Link, "b/../a", b"", 0o644)]));
        assert!(e.contains("'evil' hard-links to 'b/../a' through '..'"), "{e}");
    }

    #[test]
    fn pax_sparse_members_are_refused() {
        for (keys, flavour) in [
            (vec![("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "big"), ("GNU.sparse.realsize", "9")], "PAX sparse format 1.0"),
            (vec![("GNU.sparse.size", "9"), ("GNU.sparse.numblocks", "1"), ("GNU.sparse.map", "0,1")], "PAX sparse format 0.1"),
            (vec![("GNU.sparse.size", "9"), ("GNU.sparse.numblocks", "1"), ("GNU.sparse.offset", "0"), ("GNU.sparse.numbytes", "1")], "PAX sparse format 0.0"),
        ] {
            let mut b = tar::Builder::new(Vec::new());
            b.append_pax_extensions(keys.iter().map(|(k, v)| (*k, v.as_bytes()))).unwrap();
            let mut h = tar::Header::new_ustar();
            h.set_size(1);
            h.set_mode(0o644);
            h.set_entry_type(Regular);
            b.append_data(&mut h, "GNUSparseFile.1/big", &b"x"[..]).unwrap();
            let e = extract_err("s.tar", &b.into_inner().unwrap());
            assert!(e.contains("entry 'GNUSparseFile.1/big' is a sparse file") && e.contains(flavour) && e.contains("without --sparse"), "{e}");
        }
    }

    #[test]
    fn refuses_devices_fifos_and_type_changes() {
        for (kind, word) in [(Char, "device node"), (Block, "device node"), (Fifo, "FIFO")] {
            let e = extract_err("d.tar", &raw_tar(&[E("dev/thing", kind, "", b"", 0o644)]));
            assert!(e.contains("'dev/thing'") && e.contains(word), "{e}");
        }
        let e = extract_err("o.tar", &raw_tar(&[E("a/", Directory, "", b"", 0o755), E("a", Regular, "", b"x", 0o644)]));
        assert!(e.contains("would replace an earlier Dir entry with a File"), "{e}");
        let e = extract_err("o.tar", &raw_tar(&[E("a", Regular, "", b"x", 0o644), E("a", Symlink, "b", b"", 0o777)]));
        assert!(e.contains("would replace an earlier File entry with a Symlink"), "{e}");
    }

    #[test]
    fn corrupt_truncated_empty_and_garbage_inputs_are_named() {
        let good = gz(&raw_tar(&[E("premium/config.m4", Regular, "", &[b'x'; 4000], 0o644)]));
        let e = extract_err("kea-premium-2.6.5.tar.gz", &good[..good.len() / 2]);
        assert!(e.contains("kea-premium-2.6.5.tar.gz") && e.contains("gzip-compressed") && e.contains("truncated"), "{e}");
        let e = extract_err("kea-2.6.5.tar.xz", b"");
        assert!(e.contains("kea-2.6.5.tar.xz is empty"), "{e}");
        let e = extract_err("kea-2.6.5.tar.gz", b"this is not an archive, only some words of text, long enough to fill a tar header block? no.");
        assert!(e.contains("kea-2.6.5.tar.gz") && e.contains("not a readable tar archive"), "{e}");
        let mut xz = Vec::new();
        liblzma::read::XzEncoder::new(&b"plain text, not tar"[..], 6).read_to_end(&mut xz).unwrap();
        let e = extract_err("kea-2.6.5.tar.xz", &xz[..xz.len() - 8]);
        assert!(e.contains("xz-compressed"), "{e}");
    }

    #[test]
    fn a_mislabelled_archive_is_read_by_its_content() {
        let tmp = tempfile::tempdir().unwrap();
        let mut xz = Vec::new();
        let tar = raw_tar(&[E("premium/config.m4", Regular, "", b"dnl", 0o644)]);
        liblzma::read::XzEncoder::new(&tar[..], 6).read_to_end(&mut xz).unwrap();
        let arc = tmp.path().join("kea-premium-2.6.5.tar.gz"); // says gzip, holds xz
        fs::write(&arc, xz).unwrap();
        unpack_input(&arc, &tmp.path().join("d"), Limits::default()).unwrap();
        assert_eq!(fs::read(tmp.path().join("d/premium/config.m4")).unwrap(), b"dnl");
    }

    #[test]
    fn limits_stop_bombs() {
        let tar = raw_tar(&[E("a", Regular, "", &[0u8; 3000], 0o644), E("b", Regular, "", &[0u8; 3000], 0o644)]);
        let tmp = tempfile::tempdir().unwrap();
        let arc = tmp.path().join("bomb.tar.gz");
        fs::write(&arc, gz(&tar)).unwrap();
        let e = unpack_input(&arc, &tmp.path().join("d1"), Limits { max_bytes: 5000, max_entries: 100 }).unwrap_err().to_string();
        assert!(e.contains("more than 5000 bytes") && e.contains("--max-unpacked-size"), "{e}");
        let e = unpack_input(&arc, &tmp.path().join("d2"), Limits { max_bytes: 1 << 20, max_entries: 1 }).unwrap_err().to_string();
        assert!(e.contains("more than 1 entries") && e.contains("--max-entries"), "{e}");
    }

    #[test]
    fn modes_are_cleaned_and_times_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let arc = tmp.path().join("m.tar");
        fs::write(&arc, raw_tar(&[E("suid", Regular, "", b"x", 0o4777), E("dir/", Directory, "", b"", 0o1777), E("ro", Regular, "", b"y", 0o444)])).unwrap();
        let dest = tmp.path().join("d");
        assert_eq!(unpack_input(&arc, &dest, Limits::default()).unwrap(), 1_700_000_000);
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| fs::metadata(dest.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("suid"), 0o755);
        assert_eq!(mode("dir"), 0o755);
        assert_eq!(mode("ro"), 0o644);
        let t = fs::metadata(dest.join("suid")).unwrap().modified().unwrap();
        assert_eq!(t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(), 1_700_000_000);
    }

    #[test]
    fn safe_relative_rules() {
        assert_eq!(safe_relative(Path::new("./a/b")), Some(PathBuf::from("a/b")));
        assert_eq!(safe_relative(Path::new("a/../b")), Some(PathBuf::from("b")));
        assert_eq!(safe_relative(Path::new("../b")), None);
        assert_eq!(safe_relative(Path::new("/etc/passwd")), None);
    }
}

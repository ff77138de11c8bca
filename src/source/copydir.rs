//! A directory input (an unpacked Kea tree or overlay) copied into the work directory under the
//! rules archives obey: the same size and entry limits (a file counts by its length, so a sparse
//! file counts in full), symlinks kept as symlinks (and checked beneath the destination, with the
//! archives' links, by `links::check_links`), device nodes, FIFOs and sockets refused, modes
//! cleaned. Nothing in the input is followed: each entry is looked at with `lstat`, each file
//! opened with `O_NOFOLLOW`.

use crate::source::extract::{Limits, clean_mode};
use crate::support::text;
use anyhow::{Context, Result, bail};
use std::fs;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Running totals of one copy.
struct Count {
    entries: u64,
    bytes: u64,
    newest: u64,
}

/// Copy the directory `input` into `dest` (which exists). Returns the newest file time seen.
pub(crate) fn copy_input(input: &Path, dest: &Path, limits: Limits) -> Result<u64> {
    let mut count = Count { entries: 0, bytes: 0, newest: 0 };
    copy_dir(input, Path::new(""), dest, limits, &mut count)?;
    Ok(count.newest)
}

fn copy_dir(input: &Path, rel: &Path, dest: &Path, limits: Limits, count: &mut Count) -> Result<()> {
    let here = input.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&here)
        .with_context(|| format!("cannot read {}", text::path(&here)))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read {}", text::path(&here)))?;
    entries.sort_by_key(|e| e.file_name());
    let refuse = |entry: &PathBuf, why: String| anyhow::anyhow!("refusing {}: entry '{}' {why}", text::path(input), text::path(entry));
    for entry in entries {
        let name: PathBuf = rel.join(entry.file_name());
        let from = entry.path();
        let to = dest.join(&name);
        let meta = fs::symlink_metadata(&from).with_context(|| format!("cannot read {}", text::path(&from)))?;
        count.entries += 1;
        if count.entries > limits.max_entries {
            bail!("refusing {}: more than {} entries (raise the limit with --max-entries)", text::path(input), limits.max_entries);
        }
        let kind = meta.file_type();
        if kind.is_dir() {
            fs::create_dir(&to).with_context(|| format!("cannot create {}", text::path(&to)))?;
            copy_dir(input, &name, dest, limits, count)?;
            fs::set_permissions(&to, fs::Permissions::from_mode(clean_mode(meta.permissions().mode(), true)))?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).with_context(|| format!("cannot read the link {}", text::path(&from)))?;
            if target.is_absolute() {
                return Err(refuse(&name, format!("links to '{}', outside the destination (an absolute link); remove the link from the input or make it relative and inside it", text::path(&target))));
            }
            std::os::unix::fs::symlink(&target, &to).with_context(|| format!("cannot create the symlink {}", text::path(&to)))?;
        } else if kind.is_file() {
            // By length, not by blocks: a sparse file is written out in full.
            count.bytes = count.bytes.saturating_add(meta.len());
            if count.bytes > limits.max_bytes {
                bail!(
                    "refusing {}: its files come to more than {} bytes (at '{}', {} bytes long; a sparse file counts by its length) (raise the limit with --max-unpacked-size)",
                    text::path(input),
                    limits.max_bytes,
                    text::path(&name),
                    meta.len()
                );
            }
            let mut src = fs::File::options()
                .read(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&from)
                .with_context(|| format!("cannot open {}", text::path(&from)))?;
            let mut dst = fs::File::options().write(true).create_new(true).open(&to).with_context(|| format!("cannot create {}", text::path(&to)))?;
            let copied = std::io::copy(&mut std::io::Read::take(&mut src, meta.len()), &mut dst).with_context(|| format!("cannot copy {}", text::path(&from)))?;
            if copied != meta.len() {
                bail!("{} changed while it was copied ({} of {} bytes); copy it again when nothing writes to it", text::path(&from), copied, meta.len());
            }
            dst.set_permissions(fs::Permissions::from_mode(clean_mode(meta.permissions().mode(), false)))?;
            let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
            count.newest = count.newest.max(mtime);
        } else {
            let what = if kind.is_fifo() {
                "is a FIFO"
            } else if kind.is_socket() {
                "is a socket"
            } else {
                "is a device node"
            };
            return Err(refuse(&name, format!("{what}; a source input holds files, directories and links only: remove it from the directory")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_kept_specials_refused_and_sparse_files_count_by_length() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("kea-premium-2.2.0");
        fs::create_dir_all(input.join("premium/src")).unwrap();
        fs::write(input.join("premium/config.m4"), "dnl\n").unwrap();
        std::os::unix::fs::symlink("../config.m4", input.join("premium/src/alias.m4")).unwrap();
        let dest = tmp.path().join("d1");
        fs::create_dir(&dest).unwrap();
        copy_input(&input, &dest, Limits::default()).unwrap();
        assert_eq!(fs::read_link(dest.join("premium/src/alias.m4")).unwrap(), PathBuf::from("../config.m4"));

        // A 300 MB sparse file under a 100 MB limit: refused before it is copied.
        let big = fs::File::create(input.join("premium/big")).unwrap();
        big.set_len(300 << 20).unwrap();
        let dest = tmp.path().join("d2");
        fs::create_dir(&dest).unwrap();
        let e = copy_input(&input, &dest, Limits { max_bytes: 100 << 20, max_entries: 100 }).unwrap_err().to_string();
        assert!(e.contains("more than 104857600 bytes") && e.contains("'premium/big', 314572800 bytes long") && e.contains("--max-unpacked-size"), "{e}");
        assert!(!dest.join("premium/big").exists(), "nothing of it was written");
        fs::remove_file(input.join("premium/big")).unwrap();

        std::os::unix::fs::symlink("/etc", input.join("premium/abs")).unwrap();
        let dest = tmp.path().join("d3");
        fs::create_dir(&dest).unwrap();
        let e = copy_input(&input, &dest, Limits::default()).unwrap_err().to_string();
        assert!(e.contains("entry 'premium/abs' links to '/etc', outside the destination"), "{e}");
        fs::remove_file(input.join("premium/abs")).unwrap();

        let fifo = std::ffi::CString::new(input.join("premium/fifo").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let dest = tmp.path().join("d4");
        fs::create_dir(&dest).unwrap();
        let e = copy_input(&input, &dest, Limits::default()).unwrap_err().to_string();
        assert!(e.contains("entry 'premium/fifo' is a FIFO"), "{e}");
    }
}

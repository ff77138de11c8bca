//! Outputs appear whole or not at all: written to a temporary file in the output directory,
//! synced, then renamed. `SHA256SUMS` lists every output keapack put there.

pub(crate) mod record;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const SUMS: &str = "SHA256SUMS";

/// Create `out` if needed and write `name` in it atomically from `write`.
pub fn publish(out: &Path, name: &str, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<PathBuf> {
    fs::create_dir_all(out).with_context(|| format!("cannot create the output directory {}", out.display()))?;
    let dest = out.join(name);
    let tmp = tempfile::Builder::new()
        .prefix(".keapack-")
        .suffix(".partial")
        .tempfile_in(out)
        .with_context(|| format!("cannot write in the output directory {}", out.display()))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        write(&mut w).with_context(|| format!("cannot write {}", dest.display()))?;
        w.flush().with_context(|| format!("cannot write {}", dest.display()))?;
    }
    tmp.as_file().sync_all().with_context(|| format!("cannot write {}", dest.display()))?;
    // An interrupted run publishes nothing: the temporary file goes away with `tmp`.
    crate::support::interrupt::check()?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))?;
    tmp.persist(&dest).with_context(|| format!("cannot move the finished file to {}", dest.display()))?;
    Ok(dest)
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Add `files` (in `out`) to `out/SHA256SUMS`, keeping earlier entries whose files still exist.
pub fn update_sums(out: &Path, files: &[PathBuf]) -> Result<PathBuf> {
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    if let Ok(old) = fs::read_to_string(out.join(SUMS)) {
        for line in old.lines() {
            if let Some((sum, name)) = line.split_once("  ")
                && out.join(name).is_file()
            {
                sums.insert(name.to_string(), sum.to_string());
            }
        }
    }
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).context("output file names are UTF-8")?;
        sums.insert(name.to_string(), sha256_file(f)?);
    }
    let text: String = sums.iter().map(|(name, sum)| format!("{sum}  {name}\n")).collect();
    publish(out, SUMS, |w| Ok(w.write_all(text.as_bytes())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_writer_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("dist");
        let err = publish(&out, "a.deb", |w| {
            w.write_all(b"half")?;
            anyhow::bail!("disk on fire")
        });
        assert!(err.is_err());
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "no partial file stays");
    }

    #[test]
    fn sums_match_sha256sum_format_and_merge() {
        let tmp = tempfile::tempdir().unwrap();
        let a = publish(tmp.path(), "a.deb", |w| Ok(w.write_all(b"abc")?)).unwrap();
        update_sums(tmp.path(), &[a]).unwrap();
        let b = publish(tmp.path(), "b.rpm", |w| Ok(w.write_all(b"")?)).unwrap();
        update_sums(tmp.path(), &[b]).unwrap();
        let text = fs::read_to_string(tmp.path().join(SUMS)).unwrap();
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.deb\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b.rpm\n"
        );
    }
}

//! What a repository serves, checked against what a publish would write, and the final
//! switch of its signed files.
//!
//! A publish killed between two renames leaves a repository whose files disagree: an
//! `InRelease` that signs an older `Release`, a `Release.gpg` or `repomd.xml.asc` that does not
//! verify the file beside it, an index missing. So a publish does not decide "nothing changed"
//! from `Release` or `repomd.xml` alone: it also verifies the signatures with gpgv against the
//! repository's own key (a keyring holding that key only) and compares every index with what it
//! would write, and rewrites what disagrees.
//!
//! The signed files are written as synced temporary files first and renamed one after the
//! other only then ([`replace_together`]), so the window in which a reader can see one new
//! and one old file is a few renames long, not a signature and an fsync.

use super::sign::Signer;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a publish did to one apt codename or dnf repository.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Everything served agreed with what this publish would write.
    Unchanged,
    /// New indices and signatures.
    Written,
    /// The same indices; these served files disagreed with them and were rewritten.
    Repaired(Vec<String>),
}

/// A keyring holding only the signing key, for gpgv.
pub(crate) struct Keyring {
    dir: tempfile::TempDir,
    file: PathBuf,
}

impl Keyring {
    /// The signer's public key, exported into a private temporary directory.
    pub(crate) fn of(signer: &Signer) -> Result<Keyring> {
        if !crate::support::runner::have("gpgv") {
            bail!("checking the repository's signatures needs gpgv: install the Debian package `gpgv` (apt-get install gpgv; dnf install gnupg2 on Fedora and RHEL)");
        }
        let dir = tempfile::Builder::new().prefix("keapack-gpgv-").tempdir().context("cannot make a temporary directory for gpgv")?;
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let file = dir.path().join("key.gpg");
        std::fs::write(&file, signer.export(false)?).with_context(|| format!("cannot write {}", file.display()))?;
        Ok(Keyring { dir, file })
    }

    fn gpgv(&self) -> Command {
        let mut c = Command::new("gpgv");
        c.arg("--homedir").arg(self.dir.path()).arg("--keyring").arg(&self.file);
        c
    }

    /// The text `signed` (a clear-signed file) signs with this key; `None` when it is missing
    /// or does not verify.
    pub(crate) fn clearsigned_text(&self, signed: &Path) -> Result<Option<Vec<u8>>> {
        if !signed.is_file() {
            return Ok(None);
        }
        let out = self.gpgv().args(["--output", "-"]).arg(signed).output().context("cannot run gpgv")?;
        Ok(out.status.success().then_some(out.stdout))
    }

    /// True when `signature` is a detached signature of `data` by this key.
    pub(crate) fn verifies(&self, signature: &Path, data: &Path) -> Result<bool> {
        if !signature.is_file() || !data.is_file() {
            return Ok(false);
        }
        Ok(self.gpgv().arg(signature).arg(data).output().context("cannot run gpgv")?.status.success())
    }
}

/// The files `repomd.xml` lists: each `location href` with the SHA-256 its `checksum` gives
/// (`None` when it names another algorithm).
pub(crate) fn repomd_files(repomd: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for block in repomd.split("<data ").skip(1) {
        let block = block.split("</data>").next().unwrap_or(block);
        let Some(href) = block.split("href=\"").nth(1).and_then(|s| s.split('"').next()) else { continue };
        let sum = block.split("<checksum type=\"sha256\">").nth(1).and_then(|s| s.split("</checksum>").next()).map(|s| s.trim().to_ascii_lowercase());
        out.push((href.to_string(), sum));
    }
    out
}

/// Replace `files` in `dir`, in this order: every one written to a synced temporary file
/// first, then all renamed one after the other, then the directory synced.
pub(crate) fn replace_together(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let staged = files.iter().map(|(name, bytes)| super::stage(dir, name, |w| Ok(w.write_all(bytes)?))).collect::<Result<Vec<_>>>()?;
    // An interrupted run renames none of them: the temporary files go with `staged`.
    crate::support::interrupt::check()?;
    for (tmp, dest) in staged {
        tmp.persist(&dest).with_context(|| format!("cannot move the finished file to {}", dest.display()))?;
    }
    std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repomd_lists_each_location_with_its_sha256() {
        let repomd = r#"<repomd><revision>1</revision>
<data type="primary"><checksum type="sha256">ABC</checksum><open-checksum type="sha256">def</open-checksum><location href="repodata/abc-primary.xml.gz"/></data>
<data type="other"><checksum type="sha1">123</checksum><location href="repodata/123-other.xml.gz"/></data>
<data type="broken"><checksum type="sha256">x</checksum></data></repomd>"#;
        assert_eq!(repomd_files(repomd), [("repodata/abc-primary.xml.gz".to_string(), Some("abc".to_string())), ("repodata/123-other.xml.gz".to_string(), None)]);
        assert!(repomd_files("not xml").is_empty());
    }

    #[test]
    fn replaced_files_are_whole_and_no_temporary_file_stays() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("b"), "old").unwrap();
        replace_together(tmp.path(), &[("a", b"1"), ("b", b"2")]).unwrap();
        assert_eq!(std::fs::read(tmp.path().join("a")).unwrap(), b"1");
        assert_eq!(std::fs::read(tmp.path().join("b")).unwrap(), b"2");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);
    }
}

//! Signing with OpenPGP keys held by GnuPG: clear-signed and detached signatures for
//! repository indices, header signatures for `.rpm` files, and the public key to publish.
//!
//! gpg is the keyholder. With `--gpg-key FPR` the user's own GnuPG (its agent, smartcard,
//! pinentry) signs; with `--key-file FILE` the key is imported into a private, temporary GnuPG
//! home that is deleted afterwards, and its passphrase (if any) is read from the environment
//! variable `--passphrase-env` names and handed to gpg through a file only this user can read.
//!
//! rpm signatures are computed here rather than by rpmsign: keapack asks gpg for a detached
//! signature over the package's main header and writes the signature header itself
//! ([`crate::emit::rpm_header`]). That needs no rpm macro set-up (`%_gpg_name`,
//! `%__gpg_sign_cmd`, a passphrase through rpm's pipes), works the same with both key sources
//! and on hosts without rpmsign, keeps the rest of the package byte for byte — exactly what
//! rpmsign's header-only signatures (rpm 4.16+) are — and keeps the payload-size tag, which
//! the `rpm` crate's own signature builder drops.
//!
//! Keys must be RSA of 3072 bits or more or EdDSA: what rpm 4.16+ and RHEL 9's crypto policy
//! accept; every signature uses SHA-256.

use crate::emit::rpm_header::{self, HeaderSignature};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where the signing key comes from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// A key in the user's GnuPG, by fingerprint (or any name gpg accepts).
    Gpg(String),
    /// A secret key file (armoured or binary); the passphrase from this environment variable.
    File { path: PathBuf, passphrase_env: Option<String> },
}

/// A key ready to sign with.
pub(crate) struct Signer {
    /// The private GnuPG home of a `--key-file` key (deleted on drop); `None`: the user's.
    home: Option<tempfile::TempDir>,
    /// The passphrase file inside `home`, for gpg's loopback pinentry.
    passphrase: Option<PathBuf>,
    /// Full fingerprint of the primary key.
    pub fingerprint: String,
    /// OpenPGP public-key algorithm of the signing (sub)key.
    pub algorithm: u8,
}

impl Signer {
    /// Find the key, check it is one rpm and apt accept, and get ready to sign.
    pub fn open(source: &KeySource) -> Result<Signer> {
        require_gpg()?;
        let mut signer = Signer { home: None, passphrase: None, fingerprint: String::new(), algorithm: 0 };
        let name = match source {
            KeySource::Gpg(fpr) => fpr.clone(),
            KeySource::File { path, passphrase_env } => {
                let bytes = std::fs::read(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
                let home = tempfile::Builder::new().prefix("keapack-gnupg-").tempdir().context("cannot make a temporary GnuPG home")?;
                std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
                signer.home = Some(home);
                // Without --passphrase-env the passphrase is empty: gpg never asks a pinentry
                // (which has no terminal here), and a protected key fails the probe below.
                let pass = match passphrase_env {
                    Some(var) => std::env::var(var).with_context(|| format!("--passphrase-env names {var}, which is not set"))?,
                    None => String::new(),
                };
                let file = signer.home.as_ref().expect("set above").path().join("passphrase");
                let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode_0600().open(&file)?;
                f.write_all(pass.as_bytes())?;
                signer.passphrase = Some(file);
                signer.gpg(&["--import"], &bytes).with_context(|| {
                    format!("gpg cannot import the key file {} (if the key has a passphrase, name the variable holding it with --passphrase-env)", path.display())
                })?;
                let listing = signer.gpg_text(&["--with-colons", "--list-secret-keys"])?;
                let fprs = secret_fingerprints(&listing);
                match fprs.as_slice() {
                    [one] => one.clone(),
                    [] => bail!("the key file {} holds no secret key: export one with `gpg --export-secret-keys --armor FPR`", path.display()),
                    _ => bail!("the key file {} holds {} secret keys; keep only the one to sign with", path.display(), fprs.len()),
                }
            }
        };
        let listing = signer
            .gpg_text(&["--with-colons", "--list-secret-keys", "--", &name])
            .with_context(|| format!("gpg cannot list the secret key {name} (is it in GnuPG? list the keys with `gpg --list-secret-keys`)"))?;
        let fprs = secret_fingerprints(&listing);
        let [fpr] = fprs.as_slice() else { bail!("'{name}' names {} secret keys in GnuPG; give the full fingerprint", fprs.len()) };
        signer.fingerprint = fpr.clone();
        signer.algorithm = check_signing_keys(&listing, &name)?;
        signer.probe(source)?;
        Ok(signer)
    }

    /// Sign a few bytes, so that a key gpg cannot sign with (a passphrase not given, not
    /// accepted, or no pinentry to ask it) is refused before anything is written.
    fn probe(&self, source: &KeySource) -> Result<()> {
        let Err(e) = self.sign(&["--detach-sign"], b"keapack: can this key sign?\n") else { return Ok(()) };
        let said = format!("{e:#}");
        let passphrase = ["No passphrase given", "Bad passphrase", "Inappropriate ioctl", "No pinentry", "Operation cancelled"].iter().any(|m| said.contains(m));
        let fpr = &self.fingerprint;
        let advice = match source {
            KeySource::File { path, passphrase_env: None } if passphrase => format!(
                "the key {fpr} in {} is protected by a passphrase: put the passphrase in an environment variable and name it with --passphrase-env VAR",
                path.display()
            ),
            KeySource::File { path, passphrase_env: Some(var) } if passphrase => {
                format!("the passphrase in ${var} (--passphrase-env) does not unlock the key {fpr} in {}: set {var} to the key's passphrase", path.display())
            }
            KeySource::Gpg(_) if passphrase => format!(
                "gpg could not get the passphrase of the key {fpr} (its pinentry has no terminal): sign once in a terminal so gpg-agent holds it (`echo | gpg --clearsign --local-user {fpr}`), or use --key-file with --passphrase-env"
            ),
            _ => format!("gpg cannot sign with the key {fpr}; nothing was written"),
        };
        Err(e.context(advice))
    }

    /// The primary-key fingerprints in a public key file.
    pub(crate) fn fingerprints_in(&self, file: &Path) -> Result<Vec<String>> {
        let listing = self.gpg_text(&["--with-colons", "--show-keys", "--", &file.display().to_string()])?;
        Ok(primary_fingerprints(&listing, "pub"))
    }

    /// A clear-signed copy of `text` (apt's `InRelease`).
    pub fn clearsign(&self, text: &[u8]) -> Result<Vec<u8>> {
        self.sign(&["--clearsign"], text)
    }

    /// An armoured detached signature of `data` (`Release.gpg`, `repomd.xml.asc`).
    pub(crate) fn detach_armored(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.sign(&["--detach-sign", "--armor"], data)
    }

    /// The public key, binary (`armor` false, for apt's Signed-By) or armoured.
    pub fn export(&self, armor: bool) -> Result<Vec<u8>> {
        let mut args = vec!["--export-options", "export-minimal", "--export"];
        if armor {
            args.insert(0, "--armor");
        }
        args.push(&self.fingerprint);
        let out = self.gpg(&args, b"")?;
        anyhow::ensure!(!out.is_empty(), "gpg exported nothing for {}", self.fingerprint);
        Ok(out)
    }

    /// Sign the rpm at `path`'s header, replacing any earlier signature, and write the signed
    /// package to `out`; the rest of the bytes stay. The payload streams from the file: only
    /// the headers are held in memory.
    pub(crate) fn sign_rpm(&self, path: &Path, out: &mut dyn Write) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let len = file.metadata()?.len();
        let mut r = std::io::BufReader::new(file);
        let mut meta = rpm::PackageMetadata::parse(&mut r).context("not a readable rpm package")?;
        let payload_at = r.stream_position()?;
        let payload_len = len.checked_sub(payload_at).context("the rpm ends inside its headers")?;
        // The uncompressed payload's size: as the earlier signature header gives it, else read.
        let archive = match meta.signature.get_entry_data_as_u32(rpm::IndexSignatureTag::RPMSIGTAG_PAYLOADSIZE) {
            Ok(size) => u64::from(size),
            Err(_) => {
                let compressor = meta.header.get_entry_data_as_string(rpm::IndexTag::RPMTAG_PAYLOADCOMPRESSOR).unwrap_or("").to_string();
                let size = rpm_header::uncompressed_size(&compressor, (&mut r).take(payload_len))?;
                r.seek(SeekFrom::Start(payload_at))?;
                size
            }
        };
        let header = meta.header_bytes()?;
        let packet = self.sign(&["--detach-sign"], &header)?;
        meta.signature = rpm_header::signature_header(&header, payload_len, archive, Some(&HeaderSignature { algorithm: self.algorithm, packet }))?;
        meta.write(&mut &mut *out)?;
        let copied = std::io::copy(&mut r, out)?;
        anyhow::ensure!(copied == payload_len, "{} changed while it was being signed", path.display());
        Ok(())
    }

    fn sign(&self, what: &[&str], data: &[u8]) -> Result<Vec<u8>> {
        let mut args = vec!["--digest-algo", "SHA256", "--local-user", &self.fingerprint];
        args.extend_from_slice(what);
        self.gpg(&args, data).with_context(|| format!("gpg cannot sign with the key {}", self.fingerprint))
    }

    fn gpg_text(&self, args: &[&str]) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.gpg(args, b"")?).into_owned())
    }

    /// Run gpg with this signer's home and passphrase, `input` on stdin; its stdout.
    fn gpg(&self, args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
        let mut cmd = Command::new("gpg");
        cmd.args(["--batch", "--no-tty", "--quiet"]);
        if let Some(home) = &self.home {
            cmd.arg("--homedir").arg(home.path());
        }
        if let Some(p) = &self.passphrase {
            cmd.args(["--pinentry-mode", "loopback", "--passphrase-file"]).arg(p);
        }
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().context("cannot run gpg")?;
        let mut stdin = child.stdin.take().expect("piped");
        let data = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&data));
        let out = child.wait_with_output().context("cannot run gpg")?;
        let _ = writer.join();
        if !out.status.success() {
            let said = crate::support::text::message(String::from_utf8_lossy(&out.stderr).trim());
            bail!("`gpg {}` failed ({}): {said}", args.join(" "), out.status);
        }
        Ok(out.stdout)
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        // The private home's agent goes with it.
        if let Some(home) = &self.home {
            let _ = Command::new("gpgconf").arg("--homedir").arg(home.path()).args(["--kill", "gpg-agent"]).output();
        }
    }
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

/// gpg must be installed to sign.
fn require_gpg() -> Result<()> {
    if !crate::support::runner::have("gpg") {
        bail!("signing needs gpg: install the Debian package `gnupg` (apt-get install gnupg; dnf install gnupg2 on Fedora and RHEL)");
    }
    Ok(())
}

/// Fingerprints of the primary keys in a `--with-colons --list-secret-keys` listing.
fn secret_fingerprints(listing: &str) -> Vec<String> {
    primary_fingerprints(listing, "sec")
}

/// Fingerprints of the primary keys in a gpg `--with-colons` listing: the `fpr` record that
/// follows each `record` line (`pub` for public keys, `sec` for secret ones), not those of
/// subkeys (`sub`, `ssb`).
fn primary_fingerprints(listing: &str, record: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_primary = false;
    for line in listing.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f.first().copied() {
            Some(r) if r == record => after_primary = true,
            Some("fpr") if after_primary => {
                out.push(f.get(9).unwrap_or(&"").to_string());
                after_primary = false;
            }
            Some("sub" | "ssb") => after_primary = false,
            _ => {}
        }
    }
    out
}

/// Every usable signing (sub)key must be RSA ≥ 3072 bits or EdDSA; returns the algorithm of
/// the one gpg signs with (the newest).
fn check_signing_keys(listing: &str, name: &str) -> Result<u8> {
    let mut newest: Option<(u64, u8)> = None;
    for line in listing.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if !matches!(f.first(), Some(&"sec" | &"ssb")) || !f.get(11).is_some_and(|c| c.contains('s')) {
            continue;
        }
        if matches!(f.get(1), Some(&"r" | &"e" | &"d" | &"i")) {
            continue; // revoked, expired, disabled or invalid: gpg will not sign with it
        }
        let bits: u32 = f.get(2).and_then(|b| b.parse().ok()).unwrap_or(0);
        let algo: u8 = f.get(3).and_then(|a| a.parse().ok()).unwrap_or(0);
        let created: u64 = f.get(5).and_then(|c| c.parse().ok()).unwrap_or(0);
        match algo {
            1 | 3 if bits >= 3072 => {}
            22 => {}
            1 | 3 => bail!("the key {name} is RSA of {bits} bits: RHEL 9 and rpm 4.16+ need RSA of 3072 bits or more (or EdDSA); make a new one with `gpg --quick-gen-key NAME rsa3072 sign`"),
            a => bail!("the key {name} uses OpenPGP algorithm {a}: sign with RSA (3072 bits or more) or EdDSA (ed25519), which every rpm and apt accept"),
        }
        if newest.is_none_or(|(t, _)| created >= t) {
            newest = Some((created, algo));
        }
    }
    newest.map(|(_, a)| a).with_context(|| format!("the key {name} has no usable signing key (expired, revoked, or for encryption only)"))
}

/// `keapack sign`: sign `.rpm` files in place (each replaced atomically); `.deb` files are
/// refused (apt checks the repository's signature, not the package's).
pub(crate) fn sign_files(files: &[PathBuf], source: &KeySource, listener: &dyn crate::support::listener::Listener) -> Result<Vec<PathBuf>> {
    for f in files {
        let kind = crate::check::lint::Checker::for_file(f)?;
        if kind != crate::check::lint::Checker::Rpmlint {
            bail!("{} is a .deb: apt checks the repository's signature, not the package's; publish it with `keapack publish`", f.display());
        }
    }
    super::switch::recover_inputs(files, &|m| listener.warning(m))?;
    let signer = Signer::open(source)?;
    let mut done = Vec::new();
    // Packages in a directory keapack wrote (one with SHA256SUMS) are replaced there as one
    // output set, so SHA256SUMS lists the signed bytes; others are replaced one by one.
    let mut by_dir: std::collections::BTreeMap<PathBuf, Vec<&PathBuf>> = std::collections::BTreeMap::new();
    for f in files {
        by_dir.entry(f.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()).or_default().push(f);
    }
    for (dir, files) in by_dir {
        let step = format!("sign the packages in {}", crate::support::text::path(&dir));
        listener.event(crate::support::events::Event::StepStarted { step: step.clone(), log: None });
        let start = std::time::Instant::now();
        if dir.join(super::SUMS).is_file() {
            let lock = super::OutLock::take(&dir, |m| listener.warning(m))?;
            let mut set = super::OutputSet::begin(&lock)?;
            for f in &files {
                let name = f.file_name().and_then(|n| n.to_str()).context("package file names are UTF-8")?;
                set.write(name, |w| write_signed(f, &signer, w))?;
            }
            set.commit()?;
        } else {
            for f in &files {
                sign_in_place(f, &signer)?;
            }
        }
        listener.event(crate::support::events::Event::StepFinished { step, duration: start.elapsed().as_secs_f64(), log: None });
        for f in files {
            listener.note(&format!("signed {} with {}", f.display(), signer.fingerprint));
            crate::support::listener::output_written(listener, f, "", "signed-package")?;
            done.push(f.clone());
        }
    }
    Ok(done)
}

/// Write the package at `path`, signed, to `out`.
fn write_signed(path: &Path, signer: &Signer, out: &mut dyn Write) -> Result<()> {
    signer.sign_rpm(path, out).with_context(|| format!("cannot sign {}", path.display()))
}

fn sign_in_place(path: &Path, signer: &Signer) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).context("package file names are UTF-8")?;
    super::publish(dir, name, |w| write_signed(path, signer, w))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn weak_and_unsuitable_keys_are_refused() {
        let rsa2048 = "sec:u:2048:1:AAAA:1700000000:::u:::scESC:::+:::23::0:\nfpr:::::::::ABCDEF:\n";
        let e = super::check_signing_keys(rsa2048, "K").unwrap_err().to_string();
        assert!(e.contains("RSA of 2048 bits") && e.contains("3072"), "{e}");
        let rsa4096 = "sec:u:4096:1:AAAA:1700000000:::u:::scESC:::+:::23::0:\n";
        assert_eq!(super::check_signing_keys(rsa4096, "K").unwrap(), 1);
        let ed = "sec:u:255:22:AAAA:1700000000:::u:::scESC:::+:::ed25519:::0:\nssb:u:255:18:BBBB:1700000000::::::e:::+:::cv25519::\n";
        assert_eq!(super::check_signing_keys(ed, "K").unwrap(), 22);
        let dsa = "sec:u:2048:17:AAAA:1700000000:::u:::scESC:::+:::23::0:\n";
        assert!(super::check_signing_keys(dsa, "K").unwrap_err().to_string().contains("algorithm 17"));
        let enc_only = "sec:u:3072:1:AAAA:1700000000:::u:::cC:::+:::23::0:\n";
        assert!(super::check_signing_keys(enc_only, "K").is_err());
    }
}

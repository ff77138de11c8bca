//! A throwaway OpenPGP signing key for the tests that publish repositories.

use super::*;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// A GnuPG home with one Ed25519 signing key, made here.
pub struct Key {
    pub home: tempfile::TempDir,
    pub fpr: String,
}

impl Key {
    pub fn new() -> Key {
        require("gpg", "gnupg");
        let home = tempfile::Builder::new().prefix("gnupg-").tempdir().unwrap();
        fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let gpg = || {
            let mut c = Command::new("gpg");
            c.arg("--homedir").arg(home.path()).args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]);
            c
        };
        ok(gpg().args(["--quick-gen-key", "keapack test <test@example.org>", "ed25519", "sign", "never"]).output().unwrap(), "gpg --quick-gen-key");
        let list = ok(gpg().args(["--with-colons", "--list-secret-keys"]).output().unwrap(), "gpg --list-secret-keys").0;
        let fpr = list.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string();
        Key { home, fpr }
    }

    /// `keapack publish` of `packages` into `repo`, signed with this key, at a fixed epoch.
    pub fn publish(&self, repo: &Path, packages: &[&Path]) -> Output {
        keapack().env("GNUPGHOME", self.home.path()).env("SOURCE_DATE_EPOCH", "1700000000").arg("publish").arg("--repo").arg(repo).arg("--gpg-key").arg(&self.fpr).args(packages).output().unwrap()
    }
}

impl Key {
    /// `keapack <sub> --gpg-key <this key>` at a fixed epoch; the caller adds the rest.
    pub fn command(&self, sub: &str) -> Command {
        let mut c = keapack();
        c.env("GNUPGHOME", self.home.path()).env("SOURCE_DATE_EPOCH", "1700000000").arg(sub).arg("--gpg-key").arg(&self.fpr);
        c
    }

    /// Publish; assert success; what keapack said.
    pub fn published(&self, repo: &Path, packages: &[&Path]) -> String {
        let (o, e) = ok(self.publish(repo, packages), "keapack publish");
        format!("{o}{e}")
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(self.home.path()).args(["--kill", "gpg-agent"]).output();
    }
}


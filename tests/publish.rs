//! `keapack publish` and `keapack sign` with real clients: apt-get in a throwaway Debian 12
//! root and Debian's dnf with `--installroot` install, upgrade and remove the example's
//! packages from the published repositories, and refuse them unsigned, signed by another key,
//! or tampered with. Keys are made here, in temporary GnuPG homes.

mod common;
use common::packages::example_packages;
use common::roots::Root;
use common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PKG: &str = "kea-premium-hooks";

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: Output, what: &str) -> String {
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{o}\n{e}", out.status);
    format!("{o}{e}")
}

fn fails(out: Output, what: &str) -> String {
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{what} should have failed:\n{o}\n{e}");
    format!("{o}{e}")
}

/// A GnuPG home with one signing key, made here.
struct Key {
    home: tempfile::TempDir,
    fpr: String,
}

impl Key {
    fn new(algo: &str) -> Key {
        require("gpg", "gnupg");
        let home = tempfile::Builder::new().prefix("gnupg-").tempdir().unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(&mut fs::metadata(home.path()).unwrap().permissions(), 0o700);
        fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        ok(Key::gpg_in(home.path()).args(["--passphrase", "", "--quick-gen-key", "keapack test <test@example.org>", algo, "sign", "never"]).output().unwrap(), "gpg --quick-gen-key");
        let list = ok(Key::gpg_in(home.path()).args(["--with-colons", "--list-secret-keys"]).output().unwrap(), "gpg --list-secret-keys");
        let fpr = list.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string();
        Key { home, fpr }
    }

    fn gpg_in(home: &Path) -> Command {
        let mut c = Command::new("gpg");
        c.arg("--homedir").arg(home).args(["--batch", "--pinentry-mode", "loopback"]);
        c
    }

    fn gpg(&self) -> Command {
        Key::gpg_in(self.home.path())
    }

    /// `keapack publish --repo REPO --gpg-key FPR …` with this key's GnuPG.
    fn publish(&self, repo: &Path, url: Option<&str>, extra: &[&str], packages: &[&Path]) -> Output {
        self.publish_cmd(repo, url, extra, packages).output().unwrap()
    }

    fn publish_cmd(&self, repo: &Path, url: Option<&str>, extra: &[&str], packages: &[&Path]) -> Command {
        let mut cmd = keapack();
        cmd.env("GNUPGHOME", self.home.path()).arg("publish").arg("--repo").arg(repo).arg("--gpg-key").arg(&self.fpr).args(extra);
        if let Some(u) = url {
            cmd.arg("--url").arg(u);
        }
        cmd.args(packages);
        cmd
    }

    fn armored_public(&self, to: &Path) {
        let out = ok(self.gpg().args(["--armor", "--export", &self.fpr]).output().unwrap(), "gpg --export");
        fs::write(to, out.trim_start()).unwrap();
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(self.home.path()).args(["--kill", "gpg-agent"]).output();
    }
}

/// Every file of `dir` with its bytes (the lock file aside).
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else if !p.ends_with(".keapack-publish.lock") {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn names(dir: &Path) -> Vec<PathBuf> {
    files(dir).into_iter().map(|(p, _)| p).collect()
}

// ---------------------------------------------------------------- apt

/// apt-get in the root, offline: only the published repository is a source.
fn apt(root: &Root, args: &[&str]) -> Output {
    root.chroot("apt-get").args(["-q", "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"]).args(args).env("DEBIAN_FRONTEND", "noninteractive").output().unwrap()
}

fn installed_version(root: &Root) -> String {
    text(&root.chroot("dpkg-query").args(["-W", "-f", "${Status} ${Version}", PKG]).output().unwrap().stdout)
}

#[test]
fn apt_installs_upgrades_and_removes_from_the_signed_repository_and_refuses_it_tampered() {
    let (rev1, rev2) = (example_packages(1), example_packages(2));
    let key = Key::new("rsa3072");
    let root = Root::kea();
    // The root's Debian sources go: the published repository is the only one.
    let _ = fs::remove_file(root.join("/etc/apt/sources.list"));
    for e in fs::read_dir(root.join("/etc/apt/sources.list.d")).into_iter().flatten().flatten() {
        fs::remove_file(e.path()).unwrap();
    }
    let repo = root.join("/srv/repo");
    ok(key.publish(&repo, Some("file:///srv/repo"), &[], &[&rev1.deb]), "keapack publish rev 1");
    let sources = repo.join("client/keapack-bookworm.sources");
    let client = fs::read_to_string(&sources).unwrap();
    assert!(client.contains("URIs: file:///srv/repo/apt\n") && client.contains("Signed-By: /etc/apt/keyrings/keapack-archive-keyring.gpg\n"), "{client}");
    fs::create_dir_all(root.join("/etc/apt/keyrings")).unwrap();
    fs::copy(repo.join("keapack-archive-keyring.gpg"), root.join("/etc/apt/keyrings/keapack-archive-keyring.gpg")).unwrap();
    assert!(fs::read(repo.join("keapack-archive-keyring.asc")).unwrap().starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    fs::copy(&sources, root.join("/etc/apt/sources.list.d/keapack.sources")).unwrap();

    ok(apt(&root, &["update"]), "apt-get update");
    ok(apt(&root, &["install", "-y", PKG]), "apt-get install");
    assert_eq!(installed_version(&root), "install ok installed 2.2.0-1+deb12");

    // A publish stopped before the new Release leaves the repository apt reads as it was.
    let inrelease = fs::read(repo.join("apt/dists/bookworm/InRelease")).unwrap();
    let out = key.publish_cmd(&repo, Some("file:///srv/repo"), &[], &[&rev2.deb]).env("KEAPACK_FAIL_AT", "repo-release").output().unwrap();
    let said = fails(out, "an interrupted publish");
    assert!(said.contains("KEAPACK_FAIL_AT"), "{said}");
    assert_eq!(fs::read(repo.join("apt/dists/bookworm/InRelease")).unwrap(), inrelease, "InRelease is the previous one");
    ok(apt(&root, &["update"]), "apt-get update after an interrupted publish");
    let policy = ok(root.chroot("apt-cache").args(["policy", PKG]).output().unwrap(), "apt-cache policy");
    assert!(policy.contains("Candidate: 2.2.0-1+deb12"), "{policy}");

    // The publish run again finishes the job: revision 2 is an upgrade.
    ok(key.publish(&repo, Some("file:///srv/repo"), &[], &[&rev2.deb]), "keapack publish rev 2");
    ok(apt(&root, &["update"]), "apt-get update");
    ok(apt(&root, &["upgrade", "-y"]), "apt-get upgrade");
    assert_eq!(installed_version(&root), "install ok installed 2.2.0-2+deb12");
    ok(apt(&root, &["remove", "-y", PKG]), "apt-get remove");
    assert!(!installed_version(&root).starts_with("install ok installed"), "{}", installed_version(&root));

    let dist = repo.join("apt/dists/bookworm");
    let keep = |name: &str| fs::read(dist.join(name)).unwrap();
    let (inrel, rel, relgpg) = (keep("InRelease"), keep("Release"), keep("Release.gpg"));
    let restore = || {
        fs::write(dist.join("InRelease"), &inrel).unwrap();
        fs::write(dist.join("Release"), &rel).unwrap();
        fs::write(dist.join("Release.gpg"), &relgpg).unwrap();
    };
    // Unsigned: no InRelease, no Release.gpg.
    fs::remove_file(dist.join("InRelease")).unwrap();
    fs::remove_file(dist.join("Release.gpg")).unwrap();
    let said = fails(apt(&root, &["update", "--error-on=any"]), "apt-get update of an unsigned repository");
    assert!(said.contains("is not signed") || said.contains("is no longer signed"), "{said}");
    restore();
    ok(apt(&root, &["update"]), "apt-get update, signatures back");
    // Signed by another key.
    let other = Key::new("ed25519");
    let clear = other.gpg().args(["--local-user", &other.fpr, "--output"]).arg(dist.join("InRelease.other")).arg("--clearsign").arg(dist.join("Release")).output().unwrap();
    ok(clear, "gpg --clearsign with another key");
    fs::rename(dist.join("InRelease.other"), dist.join("InRelease")).unwrap();
    fs::remove_file(dist.join("Release.gpg")).unwrap();
    let said = fails(apt(&root, &["update", "--error-on=any"]), "apt-get update of a repository signed by another key");
    assert!(said.contains(&format!("NO_PUBKEY {}", &other.fpr[24..])), "{said}");
    restore();
    ok(apt(&root, &["update"]), "apt-get update, signatures back");
    // An index replaced: update refuses it.
    let packages = dist.join("main/binary-amd64/Packages.xz");
    let by_hash: Vec<PathBuf> = fs::read_dir(dist.join("main/binary-amd64/by-hash/SHA256")).unwrap().map(|e| e.unwrap().path()).collect();
    let saved: Vec<(PathBuf, Vec<u8>)> = by_hash.iter().chain([&packages, &dist.join("main/binary-amd64/Packages.gz"), &dist.join("main/binary-amd64/Packages")]).map(|p| (p.clone(), fs::read(p).unwrap())).collect();
    for (p, bytes) in &saved {
        let mut forged = String::from_utf8_lossy(&xz_or_plain(bytes)).into_owned();
        forged = forged.replace("Version: 2.2.0-2+deb12", "Version: 2.2.0-3+deb12");
        fs::write(p, if p.extension().is_some_and(|x| x == "xz" || x == "gz") { compress_like(p, forged.as_bytes()) } else { forged.into_bytes() }).unwrap();
    }
    let _ = fs::remove_dir_all(root.join("/var/lib/apt/lists"));
    fs::create_dir_all(root.join("/var/lib/apt/lists/partial")).unwrap();
    let said = fails(apt(&root, &["update", "--error-on=any"]), "apt-get update with a replaced index");
    assert!(said.contains("Hash Sum mismatch") || said.contains("File has unexpected size"), "{said}");
    for (p, bytes) in &saved {
        fs::write(p, bytes).unwrap();
    }
    ok(apt(&root, &["update"]), "apt-get update, indices back");
    // A pool file replaced (another package under the same name): the download is refused.
    let pool = repo.join("apt/pool/main/k/kea-premium-hooks/kea-premium-hooks_2.2.0-2+deb12_amd64.deb");
    fs::copy(&rev1.deb, &pool).unwrap();
    ok(apt(&root, &["clean"]), "apt-get clean");
    let said = fails(apt(&root, &["install", "-y", PKG]), "apt-get install of a replaced pool file");
    assert!(said.contains("Hash Sum mismatch") || said.contains("File has unexpected size") || said.contains("Size mismatch"), "{said}");
    assert!(!installed_version(&root).starts_with("install ok installed"));
    // And keapack refuses to publish a different package under that name.
    fs::copy(&rev2.deb, &pool).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let impostor = tmp.path().join(rev2.deb.file_name().unwrap());
    fs::copy(&rev1.deb, &impostor).unwrap();
    let before = files(&repo);
    let said = fails(key.publish(&repo, Some("file:///srv/repo"), &[], &[&impostor]), "publishing another package under a published name");
    assert!(said.contains("already holds a different package named kea-premium-hooks_2.2.0-2+deb12_amd64.deb"), "{said}");
    assert!(files(&repo) == before, "nothing written");
}

fn xz_or_plain(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
        let mut c = Command::new("xz").args(["-dc"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(c.stdin.as_mut().unwrap(), bytes).unwrap();
        drop(c.stdin.take());
        out = c.wait_with_output().unwrap().stdout;
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut c = Command::new("gzip").args(["-dc"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
        std::io::Write::write_all(c.stdin.as_mut().unwrap(), bytes).unwrap();
        drop(c.stdin.take());
        out = c.wait_with_output().unwrap().stdout;
    } else {
        out.extend_from_slice(bytes);
    }
    out
}

fn compress_like(path: &Path, data: &[u8]) -> Vec<u8> {
    let tool = if path.extension().is_some_and(|x| x == "xz") { "xz" } else { "gzip" };
    let mut c = Command::new(tool).arg("-c").stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(c.stdin.as_mut().unwrap(), data).unwrap();
    drop(c.stdin.take());
    c.wait_with_output().unwrap().stdout
}

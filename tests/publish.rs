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

/// Assert success; stdout and stderr together.
fn ok_all(out: Output, what: &str) -> String {
    let (o, e) = common::ok(out, what);
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
        Key::with_passphrase(algo, "")
    }

    fn with_passphrase(algo: &str, passphrase: &str) -> Key {
        require("gpg", "gnupg");
        let home = tempfile::Builder::new().prefix("gnupg-").tempdir().unwrap();
        std::os::unix::fs::PermissionsExt::set_mode(&mut fs::metadata(home.path()).unwrap().permissions(), 0o700);
        fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        ok_all(Key::gpg_in(home.path()).args(["--passphrase", passphrase, "--quick-gen-key", "keapack test <test@example.org>", algo, "sign", "never"]).output().unwrap(), "gpg --quick-gen-key");
        let list = ok_all(Key::gpg_in(home.path()).args(["--with-colons", "--list-secret-keys"]).output().unwrap(), "gpg --list-secret-keys");
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
        let out = ok_all(self.gpg().args(["--armor", "--export", &self.fpr]).output().unwrap(), "gpg --export");
        fs::write(to, out.trim_start()).unwrap();
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(self.home.path()).args(["--kill", "gpg-agent"]).output();
    }
}

/// Every file of `dir` with its bytes (the repository's own `.keapack/`, lock and state, aside).
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                if !p.ends_with(".keapack") {
                    stack.push(p);
                }
            } else {
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
#[ignore = "slow: needs root: installs from the repository with apt in a Debian 12 root; builds the example"]
fn apt_installs_upgrades_and_removes_from_the_signed_repository_and_refuses_it_tampered() {
    common::roots::require_root_user();
    let (rev1, rev2) = (example_packages(1), example_packages(2));
    let key = Key::new("rsa3072");
    let root = Root::kea();
    // The root's Debian sources go: the published repository is the only one.
    let _ = fs::remove_file(root.join("/etc/apt/sources.list"));
    for e in fs::read_dir(root.join("/etc/apt/sources.list.d")).into_iter().flatten().flatten() {
        fs::remove_file(e.path()).unwrap();
    }
    let repo = root.join("/srv/repo");
    ok_all(key.publish(&repo, Some("file:///srv/repo"), &[], &[&rev1.deb]), "keapack publish rev 1");
    let sources = repo.join("client/keapack-bookworm.sources");
    let client = fs::read_to_string(&sources).unwrap();
    assert!(client.contains("URIs: file:///srv/repo/apt\n") && client.contains("Signed-By: /etc/apt/keyrings/keapack-archive-keyring.gpg\n"), "{client}");
    fs::create_dir_all(root.join("/etc/apt/keyrings")).unwrap();
    fs::copy(repo.join("keapack-archive-keyring.gpg"), root.join("/etc/apt/keyrings/keapack-archive-keyring.gpg")).unwrap();
    assert!(fs::read(repo.join("keapack-archive-keyring.asc")).unwrap().starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    fs::copy(&sources, root.join("/etc/apt/sources.list.d/keapack.sources")).unwrap();

    ok_all(apt(&root, &["update"]), "apt-get update");
    ok_all(apt(&root, &["install", "-y", PKG]), "apt-get install");
    assert_eq!(installed_version(&root), "install ok installed 2.2.0-1+deb12");

    // A publish stopped before the new Release leaves the repository apt reads as it was.
    let inrelease = fs::read(repo.join("apt/dists/bookworm/InRelease")).unwrap();
    let out = key.publish_cmd(&repo, Some("file:///srv/repo"), &[], &[&rev2.deb]).env("KEAPACK_FAIL_AT", "repo-release").output().unwrap();
    let said = fails(out, "an interrupted publish");
    assert!(said.contains("KEAPACK_FAIL_AT"), "{said}");
    assert_eq!(fs::read(repo.join("apt/dists/bookworm/InRelease")).unwrap(), inrelease, "InRelease is the previous one");
    ok_all(apt(&root, &["update"]), "apt-get update after an interrupted publish");
    let policy = ok_all(root.chroot("apt-cache").args(["policy", PKG]).output().unwrap(), "apt-cache policy");
    assert!(policy.contains("Candidate: 2.2.0-1+deb12"), "{policy}");

    // The publish run again finishes the job: revision 2 is an upgrade.
    ok_all(key.publish(&repo, Some("file:///srv/repo"), &[], &[&rev2.deb]), "keapack publish rev 2");
    ok_all(apt(&root, &["update"]), "apt-get update");
    ok_all(apt(&root, &["upgrade", "-y"]), "apt-get upgrade");
    assert_eq!(installed_version(&root), "install ok installed 2.2.0-2+deb12");
    ok_all(apt(&root, &["remove", "-y", PKG]), "apt-get remove");
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
    ok_all(apt(&root, &["update"]), "apt-get update, signatures back");
    // Signed by another key.
    let other = Key::new("ed25519");
    let clear = other.gpg().args(["--local-user", &other.fpr, "--output"]).arg(dist.join("InRelease.other")).arg("--clearsign").arg(dist.join("Release")).output().unwrap();
    ok_all(clear, "gpg --clearsign with another key");
    fs::rename(dist.join("InRelease.other"), dist.join("InRelease")).unwrap();
    fs::remove_file(dist.join("Release.gpg")).unwrap();
    let said = fails(apt(&root, &["update", "--error-on=any"]), "apt-get update of a repository signed by another key");
    assert!(said.contains(&format!("NO_PUBKEY {}", &other.fpr[24..])), "{said}");
    restore();
    ok_all(apt(&root, &["update"]), "apt-get update, signatures back");
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
    ok_all(apt(&root, &["update"]), "apt-get update, indices back");
    // A pool file replaced (another package under the same name): the download is refused.
    let pool = repo.join("apt/pool/main/k/kea-premium-hooks/kea-premium-hooks_2.2.0-2+deb12_amd64.deb");
    fs::copy(&rev1.deb, &pool).unwrap();
    ok_all(apt(&root, &["clean"]), "apt-get clean");
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
    // Its own fields say 2.2.0-1: the file name that claims 2.2.0-2 is refused before the pool is looked at.
    assert!(said.contains("its control fields (Package, Version, Architecture) say kea-premium-hooks_2.2.0-1+deb12_amd64.deb"), "{said}");
    assert!(files(&repo) == before, "nothing written");
    // A package whose own fields are those of the published one, with other bytes: refused by the pool.
    let unpacked = tmp.path().join("unpacked");
    assert!(Command::new("dpkg-deb").arg("-R").arg(&rev2.deb).arg(&unpacked).status().unwrap().success());
    fs::write(unpacked.join("usr/share/doc/kea-premium-hooks/impostor"), "other bytes\n").unwrap();
    fs::remove_file(&impostor).unwrap();
    assert!(Command::new("dpkg-deb").args(["--root-owner-group", "-b"]).arg(&unpacked).arg(&impostor).stdout(std::process::Stdio::null()).status().unwrap().success());
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

// ---------------------------------------------------------------- dnf

/// A stand-in package providing every capability the hook package requires (Kea's runtime,
/// the C and C++ libraries) and a real `/bin/sh` and `cat` (the host's, with the C library
/// they load), so the package's scriptlet runs in the install root. A test fixture, built
/// with rpmbuild.
fn standin(hook_rpm: &Path, dir: &Path) -> PathBuf {
    require("rpmbuild", "rpm");
    let requires = ok_all(Command::new("rpm").args(["-qp", "--nosignature", "--requires"]).arg(hook_rpm).output().unwrap(), "rpm --requires");
    let provides: String = requires.lines().filter(|l| !l.starts_with("rpmlib(") && !l.starts_with('/') && !l.trim().is_empty()).map(|l| format!("Provides: {l}\n")).collect();
    assert!(provides.contains("kea-libs = 2.2.0") && provides.contains("libc.so.6()(64bit)"), "{provides}");
    let spec = format!(
        "Name: kea-runtime-standin\nVersion: 1\nRelease: 1\nSummary: Stand-in for the Kea runtime\nLicense: MIT\nBuildArch: x86_64\nAutoReqProv: no\n{provides}\
         %description\nTest fixture.\n%install\nmkdir -p %{{buildroot}}/bin %{{buildroot}}/usr/bin %{{buildroot}}/lib/x86_64-linux-gnu %{{buildroot}}/lib64\n\
         cp /bin/dash %{{buildroot}}/bin/sh\ncp /bin/cat %{{buildroot}}/usr/bin/cat\ncp /lib/x86_64-linux-gnu/libc.so.6 %{{buildroot}}/lib/x86_64-linux-gnu/\n\
         cp /lib64/ld-linux-x86-64.so.2 %{{buildroot}}/lib64/\n%files\n/bin/sh\n/usr/bin/cat\n/lib/x86_64-linux-gnu/libc.so.6\n/lib64/ld-linux-x86-64.so.2\n"
    );
    common::made::rpmbuild_standin(dir, &spec)
}

/// An empty rpm root with the stand-in installed and `repo_file` as its only repository.
struct InstallRoot {
    dir: tempfile::TempDir,
}

impl InstallRoot {
    fn new(standin: &Path, repo_file: &str) -> InstallRoot {
        let dir = tempfile::Builder::new().prefix("dnf-root-").tempdir().unwrap();
        ok_all(Command::new("rpm").arg("--root").arg(dir.path()).arg("--initdb").output().unwrap(), "rpm --initdb");
        ok_all(Command::new("rpm").arg("--root").arg(dir.path()).args(["-i", "--nodeps"]).arg(standin).output().unwrap(), "rpm -i stand-in");
        fs::create_dir_all(dir.path().join("etc/yum.repos.d")).unwrap();
        fs::write(dir.path().join("etc/yum.repos.d/keapack.repo"), repo_file).unwrap();
        InstallRoot { dir }
    }

    fn dnf(&self, args: &[&str]) -> Output {
        common::made::dnf_in(self.dir.path(), args)
    }

    fn installed(&self) -> String {
        text(&Command::new("rpm").arg("--root").arg(self.dir.path()).args(["-q", PKG]).output().unwrap().stdout).trim().to_string()
    }
}

/// A `.repo` for a hand-made repository at `dir` whose key is `key_asc`.
fn repo_file(dir: &Path, key_asc: &Path) -> String {
    format!("[handmade]\nname=handmade\nbaseurl=file://{}\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://{}\n", dir.display(), key_asc.display())
}

/// A repository made without keapack: `rpms` as they are, createrepo_c, repomd.xml signed by `key`.
fn handmade_repo(dir: &Path, rpms: &[(&Path, Option<usize>)], key: &Key) {
    fs::create_dir_all(dir.join("Packages")).unwrap();
    for (rpm, flip) in rpms {
        let mut bytes = fs::read(rpm).unwrap();
        if let Some(at) = flip {
            let at = bytes.len() - at;
            bytes[at] ^= 0x55;
        }
        fs::write(dir.join("Packages").join(rpm.file_name().unwrap()), bytes).unwrap();
    }
    ok_all(Command::new("createrepo_c").args(["--quiet", "--no-database"]).arg(dir).output().unwrap(), "createrepo_c");
    ok_all(key.gpg().args(["--local-user", &key.fpr, "--armor", "--detach-sign"]).arg(dir.join("repodata/repomd.xml")).output().unwrap(), "gpg --detach-sign repomd.xml");
}

fn checksig(key_asc: &Path, rpm: &Path) -> Output {
    let db = tempfile::tempdir().unwrap();
    ok_all(Command::new("rpmkeys").arg("--dbpath").arg(db.path()).arg("--import").arg(key_asc).output().unwrap(), "rpmkeys --import");
    Command::new("rpmkeys").arg("--dbpath").arg(db.path()).args(["--checksig", "-v"]).arg(rpm).output().unwrap()
}

/// The decompressed XML of one metadata type in `repodata/`.
/// The one `repomd.xml` names.
fn metadata(repo: &Path, kind: &str) -> String {
    let repomd = fs::read_to_string(repo.join("repodata/repomd.xml")).unwrap();
    let href = repomd.split("href=\"").skip(1).map(|h| h.split('"').next().unwrap()).find(|h| h.ends_with(&format!("-{kind}.xml.gz"))).unwrap_or_else(|| panic!("no {kind} in {repomd}"));
    text(&xz_or_plain(&fs::read(repo.join(href)).unwrap()))
}

#[test]
#[ignore = "slow: needs root: installs from the repository with dnf in a root; builds the example"]
fn dnf_installs_upgrades_and_removes_from_the_signed_repository_and_refuses_it_tampered() {
    common::roots::require_root_user();
    require("dnf", "dnf");
    require("createrepo_c", "createrepo-c");
    require("rpmkeys", "rpm");
    let (rev1, rev2) = (example_packages(1), example_packages(2));
    let key = Key::new("rsa3072");
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    ok_all(key.publish(&repo, None, &[], &[&rev1.rpm]), "keapack publish rev 1");
    let client = fs::read_to_string(repo.join("client/keapack-el9.repo")).unwrap();
    for want in ["gpgcheck=1\n", "repo_gpgcheck=1\n", &format!("gpgkey=file://{}/keapack-archive-keyring.asc\n", repo.display()), &format!("baseurl=file://{}/rpm/el9/$basearch\n", repo.display())] {
        assert!(client.contains(want), "{want:?} missing from\n{client}");
    }
    let el9 = repo.join("rpm/el9/x86_64");
    let published = el9.join("Packages").join(rev1.rpm.file_name().unwrap());
    let asc = repo.join("keapack-archive-keyring.asc");
    let sig = ok_all(checksig(&asc, &published), "rpmkeys --checksig");
    assert!(sig.contains("Header V4 RSA/SHA256 Signature, key ID") && sig.contains(": OK"), "{sig}");
    let fields = ok_all(Command::new("rpm").args(["-qp", "--nosignature", "--qf", "%{SOURCERPM} %{ARCHIVESIZE}"]).arg(&published).output().unwrap(), "rpm -qp");
    assert!(fields.starts_with("kea-premium-hooks-2.2.0-1.el9.src.rpm ") && !fields.contains("(none)"), "{fields}");

    // The metadata is createrepo_c's for the same packages.
    let copy = tmp.path().join("createrepo");
    fs::create_dir_all(copy.join("Packages")).unwrap();
    ok_all(Command::new("cp").arg("-p").arg(&published).arg(copy.join("Packages")).output().unwrap(), "cp -p");
    ok_all(Command::new("createrepo_c").args(["--quiet", "--no-database"]).arg(&copy).output().unwrap(), "createrepo_c");
    for kind in ["primary", "filelists", "other"] {
        let (ours, theirs) = (metadata(&el9, kind), metadata(&copy, kind));
        assert!(ours == theirs, "{kind}.xml differs from createrepo_c's:\n{ours}\n---\n{theirs}");
    }
    let primary = metadata(&el9, "primary");
    for want in ["<version epoch=\"0\" ver=\"2.2.0\" rel=\"1.el9\"/>", "<rpm:entry name=\"kea-libs\" flags=\"EQ\" epoch=\"0\" ver=\"2.2.0\"/>", "<rpm:sourcerpm>kea-premium-hooks-2.2.0-1.el9.src.rpm</rpm:sourcerpm>"] {
        assert!(primary.contains(want), "{want} missing from\n{primary}");
    }

    let standin = standin(&rev1.rpm, &tmp.path().join("standin"));
    let root = InstallRoot::new(&standin, &client);
    let said = ok_all(root.dnf(&["install", PKG]), "dnf install");
    assert!(said.contains("kea-premium-hooks 2.2.0-1.el9: Kea 2.2.0 premium hook libraries"), "the scriptlet ran: {said}");
    assert_eq!(root.installed(), "kea-premium-hooks-2.2.0-1.el9.x86_64");
    ok_all(key.publish(&repo, None, &[], &[&rev2.rpm]), "keapack publish rev 2");
    ok_all(root.dnf(&["upgrade"]), "dnf upgrade");
    assert_eq!(root.installed(), "kea-premium-hooks-2.2.0-2.el9.x86_64");
    ok_all(root.dnf(&["remove", PKG]), "dnf remove");
    assert!(root.installed().contains("is not installed"), "{}", root.installed());

    // Another key: the repository's metadata signature does not verify.
    let other = Key::new("ed25519");
    let repo2 = tmp.path().join("repo2");
    ok_all(other.publish(&repo2, None, &[], &[&rev1.rpm]), "keapack publish with another key");
    let wrong = fs::read_to_string(repo2.join("client/keapack-el9.repo")).unwrap().replace(&repo2.join("keapack-archive-keyring.asc").display().to_string(), &asc.display().to_string());
    let r = InstallRoot::new(&standin, &wrong);
    let said = fails(r.dnf(&["install", PKG]), "dnf install from a repository signed by another key");
    assert!(said.contains("repomd.xml GPG signature verification error"), "{said}");
    assert!(r.installed().contains("is not installed"));
    let sig = fails(checksig(&asc, &repo2.join("rpm/el9/x86_64/Packages").join(rev1.rpm.file_name().unwrap())), "rpmkeys --checksig with another key");
    assert!(sig.contains("NOKEY"), "{sig}");

    // An unsigned package in a signed repository.
    let repo3 = tmp.path().join("repo3");
    handmade_repo(&repo3, &[(&rev1.rpm, None)], &key);
    let r = InstallRoot::new(&standin, &repo_file(&repo3, &asc));
    let said = fails(r.dnf(&["install", PKG]), "dnf install of an unsigned package");
    assert!(said.contains("not signed"), "{said}");
    assert!(r.installed().contains("is not installed"));

    // A signed package with one payload byte changed (the metadata made for the changed file).
    let repo4 = tmp.path().join("repo4");
    handmade_repo(&repo4, &[(&published, Some(100))], &key);
    let tampered = repo4.join("Packages").join(rev1.rpm.file_name().unwrap());
    let sig = fails(checksig(&asc, &tampered), "rpmkeys --checksig of a tampered package");
    assert!(sig.contains("BAD"), "{sig}");
    let r = InstallRoot::new(&standin, &repo_file(&repo4, &asc));
    let said = fails(r.dnf(&["install", PKG]), "dnf install of a tampered package");
    assert!(said.contains("GPG check FAILED"), "{said}");
    assert!(r.installed().contains("is not installed"), "{said}");
}

// ---------------------------------------------------------------- the repository itself

/// gpgv accepts `InRelease` with the repository's own key.
fn verify_inrelease(repo: &Path, codename: &str) {
    require("gpgv", "gpgv");
    ok_all(
        Command::new("gpgv").arg("--keyring").arg(repo.join("keapack-archive-keyring.gpg")).arg(repo.join(format!("apt/dists/{codename}/InRelease"))).output().unwrap(),
        "gpgv InRelease",
    );
}

/// The apt versions the index of bookworm/amd64 lists.
fn apt_versions(repo: &Path) -> Vec<String> {
    let text = fs::read_to_string(repo.join("apt/dists/bookworm/main/binary-amd64/Packages")).unwrap();
    text.lines().filter_map(|l| l.strip_prefix("Version: ")).map(String::from).collect()
}

fn rpm_files(repo: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(repo.join("rpm/el9/x86_64/Packages")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
#[ignore = "slow: builds the example"]
fn publishing_is_idempotent_reproducible_serialised_and_keeps_n_versions() {
    require("createrepo_c", "createrepo-c");
    let (rev1, rev2) = (example_packages(1), example_packages(2));
    let dir1 = rev1.deb.parent().unwrap();
    let key = Key::new("ed25519");
    let tmp = tempfile::tempdir().unwrap();

    // A build's --out directory, twice: the second publish changes no byte.
    let a = tmp.path().join("a");
    ok_all(key.publish(&a, Some("https://repo.example.org/kea"), &[], &[dir1]), "keapack publish");
    let first = files(&a);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let said = ok_all(key.publish(&a, Some("https://repo.example.org/kea"), &[], &[dir1]), "keapack publish again");
    assert!(said.contains("already holds these packages: nothing changed"), "{said}");
    assert!(files(&a) == first, "a second publish of the same packages changed the repository");
    verify_inrelease(&a, "bookworm");
    let sources = fs::read_to_string(a.join("client/keapack-bookworm.sources")).unwrap();
    assert!(sources.contains("URIs: https://repo.example.org/kea/apt\n"), "{sources}");

    // Another key for the same repository is refused: its clients trust the first one.
    let stranger = Key::new("ed25519");
    let said = fails(stranger.publish(&a, Some("https://repo.example.org/kea"), &[], &[&rev2.deb]), "publishing with another key");
    assert!(said.contains(&format!("is signed with the key {}, not {}", key.fpr, stranger.fpr)), "{said}");
    assert!(files(&a) == first, "a refused publish changed the repository");

    // Another repository from the same packages: the same bytes but for the signatures.
    let b = tmp.path().join("b");
    ok_all(key.publish(&b, Some("https://repo.example.org/kea"), &[], &[dir1]), "keapack publish elsewhere");
    let signed = |p: &Path| {
        let n = p.file_name().unwrap().to_string_lossy();
        n == "InRelease" || n == "Release.gpg" || p.starts_with("rpm")
    };
    // (The rpm's checksum, in the dnf metadata and its file names, covers its signature.)
    let (fa, fb): (Vec<_>, Vec<_>) = (files(&a).into_iter().filter(|(p, _)| !p.starts_with("rpm/el9/x86_64/repodata")).collect(), files(&b).into_iter().filter(|(p, _)| !p.starts_with("rpm/el9/x86_64/repodata")).collect());
    assert_eq!(fa.iter().map(|(p, _)| p).collect::<Vec<_>>(), fb.iter().map(|(p, _)| p).collect::<Vec<_>>());
    for ((p, x), (_, y)) in fa.iter().zip(&fb) {
        if !signed(p) {
            assert!(x == y, "{} differs between two publishes of the same packages", p.display());
        }
    }
    // The rpm differs in its signature only: same header and payload.
    let identity = |repo: &Path| ok_all(Command::new("rpm").args(["-qp", "--nosignature", "--qf", "%{SHA256HEADER} %{PAYLOADDIGEST}"]).arg(repo.join("rpm/el9/x86_64/Packages").join(rev1.rpm.file_name().unwrap())).output().unwrap(), "rpm -qp");
    assert_eq!(identity(&a), identity(&b));
    let sig = ok_all(checksig(&a.join("keapack-archive-keyring.asc"), &a.join("rpm/el9/x86_64/Packages").join(rev1.rpm.file_name().unwrap())), "rpmkeys --checksig");
    assert!(sig.contains("Header V4 EdDSA/SHA256 Signature") && sig.contains(": OK"), "{sig}");

    // A publish stopped before its repomd.xml: what dnf reads is the previous metadata, whole
    // and signed; the same publish run again completes it.
    let meta = a.join("rpm/el9/x86_64/repodata");
    let (repomd, asc) = (fs::read(meta.join("repomd.xml")).unwrap(), fs::read(meta.join("repomd.xml.asc")).unwrap());
    let out = key.publish_cmd(&a, Some("https://repo.example.org/kea"), &[], &[&rev2.rpm]).env("KEAPACK_FAIL_AT", "repo-release").output().unwrap();
    assert!(fails(out, "an interrupted publish").contains("KEAPACK_FAIL_AT"));
    assert!(fs::read(meta.join("repomd.xml")).unwrap() == repomd && fs::read(meta.join("repomd.xml.asc")).unwrap() == asc, "repomd.xml changed");
    ok_all(Command::new("gpgv").arg("--keyring").arg(a.join("keapack-archive-keyring.gpg")).arg(meta.join("repomd.xml.asc")).arg(meta.join("repomd.xml")).output().unwrap(), "gpgv repomd.xml");
    let named: Vec<String> = text(&repomd).split("href=\"").skip(1).map(|h| h.split('"').next().unwrap().to_string()).collect();
    assert_eq!(named.len(), 3, "{named:?}");
    for h in &named {
        assert!(a.join("rpm/el9/x86_64").join(h).is_file(), "{h} named by repomd.xml is gone");
    }
    assert!(!metadata(&a.join("rpm/el9/x86_64"), "primary").is_empty());
    ok_all(key.publish(&a, Some("https://repo.example.org/kea"), &[], &[&rev2.rpm]), "keapack publish rev 2 again");
    assert!(fs::read(meta.join("repomd.xml")).unwrap() != repomd);
    assert_eq!(rpm_files(&a), ["kea-premium-hooks-2.2.0-1.el9.x86_64.rpm", "kea-premium-hooks-2.2.0-2.el9.x86_64.rpm"]);
    let names_now = names(&meta);
    assert_eq!(names_now.iter().filter(|n| n.to_string_lossy().ends_with("primary.xml.gz")).count(), 2, "the new and the previous primary: {names_now:?}");

    // Two publishes at once: the second waits for the first, which is stopped before its
    // Release; the second then finishes with both revisions, the previous state served meanwhile.
    let c = tmp.path().join("c");
    ok_all(key.publish(&c, None, &[], &[&rev1.deb]), "keapack publish rev 1");
    let inrelease = fs::read(c.join("apt/dists/bookworm/InRelease")).unwrap();
    let mut first = key.publish_cmd(&c, None, &[], &[&rev2.rpm, &rev2.deb]).env("KEAPACK_PAUSE_AT", "repo-release").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut err = std::io::BufReader::new(first.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("paused at repo-release") {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut err, &mut line).unwrap() > 0, "the first publish ended before pausing: {seen}");
        seen.push_str(&line);
    }
    let mut second = key.publish_cmd(&c, None, &[], &[&rev2.deb]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(second.try_wait().unwrap().is_none(), "the second publish did not wait for the lock");
    assert_eq!(fs::read(c.join("apt/dists/bookworm/InRelease")).unwrap(), inrelease, "InRelease changed before the first publish's Release");
    verify_inrelease(&c, "bookworm");
    unsafe { libc::kill(first.id() as i32, libc::SIGTERM) };
    let status = first.wait().unwrap();
    assert!(!status.success(), "the interrupted publish succeeded");
    assert_eq!(fs::read(c.join("apt/dists/bookworm/InRelease")).unwrap(), inrelease, "an interrupted publish changed InRelease");
    let out = second.wait_with_output().unwrap();
    assert!(out.status.success(), "the second publish failed: {}", text(&out.stderr));
    verify_inrelease(&c, "bookworm");
    assert_eq!(apt_versions(&c), ["2.2.0-1+deb12", "2.2.0-2+deb12"]);
    // The interrupted publish left no staging behind in the dnf tree either: the next one
    // publishes the rpm whole.
    ok_all(key.publish(&c, None, &[], &[&rev2.rpm]), "keapack publish rev 2 rpm");
    assert_eq!(rpm_files(&c), ["kea-premium-hooks-2.2.0-2.el9.x86_64.rpm"]);

    // --keep 1: only the newest revision stays, in the indices and on disk.
    let d = tmp.path().join("d");
    ok_all(key.publish(&d, None, &[], &[dir1]), "keapack publish rev 1");
    let said = ok_all(key.publish(&d, None, &["--keep", "1"], &[rev2.deb.parent().unwrap()]), "keapack publish rev 2 --keep 1");
    assert!(said.contains("removed apt/pool/main/k/kea-premium-hooks/kea-premium-hooks_2.2.0-1+deb12_amd64.deb (--keep)"), "{said}");
    assert_eq!(apt_versions(&d), ["2.2.0-2+deb12"]);
    assert!(!d.join("apt/pool/main/k/kea-premium-hooks/kea-premium-hooks_2.2.0-1+deb12_amd64.deb").exists());
    assert_eq!(rpm_files(&d), ["kea-premium-hooks-2.2.0-2.el9.x86_64.rpm"]);
    let primary = metadata(&d.join("rpm/el9/x86_64"), "primary");
    assert!(primary.contains("packages=\"1\"") && primary.contains("rel=\"2.el9\""), "{primary}");
    verify_inrelease(&d, "bookworm");

    // Bad input: nothing written.
    let e = tmp.path().join("e");
    let said = fails(key.publish(&e, None, &[], &[&tmp.path().join("missing.deb")]), "publishing a missing file");
    assert!(said.contains("missing.deb"), "{said}");
    let junk = tmp.path().join("junk.deb");
    fs::write(&junk, "not a package").unwrap();
    let said = fails(key.publish(&e, None, &[], &[&junk]), "publishing a non-package");
    assert!(said.contains("neither a .deb nor an .rpm"), "{said}");
    let said = fails(key.publish(&e, Some("https://x.example/a\nb"), &[], &[dir1]), "publishing with a URL holding a newline");
    assert!(said.contains("is not a URL clients can use"), "{said}");
    assert!(!e.exists(), "{:?}", names(&e));
}

#[test]
#[ignore = "slow: builds the example"]
fn sign_signs_rpms_in_place_from_a_key_file_and_lint_checks_them_with_the_key() {
    require("rpmkeys", "rpm");
    let rev1 = example_packages(1);
    // A passphrase-protected key exported to a file, as a CI secret would be.
    let key = Key::with_passphrase("rsa3072", "correct horse");
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("signing.asc");
    let exported = key.gpg().args(["--passphrase", "correct horse", "--armor", "--output"]).arg(&secret).args(["--export-secret-keys", &key.fpr]).output().unwrap();
    ok_all(exported, "gpg --export-secret-keys");
    let public = tmp.path().join("public.asc");
    key.armored_public(&public);

    let rpm = tmp.path().join(rev1.rpm.file_name().unwrap());
    fs::copy(&rev1.rpm, &rpm).unwrap();
    let before = ok_all(Command::new("rpm").args(["-qp", "--nosignature", "--qf", "%{SHA256HEADER} %{PAYLOADDIGEST}"]).arg(&rpm).output().unwrap(), "rpm -qp");
    let unsigned = || text(&checksig(&public, &rpm).stdout);
    assert!(!unsigned().contains("Signature"), "{}", unsigned());
    let sign = || {
        let mut c = keapack();
        c.env("GNUPGHOME", tmp.path().join("no-gnupg-here")).args(["sign", "--passphrase-env", "KEAPACK_TEST_PASSPHRASE", "--key-file"]).arg(&secret).arg(&rpm);
        c
    };
    let said = fails(sign().env_remove("KEAPACK_TEST_PASSPHRASE").output().unwrap(), "keapack sign without the passphrase");
    assert!(said.contains("KEAPACK_TEST_PASSPHRASE, which is not set"), "{said}");
    let said = fails(sign().env("KEAPACK_TEST_PASSPHRASE", "wrong").output().unwrap(), "keapack sign with a wrong passphrase");
    assert!(said.contains("gpg"), "{said}");
    assert!(!unsigned().contains("Signature"), "failed signing changed the package: {}", unsigned());
    ok_all(sign().env("KEAPACK_TEST_PASSPHRASE", "correct horse").output().unwrap(), "keapack sign --key-file");
    let sig = ok_all(checksig(&public, &rpm), "rpmkeys --checksig");
    assert!(sig.contains("Header V4 RSA/SHA256 Signature") && sig.contains(": OK"), "{sig}");
    let after = ok_all(Command::new("rpm").args(["-qp", "--nosignature", "--qf", "%{SHA256HEADER} %{PAYLOADDIGEST}"]).arg(&rpm).output().unwrap(), "rpm -qp");
    assert_eq!(before, after, "signing changed the header or payload");
    assert!(!fs::read_dir(tmp.path()).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().starts_with(".keapack-")), "no temporary file left");

    // lint --signed: rpmlint knows the key only when given it.
    require("rpmlint", "rpmlint");
    let without = text(&keapack().args(["lint", "--signed"]).arg(&rpm).output().unwrap().stdout);
    assert!(without.contains("unknown-key"), "{without}");
    let with = keapack().args(["lint", "--signed", "--key-file"]).arg(&public).arg(&rpm).output().unwrap();
    let said = text(&with.stdout);
    assert!(!said.contains("unknown-key") && !said.contains("no-signature"), "{said}");
    assert!(said.contains("passed:"), "{said}");

    // A weak key is refused, naming what to use; a .deb is not signed in place.
    let weak = Key::new("rsa2048");
    let said = fails(keapack().env("GNUPGHOME", weak.home.path()).args(["sign", "--gpg-key", &weak.fpr]).arg(&rpm).output().unwrap(), "keapack sign with RSA 2048");
    assert!(said.contains("RSA of 2048 bits") && said.contains("3072"), "{said}");
    let said = fails(keapack().env("GNUPGHOME", key.home.path()).args(["sign", "--gpg-key", &key.fpr]).arg(&rev1.deb).output().unwrap(), "keapack sign of a .deb");
    assert!(said.contains("is a .deb"), "{said}");
}

// ------------------------------------------ small packages made here, no build of the example

/// The key's secret part, armoured, in `to` (exported with its passphrase).
fn secret_key_file(key: &Key, passphrase: &str, to: &Path) {
    let out = key.gpg().args(["--passphrase", passphrase, "--armor", "--export-secret-keys", &key.fpr]).output().unwrap();
    assert!(out.status.success() && !out.stdout.is_empty(), "gpg --export-secret-keys: {}", text(&out.stderr));
    fs::write(to, out.stdout).unwrap();
}

/// `keapack publish --repo REPO --key-file FILE [--passphrase-env VAR]` with `VAR=value`.
fn publish_with_file(repo: &Path, file: &Path, passphrase: Option<&str>, packages: &[&Path]) -> Output {
    let mut cmd = keapack();
    cmd.arg("publish").arg("--repo").arg(repo).arg("--key-file").arg(file);
    if let Some(p) = passphrase {
        cmd.args(["--passphrase-env", "KEAPACK_TEST_PASSPHRASE"]).env("KEAPACK_TEST_PASSPHRASE", p);
    }
    cmd.args(packages).output().unwrap()
}

#[test]
fn a_key_that_cannot_sign_is_refused_before_anything_is_written_and_binds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let deb = common::made::made_deb(tmp.path(), 1);
    let rpm = common::made::made_rpm(tmp.path(), 1);
    let protected = Key::with_passphrase("ed25519", "s3cret");
    let file = tmp.path().join("protected.asc");
    secret_key_file(&protected, "s3cret", &file);
    let repo = tmp.path().join("repo");

    let said = fails(publish_with_file(&repo, &file, None, &[&deb]), "publish with a protected key and no --passphrase-env");
    assert!(said.contains("is protected by a passphrase") && said.contains("--passphrase-env VAR"), "{said}");
    assert!(!repo.exists(), "a publish that cannot sign wrote {:?}", names(&repo));
    let said = fails(publish_with_file(&repo, &file, Some("wrong"), &[&deb]), "publish with a wrong passphrase");
    assert!(said.contains("the passphrase in $KEAPACK_TEST_PASSPHRASE (--passphrase-env) does not unlock the key"), "{said}");
    assert!(!repo.exists(), "a publish that cannot sign wrote {:?}", names(&repo));

    // keapack sign probes the key the same way, and leaves the package as it was.
    let before = fs::read(&rpm).unwrap();
    let said = fails(keapack().arg("sign").arg("--key-file").arg(&file).arg(&rpm).output().unwrap(), "sign with a protected key and no --passphrase-env");
    assert!(said.contains("--passphrase-env"), "{said}");
    assert_eq!(fs::read(&rpm).unwrap(), before);

    // Another key publishes into the directory the failed attempts named: nothing was bound.
    let other = Key::new("ed25519");
    ok_all(other.publish(&repo, None, &[], &[&deb]), "publish with another key");
    common::repo::assert_repo_consistent(&repo, "keapack");
    // With its passphrase the protected key signs; that repository is now bound to the other key.
    let said = fails(publish_with_file(&repo, &file, Some("s3cret"), &[&deb]), "publish with the first key into the other key's repository");
    assert!(said.contains(&format!("is signed with the key {}, not {}", other.fpr, protected.fpr)), "{said}");
    let fresh = tmp.path().join("fresh");
    ok_all(publish_with_file(&fresh, &file, Some("s3cret"), &[&deb]), "publish with the key's passphrase");
    common::repo::assert_repo_consistent(&fresh, "keapack");
}

#[test]
fn a_key_file_beside_no_signature_binds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let deb = common::made::made_deb(tmp.path(), 1);
    let (first, second) = (Key::new("ed25519"), Key::new("ed25519"));
    let repo = tmp.path().join("repo");
    ok_all(first.publish(&repo, None, &[], &[&deb]), "publish with the first key");
    // What a publish of an earlier keapack left when its signing failed: the key file, no signature.
    for f in ["InRelease", "Release.gpg"] {
        fs::remove_file(repo.join("apt/dists/bookworm").join(f)).unwrap();
    }
    ok_all(second.publish(&repo, None, &[], &[&deb]), "publish with the second key");
    common::repo::assert_repo_consistent(&repo, "keapack");
    let said = fails(first.publish(&repo, None, &[], &[&deb]), "publish with the first key once the second signed");
    assert!(said.contains(&format!("is signed with the key {}, not {}", second.fpr, first.fpr)), "{said}");
}

#[test]
fn a_rerun_without_url_and_name_keeps_the_client_files_and_the_lock_is_not_served() {
    require("createrepo_c", "createrepo-c");
    let tmp = tempfile::tempdir().unwrap();
    let (deb, rpm) = (common::made::made_deb(tmp.path(), 1), common::made::made_rpm(tmp.path(), 1));
    let key = Key::new("ed25519");
    let repo = tmp.path().join("repo");
    ok_all(key.publish(&repo, Some("https://repo.example.org/kea"), &["--name", "acme"], &[&deb, &rpm]), "publish with --url and --name");
    let sources = repo.join("client/acme-bookworm.sources");
    let dotrepo = repo.join("client/acme-el9.repo");
    assert!(fs::read_to_string(&sources).unwrap().contains("URIs: https://repo.example.org/kea/apt\n"));
    assert!(fs::read_to_string(&dotrepo).unwrap().contains("baseurl=https://repo.example.org/kea/rpm/el9/$basearch\n"));
    let before = files(&repo);

    let said = ok_all(key.publish(&repo, None, &[], &[&deb, &rpm]), "the same publish without --url and --name");
    assert!(said.contains("nothing changed"), "{said}");
    assert_eq!(files(&repo), before, "a rerun without --url and --name changed the repository");
    assert!(!repo.join("keapack-archive-keyring.gpg").exists() && !repo.join("client/keapack-bookworm.sources").exists(), "{:?}", names(&repo));

    // The lock and the state are in .keapack/, nothing of keapack's own is in the served root.
    assert!(repo.join(".keapack/publish.lock").is_file() && repo.join(".keapack/publish.json").is_file());
    let dotfiles: Vec<_> = fs::read_dir(&repo).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).filter(|n| n.starts_with('.')).collect();
    assert_eq!(dotfiles, [".keapack"]);

    // Another --url is a change: said, and the client files follow it; later reruns keep it.
    let said = ok_all(key.publish(&repo, Some("https://mirror.example.net/kea"), &[], &[&deb, &rpm]), "publish with another --url");
    assert!(said.contains("--url is now https://mirror.example.net/kea (was https://repo.example.org/kea)") && said.contains("wrote client/acme-bookworm.sources") && !said.contains("nothing changed"), "{said}");
    assert!(fs::read_to_string(&dotrepo).unwrap().contains("baseurl=https://mirror.example.net/kea/rpm/el9/$basearch\n"));
    let said = ok_all(key.publish(&repo, None, &[], &[&deb, &rpm]), "the same publish again");
    assert!(said.contains("nothing changed"), "{said}");
    assert!(fs::read_to_string(&sources).unwrap().contains("URIs: https://mirror.example.net/kea/apt\n"));
}

#[test]
fn keep_reports_every_removal_of_both_formats_as_a_note_and_an_event() {
    require("createrepo_c", "createrepo-c");
    let tmp = tempfile::tempdir().unwrap();
    let key = Key::new("ed25519");
    let repo = tmp.path().join("repo");
    let one = [common::made::made_deb(tmp.path(), 1), common::made::made_rpm(tmp.path(), 1)];
    let two = [common::made::made_deb(tmp.path(), 2), common::made::made_rpm(tmp.path(), 2)];
    ok_all(key.publish(&repo, None, &[], &[&one[0], &one[1]]), "publish revision 1");
    let out = key.publish(&repo, None, &["--keep", "1", "--message-format", "json"], &[&two[0], &two[1]]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let gone = ["apt/pool/main/k/kea-premium-hooks/kea-premium-hooks_2.2.0-1+deb12_amd64.deb", "rpm/el9/x86_64/Packages/kea-premium-hooks-2.2.0-1.el9.x86_64.rpm"];
    for g in gone {
        assert!(!repo.join(g).exists(), "{g} was kept");
        assert!(stderr.contains(&format!("removed {g} (--keep)")), "no note of {g}: {stderr}");
        let event = format!(r#"{{"version":1,"event":"output-removed","path":"{}","kind":"repository-package"}}"#, repo.join(g).display());
        assert!(stdout.lines().any(|l| l == event), "no event {event}:\n{stdout}");
    }
    assert_eq!(stdout.lines().filter(|l| l.contains("\"output-removed\"")).count(), 2, "{stdout}");
    common::repo::assert_repo_consistent(&repo, "keapack");
}

/// `keapack sign` of the RPMs in a directory keapack wrote replaces them as an output set, so
/// `SHA256SUMS` lists the signed bytes (it kept the unsigned ones' sums, and `sha256sum -c`
/// failed after every signing).
#[test]
fn signing_in_an_output_directory_keeps_its_sha256sums_true() {
    require("sha256sum", "coreutils");
    let key = common::gpgkey::Key::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    fs::create_dir_all(&out).unwrap();
    let rpm = common::made::made_rpm(&out, 1);
    let deb = common::made::made_deb(tmp.path(), 1);
    fs::copy(&deb, out.join(deb.file_name().unwrap())).unwrap();
    let sums = run(Command::new("sha256sum").args([rpm.file_name().unwrap(), deb.file_name().unwrap()]).current_dir(&out));
    fs::write(out.join("SHA256SUMS"), &sums.stdout).unwrap();
    let unsigned = fs::read(&rpm).unwrap();
    let said = key.command("sign").arg(&rpm).output().unwrap();
    assert!(said.status.success(), "{}", text(&said.stderr));
    assert_ne!(fs::read(&rpm).unwrap(), unsigned, "the package is signed in place");
    sums_verify(&out);
    let listed = fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert_eq!(listed.lines().count(), 2, "the other file's entry stays: {listed}");
}

/// A repository's stored `--name` and `--url` obey the command line's rules: a planted state
/// whose name climbs out of the repository is refused, naming the file, and nothing is written.
#[test]
fn a_planted_state_with_a_name_that_climbs_out_is_refused() {
    let key = common::gpgkey::Key::new();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    fs::create_dir_all(repo.join(".keapack")).unwrap();
    fs::write(repo.join(".keapack/publish.json"), "{\"url\": null, \"name\": \"../../evil\"}\n").unwrap();
    let deb = common::made::made_deb(tmp.path(), 1);
    let said = key.command("publish").arg("--repo").arg(&repo).arg(&deb).output().unwrap();
    let err = text(&said.stderr);
    assert_eq!(said.status.code(), Some(1), "{err}");
    assert!(err.contains("the name stored in") && err.contains("publish.json") && err.contains("letters, digits"), "{err}");
    let planted = tree_files(tmp.path()).into_keys().filter(|p| p.contains("evil")).collect::<Vec<_>>();
    assert!(planted.is_empty(), "{planted:?}");
    assert!(!repo.join("apt").exists(), "nothing is published");
}

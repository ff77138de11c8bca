//! Whether a published repository is consistent, as its clients check it: for each apt
//! codename, gpgv verifies `InRelease` and `Release.gpg` with the repository's own key file,
//! `InRelease` signs exactly `Release`, and every index `Release` lists (and its by-hash copy)
//! has the listed size, SHA-256 and SHA-512; for each dnf repository, gpgv verifies
//! `repomd.xml.asc` against `repomd.xml`, and every file `repomd.xml` lists exists with its
//! SHA-256 and size. Used after a publish, and after a publish killed at any instant.

use sha2::{Digest, Sha256, Sha512};
use std::fs;
use std::path::Path;
use std::process::Command;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn subdirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir).into_iter().flatten().flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')).collect();
    v.sort();
    v
}

/// gpgv with only `keyring`; success and stdout.
fn gpgv(keyring: &Path, args: &[&Path], output: bool) -> (bool, Vec<u8>) {
    super::require("gpgv", "gpgv");
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new("gpgv");
    c.arg("--homedir").arg(home.path()).arg("--keyring").arg(keyring);
    if output {
        c.args(["--output", "-"]);
    }
    let out = c.args(args).output().unwrap();
    (out.status.success(), out.stdout)
}

/// Every way the repository at `repo` (published with `--name name`) is inconsistent; empty
/// when apt and dnf clients would accept all of it. It must hold at least one apt codename or
/// dnf repository.
pub fn repo_problems(repo: &Path, name: &str) -> Vec<String> {
    let keyring = repo.join(format!("{name}-archive-keyring.gpg"));
    let mut problems = Vec::new();
    if !keyring.is_file() {
        return vec![format!("no key file {}", keyring.display())];
    }
    let (dists, rpms) = (subdirs(&repo.join("apt/dists")), subdirs(&repo.join("rpm")).iter().flat_map(|d| subdirs(d)).collect::<Vec<_>>());
    if dists.is_empty() && rpms.is_empty() {
        problems.push(format!("{} holds no apt codename and no dnf repository", repo.display()));
    }
    for dist in dists {
        let d = dist.strip_prefix(repo).unwrap().display().to_string();
        let Ok(release) = fs::read(dist.join("Release")) else {
            problems.push(format!("{d}/Release is missing"));
            continue;
        };
        let (good, signed) = gpgv(&keyring, &[&dist.join("InRelease")], true);
        if !good {
            problems.push(format!("{d}/InRelease does not verify with the repository's key"));
        } else if signed != release {
            problems.push(format!("{d}/InRelease signs another text than Release"));
        }
        if !gpgv(&keyring, &[&dist.join("Release.gpg"), &dist.join("Release")], false).0 {
            problems.push(format!("{d}/Release.gpg does not verify Release"));
        }
        let text = String::from_utf8_lossy(&release).into_owned();
        let by_hash = text.contains("\nAcquire-By-Hash: yes\n");
        let mut listed = 0;
        let mut section = "";
        for line in text.lines() {
            if !line.starts_with(' ') {
                section = line;
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            let [sum, size, file] = f[..] else {
                problems.push(format!("{d}/Release: an unreadable line {line:?}"));
                continue;
            };
            let Ok(bytes) = fs::read(dist.join(file)) else {
                problems.push(format!("{d}/{file} (listed in Release) is missing"));
                continue;
            };
            let actual = match section {
                "SHA256:" => hex(&Sha256::digest(&bytes)),
                "SHA512:" => hex(&Sha512::digest(&bytes)),
                _ => continue,
            };
            listed += 1;
            if actual != sum || bytes.len().to_string() != size {
                problems.push(format!("{d}/{file} does not have the size and {section} Release lists"));
            }
            if by_hash && section == "SHA256:" {
                let (dir, _) = file.rsplit_once('/').unwrap_or(("", file));
                // What a by-hash client fetches: the file named by the listed digest, which
                // must hold those bytes (whatever the plain file holds meanwhile).
                if fs::read(dist.join(dir).join("by-hash/SHA256").join(sum)).ok().map(|b| hex(&Sha256::digest(&b))).as_deref() != Some(sum) {
                    problems.push(format!("{d}/{dir}/by-hash/SHA256/{sum} is missing or other bytes"));
                }
            }
        }
        if listed == 0 {
            problems.push(format!("{d}/Release lists no index"));
        }
    }
    for dir in rpms {
        let d = dir.strip_prefix(repo).unwrap().display().to_string();
        let repodata = dir.join("repodata");
        let Ok(repomd) = fs::read_to_string(repodata.join("repomd.xml")) else {
            problems.push(format!("{d}/repodata/repomd.xml is missing"));
            continue;
        };
        if !gpgv(&keyring, &[&repodata.join("repomd.xml.asc"), &repodata.join("repomd.xml")], false).0 {
            problems.push(format!("{d}/repodata/repomd.xml.asc does not verify repomd.xml"));
        }
        let blocks: Vec<&str> = repomd.split("<data ").skip(1).collect();
        if blocks.is_empty() {
            problems.push(format!("{d}/repodata/repomd.xml lists no data"));
        }
        for block in blocks {
            let between = |open: &str, close: &str| block.split(open).nth(1).and_then(|s| s.split(close).next()).map(str::to_string);
            let (Some(href), Some(sum)) = (between("href=\"", "\""), between("<checksum type=\"sha256\">", "</checksum>")) else {
                problems.push(format!("{d}/repodata/repomd.xml: a data entry without a location or SHA-256"));
                continue;
            };
            let Ok(bytes) = fs::read(dir.join(&href)) else {
                problems.push(format!("{d}/{href} (listed in repomd.xml) is missing"));
                continue;
            };
            if hex(&Sha256::digest(&bytes)) != sum.trim() || between("<size>", "</size>").is_some_and(|s| s != bytes.len().to_string()) {
                problems.push(format!("{d}/{href} does not have the SHA-256 and size repomd.xml lists"));
            }
        }
    }
    problems
}

/// Assert that the repository at `repo` is consistent (see [`repo_problems`]).
pub fn assert_repo_consistent(repo: &Path, name: &str) {
    let problems = repo_problems(repo, name);
    assert!(problems.is_empty(), "{} is inconsistent:\n  {}", repo.display(), problems.join("\n  "));
}

/// A repository's files as they compare across two publishes of the same packages: signatures
/// (and the signed RPMs and the metadata that lists their digests) carry the signing time, so
/// those are compared by name; everything else byte for byte.
pub fn shape(repo: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    super::tree_files(repo)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".keapack"))
        .map(|(p, b)| {
            let signed = p.ends_with("Release.gpg") || p.ends_with(".asc") || p.starts_with("rpm/");
            // InRelease: its signed text, not the signature.
            let b = if p.ends_with("InRelease") { String::from_utf8_lossy(&b).split("-----BEGIN PGP SIGNATURE-----").next().unwrap_or("").as_bytes().to_vec() } else { b };
            let key = if p.starts_with("rpm/") && p.contains("/repodata/") && !p.ends_with("repomd.xml") && !p.ends_with(".asc") {
                // Named by their digest: compare how many there are.
                let dir = Path::new(&p).parent().unwrap().display().to_string();
                let kind = p.rsplit('-').next().unwrap_or("").to_string();
                format!("{dir}/<digest>-{kind}")
            } else {
                p
            };
            (key, if signed { Vec::new() } else { b })
        })
        .collect()
}


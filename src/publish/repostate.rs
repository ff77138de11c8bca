//! A repository's own state, kept in `DIR/.keapack/` beside what it serves: the lock a publish
//! holds (`publish.lock`) and what the last publish was told about the repository
//! (`publish.json`: `--url` and `--name`), so that a publish without them writes the same client
//! files. It lies in the repository (it moves and is backed up with it, and needs no writable
//! parent directory) under a dot-name, which docs/guide/publishing.md has web servers deny: the temporary
//! `.keapack-*.partial` files of an unfinished publish are dot-names too.
//!
//! Also here: whether a repository is bound to a key yet, which it is only once something in it
//! is signed.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// The state directory, relative to the repository.
pub(crate) const DIR: &str = ".keapack";
/// The lock a publish holds, relative to the repository.
pub(crate) const LOCK: &str = ".keapack/publish.lock";
/// Where earlier keapack versions put the lock.
const OLD_LOCK: &str = ".keapack-publish.lock";
pub(crate) const STATE: &str = "publish.json";

/// What the last publish was told.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// `--url`, when one was ever given; without it clients get `file://DIR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `--name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Wait for and take the repository's lock (making `DIR/.keapack/`); the lock file an earlier
/// keapack left in the repository's root goes when no one holds it.
pub(crate) fn lock(repo: &Path) -> Result<fs::File> {
    let dir = repo.join(DIR);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let held = crate::support::lockfile::wait(&repo.join(LOCK))?;
    let old = repo.join(OLD_LOCK);
    if fs::symlink_metadata(&old).is_ok_and(|m| m.is_file())
        && let Ok(Some(_old)) = crate::support::lockfile::try_now(&old)
    {
        let _ = fs::remove_file(&old);
    }
    Ok(held)
}

/// The state the last publish saved; none (empty) for a new repository. An unreadable file is
/// refused, naming it: guessing would rewrite the client files with other values.
pub(crate) fn load(repo: &Path) -> Result<State> {
    let path = repo.join(DIR).join(STATE);
    match fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!("{} is not the state keapack writes (JSON with \"url\" and \"name\"): remove it and publish again with --url and --name", path.display())
        }),
    }
}

/// Save `state` (atomically) unless the file already holds it.
pub(crate) fn save(repo: &Path, state: &State) -> Result<PathBuf> {
    let dir = repo.join(DIR);
    let text = serde_json::to_string_pretty(state).expect("the state serialises") + "\n";
    if fs::read(dir.join(STATE)).is_ok_and(|b| b == text.as_bytes()) {
        return Ok(dir.join(STATE));
    }
    super::publish(&dir, STATE, |w| Ok(w.write_all(text.as_bytes())?))
}

/// Whether anything in the repository is signed: an apt `InRelease` or `Release.gpg`, a dnf
/// `repomd.xml.asc`. Until then its key file binds nothing (a first publish that failed to sign
/// may have left one), and a publish with another key replaces it.
pub(crate) fn signed(repo: &Path) -> bool {
    let subdirs = |d: &Path| -> Vec<PathBuf> { fs::read_dir(d).into_iter().flatten().flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect() };
    let apt = subdirs(&repo.join("apt/dists")).iter().any(|d| d.join("InRelease").is_file() || d.join("Release.gpg").is_file());
    apt || subdirs(&repo.join("rpm")).iter().flat_map(|d| subdirs(d)).any(|d| d.join("repodata/repomd.xml.asc").is_file())
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_a_missing_file_is_a_new_repository() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(load(tmp.path()).unwrap(), State::default());
        let s = State { url: Some("https://repo.example.org/kea".into()), name: Some("acme".into()) };
        save(tmp.path(), &s).unwrap();
        assert_eq!(load(tmp.path()).unwrap(), s);
        fs::write(tmp.path().join(DIR).join(STATE), "url=x").unwrap();
        let e = format!("{:#}", load(tmp.path()).unwrap_err());
        assert!(e.contains("publish.json is not the state keapack writes") && e.contains("--url"), "{e}");
    }

    #[test]
    fn a_repository_is_signed_once_an_index_signature_exists() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("apt/dists/bookworm")).unwrap();
        fs::write(tmp.path().join("apt/dists/bookworm/Release"), "x").unwrap();
        fs::create_dir_all(tmp.path().join("rpm/el9/x86_64/repodata")).unwrap();
        fs::write(tmp.path().join("rpm/el9/x86_64/repodata/repomd.xml"), "x").unwrap();
        assert!(!signed(tmp.path()), "unsigned indices bind no key");
        fs::write(tmp.path().join("rpm/el9/x86_64/repodata/repomd.xml.asc"), "x").unwrap();
        assert!(signed(tmp.path()));
        fs::remove_file(tmp.path().join("rpm/el9/x86_64/repodata/repomd.xml.asc")).unwrap();
        fs::write(tmp.path().join("apt/dists/bookworm/InRelease"), "x").unwrap();
        assert!(signed(tmp.path()));
    }

    #[test]
    fn the_lock_is_in_the_state_directory_and_the_old_one_goes() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(OLD_LOCK), "").unwrap();
        let _held = lock(tmp.path()).unwrap();
        assert!(tmp.path().join(LOCK).is_file());
        assert!(!tmp.path().join(OLD_LOCK).exists());
    }
}

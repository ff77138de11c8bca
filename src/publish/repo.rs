//! `keapack publish`: add packages to a signed repository directory that apt and dnf read.
//!
//! ```text
//! DIR/apt/pool/main/…/*.deb, DIR/apt/dists/<codename>/…       (apt, see apt.rs)
//! DIR/rpm/<el9>/<arch>/Packages/*.rpm, …/repodata/              (dnf and yum, see dnf.rs)
//! DIR/<name>-archive-keyring.gpg, DIR/<name>-archive-keyring.asc (the public key)
//! DIR/client/<name>-<codename>.sources, DIR/client/<name>-<el9>.repo
//! ```
//!
//! A publish holds `DIR/.keapack/publish.lock` from start to end, so concurrent publishes run
//! one after the other; `DIR/.keapack/publish.json` keeps `--url` and `--name` (`repostate`).
//! Every package is checked (readable, for a known release, not a different package under a
//! published file name) before anything is written, and every file
//! is replaced atomically, in the order that keeps what clients read consistent: packages,
//! indices, then the signed `InRelease`/`repomd.xml`. A publish stopped at any point leaves the
//! previous state served; the next one finishes the job, even when it publishes the same
//! packages: it checks what is served (signatures with gpgv, every index against its sums)
//! and rewrites what disagrees, saying "repaired". Publishing what is already there, whole,
//! changes no file.

use super::inputs::{self, Input, Kind};
use super::sign::{KeySource, Signer};
use crate::support::listener::{Listener, output_written};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// What `keapack publish` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct PublishRequest {
    pub repo: PathBuf,
    /// Package files, or directories of them (a build's `--out`).
    pub packages: Vec<PathBuf>,
    /// The base URL clients reach `repo` at (default: the repository's own, else `file://<repo>`).
    pub url: Option<String>,
    pub key: KeySource,
    /// Keep this many versions of each package (default: all).
    pub keep: Option<usize>,
    /// Names the key files, client files and repositories (default: the repository's own, else
    /// `keapack`).
    pub name: Option<String>,
}

/// What a publish changed.
#[derive(Debug, Default)]
pub(crate) struct PublishOutcome {
    /// Package files added to the repository, relative to it.
    pub added: Vec<String>,
    /// apt codenames and dnf repository directories whose signed indices changed.
    pub updated: Vec<String>,
    /// apt codenames and dnf repository directories whose indices were already served but some
    /// served file disagreed with them (a publish killed between renames), and what was wrong.
    pub repaired: Vec<(String, Vec<String>)>,
    /// Old package files removed by `--keep`.
    pub removed: Vec<PathBuf>,
    /// The client configuration files.
    pub client_files: Vec<PathBuf>,
    /// Client and key files whose bytes this publish changed.
    pub rewritten: Vec<PathBuf>,
}

/// Refuse a request whose options are wrong (`--keep 0`, a bad `--name` or `--url`), before
/// anything is read.
pub(crate) fn check_request(req: &PublishRequest) -> Result<()> {
    if req.keep == Some(0) {
        bail!("--keep 0 would remove every package; keep at least 1 version");
    }
    check_name_and_url(req.name.as_deref(), req.url.as_deref(), "--name", "--url")
}

/// The rules for a repository's name (it names the key files) and its clients' URL, whether
/// given on the command line or read back from the repository's own state (`what_name` and
/// `what_url` say which).
fn check_name_and_url(name: Option<&str>, url: Option<&str>, what_name: &str, what_url: &str) -> Result<()> {
    if let Some(name) = name
        && (name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
    {
        bail!("{what_name} must be letters, digits, '-', '_' or '.'");
    }
    if let Some(url) = url
        && (url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) || !url.contains(':'))
    {
        bail!("{what_url} {} is not a URL clients can use (for example https://repo.example.org/kea or file:///srv/repo)", crate::support::text::shown(url));
    }
    Ok(())
}

/// Publish `req.packages` into `req.repo`.
pub(crate) fn publish(req: &PublishRequest, listener: &dyn Listener) -> Result<PublishOutcome> {
    check_request(req)?;
    super::switch::recover_inputs(&req.packages, &|m| listener.warning(m))?;
    let inputs = inputs::collect(&req.packages)?;
    if inputs.iter().any(|i| matches!(i.kind, Kind::Rpm { .. })) {
        super::dnf::require_createrepo()?;
    }
    // The key is checked before the repository directory is touched.
    let signer = Signer::open(&req.key)?;
    std::fs::create_dir_all(&req.repo).with_context(|| format!("cannot create the repository directory {}", req.repo.display()))?;
    let repo = std::fs::canonicalize(&req.repo).with_context(|| format!("cannot read {}", req.repo.display()))?;
    let _lock = super::repostate::lock(&repo)?;
    // Under the lock no other publish is writing: what a killed one left is removed.
    remove_abandoned(&repo);
    let before = super::repostate::load(&repo)?;
    // The stored state obeys the command line's rules: a planted name could name a path.
    let stored = repo.join(super::repostate::DIR).join(super::repostate::STATE).display().to_string();
    check_name_and_url(before.name.as_deref(), before.url.as_deref(), &format!("the name stored in {stored}"), &format!("the URL stored in {stored}"))?;
    // A rerun without --url or --name keeps the repository's own.
    let state = super::repostate::State { url: req.url.clone().or(before.url.clone()), name: Some(req.name.clone().or(before.name.clone()).unwrap_or_else(|| "keapack".into())) };
    let name = state.name.clone().expect("set above");
    let (apt_root, rpm_root) = (repo.join("apt"), repo.join("rpm"));
    let debs: Vec<&Input> = inputs.iter().filter(|i| matches!(i.kind, Kind::Deb { .. })).collect();
    let rpms: Vec<&Input> = inputs.iter().filter(|i| matches!(i.kind, Kind::Rpm { .. })).collect();
    super::apt::check(&apt_root, &debs)?;
    super::dnf::check(&rpm_root, &rpms)?;
    let mut outcome = PublishOutcome::default();

    let key_base = format!("{name}-archive-keyring");
    // The key files are the repository's binding to its key once something is signed; before
    // (a first publish that failed to sign) they bind nothing and are replaced.
    let bound = super::repostate::signed(&repo);
    let earlier_names = before.name.iter().filter(|n| **n != name).map(|n| format!("{n}-archive-keyring.gpg"));
    for existing in std::iter::once(format!("{key_base}.gpg")).chain(earlier_names).map(|f| repo.join(f)).filter(|f| bound && f.is_file()) {
        let fprs = signer.fingerprints_in(&existing)?;
        if !fprs.contains(&signer.fingerprint) {
            bail!(
                "{} is signed with the key {}, not {}: clients trust that key only; publish with it, or into a new repository",
                repo.display(),
                fprs.join(", "),
                signer.fingerprint
            );
        }
    }
    let keys = [(format!("{key_base}.gpg"), signer.export(false)?), (format!("{key_base}.asc"), signer.export(true)?)];

    if !debs.is_empty() {
        let a = super::apt::publish(&apt_root, &name, &debs, req.keep, &signer, listener)?;
        outcome.added.extend(a.added.iter().map(|p| format!("apt/{p}")));
        outcome.updated.extend(a.dists.iter().map(|d| format!("apt/dists/{d}")));
        outcome.repaired.extend(a.repaired.into_iter().map(|(d, what)| (format!("apt/dists/{d}"), what)));
    }
    if !rpms.is_empty() {
        let r = super::dnf::publish(&rpm_root, &rpms, req.keep, &signer, listener)?;
        outcome.added.extend(r.added);
        let relative = |d: &String| Path::new(d).strip_prefix(&repo).map_or(d.clone(), |p| p.display().to_string());
        outcome.updated.extend(r.repos.iter().map(relative));
        outcome.repaired.extend(r.repaired.iter().map(|(d, what)| (relative(d), what.clone())));
        outcome.removed.extend(r.removed);
    }
    // The key files once the indices are signed: a publish that fails before binds no key.
    for (file, bytes) in &keys {
        if let (path, true) = write_if_changed(&repo, file, bytes)? {
            outcome.rewritten.push(path);
        }
    }
    // Only --keep removes packages, and only those the repository's own indices no longer name.
    if req.keep.is_some() && apt_root.join("pool").is_dir() {
        outcome.removed.splice(0..0, super::apt::prune_pool(&apt_root)?);
    }
    let url = state.url.clone().unwrap_or_else(|| format!("file://{}", repo.display()));
    let clients = crate::support::listener::step(listener, "write the client files", || client_files(&repo, &name, &url))?;
    outcome.client_files = clients.iter().map(|(p, _)| p.clone()).collect();
    outcome.rewritten.extend(clients.into_iter().filter(|(_, changed)| *changed).map(|(p, _)| p));
    super::repostate::save(&repo, &state)?;
    for a in &outcome.added {
        listener.note(&format!("added {a}"));
        output_written(listener, &req.repo.join(a), "", "repository-package")?;
    }
    for f in &outcome.client_files {
        output_written(listener, f, "", "client-configuration")?;
    }
    for r in &outcome.removed {
        listener.note(&format!("removed {} (--keep)", r.strip_prefix(&repo).unwrap_or(r).display()));
        listener.event(crate::support::events::Event::OutputRemoved { path: req.repo.join(r.strip_prefix(&repo).unwrap_or(r)), kind: "repository-package".into() });
    }
    for (what, old, new) in [("--url", &before.url, &state.url), ("--name", &before.name, &state.name)] {
        if let (Some(old), Some(new)) = (old, new)
            && old != new
        {
            listener.note(&format!("{what} is now {new} (was {old})"));
        }
    }
    for f in &outcome.rewritten {
        listener.note(&format!("wrote {}", f.strip_prefix(&repo).unwrap_or(f).display()));
    }
    for (dir, what) in &outcome.repaired {
        listener.note(&format!("repaired {dir} (re-signed with {} where needed): {}", signer.fingerprint, what.join("; ")));
    }
    if outcome.updated.is_empty() && outcome.repaired.is_empty() && outcome.rewritten.is_empty() && outcome.removed.is_empty() {
        listener.note(&format!("{} already holds these packages: nothing changed", repo.display()));
    } else if !outcome.updated.is_empty() {
        listener.note(&format!("signed with {}: {}", signer.fingerprint, outcome.updated.join(", ")));
    }
    Ok(outcome)
}

/// The files a client drops in: a deb822 `.sources` per codename, a `.repo` per RPM release.
fn client_files(repo: &Path, name: &str, url: &str) -> Result<Vec<(PathBuf, bool)>> {
    let url = url.trim_end_matches('/');
    let key_base = format!("{name}-archive-keyring");
    let client = repo.join("client");
    let mut written = Vec::new();
    for codename in subdirs(&repo.join("apt/dists")) {
        let text = format!(
            "# apt source for {name}'s packages for {codename}: copy {key_base}.gpg from the repository\n\
             # to /etc/apt/keyrings/ and this file to /etc/apt/sources.list.d/.\n\
             Types: deb\nURIs: {url}/apt\nSuites: {codename}\nComponents: {}\nSigned-By: /etc/apt/keyrings/{key_base}.gpg\n",
            super::apt::COMPONENT
        );
        written.push(write_if_changed(&client, &format!("{name}-{codename}.sources"), text.as_bytes())?);
    }
    for dist in subdirs(&repo.join("rpm")) {
        let text = format!(
            "# dnf/yum repository of {name}'s packages for {dist}: copy this file to /etc/yum.repos.d/.\n\
             [{name}-{dist}]\nname={name} packages for {dist} ($basearch)\nbaseurl={url}/rpm/{dist}/$basearch\n\
             enabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey={url}/{key_base}.asc\n"
        );
        written.push(write_if_changed(&client, &format!("{name}-{dist}.repo"), text.as_bytes())?);
    }
    Ok(written)
}

fn subdirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

/// Remove what a killed publish left under `repo`: staged files (`.keapack-*.partial`) and
/// dnf metadata stages (`.keapack-repodata-*`). Called under the repository's lock.
fn remove_abandoned(repo: &Path) {
    let mut stack = vec![repo.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(t) = e.file_type() else { continue };
            if t.is_file() && name.starts_with(".keapack-") && name.ends_with(".partial") {
                let _ = std::fs::remove_file(e.path());
            } else if t.is_dir() && name.starts_with(".keapack-repodata-") {
                let _ = std::fs::remove_dir_all(e.path());
            } else if t.is_dir() && !name.starts_with('.') {
                stack.push(e.path());
            }
        }
    }
}

/// Write `dir/name` atomically unless it already holds exactly `bytes`; whether it wrote.
fn write_if_changed(dir: &Path, name: &str, bytes: &[u8]) -> Result<(PathBuf, bool)> {
    let path = dir.join(name);
    if std::fs::read(&path).is_ok_and(|b| b == bytes) {
        return Ok((path, false));
    }
    Ok((super::publish(dir, name, |w| Ok(w.write_all(bytes)?))?, true))
}

/// Copy `from` to `to` atomically (directories made as needed), its mtime set to `time`.
pub(crate) fn copy_in(from: &Path, to: &Path, time: u64) -> Result<()> {
    let dir = to.parent().context("a pool file has a directory")?;
    let name = to.file_name().and_then(|n| n.to_str()).context("package file names are UTF-8")?;
    let written = super::publish(dir, name, |w| {
        let mut f = std::fs::File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
        std::io::copy(&mut f, w)?;
        Ok(())
    })?;
    set_mtime(&written, time)
}

/// Set a published file's modification time (createrepo_c and Release dates read it).
pub(crate) fn set_mtime(path: &Path, time: u64) -> Result<()> {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(time);
    std::fs::File::options().write(true).open(path).and_then(|f| f.set_modified(t)).with_context(|| format!("cannot set the time of {}", path.display()))
}

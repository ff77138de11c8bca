//! The dnf/yum repositories: one per RPM-family release (dist tag) and architecture,
//! `rpm/<el9>/<arch>/Packages/*.rpm` (signed) and `repodata/` with `repomd.xml` and its
//! detached signature `repomd.xml.asc`.
//!
//! The metadata is written by createrepo_c, the tool Fedora and RHEL build their own
//! repositories with: primary, filelists and other XML as dnf and yum read them are a large,
//! exacting format, and running the reference writer means keapack's metadata is createrepo_c's
//! by construction. keapack decides the rest: which packages are in (`--keep`), reproducible
//! times (each package file's mtime and the repository revision are the packages' build
//! times, or `SOURCE_DATE_EPOCH`), and the order of the switch. createrepo_c writes into a
//! staging directory; its data files (named by checksum) are moved into `repodata/` first,
//! then `repomd.xml.asc`, and `repomd.xml` last; packages and metadata files the new
//! `repomd.xml` no longer names are removed after that. When `repomd.xml` is already the one
//! served, its signature and listed files are still checked, and what disagrees is rewritten.

use super::inputs::{Input, Kind};
use super::served::Change;
use super::sign::Signer;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a publish did to the dnf repositories.
#[derive(Debug, Default)]
pub(crate) struct Changed {
    pub added: Vec<String>,
    pub repos: Vec<String>,
    /// Repositories whose served files disagreed with their `repomd.xml`, and how.
    pub repaired: Vec<(String, Vec<String>)>,
    /// Package files `--keep` removed.
    pub removed: Vec<PathBuf>,
}

/// The repositories a package goes into: `rpm/<dist>/<arch>`; a `noarch` package goes into
/// every architecture's repository of its release (clients read `$basearch` only), of this
/// publish or already there.
pub(crate) fn repo_dirs(root: &Path, input: &Input, all: &[&Input]) -> Result<Vec<PathBuf>> {
    let Kind::Rpm { dist, .. } = &input.kind else { return Ok(Vec::new()) };
    if input.arch != "noarch" {
        return Ok(vec![root.join(dist).join(&input.arch)]);
    }
    let mut arches: BTreeSet<String> = all
        .iter()
        .filter(|i| matches!(&i.kind, Kind::Rpm { dist: d, .. } if d == dist) && i.arch != "noarch")
        .map(|i| i.arch.clone())
        .collect();
    let served = served();
    for e in fs::read_dir(root.join(dist)).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if served.contains(&name) && e.file_type().is_ok_and(|t| t.is_dir()) {
            arches.insert(name);
        }
    }
    if arches.is_empty() {
        bail!("{} is noarch, but the repository has no architecture for {dist} yet: publish it with an architecture-specific package", input.file_name);
    }
    Ok(arches.into_iter().map(|a| root.join(dist).join(a)).collect())
}

/// The architectures the repository serves (rpm's words: x86_64, aarch64).
fn served() -> Vec<String> {
    super::inputs::served_arches(&crate::plan::profile::Profiles::builtin(), crate::plan::spec::Format::Rpm)
}

/// The SHA-256 of an rpm's main header: who the package is, whatever signs it.
fn identity(path: &Path) -> Result<String> {
    Ok(super::rpmfile::read(path, &served())?.header_sha256)
}

/// Refuse, before anything is written, a package whose file name is taken by another package.
pub(crate) fn check(root: &Path, rpms: &[&Input]) -> Result<()> {
    for r in rpms {
        for dir in repo_dirs(root, r, rpms)? {
            let dest = dir.join("Packages").join(&r.file_name);
            if dest.exists() && identity(&dest)? != identity(&r.path)? {
                bail!(
                    "the repository already holds a different package named {} ({}); give the new build another revision (--revision) instead of replacing a published file",
                    r.file_name,
                    dest.display()
                );
            }
        }
    }
    Ok(())
}

/// createrepo_c must be installed for dnf repositories.
pub(crate) fn require_createrepo() -> Result<()> {
    if !crate::support::runner::have("createrepo_c") {
        bail!("publishing .rpm packages needs createrepo_c: install the Debian package `createrepo-c` (apt-get install createrepo-c; dnf install createrepo_c on Fedora and RHEL)");
    }
    Ok(())
}

/// Add `rpms` (signed here) to their repositories under `root`, keeping `keep` versions each.
pub(crate) fn publish(root: &Path, rpms: &[&Input], keep: Option<usize>, signer: &Signer, listener: &dyn crate::support::listener::Listener) -> Result<Changed> {
    require_createrepo()?;
    check(root, rpms)?;
    let mut changed = Changed::default();
    let dirs = crate::support::listener::step(listener, "sign and copy the packages into the dnf repositories", || {
        let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
        for r in rpms {
            // Signed once, streaming; a second repository gets a copy of the first's file.
            let mut signed: Option<PathBuf> = None;
            for dir in repo_dirs(root, r, rpms)? {
                let dest = dir.join("Packages").join(&r.file_name);
                if !dest.exists() {
                    fs::create_dir_all(dest.parent().expect("in Packages/"))?;
                    let written = super::publish(dest.parent().expect("in Packages/"), &r.file_name, |w| match &signed {
                        Some(first) => {
                            std::io::copy(&mut fs::File::open(first).with_context(|| format!("cannot read {}", first.display()))?, w)?;
                            Ok(())
                        }
                        None => signer.sign_rpm(&r.path, w).with_context(|| format!("cannot sign {}", r.path.display())),
                    })?;
                    signed.get_or_insert_with(|| written.clone());
                    super::repo::set_mtime(&written, r.time)?;
                    changed.added.push(dest.strip_prefix(root.parent().unwrap_or(root)).unwrap_or(&dest).display().to_string());
                }
                dirs.insert(dir);
            }
        }
        Ok(dirs)
    })?;
    for dir in dirs {
        let step = format!("write and sign the dnf repository {}", crate::support::text::path(&dir));
        match crate::support::listener::step(listener, &step, || write_repo(&dir, keep, signer, listener, &mut changed.removed))? {
            Change::Unchanged => {}
            Change::Written => changed.repos.push(dir.display().to_string()),
            Change::Repaired(what) => changed.repaired.push((dir.display().to_string(), what)),
        }
    }
    Ok(changed)
}

/// One package in a repository directory.
struct Present {
    file: String,
    name: String,
    arch: String,
    version: String,
    time: u64,
}

/// Regenerate one repository's metadata, or repair what is served of it.
fn write_repo(dir: &Path, keep: Option<usize>, signer: &Signer, listener: &dyn crate::support::listener::Listener, removed: &mut Vec<PathBuf>) -> Result<Change> {
    let served = served();
    let mut present = Vec::new();
    for e in fs::read_dir(dir.join("Packages")).with_context(|| format!("cannot read {}", dir.join("Packages").display()))?.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if !file.ends_with(".rpm") || file.starts_with('.') {
            continue;
        }
        let m = super::rpmfile::read(&e.path(), &served)?;
        present.push(Present { file, version: m.evr(), name: m.name, arch: m.arch, time: m.build_time });
    }
    present.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)).then_with(|| super::vercmp::rpm(&a.version, &b.version)).then_with(|| a.file.cmp(&b.file)));
    let mut kept: Vec<&Present> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&Present>> = BTreeMap::new();
    for p in &present {
        groups.entry((p.name.clone(), p.arch.clone())).or_default().push(p);
    }
    for list in groups.values() {
        let skip = keep.map_or(0, |n| list.len().saturating_sub(n));
        kept.extend(list.iter().skip(skip));
    }
    kept.sort_by(|a, b| a.file.cmp(&b.file));
    let revision = match std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|e| e.trim().parse::<u64>().ok()) {
        Some(e) => e,
        None => kept.iter().map(|p| p.time).max().unwrap_or(0),
    };

    let stage = tempfile::Builder::new().prefix(".keapack-repodata-").tempdir_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    let list = stage.path().join("pkglist");
    fs::write(&list, kept.iter().map(|p| format!("Packages/{}\n", p.file)).collect::<String>())?;
    let out = Command::new("createrepo_c")
        .args(["--quiet", "--no-database", "--set-timestamp-to-revision"])
        .arg(format!("--revision={revision}"))
        .arg("--pkglist")
        .arg(&list)
        .arg("--outputdir")
        .arg(stage.path())
        .arg(dir)
        .output()
        .context("cannot run createrepo_c")?;
    if !out.status.success() {
        bail!("createrepo_c failed on {} ({}): {}", dir.display(), out.status, crate::support::text::message(String::from_utf8_lossy(&out.stderr).trim()));
    }
    let staged = stage.path().join("repodata");
    let repodata = dir.join("repodata");
    let new_repomd = fs::read(staged.join("repomd.xml")).context("createrepo_c wrote no repomd.xml")?;
    let old_repomd = fs::read(repodata.join("repomd.xml")).unwrap_or_default();
    // The same repomd.xml is not enough: a publish killed between its renames leaves it beside
    // an older repomd.xml.asc, so the signature and the files it lists are checked too.
    let repomd_ok = new_repomd == old_repomd;
    let mut problems = Vec::new();
    if repomd_ok {
        for (href, sum) in super::served::repomd_files(&String::from_utf8_lossy(&new_repomd)) {
            let path = dir.join(&href);
            let fine = match (path.is_file(), sum) {
                (false, _) => false,
                (true, Some(sum)) => crate::support::digest::sha256_file(&path)? == sum,
                (true, None) => true,
            };
            if !fine {
                problems.push(format!("{href} was missing or did not match repomd.xml"));
            }
        }
        let keyring = super::served::Keyring::of(signer)?;
        if !keyring.verifies(&repodata.join("repomd.xml.asc"), &repodata.join("repomd.xml"))? {
            problems.push("repomd.xml.asc was missing or did not verify repomd.xml".to_string());
        }
        if problems.is_empty() {
            return Ok(Change::Unchanged);
        }
    }
    fs::create_dir_all(&repodata)?;
    for e in fs::read_dir(&staged)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let dest = repodata.join(&name);
        // Data files are named by their checksum: one already there is kept unless damaged.
        if name != "repomd.xml" && fs::read(&dest).ok() != Some(fs::read(e.path())?) {
            fs::rename(e.path(), &dest).with_context(|| format!("cannot move {name} into {}", repodata.display()))?;
        }
    }
    crate::support::interrupt::checkpoint("repo-release", listener)?;
    // dnf reads repomd.xml, then repomd.xml.asc: both are written and synced first, then
    // renamed back to back, the signature first, so they disagree only between two renames.
    let asc = if !repomd_ok || problems.iter().any(|p| p.starts_with("repomd.xml.asc ")) { Some(signer.detach_armored(&new_repomd)?) } else { None };
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    if let Some(a) = &asc {
        files.push(("repomd.xml.asc", a));
    }
    if !repomd_ok {
        files.push(("repomd.xml", &new_repomd));
    }
    super::served::replace_together(&repodata, &files)?;
    // What neither the new nor the previous repomd.xml names goes; so do packages not kept.
    let named: BTreeSet<String> = [&new_repomd, &old_repomd]
        .iter()
        .flat_map(|x| String::from_utf8_lossy(x).split("href=\"repodata/").skip(1).filter_map(|s| s.split('"').next().map(String::from)).collect::<Vec<_>>())
        .collect();
    for e in fs::read_dir(&repodata)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("repomd.xml") && !named.contains(&name) {
            let _ = fs::remove_file(e.path());
        }
    }
    let kept_files: BTreeSet<&str> = kept.iter().map(|p| p.file.as_str()).collect();
    for p in &present {
        if !kept_files.contains(p.file.as_str()) {
            let path = dir.join("Packages").join(&p.file);
            fs::remove_file(&path).with_context(|| format!("cannot remove the old package {}", p.file))?;
            removed.push(path);
        }
    }
    Ok(if repomd_ok { Change::Repaired(problems) } else { Change::Written })
}

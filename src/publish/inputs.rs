//! The packages a publish is given: `.deb` and `.rpm` files, or directories holding them (a
//! build's `--out`), read strictly (`debfile`, `control`, `rpmfile`) for what a repository
//! index needs: name, version, architecture, the release they were built for (from the
//! version's dist tag, e.g. `+deb12`, `.el9`) and, for a `.deb`, its control paragraph. Every
//! value that later becomes part of a path or of the signed index is checked here, before
//! anything is written: a file name must be the one the package's own fields give it, and two
//! different files under one name are refused.

use super::control::{self, Paragraph};
use crate::plan::profile::Profiles;
use crate::plan::spec::Format;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One package file to publish.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub path: PathBuf,
    pub file_name: String,
    pub name: String,
    /// Debian: `[epoch:]upstream-revision`; rpm: `[epoch:]version-release`.
    pub version: String,
    pub arch: String,
    /// The file's own time (the package's build time), for reproducible repository dates.
    pub time: u64,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A `.deb` for the Debian-family release with this codename; its control paragraph, checked.
    Deb { codename: String, control: Paragraph, source: String },
    /// An `.rpm` for the RPM-family releases with this dist tag (without the dot: `el9`); the
    /// SHA-256 of its main header (the package, whatever signs it).
    Rpm { dist: String },
}

/// Expand `paths` (files or directories of packages) into the packages to publish.
pub(crate) fn collect(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let profiles = Profiles::builtin();
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read the directory {}", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "deb" || x == "rpm") && f.is_file())
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("{} holds no .deb or .rpm packages", p.display());
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        bail!("no packages to publish");
    }
    let inputs: Vec<Input> = files.iter().map(|f| read(f, &profiles)).collect::<Result<_>>()?;
    // One file per name: the same bytes twice are published once; different bytes are refused.
    let mut by_name: BTreeMap<&str, (&Input, String)> = BTreeMap::new();
    let mut keep = vec![true; inputs.len()];
    for (i, input) in inputs.iter().enumerate() {
        let sum = crate::support::digest::sha256_file(&input.path)?;
        if let Some((first, first_sum)) = by_name.get(input.file_name.as_str()) {
            if *first_sum != sum {
                bail!(
                    "{} and {} are different files with the same name {}; a repository holds one file per name: publish one of them, or give the other build another revision",
                    first.path.display(),
                    input.path.display(),
                    input.file_name
                );
            }
            keep[i] = false;
        } else {
            by_name.insert(&input.file_name, (input, sum));
        }
    }
    drop(by_name);
    Ok(inputs.into_iter().zip(keep).filter_map(|(i, k)| k.then_some(i)).collect())
}

/// Read one package as `publish` reads every package before anything is copied: strictly
/// (`debfile`, `control`, `rpmfile`), its file name checked against its own fields. Returns its
/// name, version and architecture. The fuzz target `package` feeds it arbitrary bytes.
pub fn inspect(path: &Path) -> Result<String> {
    let input = read(path, &Profiles::builtin())?;
    Ok(format!("{} {} {}", input.name, input.version, input.arch))
}

/// The architectures a family's profiles serve, in that family's words (amd64, x86_64…).
pub(crate) fn served_arches(profiles: &Profiles, family: Format) -> Vec<String> {
    let mut v: Vec<String> = profiles.all().filter(|p| p.family == family).flat_map(|p| p.arch.keys().cloned()).collect();
    v.sort();
    v.dedup();
    v
}

fn read(path: &Path, profiles: &Profiles) -> Result<Input> {
    let shown = crate::support::text::path(path);
    let file_name = path.file_name().and_then(|n| n.to_str()).with_context(|| format!("{shown} has no UTF-8 file name; rename it"))?.to_string();
    if file_name.starts_with('.') || file_name.contains(|c: char| c.is_whitespace() || c.is_control()) {
        bail!("{shown} cannot be published under its file name (a leading '.', a space or a control character); rename it to the name its package fields give");
    }
    match crate::check::lint::Checker::for_file(path)? {
        crate::check::lint::Checker::Lintian => read_deb(path, file_name, profiles),
        crate::check::lint::Checker::Rpmlint => read_rpm(path, file_name, profiles),
    }
}

fn read_deb(path: &Path, file_name: String, profiles: &Profiles) -> Result<Input> {
    let what = crate::support::text::path(path).to_string();
    let deb = super::debfile::read(path)?;
    let paragraph = control::parse(&deb.control, &what, false)?;
    let id = control::identity(&paragraph, &what, &served_arches(profiles, Format::Deb))?;
    let expected = control::deb_file_name(&id);
    if file_name != expected {
        bail!(
            "{what}: the file is named {file_name}, but its control fields (Package, Version, Architecture) say {expected}; a repository names a package by its own fields: rename the file to {expected} if it is that package"
        );
    }
    let revision = id.version.rsplit_once('-').map(|(_, r)| r).unwrap_or("");
    let codename = profiles
        .all()
        .filter(|p| p.family == Format::Deb && !p.dist_tag.is_empty() && revision.ends_with(&p.dist_tag))
        .find_map(|p| p.codename.clone())
        .with_context(|| {
            format!("cannot tell which Debian-family release {} is for: its revision '{revision}' ends in no release's tag (+deb12, +ubuntu24.04…)", path.display())
        })?;
    Ok(Input {
        path: path.to_path_buf(),
        file_name,
        name: id.package,
        version: id.version,
        arch: id.arch,
        time: deb.time,
        kind: Kind::Deb { codename, control: paragraph, source: id.source },
    })
}

fn read_rpm(path: &Path, file_name: String, profiles: &Profiles) -> Result<Input> {
    let what = crate::support::text::path(path).to_string();
    let r = super::rpmfile::read(path, &served_arches(profiles, Format::Rpm))?;
    let expected = r.file_name();
    if file_name != expected {
        bail!(
            "{what}: the file is named {}, but its header (NAME, VERSION, RELEASE, ARCH) says {expected}; a repository names a package by its own fields: rename the file to {expected} if it is that package",
            crate::support::text::shown(&file_name)
        );
    }
    let dist = profiles
        .all()
        .filter(|p| p.family == Format::Rpm && !p.dist_tag.is_empty() && r.release.ends_with(&p.dist_tag))
        .map(|p| p.dist_tag.trim_start_matches('.').to_string())
        .next()
        .with_context(|| format!("cannot tell which RPM-family release {} is for: its release '{}' ends in no release's tag (.el9, .fc43…)", path.display(), r.release))?;
    Ok(Input {
        path: path.to_path_buf(),
        file_name,
        version: r.evr(),
        arch: r.arch.clone(),
        time: r.build_time,
        kind: Kind::Rpm { dist },
        name: r.name,
    })
}

//! The packages a publish is given: `.deb` and `.rpm` files, or directories holding them (a
//! build's `--out`), read for what a repository index needs: name, version, architecture,
//! the release they were built for (from the version's dist tag, e.g. `+deb12`, `.el9`) and,
//! for a `.deb`, its control paragraph.

use crate::plan::profile::Profiles;
use crate::plan::spec::Format;
use anyhow::{Context, Result, bail};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One package file to publish.
#[derive(Debug, Clone)]
pub struct Input {
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
pub enum Kind {
    /// A `.deb` for the Debian-family release with this codename; its control paragraph.
    Deb { codename: String, control: String, source: String },
    /// An `.rpm` for the RPM-family releases with this dist tag (without the dot: `el9`).
    Rpm { dist: String },
}

/// Expand `paths` (files or directories of packages) into the packages to publish.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<Input>> {
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
    files.iter().map(|f| read(f, &profiles)).collect()
}

fn read(path: &Path, profiles: &Profiles) -> Result<Input> {
    let file_name = path.file_name().and_then(|n| n.to_str()).with_context(|| format!("{} has no UTF-8 file name", path.display()))?.to_string();
    if file_name.starts_with('.') || file_name.contains(char::is_whitespace) {
        bail!("{} cannot be published under its file name; rename it", path.display());
    }
    match crate::check::lint::Checker::for_file(path)? {
        crate::check::lint::Checker::Lintian => read_deb(path, file_name, profiles),
        crate::check::lint::Checker::Rpmlint => read_rpm(path, file_name, profiles),
    }
}

fn read_deb(path: &Path, file_name: String, profiles: &Profiles) -> Result<Input> {
    let bad = |what: &str| anyhow::anyhow!("{} is not a readable .deb: {what}", path.display());
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut ar = ar::Archive::new(f);
    let mut control = None;
    let mut time = 0;
    while let Some(entry) = ar.next_entry() {
        let mut entry = entry.map_err(|e| bad(&e.to_string()))?;
        let id = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        time = time.max(entry.header().mtime());
        if let Some(ext) = id.strip_prefix("control.tar") {
            let mut raw = Vec::new();
            entry.read_to_end(&mut raw).map_err(|e| bad(&e.to_string()))?;
            let reader: Box<dyn Read> = match ext {
                "" => Box::new(&raw[..]),
                ".gz" => Box::new(flate2::read::GzDecoder::new(&raw[..])),
                ".xz" => Box::new(liblzma::read::XzDecoder::new(&raw[..])),
                ".zst" => Box::new(zstd::Decoder::new(&raw[..])?),
                other => return Err(bad(&format!("control member compressed as {other}"))),
            };
            let mut tar = tar::Archive::new(reader);
            for e in tar.entries().map_err(|e| bad(&e.to_string()))? {
                let mut e = e.map_err(|e| bad(&e.to_string()))?;
                if e.path().is_ok_and(|p| p == Path::new("./control") || p == Path::new("control")) {
                    let mut text = String::new();
                    e.read_to_string(&mut text).map_err(|_| bad("control is not UTF-8"))?;
                    control = Some(text);
                }
            }
        }
    }
    let control = control.ok_or_else(|| bad("no control file"))?;
    let field = |name: &str| -> Option<String> {
        control.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')).map(|v| v.trim().to_string()))
    };
    let name = field("Package").ok_or_else(|| bad("no Package field"))?;
    let version = field("Version").ok_or_else(|| bad("no Version field"))?;
    let arch = field("Architecture").ok_or_else(|| bad("no Architecture field"))?;
    let source = field("Source").map(|s| s.split_whitespace().next().unwrap_or(&name).to_string()).unwrap_or_else(|| name.clone());
    let revision = version.rsplit_once('-').map(|(_, r)| r).unwrap_or("");
    let codename = profiles
        .all()
        .filter(|p| p.family == Format::Deb && !p.dist_tag.is_empty() && revision.ends_with(&p.dist_tag))
        .find_map(|p| p.codename.clone())
        .with_context(|| {
            format!("cannot tell which Debian-family release {} is for: its revision '{revision}' ends in no release's tag (+deb12, +ubuntu24.04…)", path.display())
        })?;
    Ok(Input { path: path.to_path_buf(), file_name, name, version, arch, time, kind: Kind::Deb { codename, control: control.trim_end().to_string(), source } })
}

fn read_rpm(path: &Path, file_name: String, profiles: &Profiles) -> Result<Input> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let meta = rpm::PackageMetadata::parse(&mut std::io::BufReader::new(f)).with_context(|| format!("{} is not a readable .rpm", path.display()))?;
    if meta.is_source_package() {
        bail!("{} is a source rpm; publish binary packages", path.display());
    }
    let name = meta.get_name()?.to_string();
    let release = meta.get_release()?.to_string();
    let version = match meta.get_epoch() {
        Ok(e) if e > 0 => format!("{e}:{}-{release}", meta.get_version()?),
        _ => format!("{}-{release}", meta.get_version()?),
    };
    let arch = meta.get_arch()?.to_string();
    let time = meta.get_build_time().unwrap_or(0);
    let dist = profiles
        .all()
        .filter(|p| p.family == Format::Rpm && !p.dist_tag.is_empty() && release.ends_with(&p.dist_tag))
        .map(|p| p.dist_tag.trim_start_matches('.').to_string())
        .next()
        .with_context(|| format!("cannot tell which RPM-family release {} is for: its release '{release}' ends in no release's tag (.el9, .fc43…)", path.display()))?;
    Ok(Input { path: path.to_path_buf(), file_name, name, version, arch, time, kind: Kind::Rpm { dist } })
}

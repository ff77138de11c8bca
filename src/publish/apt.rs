//! The apt repository: `pool/main/…/*.deb`, per codename `dists/<codename>/main/binary-<arch>/
//! Packages` (plain, `.gz`, `.xz`), and `Release`, `Release.gpg`, `InRelease`.
//!
//! Every index is also written under `by-hash/SHA256/<digest>` and the `Release` says
//! `Acquire-By-Hash: yes`, so a client holding the previous `InRelease` still fetches the
//! indices it names while a publish is under way. The order is: new pool files, by-hash
//! indices, named indices, then `Release.gpg`, `Release` and `InRelease` last; indices and pool
//! files no `Release` names any more are removed after that. A publish whose `Release` is
//! already served still checks the rest against it (served_problems) and rewrites what a
//! killed publish left disagreeing. The index of a codename is read
//! back from its `Packages` file, so a publish reads only the packages it adds. Dates come from
//! the packages, so the same packages give the same bytes (the signatures aside).

use super::inputs::{Input, Kind};
use super::served::Change;
use super::sign::Signer;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) const COMPONENT: &str = "main";

/// One package's paragraph in a `Packages` index.
#[derive(Debug, Clone)]
struct Stanza {
    package: String,
    version: String,
    arch: String,
    filename: String,
    text: String,
}

impl Stanza {
    /// A paragraph of the repository's own index: an entry when it names its package, version,
    /// a pool file (a relative path under `pool/`, no `..`) and the file's SHA-256.
    fn parse(text: &str) -> Option<Stanza> {
        let p = super::control::parse(text.trim_matches('\n'), "the repository's index", true).ok()?;
        let field = |name: &str| p.get(name).map(str::to_string);
        let filename = field("Filename")?;
        if !pool_relative(&filename) {
            return None;
        }
        field("SHA256")?;
        Some(Stanza { package: field("Package")?, version: field("Version")?, arch: field("Architecture").unwrap_or_default(), filename, text: p.to_text(&[]) })
    }
}

/// A path keapack itself writes as `Filename`: `pool/…`, each part a plain name.
fn pool_relative(path: &str) -> bool {
    let mut parts = path.split('/');
    parts.next() == Some("pool")
        && path.split('/').count() > 2
        && parts.all(|c| !c.is_empty() && c != "." && c != ".." && c.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '+' | '-' | '_' | '~')))
}

/// The `Packages` stanzas of every architecture of `codename` in the repository at `root`.
fn read_indices(root: &Path, codename: &str) -> BTreeMap<String, Vec<Stanza>> {
    let mut arches = BTreeMap::new();
    if let Ok(rd) = fs::read_dir(root.join("dists").join(codename).join(COMPONENT)) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(arch) = name.strip_prefix("binary-") else { continue };
            if arch.is_empty() || !arch.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                continue;
            }
            let text = fs::read_to_string(e.path().join("Packages")).unwrap_or_default();
            arches.insert(arch.to_string(), text.split("\n\n").filter_map(Stanza::parse).collect());
        }
    }
    arches
}

/// The pool path of a package: `pool/main/<l>/<source>/<file>` (`lib` sources by four letters).
fn pool_path(source: &str, file: &str) -> String {
    let prefix = if source.starts_with("lib") && source.len() > 3 { &source[..4] } else { &source[..1] };
    format!("pool/{COMPONENT}/{prefix}/{source}/{file}")
}

/// What a publish did to the apt repository.
#[derive(Debug, Default)]
pub(crate) struct Changed {
    pub added: Vec<String>,
    pub dists: Vec<String>,
    /// Codenames whose served files disagreed with their `Release`, and how.
    pub repaired: Vec<(String, Vec<String>)>,
}

/// Refuse, before anything is written, a package whose pool file name is taken by other bytes,
/// one whose package and version the repository already lists from another file, and an
/// `all` package for a release that has no architecture yet.
pub(crate) fn check(root: &Path, debs: &[&Input]) -> Result<()> {
    for d in debs {
        let Kind::Deb { source, codename, .. } = &d.kind else { continue };
        let rel = pool_path(source, &d.file_name);
        let dest = root.join(&rel);
        if dest.exists() && crate::support::digest::sha256_file(&dest)? != crate::support::digest::sha256_file(&d.path)? {
            bail!(
                "the repository already holds a different package named {} ({}); give the new build another revision (--revision) instead of replacing a published file",
                d.file_name,
                dest.display()
            );
        }
        let indices = read_indices(root, codename);
        for s in indices.values().flatten() {
            if s.package == d.name && s.version == d.version && s.arch == d.arch && s.filename != rel {
                bail!(
                    "{}: the repository already lists {} {} ({}) from {}; one package and version is one file: give the new build another revision (--revision)",
                    crate::support::text::path(&d.path),
                    d.name,
                    d.version,
                    d.arch,
                    s.filename
                );
            }
        }
        let arches_after = indices.keys().chain(debs.iter().filter(|o| matches!(&o.kind, Kind::Deb { codename: c, .. } if c == codename)).map(|o| &o.arch)).any(|a| a != "all");
        if d.arch == "all" && !arches_after {
            bail!("{} is for all architectures, but the repository has no architecture for {codename} yet: publish an architecture-specific package first", d.file_name);
        }
    }
    Ok(())
}

/// Add `debs` to the apt repository under `root`, keeping `keep` versions of each package.
pub(crate) fn publish(root: &Path, label: &str, debs: &[&Input], keep: Option<usize>, signer: &Signer, listener: &dyn crate::support::listener::Listener) -> Result<Changed> {
    check(root, debs)?;
    let mut changed = Changed::default();
    // 1. Pool files.
    let by_codename = crate::support::listener::step(listener, "copy the packages into the apt pool", || {
        let mut by_codename: BTreeMap<&str, Vec<(&Input, String)>> = BTreeMap::new();
        for d in debs {
            let Kind::Deb { codename, source, .. } = &d.kind else { continue };
            let rel = pool_path(source, &d.file_name);
            let dest = root.join(&rel);
            if !dest.exists() {
                super::repo::copy_in(&d.path, &dest, d.time)?;
                changed.added.push(rel.clone());
            }
            by_codename.entry(codename.as_str()).or_default().push((d, rel));
        }
        Ok(by_codename)
    })?;
    // 2. Indices, then Release, per codename.
    for (codename, new) in by_codename {
        let step = format!("write and sign the apt index of {codename}");
        match crate::support::listener::step(listener, &step, || write_dist(root, label, codename, &new, keep, signer, listener))? {
            Change::Unchanged => {}
            Change::Written => changed.dists.push(codename.to_string()),
            Change::Repaired(what) => changed.repaired.push((codename.to_string(), what)),
        }
    }
    Ok(changed)
}

/// Update one codename's indices and Release, or repair what is served of them.
fn write_dist(root: &Path, label: &str, codename: &str, new: &[(&Input, String)], keep: Option<usize>, signer: &Signer, listener: &dyn crate::support::listener::Listener) -> Result<Change> {
    let dist = root.join("dists").join(codename);
    let mut arches = read_indices(root, codename);
    // Architecture-specific packages first, so an `all` package of this publish finds them.
    let mut new: Vec<&(&Input, String)> = new.iter().collect();
    new.sort_by_key(|(d, _)| d.arch == "all");
    for (d, rel) in new {
        let Kind::Deb { control, .. } = &d.kind else { continue };
        // The published copy is what clients download: its size and sums.
        let published = root.join(rel);
        let sha256 = crate::support::digest::sha256_file(&published)?;
        let size = fs::metadata(&published)?.len();
        let md5 = md5_file(&published)?;
        // Every field from the parsed paragraph, then keapack's own: no value starts a line.
        let text = control.to_text(&[("Filename", rel.clone()), ("Size", size.to_string()), ("MD5sum", md5), ("SHA256", sha256)]);
        let stanza = Stanza { package: d.name.clone(), version: d.version.clone(), arch: d.arch.clone(), filename: rel.clone(), text };
        let targets: Vec<String> = if d.arch == "all" { arches.keys().filter(|a| *a != "all").cloned().collect() } else { vec![d.arch.clone()] };
        if targets.is_empty() {
            bail!("{} is for all architectures, but the repository has no architecture for {codename} yet: publish an architecture-specific package first", d.file_name);
        }
        for arch in targets {
            let list = arches.entry(arch).or_default();
            match list.iter().find(|s| s.package == stanza.package && s.version == stanza.version && s.arch == stanza.arch) {
                Some(s) if s.filename != stanza.filename => {
                    bail!("the repository already lists {} {} from {}, not {}: one package and version is one file", s.package, s.version, s.filename, stanza.filename)
                }
                Some(_) => {}
                None => list.push(stanza.clone()),
            }
        }
    }
    // Keep the newest `keep` versions of each package.
    for list in arches.values_mut() {
        list.sort_by(|a, b| a.package.cmp(&b.package).then_with(|| super::vercmp::deb(&a.version, &b.version)).then_with(|| a.filename.cmp(&b.filename)));
        if let Some(n) = keep {
            keep_newest(list, n);
        }
    }
    // Index files: by-hash copies first, then the named files.
    let mut sums: Vec<(String, Vec<u8>)> = Vec::new();
    let mut newest = 0u64;
    for (arch, list) in &arches {
        for s in list {
            newest = newest.max(fs::metadata(root.join(&s.filename)).ok().and_then(|m| m.modified().ok()).map_or(0, |t| t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())));
        }
        let plain: String = list.iter().map(|s| format!("{}\n\n", s.text)).collect();
        let plain = plain.into_bytes();
        let gz = crate::support::gzip::gzip_best(&plain);
        let xz = xz(&plain)?;
        let dir = format!("{COMPONENT}/binary-{arch}");
        for (name, bytes) in [("Packages", plain), ("Packages.gz", gz), ("Packages.xz", xz)] {
            sums.push((format!("{dir}/{name}"), bytes));
        }
    }
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH")
        && let Ok(e) = epoch.trim().parse::<u64>()
    {
        newest = e;
    }
    let release = release_text(label, codename, &arches.keys().cloned().collect::<Vec<_>>(), newest, &sums);
    // What is served is checked, not only `Release`: a publish killed between two renames
    // leaves the same `Release` beside an older `InRelease` or `Release.gpg`.
    let (release_ok, problems) = match served_problems(&dist, release.as_bytes(), &sums, signer)? {
        None => (false, Vec::new()),
        Some(p) if p.is_empty() => return Ok(Change::Unchanged),
        Some(p) => (true, p),
    };
    // What clients may hold: the served Release and, when a kill left them apart, the older
    // InRelease; the by-hash indices either names stay.
    let previous = fs::read_to_string(dist.join("Release")).unwrap_or_default();
    let previous_inline = fs::read_to_string(dist.join("InRelease")).unwrap_or_default();
    // Signed before any index is replaced: a gpg that fails leaves the served indices as the
    // served Release lists them.
    let in_problems = |file: &str| problems.iter().any(|p| p.starts_with(file));
    let detached = if !release_ok || in_problems("Release.gpg ") { Some(signer.detach_armored(release.as_bytes())?) } else { None };
    let inline = if !release_ok || in_problems("InRelease ") { Some(signer.clearsign(release.as_bytes())?) } else { None };
    for (rel, bytes) in &sums {
        let path = dist.join(by_hash_path(rel, bytes));
        if fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            let (dir, name) = (path.parent().expect("by-hash files are in a directory"), path.file_name().and_then(|n| n.to_str()).expect("a hex name"));
            super::publish(dir, name, |w| Ok(w.write_all(bytes)?))?;
        }
    }
    crate::support::interrupt::checkpoint("repo-release", listener)?;
    // Both signatures are made, and all three files written and synced, before the first
    // rename; the renames then follow one another: Release.gpg, Release, InRelease.
    // - apt reads InRelease alone when it is there (Release and Release.gpg only when it is
    //   not), and InRelease is whole by itself: it is renamed last, once every index it names
    //   is in place. Until then the previous InRelease is served, and the by-hash indices it
    //   names stay until prune_by_hash below, so an apt client sees a consistent InRelease and
    //   indices at every instant.
    // - Clients that read the detached pair see Release.gpg and Release disagree only between
    //   the two adjacent renames that come first.
    // A publish killed between any two of them leaves the same Release beside an older
    // InRelease or Release.gpg: the next publish finds it in served_problems and repairs it.
    // The indices that change are staged with the signed files and renamed just before them:
    // a write that fails (a full disk) leaves every served index as the served Release lists it.
    let mut files: Vec<(&str, &[u8])> = Vec::new();
    for (rel, bytes) in &sums {
        if fs::read(dist.join(rel)).ok().as_deref() != Some(bytes.as_slice()) {
            fs::create_dir_all(dist.join(rel).parent().expect("indices are in a directory"))?;
            files.push((rel, bytes));
        }
    }
    if let Some(d) = &detached {
        files.push(("Release.gpg", d));
    }
    if !release_ok {
        files.push(("Release", release.as_bytes()));
    }
    if let Some(i) = &inline {
        files.push(("InRelease", i));
    }
    super::served::replace_together(&dist, &files)?;
    prune_by_hash(&dist, &[&previous, &previous_inline, &release]);
    Ok(if release_ok { Change::Repaired(problems) } else { Change::Written })
}

/// The by-hash copy of the index `rel` (`main/binary-amd64/Packages`) holding `bytes`.
fn by_hash_path(rel: &str, bytes: &[u8]) -> String {
    let (dir, _) = rel.rsplit_once('/').expect("indices are in a directory");
    let digest = crate::support::digest::hex(&sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(bytes)));
    format!("{dir}/by-hash/SHA256/{digest}")
}

/// How the served files of the codename at `dist` disagree with `release` and the indices
/// `sums` it lists: `None` when `Release` itself differs (everything is written anew), else
/// each disagreement, starting with the file's name (empty: nothing to do). `InRelease` must
/// be `release` clear-signed and `Release.gpg` must verify it, both checked with gpgv against
/// the signing key only; every index and its by-hash copy must be the bytes `Release` lists.
fn served_problems(dist: &Path, release: &[u8], sums: &[(String, Vec<u8>)], signer: &Signer) -> Result<Option<Vec<String>>> {
    if fs::read(dist.join("Release")).ok().as_deref() != Some(release) {
        return Ok(None);
    }
    let mut problems = Vec::new();
    for (rel, bytes) in sums {
        for file in [rel.clone(), by_hash_path(rel, bytes)] {
            if fs::read(dist.join(&file)).ok().as_deref() != Some(bytes.as_slice()) {
                problems.push(format!("{file} was missing or did not match Release"));
            }
        }
    }
    let keyring = super::served::Keyring::of(signer)?;
    if keyring.clearsigned_text(&dist.join("InRelease"))?.as_deref() != Some(release) {
        problems.push("InRelease was missing or did not sign this Release".to_string());
    }
    if !keyring.verifies(&dist.join("Release.gpg"), &dist.join("Release"))? {
        problems.push("Release.gpg was missing or did not verify Release".to_string());
    }
    Ok(Some(problems))
}

/// Keep the `n` newest versions of each package in `list` (sorted by package, then version).
fn keep_newest(list: &mut Vec<Stanza>, n: usize) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for s in list.iter() {
        *count.entry(s.package.clone()).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    list.retain(|s| {
        let i = seen.entry(s.package.clone()).or_default();
        *i += 1;
        count[&s.package] - (*i - 1) <= n
    });
}

/// The `Release` file: what, when, and every index's SHA-256 and SHA-512.
fn release_text(label: &str, codename: &str, arches: &[String], date: u64, sums: &[(String, Vec<u8>)]) -> String {
    use sha2::Digest;
    let mut t = String::new();
    t.push_str(&format!("Origin: {label}\nLabel: {label}\nSuite: {codename}\nCodename: {codename}\n"));
    t.push_str(&format!("Date: {}\n", crate::plan::changelog::rfc2822(date).replace("+0000", "UTC")));
    t.push_str(&format!("Architectures: {}\nComponents: {COMPONENT}\n", arches.join(" ")));
    t.push_str("Description: Kea hook packages published by keapack\nAcquire-By-Hash: yes\n");
    t.push_str("SHA256:\n");
    for (name, bytes) in sums {
        t.push_str(&format!(" {} {:>16} {name}\n", crate::support::digest::hex(&sha2::Sha256::digest(bytes)), bytes.len()));
    }
    t.push_str("SHA512:\n");
    for (name, bytes) in sums {
        t.push_str(&format!(" {} {:>16} {name}\n", crate::support::digest::hex(&sha2::Sha512::digest(bytes)), bytes.len()));
    }
    t
}

/// Remove by-hash files none of `releases` (the served `Release` and `InRelease`, the new
/// `Release`) names.
fn prune_by_hash(dist: &Path, releases: &[&str]) {
    let named: BTreeSet<&str> = releases.iter().flat_map(|r| r.lines()).filter_map(|l| l.split_whitespace().next()).filter(|w| w.len() == 64).collect();
    let Ok(rd) = fs::read_dir(dist.join(COMPONENT)) else { return };
    for e in rd.flatten() {
        let Ok(files) = fs::read_dir(e.path().join("by-hash/SHA256")) else { continue };
        for f in files.flatten() {
            if !named.contains(f.file_name().to_string_lossy().as_ref()) {
                let _ = fs::remove_file(f.path());
            }
        }
    }
}

/// Remove pool files no codename's index names (old versions beyond `--keep`): what is named
/// is read from the repository's own indices (whose `Filename`s keapack wrote), and only
/// `.deb` files inside `root/pool` are candidates. Called with `--keep` only.
pub(crate) fn prune_pool(root: &Path) -> Result<Vec<PathBuf>> {
    let mut named = BTreeSet::new();
    for dist in fs::read_dir(root.join("dists")).into_iter().flatten().flatten() {
        for arch in fs::read_dir(dist.path().join(COMPONENT)).into_iter().flatten().flatten() {
            let text = fs::read_to_string(arch.path().join("Packages")).unwrap_or_default();
            named.extend(text.split("\n\n").filter_map(Stanza::parse).map(|s| root.join(s.filename)));
        }
    }
    let mut removed = Vec::new();
    let mut stack = vec![root.join("pool")];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_symlink()) {
                continue;
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "deb") && !named.contains(&p) {
                fs::remove_file(&p).with_context(|| format!("cannot remove the old package {}", p.display()))?;
                removed.push(p);
            }
        }
    }
    Ok(removed)
}

fn md5_file(path: &Path) -> Result<String> {
    use md5::Digest;
    let mut h = md5::Md5::new();
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    std::io::copy(&mut f, &mut DigestWriter(&mut h))?;
    Ok(crate::support::digest::hex(&h.finalize()))
}

struct DigestWriter<'a>(&'a mut md5::Md5);

impl Write for DigestWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        md5::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// xz at the default preset, single-threaded: the same bytes every time.
fn xz(data: &[u8]) -> Result<Vec<u8>> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
    e.write_all(data)?;
    Ok(e.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(package: &str, version: &str) -> Stanza {
        let text = format!("Package: {package}\nVersion: {version}\nArchitecture: amd64\nFilename: pool/main/k/{package}/{package}_{version}_amd64.deb\nSHA256: 00");
        Stanza::parse(&text).unwrap()
    }

    #[test]
    fn keep_leaves_the_newest_versions_of_each_package() {
        let mut list = vec![stanza("a", "1-1"), stanza("a", "1-2"), stanza("a", "1-10"), stanza("b", "2-1")];
        list.sort_by(|x, y| x.package.cmp(&y.package).then_with(|| crate::publish::vercmp::deb(&x.version, &y.version)));
        keep_newest(&mut list, 2);
        let left: Vec<(&str, &str)> = list.iter().map(|s| (s.package.as_str(), s.version.as_str())).collect();
        assert_eq!(left, [("a", "1-2"), ("a", "1-10"), ("b", "2-1")]);
        keep_newest(&mut list, 1);
        assert_eq!(list.iter().map(|s| s.version.as_str()).collect::<Vec<_>>(), ["1-10", "2-1"]);
    }

    #[test]
    fn a_paragraph_without_a_checksum_or_file_is_not_an_entry() {
        assert!(Stanza::parse("Package: a\nVersion: 1\nFilename: pool/a.deb").is_none());
        assert!(Stanza::parse("Package: a\nVersion: 1\nSHA256: 00").is_none());
        assert!(Stanza::parse("").is_none());
    }

    #[test]
    fn pool_paths_group_by_source_as_debian_does() {
        assert_eq!(pool_path("kea-premium-hooks", "x.deb"), "pool/main/k/kea-premium-hooks/x.deb");
        assert_eq!(pool_path("libkea", "x.deb"), "pool/main/libk/libkea/x.deb");
    }

    #[test]
    fn release_lists_every_index_with_both_sums_and_a_utc_date() {
        let sums = vec![("main/binary-amd64/Packages".to_string(), b"abc".to_vec())];
        let text = release_text("keapack", "bookworm", &["amd64".to_string()], 1_700_000_000, &sums);
        assert!(text.starts_with("Origin: keapack\nLabel: keapack\nSuite: bookworm\nCodename: bookworm\nDate: Tue, 14 Nov 2023 22:13:20 UTC\n"), "{text}");
        assert!(text.contains("Acquire-By-Hash: yes\n"), "{text}");
        assert!(text.contains("SHA256:\n ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad                3 main/binary-amd64/Packages\n"), "{text}");
        assert!(text.contains("SHA512:\n ddaf35a193617aba"), "{text}");
    }
}

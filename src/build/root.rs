//! Build roots: a Debian-family release's own userland, so that a target of another release than
//! the host's is compiled against that release's headers and libraries.
//!
//! A root is made once by `debootstrap --variant=minbase` from the release's mirror, given the
//! build prerequisites with that release's own `apt-get`, and kept under the cache directory
//! (`$XDG_CACHE_HOME/keapack/roots/<codename>-<arch>-<digest>`), keyed by release, architecture,
//! mirror and package list. It is made in a directory of its own and renamed into place only
//! when complete, under a lock, so an interrupted or concurrent run never uses half a root. It is
//! kept as a directory rather than an archive: a build mounts it read-only, so nothing a build
//! does can change it, and no run pays for unpacking it.
//!
//! Build steps run inside it with bubblewrap (`bwrap`): the root read-only at `/`, a private
//! `/proc`, `/dev` and `/tmp`, and the work directory bound at its own path, so the paths the
//! compiler sees (and the reproducibility prefix maps) are the same as on the host.

use crate::support::runner::Runner;
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the way roots are made changes, so cached roots are made again.
const RECIPE: u32 = 1;
/// The file inside a finished root that names what it was made from.
const MADE_FROM: &str = "etc/keapack-root";

/// How a release's build roots are made and what their apt uses: a Debian-family profile's
/// `[build-root]`, given by `packaging/families/deb.toml` (per os-id under `[os.<id>]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RootRecipe {
    /// What makes the root's base system.
    pub bootstrap: Bootstrap,
    /// The archive the root is made from when neither `--mirror` nor the manifest's
    /// `build.mirror` names one.
    #[serde(default)]
    pub mirror: Option<String>,
    /// When set, the host's own configured mirror whose URL ends in this (`/debian`) comes
    /// before `mirror`.
    #[serde(default)]
    pub host_mirror_suffix: Option<String>,
    /// The archive components the root's apt uses (`main`, `universe`).
    pub components: Vec<String>,
    /// The suites on the mirror the root's apt uses; `{codename}` is the release's suite.
    pub suites: Vec<String>,
    /// Suites in an archive beside the mirror (Debian's security archive).
    #[serde(default)]
    pub beside: Option<BesideArchive>,
    /// The keyring debootstrap checks the release's archive with (`--keyring`); default:
    /// debootstrap's own for the suite.
    #[serde(default)]
    pub keyring: Option<String>,
}

/// The tool that makes a root's base system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bootstrap {
    /// `debootstrap --variant=minbase`.
    Debootstrap,
}

/// An archive beside the mirror: when the mirror's URL ends in `mirror-suffix`, the same URL
/// with `archive-suffix` in its place serves `suites`; another mirror has no such archive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BesideArchive {
    pub mirror_suffix: String,
    pub archive_suffix: String,
    pub suites: Vec<String>,
}

impl RootRecipe {
    /// The mirror a root is made from when none is named: the host's own (when the recipe
    /// says which of its sources), else the recipe's.
    pub(crate) fn default_mirror(&self) -> Option<String> {
        self.host_mirror_suffix.as_deref().and_then(host_mirror).or_else(|| self.mirror.clone())
    }
}

/// What a build root is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RootSpec {
    /// `debian` or `ubuntu`.
    pub os_id: String,
    /// The release's suite (`trixie`).
    pub codename: String,
    /// Debian's name of the architecture (`amd64`).
    pub arch: String,
    /// The archive debootstrap and apt use.
    pub mirror: String,
    /// The packages installed on top of minbase.
    pub packages: Vec<String>,
    /// How it is made and what its apt uses.
    pub recipe: RootRecipe,
    /// Keep apt's package lists in the root (a load-verification root: apt then resolves what
    /// the verified packages depend on); a build root drops them.
    pub keep_lists: bool,
}

impl RootSpec {
    /// The root of release `codename` (`os_id`) on `arch` by `recipe`, from `mirror` or else
    /// the recipe's default mirror. `profile` names the profile in the refusal when neither
    /// gives a mirror.
    pub fn new(recipe: &RootRecipe, profile: &str, os_id: &str, codename: &str, arch: &str, mirror: Option<String>, packages: Vec<String>) -> Result<RootSpec> {
        let Some(mirror) = mirror.or_else(|| recipe.default_mirror()) else {
            bail!("profile {profile} names no mirror to make a {codename} build root from: add mirror = \"<URL>\" under its [build-root], or pass --mirror (or the manifest's build.mirror)");
        };
        Ok(RootSpec { os_id: os_id.to_string(), codename: codename.to_string(), arch: arch.to_string(), mirror, packages, recipe: recipe.clone(), keep_lists: false })
    }

    /// `trixie-amd64-1a2b3c4d5e6f`: the cache entry's name. The apt sources are not part of it
    /// (a finished root whose sources differ is made again, see [`ensure`]); a keyring is.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!("{RECIPE}\n{}\n{}\n{}\n{}\n", self.os_id, self.codename, self.arch, self.mirror));
        for p in &self.packages {
            h.update(p.as_bytes());
            h.update(b"\n");
        }
        if let Some(k) = &self.recipe.keyring {
            h.update(format!("keyring {k}\n"));
        }
        if self.keep_lists {
            h.update(b"keep apt lists\n");
        }
        let digest = crate::support::digest::hex(&h.finalize());
        format!("{}-{}-{}", self.codename, self.arch, &digest[..12])
    }

    /// The apt sources of the root: the recipe's suites on the mirror, then those of the
    /// archive beside it when the mirror has one.
    pub fn sources(&self) -> String {
        let suite = |s: &String| s.replace("{codename}", &self.codename);
        let components = self.recipe.components.join(" ");
        let mut text = String::new();
        for s in &self.recipe.suites {
            text.push_str(&format!("deb {} {} {components}\n", self.mirror, suite(s)));
        }
        if let Some(b) = &self.recipe.beside
            && let Some(base) = self.mirror.trim_end_matches('/').strip_suffix(b.mirror_suffix.as_str())
        {
            for s in &b.suites {
                text.push_str(&format!("deb {base}{} {} {components}\n", b.archive_suffix, suite(s)));
            }
        }
        text
    }
}

/// Where roots are kept: `$XDG_CACHE_HOME/keapack/roots` (or `~/.cache/keapack/roots`).
pub(crate) fn cache_dir() -> PathBuf {
    crate::support::cache_home().join("roots")
}

/// The host's first apt source (`/etc/apt/sources.list`, then `/etc/apt/sources.list.d/*`)
/// whose URL ends in `suffix` (`/debian`).
fn host_mirror(suffix: &str) -> Option<String> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(rd) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more);
    }
    for f in files {
        let Ok(text) = fs::read_to_string(&f) else { continue };
        let uris: Vec<String> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter_map(|l| {
                if let Some(rest) = l.strip_prefix("URIs:") {
                    rest.split_whitespace().next().map(str::to_string)
                } else if l.starts_with("deb ") {
                    l.split_whitespace().skip(1).find(|w| !w.starts_with('[') && !w.ends_with(']') && !w.contains('=')).map(str::to_string)
                } else {
                    None
                }
            })
            .collect();
        if let Some(u) = uris.into_iter().find(|u| u.trim_end_matches('/').ends_with(suffix)) {
            return Some(u.trim_end_matches('/').to_string());
        }
    }
    None
}

/// Refuse early when this host cannot make or enter roots, naming what would let it.
pub(crate) fn check_host_can_use_roots() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("building in a root of the target's release needs root (debootstrap and bwrap mount file systems): run keapack as root, or pass --build-env host to build on this host");
    }
    let missing: Vec<&str> = [("debootstrap", "debootstrap"), ("bwrap", "bubblewrap")]
        .into_iter()
        .filter(|(tool, _)| !crate::support::runner::have(tool))
        .map(|(_, pkg)| pkg)
        .collect();
    if !missing.is_empty() {
        bail!(
            "building in a root of the target's release needs {}: apt-get install {} (or pass --build-env host to build on this host)",
            missing.join(" and "),
            missing.join(" ")
        );
    }
    Ok(())
}

/// A cached root being used, and the shared hold on its `<key>.use` lock that keeps
/// `keapack cache prune` from removing it meanwhile (held until dropped).
pub(crate) struct RootInUse {
    path: PathBuf,
    _hold: fs::File,
}

impl RootInUse {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The finished root for `spec`: from the cache, or made now (under a lock; made in a
/// directory of its own, renamed into place when complete), held in use until the returned
/// value is dropped.
pub(crate) fn ensure(spec: &RootSpec, runner: &mut Runner) -> Result<RootInUse> {
    let dir = cache_dir();
    let key = spec.key();
    let aside = crate::support::aside::Aside::lock(&dir, &key, remove_root).with_context(|| format!("cannot use the root cache {}", dir.display()))?;
    let done = aside.done();
    // A root made with other apt sources (the profile's [build-root] changed since) is made again.
    let path = if done.join(MADE_FROM).is_file() && fs::read_to_string(done.join("etc/apt/sources.list")).is_ok_and(|s| s == spec.sources()) {
        done.to_path_buf()
    } else {
        aside.make(|partial| make(spec, partial, runner))?.to_path_buf()
    };
    // Held before the maker's lock is let go, so a prune never finds the root free between them.
    let hold = crate::support::lockfile::shared(&dir.join(format!("{key}.use")))?;
    Ok(RootInUse { path, _hold: hold })
}

/// A root in the cache, for `keapack cache`.
#[derive(Debug, Clone)]
pub(crate) struct CachedRoot {
    pub key: String,
    /// The root's `PRETTY_NAME`.
    pub os: String,
    /// When it was finished (seconds since 1970), from its marker file.
    pub made: u64,
    /// Bytes of its files (apparent sizes; links not followed).
    pub size: u64,
}

/// The finished roots in `base` (the cache directory), oldest first.
pub(crate) fn cached_roots(base: &Path) -> Result<Vec<CachedRoot>> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(base) else { return Ok(out) };
    for e in rd.flatten() {
        let key = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if key.starts_with('.') || !fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let Ok(marker) = fs::symlink_metadata(path.join(MADE_FROM)) else { continue };
        let made = marker.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
        out.push(CachedRoot { os: pretty_name(&path), made, size: tree_size(&path), key });
    }
    out.sort_by(|a, b| (a.made, &a.key).cmp(&(b.made, &b.key)));
    Ok(out)
}

/// Apparent bytes of the files under `dir`, links not followed, on its file system only.
fn tree_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let dev = fs::symlink_metadata(dir).map_or(0, |m| m.dev());
    let mut total = 0;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() && m.dev() == dev {
                todo.push(e.path());
            } else if m.is_file() {
                total += m.len();
            }
        }
    }
    total
}

/// What pruning the roots did.
#[derive(Debug, Default)]
pub(crate) struct RootsPruned {
    pub removed: Vec<CachedRoot>,
    /// Roots a running build or verification holds.
    pub in_use: Vec<String>,
}

/// Remove the roots in `base` that are older than `older_than` seconds (at `now`), or all of
/// them; a root being made or used (its locks held) is left alone.
pub(crate) fn prune_cached(base: &Path, older_than: Option<u64>, all: bool, now: u64) -> Result<RootsPruned> {
    let mut out = RootsPruned::default();
    for r in cached_roots(base)? {
        if !(all || older_than.is_some_and(|age| now.saturating_sub(r.made) > age)) {
            continue;
        }
        let lock = crate::support::lockfile::try_now(&base.join(format!("{}.lock", r.key)))?;
        let hold = match lock {
            Some(_) => crate::support::lockfile::try_now(&base.join(format!("{}.use", r.key)))?,
            None => None,
        };
        if lock.is_none() || hold.is_none() {
            out.in_use.push(r.key.clone());
            continue;
        }
        // Renamed away first, so a half-removed root never looks finished.
        let doomed = base.join(format!(".{}.removing", r.key));
        fs::rename(base.join(&r.key), &doomed).with_context(|| format!("cannot remove the root {}", base.join(&r.key).display()))?;
        remove_root(&doomed)?;
        out.removed.push(r);
    }
    Ok(out)
}

/// What installs the build prerequisites in a root: the package names are its arguments.
const ROOT_INSTALL: &str = "apt-get update -qq && apt-get install -y -qq --no-install-recommends -- \"$@\" && apt-get clean && rm -rf /var/lib/apt/lists/*";
/// The same for a root that keeps apt's lists (a load-verification root).
const ROOT_INSTALL_KEEP_LISTS: &str = "apt-get update -qq && apt-get install -y -qq --no-install-recommends -- \"$@\" && apt-get clean";

/// The bootstrap command with its options, before the suite, target and mirror.
fn debootstrap(spec: &RootSpec) -> Command {
    let Bootstrap::Debootstrap = spec.recipe.bootstrap;
    let mut cmd = Command::new("debootstrap");
    cmd.args(["--variant=minbase", &format!("--arch={}", spec.arch)]);
    if let Some(k) = &spec.recipe.keyring {
        cmd.arg(format!("--keyring={k}"));
    }
    cmd
}

fn make(spec: &RootSpec, dir: &Path, runner: &mut Runner) -> Result<()> {
    runner
        .run(
            &format!("debootstrap {} ({}) from {}", spec.codename, spec.arch, spec.mirror),
            &format!("debootstrap-{}", spec.codename),
            debootstrap(spec).arg(&spec.codename).arg(dir).arg(&spec.mirror),
        )
        .with_context(|| format!("cannot make a {} root from the mirror {}; pass another with --mirror (or the manifest's build.mirror)", spec.codename, spec.mirror))?;
    fs::write(dir.join("etc/apt/sources.list"), spec.sources())?;
    // No service starts when a package is installed in the root.
    let policy = dir.join("usr/sbin/policy-rc.d");
    fs::write(&policy, "#!/bin/sh\nexit 101\n")?;
    fs::set_permissions(&policy, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    // A fixed script; the package names reach apt-get as its arguments ("$@"), never as
    // shell text.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(if spec.keep_lists { ROOT_INSTALL_KEEP_LISTS } else { ROOT_INSTALL })
        .arg("sh")
        .args(&spec.packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    runner
        .run(&format!("apt-get install the build prerequisites in the {} root", spec.codename), &format!("root-install-{}", spec.codename), &mut crate::support::sandbox::writable(dir, &cmd))
        .with_context(|| format!("cannot install {} in the {} root from {}", spec.packages.join(" "), spec.codename, spec.mirror))?;
    fs::write(dir.join(MADE_FROM), format!("recipe {RECIPE}\nmirror {}\npackages {}\n", spec.mirror, spec.packages.join(" ")))?;
    Ok(())
}

/// Remove a root (or a half-made one): nothing is mounted in it while keapack is not running
/// a command in it, and `--one-file-system` keeps the removal from crossing into anything that is.
fn remove_root(dir: &Path) -> Result<()> {
    let st = Command::new("rm").args(["-rf", "--one-file-system"]).arg(dir).status().context("cannot run rm")?;
    anyhow::ensure!(st.success(), "cannot remove {}", dir.display());
    Ok(())
}

/// The root's `PRETTY_NAME` from its `os-release` (`unknown` when it has none).
pub(crate) fn pretty_name(root: &Path) -> String {
    crate::support::osrelease::OsRelease::read(root)
        .map(|r| r.pretty_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Installed versions of `names` in the root whose dpkg database is under `root` (`/` for the
/// host); packages not installed are left out.
pub(crate) fn package_versions(root: &Path, names: &[&str]) -> BTreeMap<String, String> {
    let mut cmd = Command::new("dpkg-query");
    cmd.arg(format!("--admindir={}", root.join("var/lib/dpkg").display())).args(["-W", "-f", "${Package} ${Version}\\n"]).args(names);
    let out = cmd.env("LC_ALL", "C").output();
    let mut found = BTreeMap::new();
    if let Ok(out) = out {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((name, version)) = line.split_once(' ')
                && !version.is_empty()
            {
                found.insert(name.to_string(), version.to_string());
            }
        }
    }
    found
}

/// The environment variables a command in a root needs that keapack's clean build environment
/// may not carry.
pub(crate) fn root_env() -> Vec<(String, OsString)> {
    vec![("PATH".to_string(), OsString::from("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finished root as `make` leaves it, for the cache commands: the marker and os-release.
    fn fake_root(base: &Path, key: &str, made: u64) {
        let r = base.join(key);
        fs::create_dir_all(r.join("etc")).unwrap();
        fs::write(r.join("etc/os-release"), "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").unwrap();
        fs::write(r.join("usr-file"), vec![0u8; 1000]).unwrap();
        fs::write(r.join(MADE_FROM), "recipe 1\n").unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(made);
        fs::File::options().write(true).open(r.join(MADE_FROM)).unwrap().set_modified(t).unwrap();
    }

    /// Roots are listed oldest first, pruned by age or all, and one being used or made is kept.
    #[test]
    fn cached_roots_are_listed_and_pruned_unless_in_use() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        let day = 86_400;
        fake_root(base, "bookworm-amd64-new", 100 * day);
        fake_root(base, "bookworm-amd64-old", 10 * day);
        fake_root(base, "trixie-amd64-used", 5 * day);
        fake_root(base, "bullseye-amd64-making", 4 * day);
        fs::create_dir_all(base.join(".trixie-amd64-x.partial/etc")).unwrap();
        let roots = cached_roots(base).unwrap();
        let keys: Vec<&str> = roots.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["bullseye-amd64-making", "trixie-amd64-used", "bookworm-amd64-old", "bookworm-amd64-new"], "oldest first; partial ones are not roots");
        assert_eq!(roots[0].os, "Debian GNU/Linux 12 (bookworm)");
        assert!(roots[0].size >= 1000, "{roots:?}");

        let _used = crate::support::lockfile::shared(&base.join("trixie-amd64-used.use")).unwrap();
        let _making = crate::support::lockfile::try_now(&base.join("bullseye-amd64-making.lock")).unwrap().unwrap();
        let pruned = prune_cached(base, Some(50 * day), false, 101 * day).unwrap();
        let removed: Vec<&str> = pruned.removed.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(removed, ["bookworm-amd64-old"], "older than 50 days, and not in use");
        assert_eq!(pruned.in_use, ["bullseye-amd64-making", "trixie-amd64-used"]);
        assert!(!base.join("bookworm-amd64-old").exists() && base.join("trixie-amd64-used/etc").exists());

        let pruned = prune_cached(base, None, true, 101 * day).unwrap();
        assert_eq!(pruned.removed.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["bookworm-amd64-new"]);
        drop(_used);
        let pruned = prune_cached(base, None, true, 101 * day).unwrap();
        assert_eq!(pruned.removed.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["trixie-amd64-used"], "free once let go");
        assert!(!base.join(".trixie-amd64-used.removing").exists(), "nothing left aside");
    }

    /// Debian's recipe as `packaging/families/deb.toml` gives it.
    fn debian_recipe() -> RootRecipe {
        RootRecipe {
            bootstrap: Bootstrap::Debootstrap,
            mirror: Some("http://deb.debian.org/debian".into()),
            host_mirror_suffix: Some("/debian".into()),
            components: vec!["main".into()],
            suites: vec!["{codename}".into(), "{codename}-updates".into()],
            beside: Some(BesideArchive { mirror_suffix: "/debian".into(), archive_suffix: "/debian-security".into(), suites: vec!["{codename}-security".into()] }),
            keyring: None,
        }
    }

    fn spec() -> RootSpec {
        RootSpec {
            os_id: "debian".into(),
            codename: "trixie".into(),
            arch: "amd64".into(),
            mirror: "http://deb.debian.org/debian".into(),
            packages: vec!["g++".into(), "kea-dev".into()],
            recipe: debian_recipe(),
            keep_lists: false,
        }
    }

    #[test]
    fn the_key_changes_with_what_the_root_is_made_from() {
        let a = spec();
        assert!(a.key().starts_with("trixie-amd64-"), "{}", a.key());
        assert_eq!(a.key(), spec().key());
        let more = RootSpec { packages: vec!["g++".into(), "kea-dev".into(), "meson".into()], ..spec() };
        let other_mirror = RootSpec { mirror: "http://mirror.example/debian".into(), ..spec() };
        let keyring = RootSpec { recipe: RootRecipe { keyring: Some("/usr/share/keyrings/x.gpg".into()), ..debian_recipe() }, ..spec() };
        assert_ne!(a.key(), more.key());
        assert_ne!(a.key(), other_mirror.key());
        assert_ne!(a.key(), keyring.key());
        assert_ne!(a.key(), RootSpec { keep_lists: true, ..spec() }.key());
    }

    #[test]
    fn package_names_reach_apt_get_as_arguments() {
        // The script run with a stand-in apt-get that prints its arguments, one per line.
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("apt-get"), "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n").unwrap();
        std::fs::set_permissions(tmp.path().join("apt-get"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let script = ROOT_INSTALL.replace(" && rm -rf /var/lib/apt/lists/*", "");
        let out = Command::new("sh").arg("-c").arg(&script).arg("sh").args(["g++", "x;touch pwned", "$(id)"]).env("PATH", format!("{}:/usr/bin:/bin", tmp.path().display())).current_dir(tmp.path()).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("[--]\n[g++]\n[x;touch pwned]\n[$(id)]\n"), "{text}");
        assert!(!tmp.path().join("pwned").exists());
    }

    #[test]
    fn sources_name_the_release_its_updates_and_security() {
        assert_eq!(
            spec().sources(),
            "deb http://deb.debian.org/debian trixie main\ndeb http://deb.debian.org/debian trixie-updates main\ndeb http://deb.debian.org/debian-security trixie-security main\n"
        );
        // A mirror without Debian's layout has no security archive beside it.
        let other = RootSpec { mirror: "http://mirror.example/pub".into(), ..spec() };
        assert_eq!(other.sources(), "deb http://mirror.example/pub trixie main\ndeb http://mirror.example/pub trixie-updates main\n");
        let ubuntu = RootRecipe {
            components: vec!["main".into(), "universe".into()],
            suites: vec!["{codename}".into(), "{codename}-updates".into(), "{codename}-security".into()],
            beside: None,
            host_mirror_suffix: None,
            mirror: Some("http://archive.ubuntu.com/ubuntu".into()),
            ..debian_recipe()
        };
        let u = RootSpec { os_id: "ubuntu".into(), codename: "noble".into(), mirror: "http://archive.ubuntu.com/ubuntu".into(), recipe: ubuntu, ..spec() };
        assert!(u.sources().ends_with("deb http://archive.ubuntu.com/ubuntu noble-security main universe\n"), "{}", u.sources());
    }

    #[test]
    fn a_recipe_without_a_mirror_needs_one_named() {
        let recipe = RootRecipe { mirror: None, host_mirror_suffix: None, ..debian_recipe() };
        let e = RootSpec::new(&recipe, "devuan-5", "devuan", "daedalus", "amd64", None, vec![]).unwrap_err().to_string();
        assert!(e.contains("profile devuan-5") && e.contains("[build-root]") && e.contains("--mirror"), "{e}");
        let s = RootSpec::new(&recipe, "devuan-5", "devuan", "daedalus", "amd64", Some("http://deb.devuan.org/merged".into()), vec![]).unwrap();
        assert_eq!(s.mirror, "http://deb.devuan.org/merged");
    }

    #[test]
    fn a_keyring_goes_to_debootstrap() {
        let with = RootSpec { recipe: RootRecipe { keyring: Some("/usr/share/keyrings/devuan-archive-keyring.gpg".into()), ..debian_recipe() }, ..spec() };
        let args: Vec<String> = debootstrap(&with).get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["--variant=minbase", "--arch=amd64", "--keyring=/usr/share/keyrings/devuan-archive-keyring.gpg"]);
        assert_eq!(debootstrap(&spec()).get_args().count(), 2);
    }
}

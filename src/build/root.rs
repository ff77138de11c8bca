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

/// What a build root is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootSpec {
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
}

impl RootSpec {
    /// `trixie-amd64-1a2b3c4d5e6f`: the cache entry's name.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!("{RECIPE}\n{}\n{}\n{}\n{}\n", self.os_id, self.codename, self.arch, self.mirror));
        for p in &self.packages {
            h.update(p.as_bytes());
            h.update(b"\n");
        }
        let digest = crate::support::digest::hex(&h.finalize());
        format!("{}-{}-{}", self.codename, self.arch, &digest[..12])
    }

    /// The apt sources of the root: the release, its updates and its security suite.
    fn sources(&self) -> String {
        match self.os_id.as_str() {
            "ubuntu" => {
                let c = &self.codename;
                format!(
                    "deb {m} {c} main universe\ndeb {m} {c}-updates main universe\ndeb {m} {c}-security main universe\n",
                    m = self.mirror
                )
            }
            _ => {
                let c = &self.codename;
                let mut text = format!("deb {m} {c} main\ndeb {m} {c}-updates main\n", m = self.mirror);
                // The security archive sits beside the main one on Debian's own mirrors.
                if let Some(base) = self.mirror.trim_end_matches('/').strip_suffix("/debian") {
                    text.push_str(&format!("deb {base}/debian-security {c}-security main\n"));
                }
                text
            }
        }
    }
}

/// Where roots are kept: `$XDG_CACHE_HOME/keapack/roots` (or `~/.cache/keapack/roots`).
pub fn cache_dir() -> PathBuf {
    crate::support::cache_home().join("roots")
}

/// The default mirror for a release: the host's own configured Debian mirror for Debian
/// releases (the first `deb` source of a Debian suite in its apt sources), Debian's and
/// Ubuntu's public archives otherwise.
pub fn default_mirror(os_id: &str) -> String {
    match os_id {
        "ubuntu" => "http://archive.ubuntu.com/ubuntu".to_string(),
        _ => host_debian_mirror().unwrap_or_else(|| "http://deb.debian.org/debian".to_string()),
    }
}

/// The host's Debian mirror from `/etc/apt/sources.list` and `/etc/apt/sources.list.d/*`.
fn host_debian_mirror() -> Option<String> {
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
        if let Some(u) = uris.into_iter().find(|u| u.trim_end_matches('/').ends_with("/debian")) {
            return Some(u.trim_end_matches('/').to_string());
        }
    }
    None
}

/// Refuse early when this host cannot make or enter roots, naming what would let it.
pub fn check_host_can_use_roots() -> Result<()> {
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

/// The finished root for `spec`: from the cache, or made now (under a lock; made in a
/// directory of its own, renamed into place when complete).
pub fn ensure(spec: &RootSpec, runner: &mut Runner) -> Result<PathBuf> {
    let dir = cache_dir();
    let aside = crate::support::aside::Aside::lock(&dir, &spec.key(), remove_root).with_context(|| format!("cannot use the root cache {}", dir.display()))?;
    if aside.done().join(MADE_FROM).is_file() {
        return Ok(aside.done().to_path_buf());
    }
    Ok(aside.make(|partial| make(spec, partial, runner))?.to_path_buf())
}

/// What installs the build prerequisites in a root: the package names are its arguments.
const ROOT_INSTALL: &str = "apt-get update -qq && apt-get install -y -qq --no-install-recommends -- \"$@\" && apt-get clean && rm -rf /var/lib/apt/lists/*";

fn make(spec: &RootSpec, dir: &Path, runner: &mut Runner) -> Result<()> {
    runner
        .run(
            &format!("debootstrap {} ({}) from {}", spec.codename, spec.arch, spec.mirror),
            &format!("debootstrap-{}", spec.codename),
            Command::new("debootstrap").args(["--variant=minbase", &format!("--arch={}", spec.arch), &spec.codename]).arg(dir).arg(&spec.mirror),
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
        .arg(ROOT_INSTALL)
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
pub fn pretty_name(root: &Path) -> String {
    crate::support::osrelease::OsRelease::read(root)
        .map(|r| r.pretty_name)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Installed versions of `names` in the root whose dpkg database is under `root` (`/` for the
/// host); packages not installed are left out.
pub fn package_versions(root: &Path, names: &[&str]) -> BTreeMap<String, String> {
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
pub fn root_env() -> Vec<(String, OsString)> {
    vec![("PATH".to_string(), OsString::from("/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RootSpec {
        RootSpec {
            os_id: "debian".into(),
            codename: "trixie".into(),
            arch: "amd64".into(),
            mirror: "http://deb.debian.org/debian".into(),
            packages: vec!["g++".into(), "kea-dev".into()],
        }
    }

    #[test]
    fn the_key_changes_with_what_the_root_is_made_from() {
        let a = spec();
        assert!(a.key().starts_with("trixie-amd64-"), "{}", a.key());
        assert_eq!(a.key(), spec().key());
        let more = RootSpec { packages: vec!["g++".into(), "kea-dev".into(), "meson".into()], ..spec() };
        let other_mirror = RootSpec { mirror: "http://mirror.example/debian".into(), ..spec() };
        assert_ne!(a.key(), more.key());
        assert_ne!(a.key(), other_mirror.key());
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
        let u = RootSpec { os_id: "ubuntu".into(), codename: "noble".into(), mirror: "http://archive.ubuntu.com/ubuntu".into(), ..spec() };
        assert!(u.sources().contains("noble-security main universe"), "{}", u.sources());
    }

}

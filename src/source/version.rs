//! Kea versions: parsed from `AC_INIT`, meson `project()` and tarball names, `-git` ignored.

use anyhow::{Result, bail};
use std::fmt;
use std::path::Path;

/// A Kea release version `X.Y.Z`, with an optional pre-release tag (`3.1.0-rc1` → pre `rc1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeaVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub pre: Option<String>,
}

/// How strictly [`version_parts`] reads a dotted version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Exactly `X.Y.Z`, every piece all digits (a Kea version's core).
    Exact,
    /// `X.Y` or `X.Y.Z…`, each piece's leading digits (`1.3.0.rc1`; a missing or unreadable
    /// patch is 0), as tools print their versions.
    Leading,
}

/// The `(major, minor, patch)` of a dotted version: keapack's one reader of `X.Y.Z`.
pub fn version_parts(text: &str, how: Parts) -> Option<(u32, u32, u32)> {
    let pieces: Vec<&str> = text.trim().split('.').collect();
    let num = |p: &str| -> Option<u32> {
        match how {
            Parts::Exact => p.parse().ok().filter(|_| p.chars().all(|c| c.is_ascii_digit())),
            Parts::Leading => p.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok(),
        }
    };
    match how {
        Parts::Exact if pieces.len() != 3 => None,
        Parts::Exact => Some((num(pieces[0])?, num(pieces[1])?, num(pieces[2])?)),
        Parts::Leading if pieces.len() < 2 => None,
        Parts::Leading => Some((num(pieces[0])?, num(pieces[1])?, pieces.get(2).and_then(|p| num(p)).unwrap_or(0))),
    }
}

impl KeaVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KeaVersion { major, minor, patch, pre: None }
    }

    /// Parse `2.6.5`, `2.7.0-git`, `3.1.0-rc1`, `v2.6.5`. A `-git` suffix is dropped.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim().trim_start_matches(['v', 'V']);
        let t = t.strip_suffix("-git").unwrap_or(t);
        let (core, pre) = match t.split_once(['-', '~']) {
            Some((c, p)) if !p.is_empty() => (c, Some(p.to_string())),
            _ => (t, None),
        };
        let Some((major, minor, patch)) = version_parts(core, Parts::Exact) else {
            bail!("'{text}' is not a Kea version (expected X.Y.Z, e.g. 2.6.5)");
        };
        Ok(KeaVersion { major, minor, patch, pre })
    }

    /// Find the version in a tarball or directory name such as `kea-premium-2.6.5.tar.gz`.
    /// Returns `None` when the name carries no version.
    pub(crate) fn from_file_name(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?;
        let stem = strip_archive_ext(name);
        // The version is the last dash-separated piece that starts with a digit
        // (`kea-2.6.5`, `kea-premium-2.6.5`, `kea-subscriber-3.0.1-rc1`).
        let pieces: Vec<&str> = stem.split('-').collect();
        let at = pieces.iter().position(|p| p.starts_with(|c: char| c.is_ascii_digit()))?;
        KeaVersion::parse(&pieces[at..].join("-")).ok()
    }

    /// `KEA_HOOKS_VERSION` for this release (2.6.5 → 20605).
    #[cfg(test)]
    pub(crate) fn hooks_version(&self) -> u32 {
        self.major * 10000 + self.minor * 100 + self.patch
    }

    /// The Debian spelling: pre-releases sort before the release (`3.1.0~rc1`).
    pub fn debian(&self) -> String {
        match &self.pre {
            Some(p) => format!("{}.{}.{}~{}", self.major, self.minor, self.patch, p),
            None => self.plain(),
        }
    }

    /// `X.Y.Z` without any pre-release tag (rpm `Version:`).
    pub fn plain(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }

    /// The next patch release (2.6.5 → 2.6.6), used for upper version bounds.
    pub(crate) fn next_patch(&self) -> KeaVersion {
        KeaVersion::new(self.major, self.minor, self.patch + 1)
    }

    /// True when this version is at least `major.minor.patch` (pre-release ignored).
    pub(crate) fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }
}

impl fmt::Display for KeaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(p) = &self.pre {
            write!(f, "-{p}")?;
        }
        Ok(())
    }
}

/// `kea-2.6.5.tar.gz` → `kea-2.6.5`.
pub(crate) fn strip_archive_ext(name: &str) -> &str {
    for ext in [".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tar"] {
        if let Some(s) = name.strip_suffix(ext) {
            return s;
        }
    }
    name
}

/// The version in `AC_INIT(kea, 2.6.5, kea-dev@lists.isc.org)` (brackets allowed), if the
/// package named is `kea`.
pub fn from_ac_init(configure_ac: &str) -> Option<Result<KeaVersion>> {
    let start = configure_ac.find("AC_INIT(")? + "AC_INIT(".len();
    let args = &configure_ac[start..];
    let args = &args[..args.find(')')?];
    let mut parts = args.split(',').map(|p| p.trim().trim_matches(['[', ']']).trim());
    let name = parts.next()?;
    if name != "kea" {
        return None;
    }
    Some(KeaVersion::parse(parts.next()?))
}

/// The version in meson's `project('kea', 'cpp', version: '3.0.1-git', …)`, if the project is `kea`.
pub fn from_meson_project(meson_build: &str) -> Option<Result<KeaVersion>> {
    let start = meson_build.find("project(")? + "project(".len();
    let body = &meson_build[start..];
    let body = &body[..body.find(')').unwrap_or(body.len())];
    let first = body.split(',').next()?.trim().trim_matches(['\'', '"']);
    if first != "kea" {
        return None;
    }
    // `version:` as a keyword of its own, not the tail of `meson_version:`.
    let at = body.match_indices("version").map(|(i, _)| i).find(|&i| {
        let before = body[..i].chars().last();
        !matches!(before, Some(c) if c.is_alphanumeric() || c == '_')
            && body[i + "version".len()..].trim_start().starts_with(':')
    })?;
    let rest = body[at + "version".len()..].trim_start().strip_prefix(':')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    Some(KeaVersion::parse(&rest[..rest.find(quote)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_versions_exact_and_leading() {
        assert_eq!(version_parts("2.6.5", Parts::Exact), Some((2, 6, 5)));
        for bad in ["2.6", "2.6.5.1", "2.6.x", "2.6.+5", "", "2..5"] {
            assert_eq!(version_parts(bad, Parts::Exact), None, "{bad}");
        }
        assert_eq!(version_parts(" 1.12.1\n", Parts::Leading), Some((1, 12, 1)));
        assert_eq!(version_parts("1.3.0.rc1", Parts::Leading), Some((1, 3, 0)));
        assert_eq!(version_parts("1.4", Parts::Leading), Some((1, 4, 0)));
        assert_eq!(version_parts("1.4rc2.x", Parts::Leading), Some((1, 4, 0)));
        assert_eq!(version_parts("1", Parts::Leading), None);
        assert_eq!(version_parts("x.1", Parts::Leading), None);
    }

    #[test]
    fn parses_release_and_git_and_pre() {
        assert_eq!(KeaVersion::parse("2.6.5").unwrap(), KeaVersion::new(2, 6, 5));
        assert_eq!(KeaVersion::parse("2.7.0-git").unwrap(), KeaVersion::new(2, 7, 0));
        let rc = KeaVersion::parse("3.1.0-rc1").unwrap();
        assert_eq!(rc.pre.as_deref(), Some("rc1"));
        assert_eq!(rc.debian(), "3.1.0~rc1");
        assert_eq!(rc.plain(), "3.1.0");
        assert!(KeaVersion::parse("2.6").is_err());
        assert!(KeaVersion::parse("two.six.five").is_err());
    }

    #[test]
    fn hooks_version_matches_kea() {
        assert_eq!(KeaVersion::new(2, 6, 5).hooks_version(), 20605);
        assert_eq!(KeaVersion::new(3, 0, 0).hooks_version(), 30000);
        assert_eq!(KeaVersion::new(1, 8, 2).hooks_version(), 10802);
    }

    #[test]
    fn tarball_names() {
        let v = |n: &str| KeaVersion::from_file_name(Path::new(n));
        assert_eq!(v("kea-2.6.5.tar.gz"), Some(KeaVersion::new(2, 6, 5)));
        assert_eq!(v("/x/kea-premium-2.6.5.tar.xz"), Some(KeaVersion::new(2, 6, 5)));
        assert_eq!(v("kea-subscriber-3.0.1.tgz"), Some(KeaVersion::new(3, 0, 1)));
        assert_eq!(v("kea-2.7.0-git"), Some(KeaVersion::new(2, 7, 0)));
        assert_eq!(v("kea-3.1.0-rc1.tar.gz").unwrap().pre.as_deref(), Some("rc1"));
        assert_eq!(v("premium.tar.gz"), None);
        assert_eq!(v("premium"), None);
    }

    #[test]
    fn ac_init_forms() {
        let v = |s: &str| from_ac_init(s).map(|r| r.unwrap());
        assert_eq!(v("AC_INIT(kea, 2.6.5, kea-dev@lists.isc.org)"), Some(KeaVersion::new(2, 6, 5)));
        assert_eq!(v("AC_PREREQ([2.69])\nAC_INIT([kea],[2.7.3-git],[kea-dev@lists.isc.org])"), Some(KeaVersion::new(2, 7, 3)));
        assert_eq!(v("AC_INIT(bind10, 20110223, x)"), None);
        assert_eq!(v("no init here"), None);
    }

    #[test]
    fn meson_project_forms() {
        let v = |s: &str| from_meson_project(s).map(|r| r.unwrap());
        assert_eq!(
            v("project(\n    'kea',\n    'cpp',\n    version: '3.0.1-git',\n    license: 'MPL-2.0',\n)"),
            Some(KeaVersion::new(3, 0, 1))
        );
        assert_eq!(v("project('kea', 'cpp', version : \"2.7.7\")"), Some(KeaVersion::new(2, 7, 7)));
        assert_eq!(v("project('other', 'c', version: '1.0.0')"), None);
        assert_eq!(
            v("project('kea', 'cpp', meson_version: '>=1.1.0', version: '3.0.0')"),
            Some(KeaVersion::new(3, 0, 0))
        );
    }
}

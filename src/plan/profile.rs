//! Distribution profiles (`packaging/profiles/*.toml`, over the family defaults of
//! `packaging/families/*.toml`: see `plan::family`) and targets such as `debian-12-amd64`.

use crate::build::deps::BuildDeps;
use crate::build::root::RootRecipe;
use crate::plan::family::{self, Families};
use crate::plan::spec::{Compression, Format};
use crate::source::version::KeaVersion;
use anyhow::{Context, Result, bail};
use include_dir::{Dir, include_dir};
use serde::Deserialize;
use std::collections::BTreeMap;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/packaging/profiles");

/// Which Kea packages the hooks package depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeStyle {
    /// The distribution's own Kea (`kea-common`, `kea-libs`).
    #[default]
    Distribution,
    /// ISC's repositories (`isc-kea-common`, …).
    Isc,
    /// Kea's own packages, written by the same run from the same full build (`<prefix>-common`,
    /// `<prefix>-dhcp4`, …).
    Own,
}

impl RuntimeStyle {
    /// The word the manifest and `--runtime` use.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeStyle::Distribution => "distribution",
            RuntimeStyle::Isc => "isc",
            RuntimeStyle::Own => "own",
        }
    }
}

impl std::str::FromStr for RuntimeStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "distribution" => Ok(RuntimeStyle::Distribution),
            "isc" => Ok(RuntimeStyle::Isc),
            "own" => Ok(RuntimeStyle::Own),
            _ => Err(format!("'{s}' is not a runtime: use distribution (the release's own Kea), isc (ISC's packages) or own (Kea's packages from this run)")),
        }
    }
}

/// The Kea a release's own archive ships (docs/kea-facts.md §6): what a package with
/// `runtime = "distribution"` loads its hooks into.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ArchiveKea {
    /// Exactly this release (Debian 12: 2.2.0).
    Version(KeaVersion),
    /// The archive has no Kea (Debian 11).
    None,
    /// Not pinned: the release's Kea moves with updates (Fedora, RHEL and rebuilds via EPEL).
    Unknown,
}

impl TryFrom<String> for ArchiveKea {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "none" => Ok(ArchiveKea::None),
            "unknown" => Ok(ArchiveKea::Unknown),
            v => KeaVersion::parse(v)
                .map(ArchiveKea::Version)
                .map_err(|e| format!("kea = '{v}' is not a Kea version, \"none\" or \"unknown\": {e}")),
        }
    }
}

impl std::fmt::Display for ArchiveKea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveKea::Version(v) => write!(f, "Kea {v}"),
            ArchiveKea::None => f.write_str("no Kea"),
            ArchiveKea::Unknown => f.write_str("a Kea keapack does not pin"),
        }
    }
}

fn default_socket_dir() -> String {
    "/run/kea".into()
}

/// Kea runtime package names of one style.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuntimePackages {
    /// The package holding `libkea-*` (what every hook links against).
    pub common: String,
    /// systemd unit per daemon (`dhcp4` → `kea-dhcp4-server`).
    pub services: BTreeMap<String, String>,
    /// The directory this Kea accepts control sockets in: its compiled-in `<runstatedir>/kea`
    /// (docs/kea-facts.md). Debian's Kea: `/run/kea`; the RPM family's own Kea and ISC's
    /// packages: `/var/run/kea` (Kea compares the path as a string).
    #[serde(default = "default_socket_dir")]
    pub socket_dir: String,
    /// The user this Kea's services run as (`_kea` on Debian, `kea` on Fedora/RHEL).
    #[serde(default)]
    pub user: Option<String>,
}

/// One architecture of a profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArchInfo {
    /// The ELF machine the binaries must have (`x86_64`, `aarch64`).
    pub elf_machine: String,
    pub libdir: String,
}

/// A distribution release's packaging facts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    #[serde(skip)]
    pub id: String,
    pub name: String,
    pub family: Format,
    /// `/etc/os-release`'s `ID` of this release (`debian`, `ubuntu`, `rhel`, `fedora`, …).
    pub os_id: String,
    /// `/etc/os-release`'s `VERSION_ID` (`12`, `24.04`, `9`).
    pub os_version_id: String,
    /// The Debian-family suite (`bookworm`, `noble`), for debootstrap and apt repositories.
    #[serde(default)]
    pub codename: Option<String>,
    /// Appended to the package revision: the rpm dist tag (`.el9`), the Debian-family release
    /// suffix (`+deb12`), so each release's packages have their own version and file name.
    #[serde(default)]
    pub dist_tag: String,
    /// A container image of this release (`debian:bookworm`, `fedora:43`): where a CI job
    /// builds this release's targets (`keapack targets --json`).
    #[serde(default)]
    pub container_image: Option<String>,
    /// The Kea this release's own archive ships; a user's profile that does not say is `unknown`.
    #[serde(default = "unknown_kea")]
    pub kea: ArchiveKea,
    pub compression: Compression,
    /// The payload compressions this release's package manager reads; empty means all.
    #[serde(default)]
    pub readable_compressions: Vec<Compression>,
    pub runtime: BTreeMap<RuntimeStyle, RuntimePackages>,
    pub arch: BTreeMap<String, ArchInfo>,
    /// The build prerequisites of this release (`--install-deps` and build roots).
    #[serde(default)]
    pub build_deps: BuildDeps,
    /// How a build root of this release is made (the Debian family's); none: its targets
    /// are built on the host.
    #[serde(default)]
    pub build_root: Option<RootRecipe>,
    /// Where this release's packages install systemd units (Kea's own packages, runtime "own"):
    /// `/usr/lib/systemd/system`, or `/lib/systemd/system` on releases whose packages still
    /// ship them there (Debian 12 and older, Ubuntu 22.04).
    #[serde(default = "default_unit_dir")]
    pub unit_dir: String,
}

fn default_unit_dir() -> String {
    "/usr/lib/systemd/system".into()
}

fn unknown_kea() -> ArchiveKea {
    ArchiveKea::Unknown
}

impl Profile {
    /// Refuse a compression this release's package manager cannot read.
    pub(crate) fn check_compression(&self, c: Compression) -> Result<()> {
        if !self.readable_compressions.is_empty() && !self.readable_compressions.contains(&c) {
            bail!(
                "{} cannot read {c:?}-compressed packages; choose one of {:?} for target profile {} (manifest: package.compression)",
                self.name,
                self.readable_compressions,
                self.id
            );
        }
        Ok(())
    }
}

/// A profile with one architecture chosen: what a package is built for.
#[derive(Debug, Clone)]
pub struct Target {
    pub profile: Profile,
    /// Architecture in the family's words (`amd64`, `x86_64`).
    pub arch: String,
    pub arch_info: ArchInfo,
}

impl Target {
    /// `debian-12-amd64`.
    pub fn id(&self) -> String {
        format!("{}-{}", self.profile.id, self.arch)
    }
    /// Where Kea looks for hooks on this target (docs/kea-facts.md §4).
    pub fn hooks_dir(&self) -> String {
        format!("{}/kea/hooks", self.arch_info.libdir)
    }
    /// Refuse hooks of Kea `kea` for this target's distribution runtime when its archive ships
    /// another Kea release (compared on major.minor.patch) or none: Kea loads only hooks built
    /// for its own release, and the package would depend on a Kea the archive cannot install.
    pub(crate) fn check_runtime(&self, style: RuntimeStyle, kea: &KeaVersion) -> Result<()> {
        if style != RuntimeStyle::Distribution {
            return Ok(());
        }
        let (id, name) = (self.id(), &self.profile.name);
        let common = self.runtime(style).map(|r| r.common.as_str()).unwrap_or("kea");
        match &self.profile.kea {
            ArchiveKea::Unknown => Ok(()),
            ArchiveKea::Version(v) if (v.major, v.minor, v.patch) == (kea.major, kea.minor, kea.patch) => Ok(()),
            ArchiveKea::Version(v) => bail!(
                "target {id}: runtime \"distribution\" makes the hooks depend on {name}'s own Kea ({common}), which is Kea {v}, \
                 but they are built from Kea {kea}, and Kea loads only hooks built for its own release. \
                 Either depend on ISC's Kea {kea} packages instead (--runtime isc, or runtime = \"isc\" in the manifest's [package]), \
                 or build the Kea release {name} ships (--kea kea-{v}.tar.gz with the premium overlay of {v})"
            ),
            ArchiveKea::None => bail!(
                "target {id}: runtime \"distribution\" makes the hooks depend on {name}'s own Kea ({common}), \
                 but {name} ships no Kea in its archive, so there is no Kea release of its own to build instead. \
                 Depend on ISC's Kea {kea} packages (--runtime isc, or runtime = \"isc\" in the manifest's [package])"
            ),
        }
    }

    /// The build root of this target's release (its profile's `[build-root]`) with `packages`,
    /// from `mirror` or the recipe's default one; none when its profile makes no roots (the
    /// RPM family) or names no codename.
    pub(crate) fn root_spec(&self, mirror: Option<String>, packages: Vec<String>) -> Result<Option<crate::build::root::RootSpec>> {
        let (Some(recipe), Some(codename)) = (&self.profile.build_root, &self.profile.codename) else {
            return Ok(None);
        };
        crate::build::root::RootSpec::new(recipe, &self.profile.id, &self.profile.os_id, codename, &self.arch, mirror, packages).map(Some)
    }

    /// Put the name prefix of Kea's own packages (`runtime-prefix`) into this target's own
    /// runtime (`{prefix}-common` → `keapack-kea-common`).
    /// With ISC's prefix (`isc-kea`) the units take the names of ISC's runtime, so the guidance
    /// of hooks built for ISC's packages names units that exist.
    pub(crate) fn name_own_runtime(&mut self, prefix: &str) -> Result<()> {
        let id = self.id();
        let isc_units = (prefix == "isc-kea").then(|| self.profile.runtime.get(&RuntimeStyle::Isc).map(|r| r.services.clone())).flatten();
        let own = self.profile.runtime.get_mut(&RuntimeStyle::Own).with_context(|| format!("profile of target {id} has no [runtime.own] package names: add them to the profile (see packaging/families/)"))?;
        own.common = own.common.replace("{prefix}", prefix);
        for unit in own.services.values_mut() {
            *unit = unit.replace("{prefix}", prefix);
        }
        if let Some(units) = isc_units {
            own.services = units;
        }
        Ok(())
    }

    pub fn runtime(&self, style: RuntimeStyle) -> Result<&RuntimePackages> {
        self.profile
            .runtime
            .get(&style)
            .with_context(|| format!("profile {} has no runtime package names for the {style:?} style", self.profile.id))
    }
}

/// All profiles keapack knows: the built-in ones plus any the user adds.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    by_id: BTreeMap<String, Profile>,
    /// Each profile's TOML with its `extends` applied, before the family defaults: what a
    /// profile that extends it is laid over.
    extendable: BTreeMap<String, toml::Table>,
}

impl Profiles {
    pub fn builtin() -> Profiles {
        static BUILT: std::sync::OnceLock<Profiles> = std::sync::OnceLock::new();
        BUILT
            .get_or_init(|| {
                let mut p = Profiles::default();
                let mut entries = Vec::new();
                for file in BUILTIN.files() {
                    let id = file.path().file_stem().and_then(|s| s.to_str()).expect("profile file names are UTF-8");
                    let text = file.contents_utf8().expect("profiles are UTF-8");
                    let origin = format!("packaging/profiles/{}", file.path().display());
                    let table: toml::Table = toml::from_str(text).with_context(|| format!("invalid profile {origin}")).expect("built-in profiles are valid TOML");
                    entries.push((id.to_string(), table, origin));
                }
                p.add_tables(entries).expect("built-in profiles are valid");
                p
            })
            .clone()
    }

    /// Add (or replace) a profile from TOML text.
    pub fn add(&mut self, id: &str, text: &str, origin: &str) -> Result<()> {
        crate::plan::values::check_value_of("profile id", id, &crate::plan::values::PROFILE_ID, origin)?;
        crate::plan::values::check_text(text, origin, crate::plan::values::FileKind::Profile)?;
        let table: toml::Table = toml::from_str(text).with_context(|| format!("invalid profile {origin}"))?;
        self.add_tables(vec![(id.to_string(), table, origin.to_string())])
    }

    /// Add (or replace) profiles given as `(id, TOML table, origin)`: each laid over the profile
    /// it `extends` (one of these, else one already known; a profile extending its own id
    /// extends the one it replaces) and over its family's defaults, then parsed.
    pub(crate) fn add_tables(&mut self, mut pending: Vec<(String, toml::Table, String)>) -> Result<()> {
        while !pending.is_empty() {
            // A profile is ready when what it extends is not still waiting to be added.
            let ready = pending.iter().position(|(id, table, _)| match family::extends_of(table) {
                Some(base) => base == id || !pending.iter().any(|(other, _, _)| other == base),
                None => true,
            });
            let Some(i) = ready else {
                let origins: Vec<&str> = pending.iter().map(|(_, _, origin)| origin.as_str()).collect();
                bail!("profiles {} extend each other in a circle: one of them must name its keys itself instead of extending", origins.join(", "));
            };
            let (id, table, origin) = pending.remove(i);
            let extended = family::extend(&table, &self.extendable, &origin)?;
            let profile = parse(&id, Families::builtin().apply(extended.clone()), &origin)?;
            self.extendable.insert(id, extended);
            self.insert(profile);
        }
        Ok(())
    }

    pub fn insert(&mut self, profile: Profile) {
        self.by_id.insert(profile.id.clone(), profile);
    }

    /// Every profile, by id.
    pub fn all(&self) -> impl Iterator<Item = &Profile> {
        self.by_id.values()
    }

    /// Every profile id, in the order a person expects: numbers by their value (`alma-8` before
    /// `alma-10`, `ubuntu-22.04` before `ubuntu-24.04`).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<&str> = self.by_id.keys().map(String::as_str).collect();
        ids.sort_by(|a, b| natural_cmp(a, b));
        ids.into_iter()
    }

    /// Resolve `debian-12-amd64`; `debian-12` alone takes the build host's architecture.
    pub fn target(&self, spec: &str) -> Result<Target> {
        let (profile, arch) = match self.by_id.get(spec) {
            Some(p) => (p, host_arch(p.family).to_string()),
            None => {
                let (pid, arch) = spec.rsplit_once('-').unwrap_or((spec, ""));
                match self.by_id.get(pid) {
                    Some(p) => (p, arch.to_string()),
                    None => bail!(
                        "unknown target '{spec}'; targets are a profile and an architecture, e.g. debian-12-amd64. Profiles: {}",
                        self.ids().collect::<Vec<_>>().join(", ")
                    ),
                }
            }
        };
        let Some(info) = profile.arch.get(&arch) else {
            bail!(
                "profile {} has no architecture '{arch}' (it has: {})",
                profile.id,
                profile.arch.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        };
        Ok(Target { profile: profile.clone(), arch, arch_info: info.clone() })
    }
}

/// A resolved profile's TOML (see `plan::family`) read as a [`Profile`]: the one place every
/// profile, built-in or a manifest's, is parsed.
fn parse(id: &str, table: toml::Table, origin: &str) -> Result<Profile> {
    let mut profile = Profile::deserialize(table).with_context(|| format!("invalid profile {origin}"))?;
    profile.id = id.to_string();
    Ok(profile)
}

/// The build host's architecture in a family's words.
pub(crate) fn host_arch(family: Format) -> &'static str {
    match (std::env::consts::ARCH, family) {
        ("x86_64", Format::Deb) => "amd64",
        ("aarch64", Format::Deb) => "arm64",
        ("aarch64", Format::Rpm) => "aarch64",
        _ => "x86_64",
    }
}

/// The build host's release as `/etc/os-release` names it: (`ID`, `VERSION_ID`).
pub(crate) fn host_release() -> Option<(String, String)> {
    let r = crate::support::osrelease::OsRelease::read(std::path::Path::new("/"))?;
    (!r.id.is_empty()).then_some((r.id, r.version_id))
}

impl Profile {
    /// Whether `release` (`ID`, `VERSION_ID`) is this profile's release.
    pub(crate) fn is_release(&self, release: &(String, String)) -> bool {
        self.os_id == release.0 && self.os_version_id == release.1
    }
}

/// The build host's distribution family, from `/etc/os-release` (`ID`, `ID_LIKE`).
pub(crate) fn host_family() -> Option<Format> {
    let r = crate::support::osrelease::OsRelease::read(std::path::Path::new("/"))?;
    let words: Vec<&str> = r.family_words().collect();
    Profiles::builtin().family_of(&words)
}

impl Profiles {
    /// The family of a release whose `/etc/os-release` `ID` and `ID_LIKE` are `words`: the
    /// first family (deb, then rpm) whose file lists one of them in `host-ids`, or that has a
    /// profile of that `os-id` here.
    pub(crate) fn family_of(&self, words: &[&str]) -> Option<Format> {
        Families::builtin().iter().map(|f| (f.format, &f.host_ids)).find_map(|(format, host_ids)| {
            let named = |w: &str| host_ids.iter().any(|h| h == w) || self.all().any(|p| p.family == format && p.os_id == w);
            words.iter().any(|w| named(w)).then_some(format)
        })
    }
}

/// Compare `a` and `b` run by run: a run of digits by its value (leading zeros aside), other
/// text by its characters; equal keys fall back to the plain order, so the order is total.
pub(crate) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let key = |s| {
        runs(s).into_iter().map(|(digits, run)| {
            let trimmed = if digits { run.trim_start_matches('0') } else { run };
            (digits, if digits { trimmed.len() } else { 0 }, trimmed)
        }).collect::<Vec<_>>()
    };
    if a.is_empty() || b.is_empty() {
        return a.cmp(b);
    }
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_ids_come_in_numeric_order() {
        let profiles = Profiles::builtin();
        let ids: Vec<&str> = profiles.ids().collect();
        let pos = |id: &str| ids.iter().position(|i| *i == id).unwrap_or_else(|| panic!("{id} in {ids:?}"));
        assert!(pos("alma-8") < pos("alma-9") && pos("alma-9") < pos("alma-10"), "{ids:?}");
        assert!(pos("rhel-9") < pos("rhel-10") && pos("ubuntu-22.04") < pos("ubuntu-24.04"), "{ids:?}");
        let mut sorted = vec!["b-2", "a-10", "a-9", "a-09", "a", "a-1.10", "a-1.9", "é-1", ""];
        sorted.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(sorted, ["", "a", "a-1.9", "a-1.10", "a-09", "a-9", "a-10", "b-2", "é-1"]);
    }

    #[test]
    fn builtin_targets_have_the_family_hooks_dirs() {
        let p = Profiles::builtin();
        let t = p.target("debian-12-amd64").unwrap();
        assert_eq!(t.hooks_dir(), "/usr/lib/x86_64-linux-gnu/kea/hooks");
        assert_eq!(t.runtime(RuntimeStyle::Distribution).unwrap().common, "kea-common");
        assert_eq!(p.target("ubuntu-24.04-arm64").unwrap().hooks_dir(), "/usr/lib/aarch64-linux-gnu/kea/hooks");
        let r = p.target("rhel-9-x86_64").unwrap();
        assert_eq!(r.hooks_dir(), "/usr/lib64/kea/hooks");
        assert_eq!(r.profile.family, Format::Rpm);
        assert_eq!(r.profile.dist_tag, ".el9");
        assert_eq!(r.runtime(RuntimeStyle::Distribution).unwrap().common, "kea-libs");
        assert_eq!(r.runtime(RuntimeStyle::Isc).unwrap().common, "isc-kea-common");
        assert_eq!(p.target("fedora-44-aarch64").unwrap().hooks_dir(), "/usr/lib64/kea/hooks");
    }

    #[test]
    fn every_profile_and_architecture_has_the_family_paths() {
        let p = Profiles::builtin();
        let ids: Vec<String> = p.ids().map(str::to_string).collect();
        for id in [
            "debian-11", "debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04", "rhel-8", "rhel-9", "rhel-10", "rocky-8", "rocky-9",
            "rocky-10", "alma-8", "alma-9", "alma-10", "fedora-43", "fedora-44",
        ] {
            assert!(ids.iter().any(|i| i == id), "profile {id} missing");
        }
        for id in &ids {
            let profile = p.target(&format!("{id}-{}", host_arch(p.by_id[id].family))).unwrap().profile;
            for (arch, info) in &profile.arch {
                let t = p.target(&format!("{id}-{arch}")).unwrap();
                let want = match (profile.family, info.elf_machine.as_str()) {
                    (Format::Deb, "x86_64") => "/usr/lib/x86_64-linux-gnu/kea/hooks",
                    (Format::Deb, "aarch64") => "/usr/lib/aarch64-linux-gnu/kea/hooks",
                    (Format::Rpm, _) => "/usr/lib64/kea/hooks",
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(t.hooks_dir(), want, "{id}-{arch}");
            }
            assert_eq!(profile.arch.len(), 2, "{id}: amd64/arm64 or x86_64/aarch64");
        }
    }

    #[test]
    fn debian_11_refuses_zstd() {
        let p = Profiles::builtin();
        let err = p.target("debian-11-amd64").unwrap().profile.check_compression(Compression::Zstd).unwrap_err().to_string();
        assert!(err.contains("Debian 11") && err.contains("Zstd"), "{err}");
        p.target("debian-12-amd64").unwrap().profile.check_compression(Compression::Zstd).unwrap();
        p.target("debian-11-amd64").unwrap().profile.check_compression(Compression::Xz).unwrap();
    }

    #[test]
    fn unknown_targets_explain_themselves() {
        let p = Profiles::builtin();
        let e = p.target("slackware-15-amd64").unwrap_err().to_string();
        assert!(e.contains("unknown target") && e.contains("debian-12"), "{e}");
        let e = p.target("debian-12-sparc").unwrap_err().to_string();
        assert!(e.contains("no architecture 'sparc'") && e.contains("amd64"), "{e}");
    }

    #[test]
    fn profiles_know_their_archives_kea() {
        let p = Profiles::builtin();
        let kea = |id: &str| p.target(id).unwrap().profile.kea;
        let v = |s: &str| ArchiveKea::Version(KeaVersion::parse(s).unwrap());
        assert_eq!(kea("debian-11-amd64"), ArchiveKea::None);
        assert_eq!(kea("debian-12-amd64"), v("2.2.0"));
        assert_eq!(kea("debian-13-arm64"), v("2.6.3"));
        assert_eq!(kea("ubuntu-22.04-amd64"), v("2.0.2"));
        assert_eq!(kea("ubuntu-24.04-amd64"), v("2.4.1"));
        for id in ["rhel-8", "rhel-9", "rhel-10", "rocky-9", "alma-10", "fedora-43", "fedora-44"] {
            assert_eq!(kea(&format!("{id}-x86_64")), ArchiveKea::Unknown, "{id}");
        }
    }

    #[test]
    fn runtimes_name_their_socket_directory_and_user() {
        let p = Profiles::builtin();
        for id in p.ids().map(str::to_string).collect::<Vec<_>>() {
            let t = p.target(&format!("{id}-{}", host_arch(p.by_id[&id].family))).unwrap();
            let user = if t.profile.family == Format::Deb { "_kea" } else { "kea" };
            // Debian's Kea is configured with --runstatedir=/run (debhelper); the RPM family's
            // passes none (rpm's %configure, Fedora's %meson): <localstatedir>/run/kea.
            let own = if t.profile.family == Format::Deb { "/run/kea" } else { "/var/run/kea" };
            let d = t.runtime(RuntimeStyle::Distribution).unwrap();
            assert_eq!((d.socket_dir.as_str(), d.user.as_deref()), (own, Some(user)), "{id}");
            let i = t.runtime(RuntimeStyle::Isc).unwrap();
            assert_eq!((i.socket_dir.as_str(), i.user.as_deref()), ("/var/run/kea", Some(user)), "{id}");
        }
    }

    #[test]
    fn debian_family_releases_carry_a_revision_suffix_that_sorts_by_release() {
        let p = Profiles::builtin();
        let tag = |id: &str| p.target(id).unwrap().profile.dist_tag;
        let tags: Vec<String> = ["debian-11-amd64", "debian-12-amd64", "debian-13-amd64"].iter().map(|i| tag(i)).collect();
        assert_eq!(tags, ["+deb11", "+deb12", "+deb13"]);
        assert_eq!(tag("ubuntu-22.04-amd64"), "+ubuntu22.04");
        assert_eq!(tag("ubuntu-24.04-amd64"), "+ubuntu24.04");
        assert_eq!(tag("rhel-9-x86_64"), ".el9");
    }

    #[test]
    fn a_distribution_runtime_needs_the_kea_its_archive_ships() {
        let p = Profiles::builtin();
        let v = |s: &str| KeaVersion::parse(s).unwrap();
        let d12 = p.target("debian-12-amd64").unwrap();
        d12.check_runtime(RuntimeStyle::Distribution, &v("2.2.0")).unwrap();
        // Compared on major.minor.patch: a pre-release tag does not matter.
        d12.check_runtime(RuntimeStyle::Distribution, &v("2.2.0-rc1")).unwrap();
        d12.check_runtime(RuntimeStyle::Isc, &v("2.6.5")).unwrap();
        let e = d12.check_runtime(RuntimeStyle::Distribution, &v("2.6.5")).unwrap_err().to_string();
        for want in ["target debian-12-amd64", "which is Kea 2.2.0", "built from Kea 2.6.5", "--runtime isc", "kea-2.2.0.tar.gz"] {
            assert!(e.contains(want), "{want:?} missing: {e}");
        }
        let e = p.target("debian-11-amd64").unwrap().check_runtime(RuntimeStyle::Distribution, &v("2.2.0")).unwrap_err().to_string();
        assert!(e.contains("target debian-11-amd64") && e.contains("ships no Kea") && e.contains("--runtime isc"), "{e}");
        p.target("debian-11-amd64").unwrap().check_runtime(RuntimeStyle::Isc, &v("2.2.0")).unwrap();
        p.target("rhel-9-x86_64").unwrap().check_runtime(RuntimeStyle::Distribution, &v("2.6.5")).unwrap();
        let e = p.target("debian-13-amd64").unwrap().check_runtime(RuntimeStyle::Distribution, &v("2.6.2")).unwrap_err().to_string();
        assert!(e.contains("which is Kea 2.6.3"), "{e}");
    }

    #[test]
    fn profile_kea_values_parse_or_explain() {
        assert_eq!(ArchiveKea::try_from("none".to_string()).unwrap(), ArchiveKea::None);
        assert_eq!(ArchiveKea::try_from("unknown".to_string()).unwrap(), ArchiveKea::Unknown);
        let e = ArchiveKea::try_from("bookworm".to_string()).unwrap_err();
        assert!(e.contains("not a Kea version"), "{e}");
    }
}

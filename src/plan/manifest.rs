//! The manifest (`keapack.toml`): what a release engineer decides once and keeps in version control.

use crate::plan::profile::RuntimeStyle;
use crate::plan::relation;
use crate::plan::spec::{Compression, Format, Relation};
use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer};
use std::path::Path;

/// The example manifest shipped in `packaging/`, used by `keapack demo`.
pub(crate) const EXAMPLE: &str = include_str!("../../packaging/example-manifest.toml");

/// The maintainer (deb `Maintainer`, rpm `Packager`, changelog author) of every package whose
/// manifest names none: `build` without a manifest and `demo` alike.
pub(crate) const DEFAULT_MAINTAINER: &str = "Kea Packager <kea-packager@example.org>";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Targets such as `debian-12-amd64`, `rhel-9-x86_64`.
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub package: PackageSection,
    #[serde(default)]
    pub build: BuildSection,
    /// Load verification's values for the hooks' mandatory parameters (`[verify.parameters]`);
    /// `build.verify-load` turns it on.
    #[serde(default)]
    pub verify: VerifySection,
    /// Extra distribution profiles, same keys as `packaging/profiles/*.toml` (and `extends`),
    /// by id: resolved as those are, over their family defaults, by [`Manifest::add_profiles`].
    #[serde(default)]
    pub profile: std::collections::BTreeMap<String, toml::Table>,
    /// Where the manifest was read from, for the errors of its profiles.
    #[serde(skip)]
    pub origin: String,
}

/// The name prefix of Kea's own packages (`runtime = "own"`) when the manifest names none: it
/// collides with neither Debian's `kea-*` nor ISC's `isc-kea-*` packages.
pub const DEFAULT_RUNTIME_PREFIX: &str = "keapack-kea";

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PackageSection {
    pub name: String,
    /// Debian revision / rpm release (the dist tag is added per profile).
    pub revision: String,
    pub maintainer: String,
    pub homepage: String,
    pub license: String,
    /// The license's terms as they go into the copyright file.
    pub license_text: String,
    pub section: String,
    /// Which Kea packages to depend on: the distribution's (`distribution`), ISC's (`isc`), or
    /// Kea's own packages written by the same run from the same full build (`own`).
    pub runtime: RuntimeStyle,
    /// With `runtime = "own"`: the name prefix of Kea's packages (`<prefix>-common`,
    /// `<prefix>-dhcp4`, …). Default [`DEFAULT_RUNTIME_PREFIX`]; `isc-kea` takes ISC's names.
    pub runtime_prefix: Option<String>,
    /// With `runtime = "own"`: also write the development package (headers, link libraries).
    pub runtime_dev: bool,
    /// Also package the open-source hooks the build installed.
    pub include_open_hooks: bool,
    /// Override the profile's payload compression.
    pub compression: Option<Compression>,
    /// One package for all hooks (`bundle`) or one per hook (`per-hook`).
    pub split: Split,
    /// Name prefix of per-hook packages; default ISC's: `isc-kea-premium` (Kea 2.x),
    /// `isc-kea-subscriber` (Kea 3.x).
    pub per_hook_prefix: Option<String>,
    /// With `per-hook`: also write a meta package, named `name`, depending on all of them.
    pub meta: bool,
    /// Relations declared by hand, per package family, added to those read from the binaries.
    pub depends: DeclaredDepends,
    /// The changelog source (TOML, see `plan::changelog`), relative to the manifest's directory.
    pub changelog: Option<String>,
    /// The changelog source's entries, newest first: read by [`Manifest::load`].
    #[serde(skip)]
    pub changelog_entries: Vec<crate::plan::changelog::SourceEntry>,
}

/// How the hooks are divided into packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// One package holding every hook.
    #[default]
    Bundle,
    /// One package per hook, named like ISC's.
    PerHook,
}

impl std::str::FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bundle" => Ok(Split::Bundle),
            "per-hook" => Ok(Split::PerHook),
            _ => Err(format!("'{s}' is not a split: use bundle or per-hook")),
        }
    }
}

/// `[package.depends]`: `deb = ["libssl3 (>= 3.0.0)"]`, `rpm = ["openssl-libs >= 3.0"]`. Each
/// entry is parsed when the manifest is read. They are what a `.deb` built on a host that is not
/// Debian-family depends on besides the Kea pin (keapack cannot read Debian shlibs there).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredDepends {
    #[serde(default, deserialize_with = "deb_relations")]
    pub deb: Vec<Relation>,
    #[serde(default, deserialize_with = "rpm_relations")]
    pub rpm: Vec<Relation>,
}

/// Written back as the strings a manifest holds (for the build record).
impl serde::Serialize for DeclaredDepends {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("DeclaredDepends", 2)?;
        st.serialize_field("deb", &self.deb.iter().map(relation::deb_string).collect::<Vec<_>>())?;
        st.serialize_field("rpm", &self.rpm.iter().map(relation::rpm_string).collect::<Vec<_>>())?;
        st.end()
    }
}

impl DeclaredDepends {
    pub(crate) fn for_format(&self, format: Format) -> &[Relation] {
        match format {
            Format::Deb => &self.deb,
            Format::Rpm => &self.rpm,
        }
    }
}

fn deb_relations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Relation>, D::Error> {
    Vec::<String>::deserialize(d)?.iter().map(|s| relation::parse_deb(s).map_err(serde::de::Error::custom)).collect()
}

fn rpm_relations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Relation>, D::Error> {
    Vec::<String>::deserialize(d)?.iter().map(|s| relation::parse_rpm(s).map_err(serde::de::Error::custom)).collect()
}

impl PackageSection {
    /// A warning when a key of Kea's own packages is set but the runtime is another one (a
    /// manifest for `runtime = "own"` built once with `--runtime isc`, say): it has no effect.
    pub fn unused_runtime_keys(&self) -> Option<String> {
        let keys: Vec<&str> = [("runtime-prefix", self.runtime_prefix.is_some()), ("runtime-dev", self.runtime_dev)].into_iter().filter(|(_, set)| *set).map(|(k, _)| k).collect();
        (self.runtime != RuntimeStyle::Own && !keys.is_empty()).then(|| {
            let (verb, it) = if keys.len() > 1 { ("apply", "they have") } else { ("applies", "it has") };
            format!("package.{} {verb} only to runtime \"own\" (Kea's own packages); this run's runtime is \"{}\", so {it} no effect", keys.join(" and package."), self.runtime.name())
        })
    }

    /// The name prefix of Kea's own packages of this run.
    pub fn runtime_prefix(&self) -> &str {
        self.runtime_prefix.as_deref().unwrap_or(DEFAULT_RUNTIME_PREFIX)
    }
}

impl Default for PackageSection {
    fn default() -> Self {
        PackageSection {
            name: "kea-premium-hooks".into(),
            revision: "1".into(),
            maintainer: DEFAULT_MAINTAINER.into(),
            homepage: "https://www.isc.org/kea/".into(),
            license: "LicenseRef-ISC-Premium".into(),
            license_text: " The premium and subscriber hook libraries are licensed by Internet Systems\n Consortium under the terms of the agreement under which they were obtained.\n They may not be redistributed outside the licensee's organisation.".into(),
            section: "net".into(),
            runtime: RuntimeStyle::Distribution,
            runtime_prefix: None,
            runtime_dev: false,
            include_open_hooks: false,
            compression: None,
            split: Split::Bundle,
            per_hook_prefix: None,
            meta: false,
            depends: DeclaredDepends::default(),
            changelog: None,
            changelog_entries: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildSection {
    /// Extra configure options for an autotools Kea, the same as the Kea in production was built with.
    #[serde(default)]
    pub configure_options: Vec<String>,
    /// Extra `meson setup` options for a meson Kea (`-Dmysql=enabled`), likewise.
    #[serde(default)]
    pub meson_options: Vec<String>,
    /// The build system for a Kea tree that has both (2.7.7–2.7.9); default meson.
    pub build_system: Option<crate::source::BuildSystem>,
    /// Parallel make jobs (default: the number of CPUs).
    pub jobs: Option<usize>,
    /// The Debian-family mirror build roots are made from (default: the host's own Debian
    /// mirror for Debian releases, Ubuntu's archive for Ubuntu).
    pub mirror: Option<String>,
    /// Packages installed in build roots besides the build prerequisites (the `-dev` packages
    /// your configure options need, e.g. `default-libmysqlclient-dev` for `--with-mysql`).
    #[serde(default)]
    pub root_packages: Vec<String>,
    /// Build all of Kea, not only what the hooks need (as `--full-build`).
    #[serde(default)]
    pub full: bool,
    /// Verify each target's packages in a root of its release, loaded by the Kea they are for,
    /// before anything is published (as `--verify-load`).
    #[serde(default)]
    pub verify_load: bool,
}

/// `[verify]`: what load verification (`build.verify-load`, `--verify-load`, `keapack
/// verify`) starts Kea with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VerifySection {
    /// Values for hooks' mandatory parameters, by hook name (`[verify.parameters.flex_id]
    /// identifier-expression = "pkt4.mac"`): what Kea is started with instead of the hooks
    /// catalog's example values, e.g. the ones production uses.
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, toml::Table>,
}

impl Manifest {
    /// Read a manifest file and the changelog source it names (relative to its directory).
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the manifest {}", path.display()))?;
        let mut m = Manifest::parse(&text, &path.display().to_string())?;
        if let Some(name) = &m.package.changelog {
            // Opened beneath the manifest's directory: `..` or a link pointing out is refused.
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let file = dir.join(name);
            let text = crate::support::beneath::read_to_string(dir, name)
                .map_err(|e| anyhow::anyhow!("{}: cannot read package.changelog {}: {e}", path.display(), file.display()))?;
            m.package.changelog_entries = crate::plan::changelog::parse_source(&text, &file.display().to_string())?;
        }
        Ok(m)
    }

    /// Parse manifest text; errors name the origin, line, column and key. Reads no other file:
    /// the changelog source is read by [`Manifest::load`].
    pub fn parse(text: &str, origin: &str) -> Result<Manifest> {
        crate::plan::values::check_text(text, origin, crate::plan::values::FileKind::Manifest)?;
        let mut m: Manifest = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        m.origin = origin.to_string();
        check_package(&m.package).map_err(|why| anyhow::anyhow!("{origin}: {why}"))?;
        // Its profiles are refused here, not first when a target is resolved.
        m.add_profiles(&mut crate::plan::profile::Profiles::builtin())?;
        Ok(m)
    }
}

impl Manifest {
    /// Add the manifest's own profiles to `profiles` (replacing built-in ones of the same id),
    /// each resolved as a built-in one is: over the profile it extends and its family defaults.
    pub(crate) fn add_profiles(&self, profiles: &mut crate::plan::profile::Profiles) -> Result<()> {
        let origin = if self.origin.is_empty() { "the manifest" } else { self.origin.as_str() };
        let entries = self.profile.iter().map(|(id, table)| (id.clone(), table.clone(), format!("[profile.{id}] of {origin}"))).collect();
        profiles.add_tables(entries)
    }
}

/// The rules every package section obeys, whether it comes from a manifest file or has
/// command-line overrides applied: the reason it is refused, naming the key.
pub(crate) fn check_package(p: &PackageSection) -> Result<(), String> {
    if !valid_name(&p.name) {
        return Err(format!("package.name '{}' is not a valid package name (lowercase letters, digits, + - .)", p.name));
    }
    if let Some(prefix) = &p.per_hook_prefix
        && !valid_name(prefix)
    {
        return Err(format!("package.per-hook-prefix '{prefix}' is not a valid start of a package name (lowercase letters, digits, + - .)"));
    }
    if let Some(prefix) = &p.runtime_prefix
        && !valid_name(&format!("{prefix}-dhcp-ddns"))
    {
        return Err(format!("package.runtime-prefix '{prefix}' is not a valid start of a package name (lowercase letters, digits, + - .; e.g. keapack-kea or isc-kea)"));
    }
    check_revision(&p.revision).map_err(|why| format!("package.revision '{}' {why}", p.revision))?;
    for (key, value) in [("maintainer", &p.maintainer), ("homepage", &p.homepage), ("license", &p.license), ("section", &p.section)] {
        if value.chars().any(char::is_control) {
            return Err(format!("package.{key} must be one line without control characters"));
        }
    }
    Ok(())
}

/// A Debian revision that is also a valid rpm release: letters, digits, `+ . ~`, not empty.
pub(crate) fn check_revision(revision: &str) -> Result<(), &'static str> {
    if revision.is_empty() || !revision.chars().all(|c| c.is_ascii_alphanumeric() || "+.~".contains(c)) {
        return Err("must be letters, digits, + . ~ (e.g. 1)");
    }
    Ok(())
}

/// Debian's package name rule, which rpm accepts too.
pub(crate) fn valid_name(name: &str) -> bool {
    crate::plan::values::debian_package_name(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_manifest_parses() {
        let m = Manifest::parse(EXAMPLE, "example").unwrap();
        assert!(!m.targets.is_empty());
        assert!(valid_name(&m.package.name));
    }

    #[test]
    fn unknown_keys_are_rejected_with_line_and_key() {
        let err = Manifest::parse("[package]\nname = \"x-hooks\"\nrevison = \"2\"\n", "keapack.toml").unwrap_err().to_string();
        assert!(err.contains("keapack.toml") && err.contains("revison") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn a_manifest_can_add_a_profile() {
        let m = Manifest::parse(
            r#"targets = ["acme-linux-5-amd64"]
[profile.acme-linux-5]
name = "Acme Linux 5"
family = "deb"
os-id = "acme"
os-version-id = "5"
compression = "gzip"
[profile.acme-linux-5.runtime.distribution]
common = "acme-kea-libs"
services = { dhcp4 = "acme-kea-dhcp4" }
[profile.acme-linux-5.arch.amd64]
elf-machine = "x86_64"
libdir = "/usr/lib/acme64"
"#,
            "m.toml",
        )
        .unwrap();
        let mut profiles = crate::plan::profile::Profiles::builtin();
        m.add_profiles(&mut profiles).unwrap();
        let t = profiles.target("acme-linux-5-amd64").unwrap();
        assert_eq!(t.hooks_dir(), "/usr/lib/acme64/kea/hooks");
        assert_eq!(t.runtime(crate::plan::profile::RuntimeStyle::Distribution).unwrap().common, "acme-kea-libs");
    }

    /// A Debian-family release of an os-id keapack has no code for, named in TOML alone: its
    /// build root, build prerequisites and targets come from the family file and its keys.
    #[test]
    fn a_new_debian_family_os_id_is_data_only() {
        let m = Manifest::parse(
            r#"targets = ["devuan-5-amd64"]
[profile.devuan-5]
name = "Devuan 5 (daedalus)"
family = "deb"
os-id = "devuan"
os-version-id = "5"
codename = "daedalus"
kea = "2.2.0"
dist-tag = "+devuan5"
[profile.devuan-5.build-root]
mirror = "http://deb.devuan.org/merged"
keyring = "/usr/share/keyrings/devuan-archive-keyring.gpg"
components = ["main", "contrib"]
[profile.devuan-5.build-deps]
example = ["kea-dev", "libboost-dev", "libssl-dev"]
"#,
            "m.toml",
        )
        .unwrap();
        let mut profiles = crate::plan::profile::Profiles::builtin();
        m.add_profiles(&mut profiles).unwrap();
        // Resolution: the family's architectures, runtimes and compression.
        let t = profiles.target("devuan-5-amd64").unwrap();
        assert_eq!(t.hooks_dir(), "/usr/lib/x86_64-linux-gnu/kea/hooks");
        assert_eq!(profiles.target("devuan-5-arm64").unwrap().arch_info.elf_machine, "aarch64");
        assert_eq!(t.profile.compression, Compression::Xz);
        assert_eq!(t.runtime(RuntimeStyle::Distribution).unwrap().common, "kea-common");
        assert_eq!(t.runtime(RuntimeStyle::Isc).unwrap().user.as_deref(), Some("_kea"));
        assert_eq!(profiles.family_of(&["devuan"]), Some(Format::Deb));
        // Build prerequisites: the family's tools, the profile's own example list.
        use crate::build::deps::DepSet;
        let debian = profiles.target("debian-12-amd64").unwrap().profile.build_deps;
        assert_eq!(t.profile.build_deps.packages(DepSet::Kea), debian.packages(DepSet::Kea));
        assert_eq!(&t.profile.build_deps.packages(DepSet::Example)[debian.tools.len()..], ["kea-dev", "libboost-dev", "libssl-dev"]);
        // The build root: debootstrap from its mirror with its keyring, the family's suites.
        let root = t.root_spec(None, vec!["g++".into()]).unwrap().expect("a Debian-family release has a build root");
        assert_eq!((root.os_id.as_str(), root.codename.as_str(), root.mirror.as_str()), ("devuan", "daedalus", "http://deb.devuan.org/merged"));
        assert_eq!(root.recipe.keyring.as_deref(), Some("/usr/share/keyrings/devuan-archive-keyring.gpg"));
        assert_eq!(
            root.sources(),
            "deb http://deb.devuan.org/merged daedalus main contrib\n\
             deb http://deb.devuan.org/merged daedalus-updates main contrib\n\
             deb http://deb.devuan.org/merged daedalus-security main contrib\n"
        );
        assert!(root.key().starts_with("daedalus-amd64-"), "{}", root.key());
        // The same release without a mirror is refused when its root is asked for, naming the fix.
        let bare = Manifest::parse(
            "[profile.devuan-5]\nname = \"Devuan 5\"\nfamily = \"deb\"\nos-id = \"devuan\"\nos-version-id = \"5\"\ncodename = \"daedalus\"\n",
            "m.toml",
        )
        .unwrap();
        let mut profiles = crate::plan::profile::Profiles::builtin();
        bare.add_profiles(&mut profiles).unwrap();
        let e = profiles.target("devuan-5-amd64").unwrap().root_spec(None, vec![]).unwrap_err().to_string();
        assert!(e.contains("profile devuan-5") && e.contains("mirror") && e.contains("[build-root]"), "{e}");
    }

    #[test]
    fn a_manifest_profile_extends_a_built_in_one_or_its_own() {
        let m = Manifest::parse(
            r#"[profile.site-12]
extends = "debian-12"
name = "Debian 12, site repository"
dist-tag = ""
[profile.site-12-isc]
extends = "site-12"
name = "Debian 12, site repository, ISC's Kea"
[profile.site-12-isc.runtime.isc]
user = "kea"
[profile.debian-13]
extends = "debian-13"
container-image = "registry.example/debian:trixie"
"#,
            "m.toml",
        )
        .unwrap();
        let mut profiles = crate::plan::profile::Profiles::builtin();
        m.add_profiles(&mut profiles).unwrap();
        let site = profiles.target("site-12-amd64").unwrap().profile;
        let debian = profiles.target("debian-12-amd64").unwrap().profile;
        assert_eq!((site.codename.as_deref(), &site.kea, site.dist_tag.as_str()), (Some("bookworm"), &debian.kea, ""));
        let isc = profiles.target("site-12-isc-amd64").unwrap();
        assert_eq!(isc.profile.dist_tag, "", "extends a manifest profile added in the same run");
        let runtime = isc.runtime(RuntimeStyle::Isc).unwrap();
        assert_eq!((runtime.user.as_deref(), runtime.common.as_str()), (Some("kea"), "isc-kea-common"));
        // A profile extending its own id extends the built-in one it replaces.
        let d13 = profiles.target("debian-13-amd64").unwrap().profile;
        assert_eq!((d13.container_image.as_deref(), d13.codename.as_deref()), (Some("registry.example/debian:trixie"), Some("trixie")));
    }

    #[test]
    fn a_bad_manifest_profile_is_refused_when_the_manifest_is_read() {
        let base = "[profile.x]\nname = \"X\"\nfamily = \"deb\"\nos-id = \"x\"\nos-version-id = \"1\"\n";
        let err = |text: &str| format!("{:#}", Manifest::parse(text, "m.toml").unwrap_err());
        let e = err(&format!("{base}colour = \"red\"\n"));
        assert!(e.contains("[profile.x] of m.toml") && e.contains("unknown field `colour`"), "{e}");
        let e = err(&format!("{base}[profile.x.arch.amd64]\nlibdir = 5\n"));
        assert!(e.contains("[profile.x] of m.toml") && e.contains("arch.amd64.libdir"), "{e}");
        let e = err(&format!("{base}[profile.x.build-root]\nbootstrap = \"mmdebstrap\"\n"));
        assert!(e.contains("build-root.bootstrap") && e.contains("debootstrap"), "{e}");
        let e = err("[profile.x]\nextends = \"y\"\n[profile.y]\nextends = \"x\"\n");
        assert!(e.contains("in a circle") && e.contains("[profile.x] of m.toml") && e.contains("[profile.y] of m.toml"), "{e}");
        let e = err("[profile.x]\nextends = \"debian-99\"\n");
        assert!(e.contains("\"debian-99\", which is no profile") && e.contains("debian-12"), "{e}");
    }

    #[test]
    fn declared_relations_are_parsed_per_family() {
        let m = Manifest::parse("[package.depends]\ndeb = [\"libssl3 (>= 3.0.0)\"]\nrpm = [\"openssl-libs >= 3.0\"]\n", "m.toml").unwrap();
        assert_eq!(relation::deb_string(&m.package.depends.for_format(Format::Deb)[0]), "libssl3 (>= 3.0.0)");
        assert_eq!(m.package.depends.for_format(Format::Rpm)[0].name, "openssl-libs");
        let err = Manifest::parse("[package.depends]\ndeb = [\"libssl3 | libssl1.1\"]\n", "m.toml").unwrap_err().to_string();
        assert!(err.contains("m.toml") && err.contains("no | alternatives") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn meson_options_and_build_system() {
        let m = Manifest::parse("[build]\nmeson-options = [\"-Dmysql=enabled\"]\nbuild-system = \"autotools\"\n", "m.toml").unwrap();
        assert_eq!(m.build.meson_options, ["-Dmysql=enabled"]);
        assert_eq!(m.build.build_system, Some(crate::source::BuildSystem::Autotools));
        assert_eq!(Manifest::parse("", "m.toml").unwrap().build.build_system, None);
        let err = Manifest::parse("[build]\nbuild-system = \"cmake\"\n", "m.toml").unwrap_err().to_string();
        assert!(err.contains("cmake") && err.contains("autotools") && err.contains("meson"), "{err}");
    }

    #[test]
    fn a_bad_per_hook_prefix_is_rejected() {
        let err = Manifest::parse("[package]\nsplit = \"per-hook\"\nper-hook-prefix = \"ISC_Kea\"\n", "m.toml").unwrap_err().to_string();
        assert!(err.contains("m.toml: line 3: package.per-hook-prefix = \"ISC_Kea\" is refused") && err.contains("Debian package name"), "{err}");
        Manifest::parse("[package]\nper-hook-prefix = \"acme-kea\"\n", "m.toml").unwrap();
    }

    #[test]
    fn the_changelog_source_is_read_beside_the_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = tmp.path().join("keapack.toml");
        std::fs::write(&manifest, "[package]\nchangelog = \"history/changelog.toml\"\n").unwrap();
        let err = format!("{:#}", Manifest::load(&manifest).unwrap_err());
        assert!(err.contains("keapack.toml") && err.contains("cannot read package.changelog") && err.contains("history/changelog.toml"), "{err}");
        std::fs::create_dir(tmp.path().join("history")).unwrap();
        std::fs::write(tmp.path().join("history/changelog.toml"), "[[entry]]\nversion = \"2.6.5-1\"\ndate = 2025-01-02\ntext = \"first\"\n").unwrap();
        let m = Manifest::load(&manifest).unwrap();
        assert_eq!(m.package.changelog.as_deref(), Some("history/changelog.toml"));
        assert_eq!(m.package.changelog_entries.len(), 1);
        assert_eq!(m.package.changelog_entries[0].version, "2.6.5-1");
        // Parsing alone reads no file.
        assert!(Manifest::parse("[package]\nchangelog = \"nonexistent.toml\"\n", "m.toml").unwrap().package.changelog_entries.is_empty());
        // A file outside the manifest's tree is refused when parsed, by its name ...
        for outside in ["/etc/shadow", "../../../../../../etc/shadow", "a/../../x.toml"] {
            let err = Manifest::parse(&format!("[package]\nchangelog = \"{outside}\"\n"), "m.toml").unwrap_err().to_string();
            assert!(err.contains("m.toml: line 2: package.changelog") && err.contains("in the manifest's directory or below it"), "{err}");
        }
        // ... or when read, through a link pointing out, without a word of the file's content.
        std::fs::write(tmp.path().join("secret"), "root:*:20228:0:99999:7:::\n").unwrap();
        std::fs::create_dir(tmp.path().join("m")).unwrap();
        std::os::unix::fs::symlink("../secret", tmp.path().join("m/changelog.toml")).unwrap();
        std::fs::write(tmp.path().join("m/keapack.toml"), "[package]\nchangelog = \"changelog.toml\"\n").unwrap();
        let err = format!("{:#}", Manifest::load(&tmp.path().join("m/keapack.toml")).unwrap_err());
        assert!(err.contains("cannot read package.changelog") && err.contains("leaves") && !err.contains("root:") && !err.contains("20228"), "{err}");
        // A file in the tree that is not TOML: the line and column, not the line's text.
        std::fs::remove_file(tmp.path().join("m/changelog.toml")).unwrap();
        std::fs::write(tmp.path().join("m/changelog.toml"), "root:*:20228:0:99999:7:::\n").unwrap();
        let err = format!("{:#}", Manifest::load(&tmp.path().join("m/keapack.toml")).unwrap_err());
        assert!(err.contains("changelog.toml: line 1, column") && !err.contains("root:") && !err.contains("20228"), "{err}");
        // One default maintainer: the example manifest (demo) leaves it to the default (build).
        assert_eq!(Manifest::parse(EXAMPLE, "example").unwrap().package.maintainer, PackageSection::default().maintainer);
        assert_eq!(PackageSection::default().maintainer, DEFAULT_MAINTAINER);
    }

    #[test]
    fn bad_names_are_rejected() {
        let err = Manifest::parse("[package]\nname = \"Kea_Hooks\"\n", "m.toml").unwrap_err().to_string();
        assert!(err.contains("line 2: package.name = \"Kea_Hooks\" is refused: it must be a Debian package name"), "{err}");
    }
}

//! Family defaults (`packaging/families/deb.toml`, `rpm.toml`) and how a profile's TOML is
//! resolved before it is read as a [`Profile`](crate::plan::profile::Profile), so that what every
//! release of a family shares is written once and a new release, or a new Debian-family os-id,
//! is data only.
//!
//! The rule (also at the top of each family file and in docs/guide/targets.md):
//! a profile that says `extends = "<id>"` is laid over that profile (already resolved the same
//! way, without its family defaults); the result is laid over its family's `[defaults]`, with
//! the family's `[os.<os-id>]` laid over those first. Its architectures are those it names
//! under `[arch.*]`, or all of the family's when it names none, each laid over the family's
//! entry of that name. "Laid over" is [`deep_merge`]: tables merge key by key, any other value
//! replaces the one beneath it.

use crate::build::deps::BuildDeps;
use crate::support::format::Format;
use anyhow::{Context, Result, bail};
use include_dir::{Dir, include_dir};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use toml::{Table, Value};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/packaging/families");

/// One family file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FamilyFile {
    host_ids: Vec<String>,
    package_manager: String,
    defaults: Table,
    #[serde(default)]
    os: BTreeMap<String, Table>,
    #[serde(default)]
    arch: BTreeMap<String, Table>,
}

/// A package family's defaults and facts.
#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub format: Format,
    /// `/etc/os-release` `ID`/`ID_LIKE` words of a host of this family.
    pub host_ids: Vec<String>,
    /// The package manager that installs build prerequisites on such a host (`apt-get`, `dnf`).
    pub package_manager: String,
    /// The build prerequisites of the family's `[defaults]`.
    pub build_deps: BuildDeps,
    defaults: Table,
    os: BTreeMap<String, Table>,
    arch: BTreeMap<String, Table>,
}

/// Every family keapack knows, in format order (deb, rpm).
#[derive(Debug, Clone)]
pub(crate) struct Families {
    by_format: BTreeMap<Format, Family>,
}

impl Families {
    /// The built-in family files, read once.
    pub fn builtin() -> &'static Families {
        static FAMILIES: OnceLock<Families> = OnceLock::new();
        FAMILIES.get_or_init(|| {
            let files = BUILTIN.files().map(|f| (f.path().display().to_string(), f.contents_utf8().unwrap_or("")));
            Families::parse(files).expect("the built-in family files are valid")
        })
    }

    /// Families from `(file name, text)` pairs; a file is named after its format (`deb.toml`).
    fn parse<'a>(files: impl Iterator<Item = (String, &'a str)>) -> Result<Families> {
        let mut by_format = BTreeMap::new();
        for (name, text) in files {
            let origin = format!("packaging/families/{name}");
            let stem = name.strip_suffix(".toml").with_context(|| format!("{origin}: a family file is named <format>.toml"))?;
            let format = Format::deserialize(Value::String(stem.to_string())).with_context(|| format!("{origin}: a family file is named deb.toml or rpm.toml"))?;
            let file: FamilyFile = toml::from_str(text).with_context(|| format!("invalid family file {origin}"))?;
            let build_deps = match file.defaults.get("build-deps") {
                Some(v) => BuildDeps::deserialize(v.clone()).with_context(|| format!("invalid [defaults.build-deps] in {origin}"))?,
                None => BuildDeps::default(),
            };
            let family = Family { format, host_ids: file.host_ids, package_manager: file.package_manager, build_deps, defaults: file.defaults, os: file.os, arch: file.arch };
            by_format.insert(format, family);
        }
        Ok(Families { by_format })
    }

    pub fn get(&self, format: Format) -> Option<&Family> {
        self.by_format.get(&format)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Family> {
        self.by_format.values()
    }

    /// Each family's package manager with its build prerequisites, deb first: what
    /// `--install-deps` chooses from by the manager the host has.
    pub(crate) fn package_managers(&self) -> Vec<(String, BuildDeps)> {
        self.iter().map(|f| (f.package_manager.clone(), f.build_deps.clone())).collect()
    }

    /// `profile` (its `extends` already applied) laid over its family's defaults. A profile
    /// without a known `family` is returned as it is, for the profile parser to refuse.
    pub fn apply(&self, profile: Table) -> Table {
        let Some(family) = profile.get("family").and_then(Value::as_str).and_then(|f| Format::deserialize(Value::String(f.to_string())).ok()).and_then(|f| self.get(f)) else {
            return profile;
        };
        let mut resolved = family.defaults.clone();
        if let Some(os) = profile.get("os-id").and_then(Value::as_str).and_then(|o| family.os.get(o)) {
            deep_merge(&mut resolved, os.clone());
        }
        let arch = match profile.get("arch") {
            Some(Value::Table(named)) if !named.is_empty() => Some(
                named
                    .iter()
                    .map(|(name, own)| {
                        let mut entry = family.arch.get(name).cloned().unwrap_or_default();
                        match own {
                            Value::Table(own) => {
                                deep_merge(&mut entry, own.clone());
                                (name.clone(), Value::Table(entry))
                            }
                            // Not a table: left for the profile parser to refuse.
                            other => (name.clone(), other.clone()),
                        }
                    })
                    .collect::<Table>(),
            ),
            Some(Value::Table(_)) | None => Some(family.arch.iter().map(|(k, v)| (k.clone(), Value::Table(v.clone()))).collect()),
            Some(_) => None,
        };
        deep_merge(&mut resolved, profile);
        if let Some(arch) = arch {
            resolved.insert("arch".into(), Value::Table(arch));
        }
        resolved
    }
}

/// Lay `over` on `base`: a table in both is merged key by key; any other value of `over`
/// (a string, number, boolean, array, or a table over a non-table) replaces `base`'s.
pub(crate) fn deep_merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(b)), Value::Table(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// `own` laid over the profile it `extends` (looked up in `resolved`, whose tables have their
/// own `extends` applied already); `own` itself when it extends none.
pub(crate) fn extend(own: &Table, resolved: &BTreeMap<String, Table>, origin: &str) -> Result<Table> {
    let mut own = own.clone();
    let Some(extends) = own.remove("extends") else {
        return Ok(own);
    };
    let Some(name) = extends.as_str() else {
        bail!("profile {origin}: extends = {extends} is not a profile id: give one as a string, e.g. extends = \"rhel-9\"");
    };
    let Some(base) = resolved.get(name) else {
        bail!(
            "profile {origin}: extends = \"{name}\", which is no profile; extend one of {}",
            resolved.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
        );
    };
    let mut merged = base.clone();
    deep_merge(&mut merged, own);
    Ok(merged)
}

/// The profile `extends` names, if any.
pub(crate) fn extends_of(table: &Table) -> Option<&str> {
    table.get("extends").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_deep_merge_merges_tables_and_replaces_everything_else() {
        let mut base = table("a = 1\nlist = [1, 2]\n[t]\nx = \"base\"\ny = \"base\"\n[t.inner]\nz = 1\n");
        deep_merge(&mut base, table("list = [3]\n[t]\ny = \"over\"\n[t.inner]\nw = 2\n"));
        assert_eq!(base, table("a = 1\nlist = [3]\n[t]\nx = \"base\"\ny = \"over\"\n[t.inner]\nz = 1\nw = 2\n"));
    }

    #[test]
    fn the_family_files_are_whole() {
        let f = Families::builtin();
        let deb = f.get(Format::Deb).unwrap();
        let rpm = f.get(Format::Rpm).unwrap();
        assert_eq!((deb.package_manager.as_str(), rpm.package_manager.as_str()), ("apt-get", "dnf"));
        assert_eq!(f.package_managers().iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(), ["apt-get", "dnf"]);
        assert!(deb.build_deps.tools.iter().any(|p| p == "g++") && rpm.build_deps.tools.iter().any(|p| p == "gcc-c++"));
        assert_eq!(deb.arch.keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
        assert_eq!(rpm.arch.keys().collect::<Vec<_>>(), ["aarch64", "x86_64"]);
        // Only the Debian family makes build roots.
        assert!(deb.defaults.contains_key("build-root") && !rpm.defaults.contains_key("build-root"));
    }

    #[test]
    fn a_profile_has_the_architectures_it_names_or_all_of_its_family() {
        let f = Families::builtin();
        let all = f.apply(table("family = \"deb\"\n"));
        assert_eq!(all["arch"].as_table().unwrap().keys().collect::<Vec<_>>(), ["amd64", "arm64"]);
        let one = f.apply(table("family = \"deb\"\n[arch.amd64]\nlibdir = \"/usr/lib/acme64\"\n"));
        let arch = one["arch"].as_table().unwrap();
        assert_eq!(arch.keys().collect::<Vec<_>>(), ["amd64"]);
        assert_eq!(arch["amd64"].as_table().unwrap(), &table("elf-machine = \"x86_64\"\nlibdir = \"/usr/lib/acme64\"\n"));
        // An architecture the family does not know keeps only what the profile says.
        let new = f.apply(table("family = \"deb\"\n[arch.riscv64]\nelf-machine = \"riscv64\"\n"));
        assert_eq!(new["arch"]["riscv64"].as_table().unwrap(), &table("elf-machine = \"riscv64\"\n"));
    }

    #[test]
    fn the_os_id_picks_its_defaults_over_the_familys() {
        let f = Families::builtin();
        let ubuntu = f.apply(table("family = \"deb\"\nos-id = \"ubuntu\"\n"));
        assert_eq!(ubuntu["build-root"]["components"].as_array().unwrap().len(), 2);
        assert_eq!(ubuntu["build-root"]["bootstrap"].as_str(), Some("debootstrap"));
        let other = f.apply(table("family = \"deb\"\nos-id = \"devuan\"\n"));
        assert!(other["build-root"].get("mirror").is_none(), "no mirror for an os-id the family file does not know");
        // The profile's own keys come last.
        let own = f.apply(table("family = \"deb\"\nos-id = \"ubuntu\"\n[build-root]\ncomponents = [\"main\"]\n"));
        assert_eq!(own["build-root"]["components"].as_array().unwrap().len(), 1);
        assert_eq!(own["build-root"]["mirror"].as_str(), Some("http://archive.ubuntu.com/ubuntu"));
    }

    #[test]
    fn extends_lays_a_profile_over_another_or_explains() {
        let resolved: BTreeMap<String, Table> = [("base".to_string(), table("name = \"Base\"\nkea = \"none\"\n[runtime.isc]\ncommon = \"c\"\n"))].into();
        let got = extend(&table("extends = \"base\"\nname = \"Child\"\n[runtime.isc]\nuser = \"u\"\n"), &resolved, "child").unwrap();
        assert_eq!(got, table("name = \"Child\"\nkea = \"none\"\n[runtime.isc]\ncommon = \"c\"\nuser = \"u\"\n"));
        let e = extend(&table("extends = \"nope\"\n"), &resolved, "child.toml").unwrap_err().to_string();
        assert!(e.contains("child.toml") && e.contains("\"nope\"") && e.contains("no profile") && e.contains("base"), "{e}");
        let e = extend(&table("extends = 9\n"), &resolved, "child.toml").unwrap_err().to_string();
        assert!(e.contains("not a profile id") && e.contains("as a string"), "{e}");
    }

    #[test]
    fn rocky_and_alma_are_their_rhel_release_under_another_name() {
        let p = crate::plan::profile::Profiles::builtin();
        for n in ["8", "9", "10"] {
            let rhel = p.target(&format!("rhel-{n}-x86_64")).unwrap().profile;
            for (id, os_id) in [("rocky", "rocky"), ("alma", "almalinux")] {
                let mut other = p.target(&format!("{id}-{n}-x86_64")).unwrap().profile;
                assert_eq!(other.os_id, os_id);
                assert_ne!(other.name, rhel.name);
                assert!(other.container_image.as_deref().is_some_and(|i| i.ends_with(&format!(":{n}"))), "{:?}", other.container_image);
                (other.id, other.name, other.os_id, other.container_image) = (rhel.id.clone(), rhel.name.clone(), rhel.os_id.clone(), rhel.container_image.clone());
                assert_eq!(format!("{other:?}"), format!("{rhel:?}"), "{id}-{n}");
            }
        }
    }

    #[test]
    fn debian_family_releases_have_the_build_roots_of_their_os() {
        let p = crate::plan::profile::Profiles::builtin();
        let root = |target: &str, mirror: &str| p.target(target).unwrap().root_spec(Some(mirror.into()), vec![]).unwrap().unwrap();
        assert_eq!(
            root("debian-13-amd64", "http://deb.debian.org/debian").sources(),
            "deb http://deb.debian.org/debian trixie main\ndeb http://deb.debian.org/debian trixie-updates main\ndeb http://deb.debian.org/debian-security trixie-security main\n"
        );
        // Debian's security archive only beside a mirror of Debian's layout.
        assert_eq!(root("debian-11-arm64", "http://mirror.example/pub").sources(), "deb http://mirror.example/pub bullseye main\ndeb http://mirror.example/pub bullseye-updates main\n");
        assert_eq!(
            root("ubuntu-24.04-amd64", "http://archive.ubuntu.com/ubuntu").sources(),
            "deb http://archive.ubuntu.com/ubuntu noble main universe\ndeb http://archive.ubuntu.com/ubuntu noble-updates main universe\ndeb http://archive.ubuntu.com/ubuntu noble-security main universe\n"
        );
        let ubuntu = p.target("ubuntu-22.04-amd64").unwrap().profile.build_root.unwrap();
        assert_eq!(ubuntu.default_mirror().as_deref(), Some("http://archive.ubuntu.com/ubuntu"));
        assert!(p.target("debian-12-amd64").unwrap().profile.build_root.unwrap().default_mirror().is_some_and(|m| m.ends_with("/debian")));
        for id in p.ids() {
            // A profile id alone takes the build host's architecture.
            let t = p.target(id).unwrap();
            assert_eq!(t.profile.build_root.is_some(), t.profile.family == Format::Deb, "{id}: only Debian-family releases have build roots");
            assert!(t.profile.build_deps.packages(crate::build::deps::DepSet::Kea).len() > 8, "{id}: {:?}", t.profile.build_deps);
        }
        assert_eq!(p.target("rhel-9-x86_64").unwrap().root_spec(Some("http://m.example".into()), vec![]).unwrap(), None);
    }

    #[test]
    fn a_hosts_family_comes_from_its_os_release_words() {
        let p = crate::plan::profile::Profiles::builtin();
        assert_eq!(p.family_of(&["debian"]), Some(Format::Deb));
        assert_eq!(p.family_of(&["linuxmint", "ubuntu", "debian"]), Some(Format::Deb));
        assert_eq!(p.family_of(&["rocky", "rhel", "centos", "fedora"]), Some(Format::Rpm));
        assert_eq!(p.family_of(&["centos"]), Some(Format::Rpm));
        assert_eq!(p.family_of(&["slackware"]), None);
        assert_eq!(p.family_of(&[]), None);
    }
}

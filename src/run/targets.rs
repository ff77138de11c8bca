//! `keapack targets`: every target the profiles define (or the ones a manifest or `--target`
//! names), and the build environments that build them — one release on one machine
//! architecture, with the container image of that release. `--json` is the matrix a CI pipeline
//! spreads over its runners: one job per environment, building that environment's targets.

use crate::plan::profile::{ArchiveKea, Profiles, Target};
use anyhow::Result;
use serde::Serialize;

/// The version of the `--json` listing's format.
pub(crate) const LISTING_VERSION: u32 = 1;

/// The listing: targets, then the environments that build them.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Listing {
    pub version: u32,
    pub targets: Vec<TargetEntry>,
    pub environments: Vec<EnvironmentEntry>,
}

/// One target.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct TargetEntry {
    /// `debian-12-amd64`: what `--target` takes.
    pub target: String,
    pub profile: String,
    pub name: String,
    /// The architecture in the family's words (`amd64`, `x86_64`, `arm64`, `aarch64`).
    pub arch: String,
    /// The ELF machine of its hooks: the runner architecture that builds it.
    pub machine: String,
    /// `deb` or `rpm`.
    pub family: String,
    pub os_id: String,
    pub os_version_id: String,
    pub codename: Option<String>,
    pub dist_tag: String,
    /// The Kea the release's archive ships: a version, `none` or `unknown`.
    pub kea: String,
    /// The environment that builds it (a name in `environments`).
    pub environment: String,
}

/// One build environment: a host (runner or container) of one release and one machine.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct EnvironmentEntry {
    /// `debian-12-x86_64`: the release and the machine.
    pub name: String,
    pub os_id: String,
    pub os_version_id: String,
    pub family: String,
    pub machine: String,
    /// The release's container image (`debian:bookworm`), when its profile names one.
    pub container_image: Option<String>,
    /// The targets it builds, space-separated as a shell word list for CI scripts.
    pub targets: String,
    /// The same targets as a list.
    pub target_list: Vec<String>,
}

/// The targets named (all of every profile's architectures when none is named), each once,
/// and their environments in the order first met.
pub(crate) fn listing(profiles: &Profiles, named: &[String]) -> Result<Listing> {
    let targets: Vec<Target> = if named.is_empty() {
        let mut all = Vec::new();
        for id in profiles.ids() {
            let arches: Vec<String> = profiles.target(id)?.profile.arch.keys().cloned().collect();
            for a in arches {
                all.push(profiles.target(&format!("{id}-{a}"))?);
            }
        }
        all
    } else {
        crate::run::request::resolve_targets(profiles, named, &[])?
    };
    let mut entries = Vec::new();
    let mut envs: Vec<EnvironmentEntry> = Vec::new();
    for t in &targets {
        let p = &t.profile;
        let machine = t.arch_info.elf_machine.clone();
        let env_name = format!("{}-{}-{}", p.os_id, p.os_version_id, machine);
        let family = format!("{:?}", p.family).to_lowercase();
        match envs.iter_mut().find(|e| e.name == env_name) {
            Some(e) => {
                e.target_list.push(t.id());
                e.targets = e.target_list.join(" ");
                if e.container_image.is_none() {
                    e.container_image = p.container_image.clone();
                }
            }
            None => envs.push(EnvironmentEntry {
                name: env_name.clone(),
                os_id: p.os_id.clone(),
                os_version_id: p.os_version_id.clone(),
                family: family.clone(),
                machine: machine.clone(),
                container_image: p.container_image.clone(),
                targets: t.id(),
                target_list: vec![t.id()],
            }),
        }
        entries.push(TargetEntry {
            target: t.id(),
            profile: p.id.clone(),
            name: p.name.clone(),
            arch: t.arch.clone(),
            machine,
            family,
            os_id: p.os_id.clone(),
            os_version_id: p.os_version_id.clone(),
            codename: p.codename.clone(),
            dist_tag: p.dist_tag.clone(),
            kea: match &p.kea {
                ArchiveKea::Version(v) => v.to_string(),
                ArchiveKea::None => "none".into(),
                ArchiveKea::Unknown => "unknown".into(),
            },
            environment: env_name,
        });
    }
    Ok(Listing { version: LISTING_VERSION, targets: entries, environments: envs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_architecture_is_listed_once_in_its_release_environment() {
        let profiles = Profiles::builtin();
        let l = listing(&profiles, &[]).unwrap();
        let arches: usize = profiles.ids().map(|id| profiles.target(id).unwrap().profile.arch.len()).sum();
        assert_eq!(l.targets.len(), arches);
        let d12 = l.targets.iter().find(|t| t.target == "debian-12-amd64").unwrap();
        assert_eq!((d12.environment.as_str(), d12.kea.as_str(), d12.family.as_str()), ("debian-12-x86_64", "2.2.0", "deb"));
        let env = l.environments.iter().find(|e| e.name == "debian-12-x86_64").unwrap();
        assert_eq!(env.container_image.as_deref(), Some("debian:bookworm"));
        assert_eq!(env.target_list, ["debian-12-amd64"]);
        // Every target is in exactly one environment, and every environment has an image.
        let mut in_envs: Vec<&String> = l.environments.iter().flat_map(|e| &e.target_list).collect();
        in_envs.sort();
        let mut all: Vec<&String> = l.targets.iter().map(|t| &t.target).collect();
        all.sort();
        assert_eq!(in_envs, all);
        assert!(l.environments.iter().all(|e| e.container_image.is_some()), "{:?}", l.environments);
    }

    #[test]
    fn named_targets_only_and_an_unknown_one_is_refused() {
        let profiles = Profiles::builtin();
        let l = listing(&profiles, &["rhel-9-x86_64".into(), "debian-12-arm64".into(), "rhel-9-x86_64".into()]).unwrap();
        assert_eq!(l.environments.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["rhel-9-x86_64", "debian-12-aarch64"]);
        assert!(listing(&profiles, &["plan9-4-amd64".into()]).unwrap_err().to_string().contains("unknown target"));
    }
}

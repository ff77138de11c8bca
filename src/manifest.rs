//! The manifest (`keapack.toml`): what a release engineer decides once and keeps in version control.

use crate::profile::RuntimeStyle;
use crate::spec::Compression;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

/// The example manifest shipped in `packaging/`, used by `keapack demo`.
pub const EXAMPLE: &str = include_str!("../packaging/example-manifest.toml");

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
}

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
    /// Which Kea packages to depend on: the distribution's (`distribution`) or ISC's (`isc`).
    pub runtime: RuntimeStyle,
    /// Also package the open-source hooks the build installed.
    pub include_open_hooks: bool,
    /// Override the profile's payload compression.
    pub compression: Option<Compression>,
}

impl Default for PackageSection {
    fn default() -> Self {
        PackageSection {
            name: "kea-premium-hooks".into(),
            revision: "1".into(),
            maintainer: "Kea Packager <kea-packager@example.org>".into(),
            homepage: "https://www.isc.org/kea/".into(),
            license: "LicenseRef-ISC-Premium".into(),
            license_text: " The premium and subscriber hook libraries are licensed by Internet Systems\n Consortium under the terms of the agreement under which they were obtained.\n They may not be redistributed outside the licensee's organisation.".into(),
            section: "net".into(),
            runtime: RuntimeStyle::Distribution,
            include_open_hooks: false,
            compression: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BuildSection {
    /// Extra configure options, the same as the Kea in production was built with.
    #[serde(default)]
    pub configure_options: Vec<String>,
    /// Parallel make jobs (default: the number of CPUs).
    pub jobs: Option<usize>,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the manifest {}", path.display()))?;
        Manifest::parse(&text, &path.display().to_string())
    }

    /// Parse manifest text; errors name the origin, line, column and key.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest> {
        let m: Manifest = toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        anyhow::ensure!(valid_name(&m.package.name), "{origin}: package.name '{}' is not a valid package name (lowercase letters, digits, + - .)", m.package.name);
        anyhow::ensure!(
            !m.package.revision.is_empty() && m.package.revision.chars().all(|c| c.is_ascii_alphanumeric() || "+.~".contains(c)),
            "{origin}: package.revision '{}' must be letters, digits, + . ~ (e.g. 1)",
            m.package.revision
        );
        Ok(m)
    }
}

/// Debian's package name rule, which rpm accepts too.
pub fn valid_name(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
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
    fn bad_names_are_rejected() {
        let err = Manifest::parse("[package]\nname = \"Kea_Hooks\"\n", "m.toml").unwrap_err().to_string();
        assert!(err.contains("not a valid package name"), "{err}");
    }
}

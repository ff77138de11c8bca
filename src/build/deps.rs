//! `--install-deps`: install what a build needs with the system's package manager.

use crate::support::runner::{Runner, have};
use anyhow::{Result, bail};
use std::process::Command;

/// What to install: tools for any autotools Kea build, Kea's own build dependencies, and for
/// the bundled example the installed Kea's development files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepSet {
    /// Build a real Kea release.
    Kea,
    /// Build the bundled example against the installed Kea (`kea-dev`).
    Example,
}

/// A release's build prerequisites, from its profile (`[build-deps]`, given by the family
/// files in `packaging/families/`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildDeps {
    /// Tools for any Kea build (compiler, autotools, ninja for meson builds).
    #[serde(default)]
    pub tools: Vec<String>,
    /// What a real Kea release needs besides the tools.
    #[serde(default)]
    pub kea: Vec<String>,
    /// What the bundled example needs besides the tools: the installed Kea's development files.
    #[serde(default)]
    pub example: Vec<String>,
}

impl BuildDeps {
    /// The package list for `set`: the tools, then the set's own packages.
    pub fn packages(&self, set: DepSet) -> Vec<String> {
        let mut all = self.tools.clone();
        all.extend(if set == DepSet::Kea { &self.kea } else { &self.example }.iter().cloned());
        all
    }
}

/// Installed by `--install-deps` on this host only: keapack compiles through ccache when it is
/// installed. Not part of [`BuildDeps::packages`], which also makes build roots (whose builds do
/// without ccache, and whose cache key would change).
pub(crate) const CCACHE: &str = "ccache";

/// Install the packages with the first of `managers` this host has (`apt-get`, `dnf`: each
/// family's package manager with its build prerequisites), through sudo when not root.
pub(crate) fn install(managers: &[(String, BuildDeps)], set: DepSet, runner: &mut Runner) -> Result<()> {
    let Some((manager, deps)) = managers.iter().find(|(m, _)| have(m)) else {
        let names: Vec<&str> = managers.iter().map(|(m, _)| m.as_str()).collect();
        let by_hand = managers.first().map(|(_, d)| d.packages(set).join(" ")).unwrap_or_default();
        bail!("--install-deps needs {}; install the build tools by hand: {by_hand}", names.join(" or "));
    };
    let manager = manager.as_str();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let cmd = |args: &[&str]| {
        let mut c = if root { Command::new(args[0]) } else { Command::new("sudo") };
        if !root {
            c.arg(args[0]);
        }
        c.args(&args[1..]);
        if manager == "apt-get" {
            c.env("DEBIAN_FRONTEND", "noninteractive");
        }
        c
    };
    let mut pkgs = deps.packages(set);
    pkgs.push(CCACHE.to_string());
    if manager == "apt-get" {
        runner.run("apt-get update", "apt-get-update", &mut cmd(&["apt-get", "update"]))?;
    }
    let mut args = vec![manager, "install", "-y"];
    args.extend(pkgs.iter().map(String::as_str));
    runner.run(&format!("{manager} install build dependencies"), "install-deps", &mut cmd(&args))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_the_tools_then_its_own_packages() {
        let d = BuildDeps { tools: vec!["make".into()], kea: vec!["libssl-dev".into()], example: vec!["kea-dev".into()] };
        assert_eq!(d.packages(DepSet::Kea), ["make", "libssl-dev"]);
        assert_eq!(d.packages(DepSet::Example), ["make", "kea-dev"]);
    }
}

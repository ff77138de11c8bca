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

// ninja serves meson builds. meson itself is not installed from the distribution: Debian 12's
// (1.0.1) is older than Kea's minimum (1.1.0), and keapack's version check says how to get a
// newer one from PyPI.
const APT_TOOLS: &[&str] = &["autoconf", "automake", "libtool", "make", "g++", "pkg-config", "binutils", "ninja-build"];
const DNF_TOOLS: &[&str] = &["autoconf", "automake", "libtool", "make", "gcc-c++", "pkgconf-pkg-config", "binutils", "ninja-build"];

/// Installed by `--install-deps` on this host only: keapack compiles through ccache when it is
/// installed. Not part of [`packages`], which also makes build roots (whose builds do without
/// ccache, and whose cache key would change).
pub const CCACHE: &str = "ccache";

/// The package list for the system's package manager.
pub fn packages(manager: &str, set: DepSet) -> Vec<&'static str> {
    let (tools, kea, example): (&[&str], &[&str], &[&str]) = match manager {
        "apt-get" => (APT_TOOLS, &["libboost-dev", "libboost-system-dev", "liblog4cplus-dev", "libssl-dev"], &["kea-dev", "libboost-dev"]),
        _ => (DNF_TOOLS, &["boost-devel", "log4cplus-devel", "openssl-devel"], &["kea-devel", "boost-devel"]),
    };
    let mut all: Vec<&str> = tools.to_vec();
    all.extend_from_slice(if set == DepSet::Kea { kea } else { example });
    all
}

/// Install the packages with apt-get or dnf (through sudo when not root).
pub fn install(set: DepSet, runner: &mut Runner) -> Result<()> {
    let manager = if have("apt-get") {
        "apt-get"
    } else if have("dnf") {
        "dnf"
    } else {
        bail!("--install-deps needs apt-get or dnf; install the build tools by hand: {}", packages("apt-get", set).join(" "));
    };
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
    let mut pkgs = packages(manager, set);
    pkgs.push(CCACHE);
    if manager == "apt-get" {
        runner.run("apt-get update", "apt-get-update", &mut cmd(&["apt-get", "update"]))?;
    }
    let mut args = vec![manager, "install", "-y"];
    args.extend(pkgs.iter().copied());
    runner.run(&format!("{manager} install build dependencies"), "install-deps", &mut cmd(&args))?;
    Ok(())
}

//! Runs Kea's own build system with the overlay in place, proves the overlay was detected, and
//! installs into `<work>/stage` with `DESTDIR`. This is what both build systems share (options,
//! the tool check, the package variables, the dispatch); autotools trees are built in
//! `autotools`, meson trees in `meson`.

pub(crate) mod autotools;
pub(crate) mod deps;
pub(crate) mod env;
pub(crate) mod meson;
pub(crate) mod root;
pub mod report;

use crate::build::report::PremiumReport;
use crate::support::runner::{Runner, have};
use crate::source::{BuildSystem, PreparedTree};
use crate::support::format::Format;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// What the build step needs to know.
#[derive(Debug, Clone)]
pub(crate) struct BuildOptions {
    /// The library directory configured into the build (`/usr/lib/x86_64-linux-gnu`, `/usr/lib64`).
    pub libdir: String,
    /// The user's own configure options ("the same options as the Kea you run").
    pub user_args: Vec<String>,
    pub jobs: usize,
    /// The package family the build is for (`KEA_PKG_TYPE_IN_CONFIGURE`: `deb` or `rpm`).
    pub package_format: Format,
    /// The package version (`KEA_PKG_VERSION_IN_CONFIGURE`, e.g. `2.6.5-1`).
    pub package_version: String,
    /// What to build and install: the hooks only (default) or all of Kea (`--full-build`).
    pub scope: Scope,
    /// Also build and stage Kea's open-source hooks (`package.include-open-hooks`).
    pub open_hooks: bool,
    /// The compilers run through ccache.
    pub ccache: bool,
}

/// How much of Kea a build compiles and installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Scope {
    /// Only what the packaged hooks need: Kea's libraries and the premium overlay (and the
    /// open-source hooks when they are packaged), with only the hooks installed.
    #[default]
    HooksOnly,
    /// All of Kea (daemons, tools, every hook), installed whole, as before.
    Full,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::HooksOnly => "hooks-only",
            Scope::Full => "full",
        }
    }
}

/// What the build left behind.
#[derive(Debug, Clone)]
pub(crate) struct BuildOutput {
    /// The `DESTDIR` the build installed into.
    pub stage: PathBuf,
    pub report: PremiumReport,
    /// File names of the hook libraries the overlay built (`libdhcp_host_cmds.so`).
    pub premium_libraries: BTreeSet<String>,
    /// The configure (or `meson setup`) command line, as run.
    pub configure_args: Vec<String>,
}

/// A tree that holds a complete earlier build of the same Kea, configuration and tools, with
/// another premium overlay put in place since (`source::overlay`): the build then runs in it
/// without clearing it, and make or ninja rebuild only what the new overlay changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reuse {
    /// What the tree was configured with ([`configured_with`] of that build).
    pub configured_with: Vec<String>,
    /// The new overlay added, removed or changed a file the build system reads: configure
    /// (autoreconf and configure, or meson setup) runs again in the tree.
    pub build_files_changed: bool,
}

impl Reuse {
    /// Whether configuring can be skipped: no build file changed and this build would configure
    /// with exactly what the tree was configured with.
    pub(crate) fn configured_as(&self, configure_args: &[String], opts: &BuildOptions) -> bool {
        !self.build_files_changed && self.configured_with == configured_with(configure_args, opts)
    }
}

/// What a tree is configured with: the package variables configure (or meson setup) sees, then
/// its command line as run.
pub(crate) fn configured_with(configure_args: &[String], opts: &BuildOptions) -> Vec<String> {
    package_env(opts).into_iter().map(|(k, v)| format!("{k}={v}")).chain(configure_args.iter().cloned()).collect()
}

/// ccache's directory: keapack's cache (`~/.cache/keapack/ccache`), shared by every work directory.
pub(crate) fn ccache_dir() -> PathBuf {
    crate::support::cache_home().join("ccache")
}

/// The tools a build system needs, each with the apt and dnf packages that provide it.
pub(crate) fn required_tools(system: BuildSystem) -> &'static [(&'static str, &'static str, &'static str)] {
    match system {
        BuildSystem::Autotools => &[
            ("autoreconf", "autoconf", "autoconf"),
            ("aclocal", "automake", "automake"),
            ("libtoolize", "libtool", "libtool"),
            ("make", "make", "make"),
            ("g++", "g++", "gcc-c++"),
            ("strip", "binutils", "binutils"),
        ],
        BuildSystem::Meson => &[
            ("meson", "meson (or `pip install meson`)", "meson"),
            ("ninja", "ninja-build", "ninja-build"),
            ("g++", "g++", "gcc-c++"),
            ("strip", "binutils", "binutils"),
        ],
    }
}

/// Fail before anything runs when a needed tool is missing, naming the packages to install.
/// `root`: look inside that build root instead of on this host.
pub(crate) fn check_tools(system: BuildSystem, root: Option<&Path>) -> Result<()> {
    let present = |tool: &str| match root {
        None => have(tool),
        Some(r) => ["usr/bin", "bin", "usr/local/bin"].iter().any(|d| r.join(d).join(tool).exists()),
    };
    let missing: Vec<_> = required_tools(system).iter().filter(|(tool, _, _)| !present(tool)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<_> = missing.iter().map(|(t, _, _)| *t).collect();
    let apt: Vec<_> = missing.iter().map(|(_, a, _)| *a).collect();
    let dnf: Vec<_> = missing.iter().map(|(_, _, d)| *d).collect();
    bail!(
        "missing build tools: {}. Install them (apt-get install {} / dnf install {}) or rerun with --install-deps",
        names.join(", "),
        apt.join(" "),
        dnf.join(" ")
    )
}

/// The variables ISC's own packaging sets for Kea's configure and meson setup: the package type
/// and version. Kea names the build with them in its extended version, and its meson.build
/// leaves out the install RPATH when the type is set.
pub(crate) fn package_env(opts: &BuildOptions) -> Vec<(String, String)> {
    let kind = match opts.package_format {
        Format::Deb => "deb",
        Format::Rpm => "rpm",
    };
    vec![
        ("KEA_PKG_TYPE_IN_CONFIGURE".into(), kind.into()),
        ("KEA_PKG_VERSION_IN_CONFIGURE".into(), opts.package_version.clone()),
    ]
}

/// Build the prepared tree and install it into `<work>/stage`; `reuse`: the tree holds an
/// earlier complete build (see [`Reuse`]).
pub(crate) fn build(tree: &PreparedTree, work: &Path, opts: &BuildOptions, runner: &mut Runner, reuse: Option<&Reuse>) -> Result<BuildOutput> {
    match tree.build_system {
        BuildSystem::Autotools => autotools::build(tree, work, opts, runner, reuse),
        BuildSystem::Meson => meson::build(tree, work, opts, runner, reuse),
    }
}

/// The shared objects built under a directory (libtool's `.libs/*.so`, meson's outputs), by file name.
pub(crate) fn built_libraries(dir: &Path) -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path);
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str())
                && name.ends_with(".so")
                && (kind.is_file() || kind.is_symlink())
            {
                found.insert(name.to_string());
            }
        }
    }
    Ok(found)
}

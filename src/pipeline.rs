//! One keapack run, start to end: source → build → stage → plan → emit → publish.
//!
//! Reproducibility is decided here once: the work directory is used by its physical path, the
//! umask is 022, one epoch (`SOURCE_DATE_EPOCH`, else the inputs' newest entry time) stamps
//! every output, build commands see only the normalised environment of `build::env`, and the
//! build record (`publish::record`) is written next to the packages and listed in `SHA256SUMS`.

use crate::build::{self, BuildOptions};
use crate::build::env::BuildEnv;
use crate::publish::record::{self, BuildRecord, EpochSource};
use crate::plan::catalog::Catalog;
use crate::plan::guidance::Templates;
use crate::plan::manifest::Manifest;
use crate::plan::{self, PlanInput};
use crate::plan::profile::{self, Profiles, Target};
use crate::publish;
use crate::support::runner::Runner;
use crate::source;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Everything `keapack build` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    pub kea: PathBuf,
    pub premium: PathBuf,
    /// Targets from the command line; empty means the manifest's.
    pub targets: Vec<String>,
    pub out: PathBuf,
    pub work: PathBuf,
    pub manifest: Manifest,
    pub jobs: Option<usize>,
    pub revision: Option<String>,
    /// Configure (or `meson setup`) options given after `--`, added to the manifest's.
    pub extra_configure: Vec<String>,
    /// The build system for a tree that has both (`--build-system`); `None`: the manifest's, else meson.
    pub build_system: Option<crate::source::BuildSystem>,
    pub templates_dir: Option<PathBuf>,
    pub allow_version_mismatch: bool,
    /// The timestamp for every output; `None` means SOURCE_DATE_EPOCH, else the inputs' newest time.
    pub epoch: Option<u64>,
    /// Keep the hooks' debug symbols in `-dbgsym`/`-debuginfo` packages.
    pub debug_symbols: bool,
    pub quiet: bool,
    /// Override the manifest's package split.
    pub split: Option<crate::plan::manifest::Split>,
    /// Also write the meta package of a per-hook split.
    pub meta: bool,
    /// Size and count limits for unpacking the inputs.
    pub limits: crate::source::extract::Limits,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// Every package written (debug packages included), in the order written.
    pub packages: Vec<PathBuf>,
    /// The build record (JSON) next to the packages.
    pub record: PathBuf,
    pub sums: PathBuf,
    pub epoch: u64,
    /// The work directory as used: its physical path.
    pub work: PathBuf,
}

/// The default work directory: `$XDG_CACHE_HOME/keapack/<name>` (or `~/.cache/keapack/<name>`).
pub fn default_work_dir(name: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("keapack").join(name)
}

/// `SOURCE_DATE_EPOCH` from the environment, if set and valid.
pub fn env_epoch() -> Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => {
            Ok(Some(v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH='{v}' is not a number of seconds"))?))
        }
        _ => Ok(None),
    }
}

/// The epoch and where it came from: `SOURCE_DATE_EPOCH`, else the request's fixed value, else
/// the inputs' newest entry time — never the clock.
pub fn resolve_epoch(requested: Option<u64>, newest_input_time: u64) -> Result<(u64, EpochSource)> {
    Ok(match (requested, env_epoch()?) {
        (Some(e), Some(v)) if e == v => (e, EpochSource::SourceDateEpoch),
        (Some(e), _) => (e, EpochSource::Fixed),
        (None, Some(v)) => (v, EpochSource::SourceDateEpoch),
        (None, None) if newest_input_time > 0 => (newest_input_time, EpochSource::Inputs),
        (None, None) => bail!("cannot derive a timestamp from the inputs (no file times); set SOURCE_DATE_EPOCH"),
    })
}

/// Resolve the targets, CLI first, then the manifest's.
pub fn resolve_targets(profiles: &Profiles, cli: &[String], manifest: &Manifest) -> Result<Vec<Target>> {
    let names = if cli.is_empty() { &manifest.targets } else { cli };
    if names.is_empty() {
        bail!(
            "no target: name one or more with --target (e.g. --target debian-12-amd64 --target rhel-9-x86_64) or in the manifest's targets. Profiles: {}",
            profiles.ids().collect::<Vec<_>>().join(", ")
        );
    }
    names.iter().map(|n| profiles.target(n)).collect()
}

/// Run the whole flow, holding the work directory's lock.
pub fn build(req: &BuildRequest) -> Result<BuildOutcome> {
    let lock = crate::support::worklock::lock(&req.work)?;
    build_locked(req, &lock)
}

/// Run the whole flow in a work directory the caller has locked.
pub fn build_locked(req: &BuildRequest, _lock: &crate::support::worklock::WorkLock) -> Result<BuildOutcome> {
    let mut profiles = Profiles::builtin();
    req.manifest.add_profiles(&mut profiles);
    let targets = resolve_targets(&profiles, &req.targets, &req.manifest)?;
    let templates = Templates::with_overrides(req.templates_dir.as_deref())?;
    let catalog = Catalog::builtin();
    let mut package = req.manifest.package.clone();
    if let Some(r) = &req.revision {
        package.revision = r.clone();
    }
    if let Some(split) = req.split {
        package.split = split;
    }
    package.meta |= req.meta;
    // Validate the edited manifest the same way a file is validated.
    anyhow::ensure!(crate::plan::manifest::valid_name(&package.name), "'{}' is not a valid package name", package.name);

    // SAFETY: umask only changes this process's file-creation mask.
    unsafe { libc::umask(crate::build::env::UMASK as libc::mode_t) };
    std::fs::create_dir_all(&req.work).with_context(|| format!("cannot create the work directory {}", req.work.display()))?;
    // The physical path: what compilers see through getcwd(), so what the prefix map must name.
    let work = std::fs::canonicalize(&req.work).with_context(|| format!("cannot resolve the work directory {}", req.work.display()))?;
    let mut runner = Runner::new(&work.join("logs"), Vec::new(), req.quiet)?;
    let tree = runner.in_process("prepare the source tree", || {
        let choice = req.build_system.or(req.manifest.build.build_system);
        source::prepare(&req.kea, &req.premium, &work.join("source"), req.allow_version_mismatch, req.limits, choice)
    })?;
    runner.note(&format!("Kea {} ({}) with the premium overlay at {}", tree.version, tree.build_system.name(), tree.root.display()));
    build::check_tools(tree.build_system)?;
    let (epoch, epoch_source) = resolve_epoch(req.epoch, tree.newest_input_time)?;

    // One build serves every target: hooks embed no library directory.
    let host = profile::host_family();
    let build_target = targets.iter().find(|t| Some(t.profile.family) == host).unwrap_or(&targets[0]);
    for t in &targets {
        if host.is_some() && Some(t.profile.family) != host {
            eprintln!(
                "warning: target {} is {} distribution but this build host is not; its hooks link against this host's libraries. Build production packages on a host of the target's family.",
                t.id(),
                if t.profile.family == crate::plan::spec::Format::Deb { "a Debian-family" } else { "an RPM-family" }
            );
        }
    }
    let mut user_args = match tree.build_system {
        source::BuildSystem::Autotools => req.manifest.build.configure_options.clone(),
        source::BuildSystem::Meson => req.manifest.build.meson_options.clone(),
    };
    user_args.extend(req.extra_configure.iter().cloned());
    let jobs = req.jobs.or(req.manifest.build.jobs).unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = BuildOptions {
        libdir: build_target.arch_info.libdir.clone(),
        user_args,
        jobs,
        epoch,
        package_format: build_target.profile.family,
        package_version: format!("{}-{}", tree.version, package.revision),
    };
    let env = BuildEnv::new(&tree.root, epoch);
    runner.set_clean_env(env.vars());
    let built = build::build(&tree, &work, &opts, &mut runner)?;
    let debug_dir = req.debug_symbols.then(|| work.join("debug"));
    let (hooks, debug_files) = crate::stage::inventory(
        &built.stage,
        &opts.libdir,
        &built.premium_libraries,
        &tree.version,
        package.include_open_hooks,
        debug_dir.as_deref(),
        &mut runner,
    )?;
    runner.note(&format!(
        "staged hooks: {}",
        hooks.iter().map(|h| format!("{}{}", h.library, if h.premium { " (premium)" } else { "" })).collect::<Vec<_>>().join(", ")
    ));

    let mut packages = Vec::new();
    let mut outputs = Vec::new();
    for target in &targets {
        let needs = crate::plan::shlibdeps::discover(&hooks, target, host)?;
        for w in &needs.warnings {
            eprintln!("warning: {w}");
        }
        let specs = plan::plan_all(&PlanInput {
            package: &package,
            kea_version: &tree.version,
            hooks: &hooks,
            target,
            epoch,
            catalog: &catalog,
            templates: &templates,
            library_depends: &needs.by_library,
        })?;
        let mut all = Vec::new();
        for spec in specs {
            // A package that holds hooks gets its debug-symbols package; a meta package has none.
            let packaged: Vec<_> = debug_files.iter().filter(|d| spec.files.iter().any(|f| f.path.ends_with(&format!("/{}", d.library)))).cloned().collect();
            let debug = (req.debug_symbols && !packaged.is_empty()).then(|| crate::plan::debug::plan_package(&spec, &packaged));
            all.push(("package", spec));
            all.extend(debug.map(|d| ("debug-symbols", d)));
        }
        for (kind, spec) in all {
            let name = spec.file_name();
            let path = runner.in_process(&format!("write {name}"), || publish::publish(&req.out, &name, |w| crate::emit::write_package(&spec, w)))?;
            outputs.push(record::output(&path, &target.id(), kind)?);
            packages.push(path);
        }
    }

    let recorded_env = env.recorded();
    let record = BuildRecord {
        record_format: record::RECORD_FORMAT,
        keapack_version: env!("CARGO_PKG_VERSION").to_string(),
        inputs: vec![record::input("kea", &req.kea)?, record::input("premium", &req.premium)?],
        kea: record::Kea { version: tree.version.to_string(), build_system: tree.build_system },
        epoch,
        epoch_source,
        build: record::Build {
            build_dir: format!("{} is the Kea source tree's root inside the work directory", crate::build::env::BUILD_DIR),
            configure: built.configure_args.iter().map(|a| env.unpath(a)).collect(),
            configure_options: opts.user_args.iter().map(|a| env.unpath(a)).collect(),
            libdir: opts.libdir.clone(),
            inherited_environment: env.inherited_names(),
            umask: format!("{:04o}", crate::build::env::UMASK),
            strip: crate::stage::STRIP_ARGS.iter().map(|s| s.to_string()).collect(),
            debug_symbols: req.debug_symbols,
            environment: recorded_env.clone(),
        },
        host: record::host(),
        tools: record::tool_versions(&record::tools(tree.build_system, req.debug_symbols, &recorded_env), &env.vars()),
        packaging: record::Packaging {
            targets: targets.iter().map(|t| t.id()).collect(),
            package: package.clone(),
            template_overrides: record::template_overrides(req.templates_dir.as_deref(), &Templates::builtin_names())?,
        },
        outputs,
    };
    let record_name = record::file_name(&package.name, &tree.version.to_string(), &package.revision);
    let json = record.to_json();
    let record_path = publish::publish(&req.out, &record_name, |w| Ok(w.write_all(json.as_bytes())?))?;
    let mut listed = packages.clone();
    listed.push(record_path.clone());
    let sums = publish::update_sums(&req.out, &listed)?;
    Ok(BuildOutcome { packages, record: record_path, sums, epoch, work })
}

/// Make `path` absolute against the current directory, without touching the file system.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

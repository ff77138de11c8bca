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
use crate::plan::{self, PlanInput};
use crate::plan::profile::{self, Target};
use crate::publish::{OutLock, OutputSet};
use crate::support::runner::Runner;
use crate::support::events::Event;
use crate::support::listener::{Channel, Listener, output_written, step};
use crate::run::request::RunPlan;
use crate::source;
use super::cached::{cache_identity, restore, store};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// What a run produced.
#[derive(Debug, Clone)]
pub(crate) struct BuildOutcome {
    /// Every package written (debug packages included), in the order written.
    pub packages: Vec<PathBuf>,
    /// The build record (JSON) next to the packages.
    pub record: PathBuf,
    pub sums: PathBuf,
    /// The work directory as used: its physical path.
    pub work: PathBuf,
}

/// The default work directory: `$XDG_CACHE_HOME/keapack/<name>` (or `~/.cache/keapack/<name>`).
pub(crate) fn default_work_dir(name: &str) -> PathBuf {
    crate::support::cache_home().join(name)
}

/// `SOURCE_DATE_EPOCH` from the environment, if set and valid.
pub(crate) fn env_epoch() -> Result<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => {
            Ok(Some(v.trim().parse().with_context(|| format!("SOURCE_DATE_EPOCH='{v}' is not a number of seconds"))?))
        }
        _ => Ok(None),
    }
}

/// The epoch and where it came from: `SOURCE_DATE_EPOCH`, else the request's fixed value, else
/// the inputs' newest entry time — never the clock.
pub(crate) fn resolve_epoch(requested: Option<u64>, newest_input_time: u64) -> Result<(u64, EpochSource)> {
    Ok(match (requested, env_epoch()?) {
        (Some(e), Some(v)) if e == v => (e, EpochSource::SourceDateEpoch),
        (Some(e), _) => (e, EpochSource::Fixed),
        (None, Some(v)) => (v, EpochSource::SourceDateEpoch),
        (None, None) if newest_input_time > 0 => (newest_input_time, EpochSource::Inputs),
        (None, None) => bail!("cannot derive a timestamp from the inputs (no file times); set SOURCE_DATE_EPOCH"),
    })
}

/// Run a resolved plan: take the work directory, then for each build environment prepare the
/// source tree and build and stage the hooks, package each target into the output set, and
/// publish the set.
pub(crate) fn run(plan: &RunPlan, listener: &Channel) -> Result<BuildOutcome> {
    let _lock = crate::support::worklock::lock(&plan.request.work)?;
    let work = enter_work_dir(&plan.request.work)?;
    for w in &plan.warnings {
        listener.warning(w);
    }
    if plan.verify_load() && plan.targets.iter().any(|t| t.profile.family == crate::plan::spec::Format::Deb) {
        crate::build::root::check_host_can_use_roots().context("--verify-load installs each target's packages in a root of its release")?;
    }
    let mut builds = Vec::new();
    for env in &plan.environments {
        // One environment builds in the work directory itself; several each in their own.
        let dir = if plan.environments.len() == 1 { work.clone() } else { work.join(format!("env-{}", env.name)) };
        builds.push(build_in(plan, env, &dir, listener)?);
    }
    let out = &plan.request.out;
    // One run at a time writes into --out, from its first staged output to its last
    // announcement; a second run waits here (publish::outlock says why waiting, not refusing).
    let out_lock = OutLock::take(out, |m| listener.warning(m))?;
    let written = (|| {
        let mut set = OutputSet::begin(&out_lock)?;
        let mut outputs = Vec::new();
        let mut runtime = Vec::new();
        for b in &mut builds {
            for target in b.env.targets.clone() {
                runtime.extend(package_target(plan, b, &target, &mut set, &mut outputs)?);
            }
        }
        if let Some(b) = builds.first_mut() {
            write_runtime(runtime, &mut b.runner, &mut set, &mut outputs)?;
        }
        let verification = if plan.verify_load() { Some(verify_load(plan, &work, &set, &outputs, listener)?) } else { None };
        let announced = outputs.clone();
        let record_name = write_record(plan, &builds, outputs, verification, &mut set, listener.as_ref())?;
        crate::support::interrupt::checkpoint("publish", listener.as_ref())?;
        let published = step(listener.as_ref(), &format!("publish the outputs into {}", crate::support::text::path(out)), || set.commit())?;
        Ok::<_, anyhow::Error>((published, record_name, announced))
    })();
    let (published, record_name, announced) = written.map_err(|e| {
        let interrupted = e.downcast_ref::<crate::support::interrupt::Interrupted>().is_some();
        if interrupted { e } else { e.context(format!("nothing was published into {}: its earlier files and SHA256SUMS are as they were", out.display())) }
    })?;
    let record = out.join(&record_name);
    // The outputs are in place: announce each where it landed, then the record and the sums.
    for o in &announced {
        listener.event(Event::OutputWritten { path: out.join(&o.file), target: o.target.clone(), kind: o.kind.clone(), sha256: o.sha256.clone(), size: o.size });
    }
    output_written(listener.as_ref(), &record, "", "build-record")?;
    output_written(listener.as_ref(), &published.sums, "", "checksums")?;
    let packages = published.files.into_iter().filter(|p| *p != record).collect();
    drop(out_lock);
    Ok(BuildOutcome { packages, record, sums: published.sums, work })
}

/// Set the umask, create the work directory and return its physical path: what compilers see
/// through getcwd(), so what the prefix map must name.
pub(super) fn enter_work_dir(work: &Path) -> Result<PathBuf> {
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe { libc::umask(crate::build::env::UMASK as libc::mode_t) };
    std::fs::create_dir_all(work).with_context(|| format!("cannot create the work directory {}", work.display()))?;
    std::fs::canonicalize(work).with_context(|| format!("cannot resolve the work directory {}", work.display()))
}

/// One environment's build: where it ran, what it prepared and what it staged.
pub(super) struct Build<'a> {
    pub(super) env: &'a crate::run::request::Environment,
    /// The root it ran in (`None`: this host).
    pub(super) root: Option<PathBuf>,
    /// The root's hold, so that no prune removes it while the run packages from it.
    _root_in_use: Option<crate::build::root::RootInUse>,
    pub(super) prepared: Prepared,
    pub(super) staged: Staged,
    pub(super) runner: Runner,
    /// The environment its commands ran with.
    pub(super) runner_env: Vec<(String, std::ffi::OsString)>,
}

impl Build<'_> {
    /// The file system whose libraries and dpkg database the build used.
    fn sysroot(&self) -> &Path {
        self.root.as_deref().unwrap_or(Path::new("/"))
    }
}

/// Make (or reuse) the environment's root, then prepare, build and stage in `dir`.
pub(super) fn build_in<'a>(plan: &RunPlan, env: &'a crate::run::request::Environment, dir: &Path, listener: &Channel) -> Result<Build<'a>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clear_step_logs(&dir.join("logs"));
    let mut runner = Runner::new(&dir.join("logs"), Vec::new(), listener.clone())?;
    let root_in_use = match &env.root {
        Some(spec) => {
            let root = crate::build::root::ensure(spec, &mut runner)?;
            runner.note(&format!("building {} in a {} root: {}", env.targets.iter().map(Target::id).collect::<Vec<_>>().join(", "), spec.codename, root.path().display()));
            Some(root)
        }
        None => None,
    };
    let root = root_in_use.as_ref().map(|r| r.path().to_path_buf());
    for log in ["cache.log", "tree.log"] {
        let _ = std::fs::remove_file(dir.join("logs").join(log));
    }
    let inputs = inputs(plan, dir)?;
    let (slot, base) = if plan.request.no_cache {
        (None, None)
    } else {
        let identity = cache_identity(plan, env, root.as_deref(), dir, &inputs)?;
        (Some(crate::run::build_cache::Slot::open(&identity)?), Some(super::tree_reuse::base_key(&identity)))
    };
    let (prepared, staged) = match slot.as_ref().and_then(|s| s.get()) {
        Some((entry, entry_dir)) => {
            let (prepared, staged) = step(runner.listener(), "restore the build from the cache", || restore(plan, env, dir, inputs, &entry, &entry_dir))?;
            let age = crate::run::build_cache::human_age(crate::run::build_cache::now().saturating_sub(entry.created));
            runner.note(&format!("reusing the build of Kea {} ({}, {}) from the cache ({}, made {age} ago)", entry.kea_version, entry.build_system.name(), entry.environment, entry_dir.display()));
            crate::run::build_cache::note(dir, "hit", Some(&entry.key));
            super::tree_reuse::note(dir, "restored from the build cache");
            (prepared, staged)
        }
        None => {
            // The work directory's tree, when it holds a complete build that differs only in
            // the overlay; else a fresh one.
            let reusable = base.as_deref().and_then(|b| super::tree_reuse::reusable(dir, b));
            let (prepared, reuse, how) = match reusable {
                Some(record) => {
                    let (prepared, reuse, how) = super::tree_reuse::update(plan, dir, &record, root.as_deref(), &mut runner, inputs)?;
                    (prepared, Some(reuse), how)
                }
                None => (prepare(plan, dir, root.as_deref(), &mut runner, inputs)?, None, "prepared".to_string()),
            };
            if let Some(r) = &root {
                crate::support::sandbox::prepare_mount_points(r, &[dir.to_path_buf()])?;
            }
            runner.set_sandbox(root.clone().map(|r| (r, vec![dir.to_path_buf()])));
            let staged = build_and_stage(plan, env, &prepared, dir, &mut runner, reuse.as_ref())?;
            // Said once the build is done, so a run stopped before any step leaves no log.
            super::tree_reuse::note(dir, &how);
            match (&slot, &base) {
                (Some(slot), Some(base)) => {
                    crate::run::build_cache::note(dir, "miss", Some(slot.key()));
                    if let Err(e) = step(runner.listener(), "record the built tree", || super::tree_reuse::remember(dir, base, &prepared.tree, &prepared.overlay, &staged)) {
                        runner.listener().warning(&format!("the work directory's tree will not be reused: {e:#}"));
                    }
                    step(runner.listener(), "store the build in the cache", || {
                        store(plan, env, dir, &prepared, &staged, slot, &runner);
                        Ok(())
                    })?;
                }
                _ => crate::run::build_cache::note(dir, "disabled", None),
            }
            (prepared, staged)
        }
    };
    drop(slot);
    let runner_env = command_env(&staged.env, env.root.is_some());
    Ok(Build { env, root, _root_in_use: root_in_use, prepared, staged, runner, runner_env })
}

/// Remove an earlier run's step logs (`NN-<step>.log`), so that `logs/` shows this run's steps
/// only (a run that reuses a tree skips some steps).
pub(super) fn clear_step_logs(logs: &Path) {
    for e in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let numbered = name.len() > 3 && name.as_bytes()[..2].iter().all(u8::is_ascii_digit) && name.as_bytes()[2] == b'-';
        if numbered && name.ends_with(".log") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The prepared source tree, and the inputs it came from.
pub(super) struct Prepared {
    pub(super) tree: source::PreparedTree,
    pub(super) kea: PathBuf,
    pub(super) premium: PathBuf,
    /// The overlay's own paths under `premium/`, as put in (empty for a build from the cache).
    pub(super) overlay: Vec<PathBuf>,
}

impl Prepared {
    /// The prepared tree of a run, however it came (unpacked, reused, restored from the cache):
    /// the one place the runtime the hooks depend on is checked against the tree's Kea.
    pub(super) fn checked(plan: &RunPlan, tree: source::PreparedTree, (kea, premium): (PathBuf, PathBuf), overlay: Vec<PathBuf>) -> Result<Prepared> {
        crate::run::request::check_runtimes(&plan.targets, plan.package.runtime, &tree.version)?;
        Ok(Prepared { tree, kea, premium, overlay })
    }
}

/// The inputs: the request's, or (for the demo) the bundled example written into the work directory.
pub(super) fn inputs(plan: &RunPlan, work: &Path) -> Result<(PathBuf, PathBuf)> {
    let req = &plan.request;
    if req.example {
        crate::run::demo::write_example(&work.join("example"), plan.build_system.unwrap_or(source::BuildSystem::Autotools))
    } else {
        Ok((req.kea.clone(), req.premium.clone()))
    }
}

/// Unpack the inputs and put the overlay in place.
pub(super) fn prepare(plan: &RunPlan, work: &Path, root: Option<&Path>, runner: &mut Runner, (kea, premium): (PathBuf, PathBuf)) -> Result<Prepared> {
    let req = &plan.request;
    let listener = runner.channel();
    let tree = runner.in_process("prepare the source tree", || {
        source::prepare(&kea, &premium, &work.join("source"), req.allow_version_mismatch, req.limits, plan.build_system, listener.as_ref())
    })?;
    runner.note(&format!("Kea {} ({}) with the premium overlay at {}", tree.version, tree.build_system.name(), tree.root.display()));
    let overlay = crate::source::overlay::listing(&tree.root.join("premium"))?;
    let prepared = Prepared::checked(plan, tree, (kea, premium), overlay)?;
    build::check_tools(prepared.tree.build_system, root)?;
    Ok(prepared)
}

/// The variables build commands run with; in a root, its own PATH instead of the host's.
pub(super) fn command_env(env: &BuildEnv, in_root: bool) -> Vec<(String, std::ffi::OsString)> {
    let mut vars = env.vars();
    if in_root {
        vars.retain(|(k, _)| k != "PATH");
        vars.extend(crate::build::root::root_env());
    }
    vars
}

/// What the build left for packaging.
pub(super) struct Staged {
    pub(super) hooks: Vec<crate::stage::StagedHook>,
    pub(super) debug_files: Vec<crate::stage::debug::DebugFile>,
    /// The whole staged Kea, for Kea's own packages (`runtime = "own"`); empty otherwise.
    pub(super) installed: Vec<crate::stage::runtime::Installed>,
    pub(super) built: build::BuildOutput,
    pub(super) opts: BuildOptions,
    pub(super) env: BuildEnv,
    pub(super) epoch: u64,
    pub(super) epoch_source: EpochSource,
}

/// Build Kea with the overlay once for the environment's targets (hooks embed no library
/// directory) and read the staged hooks.
pub(super) fn build_and_stage(plan: &RunPlan, environment: &crate::run::request::Environment, prepared: &Prepared, work: &Path, runner: &mut Runner, reuse: Option<&build::Reuse>) -> Result<Staged> {
    let req = &plan.request;
    let tree = &prepared.tree;
    let (epoch, epoch_source) = resolve_epoch(req.epoch, tree.newest_input_time)?;
    let opts = build_options(plan, environment, tree)?;
    let env = build_env(&opts, tree, epoch);
    runner.note(&format!("{} build{}", opts.scope.name(), if opts.ccache { ", through ccache" } else { "" }));
    runner.set_clean_env(command_env(&env, environment.root.is_some()));
    let built = build::build(tree, work, &opts, runner, reuse)?;
    let debug_dir = req.debug_symbols.then(|| work.join("debug"));
    let (hooks, debug_files) = crate::stage::inventory(
        &built.stage,
        &opts.libdir,
        &built.premium_libraries,
        &tree.version,
        plan.package.include_open_hooks,
        debug_dir.as_deref(),
        runner,
    )?;
    runner.note(&format!(
        "staged hooks: {}",
        hooks.iter().map(|h| format!("{}{}", h.library, if h.premium { " (premium)" } else { "" })).collect::<Vec<_>>().join(", ")
    ));
    let installed = if plan.own_runtime() {
        let stripped: Vec<PathBuf> = hooks.iter().map(|h| h.path.clone()).collect();
        let all = crate::stage::runtime::inventory(&built.stage, &stripped, Some(runner))?;
        runner.note(&format!("staged Kea: {} files and links for Kea's own packages", all.iter().filter(|i| !matches!(i.kind, crate::stage::runtime::Kind::Dir { .. })).count()));
        all
    } else {
        Vec::new()
    };
    Ok(Staged { hooks, debug_files, installed, built, opts, env, epoch, epoch_source })
}

/// The target whose library directory and package family the environment's one build uses:
/// the first of this host's family, else the first.
pub(super) fn build_target(environment: &crate::run::request::Environment) -> &Target {
    let host = profile::host_family();
    let targets = &environment.targets;
    targets.iter().find(|t| Some(t.profile.family) == host).unwrap_or(&targets[0])
}

/// The build step's options for `tree` in `environment`.
pub(super) fn build_options(plan: &RunPlan, environment: &crate::run::request::Environment, tree: &source::PreparedTree) -> Result<BuildOptions> {
    let req = &plan.request;
    let build_target = build_target(environment);
    let mut user_args = match tree.build_system {
        source::BuildSystem::Autotools => req.manifest.build.configure_options.clone(),
        source::BuildSystem::Meson => req.manifest.build.meson_options.clone(),
    };
    user_args.extend(req.extra_configure.iter().cloned());
    Ok(BuildOptions {
        libdir: build_target.arch_info.libdir.clone(),
        user_args,
        jobs: plan.jobs,
        package_format: build_target.profile.family,
        package_version: format!("{}-{}", tree.version, plan.package.revision),
        scope: if plan.full_build() { build::Scope::Full } else { build::Scope::HooksOnly },
        open_hooks: plan.package.include_open_hooks,
        ccache: use_ccache(req.ccache, environment.root.is_some())?,
    })
}

/// The build commands' environment for `opts`: ccache's variables when it is used, else
/// ccache turned off (meson would pick it up from PATH by itself).
pub(super) fn build_env(opts: &BuildOptions, tree: &source::PreparedTree, epoch: u64) -> BuildEnv {
    let mut env = BuildEnv::new(&tree.root, epoch);
    if opts.ccache {
        env.use_ccache(tree.build_system == source::BuildSystem::Meson, &crate::build::ccache_dir());
    } else {
        env.refuse_ccache();
    }
    env
}

/// Whether to compile through ccache: as asked, else when it is installed. Builds in a release
/// root do without it (the root has no ccache and cannot see keapack's cache directory).
pub(super) fn use_ccache(asked: Option<bool>, in_root: bool) -> Result<bool> {
    match asked {
        Some(true) if in_root => bail!("--ccache: this target builds in a release root, which has no ccache; build with --build-env host or without --ccache"),
        Some(true) if !crate::support::runner::have("ccache") => bail!("--ccache: ccache is not installed (apt-get install ccache / dnf install ccache, or --install-deps)"),
        Some(asked) => Ok(asked),
        None => Ok(!in_root && crate::support::runner::have("ccache")),
    }
}

/// Kea's own packages of one target, planned, for [`write_runtime`]: they go into `outputs`
/// at `at`, after the target's hook packages.
pub(super) struct PendingRuntime {
    at: usize,
    target: String,
    specs: Vec<crate::plan::spec::PackageSpec>,
}

/// Plan one target's packages (and their debug-symbols packages) and write them into the set;
/// Kea's own packages (runtime "own") are returned, planned, for [`write_runtime`].
pub(super) fn package_target(plan: &RunPlan, build: &mut Build, target: &Target, set: &mut OutputSet, outputs: &mut Vec<record::Output>) -> Result<Option<PendingRuntime>> {
    let needs = crate::plan::shlibdeps::discover(&build.staged.hooks, target, profile::host_family(), build.sysroot())?;
    let sysroot = build.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let sysroot = sysroot.as_path();
    let (prepared, staged, runner) = (&build.prepared, &build.staged, &mut build.runner);
    for w in &needs.warnings {
        runner.listener().warning(w);
    }
    let catalog = Catalog::builtin();
    let specs = plan::plan_all(&PlanInput {
        package: &plan.package,
        kea_version: &prepared.tree.version,
        hooks: &staged.hooks,
        target,
        epoch: staged.epoch,
        catalog: &catalog,
        templates: &plan.templates,
        library_depends: &needs.by_library,
    })?;
    let runtime_specs = if plan.own_runtime() { own_runtime_specs(plan, &prepared.tree.version, staged, target, sysroot, runner)? } else { Vec::new() };
    for spec in specs {
        // A package that holds hooks gets its debug-symbols package; a meta package has none.
        let packaged: Vec<_> =
            staged.debug_files.iter().filter(|d| spec.files.iter().any(|f| f.path.ends_with(&format!("/{}", d.library)))).cloned().collect();
        let debug = (plan.request.debug_symbols && !packaged.is_empty()).then(|| crate::plan::debug::plan_package(&spec, &packaged));
        for (kind, spec) in std::iter::once(("package", spec)).chain(debug.map(|d| ("debug-symbols", d))) {
            let name = spec.file_name();
            crate::support::interrupt::checkpoint(&format!("output-{}", outputs.len() + 1), runner.listener())?;
            let path = runner.in_process(&format!("write {name}"), || set.write(&name, |w| crate::emit::write_package(&spec, w)))?;
            outputs.push(record::output(&path, &target.id(), kind)?);
        }
    }
    Ok((!runtime_specs.is_empty()).then(|| PendingRuntime { at: outputs.len(), target: target.id(), specs: runtime_specs }))
}

/// Write Kea's own packages of every target at once: a dozen per target, some large, one
/// thread per CPU, the largest first, so that one format's compression fills the CPUs while
/// another's largest package runs. Their outputs go where each target's hook packages end.
fn write_runtime(pending: Vec<PendingRuntime>, runner: &mut Runner, set: &mut OutputSet, outputs: &mut Vec<record::Output>) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    let count: usize = pending.iter().map(|p| p.specs.len()).sum();
    for i in 0..count {
        crate::support::interrupt::checkpoint(&format!("output-{}", outputs.len() + 1 + i), runner.listener())?;
    }
    let targets: Vec<&str> = pending.iter().map(|p| p.target.as_str()).collect();
    let title = format!("write Kea's {count} packages for {}", targets.join(", "));
    let items: Vec<(String, &crate::plan::spec::PackageSpec)> = pending.iter().flat_map(|p| p.specs.iter().map(|s| (s.file_name(), s))).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let paths = runner.in_process(&title, || set.write_parallel(&items, threads, |s| s.payload_size(), |spec, w| crate::emit::write_package(spec, w)))?;
    let mut paths = paths.into_iter();
    // Inserted from the last target back, so each earlier position stays right.
    let mut groups = Vec::new();
    for p in &pending {
        let mut written = Vec::new();
        for path in paths.by_ref().take(p.specs.len()) {
            written.push(record::output(&path, &p.target, "package")?);
        }
        groups.push((p.at, written));
    }
    for (at, written) in groups.into_iter().rev() {
        outputs.splice(at..at, written);
    }
    Ok(())
}

/// Load verification (`--verify-load`): each target's packages, still in the staging
/// directory, installed and loaded in a root of its release; the first failure stops the run
/// before anything is published. Targets that cannot be verified here are warned about.
fn verify_load(plan: &RunPlan, work: &Path, set: &OutputSet, outputs: &[record::Output], listener: &Channel) -> Result<Vec<crate::run::verify::Verification>> {
    let catalog = Catalog::builtin();
    let mirror = plan.request.mirror.clone().or_else(|| plan.request.manifest.build.mirror.clone());
    crate::support::interrupt::checkpoint("verify", listener.as_ref())?;
    let requests: Vec<crate::run::verify::Request> = plan
        .targets
        .iter()
        .map(|target| {
            let id = target.id();
            crate::run::verify::Request {
                target,
                packages: outputs.iter().filter(|o| o.target == id && o.kind == "package").map(|o| set.staged_path(&o.file)).collect(),
                runtime: plan.package.runtime,
                dir: work.join("verify").join(&id),
                mirror: mirror.clone(),
                catalog: &catalog,
                parameters: &plan.request.manifest.verify.parameters,
                own_packages: true,
            }
        })
        .collect();
    crate::run::verify::verify_all(&requests, listener)
}

/// Kea's own packages of one target (`runtime = "own"`): the whole stage split by
/// `plan::runtime`, each ELF file's needs read as the hooks' are. Says what was left out.
fn own_runtime_specs(plan: &RunPlan, kea: &crate::source::version::KeaVersion, staged: &Staged, target: &Target, sysroot: &Path, runner: &mut Runner) -> Result<Vec<crate::plan::spec::PackageSpec>> {
    use crate::stage::runtime::Kind;
    let premium: std::collections::BTreeSet<String> = staged
        .hooks
        .iter()
        .filter(|h| h.premium)
        .filter_map(|h| h.path.strip_prefix(&staged.built.stage).ok().map(|p| format!("/{}", p.display())))
        .collect();
    // Every ELF file, keyed by its install path, through the hooks' dependency reader.
    let elves: Vec<crate::stage::StagedHook> = staged
        .installed
        .iter()
        .filter_map(|i| match &i.kind {
            Kind::File { source, elf: Some(machine), .. } if !premium.contains(&i.path) => {
                Some(crate::stage::StagedHook { library: i.path.clone(), path: source.clone(), premium: false, machine: machine.clone() })
            }
            _ => None,
        })
        .collect();
    let needs = crate::plan::shlibdeps::discover(&elves, target, profile::host_family(), sysroot)?;
    for w in &needs.warnings {
        runner.listener().warning(w);
    }
    let split = crate::plan::runtime::plan_runtime(&crate::plan::runtime::RuntimeInput {
        package: &plan.package,
        kea_version: kea,
        installed: &staged.installed,
        premium: &premium,
        target,
        epoch: staged.epoch,
        templates: &plan.templates,
        library_depends: &needs.by_library,
    })?;
    let mut reasons: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for (path, why) in &split.left {
        reasons.entry(why).or_default().push(path);
    }
    for (why, paths) in reasons {
        let shown = if paths.len() > 4 { format!("{} and {} more", paths[..4].join(", "), paths.len() - 4) } else { paths.join(", ") };
        runner.note(&format!("{}: not in Kea's own packages ({why}): {shown}", target.id()));
    }
    Ok(split.specs)
}

/// Write the build record into the set; returns its file name. The first environment's build
/// is the record's `build`; `environments` lists every build and the targets it served.
pub(super) fn write_record(plan: &RunPlan, builds: &[Build], outputs: Vec<record::Output>, verification: Option<Vec<crate::run::verify::Verification>>, set: &mut OutputSet, listener: &dyn Listener) -> Result<String> {
    let req = &plan.request;
    let (prepared, staged) = (&builds[0].prepared, &builds[0].staged);
    let (tree, env, opts) = (&prepared.tree, &staged.env, &staged.opts);
    let recorded_env = env.recorded();
    let record = BuildRecord {
        record_format: record::RECORD_FORMAT,
        keapack_version: env!("CARGO_PKG_VERSION").to_string(),
        inputs: vec![record::input("kea", &prepared.kea)?, record::input("premium", &prepared.premium)?],
        kea: record::Kea { version: tree.version.to_string(), build_system: tree.build_system },
        epoch: staged.epoch,
        epoch_source: staged.epoch_source,
        build: record::Build {
            build_dir: format!("{} is the Kea source tree's root inside the work directory", crate::build::env::BUILD_DIR),
            configure: staged.built.configure_args.iter().map(|a| env.unpath(a)).collect(),
            configure_options: opts.user_args.iter().map(|a| env.unpath(a)).collect(),
            libdir: opts.libdir.clone(),
            inherited_environment: env.inherited_names(),
            umask: format!("{:04o}", crate::build::env::UMASK),
            strip: crate::stage::STRIP_ARGS.iter().map(|s| s.to_string()).collect(),
            debug_symbols: req.debug_symbols,
            scope: opts.scope,
            ccache: opts.ccache,
            environment: recorded_env.clone(),
        },
        host: record::host(),
        environments: builds
            .iter()
            .map(|b| record::Environment {
                name: b.env.name.clone(),
                os: crate::build::root::pretty_name(b.sysroot()),
                root: b.env.root.as_ref().map(|r| format!("{} from {}", r.key(), r.mirror)),
                packages: crate::build::root::package_versions(b.sysroot(), record::ENVIRONMENT_PACKAGES),
                targets: b.env.targets.iter().map(Target::id).collect(),
            })
            .collect(),
        tools: record::tool_versions(&record::tools(tree.build_system, req.debug_symbols, &recorded_env), &builds[0].runner_env, builds[0].root.as_deref()),
        packaging: record::Packaging {
            targets: plan.targets.iter().map(|t| t.id()).collect(),
            package: plan.package.clone(),
            template_overrides: record::template_overrides(req.templates_dir.as_deref(), &Templates::builtin_names())?,
        },
        outputs,
        verification: verification.map(|v| v.iter().map(|e| serde_json::Value::Object(e.record_json())).collect()),
    };
    let name = record::file_name(&plan.package.name, &tree.version.to_string(), &plan.package.revision);
    let json = record.to_json();
    crate::support::interrupt::checkpoint(&format!("output-{}", record.outputs.len() + 1), listener)?;
    set.write(&name, |w| Ok(w.write_all(json.as_bytes())?))?;
    Ok(name)
}

/// Make `path` absolute against the current directory, without touching the file system.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

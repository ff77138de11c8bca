//! The build cache's part of a run: the identity of an environment's build, keeping a finished
//! build in the cache, and putting a cached build in place instead of building.

use super::pipeline::*;
use crate::build::{self};
use crate::build::env::BuildEnv;
use crate::publish::record::{self};
use crate::plan::profile::Target;
use crate::support::runner::Runner;
use crate::run::request::RunPlan;
use crate::source;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Where an environment builds, as the cache and its listing name it.
fn environment_name(environment: &crate::run::request::Environment) -> String {
    match &environment.root {
        Some(spec) => format!("root {}", spec.key()),
        None => format!("host ({})", crate::build::root::pretty_name(Path::new("/"))),
    }
}

/// The build cache's identity of this environment's build: everything that can change the
/// staged bytes, known before anything is unpacked. Left out on purpose, as they only change
/// packaging: the revision (and so `KEA_PKG_VERSION_IN_CONFIGURE`, which Kea puts only into its
/// extended version string; the staged hooks of the example are byte-identical across
/// revisions), templates, split, meta, runtime, maintainer, targets beyond the build's library
/// directory and family, `--jobs`, the work and output directories.
pub(super) fn cache_identity(plan: &RunPlan, environment: &crate::run::request::Environment, root: Option<&Path>, work: &Path, inputs: &(PathBuf, PathBuf)) -> Result<crate::run::build_cache::Identity> {
    let req = &plan.request;
    let fixed_epoch = match req.epoch {
        Some(e) => Some(e),
        None => env_epoch()?,
    };
    let json = |v: &dyn erased::Json| v.json();
    let mut id = crate::run::build_cache::Identity::new();
    id.add("keapack", env!("CARGO_PKG_VERSION"));
    // With the epoch taken from the inputs, a directory's newest file time is part of it.
    id.add("kea", crate::run::build_cache::input_digest(&inputs.0, fixed_epoch.is_none())?);
    id.add("premium", crate::run::build_cache::input_digest(&inputs.1, fixed_epoch.is_none())?);
    id.add("allow version mismatch", req.allow_version_mismatch.to_string());
    id.add("build system", plan.build_system.map_or("as the tree has it", |b| b.name()));
    id.add("configure options", json(&req.manifest.build.configure_options));
    id.add("meson options", json(&req.manifest.build.meson_options));
    id.add("options after --", json(&req.extra_configure));
    id.add("epoch", fixed_epoch.map_or_else(|| "from the inputs".to_string(), |e| e.to_string()));
    let env = BuildEnv::new(&work.join("source"), fixed_epoch.unwrap_or(0));
    let recorded = env.recorded();
    id.add("build environment variables", json(&recorded));
    let mut tools = record::tools(source::BuildSystem::Autotools, req.debug_symbols, &recorded);
    for t in record::tools(source::BuildSystem::Meson, req.debug_symbols, &recorded) {
        if !tools.contains(&t) {
            tools.push(t);
        }
    }
    id.add("tools", json(&record::tool_versions(&tools, &command_env(&env, root.is_some()), root)));
    id.add("build environment", environment_name(environment));
    let target = build_target(environment);
    id.add("libdir", target.arch_info.libdir.clone());
    id.add("package family", format!("{:?}", target.profile.family));
    id.add("debug symbols", req.debug_symbols.to_string());
    id.add("include open hooks", plan.package.include_open_hooks.to_string());
    // The packages are the same bytes either way, but the record says which build ran.
    id.add("scope", if plan.full_build() { "full" } else { "hooks-only" });
    // Kea's own packages need the whole stage kept, not only the hooks.
    id.add("whole stage", plan.own_runtime().to_string());
    id.add("ccache", use_ccache(req.ccache, root.is_some())?.to_string());
    Ok(id)
}

mod erased {
    /// Anything serialisable, as compact JSON (for identity fields).
    pub(crate) trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("identity fields serialise")
        }
    }
}

/// Keep a finished build in the cache; a failure to store is a warning, the build stands.
pub(super) fn store(plan: &RunPlan, environment: &crate::run::request::Environment, work: &Path, prepared: &Prepared, staged: &Staged, slot: &crate::run::build_cache::Slot, runner: &Runner) {
    let stored = (|| {
        let tree = &prepared.tree;
        let stage = &staged.built.stage;
        let hooks_dir = staged.hooks.first().and_then(|h| h.path.parent()).context("no staged hooks")?;
        let debug_dir = work.join("debug");
        let report = &staged.built.report;
        let manifest = crate::run::build_cache::Manifest {
            format: 0,
            key: String::new(),
            keapack_version: env!("CARGO_PKG_VERSION").to_string(),
            created: crate::run::build_cache::now(),
            size: 0,
            kea_version: tree.version.to_string(),
            build_system: tree.build_system,
            environment: environment_name(environment),
            targets: environment.targets.iter().map(Target::id).collect(),
            libdir: staged.opts.libdir.clone(),
            hooks_dir: hooks_dir.strip_prefix(stage)?.to_string_lossy().into_owned(),
            source_root: tree.root.strip_prefix(work)?.to_string_lossy().into_owned(),
            newest_input_time: tree.newest_input_time,
            configure_args: staged.built.configure_args.iter().map(|a| staged.env.unpath(a)).collect(),
            premium_libraries: staged.built.premium_libraries.iter().cloned().collect(),
            report_premium: report.premium.clone(),
            report_included_hooks: report.included_hooks.clone(),
            report_evidence: report.evidence.clone(),
            hooks: staged.hooks.iter().map(|h| crate::run::build_cache::Hook { library: h.library.clone(), premium: h.premium, machine: h.machine.clone() }).collect(),
            debug_files: staged
                .debug_files
                .iter()
                .map(|d| Ok(crate::run::build_cache::DebugEntry { library: d.library.clone(), build_id: d.build_id.clone(), path: d.path.strip_prefix(&debug_dir)?.to_string_lossy().into_owned() }))
                .collect::<Result<_>>()?,
        };
        slot.store(manifest, hooks_dir, plan.request.debug_symbols.then_some(debug_dir.as_path()), plan.own_runtime().then_some(stage.as_path()))?;
        let pruned = crate::run::build_cache::prune(crate::run::build_cache::PruneRule { max_bytes: Some(crate::run::build_cache::max_bytes()?), ..Default::default() }, Some(slot.key()))?;
        if !pruned.removed.is_empty() {
            runner.note(&format!("build cache: removed {} older entries to stay within {}", pruned.removed.len(), crate::run::build_cache::human_size(crate::run::build_cache::max_bytes()?)));
        }
        Ok::<_, anyhow::Error>(())
    })();
    if let Err(e) = stored {
        runner.listener().warning(&format!("the build is not kept in the build cache: {e:#}"));
    } else {
        runner.note(&format!("kept the build in the cache as {}", crate::run::build_cache::dir().join(slot.key()).display()));
    }
}

/// The prepared tree and staged build of a cache entry, put in place in the work directory:
/// its hooks into `stage/`, its debug files into `debug/` (what `build_and_stage` leaves);
/// nothing is unpacked or built, and the stale `source/` of an earlier run is cleared.
pub(super) fn restore(plan: &RunPlan, environment: &crate::run::request::Environment, work: &Path, (kea, premium): (PathBuf, PathBuf), entry: &crate::run::build_cache::Manifest, entry_dir: &Path) -> Result<(Prepared, Staged)> {
    let req = &plan.request;
    // A tree that holds a complete build stays for a later run with another overlay.
    let keep_source = super::tree_reuse::holds_build(work);
    for sub in ["source", "stage", "debug"] {
        let d = work.join(sub);
        if sub == "source" && keep_source {
            continue;
        }
        if d.exists() {
            std::fs::remove_dir_all(&d).with_context(|| format!("cannot clear {}", d.display()))?;
        }
    }
    let tree = source::PreparedTree {
        root: work.join(&entry.source_root),
        version: crate::source::version::KeaVersion::parse(&entry.kea_version)?,
        build_system: entry.build_system,
        newest_input_time: entry.newest_input_time,
        // Only a build in the tree records it (for a later overlay); a restored build has none.
        kea_input_time: 0,
    };
    let prepared = Prepared::checked(plan, tree, (kea, premium), Vec::new())?;
    let tree = &prepared.tree;
    let (epoch, epoch_source) = resolve_epoch(req.epoch, tree.newest_input_time)?;
    let opts = build_options(plan, environment, tree)?;
    let stage = work.join("stage");
    let whole = entry_dir.join(crate::run::build_cache::STAGE);
    if plan.own_runtime() {
        anyhow::ensure!(whole.is_dir(), "the build cache entry {} holds no staged Kea", entry_dir.display());
        crate::run::build_cache::copy_tree(&whole, &stage).context("cannot copy the staged Kea from the build cache")?;
    }
    let hooks_dir = stage.join(&entry.hooks_dir);
    std::fs::create_dir_all(&hooks_dir).with_context(|| format!("cannot create {}", hooks_dir.display()))?;
    let mut hooks = Vec::new();
    for h in &entry.hooks {
        let path = hooks_dir.join(&h.library);
        std::fs::copy(entry_dir.join("hooks").join(&h.library), &path).with_context(|| format!("cannot copy {} from the build cache", h.library))?;
        hooks.push(crate::stage::StagedHook { library: h.library.clone(), path, premium: h.premium, machine: h.machine.clone() });
    }
    let mut debug_files = Vec::new();
    if req.debug_symbols {
        for d in &entry.debug_files {
            let path = work.join("debug").join(&d.path);
            std::fs::create_dir_all(path.parent().expect("has a parent"))?;
            std::fs::copy(entry_dir.join("debug").join(&d.path), &path).with_context(|| format!("cannot copy the debug file of {} from the build cache", d.library))?;
            debug_files.push(crate::stage::debug::DebugFile { library: d.library.clone(), build_id: d.build_id.clone(), path });
        }
    }
    let built = build::BuildOutput {
        stage: stage.clone(),
        report: crate::build::report::PremiumReport { premium: entry.report_premium.clone(), included_hooks: entry.report_included_hooks.clone(), evidence: entry.report_evidence.clone() },
        premium_libraries: entry.premium_libraries.iter().cloned().collect(),
        configure_args: entry.configure_args.clone(),
    };
    let env = build_env(&opts, tree, epoch);
    let installed = if plan.own_runtime() {
        // Stripped when it was stored: read as it is.
        crate::stage::runtime::inventory(&stage, &[], None)?
    } else {
        Vec::new()
    };
    Ok((prepared, Staged { hooks, debug_files, installed, built, opts, env, epoch, epoch_source }))
}

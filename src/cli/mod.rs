//! keapack's command line: parse the arguments (`args`), run the subcommand through the library,
//! and end it (`exit`: errors as sentences, exit codes, the closing event). `main.rs` calls [`main`].

use anyhow::Result;
use clap::{CommandFactory, Parser};

use crate::plan::catalog::{Catalog, HookInfo};
use crate::plan::guidance::{self, GuidanceInput, Templates};
use crate::plan::manifest::Manifest;
use crate::run::pipeline;
use crate::run::request::BuildRequest;
use crate::plan::profile::{ArchiveKea, Profiles, RuntimeStyle};
use crate::source::BuildSystem;
use crate::build::deps;
use crate::run::demo;
use crate::support::listener::{Channel, Human, Json, Listener};
use crate::support::stdout::Stdout;
use std::sync::Arc;
use std::io::Write;
use std::process::ExitCode;


pub(crate) mod args;
pub(crate) mod exit;
pub(crate) mod help;
pub(crate) mod mansections;
pub(crate) mod cache;
pub(crate) mod targets;
pub(crate) mod suggest;

use args::*;

/// Parse the command line, run the subcommand, and return its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let (quiet, format) = match &cli.command {
        Cmd::Build(a) => (a.common.quiet, a.common.format.message_format),
        Cmd::Demo(a) => (a.common.quiet, a.common.format.message_format),
        Cmd::Lint(a) => (false, a.format.message_format),
        Cmd::Publish(a) => (false, a.format.message_format),
        Cmd::Verify(a) => (false, a.format.message_format),
        Cmd::Sign(a) => (false, a.format.message_format),
        _ => (false, MessageFormat::Human),
    };
    // The one channel of this command: everything it says goes through it.
    let listener: Channel = match format {
        MessageFormat::Human => Human::channel(quiet),
        MessageFormat::Json => Arc::new(Json::new(quiet)),
    };
    if let Err(e) = crate::support::interrupt::install() {
        listener.warning(&format!("cannot watch for SIGINT/SIGTERM: {e}"));
    }
    // The commands that report events end through exit::run (events, exit codes).
    let result = match cli.command {
        Cmd::Build(a) => return exit::run("build", &listener, |l| run_build(a, l).map(|()| 0)),
        Cmd::Demo(a) => return exit::run("demo", &listener, |l| run_demo(a, l).map(|()| 0)),
        Cmd::Lint(a) => return exit::run("lint", &listener, |l| run_lint(a, l)),
        Cmd::Guidance(a) => run_guidance(a),
        Cmd::Publish(a) => return exit::run("publish", &listener, |l| run_publish(a, l).map(|()| 0)),
        Cmd::Verify(a) => return exit::run("verify", &listener, |l| run_verify(a, l).map(|()| 0)),
        Cmd::Sign(a) => return exit::run("sign", &listener, |l| run_sign(a, l).map(|()| 0)),
        Cmd::Cache(c) => cache::run_command(&c, &mut Stdout, listener.as_ref()),
        Cmd::Targets(a) => run_targets(a),
        Cmd::Completions { shell } => {
            let mut script = Vec::new();
            help::completions(Cli::command(), shell, &mut script).and_then(|()| Stdout.write_all(&script)).map_err(Into::into)
        }
        Cmd::Man { out } => help::man_pages(Cli::command(), &out).and_then(|pages| pages.iter().try_for_each(|p| writeln!(Stdout, "{}", p.display()).map_err(Into::into))),
    };
    // The other commands print no events: they end as a person expects.
    exit::run("", &Human::channel(false), |_| result.map(|()| 0))
}

fn run_targets(a: TargetsArgs) -> Result<()> {
    // Everything before the printing checks the request: its errors are refusals (exit 2).
    let listing = (|| {
        let manifest = match &a.manifest {
            Some(p) => Manifest::load(p)?,
            None => Manifest::default(),
        };
        let mut profiles = Profiles::builtin();
        manifest.add_profiles(&mut profiles)?;
        let named = if a.targets.is_empty() { &manifest.targets } else { &a.targets };
        crate::run::targets::listing(&profiles, named)
    })()
    .map_err(exit::refused)?;
    targets::print(&listing, a.json, &mut Stdout)
}

fn request(common: &Common, work_name: &str) -> BuildRequest {
    BuildRequest {
        targets: common.targets.clone(),
        out: pipeline::absolute(&common.out),
        work: pipeline::absolute(&common.work.clone().unwrap_or_else(|| pipeline::default_work_dir(work_name))),
        jobs: common.jobs,
        revision: common.revision.clone(),
        split: common.split,
        meta: common.meta,
        runtime: common.runtime,
        templates_dir: common.templates.clone(),
        debug_symbols: common.debug_symbols,
        build_env: match common.build_env {
            BuildEnvArg::Auto => crate::run::request::BuildEnvChoice::Auto,
            BuildEnvArg::Host => crate::run::request::BuildEnvChoice::Host,
        },
        mirror: common.mirror.clone(),
        rehearsal: common.dry_run,
        no_cache: common.no_cache || std::env::var_os("KEAPACK_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0"),
        full_build: common.full_build,
        ccache: if common.ccache { Some(true) } else if common.no_ccache { Some(false) } else { None },
        verify_load: common.verify_load,
        ..BuildRequest::default()
    }
}

fn install_deps(common: &Common, work: &std::path::Path, set: deps::DepSet, listener: &Channel) -> Result<()> {
    if common.install_deps {
        // Its logs go into the work directory, so the directory must be keapack's first.
        crate::support::worklock::claim(work)?;
        let mut runner = crate::support::runner::Runner::new(&work.join("logs"), Vec::new(), listener.clone())?;
        deps::install(&crate::plan::family::Families::builtin().package_managers(), set, &mut runner)?;
    }
    Ok(())
}

fn report(outcome: &pipeline::BuildOutcome, common: &Common, listener: &dyn Listener) -> Result<()> {
    {
        let mut out = listener.report();
        for p in outcome.packages.iter().chain([&outcome.record, &outcome.sums]) {
            writeln!(out, "{}", p.display())?;
        }
    }
    if common.lint {
        let code = crate::check::lint::lint_all(&outcome.packages, crate::check::lint::LintOptions::default(), listener)?;
        match code {
            0 => {}
            1 => anyhow::bail!("lint: the packages were written, but lintian or rpmlint found problems (above)"),
            _ => return Err(exit::LintUnchecked.into()),
        }
    }
    Ok(())
}

fn run_lint(a: LintArgs, listener: &Channel) -> Result<u8> {
    let opts = crate::check::lint::LintOptions { signed: a.signed, explain: a.info, key: a.key_file };
    // An error here (no package named, a directory with none) means nothing was checked: exit 2,
    // as for an unreadable package; a closed standard output ends as for every command.
    crate::check::lint::packages_in(&a.packages).and_then(|packages| crate::check::lint::lint_all(&packages, opts, listener.as_ref())).or_else(|e| {
        if crate::support::stdout::closed(&e) {
            return Err(e);
        }
        exit::print_error(&e, listener.as_ref());
        Ok(exit::EXIT_USAGE)
    })
}

fn run_verify(a: VerifyArgs, listener: &Channel) -> Result<()> {
    use crate::run::verify;
    let (groups, manifest) = (|| {
        let manifest = match &a.manifest {
            Some(p) => Manifest::load(p)?,
            None => Manifest::default(),
        };
        let mut profiles = Profiles::builtin();
        manifest.add_profiles(&mut profiles)?;
        let packages: Vec<std::path::PathBuf> = crate::check::lint::packages_in(&a.packages)?.into_iter().filter(|p| !verify::is_debug_package(p)).collect();
        anyhow::ensure!(!packages.is_empty(), "no package to verify: only debug-symbols packages were named");
        Ok::<_, anyhow::Error>((verify::by_target(&profiles, &packages, a.target.as_deref())?, manifest))
    })()
    .map_err(exit::refused)?;
    let work = pipeline::absolute(&a.work.clone().unwrap_or_else(|| pipeline::default_work_dir("verify")));
    let _lock = crate::support::worklock::lock(&work)?;
    let catalog = Catalog::builtin();
    let mirror = a.mirror.clone().or_else(|| manifest.build.mirror.clone());
    let requests: Vec<verify::Request> = groups
        .iter()
        .map(|(target, packages)| verify::Request {
            target,
            packages: packages.clone(),
            runtime: a.runtime.unwrap_or_else(|| verify::runtime_of(&packages.iter().filter_map(|p| crate::publish::debfile::read(p).ok().map(|d| d.control)).collect::<Vec<_>>())),
            dir: work.join(target.id()),
            mirror: mirror.clone(),
            catalog: &catalog,
            parameters: &manifest.verify.parameters,
            own_packages: false,
        })
        .collect();
    let results = verify::verify_all(&requests, listener)?;
    let mut out = listener.report();
    for v in &results {
        writeln!(out, "{}", v.summary())?;
    }
    Ok(())
}

fn run_publish(a: PublishArgs, listener: &Channel) -> Result<()> {
    let req = crate::publish::repo::PublishRequest { repo: a.repo.clone(), packages: a.packages, url: a.url, key: a.key.source(), keep: a.keep, name: a.name };
    crate::publish::repo::check_request(&req).map_err(exit::refused)?;
    let outcome = crate::publish::repo::publish(&req, listener.as_ref())?;
    let mut out = listener.report();
    for f in &outcome.client_files {
        writeln!(out, "{}", f.display())?;
    }
    Ok(())
}

fn run_sign(a: SignArgs, listener: &Channel) -> Result<()> {
    crate::publish::sign::sign_files(&a.packages, &a.key.source(), listener.as_ref())?;
    Ok(())
}

/// Resolve the run (every early refusal), print it for `--dry-run`, else install what it needs
/// and run it: once, or twice and compared with `--check-reproducible`.
fn resolve_and_run(common: &Common, req: &BuildRequest, deps: deps::DepSet, listener: &Channel) -> Result<()> {
    // resolve makes every check that needs no work: what it refuses is a usage or input mistake.
    let plan = crate::run::request::resolve(req).map_err(exit::refused)?;
    if common.dry_run {
        write!(listener.report(), "{}", plan.describe())?;
        return Ok(());
    }
    install_deps(common, &req.work, deps, listener)?;
    let outcome = if common.check_reproducible { crate::run::reproduce::check(&plan, listener, pipeline::run)? } else { pipeline::run(&plan, listener)? };
    report(&outcome, common, listener.as_ref())
}

fn run_build(a: BuildArgs, listener: &Channel) -> Result<()> {
    let name = a.kea.file_name().and_then(|n| n.to_str()).map(crate::source::version::strip_archive_ext).unwrap_or("kea").to_string();
    let mut req = request(&a.common, &name);
    req.kea = a.kea;
    req.premium = a.premium;
    req.manifest = match &a.manifest {
        Some(p) => Manifest::load(p).map_err(exit::refused)?,
        None => Manifest::default(),
    };
    req.extra_configure = a.configure;
    req.build_system = a.build_system.map(BuildSystem::from);
    req.allow_version_mismatch = a.allow_version_mismatch;
    req.limits = crate::source::extract::Limits { max_bytes: a.max_unpacked_size, max_entries: a.max_entries };
    resolve_and_run(&a.common, &req, deps::DepSet::Kea, listener)
}

fn run_demo(a: DemoArgs, listener: &Channel) -> Result<()> {
    let mut req = request(&a.common, "demo");
    req.example = true;
    req.build_system = Some(BuildSystem::from(a.build_system));
    req.manifest = Manifest::parse(crate::plan::manifest::EXAMPLE, "packaging/example-manifest.toml")?;
    req.epoch = Some(pipeline::env_epoch().map_err(exit::refused)?.unwrap_or(demo::DEMO_EPOCH));
    resolve_and_run(&a.common, &req, deps::DepSet::Example, listener)
}

/// The Kea version `keapack guidance` shows when neither `--kea-version` nor the target's
/// archive names one.
const GUIDANCE_KEA: &str = "2.6.5";

fn run_guidance(a: GuidanceArgs) -> Result<()> {
    let catalog = Catalog::builtin();
    let mut target = Profiles::builtin().target(&a.target).map_err(exit::refused)?;
    let runtime = if a.isc { RuntimeStyle::Isc } else { a.runtime };
    if runtime == RuntimeStyle::Own {
        let probe = crate::plan::manifest::PackageSection { runtime, runtime_prefix: Some(a.runtime_prefix.clone()), ..Default::default() };
        crate::plan::manifest::check_package(&probe).map_err(|e| exit::refused(anyhow::anyhow!("--runtime-prefix: {e}")))?;
        target.name_own_runtime(&a.runtime_prefix).map_err(exit::refused)?;
    }
    let kea = match (&a.kea_version, &target.profile.kea) {
        (Some(v), _) => crate::source::version::KeaVersion::parse(v).map_err(exit::refused)?,
        (None, ArchiveKea::Version(v)) if runtime == RuntimeStyle::Distribution => v.clone(),
        (None, _) => crate::source::version::KeaVersion::parse(GUIDANCE_KEA)?,
    };
    let hooks: Vec<HookInfo> = if a.hooks.is_empty() {
        catalog.overlay_hooks(&kea)
    } else {
        catalog.select(&a.hooks, &kea).map_err(exit::refused)?
    };
    let (upstream, revision) = crate::plan::version_and_revision(target.profile.family, &kea, "1", &target.profile.dist_tag);
    let version = format!("{upstream}-{revision}");
    let input = GuidanceInput {
        package: &a.package,
        version: &version,
        kea_version: &kea.to_string(),
        hooks: &hooks,
        target: &target,
        runtime,
    };
    Stdout.write_all(guidance::render(&Templates::builtin(), &catalog, &input)?.text.as_bytes())?;
    Ok(())
}

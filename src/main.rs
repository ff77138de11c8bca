//! keapack's command line: parse arguments, call the library, print errors as sentences.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use keapack::catalog::{Catalog, HookInfo};
use keapack::guidance::{self, GuidanceInput, Templates};
use keapack::manifest::Manifest;
use keapack::pipeline::{self, BuildRequest};
use keapack::profile::{Profiles, RuntimeStyle};
use keapack::{demo, deps};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "keapack", version, about = "Build Kea with its premium hooks and package them as .deb and .rpm")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build Kea with the premium overlay and write hook packages for each target.
    Build(BuildArgs),
    /// Run the whole flow on the bundled example tree and overlay.
    Demo(DemoArgs),
    /// Print the configuration guidance a package would print, without building.
    Guidance(GuidanceArgs),
}

#[derive(Args)]
struct Common {
    /// Target: a profile and an architecture (debian-12-amd64, rhel-9-x86_64); repeatable.
    #[arg(long = "target", short = 't')]
    targets: Vec<String>,
    /// Output directory for packages and SHA256SUMS.
    #[arg(long, short = 'o', default_value = "dist")]
    out: PathBuf,
    /// Work directory (default: ~/.cache/keapack/<input name>).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Parallel make jobs (default: number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Package revision (Debian revision / rpm release before the dist tag).
    #[arg(long)]
    revision: Option<String>,
    /// Directory of templates overriding the built-in ones, file by file.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Install missing build prerequisites with apt-get or dnf first.
    #[arg(long)]
    install_deps: bool,
    /// Print only warnings and errors.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Also write each target's debug symbols as a -dbgsym (.deb) / -debuginfo (.rpm) package.
    #[arg(long)]
    debug_symbols: bool,
    /// Build a second time (other work directory, TZ, LANG, umask) and fail if any output differs.
    #[arg(long)]
    check_reproducible: bool,
}

#[derive(Args)]
struct BuildArgs {
    /// Kea source: kea-X.Y.Z.tar.gz, .tar.xz, or an unpacked directory.
    #[arg(long)]
    kea: PathBuf,
    /// Premium (or subscriber) overlay: kea-premium-X.Y.Z.tar.gz or a directory holding premium/.
    #[arg(long)]
    premium: PathBuf,
    /// Manifest (keapack.toml) with package details, targets and configure options.
    #[arg(long, short = 'm')]
    manifest: Option<PathBuf>,
    /// Build even when the overlay's version differs from Kea's (warns).
    #[arg(long)]
    allow_version_mismatch: bool,
    #[command(flatten)]
    common: Common,
    /// Extra configure options, after `--` (the same options as the Kea you run).
    #[arg(last = true)]
    configure: Vec<String>,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct GuidanceArgs {
    /// Target whose paths the guidance uses.
    #[arg(long, short = 't', default_value = "debian-12-amd64")]
    target: String,
    /// The Kea version the hooks were built for.
    #[arg(long, default_value = "2.6.5")]
    kea_version: String,
    /// Package name shown in the text.
    #[arg(long, default_value = "kea-premium-hooks")]
    package: String,
    /// Depend on ISC's packages rather than the distribution's.
    #[arg(long)]
    isc: bool,
    /// Hooks (catalog names such as host_cmds, or library files); default: all premium ones.
    hooks: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Build(a) => run_build(a),
        Cmd::Demo(a) => run_demo(a),
        Cmd::Guidance(a) => run_guidance(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keapack: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn request(common: &Common, work_name: &str) -> BuildRequest {
    BuildRequest {
        targets: common.targets.clone(),
        out: pipeline::absolute(&common.out),
        work: pipeline::absolute(&common.work.clone().unwrap_or_else(|| pipeline::default_work_dir(work_name))),
        jobs: common.jobs,
        revision: common.revision.clone(),
        templates_dir: common.templates.clone(),
        quiet: common.quiet,
        debug_symbols: common.debug_symbols,
        ..BuildRequest::default()
    }
}

fn install_deps(common: &Common, work: &std::path::Path, set: deps::DepSet) -> Result<()> {
    if common.install_deps {
        let mut runner = keapack::runner::Runner::new(&work.join("logs"), Vec::new(), common.quiet)?;
        deps::install(set, &mut runner)?;
    }
    Ok(())
}

fn report(outcome: &pipeline::BuildOutcome) {
    for p in &outcome.packages {
        println!("{}", p.display());
    }
    println!("{}", outcome.record.display());
    println!("{}", outcome.sums.display());
}

/// Build once, or twice and compare with `--check-reproducible`.
fn checked(common: &Common, req: &BuildRequest, build: fn(&BuildRequest) -> Result<pipeline::BuildOutcome>) -> Result<pipeline::BuildOutcome> {
    if common.check_reproducible { keapack::reproduce::check(req, build) } else { build(req) }
}

fn run_build(a: BuildArgs) -> Result<()> {
    let name = a.kea.file_name().and_then(|n| n.to_str()).map(keapack::version::strip_archive_ext).unwrap_or("kea").to_string();
    let mut req = request(&a.common, &name);
    req.kea = a.kea;
    req.premium = a.premium;
    req.manifest = match &a.manifest {
        Some(p) => Manifest::load(p)?,
        None => Manifest::default(),
    };
    req.extra_configure = a.configure;
    req.allow_version_mismatch = a.allow_version_mismatch;
    install_deps(&a.common, &req.work, deps::DepSet::Kea)?;
    report(&checked(&a.common, &req, pipeline::build)?);
    Ok(())
}

fn run_demo(a: DemoArgs) -> Result<()> {
    let mut req = request(&a.common, "demo");
    install_deps(&a.common, &req.work, deps::DepSet::Example)?;
    req.manifest = Manifest::parse(keapack::manifest::EXAMPLE, "packaging/example-manifest.toml")?;
    req.epoch = Some(pipeline::env_epoch()?.unwrap_or(demo::DEMO_EPOCH));
    report(&checked(&a.common, &req, demo::build)?);
    Ok(())
}

fn run_guidance(a: GuidanceArgs) -> Result<()> {
    let catalog = Catalog::builtin();
    let target = Profiles::builtin().target(&a.target)?;
    let hooks: Vec<HookInfo> = if a.hooks.is_empty() {
        catalog.hook.iter().filter(|h| h.kind == keapack::catalog::HookKind::Premium).cloned().collect()
    } else {
        a.hooks
            .iter()
            .map(|n| catalog.by_name(n).cloned().with_context(|| format!("the hooks catalog has no hook '{n}'")))
            .collect::<Result<_>>()?
    };
    let kea = keapack::version::KeaVersion::parse(&a.kea_version)?;
    let version = format!("{}-1", kea.debian());
    let input = GuidanceInput {
        package: &a.package,
        version: &version,
        kea_version: &kea.to_string(),
        hooks: &hooks,
        target: &target,
        runtime: if a.isc { RuntimeStyle::Isc } else { RuntimeStyle::Distribution },
    };
    print!("{}", guidance::render(&Templates::builtin(), &catalog, &input)?.text);
    Ok(())
}

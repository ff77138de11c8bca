//! keapack's command line: parse arguments, call the library, print errors as sentences.

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use keapack::cli_extra;
use keapack::support::events::MessageFormat;
use keapack::plan::catalog::{Catalog, HookInfo};
use keapack::plan::guidance::{self, GuidanceInput, Templates};
use keapack::plan::manifest::Manifest;
use keapack::pipeline::{self, BuildRequest};
use keapack::plan::profile::{ArchiveKea, Profiles, RuntimeStyle};
use keapack::source::BuildSystem;
use keapack::build::deps;
use keapack::demo;
use keapack::support::output;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "keapack", version, about = "Build Kea with its premium hooks and package them as .deb and .rpm")]
struct Cli {
    /// How build, demo and lint report: sentences (human) or one JSON event per line on stdout
    /// (json; the sentences and reports then go to stderr). See the README's "JSON events".
    #[arg(long, global = true, value_enum, default_value = "human")]
    message_format: MessageFormat,
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
    /// Check packages with lintian (.deb) and rpmlint (.rpm); exit 1 on findings, 2 when unchecked.
    Lint(LintArgs),
    /// Add packages (or a build's --out directory) to signed apt and dnf repositories.
    Publish(PublishArgs),
    /// Sign .rpm packages in place (header signatures rpm 4.16+ and RHEL 9 accept).
    Sign(SignArgs),
    /// List or prune the build cache ($XDG_CACHE_HOME/keapack/builds).
    #[command(subcommand)]
    Cache(keapack::cache::CacheCmd),
    /// List the targets the profiles define and the build environments that build them (--json: a CI matrix).
    Targets(TargetsArgs),
    /// Write a shell completion script to stdout (source it, or install it where the shell looks).
    Completions {
        #[arg(value_enum)]
        shell: keapack::cli_extra::Shell,
    },
    /// Write a man page for keapack and each subcommand (keapack.1, keapack-build.1, …).
    Man {
        /// Directory for the pages.
        #[arg(long, default_value = "man")]
        out: PathBuf,
    },
}

#[derive(Args)]
struct TargetsArgs {
    /// Print the listing as JSON: targets, and environments with their container images.
    #[arg(long)]
    json: bool,
    /// Only these targets (default: the manifest's, else every architecture of every profile).
    #[arg(long = "target", short = 't', help = keapack::cli_extra::target_help())]
    targets: Vec<String>,
    /// Manifest whose targets and extra profiles to list.
    #[arg(long, short = 'm')]
    manifest: Option<PathBuf>,
}

#[derive(Args)]
struct Common {
    #[arg(long = "target", short = 't', help = keapack::cli_extra::target_help())]
    targets: Vec<String>,
    /// Output directory for packages and SHA256SUMS.
    #[arg(long, short = 'o', default_value = "dist")]
    out: PathBuf,
    /// Work directory (default: ~/.cache/keapack/<input name>): new, empty, or one keapack made (.keapack-work).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Parallel make jobs (default: number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Package revision (Debian revision / rpm release before the dist tag).
    #[arg(long)]
    revision: Option<String>,
    /// One package for all hooks (bundle) or one per hook (per-hook, named like ISC's).
    #[arg(long, value_enum)]
    split: Option<keapack::plan::manifest::Split>,
    /// With --split per-hook: also write a meta package depending on every hook package.
    #[arg(long)]
    meta: bool,
    /// Which Kea the hooks depend on and load into: the target release's own (distribution) or
    /// ISC's packages (isc); default: the manifest's package.runtime.
    #[arg(long, value_enum)]
    runtime: Option<RuntimeStyle>,
    /// Directory of templates overriding the built-in ones, file by file.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Install missing build prerequisites with apt-get or dnf first.
    #[arg(long)]
    install_deps: bool,
    /// Print only warnings and errors.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Check the written packages with lintian and rpmlint (as `keapack lint`); fail on findings.
    #[arg(long)]
    lint: bool,
    /// Also write each target's debug symbols as a -dbgsym (.deb) / -debuginfo (.rpm) package.
    #[arg(long)]
    debug_symbols: bool,
    /// Build a second time (other work directory, TZ, LANG, umask) and fail if any output differs.
    #[arg(long)]
    check_reproducible: bool,
    /// Build and install all of Kea (daemons, tools, every hook), not only the libraries and
    /// hooks the packages need; the packages are the same.
    #[arg(long)]
    full_build: bool,
    /// Compile through ccache (default: when ccache is installed), cached in keapack's cache directory.
    #[arg(long, conflicts_with = "no_ccache")]
    ccache: bool,
    /// Do not compile through ccache, even when it is installed.
    #[arg(long)]
    no_ccache: bool,
    /// Where to build a target of another release than this host's: `auto` builds it in a root
    /// of its release (Debian family, made with debootstrap and cached), `host` on this host.
    #[arg(long, value_enum, default_value = "auto")]
    build_env: BuildEnvArg,
    /// Debian-family mirror for build roots (default: the manifest's build.mirror, else this
    /// host's own Debian mirror, or Ubuntu's archive for Ubuntu).
    #[arg(long)]
    mirror: Option<String>,
    /// Check everything that can be checked without building, print the plan (steps, targets,
    /// every output's file name) and stop.
    #[arg(long)]
    dry_run: bool,
    /// Neither reuse a build from the build cache nor keep this one there (also: KEAPACK_NO_CACHE=1).
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
struct LintArgs {
    /// The .deb and .rpm files to check.
    #[arg(required = true)]
    packages: Vec<PathBuf>,
    /// The .rpm files are signed: count rpmlint's no-signature error.
    #[arg(long)]
    signed: bool,
    /// Explain each tag (the checkers' --info).
    #[arg(long)]
    info: bool,
    /// With --signed: the public key the .rpm files are signed with, so rpmlint can check them.
    #[arg(long, requires = "signed")]
    key: Option<PathBuf>,
}

/// The signing key: from GnuPG by fingerprint, or from a key file.
#[derive(Args)]
struct KeyArgs {
    /// Sign with this key of your GnuPG (fingerprint; its agent, pinentry or smartcard sign).
    #[arg(long, required_unless_present = "key_file", conflicts_with = "key_file")]
    gpg_key: Option<String>,
    /// Sign with the secret key in this file (armoured or binary), e.g. a CI secret.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// The environment variable holding the --key-file's passphrase.
    #[arg(long, requires = "key_file")]
    passphrase_env: Option<String>,
}

impl KeyArgs {
    fn source(&self) -> keapack::publish::sign::KeySource {
        match (&self.gpg_key, &self.key_file) {
            (Some(fpr), _) => keapack::publish::sign::KeySource::Gpg(fpr.clone()),
            (None, Some(path)) => keapack::publish::sign::KeySource::File { path: path.clone(), passphrase_env: self.passphrase_env.clone() },
            (None, None) => unreachable!("clap requires one of --gpg-key and --key-file"),
        }
    }
}

#[derive(Args)]
struct PublishArgs {
    /// The repository directory (created if missing).
    #[arg(long)]
    repo: PathBuf,
    /// The URL clients reach the repository at, for the client files (default: file://REPO).
    #[arg(long)]
    url: Option<String>,
    /// Keep this many versions of each package; older ones are removed (default: all).
    #[arg(long)]
    keep: Option<usize>,
    /// Name of the repository, its key files and client files.
    #[arg(long, default_value = "keapack")]
    name: String,
    #[command(flatten)]
    key: KeyArgs,
    /// .deb and .rpm files, or directories holding them (a build's --out).
    #[arg(required = true)]
    packages: Vec<PathBuf>,
}

#[derive(Args)]
struct SignArgs {
    #[command(flatten)]
    key: KeyArgs,
    /// The .rpm files to sign in place.
    #[arg(required = true)]
    packages: Vec<PathBuf>,
}

/// `--build-env`: where targets of other releases are built.
#[derive(Clone, Copy, ValueEnum)]
enum BuildEnvArg {
    Auto,
    Host,
}

/// `--build-system`: which of Kea's build systems to run.
#[derive(Clone, Copy, ValueEnum)]
enum BuildSystemArg {
    Autotools,
    Meson,
}

impl From<BuildSystemArg> for BuildSystem {
    fn from(a: BuildSystemArg) -> Self {
        match a {
            BuildSystemArg::Autotools => BuildSystem::Autotools,
            BuildSystemArg::Meson => BuildSystem::Meson,
        }
    }
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
    /// Build system for a Kea tree that has both configure.ac and meson.build (2.7.7–2.7.9;
    /// default: meson, or the manifest's build-system).
    #[arg(long, value_enum)]
    build_system: Option<BuildSystemArg>,
    /// Refuse an input (archive or directory) whose files come to more than this many bytes (a
    /// sparse file counts by its length).
    #[arg(long, default_value_t = keapack::source::extract::Limits::default().max_bytes)]
    max_unpacked_size: u64,
    /// Refuse an input (archive or directory) with more than this many entries.
    #[arg(long, default_value_t = keapack::source::extract::Limits::default().max_entries)]
    max_entries: u64,
    #[command(flatten)]
    common: Common,
    /// Extra configure (or `meson setup`) options, after `--` (the same options as the Kea you run).
    #[arg(last = true)]
    configure: Vec<String>,
}

#[derive(Args)]
struct DemoArgs {
    /// Which bundled example to build: the autotools tree (kea-2.2.0) or the meson tree (kea-meson-2.2.0).
    #[arg(long, value_enum, default_value = "autotools")]
    build_system: BuildSystemArg,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
struct GuidanceArgs {
    /// Target whose paths the guidance uses (a profile and an architecture, see `keapack targets`).
    #[arg(long, short = 't', default_value = "debian-12-amd64")]
    target: String,
    /// The Kea version the hooks were built for (default: the Kea the target's archive ships,
    /// else 2.6.5).
    #[arg(long)]
    kea_version: Option<String>,
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
    if let Err(e) = keapack::support::interrupt::install() {
        output::warning(&format!("cannot watch for SIGINT/SIGTERM: {e}"));
    }
    let format = cli.message_format;
    // The commands that report events end through cli_extra::run (events, exit codes).
    let result = match cli.command {
        Cmd::Build(a) => return cli_extra::run("build", format, || run_build(a).map(|()| 0)),
        Cmd::Demo(a) => return cli_extra::run("demo", format, || run_demo(a).map(|()| 0)),
        Cmd::Lint(a) => return cli_extra::run("lint", format, || run_lint(a)),
        Cmd::Guidance(a) => run_guidance(a),
        Cmd::Publish(a) => return cli_extra::run("publish", format, || run_publish(a).map(|()| 0)),
        Cmd::Sign(a) => return cli_extra::run("sign", format, || run_sign(a).map(|()| 0)),
        Cmd::Cache(c) => keapack::cache::run_command(&c, &mut std::io::stdout()),
        Cmd::Targets(a) => run_targets(a),
        Cmd::Completions { shell } => {
            cli_extra::completions(Cli::command(), shell, &mut std::io::stdout());
            Ok(())
        }
        Cmd::Man { out } => cli_extra::man_pages(Cli::command(), &out).map(|pages| pages.iter().for_each(|p| println!("{}", p.display()))),
    };
    cli_extra::run("", MessageFormat::Human, || result.map(|()| 0))
}

fn run_targets(a: TargetsArgs) -> Result<()> {
    let manifest = match &a.manifest {
        Some(p) => Manifest::load(p)?,
        None => Manifest::default(),
    };
    let mut profiles = Profiles::builtin();
    manifest.add_profiles(&mut profiles);
    let named = if a.targets.is_empty() { &manifest.targets } else { &a.targets };
    let listing = keapack::targets::listing(&profiles, named)?;
    keapack::targets::print(&listing, a.json, &mut std::io::stdout())
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
        quiet: common.quiet,
        debug_symbols: common.debug_symbols,
        build_env: match common.build_env {
            BuildEnvArg::Auto => keapack::runplan::BuildEnvChoice::Auto,
            BuildEnvArg::Host => keapack::runplan::BuildEnvChoice::Host,
        },
        mirror: common.mirror.clone(),
        no_cache: common.no_cache || std::env::var_os("KEAPACK_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0"),
        full_build: common.full_build,
        ccache: if common.ccache { Some(true) } else if common.no_ccache { Some(false) } else { None },
        ..BuildRequest::default()
    }
}

fn install_deps(common: &Common, work: &std::path::Path, set: deps::DepSet) -> Result<()> {
    if common.install_deps {
        // Its logs go into the work directory, so the directory must be keapack's first.
        keapack::support::worklock::claim(work)?;
        let mut runner = keapack::support::runner::Runner::new(&work.join("logs"), Vec::new(), common.quiet)?;
        deps::install(set, &mut runner)?;
    }
    Ok(())
}

fn report(outcome: &pipeline::BuildOutcome, common: &Common) -> Result<()> {
    let mut out = cli_extra::report_out();
    for p in outcome.packages.iter().chain([&outcome.record, &outcome.sums]) {
        writeln!(out, "{}", p.display())?;
    }
    keapack::support::events::build_outputs(outcome)?;
    if common.lint {
        let code = keapack::lint::lint_all(&outcome.packages, keapack::lint::LintOptions::default(), &mut out)?;
        match code {
            0 => {}
            1 => anyhow::bail!("lint: the packages were written, but lintian or rpmlint found problems (above)"),
            _ => return Err(cli_extra::LintUnchecked.into()),
        }
    }
    Ok(())
}

fn run_lint(a: LintArgs) -> Result<u8> {
    let opts = keapack::lint::LintOptions { signed: a.signed, explain: a.info, key: a.key };
    // An error here (no package named) means nothing was checked: exit 2, as for an unreadable package.
    keapack::lint::lint_all(&a.packages, opts, &mut cli_extra::report_out()).or_else(|e| {
        cli_extra::print_error(&e);
        Ok(cli_extra::EXIT_UNCHECKED)
    })
}

fn run_publish(a: PublishArgs) -> Result<()> {
    let req = keapack::publish::repo::PublishRequest { repo: a.repo.clone(), packages: a.packages, url: a.url, key: a.key.source(), keep: a.keep, name: a.name };
    let outcome = keapack::publish::repo::publish(&req)?;
    for f in &outcome.added {
        keapack::support::events::output_written(&req.repo.join(f), "", "repository-package")?;
    }
    for f in &outcome.client_files {
        keapack::support::events::output_written(f, "", "client-configuration")?;
    }
    let mut out = cli_extra::report_out();
    for f in &outcome.client_files {
        writeln!(out, "{}", f.display())?;
    }
    Ok(())
}

fn run_sign(a: SignArgs) -> Result<()> {
    for p in keapack::publish::sign::sign_files(&a.packages, &a.key.source())? {
        keapack::support::events::output_written(&p, "", "signed-package")?;
    }
    Ok(())
}

/// Resolve the run (every early refusal), print it for `--dry-run`, else install what it needs
/// and run it: once, or twice and compared with `--check-reproducible`.
fn resolve_and_run(common: &Common, req: &BuildRequest, deps: deps::DepSet) -> Result<()> {
    let plan = keapack::runplan::resolve(req)?;
    if common.dry_run {
        write!(cli_extra::report_out(), "{}", plan.describe())?;
        return Ok(());
    }
    install_deps(common, &req.work, deps)?;
    let outcome = if common.check_reproducible { keapack::reproduce::check(&plan, pipeline::run)? } else { pipeline::run(&plan)? };
    report(&outcome, common)
}

fn run_build(a: BuildArgs) -> Result<()> {
    let name = a.kea.file_name().and_then(|n| n.to_str()).map(keapack::source::version::strip_archive_ext).unwrap_or("kea").to_string();
    let mut req = request(&a.common, &name);
    req.kea = a.kea;
    req.premium = a.premium;
    req.manifest = match &a.manifest {
        Some(p) => Manifest::load(p)?,
        None => Manifest::default(),
    };
    req.extra_configure = a.configure;
    req.build_system = a.build_system.map(BuildSystem::from);
    req.allow_version_mismatch = a.allow_version_mismatch;
    req.limits = keapack::source::extract::Limits { max_bytes: a.max_unpacked_size, max_entries: a.max_entries };
    resolve_and_run(&a.common, &req, deps::DepSet::Kea)
}

fn run_demo(a: DemoArgs) -> Result<()> {
    let mut req = request(&a.common, "demo");
    req.example = true;
    req.build_system = Some(BuildSystem::from(a.build_system));
    req.manifest = Manifest::parse(keapack::plan::manifest::EXAMPLE, "packaging/example-manifest.toml")?;
    req.epoch = Some(pipeline::env_epoch()?.unwrap_or(demo::DEMO_EPOCH));
    resolve_and_run(&a.common, &req, deps::DepSet::Example)
}

/// The Kea version `keapack guidance` shows when neither `--kea-version` nor the target's
/// archive names one.
const GUIDANCE_KEA: &str = "2.6.5";

fn run_guidance(a: GuidanceArgs) -> Result<()> {
    let catalog = Catalog::builtin();
    let target = Profiles::builtin().target(&a.target)?;
    let runtime = if a.isc { RuntimeStyle::Isc } else { RuntimeStyle::Distribution };
    let kea = match (&a.kea_version, &target.profile.kea) {
        (Some(v), _) => keapack::source::version::KeaVersion::parse(v)?,
        (None, ArchiveKea::Version(v)) if runtime == RuntimeStyle::Distribution => v.clone(),
        (None, _) => keapack::source::version::KeaVersion::parse(GUIDANCE_KEA)?,
    };
    let hooks: Vec<HookInfo> = if a.hooks.is_empty() {
        catalog.hook.iter().filter(|h| h.kind == keapack::plan::catalog::HookKind::Premium && h.in_kea(&kea)).cloned().collect()
    } else {
        catalog.select(&a.hooks, &kea)?
    };
    let (upstream, revision) = keapack::plan::version_and_revision(target.profile.family, &kea, "1", &target.profile.dist_tag);
    let version = format!("{upstream}-{revision}");
    let input = GuidanceInput {
        package: &a.package,
        version: &version,
        kea_version: &kea.to_string(),
        hooks: &hooks,
        target: &target,
        runtime,
    };
    print!("{}", guidance::render(&Templates::builtin(), &catalog, &input)?.text);
    Ok(())
}

//! The command line's arguments: every subcommand's flags as clap types, with their help texts.

use clap::{Args, Parser, Subcommand, ValueEnum};
use crate::plan::profile::RuntimeStyle;
use crate::source::BuildSystem;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "keapack", version, about = "Build Kea with its premium hooks and package them as .deb and .rpm")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Build Kea with the premium overlay and write hook packages for each target.
    Build(BuildArgs),
    /// Run the whole flow on the bundled example tree and overlay.
    Demo(DemoArgs),
    /// Print the configuration guidance a package would print, without building.
    Guidance(GuidanceArgs),
    /// Check packages with lintian (.deb) and rpmlint (.rpm); exit 1 on findings, 2 when unchecked.
    Lint(LintArgs),
    /// Install packages in a root of their release with the Kea they are for and load the hooks
    /// into each daemon (what build --verify-load does); exit 1 when Kea refuses them.
    Verify(VerifyArgs),
    /// Add packages (or a build's --out directory) to signed apt and dnf repositories.
    Publish(PublishArgs),
    /// Sign .rpm packages in place (header signatures rpm 4.16+ and RHEL 9 accept).
    Sign(SignArgs),
    /// List or prune the build cache ($XDG_CACHE_HOME/keapack/builds).
    #[command(subcommand)]
    Cache(crate::cli::cache::CacheCmd),
    /// List the targets the profiles define and the build environments that build them (--json: a CI matrix).
    Targets(TargetsArgs),
    /// Write a shell completion script to stdout (source it, or install it where the shell looks).
    Completions {
        #[arg(value_enum)]
        shell: crate::cli::help::Shell,
    },
    /// Write a man page for keapack and each subcommand (keapack.1, keapack-build.1, …).
    Man {
        /// Directory for the pages.
        #[arg(long, default_value = "man")]
        out: PathBuf,
    },
}

/// `--message-format`, on the commands that report events (build, demo, lint, publish, sign)
/// and only there: the others print one document (a listing, a text, a script, a page's path),
/// which events would only wrap, and a flag a command ignores would promise a `run-finished`
/// line it never prints; clap refuses it there as any unknown option.
#[derive(Args)]
pub(crate) struct FormatArg {
    /// How the command reports: sentences (human) or one JSON event per line on stdout (json;
    /// the sentences and reports then go to stderr). See docs/reference/events.md.
    #[arg(long, value_enum, default_value = "human")]
    pub(crate) message_format: MessageFormat,
}

#[derive(Args)]
pub(crate) struct TargetsArgs {
    /// Print the listing as JSON: targets, and environments with their container images.
    #[arg(long)]
    pub(crate) json: bool,
    /// Only these targets (default: the manifest's, else every architecture of every profile).
    #[arg(long = "target", short = 't', help = crate::cli::help::target_help())]
    pub(crate) targets: Vec<String>,
    /// Manifest whose targets and extra profiles to list.
    #[arg(long, short = 'm')]
    pub(crate) manifest: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct Common {
    #[command(flatten)]
    pub(crate) format: FormatArg,
    #[arg(long = "target", short = 't', help = crate::cli::help::target_help())]
    pub(crate) targets: Vec<String>,
    /// Output directory for packages and SHA256SUMS.
    #[arg(long, short = 'o', default_value = "dist")]
    pub(crate) out: PathBuf,
    /// Work directory (default: ~/.cache/keapack/<input name>): new, empty, or one keapack made (.keapack-work).
    #[arg(long)]
    pub(crate) work: Option<PathBuf>,
    /// Parallel make jobs (default: number of CPUs).
    #[arg(long, short = 'j')]
    pub(crate) jobs: Option<usize>,
    /// Package revision (Debian revision / rpm release before the dist tag).
    #[arg(long)]
    pub(crate) revision: Option<String>,
    /// One package for all hooks (bundle) or one per hook (per-hook, named like ISC's).
    #[arg(long, value_enum)]
    pub(crate) split: Option<crate::plan::manifest::Split>,
    /// With --split per-hook: also write a meta package depending on every hook package.
    #[arg(long)]
    pub(crate) meta: bool,
    /// Which Kea the hooks depend on and load into: the target release's own (distribution),
    /// ISC's packages (isc), or Kea's own packages written by this run from a full build (own);
    /// default: the manifest's package.runtime.
    #[arg(long, value_enum)]
    pub(crate) runtime: Option<RuntimeStyle>,
    /// Directory of templates overriding the built-in ones, file by file.
    #[arg(long)]
    pub(crate) templates: Option<PathBuf>,
    /// Install missing build prerequisites with apt-get or dnf first.
    #[arg(long)]
    pub(crate) install_deps: bool,
    /// Print only warnings and errors.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
    /// Check the written packages with lintian and rpmlint (as `keapack lint`); fail on findings.
    #[arg(long)]
    pub(crate) lint: bool,
    /// Before publishing into --out, install each target's packages in a cached root of its
    /// release with the Kea they are for, start each daemon with the printed snippet and
    /// control socket, and require the hooks loaded and their commands listed; a failure
    /// publishes nothing (manifest: build.verify-load).
    #[arg(long)]
    pub(crate) verify_load: bool,
    /// Also write each target's debug symbols as a -dbgsym (.deb) / -debuginfo (.rpm) package.
    #[arg(long)]
    pub(crate) debug_symbols: bool,
    /// Build a second time (other work directory, TZ, LANG, umask) and fail if any output differs.
    #[arg(long)]
    pub(crate) check_reproducible: bool,
    /// Build and install all of Kea (daemons, tools, every hook), not only the libraries and
    /// hooks the packages need; the packages are the same.
    #[arg(long)]
    pub(crate) full_build: bool,
    /// Compile through ccache (default: when ccache is installed), cached in keapack's cache directory.
    #[arg(long, conflicts_with = "no_ccache")]
    pub(crate) ccache: bool,
    /// Do not compile through ccache, even when it is installed.
    #[arg(long)]
    pub(crate) no_ccache: bool,
    /// Where to build a target of another release than this host's: `auto` builds it in a root
    /// of its release (Debian family, made with debootstrap and cached), `host` on this host.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) build_env: BuildEnvArg,
    /// Debian-family mirror for build roots (default: the manifest's build.mirror, else this
    /// host's own Debian mirror, or Ubuntu's archive for Ubuntu).
    #[arg(long)]
    pub(crate) mirror: Option<String>,
    /// Check everything that can be checked without building, print the plan (steps, targets,
    /// every output's file name) and stop.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Neither reuse a build from the build cache nor keep this one there (also: KEAPACK_NO_CACHE=1).
    #[arg(long)]
    pub(crate) no_cache: bool,
}

#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The .deb and .rpm files to verify, or directories holding them (a build's --out).
    /// Debug-symbols packages are left out.
    #[arg(required = true)]
    pub(crate) packages: Vec<PathBuf>,
    /// The target the packages are for (default: read from each package's release suffix,
    /// +deb12 → debian-12, and architecture).
    #[arg(long, short = 't')]
    pub(crate) target: Option<String>,
    /// Which Kea the hooks load into (default: read from the packages' dependencies).
    #[arg(long, value_enum)]
    pub(crate) runtime: Option<RuntimeStyle>,
    /// Work directory for the root copies and Kea's logs (default: ~/.cache/keapack/verify).
    #[arg(long)]
    pub(crate) work: Option<PathBuf>,
    /// Debian-family mirror the release's root is made from (default: as for build roots).
    #[arg(long)]
    pub(crate) mirror: Option<String>,
    /// Manifest whose [verify.parameters] give the hooks' mandatory parameters.
    #[arg(long, short = 'm')]
    pub(crate) manifest: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) format: FormatArg,
}

#[derive(Args)]
pub(crate) struct LintArgs {
    /// The .deb and .rpm files to check, or directories holding them (each one's, by name).
    #[arg(required = true)]
    pub(crate) packages: Vec<PathBuf>,
    /// The .rpm files are signed: count rpmlint's no-signature error.
    #[arg(long)]
    pub(crate) signed: bool,
    /// Explain each tag (the checkers' --info).
    #[arg(long)]
    pub(crate) info: bool,
    /// With --signed: the file of the public key the .rpm files are signed with, so rpmlint can
    /// check them (`--key-file` as publish's and sign's, which name the secret key's file).
    #[arg(long, alias = "key", requires = "signed")]
    pub(crate) key_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) format: FormatArg,
}

/// The signing key: from GnuPG by fingerprint, or from a key file.
#[derive(Args)]
pub(crate) struct KeyArgs {
    /// Sign with this key of your GnuPG (fingerprint; its agent, pinentry or smartcard sign).
    #[arg(long, required_unless_present = "key_file", conflicts_with = "key_file")]
    pub(crate) gpg_key: Option<String>,
    /// Sign with the secret key in this file (armoured or binary), e.g. a CI secret.
    #[arg(long)]
    pub(crate) key_file: Option<PathBuf>,
    /// The environment variable holding the --key-file's passphrase.
    #[arg(long, requires = "key_file")]
    pub(crate) passphrase_env: Option<String>,
}

impl KeyArgs {
    pub(crate) fn source(&self) -> crate::publish::sign::KeySource {
        match (&self.gpg_key, &self.key_file) {
            (Some(fpr), _) => crate::publish::sign::KeySource::Gpg(fpr.clone()),
            (None, Some(path)) => crate::publish::sign::KeySource::File { path: path.clone(), passphrase_env: self.passphrase_env.clone() },
            (None, None) => unreachable!("clap requires one of --gpg-key and --key-file"),
        }
    }
}

#[derive(Args)]
pub(crate) struct PublishArgs {
    /// The repository directory (created if missing).
    #[arg(long)]
    pub(crate) repo: PathBuf,
    /// The URL clients reach the repository at, for the client files (default: the repository's, else file://REPO).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Keep this many versions of each package; older ones are removed (default: all).
    #[arg(long)]
    pub(crate) keep: Option<usize>,
    /// Name of the repository, its key files and client files (default: the repository's, else keapack).
    #[arg(long)]
    pub(crate) name: Option<String>,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) format: FormatArg,
    /// .deb and .rpm files, or directories holding them (a build's --out).
    #[arg(required = true)]
    pub(crate) packages: Vec<PathBuf>,
}

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) key: KeyArgs,
    #[command(flatten)]
    pub(crate) format: FormatArg,
    /// The .rpm files to sign in place.
    #[arg(required = true)]
    pub(crate) packages: Vec<PathBuf>,
}

/// `--build-env`: where targets of other releases are built.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum BuildEnvArg {
    Auto,
    Host,
}

/// `--build-system`: which of Kea's build systems to run.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum BuildSystemArg {
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
pub(crate) struct BuildArgs {
    /// Kea source: kea-X.Y.Z.tar.gz, .tar.xz, or an unpacked directory.
    #[arg(long)]
    pub(crate) kea: PathBuf,
    /// Premium (or subscriber) overlay: kea-premium-X.Y.Z.tar.gz or a directory holding premium/.
    #[arg(long)]
    pub(crate) premium: PathBuf,
    /// Manifest (keapack.toml) with package details, targets and configure options.
    #[arg(long, short = 'm')]
    pub(crate) manifest: Option<PathBuf>,
    /// Build even when the overlay's version differs from Kea's (warns).
    #[arg(long)]
    pub(crate) allow_version_mismatch: bool,
    /// Build system for a Kea tree that has both configure.ac and meson.build (2.7.7–2.7.9;
    /// default: meson, or the manifest's build-system).
    #[arg(long, value_enum)]
    pub(crate) build_system: Option<BuildSystemArg>,
    /// Refuse an input (archive or directory) whose files come to more than this many bytes (a
    /// sparse file counts by its length).
    #[arg(long, default_value_t = crate::source::extract::Limits::default().max_bytes)]
    pub(crate) max_unpacked_size: u64,
    /// Refuse an input (archive or directory) with more than this many entries.
    #[arg(long, default_value_t = crate::source::extract::Limits::default().max_entries)]
    pub(crate) max_entries: u64,
    #[command(flatten)]
    pub(crate) common: Common,
    /// Extra configure (or `meson setup`) options, after `--` (the same options as the Kea you run).
    #[arg(last = true)]
    pub(crate) configure: Vec<String>,
}

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Which bundled example to build: the autotools tree (kea-2.2.0) or the meson tree (kea-meson-2.2.0).
    #[arg(long, value_enum, default_value = "autotools")]
    pub(crate) build_system: BuildSystemArg,
    #[command(flatten)]
    pub(crate) common: Common,
}

#[derive(Args)]
pub(crate) struct GuidanceArgs {
    /// Target whose paths the guidance uses (a profile and an architecture, see `keapack targets`).
    #[arg(long, short = 't', default_value = "debian-12-amd64")]
    pub(crate) target: String,
    /// The Kea version the hooks were built for (default: the Kea the target's archive ships,
    /// else 2.6.5).
    #[arg(long)]
    pub(crate) kea_version: Option<String>,
    /// Package name shown in the text.
    #[arg(long, default_value = "kea-premium-hooks")]
    pub(crate) package: String,
    /// Which Kea the hooks depend on and load into, as `build --runtime`: the target release's
    /// own (distribution), ISC's packages (isc), or Kea's own packages of the same run (own).
    #[arg(long, value_enum, default_value = "distribution")]
    pub(crate) runtime: RuntimeStyle,
    /// With --runtime own: the name prefix of Kea's own packages (the manifest's
    /// package.runtime-prefix).
    #[arg(long, default_value = crate::plan::manifest::DEFAULT_RUNTIME_PREFIX)]
    pub(crate) runtime_prefix: String,
    /// The old spelling of `--runtime isc`, kept for scripts.
    #[arg(long, hide = true, conflicts_with = "runtime")]
    pub(crate) isc: bool,
    /// Hooks (catalog names such as host_cmds, or library files); default: all premium ones.
    pub(crate) hooks: Vec<String>,
}


/// `--message-format`: how a command reports what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum MessageFormat {
    /// Sentences for a person on standard error (and reports on standard output).
    #[default]
    Human,
    /// One JSON event per line on standard output; the sentences on standard error.
    Json,
}


//! The run, resolved before any work: every refusal keapack can make from the command line,
//! the manifest and the file system alone happens here, in well under a second, before
//! anything is unpacked, installed or compiled.
//!
//! `resolve` checks that the inputs exist and are readable, de-duplicates the targets and
//! refuses those this host cannot build, applies `--revision`/`--split`/`--meta` to the
//! manifest's package section and validates the result by the manifest's own rules, checks that
//! `--out` is (or can become) a writable directory and `--jobs` is within bounds, loads the
//! templates, and rehearses the packaging of every target with the premium hooks of the catalog:
//! that renders every template and yields the file name of every output, so two targets that
//! would write the same file are refused now rather than overwriting each other later.
//! `--dry-run` prints the result (`RunPlan::describe`).

use crate::plan::catalog::Catalog;
use crate::plan::guidance::Templates;
use crate::plan::manifest::{PackageSection, Split};
use crate::plan::manifest::Manifest;
use crate::plan::{self, PlanInput};
use crate::plan::profile::{self, Profiles, Target};
use crate::source::BuildSystem;
use crate::plan::spec::Format;
use crate::stage::StagedHook;
use crate::source::version::KeaVersion;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Everything `keapack build` was asked to do.
#[derive(Debug, Clone, Default)]
pub(crate) struct BuildRequest {
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
    /// Override the manifest's package split.
    pub split: Option<crate::plan::manifest::Split>,
    /// Also write the meta package of a per-hook split.
    pub meta: bool,
    /// Override the manifest's `package.runtime` (`--runtime`).
    pub runtime: Option<crate::plan::profile::RuntimeStyle>,
    /// Size and count limits for unpacking the inputs.
    pub limits: crate::source::extract::Limits,
    /// The inputs are the bundled example of `build_system` (`keapack demo`), written into
    /// `<work>/example` when the run prepares its source; `kea` and `premium` are unused.
    pub example: bool,
    /// Where targets of other releases are built (`--build-env`).
    pub build_env: BuildEnvChoice,
    /// The Debian-family mirror for build roots (`--mirror`); `None`: the manifest's, else the default.
    pub mirror: Option<String>,
    /// Neither read nor write the build cache (`--no-cache`).
    pub no_cache: bool,
    /// Only rehearse the run (`--dry-run`): what a real run would need of this host (root for
    /// build roots) is a warning, not a refusal.
    pub rehearsal: bool,
    /// Build all of Kea (`--full-build`), not only what the hooks need; the manifest's
    /// `build.full` also asks for it.
    pub full_build: bool,
    /// Compile through ccache: `Some(true)` `--ccache`, `Some(false)` `--no-ccache`, `None`
    /// when it is installed.
    pub ccache: Option<bool>,
    /// Verify each target's packages in a root of its release before publishing
    /// (`--verify-load`; the manifest's `build.verify-load` asks too).
    pub verify_load: bool,
}

/// The largest `--jobs` keapack accepts: far above any machine's useful parallelism, far below
/// what makes `make` exhaust the process table.
pub(crate) const MAX_JOBS: usize = 1024;

/// A run with every choice made and checked.
#[derive(Clone)]
pub(crate) struct RunPlan {
    /// The request as given (inputs, options, paths made absolute by the caller).
    pub request: BuildRequest,
    /// The targets, de-duplicated, in the order given.
    pub targets: Vec<Target>,
    /// The manifest's package section with the command line's overrides, validated.
    pub package: PackageSection,
    pub jobs: usize,
    pub templates: Templates,
    /// Kea's version when it can be read without unpacking (a directory, or a tarball's name).
    pub kea_version: Option<KeaVersion>,
    /// The build system the run asks for (`--build-system`, else the manifest's); `None`: as
    /// the tree has it.
    pub build_system: Option<BuildSystem>,
    /// Every output the run will write, as rehearsed (per-hook packages: one per premium hook
    /// the overlay builds; the rehearsal lists the catalog's).
    pub outputs: Vec<PlannedOutput>,
    /// Things worth saying before the build starts (e.g. a target of another family).
    pub warnings: Vec<String>,
    /// Where the targets are built: one build per environment, serving its targets.
    pub environments: Vec<Environment>,
}

/// `--build-env`: where targets of another release than the host's are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum BuildEnvChoice {
    /// The host for its own release, a root of the release for other Debian-family releases.
    #[default]
    Auto,
    /// Every target on this host (a warning for each target of another release).
    Host,
}

/// One build environment and the targets it serves.
#[derive(Debug, Clone)]
pub(crate) struct Environment {
    /// `host`, or `debian-13-amd64` for the root of that target's release.
    pub name: String,
    /// `None`: this host.
    pub root: Option<crate::build::root::RootSpec>,
    pub targets: Vec<Target>,
}

/// One output file of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedOutput {
    /// The target id (`debian-12-amd64`), empty for the run's own files.
    pub target: String,
    /// `package`, `debug-symbols`, `build record`, `checksums`.
    pub kind: &'static str,
    pub file_name: String,
}

/// Resolve and check everything about a run that can be known before it starts.
pub(crate) fn resolve(req: &BuildRequest) -> Result<RunPlan> {
    if !req.example {
        check_input(&req.kea, "--kea", "the Kea source (kea-X.Y.Z.tar.gz or its unpacked directory)")?;
        check_input(&req.premium, "--premium", "the premium overlay (kea-premium-X.Y.Z.tar.gz or a directory holding premium/)")?;
    }
    check_out_dir(&req.out)?;
    check_apart(&req.out, &req.work)?;
    check_work_path(&req.work)?;
    crate::support::worklock::check(&req.work)?;
    let jobs = resolve_jobs(req.jobs, req.manifest.build.jobs)?;
    if let Some(m) = &req.mirror {
        crate::plan::values::check_value_of("mirror", m, &crate::plan::values::URL, "--mirror")?;
    }
    let package = resolve_package(req)?;

    let mut profiles = Profiles::builtin();
    req.manifest.add_profiles(&mut profiles)?;
    let mut targets = resolve_targets(&profiles, &req.targets, &req.manifest.targets)?;
    if package.runtime == crate::plan::profile::RuntimeStyle::Own {
        for t in &mut targets {
            t.name_own_runtime(package.runtime_prefix())?;
        }
    }
    let host_machine = std::env::consts::ARCH;
    for t in &targets {
        check_buildable(t, host_machine)?;
    }
    let templates = Templates::with_overrides(req.templates_dir.as_deref())
        .with_context(|| format!("the templates in {} cannot be used (--templates)", req.templates_dir.as_deref().unwrap_or(Path::new("")).display()))?;
    let build_system = req.build_system.or(req.manifest.build.build_system);
    let kea_version = if req.example { KeaVersion::parse(crate::run::demo::EXAMPLE_VERSION).ok() } else { peek_version(&req.kea, build_system) };

    if let Some(v) = &kea_version {
        check_runtimes(&targets, package.runtime, v)?;
    }

    let mut warnings = Vec::new();
    warnings.extend(package.unused_runtime_keys());
    if let Some(host) = profile::host_family() {
        for t in targets.iter().filter(|t| t.profile.family != host) {
            warnings.push(format!(
                "target {} is {} distribution but this build host is not; its hooks link against this host's libraries. Build production packages on a host of the target's family.",
                t.id(),
                if t.profile.family == Format::Deb { "a Debian-family" } else { "an RPM-family" }
            ));
        }
    }

    let options: Vec<String> = req.manifest.build.configure_options.iter().chain(&req.manifest.build.meson_options).chain(&req.extra_configure).cloned().collect();
    let outputs = rehearse(&package, &targets, &templates, kea_version.as_ref(), req.debug_symbols, &options)?;
    let environments = environments(req, &targets, build_system, package.runtime == crate::plan::profile::RuntimeStyle::Own, &mut warnings)?;
    Ok(RunPlan { request: req.clone(), targets, package, jobs, templates, kea_version, build_system, outputs, warnings, environments })
}

/// An input must exist and be readable: a file we can open, or a directory we can list.
fn check_input(path: &Path, flag: &str, what: &str) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("{flag} {}: cannot find {what}", path.display()))?;
    if meta.is_dir() {
        std::fs::read_dir(path).with_context(|| format!("{flag} {}: cannot read the directory", path.display()))?;
    } else if meta.is_file() {
        std::fs::File::open(path).with_context(|| format!("{flag} {}: cannot read the file", path.display()))?;
    } else {
        bail!("{flag} {}: not a file or a directory; give {what}", path.display());
    }
    Ok(())
}

/// `--out` must be a directory keapack can write in, or a path where one can be created.
fn check_out_dir(out: &Path) -> Result<()> {
    let mut probe = out;
    loop {
        match std::fs::metadata(probe) {
            Ok(m) if m.is_dir() => break,
            Ok(_) if probe == out => bail!("--out {}: this is a file, not a directory; choose a directory for the packages", out.display()),
            Ok(_) => bail!("--out {}: cannot create the output directory, {} is a file", out.display(), probe.display()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => match probe.parent() {
                Some(p) if !p.as_os_str().is_empty() => probe = p,
                _ => bail!("--out {}: cannot create the output directory", out.display()),
            },
            Err(e) => bail!("--out {}: cannot use the output directory: {e}", out.display()),
        }
    }
    let c = std::ffi::CString::new(probe.as_os_str().as_encoded_bytes()).context("--out contains a NUL byte")?;
    // SAFETY: access(2) reads a NUL-terminated path and has no other preconditions.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        let e = std::io::Error::last_os_error();
        if probe == out {
            bail!("--out {}: cannot write in the output directory: {e}; choose another --out", out.display());
        }
        bail!("--out {}: cannot create the output directory in {}: {e}; choose another --out", out.display(), probe.display());
    }
    Ok(())
}

/// The work directory's physical path must be one that configure and make can build in:
/// autoconf's configure fails there ("C++ compiler cannot create executables") when a
/// directory name holds a space, and make splits words at blanks and reads `$`, `#`, quotes
/// and backslashes itself.
fn check_work_path(work: &Path) -> Result<()> {
    let p = physical(work);
    let Some(text) = p.to_str() else {
        bail!("--work {}: the path is not UTF-8; choose a work directory whose path is", crate::support::text::path(work));
    };
    if let Some(c) = text.chars().find(|c| c.is_whitespace() || c.is_control() || ['$', '#', '"', '\'', '\\', '`', '*', '?', '[', ']'].contains(c)) {
        bail!(
            "--work {}: the path holds {:?}, which configure and make cannot build in (a space makes autoconf's compiler check fail); choose a work directory whose path has only letters, digits and / . _ - + , : @ %",
            crate::support::text::path(work),
            c
        );
    }
    Ok(())
}

/// `--out` and `--work` must not hold one another: keapack clears parts of its work directory on
/// every run (a refused or failed one included), which would take earlier packages in an
/// `--out` inside it with them; and a work directory inside `--out` would put the build's
/// tree among the published files. Compared by physical path (symbolic links and `..`
/// resolved as far as the directories exist), so another spelling of the same place is caught.
fn check_apart(out: &Path, work: &Path) -> Result<()> {
    let (o, w) = (physical(out), physical(work));
    let shown = |p: &Path| crate::support::text::path(p).to_string();
    if o == w {
        bail!(
            "--out {} and --work {} are the same directory: the packages must not be in the work directory, which keapack clears on every run; choose an --out outside --work",
            shown(out),
            shown(work)
        );
    }
    if o.starts_with(&w) {
        bail!(
            "--out {} is inside the work directory --work {}: keapack clears parts of its work directory on every run, which could delete the published packages; choose an --out outside --work (or a --work elsewhere)",
            shown(out),
            shown(work)
        );
    }
    if w.starts_with(&o) {
        bail!(
            "--work {} is inside the output directory --out {}: the build's files would sit among the published packages; choose a --work outside --out (or an --out elsewhere)",
            shown(work),
            shown(out)
        );
    }
    Ok(())
}

/// `path` made absolute, with its longest existing ancestor resolved (symbolic links, `..`) and
/// the rest, which does not exist yet, normalised as text.
fn physical(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    let mut exists = true;
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            // The part built so far has no links (resolved, or not existing): `..` is its parent.
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
        if exists {
            match std::fs::canonicalize(&out) {
                Ok(real) => out = real,
                Err(_) => exists = false,
            }
        }
    }
    out
}

/// `--jobs`, else the manifest's `build.jobs`, else the number of CPUs; 1 to `MAX_JOBS`.
pub(crate) fn resolve_jobs(cli: Option<usize>, manifest: Option<usize>) -> Result<usize> {
    let (jobs, origin) = match (cli, manifest) {
        (Some(j), _) => (j, "--jobs"),
        (None, Some(j)) => (j, "the manifest's build.jobs"),
        (None, None) => return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_JOBS)),
    };
    if !(1..=MAX_JOBS).contains(&jobs) {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        bail!("{origin} {jobs} is out of range: give 1 to {MAX_JOBS} parallel jobs (this machine has {cpus} CPUs)");
    }
    Ok(jobs)
}

/// The manifest's package section with `--revision`, `--split` and `--meta` applied, validated
/// by the same rules as a manifest file, naming the flag when a flag's value is at fault.
fn resolve_package(req: &BuildRequest) -> Result<PackageSection> {
    let mut package = req.manifest.package.clone();
    if let Some(r) = &req.revision {
        crate::plan::manifest::check_revision(r).map_err(|why| anyhow::anyhow!("--revision '{r}' {why}"))?;
        package.revision = r.clone();
    }
    if let Some(split) = req.split {
        package.split = split;
    }
    package.meta |= req.meta;
    if let Some(runtime) = req.runtime {
        package.runtime = runtime;
    }
    crate::plan::manifest::check_package(&package).map_err(|why| anyhow::anyhow!("the manifest's package section: {why}"))?;
    Ok(package)
}

/// The targets from the command line, else the manifest's, each once, in the order given.
pub(crate) fn resolve_targets(profiles: &Profiles, cli: &[String], manifest: &[String]) -> Result<Vec<Target>> {
    let names = if cli.is_empty() { manifest } else { cli };
    if names.is_empty() {
        bail!(
            "no target: name one or more with --target (e.g. --target debian-12-amd64 --target rhel-9-x86_64) or in the manifest's targets. Profiles: {}",
            profiles.ids().collect::<Vec<_>>().join(", ")
        );
    }
    let mut targets: Vec<Target> = Vec::new();
    for n in names {
        let t = profiles.target(n)?;
        if !targets.iter().any(|seen| seen.id() == t.id()) {
            targets.push(t);
        }
    }
    Ok(targets)
}

/// A target is buildable here when its hooks are for this host's machine: keapack builds Kea
/// natively and does not cross-compile.
fn check_buildable(target: &Target, host_machine: &str) -> Result<()> {
    let needs = &target.arch_info.elf_machine;
    if needs != host_machine {
        bail!(
            "target {} needs {needs} hook libraries, but this host builds {host_machine} ones: keapack builds Kea natively and does not cross-compile. Build this target on {} {needs} host (e.g. a CI runner of that architecture), or choose the {} architecture of the profile",
            target.id(),
            crate::support::text::article(needs),
            profile::host_arch(target.profile.family)
        );
    }
    Ok(())
}

/// Group the targets by where they are built: the host for the host's own release (and, with
/// `--build-env host`, for every release), a root of the release for another Debian-family
/// release, the host (with the cross-family warning) for an RPM-family release on a Debian host.
fn environments(req: &BuildRequest, targets: &[Target], system: Option<BuildSystem>, own_runtime: bool, warnings: &mut Vec<String>) -> Result<Vec<Environment>> {
    let host = profile::host_release();
    let host_name = crate::build::root::pretty_name(Path::new("/"));
    let mut envs: Vec<Environment> = Vec::new();
    for t in targets {
        let own = host.as_ref().is_some_and(|h| t.profile.is_release(h));
        let root = match (own, req.build_env, &t.profile.build_root) {
            (false, BuildEnvChoice::Auto, Some(_)) => {
                let mirror = req.mirror.clone().or_else(|| req.manifest.build.mirror.clone());
                let set = if req.example { crate::build::deps::DepSet::Example } else { crate::build::deps::DepSet::Kea };
                let mut packages = t.profile.build_deps.packages(set);
                if system == Some(BuildSystem::Meson) {
                    packages.push("meson".into());
                }
                packages.extend(req.manifest.build.root_packages.iter().cloned());
                t.root_spec(mirror, packages)?
            }
            (false, BuildEnvChoice::Host, _) if t.profile.family == Format::Deb || profile::host_family() != Some(Format::Deb) => {
                warnings.push(format!(
                    "target {} is {}, but it is built on this host ({host_name}, --build-env host): its hooks link against this host's headers and libraries",
                    t.id(),
                    t.profile.name
                ));
                None
            }
            _ => None,
        };
        let mut name = if root.is_some() { format!("{}-{}", t.profile.id, t.arch) } else { "host".to_string() };
        // Kea's own packages carry Kea's compiled-in paths (its library and hooks directories):
        // a target whose library directory differs gets a build of its own.
        let same = |e: &Environment| e.root == root && (!own_runtime || e.targets[0].arch_info.libdir == t.arch_info.libdir);
        match envs.iter_mut().find(|e| same(e)) {
            Some(e) => e.targets.push(t.clone()),
            None => {
                if envs.iter().any(|e| e.name == name) {
                    name = format!("{name}-{}", t.profile.family.name());
                }
                envs.push(Environment { name, root, targets: vec![t.clone()] })
            }
        }
    }
    if envs.iter().any(|e| e.root.is_some()) {
        match crate::build::root::check_host_can_use_roots() {
            Err(e) if req.rehearsal => warnings.push(format!("the real run will not start here: {e:#}")),
            other => other?,
        }
    }
    Ok(envs)
}

/// Kea's version when it shows without unpacking: from a directory's configure.ac or
/// meson.build, else from the file name.
fn peek_version(kea: &Path, choice: Option<BuildSystem>) -> Option<KeaVersion> {
    if kea.is_dir() {
        let mut roots = vec![kea.to_path_buf()];
        if let Ok(rd) = std::fs::read_dir(kea) {
            let subdirs: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
            if subdirs.len() == 1 {
                roots.extend(subdirs);
            }
        }
        for r in roots {
            let read = |file: &str| std::fs::read_to_string(r.join(file)).ok();
            let from_ac = read("configure.ac").as_deref().and_then(crate::source::version::from_ac_init).and_then(Result::ok);
            let from_meson = read("meson.build").as_deref().and_then(crate::source::version::from_meson_project).and_then(Result::ok);
            let found = match choice {
                Some(BuildSystem::Autotools) => from_ac,
                _ => from_meson.or(from_ac),
            };
            if found.is_some() {
                return found;
            }
        }
    }
    KeaVersion::from_file_name(kea)
}

/// Plan every target's packages as the run will, with the catalog's premium hooks standing in
/// for the ones the build will install: renders every template and names every output.
fn rehearse(package: &PackageSection, targets: &[Target], templates: &Templates, kea: Option<&KeaVersion>, debug_symbols: bool, extra_options: &[String]) -> Result<Vec<PlannedOutput>> {
    let catalog = Catalog::builtin();
    // Any version gives the same collisions; the real one gives the real names.
    let version = kea.cloned().unwrap_or_else(|| KeaVersion::parse("0.0.0").expect("a valid version"));
    let mut outputs: Vec<PlannedOutput> = Vec::new();
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for target in targets {
        // The hooks still closed in this Kea release (docs/kea-facts.md §2): Kea 2.7.7 opened
        // twelve, so a 3.x overlay brings only cb_cmds and rbac.
        let hooks: Vec<StagedHook> = catalog
            .overlay_hooks(&version)
            .iter()
            .map(|h| StagedHook { library: h.library.clone(), path: PathBuf::from("/nonexistent").join(&h.library), premium: true, machine: target.arch_info.elf_machine.clone() })
            .collect();
        let specs = plan::plan_all(&PlanInput {
            package,
            kea_version: &version,
            hooks: &hooks,
            target,
            epoch: 0,
            catalog: &catalog,
            templates,
            library_depends: &BTreeMap::new(),
        })
        .with_context(|| format!("cannot plan the packages of target {}", target.id()))?;
        if package.runtime == crate::plan::profile::RuntimeStyle::Own {
            // The packages every Kea of this release installs (the run writes those it built).
            let first = specs.first().context("a plan has packages")?;
            for (part, certain) in crate::plan::runtime::expected_parts(&version, extra_options, package.runtime_dev) {
                let name = crate::plan::runtime::package_name(package.runtime_prefix(), part, target.profile.family);
                if name == package.name {
                    bail!("package.name '{name}' is also the name of one of Kea's own packages (runtime-prefix '{}'): choose another package.name or runtime-prefix", package.runtime_prefix());
                }
                let arch = match (part, first.format) {
                    (crate::plan::runtime::Part::Doc, Format::Deb) => "all".to_string(),
                    (crate::plan::runtime::Part::Doc, Format::Rpm) => "noarch".to_string(),
                    _ => target.arch.clone(),
                };
                let file_name = crate::plan::spec::PackageSpec { name, arch, ..first.clone() }.file_name();
                if let Some(other) = by_name.insert(file_name.clone(), target.id())
                    && other != target.id()
                {
                    bail!("targets {other} and {} would both write {file_name}: build them in separate runs with separate --out directories", target.id());
                }
                outputs.push(PlannedOutput { target: target.id(), kind: if certain { "package" } else { "package, if Kea builds it" }, file_name });
            }
        }
        for spec in specs {
            let is_meta = spec.files.iter().all(|f| !f.path.ends_with(".so"));
            let mut files = vec![("package", spec.file_name())];
            if debug_symbols && !is_meta {
                let debug_name = match spec.format {
                    Format::Deb => format!("{}-dbgsym", spec.name),
                    Format::Rpm => format!("{}-debuginfo", spec.name),
                };
                files.push(("debug-symbols", crate::plan::spec::PackageSpec { name: debug_name, ..spec.clone() }.file_name()));
            }
            for (kind, file_name) in files {
                if let Some(other) = by_name.insert(file_name.clone(), target.id())
                    && other != target.id()
                {
                    bail!(
                        "targets {other} and {} would both write {file_name}: their packages have the same name, version and architecture. Build them in separate runs with separate --out directories",
                        target.id()
                    );
                }
                outputs.push(PlannedOutput { target: target.id(), kind, file_name });
            }
        }
    }
    let version_text = kea.map_or_else(|| "<version>".to_string(), |v| v.to_string());
    outputs.push(PlannedOutput { target: String::new(), kind: "build record", file_name: crate::publish::record::file_name(&package.name, &version_text, &package.revision) });
    outputs.push(PlannedOutput { target: String::new(), kind: "checksums", file_name: crate::publish::SUMS.to_string() });
    Ok(outputs)
}

impl RunPlan {
    /// Whether Kea's own packages are written too (`runtime = "own"`).
    pub(crate) fn own_runtime(&self) -> bool {
        self.package.runtime == crate::plan::profile::RuntimeStyle::Own
    }

    /// Whether each target's packages are installed and loaded by their Kea before publishing.
    pub(crate) fn verify_load(&self) -> bool {
        self.request.verify_load || self.request.manifest.build.verify_load
    }

    /// Whether all of Kea is built and installed: `--full-build`, the manifest's `full`, or
    /// Kea's own packages, which need all of it.
    pub(crate) fn full_build(&self) -> bool {
        self.request.full_build || self.request.manifest.build.full || self.own_runtime()
    }

    /// The plan as `keapack build --dry-run` prints it.
    pub fn describe(&self) -> String {
        let req = &self.request;
        let mut s = String::new();
        let _ = writeln!(s, "keapack build plan (dry run: nothing is unpacked, built or written)");
        if req.example {
            let _ = writeln!(s, "inputs:    the bundled example ({})", self.build_system.unwrap_or(BuildSystem::Autotools).name());
        } else {
            let _ = writeln!(s, "inputs:    kea     {}", req.kea.display());
            let _ = writeln!(s, "           premium {}", req.premium.display());
        }
        let version = self.kea_version.as_ref().map_or_else(|| "read when the source is unpacked".to_string(), |v| v.to_string());
        let _ = writeln!(s, "kea:       {version}");
        let _ = writeln!(s, "work:      {}", req.work.display());
        let _ = writeln!(s, "out:       {}", req.out.display());
        let system = self.build_system.map_or("as the source tree has it (meson when it has both)", |b| b.name());
        let _ = writeln!(s, "build:     {system}, {} parallel jobs", self.jobs);
        if req.no_cache {
            let _ = writeln!(s, "cache:     off (--no-cache): the build runs and is not kept");
        } else {
            let _ = writeln!(s, "cache:     a build of the same identity in {} is reused (no prepare, build or stage steps), else this one is kept there", crate::run::build_cache::dir().display());
            let _ = writeln!(s, "           a tree in the work directory built the same way with another overlay is reused: the new overlay goes in by content, and only what it changes is compiled");
        }
        let _ = writeln!(s, "steps:     prepare the source tree (unpack Kea, add premium/, check versions)");
        if self.full_build() {
            let _ = writeln!(s, "           full build: autotools: autoreconf -if, configure, make -j{}, make install; meson: meson setup, meson compile -j{}, meson install", self.jobs, self.jobs);
        } else {
            let _ = writeln!(s, "           hooks-only build: autotools: autoreconf -if, configure, make -j{0} in src/lib and premium, make install in them; meson: meson setup, meson compile -j{0} <hook targets>, install the hooks", self.jobs);
        }
        let _ = writeln!(s, "           stage the hooks (strip{}, check)", if req.debug_symbols { ", keep debug symbols" } else { "" });
        let _ = writeln!(s, "           write every package into a staging directory in --out, then publish them all, SHA256SUMS last");
        if self.verify_load() {
            let _ = writeln!(s, "           verify-load: before publishing, install each Debian-family target's packages in a cached root of its release with its Kea and load the hooks into each daemon (RPM-family targets: recorded as not verified)");
        }
        let _ = writeln!(s, "targets:   {}", self.targets.iter().map(Target::id).collect::<Vec<_>>().join(", "));
        for e in &self.environments {
            let ids = e.targets.iter().map(Target::id).collect::<Vec<_>>().join(", ");
            match &e.root {
                None => {
                    let _ = writeln!(s, "build env: this host ({}) for {ids}", crate::build::root::pretty_name(Path::new("/")));
                }
                Some(r) => {
                    let _ = writeln!(s, "build env: a {} {} root ({} from {}) for {ids}", r.codename, r.arch, r.key(), r.mirror);
                }
            }
        }
        let _ = writeln!(s, "runtime:   {} ({})", self.package.runtime.name(), self.targets.iter().map(|t| format!("{}: {}", t.id(), t.runtime(self.package.runtime).map_or("?", |r| r.common.as_str()))).collect::<Vec<_>>().join(", "));
        let _ = writeln!(s, "package:   {} revision {}, {}{}", self.package.name, self.package.revision, match self.package.split {
            Split::Bundle => "one package for all hooks",
            Split::PerHook => "one package per hook",
        }, if self.package.meta { ", and a meta package" } else { "" });
        if self.package.split == Split::PerHook {
            let _ = writeln!(s, "           (per-hook names below are the catalog's hooks still closed in this Kea release; the run writes those the overlay builds)");
        }
        let _ = writeln!(s, "outputs:");
        for o in &self.outputs {
            let who = if o.target.is_empty() { String::new() } else { format!("{}  ", o.target) };
            let _ = writeln!(s, "  {who}{} ({})", o.file_name, o.kind);
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }
}

/// Every target's runtime must be able to load hooks of Kea `kea`: a distribution runtime
/// only when the target's archive ships that release (`Target::check_runtime`). Called by
/// `resolve` when Kea's version shows without unpacking, else once the source is unpacked.
pub(crate) fn check_runtimes(targets: &[Target], runtime: crate::plan::profile::RuntimeStyle, kea: &KeaVersion) -> Result<()> {
    for t in targets {
        t.check_runtime(runtime, kea)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_bounded_and_name_their_origin() {
        assert_eq!(resolve_jobs(Some(3), Some(9)).unwrap(), 3);
        assert_eq!(resolve_jobs(None, Some(9)).unwrap(), 9);
        assert!(resolve_jobs(None, None).unwrap() >= 1);
        let e = resolve_jobs(Some(0), None).unwrap_err().to_string();
        assert!(e.contains("--jobs 0 is out of range") && e.contains("1 to 1024"), "{e}");
        let e = resolve_jobs(None, Some(99_999_999_999)).unwrap_err().to_string();
        assert!(e.contains("build.jobs 99999999999"), "{e}");
    }

    #[test]
    fn targets_are_deduplicated_in_order() {
        let p = Profiles::builtin();
        let names: Vec<String> = ["rhel-9-x86_64", "debian-12-amd64", "rhel-9-x86_64"].map(String::from).to_vec();
        let ids: Vec<String> = resolve_targets(&p, &names, &[]).unwrap().iter().map(Target::id).collect();
        assert_eq!(ids, ["rhel-9-x86_64", "debian-12-amd64"]);
    }

    #[test]
    fn other_architectures_are_refused_with_the_fix() {
        let p = Profiles::builtin();
        let e = check_buildable(&p.target("debian-12-arm64").unwrap(), "x86_64").unwrap_err().to_string();
        assert!(e.contains("target debian-12-arm64 needs aarch64") && e.contains("does not cross-compile") && e.contains("amd64"), "{e}");
        check_buildable(&p.target("debian-12-arm64").unwrap(), "aarch64").unwrap();
    }

    #[test]
    fn colliding_file_names_are_refused() {
        let p = Profiles::builtin();
        let pkg = crate::plan::manifest::Manifest::parse(crate::plan::manifest::EXAMPLE, "example").unwrap().package;
        // RHEL and its rebuilds of one release share the dist tag, hence the file name.
        let targets = resolve_targets(&p, &["rhel-9-x86_64".into(), "rocky-9-x86_64".into()], &[]).unwrap();
        let e = rehearse(&pkg, &targets, &Templates::builtin(), None, false, &[]).unwrap_err().to_string();
        assert!(e.contains("rhel-9-x86_64 and rocky-9-x86_64 would both write kea-premium-hooks-0.0.0-1.el9.x86_64.rpm"), "{e}");
        // Debian-family releases carry their own revision suffix: side by side in one --out.
        let debs = resolve_targets(&p, &["debian-11-amd64".into(), "debian-12-amd64".into(), "debian-13-amd64".into(), "ubuntu-22.04-amd64".into(), "ubuntu-24.04-amd64".into()], &[]).unwrap();
        let outs = rehearse(&pkg, &debs, &Templates::builtin(), None, false, &[]).unwrap();
        let names: Vec<&str> = outs.iter().filter(|o| o.kind == "package").map(|o| o.file_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kea-premium-hooks_0.0.0-1+deb11_amd64.deb",
                "kea-premium-hooks_0.0.0-1+deb12_amd64.deb",
                "kea-premium-hooks_0.0.0-1+deb13_amd64.deb",
                "kea-premium-hooks_0.0.0-1+ubuntu22.04_amd64.deb",
                "kea-premium-hooks_0.0.0-1+ubuntu24.04_amd64.deb"
            ]
        );
        let ok = resolve_targets(&p, &["debian-12-amd64".into(), "rhel-9-x86_64".into()], &[]).unwrap();
        let v = KeaVersion::parse("2.6.5").unwrap();
        let outs = rehearse(&pkg, &ok, &Templates::builtin(), Some(&v), true, &[]).unwrap();
        let names: Vec<&str> = outs.iter().map(|o| o.file_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kea-premium-hooks_2.6.5-1+deb12_amd64.deb",
                "kea-premium-hooks-dbgsym_2.6.5-1+deb12_amd64.deb",
                "kea-premium-hooks-2.6.5-1.el9.x86_64.rpm",
                "kea-premium-hooks-debuginfo-2.6.5-1.el9.x86_64.rpm",
                "kea-premium-hooks_2.6.5-1.keapack-buildinfo.json",
                "SHA256SUMS"
            ]
        );
    }

    #[test]
    fn out_must_be_a_writable_directory() {
        let tmp = tempfile::tempdir().unwrap();
        check_out_dir(tmp.path()).unwrap();
        check_out_dir(&tmp.path().join("new/deeper")).unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let e = check_out_dir(&file).unwrap_err().to_string();
        assert!(e.contains("this is a file, not a directory"), "{e}");
        let e = check_out_dir(&file.join("sub")).unwrap_err().to_string();
        assert!(e.contains("is a file"), "{e}");
    }

    #[test]
    fn a_work_path_configure_cannot_build_in_is_refused() {
        let t = tempfile::tempdir().unwrap();
        for bad in ["my work", "a$b", "tab\there", "q\"x", "star*"] {
            let err = check_work_path(&t.path().join(bad).join("w")).unwrap_err().to_string();
            assert!(err.starts_with("--work ") && err.contains("choose a work directory"), "{bad}: {err}");
        }
        // A symbolic link's spelling is not what counts: where it leads is.
        std::fs::create_dir(t.path().join("with space")).unwrap();
        std::os::unix::fs::symlink(t.path().join("with space"), t.path().join("plain")).unwrap();
        assert!(check_work_path(&t.path().join("plain/w")).is_err(), "a link to a path with a space");
        for good in ["work", "kea-2.6.5_build+1,v:2@x%y", "~user.dir"] {
            check_work_path(&t.path().join(good)).unwrap();
        }
    }

    #[test]
    fn out_and_work_must_not_hold_one_another() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        check_apart(&t.join("dist"), &t.join("work")).unwrap();
        // A sibling whose name starts the same is not inside.
        check_apart(&t.join("work-out"), &t.join("work")).unwrap();
        let e = check_apart(&t.join("work/source/out"), &t.join("work")).unwrap_err().to_string();
        assert!(e.contains("--out") && e.contains("is inside the work directory --work") && e.contains("choose an --out outside --work"), "{e}");
        let e = check_apart(&t.join("dist"), &t.join("dist/w")).unwrap_err().to_string();
        assert!(e.contains("--work") && e.contains("is inside the output directory --out") && e.contains("choose a --work outside --out"), "{e}");
        let e = check_apart(&t.join("same"), &t.join("x/../same/.")).unwrap_err().to_string();
        assert!(e.contains("are the same directory"), "{e}");
        // Through a symbolic link to the work directory, and with `..` in a part not made yet.
        std::fs::create_dir(t.join("work")).unwrap();
        std::os::unix::fs::symlink(t.join("work"), t.join("link")).unwrap();
        assert!(check_apart(&t.join("link/out"), &t.join("work")).is_err());
        assert!(check_apart(&t.join("new/../work/out"), &t.join("work")).is_err());
        assert!(!t.join("new").exists() && !t.join("work/out").exists(), "nothing is created");
    }

    #[test]
    fn runtime_flag_overrides_the_manifest_and_the_archive_decides() {
        // Built on this host: a Debian 13 root would need root, debootstrap and bwrap, and the
        // runtime decision is the same in either environment.
        let mut req = BuildRequest { example: true, targets: vec!["debian-13-amd64".into()], build_env: BuildEnvChoice::Host, ..BuildRequest::default() };
        let tmp = tempfile::tempdir().unwrap();
        req.out = tmp.path().join("out");
        req.work = tmp.path().join("work");
        req.manifest = crate::plan::manifest::Manifest::parse(crate::plan::manifest::EXAMPLE, "example").unwrap();
        // The example is Kea 2.2.0; Debian 13 ships 2.6.3.
        let e = resolve(&req).err().expect("Debian 13's own Kea is 2.6.3").to_string();
        assert!(e.contains("target debian-13-amd64") && e.contains("Kea 2.6.3") && e.contains("--runtime isc"), "{e}");
        req.runtime = Some(crate::plan::profile::RuntimeStyle::Isc);
        let plan = resolve(&req).unwrap();
        assert_eq!(plan.package.runtime, crate::plan::profile::RuntimeStyle::Isc);
        assert!(plan.describe().contains("runtime:   isc (debian-13-amd64: isc-kea-common)"), "{}", plan.describe());
        assert_eq!(plan.outputs[0].file_name, "kea-premium-hooks_2.2.0-1+deb13_amd64.deb");
        req.targets = vec!["debian-12-amd64".into()];
        req.runtime = None;
        resolve(&req).unwrap();
    }
}

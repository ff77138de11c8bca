//! Load verification (`build --verify-load`, `keapack verify`): a target's packages installed
//! by its release's own package manager in a root of that release, next to the Kea they are
//! for, and each daemon the hooks are for started with the package's own snippet and control
//! socket, until Kea says it loaded every library and its control socket answers with the
//! hooks' commands.
//!
//! - The root is made once per release (and Kea runtime) by `build::root::ensure`, as build
//!   roots are, and kept in the cache with apt's lists; each verification works in a copy of it
//!   under the work directory (`verify/<target>/root`), so nothing it installs reaches the cache.
//! - The packages are installed with `dpkg -i` when the root holds what they depend on (the
//!   release's Kea), else, in a fresh copy, with `apt-get install` of the files, so apt
//!   resolves what they depend on against the release; a dependency the release cannot satisfy
//!   is named.
//! - A daemon runs as its systemd unit would run it (`User=`, `ExecStart=`, the unit's run,
//!   state and log directories; see `check::daemon`), without systemd: `unshare --net` gives it
//!   a network namespace of its own (no interface is configured, so it opens no DHCP socket) and
//!   `chroot --userspec` makes it the service user. Both exec, so the child's process id is
//!   Kea's, and that process is what is stopped.
//! - Kea's output goes to `verify/<target>/<daemon>.log`, kept for the operator.

use crate::check::daemon::{self, Unit};
use crate::plan::catalog::{Catalog, DaemonInfo};
use crate::plan::profile::{RuntimeStyle, Target};
use crate::plan::spec::Format;
use crate::support::runner::Runner;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take to load its hooks and open its control socket.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// Where the verified packages are put inside the root copy (not /tmp: the sandbox mounts its
/// own there).
const PACKAGES_IN_ROOT: &str = "var/cache/keapack-verify";
/// What installs the packages in the root copy first: their paths are its arguments.
const DPKG_INSTALL: &str = "dpkg -i -- \"$@\"";
/// What installs them when dpkg alone cannot (a dependency not in the root).
const INSTALL: &str = "apt-get install -y -q --no-install-recommends -- \"$@\"";

/// What a target's verification found: the build record's `verification` entries.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Verification {
    pub target: String,
    pub verified: bool,
    /// Why the target was not verified (nothing here could run its Kea).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_verified: Option<String>,
    /// The root the packages were installed in: its cache entry and mirror.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The Kea the hooks were loaded into.
    pub runtime: String,
    /// The packages installed, by file name.
    pub packages: Vec<String>,
    pub daemons: Vec<DaemonEvidence>,
    /// Seconds spent: `root` (made or found, and copied), `install`, `daemons` (of which
    /// `daemon-start`, until each loaded its hooks, and `commands`, the `list-commands` answers;
    /// the rest is writing configurations, `-V` and stopping).
    pub timings: BTreeMap<String, f64>,
    pub seconds: f64,
}

/// One daemon's proof of load.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct DaemonEvidence {
    pub daemon: String,
    /// The first line of `<daemon> -V`.
    pub version: String,
    /// The installed package the daemon came from, with its version.
    pub package: String,
    /// The systemd unit whose `User=`, `ExecStart=` and directories it was started with, and
    /// that user.
    pub unit: String,
    pub user: String,
    /// Kea's log lines that proved the load (from the message id on).
    pub log_lines: Vec<String>,
    /// The hooks' commands `list-commands` answered with.
    pub commands: Vec<String>,
    /// The control socket asked.
    pub socket: String,
    /// Seconds from the start until Kea had logged every load and opened its socket.
    pub start_seconds: f64,
    /// Seconds `list-commands` took to answer.
    pub commands_seconds: f64,
    pub seconds: f64,
}

/// What to verify.
pub(crate) struct Request<'a> {
    pub target: &'a Target,
    /// The target's packages (`.deb` or `.rpm`), debug-symbols packages left out.
    pub packages: Vec<PathBuf>,
    pub runtime: RuntimeStyle,
    /// The directory this target's verification works in (`<work>/verify/<target>`).
    pub dir: PathBuf,
    pub mirror: Option<String>,
    pub catalog: &'a Catalog,
    /// Values for hooks' mandatory parameters, by hook name (the manifest's
    /// `[verify.parameters]`), before the catalog's examples.
    pub parameters: &'a BTreeMap<String, toml::Table>,
    /// The packages are this run's own (their maintainer scripts are keapack's templates): the
    /// root copy may hard-link the cache's `/usr` (see [`copy_root`]). Packages handed to
    /// `keapack verify` get a full copy: their scripts run as root in it and could write a
    /// linked file in place.
    pub own_packages: bool,
}

impl Verification {
    fn skipped(req: &Request, runtime: &str, why: String) -> Verification {
        Verification {
            target: req.target.id(),
            verified: false,
            not_verified: Some(why),
            root: None,
            runtime: runtime.to_string(),
            packages: file_names(&req.packages),
            daemons: Vec::new(),
            timings: BTreeMap::new(),
            seconds: 0.0,
        }
    }

    /// The record's entry and the event's fields.
    pub(crate) fn as_json(&self) -> serde_json::Map<String, Value> {
        match serde_json::to_value(self).expect("a verification serializes") {
            Value::Object(m) => m,
            _ => unreachable!("a struct serializes to a map"),
        }
    }

    /// The build record's entry: the evidence without the times, which differ from run to run
    /// (the `load-verified` event keeps them), so that a record with verification is the same
    /// bytes when the same packages are verified again.
    pub(crate) fn record_json(&self) -> serde_json::Map<String, Value> {
        let mut m = self.as_json();
        m.remove("timings");
        m.remove("seconds");
        if let Some(Value::Array(daemons)) = m.get_mut("daemons") {
            for d in daemons.iter_mut().filter_map(Value::as_object_mut) {
                for k in ["start-seconds", "commands-seconds", "seconds"] {
                    d.remove(k);
                }
            }
        }
        m
    }

    /// One line for a person: verified against what, or why not.
    pub(crate) fn summary(&self) -> String {
        if !self.verified {
            return format!("{}: not verified: {}", self.target, self.not_verified.as_deref().unwrap_or("no reason recorded"));
        }
        let daemons: Vec<String> = self.daemons.iter().map(|d| format!("{} {} ({}; {} commands answered)", d.daemon, d.version, d.package, d.commands.len())).collect();
        format!("{}: verified in {:.1} s: the hooks loaded into {}", self.target, self.seconds, daemons.join(", "))
    }
}

fn file_names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).collect()
}

/// The runtime a set of packages is for, read from their Debian control files: Kea's own
/// packages when one of them holds `kea-dhcp4`'s package name pattern `-common` with libkea
/// (`Provides`/`Package` ending in `-common` next to the hooks), ISC's when a package depends
/// on `isc-kea-common` that none of them provides, else the distribution's.
pub(crate) fn runtime_of(controls: &[String]) -> RuntimeStyle {
    let names: Vec<String> = controls.iter().filter_map(|c| field(c, "Package")).collect();
    let depends: Vec<String> = controls.iter().filter_map(|c| field(c, "Depends")).flat_map(|d| dependency_names(&d)).collect();
    if depends.iter().any(|d| d.ends_with("-common") && names.contains(d)) {
        RuntimeStyle::Own
    } else if depends.iter().any(|d| d == "isc-kea-common") {
        RuntimeStyle::Isc
    } else {
        RuntimeStyle::Distribution
    }
}

/// Whether `path` is a debug-symbols package (`-dbgsym_`, `-debuginfo-`): nothing to load.
pub(crate) fn is_debug_package(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains("-dbgsym_") || n.contains("-debuginfo-"))
}

/// The packages grouped by the target each is for: `target` when given, else the profile whose
/// release suffix (`dist-tag`, `+deb12`, `.el9`) ends the package's revision, with the
/// package's architecture. A package no profile claims is refused with its fix.
pub(crate) fn by_target(profiles: &crate::plan::profile::Profiles, packages: &[PathBuf], target: Option<&str>) -> Result<Vec<(Target, Vec<PathBuf>)>> {
    let mut groups: Vec<(Target, Vec<PathBuf>)> = Vec::new();
    // An architecture-independent package (`all`, `noarch`) joins its release's group.
    let mut independent: Vec<(crate::plan::profile::Profile, PathBuf)> = Vec::new();
    for p in packages {
        let t = match target {
            Some(t) => profiles.target(t)?,
            None => match target_of(profiles, p)? {
                Found::Target(t) => t,
                Found::AnyArch(profile) => {
                    independent.push((profile, p.clone()));
                    continue;
                }
            },
        };
        match groups.iter_mut().find(|(g, _)| g.id() == t.id()) {
            Some((_, v)) => v.push(p.clone()),
            None => groups.push((t, vec![p.clone()])),
        }
    }
    for (profile, p) in independent {
        match groups.iter_mut().find(|(g, _)| g.profile.id == profile.id) {
            Some((_, v)) => v.push(p),
            None => {
                let arch = crate::plan::profile::host_arch(profile.family);
                let t = profiles.target(&format!("{}-{arch}", profile.id))?;
                groups.push((t, vec![p]));
            }
        }
    }
    Ok(groups)
}

/// What a package's name and version say it is for.
enum Found {
    Target(Target),
    /// An architecture-independent package of this release.
    AnyArch(crate::plan::profile::Profile),
}

/// The target of one package, from its version's release suffix and its architecture.
fn target_of(profiles: &crate::plan::profile::Profiles, p: &Path) -> Result<Found> {
    let shown = crate::support::text::path(p).to_string();
    let (family, version, arch) = match p.extension().and_then(|e| e.to_str()) {
        Some("deb") => {
            let control = crate::publish::debfile::read(p)?.control;
            (Format::Deb, field(&control, "Version").unwrap_or_default(), field(&control, "Architecture").unwrap_or_default())
        }
        Some("rpm") => {
            // name-version-release.arch.rpm, as keapack and rpmbuild name them.
            let stem = p.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".rpm")).unwrap_or_default();
            let (rest, arch) = stem.rsplit_once('.').unwrap_or((stem, ""));
            (Format::Rpm, rest.to_string(), arch.to_string())
        }
        _ => bail!("{shown} is neither a .deb nor an .rpm"),
    };
    let mut best: Option<&crate::plan::profile::Profile> = None;
    for prof in profiles.all().filter(|pr| pr.family == family && !pr.dist_tag.is_empty()) {
        if version.ends_with(&prof.dist_tag) && best.is_none_or(|b| prof.dist_tag.len() > b.dist_tag.len()) {
            best = Some(prof);
        }
    }
    let Some(prof) = best else {
        bail!("{shown}: its version {version} ends in no release suffix a profile knows (+deb12, .el9, …): pass --target for the release it is for");
    };
    if arch == "all" || arch == "noarch" {
        return Ok(Found::AnyArch(prof.clone()));
    }
    profiles.target(&format!("{}-{arch}", prof.id)).map(Found::Target).with_context(|| format!("{shown} is for {} on {arch}: pass --target", prof.name))
}

/// A control file's field (single line).
pub(crate) fn field(control: &str, name: &str) -> Option<String> {
    control.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
}

/// The package names a `Depends` field names (every alternative).
fn dependency_names(depends: &str) -> Vec<String> {
    depends.split([',', '|']).filter_map(|d| d.split_whitespace().next()).map(|n| n.split(':').next().unwrap_or(n).to_string()).collect()
}

/// Verify one target's packages; `Ok` with `verified: false` when nothing on this host can run
/// its Kea (the reason recorded), `Err` when Kea refused them (the message names the target,
/// the daemon and Kea's own error lines).
pub(crate) fn verify(req: &Request, runner: &mut Runner) -> Result<Verification> {
    let started = Instant::now();
    let target = req.target;
    let id = target.id();
    let runtime = match req.runtime {
        RuntimeStyle::Distribution => format!("{}'s own Kea ({}), from its archive", target.profile.name, target.profile.kea),
        RuntimeStyle::Own => "Kea's own packages of the same run".to_string(),
        RuntimeStyle::Isc => "ISC's Kea packages".to_string(),
    };
    if target.profile.family != Format::Deb {
        return Ok(Verification::skipped(
            req,
            &runtime,
            format!("{} is an RPM-family release, and keapack makes roots of Debian-family releases only: install its packages on a host of that release and start Kea there", target.profile.name),
        ));
    }
    if target.arch_info.elf_machine != std::env::consts::ARCH {
        return Ok(Verification::skipped(req, &runtime, format!("this {} host cannot run the {} binaries of {id}: verify them with `keapack verify` on a host of that architecture", std::env::consts::ARCH, target.arch_info.elf_machine)));
    }
    if req.runtime == RuntimeStyle::Isc {
        return Ok(Verification::skipped(
            req,
            &runtime,
            "the hooks are for ISC's Kea packages, which only ISC's repository serves and this run cannot reach: verify them with `keapack verify` where that repository is configured, or build with --runtime own".to_string(),
        ));
    }
    crate::build::root::check_host_can_use_roots().context("verifying the packages' load needs a root of the target's release")?;
    let mut timings = BTreeMap::new();

    // 1. The root: the release with the Kea the hooks load into, apt's lists kept.
    let t = Instant::now();
    let packages = match req.runtime {
        RuntimeStyle::Distribution => {
            let rt = target.runtime(RuntimeStyle::Distribution)?;
            let mut p: Vec<String> = rt.services.values().cloned().collect();
            p.insert(0, rt.common.clone());
            p
        }
        _ => Vec::new(),
    };
    let Some(mut spec) = target.root_spec(req.mirror.clone(), packages)? else {
        return Ok(Verification::skipped(req, &runtime, format!("profile {} says how no root of its release is made (no [build-root])", target.profile.id)));
    };
    spec.keep_lists = true;
    let in_use = crate::build::root::ensure(&spec, runner).with_context(|| format!("cannot make the {} root to verify {id}'s packages in", spec.codename))?;
    let cached = in_use.path();
    let root = req.dir.join("root");
    // A fresh copy of the cached root with the packages in it: their paths inside it.
    let place = || -> Result<Vec<String>> {
        copy_root(&cached, &root, req.own_packages)?;
        let inside = root.join(PACKAGES_IN_ROOT);
        fs::create_dir_all(&inside)?;
        fs::set_permissions(&inside, fs::Permissions::from_mode(0o755))?;
        let mut in_root = Vec::new();
        for p in &req.packages {
            let name = p.file_name().context("a package path has a file name")?;
            fs::copy(p, inside.join(name)).with_context(|| format!("cannot copy {} into the verification root", p.display()))?;
            fs::set_permissions(inside.join(name), fs::Permissions::from_mode(0o644))?;
            in_root.push(format!("/{PACKAGES_IN_ROOT}/{}", name.to_string_lossy()));
        }
        Ok(in_root)
    };
    let in_root = runner.in_process(&format!("copy the {} root for {id}", spec.codename), place)?;
    timings.insert("root".to_string(), secs(t));

    // 2. The packages, installed by the release's dpkg when the root holds all they depend on
    // (the release's Kea), else by its apt, which fetches the rest from the release's archive
    // (Kea's own packages need the libraries Kea links) or says what the release lacks.
    let t = Instant::now();
    let log = req.dir.join("install.log");
    if !in_root_command(&root, DPKG_INSTALL, &in_root, &log, &format!("dpkg -i {id}'s packages in its release's root"), runner)?.success() {
        let in_root = runner.in_process(&format!("copy the {} root for {id} again, for apt", spec.codename), place)?;
        install(&root, &in_root, &log, &id, runner)?;
    }
    timings.insert("install".to_string(), secs(t));

    // 3. Each daemon a snippet of the packages is for.
    let t = Instant::now();
    let snippets = installed_snippets(&root, &req.packages)?;
    if snippets.is_empty() {
        return Ok(Verification {
            not_verified: Some("no package of the target holds a hooks snippet (/usr/share/doc/<package>/kea-<daemon>-hooks.json): there is nothing to load".to_string()),
            ..Verification::skipped(req, &runtime, String::new())
        });
    }
    let user_fallback = target.runtime(req.runtime).ok().and_then(|r| r.user.clone()).unwrap_or_else(|| "_kea".to_string());
    let mut daemons: Vec<DaemonEvidence> = Vec::new();
    for s in &snippets {
        let evidence = runner.in_process(&format!("load the hooks into {} ({id})", s.process), || check_daemon(req, &root, s, &user_fallback))?;
        daemons.push(evidence);
    }
    timings.insert("daemons".to_string(), secs(t));
    timings.insert("daemon-start".to_string(), round(daemons.iter().map(|d| d.start_seconds).sum()));
    timings.insert("commands".to_string(), round(daemons.iter().map(|d| d.commands_seconds).sum()));
    // Verified: the copy has served (a failed one is kept, with the configuration Kea refused).
    remove_tree(&root)?;
    Ok(Verification {
        target: id,
        verified: true,
        not_verified: None,
        root: Some(format!("{} from {}", spec.key(), spec.mirror)),
        runtime,
        packages: file_names(&req.packages),
        daemons,
        timings,
        seconds: secs(started),
    })
}

/// Verify several targets at once, each on its own thread with its own step logs
/// (`<dir>/logs`); roots shared by two targets are made once (the root cache's lock). Each
/// result is told (a note when verified, a warning when not) and sent as a `load-verified`
/// event, in the targets' order; the first failure, in that order, is returned after every
/// verification has ended.
pub(crate) fn verify_all(requests: &[Request], listener: &crate::support::listener::Channel) -> Result<Vec<Verification>> {
    let results: Vec<Result<Verification>> = std::thread::scope(|s| {
        let handles: Vec<_> = requests
            .iter()
            .map(|req| {
                s.spawn(move || {
                    let id = req.target.id();
                    let mut runner = Runner::new(&req.dir.join("logs"), Vec::new(), listener.clone())?;
                    verify(req, &mut runner).map_err(|e| e.context(format!("load verification of {id} failed")))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a verification thread panicked")))).collect()
    });
    let mut all = Vec::new();
    for r in results {
        let v = r?;
        if v.verified {
            listener.note(&crate::support::text::escape(&v.summary()));
        } else {
            listener.warning(&v.summary());
        }
        listener.event(crate::support::events::Event::LoadVerified { verification: v.as_json() });
        all.push(v);
    }
    Ok(all)
}

fn secs(t: Instant) -> f64 {
    round(t.elapsed().as_secs_f64())
}

/// Seconds to a hundredth.
fn round(s: f64) -> f64 {
    (s * 100.0).round() / 100.0
}

/// The parts of a root that the copy hard-links instead of copying: what dpkg and apt only
/// ever replace by renaming a new file into place (never writing an existing file in place),
/// so the cached root's files stay as they are. The rest (`/etc`, `/var`, …) is copied.
const LINKED: &[&str] = &["usr", "var/lib/apt/lists"];

/// Replace `to` with a copy of the cached root `from` (owners, modes, device nodes kept); with
/// `link`, its [`LINKED`] parts as hard links: a copy in a fifth of a second rather than in one
/// or two.
fn copy_root(from: &Path, to: &Path, link: bool) -> Result<()> {
    remove_tree(to)?;
    fs::create_dir_all(to)?;
    // Hard links cannot cross file systems (a work directory on a tmpfs /tmp): copy then.
    let link = link && same_file_system(from, to);
    let copy = |args: &[&str], src: &Path, dst: &Path| -> Result<()> {
        let st = Command::new("cp").args(args).arg(src).arg(dst).status().context("cannot run cp")?;
        anyhow::ensure!(st.success(), "cannot copy {} to {}", src.display(), dst.display());
        Ok(())
    };
    let mut entries: Vec<PathBuf> = fs::read_dir(from)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for e in entries {
        let linked = link && e.file_name().is_some_and(|n| n == LINKED[0]);
        copy(if linked { &["-al"] } else { &["-a"] }, &e, to)?;
    }
    for part in LINKED[1..].iter().filter(|_| link) {
        let (src, dst) = (from.join(part), to.join(part));
        if src.is_dir() {
            remove_tree(&dst)?;
            copy(&["-al"], &src, dst.parent().context("a linked part has a parent")?)?;
        }
    }
    Ok(())
}

/// Whether `a` and `b` lie on the same file system (a hard link from one to the other can be made).
fn same_file_system(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    matches!((fs::metadata(a), fs::metadata(b)), (Ok(x), Ok(y)) if x.dev() == y.dev())
}

/// Remove a root copy; `--one-file-system` keeps the removal from crossing into a mount.
fn remove_tree(dir: &Path) -> Result<()> {
    if fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    let st = Command::new("rm").args(["-rf", "--one-file-system"]).arg(dir).status().context("cannot run rm")?;
    anyhow::ensure!(st.success(), "cannot remove {}", dir.display());
    Ok(())
}

/// `apt-get install` the package files in the root; on failure, apt's own reasons (the
/// dependencies it cannot satisfy) in the error.
/// Run the fixed `script` in the root (bwrap, the root writable) with `files` as its
/// arguments; its output goes to `log`.
fn in_root_command(root: &Path, script: &str, files: &[String], log: &Path, title: &str, runner: &mut Runner) -> Result<std::process::ExitStatus> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).arg("sh").args(files);
    let mut wrapped = crate::support::sandbox::writable(root, &cmd);
    wrapped.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").env("DEBIAN_FRONTEND", "noninteractive").env("LC_ALL", "C.UTF-8");
    let out = runner.in_process(title, || wrapped.output().context("cannot run bwrap"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    fs::write(log, &text)?;
    Ok(out.status)
}

fn install(root: &Path, files: &[String], log: &Path, id: &str, runner: &mut Runner) -> Result<()> {
    let status = in_root_command(root, INSTALL, files, log, &format!("apt-get install {id}'s packages in its release's root"), runner)?;
    let text = fs::read_to_string(log).unwrap_or_default();
    if !status.success() {
        let reasons: Vec<&str> = text.lines().filter(|l| l.contains("Depends:") || l.contains("Conflicts:") || l.contains("Breaks:") || l.starts_with("E: ") || l.contains("dpkg: error")).collect();
        bail!(
            "{id}: the release's apt cannot install the packages, so Kea was not started:\n  {}\n(apt's whole output: {}). A dependency the release does not have means the packages were built against another release or Kea: build them for this target, or pass --target for the release they are for",
            if reasons.is_empty() { text.lines().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n  ") } else { reasons.join("\n  ") },
            log.display()
        );
    }
    Ok(())
}

/// A hooks snippet an installed package carries.
struct Snippet {
    /// `kea-dhcp4`.
    process: String,
    /// The snippet's `{ "Dhcp4": { "hooks-libraries": [...] } }`.
    json: Value,
    /// The package's guidance text (the control socket it names).
    guidance: String,
    package: String,
}

/// The snippets (`/usr/share/doc/<package>/kea-<daemon>-hooks.json`) of the verified packages.
fn installed_snippets(root: &Path, packages: &[PathBuf]) -> Result<Vec<Snippet>> {
    let mut out = Vec::new();
    for p in packages {
        let control = match p.extension().and_then(|e| e.to_str()) {
            Some("deb") => crate::publish::debfile::read(p)?.control,
            _ => continue,
        };
        let Some(name) = field(&control, "Package") else { continue };
        // The name becomes a path below the root: only a valid package name may.
        crate::plan::values::debian_package_name(&name).map_err(|rule| anyhow::anyhow!(
            "{}: Package {}: {rule} (Debian policy 5.6.7); keapack verifies only packages with a valid name: rebuild the package",
            p.display(), crate::support::text::shown(&name)))?;
        let doc = root.join("usr/share/doc").join(&name);
        let Ok(rd) = fs::read_dir(&doc) else { continue };
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let Some(fname) = f.file_name().and_then(|n| n.to_str()) else { continue };
            let Some(process) = fname.strip_suffix("-hooks.json").filter(|p| p.starts_with("kea-")) else { continue };
            let json: Value = serde_json::from_str(&fs::read_to_string(&f)?).with_context(|| format!("{name}'s snippet {fname} is not JSON"))?;
            let guidance = fs::read_to_string(doc.join("GUIDANCE.txt")).unwrap_or_default();
            out.push(Snippet { process: process.to_string(), json, guidance, package: name.clone() });
        }
    }
    Ok(out)
}

/// The control socket the guidance names for `d` (`"socket-name": ".../kea4-ctrl-socket"`).
fn guidance_socket(guidance: &str, d: &DaemonInfo) -> Option<String> {
    guidance.lines().filter_map(|l| l.trim().strip_prefix("\"socket-name\": \"")).map(|r| r.trim_end_matches(',').trim_end_matches('"').to_string()).find(|s| s.ends_with(&format!("/{}", d.socket)))
}

/// The catalog's short daemon name of a process (`kea-dhcp4` → `dhcp4`) and its entry.
fn daemon_of<'c>(catalog: &'c Catalog, process: &str) -> Option<(&'c str, &'c DaemonInfo)> {
    catalog.daemon.iter().find(|(_, d)| d.process == process).map(|(k, d)| (k.as_str(), d))
}

/// The unit in the root whose `ExecStart=` runs `/usr/sbin/<process>`.
fn unit_of(root: &Path, process: &str) -> Option<(String, Unit)> {
    for dir in ["usr/lib/systemd/system", "lib/systemd/system"] {
        let Ok(rd) = fs::read_dir(root.join(dir)) else { continue };
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "service")).collect();
        files.sort();
        for f in files {
            let Ok(text) = fs::read_to_string(&f) else { continue };
            if let Ok(u) = Unit::parse(&text)
                && u.exec.first().is_some_and(|p| p == &format!("/usr/sbin/{process}"))
            {
                return Some((f.file_name().unwrap_or_default().to_string_lossy().into_owned(), u));
            }
        }
    }
    None
}

/// `name`'s uid and gid from the root's own `/etc/passwd`.
fn ids_in(root: &Path, name: &str) -> Result<(u32, u32)> {
    let passwd = fs::read_to_string(root.join("etc/passwd"))?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == name {
            return Ok((f[2].parse()?, f[3].parse()?));
        }
    }
    bail!("the root has no user {name}: the Kea packages installed there did not create it")
}

/// A started daemon, stopped (SIGTERM, then SIGKILL after 10 s) by its own process id.
struct Running(Child);

impl Running {
    fn stop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            // SAFETY: kill(2) on the child's own pid, which it keeps until waited for.
            unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
            let end = Instant::now() + Duration::from_secs(10);
            while let Ok(None) = self.0.try_wait() {
                if Instant::now() > end {
                    let _ = self.0.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.0.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A snippet made into what Kea is started with.
struct Filled {
    /// The `hooks-libraries` entries, placeholders filled.
    libraries: Vec<Value>,
    /// The hooks' own load messages the catalog knows (`HOST_CMDS_INIT_OK`).
    messages: Vec<String>,
    /// Keys of the daemon's own map the hooks need (flex_id: `host-reservation-identifiers`).
    settings: serde_json::Map<String, Value>,
}

/// Fill the snippet's placeholders: the manifest's values, else the catalog's examples.
fn filled_libraries(req: &Request, short: &str, key: &str, snippet: &Value) -> Result<Filled> {
    let libs = snippet.get(key).and_then(|m| m.get("hooks-libraries")).and_then(Value::as_array).with_context(|| format!("the snippet has no {key}.hooks-libraries"))?;
    let mut out = Vec::new();
    let mut messages = Vec::new();
    let mut settings = serde_json::Map::new();
    for lib in libs {
        let mut lib = lib.clone();
        let path = lib.get("library").and_then(Value::as_str).context("a hooks-libraries entry without a library")?.to_string();
        let file = path.rsplit('/').next().unwrap_or(&path).to_string();
        let hook = req.catalog.by_library(&file);
        if let Some(h) = hook {
            messages.extend(h.load_message.clone());
            if let Some(s) = h.daemon_settings(short) {
                settings.extend(s);
            }
        }
        // The manifest's values for this hook: each set, whether the snippet names it or not.
        if let Some(given) = hook.and_then(|h| req.parameters.get(&h.name)) {
            let map = lib.as_object_mut().context("a hooks-libraries entry is a map")?;
            let params = map.entry("parameters").or_insert_with(|| json!({}));
            let params = params.as_object_mut().context("a hook's parameters are a map")?;
            for (name, v) in given {
                params.insert(name.clone(), serde_json::to_value(v)?);
            }
        }
        if let Some(params) = lib.get_mut("parameters").and_then(Value::as_object_mut) {
            for (name, value) in params.iter_mut() {
                if !value.to_string().contains("REPLACE-ME") {
                    continue;
                }
                let example = hook.and_then(|h| h.mandatory.iter().find(|m| &m.name == name)).and_then(|m| m.example(short));
                match example {
                    Some(e) => *value = e,
                    None => bail!(
                        "{file}'s parameter \"{name}\" has no example value in the hooks catalog: give one in the manifest ([verify.parameters.{}] {name} = …) to verify the load",
                        hook.map_or("<hook>", |h| h.name.as_str())
                    ),
                }
            }
        }
        out.push(lib);
    }
    Ok(Filled { libraries: out, messages, settings })
}

/// Start `s.process` in the root with the snippet, wait for the load, ask `list-commands`.
fn check_daemon(req: &Request, root: &Path, s: &Snippet, user_fallback: &str) -> Result<DaemonEvidence> {
    let started = Instant::now();
    let id = req.target.id();
    let (short, info) = daemon_of(req.catalog, &s.process).with_context(|| format!("{}: the hooks catalog knows no daemon {}", s.package, s.process))?;
    let binary = format!("/usr/sbin/{}", s.process);
    if !root.join(&binary[1..]).is_file() {
        bail!("{id}: {} holds hooks for {}, but no installed package of the release provides {binary}", s.package, s.process);
    }
    let (unit_name, unit) = unit_of(root, &s.process).unwrap_or_else(|| {
        // No unit: what keapack's own units make.
        let directories = vec![("/run/kea".to_string(), 0o750), ("/var/lib/kea".to_string(), 0o750), ("/var/log/kea".to_string(), 0o750)];
        ("(no unit)".to_string(), Unit { user: Some(user_fallback.to_string()), exec: vec![binary.clone(), "-c".into(), format!("/etc/kea/{}", info.config)], directories })
    });
    let user = unit.user.clone().unwrap_or_else(|| user_fallback.to_string());
    let (uid, gid) = ids_in(root, &user)?;
    let config_path = unit.exec.iter().position(|a| a == "-c").and_then(|i| unit.exec.get(i + 1)).cloned().unwrap_or_else(|| format!("/etc/kea/{}", info.config));

    // The configuration an operator writes from the guidance.
    let socket = if info.http_port.is_some() { None } else {
        Some(guidance_socket(&s.guidance, info).with_context(|| format!("{id}: {}'s guidance names no control socket for {}", s.package, s.process))?)
    };
    let Filled { libraries: libs, messages, settings } = filled_libraries(req, short, &info.key, &s.json).with_context(|| format!("{id}: {}", s.process))?;
    let mut body = json!({
        "hooks-libraries": libs,
        "loggers": [{ "name": s.process, "output_options": [{ "output": "stdout" }], "severity": "INFO" }],
    });
    if matches!(short, "dhcp4" | "dhcp6") {
        body["interfaces-config"] = json!({ "interfaces": [] });
        body["lease-database"] = json!({ "type": "memfile", "persist": false });
    }
    if short == "dhcp6" {
        // The namespace has no interface with a link-layer address to make a DUID-LLT from.
        body["server-id"] = json!({ "type": "EN", "enterprise-id": 2495, "identifier": "6b6561706163" });
    }
    for (k, v) in settings {
        body[k] = v;
    }
    if let Some(sock) = &socket {
        body["control-socket"] = json!({ "socket-type": "unix", "socket-name": sock });
    }
    let config = json!({ info.key.clone(): body });
    let host_config = root.join(config_path.trim_start_matches('/'));
    fs::create_dir_all(host_config.parent().context("a configuration path has a directory")?)?;
    fs::write(&host_config, serde_json::to_string_pretty(&config)? + "\n")?;

    // What systemd makes for the unit, owned by its user, with the unit's modes; nothing more:
    // a control socket the guidance puts anywhere else is Kea's to refuse, as in production.
    for (d, mode) in &unit.directories {
        let host = root.join(d.trim_start_matches('/'));
        fs::create_dir_all(&host)?;
        std::os::unix::fs::chown(&host, Some(uid), Some(gid))?;
        fs::set_permissions(&host, fs::Permissions::from_mode(*mode))?;
    }
    // The pid and lock files go to the unit's first runtime directory, as its daemons' do.
    let run_dir = unit.directories.iter().map(|(d, _)| d.clone()).find(|d| d.starts_with("/run/")).unwrap_or_else(|| "/run/kea".to_string());

    // -V and the package it came from.
    // As the service user too: the binary may come from a package handed to `keapack verify`.
    let version = Command::new("chroot").arg(format!("--userspec={uid}:{gid}")).arg(root).arg(&binary).arg("-V").env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").output().ok().and_then(|o| String::from_utf8(o.stdout).ok()).and_then(|t| t.lines().next().map(str::to_string)).unwrap_or_default();
    let package = owning_package(root, &binary);

    let log = req.dir.join(format!("{}.log", s.process));
    let out = fs::File::create(&log)?;
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--", "chroot"]).arg(format!("--userspec={uid}:{gid}")).arg(root).args(&unit.exec);
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("KEA_PIDFILE_DIR", &run_dir)
        .env("KEA_LOCKFILE_DIR", &run_dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let launched = Instant::now();
    let mut kea = Running(cmd.spawn().context("cannot run unshare (util-linux)")?);
    let pid = kea.0.id();

    let libraries: Vec<String> = s.json[&info.key]["hooks-libraries"].as_array().into_iter().flatten().filter_map(|l| l["library"].as_str().map(str::to_string)).collect();
    let mut needles: Vec<String> = libraries.iter().map(|l| format!("HOOKS_LIBRARY_LOADED hooks library {l} successfully loaded")).collect();
    needles.extend(messages);
    let fail = |why: &str, text: &str| -> anyhow::Error {
        anyhow::anyhow!(
            "{id}: {} ({version}, from {package}) did not start with {}'s hooks: {why}\nKea's log:\n  {}\n(the whole log: {}; the configuration: {} in {})",
            s.process,
            s.package,
            log_tail(text).join("\n  "),
            log.display(),
            config_path,
            root.display()
        )
    };
    let end = Instant::now() + LOAD_TIMEOUT;
    let sock_host = socket.as_ref().map(|s| PathBuf::from(format!("/proc/{pid}/root{s}")));
    let text = loop {
        let text = fs::read_to_string(&log).unwrap_or_default();
        let (_, errors) = daemon::log_evidence(&text);
        if !errors.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
            return Err(fail("Kea logged an error", &fs::read_to_string(&log).unwrap_or(text)));
        }
        let loaded = needles.iter().all(|n| text.contains(n.as_str()));
        if loaded && sock_host.as_ref().is_none_or(|p| p.exists()) {
            break text;
        }
        if let Ok(Some(st)) = kea.0.try_wait() {
            return Err(fail(&format!("Kea exited ({st}) before it loaded them"), &text));
        }
        if Instant::now() > end {
            let missing: Vec<&str> = needles.iter().filter(|n| !text.contains(n.as_str())).map(String::as_str).collect();
            return Err(fail(&format!("after {LOAD_TIMEOUT:?} Kea had not logged {missing:?} or opened its control socket"), &text));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let start_seconds = secs(launched);
    let log_lines: Vec<String> = text.lines().filter(|l| needles.iter().any(|n| l.contains(n.as_str()))).map(|l| message_part(l).to_string()).collect();

    // The hooks' commands, over the control socket the guidance names.
    let mut commands = Vec::new();
    let asked = Instant::now();
    if let Some(path) = &sock_host {
        let answer = daemon::ask(path, "list-commands", Duration::from_secs(10)).map_err(|e| fail(&format!("{e:#}"), &text))?;
        let listed: Vec<String> = answer["arguments"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(str::to_string)).collect();
        for lib in &libraries {
            let file = lib.rsplit('/').next().unwrap_or(lib);
            for c in req.catalog.by_library(file).map(|h| h.commands.clone()).unwrap_or_default() {
                if !listed.contains(&c) {
                    return Err(fail(&format!("list-commands on {} does not list {c}, a command of {file}; it lists {}", socket.as_deref().unwrap_or(""), listed.join(", ")), &text));
                }
                commands.push(c);
            }
        }
    }
    let commands_seconds = secs(asked);
    kea.stop();
    Ok(DaemonEvidence { daemon: s.process.clone(), version, package, unit: unit_name, user, log_lines, commands, socket: socket.unwrap_or_default(), start_seconds, commands_seconds, seconds: secs(started) })
}

/// `kea-dhcp4-server 2.2.0-6`: the package holding `path` in the root.
fn owning_package(root: &Path, path: &str) -> String {
    let out = Command::new("dpkg-query").arg(format!("--admindir={}", root.join("var/lib/dpkg").display())).args(["-S", path]).env("LC_ALL", "C").output();
    let Some(name) = out.ok().and_then(|o| String::from_utf8(o.stdout).ok()).and_then(|t| t.split(':').next().map(|s| s.trim().to_string())).filter(|s| !s.is_empty()) else {
        return "unknown".to_string();
    };
    let v = crate::build::root::package_versions(root, &[name.as_str()]);
    match v.get(&name) {
        Some(ver) => format!("{name} {ver}"),
        None => name,
    }
}

/// A log line from its message id on (`HOOKS_LIBRARY_LOADED hooks library … loaded`).
fn message_part(line: &str) -> &str {
    // `2026-12-07 03:10:00.123 INFO  [kea-dhcp4.hooks/123.456] HOOKS_…`
    match line.find("] ") {
        Some(i) => &line[i + 2..],
        None => line,
    }
}

/// The lines of Kea's log an error message shows: up to eight before the first error line,
/// that line and two after; else the last ten.
fn log_tail(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let (_, errors) = daemon::log_evidence(text);
    let at = errors.first().and_then(|e| lines.iter().position(|l| l == e));
    let range = match at {
        Some(i) => i.saturating_sub(8)..(i + 3).min(lines.len()),
        None => lines.len().saturating_sub(10)..lines.len(),
    };
    lines[range].iter().map(|l| l.to_string()).collect()
}

#[cfg(test)]
mod tests {
    /// The record's entry is the evidence without the times; the event's has them.
    #[test]
    fn the_record_entry_leaves_the_times_out() {
        let d = super::DaemonEvidence {
            daemon: "kea-dhcp4".into(), version: "2.2.0".into(), package: "kea-dhcp4-server 2.2.0-6".into(),
            unit: "kea-dhcp4-server.service".into(), user: "_kea".into(), log_lines: vec!["HOOKS_LIBRARY_LOADED x".into()],
            commands: vec!["reservation-add".into()], socket: "/run/kea/kea4-ctrl-socket".into(),
            start_seconds: 0.1, commands_seconds: 0.01, seconds: 0.2,
        };
        let v = super::Verification {
            target: "debian-12-amd64".into(), verified: true, not_verified: None, root: Some("bookworm-amd64-x".into()),
            runtime: "Debian 12".into(), packages: vec!["a.deb".into()], daemons: vec![d],
            timings: [("root".to_string(), 0.5)].into_iter().collect(), seconds: 1.8,
        };
        let event = serde_json::Value::Object(v.as_json());
        let record = serde_json::Value::Object(v.record_json());
        assert_eq!(event["timings"]["root"], 0.5);
        assert_eq!(event["daemons"][0]["start-seconds"], 0.1);
        for k in ["timings", "seconds"] {
            assert!(record.get(k).is_none(), "{record:#}");
        }
        for k in ["start-seconds", "commands-seconds", "seconds"] {
            assert!(record["daemons"][0].get(k).is_none(), "{record:#}");
        }
        // Everything else is kept as the event has it.
        for k in ["target", "verified", "root", "runtime", "packages"] {
            assert_eq!(record[k], event[k], "{k}");
        }
        for k in ["daemon", "version", "package", "unit", "user", "log-lines", "commands", "socket"] {
            assert_eq!(record["daemons"][0][k], event["daemons"][0][k], "{k}");
        }
    }

    /// A handed package whose `Package:` would climb out of the root's /usr/share/doc is
    /// refused with its name and the rule, before anything there is read.
    #[test]
    fn a_package_name_that_climbs_out_of_the_root_is_refused() {
        use crate::plan::spec::{Compression, Format};
        let (tmp, mut spec) = crate::plan::testutil::sample_spec(Format::Deb, Compression::Gzip);
        spec.name = "../../outside".into();
        let deb = tmp.path().join("crafted.deb");
        crate::emit::write_package(&spec, &mut std::fs::File::create(&deb).unwrap()).unwrap();
        let root = tmp.path().join("a/root");
        std::fs::create_dir_all(root.join("usr/share/doc")).unwrap();
        // What the crafted name reaches: a snippet keapack must not read.
        std::fs::create_dir_all(tmp.path().join("a/outside")).unwrap();
        std::fs::write(tmp.path().join("a/outside/kea-dhcp4-hooks.json"), "{}").unwrap();
        let Err(err) = super::installed_snippets(&root, std::slice::from_ref(&deb)) else { panic!("the crafted package was not refused") };
        let err = format!("{err:#}");
        assert!(err.contains(&deb.display().to_string()) && err.contains("../../outside") && err.contains("Debian policy"), "{err}");
        // A valid name is looked up as before.
        spec.name = "kea-hook-test".into();
        let good = tmp.path().join("good.deb");
        crate::emit::write_package(&spec, &mut std::fs::File::create(&good).unwrap()).unwrap();
        assert!(super::installed_snippets(&root, &[good]).unwrap().is_empty());
    }

    use super::*;

    #[test]
    fn the_runtime_is_read_from_the_packages_relations() {
        let hooks = "Package: kea-premium-hooks\nDepends: kea-common (>= 2.2.0), libc6 (>= 2.14)\n".to_string();
        assert_eq!(runtime_of(std::slice::from_ref(&hooks)), RuntimeStyle::Distribution);
        let isc = "Package: kea-premium-hooks\nDepends: isc-kea-common (= 2.6.3-isc20250522), libc6\n".to_string();
        assert_eq!(runtime_of(&[isc]), RuntimeStyle::Isc);
        let own_hooks = "Package: kea-premium-hooks\nDepends: keapack-kea-common (= 2.6.3-1+deb12), libc6\n".to_string();
        let own_common = "Package: keapack-kea-common\nDepends: libc6\n".to_string();
        assert_eq!(runtime_of(&[own_hooks.clone(), own_common.clone()]), RuntimeStyle::Own);
        // ISC's names as Kea's own packages (runtime-prefix isc-kea): the run provides them.
        let drop_in = "Package: isc-kea-common\n".to_string();
        let on_it = "Package: kea-premium-hooks\nDepends: isc-kea-common (= 2.6.3-1+deb12)\n".to_string();
        assert_eq!(runtime_of(&[on_it, drop_in]), RuntimeStyle::Own);
        // Own hooks handed alone: the runtime is none of this set's.
        assert_eq!(runtime_of(&[own_hooks]), RuntimeStyle::Distribution);
    }

    #[test]
    fn the_guidance_socket_is_the_daemons_own() {
        let c = Catalog::builtin();
        let text = "  \"Dhcp4\": {\n      \"control-socket\": {\n        \"socket-name\": \"/run/kea/kea4-ctrl-socket\",\n        \"socket-type\": \"unix\"\n  \"Dhcp6\": {\n        \"socket-name\": \"/run/kea/kea6-ctrl-socket\",\n";
        assert_eq!(guidance_socket(text, &c.daemon["dhcp4"]).as_deref(), Some("/run/kea/kea4-ctrl-socket"));
        assert_eq!(guidance_socket(text, &c.daemon["dhcp6"]).as_deref(), Some("/run/kea/kea6-ctrl-socket"));
        assert_eq!(guidance_socket(text, &c.daemon["ddns"]), None);
    }

    #[test]
    fn placeholders_take_the_manifests_value_then_the_catalogs_example() {
        let c = Catalog::builtin();
        let snippet = json!({ "Dhcp6": { "hooks-libraries": [
            { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so", "parameters": { "identifier-expression": "REPLACE-ME: an expression such as relay6[0].option[18].hex" } },
            { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_query.so", "parameters": { "requesters": ["REPLACE-ME: IP address"] } },
            { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so" }
        ] } });
        let none = BTreeMap::new();
        let t: Target = crate::plan::profile::Profiles::builtin().target("debian-12-amd64").unwrap();
        let req = Request { target: &t, packages: vec![], runtime: RuntimeStyle::Distribution, dir: PathBuf::new(), mirror: None, catalog: &c, parameters: &none, own_packages: true };
        let Filled { libraries: libs, messages, settings } = filled_libraries(&req, "dhcp6", "Dhcp6", &snippet).unwrap();
        assert_eq!(libs[0]["parameters"]["identifier-expression"], "relay6[0].option[18].hex");
        assert_eq!(libs[1]["parameters"]["requesters"], json!(["::1"]));
        assert_eq!(messages, ["LEASE_QUERY_LOAD_OK", "HOST_CMDS_INIT_OK"]);
        assert!(settings["host-reservation-identifiers"].as_array().unwrap().contains(&json!("flex-id")));
        let mut given = BTreeMap::new();
        given.insert("flex_id".to_string(), toml::toml! { identifier-expression = "pkt6.transid" });
        given.insert("host_cmds".to_string(), toml::toml! { extra = [1, 2] });
        let req = Request { parameters: &given, ..req };
        let libs = filled_libraries(&req, "dhcp6", "Dhcp6", &snippet).unwrap().libraries;
        assert_eq!(libs[0]["parameters"]["identifier-expression"], "pkt6.transid");
        // A parameter the snippet does not name is added.
        assert_eq!(libs[2]["parameters"]["extra"], json!([1, 2]));
        // A placeholder with no example anywhere is named with its fix.
        let gss = json!({ "DhcpDdns": { "hooks-libraries": [{ "library": "/x/libddns_gss_tsig.so", "parameters": { "servers": [{ "id": "REPLACE-ME: server id" }] } }] } });
        let e = filled_libraries(&req, "ddns", "DhcpDdns", &gss).err().unwrap().to_string();
        assert!(e.contains("\"servers\"") && e.contains("[verify.parameters.gss_tsig]"), "{e}");
    }

    #[test]
    fn a_root_copy_links_usr_only_for_the_runs_own_packages() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("cache");
        for f in ["usr/sbin/kea-dhcp4", "etc/kea/kea-dhcp4.conf", "var/lib/apt/lists/x_Packages", "var/lib/dpkg/status"] {
            fs::create_dir_all(cache.join(f).parent().unwrap()).unwrap();
            fs::write(cache.join(f), f).unwrap();
        }
        std::os::unix::fs::symlink("usr/sbin", cache.join("sbin")).unwrap();
        let ino = |p: &Path| fs::metadata(p).unwrap().ino();
        let copy = tmp.path().join("copy");
        copy_root(&cache, &copy, true).unwrap();
        for (f, linked) in [("usr/sbin/kea-dhcp4", true), ("var/lib/apt/lists/x_Packages", true), ("etc/kea/kea-dhcp4.conf", false), ("var/lib/dpkg/status", false)] {
            assert_eq!(ino(&cache.join(f)) == ino(&copy.join(f)), linked, "{f}");
            assert_eq!(fs::read_to_string(copy.join(f)).unwrap(), f);
        }
        assert_eq!(fs::read_link(copy.join("sbin")).unwrap(), Path::new("usr/sbin"));
        // Another file system (the kernel's /proc is always one): no links are attempted.
        assert!(same_file_system(&cache, &copy));
        assert!(!same_file_system(Path::new("/proc"), &copy));
        // Copied again, over the first copy, without links: nothing shared with the cache.
        copy_root(&cache, &copy, false).unwrap();
        for f in ["usr/sbin/kea-dhcp4", "var/lib/apt/lists/x_Packages", "etc/kea/kea-dhcp4.conf"] {
            assert_ne!(ino(&cache.join(f)), ino(&copy.join(f)), "{f}");
        }
    }

    #[test]
    fn the_log_tail_ends_at_kea_s_error() {
        let mut log = String::new();
        for i in 0..20 {
            log.push_str(&format!("2026-12-07 03:00:00.000 INFO  [kea-dhcp4.dhcp4/1.1] LINE_{i}\n"));
        }
        log.push_str("2026-12-07 03:00:00.000 ERROR [kea-dhcp4.hooks/1.1] HOOKS_LOAD_ERROR 'load' function in hook library /x.so returned error 1\n");
        for i in 20..30 {
            log.push_str(&format!("2026-12-07 03:00:00.000 INFO  [kea-dhcp4.dhcp4/1.1] LINE_{i}\n"));
        }
        let tail = log_tail(&log);
        assert_eq!(tail.len(), 11, "{tail:?}");
        assert!(tail[0].ends_with("LINE_12") && tail[8].contains("HOOKS_LOAD_ERROR") && tail[10].ends_with("LINE_21"), "{tail:?}");
        assert_eq!(message_part("2026-12-07 03:00:00.000 INFO  [kea-dhcp4.hooks/1.1] HOOKS_LIBRARY_LOADED hooks library /x.so successfully loaded"), "HOOKS_LIBRARY_LOADED hooks library /x.so successfully loaded");
    }
}

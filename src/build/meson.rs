//! Builds a meson Kea tree (Kea 2.7.7 and later; 3.x builds only with meson) with the overlay in
//! place: checks meson's version against what that Kea needs before anything runs, then
//! `meson setup`, reads `build/config.report` to prove the overlay was detected, `meson compile`
//! and `meson install --destdir <work>/stage`.
//!
//! Kea's meson build adds `premium/` by itself (`fs.is_dir('premium')`, then `subdir('premium')`),
//! so nothing is regenerated after the overlay is placed. Two things differ from autotools and
//! are handled here or downstream: the install RPATH, which Kea's meson.build leaves out only
//! when `KEA_PKG_TYPE_IN_CONFIGURE` is set (keapack sets it, as ISC's own packaging does), and
//! the install umask 0027 of Kea 2.7.9–3.1.8, which the planner undoes by giving every packaged
//! hook mode 0644.

use super::{BuildOptions, BuildOutput, Reuse, Scope, built_libraries, package_env};
use crate::build::report;
use crate::support::runner::Runner;
use crate::source::PreparedTree;
use crate::source::version::KeaVersion;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Kea's build directory inside the tree (the name Kea's own documentation uses).
pub(crate) const BUILD_DIR: &str = "build";

/// A meson version `X.Y.Z`, as `meson --version` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct MesonVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl MesonVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        MesonVersion { major, minor, patch }
    }

    /// Parse `1.12.1`, `1.3.0.rc1`, `1.4` (patch 0), ignoring whitespace around it.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor, patch) = crate::source::version::version_parts(text, crate::source::version::Parts::Leading)?;
        Some(MesonVersion { major, minor, patch })
    }
}

impl fmt::Display for MesonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The oldest meson a tree builds with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MesonRequirement {
    pub version: MesonVersion,
    pub reason: String,
}

/// The oldest meson a Kea release builds with: 1.1.0 (Kea 2.7.7 to 3.1.8), 1.3.0 from 3.1.9.
pub(crate) fn kea_minimum(kea: &KeaVersion) -> MesonRequirement {
    if kea.at_least(3, 1, 9) {
        MesonRequirement { version: MesonVersion::new(1, 3, 0), reason: format!("Kea {kea} needs meson 1.3.0 or newer (Kea 3.1.9 and later)") }
    } else {
        MesonRequirement { version: MesonVersion::new(1, 1, 0), reason: format!("Kea {kea} needs meson 1.1.0 or newer (Kea 2.7.7 to 3.1.8)") }
    }
}

/// The minimum a `meson.build` declares in `project(…, meson_version: '>= X.Y.Z', …)`.
pub(crate) fn declared_minimum(meson_build: &str) -> Option<MesonVersion> {
    let at = meson_build.find("meson_version")? + "meson_version".len();
    let rest = meson_build[at..].trim_start().strip_prefix(':')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let value = &rest[1..];
    let value = &value[..value.find(quote)?];
    MesonVersion::parse(value.trim().strip_prefix(">=")?)
}

/// What the tree needs: Kea's minimum, or its meson.build's `meson_version` when that is higher.
pub(crate) fn requirement(kea: &KeaVersion, meson_build: Option<&str>) -> MesonRequirement {
    let base = kea_minimum(kea);
    match meson_build.and_then(declared_minimum) {
        Some(declared) if declared > base.version => {
            MesonRequirement { version: declared, reason: format!("the tree's meson.build declares meson_version '>= {declared}'") }
        }
        _ => base,
    }
}

/// Compare what `meson --version` printed (`found`, from `path`) with the requirement.
pub(crate) fn check_version(found: &str, path: &str, need: &MesonRequirement) -> Result<MesonVersion> {
    let Some(version) = MesonVersion::parse(found.lines().find(|l| !l.trim().is_empty()).unwrap_or("")) else {
        bail!("`{path} --version` printed {:?}, not a meson version; is `meson` on PATH really meson?", found.trim());
    };
    if version < need.version {
        bail!("{}", too_old_message(version, path, need));
    }
    Ok(version)
}

/// The sentence for a meson that is too old: what was found, what is needed, how to get it.
pub(crate) fn too_old_message(found: MesonVersion, path: &str, need: &MesonRequirement) -> String {
    let v = need.version;
    format!(
        "meson {found} ({path}) is too old: {}. Distributions often ship an older one (Debian 12 has 1.0.1); \
         install a newer meson from PyPI: pip install 'meson>={v}' (with a system Python that refuses pip, \
         use a virtual environment: python3 -m venv ~/.local/meson && ~/.local/meson/bin/pip install 'meson>={v}', \
         or pipx install meson), put it first on PATH, check `meson --version`, and rerun keapack.",
        need.reason
    )
}

/// The `meson setup` options keapack passes, minus those the user gives themselves.
/// `declares_runstatedir`: the tree's options file declares Kea's own `runstatedir` option
/// (Kea 3.x), which then gets the distributions' `/run`, as autotools' `--runstatedir` does.
pub(crate) fn setup_args(opts: &BuildOptions, declares_runstatedir: bool) -> Vec<String> {
    let defaults = [
        ("prefix", "/usr".to_string()),
        ("libdir", opts.libdir.clone()),
        ("sysconfdir", "/etc".into()),
        ("localstatedir", "/var".into()),
        ("buildtype", "release".into()),
        ("wrap_mode", "nodownload".into()),
    ];
    let given: BTreeSet<String> = opts.user_args.iter().filter_map(|a| option_name(a)).collect();
    let mut args = vec!["setup".to_string(), BUILD_DIR.to_string()];
    for (name, value) in defaults {
        if !given.contains(name) {
            args.push(format!("--{}={value}", name.replace('_', "-")));
        }
    }
    if declares_runstatedir && !given.contains("runstatedir") {
        args.push(format!("-Drunstatedir={}", crate::build::autotools::RUNSTATEDIR));
    }
    args.extend(opts.user_args.iter().cloned());
    args
}

/// Whether the tree's `meson.options` (meson 1.1+) or `meson_options.txt` declares `option('<name>', …)`.
pub(crate) fn declares_option(root: &Path, name: &str) -> bool {
    ["meson.options", "meson_options.txt"].iter().any(|f| fs::read_to_string(root.join(f)).is_ok_and(|text| options_declare(&text, name)))
}

/// Whether an options file's text declares `option('<name>', …)`; comments are skipped.
fn options_declare(text: &str, name: &str) -> bool {
    let code: String = text.lines().map(|l| l.split_once('#').map_or(l, |(code, _)| code)).flat_map(|l| l.chars()).filter(|c| !c.is_whitespace()).collect();
    code.split("option(").skip(1).any(|rest| rest.starts_with(&format!("'{name}'")) || rest.starts_with(&format!("\"{name}\"")))
}

/// The option a `meson setup` argument sets (`--wrap-mode=x`, `-Dwrap_mode=x` → `wrap_mode`).
fn option_name(arg: &str) -> Option<String> {
    let body = arg.strip_prefix("-D").or_else(|| arg.strip_prefix("--"))?;
    let name = body.split('=').next()?.trim();
    (!name.is_empty()).then(|| name.replace('-', "_"))
}

/// Build the prepared meson tree and install it into `<work>/stage`.
pub(crate) fn build(tree: &PreparedTree, work: &Path, opts: &BuildOptions, runner: &mut Runner, reuse: Option<&Reuse>) -> Result<BuildOutput> {
    let root = &tree.root;
    let meson_build = fs::read_to_string(root.join("meson.build")).ok();
    let need = requirement(&tree.version, meson_build.as_deref());
    let path = which("meson").unwrap_or_else(|| PathBuf::from("meson"));
    let probe = runner.run("meson --version", "meson-version", Command::new(&path).arg("--version"))?;
    let printed = command_output(&probe.log)?;
    let found = check_version(&printed, &path.display().to_string(), &need)?;
    runner.note(&format!("meson {found} ({}); {}", path.display(), need.reason));

    let env = package_env(opts);
    let build_dir = root.join(BUILD_DIR);
    let args = setup_args(opts, declares_option(root, "runstatedir"));
    // A reused tree keeps its build directory: set up as this build needs (and no build file
    // changed), it goes straight to compiling; otherwise meson sets it up again in place
    // (--reconfigure). Either way ninja rebuilds only what changed.
    let reuse = reuse.filter(|_| build_dir.join("build.ninja").is_file());
    let configured_as = reuse.is_some_and(|r| r.configured_as(&setup_line(&args), opts));
    let setup_log = if configured_as {
        runner.note("the reused tree's build directory is set up as this build needs: meson setup skipped");
        None
    } else if reuse.is_some() {
        let mut again = args.clone();
        again.insert(2, "--reconfigure".to_string());
        Some(runner.run("meson setup --reconfigure", "meson-setup", Command::new(&path).args(&again).envs(env.clone()).current_dir(root))?.log)
    } else {
        if build_dir.exists() {
            fs::remove_dir_all(&build_dir).with_context(|| format!("cannot clear the old build directory {}", build_dir.display()))?;
        }
        Some(runner.run("meson setup", "meson-setup", Command::new(&path).args(&args).envs(env.clone()).current_dir(root))?.log)
    };

    let report_path = build_dir.join("config.report");
    // Kea saves the report; should a release not, its message() output in the setup log says the same.
    let setup_log = setup_log.unwrap_or_else(|| report_path.clone());
    let (text, source) = match fs::read_to_string(&report_path) {
        Ok(t) => (t, report_path.clone()),
        Err(_) => (fs::read_to_string(&setup_log).unwrap_or_default(), setup_log.clone()),
    };
    let report = report::parse(&text);
    if !report.detected() {
        let shown = if report.evidence.is_empty() {
            "  (the report has no \"Premium hooks:\" line at all)".to_string()
        } else {
            report.evidence.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
        };
        bail!(
            "Kea's meson setup did not detect the premium overlay. {} says:\n{shown}\n\
             Likely causes: premium/ is not at the Kea tree's root (it must sit next to meson.build, where meson.build's \
             fs.is_dir('premium') looks), or premium/meson.build is missing or builds nothing. Setup log: {}",
            source.display(),
            setup_log.display()
        );
    }
    runner.note(&format!("premium overlay detected: {}", report.evidence.join(" | ").trim()));

    let jobs = format!("-j{}", opts.jobs);
    let stage = work.join("stage");
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("cannot clear {}", stage.display()))?;
    }
    match opts.scope {
        Scope::Full => {
            runner.run(
                &format!("meson compile {jobs}"),
                "meson-compile",
                Command::new(&path).args(["compile", "-C", BUILD_DIR, &jobs]).envs(env.clone()).current_dir(root),
            )?;
            runner.run(
                "meson install",
                "meson-install",
                Command::new(&path).args(["install", "-C", BUILD_DIR, "--destdir"]).arg(&stage).envs(env).current_dir(root),
            )?;
        }
        Scope::HooksOnly => {
            let targets_log = runner.run("meson introspect --targets", "meson-targets", Command::new(&path).args(["introspect", BUILD_DIR, "--targets"]).current_dir(root))?;
            let plan_log = runner.run("meson introspect --install-plan", "meson-install-plan", Command::new(&path).args(["introspect", BUILD_DIR, "--install-plan"]).current_dir(root))?;
            let hooks = hook_targets(&command_output(&targets_log.log)?, &command_output(&plan_log.log)?, root, opts)?;
            if hooks.is_empty() {
                bail!("meson introspect lists no hook library under premium/ (a shared module installed into <libdir>/kea/hooks); premium/meson.build builds nothing keapack can package");
            }
            let names: Vec<String> = hooks.iter().map(|h| h.target.clone()).collect();
            runner.run(
                &format!("meson compile {jobs} {}", names.join(" ")),
                "meson-compile",
                Command::new(&path).args(["compile", "-C", BUILD_DIR, &jobs]).args(&names).envs(env.clone()).current_dir(root),
            )?;
            for h in &hooks {
                install_hook(h, &stage, &path, runner)?;
            }
        }
    }

    let premium_out = build_dir.join("premium");
    let premium_libraries = if premium_out.is_dir() { built_libraries(&premium_out)? } else { BTreeSet::new() };
    Ok(BuildOutput { stage, report, premium_libraries, configure_args: setup_line(&args) })
}

/// The meson setup command line as run the first time: `meson` and its arguments.
fn setup_line(args: &[String]) -> Vec<String> {
    std::iter::once("meson".to_string()).chain(args.iter().cloned()).collect()
}

/// A hook library a hooks-only meson build compiles and installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookTarget {
    /// The name `meson compile` takes: `<subdir>/<target name>` (`premium/src/hooks/dhcp/host_cmds/dhcp_host_cmds`).
    pub target: String,
    /// The built file.
    pub built: PathBuf,
    /// Where it installs, with meson's `{prefix}`/`{libdir}` placeholders resolved (`/usr/lib64/kea/hooks/libdhcp_host_cmds.so`).
    pub destination: String,
    /// The build-tree run paths meson's install removes from it.
    pub build_rpaths: Vec<String>,
    /// The run path meson's install writes instead (empty: none).
    pub install_rpath: String,
}

/// The hooks to build, from `meson introspect --targets` and `--install-plan` (both JSON):
/// every shared module defined under `premium/` (and, with `opts.open_hooks`, under `src/hooks/`)
/// that installs into `<libdir>/kea/hooks`.
pub(crate) fn hook_targets(targets_json: &str, plan_json: &str, root: &Path, opts: &BuildOptions) -> Result<Vec<HookTarget>> {
    let targets: serde_json::Value = serde_json::from_str(targets_json).context("meson introspect --targets printed no JSON")?;
    let plan: serde_json::Value = serde_json::from_str(plan_json).context("meson introspect --install-plan printed no JSON")?;
    let plan = plan.get("targets").and_then(|t| t.as_object()).cloned().unwrap_or_default();
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let build_dir = root.join(BUILD_DIR);
    let hooks_dir = format!("{}/kea/hooks/", opts.libdir.trim_end_matches('/'));
    let mut found = Vec::new();
    for t in targets.as_array().map(Vec::as_slice).unwrap_or_default() {
        let text = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        if !matches!(text("type").as_str(), "shared module" | "shared library") {
            continue;
        }
        let Some(built) = t.get("filename").and_then(|f| f.as_array()).and_then(|f| f.first()).and_then(|f| f.as_str()) else { continue };
        // `meson compile` finds a target by the directory of its output relative to the build
        // directory (the subdir that defines it) and by the name in its id, which carries the
        // name suffix (`dhcp_host_cmds.so` for `name_suffix: 'so'`).
        let Ok(rel) = Path::new(built).parent().unwrap_or(Path::new("")).strip_prefix(&build_dir) else { continue };
        let wanted = rel.starts_with("premium") || (opts.open_hooks && rel.starts_with("src/hooks"));
        if !wanted {
            continue;
        }
        let id = text("id");
        let name = id.rsplit_once('@').and_then(|(head, _)| head.split_once("@@")).map(|(_, n)| n.to_string()).unwrap_or_else(|| text("name"));
        let Some(entry) = plan.get(built) else { continue };
        let destination = entry
            .get("destination")
            .and_then(|d| d.as_str())
            .unwrap_or_default()
            .replace("{libdir}", opts.libdir.trim_end_matches('/'))
            .replace("{prefix}", "/usr");
        if !destination.starts_with(&hooks_dir) || !destination.ends_with(".so") {
            continue;
        }
        let build_rpaths = entry.get("build_rpaths").and_then(|r| r.as_array()).map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default();
        let install_rpath = entry.get("install_rpath").and_then(|r| r.as_str()).unwrap_or_default().to_string();
        let target = if rel.as_os_str().is_empty() { name } else { format!("{}/{name}", rel.display()) };
        found.push(HookTarget { target, built: PathBuf::from(built), destination, build_rpaths, install_rpath });
    }
    found.sort_by(|a, b| a.destination.cmp(&b.destination));
    Ok(found)
}

/// Install one built hook into the stage as `meson install` would: copy it, then let meson's
/// own rpath fixer (`mesonbuild.scripts.depfixer`, run with `meson runpython`, what `meson
/// install` calls on every installed target) replace the build-tree run paths with the install
/// rpath, which Kea leaves empty when `KEA_PKG_TYPE_IN_CONFIGURE` is set. Mode 0644.
fn install_hook(h: &HookTarget, stage: &Path, meson: &Path, runner: &mut Runner) -> Result<()> {
    let dest = stage.join(h.destination.trim_start_matches('/'));
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::copy(&h.built, &dest).with_context(|| format!("cannot copy {} to {}", h.built.display(), dest.display()))?;
    let present = crate::support::elf::read(&dest)?.rpath;
    if !present.is_empty() || !h.install_rpath.is_empty() {
        let name = dest.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        runner.run(
            &format!("meson's depfixer on {name}"),
            &format!("meson-depfixer-{}", name.trim_end_matches(".so")),
            Command::new(meson).args(["runpython", "-c", DEPFIXER]).arg(&dest).arg(&h.destination).arg(&h.install_rpath).args(&h.build_rpaths),
        )?;
    }
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o644)).with_context(|| format!("cannot set the mode of {}", dest.display()))?;
    Ok(())
}

/// Calls meson's depfixer as `meson install` does; its signature grew a `system` argument in
/// recent meson releases, so the call adapts to the meson at hand.
const DEPFIXER: &str = r#"
import inspect, sys
from mesonbuild.scripts import depfixer
fname, final, new = sys.argv[1], sys.argv[2], sys.argv[3]
remove = set(a.encode() for a in sys.argv[4:])
args = [fname, remove, new, final, {}]
if 'system' in inspect.signature(depfixer.fix_rpath).parameters:
    args.append('linux')
try:
    depfixer.fix_rpath(*args, verbose=False)
except SystemExit as e:
    if e.code not in (0, None):
        raise
"#;

/// What a command printed, from its step log (whose first line is `$ <command>`).
fn command_output(log: &Path) -> Result<String> {
    let text = fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    Ok(text.lines().skip_while(|l| l.starts_with("$ ")).collect::<Vec<_>>().join("\n"))
}

/// The first `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::format::Format;

    fn v(s: &str) -> KeaVersion {
        KeaVersion::parse(s).unwrap()
    }

    #[test]
    fn parses_what_meson_prints() {
        assert_eq!(MesonVersion::parse("1.12.1\n"), Some(MesonVersion::new(1, 12, 1)));
        assert_eq!(MesonVersion::parse("1.0.1"), Some(MesonVersion::new(1, 0, 1)));
        assert_eq!(MesonVersion::parse("1.3.0.rc1"), Some(MesonVersion::new(1, 3, 0)));
        assert_eq!(MesonVersion::parse("1.4"), Some(MesonVersion::new(1, 4, 0)));
        assert_eq!(MesonVersion::parse("not meson"), None);
        assert_eq!(MesonVersion::parse(""), None);
    }

    #[test]
    fn versions_compare_numerically_not_as_text() {
        assert!(MesonVersion::new(1, 10, 0) > MesonVersion::new(1, 3, 0));
        assert!(MesonVersion::new(1, 0, 1) < MesonVersion::new(1, 1, 0));
        assert!(MesonVersion::new(2, 0, 0) > MesonVersion::new(1, 99, 99));
    }

    #[test]
    fn kea_minimum_is_1_1_then_1_3_from_3_1_9() {
        assert_eq!(kea_minimum(&v("2.7.7")).version, MesonVersion::new(1, 1, 0));
        assert_eq!(kea_minimum(&v("3.0.2")).version, MesonVersion::new(1, 1, 0));
        assert_eq!(kea_minimum(&v("3.1.8")).version, MesonVersion::new(1, 1, 0));
        assert_eq!(kea_minimum(&v("3.1.9")).version, MesonVersion::new(1, 3, 0));
        assert_eq!(kea_minimum(&v("3.2.0")).version, MesonVersion::new(1, 3, 0));
    }

    #[test]
    fn the_tree_can_raise_the_minimum_but_not_lower_it() {
        let raised = "project('kea', 'cpp', version: '3.0.0', meson_version: '>= 1.5.0', license: 'MPL-2.0')";
        let r = requirement(&v("3.0.0"), Some(raised));
        assert_eq!(r.version, MesonVersion::new(1, 5, 0));
        assert!(r.reason.contains("meson_version '>= 1.5.0'"), "{}", r.reason);
        let lower = "project('kea', 'cpp', version: '3.2.0', meson_version: '>=1.1.0')";
        assert_eq!(declared_minimum(lower), Some(MesonVersion::new(1, 1, 0)));
        assert_eq!(requirement(&v("3.2.0"), Some(lower)).version, MesonVersion::new(1, 3, 0));
        assert_eq!(declared_minimum("project('kea', 'cpp', version: '3.0.0')"), None);
    }

    #[test]
    fn too_old_meson_is_refused_with_the_way_to_a_newer_one() {
        let need = kea_minimum(&v("2.7.9"));
        let err = check_version("1.0.1\n", "/usr/bin/meson", &need).unwrap_err().to_string();
        assert!(err.contains("meson 1.0.1 (/usr/bin/meson) is too old"), "{err}");
        assert!(err.contains("Kea 2.7.9 needs meson 1.1.0 or newer"), "{err}");
        assert!(err.contains("pip install 'meson>=1.1.0'"), "{err}");
        let need = kea_minimum(&v("3.1.9"));
        let err = check_version("1.2.3", "meson", &need).unwrap_err().to_string();
        assert!(err.contains("pip install 'meson>=1.3.0'") && err.contains("3.1.9"), "{err}");
        assert_eq!(check_version("1.3.0", "meson", &need).unwrap(), MesonVersion::new(1, 3, 0));
        assert_eq!(check_version("1.12.1\n", "meson", &need).unwrap(), MesonVersion::new(1, 12, 1));
        let err = check_version("Usage: something else", "meson", &need).unwrap_err().to_string();
        assert!(err.contains("not a meson version"), "{err}");
    }

    fn opts(user: &[&str]) -> BuildOptions {
        BuildOptions {
            libdir: "/usr/lib/x86_64-linux-gnu".into(),
            user_args: user.iter().map(|s| s.to_string()).collect(),
            jobs: 2,
            package_format: Format::Deb,
            package_version: "2.2.0-1".into(),
            scope: Scope::HooksOnly,
            open_hooks: false,
            ccache: false,
        }
    }

    #[test]
    fn setup_gets_the_distribution_layout_and_the_users_options_last() {
        let args = setup_args(&opts(&["-Dmysql=enabled", "-Dpostgresql=disabled"]), false);
        assert_eq!(
            args,
            [
                "setup",
                "build",
                "--prefix=/usr",
                "--libdir=/usr/lib/x86_64-linux-gnu",
                "--sysconfdir=/etc",
                "--localstatedir=/var",
                "--buildtype=release",
                "--wrap-mode=nodownload",
                "-Dmysql=enabled",
                "-Dpostgresql=disabled"
            ]
        );
    }

    #[test]
    fn a_users_own_setting_replaces_keapacks_default() {
        // meson refuses `--buildtype=release -Dbuildtype=debug` ("Got argument buildtype as both…").
        let args = setup_args(&opts(&["-Dbuildtype=debugoptimized", "--wrap-mode=forcefallback", "-D", "x=y"]), true);
        assert!(!args.contains(&"--buildtype=release".to_string()) && !args.contains(&"--wrap-mode=nodownload".to_string()), "{args:?}");
        assert!(args.contains(&"-Dbuildtype=debugoptimized".to_string()) && args.contains(&"--prefix=/usr".to_string()), "{args:?}");
    }

    #[test]
    fn hook_targets_are_the_premium_modules_installed_into_the_hooks_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        let b = root.join("build");
        let target = |dir: &str, name: &str, file: &str, kind: &str| {
            serde_json::json!({"name": name, "id": format!("0f11a96@@{file}@sha"), "type": kind,
                "defined_in": root.join(dir).join("meson.build"), "filename": [b.join(dir).join(format!("lib{name}.so"))]})
        };
        let targets = serde_json::json!([
            target("src/hooks/dhcp/lease_cmds", "dhcp_lease_cmds", "dhcp_lease_cmds.so", "shared module"),
            target("premium/src/hooks/dhcp/host_cmds", "dhcp_host_cmds", "dhcp_host_cmds.so", "shared module"),
            target("premium/src/lib/helper", "kea-helper", "kea-helper", "shared library"),
            target("premium/src/hooks/dhcp/flex_id", "dhcp_flex_id", "dhcp_flex_id.so", "shared module"),
            target("premium/tools", "tool", "tool", "executable"),
        ]);
        let entry = |dir: &str, name: &str, dest: &str, rpaths: &[&str]| {
            (b.join(dir).join(format!("lib{name}.so")).display().to_string(),
             serde_json::json!({"destination": dest, "tag": "runtime", "install_rpath": null, "build_rpaths": rpaths}))
        };
        let plan: serde_json::Map<String, serde_json::Value> = [
            entry("src/hooks/dhcp/lease_cmds", "dhcp_lease_cmds", "{libdir}/kea/hooks/libdhcp_lease_cmds.so", &[]),
            entry("premium/src/hooks/dhcp/host_cmds", "dhcp_host_cmds", "{libdir}/kea/hooks/libdhcp_host_cmds.so", &["$ORIGIN/../../../../../src/lib"]),
            entry("premium/src/lib/helper", "kea-helper", "{libdir}/libkea-helper.so", &[]),
            entry("premium/src/hooks/dhcp/flex_id", "dhcp_flex_id", "{libdir}/kea/hooks/libdhcp_flex_id.so", &[]),
        ]
        .into_iter()
        .collect();
        let plan = serde_json::json!({ "targets": plan }).to_string();
        let mut o = opts(&[]);
        let found = hook_targets(&targets.to_string(), &plan, &root, &o).unwrap();
        let names: Vec<&str> = found.iter().map(|h| h.target.as_str()).collect();
        // Sorted by destination; the library outside the hooks directory and the executable stay out.
        assert_eq!(names, ["premium/src/hooks/dhcp/flex_id/dhcp_flex_id.so", "premium/src/hooks/dhcp/host_cmds/dhcp_host_cmds.so"]);
        assert_eq!(found[1].destination, "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so");
        assert_eq!(found[1].build_rpaths, ["$ORIGIN/../../../../../src/lib"]);
        assert_eq!(found[1].install_rpath, "");
        o.open_hooks = true;
        let found = hook_targets(&targets.to_string(), &plan, &root, &o).unwrap();
        assert_eq!(found.len(), 3);
        assert!(found.iter().any(|h| h.target == "src/hooks/dhcp/lease_cmds/dhcp_lease_cmds.so"));
        assert!(hook_targets("not json", &plan, &root, &o).is_err());
    }

    #[test]
    fn runstatedir_goes_only_to_a_tree_that_declares_it() {
        let kea3 = "option('runstatedir', type: 'string', value: '',\n    description: 'run-state directory')\n";
        assert!(options_declare(kea3, "runstatedir"));
        assert!(options_declare("option(\n  \"runstatedir\",\n  type: 'string')\n", "runstatedir"));
        assert!(!options_declare("# option('runstatedir', type: 'string')\noption('kea_include', type: 'string')\n", "runstatedir"));
        assert!(!options_declare("option('runstatedir_extra', type: 'string')\n", "runstatedir"));
        let with = setup_args(&opts(&[]), true);
        assert_eq!(with.last().map(String::as_str), Some("-Drunstatedir=/run"), "{with:?}");
        assert!(!setup_args(&opts(&[]), false).iter().any(|a| a.contains("runstatedir")));
        let mine = setup_args(&opts(&["-Drunstatedir=/var/run"]), true);
        assert_eq!(mine.iter().filter(|a| a.contains("runstatedir")).collect::<Vec<_>>(), ["-Drunstatedir=/var/run"]);

        let tmp = tempfile::tempdir().unwrap();
        assert!(!declares_option(tmp.path(), "runstatedir"));
        fs::write(tmp.path().join("meson_options.txt"), kea3).unwrap();
        assert!(declares_option(tmp.path(), "runstatedir"));
    }
}

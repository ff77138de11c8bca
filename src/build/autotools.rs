//! Builds an autotools Kea tree with the overlay in place: `autoreconf -if` (so configure picks
//! up `premium/config.m4`), `configure` with the installed Kea's layout, `config.report` read to
//! prove the overlay was detected, `make` and `make install DESTDIR=<work>/stage`.

use super::{BuildOptions, BuildOutput, Reuse, Scope, built_libraries, package_env};
use crate::build::report;
use crate::source::PreparedTree;
use crate::support::runner::{Runner, StepFailed};
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::Path;
use std::process::Command;

/// The run-state directory keapack's Kea is configured with: the distributions' `/run`, so its
/// control sockets live in `/run/kea` (docs/kea-facts.md §5).
pub(crate) const RUNSTATEDIR: &str = "/run";

/// Whether a generated configure script accepts `--runstatedir` (autoconf 2.70+, or a patched
/// 2.69): it then parses the option by name.
pub(crate) fn knows_runstatedir(configure: &str) -> bool {
    configure.contains("-runstatedir")
}

/// The message Kea 2.6.2+ configure prints when the overlay arrived after autoreconf.
const STUB_ERROR: &str = "You appear to have added premium hooks after running autoreconf";

pub fn build(tree: &PreparedTree, work: &Path, opts: &BuildOptions, runner: &mut Runner, reuse: Option<&Reuse>) -> Result<BuildOutput> {
    let root = &tree.root;
    // A tree configured as this build would configure it (and no build file changed since)
    // goes straight to make; otherwise autoreconf and configure run, in place in a reused tree,
    // where make then rebuilds only what they changed.
    let reused = reuse.filter(|r| !r.build_files_changed).map(|r| (r, configure_args(root, opts, runner)));
    let args = match reused {
        Some((r, args)) if r.configured_as(&configure_line(&args), opts) => {
            runner.note("the reused tree is configured as this build needs: autoreconf and configure skipped");
            args
        }
        _ => {
            runner.run("autoreconf -if", "autoreconf", Command::new("autoreconf").arg("-if").current_dir(root))?;
            let args = configure_args(root, opts, runner);
            configure(root, &args, opts, runner)?;
            args
        }
    };

    let report_path = root.join("config.report");
    let text = fs::read_to_string(&report_path).with_context(|| {
        format!("configure finished but wrote no {}; cannot prove the premium overlay was detected", report_path.display())
    })?;
    let report = report::parse(&text);
    if !report.detected() {
        let shown = if report.evidence.is_empty() { "  (the report has no \"Premium hooks:\" line at all)".to_string() } else { report.evidence.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n") };
        bail!(
            "Kea's configure did not detect the premium overlay. {} says:\n{shown}\n\
             Likely causes: the overlay was unpacked in the wrong place (premium/ must sit at the Kea tree's root, next to configure.ac), \
             or autoreconf did not pick up premium/config.m4 (configure.ac must m4_sinclude it; rerun autoreconf -if).",
            report_path.display()
        );
    }
    runner.note(&format!("premium overlay detected: {}", report.evidence.join(" | ").trim()));

    let stage = work.join("stage");
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("cannot clear {}", stage.display()))?;
    }
    // Kea says parallel install breaks: no -j for any install.
    let destdir = format!("DESTDIR={}", stage.display());
    let jobs = format!("-j{}", opts.jobs);
    match opts.scope {
        Scope::Full => {
            runner.run(&format!("make {jobs}"), "make", Command::new("make").arg(&jobs).current_dir(root))?;
            runner.run("make install", "make-install", Command::new("make").args(["install", &destdir]).current_dir(root))?;
        }
        Scope::HooksOnly => {
            let dirs = hooks_only_dirs(root, opts.open_hooks);
            // The top directory's own targets first (generated headers such as config.h), without
            // descending into SUBDIRS; then each directory the hooks need, in Kea's SUBDIRS order.
            runner.run(&format!("make {jobs} all-am"), "make-top", Command::new("make").args([&jobs, "all-am"]).current_dir(root))?;
            for d in &dirs.build {
                let step = format!("make-{}", d.replace('/', "-"));
                runner.run(&format!("make {jobs} -C {d}"), &step, Command::new("make").args([&jobs, "-C", d]).current_dir(root))?;
            }
            for d in &dirs.install {
                let step = format!("make-install-{}", d.replace('/', "-"));
                runner.run(&format!("make -C {d} install"), &step, Command::new("make").args(["-C", d, "install", &destdir]).current_dir(root))?;
            }
        }
    }

    let premium_libraries = built_libraries(&root.join("premium"))?;
    Ok(BuildOutput { stage, report, premium_libraries, configure_args: configure_line(&args) })
}

/// The configure command line as run: `./configure` and its arguments.
fn configure_line(args: &[String]) -> Vec<String> {
    std::iter::once("./configure".to_string()).chain(args.iter().cloned()).collect()
}

/// configure's arguments: the installed Kea's layout, `--runstatedir` when this configure
/// knows it, no static libraries or rpath, then the user's options.
fn configure_args(root: &Path, opts: &BuildOptions, runner: &Runner) -> Vec<String> {
    let mut args: Vec<String> = [
        "--prefix=/usr".to_string(),
        format!("--libdir={}", opts.libdir),
        "--sysconfdir=/etc".into(),
        "--localstatedir=/var".into(),
    ]
    .into();
    // Kea (2.4.2, 2.6.3 and later) accepts control sockets only in <runstatedir>/kea; without
    // --runstatedir that is /var/run/kea. Debian passes /run (debhelper), so keapack's Kea
    // answers where Debian's does (the RPM family's choice is unchecked; see docs/guide/targets.md). Autoconf before 2.70 has no such
    // option unless patched (Debian's is): pass it when the configure script knows it.
    let configure_text = fs::read_to_string(root.join("configure")).unwrap_or_default();
    if knows_runstatedir(&configure_text) {
        args.push(format!("--runstatedir={RUNSTATEDIR}"));
    } else {
        runner.note(&format!("this configure has no --runstatedir (autoconf older than 2.70): Kea's control sockets go in /var/run/kea, not {RUNSTATEDIR}/kea"));
    }
    args.extend(["--disable-static".to_string(), "--disable-rpath".to_string()]);
    args.extend(opts.user_args.iter().cloned());
    args
}

/// Run configure; a configure that says the overlay came after autoreconf gets the reason.
fn configure(root: &Path, args: &[String], opts: &BuildOptions, runner: &mut Runner) -> Result<()> {
    let configured = runner.run("configure", "configure", Command::new("./configure").args(args).envs(package_env(opts)).current_dir(root));
    if let Err(e) = configured {
        if let Some(failed) = e.downcast_ref::<StepFailed>() {
            let log = fs::read_to_string(&failed.log).unwrap_or_default();
            if log.contains(STUB_ERROR) {
                return Err(e.context(
                    "configure says the premium overlay was added after autoreconf: autoreconf did not pick up premium/config.m4. \
                     Check that the overlay sits at the Kea tree's root (premium/config.m4 next to configure.ac) and that configure.ac \
                     includes it (m4_sinclude(premium/config.m4)).",
                ));
            }
        }
        return Err(e);
    }
    Ok(())
}

/// The directories a hooks-only build makes, and those it installs, relative to the tree root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HooksOnlyDirs {
    pub build: Vec<String>,
    pub install: Vec<String>,
}

/// What a hooks-only build makes in an autotools tree, in Kea's `SUBDIRS` order (`tools . ext
/// src doc m4macros premium`): `ext` (bundled headers and libraries some libraries use) and
/// `src/lib` (the `libkea-*` libraries the hooks link, `$(top_builddir)/src/lib/*/libkea-*.la`)
/// when the tree has them, Kea's open-source hooks (`src/hooks`) when they are packaged, then
/// `premium`. Only `src/lib` (the hooks relink against the installed libraries, as in a full
/// install, where `src` installs before `premium`), the open-source hooks and `premium` are
/// installed. A directory counts when configure wrote its Makefile.
pub(crate) fn hooks_only_dirs(root: &Path, open_hooks: bool) -> HooksOnlyDirs {
    let has = |d: &str| root.join(d).join("Makefile").is_file();
    let mut build = Vec::new();
    let mut install = Vec::new();
    for d in ["ext", "src/lib"] {
        if has(d) {
            build.push(d.to_string());
        }
    }
    if has("src/lib") {
        install.push("src/lib".to_string());
    }
    if open_hooks && has("src/hooks") {
        build.push("src/hooks".to_string());
        install.push("src/hooks".to_string());
    }
    build.push("premium".to_string());
    install.push("premium".to_string());
    HooksOnlyDirs { build, install }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runstatedir_is_passed_only_to_a_configure_that_knows_it() {
        // What autoconf 2.71 writes into configure's option parser.
        assert!(knows_runstatedir("  -runstatedir | --runstatedir | --runstatedi | --runstated \\\n"));
        assert!(!knows_runstatedir("  -localstatedir | --localstatedir | --localstatedi \\\n"));
    }

    #[test]
    fn hooks_only_makes_the_libraries_then_premium_and_installs_premium() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mk = |d: &str| {
            fs::create_dir_all(root.join(d)).unwrap();
            fs::write(root.join(d).join("Makefile"), "all:\n").unwrap();
        };
        // A tree like the example: no src/lib, an open-source hook.
        mk("src/hooks");
        mk("premium");
        let d = hooks_only_dirs(root, false);
        assert_eq!((d.build.as_slice(), d.install.as_slice()), (&["premium".to_string()][..], &["premium".to_string()][..]));
        let d = hooks_only_dirs(root, true);
        assert_eq!(d.build, ["src/hooks", "premium"]);
        assert_eq!(d.install, ["src/hooks", "premium"]);
        // A tree like real Kea.
        mk("ext");
        mk("src/lib");
        fs::create_dir_all(root.join("src/bin")).unwrap();
        let d = hooks_only_dirs(root, false);
        assert_eq!(d.build, ["ext", "src/lib", "premium"]);
        assert_eq!(d.install, ["src/lib", "premium"]);
    }
}

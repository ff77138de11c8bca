//! The staged tree as an inventory: which hook libraries were installed, which came from the
//! overlay, and what their ELF headers say. Drops libtool `.la` files and strips the hooks
//! (deterministically; with `--debug-symbols` after copying their debug symbols aside, see
//! `debug`).

pub(crate) mod debug;
pub mod runtime;


use debug::DebugFile;
use crate::support::elf;
use crate::support::runner::Runner;
use crate::source::version::KeaVersion;
use anyhow::{Context, Result, bail};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One hook library found in the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedHook {
    /// File name, e.g. `libdhcp_host_cmds.so`.
    pub library: String,
    /// Where it lies in the stage.
    pub path: PathBuf,
    /// Built by the premium overlay (not one of Kea's open-source hooks).
    pub premium: bool,
    /// ELF machine (`x86_64`, `aarch64`, …).
    pub machine: String,
}

/// Kea's hooks directory inside the stage: `<libdir>/kea/hooks` (1.3–1.5: `<libdir>/hooks`).
pub(crate) fn staged_hooks_dir(stage: &Path, libdir: &str) -> Option<PathBuf> {
    let base = stage.join(libdir.trim_start_matches('/'));
    [base.join("kea/hooks"), base.join("hooks")].into_iter().find(|d| d.is_dir())
}

/// The strip command: debug sections, symbols not needed for relocation, the compiler's
/// `.comment` and the `.note` section go; the `.note.gnu.build-id` note stays.
pub(crate) const STRIP_ARGS: &[&str] = &["--strip-unneeded", "--remove-section=.comment", "--remove-section=.note"];

/// Inventory the staged hooks, dropping `.la` files and stripping each library in place; with
/// `debug_dir`, the hooks' debug symbols are first kept in `.debug` files under it (cleared
/// first), each library linked to its file.
pub(crate) fn inventory(
    stage: &Path,
    libdir: &str,
    premium: &BTreeSet<String>,
    kea: &KeaVersion,
    include_open: bool,
    debug_dir: Option<&Path>,
    runner: &mut Runner,
) -> Result<(Vec<StagedHook>, Vec<DebugFile>)> {
    remove_la_files(stage)?;
    let Some(dir) = staged_hooks_dir(stage, libdir) else {
        bail!("the build installed no hooks directory under {}{libdir} (expected kea/hooks)", stage.display());
    };
    let mut hooks = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if !name.ends_with(".so") || !entry.file_type()?.is_file() {
            continue;
        }
        let machine = elf::machine(&path)?;
        hooks.push(StagedHook { premium: premium.contains(&name), library: name, path, machine });
    }
    if !hooks.iter().any(|h| h.premium) {
        bail!(
            "the build installed no premium hook library into {} (found: {}); the overlay built: {}",
            crate::support::text::path(&dir),
            crate::support::text::shown(hooks.iter().map(|h| h.library.as_str()).collect::<Vec<_>>().join(", ")),
            if premium.is_empty() { "nothing".to_string() } else { crate::support::text::escape(&premium.iter().cloned().collect::<Vec<_>>().join(", ")) }
        );
    }
    if let Some(dir) = debug_dir
        && dir.exists()
    {
        fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    let mut debug_files = Vec::new();
    for h in &hooks {
        // Only the hooks that will be packaged need debug files, but splitting all is harmless.
        let debug = debug_dir.map(|dir| debug::split(&h.path, &h.library, dir, runner)).transpose()?;
        // Deterministic: strip removes debug sections and the compiler's .comment notes.
        runner.run(
            &format!("strip {}", h.library),
            &format!("strip-{}", h.library.trim_end_matches(".so")),
            Command::new("strip").args(STRIP_ARGS).arg(&h.path),
        )?;
        if let Some(d) = debug {
            debug::link(&h.path, &d, runner)?;
            debug_files.push(d);
        }
        if h.premium || include_open {
            check_hook(&h.path, kea)?;
        }
    }
    Ok((hooks, debug_files))
}

/// A packaged hook must load in Kea: no RPATH/RUNPATH (the distribution's loader paths rule),
/// and the entry points Kea calls (`version()`, and `multi_threading_compatible()` from 1.8).
pub fn check_hook(path: &Path, kea: &KeaVersion) -> Result<()> {
    let info = elf::read(path)?;
    let name = path.file_name().map(|n| crate::support::text::escape(&n.to_string_lossy())).unwrap_or_default();
    if !info.rpath.is_empty() {
        bail!(
            "{name} carries an RPATH/RUNPATH ({}); distribution packages must not. Build with --disable-rpath \
             (autotools) or with KEA_PKG_TYPE_IN_CONFIGURE set (meson), as keapack does; check the configure options you added. \
             An RPATH naming the library directory of another distribution family than this host's (/usr/lib64 on a Debian host) \
             comes from libtool, which writes one for a library directory its host does not search: build that target on a host of its family",
            info.rpath.join(":")
        );
    }
    let mut required = vec!["version"];
    if kea.at_least(1, 8, 0) {
        required.push("multi_threading_compatible");
    }
    let missing: Vec<&str> = required.into_iter().filter(|f| !info.exports.contains(*f)).collect();
    if !missing.is_empty() {
        bail!(
            "{name} does not export {}(), which Kea {kea} calls in every hook library; it is not a loadable hook",
            missing.join("() or ")
        );
    }
    Ok(())
}

fn remove_la_files(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            remove_la_files(&path)?;
        } else if path.extension().is_some_and(|e| e == "la") {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile a small shared object with gcc; `flags` go to the link.
    fn shared_object(dir: &Path, c: &str, flags: &[&str]) -> PathBuf {
        let src = dir.join("hook.c");
        let so = dir.join("libdhcp_test.so");
        fs::write(&src, c).unwrap();
        let st = Command::new("gcc").args(["-shared", "-fPIC", "-o"]).arg(&so).arg(&src).args(flags).status().expect("this test needs gcc: apt-get install gcc");
        assert!(st.success());
        so
    }

    const HOOK: &str = "int version(void) { return 20200; }\nint multi_threading_compatible(void) { return 1; }\n";

    #[test]
    fn a_proper_hook_passes_and_an_rpath_is_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let kea = KeaVersion::new(2, 2, 0);
        let so = shared_object(tmp.path(), HOOK, &[]);
        check_hook(&so, &kea).unwrap();
        let so = shared_object(tmp.path(), HOOK, &["-Wl,-rpath,/opt/kea/lib"]);
        let err = check_hook(&so, &kea).unwrap_err().to_string();
        assert!(err.contains("libdhcp_test.so carries an RPATH/RUNPATH (/opt/kea/lib)") && err.contains("--disable-rpath"), "{err}");
    }

    #[test]
    fn missing_entry_points_are_caught_per_version() {
        let tmp = tempfile::tempdir().unwrap();
        let so = shared_object(tmp.path(), "int version(void) { return 10700; }\n", &[]);
        check_hook(&so, &KeaVersion::new(1, 7, 0)).unwrap();
        let err = check_hook(&so, &KeaVersion::new(2, 6, 5)).unwrap_err().to_string();
        assert!(err.contains("does not export multi_threading_compatible()") && err.contains("Kea 2.6.5"), "{err}");
        let so = shared_object(tmp.path(), "int something(void) { return 1; }\n", &[]);
        let err = check_hook(&so, &KeaVersion::new(2, 6, 5)).unwrap_err().to_string();
        assert!(err.contains("version() or multi_threading_compatible()"), "{err}");
    }

    #[test]
    fn hooks_dir_of_every_kea_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = "/usr/lib64";
        assert_eq!(staged_hooks_dir(tmp.path(), lib), None);
        // Kea 1.3-1.5 installed hooks into $(libdir)/hooks.
        fs::create_dir_all(tmp.path().join("usr/lib64/hooks")).unwrap();
        assert_eq!(staged_hooks_dir(tmp.path(), lib), Some(tmp.path().join("usr/lib64/hooks")));
        // From 1.6: $(libdir)/kea/hooks, preferred when both exist.
        fs::create_dir_all(tmp.path().join("usr/lib64/kea/hooks")).unwrap();
        assert_eq!(staged_hooks_dir(tmp.path(), lib), Some(tmp.path().join("usr/lib64/kea/hooks")));
    }
}

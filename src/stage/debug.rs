//! Debug symbols kept apart (`--debug-symbols`), the staging half: each hook's DWARF goes into a
//! separate `.debug` file before the library is stripped, and the stripped library is linked to
//! it. The planner turns those files into one debug package per target (`plan::debug`).
//!
//! The steps are debhelper's `dh_strip`: `objcopy --only-keep-debug --compress-debug-sections`,
//! then the usual deterministic strip, then `objcopy --add-gnu-debuglink` (which stores the
//! debug file's name and CRC in the library, so the stripped library differs from one built
//! without `--debug-symbols`). Debug files install as
//! `/usr/lib/debug/.build-id/<first two hex digits>/<rest>.debug`, where gdb and
//! debuginfod-style tools look them up by the library's GNU build ID on both families.

use crate::support::runner::Runner;
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One hook's separated debug symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DebugFile {
    /// The hook's file name (`libdhcp_host_cmds.so`).
    pub library: String,
    /// The GNU build ID, lowercase hex.
    pub build_id: String,
    /// Where the `.debug` file lies in the work directory.
    pub path: PathBuf,
}

impl DebugFile {
    /// The install path: `/usr/lib/debug/.build-id/ab/cdef….debug`.
    pub(crate) fn install_path(&self) -> String {
        format!("/usr/lib/debug/{}", build_id_path(&self.build_id))
    }
}

/// `.build-id/ab/cdef….debug`: the path below a debug directory for a build ID.
fn build_id_path(id: &str) -> String {
    format!(".build-id/{}/{}.debug", &id[..2], &id[2..])
}

/// Copy `lib`'s debug sections into `<debug_dir>/.build-id/xx/yyyy.debug` (before stripping).
pub(crate) fn split(lib: &Path, library: &str, debug_dir: &Path, runner: &mut Runner) -> Result<DebugFile> {
    let build_id = crate::support::elf::build_id(lib)?.with_context(|| {
        format!("{} has no GNU build ID, so its debug symbols cannot be found by one; link with -Wl,--build-id (GCC's default)", lib.display())
    })?;
    let debug = DebugFile { library: library.to_string(), path: debug_dir.join(build_id_path(&build_id)), build_id };
    fs::create_dir_all(debug.path.parent().expect("has a parent"))?;
    runner.run(
        &format!("keep the debug symbols of {library}"),
        &format!("debug-{}", library.trim_end_matches(".so")),
        Command::new("objcopy").args(["--only-keep-debug", "--compress-debug-sections"]).arg(lib).arg(&debug.path),
    )?;
    Ok(debug)
}

/// Point the stripped `lib` at its debug file (`.gnu_debuglink`: file name and CRC32).
pub(crate) fn link(lib: &Path, debug: &DebugFile, runner: &mut Runner) -> Result<()> {
    let mut arg = std::ffi::OsString::from("--add-gnu-debuglink=");
    arg.push(&debug.path);
    runner.run(
        &format!("link {} to its debug symbols", debug.library),
        &format!("debuglink-{}", debug.library.trim_end_matches(".so")),
        Command::new("objcopy").arg(arg).arg(lib),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_files_install_under_their_build_id() {
        let f = DebugFile { library: "libdhcp_test.so".into(), build_id: "ab12cd34".into(), path: "/w/debug/ab/12cd34.debug".into() };
        assert_eq!(f.install_path(), "/usr/lib/debug/.build-id/ab/12cd34.debug");
        assert_eq!(build_id_path("ab12cd34"), ".build-id/ab/12cd34.debug");
    }
}

//! Support code every stage may use: the one runner for external commands, interrupt handling,
//! the work-directory lock and the one output channel for notes, warnings and errors.

pub(crate) mod aside;
pub mod digest;
pub mod elf;
pub(crate) mod events;
pub(crate) mod beneath;
pub(crate) mod format;
pub(crate) mod gzip;
pub(crate) mod interrupt;
pub(crate) mod listener;
pub(crate) mod lockfile;
pub(crate) mod osrelease;

pub(crate) mod runner;
pub(crate) mod sandbox;
pub(crate) mod shell;
pub(crate) mod stdout;
pub(crate) mod text;
pub(crate) mod worklock;

/// keapack's cache directory: `$XDG_CACHE_HOME/keapack`, else `~/.cache/keapack`, else one
/// under the temporary directory.
pub(crate) fn cache_home() -> std::path::PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("keapack")
}

#[cfg(test)]
pub(crate) mod testutil;

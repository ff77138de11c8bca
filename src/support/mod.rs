//! Support code every stage may use: the one runner for external commands, interrupt handling,
//! the work-directory lock and the one output channel for notes, warnings and errors.

pub mod aside;
pub mod digest;
pub mod elf;
pub mod events;
pub mod beneath;
pub mod format;
pub(crate) mod gzip;
pub mod interrupt;
pub mod listener;
pub mod lockfile;
pub mod osrelease;

pub mod runner;
pub mod sandbox;
pub mod shell;
pub mod text;
pub mod worklock;

/// keapack's cache directory: `$XDG_CACHE_HOME/keapack`, else `~/.cache/keapack`, else one
/// under the temporary directory.
pub fn cache_home() -> std::path::PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("keapack")
}

#[cfg(test)]
pub(crate) mod testutil;

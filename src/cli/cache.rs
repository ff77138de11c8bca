//! `keapack cache list|prune`: the subcommand's arguments and what it prints.

use crate::run::build_cache::{dir, human_age, human_size, list, max_bytes, now, parse_size, prune, PruneRule};
use anyhow::Result;

/// `keapack cache …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum CacheCmd {
    /// List the build cache's entries, oldest first (key, size, age, Kea version, build system,
    /// environment, hooks), then the release roots builds and load verification use (key,
    /// size, age, release).
    List,
    /// Remove whole entries and roots, oldest first; one a running build uses is left alone.
    Prune(PruneArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PruneArgs {
    /// Remove the oldest build entries until they take at most this much (5G, 500M, bytes);
    /// roots are not counted.
    #[arg(long, value_parser = parse_size)]
    pub max_size: Option<u64>,
    /// Remove build entries and roots made more than this many days ago.
    #[arg(long)]
    pub older_than: Option<u64>,
    /// Remove every build entry and root.
    #[arg(long)]
    pub all: bool,
}

/// Run `keapack cache …`, writing to `out`.
pub(crate) fn run_command(cmd: &CacheCmd, out: &mut impl std::io::Write, listener: &dyn crate::support::listener::Listener) -> Result<()> {
    match cmd {
        CacheCmd::List => {
            let entries = list()?;
            let now = now();
            if entries.is_empty() {
                writeln!(out, "the build cache {} is empty", dir().display())?;
            }
            for m in &entries {
                let hooks: Vec<&str> = m.hooks.iter().filter(|h| h.premium).map(|h| h.library.as_str()).collect();
                writeln!(
                    out,
                    "{}  {:>9}  {:>4}  Kea {}  {}  {}  targets {}  hooks {}",
                    m.key,
                    human_size(m.size),
                    human_age(now.saturating_sub(m.created)),
                    m.kea_version,
                    m.build_system.name(),
                    m.environment,
                    m.targets.join(","),
                    hooks.join(",")
                )?;
            }
            if !entries.is_empty() {
                let total: u64 = entries.iter().map(|m| m.size).sum();
                writeln!(out, "{} entries, {} in {} (bound: {})", entries.len(), human_size(total), dir().display(), human_size(max_bytes()?))?;
            }
            let roots_dir = crate::build::root::cache_dir();
            let roots = crate::build::root::cached_roots(&roots_dir)?;
            for r in &roots {
                writeln!(out, "root {}  {:>9}  {:>4}  {}", r.key, human_size(r.size), human_age(now.saturating_sub(r.made)), r.os)?;
            }
            if !roots.is_empty() {
                let total: u64 = roots.iter().map(|r| r.size).sum();
                writeln!(out, "{} roots, {} in {}", roots.len(), human_size(total), roots_dir.display())?;
            }
        }
        CacheCmd::Prune(a) => {
            if a.max_size.is_none() && a.older_than.is_none() && !a.all {
                return Err(crate::cli::exit::refused(anyhow::anyhow!("keapack cache prune: say what to remove: --max-size SIZE, --older-than DAYS or --all")));
            }
            let rule = PruneRule { max_bytes: a.max_size, older_than: a.older_than.map(|d| d.saturating_mul(86_400)), all: a.all };
            let pruned = prune(rule, None)?;
            for m in &pruned.removed {
                writeln!(out, "removed {} (Kea {}, {})", m.key, m.kea_version, human_size(m.size))?;
            }
            for k in &pruned.in_use {
                listener.warning(&format!("kept {k}: a running build uses it"));
            }
            writeln!(out, "{} entries removed, {} left in {}", pruned.removed.len(), human_size(pruned.left_bytes), dir().display())?;
            let roots_dir = crate::build::root::cache_dir();
            let roots = crate::build::root::prune_cached(&roots_dir, rule.older_than, rule.all, now())?;
            for r in &roots.removed {
                writeln!(out, "removed root {} ({}, {})", r.key, r.os, human_size(r.size))?;
            }
            for k in &roots.in_use {
                listener.warning(&format!("kept root {k}: a running build or verification uses it"));
            }
            if !roots.removed.is_empty() || !roots.in_use.is_empty() {
                writeln!(out, "{} roots removed from {}", roots.removed.len(), roots_dir.display())?;
            }
        }
    }
    Ok(())
}


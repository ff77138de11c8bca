//! `keapack cache list|prune`: the subcommand's arguments and what it prints.

use crate::run::build_cache::{dir, human_age, human_size, list, max_bytes, now, parse_size, prune, PruneRule};
use anyhow::Result;

/// `keapack cache …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum CacheCmd {
    /// List the entries, oldest first: key, size, age, Kea version, build system, environment, hooks.
    List,
    /// Remove whole entries, oldest first; an entry a running build uses is left alone.
    Prune(PruneArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PruneArgs {
    /// Remove the oldest entries until the cache holds at most this much (5G, 500M, bytes).
    #[arg(long, value_parser = parse_size)]
    pub max_size: Option<u64>,
    /// Remove entries made more than this many days ago.
    #[arg(long)]
    pub older_than: Option<u64>,
    /// Remove every entry.
    #[arg(long)]
    pub all: bool,
}

/// Run `keapack cache …`, writing to `out`.
pub(crate) fn run_command(cmd: &CacheCmd, out: &mut impl std::io::Write, listener: &dyn crate::support::listener::Listener) -> Result<()> {
    match cmd {
        CacheCmd::List => {
            let entries = list()?;
            if entries.is_empty() {
                writeln!(out, "the build cache {} is empty", dir().display())?;
                return Ok(());
            }
            let now = now();
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
            let total: u64 = entries.iter().map(|m| m.size).sum();
            writeln!(out, "{} entries, {} in {} (bound: {})", entries.len(), human_size(total), dir().display(), human_size(max_bytes()?))?;
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
        }
    }
    Ok(())
}


//! `keapack targets`: print the listing of targets and build environments, as a table or JSON.

use crate::run::targets::Listing;
use anyhow::Result;
use std::io::Write;

/// The ending of a count's noun: "1 target", "2 targets".
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Print the listing: JSON (one document, pretty) or a table for a person.
pub(crate) fn print(listing: &Listing, json: bool, out: &mut dyn Write) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(listing)?)?;
        return Ok(());
    }
    let width = listing.targets.iter().map(|t| t.target.len()).max().unwrap_or(6).max(6);
    writeln!(out, "{:width$}  {:24}  {:8}  name", "target", "environment", "kea")?;
    for t in &listing.targets {
        writeln!(out, "{:width$}  {:24}  {:8}  {}", t.target, t.environment, t.kea, t.name)?;
    }
    let (t, e) = (listing.targets.len(), listing.environments.len());
    writeln!(out, "\n{t} target{} in {e} build environment{} (--json: the CI matrix)", plural(t), plural(e))?;
    Ok(())
}


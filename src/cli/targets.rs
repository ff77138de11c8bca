//! `keapack targets`: print the listing of targets and build environments, as a table or JSON.

use crate::run::targets::Listing;
use anyhow::Result;
use std::io::Write;

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
    writeln!(out, "\n{} targets in {} build environments (--json: the CI matrix)", listing.targets.len(), listing.environments.len())?;
    Ok(())
}


//! What the command line says about itself: shell completions and man pages generated from the
//! command definitions, and help texts that list what the profiles accept.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The shells `keapack completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Write the completion script for `shell` of the command line `cmd`.
/// `--target` completes to the built-in targets and `guidance`'s hooks to the catalog's names
/// (`suggest::offer`), which the parser itself never refuses.
pub(crate) fn completions(cmd: clap::Command, shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = crate::cli::suggest::offer(cmd);
    let name = cmd.get_name().to_string();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, name.clone(), out);
    if shell == Shell::Fish {
        out.write_all(crate::cli::suggest::fish_positionals(&cmd, &name).as_bytes())?;
    }
    Ok(())
}

/// Write a man page for `cmd` and one for each subcommand at any depth (`keapack.1`,
/// `keapack-build.1`, `keapack-cache-list.1`) into `dir`, each whole or not at all; return
/// their paths.
pub(crate) fn man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the man page directory {}", dir.display()))?;
    let mut cmd = cmd;
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, cmd.get_name(), dir, &mut written)?;
    Ok(written)
}

fn write_pages(cmd: &clap::Command, name: &str, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    // The page is named and titled by its full command (`keapack-cache-list`).
    let page = cmd.clone().name(name.to_string()).bin_name(name.replace('-', " "));
    let file = format!("{name}.1");
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff).context("cannot render the man page")?;
    // EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES; plain ASCII, for groff and man everywhere.
    let roff = crate::cli::mansections::ascii(&crate::cli::mansections::with_sections(&String::from_utf8_lossy(&roff), name));
    let path = crate::publish::publish(dir, &file, |w| {
        w.write_all(roff.as_bytes()).context("cannot write the man page")?;
        Ok(())
    })?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

/// `--target`'s help: what a target is and every profile with its architectures.
pub(crate) fn target_help() -> String {
    let profiles = crate::plan::profile::Profiles::builtin();
    let list: Vec<String> = profiles
        .ids()
        .map(|id| {
            let arches: Vec<String> = profiles.target(id).map(|t| t.profile.arch.keys().cloned().collect()).unwrap_or_default();
            format!("{id} ({})", arches.join(", "))
        })
        .collect();
    format!(
        "Target: a profile and an architecture (debian-12-amd64, rhel-9-x86_64); repeatable. Profiles (packaging/profiles, architectures in parentheses; a manifest may add more): {}",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_help_names_every_profile_and_its_architectures() {
        let help = target_help();
        for p in crate::plan::profile::Profiles::builtin().ids() {
            assert!(help.contains(p), "{p} missing from {help}");
        }
        assert!(help.contains("debian-12 (amd64, arm64)") && help.contains("rhel-9 (aarch64, x86_64)"), "{help}");
    }

}

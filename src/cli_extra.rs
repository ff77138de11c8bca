//! What the command line needs beyond parsing its arguments: how a command ends (the error
//! printed as sentences, its exit code, the closing JSON events), shell completions and man
//! pages generated from the command definitions, and help texts that list what the profiles
//! accept.
//!
//! Exit codes, for every command:
//! - 0: the command did what it was asked;
//! - 1: it failed (the error says why), or `lint`/`--lint` found problems;
//! - 2: the command line was refused (clap's usage errors), or `lint`/`--lint` could not check
//!   a package (a checker missing, a file unreadable);
//! - 128 + N: stopped by signal N (130 for SIGINT, 143 for SIGTERM).

use crate::support::events::{self, MessageFormat};
use crate::support::{output, text};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: the command did what it was asked.
pub const EXIT_OK: u8 = 0;
/// Exit code: the command failed, or lint found problems.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the command line was refused, or lint could not check a package.
pub const EXIT_UNCHECKED: u8 = 2;

/// A run whose packages were written, but which `--lint` could not check: exit code 2, as
/// `keapack lint`'s.
#[derive(Debug)]
pub struct LintUnchecked;

impl std::fmt::Display for LintUnchecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("lint: the packages were written, but some could not be checked (above)")
    }
}

impl std::error::Error for LintUnchecked {}

/// The exit code for a failed command.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(sig) = crate::support::interrupt::interrupted() {
        return 128u8.saturating_add(sig as u8);
    }
    if e.chain().any(|c| c.downcast_ref::<LintUnchecked>().is_some()) { EXIT_UNCHECKED } else { EXIT_FAILED }
}

/// Run `command` (`build`, `demo`, `lint`, `publish`: the commands that report events) with the
/// message format chosen, and end it: a failure printed as sentences on standard error (and as
/// an `error` event), then `run-finished`. `f` returns the exit code of a command that ran to its
/// end (lint's 1 and 2 included).
pub fn run(command: &str, format: MessageFormat, f: impl FnOnce() -> Result<u8>) -> ExitCode {
    events::init(format);
    let code = match f() {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            exit_code(&e)
        }
    };
    events::run_finished(command, code);
    ExitCode::from(code)
}

/// Print a failed command's error and its causes; with JSON events on, emit its `error` event.
pub fn print_error(e: &anyhow::Error) {
    // Errors quote input text; each site escapes it, and this is the last line of defence.
    let mut msg = text::message(&e.to_string());
    for cause in e.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {}", text::message(&cause.to_string())));
    }
    output::error(&msg);
    events::emit(events::error_event(e, &msg));
}

/// Where a command prints what it reports for a person (package paths, the `--dry-run` plan,
/// lint findings): standard output, or standard error when standard output carries JSON events.
pub fn report_out() -> Box<dyn Write> {
    if events::json() { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) }
}

/// The shells `keapack completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Write the completion script for `shell` of the command line `cmd`.
pub fn completions(mut cmd: clap::Command, shell: Shell, out: &mut dyn Write) {
    let name = cmd.get_name().to_string();
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, name, out);
}

/// Write a man page for `cmd` and one for each subcommand at any depth (`keapack.1`,
/// `keapack-build.1`, `keapack-cache-list.1`) into `dir`, each whole or not at all; return
/// their paths.
pub fn man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
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
    let path = crate::publish::publish(dir, &file, |w| {
        clap_mangen::Man::new(page).render(w).context("cannot render the man page")?;
        Ok(())
    })?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

/// `--target`'s help: what a target is and every profile with its architectures.
pub fn target_help() -> String {
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

    #[test]
    fn a_lint_that_could_not_check_exits_2_and_other_failures_1() {
        let e = anyhow::Error::new(LintUnchecked).context("the run");
        assert_eq!(exit_code(&e), EXIT_UNCHECKED);
        assert_eq!(exit_code(&anyhow::anyhow!("no")), EXIT_FAILED);
    }
}

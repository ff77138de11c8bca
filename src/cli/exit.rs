//! How a command ends: the error printed as sentences, its exit code, the closing JSON events.
//!
//! Exit codes, for every command:
//! - 0: the command did what it was asked;
//! - 1: it failed while doing its work (a build step, a check, a signature: the error says why),
//!   or `lint`/`--lint` found problems;
//! - 2: the request was refused before any work: the command line (clap's usage errors, and
//!   the values keapack checks itself) or an input it names ([`Refused`]), or `lint`/`--lint`
//!   could not check a package (a checker missing, a file unreadable);
//! - 128 + N: stopped by signal N (130 for SIGINT, 143 for SIGTERM; 141 when the reader closed
//!   standard output, see [`EXIT_STDOUT_CLOSED`]).

use crate::support::events::{self, Event};
use crate::support::listener::{Channel, Listener};
use crate::support::stdout;
use crate::support::text;
use anyhow::Result;

use std::process::ExitCode;

/// Exit code: the command failed, or lint found problems.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Exit code: the request was refused (a usage or input mistake, see [`Refused`]), or lint
/// could not check a package.
pub(crate) const EXIT_USAGE: u8 = 2;

/// Exit code: the reader closed standard output before keapack had printed everything
/// (`keapack targets | head -1`). keapack stops quietly, with no error message, and exits as a
/// tool that SIGPIPE stopped exits in a shell (128 + 13). Not 0: the command did not do all it
/// was asked (print its whole report), and for `lint` or `build` a 0 would claim a verdict or a
/// report nobody read. 141 is what `head` users already meet from coreutils (`yes | head -1`)
/// and what `set -o pipefail` scripts handle for them. keapack does not die by the signal
/// itself (SIGPIPE stays ignored) so that a build's locks and children are cleaned up as on any
/// other failure.
pub(crate) const EXIT_STDOUT_CLOSED: u8 = 141;

/// A request keapack refused before doing any work: a value on the command line it checks itself
/// (an unknown `--target`, `--revision ''`, `--jobs 0`, an `--out` that is a file), or an input
/// the command line names that is missing or not valid (`--kea`, `--premium`, `--manifest`,
/// `--templates`). Exit code 2, as clap's own usage errors. The command line marks the errors
/// of the functions that check a request ([`refused`]); the error reads as it did.
#[derive(Debug)]
pub(crate) struct Refused(anyhow::Error);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Refused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.chain().nth(1)
    }
}

/// Mark `e`, the error of a check of the request, as a refusal (exit code 2).
pub(crate) fn refused(e: anyhow::Error) -> anyhow::Error {
    if e.chain().any(|c| c.is::<Refused>()) || stdout::closed(&e) || crate::support::interrupt::interrupted().is_some() { e } else { anyhow::Error::new(Refused(e)) }
}

/// A run whose packages were written, but which `--lint` could not check: exit code 2, as
/// `keapack lint`'s.
#[derive(Debug)]
pub(crate) struct LintUnchecked;

impl std::fmt::Display for LintUnchecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("lint: the packages were written, but some could not be checked (above)")
    }
}

impl std::error::Error for LintUnchecked {}

/// The exit code for a failed command.
pub(crate) fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(sig) = crate::support::interrupt::interrupted() {
        return 128u8.saturating_add(sig as u8);
    }
    if stdout::closed(e) {
        return EXIT_STDOUT_CLOSED;
    }
    if e.chain().any(|c| c.is::<LintUnchecked>() || c.is::<Refused>()) { EXIT_USAGE } else { EXIT_FAILED }
}

/// Run `command` (`build`, `demo`, `lint`, `publish`, `sign`: the commands that report events)
/// with `listener`, and end it: a failure printed as sentences on standard error (and as an
/// `error` event), then `run-finished`. `f` returns the exit code of a command that ran to its
/// end (lint's 1 and 2 included).
pub(crate) fn run(command: &str, listener: &Channel, f: impl FnOnce(&Channel) -> Result<u8>) -> ExitCode {
    let code = match f(listener) {
        Ok(code) => code,
        // The reader closed standard output: stop without a word (see EXIT_STDOUT_CLOSED).
        Err(e) if stdout::closed(&e) => exit_code(&e),
        Err(e) => {
            print_error(&e, listener.as_ref());
            exit_code(&e)
        }
    };
    let status = match code {
        0 => "success",
        c if c > 128 => "interrupted",
        _ => "failure",
    };
    // The listener fills in the outputs it announced.
    listener.event(Event::RunFinished { command: command.to_string(), status: status.to_string(), exit_code: code, outputs: Vec::new() });
    ExitCode::from(code)
}

/// Print a failed command's error and its causes; with JSON events on, send its `error` event.
pub(crate) fn print_error(e: &anyhow::Error, listener: &dyn Listener) {
    // Errors quote input text; each site escapes it, and this is the last line of defence.
    let mut msg = text::message(&e.to_string());
    for cause in e.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {}", text::message(&cause.to_string())));
    }
    listener.error(&msg);
    listener.event(events::error_event(e, &msg));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lint_that_could_not_check_exits_2_and_other_failures_1() {
        let e = anyhow::Error::new(LintUnchecked).context("the run");
        assert_eq!(exit_code(&e), EXIT_USAGE);
        assert_eq!(exit_code(&anyhow::anyhow!("no")), EXIT_FAILED);
    }

    #[test]
    fn a_refusal_exits_2_and_reads_as_the_error_it_marks() {
        let e = refused(anyhow::anyhow!(std::io::Error::from(std::io::ErrorKind::NotFound)).context("--kea x: cannot find the Kea source"));
        assert_eq!(exit_code(&e), EXIT_USAGE);
        assert_eq!(exit_code(&e.context("while resolving")), EXIT_USAGE);
        let e = refused(anyhow::anyhow!("inner").context("outer"));
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        assert_eq!(chain, ["outer", "inner"], "marking changes nothing a person reads");
    }
}

//! Standard output for what a command prints for its reader, and what a closed one means.
//!
//! keapack ignores SIGPIPE (Rust's default), so a reader that stops reading (`keapack targets |
//! head -1`) makes a write fail with `EPIPE` instead of killing the process. [`Stdout`] turns that
//! one failure into [`StdoutClosed`], a typed error the command line ends on quietly, with the exit
//! code a shell gives a tool that SIGPIPE stopped (see `cli::exit`). Other write errors (a full
//! disk behind `>`) stay errors. Only writes to standard output go through it: a broken pipe to a
//! child process is a failure like any other.

use std::io::{self, Write};

/// The reader of standard output closed it: the rest of the output has nowhere to go.
#[derive(Debug)]
pub(crate) struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed by its reader")
    }
}

impl std::error::Error for StdoutClosed {}

/// Standard output whose broken pipe is a [`StdoutClosed`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Stdout;

fn mark(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe { io::Error::new(io::ErrorKind::BrokenPipe, StdoutClosed) } else { e }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stdout().write(buf).map_err(mark)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(buf).map_err(mark)
    }
    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush().map_err(mark)
    }
}

/// Whether `e` is, or was caused by, the reader closing standard output.
pub(crate) fn closed(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<StdoutClosed>().is_some()
            || c.downcast_ref::<io::Error>().and_then(|io| io.get_ref()).is_some_and(|inner| inner.is::<StdoutClosed>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_pipe_is_a_closed_stdout() {
        let e = anyhow::Error::new(mark(io::Error::from(io::ErrorKind::BrokenPipe))).context("writing the listing");
        assert!(closed(&e));
        assert!(!closed(&anyhow::Error::new(mark(io::Error::from(io::ErrorKind::StorageFull)))));
        // A broken pipe that did not come through Stdout (a child's stdin) is not one.
        assert!(!closed(&anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe))));
    }
}

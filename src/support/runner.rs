//! The one place external commands run: each step logged to its own file, timed, and reported.
//!
//! A step prints a line when it starts and when it ends (with its duration). On a terminal a
//! spinner shows the step, the elapsed time and the last line the command printed. A failure
//! names the step, shows the log's last lines and gives the log's path.

use crate::support::events::Event;
use crate::support::listener::{Channel, Listener};
use anyhow::{Context, Result, bail};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many lines of a failed step's log an error shows.
const TAIL_LINES: usize = 25;

/// Runs the steps of one keapack run; numbers their logs in order.
pub(crate) struct Runner {
    log_dir: PathBuf,
    env: Vec<(String, OsString)>,
    /// Start commands from an empty environment (plus `env`) instead of keapack's own.
    clean: bool,
    step: usize,
    /// Where notes and step events go.
    listener: Channel,
    /// Run every command inside this root, with these host directories bound (`sandbox`).
    sandbox: Option<(PathBuf, Vec<PathBuf>)>,
}

/// What a finished step left behind.
#[derive(Debug)]
pub(crate) struct StepOutcome {
    pub log: PathBuf,
}

impl Runner {
    /// A runner writing logs under `log_dir`, adding `env` to every command it starts.
    pub fn new(log_dir: &Path, env: Vec<(String, OsString)>, listener: Channel) -> Result<Self> {
        fs::create_dir_all(log_dir).with_context(|| format!("cannot create the log directory {}", log_dir.display()))?;
        Ok(Runner { log_dir: log_dir.to_path_buf(), env, clean: false, step: 0, listener, sandbox: None })
    }

    /// Run every later command with exactly `env`: nothing of keapack's own environment leaks in.
    pub(crate) fn set_clean_env(&mut self, env: Vec<(String, OsString)>) {
        self.env = env;
        self.clean = true;
    }

    /// Run every later command inside `root` (read-only), with `binds` writable at their own
    /// paths; `None` runs them on the host again.
    pub(crate) fn set_sandbox(&mut self, sandbox: Option<(PathBuf, Vec<PathBuf>)>) {
        self.sandbox = sandbox;
    }

    /// The channel this runner reports through.
    pub(crate) fn listener(&self) -> &dyn Listener {
        self.listener.as_ref()
    }

    /// The channel, to hand on.
    pub fn channel(&self) -> Channel {
        self.listener.clone()
    }

    /// Print a progress note through the channel; it may quote file names, so control
    /// characters in it are escaped.
    pub fn note(&self, msg: &str) {
        self.listener.note(&crate::support::text::escape(msg));
    }

    /// Time an in-process step the same way commands are timed.
    pub(crate) fn in_process<T>(&mut self, title: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.note(&format!("{title} …"));
        crate::support::interrupt::check()?;
        self.listener.event(Event::StepStarted { step: title.to_string(), log: None });
        let start = Instant::now();
        let out = f().with_context(|| format!("step '{title}' failed"))?;
        self.listener.event(Event::StepFinished { step: title.to_string(), duration: start.elapsed().as_secs_f64(), log: None });
        self.note(&format!("{title}: done in {}", human(start.elapsed())));
        Ok(out)
    }

    /// Run `cmd` as the step `title` (`slug` names its log file). Fails when it exits non-zero.
    pub fn run(&mut self, title: &str, slug: &str, cmd: &mut Command) -> Result<StepOutcome> {
        self.step += 1;
        let log = self.log_dir.join(format!("{:02}-{slug}.log", self.step));
        let mut log_file = fs::File::create(&log).with_context(|| format!("cannot create the log {}", log.display()))?;
        writeln!(log_file, "$ {}", describe(cmd))?;
        // The caller's own variables for this command win over the run's environment.
        let own: Vec<(OsString, Option<OsString>)> = cmd.get_envs().map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned()))).collect();
        if self.clean {
            cmd.env_clear();
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in own {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let mut wrapped = self.sandbox.as_ref().map(|(root, binds)| {
            let _ = writeln!(log_file, "# inside the root {}", root.display());
            let mut w = crate::support::sandbox::enter(root, binds, cmd);
            if self.clean {
                // bwrap passes its own environment on: give it exactly the command's.
                let envs: Vec<(OsString, Option<OsString>)> = w.get_envs().map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned()))).collect();
                w.env_clear();
                for (k, v) in envs.into_iter().filter_map(|(k, v)| Some((k, v?))) {
                    w.env(k, v);
                }
            }
            w
        });
        let cmd = wrapped.as_mut().unwrap_or(cmd);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // Its own process group, so an interrupt stops the whole tree of what it started.
        std::os::unix::process::CommandExt::process_group(cmd, 0);
        crate::support::interrupt::check()?;

        self.note(&format!("{title} …"));
        self.listener.event(Event::StepStarted { step: title.to_string(), log: Some(log.clone()) });
        let start = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("step '{title}': cannot start `{}`", describe(cmd)))?;
        let _guard = crate::support::interrupt::ChildGuard::new(child.id());

        let spinner = (self.listener.spinner() && std::io::stderr().is_terminal()).then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_style(indicatif::ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}").unwrap());
            pb.set_prefix(crate::support::text::escape(title));
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        });
        let sink = Arc::new(Mutex::new((log_file, VecDeque::<String>::new())));
        let readers: Vec<_> = [child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>), child.stderr.take().map(|s| Box::new(s) as _)]
            .into_iter()
            .flatten()
            .map(|stream| {
                let sink = Arc::clone(&sink);
                let pb = spinner.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).split(b'\n').map_while(|l| l.ok()) {
                        let line = String::from_utf8_lossy(&line).into_owned();
                        let mut guard = sink.lock().unwrap();
                        let _ = writeln!(guard.0, "{line}");
                        guard.1.push_back(line.clone());
                        if guard.1.len() > TAIL_LINES {
                            guard.1.pop_front();
                        }
                        if let Some(pb) = &pb {
                            pb.set_message(crate::support::text::escape(&line));
                        }
                    }
                })
            })
            .collect();
        let status = child.wait().with_context(|| format!("step '{title}': lost the command"))?;
        for r in readers {
            let _ = r.join();
        }
        if let Some(pb) = spinner {
            pb.finish_and_clear();
        }
        let duration = start.elapsed();
        crate::support::interrupt::check()?;
        if !status.success() {
            let tail: Vec<String> = sink.lock().unwrap().1.iter().cloned().collect();
            bail!(StepFailed { title: title.to_string(), log: log.clone(), tail, status: status.to_string() });
        }
        self.listener.event(Event::StepFinished { step: title.to_string(), duration: duration.as_secs_f64(), log: Some(log.clone()) });
        self.note(&format!("{title}: done in {}", human(duration)));
        Ok(StepOutcome { log })
    }
}

/// A command that exited non-zero: its step, its log and the log's last lines.
#[derive(Debug)]
pub(crate) struct StepFailed {
    pub title: String,
    pub log: PathBuf,
    pub tail: Vec<String>,
    pub status: String,
}

use crate::support::text::shown;

impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tail is the tool's output: each line shown on one line, control characters escaped.
        writeln!(f, "step '{}' failed ({}). Last lines of its log:", shown(&self.title), self.status)?;
        for l in &self.tail {
            writeln!(f, "  | {}", shown(l))?;
        }
        write!(f, "Full log: {}", crate::support::text::path(&self.log))
    }
}

impl std::error::Error for StepFailed {}

/// `1m 05s`, `12.3s`.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 { format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64) } else { format!("{s:.1}s") }
}

/// The command line as a user would type it.
pub(crate) fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
}

/// Is `program` on `PATH`?
pub(crate) fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_step_names_step_log_and_tail() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = Runner::new(tmp.path(), vec![("KEAPACK_T".into(), "v1".into())], crate::support::listener::Human::channel(true)).unwrap();
        let ok = r.run("echo", "echo", Command::new("sh").args(["-c", "echo $KEAPACK_T"])).unwrap();
        assert!(fs::read_to_string(&ok.log).unwrap().contains("v1"));
        let err = r.run("break things", "break", Command::new("sh").args(["-c", "echo first; echo last >&2; exit 3"])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("step 'break things' failed"), "{text}");
        assert!(text.contains("| last") && text.contains("02-break.log"), "{text}");
    }

    #[test]
    fn a_log_tail_cannot_forge_lines_or_move_the_cursor() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = Runner::new(tmp.path(), Vec::new(), crate::support::listener::Human::channel(true)).unwrap();
        let script = r"printf 'ok line\n\033[2A\033[Kprogress\rkeapack: error: fake\n\302\233line\tend\n'; exit 1";
        let text = r.run("tool", "tool", Command::new("sh").args(["-c", script])).unwrap_err().to_string();
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(text.contains("  | ok line\n  | \\x1b[2A\\x1b[Kprogress\\rkeapack: error: fake\n  | \\u{9b}line\\tend\n"), "{text}");
        assert!(!text.lines().any(|l| l.starts_with("keapack:")), "{text}");
    }

    #[test]
    fn a_commands_own_variables_survive_the_clean_environment() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = Runner::new(tmp.path(), Vec::new(), crate::support::listener::Human::channel(true)).unwrap();
        r.set_clean_env(vec![("KEAPACK_RUN".into(), "run".into())]);
        let ok = r.run("env", "env", Command::new("/bin/sh").args(["-c", "echo $KEAPACK_RUN $KEAPACK_OWN"]).env("KEAPACK_OWN", "own")).unwrap();
        assert!(fs::read_to_string(&ok.log).unwrap().contains("run own"));
    }

    #[test]
    fn clean_env_passes_only_what_it_is_given() {
        let tmp = tempfile::tempdir().unwrap();
        let mut r = Runner::new(tmp.path(), Vec::new(), crate::support::listener::Human::channel(true)).unwrap();
        r.set_clean_env(vec![("KEAPACK_ONLY".into(), "yes".into())]);
        let out = r.run("env", "env", &mut Command::new("/usr/bin/env")).unwrap();
        let log = fs::read_to_string(&out.log).unwrap();
        let vars: Vec<&str> = log.lines().skip(1).collect();
        assert_eq!(vars, ["KEAPACK_ONLY=yes"], "{log}");
    }
}

//! `keapack lint`: the distributions' own checkers on packages — lintian on a `.deb`, rpmlint
//! on an `.rpm` — their findings printed as they wrote them, and a verdict per file.
//!
//! A `.deb` passes with no lintian error and no warning (`-EIL +pedantic`: info, pedantic and
//! experimental tags are shown, not counted). An `.rpm` passes with no rpmlint error; rpmlint
//! runs with `packaging/rpmlint.toml`, which filters `no-signature` because keapack writes
//! unsigned packages by design (`--signed` drops the filter). A checker that is missing or
//! cannot read the file is a failure to lint, never a pass.

use crate::support::events::Event;
use crate::support::listener::Listener;
use crate::support::runner::{describe, have, human};
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The rpmlint configuration keapack lints its packages with.
pub(crate) const RPMLINT_CONFIG: &str = include_str!("../../packaging/rpmlint.toml");

/// How to lint.
#[derive(Debug, Clone, Default)]
pub(crate) struct LintOptions {
    /// The `.rpm` files are signed: report `no-signature` as rpmlint does.
    pub signed: bool,
    /// With `signed`: the public key they are signed with. rpmlint checks signatures with
    /// `rpm -K`, which knows only the keys imported into an rpm database (else `unknown-key`),
    /// so the key goes into a private one for the check.
    pub key: Option<PathBuf>,
    /// Ask the checkers to explain each tag (`--info`).
    pub explain: bool,
}

/// Which checker reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checker {
    Lintian,
    Rpmlint,
}

impl Checker {
    /// The checker for a package file, from its first bytes (not its name).
    pub(crate) fn for_file(path: &Path) -> Result<Checker> {
        let mut head = [0u8; 8];
        let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let n = f.read(&mut head).with_context(|| format!("cannot read {}", path.display()))?;
        match &head[..n] {
            b"!<arch>\n" => Ok(Checker::Lintian),
            [0xed, 0xab, 0xee, 0xdb, ..] => Ok(Checker::Rpmlint),
            _ => bail!("{} is neither a .deb nor an .rpm package", path.display()),
        }
    }

    pub fn program(self) -> &'static str {
        match self {
            Checker::Lintian => "lintian",
            Checker::Rpmlint => "rpmlint",
        }
    }

    /// What to install when the checker is missing.
    pub(crate) fn install_hint(self) -> &'static str {
        match self {
            Checker::Lintian => "install the Debian package `lintian` (apt-get install lintian)",
            Checker::Rpmlint => "install the Debian package `rpmlint` (apt-get install rpmlint; dnf install rpmlint on Fedora and RHEL)",
        }
    }
}

/// One line a checker reported: its level letter (`E`, `W`, `I`, `P`, `X`, `O`…) and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub level: char,
    pub tag: String,
    pub line: String,
}

/// What a checker said about one file.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub checker: Checker,
    pub findings: Vec<Finding>,
    pub duration: Duration,
}

impl Report {
    pub fn count(&self, level: char) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// lintian: no error, no warning; rpmlint: no error.
    pub fn passed(&self) -> bool {
        self.count('E') == 0 && (self.checker == Checker::Rpmlint || self.count('W') == 0)
    }

    /// `passed: 0 errors, 0 warnings, 2 other tags`.
    pub(crate) fn verdict(&self) -> String {
        let (e, w) = (self.count('E'), self.count('W'));
        format!(
            "{}: {e} error{}, {w} warning{}, {} other tag{}",
            if self.passed() { "passed" } else { "FAILED" },
            if e == 1 { "" } else { "s" },
            if w == 1 { "" } else { "s" },
            self.findings.len() - e - w,
            if self.findings.len() - e - w == 1 { "" } else { "s" }
        )
    }
}

/// Lint one package file.
pub(crate) fn lint_file(path: &Path, opts: &LintOptions) -> Result<Report> {
    let checker = Checker::for_file(path)?;
    let program = checker.program();
    if !have(program) {
        bail!("{program} is not installed, so {} was not checked: {}", path.display(), checker.install_hint());
    }
    let mut cmd = Command::new(program);
    let _config; // the rpmlint configuration file lives until rpmlint has run
    let _home; // and so does the key's rpm database
    match checker {
        Checker::Lintian => {
            cmd.args(["-EIL", "+pedantic", "--tag-display-limit", "0"]);
        }
        Checker::Rpmlint if !opts.signed => {
            let mut f = tempfile::Builder::new().prefix("keapack-rpmlint").suffix(".toml").tempfile()?;
            f.write_all(RPMLINT_CONFIG.as_bytes())?;
            cmd.arg("--config").arg(f.path());
            _config = f;
        }
        Checker::Rpmlint => {
            if let Some(key) = &opts.key {
                let home = tempfile::Builder::new().prefix("keapack-rpmlint-home").tempdir()?;
                let db = home.path().join("rpmdb");
                let import = Command::new("rpmkeys").arg("--dbpath").arg(&db).arg("--import").arg(key).output().context("cannot run rpmkeys")?;
                if !import.status.success() {
                    bail!("rpmkeys cannot import the key {}: {}", key.display(), String::from_utf8_lossy(&import.stderr).trim());
                }
                // rpmlint runs `rpm -Kv`, which reads ~/.rpmmacros: point it at that database.
                std::fs::write(home.path().join(".rpmmacros"), format!("%_dbpath {}\n", db.display()))?;
                cmd.env("HOME", home.path());
                _home = home;
            }
        }
    }
    if opts.explain {
        cmd.arg("--info");
    }
    cmd.arg(path);
    let start = Instant::now();
    let out = cmd.output().with_context(|| format!("cannot run `{}`", describe(&cmd)))?;
    let duration = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let findings: Vec<Finding> = stdout.lines().chain(stderr.lines()).filter_map(|l| parse_line(checker, l)).collect();
    let code = out.status.code();
    // lintian: 0, or 2 (an error tag, its default --fail-on); 1 is its own run-time error.
    // rpmlint: 0, or 64/65/66 (errors, badness). Anything else means the file was not checked.
    let ran = match checker {
        Checker::Lintian => code == Some(0) || (code == Some(2) && findings.iter().any(|f| f.level == 'E')),
        Checker::Rpmlint => matches!(code, Some(0 | 64 | 65 | 66)),
    };
    if !ran {
        let noise = |l: &&str| !l.trim().is_empty() && !l.contains("running with root privileges");
        let said: Vec<&str> = stdout.lines().chain(stderr.lines()).filter(noise).take(20).collect();
        bail!("`{}` could not check {} ({}):\n  {}", describe(&cmd), path.display(), out.status, said.join("\n  "));
    }
    Ok(Report { checker, findings, duration })
}

/// A finding from one output line: lintian `E: pkg: tag context`, rpmlint `pkg.arch: E: tag …`.
pub(crate) fn parse_line(checker: Checker, line: &str) -> Option<Finding> {
    let finding = |level: char, rest: &str| {
        let tag = rest.split_whitespace().next()?.to_string();
        Some(Finding { level, tag, line: line.to_string() })
    };
    match checker {
        Checker::Lintian => {
            let mut chars = line.chars();
            let level = chars.next().filter(char::is_ascii_uppercase)?;
            let rest = line.get(1..)?.strip_prefix(": ")?;
            if level == 'N' {
                return None;
            }
            finding(level, rest.split_once(": ")?.1)
        }
        Checker::Rpmlint => ['E', 'W', 'I'].into_iter().find_map(|level| {
            let (_, rest) = line.split_once(&format!(": {level}: "))?;
            finding(level, rest)
        }),
    }
}

/// The packages `paths` name: a file as it is, a directory as every `.deb` and `.rpm` file in
/// it (not below it), by name; a directory with none is refused.
pub(crate) fn packages_in(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if !std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
            out.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| anyhow::anyhow!("cannot list the directory {}: {e}", path.display()))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| anyhow::anyhow!("cannot list the directory {}: {e}", path.display()))?;
            let name = entry.file_name();
            let is_package = name.to_str().is_some_and(|n| n.ends_with(".deb") || n.ends_with(".rpm"));
            if is_package && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
                found.push(entry.path());
            }
        }
        if found.is_empty() {
            bail!("{} holds no .deb or .rpm file; name the packages, or the directory a build wrote them to (its --out)", path.display());
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Lint every file, printing each checker's findings and a verdict as the listener's report. Returns the
/// process exit code: 0 all passed, 1 a checker found problems, 2 a file could not be checked.
pub(crate) fn lint_all(paths: &[PathBuf], opts: LintOptions, listener: &dyn Listener) -> Result<u8> {
    let mut out = listener.report();
    if paths.is_empty() {
        bail!("name the packages to lint: keapack lint dist/*.deb dist/*.rpm");
    }
    let mut code = 0;
    for path in paths {
        let step = format!("lint {}", path.display());
        listener.event(Event::StepStarted { step: step.clone(), log: None });
        match lint_file(path, &opts) {
            Ok(report) => {
                writeln!(out, "{} {}:", report.checker.program(), path.display())?;
                for f in &report.findings {
                    writeln!(out, "{}", f.line)?;
                    if f.level == 'E' || f.level == 'W' {
                        listener.event(Event::Warning { message: f.line.clone(), file: Some(path.clone()) });
                    }
                }
                let note = if report.checker == Checker::Rpmlint && !opts.signed { " (no-signature not counted: keapack writes unsigned packages; sign them when publishing)" } else { "" };
                writeln!(out, "{} in {}{note}", report.verdict(), human(report.duration))?;
                if !report.passed() {
                    code = code.max(1);
                    listener.event(Event::Error { message: format!("{}: {}", path.display(), report.verdict()), step: Some(step), log: None, log_tail: Vec::new(), file: Some(path.clone()) });
                } else {
                    listener.event(Event::StepFinished { step, duration: report.duration.as_secs_f64(), log: None });
                }
            }
            Err(e) => {
                writeln!(out, "{}: not checked: {e:#}", path.display())?;
                listener.event(Event::Error { message: format!("{}: not checked: {e:#}", path.display()), step: Some(step), log: None, log_tail: Vec::new(), file: Some(path.clone()) });
                code = 2;
            }
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_checker_lines() {
        let l = parse_line(Checker::Lintian, "W: kea-premium-hooks: copyright-without-copyright-notice").unwrap();
        assert_eq!((l.level, l.tag.as_str()), ('W', "copyright-without-copyright-notice"));
        let l = parse_line(Checker::Lintian, "I: p: hardening-no-fortify-functions [usr/lib/x.so]").unwrap();
        assert_eq!((l.level, l.tag.as_str()), ('I', "hardening-no-fortify-functions"));
        assert_eq!(parse_line(Checker::Lintian, "N: Setting up the lab"), None);
        assert_eq!(parse_line(Checker::Lintian, "running with root privileges is not recommended!"), None);
        let r = parse_line(Checker::Rpmlint, "kea-premium-hooks.x86_64: W: invalid-license LicenseRef-ISC-Premium").unwrap();
        assert_eq!((r.level, r.tag.as_str()), ('W', "invalid-license"));
        assert_eq!(parse_line(Checker::Rpmlint, " 1 packages and 0 specfiles checked; 0 errors, 1 warnings"), None);
    }

    #[test]
    fn sniffs_the_format_and_refuses_other_files() {
        let tmp = tempfile::tempdir().unwrap();
        let (deb, rpm, txt) = (tmp.path().join("a.pkg"), tmp.path().join("b.pkg"), tmp.path().join("c.deb"));
        std::fs::write(&deb, b"!<arch>\ndebian-binary").unwrap();
        std::fs::write(&rpm, [0xed, 0xab, 0xee, 0xdb, 3, 0]).unwrap();
        std::fs::write(&txt, b"hello").unwrap();
        assert_eq!(Checker::for_file(&deb).unwrap(), Checker::Lintian);
        assert_eq!(Checker::for_file(&rpm).unwrap(), Checker::Rpmlint);
        assert!(Checker::for_file(&txt).unwrap_err().to_string().contains("neither a .deb nor an .rpm"));
        let rec = crate::support::testutil::Recorder::default();
        assert_eq!(lint_all(&[txt, tmp.path().join("missing.deb")], LintOptions::default(), &rec).unwrap(), 2);
        let text = rec.report_text();
        assert_eq!(rec.events.lock().unwrap().len(), 4, "a started and an error event for each file");
        assert!(text.contains("c.deb: not checked") && text.contains("missing.deb: not checked: cannot open"), "{text}");
    }

    #[test]
    fn verdicts_count_what_each_checker_fails_on() {
        let f = |level, tag: &str| Finding { level, tag: tag.into(), line: String::new() };
        let mut r = Report { checker: Checker::Lintian, findings: vec![f('I', "a"), f('W', "b")], duration: Duration::ZERO };
        assert!(!r.passed());
        assert_eq!(r.verdict(), "FAILED: 0 errors, 1 warning, 1 other tag");
        r.checker = Checker::Rpmlint;
        assert!(r.passed());
        r.findings.push(f('E', "c"));
        assert!(!r.passed());
    }
}

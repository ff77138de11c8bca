//! `--check-reproducible`: build twice from the same inputs and fail, naming the first
//! differing file, if the outputs are not byte-identical.
//!
//! The first build is the ordinary one (its outputs land in `--out`). The second runs in
//! `<work>/rebuild/`, with a work directory at another depth and of another length, its own
//! output directory, at least a second later, and with keapack's own `TZ`, `LANG`, `LC_ALL` and
//! umask changed (every build then normalises them again: that normalisation is part of what
//! is checked). Every package and the build record are compared by SHA-256; `SHA256SUMS` is
//! not, since it also lists older files an output directory may hold. With `--verify-load` only
//! the first build is verified, and the records are compared without its `verification`.
//!
//! On a difference the error names the first differing output and the first differing staged
//! file (the stripped hooks of both builds), and, when `diffoscope` is installed, writes its
//! text report under `<work>/rebuild/` and quotes the report's first lines.

use crate::run::pipeline::BuildOutcome;
use crate::run::request::RunPlan;
use crate::support::digest::sha256_file;
use crate::support::events::Event;
use crate::support::listener::{Channel, Listener};
use std::sync::Arc;
use anyhow::{Context, Result, bail};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How many lines of a diffoscope report the error quotes.
const REPORT_LINES: usize = 40;

/// What keapack's own process looks like during the second build.
const SECOND_TZ: &str = "Pacific/Chatham"; // UTC+12:45, or +13:45 in summer
const SECOND_LANG: &str = "fr_FR.UTF-8";
const SECOND_UMASK: libc::mode_t = 0o077;

/// Run `build` twice (see the module comment) and compare. Returns the first build's outcome.
pub(crate) fn check(plan: &RunPlan, listener: &Channel, build: impl Fn(&RunPlan, &Channel) -> Result<BuildOutcome>) -> Result<BuildOutcome> {
    let first = build(plan, listener)?;
    let root = first.work.join("rebuild");
    if root.exists() {
        fs::remove_dir_all(&root).with_context(|| format!("cannot clear {}", root.display()))?;
    }
    let mut second = plan.clone();
    second.request.work = root.join("second-work-directory");
    second.request.out = root.join("out");
    // The second build is a real one: it neither reuses the first's cache entry nor keeps its own.
    second.request.no_cache = true;
    // Its packages are the first's if they are reproducible; they need no second load check.
    second.request.verify_load = false;
    second.request.manifest.build.verify_load = false;
    let second_req = &second.request;
    listener.note(&format!("checking reproducibility: building again in {}", second_req.work.display()));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // The second build's outputs are the comparison's, not the run's: they are not announced.
    let rebuild: Channel = Arc::new(Rebuild(listener.clone()));
    let second = with_other_process_state(|| build(&second, &rebuild))?;

    let firsts: Vec<&PathBuf> = first.packages.iter().chain([&first.record]).collect();
    let mut aside = "";
    for a in firsts {
        let name = a.file_name().context("outputs have file names")?;
        let b = second_req.out.join(name);
        let (sa, sb) = (sha256_file(a)?, if b.is_file() { sha256_file(&b)? } else { "missing".into() });
        if sa != sb {
            if *a == first.record && same_but_verification(a, &b) {
                aside = " (the first's load verification aside)";
                continue;
            }
            bail!("{}", explain(a, &b, &sa, &sb, &first.work, &second.work, &root));
        }
    }
    listener.note(&format!("reproducible: {} packages and the build record{aside} are byte-identical across two builds", first.packages.len()));
    Ok(first)
}

/// Whether two build records differ only in the first's `verification` (its load check's
/// timings and evidence; the second build does not verify).
fn same_but_verification(a: &Path, b: &Path) -> bool {
    let read = |p: &Path| -> Option<serde_json::Value> {
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(p).ok()?).ok()?;
        v.as_object_mut()?.remove("verification");
        Some(v)
    };
    matches!((read(a), read(b)), (Some(x), Some(y)) if x == y)
}

/// The channel of the second build: everything but its output events goes on to the run's.
struct Rebuild(Channel);

impl Listener for Rebuild {
    fn note(&self, msg: &str) {
        self.0.note(msg);
    }
    fn warning(&self, msg: &str) {
        self.0.warning(msg);
    }
    fn error(&self, msg: &str) {
        self.0.error(msg);
    }
    fn event(&self, event: Event) {
        if !matches!(event, Event::OutputWritten { .. }) {
            self.0.event(event);
        }
    }
    fn wants_events(&self) -> bool {
        self.0.wants_events()
    }
    fn report(&self) -> Box<dyn std::io::Write + '_> {
        self.0.report()
    }
    fn spinner(&self) -> bool {
        self.0.spinner()
    }
}

/// Run `f` with keapack's own TZ, LANG, LC_ALL and umask changed, then restore them.
fn with_other_process_state<T>(f: impl FnOnce() -> T) -> T {
    let keys = ["TZ", "LANG", "LC_ALL"];
    let saved: Vec<_> = keys.iter().map(std::env::var_os).collect();
    // SAFETY: keapack runs its steps one at a time; no other thread reads the environment
    // between builds (the runner's output readers have been joined).
    unsafe {
        std::env::set_var("TZ", SECOND_TZ);
        std::env::set_var("LANG", SECOND_LANG);
        std::env::set_var("LC_ALL", SECOND_LANG);
    }
    // SAFETY: umask only changes this process's file-creation mask.
    let old_umask = unsafe { libc::umask(SECOND_UMASK) };
    let out = f();
    unsafe {
        libc::umask(old_umask);
        for (k, v) in keys.iter().zip(saved) {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }
    out
}

/// The error text for a differing output.
fn explain(a: &Path, b: &Path, sa: &str, sb: &str, work_a: &Path, work_b: &Path, root: &Path) -> String {
    let name = a.file_name().unwrap_or_default().to_string_lossy();
    let mut text = format!(
        "not reproducible: {name} differs between two builds of the same inputs\n  first:  {} (sha256 {sa})\n  second: {} (sha256 {sb})",
        a.display(),
        b.display()
    );
    match first_difference(&work_a.join("stage"), &work_b.join("stage")) {
        Ok(Some(rel)) => text.push_str(&format!("\nFirst differing staged file: {rel} (in {}/stage and {}/stage)", work_a.display(), work_b.display())),
        Ok(None) => text.push_str("\nThe staged files are identical: the difference comes from packaging, not from the build."),
        Err(e) => text.push_str(&format!("\nCould not compare the staged trees: {e:#}")),
    }
    if crate::support::runner::have("diffoscope") && b.is_file() {
        let report = root.join(format!("diffoscope-{name}.txt"));
        match diffoscope(a, b, &report) {
            Ok(summary) => text.push_str(&format!("\ndiffoscope report: {}\n{summary}", report.display())),
            Err(e) => text.push_str(&format!("\ndiffoscope failed: {e:#}")),
        }
    } else if b.is_file() {
        text.push_str("\nInstall diffoscope (apt-get install diffoscope) for a report of what differs inside.");
    }
    text.push_str(&format!("\nBoth builds' logs: {}/logs and {}/logs", work_a.display(), work_b.display()));
    text
}

/// Run diffoscope, writing its text report; return the report's first lines, indented.
fn diffoscope(a: &Path, b: &Path, report: &Path) -> Result<String> {
    let out = Command::new("diffoscope").arg("--text").arg(report).arg("--no-progress").arg(a).arg(b).output().context("cannot run diffoscope")?;
    // diffoscope exits 1 when the files differ, 0 when not, and 2 on errors.
    if out.status.code() == Some(2) || !report.is_file() {
        bail!("diffoscope exited with {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    let body = fs::read_to_string(report)?;
    let mut lines: Vec<String> = body.lines().take(REPORT_LINES).map(|l| format!("  | {l}")).collect();
    if body.lines().count() > REPORT_LINES {
        lines.push(format!("  | … ({} lines in all)", body.lines().count()));
    }
    Ok(lines.join("\n"))
}

/// The first path (sorted, relative) whose kind or bytes differ between two trees, if any.
pub(crate) fn first_difference(a: &Path, b: &Path) -> Result<Option<String>> {
    let (la, lb) = (listing(a)?, listing(b)?);
    let names: BTreeSet<&String> = la.keys().chain(lb.keys()).collect();
    for n in names {
        let (ka, kb) = (la.get(n), lb.get(n));
        if ka != kb || (ka == Some(&true) && !same_bytes(&a.join(n), &b.join(n))?) {
            return Ok(Some(n.clone()));
        }
    }
    Ok(None)
}

/// Every entry under `root`: relative path → is a regular file.
fn listing(root: &Path) -> Result<BTreeMap<String, bool>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for e in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let e = e?;
            let path = rel.join(e.file_name());
            let kind = e.file_type()?;
            if kind.is_dir() {
                stack.push(path.clone());
            }
            out.insert(path.to_string_lossy().into_owned(), kind.is_file());
        }
    }
    Ok(out)
}

/// Compare two files by SHA-256 (streamed, so large files need no memory).
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    Ok(sha256_file(a)? == sha256_file(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_that_differ_only_in_their_verification_are_the_same() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a.json"), d.path().join("b.json"), d.path().join("c.json"));
        fs::write(&a, r#"{"epoch":1,"outputs":[],"verification":[{"target":"debian-12-amd64","seconds":0.9}]}"#).unwrap();
        fs::write(&b, r#"{"epoch":1,"outputs":[]}"#).unwrap();
        fs::write(&c, r#"{"epoch":2,"outputs":[]}"#).unwrap();
        assert!(same_but_verification(&a, &b));
        assert!(!same_but_verification(&a, &c));
        assert!(!same_but_verification(&a, &d.path().join("missing.json")));
    }

    #[test]
    fn first_difference_names_the_first_differing_path() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        for d in [&a, &b] {
            fs::create_dir_all(d.join("usr/lib")).unwrap();
            fs::write(d.join("usr/lib/libx.so"), b"same").unwrap();
            fs::write(d.join("usr/lib/liby.so"), b"same").unwrap();
        }
        assert_eq!(first_difference(&a, &b).unwrap(), None);
        fs::write(b.join("usr/lib/liby.so"), b"other").unwrap();
        fs::write(b.join("usr/lib/libz.so"), b"new").unwrap();
        assert_eq!(first_difference(&a, &b).unwrap().as_deref(), Some("usr/lib/liby.so"));
        fs::write(b.join("usr/lib/liby.so"), b"same").unwrap();
        assert_eq!(first_difference(&a, &b).unwrap().as_deref(), Some("usr/lib/libz.so"), "a file only one side has");
    }

    #[test]
    fn diffoscope_report_is_written_and_quoted() {
        if !crate::support::runner::have("diffoscope") {
            panic!("this test needs `diffoscope`: apt-get install diffoscope");
        }
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("one.txt"), tmp.path().join("two.txt"));
        fs::write(&a, "line\nbuilt in /tmp/work-a\n").unwrap();
        fs::write(&b, "line\nbuilt in /tmp/work-b\n").unwrap();
        let report = tmp.path().join("report.txt");
        let summary = diffoscope(&a, &b, &report).unwrap();
        assert!(report.is_file());
        assert!(summary.contains("work-a") && summary.contains("work-b"), "{summary}");
    }
}

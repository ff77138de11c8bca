//! The output set's switch into `--out`, journaled so that a kill at any instant is finished
//! by the next keapack command that takes the output directory's lock.
//!
//! A plain directory cannot replace several files in one step, so the switch keeps two
//! promises instead:
//! - **`sha256sum -c SHA256SUMS` passes at every instant.** Before any file is replaced,
//!   `SHA256SUMS` is replaced by an interim list of the earlier set that names each file the set
//!   replaces by its link in the journal (`.keapack-switch/.replaced/<name>`), which stays until
//!   the end; then each new file is renamed into place, and the final `SHA256SUMS` last.
//! - **A switch once begun is finished.** The staging directory, holding the set, the interim
//!   and final sums, a hard link to every file about to be replaced and a list of the set's
//!   names, is renamed to `<out>/.keapack-switch` in one step: that rename is the commit. Each
//!   later step moves a file out of it, so what is left in it is what remains to do, and doing
//!   it again is harmless. The next command that takes the lock ([`recover`], called by
//!   `OutLock::take`) finishes it before anything else, and says so.
//!
//! A rename that fails (not a kill: a directory in a file's place, a full or read-only disk)
//! rolls the switch back: a mark (`.undo`) is made in the journal, the interim list goes in
//! place if it is not yet, every replaced file is put back from a new link to its kept copy,
//! every new file is removed, and the earlier `SHA256SUMS` goes back last. That too is
//! resumable and verifies at every instant, and a kill while rolling back is finished by the
//! next command as a roll-back.

use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

use super::SUMS;

/// The journal of a switch under way, inside `--out`.
pub(crate) const SWITCH: &str = ".keapack-switch";
/// In the journal: made when the switch is being undone.
pub(crate) const UNDO: &str = ".undo";
/// In the journal: the interim `SHA256SUMS` (the earlier entries the set leaves alone).
pub(crate) const INTERIM: &str = ".interim-sums";
/// In the journal: one line per name of the set, `replaced <name>` or `new <name>`, the set's
/// order, `SHA256SUMS` last.
pub(crate) const NAMES: &str = ".names";
/// In the journal: a hard link to each file the set replaces.
pub(crate) const REPLACED: &str = ".replaced";
/// A finished journal, renamed aside while its files are deleted.
pub(crate) const RETIRED: &str = ".keapack-switch-done";

/// One name of a set and whether an earlier file of that name was in `--out`.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    name: String,
    replaced: bool,
}

fn names_text(entries: &[Entry]) -> String {
    entries.iter().map(|e| format!("{} {}\n", if e.replaced { "replaced" } else { "new" }, e.name)).collect()
}

fn read_names(journal: &Path) -> Result<Vec<Entry>> {
    let path = journal.join(NAMES);
    let text = fs::read_to_string(&path).with_context(|| format!("cannot read the switch journal {}", path.display()))?;
    text.lines()
        .map(|l| {
            let (kind, name) = l.split_once(' ').with_context(|| format!("{}: a line is not `replaced NAME` or `new NAME`: {l:?}", path.display()))?;
            anyhow::ensure!(
                matches!(kind, "replaced" | "new") && !name.is_empty() && !name.contains('/') && !name.starts_with('.'),
                "{}: a line is not `replaced NAME` or `new NAME`: {l:?}",
                path.display()
            );
            Ok(Entry { name: name.to_string(), replaced: kind == "replaced" })
        })
        .collect()
}

/// fsync a directory, so the renames in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("cannot sync the directory {}", dir.display()))
}

/// Make `staging` (which holds the set's files and its final `SHA256SUMS`) a journal for
/// `names` (the set's file names, `SHA256SUMS` not among them): the interim sums (from
/// `earlier`, the earlier entries of `SHA256SUMS` whose files exist), the list of names, a link
/// to each file it replaces. Nothing in `out` changes.
pub(crate) fn prepare(out: &Path, staging: &Path, names: &[String], earlier: &std::collections::BTreeMap<String, String>) -> Result<()> {
    let replaced = staging.join(REPLACED);
    fs::create_dir(&replaced).with_context(|| format!("cannot prepare the switch into {}: cannot create {}", out.display(), replaced.display()))?;
    let mut entries = Vec::new();
    for name in names.iter().chain(std::iter::once(&SUMS.to_string())) {
        let dest = out.join(name);
        let earlier = fs::symlink_metadata(&dest).is_ok_and(|m| m.is_file());
        if earlier {
            fs::hard_link(&dest, replaced.join(name))
                .or_else(|_| fs::copy(&dest, replaced.join(name)).map(drop))
                .with_context(|| format!("cannot keep the earlier {} while publishing", dest.display()))?;
        }
        entries.push(Entry { name: name.clone(), replaced: earlier });
    }
    // The interim list: the earlier set, each file this set replaces named by its kept link.
    let interim: String = earlier
        .iter()
        .map(|(name, sum)| if names.contains(name) { format!("{sum}  {SWITCH}/{REPLACED}/{name}\n") } else { format!("{sum}  {name}\n") })
        .collect();
    let journal_file = |name: &str, text: &str| super::publish(staging, name, |w| Ok(w.write_all(text.as_bytes())?)).with_context(|| format!("cannot prepare the switch into {}", out.display()));
    if !interim.is_empty() {
        journal_file(INTERIM, &interim)?;
    }
    journal_file(NAMES, &names_text(&entries))?;
    sync_dir(&replaced)?;
    sync_dir(staging)
}

/// Commit the journal `staging` into `out` and carry the switch out. `Err` carries what was
/// done about a failed rename (the switch rolled back, or what could not be restored).
pub(crate) fn switch(out: &Path, staging: &Path) -> Result<()> {
    let journal = out.join(SWITCH);
    if let Err(e) = fs::rename(staging, &journal) {
        let _ = fs::remove_dir_all(staging);
        return Err(e).with_context(|| format!("cannot begin publishing into {}: nothing was published", out.display()));
    }
    sync_dir(out)?;
    if let Err(e) = finish(out, &journal) {
        let undone = roll_back(out, &journal);
        return Err(match undone {
            Ok(()) => e.context("nothing was published: the earlier files are back in place"),
            Err(why) => e.context(format!("the output directory is now incomplete ({why:#}); the next keapack run into it puts the earlier files back")),
        });
    }
    Ok(())
}

/// Carry out the rest of the switch in `journal`: the interim sums, each file of the set, the
/// final sums; then remove the journal. A journal marked for undoing is rolled back instead.
fn finish(out: &Path, journal: &Path) -> Result<()> {
    if journal.join(UNDO).exists() {
        return roll_back(out, journal);
    }
    for (from, name) in moves(journal)? {
        if fs::symlink_metadata(&from).is_err() {
            continue; // moved before a kill
        }
        fs::rename(&from, out.join(&name)).with_context(|| format!("cannot move {name} into {}", out.display()))?;
    }
    sync_dir(out)?;
    retire(out, journal)
}

/// Remove a finished (or undone) journal: renamed aside in one step first, so that a kill
/// while its files are being deleted never leaves a journal without its list of names, which
/// the next run would take for a switch under way. What is left aside is removed by the next
/// command that takes the lock ([`recover`]).
fn retire(out: &Path, journal: &Path) -> Result<()> {
    let aside = out.join(RETIRED);
    remove_retired(out)?;
    fs::rename(journal, &aside).with_context(|| format!("cannot remove {}", journal.display()))?;
    sync_dir(out)?;
    remove_retired(out)
}

/// Remove the journal a run set aside (see [`retire`]), if any.
fn remove_retired(out: &Path) -> Result<()> {
    let aside = out.join(RETIRED);
    match fs::symlink_metadata(&aside) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(&aside).with_context(|| format!("cannot remove {}", aside.display())),
        Ok(_) => fs::remove_file(&aside).with_context(|| format!("cannot remove {}", aside.display())),
        Err(_) => Ok(()),
    }
}

/// The renames a switch makes, in order: from the journal to the name in `--out`.
fn moves(journal: &Path) -> Result<Vec<(PathBuf, String)>> {
    let entries = read_names(journal)?;
    let mut moves: Vec<(PathBuf, String)> = vec![(journal.join(INTERIM), SUMS.to_string())];
    moves.extend(entries.iter().filter(|e| e.name != SUMS).map(|e| (journal.join(&e.name), e.name.clone())));
    moves.push((journal.join(SUMS), SUMS.to_string()));
    Ok(moves)
}

/// Undo the switch in `journal`: mark it, put the interim sums in place (if the switch had
/// not), put back every replaced file from a new link to its kept copy (the kept copy stays, so
/// the interim list holds), remove every new file that was moved in, then the earlier
/// `SHA256SUMS` back (or none, if there was none) and the journal away.
fn roll_back(out: &Path, journal: &Path) -> Result<()> {
    let undo = journal.join(UNDO);
    if !undo.exists() {
        fs::File::create(&undo).with_context(|| format!("cannot mark the switch in {} as undone", out.display()))?;
        sync_dir(journal)?;
    }
    let entries = read_names(journal)?;
    let interim = journal.join(INTERIM);
    if interim.exists() {
        fs::rename(&interim, out.join(SUMS)).with_context(|| format!("cannot put the interim {SUMS} in {}", out.display()))?;
    }
    let mut failed = Vec::new();
    for e in entries.iter().filter(|e| e.name != SUMS) {
        let dest = out.join(&e.name);
        let res = if e.replaced {
            let (kept, tmp) = (journal.join(REPLACED).join(&e.name), journal.join(".restoring"));
            let _ = fs::remove_file(&tmp);
            fs::hard_link(&kept, &tmp).and_then(|()| fs::rename(&tmp, &dest))
        } else if fs::symlink_metadata(journal.join(&e.name)).is_err() {
            // A new file that was moved in.
            match fs::remove_file(&dest) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            }
        } else {
            Ok(())
        };
        if let Err(err) = res {
            failed.push(format!("{}: {err}", dest.display()));
        }
    }
    anyhow::ensure!(failed.is_empty(), "could not restore {}", failed.join(", "));
    let sums = entries.iter().find(|e| e.name == SUMS).is_some_and(|e| e.replaced);
    let res = if sums {
        fs::rename(journal.join(REPLACED).join(SUMS), out.join(SUMS))
    } else {
        match fs::remove_file(out.join(SUMS)) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    };
    res.with_context(|| format!("could not restore {}", out.join(SUMS).display()))?;
    sync_dir(out)?;
    retire(out, journal)
}

/// Whether `dir` holds a switch a killed run left unfinished.
pub(crate) fn pending(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join(SWITCH)).is_ok_and(|m| m.is_dir())
}

/// Before reading packages from `paths` (files or directories), finish any output set a killed
/// run left half-published in their directories, under each directory's output lock.
pub(crate) fn recover_inputs(paths: &[PathBuf], tell: &dyn Fn(&str)) -> Result<()> {
    let mut dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| if p.is_dir() { p.clone() } else { p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf() })
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs.into_iter().filter(|d| pending(d)) {
        drop(super::OutLock::take(&dir, tell)?);
    }
    Ok(())
}

/// Finish what a killed run left in `out`, under its lock: a switch under way is completed, a
/// switch being undone is undone. Returns what was done, to be told, or `None`.
pub(crate) fn recover(out: &Path) -> Result<Option<String>> {
    let journal = out.join(SWITCH);
    remove_retired(out)?;
    if !pending(out) {
        return Ok(None);
    }
    let shown = crate::support::text::path(out);
    if journal.join(UNDO).exists() {
        roll_back(out, &journal).with_context(|| format!("cannot undo the output set a killed run left half-published in {}", out.display()))?;
        return Ok(Some(format!("put back the earlier files in {shown} that a killed run had begun to replace")));
    }
    if let Err(e) = finish(out, &journal) {
        roll_back(out, &journal).with_context(|| format!("cannot finish or undo the output set a killed run left half-published in {}", out.display()))?;
        return Ok(Some(format!("could not finish the output set a killed run left in {shown} ({e:#}); put the earlier files back")));
    }
    Ok(Some(format!("finished publishing the output set a killed run left half-published in {shown}")))
}

#[cfg(test)]
mod tests {
    use super::super::{OutLock, OutputSet};
    use super::*;

    /// Every file of `dir` but the lock with its bytes, sorted.
    fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name() != super::super::outlock::LOCK && !e.file_name().to_string_lossy().starts_with(super::super::STAGING_PREFIX))
            .map(|e| (e.file_name().into_string().unwrap(), fs::read(e.path()).unwrap_or_default()))
            .collect();
        v.sort();
        v
    }

    /// Whether every line of `dir/SHA256SUMS` names a file with that SHA-256 (`sha256sum -c`).
    fn sums_hold(dir: &Path) -> Result<(), String> {
        let Ok(text) = fs::read_to_string(dir.join(SUMS)) else { return Ok(()) };
        for line in text.lines() {
            let (sum, name) = line.split_once("  ").ok_or(format!("bad line {line:?}"))?;
            let got = crate::support::digest::sha256_file(&dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
            if got != sum {
                return Err(format!("{name} does not match its sum"));
            }
        }
        Ok(())
    }

    /// An output directory holding an earlier set (a.deb, b.deb, keep.deb), and a journal of a
    /// newer set (a.deb replaced, c.deb new) ready to switch: (tmp, out, lock, journal dir).
    fn earlier_and_staged() -> (tempfile::TempDir, PathBuf, OutLock, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("dist");
        let lock = OutLock::take(&out, |m| panic!("{m}")).unwrap();
        let mut set = OutputSet::begin(&lock).unwrap();
        for (n, b) in [("a.deb", "a1"), ("b.deb", "b1"), ("keep.deb", "k1")] {
            set.write(n, |w| Ok(w.write_all(b.as_bytes())?)).unwrap();
        }
        set.commit().unwrap();
        let mut set = OutputSet::begin(&lock).unwrap();
        for (n, b) in [("a.deb", "a2"), ("c.deb", "c2")] {
            set.write(n, |w| Ok(w.write_all(b.as_bytes())?)).unwrap();
        }
        let staging = set.staging().to_path_buf();
        let staged: Vec<PathBuf> = set.names.iter().map(|n| staging.join(n)).collect();
        let sums = super::super::sums_after(&out, &staged).unwrap();
        super::super::publish(&staging, SUMS, |w| Ok(w.write_all(sums.as_bytes())?)).unwrap();
        prepare(&out, &staging, &set.names, &super::super::earlier_sums(&out)).unwrap();
        let dir = set.staging.take().unwrap().keep();
        (tmp, out, lock, dir)
    }

    /// A kill while a finished journal's files are deleted leaves it aside, never as a journal
    /// without its list of names; the next command removes it and changes nothing else.
    #[test]
    fn a_kill_while_the_journal_is_deleted_leaves_nothing_the_next_run_misreads() {
        let (_t, out, _lock, dir) = earlier_and_staged();
        switch(&out, &dir).unwrap();
        let after = listing(&out);
        // As a kill leaves it mid-deletion: the list of names gone first, other files still there.
        fs::create_dir_all(out.join(RETIRED).join(REPLACED)).unwrap();
        fs::write(out.join(RETIRED).join(INTERIM), "x").unwrap();
        assert!(!pending(&out));
        assert_eq!(recover(&out).unwrap(), None);
        assert!(!out.join(RETIRED).exists());
        assert_eq!(listing(&out), after);
        assert!(sums_hold(&out).is_ok());
    }

    /// A kill after each step of a switch: `sha256sum -c` holds at that instant, and the next
    /// run's recovery finishes the set (or, from the rollback journal, restores the earlier one).
    #[test]
    fn a_switch_killed_after_any_step_verifies_and_is_finished_or_undone_by_the_next_run() {
        let (_t, out, lock, dir) = earlier_and_staged();
        let before = listing(&out);
        fs::rename(&dir, out.join(SWITCH)).unwrap();
        let steps = moves(&out.join(SWITCH)).unwrap();
        // The uninterrupted result, for comparison.
        let after = {
            let (_t2, out2, _l2, dir2) = earlier_and_staged();
            switch(&out2, &dir2).unwrap();
            listing(&out2)
        };
        assert_eq!(after.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["SHA256SUMS", "a.deb", "b.deb", "c.deb", "keep.deb"]);
        drop(lock);
        for k in 0..=steps.len() {
            for undo in [false, true] {
                let (_t, out, lock, dir) = earlier_and_staged();
                fs::rename(&dir, out.join(SWITCH)).unwrap();
                for (from, name) in &steps[..k] {
                    let from = out.join(SWITCH).join(from.file_name().unwrap());
                    fs::rename(from, out.join(name)).unwrap();
                }
                sums_hold(&out).unwrap_or_else(|e| panic!("killed after {k} moves: {e}"));
                if undo {
                    fs::File::create(out.join(SWITCH).join(UNDO)).unwrap();
                }
                drop(lock);
                let told = std::cell::RefCell::new(Vec::new());
                let _lock = OutLock::take(&out, |m| told.borrow_mut().push(m.to_string())).unwrap();
                let told = told.into_inner();
                assert_eq!(told.len(), 1, "the next run says what it finished: {told:?}");
                let want = if undo { &before } else { &after };
                assert_eq!(&listing(&out), want, "killed after {k} moves (undo: {undo}): {told:?}");
                sums_hold(&out).unwrap();
            }
        }
    }

    #[test]
    fn a_rename_that_fails_rolls_the_switch_back() {
        let (_t, out, _lock, dir) = earlier_and_staged();
        let before = listing(&out);
        // A directory where c.deb goes: renaming a file over it fails.
        fs::create_dir(out.join("c.deb")).unwrap();
        let e = format!("{:#}", switch(&out, &dir).unwrap_err());
        assert!(e.contains("cannot move c.deb") && e.contains("the earlier files are back in place"), "{e}");
        let mut now = listing(&out);
        now.retain(|(n, _)| n != "c.deb");
        assert_eq!(now, before);
        assert!(!out.join(SWITCH).exists());
    }

    #[test]
    fn a_journal_line_that_is_not_a_plain_name_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join(SWITCH)).unwrap();
        fs::write(tmp.path().join(SWITCH).join(NAMES), "new ../../etc/passwd\n").unwrap();
        let e = format!("{:#}", recover(tmp.path()).unwrap_err());
        assert!(e.contains("is not `replaced NAME` or `new NAME`"), "{e}");
    }
}

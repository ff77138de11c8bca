//! Outputs appear whole or not at all: written to a temporary file in the output directory,
//! synced, then renamed. `SHA256SUMS` lists every output keapack put there.
//!
//! A run's outputs appear as a set (`OutputSet`): every package, debug package and the build
//! record is written into a staging directory inside `--out` and synced; only then are they
//! renamed into place, `SHA256SUMS` last. A run that fails or is interrupted before that
//! removes its staging directory and leaves `--out` as it was; a failure during the renames
//! puts back the files it had replaced. Staging directories left by a killed run are removed by
//! the next one. A run holds the output directory's lock (`outlock`, `<out>/.keapack-out.lock`)
//! while it writes and publishes its set, so two runs into one `--out` publish one after the
//! other; the lock file is never an output and never in `SHA256SUMS`.
//!
//! Beside it, `repo` maintains signed apt and dnf repositories from packages (`keapack
//! publish`): `inputs` reads the packages (strictly, through `debfile`, `control` and
//! `rpmfile`), `apt` and `dnf` write each format's tree, `sign` holds the key, `vercmp` orders
//! versions for `--keep`.

pub(crate) mod apt;
pub(crate) mod control;
pub(crate) mod debfile;
pub(crate) mod dnf;
pub mod inputs;
pub(crate) mod outlock;
pub(crate) mod record;
pub(crate) mod repo;
pub(crate) mod repostate;
pub(crate) mod rpmfile;
pub(crate) mod served;
pub(crate) mod sign;
pub(crate) mod switch;
pub(crate) mod vercmp;

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
pub(crate) use outlock::OutLock;

pub(crate) const SUMS: &str = "SHA256SUMS";

/// Create `out` if needed and write `name` in it atomically from `write`.
pub(crate) fn publish(out: &Path, name: &str, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<PathBuf> {
    let (tmp, dest) = stage(out, name, write)?;
    // An interrupted run publishes nothing: the temporary file goes away with `tmp`.
    crate::support::interrupt::check()?;
    tmp.persist(&dest).with_context(|| format!("cannot move the finished file to {}", dest.display()))?;
    Ok(dest)
}

/// Write what `name` in `out` will hold into a synced temporary file beside it (mode 0644),
/// ready to be renamed into place; `out` is created if needed. Dropping it removes it.
pub(crate) fn stage(out: &Path, name: &str, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<(tempfile::NamedTempFile, PathBuf)> {
    fs::create_dir_all(out).with_context(|| format!("cannot create the output directory {}", out.display()))?;
    let dest = out.join(name);
    let tmp = tempfile::Builder::new()
        .prefix(".keapack-")
        .suffix(".partial")
        .tempfile_in(out)
        .with_context(|| format!("cannot write in the output directory {}", out.display()))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        write(&mut w).with_context(|| format!("cannot write {}", dest.display()))?;
        w.flush().with_context(|| format!("cannot write {}", dest.display()))?;
    }
    tmp.as_file().sync_all().with_context(|| format!("cannot write {}", dest.display()))?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))?;
    Ok((tmp, dest))
}

use crate::support::digest::sha256_file;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_writer_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("dist");
        let err = publish(&out, "a.deb", |w| {
            w.write_all(b"half")?;
            anyhow::bail!("disk on fire")
        });
        assert!(err.is_err());
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "no partial file stays");
    }

    /// The output directory's lock, taken by this test alone.
    fn out_lock(out: &Path) -> OutLock {
        OutLock::take(out, |m| panic!("no other run holds {}: {m}", out.display())).unwrap()
    }

    /// The files of a directory and their bytes, sorted.
    fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = fs::read_dir(dir).unwrap().flatten().map(|e| (e.file_name().into_string().unwrap(), fs::read(e.path()).unwrap_or_default())).collect();
        v.sort();
        v
    }

    #[test]
    fn a_set_is_published_whole_with_sums_that_merge() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = out_lock(tmp.path());
        let mut set = OutputSet::begin(&lock).unwrap();
        set.write("a.deb", |w| Ok(w.write_all(b"abc")?)).unwrap();
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 2, "only the lock and the staging directory until the commit");
        assert!(!tmp.path().join("a.deb").exists());
        set.commit().unwrap();
        let mut set = OutputSet::begin(&lock).unwrap();
        set.write("b.rpm", |w| Ok(w.write_all(b"")?)).unwrap();
        let published = set.commit().unwrap();
        assert_eq!(published.files, [tmp.path().join("b.rpm")]);
        let text = fs::read_to_string(tmp.path().join(SUMS)).unwrap();
        assert_eq!(
            text,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.deb\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  b.rpm\n"
        );
        let names: Vec<String> = listing(tmp.path()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [outlock::LOCK, "SHA256SUMS", "a.deb", "b.rpm"], "no staging directory left; the lock is not in the sums");
    }

    /// Parallel writes start heaviest first, and the set lists the names in the order given.
    #[test]
    fn parallel_writes_start_heaviest_first_and_keep_the_names_order() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = out_lock(tmp.path());
        let mut set = OutputSet::begin(&lock).unwrap();
        let items: Vec<(String, u64)> = [("a.deb", 1), ("b.deb", 30), ("c.deb", 5), ("d.deb", 30)].iter().map(|(n, w)| (n.to_string(), *w)).collect();
        let started = std::sync::Mutex::new(Vec::new());
        let paths = set.write_parallel(&items, 1, |w| *w, |w, out| {
            started.lock().unwrap().push(*w);
            Ok(out.write_all(&w.to_le_bytes())?)
        }).unwrap();
        assert_eq!(started.into_inner().unwrap(), [30, 30, 5, 1], "one thread: heaviest first, ties in the order given");
        let names: Vec<String> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.deb", "b.deb", "c.deb", "d.deb"]);
        assert_eq!(set.names, ["a.deb", "b.deb", "c.deb", "d.deb"]);
    }

    #[test]
    fn a_set_dropped_before_its_commit_leaves_the_directory_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = out_lock(tmp.path());
        fs::write(tmp.path().join("a.deb"), b"earlier").unwrap();
        let before = listing(tmp.path());
        let mut set = OutputSet::begin(&lock).unwrap();
        set.write("a.deb", |w| Ok(w.write_all(b"newer")?)).unwrap();
        let err = set.write("b.deb", |w| {
            w.write_all(b"half")?;
            anyhow::bail!("disk on fire")
        });
        assert!(format!("{:#}", err.unwrap_err()).contains("disk on fire"));
        drop(set);
        assert_eq!(listing(tmp.path()), before);
    }

    #[test]
    fn a_name_is_written_once_per_set() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = out_lock(tmp.path());
        let mut set = OutputSet::begin(&lock).unwrap();
        set.write("a.deb", |w| Ok(w.write_all(b"1")?)).unwrap();
        let e = set.write("a.deb", |w| Ok(w.write_all(b"2")?)).unwrap_err().to_string();
        assert!(e.contains("would write a.deb twice"), "{e}");
        assert!(set.write(SUMS, |_| Ok(())).is_err(), "SHA256SUMS is the set's own");
    }

    #[test]
    fn a_failed_rename_puts_the_replaced_files_back() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = out_lock(tmp.path());
        fs::write(tmp.path().join("a.deb"), b"earlier a").unwrap();
        // A directory where b.deb goes: renaming a file over it fails.
        fs::create_dir(tmp.path().join("b.deb")).unwrap();
        fs::write(tmp.path().join("b.deb/keep"), b"x").unwrap();
        let before = listing(tmp.path());
        let mut set = OutputSet::begin(&lock).unwrap();
        set.write("a.deb", |w| Ok(w.write_all(b"newer a")?)).unwrap();
        set.write("b.deb", |w| Ok(w.write_all(b"newer b")?)).unwrap();
        let e = format!("{:#}", set.commit().unwrap_err());
        assert!(e.contains("cannot move b.deb") && e.contains("nothing was published: the earlier files are back in place"), "{e}");
        assert_eq!(listing(tmp.path()), before);
    }

    #[test]
    fn staging_left_by_a_dead_run_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = out_lock(tmp.path());
        // pid 0x7ffffffe is above the kernel's pid_max: no such process.
        let dead = tmp.path().join(format!("{STAGING_PREFIX}2147483646-abc"));
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("x.deb"), b"left over").unwrap();
        let alive = tmp.path().join(format!("{STAGING_PREFIX}{}-xyz", std::process::id()));
        fs::create_dir(&alive).unwrap();
        let set = OutputSet::begin(&lock).unwrap();
        assert!(!dead.exists() && alive.exists());
        drop(set);
    }
}

/// The staging directories' name prefix: `.keapack-staging-<pid>-<random>`.
const STAGING_PREFIX: &str = ".keapack-staging-";

/// A run's outputs, written into a staging directory inside `out` and published together,
/// under the output directory's lock.
#[derive(Debug)]
pub(crate) struct OutputSet<'a> {
    /// Held by the caller for as long as the set lives (and longer: until the outputs are announced).
    _lock: &'a OutLock,
    out: PathBuf,
    staging: Option<tempfile::TempDir>,
    /// File names in the set, in the order written.
    names: Vec<String>,
}

/// What `OutputSet::commit` put into the output directory.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    /// Every file of the set, in the order written, at its final path.
    pub files: Vec<PathBuf>,
    pub sums: PathBuf,
}

impl<'a> OutputSet<'a> {
    /// In the output directory `lock` holds: remove what killed runs left there, and make the
    /// staging directory.
    pub(crate) fn begin(lock: &'a OutLock) -> Result<OutputSet<'a>> {
        let out = lock.dir();
        fs::create_dir_all(out).with_context(|| format!("cannot create the output directory {}", out.display()))?;
        remove_abandoned_staging(out);
        let staging = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(out)
            .with_context(|| format!("cannot write in the output directory {}", out.display()))?;
        Ok(OutputSet { _lock: lock, out: out.to_path_buf(), staging: Some(staging), names: Vec::new() })
    }

    fn staging(&self) -> &Path {
        self.staging.as_ref().expect("a set is staged until it is committed").path()
    }

    /// Where `name` of the set lies until the set is committed.
    pub(crate) fn staged_path(&self, name: &str) -> PathBuf {
        self.staging().join(name)
    }

    /// Write `name` into the set; returns where it lies until the set is committed. A name is
    /// written once per set.
    pub fn write(&mut self, name: &str, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<PathBuf> {
        anyhow::ensure!(!self.names.iter().any(|n| n == name), "this run would write {name} twice into {}", self.out.display());
        anyhow::ensure!(name != SUMS && !name.starts_with('.') && !name.contains('/'), "'{name}' cannot be an output file name");
        let staged = publish(self.staging(), name, write).map_err(|e| e.context(format!("cannot write {}", self.out.join(name).display())))?;
        self.names.push(name.to_string());
        Ok(staged)
    }

    /// Write several files of the set at once, each on its own thread (at most `threads` at a
    /// time), with `write` making each one's bytes from its item; the names join the set in
    /// the order given, whatever order the writes finish in. Writes start heaviest first by
    /// `weight` (a payload's size), so that the largest is not left to run alone at the end.
    /// The first failure is returned after every started write has ended.
    pub fn write_parallel<T: Sync>(&mut self, items: &[(String, T)], threads: usize, weight: impl Fn(&T) -> u64, write: impl Fn(&T, &mut dyn Write) -> Result<()> + Sync) -> Result<Vec<PathBuf>> {
        for (i, (name, _)) in items.iter().enumerate() {
            anyhow::ensure!(!self.names.iter().any(|n| n == name) && !items[..i].iter().any(|(n, _)| n == name), "this run would write {name} twice into {}", self.out.display());
            anyhow::ensure!(name != SUMS && !name.starts_with('.') && !name.contains('/'), "'{name}' cannot be an output file name");
        }
        let staging = self.staging().to_path_buf();
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(weight(&items[i].1)));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Result<PathBuf>>>> = items.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..threads.clamp(1, items.len().max(1)) {
                s.spawn(|| {
                    while let Some(&i) = order.get(next.fetch_add(1, std::sync::atomic::Ordering::SeqCst)) {
                        let (name, item) = &items[i];
                        let done = publish(&staging, name, |w| write(item, w)).map_err(|e| e.context(format!("cannot write {}", self.out.join(name).display())));
                        let failed = done.is_err();
                        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(done);
                        if failed {
                            // The others stop taking new work.
                            next.store(items.len(), std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        let mut paths = Vec::new();
        for ((name, _), r) in items.iter().zip(results) {
            match r.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(Ok(path)) => {
                    self.names.push(name.clone());
                    paths.push(path);
                }
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
        anyhow::ensure!(paths.len() == items.len(), "the parallel writes stopped before writing every file");
        Ok(paths)
    }

    /// Publish the set: every file renamed into `out`, then `SHA256SUMS` (earlier entries whose
    /// files remain, plus the set's). Nothing is published when the run was interrupted.
    pub fn commit(mut self) -> Result<Published> {
        crate::support::interrupt::check()?;
        let staging = self.staging().to_path_buf();
        let staged: Vec<PathBuf> = self.names.iter().map(|n| staging.join(n)).collect();
        let sums_text = sums_after(&self.out, &staged)?;
        publish(&staging, SUMS, |w| Ok(w.write_all(sums_text.as_bytes())?))
            .map_err(|e| e.context(format!("cannot write {}", self.out.join(SUMS).display())))?;
        switch::sync_dir(&staging)?;
        crate::support::interrupt::check()?;

        switch::prepare(&self.out, &staging, &self.names, &earlier_sums(&self.out))?;
        crate::support::interrupt::check()?;
        // From here on the set is published: the journal's rename is the commit, and a kill
        // after it is finished by the next run (switch::recover).
        let dir = self.staging.take().expect("a set is staged until it is committed").keep();
        switch::switch(&self.out, &dir)?;
        let files = self.names.iter().map(|n| self.out.join(n)).collect();
        Ok(Published { files, sums: self.out.join(SUMS) })
    }
}

/// The entries of `out/SHA256SUMS` whose files still exist.
fn earlier_sums(out: &Path) -> BTreeMap<String, String> {
    let mut sums = BTreeMap::new();
    if let Ok(old) = fs::read_to_string(out.join(SUMS)) {
        for line in old.lines() {
            if let Some((sum, name)) = line.split_once("  ")
                && out.join(name).is_file()
            {
                sums.insert(name.to_string(), sum.to_string());
            }
        }
    }
    sums
}

/// The text of `out/SHA256SUMS` once `staged` (files in the staging directory) are published:
/// the earlier entries whose files still exist and are not replaced, and the new files' sums.
fn sums_after(out: &Path, staged: &[PathBuf]) -> Result<String> {
    let mut sums = earlier_sums(out);
    for f in staged {
        let name = f.file_name().and_then(|n| n.to_str()).context("output file names are UTF-8")?;
        sums.insert(name.to_string(), sha256_file(f)?);
    }
    Ok(sums.iter().map(|(name, sum)| format!("{sum}  {name}\n")).collect())
}

/// Remove staging directories whose run (named by its pid) is no longer alive.
fn remove_abandoned_staging(out: &Path) {
    let Ok(rd) = fs::read_dir(out) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING_PREFIX) else { continue };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<libc::pid_t>().ok()) else { continue };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

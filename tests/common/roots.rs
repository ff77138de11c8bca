//! Throwaway Debian 12 roots for the tests that install packages or run Kea: never the
//! developer's own `/`.
//!
//! The first test that needs one runs `debootstrap --variant=minbase bookworm` with the host's
//! own Debian mirror, installs Kea and socat in it, and keeps the result as one uncompressed
//! tarball under the cargo target directory (`target/keapack-test-roots/`), guarded by a file
//! lock so concurrent tests (and test binaries) build it once. Every test then unpacks its own
//! fresh copy, which takes about a second. The tarball's name carries the host's `kea-dev`
//! version: the fixture hooks are compiled against it, so the root's Kea must be the same
//! release, and an upgraded host gets a new root by itself.
//!
//! dpkg, rpm and Kea run in these roots without /proc, /sys or a bind-mounted /dev (debootstrap
//! creates the device nodes), so nothing is mounted into them. Each copy is unpacked into a
//! tmpfs of its own (the disk is much slower at writing and deleting 7,000 files), and
//! debootstrap mounts /proc and /sys inside its target while it works, unmounting them at the
//! end but not when interrupted. So before any root directory is deleted, whatever is mounted
//! under it is unmounted, and a directory whose mounts cannot be removed is left in place
//! rather than deleted across a mount point. Roots left by a killed test process are cleaned
//! up by the next one.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bump when the recipe below changes, so cached roots are rebuilt.
const RECIPE: u32 = 2;

/// A Debian release a test root is made of.
pub struct Release {
    pub suite: &'static str,
    /// The Kea its archive ships, when the root's Kea must be exactly the host's kea-dev (the
    /// fixture hooks are compiled against it): `None`; else the version the root must have.
    pub kea: Option<&'static str>,
}

/// Debian 12: its Kea must be the host's kea-dev release.
pub const BOOKWORM: &Release = &Release { suite: "bookworm", kea: None };
/// Debian 13, with Kea 2.6.3 and its path checks.
pub const TRIXIE: &Release = &Release { suite: "trixie", kea: Some("2.6.3") };
/// What the Kea root holds beyond minbase.
const KEA_PACKAGES: &[&str] = &["kea-dhcp4-server", "kea-dhcp6-server", "kea-ctrl-agent", "kea-dhcp-ddns-server", "socat"];

/// A directory to run things in with `chroot`; unmounts what is left under it and deletes it
/// on drop.
pub struct Root {
    dir: PathBuf,
}

impl Root {
    /// A fresh copy of the cached Debian 12 root with Kea 2.2 and socat installed, unpacked
    /// into a tmpfs of its own when the kernel lets us mount one (fast, and freed whole by the
    /// unmount on drop), else onto the disk.
    pub fn kea() -> Root {
        Root::kea_of(BOOKWORM)
    }

    /// A fresh copy of the cached root of `release` (Debian 12 or 13) with its own Kea and
    /// socat installed.
    pub fn kea_of(release: &Release) -> Root {
        let tar = kea_root_tarball(release);
        let root = Root::empty("kea-root-");
        let c = std::ffi::CString::new(root.dir.as_os_str().as_encoded_bytes()).unwrap();
        let _ = unsafe { libc::mount(c"tmpfs".as_ptr(), c.as_ptr(), c"tmpfs".as_ptr(), 0, c"mode=0755".as_ptr().cast()) };
        let st = Command::new("tar").arg("--numeric-owner").arg("-xf").arg(&tar).arg("-C").arg(&root.dir).status().unwrap();
        assert!(st.success(), "cannot unpack {}", tar.display());
        root
    }

    /// A fresh copy of the cached Debian 12 minbase root with no Kea in it (its apt sources and
    /// `policy-rc.d` as in the Kea root), cached like that one.
    pub fn plain() -> Root {
        Root::unpack(&root_tarball(BOOKWORM, false))
    }

    fn unpack(tar: &Path) -> Root {
        let root = Root::empty("plain-root-");
        let c = std::ffi::CString::new(root.dir.as_os_str().as_encoded_bytes()).unwrap();
        let _ = unsafe { libc::mount(c"tmpfs".as_ptr(), c.as_ptr(), c"tmpfs".as_ptr(), 0, c"mode=0755".as_ptr().cast()) };
        let st = Command::new("tar").arg("--numeric-owner").arg("-xf").arg(tar).arg("-C").arg(&root.dir).status().unwrap();
        assert!(st.success(), "cannot unpack {}", tar.display());
        root
    }

    /// A new empty directory under the cargo target directory, named after this process so
    /// that a later run can tell it was left behind (by a killed test) and clean it up.
    pub fn empty(prefix: &str) -> Root {
        require_root_user();
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(base).unwrap();
        remove_abandoned_roots(base);
        let dir = tempfile::Builder::new().prefix(&format!("{prefix}{}-", std::process::id())).tempdir_in(base).unwrap().keep();
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `rel` (a path inside the root, absolute or not) as a host path.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.join(rel.trim_start_matches('/'))
    }

    /// A command run inside the root: `chroot <root> <program>`.
    pub fn chroot(&self, program: &str) -> Command {
        chroot(&self.dir, program)
    }
}

fn chroot(dir: &Path, program: &str) -> Command {
    let mut cmd = Command::new("chroot");
    cmd.arg(dir).arg(program);
    cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").env("LC_ALL", "C.UTF-8");
    cmd
}

impl Drop for Root {
    fn drop(&mut self) {
        remove_unmounted(&self.dir);
    }
}

/// Open `path` and hold an exclusive flock(2) on it until the file is dropped (std's
/// `File::lock` would need a newer Rust than keapack's dependencies do).
pub fn lock_exclusive(path: &Path) -> File {
    use std::os::fd::AsRawFd;
    let f = File::create(path).unwrap_or_else(|e| panic!("cannot create the lock file {}: {e}", path.display()));
    while unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "cannot lock {}: {e}", path.display());
    }
    f
}

/// Remove the roots (`<kind>-root-<pid>-…`) of test processes that no longer run.
fn remove_abandoned_roots(base: &Path) {
    for e in fs::read_dir(base).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let Some((_, rest)) = name.split_once("-root-") else { continue };
        let Some(pid) = rest.split('-').next().and_then(|n| n.parse::<libc::pid_t>().ok()) else { continue };
        let gone = unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            remove_unmounted(&p);
        }
    }
}

/// Fail (never skip) when not root: chroot, debootstrap, dpkg and rpm into a root need it.
pub fn require_root_user() {
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test needs root: it runs chroot, debootstrap, dpkg --root and rpm --root in throwaway roots");
}

/// The cached Kea root tarball of `release`, built first if missing.
fn kea_root_tarball(release: &Release) -> PathBuf {
    root_tarball(release, true)
}

/// The cached root tarball of `release`, with Kea (`with_kea`) or without, built first if
/// missing.
fn root_tarball(release: &Release, with_kea: bool) -> PathBuf {
    require_root_user();
    super::require("tar", "tar");
    super::require("chroot", "coreutils");
    let kea = match release.kea {
        _ if !with_kea => "none".to_string(),
        None => host_kea_dev_version(),
        Some(_) => "archive".to_string(),
    };
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("keapack-test-roots");
    fs::create_dir_all(&cache).unwrap();
    let tar = cache.join(format!("{}-kea_{kea}_r{RECIPE}.tar", release.suite));
    let _lock = lock_exclusive(&cache.join(".lock"));
    if tar.is_file() {
        return tar;
    }
    // Holding the lock, any build directory (and its log) is a leftover of an earlier run.
    for e in fs::read_dir(&cache).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap().to_string_lossy().starts_with("build.") {
            if p.is_dir() { remove_unmounted(&p) } else { fs::remove_file(&p).unwrap() }
        }
    }
    let build = Root { dir: cache.join(format!("build.{}", std::process::id())) };
    let started = std::time::Instant::now();
    eprintln!("building the {} test root {} (debootstrap, once; cached afterwards)", release.suite, tar.display());
    bootstrap_kea_root(build.path(), release, &kea, if with_kea { KEA_PACKAGES } else { &[] });
    let part = cache.join(format!(".{}.part", tar.file_name().unwrap().to_string_lossy()));
    let st = Command::new("tar").arg("--numeric-owner").arg("-cf").arg(&part).arg("-C").arg(build.path()).arg(".").status().unwrap();
    assert!(st.success(), "cannot pack the test root into {}", part.display());
    fs::rename(&part, &tar).unwrap();
    eprintln!("test root ready in {:.0?}", started.elapsed());
    tar
}

/// debootstrap a minbase root of `release` into `dir` from the host's mirror, then install
/// `packages` (Kea's, or none for a plain root) in it.
fn bootstrap_kea_root(dir: &Path, release: &Release, host_kea: &str, packages: &[&str]) {
    super::require("debootstrap", "debootstrap");
    let sources = host_bookworm_sources();
    let mirror = &sources.iter().find(|(_, suite)| suite == "bookworm").expect("checked in host_bookworm_sources").0;
    let log = dir.with_extension("log");
    let out = Command::new("debootstrap").args(["--variant=minbase", release.suite]).arg(dir).arg(mirror).output().unwrap();
    fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat()).unwrap();
    // debootstrap unmounts its /proc and /sys itself; make sure, even when it failed.
    unmount_all_under(dir);
    assert!(out.status.success(), "debootstrap --variant=minbase {} {} {mirror} failed (the mirror is the host's); its output is in {}", release.suite, dir.display(), log.display());

    // The host's Debian suites (release, -updates, -security) with the release's name, so a
    // bookworm root's Kea is the release the host's kea-dev compiles the fixture hooks against.
    let list: String = sources.iter().map(|(uri, suite)| format!("deb {uri} {} main\n", suite.replacen("bookworm", release.suite, 1))).collect();
    fs::write(dir.join("etc/apt/sources.list"), list).unwrap();
    // No service starts inside the root when a package is installed (Debian's policy-rc.d).
    let policy = dir.join("usr/sbin/policy-rc.d");
    fs::write(&policy, "#!/bin/sh\nexit 101\n").unwrap();
    fs::set_permissions(&policy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    if packages.is_empty() {
        return;
    }
    let script = format!(
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {} \
         && apt-get clean && rm -rf /var/lib/apt/lists/*",
        packages.join(" ")
    );
    let out = chroot(dir, "sh").arg("-c").arg(&script).output().unwrap();
    unmount_all_under(dir);
    assert!(out.status.success(), "installing Kea in the test root failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let status = dir.join("var/lib/dpkg");
    let got = super::stdout(Command::new("dpkg-query").arg("--admindir").arg(&status).args(["-W", "-f", "${Version}", "kea-dhcp4-server"]));
    match release.kea {
        None => assert_eq!(got, host_kea, "the test root's Kea must be the release the host's kea-dev builds the fixture hooks for; upgrade the host (apt-get upgrade kea-dev) or check /etc/apt/sources.list"),
        Some(want) => assert!(got.starts_with(&format!("{want}-")), "the {} root's Kea is {got}, the tests expect {want}", release.suite),
    }
}

/// The host's kea-dev version (e.g. `2.2.0-6`).
fn host_kea_dev_version() -> String {
    let out = super::run(Command::new("dpkg-query").args(["-W", "-f", "${Version}", "kea-dev"]));
    assert!(out.status.success() && !out.stdout.is_empty(), "the Kea tests build the fixture hooks against Kea's headers: apt-get install kea-dev");
    String::from_utf8(out.stdout).unwrap()
}

/// `(uri, suite)` for every bookworm suite with `main` in the host's apt sources, in both
/// formats (`*.list` one-line entries, `*.sources` deb822 paragraphs). The entry for the
/// `bookworm` suite itself is the mirror debootstrap uses.
pub fn host_bookworm_sources() -> Vec<(String, String)> {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(rd) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        more.sort();
        files.extend(more);
    }
    let mut found = Vec::new();
    for f in files {
        let Ok(text) = fs::read_to_string(&f) else { continue };
        let name = f.to_string_lossy();
        if name.ends_with(".list") {
            found.extend(parse_one_line(&text));
        } else if name.ends_with(".sources") {
            found.extend(parse_deb822(&text));
        }
    }
    found.retain(|(_, suite)| suite == "bookworm" || suite.starts_with("bookworm-") || suite.starts_with("bookworm/"));
    found.dedup();
    assert!(
        found.iter().any(|(_, s)| s == "bookworm"),
        "no `deb <mirror> bookworm main` entry in /etc/apt/sources.list(.d): the test root is built from the host's Debian 12 mirror"
    );
    found
}

pub fn parse_one_line(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        let mut words = line.split_whitespace().peekable();
        if words.next() != Some("deb") {
            continue;
        }
        if words.peek().is_some_and(|w| w.starts_with('[')) {
            // Options: `[a=b c=d]`, possibly over several words.
            for w in words.by_ref() {
                if w.ends_with(']') {
                    break;
                }
            }
        }
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else { continue };
        if words.any(|c| c == "main") {
            out.push((uri.to_string(), suite.to_string()));
        }
    }
    out
}

pub fn parse_deb822(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        let mut fields = BTreeMap::new();
        for line in para.lines().filter(|l| !l.starts_with('#')) {
            if let Some((k, v)) = line.split_once(':')
                && !line.starts_with(' ')
            {
                fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let words = |k: &str| fields.get(k).map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
        if !words("types").iter().any(|t| t == "deb") || fields.get("enabled").is_some_and(|v| v == "no") || !words("components").iter().any(|c| c == "main") {
            continue;
        }
        for uri in words("uris") {
            for suite in words("suites") {
                out.push((uri.clone(), suite));
            }
        }
    }
    out
}

/// Mount points at or under `dir`, deepest first (from /proc/self/mountinfo).
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
    found
}

/// Unmount (lazily) everything mounted at or under `dir`.
pub fn unmount_all_under(dir: &Path) {
    for m in mounts_under(dir) {
        let c = std::ffi::CString::new(m.as_os_str().as_encoded_bytes()).unwrap();
        if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
            eprintln!("warning: cannot unmount {}: {}", m.display(), std::io::Error::last_os_error());
        }
    }
}

/// Delete `dir`, but only once nothing is mounted under it: never recurse into a mount.
fn remove_unmounted(dir: &Path) {
    unmount_all_under(dir);
    let left = mounts_under(dir);
    if !left.is_empty() {
        eprintln!("warning: keeping {}: still mounted there: {left:?}", dir.display());
        return;
    }
    if let Err(e) = fs::remove_dir_all(dir)
        && dir.exists()
    {
        eprintln!("warning: cannot remove {}: {e}", dir.display());
    }
}

/// Every entry under `dir` (not following symbolic links) with its type, mode, owner and size
/// or link target, minus the paths under `skip` (relative, e.g. `var/log`). Two snapshots are
/// equal when nothing was added, removed or changed in kind, permissions, ownership or size.
pub fn snapshot(dir: &Path, skip: &[&str]) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, skip: &[&str], out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if skip.iter().any(|s| rel == *s || rel.starts_with(&format!("{s}/"))) {
                continue;
            }
            let m = fs::symlink_metadata(&p).unwrap();
            let what = if m.is_symlink() {
                format!("link -> {}", fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                "dir".to_string()
            } else {
                format!("size {}", m.len())
            };
            out.insert(rel, format!("{:o} {}:{} {what}", m.mode(), m.uid(), m.gid()));
            if m.is_dir() {
                walk(base, &p, skip, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, skip, &mut out);
    out
}

/// What differs between two snapshots, one line per path (`+` added, `-` removed, `~` changed).
pub fn snapshot_diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let mut diff = Vec::new();
    for (p, a) in after {
        match before.get(p) {
            None => diff.push(format!("+ {p} ({a})")),
            Some(b) if b != a => diff.push(format!("~ {p} ({b} -> {a})")),
            _ => {}
        }
    }
    diff.extend(before.keys().filter(|p| !after.contains_key(*p)).map(|p| format!("- {p}")));
    diff
}

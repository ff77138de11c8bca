//! Paths beneath a directory, resolved as the kernel resolves them and never by lexical `..`
//! arithmetic.
//!
//! [`resolve`] walks a path (a link's text, or a name) component by component from a directory
//! descriptor: each name is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)`, a directory is entered
//! with `openat(O_NOFOLLOW | O_DIRECTORY)`, a symlink met on the way is read with `readlinkat`
//! and its text resolved in turn, `..` steps back to the descriptor of the parent. The walk is
//! refused when it leaves the directory (`..` above it, or an absolute target), follows more
//! than 40 links (Linux's own limit: a loop), or passes through a component that is missing or
//! not a directory; a missing last component is where it lands. `source::links` checks every
//! link of an unpacked input with it.
//!
//! [`open`] opens a file named relative to a directory without leaving it: the files a manifest
//! names (`package.changelog`) and the files of a templates directory. On Linux it is
//! `openat2(2)` with `RESOLVE_BENEATH`: the kernel refuses a path that leaves the directory by
//! `..`, an absolute path or a symbolic link, with no window between a check and the open.
//! Where `openat2` is missing (Linux before 5.6, or a seccomp filter that refuses it), the
//! fallback resolves the name with [`resolve`] and opens what it lands on without following a
//! last link.

use crate::support::text;
use std::collections::VecDeque;
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Linux follows at most this many links in one path lookup (MAXSYMLINKS).
pub(crate) const MAX_HOPS: usize = 40;

/// Path components one input's links may take to resolve, all together: a Kea release takes a
/// few thousand.
pub(crate) const LOOKUPS: u64 = 20_000_000;

/// Why a link cannot stay: its resolution left the destination, looped, or broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Escape {
    /// The target (or a link followed on the way, `via`) is an absolute path.
    Absolute { via: Option<(PathBuf, PathBuf)> },
    /// `..` climbed above the destination; `via`: the last link followed before, with its text.
    Leaves { via: Option<(PathBuf, PathBuf)> },
    /// More than [`MAX_HOPS`] links followed.
    Loop,
    /// A component the resolution passes through does not exist.
    Missing(PathBuf),
    /// A component the resolution passes through is a file, not a directory.
    NotDir(PathBuf),
    /// The input's links together take more than [`LOOKUPS`] lookups to resolve.
    Budget,
    /// The file system said no (permissions, I/O).
    Io(String),
}

impl Escape {
    /// The rule broken, as a phrase after "links to 'X', …"; `scope` names the destination.
    pub fn why(&self, scope: &str) -> String {
        let via = |v: &Option<(PathBuf, PathBuf)>| match v {
            Some((link, to)) => format!(" once the link '{}' (to '{}') is followed", text::path(link), text::path(to)),
            None => String::new(),
        };
        match self {
            Escape::Absolute { via: None } => format!("outside {scope} (an absolute link)"),
            Escape::Absolute { via: v } => format!("which is outside {scope}: an absolute link is reached{}", via(v)),
            Escape::Leaves { via: v @ None } => format!("outside {scope}{}", via(v)),
            Escape::Leaves { via: v } => format!("which leaves {scope}{} (resolved link by link, as the kernel will)", via(v)),
            Escape::Loop => format!("which follows more than {MAX_HOPS} links (a loop)"),
            Escape::Missing(p) => format!("through '{}', which does not exist in the input", text::path(p)),
            Escape::NotDir(p) => format!("through '{}', which is not a directory", text::path(p)),
            Escape::Budget => format!("and the input's links together take more than {LOOKUPS} lookups to resolve (a link bomb)"),
            Escape::Io(e) => format!("which cannot be resolved ({e})"),
        }
    }
}

/// One step of a path still to walk.
enum Part {
    Up,
    Name(OsString),
}

fn parts(path: &Path) -> std::result::Result<Vec<Part>, ()> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(Part::Name(n.to_os_string())),
            Component::ParentDir => out.push(Part::Up),
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(()),
        }
    }
    Ok(out)
}

fn cstr(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a name holding a NUL byte"))
}

fn open_dir_at(parent: &OwnedFd, name: &OsStr) -> io::Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: a valid descriptor and a NUL-terminated name; the result is checked.
    let fd = unsafe { libc::openat(parent.as_raw_fd(), c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The kind of `name` in `parent`, without following it.
fn kind_at(parent: &OwnedFd, name: &OsStr) -> io::Result<libc::mode_t> {
    let c = cstr(name)?;
    // SAFETY: zeroed `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, NUL-terminated name, a writable stat buffer.
    if unsafe { libc::fstatat(parent.as_raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.st_mode & libc::S_IFMT)
}

fn read_link_at(parent: &OwnedFd, name: &OsStr) -> io::Result<PathBuf> {
    let c = cstr(name)?;
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: valid descriptor and name; `buf` is writable for its length.
        let n = unsafe { libc::readlinkat(parent.as_raw_fd(), c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(PathBuf::from(OsStr::from_bytes(&buf)));
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// Open `root` itself (it is keapack's own directory: following links to it is fine).
fn open_root(root: &Path) -> io::Result<OwnedFd> {
    let c = cstr(root.as_os_str())?;
    // SAFETY: NUL-terminated path; the result is checked.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: just opened, owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Resolve `target`, the text of a symlink in the directory `from` (relative to `root`, made
/// of real directories), beneath `root` as the kernel will. Returns where it lands, relative
/// to `root`.
pub(crate) fn resolve(root: &Path, from: &Path, target: &Path) -> std::result::Result<PathBuf, Escape> {
    let mut unlimited = u64::MAX;
    resolve_counted(root, from, target, &mut unlimited)
}

/// [`resolve`], counting each component looked at against `budget` (a link bomb: many links,
/// each a long chain, would otherwise cost billions of lookups).
pub(crate) fn resolve_counted(root: &Path, from: &Path, target: &Path, budget: &mut u64) -> std::result::Result<PathBuf, Escape> {
    let io_err = |e: io::Error| Escape::Io(e.to_string());
    let mut pending: VecDeque<Part> = VecDeque::new();
    pending.extend(parts(from).map_err(|_| Escape::Io("the link's directory is not relative".into()))?);
    pending.extend(parts(target).map_err(|_| Escape::Absolute { via: None })?);
    let mut fds = vec![open_root(root).map_err(io_err)?];
    let mut names: Vec<OsString> = Vec::new();
    let mut hops = 0;
    let mut via: Option<(PathBuf, PathBuf)> = None;
    while let Some(part) = pending.pop_front() {
        if *budget == 0 {
            return Err(Escape::Budget);
        }
        *budget -= 1;
        let name = match part {
            Part::Up => {
                if names.pop().is_none() {
                    return Err(Escape::Leaves { via });
                }
                fds.pop();
                continue;
            }
            Part::Name(n) => n,
        };
        let here: PathBuf = names.iter().collect::<PathBuf>().join(&name);
        let dir = fds.last().expect("the root stays");
        let kind = match kind_at(dir, &name) {
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if pending.is_empty() {
                    return Ok(here);
                }
                return Err(Escape::Missing(here));
            }
            Err(e) => return Err(io_err(e)),
        };
        match kind {
            libc::S_IFLNK => {
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(Escape::Loop);
                }
                let text = read_link_at(dir, &name).map_err(io_err)?;
                via = Some((here, text.clone()));
                match parts(&text) {
                    Ok(more) => {
                        for p in more.into_iter().rev() {
                            pending.push_front(p);
                        }
                    }
                    Err(()) => return Err(Escape::Absolute { via }),
                }
            }
            libc::S_IFDIR => {
                if !pending.is_empty() {
                    fds.push(open_dir_at(dir, &name).map_err(io_err)?);
                }
                names.push(name);
            }
            _ if pending.is_empty() => return Ok(here),
            _ => return Err(Escape::NotDir(here)),
        }
    }
    Ok(names.iter().collect())
}

use std::fs::File;
use std::io::Read;

/// Why a file was not opened. The message names the paths, never the file's content.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The path leaves the directory (`..`, absolute, or a symbolic link pointing out).
    Outside { dir: PathBuf, name: String },
    Io { path: PathBuf, error: std::io::Error },
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Outside { dir, name } => write!(
                f,
                "{name} leaves {} (through .., an absolute path or a symbolic link): keep the file in that directory or below it",
                dir.display()
            ),
            Refused::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for Refused {}

/// Open `name` beneath `dir` for reading.
pub(crate) fn open(dir: &Path, name: &str) -> Result<File, Refused> {
    match open_beneath(dir, name) {
        Some(Ok(f)) => Ok(f),
        Some(Err(e)) if e.raw_os_error() == Some(libc::EXDEV) || e.raw_os_error() == Some(libc::ELOOP) => {
            Err(Refused::Outside { dir: dir.to_path_buf(), name: name.to_string() })
        }
        Some(Err(e)) => Err(Refused::Io { path: dir.join(name), error: e }),
        None => open_checked(dir, name),
    }
}

/// Read `name` beneath `dir` as UTF-8 text.
pub(crate) fn read_to_string(dir: &Path, name: &str) -> Result<String, Refused> {
    let mut f = open(dir, name)?;
    let mut text = String::new();
    f.read_to_string(&mut text).map_err(|error| Refused::Io { path: dir.join(name), error })?;
    Ok(text)
}

/// `openat2(dirfd, name, O_RDONLY, RESOLVE_BENEATH)`; `None` when the kernel has no openat2.
#[cfg(target_os = "linux")]
fn open_beneath(dir: &Path, name: &str) -> Option<std::io::Result<File>> {
    use std::ffi::CString;
    use std::os::fd::{AsRawFd, FromRawFd};
    let dir_file = match File::open(dir) {
        Ok(f) => f,
        Err(e) => return Some(Err(e)),
    };
    let Ok(c_name) = CString::new(name.as_bytes()) else {
        return Some(Err(std::io::Error::from_raw_os_error(libc::EINVAL)));
    };
    /// `struct open_how` of openat2(2).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow { flags: (libc::O_RDONLY | libc::O_CLOEXEC) as u64, mode: 0, resolve: libc::RESOLVE_BENEATH };
    // SAFETY: the pointers are valid for the call; the size is that of the struct passed.
    let fd = unsafe { libc::syscall(libc::SYS_openat2, dir_file.as_raw_fd(), c_name.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>()) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOSYS) | Some(libc::EPERM) => None,
            _ => Some(Err(e)),
        };
    }
    // SAFETY: the kernel returned a new descriptor this File now owns.
    Some(Ok(unsafe { File::from_raw_fd(fd as i32) }))
}

#[cfg(not(target_os = "linux"))]
fn open_beneath(_dir: &Path, _name: &str) -> Option<std::io::Result<File>> {
    None
}

/// The fallback: resolve the name beneath `dir` link by link, then open where it lands without
/// following a last link (one made after the walk would be refused, not followed).
fn open_checked(dir: &Path, name: &str) -> Result<File, Refused> {
    let outside = || Refused::Outside { dir: dir.to_path_buf(), name: name.to_string() };
    let landed = match resolve(dir, Path::new(""), Path::new(name)) {
        Ok(p) => p,
        Err(Escape::Absolute { .. } | Escape::Leaves { .. } | Escape::Loop | Escape::Budget) => return Err(outside()),
        Err(Escape::Missing(_) | Escape::NotDir(_)) => {
            return Err(Refused::Io { path: dir.join(name), error: io::Error::from(io::ErrorKind::NotFound) });
        }
        Err(Escape::Io(e)) => return Err(Refused::Io { path: dir.join(name), error: io::Error::other(e) }),
    };
    let full = dir.join(&landed);
    let mut options = fs::OpenOptions::new();
    std::os::unix::fs::OpenOptionsExt::custom_flags(options.read(true), libc::O_NOFOLLOW);
    options
        .open(&full)
        .map_err(|e| if e.raw_os_error() == Some(libc::ELOOP) { outside() } else { Refused::Io { path: full.clone(), error: e } })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A destination three directories deep, with a file, and a victim directory beside it.
    pub(crate) fn tree() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("a/b/root");
        fs::create_dir_all(root.join("d1/d2/d3")).unwrap();
        fs::create_dir_all(tmp.path().join("a/victim/premium")).unwrap();
        fs::write(root.join("file"), "x").unwrap();
        (tmp, root)
    }

    #[test]
    fn plain_targets_resolve_or_leave() {
        let (_tmp, root) = tree();
        assert_eq!(resolve(&root, Path::new("d1/d2"), Path::new("../file")), Ok(PathBuf::from("d1/file")));
        assert_eq!(resolve(&root, Path::new("d1"), Path::new("d2/d3/../..")), Ok(PathBuf::from("d1")));
        assert_eq!(resolve(&root, Path::new(""), Path::new("..")), Err(Escape::Leaves { via: None }));
        assert_eq!(resolve(&root, Path::new("d1"), Path::new("/etc")), Err(Escape::Absolute { via: None }));
        assert_eq!(resolve(&root, Path::new(""), Path::new("new-file")), Ok(PathBuf::from("new-file")), "a missing last component stays");
        assert_eq!(resolve(&root, Path::new(""), Path::new("gone/../file")), Err(Escape::Missing(PathBuf::from("gone"))));
        assert_eq!(resolve(&root, Path::new(""), Path::new("file/x")), Err(Escape::NotDir(PathBuf::from("file"))));
    }

    #[test]
    fn a_chain_that_stays_inside_lexically_but_leaves_once_followed_is_caught() {
        let (_tmp, root) = tree();
        // s, three levels down, climbs back to the root: harmless on its own.
        let deep = root.join("d1/d2/d3");
        symlink("../../..", deep.join("s")).unwrap();
        // Lexically d1/d2/d3/s/../../victim is d1/d2/victim; followed, it is root/../../victim.
        let text = Path::new("d1/d2/d3/s/../../victim");
        let got = resolve(&root, Path::new(""), text);
        assert_eq!(got, Err(Escape::Leaves { via: Some((PathBuf::from("d1/d2/d3/s"), PathBuf::from("../../.."))) }));
        assert_eq!(resolve(&root, Path::new(""), Path::new("d1/d2/d3/s")), Ok(PathBuf::new()));
    }

    #[test]
    fn loops_and_absolute_links_on_the_way_are_refused() {
        let (_tmp, root) = tree();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        assert_eq!(resolve(&root, Path::new(""), Path::new("a")), Err(Escape::Loop));
        symlink("/tmp", root.join("abs")).unwrap();
        assert!(matches!(resolve(&root, Path::new(""), Path::new("abs/x")), Err(Escape::Absolute { via: Some(_) })));
        // 40 links in a row are followed; 41 are a loop.
        for i in 0..41 {
            symlink(format!("c{}", i + 1), root.join(format!("c{i}"))).unwrap();
        }
        assert_eq!(resolve(&root, Path::new(""), Path::new("c1")), Ok(PathBuf::from("c41")));
        assert_eq!(resolve(&root, Path::new(""), Path::new("c0")), Err(Escape::Loop));
        // Many such links together run out of lookups before they cost billions.
        let mut budget = 30;
        assert_eq!(resolve_counted(&root, Path::new(""), Path::new("c1"), &mut budget), Err(Escape::Budget));
    }


    #[test]
    fn files_beneath_open_and_others_are_refused_without_their_content() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("m");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.toml"), "in").unwrap();
        std::fs::write(tmp.path().join("secret"), "SECRET CONTENT").unwrap();
        std::os::unix::fs::symlink("../secret", dir.join("link")).unwrap();
        std::os::unix::fs::symlink("a.toml", dir.join("sub/inner")).unwrap();
        for f in [read_to_string, |d: &Path, n: &str| open_checked(d, n).map(|mut f| { let mut s = String::new(); f.read_to_string(&mut s).unwrap(); s })] {
            assert_eq!(f(&dir, "sub/a.toml").unwrap(), "in");
            assert_eq!(f(&dir, "sub/inner").unwrap(), "in");
            for bad in ["../secret", "link", "sub/../../secret"] {
                let e = f(&dir, bad).unwrap_err();
                assert!(matches!(e, Refused::Outside { .. }), "{bad}: {e}");
                assert!(!e.to_string().contains("SECRET"), "{e}");
            }
            let abs = tmp.path().join("secret");
            assert!(f(&dir, abs.to_str().unwrap()).is_err());
            assert!(matches!(f(&dir, "missing"), Err(Refused::Io { .. })));
        }
    }
}

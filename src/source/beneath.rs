//! Links in an unpacked input, resolved beneath its destination the way the kernel will.
//!
//! A link's text says little on its own: `d1/…/d10/s/../../../x` stays inside when `..` is
//! applied to the text, and leaves once `s` (itself harmless-looking) is followed. So every
//! symlink is resolved component by component from a directory descriptor of the destination:
//! each name is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)`, a directory is entered with
//! `openat(O_NOFOLLOW | O_DIRECTORY)`, a symlink met on the way is read with `readlinkat` and its
//! text resolved in turn, `..` steps back to the descriptor of the parent. A link is refused when
//! that walk leaves the destination (`..` above it, or an absolute target), follows more than
//! 40 links (Linux's own limit: a loop), or passes through a component that is missing or not a
//! directory. A link whose last component is missing is kept: whatever is made through it later
//! lands inside.
//!
//! `check_links` runs on a whole unpacked tree before any of it is moved or read through a link.

use crate::support::text;
use anyhow::{Result, bail};
use std::collections::VecDeque;
use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Linux follows at most this many links in one path lookup (MAXSYMLINKS).
pub const MAX_HOPS: usize = 40;

/// Path components one input's links may take to resolve, all together: a Kea release takes a
/// few thousand.
pub const LOOKUPS: u64 = 20_000_000;

/// Why a link cannot stay: its resolution left the destination, looped, or broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
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
pub fn resolve(root: &Path, from: &Path, target: &Path) -> std::result::Result<PathBuf, Escape> {
    let mut unlimited = u64::MAX;
    resolve_counted(root, from, target, &mut unlimited)
}

/// [`resolve`], counting each component looked at against `budget` (a link bomb: many links,
/// each a long chain, would otherwise cost billions of lookups).
fn resolve_counted(root: &Path, from: &Path, target: &Path, budget: &mut u64) -> std::result::Result<PathBuf, Escape> {
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

/// Every symlink under `root` (not following any), by path relative to it, with its text.
pub fn symlinks(root: &Path) -> io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(root.join(&rel))?.collect::<io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let kind = e.file_type()?;
            let path = rel.join(e.file_name());
            if kind.is_symlink() {
                found.push((path.clone(), fs::read_link(e.path())?));
            } else if kind.is_dir() {
                todo.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Refuse the first symlink under `root` whose resolution leaves `root` (or loops, or breaks).
/// `input` names the archive or directory it came from; `shown` is `root`'s path inside the
/// input (entries are named by it); `scope` names `root` in the error ("the destination",
/// "premium/").
pub fn check_links(root: &Path, input: &Path, shown: &Path, scope: &str) -> Result<()> {
    let links = symlinks(root).map_err(|e| anyhow::anyhow!("cannot list the links of {}: {e}", text::path(root)))?;
    let mut budget = LOOKUPS;
    for (rel, target) in links {
        let from = rel.parent().unwrap_or(Path::new(""));
        if let Err(escape) = resolve_counted(root, from, &target, &mut budget) {
            bail!(
                "refusing {}: entry '{}' links to '{}', {}. keapack resolves every link of an input beneath {scope} before anything is moved or built, and refuses one that leaves it, loops or breaks; remove the link from the input or make it point inside {scope}",
                text::path(input),
                text::path(&shown.join(&rel)),
                text::path(&target),
                escape.why(scope),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, PathBuf) {
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
        let lexical = crate::source::extract::safe_relative(text);
        assert_eq!(lexical, Some(PathBuf::from("d1/d2/victim")), "the text stays inside lexically");
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
    fn check_links_names_the_input_entry_rule_and_fix() {
        let (_tmp, root) = tree();
        symlink("../../..", root.join("d1/d2/d3/s")).unwrap();
        symlink("d1/d2/d3/s/../../victim", root.join("wrapper")).unwrap();
        let err = check_links(&root, Path::new("kea-premium-2.2.0.tar.gz"), Path::new(""), "the destination").unwrap_err().to_string();
        assert!(err.starts_with("refusing kea-premium-2.2.0.tar.gz: entry 'wrapper' links to 'd1/d2/d3/s/../../victim', which leaves the destination once the link 'd1/d2/d3/s'"), "{err}");
        assert!(err.contains("remove the link from the input"), "{err}");
        fs::remove_file(root.join("wrapper")).unwrap();
        check_links(&root, Path::new("x"), Path::new(""), "the destination").unwrap();
    }
}

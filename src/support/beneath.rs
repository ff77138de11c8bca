//! Opening a file named relative to a directory without leaving that directory: the files a
//! manifest names (`package.changelog`) and the files of a templates directory.
//!
//! On Linux the file is opened with `openat2(2)` and `RESOLVE_BENEATH`: the kernel refuses a
//! path that leaves the directory by `..`, by an absolute path or through a symbolic link,
//! with no window between a check and the open. Where `openat2` is missing (Linux before 5.6,
//! or a seccomp filter that refuses it), the fallback resolves the path (`canonicalize`) and
//! checks that it still lies under the resolved directory.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a file was not opened. The message names the paths, never the file's content.
#[derive(Debug)]
pub enum Refused {
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
pub fn open(dir: &Path, name: &str) -> Result<File, Refused> {
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
pub fn read_to_string(dir: &Path, name: &str) -> Result<String, Refused> {
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

/// The fallback: resolve both and check the prefix.
fn open_checked(dir: &Path, name: &str) -> Result<File, Refused> {
    let outside = || Refused::Outside { dir: dir.to_path_buf(), name: name.to_string() };
    if Path::new(name).is_absolute() {
        return Err(outside());
    }
    let io = |path: PathBuf| move |error| Refused::Io { path, error };
    let base = dir.canonicalize().map_err(io(dir.to_path_buf()))?;
    let full = dir.join(name).canonicalize().map_err(io(dir.join(name)))?;
    if !full.starts_with(&base) {
        return Err(outside());
    }
    File::open(&full).map_err(io(full.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! The whole staged Kea of a full build, for Kea's own packages (`runtime = "own"`): every
//! file, symbolic link and directory `make install` (or `meson install`) wrote into the stage,
//! with the ELF files stripped as the hooks are.
//!
//! The stage is keapack's own build output, but it is still read without following links: a
//! link is recorded by what it says, never opened, and only regular files become package
//! contents.

use crate::support::elf;
use crate::support::runner::Runner;
use anyhow::{Context, Result, bail};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One thing the build installed, by its absolute install path (`/usr/sbin/kea-dhcp4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub path: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A regular file: where it lies in the stage, its permission bits, and its ELF machine when
    /// it is an ELF object (a program or a library).
    File { source: PathBuf, mode: u32, elf: Option<String> },
    /// A symbolic link and what it says.
    Link { target: String },
    /// A directory (empty ones matter: `/var/lib/kea`).
    Dir { mode: u32 },
}

/// Whether the file starts with the ELF magic.
fn is_elf(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let n = f.read(&mut magic)?;
    Ok(n == 4 && magic == *b"\x7fELF")
}

/// Everything under `stage`, sorted by install path. With a runner to `strip` with, every ELF
/// file not in `stripped` (the hooks the hook inventory stripped already) is stripped in place
/// with the hooks' arguments; a stage restored from the build cache is stripped already (none).
pub(crate) fn inventory(stage: &Path, stripped: &[PathBuf], mut strip: Option<&mut Runner>) -> Result<Vec<Installed>> {
    let mut out = Vec::new();
    let mut stack = vec![stage.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = path.strip_prefix(stage).expect("beneath the stage");
            let Some(rel) = rel.to_str() else {
                bail!("the build installed a file whose name is not UTF-8: {}", crate::support::text::path(&path));
            };
            if rel.chars().any(char::is_control) {
                bail!("the build installed a file whose name holds a control character: {}", crate::support::text::path(&path));
            }
            let install = format!("/{rel}");
            let meta = fs::symlink_metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let t = meta.file_type();
            let kind = if t.is_symlink() {
                let target = fs::read_link(&path)?;
                let Some(target) = target.to_str() else { bail!("the link {install} the build installed points at a name that is not UTF-8") };
                Kind::Link { target: target.to_string() }
            } else if t.is_dir() {
                stack.push(path.clone());
                Kind::Dir { mode: meta.mode() & 0o7777 }
            } else if t.is_file() {
                let elf = if is_elf(&path)? {
                    if let Some(runner) = strip.as_deref_mut()
                        && !stripped.contains(&path)
                    {
                        // Make the file writable for strip, as an installed 0555 program is not.
                        let mode = meta.permissions().mode();
                        if mode & 0o200 == 0 {
                            fs::set_permissions(&path, fs::Permissions::from_mode(mode | 0o200))?;
                        }
                        let name = rel.rsplit('/').next().unwrap_or(rel);
                        runner.run(&format!("strip {name}"), &format!("strip-runtime-{}", rel.replace('/', "-")), Command::new("strip").args(super::STRIP_ARGS).arg(&path))?;
                        if mode & 0o200 == 0 {
                            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
                        }
                    }
                    Some(elf::machine(&path)?)
                } else {
                    None
                };
                Kind::File { source: path.clone(), mode: fs::symlink_metadata(&path)?.mode() & 0o7777, elf }
            } else {
                bail!("the build installed {install}, which is neither a file, a directory nor a symbolic link");
            };
            out.push(Installed { path: install, kind });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_links_and_directories_are_read_without_following_links() {
        let d = tempfile::tempdir().unwrap();
        let s = &d.path().join("stage");
        fs::create_dir_all(s.join("usr/sbin")).unwrap();
        fs::create_dir_all(s.join("var/lib/kea")).unwrap();
        fs::write(s.join("usr/sbin/keactrl"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(s.join("usr/sbin/keactrl"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", s.join("usr/sbin/evil")).unwrap();
        let mut runner = Runner::new(&d.path().join("logs"), Vec::new(), crate::support::listener::Human::channel(true)).unwrap();
        let got = inventory(s, &[], Some(&mut runner)).unwrap();
        let shown: Vec<(String, String)> = got
            .iter()
            .map(|i| {
                let k = match &i.kind {
                    Kind::File { mode, elf, .. } => format!("file {mode:o} {elf:?}"),
                    Kind::Link { target } => format!("link {target}"),
                    Kind::Dir { .. } => "dir".to_string(),
                };
                (i.path.clone(), k)
            })
            .collect();
        let want = [
            ("/usr", "dir"),
            ("/usr/sbin", "dir"),
            ("/usr/sbin/evil", "link /etc/shadow"),
            ("/usr/sbin/keactrl", "file 755 None"),
            ("/var", "dir"),
            ("/var/lib", "dir"),
            ("/var/lib/kea", "dir"),
        ];
        assert_eq!(shown, want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
        // A name with a newline would become a package path and a conffiles line: refused.
        fs::write(s.join("usr/sbin/two\nlines"), "x").unwrap();
        let e = inventory(s, &[], None).unwrap_err().to_string();
        assert!(e.contains("control character"), "{e}");
    }
}

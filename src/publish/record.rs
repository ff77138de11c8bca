//! The build record: a JSON file next to the packages, in the spirit of Debian's `.buildinfo`,
//! that says what went in and what came out well enough to repeat the build and compare.
//!
//! It names inputs by file name and SHA-256, the Kea version and build system, the epoch and
//! where it came from, the exact configure arguments, the normalised environment (the build
//! directory written as `$BUILD_DIR`), the tool versions, the packaging decisions, and the
//! SHA-256 and size of every package. It is itself reproducible: no time of day, no host or
//! user name, no path of the work or output directory, nothing that varies with `--jobs`. Two
//! builds of the same inputs on equivalent hosts write the same record, byte for byte.

use crate::support::digest::{hex, sha256_file};
use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::Command;

/// Bumped when a field changes meaning or disappears.
pub(crate) const RECORD_FORMAT: u32 = 2;

/// The record's file name: `<package>_<kea version>-<revision>.keapack-buildinfo.json`.
pub(crate) fn file_name(package: &str, kea_version: &str, revision: &str) -> String {
    format!("{package}_{kea_version}-{revision}.keapack-buildinfo.json")
}

/// Everything the record says, in the order it says it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct BuildRecord {
    pub record_format: u32,
    pub keapack_version: String,
    pub inputs: Vec<Input>,
    pub kea: Kea,
    /// The one timestamp of every output (seconds since 1970-01-01 UTC).
    pub epoch: u64,
    pub epoch_source: EpochSource,
    pub build: Build,
    pub host: Host,
    /// Every build of the run: the host or a root of a release, with the targets it served.
    pub environments: Vec<Environment>,
    /// First line of each tool's `--version`, run in the build environment.
    pub tools: BTreeMap<String, String>,
    pub packaging: Packaging,
    pub outputs: Vec<Output>,
    /// With `--verify-load`: each target's load verification (verified, against which daemon,
    /// the log lines and commands that proved it; or why it was not verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Vec<serde_json::Value>>,
}

/// Where the epoch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EpochSource {
    /// The `SOURCE_DATE_EPOCH` environment variable.
    SourceDateEpoch,
    /// The newest entry time in the inputs (tarball headers, or file times of a directory).
    Inputs,
    /// Fixed by the command (`keapack demo`'s built-in date).
    Fixed,
}

/// One input, by name and content.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Input {
    /// `kea` or `premium`.
    pub role: String,
    /// The file or directory name, without its directory.
    pub name: String,
    /// `archive` or `directory`.
    pub kind: String,
    /// An archive's SHA-256; for a directory, see [`directory_digest`].
    pub sha256: String,
    /// An archive's size in bytes; for a directory, the number of regular files.
    pub size: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Kea {
    pub version: String,
    pub build_system: crate::source::BuildSystem,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Build {
    /// What `$BUILD_DIR` in the arguments and environment stands for.
    pub build_dir: String,
    /// The configure command as run, from the Kea tree's root.
    pub configure: Vec<String>,
    /// The options keapack was given (the manifest's, then those after `--`).
    pub configure_options: Vec<String>,
    /// The library directory configured (from the first target of the build host's family).
    pub libdir: String,
    /// Every variable the build commands saw, except [`Build::inherited_environment`].
    pub environment: BTreeMap<String, String>,
    /// Variables passed from the caller whose values are not recorded (tool lookup only).
    pub inherited_environment: Vec<String>,
    pub umask: String,
    /// The strip command's options.
    pub strip: Vec<String>,
    /// Whether debug symbols were split off into debug packages (this changes the libraries:
    /// each gets a `.gnu_debuglink`).
    pub debug_symbols: bool,
    /// `hooks-only` (Kea's libraries and the hooks built, only the hooks installed) or `full`
    /// (all of Kea, `--full-build`).
    pub scope: crate::build::Scope,
    /// Whether the compilers ran through ccache.
    pub ccache: bool,
}

/// The packages whose versions the record lists for each build environment (when installed).
pub(crate) const ENVIRONMENT_PACKAGES: &[&str] = &["gcc", "g++", "binutils", "libc6-dev", "libstdc++-12-dev", "libstdc++-14-dev", "kea-dev"];

/// One build: where it ran and which targets it served.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Environment {
    /// `host`, or the target whose release's root it ran in.
    pub name: String,
    /// The environment's `PRETTY_NAME`.
    pub os: String,
    /// The root's cache entry and mirror; absent for the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Versions of its compiler, binutils, C library headers and kea-dev (Debian family).
    pub packages: BTreeMap<String, String>,
    pub targets: Vec<String>,
}

/// The build host, without its name.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Host {
    /// `PRETTY_NAME` from `/etc/os-release`.
    pub os: String,
    pub arch: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Packaging {
    pub targets: Vec<String>,
    /// The manifest's `[package]` section as used (after `--revision`).
    pub package: crate::plan::manifest::PackageSection,
    /// Template files overridden with `--templates`, by name, with their SHA-256.
    pub template_overrides: BTreeMap<String, String>,
}

/// One package written.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct Output {
    pub file: String,
    pub target: String,
    /// `package` or `debug-symbols`.
    pub kind: String,
    pub sha256: String,
    pub size: u64,
}

impl BuildRecord {
    /// The record as written: pretty JSON with a final newline.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the record serialises") + "\n"
    }
}

/// Describe an input by its content.
pub(crate) fn input(role: &str, path: &Path) -> Result<Input> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let meta = fs::metadata(path).with_context(|| format!("cannot read input {}", path.display()))?;
    Ok(if meta.is_dir() {
        let (sha256, files) = directory_digest(path)?;
        Input { role: role.into(), name, kind: "directory".into(), sha256, size: files }
    } else {
        Input { role: role.into(), name, kind: "archive".into(), sha256: sha256_file(path)?, size: meta.len() }
    })
}

/// The digest of a directory input and its number of regular files: SHA-256 of the text with
/// one line `<sha256 of the file>  <path relative to the directory>` per regular file, sorted
/// by path bytes — what this prints:
///
/// ```sh
/// cd DIR && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum
/// ```
///
/// Symbolic links and empty directories are left out, as keapack leaves them out of the copy
/// it builds; file modes and times are left out too (the epoch is recorded on its own).
pub(crate) fn directory_digest(dir: &Path) -> Result<(String, u64)> {
    let mut files = Vec::new();
    collect_files(dir, Path::new(""), &mut files)?;
    files.sort_by(|a, b| a.as_os_str().as_encoded_bytes().cmp(b.as_os_str().as_encoded_bytes()));
    let mut h = Sha256::new();
    for rel in &files {
        h.update(format!("{}  {}\n", sha256_file(&dir.join(rel))?, rel.display()).as_bytes());
    }
    Ok((hex(&h.finalize()), files.len() as u64))
}

fn collect_files(root: &Path, rel: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    for entry in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = rel.join(entry.file_name());
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Describe a written package.
pub(crate) fn output(path: &Path, target: &str, kind: &str) -> Result<Output> {
    Ok(Output {
        file: path.file_name().context("outputs have file names")?.to_string_lossy().into_owned(),
        target: target.to_string(),
        kind: kind.to_string(),
        sha256: sha256_file(path)?,
        size: fs::metadata(path)?.len(),
    })
}

/// The tools whose versions the record lists, for a build system: (name, command, argument).
pub(crate) fn tools(system: crate::source::BuildSystem, debug_symbols: bool, env: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut list: Vec<(&str, String)> = match system {
        crate::source::BuildSystem::Autotools => vec![
            ("autoconf", "autoconf".into()),
            ("automake", "automake".into()),
            ("libtool", "libtoolize".into()),
            ("make", "make".into()),
        ],
        crate::source::BuildSystem::Meson => vec![("meson", "meson".into()), ("ninja", "ninja".into())],
    };
    list.push(("c++ compiler", env.get("CXX").cloned().unwrap_or_else(|| "g++".into())));
    if let Some(cc) = env.get("CC") {
        list.push(("c compiler", cc.clone()));
    }
    if env.get("CXX").is_some_and(|c| c.starts_with("ccache ")) {
        list.push(("ccache", "ccache".into()));
    }
    list.push(("linker", "ld".into()));
    list.push(("strip", "strip".into()));
    if debug_symbols {
        list.push(("objcopy", "objcopy".into()));
    }
    list.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// First line of `<command> --version` for each tool, run with exactly `env` (so the build's
/// `PATH`, `LC_ALL=C`); a tool that cannot run is recorded as `unavailable`.
/// `root`: run them inside that build root (where the build ran) rather than on this host.
pub(crate) fn tool_versions(tools: &[(String, String)], env: &[(String, OsString)], root: Option<&Path>) -> BTreeMap<String, String> {
    let probe = |command: &str| -> String {
        let mut words = command.split_whitespace();
        let out = words.next().and_then(|program| {
            let mut cmd = Command::new(program);
            cmd.args(words).arg("--version").env_clear().envs(env.iter().map(|(k, v)| (k, v)));
            if let Some(root) = root {
                cmd = crate::support::sandbox::enter(root, &[], &cmd);
                cmd.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
            }
            cmd.output().ok()
        });
        out.filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(|l| l.trim().to_string()))
            .unwrap_or_else(|| "unavailable".into())
    };
    // The probes run at once: a dozen programs started one after the other took a third of a
    // second of every run.
    std::thread::scope(|s| {
        let running: Vec<_> = tools.iter().map(|(name, command)| (name, s.spawn(|| probe(command)))).collect();
        running.into_iter().map(|(name, h)| (name.clone(), h.join().unwrap_or_else(|_| "unavailable".into()))).collect()
    })
}

/// The build host: distribution and machine, never its name.
pub(crate) fn host() -> Host {
    Host { os: crate::build::root::pretty_name(Path::new("/")), arch: std::env::consts::ARCH.to_string() }
}

/// Template files in `dir` that override built-in ones, with their SHA-256.
pub(crate) fn template_overrides(dir: Option<&Path>, builtin_names: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(dir) = dir {
        for name in builtin_names {
            let p = dir.join(name);
            if p.is_file() {
                out.insert(name.clone(), sha256_file(&p)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_digest_matches_the_documented_shell_pipeline() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("kea-2.6.5");
        fs::create_dir_all(d.join("src/b")).unwrap();
        fs::create_dir_all(d.join("empty")).unwrap();
        fs::write(d.join("configure.ac"), "AC_INIT(kea, 2.6.5)\n").unwrap();
        fs::write(d.join("src/b/x.cc"), "int x;\n").unwrap();
        fs::write(d.join("src/a.cc"), "int a;\n").unwrap();
        std::os::unix::fs::symlink("a.cc", d.join("src/link.cc")).unwrap();
        let (ours, n) = directory_digest(&d).unwrap();
        assert_eq!(n, 3);
        let shell = Command::new("sh")
            .arg("-c")
            .arg("find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum")
            .current_dir(&d)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&shell.stdout).split_whitespace().next().unwrap(), ours);
        // Content, not times, decides it.
        let f = fs::File::options().write(true).open(d.join("src/a.cc")).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(directory_digest(&d).unwrap().0, ours);
        fs::write(d.join("src/a.cc"), "int b;\n").unwrap();
        assert_ne!(directory_digest(&d).unwrap().0, ours);
    }

    #[test]
    fn inputs_are_named_without_their_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let arc = tmp.path().join("kea-2.6.5.tar.gz");
        fs::write(&arc, b"abc").unwrap();
        let i = input("kea", &arc).unwrap();
        assert_eq!((i.name.as_str(), i.kind.as_str(), i.size), ("kea-2.6.5.tar.gz", "archive", 3));
        assert_eq!(i.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn tool_versions_use_the_given_environment() {
        let path: OsString = std::env::var_os("PATH").unwrap();
        let env = vec![("PATH".to_string(), path), ("LC_ALL".to_string(), OsString::from("C"))];
        let tools = vec![("shell".to_string(), "bash".to_string()), ("nothing".to_string(), "keapack-no-such-tool".to_string())];
        let v = tool_versions(&tools, &env, None);
        assert!(v["shell"].starts_with("GNU bash"), "{v:?}");
        assert_eq!(v["nothing"], "unavailable");
    }
}

//! The normalised environment every build command runs in, and its path-free form for the
//! build record.
//!
//! Build commands do not inherit keapack's environment. They get a fixed locale (`LC_ALL=C`),
//! time zone (`TZ=UTC`) and `SOURCE_DATE_EPOCH`, Debian's `dpkg-buildflags` defaults including
//! its two reproducibility features (`-ffile-prefix-map=<build dir>=.` and `-Wdate-time`), and
//! only a short, documented list of the caller's variables: [`INHERITED`] (where to find tools,
//! never recorded) and [`PASSED`] (build inputs, recorded with their values). Anything else a
//! shell happens to carry — `LANG`, `LANGUAGE`, `CONFIG_SITE`, `MAKEFLAGS`, `PWD` — cannot
//! change what the compiler writes. The umask is set by the pipeline (022).
//!
//! The prefix map uses the build directory's *physical* path: commands run without `PWD`, so
//! compilers see `getcwd()`'s answer, which resolves symbolic links. Mapping only the path as
//! typed once let a work directory reached through a symlink leak into the debug info and so
//! into the libraries' build IDs.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Variables passed through for the tools to work at all; their values are machine-specific
/// and never recorded (only their names are).
pub const INHERITED: &[&str] = &["HOME", "PATH", "TMPDIR"];

/// Caller variables that are build inputs: passed when set, and recorded with their values.
/// The `*FLAGS` ones are appended to keapack's own (so the caller's win).
pub const PASSED: &[&str] = &[
    "CC",
    "CXX",
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "PKG_CONFIG_PATH",
    "KEA_INCLUDE",
    "KEA_LIBDIR",
    "KEA_PKG_TYPE_IN_CONFIGURE",
    "KEA_PKG_VERSION_IN_CONFIGURE",
];

/// What the build directory is called in the record.
pub const BUILD_DIR: &str = "$BUILD_DIR";

/// The umask every build runs with.
pub const UMASK: u32 = 0o022;

/// The environment of one build.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    /// The physical path of the build directory (the Kea tree's root).
    build_dir: PathBuf,
    vars: BTreeMap<String, OsString>,
}

impl BuildEnv {
    /// The environment for building `tree`, taking caller variables from keapack's environment.
    pub fn new(tree: &Path, epoch: u64) -> BuildEnv {
        BuildEnv::with_caller(tree, epoch, |k| std::env::var_os(k))
    }

    /// The environment for building `tree`, taking caller variables from `caller`.
    pub fn with_caller(tree: &Path, epoch: u64, caller: impl Fn(&str) -> Option<OsString>) -> BuildEnv {
        let build_dir = std::fs::canonicalize(tree).unwrap_or_else(|_| tree.to_path_buf());
        let map = format!("-ffile-prefix-map={}=.", build_dir.display());
        let cflags = format!("-g -O2 {map} -fstack-protector-strong -Wformat -Werror=format-security");
        let mut vars: BTreeMap<String, OsString> = [
            ("LC_ALL", "C".to_string()),
            ("LANG", "C".into()),
            ("TZ", "UTC".into()),
            ("SOURCE_DATE_EPOCH", epoch.to_string()),
            ("CFLAGS", cflags.clone()),
            ("CXXFLAGS", cflags),
            ("CPPFLAGS", "-Wdate-time -D_FORTIFY_SOURCE=2".into()),
            ("LDFLAGS", "-Wl,-z,relro -Wl,-z,now".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
        for name in INHERITED.iter().chain(PASSED) {
            let Some(value) = caller(name) else { continue };
            match vars.get_mut(*name) {
                Some(ours) if name.ends_with("FLAGS") => {
                    ours.push(" ");
                    ours.push(value);
                }
                _ => {
                    vars.insert(name.to_string(), value);
                }
            }
        }
        BuildEnv { build_dir, vars }
    }

    /// Every variable, sorted by name, for `Runner::set_clean_env`.
    pub fn vars(&self) -> Vec<(String, OsString)> {
        self.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The variables as the record shows them: without [`INHERITED`] ones, and with the build
    /// directory written as [`BUILD_DIR`].
    pub fn recorded(&self) -> BTreeMap<String, String> {
        self.vars
            .iter()
            .filter(|(k, _)| !INHERITED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), self.unpath(&v.to_string_lossy())))
            .collect()
    }

    /// Names of the inherited variables that are set.
    pub fn inherited_names(&self) -> Vec<String> {
        INHERITED.iter().filter(|k| self.vars.contains_key(**k)).map(|k| k.to_string()).collect()
    }

    /// `text` with the build directory replaced by [`BUILD_DIR`].
    pub fn unpath(&self, text: &str) -> String {
        text.replace(&*self.build_dir.to_string_lossy(), BUILD_DIR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: BTreeMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        move |k| vars.get(k).cloned()
    }

    #[test]
    fn fixed_values_win_and_only_listed_variables_pass() {
        let tmp = tempfile::tempdir().unwrap();
        let env = BuildEnv::with_caller(
            tmp.path(),
            1_700_000_000,
            caller(&[("LANG", "fr_FR.UTF-8"), ("TZ", "Asia/Tokyo"), ("MAKEFLAGS", "-j9"), ("PATH", "/bin"), ("CXXFLAGS", "-DMINE"), ("CXX", "clang++")]),
        );
        let vars: BTreeMap<String, String> = env.vars().into_iter().map(|(k, v)| (k, v.into_string().unwrap())).collect();
        assert_eq!(vars["LANG"], "C");
        assert_eq!(vars["LC_ALL"], "C");
        assert_eq!(vars["TZ"], "UTC");
        assert_eq!(vars["SOURCE_DATE_EPOCH"], "1700000000");
        assert_eq!(vars["PATH"], "/bin");
        assert_eq!(vars["CXX"], "clang++");
        assert!(!vars.contains_key("MAKEFLAGS"));
        let real = std::fs::canonicalize(tmp.path()).unwrap();
        assert!(vars["CXXFLAGS"].contains(&format!("-ffile-prefix-map={}=.", real.display())));
        assert!(vars["CXXFLAGS"].ends_with(" -DMINE"), "the caller's flags come last");
        assert!(vars["CPPFLAGS"].contains("-Wdate-time"));

        let rec = env.recorded();
        assert!(!rec.contains_key("PATH"), "machine-specific values stay out of the record");
        assert_eq!(env.inherited_names(), ["PATH"]);
        assert!(rec["CFLAGS"].contains("-ffile-prefix-map=$BUILD_DIR=."), "{}", rec["CFLAGS"]);
        assert!(!rec.values().any(|v| v.contains(&*real.to_string_lossy())));
    }

    #[test]
    fn a_symlinked_build_dir_maps_its_physical_path() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let via_link = BuildEnv::with_caller(&link, 1, caller(&[]));
        let direct = BuildEnv::with_caller(&real, 1, caller(&[]));
        assert_eq!(via_link.build_dir, std::fs::canonicalize(&real).unwrap());
        assert_eq!(via_link.vars(), direct.vars());
        assert_eq!(via_link.recorded(), direct.recorded());
    }
}

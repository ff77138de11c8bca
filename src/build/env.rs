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
pub(crate) const INHERITED: &[&str] = &["HOME", "PATH", "TMPDIR"];

/// Caller variables that are build inputs: passed when set, and recorded with their values.
/// The `*FLAGS` ones are appended to keapack's own (so the caller's win).
pub(crate) const PASSED: &[&str] = &[
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

/// Variables keapack sets whose values are machine-specific: never recorded (only their names
/// are, with [`INHERITED`]'s).
pub(crate) const UNRECORDED: &[&str] = &["CCACHE_DIR"];

/// What the build directory is called in the record.
pub(crate) const BUILD_DIR: &str = "$BUILD_DIR";

/// The umask every build runs with.
pub(crate) const UMASK: u32 = 0o022;

/// The environment of one build.
#[derive(Debug, Clone)]
pub(crate) struct BuildEnv {
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
    pub(crate) fn with_caller(tree: &Path, epoch: u64, caller: impl Fn(&str) -> Option<OsString>) -> BuildEnv {
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

    /// Compile through ccache, caching in `dir`: `CC`/`CXX` become `ccache <compiler>` (the
    /// caller's compiler, else the one `configure` (`gcc`, `g++`) or meson (`cc`, `c++`) picks
    /// first), `CCACHE_BASEDIR` is the build directory, so that paths below it are hashed as
    /// relative ones and another work directory hits. ccache keeps hashing the current directory
    /// of a `-g` compile, as the prefix map (`-ffile-prefix-map=<build dir>=.`) rewrites it: the
    /// objects name it (`DW_AT_comp_dir` `./premium/src/hooks/dhcp/<hook>`), so the same source
    /// file in two hooks' directories must not share one object, while the same directory of
    /// another work directory maps to the same name and hits.
    pub(crate) fn use_ccache(&mut self, meson: bool, dir: &Path) {
        let (cc, cxx) = if meson { ("cc", "c++") } else { ("gcc", "g++") };
        for (name, default) in [("CC", cc), ("CXX", cxx)] {
            let compiler = self.vars.get(name).map(|v| v.to_string_lossy().to_string()).unwrap_or_else(|| default.to_string());
            if !compiler.split_whitespace().next().is_some_and(|first| first.ends_with("ccache")) {
                self.vars.insert(name.to_string(), OsString::from(format!("ccache {compiler}")));
            }
        }
        self.vars.insert("CCACHE_DIR".into(), dir.as_os_str().to_owned());
        self.vars.insert("CCACHE_BASEDIR".into(), self.build_dir.as_os_str().to_owned());
        self.vars.remove("CCACHE_DISABLE");
    }

    /// Keep ccache out even where a tool would use it by itself (meson does, when it is on PATH).
    pub(crate) fn refuse_ccache(&mut self) {
        self.vars.insert("CCACHE_DISABLE".into(), "1".into());
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
            .filter(|(k, _)| !INHERITED.contains(&k.as_str()) && !UNRECORDED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), self.unpath(&v.to_string_lossy())))
            .collect()
    }

    /// Names of the inherited variables that are set.
    pub(crate) fn inherited_names(&self) -> Vec<String> {
        INHERITED.iter().chain(UNRECORDED).filter(|k| self.vars.contains_key(**k)).map(|k| k.to_string()).collect()
    }

    /// `text` with the build directory replaced by [`BUILD_DIR`].
    pub(crate) fn unpath(&self, text: &str) -> String {
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
    fn ccache_wraps_the_compilers_and_its_directory_stays_out_of_the_record() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let mut one = BuildEnv::with_caller(a.path(), 1, caller(&[]));
        one.use_ccache(false, Path::new("/home/x/.cache/keapack/ccache"));
        let vars: BTreeMap<String, String> = one.vars().into_iter().map(|(k, v)| (k, v.into_string().unwrap())).collect();
        assert_eq!((vars["CC"].as_str(), vars["CXX"].as_str()), ("ccache gcc", "ccache g++"));
        assert_eq!(vars["CCACHE_DIR"], "/home/x/.cache/keapack/ccache");
        assert_eq!(vars["CCACHE_BASEDIR"], std::fs::canonicalize(a.path()).unwrap().display().to_string());
        assert!(!vars.contains_key("CCACHE_NOHASHDIR"), "the current directory stays in ccache's hash");
        // Another work directory and another cache directory: the same record.
        let mut two = BuildEnv::with_caller(b.path(), 1, caller(&[]));
        two.use_ccache(false, Path::new("/root/.cache/keapack/ccache"));
        assert_eq!(one.recorded(), two.recorded());
        assert!(!one.recorded().contains_key("CCACHE_DIR"));
        assert_eq!(one.recorded()["CCACHE_BASEDIR"], BUILD_DIR);
        assert!(one.inherited_names().contains(&"CCACHE_DIR".to_string()));
        // The caller's compiler is kept, wrapped once; meson's default names.
        let mut mine = BuildEnv::with_caller(a.path(), 1, caller(&[("CXX", "clang++"), ("CC", "ccache clang")]));
        mine.use_ccache(true, Path::new("/c"));
        let rec = mine.recorded();
        assert_eq!((rec["CC"].as_str(), rec["CXX"].as_str()), ("ccache clang", "ccache clang++"));
        let mut meson = BuildEnv::with_caller(a.path(), 1, caller(&[]));
        meson.use_ccache(true, Path::new("/c"));
        assert_eq!(meson.recorded()["CXX"], "ccache c++");
        // Refused: ccache is told to step aside, the compilers are left alone.
        let mut off = BuildEnv::with_caller(a.path(), 1, caller(&[]));
        off.refuse_ccache();
        let rec = off.recorded();
        assert_eq!(rec["CCACHE_DISABLE"], "1");
        assert!(!rec.contains_key("CC") && !rec.contains_key("CCACHE_BASEDIR"));
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

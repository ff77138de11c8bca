//! Relations read from the binaries: what each packaged hook library needs at run time, from
//! its ELF `NEEDED` entries, in the target family's terms.
//!
//! - `libkea-*`: Kea's own libraries. They are covered by the exact pin on the profile's Kea
//!   runtime package that `plan` always adds, so they produce no relation here (looking them up
//!   on the build host would be wrong: a real Kea build's `libkea-*.so.N` are in the stage, not
//!   on the host).
//! - `.deb` target on a Debian-family host: as dpkg-shlibdeps does — find the library file
//!   (ldconfig's cache, then the standard library directories; the one of the hook's ELF
//!   machine and class) and ask dpkg which package owns it (trying the merged-/usr alias too).
//!   When that package has a symbols file (deb-symbols(5): `/etc/dpkg/symbols/<pkg>.symbols.<arch>`,
//!   `/etc/dpkg/symbols/<pkg>.symbols`, then dpkg's `info/<pkg>[:<arch>].symbols`) with an entry
//!   for the SONAME, the dependency is its template with `#MINVER#` replaced by the highest
//!   minimal version of the symbols the hook imports (`memcpy@GLIBC_2.14` → `libc6 (>= 2.14)`),
//!   and never lower than the smallest version the entry lists; a symbol pointing at an
//!   alternative template (`| libc6 (>> 2.36), libc6 (<< 2.37)`) adds that one too. Otherwise
//!   the package's `shlibs` entry (`/etc/dpkg/shlibs.override` first, `/etc/dpkg/shlibs.default`
//!   last). The result is what `dpkg-shlibdeps` writes for the same files.
//! - `.deb` target on any other host: nothing is invented from the host's packages; the
//!   manifest's declared relations (`[package.depends] deb`) stand in, and a warning names the
//!   libraries left uncovered.
//! - `.rpm` target, on any host: the SONAME capabilities rpm's own dependency generator
//!   (elfdeps) writes: `libc.so.6()(64bit)` and one `libc.so.6(GLIBC_2.34)(64bit)` per symbol
//!   version needed. They name no package, so they hold whatever the build host's family, and
//!   rpm refuses to install a hook that needs a newer glibc than the target has.
//!
//! A library keapack cannot resolve is a warning, not an error: the build goes on and the user
//! declares the relation in the manifest.

use crate::support::elf::{self, ElfInfo, Import};
use crate::plan::profile::Target;
use crate::plan::relation;
use crate::plan::spec::{Format, Relation};
use crate::stage::StagedHook;
use anyhow::Result;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The relations each staged hook library needs on one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Discovery {
    /// Keyed by the hook's file name (`libdhcp_host_cmds.so`), merged and sorted.
    pub by_library: BTreeMap<String, Vec<Relation>>,
    /// Needed libraries no relation covers, each as a sentence.
    pub warnings: Vec<String>,
}

/// Is this SONAME one of Kea's own libraries?
pub(crate) fn is_kea_library(soname: &str) -> bool {
    soname.starts_with("libkea-")
}

/// Read the NEEDED entries of every hook and turn them into relations for `target`.
/// `host` is the build host's family (`profile::host_family()`); `sysroot` is the file system
/// the hooks were built against: `/`, or the build root of the target's release, whose
/// libraries, dpkg database and shlibs files are read instead of the host's.
pub(crate) fn discover(hooks: &[StagedHook], target: &Target, host: Option<Format>, sysroot: &Path) -> Result<Discovery> {
    let family = target.profile.family;
    let mut out = Discovery::default();
    let debian_root = host == Some(Format::Deb) || sysroot != Path::new("/");
    let mut debian = (family == Format::Deb && debian_root).then(|| DebianHost::new(&target.arch, &target.arch_info.libdir, sysroot));
    let mut uncovered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for hook in hooks {
        let info = elf::read(&hook.path)?;
        let mut rels = Vec::new();
        let mut symbols: Vec<SymbolsEntry> = Vec::new();
        for soname in info.needed.iter().filter(|s| !is_kea_library(s)) {
            match (family, debian.as_mut()) {
                (Format::Rpm, _) => rels.extend(rpm_capabilities(&info, soname)),
                (Format::Deb, Some(host)) => match host.resolve(soname, &info) {
                    Ok(LibraryDeps::Shlibs(r)) => rels.extend(r),
                    Ok(LibraryDeps::Symbols(entry)) => symbols.push(entry),
                    Err(why) => out.warnings.push(format!("{}: {why}", hook.library)),
                },
                (Format::Deb, None) => uncovered.entry(soname.clone()).or_default().push(hook.library.clone()),
            }
        }
        for (template, minver) in symbols_dependencies(&symbols, &info.imports) {
            let dep = substitute_minver(&template, &minver);
            match shlibs_relations(&dep) {
                Ok(r) => rels.extend(r),
                Err(e) => out.warnings.push(format!("{}: the symbols file's dependency '{dep}' does not parse: {e}", hook.library)),
            }
        }
        out.by_library.insert(hook.library.clone(), relation::merge(family, rels));
    }
    if !uncovered.is_empty() {
        let libs: Vec<String> = uncovered.iter().map(|(so, by)| format!("{so} (needed by {})", by.join(", "))).collect();
        out.warnings.push(format!(
            "target {}: this build host is not Debian-family, so keapack cannot read Debian shlibs files; Depends covers only the Kea pin and the manifest's [package.depends] deb list, not: {}",
            target.id(),
            libs.join(", ")
        ));
    }
    Ok(out)
}

/// rpm's automatic requirements for one needed library: `soname()(64bit)` and one
/// `soname(VERSION)(64bit)` per symbol version (no `(64bit)` suffix for 32-bit objects).
pub(crate) fn rpm_capabilities(info: &ElfInfo, soname: &str) -> Vec<Relation> {
    let mark = if info.class64 { "(64bit)" } else { "" };
    let cap = |v: &str| Relation { name: format!("{soname}({v}){mark}"), constraint: None };
    let mut caps = vec![cap("")];
    caps.extend(info.version_needs.get(soname).into_iter().flatten().map(|v| cap(v)));
    caps
}

/// `libstdc++.so.6` → (`libstdc++`, `6`); `libfoo-1.2.so` → (`libfoo`, `1.2`): the library
/// name and version a shlibs line is keyed by.
pub(crate) fn soname_key(soname: &str) -> Option<(&str, &str)> {
    if let Some(i) = soname.find(".so.") {
        return Some((&soname[..i], &soname[i + 4..]));
    }
    let stem = soname.strip_suffix(".so")?;
    let i = stem.rfind('-')?;
    stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()).then(|| (&stem[..i], &stem[i + 1..]))
}

/// The dependency a shlibs file gives for `soname` (lines `[type:] name version dependency`,
/// the fields separated by any run of spaces or tabs; typed lines such as `udeb:` are for other
/// package types and are skipped).
pub(crate) fn shlibs_lookup(text: &str, soname: &str) -> Option<String> {
    let (name, version) = soname_key(soname)?;
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).find_map(|line| {
        let (n, rest) = split_word(line)?;
        if n.ends_with(':') {
            return None;
        }
        let (v, dependency) = split_word(rest).unwrap_or((rest, ""));
        (n == name && v == version).then(|| dependency.to_string())
    })
}

/// The first whitespace-separated word of `text` and the rest, trimmed.
fn split_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    match text.find(char::is_whitespace) {
        Some(i) => Some((&text[..i], text[i..].trim())),
        None => Some((text, "")),
    }
}

/// One library's entry in a symbols file (deb-symbols(5)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SymbolsEntry {
    pub soname: String,
    /// The main dependency template, then the alternative ones (`| …` lines), numbered from 1.
    pub templates: Vec<String>,
    /// `* Field: value` lines (`Build-Depends-Package`, …).
    pub fields: BTreeMap<String, String>,
    /// `name@version` → (minimal version, template number: 0 for the main one only).
    pub symbols: BTreeMap<String, (String, usize)>,
}

/// The entry for `soname` in a symbols file, if it has one.
///
/// Symbol lines carrying tags (`(c++)…`, `(regex)…`) are patterns that dpkg-gensymbols leaves
/// in some files: `(symver)` patterns are kept (they match every symbol of that version), the
/// others are skipped; `(optional)`, `(arch=…)` and other plain tags are dropped.
pub(crate) fn symbols_lookup(text: &str, soname: &str) -> Option<SymbolsEntry> {
    let mut found: Option<SymbolsEntry> = None;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(symbol) = line.strip_prefix(' ') {
            // ` #MISSING: 1.2# foo@Base 1.0`: a symbol the library no longer has.
            let Some(entry) = found.as_mut().filter(|_| !symbol.trim_start().starts_with('#')) else { continue };
            let Some((mut name, rest)) = split_word(symbol) else { continue };
            let mut pattern = None;
            if let Some(tagged) = name.strip_prefix('(') {
                let Some((tags, bare)) = tagged.split_once(')') else { continue };
                let tags: Vec<&str> = tags.split('|').collect();
                if tags.iter().any(|t| *t == "c++" || *t == "regex") {
                    continue;
                }
                if tags.contains(&"symver") {
                    pattern = Some("symver");
                }
                name = bare;
            }
            let (minver, id) = split_word(rest).unwrap_or((rest, ""));
            let id = id.split_whitespace().next().and_then(|i| i.parse().ok()).unwrap_or(0);
            let key = match pattern {
                Some(_) => format!("(symver){name}"),
                None => name.to_string(),
            };
            entry.symbols.insert(key, (minver.to_string(), id));
        } else if let Some(alt) = line.strip_prefix('|') {
            if let Some(entry) = found.as_mut() {
                entry.templates.push(alt.trim().to_string());
            }
        } else if let Some(field) = line.strip_prefix('*') {
            if let (Some(entry), Some((k, v))) = (found.as_mut(), field.split_once(':')) {
                entry.fields.insert(k.trim().to_string(), v.trim().to_string());
            }
        } else {
            if found.is_some() {
                break;
            }
            let Some((lib, template)) = split_word(line) else { continue };
            if lib == soname {
                found = Some(SymbolsEntry { soname: lib.to_string(), templates: vec![template.to_string()], ..Default::default() });
            }
        }
    }
    found
}

/// dpkg-shlibdeps' computation for one binary: every library with a symbols entry starts at
/// the smallest minimal version its entry lists (the library may not always have been in its
/// package); each imported symbol (`name@version`, `name@Base` when unversioned) found in the
/// entries, searched in `DT_NEEDED` order, raises its library's main template — and the
/// alternative template it names — to that symbol's minimal version. Returns (template,
/// minimal version) pairs.
pub(crate) fn symbols_dependencies(entries: &[SymbolsEntry], imports: &[Import]) -> Vec<(String, String)> {
    let mut deps: Vec<(String, String)> = Vec::new();
    let mut raise = |template: &str, minver: &str| match deps.iter_mut().find(|(t, _)| t == template) {
        Some((_, v)) => {
            if relation::compare_deb_versions(minver, v) == Ordering::Greater {
                *v = minver.to_string();
            }
        }
        None => deps.push((template.to_string(), minver.to_string())),
    };
    for e in entries {
        let smallest = e.symbols.values().map(|(v, _)| v.as_str()).min_by(|a, b| relation::compare_deb_versions(a, b)).unwrap_or("");
        raise(&e.templates[0], smallest);
    }
    for import in imports {
        let version = import.version.as_ref().map_or("Base", |(v, _)| v.as_str());
        let key = format!("{}@{version}", import.name);
        let symver = format!("(symver){version}");
        let Some((e, (minver, id))) = entries.iter().find_map(|e| e.symbols.get(&key).or_else(|| e.symbols.get(&symver)).map(|s| (e, s))) else { continue };
        raise(&e.templates[0], minver);
        if let Some(alt) = e.templates.get(*id).filter(|_| *id > 0) {
            raise(alt, minver);
        }
    }
    deps
}

/// A template with `#MINVER#` replaced by `(>= minver)`, or by nothing when `minver` is empty.
pub(crate) fn substitute_minver(template: &str, minver: &str) -> String {
    let with = if minver.is_empty() { String::new() } else { format!("(>= {minver})") };
    template.replace("#MINVER#", &with).split_whitespace().collect::<Vec<_>>().join(" ").replace(" ,", ",")
}

/// Turn a shlibs dependency string into relations. An OR-group (`libglu1-mesa | libglu1`)
/// becomes its first alternative, the package that provided the library on the build host.
pub(crate) fn shlibs_relations(dependency: &str) -> Result<Vec<Relation>> {
    Ok(relation::parse_deb_field(dependency)?.into_iter().filter_map(|group| group.into_iter().next()).collect())
}

/// Where a needed library's dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LibraryDeps {
    /// The library's symbols-file entry: the dependency depends on the symbols a hook imports.
    Symbols(SymbolsEntry),
    /// A shlibs entry's relations, the same for every hook.
    Shlibs(Vec<Relation>),
}

/// Debian's view of the build host: ldconfig's cache, dpkg's database, the symbols and shlibs files.
struct DebianHost {
    arch: String,
    libdir: String,
    /// `/`, or a build root: every path below is looked up inside it.
    sysroot: PathBuf,
    admindir: PathBuf,
    ldcache: Vec<(String, PathBuf)>,
    cache: BTreeMap<(String, u16, bool), Result<LibraryDeps, String>>,
}

impl DebianHost {
    fn new(arch: &str, libdir: &str, sysroot: &Path) -> DebianHost {
        let admindir = match std::env::var_os("DPKG_ADMINDIR") {
            Some(d) if sysroot == Path::new("/") => PathBuf::from(d),
            _ => sysroot.join("var/lib/dpkg"),
        };
        DebianHost { arch: arch.into(), libdir: libdir.into(), sysroot: sysroot.to_path_buf(), admindir, ldcache: ldconfig_cache(sysroot), cache: BTreeMap::new() }
    }

    /// Where the dependency for one needed SONAME comes from, or why there is none.
    fn resolve(&mut self, soname: &str, needer: &ElfInfo) -> Result<LibraryDeps, String> {
        let key = (soname.to_string(), needer.machine, needer.class64);
        if let Some(hit) = self.cache.get(&key) {
            return hit.clone();
        }
        let result = self.lookup(soname, needer);
        self.cache.insert(key, result.clone());
        result
    }

    fn lookup(&self, soname: &str, needer: &ElfInfo) -> Result<LibraryDeps, String> {
        let candidates = library_candidates(soname, &self.libdir, &self.ldcache, &self.sysroot);
        let Some(file) = candidates.iter().find(|p| elf::read(&self.sysroot.join(p.strip_prefix("/").unwrap_or(p))).is_ok_and(|i| i.machine == needer.machine && i.class64 == needer.class64)) else {
            return Err(format!(
                "{soname} is not installed on this build host for this architecture (looked in ldconfig's cache and {}); Depends does not cover it: install it, or declare the relation in [package.depends] deb",
                standard_dirs(&self.libdir).join(", ")
            ));
        };
        let Some(packages) = dpkg_owner(file, &self.sysroot, &self.admindir) else {
            return Err(format!(
                "{soname} is {}, which no Debian package owns; Depends does not cover it: declare the relation in [package.depends] deb",
                file.display()
            ));
        };
        for pkg in &packages {
            let bare = pkg.split(':').next().unwrap_or(pkg);
            let mut paths = vec![self.sysroot.join(format!("etc/dpkg/symbols/{bare}.symbols.{}", self.arch)), self.sysroot.join(format!("etc/dpkg/symbols/{bare}.symbols"))];
            paths.push(self.admindir.join("info").join(format!("{pkg}.symbols")));
            if !pkg.contains(':') {
                paths.push(self.admindir.join("info").join(format!("{pkg}:{}.symbols", self.arch)));
            }
            if let Some(entry) = paths.iter().find(|p| p.is_file()).and_then(|p| read(p)).and_then(|t| symbols_lookup(&t, soname)) {
                return Ok(LibraryDeps::Symbols(entry));
            }
        }
        let override_file = &self.sysroot.join("etc/dpkg/shlibs.override");
        if let Some(dep) = read(override_file).and_then(|t| shlibs_lookup(&t, soname)) {
            return shlibs_relations(&dep).map(LibraryDeps::Shlibs).map_err(|e| format!("{}: {e}", override_file.display()));
        }
        for pkg in &packages {
            let mut names = vec![format!("{pkg}.shlibs")];
            if !pkg.contains(':') {
                names.push(format!("{pkg}:{}.shlibs", self.arch));
            }
            for name in names {
                let path = self.admindir.join("info").join(&name);
                if let Some(dep) = read(&path).and_then(|t| shlibs_lookup(&t, soname)) {
                    return shlibs_relations(&dep).map(LibraryDeps::Shlibs).map_err(|e| format!("{}: {e}", path.display()));
                }
            }
        }
        if let Some(dep) = read(&self.sysroot.join("etc/dpkg/shlibs.default")).and_then(|t| shlibs_lookup(&t, soname)) {
            return shlibs_relations(&dep).map(LibraryDeps::Shlibs).map_err(|e| format!("/etc/dpkg/shlibs.default: {e}"));
        }
        Err(format!(
            "{soname} comes from {}, whose symbols and shlibs files have no entry for it; Depends does not cover it: declare the relation in [package.depends] deb",
            packages.join(", ")
        ))
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `ldconfig -p` (of `sysroot`'s cache): (SONAME, path inside sysroot) pairs, in the cache's
/// order. Empty when ldconfig is missing.
fn ldconfig_cache(sysroot: &Path) -> Vec<(String, PathBuf)> {
    let ldconfig = ["/sbin/ldconfig", "/usr/sbin/ldconfig"].into_iter().find(|p| Path::new(p).is_file()).unwrap_or("ldconfig");
    let mut cmd = Command::new(ldconfig);
    if sysroot != Path::new("/") {
        cmd.arg("-r").arg(sysroot);
    }
    let Ok(out) = cmd.arg("-p").env("LC_ALL", "C").output() else { return Vec::new() };
    parse_ldconfig(&String::from_utf8_lossy(&out.stdout))
}

/// Lines `\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6`.
fn parse_ldconfig(text: &str) -> Vec<(String, PathBuf)> {
    text.lines()
        .filter_map(|l| {
            let (left, path) = l.split_once(" => ")?;
            Some((left.split_whitespace().next()?.to_string(), PathBuf::from(path.trim())))
        })
        .collect()
}

/// The standard directories, the target's multiarch directory first.
fn standard_dirs(libdir: &str) -> Vec<String> {
    let mut dirs = vec![libdir.to_string()];
    if let Some(rest) = libdir.strip_prefix("/usr") {
        dirs.push(rest.to_string());
    }
    for d in ["/usr/lib64", "/lib64", "/usr/lib", "/lib"] {
        if !dirs.iter().any(|x| x == d) {
            dirs.push(d.to_string());
        }
    }
    dirs
}

/// Existing files named `soname` (paths inside `sysroot`): ldconfig's entries first, then the
/// standard directories.
fn library_candidates(soname: &str, libdir: &str, ldcache: &[(String, PathBuf)], sysroot: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let from_cache = ldcache.iter().filter(|(s, _)| s == soname).map(|(_, p)| p.clone());
    let from_dirs = standard_dirs(libdir).into_iter().map(|d| Path::new(&d).join(soname));
    for p in from_cache.chain(from_dirs) {
        if sysroot.join(p.strip_prefix("/").unwrap_or(&p)).is_file() && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The path, its merged-/usr alias, and the same for the resolved path: dpkg's database knows
/// each file under one of them only (`/lib/x86_64-linux-gnu/libc.so.6`, but
/// `/usr/lib/x86_64-linux-gnu/libstdc++.so.6`).
fn aliases(path: &Path, sysroot: &Path) -> Vec<PathBuf> {
    let toggle = |p: &Path| match p.strip_prefix("/usr") {
        Ok(rest) => Path::new("/").join(rest),
        Err(_) => Path::new("/usr").join(p.strip_prefix("/").unwrap_or(p)),
    };
    let mut out = vec![path.to_path_buf(), toggle(path)];
    if let Ok(real) = std::fs::canonicalize(sysroot.join(path.strip_prefix("/").unwrap_or(path)))
        && let Ok(inside) = real.strip_prefix(sysroot)
    {
        let real = Path::new("/").join(inside);
        out.push(toggle(&real));
        out.push(real);
    }
    out.dedup();
    out
}

/// Which packages own the file, by `dpkg-query -S` (`libc6:amd64: /lib/…/libc.so.6`) of all
/// its aliases at once, the first alias dpkg knows winning. Answers are kept for the process:
/// the same libraries come up for every package and target, and each `dpkg-query` reads dpkg's
/// whole file list.
fn dpkg_owner(path: &Path, sysroot: &Path, admindir: &Path) -> Option<Vec<String>> {
    type Owners = std::collections::HashMap<(PathBuf, PathBuf, PathBuf), Option<Vec<String>>>;
    static KNOWN: std::sync::OnceLock<std::sync::Mutex<Owners>> = std::sync::OnceLock::new();
    let key = (admindir.to_path_buf(), sysroot.to_path_buf(), path.to_path_buf());
    let known = KNOWN.get_or_init(Default::default);
    if let Some(hit) = known.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return hit.clone();
    }
    let aliases = aliases(path, sysroot);
    // Exit status 1 when some alias is unknown; the known ones are printed all the same.
    let out = Command::new("dpkg-query").arg(format!("--admindir={}", admindir.display())).arg("-S").args(&aliases).env("LC_ALL", "C").output().ok();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let owners = aliases.iter().find_map(|alias| {
        let wanted = format!(": {}", alias.display());
        let line = text.lines().find(|l| !l.starts_with("diversion by") && l.ends_with(&wanted))?;
        let owners = &line[..line.len() - wanted.len()];
        Some(owners.split(", ").map(|s| s.trim().to_string()).collect::<Vec<_>>())
    });
    known.lock().unwrap_or_else(|p| p.into_inner()).insert(key, owners.clone());
    owners
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::profile::Profiles;
    use crate::plan::spec::Op;

    #[test]
    fn sonames_key_shlibs_lines() {
        assert_eq!(soname_key("libc.so.6"), Some(("libc", "6")));
        assert_eq!(soname_key("libstdc++.so.6"), Some(("libstdc++", "6")));
        assert_eq!(soname_key("liblog4cplus-2.0.5.so.5"), Some(("liblog4cplus-2.0.5", "5")));
        assert_eq!(soname_key("libfoo-1.2.so"), Some(("libfoo", "1.2")));
        assert_eq!(soname_key("libfoo.so"), None);
        let shlibs = "# comment\nlibc 6 libc6 (>= 2.36)\nudeb: libc 6 libc6-udeb (>= 2.36)\nlibm 6 libc6 (>= 2.36)\nlibfoo 1.2 libfoo1.2 (>> 1.2-3) | libfoo-alt\nlibgcc_s 1 libgcc-s1\nlibtab\t3\t libtab3 (>= 3.1)\nlibsp    4   libsp4";
        assert_eq!(shlibs_lookup(shlibs, "libc.so.6").as_deref(), Some("libc6 (>= 2.36)"));
        // Fields separated by tabs or several spaces, as shlibs files in the wild have them.
        assert_eq!(shlibs_lookup(shlibs, "libtab.so.3").as_deref(), Some("libtab3 (>= 3.1)"));
        assert_eq!(shlibs_lookup(shlibs, "libsp.so.4").as_deref(), Some("libsp4"));
        assert_eq!(shlibs_lookup(shlibs, "libgcc_s.so.1").as_deref(), Some("libgcc-s1"));
        assert_eq!(shlibs_lookup(shlibs, "libc.so.7"), None);
        let alt = shlibs_relations(&shlibs_lookup(shlibs, "libfoo-1.2.so").unwrap()).unwrap();
        assert_eq!(alt, vec![Relation { name: "libfoo1.2".into(), constraint: Some((Op::Gt, "1.2-3".into())) }]);
        let ld = parse_ldconfig("591 libs found in cache `/etc/ld.so.cache'\n\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6\n");
        assert_eq!(ld, vec![("libc.so.6".to_string(), PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"))]);
    }

    #[test]
    fn symbols_files_give_the_highest_minimal_version_of_the_imported_symbols() {
        let text = "libfoo.so.1 libfoo1 #MINVER#\n* Build-Depends-Package: libfoo-dev\n a@Base 1.0\n b@FOO_2 2.0-1\n (c++)\"x()@Base\" 9\nlibbar.so.2 libbar2 #MINVER#\n| libbar2 (>> 3.1), libbar2 (<< 3.2)\n p@BAR_1 1.5\n q@BAR_PRIVATE 3.1 1\n (symver)BAR_3 3.0\n #MISSING: 4.0# gone@BAR_1 0.1\n";
        let foo = symbols_lookup(text, "libfoo.so.1").unwrap();
        assert_eq!(foo.templates, ["libfoo1 #MINVER#"]);
        assert_eq!(foo.fields["Build-Depends-Package"], "libfoo-dev");
        assert_eq!(foo.symbols.len(), 2, "{foo:?}");
        let bar = symbols_lookup(text, "libbar.so.2").unwrap();
        assert_eq!(bar.templates, ["libbar2 #MINVER#", "libbar2 (>> 3.1), libbar2 (<< 3.2)"]);
        assert!(!bar.symbols.keys().any(|k| k.contains("gone") || k.starts_with('#')), "a #MISSING# symbol is not the library's: {bar:?}");
        assert_eq!(symbols_dependencies(std::slice::from_ref(&bar), &[])[0].1, "1.5", "the smallest listed version, #MISSING# left out");
        assert!(symbols_lookup(text, "libnone.so.1").is_none());
        let imp = |n: &str, v: Option<&str>| Import { name: n.into(), version: v.map(|v| (v.into(), "x".into())), weak: false };
        // Nothing imported: the smallest version the entry lists.
        assert_eq!(symbols_dependencies(std::slice::from_ref(&foo), &[]), [("libfoo1 #MINVER#".to_string(), "1.0".to_string())]);
        // The highest minimal version of the imported symbols, in dpkg's version order.
        let deps = symbols_dependencies(&[foo.clone(), bar.clone()], &[imp("a", None), imp("b", Some("FOO_2")), imp("p", Some("BAR_1")), imp("zz", Some("BAR_3"))]);
        assert_eq!(deps, [("libfoo1 #MINVER#".to_string(), "2.0-1".to_string()), ("libbar2 #MINVER#".to_string(), "3.0".to_string())]);
        // A symbol naming an alternative template adds it.
        let deps = symbols_dependencies(&[bar], &[imp("q", Some("BAR_PRIVATE"))]);
        assert_eq!(deps[1], ("libbar2 (>> 3.1), libbar2 (<< 3.2)".to_string(), "3.1".to_string()));
        assert_eq!(substitute_minver("libfoo1 #MINVER#", "2.0-1"), "libfoo1 (>= 2.0-1)");
        assert_eq!(substitute_minver("libfoo1 #MINVER#", ""), "libfoo1");
        assert_eq!(substitute_minver("libc6 (>> 2.36), libc6 (<< 2.37)", "2.36"), "libc6 (>> 2.36), libc6 (<< 2.37)");
    }

    /// The real symbols and shlibs files of this machine, read the way keapack reads them.
    #[test]
    fn libraries_resolve_through_dpkg_and_their_symbols_or_shlibs_files() {
        let target = Profiles::builtin().target(&format!("debian-12-{}", crate::plan::profile::host_arch(Format::Deb))).unwrap();
        let me = elf::read(&std::env::current_exe().unwrap()).unwrap();
        let mut host = DebianHost::new(&target.arch, &target.arch_info.libdir, Path::new("/"));
        let LibraryDeps::Symbols(libc) = host.resolve("libc.so.6", &me).unwrap() else { panic!("libc6 has a symbols file") };
        assert_eq!(libc.templates[0], "libc6 #MINVER#");
        assert_eq!(libc.symbols.get("memcpy@GLIBC_2.14").map(|s| s.0.as_str()), Some("2.14"));
        let missing = host.resolve("libkeapack-none.so.9", &me).unwrap_err();
        assert!(missing.contains("not installed on this build host") && missing.contains("[package.depends] deb"), "{missing}");
        // libstdc++ is known to dpkg under /usr/lib only, though ldconfig lists it under /lib.
        let LibraryDeps::Symbols(cxx) = host.resolve("libstdc++.so.6", &me).unwrap() else { panic!("libstdc++6 has a symbols file") };
        assert_eq!(cxx.templates[0], "libstdc++6 #MINVER#");
        // A library whose package has a shlibs file only: kea-common's libkea-*.
        let kea = std::fs::read_dir(&target.arch_info.libdir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).find(|n| n.starts_with("libkea-util.so."));
        let kea = kea.expect("this test reads Kea's libkea-util.so.N: apt-get install kea-common");
        let LibraryDeps::Shlibs(r) = host.resolve(&kea, &me).unwrap() else { panic!("kea-common has a shlibs file only") };
        assert_eq!(r[0].name, "kea-common");
        assert_eq!(r[0].constraint.as_ref().map(|c| c.0), Some(Op::Ge));
    }

    /// Debian's own Kea hooks (kea-common's), each given to real `dpkg-shlibdeps` and to
    /// `discover`: the same relations, but for the kea-common one dpkg-shlibdeps reads from
    /// kea-common's shlibs file, which keapack leaves to its exact Kea pin.
    #[test]
    fn debian_s_own_kea_hooks_get_what_dpkg_shlibdeps_writes() {
        let target = Profiles::builtin().target(&format!("debian-12-{}", crate::plan::profile::host_arch(Format::Deb))).unwrap();
        let dir = Path::new(&target.arch_info.libdir).join("kea/hooks");
        let mut libs: Vec<PathBuf> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "so")).collect()).unwrap_or_default();
        libs.sort();
        assert!(libs.len() >= 3, "this test reads Debian's Kea hooks in {}: apt-get install kea-common", dir.display());
        assert!(Path::new("/usr/bin/dpkg-shlibdeps").is_file(), "this test runs dpkg-shlibdeps: apt-get install dpkg-dev");
        for lib in libs {
            let name = lib.file_name().unwrap().to_string_lossy().into_owned();
            let machine = crate::support::elf::machine(&lib).unwrap();
            let hooks = vec![StagedHook { library: name.clone(), path: lib.clone(), premium: false, machine }];
            let d = discover(&hooks, &target, Some(Format::Deb), Path::new("/")).unwrap();
            assert!(d.warnings.is_empty(), "{name}: {:?}", d.warnings);
            let ours: Vec<String> = d.by_library[&name].iter().map(relation::deb_string).collect();

            let tmp = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(tmp.path().join("debian/p")).unwrap();
            std::fs::write(tmp.path().join("debian/control"), "Source: p\n\nPackage: p\nArchitecture: any\n").unwrap();
            std::fs::copy(&lib, tmp.path().join("debian/p").join(&name)).unwrap();
            let out = Command::new("dpkg-shlibdeps").arg("-O").arg(format!("debian/p/{name}")).current_dir(tmp.path()).env("LC_ALL", "C").output().unwrap();
            assert!(out.status.success(), "dpkg-shlibdeps {name}: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let theirs = text.lines().find_map(|l| l.strip_prefix("shlibs:Depends=")).unwrap_or_else(|| panic!("{text}"));
            let theirs: Vec<String> = theirs.split(", ").filter(|r| !r.starts_with("kea-common ")).map(str::to_string).collect();
            assert_eq!(ours, theirs, "{name}");
            assert!(ours.iter().any(|r| r.starts_with("libc6 (>= ")), "{name}: {ours:?}");
        }
    }

    #[test]
    fn hooks_get_debian_packages_or_rpm_capabilities_never_kea_libraries() {
        // A library linked like a hook: against libkea-* and the C++ runtime.
        let deb = Profiles::builtin().target(&format!("debian-12-{}", crate::plan::profile::host_arch(Format::Deb))).unwrap();
        let path = Path::new(&deb.arch_info.libdir).join("libkea-hooks.so");
        assert!(path.exists(), "this test reads Kea's libkea-hooks.so: apt-get install kea-dev");
        let info = elf::read(&path).unwrap();
        assert!(info.needed.iter().any(|n| is_kea_library(n)) && info.needed.iter().any(|n| n == "libstdc++.so.6"), "{info:?}");
        let machine = crate::support::elf::machine(&path).unwrap();
        let hooks = vec![StagedHook { library: "libdhcp_x.so".into(), path, premium: true, machine }];
        let profiles = Profiles::builtin();
        let d = discover(&hooks, &deb, Some(Format::Deb), Path::new("/")).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let names: Vec<&str> = d.by_library["libdhcp_x.so"].iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"libc6") && names.contains(&"libstdc++6"), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("kea")), "libkea-* is the runtime pin's job: {names:?}");
        assert!(names.windows(2).all(|w| w[0] < w[1]), "merged: one relation per package, sorted: {names:?}");

        let cross = discover(&hooks, &deb, Some(Format::Rpm), Path::new("/")).unwrap();
        assert!(cross.by_library["libdhcp_x.so"].is_empty());
        assert!(cross.warnings[0].contains("not Debian-family") && cross.warnings[0].contains("libc.so.6 (needed by libdhcp_x.so)"), "{:?}", cross.warnings);

        let rpm = profiles.target(&format!("rhel-9-{}", crate::plan::profile::host_arch(Format::Rpm))).unwrap();
        for host in [Some(Format::Deb), Some(Format::Rpm), None] {
            let r = discover(&hooks, &rpm, host, Path::new("/")).unwrap();
            let caps: Vec<&str> = r.by_library["libdhcp_x.so"].iter().map(|r| r.name.as_str()).collect();
            assert!(caps.contains(&"libc.so.6()(64bit)") && caps.iter().any(|c| c.starts_with("libc.so.6(GLIBC_2.")), "{caps:?}");
            assert!(caps.contains(&"libstdc++.so.6()(64bit)") && !caps.iter().any(|c| c.contains("kea")), "{caps:?}");
            assert!(r.warnings.is_empty());
        }
        assert!(is_kea_library("libkea-hooks.so.57") && !is_kea_library("libkeak.so.1"));
    }
}

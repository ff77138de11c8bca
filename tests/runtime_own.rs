//! Kea's own packages (`--runtime own`): the split of a full build of the example (whose Kea
//! installs the file set of a real Kea 2.2.0, `examples/kea-2.2.0/src/bin/installed-files.txt`)
//! into `keapack-kea-common`, `-dhcp4`, … beside the hooks package, as the packages hold it.
//!
//! - every entry of every package the run wrote (path, kind, mode, owner, config mark) against
//!   `tests/golden-runtime/<target>/<package>.txt` (`UPDATE_GOLDEN=1` rewrites them), and every
//!   file and link of installed-files.txt in exactly one package, but the documented leave-outs;
//! - the systemd units pass `systemd-analyze verify` in a root made of the packages;
//! - the maintainer scripts parse under `sh` and `dash`, and hold the prefix and the service
//!   user only inside single quotes;
//! - `keapack lint` passes on the run's output directory;
//! - fast: the dry run names every package, `runtime-prefix` renames them, and a prefix without
//!   runtime "own" or not a valid package name is refused.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One build of the example with `--runtime own`, shared by the slow tests of this file.
fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| build_example_tarballs("runtime-own-", "tar.gz", &["--runtime", "own"]))
}

const DEB_TARGET: &str = "debian-12-amd64";
const RPM_TARGET: &str = "rhel-9-x86_64";
const PREFIX: &str = "keapack-kea";
/// The parts the example's Kea (configured with MySQL and PostgreSQL) makes, without `dev`.
const PARTS: [&str; 10] = ["common", "dhcp4", "dhcp6", "dhcp-ddns", "ctrl-agent", "admin", "hooks", "mysql", "pgsql", "doc"];
const DAEMONS: [&str; 4] = ["dhcp4", "dhcp6", "dhcp-ddns", "ctrl-agent"];
const HOOKS_PACKAGE: &str = "kea-premium-hooks";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Deb,
    Rpm,
}

fn format_of(target: &str) -> Format {
    if target.starts_with("debian") { Format::Deb } else { Format::Rpm }
}

/// One entry of a package's payload.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    /// `file`, `dir` or `link -> TARGET`.
    kind: String,
    mode: u32,
    owner: String,
    config: bool,
}

impl Entry {
    fn line(&self) -> String {
        format!("{} {} {:04o} {}{}", self.path, self.kind, self.mode, self.owner, if self.config { " config" } else { "" })
    }
}

/// The package files of one target in the run's output directory, by package name.
fn packages_of(out: &Path, target: &str) -> BTreeMap<String, PathBuf> {
    let ext = match format_of(target) {
        Format::Deb => ".deb",
        Format::Rpm => ".rpm",
    };
    let mut found = BTreeMap::new();
    for e in std::fs::read_dir(out).unwrap().flatten() {
        let file = e.file_name().into_string().unwrap();
        if !file.ends_with(ext) {
            continue;
        }
        let path = e.path();
        let name = match format_of(target) {
            Format::Deb => stdout(Command::new("dpkg-deb").arg("-f").arg(&path).arg("Package")).trim().to_string(),
            Format::Rpm => stdout(Command::new("rpm").args(["-qp", "--qf", "%{NAME}"]).arg(&path)).trim().to_string(),
        };
        assert!(found.insert(name.clone(), path).is_none(), "{target}: two packages named {name} in {}", out.display());
    }
    found
}

/// `rwxr-x---` (with s, S, t, T) as a number.
fn perm_bits(s: &str) -> u32 {
    let c: Vec<char> = s.chars().collect();
    assert_eq!(c.len(), 9, "not a permission string: {s}");
    let mut m = 0;
    for (i, ch) in c.iter().enumerate() {
        let bit = 1 << (8 - i);
        match ch {
            'r' | 'w' | 'x' => m |= bit,
            's' | 't' => m |= bit | special_bit(i),
            'S' | 'T' => m |= special_bit(i),
            '-' => {}
            other => panic!("unknown permission character {other:?} in {s}"),
        }
    }
    m
}

fn special_bit(i: usize) -> u32 {
    match i {
        2 => 0o4000,
        5 => 0o2000,
        8 => 0o1000,
        _ => panic!("s/t in position {i}"),
    }
}

/// Every entry of a package: deb from its data tar (`tar -tv`) and `conffiles`, rpm from the
/// header's file list and flags.
fn entries(package: &Path, format: Format) -> Vec<Entry> {
    match format {
        Format::Deb => {
            let listing = stdout(Command::new("sh").arg("-c").arg("dpkg-deb --fsys-tarfile \"$1\" | LC_ALL=C tar -tvf -").arg("sh").arg(package));
            let conffiles = run(Command::new("dpkg-deb").arg("--info").arg(package).arg("conffiles"));
            let conffiles: BTreeSet<String> = if conffiles.status.success() { text(&conffiles.stdout).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect() } else { BTreeSet::new() };
            let mut out = Vec::new();
            for line in listing.lines() {
                // drwxr-xr-x root/root 0 2023-11-14 22:13 ./etc/kea/
                let fields: Vec<&str> = line.splitn(6, ' ').filter(|f| !f.is_empty()).collect();
                let mut parts = line.split_whitespace();
                let perms = parts.next().unwrap();
                let owner = parts.next().unwrap().replace('/', ":");
                let name_start = line.find(" ./").unwrap_or_else(|| panic!("{}: unexpected tar line {line:?} ({fields:?})", package.display())) + 1;
                let name = &line[name_start..];
                let (name, link) = match name.split_once(" -> ") {
                    Some((n, t)) => (n, Some(t)),
                    None => (name, None),
                };
                let path = name.trim_start_matches('.').trim_end_matches('/').to_string();
                if path.is_empty() {
                    continue;
                }
                let kind = match (perms.chars().next().unwrap(), link) {
                    ('d', _) => "dir".to_string(),
                    ('l', Some(t)) => format!("link -> {t}"),
                    ('-', None) => "file".to_string(),
                    other => panic!("{}: unexpected entry type {other:?} in {line:?}", package.display()),
                };
                let config = conffiles.contains(&path);
                out.push(Entry { path, kind, mode: perm_bits(&perms[1..]), owner, config });
            }
            for c in &conffiles {
                assert!(out.iter().any(|e| &e.path == c && e.kind == "file"), "{}: conffile {c} is not a file of the package", package.display());
            }
            out
        }
        Format::Rpm => {
            let q = stdout(Command::new("rpm").args(["-qp", "--qf", "[%{FILENAMES}\t%{FILEMODES}\t%{FILEUSERNAME}:%{FILEGROUPNAME}\t%{FILEFLAGS:fflags}\t%{FILELINKTOS}\n]"]).arg(package));
            q.lines()
                .filter(|l| !l.is_empty())
                .map(|line| {
                    let f: Vec<&str> = line.split('\t').collect();
                    assert_eq!(f.len(), 5, "{}: unexpected rpm line {line:?}", package.display());
                    let mode: u32 = f[1].parse().unwrap_or_else(|_| panic!("{}: mode {:?}", package.display(), f[1]));
                    let kind = match mode & 0o170000 {
                        0o040000 => "dir".to_string(),
                        0o120000 => format!("link -> {}", f[4]),
                        0o100000 => "file".to_string(),
                        other => panic!("{}: {} has file type {other:o}", package.display(), f[0]),
                    };
                    Entry { path: f[0].to_string(), kind, mode: mode & 0o7777, owner: f[2].to_string(), config: f[3].contains('c') }
                })
                .collect()
        }
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden-runtime")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Compare (or with UPDATE_GOLDEN=1 write) one target's listings; returns what differs.
fn check_golden(target: &str, listings: &BTreeMap<String, String>) -> Vec<String> {
    let dir = golden_dir().join(target);
    if updating() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        for (package, text) in listings {
            std::fs::write(dir.join(format!("{package}.txt")), text).unwrap();
        }
        return Vec::new();
    }
    let mut problems = Vec::new();
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir).map(|d| d.flatten().filter_map(|e| e.file_name().into_string().ok()).filter_map(|n| n.strip_suffix(".txt").map(str::to_string)).collect()).unwrap_or_default();
    for gone in on_disk.iter().filter(|p| !listings.contains_key(*p)) {
        problems.push(format!("{target}: golden file for {gone} but the run wrote no such package"));
    }
    for (package, text) in listings {
        let want = std::fs::read_to_string(dir.join(format!("{package}.txt"))).unwrap_or_default();
        if &want == text {
            continue;
        }
        let want_lines: BTreeSet<&str> = want.lines().collect();
        let have_lines: BTreeSet<&str> = text.lines().collect();
        let mut diff = format!("{target}/{package}.txt differs:");
        for l in want_lines.difference(&have_lines) {
            diff += &format!("\n  - {l}");
        }
        for l in have_lines.difference(&want_lines) {
            diff += &format!("\n  + {l}");
        }
        problems.push(diff);
    }
    problems
}

/// installed-files.txt: (kind `f` or `l`, path, link target).
fn installed_files() -> Vec<(char, String, Option<String>)> {
    let list = std::fs::read_to_string(examples().join("kea-2.2.0/src/bin/installed-files.txt")).unwrap();
    let mut out = Vec::new();
    for line in list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[0] {
            "f" => out.push(('f', f[2].to_string(), None)),
            "l" => out.push(('l', f[1].to_string(), Some(f[2].to_string()))),
            "d" => {}
            other => panic!("installed-files.txt: unknown kind {other:?} in {line:?}"),
        }
    }
    assert!(out.len() > 500, "installed-files.txt lists only {} files and links", out.len());
    out
}

/// Why a path of installed-files.txt is in none of Kea's own packages (the run's notes and
/// src/plan/runtime.rs), or None when it must be in exactly one.
fn left_out(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap();
    if path.starts_with("/usr/include/") {
        Some("a header (runtime-dev)")
    } else if name.starts_with("libkea-") && name.ends_with(".so") {
        Some("a link library (runtime-dev)")
    } else if name == "kea-msg-compiler" || path.contains("/pkgconfig/") {
        Some("development (runtime-dev)")
    } else if name.ends_with(".la") {
        Some("a libtool archive")
    } else if path.starts_with("/var/") || path.starts_with("/run/") {
        Some("made by tmpfiles.d and the units")
    } else if path == "/usr/share/doc/kea/html/.buildinfo" {
        Some("Sphinx's bookkeeping")
    } else {
        None
    }
}

/// A path of installed-files.txt as the target's packages hold it: the rpm targets' libdir,
/// man pages gzipped.
fn packaged_path(path: &str, format: Format) -> String {
    let mut p = path.to_string();
    if format == Format::Rpm
        && let Some(rest) = p.strip_prefix("/usr/lib/x86_64-linux-gnu/")
    {
        p = format!("/usr/lib64/{rest}");
    }
    if p.starts_with("/usr/share/man/") {
        p += ".gz";
    }
    p
}

#[test]
#[ignore = "slow: builds the example"]
fn the_package_split_is_exact() {
    let b = built();
    let mut problems = Vec::new();
    let listed = installed_files();
    for target in [DEB_TARGET, RPM_TARGET] {
        let format = format_of(target);
        let packages = packages_of(&b.out, target);
        let mut want: BTreeSet<String> = PARTS.iter().map(|p| format!("{PREFIX}-{p}")).collect();
        want.insert(HOOKS_PACKAGE.to_string());
        assert_eq!(packages.keys().cloned().collect::<BTreeSet<_>>(), want, "{target}: the run wrote other packages than Kea's own and the hooks package");
        let mut all: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        let mut listings = BTreeMap::new();
        for (name, path) in &packages {
            let mut e = entries(path, format);
            e.sort_by(|a, b| a.path.cmp(&b.path));
            let mut text = String::new();
            for x in &e {
                text += &x.line();
                text.push('\n');
            }
            listings.insert(name.clone(), text);
            all.insert(name.clone(), e);
        }
        problems.extend(check_golden(target, &listings));

        // Every file and link of installed-files.txt in exactly one package, as the same kind.
        for (kind, path, link) in &listed {
            let at = packaged_path(path, format);
            let holders: Vec<(&String, &Entry)> = all.iter().flat_map(|(p, es)| es.iter().filter(|e| e.path == at).map(move |e| (p, e))).collect();
            match left_out(path) {
                Some(why) => {
                    if !holders.is_empty() {
                        problems.push(format!("{target}: {at} is left out ({why}) but {:?} hold it", holders.iter().map(|h| h.0).collect::<Vec<_>>()));
                    }
                }
                None if holders.len() != 1 => problems.push(format!("{target}: {at} is in {} packages ({:?}), not exactly one", holders.len(), holders.iter().map(|h| h.0).collect::<Vec<_>>())),
                None => {
                    let (package, e) = holders[0];
                    let want_kind = match (kind, link) {
                        ('l', Some(t)) => format!("link -> {t}"),
                        _ => "file".to_string(),
                    };
                    if e.kind != want_kind {
                        problems.push(format!("{target}: {package} holds {at} as {}, installed-files.txt says {want_kind}", e.kind));
                    }
                }
            }
        }

        // What the split promises, by package.
        let has = |package: &str, path: &str| all[package].iter().find(|e| e.path == path).cloned();
        let libdir = if format == Format::Deb { "/usr/lib/x86_64-linux-gnu" } else { "/usr/lib64" };
        let unitdir = if format == Format::Deb { "/lib/systemd/system" } else { "/usr/lib/systemd/system" };
        let group = if format == Format::Deb { "root" } else { "kea" };
        let common = format!("{PREFIX}-common");
        match has(&common, "/etc/kea") {
            Some(e) if e.kind == "dir" && e.mode == 0o750 && e.owner == format!("root:{group}") => {}
            other => problems.push(format!("{target}: {common} must hold /etc/kea as a directory 0750 root:{group}, holds {other:?}")),
        }
        for d in DAEMONS {
            let package = format!("{PREFIX}-{d}");
            let program = format!("kea-{d}");
            for (path, what) in [(format!("/usr/sbin/{program}"), "its program"), (format!("/usr/share/man/man8/{program}.8.gz"), "its man page"), (format!("{unitdir}/{package}.service"), "its unit")] {
                if has(&package, &path).is_none_or(|e| e.kind != "file") {
                    problems.push(format!("{target}: {package} lacks {what} {path}"));
                }
            }
            match has(&package, &format!("/etc/kea/{program}.conf")) {
                Some(e) if e.config && e.mode == 0o640 && e.owner == format!("root:{group}") => {}
                other => problems.push(format!("{target}: {package} must hold /etc/kea/{program}.conf as a config file 0640 root:{group}, holds {other:?}")),
            }
        }
        for e in all.values().flatten().filter(|e| e.path.starts_with("/etc/kea/") && e.kind == "file") {
            if !e.config || e.mode != 0o640 {
                problems.push(format!("{target}: {} under /etc/kea is not a 0640 config file: {}", e.path, e.line()));
            }
        }
        for e in all.values().flatten().filter(|e| e.path.starts_with("/usr/share/man/") && e.kind == "file") {
            if !e.path.ends_with(".gz") {
                problems.push(format!("{target}: man page {} not gzipped", e.path));
            }
        }
        for (package, es) in &all {
            for e in es.iter().filter(|e| e.path.starts_with(&format!("{libdir}/libkea-"))) {
                if package != &common {
                    problems.push(format!("{target}: {} is in {package}, not {common}", e.path));
                }
            }
            for e in es.iter().filter(|e| e.path.starts_with(&format!("{libdir}/kea/hooks/")) && e.kind == "file") {
                let hook = e.path.rsplit('/').next().unwrap();
                let want = if hook.starts_with("libdhcp_mysql") {
                    format!("{PREFIX}-mysql")
                } else if hook.starts_with("libdhcp_pgsql") {
                    format!("{PREFIX}-pgsql")
                } else if ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"].contains(&hook) {
                    HOOKS_PACKAGE.to_string()
                } else {
                    format!("{PREFIX}-hooks")
                };
                if package != &want {
                    problems.push(format!("{target}: hook {} is in {package}, not {want}", e.path));
                }
            }
        }
    }
    if updating() {
        eprintln!("rewrote {}: review the diff (git diff tests/golden-runtime)", golden_dir().display());
    }
    assert!(
        problems.is_empty(),
        "Kea's own packages are not split as they should be. If a golden file change is intended, rewrite them with\n    UPDATE_GOLDEN=1 cargo test --test runtime_own -- --include-ignored the_package_split_is_exact\nand review the diff.\n\n{}",
        problems.join("\n")
    );
}

#[test]
#[ignore = "slow: builds the example"]
fn the_units_pass_systemd_analyze_verify() {
    require("systemd-analyze", "systemd");
    let b = built();
    let root = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for (name, deb) in packages_of(&b.out, DEB_TARGET) {
        ok(run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root.path())), &format!("dpkg-deb -x {}", deb.display()));
        for e in entries(&deb, Format::Deb) {
            if e.path.ends_with(".service") {
                units.push((name.clone(), e.path));
            }
        }
    }
    assert_eq!(units.len(), DAEMONS.len(), "the Debian packages hold {} units, one per daemon expected: {units:?}", units.len());
    // What a unit's dependencies and ExecReload need of the system, which no Kea package holds:
    // systemd's own units (sysinit.target, …) and kill, copied from this host without replacing
    // anything the packages hold.
    let host_units = Path::new("/usr/lib/systemd/system");
    assert!(host_units.join("sysinit.target").exists(), "this host has no {}/sysinit.target: apt-get install systemd", host_units.display());
    let units_in_root = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units_in_root).unwrap();
    ok(run(Command::new("cp").arg("-a").arg("-n").arg(format!("{}/.", host_units.display())).arg(&units_in_root)), "cp systemd's units");
    let kill = ["/usr/bin/kill", "/bin/kill"].into_iter().find(|k| Path::new(k).is_file()).expect("this host has no kill: apt-get install procps");
    for dir in ["bin", "usr/bin"] {
        let to = root.path().join(dir).join("kill");
        if !to.exists() {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
            std::fs::copy(kill, &to).unwrap();
        }
    }
    let mut problems = Vec::new();
    for (package, path) in &units {
        let unit = path.rsplit('/').next().unwrap();
        let body = std::fs::read_to_string(root.path().join(path.trim_start_matches('/'))).unwrap();
        // `--man=no`: man runs on this host, not in the root; the man pages are checked here.
        for doc in body.lines().filter_map(|l| l.strip_prefix("Documentation=")).flat_map(|l| l.split_whitespace()) {
            if let Some(m) = doc.strip_prefix("man:") {
                let (page, section) = m.trim_end_matches(')').split_once('(').unwrap_or_else(|| panic!("{unit}: Documentation={doc} names no section"));
                let file = root.path().join(format!("usr/share/man/man{section}/{page}.{section}.gz"));
                if !file.is_file() {
                    problems.push(format!("{package}: {unit} names {doc}, which no package holds ({})", file.display()));
                }
            }
        }
        let exec = body.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap_or_else(|| panic!("{unit} has no ExecStart"));
        let program = exec.split_whitespace().next().unwrap().trim_start_matches(['-', '@', '!', '+', ':']);
        assert!(root.path().join(program.trim_start_matches('/')).is_file(), "{unit}: ExecStart {program} is not in the packages' tree");
        let out = run(Command::new("systemd-analyze").arg("verify").arg("--man=no").arg(format!("--root={}", root.path().display())).arg(unit).env("SYSTEMD_LOG_COLOR", "0"));
        let said = (text(&out.stdout) + &text(&out.stderr)).trim().to_string();
        if !out.status.success() || !said.is_empty() {
            problems.push(format!("{package}: systemd-analyze verify {unit} ({}):\n{said}\n--- {path}:\n{body}", out.status));
        }
    }
    // The check must be able to fail: a unit whose program is missing from the root is refused.
    let probe = root.path().join("lib/systemd/system/keapack-probe.service");
    std::fs::write(&probe, "[Service]\nExecStart=/usr/sbin/keapack-no-such-program\n").unwrap();
    let out = run(Command::new("systemd-analyze").arg("verify").arg("--man=no").arg(format!("--root={}", root.path().display())).arg("keapack-probe.service"));
    assert!(!out.status.success() || !out.stderr.is_empty(), "systemd-analyze verify --root passed a unit whose program is not in the root: this check cannot fail");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The maintainer scripts of a package: (name, interpreter, text).
fn scripts(package: &Path, format: Format) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    match format {
        Format::Deb => {
            let dir = tempfile::tempdir().unwrap();
            ok(run(Command::new("sh").arg("-c").arg("dpkg-deb --ctrl-tarfile \"$1\" | tar -xf - -C \"$2\"").arg("sh").arg(package).arg(dir.path())), "dpkg-deb --ctrl-tarfile");
            for name in ["preinst", "postinst", "prerm", "postrm", "config"] {
                if let Ok(t) = std::fs::read_to_string(dir.path().join(name)) {
                    let interp = t.lines().next().unwrap_or("").trim_start_matches("#!").trim().to_string();
                    out.push((name.to_string(), interp, t));
                }
            }
        }
        Format::Rpm => {
            for tag in ["PRETRANS", "PREIN", "POSTIN", "PREUN", "POSTUN", "POSTTRANS"] {
                let body = stdout(Command::new("rpm").args(["-qp", "--qf", &format!("%{{{tag}}}")]).arg(package));
                let prog = stdout(Command::new("rpm").args(["-qp", "--qf", &format!("%{{{tag}PROG}}")]).arg(package)).trim().to_string();
                if body.trim() != "(none)" && !body.trim().is_empty() {
                    out.push((tag.to_lowercase(), prog, body));
                }
            }
        }
    }
    out
}

/// Where each byte of a shell script stands: 'c' code, 's' inside single quotes, 'd' inside
/// double quotes, '#' a comment.
fn shell_classes(script: &str) -> Vec<char> {
    let b = script.as_bytes();
    let mut class = vec!['c'; b.len()];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                let end = script[i + 1..].find('\'').map_or(b.len(), |e| i + 1 + e);
                for c in class.iter_mut().take(end).skip(i + 1) {
                    *c = 's';
                }
                i = end + 1;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        class[j] = 'd';
                        j += 1;
                    }
                    if j < b.len() {
                        class[j] = 'd';
                    }
                    j += 1;
                }
                i = j + 1;
            }
            b'\\' => i += 2,
            b'#' if i == 0 || b[i - 1].is_ascii_whitespace() || b";|&(".contains(&b[i - 1]) => {
                while i < b.len() && b[i] != b'\n' {
                    class[i] = '#';
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    class
}

/// Occurrences of `value` in the code of `script` (not in comments) that are not wholly inside
/// single quotes; `whole_word`: only where no name character touches it. Returns the lines.
fn unquoted(script: &str, value: &str, whole_word: bool) -> Vec<String> {
    let class = shell_classes(script);
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let b = script.as_bytes();
    let mut bad = Vec::new();
    for (at, _) in script.match_indices(value) {
        let end = at + value.len();
        if whole_word && ((at > 0 && word(b[at - 1])) || (end < b.len() && word(b[end]))) {
            continue;
        }
        if class[at] == '#' {
            continue;
        }
        if class[at..end].iter().any(|c| *c != 's') {
            let line_start = script[..at].rfind('\n').map_or(0, |p| p + 1);
            let line_end = script[at..].find('\n').map_or(script.len(), |p| at + p);
            bad.push(script[line_start..line_end].to_string());
        }
    }
    bad
}

#[test]
fn the_quote_check_finds_unquoted_values() {
    let script = "#!/bin/sh\n# the user _kea's home\nuseradd '_kea'\nchown _kea /x\necho \"_kea\"\nprintf '%s' 'u _kea -'\n";
    assert_eq!(unquoted(script, "_kea", true), vec!["chown _kea /x".to_string(), "echo \"_kea\"".to_string()]);
    assert_eq!(unquoted("f '/etc/keapack-kea.conf' x keapack-kea-dhcp4\n", "keapack-kea", false), vec!["f '/etc/keapack-kea.conf' x keapack-kea-dhcp4".to_string()]);
}

#[test]
#[ignore = "slow: builds the example"]
fn scripts_parse_and_quote() {
    require("dash", "dash");
    let b = built();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (target, user) in [(DEB_TARGET, "_kea"), (RPM_TARGET, "kea")] {
        let format = format_of(target);
        let mut common_mentions = (0, 0);
        for (name, path) in packages_of(&b.out, target).into_iter().filter(|(n, _)| n.starts_with(&format!("{PREFIX}-"))) {
            for (script, interp, body) in scripts(&path, format) {
                if !matches!(interp.as_str(), "/bin/sh" | "") {
                    problems.push(format!("{target} {name} {script}: runs under {interp:?}, not /bin/sh"));
                    continue;
                }
                checked += 1;
                let file = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(file.path(), &body).unwrap();
                for shell in ["sh", "dash"] {
                    let out = run(Command::new(shell).arg("-n").arg(file.path()));
                    if !out.status.success() {
                        problems.push(format!("{target} {name} {script}: {shell} -n: {}", text(&out.stderr)));
                    }
                }
                for (value, whole) in [(PREFIX, false), (user, true)] {
                    for line in unquoted(&body, value, whole) {
                        problems.push(format!("{target} {name} {script}: {value} outside single quotes: {line}"));
                    }
                }
                if name == format!("{PREFIX}-common") {
                    common_mentions.0 += body.matches(PREFIX).count();
                    common_mentions.1 += body.matches(&format!("'{user}'")).count();
                }
            }
        }
        assert!(common_mentions.0 > 0 && common_mentions.1 > 0, "{target}: {PREFIX}-common's scripts never name the prefix or the user '{user}' ({common_mentions:?}): the quoting check checked nothing");
    }
    assert!(checked >= 2 * DAEMONS.len(), "only {checked} scripts checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
#[ignore = "slow: builds the example"]
fn lint_passes_on_every_runtime_package() {
    require("lintian", "lintian");
    require("rpmlint", "rpmlint");
    let b = built();
    let out = run(keapack().arg("lint").arg(&b.out).env("LC_ALL", "C"));
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "keapack lint {} exited {:?}:\n{o}\n{e}", b.out.display(), out.status.code());
    for name in packages_of(&b.out, DEB_TARGET).values().chain(packages_of(&b.out, RPM_TARGET).values()) {
        let file = name.file_name().unwrap().to_string_lossy().into_owned();
        assert!(o.contains(&file) || e.contains(&file), "keapack lint did not report on {file}:\n{o}\n{e}");
    }
}

/// The file names the run writes for `prefix` at `version`, both targets, with the hooks package.
fn expected_files(prefix: &str, version: &str) -> Vec<String> {
    let mut v = Vec::new();
    for part in PARTS {
        let (deb_arch, rpm_arch) = if part == "doc" { ("all", "noarch") } else { ("amd64", "x86_64") };
        v.push(format!("{prefix}-{part}_{version}-1+deb12_{deb_arch}.deb"));
        v.push(format!("{prefix}-{part}-{version}-1.el9.{rpm_arch}.rpm"));
    }
    v
}

#[test]
fn dry_run_lists_every_runtime_package() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(keapack().args(["demo", "--runtime", "own", "--dry-run"]).arg("--out").arg(tmp.path().join("out")).arg("--work").arg(tmp.path().join("work")));
    let (plan, err) = ok(out, "keapack demo --runtime own --dry-run");
    let mut missing: Vec<String> = expected_files(PREFIX, "2.2.0").into_iter().filter(|f| !plan.contains(f.as_str())).collect();
    for f in ["kea-premium-hooks_2.2.0-1+deb12_amd64.deb", "kea-premium-hooks-2.2.0-1.el9.x86_64.rpm"] {
        if !plan.contains(f) {
            missing.push(f.to_string());
        }
    }
    assert!(missing.is_empty(), "the dry run does not name {missing:?}:\n{plan}\n{err}");
    // The example's options ask for no database: its back ends are named as possible only.
    for part in ["mysql", "pgsql"] {
        let line = plan.lines().find(|l| l.contains(&format!("{PREFIX}-{part}_2.2.0"))).unwrap_or_default();
        assert!(line.ends_with("(package, if Kea builds it)"), "{part}: {line}\n{plan}");
    }
    assert!(plan.lines().any(|l| l.contains(&format!("{PREFIX}-dhcp4_2.2.0")) && l.ends_with("(package)")), "{plan}");
    assert!(!tmp.path().join("out").exists(), "the dry run made its output directory");
}

/// The example's sources as tarballs in `dir`: (kea, premium).
fn example_tarballs(dir: &Path) -> (PathBuf, PathBuf) {
    let kea = dir.join("kea-2.2.0.tar.gz");
    let premium = dir.join("kea-premium-2.2.0.tar.gz");
    tarball(&examples().join("kea-2.2.0"), "kea-2.2.0", &kea);
    tarball(&examples().join("kea-premium-2.2.0"), "", &premium);
    (kea, premium)
}

fn dry_run_with_manifest(dir: &Path, manifest: &str) -> std::process::Output {
    let (kea, premium) = example_tarballs(dir);
    let m = dir.join("keapack.toml");
    std::fs::write(&m, manifest).unwrap();
    run(keapack()
        .args(["build", "--dry-run", "--target", DEB_TARGET, "--target", RPM_TARGET])
        .arg("--manifest").arg(&m)
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(dir.join("out"))
        .arg("--work").arg(dir.join("work")))
}

#[test]
fn runtime_prefix_names_the_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dry_run_with_manifest(tmp.path(), "[package]\nruntime = \"own\"\nruntime-prefix = \"isc-kea\"\n");
    let (plan, err) = ok(out, "keapack build --dry-run with runtime-prefix = \"isc-kea\"");
    // A dry run unpacks nothing, so it does not know the version: match the names up to it.
    let mut missing = Vec::new();
    for part in PARTS {
        for start in [format!("isc-kea-{part}_"), format!("isc-kea-{part}-")] {
            let named = plan.lines().any(|l| l.split_whitespace().any(|w| w.starts_with(&start) && (w.ends_with(".deb") || w.ends_with(".rpm")) && !w[start.len()..].starts_with(|c: char| c.is_ascii_lowercase())));
            if !named {
                missing.push(start);
            }
        }
    }
    assert!(missing.is_empty(), "the dry run names no package starting {missing:?}:\n{plan}\n{err}");
    assert!(!plan.contains(&format!("{PREFIX}-")), "the default prefix {PREFIX} is still named:\n{plan}");
}

#[test]
fn runtime_prefix_without_runtime_own_is_a_warning() {
    // A manifest kept for runtime "own", built once with another runtime (--runtime isc): the
    // run goes on, saying the key has no effect.
    let tmp = tempfile::tempdir().unwrap();
    let out = dry_run_with_manifest(tmp.path(), "[package]\nruntime = \"distribution\"\nruntime-prefix = \"isc-kea\"\nruntime-dev = true\n");
    let (plan, err) = ok(out, "runtime-prefix with runtime = \"distribution\"");
    let all = format!("{plan}\n{err}");
    assert!(all.contains("package.runtime-prefix and package.runtime-dev apply only to runtime \"own\"") && all.contains("no effect"), "no warning about the unused keys:\n{all}");
    assert!(!plan.contains("isc-kea-common"), "Kea's own packages are planned without runtime \"own\":\n{plan}");
}

#[test]
fn an_invalid_runtime_prefix_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dry_run_with_manifest(tmp.path(), "[package]\nruntime = \"own\"\nruntime-prefix = \"Bad_Prefix\"\n");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "runtime-prefix = \"Bad_Prefix\" was not refused with exit code 2:\n{}\n{err}", text(&out.stdout));
    assert!(err.contains("runtime-prefix") && err.contains("Bad_Prefix"), "the refusal does not name the key and the value:\n{err}");
}

#[test]
#[ignore = "slow: builds the example twice"]
fn kea_packages_are_reproducible() {
    // --check-reproducible builds again in another work directory, TZ, LANG and umask and
    // compares every output: Kea's own packages included.
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = example_tarballs(tmp.path());
    let out = run(keapack()
        .args(["build", "--runtime", "own", "--check-reproducible", "--target", DEB_TARGET, "--target", RPM_TARGET])
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(tmp.path().join("out"))
        .arg("--work").arg(tmp.path().join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    let (stdout, err) = ok(out, "keapack build --runtime own --check-reproducible");
    let kea_packages = packages_of(&tmp.path().join("out"), DEB_TARGET).len() + packages_of(&tmp.path().join("out"), RPM_TARGET).len();
    let want = format!("reproducible: {kea_packages} packages and the build record are byte-identical across two builds");
    assert!(err.contains(&want), "expected '{want}':\n{stdout}\n{err}");
    assert!(kea_packages >= 2 * (PARTS.len() + 1), "{kea_packages} packages: {stdout}");
}

/// Findings of level E or W in what lintian (`-EIL +pedantic`, as `keapack lint`) or rpmlint
/// (`-c packaging/rpmlint.toml`) said about `package`, unfiltered.
fn lint_errors_and_warnings(package: &Path, format: Format) -> Vec<String> {
    let out = match format {
        Format::Deb => run(Command::new("lintian").args(["-EIL", "+pedantic", "--tag-display-limit", "0"]).arg(package).env("LC_ALL", "C")),
        Format::Rpm => run(Command::new("rpmlint").arg("-c").arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/rpmlint.toml")).arg(package).env("LC_ALL", "C")),
    };
    let said = text(&out.stdout) + &text(&out.stderr);
    // lintian: 0, or 2 with an error tag; rpmlint: 0, or 64/65/66 (errors, badness).
    let ran = match format {
        Format::Deb => matches!(out.status.code(), Some(0 | 2)),
        Format::Rpm => matches!(out.status.code(), Some(0 | 64 | 65 | 66)),
    };
    assert!(ran, "the checker could not check {} ({}):\n{said}", package.display(), out.status);
    said.lines()
        .filter(|l| match format {
            Format::Deb => l.starts_with("E: ") || l.starts_with("W: "),
            Format::Rpm => l.contains(": E: ") || l.contains(": W: "),
        })
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "slow: builds the example"]
fn the_development_package_holds_headers_and_link_libraries() {
    require_build_tools();
    require("lintian", "lintian");
    require("rpmlint", "rpmlint");
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = example_tarballs(tmp.path());
    let manifest = tmp.path().join("keapack.toml");
    std::fs::write(&manifest, "[package]\nruntime = \"own\"\nruntime-dev = true\n").unwrap();
    let out = tmp.path().join("out");
    let res = run(keapack()
        .arg("build")
        .arg("--manifest").arg(&manifest)
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .args(["--target", DEB_TARGET, "--target", RPM_TARGET])
        .arg("--out").arg(&out)
        .arg("--work").arg(tmp.path().join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    let (said, notes) = ok(res, "keapack build with runtime = \"own\", runtime-dev = true");
    // The notes still say what else was left out (so they were printed), but no longer the
    // development files.
    assert!(notes.contains("not in Kea's own packages ("), "the run printed no notes on what it left out:\n{said}\n{notes}");
    let dev_notes: Vec<&str> = notes.lines().filter(|l| l.contains("development files") || l.contains("runtime-dev")).collect();
    assert!(dev_notes.is_empty(), "with runtime-dev = true the notes still leave development files out:\n{}", dev_notes.join("\n"));

    let list = std::fs::read_to_string(examples().join("kea-2.2.0/src/bin/installed-files.txt")).unwrap();
    let common = format!("{PREFIX}-common");
    let mut problems = Vec::new();
    for (target, want_depends) in [(DEB_TARGET, format!("{common} (= 2.2.0-1+deb12)")), (RPM_TARGET, format!("{common} = 2.2.0-1.el9"))] {
        let format = format_of(target);
        // Debian's -dev, the RPM family's -devel.
        let dev = format!("{PREFIX}-{}", if format == Format::Deb { "dev" } else { "devel" });
        let packages = packages_of(&out, target);
        let Some(file) = packages.get(&dev) else {
            problems.push(format!("{target}: no {dev} package; the run wrote {:?}", packages.keys().collect::<Vec<_>>()));
            continue;
        };
        // It holds links into the architecture's libdir: a package of the architecture.
        let arch = match format {
            Format::Deb => stdout(Command::new("dpkg-deb").arg("-f").arg(file).arg("Architecture")),
            Format::Rpm => stdout(Command::new("rpm").args(["-qp", "--qf", "%{ARCH}"]).arg(file)),
        };
        let want_arch = if format == Format::Deb { "amd64" } else { "x86_64" };
        if arch.trim() != want_arch {
            problems.push(format!("{target}: {dev} is for architecture {}, not {want_arch}, yet holds the link libraries of {}", arch.trim(), if format == Format::Deb { "/usr/lib/x86_64-linux-gnu" } else { "/usr/lib64" }));
        }
        let held: BTreeMap<String, Entry> = entries(file, format).into_iter().map(|e| (e.path.clone(), e)).collect();
        let mut checked = (0, 0, 0);
        for line in list.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (kind, path, want) = match f.as_slice() {
                ["d", p] => ("d", *p, "dir".to_string()),
                ["f", _, p] => ("f", *p, "file".to_string()),
                ["l", p, t] => ("l", *p, format!("link -> {t}")),
                _ => continue,
            };
            let name = path.rsplit('/').next().unwrap();
            let header = path.starts_with("/usr/include/kea/") || path == "/usr/include/kea";
            let link_library = kind == "l" && name.starts_with("libkea-") && name.ends_with(".so");
            if !header && !link_library {
                continue;
            }
            let at = packaged_path(path, format);
            match held.get(&at) {
                Some(e) if e.kind == want => match kind {
                    "d" => checked.0 += 1,
                    "f" => checked.1 += 1,
                    _ => checked.2 += 1,
                },
                Some(e) => problems.push(format!("{target}: {dev} holds {at} as {}, installed-files.txt says {want}", e.kind)),
                None => problems.push(format!("{target}: {dev} lacks {at} ({want})")),
            }
        }
        assert!(checked.1 > 400 && checked.2 > 10, "{target}: only {checked:?} directories, headers and link libraries checked");
        for e in held.values() {
            let name = e.path.rsplit('/').next().unwrap();
            if name.starts_with("libkea-") && name.contains(".so.") {
                problems.push(format!("{target}: {dev} holds the run-time library {} ({}); {common} holds those", e.path, e.kind));
            }
        }
        let depends = match format {
            Format::Deb => stdout(Command::new("dpkg-deb").arg("-f").arg(file).arg("Depends")),
            Format::Rpm => stdout(Command::new("rpm").args(["-qp", "--requires"]).arg(file)),
        };
        let on_common: Vec<&str> = match format {
            Format::Deb => depends.split(',').map(str::trim).filter(|d| d.starts_with(&format!("{common} ")) || *d == common).collect(),
            Format::Rpm => depends.lines().map(str::trim).filter(|d| d.starts_with(&format!("{common} ")) || *d == common).collect(),
        };
        if on_common != [want_depends.as_str()] {
            problems.push(format!("{target}: {dev} must depend on exactly {want_depends:?}, its dependencies on {common} are {on_common:?} (all: {})", depends.trim().replace('\n', ", ")));
        }
        let found = lint_errors_and_warnings(file, format);
        if !found.is_empty() {
            problems.push(format!("{target}: {} of {}:\n  {}", if format == Format::Deb { "lintian" } else { "rpmlint" }, file.display(), found.join("\n  ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

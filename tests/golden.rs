//! Golden files: what the bundled example's packages say, kept as text in `tests/golden/` and
//! compared on every `cargo test`.
//!
//! For each target (`debian-12-amd64`, `rhel-9-x86_64`) and each form (`bundle`, `bundle-isc`:
//! the same with ISC's Kea runtime packages, `per-hook-meta`: one package per hook and a meta
//! package), and each package of it, `tests/golden/<target>/<form>/<package>/` holds:
//!
//! - `control` (deb: every control field, `dpkg-deb -f`) or `header.txt` (rpm: `rpm -qp
//!   --qf`: name, version, release, relations, summary, description, changelog, …);
//! - `files.txt`: every entry with its mode, owner, size and time, as the real tools list it;
//! - the maintainer scripts as packaged (deb `preinst`/`postinst`/`postrm`, rpm
//!   `pre`/`post`/`postun`);
//! - `prints.txt`: what each script prints under `sh` at each moment of the package's life
//!   (first installation, upgrade, removal while a Kea configuration still names a hook).
//!
//! The fast test plans the packages through the library from a fake staged inventory (the
//! example's three hooks as a few stub bytes each, nothing compiled), writes them, and reads
//! them back with `dpkg-deb` and `rpm`. The slow test builds the real example with the
//! keapack binary and checks its packages against the same files. What differs between the
//! two for a real reason is normalized in both: `Installed-Size`, the hook libraries' sizes,
//! and the relations read from the libraries' ELF `NEEDED` entries (deb `lib*` packages from
//! the symbols files, rpm `*.so*` capabilities), which stub bytes do not have.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the files instead of comparing them.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The timestamp of both the planned and the built packages (the built ones get it as
/// `SOURCE_DATE_EPOCH`).
const EPOCH: u64 = 1_700_000_000;
const TARGETS: [&str; 2] = ["debian-12-amd64", "rhel-9-x86_64"];

/// One way of dividing the example's hooks into packages, and the flags that ask for it.
struct Form {
    name: &'static str,
    per_hook: bool,
    isc: bool,
    flags: &'static [&'static str],
}

const FORMS: [Form; 3] = [
    Form { name: "bundle", per_hook: false, isc: false, flags: &[] },
    Form { name: "bundle-isc", per_hook: false, isc: true, flags: &["--runtime", "isc"] },
    Form { name: "per-hook-meta", per_hook: true, isc: false, flags: &["--split", "per-hook", "--meta"] },
];

/// The hooks the example installs: (library, premium). The open-source one stays out of the
/// packages, as in a real build.
const EXAMPLE_HOOKS: [(&str, bool); 3] = [("libdhcp_flex_id.so", true), ("libdhcp_host_cmds.so", true), ("libdhcp_lease_cmds.so", false)];

/// The one place this test calls keapack's library: plan the example's packages of `target` in
/// `form` from a staged inventory whose hook files are stub bytes in `dir`, write them into
/// `dir`, and return their paths.
fn write_planned(target: &str, form: &Form, dir: &Path) -> Vec<PathBuf> {
    use keapack::plan::catalog::Catalog;
    use keapack::plan::guidance::Templates;
    use keapack::plan::manifest::{PackageSection, Split};
    use keapack::plan::profile::{Profiles, RuntimeStyle};
    use keapack::plan::{PlanInput, plan_all};
    use keapack::source::version::KeaVersion;
    use keapack::stage::StagedHook;

    let target = Profiles::builtin().target(target).unwrap();
    let stage = dir.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    let hooks: Vec<StagedHook> = EXAMPLE_HOOKS
        .iter()
        .map(|(library, premium)| {
            let path = stage.join(library);
            std::fs::write(&path, format!("stand-in for {library}\n")).unwrap();
            StagedHook { library: (*library).into(), path, premium: *premium, machine: target.arch_info.elf_machine.clone() }
        })
        .collect();
    let package = PackageSection {
        split: if form.per_hook { Split::PerHook } else { Split::Bundle },
        meta: form.per_hook,
        runtime: if form.isc { RuntimeStyle::Isc } else { RuntimeStyle::Distribution },
        ..PackageSection::default()
    };
    let (catalog, templates, kea) = (Catalog::builtin(), Templates::builtin(), KeaVersion::new(2, 2, 0));
    let no_libs = BTreeMap::new();
    let input = PlanInput { package: &package, kea_version: &kea, hooks: &hooks, target: &target, epoch: EPOCH, catalog: &catalog, templates: &templates, library_depends: &no_libs };
    plan_all(&input)
        .unwrap()
        .iter()
        .map(|spec| {
            let path = dir.join(spec.file_name());
            keapack::emit::write_package(spec, &mut std::fs::File::create(&path).unwrap()).unwrap();
            path
        })
        .collect()
}

#[test]
fn planned_packages_match_the_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for target in TARGETS {
        for form in &FORMS {
            let dir = tmp.path().join(target).join(form.name);
            let packages = write_planned(target, form, &dir);
            problems.extend(check_form(target, form, &packages));
        }
    }
    // Nothing stale: a directory for each target and form this test writes, and no other.
    let golden = golden_dir();
    let mut targets = TARGETS.map(String::from).to_vec();
    targets.sort();
    if names_in(&golden) != targets {
        problems.push(format!("{}: holds {:?}, the test writes {targets:?}", golden.display(), names_in(&golden)));
    }
    let mut forms: Vec<String> = FORMS.iter().map(|f| f.name.to_string()).collect();
    forms.sort();
    for t in TARGETS {
        if names_in(&golden.join(t)) != forms {
            problems.push(format!("{}: holds {:?}, the test writes {forms:?}", golden.join(t).display(), names_in(&golden.join(t))));
        }
    }
    assert_golden(problems);
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Fail with every mismatch, saying how to rewrite the files.
fn assert_golden(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "the packages no longer match tests/golden/. If the change is intended, rewrite the files with\n    UPDATE_GOLDEN=1 cargo test --test golden\nand review the diff (git diff tests/golden).\n\n{}",
        problems.join("\n")
    );
}

#[test]
#[ignore = "slow: builds the example"]
fn the_built_examples_packages_match_the_golden_files() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let kea = tmp.path().join("kea-2.2.0.tar.gz");
    let premium = tmp.path().join("kea-premium-2.2.0.tar.xz");
    tarball(&examples().join("kea-2.2.0"), "kea-2.2.0", &kea);
    tarball(&examples().join("kea-premium-2.2.0"), "", &premium);
    for form in &FORMS {
        let out = tmp.path().join("dist").join(form.name);
        // One work directory and a build cache of this test's own: the three forms are one
        // build, compiled once.
        let res = run(keapack()
            .env_remove("KEAPACK_NO_CACHE")
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .args(["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
            .args(form.flags)
            .arg("--kea").arg(&kea)
            .arg("--premium").arg(&premium)
            .arg("--out").arg(&out)
            .arg("--work").arg(tmp.path().join("work"))
            .env("SOURCE_DATE_EPOCH", EPOCH.to_string()));
        ok(res, &format!("keapack build {}", form.flags.join(" ")));
        for target in TARGETS {
            // The target's packages: of its architecture, and the meta package's (all, noarch).
            let suffixes = if target.starts_with("debian") { ["+deb12_amd64.deb", "+deb12_all.deb"] } else { [".el9.x86_64.rpm", ".el9.noarch.rpm"] };
            let mut packages: Vec<PathBuf> =
                std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).filter(|p| suffixes.iter().any(|s| p.to_string_lossy().ends_with(s))).collect();
            packages.sort();
            problems.extend(check_form(target, form, &packages));
        }
    }
    assert_golden(problems);
}

/// Compare (or with UPDATE_GOLDEN=1 write) the golden files of every package of one form;
/// returns what differs.
fn check_form(target: &str, form: &Form, packages: &[PathBuf]) -> Vec<String> {
    assert!(!packages.is_empty(), "{target} {}: no packages", form.name);
    let dir = golden_dir().join(target).join(form.name);
    let scratch = tempfile::tempdir().unwrap();
    let mut actual: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for p in packages {
        let (name, files) = describe(p, scratch.path());
        assert!(actual.insert(name.clone(), files).is_none(), "{}: two packages named {name}", p.display());
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        for (package, files) in &actual {
            std::fs::create_dir_all(dir.join(package)).unwrap();
            for (name, text) in files {
                std::fs::write(dir.join(package).join(name), text).unwrap();
            }
        }
        eprintln!("UPDATE_GOLDEN=1: wrote {}", dir.display());
        return Vec::new();
    }
    let mut problems = Vec::new();
    let expected_packages = names_in(&dir);
    let actual_packages: Vec<String> = actual.keys().cloned().collect();
    if expected_packages != actual_packages {
        problems.push(format!("{}: golden packages {expected_packages:?}, written {actual_packages:?}", dir.display()));
    }
    for (package, files) in &actual {
        let pdir = dir.join(package);
        let expected_files = names_in(&pdir);
        let actual_files: Vec<String> = files.keys().cloned().collect();
        if expected_files != actual_files {
            problems.push(format!("{}: golden files {expected_files:?}, now {actual_files:?}", pdir.display()));
        }
        for (name, text) in files {
            let path = pdir.join(name);
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if &want != text {
                problems.push(format!("{} differs (- golden, + now):\n{}", path.display(), diff(&want, text)));
            }
        }
    }
    problems
}

/// The names in a directory, sorted (none when it does not exist).
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).into_iter().flatten().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

/// A line diff of two texts (longest common subsequence): `-` golden, `+` now, two lines of
/// context around each change, at most 80 lines.
fn diff(a: &str, b: &str) -> String {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut lcs = vec![vec![0usize; y.len() + 1]; x.len() + 1];
    for i in (0..x.len()).rev() {
        for j in (0..y.len()).rev() {
            lcs[i][j] = if x[i] == y[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < x.len() || j < y.len() {
        if i < x.len() && j < y.len() && x[i] == y[j] {
            ops.push((' ', x[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < x.len() && (j == y.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', x[i]));
            i += 1;
        } else {
            ops.push(('+', y[j]));
            j += 1;
        }
    }
    let near = |k: usize| ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|(c, _)| *c != ' ');
    let mut out = Vec::new();
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            out.push(format!("{c} {line}"));
        } else if out.last().is_some_and(|l| l != "  …") {
            out.push("  …".into());
        }
    }
    if a.ends_with('\n') != b.ends_with('\n') {
        out.push(format!("(final newline: golden {}, now {})", a.ends_with('\n'), b.ends_with('\n')));
    }
    let total = out.len();
    out.truncate(80);
    if total > 80 {
        out.push(format!("… {} more lines", total - 80));
    }
    out.join("\n")
}

/// Run a tool under TZ=UTC and LC_ALL=C; its stdout (it must succeed).
fn tool(cmd: &mut Command) -> String {
    stdout(cmd.env("TZ", "UTC").env("LC_ALL", "C"))
}

/// A package's name and its golden files (file name → text), read back with the real tools.
fn describe(package: &Path, scratch: &Path) -> (String, BTreeMap<String, String>) {
    if package.extension().is_some_and(|e| e == "deb") { describe_deb(package, scratch) } else { describe_rpm(package, scratch) }
}

fn describe_deb(deb: &Path, scratch: &Path) -> (String, BTreeMap<String, String>) {
    require("dpkg-deb", "dpkg");
    let mut files = BTreeMap::new();
    let control = tool(Command::new("dpkg-deb").arg("-f").arg(deb));
    let name = field(&control, "Package");
    files.insert("control".to_string(), normalize_deb_control(&control));
    let listing = tool(Command::new("dpkg-deb").arg("-c").arg(deb));
    files.insert("files.txt".to_string(), listing.lines().map(|l| normalize_listing_line(l, 2)).collect::<Vec<_>>().join("\n") + "\n");
    let ctrl = scratch.join(format!("{name}.control"));
    tool(Command::new("dpkg-deb").arg("-e").arg(deb).arg(&ctrl));
    let mut scripts = BTreeMap::new();
    for script in ["preinst", "postinst", "prerm", "postrm"] {
        if let Ok(text) = std::fs::read_to_string(ctrl.join(script)) {
            files.insert(script.to_string(), text.clone());
            scripts.insert(script, text);
        }
    }
    let hooks = hook_paths(&listing);
    let mut prints = String::new();
    if let Some(post) = scripts.get("postinst") {
        prints += &print_run(scratch, "postinst", post, &["configure", ""], &hooks, Moment::Install, "");
        prints += &print_run(scratch, "postinst", post, &["configure", "2.2.0-0+deb12"], &hooks, Moment::Install, "");
    }
    if let Some(post) = scripts.get("postrm") {
        prints += &print_run(scratch, "postrm", post, &["remove"], &hooks, Moment::Removed, "");
    }
    if !prints.is_empty() {
        files.insert("prints.txt".to_string(), prints);
    }
    (name, files)
}

/// The relations keapack reads from the hook libraries' NEEDED entries (deb: `lib*` packages).
fn is_library_relation_deb(relation: &str) -> bool {
    relation.trim_start().starts_with("lib")
}

/// rpm: SONAME capabilities (`libc.so.6()(64bit)`, `libc.so.6(GLIBC_2.34)(64bit)`).
fn is_library_relation_rpm(relation: &str) -> bool {
    relation.contains(".so") || relation.starts_with("rtld(")
}

fn normalize_deb_control(control: &str) -> String {
    control
        .lines()
        .map(|l| {
            if l.starts_with("Installed-Size: ") {
                "Installed-Size: (normalized: it counts the hook libraries' sizes)".to_string()
            } else if let Some(rels) = l.strip_prefix("Depends: ") {
                let kept: Vec<&str> = rels.split(", ").filter(|r| !is_library_relation_deb(r)).collect();
                format!("Depends: {}", kept.join(", "))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn field(control: &str, name: &str) -> String {
    control.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or_else(|| panic!("no {name} in:\n{control}")).to_string()
}

/// A listing line with the size (the `size_column`th whitespace-separated word) of a hook
/// library replaced by `*`: stub bytes and a compiled library differ there.
fn normalize_listing_line(line: &str, size_column: usize) -> String {
    if !line.ends_with(".so") {
        return line.to_string();
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let size = words[size_column];
    // Only the size word changes; the rest of the line keeps its spacing.
    let at = line.match_indices(size).map(|(i, _)| i).find(|&i| line[..i].split_whitespace().count() == size_column).unwrap();
    format!("{}{:>width$}{}", &line[..at], "*", &line[at + size.len()..], width = size.len())
}

/// The hook libraries a listing holds (absolute paths).
fn hook_paths(listing: &str) -> Vec<String> {
    listing.lines().filter(|l| l.ends_with(".so")).map(|l| l.rsplit(' ').next().unwrap().trim_start_matches('.').to_string()).collect()
}

/// What the root a script runs against holds.
#[derive(Clone, Copy)]
enum Moment {
    /// The package's hook libraries are in place (an installation or an upgrade).
    Install,
    /// They are gone, and `/etc/kea/kea-dhcp4.conf` still names each of them.
    Removed,
}

/// Run `script` with `sh` and `args`, `DPKG_ROOT` a fresh directory set up for `moment`
/// (plus an rpm version file holding `old_version`, when given); returns a record of the
/// run: the command, exit code, stdout and stderr, the root's path written as `$DPKG_ROOT`.
fn print_run(scratch: &Path, label: &str, script: &str, args: &[&str], hooks: &[String], moment: Moment, old_version: &str) -> String {
    require("sh", "dash");
    let root = tempfile::tempdir_in(scratch).unwrap();
    let r = root.path();
    match moment {
        Moment::Install => {
            for h in hooks {
                let p = r.join(h.trim_start_matches('/'));
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, "").unwrap();
            }
        }
        Moment::Removed => {
            std::fs::create_dir_all(r.join("etc/kea")).unwrap();
            let libs: Vec<String> = hooks.iter().map(|h| format!("{{ \"library\": \"{h}\" }}")).collect();
            std::fs::write(r.join("etc/kea/kea-dhcp4.conf"), format!("{{\n  \"Dhcp4\": {{\n    \"hooks-libraries\": [ {} ]\n  }}\n}}\n", libs.join(", "))).unwrap();
        }
    }
    if !old_version.is_empty() {
        let name = label.split(':').next().unwrap();
        let v = r.join("usr/share").join(name).join("version");
        std::fs::create_dir_all(v.parent().unwrap()).unwrap();
        std::fs::write(v, format!("{old_version}\n")).unwrap();
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(label)
        .args(args)
        .env("DPKG_ROOT", r)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let root_text = r.display().to_string();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root_text, "$DPKG_ROOT");
    let quoted: Vec<String> = args.iter().map(|a| if a.is_empty() { "''".to_string() } else { a.to_string() }).collect();
    let setup = match moment {
        Moment::Install => "hooks in place",
        Moment::Removed => "hooks gone, named in $DPKG_ROOT/etc/kea/kea-dhcp4.conf",
    };
    let version = if old_version.is_empty() { String::new() } else { format!(", version file {old_version}") };
    format!(
        "==== sh {} {} ({setup}{version}): exit {}\n---- stdout\n{}---- stderr\n{}",
        label.rsplit(':').next().unwrap(),
        quoted.join(" "),
        out.status.code().map_or("by a signal".to_string(), |c| c.to_string()),
        clean(&out.stdout),
        clean(&out.stderr)
    )
}

/// The rpm header fields the golden file holds, one `--qf` query.
const RPM_QUERY: &str = "Name: %{NAME}\nVersion: %{VERSION}\nRelease: %{RELEASE}\nEpoch: %{EPOCH}\nArch: %{ARCH}\n\
License: %{LICENSE}\nGroup: %{GROUP}\nURL: %{URL}\nPackager: %{PACKAGER}\nVendor: %{VENDOR}\nBuild time: %{BUILDTIME}\n\
Payload: %{PAYLOADCOMPRESSOR}\nSummary: %{SUMMARY}\nDescription:\n%{DESCRIPTION}\n\
[Requires: %{REQUIRENEVRS}\n][Provides: %{PROVIDENEVRS}\n][Conflicts: %{CONFLICTNEVRS}\n][Obsoletes: %{OBSOLETENEVRS}\n]\
Pre interpreter: %{PREINPROG}\nPost interpreter: %{POSTINPROG}\nPostun interpreter: %{POSTUNPROG}\n\
[Changelog: %{CHANGELOGTIME:day} %{CHANGELOGNAME}\n%{CHANGELOGTEXT}\n]";

fn describe_rpm(rpm: &Path, scratch: &Path) -> (String, BTreeMap<String, String>) {
    require("rpm", "rpm");
    let q = |qf: &str| tool(Command::new("rpm").args(["-qp", "--nosignature", "--qf", qf]).arg(rpm));
    let mut files = BTreeMap::new();
    let name = q("%{NAME}");
    let header: Vec<String> = q(RPM_QUERY).lines().filter(|l| !l.strip_prefix("Requires: ").is_some_and(is_library_relation_rpm)).map(str::to_string).collect();
    files.insert("header.txt".to_string(), header.join("\n") + "\n");
    let listing = q("[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILESIZE} %{FILEMTIMES} %{FILEFLAGS:fflags} %{FILENAMES}\n]");
    files.insert("files.txt".to_string(), listing.lines().map(|l| normalize_listing_line(l, 2)).collect::<Vec<_>>().join("\n") + "\n");
    let hooks = hook_paths(&listing);
    let mut prints = String::new();
    for (file, tag, runs) in [
        ("pre", "%{PREIN}", vec![(vec!["1"], Moment::Install, ""), (vec!["2"], Moment::Install, ""), (vec!["2"], Moment::Install, "2.2.0-0.el9")]),
        ("post", "%{POSTIN}", vec![(vec!["1"], Moment::Install, ""), (vec!["2"], Moment::Install, "")]),
        ("postun", "%{POSTUN}", vec![(vec!["0"], Moment::Removed, ""), (vec!["1"], Moment::Install, "")]),
    ] {
        let script = q(tag);
        if script == "(none)" {
            continue;
        }
        files.insert(file.to_string(), script.clone() + "\n");
        for (args, moment, old) in runs {
            prints += &print_run(scratch, &format!("{name}:{file}"), &script, &args, &hooks, moment, old);
        }
    }
    if !prints.is_empty() {
        files.insert("prints.txt".to_string(), prints);
    }
    (name, files)
}

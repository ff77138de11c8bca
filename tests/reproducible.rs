//! Reproducibility of the real binary on the bundled example: byte-identical packages across
//! directories, times, umask, TZ, LANG, host and user names; no build path in any output;
//! `SOURCE_DATE_EPOCH` changing times only; the build record; debug packages;
//! `--check-reproducible` catching a hook that embeds its build directory.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const DEB: &str = "kea-premium-hooks_2.2.0-1+deb12_amd64.deb";
const RPM: &str = "kea-premium-hooks-2.2.0-1.el9.x86_64.rpm";
const RECORD: &str = "kea-premium-hooks_2.2.0-1.keapack-buildinfo.json";
const HOST: &str = "keapack-probe-host-7f3a";
/// The user build B runs as: tests/run creates it (useradd), so its uid has a name a tool
/// could look up and leak.
const USER: &str = "keapack-probe-user";

/// How one run of keapack is set up.
struct Setup<'a> {
    args: Vec<String>,
    work: PathBuf,
    out: PathBuf,
    umask: &'a str,
    tz: &'a str,
    lang: &'a str,
    epoch: Option<&'a str>,
    /// Run in a UTS namespace with [`HOST`] as host name, as [`USER`]'s uid and gid, with
    /// USER/LOGNAME naming it and this directory as HOME and XDG_CACHE_HOME (so ccache starts
    /// empty: the hooks are compiled by that user).
    disguise: Option<PathBuf>,
}

fn is_root() -> bool {
    stdout(Command::new("id").arg("-u")).trim() == "0"
}

/// The uid and gid of [`USER`]; the test fails when the user does not exist.
fn probe_user() -> (String, String) {
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).arg(USER).output().expect("id (coreutils)");
        assert!(out.status.success(), "the user {USER} does not exist: tests/run creates it (useradd --system --no-create-home {USER})");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    (id("-u"), id("-g"))
}

/// A command that runs `script` (with `args`) in a new UTS namespace with [`HOST`] as host name,
/// as [`USER`]'s uid and gid. As root: `unshare --uts`, then `setpriv` to the probe user (which
/// works in a chroot too, as in tests/fresh-root); the files the build writes must be the probe
/// user's (see [`builds`]). Otherwise: an outer user namespace (this user as root) may set the host
/// name, an inner one maps that root to the probe user, so nothing in the build runs as this user.
fn disguised(script: &str, home: &Path) -> Command {
    require("unshare", "util-linux");
    let (uid, gid) = probe_user();
    let mut c = Command::new("unshare");
    if is_root() {
        require("setpriv", "util-linux");
        let inner = format!("hostname {HOST} && exec setpriv --reuid={uid} --regid={gid} --clear-groups sh -c \"$0\" \"$@\"");
        c.args(["--uts", "sh", "-c", &inner, script]);
    } else {
        let inner = format!("hostname {HOST} && exec unshare --user --map-user={uid} --map-group={gid} sh -c \"$0\" \"$@\"");
        c.args(["--uts", "--user", "--map-root-user", "sh", "-c", &inner, script]);
    }
    c.env("USER", USER).env("LOGNAME", USER).env("HOME", home).env("XDG_CACHE_HOME", home.join(".cache"));
    c
}

/// Fail unless the disguise works here: the host name, uid and user name inside are the probe's.
fn check_disguise(home: &Path) {
    let out = disguised("hostname; id -u; id -un", home).arg("sh").output().expect("unshare (util-linux)");
    let text = String::from_utf8_lossy(&out.stdout);
    let (uid, _) = probe_user();
    assert!(
        out.status.success() && text.lines().collect::<Vec<_>>() == [HOST, uid.as_str(), USER],
        "cannot build under another host name and user: `unshare --uts` with setpriv (as root) or with user namespaces (otherwise) failed or did not apply ({}). Run the tests as root, or on a kernel that allows user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0); util-linux provides unshare and setpriv; output: {text}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Fail unless `lang` is a locale this machine has (`locale -a`): a missing one varies nothing.
fn check_locale(lang: &str) {
    if ["C", "C.UTF-8", "POSIX"].contains(&lang) {
        return;
    }
    let have = stdout(Command::new("locale").arg("-a"));
    let want = lang.replace("UTF-8", "utf8");
    assert!(
        have.lines().any(|l| l == want),
        "the locale {lang} does not exist here (locale -a: {}), so LANG={lang} would vary nothing: tests/run generates it (apt-get install locales; enable it in /etc/locale.gen; locale-gen)",
        have.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

/// Run keapack under `setup`: its own umask, TZ, LANG/LC_ALL, and SOURCE_DATE_EPOCH only when given.
fn keapack_in(setup: &Setup) -> Output {
    let bin = env!("CARGO_BIN_EXE_keapack");
    check_locale(setup.lang);
    let script = format!("umask {} && exec \"$@\"", setup.umask);
    let mut cmd = if let Some(home) = &setup.disguise {
        check_disguise(home);
        let mut c = disguised(&script, home);
        c.args(["sh", bin]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script, "sh", bin]);
        c
    };
    cmd.args(&setup.args).arg("--out").arg(&setup.out).arg("--work").arg(&setup.work);
    // Every build really builds: one reused from the build cache would vary nothing.
    cmd.env("KEAPACK_NO_CACHE", "1");
    cmd.env("TZ", setup.tz).env("LANG", setup.lang).env("LC_ALL", setup.lang).env_remove("SOURCE_DATE_EPOCH");
    if let Some(e) = setup.epoch {
        cmd.env("SOURCE_DATE_EPOCH", e);
    }
    let out = run(&mut cmd);
    assert!(out.status.success(), "keapack {:?} failed:\n{}", setup.args, String::from_utf8_lossy(&out.stderr));
    out
}

/// SHA-256 of every output in `dir`, by name (not the hidden lock a run holds while it publishes).
fn sums(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), keapack::support::digest::sha256_file(&p).unwrap()))
        .collect()
}

/// The example as tarballs (Kea .tar.gz with a top directory, overlay .tar.xz) and the newest
/// entry time in them.
struct Inputs {
    dir: tempfile::TempDir,
    kea: PathBuf,
    premium: PathBuf,
    newest: u64,
}

fn inputs() -> &'static Inputs {
    static I: OnceLock<Inputs> = OnceLock::new();
    I.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let kea = dir.path().join("kea-2.2.0.tar.gz");
        let premium = dir.path().join("kea-premium-2.2.0.tar.xz");
        tarball(&examples().join("kea-2.2.0"), "kea-2.2.0", &kea);
        tarball(&examples().join("kea-premium-2.2.0"), "", &premium);
        let newest = newest_entry(&kea).max(newest_entry(&premium));
        Inputs { dir, kea, premium, newest }
    })
}

fn newest_entry(archive: &Path) -> u64 {
    let raw = std::fs::read(archive).unwrap();
    let reader: Box<dyn std::io::Read> = if raw.starts_with(&[0x1f, 0x8b]) { Box::new(flate2::read::GzDecoder::new(&raw[..])) } else { Box::new(liblzma::read::XzDecoder::new(&raw[..])) };
    tar::Archive::new(reader).entries().unwrap().map(|e| e.unwrap().header().mtime().unwrap()).max().unwrap()
}

fn build_args(i: &Inputs) -> Vec<String> {
    let mut a: Vec<String> = ["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"].map(String::from).into();
    a.extend(["--kea".into(), i.kea.display().to_string(), "--premium".into(), i.premium.display().to_string()]);
    a
}

/// Three builds of the tarballs: A plainly; B elsewhere (deeper, through a symbolic link),
/// 3 s later, with umask 077, another TZ, LANG, host and user name; C like A but with
/// SOURCE_DATE_EPOCH=1700000000.
struct Builds {
    tmp: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    c: PathBuf,
    /// Work directories as given (B's through a symlink) and their physical paths.
    work_paths: Vec<PathBuf>,
}

fn builds() -> &'static Builds {
    static B: OnceLock<Builds> = OnceLock::new();
    B.get_or_init(|| {
        require_build_tools();
        let i = inputs();
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        std::fs::create_dir_all(t.join("physical/somewhere")).unwrap();
        std::os::unix::fs::symlink(t.join("physical"), t.join("link")).unwrap();
        let (work_a, work_b, work_c) = (t.join("a/work"), t.join("link/somewhere/much/deeper/work-b"), t.join("c/work"));
        let base = |work: &Path, out: PathBuf| Setup { args: build_args(i), work: work.to_path_buf(), out, umask: "022", tz: "UTC", lang: "C.UTF-8", epoch: None, disguise: None };
        // B runs as the probe user: as root (setpriv), what it reads must be readable by that
        // user and where it writes (its work directory's parent, its output's, its home) its own.
        let home = t.join("probe-home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(t.join("b")).unwrap();
        if is_root() {
            use std::os::unix::fs::PermissionsExt;
            for d in [t, i.dir.path()] {
                std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            let (uid, gid) = probe_user();
            stdout(Command::new("chown").arg("-R").arg(format!("{uid}:{gid}")).arg(t.join("physical")).arg(t.join("b")).arg(&home));
        }
        keapack_in(&base(&work_a, t.join("a/out")));
        std::thread::sleep(std::time::Duration::from_secs(3));
        keapack_in(&Setup { umask: "077", tz: "Asia/Tokyo", lang: "fr_FR.UTF-8", disguise: Some(home.clone()), ..base(&work_b, t.join("b/o")) });
        keapack_in(&Setup { epoch: Some("1700000000"), ..base(&work_c, t.join("c/out")) });
        let work_paths = vec![work_a.clone(), work_b.clone(), std::fs::canonicalize(&work_b).unwrap(), work_c];
        Builds { a: t.join("a/out"), b: t.join("b/o"), c: t.join("c/out"), work_paths, tmp }
    })
}

#[test]
#[ignore = "slow: builds the example several times"]
fn packages_are_identical_across_directories_time_umask_tz_lang_host_and_user() {
    let b = builds();
    let (a, other) = (sums(&b.a), sums(&b.b));
    assert_eq!(a.keys().collect::<Vec<_>>(), ["SHA256SUMS", RPM, DEB, RECORD].iter().collect::<Vec<_>>(), "{a:?}");
    assert_eq!(a, other, "every output, the record and SHA256SUMS included, is byte-identical");
    // Modes normalised, owners root in both formats (B ran with umask 077).
    let listing = stdout(Command::new("dpkg-deb").arg("-c").arg(b.b.join(DEB)));
    for l in listing.lines() {
        assert!(l.starts_with("drwxr-xr-x root/root ") || l.starts_with("-rw-r--r-- root/root "), "{l}");
    }
    for l in rpm_q(&b.b.join(RPM), &["--dump"]).lines() {
        let f: Vec<&str> = l.split(' ').collect();
        assert!(["0100644", "040755"].contains(&f[4]) && f[5] == "root" && f[6] == "root", "{l}");
    }
}

/// Every byte sequence an output could leak: the packages raw, their decompressed archives
/// (data and control tars, the cpio payload), and every extracted file.
fn output_blobs(out: &Path, scratch: &Path) -> Vec<(String, Vec<u8>)> {
    require("dpkg-deb", "dpkg");
    require("rpm2cpio", "rpm");
    require("cpio", "cpio");
    let mut blobs = Vec::new();
    for name in sums(out).keys() {
        blobs.push((name.clone(), std::fs::read(out.join(name)).unwrap()));
    }
    let deb = out.join(DEB);
    for flag in ["--fsys-tarfile", "--ctrl-tarfile"] {
        blobs.push((format!("{DEB} {flag}"), run(Command::new("dpkg-deb").arg(flag).arg(&deb)).stdout));
    }
    blobs.push((format!("{RPM} payload"), run(Command::new("rpm2cpio").arg(out.join(RPM))).stdout));
    let (deb_root, rpm_root) = (scratch.join("deb"), scratch.join("rpm"));
    std::fs::create_dir_all(scratch).unwrap();
    stdout(Command::new("dpkg-deb").arg("-R").arg(&deb).arg(&deb_root));
    std::fs::create_dir_all(&rpm_root).unwrap();
    stdout(Command::new("sh").arg("-c").arg(format!("rpm2cpio '{}' | cpio -idm --quiet", out.join(RPM).display())).current_dir(&rpm_root));
    for root in [deb_root, rpm_root] {
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    blobs.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
    }
    assert!(blobs.iter().filter(|(n, _)| n.ends_with(".so")).count() >= 4, "the hooks are searched too");
    blobs
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
#[ignore = "slow: builds the example several times"]
fn no_output_contains_a_build_path_host_or_user_name() {
    let b = builds();
    let scratch = tempfile::tempdir().unwrap();
    let mut needles: Vec<String> = b.work_paths.iter().map(|p| p.display().to_string()).collect();
    needles.push(b.tmp.path().display().to_string());
    needles.push(std::fs::canonicalize(b.tmp.path()).unwrap().display().to_string());
    needles.push(inputs().dir.path().display().to_string());
    needles.extend([HOST.to_string(), USER.to_string()]);
    let real_host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
    if real_host.len() >= 6 {
        needles.push(real_host); // shorter names are too common to search raw bytes for
    }
    for (name, blob) in output_blobs(&b.b, scratch.path()) {
        for n in &needles {
            assert!(!contains(&blob, n), "{name} contains {n:?}");
        }
    }
}

/// `dpkg-deb -c` rows without the date and time columns, and the dates seen. The changelog's
/// size is left out too: it holds a date, so its compressed size may change with the epoch.
fn deb_listing(deb: &Path) -> (Vec<String>, Vec<String>) {
    let text = stdout(Command::new("dpkg-deb").arg("-c").arg(deb).env("TZ", "UTC"));
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let size = if f[5].ends_with("changelog.Debian.gz") { "(dated)" } else { f[2] };
            (format!("{} {} {size} {}", f[0], f[1], f[5]), format!("{} {}", f[3], f[4]))
        })
        .unzip()
}

fn rpm_q(rpm: &Path, args: &[&str]) -> String {
    stdout(Command::new("rpm").arg("-qp").args(args).arg(rpm))
}

#[test]
#[ignore = "slow: builds the example several times"]
fn source_date_epoch_changes_the_times_and_nothing_else() {
    let b = builds();
    let epoch_a = inputs().newest;
    assert_ne!(epoch_a, 1_700_000_000);
    // deb: same entries, modes, owners and sizes; every date is the epoch.
    let (rows_a, dates_a) = deb_listing(&b.a.join(DEB));
    let (rows_c, dates_c) = deb_listing(&b.c.join(DEB));
    assert_eq!(rows_a, rows_c);
    assert!(dates_c.iter().all(|d| d == "2023-11-14 22:13"), "{dates_c:?}");
    assert!(dates_a.iter().all(|d| *d == dates_a[0]) && dates_a[0] != dates_c[0], "{dates_a:?}");
    // rpm: the dump differs in the mtime column only; build time and file times are the epoch.
    // The copyright file names the years up to the epoch's (2009-<year>), so its digest follows it.
    let dump = |out: &Path| -> Vec<String> {
        rpm_q(&out.join(RPM), &["--dump"])
            .lines()
            .map(|l| {
                let skip_digest = l.contains("/copyright ");
                l.split(' ').enumerate().filter(|(i, _)| *i != 2 && !(skip_digest && *i == 3)).map(|(_, f)| f).collect::<Vec<_>>().join(" ")
            })
            .collect()
    };
    assert_eq!(dump(&b.a), dump(&b.c));
    assert_eq!(rpm_q(&b.c.join(RPM), &["--qf", "%{BUILDTIME}"]), "1700000000");
    assert_eq!(rpm_q(&b.a.join(RPM), &["--qf", "%{BUILDTIME}"]), epoch_a.to_string());
    assert!(rpm_q(&b.c.join(RPM), &["--qf", "[%{FILEMTIMES}\n]"]).lines().all(|t| t == "1700000000"));
    let info = |out: &Path| rpm_q(&out.join(RPM), &["--info"]).lines().filter(|l| !l.starts_with("Build Date")).collect::<Vec<_>>().join("\n");
    assert_eq!(info(&b.a), info(&b.c));
    // Payloads: byte-identical files (hooks included), except the changelogs' dates.
    let scratch = tempfile::tempdir().unwrap();
    let files = |out: &Path, tag: &str| -> BTreeMap<String, Vec<u8>> {
        output_blobs(out, &scratch.path().join(tag))
            .into_iter()
            .filter_map(|(n, blob)| n.strip_prefix(&scratch.path().join(tag).display().to_string()).map(|rel| (rel.to_string(), blob)))
            .collect()
    };
    let (fa, fc) = (files(&b.a, "a"), files(&b.c, "c"));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fc.keys().collect::<Vec<_>>());
    for (name, blob) in &fa {
        if name.ends_with("changelog.Debian.gz") || name.ends_with("DEBIAN/md5sums") {
            continue;
        }
        if name.ends_with("/copyright") {
            // Only the copyright line's closing year follows the epoch.
            let lines = |b: &[u8]| String::from_utf8_lossy(b).lines().filter(|l| !l.starts_with("Copyright: 2009-")).map(str::to_string).collect::<Vec<_>>();
            assert_eq!(lines(blob), lines(&fc[name]), "{name} differs beyond the copyright years");
            continue;
        }
        assert!(*blob == fc[name], "{name} differs although only SOURCE_DATE_EPOCH changed");
    }
    let changelog = |out: &Path| stdout(Command::new("sh").arg("-c").arg(format!("dpkg-deb --fsys-tarfile '{}' | tar -xOf - ./usr/share/doc/kea-premium-hooks/changelog.Debian.gz | gzip -dc", out.join(DEB).display())));
    let (ca, cc) = (changelog(&b.a), changelog(&b.c));
    let differing: Vec<(&str, &str)> = ca.lines().zip(cc.lines()).filter(|(x, y)| x != y).collect();
    assert_eq!(differing.len(), 1, "only the trailer's date differs: {differing:?}");
    assert!(differing[0].1.ends_with("Tue, 14 Nov 2023 22:13:20 +0000"), "{differing:?}");
    let no_dates = |out: &Path| rpm_q(&out.join(RPM), &["--changelog"]).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(no_dates(&b.a), no_dates(&b.c));
}

#[test]
#[ignore = "slow: builds the example several times"]
fn the_record_describes_the_build_and_sha256sums_covers_it() {
    let b = builds();
    let i = inputs();
    let text = std::fs::read_to_string(b.a.join(RECORD)).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["record-format"], 2);
    // One build, on this host (a Debian 12 host builds its own release's targets and, with the
    // cross-family warning, the RPM ones), serving both targets.
    let envs = r["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1, "{envs:?}");
    assert_eq!(envs[0]["name"], "host");
    assert_eq!(envs[0]["targets"], serde_json::json!(["debian-12-amd64", "rhel-9-x86_64"]));
    assert!(envs[0]["packages"]["kea-dev"].as_str().is_some_and(|v| v.starts_with("2.2.0-")), "{}", envs[0]);
    assert_eq!(r["keapack-version"], env!("CARGO_PKG_VERSION"));
    for (n, (role, path)) in [("kea", &i.kea), ("premium", &i.premium)].into_iter().enumerate() {
        let input = &r["inputs"][n];
        assert_eq!(input["role"], role);
        assert_eq!(input["name"], path.file_name().unwrap().to_str().unwrap());
        assert_eq!(input["kind"], "archive");
        assert_eq!(input["sha256"], keapack::support::digest::sha256_file(path).unwrap());
    }
    assert_eq!(r["kea"]["version"], "2.2.0");
    assert_eq!(r["kea"]["build-system"], "autotools");
    assert_eq!(r["epoch"], i.newest, "no SOURCE_DATE_EPOCH: the newest entry time in the tarballs");
    assert_eq!(r["epoch-source"], "inputs");
    let c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(b.c.join(RECORD)).unwrap()).unwrap();
    assert_eq!((c["epoch"].as_u64(), c["epoch-source"].as_str()), (Some(1_700_000_000), Some("source-date-epoch")));

    let build = &r["build"];
    let configure: Vec<&str> = build["configure"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(configure, ["./configure", "--prefix=/usr", "--libdir=/usr/lib/x86_64-linux-gnu", "--sysconfdir=/etc", "--localstatedir=/var", "--runstatedir=/run", "--disable-static", "--disable-rpath"]);
    let env = &build["environment"];
    assert_eq!((env["LC_ALL"].as_str(), env["TZ"].as_str()), (Some("C"), Some("UTC")));
    assert_eq!(env["SOURCE_DATE_EPOCH"], i.newest.to_string());
    assert!(env["CXXFLAGS"].as_str().unwrap().contains("-ffile-prefix-map=$BUILD_DIR=."), "{env}");
    assert!(env.get("PATH").is_none() && env.get("HOME").is_none(), "machine-specific values stay out: {env}");
    assert_eq!(build["umask"], "0022");
    for tool in ["autoconf", "automake", "libtool", "make", "c++ compiler", "linker", "strip"] {
        let v = r["tools"][tool].as_str().unwrap_or_else(|| panic!("no {tool} in {}", r["tools"]));
        assert!(v != "unavailable" && !v.is_empty(), "{tool}: {v}");
    }
    let outputs = r["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2);
    for o in outputs {
        let path = b.a.join(o["file"].as_str().unwrap());
        assert_eq!(o["sha256"], keapack::support::digest::sha256_file(&path).unwrap());
        assert_eq!(o["size"], std::fs::metadata(&path).unwrap().len());
        assert_eq!(o["kind"], "package");
    }
    assert_eq!(outputs[0]["target"], "debian-12-amd64");
    assert!(!text.contains(&b.tmp.path().display().to_string()) && !text.contains("/tmp/"), "no path of this run:\n{text}");

    let sums = std::fs::read_to_string(b.a.join("SHA256SUMS")).unwrap();
    assert!(sums.lines().any(|l| l.ends_with(&format!("  {RECORD}"))), "{sums}");
    assert_eq!(sums.lines().count(), 3, "{sums}");
    let check = run(Command::new("sha256sum").arg("-c").arg("SHA256SUMS").current_dir(&b.a));
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

/// The build IDs of the `.so` files under `dir`, by file name.
fn build_ids(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "so"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), keapack::support::elf::build_id(&p).unwrap().unwrap()))
        .collect()
}

#[test]
#[ignore = "slow: builds the example several times"]
fn demo_with_debug_symbols_is_reproducible_and_checks_itself() {
    require_build_tools();
    require("objcopy", "binutils");
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let demo = |work: &str, out: &str, umask: &str, tz: &str, lang: &str, check: bool| {
        let mut args: Vec<String> = ["demo", "--quiet", "--debug-symbols"].map(String::from).into();
        if check {
            args.push("--check-reproducible".into());
        }
        keapack_in(&Setup { args, work: t.join(work), out: t.join(out), umask, tz, lang, epoch: None, disguise: None })
    };
    demo("one/work", "one/dist", "022", "UTC", "C", false);
    let checked = demo("two/a/much/longer/work-directory", "two/dist", "027", "America/St_Johns", "de_DE.UTF-8", true);
    assert!(String::from_utf8_lossy(&checked.stdout).contains("keapack-buildinfo.json"));
    let one = sums(&t.join("one/dist"));
    assert_eq!(one.len(), 6, "two packages, two debug packages, the record and SHA256SUMS: {one:?}");
    assert_eq!(one, sums(&t.join("two/dist")));

    // The debug package holds one file per packaged hook, named by the stripped hook's build ID,
    // and each stripped hook points at its file.
    let dist = t.join("one/dist");
    let (main, dbg) = (t.join("main"), t.join("dbg"));
    stdout(Command::new("dpkg-deb").arg("-x").arg(dist.join(DEB)).arg(&main));
    stdout(Command::new("dpkg-deb").arg("-x").arg(dist.join("kea-premium-hooks-dbgsym_2.2.0-1+deb12_amd64.deb")).arg(&dbg));
    let ids = build_ids(&main.join("usr/lib/x86_64-linux-gnu/kea/hooks"));
    assert_eq!(ids.keys().collect::<Vec<_>>(), ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"]);
    for (lib, id) in &ids {
        let debug = dbg.join(format!("usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..]));
        assert!(debug.is_file(), "no debug file for {lib} at {}", debug.display());
        let sections = stdout(Command::new("readelf").arg("-S").arg(&debug));
        assert!(sections.contains(".debug_info"), "{sections}");
        let link = stdout(Command::new("readelf").args(["-x", ".gnu_debuglink"]).arg(main.join("usr/lib/x86_64-linux-gnu/kea/hooks").join(lib)));
        assert!(link.contains(&id[2..10]), "{lib} links to its debug file:\n{link}");
        let bytes = std::fs::read(&debug).unwrap();
        assert!(!contains(&bytes, &t.display().to_string()), "{} holds a work path", debug.display());
    }
    assert_eq!(std::fs::read_dir(dbg.join("usr/lib/debug/.build-id")).unwrap().count(), 2, "only the packaged hooks");
    let depends = stdout(Command::new("dpkg-deb").arg("-f").arg(dist.join("kea-premium-hooks-dbgsym_2.2.0-1+deb12_amd64.deb")).arg("Depends"));
    assert_eq!(depends.trim(), "kea-premium-hooks (= 2.2.0-1+deb12)");
    let rpm = dist.join("kea-premium-hooks-debuginfo-2.2.0-1.el9.x86_64.rpm");
    let files = rpm_q(&rpm, &["-l"]);
    for id in ids.values() {
        assert!(files.contains(&format!("/usr/lib/debug/.build-id/{}/{}.debug", &id[..2], &id[2..])), "{files}");
    }
    assert!(rpm_q(&rpm, &["--requires"]).lines().any(|l| l == "kea-premium-hooks = 2.2.0-1.el9"));
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dist.join(RECORD)).unwrap()).unwrap();
    assert_eq!(record["build"]["debug-symbols"], true);
    assert_eq!(record["epoch-source"], "fixed");
    assert_eq!(record["inputs"][0]["kind"], "directory");
}

#[test]
#[ignore = "slow: builds the example several times"]
fn check_reproducible_names_a_hook_that_embeds_its_build_directory() {
    require_build_tools();
    require("diffoscope", "diffoscope-minimal");
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = (tmp.path().join("kea-2.2.0"), tmp.path().join("kea-premium-2.2.0"));
    copy_tree(&examples().join("kea-2.2.0"), &kea);
    copy_tree(&examples().join("kea-premium-2.2.0"), &premium);
    let hook = premium.join("premium/src/hooks/dhcp/flex_id");
    let append = |file: &str, text: &str| {
        let mut body = std::fs::read_to_string(hook.join(file)).unwrap();
        body.push_str(text);
        std::fs::write(hook.join(file), body).unwrap();
    };
    append("Makefile.am", "\nAM_CPPFLAGS += -DKEAPACK_BUILT_IN=\\\"$(abs_builddir)\\\"\n");
    append("flex_id.cc", "\nextern \"C\" const char keapack_built_in[] = KEAPACK_BUILT_IN;\n");
    // __DATE__ and __TIME__ follow SOURCE_DATE_EPOCH, so they alone would not break the check.
    append("flex_id.cc", "extern \"C\" const char keapack_built_on[] = \"built on \" __DATE__ \" \" __TIME__;\n");
    let out = run(keapack()
        .args(["build", "--quiet", "--check-reproducible", "--target", "debian-12-amd64"])
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(tmp.path().join("dist"))
        .arg("--work").arg(tmp.path().join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    assert!(!out.status.success(), "the check must fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("not reproducible: {DEB} differs between two builds")), "{err}");
    assert!(err.contains("First differing staged file: usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so"), "{err}");
    let report = tmp.path().join(format!("work/rebuild/diffoscope-{DEB}.txt"));
    assert!(err.contains(&format!("diffoscope report: {}", std::fs::canonicalize(&report).unwrap().display())), "{err}");
    assert!(err.contains("  | "), "the report's first lines are quoted: {err}");
    for work in ["work", "work/rebuild/second-work-directory"] {
        let so = std::fs::read(tmp.path().join(work).join("stage/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so")).unwrap();
        assert!(contains(&so, "built on Nov 14 2023 22:13:20"), "__DATE__ __TIME__ are SOURCE_DATE_EPOCH's in {work}");
    }
}

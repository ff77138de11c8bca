//! Load-verified builds: `build --verify-load` and `keapack verify` install the packages with
//! the release's apt in a root of that release (made by keapack with debootstrap and cached,
//! here under `target/keapack-test-cache`), start the release's real Kea with the package's
//! snippet and control socket, and require the hooks loaded and their commands listed. A
//! failure publishes nothing: `--out` stays byte for byte as it was.

mod common;
use common::packages::{example_packages, trixie_example};
use common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// Where keapack keeps its roots and builds for these tests (shared with the other test
/// binaries' builds in roots).
fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("keapack-test-cache")
}

/// keapack with the shared cache: the roots are made once, and the example is built once per
/// overlay (the build cache on).
fn keapack_cached() -> std::process::Command {
    let mut c = keapack();
    c.env_remove("KEAPACK_NO_CACHE").env("XDG_CACHE_HOME", cache()).env("SOURCE_DATE_EPOCH", "1700000000");
    c
}

fn record_in(out: &Path) -> Value {
    let p = fs::read_dir(out).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().ends_with(".keapack-buildinfo.json")).expect("a build record");
    serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
}

/// The record's evidence for one daemon: Kea's version, the release's package, the load lines
/// of both libraries and host_cmds' message, and host_cmds' commands.
fn assert_daemon_evidence(v: &Value, daemon: &str, version: &str, package: &str) {
    let d = v["daemons"].as_array().unwrap().iter().find(|d| d["daemon"] == daemon).unwrap_or_else(|| panic!("no {daemon} in {v:#}"));
    // `-V`'s first line: `2.2.0`, `2.6.3 (tarball)`.
    assert!(d["version"].as_str().unwrap().starts_with(version), "{d:#}");
    assert!(d["package"].as_str().unwrap().starts_with(package), "{d:#}");
    let lines: Vec<&str> = d["log-lines"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    for lib in ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"] {
        assert!(lines.iter().any(|l| l.starts_with("HOOKS_LIBRARY_LOADED hooks library /usr/lib/x86_64-linux-gnu/kea/hooks/") && l.contains(lib)), "{lines:?}");
    }
    assert!(lines.iter().any(|l| l.starts_with("HOST_CMDS_INIT_OK")), "{lines:?}");
    let commands: Vec<&str> = d["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for c in ["reservation-add", "reservation-get", "reservation-del", "reservation-get-all", "reservation-get-by-id"] {
        assert!(commands.contains(&c), "{c} not in {commands:?}");
    }
    let n = if daemon == "kea-dhcp4" { "4" } else { "6" };
    assert_eq!(d["socket"], format!("/run/kea/kea{n}-ctrl-socket"));
}

/// A build of the example (its overlay at `premium`) for Debian 12 and RHEL 9 with
/// --verify-load and JSON events, into `out`, with `manifest` text if any.
fn build_verified(premium: &Path, out: &Path, work: &Path, manifest: Option<&str>) -> std::process::Output {
    let mut c = keapack_cached();
    c.args(["build", "--verify-load", "--message-format", "json", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
        .arg("--kea")
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium")
        .arg(premium)
        .arg("--out")
        .arg(out)
        .arg("--work")
        .arg(work);
    if let Some(m) = manifest {
        let path = work.with_extension("toml");
        fs::write(&path, m).unwrap();
        c.arg("--manifest").arg(path);
    }
    run(&mut c)
}

#[test]
#[ignore = "slow: needs root: builds the example, makes a Debian 12 root with its Kea and runs it"]
fn a_debian_12_build_is_verified_against_debian_12_kea_and_the_record_holds_the_evidence() {
    common::roots::require_root_user();
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let res = build_verified(&examples().join("kea-premium-2.2.0"), &out, &tmp.path().join("work"), None);
    let (stdout, stderr) = ok(res, "build --verify-load");
    sums_verify(&out);
    let record = record_in(&out);
    let v = record["verification"].as_array().expect("the record's verification");
    assert_eq!(v.len(), 2, "{v:#?}");
    let deb = &v[0];
    assert_eq!(deb["target"], "debian-12-amd64");
    assert_eq!(deb["verified"], true, "{deb:#}");
    assert!(deb["root"].as_str().unwrap().starts_with("bookworm-amd64-"), "{deb:#}");
    assert!(deb["runtime"].as_str().unwrap().contains("Debian 12 (bookworm)'s own Kea (Kea 2.2.0)"), "{deb:#}");
    assert_daemon_evidence(deb, "kea-dhcp4", "2.2.0", "kea-dhcp4-server 2.2.0");
    assert_daemon_evidence(deb, "kea-dhcp6", "2.2.0", "kea-dhcp6-server 2.2.0");
    // The record holds no times (they differ from run to run); the event does.
    assert!(deb.get("timings").is_none() && deb.get("seconds").is_none(), "{deb:#}");
    assert!(deb["daemons"].as_array().unwrap().iter().all(|d| d.get("seconds").is_none() && d.get("start-seconds").is_none()), "{deb:#}");
    // RHEL 9: recorded as not verified, with the reason, and warned about.
    let rpm = &v[1];
    assert_eq!(rpm["target"], "rhel-9-x86_64");
    assert_eq!(rpm["verified"], false);
    assert!(rpm["not-verified"].as_str().unwrap().contains("RPM-family"), "{rpm:#}");
    assert!(stderr.contains("rhel-9-x86_64: not verified: "), "{stderr}");
    // One load-verified event per target, before the outputs are announced.
    let events: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let verified: Vec<&Value> = events.iter().filter(|e| e["event"] == "load-verified").collect();
    assert_eq!(verified.len(), 2, "{stdout}");
    assert_eq!(verified[0]["target"], "debian-12-amd64");
    assert_eq!(verified[0]["verified"], true);
    for k in ["root", "install", "daemons"] {
        assert!(verified[0]["timings"][k].as_f64().is_some(), "{:#}", verified[0]);
    }
    let first_output = events.iter().position(|e| e["event"] == "output-written").unwrap();
    let last_verified = events.iter().rposition(|e| e["event"] == "load-verified").unwrap();
    assert!(last_verified < first_output, "verification comes before anything is published:\n{stdout}");
    // Kea's whole log is kept in the work directory.
    let log = fs::read_to_string(tmp.path().join("work/verify/debian-12-amd64/kea-dhcp4.log")).unwrap();
    assert!(log.contains("DHCP4_STARTED") && log.contains("DHCP4_SHUTDOWN"), "Kea started and was stopped:\n{log}");
}

#[test]
#[ignore = "slow: needs root: builds the example in a trixie root, verifies it against Debian 13's Kea 2.6.3"]
fn a_debian_13_build_is_verified_against_debian_13_kea_2_6_3() {
    common::roots::require_root_user();
    // tests/common/packages.rs builds it with --verify-load.
    let build = trixie_example();
    let v = build.record["verification"].as_array().expect("the record's verification");
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["target"], "debian-13-amd64");
    assert_eq!(v[0]["verified"], true, "{:#}", v[0]);
    assert!(v[0]["root"].as_str().unwrap().starts_with("trixie-amd64-"), "{:#}", v[0]);
    assert_daemon_evidence(&v[0], "kea-dhcp4", "2.6.3", "kea-dhcp4-server 2.6.3");
    assert_daemon_evidence(&v[0], "kea-dhcp6", "2.6.3", "kea-dhcp6-server 2.6.3");
}

/// `out` holding an earlier build's packages, record and sums: its listing.
fn earlier_out(out: &Path) -> Vec<(String, Vec<u8>)> {
    let dir = example_packages(1).deb.parent().unwrap().to_path_buf();
    copy_tree(&dir, out);
    sums_verify(out);
    listing(out)
}

/// The example's overlay with `edit` applied to host_cmds.cc.
fn broken_overlay(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let premium = dir.join("kea-premium-2.2.0");
    copy_tree(&examples().join("kea-premium-2.2.0"), &premium);
    let cc = premium.join("premium/src/hooks/dhcp/host_cmds/host_cmds.cc");
    let text = fs::read_to_string(&cc).unwrap();
    let changed = edit(text.clone());
    assert_ne!(changed, text, "the edit changed nothing");
    fs::write(&cc, changed).unwrap();
    premium
}

/// A failed verification: the run fails naming the target and the daemon, with `kea_line`
/// (Kea's own error) in its message, and `out` is byte for byte as it was.
fn assert_refused_and_nothing_published(premium: &Path, manifest: Option<&str>, kea_line: &str) {
    common::roots::require_root_user();
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let before = earlier_out(&out);
    let res = build_verified(premium, &out, &tmp.path().join("work"), manifest);
    let stderr = text(&res.stderr);
    assert!(!res.status.success(), "the build must fail:\n{stderr}");
    assert!(stderr.contains("load verification of debian-12-amd64 failed"), "{stderr}");
    assert!(stderr.contains("kea-dhcp4 (2.2.0, from kea-dhcp4-server 2.2.0-6)"), "names the daemon and its package:\n{stderr}");
    assert!(stderr.contains(kea_line), "Kea's own line {kea_line:?} is in the message:\n{stderr}");
    assert!(stderr.contains("nothing was published into"), "{stderr}");
    assert!(tmp.path().join("work/verify/debian-12-amd64/kea-dhcp4.log").is_file(), "the whole log is kept");
    assert_eq!(listing(&out), before, "--out is byte for byte as before");
    sums_verify(&out);
    assert!(made::leftovers(&out).is_empty(), "{:?}", made::leftovers(&out));
}

#[test]
#[ignore = "slow: needs root: builds a broken overlay and runs Debian 12's Kea on it"]
fn a_hook_that_links_a_missing_symbol_fails_verification_and_publishes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let premium = broken_overlay(tmp.path(), |t| {
        t.replace("extern \"C\" {\n", "extern \"C\" {\n\nint keapack_test_missing_symbol();\n")
            .replace("    LOG_INFO(host_cmds_logger, HOST_CMDS_INIT_OK);", "    if (keapack_test_missing_symbol() != 0) { return (1); }\n    LOG_INFO(host_cmds_logger, HOST_CMDS_INIT_OK);")
    });
    assert_refused_and_nothing_published(&premium, None, "undefined symbol: keapack_test_missing_symbol");
}

#[test]
#[ignore = "slow: needs root: builds the example and runs Debian 12's Kea with a value flex_id rejects"]
fn a_parameter_value_the_hook_rejects_fails_verification_with_its_error() {
    // The value Kea is started with comes from the manifest (else the catalog): one the
    // example's flex_id refuses (it wants a string).
    let manifest = "[verify.parameters.flex_id]\nidentifier-expression = 42\n";
    assert_refused_and_nothing_published(&examples().join("kea-premium-2.2.0"), Some(manifest), "FLEX_ID_EXPRESSION_INVALID_JSON_TYPE");
}

#[test]
#[ignore = "slow: needs root: builds the example for a profile whose guidance names another socket directory"]
fn a_guidance_socket_outside_the_units_directories_fails_verification() {
    // A profile of Debian 12 whose runtime puts the control socket in a directory Debian's unit
    // does not make: Kea cannot open it, as on a real host.
    // Verification asked by the manifest (build.verify-load), not by the flag.
    let manifest = "targets = [\"debian-12-elsewhere-amd64\"]\n[build]\nverify-load = true\n[profile.debian-12-elsewhere]\nextends = \"debian-12\"\nname = \"Debian 12 (socket elsewhere)\"\n[profile.debian-12-elsewhere.runtime.distribution]\nsocket-dir = \"/run/kea-elsewhere\"\n";
    common::roots::require_root_user();
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let work = tmp.path().join("work");
    let path = tmp.path().join("keapack.toml");
    fs::write(&path, manifest).unwrap();
    let res = run(keapack_cached()
        .args(["build", "--manifest"])
        .arg(&path)
        .arg("--kea")
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium")
        .arg(examples().join("kea-premium-2.2.0"))
        .arg("--out")
        .arg(&out)
        .arg("--work")
        .arg(&work));
    let stderr = text(&res.stderr);
    assert!(!res.status.success(), "{stderr}");
    assert!(stderr.contains("load verification of debian-12-elsewhere-amd64 failed"), "{stderr}");
    assert!(stderr.contains("/run/kea-elsewhere/kea4-ctrl-socket"), "{stderr}");
    assert!(stderr.contains("DHCP4_CONFIG_LOAD_FAIL configuration error using file: /etc/kea/kea-dhcp4.conf, reason: cannot create socket lockfile, /run/kea-elsewhere/kea4-ctrl-socket.lock"), "Kea's own error line:\n{stderr}");
    assert!(fs::read_dir(&out).map(|d| d.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count()).unwrap_or(0) == 0, "nothing published");
}

/// A `.deb` of `name` at `version` for amd64 with no files, made by dpkg-deb in `dir`, its
/// control file carrying `extra` fields.
fn hand_made_deb(dir: &Path, name: &str, version: &str, extra: &str) -> PathBuf {
    let pkg = dir.join(format!("{name}-tree"));
    fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    let control = format!("Package: {name}\nVersion: {version}\nArchitecture: amd64\nMaintainer: Kea Packager <kea-packager@example.org>\n{extra}Description: a package made by hand\n It tests keapack verify.\n");
    fs::write(pkg.join("DEBIAN/control"), control).unwrap();
    let deb = dir.join(format!("{name}_{version}_amd64.deb"));
    ok(run(std::process::Command::new("dpkg-deb").args(["--root-owner-group", "-b"]).arg(&pkg).arg(&deb)), "dpkg-deb -b");
    deb
}

#[test]
#[ignore = "slow: needs root: verifies packages of an earlier run, and one whose dependency Debian 12 lacks"]
fn keapack_verify_checks_an_earlier_runs_packages_and_names_a_missing_dependency() {
    common::roots::require_root_user();
    let pkgs = example_packages(1);
    let dir = pkgs.deb.parent().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // The whole --out: the .deb is verified against Debian 12's Kea (from its +deb12 suffix),
    // the .rpm recorded as not verified.
    let res = run(keapack_cached().args(["verify", "--message-format", "json", "--work"]).arg(tmp.path().join("work")).arg(dir));
    let (stdout, stderr) = ok(res, "keapack verify");
    let events: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let v: Vec<&Value> = events.iter().filter(|e| e["event"] == "load-verified").collect();
    assert_eq!(v.len(), 2, "{stdout}");
    let deb = v.iter().find(|e| e["target"] == "debian-12-amd64").expect("debian-12-amd64 verified");
    assert_eq!(deb["verified"], true, "{deb:#}");
    assert_daemon_evidence(deb, "kea-dhcp4", "2.2.0", "kea-dhcp4-server 2.2.0");
    // The .rpm's .el9 suffix is shared by RHEL 9 and its rebuilds: one of them, not verified.
    let rpm = v.iter().find(|e| e["target"].as_str().unwrap().ends_with("-9-x86_64") && e["target"] != "debian-12-amd64").expect("the .rpm recorded");
    assert_eq!(rpm["verified"], false);
    assert!(stderr.contains("debian-12-amd64: verified in"), "{stderr}");

    // A .deb depending on what Debian 12 does not have.
    let deb_file = hand_made_deb(tmp.path(), "keapack-test-unsatisfiable", "1.0-1+deb12", "Depends: libkeapack-test-absent9 (>= 9)\n");
    let res = run(keapack_cached().args(["verify", "--work"]).arg(tmp.path().join("work")).arg(&deb_file));
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("keapack-test-unsatisfiable : Depends: libkeapack-test-absent9 (>= 9) but it is not installable"), "names the missing dependency:\n{stderr}");
    assert!(stderr.contains("load verification of debian-12-amd64 failed"), "{stderr}");
}

#[test]
fn keapack_verify_refuses_a_package_of_no_known_release_with_its_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let deb = hand_made_deb(tmp.path(), "x", "1.0-1", "");
    let res = run(keapack().args(["verify", "--work"]).arg(tmp.path().join("work")).arg(&deb));
    let stderr = text(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "a refusal:\n{stderr}");
    assert!(stderr.contains("ends in no release suffix") && stderr.contains("--target"), "{stderr}");
    assert!(!tmp.path().join("work").exists(), "nothing written for a refused request");
}

#[test]
#[ignore = "slow: needs root: builds the example twice and verifies the first build"]
fn check_reproducible_with_verify_load_verifies_once_and_compares_the_records_without_it() {
    common::roots::require_root_user();
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let res = run(keapack_cached()
        .args(["demo", "--target", "debian-12-amd64", "--verify-load", "--check-reproducible", "--out"])
        .arg(&out)
        .arg("--work")
        .arg(tmp.path().join("work")));
    let (_, stderr) = ok(res, "demo --verify-load --check-reproducible");
    assert_eq!(stderr.matches("debian-12-amd64: verified in").count(), 1, "the second build is not verified again:\n{stderr}");
    assert!(stderr.contains("reproducible: 1 packages and the build record (the first's load verification aside) are byte-identical"), "{stderr}");
    assert_eq!(record_in(&out)["verification"][0]["verified"], true);
}

/// A tmpfs mounted at a directory for as long as it lives.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn at(dir: &Path) -> Tmpfs {
        fs::create_dir_all(dir).unwrap();
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
        let rc = unsafe { libc::mount(c"tmpfs".as_ptr(), c.as_ptr(), c"tmpfs".as_ptr(), 0, c"mode=0755".as_ptr().cast()) };
        assert_eq!(rc, 0, "cannot mount a tmpfs at {}: {}", dir.display(), std::io::Error::last_os_error());
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.0.as_os_str().as_encoded_bytes()).unwrap();
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

#[test]
#[ignore = "slow: needs root: builds the example with its work directory on a tmpfs and runs Debian 12's Kea"]
fn a_work_directory_on_another_file_system_than_the_cache_is_verified_too() {
    common::roots::require_root_user();
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    // The root cache is on the disk; the work directory (where the root is copied) is not, so
    // no hard link can join them.
    let mnt = Tmpfs::at(&tmp.path().join("tmpfs"));
    let out = tmp.path().join("dist");
    let res = build_verified(&examples().join("kea-premium-2.2.0"), &out, &mnt.0.join("work"), None);
    ok(res, "build --verify-load with the work directory on a tmpfs");
    assert_eq!(record_in(&out)["verification"][0]["verified"], true);
}

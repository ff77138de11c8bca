//! Builds that must fail, and the sentences they fail with.

mod common;
use common::*;
use std::path::Path;

/// Copy the example into `dir`, let `edit` change it, and run `keapack build` on it.
fn build_example(dir: &Path, premium_name: &str, edit: impl FnOnce(&Path, &Path)) -> (bool, String) {
    let kea = dir.join("kea-2.2.0");
    let premium = dir.join(premium_name);
    copy_tree(&examples().join("kea-2.2.0"), &kea);
    copy_tree(&examples().join("kea-premium-2.2.0"), &premium);
    edit(&kea, &premium);
    let out = run(keapack()
        .args(["build", "--target", "debian-12-amd64"])
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(dir.join("dist"))
        .arg("--work").arg(dir.join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn edit_file(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
#[ignore = "slow: builds the example"]
fn overlay_missed_by_autoreconf_hits_the_stub_and_is_explained() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.2.0", |kea, _| {
        edit_file(&kea.join("configure.ac"), "m4_sinclude(premium/config.m4)", "dnl (no m4_sinclude)");
    });
    assert!(!ok, "the build must fail");
    assert!(err.contains("You appear to have added premium hooks after running autoreconf"), "{err}");
    assert!(err.contains("autoreconf did not pick up premium/config.m4"), "{err}");
    assert!(err.contains("step 'configure' failed") && err.contains("Full log:"), "{err}");
    assert!(!tmp.path().join("dist").exists() || std::fs::read_dir(tmp.path().join("dist")).unwrap().count() == 0);
}

#[test]
#[ignore = "slow: builds the example"]
fn report_without_premium_yes_stops_with_the_report_lines() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.2.0", |_, premium| {
        edit_file(&premium.join("premium/config.m4"), "PREMIUM=yes", "PREMIUM=no");
    });
    assert!(!ok);
    assert!(err.contains("did not detect the premium overlay"), "{err}");
    assert!(err.contains("Premium hooks:     no"), "the report line is shown: {err}");
    assert!(err.contains("unpacked in the wrong place") && err.contains("premium/config.m4"), "{err}");
    let logs: Vec<_> = std::fs::read_dir(tmp.path().join("work/logs")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!logs.iter().any(|l| l.contains("make")), "nothing compiled after the report said no: {logs:?}");
}

#[test]
fn version_mismatch_stops_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.6.5", |_, _| {});
    assert!(!ok);
    assert!(err.contains("version mismatch") && err.contains("2.6.5") && err.contains("2.2.0"), "{err}");
    assert!(err.contains("--allow-version-mismatch"), "{err}");
    let logs = tmp.path().join("work/logs");
    assert!(!logs.exists() || std::fs::read_dir(&logs).unwrap().count() == 0, "no step ran");
}

#[test]
fn a_tree_that_is_not_kea_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.2.0", |kea, _| {
        edit_file(&kea.join("configure.ac"), "AC_INIT(kea,", "AC_INIT(notkea,");
    });
    assert!(!ok);
    assert!(err.contains("is not a Kea source tree"), "{err}");
}

#[test]
fn overlay_without_config_m4_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.2.0", |_, premium| {
        std::fs::remove_file(premium.join("premium/config.m4")).unwrap();
    });
    assert!(!ok);
    assert!(err.contains("has no premium/config.m4"), "{err}");
}

#[test]
fn unknown_target_lists_the_profiles() {
    let out = run(keapack().args(["guidance", "--target", "debian-99-amd64"]));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown target 'debian-99-amd64'") && err.contains("rhel-9"), "{err}");
}

#[test]
fn guidance_command_prints_valid_json_for_the_target() {
    let text = stdout(keapack().args(["guidance", "--target", "rhel-9-x86_64", "--kea-version", "2.6.5", "host_cmds", "flex_id", "ping_check"]));
    let blocks = json_blocks(&text);
    assert_eq!(blocks.len(), 2);
    let v4 = blocks[0]["Dhcp4"]["hooks-libraries"].as_array().unwrap();
    assert_eq!(v4.len(), 3);
    assert_eq!(v4[2]["library"], "/usr/lib64/kea/hooks/libdhcp_ping_check.so");
    assert_eq!(blocks[1]["Dhcp6"]["hooks-libraries"].as_array().unwrap().len(), 2, "ping_check is v4-only");
    assert!(text.contains("identifier-expression") && text.contains("FLEX_ID_EXPRESSION_NOT_DEFINED"));
    assert!(text.contains("echo '{ \"command\": \"list-commands\" }' | socat - UNIX:/var/run/kea/kea4-ctrl-socket"));
}

#[test]
fn an_empty_premium_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.2.0", |_, premium| {
        std::fs::remove_dir_all(premium.join("premium")).unwrap();
        std::fs::create_dir(premium.join("premium")).unwrap();
    });
    assert!(!ok);
    assert!(err.contains("empty premium/ directory"), "{err}");
}

#[test]
fn a_wrapped_overlay_is_unwrapped_and_a_flat_one_explained() {
    let tmp = tempfile::tempdir().unwrap();
    // kea-premium-2.2.0/premium/… inside the archive: unwrapped; the run goes on to the tool check and beyond.
    let wrapped = tmp.path().join("kea-premium-2.2.0.tar.gz");
    tarball(&examples().join("kea-premium-2.2.0"), "kea-premium-2.2.0", &wrapped);
    let flat = tmp.path().join("flat/kea-premium-2.2.0.tar.gz");
    std::fs::create_dir_all(flat.parent().unwrap()).unwrap();
    tarball(&examples().join("kea-premium-2.2.0/premium"), "", &flat);
    let run_with = |premium: &std::path::Path, work: &str| {
        run(keapack()
            .args(["build", "--target", "debian-12-amd64", "--jobs", "1", "--kea"])
            .arg(examples().join("kea-2.2.0"))
            .arg("--premium").arg(premium)
            .arg("--out").arg(tmp.path().join("dist"))
            .arg("--work").arg(tmp.path().join(work))
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .env("PATH", "/nonexistent"))
    };
    // With no tools on PATH the run stops at the tool check, after the overlay was placed.
    let out = run_with(&wrapped, "w1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing build tools") && err.contains("apt-get install") && err.contains("dnf install"), "{err}");
    assert!(tmp.path().join("w1/source/kea/premium/config.m4").is_file(), "the wrapper was unwrapped");
    let out = run_with(&flat, "w2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("has no premium/ directory at its top") && err.contains("premium/config.m4"), "{err}");
}

#[test]
fn hostile_overlay_archive_is_refused_by_the_cli_without_writing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    // A tar whose entry climbs out of the destination, written with raw headers.
    let mut h = tar::Header::new_old();
    let name = b"premium/../../../../keapack-escape";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(1);
    h.set_mode(0o644);
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.push(b'x');
    bytes.resize(512 * 4, 0);
    let arc = tmp.path().join("inner/deeper/kea-premium-2.2.0.tar");
    std::fs::create_dir_all(arc.parent().unwrap()).unwrap();
    std::fs::write(&arc, bytes).unwrap();
    let out = run(keapack()
        .args(["build", "--target", "debian-12-amd64", "--kea"])
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(&arc)
        .arg("--out").arg(tmp.path().join("inner/dist"))
        .arg("--work").arg(tmp.path().join("inner/work")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("refusing") && err.contains("keapack-escape"), "{err}");
    for p in [tmp.path().join("keapack-escape"), tmp.path().join("inner/keapack-escape"), tmp.path().join("inner/work/keapack-escape")] {
        assert!(!p.exists(), "{} was written", p.display());
    }
}

#[test]
#[ignore = "slow: builds the example"]
fn an_rpath_planted_in_a_hook_is_caught() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (ok, err) = build_example(tmp.path(), "kea-premium-2.2.0", |_, premium| {
        let am = premium.join("premium/src/hooks/dhcp/host_cmds/Makefile.am");
        edit_file(&am, "-avoid-version -export-dynamic -module", "-avoid-version -export-dynamic -module -Wl,-rpath,/opt/kea/lib");
    });
    assert!(!ok, "a hook with an RPATH must not be packaged");
    assert!(err.contains("libdhcp_host_cmds.so carries an RPATH/RUNPATH (/opt/kea/lib)"), "{err}");
    assert!(!tmp.path().join("dist").exists() || std::fs::read_dir(tmp.path().join("dist")).unwrap().count() == 0);
}

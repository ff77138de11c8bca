//! `--split per-hook`: one package per premium hook, named like ISC's, each with its own guidance.

mod common;
use common::*;

#[test]
#[ignore = "slow: builds the example"]
fn per_hook_split_writes_one_package_per_hook_with_its_own_guidance() {
    require_build_tools();
    require("dpkg-deb", "dpkg");
    require("rpm", "rpm");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let res = run(keapack()
        .args(["demo", "--quiet", "--split", "per-hook", "--meta", "--lint", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64", "--out"])
        .arg(&out)
        .arg("--work")
        .arg(tmp.path().join("work")));
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    // The outputs: every file but the hidden lock a run holds while it publishes.
    let mut names: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| !n.starts_with('.')).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SHA256SUMS",
            "isc-kea-premium-flex-id-2.2.0-1.el9.x86_64.rpm",
            "isc-kea-premium-flex-id_2.2.0-1+deb12_amd64.deb",
            "isc-kea-premium-host-cmds-2.2.0-1.el9.x86_64.rpm",
            "isc-kea-premium-host-cmds_2.2.0-1+deb12_amd64.deb",
            "kea-premium-hooks-meta-2.2.0-1.el9.noarch.rpm",
            "kea-premium-hooks-meta_2.2.0-1+deb12_all.deb",
            "kea-premium-hooks_2.2.0-1.keapack-buildinfo.json",
        ]
    );
    let deb = out.join("isc-kea-premium-host-cmds_2.2.0-1+deb12_amd64.deb");
    let list = stdout(std::process::Command::new("dpkg-deb").arg("-c").arg(&deb));
    assert!(list.contains("./usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so"), "{list}");
    assert!(!list.contains("flex_id"), "only its own hook: {list}");
    assert!(list.contains("./usr/share/doc/isc-kea-premium-host-cmds/GUIDANCE.txt"), "{list}");
    let depends = stdout(std::process::Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Depends"));
    assert!(depends.contains("kea-common (>= 2.2.0), kea-common (<< 2.2.1~)"), "{depends}");
    // It takes the bundle's place (tests/lifecycle.rs switches layouts with apt, dpkg and rpm).
    let fields = stdout(std::process::Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Conflicts").arg("Replaces"));
    assert_eq!(fields, "Conflicts: kea-premium-hooks\nReplaces: kea-premium-hooks\n");

    // The meta package, named apart from the bundle: no hooks, an exact dependency on each
    // per-hook package.
    let meta = out.join("kea-premium-hooks-meta_2.2.0-1+deb12_all.deb");
    let depends = stdout(std::process::Command::new("dpkg-deb").arg("-f").arg(&meta).arg("Depends"));
    assert_eq!(depends.trim(), "isc-kea-premium-flex-id (= 2.2.0-1+deb12), isc-kea-premium-host-cmds (= 2.2.0-1+deb12)");
    assert!(!stdout(std::process::Command::new("dpkg-deb").arg("-c").arg(&meta)).contains(".so"));
    let reqs = stdout(std::process::Command::new("rpm").args(["-qp", "--requires"]).arg(out.join("kea-premium-hooks-meta-2.2.0-1.el9.noarch.rpm")));
    assert!(reqs.lines().any(|l| l == "isc-kea-premium-host-cmds = 2.2.0-1.el9"), "{reqs}");

    let rpm = out.join("isc-kea-premium-flex-id-2.2.0-1.el9.x86_64.rpm");
    let obsoletes = stdout(std::process::Command::new("rpm").args(["-qp", "--conflicts", "--obsoletes"]).arg(&rpm));
    assert_eq!(obsoletes, "kea-premium-hooks\nkea-premium-hooks < 2.2.0-1.el9\n");
    let files = stdout(std::process::Command::new("rpm").args(["-qpl"]).arg(&rpm));
    assert!(files.lines().any(|l| l == "/usr/lib64/kea/hooks/libdhcp_flex_id.so"), "{files}");
    assert!(!files.contains("host_cmds"), "{files}");
    let scripts = stdout(std::process::Command::new("rpm").args(["-qp", "--scripts"]).arg(&rpm));
    assert!(scripts.contains("FLEX_ID_EXPRESSION_NOT_DEFINED") && !scripts.contains("HOST_CMDS_INIT_OK"), "the guidance speaks of its own hook only:\n{scripts}");
    // The snippet as %post prints it on a first installation (the script quotes each line).
    let post = stdout(std::process::Command::new("rpm").args(["-qp", "--qf", "%{POSTIN}"]).arg(&rpm));
    let printed = run(std::process::Command::new("sh").arg("-c").arg(&post).arg("sh").arg("1"));
    assert!(printed.status.success(), "%post failed: {}", String::from_utf8_lossy(&printed.stderr));
    let blocks = json_blocks(&String::from_utf8_lossy(&printed.stdout));
    assert_eq!(blocks[0]["Dhcp4"]["hooks-libraries"].as_array().unwrap().len(), 1);
}

//! Each target is built in an environment of its own release: on this Debian 12 host a
//! `debian-13-amd64` target is compiled in a trixie root that keapack makes with debootstrap
//! and caches, so its hooks and their Depends come from trixie's headers and libraries. (That a
//! real Kea 2.6.3 loads what it built is proven in tests/kea_load.rs.)

mod common;
use common::packages::trixie_example;
use common::*;

/// The lower bound of `<package> (>= X)` in a Depends line.
fn minimum(depends: &str, package: &str) -> Vec<u32> {
    let rel = format!("{package} (>= ");
    let at = depends.find(&rel).unwrap_or_else(|| panic!("no {package} relation in {depends}")) + rel.len();
    let version = &depends[at..at + depends[at..].find(')').unwrap()];
    version.split('.').map(|n| n.parse().unwrap()).collect()
}

#[test]
#[ignore = "slow: needs root: debootstraps a Debian 13 root and builds the example in it"]
fn a_debian_13_target_is_built_in_a_trixie_root_with_trixies_libraries() {
    common::roots::require_root_user();
    require("dpkg-deb", "dpkg");
    let built = trixie_example();
    let envs = built.record["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1, "{envs:?}");
    let env = &envs[0];
    assert_eq!(env["name"], "debian-13-amd64");
    assert_eq!(env["os"], "Debian GNU/Linux 13 (trixie)", "the build ran in the trixie root, not on this host");
    assert!(env["root"].as_str().unwrap().starts_with("trixie-amd64-"), "{env}");
    assert!(env["packages"]["kea-dev"].as_str().unwrap().starts_with("2.6.3-"), "compiled against trixie's kea-dev: {env}");
    assert!(env["packages"]["libc6-dev"].as_str().unwrap().starts_with("2.41-"), "{env}");
    assert_eq!(env["targets"], serde_json::json!(["debian-13-amd64"]));
    // The tools the record lists ran in the root too: trixie's GCC 14, not this host's 12.
    let gcc = built.record["tools"]["c++ compiler"].as_str().unwrap_or_default();
    assert!(gcc.contains(" 14."), "g++ in the record: {gcc}");

    let depends = stdout(std::process::Command::new("dpkg-deb").args(["-f"]).arg(&built.deb).arg("Depends"));
    assert!(depends.contains("kea-common (>= 2.6.3)"), "{depends}");
    // The bounds come from trixie's symbols files: the highest minimal version in Debian 12's
    // libstdc++6 symbols file is 12, so a higher one can only be trixie's (GCC 14's library).
    assert!(minimum(&depends, "libstdc++6") > vec![12], "Depends read from trixie's libraries: {depends}");
    assert!(minimum(&depends, "libc6") >= vec![2, 2], "{depends}");
}

#[test]
#[ignore = "slow: needs root: keapack plans a Debian 13 root only as root, even in a dry run"]
fn targets_of_two_releases_are_planned_in_two_environments() {
    common::roots::require_root_user();
    let tmp = tempfile::tempdir().unwrap();
    let res = run(keapack()
        .args(["build", "--dry-run", "--runtime", "isc", "--target", "debian-12-amd64", "--target", "debian-13-amd64", "--kea"])
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0"))
        .arg("--out").arg(tmp.path().join("dist"))
        .arg("--work").arg(tmp.path().join("work")));
    let (out, err) = (String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    assert!(res.status.success(), "{err}");
    assert!(out.contains("build env: this host (Debian GNU/Linux 12 (bookworm)) for debian-12-amd64"), "{out}");
    assert!(out.contains("build env: a trixie amd64 root (trixie-amd64-"), "{out}");
    assert!(out.contains("for debian-13-amd64"), "{out}");

    // With --build-env host both are built here, and the Debian 13 target is warned about.
    let res = run(keapack()
        .args(["build", "--dry-run", "--build-env", "host", "--runtime", "isc", "--target", "debian-12-amd64", "--target", "debian-13-amd64", "--kea"])
        .arg(examples().join("kea-2.2.0"))
        .arg("--premium").arg(examples().join("kea-premium-2.2.0"))
        .arg("--out").arg(tmp.path().join("dist"))
        .arg("--work").arg(tmp.path().join("work")));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    assert!(out.contains("build env: this host (Debian GNU/Linux 12 (bookworm)) for debian-12-amd64, debian-13-amd64"), "{out}");
    assert!(out.contains("warning: target debian-13-amd64 is Debian 13 (trixie), but it is built on this host"), "{out}");
}

//! The real binary on the bundled example: autoreconf, configure, make, then real dpkg-deb and
//! rpm read the packages it wrote.

mod common;
use common::*;
use std::path::Path;
use std::sync::OnceLock;

/// One build of the example from tarballs (Kea .tar.gz with a top directory, overlay .tar.xz),
/// shared by the tests of this file.
fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let b = build_example_tarballs("build-rs-", "tar.xz", &[]);
        assert!(b.stdout.contains(&b.deb.display().to_string()) && b.stdout.contains(&b.rpm.display().to_string()), "{}", b.stdout);
        b
    })
}

fn deb_field(deb: &Path, field: &str) -> String {
    require("dpkg-deb", "dpkg");
    stdout(std::process::Command::new("dpkg-deb").arg("-f").arg(deb).arg(field)).trim().to_string()
}

#[test]
#[ignore = "slow: builds the example"]
fn deb_control_names_version_relations() {
    let b = built();
    assert_eq!(deb_field(&b.deb, "Package"), "kea-premium-hooks");
    assert_eq!(deb_field(&b.deb, "Version"), "2.2.0-1+deb12");
    assert_eq!(deb_field(&b.deb, "Architecture"), "amd64");
    // The exact Kea pin, then what the hooks' NEEDED libraries map to through this host's
    // symbols files (libkea-* is the pin's job), merged and sorted: what dpkg-shlibdeps writes
    // for the same hooks, whose kea-common relation (from kea-common's shlibs file) keapack
    // narrows to the exact release.
    let depends = deb_field(&b.deb, "Depends");
    let dpkg = common::packages::dpkg_shlibdeps_depends(&b.deb);
    let dpkg_libs = dpkg.strip_prefix("kea-common (>= 2.2.0), ").unwrap_or_else(|| panic!("dpkg-shlibdeps: {dpkg}"));
    assert_eq!(depends, format!("kea-common (>= 2.2.0), kea-common (<< 2.2.1~), {dpkg_libs}"), "dpkg-shlibdeps: {dpkg}");
    let names: Vec<&str> = dpkg_libs.split(", ").map(|r| r.split(' ').next().unwrap()).collect();
    assert_eq!(names, ["libc6", "libgcc-s1", "libstdc++6"], "{depends}");
    assert!(dpkg_libs.split(", ").all(|r| r.contains(" (>= ")), "every library relation is versioned, from the symbols files: {depends}");
    assert_eq!(deb_field(&b.deb, "Section"), "net");
}

#[test]
#[ignore = "slow: builds the example"]
fn deb_holds_premium_hooks_only_at_the_debian_path_as_root_0644() {
    let b = built();
    let list = stdout(std::process::Command::new("dpkg-deb").arg("-c").arg(&b.deb));
    let dir = "./usr/lib/x86_64-linux-gnu/kea/hooks/";
    for hook in ["libdhcp_host_cmds.so", "libdhcp_flex_id.so"] {
        let line = list.lines().find(|l| l.ends_with(&format!("{dir}{hook}"))).unwrap_or_else(|| panic!("{hook} missing:\n{list}"));
        assert!(line.starts_with("-rw-r--r-- root/root"), "{line}");
        assert!(line.contains("2023-11-14 22:13"), "mtime is SOURCE_DATE_EPOCH: {line}");
    }
    assert!(list.lines().any(|l| l.starts_with("drwxr-xr-x root/root") && l.ends_with(dir)), "{list}");
    assert!(!list.contains("lease_cmds"), "the open-source hook stays out:\n{list}");
    assert!(!list.contains(".la"), "{list}");
    for doc in ["GUIDANCE.txt", "kea-dhcp4-hooks.json", "kea-dhcp6-hooks.json", "copyright", "changelog.Debian.gz"] {
        assert!(list.contains(&format!("./usr/share/doc/kea-premium-hooks/{doc}")), "{doc} missing:\n{list}");
    }
}

#[test]
#[ignore = "slow: builds the example"]
fn deb_postinst_prints_guidance_under_dash_and_honours_dpkg_root() {
    let b = built();
    let tmp = tempfile::tempdir().unwrap();
    let ctrl = tmp.path().join("control");
    assert!(std::process::Command::new("dpkg-deb").arg("-e").arg(&b.deb).arg(&ctrl).status().unwrap().success());
    let post = ctrl.join("postinst");
    require("dash", "dash");
    // DPKG_ROOT without the hooks: guidance printed, a warning, and still exit 0.
    let root = tmp.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let out = run(std::process::Command::new("dash").arg(&post).arg("configure").env("DPKG_ROOT", &root));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/etc/kea/kea-dhcp4.conf") && text.contains("HOST_CMDS_INIT_OK"), "{text}");
    let blocks = json_blocks(&text);
    assert_eq!(blocks.len(), 2, "one snippet per daemon");
    assert_eq!(blocks[0]["Dhcp4"]["hooks-libraries"][0]["library"], "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: not found under"), "missing hooks are reported");
    // With the hooks present under DPKG_ROOT: no warning.
    let hooks = root.join("usr/lib/x86_64-linux-gnu/kea/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for h in ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"] {
        std::fs::write(hooks.join(h), b"").unwrap();
    }
    let out = run(std::process::Command::new("dash").arg(&post).arg("configure").env("DPKG_ROOT", &root));
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"), "{}", String::from_utf8_lossy(&out.stderr));
    // Other maintainer actions print nothing; stdout closed still exits 0.
    let out = run(std::process::Command::new("dash").arg(&post).arg("abort-upgrade"));
    assert!(out.status.success() && out.stdout.is_empty());
    let st = std::process::Command::new("dash").arg(&post).arg("configure").stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().unwrap();
    assert!(st.success());
}

#[test]
#[ignore = "slow: builds the example"]
fn rpm_header_files_relations_and_scripts() {
    let b = built();
    require("rpm", "rpm");
    let q = |args: &[&str]| stdout(std::process::Command::new("rpm").arg("-qp").args(args).arg(&b.rpm));
    assert_eq!(q(&["--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{BUILDTIME}"]), "kea-premium-hooks 2.2.0 1.el9 x86_64 1700000000");
    let reqs = q(&["--requires"]);
    assert!(reqs.lines().any(|l| l == "kea-libs = 2.2.0"), "{reqs}");
    // rpm's SONAME capabilities for what the hooks link, none for libkea-* (the pin covers it).
    for cap in ["libc.so.6()(64bit)", "libstdc++.so.6()(64bit)", "libgcc_s.so.1()(64bit)"] {
        assert!(reqs.lines().any(|l| l == cap), "{cap} missing:\n{reqs}");
    }
    assert!(reqs.lines().any(|l| l.starts_with("libc.so.6(GLIBC_2.")) && !reqs.contains("libkea"), "{reqs}");
    let dump = q(&["--dump"]);
    for hook in ["libdhcp_host_cmds.so", "libdhcp_flex_id.so"] {
        let line = dump.lines().find(|l| l.starts_with(&format!("/usr/lib64/kea/hooks/{hook} "))).unwrap_or_else(|| panic!("{hook}:\n{dump}"));
        let f: Vec<&str> = line.split(' ').collect();
        // path size mtime digest mode owner group …
        assert_eq!(f[2], "1700000000", "{line}");
        assert_eq!(f[4], "0100644", "{line}");
        assert_eq!((f[5], f[6]), ("root", "root"), "{line}");
    }
    assert!(!dump.contains("lease_cmds"));
    let scripts = q(&["--scripts"]);
    assert!(scripts.contains("postinstall scriptlet") && scripts.contains("/usr/lib64/kea/hooks/libdhcp_host_cmds.so"), "{scripts}");
    assert!(scripts.contains("/etc/kea/kea-dhcp6.conf") && scripts.contains("systemctl restart kea-dhcp4"), "{scripts}");
    // The snippets as %post prints them on a first installation (the script quotes each line).
    let post = q(&["--qf", "%{POSTIN}"]);
    let printed = run(std::process::Command::new("sh").arg("-c").arg(&post).arg("sh").arg("1"));
    assert!(printed.status.success(), "%post failed: {}", String::from_utf8_lossy(&printed.stderr));
    let blocks = json_blocks(&String::from_utf8_lossy(&printed.stdout));
    assert_eq!(blocks.len(), 2, "one snippet per daemon");
    assert_eq!(blocks[1]["Dhcp6"]["hooks-libraries"][1]["library"], "/usr/lib64/kea/hooks/libdhcp_host_cmds.so");
}

#[test]
#[ignore = "slow: builds the example"]
fn sha256sums_cover_every_package() {
    let b = built();
    require("sha256sum", "coreutils");
    let sums = std::fs::read_to_string(b.out.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 3, "two packages and the build record: {sums}");
    assert!(sums.contains("  kea-premium-hooks_2.2.0-1.keapack-buildinfo.json\n"), "{sums}");
    let out = run(std::process::Command::new("sha256sum").arg("-c").arg("SHA256SUMS").current_dir(&b.out));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let leftovers: Vec<_> = std::fs::read_dir(&b.out).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().starts_with('.') && n != ".keapack-out.lock").collect();
    assert!(leftovers.is_empty(), "no temporary files stay in the output: {leftovers:?}");
}

#[test]
#[ignore = "slow: builds the example"]
fn the_build_record_shows_configure_with_the_distributions_runstatedir() {
    // Kea checks control sockets against its compiled-in <runstatedir>/kea: keapack's Kea takes
    // the distributions' /run, so it answers on /run/kea as theirs does.
    let b = built();
    let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(b.out.join("kea-premium-hooks_2.2.0-1.keapack-buildinfo.json")).unwrap()).unwrap();
    let configure: Vec<&str> = record["build"]["configure"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(configure.contains(&"--runstatedir=/run") && configure.contains(&"--localstatedir=/var"), "{configure:?}");
    // And configure really took it: config.status substitutes it for @runstatedir@.
    let work = b.out.parent().unwrap().join("work");
    let status = std::fs::read_to_string(work.join("source/kea/kea-2.2.0/config.status")).unwrap();
    assert!(status.contains("S[\"runstatedir\"]=\"/run\""), "configure's runstatedir is /run");
}

#[test]
#[ignore = "slow: builds the example"]
fn runtime_isc_depends_on_iscs_packages_and_names_their_socket_directory() {
    // Debian 13's archive ships Kea 2.6.3, so the 2.2.0 example is refused there with the
    // distribution runtime; with ISC's runtime it builds, next to Debian 12's in one --out. The
    // example's hooks compile against the installed Kea 2.2 headers, which only this host has
    // (a trixie root's kea-dev is 2.6.3), so it is built here (--build-env host).
    let b = build_example_tarballs("isc-runtime-rs-", "tar.gz", &["--runtime", "isc", "--build-env", "host", "--target", "debian-13-amd64"]);
    let deb13 = b.out.join("kea-premium-hooks_2.2.0-1+deb13_amd64.deb");
    for deb in [&b.deb, &deb13] {
        let depends = deb_field(deb, "Depends");
        assert!(depends.starts_with("isc-kea-common (>= 2.2.0), isc-kea-common (<< 2.2.1~), libc6"), "{}: {depends}", deb.display());
        assert!(!depends.contains(" kea-common") && !depends.starts_with("kea-common"), "{depends}");
        let scripts = stdout(std::process::Command::new("dpkg-deb").arg("-I").arg(deb).arg("postinst"));
        assert!(scripts.contains("socat - UNIX:/var/run/kea/kea4-ctrl-socket") && scripts.contains("install -d -m 0750 -o _kea -g _kea /var/run/kea"), "{scripts}");
        assert!(!scripts.contains(" /run/kea"), "{scripts}");
    }
    require("rpm", "rpm");
    let reqs = stdout(std::process::Command::new("rpm").args(["-qp", "--requires"]).arg(&b.rpm));
    assert!(reqs.lines().any(|l| l == "isc-kea-common = 2.2.0") && !reqs.lines().any(|l| l.starts_with("kea-libs")), "{reqs}");
    let scripts = stdout(std::process::Command::new("rpm").args(["-qp", "--scripts"]).arg(&b.rpm));
    assert!(scripts.contains("install -d -m 0750 -o kea -g kea /var/run/kea"), "{scripts}");
}

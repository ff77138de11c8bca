//! Every profile and architecture: packages planned and written by keapack's library for a hook
//! compiled for that architecture (gcc, and the aarch64 cross compiler), read back with the real
//! `dpkg-deb -c` and `rpm -qpl`.

mod common;
use common::*;
use keapack::plan::catalog::Catalog;
use keapack::plan::guidance::Templates;
use keapack::plan::manifest::PackageSection;
use keapack::plan::{PlanInput, plan_all};
use keapack::plan::profile::Profiles;
use keapack::plan::spec::Format;
use keapack::stage::StagedHook;
use keapack::source::version::KeaVersion;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A minimal hook (the entry points Kea calls) compiled by `cc` into `dir`.
fn hook_for(cc: &str, package: &str, dir: &Path) -> PathBuf {
    require(cc, package);
    std::fs::create_dir_all(dir).unwrap();
    let src = dir.join("hook.c");
    std::fs::write(&src, "int version(void) { return 20200; }\nint multi_threading_compatible(void) { return 1; }\nint load(void *h) { return 0; }\n").unwrap();
    let so = dir.join("libdhcp_host_cmds.so");
    let st = Command::new(cc).args(["-shared", "-fPIC", "-o"]).arg(&so).arg(&src).status().unwrap();
    assert!(st.success(), "{cc} failed");
    keapack::stage::check_hook(&so, &KeaVersion::new(2, 2, 0)).unwrap();
    so
}

#[test]
fn every_profile_and_architecture_puts_the_hook_in_its_hooks_directory() {
    require("dpkg-deb", "dpkg");
    require("rpm", "rpm");
    let tmp = tempfile::tempdir().unwrap();
    let libs: BTreeMap<&str, PathBuf> = [
        ("x86_64", hook_for("x86_64-linux-gnu-gcc", "gcc", &tmp.path().join("x86_64"))),
        ("aarch64", hook_for("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", &tmp.path().join("aarch64"))),
    ]
    .into();
    let (profiles, catalog, templates) = (Profiles::builtin(), Catalog::builtin(), Templates::builtin());
    let package = PackageSection::default();
    let kea = KeaVersion::new(2, 2, 0);
    let no_libs = BTreeMap::new();
    let mut checked = 0;
    for id in profiles.ids() {
        // Each profile names its own architectures; resolve one target per architecture.
        let any = profiles.target(id).unwrap().profile;
        for (arch, info) in &any.arch {
            let target = profiles.target(&format!("{id}-{arch}")).unwrap();
            let lib = &libs[info.elf_machine.as_str()];
            let machine = keapack::support::elf::machine(lib).unwrap();
            let hooks = [StagedHook { library: "libdhcp_host_cmds.so".into(), path: lib.clone(), premium: true, machine }];
            let input = PlanInput { package: &package, kea_version: &kea, hooks: &hooks, target: &target, epoch: 1_700_000_000, catalog: &catalog, templates: &templates, library_depends: &no_libs };
            let specs = plan_all(&input).unwrap();
            assert_eq!(specs.len(), 1);
            let spec = &specs[0];
            let file = tmp.path().join(spec.file_name());
            let mut out = std::fs::File::create(&file).unwrap();
            keapack::emit::write_package(spec, &mut out).unwrap();
            let want = format!("{}/libdhcp_host_cmds.so", target.hooks_dir());
            match spec.format {
                Format::Deb => {
                    let list = stdout(Command::new("dpkg-deb").arg("-c").arg(&file));
                    assert!(list.lines().any(|l| l.starts_with("-rw-r--r-- root/root") && l.ends_with(&format!(".{want}"))), "{id}-{arch}: {list}");
                    assert_eq!(stdout(Command::new("dpkg-deb").arg("-f").arg(&file).arg("Architecture")).trim(), arch.as_str());
                }
                Format::Rpm => {
                    let list = stdout(Command::new("rpm").arg("-qpl").arg(&file));
                    assert!(list.lines().any(|l| l == want), "{id}-{arch}: {list}");
                    assert_eq!(stdout(Command::new("rpm").args(["-qp", "--qf", "%{ARCH}"]).arg(&file)), arch.as_str());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 32, "every profile on both architectures: {checked}");
}

#[test]
fn a_hook_of_the_wrong_architecture_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = hook_for("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", tmp.path());
    let target = Profiles::builtin().target("debian-12-amd64").unwrap();
    let hooks = [StagedHook { library: "libdhcp_host_cmds.so".into(), path: lib.clone(), premium: true, machine: keapack::support::elf::machine(&lib).unwrap() }];
    let (catalog, templates, package, kea, no_libs) = (Catalog::builtin(), Templates::builtin(), PackageSection::default(), KeaVersion::new(2, 2, 0), BTreeMap::new());
    let input = PlanInput { package: &package, kea_version: &kea, hooks: &hooks, target: &target, epoch: 1_700_000_000, catalog: &catalog, templates: &templates, library_depends: &no_libs };
    let err = plan_all(&input).unwrap_err().to_string();
    assert!(err.contains("libdhcp_host_cmds.so is built for aarch64, but target debian-12-amd64 needs x86_64"), "{err}");
}

/// The RPM family's own Kea checks control sockets against `/var/run/kea` (Fedora's kea.spec
/// passes no runstatedir to meson, rpm's %configure none to configure: `<localstatedir>/run`),
/// and Kea compares the path as a string: the guidance of every RPM profile's distribution
/// runtime names `/var/run/kea`, never `/run/kea`; Debian's (debhelper: --runstatedir=/run)
/// names `/run/kea`. docs/kea-facts.md §5.
#[test]
fn each_familys_own_kea_gets_its_own_socket_directory_in_the_guidance() {
    let profiles = Profiles::builtin();
    let mut checked = 0;
    for id in profiles.ids() {
        let target = profiles.target(id).unwrap();
        let arch = target.profile.arch.keys().next().unwrap().clone();
        let (dir, user) = match target.profile.family {
            Format::Rpm => ("/var/run/kea", "kea"),
            Format::Deb => ("/run/kea", "_kea"),
        };
        for kea in ["2.6.3", "3.2.0"] {
            let out = run(keapack().args(["guidance", "--runtime", "distribution", "--kea-version", kea, "-t", &format!("{id}-{arch}"), "host_cmds"]));
            assert!(out.status.success(), "{id} {kea}: {}", text(&out.stderr));
            let t = text(&out.stdout);
            let ctx = format!("{id} Kea {kea}:\n{t}");
            assert!(t.contains(&format!("\"socket-name\": \"{dir}/kea4-ctrl-socket\"")), "{ctx}");
            assert!(t.contains(&format!("socat - UNIX:{dir}/kea4-ctrl-socket")), "{ctx}");
            assert!(t.contains(&format!("install -d -m 0750 -o {user} -g {user} {dir}\n")), "{ctx}");
            if target.profile.family == Format::Rpm {
                assert!(!t.contains(" /run/kea") && !t.contains("\"/run/kea"), "{ctx}");
            } else {
                assert!(!t.contains("/var/run/kea"), "{ctx}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 32, "every profile, two Kea releases: {checked}");
}

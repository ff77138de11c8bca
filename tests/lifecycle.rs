//! A hooks package over its whole life, with the real package managers: installed, upgraded,
//! removed (with and without a Kea configuration that still names its hooks), and switched
//! between the bundle and the per-hook layouts and back — with apt-get and dpkg in a Debian 12
//! root that has Kea, and with rpm and dnf, which run the scriptlets chrooted into a root whose
//! only program is the shell (dnf from a repository made by createrepo_c, with a stand-in for
//! what an RPM distribution would provide, so every relation is checked). Then the scripts themselves under dash and bash with outputs that
//! cannot be written, the changelog history in both formats, and the debug packages' lint.

mod common;
use common::packages::example_build;
use common::roots::Root;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const PKG: &str = "kea-premium-hooks";
const META: &str = "kea-premium-hooks-meta";
const PER_HOOK: [&str; 2] = ["isc-kea-premium-flex-id", "isc-kea-premium-host-cmds"];
const DEB_HOOKS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks";
const RPM_HOOKS: &str = "/usr/lib64/kea/hooks";
/// A line only the full guidance prints.
const FULL: &str = "merge this \"hooks-libraries\" list into the";

/// The manifest of these builds: a changelog source with revision 1's entry.
const MANIFEST: &str = "[package]\nchangelog = \"changelog.toml\"\n";
const CHANGELOG: &str = "[[entry]]\nversion = \"2.2.0-1\"\ndate = 2023-11-01T12:00:00Z\nauthor = \"Site Release Team <release@example.org>\"\ntext = \"\"\"\n- First build of the hooks for the site repository.\n\"\"\"\n";

/// The example's outputs at `revision`, one bundle (`per_hook`: one package per hook and the
/// meta package) for Debian 12 and RHEL 9.
fn build(revision: u32, per_hook: bool) -> PathBuf {
    let (label, args): (&str, &[&str]) = if per_hook { ("life-per-hook", &["--split", "per-hook", "--meta"]) } else { ("life-bundle", &[]) };
    example_build(label, revision, args, MANIFEST, CHANGELOG)
}

/// The files of `dir` whose names start with one of `names` followed by `_` or `-2`
/// and end in `ext`.
fn files(dir: &Path, names: &[&str], ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.ends_with(ext) && !n.contains("dbgsym") && !n.contains("debuginfo") && names.iter().any(|w| n.starts_with(&format!("{w}_")) || n.starts_with(&format!("{w}-2.")))
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), names.len(), "{names:?} in {}: {v:?}", dir.display());
    v
}


/// Copy packages into the root's /tmp; their paths inside it.
fn copy_in(root: &Root, pkgs: &[PathBuf]) -> Vec<String> {
    pkgs.iter()
        .map(|p| {
            let inside = format!("/tmp/{}", p.file_name().unwrap().to_string_lossy());
            std::fs::copy(p, root.join(&inside)).unwrap();
            inside
        })
        .collect()
}

/// `apt-get -y <args>` in the root, which must succeed, offline: the packages' dependencies
/// (Kea) are installed already. Its stdout and stderr.
fn apt(root: &Root, args: &[&str]) -> (String, String) {
    let out = run(root.chroot("apt-get").args(["-y", "-o", "Dpkg::Use-Pty=0", "-o", "APT::Sandbox::User=root"]).args(args).env("DEBIAN_FRONTEND", "noninteractive"));
    ok(out, &format!("apt-get {}", args.join(" ")))
}

fn dpkg(root: &Root, args: &[&str]) -> (String, String) {
    ok(run(root.chroot("dpkg").args(args)), &format!("dpkg {}", args.join(" ")))
}

/// `name version` of every installed package among `names`.
fn deb_installed(root: &Root, names: &[&str]) -> Vec<String> {
    let out = run(root.chroot("dpkg-query").args(["-W", "-f", "${db:Status-Abbrev}${Package} ${Version}\n"]).args(names));
    let mut v: Vec<String> = text(&out.stdout).lines().filter_map(|l| l.strip_prefix("ii ")).map(str::to_string).collect();
    v.sort();
    v
}

/// Kea configurations that load the packaged hooks: host_cmds in the DHCPv4 server's, flex_id
/// in a file of another name that configures the DHCPv6 server.
fn configure_hooks(root: &Root, hooks_dir: &str) -> [String; 2] {
    let v4 = format!("{{\n\"Dhcp4\": {{\n  \"hooks-libraries\": [\n    {{ \"library\": \"{hooks_dir}/libdhcp_host_cmds.so\" }}\n  ]\n}}\n}}\n");
    let v6 = format!("{{ \"Dhcp6\": {{ \"hooks-libraries\": [ {{ \"library\": \"{hooks_dir}/libdhcp_flex_id.so\", \"parameters\": {{ \"identifier-expression\": \"relay6[0].peeraddr\" }} }} ] }} }}\n");
    std::fs::create_dir_all(root.join("/etc/kea")).unwrap();
    std::fs::write(root.join("/etc/kea/kea-dhcp4.conf"), v4).unwrap();
    std::fs::write(root.join("/etc/kea/site-dhcp6.json"), v6).unwrap();
    ["/etc/kea/kea-dhcp4.conf".to_string(), "/etc/kea/site-dhcp6.json".to_string()]
}

/// The removal warnings in `out`: (file, library) of each `still names` line.
fn warnings(out: &str, package: &str) -> Vec<(String, String)> {
    let prefix = format!("{package}: warning: ");
    let mut found: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|l| l.split_once(" still names "))
        .map(|(f, lib)| (f.to_string(), lib.trim_end_matches(',').to_string()))
        .collect();
    found.sort();
    found
}

#[test]
#[ignore = "slow: needs root: installs packages with apt and dpkg in a Debian 12 root; builds the example"]
fn deb_first_install_upgrade_and_removal_through_apt_and_dpkg() {
    common::roots::require_root_user();
    let (r1, r2) = (build(1, false), build(2, false));
    let root = Root::kea();
    let debs = copy_in(&root, &[files(&r1, &[PKG], ".deb").remove(0), files(&r2, &[PKG], ".deb").remove(0)]);

    // First installation: the whole guidance.
    let (out, err) = apt(&root, &["install", &debs[0]]);
    assert!(out.contains(FULL) && out.contains(&format!("{PKG} 2.2.0-1+deb12:")), "apt-get install prints the guidance:\n{out}");
    assert!(!out.contains("is replaced by") && !err.contains("warning:"), "{out}\n{err}");

    // Upgrade: the short note, from which version to which, and not the guidance.
    let (out, err) = apt(&root, &["install", &debs[1]]);
    let note = [
        format!("{PKG}: 2.2.0-1+deb12 is replaced by 2.2.0-2+deb12."),
        "A running Kea keeps the hook libraries it loaded until it is restarted or reloads".to_string(),
        "its configuration: run \"systemctl restart kea-dhcp4-server kea-dhcp6-server\",".to_string(),
        "or send the \"config-reload\" command to each daemon over its control socket.".to_string(),
        format!("The full configuration guidance is in /usr/share/doc/{PKG}/GUIDANCE.txt."),
    ];
    for line in &note {
        assert!(out.lines().any(|l| l == line), "the upgrade note lacks {line:?}:\n{out}");
    }
    assert!(!out.contains(FULL), "an upgrade does not repeat the guidance:\n{out}");
    assert!(!err.contains("warning:"), "{err}");
    assert!(std::fs::read_to_string(root.join(&format!("/usr/share/doc/{PKG}/GUIDANCE.txt"))).unwrap().contains(FULL), "the full guidance is where the note says");
    assert_eq!(deb_installed(&root, &[PKG]), [format!("{PKG} 2.2.0-2+deb12")]);

    // Removal while Kea's configuration is Debian's own (which names flex_id in comments only):
    // no warning.
    let (out, err) = apt(&root, &["remove", PKG]);
    assert!(warnings(&(out.clone() + &err), PKG).is_empty() && !err.contains("warning:"), "{out}\n{err}");
    assert!(!root.join(&format!("{DEB_HOOKS}/libdhcp_host_cmds.so")).exists());

    // Removal while configurations name the hooks: a warning per file, naming the daemon.
    apt(&root, &["install", &debs[1]]);
    let confs = configure_hooks(&root, DEB_HOOKS);
    let (out, err) = apt(&root, &["remove", PKG]);
    let all = out.clone() + &err;
    assert_eq!(
        warnings(&all, PKG),
        [(confs[0].clone(), format!("{DEB_HOOKS}/libdhcp_host_cmds.so")), (confs[1].clone(), format!("{DEB_HOOKS}/libdhcp_flex_id.so"))],
        "{all}"
    );
    for want in ["which is no longer installed. kea-dhcp4 (kea-dhcp4-server) keeps the library it has loaded while it",
        "which is no longer installed. kea-dhcp6 (kea-dhcp6-server) keeps the library it has loaded while it",
        "runs, but its next start or config-reload fails (HOOKS_OPEN_ERROR) unless a package",
        "per-hook packages). Otherwise remove that entry from \"hooks-libraries\" in",
        "/etc/kea/kea-dhcp4.conf, or install the hooks again."] {
        assert!(all.lines().any(|l| l == want), "the warning lacks {want:?}:\n{all}");
    }
    assert!(deb_installed(&root, &[PKG]).is_empty());

    // The same with dpkg, and dpkg -P after dpkg -r warns no second time.
    dpkg(&root, &["-i", &debs[0]]);
    let (out, err) = dpkg(&root, &["-r", PKG]);
    assert_eq!(warnings(&(out.clone() + &err), PKG).len(), 2, "{out}\n{err}");
    let (out, err) = dpkg(&root, &["-P", PKG]);
    assert!(warnings(&(out.clone() + &err), PKG).is_empty(), "{out}\n{err}");
    // An upgrade with the configuration in place warns of nothing: the libraries stay.
    dpkg(&root, &["-i", &debs[0]]);
    let (out, err) = dpkg(&root, &["-i", &debs[1]]);
    assert!(out.contains(&note[0]) && warnings(&(out.clone() + &err), PKG).is_empty(), "{out}\n{err}");
}

#[test]
#[ignore = "slow: needs root: installs packages with apt and dpkg in a Debian 12 root; builds the example"]
fn deb_layouts_switch_both_ways_with_apt_and_dpkg() {
    common::roots::require_root_user();
    let (bundle, split) = (build(2, false), build(2, true));
    let root = Root::kea();
    let bundle_deb = copy_in(&root, &files(&bundle, &[PKG], ".deb")).remove(0);
    let split_debs = copy_in(&root, &files(&split, &[PER_HOOK[0], PER_HOOK[1], META], ".deb"));
    let all_names = [PKG, META, PER_HOOK[0], PER_HOOK[1]];
    let owner = |lib: &str| text(&run(root.chroot("dpkg").args(["-S", &format!("{DEB_HOOKS}/{lib}")])).stdout).split(':').next().unwrap().to_string();
    configure_hooks(&root, DEB_HOOKS);

    for round in 0..2 {
        // The bundle …
        let (out, err) = apt(&root, &["install", &bundle_deb]);
        assert!(!err.contains("trying to overwrite") && !err.contains("E: "), "round {round}: {out}\n{err}");
        assert_eq!(deb_installed(&root, &all_names), [format!("{PKG} 2.2.0-2+deb12")], "round {round}:\n{out}");
        assert_eq!((owner("libdhcp_flex_id.so"), owner("libdhcp_host_cmds.so")), (PKG.to_string(), PKG.to_string()));
        // … to the per-hook packages and their meta package: apt removes the bundle.
        let args: Vec<&str> = std::iter::once("install").chain(split_debs.iter().map(String::as_str)).collect();
        let (out, err) = apt(&root, &args);
        assert!(out.contains(&format!("Removing {PKG} (2.2.0-2+deb12)")), "round {round}: {out}");
        assert!(!err.contains("trying to overwrite"), "no file conflict: {err}");
        // apt removes the bundle before it unpacks the packages that conflict with it, so the
        // bundle's removal script sees the libraries gone for a moment, and says so.
        assert_eq!(
            deb_installed(&root, &all_names),
            [format!("{} 2.2.0-2+deb12", PER_HOOK[0]), format!("{} 2.2.0-2+deb12", PER_HOOK[1]), format!("{META} 2.2.0-2+deb12")],
            "round {round}:\n{out}"
        );
        assert_eq!((owner("libdhcp_flex_id.so"), owner("libdhcp_host_cmds.so")), (PER_HOOK[0].to_string(), PER_HOOK[1].to_string()));
        for lib in ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"] {
            assert!(root.join(&format!("{DEB_HOOKS}/{lib}")).is_file(), "round {round}: {lib} is installed");
        }
        // (Back to the bundle at the top of the next round, and once more after it.)
    }
    let (out, _) = apt(&root, &["install", &bundle_deb]);
    for gone in [META, PER_HOOK[0], PER_HOOK[1]] {
        assert!(out.contains(&format!("Removing {gone} (2.2.0-2+deb12)")), "{out}");
    }
    assert_eq!(deb_installed(&root, &all_names), [format!("{PKG} 2.2.0-2+deb12")]);
    assert_eq!(ok(run(root.chroot("dpkg").args(["--verify", PKG])), "dpkg --verify").0, "", "the bundle's files are all its own and intact");

    // dpkg alone: the per-hook packages take the bundle's place (dpkg removes it in their
    // favour), and the bundle theirs.
    let (out, err) = dpkg(&root, &["-i", &split_debs[0], &split_debs[1]]);
    assert!(out.contains(&format!("Removing {PKG} (2.2.0-2+deb12)")) || err.contains(&format!("will remove {PKG} in favour of")), "{out}\n{err}");
    assert_eq!(deb_installed(&root, &all_names), [format!("{} 2.2.0-2+deb12", PER_HOOK[0]), format!("{} 2.2.0-2+deb12", PER_HOOK[1])]);
    let (out, err) = dpkg(&root, &["-i", &bundle_deb]);
    assert!(!err.contains("trying to overwrite"), "{out}\n{err}");
    assert_eq!(deb_installed(&root, &all_names), [format!("{PKG} 2.2.0-2+deb12")], "{out}\n{err}");
    for lib in ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"] {
        assert!(root.join(&format!("{DEB_HOOKS}/{lib}")).is_file(), "{lib} is installed");
    }
}

/// An empty root for rpm, whose only program is `shell` as /bin/sh: rpm runs every scriptlet
/// chrooted into it, so a scriptlet that needed any other program would fail here.
fn rpm_root(shell: &str) -> Root {
    require("rpm", "rpm");
    require("ldd", "libc-bin");
    let root = Root::empty("rpm-life-root-");
    let ldd = stdout(Command::new("ldd").arg(shell));
    let libs = ldd.lines().filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')));
    for f in std::iter::once(shell).chain(libs) {
        let dst = root.join(f);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(f, &dst).unwrap();
    }
    std::os::unix::fs::symlink(Path::new(shell).file_name().unwrap(), root.join("/bin/sh")).unwrap();
    for d in [RPM_HOOKS, "/usr/share/doc", "/usr/share/licenses", "/var/tmp", "/tmp"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    ok(rpm(&root, &["--initdb"]), "rpm --initdb");
    root
}

/// `rpm --root R --dbpath /var/lib/rpm <args>`, which must succeed; stdout and stderr without
/// the note Debian's rpm prints on every change (`rpm: RPM should not be used directly …`).
fn rpm(root: &Root, args: &[&str]) -> Output {
    run(Command::new("rpm").arg("--root").arg(root.path()).args(["--dbpath", "/var/lib/rpm"]).args(args))
}

fn rpm_ok(root: &Root, args: &[&str]) -> (String, String) {
    let (out, err) = ok(rpm(root, args), &format!("rpm {}", args.join(" ")));
    (out, err.lines().filter(|l| !l.starts_with("rpm: ")).map(|l| format!("{l}\n")).collect())
}

fn rpm_installed(root: &Root) -> Vec<String> {
    let mut v: Vec<String> = rpm_ok(root, &["-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\n"]).0.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
#[ignore = "slow: needs root: installs packages with rpm in a root; builds the example"]
fn rpm_runs_each_scriptlet_at_its_moment_and_switches_layouts() {
    common::roots::require_root_user();
    let (r1, r2, r3, split2) = (build(1, false), build(2, false), build(3, false), build(2, true));
    let path = |p: &PathBuf| p.to_str().unwrap().to_string();
    let (b1, b2, b3) = (path(&files(&r1, &[PKG], ".rpm")[0]), path(&files(&r2, &[PKG], ".rpm")[0]), path(&files(&r3, &[PKG], ".rpm")[0]));
    let split: Vec<String> = files(&split2, &[PER_HOOK[0], PER_HOOK[1], META], ".rpm").iter().map(path).collect();
    for (shell, package) in [("/bin/dash", "dash"), ("/bin/bash", "bash")] {
        require(package, package);
        let root = rpm_root(shell);
        // --nodeps: the root has no kea-libs nor C library packages; files, scriptlets and
        // obsoletes are what this test is about.
        let (out, err) = rpm_ok(&root, &["-i", "--nodeps", &b1]);
        assert!(out.contains(FULL) && out.contains(&format!("{PKG} 2.2.0-1.el9:")) && err.is_empty(), "{shell}: %post prints the guidance:\n{out}\n{err}");

        let (out, err) = rpm_ok(&root, &["-U", "--nodeps", &b2]);
        assert!(out.lines().any(|l| l == format!("{PKG}: 2.2.0-1.el9 is replaced by 2.2.0-2.el9.")), "{shell}: the upgrade note:\n{out}");
        assert!(out.contains("run \"systemctl restart kea-dhcp4 kea-dhcp6\","), "{out}");
        assert!(!out.contains(FULL) && err.is_empty(), "{shell}: no guidance, no warning on an upgrade:\n{out}\n{err}");
        assert_eq!(rpm_installed(&root), [format!("{PKG} 2.2.0-2.el9")]);

        // Erased without a configuration naming the hooks: silent.
        let (out, err) = rpm_ok(&root, &["-e", "--nodeps", PKG]);
        assert!(out.is_empty() && err.is_empty(), "{shell}: {out}{err}");
        // With configurations naming them: one warning per file.
        rpm_ok(&root, &["-i", "--nodeps", &b2]);
        let confs = configure_hooks(&root, RPM_HOOKS);
        let (out, err) = rpm_ok(&root, &["-e", "--nodeps", PKG]);
        assert_eq!(
            warnings(&err, PKG),
            [(confs[0].clone(), format!("{RPM_HOOKS}/libdhcp_host_cmds.so")), (confs[1].clone(), format!("{RPM_HOOKS}/libdhcp_flex_id.so"))],
            "{shell}: {out}{err}"
        );
        assert!(err.contains("kea-dhcp4 keeps the library") && err.contains("kea-dhcp6 keeps the library"), "{err}");
        assert!(rpm_installed(&root).is_empty());

        // Layouts: bundle 1 → per-hook 2 (obsoletes the bundle) → bundle 3 (obsoletes them and
        // the meta package), each one rpm -U, no file conflict, no removal warning (the
        // configuration still names the hooks, and they stay installed).
        rpm_ok(&root, &["-i", "--nodeps", &b1]);
        let args: Vec<&str> = ["-U", "--nodeps"].into_iter().chain(split.iter().map(String::as_str)).collect();
        let (out, err) = rpm_ok(&root, &args);
        assert!(warnings(&err, PKG).is_empty() && !err.contains("conflicts with"), "{shell}: {out}{err}");
        assert_eq!(rpm_installed(&root), [format!("{} 2.2.0-2.el9", PER_HOOK[0]), format!("{} 2.2.0-2.el9", PER_HOOK[1]), format!("{META} 2.2.0-2.el9")]);
        let (out, err) = rpm_ok(&root, &["-U", "--nodeps", &b3]);
        assert!(err.is_empty(), "{shell}: {out}{err}");
        // A first installation of the bundle's name: the whole guidance.
        assert!(out.contains(FULL) && out.contains(&format!("{PKG} 2.2.0-3.el9:")), "{shell}: {out}");
        assert_eq!(rpm_installed(&root), [format!("{PKG} 2.2.0-3.el9")]);
        for lib in ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"] {
            assert!(root.join(&format!("{RPM_HOOKS}/{lib}")).is_file(), "{shell}: {lib} is installed");
        }
        assert_eq!(rpm_ok(&root, &["-V", "--nodeps", PKG]).0, "", "{shell}: the bundle's files are intact");
    }
}

/// Run `shell script args…` with DPKG_ROOT set and its outputs set up by `how`; the exit code.
fn run_script(shell: &str, script: &Path, args: &[&str], dpkg_root: &Path, how: &str) -> Option<i32> {
    let mut cmd = match how {
        "stdout closed" | "stdout and stderr closed" => {
            let close = if how == "stdout closed" { ">&-" } else { ">&- 2>&-" };
            let mut c = Command::new("dash");
            c.arg("-c").arg(format!("exec \"$@\" {close}")).arg("sh").arg(shell).arg(script).args(args).stderr(Stdio::null());
            c
        }
        _ => {
            let mut c = Command::new(shell);
            c.arg(script).args(args);
            c
        }
    };
    cmd.env("DPKG_ROOT", dpkg_root);
    match how {
        "stdout and stderr on /dev/full" => {
            let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
            cmd.stdout(full.try_clone().unwrap()).stderr(full);
        }
        "stdout and stderr broken pipes" => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            cmd.stderr(writer.try_clone().unwrap()).stdout(writer);
        }
        _ => {}
    }
    cmd.status().unwrap().code()
}

#[test]
#[ignore = "slow: builds the example"]
fn every_script_exits_0_under_dash_and_bash_whatever_happens_to_its_output() {
    require("dash", "dash");
    require("bash", "bash");
    require("dpkg-deb", "dpkg");
    require("rpm", "rpm");
    let r2 = build(2, false);
    let tmp = tempfile::tempdir().unwrap();
    let control = tmp.path().join("control");
    assert!(Command::new("dpkg-deb").arg("-e").arg(&files(&r2, &[PKG], ".deb")[0]).arg(&control).status().unwrap().success());
    let rpm_file = &files(&r2, &[PKG], ".rpm")[0];
    let scriptlet = |tag: &str| {
        let p = tmp.path().join(format!("rpm-{tag}.sh"));
        std::fs::write(&p, stdout(Command::new("rpm").args(["-qp", "--qf", &format!("%{{{tag}}}")]).arg(rpm_file))).unwrap();
        p
    };
    // A root where every script has something to say: no hooks (the postinst warns they are
    // missing), a configuration naming them (the removal warns), an old version file.
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("etc/kea")).unwrap();
    std::fs::write(root.join("etc/kea/kea-dhcp4.conf"), format!("{{ \"Dhcp4\": {{ \"hooks-libraries\": [ {{ \"library\": \"{DEB_HOOKS}/libdhcp_host_cmds.so\" }}, {{ \"library\": \"{RPM_HOOKS}/libdhcp_host_cmds.so\" }} ] }} }}\n")).unwrap();
    std::fs::create_dir_all(root.join(format!("usr/share/{PKG}"))).unwrap();
    std::fs::write(root.join(format!("usr/share/{PKG}/version")), "2.2.0-1.el9\n").unwrap();
    let scripts: Vec<(PathBuf, Vec<&str>)> = vec![
        (control.join("postinst"), vec!["configure", ""]),
        (control.join("postinst"), vec!["configure", "2.2.0-1+deb12"]),
        (control.join("postrm"), vec!["remove"]),
        (scriptlet("PREIN"), vec!["2"]),
        (scriptlet("POSTIN"), vec!["1"]),
        (scriptlet("POSTUN"), vec!["0"]),
    ];
    for (script, args) in &scripts {
        // Each says something here, so the outputs below really are written to.
        let out = run(Command::new("dash").arg(script).args(args).env("DPKG_ROOT", &root));
        assert!(out.status.success() && !(out.stdout.is_empty() && out.stderr.is_empty()), "{} {args:?} says nothing", script.display());
        for shell in ["/bin/dash", "/bin/bash"] {
            for how in ["stdout closed", "stdout and stderr closed", "stdout and stderr on /dev/full", "stdout and stderr broken pipes"] {
                assert_eq!(run_script(shell, script, args, &root, how), Some(0), "{shell} {} {args:?} with {how}", script.display());
            }
        }
    }
}

#[test]
#[ignore = "slow: builds the example"]
fn revision_2_carries_the_changelog_history_in_both_formats() {
    require("dpkg-parsechangelog", "dpkg-dev");
    let r2 = build(2, false);
    let deb = &files(&r2, &[PKG], ".deb")[0];
    let tmp = tempfile::tempdir().unwrap();
    let changelog = tmp.path().join("changelog");
    let gz = stdout(Command::new("sh").arg("-c").arg(format!("dpkg-deb --fsys-tarfile '{}' | tar -xO ./usr/share/doc/{PKG}/changelog.Debian.gz | gzip -dc", deb.display())));
    std::fs::write(&changelog, &gz).unwrap();
    let parsed = stdout(Command::new("dpkg-parsechangelog").arg("-l").arg(&changelog).args(["--all", "--format", "rfc822"]));
    let fields: Vec<&str> = parsed.lines().filter(|l| l.starts_with("Version:") || l.starts_with("Maintainer:") || l.starts_with("Timestamp:")).collect();
    assert_eq!(
        fields,
        ["Version: 2.2.0-2+deb12", "Maintainer: Kea Packager <kea-packager@example.org>", "Timestamp: 1700000000",
         "Version: 2.2.0-1+deb12", "Maintainer: Site Release Team <release@example.org>", "Timestamp: 1698840000"],
        "{gz}"
    );
    assert!(gz.contains("  * First build of the hooks for the site repository.\n"), "{gz}");

    let rpm_file = &files(&r2, &[PKG], ".rpm")[0];
    let log = stdout(Command::new("rpm").args(["-qp", "--changelog"]).arg(rpm_file));
    let heads: Vec<&str> = log.lines().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(heads, ["* Tue Nov 14 2023 Kea Packager <kea-packager@example.org> - 2.2.0-2.el9", "* Wed Nov 01 2023 Site Release Team <release@example.org> - 2.2.0-1.el9"], "{log}");
    assert!(log.contains("- First build of the hooks for the site repository."), "{log}");
    // The same maintainer as the demo's packages: one default everywhere.
    let packager = stdout(Command::new("rpm").args(["-qp", "--qf", "%{PACKAGER}"]).arg(rpm_file));
    assert_eq!(packager, "Kea Packager <kea-packager@example.org>");
}

/// A stand-in rpm (made by `rpmbuild`) providing what `rpms` require beyond each other: the
/// root has no RPM distribution, and dnf, unlike `rpm --nodeps`, checks every relation.
fn stand_in(rpms: &[String], dir: &Path) -> PathBuf {
    require("rpmbuild", "rpm");
    let mut provides = std::collections::BTreeSet::new();
    for p in rpms {
        for r in stdout(Command::new("rpm").args(["-qp", "--requires"]).arg(p)).lines() {
            let name = r.split_whitespace().next().unwrap_or("");
            if !r.starts_with("rpmlib(") && !name.starts_with("isc-kea-premium-") && !name.starts_with(PKG) {
                provides.insert(r.to_string());
            }
        }
    }
    let spec = dir.join("stand-in.spec");
    let lines: String = provides.iter().map(|p| format!("Provides: {p}\n")).collect();
    std::fs::write(&spec, format!("Name: keapack-test-stand-in\nVersion: 1\nRelease: 1\nSummary: what an RPM distribution would provide\nLicense: none\nBuildArch: noarch\n{lines}%description\nStand-in.\n%files\n")).unwrap();
    let top = dir.join("rpmbuild");
    stdout(Command::new("rpmbuild").arg("--quiet").arg("--define").arg(format!("_topdir {}", top.display())).arg("-bb").arg(&spec));
    top.join("RPMS/noarch/keapack-test-stand-in-1-1.noarch.rpm")
}

#[test]
#[ignore = "slow: needs root: installs packages with dnf in a root; builds the example"]
fn dnf_upgrades_removes_and_switches_layouts_checking_every_relation() {
    common::roots::require_root_user();
    require("dnf", "dnf");
    require("createrepo_c", "createrepo-c");
    let (r1, r2, r3, split2) = (build(1, false), build(2, false), build(3, false), build(2, true));
    let path = |p: &PathBuf| p.to_str().unwrap().to_string();
    let mut rpms: Vec<String> = [&r1, &r2, &r3].iter().map(|d| path(&files(d, &[PKG], ".rpm")[0])).collect();
    rpms.extend(files(&split2, &[PER_HOOK[0], PER_HOOK[1], META], ".rpm").iter().map(path));
    let root = rpm_root("/bin/dash");
    let repo = tempfile::tempdir().unwrap();
    // The site's repository as it grows: what each step publishes, then its metadata again.
    let publish = |pkgs: &[&String]| {
        for p in pkgs {
            std::fs::copy(p, repo.path().join(Path::new(p.as_str()).file_name().unwrap())).unwrap();
        }
        stdout(Command::new("createrepo_c").arg("-q").arg(repo.path()));
    };
    let work = tempfile::tempdir().unwrap();
    let standin = path(&stand_in(&rpms, work.path()));
    publish(&[&standin, &rpms[0]]);
    let dnf = |args: &[&str]| -> Output {
        run(Command::new("dnf")
            .args(["-y", "--installroot"]).arg(root.path())
            .args(["--refresh", "--releasever", "9", "--setopt=reposdir=/nonexistent", "--setopt=install_weak_deps=0", "--setopt=keapack.gpgcheck=0", "--disableplugin=*"])
            .arg(format!("--repofrompath=keapack,file://{}", repo.path().display()))
            .args(args))
    };
    let dnf_ok = |args: &[&str]| ok(dnf(args), &format!("dnf {}", args.join(" ")));
    // dnf keeps its database where Debian's rpm macros say (~/.rpmdb inside the root): read it there.
    let rpm = |root: &Root, args: &[&str]| run(Command::new("rpm").arg("--root").arg(root.path()).args(["--dbpath", "/root/.rpmdb"]).args(args));
    let installed = || {
        let mut v: Vec<String> = text(&rpm(&root, &["-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\n"]).stdout).lines().filter(|l| !l.starts_with("keapack-test-stand-in")).map(str::to_string).collect();
        v.sort();
        v
    };

    let (out, _) = dnf_ok(&["install", PKG]);
    assert!(out.contains(FULL) && out.contains(&format!("{PKG} 2.2.0-1.el9:")), "{out}");
    publish(&[&rpms[1]]);
    let (out, _) = dnf_ok(&["upgrade"]);
    assert!(out.lines().any(|l| l == format!("{PKG}: 2.2.0-1.el9 is replaced by 2.2.0-2.el9.")) && !out.contains(FULL), "{out}");
    assert_eq!(installed(), [format!("{PKG} 2.2.0-2.el9")]);

    // The same build's per-hook layout conflicts with the bundle: dnf refuses, then swaps with
    // --allowerasing.
    publish(&[&rpms[3], &rpms[4], &rpms[5]]);
    let refused = dnf(&["install", "kea-premium-hooks-meta"]);
    let said = text(&refused.stdout) + &text(&refused.stderr);
    assert!(!refused.status.success() && said.contains("conflicts with"), "{said}");
    let (out, err) = dnf_ok(&["install", "--allowerasing", "kea-premium-hooks-meta"]);
    assert!(!err.contains("conflicts") && !out.contains("file /usr/lib64/kea/hooks"), "{out}\n{err}");
    assert_eq!(installed(), [format!("{} 2.2.0-2.el9", PER_HOOK[0]), format!("{} 2.2.0-2.el9", PER_HOOK[1]), format!("{META} 2.2.0-2.el9")]);
    // A newer bundle build obsoletes them all: a plain upgrade moves back to the bundle.
    publish(&[&rpms[2]]);
    let (out, err) = dnf_ok(&["upgrade"]);
    assert!(warnings(&(out.clone() + &err), PER_HOOK[0]).is_empty(), "{out}\n{err}");
    assert_eq!(installed(), [format!("{PKG} 2.2.0-3.el9")], "{out}");
    for lib in ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"] {
        assert!(root.join(&format!("{RPM_HOOKS}/{lib}")).is_file(), "{lib} is installed");
    }
    // Removed while the configuration names the hooks: the warnings.
    let confs = configure_hooks(&root, RPM_HOOKS);
    let (out, err) = dnf_ok(&["remove", PKG]);
    let all = out.clone() + &err;
    assert_eq!(
        warnings(&all, PKG),
        [(confs[0].clone(), format!("{RPM_HOOKS}/libdhcp_host_cmds.so")), (confs[1].clone(), format!("{RPM_HOOKS}/libdhcp_flex_id.so"))],
        "{all}"
    );
    assert!(installed().is_empty());
}

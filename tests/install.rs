//! The packages installed, upgraded and removed for real: `dpkg` in a throwaway Debian 12 root
//! that has Kea (the .deb depends on kea-common), `rpm` in an empty root, and the post-install
//! script where it cannot print. Never on the developer's own `/`.

mod common;
use common::packages::example_packages;
use common::roots::{Root, snapshot, snapshot_diff};
use common::*;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const DEB_HOOKS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks";
const RPM_HOOKS: &str = "/usr/lib64/kea/hooks";
const HOOKS: [&str; 2] = ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"];
const PKG: &str = "kea-premium-hooks";


/// Copy a package into the root's /tmp; its path inside the root.
fn copy_in(root: &Root, pkg: &Path) -> String {
    let inside = format!("/tmp/{}", pkg.file_name().unwrap().to_string_lossy());
    std::fs::copy(pkg, root.join(&inside)).unwrap();
    inside
}

/// `chroot <root> dpkg <args>`, which must succeed: its stdout and stderr.
fn dpkg(root: &Root, args: &[&str]) -> (String, String) {
    ok(run(root.chroot("dpkg").args(args)), &format!("dpkg {}", args.join(" ")))
}

/// The key lines of the guidance a post-install script printed for `version`, and its two JSON
/// snippets naming the hooks under `hooks_dir`.
fn assert_guidance(out: &str, version: &str, hooks_dir: &str) {
    let socket_dir = if hooks_dir == DEB_HOOKS { "/run/kea" } else { "/var/run/kea" };
    for line in [
        format!("{PKG} {version}: Kea 2.2.0 premium hook libraries"),
        format!("This package installed these hook libraries in {hooks_dir}:"),
        "In /etc/kea/kea-dhcp4.conf, merge this \"hooks-libraries\" list into the".to_string(),
        "In /etc/kea/kea-dhcp6.conf, merge this \"hooks-libraries\" list into the".to_string(),
        "Replace every value that starts with REPLACE-ME before restarting Kea:".to_string(),
        format!("  HOOKS_LIBRARY_LOADED hooks library {hooks_dir}/libdhcp_host_cmds.so successfully loaded"),
        "  HOST_CMDS_INIT_OK ...".to_string(),
        "(FLEX_ID_EXPRESSION_NOT_DEFINED: flex_id is missing a mandatory parameter)".to_string(),
        // The socket directory Kea 2.4.2/2.6.3+ insists on, owned by the family's Kea user:
        // Debian's Kea /run/kea, the RPM family's /var/run/kea (docs/kea-facts.md §5).
        format!("  echo '{{ \"command\": \"list-commands\" }}' | socat - UNIX:{socket_dir}/kea4-ctrl-socket"),
        format!("  # install -d -m 0750 -o {user} -g {user} {socket_dir}", user = if hooks_dir == DEB_HOOKS { "_kea" } else { "kea" }),
    ] {
        assert!(out.lines().any(|l| l.contains(line.as_str())), "the guidance lacks {line:?}:\n{out}");
    }
    let blocks = json_blocks(out);
    assert_eq!(blocks.len(), 2, "one snippet per daemon:\n{out}");
    for (b, key) in blocks.iter().zip(["Dhcp4", "Dhcp6"]) {
        let libs: Vec<&str> = b[key]["hooks-libraries"].as_array().unwrap().iter().map(|l| l["library"].as_str().unwrap()).collect();
        assert_eq!(libs, HOOKS.map(|h| format!("{hooks_dir}/{h}")), "{key} snippet");
    }
}

/// The hooks are installed in `dir` of `root` as regular files 0644 root:root.
fn assert_hooks_installed(root: &Root, dir: &str) {
    for h in HOOKS {
        let p = root.join(&format!("{dir}/{h}"));
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{} not installed: {e}", p.display()));
        assert_eq!((m.mode(), m.uid(), m.gid()), (0o100644, 0, 0), "{} must be a 0644 root:root file", p.display());
    }
}

fn dpkg_status(root: &Root) -> String {
    let out = run(root.chroot("dpkg-query").args(["-W", "-f", "${Status} ${Version}", PKG]));
    if out.status.success() { text(&out.stdout) } else { format!("unknown: {}", text(&out.stderr).trim()) }
}

#[test]
#[ignore = "slow: needs root: installs the example's packages in a Debian 12 root; builds the example"]
fn deb_installs_into_the_hooks_dir_prints_the_guidance_and_installs_twice() {
    common::roots::require_root_user();
    let pk = example_packages(1);
    let root = Root::kea();
    let deb = copy_in(&root, &pk.deb);
    let (out, err) = dpkg(&root, &["-i", &deb]);
    assert!(out.contains(&format!("Setting up {PKG} (2.2.0-1+deb12) ...")), "{out}");
    assert_guidance(&out, "2.2.0-1+deb12", DEB_HOOKS);
    assert!(!err.contains("warning"), "the postinst found its hooks: {err}");
    assert_hooks_installed(&root, DEB_HOOKS);
    assert_eq!(dpkg_status(&root), "install ok installed 2.2.0-1+deb12");
    // dpkg checks every installed file against the package's md5sums.
    assert_eq!(dpkg(&root, &["--verify", PKG]), (String::new(), String::new()));
    let listed = dpkg(&root, &["-L", PKG]).0;
    for h in HOOKS {
        assert!(listed.lines().any(|l| l == format!("{DEB_HOOKS}/{h}")), "{listed}");
    }

    // The same package again: dpkg unpacks it over itself and configures it again.
    // The postinst is told the version configured before: it prints the short note.
    let (out, _) = dpkg(&root, &["-i", &deb]);
    assert!(out.contains(&format!("Unpacking {PKG} (2.2.0-1+deb12) over (2.2.0-1+deb12) ...")), "{out}");
    assert!(out.lines().any(|l| l == format!("{PKG}: 2.2.0-1+deb12 is replaced by 2.2.0-1+deb12.")) && !out.contains("merge this"), "{out}");
    assert_eq!(dpkg_status(&root), "install ok installed 2.2.0-1+deb12");
    assert_hooks_installed(&root, DEB_HOOKS);
}

#[test]
#[ignore = "slow: needs root: installs the example's packages in a Debian 12 root; builds the example"]
fn deb_upgrades_from_revision_1_to_2() {
    common::roots::require_root_user();
    let (old, new) = (example_packages(1), example_packages(2));
    let root = Root::kea();
    let (old, new) = (copy_in(&root, &old.deb), copy_in(&root, &new.deb));
    dpkg(&root, &["-i", &old]);
    let (out, err) = dpkg(&root, &["-i", &new]);
    assert!(out.contains(&format!("Unpacking {PKG} (2.2.0-2+deb12) over (2.2.0-1+deb12) ...")), "{out}");
    // An upgrade prints the short note, not the guidance again (tests/lifecycle.rs has more).
    assert!(out.lines().any(|l| l == format!("{PKG}: 2.2.0-1+deb12 is replaced by 2.2.0-2+deb12.")) && !out.contains("merge this"), "{out}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(dpkg_status(&root), "install ok installed 2.2.0-2+deb12");
    assert_hooks_installed(&root, DEB_HOOKS);
    assert_eq!(dpkg(&root, &["--verify", PKG]), (String::new(), String::new()));
    let doc = std::fs::read_to_string(root.join(&format!("/usr/share/doc/{PKG}/GUIDANCE.txt"))).unwrap();
    assert!(doc.starts_with(&format!("{PKG} 2.2.0-2+deb12:")), "the new revision's files replaced the old: {doc}");
}

#[test]
#[ignore = "slow: needs root: installs the example's packages in a Debian 12 root; builds the example"]
fn deb_remove_and_purge_leave_nothing_behind() {
    common::roots::require_root_user();
    let pk = example_packages(1);
    let root = Root::kea();
    let deb = copy_in(&root, &pk.deb);
    // dpkg's own bookkeeping and log are compared separately; /tmp holds the .deb.
    let skip = ["tmp", "var/log", "var/lib/dpkg"];
    let before = snapshot(root.path(), &skip);
    let info_before = snapshot(&root.join("/var/lib/dpkg/info"), &[]);
    let status = root.join("/var/lib/dpkg/status");
    let status_before = std::fs::read(&status).unwrap();
    let assert_nothing_left = |after_what: &str| {
        let diff = snapshot_diff(&before, &snapshot(root.path(), &skip));
        assert!(diff.is_empty(), "{after_what} left changes behind:\n{}", diff.join("\n"));
        let diff = snapshot_diff(&info_before, &snapshot(&root.join("/var/lib/dpkg/info"), &[]));
        assert!(diff.is_empty(), "{after_what} left dpkg's info files:\n{}", diff.join("\n"));
        assert!(std::fs::read(&status).unwrap() == status_before, "{after_what}: dpkg's status database differs from before the install");
        assert!(dpkg_status(&root).starts_with("unknown: dpkg-query: no packages found"), "{after_what}: {}", dpkg_status(&root));
        let search = run(root.chroot("dpkg").args(["-S", "libdhcp_host_cmds.so"]));
        assert!(!search.status.success(), "{after_what}: dpkg still knows a file: {}", text(&search.stdout));
    };

    dpkg(&root, &["-i", &deb]);
    let installed = snapshot_diff(&before, &snapshot(root.path(), &skip));
    assert!(installed.iter().any(|l| l.starts_with(&format!("+ {}/libdhcp_host_cmds.so", &DEB_HOOKS[1..]))), "the snapshot sees the install: {installed:?}");
    let (out, _) = dpkg(&root, &["-r", PKG]);
    assert!(out.contains(&format!("Removing {PKG} (2.2.0-1+deb12) ...")), "{out}");
    // Every file of the package is gone. dpkg keeps the package's postrm (and an empty file
    // list) in the config-files state, as for any package with a postrm, until a purge.
    let diff = snapshot_diff(&before, &snapshot(root.path(), &skip));
    assert!(diff.is_empty(), "dpkg -r left files behind:\n{}", diff.join("\n"));
    let diff = snapshot_diff(&info_before, &snapshot(&root.join("/var/lib/dpkg/info"), &[]));
    assert_eq!(diff, [format!("+ {PKG}.list (100644 0:0 size 0)"), format!("+ {PKG}.postrm (100755 0:0 size {})", std::fs::metadata(root.join(&format!("/var/lib/dpkg/info/{PKG}.postrm"))).unwrap().len())]);
    assert_eq!(dpkg_status(&root), "deinstall ok config-files 2.2.0-1+deb12");
    let search = run(root.chroot("dpkg").args(["-S", "libdhcp_host_cmds.so"]));
    assert!(!search.status.success(), "dpkg -r: dpkg still knows a file: {}", text(&search.stdout));
    // kea-common's hooks and directory stay (the snapshot covers them; say it plainly too).
    assert!(root.join(&format!("{DEB_HOOKS}/libdhcp_lease_cmds.so")).is_file());
    let (out, _) = dpkg(&root, &["-P", PKG]);
    assert!(out.contains(&format!("Purging configuration files for {PKG} (2.2.0-1+deb12) ...")), "{out}");
    assert_nothing_left("dpkg -r, then dpkg -P");

    dpkg(&root, &["-i", &deb]);
    let (out, _) = dpkg(&root, &["-P", PKG]);
    assert!(out.contains(&format!("Removing {PKG} (2.2.0-1+deb12) ...")), "{out}");
    assert_nothing_left("dpkg -P");
}

#[test]
#[ignore = "slow: needs root: installs the example's packages in a Debian 12 root; builds the example"]
fn dpkg_root_runs_the_postinst_chrooted_or_with_dpkg_root_set() {
    common::roots::require_root_user();
    // What dpkg 1.21 (Debian 12) does with `--root R`: maintainer scripts run chrooted into R
    // with DPKG_ROOT empty; with --force-script-chrootless they run on the host with
    // DPKG_ROOT=R. The postinst looks for its hooks under "${DPKG_ROOT}": remove one between
    // unpacking and configuring, and its warning names the place it looked.
    require("dpkg", "dpkg");
    let pk = example_packages(1);
    let root = Root::kea();
    let r = root.path().to_str().unwrap().to_string();
    let host_dpkg = |args: &[&str]| ok(run(Command::new("dpkg").arg("--root").arg(&r).args(args)), &format!("dpkg --root {r} {}", args.join(" ")));
    let deb = pk.deb.to_str().unwrap();
    let flex = format!("{DEB_HOOKS}/libdhcp_flex_id.so");
    let chrootless: &[&str] = &["--force-script-chrootless"];
    for (force, looked_under) in [(&[][..], "/"), (chrootless, r.as_str())] {
        host_dpkg(&[force, &["--unpack", deb]].concat());
        std::fs::remove_file(root.join(&flex)).unwrap();
        let (out, err) = host_dpkg(&[force, &["--configure", PKG]].concat());
        assert_guidance(&out, "2.2.0-1+deb12", DEB_HOOKS);
        let warning = format!("{PKG}: warning: not found under {looked_under}: {flex}");
        assert!(err.lines().any(|l| l == warning), "{force:?}: expected {warning:?} in:\n{err}");
        host_dpkg(&[force, &["--purge", PKG]].concat());
    }
    // A plain `dpkg --root R -i`: the chrooted postinst finds both hooks.
    let (out, err) = host_dpkg(&["-i", deb]);
    assert_guidance(&out, "2.2.0-1+deb12", DEB_HOOKS);
    assert!(!err.contains("warning"), "{err}");
    assert_hooks_installed(&root, DEB_HOOKS);
    assert_eq!(dpkg_status(&root), "install ok installed 2.2.0-1+deb12");
}

/// An empty root for rpm: rpm runs scriptlets chrooted into it with /bin/sh, so it gets the
/// host's `shell` as /bin/sh (bash, as on RHEL, or dash) with the shared libraries `ldd` names
/// for it, and no other program: the scriptlets use shell builtins only. The directories a RHEL system already has
/// from other packages are there too: kea-libs owns the hooks directory, `filesystem` the doc
/// and license directories; the package must leave them alone.
fn rpm_root(shell: &str) -> Root {
    require("rpm", "rpm");
    require("ldd", "libc-bin");
    let root = Root::empty("rpm-root-");
    for prog in [shell] {
        let ldd = stdout(Command::new("ldd").arg(prog));
        let libs = ldd.lines().filter_map(|l| l.split_whitespace().find(|w| w.starts_with('/')));
        for f in std::iter::once(prog).chain(libs) {
            let dst = root.join(f);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::copy(f, &dst).unwrap();
        }
    }
    let name = Path::new(shell).file_name().unwrap();
    std::os::unix::fs::symlink(name, root.join("/bin/sh")).unwrap();
    for d in [RPM_HOOKS, "/usr/share/doc", "/usr/share/licenses", "/var/tmp"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    ok(rpm(&root, &["--initdb"]), "rpm --initdb");
    root
}

/// `rpm --root R --dbpath /var/lib/rpm …`. The database path is taken inside the root (with
/// `--dbpath R/var/lib/rpm`, rpm would use R/R/var/lib/rpm), and is named because Debian's rpm
/// defaults to ~/.rpmdb.
fn rpm(root: &Root, args: &[&str]) -> Output {
    run(Command::new("rpm").arg("--root").arg(root.path()).args(["--dbpath", "/var/lib/rpm"]).args(args))
}

/// rpm's stderr without the note Debian's rpm prints on every change ("rpm: RPM should not be
/// used directly install RPM packages, use Alien instead!", "rpm: However assuming …").
fn rpm_complaints(err: &str) -> Vec<&str> {
    err.lines().filter(|l| !l.starts_with("rpm: ")).collect()
}

#[test]
#[ignore = "slow: needs root: installs the example's rpm in a root; builds the example"]
fn rpm_installs_upgrades_and_erases_in_an_empty_root() {
    common::roots::require_root_user();
    let (old, new) = (example_packages(1), example_packages(2));
    for (shell, package) in [("/bin/bash", "bash"), ("/bin/dash", "dash")] {
        require(package, package);
        let root = rpm_root(shell);
        let skip = ["var/lib/rpm"];
        let before = snapshot(root.path(), &skip);
        // --nodeps: the root has no kea-libs (nor anything else an rpm system has) to satisfy
        // the package's `kea-libs = 2.2.0`; this test is about files and scriptlets.
        let (out, err) = ok(rpm(&root, &["-i", "--nodeps", old.rpm.to_str().unwrap()]), "rpm -i");
        assert!(rpm_complaints(&err).is_empty(), "{shell}: %post ran cleanly:\n{err}");
        assert_guidance(&out, "2.2.0-1.el9", RPM_HOOKS);
        assert!(out.contains("systemctl restart kea-dhcp4"), "{out}");
        assert_hooks_installed(&root, RPM_HOOKS);
        assert_eq!(ok(rpm(&root, &["-qa"]), "rpm -qa").0, "kea-premium-hooks-2.2.0-1.el9.x86_64\n");
        let (v, _) = ok(rpm(&root, &["-V", "--nodeps", PKG]), "rpm -V");
        assert_eq!(v, "", "{shell}: installed files match the package");

        let (out, err) = ok(rpm(&root, &["-U", "--nodeps", new.rpm.to_str().unwrap()]), "rpm -U");
        assert!(rpm_complaints(&err).is_empty(), "{shell}:\n{err}");
        // %pre names the version it replaces; %post does not repeat the guidance.
        assert!(out.lines().any(|l| l == format!("{PKG}: 2.2.0-1.el9 is replaced by 2.2.0-2.el9.")) && !out.contains("merge this"), "{shell}: {out}");
        assert_eq!(ok(rpm(&root, &["-qa"]), "rpm -qa").0, "kea-premium-hooks-2.2.0-2.el9.x86_64\n", "{shell}: the old release is gone");
        assert_hooks_installed(&root, RPM_HOOKS);

        let (out, err) = ok(rpm(&root, &["-e", "--nodeps", PKG]), "rpm -e");
        assert!(out.is_empty() && rpm_complaints(&err).is_empty(), "{shell}: {out}{err}");
        assert_eq!(ok(rpm(&root, &["-qa"]), "rpm -qa").0, "");
        let diff = snapshot_diff(&before, &snapshot(root.path(), &skip));
        assert!(diff.is_empty(), "{shell}: rpm -e left changes behind:\n{}", diff.join("\n"));
    }
}

/// Run `shell script arg` with stdout and stderr set up by `how`; its exit status.
fn run_script(shell: &str, script: &Path, arg: &str, dpkg_root: &Path, how: &str) -> std::process::ExitStatus {
    let mut cmd = Command::new(shell);
    cmd.arg(script).arg(arg).env("DPKG_ROOT", dpkg_root);
    match how {
        "stdout closed" | "stdout and stderr closed" => {
            // Close the descriptors in the shell that then runs the script.
            let close = if how == "stdout closed" { ">&-" } else { ">&- 2>&-" };
            cmd = Command::new("dash");
            cmd.arg("-c").arg(format!("exec \"$@\" {close}")).arg("sh").arg(shell).arg(script).arg(arg).env("DPKG_ROOT", dpkg_root);
            cmd.stderr(Stdio::null());
        }
        "stdout and stderr on /dev/full" => {
            let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
            cmd.stdout(full.try_clone().unwrap()).stderr(full);
        }
        "stdout a broken pipe" | "stdout and stderr broken pipes" => {
            // The reading end is closed: writing raises SIGPIPE (std restores its default
            // action in children), as when the output of `dpkg -i` goes to `| head -1`.
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            if how == "stdout and stderr broken pipes" {
                cmd.stderr(writer.try_clone().unwrap());
            } else {
                cmd.stderr(Stdio::null());
            }
            cmd.stdout(writer);
        }
        _ => unreachable!("{how}"),
    }
    cmd.status().unwrap()
}

#[test]
#[ignore = "slow: builds the example"]
fn post_install_scripts_exit_0_even_when_they_cannot_print() {
    require("dash", "dash");
    require("bash", "bash");
    require("dpkg-deb", "dpkg");
    require("rpm", "rpm");
    let pk = example_packages(1);
    let tmp = tempfile::tempdir().unwrap();
    assert!(Command::new("dpkg-deb").arg("-e").arg(&pk.deb).arg(tmp.path().join("control")).status().unwrap().success());
    let post = tmp.path().join("rpm-post.sh");
    std::fs::write(&post, stdout(Command::new("rpm").args(["-qp", "--qf", "%{POSTIN}"]).arg(&pk.rpm))).unwrap();
    // An empty DPKG_ROOT: the hooks are missing there, so the script also writes its warning.
    let empty = tmp.path().join("empty-root");
    std::fs::create_dir(&empty).unwrap();
    let scripts = [
        ("/bin/dash", tmp.path().join("control/postinst"), "configure"),
        ("/bin/dash", post.clone(), "1"),
        ("/bin/bash", post.clone(), "1"), // RHEL's /bin/sh
    ];
    for (shell, script, arg) in &scripts {
        for how in ["stdout closed", "stdout and stderr closed", "stdout and stderr on /dev/full", "stdout a broken pipe", "stdout and stderr broken pipes"] {
            let st = run_script(shell, script, arg, &empty, how);
            assert_eq!(st.code(), Some(0), "{shell} {} {arg} with {how}: {st}", script.display());
        }
    }
}

#[test]
fn host_apt_sources_are_read_in_both_formats() {
    use common::roots::{parse_deb822, parse_one_line};
    let one = "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main contrib\n\
               deb-src http://m.example/debian bookworm main\ndeb http://m.example/debian bookworm-updates contrib\n";
    assert_eq!(parse_one_line(one), vec![("http://m.example/debian".to_string(), "bookworm".to_string())]);
    let deb822 = "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\
                  Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
                  Types: deb\nURIs: http://x.example/\nSuites: bookworm\nComponents: main\nEnabled: no\n";
    assert_eq!(
        parse_deb822(deb822),
        vec![("http://deb.debian.org/debian".to_string(), "bookworm".to_string()), ("http://deb.debian.org/debian".to_string(), "bookworm-updates".to_string())]
    );
}

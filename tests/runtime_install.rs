//! Kea's own packages (`--runtime own`) through their lives with real package managers, from a
//! repository `keapack publish` wrote and signed: apt-get in Debian 12 roots (one without Kea,
//! one with Debian's own Kea 2.2.0) and dnf with `--installroot` in an rpm root. Installation
//! makes the service user and Kea's directories without systemd, an upgrade keeps an edited
//! configuration and offers the new one beside it, removal keeps the configuration and purge
//! drops it (never the user), and installing over Debian's Kea is a switch, not a file clash.
//!
//! The example is built twice (revision 1, and revision 2 from a copy whose kea-dhcp4.conf
//! placeholder differs), once for the whole test binary.

mod common;
use common::gpgkey::Key;
use common::roots::Root;
use common::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// What the revision 2 tree's kea-dhcp4.conf holds instead of an empty interface list.
const REV2_MARK: &str = "\"interfaces\": [ \"eth9\" ]";
/// What the tests write into the installed kea-dhcp4.conf before upgrading.
const EDITED: &str = "{ \"Dhcp4\": { \"interfaces-config\": { \"interfaces\": [ \"edited-by-the-admin\" ] } } }\n";

/// The two builds' output directories.
struct Builds {
    _tmp: tempfile::TempDir,
    rev1: PathBuf,
    rev2: PathBuf,
}

fn builds() -> &'static Builds {
    static B: OnceLock<Builds> = OnceLock::new();
    B.get_or_init(|| {
        require_build_tools();
        let tmp = shared_dir("runtime-install-");
        let premium = examples().join("kea-premium-2.2.0");
        let rev1 = build(&examples().join("kea-2.2.0"), &premium, tmp.path(), "1");
        // Revision 2: the same Kea, but its kea-dhcp4.conf is other text.
        let kea2 = tmp.path().join("rev2/kea-2.2.0");
        copy_tree(&examples().join("kea-2.2.0"), &kea2);
        let script = kea2.join("src/bin/install-placeholders.sh");
        let text = fs::read_to_string(&script).unwrap();
        let line = text.lines().find(|l| l.trim_start().starts_with("kea-dhcp4.conf)")).expect("install-placeholders.sh writes kea-dhcp4.conf");
        let changed = text.replacen(line, &line.replacen("\"interfaces\": []", REV2_MARK, 1), 1);
        assert_ne!(changed, text, "the kea-dhcp4.conf placeholder line has no empty interface list to change:\n{line}");
        fs::write(&script, changed).unwrap();
        fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let rev2 = build(&kea2, &premium, tmp.path(), "2");
        Builds { _tmp: tmp, rev1, rev2 }
    })
}

fn build(kea: &Path, premium: &Path, dir: &Path, revision: &str) -> PathBuf {
    let out = dir.join(format!("dist-{revision}"));
    let res = run(keapack()
        .args(["build", "--quiet", "--runtime", "own", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64", "--revision", revision])
        .arg("--kea").arg(kea)
        .arg("--premium").arg(premium)
        .arg("--out").arg(&out)
        .arg("--work").arg(dir.join(format!("work-{revision}")))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    ok(res, &format!("keapack build --runtime own --revision {revision}"));
    out
}

/// The files of `dir` whose names end with `ext`, sorted.
fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(ext)).collect();
    v.sort();
    assert!(v.len() >= 11, "the build wrote Kea's own packages and the hooks package, {ext}: {v:?}");
    v
}

/// Assert success; stdout and stderr together.
fn ok_all(out: Output, what: &str) -> String {
    let (o, e) = ok(out, what);
    format!("{o}{e}")
}

// ---------------------------------------------------------------- apt

/// apt-get in the root; only the published repository is a source.
fn apt(root: &Root, args: &[&str]) -> Output {
    root.chroot("apt-get").args(["-q", "-y", "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root"]).args(args).env("DEBIAN_FRONTEND", "noninteractive").output().unwrap()
}

/// Publish `packages` into the root's /srv/repo, signed with `key`, for `file:///srv/repo`.
fn publish_in(root: &Root, key: &Key, packages: &[PathBuf]) {
    let repo = root.join("/srv/repo");
    ok_all(key.command("publish").arg("--repo").arg(&repo).args(["--url", "file:///srv/repo"]).args(packages).output().unwrap(), "keapack publish");
    common::repo::assert_repo_consistent(&repo, "keapack");
}

/// The root's Debian sources replaced by the published repository as a user sets it up: the
/// key file in /etc/apt/keyrings and the client `.sources` publish wrote; then `apt-get update`.
fn use_repo(root: &Root, key: &Key, packages: &[PathBuf]) {
    let _ = fs::remove_file(root.join("/etc/apt/sources.list"));
    for e in fs::read_dir(root.join("/etc/apt/sources.list.d")).into_iter().flatten().flatten() {
        fs::remove_file(e.path()).unwrap();
    }
    publish_in(root, key, packages);
    let repo = root.join("/srv/repo");
    let sources = fs::read_to_string(repo.join("client/keapack-bookworm.sources")).unwrap();
    assert!(sources.contains("Signed-By: /etc/apt/keyrings/keapack-archive-keyring.gpg\n") && sources.contains("URIs: file:///srv/repo/apt\n"), "{sources}");
    fs::create_dir_all(root.join("/etc/apt/keyrings")).unwrap();
    fs::copy(repo.join("keapack-archive-keyring.gpg"), root.join("/etc/apt/keyrings/keapack-archive-keyring.gpg")).unwrap();
    fs::write(root.join("/etc/apt/sources.list.d/keapack.sources"), sources).unwrap();
    ok_all(apt(root, &["update", "--error-on=any"]), "apt-get update of the published repository");
}

/// A Debian 12 root without Kea, with revision 1 of the packages published and installed:
/// keapack-kea-dhcp4, keapack-kea-dhcp6 and kea-premium-hooks.
fn installed_plain_root(key: &Key) -> Root {
    let root = Root::plain();
    assert!(!root.join("/usr/sbin/kea-dhcp4").exists() && !getent(&root, "passwd", "_kea").status.success(), "the plain root has no Kea and no _kea user");
    use_repo(&root, key, &with_ext(&builds().rev1, ".deb"));
    let said = ok_all(apt(&root, &["install", "keapack-kea-dhcp4", "keapack-kea-dhcp6", "kea-premium-hooks"]), "apt-get install keapack-kea-dhcp4 keapack-kea-dhcp6 kea-premium-hooks");
    assert!(!said.contains("dpkg: error") && !said.contains("dpkg: warning"), "{said}");
    root
}

fn getent(root: &Root, db: &str, key: &str) -> Output {
    root.chroot("getent").args([db, key]).output().unwrap()
}

/// `stat -c '%a %U:%G'` of `path` inside the root (names as the root's own databases say).
fn mode_owner(root: &Root, path: &str) -> String {
    ok(root.chroot("stat").args(["-c", "%a %U:%G", path]).output().unwrap(), &format!("stat {path}")).0.trim().to_string()
}

fn audit_clean(root: &Root) {
    let said = ok_all(root.chroot("dpkg").arg("--audit").output().unwrap(), "dpkg --audit");
    assert!(said.trim().is_empty(), "dpkg --audit is not clean:\n{said}");
}

/// `(package, version, status abbreviation)` of every package dpkg knows whose name matches `pattern`.
fn dpkg_list(root: &Root, pattern: &str) -> Vec<(String, String, String)> {
    let out = root.chroot("dpkg-query").args(["-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n", pattern]).output().unwrap();
    text(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 2).then(|| (f[0].to_string(), f[1].to_string(), f.get(2).unwrap_or(&"").to_string()))
        })
        .collect()
}

#[test]
#[ignore = "slow: needs root: builds the example twice, apt-get in a debootstrapped Debian 12 root"]
fn apt_installs_a_fresh_debian_12_root() {
    let key = Key::new();
    let root = installed_plain_root(&key);
    let passwd = ok(getent(&root, "passwd", "_kea"), "getent passwd _kea (the service user was made)").0;
    let f: Vec<&str> = passwd.trim().split(':').collect();
    assert_eq!((f[0], f[5], f[6]), ("_kea", "/var/lib/kea", "/usr/sbin/nologin"), "{passwd}");
    let uid: u32 = f[2].parse().unwrap();
    assert!(uid < 1000, "_kea is a system user: {passwd}");
    ok(getent(&root, "group", "_kea"), "getent group _kea");
    assert_eq!(mode_owner(&root, "/etc/kea"), "750 root:_kea");
    assert_eq!(mode_owner(&root, "/etc/kea/kea-dhcp4.conf"), "640 root:_kea");
    assert_eq!(mode_owner(&root, "/etc/kea/kea-dhcp6.conf"), "640 root:_kea");
    for d in ["/var/lib/kea", "/var/log/kea", "/run/kea"] {
        assert_eq!(mode_owner(&root, d), "750 _kea:_kea", "{d}");
    }
    audit_clean(&root);
    let unit = root.join("/lib/systemd/system/keapack-kea-dhcp4.service");
    let text = fs::read_to_string(&unit).unwrap_or_else(|e| panic!("{}: {e}", unit.display()));
    assert!(text.contains("ExecStart=/usr/sbin/kea-dhcp4 ") && text.contains("User=_kea"), "{text}");
    // Nothing ran it (no systemd in the root), and what it runs is there and runs.
    let v = ok(root.chroot("/usr/sbin/kea-dhcp4").arg("-v").output().unwrap(), "kea-dhcp4 -v in the root").0;
    assert!(v.trim_end().ends_with("2.2.0"), "{v}");
    for p in ["keapack-kea-common", "keapack-kea-dhcp4", "keapack-kea-dhcp6", "kea-premium-hooks"] {
        let st = dpkg_list(&root, p);
        assert!(st.len() == 1 && st[0].1 == "2.2.0-1+deb12" && st[0].2 == "ii", "{p}: {st:?}");
    }
}

#[test]
#[ignore = "slow: needs root: builds the example twice, apt-get in a debootstrapped Debian 12 root"]
fn an_upgrade_keeps_the_edited_configuration_and_offers_the_new_one() {
    let key = Key::new();
    let root = installed_plain_root(&key);
    let conf = root.join("/etc/kea/kea-dhcp4.conf");
    let shipped = fs::read_to_string(&conf).unwrap();
    assert!(!shipped.contains(REV2_MARK), "{shipped}");
    fs::write(&conf, EDITED).unwrap();
    publish_in(&root, &key, &with_ext(&builds().rev2, ".deb"));
    ok_all(apt(&root, &["update", "--error-on=any"]), "apt-get update");
    let said = ok_all(
        apt(&root, &["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "upgrade"]),
        "apt-get upgrade to revision 2",
    );
    assert!(!said.contains("dpkg: error") && !said.contains("kept back"), "{said}");
    assert_eq!(fs::read_to_string(&conf).unwrap(), EDITED, "the administrator's edit is kept");
    let dist = fs::read_to_string(root.join("/etc/kea/kea-dhcp4.conf.dpkg-dist")).expect("the new configuration is offered as kea-dhcp4.conf.dpkg-dist");
    assert!(dist.contains(REV2_MARK), "{dist}");
    assert_eq!(mode_owner(&root, "/etc/kea/kea-dhcp4.conf"), "640 root:_kea");
    assert_eq!(mode_owner(&root, "/etc/kea"), "750 root:_kea");
    // The unedited kea-dhcp6.conf: no copy beside it.
    assert!(!root.join("/etc/kea/kea-dhcp6.conf.dpkg-dist").exists());
    let ours: Vec<_> = dpkg_list(&root, "keapack-kea-*").into_iter().filter(|(_, _, s)| s == "ii").collect();
    assert!(ours.len() >= 3, "{ours:?}");
    for (p, v, _) in &ours {
        assert_eq!(v, "2.2.0-2+deb12", "{p} is at revision 2");
    }
    assert_eq!(dpkg_list(&root, "kea-premium-hooks")[0].1, "2.2.0-2+deb12");
    audit_clean(&root);
}

#[test]
#[ignore = "slow: needs root: builds the example twice, apt-get in a debootstrapped Debian 12 root"]
fn removal_keeps_the_configuration_and_purge_the_user() {
    let key = Key::new();
    let root = installed_plain_root(&key);
    let conf = root.join("/etc/kea/kea-dhcp4.conf");
    ok_all(apt(&root, &["remove", "keapack-kea-dhcp4"]), "apt-get remove keapack-kea-dhcp4");
    assert!(!root.join("/usr/sbin/kea-dhcp4").exists(), "the program is gone");
    assert!(conf.is_file(), "remove keeps the configuration");
    assert_eq!(mode_owner(&root, "/etc/kea/kea-dhcp4.conf"), "640 root:_kea");
    assert_eq!(dpkg_list(&root, "keapack-kea-dhcp4")[0].2, "rc");
    ok_all(apt(&root, &["purge", "keapack-kea-dhcp4"]), "apt-get purge keapack-kea-dhcp4");
    assert!(!conf.exists(), "purge removes the configuration");
    assert!(!root.chroot("dpkg-statoverride").args(["--list", "/etc/kea/kea-dhcp4.conf"]).status().unwrap().success(), "purge drops the file's statoverride");
    assert!(root.join("/etc/kea/kea-dhcp6.conf").is_file(), "the other daemon's configuration stays");

    ok_all(apt(&root, &["purge", "keapack-kea-dhcp6", "kea-premium-hooks", "keapack-kea-common"]), "apt-get purge of the rest");
    let left: Vec<_> = dpkg_list(&root, "*kea*").into_iter().filter(|(_, _, s)| !s.starts_with("un") && !s.is_empty()).collect();
    assert!(left.is_empty(), "every package is purged: {left:?}");
    assert!(!root.join("/etc/kea/kea-dhcp6.conf").exists());
    // (`--list` exits 1 when there is no override at all.)
    let overrides = text(&root.chroot("dpkg-statoverride").arg("--list").output().unwrap().stdout);
    assert!(!overrides.contains("/etc/kea"), "purge drops the statoverrides:\n{overrides}");
    let passwd = ok(getent(&root, "passwd", "_kea"), "getent passwd _kea after the purge (the user stays)").0;
    assert!(passwd.contains(":/var/lib/kea:/usr/sbin/nologin"), "{passwd}");
    audit_clean(&root);
}

#[test]
#[ignore = "slow: needs root: builds the example twice, apt-get in the Debian 12 root with Debian's Kea"]
fn installing_over_debians_own_kea_switches_cleanly() {
    let key = Key::new();
    let root = Root::kea();
    let debian: Vec<_> = dpkg_list(&root, "kea-*").into_iter().filter(|(_, _, s)| s == "ii").map(|(p, _, _)| p).collect();
    assert!(debian.contains(&"kea-dhcp4-server".to_string()) && debian.contains(&"kea-common".to_string()), "{debian:?}");
    use_repo(&root, &key, &with_ext(&builds().rev1, ".deb"));
    let said = ok_all(apt(&root, &["install", "keapack-kea-dhcp4", "kea-premium-hooks"]), "apt-get install keapack-kea-dhcp4 kea-premium-hooks over Debian's Kea");
    assert!(!said.contains("trying to overwrite") && !said.contains("dpkg: error"), "{said}");
    for p in ["kea-dhcp4-server", "kea-common"] {
        assert!(said.contains(&format!("Removing {p} ")), "apt removes Debian's {p}:\n{said}");
        let st = dpkg_list(&root, p);
        assert!(st.iter().all(|(_, _, s)| s != "ii"), "{p}: {st:?}");
    }
    audit_clean(&root);
    let owner = ok(root.chroot("dpkg").args(["-S", "/usr/sbin/kea-dhcp4"]).output().unwrap(), "dpkg -S /usr/sbin/kea-dhcp4").0;
    assert_eq!(owner.trim(), "keapack-kea-dhcp4: /usr/sbin/kea-dhcp4");
    let v = ok(root.chroot("/usr/sbin/kea-dhcp4").arg("-v").output().unwrap(), "kea-dhcp4 -v").0;
    assert!(v.trim_end().ends_with("2.2.0"), "{v}");
    assert_eq!(mode_owner(&root, "/etc/kea"), "750 root:_kea");
    assert_eq!(mode_owner(&root, "/etc/kea/kea-dhcp4.conf"), "640 root:_kea");
}

// ---------------------------------------------------------------- dnf

/// A stand-in rpm providing every capability `rpms` require that none of them provides, and
/// shipping the host's /bin/sh, getent, groupadd and useradd with the libraries they load, and
/// empty user databases, so the %pre scriptlets make the service user in the install root.
fn standin(rpms: &[PathBuf], dir: &Path) -> PathBuf {
    require("rpmbuild", "rpm");
    let query = |what: &str| -> std::collections::BTreeSet<String> {
        let out = ok_all(Command::new("rpm").args(["-qp", "--nosignature", what]).args(rpms).output().unwrap(), &format!("rpm -qp {what}"));
        out.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
    };
    let name = |cap: &str| cap.split_whitespace().next().unwrap_or("").to_string();
    let provided: std::collections::BTreeSet<String> = query("--provides").iter().map(|c| name(c)).collect();
    let needed: Vec<String> = query("--requires").into_iter().filter(|c| !c.starts_with("rpmlib(") && !c.starts_with('/') && !provided.contains(&name(c))).collect();
    assert!(needed.iter().any(|c| c.starts_with("libc.so.6")) && !needed.iter().any(|c| c.starts_with("keapack-kea-common")), "{needed:?}");
    let programs = ["/bin/dash", "/usr/bin/getent", "/usr/sbin/groupadd", "/usr/sbin/useradd"];
    let mut files: Vec<(String, String)> = vec![("/bin/dash".into(), "/bin/sh".into())];
    files.extend(programs[1..].iter().map(|p| (p.to_string(), p.to_string())));
    for p in programs {
        let out = ok_all(Command::new("ldd").arg(p).output().unwrap(), &format!("ldd {p}"));
        for l in out.lines() {
            if let Some(path) = l.split_whitespace().find(|w| w.starts_with('/')) {
                let path = path.to_string();
                if !files.iter().any(|(_, to)| *to == path) {
                    files.push((path.clone(), path));
                }
            }
        }
    }
    let mut install = String::from("mkdir -p %{buildroot}/etc\n");
    for (from, to) in &files {
        install.push_str(&format!("mkdir -p %{{buildroot}}{}\ncp -L {from} %{{buildroot}}{to}\n", Path::new(to).parent().unwrap().display()));
    }
    for f in ["passwd", "group", "shadow", "gshadow"] {
        install.push_str(&format!("touch %{{buildroot}}/etc/{f}\n"));
    }
    let list: String = files.iter().map(|(_, to)| format!("{to}\n")).collect();
    let provides: String = needed.iter().map(|c| format!("Provides: {c}\n")).collect();
    let spec = format!(
        "Name: kea-runtime-standin\nVersion: 1\nRelease: 1\nSummary: Stand-in for what Kea's packages require\nLicense: MIT\nBuildArch: x86_64\nAutoReqProv: no\n{provides}\
         %description\nTest fixture.\n%install\n{install}%files\n{list}%config(noreplace) /etc/passwd\n%config(noreplace) /etc/group\n\
         %config(noreplace) %attr(0640,root,root) /etc/shadow\n%config(noreplace) %attr(0640,root,root) /etc/gshadow\n"
    );
    common::made::rpmbuild_standin(dir, &spec)
}

fn dnf(root: &Path, args: &[&str]) -> Output {
    let args: Vec<&str> = std::iter::once("--disableplugin=*").chain(args.iter().copied()).collect();
    common::made::dnf_in(root, &args)
}

/// The id of `name` in the root's `/etc/passwd` or `/etc/group` and the line.
fn db_entry(root: &Path, db: &str, name: &str) -> Option<(u32, String)> {
    let text = fs::read_to_string(root.join("etc").join(db)).unwrap_or_default();
    text.lines().find(|l| l.split(':').next() == Some(name)).map(|l| (l.split(':').nth(2).unwrap().parse().unwrap(), l.to_string()))
}

/// Mode and owner of `rel` in the rpm root, as `750 0:<gid>`.
fn mode_ids(root: &Path, rel: &str) -> String {
    let m = fs::symlink_metadata(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    format!("{:o} {}:{}", m.mode() & 0o7777, m.uid(), m.gid())
}

#[test]
#[ignore = "slow: needs root: builds the example twice, dnf --installroot"]
fn dnf_installs_upgrades_and_erases_in_an_rpm_root() {
    common::roots::require_root_user();
    require("dnf", "dnf");
    let b = builds();
    let key = Key::new();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let (rev1, rev2) = (with_ext(&b.rev1, ".rpm"), with_ext(&b.rev2, ".rpm"));
    ok_all(key.command("publish").arg("--repo").arg(&repo).args(&rev1).output().unwrap(), "keapack publish of revision 1");
    let standin = standin(&[rev1.clone(), rev2.clone()].concat(), &tmp.path().join("standin"));
    let root = tmp.path().join("root");
    fs::create_dir_all(root.join("etc/yum.repos.d")).unwrap();
    // The scriptlets redirect to /dev/null, as on any system.
    fs::create_dir_all(root.join("dev")).unwrap();
    ok_all(Command::new("mknod").args(["-m", "0666"]).arg(root.join("dev/null")).args(["c", "1", "3"]).output().unwrap(), "mknod dev/null");
    ok_all(Command::new("rpm").arg("--root").arg(&root).arg("--initdb").output().unwrap(), "rpm --initdb");
    ok_all(Command::new("rpm").arg("--root").arg(&root).args(["-i", "--nodeps"]).arg(&standin).output().unwrap(), "rpm -i the stand-in");
    fs::copy(repo.join("client/keapack-el9.repo"), root.join("etc/yum.repos.d/keapack.repo")).unwrap();

    let said = ok_all(dnf(&root, &["install", "keapack-kea-dhcp4", "kea-premium-hooks"]), "dnf install keapack-kea-dhcp4 kea-premium-hooks");
    assert!(!said.contains("does not exist - using root") && !said.contains("scriptlet failed"), "{said}");
    let (uid, passwd) = db_entry(&root, "passwd", "kea").unwrap_or_else(|| panic!("no kea user in the root's /etc/passwd:\n{said}"));
    let f: Vec<&str> = passwd.split(':').collect();
    assert_eq!((f[5], f[6]), ("/var/lib/kea", "/sbin/nologin"), "{passwd}");
    assert!(uid < 1000, "kea is a system user: {passwd}");
    let (gid, _) = db_entry(&root, "group", "kea").expect("the kea group");
    assert_eq!(mode_ids(&root, "etc/kea"), format!("750 0:{gid}"));
    assert_eq!(mode_ids(&root, "etc/kea/kea-dhcp4.conf"), format!("640 0:{gid}"));

    let conf = root.join("etc/kea/kea-dhcp4.conf");
    assert!(!fs::read_to_string(&conf).unwrap().contains(REV2_MARK));
    fs::write(&conf, EDITED).unwrap();
    ok_all(key.command("publish").arg("--repo").arg(&repo).args(&rev2).output().unwrap(), "keapack publish of revision 2");
    let said = ok_all(dnf(&root, &["upgrade"]), "dnf upgrade to revision 2");
    let q = ok_all(Command::new("rpm").arg("--root").arg(&root).args(["-q", "keapack-kea-common", "keapack-kea-dhcp4", "kea-premium-hooks"]).output().unwrap(), "rpm -q");
    assert_eq!(q.lines().collect::<Vec<_>>(), ["keapack-kea-common-2.2.0-2.el9.x86_64", "keapack-kea-dhcp4-2.2.0-2.el9.x86_64", "kea-premium-hooks-2.2.0-2.el9.x86_64"], "{said}");
    assert_eq!(fs::read_to_string(&conf).unwrap(), EDITED, "the edit is kept");
    let new = fs::read_to_string(root.join("etc/kea/kea-dhcp4.conf.rpmnew")).expect("the new configuration as kea-dhcp4.conf.rpmnew");
    assert!(new.contains(REV2_MARK), "{new}");
    assert_eq!(mode_ids(&root, "etc/kea/kea-dhcp4.conf"), format!("640 0:{gid}"));

    ok_all(dnf(&root, &["remove", "keapack-kea-dhcp4", "kea-premium-hooks"]), "dnf remove keapack-kea-dhcp4 kea-premium-hooks");
    assert!(!conf.exists() && !root.join("usr/sbin/kea-dhcp4").exists());
    assert_eq!(fs::read_to_string(root.join("etc/kea/kea-dhcp4.conf.rpmsave")).expect("the edited configuration kept as .rpmsave"), EDITED);
    assert!(db_entry(&root, "passwd", "kea").is_some(), "the user stays");
}

// ---------------------------------------------------------------- ISC's names

/// The `.deb` files of `dir`, sorted.
fn debs_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(".deb")).collect();
    v.sort();
    v
}

/// A field of a `.deb`'s control file (empty when it has none).
fn deb_field(deb: &Path, field: &str) -> String {
    text(&Command::new("dpkg-deb").arg("-f").arg(deb).arg(field).output().unwrap().stdout).trim().to_string()
}

/// The package names a relation field names (`a (>= 1), b | c` → a, b, c).
fn named_in(relations: &str) -> Vec<String> {
    relations.split([',', '|']).filter_map(|r| r.split_whitespace().next()).map(|n| n.split(':').next().unwrap().to_string()).collect()
}

#[test]
#[ignore = "slow: needs root: builds the example twice, apt-get in a debootstrapped Debian 12 root"]
fn isc_named_packages_take_hooks_built_for_iscs_runtime() {
    require_build_tools();
    let tmp = tempfile::tempdir().unwrap();
    let (kea, premium) = (examples().join("kea-2.2.0"), examples().join("kea-premium-2.2.0"));
    // keapack's Kea under ISC's names, revision 1.
    let manifest = tmp.path().join("keapack.toml");
    fs::write(&manifest, "[package]\nruntime = \"own\"\nruntime-prefix = \"isc-kea\"\n").unwrap();
    let own = tmp.path().join("dist-own");
    ok(run(keapack()
        .args(["build", "--quiet", "--target", "debian-12-amd64", "--revision", "1"])
        .arg("--manifest").arg(&manifest)
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(&own)
        .arg("--work").arg(tmp.path().join("work-own"))
        .env("SOURCE_DATE_EPOCH", "1700000000")), "keapack build with runtime = \"own\", runtime-prefix = \"isc-kea\"");
    // The hooks alone, as built for ISC's repository, revision 2.
    let isc = tmp.path().join("dist-isc");
    ok(run(keapack()
        .args(["build", "--quiet", "--runtime", "isc", "--target", "debian-12-amd64", "--revision", "2"])
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(&isc)
        .arg("--work").arg(tmp.path().join("work-isc"))
        .env("SOURCE_DATE_EPOCH", "1700000000")), "keapack build --runtime isc --revision 2");

    let own_debs = debs_in(&own);
    let isc_debs = debs_in(&isc);
    let hooks = isc.join("kea-premium-hooks_2.2.0-2+deb12_amd64.deb");
    assert_eq!(isc_debs, [hooks.clone()], "the --runtime isc build writes the hooks package alone");
    let depends = deb_field(&hooks, "Depends");
    let on_kea: Vec<&str> = depends.split(',').map(str::trim).filter(|r| r.contains("kea")).collect();
    assert_eq!(on_kea, ["isc-kea-common (>= 2.2.0)", "isc-kea-common (<< 2.2.1~)"], "the hooks built for ISC's runtime: Depends: {depends}");
    // Kea's own packages under ISC's names: none conflicts with itself or another of the run.
    let names: Vec<String> = own_debs.iter().map(|d| deb_field(d, "Package")).collect();
    for want in ["isc-kea-common", "isc-kea-dhcp4", "kea-premium-hooks"] {
        assert!(names.iter().any(|n| n == want), "the runtime-prefix = \"isc-kea\" build wrote no {want}: {names:?}");
    }
    assert!(names.iter().all(|n| n == "kea-premium-hooks" || n.starts_with("isc-kea-")), "{names:?}");
    let mut problems = Vec::new();
    for (deb, name) in own_debs.iter().zip(&names) {
        assert_eq!(deb_field(deb, "Version"), "2.2.0-1+deb12", "{name}");
        for field in ["Conflicts", "Breaks"] {
            let value = deb_field(deb, field);
            for named in named_in(&value).into_iter().filter(|n| names.contains(n)) {
                problems.push(format!("{name}: {field}: {value} names {named}, a package of the same run{}", if &named == name { " (itself)" } else { "" }));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let key = Key::new();
    let root = Root::plain();
    use_repo(&root, &key, &[own_debs, isc_debs].concat());
    let said = ok_all(apt(&root, &["install", "isc-kea-dhcp4", "kea-premium-hooks=2.2.0-2+deb12"]), "apt-get install isc-kea-dhcp4 kea-premium-hooks=2.2.0-2+deb12");
    assert!(!said.contains("dpkg: error") && !said.contains("dpkg: warning"), "{said}");
    audit_clean(&root);
    for (p, v) in [("isc-kea-common", "2.2.0-1+deb12"), ("isc-kea-dhcp4", "2.2.0-1+deb12"), ("kea-premium-hooks", "2.2.0-2+deb12")] {
        let st = dpkg_list(&root, p);
        assert!(st.len() == 1 && st[0].1 == v && st[0].2 == "ii", "{p} is not installed at {v}: {st:?}\n{said}");
    }
    // The guidance the hooks package printed is the one for ISC's runtime.
    for line in ["kea-premium-hooks 2.2.0-2+deb12: Kea 2.2.0 premium hook libraries", "the running Kea is not 2.2.0: install isc-kea-common 2.2.0."] {
        assert!(said.contains(line), "the hooks package did not print {line:?}:\n{said}");
    }
    assert!(!said.contains("install kea-common 2.2.0"), "the hooks package printed the distribution runtime's guidance:\n{said}");
    assert!(root.join("/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so").is_file() && root.join("/usr/sbin/kea-dhcp4").is_file());
    let units: Vec<String> = fs::read_dir(root.join("/lib/systemd/system")).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.contains("kea")).collect();
    // With ISC's names the units are ISC's too: the unit the hooks' guidance restarts exists.
    let restart: Vec<&str> = said.lines().filter(|l| l.contains("systemctl restart")).collect();
    assert!(restart.iter().any(|l| l.contains("isc-kea-dhcp4-server")), "the guidance names no isc-kea-dhcp4-server: {restart:?}");
    assert!(units.iter().any(|u| u == "isc-kea-dhcp4-server.service"), "the guidance restarts isc-kea-dhcp4-server, but the units installed are {units:?}");
}

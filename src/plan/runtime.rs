//! Kea's own packages (`runtime = "own"`): the whole staged Kea of a full build split into the
//! packages the distributions and ISC make of it, named `<prefix>-<part>`.
//!
//! The split follows Debian's `isc-kea` source package and ISC's `isc-kea-*` packages:
//!
//! | part | holds |
//! |---|---|
//! | `common` | `libkea-*.so.N` (with their SONAME links), `kea-lfc` (the daemons run it, as in Debian's `kea-common`), `/etc/kea` (0750 root:<user>), the service user (`sysusers.d`) and Kea's directories (`tmpfiles.d`) |
//! | `dhcp4`, `dhcp6`, `dhcp-ddns`, `ctrl-agent` (until 3.1.7), `netconf` | the daemon, its configuration file (a conffile, 0640 root:<user>), its man page, a systemd unit named as the package |
//! | `admin` | `kea-admin`, `keactrl` and its configuration, `kea-shell` and its Python module, `perfdhcp`, the database scripts |
//! | `hooks` | the open-source hook libraries, except the database back ends |
//! | `mysql`, `pgsql` | the MySQL and PostgreSQL hook libraries (`libdhcp_mysql*.so`, `libdhcp_pgsql*.so`), when Kea was configured with them |
//! | `dev` | headers, `libkea-*.so` link libraries, `kea-msg-compiler`, pkg-config files; only with `runtime-dev = true` |
//! | `doc` | `/usr/share/doc/kea` and what else documents Kea, architecture-independent |
//!
//! Left out: the premium hooks (the run's hooks package holds them), `libtool` archives (the
//! stage has none left), and what `make install` made under `/var` and `/run` (the units and
//! `tmpfiles.d` make those directories with the service user as owner).
//!
//! Every package but `doc` depends on `<prefix>-common` of exactly this version, and each
//! conflicts with and replaces the Debian and ISC packages that hold the same files (rpm:
//! `Conflicts`), so installing them over a distribution Kea is a switch, not a file clash.

use crate::plan::guidance::Templates;
use crate::plan::manifest::PackageSection;
use crate::plan::profile::{RuntimeStyle, Target};
use crate::plan::spec::{ChangelogEntry, DirEntry, FileEntry, FileRole, Format, LinkEntry, Op, PackageSpec, Relation, Source};
use crate::source::version::KeaVersion;
use crate::stage::runtime::{Installed, Kind};
use anyhow::{Context, Result, bail};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// Kea's configuration directory, as keapack configures Kea (`--sysconfdir=/etc`).
pub const CONFIG_DIR: &str = "/etc/kea";
/// The service user's home, and where Kea keeps its leases (`<localstatedir>/lib/kea`).
pub const STATE_DIR: &str = "/var/lib/kea";
/// Where Kea writes its log files (`<localstatedir>/log/kea`).
pub const LOG_DIR: &str = "/var/log/kea";

/// One package of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Common,
    Dhcp4,
    Dhcp6,
    DhcpDdns,
    CtrlAgent,
    Netconf,
    Admin,
    Hooks,
    Mysql,
    Pgsql,
    Dev,
    Doc,
}

/// A daemon: its program, its key in a profile's runtime `services`, what the unit's
/// description calls it, the capabilities it needs.
struct Daemon {
    part: Part,
    program: &'static str,
    service: &'static str,
    title: &'static str,
    capabilities: &'static str,
}

const DAEMONS: &[Daemon] = &[
    Daemon { part: Part::Dhcp4, program: "kea-dhcp4", service: "dhcp4", title: "DHCPv4 server", capabilities: "CAP_NET_BIND_SERVICE CAP_NET_RAW" },
    Daemon { part: Part::Dhcp6, program: "kea-dhcp6", service: "dhcp6", title: "DHCPv6 server", capabilities: "CAP_NET_BIND_SERVICE" },
    Daemon { part: Part::DhcpDdns, program: "kea-dhcp-ddns", service: "ddns", title: "DHCP-DDNS server", capabilities: "" },
    Daemon { part: Part::CtrlAgent, program: "kea-ctrl-agent", service: "ctrl-agent", title: "Control Agent", capabilities: "" },
    Daemon { part: Part::Netconf, program: "kea-netconf", service: "netconf", title: "NETCONF agent", capabilities: "" },
];

/// Programs of the admin and client tools.
const ADMIN_PROGRAMS: &[&str] = &["kea-admin", "keactrl", "kea-shell", "perfdhcp"];

impl Part {
    pub const ALL: [Part; 12] = [
        Part::Common,
        Part::Dhcp4,
        Part::Dhcp6,
        Part::DhcpDdns,
        Part::CtrlAgent,
        Part::Netconf,
        Part::Admin,
        Part::Hooks,
        Part::Mysql,
        Part::Pgsql,
        Part::Dev,
        Part::Doc,
    ];

    pub fn suffix(self) -> &'static str {
        match self {
            Part::Common => "common",
            Part::Dhcp4 => "dhcp4",
            Part::Dhcp6 => "dhcp6",
            Part::DhcpDdns => "dhcp-ddns",
            Part::CtrlAgent => "ctrl-agent",
            Part::Netconf => "netconf",
            Part::Admin => "admin",
            Part::Hooks => "hooks",
            Part::Mysql => "mysql",
            Part::Pgsql => "pgsql",
            Part::Dev => "dev",
            Part::Doc => "doc",
        }
    }

    fn daemon(self) -> Option<&'static Daemon> {
        DAEMONS.iter().find(|d| d.part == self)
    }

    fn summary(self, kea: &KeaVersion) -> String {
        match self {
            Part::Common => format!("Kea {kea} DHCP: libraries and files every part needs"),
            Part::Admin => format!("Kea {kea} DHCP: administration and client tools"),
            Part::Hooks => format!("Kea {kea} DHCP: open-source hook libraries"),
            Part::Mysql => format!("Kea {kea} DHCP: MySQL database back end"),
            Part::Pgsql => format!("Kea {kea} DHCP: PostgreSQL database back end"),
            Part::Dev => format!("Kea {kea} DHCP: development files"),
            Part::Doc => format!("Kea {kea} DHCP: documentation"),
            p => format!("Kea {kea} {}", p.daemon().map_or("", |d| d.title)),
        }
    }

    fn description(self) -> &'static str {
        match self {
            Part::Common => "The libkea libraries, the lease file cleanup program kea-lfc, the configuration directory, and the service user and directories Kea's daemons run with.",
            Part::Admin => "kea-admin (lease database administration), keactrl, kea-shell and perfdhcp, whichever this Kea built, with the database scripts.",
            Part::Hooks => "The hook libraries of Kea's open-source release, which the daemons load when their configuration names them.",
            Part::Mysql => "The hook libraries that keep leases, host reservations or configuration in MySQL.",
            Part::Pgsql => "The hook libraries that keep leases, host reservations or configuration in PostgreSQL.",
            Part::Dev => "Headers, link libraries and the message compiler, to build hook libraries against this Kea.",
            Part::Doc => "Kea's documentation and example configurations.",
            _ => "The daemon, its default configuration in /etc/kea, and a systemd unit that runs it as Kea's service user.",
        }
    }

    /// The packages of the distributions and of ISC that hold the same files.
    fn others(self, format: Format) -> &'static [&'static str] {
        match (format, self) {
            (Format::Deb, Part::Common) => &["kea-common", "isc-kea-common"],
            (Format::Deb, Part::Dhcp4) => &["kea-dhcp4-server", "isc-kea-dhcp4", "isc-kea-dhcp4-server"],
            (Format::Deb, Part::Dhcp6) => &["kea-dhcp6-server", "isc-kea-dhcp6", "isc-kea-dhcp6-server"],
            (Format::Deb, Part::DhcpDdns) => &["kea-dhcp-ddns-server", "isc-kea-dhcp-ddns", "isc-kea-dhcp-ddns-server"],
            (Format::Deb, Part::CtrlAgent) => &["kea-ctrl-agent", "isc-kea-ctrl-agent"],
            (Format::Deb, Part::Netconf) => &["isc-kea-netconf"],
            (Format::Deb, Part::Admin) => &["kea-admin", "isc-kea-admin", "isc-kea-perfdhcp", "isc-kea-shell", "python3-kea-connector", "python3-isc-kea-connector"],
            (Format::Deb, Part::Hooks) => &["kea-common", "isc-kea-hooks"],
            (Format::Deb, Part::Mysql) => &["kea-common", "isc-kea-mysql"],
            (Format::Deb, Part::Pgsql) => &["kea-common", "isc-kea-pgsql"],
            (Format::Deb, Part::Dev) => &["kea-dev", "isc-kea-dev"],
            (Format::Deb, Part::Doc) => &["kea-doc", "isc-kea-doc"],
            (Format::Rpm, Part::Common) => &["kea-libs", "isc-kea-common"],
            (Format::Rpm, Part::Dhcp4 | Part::Dhcp6 | Part::DhcpDdns | Part::CtrlAgent) => &["kea", "isc-kea-dhcp4", "isc-kea-dhcp6", "isc-kea-dhcp-ddns", "isc-kea-ctrl-agent"],
            (Format::Rpm, Part::Netconf) => &["isc-kea-netconf"],
            (Format::Rpm, Part::Admin) => &["kea", "isc-kea-admin", "isc-kea-perfdhcp", "isc-kea-shell"],
            (Format::Rpm, Part::Hooks) => &["kea-hooks", "isc-kea-hooks"],
            (Format::Rpm, Part::Mysql) => &["kea-hooks", "isc-kea-mysql"],
            (Format::Rpm, Part::Pgsql) => &["kea-hooks", "isc-kea-pgsql"],
            (Format::Rpm, Part::Dev) => &["kea-devel", "isc-kea-devel"],
            (Format::Rpm, Part::Doc) => &["kea-doc", "isc-kea-doc"],
        }
    }
}

/// The name of a part's package: `<prefix>-<suffix>`, the development package `-devel` on the
/// RPM family (as Fedora and ISC name theirs).
pub fn package_name(prefix: &str, part: Part, format: Format) -> String {
    match (part, format) {
        (Part::Dev, Format::Rpm) => format!("{prefix}-devel"),
        _ => format!("{prefix}-{}", part.suffix()),
    }
}

/// Where an installed path goes: into a part, or nowhere, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    In(Part),
    Left(&'static str),
}

/// The program a man page documents: `kea-dhcp4` for `/usr/share/man/man8/kea-dhcp4.8(.gz)`.
fn man_program(path: &str) -> Option<&str> {
    let name = path.strip_prefix("/usr/share/man/man")?.split_once('/')?.1;
    let name = name.strip_suffix(".gz").unwrap_or(name);
    Some(name.rsplit_once('.')?.0)
}

/// A shared library or hook by its name: `libkea-log.so.35.0.0`, `libdhcp_ha.so`.
fn is_shared_object(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("lib") && (name.ends_with(".so") || name.contains(".so."))
}

/// The part a program belongs to.
fn program_part(name: &str) -> Option<Part> {
    if let Some(d) = DAEMONS.iter().find(|d| d.program == name) {
        return Some(d.part);
    }
    match name {
        "kea-lfc" => Some(Part::Common),
        "kea-msg-compiler" => Some(Part::Dev),
        n if ADMIN_PROGRAMS.contains(&n) => Some(Part::Admin),
        _ => None,
    }
}

/// Decide where one installed path goes. `libdir` is the build's, `premium` the install paths
/// of the premium hooks, `dev` whether the development package is written.
pub fn place(item: &Installed, libdir: &str, premium: &BTreeSet<String>, dev: bool) -> Placement {
    let p = item.path.as_str();
    let hooks_dir = format!("{libdir}/kea/hooks/");
    let dev_or_left = |part| if dev || part != Part::Dev { Placement::In(part) } else { Placement::Left("development files: write them with runtime-dev = true") };
    if matches!(item.kind, Kind::Dir { .. }) {
        return Placement::Left("a directory: each package owns the directories of its files");
    }
    if premium.contains(p) {
        return Placement::Left("a premium hook: the run's hooks package holds it");
    }
    if let Kind::Link { target } = &item.kind
        && p.starts_with(&hooks_dir)
        && premium.contains(&format!("{hooks_dir}{}", target.rsplit('/').next().unwrap_or(target)))
    {
        return Placement::Left("a link to a premium hook: the run's hooks package holds the hook");
    }
    if p.rsplit('/').next() == Some(".buildinfo") {
        return Placement::Left("the documentation build's own bookkeeping (Sphinx), not documentation");
    }
    if p.starts_with("/var/") || p.starts_with("/run/") {
        return Placement::Left("made by the units and tmpfiles.d, owned by the service user");
    }
    if let Some(hook) = p.strip_prefix(&hooks_dir) {
        return Placement::In(if hook.contains("mysql") {
            Part::Mysql
        } else if hook.contains("pgsql") {
            Part::Pgsql
        } else {
            Part::Hooks
        });
    }
    if p.contains("/site-packages/kea/") || p.contains("/dist-packages/kea/") {
        return Placement::In(Part::Admin);
    }
    if let Some(lib) = p.strip_prefix(&format!("{libdir}/")) {
        if lib.starts_with("libkea-") && lib.ends_with(".so") {
            return dev_or_left(Part::Dev);
        }
        if lib.starts_with("libkea-") && lib.contains(".so.") {
            return Placement::In(Part::Common);
        }
        if lib.starts_with("pkgconfig/") {
            return dev_or_left(Part::Dev);
        }
    }
    if p.starts_with("/usr/include/") {
        return dev_or_left(Part::Dev);
    }
    for bin in ["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"] {
        if let Some(prog) = p.strip_prefix(bin)
            && !prog.contains('/')
        {
            return match program_part(prog) {
                Some(part) => dev_or_left(part),
                None => Placement::In(Part::Admin),
            };
        }
    }
    if let Some(conf) = p.strip_prefix(&format!("{CONFIG_DIR}/")) {
        let stem = conf.strip_suffix(".conf").unwrap_or(conf);
        return Placement::In(match program_part(stem) {
            Some(Part::Dev) | None => Part::Common,
            Some(part) => part,
        });
    }
    if let Some(prog) = man_program(p) {
        return match program_part(prog) {
            Some(part) => dev_or_left(part),
            None => Placement::In(Part::Doc),
        };
    }
    if p.starts_with("/usr/share/kea/scripts/") {
        return Placement::In(Part::Admin);
    }
    if p.starts_with("/usr/share/doc/") || p.starts_with("/usr/share/kea/api/") || p.starts_with("/usr/share/man/") {
        return Placement::In(Part::Doc);
    }
    Placement::In(Part::Common)
}

/// Everything the runtime packages are made from.
pub struct RuntimeInput<'a> {
    pub package: &'a PackageSection,
    pub kea_version: &'a KeaVersion,
    pub installed: &'a [Installed],
    /// Install paths of the premium hooks.
    pub premium: &'a BTreeSet<String>,
    pub target: &'a Target,
    pub epoch: u64,
    pub templates: &'a Templates,
    /// What each ELF file needs besides Kea's own libraries, keyed by install path.
    pub library_depends: &'a BTreeMap<String, Vec<Relation>>,
}

/// What the split made: the packages, and the paths left out with the reason.
#[derive(Debug, Clone)]
pub struct Split {
    pub specs: Vec<PackageSpec>,
    pub left: Vec<(String, &'static str)>,
}

/// The service user's login shell on the target's family.
fn nologin(format: Format) -> &'static str {
    match format {
        Format::Deb => "/usr/sbin/nologin",
        Format::Rpm => "/sbin/nologin",
    }
}

/// Split the staged Kea into its packages for `input.target`.
pub fn plan_runtime(input: &RuntimeInput) -> Result<Split> {
    let target = input.target;
    let format = target.profile.family;
    let pkg = input.package;
    let prefix = pkg.runtime_prefix();
    let runtime = target.runtime(RuntimeStyle::Own)?;
    let user = runtime.user.clone().context("the own runtime of this profile names no service user (runtime.own.user)")?;
    let libdir = &target.arch_info.libdir;
    let mut parts: BTreeMap<Part, (Vec<FileEntry>, Vec<LinkEntry>)> = BTreeMap::new();
    let mut left = Vec::new();
    for item in input.installed {
        match place(item, libdir, input.premium, pkg.runtime_dev) {
            Placement::Left(why) => {
                if !matches!(item.kind, Kind::Dir { .. }) {
                    left.push((item.path.clone(), why));
                }
            }
            Placement::In(part) => {
                let entry = parts.entry(part).or_default();
                match &item.kind {
                    Kind::File { source, mode, elf } => {
                        if let Some(machine) = elf
                            && *machine != target.arch_info.elf_machine
                        {
                            bail!("{} is built for {machine}, but target {} needs {}", item.path, target.id(), target.arch_info.elf_machine);
                        }
                        let mut f = FileEntry::new(item.path.clone(), Source::Path(source.clone()), mode & 0o7777, FileRole::Plain);
                        if is_shared_object(&item.path) {
                            // libtool installs them 0755. Debian: a library is not a program
                            // (0644, as dh_fixperms makes it); the RPM family keeps 0755.
                            f.mode = if format == Format::Deb { 0o644 } else { 0o755 };
                        }
                        if man_program(&item.path).is_some() && !item.path.ends_with(".gz") {
                            // Both families compress manual pages (dh_compress, brp-compress).
                            let text = std::fs::read(source).with_context(|| format!("cannot read {}", source.display()))?;
                            f.path.push_str(".gz");
                            f.source = Source::Bytes(crate::support::gzip::gzip_best(&text));
                        }
                        if item.path.starts_with(&format!("{CONFIG_DIR}/")) {
                            // Readable by Kea's group, never by everyone.
                            f.config = true;
                            f.mode = 0o640;
                            f.group = Some(user.clone());
                        } else if item.path.starts_with("/usr/share/doc/") || man_program(&item.path).is_some() {
                            f.role = FileRole::Doc;
                        }
                        entry.0.push(f);
                    }
                    Kind::Link { target: to } => entry.1.push(LinkEntry { path: item.path.clone(), target: to.clone() }),
                    Kind::Dir { .. } => {}
                }
            }
        }
    }
    // A daemon this Kea did not build (kea-netconf without sysrepo) may still have its manual
    // page installed: that documents nothing installed here, so it goes with the manual.
    for d in DAEMONS {
        let built = parts.get(&d.part).is_some_and(|(files, _)| files.iter().any(|f| f.path.rsplit('/').next() == Some(d.program) && !f.path.starts_with("/usr/share/")));
        if !built && let Some((files, links)) = parts.remove(&d.part) {
            let doc = parts.entry(Part::Doc).or_default();
            doc.0.extend(files);
            doc.1.extend(links);
        }
    }
    if !parts.contains_key(&Part::Common) {
        bail!(
            "target {}: the build installed none of Kea's libraries (libkea-*.so.N in {libdir}): runtime = \"own\" packages Kea itself and needs a full build of a real Kea tree",
            target.id()
        );
    }
    let names: BTreeSet<String> = parts.keys().map(|p| package_name(prefix, *p, format)).collect();
    if names.contains(&pkg.name) {
        bail!("package.name '{}' is also the name of one of Kea's own packages (runtime-prefix '{prefix}'): choose another package.name or runtime-prefix", pkg.name);
    }
    let (version, revision) = crate::plan::version_and_revision(format, input.kea_version, &pkg.revision, &target.profile.dist_tag);
    let full = format!("{version}-{revision}");
    let common = package_name(prefix, Part::Common, format);
    let sysusers = format!("/usr/lib/sysusers.d/{prefix}.conf");
    let tmpfiles = format!("/usr/lib/tmpfiles.d/{prefix}.conf");
    let dirs = [runtime.socket_dir.trim_end_matches('/').to_string(), STATE_DIR.to_string(), LOG_DIR.to_string()];
    let shell = nologin(format);
    let sysusers_line = format!("u {user} - \"Kea DHCP\" {STATE_DIR} {shell}");
    let elf_paths: BTreeSet<&str> = input.installed.iter().filter(|i| matches!(&i.kind, Kind::File { elf: Some(_), .. })).map(|i| i.path.as_str()).collect();
    let mut specs = Vec::new();
    for (part, (mut files, mut links)) in parts {
        let name = package_name(prefix, part, format);
        let mut owned_dirs: BTreeSet<String> = BTreeSet::new();
        let mut dir_attrs = Vec::new();
        let mut unit = None;
        if part == Part::Common {
            let ctx = json!({ "package": name, "user": user, "home": STATE_DIR, "shell": shell, "dirs": dirs });
            files.push(FileEntry::new(sysusers.clone(), Source::Bytes(input.templates.render("runtime-sysusers.conf.j2", &ctx)?.into_bytes()), 0o644, FileRole::Plain));
            files.push(FileEntry::new(tmpfiles.clone(), Source::Bytes(input.templates.render("runtime-tmpfiles.conf.j2", &ctx)?.into_bytes()), 0o644, FileRole::Plain));
            owned_dirs.insert(CONFIG_DIR.to_string());
            dir_attrs.push(DirEntry { path: CONFIG_DIR.to_string(), mode: 0o750, group: Some(user.clone()) });
        }
        if let Some(d) = part.daemon() {
            let exec = files.iter().find(|f| f.path.rsplit('/').next() == Some(d.program) && !f.path.starts_with("/usr/share/")).map(|f| f.path.clone());
            if let Some(exec) = exec {
                // The unit the profile's runtime names (the guidance tells operators to restart
                // it), else the package's name.
                let unit_name = format!("{}.service", runtime.services.get(d.service).cloned().unwrap_or_else(|| name.clone()));
                // Kea 2.x's Control Agent configuration names a password file no package ships.
                let config = format!("{CONFIG_DIR}/{}.conf", d.program);
                let condition = match files.iter().find(|f| f.path == config).map(|f| &f.source) {
                    Some(Source::Path(p)) => std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?.contains("kea-api-password").then(|| format!("{CONFIG_DIR}/kea-api-password")),
                    _ => None,
                };
                let text = input.templates.render(
                    "runtime-unit.service.j2",
                    json!({
                        "title": d.title, "package": name, "program": d.program, "user": user, "capabilities": d.capabilities,
                        "socket_dir": dirs[0], "state_dir": STATE_DIR, "log_dir": LOG_DIR,
                        "exec": exec, "config": config, "condition": condition,
                    }),
                )?;
                files.push(FileEntry::new(format!("{}/{unit_name}", target.profile.unit_dir), Source::Bytes(text.into_bytes()), 0o644, FileRole::Plain));
                unit = Some(unit_name);
            }
        }
        let has_elf = files.iter().any(|f| elf_paths.contains(f.path.as_str()));
        // Ownership: every directory of its files and links at or below the first one whose
        // name speaks of Kea (/usr/lib64/kea, /usr/lib64/kea/hooks, /usr/share/kea/scripts/mysql),
        // never the system's (/usr/share/doc, /usr/lib/systemd/system).
        for path in files.iter().map(|f| f.path.as_str()).chain(links.iter().map(|l| l.path.as_str())) {
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            if let Some(first) = parts[..parts.len() - 1].iter().position(|c| c.contains("kea")) {
                for end in first + 1..parts.len() {
                    owned_dirs.insert(format!("/{}", parts[..end].join("/")));
                }
            }
        }
        // /etc/kea is 0750, root, Kea's group, in every package that has a file in it.
        if owned_dirs.contains(CONFIG_DIR) && !dir_attrs.iter().any(|d: &DirEntry| d.path == CONFIG_DIR) {
            dir_attrs.push(DirEntry { path: CONFIG_DIR.to_string(), mode: 0o750, group: Some(user.clone()) });
        }
        // Relations: what the binaries need, the exact common package, the user tools.
        let mut depends: Vec<Relation> = Vec::new();
        if part != Part::Common && part != Part::Doc {
            depends.push(Relation { name: common.clone(), constraint: Some((Op::Eq, full.clone())) });
        }
        for f in &files {
            depends.extend(input.library_depends.get(&f.path).into_iter().flatten().cloned());
        }
        let needs_user = part == Part::Common || unit.is_some();
        let ldconfig = files.iter().any(|f| f.path.starts_with(&format!("{libdir}/")) && f.path.contains(".so.") && !f.path.contains("/kea/"));
        if needs_user && format == Format::Deb {
            // useradd makes the service user where systemd-sysusers is absent.
            depends.push(Relation { name: "passwd".into(), constraint: None });
        }
        if unit.is_some() && format == Format::Deb {
            // deb-systemd-helper and deb-systemd-invoke, as debhelper's scripts use them.
            depends.push(Relation { name: "init-system-helpers".into(), constraint: Some((Op::Ge, "1.54~".into())) });
        }
        let mut conflicts = Vec::new();
        let mut replaces = Vec::new();
        for other in part.others(format) {
            if names.contains(*other) {
                continue;
            }
            conflicts.push(Relation { name: (*other).to_string(), constraint: None });
            if format == Format::Deb {
                replaces.push(Relation { name: (*other).to_string(), constraint: None });
            }
        }
        // Files a deb cannot give to a group before the group exists: set by the post-install script.
        let owned: Vec<serde_json::Value> = dir_attrs
            .iter()
            .map(|d| json!({ "path": d.path, "mode": format!("{:04o}", d.mode) }))
            .chain(files.iter().filter(|f| f.group.is_some()).map(|f| json!({ "path": f.path, "mode": format!("{:04o}", f.mode) })))
            .collect();
        let script = |moment: &str| -> Result<String> {
            input.templates.render(
                "runtime-script.sh.j2",
                json!({
                    "format": format.name(), "moment": moment, "package": name, "user": user, "home": STATE_DIR, "shell": shell,
                    "sysusers": sysusers, "sysusers_line": sysusers_line, "tmpfiles": if part == Part::Common { Some(&tmpfiles) } else { None },
                    "dirs": dirs, "owned": owned, "unit": unit, "make_user": needs_user, "ldconfig": ldconfig,
                }),
            )
        };
        let (pre_install, post_install, pre_remove, post_remove) = match format {
            Format::Deb if needs_user => (None, Some(script("post-install")?), unit.as_ref().map(|_| script("pre-remove")).transpose()?, Some(script("post-remove")?)),
            Format::Rpm if needs_user => (
                Some(script("pre-install")?),
                Some(script("post-install")?),
                unit.as_ref().map(|_| script("pre-remove")).transpose()?,
                (unit.is_some() || ldconfig).then(|| script("post-remove")).transpose()?,
            ),
            _ => (None, None, None, None),
        };
        if let Some(f) = files.iter().find(|f| f.path.contains("/site-packages/") || f.path.contains("/dist-packages/")) {
            // rpm: the Python ABI the module was installed for (/usr/lib/python3.9/…), as
            // rpm's own generator requires it; else (deb, or Debian's python3 path) python3.
            let abi = f.path.split('/').find_map(|c| c.strip_prefix("python3.")).filter(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()));
            depends.push(match (format, abi) {
                (Format::Rpm, Some(minor)) => Relation { name: "python(abi)".into(), constraint: Some((Op::Eq, format!("3.{minor}"))) },
                _ => Relation { name: "python3".into(), constraint: None },
            });
        }
        // Architecture-independent: nothing built for a machine and nothing in the library
        // directory (the development package's links are per architecture).
        let in_libdir = files.iter().map(|f| &f.path).chain(links.iter().map(|l| &l.path)).any(|p| p.starts_with(&format!("{libdir}/")));
        let arch_independent = !has_elf && !in_libdir && part != Part::Common && unit.is_none();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        links.sort_by(|a, b| a.path.cmp(&b.path));
        let mut spec = PackageSpec {
            format,
            name: name.clone(),
            version: version.clone(),
            revision: revision.clone(),
            arch: if arch_independent { if format == Format::Deb { "all".into() } else { "noarch".into() } } else { target.arch.clone() },
            summary: part.summary(input.kea_version),
            description: crate::plan::wrap(&format!("{}\n\nBuilt by keapack from the Kea {} sources, as one of Kea's own packages (runtime \"own\"): every package of this Kea has the same version.", part.description(), input.kea_version), 76),
            maintainer: pkg.maintainer.clone(),
            homepage: pkg.homepage.clone(),
            license: "MPL-2.0".into(),
            section: match (format, part) {
                (Format::Deb, Part::Dev) => "libdevel".into(),
                (Format::Deb, Part::Doc) => "doc".into(),
                (Format::Deb, _) => "net".into(),
                // The historical Red Hat group of development packages.
                (Format::Rpm, Part::Dev) => "Development/Libraries".into(),
                (Format::Rpm, _) => crate::plan::RPM_GROUP.into(),
            },
            depends: crate::plan::relation::merge(format, depends),
            conflicts,
            replaces,
            files,
            links,
            owned_dirs: owned_dirs.into_iter().collect(),
            dir_attrs,
            pre_install,
            post_install,
            pre_remove,
            post_remove,
            deb_control: Vec::new(),
            changelog: vec![ChangelogEntry {
                version: full.clone(),
                author: pkg.maintainer.clone(),
                time: input.epoch,
                text: crate::plan::wrap(&format!("Kea {} ({}), packaged by keapack.", input.kea_version, part.suffix()), 72),
            }],
            mtime: input.epoch,
            compression: pkg.compression.unwrap_or(target.profile.compression),
        };
        if format == Format::Deb {
            spec.deb_control = shared_library_members(&spec, &full);
        }
        add_docs(&mut spec, input)?;
        specs.push(spec);
    }
    Ok(Split { specs, left })
}

/// The copyright (deb) or license (rpm) file, the Debian changelog and the lintian overrides
/// of a runtime package: Kea's license, placed as every package's (`plan::place_required_docs`).
fn add_docs(spec: &mut PackageSpec, input: &RuntimeInput) -> Result<()> {
    let copyright = input.templates.render(
        "runtime-copyright.j2",
        json!({
            "copyright_years": crate::plan::copyright_years(input.epoch),
            "homepage": input.package.homepage,
            "kea_version": input.kea_version.to_string(),
            "family": spec.format.name(),
        }),
    )?;
    let extra = if spec.format == Format::Deb { runtime_overrides(spec)? } else { String::new() };
    crate::plan::place_required_docs(spec, copyright, &extra);
    Ok(())
}

/// A package holding shared libraries in the library directory tells dpkg-shlibdeps which
/// package provides each SONAME (`shlibs`: `libkea-log 35 <package> (= <version>)`, as
/// `dh_makeshlibs -V` writes it) and runs ldconfig when installed or removed (`triggers`).
fn shared_library_members(spec: &PackageSpec, full: &str) -> Vec<(String, String)> {
    let mut shlibs = String::new();
    for link in &spec.links {
        let name = link.path.rsplit('/').next().unwrap_or(&link.path);
        // The SONAME link: libkea-log.so.35 (libkea-util-io.so.0).
        if let Some((lib, major)) = name.rsplit_once(".so.")
            && !major.contains('.')
            && name.starts_with("lib")
        {
            shlibs.push_str(&format!("{lib} {major} {} (= {full})\n", spec.name));
        }
    }
    if shlibs.is_empty() {
        return Vec::new();
    }
    vec![("shlibs".into(), shlibs), ("triggers".into(), "activate-noawait ldconfig\n".into())]
}

/// The lintian tags a runtime package draws for a reason, each overridden exactly with the
/// reason written above it (`/usr/share/lintian/overrides/<package>`).
fn runtime_overrides(spec: &PackageSpec) -> Result<String> {
    let pkg = &spec.name;
    let mut out = String::new();
    let rel = |p: &str| p.trim_start_matches('/').to_string();
    let libs: Vec<&str> = spec.files.iter().map(|f| f.path.as_str()).filter(|p| p.rsplit('/').next().is_some_and(|n| n.starts_with("libkea-") && n.contains(".so."))).collect();
    if libs.len() > 1 {
        out.push_str("# Kea releases its libraries together and they are used together: one package holds
# them all, as Debian's kea-common does, not one package per SONAME.
");
        out.push_str(&format!("{pkg}: package-name-doesnt-match-sonames *
"));
    }
    let secret: Vec<String> = spec
        .dir_attrs
        .iter()
        .map(|d| format!("{pkg}: non-standard-dir-perm {:04o} != 0755 [{}/]", d.mode, rel(&d.path)))
        .chain(spec.files.iter().filter(|f| f.group.is_some() && f.mode != 0o644).map(|f| format!("{pkg}: non-standard-file-perm {:04o} != 0644 [{}]", f.mode, rel(&f.path))))
        .collect();
    if !secret.is_empty() {
        out.push_str("# Kea's configuration can hold secrets (database and API passwords): root owns it and
# only Kea's service group reads it, never everyone.
");
        out.extend(secret.into_iter().map(|l| l + "
"));
    }
    let mut sourced = Vec::new();
    for f in &spec.files {
        if f.path.starts_with("/usr/share/kea/scripts/") && f.mode & 0o111 == 0
            && let Source::Path(p) = &f.source
            && std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?.starts_with(b"#!")
        {
            sourced.push(format!("{pkg}: script-not-executable [{}]
", rel(&f.path)));
        }
    }
    if !sourced.is_empty() {
        out.push_str("# Read by kea-admin (sourced, or fed to the database client), not run: installed as
# Kea's make install installs it.
");
        out.extend(sourced);
    }
    if spec.files.iter().any(|f| f.path.contains("/html/_static/")) {
        out.push_str("# Kea's HTML manual as Kea's build made it, readable without a network: its scripts and
# fonts are the ones that manual was built with.
");
        out.push_str(&format!("{pkg}: embedded-javascript-library *
{pkg}: duplicate-font-file *
"));
    }
    Ok(out)
}

/// The packages a run with `runtime = "own"` is expected to write, before anything is built
/// (`--dry-run`, the rehearsal), each with whether it is certain: the parts every Kea has, the
/// Control Agent up to 3.1.7, the development package when asked, and the database back ends,
/// certain when the configure or meson options ask for them (a Kea tree may build them by
/// default). The run itself writes the parts the build installed.
pub fn expected_parts(kea: &KeaVersion, options: &[String], dev: bool) -> Vec<(Part, bool)> {
    let mut parts = vec![(Part::Common, true), (Part::Dhcp4, true), (Part::Dhcp6, true), (Part::DhcpDdns, true)];
    if !kea.at_least(3, 1, 8) {
        parts.push((Part::CtrlAgent, true));
    }
    parts.extend([(Part::Admin, true), (Part::Hooks, true)]);
    let asked = |word: &str| options.iter().any(|o| o.starts_with(&format!("--with-{word}")) || o == &format!("-D{word}=enabled"));
    parts.push((Part::Mysql, asked("mysql")));
    parts.push((Part::Pgsql, asked("pgsql")));
    if dev {
        parts.push((Part::Dev, true));
    }
    parts.push((Part::Doc, true));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::profile::Profiles;

    fn installed(path: &str, kind: Kind) -> Installed {
        Installed { path: path.into(), kind }
    }

    #[test]
    fn a_build_without_keas_libraries_is_refused() {
        let mut target = Profiles::builtin().target("debian-12-amd64").unwrap();
        target.name_own_runtime("keapack-kea").unwrap();
        let package = PackageSection { runtime: RuntimeStyle::Own, ..PackageSection::default() };
        let stage = [installed("/usr/sbin/kea-dhcp4", Kind::File { source: "/nonexistent".into(), mode: 0o755, elf: None })];
        let input = RuntimeInput {
            package: &package,
            kea_version: &KeaVersion::new(2, 2, 0),
            installed: &stage,
            premium: &BTreeSet::new(),
            target: &target,
            epoch: 0,
            templates: &Templates::builtin(),
            library_depends: &BTreeMap::new(),
        };
        let e = plan_runtime(&input).unwrap_err().to_string();
        assert!(e.contains("installed none of Kea's libraries") && e.contains("full build of a real Kea tree"), "{e}");
    }

    #[test]
    fn each_path_has_its_place() {
        let lib = "/usr/lib/x86_64-linux-gnu";
        let premium: BTreeSet<String> = [format!("{lib}/kea/hooks/libdhcp_host_cmds.so")].into();
        let file = |p: &str| installed(p, Kind::File { source: "/nonexistent".into(), mode: 0o644, elf: None });
        let link = |p: &str, t: &str| installed(p, Kind::Link { target: t.into() });
        for (item, dev, want) in [
            (file(&format!("{lib}/libkea-log.so.35.0.0")), false, Placement::In(Part::Common)),
            (link(&format!("{lib}/libkea-log.so"), "libkea-log.so.35.0.0"), false, Placement::Left("development files: write them with runtime-dev = true")),
            (link(&format!("{lib}/libkea-log.so"), "libkea-log.so.35.0.0"), true, Placement::In(Part::Dev)),
            (file(&format!("{lib}/kea/hooks/libdhcp_host_cmds.so")), false, Placement::Left("a premium hook: the run's hooks package holds it")),
            (link(&format!("{lib}/kea/hooks/libca_rbac.so"), "libdhcp_host_cmds.so"), false, Placement::Left("a link to a premium hook: the run's hooks package holds the hook")),
            (file(&format!("{lib}/kea/hooks/libdhcp_mysql_cb.so")), false, Placement::In(Part::Mysql)),
            (file(&format!("{lib}/kea/hooks/libdhcp_ha.so")), false, Placement::In(Part::Hooks)),
            (file("/usr/sbin/kea-lfc"), false, Placement::In(Part::Common)),
            (file("/usr/sbin/kea-dhcp-ddns"), false, Placement::In(Part::DhcpDdns)),
            (file("/etc/kea/kea-ctrl-agent.conf"), false, Placement::In(Part::CtrlAgent)),
            (file("/etc/kea/keactrl.conf"), false, Placement::In(Part::Admin)),
            (file("/usr/share/man/man8/kea-dhcp4.8"), false, Placement::In(Part::Dhcp4)),
            (file("/usr/share/kea/scripts/mysql/dhcpdb_create.mysql"), false, Placement::In(Part::Admin)),
            (file("/usr/lib/python3/dist-packages/kea/kea_conn.py"), false, Placement::In(Part::Admin)),
            (file("/usr/share/doc/kea/html/.buildinfo"), false, Placement::Left("the documentation build's own bookkeeping (Sphinx), not documentation")),
            (file("/var/lib/kea/kea-leases4.csv"), false, Placement::Left("made by the units and tmpfiles.d, owned by the service user")),
            (file("/usr/include/kea/log/logger.h"), true, Placement::In(Part::Dev)),
        ] {
            assert_eq!(place(&item, lib, &premium, dev), want, "{}", item.path);
        }
    }
}

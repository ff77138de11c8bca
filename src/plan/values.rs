//! The trust boundary for the values of a manifest, a distribution profile and the hooks catalog.
//!
//! Every string a manifest (`keapack.toml`), a profile (`packaging/profiles/*.toml`, or a
//! manifest's `[profile.<id>]`) or the hooks catalog (`packaging/hooks.toml`) holds becomes
//! something: a path `make install` writes under, a word in a maintainer script root runs, a
//! package or systemd unit name, a line of a control file. Each is checked here, when the file is
//! parsed and before any work, by what it becomes (a table of key → rule), so `keapack build
//! --dry-run` refuses it too. A string whose key has no rule of its own must be one line
//! without control characters. A refusal names the file, the line, the key, the rule and the fix.
//!
//! The checks read the TOML text itself (toml's spans give the line), so they run whatever
//! struct the text is deserialized into afterwards; [`check_value_of`] checks one value that
//! comes from elsewhere (a profile's file name).

use std::fmt::Write as _;
use toml::de::{DeTable, DeValue};

/// A rule a value must follow: what it must be, and a fix that always satisfies it.
pub(crate) struct Rule {
    /// Completes "must be …".
    pub what: &'static str,
    /// An example of a valid value, or what to do.
    pub fix: &'static str,
    check: fn(&str) -> bool,
}

impl Rule {
    fn check(&self, value: &str) -> bool {
        (self.check)(value)
    }
}

/// The longest value of any single-line key: longer ones are a mistake, not a name.
const MAX_LINE: usize = 200;
/// The longest multi-line text (a license's terms).
const MAX_TEXT: usize = 64 * 1024;

fn chars_in(v: &str, extra: &str) -> bool {
    v.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

fn one_line(v: &str) -> bool {
    !v.trim().is_empty() && v.len() <= MAX_LINE && !v.chars().any(char::is_control)
}

/// The one reader of each package-name grammar, for manifests, profiles and `publish`: the
/// rule a name breaks, or `Ok`.
/// Debian policy 5.6.7: lower case letters, digits, `+`, `-`, `.`; at least two characters;
/// starting with a letter or digit.
pub(crate) fn debian_package_name(name: &str) -> Result<(), String> {
    if name.len() < 2 || name.len() > 128 {
        return Err("a package name is 2 to 128 characters".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err("a package name starts with a lower case letter or a digit".into());
    }
    if let Some(c) = name.chars().find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' || c == '.')) {
        return Err(format!("a package name is lower case letters, digits, '+', '-' and '.', not {}", crate::support::text::shown(&c.to_string())));
    }
    Ok(())
}

/// rpm package names: letters, digits and `-._+`, starting with a letter, digit or `_`.
pub(crate) fn rpm_package_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err("a name is 1 to 128 characters".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err("a name starts with a letter, a digit or '_'".into());
    }
    if let Some(c) = name.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '+'))) {
        return Err(format!("a name is letters, digits, '-', '.', '_' and '+', not {}", crate::support::text::shown(&c.to_string())));
    }
    Ok(())
}

fn debian_name(v: &str) -> bool {
    debian_package_name(v).is_ok()
}

fn rpm_name(v: &str) -> bool {
    rpm_package_name(v).is_ok()
}

/// An absolute path: `/`-separated components of letters, digits and `. _ + -`, none `.` or
/// `..`, no empty component (`//`), no trailing `/`.
fn clean_absolute(v: &str) -> Option<Vec<&str>> {
    let rest = v.strip_prefix('/')?;
    let parts: Vec<&str> = rest.split('/').collect();
    let ok = v.len() <= MAX_LINE && parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && chars_in(p, "._+-") && !p.starts_with('-'));
    ok.then_some(parts)
}

fn libdir(v: &str) -> bool {
    clean_absolute(v).is_some_and(|p| p.len() >= 2 && p[0] == "usr" && p[1].strip_prefix("lib").is_some_and(|s| chars_in(s, "_")))
}

fn socket_dir(v: &str) -> bool {
    clean_absolute(v).is_some_and(|p| matches!(p.as_slice(), ["run", _, ..] | ["var", "run", _, ..]))
}

fn relative_file(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_LINE
        && v.split('/').all(|p| !p.is_empty() && p != "." && p != ".." && chars_in(p, "._+-") && !p.starts_with('-'))
}

fn url(v: &str) -> bool {
    let rest = ["https://", "http://", "file:///"].iter().find_map(|s| v.strip_prefix(s));
    rest.is_some_and(|r| !r.is_empty() && v.len() <= MAX_LINE && chars_in(r, "-._~/:@%+,=?"))
}

/// A value an option carries: no blank, quote or shell metacharacter.
fn option_value(v: &str) -> bool {
    v.len() <= MAX_LINE && chars_in(v, "-._/:,+=@%")
}

fn configure_option(v: &str) -> bool {
    let Some(body) = v.strip_prefix("--") else { return false };
    let (name, value) = body.split_once('=').unwrap_or((body, ""));
    !name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric()) && chars_in(name, "-_") && option_value(value)
}

fn meson_option(v: &str) -> bool {
    if let Some(body) = v.strip_prefix("-D") {
        let Some((name, value)) = body.split_once('=') else { return false };
        return !name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphanumeric()) && chars_in(name, "-_.:") && option_value(value);
    }
    configure_option(v)
}

fn maintainer(v: &str) -> bool {
    let Some((name, rest)) = v.split_once(" <") else { return false };
    let Some(mail) = rest.strip_suffix('>') else { return false };
    one_line(v) && !name.trim().is_empty() && !name.contains(['<', '>']) && mail.contains('@') && !mail.starts_with('@') && !mail.ends_with('@') && chars_in(mail, "-._+@")
}

fn text(v: &str) -> bool {
    !v.trim().is_empty() && v.len() <= MAX_TEXT && !v.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

pub(crate) static ONE_LINE: Rule = Rule { what: "one line of text without control characters, at most 200 bytes", fix: "write it on one line", check: one_line };
/// Free text in the catalog, which may be empty (a placeholder).
static CATALOG_TEXT: Rule = Rule { what: "one line of text without control characters, at most 2000 bytes", fix: "write it on one line", check: |v| v.len() <= 2000 && !v.chars().any(char::is_control) };
pub(crate) static TEXT: Rule = Rule { what: "text without control characters other than newlines and tabs, not empty, at most 64 KiB", fix: "remove the control characters", check: text };
pub(crate) static DEB_NAME: Rule = Rule {
    what: "a Debian package name (Debian policy 5.6.1: at least two characters, lowercase letters, digits, + - ., starting with a letter or digit)",
    fix: "e.g. kea-premium-hooks",
    check: debian_name,
};
pub(crate) static RPM_NAME: Rule = Rule { what: "an rpm package name (letters, digits, - _ + ., starting with a letter, digit or _)", fix: "e.g. kea-libs", check: rpm_name };
pub(crate) static REVISION: Rule = Rule { what: "a Debian revision that is also an rpm release: letters, digits, + . ~, at most 40", fix: "e.g. 1", check: |v| v.len() <= 40 && crate::plan::manifest::check_revision(v).is_ok() };
static DIST_TAG: Rule = Rule { what: "empty or letters, digits, + . ~ (appended to the revision)", fix: "e.g. +deb12 or .el9", check: |v| v.len() <= 40 && chars_in(v, "+.~") };
pub(crate) static UNIT: Rule = Rule {
    what: "a systemd unit name: letters, digits, : _ . @ -, not starting with - or ., at most 255 characters",
    fix: "e.g. kea-dhcp4-server",
    check: |v| !v.is_empty() && v.len() <= 255 && !v.starts_with(['-', '.']) && chars_in(v, ":_.@-"),
};
pub(crate) static USER: Rule = Rule {
    what: "a POSIX user name: letters, digits, _ . -, starting with a letter or _, at most 32 characters",
    fix: "e.g. _kea or kea",
    check: |v| !v.is_empty() && v.len() <= 32 && v.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && chars_in(v, "_.-"),
};
pub(crate) static SOCKET_DIR: Rule = Rule {
    what: "an absolute, normalized path under /run or /var/run (components of letters, digits, . _ + -; no .., no //, no trailing /)",
    fix: "e.g. /run/kea",
    check: socket_dir,
};
pub(crate) static LIBDIR: Rule = Rule {
    what: "an absolute, normalized path under /usr/lib* (components of letters, digits, . _ + -; no .., no //, no trailing /)",
    fix: "e.g. /usr/lib/x86_64-linux-gnu or /usr/lib64",
    check: libdir,
};
static ELF_MACHINE: Rule = Rule { what: "an ELF machine name: lowercase letters, digits, _", fix: "e.g. x86_64 or aarch64", check: |v| !v.is_empty() && v.len() <= 40 && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') };
static ARCH: Rule = Rule { what: "an architecture name: lowercase letters, digits, _", fix: "e.g. amd64 or x86_64", check: |v| !v.is_empty() && v.len() <= 40 && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') };
pub(crate) static PROFILE_ID: Rule = Rule {
    what: "a profile id: lowercase letters, digits, . + -, starting with a letter or digit",
    fix: "e.g. acme-linux-5",
    check: |v| !v.is_empty() && v.len() <= 64 && v.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c)),
};
static TARGET: Rule = Rule {
    what: "a target: a profile id and an architecture (lowercase letters, digits, . + - _)",
    fix: "e.g. debian-12-amd64",
    check: |v| !v.is_empty() && v.len() <= 100 && v.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-_".contains(c)),
};
static WORD: Rule = Rule { what: "a word of lowercase letters, digits, _ -", fix: "e.g. dhcp4", check: |v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c)) };
static OS_RELEASE: Rule = Rule { what: "an os-release ID or VERSION_ID: lowercase letters, digits, . _ -", fix: "e.g. debian, 12, 24.04", check: |v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)) };
static CODENAME: Rule = Rule { what: "a release codename: lowercase letters, digits, -, starting with a letter", fix: "e.g. bookworm", check: |v| v.starts_with(|c: char| c.is_ascii_lowercase()) && v.len() <= 64 && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') };
static IMAGE: Rule = Rule { what: "a container image reference: lowercase letters, digits, . _ / : @ -", fix: "e.g. debian:bookworm", check: |v| !v.is_empty() && v.len() <= MAX_LINE && v.starts_with(|c: char| c.is_ascii_alphanumeric()) && v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/:@-".contains(c)) };
pub(crate) static MAINTAINER: Rule = Rule { what: "one line \"Name <address@domain>\" (Debian policy 5.6.2)", fix: "e.g. Release Team <release@example.org>", check: maintainer };
pub(crate) static URL: Rule = Rule { what: "an http://, https:// or file:/// URL without blanks, quotes or shell metacharacters", fix: "e.g. https://www.isc.org/kea/", check: url };
pub(crate) static LICENSE: Rule = Rule { what: "an SPDX license expression: letters, digits, . + - : ( ) and blanks, one line", fix: "e.g. LicenseRef-ISC-Premium or MPL-2.0", check: |v| one_line(v) && chars_in(v, ".+-:() ") };
pub(crate) static SECTION: Rule = Rule { what: "a Debian section: lowercase letters, digits, -, optionally after an area and / (contrib/net)", fix: "e.g. net", check: |v| !v.is_empty() && v.len() <= 64 && v.split('/').count() <= 2 && v.split('/').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')) };
pub(crate) static CHANGELOG_FILE: Rule = Rule {
    what: "a file in the manifest's directory or below it: a relative, normalized path (components of letters, digits, . _ + -; no .., no //, not absolute)",
    fix: "e.g. changelog.toml or debian/changelog.toml",
    check: relative_file,
};
pub(crate) static CONFIGURE_OPTION: Rule = Rule {
    what: "a configure option --name or --name=value (name: letters, digits, - _; value: letters, digits, - . _ / : , + = @ %; no blank, quote or shell metacharacter)",
    fix: "e.g. --with-mysql or --with-pgsql=/usr/bin/pg_config",
    check: configure_option,
};
pub(crate) static MESON_OPTION: Rule = Rule {
    what: "a meson option -Dname=value or --name=value (value: letters, digits, - . _ / : , + = @ %; no blank, quote or shell metacharacter)",
    fix: "e.g. -Dmysql=enabled",
    check: meson_option,
};
static CATALOG_LIBRARY: Rule = Rule { what: "a hook library file name lib<name>.so (lowercase letters, digits, _)", fix: "e.g. libdhcp_host_cmds.so", check: |v| v.strip_prefix("lib").and_then(|s| s.strip_suffix(".so")).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')) };
static FILE_NAME: Rule = Rule { what: "a file name: letters, digits, . _ -, not starting with . or -", fix: "e.g. kea-dhcp4.conf", check: |v| !v.is_empty() && v.len() <= 100 && !v.starts_with(['.', '-']) && chars_in(v, "._-") };
static CONFIG_KEY: Rule = Rule { what: "a Kea configuration key: letters, digits, -", fix: "e.g. Dhcp4", check: |v| !v.is_empty() && v.len() <= 64 && chars_in(v, "-") };
static MESSAGE_ID: Rule = Rule { what: "a Kea log message id: uppercase letters, digits, _", fix: "e.g. HOST_CMDS_INIT_OK", check: |v| !v.is_empty() && v.len() <= 100 && v.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') };

static FAMILY: Rule = Rule { what: "a package family: deb or rpm", fix: "e.g. deb", check: |v| matches!(v, "deb" | "rpm") };
static COMPRESSION: Rule = Rule { what: "a compression: gzip, xz, zstd or none", fix: "e.g. xz", check: |v| matches!(v, "gzip" | "xz" | "zstd" | "none") };
static BOOTSTRAP: Rule = Rule { what: "a way to make a build root: debootstrap", fix: "e.g. debootstrap", check: |v| v == "debootstrap" };
/// Where a release's packages put systemd units: the unit directories systemd reads packages'
/// units from, nothing else (the path goes into packages as a file name).
static UNIT_DIR: Rule = Rule {
    what: "a systemd unit directory for packages: /usr/lib/systemd/system or /lib/systemd/system",
    fix: "e.g. /lib/systemd/system for Debian 12 and older",
    check: |v| v == "/usr/lib/systemd/system" || v == "/lib/systemd/system",
};
static ABSOLUTE_PATH: Rule = Rule {
    what: "an absolute, normalized path (components of letters, digits, . _ + -; no .., no //, no trailing /)",
    fix: "e.g. /usr/share/keyrings/devuan-archive-keyring.gpg or /debian",
    check: |v| clean_absolute(v).is_some(),
};
static KEYRING: Rule = Rule {
    what: "an OpenPGP keyring file in /usr/share/keyrings, /etc/apt/keyrings or /etc/apt/trusted.gpg.d (an absolute, normalized path)",
    fix: "e.g. /usr/share/keyrings/devuan-archive-keyring.gpg",
    check: |v| clean_absolute(v).is_some_and(|p| matches!(p.as_slice(), ["usr", "share", "keyrings", _] | ["etc", "apt", "keyrings" | "trusted.gpg.d", _])),
};
static SUITE: Rule = Rule {
    what: "an apt suite: lowercase letters, digits, . _ -, and {codename} for the release's codename",
    fix: "e.g. {codename}-updates",
    check: |v| !v.is_empty() && v.len() <= 64 && v.replace("{codename}", "x").chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)),
};

/// A rule for every package name, chosen by the profile's family.
enum Kind {
    Value(&'static Rule),
    /// The package-name grammar of the enclosing profile's `family`.
    PackageName,
}

/// The keys of a profile (relative to the profile's table) and their rules. Keys of tables
/// whose names are chosen by the file (`arch.<name>`) are matched by `*`.
const PROFILE_VALUES: &[(&str, Kind)] = &[
    ("name", Kind::Value(&ONE_LINE)),
    ("family", Kind::Value(&FAMILY)),
    ("compression", Kind::Value(&COMPRESSION)),
    ("extends", Kind::Value(&PROFILE_ID)),
    ("build-deps.*", Kind::PackageName),
    ("build-root.bootstrap", Kind::Value(&BOOTSTRAP)),
    ("build-root.mirror", Kind::Value(&URL)),
    ("build-root.keyring", Kind::Value(&KEYRING)),
    ("build-root.components", Kind::Value(&WORD)),
    ("build-root.suites", Kind::Value(&SUITE)),
    ("build-root.host-mirror-suffix", Kind::Value(&ABSOLUTE_PATH)),
    ("build-root.beside.mirror-suffix", Kind::Value(&ABSOLUTE_PATH)),
    ("build-root.beside.archive-suffix", Kind::Value(&ABSOLUTE_PATH)),
    ("build-root.beside.suites", Kind::Value(&SUITE)),
    ("os-id", Kind::Value(&OS_RELEASE)),
    ("os-version-id", Kind::Value(&OS_RELEASE)),
    ("codename", Kind::Value(&CODENAME)),
    ("dist-tag", Kind::Value(&DIST_TAG)),
    ("container-image", Kind::Value(&IMAGE)),
    ("runtime.*.common", Kind::PackageName),
    ("runtime.*.services.*", Kind::Value(&UNIT)),
    ("runtime.*.socket-dir", Kind::Value(&SOCKET_DIR)),
    ("runtime.*.user", Kind::Value(&USER)),
    ("unit-dir", Kind::Value(&UNIT_DIR)),
    ("arch.*.elf-machine", Kind::Value(&ELF_MACHINE)),
    ("arch.*.libdir", Kind::Value(&LIBDIR)),
];

/// Table keys a file chooses, and the rule for the key itself.
const PROFILE_KEYS: &[(&str, &Rule)] = &[("arch.*", &ARCH), ("runtime.*.services.*", &WORD)];

const MANIFEST_VALUES: &[(&str, Kind)] = &[
    ("targets", Kind::Value(&TARGET)),
    ("package.name", Kind::Value(&DEB_NAME)),
    ("package.revision", Kind::Value(&REVISION)),
    ("package.maintainer", Kind::Value(&MAINTAINER)),
    ("package.homepage", Kind::Value(&URL)),
    ("package.license", Kind::Value(&LICENSE)),
    ("package.license-text", Kind::Value(&TEXT)),
    ("package.section", Kind::Value(&SECTION)),
    ("package.per-hook-prefix", Kind::Value(&DEB_NAME)),
    ("package.changelog", Kind::Value(&CHANGELOG_FILE)),
    ("build.configure-options", Kind::Value(&CONFIGURE_OPTION)),
    ("build.meson-options", Kind::Value(&MESON_OPTION)),
    ("build.mirror", Kind::Value(&URL)),
    ("build.root-packages", Kind::Value(&DEB_NAME)),
];

const CATALOG_VALUES: &[(&str, Kind)] = &[
    ("daemon.*.process", Kind::Value(&WORD)),
    ("daemon.*.config", Kind::Value(&FILE_NAME)),
    ("daemon.*.key", Kind::Value(&CONFIG_KEY)),
    ("daemon.*.socket", Kind::Value(&FILE_NAME)),
    ("hook.name", Kind::Value(&WORD)),
    ("hook.aliases", Kind::Value(&WORD)),
    ("hook.library", Kind::Value(&CATALOG_LIBRARY)),
    ("hook.daemons", Kind::Value(&WORD)),
    ("hook.commands", Kind::Value(&WORD)),
    ("hook.load-message", Kind::Value(&MESSAGE_ID)),
    ("hook.load-error", Kind::Value(&MESSAGE_ID)),
    ("hook.mandatory.name", Kind::Value(&WORD)),
];

const CATALOG_KEYS: &[(&str, &Rule)] = &[("daemon.*", &WORD)];

/// What kind of file a text is: which table of rules applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Manifest,
    Profile,
    Catalog,
}

/// A value refused: where, which key, which rule.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub origin: String,
    pub line: usize,
    pub key: String,
    pub value: String,
    pub what: &'static str,
    pub fix: &'static str,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}: line {}: ", self.origin, self.line)?;
        } else {
            write!(f, "{}: ", self.origin)?;
        }
        write!(f, "{} = {} is refused: it must be {}. Fix: {}", self.key, shown(&self.value), self.what, self.fix)
    }
}

impl std::error::Error for Refusal {}

/// A value as an error message shows it: quoted, control characters escaped, cut at 60 characters.
pub(crate) fn shown(value: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in value.chars().enumerate() {
        if i == 60 {
            let _ = write!(out, "…({} bytes)", value.len());
            break;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "{}", c.escape_default());
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// A TOML parse error as "origin: line N, column M: message", without the text of the line
/// (which may be the content of a file that is not TOML at all).
pub(crate) fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> anyhow::Error {
    match e.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            let start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
            let column = text.get(start..span.start.min(text.len())).map_or(1, |s| s.chars().count() + 1);
            anyhow::anyhow!("{origin}: line {line}, column {column}: {}", e.message().trim_end())
        }
        None => anyhow::anyhow!("{origin}: {}", e.message().trim_end()),
    }
}

/// Check every string of `text` (a file of `kind`) by its key's rule. TOML errors are left to
/// the deserializer that follows, which reports them with the line.
pub(crate) fn check_text(text: &str, origin: &str, kind: FileKind) -> Result<(), Refusal> {
    let Ok(doc) = DeTable::parse(text) else { return Ok(()) };
    let mut walk = Walk { text, origin, kind, family: None };
    walk.table(doc.get_ref(), &mut Vec::new())
}

/// Check one value that does not come from a file's text (a profile's file name, a
/// command-line override) by `rule`; the refusal names `key` and `origin`, with no line.
pub(crate) fn check_value_of(key: &str, value: &str, rule: &'static Rule, origin: &str) -> Result<(), Refusal> {
    if rule.check(value) {
        return Ok(());
    }
    Err(Refusal { origin: origin.to_string(), line: 0, key: key.to_string(), value: value.to_string(), what: rule.what, fix: rule.fix })
}

fn matches(pattern: &str, path: &[&str]) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    p.len() == path.len() && p.iter().zip(path).all(|(a, b)| *a == "*" || a == b)
}

/// `path` relative to a profile's table, when it lies in one: the whole path in a profile
/// file, below `profile.<id>` in a manifest.
fn in_profile<'p>(kind: FileKind, path: &'p [&'p str]) -> Option<&'p [&'p str]> {
    match kind {
        FileKind::Profile => Some(path),
        FileKind::Manifest if path.len() >= 2 && path[0] == "profile" => Some(&path[2..]),
        _ => None,
    }
}

fn value_rule(kind: FileKind, path: &[&str], family: Option<&str>) -> &'static Rule {
    let pick = |k: &Kind| match k {
        Kind::Value(r) => *r,
        Kind::PackageName => {
            if family == Some("rpm") {
                &RPM_NAME
            } else {
                &DEB_NAME
            }
        }
    };
    if let Some(rel) = in_profile(kind, path) {
        return PROFILE_VALUES.iter().find(|(p, _)| matches(p, rel)).map_or(&ONE_LINE, |(_, k)| pick(k));
    }
    let table = match kind {
        FileKind::Catalog => CATALOG_VALUES,
        _ => MANIFEST_VALUES,
    };
    match table.iter().find(|(p, _)| matches(p, path)) {
        Some((_, k)) => pick(k),
        None if kind == FileKind::Catalog => &CATALOG_TEXT,
        None => &ONE_LINE,
    }
}

fn key_rule(kind: FileKind, path: &[&str]) -> Option<&'static Rule> {
    if kind == FileKind::Manifest && path.len() == 2 && path[0] == "profile" {
        return Some(&PROFILE_ID);
    }
    if let Some(rel) = in_profile(kind, path) {
        return PROFILE_KEYS.iter().find(|(p, _)| matches(p, rel)).map(|(_, r)| *r);
    }
    if kind == FileKind::Catalog {
        return CATALOG_KEYS.iter().find(|(p, _)| matches(p, path)).map(|(_, r)| *r);
    }
    None
}

struct Walk<'a> {
    text: &'a str,
    origin: &'a str,
    kind: FileKind,
    /// The `family` of the profile being walked.
    family: Option<String>,
}

impl Walk<'_> {
    fn refuse(&self, span: std::ops::Range<usize>, path: &[&str], value: &str, rule: &'static Rule) -> Refusal {
        Refusal { origin: self.origin.to_string(), line: line_of(self.text, span.start), key: path.join("."), value: value.to_string(), what: rule.what, fix: rule.fix }
    }

    fn table<'k>(&mut self, t: &'k DeTable<'_>, path: &mut Vec<&'k str>) -> Result<(), Refusal> {
        // A profile's family decides its package-name grammar: read it before the rest.
        if in_profile(self.kind, path).is_some_and(<[_]>::is_empty) {
            self.family = t.iter().find(|(k, _)| k.get_ref() == "family").and_then(|(_, v)| match v.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                _ => None,
            });
        }
        // In the order of the file, so the first refusal is the first line at fault.
        let mut entries: Vec<_> = t.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (k, v) in entries {
            path.push(k.get_ref().as_ref());
            if let Some(rule) = key_rule(self.kind, path)
                && !rule.check(k.get_ref())
            {
                let mut at: Vec<&str> = path.clone();
                at.pop();
                at.push("<key>");
                return Err(self.refuse(k.span(), &at, k.get_ref(), rule));
            }
            self.value(v.get_ref(), v.span(), path)?;
            path.pop();
        }
        Ok(())
    }

    fn value<'k>(&mut self, v: &'k DeValue<'_>, span: std::ops::Range<usize>, path: &mut Vec<&'k str>) -> Result<(), Refusal> {
        match v {
            DeValue::String(s) => {
                let rule = value_rule(self.kind, path, self.family.as_deref());
                if !rule.check(s) {
                    return Err(self.refuse(span, path, s, rule));
                }
            }
            DeValue::Array(items) => {
                for item in items.iter() {
                    self.value(item.get_ref(), item.span(), path)?;
                }
            }
            DeValue::Table(t) => self.table(t, path)?,
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_files_follow_their_rules() {
        check_text(crate::plan::manifest::EXAMPLE, "example", FileKind::Manifest).unwrap();
        check_text(crate::plan::catalog::BUILTIN, "hooks.toml", FileKind::Catalog).unwrap();
    }

    #[test]
    fn paths_are_absolute_normalized_and_under_their_roots() {
        for ok in ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/lib32/x"] {
            assert!(LIBDIR.check(ok), "{ok}");
        }
        for bad in ["usr/lib", "/usr/lib/", "/usr//lib", "/usr/lib/../etc", "/usr/lib/./x", "/opt/lib", "/usr/share", "/usr/lib;id", "/usr/lib/x y", "/usr/lib/$(id)", "", "/usr/lib\n"] {
            assert!(!LIBDIR.check(bad), "{bad:?}");
        }
        for ok in ["/run/kea", "/var/run/kea", "/run/kea/sub"] {
            assert!(SOCKET_DIR.check(ok), "{ok}");
        }
        for bad in ["/run", "/var/run", "/tmp/kea", "/run/kea/", "/run/../etc", "/run/kea\nEOF", "run/kea", "/var/run/'x'"] {
            assert!(!SOCKET_DIR.check(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_follow_their_grammars() {
        assert!(DEB_NAME.check("kea-premium-hooks") && !DEB_NAME.check("Kea") && !DEB_NAME.check("k") && !DEB_NAME.check("-kea"));
        assert!(RPM_NAME.check("kea-libs") && RPM_NAME.check("Kea_Libs") && !RPM_NAME.check("-x") && !RPM_NAME.check("a b"));
        assert!(UNIT.check("kea-dhcp4-server") && UNIT.check("kea@x.service") && !UNIT.check("kea;id") && !UNIT.check("-kea") && !UNIT.check("a'b"));
        assert!(USER.check("_kea") && USER.check("kea") && !USER.check("1kea") && !USER.check("k$") && !USER.check(&"a".repeat(33)));
        assert!(MAINTAINER.check("Kea Packager <kea-packager@example.org>") && !MAINTAINER.check("x") && !MAINTAINER.check("A <a@b>\n"));
        assert!(CONFIGURE_OPTION.check("--with-mysql") && CONFIGURE_OPTION.check("--with-pgsql=/usr/bin/pg_config") && !CONFIGURE_OPTION.check("--x=$(id)") && !CONFIGURE_OPTION.check("-x"));
        assert!(MESON_OPTION.check("-Dmysql=enabled") && !MESON_OPTION.check("-Dmysql") && !MESON_OPTION.check("-Dx=a b"));
        assert!(CHANGELOG_FILE.check("changelog.toml") && CHANGELOG_FILE.check("d/changelog.toml") && !CHANGELOG_FILE.check("../x") && !CHANGELOG_FILE.check("/etc/shadow"));
    }

    #[test]
    fn a_refusal_names_file_line_key_rule_and_fix() {
        let text = "[profile.acme-5]\nname = \"Acme\"\nfamily = \"rpm\"\n[profile.acme-5.runtime.isc]\ncommon = \"Acme_Libs\"\nsocket-dir = \"/run/kea\\nKEAPACK_GUIDANCE\\nid\"\n";
        let e = check_text(text, "m.toml", FileKind::Manifest).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (6, "profile.acme-5.runtime.isc.socket-dir"), "{e}");
        let s = e.to_string();
        assert!(s.starts_with("m.toml: line 6: profile.acme-5.runtime.isc.socket-dir = \"/run/kea\\nKEAPACK_GUIDANCE\\nid\" is refused: it must be an absolute"), "{s}");
        assert!(s.contains("Fix: e.g. /run/kea"), "{s}");
        // An rpm profile's package names follow rpm's grammar (Acme_Libs passed above).
        let e = check_text("[profile.x]\nfamily = \"deb\"\n[profile.x.runtime.isc]\ncommon = \"Acme_Libs\"\n", "m.toml", FileKind::Manifest).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "profile.x.runtime.isc.common"));
        // Keys chosen by the file are values too.
        let e = check_text("[profile.\"x;id\"]\nname = \"x\"\n", "m.toml", FileKind::Manifest).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "profile.<key>"), "{e}");
        let e = check_text("[runtime.isc.services]\n\"dhcp4 x\" = \"kea\"\n", "p.toml", FileKind::Profile).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "runtime.isc.services.<key>"), "{e}");
        // Where Kea's own packages put units: a unit directory of systemd's, nothing else.
        let e = check_text("[profile.x]\nfamily = \"deb\"\nunit-dir = \"/etc/cron.d\"\n", "m.toml", FileKind::Manifest).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "profile.x.unit-dir"), "{e}");
        assert!(check_text("[profile.x]\nfamily = \"deb\"\nunit-dir = \"/lib/systemd/system\"\n", "m.toml", FileKind::Manifest).is_ok());
        // Array items: the line of the item.
        let e = check_text("[build]\nconfigure-options = [\n  \"--with-mysql\",\n  \"--x=1;id\",\n]\n", "m.toml", FileKind::Manifest).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "build.configure-options"), "{e}");
    }

    #[test]
    fn toml_errors_do_not_quote_the_text() {
        let text = "root:*:20228:0:99999:7:::\n";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        let shown = toml_error("f", text, &e).to_string();
        assert!(shown.starts_with("f: line 1, column") && !shown.contains("20228") && !shown.contains("root"), "{shown}");
    }
}

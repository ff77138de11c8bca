//! A Debian control paragraph (deb822) read field by field, strictly, and written back so that
//! no value can start another paragraph.
//!
//! A package's `DEBIAN/control` is one paragraph: `Name: value` lines, each optionally followed
//! by continuation lines that begin with a space or a tab. keapack refuses what dpkg-deb would
//! not build and what would change the meaning of the repository's index once copied into it:
//! a blank (or whitespace-only) line, which ends a paragraph in `Packages`; a control character
//! (a carriage return, an escape); a line that is neither a field nor a continuation; the same
//! field twice; a continuation of a field that must be one line (`Package`, `Version`…); and
//! the fields keapack itself writes into the index (`Filename`, `Size`, checksums), which a
//! package has no business declaring. The grammar of `Package`, `Version`, `Architecture` and
//! `Source` is Debian policy's (§5.6.1, §5.6.7, §5.6.8, §5.6.12), so a value that reaches a
//! path (`pool/main/k/<source>/…`, `binary-<arch>`) cannot climb out of the repository.

use anyhow::{Result, bail};

/// Fields of a `Packages` stanza that keapack computes from the file; a package declaring one
/// is refused.
pub(crate) const INDEX_FIELDS: &[&str] = &["Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512", "Description-md5"];

/// Fields whose value is one line.
const SINGLE_LINE: &[&str] = &["Package", "Version", "Architecture", "Source", "Installed-Size", "Section", "Priority", "Multi-Arch", "Essential", "Maintainer", "Homepage"];

/// Upper bound on a control paragraph, in bytes (dpkg's own control files are a few KiB).
pub(crate) const MAX_CONTROL: usize = 1 << 20;

/// One paragraph: its fields in order, each value without the `Name:` and with continuation
/// lines kept as they are (each starting with a space or a tab).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paragraph {
    fields: Vec<(String, String)>,
}

impl Paragraph {
    /// The value of `name` (field names compare case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The paragraph as deb822 text, without a final newline; each extra `(name, value)` (one
    /// line each) appended. Every line is a field or a non-blank continuation.
    pub(crate) fn to_text(&self, extra: &[(&str, String)]) -> String {
        let mut t = String::new();
        for (n, v) in self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).chain(extra.iter().map(|(n, v)| (*n, v.as_str()))) {
            if !t.is_empty() {
                t.push('\n');
            }
            t.push_str(n);
            t.push(':');
            if !v.is_empty() && !v.starts_with('\n') {
                t.push(' ');
            }
            t.push_str(v);
        }
        debug_assert!(!t.split('\n').any(|l| l.trim().is_empty()), "a stanza with a blank line: {t:?}");
        t
    }
}

/// Parse one paragraph. `what` names the file for messages; `allow_index_fields`: the
/// repository's own index (which holds `Filename` and the checksums keapack wrote).
pub fn parse(text: &str, what: &str, allow_index_fields: bool) -> Result<Paragraph> {
    if text.len() > MAX_CONTROL {
        bail!("{what}: the control file is {} bytes, more than the {MAX_CONTROL} keapack reads; a control file is a few KiB: rebuild the package", text.len());
    }
    // Newlines at the very end close the paragraph (nothing follows them); a blank line with
    // anything after it would start a second paragraph.
    let body = text.trim_end_matches('\n');
    if body.is_empty() {
        bail!("{what}: the control file is empty; a package needs at least Package, Version and Architecture");
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        let n = i + 1;
        if let Some(c) = line.chars().find(|&c| (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}') {
            bail!(
                "{what}: line {n} of the control file holds the control character U+{:04X}; control fields are printable text: rebuild the package without it",
                c as u32
            );
        }
        if line.trim().is_empty() {
            bail!(
                "{what}: line {n} of the control file is blank; a blank line ends a paragraph, so a package's control file cannot hold one (in a Description, write ' .' for an empty line): rebuild the package"
            );
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            let Some((name, value)) = fields.last_mut() else {
                bail!("{what}: line 1 of the control file is a continuation line with no field before it; the file must start with 'Package:': rebuild the package");
            };
            if SINGLE_LINE.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                bail!("{what}: the field {name} continues on line {n}; {name} is one line (Debian policy 5.1): rebuild the package with it on one line");
            }
            value.push('\n');
            value.push_str(line);
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            bail!("{what}: line {n} of the control file is neither 'Field: value' nor a continuation (which starts with a space): rebuild the package");
        };
        if !valid_field_name(name) {
            bail!(
                "{what}: line {n} of the control file names the field {}; field names are letters, digits and '-', starting with a letter or digit (Debian policy 5.1): rebuild the package",
                crate::support::text::shown(name)
            );
        }
        if fields.iter().any(|(f, _)| f.eq_ignore_ascii_case(name)) {
            bail!("{what}: the field {name} appears twice in the control file (again on line {n}); each field appears once (Debian policy 5.1): rebuild the package");
        }
        if !allow_index_fields && INDEX_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name)) {
            bail!(
                "{what}: the control file declares {name}, a field the repository index computes from the file itself ({}); keapack writes it: rebuild the package without it",
                INDEX_FIELDS.join(", ")
            );
        }
        fields.push((name.to_string(), value.trim().to_string()));
    }
    // A field whose value is only continuation lines (Description with an empty synopsis is
    // refused by dpkg too, but the empty first line is harmless here).
    Ok(Paragraph { fields })
}

fn valid_field_name(name: &str) -> bool {
    name.len() <= 64 && name.starts_with(|c: char| c.is_ascii_alphanumeric()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The fields of a binary package that keapack derives paths and index entries from, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub package: String,
    pub version: String,
    pub arch: String,
    /// The source package's name (the `Source` field's first word, or `package`).
    pub source: String,
}

/// Check `Package`, `Version`, `Architecture` and `Source` of `p` against Debian policy and
/// `arches` (the architectures the repository serves, besides `all`).
pub(crate) fn identity(p: &Paragraph, what: &str, arches: &[String]) -> Result<Identity> {
    let need = |name: &str| -> Result<String> {
        match p.get(name) {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => bail!("{what}: the control file has no {name} field; a binary package needs Package, Version and Architecture: rebuild the package"),
        }
    };
    let package = need("Package")?;
    crate::plan::values::debian_package_name(&package).map_err(|rule| anyhow::anyhow!("{what}: Package {}: {rule} (Debian policy 5.6.7): rebuild the package with a valid name", crate::support::text::shown(&package)))?;
    let version = need("Version")?;
    check_version(&version).map_err(|rule| anyhow::anyhow!("{what}: Version {}: {rule} (Debian policy 5.6.12): rebuild the package with a valid version", crate::support::text::shown(&version)))?;
    let arch = need("Architecture")?;
    if arch != "all" && !arches.contains(&arch) {
        bail!(
            "{what}: Architecture {} is not one this repository serves ({}, all): publish a package built for one of them",
            crate::support::text::shown(&arch),
            arches.join(", ")
        );
    }
    let source = match p.get("Source") {
        None => package.clone(),
        Some(s) => {
            let (name, ver) = match s.split_once(' ') {
                None => (s, None),
                Some((n, rest)) => (n, Some(rest)),
            };
            crate::plan::values::debian_package_name(name).map_err(|rule| anyhow::anyhow!("{what}: Source {}: {rule} (Debian policy 5.6.1): rebuild the package with a valid source name", crate::support::text::shown(s)))?;
            if let Some(rest) = ver {
                let inner = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'));
                match inner {
                    Some(v) if check_version(v).is_ok() => {}
                    _ => bail!(
                        "{what}: Source {}: after the name only '(version)' may follow (Debian policy 5.6.1): rebuild the package with a valid Source field",
                        crate::support::text::shown(s)
                    ),
                }
            }
            name.to_string()
        }
    };
    Ok(Identity { package, version, arch, source })
}

/// Debian policy 5.6.12: `[epoch:]upstream_version[-debian_revision]`.
pub(crate) fn check_version(v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > 256 {
        return Err("a version is 1 to 256 characters".into());
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) => (Some(e), r),
        None => (None, v),
    };
    if let Some(e) = epoch
        && (e.is_empty() || !e.chars().all(|c| c.is_ascii_digit()) || e.len() > 9)
    {
        return Err("the epoch (before ':') is a number".into());
    }
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, Some(r)),
        None => (rest, None),
    };
    if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("the upstream version starts with a digit".into());
    }
    // Current policy allows no ':' in the upstream version (it would reach the file name).
    let ok_up = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-');
    if let Some(c) = upstream.chars().find(|&c| !ok_up(c)) {
        return Err(format!("the upstream version is letters, digits, '.', '+', '~' and '-', not {}", crate::support::text::shown(&c.to_string())));
    }
    if let Some(r) = revision
        && (r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')))
    {
        return Err("the Debian revision (after the last '-') is letters, digits, '.', '+' and '~'".into());
    }
    Ok(())
}

/// The file name dpkg-name gives a package: `<package>_<version without epoch>_<arch>.deb`.
pub(crate) fn deb_file_name(id: &Identity) -> String {
    let version = id.version.split_once(':').map_or(id.version.as_str(), |(_, v)| v);
    format!("{}_{version}_{}.deb", id.package, id.arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Package: kea-premium-hooks\nVersion: 2.2.0-1+deb12\nArchitecture: amd64\nMaintainer: A <a@example.org>\nDepends: kea-common (>= 2.2.0),\n kea-dhcp4\nDescription: hooks\n Long text.\n .\n More.\n";

    fn arches() -> Vec<String> {
        vec!["amd64".into(), "arm64".into()]
    }

    #[test]
    fn a_good_paragraph_reads_and_writes_back_the_same() {
        let p = parse(GOOD, "x.deb", false).unwrap();
        assert_eq!(p.get("depends"), Some("kea-common (>= 2.2.0),\n kea-dhcp4"));
        assert_eq!(p.to_text(&[]), GOOD.trim_end());
        assert_eq!(parse(&format!("{GOOD}\n\n"), "x.deb", false).unwrap(), p, "newlines at the end close the paragraph");
        let id = identity(&p, "x.deb", &arches()).unwrap();
        assert_eq!((id.package.as_str(), id.source.as_str()), ("kea-premium-hooks", "kea-premium-hooks"));
        assert_eq!(deb_file_name(&id), "kea-premium-hooks_2.2.0-1+deb12_amd64.deb");
        let with = p.to_text(&[("Filename", "pool/x.deb".into())]);
        assert!(with.ends_with("\n More.\nFilename: pool/x.deb"), "{with}");
    }

    #[test]
    fn blank_lines_and_second_paragraphs_are_refused() {
        let e = parse(&format!("{GOOD}\nPackage: kea-premium-hooks\nVersion: 2.2.0-1+deb12\n"), "x.deb", false).unwrap_err().to_string();
        assert!(e.contains("is blank") && e.contains("x.deb"), "{e}");
        let e = parse("Package: a\n \t\nVersion: 1\n", "x.deb", false).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("blank"), "{e}");
        let e = parse("Package: ab\nDescription: x\r\nVersion: 1\n", "x.deb", false).unwrap_err().to_string();
        assert!(e.contains("U+000D"), "{e}");
    }

    #[test]
    fn duplicates_index_fields_and_stray_lines_are_refused() {
        let e = parse("Package: ab\nVersion: 1\npackage: cd\n", "x.deb", false).unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
        for f in INDEX_FIELDS {
            let e = parse(&format!("Package: ab\n{f}: 00\n"), "x.deb", false).unwrap_err().to_string();
            assert!(e.contains("computes from the file itself"), "{e}");
            assert!(parse(&format!("Package: ab\n{f}: 00\n"), "index", true).is_ok());
        }
        assert!(parse(" cont\n", "x.deb", false).unwrap_err().to_string().contains("continuation"));
        assert!(parse("Package ab\n", "x.deb", false).unwrap_err().to_string().contains("neither"));
        assert!(parse("Pack age: ab\n", "x.deb", false).unwrap_err().to_string().contains("field names"));
        let e = parse("Package: ab\nVersion: 1\n 2\n", "x.deb", false).unwrap_err().to_string();
        assert!(e.contains("Version is one line"), "{e}");
    }

    #[test]
    fn names_versions_architectures_and_sources_follow_policy() {
        for bad in ["../../x", "A", "a", "-ab", "ab/c", "a b", "ab\u{1b}"] {
            assert!(crate::plan::values::debian_package_name(bad).is_err(), "{bad}");
        }
        for good in ["ab", "libkea-2.2", "g++", "0ad"] {
            assert!(crate::plan::values::debian_package_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a1", "1:", ":1", "1/2", "1-", "1-a/b", "1:2:3", "1:2:3-1", "1.0 ", "../1"] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
        for good in ["1", "1:2.2.0-1+deb12", "2.2.0-1-1", "1.0~rc1"] {
            assert!(check_version(good).is_ok(), "{good}");
        }
        let p = |arch: &str, source: &str| parse(&format!("Package: ab\nVersion: 1-1\nArchitecture: {arch}\n{source}"), "x.deb", false).unwrap();
        assert!(identity(&p("../../x", ""), "x.deb", &arches()).unwrap_err().to_string().contains("not one this repository serves"));
        assert!(identity(&p("i386", ""), "x.deb", &arches()).is_err());
        assert_eq!(identity(&p("all", ""), "x.deb", &arches()).unwrap().arch, "all");
        assert!(identity(&p("amd64", "Source: ../../x\n"), "x.deb", &arches()).unwrap_err().to_string().contains("Source"));
        assert!(identity(&p("amd64", "Source: ab (../1)\n"), "x.deb", &arches()).is_err());
        assert_eq!(identity(&p("amd64", "Source: kea (2.2.0-1)\n"), "x.deb", &arches()).unwrap().source, "kea");
        assert!(identity(&parse("Package: ab\nVersion: 1\n", "x.deb", false).unwrap(), "x.deb", &arches()).unwrap_err().to_string().contains("no Architecture"));
    }
}

//! The package changelog: its history from the manifest's changelog source, the entry of the
//! package being written on top, as Debian writes it (`changelog.Debian.gz`), and the calendar
//! arithmetic it and the copyright notice need. Planned files, not an emitter's concern: the
//! planner puts the gzipped changelog into a `.deb` spec's docs like any other file (the rpm
//! emitter writes the same entries as `%changelog` tags).
//!
//! The changelog source (`package.changelog` in the manifest) is a TOML file of entries:
//!
//! ```toml
//! [[entry]]
//! version = "2.2.0-1"          # <Kea version>-<revision>, as --revision gives it
//! date = 2025-11-03            # a TOML date (midnight UTC) or date-time (2025-11-03T10:00:00Z)
//! author = "A <a@example.org>" # optional; default: package.maintainer
//! text = """
//! - First packaged release.
//! """
//! ```
//!
//! Each target's package carries every entry older than its own version, the target's dist tag
//! appended (`2.2.0-1+deb12`, `2.2.0-1.el9`), below the entry of the package itself: keapack's
//! generated one, or the source's entry for exactly this version when it has one (its text and
//! date then). keapack only reads the file; add each release's entry to it yourself.

use crate::plan::relation::compare_deb_versions;
use crate::plan::spec::{ChangelogEntry, Format, PackageSpec};
use crate::source::version::KeaVersion;
use crate::support::gzip::gzip_best;
use anyhow::{Context, Result, bail};
use std::cmp::Ordering;

/// One entry of the changelog source, as written (its version without a dist tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// `<upstream>-<revision>`, e.g. `2.2.0-1`.
    pub version: String,
    /// Seconds since the epoch.
    pub time: u64,
    pub author: Option<String>,
    pub text: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    #[serde(default)]
    entry: Vec<RawEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    version: String,
    date: toml::value::Datetime,
    author: Option<String>,
    text: String,
}

/// Parse a changelog source; errors name `origin` and, for TOML errors, the line. Entries come
/// back newest first, whatever their order in the file.
pub(crate) fn parse_source(text: &str, origin: &str) -> Result<Vec<SourceEntry>> {
    // The error names the line and column, never the line's text.
    let file: SourceFile = toml::from_str(text).map_err(|e| crate::plan::values::toml_error(origin, text, &e))?;
    let mut entries = Vec::new();
    for raw in file.entry {
        let v = &raw.version;
        let ok = v.rsplit_once('-').is_some_and(|(up, rev)| {
            !up.is_empty() && up.starts_with(|c: char| c.is_ascii_digit()) && up.chars().all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c)) && crate::plan::manifest::check_revision(rev).is_ok()
        });
        if !ok {
            bail!("{origin}: changelog entry version '{v}' is not <Kea version>-<revision> (e.g. 2.2.0-1)");
        }
        let time = epoch_of(&raw.date).with_context(|| format!("{origin}: entry {v}: date {}", raw.date))?;
        if raw.text.trim().is_empty() {
            bail!("{origin}: changelog entry {v} has no text");
        }
        if let Some(a) = &raw.author
            && (a.trim().is_empty() || a.chars().any(char::is_control))
        {
            bail!("{origin}: changelog entry {v}: author must be one line, e.g. \"Name <mail@example.org>\"");
        }
        entries.push(SourceEntry { version: raw.version, time, author: raw.author, text: raw.text.trim_end().to_string() });
    }
    entries.sort_by(|a, b| compare_deb_versions(&b.version, &a.version));
    if let Some(w) = entries.windows(2).find(|w| compare_deb_versions(&w[0].version, &w[1].version) == Ordering::Equal) {
        bail!("{origin}: two changelog entries for version {}", w[0].version);
    }
    Ok(entries)
}

/// A TOML date or date-time as seconds since the epoch (a date alone: midnight UTC; a local
/// date-time without offset: taken as UTC).
fn epoch_of(d: &toml::value::Datetime) -> Result<u64> {
    let Some(date) = d.date else { bail!("needs a date (2025-11-03), not only a time") };
    let (h, m, s) = d.time.map_or((0, 0, 0), |t| (i64::from(t.hour), i64::from(t.minute), i64::from(t.second.unwrap_or(0))));
    let offset = match d.offset {
        Some(toml::value::Offset::Custom { minutes }) => i64::from(minutes) * 60,
        _ => 0,
    };
    let t = days_from_civil(i64::from(date.year), i64::from(date.month), i64::from(date.day)) * 86_400 + h * 3600 + m * 60 + s - offset;
    u64::try_from(t).map_err(|_| anyhow::anyhow!("is before 1970"))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What a package's changelog is made from besides the source entries.
pub(crate) struct Current<'a> {
    pub format: Format,
    pub kea: &'a KeaVersion,
    /// The revision as given (`2`), without the dist tag.
    pub revision: &'a str,
    pub dist_tag: &'a str,
    /// The generated entry for this package (version complete with the dist tag).
    pub generated: ChangelogEntry,
    /// Author of source entries that name none.
    pub maintainer: &'a str,
}

/// The package's changelog, newest first: its own entry (the source's for this exact version,
/// else the generated one), then every older source entry with the target's dist tag. A
/// source entry newer than the package is an error: it would make the history lie.
pub(crate) fn history(source: &[SourceEntry], current: &Current) -> Result<Vec<ChangelogEntry>> {
    let this = format!("{}-{}", current.kea.debian(), current.revision);
    let mut own = current.generated.clone();
    let mut older = Vec::new();
    for e in source {
        let (up, rev) = e.version.rsplit_once('-').expect("checked by parse_source");
        let deb_form = match KeaVersion::parse(up) {
            Ok(k) => format!("{}-{rev}", k.debian()),
            Err(_) => e.version.clone(),
        };
        let version = match KeaVersion::parse(up) {
            Ok(k) => {
                let (v, r) = crate::plan::version_and_revision(current.format, &k, rev, current.dist_tag);
                format!("{v}-{r}")
            }
            Err(_) => format!("{}{}", e.version, current.dist_tag),
        };
        let author = e.author.clone().unwrap_or_else(|| current.maintainer.to_string());
        match compare_deb_versions(&deb_form, &this) {
            Ordering::Greater => bail!("the changelog source has an entry for {}, newer than this package ({this}): build that revision (--revision), or remove the entry", e.version),
            Ordering::Equal => own = ChangelogEntry { version: own.version, author, time: e.time, text: e.text.clone() },
            Ordering::Less => older.push(ChangelogEntry { version, author, time: e.time, text: e.text.clone() }),
        }
    }
    let mut all = vec![own];
    all.extend(older);
    Ok(all)
}

/// `changelog.Debian.gz` content: `spec.changelog` in Debian changelog format, gzipped like
/// `gzip -9n`. An entry whose version is the bare upstream version gets `-revision` appended;
/// otherwise the entry's version is used as written.
pub(crate) fn changelog_debian_gz(spec: &PackageSpec) -> Vec<u8> {
    gzip_best(changelog_text(spec).as_bytes())
}

fn changelog_text(spec: &PackageSpec) -> String {
    let mut out = String::new();
    for (i, e) in spec.changelog.iter().enumerate() {
        let version = if e.version == spec.version && !spec.revision.is_empty() {
            format!("{}-{}", e.version, spec.revision)
        } else {
            e.version.clone()
        };
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{} ({version}) unstable; urgency=medium\n\n", spec.name));
        for (j, line) in e.text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).enumerate() {
            let bullet = line.trim_start().strip_prefix("* ").or_else(|| line.trim_start().strip_prefix("- "));
            match bullet {
                Some(b) => out.push_str(&format!("  * {b}\n")),
                None if j == 0 => out.push_str(&format!("  * {}\n", line.trim_start())),
                None => out.push_str(&format!("    {}\n", line.trim_start())),
            }
        }
        out.push_str(&format!("\n -- {}  {}\n", e.author, rfc2822(e.time)));
    }
    out
}

/// RFC 2822 date in UTC (`Fri, 01 Mar 2024 00:00:00 +0000`), via the days-to-civil algorithm
/// (H. Hinnant), which is exact for the whole proleptic Gregorian calendar; no date crate needed.
pub(crate) fn rfc2822(t: u64) -> String {
    let (days, secs) = (t / 86_400, t % 86_400);
    let (year, month, day) = civil(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} +0000",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[month as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// The UTC calendar year of a timestamp (for copyright notices).
pub(crate) fn utc_year(t: u64) -> i64 {
    civil(t / 86_400).0
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil(days: u64) -> (i64, i64, i64) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::spec::{ChangelogEntry, Compression, Format};
    use crate::source::version::KeaVersion;
    use crate::support::testutil::run;
    use crate::plan::testutil::sample_spec;
    use std::io::Read;

    #[test]
    fn changelog_is_debian_format_and_gzip_9n() {
        let (tmp, mut spec) = sample_spec(Format::Deb, Compression::Xz);
        spec.changelog.push(ChangelogEntry {
            version: "2.6.4".into(), author: "A <a@example.org>".into(), time: 0, text: "- one\n- two\n  more".into(),
        });
        spec.changelog[0].version = "2.6.5".into(); // bare upstream version gets the revision
        let gz = changelog_debian_gz(&spec);
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, concat!(
            "kea-hook-test (2.6.5-1) unstable; urgency=medium\n\n  * Package the test hook.\n\n",
            " -- Test Packager <packager@example.org>  Fri, 01 Mar 2024 00:00:00 +0000\n\n",
            "kea-hook-test (2.6.4) unstable; urgency=medium\n\n  * one\n  * two\n    more\n\n",
            " -- A <a@example.org>  Thu, 01 Jan 1970 00:00:00 +0000\n"));
        assert_eq!(changelog_debian_gz(&spec), gz);
        let path = tmp.path().join("changelog");
        std::fs::write(&path, &text).unwrap();
        let parsed = run("dpkg-parsechangelog", "dpkg-dev", &["-l", path.to_str().unwrap(), "--all", "--format", "rfc822"]);
        let fields: Vec<&str> = parsed.lines().filter(|l| l.starts_with("Version:") || l.starts_with("Timestamp:")).collect();
        assert_eq!(fields, ["Version: 2.6.5-1", "Timestamp: 1709251200", "Version: 2.6.4", "Timestamp: 0"]);
    }

    #[test]
    fn a_changelog_source_is_read_checked_and_sorted() {
        let text = "[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-11-03\ntext = \"- one\"\n\n\
                    [[entry]]\nversion = \"2.2.0-3\"\ndate = 2025-12-01T10:00:00+01:00\nauthor = \"B <b@example.org>\"\ntext = \"three\"\n";
        let e = parse_source(text, "c.toml").unwrap();
        assert_eq!(e.iter().map(|e| e.version.as_str()).collect::<Vec<_>>(), ["2.2.0-3", "2.2.0-1"]);
        assert_eq!(rfc2822(e[0].time), "Mon, 01 Dec 2025 09:00:00 +0000");
        assert_eq!(rfc2822(e[1].time), "Mon, 03 Nov 2025 00:00:00 +0000");
        assert_eq!((e[0].author.as_deref(), e[1].author.as_deref()), (Some("B <b@example.org>"), None));
        for (bad, why) in [
            ("[[entry]]\nversion = \"2.2.0\"\ndate = 2025-11-03\ntext = \"x\"\n", "is not <Kea version>-<revision>"),
            ("[[entry]]\nversion = \"2.2.0-1\"\ndate = \"yesterday\"\ntext = \"x\"\n", "c.toml"),
            ("[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-11-03\ntext = \" \"\n", "has no text"),
            ("[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-11-03\ntext = \"x\"\nurgency = \"low\"\n", "urgency"),
            ("[[entry]]\nversion = \"2.2.0-1\"\ndate = 1969-12-31\ntext = \"x\"\n", "before 1970"),
            ("[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-11-03\ntext = \"x\"\n[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-11-04\ntext = \"y\"\n", "two changelog entries"),
        ] {
            let err = format!("{:#}", parse_source(bad, "c.toml").unwrap_err());
            assert!(err.contains("c.toml") && err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn the_history_puts_the_package_on_top_with_each_targets_dist_tag() {
        let source = parse_source("[[entry]]\nversion = \"2.2.0-1\"\ndate = 2025-11-03\ntext = \"one\"\n[[entry]]\nversion = \"2.2.0-2\"\ndate = 2025-11-04\ntext = \"two, by hand\"\n", "c").unwrap();
        let kea = KeaVersion::new(2, 2, 0);
        let generated = |v: &str| ChangelogEntry { version: v.into(), author: "M <m@example.org>".into(), time: 9, text: "generated".into() };
        let current = |format, revision, dist_tag, v| Current { format, kea: &kea, revision, dist_tag, generated: generated(v), maintainer: "M <m@example.org>" };
        let h = history(&source, &current(Format::Deb, "3", "+deb12", "2.2.0-3+deb12")).unwrap();
        let rows: Vec<(&str, &str)> = h.iter().map(|e| (e.version.as_str(), e.text.as_str())).collect();
        assert_eq!(rows, [("2.2.0-3+deb12", "generated"), ("2.2.0-2+deb12", "two, by hand"), ("2.2.0-1+deb12", "one")]);
        // The source's entry for this very version is the package's own (its text and date).
        let h = history(&source, &current(Format::Rpm, "2", ".el9", "2.2.0-2.el9")).unwrap();
        let rows: Vec<(&str, &str, u64)> = h.iter().map(|e| (e.version.as_str(), e.text.as_str(), e.time)).collect();
        assert_eq!(rows, [("2.2.0-2.el9", "two, by hand", source[0].time), ("2.2.0-1.el9", "one", source[1].time)]);
        // An entry newer than the package would make its history lie.
        let err = history(&source, &current(Format::Deb, "1", "+deb12", "2.2.0-1+deb12")).unwrap_err().to_string();
        assert!(err.contains("2.2.0-2") && err.contains("newer than this package"), "{err}");
        assert_eq!(history(&[], &current(Format::Deb, "1", "", "2.2.0-1")).unwrap().len(), 1);
    }

    #[test]
    fn rfc2822_dates_in_utc() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(rfc2822(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 +0000");
        assert_eq!(rfc2822(4_102_444_800), "Fri, 01 Jan 2100 00:00:00 +0000");
        assert_eq!((utc_year(1_767_225_599), utc_year(1_767_225_600)), (2025, 2026));
    }
}

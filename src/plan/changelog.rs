//! The package changelog as Debian writes it (`changelog.Debian.gz`) and the calendar
//! arithmetic it and the copyright notice need. Planned files, not an emitter's concern: the
//! planner puts the gzipped changelog into a `.deb` spec's docs like any other file.

use crate::plan::spec::PackageSpec;
use crate::support::gzip::gzip_best;

/// `changelog.Debian.gz` content: `spec.changelog` in Debian changelog format, gzipped like
/// `gzip -9n`. An entry whose version is the bare upstream version gets `-revision` appended;
/// otherwise the entry's version is used as written.
pub fn changelog_debian_gz(spec: &PackageSpec) -> Vec<u8> {
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
pub fn utc_year(t: u64) -> i64 {
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
    use crate::testutil::{run, sample_spec};
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
    fn rfc2822_dates_in_utc() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(rfc2822(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 +0000");
        assert_eq!(rfc2822(4_102_444_800), "Fri, 01 Jan 2100 00:00:00 +0000");
        assert_eq!((utc_year(1_767_225_599), utc_year(1_767_225_600)), (2025, 2026));
    }
}

//! The one reader of `os-release` (the host's `/etc/os-release`, or a build root's): the
//! release's `ID`, `ID_LIKE`, `VERSION_ID` and `PRETTY_NAME`.

use std::path::Path;

/// The fields keapack uses from a release's `os-release` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OsRelease {
    pub id: String,
    /// `ID_LIKE`'s words.
    pub id_like: Vec<String>,
    pub version_id: String,
    pub pretty_name: String,
}

impl OsRelease {
    /// Read the `os-release` of the file system under `root` (`/` for the host):
    /// `etc/os-release`, else `usr/lib/os-release`, as os-release(5) says. `None` when neither
    /// can be read.
    pub fn read(root: &Path) -> Option<OsRelease> {
        let text = std::fs::read_to_string(root.join("etc/os-release"))
            .or_else(|_| std::fs::read_to_string(root.join("usr/lib/os-release")))
            .ok()?;
        Some(OsRelease::parse(&text))
    }

    /// Parse `KEY=value` lines; values may be double- or single-quoted; comments and blank lines
    /// are skipped.
    pub fn parse(text: &str) -> OsRelease {
        let mut r = OsRelease::default();
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else { continue };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value)
                .to_string();
            match key {
                "ID" => r.id = value,
                "ID_LIKE" => r.id_like = value.split_whitespace().map(str::to_string).collect(),
                "VERSION_ID" => r.version_id = value,
                "PRETTY_NAME" => r.pretty_name = value,
                _ => {}
            }
        }
        r
    }

    /// `ID` followed by the words of `ID_LIKE`.
    pub(crate) fn family_words(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.id_like.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_unquoted_and_single_quoted_values() {
        let r = OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n# comment\nID=debian\nVERSION_ID='12'\n\nID_LIKE=\"rhel centos fedora\"\n",
        );
        assert_eq!(r.pretty_name, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(r.id, "debian");
        assert_eq!(r.version_id, "12");
        assert_eq!(r.family_words().collect::<Vec<_>>(), ["debian", "rhel", "centos", "fedora"]);
    }

    #[test]
    fn reads_usr_lib_os_release_when_etc_has_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(OsRelease::read(dir.path()), None);
        std::fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
        std::fs::write(dir.path().join("usr/lib/os-release"), "ID=fedora\nVERSION_ID=44\n").unwrap();
        let r = OsRelease::read(dir.path()).unwrap();
        assert_eq!((r.id.as_str(), r.version_id.as_str()), ("fedora", "44"));
    }
}

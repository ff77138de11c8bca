//! The package format a run builds for, which is also the distribution family: `.deb`
//! (Debian, Ubuntu) or `.rpm` (RHEL and its rebuilds, Fedora). The build needs it as early as
//! configure (`KEA_PKG_TYPE_IN_CONFIGURE`), the planner and the emitters after it, so it lives
//! here rather than in any one stage; `plan::spec` re-exports it.

/// Which package format a spec is emitted as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Deb,
    Rpm,
}

impl Format {
    /// `deb` or `rpm`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Deb => "deb",
            Format::Rpm => "rpm",
        }
    }
}

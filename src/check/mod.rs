//! Checks of written packages: lintian for `.deb`, rpmlint for `.rpm` (`lint`).

pub(crate) mod daemon;
pub(crate) mod lint;

//! Checks of written packages: lintian for `.deb`, rpmlint for `.rpm` (`lint`); each package
//! installed and loaded by the Kea it is for (`run::verify`) talks to Kea through `daemon`.

pub(crate) mod daemon;
pub(crate) mod lint;

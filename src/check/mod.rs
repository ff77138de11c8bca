//! Checks of written packages: lintian for `.deb`, rpmlint for `.rpm` (`lint`); each package
//! installed and loaded by the Kea it is for (`verify`, with the daemon pieces in `daemon`).

pub(crate) mod daemon;
pub(crate) mod verify;
pub(crate) mod lint;

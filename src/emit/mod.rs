//! Emitters: one `PackageSpec` in, the bytes of one package format out. No Kea knowledge here.

pub(crate) mod deb;
pub(crate) mod rpm;
pub(crate) mod rpm_header;
pub(crate) mod tarball;

use crate::plan::spec::{Format, PackageSpec};
use std::io::Write;

/// Write `spec` in its format to `out`.
pub fn write_package(spec: &PackageSpec, out: &mut dyn Write) -> anyhow::Result<()> {
    match spec.format {
        Format::Deb => deb::write(spec, out),
        Format::Rpm => rpm::write(spec, out),
    }
}

#[cfg(test)]
pub(crate) mod testutil;

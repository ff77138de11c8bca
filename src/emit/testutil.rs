//! Test support for the emitters: writing a spec to a file, and checking that two writes agree.
//! Compiled only for tests.

use crate::plan::spec::*;
use crate::plan::testutil::sample_spec;

/// Write `spec` under its conventional name in `dir`; returns the path.
pub(crate) fn write_file(spec: &PackageSpec, dir: &std::path::Path) -> String {
    let path = dir.join(spec.file_name());
    crate::emit::write_package(spec, &mut std::fs::File::create(&path).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// Writing twice gives the same bytes, even after the on-disk source file's mtime changes.
pub(crate) fn assert_reproducible(format: Format, c: Compression) {
    let (_tmp, spec) = sample_spec(format, c);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    crate::emit::write_package(&spec, &mut a).unwrap();
    let Source::Path(p) = &spec.files[0].source else { panic!("fixture file 0 is on disk") };
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(12_345)).unwrap();
    crate::emit::write_package(&spec, &mut b).unwrap();
    assert!(a == b, "{format:?} {c:?}: two writes differ");
}


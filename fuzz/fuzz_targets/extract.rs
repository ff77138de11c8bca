//! Any bytes as an input archive: extraction fails or succeeds, never panics, never escapes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sandbox = tempfile::tempdir().unwrap();
    let arc = sandbox.path().join("input.tar.gz");
    std::fs::write(&arc, data).unwrap();
    let dest = sandbox.path().join("dest");
    let limits = keapack::source::extract::Limits { max_bytes: 1 << 20, max_entries: 1000 };
    let _ = keapack::source::extract::unpack_input(&arc, &dest, limits);
    // Only the archive and the destination may exist in the sandbox.
    for e in std::fs::read_dir(sandbox.path()).unwrap() {
        let name = e.unwrap().file_name();
        assert!(name == "input.tar.gz" || name == "dest", "wrote {name:?} outside the destination");
    }
});

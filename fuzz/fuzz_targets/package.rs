//! Any bytes as a package handed to `keapack publish`: the strict readers of `.deb` (ar layout,
//! control tarball, deb822 fields) and `.rpm` (lead, signature and main header entries) refuse
//! it or accept it, never panic, never allocate what the file does not hold.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // Named by what its first bytes announce, as a real package would be.
    let name = if data.starts_with(&[0xed, 0xab, 0xee, 0xdb]) { "kea-premium-hooks-2.2.0-1.el9.x86_64.rpm" } else { "kea-premium-hooks_2.2.0-1+deb12_amd64.deb" };
    let path = dir.path().join(name);
    std::fs::write(&path, data).expect("the package written");
    let _ = keapack::publish::inputs::inspect(&path);
});

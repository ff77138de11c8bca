//! Any text as a manifest: a value or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keapack::plan::manifest::Manifest::parse(text, "fuzz.toml");
    }
});

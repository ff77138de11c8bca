//! Any text as a configure report, configure.ac or meson.build: parsed without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let r = keapack::build::report::parse(text);
        let _ = r.detected();
        let _ = keapack::source::version::from_ac_init(text);
        let _ = keapack::source::version::from_meson_project(text);
        let _ = keapack::source::version::KeaVersion::parse(text);
    }
});

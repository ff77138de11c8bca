//! Shared helpers for the integration tests: the real binary, the bundled example, real tools.
#![allow(dead_code)]

pub mod gpgkey;
pub mod kea;
pub mod made;
pub mod packages;
pub mod repo;
pub mod roots;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The keapack binary cargo built for these tests, with the build cache off: each test's
/// builds really build (tests/cache.rs turns it on, with a cache of its own).
pub fn keapack() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keapack"));
    cmd.env("KEAPACK_NO_CACHE", "1");
    cmd
}

/// Fail (never skip) when a tool the test needs is missing, naming its Debian package.
pub fn require(tool: &str, package: &str) {
    let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()));
    assert!(found, "this test needs `{tool}`: apt-get install {package} (tests/run installs it)");
}

/// Everything the example build needs.
pub fn require_build_tools() {
    for (tool, pkg) in [("autoreconf", "autoconf"), ("aclocal", "automake"), ("libtoolize", "libtool"), ("make", "make"), ("g++", "g++"), ("strip", "binutils")] {
        require(tool, pkg);
    }
    assert!(Path::new("/usr/include/kea/hooks/hooks.h").is_file(), "the example builds against Kea's headers: apt-get install kea-dev");
}

/// Everything the meson example build needs, with a meson new enough for it (1.1.0).
pub fn require_meson_tools() {
    for (tool, pkg) in [("meson", "meson >= 1.1 from PyPI (tests/run puts one in target/meson-venv)"), ("ninja", "ninja-build"), ("g++", "g++"), ("strip", "binutils")] {
        require(tool, pkg);
    }
    let out = run(Command::new("meson").arg("--version"));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let version = keapack::source::version::version_parts(&text, keapack::source::version::Parts::Leading);
    assert!(version.is_some_and(|v| v >= (1, 1, 0)), "meson {text} is too old for the meson example (needs 1.1.0): tests/run installs a newer one into target/meson-venv (python3 -m venv, pip install 'meson>=1.3')");
    assert!(Path::new("/usr/include/kea/hooks/hooks.h").is_file(), "the example builds against Kea's headers: apt-get install kea-dev");
}

/// The bundled example in the source tree.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Copy a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Pack `dir`'s contents into a tarball at `out` under `prefix/` (empty: at the top), with
/// `tar` itself, compressed by the file name (`.tar.gz`, `.tar.xz`).
pub fn tarball(dir: &Path, prefix: &str, out: &Path) {
    let flag = if out.to_string_lossy().ends_with(".xz") { "-J" } else { "-z" };
    let mut cmd = Command::new("tar");
    cmd.arg(flag).arg("-cf").arg(out).arg("-C").arg(dir);
    if !prefix.is_empty() {
        cmd.arg(format!("--transform=s,^\\.,{prefix},"));
    }
    let st = cmd.arg(".").status().unwrap();
    assert!(st.success(), "tar failed");
}

/// Run a command; return its output, asserting it ran.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Output bytes as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Assert a command's output says it succeeded; its stdout and stderr.
pub fn ok(out: Output, what: &str) -> (String, String) {
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\n{o}\n{e}", out.status);
    (o, e)
}

pub fn stdout(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Cut the JSON documents out of guidance text: blocks from a line `{` to a line `}`.
pub fn json_blocks(text: &str) -> Vec<serde_json::Value> {
    let mut blocks = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if line == "{" {
            cur = Some(String::new());
        }
        if let Some(c) = cur.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
        if line == "}" {
            let c = cur.take().expect("a closing brace follows an opening one");
            blocks.push(serde_json::from_str(&c).unwrap_or_else(|e| panic!("invalid JSON in guidance: {e}\n{c}")));
        }
    }
    blocks
}

/// Every JSON fragment in guidance text: each line whose first non-blank character is `{`
/// starts one, which must be a complete JSON value ending at the end of a line (the
/// `hooks-libraries` snippets at the margin, the control-channel and settings fragments
/// indented). Returns (line number, value); panics on a fragment that does not parse.
pub fn json_fragments(text: &str) -> Vec<(usize, serde_json::Value)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut skip_until = 0;
    for (n, line) in lines.iter().enumerate() {
        let start = offset;
        offset += line.len();
        if start < skip_until || !line.trim_start().starts_with('{') {
            continue;
        }
        let rest = &text[start..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        let value = match stream.next() {
            Some(Ok(v)) => v,
            other => panic!("line {}: not a complete JSON fragment ({other:?}):\n{}", n + 1, &rest[..rest.len().min(400)]),
        };
        let end = start + stream.byte_offset();
        let tail = text[end..].split('\n').next().unwrap_or("");
        assert!(tail.trim().is_empty(), "line {}: text after a JSON fragment: {tail:?}", n + 1);
        skip_until = end;
        out.push((n + 1, value));
    }
    out
}

/// A directory for a build shared by one test binary through a `static` (statics never drop, so
/// a `tempfile` there would stay behind in /tmp). It lives under cargo's target tmp directory,
/// and the leftovers of earlier runs with the same prefix are removed first.
pub fn shared_dir(prefix: &str) -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    for e in std::fs::read_dir(base).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    tempfile::Builder::new().prefix(prefix).tempdir_in(base).unwrap()
}

/// The example built from tarballs by the real binary for Debian 12 and RHEL 9, in a
/// [`shared_dir`]: what several test files start from.
pub struct Built {
    pub _tmp: tempfile::TempDir,
    pub out: PathBuf,
    pub deb: PathBuf,
    pub rpm: PathBuf,
    /// What `keapack build` printed.
    pub stdout: String,
}

/// Build the example from a Kea `.tar.gz` (with a top directory) and an overlay tarball of
/// `premium_ext`, with `extra` arguments, at SOURCE_DATE_EPOCH=1700000000.
pub fn build_example_tarballs(prefix: &str, premium_ext: &str, extra: &[&str]) -> Built {
    require_build_tools();
    let tmp = shared_dir(prefix);
    let kea = tmp.path().join("kea-2.2.0.tar.gz");
    let premium = tmp.path().join(format!("kea-premium-2.2.0.{premium_ext}"));
    tarball(&examples().join("kea-2.2.0"), "kea-2.2.0", &kea);
    tarball(&examples().join("kea-premium-2.2.0"), "", &premium);
    let out = tmp.path().join("dist");
    let res = run(keapack()
        .args(["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
        .args(extra)
        .arg("--kea").arg(&kea)
        .arg("--premium").arg(&premium)
        .arg("--out").arg(&out)
        .arg("--work").arg(tmp.path().join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    let stdout = String::from_utf8_lossy(&res.stdout).into_owned();
    assert!(res.status.success(), "build {extra:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&res.stderr));
    let deb = out.join("kea-premium-hooks_2.2.0-1+deb12_amd64.deb");
    let rpm = out.join("kea-premium-hooks-2.2.0-1.el9.x86_64.rpm");
    Built { _tmp: tmp, out, deb, rpm, stdout }
}

/// Every entry of a directory with its bytes (a directory's: none), sorted by name.
pub fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap_or_default())).collect();
    v.sort();
    v
}

/// Every file under `dir`, by its path relative to `dir`, with its bytes.
pub fn tree_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                out.insert(e.path().strip_prefix(dir).unwrap().display().to_string(), std::fs::read(e.path()).unwrap_or_default());
            }
        }
    }
    out
}

/// `sha256sum --strict -c SHA256SUMS` in `dir` passes.
pub fn sums_verify(dir: &Path) {
    require("sha256sum", "coreutils");
    let res = run(Command::new("sha256sum").args(["--strict", "-c", "SHA256SUMS"]).current_dir(dir));
    assert!(res.status.success(), "SHA256SUMS no longer verifies:\n{}", String::from_utf8_lossy(&res.stdout));
}

/// Wait (bounded, 180 s) until the run in `work` has started the step whose log name contains
/// `slug` (its `logs/NN-<step>.log` exists).
pub fn wait_for_step(work: &Path, slug: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while !std::fs::read_dir(work.join("logs")).into_iter().flatten().flatten().any(|e| e.file_name().to_string_lossy().contains(slug)) {
        assert!(std::time::Instant::now() < deadline, "step {slug} never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Wait (bounded, 300 s) for a spawned keapack to end, and return what it wrote.
pub fn wait_child(mut child: std::process::Child) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "keapack did not finish");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Heavy builds of one test binary take turns: hold the guard for the test's length.
pub fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

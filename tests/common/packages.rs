//! The bundled example packaged by the real keapack binary at a chosen revision (`--revision
//! N`), for the tests that install, upgrade and load packages.
//!
//! A build takes about half a minute, and several test binaries need the same packages, so the
//! results are kept under `target/keapack-test-packages/<key>/rev-N/`. The key is a digest of
//! everything that decides the bytes: the keapack binary itself (its templates, profiles and
//! catalog are compiled in), the example sources, and the host's kea-dev version. A changed
//! binary or example therefore always gets a fresh build; a file lock per revision makes
//! concurrent tests wait for one build instead of racing.

use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// The `.deb` (debian-12-amd64) and `.rpm` (rhel-9-x86_64) of one build.
#[derive(Clone, Debug)]
pub struct Packages {
    pub deb: PathBuf,
    pub rpm: PathBuf,
}

/// The example's packages at `revision`, built now unless an identical build is cached.
pub fn example_packages(revision: u32) -> Packages {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("keapack-test-packages");
    let key = build_key();
    let dir = base.join(&key).join(format!("rev-{revision}"));
    let pkgs = Packages {
        deb: dir.join(format!("kea-premium-hooks_2.2.0-{revision}+deb12_amd64.deb")),
        rpm: dir.join(format!("kea-premium-hooks-2.2.0-{revision}.el9.x86_64.rpm")),
    };
    fs::create_dir_all(base.join(&key)).unwrap();
    let _lock = super::roots::lock_exclusive(&base.join(&key).join(format!("rev-{revision}.lock")));
    if dir.is_dir() {
        return pkgs;
    }
    // Builds for other binaries or examples are stale now.
    for e in fs::read_dir(&base).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().unwrap() != key.as_str() {
            let _ = fs::remove_dir_all(&p);
        }
    }
    super::require_build_tools();
    let tmp = tempfile::Builder::new().prefix("build-").tempdir_in(base.join(&key)).unwrap();
    let out = tmp.path().join("dist");
    let res = super::run(super::keapack()
        .args(["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
        .arg("--revision").arg(revision.to_string())
        .arg("--kea").arg(super::examples().join("kea-2.2.0"))
        .arg("--premium").arg(super::examples().join("kea-premium-2.2.0"))
        .arg("--out").arg(&out)
        .arg("--work").arg(tmp.path().join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    assert!(res.status.success(), "keapack build --revision {revision} failed:\n{}\n{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    for p in [&pkgs.deb, &pkgs.rpm] {
        assert!(out.join(p.file_name().unwrap()).is_file(), "keapack did not write {}", p.display());
    }
    fs::rename(&out, &dir).unwrap();
    pkgs
}

/// A digest of the keapack binary, the example sources and the host's kea-dev version.
fn build_key() -> String {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEY.get_or_init(compute_key).clone()
}

fn compute_key() -> String {
    super::require("sha256sum", "coreutils");
    let mut h = Sha256::new();
    // The binary is large and this test crate is unoptimised: let sha256sum digest it.
    h.update(super::stdout(std::process::Command::new("sha256sum").arg(env!("CARGO_BIN_EXE_keapack"))));
    let kea_dev = super::run(std::process::Command::new("dpkg-query").args(["-W", "-f", "${Version}", "kea-dev"]));
    h.update(&kea_dev.stdout);
    let mut files = Vec::new();
    list_files(&super::examples(), &mut files);
    files.sort();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(fs::read(&f).unwrap());
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            list_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The example built for Debian 13 from this Debian 12 host: what keapack wrote.
#[derive(Clone, Debug)]
pub struct ReleaseBuild {
    pub deb: PathBuf,
    pub record: serde_json::Value,
}

/// The bundled example, its version made Kea 2.6.3 (Debian 13's, which its hooks compile
/// against), built by keapack for `debian-13-amd64` on this Debian 12 host: keapack makes a
/// trixie root (cached under `target/keapack-test-cache`, as `$XDG_CACHE_HOME`) and builds in it,
/// with `--verify-load` (a trixie root with Debian 13's Kea, cached there too, loads the hooks
/// before anything is published). The result is kept like `example_packages`'.
pub fn trixie_example() -> ReleaseBuild {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("keapack-test-packages");
    let key = build_key();
    let dir = base.join(&key).join("trixie");
    fs::create_dir_all(base.join(&key)).unwrap();
    let _lock = super::roots::lock_exclusive(&base.join(&key).join("trixie.lock"));
    if !dir.is_dir() {
        let tmp = tempfile::Builder::new().prefix("build-").tempdir_in(base.join(&key)).unwrap();
        let (kea, premium) = (tmp.path().join("kea-2.6.3"), tmp.path().join("kea-premium-2.6.3"));
        super::copy_tree(&super::examples().join("kea-2.2.0"), &kea);
        super::copy_tree(&super::examples().join("kea-premium-2.2.0"), &premium);
        let ac = fs::read_to_string(kea.join("configure.ac")).unwrap();
        assert!(ac.contains("AC_INIT(kea, 2.2.0,"), "the example's AC_INIT changed");
        fs::write(kea.join("configure.ac"), ac.replace("AC_INIT(kea, 2.2.0,", "AC_INIT(kea, 2.6.3,")).unwrap();
        let manifest = tmp.path().join("keapack.toml");
        // The example's hooks compile against the installed Kea's headers: kea-dev in the root.
        fs::write(&manifest, "[build]\nroot-packages = [\"kea-dev\"]\n").unwrap();
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("keapack-test-cache");
        let out = tmp.path().join("dist");
        let res = super::run(super::keapack()
            .args(["build", "--quiet", "--verify-load", "--target", "debian-13-amd64", "--manifest"])
            .arg(&manifest)
            .arg("--kea").arg(&kea)
            .arg("--premium").arg(&premium)
            .arg("--out").arg(&out)
            .arg("--work").arg(tmp.path().join("work"))
            .env("XDG_CACHE_HOME", &cache)
            .env("SOURCE_DATE_EPOCH", "1700000000"));
        assert!(res.status.success(), "keapack build for debian-13-amd64 failed:\n{}\n{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
        fs::rename(&out, &dir).unwrap();
    }
    let mut debs: Vec<PathBuf> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "deb")).collect();
    assert_eq!(debs.len(), 1, "one .deb for debian-13-amd64: {debs:?}");
    let record = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().ends_with(".keapack-buildinfo.json")).expect("a build record");
    ReleaseBuild { deb: debs.remove(0), record: serde_json::from_slice(&fs::read(record).unwrap()).unwrap() }
}

/// A build of the bundled example by the real binary for Debian 12 and RHEL 9 at `revision`,
/// with `args` (e.g. `--split per-hook --meta`) and a manifest of `manifest` text whose
/// directory also holds `changelog.toml` with `changelog` text; every output is in the
/// returned directory. Kept like `example_packages`' builds, under `label`. The builds share a
/// build cache of their own, so only the first compiles.
pub fn example_build(label: &str, revision: u32, args: &[&str], manifest: &str, changelog: &str) -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("keapack-test-packages");
    let key = build_key();
    let dir = base.join(&key).join(format!("{label}-rev-{revision}"));
    fs::create_dir_all(base.join(&key)).unwrap();
    let _lock = super::roots::lock_exclusive(&base.join(&key).join(format!("{label}-rev-{revision}.lock")));
    if dir.is_dir() {
        return dir;
    }
    super::require_build_tools();
    let tmp = tempfile::Builder::new().prefix("build-").tempdir_in(base.join(&key)).unwrap();
    fs::write(tmp.path().join("keapack.toml"), manifest).unwrap();
    fs::write(tmp.path().join("changelog.toml"), changelog).unwrap();
    let out = tmp.path().join("dist");
    let cache = base.join(&key).join("cache");
    let res = super::run(super::keapack()
        .env_remove("KEAPACK_NO_CACHE")
        .env("XDG_CACHE_HOME", &cache)
        .args(["build", "--quiet", "--target", "debian-12-amd64", "--target", "rhel-9-x86_64"])
        .args(args)
        .arg("--manifest").arg(tmp.path().join("keapack.toml"))
        .arg("--revision").arg(revision.to_string())
        .arg("--kea").arg(super::examples().join("kea-2.2.0"))
        .arg("--premium").arg(super::examples().join("kea-premium-2.2.0"))
        .arg("--out").arg(&out)
        .arg("--work").arg(tmp.path().join("work"))
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    assert!(res.status.success(), "keapack build {args:?} --revision {revision} failed:\n{}\n{}", String::from_utf8_lossy(&res.stdout), String::from_utf8_lossy(&res.stderr));
    fs::rename(&out, &dir).unwrap();
    dir
}

/// What real `dpkg-shlibdeps` writes as `Depends` for the hook libraries of `deb`: the
/// package's files are unpacked as `debian/<package>/` of a scratch source tree with a minimal
/// `debian/control` (no Build-Depends), and `dpkg-shlibdeps -O` runs there on every `.so`, with
/// this host's dpkg database, symbols and shlibs files.
pub fn dpkg_shlibdeps_depends(deb: &Path) -> String {
    super::require("dpkg-shlibdeps", "dpkg-dev");
    let tmp = tempfile::tempdir().unwrap();
    let field = |f: &str| super::stdout(std::process::Command::new("dpkg-deb").arg("-f").arg(deb).arg(f)).trim().to_string();
    let package = field("Package");
    let tree = tmp.path().join("debian").join(&package);
    fs::create_dir_all(&tree).unwrap();
    let x = super::run(std::process::Command::new("dpkg-deb").arg("-x").arg(deb).arg(&tree));
    assert!(x.status.success(), "dpkg-deb -x {}: {}", deb.display(), String::from_utf8_lossy(&x.stderr));
    fs::write(tmp.path().join("debian/control"), format!("Source: {package}\n\nPackage: {package}\nArchitecture: any\n")).unwrap();
    let mut hooks = Vec::new();
    list_files(&tree, &mut hooks);
    hooks.retain(|p| p.extension().is_some_and(|x| x == "so"));
    hooks.sort();
    assert!(!hooks.is_empty(), "{} holds no .so", deb.display());
    let out = super::run(std::process::Command::new("dpkg-shlibdeps").arg("-O").args(hooks.iter().map(|h| h.strip_prefix(tmp.path()).unwrap())).current_dir(tmp.path()).env("LC_ALL", "C"));
    assert!(out.status.success(), "dpkg-shlibdeps failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().find_map(|l| l.strip_prefix("shlibs:Depends=")).unwrap_or_else(|| panic!("no shlibs:Depends in {text}")).to_string()
}

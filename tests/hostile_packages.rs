//! `keapack publish` against hostile packages. Every package here is made at run time: valid
//! ones with `dpkg-deb --build` of a crafted directory and the `rpm` crate's builder, hostile
//! ones by writing the ar archive, the tarballs and the control text by hand or by patching
//! bytes of a valid rpm. Nothing binary is committed.
//!
//! For each case a sentinel tree beside the repository and the inputs (where a `../` path
//! would land) is listed and hashed (path, type, mode, SHA-256) before and after, and so is the
//! repository. A case is either refused (exit 1, the message naming the rule, the repository
//! byte-identical, the sentinel unchanged) or accepted safely (the index holds exactly one
//! stanza per package and version, with keapack's own Filename, Size and SHA256 of the pool
//! file, and the sentinel unchanged). No output ever says "(--keep)": no case passes --keep.

mod common;
use common::*;
use common::gpgkey::Key;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const PKG: &str = "kea-premium-hooks";
const DEB_NAME: &str = "kea-premium-hooks_2.2.0-1+deb12_amd64.deb";
const RPM_NAME: &str = "kea-premium-hooks-2.2.0-1.el9.x86_64.rpm";

/// Every entry under `dir`: relative path, type, mode and (for files) SHA-256 or (for links)
/// the target. The repository's own `.keapack/` (the publish lock and state) is left out.
fn tree(dir: &Path) -> Vec<(PathBuf, String, u32, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if p.ends_with(".keapack") {
                continue;
            } else if m.is_dir() {
                out.push((rel, "dir".into(), m.mode(), String::new()));
                stack.push(p);
            } else if m.file_type().is_symlink() {
                out.push((rel, "link".into(), m.mode(), fs::read_link(&p).unwrap().display().to_string()));
            } else {
                out.push((rel, "file".into(), m.mode(), hex(&Sha256::digest(fs::read(&p).unwrap()))));
            }
        }
    }
    out.sort();
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------- making packages

const CONTROL: &str = "Package: kea-premium-hooks\nVersion: 2.2.0-1+deb12\nArchitecture: amd64\nMaintainer: keapack tests <test@example.org>\n\
Depends: libc6 (>= 2.36),\n kea-common\nDescription: hook libraries for the hostile-package corpus\n A package made at run time.\n .\n Second paragraph of the description.\n";

/// A tar archive of `(path, bytes, type)` entries, gzip-compressed.
fn tar_gz(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, kind) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(if *kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_mtime(1_700_000_000);
        // set_path refuses `..`; write the name field directly.
        let name = path.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    let raw = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

fn control_tar(control: &str) -> Vec<u8> {
    tar_gz(&[("./", b"", tar::EntryType::Directory), ("./control", control.as_bytes(), tar::EntryType::Regular)])
}

fn data_tar() -> Vec<u8> {
    tar_gz(&[("./", b"", tar::EntryType::Directory), ("./usr/share/doc/kea-premium-hooks/README", b"hostile corpus\n", tar::EntryType::Regular)])
}

/// An ar archive as dpkg-deb writes it; `sizes` overrides the size a member's header declares.
fn ar(members: &[(&str, Vec<u8>)], sizes: &[(usize, &str)]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (i, (name, data)) in members.iter().enumerate() {
        let size = sizes.iter().find(|(j, _)| *j == i).map_or(data.len().to_string(), |(_, s)| s.to_string());
        out.extend(format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 1_700_000_000, 0, 0, 100644).as_bytes());
        out.extend(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

fn deb_with(control: &str) -> Vec<u8> {
    ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", control_tar(control)), ("data.tar.gz", data_tar())], &[])
}

/// The valid .deb, built by dpkg-deb from a crafted directory.
fn dpkg_built(dir: &Path, control: &str, compression: &str) -> PathBuf {
    require("dpkg-deb", "dpkg");
    let root = dir.join("root");
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::create_dir_all(root.join("usr/share/doc/kea-premium-hooks")).unwrap();
    fs::write(root.join("DEBIAN/control"), control).unwrap();
    fs::write(root.join("usr/share/doc/kea-premium-hooks/README"), "hostile corpus\n").unwrap();
    let out = dir.join("built.deb");
    ok(Command::new("dpkg-deb").args(["--build", "--root-owner-group", "-Z", compression]).arg(&root).arg(&out).env("SOURCE_DATE_EPOCH", "1700000000").output().unwrap(), "dpkg-deb --build");
    out
}

/// An rpm from the `rpm` crate's builder (the builder checks none of these fields).
fn rpm_built(name: &str, release: &str, arch: &str) -> Vec<u8> {
    let mut b = rpm::PackageBuilder::new(name, "2.2.0", "MIT", arch, "hook libraries for the hostile-package corpus");
    b.release(release);
    b.description("A package made at run time.");
    b.with_file_contents("hostile corpus\n", rpm::FileOptions::new("/usr/share/doc/kea-premium-hooks/README")).unwrap();
    let pkg = b.build().unwrap();
    let mut out = Vec::new();
    pkg.write(&mut out).unwrap();
    out
}

/// An rpm whose `placeholder` bytes (a name or release the builder accepts) are replaced by
/// `value` of the same length everywhere: in the header data and the lead. The builder
/// refuses such values itself; a hostile rpm is not made by it.
fn rpm_patched(name: &str, release: &str, arch: &str, placeholder: &str, value: &str) -> Vec<u8> {
    assert_eq!(placeholder.len(), value.len());
    let mut bytes = rpm_built(name, release, arch);
    let (p, v) = (placeholder.as_bytes(), value.as_bytes());
    let mut i = 0;
    let mut n = 0;
    while i + p.len() <= bytes.len() {
        if &bytes[i..i + p.len()] == p {
            bytes[i..i + p.len()].copy_from_slice(v);
            n += 1;
            i += p.len();
        } else {
            i += 1;
        }
    }
    assert!(n > 0, "{placeholder} not in the rpm");
    bytes
}

/// Offsets of the rpm's main header: (start, index entries, data size).
fn main_header(rpm: &[u8]) -> (usize, usize, usize) {
    let be = |at: usize| u32::from_be_bytes(rpm[at..at + 4].try_into().unwrap()) as usize;
    let sig = 96;
    let (il, dl) = (be(sig + 8), be(sig + 12));
    let end = sig + 16 + 16 * il + dl;
    let main = end + (8 - end % 8) % 8;
    assert_eq!(&rpm[main..main + 3], &[0x8e, 0xad, 0xe8], "the test's rpm layout");
    (main, be(main + 8), be(main + 12))
}

/// Patch the main header's entry for `tag`: `f(entry bytes)`.
fn patch_entry(rpm: &mut [u8], tag: u32, f: impl Fn(&mut [u8])) {
    let (main, il, _) = main_header(rpm);
    for i in 0..il {
        let at = main + 16 + 16 * i;
        if u32::from_be_bytes(rpm[at..at + 4].try_into().unwrap()) == tag {
            f(&mut rpm[at..at + 16]);
            return;
        }
    }
    panic!("no tag {tag} in the test rpm");
}

// ---------------------------------------------------------------- the corpus

/// What a case must come to.
enum Expect {
    /// Exit 1, the message holding each of these.
    Refused(&'static [&'static str]),
    /// Published; the packages (name, version) the index must list once each.
    Accepted,
}

struct Case {
    name: &'static str,
    /// The files to publish: (file name, bytes); several go in the same publish.
    files: Vec<(String, Vec<u8>)>,
    expect: Expect,
}

fn case(name: &'static str, file: &str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case { name, files: vec![(file.to_string(), bytes)], expect }
}

fn deb_cases(valid: &[u8]) -> Vec<Case> {
    use Expect::*;
    let with = |extra: &str| deb_with(&format!("{}{extra}", CONTROL));
    let replaced = |from: &str, to: &str| deb_with(&CONTROL.replace(from, to));
    let mut two_controls = vec![("debian-binary", b"2.0\n".to_vec())];
    two_controls.push(("control.tar.gz", tar_gz(&[("./control", CONTROL.as_bytes(), tar::EntryType::Regular), ("./control", CONTROL.replace("amd64", "arm64").as_bytes(), tar::EntryType::Regular)])));
    two_controls.push(("data.tar.gz", data_tar()));
    let second_paragraph = CONTROL.replace(
        " Second paragraph of the description.\n",
        " Second paragraph.\n\nPackage: kea-premium-hooks\nVersion: 2.2.0-1+deb12\nArchitecture: amd64\nFilename: pool/main/k/kea-premium-hooks/evil.deb\nSize: 1\nSHA256: 0000000000000000000000000000000000000000000000000000000000000000\n",
    );
    let mut truncated = valid.to_vec();
    truncated.truncate(valid.len() / 2);
    // A revision the repository does not hold yet, so no other rule (one file per package and
    // version) stops a case before the rule it is about.
    let rev3 = |from: &str, to: &str| deb_with(&CONTROL.replace("2.2.0-1+deb12", "2.2.0-3+deb12").replace(from, to));
    let rev3_name = DEB_NAME.replace("-1+", "-3+");
    vec![
        case("Source with ../", &rev3_name, rev3("Maintainer:", "Source: ../../../../sentinel\nMaintainer:"), Refused(&["Source", "5.6.1"])),
        case("Package with ../", "x_2.2.0-1+deb12_amd64.deb", replaced("Package: kea-premium-hooks", "Package: ../../../../sentinel/x"), Refused(&["Package", "5.6.7", "lower case"])),
        case("Architecture with ../", &rev3_name, rev3("Architecture: amd64", "Architecture: ../../../../../sentinel"), Refused(&["Architecture", "not one this repository serves"])),
        case("Version with /", DEB_NAME, replaced("Version: 2.2.0-1+deb12", "Version: 2.2.0-1+deb12/../../x"), Refused(&["Version", "5.6.12"])),
        case("blank line and a second paragraph in Description", &rev3_name, deb_with(&second_paragraph.replacen("2.2.0-1+deb12", "2.2.0-3+deb12", 1)), Refused(&["blank", "ends a paragraph"])),
        case("injected Filename", &rev3_name, rev3("Maintainer:", "Filename: pool/main/k/kea-premium-hooks/evil.deb\nMaintainer:"), Refused(&["Filename", "computes from the file itself"])),
        case("injected Size", DEB_NAME, with("Size: 1\n"), Refused(&["Size", "computes from the file itself"])),
        case("injected SHA256", DEB_NAME, with("SHA256: 0000000000000000000000000000000000000000000000000000000000000000\n"), Refused(&["SHA256", "computes from the file itself"])),
        case("injected MD5sum", DEB_NAME, with("MD5sum: 00000000000000000000000000000000\n"), Refused(&["MD5sum", "computes from the file itself"])),
        case("file name disagreeing with the fields", "kea-premium-hooks_9.9.9-1+deb12_amd64.deb", valid.to_vec(), Refused(&["say kea-premium-hooks_2.2.0-1+deb12_amd64.deb", "rename"])),
        case("Package with an escape and a newline", DEB_NAME, replaced("Package: kea-premium-hooks", "Package: kea\x1b[31m-premium\n-hooks"), Refused(&["U+001B", "control character"])),
        case("Version continued on a second line", DEB_NAME, replaced("Version: 2.2.0-1+deb12\n", "Version: 2.2.0-1+deb12\n 2\n"), Refused(&["Version is one line"])),
        case("duplicate field", DEB_NAME, with("Version: 2.2.0-9+deb12\n"), Refused(&["Version appears twice"])),
        case("carriage return in a field", DEB_NAME, replaced("Maintainer: keapack tests <test@example.org>", "Maintainer: keapack tests <test@example.org>\r"), Refused(&["U+000D"])),
        case("truncated archive", DEB_NAME, truncated, Refused(&["truncated"])),
        case("garbage after the ar magic", DEB_NAME, b"!<arch>\nthis is not an ar member header at all, just text that goes on".to_vec(), Refused(&["ar member header"])),
        case("not an archive", DEB_NAME, b"\x7fELF garbage".to_vec(), Refused(&["neither a .deb nor an .rpm"])),
        case(
            "wrong ar member order",
            DEB_NAME,
            ar(&[("control.tar.gz", control_tar(CONTROL)), ("debian-binary", b"2.0\n".to_vec()), ("data.tar.gz", data_tar())], &[]),
            Refused(&["in that order", "deb(5)"]),
        ),
        case(
            "extra member after data.tar",
            DEB_NAME,
            ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", control_tar(CONTROL)), ("data.tar.gz", data_tar()), ("evil", b"x".to_vec())], &[]),
            Refused(&["the member evil after data.tar"]),
        ),
        case("two control files", DEB_NAME, ar(&two_controls.iter().map(|(n, d)| (*n, d.clone())).collect::<Vec<_>>(), &[]), Refused(&["./control twice"])),
        case(
            "control tarball without ./control",
            DEB_NAME,
            ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", tar_gz(&[("./md5sums", b"", tar::EntryType::Regular)])), ("data.tar.gz", data_tar())], &[]),
            Refused(&["holds no ./control"]),
        ),
        case(
            "control tarball entry with ../",
            DEB_NAME,
            ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", tar_gz(&[("../../control", CONTROL.as_bytes(), tar::EntryType::Regular)])), ("data.tar.gz", data_tar())], &[]),
            Refused(&["outside the control directory"]),
        ),
        case(
            "./control a symbolic link",
            DEB_NAME,
            ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", tar_gz(&[("./control", b"", tar::EntryType::Symlink)])), ("data.tar.gz", data_tar())], &[]),
            Refused(&["not a regular file"]),
        ),
        case(
            "huge declared member size",
            DEB_NAME,
            ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", control_tar(CONTROL)), ("data.tar.gz", data_tar())], &[(1, "9999999999")]),
            Refused(&["declares 9999999999 bytes"]),
        ),
        case(
            "member size not a number",
            DEB_NAME,
            ar(&[("debian-binary", b"2.0\n".to_vec()), ("control.tar.gz", control_tar(CONTROL)), ("data.tar.gz", data_tar())], &[(0, "-4")]),
            Refused(&["not a decimal number"]),
        ),
        case("ar member dated after the year 9999", DEB_NAME, {
            let mut d = deb_with(CONTROL);
            d[8 + 16..8 + 28].copy_from_slice(b"999999999999");
            d
        }, Refused(&["after the year 9999"])),
        case("debian-binary of another format", DEB_NAME, {
            ar(&[("debian-binary", b"3.0\n".to_vec()), ("control.tar.gz", control_tar(CONTROL)), ("data.tar.gz", data_tar())], &[])
        }, Refused(&["not format 2.x"])),
        case("Architecture of no profile", DEB_NAME.replace("amd64", "i386").as_str(), replaced("Architecture: amd64", "Architecture: i386"), Refused(&["i386", "not one this repository serves"])),
        case("same package and version from another source", DEB_NAME, with("Source: kea-other\n"), Refused(&["already lists kea-premium-hooks 2.2.0-1+deb12", "another revision"])),
        Case {
            name: "two different files with the same name in one publish",
            files: vec![(DEB_NAME.into(), valid.to_vec()), (format!("again/{DEB_NAME}"), deb_with(CONTROL))],
            expect: Refused(&["are different files with the same name"]),
        },
        // Accepted safely.
        case("the valid package, built by dpkg-deb, published again", DEB_NAME, valid.to_vec(), Accepted),
        Case { name: "the same file twice in one publish", files: vec![(DEB_NAME.into(), valid.to_vec()), (format!("copy/{DEB_NAME}"), valid.to_vec())], expect: Accepted },
        case(
            "a hand-made package with a signature member after data.tar",
            "kea-premium-hooks_2.2.0-2+deb12_amd64.deb",
            ar(
                &[
                    ("debian-binary", b"2.0\n".to_vec()),
                    ("control.tar.gz", control_tar(&CONTROL.replace("2.2.0-1+deb12", "2.2.0-2+deb12"))),
                    ("data.tar.gz", data_tar()),
                    ("_gpgorigin", b"signature".to_vec()),
                ],
                &[],
            ),
            Accepted,
        ),
    ]
}

fn rpm_cases(valid: &[u8]) -> Vec<Case> {
    use Expect::*;
    let mut out_of_bounds = valid.to_vec();
    patch_entry(&mut out_of_bounds, 1000, |e| e[8..12].copy_from_slice(&0x7fff_fff0u32.to_be_bytes()));
    let mut huge_count = valid.to_vec();
    let (main, _, _) = main_header(valid);
    huge_count[main + 8..main + 12].copy_from_slice(&0x00ff_ffffu32.to_be_bytes());
    let mut huge_data = valid.to_vec();
    huge_data[main + 12..main + 16].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let mut wrong_type = valid.to_vec();
    patch_entry(&mut wrong_type, 1000, |e| e[4..8].copy_from_slice(&4u32.to_be_bytes()));
    let mut bad_type = valid.to_vec();
    patch_entry(&mut bad_type, 1001, |e| e[4..8].copy_from_slice(&77u32.to_be_bytes()));
    let mut huge_entry_count = valid.to_vec();
    patch_entry(&mut huge_entry_count, 1004, |e| e[12..16].copy_from_slice(&0x4000_0000u32.to_be_bytes()));
    let mut truncated = valid.to_vec();
    truncated.truncate(main + 40);
    let mut bad_magic = valid.to_vec();
    bad_magic[main] = 0;
    vec![
        case("rpm ARCH ../../", RPM_NAME, rpm_built(PKG, "1.el9", "../../"), Refused(&["ARCH", "not one this repository serves"])),
        case("rpm NAME with an escape and a newline", RPM_NAME, rpm_patched("keaQQQQQQhooks", "1.el9", "x86_64", "keaQQQQQQhooks", "kea\x1b[31m\nhooks"), Refused(&["control character 0x1b"])),
        case("rpm NAME with ../", RPM_NAME, rpm_patched("keapackhostile", "1.el9", "x86_64", "keapackhostile", "kea/../../sent"), Refused(&["NAME", "letters, digits"])),
        case("rpm RELEASE with /", RPM_NAME, rpm_patched(PKG, "1.el9QQQQQQQQ", "x86_64", "1.el9QQQQQQQQ", "1.el9/../../x"), Refused(&["RELEASE", "no '-'"])),
        case("rpm file name disagreeing with the header", "kea-premium-hooks-2.2.0-9.el9.x86_64.rpm", valid.to_vec(), Refused(&["says kea-premium-hooks-2.2.0-1.el9.x86_64.rpm", "rename"])),
        case("rpm header entry offset out of bounds", RPM_NAME, out_of_bounds, Refused(&["past the header's", "damaged or forged"])),
        case("rpm header declaring 16 million entries", RPM_NAME, huge_count, Refused(&["16777215 index entries"])),
        case("rpm header declaring 2 GiB of data", RPM_NAME, huge_data, Refused(&["2147483647 bytes of data"])),
        case("rpm entry count past the data", RPM_NAME, huge_entry_count, Refused(&["out of bounds"])),
        case("rpm NAME stored as a number", RPM_NAME, wrong_type, Refused(&["NAME has type 4"])),
        case("rpm entry of an unknown type", RPM_NAME, bad_type, Refused(&["type 77"])),
        case("rpm truncated in its main header", RPM_NAME, truncated, Refused(&["truncated"])),
        case("rpm main header without its magic", RPM_NAME, bad_magic, Refused(&["header magic"])),
        case("rpm ARCH of no profile", &RPM_NAME.replace("x86_64", "s390x"), rpm_built(PKG, "1.el9", "s390x"), Refused(&["s390x", "not one this repository serves"])),
        // Accepted safely.
        case("the valid rpm, published again", RPM_NAME, valid.to_vec(), Accepted),
        Case {
            name: "a noarch rpm with the valid one",
            files: vec![(RPM_NAME.into(), valid.to_vec()), ("kea-premium-hooks-doc-2.2.0-1.el9.noarch.rpm".into(), rpm_built("kea-premium-hooks-doc", "1.el9", "noarch"))],
            expect: Accepted,
        },
    ]
}

/// Run every case against a repository that already holds `baseline`; return (refused, accepted).
fn run_corpus(key: &Key, work: &Path, baseline: &Path, cases: Vec<Case>, check_index: fn(&Path)) -> (usize, usize) {
    let repo = work.join("repo");
    let sentinel = work.join("sentinel");
    fs::create_dir_all(sentinel.join("keep")).unwrap();
    fs::write(sentinel.join("keep/file"), "the sentinel\n").unwrap();
    ok(key.publish(&repo, &[baseline]), "publishing the valid package");
    check_index(&repo);
    // Everything in `work` but the repository and the inputs: where an escaping path lands.
    let outside = |w: &Path| tree(w).into_iter().filter(|(p, ..)| !p.starts_with("repo") && !p.starts_with("in")).collect::<Vec<_>>();
    let (mut refused, mut accepted) = (0, 0);
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let input = work.join("in").join(i.to_string());
        let mut paths = Vec::new();
        for (name, bytes) in &c.files {
            let p = input.join(name);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, bytes).unwrap();
            paths.push(p);
        }
        let (repo_before, outside_before) = (tree(&repo), outside(work));
        let out = key.publish(&repo, &paths.iter().map(PathBuf::as_path).collect::<Vec<_>>());
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        let mut problems = Vec::new();
        if outside(work) != outside_before {
            problems.push(format!("wrote outside the repository: {:?}", outside(work).into_iter().filter(|e| !outside_before.contains(e)).collect::<Vec<_>>()));
        }
        if said.contains("(--keep)") {
            problems.push("said (--keep) without --keep".into());
        }
        if said.contains('\x1b') {
            problems.push("printed an escape character".into());
        }
        match c.expect {
            Expect::Refused(rules) => {
                if out.status.code() != Some(1) {
                    problems.push(format!("exit {:?}, not 1", out.status.code()));
                }
                for r in rules {
                    if !said.contains(r) {
                        problems.push(format!("the message does not say {r:?}"));
                    }
                }
                if tree(&repo) != repo_before {
                    problems.push("the repository changed".into());
                }
                refused += problems.is_empty() as usize;
            }
            Expect::Accepted => {
                if !out.status.success() {
                    problems.push("refused".into());
                } else {
                    check_index(&repo);
                }
                accepted += problems.is_empty() as usize;
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n  keapack said: {}", c.name, problems.join("; "), said.trim()));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases went wrong:\n{}", failures.len(), cases.len(), failures.join("\n"));
    (refused, accepted)
}

/// The bookworm indices: one stanza per package and version, Filename, Size and SHA256 those
/// of a file inside the pool, and no field twice.
fn check_apt_index(repo: &Path) {
    let apt = repo.join("apt");
    for arch in ["amd64"] {
        let text = fs::read_to_string(apt.join(format!("dists/bookworm/main/binary-{arch}/Packages"))).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for stanza in text.split("\n\n").filter(|s| !s.trim().is_empty()) {
            let field = |n: &str| {
                let v: Vec<&str> = stanza.lines().filter_map(|l| l.strip_prefix(&format!("{n}: "))).collect();
                assert_eq!(v.len(), 1, "{n} once in\n{stanza}");
                v[0].to_string()
            };
            assert!(seen.insert((field("Package"), field("Version"))), "a second stanza for {} {}:\n{text}", field("Package"), field("Version"));
            let file = field("Filename");
            assert!(file.starts_with("pool/main/k/kea-premium-hooks/") && !file.contains(".."), "{file}");
            let bytes = fs::read(apt.join(&file)).unwrap();
            assert_eq!(field("SHA256"), hex(&Sha256::digest(&bytes)), "{file}");
            assert_eq!(field("Size"), bytes.len().to_string(), "{file}");
            assert!(!stanza.lines().any(|l| l.trim().is_empty()), "{stanza}");
        }
        assert!(!seen.is_empty(), "an empty index:\n{text}");
    }
    let release = fs::read_to_string(apt.join("dists/bookworm/Release")).unwrap();
    assert!(!release.contains(".."), "{release}");
}

/// The el9 repositories: only served architectures, each package file once, repomd.xml present.
fn check_rpm_repo(repo: &Path) {
    let el9 = repo.join("rpm/el9");
    let mut dirs: Vec<String> = fs::read_dir(&el9).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    dirs.sort();
    assert_eq!(dirs, ["x86_64"], "architectures under rpm/el9");
    assert!(el9.join("x86_64/repodata/repomd.xml").is_file());
    assert!(el9.join("x86_64/Packages").join(RPM_NAME).is_file());
    assert!(!repo.join("Packages").exists() && !repo.join("repodata").exists() && !repo.join("rpm/Packages").exists());
}

#[test]
fn hostile_debs_are_refused_before_anything_is_written() {
    let key = Key::new();
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let valid = dpkg_built(&tmp.path().join("dpkg"), CONTROL, "gzip");
    let baseline = tmp.path().join(DEB_NAME);
    fs::rename(&valid, &baseline).unwrap();
    let bytes = fs::read(&baseline).unwrap();
    // The hand-made archive is one dpkg-deb reads, so a refusal below is for what each case changed.
    let handmade = tmp.path().join("handmade.deb");
    fs::write(&handmade, deb_with(CONTROL)).unwrap();
    ok(Command::new("dpkg-deb").arg("--info").arg(&handmade).output().unwrap(), "dpkg-deb --info of the hand-made package");
    let cases = deb_cases(&bytes);
    let (total, expect_refused) = (cases.len(), cases.iter().filter(|c| matches!(c.expect, Expect::Refused(_))).count());
    let (refused, accepted) = run_corpus(&key, &work, &baseline, cases, check_apt_index);
    println!("hostile .deb corpus: {total} cases, {refused} refused, {accepted} accepted safely");
    assert_eq!((refused, accepted), (expect_refused, total - expect_refused));
    // The accepted revision 2 sits beside revision 1: two stanzas, one each.
    let index = fs::read_to_string(work.join("repo/apt/dists/bookworm/main/binary-amd64/Packages")).unwrap();
    assert_eq!(index.matches("Package: kea-premium-hooks\n").count(), 2, "{index}");
}

#[test]
fn hostile_rpms_are_refused_before_anything_is_written() {
    require("createrepo_c", "createrepo-c");
    let key = Key::new();
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let valid = rpm_built(PKG, "1.el9", "x86_64");
    let baseline = tmp.path().join(RPM_NAME);
    fs::write(&baseline, &valid).unwrap();
    let cases = rpm_cases(&valid);
    let (total, expect_refused) = (cases.len(), cases.iter().filter(|c| matches!(c.expect, Expect::Refused(_))).count());
    let (refused, accepted) = run_corpus(&key, &work, &baseline, cases, check_rpm_repo);
    println!("hostile .rpm corpus: {total} cases, {refused} refused, {accepted} accepted safely");
    assert_eq!((refused, accepted), (expect_refused, total - expect_refused));
    let packages: Vec<String> = fs::read_dir(work.join("repo/rpm/el9/x86_64/Packages")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(packages.len(), 2, "the valid rpm and the noarch one: {packages:?}");
}

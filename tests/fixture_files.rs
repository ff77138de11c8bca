//! The example's full build (`make` and `make install DESTDIR=...` at the top of the tree, what
//! `keapack build --full-build` runs) lays out exactly the file set of a real Kea 2.2.0 listed in
//! examples/kea-2.2.0/src/bin/installed-files.txt, plus the premium overlay's hooks.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

#[derive(Debug, PartialEq)]
enum Entry {
    File { mode: u32, elf: bool },
    Link(String),
    Dir,
}

/// installed-files.txt: `f MODE PATH [elf]`, `l PATH TARGET`, `d PATH`.
fn read_list(list: &Path) -> BTreeMap<String, Entry> {
    let text = std::fs::read_to_string(list).unwrap_or_else(|e| panic!("cannot read {}: {e}", list.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = line.split(' ').collect();
        let (path, entry) = match w.as_slice() {
            ["f", mode, path] => (*path, Entry::File { mode: u32::from_str_radix(mode, 8).unwrap(), elf: false }),
            ["f", mode, path, "elf"] => (*path, Entry::File { mode: u32::from_str_radix(mode, 8).unwrap(), elf: true }),
            ["l", path, target] => (*path, Entry::Link(target.to_string())),
            ["d", path] => (*path, Entry::Dir),
            _ => panic!("{}:{}: not an f/l/d line: {line:?}", list.display(), n + 1),
        };
        assert!(out.insert(path.to_string(), entry).is_none(), "{}:{}: {path} listed twice", list.display(), n + 1);
    }
    out
}

/// What is under `stage`, as paths from its root.
fn walk(stage: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let key = format!("/{}", p.strip_prefix(stage).unwrap().display());
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let entry = if meta.file_type().is_symlink() {
            Entry::Link(std::fs::read_link(&p).unwrap().display().to_string())
        } else if meta.is_dir() {
            walk(stage, &p, out);
            Entry::Dir
        } else {
            let head = std::fs::read(&p).unwrap();
            Entry::File { mode: meta.permissions().mode() & 0o7777, elf: head.starts_with(b"\x7fELF") }
        };
        out.insert(key, entry);
    }
}

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh").arg("-c").arg(script).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "`{script}` failed in {}:\n{}\n{}", dir.display(), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
#[ignore = "slow: builds the example"]
fn full_make_install_lays_out_the_listed_kea_file_set() {
    require_build_tools();
    require("readelf", "binutils");
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("kea");
    let stage = tmp.path().join("stage");
    copy_tree(&examples().join("kea-2.2.0"), &tree);
    copy_tree(&examples().join("kea-premium-2.2.0/premium"), &tree.join("premium"));
    sh(&tree, "autoreconf -if && ./configure --prefix=/usr --libdir=/usr/lib/x86_64-linux-gnu --sysconfdir=/etc --localstatedir=/var --runstatedir=/run --disable-static --disable-rpath");
    sh(&tree, "make -j2");
    sh(&tree, &format!("make install DESTDIR={}", stage.display()));

    let mut want = read_list(&examples().join("kea-2.2.0/src/bin/installed-files.txt"));
    // The premium overlay's hooks, installed by libtool like the others.
    for hook in ["libdhcp_flex_id", "libdhcp_host_cmds"] {
        want.insert(format!("/usr/lib/x86_64-linux-gnu/kea/hooks/{hook}.so"), Entry::File { mode: 0o755, elf: true });
        want.insert(format!("/usr/lib/x86_64-linux-gnu/kea/hooks/{hook}.la"), Entry::File { mode: 0o755, elf: false });
    }
    let mut got = BTreeMap::new();
    walk(&stage, &stage, &mut got);

    let mut diffs = Vec::new();
    for (path, w) in &want {
        match got.get(path) {
            None => diffs.push(format!("missing: {path} ({w:?})")),
            Some(g) if g != w => diffs.push(format!("differs: {path}: listed {w:?}, installed {g:?}")),
            Some(_) => {}
        }
    }
    for (path, g) in &got {
        if !want.contains_key(path) {
            diffs.push(format!("not listed: {path} ({g:?})"));
        }
    }
    assert!(diffs.is_empty(), "the staged tree differs from installed-files.txt in {} entries:\n{}", diffs.len(), diffs.join("\n"));

    // The ELF stand-ins link neither the in-tree libkea stand-ins nor the host's libkea; the
    // libraries carry the SONAME their links name; the programs answer -v and -t.
    let lib = stage.join("usr/lib/x86_64-linux-gnu");
    for (path, entry) in &want {
        let Entry::File { elf: true, .. } = entry else { continue };
        if path.contains("lease_cmds") || path.contains("flex_id") || path.contains("host_cmds") {
            continue; // real hooks, built against the host's Kea
        }
        let out = Command::new("readelf").arg("-d").arg(stage.join(&path[1..])).output().unwrap();
        let dynamic = String::from_utf8_lossy(&out.stdout);
        let needed: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)")).collect();
        assert!(needed.iter().all(|l| !l.contains("[libkea-")), "{path} must link only libc/libstdc++: {needed:?}");
        let file = path.rsplit('/').next().unwrap();
        if let (true, Some(i)) = (file.starts_with("libkea-"), file.find(".so.")) {
            let major = file[i + 4..].split('.').next().unwrap();
            let soname = format!("{}.so.{major}", &file[..i]);
            assert!(dynamic.contains(&format!("Library soname: [{soname}]")), "{path}: SONAME is not {soname}:\n{dynamic}");
            assert_eq!(want.get(&format!("/usr/lib/x86_64-linux-gnu/{soname}")), Some(&Entry::Link(file.to_string())), "{soname} must link to {file}");
        }
    }
    assert!(lib.join("libkea-util-io.so.0").exists(), "libkea-util-io.so.0 (SONAME of libkea-util-io.so.0.0.1)");
    let sbin = stage.join("usr/sbin");
    let out = Command::new(sbin.join("kea-dhcp4")).arg("-v").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kea-dhcp4 stand-in 2.2.0\n");
    assert!(out.status.success());
    let ok = Command::new(sbin.join("kea-dhcp4")).arg("-t").arg(stage.join("etc/kea/kea-dhcp4.conf")).status().unwrap();
    assert!(ok.success(), "kea-dhcp4 -t of the installed kea-dhcp4.conf");
    let missing = Command::new(sbin.join("kea-dhcp4")).arg("-t").arg(stage.join("etc/kea/absent.conf")).status().unwrap();
    assert_eq!(missing.code(), Some(1), "kea-dhcp4 -t of a missing file");
}

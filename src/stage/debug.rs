//! Debug symbols kept apart (`--debug-symbols`): each hook's DWARF goes into a separate
//! `.debug` file before the library is stripped, and those files become one debug package per
//! target: `<name>-dbgsym` (`.deb`, Debian's naming) and `<name>-debuginfo` (`.rpm`).
//!
//! The steps are debhelper's `dh_strip`: `objcopy --only-keep-debug --compress-debug-sections`,
//! then the usual deterministic strip, then `objcopy --add-gnu-debuglink` (which stores the
//! debug file's name and CRC in the library, so the stripped library differs from one built
//! without `--debug-symbols`). Debug files install as
//! `/usr/lib/debug/.build-id/<first two hex digits>/<rest>.debug`, where gdb and
//! debuginfod-style tools look them up by the library's GNU build ID on both families.
//!
//! Kept modest on purpose: no `Build-Ids:`/`Auto-Built-Package:` control fields (the build IDs
//! are listed in the description instead) and no rpm `debugsource` package.

use crate::plan::changelog::changelog_debian_gz;
use crate::support::runner::Runner;
use crate::plan::spec::{FileEntry, FileRole, Format, Op, PackageSpec, Relation, Source};
use anyhow::{Context, Result, bail};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One hook's separated debug symbols.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugFile {
    /// The hook's file name (`libdhcp_host_cmds.so`).
    pub library: String,
    /// The GNU build ID, lowercase hex.
    pub build_id: String,
    /// Where the `.debug` file lies in the work directory.
    pub path: PathBuf,
}

impl DebugFile {
    /// The install path: `/usr/lib/debug/.build-id/ab/cdef….debug`.
    pub fn install_path(&self) -> String {
        format!("/usr/lib/debug/{}", build_id_path(&self.build_id))
    }
}

/// `.build-id/ab/cdef….debug`: the path below a debug directory for a build ID.
fn build_id_path(id: &str) -> String {
    format!(".build-id/{}/{}.debug", &id[..2], &id[2..])
}

/// Copy `lib`'s debug sections into `<debug_dir>/.build-id/xx/yyyy.debug` (before stripping).
pub fn split(lib: &Path, library: &str, debug_dir: &Path, runner: &mut Runner) -> Result<DebugFile> {
    let build_id = build_id(lib)?.with_context(|| {
        format!("{} has no GNU build ID, so its debug symbols cannot be found by one; link with -Wl,--build-id (GCC's default)", lib.display())
    })?;
    let debug = DebugFile { library: library.to_string(), path: debug_dir.join(build_id_path(&build_id)), build_id };
    fs::create_dir_all(debug.path.parent().expect("has a parent"))?;
    runner.run(
        &format!("keep the debug symbols of {library}"),
        &format!("debug-{}", library.trim_end_matches(".so")),
        Command::new("objcopy").args(["--only-keep-debug", "--compress-debug-sections"]).arg(lib).arg(&debug.path),
    )?;
    Ok(debug)
}

/// Point the stripped `lib` at its debug file (`.gnu_debuglink`: file name and CRC32).
pub fn link(lib: &Path, debug: &DebugFile, runner: &mut Runner) -> Result<()> {
    let mut arg = std::ffi::OsString::from("--add-gnu-debuglink=");
    arg.push(&debug.path);
    runner.run(
        &format!("link {} to its debug symbols", debug.library),
        &format!("debuglink-{}", debug.library.trim_end_matches(".so")),
        Command::new("objcopy").arg(arg).arg(lib),
    )?;
    Ok(())
}

/// The debug package that goes with `main`: same version and architecture, depending on
/// exactly `main`'s version, holding the `.debug` files and the copyright (and for `.deb` a
/// changelog) under its own name.
pub fn plan_package(main: &PackageSpec, files: &[DebugFile]) -> PackageSpec {
    let name = match main.format {
        Format::Deb => format!("{}-dbgsym", main.name),
        Format::Rpm => format!("{}-debuginfo", main.name),
    };
    let full_version = format!("{}-{}", main.version, main.revision);
    let (old_doc, new_doc) = (format!("/usr/share/doc/{}/", main.name), format!("/usr/share/doc/{name}/"));
    let (old_lic, new_lic) = (format!("/usr/share/licenses/{}/", main.name), format!("/usr/share/licenses/{name}/"));
    let mut spec = PackageSpec {
        name: name.clone(),
        summary: format!("debug symbols for {}", main.name),
        description: format!(
            "Debug symbols (DWARF) for the hook libraries in\n{} {full_version}, one file per GNU build ID:\n{}",
            main.name,
            files.iter().map(|f| format!("{} {}", f.library, f.build_id)).collect::<Vec<_>>().join("\n")
        ),
        section: if main.format == Format::Deb { "debug".into() } else { main.section.clone() },
        depends: vec![Relation { name: main.name.clone(), constraint: Some((Op::Eq, full_version)) }],
        files: files
            .iter()
            .map(|f| FileEntry { path: f.install_path(), source: Source::Path(f.path.clone()), mode: 0o644, role: FileRole::Plain })
            .collect(),
        owned_dirs: Vec::new(),
        post_install: None,
        ..main.clone()
    };
    for f in &main.files {
        if let Some(rest) = f.path.strip_prefix(&old_lic) {
            spec.files.push(FileEntry { path: format!("{new_lic}{rest}"), ..f.clone() });
            spec.owned_dirs.push(new_lic.trim_end_matches('/').to_string());
        } else if f.path.strip_prefix(&old_doc) == Some("copyright") {
            spec.files.push(FileEntry { path: format!("{new_doc}copyright"), ..f.clone() });
        }
    }
    if main.format == Format::Deb {
        let changelog = changelog_debian_gz(&spec);
        spec.files.push(FileEntry { path: format!("{new_doc}changelog.Debian.gz"), source: Source::Bytes(changelog), mode: 0o644, role: FileRole::Plain });
        spec.owned_dirs.push(new_doc.trim_end_matches('/').to_string());
    }
    spec.files.sort_by(|a, b| a.path.cmp(&b.path));
    spec.owned_dirs.sort();
    spec.owned_dirs.dedup();
    spec
}

/// The GNU build ID of an ELF file (the `NT_GNU_BUILD_ID` note), if it has one. Reads only the
/// section headers and note sections.
pub fn build_id(path: &Path) -> Result<Option<String>> {
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut ident = [0u8; 64];
    f.read_exact(&mut ident).with_context(|| format!("{} is too short for an ELF file", path.display()))?;
    if &ident[..4] != b"\x7fELF" {
        bail!("{} is not an ELF file", path.display());
    }
    let (wide, big) = (ident[4] == 2, ident[5] == 2);
    let num = |b: &[u8]| -> u64 {
        let mut v = 0u64;
        for i in 0..b.len() {
            v |= u64::from(if big { b[b.len() - 1 - i] } else { b[i] }) << (8 * i);
        }
        v
    };
    let (shoff, shentsize, shnum) = if wide { (num(&ident[40..48]), num(&ident[58..60]), num(&ident[60..62])) } else { (num(&ident[32..36]), num(&ident[46..48]), num(&ident[48..50])) };
    for i in 0..shnum {
        let mut sh = vec![0u8; shentsize as usize];
        f.seek(SeekFrom::Start(shoff + i * shentsize))?;
        f.read_exact(&mut sh)?;
        if num(&sh[4..8]) != 7 {
            continue; // not SHT_NOTE
        }
        let (offset, size) = if wide { (num(&sh[24..32]), num(&sh[32..40])) } else { (num(&sh[16..20]), num(&sh[20..24])) };
        let mut notes = vec![0u8; size.min(1 << 16) as usize];
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(&mut notes)?;
        let mut p = 0;
        while p + 12 <= notes.len() {
            let (namesz, descsz, kind) = (num(&notes[p..p + 4]) as usize, num(&notes[p + 4..p + 8]) as usize, num(&notes[p + 8..p + 12]));
            let name_at = p + 12;
            let desc_at = name_at + namesz.next_multiple_of(4);
            if desc_at + descsz > notes.len() {
                break;
            }
            if kind == 3 && &notes[name_at..name_at + namesz] == b"GNU\0" && descsz > 1 {
                return Ok(Some(notes[desc_at..desc_at + descsz].iter().map(|b| format!("{b:02x}")).collect()));
            }
            p = desc_at + descsz.next_multiple_of(4);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{run, sample_spec};

    #[test]
    fn reads_the_build_id_readelf_reads() {
        let me = std::env::current_exe().unwrap();
        let ours = build_id(&me).unwrap().expect("rustc links with a build ID");
        let notes = run("readelf", "binutils", &["-n", me.to_str().unwrap()]);
        assert!(notes.contains(&format!("Build ID: {ours}")), "{ours} not in\n{notes}");
        let tmp = tempfile::NamedTempFile::new().unwrap();
        fs::write(tmp.path(), [0u8; 80]).unwrap();
        assert!(build_id(tmp.path()).is_err());
    }

    #[test]
    fn debug_package_names_paths_and_pin() {
        let files = [DebugFile { library: "libdhcp_test.so".into(), build_id: "ab12cd34".into(), path: "/w/debug/ab/12cd34.debug".into() }];
        assert_eq!(files[0].install_path(), "/usr/lib/debug/.build-id/ab/12cd34.debug");
        for (format, name, section) in [(Format::Deb, "kea-hook-test-dbgsym", "debug"), (Format::Rpm, "kea-hook-test-debuginfo", "net")] {
            let (_tmp, main) = sample_spec(format, crate::plan::spec::Compression::Gzip);
            let dbg = plan_package(&main, &files);
            assert_eq!((dbg.name.as_str(), dbg.section.as_str()), (name, section));
            assert_eq!(dbg.depends, vec![Relation { name: "kea-hook-test".into(), constraint: Some((Op::Eq, "2.6.5-1".into())) }]);
            assert!(dbg.post_install.is_none());
            assert_eq!(dbg.files[0].path, "/usr/lib/debug/.build-id/ab/12cd34.debug");
            assert!(dbg.description.contains("libdhcp_test.so ab12cd34"));
            let paths: Vec<&str> = dbg.files.iter().map(|f| f.path.as_str()).collect();
            match format {
                Format::Deb => assert!(paths.contains(&"/usr/share/doc/kea-hook-test-dbgsym/changelog.Debian.gz"), "{paths:?}"),
                Format::Rpm => assert!(paths.contains(&"/usr/share/licenses/kea-hook-test-debuginfo/LICENSE"), "{paths:?}"),
            }
        }
    }
}

//! The dynamic-linking facts of one ELF shared object: machine, class, SONAME, the libraries it
//! needs (`DT_NEEDED`), the symbol versions it needs from each (`.gnu.version_r`) and any
//! RPATH/RUNPATH.
//!
//! Reading goes through the `object` crate (gimli-rs, read-only ELF support only) over a
//! `ReadCache`, so only the headers and the dynamic sections are read from disk, never the whole
//! library.

use anyhow::{Context, Result, bail};
use object::read::elf::{Dyn, FileHeader};
use object::read::{FileKind, ReadCache, ReadRef};
use object::{Endianness, elf};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the dynamic linker reads from a shared object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// `e_machine` (62: x86_64, 183: aarch64, …).
    pub machine: u16,
    /// ELFCLASS64.
    pub class64: bool,
    pub soname: Option<String>,
    /// `DT_NEEDED` entries, in file order.
    pub needed: Vec<String>,
    /// For each needed library, the symbol versions required from it (`GLIBC_2.14`, …).
    pub version_needs: BTreeMap<String, BTreeSet<String>>,
    /// `DT_RPATH` and `DT_RUNPATH` values.
    pub rpath: Vec<String>,
    /// Functions the object defines and exports (`.dynsym`, global or weak, defined).
    pub exports: BTreeSet<String>,
}

/// Read the dynamic facts of the ELF object at `path`.
pub fn read(path: &Path) -> Result<ElfInfo> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let cache = ReadCache::new(file);
    let what = || format!("{} is not a readable ELF object", path.display());
    match FileKind::parse(&cache).with_context(what)? {
        FileKind::Elf32 => read_elf::<elf::FileHeader32<Endianness>, _>(&cache),
        FileKind::Elf64 => read_elf::<elf::FileHeader64<Endianness>, _>(&cache),
        _ => bail!("{}", what()),
    }
    .with_context(what)
}

fn read_elf<'data, Elf, R>(data: R) -> Result<ElfInfo>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    let (mut needed, mut soname, mut rpath) = (Vec::new(), None, Vec::new());
    if let Some((dynamics, link)) = sections.dynamic(endian, data)? {
        let strings = sections.strings(endian, data, link)?;
        for d in dynamics {
            let tag = d.tag(endian);
            if tag == elf::DT_NULL {
                break;
            }
            if ![elf::DT_NEEDED, elf::DT_SONAME, elf::DT_RPATH, elf::DT_RUNPATH].contains(&tag) {
                continue;
            }
            let value = text(d.string(endian, strings)?);
            match tag {
                elf::DT_NEEDED => needed.push(value),
                elf::DT_SONAME => soname = Some(value),
                _ => rpath.push(value),
            }
        }
    }

    let mut version_needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some((mut needs, link)) = sections.gnu_verneed(endian, data)? {
        let strings = sections.strings(endian, data, link)?;
        while let Some((need, mut aux)) = needs.next()? {
            let versions = version_needs.entry(text(need.file(endian, strings)?)).or_default();
            while let Some(a) = aux.next()? {
                versions.insert(text(a.name(endian, strings)?));
            }
        }
    }
    let mut exports = BTreeSet::new();
    let dynsym = sections.symbols(endian, data, elf::SHT_DYNSYM)?;
    for sym in dynsym.iter() {
        use object::read::elf::Sym;
        let bind = sym.st_bind();
        if sym.st_type() == elf::STT_FUNC && sym.st_shndx(endian) != elf::SHN_UNDEF && (bind == elf::STB_GLOBAL || bind == elf::STB_WEAK) {
            exports.insert(text(sym.name(endian, dynsym.strings())?));
        }
    }
    Ok(ElfInfo { machine: header.e_machine(endian).0, class64: header.is_class_64(), soname, needed, version_needs, rpath, exports })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A library of this machine: libstdc++ needs libc and libm, with versions.
    fn libstdcxx() -> std::path::PathBuf {
        let out = std::process::Command::new("g++").arg("-print-file-name=libstdc++.so.6").output().expect("this test needs g++: apt-get install g++");
        let p = std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert!(p.is_absolute(), "g++ does not know libstdc++.so.6: apt-get install g++");
        p
    }

    #[test]
    fn reads_needed_sonames_and_versions_of_a_real_library() {
        let info = read(&libstdcxx()).unwrap();
        assert_eq!(info.soname.as_deref(), Some("libstdc++.so.6"));
        assert!(info.needed.iter().any(|n| n == "libc.so.6") && info.needed.iter().any(|n| n == "libm.so.6"), "{info:?}");
        let libc = &info.version_needs["libc.so.6"];
        assert!(libc.iter().any(|v| v.starts_with("GLIBC_2.")), "{libc:?}");
        assert!(info.rpath.is_empty());
        assert!(info.exports.iter().any(|e| e.starts_with("_ZNSt")), "libstdc++ exports its functions");
        assert!(!info.exports.contains("malloc"), "imports are not exports");
        assert_eq!(info.class64, cfg!(target_pointer_width = "64"));
        let machine = crate::stage::elf_machine(&libstdcxx()).unwrap();
        assert_eq!(machine, std::env::consts::ARCH);
        assert_eq!(info.machine, if cfg!(target_arch = "x86_64") { 62 } else { info.machine });
    }

    #[test]
    fn reads_the_test_binary_and_refuses_non_elf() {
        let me = read(&std::env::current_exe().unwrap()).unwrap();
        assert!(me.needed.iter().any(|n| n == "libc.so.6"), "{me:?}");
        assert_eq!(me.soname, None);
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"#!/bin/sh\necho not elf\n").unwrap();
        let err = format!("{:#}", read(tmp.path()).unwrap_err());
        assert!(err.contains("is not a readable ELF object"), "{err}");
        assert!(format!("{:#}", read(Path::new("/nonexistent/libx.so")).unwrap_err()).contains("cannot open"));
    }
}

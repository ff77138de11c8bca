//! keapack's one ELF reader: the dynamic-linking facts of a shared object (machine, class,
//! SONAME, the libraries it needs (`DT_NEEDED`), the symbol versions it needs from each
//! (`.gnu.version_r`), any RPATH/RUNPATH, its exports), its machine alone, and its GNU build ID.
//!
//! Reading goes through the `object` crate (gimli-rs, read-only ELF support only) over a
//! `ReadCache`, so only the headers and the dynamic sections are read from disk, never the whole
//! library.

use anyhow::{Context, Result, bail};
use object::read::elf::{Dyn, FileHeader, SectionHeader};
use object::read::{FileKind, ReadCache, ReadRef};
use object::{Endianness, elf};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the dynamic linker reads from a shared object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ElfInfo {
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
    /// Symbols the object imports (`.dynsym`, undefined), each with the version it needs and
    /// the library that version is required from (`.gnu.version` and `.gnu.version_r`), or
    /// `None` for an unversioned reference.
    pub imports: Vec<Import>,
}

/// One undefined dynamic symbol: `memcpy` needed as `GLIBC_2.14` from `libc.so.6`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Import {
    pub name: String,
    /// (version, library) from the version-needs table, when the reference is versioned.
    pub version: Option<(String, String)>,
    pub weak: bool,
}

/// Read the dynamic facts of the ELF object at `path`.
pub(crate) fn read(path: &Path) -> Result<ElfInfo> {
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
    let mut imports = Vec::new();
    let versions = sections.versions(endian, data)?;
    let dynsym = sections.symbols(endian, data, elf::SHT_DYNSYM)?;
    for (i, sym) in dynsym.iter().enumerate() {
        use object::read::elf::Sym;
        let bind = sym.st_bind();
        let global = bind == elf::STB_GLOBAL || bind == elf::STB_WEAK;
        if sym.st_shndx(endian) != elf::SHN_UNDEF {
            if sym.st_type() == elf::STT_FUNC && global {
                exports.insert(text(sym.name(endian, dynsym.strings())?));
            }
            continue;
        }
        let name = text(sym.name(endian, dynsym.strings())?);
        if i == 0 || name.is_empty() || !global {
            continue;
        }
        let version = match &versions {
            Some(table) => table
                .version(table.version_index(endian, object::read::SymbolIndex(i)).index())?
                .and_then(|v| Some((text(v.name()), text(v.file()?)))),
            None => None,
        };
        imports.push(Import { name, version, weak: bind == elf::STB_WEAK });
    }
    imports.sort();
    Ok(ElfInfo { machine: header.e_machine(endian).0, class64: header.is_class_64(), soname, needed, version_needs, rpath, exports, imports })
}

/// The ELF machine of a shared object in the words `uname -m` uses (`x86_64`, `aarch64`, …),
/// from its header.
pub fn machine(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let cache = ReadCache::new(file);
    let e_machine = match FileKind::parse(&cache) {
        Ok(FileKind::Elf32) => header_machine::<elf::FileHeader32<Endianness>, _>(&cache),
        Ok(FileKind::Elf64) => header_machine::<elf::FileHeader64<Endianness>, _>(&cache),
        _ => None,
    };
    let Some(e_machine) = e_machine else { bail!("{} is not an ELF shared object", path.display()) };
    Ok(machine_name(e_machine).to_string())
}

fn header_machine<'data, Elf: FileHeader<Endian = Endianness>, R: ReadRef<'data>>(data: R) -> Option<u16> {
    let header = Elf::parse(data).ok()?;
    Some(header.e_machine(header.endian().ok()?).0)
}

/// `e_machine` in the words `uname -m` uses; `unknown` for a machine no profile has.
pub(crate) fn machine_name(e_machine: u16) -> &'static str {
    match elf::Machine(e_machine) {
        elf::EM_386 => "i386",
        elf::EM_ARM => "arm",
        elf::EM_X86_64 => "x86_64",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_RISCV => "riscv64",
        elf::EM_PPC64 => "ppc64",
        elf::EM_S390 => "s390x",
        _ => "unknown",
    }
}

/// The GNU build ID of an ELF file (the `NT_GNU_BUILD_ID` note), lowercase hex, if it has one.
/// Reads only the section headers and the note sections.
pub fn build_id(path: &Path) -> Result<Option<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let cache = ReadCache::new(file);
    let id = match FileKind::parse(&cache) {
        Ok(FileKind::Elf32) => read_build_id::<elf::FileHeader32<Endianness>, _>(&cache),
        Ok(FileKind::Elf64) => read_build_id::<elf::FileHeader64<Endianness>, _>(&cache),
        _ => bail!("{} is not an ELF file", path.display()),
    }
    .with_context(|| format!("{} is not a readable ELF object", path.display()))?;
    Ok(id.map(|id| id.iter().map(|b| format!("{b:02x}")).collect()))
}

fn read_build_id<'data, Elf, R>(data: R) -> Result<Option<Vec<u8>>>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'data>,
{
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    for section in header.sections(endian, data)?.iter() {
        let Some(mut notes) = section.notes(endian, data)? else { continue };
        while let Some(note) = notes.next()? {
            if note.name() == elf::ELF_NOTE_GNU && note.n_type(endian) == elf::NT_GNU_BUILD_ID && note.desc().len() > 1 {
                return Ok(Some(note.desc().to_vec()));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::testutil::run;

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
        let machine = machine(&libstdcxx()).unwrap();
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

    #[test]
    fn reads_the_build_id_readelf_reads() {
        let me = std::env::current_exe().unwrap();
        let ours = build_id(&me).unwrap().expect("rustc links with a build ID");
        let notes = run("readelf", "binutils", &["-n", me.to_str().unwrap()]);
        assert!(notes.contains(&format!("Build ID: {ours}")), "{ours} not in\n{notes}");
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), [0u8; 80]).unwrap();
        assert!(build_id(tmp.path()).is_err());
    }

    #[test]
    fn reads_the_machine_of_a_real_library() {
        // The test binary itself is an ELF object of the host's machine.
        let me = std::env::current_exe().unwrap();
        assert_eq!(machine(&me).unwrap(), std::env::consts::ARCH);
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), b"not an elf object at all").unwrap();
        assert!(machine(tmp.path()).unwrap_err().to_string().contains("not an ELF"));
    }
}

//! Benchmark of keapack's packaging step: plan and write the `.deb` and `.rpm` of a directory of
//! hook libraries through keapack's library (as `tests/profiles.rs` does), and print the wall time
//! of each package.
//!
//! Usage: `package HOOKS_DIR OUT_DIR [TARGET...]` (targets default to `debian-12-amd64` and
//! `rhel-9-x86_64`). Every regular file in HOOKS_DIR must be an ELF shared object named
//! `libdhcp_<name>.so` built for the target's machine; all of them go into one bundle package.
//! `bench/run` builds this in release mode, makes the payloads from real shared objects and
//! compares it with `dpkg-deb --build` and `rpmbuild -bb`. Run without arguments (as
//! `cargo bench` does) it prints this usage and exits.

use anyhow::{Context, Result, bail};
use keapack::plan::catalog::Catalog;
use keapack::plan::guidance::Templates;
use keapack::plan::manifest::PackageSection;
use keapack::plan::{PlanInput, plan_all};
use keapack::plan::profile::Profiles;
use keapack::stage::StagedHook;
use keapack::source::version::KeaVersion;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const DEFAULT_TARGETS: [&str; 2] = ["debian-12-amd64", "rhel-9-x86_64"];

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; flags are not ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if args.len() < 2 {
        eprintln!("usage: package HOOKS_DIR OUT_DIR [TARGET...]   (see bench/run)");
        return Ok(());
    }
    let (hooks_dir, out_dir) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let targets: Vec<&str> = if args.len() > 2 { args[2..].iter().map(String::as_str).collect() } else { DEFAULT_TARGETS.to_vec() };
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;

    let hooks = staged_hooks(&hooks_dir)?;
    let (profiles, catalog, templates) = (Profiles::builtin(), Catalog::builtin(), Templates::builtin());
    let (package, kea, no_libs) = (PackageSection::default(), KeaVersion::new(2, 2, 0), BTreeMap::new());
    for id in targets {
        let start = Instant::now();
        let target = profiles.target(id)?;
        let input = PlanInput { package: &package, kea_version: &kea, hooks: &hooks, target: &target, epoch: 1_700_000_000, catalog: &catalog, templates: &templates, library_depends: &no_libs };
        let mut written = Vec::new();
        for spec in plan_all(&input)? {
            let file = out_dir.join(spec.file_name());
            let mut out = BufWriter::new(std::fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?);
            keapack::emit::write_package(&spec, &mut out)?;
            out.flush()?;
            written.push(file);
        }
        let secs = start.elapsed().as_secs_f64();
        for file in written {
            let size = std::fs::metadata(&file)?.len();
            println!("{id}\t{}\t{size} bytes\t{secs:.3} s", file.display());
        }
    }
    Ok(())
}

/// Every regular file of `dir`, sorted, as a premium hook of its ELF machine.
fn staged_hooks(dir: &Path) -> Result<Vec<StagedHook>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    paths.retain(|p| p.is_file());
    paths.sort();
    if paths.is_empty() {
        bail!("{} holds no hook libraries", dir.display());
    }
    paths
        .into_iter()
        .map(|path| {
            let library = path.file_name().unwrap().to_string_lossy().into_owned();
            let machine = keapack::support::elf::machine(&path)?;
            Ok(StagedHook { library, path, premium: true, machine })
        })
        .collect()
}

//! Debug symbols kept apart (`--debug-symbols`), the planning half: the `.debug` files the
//! stage kept (`stage::debug`) become one debug package per target, `<name>-dbgsym` (`.deb`,
//! Debian's naming) or `<name>-debuginfo` (`.rpm`).
//!
//! Kept modest on purpose: no `Build-Ids:`/`Auto-Built-Package:` control fields (the build IDs
//! are listed in the description instead) and no rpm `debugsource` package.

use crate::plan::changelog::changelog_debian_gz;
use crate::plan::overrides;
use crate::plan::spec::{FileEntry, FileRole, Format, Op, PackageSpec, Relation, Source};
use crate::stage::debug::DebugFile;

/// The debug package that goes with `main`: same version and architecture, depending on
/// exactly `main`'s version, holding the `.debug` files and the copyright (and for `.deb` a
/// changelog) under its own name.
pub(crate) fn plan_package(main: &PackageSpec, files: &[DebugFile]) -> PackageSpec {
    let debug_name = |name: &str| match main.format {
        Format::Deb => format!("{name}-dbgsym"),
        Format::Rpm => format!("{name}-debuginfo"),
    };
    let name = debug_name(&main.name);
    // The debug packages of the other package layout hold the same build-ID files: the same
    // relations as the main package's, on their debug packages.
    // The meta package has no debug package.
    let meta = crate::plan::meta_name(&main.name);
    let other_layout = |rels: &[Relation]| {
        rels.iter().filter(|r| r.name != meta).map(|r| Relation { name: debug_name(&r.name), constraint: r.constraint.clone() }).collect()
    };
    let full_version = format!("{}-{}", main.version, main.revision);
    let (old_doc, new_doc) = (format!("/usr/share/doc/{}/", main.name), format!("/usr/share/doc/{name}/"));
    let (old_lic, new_lic) = (format!("/usr/share/licenses/{}/", main.name), format!("/usr/share/licenses/{name}/"));
    let mut spec = PackageSpec {
        name: name.clone(),
        summary: format!("Debug symbols for {}", main.name),
        description: format!(
            "Debug symbols (DWARF) for the hook libraries in\n{} {full_version}, one file per GNU build ID:\n{}",
            main.name,
            files.iter().map(|f| format!("{} {}", f.library, f.build_id)).collect::<Vec<_>>().join("\n")
        ),
        section: if main.format == Format::Deb { "debug".into() } else { main.section.clone() },
        depends: vec![Relation { name: main.name.clone(), constraint: Some((Op::Eq, full_version)) }],
        conflicts: other_layout(&main.conflicts),
        replaces: other_layout(&main.replaces),
        files: files
            .iter()
            .map(|f| FileEntry::new(f.install_path(), Source::Path(f.path.clone()), 0o644, FileRole::Plain))
            .collect(),
        links: Vec::new(),
        owned_dirs: Vec::new(),
        dir_attrs: Vec::new(),
        pre_install: None,
        post_install: None,
        pre_remove: None,
        deb_control: Vec::new(),
        post_remove: None,
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
        spec.files.push(FileEntry::new(format!("{new_doc}changelog.Debian.gz"), Source::Bytes(changelog), 0o644, FileRole::Plain));
        spec.owned_dirs.push(new_doc.trim_end_matches('/').to_string());
        // The same overrides as any package of keapack's, for the tags this one draws (a first
        // revision's `initial-upload-closes-no-bugs`).
        if let Some(text) = overrides::lintian_overrides(&spec) {
            spec.files.push(FileEntry::new(overrides::path(&name), Source::Bytes(text.into_bytes()), 0o644, FileRole::Plain));
        }
    }
    spec.files.sort_by(|a, b| a.path.cmp(&b.path));
    spec.owned_dirs.sort();
    spec.owned_dirs.dedup();
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::spec::Compression;
    use crate::plan::testutil::sample_spec;

    #[test]
    fn debug_package_names_paths_and_pin() {
        let files = [DebugFile { library: "libdhcp_test.so".into(), build_id: "ab12cd34".into(), path: "/w/debug/ab/12cd34.debug".into() }];
        assert_eq!(files[0].install_path(), "/usr/lib/debug/.build-id/ab/12cd34.debug");
        for (format, name, section) in [(Format::Deb, "kea-hook-test-dbgsym", "debug"), (Format::Rpm, "kea-hook-test-debuginfo", "net")] {
            let (_tmp, mut main) = sample_spec(format, Compression::Gzip);
            let other = |n: &str| Relation { name: n.into(), constraint: None };
            main.conflicts = vec![other("isc-kea-premium-test"), other("kea-hook-test-meta")];
            main.replaces = main.conflicts.clone();
            let dbg = plan_package(&main, &files);
            let suffix = if format == Format::Deb { "dbgsym" } else { "debuginfo" };
            assert_eq!(dbg.conflicts, vec![other(&format!("isc-kea-premium-test-{suffix}"))], "the meta package has no debug package");
            assert_eq!(dbg.replaces, dbg.conflicts);
            assert_eq!((dbg.name.as_str(), dbg.section.as_str()), (name, section));
            assert_eq!(dbg.depends, vec![Relation { name: "kea-hook-test".into(), constraint: Some((Op::Eq, "2.6.5-1".into())) }]);
            assert!(dbg.post_install.is_none() && dbg.post_remove.is_none() && dbg.pre_install.is_none());
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

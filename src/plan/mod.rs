//! Inventory + manifest + profile → `PackageSpec`. All Kea and distribution knowledge ends here.

pub mod catalog;
pub(crate) mod changelog;
pub(crate) mod debug;
pub(crate) mod family;
pub mod guidance;
pub mod manifest;
pub(crate) mod overrides;
pub mod profile;
pub mod runtime;
pub(crate) mod relation;
pub(crate) mod scripts;
pub(crate) mod shlibdeps;
pub mod spec;
pub(crate) mod values;

use crate::plan::catalog::{Catalog, HookInfo};
use crate::plan::changelog::{changelog_debian_gz, utc_year};
use crate::plan::guidance::{GuidanceInput, Templates};
use crate::plan::manifest::{PackageSection, Split};
use crate::plan::profile::Target;
use crate::plan::spec::{ChangelogEntry, FileEntry, FileRole, Format, Op, PackageSpec, Relation, Source};
use crate::stage::StagedHook;
use crate::source::version::KeaVersion;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

/// Kea's first copyright year (BIND 10, where Kea began): copyright notices read
/// `2009-<year of the package's timestamp>`.
pub(crate) const ISC_FIRST_YEAR: i64 = 2009;

/// The rpm Group. Fedora and RHEL 8+ deprecate the tag and a Debian section means nothing
/// there, but rpmlint 2.4 reports a missing Group (and rpmbuild's `Unspecified`) as the error
/// `no-group-tag`: keapack writes the historical Red Hat group of DHCP server packages.
pub(crate) const RPM_GROUP: &str = "System Environment/Daemons";

/// Description lines stay within this width (lintian and rpmlint want them under 80).
const WRAP: usize = 76;

/// Everything a package plan is made from.
pub struct PlanInput<'a> {
    pub package: &'a PackageSection,
    pub kea_version: &'a KeaVersion,
    pub hooks: &'a [StagedHook],
    pub target: &'a Target,
    pub epoch: u64,
    pub catalog: &'a Catalog,
    pub templates: &'a Templates,
    /// Relations each staged library needs on this target, keyed by file name (see
    /// `shlibdeps::discover`); a library missing from the map adds none.
    pub library_depends: &'a BTreeMap<String, Vec<Relation>>,
}

/// The hooks that go into the package: the premium ones (and open ones when asked), each with
/// its catalog entry.
pub(crate) fn select_hooks<'a>(input: &'a PlanInput) -> Vec<(&'a StagedHook, HookInfo)> {
    input
        .hooks
        .iter()
        .filter(|h| h.premium || input.package.include_open_hooks)
        .map(|h| (h, input.catalog.by_library(&h.library).cloned().unwrap_or_else(|| HookInfo::unknown(&h.library))))
        .collect()
}

/// The package name ISC gives a hook: `isc-kea-premium-host-cmds`, `…-forensic-log` for legal_log.
pub(crate) fn per_hook_name(prefix: &str, hook: &HookInfo) -> String {
    let base = if hook.library == "libdhcp_legal_log.so" { "forensic_log" } else { hook.name.as_str() };
    format!("{prefix}-{}", base.replace('_', "-"))
}

/// ISC's per-hook prefix for a Kea release: premium in 2.x, subscriber from 3.0.
pub(crate) fn default_prefix(kea: &KeaVersion) -> &'static str {
    if kea.major >= 3 { "isc-kea-subscriber" } else { "isc-kea-premium" }
}

/// The meta package's name in a per-hook layout: never the bundle's (`name`), so the two
/// layouts can be told apart by name and switched between.
pub(crate) fn meta_name(bundle: &str) -> String {
    format!("{bundle}-meta")
}

/// The per-hook prefix of this build: the manifest's, else ISC's for the Kea release.
fn prefix_of(input: &PlanInput) -> String {
    input.package.per_hook_prefix.clone().unwrap_or_else(|| default_prefix(input.kea_version).to_string())
}

/// Plan every package of a target: one bundle, or one package per hook (and a meta package).
///
/// The two layouts hold the same files, so each declares the other's packages as conflicting
/// and replaced (see [`layout_relations`]): a package manager then moves an installed system
/// from one layout to the other, in either direction, without a file conflict.
pub fn plan_all(input: &PlanInput) -> Result<Vec<PackageSpec>> {
    let prefix = prefix_of(input);
    match input.package.split {
        Split::Bundle => {
            let mut spec = plan(input)?;
            // The per-hook packages and their meta package.
            let mut others: Vec<String> = select_hooks(input).iter().map(|(_, info)| per_hook_name(&prefix, info)).collect();
            others.push(meta_name(&input.package.name));
            layout_relations(&mut spec, &others);
            Ok(vec![spec])
        }
        Split::PerHook => {
            let mut specs = Vec::new();
            for (hook, info) in select_hooks(input) {
                let mut package = input.package.clone();
                package.name = per_hook_name(&prefix, &info);
                anyhow::ensure!(crate::plan::manifest::valid_name(&package.name), "per-hook package name '{}' is not valid; set package.per-hook-prefix", package.name);
                anyhow::ensure!(
                    package.name != input.package.name && package.name != meta_name(&input.package.name),
                    "the per-hook package name '{}' is the bundle's or the meta package's name; set package.per-hook-prefix or package.name",
                    package.name
                );
                let one = [hook.clone()];
                let mut spec = plan(&PlanInput { package: &package, hooks: &one, ..*input })?;
                layout_relations(&mut spec, std::slice::from_ref(&input.package.name));
                specs.push(spec);
            }
            if specs.is_empty() {
                bail!("no hook libraries to package for {}", input.target.id());
            }
            if input.package.meta {
                let meta = plan_meta(input, &specs)?;
                specs.push(meta);
            }
            Ok(specs)
        }
    }
}

/// Declare the packages of the other layout (`others`) as conflicting with `spec` and replaced
/// by it. deb: `Conflicts` and `Replaces`, unversioned (dpkg then removes the other package
/// and hands its files over; apt removes it first). rpm: `Conflicts`, and `Obsoletes` of every
/// version older than this one, so `rpm -U`/`dnf` replace an older build of the other layout in
/// one transaction, while two layouts of the same build never obsolete each other (a
/// repository holding both would otherwise swap them back and forth on every upgrade).
fn layout_relations(spec: &mut PackageSpec, others: &[String]) {
    let full = format!("{}-{}", spec.version, spec.revision);
    for name in others {
        spec.conflicts.push(Relation { name: name.clone(), constraint: None });
        let constraint = match spec.format {
            Format::Deb => None,
            Format::Rpm => Some((Op::Lt, full.clone())),
        };
        spec.replaces.push(Relation { name: name.clone(), constraint });
    }
}

/// Package version and revision in the family's syntax, the profile's dist tag appended to the
/// revision (`1+deb12`, `1.el9`) so that each release's package has its own version.
pub(crate) fn version_and_revision(format: Format, kea: &KeaVersion, revision: &str, dist_tag: &str) -> (String, String) {
    match format {
        Format::Deb => (kea.debian(), format!("{revision}{dist_tag}")),
        // rpm: a pre-release sorts first with a `0.` release (Fedora's convention).
        Format::Rpm => match &kea.pre {
            Some(pre) => (kea.plain(), format!("0.{revision}.{pre}{dist_tag}")),
            None => (kea.plain(), format!("{revision}{dist_tag}")),
        },
    }
}

/// The exact pin on the Kea runtime this package's hooks were built against.
pub(crate) fn runtime_relations(format: Format, runtime_pkg: &str, kea: &KeaVersion) -> Vec<Relation> {
    let rel = |op, v: String| Relation { name: runtime_pkg.to_string(), constraint: Some((op, v)) };
    match format {
        // Any Debian revision of exactly this upstream release (2.6.5-1, 2.6.5+dfsg-2), nothing newer.
        Format::Deb => vec![rel(Op::Ge, kea.debian()), rel(Op::Lt, format!("{}~", kea.next_patch().debian()))],
        // rpm compares only the parts a requirement names: `= 2.6.5` matches every release of 2.6.5.
        Format::Rpm => vec![rel(Op::Eq, kea.plain())],
    }
}

/// Plan the package for one target.
pub fn plan(input: &PlanInput) -> Result<PackageSpec> {
    let target = input.target;
    let format = target.profile.family;
    let pkg = input.package;
    let selected = select_hooks(input);
    if selected.is_empty() {
        bail!("no hook libraries to package for {}", target.id());
    }
    for (h, _) in &selected {
        if h.machine != target.arch_info.elf_machine {
            bail!(
                "{} is built for {}, but target {} needs {}: build on {} {} host (or choose {} {} target)",
                h.library,
                h.machine,
                target.id(),
                target.arch_info.elf_machine,
                crate::support::text::article(&target.arch_info.elf_machine),
                target.arch_info.elf_machine,
                crate::support::text::article(&h.machine),
                h.machine
            );
        }
    }
    let compression = pkg.compression.unwrap_or(target.profile.compression);
    target.profile.check_compression(compression)?;
    let (version, revision) = version_and_revision(format, input.kea_version, &pkg.revision, &target.profile.dist_tag);
    let full_version = format!("{version}-{revision}");
    let hooks_dir = target.hooks_dir();
    let doc_dir = format!("/usr/share/doc/{}", pkg.name);
    let infos: Vec<HookInfo> = selected.iter().map(|(_, i)| i.clone()).collect();

    let g = guidance::render(
        input.templates,
        input.catalog,
        &GuidanceInput {
            package: &pkg.name,
            version: &full_version,
            kea_version: &input.kea_version.to_string(),
            hooks: &infos,
            target,
            runtime: pkg.runtime,
        },
    )?;
    let hook_paths: Vec<String> = selected.iter().map(|(h, _)| format!("{hooks_dir}/{}", h.library)).collect();
    let kea_runtime = target.runtime(pkg.runtime)?;
    let mut daemons: Vec<String> = infos.iter().flat_map(|h| h.daemons.iter().cloned()).collect();
    daemons.sort();
    daemons.dedup();
    let scripts = scripts::render(&scripts::ScriptInput {
        templates: input.templates,
        catalog: input.catalog,
        format,
        package: &pkg.name,
        version: &full_version,
        hook_paths: &hook_paths,
        daemons: &daemons,
        runtime: kea_runtime,
        guidance: &g.text,
    })?;

    let mut files: Vec<FileEntry> = selected
        .iter()
        .map(|(h, _)| FileEntry::new(format!("{hooks_dir}/{}", h.library), Source::Path(h.path.clone()), 0o644, FileRole::Plain))
        .collect();
    let doc = |name: &str, bytes: Vec<u8>| FileEntry::new(format!("{doc_dir}/{name}"), Source::Bytes(bytes), 0o644, FileRole::Doc);
    files.push(doc("GUIDANCE.txt", g.text.clone().into_bytes()));
    for (name, json) in &g.snippets {
        files.push(doc(name, json.clone().into_bytes()));
    }
    let mut owned_dirs = vec![doc_dir.clone()];
    if format == Format::Rpm {
        // What the next version's %pre reads to name the version it replaces.
        let path = scripts::version_file(&pkg.name);
        owned_dirs.push(path.rsplit_once('/').map_or(String::new(), |(dir, _)| dir.to_string()));
        files.push(FileEntry::new(path, Source::Bytes(format!("{full_version}\n").into_bytes()), 0o644, FileRole::Plain));
    }
    let hook_names: Vec<&str> = infos.iter().map(|h| h.name.as_str()).collect();
    // The exact Kea pin, what the libraries need, and what the manifest declares: merged.
    let mut depends = if pkg.runtime == crate::plan::profile::RuntimeStyle::Own {
        // Kea's own packages of the same run: exactly this version and revision.
        vec![Relation { name: kea_runtime.common.clone(), constraint: Some((Op::Eq, full_version.clone())) }]
    } else {
        runtime_relations(format, &kea_runtime.common, input.kea_version)
    };
    for (h, _) in &selected {
        depends.extend(input.library_depends.get(&h.library).into_iter().flatten().cloned());
    }
    depends.extend(pkg.depends.for_format(format).iter().cloned());
    let mut spec = PackageSpec {
        format,
        name: pkg.name.clone(),
        version,
        revision,
        arch: target.arch.clone(),
        summary: format!("Kea {} premium hook libraries", input.kea_version),
        description: wrap(
            &format!(
                "Premium hook libraries for the Kea DHCP server {}: {}.\n\nBuilt from the Kea sources with ISC's premium overlay. The hooks install into {hooks_dir}; the post-install script prints how to enable them.",
                input.kea_version,
                hook_names.join(", ")
            ),
            WRAP,
        ),
        maintainer: pkg.maintainer.clone(),
        homepage: pkg.homepage.clone(),
        license: pkg.license.clone(),
        section: if format == Format::Deb { pkg.section.clone() } else { RPM_GROUP.to_string() },
        depends: relation::merge(format, depends),
        conflicts: Vec::new(),
        replaces: Vec::new(),
        files,
        links: Vec::new(),
        owned_dirs,
        dir_attrs: Vec::new(),
        pre_install: scripts.pre_install,
        post_install: Some(scripts.post_install),
        pre_remove: None,
        deb_control: Vec::new(),
        post_remove: Some(scripts.post_remove),
        changelog: history(
            input,
            ChangelogEntry {
                version: full_version.clone(),
                author: pkg.maintainer.clone(),
                time: input.epoch,
                text: wrap(&format!("Kea {} premium hooks ({}), packaged by keapack.", input.kea_version, hook_names.join(", ")), 72),
            },
        )?,
        mtime: input.epoch,
        compression,
    };
    add_required_docs(&mut spec, input)?;
    Ok(spec)
}

/// The files every package carries whatever it holds: the copyright (deb) or license (rpm), the
/// Debian changelog, and lintian overrides where a tag is unavoidable. Sorts the file list.
fn add_required_docs(spec: &mut PackageSpec, input: &PlanInput) -> Result<()> {
    let pkg = input.package;
    let copyright = input.templates.render(
        "copyright.j2",
        serde_json::json!({
            "copyright_years": copyright_years(input.epoch),
            "homepage": pkg.homepage,
            "kea_version": input.kea_version.to_string(),
            "license": pkg.license,
            "license_text": pkg.license_text.trim_end(),
        }),
    )?;
    place_required_docs(spec, copyright, "");
    Ok(())
}

/// `2009-<year of the timestamp>`: the years of a copyright notice.
pub(crate) fn copyright_years(epoch: u64) -> String {
    let year = utc_year(epoch);
    if year > ISC_FIRST_YEAR { format!("{ISC_FIRST_YEAR}-{year}") } else { ISC_FIRST_YEAR.to_string() }
}

/// Put the rendered `copyright` where the family wants it (deb: the doc directory, with the
/// Debian changelog and lintian overrides, `extra_overrides` appended to keapack's own; rpm:
/// the license directory, `%license`), then sort the file list.
pub(crate) fn place_required_docs(spec: &mut PackageSpec, copyright: String, extra_overrides: &str) {
    let doc_dir = format!("/usr/share/doc/{}", spec.name);
    let file = |path: String, bytes: Vec<u8>, role| FileEntry::new(path, Source::Bytes(bytes), 0o644, role);
    match spec.format {
        Format::Deb => {
            spec.files.push(file(format!("{doc_dir}/copyright"), copyright.into_bytes(), FileRole::Plain));
            let changelog = changelog_debian_gz(spec);
            spec.files.push(file(format!("{doc_dir}/changelog.Debian.gz"), changelog, FileRole::Plain));
            let text = overrides::lintian_overrides(spec).unwrap_or_default() + extra_overrides;
            if !text.is_empty() {
                spec.files.push(file(overrides::path(&spec.name), text.into_bytes(), FileRole::Plain));
            }
        }
        Format::Rpm => {
            let lic_dir = format!("/usr/share/licenses/{}", spec.name);
            spec.files.push(file(format!("{lic_dir}/copyright"), copyright.into_bytes(), FileRole::License));
            spec.owned_dirs.push(lic_dir);
        }
    }
    if !spec.owned_dirs.contains(&doc_dir) && spec.format == Format::Deb {
        spec.owned_dirs.push(doc_dir);
    }
    spec.files.sort_by(|a, b| a.path.cmp(&b.path));
    spec.owned_dirs.sort();
    spec.owned_dirs.dedup();
}

/// The package's changelog: the manifest's changelog source below `generated` (see
/// `changelog::history`).
fn history(input: &PlanInput, generated: ChangelogEntry) -> Result<Vec<ChangelogEntry>> {
    let pkg = input.package;
    changelog::history(
        &pkg.changelog_entries,
        &changelog::Current {
            format: input.target.profile.family,
            kea: input.kea_version,
            revision: &pkg.revision,
            dist_tag: &input.target.profile.dist_tag,
            generated,
            maintainer: &pkg.maintainer,
        },
    )
}

/// The optional meta package of a per-hook split: no files of its own, an exact dependency on
/// every per-hook package of the same build. Named [`meta_name`], never the bundle's name.
pub(crate) fn plan_meta(input: &PlanInput, parts: &[PackageSpec]) -> Result<PackageSpec> {
    let first = parts.first().context("a meta package needs per-hook packages")?;
    let pkg = input.package;
    let full = format!("{}-{}", first.version, first.revision);
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    let name = meta_name(&pkg.name);
    anyhow::ensure!(crate::plan::manifest::valid_name(&name), "meta package name '{name}' is not valid");
    let mut spec = PackageSpec {
        name: name.clone(),
        summary: format!("Kea {} premium hook libraries (all of them)", input.kea_version),
        description: wrap(&format!("Depends on every premium hook package of this build: {}.", names.join(", ")), WRAP),
        section: if first.format == Format::Deb { "metapackages".into() } else { first.section.clone() },
        depends: parts.iter().map(|p| Relation { name: p.name.clone(), constraint: Some((Op::Eq, full.clone())) }).collect(),
        // No binaries of its own: architecture-independent.
        arch: if first.format == Format::Deb { "all".into() } else { "noarch".into() },
        conflicts: Vec::new(),
        replaces: Vec::new(),
        files: vec![FileEntry::new(
            format!("/usr/share/doc/{name}/README"),
            Source::Bytes(format!("{}\n\nEach package prints its hook's configuration guidance when installed.\n", wrap(&format!("This package installs the Kea {} premium hook packages: {}.", input.kea_version, names.join(", ")), 72)).into_bytes()),
            0o644,
            FileRole::Doc,
        )],
        links: Vec::new(),
        owned_dirs: vec![format!("/usr/share/doc/{name}")],
        dir_attrs: Vec::new(),
        pre_install: None,
        post_install: None,
        pre_remove: None,
        deb_control: Vec::new(),
        post_remove: None,
        changelog: history(
            input,
            ChangelogEntry {
                version: full.clone(),
                author: pkg.maintainer.clone(),
                time: input.epoch,
                text: wrap(&format!("Meta package for the Kea {} premium hook packages, packaged by keapack.", input.kea_version), 72),
            },
        )?,
        ..first.clone()
    };
    add_required_docs(&mut spec, input)?;
    Ok(spec)
}

/// Re-flow each paragraph (separated by a blank line) to lines of at most `width` characters;
/// a word longer than `width` stays whole on its own line.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|para| {
            let mut lines: Vec<String> = Vec::new();
            for word in para.split_whitespace() {
                match lines.last_mut() {
                    Some(line) if line.len() + 1 + word.len() <= width => {
                        line.push(' ');
                        line.push_str(word);
                    }
                    _ => lines.push(word.to_string()),
                }
            }
            lines.join("\n")
        })
        .collect();
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_hook_names_follow_isc() {
        let c = Catalog::builtin();
        assert_eq!(per_hook_name("isc-kea-premium", c.by_name("host_cmds").unwrap()), "isc-kea-premium-host-cmds");
        assert_eq!(per_hook_name("isc-kea-premium", c.by_library("libdhcp_legal_log.so").unwrap()), "isc-kea-premium-forensic-log");
        assert_eq!(per_hook_name("isc-kea-subscriber", c.by_name("ping_check").unwrap()), "isc-kea-subscriber-ping-check");
        assert_eq!(default_prefix(&KeaVersion::new(2, 6, 5)), "isc-kea-premium");
        assert_eq!(default_prefix(&KeaVersion::new(3, 0, 1)), "isc-kea-subscriber");
    }

    #[test]
    fn each_layout_conflicts_with_and_replaces_the_other() {
        use crate::plan::profile::Profiles;
        let (catalog, templates, kea, no_libs) = (Catalog::builtin(), Templates::builtin(), KeaVersion::new(2, 2, 0), BTreeMap::new());
        let rel = |r: &Relation| crate::plan::relation::deb_string(r);
        for (target, replaced) in [("debian-12-amd64", None), ("rhel-9-x86_64", Some("2.2.0-2.el9"))] {
            let t = Profiles::builtin().target(target).unwrap();
            let hooks: Vec<StagedHook> = ["libdhcp_flex_id.so", "libdhcp_host_cmds.so"]
                .iter()
                .map(|l| StagedHook { library: (*l).into(), path: "/nonexistent".into(), premium: true, machine: t.arch_info.elf_machine.clone() })
                .collect();
            let input = |package: &PackageSection| -> Vec<PackageSpec> {
                plan_all(&PlanInput { package, kea_version: &kea, hooks: &hooks, target: &t, epoch: 0, catalog: &catalog, templates: &templates, library_depends: &no_libs }).unwrap()
            };
            let bundle = PackageSection { revision: "2".into(), ..PackageSection::default() };
            let b = input(&bundle).remove(0);
            let want = |n: &str| match replaced {
                None => n.to_string(),
                Some(v) => format!("{n} (<< {v})"),
            };
            assert_eq!(b.conflicts.iter().map(rel).collect::<Vec<_>>(), ["isc-kea-premium-flex-id", "isc-kea-premium-host-cmds", "kea-premium-hooks-meta"]);
            assert_eq!(b.replaces.iter().map(rel).collect::<Vec<_>>(), [want("isc-kea-premium-flex-id"), want("isc-kea-premium-host-cmds"), want("kea-premium-hooks-meta")]);
            let split = input(&PackageSection { split: Split::PerHook, meta: true, ..bundle.clone() });
            let names: Vec<&str> = split.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, ["isc-kea-premium-flex-id", "isc-kea-premium-host-cmds", "kea-premium-hooks-meta"], "{target}");
            for s in &split[..2] {
                assert_eq!(s.conflicts.iter().map(rel).collect::<Vec<_>>(), ["kea-premium-hooks"]);
                assert_eq!(s.replaces.iter().map(rel).collect::<Vec<_>>(), [want("kea-premium-hooks")]);
            }
            assert!(split[2].conflicts.is_empty() && split[2].post_install.is_none() && split[2].post_remove.is_none());
            // A prefix that makes a per-hook name the meta package's is refused.
            let clash = PackageSection { split: Split::PerHook, name: "x".into(), per_hook_prefix: Some("x".into()), ..PackageSection::default() };
            let hook = [StagedHook { library: "libdhcp_meta.so".into(), path: "/nonexistent".into(), premium: true, machine: t.arch_info.elf_machine.clone() }];
            let err = plan_all(&PlanInput { package: &clash, kea_version: &kea, hooks: &hook, target: &t, epoch: 0, catalog: &catalog, templates: &templates, library_depends: &no_libs });
            assert!(err.is_err_and(|e| e.to_string().contains("meta package's name")), "{target}");
        }
    }

    #[test]
    fn descriptions_wrap_within_the_width() {
        let long = format!("Hooks: {}.\n\nThey install into /usr/lib/x86_64-linux-gnu/kea/hooks; read on.", ["host_cmds"; 20].join(", "));
        let w = wrap(&long, WRAP);
        assert!(w.lines().all(|l| l.len() <= WRAP), "{w}");
        assert_eq!(w.split("\n\n").count(), 2);
        assert_eq!(w.split_whitespace().collect::<Vec<_>>(), long.split_whitespace().collect::<Vec<_>>());
        assert_eq!(wrap(&"x".repeat(90), 10), "x".repeat(90));
    }

    #[test]
    fn deb_pin_admits_every_revision_of_the_release_only() {
        let r = runtime_relations(Format::Deb, "kea-common", &KeaVersion::new(2, 6, 5));
        assert_eq!(r[0].constraint, Some((Op::Ge, "2.6.5".into())));
        assert_eq!(r[1].constraint, Some((Op::Lt, "2.6.6~".into())));
        let r = runtime_relations(Format::Rpm, "kea-libs", &KeaVersion::new(2, 6, 5));
        assert_eq!(r, vec![Relation { name: "kea-libs".into(), constraint: Some((Op::Eq, "2.6.5".into())) }]);
    }

    #[test]
    fn versions_follow_each_family() {
        let v = KeaVersion::new(2, 6, 5);
        assert_eq!(version_and_revision(Format::Deb, &v, "1", "+deb12"), ("2.6.5".into(), "1+deb12".into()));
        assert_eq!(version_and_revision(Format::Deb, &v, "1", ""), ("2.6.5".into(), "1".into()));
        assert_eq!(version_and_revision(Format::Rpm, &v, "2", ".el9"), ("2.6.5".into(), "2.el9".into()));
        let rc = KeaVersion::parse("3.1.0-rc1").unwrap();
        assert_eq!(version_and_revision(Format::Deb, &rc, "1", ""), ("3.1.0~rc1".into(), "1".into()));
        assert_eq!(version_and_revision(Format::Rpm, &rc, "1", ".fc44"), ("3.1.0".into(), "0.1.rc1.fc44".into()));
    }

    #[test]
    fn the_runtime_style_decides_what_the_package_depends_on_and_its_guidance() {
        use crate::plan::profile::{Profiles, RuntimeStyle};
        let (catalog, templates, kea, no_libs) = (Catalog::builtin(), Templates::builtin(), KeaVersion::new(2, 2, 0), BTreeMap::new());
        for (target, style, common, socket, revision) in [
            ("debian-12-amd64", RuntimeStyle::Distribution, "kea-common", "/run/kea/kea4-ctrl-socket", "1+deb12"),
            ("debian-12-amd64", RuntimeStyle::Isc, "isc-kea-common", "/var/run/kea/kea4-ctrl-socket", "1+deb12"),
            ("debian-11-amd64", RuntimeStyle::Isc, "isc-kea-common", "/var/run/kea/kea4-ctrl-socket", "1+deb11"),
            ("rhel-9-x86_64", RuntimeStyle::Distribution, "kea-libs", "/var/run/kea/kea4-ctrl-socket", "1.el9"),
            ("rhel-9-x86_64", RuntimeStyle::Isc, "isc-kea-common", "/var/run/kea/kea4-ctrl-socket", "1.el9"),
        ] {
            let t = Profiles::builtin().target(target).unwrap();
            let hooks = [StagedHook { library: "libdhcp_host_cmds.so".into(), path: "/nonexistent".into(), premium: true, machine: t.arch_info.elf_machine.clone() }];
            let package = PackageSection { runtime: style, ..PackageSection::default() };
            let input = PlanInput { package: &package, kea_version: &kea, hooks: &hooks, target: &t, epoch: 0, catalog: &catalog, templates: &templates, library_depends: &no_libs };
            let spec = plan_all(&input).unwrap().remove(0);
            let names: Vec<&str> = spec.depends.iter().map(|r| r.name.as_str()).collect();
            assert!(names.iter().all(|n| *n == common), "{target} {style:?}: {names:?}");
            assert!(!names.is_empty());
            assert_eq!(spec.revision, revision);
            let guidance = spec.files.iter().find(|f| f.path.ends_with("/GUIDANCE.txt")).unwrap();
            let Source::Bytes(text) = &guidance.source else { panic!("guidance is generated") };
            let text = String::from_utf8(text.clone()).unwrap();
            assert!(text.contains(&format!("socat - UNIX:{socket}")), "{target} {style:?}:\n{text}");
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil;

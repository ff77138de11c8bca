//! The `.rpm` emitter: one `PackageSpec` in, the bytes of a binary RPM (v4) out, via the `rpm`
//! crate's `PackageBuilder`.
//!
//! Reproducibility: every file and directory gets `modified_at(spec.mtime)` (the crate's
//! `source_date` only clamps times, so it is set as well, for defaults), owner `root:root` (the
//! group the spec names, if any), the spec's mode, symbolic links 0777 root:root, and the build
//! host is the fixed string [`BUILD_HOST`]. The crate writes
//! `min(now, source_date)` as `RPMTAG_BUILDTIME`, which is "now" for an mtime in the future, so
//! [`pin_build_time`] rewrites that tag to `spec.mtime` and recomputes the header digests: the
//! build time is *set*, never clamped. It also names the source package (`SOURCERPM`) and
//! records the payload size, as rpmbuild does. The crate holds the compressed payload in memory.

use crate::plan::spec::{Compression, FileRole, Op, PackageSpec, Source};
use anyhow::{Context, Result, bail, ensure};
use rpm::{CompressionWithLevel, Dependency, FileOptions, PackageBuilder, Scriptlet, Timestamp};
use std::io::Write;

/// `RPMTAG_BUILDHOST`: fixed, so the machine's host name never reaches the package.
pub(crate) const BUILD_HOST: &str = "keapack";

/// Write `spec` as an `.rpm` to `out`.
pub(crate) fn write(spec: &PackageSpec, mut out: &mut dyn Write) -> Result<()> {
    let mtime = u32::try_from(spec.mtime).context("spec.mtime does not fit the rpm's 32-bit time fields")?;
    let config = rpm::BuildConfig::default().source_date(mtime).compression(compression(spec.compression));
    let description = if spec.description.trim().is_empty() { &spec.summary } else { &spec.description };

    let mut b = PackageBuilder::new(&spec.name, &spec.version, &spec.license, &spec.arch, &spec.summary);
    b.using_config(config)
        .release(&spec.revision)
        .description(description.trim())
        .packager(&spec.maintainer)
        .build_host(BUILD_HOST);
    if !spec.homepage.is_empty() {
        b.url(&spec.homepage);
    }
    // rpmbuild writes `Unspecified` when a spec has no Group (deprecated since Fedora 28 /
    // RHEL 8); rpmlint reports a missing Group tag as an error.
    b.group(if spec.section.is_empty() { "Unspecified" } else { &spec.section });
    for r in &spec.depends {
        b.requires(dependency(r));
    }
    for r in &spec.conflicts {
        b.conflicts(dependency(r));
    }
    // The spec's replaced packages are what rpm calls obsoleted.
    for r in &spec.replaces {
        b.obsoletes(dependency(r));
    }
    let at = Timestamp::from(mtime);
    for f in &spec.files {
        let perms = u16::try_from(f.mode & 0o7777).expect("masked to 12 bits");
        // A group other than root also makes the crate add `Recommends: group(NAME)` (rpm ≥
        // 4.19 creates such groups from sysusers.d; older rpm ignores a weak dependency).
        let group = f.group.as_deref().unwrap_or("root");
        let mut opts = FileOptions::new(&f.path).permissions(perms).user("root").group(group).modified_at(at);
        opts = match f.role {
            FileRole::Plain => opts,
            FileRole::Doc => opts.doc(),
            FileRole::License => opts.license(),
        };
        if f.config {
            opts = opts.config().noreplace();
        }
        match &f.source {
            Source::Path(p) => b.with_file(p, opts),
            Source::Bytes(bytes) => b.with_file_contents(bytes.clone(), opts),
        }
        .with_context(|| format!("adding {} to the rpm", f.path))?;
    }
    for l in &spec.links {
        ensure!(!l.target.is_empty(), "symbolic link {} has an empty target; give it the path it points to", l.path);
        let opts = FileOptions::symlink(&l.path, &l.target).user("root").group("root").modified_at(at);
        b.with_symlink(opts).with_context(|| format!("adding symbolic link {} to the rpm", l.path))?;
    }
    for d in &spec.owned_dirs {
        let (mode, group) = dir_attributes(spec, d)?;
        let opts = FileOptions::dir(d).permissions(mode).user("root").group(group).modified_at(at);
        b.with_dir_entry(opts).with_context(|| format!("adding directory {d} to the rpm"))?;
    }
    if let Some(d) = spec.dir_attrs.iter().find(|d| !spec.owned_dirs.contains(&d.path)) {
        bail!("directory {} has its own mode or group (dir_attrs) but is not among the owned directories; add it to owned_dirs", d.path);
    }
    // Each scriptlet runs under /bin/sh with its builtins only: rpm's own `Requires(pre)`,
    // `Requires(post)`, `Requires(preun)`, `Requires(postun)` on /bin/sh (added per scriptlet) is all it needs.
    if let Some(script) = &spec.pre_install {
        b.pre_install_script(Scriptlet::new(script_body(script)).prog(vec!["/bin/sh"]));
    }
    if let Some(script) = &spec.post_install {
        b.post_install_script(Scriptlet::new(script_body(script)).prog(vec!["/bin/sh"]));
    }
    if let Some(script) = &spec.pre_remove {
        b.pre_uninstall_script(Scriptlet::new(script_body(script)).prog(vec!["/bin/sh"]));
    }
    if let Some(script) = &spec.post_remove {
        b.post_uninstall_script(Scriptlet::new(script_body(script)).prog(vec!["/bin/sh"]));
    }
    for e in &spec.changelog {
        let time = u32::try_from(e.time).context("changelog time does not fit 32 bits")?;
        b.add_changelog_entry(format!("{} - {}", e.author, e.version), changelog_text(&e.text), time);
    }
    let mut pkg = b.build()?;
    pin_build_time(&mut pkg, mtime)?;
    pkg.write(&mut out)?;
    Ok(())
}

/// The permission bits and group of owned directory `path`: its `dir_attrs` entry's, else 0755
/// and root. Two entries for one path must agree.
fn dir_attributes<'a>(spec: &'a PackageSpec, path: &str) -> Result<(u16, &'a str)> {
    let mut found: Option<(u16, &str)> = None;
    for d in spec.dir_attrs.iter().filter(|d| d.path == path) {
        let attrs = (u16::try_from(d.mode & 0o7777).expect("masked to 12 bits"), d.group.as_deref().unwrap_or("root"));
        ensure!(found.is_none_or(|f| f == attrs), "directory {path} is given two different modes or groups in dir_attrs; give it one");
        found = Some(attrs);
    }
    Ok(found.unwrap_or((0o755, "root")))
}

/// A relation as an rpm dependency of any kind (requires, conflicts, obsoletes).
fn dependency(r: &crate::plan::spec::Relation) -> Dependency {
    match &r.constraint {
        None => Dependency::any(&r.name),
        Some((Op::Eq, v)) => Dependency::eq(&r.name, v),
        Some((Op::Ge, v)) => Dependency::greater_eq(&r.name, v),
        Some((Op::Lt, v)) => Dependency::less(&r.name, v),
        Some((Op::Gt, v)) => Dependency::greater(&r.name, v),
        Some((Op::Le, v)) => Dependency::less_eq(&r.name, v),
    }
}

/// Set `RPMTAG_BUILDTIME` to `time` and `SOURCERPM` to the source package's name, and write
/// the signature header with the payload size rpmbuild records (see [`super::rpm_header`]).
///
/// The header is rebuilt from its own entries with `Header::from_entries`, which lays entries
/// out exactly as the builder does (sorted by tag, same alignment). The payload and its
/// digests are untouched.
pub(crate) fn pin_build_time(pkg: &mut rpm::Package, time: u32) -> Result<()> {
    super::rpm_header::fix_header(pkg, time)
}

/// Payload compression: zstd 19 (the crate's default level), xz 6 (xz's default preset),
/// gzip 9, or none.
fn compression(c: Compression) -> CompressionWithLevel {
    match c {
        Compression::Zstd => CompressionWithLevel::Zstd(19),
        Compression::Xz => CompressionWithLevel::Xz(6),
        Compression::Gzip => CompressionWithLevel::Gzip(9),
        Compression::None => CompressionWithLevel::None,
    }
}

/// The script without its `#!` line (rpm runs it with the interpreter set by `prog`) and
/// without surrounding blank lines, as rpmbuild stores scriptlets.
fn script_body(script: &str) -> String {
    let body = match script.strip_prefix("#!") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => script,
    };
    body.trim_matches('\n').to_string()
}

/// rpm changelog style: each item `- text`, continuation lines indented two spaces.
fn changelog_text(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| match l.strip_prefix("- ").or_else(|| l.strip_prefix("* ")) {
            Some(item) => format!("- {item}"),
            None if i == 0 => format!("- {l}"),
            None => format!("  {l}"),
        })
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testutil::{MTIME, add_whole_kea_parts, realistic_spec, sample_spec};
    use crate::emit::testutil::{assert_reproducible, write_file};
    use crate::support::testutil::{run, run_status};
    use crate::plan::spec::Format;

    fn q(rpm: &str, args: &[&str]) -> String {
        run("rpm", "rpm", &[&["-qp", "--nosignature"], args, &[rpm]].concat())
    }

    #[test]
    fn zstd_output_does_not_depend_on_the_thread_count() {
        // The rpm crate compresses zstd payloads with one worker per CPU (its zstdmt feature):
        // zstd's output with workers depends on the input and level only, not on how many.
        let data: Vec<u8> = (0..6_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 & 0x3f).collect();
        let compress = |workers: u32| {
            let mut e = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
            e.multithread(workers).unwrap();
            std::io::Write::write_all(&mut e, &data).unwrap();
            e.finish().unwrap()
        };
        let one = compress(1);
        for workers in [2, 3, 8] {
            assert!(compress(workers) == one, "{workers} workers wrote other bytes than 1");
        }
    }

    #[test]
    fn rpm_reads_every_compression() {
        for (c, tag) in [(Compression::Zstd, "zstd"), (Compression::Xz, "xz"), (Compression::Gzip, "gzip"), (Compression::None, "")] {
            let (tmp, spec) = sample_spec(Format::Rpm, c);
            let rpm = write_file(&spec, tmp.path());
            assert!(run("rpm", "rpm", &["-K", "--nosignature", &rpm]).contains("digests OK"));

            let qf = "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{GROUP}|%{URL}|%{PACKAGER}|%{BUILDHOST}|%{BUILDTIME}|%{PAYLOADCOMPRESSOR}";
            let fields = q(&rpm, &["--qf", qf]);
            let compressor = if tag.is_empty() { "(none)" } else { tag };
            assert_eq!(fields, format!("kea-hook-test|2.6.5|1|x86_64|MPL-2.0|net|https://www.isc.org/kea/|\
                Test Packager <packager@example.org>|keapack|{MTIME}|{compressor}"), "{c:?}");
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
            assert_ne!(host.trim(), BUILD_HOST, "pick a build host that is not this machine's name");
            let info = q(&rpm, &["--info"]);
            assert!(info.contains("Summary     : Test hook library for Kea\n"), "{info}");
            assert!(info.contains("A hook library used by the emitter tests.\n\nIt does nothing."), "{info}");

            let requires = q(&rpm, &["--requires"]);
            for want in ["kea-common >= 2.6.5", "kea-common < 2.6.6", "kea-libs = 2.6.5", "adduser"] {
                assert!(requires.lines().any(|l| l == want), "{want:?} missing from\n{requires}");
            }

            // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink
            let dump: Vec<Vec<String>> = q(&rpm, &["--dump"]).lines()
                .map(|l| l.split(' ').map(String::from).collect()).collect();
            let rows: Vec<(&str, &str, &str, &str, &str, &str)> = dump.iter()
                .map(|f| (f[0].as_str(), f[1].as_str(), f[4].as_str(), f[5].as_str(), f[6].as_str(), f[8].as_str())).collect();
            assert_eq!(rows, vec![
                ("/usr/lib/kea/hooks", "0", "040755", "root", "root", "0"),
                ("/usr/lib/kea/hooks/libdhcp_test.so", "3000", "0100755", "root", "root", "0"),
                ("/usr/share/doc/kea-hook-test/README", "8", "0100644", "root", "root", "1"),
                ("/usr/share/licenses/kea-hook-test/LICENSE", "8", "0100644", "root", "root", "0"),
                ("/var/lib/kea-hook-test", "0", "040755", "root", "root", "0"),
            ]);
            let mtimes = q(&rpm, &["--qf", "[%{FILEMTIMES}\n]"]);
            assert_eq!(mtimes, format!("{MTIME}\n").repeat(5));
            assert_eq!(q(&rpm, &["--licensefiles"]), "/usr/share/licenses/kea-hook-test/LICENSE\n");
            assert_eq!(q(&rpm, &["--docfiles"]), "/usr/share/doc/kea-hook-test/README\n");

            let scripts = q(&rpm, &["--scripts"]);
            assert_eq!(scripts, "postinstall scriptlet (using /bin/sh):\nset -e\necho configured kea-hook-test\n");
            let changelog = q(&rpm, &["--changelog"]);
            assert_eq!(changelog, "* Fri Mar 01 2024 Test Packager <packager@example.org> - 2.6.5-1\n- Package the test hook.\n\n");

            // The payload unpacks, with the right bytes.
            let root = tmp.path().join("root");
            std::fs::create_dir(&root).unwrap();
            run("sh", "dash", &["-c", &format!("cd '{}' && rpm2cpio '{rpm}' | cpio -idm --quiet", root.display())]);
            assert_eq!(std::fs::read(root.join("usr/lib/kea/hooks/libdhcp_test.so")).unwrap(), vec![0x5a; 3000]);
        }
    }

    #[test]
    fn same_spec_same_bytes_whatever_the_disk_says() {
        for c in [Compression::Zstd, Compression::Xz, Compression::Gzip, Compression::None] {
            assert_reproducible(Format::Rpm, c);
        }
    }

    /// An mtime after "now" (the crate would write the current time as build time) still gives
    /// the same bytes a second later, with `BUILDTIME` and every file time set to it.
    #[test]
    fn future_mtime_is_set_not_clamped() {
        let (tmp, mut spec) = sample_spec(Format::Rpm, Compression::Gzip);
        spec.mtime = 4_102_444_800; // 2100-01-01
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&spec, &mut a).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write(&spec, &mut b).unwrap();
        assert!(a == b, "two writes a second apart differ");
        let path = tmp.path().join("future.rpm");
        std::fs::write(&path, &a).unwrap();
        let rpm = path.to_str().unwrap();
        assert!(run("rpm", "rpm", &["-K", "--nosignature", rpm]).contains("digests OK"));
        assert_eq!(q(rpm, &["--qf", "%{BUILDTIME}"]), "4102444800");
        assert_eq!(q(rpm, &["--qf", "[%{FILEMTIMES}\n]"]), "4102444800\n".repeat(5));
    }

    /// rpmbuild's source package name and payload size, which repository tools read.
    #[test]
    fn source_rpm_and_payload_size_are_written() {
        for c in [Compression::Zstd, Compression::None] {
            let (tmp, spec) = sample_spec(Format::Rpm, c);
            let rpm = write_file(&spec, tmp.path());
            assert_eq!(q(&rpm, &["--qf", "%{SOURCERPM}"]), "kea-hook-test-2.6.5-1.src.rpm");
            let cpio_size = run("sh", "dash", &["-c", &format!("rpm2cpio '{rpm}' | wc -c")]);
            assert_eq!(q(&rpm, &["--qf", "%{ARCHIVESIZE}"]), cpio_size.trim(), "{c:?}");
            assert!(run("rpm", "rpm", &["-K", "--nosignature", &rpm]).contains("digests OK"));
        }
    }

    /// Rebuilding the header from its entries reproduces the builder's bytes exactly.
    #[test]
    fn pinning_the_build_time_round_trips() {
        let (_tmp, spec) = sample_spec(Format::Rpm, Compression::None);
        let mut bytes = Vec::new();
        write(&spec, &mut bytes).unwrap();
        let mut pkg = rpm::Package::parse(&mut &bytes[..]).unwrap();
        pin_build_time(&mut pkg, 1).unwrap();
        assert_eq!(pkg.metadata.get_build_time().unwrap(), 1);
        pkg.verify_digests().unwrap();
        pin_build_time(&mut pkg, MTIME as u32).unwrap();
        let mut again = Vec::new();
        pkg.write(&mut again).unwrap();
        assert!(again == bytes, "a header rebuilt with the original time is byte-identical");
    }

    /// The newc cpio headers of the payload carry the spec's time, owner 0:0 and mode, in
    /// sorted path order (rpm itself reads the header tags, but cpio tools read these).
    #[test]
    fn cpio_headers_carry_time_owner_and_mode() {
        let (_tmp, spec) = sample_spec(Format::Rpm, Compression::Gzip);
        let mut bytes = Vec::new();
        write(&spec, &mut bytes).unwrap();
        let mut pkg = rpm::Package::parse(&mut &bytes[..]).unwrap();
        pkg.decompress_payload().unwrap();
        let cpio = &pkg.payload[..];
        let field = |h: &[u8], i: usize| u32::from_str_radix(std::str::from_utf8(&h[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap();
        let (mut pos, mut rows) = (0, Vec::new());
        loop {
            let h = &cpio[pos..pos + 110];
            assert_eq!(&h[..6], b"070701", "newc magic at {pos}");
            let (mode, uid, gid, mtime, size, namesize) = (field(h, 1), field(h, 2), field(h, 3), field(h, 5), field(h, 6), field(h, 11));
            let name = std::str::from_utf8(&cpio[pos + 110..pos + 110 + namesize as usize - 1]).unwrap().to_string();
            if name == "TRAILER!!!" {
                break;
            }
            rows.push((name, mode, uid, gid, mtime));
            pos = (pos + 110 + namesize as usize).next_multiple_of(4);
            pos = (pos + size as usize).next_multiple_of(4);
        }
        let m = MTIME as u32;
        assert_eq!(rows, vec![
            ("./usr/lib/kea/hooks".to_string(), 0o40755, 0, 0, m),
            ("./usr/lib/kea/hooks/libdhcp_test.so".to_string(), 0o100755, 0, 0, m),
            ("./usr/share/doc/kea-hook-test/README".to_string(), 0o100644, 0, 0, m),
            ("./usr/share/licenses/kea-hook-test/LICENSE".to_string(), 0o100644, 0, 0, m),
            ("./var/lib/kea-hook-test".to_string(), 0o40755, 0, 0, m),
        ]);
    }

    #[test]
    fn script_and_changelog_text() {
        assert_eq!(script_body("#!/bin/sh\nset -e\n"), "set -e");
        assert_eq!(script_body("#!/bin/sh"), "");
        assert_eq!(script_body("echo hi\n\n"), "echo hi");
        assert_eq!(changelog_text("Fix it.\n- Two\n  more"), "- Fix it.\n- Two\n  more");
    }

    /// rpmlint on a realistic package reports only what no emitter can fix: the package is not
    /// signed, and Debian's rpmlint has an empty license list (`ValidLicenses = []`), so every
    /// License value draws `invalid-license`.
    #[test]
    fn rpmlint_only_reports_signature_and_license_list() {
        let (tmp, spec) = realistic_spec(Format::Rpm);
        let rpm = write_file(&spec, tmp.path());
        let (_, out) = run_status("rpmlint", "rpmlint", &[&rpm]);
        let tags: Vec<&str> = out.lines().filter_map(|l| l.split_once(": E: ").or(l.split_once(": W: ")))
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("")).collect();
        assert!(tags.iter().all(|t| ["no-signature", "invalid-license"].contains(t)), "rpmlint:\n{out}");
    }

    /// A `%config(noreplace)` file, a group-owned file, a relative symbolic link, a 0750
    /// root:kea directory and a %preun, read back with rpm.
    #[test]
    fn config_group_links_dir_modes_and_preun() {
        let (tmp, mut spec) = sample_spec(Format::Rpm, Compression::Gzip);
        add_whole_kea_parts(&mut spec);
        let rpm = write_file(&spec, tmp.path());
        assert!(run("rpm", "rpm", &["-K", "--nosignature", &rpm]).contains("digests OK"));

        // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink
        let dump = q(&rpm, &["--dump"]);
        let rows: Vec<String> = dump.lines().map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            format!("{} {} {} {}:{} config={} -> {}", f[0], f[1], f[4], f[5], f[6], f[7], f[10])
        }).collect();
        let m = |s: &str| s.to_string();
        assert_eq!(rows, vec![
            m("/etc/kea 0 040750 root:kea config=0 -> X"),
            m("/etc/kea/kea-hook-test.conf 4 0100644 root:root config=1 -> X"),
            m("/usr/lib/kea-hook-test/libfoo.so.1 15 0120777 root:root config=0 -> libfoo.so.1.0.0"),
            m("/usr/lib/kea-hook-test/libfoo.so.1.0.0 100 0100644 root:root config=0 -> X"),
            m("/usr/lib/kea/hooks 0 040755 root:root config=0 -> X"),
            m("/usr/lib/kea/hooks/libdhcp_test.so 3000 0100755 root:root config=0 -> X"),
            m("/usr/share/doc/kea-hook-test/README 8 0100644 root:root config=0 -> X"),
            m("/usr/share/licenses/kea-hook-test/LICENSE 8 0100644 root:root config=0 -> X"),
            m("/var/lib/kea-hook-test 0 040755 root:root config=0 -> X"),
            m("/var/lib/kea-hook-test/state.json 3 0100640 root:kea config=0 -> X"),
        ], "{dump}");
        // `c` config, `n` noreplace (rpm's own letters, as `%config(noreplace)` gives them).
        let flags = q(&rpm, &["--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]"]);
        assert!(flags.lines().any(|l| l == "/etc/kea/kea-hook-test.conf cn"), "{flags}");
        assert_eq!(flags.lines().filter(|l| l.rsplit(' ').next().is_some_and(|f| f.contains('c'))).count(), 1, "{flags}");
        assert_eq!(q(&rpm, &["--configfiles"]), "/etc/kea/kea-hook-test.conf\n");
        assert_eq!(q(&rpm, &["--qf", "[%{FILEMTIMES}\n]"]), format!("{MTIME}\n").repeat(10));

        let scripts = q(&rpm, &["--scripts"]);
        assert!(scripts.contains("preuninstall scriptlet (using /bin/sh):\nset -e\necho removing kea-hook-test\n"), "{scripts}");
        let requires = q(&rpm, &["--qf", "[%{REQUIRENAME} %{REQUIREFLAGS:deptype}\n]"]);
        assert!(requires.lines().any(|l| l == "/bin/sh preun,interp"), "{requires}");
        assert!(q(&rpm, &["--recommends"]).lines().any(|l| l == "group(kea)"));

        // The payload unpacks the link as a link.
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        run("sh", "dash", &["-c", &format!("cd '{}' && rpm2cpio '{rpm}' | cpio -idm --quiet", root.display())]);
        assert_eq!(std::fs::read_link(root.join("usr/lib/kea-hook-test/libfoo.so.1")).unwrap().to_str(), Some("libfoo.so.1.0.0"));

        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&spec, &mut a).unwrap();
        write(&spec, &mut b).unwrap();
        assert!(a == b, "two writes differ");

        let mut bad = spec.clone();
        bad.owned_dirs.retain(|d| d != "/etc/kea");
        let err = write(&bad, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("/etc/kea") && err.contains("not among the owned directories"), "{err}");
        let mut bad = spec.clone();
        bad.links[0].target = String::new();
        assert!(write(&bad, &mut Vec::new()).is_err(), "an empty link target must be refused");
    }

    /// What rpmlint says about a realistic package with the same parts, beyond the signature and
    /// license list: the group `kea` (rpmlint knows only system groups), the 0750 directory and
    /// the 0640 file; nothing about the config file, the link or the %preun.
    #[test]
    fn rpmlint_on_whole_kea_parts() {
        let (tmp, mut spec) = realistic_spec(Format::Rpm);
        add_whole_kea_parts(&mut spec);
        let rpm = write_file(&spec, tmp.path());
        let (_, out) = run_status("rpmlint", "rpmlint", &[&rpm]);
        let mut tags: Vec<&str> = out.lines().filter_map(|l| l.split_once(": E: ").or(l.split_once(": W: ")))
            .map(|(_, rest)| rest.split_whitespace().next().unwrap_or(""))
            .filter(|t| !["no-signature", "invalid-license"].contains(t)).collect();
        tags.sort();
        assert_eq!(tags, ["non-readable", "non-standard-dir-perm", "non-standard-gid", "non-standard-gid"], "rpmlint:\n{out}");
    }
}

//! The maintainer scripts of a hooks package, one for each moment of its life, rendered from
//! `templates/`:
//!
//! - first installation (deb `postinst configure` without a previous version, rpm `%post 1`):
//!   the whole configuration guidance (`post-install.sh.j2`);
//! - upgrade: a short note (`upgrade-note.txt.j2`) naming the version replaced and the new one,
//!   that a running Kea keeps the old libraries until it is restarted or reloads its
//!   configuration, and where the full guidance is. deb: `postinst configure <old version>`;
//!   rpm: `%pre` with an instance count above 1, because rpm tells `%post` nothing about the
//!   version it replaces, while in `%pre` the old package's version file is still in place;
//! - removal, not upgrade (deb `postrm remove`, rpm `%postun 0`): a warning
//!   (`removal-warning.txt.j2`) for each Kea configuration under `/etc/kea` that still names a
//!   library that is gone, naming the file and the daemon reading it (`post-remove.sh.j2`).
//!   A library still present after the removal belongs to another package now (a switch of
//!   package layout) and draws no warning.
//!
//! Every script runs under `/bin/sh` with shell builtins only (`read`, `printf`, `case`,
//! `[`), honours `$DPKG_ROOT`, and exits 0 whatever happens to its output.

use crate::plan::catalog::Catalog;
use crate::plan::guidance::{CONFIG_DIR, Templates};
use crate::plan::profile::RuntimePackages;
use crate::plan::spec::Format;
use crate::support::shell::printf_lines;
use anyhow::Result;
use serde_json::json;

/// Placeholders the text templates are rendered with, replaced by shell expansions afterwards.
const OLD: &str = "@@KEAPACK_OLD_VERSION@@";
const CONF: &str = "@@KEAPACK_CONFIG@@";
const LIB: &str = "@@KEAPACK_LIBRARY@@";
const DAEMON: &str = "@@KEAPACK_DAEMON@@";

/// What the scripts of one package are made from.
pub(crate) struct ScriptInput<'a> {
    pub templates: &'a Templates,
    pub catalog: &'a Catalog,
    pub format: Format,
    pub package: &'a str,
    /// The package's full version (`2.2.0-2+deb12`).
    pub version: &'a str,
    /// Install paths of the hook libraries the package holds.
    pub hook_paths: &'a [String],
    /// Catalog ids of the daemons those hooks load into (`dhcp4`, `dhcp6`).
    pub daemons: &'a [String],
    pub runtime: &'a RuntimePackages,
    /// The full guidance text a first installation prints.
    pub guidance: &'a str,
}

/// The rendered scripts, each complete with its `#!` line.
#[derive(Debug, Clone)]
pub(crate) struct Scripts {
    /// rpm `%pre` (the upgrade note); none for deb, whose `postinst` prints it.
    pub pre_install: Option<String>,
    pub post_install: String,
    pub post_remove: String,
}

/// The file every rpm package carries with its own full version, which the next version's
/// `%pre` reads to name the version it replaces.
pub(crate) fn version_file(package: &str) -> String {
    format!("/usr/share/{package}/version")
}

/// Render the three scripts of a package. Every value reaches a script as one single-quoted
/// word (`Templates` quotes each `{{ … }}` of a `.sh.j2` template); the texts they print are
/// `printf '%s\n'` argument lists made by `support::shell::printf_lines`.
pub(crate) fn render(input: &ScriptInput) -> Result<Scripts> {
    use minijinja::Value;
    let format = match input.format {
        Format::Deb => "deb",
        Format::Rpm => "rpm",
    };
    let hooks = Value::from(minijinja::value::Serde(input.hook_paths.iter().map(|p| json!({ "path": p })).collect::<Vec<_>>()));
    let mut services: Vec<String> = input
        .daemons
        .iter()
        .filter_map(|d| input.runtime.services.get(d).cloned().or_else(|| input.catalog.daemon.get(d).map(|i| i.process.clone())))
        .collect();
    services.dedup();
    let guidance_path = format!("/usr/share/doc/{}/GUIDANCE.txt", input.package);
    let note = input.templates.render(
        "upgrade-note.txt.j2",
        json!({ "package": input.package, "old_version": OLD, "version": input.version, "services": services, "guidance_path": guidance_path }),
    )?;
    let lines = |text: &str, expansions: &[(&str, &str)], indent: usize| Value::from_safe_string(printf_lines(text, expansions, &" ".repeat(indent)));

    let post_install = input.templates.render_value(
        "post-install.sh.j2",
        minijinja::context! {
            package => input.package, format => format, hooks => hooks.clone(),
            guidance => lines(input.guidance, &[], 4), upgrade_note => lines(&note, &[(OLD, "old")], 8),
        },
    )?;
    let pre_install = match input.format {
        Format::Deb => None,
        Format::Rpm => Some(input.templates.render_value(
            "pre-install.sh.j2",
            minijinja::context! {
                package => input.package, version_file => version_file(input.package), upgrade_note => lines(&note, &[(OLD, "old")], 4),
            },
        )?),
    };

    let warning = input.templates.render(
        "removal-warning.txt.j2",
        json!({ "package": input.package, "config": CONF, "library": LIB, "daemon": DAEMON }),
    )?;
    // Every daemon of the catalog, so a configuration is named by the daemon it configures
    // (its top-level key) whichever hooks this package holds.
    let daemons: Vec<_> = input
        .catalog
        .daemon
        .iter()
        .map(|(id, d)| {
            let name = match input.runtime.services.get(id) {
                Some(service) if *service != d.process => format!("{} ({service})", d.process),
                _ => d.process.clone(),
            };
            json!({ "key": d.key, "name": name })
        })
        .collect();
    let post_remove = input.templates.render_value(
        "post-remove.sh.j2",
        minijinja::context! {
            package => input.package, format => format, hooks => hooks, config_dir => CONFIG_DIR,
            daemons => Value::from(minijinja::value::Serde(daemons)),
            removal_warning => lines(&warning, &[(CONF, "conf"), (LIB, "lib"), (DAEMON, "daemon")], 12),
        },
    )?;
    Ok(Scripts { pre_install, post_install, post_remove })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::profile::{Profiles, RuntimeStyle};
    use crate::support::testutil::run_status;
    use std::process::{Command, Stdio};

    fn scripts(format: Format) -> Scripts {
        let target = Profiles::builtin().target(if format == Format::Deb { "debian-12-amd64" } else { "rhel-9-x86_64" }).unwrap();
        let runtime = target.runtime(RuntimeStyle::Distribution).unwrap();
        let paths = ["/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so".to_string(), "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so".to_string()];
        let daemons = ["dhcp4".to_string(), "dhcp6".to_string()];
        render(&ScriptInput {
            templates: &Templates::builtin(),
            catalog: &Catalog::builtin(),
            format,
            package: "kea-premium-hooks",
            version: "2.2.0-2+deb12",
            hook_paths: &paths,
            daemons: &daemons,
            runtime,
            guidance: "FULL GUIDANCE with $HOME, `x` and 'quotes' \\n\n",
        })
        .unwrap()
    }

    /// Run `script` under `shell` with `args` in a fresh DPKG_ROOT; (exit code, stdout, stderr).
    fn run(shell: &str, script: &str, args: &[&str], root: &std::path::Path) -> (Option<i32>, String, String) {
        let out = Command::new(shell).arg("-c").arg(script).arg("sh").args(args).env("DPKG_ROOT", root).stdin(Stdio::null()).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    #[test]
    fn each_moment_says_its_own_thing_under_dash_and_bash() {
        run_status("dash", "dash", &["-c", "true"]);
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let hooks = root.join("usr/lib/x86_64-linux-gnu/kea/hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(hooks.join("libdhcp_host_cmds.so"), "").unwrap();
        std::fs::write(hooks.join("libdhcp_flex_id.so"), "").unwrap();
        let deb = scripts(Format::Deb);
        let rpm = scripts(Format::Rpm);
        assert!(deb.pre_install.is_none());
        for shell in ["dash", "bash"] {
            // First installation: the whole guidance, its text exactly as given.
            let (code, out, err) = run(shell, &deb.post_install, &["configure", ""], root);
            assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "FULL GUIDANCE with $HOME, `x` and 'quotes' \\n\n", ""), "{shell}");
            let (code, out, _) = run(shell, &rpm.post_install, &["1"], root);
            assert_eq!((code, out.as_str()), (Some(0), "FULL GUIDANCE with $HOME, `x` and 'quotes' \\n\n"), "{shell}");
            // Upgrade: the short note with both versions, not the guidance.
            let (code, out, _) = run(shell, &deb.post_install, &["configure", "2.2.0-1+deb12"], root);
            assert_eq!(code, Some(0));
            assert!(out.starts_with("kea-premium-hooks: 2.2.0-1+deb12 is replaced by 2.2.0-2+deb12.\n"), "{shell}: {out}");
            assert!(out.contains("run \"systemctl restart kea-dhcp4-server kea-dhcp6-server\",") && out.contains("config-reload"), "{out}");
            assert!(out.contains("/usr/share/doc/kea-premium-hooks/GUIDANCE.txt") && !out.contains("FULL GUIDANCE"), "{out}");
            let (code, out, _) = run(shell, &rpm.post_install, &["2"], root);
            assert_eq!((code, out.as_str()), (Some(0), ""), "{shell}: rpm's %post is silent on an upgrade");
            let pre = rpm.pre_install.as_deref().unwrap();
            assert_eq!(run(shell, pre, &["1"], root).1, "", "{shell}: %pre is silent on a first installation");
            let (_, out, _) = run(shell, pre, &["2"], root);
            assert!(out.starts_with("kea-premium-hooks: an earlier version is replaced by"), "{shell}: {out}");
            let version = root.join("usr/share/kea-premium-hooks");
            std::fs::create_dir_all(&version).unwrap();
            std::fs::write(version.join("version"), "2.2.0-1.el9\n").unwrap();
            let (_, out, _) = run(shell, pre, &["2"], root);
            assert!(out.starts_with("kea-premium-hooks: 2.2.0-1.el9 is replaced by"), "{shell}: {out}");
            std::fs::remove_dir_all(&version).unwrap();
            // Other deb moments print nothing.
            for args in [&["abort-upgrade", "2.2.0-1"][..], &["abort-remove"][..]] {
                assert_eq!(run(shell, &deb.post_install, args, root), (Some(0), String::new(), String::new()), "{shell} {args:?}");
            }
        }
    }

    #[test]
    fn removal_warns_for_each_configuration_naming_a_library_that_is_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let kea = root.join("etc/kea");
        std::fs::create_dir_all(&kea).unwrap();
        std::fs::write(kea.join("kea-dhcp4.conf"), "{\n  \"Dhcp4\": {\n    \"hooks-libraries\": [\n      { \"library\": \"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so\" }\n    ]\n  }\n}").unwrap();
        // Commented out, or another library of the same directory: no warning.
        std::fs::write(kea.join("kea-dhcp6.conf"), "{ \"Dhcp6\": {\n  // \"library\": \"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so\"\n  # \"libdhcp_flex_id.so\"\n  \"library\": \"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so\" } }\n").unwrap();
        // A file of another name, naming the library by its file name only.
        std::fs::write(kea.join("site.json"), "{ \"Dhcp6\": { \"hooks-libraries\": [ { \"library\": \"libdhcp_flex_id.so\" } ] } }\n").unwrap();
        let (deb, rpm) = (scripts(Format::Deb), scripts(Format::Rpm));
        for shell in ["dash", "bash"] {
            for (script, args) in [(&deb.post_remove, &["remove"][..]), (&rpm.post_remove, &["0"][..])] {
                let (code, out, err) = run(shell, script, args, root);
                assert_eq!((code, out.as_str()), (Some(0), ""), "{shell} {args:?}");
                let first_lines: Vec<&str> = err.lines().filter(|l| l.contains("still names")).collect();
                assert_eq!(first_lines, [
                    format!("kea-premium-hooks: warning: {}/etc/kea/kea-dhcp4.conf still names /usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so,", root.display()),
                    format!("kea-premium-hooks: warning: {}/etc/kea/site.json still names /usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so,", root.display()),
                ], "{shell} {args:?}:\n{err}");
                let daemon = if args == ["remove"] { "kea-dhcp4 (kea-dhcp4-server)" } else { "kea-dhcp4" };
                assert!(err.contains(&format!("which is no longer installed. {daemon} keeps the library")), "{shell} {args:?}:\n{err}");
                assert!(err.contains("kea-dhcp6") && err.contains("HOOKS_OPEN_ERROR"), "{err}");
            }
            // Not a removal: nothing.
            for (script, args) in [(&deb.post_remove, &["upgrade", "2.2.0-2"][..]), (&deb.post_remove, &["purge"][..]), (&rpm.post_remove, &["1"][..])] {
                assert_eq!(run(shell, script, args, root), (Some(0), String::new(), String::new()), "{shell} {args:?}");
            }
        }
        // The libraries present (another package holds them now): nothing either.
        let hooks = root.join("usr/lib/x86_64-linux-gnu/kea/hooks");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(hooks.join("libdhcp_host_cmds.so"), "").unwrap();
        std::fs::write(hooks.join("libdhcp_flex_id.so"), "").unwrap();
        assert_eq!(run("dash", &deb.post_remove, &["remove"], root), (Some(0), String::new(), String::new()));
    }

    #[test]
    fn scripts_use_no_command_outside_the_shell() {
        for s in [scripts(Format::Deb), scripts(Format::Rpm)] {
            for script in [Some(&s.post_install), s.pre_install.as_ref(), Some(&s.post_remove)].into_iter().flatten() {
                assert!(script.starts_with("#!/bin/sh\n"));
                let code: Vec<&str> = script.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
                for word in ["cat", "grep", "sed", "rm", "awk", "head", "dpkg", "rpm"] {
                    assert!(!code.iter().any(|l| l.split_whitespace().next() == Some(word)), "{word} in:\n{script}");
                }
                assert!(script.trim_end().ends_with("exit 0"));
            }
        }
    }
}

//! The configuration guidance a package prints: rendered from `templates/` for the hooks a
//! package really holds, with the target's real paths.

use crate::plan::catalog::{Catalog, HookInfo};
use crate::plan::profile::{RuntimeStyle, Target};
use anyhow::{Context, Result};
use include_dir::{Dir, include_dir};
use serde::Serialize;
use std::path::Path;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Where Kea's configuration files live on every supported distribution.
pub(crate) const CONFIG_DIR: &str = "/etc/kea";

/// The template set: the built-in one, optionally overridden file by file from a directory.
#[derive(Clone)]
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    pub fn builtin() -> Templates {
        Templates::with_overrides(None).expect("built-in templates are valid")
    }

    /// Built-in templates, with any same-named file in `dir` taking their place.
    pub fn with_overrides(dir: Option<&Path>) -> Result<Templates> {
        let mut env = minijinja::Environment::new();
        env.set_syntax(minijinja::syntax::SyntaxConfig::builder().keep_trailing_newline(true).build().expect("default syntax is valid"));
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // A shell script template (`*.sh.j2`) gets every value as one single-quoted word; a
        // value marked safe (the `printf` argument lists keapack makes, `shell_quote`'s output)
        // goes in as it is. Text templates get their values as they are.
        env.set_formatter(|out, state, value| {
            if state.name().ends_with(".sh.j2") && !value.is_safe() {
                out.write_str(&crate::support::shell::quote(&value.to_string())).map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "cannot write the script"))
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env.add_filter("shell_quote", |v: minijinja::Value| minijinja::Value::from_safe_string(crate::support::shell::quote(&v.to_string())));
        for file in BUILTIN.files() {
            let name = file.path().to_string_lossy().into_owned();
            let text = match dir.filter(|d| d.join(&name).exists() || d.join(&name).is_symlink()) {
                // Opened beneath the directory: a link pointing out of it is refused.
                Some(d) => crate::support::beneath::read_to_string(d, &name).map_err(|e| anyhow::anyhow!("template {name}: {e}"))?,
                None => file.contents_utf8().expect("templates are UTF-8").to_string(),
            };
            env.add_template_owned(name.clone(), text).with_context(|| format!("template {name} does not parse"))?;
        }
        Ok(Templates { env })
    }

    /// The names of the built-in template files (what `--templates DIR` can override).
    pub(crate) fn builtin_names() -> Vec<String> {
        BUILTIN.files().map(|f| f.path().to_string_lossy().into_owned()).collect()
    }

    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String> {
        self.render_value(name, minijinja::Value::from(minijinja::value::Serde(ctx)))
    }

    /// Render with a context of minijinja values (which may be marked safe).
    pub(crate) fn render_value(&self, name: &str, ctx: minijinja::Value) -> Result<String> {
        let t = self.env.get_template(name).with_context(|| format!("no template {name}"))?;
        t.render(ctx).with_context(|| format!("cannot render template {name}"))
    }
}

/// What the guidance is about.
pub struct GuidanceInput<'a> {
    pub package: &'a str,
    /// The package's full version (`2.6.5-1`).
    pub version: &'a str,
    pub kea_version: &'a str,
    pub hooks: &'a [HookInfo],
    pub target: &'a Target,
    pub runtime: RuntimeStyle,
}

/// The rendered guidance and the JSON snippets that go with it.
#[derive(Debug, Clone)]
pub struct Guidance {
    pub text: String,
    /// `(file name, JSON text)` per daemon, e.g. `kea-dhcp4-hooks.json`.
    pub snippets: Vec<(String, String)>,
}

#[derive(Serialize)]
struct HookCtx {
    name: String,
    title: String,
    library: String,
    path: String,
    processes: Vec<String>,
    load_message: Option<String>,
    load_error: Option<String>,
    note: Option<String>,
    settings_note: Option<String>,
    /// The settings fragments, one per daemon of this guidance the hook is for, indented.
    settings: Vec<String>,
}

#[derive(Serialize)]
struct DaemonCtx {
    key: String,
    config_path: String,
    service: String,
    socket: String,
    snippet: String,
    snippet_file: String,
    /// Reached over HTTP (the Control Agent) rather than a UNIX socket.
    http: bool,
    /// The JSON fragment that opens the daemon's control channel, indented.
    control: String,
    /// The shell line that asks the daemon for its commands.
    list_commands: String,
}

/// Does Kea `kea` accept a control socket only in its own socket directory, with mode 0750 or
/// tighter? The check came with the security releases 2.4.2, 2.6.3 and 2.7.9 (a version that
/// does not parse is taken to have it).
pub(crate) fn checks_socket_paths(kea: &str) -> bool {
    let Ok(v) = crate::source::version::KeaVersion::parse(kea) else { return true };
    let at = |a, b, c| v >= crate::source::version::KeaVersion::new(a, b, c);
    (at(2, 4, 2) && !at(2, 5, 0)) || (at(2, 6, 3) && !at(2, 7, 0)) || at(2, 7, 9)
}

/// What the guidance calls the hooks, in Kea `kea` (docs/kea-facts.md §2): a hook Kea opened
/// (2.7.7 opened twelve) is open source there, not premium; the closed ones are "premium", or
/// "subscriber" when all of them are ISC's subscriber hooks.
pub(crate) fn kind_word(hooks: &[HookInfo], kea: &str) -> String {
    use crate::plan::catalog::HookKind;
    let kinds: Vec<HookKind> = match crate::source::version::KeaVersion::parse(kea) {
        Ok(v) => hooks.iter().map(|h| h.kind_in(&v)).collect(),
        Err(_) => hooks.iter().map(|h| h.kind).collect(),
    };
    let closed: Vec<HookKind> = kinds.iter().copied().filter(|k| *k != HookKind::Open).collect();
    let open = kinds.len() > closed.len();
    let word = if closed.is_empty() {
        return "open-source".into();
    } else if closed.iter().all(|k| *k == HookKind::Subscriber) {
        "subscriber"
    } else {
        "premium"
    };
    if open { format!("{word} and open-source") } else { word.into() }
}

/// The `list-commands` request, as the guidance's shell lines send it.
pub(crate) const LIST_COMMANDS: &str = r#"{ "command": "list-commands" }"#;

/// `value` pretty-printed with every line indented by two spaces: a JSON fragment set off
/// from the text around it (the `hooks-libraries` snippets stay at the margin).
pub(crate) fn indented(value: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
    text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

/// The fragment that opens `daemon`'s control channel: a UNIX `control-socket` in the
/// runtime's socket directory, or for the Control Agent its HTTP address.
pub(crate) fn control_fragment(info: &crate::plan::catalog::DaemonInfo, socket_dir: &str) -> serde_json::Value {
    match info.http_port {
        Some(port) => serde_json::json!({ &info.key: { "http-host": "127.0.0.1", "http-port": port } }),
        None => serde_json::json!({ &info.key: { "control-socket": { "socket-type": "unix", "socket-name": format!("{}/{}", socket_dir.trim_end_matches('/'), info.socket) } } }),
    }
}

/// The daemon's settings a hook needs, as `{ "<Daemon>": { … } }`, if it needs any.
pub(crate) fn settings_fragment(hook: &HookInfo, daemon: &str, daemon_key: &str) -> Option<serde_json::Value> {
    hook.daemon_settings(daemon).map(|m| serde_json::json!({ daemon_key: m }))
}

#[derive(Serialize)]
struct MandatoryCtx {
    hook: String,
    name: String,
    meaning: String,
}

/// The `{ "<Daemon>": { "hooks-libraries": [...] } }` document for one daemon.
pub(crate) fn snippet(hooks: &[HookInfo], daemon: &str, daemon_key: &str, hooks_dir: &str) -> serde_json::Value {
    let libs: Vec<serde_json::Value> = hooks
        .iter()
        .filter(|h| h.daemons.iter().any(|d| d == daemon))
        .map(|h| {
            let mut entry = serde_json::Map::new();
            entry.insert("library".into(), format!("{hooks_dir}/{}", h.library).into());
            if let Some(p) = h.parameters(daemon) {
                entry.insert("parameters".into(), p);
            }
            serde_json::Value::Object(entry)
        })
        .collect();
    serde_json::json!({ daemon_key: { "hooks-libraries": libs } })
}

/// Render the guidance for `input` with `templates`.
pub fn render(templates: &Templates, catalog: &Catalog, input: &GuidanceInput) -> Result<Guidance> {
    let hooks_dir = input.target.hooks_dir();
    let runtime = input.target.runtime(input.runtime)?;
    let mut daemons = Vec::new();
    let mut snippets = Vec::new();
    for (id, info) in &catalog.daemon {
        if !input.hooks.iter().any(|h| h.daemons.contains(id)) {
            continue;
        }
        let doc = snippet(input.hooks, id, &info.key, &hooks_dir);
        let text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
        let file = format!("{}-hooks.json", info.config.trim_end_matches(".conf"));
        snippets.push((file.clone(), format!("{text}\n")));
        let socket = format!("{}/{}", runtime.socket_dir.trim_end_matches('/'), info.socket);
        let list_commands = match info.http_port {
            Some(port) => format!("curl -s -X POST -H 'Content-Type: application/json' -d '{LIST_COMMANDS}' http://127.0.0.1:{port}/"),
            None => format!("echo '{LIST_COMMANDS}' | socat - UNIX:{socket}"),
        };
        daemons.push(DaemonCtx {
            key: info.key.clone(),
            config_path: format!("{CONFIG_DIR}/{}", info.config),
            service: runtime.services.get(id).cloned().unwrap_or_else(|| info.process.clone()),
            socket,
            snippet: text,
            snippet_file: file,
            http: info.http_port.is_some(),
            control: indented(&control_fragment(info, &runtime.socket_dir)),
            list_commands,
        });
    }
    let hooks: Vec<HookCtx> = input
        .hooks
        .iter()
        .map(|h| HookCtx {
            name: h.name.clone(),
            title: h.title.clone(),
            library: h.library.clone(),
            path: format!("{hooks_dir}/{}", h.library),
            processes: h.daemons.iter().map(|d| catalog.daemon[d].process.clone()).collect(),
            load_message: h.load_message.clone(),
            load_error: h.load_error.clone(),
            note: h.optional_note.clone(),
            settings_note: h.settings_note.clone(),
            settings: catalog
                .daemon
                .iter()
                .filter(|(id, _)| h.daemons.contains(id))
                .filter_map(|(id, info)| settings_fragment(h, id, &info.key))
                .map(|v| indented(&v))
                .collect(),
        })
        .collect();
    let mandatory: Vec<MandatoryCtx> = input
        .hooks
        .iter()
        .flat_map(|h| h.mandatory.iter().map(|m| MandatoryCtx { hook: h.name.clone(), name: m.name.clone(), meaning: m.meaning.clone() }))
        .collect();
    let mut commands: Vec<String> = Vec::new();
    for c in input.hooks.iter().flat_map(|h| h.commands.iter()) {
        if !commands.contains(c) {
            commands.push(c.clone());
        }
    }
    let unix = daemons.iter().any(|d| !d.http);
    let http = daemons.iter().any(|d| d.http);
    let kind_word = kind_word(input.hooks, input.kea_version);
    let text = templates.render(
        "guidance.txt.j2",
        serde_json::json!({
            "package": input.package,
            "version": input.version,
            "kea_version": input.kea_version,
            "kind_word": kind_word,
            "hooks_dir": hooks_dir,
            "hooks": hooks,
            "daemons": daemons,
            "mandatory": mandatory,
            "commands": commands,
            "unix_daemons": unix,
            "path_checks": checks_socket_paths(input.kea_version),
            "http_daemons": http,
            "runtime_common": runtime.common,
            "socket_dir": runtime.socket_dir.trim_end_matches('/'),
            "kea_user": runtime.user,
            "doc_dir": format!("/usr/share/doc/{}", input.package),
        }),
    )?;
    Ok(Guidance { text, snippets })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::profile::Profiles;

    fn hooks(names: &[&str]) -> Vec<HookInfo> {
        let c = Catalog::builtin();
        names.iter().map(|n| c.by_name(n).unwrap().clone()).collect()
    }

    fn guidance(target: &str, names: &[&str]) -> Guidance {
        guidance_for(target, RuntimeStyle::Distribution, names)
    }

    fn guidance_for(target: &str, runtime: RuntimeStyle, names: &[&str]) -> Guidance {
        let t = Profiles::builtin().target(target).unwrap();
        let h = hooks(names);
        let input = GuidanceInput { package: "kea-premium-hooks", version: "2.6.5-1", kea_version: "2.6.5", hooks: &h, target: &t, runtime };
        render(&Templates::builtin(), &Catalog::builtin(), &input).unwrap()
    }

    #[test]
    fn snippets_are_valid_json_with_real_paths_per_daemon() {
        let g = guidance("debian-12-amd64", &["host_cmds", "flex_id", "ping_check"]);
        let names: Vec<_> = g.snippets.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["kea-dhcp4-hooks.json", "kea-dhcp6-hooks.json"]);
        let v4: serde_json::Value = serde_json::from_str(&g.snippets[0].1).unwrap();
        let libs = v4["Dhcp4"]["hooks-libraries"].as_array().unwrap();
        assert_eq!(libs.len(), 3);
        assert_eq!(libs[0]["library"], "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so");
        assert!(libs[1]["parameters"]["identifier-expression"].as_str().unwrap().starts_with("REPLACE-ME"));
        let v6: serde_json::Value = serde_json::from_str(&g.snippets[1].1).unwrap();
        let libs6 = v6["Dhcp6"]["hooks-libraries"].as_array().unwrap();
        assert_eq!(libs6.len(), 2, "ping_check is v4 only");
        assert!(!g.snippets[1].1.contains("ping_check"));
    }

    #[test]
    fn text_names_files_parameters_and_log_messages() {
        let g = guidance("rhel-9-x86_64", &["host_cmds", "flex_id"]);
        let t = &g.text;
        for want in [
            "/etc/kea/kea-dhcp4.conf",
            "/etc/kea/kea-dhcp6.conf",
            "/usr/lib64/kea/hooks/libdhcp_host_cmds.so",
            "\"identifier-expression\" is the expression",
            "HOST_CMDS_INIT_OK",
            "HOOKS_LIBRARY_LOADED hooks library /usr/lib64/kea/hooks/libdhcp_flex_id.so successfully loaded",
            "FLEX_ID_EXPRESSION_NOT_DEFINED",
            "HOOKS_LOAD_ERROR",
            "systemctl restart kea-dhcp4",
            "socat - UNIX:/var/run/kea/kea4-ctrl-socket",
            "reservation-add",
        ] {
            assert!(t.contains(want), "guidance lacks {want:?}:\n{t}");
        }
        // The snippet printed in the text is the same JSON as the file.
        assert!(t.contains(g.snippets[0].1.trim_end()));
    }

    #[test]
    fn the_socket_directory_is_the_runtimes_own() {
        for (target, runtime, dir, user) in [
            ("debian-12-amd64", RuntimeStyle::Distribution, "/run/kea", "_kea"),
            ("debian-12-amd64", RuntimeStyle::Isc, "/var/run/kea", "_kea"),
            ("ubuntu-24.04-amd64", RuntimeStyle::Distribution, "/run/kea", "_kea"),
            ("rhel-9-x86_64", RuntimeStyle::Distribution, "/var/run/kea", "kea"),
            ("fedora-44-x86_64", RuntimeStyle::Distribution, "/var/run/kea", "kea"),
            ("fedora-44-x86_64", RuntimeStyle::Isc, "/var/run/kea", "kea"),
        ] {
            for hooks in [&["host_cmds"][..], &["flex_id"][..]] {
                let t = guidance_for(target, runtime, hooks).text;
                let ctx = format!("{target} {runtime:?} {hooks:?}:\n{t}");
                assert!(t.contains(&format!("socat - UNIX:{dir}/kea4-ctrl-socket")), "{ctx}");
                assert!(t.contains(&format!("{dir} (Kea's socket directory: mode 0750 or")) || t.contains(&format!("\"socket-name\": \"{dir}/kea6-ctrl-socket\"")), "{ctx}");
                assert!(t.contains("0750 or") && t.contains(user), "{ctx}");
                let other = if dir == "/run/kea" { "/var/run/kea" } else { " /run/kea" };
                assert!(!t.contains(other), "{ctx}");
            }
        }
        let t = guidance_for("debian-13-amd64", RuntimeStyle::Distribution, &["host_cmds"]).text;
        assert!(t.contains("install -d -m 0750 -o _kea -g _kea /run/kea"), "{t}");
    }

    #[test]
    fn socket_path_checks_are_named_for_the_releases_that_have_them() {
        for (kea, checks) in [("2.2.0", false), ("2.4.1", false), ("2.4.2", true), ("2.5.8", false), ("2.6.2", false), ("2.6.3", true), ("2.7.8", false), ("2.7.9", true), ("3.0.0", true)] {
            assert_eq!(checks_socket_paths(kea), checks, "{kea}");
        }
        let t = Profiles::builtin().target("debian-12-amd64").unwrap();
        let h = hooks(&["host_cmds"]);
        for (kea, want) in [("2.2.0", "Kea 2.2.0 accepts a control socket in any directory"), ("2.6.3", "Kea 2.6.3 accepts a control socket only in the directory")] {
            let input = GuidanceInput { package: "p", version: "1-1", kea_version: kea, hooks: &h, target: &t, runtime: RuntimeStyle::Distribution };
            let text = render(&Templates::builtin(), &Catalog::builtin(), &input).unwrap().text;
            assert!(text.contains(want) && text.contains("mode 0750 or"), "{text}");
        }
    }

    #[test]
    fn the_control_agent_is_reached_over_http_and_every_fragment_is_json() {
        let g = guidance("debian-12-amd64", &["rbac", "host_cmds"]);
        assert!(g.text.contains("curl -s -X POST -H 'Content-Type: application/json' -d '{ \"command\": \"list-commands\" }' http://127.0.0.1:8000/"), "{}", g.text);
        assert!(!g.text.contains("kea-ca-ctrl-socket"), "{}", g.text);
        assert!(g.text.contains("socat - UNIX:/run/kea/kea4-ctrl-socket"));
        assert!(!g.text.contains("\"Dhcp4\": \"control-socket\""), "{}", g.text);
        let c = Catalog::builtin();
        let v = control_fragment(&c.daemon["dhcp4"], "/run/kea/");
        assert_eq!(v, serde_json::json!({ "Dhcp4": { "control-socket": { "socket-type": "unix", "socket-name": "/run/kea/kea4-ctrl-socket" } } }));
        assert_eq!(control_fragment(&c.daemon["ctrl-agent"], "/run/kea"), serde_json::json!({ "Control-agent": { "http-host": "127.0.0.1", "http-port": 8000 } }));
        let shown = indented(&v);
        assert!(shown.lines().all(|l| l.starts_with("  ")));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&shown).unwrap(), v);
    }
}

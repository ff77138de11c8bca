//! The configuration guidance, for every hook of the catalog, checked by what reads it: a JSON
//! parser, and the real Debian Kea daemons' own configuration check (`-t`).
//!
//! What is checked how:
//! - **JSON, all hooks**: the guidance of every hook alone, and of all hooks together, for
//!   Debian 12 and 13, Ubuntu 24.04 and RHEL 9 targets, both runtimes, and the Kea releases the
//!   catalog tells apart (2.2.0, 2.6.3, and 3.0.0 where rbac moves from the Control Agent to the
//!   servers). Every `{` in the text must open a complete JSON value that starts its line (the
//!   snippets and fragments), or sit in a shell-quoted request (`'{ "command": … }'`) that
//!   parses too; every fragment's top-level key is a daemon the text is about.
//! - **Kea, every daemon**: for Debian 12's Kea 2.2 and Debian 13's Kea 2.6.3 (with its
//!   socket-path checks), in the test roots of `tests/common/roots.rs`: for each daemon
//!   (`kea-dhcp4`, `kea-dhcp6`, `kea-ctrl-agent`, `kea-dhcp-ddns`), the guidance of every hook
//!   that loads into it, all its fragments for that daemon merged into a minimal configuration,
//!   passes `<daemon> -t`. The closed hooks are not in the root, so each `hooks-libraries`
//!   entry whose library file the root lacks is left out (their `parameters` are checked as
//!   JSON only); entries for open-source hooks the root's kea-common ships stay in, so Kea
//!   checks those libraries too. The mandatory parameters' example expressions are checked by
//!   Kea's own expression parser for that daemon: each becomes the test of a client class
//!   (`<expression> == ''`). A control case shows that the check can fail: the DHCPv4
//!   expression in kea-dhcp6 is refused.

mod common;
use common::*;
use keapack::plan::catalog::{Catalog, HookInfo};
use keapack::plan::guidance::{GuidanceInput, Templates, render};
use keapack::plan::profile::{Profiles, RuntimeStyle};
use keapack::source::version::KeaVersion;
use serde_json::{Value, json};

fn guidance(target: &str, runtime: RuntimeStyle, kea: &str, hooks: &[HookInfo]) -> keapack::plan::guidance::Guidance {
    let t = Profiles::builtin().target(target).unwrap();
    let input = GuidanceInput { package: "kea-premium-hooks", version: &format!("{kea}-1"), kea_version: kea, hooks, target: &t, runtime };
    render(&Templates::builtin(), &Catalog::builtin(), &input).unwrap_or_else(|e| panic!("{target} {runtime:?} {kea}: {e:#}"))
}

/// Every `{` of `text`: a JSON value that starts its line, or a request in single quotes.
/// Returns the values; panics naming the line of anything else.
fn every_brace_is_json(text: &str) -> Vec<Value> {
    let mut values = Vec::new();
    let mut i = 0;
    while let Some(k) = text[i..].find('{') {
        let at = i + k;
        let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
        let line_no = text[..at].matches('\n').count() + 1;
        let before = &text[line_start..at];
        if before.ends_with('\'') {
            let end = at + text[at..].find('\'').unwrap_or_else(|| panic!("line {line_no}: unterminated quote"));
            let v: Value = serde_json::from_str(&text[at..end]).unwrap_or_else(|e| panic!("line {line_no}: quoted request is not JSON ({e}): {}", &text[at..end]));
            values.push(v);
            i = end;
            continue;
        }
        assert!(before.trim().is_empty(), "line {line_no}: a brace that does not start a JSON fragment of its own: {:?}", text[line_start..].lines().next().unwrap());
        let mut stream = serde_json::Deserializer::from_str(&text[at..]).into_iter::<Value>();
        let v = match stream.next() {
            Some(Ok(v)) => v,
            other => panic!("line {line_no}: not a complete JSON fragment ({other:?}):\n{}", &text[at..text.len().min(at + 400)]),
        };
        let end = at + stream.byte_offset();
        assert!(text[end..].split('\n').next().unwrap().trim().is_empty(), "line {line_no}: text after the fragment");
        values.push(v);
        i = end;
    }
    values
}

/// What a hook's name must not show in a daemon's expressions: the other protocol's packets.
fn foreign_tokens(daemon: &str) -> &'static [&'static str] {
    match daemon {
        "dhcp6" => &["pkt4", "relay4", "option[82]"],
        "dhcp4" => &["pkt6", "relay6"],
        _ => &[],
    }
}

fn check_text(ctx: &str, g: &keapack::plan::guidance::Guidance, hooks: &[HookInfo], catalog: &Catalog) {
    let values = every_brace_is_json(&g.text);
    let keys: Vec<&str> = catalog.daemon.values().map(|d| d.key.as_str()).collect();
    for v in &values {
        let obj = v.as_object().unwrap_or_else(|| panic!("{ctx}: not an object: {v}"));
        let top = obj.keys().next().unwrap();
        assert!(top == "command" || keys.contains(&top.as_str()), "{ctx}: fragment for no daemon: {v}");
    }
    for (file, snippet) in &g.snippets {
        let v: Value = serde_json::from_str(snippet).unwrap_or_else(|e| panic!("{ctx}: {file}: {e}"));
        assert!(values.contains(&v), "{ctx}: the text prints {file}'s snippet");
    }
    for (id, d) in &catalog.daemon {
        let used = hooks.iter().any(|h| h.daemons.contains(id));
        let channel = values.iter().find(|v| v.get(&d.key).is_some_and(|m| m.get("control-socket").is_some() || m.get("http-port").is_some()));
        assert_eq!(channel.is_some(), used, "{ctx}: a control channel fragment for {} exactly when a hook loads there", d.key);
        if !used {
            continue;
        }
        match d.http_port {
            Some(port) => {
                assert!(g.text.contains(&format!("curl -s -X POST -H 'Content-Type: application/json' -d '{{ \"command\": \"list-commands\" }}' http://127.0.0.1:{port}/")), "{ctx}: {}", g.text);
                assert!(!g.text.contains(&d.socket), "{ctx}: no UNIX socket for {}", d.key);
            }
            None => assert!(g.text.contains("socat - UNIX:") && g.text.contains(&format!("/{}\n", d.socket)), "{ctx}: {}", g.text),
        }
        for h in hooks.iter().filter(|h| h.daemons.contains(id)) {
            for (param, expr) in h.expressions(id) {
                for bad in foreign_tokens(id) {
                    assert!(!expr.contains(bad), "{ctx}: {}'s {param} for {id} uses {bad}: {expr}", h.name);
                }
                assert!(g.snippets.iter().any(|(_, s)| s.contains(&expr)), "{ctx}: the {id} snippet shows {expr}");
            }
            if let Some(settings) = h.daemon_settings(id) {
                assert!(values.contains(&json!({ d.key.as_str(): settings })), "{ctx}: {}'s settings for {}", h.name, d.key);
            }
        }
    }
    for grammar in [" is turns ", " a aarch64", " a x86_64", " is how ", " is where "] {
        assert!(!g.text.contains(grammar), "{ctx}: {grammar:?}");
    }
}

#[test]
fn every_hook_s_guidance_is_valid_json_for_every_target_runtime_and_kea() {
    let catalog = Catalog::builtin();
    let mut checked = 0;
    for target in ["debian-12-amd64", "debian-13-amd64", "ubuntu-24.04-amd64", "rhel-9-x86_64"] {
        for runtime in [RuntimeStyle::Distribution, RuntimeStyle::Isc] {
            for kea in ["2.2.0", "2.6.3", "3.0.0"] {
                let v = KeaVersion::parse(kea).unwrap();
                let all: Vec<HookInfo> = catalog.hook.iter().filter(|h| h.in_kea(&v)).cloned().collect();
                for h in &all {
                    let one = std::slice::from_ref(h);
                    check_text(&format!("{target} {runtime:?} Kea {kea} {}", h.library), &guidance(target, runtime, kea, one), one, &catalog);
                    checked += 1;
                }
                check_text(&format!("{target} {runtime:?} Kea {kea} all"), &guidance(target, runtime, kea, &all), &all, &catalog);
            }
        }
    }
    assert!(checked >= catalog.hook.len() * 4 * 2 * 3 - 4 * 2 * 3, "{checked}");
}

#[test]
fn flex_id_guidance_names_host_reservation_identifiers() {
    let catalog = Catalog::builtin();
    let g = guidance("debian-12-amd64", RuntimeStyle::Distribution, "2.2.0", &[catalog.by_name("flex_id").unwrap().clone()]);
    assert!(g.text.contains("only when \"flex-id\" is in the server's \"host-reservation-identifiers\" list"), "{}", g.text);
    let values = every_brace_is_json(&g.text);
    for key in ["Dhcp4", "Dhcp6"] {
        let ids = values.iter().find_map(|v| v.get(key)?.get("host-reservation-identifiers")?.as_array().cloned()).unwrap_or_else(|| panic!("{key}: {}", g.text));
        assert!(ids.contains(&json!("flex-id")) && ids.contains(&json!("hw-address")), "{ids:?}");
    }
}

#[test]
fn the_guidance_command_takes_aliases_drops_duplicates_and_lists_names() {
    let ok = |args: &[&str]| {
        let out = run(keapack().arg("guidance").args(args));
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let t = ok(&["legal_log"]);
    assert!(t.contains("  libdhcp_legal_log.so  Forensic Logging"), "{t}");
    assert_eq!(ok(&["forensic_log"]), t, "an alias is the same hook");
    let t = ok(&["flex_id", "flex_id", "libdhcp_flex_id.so"]);
    assert_eq!(t.matches("  libdhcp_flex_id.so  ").count(), 1, "{t}");
    assert_eq!(t.matches("\"library\": \"/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so\"").count(), 2, "one entry per daemon: {t}");
    // rbac is the Control Agent's library before Kea 3.0, reached over HTTP; the servers' after.
    let t = ok(&["--kea-version", "2.6.5", "rbac"]);
    assert!(t.contains("libca_rbac.so") && !t.contains("libdhcp_rbac.so") && t.contains("http://127.0.0.1:8000/") && !t.contains("socat"), "{t}");
    let t = ok(&["--kea-version", "3.0.0", "rbac"]);
    assert!(t.contains("libdhcp_rbac.so") && !t.contains("libca_rbac.so") && t.contains("socat - UNIX:/run/kea/kea-ddns-ctrl-socket"), "{t}");
    let out = run(keapack().args(["guidance", "host_cmds", "no_such_hook"]));
    assert!(!out.status.success() && out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no hook 'no_such_hook'") && err.contains("known hooks:"), "{err}");
    for name in ["host_cmds", "flex_id", "forensic_log", "legal_log", "rbac", "ping_check"] {
        assert!(err.contains(name), "{name} missing from: {err}");
    }
}

/// Merge `from` into `into`: maps key by key, lists appended, other values replaced.
fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(old) => merge(old, v),
                    None => drop(a.insert(k.clone(), v.clone())),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b.iter().cloned()),
        (a, b) => *a = b.clone(),
    }
}

/// A minimal configuration each daemon accepts on its own.
fn minimal(key: &str) -> Value {
    match key {
        "Dhcp4" | "Dhcp6" => json!({ key: { "interfaces-config": { "interfaces": [] }, "lease-database": { "type": "memfile", "persist": false } } }),
        _ => json!({ key: {} }),
    }
}

/// Run `<process> -t <config>` in the root; (success, output).
fn kea_check(root: &roots::Root, process: &str, name: &str, cfg: &Value) -> (bool, String) {
    let path = format!("/tmp/{name}.json");
    std::fs::write(root.join(&path), serde_json::to_string_pretty(cfg).unwrap()).unwrap();
    let out = run(root.chroot(&format!("/usr/sbin/{process}")).arg("-t").arg(&path));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn kea_accepts_the_guidance(release: &roots::Release, target: &str, kea: &str) {
    let root = roots::Root::kea_of(release);
    // Kea 2.6.3 checks that the socket directory exists with mode 0750 or tighter.
    std::fs::create_dir_all(root.join("/run/kea")).unwrap();
    assert!(run(root.chroot("chown").args(["_kea:_kea", "/run/kea"])).status.success());
    std::fs::set_permissions(root.join("/run/kea"), std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
    let catalog = Catalog::builtin();
    let version = KeaVersion::parse(kea).unwrap();
    let mut kept_open_hooks = 0;
    for (id, d) in &catalog.daemon {
        let process = &d.process;
        require_in_root(&root, process);
        let hooks: Vec<HookInfo> = catalog.hook.iter().filter(|h| h.in_kea(&version) && h.daemons.contains(id)).cloned().collect();
        let g = guidance(target, RuntimeStyle::Distribution, kea, &hooks);
        let mut cfg = minimal(&d.key);
        let fragments: Vec<Value> = every_brace_is_json(&g.text).into_iter().filter(|v| v.get(&d.key).is_some()).collect();
        assert!(fragments.len() >= 2, "{id}: the hooks-libraries snippet and a control channel at least:\n{}", g.text);
        for f in &fragments {
            merge(&mut cfg, f);
        }
        // The closed hooks are not in the root: their entries go, the open ones stay.
        let libs = cfg[&d.key]["hooks-libraries"].as_array_mut().unwrap();
        libs.retain(|l| root.join(l["library"].as_str().unwrap()).is_file());
        kept_open_hooks += libs.len();
        if id == "dhcp4" || id == "dhcp6" {
            let classes: Vec<Value> = hooks
                .iter()
                .flat_map(|h| h.expressions(id).into_iter().map(move |(p, e)| json!({ "name": format!("keapack-{}-{p}", h.name), "test": format!("{e} == ''") })))
                .collect();
            assert!(!classes.is_empty(), "{id}: flex_id and ddns_tuning give expressions");
            cfg[&d.key]["client-classes"] = Value::Array(classes);
        }
        let (ok, out) = kea_check(&root, process, &format!("guidance-{id}"), &cfg);
        assert!(ok, "{process} -t (Kea {kea}) refused the guidance's configuration:\n{out}\n{}", serde_json::to_string_pretty(&cfg).unwrap());
    }
    assert!(kept_open_hooks > 0, "the root's open-source hooks were checked by Kea too");

    // The check can fail: a DHCPv4 expression in kea-dhcp6.
    let mut bad = minimal("Dhcp6");
    bad["Dhcp6"]["client-classes"] = json!([{ "name": "v4-only", "test": "concat('host-', hexstring(pkt4.mac, '-')) == ''" }]);
    let (ok, out) = kea_check(&root, "kea-dhcp6", "v4-in-v6", &bad);
    assert!(!ok && out.contains("pkt4"), "kea-dhcp6 -t must refuse pkt4: {out}");
}

fn require_in_root(root: &roots::Root, process: &str) {
    assert!(root.join(&format!("/usr/sbin/{process}")).is_file(), "the test root lacks {process} (tests/common/roots.rs installs Kea's daemons)");
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs Kea and runs it"]
fn debian_12_kea_2_2_accepts_every_hook_s_guidance() {
    common::roots::require_root_user();
    kea_accepts_the_guidance(roots::BOOKWORM, "debian-12-amd64", "2.2.0");
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs Kea and runs it"]
fn debian_13_kea_2_6_3_accepts_every_hook_s_guidance() {
    common::roots::require_root_user();
    kea_accepts_the_guidance(roots::TRIXIE, "debian-13-amd64", "2.6.3");
}

/// `keapack guidance` for Kea 3.2.0 (docs/kea-facts.md §2, §7): the hooks Kea 2.7.7 opened are
/// not "premium"; its default hooks are the two still closed (cb_cmds, rbac as
/// libdhcp_rbac.so), and nothing sends a 3.2 user to the Control Agent (gone since 3.1.8) or to
/// libca_rbac (3.2.0 installs no such link).
#[test]
fn guidance_for_kea_3_2_follows_what_that_release_opened_and_removed() {
    let ok = |args: &[&str]| {
        let out = run(keapack().arg("guidance").args(args));
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    for runtime in [&["--runtime", "isc"][..], &["--isc"][..], &["--runtime", "distribution"][..]] {
        let args = |more: &[&'static str]| -> Vec<&'static str> { [runtime, &["--kea-version", "3.2.0", "-t", "rhel-9-x86_64"][..], more].concat() };
        let t = ok(&args(&["flex_id", "host_cmds", "legal_log", "ddns_tuning"]));
        assert!(t.starts_with("kea-premium-hooks 3.2.0-1.el9: Kea 3.2.0 open-source hook libraries\n"), "{t}");
        assert!(!t.contains("premium hook") && !t.contains("subscriber hook"), "{t}");
        let t = ok(&args(&[]));
        assert!(t.starts_with("kea-premium-hooks 3.2.0-1.el9: Kea 3.2.0 subscriber hook libraries\n"), "{t}");
        let listed: Vec<&str> = t.lines().filter(|l| l.starts_with("  lib") && l.contains(" (for ")).map(|l| l.split_whitespace().next().unwrap()).collect();
        assert_eq!(listed, ["libdhcp_cb_cmds.so", "libdhcp_rbac.so"], "{t}");
        for never in ["libca_rbac", "kea-ctrl-agent", "Control-agent", "Control Agent", "127.0.0.1:8000"] {
            assert!(!t.contains(never), "{never:?} in the guidance of Kea 3.2.0:\n{t}");
        }
        let t = ok(&args(&["flex_id", "cb_cmds"]));
        assert!(t.starts_with("kea-premium-hooks 3.2.0-1.el9: Kea 3.2.0 subscriber and open-source hook libraries\n"), "{t}");
    }
    // The same hooks were premium in 2.6.
    let t = ok(&["--kea-version", "2.6.5", "-t", "rhel-9-x86_64", "flex_id", "host_cmds", "legal_log", "ddns_tuning"]);
    assert!(t.starts_with("kea-premium-hooks 2.6.5-1.el9: Kea 2.6.5 premium hook libraries\n"), "{t}");
    let t = ok(&["--kea-version", "2.6.5", "-t", "rhel-9-x86_64"]);
    assert!(t.contains("  libdhcp_host_cmds.so  Host Commands") && !t.contains("libdhcp_cb_cmds.so"), "{t}");
}

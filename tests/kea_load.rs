//! A real Kea loads the packaged hooks: Debian 12's kea-dhcp4 and kea-dhcp6 (2.2), and Debian
//! 13's (2.6.3, which checks the socket, hooks and data paths against what it was built with),
//! each started in a throwaway root of its release where dpkg installed the .deb built for that
//! release (the Debian 13 one compiled by keapack in a trixie root), configured with the JSON
//! snippet and the control socket that the package's own postinst printed, listening on the
//! loopback interface only. And with flex_id's mandatory parameter left out, Kea refuses to
//! start, as the guidance warns.

mod common;
use common::kea::{Kea, START_TIMEOUT, run_bounded};
use common::packages::{example_packages, trixie_example};
use common::roots::{self, Root};
use common::*;
use serde_json::{Value, json};
use std::time::Duration;

/// Where each Kea run keeps its pid file, lock file and (kea-dhcp6) server id, in the root.
const RUN_DIR: &str = "/run/keapack-test";
/// An open-source hook Debian's kea-common ships, already in the configuration before the
/// snippet is merged in (the guidance says to keep such libraries).
const LEASE_CMDS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so";

/// One of the two DHCP daemons.
struct Daemon {
    process: &'static str,
    key: &'static str,
    log_prefix: &'static str,
    /// A real flex_id expression for this protocol, for the REPLACE-ME placeholder.
    flex_expression: &'static str,
}

const DHCP4: Daemon = Daemon { process: "kea-dhcp4", key: "Dhcp4", log_prefix: "DHCP4", flex_expression: "pkt4.mac" };
const DHCP6: Daemon = Daemon { process: "kea-dhcp6", key: "Dhcp6", log_prefix: "DHCP6", flex_expression: "relay6[0].option[18].hex" };

/// A fresh Kea root of `release` with the example's .deb for that release installed (Debian
/// 12: revision 1 built on this host; Debian 13: built in a trixie root): the root and what the
/// postinst printed.
fn installed(release: &roots::Release) -> (Root, String) {
    let deb = if release.suite == "trixie" { trixie_example().deb } else { example_packages(1).deb };
    let root = Root::kea_of(release);
    std::fs::copy(&deb, root.join("/tmp/hooks.deb")).unwrap();
    let out = run(root.chroot("dpkg").args(["-i", "/tmp/hooks.deb"]));
    assert!(out.status.success(), "dpkg -i: {}", String::from_utf8_lossy(&out.stderr));
    (root, String::from_utf8(out.stdout).unwrap())
}

/// The hook libraries the package installed, from dpkg's own file list.
fn packaged_hooks(root: &Root) -> Vec<String> {
    let list = stdout(root.chroot("dpkg").args(["-L", "kea-premium-hooks"]));
    let hooks: Vec<String> = list.lines().filter(|l| l.contains("/kea/hooks/") && l.ends_with(".so")).map(str::to_string).collect();
    assert_eq!(hooks.len(), 2, "{list}");
    hooks
}

/// The `"control-socket"` of the guidance's `{ "Dhcp4": { "control-socket": { … } } }` fragment.
fn guidance_control_socket(guidance: &str, d: &Daemon) -> Value {
    json_fragments(guidance)
        .into_iter()
        .find_map(|(_, v)| v.get(d.key).and_then(|m| m.get("control-socket")).cloned())
        .unwrap_or_else(|| panic!("no {} control-socket fragment in:\n{guidance}", d.key))
}

/// The guidance's "Kea's log then shows, for each library:" lines (`HOST_CMDS_INIT_OK ...` cut
/// before the dots).
fn guidance_log_lines(guidance: &str) -> Vec<String> {
    let start = guidance.find("Kea's log then shows, for each library:").expect("section 3 of the guidance");
    let end = start + guidance[start..].find("If the log shows instead:").unwrap();
    guidance[start..end].lines().skip(1).map(|l| l.trim().trim_end_matches(" ...").to_string()).filter(|l| !l.is_empty()).collect()
}

/// A configuration for `d` with the package's snippet merged into its "hooks-libraries", the
/// REPLACE-ME placeholder filled with `flex` (or the parameter removed when `None`), the
/// guidance's control socket, the loopback interface only, leases in memory, and INFO logging to
/// stdout.
fn config(guidance: &str, d: &Daemon, flex: Option<&str>, release: &roots::Release) -> Value {
    let snippet = json_blocks(guidance).into_iter().find(|b| b.get(d.key).is_some()).unwrap_or_else(|| panic!("no {} snippet", d.key));
    let mut libs = vec![json!({ "library": LEASE_CMDS })];
    libs.extend(snippet[d.key]["hooks-libraries"].as_array().unwrap().iter().cloned());
    let mut placeholders = Vec::new();
    for lib in &mut libs {
        let Some(params) = lib.get_mut("parameters").and_then(Value::as_object_mut) else { continue };
        let names: Vec<String> = params.iter().filter(|(_, v)| v.as_str().is_some_and(|s| s.starts_with("REPLACE-ME"))).map(|(k, _)| k.clone()).collect();
        for name in names {
            match flex {
                Some(expr) => params[&name] = json!(expr),
                None => drop(params.remove(&name)),
            }
            placeholders.push(name);
        }
    }
    assert_eq!(placeholders, ["identifier-expression"], "the snippet marks flex_id's mandatory parameter, and only it");
    let mut body = json!({
        "interfaces-config": { "interfaces": ["lo"] },
        "lease-database": { "type": "memfile", "persist": false },
        "control-socket": guidance_control_socket(guidance, d),
        "hooks-libraries": libs,
        "loggers": [{ "name": d.process, "output_options": [{ "output": "stdout" }], "severity": "INFO" }]
    });
    if d.key == "Dhcp6" && release.kea.is_none() {
        // Kea 2.2's kea-dhcp6 writes its server id there; 2.6.3 accepts only its own data
        // directory (/var/lib/kea, which the unit creates), so it is left to its default.
        body["data-directory"] = json!(RUN_DIR);
    }
    json!({ d.key: body })
}

/// Write `cfg` where the guidance says the daemon's configuration lives; its path in the root.
fn write_config(root: &Root, guidance: &str, d: &Daemon, cfg: &Value) -> String {
    let path = format!("/etc/kea/{}.conf", d.process);
    assert!(guidance.contains(&format!("In {path}, merge this")), "{guidance}");
    std::fs::write(root.join(&path), serde_json::to_string_pretty(cfg).unwrap()).unwrap();
    path
}

fn loads_the_hooks_and_lists_their_commands(d: &Daemon, release: &roots::Release) {
    let (root, guidance) = installed(release);
    let hooks = packaged_hooks(&root);
    let conf = write_config(&root, &guidance, d, &config(&guidance, d, Some(d.flex_expression), release));
    let mut kea = Kea::start(&root, d.process, &conf, RUN_DIR);

    let mut expected: Vec<String> = hooks.iter().map(|h| format!("HOOKS_LIBRARY_LOADED hooks library {h} successfully loaded")).collect();
    expected.push("HOST_CMDS_INIT_OK loading Host Commands hooks library successful".into());
    expected.extend(guidance_log_lines(&guidance)); // what the package promised
    expected.push(format!("{}_STARTED", d.log_prefix));
    let needles: Vec<&str> = expected.iter().map(String::as_str).collect();
    let log = kea.wait_for(&needles, START_TIMEOUT);
    assert!(!log.contains("ERROR"), "{log}");

    // The pid file Kea wrote in this run's own directory names the process we started.
    let pids: Vec<_> = std::fs::read_dir(root.join(&format!("{RUN_DIR}/pid"))).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(pids.len(), 1, "{pids:?}");
    assert_eq!(std::fs::read_to_string(&pids[0]).unwrap().trim(), kea.pid().to_string());

    // The guidance's own list-commands line, run in the root.
    let socket = guidance_control_socket(&guidance, d)["socket-name"].as_str().unwrap().to_string();
    let line = guidance.lines().map(str::trim).find(|l| l.ends_with(&format!("socat - UNIX:{socket}"))).expect("a list-commands line");
    let out = run_bounded(root.chroot("sh").arg("-c").arg(line), Duration::from_secs(15));
    assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(answer["result"], 0, "{answer}");
    let commands: Vec<&str> = answer["arguments"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for c in ["reservation-add", "reservation-get", "reservation-del", "lease4-add"] {
        let c = if d.key == "Dhcp6" { c.replace("lease4", "lease6") } else { c.to_string() };
        assert!(commands.contains(&c.as_str()), "{c} not in {commands:?}");
    }

    let (status, log) = kea.stop();
    assert!(status.success(), "Kea exits cleanly on SIGTERM ({status}):\n{log}");
    assert!(log.contains(&format!("{}_SHUTDOWN", d.log_prefix)) && log.contains("HOST_CMDS_DEINIT_OK"), "{log}");
}

fn refuses_flex_id_without_identifier_expression(d: &Daemon) {
    let (root, guidance) = installed(roots::BOOKWORM);
    let flex = packaged_hooks(&root).into_iter().find(|h| h.ends_with("libdhcp_flex_id.so")).unwrap();
    let conf = write_config(&root, &guidance, d, &config(&guidance, d, None, roots::BOOKWORM));
    let mut kea = Kea::start(&root, d.process, &conf, RUN_DIR);
    let (status, log) = kea.wait_exit(START_TIMEOUT);
    assert_eq!(status.code(), Some(1), "Kea must refuse to start:\n{log}");
    let p = d.log_prefix;
    for line in [
        "FLEX_ID_EXPRESSION_NOT_DEFINED".to_string(),
        format!("HOOKS_LOAD_ERROR 'load' function in hook library {flex} returned error 1"),
        format!("{p}_PARSER_COMMIT_FAIL parser failed to commit changes: One or more hook libraries failed to load"),
        format!("{p}_INIT_FAIL"),
    ] {
        assert!(log.contains(&line), "no {line:?} in:\n{log}");
    }
    assert!(!log.contains(&format!("{p}_STARTED")), "{log}");
    // The guidance names this failure and its cause.
    assert!(guidance.contains("(FLEX_ID_EXPRESSION_NOT_DEFINED: flex_id is missing a mandatory parameter)"), "{guidance}");
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs the example's package and runs Kea"]
fn kea_dhcp4_loads_the_hooks_with_the_printed_snippet_and_lists_their_commands() {
    common::roots::require_root_user();
    loads_the_hooks_and_lists_their_commands(&DHCP4, roots::BOOKWORM);
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs the example's package and runs Kea"]
fn kea_dhcp4_refuses_to_start_with_flex_id_lacking_identifier_expression() {
    common::roots::require_root_user();
    refuses_flex_id_without_identifier_expression(&DHCP4);
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs the example's package and runs Kea"]
fn kea_dhcp6_loads_the_hooks_with_the_printed_snippet_and_lists_their_commands() {
    common::roots::require_root_user();
    loads_the_hooks_and_lists_their_commands(&DHCP6, roots::BOOKWORM);
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs the example's package and runs Kea"]
fn kea_dhcp6_refuses_to_start_with_flex_id_lacking_identifier_expression() {
    common::roots::require_root_user();
    refuses_flex_id_without_identifier_expression(&DHCP6);
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs the example's package and runs Kea"]
fn debian_13_kea_dhcp4_2_6_3_loads_hooks_built_in_a_trixie_root_on_the_printed_socket() {
    common::roots::require_root_user();
    loads_the_hooks_and_lists_their_commands(&DHCP4, roots::TRIXIE);
}

#[test]
#[ignore = "slow: needs root: debootstraps a root, installs the example's package and runs Kea"]
fn debian_13_kea_dhcp6_2_6_3_loads_hooks_built_in_a_trixie_root_on_the_printed_socket() {
    common::roots::require_root_user();
    loads_the_hooks_and_lists_their_commands(&DHCP6, roots::TRIXIE);
}

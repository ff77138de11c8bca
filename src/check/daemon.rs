//! The pieces of a load check (issue: load-verified builds) that talk to a Kea daemon in a
//! root of the target's release: read how a systemd unit runs it, and ask it over its control
//! socket (`check::verify` uses them).
//!
//! - [`Unit::parse`] reads `User=`, `ExecStart=` and the `*Directory=` settings of a unit file
//!   (the daemon is started as the unit would start it, without systemd);
//! - [`ask`] sends one command over a UNIX control socket and reads Kea's JSON answer (Kea
//!   answers with one JSON map and closes the connection);
//! - [`log_evidence`] picks from a daemon's log the lines that prove (or refute) a hook load.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How a systemd unit runs its daemon: what a load check needs of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Unit {
    pub user: Option<String>,
    /// `ExecStart=` split into words (units keapack and the distributions write quote nothing).
    pub exec: Vec<String>,
    /// `RuntimeDirectory=`, `StateDirectory=`, `LogsDirectory=` as the paths systemd makes
    /// (`/run/<d>`, `/var/lib/<d>`, `/var/log/<d>`), each with its mode (default 0755).
    pub directories: Vec<(String, u32)>,
}

impl Unit {
    /// Read the `[Service]` section of a unit file's text. A unit without `ExecStart=` is
    /// refused (nothing to run).
    pub(crate) fn parse(text: &str) -> Result<Unit> {
        let mut unit = Unit::default();
        let mut section = String::new();
        let mut modes: Vec<(&str, u32)> = Vec::new();
        let mut dirs: Vec<(&str, String)> = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.to_string();
                continue;
            }
            if section != "Service" {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "User" => unit.user = Some(value.to_string()),
                // The first ExecStart= that sets one (an empty one resets the list).
                "ExecStart" if unit.exec.is_empty() => unit.exec = value.trim_start_matches(['-', '@', '+', '!', ':']).split_whitespace().map(str::to_string).collect(),
                "RuntimeDirectory" => dirs.extend(value.split_whitespace().map(|d| ("/run", d.to_string()))),
                "StateDirectory" => dirs.extend(value.split_whitespace().map(|d| ("/var/lib", d.to_string()))),
                "LogsDirectory" => dirs.extend(value.split_whitespace().map(|d| ("/var/log", d.to_string()))),
                "RuntimeDirectoryMode" | "StateDirectoryMode" | "LogsDirectoryMode" => {
                    let mode = u32::from_str_radix(value, 8).with_context(|| format!("{key}={value} is not an octal mode"))?;
                    let base = match key {
                        "RuntimeDirectoryMode" => "/run",
                        "StateDirectoryMode" => "/var/lib",
                        _ => "/var/log",
                    };
                    modes.push((base, mode));
                }
                _ => {}
            }
        }
        if unit.exec.is_empty() {
            bail!("the unit has no ExecStart= in its [Service] section");
        }
        for (base, d) in dirs {
            if d.contains("..") || d.starts_with('/') {
                bail!("the unit's directory {d:?} is not a plain name below {base}");
            }
            let mode = modes.iter().rev().find(|(b, _)| *b == base).map_or(0o755, |(_, m)| *m);
            unit.directories.push((format!("{base}/{d}"), mode));
        }
        Ok(unit)
    }
}

/// Send `{ "command": <command> }` over the UNIX socket at `socket` and return Kea's answer.
pub(crate) fn ask(socket: &Path, command: &str, timeout: Duration) -> Result<serde_json::Value> {
    let mut stream = UnixStream::connect(socket).with_context(|| format!("cannot connect to the control socket {}", socket.display()))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = serde_json::json!({ "command": command }).to_string();
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                // Kea's answer is one JSON value: done as soon as it parses.
                if serde_json::from_slice::<serde_json::Value>(&answer).is_ok() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                bail!("{} did not answer '{command}' within {timeout:?}", socket.display())
            }
            Err(e) => return Err(e).with_context(|| format!("reading the answer to '{command}' from {}", socket.display())),
        }
    }
    serde_json::from_slice(&answer).with_context(|| format!("the answer to '{command}' from {} is not JSON: {}", socket.display(), String::from_utf8_lossy(&answer)))
}

/// The lines of a Kea log that prove or refute a hook load: each library's
/// `HOOKS_LIBRARY_LOADED`, and every `HOOKS_*_ERROR`, `*_CONFIG_LOAD_FAIL`, `*_INIT_FAIL`,
/// `FATAL` and `ERROR` line, in the log's order.
pub(crate) fn log_evidence(log: &str) -> (Vec<String>, Vec<String>) {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for line in log.lines() {
        if line.contains("HOOKS_LIBRARY_LOADED") {
            loaded.push(line.to_string());
        } else if line.contains(" ERROR ") || line.contains(" FATAL ") || line.contains("_CONFIG_LOAD_FAIL") || line.contains("HOOKS_LOAD_ERROR") || line.contains("HOOKS_OPEN_ERROR") {
            errors.push(line.to_string());
        }
    }
    (loaded, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_says_who_runs_what_with_which_directories() {
        let text = "[Unit]\nDescription=Kea IPv4 DHCP daemon\nUser=nobody\n\n[Service]\nUser=_kea\nRuntimeDirectory=kea lock/kea\nRuntimeDirectoryMode=0750\nStateDirectory=kea\nStateDirectoryMode=0750\nLogsDirectory=kea\nExecStart=/usr/sbin/kea-dhcp4 -c /etc/kea/kea-dhcp4.conf\nExecStart=/bin/false\n\n[Install]\nWantedBy=multi-user.target\n";
        let u = Unit::parse(text).unwrap();
        assert_eq!(u.user.as_deref(), Some("_kea"));
        assert_eq!(u.exec, ["/usr/sbin/kea-dhcp4", "-c", "/etc/kea/kea-dhcp4.conf"]);
        assert_eq!(
            u.directories,
            [("/run/kea".to_string(), 0o750), ("/run/lock/kea".to_string(), 0o750), ("/var/lib/kea".to_string(), 0o750), ("/var/log/kea".to_string(), 0o755)]
        );
        assert!(Unit::parse("[Service]\nUser=_kea\n").is_err());
        assert!(Unit::parse("[Service]\nExecStart=/x\nStateDirectory=../etc\n").is_err());
        assert!(Unit::parse("[Service]\nExecStart=/x\nStateDirectoryMode=rwx\n").is_err());
    }

    #[test]
    fn ask_sends_a_command_and_reads_the_json_answer() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("kea4-ctrl-socket");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            let asked: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
            // Kea writes its answer and closes; a partial write first, as a busy daemon might.
            let answer = serde_json::json!({ "result": 0, "arguments": [asked["command"], "reservation-add"] }).to_string();
            let (a, b) = answer.split_at(7);
            s.write_all(a.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s.write_all(b.as_bytes()).unwrap();
        });
        let answer = ask(&path, "list-commands", Duration::from_secs(5)).unwrap();
        server.join().unwrap();
        assert_eq!(answer["result"], 0);
        assert_eq!(answer["arguments"], serde_json::json!(["list-commands", "reservation-add"]));
        let missing = ask(&d.path().join("none"), "list-commands", Duration::from_secs(1)).unwrap_err();
        assert!(format!("{missing:#}").contains("cannot connect to the control socket"), "{missing:#}");
    }

    #[test]
    fn the_log_says_what_loaded_and_what_failed() {
        let log = "2026-12-06 23:50:19.538 INFO  [kea-dhcp6.hooks/5250.1] HOOKS_LIBRARY_LOADED hooks library /usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_id.so successfully loaded\n\
                   2026-12-06 23:50:19.539 ERROR [kea-dhcp6.dhcp6/5250.1] DHCP6_CONFIG_LOAD_FAIL configuration error using file: /etc/kea/kea-dhcp6.conf, reason: x\n\
                   2026-12-06 23:50:19.540 INFO  [kea-dhcp6.hooks/5250.1] HOOKS_LIBRARY_CLOSED hooks library closed\n";
        let (loaded, errors) = log_evidence(log);
        assert_eq!(loaded.len(), 1);
        assert!(loaded[0].contains("libdhcp_flex_id.so"));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("DHCP6_CONFIG_LOAD_FAIL"));
    }
}

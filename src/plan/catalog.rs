//! The hooks catalog (`packaging/hooks.toml`): what each Kea hook library is and how it is loaded.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The catalog compiled into the binary.
pub(crate) const BUILTIN: &str = include_str!("../../packaging/hooks.toml");

/// Whether a hook came closed (premium/subscriber) or open source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookKind {
    Premium,
    Subscriber,
    Open,
}

/// A parameter a hook will not load without.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Mandatory {
    pub name: String,
    /// The value to show in the snippet; strings carry `REPLACE-ME` where the operator must decide.
    pub placeholder: toml::Value,
    /// A different placeholder for the DHCPv6 server, where the v4 example would mislead.
    pub placeholder_v6: Option<toml::Value>,
    pub meaning: String,
}

/// One hook library as the catalog describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HookInfo {
    pub name: String,
    pub library: String,
    pub title: String,
    pub kind: HookKind,
    pub daemons: Vec<String>,
    pub load_message: Option<String>,
    pub load_error: Option<String>,
    #[serde(default)]
    pub commands: Vec<String>,
    #[serde(default)]
    pub mandatory: Vec<Mandatory>,
    pub optional_note: Option<String>,
}

impl HookInfo {
    /// The `parameters` map for one daemon's snippet: every mandatory parameter with its placeholder.
    pub fn parameters(&self, daemon: &str) -> Option<serde_json::Value> {
        if self.mandatory.is_empty() {
            return None;
        }
        let map = self
            .mandatory
            .iter()
            .map(|m| {
                let value = match (&m.placeholder_v6, daemon) {
                    (Some(v6), "dhcp6") => v6,
                    _ => &m.placeholder,
                };
                (m.name.clone(), serde_json::to_value(value).expect("TOML values convert to JSON"))
            })
            .collect::<serde_json::Map<_, _>>();
        Some(serde_json::Value::Object(map))
    }

    /// A catalog entry for a library the catalog does not know: loadable by v4 and v6, no extras.
    pub fn unknown(library: &str) -> HookInfo {
        let name = library.trim_start_matches("lib").trim_end_matches(".so").trim_start_matches("dhcp_").to_string();
        HookInfo {
            title: name.clone(),
            name,
            library: library.to_string(),
            kind: HookKind::Premium,
            daemons: vec!["dhcp4".into(), "dhcp6".into()],
            load_message: None,
            load_error: None,
            commands: Vec::new(),
            mandatory: Vec::new(),
            optional_note: Some("keapack's catalog does not know this library; check ISC's documentation for its daemons and parameters.".into()),
        }
    }
}

/// A Kea daemon a hook can be loaded into.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonInfo {
    pub process: String,
    pub config: String,
    pub key: String,
    /// The control socket's file name (`kea4-ctrl-socket`); its directory is the runtime's
    /// (`RuntimePackages::socket_dir`), since Kea accepts sockets only in its compiled-in one.
    pub socket: String,
}

/// The whole catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub daemon: BTreeMap<String, DaemonInfo>,
    pub hook: Vec<HookInfo>,
}

impl Catalog {
    pub fn builtin() -> Catalog {
        Catalog::parse(BUILTIN, "packaging/hooks.toml").expect("the built-in hooks catalog is valid")
    }

    pub fn parse(text: &str, origin: &str) -> Result<Catalog> {
        let cat: Catalog = toml::from_str(text).with_context(|| format!("invalid hooks catalog {origin}"))?;
        for h in &cat.hook {
            for d in &h.daemons {
                anyhow::ensure!(cat.daemon.contains_key(d), "{origin}: hook {} names unknown daemon '{d}'", h.name);
            }
        }
        Ok(cat)
    }

    /// The entry for a library file name (`libdhcp_host_cmds.so`).
    pub fn by_library(&self, library: &str) -> Option<&HookInfo> {
        self.hook.iter().find(|h| h.library == library)
    }

    /// The entry for a hook name (`host_cmds`, `forensic_log`) or library file name.
    pub fn by_name(&self, name: &str) -> Option<&HookInfo> {
        self.hook.iter().find(|h| h.name == name || h.library == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_holds_every_closed_hook_of_kea_facts() {
        let c = Catalog::builtin();
        for lib in [
            "libdhcp_host_cmds.so", "libdhcp_flex_id.so", "libdhcp_legal_log.so", "libdhcp_ddns_tuning.so",
            "libdhcp_subnet_cmds.so", "libdhcp_class_cmds.so", "libdhcp_radius.so", "libdhcp_host_cache.so",
            "libdhcp_lease_query.so", "libdhcp_limits.so", "libdhcp_ping_check.so", "libdhcp_cb_cmds.so",
            "libca_rbac.so", "libdhcp_rbac.so", "libddns_gss_tsig.so",
        ] {
            let h = c.by_library(lib).unwrap_or_else(|| panic!("{lib} missing"));
            assert_ne!(h.kind, HookKind::Open, "{lib}");
        }
        assert_eq!(c.by_library("libdhcp_ping_check.so").unwrap().daemons, ["dhcp4"]);
        assert_eq!(c.by_library("libdhcp_host_cmds.so").unwrap().load_message.as_deref(), Some("HOST_CMDS_INIT_OK"));
        assert_eq!(c.by_name("forensic_log").unwrap().library, "libdhcp_legal_log.so");
    }

    #[test]
    fn flex_id_parameters_carry_the_placeholder() {
        let c = Catalog::builtin();
        let p = c.by_name("flex_id").unwrap().parameters("dhcp4").unwrap();
        assert!(p["identifier-expression"].as_str().unwrap().starts_with("REPLACE-ME"));
        assert!(p["identifier-expression"].as_str().unwrap().contains("relay4"));
        let p6 = c.by_name("flex_id").unwrap().parameters("dhcp6").unwrap();
        assert!(p6["identifier-expression"].as_str().unwrap().contains("relay6"), "a v6 example for the v6 server: {p6}");
        assert!(c.by_name("host_cmds").unwrap().parameters("dhcp4").is_none());
    }

    #[test]
    fn unknown_daemon_is_rejected() {
        let bad = "[daemon.dhcp4]\nprocess='kea-dhcp4'\nconfig='c'\nkey='Dhcp4'\nsocket='s'\n[[hook]]\nname='x'\nlibrary='x.so'\ntitle='X'\nkind='open'\ndaemons=['dhcp9']\n";
        let err = Catalog::parse(bad, "t.toml").unwrap_err().to_string();
        assert!(err.contains("dhcp9"), "{err}");
    }
}

//! The hooks catalog (`packaging/hooks.toml`): what each Kea hook library is and how it is loaded.

use crate::source::version::KeaVersion;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The catalog compiled into the binary.
pub(crate) const BUILTIN: &str = include_str!("../../packaging/hooks.toml");

/// Whether a hook came closed (premium/subscriber) or open source. A closed hook's kind holds
/// for the Kea releases before its `open-since` (`HookInfo::kind_in`).
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
    /// The value to show in the snippet; strings carry `REPLACE-ME` where the operator must
    /// decide. Absent for an expression parameter, whose placeholder names its `expression`.
    pub placeholder: Option<toml::Value>,
    /// A different placeholder for the DHCPv6 server, where the v4 example would mislead.
    pub placeholder_v6: Option<toml::Value>,
    /// For a parameter holding a Kea (string) expression: an example that is valid for the
    /// DHCPv4 server (the placeholder is `REPLACE-ME: an expression such as <it>`).
    pub expression: Option<String>,
    /// The same for the DHCPv6 server (`pkt4`, `relay4`, `option[82]` are DHCPv4 only).
    pub expression_v6: Option<String>,
    /// A value the hook accepts, for a parameter that is no expression: what a load check
    /// (`--verify-load`) fills the placeholder with.
    pub example: Option<toml::Value>,
    /// The same for the DHCPv6 server.
    pub example_v6: Option<toml::Value>,
    /// Completes the sentence `"<name>" is …`.
    pub meaning: String,
}

impl Mandatory {
    /// The example expression for `daemon`, if this parameter holds one.
    pub fn expression(&self, daemon: &str) -> Option<&str> {
        match daemon {
            "dhcp6" => self.expression_v6.as_deref().or(self.expression.as_deref()),
            _ => self.expression.as_deref(),
        }
    }

    /// A value the hook accepts for `daemon` (its example expression, else its example, else
    /// the placeholder when that holds no `REPLACE-ME`): what a load check fills in.
    pub fn example(&self, daemon: &str) -> Option<serde_json::Value> {
        if let Some(e) = self.expression(daemon) {
            return Some(e.into());
        }
        let example = match (&self.example_v6, daemon) {
            (Some(v6), "dhcp6") => Some(v6),
            _ => self.example.as_ref(),
        };
        if let Some(v) = example {
            return Some(serde_json::to_value(v).expect("TOML values convert to JSON"));
        }
        let p = self.placeholder(daemon);
        (!p.to_string().contains("REPLACE-ME")).then_some(p)
    }

    /// The value the snippet shows for `daemon`.
    pub fn placeholder(&self, daemon: &str) -> serde_json::Value {
        if let Some(e) = self.expression(daemon) {
            return format!("REPLACE-ME: an expression such as {e}").into();
        }
        let value = match (&self.placeholder_v6, daemon) {
            (Some(v6), "dhcp6") => Some(v6),
            _ => self.placeholder.as_ref(),
        };
        value.map(|v| serde_json::to_value(v).expect("TOML values convert to JSON")).unwrap_or_else(|| "REPLACE-ME".into())
    }
}

/// One hook library as the catalog describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HookInfo {
    pub name: String,
    /// Other names the hook goes by (`legal_log` for forensic_log, after its library).
    #[serde(default)]
    pub aliases: Vec<String>,
    pub library: String,
    /// The first Kea release whose hook is this library (`3.0.0`), when an earlier one differs.
    pub kea_since: Option<String>,
    /// The first Kea release that no longer has this library.
    pub kea_before: Option<String>,
    pub title: String,
    /// The hook's kind in the releases before `open_since` (all of them, without it).
    pub kind: HookKind,
    /// The first Kea release in which this closed hook is open source (2.7.7 for the twelve
    /// ChangeLog entry 2335 opened; docs/kea-facts.md §2).
    pub open_since: Option<String>,
    pub daemons: Vec<String>,
    pub load_message: Option<String>,
    pub load_error: Option<String>,
    #[serde(default)]
    pub commands: Vec<String>,
    #[serde(default)]
    pub mandatory: Vec<Mandatory>,
    pub optional_note: Option<String>,
    /// Settings of the daemon's own map the hook needs to be useful (flex_id: `"flex-id"` in
    /// `host-reservation-identifiers`), shown as a JSON fragment with `settings_note`.
    pub settings: Option<toml::Table>,
    /// The same for the DHCPv6 server, when it differs.
    pub settings_v6: Option<toml::Table>,
    /// Why the settings matter; completes `<hook>: …`.
    pub settings_note: Option<String>,
}

impl HookInfo {
    /// The `parameters` map for one daemon's snippet: every mandatory parameter with its placeholder.
    pub fn parameters(&self, daemon: &str) -> Option<serde_json::Value> {
        if self.mandatory.is_empty() {
            return None;
        }
        let map = self.mandatory.iter().map(|m| (m.name.clone(), m.placeholder(daemon))).collect::<serde_json::Map<_, _>>();
        Some(serde_json::Value::Object(map))
    }

    /// The example expressions of the mandatory parameters, for `daemon`: (parameter, expression).
    pub fn expressions(&self, daemon: &str) -> Vec<(String, String)> {
        self.mandatory.iter().filter_map(|m| Some((m.name.clone(), m.expression(daemon)?.to_string()))).collect()
    }

    /// The keys this hook needs in `daemon`'s own map, if any.
    pub fn daemon_settings(&self, daemon: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        let table = match daemon {
            "dhcp6" => self.settings_v6.as_ref().or(self.settings.as_ref()),
            _ => self.settings.as_ref(),
        }?;
        match serde_json::to_value(table).expect("TOML values convert to JSON") {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The hook's kind in Kea `kea`: open from its `open-since` release on, else its `kind`.
    pub fn kind_in(&self, kea: &KeaVersion) -> HookKind {
        match self.open_since.as_deref().map(|v| KeaVersion::parse(v).expect("catalog versions are checked when it is parsed")) {
            Some(since) if *kea >= since => HookKind::Open,
            _ => self.kind,
        }
    }

    /// Is this library the hook's library in Kea `kea`?
    pub fn in_kea(&self, kea: &KeaVersion) -> bool {
        let parse = |v: &Option<String>| v.as_deref().map(|v| KeaVersion::parse(v).expect("catalog versions are checked when it is parsed"));
        parse(&self.kea_since).is_none_or(|since| *kea >= since) && parse(&self.kea_before).is_none_or(|before| *kea < before)
    }

    /// Every name the hook answers to: its name, aliases, library file name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str)).chain(std::iter::once(self.library.as_str()))
    }

    /// A catalog entry for a library the catalog does not know: loadable by v4 and v6, no extras.
    pub fn unknown(library: &str) -> HookInfo {
        let name = library.trim_start_matches("lib").trim_end_matches(".so").trim_start_matches("dhcp_").to_string();
        HookInfo {
            title: name.clone(),
            name,
            aliases: Vec::new(),
            library: library.to_string(),
            kea_since: None,
            kea_before: None,
            open_since: None,
            settings: None,
            settings_v6: None,
            settings_note: None,
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
    /// For a daemon reached over HTTP rather than a UNIX socket (the Control Agent): the port
    /// it listens on by default, on 127.0.0.1.
    #[serde(rename = "http-port")]
    pub http_port: Option<u16>,
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
        crate::plan::values::check_text(text, origin, crate::plan::values::FileKind::Catalog)?;
        let cat: Catalog = toml::from_str(text).with_context(|| format!("invalid hooks catalog {origin}"))?;
        for h in &cat.hook {
            for d in &h.daemons {
                anyhow::ensure!(cat.daemon.contains_key(d), "{origin}: hook {} names unknown daemon '{d}'", h.name);
            }
            anyhow::ensure!(
                h.open_since.is_none() || h.kind != HookKind::Open,
                "{origin}: hook {} is open already (kind = \"open\"); open-since belongs to a closed hook (kind premium or subscriber)",
                h.name
            );
            for v in [&h.kea_since, &h.kea_before, &h.open_since].into_iter().flatten() {
                KeaVersion::parse(v).with_context(|| format!("{origin}: hook {} has an invalid Kea version '{v}'", h.name))?;
            }
        }
        Ok(cat)
    }

    /// The hooks `names` ask for (names, aliases or library file names), each once, in the
    /// order asked; a name that several libraries share (`rbac`) is the one of Kea `kea`.
    /// An unknown name is an error that lists the valid ones.
    pub(crate) fn select(&self, names: &[String], kea: &KeaVersion) -> Result<Vec<HookInfo>> {
        let mut out: Vec<HookInfo> = Vec::new();
        for n in names {
            let all: Vec<&HookInfo> = self.hook.iter().filter(|h| h.names().any(|x| x == n)).collect();
            let hook = match all.as_slice() {
                [] => bail!("the hooks catalog has no hook '{n}'; known hooks: {}", self.valid_names().join(", ")),
                [one] => *one,
                several => match several.iter().find(|h| h.in_kea(kea)) {
                    Some(h) => *h,
                    None => bail!("no library of hook '{n}' is for Kea {kea}: {}", several.iter().map(|h| h.library.as_str()).collect::<Vec<_>>().join(", ")),
                },
            };
            if !out.iter().any(|h| h.library == hook.library) {
                out.push(hook.clone());
            }
        }
        Ok(out)
    }

    /// The hooks ISC's overlay of Kea `kea` carries, as far as the catalog knows: in 2.x the
    /// premium ones (the subscriber tier came in a tarball of its own), from 3.0 every hook
    /// still closed in that release (cb_cmds, rbac). `keapack guidance` shows them by default
    /// and `build --dry-run` rehearses the packages with them.
    pub(crate) fn overlay_hooks(&self, kea: &KeaVersion) -> Vec<HookInfo> {
        self.hook
            .iter()
            .filter(|h| h.in_kea(kea))
            .filter(|h| match h.kind_in(kea) {
                HookKind::Open => false,
                HookKind::Subscriber => kea.major >= 3,
                HookKind::Premium => true,
            })
            .cloned()
            .collect()
    }

    /// The names `select` accepts (hook names and aliases), sorted, each once.
    pub(crate) fn valid_names(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<String> = self.hook.iter().flat_map(|h| std::iter::once(&h.name).chain(&h.aliases)).cloned().collect();
        set.into_iter().collect()
    }

    /// The entry for a library file name (`libdhcp_host_cmds.so`).
    pub(crate) fn by_library(&self, library: &str) -> Option<&HookInfo> {
        self.hook.iter().find(|h| h.library == library)
    }

    /// The entry for a hook name (`host_cmds`, `forensic_log`), alias (`legal_log`) or library
    /// file name; the first of several that share a name.
    pub fn by_name(&self, name: &str) -> Option<&HookInfo> {
        self.hook.iter().find(|h| h.names().any(|x| x == name))
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
    fn a_hooks_kind_follows_the_kea_release_that_opened_it() {
        let c = Catalog::builtin();
        let (kea26, kea277, kea32) = (KeaVersion::new(2, 6, 5), KeaVersion::new(2, 7, 7), KeaVersion::new(3, 2, 0));
        // ChangeLog entry 2335 (Kea 2.7.7) opened these twelve.
        for name in ["class_cmds", "ddns_tuning", "flex_id", "legal_log", "host_cache", "host_cmds", "lease_query", "limits", "ping_check", "radius", "subnet_cmds", "gss_tsig"] {
            let h = c.by_name(name).unwrap();
            assert_ne!(h.kind_in(&kea26), HookKind::Open, "{name} was closed in 2.6");
            assert_eq!((h.kind_in(&kea277), h.kind_in(&kea32)), (HookKind::Open, HookKind::Open), "{name}");
        }
        assert_eq!(c.by_name("flex_id").unwrap().kind_in(&KeaVersion::new(2, 7, 6)), HookKind::Premium);
        for lib in ["libdhcp_cb_cmds.so", "libdhcp_rbac.so"] {
            assert_eq!(c.by_library(lib).unwrap().kind_in(&kea32), HookKind::Subscriber, "{lib} stays ISC's");
        }
        let libs = |v: &KeaVersion| c.overlay_hooks(v).into_iter().map(|h| h.library).collect::<Vec<_>>();
        assert_eq!(libs(&kea32), ["libdhcp_cb_cmds.so", "libdhcp_rbac.so"]);
        assert_eq!(libs(&KeaVersion::new(3, 0, 3)), ["libdhcp_cb_cmds.so", "libdhcp_rbac.so"]);
        assert_eq!(libs(&kea26), ["libdhcp_host_cmds.so", "libdhcp_flex_id.so", "libdhcp_legal_log.so", "libdhcp_ddns_tuning.so"]);
        let bad = "[daemon.dhcp4]\nprocess='kea-dhcp4'\nconfig='c'\nkey='Dhcp4'\nsocket='s'\n[[hook]]\nname='x'\nlibrary='libx.so'\ntitle='X'\nkind='open'\nopen-since='2.7.7'\ndaemons=['dhcp4']\n";
        assert!(format!("{:#}", Catalog::parse(bad, "t.toml").unwrap_err()).contains("open-since belongs to a closed hook"));
        let bad = bad.replace("kind='open'", "kind='premium'").replace("'2.7.7'", "'soon'");
        assert!(format!("{:#}", Catalog::parse(&bad, "t.toml").unwrap_err()).contains("invalid Kea version 'soon'"));
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
    fn select_takes_aliases_once_picks_by_kea_release_and_lists_names() {
        let c = Catalog::builtin();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let kea26 = KeaVersion::new(2, 6, 5);
        let got = c.select(&names(&["legal_log", "forensic_log", "flex_id", "libdhcp_flex_id.so", "flex_id"]), &kea26).unwrap();
        let libs: Vec<&str> = got.iter().map(|h| h.library.as_str()).collect();
        assert_eq!(libs, ["libdhcp_legal_log.so", "libdhcp_flex_id.so"]);
        assert_eq!(c.select(&names(&["rbac"]), &kea26).unwrap()[0].library, "libca_rbac.so");
        assert_eq!(c.select(&names(&["rbac"]), &KeaVersion::new(3, 0, 0)).unwrap()[0].library, "libdhcp_rbac.so");
        assert_eq!(c.select(&names(&["libdhcp_rbac.so"]), &kea26).unwrap()[0].library, "libdhcp_rbac.so", "a library file name is taken as given");
        let err = c.select(&names(&["host_cmds", "nope"]), &kea26).unwrap_err().to_string();
        assert!(err.contains("no hook 'nope'") && err.contains("known hooks: bootp, cb_cmds") && err.contains("legal_log"), "{err}");
        assert!(c.valid_names().windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn expressions_are_given_per_daemon() {
        let c = Catalog::builtin();
        for h in &c.hook {
            for (param, e) in h.expressions("dhcp6") {
                assert!(!e.contains("pkt4") && !e.contains("relay4"), "{} {param}: {e}", h.name);
            }
            for (param, e) in h.expressions("dhcp4") {
                assert!(!e.contains("pkt6") && !e.contains("relay6"), "{} {param}: {e}", h.name);
            }
        }
        let d = c.by_name("ddns_tuning").unwrap();
        assert_eq!(d.parameters("dhcp6").unwrap()["hostname-expr"], "REPLACE-ME: an expression such as concat('host-', hexstring(option[1].hex, '-'))");
        let bad = "[daemon.dhcp4]\nprocess='kea-dhcp4'\nconfig='c'\nkey='Dhcp4'\nsocket='s'\n[[hook]]\nname='x'\nlibrary='libx.so'\ntitle='X'\nkind='open'\ndaemons=['dhcp4']\nkea-since='three'\n";
        assert!(format!("{:#}", Catalog::parse(bad, "t.toml").unwrap_err()).contains("invalid Kea version 'three'"));
    }

    #[test]
    fn unknown_daemon_is_rejected() {
        let bad = "[daemon.dhcp4]\nprocess='kea-dhcp4'\nconfig='c'\nkey='Dhcp4'\nsocket='s'\n[[hook]]\nname='x'\nlibrary='libx.so'\ntitle='X'\nkind='open'\ndaemons=['dhcp9']\n";
        let err = Catalog::parse(bad, "t.toml").unwrap_err().to_string();
        assert!(err.contains("dhcp9"), "{err}");
        // Names that reach scripts follow their grammar.
        let bad = bad.replace("process='kea-dhcp4'", "process='kea-dhcp4\\nEOF'");
        let err = Catalog::parse(&bad, "t.toml").unwrap_err().to_string();
        assert!(err.contains("t.toml: line 2: daemon.dhcp4.process"), "{err}");
    }
}

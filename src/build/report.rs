//! The configure report (`config.report`, meson's `build/config.report`): did Kea see the overlay?
//!
//! Every wording Kea has used (docs/kea-facts.md §1):
//! - 1.2–1.3: `  Premium package: yes`
//! - 1.4.0–2.5.7: `  Premium hooks:     yes`, then `  Included Hooks:   <names>`
//! - 2.5.8–2.7.9 (autotools): `  Premium hooks:     <value of PREMIUM>` (`no` when absent)
//! - 2.7.7–2.7.8 (meson): `  Premium hooks:     yes`; 2.7.9–3.x (meson): six spaces.

/// What the report says about the premium overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PremiumReport {
    /// The premium line's value (`yes`, `no`, …), or `None` when the report has no premium line.
    pub premium: Option<String>,
    /// The hooks named on the `Included Hooks:` line, if there is one.
    pub included_hooks: Vec<String>,
    /// The report's lines that mention premium or included hooks, verbatim, for error messages.
    pub evidence: Vec<String>,
}

impl PremiumReport {
    /// True when the report says the overlay was built.
    pub fn detected(&self) -> bool {
        match self.premium.as_deref() {
            Some(v) => !matches!(v.to_ascii_lowercase().as_str(), "no" | "" | "false" | "disabled"),
            None => false,
        }
    }
}

/// Read the premium facts out of a configure report's text.
pub fn parse(report: &str) -> PremiumReport {
    let mut out = PremiumReport { premium: None, included_hooks: Vec::new(), evidence: Vec::new() };
    for line in report.lines() {
        let t = line.trim();
        let value_after = |label: &str| t.strip_prefix(label).map(|v| v.trim().to_string());
        if let Some(v) = value_after("Premium hooks:").or_else(|| value_after("Premium package:")) {
            out.premium = Some(v);
            out.evidence.push(line.trim_end().to_string());
        } else if let Some(v) = value_after("Included Hooks:") {
            out.included_hooks = v.split_whitespace().map(str::to_string).collect();
            out.evidence.push(line.trim_end().to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(lines: &[&str]) -> String {
        let mut s = String::from("Kea source configure results:\n-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-\n\nPackage:\n  Name:              kea\n  Version:           2.6.5\n");
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("\nC++ Compiler:\n  CXX:               g++\n");
        s
    }

    #[test]
    fn kea_1_2_and_1_3_wording() {
        let r = parse(&report(&["  Premium package: yes"]));
        assert!(r.detected());
        assert_eq!(r.premium.as_deref(), Some("yes"));
        assert!(!parse(&report(&["  Premium package: no"])).detected());
    }

    #[test]
    fn kea_1_4_to_2_5_7_wording() {
        let r = parse(&report(&["  Premium hooks:     yes", "  Included Hooks:   forensic_log flex_id host_cmds"]));
        assert!(r.detected());
        assert_eq!(r.included_hooks, ["forensic_log", "flex_id", "host_cmds"]);
        assert_eq!(r.evidence.len(), 2);
    }

    #[test]
    fn kea_2_5_8_autotools_value_wording() {
        assert!(parse(&report(&["  Premium hooks:     yes", "  Included Hooks:   host_cmds"])).detected());
        let no = parse(&report(&["  Premium hooks:     no", "  Included Hooks:   "]));
        assert!(!no.detected());
        assert_eq!(no.premium.as_deref(), Some("no"));
        assert!(no.included_hooks.is_empty());
    }

    #[test]
    fn meson_wordings_five_and_six_spaces() {
        assert!(parse(&report(&["  Premium hooks:     yes"])).detected());
        assert!(parse(&report(&["  Premium hooks:      yes"])).detected());
        assert!(!parse(&report(&["  Premium hooks:      no"])).detected());
    }

    #[test]
    fn a_whole_meson_report_and_the_setup_log_that_prints_it() {
        // build/config.report of a meson Kea 2.7.9+ (as the bundled meson example writes it).
        let saved = "\n       Kea source configure results:\n    -=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-=-\n\nPackage:\n  Name:               kea\n  Version:            3.0.2\n  Extended version:   3.0.2 (3.0.2-1 deb)\n\n  Prefix:             /usr\n  Hooks directory:    /usr/lib/x86_64-linux-gnu/kea/hooks\n  Premium hooks:      yes\n\nBuild Options:        -Dbuildtype=release -Dprefix=/usr\n";
        let r = parse(saved);
        assert!(r.detected());
        assert_eq!(r.evidence, ["  Premium hooks:      yes"]);
        assert!(r.included_hooks.is_empty(), "meson reports name no included hooks");
        // The same report as meson's message() prints it into the setup log.
        let log = format!("Configuring config.report using configuration\nMessage: {saved}\nBuild targets in project: 3\n");
        assert!(parse(&log).detected());
        assert!(!parse(&log.replace("Premium hooks:      yes", "Premium hooks:      no")).detected());
    }

    #[test]
    fn no_premium_line_is_not_detected() {
        let r = parse(&report(&[]));
        assert!(!r.detected());
        assert_eq!(r.premium, None);
        assert!(r.evidence.is_empty());
    }
}

//! Values the completion scripts offer without the parser refusing others: the built-in target
//! ids for every `--target` and the catalog's hook names for `guidance`'s hooks. clap_complete
//! writes a parser's possible values into the static scripts, but clap's parsers for a list
//! (`PossibleValuesParser`) refuse every other value, and a manifest may add targets
//! (`--target my-own-9-x86_64`) that only keapack's own checks can judge, with their messages.
//! And clap names every possible value in its usage errors (`--target` without a value) whatever
//! `hide_possible_values` says. So the command line keapack parses has plain string arguments,
//! and [`offer`] gives the command that `keapack completions` writes a script of the
//! [`Suggested`] parser, which lists the values and still takes any string. clap_complete's
//! fish script leaves positional arguments out; [`fish_positionals`] adds their lines.

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use std::ffi::OsStr;

/// A value parser that takes any string and offers `values` to the completion scripts.
#[derive(Clone)]
pub(crate) struct Suggested {
    values: fn() -> Vec<(String, Option<String>)>,
}

impl TypedValueParser for Suggested {
    type Value = String;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<String, clap::Error> {
        // As a plain String argument: only a value that is not UTF-8 is clap's to refuse.
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let values = (self.values)();
        Some(Box::new(values.into_iter().map(|(name, help)| match help {
            Some(help) => PossibleValue::new(name).help(help),
            None => PossibleValue::new(name),
        })))
    }
}

/// `cmd` (and its subcommands at any depth) with the values each argument should complete to:
/// the target ids for every `--target`, the hook names for a positional `hooks`.
pub(crate) fn offer(cmd: clap::Command) -> clap::Command {
    let offered: Vec<(clap::Id, Suggested)> = cmd.get_arguments().filter_map(|a| suggestion(a).map(|s| (a.get_id().clone(), s))).collect();
    let mut cmd = offered.into_iter().fold(cmd, |cmd, (id, s)| cmd.mut_arg(id, |a| a.value_parser(s)));
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, offer);
    }
    cmd
}

/// Fish lines for the suggestions of the subcommands' positional arguments (`guidance`'s
/// hooks), which clap_complete's fish script leaves out: fish then offers them besides file
/// names (a hook may be named by its library file too). `bin` is the script's command name.
pub(crate) fn fish_positionals(cmd: &clap::Command, bin: &str) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('\'', "\\'").replace('\n', " ");
    let mut lines = String::new();
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals() {
            let Some(values) = arg.get_value_parser().possible_values() else { continue };
            let words: Vec<String> = values
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("{}\\t'{}'", quote(v.get_name()).replace(',', "\\,"), quote(&v.get_help().map(|h| h.to_string()).unwrap_or_default())))
                .collect();
            if !words.is_empty() {
                lines.push_str(&format!("complete -c {bin} -n \"__fish_{}_using_subcommand {}\" -a \"{}\"\n", bin.replace('-', "_"), sub.get_name(), words.join("\n")));
            }
        }
    }
    lines
}

/// What `arg` completes to, if keapack knows more than clap does.
fn suggestion(arg: &clap::Arg) -> Option<Suggested> {
    if arg.get_long() == Some("target") {
        Some(targets())
    } else if arg.is_positional() && arg.get_id() == "hooks" {
        Some(hooks())
    } else {
        None
    }
}

/// `--target`: any string; completions offer every architecture of every built-in profile.
pub(crate) fn targets() -> Suggested {
    Suggested { values: target_ids }
}

/// Hook names: any string (a library file too); completions offer the catalog's names.
pub(crate) fn hooks() -> Suggested {
    Suggested { values: hook_names }
}

/// The built-in targets as `keapack targets` lists them (`debian-12-amd64`), each with its
/// release's name; none when the listing cannot be made (the parse never depends on it).
pub(crate) fn target_ids() -> Vec<(String, Option<String>)> {
    let profiles = crate::plan::profile::Profiles::builtin();
    match crate::run::targets::listing(&profiles, &[]) {
        Ok(listing) => listing.targets.into_iter().map(|t| (t.target, Some(format!("{} {}", t.name, t.arch)))).collect(),
        Err(_) => Vec::new(),
    }
}

/// The names `keapack guidance` takes for a hook: every catalog hook's name and alias.
pub(crate) fn hook_names() -> Vec<(String, Option<String>)> {
    let catalog = crate::plan::catalog::Catalog::builtin();
    catalog
        .valid_names()
        .into_iter()
        .map(|n| {
            let title = catalog.hook.iter().find(|h| h.names().any(|x| x == n)).map(|h| h.title.clone());
            (n, title)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::builder::TypedValueParser;

    fn parse(p: &Suggested, v: &str) -> Result<String, clap::Error> {
        p.parse_ref(&clap::Command::new("t"), None, OsStr::new(v))
    }

    #[test]
    fn the_target_parser_offers_every_built_in_target_and_takes_any_other() {
        let p = targets();
        let offered: Vec<String> = p.possible_values().unwrap().map(|v| v.get_name().to_string()).collect();
        let listed: Vec<String> = crate::run::targets::listing(&crate::plan::profile::Profiles::builtin(), &[]).unwrap().targets.into_iter().map(|t| t.target).collect();
        assert_eq!(offered, listed);
        for t in ["debian-12-amd64", "debian-12-arm64", "rhel-9-x86_64", "rhel-9-aarch64"] {
            assert!(offered.iter().any(|o| o == t), "{t} not offered: {offered:?}");
        }
        assert_eq!(parse(&p, "my-own-9-x86_64").unwrap(), "my-own-9-x86_64");
        assert_eq!(parse(&p, "debian-12-amd64").unwrap(), "debian-12-amd64");
    }

    #[test]
    fn the_hook_parser_offers_the_catalog_s_names_and_takes_any_other() {
        let p = hooks();
        let offered: Vec<String> = p.possible_values().unwrap().map(|v| v.get_name().to_string()).collect();
        assert_eq!(offered, crate::plan::catalog::Catalog::builtin().valid_names());
        for h in ["host_cmds", "legal_log", "forensic_log", "rbac"] {
            assert!(offered.iter().any(|o| o == h), "{h} not offered: {offered:?}");
        }
        assert_eq!(offered.iter().filter(|o| *o == "rbac").count(), 1, "{offered:?}");
        assert_eq!(parse(&p, "libdhcp_host_cmds.so").unwrap(), "libdhcp_host_cmds.so");
    }

    /// The arguments of each subcommand (by its path) that `offer` gave suggestions.
    fn offered(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if a.get_value_parser().possible_values().is_some_and(|mut v| v.any(|v| v.get_name() == "debian-12-amd64" || v.get_name() == "host_cmds")) {
                out.push(format!("{path} {}", a.get_id()));
            }
        }
        for s in cmd.get_subcommands() {
            offered(s, &format!("{path} {}", s.get_name()), out);
        }
    }

    #[test]
    fn every_target_option_and_the_guidance_hooks_complete_and_only_in_the_completion_command() {
        use clap::CommandFactory;
        let mut found = Vec::new();
        offered(&offer(crate::cli::args::Cli::command()), "keapack", &mut found);
        found.sort();
        assert_eq!(found, ["keapack build targets", "keapack demo targets", "keapack guidance hooks", "keapack guidance target", "keapack targets targets", "keapack verify target"]);
        let mut parsed = Vec::new();
        offered(&crate::cli::args::Cli::command(), "keapack", &mut parsed);
        assert!(parsed.is_empty(), "the parsed command line lists values: {parsed:?}");
    }

    #[test]
    fn a_value_that_is_not_utf8_is_refused_as_for_any_string_argument() {
        use std::os::unix::ffi::OsStrExt;
        let err = targets().parse_ref(&clap::Command::new("t"), None, OsStr::from_bytes(b"deb\xff")).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidUtf8);
    }
}

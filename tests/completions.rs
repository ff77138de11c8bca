//! Shell completions of values keapack knows but does not refuse others of: `--target` completes
//! to the built-in targets (as `keapack targets` lists them) on every subcommand that takes it,
//! `guidance`'s hooks to the catalog's names; a target a manifest adds still parses, and clap's
//! usage errors and help list none of them.

mod common;
use common::*;
use std::process::Command;

/// The built-in targets, from `keapack targets --json`.
fn built_in_targets() -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(&stdout(keapack().args(["targets", "--json"]))).unwrap();
    let targets: Vec<String> = json["targets"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap().to_string()).collect();
    assert!(targets.len() >= 20 && targets.iter().any(|t| t == "debian-12-amd64") && targets.iter().any(|t| t == "rhel-9-aarch64"), "{targets:?}");
    targets
}

/// The catalog's hook names and aliases (packaging/hooks.toml).
fn catalog_hooks() -> Vec<String> {
    let catalog: toml::Table = include_str!("../packaging/hooks.toml").parse().unwrap();
    let mut names: Vec<String> = catalog["hook"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| {
            let aliases = h.get("aliases").and_then(|a| a.as_array()).cloned().unwrap_or_default();
            std::iter::once(h["name"].as_str().unwrap().to_string()).chain(aliases.into_iter().map(|a| a.as_str().unwrap().to_string()))
        })
        .collect();
    names.sort();
    names.dedup();
    assert!(names.iter().any(|n| n == "host_cmds") && names.iter().any(|n| n == "legal_log"), "{names:?}");
    names
}

/// What bash's completion function offers for the command line `words` (the last one being
/// completed), with the script `keapack completions bash` writes.
fn bash_offers(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = words.join(" ");
    let probe = format!(
        ". '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _keapack keapack '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let mut offered: Vec<String> = stdout(Command::new("bash").arg("-c").arg(probe)).lines().filter(|l| !l.is_empty()).map(String::from).collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_every_target_option_to_the_built_in_targets_and_guidance_to_the_hooks() {
    require("bash", "bash");
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("keapack.bash");
    std::fs::write(&script, stdout(keapack().args(["completions", "bash"]))).unwrap();
    let targets = built_in_targets();
    let starting = |prefix: &str| -> Vec<String> {
        let mut t: Vec<String> = targets.iter().filter(|t| t.starts_with(prefix)).cloned().collect();
        t.sort();
        t
    };
    for sub in ["build", "demo", "targets", "guidance"] {
        for flag in ["--target", "-t"] {
            let all = bash_offers(&script, &["keapack", sub, flag, ""]);
            let mut expected = targets.clone();
            expected.sort();
            assert_eq!(all, expected, "keapack {sub} {flag} <TAB>");
            for prefix in ["deb", "rhel-9", "ubuntu-24.04-"] {
                let offered = bash_offers(&script, &["keapack", sub, flag, prefix]);
                assert!(!offered.is_empty(), "keapack {sub} {flag} {prefix}<TAB> offers nothing");
                assert_eq!(offered, starting(prefix), "keapack {sub} {flag} {prefix}<TAB>");
            }
        }
    }
    assert_eq!(bash_offers(&script, &["keapack", "build", "--target", "deb"]), ["debian-11-amd64", "debian-11-arm64", "debian-12-amd64", "debian-12-arm64", "debian-13-amd64", "debian-13-arm64"]);
    // After another option the target is offered again (the option repeats).
    assert!(bash_offers(&script, &["keapack", "build", "--target", "debian-12-amd64", "--target", "rhel-9-x"]) == ["rhel-9-x86_64"]);

    // guidance's hooks: the catalog's names (and aliases), besides its options.
    let hooks = catalog_hooks();
    assert_eq!(bash_offers(&script, &["keapack", "guidance", "host_c"]), ["host_cache", "host_cmds"]);
    assert_eq!(bash_offers(&script, &["keapack", "guidance", "legal"]), ["legal_log"]);
    let all = bash_offers(&script, &["keapack", "guidance", ""]);
    for h in &hooks {
        assert!(all.contains(h), "keapack guidance <TAB> lacks the hook {h}: {all:?}");
    }
    assert!(all.iter().any(|w| w == "--target"), "{all:?}");
    // Other subcommands are as before: build's positional takes configure options, no hooks.
    assert!(!bash_offers(&script, &["keapack", "build", ""]).iter().any(|w| w == "host_cmds"));
}

/// How many times a script offers `word` as a value: `word\` (its description follows) at the
/// start of a line or after `((` (zsh) or `-a "` (fish).
fn offered(script: &str, word: &str) -> usize {
    script.match_indices(&format!("{word}\\")).filter(|(i, _)| script[..*i].ends_with('\n') || script[..*i].ends_with("((") || script[..*i].ends_with("-a \"")).count()
}

#[test]
fn zsh_and_fish_scripts_offer_the_targets_and_the_hooks() {
    let targets = built_in_targets();
    let hooks = catalog_hooks();
    for shell in ["zsh", "fish"] {
        let script = stdout(keapack().args(["completions", shell]));
        for t in &targets {
            // Each of build, demo, guidance and targets lists it (for --target; zsh also for -t).
            let times = offered(&script, t);
            assert!(times >= 4, "{shell}: {t} offered {times} times, not for each --target");
        }
        for h in &hooks {
            assert!(offered(&script, h) >= 1, "{shell} completion lacks the hook {h}");
        }
    }
    let fish = stdout(keapack().args(["completions", "fish"]));
    let hooks_line = fish.lines().find(|l| l.starts_with("complete -c keapack -n \"__fish_keapack_using_subcommand guidance\" -a \"")).expect("a fish line for guidance's hooks");
    assert!(!hooks_line.contains(" -f "), "fish should still offer files (a hook's library file): {hooks_line}");
}

#[test]
fn a_target_no_profile_defines_parses_and_is_judged_by_keapack_itself() {
    // Without a manifest that defines it: keapack's own refusal, not clap's.
    for args in [&["targets", "--target", "my-own-9-x86_64"][..], &["guidance", "--target", "my-own-9-x86_64"], &["targets", "-t", "my-own-9-x86_64"]] {
        let out = run(keapack().args(args));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "keapack {args:?}: {err}");
        assert!(err.starts_with("keapack: error: unknown target 'my-own-9-x86_64'; targets are a profile and an architecture"), "keapack {args:?}: {err}");
        assert!(!err.contains("possible values") && !err.contains("invalid value"), "keapack {args:?}: {err}");
    }
    // With a manifest that adds the profile, the target is listed.
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("keapack.toml");
    std::fs::write(&manifest, "[profile.my-own-9]\nextends = \"debian-12\"\nname = \"My own 9\"\n").unwrap();
    let listing = stdout(keapack().arg("targets").arg("-m").arg(&manifest).args(["--target", "my-own-9-amd64"]));
    assert!(listing.lines().any(|l| l.starts_with("my-own-9-amd64 ") && l.contains("My own 9")), "{listing}");
    // A hook the catalog does not know is guidance's to refuse.
    let out = run(keapack().args(["guidance", "no_such_hook"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the hooks catalog has no hook 'no_such_hook'"), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_help_and_man_pages_do_not_list_the_targets() {
    for args in [&["build", "--target"][..], &["demo", "-t"], &["targets", "--target"], &["guidance", "--target"]] {
        let out = run(keapack().args(args));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "keapack {args:?}: {err}");
        assert!(err.contains("a value is required for '--target"), "keapack {args:?}: {err}");
        assert!(!err.contains("possible values") && !err.contains("alma-8-aarch64"), "keapack {args:?} lists the targets: {err}");
        assert!(err.lines().count() < 8, "keapack {args:?}: {err}");
    }
    for sub in ["build", "demo", "targets", "guidance"] {
        for help in ["-h", "--help"] {
            let text = stdout(keapack().args([sub, help]));
            assert!(!text.contains("alma-8-aarch64") && !text.contains("host_cache"), "keapack {sub} {help} lists values:\n{text}");
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    stdout(keapack().args(["man", "--out"]).arg(tmp.path()));
    for page in ["keapack-build.1", "keapack-guidance.1", "keapack-targets.1"] {
        let roff = std::fs::read_to_string(tmp.path().join(page)).unwrap();
        assert!(!roff.contains("alma\\-8\\-aarch64") && !roff.contains("alma-8-aarch64") && !roff.contains("host_cache"), "{page} lists values");
    }
}

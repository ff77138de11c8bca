//! The documentation against the code: every manifest key the parser accepts and every JSON
//! event and output kind the code emits is in docs/reference; the documented manifest parses;
//! the command reference is the binary's own help; every relative link in README.md and docs/
//! reaches a file (and a heading, when it names one); and the README's test command is the
//! one `.ci/run` runs.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// `snake_case` or `CamelCase` as serde's kebab-case writes it.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c == '_' {
            out.push('-');
        } else if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The body of `pub struct NAME {` or `pub(crate) enum NAME {` in `text`: its lines up to the
/// closing brace at the start of a line.
fn item_body<'a>(text: &'a str, head: &str) -> Vec<&'a str> {
    let start = text.lines().position(|l| l.trim_start().starts_with(head) && l.trim_end().ends_with('{')).unwrap_or_else(|| panic!("no `{head} {{` in the source"));
    text.lines().skip(start + 1).take_while(|l| *l != "}").collect()
}

/// The keys a struct deserializes: its `pub` fields, kebab-cased (the manifest's structs say
/// `rename_all = "kebab-case"`), leaving out those marked `#[serde(skip)]`.
fn struct_keys(text: &str, name: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut skip = false;
    for l in item_body(text, &format!("pub struct {name}")) {
        let l = l.trim();
        if l.starts_with("#[serde(") && (l.contains("(skip)") || l.contains("skip,") || l.contains(", skip")) {
            skip = true;
            continue;
        }
        if let Some(field) = l.strip_prefix("pub ").and_then(|r| r.split_once(':')).map(|(f, _)| f) {
            if !std::mem::take(&mut skip) {
                keys.push(kebab(field));
            }
        }
    }
    keys
}

/// Every key the manifest parser accepts, qualified by its table (`package.runtime`).
fn manifest_keys() -> BTreeSet<String> {
    let text = read("src/plan/manifest.rs");
    assert!(text.contains("rename_all = \"kebab-case\""), "the manifest's structs are kebab-cased");
    let mut keys = BTreeSet::new();
    for (table, name) in [("", "Manifest"), ("package.", "PackageSection"), ("package.depends.", "DeclaredDepends"), ("build.", "BuildSection")] {
        let found = struct_keys(&text, name);
        assert!(!found.is_empty(), "no keys found in src/plan/manifest.rs's {name}");
        keys.extend(found.into_iter().map(|k| format!("{table}{k}")));
    }
    // A table whose keys are listed (`package`, `package.depends`) is not a key of its own.
    let tables: BTreeSet<String> = keys.iter().filter(|k| keys.iter().any(|o| o.starts_with(&format!("{k}.")))).cloned().collect();
    keys.retain(|k| !tables.contains(k));
    keys
}

/// The first ```toml block after `heading` in a reference file.
fn toml_block(file: &str, after: &str) -> String {
    let text = read(file);
    let from = text.find(after).unwrap_or_else(|| panic!("{file}: no {after:?}"));
    let rest = &text[from..];
    let start = rest.find("```toml\n").unwrap_or_else(|| panic!("{file}: no toml block after {after:?}")) + "```toml\n".len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}

/// The manifest reference's example with its commented keys (`# key = …`) made live.
fn documented_manifest() -> String {
    toml_block("docs/reference/manifest.md", "# Manifest")
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.split_once(" = ").is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '-')) => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The qualified keys a manifest text sets, as TOML reads it.
fn keys_of(text: &str) -> BTreeSet<String> {
    let value: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("the documented manifest is not TOML: {e}\n{text}"));
    let mut keys = BTreeSet::new();
    fn walk(prefix: &str, t: &toml::Table, keys: &mut BTreeSet<String>) {
        for (k, v) in t {
            let name = format!("{prefix}{k}");
            match v {
                toml::Value::Table(sub) if prefix.is_empty() && k == "package" => walk(&format!("{name}."), sub, keys),
                toml::Value::Table(sub) if name == "package.depends" || (prefix.is_empty() && k == "build") => walk(&format!("{name}."), sub, keys),
                _ => {
                    keys.insert(name);
                }
            }
        }
    }
    walk("", &value, &mut keys);
    keys
}

#[test]
fn every_manifest_key_the_parser_accepts_is_in_the_manifest_reference() {
    let keys = manifest_keys();
    assert!(keys.len() >= 20, "only {} manifest keys found in src/plan/manifest.rs: {keys:?}", keys.len());
    for k in ["targets", "package.name", "package.runtime", "package.depends.deb", "build.configure-options", "build.full", "profile"] {
        assert!(keys.contains(k), "{k} not found among {keys:?}");
    }
    let example = documented_manifest();
    let mut documented = keys_of(&example);
    // `[profile.<id>]` tables are their own reference, with their own example.
    let profiles = toml_block("docs/reference/profiles.md", "# Profiles in a manifest");
    documented.extend(keys_of(&profiles).into_iter().filter(|k| k.starts_with("profile")).map(|_| "profile".to_string()));
    let missing: Vec<_> = keys.difference(&documented).collect();
    assert!(missing.is_empty(), "manifest keys the parser accepts but docs/reference/manifest.md's example does not show (as `key = …` or `# key = …`): {missing:?}");
    let stale: Vec<_> = documented.difference(&keys).collect();
    assert!(stale.is_empty(), "keys docs/reference shows that the parser does not accept: {stale:?}");

    // Both documented manifests are accepted by the parser itself, every key live.
    keapack::plan::manifest::Manifest::parse(&example, "docs/reference/manifest.md").unwrap_or_else(|e| panic!("the documented manifest is refused: {e:#}\n{example}"));
    keapack::plan::manifest::Manifest::parse(&profiles, "docs/reference/profiles.md").unwrap_or_else(|e| panic!("the documented profiles are refused: {e:#}"));
}

/// The event names: the `Event` enum's variants, kebab-cased as serde tags them.
fn event_names() -> BTreeSet<String> {
    let text = read("src/support/events.rs");
    assert!(text.contains("rename_all = \"kebab-case\""), "events are kebab-cased");
    item_body(&text, "pub(crate) enum Event")
        .iter()
        .filter_map(|l| l.strip_prefix("    ").filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase())))
        .map(|r| kebab(r.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap()))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The last string literal of `call`, a call's text up to its closing `)`.
fn last_literal(call: &str) -> Option<String> {
    let end = call.rfind('"')?;
    let start = call[..end].rfind('"')?;
    Some(call[start + 1..end].to_string())
}

/// The output kinds the code announces: the last argument of every `output_written(` call, every
/// `kind: "…"` of an `OutputWritten`/`OutputRemoved` event, and the kinds the build pipeline gives its packages.
fn output_kinds() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut kinds = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("output_written(") {
            if text[..i].ends_with("fn ") {
                continue;
            }
            let call = &text[i..i + text[i..].find(';').unwrap_or(text.len() - i)];
            if let Some(k) = last_literal(call) {
                kinds.insert(k);
            }
        }
        for ev in ["OutputWritten {", "OutputRemoved {"] {
            for (i, _) in text.match_indices(ev) {
                let fields = &text[i..i + text[i..].find('}').unwrap_or(text.len() - i)];
                if let Some(k) = fields.find("kind: \"") {
                    let rest = &fields[k + 7..];
                    kinds.insert(rest[..rest.find('"').unwrap()].to_string());
                }
            }
        }
        for pat in ["std::iter::once((\"", "map(|d| (\""] {
            for (i, _) in text.match_indices(pat) {
                let rest = &text[i + pat.len()..];
                kinds.insert(rest[..rest.find('"').unwrap()].to_string());
            }
        }
    }
    kinds.retain(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
    kinds
}

#[test]
fn every_event_and_output_kind_the_code_emits_is_in_the_events_reference() {
    let events = event_names();
    assert!(events.len() >= 7, "only {events:?} found in src/support/events.rs's Event");
    for e in ["step-started", "output-written", "run-finished"] {
        assert!(events.contains(e), "{e} not among {events:?}");
    }
    let doc = read("docs/reference/events.md");
    // The rows of the table whose header is `| \`event\` | fields |`, below its `|---|` line.
    let rows = doc.split("| `event` | fields |\n|---|---|\n").nth(1).expect("docs/reference/events.md has the events table");
    let table: BTreeSet<String> = rows.lines().map_while(|l| l.strip_prefix("| `")).map(|r| r[..r.find('`').unwrap()].to_string()).collect();
    let missing: Vec<_> = events.difference(&table).collect();
    assert!(missing.is_empty(), "events the code emits without a row in docs/reference/events.md's table: {missing:?}");
    let stale: Vec<_> = table.difference(&events).collect();
    assert!(stale.is_empty(), "events documented that the code does not emit: {stale:?}");

    let kinds = output_kinds();
    assert!(kinds.len() >= 6, "only {kinds:?} found as output kinds in src/");
    for k in ["package", "debug-symbols", "build-record", "checksums", "repository-package", "signed-package"] {
        assert!(kinds.contains(k), "{k} not among {kinds:?}");
    }
    for k in &kinds {
        assert!(doc.contains(&format!("`{k}`")), "the output kind `{k}` the code announces is not in docs/reference/events.md");
    }
}

/// GitHub's anchor for a heading: lowercase, punctuation but `-` and `_` dropped, spaces to `-`.
fn anchor(heading: &str) -> String {
    heading.trim().to_lowercase().chars().filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ').map(|c| if c == ' ' { '-' } else { c }).collect()
}

/// The anchors of a markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for l in text.lines() {
        if l.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && l.starts_with('#') {
            out.insert(anchor(l.trim_start_matches('#')));
        }
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut files = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut files);
    files
}

#[test]
fn every_relative_link_in_the_readme_and_docs_reaches_a_file_and_heading() {
    let files = markdown_files();
    assert!(files.len() >= 15, "{files:?}");
    let mut checked = 0;
    let mut broken = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let mut fenced = false;
        for l in text.lines() {
            if l.starts_with("```") {
                fenced = !fenced;
                continue;
            }
            if fenced {
                continue;
            }
            for (i, _) in l.match_indices("](") {
                let rest = &l[i + 2..];
                let Some(end) = rest.find(')') else { continue };
                let link = &rest[..end];
                if link.contains("://") || link.starts_with("mailto:") {
                    continue;
                }
                let (path, frag) = link.split_once('#').unwrap_or((link, ""));
                let target = if path.is_empty() { f.clone() } else { f.parent().unwrap().join(path) };
                checked += 1;
                if !target.exists() {
                    broken.push(format!("{}: {link} (no such file)", f.display()));
                } else if !frag.is_empty() && !anchors(&std::fs::read_to_string(&target).unwrap()).contains(frag) {
                    broken.push(format!("{}: {link} (no such heading in {})", f.display(), target.display()));
                }
            }
        }
    }
    assert!(checked >= 30, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README's Quick start commands: the first ```sh block after `## Quick start`, comments cut.
fn quick_start() -> Vec<String> {
    let text = read("README.md");
    let from = text.find("\n## Quick start\n").expect("README.md has a Quick start");
    let rest = &text[from..];
    let start = rest.find("```sh\n").unwrap() + 6;
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].lines().map(|l| l.split(" #").next().unwrap().trim().to_string()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn the_readmes_quick_start_runs_the_demo_and_the_test_command_ci_runs() {
    let commands = quick_start();
    assert_eq!(commands.len(), 2, "the main job and the tests: {commands:?}");
    let demo = commands[0].strip_prefix("cargo run --release -- ").unwrap_or_else(|| panic!("{:?} runs keapack from the checkout", commands[0]));
    let words: Vec<&str> = demo.split_whitespace().collect();
    let help = stdout(keapack().args([words[0], "--help"]));
    for flag in &words[1..] {
        assert!(help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).any(|w| w == *flag), "keapack {} has no {flag}:\n{help}", words[0]);
    }
    // `.ci/run` runs the README's test command, exactly, as a line of its own.
    let test = &commands[1];
    let script = test.split_whitespace().next().unwrap();
    assert!(root().join(script).is_file(), "{script} is a file of the checkout");
    let ci = read(".ci/run");
    assert!(ci.lines().any(|l| l.trim() == test), ".ci/run does not run the README's test command {test:?}:\n{ci}");
}

/// Every command's path (`["cache", "prune"]`) from the binary's help, depth first.
fn commands(path: &[String], out: &mut Vec<Vec<String>>) {
    let help = stdout(keapack().args(path).arg("--help"));
    out.push(path.to_vec());
    let Some(list) = help.split("\nCommands:\n").nth(1) else { return };
    for l in list.lines().take_while(|l| l.starts_with("  ")) {
        let name = l.split_whitespace().next().unwrap();
        if name != "help" {
            let mut sub = path.to_vec();
            sub.push(name.to_string());
            commands(&sub, out);
        }
    }
}

/// docs/reference/commands.md as the binary's help makes it.
fn command_reference() -> String {
    let mut all = Vec::new();
    commands(&[], &mut all);
    let mut md = String::from(
        "# Commands and flags\n\n<!-- Written by tests/docs.rs from `keapack <command> --help`; after changing the command line, run\n     KEAPACK_WRITE_DOCS=1 cargo test --test docs  to write it again. -->\n\nEvery command's `--help`, as the binary prints it. `keapack man --out DIR` writes the same as man\npages; see [the command line](cli.md) for completions and man pages.\n\n",
    );
    for path in &all {
        md.push_str(&format!("- [`keapack{}`](#{})\n", path.iter().map(|p| format!(" {p}")).collect::<String>(), anchor(&format!("keapack{}", path.iter().map(|p| format!(" {p}")).collect::<String>()))));
    }
    for path in &all {
        let help = stdout(keapack().args(path).arg("--help"));
        md.push_str(&format!("\n## keapack{}\n\n```text\n{}\n```\n", path.iter().map(|p| format!(" {p}")).collect::<String>(), help.trim_end()));
    }
    md
}

#[test]
fn the_command_reference_is_the_binarys_help() {
    let want = command_reference();
    assert!(want.matches("\n## keapack").count() >= 10, "{want}");
    for flag in ["--kea", "--premium", "--runtime", "--gpg-key", "--message-format", "--check-reproducible"] {
        assert!(want.contains(flag), "{flag} missing from the help");
    }
    let path = root().join("docs/reference/commands.md");
    if std::env::var_os("KEAPACK_WRITE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/reference/commands.md is not the binary's help: run KEAPACK_WRITE_DOCS=1 cargo test --test docs to write it again");
}

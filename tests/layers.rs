//! The layers hold: no `crate::` path in `src/` names a layer above the file's own (the order is
//! `keapack::LAYERS`, written once in `lib.rs`), and no import circle joins files of different
//! folders. Both checks read the source text, so they run in the fast tier.
//!
//! `KEAPACK_LAYERS_SRC=<dir>` points the check at another tree (an older checkout, say) to see
//! what it reports there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One `crate::` path found in a file: the line it is on and its segments.
#[derive(Debug, Clone)]
struct Import {
    line: usize,
    segments: Vec<String>,
}

/// Every `.rs` file under `dir`, as paths relative to it, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(base.join(rel)).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let r = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                walk(base, &r, out);
            } else if r.extension().is_some_and(|x| x == "rs") {
                out.push(r);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), &mut out);
    out
}

/// The text of a line without its `//` comment (a `//` inside a string literal ends the scan
/// early, which can only hide a path, never invent one).
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Every `crate::…` path in `text`, with `use crate::{a::b, c::{d, e}}` groups expanded one
/// level: each name at the top of the group becomes its own path.
fn imports(text: &str) -> Vec<Import> {
    let mut out = Vec::new();
    // Join the lines of a `use` group so that a group spread over lines is read whole.
    let lines: Vec<&str> = text.lines().map(code).collect();
    for (i, line) in lines.iter().enumerate() {
        let mut rest = *line;
        while let Some(pos) = rest.find("crate::") {
            let before = &rest[..pos];
            rest = &rest[pos + "crate::".len()..];
            // `$crate::` in macros and identifiers ending in `crate` are not paths of this crate.
            if before.ends_with('$') || before.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if rest.starts_with('{') {
                // A group: collect its text up to the matching brace, across lines if need be.
                let mut group = String::new();
                let mut depth = 0;
                let mut tail: Vec<&str> = vec![rest];
                tail.extend(lines[i + 1..].iter().copied());
                'outer: for t in tail {
                    for c in t.chars() {
                        match c {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break 'outer;
                                }
                            }
                            _ => {}
                        }
                        if depth >= 1 && !(depth == 1 && c == '{') {
                            group.push(c);
                        }
                    }
                    group.push(' ');
                }
                // Split the top level of the group on commas.
                let mut depth = 0;
                let mut item = String::new();
                let mut items = Vec::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            items.push(std::mem::take(&mut item));
                            continue;
                        }
                        _ => {}
                    }
                    item.push(c);
                }
                items.push(item);
                for it in items {
                    let segs = segments(it.trim());
                    if !segs.is_empty() {
                        out.push(Import { line: i + 1, segments: segs });
                    }
                }
            } else {
                let segs = segments(rest);
                if !segs.is_empty() {
                    out.push(Import { line: i + 1, segments: segs });
                }
            }
        }
    }
    out
}

/// The leading `a::b::c` of `s`: identifiers joined by `::`.
fn segments(s: &str) -> Vec<String> {
    let mut segs = Vec::new();
    let mut rest = s;
    loop {
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        segs.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) if r.starts_with(|c: char| c.is_alphanumeric() || c == '_') => rest = r,
            _ => break,
        }
    }
    segs
}

/// The layer (top folder under `src/`) a file belongs to; `None` for the crate root files.
fn layer_of(file: &Path) -> Option<String> {
    let mut comps = file.components();
    let first = comps.next()?.as_os_str().to_str()?.to_string();
    comps.next().map(|_| first)
}

/// The file a path of segments names: the longest prefix that is a module file.
fn module_file(src: &Path, segs: &[String]) -> Option<PathBuf> {
    for n in (1..=segs.len()).rev() {
        let dir: PathBuf = segs[..n].iter().collect();
        for candidate in [dir.with_extension("rs"), dir.join("mod.rs")] {
            if src.join(&candidate).is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// What the checks found: climbs (file, line, path, why) and circles across folders.
struct Findings {
    climbs: Vec<String>,
    circles: Vec<Vec<PathBuf>>,
}

fn check(src: &Path, layers: &[&str]) -> Findings {
    let rank = |l: &str| layers.iter().position(|x| *x == l);
    let mut climbs = Vec::new();
    let mut graph: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in rust_files(src) {
        let text = std::fs::read_to_string(src.join(&file)).unwrap();
        let own = layer_of(&file);
        let edges = graph.entry(file.clone()).or_default();
        for imp in imports(&text) {
            let Some(first) = imp.segments.first() else { continue };
            if let (Some(own), Some(to)) = (own.as_deref().and_then(rank), rank(first)) {
                if to > own {
                    climbs.push(format!(
                        "{}:{}: crate::{} climbs from layer `{}` to `{}`",
                        file.display(),
                        imp.line,
                        imp.segments.join("::"),
                        layers[own],
                        layers[to]
                    ));
                }
            } else if own.is_some() && rank(first).is_none() && first != "self" && first != "super" {
                // A crate-root module that is not a layer: every file in a layer may reach it only
                // if it sits below them all, which a root module cannot promise.
                if src.join(format!("{first}.rs")).is_file() || src.join(first).join("mod.rs").is_file() {
                    climbs.push(format!("{}:{}: crate::{} names a crate-root module outside the layers", file.display(), imp.line, imp.segments.join("::")));
                }
            }
            if let Some(target) = module_file(src, &imp.segments) {
                if target != file {
                    edges.insert(target);
                }
            }
        }
    }
    // Strongly connected components (Tarjan); a component whose files span folders is a circle.
    let nodes: Vec<PathBuf> = graph.keys().cloned().collect();
    let index_of: BTreeMap<&PathBuf, usize> = nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
    let adj: Vec<Vec<usize>> = nodes.iter().map(|n| graph[n].iter().filter_map(|t| index_of.get(t).copied()).collect()).collect();
    let components = tarjan(&adj);
    let folder = |p: &Path| p.parent().map(Path::to_path_buf).unwrap_or_default();
    let circles = components
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().map(|i| nodes[i].clone()).collect::<Vec<_>>())
        .filter(|c| c.iter().map(|p| folder(p)).collect::<BTreeSet<_>>().len() > 1)
        .map(|mut c| {
            c.sort();
            c
        })
        .collect();
    Findings { climbs, circles }
}

fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adj[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(comp);
        }
    }
    let n = adj.len();
    let mut s = State { adj, index: vec![None; n], low: vec![0; n], on_stack: vec![false; n], stack: Vec::new(), next: 0, out: Vec::new() };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

fn report(f: &Findings) -> String {
    let mut msg = String::new();
    for c in &f.climbs {
        msg.push_str(&format!("climb: {c}\n"));
    }
    for c in &f.circles {
        msg.push_str(&format!("import circle across folders: {}\n", c.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")));
    }
    msg
}

#[test]
fn no_import_climbs_a_layer_and_no_circle_crosses_folders() {
    let src = std::env::var_os("KEAPACK_LAYERS_SRC").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let f = check(&src, keapack::LAYERS);
    assert!(
        f.climbs.is_empty() && f.circles.is_empty(),
        "{} climbs and {} circles in {} (layers, lowest first: {}):\n{}",
        f.climbs.len(),
        f.circles.len(),
        src.display(),
        keapack::LAYERS.join(" "),
        report(&f)
    );
}

#[test]
fn every_folder_of_src_is_a_layer_and_every_layer_a_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut folders: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    folders.sort();
    let mut layers: Vec<String> = keapack::LAYERS.iter().map(|s| s.to_string()).collect();
    layers.sort();
    assert_eq!(folders, layers, "src/'s folders and keapack::LAYERS disagree");
    let loose: Vec<String> = rust_files(&src).into_iter().filter(|p| p.components().count() == 1).map(|p| p.display().to_string()).collect();
    assert_eq!(loose, ["lib.rs", "main.rs"], "only lib.rs and main.rs sit beside the layers");
}

/// The checker finds what it is for: a climb, a grouped climb, a crate-root module, and a circle
/// across two folders, in a tree made here; and nothing in a tree that has none.
#[test]
fn the_check_reports_climbs_and_circles_it_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path();
    let write = |p: &str, text: &str| {
        let path = src.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let layers = ["low", "high"];
    write("lib.rs", "pub mod low;\npub mod high;\n");
    write("low/mod.rs", "pub mod a;\n");
    write("low/a.rs", "// crate::high::b in a comment is not an import\npub fn f() {}\n");
    write("high/mod.rs", "pub mod b;\n");
    write("high/b.rs", "use crate::low::a;\npub fn g() { a::f() }\n");
    let clean = check(src, &layers);
    assert!(clean.climbs.is_empty() && clean.circles.is_empty(), "{}", report(&clean));

    write("low/a.rs", "use crate::{high::b, low};\npub fn f() { crate::high::b::g() }\n");
    write("low/c.rs", "use crate::util::x;\n");
    write("util.rs", "pub fn x() {}\n");
    let bad = check(src, &layers);
    let text = report(&bad);
    assert_eq!(bad.climbs.len(), 3, "{text}");
    assert!(text.contains("low/a.rs:1: crate::high::b climbs from layer `low` to `high`"), "{text}");
    assert!(text.contains("low/a.rs:2: crate::high::b::g climbs"), "{text}");
    assert!(text.contains("low/c.rs:1: crate::util::x names a crate-root module"), "{text}");
    assert_eq!(bad.circles, vec![vec![PathBuf::from("high/b.rs"), PathBuf::from("low/a.rs")]], "{text}");
}

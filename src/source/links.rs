//! The links of an unpacked input, each resolved beneath its destination as the kernel will
//! (`support::beneath::resolve`), before any of it is moved or read through a link.

use crate::support::beneath::{LOOKUPS, resolve_counted};
use crate::support::text;
use anyhow::{Result, bail};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Every symlink under `root` (not following any), by path relative to it, with its text.
pub(crate) fn symlinks(root: &Path) -> io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(root.join(&rel))?.collect::<io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let kind = e.file_type()?;
            let path = rel.join(e.file_name());
            if kind.is_symlink() {
                found.push((path.clone(), fs::read_link(e.path())?));
            } else if kind.is_dir() {
                todo.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Refuse the first symlink under `root` whose resolution leaves `root` (or loops, or breaks).
/// `input` names the archive or directory it came from; `shown` is `root`'s path inside the
/// input (entries are named by it); `scope` names `root` in the error ("the destination",
/// "premium/").
pub(crate) fn check_links(root: &Path, input: &Path, shown: &Path, scope: &str) -> Result<()> {
    let links = symlinks(root).map_err(|e| anyhow::anyhow!("cannot list the links of {}: {e}", text::path(root)))?;
    let mut budget = LOOKUPS;
    for (rel, target) in links {
        let from = rel.parent().unwrap_or(Path::new(""));
        if let Err(escape) = resolve_counted(root, from, &target, &mut budget) {
            bail!(
                "refusing {}: entry '{}' links to '{}', {}. keapack resolves every link of an input beneath {scope} before anything is moved or built, and refuses one that leaves it, loops or breaks; remove the link from the input or make it point inside {scope}",
                text::path(input),
                text::path(&shown.join(&rel)),
                text::path(&target),
                escape.why(scope),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::beneath::tests::tree;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_link_whose_text_stays_inside_lexically_is_judged_by_where_it_goes() {
        let (_tmp, root) = tree();
        symlink("../../..", root.join("d1/d2/d3/s")).unwrap();
        let text = Path::new("d1/d2/d3/s/../../victim");
        assert_eq!(crate::source::extract::safe_relative(text), Some(PathBuf::from("d1/d2/victim")), "the text stays inside lexically");
        symlink(text, root.join("wrapper")).unwrap();
        assert!(check_links(&root, Path::new("x"), Path::new(""), "the destination").is_err());
    }

    #[test]
    fn check_links_names_the_input_entry_rule_and_fix() {
        let (_tmp, root) = tree();
        symlink("../../..", root.join("d1/d2/d3/s")).unwrap();
        symlink("d1/d2/d3/s/../../victim", root.join("wrapper")).unwrap();
        let err = check_links(&root, Path::new("kea-premium-2.2.0.tar.gz"), Path::new(""), "the destination").unwrap_err().to_string();
        assert!(err.starts_with("refusing kea-premium-2.2.0.tar.gz: entry 'wrapper' links to 'd1/d2/d3/s/../../victim', which leaves the destination once the link 'd1/d2/d3/s'"), "{err}");
        assert!(err.contains("remove the link from the input"), "{err}");
        fs::remove_file(root.join("wrapper")).unwrap();
        check_links(&root, Path::new("x"), Path::new(""), "the destination").unwrap();
    }
}

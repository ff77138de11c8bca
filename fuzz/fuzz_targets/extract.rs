//! Any bytes as an input archive: extraction fails or succeeds, never panics, never escapes —
//! at any depth above the destination, through an absolute path, or through a link left behind.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The path with `.` dropped and `..` applied lexically (`None`: it climbs above the root).
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// The entry names (and link targets) of the archive, when it is a tar this test can read:
/// plain, gzip, xz or zstd, as keapack's extractor reads them.
fn entry_names(data: &[u8]) -> Vec<PathBuf> {
    let reader: Box<dyn Read> = match data {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::GzDecoder::new(data)),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Box::new(liblzma::read::XzDecoder::new(data)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => match zstd::stream::read::Decoder::new(data) {
            Ok(d) => Box::new(d),
            Err(_) => return Vec::new(),
        },
        _ => Box::new(data),
    };
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(reader.take(1 << 22));
    let Ok(entries) = archive.entries() else { return names };
    for e in entries.take(1000) {
        let Ok(e) = e else { break };
        if let Ok(p) = e.path() {
            names.push(p.into_owned());
        }
        if let Ok(Some(l)) = e.link_name() {
            names.push(l.into_owned());
        }
    }
    names
}

fuzz_target!(|data: &[u8]| {
    let sandbox = tempfile::tempdir().unwrap();
    // The destination three levels down: a `..` escape of any depth lands in a level checked below.
    let deep = sandbox.path().join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    let arc = deep.join("input.tar.gz");
    std::fs::write(&arc, data).unwrap();
    let dest = deep.join("dest");

    // Paths the archive names outside the sandbox (absolute, or `..` beyond it), and whether
    // each existed before: none may appear.
    let outside: Vec<(PathBuf, bool)> = entry_names(data)
        .into_iter()
        .filter_map(|n| {
            let at = if n.is_absolute() { normalise(&n) } else { normalise(&dest.join(&n)) };
            let at = at.unwrap_or_else(|| PathBuf::from("/"));
            (!at.starts_with(sandbox.path()) && at != Path::new("/")).then(|| {
                let existed = std::fs::symlink_metadata(&at).is_ok();
                (at, existed)
            })
        })
        .collect();

    let limits = keapack::source::extract::Limits { max_bytes: 1 << 20, max_entries: 1000 };
    let _ = keapack::source::extract::unpack_input(&arc, &dest, limits);

    // Above the destination, at every depth: only the path down to it and the archive.
    let allowed = [sandbox.path().join("a"), sandbox.path().join("a/b"), deep.clone(), arc.clone()];
    let mut stack = vec![sandbox.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.starts_with(&dest) {
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.file_type().is_symlink() {
                    // A link left in the destination must not lead out of it, followed by the
                    // kernel (canonicalize); a dangling one by where its last component would be.
                    let target = std::fs::read_link(&p).unwrap();
                    assert!(!target.is_absolute(), "{} links to the absolute path {}", p.display(), target.display());
                    let real_dest = std::fs::canonicalize(&dest).unwrap();
                    let joined = p.parent().unwrap().join(&target);
                    let resolved = std::fs::canonicalize(&joined).ok().or_else(|| {
                        let name = joined.file_name()?;
                        Some(std::fs::canonicalize(joined.parent()?).ok()?.join(name))
                    });
                    assert!(resolved.as_ref().is_some_and(|r| r.starts_with(&real_dest)), "{} links out of the destination ({})", p.display(), target.display());
                } else if meta.is_dir() {
                    stack.push(p);
                }
                continue;
            }
            assert!(allowed.contains(&p), "wrote {} outside the destination", p.display());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    for (p, existed) in outside {
        assert!(existed || std::fs::symlink_metadata(&p).is_err(), "wrote {} (outside the sandbox)", p.display());
    }
});

//! A repository left as `keapack publish` killed at one of its renames would leave it is
//! repaired by the next publish of the same packages: an older `InRelease` beside the new
//! `Release`, a `Release.gpg` of an older `Release`, an older `repomd.xml.asc`, an index gone.
//! The packages are made at run time (dpkg-deb of a crafted directory, the `rpm` crate's
//! builder) and the key in a temporary GnuPG home.

mod common;
use common::made::{made_deb, made_rpm};
use common::repo::{assert_repo_consistent, repo_problems};
use common::*;
use common::gpgkey::Key;
use std::fs;
use std::path::Path;

/// After a publish of revision 1, then of revision 2, `damage` (given the dist or repodata
/// directory and a copy of it as revision 1's publish left it) leaves a repository the check
/// finds inconsistent, with `expected` among the problems; the same publish of revision 2
/// again exits 0, says it repaired `what` for `reason`, and leaves it consistent; one more
/// publish changes nothing.
fn damaged_then_repaired(rpm_side: bool, damage: impl Fn(&Path, &Path), expected: &str, what: &str, reason: &str) {
    let key = Key::new();
    let tmp = tempfile::tempdir().unwrap();
    let (p1, p2) = if rpm_side {
        require("createrepo_c", "createrepo-c");
        (made_rpm(tmp.path(), 1), made_rpm(tmp.path(), 2))
    } else {
        (made_deb(tmp.path(), 1), made_deb(tmp.path(), 2))
    };
    let repo = tmp.path().join("repo");
    let signed = repo.join(if rpm_side { "rpm/el9/x86_64/repodata" } else { "apt/dists/bookworm" });
    key.published(&repo, &[&p1]);
    assert_repo_consistent(&repo, "keapack");
    let earlier = tmp.path().join("earlier");
    copy_tree(&signed, &earlier);
    key.published(&repo, &[&p2]);
    assert_repo_consistent(&repo, "keapack");

    damage(&signed, &earlier);
    let problems = repo_problems(&repo, "keapack");
    assert!(problems.iter().any(|p| p.contains(expected)), "the check does not see the damage ({expected}): {problems:?}");

    let said = key.published(&repo, &[&p2]);
    assert!(said.contains(&format!("repaired {what}")) && said.contains(reason), "{said}");
    assert!(!said.contains("nothing changed"), "{said}");
    assert_repo_consistent(&repo, "keapack");
    let repaired = tree_files(&repo);
    let said = key.published(&repo, &[&p2]);
    assert!(said.contains("nothing changed") && !said.contains("repaired"), "{said}");
    assert!(tree_files(&repo) == repaired, "a publish after the repair changed the repository");
}

#[test]
fn an_older_inrelease_beside_the_new_release_is_re_signed() {
    damaged_then_repaired(
        false,
        |dist, earlier| fs::copy(earlier.join("InRelease"), dist.join("InRelease")).map(drop).unwrap(),
        "apt/dists/bookworm/InRelease signs another text than Release",
        "apt/dists/bookworm",
        "InRelease was missing or did not sign this Release",
    );
}

#[test]
fn a_release_gpg_of_an_older_release_is_re_signed() {
    damaged_then_repaired(
        false,
        |dist, earlier| fs::copy(earlier.join("Release.gpg"), dist.join("Release.gpg")).map(drop).unwrap(),
        "apt/dists/bookworm/Release.gpg does not verify Release",
        "apt/dists/bookworm",
        "Release.gpg was missing or did not verify Release",
    );
}

#[test]
fn a_missing_index_and_by_hash_copy_are_written_again() {
    damaged_then_repaired(
        false,
        |dist, _| {
            fs::remove_file(dist.join("main/binary-amd64/Packages.xz")).unwrap();
            for e in fs::read_dir(dist.join("main/binary-amd64/by-hash/SHA256")).unwrap() {
                fs::remove_file(e.unwrap().path()).unwrap();
            }
        },
        "apt/dists/bookworm/main/binary-amd64/Packages.xz (listed in Release) is missing",
        "apt/dists/bookworm",
        "main/binary-amd64/Packages.xz was missing or did not match Release",
    );
}

#[test]
fn an_older_repomd_signature_is_re_signed() {
    damaged_then_repaired(
        true,
        |repodata, earlier| fs::copy(earlier.join("repomd.xml.asc"), repodata.join("repomd.xml.asc")).map(drop).unwrap(),
        "rpm/el9/x86_64/repodata/repomd.xml.asc does not verify repomd.xml",
        "rpm/el9/x86_64",
        "repomd.xml.asc was missing or did not verify repomd.xml",
    );
}

#[test]
fn a_damaged_repomd_data_file_is_written_again() {
    damaged_then_repaired(
        true,
        |repodata, _| {
            // The primary metadata the served repomd.xml names (the previous one stays beside it).
            let repomd = fs::read_to_string(repodata.join("repomd.xml")).unwrap();
            let href = repomd.split("href=\"repodata/").skip(1).map(|h| h.split('"').next().unwrap()).find(|h| h.ends_with("-primary.xml.gz")).unwrap();
            fs::write(repodata.join(href), "not the primary metadata").unwrap();
        },
        "does not have the SHA-256 and size repomd.xml lists",
        "rpm/el9/x86_64",
        "-primary.xml.gz was missing or did not match repomd.xml",
    );
}

//! Package relations as text and back: Debian (`libc6 (>= 2.36)`) and rpm (`glibc >= 2.34`)
//! syntax parsed into the spec's `Relation`, Debian version comparison, and the deterministic
//! merge that turns many relations on the same package into the strongest few.
//!
//! The merge follows dpkg-shlibdeps: one package needed at `>= 2.4` and `>= 2.36` becomes
//! `>= 2.36`; an unversioned relation is dropped when a versioned one on the same package exists.

use crate::plan::spec::{Format, Op, Relation};
use anyhow::{Result, bail};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A Debian relation field (`a (>= 1), b | c`): the AND-list of OR-groups.
pub(crate) fn parse_deb_field(text: &str) -> Result<Vec<Vec<Relation>>> {
    text.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|clause| clause.split('|').map(|alt| parse_deb_one(alt.trim())).collect())
        .collect()
}

/// One Debian relation without alternatives, as a user writes it in the manifest.
pub(crate) fn parse_deb(text: &str) -> Result<Relation> {
    let mut groups = parse_deb_field(text)?;
    match (groups.len(), groups.first().map(Vec::len)) {
        (1, Some(1)) => Ok(groups.remove(0).remove(0)),
        _ => bail!("'{text}' must be one Debian relation such as 'libssl3 (>= 3.0.0)' (no commas, no | alternatives)"),
    }
}

/// `name` or `name (op version)`.
fn parse_deb_one(text: &str) -> Result<Relation> {
    let (name, rest) = match text.find('(') {
        Some(i) => (text[..i].trim(), Some(text[i + 1..].trim())),
        None => (text.trim(), None),
    };
    if !valid_deb_name(name) {
        bail!("'{text}' is not a Debian relation: '{name}' is not a package name");
    }
    let constraint = match rest {
        None => None,
        Some(r) => {
            let Some(inner) = r.strip_suffix(')') else { bail!("'{text}': unclosed '('") };
            let inner = inner.trim();
            let split = inner.find(|c: char| !"<>=".contains(c)).unwrap_or(inner.len());
            let op = match &inner[..split] {
                ">=" | ">" => Op::Ge,
                "<=" | "<" => Op::Le,
                "=" => Op::Eq,
                "<<" => Op::Lt,
                ">>" => Op::Gt,
                other => bail!("'{text}': unknown operator '{other}' (use >=, <=, =, << or >>)"),
            };
            let version = inner[split..].trim();
            if version.is_empty() || version.contains(char::is_whitespace) {
                bail!("'{text}': the version after '{}' is missing or has spaces", op.deb());
            }
            Some((op, version.to_string()))
        }
    };
    Ok(Relation { name: name.to_string(), constraint })
}

fn valid_deb_name(name: &str) -> bool {
    // A name may carry an architecture qualifier (`libfoo1:any`).
    let base = name.split_once(':').map_or(name, |(b, _)| b);
    base.len() >= 2
        && base.starts_with(|c: char| c.is_ascii_alphanumeric())
        && base.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// One rpm requirement: `name`, or `name op version` (`>=`, `<=`, `=`, `<`, `>`). The name may be
/// a capability such as `libc.so.6()(64bit)`; rich (boolean) dependencies are not supported.
pub(crate) fn parse_rpm(text: &str) -> Result<Relation> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.first().is_none_or(|w| w.starts_with('(')) {
        bail!("'{text}' is not an rpm requirement such as 'openssl-libs >= 3.0' (rich dependencies are not supported)");
    }
    let constraint = match words[1..] {
        [] => None,
        [op, version] => Some((
            match op {
                ">=" => Op::Ge,
                "<=" => Op::Le,
                "=" | "==" => Op::Eq,
                "<" => Op::Lt,
                ">" => Op::Gt,
                other => bail!("'{text}': unknown operator '{other}' (use >=, <=, =, < or >)"),
            },
            version.to_string(),
        )),
        _ => bail!("'{text}' is not an rpm requirement: write 'name' or 'name >= version'"),
    };
    Ok(Relation { name: words[0].to_string(), constraint })
}

/// A relation as Debian writes it, for messages and tests.
pub(crate) fn deb_string(r: &Relation) -> String {
    match &r.constraint {
        None => r.name.clone(),
        Some((op, v)) => format!("{} ({} {v})", r.name, op.deb()),
    }
}

/// A relation as rpm writes it (`name >= version`).
pub(crate) fn rpm_string(r: &Relation) -> String {
    match &r.constraint {
        None => r.name.clone(),
        Some((op, v)) => format!("{} {} {v}", r.name, op.rpm()),
    }
}

/// Compare two Debian versions (`[epoch:]upstream[-revision]`) as dpkg does.
pub(crate) fn compare_deb_versions(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split_deb_version(a);
    let (eb, ub, rb) = split_deb_version(b);
    ea.cmp(&eb).then_with(|| verrevcmp(ua, ub)).then_with(|| verrevcmp(ra, rb))
}

/// Split `[epoch:]rest` into (epoch, rest): the one epoch reader, for dpkg's and rpm's versions.
pub(crate) fn split_epoch(v: &str) -> (u64, &str) {
    match v.split_once(':') {
        Some((e, rest)) if e.chars().all(|c| c.is_ascii_digit()) => (e.parse().unwrap_or(0), rest),
        _ => (0, v),
    }
}

fn split_deb_version(v: &str) -> (u64, &str, &str) {
    let (epoch, rest) = split_epoch(v);
    match rest.rsplit_once('-') {
        Some((u, r)) => (epoch, u, r),
        None => (epoch, rest, ""),
    }
}

/// dpkg's `verrevcmp`: alternate non-digit runs (compared by `order`) and digit runs
/// (compared numerically); `~` sorts before everything, even the end of the string.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    fn order(c: Option<u8>) -> i32 {
        match c {
            None => 0,
            Some(b'~') => -1,
            Some(c) if c.is_ascii_digit() => 0,
            Some(c) if c.is_ascii_alphabetic() => i32::from(c),
            Some(c) => i32::from(c) + 256,
        }
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ca, cb) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ca != cb {
                return ca.cmp(&cb);
            }
            i += 1;
            j += 1;
        }
        let digits = |s: &[u8], mut k: usize| {
            while k < s.len() && s[k] == b'0' {
                k += 1;
            }
            let start = k;
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            (start, k)
        };
        let ((sa, ea), (sb, eb)) = (digits(a, i), digits(b, j));
        // Numeric comparison without overflow: longer digit run (leading zeros skipped) wins.
        let ord = (ea - sa).cmp(&(eb - sb)).then_with(|| a[sa..ea].cmp(&b[sb..eb]));
        if ord != Ordering::Equal {
            return ord;
        }
        i = ea;
        j = eb;
    }
    Ordering::Equal
}

/// Order of operators within one package: lower bounds, exact, upper bounds.
fn op_rank(op: Option<Op>) -> u8 {
    match op {
        None => 0,
        Some(Op::Ge) => 1,
        Some(Op::Gt) => 2,
        Some(Op::Eq) => 3,
        Some(Op::Le) => 4,
        Some(Op::Lt) => 5,
    }
}

/// Merge relations into a deterministic list sorted by package name, then operator.
///
/// Exact duplicates go. For `.deb` (dpkg's version order), of several `>=` (or `>>`) on one
/// package only the highest stays, of several `<<` (or `<=`) only the lowest, and an
/// unversioned relation goes when a versioned one on the same package exists. rpm relations
/// are only deduplicated: their names are mostly capabilities, which carry no version.
pub(crate) fn merge(format: Format, relations: impl IntoIterator<Item = Relation>) -> Vec<Relation> {
    let mut by_name: BTreeMap<String, Vec<Relation>> = BTreeMap::new();
    for r in relations {
        let list = by_name.entry(r.name.clone()).or_default();
        if !list.contains(&r) {
            list.push(r);
        }
    }
    let mut out = Vec::new();
    for (_, mut list) in by_name {
        if format == Format::Deb {
            list = fold_deb(list);
        }
        list.sort_by(|a, b| {
            let (oa, ob) = (a.constraint.as_ref().map(|c| c.0), b.constraint.as_ref().map(|c| c.0));
            op_rank(oa).cmp(&op_rank(ob)).then_with(|| match (&a.constraint, &b.constraint) {
                (Some((_, va)), Some((_, vb))) => compare_deb_versions(va, vb),
                _ => Ordering::Equal,
            })
        });
        out.extend(list);
    }
    out
}

/// The strongest relations on one Debian package.
fn fold_deb(list: Vec<Relation>) -> Vec<Relation> {
    let versioned = list.iter().any(|r| r.constraint.is_some());
    let mut kept: Vec<Relation> = Vec::new();
    for r in list {
        let Some((op, v)) = &r.constraint else {
            if !versioned {
                kept.push(r);
            }
            continue;
        };
        let stronger = |old: &str| match op {
            Op::Ge | Op::Gt => compare_deb_versions(v, old) == Ordering::Greater,
            Op::Le | Op::Lt => compare_deb_versions(v, old) == Ordering::Less,
            Op::Eq => false,
        };
        match kept.iter_mut().find(|k| matches!(&k.constraint, Some((kop, _)) if kop == op) && *op != Op::Eq) {
            Some(k) => {
                if stronger(&k.constraint.as_ref().unwrap().1) {
                    *k = r;
                }
            }
            None => kept.push(r),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(name: &str, c: Option<(Op, &str)>) -> Relation {
        Relation { name: name.into(), constraint: c.map(|(o, v)| (o, v.into())) }
    }

    #[test]
    fn parses_debian_relations_as_shlibs_files_write_them() {
        assert_eq!(parse_deb("libc6 (>= 2.36)").unwrap(), rel("libc6", Some((Op::Ge, "2.36"))));
        assert_eq!(parse_deb("libstdc++6").unwrap(), rel("libstdc++6", None));
        assert_eq!(parse_deb("libfoo1 (>>1.2-3~)").unwrap(), rel("libfoo1", Some((Op::Gt, "1.2-3~"))));
        assert_eq!(parse_deb("kea-common (<< 2.6.6~)").unwrap(), rel("kea-common", Some((Op::Lt, "2.6.6~"))));
        let field = parse_deb_field("libglu1-mesa | libglu1, libc6 (>= 2.14)").unwrap();
        assert_eq!(field, vec![vec![rel("libglu1-mesa", None), rel("libglu1", None)], vec![rel("libc6", Some((Op::Ge, "2.14")))]]);
        for bad in ["Libc6", "libc6 (>= )", "libc6 (~ 1)", "libc6 (>= 1", "a | b", "a, b", ""] {
            assert!(parse_deb(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn parses_rpm_requirements_and_capabilities() {
        assert_eq!(parse_rpm("openssl-libs >= 3.0").unwrap(), rel("openssl-libs", Some((Op::Ge, "3.0"))));
        assert_eq!(parse_rpm("libc.so.6(GLIBC_2.34)(64bit)").unwrap(), rel("libc.so.6(GLIBC_2.34)(64bit)", None));
        assert_eq!(parse_rpm("kea-libs = 2.6.5").unwrap(), rel("kea-libs", Some((Op::Eq, "2.6.5"))));
        for bad in ["", "(a or b)", "a >=", "a ~ 1", "a >= 1 2"] {
            assert!(parse_rpm(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn debian_versions_compare_like_dpkg() {
        use Ordering::*;
        for (a, b, want) in [
            ("2.36", "2.4", Greater),
            ("2.6.6~", "2.6.6", Less),
            ("2.6.5-1", "2.6.6~", Less),
            ("2.6.6~rc1", "2.6.6~", Greater),
            ("1:1.0", "9.9", Greater),
            ("1.0-1", "1.0-1", Equal),
            ("1.0a", "1.0", Greater),
            ("1.0+dfsg", "1.0.1", Less),
            ("007", "7", Equal),
            ("3.0", "3.0-0", Equal),
            ("99999999999999999999", "99999999999999999998", Greater),
        ] {
            assert_eq!(compare_deb_versions(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn merge_keeps_the_strongest_and_is_deterministic() {
        let input = vec![
            rel("libstdc++6", None),
            rel("libc6", Some((Op::Ge, "2.4"))),
            rel("kea-common", Some((Op::Lt, "2.6.6~"))),
            rel("libc6", None),
            rel("libc6", Some((Op::Ge, "2.36"))),
            rel("kea-common", Some((Op::Ge, "2.6.5"))),
            rel("libstdc++6", Some((Op::Ge, "5"))),
            rel("libc6", Some((Op::Ge, "2.14"))),
            rel("kea-common", Some((Op::Lt, "2.7~"))),
        ];
        let want = ["kea-common (>= 2.6.5)", "kea-common (<< 2.6.6~)", "libc6 (>= 2.36)", "libstdc++6 (>= 5)"];
        let got: Vec<String> = merge(Format::Deb, input.clone()).iter().map(deb_string).collect();
        assert_eq!(got, want);
        let mut reversed = input;
        reversed.reverse();
        assert_eq!(merge(Format::Deb, reversed.clone()).iter().map(deb_string).collect::<Vec<_>>(), want);
        // rpm: duplicates go, nothing else.
        let rpm = merge(Format::Rpm, [rel("b", None), rel("a", Some((Op::Ge, "1"))), rel("b", None), rel("a", Some((Op::Ge, "2")))]);
        assert_eq!(rpm, vec![rel("a", Some((Op::Ge, "1"))), rel("a", Some((Op::Ge, "2"))), rel("b", None)]);
    }
}

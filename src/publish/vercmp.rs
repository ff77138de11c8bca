//! Version order as dpkg and rpm see it, so `--keep N` keeps a package's N newest versions.

use std::cmp::Ordering;

use crate::plan::relation::split_epoch as epoch;

/// dpkg's order of `[epoch:]upstream[-revision]` (the one implementation, in
/// [`crate::plan::relation::compare_deb_versions`]).
pub(crate) fn deb(a: &str, b: &str) -> Ordering {
    crate::plan::relation::compare_deb_versions(a, b)
}

/// rpm's order of `[epoch:]version-release`.
pub(crate) fn rpm(a: &str, b: &str) -> Ordering {
    let ((ea, a), (eb, b)) = (epoch(a), epoch(b));
    let split = |v: &str| -> (String, String) {
        match v.rsplit_once('-') {
            Some((u, r)) => (u.to_string(), r.to_string()),
            None => (v.to_string(), String::new()),
        }
    };
    let ((va, ra), (vb, rb)) = (split(a), split(b));
    ea.cmp(&eb).then_with(|| rpmvercmp(&va, &vb)).then_with(|| rpmvercmp(&ra, &rb))
}

/// rpm's `rpmvercmp`: alphanumeric segments, numbers newer than letters, `~` older, `^` newer.
fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        while i < a.len() && !a[i].is_ascii_alphanumeric() && a[i] != b'~' && a[i] != b'^' {
            i += 1;
        }
        while j < b.len() && !b[j].is_ascii_alphanumeric() && b[j] != b'~' && b[j] != b'^' {
            j += 1;
        }
        for mark in [b'~', b'^'] {
            let (ma, mb) = (a.get(i) == Some(&mark), b.get(j) == Some(&mark));
            if ma || mb {
                if !(ma && mb) {
                    let tilde = mark == b'~';
                    return match (ma, mb) {
                        (true, false) if tilde => Ordering::Less,
                        (false, true) if tilde => Ordering::Greater,
                        (true, false) => if j >= b.len() { Ordering::Greater } else { Ordering::Less },
                        _ => if i >= a.len() { Ordering::Less } else { Ordering::Greater },
                    };
                }
                i += 1;
                j += 1;
            }
        }
        if i >= a.len() || j >= b.len() {
            break;
        }
        let numeric = a[i].is_ascii_digit();
        let take = |s: &[u8], mut k: usize| {
            let start = k;
            while k < s.len() && if numeric { s[k].is_ascii_digit() } else { s[k].is_ascii_alphabetic() } {
                k += 1;
            }
            (start, k)
        };
        let ((sa, ea), (sb, eb)) = (take(a, i), take(b, j));
        if sb == eb {
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let (mut x, mut y) = (&a[sa..ea], &b[sb..eb]);
        if numeric {
            while x.first() == Some(&b'0') {
                x = &x[1..];
            }
            while y.first() == Some(&b'0') {
                y = &y[1..];
            }
            if x.len() != y.len() {
                return x.len().cmp(&y.len());
            }
        }
        match x.cmp(y) {
            Ordering::Equal => {}
            o => return o,
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering::*;

    #[test]
    fn dpkg_order() {
        for (a, b, o) in [
            ("2.2.0-1+deb12", "2.2.0-2+deb12", Less),
            ("2.2.0-10+deb12", "2.2.0-9+deb12", Greater),
            ("1.0~rc1-1", "1.0-1", Less),
            ("1:1.0-1", "2.0-1", Greater),
            ("1.0-1", "1.0-1", Equal),
            ("1.0a-1", "1.0-1", Greater),
        ] {
            assert_eq!(super::deb(a, b), o, "{a} vs {b}");
        }
    }

    #[test]
    fn rpm_order() {
        for (a, b, o) in [
            ("2.2.0-1.el9", "2.2.0-2.el9", Less),
            ("2.2.0-10.el9", "2.2.0-9.el9", Greater),
            ("1.0~rc1-1", "1.0-1", Less),
            ("1.0^git1-1", "1.0-1", Greater),
            ("1:1.0-1", "2.0-1", Greater),
            ("1.0a-1", "1.0.1-1", Less),
        ] {
            assert_eq!(super::rpm(a, b), o, "{a} vs {b}");
        }
    }
}

//! Shell quoting: the one function every value placed into a generated shell script goes through.
//!
//! [`quote`] wraps a value in single quotes, writing each embedded `'` as `'\''`: between single
//! quotes the shell gives no character a meaning, so whatever the value holds (newlines, `$`,
//! backticks, `;`, a here-document terminator) it stays one word, exactly as written.
//! [`printf_lines`] makes the `printf '%s\n' …` argument list a script prints a text with, each
//! line one quoted word, with named placeholders becoming `"$variable"` expansions.

/// `value` as one single-quoted shell word.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The arguments of a `printf '%s\n'` that prints `text` line by line (trailing blank lines
/// dropped), each line one word on its own script line, joined by ` \` continuations indented
/// by `indent`. Each `(marker, variable)` of `expansions` in the text becomes `"$variable"`;
/// everything else is quoted by [`quote`].
pub(crate) fn printf_lines(text: &str, expansions: &[(&str, &str)], indent: &str) -> String {
    let lines: Vec<String> = text.trim_end().split('\n').map(|line| word(line, expansions)).collect();
    lines.join(&format!(" \\\n{indent}"))
}

/// One line as one shell word: quoted pieces and `"${variable}"` expansions side by side.
fn word(line: &str, expansions: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = line;
    loop {
        let next = expansions.iter().filter_map(|(m, v)| rest.find(m).map(|at| (at, *m, *v))).min_by_key(|(at, _, _)| *at);
        match next {
            Some((at, marker, variable)) => {
                if at > 0 {
                    out.push_str(&quote(&rest[..at]));
                }
                out.push_str(&format!("\"${{{variable}}}\""));
                rest = &rest[at + marker.len()..];
            }
            None => {
                if !rest.is_empty() || out.is_empty() {
                    out.push_str(&quote(rest));
                }
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn echo_through(shell: &str, script: &str, args: &[&str]) -> String {
        let out = Command::new(shell).arg("-c").arg(script).arg("sh").args(args).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn any_value_comes_back_exactly() {
        for v in ["", "plain", "it's", "'", "''", "a\nEOF\nid", "$(id) `id` ${x} \\ \" ; | & < >", "ünïcode ✓", "\t tab", "-n", "%s %d"] {
            for shell in ["dash", "bash"] {
                assert_eq!(echo_through(shell, &format!("printf '%s' {}", quote(v)), &[]), v, "{shell} {v:?}");
            }
        }
        assert_eq!(quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn lines_print_exactly_with_their_expansions() {
        let text = "first $HOME line\n\nKEAPACK_GUIDANCE\nold @OLD@ and 'q' @OLD@\n@OLD@\n\n";
        let args = printf_lines(text, &[("@OLD@", "old")], "    ");
        let script = format!("old=$1\nprintf '%s\\n' \\\n    {args}\n");
        for shell in ["dash", "bash"] {
            assert_eq!(echo_through(shell, &script, &["1.0-1 $(id)"]), "first $HOME line\n\nKEAPACK_GUIDANCE\nold 1.0-1 $(id) and 'q' 1.0-1 $(id)\n1.0-1 $(id)\n", "{shell}");
        }
    }
}

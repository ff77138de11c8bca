//! Text from the inputs, made safe to show on a terminal.
//!
//! keapack quotes what it did not write: archive entry names and link targets, file names, the
//! last lines of a tool's log. Any of them may hold a newline, a carriage return or an escape
//! sequence, and printed raw they could start a line that looks like keapack's own
//! (`keapack: …`), move the cursor or recolour the terminal. Everything quoted goes through
//! [`shown`] (or [`path`]), which writes control characters — C0, DEL and C1 — escaped
//! (`\n`, `\t`, `\r`, `\x1b`, `\u{9b}`) and leaves every other character as it is, so an
//! ordinary name reads exactly as before. [`shown_lines`] keeps the newlines of multi-line text
//! and escapes the rest.

use std::fmt::{self, Display, Write};
use std::path::Path;

/// Would this character act on a terminal rather than print?
pub(crate) fn is_control(c: char) -> bool {
    c.is_control() // Unicode Cc: U+0000–U+001F, U+007F, U+0080–U+009F
}

/// Write `c` escaped if it is a control character, as itself otherwise.
fn put(out: &mut impl Write, c: char) -> fmt::Result {
    match c {
        '\n' => out.write_str("\\n"),
        '\t' => out.write_str("\\t"),
        '\r' => out.write_str("\\r"),
        c if (c as u32) < 0x80 && is_control(c) => write!(out, "\\x{:02x}", c as u32),
        c if is_control(c) => write!(out, "\\u{{{:x}}}", c as u32),
        c => out.write_char(c),
    }
}

/// A writer that escapes control characters on their way to `inner`, except the newline
/// when `keep_newlines` is set.
struct Escaping<'a, W: Write> {
    inner: &'a mut W,
    keep_newlines: bool,
}

impl<W: Write> Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Copy runs of ordinary characters whole; escape the rest one by one.
        let mut rest = s;
        while let Some(at) = rest.find(|c: char| is_control(c) && !(self.keep_newlines && c == '\n')) {
            self.inner.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().expect("found a character here");
            put(&mut *self.inner, c)?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.inner.write_str(rest)
    }
}

/// Some text to quote, shown with its control characters escaped (see the module comment).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown<T> {
    text: T,
    keep_newlines: bool,
}

impl<T: Display> Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaping { inner: f, keep_newlines: self.keep_newlines }, "{}", self.text)
    }
}

/// `text` with every control character escaped: one line, whatever it holds.
pub(crate) fn shown<T: Display>(text: T) -> Shown<T> {
    Shown { text, keep_newlines: false }
}

/// A path from the inputs, as `Path::display` shows it, with control characters escaped.
pub(crate) fn path(p: &Path) -> Shown<std::path::Display<'_>> {
    shown(p.display())
}

/// A message for the terminal whose first line starts with `keapack:` (an error and its
/// causes): control characters escaped, its newlines kept, and each later line that starts at
/// the margin indented by two spaces, so no line of it can pass for one of keapack's own.
pub(crate) fn message(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() && !line.starts_with([' ', '\t']) {
                out.push_str("  ");
            }
        }
        write!(out, "{}", shown(line)).expect("writing to a String");
    }
    out
}

/// `shown(text)` as a `String`.
pub(crate) fn escape(text: &str) -> String {
    shown(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_unchanged() {
        for s in ["kea-2.6.5.tar.gz", "premium/src/hooks/dhcp/host_cmds/libdhcp_host_cmds.so", "caf\u{e9} \"q\" 'a' \\ \u{2603}", ""] {
            assert_eq!(escape(s), s);
        }
        assert_eq!(path(Path::new("/tmp/a b/c")).to_string(), "/tmp/a b/c");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("a\nb\tc\rd"), "a\\nb\\tc\\rd");
        assert_eq!(escape("\x1b[2Jkeapack: fake"), "\\x1b[2Jkeapack: fake");
        assert_eq!(escape("\0\x07\x7f"), "\\x00\\x07\\x7f");
        assert_eq!(escape("x\u{9b}31m\u{85}y"), "x\\u{9b}31m\\u{85}y");
        // Nothing escaped contains a control character any more.
        let all: String = (0u32..0x100).filter_map(char::from_u32).collect();
        assert!(!escape(&all).chars().any(is_control), "{}", escape(&all));
    }

    #[test]
    fn a_message_keeps_its_lines_but_none_can_pass_for_keapacks() {
        let text = "step 'make' failed (exit status: 2). Last lines of its log:\n  | cc: error\nFull log: /w/logs/03-make.log";
        assert_eq!(message(text), "step 'make' failed (exit status: 2). Last lines of its log:\n  | cc: error\n  Full log: /w/logs/03-make.log");
        let forged = message("refusing a.tar: entry 'x\nkeapack: error: \x1b[32mall good\n\ny'");
        assert!(!forged.lines().skip(1).any(|l| l.starts_with("keapack")), "{forged}");
        assert!(forged.contains("\\x1b[32m") && !forged.contains('\x1b'), "{forged}");
        assert_eq!(forged.lines().count(), 4, "{forged}");
        assert_eq!(message("one line"), "one line");
    }

    #[test]
    fn works_inside_format_strings_and_on_any_display() {
        let name = "evil\nkeapack: error: fake";
        let msg = format!("refusing a.tar: entry '{}' leaves the destination", shown(name));
        assert_eq!(msg.lines().count(), 1, "{msg}");
        assert!(msg.contains("'evil\\nkeapack: error: fake'"), "{msg}");
        assert_eq!(shown(42).to_string(), "42");
        assert_eq!(path(Path::new("a\u{1b}b")).to_string(), "a\\x1bb");
    }
}

/// `a` or `an` before an architecture or other technical word, by how it is read aloud:
/// `an x86_64`, `an aarch64`, `an s390x`, `a riscv64`, `a ppc64el`.
pub(crate) fn article(word: &str) -> &'static str {
    let w = word.to_ascii_lowercase();
    if w.starts_with(['a', 'e', 'i', 'o', 'u', 'x']) || w.starts_with("s390") { "an" } else { "a" }
}

#[cfg(test)]
mod article_tests {
    #[test]
    fn articles_follow_the_spoken_word() {
        for (w, a) in [("x86_64", "an"), ("aarch64", "an"), ("i386", "an"), ("s390x", "an"), ("riscv64", "a"), ("ppc64el", "a"), ("host", "a")] {
            assert_eq!(super::article(w), a, "{w}");
        }
    }
}

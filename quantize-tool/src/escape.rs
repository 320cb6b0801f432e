//! Escaping of what the tool echoes to a terminal: input texts, labels and tokens read from a
//! blob, generated text, file names.
//!
//! A label holding `"\x1b[2J"` would clear the screen, one holding `"\n"` would print a fake line,
//! and a bidi override (U+202E) would show the rest of the line reversed. Text output therefore
//! writes these characters as escapes: C0 controls and DEL as `\n`, `\r`, `\t` or `\x1b`, C1
//! controls and bidi controls (U+061C, U+200E, U+200F, U+202A..=U+202E, U+2066..=U+2069) as
//! `\u{202e}`. A backslash is left as it is (the human lines are for reading; JSON is exact).
//!
//! JSON output ([`json`]) is exact as well as safe: serde_json escapes C0 controls itself, and DEL,
//! C1 and bidi controls are written as `\uXXXX` escapes, which decode to the same string.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use serde::Serialize;

/// Whether `c` can move the cursor, rewrite the screen or reorder the displayed line: C0 controls,
/// DEL, C1 controls and the bidi controls.
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `s` for one line of text output: every unsafe character escaped (newlines and tabs too).
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// `s` for multi-line text output (generated text): as [`line`], but newlines and tabs are kept.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_lines: bool) -> Cow<'_, str> {
    let kept = |c: char| keep_lines && matches!(c, '\n' | '\t');
    if !s.chars().any(|c| is_unsafe(c) && !kept(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            c if kept(c) || !is_unsafe(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// `v` as one line of JSON, with DEL, C1 and bidi controls in strings written as `\uXXXX` (serde_json
/// already escapes the C0 controls): the same value to a JSON reader, harmless on a terminal.
pub fn json(v: &impl Serialize) -> serde_json::Result<String> {
    let mut buf = Vec::new();
    v.serialize(&mut serde_json::Serializer::with_formatter(&mut buf, SafeFormatter))?;
    // the formatter writes only whole UTF-8 fragments and ASCII escapes
    Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// serde_json's compact formatter, escaping the characters [`is_unsafe`] names that it leaves raw.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_escape_controls_and_bidi() {
        assert_eq!(line("plain text, ünïcödé 東京"), "plain text, ünïcödé 東京");
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert_eq!(line("\x1b[2Jevil\nfake"), "\\x1b[2Jevil\\nfake");
        assert_eq!(line("a\rb\tc\0d\x7f"), "a\\rb\\tc\\x00d\\x7f");
        assert_eq!(line("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m");
        assert_eq!(
            line("abc\u{202e}fed\u{2066}\u{2069}\u{200f}\u{61c}"),
            "abc\\u{202e}fed\\u{2066}\\u{2069}\\u{200f}\\u{61c}"
        );
        assert_eq!(line("back\\slash"), "back\\slash");
    }

    #[test]
    fn text_keeps_newlines_and_tabs() {
        assert_eq!(text("one\n\ttwo\r\n\x1b[0m"), "one\n\ttwo\\r\n\\x1b[0m");
    }

    #[test]
    fn json_is_the_same_value_and_has_no_raw_unsafe_chars() {
        let s = "\x1b[2Jevil\nfake \u{7f}\u{85}\u{202e}x\u{2069} 東京 \"q\" \\";
        let v = serde_json::json!({ "label": s, "n": 1.5 });
        let out = json(&v).unwrap();
        assert!(!out.chars().any(is_unsafe), "{out}");
        assert!(out.contains("\\u202e") && out.contains("\\u007f") && out.contains("東京"), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
        assert_eq!(json(&serde_json::json!({"a": [1, "b"]})).unwrap(), r#"{"a":[1,"b"]}"#);
    }
}

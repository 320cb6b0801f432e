//! Python `str` semantics that VADER's rules rely on, without allocation: `split()`, `strip` of
//! ASCII punctuation, `isupper()` and comparisons of `lower()` against ASCII keys.

use super::case_tables::{LOWER, TITLE, UPPER};
use crate::tokenizer::unicode::in_ranges;

/// `str.split()`'s whitespace (`str.isspace`): Unicode White_Space plus the ASCII information
/// separators U+001C..U+001F, which Python counts and Rust's `char::is_whitespace` does not.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// VADER's word: a whitespace-separated piece with leading and trailing ASCII punctuation
/// (`string.punctuation`) removed, unless that leaves two characters or fewer (an emoticon such
/// as `:)` stays whole).
pub(crate) fn strip_punct(piece: &str) -> &str {
    let stripped = piece.trim_matches(|c: char| c.is_ascii_punctuation());
    if stripped.chars().count() <= 2 {
        piece
    } else {
        stripped
    }
}

/// Python's `str.isupper()`: at least one uppercase character and no lowercase or titlecase one
/// (the case tables are Python's own, `case_tables.rs`).
pub(crate) fn is_upper(word: &str) -> bool {
    let mut upper = false;
    for c in word.chars() {
        if c.is_ascii() {
            if c.is_ascii_lowercase() {
                return false;
            }
            upper |= c.is_ascii_uppercase();
        } else {
            if in_ranges(&LOWER, c) || in_ranges(&TITLE, c) {
                return false;
            }
            upper |= in_ranges(&UPPER, c);
        }
    }
    upper
}

/// The characters of `word.lower()`.
pub(crate) fn lower(word: &str) -> impl Iterator<Item = char> + '_ {
    word.chars().flat_map(char::to_lowercase)
}

/// `word.lower() == key` for an ASCII `key`.
pub(crate) fn lower_eq(word: &str, key: &str) -> bool {
    let mut k = key.chars();
    lower(word).all(|c| k.next() == Some(c)) && k.next().is_none()
}

/// `word.lower()` as ASCII bytes in `buf`, or `None` when it is longer than `buf` or not ASCII
/// (then it cannot equal any ASCII key).
pub(crate) fn lower_ascii<'b>(word: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let mut n = 0;
    for c in lower(word) {
        if !c.is_ascii() {
            return None;
        }
        *buf.get_mut(n)? = c as u8;
        n += 1;
    }
    buf.get(..n)
}

/// `"n't" in word.lower()`.
pub(crate) fn lower_contains_nt(word: &str) -> bool {
    let mut last = ['\0'; 3];
    lower(word).any(|c| {
        last = [last[1], last[2], c];
        last == ['n', '\'', 't']
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_string_semantics() {
        assert_eq!(strip_punct("good!!!"), "good");
        assert_eq!(strip_punct(":)"), ":)");
        assert_eq!(strip_punct("(:ok"), "(:ok"); // "ok" is 2 characters: kept whole
        assert_eq!(strip_punct("'cause"), "cause");
        assert!(is_upper("SUX!") && is_upper("ÉTÉ") && !is_upper("Sux") && !is_upper("!!") && !is_upper("ǅ"));
        assert!(lower_eq("GooD", "good") && !lower_eq("goodx", "good") && !lower_eq("goo", "good"));
        assert!(lower_eq("\u{212A}ind", "kind")); // KELVIN SIGN lowercases to ASCII k
        let mut buf = [0u8; 4];
        assert_eq!(lower_ascii("NoPe", &mut buf), Some(&b"nope"[..]));
        assert_eq!(lower_ascii("nopes", &mut buf), None);
        assert_eq!(lower_ascii("né", &mut buf), None);
        assert!(lower_contains_nt("DON'T") && lower_contains_nt("wouldn't've") && !lower_contains_nt("nt"));
        assert!(is_space('\u{1f}') && is_space('\u{3000}') && !is_space('x'));
    }
}

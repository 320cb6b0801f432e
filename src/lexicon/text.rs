//! Python `str` semantics that VADER's rules rely on, without allocation: `split()`, `strip` of
//! ASCII punctuation, `isupper()` and comparisons of `lower()` against ASCII keys.

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

/// Python's `str.isupper()`: at least one uppercase character and no lowercase or titlecase one.
pub(crate) fn is_upper(word: &str) -> bool {
    let mut upper = false;
    for c in word.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        upper |= c.is_uppercase();
    }
    upper
}

/// Unicode general category Lt (31 code points); `core` has no test for it.
fn is_titlecase(c: char) -> bool {
    matches!(c as u32,
        0x01C5 | 0x01C8 | 0x01CB | 0x01F2 | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF
        | 0x1FBC | 0x1FCC | 0x1FFC)
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

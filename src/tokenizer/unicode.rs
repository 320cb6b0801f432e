//! Character classes of the BERT tokenizer, looked up in the generated [`tables`](super::tables).
//!
//! The tables are probed code point by code point from the reference (Hugging Face `tokenizers`,
//! see `scripts/golden/gen_unicode_tables.py`), so they carry the reference's effective Unicode data, quirks included:
//! its general-category tables are Unicode 8.0 (e.g. U+2E43 is not punctuation and U+08E2 is not a
//! control char there), its CJK ranges skip U+2B820..=U+2B91F, and all private-use code points
//! count as control. Whitespace and lowercasing come from `core` (`char::is_whitespace`,
//! `char::to_lowercase`), which is what the reference calls too: the generator checks the
//! whitespace set, and the lowercase mapping of rustc 1.95 was checked equal to tokenizers
//! 0.23.3's for every code point. A later compiler may lowercase newly encoded letters that the
//! reference's build does not know (and vice versa).
//!
//! Flash cost: about 17 KiB of tables (11 KiB of them the accent-stripping maps), plus `core`'s
//! lowercase table (about 11 KiB, shared with anything else that lowercases).

use super::tables::{
    CJK, CONTROL, KEPT_CCC, NONSTARTER, PUNCT, STRIP_EXTRA, STRIP_MAP, STRIP_MAP_BMP, STRIP_REMOVED,
};
use core::ops::ControlFlow;

/// Whether `c` lies in one of the sorted, disjoint, inclusive `ranges`.
pub(crate) fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    let i = ranges.partition_point(|&(_, hi)| hi < c);
    ranges.get(i).is_some_and(|&(lo, _)| lo <= c)
}

/// `clean_text` drops `c`: NUL, U+FFFD, and control/format/private-use chars except `\t \n \r`.
pub(crate) fn is_control(c: char) -> bool {
    in_ranges(&CONTROL, c)
}

/// `clean_text` maps `c` to `' '`: `\t \n \r` and `char::is_whitespace`.
pub(crate) fn is_clean_whitespace(c: char) -> bool {
    c.is_whitespace()
}

/// `tokenize_cjk` puts spaces around `c` (the reference's "chinese char" ranges).
pub(crate) fn is_cjk(c: char) -> bool {
    !c.is_ascii() && in_ranges(&CJK, c)
}

/// The pre-tokenizer makes `c` a word of its own (ASCII punctuation or Unicode `P*`).
pub(crate) fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    in_ranges(&PUNCT, c)
}

/// Whether the NFD of `c` starts with a non-zero canonical combining class (it does not end
/// a run of combining marks).
pub(crate) fn is_nonstarter(c: char) -> bool {
    !c.is_ascii() && in_ranges(&NONSTARTER, c)
}

/// Canonical combining class of a char that survives accent stripping (0 for starters).
pub(crate) fn kept_ccc(c: char) -> u8 {
    if c.is_ascii() {
        return 0;
    }
    let key = c as u32;
    match KEPT_CCC.binary_search_by_key(&key, |&e| e >> 8) {
        Ok(i) => KEPT_CCC.get(i).map_or(0, |&e| (e & 0xFF) as u8),
        Err(_) => 0,
    }
}

const HANGUL_BASE: u32 = 0xAC00;
const HANGUL_COUNT: u32 = 11172;

/// Feeds the accent-stripped form of `c` (its NFD without the non-spacing marks) to `f`,
/// in decomposition order. Emits nothing for a mark.
pub(crate) fn for_each_stripped<F>(c: char, mut f: F) -> ControlFlow<()>
where
    F: FnMut(char) -> ControlFlow<()>,
{
    if c.is_ascii() {
        return f(c);
    }
    let code = c as u32;
    if let Some(s) = code.checked_sub(HANGUL_BASE).filter(|&s| s < HANGUL_COUNT) {
        return hangul_jamo(s, f);
    }
    if in_ranges(&STRIP_REMOVED, c) {
        return ControlFlow::Continue(());
    }
    if let Some(x) = strip_bmp(code) {
        return f(x);
    }
    let Some(entry) = STRIP_MAP.binary_search_by_key(&code, |&(k, _)| k).ok().and_then(|i| STRIP_MAP.get(i))
    else {
        return f(c);
    };
    for &x in expansion(entry) {
        f(char::from_u32(x).unwrap_or(c))?;
    }
    ControlFlow::Continue(())
}

/// The one-char stripping of a BMP code point, if listed in [`STRIP_MAP_BMP`].
fn strip_bmp(code: u32) -> Option<char> {
    let key = u16::try_from(code).ok()?;
    let i = STRIP_MAP_BMP.binary_search_by_key(&key, |&(k, _)| k).ok()?;
    STRIP_MAP_BMP.get(i).and_then(|&(_, v)| char::from_u32(v.into()))
}

/// The chars a [`STRIP_MAP`] entry maps to: its value, or a run of [`STRIP_EXTRA`].
fn expansion(entry: &'static (u32, u32)) -> &'static [u32] {
    let value = entry.1;
    if value & 0x8000_0000 == 0 {
        return core::slice::from_ref(&entry.1);
    }
    let start = ((value & 0x7FFF_FFFF) >> 4) as usize;
    let len = (value & 0xF) as usize;
    STRIP_EXTRA.get(start..start + len).unwrap_or(&[])
}

/// Hangul syllable number `s` to its 2 or 3 conjoining jamo (Unicode ch. 3.12).
fn hangul_jamo<F>(s: u32, mut f: F) -> ControlFlow<()>
where
    F: FnMut(char) -> ControlFlow<()>,
{
    let (l, v, t) = (0x1100 + s / 588, 0x1161 + (s % 588) / 28, 0x11A7 + s % 28);
    for (i, x) in [l, v, t].into_iter().enumerate() {
        if i < 2 || x != 0x11A7 {
            f(char::from_u32(x).unwrap_or(' '))?;
        }
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(c: char) -> heapless::String<16> {
        let mut s = heapless::String::new();
        let _ = for_each_stripped(c, |x| {
            let _ = s.push(x);
            ControlFlow::Continue(())
        });
        s
    }

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for t in [&CONTROL[..], &CJK, &PUNCT, &STRIP_REMOVED, &NONSTARTER] {
            assert!(t.iter().all(|&(a, b)| a <= b));
            assert!(t.windows(2).all(|w| w[0].1 < w[1].0));
        }
        assert!(STRIP_MAP_BMP.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(STRIP_MAP.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(KEPT_CCC.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn strip_accents_examples() {
        assert_eq!(stripped('é'), "e");
        assert_eq!(stripped('\u{0301}'), "");
        assert_eq!(stripped('İ'), "I");
        assert_eq!(stripped('한'), "\u{1112}\u{1161}\u{11AB}");
        assert_eq!(stripped('하'), "\u{1112}\u{1161}");
        assert_eq!(stripped('\u{F900}'), "\u{8C48}");
        assert_eq!(stripped('\u{0B94}'), "\u{0B92}\u{0BD7}");
        assert_eq!(stripped('ß'), "ß");
        assert_eq!(stripped('\u{2F800}'), "\u{4E3D}");
        assert_eq!(stripped('\u{1D15E}'), "\u{1D157}\u{1D165}");
        assert_eq!(stripped('\u{0F73}'), "");
    }

    #[test]
    fn classes() {
        assert!(is_punctuation('$') && is_punctuation('¿') && is_punctuation('\u{2E42}'));
        // Unicode 9 punctuation the reference does not know yet.
        assert!(!is_punctuation('\u{2E43}'));
        assert!(is_control('\u{200B}') && is_control('\u{E001}') && is_control('\u{0}'));
        assert!(!is_control('\t') && !is_control('\u{08E2}'));
        assert!(is_cjk('中') && is_cjk('\u{2B920}') && !is_cjk('\u{2B820}') && !is_cjk('あ'));
        assert_eq!(kept_ccc('\u{1D165}'), 216);
    }
}

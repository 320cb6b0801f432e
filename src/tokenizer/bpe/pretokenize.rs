//! Pre-tokenizers: GPT-2's regex, by hand, and the `Digits` split that SmolLM2's `tokenizer.json`
//! puts before it.
//!
//! GPT-2's pattern, tried at each position in this order (leftmost-first alternation):
//! ```text
//! 's|'t|'re|'ve|'m|'ll|'d | ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+ | \s+(?!\S) | \s+
//! ```
//! Every char is in exactly one of the classes letter, number, space, other, so the matches tile
//! the text. The classes are Oniguruma's, probed from the reference into [`tables`](super::tables).

use super::tables::{LETTER, NUMBER, NUMERIC, SPACE};
use core::ops::ControlFlow;

/// Which pre-tokenizer splits text (between added tokens) into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PreTokenizer {
    /// GPT-2: `ByteLevel(add_prefix_space=false, use_regex=true)`.
    Gpt2,
    /// SmolLM2's `tokenizer.json`: `Digits(individual_digits=true)`, then GPT-2's `ByteLevel`:
    /// every numeric char (Rust's `char::is_numeric` as the reference was built, which is wider
    /// than the regex's `\p{N}`) is a word of its own, the text between them is split as GPT-2
    /// splits it. (`transformers` builds SmolLM2's tokenizer from its GGUF with [`Gpt2`](Self::Gpt2).)
    Gpt2Digits,
}

impl PreTokenizer {
    /// The code stored in the blob: 0 = [`Gpt2`](Self::Gpt2), 1 = [`Gpt2Digits`](Self::Gpt2Digits).
    pub fn code(self) -> u32 {
        match self {
            Self::Gpt2 => 0,
            Self::Gpt2Digits => 1,
        }
    }

    /// The pre-tokenizer with blob code `code`, `None` for an unknown code.
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Self::Gpt2),
            1 => Some(Self::Gpt2Digits),
            _ => None,
        }
    }

    /// Calls `f` with each word of `text` (text between added tokens), in order, until `f`
    /// breaks; the words tile `text` and none is empty.
    pub fn for_each_word<F>(self, text: &str, mut f: F) -> ControlFlow<()>
    where
        F: FnMut(&str) -> ControlFlow<()>,
    {
        match self {
            Self::Gpt2 => gpt2_words(text, &mut f),
            Self::Gpt2Digits => {
                let mut rest = text;
                while let Some((i, c)) = rest.char_indices().find(|&(_, c)| is_numeric(c)) {
                    // i and i + len(c) are char boundaries: the splits always succeed
                    let Some((run, tail)) = rest.split_at_checked(i) else { break };
                    let Some((digit, tail)) = tail.split_at_checked(c.len_utf8()) else { break };
                    gpt2_words(run, &mut f)?;
                    f(digit)?;
                    rest = tail;
                }
                gpt2_words(rest, &mut f)
            }
        }
    }
}

/// Character class of GPT-2's regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// `\p{L}`.
    Letter,
    /// `\p{N}`.
    Number,
    /// `\s`.
    Space,
    /// Everything else.
    Other,
}

/// Whether `c` lies in one of the sorted, disjoint, inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let c = c as u32;
    let i = ranges.partition_point(|&(_, hi)| hi < c);
    ranges.get(i).is_some_and(|&(lo, _)| lo <= c)
}

/// The class of `c` (ASCII by hand, the rest from the probed tables).
pub(crate) fn class(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            'a'..='z' | 'A'..='Z' => Class::Letter,
            '0'..='9' => Class::Number,
            '\t' | '\n' | '\x0B' | '\x0C' | '\r' | ' ' => Class::Space,
            _ => Class::Other,
        };
    }
    if in_ranges(&LETTER, c) {
        Class::Letter
    } else if in_ranges(&NUMBER, c) {
        Class::Number
    } else if in_ranges(&SPACE, c) {
        Class::Space
    } else {
        Class::Other
    }
}

/// Whether the `Digits` pre-tokenizer isolates `c`.
fn is_numeric(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    in_ranges(&NUMERIC, c)
}

/// The contractions GPT-2 splits off (case-sensitive, tried before anything else).
const CONTRACTIONS: [&str; 7] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

/// Calls `f` with each GPT-2 regex match of `text`, in order.
fn gpt2_words<F>(text: &str, f: &mut F) -> ControlFlow<()>
where
    F: FnMut(&str) -> ControlFlow<()>,
{
    let mut rest = text;
    while !rest.is_empty() {
        // a match is at least one whole char; anything else would end the text as one word
        let (word, tail) = match rest.split_at_checked(gpt2_match_len(rest)) {
            Some((word, tail)) if !word.is_empty() => (word, tail),
            _ => (rest, ""),
        };
        f(word)?;
        rest = tail;
    }
    ControlFlow::Continue(())
}

/// Byte length of the regex match at the start of the non-empty `s` (always >= 1 char).
pub(crate) fn gpt2_match_len(s: &str) -> usize {
    if let Some(c) = CONTRACTIONS.iter().find(|c| s.starts_with(**c)) {
        return c.len();
    }
    let mut chars = s.char_indices();
    let Some((_, first)) = chars.next() else { return 0 };
    // ` ?X+`: an optional U+0020, then a run of one class other than space.
    let (start, run_class) = match (first, class(first)) {
        (' ', _) => match s.get(1..).and_then(|t| t.chars().next()).map(class) {
            Some(k) if k != Class::Space => (1, k),
            _ => return space_match_len(s),
        },
        (_, Class::Space) => return space_match_len(s),
        (_, k) => (0, k),
    };
    let tail = s.get(start..).unwrap_or("");
    let run = tail.find(|c: char| class(c) != run_class).unwrap_or(tail.len());
    start + run
}

/// `\s+(?!\S)|\s+` at the start of `s` (which starts with a space char): the whole run of
/// spaces when it ends the text; otherwise the run but its last char, or the one char when the
/// run is a single char.
fn space_match_len(s: &str) -> usize {
    let run = s.find(|c: char| class(c) != Class::Space).unwrap_or(s.len());
    if run == s.len() {
        return run;
    }
    let head = s.get(..run).unwrap_or("");
    let last = head.char_indices().next_back().map_or(0, |(i, _)| i);
    if last > 0 {
        last
    } else {
        run
    }
}

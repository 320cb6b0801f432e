//! BERT WordPiece tokenizer, allocation-free: the reference's special-token split, `BertNormalizer`,
//! `BertPreTokenizer`, `WordPiece` model and `[CLS] .. [SEP]` post-processor with truncation.
//!
//! One pass over the text: raw text is cut at literal special tokens; each piece streams through
//! the [`Normalizer`] into the pre-tokenizer, which collects one word at a time in a fixed buffer;
//! each finished word is split greedily into vocabulary pieces written straight into the caller's
//! id buffer. Work stops as soon as the buffer is full.

use super::normalize::{Normalizer, Steps};
use super::unicode;
use super::vocab::Vocab;
use crate::Error;
use core::ops::ControlFlow;

/// Largest accepted [`WordPieceConfig::max_chars_per_word`]; the word buffer holds this many chars
/// (4 bytes each) on the stack.
pub const MAX_WORD_CHARS: usize = 256;

/// Prefix of word-continuation pieces.
const CONTINUATION: &str = "##";

/// Special tokens matched in raw text: `[CLS] [SEP] [UNK] [PAD] [MASK]`.
const N_SPECIAL: usize = 5;

/// Tokenizer settings (the reference's `BertNormalizer` flags, `WordPiece` limits, special ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordPieceConfig {
    /// Lowercase every char (`char::to_lowercase`, per char: `Σ` is always `σ`).
    pub lowercase: bool,
    /// Strip accents: NFD, then drop non-spacing marks (`Mn`). The reference's default is the
    /// `lowercase` setting; the caller resolves that and passes the result.
    pub strip_accents: bool,
    /// Put spaces around CJK ideographs, so each becomes a word of its own.
    pub tokenize_cjk: bool,
    /// Drop NUL, U+FFFD and control/format/private-use chars; map whitespace to `' '`.
    pub clean_text: bool,
    /// Id of `[UNK]`, emitted for a word that cannot be split or is too long.
    pub unk: u32,
    /// Id of `[CLS]`, the first token of every encoding.
    pub cls: u32,
    /// Id of `[SEP]`, the last token of every encoding.
    pub sep: u32,
    /// Id of `[PAD]` (only matched in text; padding is the caller's business).
    pub pad: u32,
    /// Id of `[MASK]`.
    pub mask: u32,
    /// A word of more chars than this (after normalization) becomes one `[UNK]`;
    /// `0..=MAX_WORD_CHARS`, the reference's default is 100.
    pub max_chars_per_word: u32,
}

/// Result of [`WordPiece::encode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// Ids written, `[CLS]` and `[SEP]` included: `2..=ids.len()`.
    pub len: usize,
    /// At least one token did not fit (the reference's encoding without truncation is longer).
    pub truncated: bool,
}

/// A WordPiece tokenizer over a borrowed vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct WordPiece<'a> {
    vocab: Vocab<'a>,
    config: WordPieceConfig,
    /// (string, id) of the special tokens matched in raw text.
    specials: [(&'a str, u32); N_SPECIAL],
}

impl<'a> WordPiece<'a> {
    /// Checks `config` against `vocab`: every special id must be a token, and
    /// `max_chars_per_word <= MAX_WORD_CHARS`; otherwise [`Error::BadVocab`].
    pub fn new(vocab: Vocab<'a>, config: WordPieceConfig) -> Result<Self, Error> {
        if config.max_chars_per_word as usize > MAX_WORD_CHARS {
            return Err(Error::BadVocab);
        }
        let c = &config;
        let mut specials = [("", 0); N_SPECIAL];
        for (slot, id) in specials.iter_mut().zip([c.cls, c.sep, c.unk, c.pad, c.mask]) {
            *slot = (vocab.token(id).ok_or(Error::BadVocab)?, id);
        }
        Ok(Self { vocab, config, specials })
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab<'a> {
        &self.vocab
    }

    /// The settings.
    pub fn config(&self) -> &WordPieceConfig {
        &self.config
    }

    /// Tokenizes `text` into `ids` as `[CLS] tokens.. [SEP]`, keeping the first `ids.len() - 2`
    /// tokens (the reference with `truncation=True, max_length=ids.len()`).
    ///
    /// `ids[..len]` holds the encoding; slots after it may hold scratch pieces of a word that
    /// became `[UNK]`. Fails only with [`Error::BufferTooSmall`] when `ids.len() < 2`. Never panics.
    pub fn encode(&self, text: &str, ids: &mut [u32]) -> Result<Encoding, Error> {
        if ids.len() < 2 {
            return Err(Error::BufferTooSmall { needed: 2, got: ids.len() });
        }
        let steps = Steps {
            clean_text: self.config.clean_text,
            tokenize_cjk: self.config.tokenize_cjk,
            strip_accents: self.config.strip_accents,
            lowercase: self.config.lowercase,
        };
        let mut out = Output::new(ids);
        let _ = out.push(self.config.cls);
        let mut encoder = Encoder {
            norm: Normalizer::new(steps),
            words: Words { wp: self, word: Word::new(self.config.max_chars_per_word), out },
        };
        // `Break` only means the buffer is full.
        let _ = encoder.run(text);
        Ok(encoder.words.out.finish(self.config.sep))
    }

    /// The leftmost special token in `text`, longest first: (start, end, id).
    fn next_special(&self, text: &str) -> Option<(usize, usize, u32)> {
        let bytes = text.as_bytes();
        (0..bytes.len()).find_map(|start| {
            let rest = bytes.get(start..)?;
            let (len, id) = self
                .specials
                .iter()
                .filter(|(s, _)| !s.is_empty() && rest.starts_with(s.as_bytes()))
                .map(|&(s, id)| (s.len(), id))
                .max_by_key(|&(len, _)| len)?;
            Some((start, start + len, id))
        })
    }

    /// Splits one word greedily, longest piece first, into `out`; one `[UNK]` if it cannot.
    fn tokenize_word(&self, word: &str, out: &mut Output) -> ControlFlow<()> {
        let mark = out.len;
        let mut start = 0;
        while let Some(rest) = word.get(start..).filter(|r| !r.is_empty()) {
            let prefix = if start == 0 { "" } else { CONTINUATION };
            let Some((id, len)) = self.longest_piece(prefix, rest) else {
                out.rewind(mark);
                return out.push(self.config.unk);
            };
            out.push_tentative(id);
            start += len;
        }
        out.commit()
    }

    /// The longest vocabulary token `prefix + rest[..len]`: (id, len).
    fn longest_piece(&self, prefix: &str, rest: &str) -> Option<(u32, usize)> {
        let limit = self.vocab.max_token_len().saturating_sub(prefix.len()).min(rest.len());
        (1..=limit).rev().find_map(|end| {
            let piece = rest.get(..end)?;
            self.vocab.id_with_prefix(prefix, piece).map(|id| (id, end))
        })
    }
}

/// The whole pipeline's state for one `encode` call.
struct Encoder<'w, 'a, 'o> {
    norm: Normalizer,
    words: Words<'w, 'a, 'o>,
}

impl Encoder<'_, '_, '_> {
    /// Special tokens are cut out of the raw text first; the text between is tokenized.
    fn run(&mut self, text: &str) -> ControlFlow<()> {
        let mut rest = text;
        while let Some((start, end, id)) = self.words.wp.next_special(rest) {
            self.piece(rest.get(..start).unwrap_or(""))?;
            self.words.out.push(id)?;
            rest = rest.get(end..).unwrap_or("");
        }
        self.piece(rest)
    }

    /// Normalizes and tokenizes text free of special tokens.
    fn piece(&mut self, text: &str) -> ControlFlow<()> {
        let words = &mut self.words;
        let mut sink = |c| words.push(c);
        for c in text.chars() {
            self.norm.push(c, &mut sink)?;
        }
        self.norm.finish(&mut sink)?;
        self.words.end_word()
    }
}

/// The pre-tokenizer: normalized chars in, words out to WordPiece.
struct Words<'w, 'a, 'o> {
    wp: &'w WordPiece<'a>,
    word: Word,
    out: Output<'o>,
}

impl Words<'_, '_, '_> {
    /// Whitespace ends a word; punctuation is a word of its own.
    fn push(&mut self, c: char) -> ControlFlow<()> {
        if c.is_whitespace() {
            return self.end_word();
        }
        if unicode::is_punctuation(c) {
            self.end_word()?;
            self.word.push(c);
            return self.end_word();
        }
        self.word.push(c);
        ControlFlow::Continue(())
    }

    fn end_word(&mut self) -> ControlFlow<()> {
        if self.word.chars == 0 {
            return ControlFlow::Continue(());
        }
        let flow = if self.word.is_too_long() {
            self.out.push(self.wp.config.unk)
        } else {
            self.wp.tokenize_word(self.word.text.as_str(), &mut self.out)
        };
        self.word.clear();
        flow
    }
}

/// The current word: its first `max` chars, and how many chars it has in all.
struct Word {
    /// (<= MAX_WORD_CHARS chars): the word while it is short enough.
    text: heapless::String<{ MAX_WORD_CHARS * 4 }>,
    chars: usize,
    max: usize,
}

impl Word {
    fn new(max: u32) -> Self {
        Self { text: heapless::String::new(), chars: 0, max: max as usize }
    }

    fn push(&mut self, c: char) {
        self.chars += 1;
        if self.chars <= self.max {
            // Cannot fail: `max <= MAX_WORD_CHARS` chars of at most 4 bytes.
            let _ = self.text.push(c);
        }
    }

    fn is_too_long(&self) -> bool {
        self.chars > self.max
    }

    fn clear(&mut self) {
        self.text.clear();
        self.chars = 0;
    }
}

/// The caller's id buffer, with its last slot kept for `[SEP]`.
struct Output<'o> {
    ids: &'o mut [u32],
    /// Ids written.
    len: usize,
    /// A piece of the current word did not fit.
    spilled: bool,
    truncated: bool,
}

impl<'o> Output<'o> {
    fn new(ids: &'o mut [u32]) -> Self {
        Self { ids, len: 0, spilled: false, truncated: false }
    }

    /// Slots for tokens (all but the last, kept for `[SEP]`).
    fn capacity(&self) -> usize {
        self.ids.len().saturating_sub(1)
    }

    fn write(&mut self, id: u32) -> bool {
        if self.len >= self.capacity() {
            return false;
        }
        let Some(slot) = self.ids.get_mut(self.len) else {
            return false;
        };
        *slot = id;
        self.len += 1;
        true
    }

    /// Appends a token; `Break` (and `truncated`) once it does not fit.
    fn push(&mut self, id: u32) -> ControlFlow<()> {
        if self.write(id) {
            return ControlFlow::Continue(());
        }
        self.truncated = true;
        ControlFlow::Break(())
    }

    /// Appends a piece of a word that may still turn into `[UNK]`.
    fn push_tentative(&mut self, id: u32) {
        if !self.write(id) {
            self.spilled = true;
        }
    }

    /// The word is done: `Break` if some of its pieces did not fit.
    fn commit(&mut self) -> ControlFlow<()> {
        if self.spilled {
            self.truncated = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// Drops the pieces written since `mark`.
    fn rewind(&mut self, mark: usize) {
        self.len = mark;
        self.spilled = false;
    }

    /// Appends `[SEP]` in the kept slot.
    fn finish(self, sep: u32) -> Encoding {
        let mut len = self.len;
        if let Some(slot) = self.ids.get_mut(len) {
            *slot = sep;
            len += 1;
        }
        Encoding { len, truncated: self.truncated }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::tokenizer::build_planes;
    use alloc::vec::Vec;

    const TOKENS: &[&str] = &[
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", "!", ",",
        "a", "##a", "e", "##e", "i", "##̇", "σ", "中", "x", "ß", "[", "]", "mask", "ab", "##c",
    ];

    fn config() -> WordPieceConfig {
        WordPieceConfig {
            lowercase: true,
            strip_accents: true,
            tokenize_cjk: true,
            clean_text: true,
            unk: 1,
            cls: 2,
            sep: 3,
            pad: 0,
            mask: 4,
            max_chars_per_word: 100,
        }
    }

    fn encode_with(config: WordPieceConfig, text: &str, max_len: usize) -> (Vec<&'static str>, bool) {
        let (s, o, x) = build_planes(TOKENS);
        let wp = WordPiece::new(Vocab::new(&s, &o, &x).unwrap(), config).unwrap();
        let mut ids = alloc::vec![0; max_len];
        let e = wp.encode(text, &mut ids).unwrap();
        (ids[..e.len].iter().map(|&i| TOKENS[i as usize]).collect(), e.truncated)
    }

    fn encode(text: &str, max_len: usize) -> (Vec<&'static str>, bool) {
        encode_with(config(), text, max_len)
    }

    #[test]
    fn greedy_pieces_and_unk() {
        let (t, tr) = encode("Unaffable hello, WORLD!", 16);
        assert_eq!(t, ["[CLS]", "un", "##aff", "##able", "hello", ",", "world", "!", "[SEP]"]);
        assert!(!tr);
        // "abd": "ab" matches, "##d" does not: the whole word is one [UNK].
        assert_eq!(encode("abd x", 16).0, ["[CLS]", "[UNK]", "x", "[SEP]"]);
        assert_eq!(encode("abc", 16).0, ["[CLS]", "ab", "##c", "[SEP]"]);
    }

    #[test]
    fn specials_are_cut_from_raw_text() {
        let (t, _) = encode("a[MASK]a [mask] [MASK", 32);
        assert_eq!(t, ["[CLS]", "a", "[MASK]", "a", "[", "mask", "]", "[", "mask", "[SEP]"]);
        assert_eq!(encode("[SEP][CLS]", 8).0, ["[CLS]", "[SEP]", "[CLS]", "[SEP]"]);
    }

    #[test]
    fn truncation_keeps_first_tokens() {
        assert_eq!(encode("a a a", 4), (alloc::vec!["[CLS]", "a", "a", "[SEP]"], true));
        assert_eq!(encode("a a", 4), (alloc::vec!["[CLS]", "a", "a", "[SEP]"], false));
        assert_eq!(encode("a", 2), (alloc::vec!["[CLS]", "[SEP]"], true));
        assert_eq!(encode("", 2), (alloc::vec!["[CLS]", "[SEP]"], false));
        // The word's pieces spill, but the word would not be [UNK]: truncated.
        assert_eq!(encode("unaffable", 4), (alloc::vec!["[CLS]", "un", "##aff", "[SEP]"], true));
        // The pieces would spill, but the word is [UNK]: it fits.
        assert_eq!(encode("aaaq", 3), (alloc::vec!["[CLS]", "[UNK]", "[SEP]"], false));
    }

    #[test]
    fn long_words_count_normalized_chars() {
        let cfg = WordPieceConfig { max_chars_per_word: 3, ..config() };
        assert_eq!(encode_with(cfg, "aaa aaaa", 8).0, ["[CLS]", "a", "##a", "##a", "[UNK]", "[SEP]"]);
        // 4 chars before stripping, 3 after.
        assert_eq!(encode_with(cfg, "aaa\u{301}", 8).0, ["[CLS]", "a", "##a", "##a", "[SEP]"]);
        let cfg = WordPieceConfig { max_chars_per_word: 0, ..config() };
        assert_eq!(encode_with(cfg, "a !", 8).0, ["[CLS]", "[UNK]", "[UNK]", "[SEP]"]);
    }

    #[test]
    fn lowercase_without_strip_keeps_dot_above() {
        let cfg = WordPieceConfig { strip_accents: false, ..config() };
        assert_eq!(encode_with(cfg, "İ", 8).0, ["[CLS]", "i", "##̇", "[SEP]"]);
        assert_eq!(encode("İ Σ", 8).0, ["[CLS]", "i", "σ", "[SEP]"]);
    }

    #[test]
    fn config_is_checked() {
        let (s, o, x) = build_planes(TOKENS);
        let v = Vocab::new(&s, &o, &x).unwrap();
        let bad = |c| WordPiece::new(v, c).unwrap_err() == Error::BadVocab;
        assert!(bad(WordPieceConfig { mask: TOKENS.len() as u32, ..config() }));
        assert!(bad(WordPieceConfig { max_chars_per_word: MAX_WORD_CHARS as u32 + 1, ..config() }));
        let wp = WordPiece::new(v, config()).unwrap();
        assert_eq!(wp.encode("a", &mut [0]), Err(Error::BufferTooSmall { needed: 2, got: 1 }));
    }
}

//! Byte-level BPE (GPT-2, SmolLM2 and other Llama-family models), allocation-free, giving the
//! same ids as Hugging Face `tokenizers`.
//!
//! Pipeline of [`Bpe::encode`], as the reference runs it:
//! 1. added tokens (`<|endoftext|>`, `<|im_start|>`, ...) are found in the raw text, leftmost
//!    first, the longest at a position (`added.rs`); the text between them goes on;
//! 2. the [`PreTokenizer`] splits it into words (GPT-2's regex, by hand; SmolLM2 first isolates
//!    every ASCII digit);
//! 3. each word starts as one symbol per byte ([`BpePlanes::byte_ids`]) and pairs of adjacent
//!    symbols merge, lowest rank first, leftmost first on equal ranks ([`BpePlanes::merges`]).
//!
//! Tokens are stored as their raw bytes (the builder undoes GPT-2's byte-to-unicode mapping), so
//! decoding is concatenation; [`Decoder`] does it one id at a time, emitting only complete UTF-8.
//!
//! Memory: nothing is allocated. The ids go into a caller buffer (too many ids: truncated and
//! flagged), and merging a word of `n` bytes uses `2 * n` u32 of caller scratch;
//! [`Bpe::scratch_len`] gives a size that fits any text of a given length.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use picoformer::tokenizer::bpe::{AddedToken, Bpe, BpeBuilder, BpeConfig, PreTokenizer};
//! // Tokens 0..=255 are the bytes; 256 = "he", 257 = "hel", 258 = "<|endoftext|>".
//! let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
//! tokens.extend([b"he".to_vec(), b"hel".to_vec(), b"<|endoftext|>".to_vec()]);
//! let owned = BpeBuilder::new(tokens, BpeConfig::new(PreTokenizer::Gpt2))
//!     .merges(vec![(u32::from(b'h'), u32::from(b'e')), (256, u32::from(b'l'))])
//!     .added_token(AddedToken::special(b"<|endoftext|>", 258))
//!     .build()
//!     .unwrap();
//! let bpe = owned.tokenizer().unwrap();
//! let text = "hello<|endoftext|>";
//! let mut ids = [0u32; 16];
//! let mut scratch = vec![0u32; Bpe::scratch_len(text.len())]; // or bpe.scratch_len_for(text)
//! let enc = bpe.encode(text, &mut ids, &mut scratch).unwrap();
//! assert_eq!(&ids[..enc.len], &[257, u32::from(b'l'), u32::from(b'o'), 258]);
//! # }
//! ```

mod added;
#[cfg(feature = "std")]
mod build;
mod decode;
mod merges;
mod pretokenize;
#[rustfmt::skip]
mod tables;

use core::cmp::Ordering;
use core::ops::ControlFlow;

use crate::Error;
use added::{Added, Segment};
use merges::Merges;

pub use added::{ADDED_NORMALIZED, ADDED_SPECIAL};
#[cfg(feature = "std")]
pub use build::{byte_level_chars, byte_level_to_bytes, AddedToken, BpeBuilder, BpeOwned, BuildError};
pub use decode::Decoder;
pub use pretokenize::PreTokenizer;

/// Marks an absent id in the blob's header fields ([`BpeConfig::to_words`]).
pub const NO_ID: u32 = u32::MAX;

/// The planes of a BPE tokenizer, borrowed from the blob (all little-endian, any alignment of
/// the u32 planes that `bytemuck` accepts: 4 bytes).
///
/// | section name | element | shape | contents |
/// |---|---|---|---|
/// | `tokenizer.bpe.token_bytes` | u8 | `[total]` | every token's raw bytes, in id order |
/// | `tokenizer.bpe.token_offsets` | u32 | `[n_vocab + 1]` | token `i` is `token_bytes[o[i]..o[i+1]]` |
/// | `tokenizer.bpe.merges` | u32 | `[n_merges, 4]` | `(left, right, rank, merged)`, sorted by `(left, right)` |
/// | `tokenizer.bpe.byte_ids` | u32 | `[256]` | the id of each single byte (`NO_ID`: none) |
/// | `tokenizer.bpe.sorted` | u32 | `[n_sorted]` | ids ordered by bytes, for whole-word lookups (may be empty unless `ignore_merges`) |
/// | `tokenizer.bpe.added_bytes` | u8 | `[total]` | contents of the added tokens, concatenated |
/// | `tokenizer.bpe.added` | u32 | `[n_added, 3]` | `(id, end of content in added_bytes, flags)` |
#[derive(Debug, Clone, Copy)]
pub struct BpePlanes<'a> {
    /// `tokenizer.bpe.token_bytes`: u8 `[total]`.
    pub token_bytes: &'a [u8],
    /// `tokenizer.bpe.token_offsets`: u32 `[n_vocab + 1]`, from 0, non-decreasing, to `total`.
    pub token_offsets: &'a [u32],
    /// `tokenizer.bpe.merges`: u32 `[n_merges, 4]` = `(left, right, rank, merged)`, strictly
    /// increasing in `(left, right)`; `merged`'s bytes are `left`'s then `right`'s; lower rank
    /// merges first; rank `< u32::MAX`.
    pub merges: &'a [u32],
    /// `tokenizer.bpe.byte_ids`: u32 `[256]`, the symbol a byte starts as (`NO_ID`: the byte is
    /// dropped, or becomes `unk` when the config has one, as in the reference).
    pub byte_ids: &'a [u32],
    /// `tokenizer.bpe.sorted`: u32 `[n_sorted]`, ids whose bytes strictly increase: the tokens a
    /// whole word may match (`ignore_merges`). Empty when `ignore_merges` is off.
    pub sorted: &'a [u32],
    /// `tokenizer.bpe.added_bytes`: u8 `[total]`, the added tokens' contents (UTF-8 each).
    pub added_bytes: &'a [u8],
    /// `tokenizer.bpe.added`: u32 `[n_added, 3]` = `(id, end offset in added_bytes, flags)`,
    /// ends strictly increasing (no empty content), flags of [`ADDED_SPECIAL`] and
    /// [`ADDED_NORMALIZED`].
    pub added: &'a [u32],
}

/// Names, element types and shapes of the planes, for the blob writer and reader.
pub const PLANES: [(&str, &str, &str); 7] = [
    ("tokenizer.bpe.token_bytes", "u8", "[total]"),
    ("tokenizer.bpe.token_offsets", "u32", "[n_vocab + 1]"),
    ("tokenizer.bpe.merges", "u32", "[n_merges, 4]"),
    ("tokenizer.bpe.byte_ids", "u32", "[256]"),
    ("tokenizer.bpe.sorted", "u32", "[n_sorted]"),
    ("tokenizer.bpe.added_bytes", "u8", "[total]"),
    ("tokenizer.bpe.added", "u32", "[n_added, 3]"),
];

/// The scalar settings of a BPE tokenizer (header fields of the blob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BpeConfig {
    /// How text between added tokens is split into words.
    pub pre_tokenizer: PreTokenizer,
    /// A word that is itself a token becomes that token without merging (the reference's
    /// `ignore_merges`, set by Llama 3 style tokenizers). Needs the `sorted` plane.
    pub ignore_merges: bool,
    /// The symbol a byte without a token becomes (`None`: such bytes are dropped, as the
    /// reference does without `unk_token`).
    pub unk: Option<u32>,
    /// Beginning-of-sequence id, for the caller (encode never adds it).
    pub bos: Option<u32>,
    /// End-of-sequence id, for the caller (generation stops on it).
    pub eos: Option<u32>,
}

impl BpeConfig {
    /// A config with `pre_tokenizer`, no `ignore_merges`, no unk/bos/eos.
    pub const fn new(pre_tokenizer: PreTokenizer) -> Self {
        Self { pre_tokenizer, ignore_merges: false, unk: None, bos: None, eos: None }
    }

    /// The config as five u32 header words: pre-tokenizer code ([`PreTokenizer::code`]), flags
    /// (bit 0: `ignore_merges`), unk, bos, eos ([`NO_ID`] when absent).
    pub fn to_words(&self) -> [u32; 5] {
        let id = |x: Option<u32>| x.unwrap_or(NO_ID);
        [self.pre_tokenizer.code(), u32::from(self.ignore_merges), id(self.unk), id(self.bos), id(self.eos)]
    }

    /// Reads [`to_words`](Self::to_words)' layout back; [`Error::BadVocab`] for an unknown
    /// pre-tokenizer code or flag bit.
    pub fn from_words(words: [u32; 5]) -> Result<Self, Error> {
        let [pre, flags, unk, bos, eos] = words;
        let pre_tokenizer = PreTokenizer::from_code(pre).ok_or(Error::BadVocab)?;
        if flags & !1 != 0 {
            return Err(Error::BadVocab);
        }
        let id = |x: u32| (x != NO_ID).then_some(x);
        Ok(Self { pre_tokenizer, ignore_merges: flags & 1 != 0, unk: id(unk), bos: id(bos), eos: id(eos) })
    }
}

/// What [`Bpe::encode`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BpeEncoding {
    /// Ids written: `0..=ids.len()`.
    pub len: usize,
    /// The text has more tokens than `ids` could hold; the `len` written are the reference's
    /// first `len`.
    pub truncated: bool,
}

/// A validated byte-level BPE tokenizer over borrowed planes.
#[derive(Debug, Clone, Copy)]
pub struct Bpe<'a> {
    /// Token bytes, concatenated.
    token_bytes: &'a [u8],
    /// (n_vocab + 1) offsets into `token_bytes`.
    token_offsets: &'a [u32],
    /// The merge table.
    merges: Merges<'a>,
    /// (256): first symbol of each byte.
    byte_ids: &'a [u32; 256],
    /// Ids ordered by bytes.
    sorted: &'a [u32],
    /// Added tokens.
    added: Added<'a>,
    /// Settings.
    config: BpeConfig,
    /// Byte length of the longest token.
    max_token_len: usize,
}

impl<'a> Bpe<'a> {
    /// Validates the planes against each other and the config, once (O(total bytes + merged
    /// bytes)); fails with [`Error::BadVocab`] on any inconsistency listed in [`BpePlanes`] or
    /// an id in `config` outside the vocabulary.
    pub fn new(planes: BpePlanes<'a>, config: BpeConfig) -> Result<Self, Error> {
        let max_token_len = check_offsets(planes.token_bytes, planes.token_offsets)?;
        let n_vocab = planes.token_offsets.len() - 1;
        let byte_ids: &[u32; 256] = planes.byte_ids.try_into().map_err(|_| Error::BadVocab)?;
        let in_vocab = |id: u32| (id as usize) < n_vocab;
        if byte_ids.iter().any(|&id| id != NO_ID && !in_vocab(id)) {
            return Err(Error::BadVocab);
        }
        let ids = [config.unk, config.bos, config.eos];
        if ids.iter().flatten().any(|&id| !in_vocab(id)) || (config.ignore_merges && planes.sorted.is_empty())
        {
            return Err(Error::BadVocab);
        }
        let bpe = Self {
            token_bytes: planes.token_bytes,
            token_offsets: planes.token_offsets,
            merges: Merges::new(planes.merges, n_vocab)?,
            byte_ids,
            sorted: planes.sorted,
            added: Added::new(planes.added_bytes, planes.added, n_vocab)?,
            config,
            max_token_len,
        };
        bpe.check_merged_bytes()?;
        bpe.check_sorted()?;
        Ok(bpe)
    }

    /// Every merge's result is the concatenation of its two sides.
    fn check_merged_bytes(&self) -> Result<(), Error> {
        for &[l, r, _, m] in self.merges.iter() {
            let (Some(l), Some(r), Some(m)) = (self.token(l), self.token(r), self.token(m)) else {
                return Err(Error::BadVocab);
            };
            if m.len() != l.len() + r.len() || !m.starts_with(l) || !m.ends_with(r) {
                return Err(Error::BadVocab);
            }
        }
        Ok(())
    }

    /// The `sorted` plane lists valid ids in strictly increasing byte order.
    fn check_sorted(&self) -> Result<(), Error> {
        let mut prev: Option<&[u8]> = None;
        for &id in self.sorted {
            let bytes = self.token(id).ok_or(Error::BadVocab)?;
            if prev.is_some_and(|p| p >= bytes) {
                return Err(Error::BadVocab);
            }
            prev = Some(bytes);
        }
        Ok(())
    }

    /// Number of tokens (ids are `0..n_vocab()`).
    pub fn n_vocab(&self) -> usize {
        self.token_offsets.len() - 1
    }

    /// Number of merge rules.
    pub fn n_merges(&self) -> usize {
        self.merges.len()
    }

    /// Number of added tokens.
    pub fn n_added(&self) -> usize {
        self.added.len()
    }

    /// The settings.
    pub fn config(&self) -> &BpeConfig {
        &self.config
    }

    /// Byte length of the longest token.
    pub fn max_token_len(&self) -> usize {
        self.max_token_len
    }

    /// The raw bytes of token `id` (not always UTF-8 on their own), `None` if `id >= n_vocab()`.
    pub fn token(&self, id: u32) -> Option<&'a [u8]> {
        let i = id as usize;
        let (a, b) = (*self.token_offsets.get(i)?, *self.token_offsets.get(i.checked_add(1)?)?);
        self.token_bytes.get(a as usize..b as usize)
    }

    /// Whether `id` is a special added token (`<|endoftext|>`, `<|im_start|>`, ...).
    pub fn is_special(&self, id: u32) -> bool {
        self.added.flags(id) & ADDED_SPECIAL != 0
    }

    /// A [`Decoder`] for this tokenizer's ids (`skip_special`: special tokens decode to nothing).
    pub fn decoder(&self, skip_special: bool) -> Decoder<'_, 'a> {
        Decoder::new(self, skip_special)
    }

    /// Scratch (u32 elements) that [`encode`](Self::encode) needs for any text of `text_len`
    /// bytes: `2 * text_len` (no word is longer than the text).
    pub fn scratch_len(text_len: usize) -> usize {
        text_len.saturating_mul(2)
    }

    /// The exact scratch `text` needs: `2 * n` for its longest word of `n > 1` bytes, else 0.
    pub fn scratch_len_for(&self, text: &str) -> usize {
        let mut longest = 0usize;
        let _ = self.for_each_word(text, &mut |w| {
            longest = longest.max(w.len());
            ControlFlow::Continue(())
        });
        if longest > 1 {
            longest * 2
        } else {
            0
        }
    }

    /// Tokenizes `text` into `ids` (no BOS/EOS added), as the reference's
    /// `encode(text, add_special_tokens=False)`. Ids that do not fit are dropped and flagged.
    ///
    /// `scratch` needs `2 * n` u32 for the longest word of `n > 1` bytes
    /// ([`scratch_len`](Self::scratch_len) of the text's length always suffices); a shorter one
    /// gives [`Error::BufferTooSmall`] (with `ids` partly written).
    pub fn encode(&self, text: &str, ids: &mut [u32], scratch: &mut [u32]) -> Result<BpeEncoding, Error> {
        let (mut len, mut truncated) = (0usize, false);
        self.for_each_id(text, scratch, |id| match ids.get_mut(len) {
            Some(slot) => {
                *slot = id;
                len += 1;
                ControlFlow::Continue(())
            }
            None => {
                truncated = true;
                ControlFlow::Break(())
            }
        })?;
        Ok(BpeEncoding { len, truncated })
    }

    /// Calls `f` with each id of `text`, in order, until it breaks (see [`encode`](Self::encode)
    /// for `scratch`).
    pub fn for_each_id<F>(&self, text: &str, scratch: &mut [u32], mut f: F) -> Result<(), Error>
    where
        F: FnMut(u32) -> ControlFlow<()>,
    {
        let mut failed = None;
        let _ = self.added.for_each_segment(text, |seg| match seg {
            Segment::Token(id) => f(id),
            Segment::Text(t) => self.config.pre_tokenizer.for_each_word(t, |w| {
                match self.word_ids(w.as_bytes(), scratch, &mut f) {
                    Ok(flow) => flow,
                    Err(e) => {
                        failed = Some(e);
                        ControlFlow::Break(())
                    }
                }
            }),
        });
        failed.map_or(Ok(()), Err)
    }

    /// Calls `f` with each word (pre-token) of `text`, added tokens left out.
    fn for_each_word(&self, text: &str, f: &mut dyn FnMut(&str) -> ControlFlow<()>) -> ControlFlow<()> {
        self.added.for_each_segment(text, |seg| match seg {
            Segment::Token(_) => ControlFlow::Continue(()),
            Segment::Text(t) => self.config.pre_tokenizer.for_each_word(t, &mut *f),
        })
    }

    /// BPE of one word: its ids to `f`.
    fn word_ids<F>(&self, word: &[u8], scratch: &mut [u32], f: &mut F) -> Result<ControlFlow<()>, Error>
    where
        F: FnMut(u32) -> ControlFlow<()>,
    {
        if self.config.ignore_merges {
            if let Some(id) = self.lookup(word) {
                return Ok(f(id));
            }
        }
        if let [b] = word {
            return Ok(self.byte_symbol(*b).map_or(ControlFlow::Continue(()), &mut *f));
        }
        let needed = word.len().saturating_mul(2);
        let got = scratch.len();
        let (syms, ranks) =
            scratch.get_mut(..needed).ok_or(Error::BufferTooSmall { needed, got })?.split_at_mut(word.len());
        let mut n = 0usize;
        for id in word.iter().filter_map(|&b| self.byte_symbol(b)) {
            if let Some(slot) = syms.get_mut(n) {
                *slot = id;
                n += 1;
            }
        }
        let n = self.merges.apply(syms.get_mut(..n).unwrap_or(&mut []), ranks);
        for &id in syms.get(..n).unwrap_or(&[]) {
            if f(id).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// The symbol byte `b` starts as: its token, else `unk`, else none (dropped).
    fn byte_symbol(&self, b: u8) -> Option<u32> {
        let id = self.byte_ids.get(usize::from(b)).copied().unwrap_or(NO_ID);
        if id == NO_ID {
            self.config.unk
        } else {
            Some(id)
        }
    }

    /// The id whose bytes are `word`, among the `sorted` plane.
    fn lookup(&self, word: &[u8]) -> Option<u32> {
        let i = self.sorted.binary_search_by(|&id| self.cmp_token(id, word)).ok()?;
        self.sorted.get(i).copied()
    }

    /// Orders token `id` against `key`.
    fn cmp_token(&self, id: u32, key: &[u8]) -> Ordering {
        self.token(id).unwrap_or(&[]).cmp(key)
    }
}

/// Checks the offsets plane against the bytes plane; returns the longest token's length.
fn check_offsets(bytes: &[u8], offsets: &[u32]) -> Result<usize, Error> {
    let (Some(&0), Some(&last)) = (offsets.first(), offsets.last()) else {
        return Err(Error::BadVocab);
    };
    if last as usize != bytes.len() || offsets.len() - 1 > NO_ID as usize {
        return Err(Error::BadVocab);
    }
    let mut longest = 0usize;
    for w in offsets.windows(2) {
        let &[a, b] = w else { continue };
        if b < a {
            return Err(Error::BadVocab);
        }
        longest = longest.max((b - a) as usize);
    }
    Ok(longest)
}

//! Host side (`std`): building the planes of [`Bpe`](super::Bpe) from tokens, merges and added
//! tokens, and GPT-2's byte-to-unicode mapping that byte-level vocabularies are written in.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{added, Bpe, BpeConfig, BpePlanes, NO_ID};
use crate::Error;

/// The 256 chars GPT-2 writes bytes as: printable Latin-1 bytes stand for themselves, the others
/// (control chars, space, 0x7F..=0xA0, 0xAD) for U+0100 onwards, in byte order.
pub fn byte_level_chars() -> [char; 256] {
    let mut chars = ['\0'; 256];
    let mut next = 0x100u32;
    for (b, slot) in (0u32..).zip(chars.iter_mut()) {
        let printable = matches!(b, 0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF);
        let code = if printable {
            b
        } else {
            next += 1;
            next - 1
        };
        *slot = char::from_u32(code).unwrap_or('\0');
    }
    chars
}

/// The bytes a byte-level token string stands for, `None` if a char is not one of
/// [`byte_level_chars`] (then the reference decodes the string as its own UTF-8 bytes).
pub fn byte_level_to_bytes(s: &str) -> Option<Vec<u8>> {
    let chars = byte_level_chars();
    s.chars().map(|c| chars.iter().position(|&x| x == c).and_then(|i| u8::try_from(i).ok())).collect()
}

/// A token matched in the raw text before pre-tokenization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedToken {
    /// The text matched (UTF-8, non-empty).
    pub content: Vec<u8>,
    /// Its id.
    pub id: u32,
    /// Special (`<|endoftext|>`, ...): decoders can skip it.
    pub special: bool,
    /// `normalized=true` in the reference: matched after the non-normalized ones, in the text
    /// between them.
    pub normalized: bool,
}

impl AddedToken {
    /// A special, non-normalized token (how `<|endoftext|>` and chat markers are added).
    pub fn special(content: &[u8], id: u32) -> Self {
        Self { content: content.to_vec(), id, special: true, normalized: false }
    }
}

/// Why the planes could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError(pub String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Collects a BPE tokenizer's data and builds its planes ([`BpeOwned`]).
#[derive(Debug, Clone)]
pub struct BpeBuilder {
    /// Raw bytes of every token, in id order.
    pub tokens: Vec<Vec<u8>>,
    /// Per token: whether a word can match it (it is a byte-level token, the one the reference's
    /// vocabulary maps its string to). Default: all.
    pub word_token: Vec<bool>,
    /// Merge rules as `(left, right)` ids, in rank order (a repeated pair keeps its last rank, as
    /// the reference's map does).
    pub merges: Vec<(u32, u32)>,
    /// Added tokens.
    pub added: Vec<AddedToken>,
    /// Settings.
    pub config: BpeConfig,
}

impl BpeBuilder {
    /// A builder over `tokens` (raw bytes, id order), every token a word token, no merges.
    pub fn new(tokens: Vec<Vec<u8>>, config: BpeConfig) -> Self {
        let word_token = alloc::vec![true; tokens.len()];
        Self { tokens, word_token, merges: Vec::new(), added: Vec::new(), config }
    }

    /// Sets the merge rules (rank order).
    pub fn merges(mut self, merges: Vec<(u32, u32)>) -> Self {
        self.merges = merges;
        self
    }

    /// Adds an added token.
    pub fn added_token(mut self, token: AddedToken) -> Self {
        self.added.push(token);
        self
    }

    /// Builds the planes; fails when an id is out of range, two word tokens share their bytes, a
    /// merge's result is not a word token, or the core rejects the result.
    pub fn build(&self) -> Result<BpeOwned, BuildError> {
        let err = |m: String| BuildError(m);
        let n = self.tokens.len();
        let mut token_bytes = Vec::new();
        let mut token_offsets = Vec::with_capacity(n + 1);
        token_offsets.push(0u32);
        for t in &self.tokens {
            token_bytes.extend_from_slice(t);
            token_offsets
                .push(u32::try_from(token_bytes.len()).map_err(|_| err("vocabulary over 4 GiB".into()))?);
        }
        let by_bytes = self.word_index()?;
        let merges = self.merge_table(&by_bytes)?;
        let mut byte_ids = alloc::vec![NO_ID; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            if let Some(&id) = by_bytes.get(&[b as u8][..]) {
                *slot = id;
            }
        }
        let sorted =
            if self.config.ignore_merges { by_bytes.values().copied().collect() } else { Vec::new() };
        let mut added_bytes = Vec::new();
        let mut added_table = Vec::new();
        for a in &self.added {
            if a.content.is_empty() || core::str::from_utf8(&a.content).is_err() || a.id as usize >= n {
                return Err(err(alloc::format!("added token {}: empty, not UTF-8 or id out of range", a.id)));
            }
            added_bytes.extend_from_slice(&a.content);
            let flags = u32::from(a.special) * added::ADDED_SPECIAL
                + u32::from(a.normalized) * added::ADDED_NORMALIZED;
            let end = u32::try_from(added_bytes.len()).map_err(|_| err("added tokens over 4 GiB".into()))?;
            added_table.extend_from_slice(&[a.id, end, flags]);
        }
        let owned = BpeOwned {
            token_bytes,
            token_offsets,
            merges,
            byte_ids,
            sorted,
            added_bytes,
            added: added_table,
            config: self.config,
        };
        owned.tokenizer().map_err(|e| err(alloc::format!("planes rejected by the core: {e}")))?;
        Ok(owned)
    }

    /// Word tokens by their bytes (each bytes string once).
    fn word_index(&self) -> Result<BTreeMap<&[u8], u32>, BuildError> {
        let mut by_bytes = BTreeMap::new();
        for (id, t) in self.tokens.iter().enumerate() {
            if !self.word_token.get(id).copied().unwrap_or(false) {
                continue;
            }
            let id = u32::try_from(id).map_err(|_| BuildError("over u32::MAX tokens".into()))?;
            if let Some(prev) = by_bytes.insert(t.as_slice(), id) {
                return Err(BuildError(alloc::format!(
                    "word tokens {prev} and {id} have the same bytes {t:?}"
                )));
            }
        }
        Ok(by_bytes)
    }

    /// The flat `(left, right, rank, merged)` table, sorted by `(left, right)`.
    fn merge_table(&self, by_bytes: &BTreeMap<&[u8], u32>) -> Result<Vec<u32>, BuildError> {
        let mut table: BTreeMap<(u32, u32), (u32, u32)> = BTreeMap::new();
        for (rank, &(l, r)) in self.merges.iter().enumerate() {
            let (Some(lb), Some(rb)) = (self.tokens.get(l as usize), self.tokens.get(r as usize)) else {
                return Err(BuildError(alloc::format!("merge {rank}: id out of range")));
            };
            let joined: Vec<u8> = lb.iter().chain(rb).copied().collect();
            let Some(&m) = by_bytes.get(joined.as_slice()) else {
                return Err(BuildError(alloc::format!("merge {rank}: result {joined:?} is not a token")));
            };
            let rank = u32::try_from(rank).map_err(|_| BuildError("too many merges".into()))?;
            table.insert((l, r), (rank, m));
        }
        Ok(table.into_iter().flat_map(|((l, r), (rank, m))| [l, r, rank, m]).collect())
    }
}

/// The planes of a BPE tokenizer, owned (what the blob writer stores; see [`BpePlanes`] for the
/// layout of each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BpeOwned {
    /// `tokenizer.bpe.token_bytes`.
    pub token_bytes: Vec<u8>,
    /// `tokenizer.bpe.token_offsets`.
    pub token_offsets: Vec<u32>,
    /// `tokenizer.bpe.merges`.
    pub merges: Vec<u32>,
    /// `tokenizer.bpe.byte_ids`.
    pub byte_ids: Vec<u32>,
    /// `tokenizer.bpe.sorted`.
    pub sorted: Vec<u32>,
    /// `tokenizer.bpe.added_bytes`.
    pub added_bytes: Vec<u8>,
    /// `tokenizer.bpe.added`.
    pub added: Vec<u32>,
    /// Settings (header fields).
    pub config: BpeConfig,
}

impl BpeOwned {
    /// Borrowed views of the planes.
    pub fn planes(&self) -> BpePlanes<'_> {
        BpePlanes {
            token_bytes: &self.token_bytes,
            token_offsets: &self.token_offsets,
            merges: &self.merges,
            byte_ids: &self.byte_ids,
            sorted: &self.sorted,
            added_bytes: &self.added_bytes,
            added: &self.added,
        }
    }

    /// The tokenizer over these planes.
    pub fn tokenizer(&self) -> Result<Bpe<'_>, Error> {
        Bpe::new(self.planes(), self.config)
    }

    /// Total bytes of the planes (their size in the blob, before alignment padding).
    pub fn size_bytes(&self) -> usize {
        let words = self.token_offsets.len()
            + self.merges.len()
            + self.byte_ids.len()
            + self.sorted.len()
            + self.added.len();
        self.token_bytes.len() + self.added_bytes.len() + 4 * words
    }
}

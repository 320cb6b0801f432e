//! Incremental decoding: ids in, complete UTF-8 out, one id at a time.
//!
//! The reference decodes a whole sequence as `String::from_utf8_lossy(concatenated token bytes)`.
//! [`Decoder`] gives the same text piece by piece: it writes every char as soon as its last byte
//! arrives, holds back at most 3 bytes of an unfinished char, and replaces each invalid sequence
//! (each maximal subpart of one, the rule `from_utf8_lossy` follows) by U+FFFD as soon as it is
//! known to be invalid; [`Decoder::finish`] turns an unfinished char at the end into one U+FFFD.

use super::Bpe;
use crate::Error;

/// U+FFFD REPLACEMENT CHARACTER in UTF-8.
const REPLACEMENT: &[u8; 3] = b"\xEF\xBF\xBD";

/// Streaming UTF-8 state: the bytes of an unfinished char and what the next byte may be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Utf8State {
    /// Bytes of the char so far (`len` of them).
    buf: [u8; 4],
    /// 0..=3 bytes held.
    len: u8,
    /// Bytes still missing for the held char.
    missing: u8,
    /// Valid range of the next byte, inclusive.
    lo: u8,
    /// See `lo`.
    hi: u8,
}

impl Utf8State {
    /// Feeds `b`, calling `out` with the bytes that became final (whole chars or U+FFFD).
    fn push(&mut self, b: u8, out: &mut impl FnMut(&[u8])) {
        if self.len > 0 {
            if (self.lo..=self.hi).contains(&b) {
                if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
                    *slot = b;
                }
                self.len += 1;
                self.missing -= 1;
                (self.lo, self.hi) = (0x80, 0xBF);
                if self.missing == 0 {
                    out(self.buf.get(..usize::from(self.len)).unwrap_or(&[]));
                    *self = Self::default();
                }
                return;
            }
            // The held bytes are a maximal subpart of an invalid sequence: one U+FFFD, then `b`
            // starts afresh.
            out(REPLACEMENT);
            *self = Self::default();
        }
        let (missing, lo, hi) = match b {
            0x00..=0x7F => return out(&[b]),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return out(REPLACEMENT),
        };
        *self = Self { buf: [b, 0, 0, 0], len: 1, missing, lo, hi };
    }
}

/// Turns ids into UTF-8 text incrementally, exactly as the reference's `decode` of the whole
/// sequence would (see the module docs of `decode.rs`).
///
/// Ids that are not in the vocabulary decode to nothing, as in the reference. With
/// `skip_special`, special added tokens decode to nothing too (the reference's
/// `skip_special_tokens=True`).
///
/// ```
/// # #[cfg(feature = "std")] {
/// use picoformer::tokenizer::bpe::{BpeBuilder, BpeConfig, PreTokenizer};
/// // A byte-level vocabulary: the 256 bytes, no merges.
/// let tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
/// let owned = BpeBuilder::new(tokens, BpeConfig::new(PreTokenizer::Gpt2)).build().unwrap();
/// let bpe = owned.tokenizer().unwrap();
/// let mut dec = bpe.decoder(false);
/// let mut out = [0u8; 16];
/// // "é" is two tokens (0xC3, 0xA9): nothing comes out until the char is complete.
/// assert_eq!(dec.push(0xC3, &mut out).unwrap(), "");
/// assert_eq!(dec.push(0xA9, &mut out).unwrap(), "é");
/// assert_eq!(dec.push(0xE2, &mut out).unwrap(), "");
/// assert_eq!(dec.finish(&mut out).unwrap(), "\u{FFFD}");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Decoder<'t, 'a> {
    /// The tokenizer whose ids are decoded.
    bpe: &'t Bpe<'a>,
    /// Drop special added tokens.
    skip_special: bool,
    /// The unfinished char.
    state: Utf8State,
}

impl<'t, 'a> Decoder<'t, 'a> {
    /// A decoder for `bpe`'s ids with nothing held.
    pub fn new(bpe: &'t Bpe<'a>, skip_special: bool) -> Self {
        Self { bpe, skip_special, state: Utf8State::default() }
    }

    /// Output bytes that one [`push`](Self::push) can need at most:
    /// `3 * (bpe.max_token_len() + 3)` (every byte a U+FFFD in the worst case).
    pub fn max_output_len(&self) -> usize {
        3 * (self.bpe.max_token_len() + 3)
    }

    /// Decodes `id`, writes the text that became complete into `out` and returns it (possibly
    /// empty). Fails with [`Error::BufferTooSmall`] (nothing consumed, the state unchanged) when
    /// `out` cannot hold it; [`max_output_len`](Self::max_output_len) bytes always suffice.
    pub fn push<'o>(&mut self, id: u32, out: &'o mut [u8]) -> Result<&'o str, Error> {
        let bytes = match self.bpe.token(id) {
            Some(_) if self.skip_special && self.bpe.is_special(id) => &[][..],
            Some(t) => t,
            None => &[][..],
        };
        let mut trial = self.state;
        let mut needed = 0usize;
        for &b in bytes {
            trial.push(b, &mut |s| needed += s.len());
        }
        if needed > out.len() {
            return Err(Error::BufferTooSmall { needed, got: out.len() });
        }
        let mut written = 0usize;
        for &b in bytes {
            self.state.push(b, &mut |s| {
                if let Some(dst) = out.get_mut(written..written + s.len()) {
                    dst.copy_from_slice(s);
                }
                written += s.len();
            });
        }
        as_str(out, written)
    }

    /// Ends the sequence: an unfinished char becomes one U+FFFD (at most 3 bytes of `out`).
    /// The decoder is then empty and can start a new sequence.
    pub fn finish<'o>(&mut self, out: &'o mut [u8]) -> Result<&'o str, Error> {
        if self.state.len == 0 {
            return Ok("");
        }
        let got = out.len();
        let dst = out.get_mut(..REPLACEMENT.len()).ok_or(Error::BufferTooSmall { needed: 3, got })?;
        dst.copy_from_slice(REPLACEMENT);
        self.state = Utf8State::default();
        as_str(out, REPLACEMENT.len())
    }

    /// Bytes of an unfinished char held back (0..=3).
    pub fn pending(&self) -> usize {
        usize::from(self.state.len)
    }
}

/// The first `len` bytes of `out` as text (they are valid UTF-8 by construction).
fn as_str(out: &[u8], len: usize) -> Result<&str, Error> {
    let bytes = out.get(..len).ok_or(Error::BufferTooSmall { needed: len, got: out.len() })?;
    core::str::from_utf8(bytes).map_err(|_| Error::BadVocab)
}

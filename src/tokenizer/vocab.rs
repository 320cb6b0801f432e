//! Zero-copy vocabulary: three planes borrowed from the model blob (possibly in flash).

use crate::Error;
use core::cmp::Ordering;

/// A validated, borrowed vocabulary of `len()` tokens.
///
/// Planes (all borrowed, never copied):
/// - `strings`: every token's UTF-8 bytes, concatenated in id order;
/// - `offsets`: `len() + 1` byte offsets, token `i` is `strings[offsets[i]..offsets[i + 1]]`;
/// - `sorted`: token ids ordered by their bytes (strictly increasing, so no two entries share a
///   string), for lookups by binary search. When the source vocabulary repeats a string, only the
///   id the reference maps it to is listed (for `vocab.txt`: the last occurrence); ids absent
///   from `sorted` can still be decoded with [`Vocab::token`] but are never looked up.
#[derive(Debug, Clone, Copy)]
pub struct Vocab<'a> {
    /// All token bytes, valid UTF-8, every offset on a char boundary.
    strings: &'a str,
    /// (len + 1): start of each token in `strings`, then the end.
    offsets: &'a [u32],
    /// (<= len): ids in byte order of their tokens.
    sorted: &'a [u32],
    /// Byte length of the longest token.
    max_token_len: usize,
}

impl<'a> Vocab<'a> {
    /// Validates the planes once (O(total bytes)) and wraps them.
    ///
    /// Fails with [`Error::BadVocab`] unless: `offsets` is non-empty, starts at 0, never
    /// decreases and ends at `strings.len()`; every token is valid UTF-8; there are at most
    /// `u32::MAX` tokens; every id in `sorted` is below `len()` and their tokens strictly increase
    /// in byte order.
    pub fn new(strings: &'a [u8], offsets: &'a [u32], sorted: &'a [u32]) -> Result<Self, Error> {
        let strings = core::str::from_utf8(strings).map_err(|_| Error::BadVocab)?;
        let (Some(&0), Some(&last)) = (offsets.first(), offsets.last()) else {
            return Err(Error::BadVocab);
        };
        if last as usize != strings.len() || offsets.len() - 1 > u32::MAX as usize {
            return Err(Error::BadVocab);
        }
        let mut max_token_len = 0;
        for w in offsets.windows(2) {
            let &[a, b] = w else { continue };
            let (a, b) = (a as usize, b as usize);
            if b < a || !strings.is_char_boundary(b) {
                return Err(Error::BadVocab);
            }
            max_token_len = max_token_len.max(b - a);
        }
        let vocab = Self { strings, offsets, sorted, max_token_len };
        vocab.check_sorted()?;
        Ok(vocab)
    }

    fn check_sorted(&self) -> Result<(), Error> {
        let mut prev: Option<&[u8]> = None;
        for &id in self.sorted {
            let bytes = self.token(id).ok_or(Error::BadVocab)?.as_bytes();
            if prev.is_some_and(|p| p >= bytes) {
                return Err(Error::BadVocab);
            }
            prev = Some(bytes);
        }
        Ok(())
    }

    /// Number of tokens (ids are `0..len()`).
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether the vocabulary has no tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Byte length of the longest token.
    pub fn max_token_len(&self) -> usize {
        self.max_token_len
    }

    /// The token with id `id`, or `None` if `id >= len()`.
    pub fn token(&self, id: u32) -> Option<&'a str> {
        let i = id as usize;
        let (a, b) = (*self.offsets.get(i)?, *self.offsets.get(i.checked_add(1)?)?);
        self.strings.get(a as usize..b as usize)
    }

    /// The id of token `s`, by binary search over `sorted`.
    pub fn id(&self, s: &str) -> Option<u32> {
        self.id_with_prefix("", s)
    }

    /// The id of the token `prefix` + `piece` (e.g. `"##"` + `"ing"`), without building it.
    pub fn id_with_prefix(&self, prefix: &str, piece: &str) -> Option<u32> {
        let key = || prefix.bytes().chain(piece.bytes());
        let i = self.sorted.binary_search_by(|&id| self.cmp_token(id, key())).ok()?;
        self.sorted.get(i).copied()
    }

    /// Orders token `id` against the bytes of `key`.
    fn cmp_token(&self, id: u32, key: impl Iterator<Item = u8>) -> Ordering {
        let token = self.token(id).unwrap_or("");
        token.bytes().cmp(key)
    }
}

/// Builds the three planes of [`Vocab::new`] from tokens in id order (host side: the blob writer
/// and tests). A repeated string keeps its last id in `sorted`, as the reference's `vocab.txt`
/// loader does.
///
/// # Panics
/// If there are more than `u32::MAX` tokens or more than `u32::MAX` bytes of them.
#[cfg(feature = "std")]
pub fn build_planes(tokens: &[&str]) -> (alloc::vec::Vec<u8>, alloc::vec::Vec<u32>, alloc::vec::Vec<u32>) {
    use alloc::vec::Vec;
    let to_u32 = |n: usize| u32::try_from(n).expect("vocabulary larger than u32::MAX");
    let mut strings = Vec::new();
    let mut offsets = Vec::with_capacity(tokens.len() + 1);
    offsets.push(0);
    for t in tokens {
        strings.extend_from_slice(t.as_bytes());
        offsets.push(to_u32(strings.len()));
    }
    let mut sorted: Vec<u32> = (0..to_u32(tokens.len())).collect();
    let bytes = |id: u32| tokens[id as usize].as_bytes();
    // Equal strings: highest id first, then keep the first of each run.
    sorted.sort_by(|&a, &b| bytes(a).cmp(bytes(b)).then(b.cmp(&a)));
    sorted.dedup_by(|a, b| bytes(*a) == bytes(*b));
    (strings, offsets, sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRINGS: &[u8] = b"[UNK]hello##llohe";
    const OFFSETS: &[u32] = &[0, 5, 10, 15, 17];
    // "##llo" < "[UNK]" < "he" < "hello"
    const SORTED: &[u32] = &[2, 0, 3, 1];

    #[test]
    fn lookups() {
        let v = Vocab::new(STRINGS, OFFSETS, SORTED).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v.max_token_len(), 5);
        assert_eq!(v.token(1), Some("hello"));
        assert_eq!(v.token(4), None);
        assert_eq!(v.token(u32::MAX), None);
        assert_eq!(v.id("he"), Some(3));
        assert_eq!(v.id("hel"), None);
        assert_eq!(v.id_with_prefix("##", "llo"), Some(2));
        assert_eq!(v.id_with_prefix("#", "#llo"), Some(2));
        assert_eq!(v.id_with_prefix("##", "ll"), None);
    }

    #[test]
    fn rejects_bad_planes() {
        let bad = |s: &[u8], o: &[u32], x: &[u32]| Vocab::new(s, o, x).unwrap_err() == Error::BadVocab;
        assert!(bad(STRINGS, &[], SORTED));
        assert!(bad(STRINGS, &[1, 5, 10, 15, 17], SORTED));
        assert!(bad(STRINGS, &[0, 5, 10, 15, 16], SORTED));
        assert!(bad(STRINGS, &[0, 5, 10, 15, 18], SORTED));
        assert!(bad(STRINGS, &[0, 10, 5, 15, 17], SORTED));
        assert!(bad(STRINGS, OFFSETS, &[0, 2, 3, 1]));
        assert!(bad(STRINGS, OFFSETS, &[2, 0, 3, 1, 1]));
        assert!(bad(STRINGS, OFFSETS, &[2, 0, 3, 4]));
        assert!(bad(b"\xFFbc", &[0, 1, 3], &[0, 1]));
        // "é" split in the middle: the whole is UTF-8, the tokens are not.
        assert!(bad("é".as_bytes(), &[0, 1, 2], &[0, 1]));
        // Duplicate strings listed twice.
        assert!(bad(b"aa", &[0, 1, 2], &[0, 1]));
        assert!(Vocab::new(b"aa", &[0, 1, 2], &[1]).is_ok());
        assert!(Vocab::new(b"", &[0], &[]).is_ok_and(|v| v.is_empty()));
    }
}

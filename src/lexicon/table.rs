//! The lexicon table: words and their mean ratings, read in place from two blob sections.
//!
//! ```text
//! lexicon.words   U8   [bytes]  entries in ascending byte order, in blocks of BLOCK entries; an
//!                               entry is [shared: u8][suffix: 1.. bytes 0x21..=0x7E, no A-Z]
//!                               [0x80 | (rating x 10 + 64)]; `shared` bytes of the previous
//!                               entry of the block start the word, the suffix follows (0 for a
//!                               block's first entry)
//! lexicon.blocks  U32  [blocks] byte offset in `lexicon.words` of each block's first entry
//! ```
//! Words are lowercase ASCII of at most [`MAX_WORD`] bytes; a rating is -6.4..=6.3 in tenths
//! (VADER's lie in -3.9..=3.4). Front coding keeps VADER's 7,488 matchable entries in 38,660 bytes.

use crate::{Error, Result};

/// Entries per block (the binary search finds the block, a scan the entry).
pub const BLOCK: usize = 16;
/// Longest word, in bytes.
pub const MAX_WORD: usize = 32;
/// Prefix of the table's section names.
pub const TABLE: &str = "lexicon";
/// Section holding the entries.
pub const WORDS: &str = "lexicon.words";
/// Section holding the block offsets.
pub const BLOCKS: &str = "lexicon.blocks";

/// A validated lexicon table borrowed from the blob.
#[derive(Debug, Clone, Copy)]
pub struct Lexicon<'a> {
    words: &'a [u8],
    blocks: &'a [u32],
    len: usize,
}

const BAD: Error = Error::BadTable { name: TABLE };

impl<'a> Lexicon<'a> {
    /// Checks every entry once (order, characters, block offsets) so that lookups cannot fail.
    pub fn new(words: &'a [u8], blocks: &'a [u32]) -> Result<Self> {
        let mut entries = Entries::new(words, 0);
        let mut prev = [0u8; MAX_WORD];
        let mut prev_len = 0;
        let mut n = 0usize;
        while entries.at < words.len() {
            let at = entries.at;
            let first = n.is_multiple_of(BLOCK);
            if first && blocks.get(n / BLOCK).map(|&b| b as usize) != Some(at) {
                return Err(BAD);
            }
            let mut word = prev;
            let (len, _) = entries.next_into(&mut word, if first { 0 } else { prev_len }).ok_or(BAD)?;
            let (w, p) = (word.get(..len).ok_or(BAD)?, prev.get(..prev_len).ok_or(BAD)?);
            if n > 0 && w <= p {
                return Err(BAD);
            }
            prev = word;
            prev_len = len;
            n += 1;
        }
        if blocks.len() != n.div_ceil(BLOCK) {
            return Err(BAD);
        }
        Ok(Lexicon { words, blocks, len: n })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rating of `word` (lowercase ASCII bytes), in tenths.
    pub fn tenths(&self, word: &[u8]) -> Option<i8> {
        // the last block whose first word is <= word
        let mut buf = [0u8; MAX_WORD];
        let first_le = |b: &u32| {
            let mut e = Entries::new(self.words, *b as usize);
            let mut w = [0u8; MAX_WORD];
            let (len, _) = e.next_into(&mut w, 0).unwrap_or((0, 0));
            w.get(..len).unwrap_or(&[]) <= word
        };
        let block = self.blocks.partition_point(first_le).checked_sub(1)?;
        let mut e = Entries::new(self.words, *self.blocks.get(block)? as usize);
        let mut len = 0;
        for i in 0..BLOCK {
            let (l, tenths) = e.next_into(&mut buf, if i == 0 { 0 } else { len })?;
            len = l;
            let w = buf.get(..len)?;
            if w == word {
                return Some(tenths);
            }
            if w > word {
                return None;
            }
        }
        None
    }

    /// VADER's rating of `word` (lowercase ASCII) as Python reads it: the nearest `f64` to the
    /// decimal in the lexicon file (tenths / 10 is correctly rounded).
    pub fn rating(&self, word: &[u8]) -> Option<f64> {
        self.tenths(word).map(|t| f64::from(t) / 10.0)
    }
}

/// A cursor over the entries from a byte offset.
struct Entries<'a> {
    words: &'a [u8],
    at: usize,
}

impl<'a> Entries<'a> {
    fn new(words: &'a [u8], at: usize) -> Self {
        Entries { words, at }
    }

    /// Decodes the entry at the cursor into `word` (whose first `prev_len` bytes hold the previous
    /// entry): its length and rating in tenths, or `None` if it is malformed.
    fn next_into(&mut self, word: &mut [u8; MAX_WORD], prev_len: usize) -> Option<(usize, i8)> {
        let shared = *self.words.get(self.at)? as usize;
        if shared > prev_len {
            return None;
        }
        let mut len = shared;
        self.at += 1;
        loop {
            let b = *self.words.get(self.at)?;
            self.at += 1;
            if b >= 0x80 {
                // the rating byte ends the entry; the suffix must not be empty
                return (len > shared).then_some((len, (b & 0x7F) as i8 - 64));
            }
            if !(0x21..=0x7E).contains(&b) || b.is_ascii_uppercase() {
                return None;
            }
            *word.get_mut(len)? = b;
            len += 1;
        }
    }
}

/// The two sections' bytes for `entries` (word, rating in tenths); words are sorted here. Words
/// that are not lowercase ASCII without spaces, or longer than [`MAX_WORD`], can never equal a
/// lowercased VADER word and are the caller's to leave out: they are refused.
#[cfg(feature = "std")]
pub fn encode(
    entries: &[(&str, i8)],
) -> core::result::Result<(alloc::vec::Vec<u8>, alloc::vec::Vec<u32>), alloc::string::String> {
    use alloc::{format, vec::Vec};
    let mut sorted: Vec<(&str, i8)> = entries.to_vec();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let (mut words, mut blocks) = (Vec::new(), Vec::new());
    let mut prev: &[u8] = &[];
    for (i, &(w, tenths)) in sorted.iter().enumerate() {
        let b = w.as_bytes();
        if b.is_empty()
            || b.len() > MAX_WORD
            || b.iter().any(|&c| !(0x21..=0x7E).contains(&c) || c.is_ascii_uppercase())
        {
            return Err(format!("lexicon word {w:?}: not 1..={MAX_WORD} lowercase printable ASCII bytes"));
        }
        if !(-64..=63).contains(&tenths) {
            return Err(format!("lexicon word {w:?}: rating {tenths} tenths outside -64..=63"));
        }
        if i > 0 && b == prev {
            return Err(format!("lexicon word {w:?} twice"));
        }
        let shared = if i.is_multiple_of(BLOCK) {
            blocks.push(words.len() as u32);
            0
        } else {
            b.iter().zip(prev).take_while(|(x, y)| x == y).count()
        };
        words.push(shared as u8);
        words.extend_from_slice(&b[shared..]);
        words.push(0x80 | (tenths + 64) as u8);
        prev = b;
    }
    Ok((words, blocks))
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_finds_every_word() {
        let list: [(&str, i8); 40] = core::array::from_fn(|i| {
            let w: &'static str = ["a", "ab", "abc", "abd", "b", "ba", ":)", "</3", "zz", "no"][i % 10];
            (w, i as i8 - 20)
        });
        let uniq: alloc::vec::Vec<(&str, i8)> = list[..10].to_vec();
        let (words, blocks) = encode(&uniq).unwrap();
        let lex = Lexicon::new(&words, &blocks).unwrap();
        assert_eq!(lex.len(), 10);
        for (w, t) in &uniq {
            assert_eq!(lex.tenths(w.as_bytes()), Some(*t), "{w}");
        }
        for miss in ["", "aa", "abe", "c", "zzz", "!", "noo"] {
            assert_eq!(lex.tenths(miss.as_bytes()), None, "{miss}");
        }
        assert_eq!(lex.rating(b"ab"), Some(-1.9));
        assert!(
            encode(&[("Bad", 1)]).is_err()
                && encode(&[("a b", 1)]).is_err()
                && encode(&[("x", 1), ("x", 2)]).is_err()
        );
    }

    #[test]
    fn refuses_a_malformed_table() {
        let many: alloc::vec::Vec<alloc::string::String> =
            (0..40).map(|i| alloc::format!("w{i:02}")).collect();
        let list: alloc::vec::Vec<(&str, i8)> = many.iter().map(|w| (w.as_str(), 5)).collect();
        let (words, blocks) = encode(&list).unwrap();
        assert_eq!(Lexicon::new(&words, &blocks).unwrap().len(), 40);
        for i in 0..words.len() {
            for v in [0u8, b'A', b' ', 0x7F, 0x80, 40] {
                let mut bad = words.clone();
                bad[i] = v;
                if let Ok(lex) = Lexicon::new(&bad, &blocks) {
                    // a change that keeps the table valid must still find words without panicking
                    for w in &many {
                        let _ = lex.tenths(w.as_bytes());
                    }
                }
            }
        }
        assert!(Lexicon::new(&words, &blocks[1..]).is_err());
        assert!(Lexicon::new(&words[..words.len() - 1], &blocks).is_err());
        let mut shifted = blocks.clone();
        shifted[1] += 1;
        assert!(Lexicon::new(&words, &shifted).is_err());
    }
}

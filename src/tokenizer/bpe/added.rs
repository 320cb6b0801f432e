//! Added tokens (`<|endoftext|>`, `<|im_start|>`, ...): found in the raw text before
//! pre-tokenization, leftmost first, the longest at a position, as the reference's
//! `AddedVocabulary` does (Aho-Corasick, leftmost-longest).

use crate::Error;
use core::ops::ControlFlow;

/// Flag bit: a special token (`decode` can skip it).
pub const ADDED_SPECIAL: u32 = 1;
/// Flag bit: `normalized=true` in the reference, matched in a second pass, inside the text left
/// between the tokens without this bit.
pub const ADDED_NORMALIZED: u32 = 2;

/// One entry of the added-token table: `(id, end of its content in the bytes plane, flags)`.
type Entry = [u32; 3];

/// A piece of text as split by the added tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'t> {
    /// Text between added tokens, to be pre-tokenized and merged.
    Text(&'t str),
    /// An added token's id.
    Token(u32),
}

/// A validated added-token table borrowed from the blob.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Added<'a> {
    /// All contents, concatenated (valid UTF-8 each).
    bytes: &'a [u8],
    /// (n_added, 3): id, end offset of the content in `bytes`, flags.
    table: &'a [Entry],
    /// Bit `b` set when some content starts with byte `b` (a quick filter).
    first_bytes: [u32; 8],
}

impl<'a> Added<'a> {
    /// Validates the planes: ends increase strictly up to `bytes.len()` (no empty content),
    /// every content is UTF-8, ids are below `n_vocab`, flags use known bits only.
    pub(crate) fn new(bytes: &'a [u8], flat: &'a [u32], n_vocab: usize) -> Result<Self, Error> {
        let table: &[Entry] = bytemuck::try_cast_slice(flat).map_err(|_| Error::BadVocab)?;
        let mut first_bytes = [0u32; 8];
        let mut start = 0usize;
        for &[id, end, flags] in table {
            let end = end as usize;
            let content = bytes.get(start..end).filter(|c| !c.is_empty()).ok_or(Error::BadVocab)?;
            core::str::from_utf8(content).map_err(|_| Error::BadVocab)?;
            if id as usize >= n_vocab || flags & !(ADDED_SPECIAL | ADDED_NORMALIZED) != 0 {
                return Err(Error::BadVocab);
            }
            if let Some(&b) = content.first() {
                if let Some(w) = first_bytes.get_mut(usize::from(b >> 5)) {
                    *w |= 1 << (b & 31);
                }
            }
            start = end;
        }
        if start != bytes.len() {
            return Err(Error::BadVocab);
        }
        Ok(Self { bytes, table, first_bytes })
    }

    /// Number of added tokens.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The flags of added token `id` (0 when `id` is not an added token).
    pub(crate) fn flags(&self, id: u32) -> u32 {
        self.table.iter().find(|e| e[0] == id).map_or(0, |e| e[2])
    }

    /// Longest content among tokens with `normalized` status `pass` that `text` starts with:
    /// `(byte length, id)`.
    fn longest_at(&self, text: &[u8], pass: u32) -> Option<(usize, u32)> {
        let &b = text.first()?;
        let bit = self.first_bytes.get(usize::from(b >> 5)).is_some_and(|w| w & (1 << (b & 31)) != 0);
        if !bit {
            return None;
        }
        let mut best: Option<(usize, u32)> = None;
        let mut start = 0usize;
        for &[id, end, flags] in self.table {
            let content = self.bytes.get(start..end as usize).unwrap_or(&[]);
            start = end as usize;
            let longer = best.is_none_or(|(len, _)| content.len() > len);
            if flags & ADDED_NORMALIZED == pass && longer && text.starts_with(content) {
                best = Some((content.len(), id));
            }
        }
        best
    }

    /// Splits `text` by the added tokens and calls `f` with each segment, in order: first by the
    /// tokens without `ADDED_NORMALIZED`, then the text between them by the tokens with it.
    pub(crate) fn for_each_segment<'t, F>(&self, text: &'t str, mut f: F) -> ControlFlow<()>
    where
        F: FnMut(Segment<'t>) -> ControlFlow<()>,
    {
        self.split(text, 0, &mut |seg| match seg {
            Segment::Text(t) => self.split(t, ADDED_NORMALIZED, &mut f),
            token => f(token),
        })
    }

    /// One pass of [`for_each_segment`](Self::for_each_segment) over the tokens with `pass` flags.
    fn split<'t>(
        &self,
        text: &'t str,
        pass: u32,
        f: &mut dyn FnMut(Segment<'t>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let bytes = text.as_bytes();
        let (mut emitted, mut i) = (0usize, 0usize);
        while i < bytes.len() {
            let found = bytes.get(i..).and_then(|rest| self.longest_at(rest, pass));
            let Some((len, id)) = found else {
                i += 1;
                continue;
            };
            if let Some(before) = text.get(emitted..i).filter(|t| !t.is_empty()) {
                f(Segment::Text(before))?;
            }
            f(Segment::Token(id))?;
            i += len;
            emitted = i;
        }
        match text.get(emitted..).filter(|t| !t.is_empty()) {
            Some(rest) => f(Segment::Text(rest)),
            None => ControlFlow::Continue(()),
        }
    }
}

//! The merge table and the BPE loop over one word.

use crate::Error;

/// One merge rule: `(left, right, rank, merged)`; a table is sorted by `(left, right)`.
pub(crate) type Merge = [u32; 4];

/// Rank of "no merge" (larger than every real rank).
const NO_MERGE: u32 = u32::MAX;

/// A validated merge table borrowed from the blob.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Merges<'a> {
    /// (n_merges, 4): `(left, right, rank, merged)`, strictly increasing in `(left, right)`.
    table: &'a [Merge],
}

impl<'a> Merges<'a> {
    /// Wraps `flat` (`n_merges * 4` u32), checking the order and that every id is below `n_vocab`.
    pub(crate) fn new(flat: &'a [u32], n_vocab: usize) -> Result<Self, Error> {
        let table: &[Merge] = bytemuck::try_cast_slice(flat).map_err(|_| Error::BadVocab)?;
        let mut prev: Option<(u32, u32)> = None;
        for &[l, r, rank, m] in table {
            let in_vocab = |id: u32| (id as usize) < n_vocab;
            if !(in_vocab(l) && in_vocab(r) && in_vocab(m)) || rank == NO_MERGE {
                return Err(Error::BadVocab);
            }
            if prev.is_some_and(|p| p >= (l, r)) {
                return Err(Error::BadVocab);
            }
            prev = Some((l, r));
        }
        Ok(Self { table })
    }

    /// Number of merge rules.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Every rule, in `(left, right)` order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a Merge> {
        self.table.iter()
    }

    /// `(rank, merged)` of the pair `(left, right)`, `(NO_MERGE, 0)` when there is no rule.
    fn lookup(&self, left: u32, right: u32) -> (u32, u32) {
        let found = self.table.binary_search_by(|&[l, r, _, _]| (l, r).cmp(&(left, right)));
        match found.ok().and_then(|i| self.table.get(i)) {
            Some(&[_, _, rank, merged]) => (rank, merged),
            None => (NO_MERGE, 0),
        }
    }

    /// Applies the merges to the symbols in `syms` (their ids) until no adjacent pair has a
    /// rule, lowest rank first, leftmost first among equal ranks (as the reference's priority
    /// queue does). Returns the number of symbols left at the front of `syms`.
    ///
    /// `ranks` must be at least as long as `syms` (scratch: `ranks[i]` is the rank of the pair
    /// starting at symbol `i`). Cost: O(n) lookups and O(n^2) plain steps for n symbols.
    pub(crate) fn apply(&self, syms: &mut [u32], ranks: &mut [u32]) -> usize {
        let mut n = syms.len().min(ranks.len());
        for i in 0..n {
            let pair = (syms.get(i).copied(), syms.get(i + 1).copied());
            let rank = match pair {
                (Some(l), Some(r)) if i + 1 < n => self.lookup(l, r).0,
                _ => NO_MERGE,
            };
            if let Some(slot) = ranks.get_mut(i) {
                *slot = rank;
            }
        }
        loop {
            let live = ranks.get(..n).unwrap_or(&[]);
            let Some((i, &best)) = live.iter().enumerate().min_by_key(|&(i, &r)| (r, i)) else { break };
            if best == NO_MERGE {
                break;
            }
            let (Some(&l), Some(&r)) = (syms.get(i), syms.get(i + 1)) else { break };
            let merged = self.lookup(l, r).1;
            // Remove symbol i + 1 and its pair rank, then refresh the two pairs around i.
            if let (Some(s), Some(k)) = (syms.get_mut(i..n), ranks.get_mut(i..n)) {
                if !s.is_empty() && !k.is_empty() {
                    s.copy_within(1.., 0);
                    k.copy_within(1.., 0);
                }
            }
            n -= 1;
            if let Some(slot) = syms.get_mut(i) {
                *slot = merged;
            }
            self.refresh(syms, ranks, n, i);
            if i > 0 {
                self.refresh(syms, ranks, n, i - 1);
            }
        }
        n
    }

    /// Recomputes `ranks[i]` for the pair `(syms[i], syms[i + 1])` of the first `n` symbols.
    fn refresh(&self, syms: &[u32], ranks: &mut [u32], n: usize, i: usize) {
        let rank = match (syms.get(i), syms.get(i + 1)) {
            (Some(&l), Some(&r)) if i + 1 < n => self.lookup(l, r).0,
            _ => NO_MERGE,
        };
        if let Some(slot) = ranks.get_mut(i) {
            *slot = rank;
        }
    }
}

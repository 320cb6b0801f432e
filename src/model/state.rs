//! Working memory: every activation buffer, carved once from the caller's arena.
//!
//! The encoder processes the sequence in chunks of `C` rows (`C <= S`): keys and values are kept
//! for all `S` positions, everything else only for one chunk. `C = S` is fastest on a host; a small
//! `C` trades speed for RAM on a microcontroller. Sizes, with `S` = maximum sequence length,
//! `H` = hidden, `I` = intermediate, `O` = head outputs (labels or vocabulary):
//!
//! ```text
//! x      f32 [S, H]           residual stream, final hidden states
//! k      f32 [S, H]           keys of all positions, head-major [heads, len, d]
//! v      f32 [S, H]           values of all positions, transposed per head [heads, d, len]
//! q      f32 [C, H]           queries, attention scratch, then the attention output projection
//! ctx    f32 [C, H]           attention context, then the feed-forward output
//! ffn    f32 [C, I]           feed-forward inner activations
//! scores f32 [C, S]           attention weights of one head
//! xq     i16 [C, max(H, I)]   16-bit activations for int8 weights
//! xs     f32 [C]              their per-row scales
//! pooled f32 [H], head f32 [H], out f32 [O]
//! ids    u32 [S]              token ids
//! ```
//! Each buffer starts on a 32-byte boundary.

use super::config::BertConfig;
use crate::{Error, Result};

const ALIGN: usize = 32;

/// Buffer sizes (in elements) for one arena plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub max_seq: usize,
    pub chunk: usize,
    sizes: [(usize, usize); 13], // (elements, bytes per element), in carving order
}

impl Plan {
    pub(crate) fn new(c: &BertConfig, out: usize, max_seq: usize, chunk: usize) -> Plan {
        let (s, h, i, ch) = (max_seq, c.hidden, c.intermediate, chunk);
        let sizes = [
            (s * h, 4),
            (s * h, 4),
            (s * h, 4),
            (ch * h, 4),
            (ch * h, 4),
            (ch * i, 4),
            (ch * s, 4),
            (ch * h.max(i), 2),
            (ch, 4),
            (h, 4),
            (h, 4),
            (out, 4),
            (s, 4),
        ];
        Plan { max_seq, chunk, sizes }
    }

    /// Bytes needed by an arena that starts on a 32-byte boundary (`None` on overflow).
    pub(crate) fn bytes(&self) -> Option<usize> {
        self.sizes.iter().try_fold(0usize, |acc, &(n, b)| {
            let len = n.checked_mul(b)?.checked_add(ALIGN - 1)? / ALIGN * ALIGN;
            acc.checked_add(len)
        })
    }
}

/// The carved buffers (shapes above).
pub(crate) struct State<'a> {
    pub x: &'a mut [f32],
    pub k: &'a mut [f32],
    pub v: &'a mut [f32],
    pub q: &'a mut [f32],
    pub ctx: &'a mut [f32],
    pub ffn: &'a mut [f32],
    pub scores: &'a mut [f32],
    pub xq: &'a mut [i16],
    pub xs: &'a mut [f32],
    pub pooled: &'a mut [f32],
    pub head: &'a mut [f32],
    pub out: &'a mut [f32],
    pub ids: &'a mut [u32],
}

/// Hands out consecutive 32-byte-aligned pieces of the arena.
struct Carver<'a> {
    rest: &'a mut [u8],
}

impl<'a> Carver<'a> {
    fn bytes(&mut self, len: usize) -> Result<&'a mut [u8]> {
        let rest = core::mem::take(&mut self.rest);
        let padded = len.div_ceil(ALIGN) * ALIGN;
        let got = rest.len();
        if padded > got {
            return Err(Error::ArenaTooSmall { needed: padded, got });
        }
        let (piece, tail) = rest.split_at_mut(padded);
        self.rest = tail;
        Ok(&mut piece[..len])
    }

    fn f32s(&mut self, n: usize) -> Result<&'a mut [f32]> {
        bytemuck::try_cast_slice_mut(self.bytes(n * 4)?).map_err(|_| Error::Misaligned)
    }
}

impl<'a> State<'a> {
    /// Carves `arena` by `plan`. Fails with `ArenaTooSmall` (the full need, for this arena's
    /// alignment) before touching anything.
    pub(crate) fn carve(arena: &'a mut [u8], plan: &Plan) -> Result<State<'a>> {
        let total = plan.bytes().ok_or(Error::ArenaTooSmall { needed: usize::MAX, got: arena.len() })?;
        let pad = (ALIGN - (arena.as_ptr() as usize) % ALIGN) % ALIGN;
        let needed = total.saturating_add(pad);
        if arena.len() < needed {
            return Err(Error::ArenaTooSmall { needed, got: arena.len() });
        }
        let mut c = Carver { rest: &mut arena[pad..] };
        let n = |i: usize| plan.sizes[i].0;
        Ok(State {
            x: c.f32s(n(0))?,
            k: c.f32s(n(1))?,
            v: c.f32s(n(2))?,
            q: c.f32s(n(3))?,
            ctx: c.f32s(n(4))?,
            ffn: c.f32s(n(5))?,
            scores: c.f32s(n(6))?,
            xq: bytemuck::try_cast_slice_mut(c.bytes(n(7) * 2)?).map_err(|_| Error::Misaligned)?,
            xs: c.f32s(n(8))?,
            pooled: c.f32s(n(9))?,
            head: c.f32s(n(10))?,
            out: c.f32s(n(11))?,
            ids: bytemuck::try_cast_slice_mut(c.bytes(n(12) * 4)?).map_err(|_| Error::Misaligned)?,
        })
    }
}

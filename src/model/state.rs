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
//! With [`KvPrecision::I8`] keys and values are int8 (see [`Kv`]), which also
//! quantizes the queries and attention weights of one head to 16 bits in `xq`:
//! ```text
//! k      i8  [S, H]           keys, head-major [heads, len, d]
//! ks     f32 [heads, S]       one scale per (head, position) key row
//! v      i8  [S, H]           values, transposed per head [heads, d, len]
//! vs     f32 [heads, S]       one scale per (head, position) value row
//! xq     i16 [C, max(H, I, S)]
//! row    i8  [d]              quantization scratch
//! ones   f32 [d]              unit weight scales
//! ```
//! E.g. the sentiment student (H 128, 4 heads, I 512, 2 labels) at S = 64 needs 97.3 KiB + 4.25 KiB
//! per chunk row with f32 keys and values (C = S: 369.5 KiB), 51.4 KiB + 4.25 KiB per row with int8
//! ones (C = 1: 55.7 KiB, C = 2: 60.0 KiB).
//! Each buffer starts on a 32-byte boundary.

use super::config::BertConfig;
use super::kv::Kv;
use super::options::{KvPrecision, SessionOptions};
use crate::{Error, Result};

const ALIGN: usize = 32;

/// Buffer sizes (in elements) for one arena plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub opts: SessionOptions,
    sizes: [(usize, usize); 17], // (elements, bytes per element), in carving order
}

impl Plan {
    /// Sizes for `opts` (checked by the caller: `1 <= chunk <= max_seq`).
    pub(crate) fn new(c: &BertConfig, out: usize, opts: &SessionOptions) -> Plan {
        let (s, h, i, ch) = (opts.max_seq, c.hidden, c.intermediate, opts.chunk);
        let (kv_bytes, kv_scales, xq_cols, d) = match opts.kv {
            KvPrecision::I8 => (1, c.n_heads * s, h.max(i).max(s), c.head_dim),
            KvPrecision::F32 => (4, 0, h.max(i), 0),
        };
        let sizes = [
            (s * h, 4),
            (s * h, kv_bytes),
            (kv_scales, 4),
            (s * h, kv_bytes),
            (kv_scales, 4),
            (d, 1),
            (d, 4),
            (ch * h, 4),
            (ch * h, 4),
            (ch * i, 4),
            (ch * s, 4),
            (ch * xq_cols, 2),
            (ch, 4),
            (h, 4),
            (h, 4),
            (out, 4),
            (s, 4),
        ];
        Plan { opts: *opts, sizes }
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
    pub kv: Kv<'a>,
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

    fn i8s(&mut self, n: usize) -> Result<&'a mut [i8]> {
        Ok(bytemuck::cast_slice_mut(self.bytes(n)?))
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
        let x = c.f32s(n(0))?;
        let kv = match plan.opts.kv {
            KvPrecision::I8 => {
                let (k, ks, v, vs) = (c.i8s(n(1))?, c.f32s(n(2))?, c.i8s(n(3))?, c.f32s(n(4))?);
                let (row, ones) = (c.i8s(n(5))?, c.f32s(n(6))?);
                ones.fill(1.0);
                Kv::I8 { k, ks, v, vs, row, ones }
            }
            KvPrecision::F32 => Kv::F32 { k: c.f32s(n(1))?, v: c.f32s(n(3))? },
        };
        Ok(State {
            x,
            kv,
            q: c.f32s(n(7))?,
            ctx: c.f32s(n(8))?,
            ffn: c.f32s(n(9))?,
            scores: c.f32s(n(10))?,
            xq: bytemuck::try_cast_slice_mut(c.bytes(n(11) * 2)?).map_err(|_| Error::Misaligned)?,
            xs: c.f32s(n(12))?,
            pooled: c.f32s(n(13))?,
            head: c.f32s(n(14))?,
            out: c.f32s(n(15))?,
            ids: bytemuck::try_cast_slice_mut(c.bytes(n(16) * 4)?).map_err(|_| Error::Misaligned)?,
        })
    }
}

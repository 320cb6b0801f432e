//! Working memory: every activation buffer, carved once from the caller's arena.
//!
//! The encoder processes the sequence in chunks of `C` rows (`C <= S`): keys and values are kept
//! for all `S` positions, everything else only for one chunk. `C = S` is fastest on a host; a small
//! `C` trades speed for RAM on a microcontroller. Sizes, with `S` = maximum sequence length,
//! `H` = hidden, `I` = intermediate, `O` = head outputs (labels or vocabulary):
//!
//! ```text
//! x      f32 [S, H]           residual stream, final hidden states
//! k      f32 [S, H]           keys of all positions, head-major [heads, S, d]
//! v      f32 [S, H]           values of all positions, transposed per head [heads, d, S]
//! q      f32 [C, H]           queries, attention scratch, then the attention output projection
//! ctx    f32 [C, H]           attention context, then the feed-forward output
//! ffn    f32 [C, I]           feed-forward inner activations
//! scores f32 [min(C, 64), S]  attention weights of one head, 64 query rows at a time
//! xq     i16 [C, max(H, I)]   16-bit activations for int8 weights
//! xs     f32 [C]              their per-row scales
//! pooled f32 [H], head f32 [H], out f32 [O]
//! ids    u32 [S]              token ids
//! ```
//! With [`KvPrecision::I8`] keys and values are int8 (see [`Kv`]), which also
//! quantizes the queries and attention weights of one head to 16 bits in `xq`:
//! ```text
//! k      i8  [S, H]           keys, head-major [heads, S, d]
//! ks     f32 [heads, S]       one scale per (head, position) key row
//! v      i8  [S, H]           values, transposed per head [heads, d, S]
//! vs     f32 [heads, S]       one scale per (head, position) value row
//! xq     i16 [C, max(H, I, S)]
//! row    i8  [d]              quantization scratch
//! ```
//! (f16 keys and values: `[S, H]` each in f16.) The key/value cache is the decoders' one
//! ([`KvCache`]) with one layer: the encoder refills it layer by layer.
//! E.g. the sentiment student (H 128, 4 heads, I 512, 2 labels) at S = 64 needs 97.3 KiB + 4.25 KiB
//! per chunk row with f32 keys and values (C = S: 369.5 KiB), 51.4 KiB + 4.25 KiB per row with int8
//! ones (C = 1: 55.7 KiB, C = 2: 60.0 KiB).
//! Each buffer starts on a 32-byte boundary. [`State::layout`] declares them once, for both the
//! size ([`Bert::arena_len_with`](super::Bert::arena_len_with)) and the carving.

use super::model::Bert;
use crate::model::arena::Carver;
use crate::model::ops::attention::scores_len;
use crate::model::ops::kv::KvCache;
use crate::model::ops::Heads;
use crate::model::{KvPrecision, SessionOptions};
use crate::Result;

/// The carved buffers (shapes above).
pub(crate) struct State<'a> {
    pub x: &'a mut [f32],
    pub kv: KvCache<'a>,
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

impl<'a> State<'a> {
    /// Every buffer of a session of `model` with `opts` (checked by the caller), from `c`.
    pub(crate) fn layout(c: &mut Carver<'a>, model: &Bert<'_>, opts: &SessionOptions) -> Result<State<'a>> {
        let cfg = model.config();
        let (s, h, i, ch) = (opts.max_seq, cfg.hidden, cfg.intermediate, opts.chunk);
        let heads = Heads { n_heads: cfg.n_heads, n_kv_heads: cfg.n_heads, head_dim: cfg.head_dim };
        let xq_cols = match opts.kv {
            KvPrecision::F32 => h.max(i),
            _ => h.max(i).max(s),
        };
        Ok(State {
            x: c.f32s(s * h)?,
            kv: KvCache::carve(c, opts.kv, heads, 1, s)?,
            q: c.f32s(ch * h)?,
            ctx: c.f32s(ch * h)?,
            ffn: c.f32s(ch * i)?,
            scores: c.f32s(scores_len(ch, s))?,
            xq: c.i16s(ch * xq_cols)?,
            xs: c.f32s(ch)?,
            pooled: c.f32s(h)?,
            head: c.f32s(h)?,
            out: c.f32s(model.head_outputs())?,
            ids: c.u32s(s)?,
        })
    }
}

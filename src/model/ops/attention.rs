//! Multi-head scaled dot-product attention over the key/value cache, bidirectional (encoders:
//! every position sees every real token) or causal (decoders: position `t` sees `0..=t`), with
//! grouped-query heads.
//!
//! Query rows are taken [`QUERY_TILE`] at a time, so the attention weights of one head never need
//! more than `[QUERY_TILE, len]` floats, however long the chunk (`[C, S]` would be the whole
//! seq x seq matrix when a host runs a long input in one chunk). Under the causal mask a tile reads
//! only the positions its last row can see, which skips the hidden upper triangle of long prompts.

use super::kv::KvCache;
use super::Heads;
use crate::bounded::{copy, head, head_mut, rows, rows_mut, span, span_mut};
use crate::kernels;

/// Which positions a query row may attend to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mask {
    /// All `len` positions (one unpadded sequence).
    Bidirectional,
    /// Query row `i` sits at position `first + i` and sees positions `0..=first + i`.
    Causal { first: usize },
}

/// Query rows per attention tile (the host's usual chunk of 64 tokens is one tile).
pub(crate) const QUERY_TILE: usize = 64;

/// Floats of the `scores` scratch for chunks of up to `chunk` rows over up to `context` positions:
/// `[min(chunk, QUERY_TILE), context]`. The arena plans of every architecture size it with this.
pub(crate) fn scores_len(chunk: usize, context: usize) -> usize {
    chunk.min(QUERY_TILE).saturating_mul(context)
}

/// Scratch of [`attention`]: `scores[min(m, QUERY_TILE), len]`, 16-bit activations `xq[m, max(d, len)]`, their
/// scales `xs[m]`.
pub(crate) struct Scratch<'s> {
    pub scores: &'s mut [f32],
    pub xq: &'s mut [i16],
    pub xs: &'s mut [f32],
}

/// `ctx[m, H] = softmax(q kᵀ / sqrt(d) + mask) v`, per query head, for `m` query rows `q[m, H]`
/// (`H = n_heads * d`) against the first `len` positions of `layer` in the cache. `q` is consumed
/// (used as scratch).
#[allow(clippy::too_many_arguments)]
pub(crate) fn attention(
    ctx: &mut [f32],
    q: &mut [f32],
    kv: &mut KvCache<'_>,
    layer: usize,
    mask: Mask,
    s: &mut Scratch<'_>,
    hs: &Heads,
    m: usize,
    len: usize,
) {
    let (d, h) = (hs.head_dim, hs.q_dim());
    let scale = 1.0 / libm::sqrtf(d as f32);
    // q [m, H] -> ctx as [heads, m, d]
    to_heads(head_mut(ctx, m * h), head(q, m * h), m, hs);
    for head in 0..hs.n_heads {
        let kv_head = hs.kv_head(head);
        for r0 in (0..m).step_by(QUERY_TILE) {
            // query rows r0..r0 + t of this head, which see at most the first `seen` positions
            let t = QUERY_TILE.min(m - r0);
            let (r, rows) = ((head * m + r0) * d, t * d);
            let seen = match mask {
                Mask::Bidirectional => len,
                Mask::Causal { first } => (first + r0 + t).min(len),
            };
            // scores [t, seen] = q_rows · k_hᵀ / sqrt(d), masked, softmax per row
            let scores = head_mut(s.scores, t * seen);
            kv.scores(scores, span(ctx, r, rows), layer, kv_head, t, seen, s.xq, s.xs);
            for (i, row) in scores.chunks_exact_mut(seen.max(1)).enumerate() {
                let sees = match mask {
                    Mask::Bidirectional => seen,
                    Mask::Causal { first } => (first + r0 + i + 1).min(seen),
                };
                let (visible, hidden) = row.split_at_mut(sees.min(row.len()));
                kernels::scale_inplace(visible, scale);
                kernels::softmax(visible);
                hidden.fill(0.0);
            }
            // out [t, d] = scores · v_h, into q as [heads, m, d]
            kv.context(span_mut(q, r, rows), scores, layer, kv_head, t, seen, s.xq, s.xs);
        }
    }
    // q [heads, m, d] -> ctx [m, H]
    from_heads(head_mut(ctx, m * h), head(q, m * h), m, hs);
}

/// `dst[heads, m, d]` from the rows of `src[m, H]`.
fn to_heads(dst: &mut [f32], src: &[f32], m: usize, hs: &Heads) {
    let d = hs.head_dim;
    for (t, row) in src.chunks_exact(hs.q_dim().max(1)).enumerate() {
        for (head, part) in row.chunks_exact(d.max(1)).enumerate() {
            copy(rows_mut(dst, head * m + t, 1, d), part);
        }
    }
}

/// `dst[m, H]` from the head outputs `src[heads, m, d]` (the inverse of [`to_heads`]).
fn from_heads(dst: &mut [f32], src: &[f32], m: usize, hs: &Heads) {
    let d = hs.head_dim;
    for (t, row) in dst.chunks_exact_mut(hs.q_dim().max(1)).enumerate() {
        for (head, part) in row.chunks_exact_mut(d.max(1)).enumerate() {
            copy(part, rows(src, head * m + t, 1, d));
        }
    }
}

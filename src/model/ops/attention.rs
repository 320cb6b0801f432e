//! Multi-head scaled dot-product attention over the key/value cache, bidirectional (encoders:
//! every position sees every real token) or causal (decoders: position `t` sees `0..=t`), with
//! grouped-query heads.

use super::kv::KvCache;
use super::Heads;
use crate::kernels;

/// Which positions a query row may attend to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mask {
    /// All `len` positions (one unpadded sequence).
    Bidirectional,
    /// Query row `i` sits at position `first + i` and sees positions `0..=first + i`.
    Causal { first: usize },
}

/// Scratch of [`attention`]: `scores[m, len]`, 16-bit activations `xq[m, max(d, len)]`, their
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
    kv: &KvCache<'_>,
    layer: usize,
    mask: Mask,
    s: &mut Scratch<'_>,
    hs: &Heads,
    m: usize,
    len: usize,
) {
    let (d, h) = (hs.head_dim, hs.q_dim());
    let scale = 1.0 / libm::sqrtf(d as f32);
    let scores = &mut s.scores[..m * len];
    // q [m, H] -> ctx as [heads, m, d]
    to_heads(&mut ctx[..m * h], &q[..m * h], m, hs);
    for head in 0..hs.n_heads {
        let kv_head = hs.kv_head(head);
        let qh = head * m * d..(head + 1) * m * d;
        // scores [m, len] = q_h · k_hᵀ / sqrt(d), masked, softmax per row
        kv.scores(scores, &ctx[qh.clone()], layer, kv_head, m, len, s.xq, s.xs);
        for (i, row) in scores.chunks_exact_mut(len).enumerate() {
            let seen = match mask {
                Mask::Bidirectional => len,
                Mask::Causal { first } => (first + i + 1).min(len),
            };
            let (visible, hidden) = row.split_at_mut(seen);
            kernels::scale_inplace(visible, scale);
            kernels::softmax(visible);
            hidden.fill(0.0);
        }
        // out_h [d, m] = (scores · v_h)ᵀ, into q as [heads, d, m]
        kv.context_t(&mut q[qh], scores, layer, kv_head, m, len, s.xq, s.xs);
    }
    // q [heads, d, m] -> ctx [m, H]
    from_heads_t(&mut ctx[..m * h], &q[..m * h], m, hs);
}

/// `dst[heads, m, d]` from the rows of `src[m, H]`.
fn to_heads(dst: &mut [f32], src: &[f32], m: usize, hs: &Heads) {
    let d = hs.head_dim;
    for (t, row) in src.chunks_exact(hs.q_dim()).enumerate() {
        for (head, part) in row.chunks_exact(d).enumerate() {
            let at = (head * m + t) * d;
            dst[at..at + d].copy_from_slice(part);
        }
    }
}

/// `dst[m, H]` from the channel-major head outputs `src[heads, d, m]`.
fn from_heads_t(dst: &mut [f32], src: &[f32], m: usize, hs: &Heads) {
    for (t, row) in dst.chunks_exact_mut(hs.q_dim()).enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            // channel c = head * d + e
            *v = src[c * m + t];
        }
    }
}

//! Building blocks shared by the encoder and the heads: linear layers in any weight dtype,
//! LayerNorm over rows, multi-head attention. Shapes are in the comments; `m` rows at a time.

use super::kv::Kv;
use super::weights::{Linear, Norm};
use crate::kernels;
use crate::quant::MatrixData;

/// `out[m, n] = x[m, k] · Wᵀ + b`. int8 weights quantize each row of `x` on the fly to 16 bits
/// (`xq[m, k]`, scales `xs[m]`) and multiply with exact i32 accumulation: int8 activations cost
/// MiniLM 0.5 point of embedding cosine, 16-bit ones nothing measurable, at the same speed
/// (`vpmaddwd` / `SMLAD` multiply 16-bit pairs either way).
pub(crate) fn linear(out: &mut [f32], x: &[f32], lin: &Linear<'_>, xq: &mut [i16], xs: &mut [f32], m: usize) {
    let (n, k) = (lin.w.rows, lin.w.cols);
    let (out, x) = (&mut out[..m * n], &x[..m * k]);
    match lin.w.data {
        MatrixData::F32(w) => kernels::matmul_f32(out, x, w, m, k, n),
        MatrixData::F16(w) => kernels::matmul_f16(out, x, w, m, k, n),
        MatrixData::I8 { values, scales } => {
            let (xq, xs) = quantize_rows_i16(xq, xs, x, m, k);
            kernels::matmul_i8_i16(out, xq, xs, values, scales, m, k, n);
        }
    }
    kernels::add_bias(out, lin.b);
}

/// Quantizes the `m` rows of `x[m, k]` to 16 bits within [`kernels::i16_act_max`]`(k)`: returns
/// `(xq[m, k], xs[m])`.
pub(crate) fn quantize_rows_i16<'s>(
    xq: &'s mut [i16],
    xs: &'s mut [f32],
    x: &[f32],
    m: usize,
    k: usize,
) -> (&'s [i16], &'s [f32]) {
    let (xq, xs) = (&mut xq[..m * k], &mut xs[..m]);
    let qmax = kernels::i16_act_max(k);
    for ((q, s), row) in xq.chunks_exact_mut(k).zip(xs.iter_mut()).zip(x.chunks_exact(k)) {
        *s = kernels::quantize_row_i16(q, row, qmax);
    }
    (xq, xs)
}

/// `x[r] = LayerNorm(y[r] + x[r])` for each of the `m` rows (`[m, H]` each): the residual
/// connection of a post-LN block. `y` is overwritten.
pub(crate) fn add_norm(x: &mut [f32], y: &mut [f32], norm: &Norm<'_>, eps: f32, h: usize, m: usize) {
    for (xr, yr) in x[..m * h].chunks_exact_mut(h).zip(y[..m * h].chunks_exact_mut(h)) {
        kernels::add_inplace(yr, xr);
        kernels::layer_norm(yr, norm.weight, norm.bias, eps);
        xr.copy_from_slice(yr);
    }
}

/// Sizes for [`attention`].
pub(crate) struct Heads {
    pub n_heads: usize,
    pub head_dim: usize,
}

/// Multi-head scaled dot-product attention of `m` query rows against `len` key/value rows (all
/// positions attend to all `len` real tokens: the mask of one unpadded sequence), as two small
/// matmuls per head over the key/value cache `kv` (f32 or int8, see [`Kv`]). `q[m, H]` is consumed
/// (used as scratch); `scores[m, len]`, `xq` and `xs` are scratch.
/// `ctx[m, H] = softmax(q kᵀ / sqrt(d)) v`, per head.
#[allow(clippy::too_many_arguments)]
pub(crate) fn attention(
    ctx: &mut [f32],
    q: &mut [f32],
    kv: &Kv<'_>,
    scores: &mut [f32],
    xq: &mut [i16],
    xs: &mut [f32],
    hs: &Heads,
    m: usize,
    len: usize,
) {
    let d = hs.head_dim;
    let h = hs.n_heads * d;
    let scale = 1.0 / libm::sqrtf(d as f32);
    let scores = &mut scores[..m * len];
    // q [m, H] -> ctx as [heads, m, d]
    permute_rows(&mut ctx[..m * h], &q[..m * h], m, hs, true);
    for head in 0..hs.n_heads {
        let qh = head * m * d..(head + 1) * m * d;
        // scores [m, len] = q_h · k_hᵀ / sqrt(d), softmax per row
        kv.scores(scores, &ctx[qh.clone()], head, d, m, len, xq, xs);
        for row in scores.chunks_exact_mut(len) {
            kernels::scale_inplace(row, scale);
            kernels::softmax(row);
        }
        // out_h [m, d] = scores · v_h, into q as [heads, m, d]
        kv.context(&mut q[qh], scores, head, d, m, len, xq, xs);
    }
    // q [heads, m, d] -> ctx [m, H]
    permute_rows(&mut ctx[..m * h], &q[..m * h], m, hs, false);
}

/// Moves `m` rows between row-major `[m, H]` and head-major `[heads, m, d]`: `to_heads` reads
/// `src[m, H]` and writes `dst[heads, m, d]`; otherwise the reverse.
fn permute_rows(dst: &mut [f32], src: &[f32], m: usize, hs: &Heads, to_heads: bool) {
    let d = hs.head_dim;
    let h = hs.n_heads * d;
    for t in 0..m {
        for head in 0..hs.n_heads {
            let (row, hm) = (t * h + head * d, (head * m + t) * d);
            let (to, from) = if to_heads { (hm, row) } else { (row, hm) };
            dst[to..to + d].copy_from_slice(&src[from..from + d]);
        }
    }
}

//! Building blocks shared by the encoder and the heads: linear layers in any weight dtype,
//! LayerNorm over rows, multi-head attention. Shapes are in the comments; `m` rows at a time.

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
            let (xq, xs) = (&mut xq[..m * k], &mut xs[..m]);
            let qmax = kernels::i16_act_max(k);
            for ((q, s), row) in xq.chunks_exact_mut(k).zip(xs.iter_mut()).zip(x.chunks_exact(k)) {
                *s = kernels::quantize_row_i16(q, row, qmax);
            }
            kernels::matmul_i8_i16(out, xq, xs, values, scales, m, k, n);
        }
    }
    kernels::add_bias(out, lin.b);
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
/// positions attend to all `len` real tokens: the mask of one unpadded sequence).
/// `ctx[m, H] = softmax(q kᵀ / sqrt(d)) v`, per head; `scores[len]` is scratch.
pub(crate) fn attention(ctx: &mut [f32], q: &[f32], k: &[f32], v: &[f32], scores: &mut [f32], hs: &Heads, m: usize, len: usize) {
    let d = hs.head_dim;
    let h = hs.n_heads * d;
    let scale = 1.0 / libm::sqrtf(d as f32);
    let scores = &mut scores[..len];
    for (qr, cr) in q[..m * h].chunks_exact(h).zip(ctx[..m * h].chunks_exact_mut(h)) {
        for head in 0..hs.n_heads {
            let at = head * d;
            let qh = &qr[at..at + d];
            for (s, kr) in scores.iter_mut().zip(k.chunks_exact(h)) {
                *s = kernels::dot_f32(qh, &kr[at..at + d]) * scale;
            }
            kernels::softmax(scores);
            let out = &mut cr[at..at + d];
            out.fill(0.0);
            for (&p, vr) in scores.iter().zip(v.chunks_exact(h)) {
                kernels::axpy_f32(out, p, &vr[at..at + d]);
            }
        }
    }
}

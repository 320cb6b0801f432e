//! Linear layers in any weight dtype, and the normalizations around them. `m` rows at a time;
//! shapes in the comments.

use crate::kernels;
use crate::quant::{Matrix, MatrixData};

/// A linear layer: `y = x · Wᵀ + b`, `W: [out, in]`, `b: [out]` (empty: no bias).
#[derive(Debug, Clone, Copy)]
pub struct Linear<'a> {
    /// Weights `[out, in]`.
    pub w: Matrix<'a>,
    /// Bias `[out]`, or empty for a layer without one.
    pub b: &'a [f32],
}

/// LayerNorm or RMSNorm parameters, `[H]` each.
#[derive(Debug, Clone, Copy)]
pub struct Norm<'a> {
    /// Scale (gamma).
    pub weight: &'a [f32],
    /// Shift (beta); empty for RMSNorm.
    pub bias: &'a [f32],
}

/// `out[m, n] = x[m, k] · Wᵀ + b`. int8 and int4 weights quantize each row of `x` on the fly to 16 bits
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
            let (xq, xs) = kernels::quantize_rows_i16(xq, xs, x, m, k);
            kernels::matmul_i8_i16(out, xq, xs, values, scales, m, k, n);
        }
        MatrixData::I4 { values, scales, mins, group } => {
            // Each group's dot product is exact in i32 up to i16_act_max(group) (the full 16 bits).
            let qmax = kernels::i16_act_max(group);
            let (xq, xs) = kernels::quantize_rows_i16_within(xq, xs, x, m, k, qmax);
            kernels::matmul_i4_i16(out, xq, xs, values, scales, mins, group, m, k, n);
        }
    }
    if !lin.b.is_empty() {
        kernels::add_bias(out, lin.b);
    }
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

/// `out[r] = Norm(x[r])` for each of the `m` rows (`[m, H]` each): LayerNorm when the norm has a
/// bias, RMSNorm otherwise (the pre-norm of GPT-2 and Llama blocks).
pub(crate) fn norm_rows(out: &mut [f32], x: &[f32], norm: &Norm<'_>, eps: f32, h: usize, m: usize) {
    for (or, xr) in out[..m * h].chunks_exact_mut(h).zip(x[..m * h].chunks_exact(h)) {
        or.copy_from_slice(xr);
        if norm.bias.is_empty() {
            kernels::rms_norm(or, norm.weight, eps);
        } else {
            kernels::layer_norm(or, norm.weight, norm.bias, eps);
        }
    }
}

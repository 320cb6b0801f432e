//! Linear layers in any weight dtype, and the normalizations around them. `m` rows at a time;
//! shapes in the comments.

use crate::bounded::{head, head_mut};
use crate::kernels;
use crate::quant::{Matrix, MatrixData};

/// A linear layer: `y = x · Wᵀ + b`, `W: [out, in]`, `b: [out]` (empty: no bias).
#[derive(Debug, Clone, Copy)]
pub struct Linear<'a> {
    /// Weights `[out, in]`.
    pub w: Matrix<'a>,
    /// Bias `[out]`, or empty for a layer without one.
    pub b: &'a [f32],
    /// Activation smoothing factors `[in]` of an int8 matrix, or empty. When present, the input
    /// rows are multiplied by them column by column and quantized to 8 bits (the matrix holds the
    /// weights divided by them; see [`kernels::quantize_row_u8`]); else int8 and int4 matrices
    /// take 16-bit activations.
    pub smooth: &'a [f32],
}

impl<'a> Linear<'a> {
    /// A layer whose int8 or int4 matrix takes 16-bit activations.
    pub fn new(w: Matrix<'a>, b: &'a [f32]) -> Linear<'a> {
        Linear { w, b, smooth: &[] }
    }
}

/// Sees the input rows of each linear layer of the encoder as it runs (calibration of the
/// activation smoothing on the host). `()` sees nothing and costs nothing.
pub trait Observer {
    /// `x[m, k]` is about to be multiplied by the matrix of section `weight` of `layer`
    /// (the schema's name within the layer, e.g. `"attention.self.query.weight"`).
    fn linear_input(&mut self, layer: usize, weight: &'static str, x: &[f32], k: usize);
}

impl Observer for () {
    #[inline(always)]
    fn linear_input(&mut self, _: usize, _: &'static str, _: &[f32], _: usize) {}
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
/// (`xq[m, k]`, scales `xs[m]`) and multiply with exact i32 accumulation: plain int8 activations
/// cost MiniLM 0.5 point of embedding cosine, 16-bit ones nothing measurable. An int8 matrix with
/// smoothing factors takes 8-bit activations instead ([`linear_u8`]).
pub(crate) fn linear(out: &mut [f32], x: &[f32], lin: &Linear<'_>, xq: &mut [i16], xs: &mut [f32], m: usize) {
    let (n, k) = (lin.w.rows, lin.w.cols);
    let (out, x) = (head_mut(out, m * n), head(x, m * k));
    match lin.w.data {
        MatrixData::F32(w) => kernels::matmul_f32(out, x, w, m, k, n),
        MatrixData::F16(w) => kernels::matmul_f16(out, x, w, m, k, n),
        MatrixData::I8 { values, scales } if lin.smooth.len() == k => {
            linear_u8(out, x, values, scales, lin.smooth, xq, xs, m, k, n)
        }
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

/// `out[m, n] = x[m, k] · Wᵀ` for int8 weights with activation smoothing `smooth[k]`: each row of
/// `x · diag(smooth)` is quantized to 8 bits with its own scale and zero point. Where
/// [`kernels::has_fast_u8_matmul`], as bytes (`xu[m, k]` and the zero points `zp[m]`, in the bytes of
/// `xq`: `2·len(xq) >= m·k + m`) for [`kernels::matmul_i8_u8`]; elsewhere as the same values
/// centered on 16 bits for [`kernels::matmul_i8_i16`], which gives the same outputs bit for bit.
#[allow(clippy::too_many_arguments)]
fn linear_u8(
    out: &mut [f32],
    x: &[f32],
    w: &[i8],
    ws: &[f32],
    smooth: &[f32],
    xq: &mut [i16],
    xs: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
) {
    let (xs, k1) = (head_mut(xs, m), k.max(1));
    if kernels::has_fast_u8_matmul() {
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(xq);
        let (xu, rest) = bytes.split_at_mut((m * k).min(bytes.len()));
        let zp = head_mut(rest, m);
        for (((u, z), s), row) in
            xu.chunks_exact_mut(k1).zip(zp.iter_mut()).zip(xs.iter_mut()).zip(x.chunks_exact(k1))
        {
            (*s, *z) = kernels::quantize_row_u8(u, row, smooth);
        }
        kernels::matmul_i8_u8(out, xu, zp, xs, w, ws, m, k, n);
    } else {
        let xq = head_mut(xq, m * k);
        for ((q, s), row) in xq.chunks_exact_mut(k1).zip(xs.iter_mut()).zip(x.chunks_exact(k1)) {
            *s = kernels::quantize_row_u8_centered(q, row, smooth);
        }
        kernels::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
}

/// `x[r] = LayerNorm(y[r] + x[r])` for each of the `m` rows (`[m, H]` each): the residual
/// connection of a post-LN block. `y` is overwritten.
pub(crate) fn add_norm(x: &mut [f32], y: &mut [f32], norm: &Norm<'_>, eps: f32, h: usize, m: usize) {
    let (x, y) = (head_mut(x, m * h), head_mut(y, m * h));
    for (xr, yr) in x.chunks_exact_mut(h.max(1)).zip(y.chunks_exact_mut(h.max(1))) {
        kernels::add_inplace(yr, xr);
        kernels::layer_norm(yr, norm.weight, norm.bias, eps);
        xr.copy_from_slice(yr);
    }
}

/// `out[r] = Norm(x[r])` for each of the `m` rows (`[m, H]` each): LayerNorm when the norm has a
/// bias, RMSNorm otherwise (the pre-norm of GPT-2 and Llama blocks).
pub(crate) fn norm_rows(out: &mut [f32], x: &[f32], norm: &Norm<'_>, eps: f32, h: usize, m: usize) {
    let (out, x) = (head_mut(out, m * h), head(x, m * h));
    for (or, xr) in out.chunks_exact_mut(h.max(1)).zip(x.chunks_exact(h.max(1))) {
        or.copy_from_slice(xr);
        if norm.bias.is_empty() {
            kernels::rms_norm(or, norm.weight, eps);
        } else {
            kernels::layer_norm(or, norm.weight, norm.bias, eps);
        }
    }
}

//! The key/value cache: keys and values of every position of the current layer, in f32 or int8,
//! and the two attention products that read them.
//!
//! Both precisions keep keys head-major `[heads, len, d]` and values transposed per head
//! `[heads, d, len]`, so `scores = q_h · k_hᵀ` and `out_h = p · (v_hᵀ)ᵀ` are both `nt` matmuls over
//! contiguous rows. In int8, each (head, position) slice of `d` values is one row of the reference
//! quantizer ([`kernels::quantize_row_i8`]) with its own f32 scale (`ks`, `vs`: `[heads, len]`):
//! - scores: the query rows of the head are quantized to 16 bits and multiplied with the int8 key
//!   rows by `matmul_i8_i16`, the key scales as weight scales;
//! - context: `out_h = Σ_j p_j · (sv_j · v_j) = Σ_j (p_j · sv_j) · v_j`: the value scale of position
//!   `j` is folded into the attention weight `p_j`, then `p'` is quantized to 16 bits and multiplied
//!   with the int8 rows of `v_hᵀ` (unit weight scales).
//!
//! Accumulation is exact in i32: 16-bit activations stay within [`kernels::i16_act_max`] of the
//! reduced length (`d`, then `len`; 32767 up to 511).

use super::blocks::{quantize_rows_i16, Heads};
use crate::kernels;

/// Keys and values of every position (shapes for a sequence of `len` tokens, `H = heads * d`).
pub(crate) enum Kv<'a> {
    /// `k f32 [heads, len, d]`, `v f32 [heads, d, len]`.
    F32 { k: &'a mut [f32], v: &'a mut [f32] },
    /// `k i8 [heads, len, d]` with scales `ks [heads, len]`, `v i8 [heads, d, len]` with scales
    /// `vs [heads, len]`; `row i8 [d]` is scratch, `ones f32 [d]` all 1.0.
    I8 {
        k: &'a mut [i8],
        ks: &'a mut [f32],
        v: &'a mut [i8],
        vs: &'a mut [f32],
        row: &'a mut [i8],
        ones: &'a [f32],
    },
}

impl Kv<'_> {
    /// Stores the key rows `src[m, H]` of positions `r0..r0 + m` (head-major).
    pub(crate) fn store_keys(&mut self, src: &[f32], hs: &Heads, r0: usize, m: usize, len: usize) {
        let d = hs.head_dim;
        match self {
            Kv::F32 { k, .. } => split_heads(k, src, hs, r0, m, len, false),
            Kv::I8 { k, ks, .. } => {
                for (t, head, part) in head_slices(src, hs, r0, m) {
                    let at = head * len + t;
                    ks[at] = kernels::quantize_row_i8(&mut k[at * d..(at + 1) * d], part);
                }
            }
        }
    }

    /// Stores the value rows `src[m, H]` of positions `r0..r0 + m` (transposed per head).
    pub(crate) fn store_values(&mut self, src: &[f32], hs: &Heads, r0: usize, m: usize, len: usize) {
        let d = hs.head_dim;
        match self {
            Kv::F32 { v, .. } => split_heads(v, src, hs, r0, m, len, true),
            Kv::I8 { v, vs, row, .. } => {
                let row = &mut row[..d];
                for (t, head, part) in head_slices(src, hs, r0, m) {
                    vs[head * len + t] = kernels::quantize_row_i8(row, part);
                    for (e, &val) in row.iter().enumerate() {
                        v[(head * d + e) * len + t] = val;
                    }
                }
            }
        }
    }

    /// `scores[m, len] = q_h[m, d] · k_hᵀ` for head `head`. `xq`, `xs` are scratch (int8 only).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn scores(
        &self,
        scores: &mut [f32],
        qh: &[f32],
        head: usize,
        d: usize,
        m: usize,
        len: usize,
        xq: &mut [i16],
        xs: &mut [f32],
    ) {
        let (scores, qh, kh) = (&mut scores[..m * len], &qh[..m * d], head * len * d..(head + 1) * len * d);
        match self {
            Kv::F32 { k, .. } => kernels::matmul_f32(scores, qh, &k[kh], m, d, len),
            Kv::I8 { k, ks, .. } => {
                let (xq, xs) = quantize_rows_i16(xq, xs, qh, m, d);
                kernels::matmul_i8_i16(scores, xq, xs, &k[kh], &ks[head * len..(head + 1) * len], m, d, len);
            }
        }
    }

    /// `out_h[m, d] = p[m, len] · v_h` for head `head`. `p` is consumed (int8: scaled in place);
    /// `xq`, `xs` are scratch (int8 only).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn context(
        &self,
        out: &mut [f32],
        p: &mut [f32],
        head: usize,
        d: usize,
        m: usize,
        len: usize,
        xq: &mut [i16],
        xs: &mut [f32],
    ) {
        let (out, p, vh) = (&mut out[..m * d], &mut p[..m * len], head * d * len..(head + 1) * d * len);
        match self {
            Kv::F32 { v, .. } => kernels::matmul_f32(out, p, &v[vh], m, len, d),
            Kv::I8 { v, vs, ones, .. } => {
                let vs = &vs[head * len..(head + 1) * len];
                for row in p.chunks_exact_mut(len) {
                    for (pj, &sv) in row.iter_mut().zip(vs) {
                        *pj *= sv;
                    }
                }
                let (xq, xs) = quantize_rows_i16(xq, xs, p, m, len);
                kernels::matmul_i8_i16(out, xq, xs, &v[vh], &ones[..d], m, len, d);
            }
        }
    }
}

/// `(position, head, slice [d])` of each head of each row of `src[m, H]` (rows at `r0..r0 + m`).
fn head_slices<'s>(
    src: &'s [f32],
    hs: &Heads,
    r0: usize,
    m: usize,
) -> impl Iterator<Item = (usize, usize, &'s [f32])> {
    let (d, h) = (hs.head_dim, hs.n_heads * hs.head_dim);
    src[..m * h].chunks_exact(h).enumerate().flat_map(move |(i, row)| {
        row.chunks_exact(d).enumerate().map(move |(head, part)| (r0 + i, head, part))
    })
}

/// Stores the `m` key or value rows `src[m, H]` of positions `r0..r0 + m` into the f32 layouts of a
/// sequence of `len` positions: keys head-major (`dst[head, t, e]`, `[heads, len, d]`), values
/// transposed (`dst[head, e, t]`, `[heads, d, len]`).
fn split_heads(dst: &mut [f32], src: &[f32], hs: &Heads, r0: usize, m: usize, len: usize, transpose: bool) {
    let d = hs.head_dim;
    for (t, head, part) in head_slices(src, hs, r0, m) {
        if transpose {
            for (e, &val) in part.iter().enumerate() {
                dst[(head * d + e) * len + t] = val;
            }
        } else {
            let at = (head * len + t) * d;
            dst[at..at + d].copy_from_slice(part);
        }
    }
}

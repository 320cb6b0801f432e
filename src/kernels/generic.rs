//! Portable scalar reference kernels: **the specification**.
//!
//! Every arch variant (`x86.rs`, later `neon.rs`, `cortex_m.rs`) has a function of the same name and
//! signature and is tested against the one here. These are also the fallback on targets without SIMD
//! (Cortex-M), so they stay simple: safe Rust, no `unsafe`, written so LLVM can vectorize them.
//!
//! Numerics (what "the spec" means):
//! - Float dot products use [`LANES`] interleaved accumulators: `acc[l] += a[i] * b[i]` for
//!   `i % LANES == l` over the whole-chunk prefix, then `(acc[0] + acc[1]) + (acc[2] + acc[3])`, then the
//!   `k % LANES` tail elements added one by one. Multiplies and adds are separate (never fused), so
//!   the result is bit-identical on every target. `matmul_f32` / `matmul_f16` produce, per output,
//!   exactly `dot_f32(x_row, w_row)` (with `w_row` widened to f32 for f16).
//! - Integer paths are exact: `matmul_i8_i16` accumulates in `i32`, `quantize_row_i8` rounds half away
//!   from zero. SIMD variants of these are bit-exact with this file. `matmul_i4_i16` takes exact i32
//!   group sums (`Σ x·u` and `Σ x`) times the f16 group scale and offset in f32, group by group
//!   (two multiplies, their sum, then the add to the accumulator; never fused).
//!
//! Contracts (lengths) are stated per function and checked with `debug_assert!`. In release builds a
//! violated contract never causes undefined behaviour: the kernels only use checked slice access and
//! iterate over the overlap of the given slices.

use crate::bounded::{head, head_mut, rows, span, tail};
use half::f16;

/// Number of interleaved accumulators in the float dot products (the summation order of the spec).
pub const LANES: usize = 4;

/// Rows of `w` processed together against one row of `x` in the matmuls (column blocking).
const NB: usize = 4;

/// Elements of an f16 weight row widened to f32 at a time (a multiple of [`LANES`]; stack scratch).
const F16_CHUNK: usize = 64;

/// Dot product of `a` and `b`.
///
/// Contract: `a.len() == b.len()` (any length, including 0 → `0.0`).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len(), "dot_f32: length mismatch");
    let [r] = dots_f32(a, [b]);
    r
}

/// `R` dot products of one row `x` against `R` rows `ws`, each bit-identical to [`dot_f32`].
#[inline(always)]
fn dots_f32<const R: usize>(x: &[f32], ws: [&[f32]; R]) -> [f32; R] {
    let mut acc = [[0.0f32; LANES]; R];
    let (xb, xt) = x.as_chunks::<LANES>();
    let wb = ws.map(|w| w.as_chunks::<LANES>().0);
    for (c, xc) in xb.iter().enumerate() {
        for (acc_r, w) in acc.iter_mut().zip(wb.iter()) {
            let Some(wc) = w.get(c) else { continue };
            for l in 0..LANES {
                acc_r[l] += xc[l] * wc[l];
            }
        }
    }
    let body = xb.len() * LANES;
    let mut out = [0.0f32; R];
    for ((o, a), w) in out.iter_mut().zip(acc.iter()).zip(ws.iter()) {
        let mut s = (a[0] + a[1]) + (a[2] + a[3]);
        for (xv, wv) in xt.iter().zip(tail(w, body)) {
            s += xv * wv;
        }
        *o = s;
    }
    out
}

/// `out[m, n] = x[m, k] · w[n, k]ᵀ` (f32 weights, PyTorch `Linear` layout).
///
/// Contract: `x.len() == m * k`, `w.len() == n * k`, `out.len() == m * n`; any of `m`, `k`, `n` may be
/// 0 (`k == 0` gives zeros). Each `out[i, j]` is bit-identical to `dot_f32(x[i, :], w[j, :])`.
pub fn matmul_f32(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    debug_assert_eq!(x.len(), m * k, "matmul_f32: x.len() != m*k");
    debug_assert_eq!(w.len(), n * k, "matmul_f32: w.len() != n*k");
    debug_assert_eq!(out.len(), m * n, "matmul_f32: out.len() != m*n");
    if n == 0 {
        return;
    }
    if k == 0 {
        out.fill(0.0);
        return;
    }
    for (orow, xrow) in out.chunks_exact_mut(n).zip(x.chunks_exact(k)).take(m) {
        let mut wrows = w.chunks_exact(k);
        let mut oblocks = orow.chunks_exact_mut(NB);
        for ob in &mut oblocks {
            let (Some(w0), Some(w1), Some(w2), Some(w3)) =
                (wrows.next(), wrows.next(), wrows.next(), wrows.next())
            else {
                return;
            };
            ob.copy_from_slice(&dots_f32(xrow, [w0, w1, w2, w3]));
        }
        for (o, wr) in oblocks.into_remainder().iter_mut().zip(wrows) {
            *o = dot_f32(xrow, wr);
        }
    }
}

/// `R` dot products of `R` rows `xs` against one f16 row `w`, each bit-identical to
/// `dot_f32(xs[r], w as f32)`; `w` is widened once per [`F16_CHUNK`] and reused for all rows.
#[inline(always)]
fn dots_f16<const R: usize>(xs: [&[f32]; R], w: &[f16]) -> [f32; R] {
    let k = w.len();
    let body = k / LANES * LANES;
    let mut acc = [[0.0f32; LANES]; R];
    let mut buf = [0.0f32; F16_CHUNK];
    for (c, wc) in head(w, body).chunks(F16_CHUNK).enumerate() {
        let wf = head_mut(&mut buf, wc.len());
        f16_to_f32(wf, wc);
        for (acc_r, x) in acc.iter_mut().zip(xs.iter()) {
            let xc = span(x, c * F16_CHUNK, wf.len());
            for (xl, wl) in xc.as_chunks::<LANES>().0.iter().zip(wf.as_chunks::<LANES>().0) {
                for l in 0..LANES {
                    acc_r[l] += xl[l] * wl[l];
                }
            }
        }
    }
    let mut out = [0.0f32; R];
    for ((o, a), x) in out.iter_mut().zip(acc.iter()).zip(xs.iter()) {
        let mut s = (a[0] + a[1]) + (a[2] + a[3]);
        for (xv, wv) in tail(x, body).iter().zip(tail(w, body)) {
            s += xv * wv.to_f32();
        }
        *o = s;
    }
    out
}

/// `out[m, n] = x[m, k] · w[n, k]ᵀ` with f16 weights, f32 accumulation.
///
/// Contract: as [`matmul_f32`]. Each `out[i, j]` is bit-identical to `dot_f32` of `x[i, :]` and the
/// f32 widening of `w[j, :]`.
pub fn matmul_f16(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    debug_assert_eq!(x.len(), m * k, "matmul_f16: x.len() != m*k");
    debug_assert_eq!(w.len(), n * k, "matmul_f16: w.len() != n*k");
    debug_assert_eq!(out.len(), m * n, "matmul_f16: out.len() != m*n");
    if n == 0 {
        return;
    }
    if k == 0 {
        out.fill(0.0);
        return;
    }
    // Row blocking: each f16 weight row is widened once per NB rows of x.
    let m = m.min(x.len() / k).min(out.len() / n);
    for (j, wrow) in w.chunks_exact(k).take(n).enumerate() {
        let mut i = 0;
        while i + NB <= m {
            let r = dots_f16([row(x, i, k), row(x, i + 1, k), row(x, i + 2, k), row(x, i + 3, k)], wrow);
            for (d, v) in r.iter().enumerate() {
                if let Some(o) = out.get_mut((i + d) * n + j) {
                    *o = *v;
                }
            }
            i += NB;
        }
        for i in i..m {
            let [v] = dots_f16([row(x, i, k)], wrow);
            if let Some(o) = out.get_mut(i * n + j) {
                *o = v;
            }
        }
    }
}

/// Row `i` of a row-major matrix with `k` columns.
#[inline(always)]
fn row(a: &[f32], i: usize, k: usize) -> &[f32] {
    rows(a, i, 1, k)
}

/// Largest activation magnitude [`quantize_row_i16`] may produce for rows of length `k`, so that
/// `matmul_i8_i16`'s i32 accumulation is exact: `k * qmax * 128 <= i32::MAX` (128 also covers a
/// hostile `-128` weight). 32767 for `k <= 511`, 11 MiB / k beyond (e.g. 10922 at k = 1536).
pub const fn i16_act_max(k: usize) -> i32 {
    // a k so large that k * 128 overflows gets 0 (no row that long fits in memory)
    let bound = match (i32::MAX as usize).checked_div((if k == 0 { 1 } else { k }).wrapping_mul(128)) {
        Some(b) => b,
        None => 0,
    };
    if bound > 32767 {
        32767
    } else {
        bound as i32
    }
}

/// Symmetric per-row 16-bit activation quantization with `qmax` levels each side
/// (`1 <= qmax <= 32767`, usually [`i16_act_max`]`(k)`).
///
/// `amax = max |src|` (NaNs ignored). If `amax` is not finite and positive: `dst = 0`, returns `0.0`.
/// Else `inv = qmax / amax`, `dst[i] = clamp(roundf(src[i] * inv), -qmax, qmax)` (round half away
/// from zero; NaN gives 0) and returns `amax / qmax`.
///
/// Contract: `dst.len() == src.len()`.
pub fn quantize_row_i16(dst: &mut [i16], src: &[f32], qmax: i32) -> f32 {
    debug_assert_eq!(dst.len(), src.len(), "quantize_row_i16: length mismatch");
    let q = qmax.clamp(1, 32767) as f32;
    let amax = max_abs(src);
    if !(amax > 0.0 && amax.is_finite()) {
        dst.fill(0);
        return 0.0;
    }
    let inv = q / amax;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = round_clamped(s * inv, q) as i16;
    }
    amax / q
}

/// `max |v|` over `src`, NaNs ignored (`0.0` for an empty row): what `fold(0.0, f32::max)` gives,
/// with a comparison per element, because `f32::max` is a libm `fmaxf` call on FPUs without a
/// max instruction (the Cortex-M4's FPv4: 4% of a classification's instructions went there).
#[inline(always)]
pub(crate) fn max_abs(src: &[f32]) -> f32 {
    src.iter().fold(0.0f32, |m, &v| {
        let a = libm::fabsf(v);
        if a > m {
            a
        } else {
            m
        }
    })
}

/// `roundf(v).clamp(-q, q)` as an integer (round half away from zero; NaN gives 0) for an
/// integer-valued `q` in `1..=32767`, without a software rounding routine: `t = trunc(2v)` is one
/// hardware conversion (VCVT on a Cortex-M4F; `2v` is exact, the conversion saturates and maps NaN
/// to 0), and `t / 2 + t % 2` (both truncating toward zero) is `v` rounded half away from zero.
/// Clamping after rounding gives the same result because `q` is an integer.
#[inline(always)]
pub(crate) fn round_clamped(v: f32, q: f32) -> i32 {
    let t = (v * 2.0) as i32;
    let qi = q as i32;
    (t / 2 + t % 2).max(-qi).min(qi)
}

/// `out[i,j] = ((Σ_p xq[i,p] · w[j,p]) as f32 · xs[i]) · ws[j]`: 16-bit activations times int8
/// weights with exact i32 accumulation (given activations within [`i16_act_max`]`(k)`; beyond it
/// the sum wraps, never panics). The accuracy of f32 activations at the cost of an int8 matmul:
/// x86 `vpmaddwd` and Cortex-M `SMLAD` multiply 16-bit pairs natively.
///
/// Contract: `out.len() == m*n`, `xq.len() == m*k`, `xs.len() == m`, `w.len() == n*k`, `ws.len() == n`.
#[allow(clippy::too_many_arguments)]
pub fn matmul_i8_i16(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[i8],
    ws: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    debug_assert_eq!(xq.len(), m * k, "matmul_i8_i16: xq.len() != m*k");
    debug_assert_eq!(xs.len(), m, "matmul_i8_i16: xs.len() != m");
    debug_assert_eq!(w.len(), n * k, "matmul_i8_i16: w.len() != n*k");
    debug_assert_eq!(ws.len(), n, "matmul_i8_i16: ws.len() != n");
    debug_assert_eq!(out.len(), m * n, "matmul_i8_i16: out.len() != m*n");
    if n == 0 {
        return;
    }
    if k == 0 {
        out.fill(0.0);
        return;
    }
    for ((orow, xrow), &sx) in out.chunks_exact_mut(n).zip(xq.chunks_exact(k)).zip(xs).take(m) {
        for ((o, wrow), &sw) in orow.iter_mut().zip(w.chunks_exact(k)).zip(ws) {
            *o = (dot_i16_i8(xrow, wrow) as f32 * sx) * sw;
        }
    }
}

/// Asymmetric per-row 8-bit activation quantization after a per-column smoothing factor (the
/// SmoothQuant migration: the weights were multiplied by `1 / inv_smooth` column by column when the
/// blob was made, so `x · Wᵀ` is unchanged; the smoothed row has fewer outlier columns).
///
/// `y[p] = src[p] · inv_smooth[p]`; `lo = min(0, min y)`, `hi = max(0, max y)` (NaNs ignored). If
/// `hi - lo` is not finite and positive: `dst = 0`, returns `(0.0, 0)`. Else `inv = 255 / (hi - lo)`,
/// `zp = roundf(-lo · inv)` (in `0..=255`), `dst[p] = clamp(roundf(y[p] · inv) + zp, 0, 255)` (round
/// half away from zero; NaN gives `zp`), and it returns `((hi - lo) / 255, zp)`: `y[p]` is about
/// `(dst[p] - zp) · scale`. Every value is a plain f32 product (never fused), so the result is
/// the same on every target.
///
/// Contract: `dst.len() == src.len() == inv_smooth.len()`.
pub fn quantize_row_u8(dst: &mut [u8], src: &[f32], inv_smooth: &[f32]) -> (f32, u8) {
    debug_assert_eq!(dst.len(), src.len(), "quantize_row_u8: length mismatch");
    debug_assert_eq!(inv_smooth.len(), src.len(), "quantize_row_u8: length mismatch");
    let Some((inv, zp, scale)) = u8_grid(src, inv_smooth) else {
        dst.fill(0);
        return (0.0, 0);
    };
    for ((d, &s), &f) in dst.iter_mut().zip(src).zip(inv_smooth) {
        *d = u8_level(s * f, inv, zp) as u8;
    }
    (scale, zp as u8)
}

/// [`quantize_row_u8`] written as the signed 16-bit activations `dst[p] - zp` (in `-255..=255`) of
/// [`matmul_i8_i16`], which then computes exactly what [`matmul_i8_u8`] does: the form taken
/// where no 8-bit matmul kernel is faster. Returns the scale.
pub fn quantize_row_u8_centered(dst: &mut [i16], src: &[f32], inv_smooth: &[f32]) -> f32 {
    debug_assert_eq!(dst.len(), src.len(), "quantize_row_u8_centered: length mismatch");
    debug_assert_eq!(inv_smooth.len(), src.len(), "quantize_row_u8_centered: length mismatch");
    let Some((inv, zp, scale)) = u8_grid(src, inv_smooth) else {
        dst.fill(0);
        return 0.0;
    };
    for ((d, &s), &f) in dst.iter_mut().zip(src).zip(inv_smooth) {
        *d = (u8_level(s * f, inv, zp) - zp) as i16;
    }
    scale
}

/// The grid of [`quantize_row_u8`]: `(inv, zp, scale)` for the smoothed row, or `None` when its
/// range `hi - lo` is not finite and positive.
#[inline(always)]
pub(crate) fn u8_grid(src: &[f32], inv_smooth: &[f32]) -> Option<(f32, i32, f32)> {
    let (mut lo, mut hi) = (0.0f32, 0.0f32);
    for (&s, &f) in src.iter().zip(inv_smooth) {
        let y = s * f;
        if y < lo {
            lo = y;
        }
        if y > hi {
            hi = y;
        }
    }
    u8_grid_of(lo, hi)
}

/// The grid of [`quantize_row_u8`] for a smoothed row whose range is `lo = min(0, min y)`, `hi =
/// max(0, max y)` (the one definition; the SIMD quantizers reduce `lo` and `hi` their own way, then
/// call this).
#[inline(always)]
pub(crate) fn u8_grid_of(lo: f32, hi: f32) -> Option<(f32, i32, f32)> {
    let range = hi - lo;
    if !(range > 0.0 && range.is_finite()) {
        return None;
    }
    let inv = 255.0 / range;
    Some((inv, round_clamped(-lo * inv, 255.0), range / 255.0))
}

/// One level of [`quantize_row_u8`]: `clamp(roundf(y · inv) + zp, 0, 255)`.
#[inline(always)]
pub(crate) fn u8_level(y: f32, inv: f32, zp: i32) -> i32 {
    (round_clamped(y * inv, 255.0) + zp).clamp(0, 255)
}

/// `out[i,j] = ((Σ_p (xu[i,p] − zp[i]) · w[j,p]) as f32 · xs[i]) · ws[j]`: 8-bit asymmetric
/// activations ([`quantize_row_u8`]) times int8 weights with exact i32 accumulation (wrapping beyond
/// `k = 65793`). Exactly [`matmul_i8_i16`] of the centered activations
/// ([`quantize_row_u8_centered`]); x86 VNNI `vpdpbusd` multiplies unsigned 8-bit activations by
/// signed 8-bit weights, 64 per instruction, twice `vpdpwssd`'s 16-bit pairs (the zero point
/// is taken off afterwards with the weight row's sum: `Σ xu·w − zp·Σ w`).
///
/// Contract: `out.len() == m*n`, `xu.len() == m*k`, `zp.len() == xs.len() == m`, `w.len() == n*k`,
/// `ws.len() == n`.
#[allow(clippy::too_many_arguments)]
pub fn matmul_i8_u8(
    out: &mut [f32],
    xu: &[u8],
    zp: &[u8],
    xs: &[f32],
    w: &[i8],
    ws: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    debug_assert_eq!(xu.len(), m * k, "matmul_i8_u8: xu.len() != m*k");
    debug_assert_eq!(zp.len(), m, "matmul_i8_u8: zp.len() != m");
    debug_assert_eq!(xs.len(), m, "matmul_i8_u8: xs.len() != m");
    debug_assert_eq!(w.len(), n * k, "matmul_i8_u8: w.len() != n*k");
    debug_assert_eq!(ws.len(), n, "matmul_i8_u8: ws.len() != n");
    debug_assert_eq!(out.len(), m * n, "matmul_i8_u8: out.len() != m*n");
    if n == 0 {
        return;
    }
    if k == 0 {
        out.fill(0.0);
        return;
    }
    for (((orow, xrow), &z), &sx) in out.chunks_exact_mut(n).zip(xu.chunks_exact(k)).zip(zp).zip(xs).take(m) {
        for ((o, wrow), &sw) in orow.iter_mut().zip(w.chunks_exact(k)).zip(ws) {
            let d = xrow
                .iter()
                .zip(wrow)
                .fold(0i32, |s, (&x, &y)| s.wrapping_add((x as i32 - z as i32) * y as i32));
            *o = (d as f32 * sx) * sw;
        }
    }
}

/// Exact integer dot product of an `i16` row and an `i8` row (i32 accumulation, wrapping).
#[inline(always)]
pub(crate) fn dot_i16_i8(a: &[i16], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32))
}

/// Values per int4 block: a block is 16 bytes, byte `t` holding value `t` in its low nibble and
/// value `16 + t` in its high nibble (see [`matmul_i4_i16`]).
pub const I4_BLOCK: usize = 32;

/// `out[i,j] = acc · xs[i]` with, over the groups `g` in order,
/// `acc = acc + ((d_g as f32) · ws[j, g] + (sx_g as f32) · wm[j, g])`, where
/// `d_g = Σ_{p in group g} xq[i,p] · u[j,p]` and `sx_g = Σ_{p in group g} xq[i,p]` are exact in i32:
/// 16-bit activations times group-wise int4 weights `u · scale + min` (GGUF `Q4_1` style), half
/// the weight bytes of [`matmul_i8_i16`]. Each product is rounded, then their sum, then the add to
/// `acc` (never a fused multiply-add), so the result is the same on every target.
///
/// Weights `w[n, k]` (PyTorch `Linear` layout) hold two values per byte: row `j` is the bytes
/// `[j·k/2, (j+1)·k/2)`, a sequence of blocks of [`I4_BLOCK`] values in 16 bytes; byte `t` of block
/// `b` holds value `32b + t` in its low nibble and value `32b + 16 + t` in its high nibble. A nibble
/// `u` (`0..=15`) is used as is: value `p` of row `j` is `u · ws[jg] + wm[jg]` with
/// `jg = j·(k/group) + p/group` (the f16 scale and offset ("min") of its group, widened exactly to
/// f32). `|d_g| <= 64 · 32768 · 15 < 2^31` and `|sx_g| <= 64 · 32768 = 2^21`, so both are exact in
/// i32 for any i16 activations (`sx_g` also in f32; `d_g` is rounded to f32 once).
///
/// Contract: `group` is 32 or 64, `k % group == 0`, `xq.len() == m*k`, `xs.len() == m`,
/// `w.len() == n*k/2`, `ws.len() == wm.len() == n*(k/group)`, `out.len() == m*n` (any of `m`, `n`,
/// `k` may be 0; `k == 0` gives zeros). In release builds a broken contract gives unspecified
/// values, never a panic.
#[allow(clippy::too_many_arguments)]
pub fn matmul_i4_i16(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
    m: usize,
    k: usize,
    n: usize,
) {
    debug_assert!(group == 32 || group == 64, "matmul_i4_i16: group is not 32 or 64");
    debug_assert!(k.is_multiple_of(group), "matmul_i4_i16: k % group != 0");
    debug_assert_eq!(xq.len(), m * k, "matmul_i4_i16: xq.len() != m*k");
    debug_assert_eq!(xs.len(), m, "matmul_i4_i16: xs.len() != m");
    debug_assert_eq!(w.len(), n * k / 2, "matmul_i4_i16: w.len() != n*k/2");
    debug_assert_eq!(
        ws.len(),
        n * k.checked_div(group).unwrap_or(0),
        "matmul_i4_i16: ws.len() != n*(k/group)"
    );
    debug_assert_eq!(wm.len(), ws.len(), "matmul_i4_i16: wm.len() != ws.len()");
    debug_assert_eq!(out.len(), m * n, "matmul_i4_i16: out.len() != m*n");
    if n == 0 {
        return;
    }
    // Groups per row; 0 for k == 0 (and for a broken contract, which also yields zeros).
    let gpr = if group >= I4_BLOCK && group.is_multiple_of(I4_BLOCK) { k / group } else { 0 };
    if gpr == 0 {
        out.fill(0.0);
        return;
    }
    let row_bytes = k / 2;
    for ((orow, xrow), &sx) in out.chunks_exact_mut(n).zip(xq.chunks_exact(k)).zip(xs).take(m) {
        let rows = w.chunks_exact(row_bytes).zip(ws.chunks_exact(gpr)).zip(wm.chunks_exact(gpr));
        for (o, ((wrow, srow), mrow)) in orow.iter_mut().zip(rows) {
            *o = dot_i4_groups(xrow, wrow, srow, mrow, group) * sx;
        }
    }
}

/// `Σ_g ((d_g as f32) · s_g + (sx_g as f32) · mn_g)` in group order (two multiplies, their sum, then
/// the add; never fused) for one activation row `x` and one weight row `w` with its scales `s` and
/// offsets `mn` ([`matmul_i4_i16`] before the final `· xs[i]`).
#[inline(always)]
pub(crate) fn dot_i4_groups(x: &[i16], w: &[u8], s: &[f16], mn: &[f16], group: usize) -> f32 {
    let mut acc = 0.0f32;
    if group < 2 {
        return acc;
    }
    let groups = x.chunks_exact(group).zip(w.chunks_exact(group / 2)).zip(s.iter().zip(mn));
    for ((xg, wg), (s, mn)) in groups {
        let d = dot_i16_i4(xg, wg) as f32 * s.to_f32();
        let sx = sum_i16(xg) as f32 * mn.to_f32();
        acc += d + sx;
    }
    acc
}

/// Exact sum of `i16` values in i32 (wrapping; exact for up to 65536 values).
#[inline(always)]
pub(crate) fn sum_i16(x: &[i16]) -> i32 {
    x.iter().fold(0i32, |s, &v| s.wrapping_add(v as i32))
}

/// Exact integer dot product of `i16` values and the unsigned nibbles `u` of int4 blocks (layout of
/// [`matmul_i4_i16`]): `x` holds [`I4_BLOCK`] values per 16 bytes of `w` (i32 accumulation,
/// wrapping; exact for one group).
#[inline(always)]
pub(crate) fn dot_i16_i4(x: &[i16], w: &[u8]) -> i32 {
    let mut d = 0i32;
    for (xb, wb) in x.chunks_exact(I4_BLOCK).zip(w.chunks_exact(I4_BLOCK / 2)) {
        let (xlo, xhi) = xb.split_at(I4_BLOCK / 2);
        for ((&b, &xl), &xh) in wb.iter().zip(xlo).zip(xhi) {
            let (ul, uh) = ((b & 0x0F) as i32, (b >> 4) as i32);
            d = d.wrapping_add(xl as i32 * ul).wrapping_add(xh as i32 * uh);
        }
    }
    d
}

/// Symmetric per-row int8 quantization: the reference quantizer (the host tool makes blobs with it,
/// so it is deterministic bit for bit on every target).
///
/// `amax = max |src|` (NaNs ignored). If `amax` is not finite and positive: `dst = 0`, returns `0.0`.
/// Else `scale = amax / 127`, `inv = 127 / amax`, `dst[i] = clamp(roundf(src[i] * inv), -127, 127)`
/// (round half away from zero; a NaN element gives 0) and returns `scale`.
///
/// Contract: `dst.len() == src.len()`.
pub fn quantize_row_i8(dst: &mut [i8], src: &[f32]) -> f32 {
    debug_assert_eq!(dst.len(), src.len(), "quantize_row_i8: length mismatch");
    let amax = max_abs(src);
    if !(amax > 0.0 && amax.is_finite()) {
        dst.fill(0);
        return 0.0;
    }
    let inv = 127.0 / amax;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = quantize_one(s, inv);
    }
    amax / 127.0
}

/// One element of [`quantize_row_i8`]: `clamp(roundf(s * inv), -127, 127) as i8`, NaN → 0.
#[inline(always)]
pub(crate) fn quantize_one(s: f32, inv: f32) -> i8 {
    round_clamped(s * inv, 127.0) as i8
}

/// `y += a * x` elementwise (separate multiply and add, not fused).
///
/// Contract: `y.len() == x.len()`.
pub fn axpy_f32(y: &mut [f32], a: f32, x: &[f32]) {
    debug_assert_eq!(y.len(), x.len(), "axpy_f32: length mismatch");
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += a * xv;
    }
}

/// Sum of a row with the same [`LANES`] accumulator order as [`dot_f32`].
#[inline(always)]
fn sum_f32(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in chunks.remainder() {
        s += v;
    }
    s
}

/// LayerNorm of one row in place, biased variance (PyTorch):
/// `x = (x - mean) / sqrt(var + eps) * gamma + beta`.
///
/// Contract: `gamma.len() == beta.len() == x.len()`, `eps > 0`. An empty row is left unchanged.
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    debug_assert_eq!(gamma.len(), x.len(), "layer_norm: gamma length");
    debug_assert_eq!(beta.len(), x.len(), "layer_norm: beta length");
    if x.is_empty() {
        return;
    }
    let inv_n = 1.0 / x.len() as f32;
    let mean = sum_f32(x) * inv_n;
    let mut acc = [0.0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            let d = c[l] - mean;
            acc[l] += d * d;
        }
    }
    let mut ss = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in chunks.remainder() {
        ss += (v - mean) * (v - mean);
    }
    let rstd = 1.0 / libm::sqrtf(ss * inv_n + eps);
    for ((v, g), b) in x.iter_mut().zip(gamma).zip(beta) {
        *v = (*v - mean) * rstd * g + b;
    }
}

/// Numerically stable softmax in place: `x = exp(x - max) / Σ exp(x - max)`.
///
/// Contract: none on length (an empty row is left unchanged). A row of all `-inf` gives NaNs, as in
/// PyTorch; callers mask with a large finite negative instead.
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m }); // NaNs ignored
    let mut sum = 0.0f32;
    for v in x.iter_mut() {
        *v = libm::expf(*v - max);
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// Exact GELU in place: `x = 0.5 * x * (1 + erf(x / sqrt(2)))` (`libm::erff`).
pub fn gelu_erf(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + libm::erff(*v * core::f32::consts::FRAC_1_SQRT_2));
    }
}

/// GELU, tanh approximation, in place (GPT-2's `gelu_new`):
/// `x = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`.
pub fn gelu_tanh(x: &mut [f32]) {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    for v in x.iter_mut() {
        let u = SQRT_2_OVER_PI * (*v + 0.044715 * *v * *v * *v);
        *v = 0.5 * *v * (1.0 + libm::tanhf(u));
    }
}

/// SwiGLU in place: `gate = silu(gate) * up`, `silu(g) = g / (1 + exp(-g))` (Llama's MLP).
///
/// Contract: `gate.len() == up.len()`.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    debug_assert_eq!(gate.len(), up.len(), "silu_mul: lengths");
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + libm::expf(-*g)) * u;
    }
}

/// RMSNorm in place: `x = x / sqrt(mean(x^2) + eps) * gamma` (Llama's `LlamaRMSNorm`, the mean
/// of squares accumulated in f32 as PyTorch does in fp32).
///
/// Contract: `gamma.len() == x.len()`.
pub fn rms_norm(x: &mut [f32], gamma: &[f32], eps: f32) {
    debug_assert_eq!(gamma.len(), x.len(), "rms_norm: gamma length");
    if x.is_empty() {
        return;
    }
    let mut acc = [0.0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            acc[l] += c[l] * c[l];
        }
    }
    let mut ss = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in chunks.remainder() {
        ss += v * v;
    }
    let rstd = 1.0 / libm::sqrtf(ss / x.len() as f32 + eps);
    for (v, g) in x.iter_mut().zip(gamma) {
        *v = *v * rstd * g;
    }
}

/// Rotary position embedding of one head in place, "rotate half" layout (Hugging Face Llama):
/// for `i < d/2`, `(x[i], x[i + d/2])` is rotated by the angle whose cosine and sine are
/// `cos[i]`, `sin[i]`: `x[i] = x[i] c - x[i + d/2] s`, `x[i + d/2] = x[i + d/2] c + x[i] s`.
///
/// Contract: `x.len() == 2 * cos.len() == 2 * sin.len()`.
pub fn rope_half(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    let half = x.len() / 2;
    debug_assert_eq!(cos.len(), half, "rope_half: cos length");
    debug_assert_eq!(sin.len(), half, "rope_half: sin length");
    let (lo, hi) = x.split_at_mut(half);
    for (((a, b), &c), &s) in lo.iter_mut().zip(hi.iter_mut()).zip(cos).zip(sin) {
        let (x0, x1) = (*a, *b);
        *a = x0 * c - x1 * s;
        *b = x1 * c + x0 * s;
    }
}

/// `x = tanh(x)` in place (`libm::tanhf`).
pub fn tanh_inplace(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = libm::tanhf(*v);
    }
}

/// `x[i, :] += b` for every row of `x[m, n]`, where `n = b.len()`.
///
/// Contract: `x.len()` is a multiple of `b.len()` (`b` may be empty only if `x` is).
pub fn add_bias(x: &mut [f32], b: &[f32]) {
    debug_assert!(
        if b.is_empty() { x.is_empty() } else { x.len().is_multiple_of(b.len()) },
        "add_bias: x.len() not a multiple of b.len()"
    );
    if b.is_empty() {
        return;
    }
    for row in x.chunks_mut(b.len()) {
        add_inplace_unchecked(row, b);
    }
}

/// `y += x` elementwise.
///
/// Contract: `y.len() == x.len()`.
pub fn add_inplace(y: &mut [f32], x: &[f32]) {
    debug_assert_eq!(y.len(), x.len(), "add_inplace: length mismatch");
    add_inplace_unchecked(y, x);
}

#[inline(always)]
fn add_inplace_unchecked(y: &mut [f32], x: &[f32]) {
    for (yv, xv) in y.iter_mut().zip(x) {
        *yv += xv;
    }
}

/// `x *= s` elementwise.
pub fn scale_inplace(x: &mut [f32], s: f32) {
    for v in x.iter_mut() {
        *v *= s;
    }
}

/// `x /= max(‖x‖₂, 1e-12)` (`torch.nn.functional.normalize` semantics; a zero row stays zero).
pub fn l2_normalize(x: &mut [f32]) {
    let norm = libm::sqrtf(dot_f32(x, x));
    let inv = 1.0 / norm.max(1e-12);
    scale_inplace(x, inv);
}

/// `dst = src` widened from f16 to f32 (exact; embedding lookup).
///
/// Contract: `dst.len() == src.len()`.
pub fn f16_to_f32(dst: &mut [f32], src: &[f16]) {
    debug_assert_eq!(dst.len(), src.len(), "f16_to_f32: length mismatch");
    for (d, s) in dst.iter_mut().zip(src) {
        *d = s.to_f32();
    }
}

#[cfg(test)]
mod tests {
    use super::round_clamped;

    /// The specification of `round_clamped`: libm's `roundf`, then the clamp.
    fn reference(v: f32, q: f32) -> i32 {
        libm::roundf(v).clamp(-q, q) as i32
    }

    #[test]
    fn round_clamped_is_roundf_then_clamp() {
        let specials = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999997,
            -0.49999997,
            126.5,
            127.49998,
            127.5,
            -127.5,
            32766.5,
            32767.0,
            32767.5,
            -32768.0,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            8388607.5,
            16777216.0,
        ];
        for q in [1.0f32, 127.0, 255.0, 32767.0] {
            for &v in &specials {
                assert_eq!(round_clamped(v, q), reference(v, q), "v {v:e} q {q}");
            }
            // every half-integer and its neighbours in range
            for k in -33000..33000 {
                let h = k as f32 + 0.5;
                for v in [h, f32::from_bits(h.to_bits() - 1), f32::from_bits(h.to_bits() + 1)] {
                    assert_eq!(round_clamped(v, q), reference(v, q), "v {v:e} q {q}");
                }
            }
        }
        // a sweep of bit patterns up to 65536.0, both signs
        for bits in (0u32..0x4780_0000).step_by(61) {
            for v in [f32::from_bits(bits), -f32::from_bits(bits)] {
                assert_eq!(round_clamped(v, 32767.0), reference(v, 32767.0), "v {v:e}");
                assert_eq!(round_clamped(v, 127.0), reference(v, 127.0), "v {v:e}");
            }
        }
    }
}

//! aarch64 variants: Advanced SIMD (NEON), baseline on every AArch64 application core. Same names
//! and signatures as [`generic`]: the four matmuls, the int8 and 16-bit row quantizers (bit-exact),
//! dot/axpy, and softmax and SwiGLU with a polynomial `exp` ([`exp4`], the algorithm of the x86
//! `exp8`), GELU with the rational `erf` of the x86 `erf8` ([`erf4`]).
//!
//! Compiled only where the target has NEON (`target_feature = "neon"`: every AArch64 target but the
//! `-softfloat` ones). Every public function here is safe to call: it runs the SIMD path only when
//! [`super::has_neon`] says the build has NEON **and** the slice lengths satisfy the contract, and
//! otherwise calls the [`generic`] kernel (a broken contract behaves exactly as it does there). The
//! choice between generic and NEON is still made in `kernels/mod.rs`; the checks here only make the
//! functions sound on their own (tests call them directly).
//!
//! Matmuls use register-blocked micro-tiles: [`MR`] rows of `x` × [`NR`] rows of `w` (32 vector
//! registers hold the accumulators, the weight vectors and the activations without spills). The
//! outer loop walks blocks of `w` (streamed once), the inner loop all rows of `x`. No software
//! prefetch: unlike the x86 kernels this has not been measured on hardware.
//!
//! Integer kernels:
//! - `matmul_i8_i16` sign-extends the i8 weights to i16 (`sxtl`/`sxtl2`) and multiplies them with
//!   the 16-bit activations by `smlal`/`smlal2` into i32 lanes (wrapping adds, reduced by `addv`),
//!   so it is bit-exact with [`generic::matmul_i8_i16`]; the float epilogue is the same
//!   `((acc as f32) * xs[i]) * ws[j]`. The activations are 16-bit on purpose (accuracy), so the
//!   i8 × i8 dot-product instructions (`sdot`, FEAT_DotProd) do not apply.
//! - `matmul_i4_i16` splits the int4 nibbles with `and`/`ushr`, widens them to i16 (`uxtl`) and
//!   uses `smlal`/`smlal2` the same way, for exact per-group sums `Σ x·u`; `Σ x` comes from
//!   `sadalp` on the activations already loaded. Then, per group in order, the f32 operations of
//!   [`generic::matmul_i4_i16`] on 4 outputs at once: `scvtf`, `fmul`, `fmul`, `fadd`, `fadd`
//!   (never a fused multiply-add), so it is bit-exact too. The f16 scales and offsets are widened
//!   exactly by `fcvtl`.
//! - The quantizers round with `fcvtas` (round to nearest, ties away from zero: `roundf`), then
//!   clamp in integers, which equals the generic clamp-then-round for an integer bound.
//!
//! Float kernels differ from [`generic`] by summation order and FMA rounding only (tested to a
//! relative 1e-5). f16 weights are widened by `fcvtl`/`fcvtl2` in inline `asm!` (the `vcvt_f32_f16`
//! intrinsic needs the unstable `f16` type). No alignment is required anywhere (unaligned loads;
//! tails go through zero-padded stack buffers or scalar code).
#![allow(unsafe_code)]

use core::arch::aarch64::*;
use core::arch::asm;

use half::f16;

use super::{generic, mm_lens_ok};

/// Rows of `x` per micro-tile.
pub const MR: usize = 2;
/// Rows of `w` per micro-tile.
pub const NR: usize = 4;

/// NEON variant of [`generic::matmul_f32`] (same contract; float tolerance vs generic).
pub fn matmul_f32(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    if !(super::has_neon() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f32(out, x, w, m, k, n);
    }
    // SAFETY: the build has NEON (checked above), and the lengths were checked above, which is all
    // the tile loops rely on to stay in bounds.
    unsafe { matmul_f32_neon(out, x, w, m, k, n) }
}

/// NEON variant of [`generic::matmul_f16`] (same contract; float tolerance vs generic).
pub fn matmul_f16(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    if !(super::has_neon() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f16(out, x, w, m, k, n);
    }
    // SAFETY: the build has NEON (checked above); lengths checked above.
    unsafe { matmul_f16_neon(out, x, w, m, k, n) }
}

/// NEON variant of [`generic::matmul_i8_i16`] (same contract; bit-exact with generic).
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
    let ok = mm_lens_ok(out.len(), xq.len(), w.len(), m, k, n) && xs.len() == m && ws.len() == n;
    if !(super::has_neon() && ok) {
        return generic::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    // SAFETY: the build has NEON (checked above); lengths checked above.
    unsafe { matmul_i8_i16_neon(out, xq, xs, w, ws, m, k, n) }
}

/// NEON variant of [`generic::matmul_i4_i16`] (same contract; bit-exact with generic).
///
/// Bit-exact because it performs the same arithmetic: each group's `d_g = Σ x·u` and
/// `sx_g = Σ x` exactly in i32, `d_g as f32 · scale` and `sx_g as f32 · min` each rounded once,
/// their sum rounded (no FMA), added to the accumulator group by group in order, then `· xs[i]`.
/// Only the order of the exact integer additions differs from [`generic`].
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
    let ok = (group == 32 || group == 64)
        && k != 0
        && k.is_multiple_of(group)
        && m.checked_mul(k) == Some(xq.len())
        && n.checked_mul(k / 2) == Some(w.len())
        && n.checked_mul(k / group) == Some(ws.len())
        && wm.len() == ws.len()
        && m.checked_mul(n) == Some(out.len())
        && xs.len() == m;
    if !(super::has_neon() && ok) {
        return generic::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    // SAFETY: the build has NEON (checked above); `group` and the lengths checked above.
    unsafe { matmul_i4_i16_neon(out, xq, xs, w, ws, wm, group, m, k, n) }
}

/// NEON variant of [`generic::quantize_row_i8`] (same contract; bit-exact with generic).
pub fn quantize_row_i8(dst: &mut [i8], src: &[f32]) -> f32 {
    if !(super::has_neon() && dst.len() == src.len()) {
        return generic::quantize_row_i8(dst, src);
    }
    // SAFETY: the build has NEON (checked above); equal lengths checked above.
    unsafe { quantize_row_i8_neon(dst, src) }
}

/// NEON variant of [`generic::quantize_row_i16`] (same contract; bit-exact with generic).
pub fn quantize_row_i16(dst: &mut [i16], src: &[f32], qmax: i32) -> f32 {
    if !(super::has_neon() && dst.len() == src.len()) {
        return generic::quantize_row_i16(dst, src, qmax);
    }
    // SAFETY: the build has NEON (checked above); equal lengths checked above.
    unsafe { quantize_row_i16_neon(dst, src, qmax) }
}

/// NEON variant of [`generic::dot_f32`] (same contract; float tolerance vs generic).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    if !(super::has_neon() && a.len() == b.len()) {
        return generic::dot_f32(a, b);
    }
    // SAFETY: the build has NEON (checked above); equal lengths checked above.
    unsafe { dot_f32_neon(a, b) }
}

/// NEON variant of [`generic::axpy_f32`] (fused multiply-add: float tolerance vs generic).
pub fn axpy_f32(y: &mut [f32], a: f32, x: &[f32]) {
    if !(super::has_neon() && y.len() == x.len()) {
        return generic::axpy_f32(y, a, x);
    }
    // SAFETY: the build has NEON (checked above); equal lengths checked above.
    unsafe { axpy_f32_neon(y, a, x) }
}

/// NEON variant of [`generic::softmax`]: `exp` by the polynomial of [`exp4`] (a few ulp from libm's
/// `expf`) and a lane-parallel sum (float tolerance vs generic).
pub fn softmax(x: &mut [f32]) {
    if !super::has_neon() {
        return generic::softmax(x);
    }
    // SAFETY: the build has NEON (checked above).
    unsafe { softmax_neon(x) }
}

/// NEON variant of [`generic::gelu_erf`]: `erf` by the rational approximation of [`erf4`] (float
/// tolerance vs generic).
pub fn gelu_erf(x: &mut [f32]) {
    if !super::has_neon() {
        return generic::gelu_erf(x);
    }
    // SAFETY: the build has NEON (checked above).
    unsafe { gelu_erf_neon(x) }
}

/// NEON variant of [`generic::silu_mul`]: `exp` by [`exp4`] (float tolerance vs generic).
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    if !(super::has_neon() && gate.len() == up.len()) {
        return generic::silu_mul(gate, up);
    }
    // SAFETY: the build has NEON (checked above); equal lengths checked above.
    unsafe { silu_mul_neon(gate, up) }
}

// ---------------------------------------------------------------------------------------------------
// Helpers. All `unsafe fn`s below require NEON, plus the bounds they state.

/// `[lo | hi]`: 8 f16 bit patterns widened exactly to f32 by `fcvtl` / `fcvtl2` (subnormals,
/// infinities and NaNs included).
#[inline]
#[target_feature(enable = "neon")]
fn cvt8_f16(h: uint16x8_t) -> (float32x4_t, float32x4_t) {
    let (lo, hi): (float32x4_t, float32x4_t);
    // SAFETY: register-only conversions (NEON is enabled in this function); no memory, no stack, no
    // flags read or written.
    unsafe {
        asm!(
            "fcvtl {lo:v}.4s, {h:v}.4h",
            "fcvtl2 {hi:v}.4s, {h:v}.8h",
            lo = out(vreg) lo, // written before `h` is read again: not a `lateout`
            hi = lateout(vreg) hi,
            h = in(vreg) h,
            options(pure, nomem, nostack, preserves_flags)
        )
    };
    (lo, hi)
}

/// 4 f16 bit patterns widened exactly to f32 by `fcvtl`.
#[inline]
#[target_feature(enable = "neon")]
fn cvt4_f16(h: uint16x4_t) -> float32x4_t {
    let v: float32x4_t;
    // SAFETY: a register-only conversion (NEON is enabled here); no memory, no stack, no flags.
    unsafe {
        asm!(
            "fcvtl {v:v}.4s, {h:v}.4h",
            v = lateout(vreg) v,
            h = in(vreg) h,
            options(pure, nomem, nostack, preserves_flags)
        )
    };
    v
}

/// Loads 8 f32 at `p`. Requires NEON and 8 readable f32 at `p`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load8_f32(p: *const f32) -> (float32x4_t, float32x4_t) {
    // SAFETY: the caller guarantees 8 readable f32 at `p`.
    unsafe { (vld1q_f32(p), vld1q_f32(p.add(4))) }
}

/// Loads the first `r < 8` f32 at `p`, zeros elsewhere. Requires `r` readable f32 at `p`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load_tail_f32(p: *const f32, r: usize) -> (float32x4_t, float32x4_t) {
    debug_assert!(r < 8);
    let mut buf = [0.0f32; 8];
    // SAFETY: `r < 8` readable f32 at `p` (caller) copied into the 8-element stack buffer, which is
    // then read whole.
    unsafe {
        core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), r);
        load8_f32(buf.as_ptr())
    }
}

/// Loads 8 f16 at `p` widened to f32. Requires NEON and 8 readable f16 (16 bytes) at `p`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load8_f16(p: *const f16) -> (float32x4_t, float32x4_t) {
    // SAFETY: 16 readable bytes at `p` (caller); `f16` is a `repr(transparent)` u16 holding IEEE
    // binary16 bits, which is what `fcvtl` reads.
    cvt8_f16(unsafe { vld1q_u16(p as *const u16) })
}

/// Loads the first `r < 8` f16 at `p` widened to f32, zeros elsewhere. Requires `r` readable f16.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load_tail_f16(p: *const f16, r: usize) -> (float32x4_t, float32x4_t) {
    debug_assert!(r < 8);
    let mut buf = [f16::ZERO; 8];
    // SAFETY: `r < 8` readable f16 at `p` (caller) copied into the 8-element stack buffer, which is
    // then read whole.
    unsafe {
        core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), r);
        load8_f16(buf.as_ptr())
    }
}

/// The first `r <= 4` f32 at `p` in the low lanes, `fill` in the others. Requires `r` readable f32.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load_part(p: *const f32, r: usize, fill: f32) -> float32x4_t {
    debug_assert!(r <= 4);
    let mut buf = [fill; 4];
    // SAFETY: `r <= 4` readable f32 at `p` (caller) into the 4-element stack buffer, read whole.
    unsafe {
        core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), r);
        vld1q_f32(buf.as_ptr())
    }
}

/// Stores the low `r <= 4` lanes of `v` at `p`. Requires `r` writable f32 at `p`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn store_part(p: *mut f32, r: usize, v: float32x4_t) {
    debug_assert!(r <= 4);
    let mut buf = [0.0f32; 4];
    // SAFETY: the 4-element stack buffer is written whole, then `r <= 4` f32 copied to `p`, writable
    // (caller).
    unsafe {
        vst1q_f32(buf.as_mut_ptr(), v);
        core::ptr::copy_nonoverlapping(buf.as_ptr(), p, r);
    }
}

// ---------------------------------------------------------------------------------------------------
// f32 / f16 matmul: one tile loop, stamped out per weight type.

macro_rules! float_matmul {
    ($matmul:ident, $tile:ident, $W:ty, $load8:ident, $load_tail:ident) => {
        /// All tiles of `out[m, n] = x[m, k] · w[n, k]ᵀ`: full `MR × NR` tiles, then the edges.
        ///
        /// Requires NEON and the exact lengths of the matmul contract.
        #[target_feature(enable = "neon")]
        unsafe fn $matmul(out: &mut [f32], x: &[f32], w: &[$W], m: usize, k: usize, n: usize) {
            let (o, xp, wp) = (out.as_mut_ptr(), x.as_ptr(), w.as_ptr());
            // SAFETY: every tile has i0 + rows <= m and j0 + cols <= n, which the exact lengths
            // (caller) make in bounds for x, w and out.
            unsafe {
                let mut j = 0;
                while j + NR <= n {
                    let mut i = 0;
                    while i + MR <= m {
                        $tile::<MR, NR>(o, xp, wp, i, j, k, n);
                        i += MR;
                    }
                    while i < m {
                        $tile::<1, NR>(o, xp, wp, i, j, k, n);
                        i += 1;
                    }
                    j += NR;
                }
                while j < n {
                    let mut i = 0;
                    while i + MR <= m {
                        $tile::<MR, 1>(o, xp, wp, i, j, k, n);
                        i += MR;
                    }
                    while i < m {
                        $tile::<1, 1>(o, xp, wp, i, j, k, n);
                        i += 1;
                    }
                    j += 1;
                }
            }
        }

        /// One `R × C` tile: `out[i0 + r, j0 + c] = x[i0 + r, :] · w[j0 + c, :]`, 8 columns per
        /// step into two 4-lane FMA accumulators per output (the `k % 8` tail zero-padded).
        ///
        /// Requires NEON, rows `i0..i0 + R` of `x[_, k]`, rows `j0..j0 + C` of `w[_, k]` and the
        /// matching elements of `out[_, n]` in bounds.
        #[inline]
        #[target_feature(enable = "neon")]
        #[allow(clippy::needless_range_loop)]
        unsafe fn $tile<const R: usize, const C: usize>(
            out: *mut f32,
            x: *const f32,
            w: *const $W,
            i0: usize,
            j0: usize,
            k: usize,
            n: usize,
        ) {
            let zero = vdupq_n_f32(0.0);
            let mut acc = [[[zero; 2]; C]; R];
            let mut wv = [[zero; 2]; C];
            // SAFETY: rows i0..i0+R of x and j0..j0+C of w are in bounds (caller); every load reads
            // columns p..p+8 with p + 8 <= k, or the tail p..k (copied). The stores hit
            // out[i0 + r, j0 + c], in bounds (caller).
            unsafe {
                let xr = x.add(i0 * k);
                let wr = w.add(j0 * k);
                let mut p = 0;
                while p + 8 <= k {
                    for c in 0..C {
                        let (a, b) = $load8(wr.add(c * k + p));
                        wv[c] = [a, b];
                    }
                    for r in 0..R {
                        let (x0, x1) = load8_f32(xr.add(r * k + p));
                        for c in 0..C {
                            acc[r][c][0] = vfmaq_f32(acc[r][c][0], x0, wv[c][0]);
                            acc[r][c][1] = vfmaq_f32(acc[r][c][1], x1, wv[c][1]);
                        }
                    }
                    p += 8;
                }
                if p < k {
                    let rem = k - p;
                    for c in 0..C {
                        let (a, b) = $load_tail(wr.add(c * k + p), rem);
                        wv[c] = [a, b];
                    }
                    for r in 0..R {
                        let (x0, x1) = load_tail_f32(xr.add(r * k + p), rem);
                        for c in 0..C {
                            acc[r][c][0] = vfmaq_f32(acc[r][c][0], x0, wv[c][0]);
                            acc[r][c][1] = vfmaq_f32(acc[r][c][1], x1, wv[c][1]);
                        }
                    }
                }
                for r in 0..R {
                    for c in 0..C {
                        let s = vaddvq_f32(vaddq_f32(acc[r][c][0], acc[r][c][1]));
                        *out.add((i0 + r) * n + j0 + c) = s;
                    }
                }
            }
        }
    };
}

float_matmul!(matmul_f32_neon, tile_f32, f32, load8_f32, load_tail_f32);
float_matmul!(matmul_f16_neon, tile_f16, f16, load8_f16, load_tail_f16);

// ---------------------------------------------------------------------------------------------------
// 16-bit activations x int8 weights.

/// All tiles of `matmul_i8_i16`. Requires NEON and the exact lengths of the contract.
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i8_i16_neon(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[i8],
    ws: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    // SAFETY: every tile has i0 + rows <= m and j0 + cols <= n, in bounds by the exact lengths (caller).
    unsafe {
        let mut j = 0;
        while j + NR <= n {
            let mut i = 0;
            while i + MR <= m {
                tile_i8_i16::<MR, NR>(out, xq, xs, w, ws, i, j, k, n);
                i += MR;
            }
            while i < m {
                tile_i8_i16::<1, NR>(out, xq, xs, w, ws, i, j, k, n);
                i += 1;
            }
            j += NR;
        }
        while j < n {
            let mut i = 0;
            while i + MR <= m {
                tile_i8_i16::<MR, 1>(out, xq, xs, w, ws, i, j, k, n);
                i += MR;
            }
            while i < m {
                tile_i8_i16::<1, 1>(out, xq, xs, w, ws, i, j, k, n);
                i += 1;
            }
            j += 1;
        }
    }
}

/// One `R × C` tile: 16 columns per step, 16 weight bytes per row of `w` sign-extended to two i16
/// vectors (`sxtl`, `sxtl2`), two i16 activation vectors per row of `x`, 4 `smlal`/`smlal2` per
/// output into two i32 accumulators (wrapping adds; each product is exact), reduced by `addv`; the
/// `k % 16` tail in scalar i32, then the generic float epilogue.
///
/// Requires NEON, rows `i0..i0 + R` of `xq[_, k]`, `j0..j0 + C` of `w[_, k]` and the matching
/// `out` elements in bounds.
#[inline]
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn tile_i8_i16<const R: usize, const C: usize>(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[i8],
    ws: &[f32],
    i0: usize,
    j0: usize,
    k: usize,
    n: usize,
) {
    let zero = vdupq_n_s32(0);
    let mut acc = [[[zero; 2]; C]; R];
    let mut wv = [[vdupq_n_s16(0); 2]; C];
    let body = k / 16 * 16;
    // SAFETY: rows i0..i0+R of xq and j0..j0+C of w are in bounds (caller); each load reads columns
    // p..p+16 with p + 16 <= body <= k.
    unsafe {
        let xr = xq.as_ptr().add(i0 * k);
        let wr = w.as_ptr().add(j0 * k);
        let mut p = 0;
        while p < body {
            for c in 0..C {
                let b = vld1q_s8(wr.add(c * k + p));
                wv[c] = [vmovl_s8(vget_low_s8(b)), vmovl_high_s8(b)];
            }
            for r in 0..R {
                let x0 = vld1q_s16(xr.add(r * k + p));
                let x1 = vld1q_s16(xr.add(r * k + p + 8));
                for c in 0..C {
                    let [w0, w1] = wv[c];
                    let a = vmlal_s16(acc[r][c][0], vget_low_s16(x0), vget_low_s16(w0));
                    acc[r][c][0] = vmlal_high_s16(a, x0, w0);
                    let b = vmlal_s16(acc[r][c][1], vget_low_s16(x1), vget_low_s16(w1));
                    acc[r][c][1] = vmlal_high_s16(b, x1, w1);
                }
            }
            p += 16;
        }
    }
    for r in 0..R {
        let i = i0 + r;
        let xrow = &xq[i * k..i * k + k];
        for c in 0..C {
            let j = j0 + c;
            let wrow = &w[j * k..j * k + k];
            let s = vaddvq_s32(vaddq_s32(acc[r][c][0], acc[r][c][1]));
            let dot = s.wrapping_add(generic::dot_i16_i8(&xrow[body..], &wrow[body..]));
            out[i * n + j] = (dot as f32 * xs[i]) * ws[j];
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 16-bit activations x group-wise int4 weights.

/// All tiles of `matmul_i4_i16`: `2 × 4` tiles for pairs of rows of `x`, a `1 × 4` tile for a last
/// odd row (the decode GEMV), then the last `n % 4` rows of `w` by the generic per-output code
/// (bit-exact with it by construction).
///
/// Requires NEON, `group` 32 or 64, `k > 0` a multiple of `group`, and the exact lengths of the
/// contract.
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i4_i16_neon(
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
    let mut j = 0;
    // SAFETY: every tile has i0 + rows <= m and j0 + 4 <= n, in bounds by the exact lengths (caller).
    unsafe {
        while j + 4 <= n {
            let mut i = 0;
            while i + 2 <= m {
                tile_i4_i16::<2>(out, xq, xs, w, ws, wm, group, i, j, k, n);
                i += 2;
            }
            if i < m {
                tile_i4_i16::<1>(out, xq, xs, w, ws, wm, group, i, j, k, n);
            }
            j += 4;
        }
    }
    let (gpr, row_bytes) = (k / group, k / 2);
    for j in j..n {
        let wrow = &w[j * row_bytes..(j + 1) * row_bytes];
        let (srow, mrow) = (&ws[j * gpr..(j + 1) * gpr], &wm[j * gpr..(j + 1) * gpr]);
        for i in 0..m {
            let xrow = &xq[i * k..(i + 1) * k];
            out[i * n + j] = generic::dot_i4_groups(xrow, wrow, srow, mrow, group) * xs[i];
        }
    }
}

/// The f16 values `src[(j0 + c)·gpr + g]` for `c` in `0..4` (scales or offsets of 4 rows of `w`,
/// one group), widened exactly to f32.
///
/// Requires NEON and the 4 indices in bounds.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn f16_col4(src: &[f16], j0: usize, gpr: usize, g: usize) -> float32x4_t {
    let mut bits = [0u16; 4];
    for (c, b) in bits.iter_mut().enumerate() {
        // SAFETY: in bounds (caller).
        *b = unsafe { src.get_unchecked((j0 + c) * gpr + g) }.to_bits();
    }
    // SAFETY: reads the 4-element stack array.
    cvt4_f16(unsafe { vld1_u16(bits.as_ptr()) })
}

/// One `R × 4` tile of `matmul_i4_i16` (`R` 1 or 2), a group at a time.
///
/// Per block of 32 values: 16 weight bytes per row of `w`, the low nibbles (`and`, values 0..16
/// of the block) and the high ones (`ushr`, values 16..32) widened to i16 (`uxtl`, `uxtl2`); four
/// i16 activation vectors per row of `x`, also summed into `Σx` by `sadalp`; 8 `smlal`/`smlal2` per
/// output into i32 lanes (exact: `|Σ x·u| <= 64 · 32768 · 15 < 2^31`; with one row of `x`, two
/// accumulators per output for more independent chains). At the end of each group: `addp` reduces
/// the 4 outputs' lanes to one vector `d_g`, and `acc = acc + ((d_g as f32) · scale + (sx_g as f32)
/// · min)` on the 4 outputs at once (each operation rounded, none fused: the order of
/// [`generic::matmul_i4_i16`]). Finally `out = acc · xs[i]`.
///
/// Requires NEON, `group` 32 or 64, `k > 0` a multiple of `group`, rows `i0..i0 + R` of
/// `xq[_, k]`, rows `j0..j0 + 4` of `w[_, k/2]`, `ws[_, k/group]` and `wm[_, k/group]`, and the
/// matching `out` elements in bounds.
#[inline]
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn tile_i4_i16<const R: usize>(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    group: usize,
    i0: usize,
    j0: usize,
    k: usize,
    n: usize,
) {
    const C: usize = 4;
    const { assert!(R == 1 || R == 2) };
    let gpr = k / group;
    let row_bytes = k / 2;
    let zero = vdupq_n_s32(0);
    let nib = vdupq_n_u8(0x0F);
    // With one row of x, the second half of each block goes to a second accumulator.
    let second = if R == 1 { 1 } else { 0 };
    let mut facc = [vdupq_n_f32(0.0); R];
    // SAFETY: rows i0..i0+R of xq, j0..j0+4 of w, ws and wm, and out[i0 + r, j0..j0 + 4] are in
    // bounds (caller). Group g covers columns g·group..(g + 1)·group <= k of x and bytes
    // g·group/2..(g + 1)·group/2 <= k/2 of each row of w; `f16_col4` reads group g < gpr of rows
    // j0..j0 + 4.
    unsafe {
        let xr = xq.as_ptr().add(i0 * k);
        let wr = w.as_ptr().add(j0 * row_bytes);
        for g in 0..gpr {
            let mut d = [[[zero; 2]; C]; R];
            let mut sx = [zero; R];
            for col in (g * group..(g + 1) * group).step_by(32) {
                let mut xv = [[vdupq_n_s16(0); 4]; R];
                for r in 0..R {
                    for (q, v) in xv[r].iter_mut().enumerate() {
                        *v = vld1q_s16(xr.add(r * k + col + 8 * q));
                        sx[r] = vpadalq_s16(sx[r], *v);
                    }
                }
                for c in 0..C {
                    let b = vld1q_u8(wr.add(c * row_bytes + col / 2));
                    let (lo, hi) = (vandq_u8(b, nib), vshrq_n_u8::<4>(b));
                    let u = [
                        vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(lo))),
                        vreinterpretq_s16_u16(vmovl_high_u8(lo)),
                        vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(hi))),
                        vreinterpretq_s16_u16(vmovl_high_u8(hi)),
                    ];
                    for r in 0..R {
                        let [x0, x1, x2, x3] = xv[r];
                        let a = vmlal_s16(d[r][c][0], vget_low_s16(x0), vget_low_s16(u[0]));
                        let a = vmlal_high_s16(a, x0, u[0]);
                        let a = vmlal_s16(a, vget_low_s16(x1), vget_low_s16(u[1]));
                        d[r][c][0] = vmlal_high_s16(a, x1, u[1]);
                        let b = vmlal_s16(d[r][c][second], vget_low_s16(x2), vget_low_s16(u[2]));
                        let b = vmlal_high_s16(b, x2, u[2]);
                        let b = vmlal_s16(b, vget_low_s16(x3), vget_low_s16(u[3]));
                        d[r][c][second] = vmlal_high_s16(b, x3, u[3]);
                    }
                }
            }
            let sc = f16_col4(ws, j0, gpr, g);
            let mn = f16_col4(wm, j0, gpr, g);
            for r in 0..R {
                let e = d[r].map(|[a, b]| if R == 1 { vaddq_s32(a, b) } else { a });
                // Lane c: Σ x·u of row c of w (exact, wrapping like the generic i32 sums).
                let dg = vpaddq_s32(vpaddq_s32(e[0], e[1]), vpaddq_s32(e[2], e[3]));
                let sxg = vdupq_n_f32(vaddvq_s32(sx[r]) as f32);
                let t = vaddq_f32(vmulq_f32(vcvtq_f32_s32(dg), sc), vmulq_f32(sxg, mn));
                facc[r] = vaddq_f32(facc[r], t);
            }
        }
        for r in 0..R {
            let v = vmulq_f32(facc[r], vdupq_n_f32(xs[i0 + r]));
            vst1q_f32(out.as_mut_ptr().add((i0 + r) * n + j0), v);
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Vector kernels.

/// Requires NEON and `a.len() == b.len()`.
#[target_feature(enable = "neon")]
unsafe fn dot_f32_neon(a: &[f32], b: &[f32]) -> f32 {
    let len = a.len();
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    let mut acc = [vdupq_n_f32(0.0); 4];
    let mut p = 0;
    // SAFETY: every load reads elements p..p+4 with p + 4 <= len of both slices (equal lengths,
    // caller).
    let s = unsafe {
        while p + 16 <= len {
            for (u, a_u) in acc.iter_mut().enumerate() {
                let q = p + 4 * u;
                *a_u = vfmaq_f32(*a_u, vld1q_f32(ap.add(q)), vld1q_f32(bp.add(q)));
            }
            p += 16;
        }
        while p + 4 <= len {
            acc[0] = vfmaq_f32(acc[0], vld1q_f32(ap.add(p)), vld1q_f32(bp.add(p)));
            p += 4;
        }
        vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])))
    };
    a[p..].iter().zip(&b[p..]).fold(s, |s, (x, y)| s + x * y)
}

/// Requires NEON and `y.len() == x.len()`.
#[target_feature(enable = "neon")]
unsafe fn axpy_f32_neon(y: &mut [f32], a: f32, x: &[f32]) {
    let len = y.len();
    let body = len / 4 * 4;
    let av = vdupq_n_f32(a);
    let (yp, xp) = (y.as_mut_ptr(), x.as_ptr());
    // SAFETY: each access covers elements p..p+4 with p + 4 <= body <= len of both slices.
    unsafe {
        let mut p = 0;
        while p < body {
            vst1q_f32(yp.add(p), vfmaq_f32(vld1q_f32(yp.add(p)), av, vld1q_f32(xp.add(p))));
            p += 4;
        }
    }
    for (yv, xv) in y[body..].iter_mut().zip(&x[body..]) {
        *yv += a * xv;
    }
}

/// `max |src|` with NaNs skipped (quiet and signaling alike), as the generic quantizers fold it: NaN
/// lanes (`fcmeq v, v` false) count as 0 before the `fmax` (order-independent, so equal to the
/// sequential fold).
#[target_feature(enable = "neon")]
fn amax_neon(src: &[f32]) -> f32 {
    let body = src.len() / 4 * 4;
    let sp = src.as_ptr();
    let zero = vdupq_n_f32(0.0);
    // SAFETY: loads read elements p..p+4 with p + 4 <= body <= src.len().
    let mut amax = unsafe {
        let mut acc = zero;
        let mut p = 0;
        while p < body {
            let v = vld1q_f32(sp.add(p));
            let a = vbslq_f32(vceqq_f32(v, v), vabsq_f32(v), zero);
            acc = vmaxq_f32(acc, a);
            p += 4;
        }
        vmaxvq_f32(acc)
    };
    for &v in &src[body..] {
        // A comparison, not `f32::max`: that is `fmaxnm` here, which returns NaN for a signaling NaN.
        let a = libm::fabsf(v);
        if a > amax {
            amax = a;
        }
    }
    amax
}

/// `clamp(roundf(v), -q, q)` per lane for an integer-valued bound `q` (as `qv = ±q` in i32):
/// `fcvtas` rounds to nearest with ties away from zero (saturating; NaN gives 0), and clamping the
/// integer afterwards equals [`generic::round_clamped`]'s clamp-then-round.
#[inline]
#[target_feature(enable = "neon")]
fn round_clamp4(v: float32x4_t, lo: int32x4_t, hi: int32x4_t) -> int32x4_t {
    vminq_s32(vmaxq_s32(vcvtaq_s32_f32(v), lo), hi)
}

/// Requires NEON and `dst.len() == src.len()`. Bit-exact with [`generic::quantize_row_i8`]: the
/// same `amax` (NaNs skipped), the same IEEE multiply, then [`round_clamp4`] and a narrowing
/// (`sqxtn`, in range already).
#[target_feature(enable = "neon")]
unsafe fn quantize_row_i8_neon(dst: &mut [i8], src: &[f32]) -> f32 {
    let len = src.len();
    let body = len / 8 * 8;
    let amax = amax_neon(src);
    if !(amax > 0.0 && amax.is_finite()) {
        dst.fill(0);
        return 0.0;
    }
    let inv = 127.0 / amax;
    let invv = vdupq_n_f32(inv);
    let (lo, hi) = (vdupq_n_s32(-127), vdupq_n_s32(127));
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    // SAFETY: loads read src[p..p+8] and the 8-byte store writes dst[p..p+8], p + 8 <= body <= len.
    unsafe {
        let mut p = 0;
        while p < body {
            let a = round_clamp4(vmulq_f32(vld1q_f32(sp.add(p)), invv), lo, hi);
            let b = round_clamp4(vmulq_f32(vld1q_f32(sp.add(p + 4)), invv), lo, hi);
            let h = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
            vst1_s8(dp.add(p), vqmovn_s16(h));
            p += 8;
        }
    }
    for (d, &s) in dst[body..].iter_mut().zip(&src[body..]) {
        *d = generic::quantize_one(s, inv);
    }
    amax / 127.0
}

/// Requires NEON and `dst.len() == src.len()`. Bit-exact with [`generic::quantize_row_i16`]: the
/// same `amax` (NaNs skipped), the same IEEE multiply, then [`round_clamp4`] and a narrowing
/// (`sqxtn`, in range already).
#[target_feature(enable = "neon")]
unsafe fn quantize_row_i16_neon(dst: &mut [i16], src: &[f32], qmax: i32) -> f32 {
    let len = src.len();
    let body = len / 8 * 8;
    let amax = amax_neon(src);
    if !(amax > 0.0 && amax.is_finite()) {
        dst.fill(0);
        return 0.0;
    }
    let qi = qmax.clamp(1, 32767);
    let q = qi as f32;
    let inv = q / amax;
    let invv = vdupq_n_f32(inv);
    let (lo, hi) = (vdupq_n_s32(-qi), vdupq_n_s32(qi));
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    // SAFETY: loads read src[p..p+8] and the 16-byte store writes dst[p..p+8], p + 8 <= body <= len.
    unsafe {
        let mut p = 0;
        while p < body {
            let a = round_clamp4(vmulq_f32(vld1q_f32(sp.add(p)), invv), lo, hi);
            let b = round_clamp4(vmulq_f32(vld1q_f32(sp.add(p + 4)), invv), lo, hi);
            vst1q_s16(dp.add(p), vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)));
            p += 8;
        }
    }
    for (d, &v) in dst[body..].iter_mut().zip(&src[body..]) {
        *d = generic::round_clamped(v * inv, q) as i16;
    }
    amax / q
}

// ---------------------------------------------------------------------------------------------------
// Activations.

/// `exp(x)` per lane, the algorithm of the x86 `exp8`: `x` clamped to `[-120, 88.8]`,
/// `x = n·ln2 + r` (two-constant Cody-Waite, `|r| <= ln2/2`), a degree-7 Taylor polynomial for `e^r`
/// (truncation < 6e-9 relative), then `· 2^n` in two exact power-of-two factors `2^(n >> 1)` and
/// `2^(n - (n >> 1))` (each a normal float, so only the last product rounds, with gradual underflow
/// to 0 and overflow to inf). Max error about 2 ulp over the normal range; NaN propagates (`fmax`
/// and `fmin` return NaN), `-inf` gives 0.
#[inline]
#[target_feature(enable = "neon")]
fn exp4(x: float32x4_t) -> float32x4_t {
    let x = vminq_f32(vdupq_n_f32(88.8), vmaxq_f32(vdupq_n_f32(-120.0), x));
    let n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(core::f32::consts::LOG2_E)));
    let r = vfmsq_f32(x, n, vdupq_n_f32(0.693_359_4)); // ln2 high part (Cephes C1 = 355/512)
    let r = vfmsq_f32(r, n, vdupq_n_f32(-2.121_944_4e-4)); // ln2 - C1
    let mut p = vdupq_n_f32(1.0 / 5040.0);
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = vfmaq_f32(vdupq_n_f32(c), p, r);
    }
    // n in [-174, 129] (NaN lanes convert to 0, but p is NaN there already).
    let ni = vcvtq_s32_f32(n);
    let n1 = vshrq_n_s32::<1>(ni);
    let n2 = vsubq_s32(ni, n1);
    let bias = vdupq_n_s32(127);
    let f1 = vreinterpretq_f32_s32(vshlq_n_s32::<23>(vaddq_s32(n1, bias)));
    let f2 = vreinterpretq_f32_s32(vshlq_n_s32::<23>(vaddq_s32(n2, bias)));
    vmulq_f32(vmulq_f32(p, f1), f2)
}

/// `erf(x)` per lane, the approximation of the x86 `erf8`: Eigen's rational function
/// `x·P(x²)/Q(x²)` on `x` clamped to `[-4, 4]`, exactly ±1 from `|x| >= 3.92` on (where erf rounds
/// to ±1 in f32). Max absolute error about 1e-7; NaN propagates.
#[inline]
#[target_feature(enable = "neon")]
fn erf4(x: float32x4_t) -> float32x4_t {
    let x = vminq_f32(vdupq_n_f32(4.0), vmaxq_f32(vdupq_n_f32(-4.0), x));
    let x2 = vmulq_f32(x, x);
    let mut p = vdupq_n_f32(-2.726_142_3e-10);
    for c in [2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_6e-3, -1.609_603_3e-2] {
        p = vfmaq_f32(vdupq_n_f32(c), p, x2);
    }
    let mut q = vdupq_n_f32(-1.456_607_2e-5);
    for c in [-2.133_740_5e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2] {
        q = vfmaq_f32(vdupq_n_f32(c), q, x2);
    }
    let e = vdivq_f32(vmulq_f32(x, p), q);
    let big = vcgeq_f32(vabsq_f32(x), vdupq_n_f32(3.92));
    // ±1 with the sign of x: the sign bit from x, the rest from 1.0.
    let one = vbslq_f32(vdupq_n_u32(0x8000_0000), x, vdupq_n_f32(1.0));
    vbslq_f32(big, one, e)
}

/// Requires NEON.
#[target_feature(enable = "neon")]
unsafe fn gelu_erf_neon(x: &mut [f32]) {
    let len = x.len();
    let xp = x.as_mut_ptr();
    let (half, one) = (vdupq_n_f32(0.5), vdupq_n_f32(1.0));
    let rsqrt2 = vdupq_n_f32(core::f32::consts::FRAC_1_SQRT_2);
    let gelu = |v| vmulq_f32(vmulq_f32(half, v), vaddq_f32(one, erf4(vmulq_f32(v, rsqrt2))));
    // SAFETY: full-vector accesses cover p..p+4 with p + 4 <= len; the tail reads and writes the
    // elements p..len only.
    unsafe {
        let mut p = 0;
        while p + 4 <= len {
            vst1q_f32(xp.add(p), gelu(vld1q_f32(xp.add(p))));
            p += 4;
        }
        if p < len {
            store_part(xp.add(p), len - p, gelu(load_part(xp.add(p), len - p, 0.0)));
        }
    }
}

/// Requires NEON.
#[target_feature(enable = "neon")]
unsafe fn softmax_neon(x: &mut [f32]) {
    let len = x.len();
    let xp = x.as_mut_ptr();
    let neg_inf = f32::NEG_INFINITY;
    // SAFETY: full-vector accesses cover p..p+4 with p + 4 <= len; the tails read and write the
    // elements p..len only.
    unsafe {
        let mut mx = vdupq_n_f32(neg_inf);
        let mut p = 0;
        while p + 4 <= len {
            mx = vmaxnmq_f32(mx, vld1q_f32(xp.add(p))); // a quiet NaN lane keeps `mx` (like `f32::max`)
            p += 4;
        }
        if p < len {
            mx = vmaxnmq_f32(mx, load_part(xp.add(p), len - p, neg_inf));
        }
        let mxv = vdupq_n_f32(vmaxnmvq_f32(mx));
        let mut sum = vdupq_n_f32(0.0);
        p = 0;
        while p + 4 <= len {
            let e = exp4(vsubq_f32(vld1q_f32(xp.add(p)), mxv));
            vst1q_f32(xp.add(p), e);
            sum = vaddq_f32(sum, e);
            p += 4;
        }
        if p < len {
            // Padding lanes are -inf: exp gives 0 and adds nothing.
            let e = exp4(vsubq_f32(load_part(xp.add(p), len - p, neg_inf), mxv));
            store_part(xp.add(p), len - p, e);
            sum = vaddq_f32(sum, e);
        }
        let inv = vdupq_n_f32(1.0 / vaddvq_f32(sum));
        p = 0;
        while p + 4 <= len {
            vst1q_f32(xp.add(p), vmulq_f32(vld1q_f32(xp.add(p)), inv));
            p += 4;
        }
        if p < len {
            store_part(xp.add(p), len - p, vmulq_f32(load_part(xp.add(p), len - p, 0.0), inv));
        }
    }
}

/// Requires NEON and `gate.len() == up.len()`.
#[target_feature(enable = "neon")]
unsafe fn silu_mul_neon(gate: &mut [f32], up: &[f32]) {
    let len = gate.len();
    let (gp, upp) = (gate.as_mut_ptr(), up.as_ptr());
    let one = vdupq_n_f32(1.0);
    let silu_mul = |g, u| vmulq_f32(vdivq_f32(g, vaddq_f32(one, exp4(vnegq_f32(g)))), u);
    // SAFETY: full-vector accesses cover p..p+4 with p + 4 <= len of both slices (equal lengths,
    // caller); the tail reads and writes the elements p..len only.
    unsafe {
        let mut p = 0;
        while p + 4 <= len {
            vst1q_f32(gp.add(p), silu_mul(vld1q_f32(gp.add(p)), vld1q_f32(upp.add(p))));
            p += 4;
        }
        if p < len {
            let r = len - p;
            let v = silu_mul(load_part(gp.add(p), r, 0.0), load_part(upp.add(p), r, 0.0));
            store_part(gp.add(p), r, v);
        }
    }
}

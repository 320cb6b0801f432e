//! x86_64 variants: AVX2 + FMA (+ F16C for f16 weights and int4 scales and offsets). Same names and
//! signatures as [`generic`]: the four matmuls, the int8 and 16-bit row quantizers (bit-exact),
//! dot/axpy, and softmax and SwiGLU with a polynomial `exp` ([`exp8`], a few ulp from libm's
//! `expf`), GELU with a rational `erf` ([`erf8`]).
//!
//! Every public function here is safe to call on any x86_64 CPU: it runs the SIMD path only when
//! [`super::has_avx2_fma`] (or [`super::has_avx2_fma_f16c`]) says the CPU supports it **and** the
//! slice lengths satisfy the contract, and otherwise calls the [`generic`] kernel (so a broken contract
//! behaves exactly as it does there: a `debug_assert!` in debug builds, never undefined behaviour).
//! The choice between generic and x86 is still made in `kernels/mod.rs`; the checks here only make
//! the functions sound on their own (tests call them directly).
//!
//! Matmuls use register-blocked micro-tiles: [`MR`] rows of `x` × [`NR`] rows of `w`, each of the
//! `MR * NR` outputs an 8-lane FMA accumulator over `k`, reduced horizontally at the end. The outer
//! loop walks blocks of `w` (streamed once), the inner loop all rows of `x` (hot in L1/L2).
//! [`matmul_f32_gemm`] and [`matmul_f16_gemm`] are the prefill (many rows of `x`) variants: weight
//! rows packed on the fly into k-major panels on the stack, a broadcast microkernel over them (see
//! there); which one a call takes is decided from the whole `m` in `kernels/mod.rs`.
//!
//! Decode runs these with `m = 1`, where every weight byte is read once from memory and used once:
//! the speed is the memory bandwidth the loop reaches. The first row tile of each block of `w`
//! therefore prefetches ahead ([`PREFETCH_AHEAD`] bytes past the end of its block), one cache line
//! per 64 weight bytes it consumes, so the lines arrive before the loads need them. On an AMD EPYC
//! (AVX2) this took the SmolLM2-135M int8 GEMVs from about 3.4 to 7.5 GB/s; the hardware prefetcher
//! alone does not follow the `NR` short row streams in time.
//!
//! `matmul_i8_i16` widens the i8 weights to i16 (`vpmovsxbw`) and uses `vpmaddwd` into i32 lanes with
//! wrapping adds, so it is bit-exact with [`generic::matmul_i8_i16`]. `matmul_i4_i16` (group-wise
//! int4 weights with a scale and an offset per group) widens the nibbles to i16 the same way,
//! reduces the i32 lanes to exact per-group sums (`vphaddd`, a lane per output) and then does the
//! f32 operations of the generic kernel in its order, so it is bit-exact too; it uses F16C for the
//! scales and offsets. No alignment is required anywhere (unaligned loads; f32 tails use masked
//! loads, integer tails scalar code).
#![allow(unsafe_code)]

use core::arch::x86_64::*;

use half::f16;

use super::{generic, mm_lens_ok};
use crate::bounded;

/// Rows of `x` per micro-tile.
pub const MR: usize = 2;
/// How far past the end of its own block of `w` the first row tile prefetches, in bytes (about
/// 300 ns of streaming at 8 GB/s; 2 KiB and 32 KiB measured slower on the AMD EPYC).
pub const PREFETCH_AHEAD: usize = 8192;
/// Rows of `w` per micro-tile (`MR * NR` = 8 accumulators + `NR` weight vectors + 1 `x` vector: 13 of 16
/// ymm registers, no spills; 2×4 measured ahead of 4×3 and 3×4 at MiniLM shapes).
pub const NR: usize = 4;

/// AVX2 + FMA variant of [`generic::matmul_f32`] (same contract; float tolerance vs generic).
pub fn matmul_f32(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    if !(super::has_avx2_fma() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f32(out, x, w, m, k, n);
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked above), and the lengths were checked above, which
    // is all the tile loops rely on to stay in bounds.
    unsafe { matmul_f32_avx2(out, x, w, m, k, n) }
}

/// AVX2 + FMA + F16C variant of [`generic::matmul_f16`] (same contract; float tolerance vs generic).
pub fn matmul_f16(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    if !(super::has_avx2_fma_f16c() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f16(out, x, w, m, k, n);
    }
    // SAFETY: the CPU supports AVX2, FMA and F16C (checked above); lengths checked above.
    unsafe { matmul_f16_avx2(out, x, w, m, k, n) }
}

/// AVX2 variant of [`generic::matmul_i8_i16`] (same contract; bit-exact with generic).
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
    if !(super::has_avx2_fma() && ok) {
        return generic::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    // SAFETY: the CPU supports AVX2 (checked above); lengths checked above.
    unsafe { matmul_i8_i16_avx2(out, xq, xs, w, ws, m, k, n) }
}

/// AVX2 + FMA + F16C variant of [`generic::matmul_i4_i16`] (same contract; bit-exact with generic,
/// so well within the float tolerance of the module docs).
///
/// Bit-exact because it performs the same arithmetic: each group dot product `d_g = Σ x·u` exactly
/// in i32 (unsigned nibbles by `vpmaddwd`) and the group's activation sum `sx_g = Σ x` exactly (in
/// f32, `|sx_g| <= 2^21`), `d_g as f32 · scale` and `sx_g · min` each rounded once, their sum
/// rounded (no FMA), added to the accumulator group by group in order, then `· xs[i]`. Only the
/// order of the exact integer additions differs from [`generic`]. Falls back to the generic kernel
/// when the contract does not hold, and for rows of more than `I4_SX_CAP / 2` = 2048 groups (`k`
/// over 65536 at group 32), beyond the stack buffer of per-group activation sums (16 KiB).
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
        && k / group <= I4_SX_CAP / 2
        && m.checked_mul(k) == Some(xq.len())
        && n.checked_mul(k / 2) == Some(w.len())
        && n.checked_mul(k / group) == Some(ws.len())
        && wm.len() == ws.len()
        && m.checked_mul(n) == Some(out.len())
        && xs.len() == m;
    if !(super::has_avx2_fma_f16c() && ok) {
        return generic::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    // SAFETY: the CPU supports AVX2, FMA and F16C (checked above); `group` and the lengths checked above.
    unsafe {
        if group == 32 {
            matmul_i4_i16_avx2::<1>(out, xq, xs, w, ws, wm, m, k, n)
        } else {
            matmul_i4_i16_avx2::<2>(out, xq, xs, w, ws, wm, m, k, n)
        }
    }
}

/// AVX2 variant of [`generic::quantize_row_i8`] (same contract; bit-exact with generic).
pub fn quantize_row_i8(dst: &mut [i8], src: &[f32]) -> f32 {
    if !(super::has_avx2_fma() && dst.len() == src.len()) {
        return generic::quantize_row_i8(dst, src);
    }
    // SAFETY: the CPU supports AVX2 (checked above); equal lengths checked above.
    unsafe { quantize_row_i8_avx2(dst, src) }
}

/// AVX2 variant of [`generic::quantize_row_i16`] (same contract; bit-exact with generic).
pub fn quantize_row_i16(dst: &mut [i16], src: &[f32], qmax: i32) -> f32 {
    if !(super::has_avx2_fma() && dst.len() == src.len()) {
        return generic::quantize_row_i16(dst, src, qmax);
    }
    // SAFETY: the CPU supports AVX2 (checked above); equal lengths checked above.
    unsafe { quantize_row_i16_avx2(dst, src, qmax) }
}

/// AVX2 variant of [`generic::quantize_row_u8_centered`] (same contract; bit-exact with generic).
pub fn quantize_row_u8_centered(dst: &mut [i16], src: &[f32], inv_smooth: &[f32]) -> f32 {
    if !(super::has_avx2_fma() && dst.len() == src.len() && inv_smooth.len() == src.len()) {
        return generic::quantize_row_u8_centered(dst, src, inv_smooth);
    }
    // SAFETY: the CPU supports AVX2 (checked above); equal lengths checked above.
    unsafe { quantize_row_u8_centered_avx2(dst, src, inv_smooth) }
}

/// AVX2 + FMA variant of [`generic::softmax`]: `exp` by the polynomial of [`exp8`] (a few ulp from
/// libm's `expf`) and a lane-parallel sum (float tolerance vs generic).
pub fn softmax(x: &mut [f32]) {
    if !super::has_avx2_fma() {
        return generic::softmax(x);
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked above).
    unsafe { softmax_avx2(x) }
}

/// AVX2 + FMA variant of [`generic::gelu_erf`]: `erf` by the rational approximation of [`erf8`]
/// (float tolerance vs generic).
pub fn gelu_erf(x: &mut [f32]) {
    if !super::has_avx2_fma() {
        return generic::gelu_erf(x);
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked above).
    unsafe { gelu_erf_avx2(x) }
}

/// AVX2 + FMA variant of [`generic::silu_mul`]: `exp` by [`exp8`] (float tolerance vs generic).
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    if !(super::has_avx2_fma() && gate.len() == up.len()) {
        return generic::silu_mul(gate, up);
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked above); equal lengths checked above.
    unsafe { silu_mul_avx2(gate, up) }
}

/// AVX2 + FMA variant of [`generic::dot_f32`] (same contract; float tolerance vs generic).
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    if !(super::has_avx2_fma() && a.len() == b.len()) {
        return generic::dot_f32(a, b);
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked above); equal lengths checked above.
    unsafe { dot_f32_avx2(a, b) }
}

/// AVX2 + FMA variant of [`generic::axpy_f32`] (fused multiply-add: float tolerance vs generic).
pub fn axpy_f32(y: &mut [f32], a: f32, x: &[f32]) {
    if !(super::has_avx2_fma() && y.len() == x.len()) {
        return generic::axpy_f32(y, a, x);
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked above); equal lengths checked above.
    unsafe { axpy_f32_avx2(y, a, x) }
}

// ---------------------------------------------------------------------------------------------------
// Helpers. All `unsafe fn`s below require the CPU features they enable, plus the bounds they state.

/// `MASK_SRC[8 - r..16 - r]` is a lane mask with the first `r` lanes set (for masked tail loads).
static MASK_SRC: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

/// Mask selecting the first `r` of 8 lanes. Requires `r <= 8`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn tail_mask(r: usize) -> __m256i {
    debug_assert!(r <= 8);
    // SAFETY: 8 - r <= 8, so the 8 lanes read lie inside the 16-element static.
    unsafe { _mm256_loadu_si256(MASK_SRC.as_ptr().add(8 - r) as *const __m256i) }
}

/// Horizontal sum of 8 f32 lanes.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn hsum_ps(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0b01));
    _mm_cvtss_f32(s)
}

/// Horizontal sum of 8 i32 lanes (wrapping, like the generic accumulator).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn hsum_epi32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
    _mm_cvtsi128_si32(s)
}

// ---------------------------------------------------------------------------------------------------
// f32 / f16 matmul: one tile loop, stamped out per weight type (the f16 one also enables F16C).

/// Loads 8 f32 weights at `p`. Requires AVX and 8 readable f32 at `p`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn load8_f32(p: *const f32) -> __m256 {
    // SAFETY: the caller guarantees 8 readable f32 at `p`.
    unsafe { _mm256_loadu_ps(p) }
}

/// Loads the first `r < 8` f32 weights at `p`, zeros elsewhere. Requires `r` readable f32 at `p`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn load_tail_f32(p: *const f32, r: usize) -> __m256 {
    // SAFETY: `r` readable f32 (caller); masked-off lanes are not accessed by `vmaskmovps`.
    unsafe { _mm256_maskload_ps(p, tail_mask(r)) }
}

/// Loads 8 f16 weights at `p` widened to f32. Requires F16C and 8 readable f16 (16 bytes) at `p`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load8_f16(p: *const f16) -> __m256 {
    // SAFETY: 16 readable bytes at `p` (caller); `f16` is a `repr(transparent)` u16 holding IEEE
    // binary16 bits, which is what `vcvtph2ps` reads.
    unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)) }
}

/// Loads the first `r < 8` f16 weights at `p` widened to f32, zeros elsewhere. Requires `r` readable f16.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load_tail_f16(p: *const f16, r: usize) -> __m256 {
    debug_assert!(r < 8);
    let mut buf = [f16::ZERO; 8];
    // SAFETY: `r < 8` readable f16 at `p` (caller) copied into the 8-element stack buffer, which is
    // then read whole.
    unsafe {
        core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), r);
        load8_f16(buf.as_ptr())
    }
}

macro_rules! float_matmul {
    ($matmul:ident, $tile:ident, $W:ty, $features:literal, $load8:ident, $load_tail:ident) => {
        /// All tiles of `out[m, n] = x[m, k] · w[n, k]ᵀ`: full `MR × NR` tiles, then the edges.
        ///
        /// Requires the enabled CPU features and the exact lengths of the matmul contract.
        #[target_feature(enable = $features)]
        unsafe fn $matmul(out: &mut [f32], x: &[f32], w: &[$W], m: usize, k: usize, n: usize) {
            let (o, xp, wp) = (out.as_mut_ptr(), x.as_ptr(), w.as_ptr());
            // SAFETY: every tile has i0 + rows <= m and j0 + cols <= n, which the exact lengths
            // (caller) make in bounds for x, w and out.
            unsafe {
                let mut j = 0;
                while j + NR <= n {
                    let mut i = 0;
                    while i + MR <= m {
                        $tile::<MR, NR>(o, xp, wp, i, j, k, n, i == 0);
                        i += MR;
                    }
                    while i < m {
                        $tile::<1, NR>(o, xp, wp, i, j, k, n, i == 0);
                        i += 1;
                    }
                    j += NR;
                }
                while j < n {
                    let mut i = 0;
                    while i + MR <= m {
                        $tile::<MR, 1>(o, xp, wp, i, j, k, n, false);
                        i += MR;
                    }
                    while i < m {
                        $tile::<1, 1>(o, xp, wp, i, j, k, n, false);
                        i += 1;
                    }
                    j += 1;
                }
            }
        }

        /// One `R × C` tile: `out[i0 + r, j0 + c] = x[i0 + r, :] · w[j0 + c, :]`; with `pf`, it
        /// also prefetches the weight bytes [`PREFETCH_AHEAD`] past its block (see the module docs).
        ///
        /// Requires the enabled CPU features, rows `i0..i0 + R` of `x[_, k]`, rows `j0..j0 + C` of
        /// `w[_, k]` and the matching elements of `out[_, n]` in bounds.
        #[inline]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
        unsafe fn $tile<const R: usize, const C: usize>(
            out: *mut f32,
            x: *const f32,
            w: *const $W,
            i0: usize,
            j0: usize,
            k: usize,
            n: usize,
            pf: bool,
        ) {
            let mut acc = [[_mm256_setzero_ps(); C]; R];
            let mut wv = [_mm256_setzero_ps(); C];
            // SAFETY: rows i0..i0+R of x and j0..j0+C of w are in bounds (caller); every load reads
            // columns p..p+8 with p + 8 <= k, or the tail p..k (masked / copied). The stores hit
            // out[i0 + r, j0 + c], in bounds (caller). Prefetch addresses are only computed (wrapping)
            // and prefetches never fault.
            unsafe {
                let xr = x.add(i0 * k);
                let wr = w.add(j0 * k);
                let ahead = (wr.wrapping_add(C * k) as *const u8).wrapping_add(PREFETCH_AHEAD);
                let mut p = 0;
                while p + 8 <= k {
                    if pf {
                        // This step consumes C * 8 weights: prefetch as many bytes, a line at a time.
                        let at = ahead.wrapping_add(p * C * size_of::<$W>());
                        for line in (0..C * 8 * size_of::<$W>()).step_by(64) {
                            _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line) as *const i8);
                        }
                    }
                    for c in 0..C {
                        wv[c] = $load8(wr.add(c * k + p));
                    }
                    for r in 0..R {
                        let xv = _mm256_loadu_ps(xr.add(r * k + p));
                        for c in 0..C {
                            acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
                        }
                    }
                    p += 8;
                }
                if p < k {
                    let rem = k - p;
                    let mask = tail_mask(rem);
                    for c in 0..C {
                        wv[c] = $load_tail(wr.add(c * k + p), rem);
                    }
                    for r in 0..R {
                        let xv = _mm256_maskload_ps(xr.add(r * k + p), mask);
                        for c in 0..C {
                            acc[r][c] = _mm256_fmadd_ps(xv, wv[c], acc[r][c]);
                        }
                    }
                }
                for r in 0..R {
                    for c in 0..C {
                        *out.add((i0 + r) * n + j0 + c) = hsum_ps(acc[r][c]);
                    }
                }
            }
        }
    };
}

float_matmul!(matmul_f32_avx2, tile_f32, f32, "avx2,fma", load8_f32, load_tail_f32);
float_matmul!(matmul_f16_avx2, tile_f16, f16, "avx2,fma,f16c", load8_f16, load_tail_f16);

// ---------------------------------------------------------------------------------------------------
// f32 / f16 GEMM: packed weight panels and a broadcast microkernel (for many rows of `x`).

/// Smallest `m` from which [`matmul_f32_gemm`] beats [`matmul_f32`]: 24 on an AMD EPYC (Zen 5, AVX2
/// path forced) at MiniLM shapes (k 384 n 384/1536, k 1536 n 384).
pub const GEMM_MIN_M_F32: usize = 24;
/// Smallest `m` from which [`matmul_f16_gemm`] beats [`matmul_f16`]: 24 on the same machine.
pub const GEMM_MIN_M_F16: usize = 24;
/// Rows of `x` per GEMM microkernel ([`GEMM_MR`] × 2 = 12 ymm accumulators + 2 weight vectors + 1
/// broadcast: 15 of 16 ymm registers).
pub const GEMM_MR: usize = 6;
/// Columns of `out` (rows of `w`) per packed panel: two 8-lane vectors.
pub const GEMM_NR: usize = 16;
/// Depth of a packed panel: `[GEMM_KC][GEMM_NR]` f32 = 16 KiB, which stays in L1 while every row
/// tile of `x` passes over it.
pub const GEMM_KC: usize = 256;

/// GEMM variant of [`matmul_f32`] (same contract; float tolerance vs generic): blocks of
/// [`GEMM_NR`] rows of `w` are packed [`GEMM_KC`] columns at a time into a k-major panel on the
/// stack (8 × 8 transposes), and a [`GEMM_MR`] × 16 microkernel does, per `p`, two panel loads, six
/// broadcasts of `x[r, p]` and twelve FMAs: no horizontal reductions. Each output is one FMA chain
/// over `p` in order (later depth blocks continue from `out`). Faster than [`matmul_f32`] from
/// [`GEMM_MIN_M_F32`] rows of `x` on; decode (`m = 1`) belongs to [`matmul_f32`], which streams `w`
/// once without packing. The two sum in different orders, so when one matmul is split into bands
/// of rows, all bands must take the same one (chosen from the whole `m`).
pub fn matmul_f32_gemm(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    if !(super::has_avx2_fma() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f32(out, x, w, m, k, n);
    }
    // SAFETY: the CPU supports AVX2 and FMA and the lengths are exact (both checked above).
    unsafe { gemm_f32_avx2(out, x, w, m, k, n) }
}

/// GEMM variant of [`matmul_f16`] (same contract; float tolerance vs generic): as
/// [`matmul_f32_gemm`], the weights widened to f32 (F16C) while packing.
pub fn matmul_f16_gemm(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    if !(super::has_avx2_fma_f16c() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f16(out, x, w, m, k, n);
    }
    // SAFETY: the CPU supports AVX2, FMA and F16C and the lengths are exact (both checked above).
    unsafe { gemm_f16_avx2(out, x, w, m, k, n) }
}

/// A packed weight panel: `[GEMM_KC][GEMM_NR]` f32, 32-byte aligned.
#[repr(C, align(32))]
struct Panel([f32; GEMM_KC * GEMM_NR]);

/// Transposes the 8 × 8 block `v` in place (`v[i]` lane `j` becomes `v[j]` lane `i`).
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose8(v: &mut [__m256; 8]) {
    let (pd, ps) = (_mm256_castps_pd, _mm256_castpd_ps);
    let mut t = [_mm256_setzero_ps(); 8];
    for i in 0..4 {
        t[2 * i] = _mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]);
    }
    // Per 128-bit lane L, u[4q + s] holds rows 4q..4q + 4 of column 4L + s.
    let mut u = [_mm256_setzero_ps(); 8];
    for q in 0..2 {
        let b = 4 * q;
        u[b] = ps(_mm256_unpacklo_pd(pd(t[b]), pd(t[b + 2])));
        u[b + 1] = ps(_mm256_unpackhi_pd(pd(t[b]), pd(t[b + 2])));
        u[b + 2] = ps(_mm256_unpacklo_pd(pd(t[b + 1]), pd(t[b + 3])));
        u[b + 3] = ps(_mm256_unpackhi_pd(pd(t[b + 1]), pd(t[b + 3])));
    }
    for s in 0..4 {
        v[s] = _mm256_permute2f128_ps::<0x20>(u[s], u[4 + s]);
        v[4 + s] = _mm256_permute2f128_ps::<0x31>(u[s], u[4 + s]);
    }
}

/// The rows of `w` the next panel will be packed from, prefetched into L2 a few cache lines per step
/// by the first row tile over the current panel (shared with [`super::x86_avx512`], where the loads
/// of the packing missed the cache for a quarter of the MiniLM run time without it).
pub(super) struct NextPanel {
    /// Start of the current row's segment (only computed, wrapping; prefetches never fault).
    row: *const i8,
    /// Bytes from one row of `w` to the next.
    stride: usize,
    /// Bytes per row segment.
    len: usize,
    /// Rows left.
    rows: usize,
    /// Offset of the next line in the current row's segment.
    off: usize,
    /// Lines per step of the tile.
    per_step: usize,
}

impl NextPanel {
    /// The panel after the one of rows `j0..j0 + cols` and depth `p0..p0 + kc` of `w[n, k]`
    /// (`block = (j0, cols, nr)`, `depth = (p0, kc, kc_max)`; elements of `elem` bytes, panels of at
    /// most `nr` rows and `kc_max` columns): the next depth block, or the next row block's first.
    /// Its lines are spread over the `kc` steps of the current panel.
    pub(super) fn after(
        w: *const i8,
        elem: usize,
        k: usize,
        n: usize,
        (j0, cols, nr): (usize, usize, usize),
        (p0, kc, kc_max): (usize, usize, usize),
    ) -> NextPanel {
        let (nj, np) = if p0 + kc < k { (j0, p0 + kc) } else { (j0 + cols, 0) };
        let len = (k - np).min(kc_max) * elem;
        let rows = n.saturating_sub(nj).min(nr);
        NextPanel {
            row: w.wrapping_add((nj * k + np) * elem),
            stride: k * elem,
            len,
            rows,
            off: 0,
            per_step: (rows * len.div_ceil(64)).div_ceil(kc),
        }
    }

    /// Prefetches the next `per_step` lines.
    #[inline(always)]
    pub(super) fn step(&mut self) {
        for _ in 0..self.per_step {
            if self.rows == 0 {
                return;
            }
            // SAFETY: a prefetch only takes an address; it never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(self.row.wrapping_add(self.off)) };
            self.off += 64;
            if self.off >= self.len {
                self.off = 0;
                self.rows -= 1;
                self.row = self.row.wrapping_add(self.stride);
            }
        }
    }
}

/// One `R × 8·V` tile of the GEMM over one panel: `out[r, c] (+)= Σ_{p < kc} x[r, p] · panel[p, c]`
/// for `c < cols`, starting from zero when `first`, else from `out`; with `PF`, each step also
/// prefetches some of `next`.
///
/// Requires AVX2 + FMA, `R` rows of `x` (stride `k`) with `kc` readable values each, `kc` rows of
/// the panel and `R` rows of `out` (stride `n`) with `cols <= 8·V` writable values each.
#[inline]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn gemm_tile<const R: usize, const V: usize, const PF: bool>(
    out: *mut f32,
    n: usize,
    x: *const f32,
    k: usize,
    panel: *const f32,
    kc: usize,
    cols: usize,
    first: bool,
    next: &mut NextPanel,
) {
    let mut acc = [[_mm256_setzero_ps(); V]; R];
    // SAFETY: the rows, lanes and lengths touched are those the caller guarantees (loads and stores
    // of `out` are masked to `cols`).
    unsafe {
        let masks = [tail_mask(cols.min(8)), tail_mask(cols.saturating_sub(8).min(8))];
        if !first {
            for r in 0..R {
                for v in 0..V {
                    acc[r][v] = _mm256_maskload_ps(out.add(r * n + 8 * v), masks[v]);
                }
            }
        }
        for p in 0..kc {
            if PF {
                next.step();
            }
            let pp = panel.add(p * GEMM_NR);
            let wv: [__m256; V] = core::array::from_fn(|v| _mm256_load_ps(pp.add(8 * v)));
            for r in 0..R {
                let xb = _mm256_set1_ps(*x.add(r * k + p));
                for v in 0..V {
                    acc[r][v] = _mm256_fmadd_ps(xb, wv[v], acc[r][v]);
                }
            }
        }
        for r in 0..R {
            for v in 0..V {
                _mm256_maskstore_ps(out.add(r * n + 8 * v), masks[v], acc[r][v]);
            }
        }
    }
}

/// Runs [`gemm_tile`] over rows `0..m` in tiles of [`GEMM_MR`] (a smaller last one); the first
/// prefetches `next`.
///
/// Requires what [`gemm_tile`] does, for all `m` rows.
#[inline]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_rows<const V: usize>(
    out: *mut f32,
    n: usize,
    x: *const f32,
    k: usize,
    m: usize,
    panel: *const f32,
    kc: usize,
    cols: usize,
    first: bool,
    next: &mut NextPanel,
) {
    let mut i = 0;
    // SAFETY: every tile covers rows i..i + R <= m (caller).
    unsafe {
        if m >= GEMM_MR {
            gemm_tile::<GEMM_MR, V, true>(out, n, x, k, panel, kc, cols, first, next);
            i = GEMM_MR;
        }
        while i + GEMM_MR <= m {
            gemm_tile::<GEMM_MR, V, false>(out.add(i * n), n, x.add(i * k), k, panel, kc, cols, first, next);
            i += GEMM_MR;
        }
        let (o, xr) = (out.add(i * n), x.add(i * k));
        match m - i {
            5 => gemm_tile::<5, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            4 => gemm_tile::<4, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            3 => gemm_tile::<3, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            2 => gemm_tile::<2, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            1 => gemm_tile::<1, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            _ => {}
        }
    }
}

macro_rules! float_gemm {
    ($gemm:ident, $pack:ident, $W:ty, $features:literal, $load8:ident, $load_tail:ident) => {
        /// The whole GEMM: per block of [`GEMM_NR`] rows of `w`, per [`GEMM_KC`] columns, pack the
        /// panel, then run all rows of `x` over it (the first depth block stores, later ones add).
        ///
        /// Requires the enabled CPU features and the exact lengths of the matmul contract.
        #[target_feature(enable = $features)]
        unsafe fn $gemm(out: &mut [f32], x: &[f32], w: &[$W], m: usize, k: usize, n: usize) {
            if k == 0 {
                out.fill(0.0);
                return;
            }
            let mut panel = Panel([0.0; GEMM_KC * GEMM_NR]);
            let (o, xp, wp, pp) = (out.as_mut_ptr(), x.as_ptr(), w.as_ptr(), panel.0.as_mut_ptr());
            // SAFETY: column block j0..j0 + cols <= n and depth block p0..p0 + kc <= k are in
            // bounds of w, x (all m rows from column p0) and out (columns j0..j0 + cols) by the exact
            // lengths (caller); the panel holds GEMM_KC rows.
            unsafe {
                let mut j0 = 0;
                while j0 < n {
                    let cols = (n - j0).min(GEMM_NR);
                    let mut p0 = 0;
                    while p0 < k {
                        let kc = (k - p0).min(GEMM_KC);
                        $pack(pp, wp.add(j0 * k + p0), k, cols, kc);
                        let (block, depth) = ((j0, cols, GEMM_NR), (p0, kc, GEMM_KC));
                        let next =
                            &mut NextPanel::after(wp as *const i8, size_of::<$W>(), k, n, block, depth);
                        let (oj, xj, f) = (o.add(j0), xp.add(p0), p0 == 0);
                        if cols > 8 {
                            gemm_rows::<2>(oj, n, xj, k, m, pp, kc, cols, f, next);
                        } else {
                            gemm_rows::<1>(oj, n, xj, k, m, pp, kc, cols, f, next);
                        }
                        p0 += kc;
                    }
                    j0 += cols;
                }
            }
        }

        /// Packs `panel[p, c] = w[c, p]` for `p < kc`, `c < cols` (columns `cols..8·⌈cols/8⌉`
        /// zero), 8 × 8 blocks at a time.
        ///
        /// Requires the enabled features, `cols <= GEMM_NR`, `kc <= GEMM_KC`, rows `0..cols` of
        /// `w` (stride `k`) with `kc` readable values each, and a `[GEMM_KC][GEMM_NR]` panel.
        #[inline]
        #[target_feature(enable = $features)]
        unsafe fn $pack(panel: *mut f32, w: *const $W, k: usize, cols: usize, kc: usize) {
            // SAFETY: loads cover rows c < cols and columns q..q + 8, or the kc - q < 8 left
            // (caller); stores hit panel rows q + t < kc <= GEMM_KC, lanes h·8..h·8 + 8 <= GEMM_NR.
            unsafe {
                for h in 0..cols.div_ceil(8) {
                    let rows = (cols - 8 * h).min(8);
                    let mut q = 0;
                    let wh = w.add(8 * h * k);
                    let ph = panel.add(8 * h);
                    if rows == 8 {
                        // Full blocks: fixed trip counts, so `v` stays in registers.
                        while q + 8 <= kc {
                            let mut v: [__m256; 8] = core::array::from_fn(|c| $load8(wh.add(c * k + q)));
                            transpose8(&mut v);
                            for (t, vt) in v.iter().enumerate() {
                                _mm256_store_ps(ph.add((q + t) * GEMM_NR), *vt);
                            }
                            q += 8;
                        }
                    }
                    while q < kc {
                        let mut v = [_mm256_setzero_ps(); 8];
                        for (c, vc) in v.iter_mut().enumerate().take(rows) {
                            let wc = w.add((8 * h + c) * k + q);
                            *vc = if q + 8 <= kc { $load8(wc) } else { $load_tail(wc, kc - q) };
                        }
                        transpose8(&mut v);
                        for (t, vt) in v.iter().enumerate().take((kc - q).min(8)) {
                            _mm256_store_ps(panel.add((q + t) * GEMM_NR + 8 * h), *vt);
                        }
                        q += 8;
                    }
                }
            }
        }
    };
}

float_gemm!(gemm_f32_avx2, pack_f32, f32, "avx2,fma", load8_f32, load_tail_f32);
float_gemm!(gemm_f16_avx2, pack_f16, f16, "avx2,fma,f16c", load8_f16, load_tail_f16);

// ---------------------------------------------------------------------------------------------------
// 16-bit activations x int8 weights.

/// All tiles of `matmul_i8_i16`. Requires AVX2 and the exact lengths of the contract.
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i8_i16_avx2(
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
                tile_i8_i16::<MR, NR>(out, xq, xs, w, ws, i, j, k, n, i == 0);
                i += MR;
            }
            while i < m {
                tile_i8_i16::<1, NR>(out, xq, xs, w, ws, i, j, k, n, i == 0);
                i += 1;
            }
            j += NR;
        }
        while j < n {
            let mut i = 0;
            while i + MR <= m {
                tile_i8_i16::<MR, 1>(out, xq, xs, w, ws, i, j, k, n, false);
                i += MR;
            }
            while i < m {
                tile_i8_i16::<1, 1>(out, xq, xs, w, ws, i, j, k, n, false);
                i += 1;
            }
            j += 1;
        }
    }
}

/// One `R × C` tile: 16 columns per step, weights widened to i16 (`vpmovsxbw`), activations loaded
/// as i16, `vpmaddwd` into i32 (exact: each pair sum is at most 2 · 32768 · 128 < 2^31), wrapping
/// adds; the `k % 16` tail in scalar i32. With `pf`, it prefetches the weight bytes
/// [`PREFETCH_AHEAD`] past its block, one line per step (`C * 16` bytes when `C = NR`).
///
/// Requires AVX2, rows `i0..i0 + R` of `xq[_, k]`, `j0..j0 + C` of `w[_, k]` and the matching `out`
/// elements in bounds.
#[inline]
#[target_feature(enable = "avx2")]
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
    pf: bool,
) {
    let mut acc = [[_mm256_setzero_si256(); C]; R];
    let mut wv = [_mm256_setzero_si256(); C];
    let body = k / 16 * 16;
    // SAFETY: rows i0..i0+R of xq and j0..j0+C of w are in bounds (caller); each load reads columns
    // p..p+16 with p + 16 <= body <= k. Prefetch addresses are only computed (wrapping) and
    // prefetches never fault.
    unsafe {
        let xr = xq.as_ptr().add(i0 * k);
        let wr = w.as_ptr().add(j0 * k);
        let ahead = wr.wrapping_add(C * k + PREFETCH_AHEAD);
        let mut p = 0;
        while p < body {
            if pf {
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(p * C));
            }
            for c in 0..C {
                let v = _mm_loadu_si128(wr.add(c * k + p) as *const __m128i);
                wv[c] = _mm256_cvtepi8_epi16(v);
            }
            for r in 0..R {
                let xv = _mm256_loadu_si256(xr.add(r * k + p) as *const __m256i);
                for c in 0..C {
                    acc[r][c] = _mm256_add_epi32(acc[r][c], _mm256_madd_epi16(xv, wv[c]));
                }
            }
            p += 16;
        }
    }
    for r in 0..R {
        let i = i0 + r;
        let xrow = bounded::rows(xq, i, 1, k);
        for c in 0..C {
            let j = j0 + c;
            let wrow = bounded::rows(w, j, 1, k);
            // SAFETY: AVX2 is enabled in this function.
            let s = unsafe { hsum_epi32(acc[r][c]) };
            let dot =
                s.wrapping_add(generic::dot_i16_i8(bounded::tail(xrow, body), bounded::tail(wrow, body)));
            if let (Some(o), Some(&sx), Some(&sw)) = (out.get_mut(i * n + j), xs.get(i), ws.get(j)) {
                *o = (dot as f32 * sx) * sw;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 16-bit activations x group-wise int4 weights.

/// Groups per chunk in `matmul_i4_i16`: the f16 scales and offsets of a chunk are loaded and
/// transposed together.
const I4_CHUNK: usize = 8;

/// `f32`s of the stack buffer of `matmul_i4_i16` holding `Σx` per group for a block of rows of `x`
/// (16 KiB); the AVX2 kernel needs `k / group <= I4_SX_CAP / 2`.
const I4_SX_CAP: usize = 4096;

/// All tiles of `matmul_i4_i16` with `BPG` blocks of 32 values per group (1: group 32, 2: group 64).
///
/// Rows of `x` go in blocks of up to `I4_SX_CAP / (k / group)` (an even number, at least 2), each
/// with its `Σx` per group computed once; per row block, blocks of 8 rows of `w`: `2 × 4` tiles
/// for pairs of rows of `x` and a `1 × 8` tile for a last odd row (the decode GEMV); then blocks of
/// 4 rows of `w`; then the last `n % 4` rows of `w` by the generic per-output code (bit-exact with
/// it by construction).
///
/// Requires AVX2 + FMA + F16C, `k > 0` a multiple of `32 * BPG` with `k / (32 * BPG) <=
/// I4_SX_CAP / 2`, and the exact lengths of the contract.
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i4_i16_avx2<const BPG: usize>(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    m: usize,
    k: usize,
    n: usize,
) {
    let gpr = k / (32 * BPG);
    let block_rows = I4_SX_CAP.checked_div(gpr).unwrap_or(0) & !1;
    debug_assert!(block_rows >= 2);
    if block_rows < 2 {
        return; // k below one group or beyond I4_SX_CAP / 2 groups: the dispatcher never sends it
    }
    let mut sxb = [0.0f32; I4_SX_CAP];
    let mut i_start = 0;
    while i_start < m {
        let i_end = m.min(i_start + block_rows);
        for (r, sx) in sxb.chunks_exact_mut(gpr).take(i_end - i_start).enumerate() {
            let row = i_start + r;
            // SAFETY: AVX2 is enabled here; `row < m` and `sx.len() == gpr`.
            unsafe { group_sums::<BPG>(sx, bounded::rows(xq, row, 1, k)) };
        }
        let sxb = bounded::head(&sxb, (i_end - i_start) * gpr);
        let mut j = 0;
        // SAFETY: every tile has i0 + rows <= i_end <= m and j0 + cols <= n, in bounds by the exact
        // lengths (caller), and reads Σx of its rows i0 - i_start.. from `sxb`.
        unsafe {
            while j + 8 <= n {
                let mut i = i_start;
                while i + 2 <= i_end {
                    let pf = i == i_start; // the first row tile prefetches
                    tile_i4_i16::<2, 4, BPG>(out, xq, xs, w, ws, wm, sxb, i_start, i, j, k, n, pf);
                    tile_i4_i16::<2, 4, BPG>(out, xq, xs, w, ws, wm, sxb, i_start, i, j + 4, k, n, pf);
                    i += 2;
                }
                if i < i_end {
                    let pf = i == i_start;
                    tile_i4_i16::<1, 8, BPG>(out, xq, xs, w, ws, wm, sxb, i_start, i, j, k, n, pf);
                }
                j += 8;
            }
            while j + 4 <= n {
                let mut i = i_start;
                while i + 2 <= i_end {
                    let pf = i == i_start; // the first row tile prefetches
                    tile_i4_i16::<2, 4, BPG>(out, xq, xs, w, ws, wm, sxb, i_start, i, j, k, n, pf);
                    i += 2;
                }
                if i < i_end {
                    let pf = i == i_start;
                    tile_i4_i16::<1, 4, BPG>(out, xq, xs, w, ws, wm, sxb, i_start, i, j, k, n, pf);
                }
                j += 4;
            }
        }
        let (group, row_bytes) = (32 * BPG, k / 2);
        for j in j..n {
            let wrow = bounded::rows(w, j, 1, row_bytes);
            let (srow, mrow) = (bounded::rows(ws, j, 1, gpr), bounded::rows(wm, j, 1, gpr));
            for i in i_start..i_end {
                let xrow = bounded::rows(xq, i, 1, k);
                if let (Some(o), Some(&sx)) = (out.get_mut(i * n + j), xs.get(i)) {
                    *o = generic::dot_i4_groups(xrow, wrow, srow, mrow, group) * sx;
                }
            }
        }
        i_start = i_end;
    }
}

/// `sx[g] = Σ x[p]` over each group `g` (of `32 * BPG` values) of the row `x` (exact in i32, and in
/// f32: `|Σ x| <= 64 · 32768 = 2^21`).
///
/// Requires AVX2 and `x.len() == 32 * BPG * sx.len()`.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn group_sums<const BPG: usize>(sx: &mut [f32], x: &[i16]) {
    let ones = _mm256_set1_epi16(1);
    for (sxc, xc) in sx.chunks_mut(I4_CHUNK).zip(x.chunks(I4_CHUNK * 32 * BPG)) {
        let mut d = [_mm256_setzero_si256(); I4_CHUNK];
        for (dg, xg) in d.iter_mut().zip(xc.chunks_exact(32 * BPG)) {
            for b in 0..2 * BPG {
                // SAFETY: `xg` holds 32·BPG i16, this reads 16 of them at 16·b.
                let xv = unsafe { _mm256_loadu_si256(xg.as_ptr().add(16 * b) as *const __m256i) };
                *dg = _mm256_add_epi32(*dg, _mm256_madd_epi16(xv, ones));
            }
        }
        let mut v = [0.0f32; I4_CHUNK];
        // SAFETY: 8 f32 stored into the 8-element array.
        unsafe { _mm256_storeu_ps(v.as_mut_ptr(), _mm256_cvtepi32_ps(reduce8_epi32(&d))) };
        sxc.copy_from_slice(&v[..sxc.len()]);
    }
}

/// Lane `v` of the result = the sum of the 8 i32 lanes of `d[v]` (exact, wrapping).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn reduce8_epi32(d: &[__m256i; 8]) -> __m256i {
    // hadd adds neighbouring lanes within each 128-bit half: after two levels, u0 holds the sums of
    // the low and high halves of d[0..4] (lanes 0..4 and 4..8), u1 those of d[4..8].
    let t01 = _mm256_hadd_epi32(d[0], d[1]);
    let t23 = _mm256_hadd_epi32(d[2], d[3]);
    let t45 = _mm256_hadd_epi32(d[4], d[5]);
    let t67 = _mm256_hadd_epi32(d[6], d[7]);
    let u0 = _mm256_hadd_epi32(t01, t23);
    let u1 = _mm256_hadd_epi32(t45, t67);
    _mm256_add_epi32(_mm256_permute2x128_si256::<0x20>(u0, u1), _mm256_permute2x128_si256::<0x31>(u0, u1))
}

/// `[lo | lo]` (`HI` false) or `[hi | hi]` halves of `a`, `b` as `[a half | b half]`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn halves_ps<const HI: bool>(a: __m256, b: __m256) -> __m256 {
    if HI {
        _mm256_permute2f128_ps::<0x31>(a, b)
    } else {
        _mm256_permute2f128_ps::<0x20>(a, b)
    }
}

/// The f16 values `src[j·gpr + g0 + g]` (scales or offsets of `matmul_i4_i16`) of the rows `j` of
/// `w` in `j0..j0 + C` and the groups `g < ng` of a chunk, widened to f32 and transposed:
/// `q[cs][h] = [v(4cs + c, g0 + 2h) for c in 0..4 | v(4cs + c, g0 + 2h + 1) for c in 0..4]`.
///
/// One 16-byte load per row (a short last chunk reads the next rows' values into unused lanes, or
/// copies its values one by one at the end of `src`), `vpunpck{l,h}{wd,dq}` and `vcvtph2ps`.
///
/// Requires F16C, `C` 4 or 8, `ng <= I4_CHUNK` and `src[(j0 + c)·gpr + g0 + g]` in bounds for all
/// `c < C`, `g < ng`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn f16_chunk_t<const C: usize>(
    src: &[f16],
    j0: usize,
    gpr: usize,
    g0: usize,
    ng: usize,
) -> [[__m256; 4]; 2] {
    let mut q = [[_mm256_setzero_ps(); 4]; 2];
    for (cs, qc) in q.iter_mut().enumerate().take(C / 4) {
        let mut a = [_mm_setzero_si128(); 4];
        for (c, ac) in a.iter_mut().enumerate() {
            let at = (j0 + 4 * cs + c) * gpr + g0;
            *ac = if at + I4_CHUNK <= src.len() {
                // SAFETY: reads src[at..at + 8], in bounds (checked).
                unsafe { _mm_loadu_si128(src.as_ptr().add(at) as *const __m128i) }
            } else {
                let mut buf = [f16::ZERO; I4_CHUNK];
                for (l, b) in buf.iter_mut().enumerate().take(ng) {
                    // SAFETY: at + l is group g0 + l < g0 + ng of a row of the tile (caller).
                    *b = unsafe { *src.get_unchecked(at + l) };
                }
                // SAFETY: reads the 8-element stack array.
                unsafe { _mm_loadu_si128(buf.as_ptr() as *const __m128i) }
            };
        }
        let t0 = _mm_unpacklo_epi16(a[0], a[1]);
        let t1 = _mm_unpacklo_epi16(a[2], a[3]);
        let t2 = _mm_unpackhi_epi16(a[0], a[1]);
        let t3 = _mm_unpackhi_epi16(a[2], a[3]);
        *qc = [
            _mm256_cvtph_ps(_mm_unpacklo_epi32(t0, t1)),
            _mm256_cvtph_ps(_mm_unpackhi_epi32(t0, t1)),
            _mm256_cvtph_ps(_mm_unpacklo_epi32(t2, t3)),
            _mm256_cvtph_ps(_mm_unpackhi_epi32(t2, t3)),
        ];
    }
    q
}

/// One `R × C` tile of `matmul_i4_i16` (`2 × 4`, `1 × 8` or `1 × 4`), [`I4_CHUNK`] groups at a time.
///
/// The outputs form `R·C/4` sets of 4 (set `s`: row `s` of the tile, or its rows of `w` `4s..4s+4`).
/// Per chunk, per step of two 16-byte blocks of each row of `w` (two groups of 32 or one of 64): one
/// 32-byte load per row of `w`, the bytes widened to i16 by `vpunpck{l,h}bw` with zero, the low
/// nibbles masked and the high ones shifted down (the nibbles `u`; each 128-bit half from its own
/// block); the activations arranged to match (4 loads and 4 `vperm2i128` per row of `x`, shared by
/// the rows of `w`); 4 `vpmaddwd` per output into one i32 vector whose halves hold the two blocks
/// (exact: `|Σ x·u| <= 64 · 32768 · 15`); 3 `vphaddd` per set reduce its 4 vectors to one lane per
/// output and block. After the steps, the f16 scales and offsets of the chunk ([`f16_chunk_t`]: one
/// 16-byte load each per row of `w`, transposed 4 rows at a time and widened by `vcvtph2ps`; loaded
/// here rather than before the steps, so that they are not live across them), then per group in
/// order: the exact `d_g = Σ x·u` converted to f32 and multiplied by the scales, plus `Σx` (from
/// `sxb`) times the offsets, added to the per-output accumulator lanes: the float operations of
/// [`generic::matmul_i4_i16`] in its order. (This float pass runs per chunk rather than per step so
/// that it stays off the critical path of the integer steps, which measured faster at m = 1.) With
/// `pf`, each step prefetches as many weight bytes as it consumes, [`PREFETCH_AHEAD`] bytes past the
/// tile's block of `w`, a line at a time.
///
/// Requires AVX2 + FMA + F16C, `k > 0` a multiple of `32 * BPG`, rows `i0..i0 + R` of `xq[_, k]`,
/// rows `j0..j0 + C` of `w[_, k/2]`, `ws[_, k/(32 BPG)]` and `wm[_, k/(32 BPG)]` (`wm.len() ==
/// ws.len()`) and the matching `out` elements in bounds, and `Σx` of row `i` group `g` at
/// `sxb[(i - i_start)·(k/(32 BPG)) + g]` for the rows `i` of the tile.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn tile_i4_i16<const R: usize, const C: usize, const BPG: usize>(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[u8],
    ws: &[f16],
    wm: &[f16],
    sxb: &[f32],
    i_start: usize,
    i0: usize,
    j0: usize,
    k: usize,
    n: usize,
    pf: bool,
) {
    const { assert!((R == 2 && C == 4) || (R == 1 && (C == 4 || C == 8))) };
    const { assert!(BPG == 1 || BPG == 2) };
    let sets = R * C / 4;
    // Row of the tile, and group of 4 rows of w, of output set `set`.
    let row_of = |set: usize| if R == 2 { set } else { 0 };
    let cols_of = |set: usize| if C == 8 { set } else { 0 };
    let gpr = k / (32 * BPG);
    let row_bytes = k / 2;
    let zero = _mm256_setzero_si256();
    let nib = _mm256_set1_epi16(0x0F);
    // Per-output accumulators: acc8 (lanes set·4 + c) with 2 sets, acc4 with 1.
    let (mut acc8, mut acc4) = (_mm256_setzero_ps(), _mm_setzero_ps());
    // SAFETY: rows i0..i0+R of xq, j0..j0+C of w and ws, out[i0 + r, j0..j0 + C] and the tile's
    // rows of sxb are in bounds (caller). A chunk covers the groups g0..g0+ng with g0 + ng <= gpr,
    // i.e. the blocks below (g0 + ng)·BPG <= k/32 of each row: a step reads its second block only
    // when it is one of them (`full`; x columns below 32·that, w bytes below 16·that), and `sx_at`
    // reads groups below g0 + ng. `f16_chunk_t` reads the scales and offsets of rows j0..j0 + C,
    // groups g0..g0 + ng, in bounds (see there). Prefetch addresses are only computed (wrapping)
    // and prefetches never fault.
    unsafe {
        let xr = xq.as_ptr().add(i0 * k);
        let wr = w.as_ptr().add(j0 * row_bytes);
        let sxp = sxb.as_ptr();
        let ahead = wr.wrapping_add(C * row_bytes + PREFETCH_AHEAD);
        let mut g0 = 0;
        while g0 < gpr {
            let ng = (gpr - g0).min(I4_CHUNK);
            // Σx of group g of the chunk for row r of the tile.
            let sx_at = |r: usize, g: usize| *sxp.add((i0 - i_start + r) * gpr + g0 + g);
            // Steps of two blocks (BPG = 1: groups 2s, 2s + 1 of the chunk; BPG = 2: group s).
            let mut dsum = [zero; I4_CHUNK];
            for s in 0..4 * BPG {
                let blk = 2 * s; // first block of the step within the chunk
                if blk >= ng * BPG {
                    break;
                }
                let full = blk + 1 < ng * BPG;
                let col = (g0 * BPG + blk) * 32; // column of x of the step's first value
                if pf {
                    // This step consumes C * 32 weight bytes: prefetch as many, a line at a time.
                    let at = ahead.wrapping_add(col / 2 * C);
                    for line in (0..C * 32).step_by(64) {
                        _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line) as *const i8);
                    }
                }
                // x[r] = [x(0..8) | x(32..40)], [8..16 | 40..48], [16..24 | 48..56], [24..32 | 56..64]
                let mut xv = [[zero; 4]; R];
                for r in 0..R {
                    let xp = xr.add(r * k + col);
                    let x0 = _mm256_loadu_si256(xp as *const __m256i);
                    let x1 = _mm256_loadu_si256(xp.add(16) as *const __m256i);
                    let (x2, x3) = if full {
                        (
                            _mm256_loadu_si256(xp.add(32) as *const __m256i),
                            _mm256_loadu_si256(xp.add(48) as *const __m256i),
                        )
                    } else {
                        (zero, zero)
                    };
                    xv[r] = [
                        _mm256_permute2x128_si256::<0x20>(x0, x2),
                        _mm256_permute2x128_si256::<0x31>(x0, x2),
                        _mm256_permute2x128_si256::<0x20>(x1, x3),
                        _mm256_permute2x128_si256::<0x31>(x1, x3),
                    ];
                }
                let mut d = [[zero; C]; R];
                for c in 0..C {
                    let wp = wr.add(c * row_bytes + (g0 * BPG + blk) * 16);
                    let wv = if full {
                        _mm256_loadu_si256(wp as *const __m256i)
                    } else {
                        _mm256_zextsi128_si256(_mm_loadu_si128(wp as *const __m128i))
                    };
                    // Bytes 0..8 and 8..16 of each block as u16; their nibbles u: values 0..8 and
                    // 16..24, then 8..16 and 24..32 of each block.
                    let a = _mm256_unpacklo_epi8(wv, zero);
                    let b = _mm256_unpackhi_epi8(wv, zero);
                    let (v0, v16) = (_mm256_and_si256(a, nib), _mm256_srli_epi16::<4>(a));
                    let (v8, v24) = (_mm256_and_si256(b, nib), _mm256_srli_epi16::<4>(b));
                    for r in 0..R {
                        let [xa, xb, xc, xd] = xv[r];
                        let lo = _mm256_add_epi32(_mm256_madd_epi16(xa, v0), _mm256_madd_epi16(xb, v8));
                        let hi = _mm256_add_epi32(_mm256_madd_epi16(xc, v16), _mm256_madd_epi16(xd, v24));
                        d[r][c] = _mm256_add_epi32(lo, hi);
                    }
                }
                // v[set] = [the 4 outputs of set `set`, first block | the same, second block]
                let mut v = [zero; 2];
                for set in 0..sets {
                    let (r, c0) = (row_of(set), 4 * cols_of(set));
                    let t01 = _mm256_hadd_epi32(d[r][c0], d[r][c0 + 1]);
                    let t23 = _mm256_hadd_epi32(d[r][c0 + 2], d[r][c0 + 3]);
                    v[set] = _mm256_hadd_epi32(t01, t23);
                }
                // Σ x·u of the step's group(s) to `dsum`, lanes as the accumulator's (see below).
                if sets == 1 {
                    dsum[s] = v[0]; // BPG = 1: [group 2s | group 2s + 1]; BPG = 2: [group s, halves]
                } else {
                    let first = _mm256_permute2x128_si256::<0x20>(v[0], v[1]);
                    let second = _mm256_permute2x128_si256::<0x31>(v[0], v[1]);
                    if BPG == 1 {
                        dsum[blk] = first;
                        dsum[blk + 1] = second;
                    } else {
                        dsum[s] = _mm256_add_epi32(first, second);
                    }
                }
            }
            // Scales q[cs][h] = [s(c, g0 + 2h) | s(c, g0 + 2h + 1)] for the rows c of w in
            // 4cs..4cs+4, offsets qm likewise.
            let q = f16_chunk_t::<C>(ws, j0, gpr, g0, ng);
            let qm = f16_chunk_t::<C>(wm, j0, gpr, g0, ng);
            // The float part, off the integer steps' critical path: per group in order,
            // acc += (Σ x·u) as f32 · scale + Σx · min, in lanes set·4 + c (or gi·4 + c, 1 set).
            if sets == 1 {
                if BPG == 1 {
                    for h in 0..I4_CHUNK / 2 {
                        if 2 * h >= ng {
                            break;
                        }
                        let sxb = if 2 * h + 1 < ng { sx_at(0, 2 * h + 1) } else { 0.0 };
                        let sxv = _mm256_set_m128(_mm_set1_ps(sxb), _mm_set1_ps(sx_at(0, 2 * h)));
                        let t = _mm256_add_ps(
                            _mm256_mul_ps(_mm256_cvtepi32_ps(dsum[h]), q[0][h]),
                            _mm256_mul_ps(sxv, qm[0][h]),
                        );
                        acc4 = _mm_add_ps(acc4, _mm256_castps256_ps128(t));
                        if 2 * h + 1 < ng {
                            acc4 = _mm_add_ps(acc4, _mm256_extractf128_ps::<1>(t));
                        }
                    }
                } else {
                    for g in 0..I4_CHUNK {
                        if g >= ng {
                            break;
                        }
                        let dq = _mm_add_epi32(
                            _mm256_castsi256_si128(dsum[g]),
                            _mm256_extracti128_si256::<1>(dsum[g]),
                        );
                        let sxv = _mm_set1_ps(sx_at(0, g));
                        let (sc, mn) = if g % 2 == 0 {
                            (_mm256_castps256_ps128(q[0][g / 2]), _mm256_castps256_ps128(qm[0][g / 2]))
                        } else {
                            (
                                _mm256_extractf128_ps::<1>(q[0][g / 2]),
                                _mm256_extractf128_ps::<1>(qm[0][g / 2]),
                            )
                        };
                        let t = _mm_add_ps(_mm_mul_ps(_mm_cvtepi32_ps(dq), sc), _mm_mul_ps(sxv, mn));
                        acc4 = _mm_add_ps(acc4, t);
                    }
                }
            } else {
                let (qa, qb) = (&q[cols_of(0)], &q[cols_of(1)]);
                let (ma, mb) = (&qm[cols_of(0)], &qm[cols_of(1)]);
                for g in 0..I4_CHUNK {
                    if g >= ng {
                        break;
                    }
                    let sxv = if R == 2 {
                        _mm256_set_m128(_mm_set1_ps(sx_at(R - 1, g)), _mm_set1_ps(sx_at(0, g)))
                    } else {
                        _mm256_set1_ps(sx_at(0, g))
                    };
                    let (sc, mn) = if g % 2 == 0 {
                        (halves_ps::<false>(qa[g / 2], qb[g / 2]), halves_ps::<false>(ma[g / 2], mb[g / 2]))
                    } else {
                        (halves_ps::<true>(qa[g / 2], qb[g / 2]), halves_ps::<true>(ma[g / 2], mb[g / 2]))
                    };
                    let t =
                        _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(dsum[g]), sc), _mm256_mul_ps(sxv, mn));
                    acc8 = _mm256_add_ps(acc8, t);
                }
            }
            g0 += I4_CHUNK;
        }
        let o = out.as_mut_ptr().add(i0 * n + j0);
        let (xs0, xs1) = (xs.get(i0).copied().unwrap_or(0.0), xs.get(i0 + R - 1).copied().unwrap_or(0.0));
        if sets == 1 {
            _mm_storeu_ps(o, _mm_mul_ps(acc4, _mm_set1_ps(xs0)));
        } else if R == 2 {
            let xsv = _mm256_set_m128(_mm_set1_ps(xs1), _mm_set1_ps(xs0));
            let v = _mm256_mul_ps(acc8, xsv);
            _mm_storeu_ps(o, _mm256_castps256_ps128(v));
            _mm_storeu_ps(o.add(n * (R - 1)), _mm256_extractf128_ps::<1>(v));
        } else {
            _mm256_storeu_ps(o, _mm256_mul_ps(acc8, _mm256_set1_ps(xs0)));
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Vector kernels.

/// Requires AVX2 + FMA and `a.len() == b.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_f32_avx2(a: &[f32], b: &[f32]) -> f32 {
    let len = a.len();
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm256_setzero_ps(); 4];
    let mut p = 0;
    // SAFETY: every load reads elements p..p+8 (or the masked tail p..len) with p + 8 <= len, of both
    // slices (equal lengths, caller).
    unsafe {
        while p + 32 <= len {
            for (u, a_u) in acc.iter_mut().enumerate() {
                let q = p + 8 * u;
                *a_u = _mm256_fmadd_ps(_mm256_loadu_ps(ap.add(q)), _mm256_loadu_ps(bp.add(q)), *a_u);
            }
            p += 32;
        }
        while p + 8 <= len {
            acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(ap.add(p)), _mm256_loadu_ps(bp.add(p)), acc[0]);
            p += 8;
        }
        if p < len {
            let mask = tail_mask(len - p);
            let av = _mm256_maskload_ps(ap.add(p), mask);
            let bv = _mm256_maskload_ps(bp.add(p), mask);
            acc[1] = _mm256_fmadd_ps(av, bv, acc[1]);
        }
        let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum_ps(s)
    }
}

/// Requires AVX2 + FMA and `y.len() == x.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn axpy_f32_avx2(y: &mut [f32], a: f32, x: &[f32]) {
    let len = y.len();
    let body = len / 8 * 8;
    let av = _mm256_set1_ps(a);
    let (yp, xp) = (y.as_mut_ptr(), x.as_ptr());
    // SAFETY: each access covers elements p..p+8 with p + 8 <= body <= len of both slices.
    unsafe {
        let mut p = 0;
        while p < body {
            let v = _mm256_fmadd_ps(av, _mm256_loadu_ps(xp.add(p)), _mm256_loadu_ps(yp.add(p)));
            _mm256_storeu_ps(yp.add(p), v);
            p += 8;
        }
    }
    for (yv, xv) in y[body..].iter_mut().zip(&x[body..]) {
        *yv += a * xv;
    }
}

/// `max |src|` with NaNs skipped, as the generic quantizers fold it (`max` is order-independent,
/// and `vmaxps(|v|, acc)` keeps `acc` when `v` is NaN, like `f32::max`).
#[target_feature(enable = "avx2,fma")]
fn amax_avx2(src: &[f32]) -> f32 {
    let body = src.len() / 8 * 8;
    let sp = src.as_ptr();
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    // SAFETY: loads read elements p..p+8 with p + 8 <= body <= src.len().
    let mut amax = unsafe {
        let mut acc = _mm256_setzero_ps();
        let mut p = 0;
        while p < body {
            let a = _mm256_and_ps(_mm256_loadu_ps(sp.add(p)), abs_mask);
            acc = _mm256_max_ps(a, acc); // NaN in `a` -> keeps `acc` (second operand)
            p += 8;
        }
        let h = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        let h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 0b01));
        _mm_cvtss_f32(h)
    };
    for &v in &src[body..] {
        amax = amax.max(libm::fabsf(v));
    }
    amax
}

/// Requires AVX2 and `dst.len() == src.len()`. Bit-exact with [`generic::quantize_row_i8`]:
/// `max` is order-independent (and `vmaxps(|v|, acc)` skips NaNs like `f32::max`), the multiply is the
/// same IEEE operation, and rounding is done as `t = trunc(v); t + sign(v) if |v - t| >= 0.5` (exact
/// round-half-away-from-zero; `vroundps` alone would round half to even).
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_row_i8_avx2(dst: &mut [i8], src: &[f32]) -> f32 {
    let len = src.len();
    let body = len / 8 * 8;
    let sp = src.as_ptr();
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let amax = amax_avx2(src);
    if !(amax > 0.0 && amax.is_finite()) {
        dst.fill(0);
        return 0.0;
    }
    let inv = 127.0 / amax;
    let invv = _mm256_set1_ps(inv);
    let half = _mm256_set1_ps(0.5);
    let one = _mm256_set1_ps(1.0);
    let sign_mask = _mm256_castsi256_ps(_mm256_set1_epi32(i32::MIN));
    let lo = _mm256_set1_ps(-127.0);
    let hi = _mm256_set1_ps(127.0);
    let dp = dst.as_mut_ptr();
    // SAFETY: loads read src[p..p+8] and the 8-byte store writes dst[p..p+8], p + 8 <= body <= len.
    unsafe {
        let mut p = 0;
        while p < body {
            let v = _mm256_mul_ps(_mm256_loadu_ps(sp.add(p)), invv);
            let t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            let frac = _mm256_and_ps(_mm256_sub_ps(v, t), abs_mask); // inf - inf = NaN -> no bump
            let bump = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), one);
            let r = _mm256_add_ps(t, _mm256_or_ps(bump, _mm256_and_ps(v, sign_mask)));
            // NaN -> 0 (like the saturating `as i8`), then clamp to ±127 (exact integers).
            let r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q));
            let r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
            let q = _mm256_cvttps_epi32(r);
            let q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
            let q8 = _mm_packs_epi16(q16, q16);
            _mm_storel_epi64(dp.add(p) as *mut __m128i, q8);
            p += 8;
        }
    }
    for (d, &s) in dst[body..].iter_mut().zip(&src[body..]) {
        *d = generic::quantize_one(s, inv);
    }
    amax / 127.0
}

/// Requires AVX2 and `dst.len() == src.len()`. Bit-exact with [`generic::quantize_row_i16`]: the
/// same order-independent `amax` (NaNs skipped), the same IEEE multiply, then
/// [`generic::round_clamped`] lane-wise: clamp to `±q` (NaN kept, then zeroed), truncate, and step
/// by the exact fraction.
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_row_i16_avx2(dst: &mut [i16], src: &[f32], qmax: i32) -> f32 {
    let len = src.len();
    let body = len / 8 * 8;
    let sp = src.as_ptr();
    let amax = amax_avx2(src);
    if !(amax > 0.0 && amax.is_finite()) {
        dst.fill(0);
        return 0.0;
    }
    let q = qmax.clamp(1, 32767) as f32;
    let inv = q / amax;
    let invv = _mm256_set1_ps(inv);
    let (lo, hi) = (_mm256_set1_ps(-q), _mm256_set1_ps(q));
    let (half, neg_half) = (_mm256_set1_ps(0.5), _mm256_set1_ps(-0.5));
    let dp = dst.as_mut_ptr();
    // SAFETY: loads read src[p..p+8] and the 16-byte store writes dst[p..p+8], p + 8 <= body <= len.
    unsafe {
        let mut p = 0;
        while p < body {
            let v = _mm256_mul_ps(_mm256_loadu_ps(sp.add(p)), invv);
            let c = _mm256_min_ps(hi, _mm256_max_ps(lo, v)); // NaN passes (second operands)
            let c = _mm256_and_ps(c, _mm256_cmp_ps(c, c, _CMP_ORD_Q)); // NaN -> 0
            let t = _mm256_round_ps(c, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            let f = _mm256_sub_ps(c, t); // exact
                                         // Comparison masks are -1 where true: t - (f >= 0.5) + (f <= -0.5).
            let up = _mm256_castps_si256(_mm256_cmp_ps(f, half, _CMP_GE_OQ));
            let down = _mm256_castps_si256(_mm256_cmp_ps(f, neg_half, _CMP_LE_OQ));
            let r = _mm256_add_epi32(_mm256_sub_epi32(_mm256_cvttps_epi32(t), up), down);
            let r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
            _mm_storeu_si128(dp.add(p) as *mut __m128i, r16);
            p += 8;
        }
    }
    for (d, &v) in dst[body..].iter_mut().zip(&src[body..]) {
        *d = generic::round_clamped(v * inv, q) as i16;
    }
    amax / q
}

/// `(min(0, min y), max(0, max y))` of `y[p] = src[p] · f[p]`, NaNs ignored, as
/// [`generic::u8_grid`] scans it: `vminps(y, acc)` is `y < acc ? y : acc` (the second operand when
/// `y` is NaN or equal), the generic update itself, so each lane never holds `-0.0` and the result
/// does not depend on the order. Requires `f.len() == src.len()`.
#[target_feature(enable = "avx2,fma")]
fn range_u8_avx2(src: &[f32], f: &[f32]) -> (f32, f32) {
    let body = src.len() / 8 * 8;
    let (sp, fp) = (src.as_ptr(), f.as_ptr());
    let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    // SAFETY: loads read elements p..p+8 of both slices with p + 8 <= body <= src.len() == f.len().
    unsafe {
        let mut p = 0;
        while p < body {
            let y = _mm256_mul_ps(_mm256_loadu_ps(sp.add(p)), _mm256_loadu_ps(fp.add(p)));
            lo = _mm256_min_ps(y, lo);
            hi = _mm256_max_ps(y, hi);
            p += 8;
        }
    }
    let (mut l, mut h) = ([0.0f32; 8], [0.0f32; 8]);
    // SAFETY: two 8-lane stores into 8-element stack arrays.
    unsafe {
        _mm256_storeu_ps(l.as_mut_ptr(), lo);
        _mm256_storeu_ps(h.as_mut_ptr(), hi);
    }
    let (mut lo, mut hi) = (0.0f32, 0.0f32);
    let tail = src[body..].iter().zip(&f[body..]).map(|(&s, &f)| s * f);
    for y in l.into_iter().chain(h).chain(tail) {
        if y < lo {
            lo = y;
        }
        if y > hi {
            hi = y;
        }
    }
    (lo, hi)
}

/// Requires AVX2 and `dst.len() == src.len() == inv_smooth.len()`. Bit-exact with
/// [`generic::quantize_row_u8_centered`]: the range of [`range_u8_avx2`], the grid of
/// [`generic::u8_grid_of`], the same IEEE multiplies `y = src · inv_smooth`, `v = y · inv`, then
/// [`generic::u8_level`] lane-wise as in [`quantize_row_i16_avx2`] (clamp to `±255`, NaN to 0,
/// truncate, step by the exact fraction), `+ zp`, clamp to `0..=255` and `- zp`, all exact in f32.
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_row_u8_centered_avx2(dst: &mut [i16], src: &[f32], inv_smooth: &[f32]) -> f32 {
    let len = src.len();
    let body = len / 8 * 8;
    let (lo, hi) = range_u8_avx2(src, inv_smooth);
    let Some((inv, zp, scale)) = generic::u8_grid_of(lo, hi) else {
        dst.fill(0);
        return 0.0;
    };
    let (sp, fp, dp) = (src.as_ptr(), inv_smooth.as_ptr(), dst.as_mut_ptr());
    let (invv, zpv) = (_mm256_set1_ps(inv), _mm256_set1_ps(zp as f32));
    let (lim_lo, lim_hi) = (_mm256_set1_ps(-255.0), _mm256_set1_ps(255.0));
    let (zero, top) = (_mm256_setzero_ps(), _mm256_set1_ps(255.0));
    let (half, neg_half) = (_mm256_set1_ps(0.5), _mm256_set1_ps(-0.5));
    // SAFETY: loads read src and inv_smooth at p..p+8 and the 16-byte store writes dst[p..p+8],
    // p + 8 <= body <= len, the length of all three (caller).
    unsafe {
        let mut p = 0;
        while p < body {
            let y = _mm256_mul_ps(_mm256_loadu_ps(sp.add(p)), _mm256_loadu_ps(fp.add(p)));
            let v = _mm256_mul_ps(y, invv);
            let c = _mm256_min_ps(lim_hi, _mm256_max_ps(lim_lo, v)); // NaN passes (second operands)
            let c = _mm256_and_ps(c, _mm256_cmp_ps(c, c, _CMP_ORD_Q)); // NaN -> 0
            let t = _mm256_round_ps(c, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            // The fraction f is exact; comparison masks are -1 where true: t - (f >= 0.5) + (f <= -0.5).
            let f = _mm256_sub_ps(c, t);
            let up = _mm256_castps_si256(_mm256_cmp_ps(f, half, _CMP_GE_OQ));
            let down = _mm256_castps_si256(_mm256_cmp_ps(f, neg_half, _CMP_LE_OQ));
            let r = _mm256_add_epi32(_mm256_sub_epi32(_mm256_cvttps_epi32(t), up), down);
            let l = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(_mm256_cvtepi32_ps(r), zpv), zero), top);
            let d = _mm256_cvttps_epi32(_mm256_sub_ps(l, zpv));
            let d16 = _mm_packs_epi32(_mm256_castsi256_si128(d), _mm256_extracti128_si256(d, 1));
            _mm_storeu_si128(dp.add(p) as *mut __m128i, d16);
            p += 8;
        }
    }
    for ((d, &s), &f) in dst[body..].iter_mut().zip(&src[body..]).zip(&inv_smooth[body..]) {
        *d = (generic::u8_level(s * f, inv, zp) - zp) as i16;
    }
    scale
}

// ---------------------------------------------------------------------------------------------------
// Activations.

/// `exp(x)` per lane, the algorithm of the AVX-512 `exp16`: `x` clamped to `[-120, 88.8]`,
/// `x = n·ln2 + r` (two-constant Cody-Waite, `|r| <= ln2/2`), a degree-7 Taylor polynomial for `e^r`
/// (truncation < 6e-9 relative), then `· 2^n` in two exact power-of-two factors `2^(n >> 1)` and
/// `2^(n - (n >> 1))` (each a normal float, so only the last product rounds, with gradual underflow
/// to 0 and overflow to inf). Max error about 2 ulp over the normal range; NaN propagates, `-inf`
/// gives 0.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn exp8(x: __m256) -> __m256 {
    // Clamp (NaN passes: `vmaxps`/`vminps` return the second operand when either is NaN).
    let x = _mm256_min_ps(_mm256_set1_ps(88.8), _mm256_max_ps(_mm256_set1_ps(-120.0), x));
    let n = _mm256_round_ps(
        _mm256_mul_ps(x, _mm256_set1_ps(core::f32::consts::LOG2_E)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC,
    );
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x); // ln2 high part (Cephes C1 = 355/512)
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r); // ln2 - C1
    let mut p = _mm256_set1_ps(1.0 / 5040.0);
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    // n in [-174, 129] (NaN lanes give garbage factors, but p is NaN there already).
    let ni = _mm256_cvtps_epi32(n);
    let n1 = _mm256_srai_epi32::<1>(ni);
    let n2 = _mm256_sub_epi32(ni, n1);
    let bias = _mm256_set1_epi32(127);
    let f1 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n1, bias)));
    let f2 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n2, bias)));
    _mm256_mul_ps(_mm256_mul_ps(p, f1), f2)
}

/// `erf(x)` per lane, the approximation of the AVX-512 `erf16`: Eigen's rational function
/// `x·P(x²)/Q(x²)` on `x` clamped to `[-4, 4]`, exactly ±1 from `|x| >= 3.92` on (where erf rounds
/// to ±1 in f32). Max absolute error about 1e-7; NaN propagates.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn erf8(x: __m256) -> __m256 {
    let x = _mm256_min_ps(_mm256_set1_ps(4.0), _mm256_max_ps(_mm256_set1_ps(-4.0), x));
    let x2 = _mm256_mul_ps(x, x);
    let mut p = _mm256_set1_ps(-2.726_142_3e-10);
    for c in [2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_6e-3, -1.609_603_3e-2] {
        p = _mm256_fmadd_ps(p, x2, _mm256_set1_ps(c));
    }
    let mut q = _mm256_set1_ps(-1.456_607_2e-5);
    for c in [-2.133_740_5e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2] {
        q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(c));
    }
    let e = _mm256_div_ps(_mm256_mul_ps(x, p), q);
    let sign = _mm256_set1_ps(-0.0);
    let abs = _mm256_andnot_ps(sign, x);
    let big = _mm256_cmp_ps(abs, _mm256_set1_ps(3.92), _CMP_GE_OQ);
    let one = _mm256_or_ps(_mm256_set1_ps(1.0), _mm256_and_ps(x, sign)); // ±1 with the sign of x
    _mm256_blendv_ps(e, one, big)
}

/// Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_erf_avx2(x: &mut [f32]) {
    let len = x.len();
    let xp = x.as_mut_ptr();
    let (half, one) = (_mm256_set1_ps(0.5), _mm256_set1_ps(1.0));
    let rsqrt2 = _mm256_set1_ps(core::f32::consts::FRAC_1_SQRT_2);
    // SAFETY: every access covers the lanes of `tail_mask` at p < len, inside `x`.
    unsafe {
        let mut p = 0;
        while p < len {
            let mask = tail_mask((len - p).min(8));
            let v = _mm256_maskload_ps(xp.add(p), mask);
            let e = erf8(_mm256_mul_ps(v, rsqrt2));
            let g = _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e));
            _mm256_maskstore_ps(xp.add(p), mask, g);
            p += 8;
        }
    }
}

/// Requires AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_avx2(x: &mut [f32]) {
    let len = x.len();
    let xp = x.as_mut_ptr();
    let neg_inf = _mm256_set1_ps(f32::NEG_INFINITY);
    // SAFETY: full-vector accesses cover p..p+8 with p + 8 <= len; the tail uses masked loads and
    // stores of the lanes p..len only.
    unsafe {
        let mut p = 0;
        let mut mx = neg_inf;
        while p < len {
            let mask = tail_mask((len - p).min(8));
            let v = _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(xp.add(p), mask), _mm256_castsi256_ps(mask));
            mx = _mm256_max_ps(v, mx); // NaN in `v` -> keeps `mx` (like `f32::max`)
            p += 8;
        }
        let h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        let mxv = _mm256_set1_ps(_mm_cvtss_f32(_mm_max_ss(h, _mm_shuffle_ps(h, h, 0b01))));
        let mut sum = _mm256_setzero_ps();
        p = 0;
        while p < len {
            let mask = tail_mask((len - p).min(8));
            let e = exp8(_mm256_sub_ps(_mm256_maskload_ps(xp.add(p), mask), mxv));
            _mm256_maskstore_ps(xp.add(p), mask, e);
            sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(mask)));
            p += 8;
        }
        let inv = _mm256_set1_ps(1.0 / hsum_ps(sum));
        p = 0;
        while p < len {
            let mask = tail_mask((len - p).min(8));
            let v = _mm256_mul_ps(_mm256_maskload_ps(xp.add(p), mask), inv);
            _mm256_maskstore_ps(xp.add(p), mask, v);
            p += 8;
        }
    }
}

/// Requires AVX2, FMA and `gate.len() == up.len()`.
#[target_feature(enable = "avx2,fma")]
unsafe fn silu_mul_avx2(gate: &mut [f32], up: &[f32]) {
    let len = gate.len();
    let (gp, upp) = (gate.as_mut_ptr(), up.as_ptr());
    let (one, sign) = (_mm256_set1_ps(1.0), _mm256_set1_ps(-0.0));
    // SAFETY: every access covers the lanes of `tail_mask` at p < len, inside both slices (equal
    // lengths, caller).
    unsafe {
        let mut p = 0;
        while p < len {
            let mask = tail_mask((len - p).min(8));
            let g = _mm256_maskload_ps(gp.add(p), mask);
            let u = _mm256_maskload_ps(upp.add(p), mask);
            let e = exp8(_mm256_xor_ps(g, sign)); // exp(-g)
            let v = _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
            _mm256_maskstore_ps(gp.add(p), mask, v);
            p += 8;
        }
    }
}

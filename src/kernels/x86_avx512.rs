//! x86_64 variants: AVX-512 (F, BW, VL, VNNI) + FMA + F16C. Same names and signatures as [`generic`].
//!
//! Like [`super::x86`], every public function is safe on any x86_64 CPU: it takes the SIMD path only
//! when [`super::has_avx512`] says the CPU supports it **and** the slice lengths satisfy the contract,
//! and otherwise calls the [`generic`] kernel. The choice between generic, AVX2 and AVX-512 is made
//! in `kernels/mod.rs`.
//!
//! Matmuls use [`MR`] × [`NR`] register tiles of 16-lane accumulators (16 of the 32 zmm registers),
//! reduced four at a time by a transpose-and-add (13 shuffles/adds per row of four outputs, one
//! 128-bit store). The outer loop walks blocks of [`NR`] rows of `w` (contiguous, so the block is
//! streamed once and stays in L1 while all rows of `x` pass over it); the first row tile of each
//! block prefetches the next block, one cache line per weight row per step. Tails of `k` use masked
//! loads (zeros add nothing), edges of `m` and `n` smaller tiles and masked stores.
//!
//! `matmul_i8_i16` multiplies 16-bit activations by int8 weights widened to 16 bits with `vpdpwssd`
//! (VNNI): per i32 lane `acc + a0·b0 + a1·b1`, wrapping, which is the same modular sum as the
//! generic wrapping i32 accumulation: bit-exact. `softmax` and `gelu_erf` evaluate `exp` and `erf`
//! with polynomials (errors stated at `exp16` and `erf16`); they differ from the libm-based
//! generic kernels by a few ulp (tested to `2e-7` absolute + 4 ulp relative).
#![allow(unsafe_code)]

use core::arch::x86_64::*;

use half::f16;

use super::generic;
use super::mm_lens_ok;

/// Rows of `x` per micro-tile.
pub const MR: usize = 4;
/// Rows of `w` per micro-tile (`MR * NR` = 16 accumulators + `NR` weight vectors + 1 `x` vector: 21 of
/// 32 zmm registers).
pub const NR: usize = 4;

/// AVX-512 variant of [`generic::matmul_f32`] (same contract; float tolerance vs generic).
pub fn matmul_f32(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    if !(super::has_avx512() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f32(out, x, w, m, k, n);
    }
    // SAFETY: the CPU supports the enabled features and the lengths are exact (both checked above),
    // which is all the tile loops rely on to stay in bounds.
    unsafe { matmul_f32_avx512(out, x, w, m, k, n) }
}

/// AVX-512 variant of [`generic::matmul_f16`] (same contract; float tolerance vs generic).
pub fn matmul_f16(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    if !(super::has_avx512() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f16(out, x, w, m, k, n);
    }
    // SAFETY: as in `matmul_f32`.
    unsafe { matmul_f16_avx512(out, x, w, m, k, n) }
}

/// AVX-512 VNNI variant of [`generic::matmul_i8_i16`] (same contract; bit-exact with generic).
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
    if !(super::has_avx512() && ok) {
        return generic::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    // SAFETY: the CPU supports the enabled features; lengths checked above.
    unsafe { matmul_i8_i16_avx512(out, xq, xs, w, ws, m, k, n) }
}

/// AVX-512 variant of [`generic::softmax`] (polynomial `exp`; tolerance vs generic).
pub fn softmax(x: &mut [f32]) {
    if !super::has_avx512() {
        return generic::softmax(x);
    }
    // SAFETY: the CPU supports the enabled features (checked above).
    unsafe { softmax_avx512(x) }
}

/// AVX-512 variant of [`generic::gelu_erf`] (polynomial `erf`; tolerance vs generic).
pub fn gelu_erf(x: &mut [f32]) {
    if !super::has_avx512() {
        return generic::gelu_erf(x);
    }
    // SAFETY: the CPU supports the enabled features (checked above).
    unsafe { gelu_erf_avx512(x) }
}

// ---------------------------------------------------------------------------------------------------
// Helpers. All `unsafe fn`s below require the CPU features they enable, plus the bounds they state.

/// Mask of the first `r` of 16 lanes. Requires `r < 16`... or 16 (all lanes).
#[inline(always)]
fn mask16(r: usize) -> __mmask16 {
    if r >= 16 {
        0xffff
    } else {
        ((1u32 << r) - 1) as __mmask16
    }
}

/// Mask of the first `r` of 32 lanes (all lanes for `r >= 32`).
#[inline(always)]
fn mask32(r: usize) -> __mmask32 {
    if r >= 32 {
        u32::MAX
    } else {
        (1u32 << r) - 1
    }
}

/// `[Σa, Σb, Σc, Σd]` of four 16-lane vectors (transpose and add).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn hsum4_ps(a: __m512, b: __m512, c: __m512, d: __m512) -> __m128 {
    // Per 128-bit lane: ab = [a0+a2, b0+b2, a1+a3, b1+b3], cd likewise.
    let ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
    let cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    // Per 128-bit lane: [Σa, Σb, Σc, Σd] of that lane.
    let s =
        _mm512_add_ps(_mm512_shuffle_ps::<0b01_00_01_00>(ab, cd), _mm512_shuffle_ps::<0b11_10_11_10>(ab, cd));
    let hi = _mm512_castpd_ps(_mm512_zextpd256_pd512(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(s))));
    let y = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_castps512_ps256(hi));
    _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps::<1>(y))
}

/// `[Σa, Σb, Σc, Σd]` of four vectors of 16 i32 lanes (wrapping, like the generic accumulator).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn hsum4_epi32(a: __m512i, b: __m512i, c: __m512i, d: __m512i) -> __m128i {
    let ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    let cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
    let (abf, cdf) = (_mm512_castsi512_ps(ab), _mm512_castsi512_ps(cd));
    let s = _mm512_add_epi32(
        _mm512_castps_si512(_mm512_shuffle_ps::<0b01_00_01_00>(abf, cdf)),
        _mm512_castps_si512(_mm512_shuffle_ps::<0b11_10_11_10>(abf, cdf)),
    );
    let y = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64::<1>(s));
    _mm_add_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256::<1>(y))
}

/// Runs `tile::<R, C>` over all tiles of an `m × n` output with `MR × NR` full tiles and smaller edge
/// tiles; `$pf` is true for the first row tile of each column block (which prefetches the next block).
macro_rules! tile_loops {
    ($tile:ident, $m:expr, $n:expr, ($($arg:expr),*)) => {{
        let (m, n) = ($m, $n);
        let mut j = 0;
        while j < n {
            let cols = (n - j).min(NR);
            let mut i = 0;
            while i < m {
                let rows = (m - i).min(MR);
                let pf = i == 0;
                match (rows, cols) {
                    (4, 4) => $tile::<4, 4>($($arg,)* i, j, pf),
                    (3, 4) => $tile::<3, 4>($($arg,)* i, j, pf),
                    (2, 4) => $tile::<2, 4>($($arg,)* i, j, pf),
                    (1, 4) => $tile::<1, 4>($($arg,)* i, j, pf),
                    (4, 3) => $tile::<4, 3>($($arg,)* i, j, pf),
                    (3, 3) => $tile::<3, 3>($($arg,)* i, j, pf),
                    (2, 3) => $tile::<2, 3>($($arg,)* i, j, pf),
                    (1, 3) => $tile::<1, 3>($($arg,)* i, j, pf),
                    (4, 2) => $tile::<4, 2>($($arg,)* i, j, pf),
                    (3, 2) => $tile::<3, 2>($($arg,)* i, j, pf),
                    (2, 2) => $tile::<2, 2>($($arg,)* i, j, pf),
                    (1, 2) => $tile::<1, 2>($($arg,)* i, j, pf),
                    (4, _) => $tile::<4, 1>($($arg,)* i, j, pf),
                    (3, _) => $tile::<3, 1>($($arg,)* i, j, pf),
                    (2, _) => $tile::<2, 1>($($arg,)* i, j, pf),
                    _ => $tile::<1, 1>($($arg,)* i, j, pf),
                }
                i += rows;
            }
            j += cols;
        }
    }};
}

// ---------------------------------------------------------------------------------------------------
// f32 / f16 matmul: one tile loop, stamped out per weight type.

/// Loads 16 f32 weights at `p`, lanes outside `mask` zero. Requires the masked lanes readable.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn load16_f32(p: *const f32, mask: __mmask16) -> __m512 {
    // SAFETY: the lanes in `mask` are readable (caller); masked-off lanes are not accessed.
    unsafe { _mm512_maskz_loadu_ps(mask, p) }
}

/// Loads 16 f16 weights at `p` widened to f32, lanes outside `mask` zero. Requires the masked lanes
/// readable.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn load16_f16(p: *const f16, mask: __mmask16) -> __m512 {
    // SAFETY: the lanes in `mask` are readable (caller); masked-off lanes are not accessed. `f16` is
    // a `repr(transparent)` u16 holding IEEE binary16 bits, which is what `vcvtph2ps` reads.
    unsafe { _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p as *const i16)) }
}

macro_rules! float_matmul {
    ($matmul:ident, $tile:ident, $W:ty, $load:ident) => {
        /// All tiles of `out[m, n] = x[m, k] · w[n, k]ᵀ`.
        ///
        /// Requires the enabled CPU features and the exact lengths of the matmul contract.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
        unsafe fn $matmul(out: &mut [f32], x: &[f32], w: &[$W], m: usize, k: usize, n: usize) {
            let (o, xp, wp) = (out.as_mut_ptr(), x.as_ptr(), w.as_ptr());
            // SAFETY: every tile has i0 + R <= m and j0 + C <= n, which the exact lengths (caller)
            // make in bounds for x, w and out.
            unsafe { tile_loops!($tile, m, n, (o, xp, wp, k, n)) }
        }

        /// One `R × C` tile: `out[i0 + r, j0 + c] = x[i0 + r, :] · w[j0 + c, :]`; with `pf`, also
        /// prefetches the `NR` weight rows after this block.
        ///
        /// Requires the enabled CPU features, rows `i0..i0 + R` of `x[_, k]`, rows `j0..j0 + C` of
        /// `w[_, k]` and the matching elements of `out[_, n]` in bounds.
        #[inline]
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
        #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
        unsafe fn $tile<const R: usize, const C: usize>(
            out: *mut f32,
            x: *const f32,
            w: *const $W,
            k: usize,
            n: usize,
            i0: usize,
            j0: usize,
            pf: bool,
        ) {
            let mut acc = [[_mm512_setzero_ps(); NR]; R];
            let mut wv = [_mm512_setzero_ps(); C];
            // SAFETY: rows i0..i0+R of x and j0..j0+C of w are in bounds (caller); every load reads
            // columns p..p+16 with p + 16 <= k, or the masked tail p..k. Prefetches only compute
            // addresses (wrapping, never dereferenced). The stores hit out[i0 + r, j0..j0 + C].
            unsafe {
                let xr = x.add(i0 * k);
                let wr = w.add(j0 * k);
                let next = wr.wrapping_add(C * k);
                // One step of 16 columns at `p`, lanes outside `mask` zero.
                macro_rules! step {
                    ($p:expr, $mask:expr) => {
                        for c in 0..C {
                            wv[c] = $load(wr.add(c * k + $p), $mask);
                        }
                        if pf {
                            for c in 0..NR {
                                _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(c * k + $p) as *const i8);
                            }
                        }
                        for r in 0..R {
                            let xv = _mm512_maskz_loadu_ps($mask, xr.add(r * k + $p));
                            for c in 0..C {
                                acc[r][c] = _mm512_fmadd_ps(xv, wv[c], acc[r][c]);
                            }
                        }
                    };
                }
                let mut p = 0;
                while p + 16 <= k {
                    step!(p, 0xffff);
                    p += 16;
                }
                if p < k {
                    step!(p, mask16(k - p));
                }
                let smask = (1u8 << C) - 1;
                for r in 0..R {
                    let s = hsum4_ps(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
                    _mm_mask_storeu_ps(out.add((i0 + r) * n + j0), smask, s);
                }
            }
        }
    };
}

float_matmul!(matmul_f32_avx512, tile_f32, f32, load16_f32);
float_matmul!(matmul_f16_avx512, tile_f16, f16, load16_f16);

// ---------------------------------------------------------------------------------------------------
// 16-bit activations x int8 weights.

/// All tiles of `matmul_i8_i16`. Requires the enabled features and the exact lengths of the contract.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i8_i16_avx512(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[i8],
    ws: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    let (o, xp, sp, wp, wsp) = (out.as_mut_ptr(), xq.as_ptr(), xs.as_ptr(), w.as_ptr(), ws.as_ptr());
    // SAFETY: every tile has i0 + R <= m and j0 + C <= n, in bounds by the exact lengths (caller).
    unsafe { tile_loops!(tile_i8_i16, m, n, (o, xp, sp, wp, wsp, k, n)) }
}

/// One `R × C` tile: 32 columns per step, weights widened to i16 (`vpmovsxbw`), `vpdpwssd` into i32
/// lanes (wrapping; the masked tail loads zeros), then `(dot as f32 * xs[i]) * ws[j]` four at a time
/// (the same IEEE operations as generic, so bit-exact).
///
/// Requires the enabled features, rows `i0..i0 + R` of `xq[_, k]` and `xs`, rows `j0..j0 + C` of
/// `w[_, k]` and `ws`, and the matching `out` elements in bounds.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn tile_i8_i16<const R: usize, const C: usize>(
    out: *mut f32,
    xq: *const i16,
    xs: *const f32,
    w: *const i8,
    ws: *const f32,
    k: usize,
    n: usize,
    i0: usize,
    j0: usize,
    pf: bool,
) {
    let mut acc = [[_mm512_setzero_si512(); NR]; R];
    let mut wv = [_mm512_setzero_si512(); C];
    // SAFETY: rows i0..i0+R of xq and j0..j0+C of w are in bounds (caller); each load reads columns
    // p..p+32 with p + 32 <= k, or the masked tail p..k. Prefetch addresses are only computed
    // (wrapping). xs[i0..i0+R], ws[j0..j0+C] and the stored out elements are in bounds (caller).
    unsafe {
        let xr = xq.add(i0 * k);
        let wr = w.add(j0 * k);
        let next = wr.wrapping_add(C * k);
        let mut p = 0;
        while p < k {
            let mask = mask32(k - p);
            for c in 0..C {
                let v = _mm256_maskz_loadu_epi8(mask, wr.add(c * k + p));
                wv[c] = _mm512_cvtepi8_epi16(v);
            }
            if pf {
                for c in 0..NR {
                    _mm_prefetch::<_MM_HINT_T0>(next.wrapping_add(c * k + p));
                }
            }
            for r in 0..R {
                let xv = _mm512_maskz_loadu_epi16(mask, xr.add(r * k + p));
                for c in 0..C {
                    acc[r][c] = _mm512_dpwssd_epi32(acc[r][c], xv, wv[c]);
                }
            }
            p += 32;
        }
        let smask = (1u8 << C) - 1;
        let wsv = _mm_maskz_loadu_ps(smask, ws.add(j0));
        for r in 0..R {
            let s = hsum4_epi32(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
            let f = _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_set1_ps(*xs.add(i0 + r)));
            _mm_mask_storeu_ps(out.add((i0 + r) * n + j0), smask, _mm_mul_ps(f, wsv));
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Activations.

/// `exp(x)` per lane. Range reduction `x = n·ln2 + r`, `|r| <= ln2/2` (two-constant Cody-Waite),
/// degree-7 Taylor polynomial for `e^r` (truncation < 6e-9 relative), then `vscalefps` by `2^n`
/// (exact, with gradual underflow to 0 and overflow to inf; `x` is clamped to `[-120, 88.8]`). Max
/// error about 2 ulp over the normal range; NaN propagates, `-inf` gives 0.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn exp16(x: __m512) -> __m512 {
    // Clamp (NaN passes: `vmaxps`/`vminps` return the second operand when either is NaN).
    let x = _mm512_min_ps(_mm512_set1_ps(88.8), _mm512_max_ps(_mm512_set1_ps(-120.0), x));
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm512_mul_ps(
        x,
        _mm512_set1_ps(core::f32::consts::LOG2_E),
    ));
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693_359_4), x); // ln2 high part (Cephes C1 = 355/512)
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.121_944_4e-4), r); // ln2 - C1
    let mut p = _mm512_set1_ps(1.0 / 5040.0);
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    }
    _mm512_scalef_ps(p, n)
}

/// `erf(x)` per lane: Eigen's rational approximation `x·P(x²)/Q(x²)` on `x` clamped to `[-4, 4]`
/// (beyond, erf is ±1 in f32), exactly ±1 from `|x| >= 3.92` on. Max absolute error about 1e-7.
/// NaN propagates.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn erf16(x: __m512) -> __m512 {
    let x = _mm512_min_ps(_mm512_set1_ps(4.0), _mm512_max_ps(_mm512_set1_ps(-4.0), x));
    let x2 = _mm512_mul_ps(x, x);
    let mut p = _mm512_set1_ps(-2.726_142_3e-10);
    for c in [2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_6e-3, -1.609_603_3e-2] {
        p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(c));
    }
    let mut q = _mm512_set1_ps(-1.456_607_2e-5);
    for c in [-2.133_740_5e-4, -1.682_827e-3, -7.373_329e-3, -1.426_474e-2] {
        q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(c));
    }
    let e = _mm512_div_ps(_mm512_mul_ps(x, p), q);
    // |x| >= 3.92: erf rounds to ±1 in f32 (1 - erf(3.92) < 2^-25); make it exact there.
    let big = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_abs_ps(x), _mm512_set1_ps(3.92));
    let sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(i32::MIN));
    let one = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_set1_ps(1.0)), sign));
    _mm512_mask_blend_ps(big, e, one)
}

/// Requires the enabled features.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn softmax_avx512(x: &mut [f32]) {
    let len = x.len();
    let xp = x.as_mut_ptr();
    // SAFETY: every access covers the lanes of `mask16(len - p)` at p < len, all inside `x`.
    unsafe {
        let mut mx = _mm512_set1_ps(f32::NEG_INFINITY);
        let mut p = 0;
        while p < len {
            let mask = mask16(len - p);
            mx = _mm512_mask_max_ps(mx, mask, _mm512_maskz_loadu_ps(mask, xp.add(p)), mx);
            p += 16;
        }
        let mxv = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
        let mut sum = _mm512_setzero_ps();
        p = 0;
        while p < len {
            let mask = mask16(len - p);
            let e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, xp.add(p)), mxv));
            _mm512_mask_storeu_ps(xp.add(p), mask, e);
            sum = _mm512_mask_add_ps(sum, mask, sum, e);
            p += 16;
        }
        let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(sum));
        p = 0;
        while p < len {
            let mask = mask16(len - p);
            let v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, xp.add(p)), inv);
            _mm512_mask_storeu_ps(xp.add(p), mask, v);
            p += 16;
        }
    }
}

/// Requires the enabled features.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn gelu_erf_avx512(x: &mut [f32]) {
    let len = x.len();
    let xp = x.as_mut_ptr();
    let (half, one) = (_mm512_set1_ps(0.5), _mm512_set1_ps(1.0));
    let rsqrt2 = _mm512_set1_ps(core::f32::consts::FRAC_1_SQRT_2);
    // SAFETY: every access covers the lanes of `mask16(len - p)` at p < len, all inside `x`.
    unsafe {
        let mut p = 0;
        while p < len {
            let mask = mask16(len - p);
            let v = _mm512_maskz_loadu_ps(mask, xp.add(p));
            let e = erf16(_mm512_mul_ps(v, rsqrt2));
            let g = _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e));
            _mm512_mask_storeu_ps(xp.add(p), mask, g);
            p += 16;
        }
    }
}

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
//! block prefetches the next block, one cache line per weight row per step (`matmul_i8_i16`: a
//! line per 64 weight bytes, 4 KiB ahead in the block's stream; `matmul_i4_i16`: 8 KiB ahead). Tails of `k` use masked loads (zeros add nothing), edges of
//! `m` and `n` smaller tiles and masked stores.
//!
//! [`matmul_f32_gemm`] and [`matmul_f16_gemm`] are the prefill (many rows of `x`) variants: weight
//! rows packed on the fly into k-major panels on the stack, a broadcast microkernel over them (see
//! there); which one a call takes is decided from the whole `m` in `kernels/mod.rs`.
//!
//! `matmul_i8_i16` multiplies 16-bit activations by int8 weights widened to 16 bits with `vpdpwssd`
//! (VNNI): per i32 lane `acc + a0·b0 + a1·b1`, wrapping, which is the same modular sum as the
//! generic wrapping i32 accumulation: bit-exact. `matmul_i4_i16` (group-wise int4 weights with an
//! f16 scale and offset per group) widens the nibbles to 16 bits (`vpunpck{l,h}bw`) for `vpdpwssd`
//! too, 4 groups per step in the four 128-bit lanes, reduces to exact per-group sums (lane `4g + c`:
//! group `g`, output `c`) and does the f32 operations of the generic kernel in its order: bit-exact
//! as well (see [`matmul_i4_i16`]). `softmax` and `gelu_erf` evaluate `exp` and `erf` with
//! polynomials (errors stated at `exp16` and `erf16`); they differ from the libm-based generic
//! kernels by a few ulp (tested to `2e-7` absolute + 4 ulp relative).
#![allow(unsafe_code)]

use core::arch::x86_64::*;

use half::f16;

use super::generic;
use super::mm_lens_ok;
use super::x86::NextPanel;
use crate::bounded;

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

/// AVX-512 VNNI variant of [`generic::matmul_i4_i16`] (same contract; bit-exact with generic).
///
/// Bit-exact because it performs the same arithmetic: each group's `d_g = Σ x·u` exactly in i32
/// (`vpdpwssd` on the nibbles widened to 16 bits) and its `sx_g = Σ x` exactly (in f32, `|sx_g| <=
/// 2^21`), `d_g as f32 · scale` and `sx_g · min` each rounded once, their sum rounded (no FMA),
/// added to the accumulator group by group in order, then `· xs[i]`. Only the order of the exact
/// integer additions differs from [`generic`]. Falls back to the generic kernel when the contract
/// does not hold, and for rows of more than [`I4_SX_CAP`] = 4096 groups (`k` over 131072 at group
/// 32), beyond the stack buffer of per-group activation sums (16 KiB).
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
    // Two weights per byte: `w.len() == n·k/2` is `mm_lens_ok`'s `n·k` with `2·w.len()` (no overflow:
    // a slice of bytes is at most isize::MAX long).
    let ok = (group == 32 || group == 64)
        && k != 0
        && k.is_multiple_of(group)
        && k / group <= I4_SX_CAP
        && mm_lens_ok(out.len(), xq.len(), 2 * w.len(), m, k, n)
        && n.checked_mul(k / group) == Some(ws.len())
        && wm.len() == ws.len()
        && xs.len() == m;
    if !(super::has_avx512() && ok) {
        return generic::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    // SAFETY: the CPU supports the enabled features; `group` and the lengths checked above.
    unsafe {
        if group == 32 {
            matmul_i4_i16_avx512::<1>(out, xq, xs, w, ws, wm, m, k, n)
        } else {
            matmul_i4_i16_avx512::<2>(out, xq, xs, w, ws, wm, m, k, n)
        }
    }
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
pub(super) fn mask16(r: usize) -> __mmask16 {
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
/// `tile[P]` runs `tile::<R, C, P>` (a further const parameter).
macro_rules! tile_loops {
    ($tile:ident $([$($p:tt)*])?, $m:expr, $n:expr, ($($arg:expr),*)) => {{
        let (m, n) = ($m, $n);
        let mut j = 0;
        while j < n {
            let cols = (n - j).min(NR);
            let mut i = 0;
            while i < m {
                let rows = (m - i).min(MR);
                let pf = i == 0;
                match (rows, cols) {
                    (4, 4) => $tile::<4, 4 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (3, 4) => $tile::<3, 4 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (2, 4) => $tile::<2, 4 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (1, 4) => $tile::<1, 4 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (4, 3) => $tile::<4, 3 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (3, 3) => $tile::<3, 3 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (2, 3) => $tile::<2, 3 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (1, 3) => $tile::<1, 3 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (4, 2) => $tile::<4, 2 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (3, 2) => $tile::<3, 2 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (2, 2) => $tile::<2, 2 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (1, 2) => $tile::<1, 2 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (4, _) => $tile::<4, 1 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (3, _) => $tile::<3, 1 $(, $($p)*)?>($($arg,)* i, j, pf),
                    (2, _) => $tile::<2, 1 $(, $($p)*)?>($($arg,)* i, j, pf),
                    _ => $tile::<1, 1 $(, $($p)*)?>($($arg,)* i, j, pf),
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

/// Loads 16 f32 weights at `p` (a plain load: masked loads that miss the cache are several times
/// slower on an AMD EPYC, Zen 5). Requires 16 readable f32 at `p`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn load16_f32_full(p: *const f32) -> __m512 {
    // SAFETY: 16 readable f32 at `p` (caller).
    unsafe { _mm512_loadu_ps(p) }
}

/// Loads 16 f16 weights at `p` widened to f32 (a plain load). Requires 16 readable f16 at `p`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn load16_f16_full(p: *const f16) -> __m512 {
    // SAFETY: 16 readable f16 (32 bytes) at `p` (caller); `f16` is a `repr(transparent)` u16 holding
    // IEEE binary16 bits, which is what `vcvtph2ps` reads.
    unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i)) }
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
// f32 / f16 GEMM: packed weight panels and a broadcast microkernel (for many rows of `x`).

/// Smallest `m` from which [`matmul_f32_gemm`] beats [`matmul_f32`]: 24 on an AMD EPYC (Zen 5) at
/// MiniLM shapes (k 384 n 384/1536, k 1536 n 384: a tie at 24, 15-30% faster at 32-64; at 16 the
/// packing, about 0.25 cycles per weight, still costs more than the dot-product tiles lose).
pub const GEMM_MIN_M_F32: usize = 24;
/// Smallest `m` from which [`matmul_f16_gemm`] beats [`matmul_f16`] (whose f16 weight stream is half
/// as long): 32 on the same machine (a tie at 32, 10-20% faster at 40-64).
pub const GEMM_MIN_M_F16: usize = 32;
/// Rows of `x` per GEMM microkernel ([`GEMM_MR`] × [`GEMM_NV`] = 24 zmm accumulators + 3 panel
/// vectors + 1 broadcast; 8 × 3 measured as fast as 6 × 2 and 12 × 2, with fewer loads per FMA).
pub const GEMM_MR: usize = 8;
/// 16-lane vectors of columns per microkernel.
pub const GEMM_NV: usize = 3;
/// Columns of `out` (rows of `w`) per packed panel.
pub const GEMM_NR: usize = 16 * GEMM_NV;
/// Depth of a packed panel: `[GEMM_KC][GEMM_NR]` f32 = 36 KiB, which stays in L1 (48 KiB on Zen 5)
/// while every row tile of `x` passes over it.
pub const GEMM_KC: usize = 192;

/// GEMM variant of [`matmul_f32`] (same contract; float tolerance vs generic): blocks of
/// [`GEMM_NR`] rows of `w` are packed [`GEMM_KC`] columns at a time into a k-major panel on the
/// stack (16 × 16 transposes), and a [`GEMM_MR`] × [`GEMM_NR`] microkernel does, per `p`, three
/// panel loads and 24 FMAs with `x[r, p]` broadcast: no horizontal reductions. Each output is one
/// FMA chain over `p` in order (later depth blocks continue from `out`). Faster than [`matmul_f32`]
/// from [`GEMM_MIN_M_F32`] rows of `x` on; decode (`m = 1`) belongs to [`matmul_f32`], which
/// streams `w` once without packing. The two sum in different orders, so when one matmul is split
/// into bands of rows, all bands must take the same one (chosen from the whole `m`).
pub fn matmul_f32_gemm(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    if !(super::has_avx512() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f32(out, x, w, m, k, n);
    }
    // SAFETY: the CPU supports the enabled features and the lengths are exact (both checked above).
    unsafe { gemm_f32_avx512(out, x, w, m, k, n) }
}

/// GEMM variant of [`matmul_f16`] (same contract; float tolerance vs generic): as
/// [`matmul_f32_gemm`], the weights widened to f32 while packing.
pub fn matmul_f16_gemm(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    if !(super::has_avx512() && mm_lens_ok(out.len(), x.len(), w.len(), m, k, n)) {
        return generic::matmul_f16(out, x, w, m, k, n);
    }
    // SAFETY: as in `matmul_f32_gemm`.
    unsafe { gemm_f16_avx512(out, x, w, m, k, n) }
}

/// A packed weight panel: `[GEMM_KC][GEMM_NR]` f32, 64-byte aligned.
#[repr(C, align(64))]
struct Panel([f32; GEMM_KC * GEMM_NR]);

/// Transposes the 16 × 16 block `v` in place (`v[i]` lane `j` becomes `v[j]` lane `i`).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) fn transpose16(v: &mut [__m512; 16]) {
    let (pd, ps) = (_mm512_castps_pd, _mm512_castpd_ps);
    let mut t = [_mm512_setzero_ps(); 16];
    for i in 0..8 {
        t[2 * i] = _mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]);
    }
    // Per 128-bit lane, v[4q + s] now holds column s of rows 4q..4q + 4.
    for q in 0..4 {
        let b = 4 * q;
        v[b] = ps(_mm512_unpacklo_pd(pd(t[b]), pd(t[b + 2])));
        v[b + 1] = ps(_mm512_unpackhi_pd(pd(t[b]), pd(t[b + 2])));
        v[b + 2] = ps(_mm512_unpacklo_pd(pd(t[b + 1]), pd(t[b + 3])));
        v[b + 3] = ps(_mm512_unpackhi_pd(pd(t[b + 1]), pd(t[b + 3])));
    }
    // 128-bit lane L of v[4q + s]: rows 4q..4q + 4 of column 4L + s. Gather the lanes.
    for h in 0..2 {
        for s in 0..4 {
            let (a, b) = (v[8 * h + s], v[8 * h + 4 + s]);
            t[8 * h + s] = _mm512_shuffle_f32x4::<0x88>(a, b);
            t[8 * h + 4 + s] = _mm512_shuffle_f32x4::<0xdd>(a, b);
        }
    }
    for s in 0..8 {
        v[s] = _mm512_shuffle_f32x4::<0x88>(t[s], t[8 + s]);
        v[8 + s] = _mm512_shuffle_f32x4::<0xdd>(t[s], t[8 + s]);
    }
}

/// One `R × 16·V` tile of the GEMM over one panel: `out[r, c] (+)= Σ_{p < kc} x[r, p] · panel[p, c]`
/// for `c < cols`, starting from zero when `first`, else from `out`; with `PF`, each step also
/// prefetches some of `next`.
///
/// Requires the enabled features, `R` rows of `x` (stride `k`) with `kc` readable values each, `kc`
/// rows of the panel and `R` rows of `out` (stride `n`) with `cols <= 16·V` writable values each.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
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
    let masks: [__mmask16; V] = core::array::from_fn(|v| mask16(cols.saturating_sub(16 * v)));
    let mut acc = [[_mm512_setzero_ps(); V]; R];
    // SAFETY: the rows, lanes and lengths touched are those the caller guarantees (stores and loads
    // of `out` are masked to `cols`).
    unsafe {
        if !first {
            for r in 0..R {
                for v in 0..V {
                    acc[r][v] = _mm512_maskz_loadu_ps(masks[v], out.add(r * n + 16 * v));
                }
            }
        }
        for p in 0..kc {
            if PF {
                next.step();
            }
            let pp = panel.add(p * GEMM_NR);
            let wv: [__m512; V] = core::array::from_fn(|v| _mm512_load_ps(pp.add(16 * v)));
            for r in 0..R {
                let xb = _mm512_set1_ps(*x.add(r * k + p));
                for v in 0..V {
                    acc[r][v] = _mm512_fmadd_ps(xb, wv[v], acc[r][v]);
                }
            }
        }
        for r in 0..R {
            for v in 0..V {
                _mm512_mask_storeu_ps(out.add(r * n + 16 * v), masks[v], acc[r][v]);
            }
        }
    }
}

/// Runs [`gemm_tile`] over rows `0..m` in tiles of [`GEMM_MR`] (a smaller last one); the first
/// prefetches `next`.
///
/// Requires what [`gemm_tile`] does, for all `m` rows.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
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
            11 => gemm_tile::<11, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            10 => gemm_tile::<10, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            9 => gemm_tile::<9, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            8 => gemm_tile::<8, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            7 => gemm_tile::<7, V, false>(o, n, xr, k, panel, kc, cols, first, next),
            6 => gemm_tile::<6, V, false>(o, n, xr, k, panel, kc, cols, first, next),
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
    ($gemm:ident, $pack:ident, $W:ty, $load:ident, $load_full:ident) => {
        /// The whole GEMM: per block of [`GEMM_NR`] rows of `w`, per [`GEMM_KC`] columns, pack the
        /// panel, then run all rows of `x` over it (the first depth block stores, later ones add).
        ///
        /// Requires the enabled CPU features and the exact lengths of the matmul contract.
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
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
                        match cols.div_ceil(16) {
                            4 => gemm_rows::<4>(oj, n, xj, k, m, pp, kc, cols, f, next),
                            3 => gemm_rows::<3>(oj, n, xj, k, m, pp, kc, cols, f, next),
                            2 => gemm_rows::<2>(oj, n, xj, k, m, pp, kc, cols, f, next),
                            _ => gemm_rows::<1>(oj, n, xj, k, m, pp, kc, cols, f, next),
                        }
                        p0 += kc;
                    }
                    j0 += cols;
                }
            }
        }

        /// Packs `panel[p, c] = w[c, p]` for `p < kc`, `c < cols` (columns `cols..16·⌈cols/16⌉`
        /// zero), 16 × 16 blocks at a time.
        ///
        /// Requires the enabled features, `cols <= GEMM_NR`, `kc <= GEMM_KC`, rows `0..cols` of
        /// `w` (stride `k`) with `kc` readable values each, and a `[GEMM_KC][GEMM_NR]` panel.
        #[inline]
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
        unsafe fn $pack(panel: *mut f32, w: *const $W, k: usize, cols: usize, kc: usize) {
            // SAFETY: loads cover rows c < cols and columns q..q + 16 masked to kc (caller); stores
            // hit panel rows q + t < kc <= GEMM_KC, lanes h·16.. h·16 + 16 <= GEMM_NR.
            unsafe {
                for h in 0..cols.div_ceil(16) {
                    let rows = (cols - 16 * h).min(16);
                    let mut q = 0;
                    let wh = w.add(16 * h * k);
                    let ph = panel.add(16 * h);
                    if rows == 16 {
                        // Full blocks: fixed trip counts, so `v` stays in registers.
                        while q + 16 <= kc {
                            let mut v: [__m512; 16] = core::array::from_fn(|c| $load_full(wh.add(c * k + q)));
                            transpose16(&mut v);
                            for (t, vt) in v.iter().enumerate() {
                                _mm512_store_ps(ph.add((q + t) * GEMM_NR), *vt);
                            }
                            q += 16;
                        }
                    }
                    while q < kc {
                        let mut v = [_mm512_setzero_ps(); 16];
                        for (c, vc) in v.iter_mut().enumerate().take(rows) {
                            let wc = w.add((16 * h + c) * k + q);
                            *vc = if q + 16 <= kc { $load_full(wc) } else { $load(wc, mask16(kc - q)) };
                        }
                        transpose16(&mut v);
                        for (t, vt) in v.iter().enumerate().take((kc - q).min(16)) {
                            _mm512_store_ps(panel.add((q + t) * GEMM_NR + 16 * h), *vt);
                        }
                        q += 16;
                    }
                }
            }
        }
    };
}

float_gemm!(gemm_f32_avx512, pack_f32, f32, load16_f32, load16_f32_full);
float_gemm!(gemm_f16_avx512, pack_f16, f16, load16_f16, load16_f16_full);

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

/// How far past the end of its block of rows of `w` the first row tile of `matmul_i8_i16` prefetches,
/// in bytes: one cache line per 64 weight bytes consumed, so the stream runs that far ahead. At
/// m = 1 on an AMD EPYC (Zen 5) the SmolLM2 GEMVs went from 26-28 to 30-35 GB/s with 4 KiB (1-6 KiB
/// alike; the block-sized distance it replaced, one line per 32 bytes, was the slowest).
pub(super) const I8_PREFETCH_AHEAD: usize = 4096;

/// One `R × C` tile: 64 columns per full step (one 512-bit load per weight row, its halves widened
/// to i16 by `vpmovsxbw`; masked loads only in the tail of 32 and fewer, since masked loads that
/// miss the cache are slow), `vpdpwssd` into i32 lanes (wrapping; the masked tail loads zeros),
/// then `(dot as f32 * xs[i]) * ws[j]` four at a time (the same IEEE operations as generic, so
/// bit-exact). With `pf`, one prefetch per 64 weight bytes consumed, [`I8_PREFETCH_AHEAD`] past
/// the end of the block.
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
    let mut lo = [_mm512_setzero_si512(); C];
    let mut hi = [_mm512_setzero_si512(); C];
    // SAFETY: rows i0..i0+R of xq and j0..j0+C of w are in bounds (caller); full steps read columns
    // p..p+64 with p + 64 <= k, tail steps p..p+32 masked to p..k. Prefetch addresses are only
    // computed (wrapping; prefetches never fault). xs[i0..i0+R], ws[j0..j0+C] and the stored out
    // elements are in bounds (caller).
    unsafe {
        let xr = xq.add(i0 * k);
        let wr = w.add(j0 * k);
        let ahead = wr.wrapping_add(C * k + I8_PREFETCH_AHEAD);
        let mut p = 0;
        while p + 64 <= k {
            for c in 0..C {
                if pf {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(c * k + p));
                }
                let v = _mm512_loadu_si512(wr.add(c * k + p) as *const _);
                lo[c] = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(v));
                hi[c] = _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64::<1>(v));
            }
            for r in 0..R {
                let x0 = _mm512_loadu_si512(xr.add(r * k + p) as *const _);
                let x1 = _mm512_loadu_si512(xr.add(r * k + p + 32) as *const _);
                for c in 0..C {
                    acc[r][c] = _mm512_dpwssd_epi32(acc[r][c], x0, lo[c]);
                    acc[r][c] = _mm512_dpwssd_epi32(acc[r][c], x1, hi[c]);
                }
            }
            p += 64;
        }
        while p < k {
            let mask = mask32(k - p);
            for c in 0..C {
                lo[c] = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, wr.add(c * k + p)));
            }
            for r in 0..R {
                let xv = _mm512_maskz_loadu_epi16(mask, xr.add(r * k + p));
                for c in 0..C {
                    acc[r][c] = _mm512_dpwssd_epi32(acc[r][c], xv, lo[c]);
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
// 16-bit activations x group-wise int4 weights.

/// `f32`s of the stack buffer of `matmul_i4_i16` holding `Σx` per group for a block of rows of `x`
/// (16 KiB); the AVX-512 kernel needs `k / group <= I4_SX_CAP`.
pub const I4_SX_CAP: usize = 4096;

/// How far past the end of its block of rows of `w` the first row tile of `matmul_i4_i16`
/// prefetches, in bytes (as [`super::x86::PREFETCH_AHEAD`]; at m = 1 on an AMD EPYC, Zen 5, 0 and
/// 2048 measured 10-20% slower, 16384 about the same).
const I4_PREFETCH_AHEAD: usize = 8192;

/// Groups per step of `matmul_i4_i16`: one 128-bit lane of the step's vectors per group.
const I4_STEP: usize = 4;

/// Mask of the first `r` of 64 lanes (all lanes for `r >= 64`).
#[inline(always)]
pub(super) fn mask64(r: usize) -> __mmask64 {
    if r >= 64 {
        u64::MAX
    } else {
        (1u64 << r) - 1
    }
}

/// All tiles of `matmul_i4_i16` with `BPG` blocks of 32 values per group (1: group 32, 2: group 64).
///
/// Rows of `x` go in blocks of up to `I4_SX_CAP / (k / group)` (a multiple of [`MR`] when that is at
/// least `MR`), each with its `Σx` per group computed once into a stack buffer; per row block, the
/// tiles of [`tile_loops!`].
///
/// Requires the enabled features, `k > 0` a multiple of `32 * BPG` with `k / (32 * BPG) <=
/// I4_SX_CAP`, and the exact lengths of the contract.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i4_i16_avx512<const BPG: usize>(
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
    let block_rows = match I4_SX_CAP.checked_div(gpr) {
        Some(r) if r >= MR => r / MR * MR,
        Some(r) => r,
        None => 0,
    };
    debug_assert!(block_rows >= 1);
    if block_rows == 0 {
        return; // k below one group or beyond I4_SX_CAP groups: the dispatcher never sends it
    }
    let mut sxb = [0.0f32; I4_SX_CAP];
    let (wp, sp, mp, sxp) = (w.as_ptr(), ws.as_ptr(), wm.as_ptr(), sxb.as_ptr());
    let mut i_start = 0;
    while i_start < m {
        let rows = (m - i_start).min(block_rows);
        for (r, sx) in sxb.chunks_exact_mut(gpr).take(rows).enumerate() {
            let row = i_start + r;
            // SAFETY: the features are enabled here; `row < m` and `sx.len() == gpr`.
            unsafe { group_sums::<BPG>(sx, bounded::rows(xq, row, 1, k)) };
        }
        // SAFETY: rows i_start..i_start + rows of x, xs and out exist (exact lengths, caller), so the
        // pointers to the row block are in bounds; every tile has i0 + R <= rows and j0 + C <= n, and
        // reads Σx of its rows from the `rows · gpr` values of `sxb` written above.
        unsafe {
            let o = out.as_mut_ptr().add(i_start * n);
            let (xp, xsp) = (xq.as_ptr().add(i_start * k), xs.as_ptr().add(i_start));
            tile_loops!(tile_i4_i16[BPG], rows, n, (o, xp, xsp, wp, sp, mp, sxp, k, n));
        }
        i_start += rows;
    }
}

/// `sx[g] = Σ x[p]` over each group `g` (of `32 * BPG` values) of the row `x` (exact in i32, and in
/// f32: `|Σ x| <= 64 · 32768 = 2^21`).
///
/// Requires the enabled features and `x.len() == 32 * BPG * sx.len()`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn group_sums<const BPG: usize>(sx: &mut [f32], x: &[i16]) {
    let ones = _mm512_set1_epi16(1);
    for (s, xg) in sx.iter_mut().zip(x.chunks_exact(32 * BPG)) {
        let mut d = _mm512_setzero_si512();
        for b in 0..BPG {
            // SAFETY: `xg` holds 32·BPG i16, this reads 32 of them at 32·b.
            let xv = unsafe { _mm512_loadu_si512(xg.as_ptr().add(32 * b) as *const __m512i) };
            d = _mm512_dpwssd_epi32(d, xv, ones);
        }
        *s = _mm512_reduce_add_epi32(d) as f32;
    }
}

/// Per 128-bit lane `L`: `[Σ a_L, Σ b_L, Σ c_L, Σ d_L]`, the sums of the four i32 of lane `L` of each
/// of `a`, `b`, `c`, `d` (wrapping), i.e. lane `4L + v` of the result is the sum over lane `L` of
/// vector `v`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(super) fn hsum4_lanes_epi32(a: __m512i, b: __m512i, c: __m512i, d: __m512i) -> __m512i {
    // Per 128-bit lane: ab = [a0+a2, b0+b2, a1+a3, b1+b3], cd likewise.
    let ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    let cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
    let (abf, cdf) = (_mm512_castsi512_ps(ab), _mm512_castsi512_ps(cd));
    _mm512_add_epi32(
        _mm512_castps_si512(_mm512_shuffle_ps::<0b01_00_01_00>(abf, cdf)),
        _mm512_castps_si512(_mm512_shuffle_ps::<0b11_10_11_10>(abf, cdf)),
    )
}

/// The f16 values `src[(j0 + c)·gpr + g0 + g]` (scales or offsets of `matmul_i4_i16`) for `c < C`
/// and `g < ng`, widened to f32 in lane `4g + c` (other lanes zero): four masked 8-byte loads,
/// `vpunpck{l,h}{wd,dq}` and `vcvtph2ps`.
///
/// Requires the enabled features, `C <= 4`, `ng <= 4` and those values in bounds.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn f16_step<const C: usize>(src: *const f16, j0: usize, gpr: usize, g0: usize, ng: usize) -> __m512 {
    let mask = ((1u32 << ng) - 1) as __mmask8;
    let mut a = [_mm_setzero_si128(); 4];
    for (c, ac) in a.iter_mut().enumerate().take(C) {
        // SAFETY: the `ng` values at (j0 + c)·gpr + g0 are in bounds (caller); masked-off lanes are
        // not accessed. `f16` is a `repr(transparent)` u16 holding IEEE binary16 bits.
        *ac = unsafe {
            let p = src.add((j0 + c) * gpr + g0);
            if ng == 4 {
                _mm_loadl_epi64(p as *const __m128i)
            } else {
                _mm_maskz_loadu_epi16(mask, p as *const i16)
            }
        };
    }
    // [v(0, g), v(1, g)] for g = 0..4, then [v(2, g), v(3, g)]; then [v(0..4, 0), v(0..4, 1)], [.., 2, 3].
    let t01 = _mm_unpacklo_epi16(a[0], a[1]);
    let t23 = _mm_unpacklo_epi16(a[2], a[3]);
    let (lo, hi) = (_mm_unpacklo_epi32(t01, t23), _mm_unpackhi_epi32(t01, t23));
    _mm512_cvtph_ps(_mm256_set_m128i(hi, lo))
}

/// One `R × C` tile of `matmul_i4_i16`, [`I4_STEP`] groups per step.
///
/// A step covers 4·`BPG` blocks of 32 values; per 4 blocks (one 64-byte load per row of `w`, a lane
/// of 16 bytes per block): the bytes widened to i16 by `vpunpck{l,h}bw` with zero, the low nibbles
/// masked and the high ones shifted down (values 0..8, 8..16, 16..24, 24..32 of each block, lane by
/// lane); the activations of each row of `x` arranged to match (4 loads and 8 `vshufi64x2`, a 4 × 4
/// transpose of 128-bit lanes, shared by the rows of `w`); 4 `vpdpwssd` per output into one i32
/// vector whose lane `L` holds block `L` (exact: `|Σ x·u| <= 64 · 32768 · 15 < 2^31`); per row of `x`,
/// [`hsum4_lanes_epi32`] reduces the 4 outputs' vectors to one, lane `4L + c` = the sum of block `L`
/// for row `c` of `w` (with `BPG = 2`, the two blocks of a group are then added: lane `4g + c` =
/// `d_g` of output `c`). Then the float part, per row of `x`: `d_g` to f32 times the scales (lanes
/// `4g + c`, [`f16_step`]), plus `Σx` (from `sx`, `vpermps` to the same lanes) times the offsets,
/// and the four 128-bit lanes (the step's groups, in order) added to the row's accumulator of `C`
/// outputs: the float operations of [`generic::matmul_i4_i16`] in its order. A last step with fewer
/// groups loads zeros (masked) for the missing blocks and adds only its groups; full steps use plain
/// loads (masked loads that miss the cache measured several times slower on an AMD EPYC, Zen 5).
/// With `pf`, each step prefetches as many weight bytes as it consumes, [`I4_PREFETCH_AHEAD`] bytes
/// past the tile's block of `w` (a contiguous stream), a line at a time.
///
/// Requires the enabled features, `k > 0` a multiple of `32 * BPG`, rows `i0..i0 + R` of `xq[_, k]`
/// and `xs`, rows `j0..j0 + C` of `w[_, k/2]`, `ws[_, k/(32 BPG)]` and `wm[_, k/(32 BPG)]`, the
/// matching `out` elements and `Σx` of row `i` group `g` at `sx[i·(k/(32 BPG)) + g]` for the rows `i`
/// of the tile in bounds.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn tile_i4_i16<const R: usize, const C: usize, const BPG: usize>(
    out: *mut f32,
    xq: *const i16,
    xs: *const f32,
    w: *const u8,
    ws: *const f16,
    wm: *const f16,
    sx: *const f32,
    k: usize,
    n: usize,
    i0: usize,
    j0: usize,
    pf: bool,
) {
    const { assert!(R <= MR && C <= NR && NR == 4 && (BPG == 1 || BPG == 2)) };
    let gpr = k / (32 * BPG);
    let row_bytes = k / 2;
    let zero = _mm512_setzero_si512();
    let nib = _mm512_set1_epi16(0x0F);
    // Lane 4g + c of the Σx vector: Σx of group g (lane g of the 128-bit load).
    let sx_idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    let mut acc = [_mm_setzero_ps(); R];
    // SAFETY: rows i0..i0+R of xq, xs and sx, rows j0..j0+C of w, ws and wm and out[i0 + r, j0..j0 +
    // C] are in bounds (caller). A step covers the groups g0..g0 + ng with g0 + ng <= gpr, i.e. the
    // blocks below (g0 + ng)·BPG <= k/32 of each row: it loads x columns below 32·that and w bytes
    // below 16·that (masked to whole blocks), scales, offsets and Σx of groups below g0 + ng
    // (masked). Prefetch addresses are only computed (wrapping) and prefetches never fault.
    unsafe {
        let xr = xq.add(i0 * k);
        let wr = w.add(j0 * row_bytes);
        let ahead = wr.wrapping_add(C * row_bytes + I4_PREFETCH_AHEAD);
        let mut g0 = 0;
        while g0 < gpr {
            let ng = (gpr - g0).min(I4_STEP);
            // d[h][r]: lane 4L + c = Σ x·u of block 4h + L of the step, output (r, c).
            let mut d = [[zero; R]; BPG];
            for h in 0..BPG {
                let b0 = g0 * BPG + 4 * h; // first block of these 4, within the row
                let nb = (ng * BPG).saturating_sub(4 * h).min(4);
                if nb == 0 {
                    break;
                }
                if pf {
                    // The tile's C rows of w are one contiguous stream; this consumes 64 bytes of
                    // each: prefetch as many, a line at a time, I4_PREFETCH_AHEAD past the block.
                    let at = ahead.wrapping_add(16 * b0 * C);
                    for line in 0..C {
                        _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(64 * line) as *const i8);
                    }
                }
                // Nibbles u of row c of w: values 0..8, 8..16, 16..24, 24..32 of each block (lane).
                let mut wv = [[zero; 4]; C];
                for c in 0..C {
                    let wp = wr.add(c * row_bytes + 16 * b0);
                    let v = if nb == 4 {
                        _mm512_loadu_si512(wp as *const __m512i)
                    } else {
                        _mm512_maskz_loadu_epi8(mask64(16 * nb), wp as *const i8)
                    };
                    let (lo, hi) = (_mm512_unpacklo_epi8(v, zero), _mm512_unpackhi_epi8(v, zero));
                    wv[c] = [
                        _mm512_and_si512(lo, nib),
                        _mm512_and_si512(hi, nib),
                        _mm512_srli_epi16::<4>(lo),
                        _mm512_srli_epi16::<4>(hi),
                    ];
                }
                for r in 0..R {
                    // x[b] = the 32 values of block b; xt[q] = values 8q..8q + 8 of each block (lane).
                    // (Masked loads: blocks past `nb` load zeros and touch no memory.)
                    let xp = xr.add(r * k + 32 * b0);
                    let x: [__m512i; 4] = core::array::from_fn(|b| {
                        if nb == 4 {
                            _mm512_loadu_si512(xp.add(32 * b) as *const __m512i)
                        } else {
                            _mm512_maskz_loadu_epi16(if b < nb { u32::MAX } else { 0 }, xp.add(32 * b))
                        }
                    });
                    let t0 = _mm512_shuffle_i64x2::<0b01_00_01_00>(x[0], x[1]);
                    let t1 = _mm512_shuffle_i64x2::<0b11_10_11_10>(x[0], x[1]);
                    let t2 = _mm512_shuffle_i64x2::<0b01_00_01_00>(x[2], x[3]);
                    let t3 = _mm512_shuffle_i64x2::<0b11_10_11_10>(x[2], x[3]);
                    let xt = [
                        _mm512_shuffle_i64x2::<0b10_00_10_00>(t0, t2),
                        _mm512_shuffle_i64x2::<0b11_01_11_01>(t0, t2),
                        _mm512_shuffle_i64x2::<0b10_00_10_00>(t1, t3),
                        _mm512_shuffle_i64x2::<0b11_01_11_01>(t1, t3),
                    ];
                    let mut p = [zero; 4];
                    for c in 0..C {
                        let mut s = _mm512_dpwssd_epi32(zero, xt[0], wv[c][0]);
                        s = _mm512_dpwssd_epi32(s, xt[1], wv[c][1]);
                        s = _mm512_dpwssd_epi32(s, xt[2], wv[c][2]);
                        p[c] = _mm512_dpwssd_epi32(s, xt[3], wv[c][3]);
                    }
                    d[h][r] = hsum4_lanes_epi32(p[0], p[1], p[2], p[3]);
                }
            }
            // Scales and offsets of the step, lane 4g + c.
            let sv = f16_step::<C>(ws, j0, gpr, g0, ng);
            let mv = f16_step::<C>(wm, j0, gpr, g0, ng);
            for r in 0..R {
                // Lane 4g + c = d_g of output (r, c): with BPG = 2, the sum of blocks 2g and 2g + 1.
                let dg = if BPG == 1 {
                    d[0][r]
                } else {
                    let (a, b) = (d[0][r], d[BPG - 1][r]);
                    _mm512_add_epi32(
                        _mm512_shuffle_i32x4::<0b10_00_10_00>(a, b),
                        _mm512_shuffle_i32x4::<0b11_01_11_01>(a, b),
                    )
                };
                let sx4 = _mm_maskz_loadu_ps(((1u32 << ng) - 1) as __mmask8, sx.add((i0 + r) * gpr + g0));
                let sxv = _mm512_permutexvar_ps(sx_idx, _mm512_zextps128_ps512(sx4));
                let t = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dg), sv), _mm512_mul_ps(sxv, mv));
                acc[r] = _mm_add_ps(acc[r], _mm512_castps512_ps128(t));
                if ng > 1 {
                    acc[r] = _mm_add_ps(acc[r], _mm512_extractf32x4_ps::<1>(t));
                }
                if ng > 2 {
                    acc[r] = _mm_add_ps(acc[r], _mm512_extractf32x4_ps::<2>(t));
                }
                if ng > 3 {
                    acc[r] = _mm_add_ps(acc[r], _mm512_extractf32x4_ps::<3>(t));
                }
            }
            g0 += I4_STEP;
        }
        let smask = (1u8 << C) - 1;
        for r in 0..R {
            let v = _mm_mul_ps(acc[r], _mm_set1_ps(*xs.add(i0 + r)));
            _mm_mask_storeu_ps(out.add((i0 + r) * n + j0), smask, v);
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

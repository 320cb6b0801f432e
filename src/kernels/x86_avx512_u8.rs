//! x86_64 AVX-512 VNNI kernels for 8-bit asymmetric activations: [`matmul_i8_u8`] (`vpdpbusd`,
//! unsigned 8-bit activations × signed 8-bit weights, 64 multiply-adds per instruction, twice
//! `vpdpwssd`'s 16-bit pairs) and their quantizer [`quantize_row_u8`]. Same names and signatures as
//! [`generic`], bit-exact with it.
//!
//! As in [`super::x86_avx512`], every public function is safe on any x86_64 CPU: it takes the SIMD
//! path only when [`super::has_avx512`] says the CPU supports it **and** the slice lengths satisfy
//! the contract, and otherwise calls the [`generic`] kernel. The choice between generic and these
//! is made in `kernels/mod.rs`.
//!
//! `vpdpbusd` computes `Σ xu·w`; the zero point comes off afterwards with the weight row's sum,
//! `Σ (xu − zp)·w = Σ xu·w − zp·Σ w`, with `Σ w` taken once per block of weight rows (`vpdpbusd`
//! of an all-ones byte vector with weights loaded anyway). All of it is wrapping i32 arithmetic,
//! which is arithmetic modulo 2^32, so every order of the sums gives the generic wrapping sum bit for
//! bit, even when it wraps; then `(acc as f32 * xs[i]) * ws[j]`, the same two IEEE multiplies. Two
//! matmul kernels, both exact, so [`matmul_i8_u8`] picks one per call (per band of rows when
//! threaded) from `m` and `k` alone:
//! - the dot-product tiles, like `x86_avx512::matmul_i8_i16`: blocks of [`NR`] rows of `w` (streamed
//!   once, prefetched ahead by the block's first row tile, which also takes the row sums), all rows
//!   of `x` passing over each block in [`MR`] × [`NR`] register tiles of 16-lane i32 accumulators,
//!   64 columns per full step (unmasked loads), a masked tail, then a horizontal reduction per
//!   output (about 3 shuffles and adds per output: a third of the work at `k = 384`);
//! - the GEMM, for [`GEMM_MIN_M`] rows of `x` or more and `k` up to [`GEMM_MAX_K`]: blocks of
//!   [`GEMM_NR`] rows of `w` packed into a panel of 4-byte groups (16 × 16 transposes), and a
//!   [`GEMM_MR`] × [`GEMM_NR`] microkernel broadcasting 4 activation bytes per row: each lane one
//!   output, no reductions.
#![allow(unsafe_code)]

use core::arch::x86_64::*;

use super::generic;
use super::mm_lens_ok;
use super::x86_avx512::{hsum4_lanes_epi32, mask16, mask64, transpose16, I8_PREFETCH_AHEAD, MR, NR};

/// AVX-512 VNNI variant of [`generic::matmul_i8_u8`] (same contract; bit-exact with generic): the
/// GEMM from [`GEMM_MIN_M`] rows of `x` on when `1 <= k <=` [`GEMM_MAX_K`], else the dot-product
/// tiles (see the module docs).
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
    checked(Kernel::Auto, out, xu, zp, xs, w, ws, m, k, n)
}

/// [`matmul_i8_u8`] by the dot-product tiles whatever `m` and `k` (for tests and measurements).
#[allow(clippy::too_many_arguments)]
pub fn matmul_i8_u8_tiles(
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
    checked(Kernel::Tiles, out, xu, zp, xs, w, ws, m, k, n)
}

/// [`matmul_i8_u8`] by the GEMM whatever `m`, where `1 <= k <=` [`GEMM_MAX_K`] (other `k` take the
/// dot-product tiles; for tests and measurements).
#[allow(clippy::too_many_arguments)]
pub fn matmul_i8_u8_gemm(
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
    checked(Kernel::Gemm, out, xu, zp, xs, w, ws, m, k, n)
}

/// Which matmul kernel a call asks for.
#[derive(Clone, Copy)]
enum Kernel {
    /// The GEMM from [`GEMM_MIN_M`] rows on, else the tiles.
    Auto,
    Tiles,
    Gemm,
}

/// The generic kernel unless the CPU has the features and the lengths are exact; then the `kernel`
/// asked for (the GEMM only where `1 <= k <= GEMM_MAX_K`).
#[allow(clippy::too_many_arguments)]
fn checked(
    kernel: Kernel,
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
    let ok =
        mm_lens_ok(out.len(), xu.len(), w.len(), m, k, n) && zp.len() == m && xs.len() == m && ws.len() == n;
    if !(super::has_avx512() && ok) {
        return generic::matmul_i8_u8(out, xu, zp, xs, w, ws, m, k, n);
    }
    let gemm = (1..=GEMM_MAX_K).contains(&k)
        && match kernel {
            Kernel::Auto => m >= GEMM_MIN_M,
            Kernel::Tiles => false,
            Kernel::Gemm => true,
        };
    // SAFETY: the CPU supports the enabled features and the lengths are exact (both checked above);
    // the GEMM gets `1 <= k <= GEMM_MAX_K`.
    unsafe {
        if gemm {
            gemm_i8_u8_avx512(out, xu, zp, xs, w, ws, m, k, n)
        } else {
            matmul_i8_u8_avx512(out, xu, zp, xs, w, ws, m, k, n)
        }
    }
}

/// AVX-512 variant of [`generic::quantize_row_u8`] (same contract; bit-exact with generic).
pub fn quantize_row_u8(dst: &mut [u8], src: &[f32], inv_smooth: &[f32]) -> (f32, u8) {
    if !(super::has_avx512() && dst.len() == src.len() && inv_smooth.len() == src.len()) {
        return generic::quantize_row_u8(dst, src, inv_smooth);
    }
    // SAFETY: the CPU supports the enabled features; equal lengths checked above.
    unsafe { quantize_row_u8_avx512(dst, src, inv_smooth) }
}

// ---------------------------------------------------------------------------------------------------
// 8-bit asymmetric activations x int8 weights.

/// All tiles of `matmul_i8_u8`: per block of up to [`NR`] rows of `w`, its first row tile (which also
/// sums the weight rows and prefetches the next block), then the others with those sums.
///
/// Requires the enabled features and the exact lengths of the contract.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn matmul_i8_u8_avx512(
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
    if k == 0 {
        // Empty sums, as generic: 0.0 whatever the scales (not `0 · xs · ws`, NaN for an infinite one).
        out.fill(0.0);
        return;
    }
    let t = Tiles {
        out: out.as_mut_ptr(),
        xu: xu.as_ptr(),
        zp: zp.as_ptr(),
        xs: xs.as_ptr(),
        w: w.as_ptr(),
        k,
        n,
    };
    let mut j = 0;
    // SAFETY: every column block has j + C <= n and every tile i + R <= m, in bounds by the exact
    // lengths (caller).
    unsafe {
        while j < n {
            let cols = (n - j).min(NR);
            let wsv = _mm512_broadcast_f32x4(_mm_maskz_loadu_ps(mask4(cols), ws.as_ptr().add(j)));
            match cols {
                4 => column_block::<4>(&t, wsv, m, j),
                3 => column_block::<3>(&t, wsv, m, j),
                2 => column_block::<2>(&t, wsv, m, j),
                _ => column_block::<1>(&t, wsv, m, j),
            }
            j += cols;
        }
    }
}

/// The operands of `matmul_i8_u8` as pointers (`out[m, n]`, `xu[m, k]`, `zp[m]`, `xs[m]`, `w[n, k]`).
struct Tiles {
    out: *mut f32,
    xu: *const u8,
    zp: *const u8,
    xs: *const f32,
    w: *const i8,
    k: usize,
    n: usize,
}

/// Mask of the first `r <= 4` of 4 lanes.
#[inline(always)]
fn mask4(r: usize) -> __mmask8 {
    ((1u32 << r.min(4)) - 1) as __mmask8
}

/// All row tiles of the block of weight rows `j0..j0 + C` (`wsv`: their scales, lane `4r + c` =
/// `ws[j0 + c]`). The first tile returns the rows' sums `Σ w` (in the same lane layout) for the
/// others.
///
/// Requires the enabled features, `j0 + C <= n` and the exact lengths of the contract.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn column_block<const C: usize>(t: &Tiles, wsv: __m512, m: usize, j0: usize) {
    if m == 0 {
        return;
    }
    let zero = _mm512_setzero_si512();
    // SAFETY: every tile has i + R <= m and j0 + C <= n (caller).
    unsafe {
        let wsum = match m.min(MR) {
            4 => tile_i8_u8::<4, C, true>(t, wsv, zero, 0, j0),
            3 => tile_i8_u8::<3, C, true>(t, wsv, zero, 0, j0),
            2 => tile_i8_u8::<2, C, true>(t, wsv, zero, 0, j0),
            _ => tile_i8_u8::<1, C, true>(t, wsv, zero, 0, j0),
        };
        let mut i = m.min(MR);
        while i + MR <= m {
            tile_i8_u8::<4, C, false>(t, wsv, wsum, i, j0);
            i += MR;
        }
        match m - i {
            3 => tile_i8_u8::<3, C, false>(t, wsv, wsum, i, j0),
            2 => tile_i8_u8::<2, C, false>(t, wsv, wsum, i, j0),
            1 => tile_i8_u8::<1, C, false>(t, wsv, wsum, i, j0),
            _ => wsum,
        };
    }
}

/// One `R × C` tile at rows `i0` of `x`, `j0` of `w`: 64 columns per full step (one unmasked 512-bit
/// load per row of `w` and of `x`; masked loads only in the tail of fewer than 64, zeros adding
/// nothing), `vpdpbusd` into i32 lanes (wrapping). The `R × 4` accumulators reduce to one vector,
/// lane `4r + c` = `Σ xu·w` of row `r`, column `c` ([`hsum4_lanes_epi32`] per row, then the four
/// 128-bit lanes), then `acc − zp·Σw` (wrapping), `(acc as f32 * xs[i]) * ws[j]` and four masked
/// 128-bit stores.
///
/// With `FIRST` (the block's first row tile) it also sums the weight rows (`vpdpbusd` of all-ones
/// bytes with each weight vector it loads) and returns those sums (lane `4r + c` = `Σ w[j0 + c]`),
/// and prefetches one cache line per 64 weight bytes consumed, [`I8_PREFETCH_AHEAD`] past the end
/// of the block; otherwise it uses `wsum` and returns it.
///
/// Requires the enabled features, rows `i0..i0 + R` of `xu[_, k]`, `zp` and `xs`, rows `j0..j0 + C`
/// of `w[_, k]`, and the matching `out` elements in bounds, `R <= MR`, `C <= NR`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::needless_range_loop)]
unsafe fn tile_i8_u8<const R: usize, const C: usize, const FIRST: bool>(
    t: &Tiles,
    wsv: __m512,
    wsum: __m512i,
    i0: usize,
    j0: usize,
) -> __m512i {
    const { assert!(R >= 1 && R <= MR && C >= 1 && C <= NR && MR == 4 && NR == 4) };
    let k = t.k;
    let ones = _mm512_set1_epi8(1);
    let mut acc = [[_mm512_setzero_si512(); NR]; R];
    let mut sums = [_mm512_setzero_si512(); NR];
    let mut wv = [_mm512_setzero_si512(); C];
    // SAFETY: rows i0..i0+R of xu and j0..j0+C of w are in bounds (caller); full steps read columns
    // p..p+64 with p + 64 <= k, the tail p..k masked. Prefetch addresses are only computed
    // (wrapping; prefetches never fault). zp and xs at i0..i0+R, and the stored out elements (rows
    // i0..i0+R, columns j0..j0+C) are in bounds (caller); masked-off lanes are not accessed.
    unsafe {
        let xr = t.xu.add(i0 * k);
        let wr = t.w.add(j0 * k);
        let ahead = wr.wrapping_add(C * k + I8_PREFETCH_AHEAD);
        let mut p = 0;
        while p + 64 <= k {
            for c in 0..C {
                if FIRST {
                    _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(c * k + p));
                }
                wv[c] = _mm512_loadu_si512(wr.add(c * k + p) as *const _);
                if FIRST {
                    sums[c] = _mm512_dpbusd_epi32(sums[c], ones, wv[c]);
                }
            }
            for r in 0..R {
                let xv = _mm512_loadu_si512(xr.add(r * k + p) as *const _);
                for c in 0..C {
                    acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], xv, wv[c]);
                }
            }
            p += 64;
        }
        if p < k {
            let mask = mask64(k - p);
            for c in 0..C {
                wv[c] = _mm512_maskz_loadu_epi8(mask, wr.add(c * k + p));
                if FIRST {
                    sums[c] = _mm512_dpbusd_epi32(sums[c], ones, wv[c]);
                }
            }
            for r in 0..R {
                let xv = _mm512_maskz_loadu_epi8(mask, xr.add(r * k + p) as *const i8);
                for c in 0..C {
                    acc[r][c] = _mm512_dpbusd_epi32(acc[r][c], xv, wv[c]);
                }
            }
        }
        let wsum =
            if FIRST { broadcast_lanes(hsum4_lanes_epi32(sums[0], sums[1], sums[2], sums[3])) } else { wsum };
        // Per row r: lane 4L + c = the part of Σ xu·w of (r, c) in 128-bit lane L.
        let zero = _mm512_setzero_si512();
        let mut h = [zero; MR];
        for r in 0..R {
            h[r] = hsum4_lanes_epi32(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
        }
        let s = rows_of_lanes(h);
        // Lane 4r + c: zp[i0 + r] and xs[i0 + r] (rows past R zero).
        let rmask = mask4(R);
        let idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        let z = _mm512_permutexvar_epi32(
            idx,
            _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(rmask as __mmask16, t.zp.add(i0) as *const i8)),
        );
        let xsv = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_maskz_loadu_ps(rmask, t.xs.add(i0))));
        let d = _mm512_sub_epi32(s, _mm512_mullo_epi32(z, wsum));
        let f = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d), xsv), wsv);
        let cmask = mask4(C);
        let o = t.out.add(i0 * t.n + j0);
        _mm_mask_storeu_ps(o, cmask, _mm512_castps512_ps128(f));
        if R > 1 {
            _mm_mask_storeu_ps(o.add(t.n), cmask, _mm512_extractf32x4_ps::<1>(f));
        }
        if R > 2 {
            _mm_mask_storeu_ps(o.add(2 * t.n), cmask, _mm512_extractf32x4_ps::<2>(f));
        }
        if R > 3 {
            _mm_mask_storeu_ps(o.add(3 * t.n), cmask, _mm512_extractf32x4_ps::<3>(f));
        }
        wsum
    }
}

/// `v` with each lane `4L + c` replaced by `Σ_L v[4L + c]` (the four 128-bit lanes added, wrapping).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn broadcast_lanes(v: __m512i) -> __m512i {
    let v = _mm512_add_epi32(v, _mm512_shuffle_i32x4::<0b01_00_11_10>(v, v));
    _mm512_add_epi32(v, _mm512_shuffle_i32x4::<0b10_11_00_01>(v, v))
}

/// From `h[r]` (lane `4L + c` a part of row `r`, column `c`), the vector whose lane `4r + c` is
/// `Σ_L h[r][4L + c]` (wrapping).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
fn rows_of_lanes(h: [__m512i; MR]) -> __m512i {
    // [h0 L0, h0 L2, h1 L0, h1 L2] + [h0 L1, h0 L3, h1 L1, h1 L3] = [h0 (L0+L1), h0 (L2+L3), h1 .., h1 ..].
    let a = _mm512_add_epi32(
        _mm512_shuffle_i32x4::<0b10_00_10_00>(h[0], h[1]),
        _mm512_shuffle_i32x4::<0b11_01_11_01>(h[0], h[1]),
    );
    let b = _mm512_add_epi32(
        _mm512_shuffle_i32x4::<0b10_00_10_00>(h[2], h[3]),
        _mm512_shuffle_i32x4::<0b11_01_11_01>(h[2], h[3]),
    );
    // [a0, a2, b0, b2] + [a1, a3, b1, b3] = [Σh0, Σh1, Σh2, Σh3].
    _mm512_add_epi32(_mm512_shuffle_i32x4::<0b10_00_10_00>(a, b), _mm512_shuffle_i32x4::<0b11_01_11_01>(a, b))
}

// ---------------------------------------------------------------------------------------------------
// The GEMM variant: packed weight panels, broadcast activations.

/// Rows of `x` per GEMM microkernel (`GEMM_MR` × [`GEMM_NV`] = 24 zmm accumulators + 3 panel vectors
/// + 1 broadcast: per group of 4 columns, 3 panel loads and 8 broadcasts feed 24 `vpdpbusd`).
pub const GEMM_MR: usize = 8;
/// 16-lane vectors of columns per GEMM microkernel.
pub const GEMM_NV: usize = 3;
/// Columns of `out` (rows of `w`) per packed panel.
pub const GEMM_NR: usize = 16 * GEMM_NV;
/// Largest `k` the GEMM takes. Its panel holds all of `k` (no depth blocks, so the i32 sums stay in
/// registers): `⌈k/4⌉ · GEMM_NR · 4` bytes, 24 KiB on the stack at 512, which stays in L1 (48 KiB
/// on Zen 5) while every row tile passes over it. Longer rows take the tiles, whose reductions are
/// then a small part of the work: at k 768-1536 they matched or beat the GEMM on an AMD EPYC (Zen 5)
/// at m 32-64 (e.g. 434 against 399 GMAC/s at m 64, k 1536, n 384).
pub const GEMM_MAX_K: usize = 512;
/// Smallest `m` from which the GEMM beats the tiles: 32 on an AMD EPYC (Zen 5) at k 384 (a tie at
/// 32, about 340 GMAC/s; 405-410 against 340 at 64 rows). Below, the packing (about 15 µs for a
/// 1536 × 384 weight matrix, per call) costs more than the reductions it saves: 270 against 340 at
/// 16 rows.
pub const GEMM_MIN_M: usize = 32;

/// A packed weight panel: `[⌈k/4⌉][GEMM_NV]` vectors of 16 columns × 4 consecutive weights.
#[repr(C, align(64))]
struct PanelU8([__m512i; GEMM_MAX_K / 4 * GEMM_NV]);

/// The whole GEMM: per block of [`GEMM_NR`] rows of `w`, pack the panel (and the rows' sums), then
/// run all rows of `x` over it.
///
/// Requires the enabled features, `1 <= k <= GEMM_MAX_K` and the exact lengths of the contract.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_i8_u8_avx512(
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
    debug_assert!((1..=GEMM_MAX_K).contains(&k));
    let mut panel = core::mem::MaybeUninit::<PanelU8>::uninit();
    let pp = panel.as_mut_ptr() as *mut __m512i;
    let t = Tiles {
        out: out.as_mut_ptr(),
        xu: xu.as_ptr(),
        zp: zp.as_ptr(),
        xs: xs.as_ptr(),
        w: w.as_ptr(),
        k,
        n,
    };
    // SAFETY: column block j0..j0 + cols <= n is in bounds of w, ws and out; every row tile has
    // i + R <= m (exact lengths, caller). The scales' loads are masked to the block's columns (their
    // addresses computed wrapping: a vector past `cols` reads nothing). `pack` writes all
    // ⌈k/4⌉ · GEMM_NV vectors of the panel (k <= GEMM_MAX_K) before the tiles read them.
    unsafe {
        let mut j0 = 0;
        while j0 < n {
            let cols = (n - j0).min(GEMM_NR);
            let wsum = pack(pp, t.w.add(j0 * k), k, cols);
            let wsv: [__m512; GEMM_NV] = core::array::from_fn(|v| {
                _mm512_maskz_loadu_ps(
                    mask16(cols.saturating_sub(16 * v)),
                    ws.as_ptr().wrapping_add(j0 + 16 * v),
                )
            });
            let b = Block { panel: pp, wsum, wsv, j0, cols };
            let mut i = 0;
            while i + GEMM_MR <= m {
                gemm_tile::<GEMM_MR>(&t, &b, i);
                i += GEMM_MR;
            }
            match m - i {
                7 => gemm_tile::<7>(&t, &b, i),
                6 => gemm_tile::<6>(&t, &b, i),
                5 => gemm_tile::<5>(&t, &b, i),
                4 => gemm_tile::<4>(&t, &b, i),
                3 => gemm_tile::<3>(&t, &b, i),
                2 => gemm_tile::<2>(&t, &b, i),
                1 => gemm_tile::<1>(&t, &b, i),
                _ => {}
            }
            j0 += cols;
        }
    }
}

/// One packed block of weight rows `j0..j0 + cols` (`cols <= GEMM_NR`): the panel, the rows' sums
/// `Σ w` (lane `c` of vector `v`: row `j0 + 16v + c`; zero past `cols`) and scales `ws` (likewise).
struct Block {
    panel: *const __m512i,
    wsum: [__m512i; GEMM_NV],
    wsv: [__m512; GEMM_NV],
    j0: usize,
    cols: usize,
}

/// Packs `panel[g][v]` lane `c` = the 4 weights `w[16v + c, 4g..4g + 4]` (zero past `k` and for rows
/// past `cols`) for `g < ⌈k/4⌉`, `v < GEMM_NV`: per 16 rows and 64 columns, a 16 × 16 transpose of
/// 4-byte groups. Returns the rows' sums `Σ w` (`vpdpbusd` of all-ones bytes with each packed
/// vector; lane `c` of vector `v` for row `16v + c`).
///
/// Requires the enabled features, `k <= GEMM_MAX_K`, `cols <= GEMM_NR`, rows `0..cols` of `w`
/// (stride `k`) readable, and a panel of `⌈k/4⌉ · GEMM_NV` writable vectors.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn pack(panel: *mut __m512i, w: *const i8, k: usize, cols: usize) -> [__m512i; GEMM_NV] {
    let groups = k.div_ceil(4);
    let ones = _mm512_set1_epi8(1);
    let mut sums = [_mm512_setzero_si512(); GEMM_NV];
    for (vi, sum) in sums.iter_mut().enumerate() {
        let rows = cols.saturating_sub(16 * vi).min(16);
        let wv = w.wrapping_add(16 * vi * k);
        let mut p = 0;
        while p < k {
            let mut v = [_mm512_setzero_ps(); 16];
            // SAFETY: rows c < rows <= cols of w hold k bytes from `wv + c·k` (caller); full chunks
            // read p..p+64 <= k, the last one masked to p..k.
            unsafe {
                if p + 64 <= k {
                    for (c, vc) in v.iter_mut().enumerate().take(rows) {
                        *vc = _mm512_castsi512_ps(_mm512_loadu_si512(wv.add(c * k + p) as *const _));
                    }
                } else {
                    let mask = mask64(k - p);
                    for (c, vc) in v.iter_mut().enumerate().take(rows) {
                        *vc = _mm512_castsi512_ps(_mm512_maskz_loadu_epi8(mask, wv.add(c * k + p)));
                    }
                }
            }
            transpose16(&mut v);
            let g0 = p / 4;
            for (q, vq) in v.iter().enumerate().take(groups - g0) {
                let e = _mm512_castps_si512(*vq);
                *sum = _mm512_dpbusd_epi32(*sum, ones, e);
                // SAFETY: g0 + q < groups, so the vector is inside the panel (caller).
                unsafe { _mm512_store_si512(panel.add((g0 + q) * GEMM_NV + vi), e) };
            }
            p += 64;
        }
    }
    sums
}

/// One `R × GEMM_NR` tile at rows `i0` of `x` over the block `b`: per group of 4 columns of `x`,
/// [`GEMM_NV`] panel loads and, per row, the 4 activation bytes broadcast and `GEMM_NV` `vpdpbusd`
/// (each lane one output: no horizontal reductions). Then `acc − zp·Σw` (wrapping) and
/// `(acc as f32 * xs[i]) * ws[j]`, stored masked to the block's columns.
///
/// Requires the enabled features, `R <= GEMM_MR`, rows `i0..i0 + R` of `xu[_, k]`, `zp`, `xs` and
/// `out` in bounds, and the block's panel written for `⌈k/4⌉` groups.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
#[allow(clippy::needless_range_loop)]
unsafe fn gemm_tile<const R: usize>(t: &Tiles, b: &Block, i0: usize) {
    let k = t.k;
    let full = k / 4;
    let mut acc = [[_mm512_setzero_si512(); GEMM_NV]; R];
    // SAFETY: x reads are 4 bytes at 4g + 4 <= k of rows i0..i0 + R, and the tail's k - 4·full bytes
    // (caller); panel reads are groups g < ⌈k/4⌉ (caller). zp, xs and out rows i0..i0 + R are in
    // bounds (caller); stores are masked to the block's columns (addresses computed wrapping: a
    // vector past them writes nothing).
    unsafe {
        let xr = t.xu.add(i0 * k);
        for g in 0..full {
            let pv: [__m512i; GEMM_NV] =
                core::array::from_fn(|v| _mm512_load_si512(b.panel.add(g * GEMM_NV + v)));
            for r in 0..R {
                let xb = _mm512_set1_epi32((xr.add(r * k + 4 * g) as *const i32).read_unaligned());
                for v in 0..GEMM_NV {
                    acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], xb, pv[v]);
                }
            }
        }
        let rem = k - 4 * full;
        if rem > 0 {
            let pv: [__m512i; GEMM_NV] =
                core::array::from_fn(|v| _mm512_load_si512(b.panel.add(full * GEMM_NV + v)));
            for r in 0..R {
                let mut bytes = [0u8; 4];
                core::ptr::copy_nonoverlapping(xr.add(r * k + 4 * full), bytes.as_mut_ptr(), rem);
                let xb = _mm512_set1_epi32(i32::from_le_bytes(bytes));
                for v in 0..GEMM_NV {
                    acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], xb, pv[v]);
                }
            }
        }
        for r in 0..R {
            let i = i0 + r;
            let z = _mm512_set1_epi32(*t.zp.add(i) as i32);
            let sx = _mm512_set1_ps(*t.xs.add(i));
            let o = t.out.add(i * t.n + b.j0);
            for v in 0..GEMM_NV {
                let d = _mm512_sub_epi32(acc[r][v], _mm512_mullo_epi32(z, b.wsum[v]));
                let f = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d), sx), b.wsv[v]);
                _mm512_mask_storeu_ps(o.wrapping_add(16 * v), mask16(b.cols.saturating_sub(16 * v)), f);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Quantizer.

/// `(lo, hi) = (min(0, min y), max(0, max y))` of `y[p] = src[p] · f[p]`, NaNs ignored, as
/// [`generic::u8_grid`] scans it: `vminps(y, acc)` is `y < acc ? y : acc` (the second operand when
/// `y` is NaN or equal), exactly the generic update, so each lane is the generic scan of its elements
/// and never holds `-0.0` (lanes start at `+0.0` and only take strictly smaller or larger values);
/// min and max of such sets do not depend on the order. Masked-off tail lanes give `0 · 0 = 0`.
///
/// Requires the enabled features and `f.len() == src.len()`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn range_avx512(src: &[f32], f: &[f32]) -> (f32, f32) {
    let len = src.len();
    let (sp, fp) = (src.as_ptr(), f.as_ptr());
    let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    // SAFETY: full steps read p..p+16 with p + 16 <= len, the tail p..len masked; both slices have
    // `len` elements (caller).
    unsafe {
        let mut p = 0;
        while p + 16 <= len {
            let y = _mm512_mul_ps(_mm512_loadu_ps(sp.add(p)), _mm512_loadu_ps(fp.add(p)));
            lo = _mm512_min_ps(y, lo);
            hi = _mm512_max_ps(y, hi);
            p += 16;
        }
        if p < len {
            let mask = mask16(len - p);
            let y =
                _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, sp.add(p)), _mm512_maskz_loadu_ps(mask, fp.add(p)));
            lo = _mm512_min_ps(y, lo);
            hi = _mm512_max_ps(y, hi);
        }
    }
    (_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi))
}

/// Requires the enabled features and `dst.len() == src.len() == inv_smooth.len()`. Bit-exact with
/// [`generic::quantize_row_u8`]: the range of [`range_avx512`], the grid of [`generic::u8_grid_of`],
/// the same IEEE multiplies `y = src · inv_smooth`, `v = y · inv`, then [`generic::u8_level`]
/// lane-wise: clamp `v` to `±255` (NaN kept, then zeroed; clamping before rounding gives the same
/// integer since 255 is one), truncate, step by the exact fraction (round half away from zero), add
/// `zp` and clamp to `0..=255`, all exact in f32.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
unsafe fn quantize_row_u8_avx512(dst: &mut [u8], src: &[f32], inv_smooth: &[f32]) -> (f32, u8) {
    // SAFETY: equal lengths (caller).
    let (lo, hi) = unsafe { range_avx512(src, inv_smooth) };
    let Some((inv, zp, scale)) = generic::u8_grid_of(lo, hi) else {
        dst.fill(0);
        return (0.0, 0);
    };
    let len = src.len();
    let (sp, fp, dp) = (src.as_ptr(), inv_smooth.as_ptr(), dst.as_mut_ptr());
    let g = Grid::new(inv, zp);
    // SAFETY: full steps read src and inv_smooth at p..p+16 and write dst there, p + 16 <= len; the
    // tail reads and writes p..len masked; all three slices have `len` elements (caller).
    unsafe {
        let mut p = 0;
        while p + 16 <= len {
            let y = _mm512_mul_ps(_mm512_loadu_ps(sp.add(p)), _mm512_loadu_ps(fp.add(p)));
            _mm_storeu_si128(dp.add(p) as *mut __m128i, _mm512_cvtepi32_epi8(g.level(y)));
            p += 16;
        }
        if p < len {
            let mask = mask16(len - p);
            let y =
                _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, sp.add(p)), _mm512_maskz_loadu_ps(mask, fp.add(p)));
            _mm512_mask_cvtepi32_storeu_epi8(dp.add(p) as *mut i8, mask, g.level(y));
        }
    }
    (scale, zp as u8)
}

/// The constants of the level pass of [`quantize_row_u8_avx512`].
struct Grid {
    inv: __m512,
    zp: __m512,
}

impl Grid {
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
    fn new(inv: f32, zp: i32) -> Self {
        Grid { inv: _mm512_set1_ps(inv), zp: _mm512_set1_ps(zp as f32) }
    }

    /// [`generic::u8_level`] of each lane of `y` (see [`quantize_row_u8_avx512`]), as i32.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
    fn level(&self, y: __m512) -> __m512i {
        let v = _mm512_mul_ps(y, self.inv);
        let c = _mm512_min_ps(_mm512_set1_ps(255.0), _mm512_max_ps(_mm512_set1_ps(-255.0), v)); // NaN passes
        let c = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_ORD_Q>(c, c), c); // NaN -> 0
        let t = _mm512_roundscale_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(c);
        let f = _mm512_sub_ps(c, t); // exact
        let one = _mm512_set1_ps(1.0);
        let r = _mm512_mask_add_ps(t, _mm512_cmp_ps_mask::<_CMP_GE_OQ>(f, _mm512_set1_ps(0.5)), t, one);
        let r = _mm512_mask_sub_ps(r, _mm512_cmp_ps_mask::<_CMP_LE_OQ>(f, _mm512_set1_ps(-0.5)), r, one);
        let l = _mm512_min_ps(
            _mm512_max_ps(_mm512_add_ps(r, self.zp), _mm512_setzero_ps()),
            _mm512_set1_ps(255.0),
        );
        _mm512_cvttps_epi32(l)
    }
}

//! Leaf kernels: matmuls, dots, norms, activations. **The only dispatch point.**
//!
//! Kernels know nothing of models: they take slices and sizes, output first. All matrices are
//! row-major; weight matrices are `[n, k]` (PyTorch `Linear` layout, the "transposed B" / `nt`
//! convention), so `out[m, n] = x[m, k] · w[n, k]ᵀ` reads both operands along contiguous rows.
//!
//! Layout of this module (one file per instruction set, identical function names and signatures):
//! - [`generic`]: scalar reference kernels — the specification, and the fallback everywhere.
//! - [`x86`] (x86_64): AVX2 + FMA variants (+ F16C for f16 weights).
//! - [`x86_avx512`] (x86_64): AVX-512 F/BW/VL/VNNI variants of `matmul_f32`, `matmul_f16`,
//!   `matmul_i8_i16`, `matmul_i4_i16`, `softmax` and `gelu_erf`, taken before [`x86`] where present.
//! - [`x86_avx512_u8`] (x86_64): AVX-512 VNNI `matmul_i8_u8` (`vpdpbusd`, 8-bit asymmetric
//!   activations) and `quantize_row_u8`; [`x86`] has the AVX2 `quantize_row_u8_centered` (the
//!   16-bit form that CPUs without VNNI feed to `matmul_i8_i16`).
//! - `cortex_m` (Armv7E-M / Armv8-M Mainline DSP: Cortex-M4, M7, M33): `SXTB16` + `SMLAD` inline-asm
//!   [`matmul_i8_i16`] and (`AND` nibble masks + `SMLAD`, VFP epilogue) [`matmul_i4_i16`],
//!   bit-exact with [`generic`]. A compile-time choice only: the root `build.rs`
//!   sets the `picoformer_dsp` cfg for `thumbv7em-*` and `thumbv8m.main-*` targets (stable Rust
//!   exposes no Arm `target_feature` cfg); `PICOFORMER_NO_DSP=1` at build time turns it off.
//! - `neon` (aarch64): Advanced SIMD variants. NEON is baseline on AArch64, so [`has_neon`] is a
//!   compile-time constant (no runtime probe; a no_std build uses them too).
//! - Helium (Armv8.1-M MVE) would slot in the same way: add the file, a `has_*` probe below and one
//!   early `return` per kernel in the functions of this file.
//!
//! Dispatch ladder (as in the `half` crate), per kernel:
//! 1. compile-time: with `-C target-feature=+avx2,+fma` (or `target-cpu=native`) the probe is the
//!    constant `true` and the arch variant is called directly;
//! 2. runtime, only with the `std` feature: `std::is_x86_feature_detected!`, probed once and cached in
//!    an `AtomicU8` (one relaxed load per call afterwards);
//! 3. otherwise the [`generic`] kernel.
//!
//! On aarch64 only step 1 applies: [`has_neon`] is `cfg!(target_feature = "neon")`, true on every
//! AArch64 target that does not turn NEON off. The `-softfloat` targets do; there `neon` is not
//! compiled at all (enabling `neon` per function is unsound with their ABI: rustc's
//! `aarch64_softfloat_neon` lint) and every kernel is [`generic`].
//!
//! Numerics: float SIMD matmuls and dots differ from [`generic`] only by summation order and FMA
//! rounding (tested to a relative 1e-5 of `Σ|a·b|`); integer paths (`matmul_i8_i16`,
//! `matmul_i8_u8`, `quantize_row_i8`, `quantize_row_i16`, `quantize_row_u8`,
//! `quantize_row_u8_centered`) and `matmul_i4_i16` (group-wise int4 weights with a scale
//! and an offset per group: exact i32 group sums, then the same f32 operations in the same order)
//! are bit-exact on every path; the SIMD `softmax`, `silu_mul` and `gelu_erf` use polynomial
//! `exp`/`erf` a few ulp from libm's (tested to `3e-7` absolute + 4 ulp relative). Kernels with no
//! arch variant here call [`generic`] directly.

use crate::bounded::head_mut;
use half::f16;

#[cfg(picoformer_dsp)]
pub mod cortex_m;
pub mod generic;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
pub mod neon;
#[cfg(feature = "std")]
pub mod threads;
#[cfg(target_arch = "x86_64")]
pub mod x86;
#[cfg(target_arch = "x86_64")]
pub mod x86_avx512;
#[cfg(target_arch = "x86_64")]
pub mod x86_avx512_u8;

/// Whether the x86_64 AVX-512 kernels may run on this CPU: AVX-512 F, BW, VL and VNNI, plus AVX2,
/// FMA and F16C (Ice Lake, Zen 4 and later; Skylake-X lacks VNNI and keeps the AVX2 kernels).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn has_avx512() -> bool {
    #[cfg(all(
        target_feature = "avx512f",
        target_feature = "avx512bw",
        target_feature = "avx512vl",
        target_feature = "avx512vnni",
        target_feature = "avx2",
        target_feature = "fma",
        target_feature = "f16c"
    ))]
    {
        true
    }
    #[cfg(all(
        not(all(
            target_feature = "avx512f",
            target_feature = "avx512bw",
            target_feature = "avx512vl",
            target_feature = "avx512vnni",
            target_feature = "avx2",
            target_feature = "fma",
            target_feature = "f16c"
        )),
        feature = "std"
    ))]
    {
        detect::get() & detect::AVX512 == detect::AVX512
    }
    #[cfg(all(
        not(all(
            target_feature = "avx512f",
            target_feature = "avx512bw",
            target_feature = "avx512vl",
            target_feature = "avx512vnni",
            target_feature = "avx2",
            target_feature = "fma",
            target_feature = "f16c"
        )),
        not(feature = "std")
    ))]
    {
        false
    }
}

/// Whether the x86_64 AVX2 + FMA kernels may run on this CPU (see the module docs for the ladder).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn has_avx2_fma() -> bool {
    #[cfg(all(target_feature = "avx2", target_feature = "fma"))]
    {
        true
    }
    #[cfg(all(not(all(target_feature = "avx2", target_feature = "fma")), feature = "std"))]
    {
        detect::get() & detect::AVX2_FMA != 0
    }
    #[cfg(all(not(all(target_feature = "avx2", target_feature = "fma")), not(feature = "std")))]
    {
        false
    }
}

/// Whether the x86_64 AVX2 + FMA + F16C kernels (f16 weights) may run on this CPU.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn has_avx2_fma_f16c() -> bool {
    #[cfg(all(target_feature = "avx2", target_feature = "fma", target_feature = "f16c"))]
    {
        true
    }
    #[cfg(all(
        not(all(target_feature = "avx2", target_feature = "fma", target_feature = "f16c")),
        feature = "std"
    ))]
    {
        detect::get() & detect::AVX2_FMA_F16C == detect::AVX2_FMA_F16C
    }
    #[cfg(all(
        not(all(target_feature = "avx2", target_feature = "fma", target_feature = "f16c")),
        not(feature = "std")
    ))]
    {
        false
    }
}

/// Whether the aarch64 NEON kernels may run: NEON (Advanced SIMD) is baseline on AArch64, so this is
/// the compile-time `target_feature` (false only where the target turns NEON off: `-softfloat`).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub fn has_neon() -> bool {
    cfg!(target_feature = "neon")
}

/// Whether the dispatched float and int8 kernels (`matmul_f32`, `matmul_i8_i16`, the quantizers,
/// `dot_f32`, `softmax`, `gelu_erf`, `silu_mul`, ...) call a SIMD variant on this CPU: x86_64 with
/// AVX2 + FMA (which AVX-512 implies), aarch64 with NEON. Otherwise they are the generic kernels.
pub fn dispatches_simd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2_fma()
    }
    #[cfg(target_arch = "aarch64")]
    {
        has_neon()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Whether the dispatched f16 and int4 kernels (`matmul_f16`, `matmul_i4_i16`) call a SIMD
/// variant on this CPU: x86_64 with AVX2 + FMA + F16C, aarch64 with NEON.
pub fn dispatches_simd_f16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2_fma_f16c()
    }
    #[cfg(target_arch = "aarch64")]
    {
        has_neon()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// `true` when `x[m, k]`, `w[n, k]`, `out[m, n]` have exactly the implied lengths (overflow-checked):
/// the arch variants run their SIMD paths only when it holds, and otherwise call the generic kernel,
/// whose `debug_assert!`s report the violation.
#[cfg(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon")))]
#[inline(always)]
pub(crate) fn mm_lens_ok(out: usize, x: usize, w: usize, m: usize, k: usize, n: usize) -> bool {
    m.checked_mul(k) == Some(x) && n.checked_mul(k) == Some(w) && m.checked_mul(n) == Some(out)
}

/// Runtime CPU feature probe, run once and cached.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
mod detect {
    use core::sync::atomic::{AtomicU8, Ordering};

    /// Set once the probe has run (so 0 means "not probed yet").
    const PROBED: u8 = 1;
    /// AVX2 and FMA.
    pub(super) const AVX2_FMA: u8 = 2;
    /// F16C (only meaningful together with [`AVX2_FMA`]).
    const F16C: u8 = 4;
    /// AVX2, FMA and F16C.
    pub(super) const AVX2_FMA_F16C: u8 = AVX2_FMA | F16C;
    /// AVX-512 F/BW/VL/VNNI (only meaningful together with [`AVX2_FMA_F16C`]).
    const AVX512_ONLY: u8 = 8;
    /// Everything [`super::has_avx512`] needs.
    pub(super) const AVX512: u8 = AVX2_FMA_F16C | AVX512_ONLY;

    static CACHE: AtomicU8 = AtomicU8::new(0);

    /// The cached feature bits; probes the CPU on first use (a benign race: every thread stores the same value).
    #[inline(always)]
    pub(super) fn get() -> u8 {
        let v = CACHE.load(Ordering::Relaxed);
        if v != 0 {
            return v;
        }
        probe()
    }

    #[cold]
    fn probe() -> u8 {
        let mut v = PROBED;
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            v |= AVX2_FMA;
        }
        if std::is_x86_feature_detected!("f16c") {
            v |= F16C;
        }
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512vnni")
        {
            v |= AVX512_ONLY;
        }
        CACHE.store(v, Ordering::Relaxed);
        v
    }
}

/// `out[m, n] = x[m, k] · w[n, k]ᵀ` (f32 weights).
///
/// Contract: `x.len() == m * k`, `w.len() == n * k`, `out.len() == m * n` (any size may be 0).
/// No alignment requirement.
#[inline]
pub fn matmul_f32(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize) {
    // Decided on the whole `m`: every band of a threaded call then sums in the same order.
    let gemm = gemm_f32(m);
    #[cfg(feature = "std")]
    if threads::split_rows(out, m, k, n, m.checked_mul(k) == Some(x.len()), |o, r0, rows| {
        matmul_f32_1(o, &x[r0 * k..(r0 + rows) * k], w, rows, k, n, gemm)
    }) {
        return;
    }
    matmul_f32_1(out, x, w, m, k, n, gemm)
}

/// Whether a [`matmul_f32`] of `m` rows takes the packed GEMM kernels (x86: from
/// `GEMM_MIN_M_F32` rows on; decode, `m = 1`, keeps the dot-product tiles).
#[inline]
fn gemm_f32(m: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            return m >= x86_avx512::GEMM_MIN_M_F32;
        }
        if has_avx2_fma() {
            return m >= x86::GEMM_MIN_M_F32;
        }
    }
    let _ = m;
    false
}

/// [`matmul_f32`] on the calling thread (`gemm`: see [`gemm_f32`]).
#[inline]
fn matmul_f32_1(out: &mut [f32], x: &[f32], w: &[f32], m: usize, k: usize, n: usize, gemm: bool) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        if gemm {
            return x86_avx512::matmul_f32_gemm(out, x, w, m, k, n);
        }
        return x86_avx512::matmul_f32(out, x, w, m, k, n);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        if gemm {
            return x86::matmul_f32_gemm(out, x, w, m, k, n);
        }
        return x86::matmul_f32(out, x, w, m, k, n);
    }
    let _ = gemm;
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::matmul_f32(out, x, w, m, k, n);
    }
    generic::matmul_f32(out, x, w, m, k, n)
}

/// `out[m, n] = x[m, k] · w[n, k]ᵀ` with f16 weights, f32 accumulation.
///
/// Contract: as [`matmul_f32`]. No alignment requirement.
#[inline]
pub fn matmul_f16(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize) {
    // Decided on the whole `m`: every band of a threaded call then sums in the same order.
    let gemm = gemm_f16(m);
    #[cfg(feature = "std")]
    if threads::split_rows(out, m, k, n, m.checked_mul(k) == Some(x.len()), |o, r0, rows| {
        matmul_f16_1(o, &x[r0 * k..(r0 + rows) * k], w, rows, k, n, gemm)
    }) {
        return;
    }
    matmul_f16_1(out, x, w, m, k, n, gemm)
}

/// Whether a [`matmul_f16`] of `m` rows takes the packed GEMM kernels (x86: from
/// `GEMM_MIN_M_F16` rows on; decode, `m = 1`, keeps the dot-product tiles).
#[inline]
fn gemm_f16(m: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            return m >= x86_avx512::GEMM_MIN_M_F16;
        }
        if has_avx2_fma_f16c() {
            return m >= x86::GEMM_MIN_M_F16;
        }
    }
    let _ = m;
    false
}

/// [`matmul_f16`] on the calling thread (`gemm`: see [`gemm_f16`]).
#[inline]
fn matmul_f16_1(out: &mut [f32], x: &[f32], w: &[f16], m: usize, k: usize, n: usize, gemm: bool) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        if gemm {
            return x86_avx512::matmul_f16_gemm(out, x, w, m, k, n);
        }
        return x86_avx512::matmul_f16(out, x, w, m, k, n);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma_f16c() {
        if gemm {
            return x86::matmul_f16_gemm(out, x, w, m, k, n);
        }
        return x86::matmul_f16(out, x, w, m, k, n);
    }
    let _ = gemm;
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::matmul_f16(out, x, w, m, k, n);
    }
    generic::matmul_f16(out, x, w, m, k, n)
}

pub use generic::i16_act_max;

/// 16-bit activations × int8 weights (see [`generic::matmul_i8_i16`]; bit-exact on every path).
#[allow(clippy::too_many_arguments)]
#[inline]
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
    #[cfg(feature = "std")]
    if threads::split_rows(
        out,
        m,
        k,
        n,
        m.checked_mul(k) == Some(xq.len()) && xs.len() == m,
        |o, r0, rows| matmul_i8_i16_1(o, &xq[r0 * k..(r0 + rows) * k], &xs[r0..r0 + rows], w, ws, rows, k, n),
    ) {
        return;
    }
    matmul_i8_i16_1(out, xq, xs, w, ws, m, k, n)
}

/// [`matmul_i8_i16`] on the calling thread.
#[allow(clippy::too_many_arguments)]
#[inline]
fn matmul_i8_i16_1(
    out: &mut [f32],
    xq: &[i16],
    xs: &[f32],
    w: &[i8],
    ws: &[f32],
    m: usize,
    k: usize,
    n: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return x86_avx512::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    #[cfg(picoformer_dsp)]
    return cortex_m::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    #[cfg(not(picoformer_dsp))]
    generic::matmul_i8_i16(out, xq, xs, w, ws, m, k, n)
}

/// Whether [`matmul_i8_u8`] has a kernel here that beats [`matmul_i8_i16`] on the same values (x86
/// AVX-512 VNNI: `vpdpbusd`). Elsewhere 8-bit activations take the centered 16-bit form
/// ([`quantize_row_u8_centered`] + [`matmul_i8_i16`]), which gives bit-identical outputs.
#[inline(always)]
pub fn has_fast_u8_matmul() -> bool {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return true;
    }
    false
}

/// 8-bit asymmetric activations × int8 weights (see [`generic::matmul_i8_u8`]; bit-exact on every
/// path, and with [`matmul_i8_i16`] of the centered activations).
#[allow(clippy::too_many_arguments)]
#[inline]
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
    #[cfg(feature = "std")]
    if threads::split_rows(
        out,
        m,
        k,
        n,
        m.checked_mul(k) == Some(xu.len()) && xs.len() == m && zp.len() == m,
        |o, r0, rows| {
            let (xu, zp, xs) = (&xu[r0 * k..(r0 + rows) * k], &zp[r0..r0 + rows], &xs[r0..r0 + rows]);
            matmul_i8_u8_1(o, xu, zp, xs, w, ws, rows, k, n)
        },
    ) {
        return;
    }
    matmul_i8_u8_1(out, xu, zp, xs, w, ws, m, k, n)
}

/// [`matmul_i8_u8`] on the calling thread.
#[allow(clippy::too_many_arguments)]
#[inline]
fn matmul_i8_u8_1(
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
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return x86_avx512_u8::matmul_i8_u8(out, xu, zp, xs, w, ws, m, k, n);
    }
    generic::matmul_i8_u8(out, xu, zp, xs, w, ws, m, k, n)
}

/// Asymmetric per-row 8-bit activations after a per-column smoothing factor (see
/// [`generic::quantize_row_u8`]; bit-exact on every path). Returns `(scale, zero point)`.
#[inline]
pub fn quantize_row_u8(dst: &mut [u8], src: &[f32], inv_smooth: &[f32]) -> (f32, u8) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return x86_avx512_u8::quantize_row_u8(dst, src, inv_smooth);
    }
    generic::quantize_row_u8(dst, src, inv_smooth)
}

/// [`quantize_row_u8`] as centered 16-bit activations for [`matmul_i8_i16`] (see
/// [`generic::quantize_row_u8_centered`]; bit-exact on every path). Returns the scale.
#[inline]
pub fn quantize_row_u8_centered(dst: &mut [i16], src: &[f32], inv_smooth: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::quantize_row_u8_centered(dst, src, inv_smooth);
    }
    generic::quantize_row_u8_centered(dst, src, inv_smooth)
}

/// 16-bit activations × group-wise int4 weights `u · scale + min`, an f16 scale `ws` and offset `wm`
/// per group (see [`generic::matmul_i4_i16`] for the layout and the contract; bit-exact on every
/// path).
#[allow(clippy::too_many_arguments)]
#[inline]
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
    #[cfg(feature = "std")]
    if threads::split_rows(
        out,
        m,
        k,
        n,
        m.checked_mul(k) == Some(xq.len()) && xs.len() == m,
        |o, r0, rows| {
            let (xq, xs) = (&xq[r0 * k..(r0 + rows) * k], &xs[r0..r0 + rows]);
            matmul_i4_i16_1(o, xq, xs, w, ws, wm, group, rows, k, n)
        },
    ) {
        return;
    }
    matmul_i4_i16_1(out, xq, xs, w, ws, wm, group, m, k, n)
}

/// [`matmul_i4_i16`] on the calling thread.
#[allow(clippy::too_many_arguments)]
#[inline]
fn matmul_i4_i16_1(
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
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return x86_avx512::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma_f16c() {
        return x86::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    }
    #[cfg(picoformer_dsp)]
    return cortex_m::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n);
    #[cfg(not(picoformer_dsp))]
    generic::matmul_i4_i16(out, xq, xs, w, ws, wm, group, m, k, n)
}

/// Quantizes the `m` rows of `x[m, k]` to 16 bits within [`i16_act_max`]`(k)`, one scale per row:
/// returns `(xq[m, k], xs[m])`, the activation operands of [`matmul_i8_i16`].
pub fn quantize_rows_i16<'s>(
    xq: &'s mut [i16],
    xs: &'s mut [f32],
    x: &[f32],
    m: usize,
    k: usize,
) -> (&'s [i16], &'s [f32]) {
    quantize_rows_i16_within(xq, xs, x, m, k, i16_act_max(k))
}

/// [`quantize_rows_i16`] within `±qmax` (e.g. [`i16_act_max`] of a group length, for
/// [`matmul_i4_i16`], whose sums are exact per group).
pub fn quantize_rows_i16_within<'s>(
    xq: &'s mut [i16],
    xs: &'s mut [f32],
    x: &[f32],
    m: usize,
    k: usize,
    qmax: i32,
) -> (&'s [i16], &'s [f32]) {
    let (xq, xs) = (head_mut(xq, m * k), head_mut(xs, m));
    for ((q, s), row) in xq.chunks_exact_mut(k.max(1)).zip(xs.iter_mut()).zip(x.chunks_exact(k.max(1))) {
        *s = quantize_row_i16(q, row, qmax);
    }
    (xq, xs)
}

/// Symmetric per-row 16-bit activation quantization (see [`generic::quantize_row_i16`]).
#[inline]
pub fn quantize_row_i16(dst: &mut [i16], src: &[f32], qmax: i32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::quantize_row_i16(dst, src, qmax);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::quantize_row_i16(dst, src, qmax);
    }
    generic::quantize_row_i16(dst, src, qmax)
}

/// Symmetric per-row int8 quantization (the reference quantizer; bit-exact on every path).
///
/// `amax = max |src|` (NaNs ignored); if `amax` is not finite and positive, `dst = 0` and it returns
/// `0.0`. Else `scale = amax / 127`, `dst[i] = clamp(roundf(src[i] * (127 / amax)), -127, 127)` (round
/// half away from zero; NaN → 0) and it returns `scale`. Contract: `dst.len() == src.len()`.
#[inline]
pub fn quantize_row_i8(dst: &mut [i8], src: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::quantize_row_i8(dst, src);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::quantize_row_i8(dst, src);
    }
    generic::quantize_row_i8(dst, src)
}

/// Dot product. Contract: `a.len() == b.len()`.
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::dot_f32(a, b);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::dot_f32(a, b);
    }
    generic::dot_f32(a, b)
}

/// `y += a * x`. Contract: `y.len() == x.len()`.
#[inline]
pub fn axpy_f32(y: &mut [f32], a: f32, x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::axpy_f32(y, a, x);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::axpy_f32(y, a, x);
    }
    generic::axpy_f32(y, a, x)
}

/// LayerNorm of one row in place, biased variance like PyTorch:
/// `x = (x - mean) / sqrt(var + eps) * gamma + beta`. Contract: `gamma.len() == beta.len() == x.len()`.
#[inline]
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    generic::layer_norm(x, gamma, beta, eps)
}

/// Numerically stable softmax in place (subtracts the max first). Any length; empty is a no-op.
#[inline]
pub fn softmax(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return x86_avx512::softmax(x);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::softmax(x);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::softmax(x);
    }
    generic::softmax(x)
}

/// Exact GELU in place: `0.5 * x * (1 + erf(x / sqrt(2)))` with `libm::erff`.
#[inline]
pub fn gelu_erf(x: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        return x86_avx512::gelu_erf(x);
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::gelu_erf(x);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::gelu_erf(x);
    }
    generic::gelu_erf(x)
}

/// GELU, tanh approximation (see [`generic::gelu_tanh`]).
#[inline]
pub fn gelu_tanh(x: &mut [f32]) {
    generic::gelu_tanh(x)
}

/// SwiGLU: `gate = silu(gate) * up` (see [`generic::silu_mul`]).
#[inline]
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return x86::silu_mul(gate, up);
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    if has_neon() {
        return neon::silu_mul(gate, up);
    }
    generic::silu_mul(gate, up)
}

/// RMSNorm in place (see [`generic::rms_norm`]).
#[inline]
pub fn rms_norm(x: &mut [f32], gamma: &[f32], eps: f32) {
    generic::rms_norm(x, gamma, eps)
}

/// Rotary embedding of one head, rotate-half layout (see [`generic::rope_half`]).
#[inline]
pub fn rope_half(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    generic::rope_half(x, cos, sin)
}

/// `x = tanh(x)` in place.
#[inline]
pub fn tanh_inplace(x: &mut [f32]) {
    generic::tanh_inplace(x)
}

/// `x[i, :] += b` for each row of `x[m, n]` (`n = b.len()`). Contract: `x.len() % b.len() == 0`.
#[inline]
pub fn add_bias(x: &mut [f32], b: &[f32]) {
    generic::add_bias(x, b)
}

/// `y += x` elementwise. Contract: `y.len() == x.len()`.
#[inline]
pub fn add_inplace(y: &mut [f32], x: &[f32]) {
    generic::add_inplace(y, x)
}

/// `x *= s` elementwise.
#[inline]
pub fn scale_inplace(x: &mut [f32], s: f32) {
    generic::scale_inplace(x, s)
}

/// `x /= max(‖x‖₂, 1e-12)` (`torch.nn.functional.normalize` semantics).
#[inline]
pub fn l2_normalize(x: &mut [f32]) {
    generic::l2_normalize(x)
}

/// `dst = src` widened from f16 to f32 (exact; used for embedding lookup).
/// Contract: `dst.len() == src.len()`.
#[inline]
pub fn f16_to_f32(dst: &mut [f32], src: &[f16]) {
    generic::f16_to_f32(dst, src)
}

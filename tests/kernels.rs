//! Kernel tests: on x86_64 CPUs that support them every AVX2 and AVX-512 variant called directly (on
//! aarch64, every NEON variant) against `kernels::generic` (the spec), and the generic kernels against
//! naive f64 references. Float SIMD paths: relative 1e-5 of `Σ|a·b|`; integer paths: bit-exact.
//!
//! A dispatched kernel (`kernels::<fn>`) is compared with generic only where its dispatcher calls a
//! SIMD variant on this CPU (elsewhere it is generic, and the comparison could not fail);
//! `dispatch_selects_the_simd_variant` checks that it calls the variant the CPU supports.

use half::f16;
use picoformer::kernels::{self, generic};
use proptest::prelude::*;

// ------------------------------------------------------------------------------------------------
// Strategies and helpers.

/// Mostly unit-range values, some large magnitudes, some exact zeros.
fn val() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -1.0f32..1.0,
        2 => -1.0e4f32..1.0e4,
        1 => Just(0.0f32),
        1 => prop_oneof![Just(1.0e4f32), Just(-1.0e4f32)],
    ]
}

fn vals(len: usize) -> impl Strategy<Value = Vec<f32>> {
    proptest::collection::vec(val(), len)
}

/// Sizes: small odd ones (tails) plus larger ones.
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 1usize..70, 1 => 70usize..200]
}

fn kdim() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 1usize..70, 1 => 70usize..700]
}

/// Naive f64 `out[i, j] = Σ_p x[i, p] * w[j, p]` and the matching `Σ|x·w|` (for tolerances).
fn matmul_f64(x: &[f32], w: &[f32], m: usize, k: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut out = vec![0.0; m * n];
    let mut mag = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            for p in 0..k {
                let t = x[i * k + p] as f64 * w[j * k + p] as f64;
                out[i * n + j] += t;
                mag[i * n + j] += t.abs();
            }
        }
    }
    (out, mag)
}

/// `|got - want| <= rel * mag + 1e-30` elementwise, with a readable failure.
fn assert_close(got: &[f32], want: &[f64], mag: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, ((&g, &w), &s)) in got.iter().zip(want).zip(mag).enumerate() {
        let tol = rel * s + 1e-30;
        assert!(
            (g as f64 - w).abs() <= tol,
            "{what}[{i}]: got {g}, want {w}, |diff| {} > tol {tol}",
            (g as f64 - w).abs()
        );
    }
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

fn assert_bits_eq(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(x.to_bits() == y.to_bits(), "{what}[{i}]: {x} vs {y} (bits differ)");
    }
}

/// Summation-order tolerance of an f32 dot of length `k` (γ_k-style bound, a little slack).
fn gen_tol(k: usize) -> f64 {
    (k as f64 / 4.0 + 8.0) * f32::EPSILON as f64
}

/// Tolerance between a SIMD float variant and generic (the brief's relative 1e-5).
const SIMD_REL: f64 = 1e-5;

#[cfg(target_arch = "x86_64")]
fn avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn avx2_fma_f16c() -> bool {
    avx2_fma() && std::is_x86_feature_detected!("f16c")
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    avx2_fma_f16c()
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512vnni")
}

#[cfg(target_arch = "x86_64")]
#[test]
fn report_cpu_features() {
    // Printed so a CI log shows whether the x86 variants were really exercised.
    if avx2_fma() {
        println!("x86: AVX2+FMA supported: x86 variants are tested directly");
    } else {
        println!("x86: AVX2+FMA NOT supported on this CPU: x86 variant tests are SKIPPED");
    }
    if !avx2_fma_f16c() {
        println!("x86: F16C NOT supported on this CPU: x86 matmul_f16 tests are SKIPPED");
    }
    assert_eq!(kernels::has_avx2_fma(), avx2_fma(), "dispatch probe disagrees with std detection");
    assert_eq!(kernels::has_avx2_fma_f16c(), avx2_fma_f16c());
    if avx512() {
        println!("x86: AVX-512 F/BW/VL/VNNI supported: x86_avx512 variants are tested directly");
    } else {
        println!("x86: AVX-512 F/BW/VL/VNNI NOT supported on this CPU: x86_avx512 tests are SKIPPED");
    }
    assert_eq!(kernels::has_avx512(), avx512(), "AVX-512 probe disagrees with std detection");
}

/// Whether the NEON variants run their SIMD paths (a compile-time property on aarch64), checked
/// against the CPU's own report.
#[cfg(target_arch = "aarch64")]
fn neon() -> bool {
    kernels::has_neon()
}

#[cfg(target_arch = "aarch64")]
#[test]
fn report_cpu_features() {
    // Printed so a CI log shows whether the NEON variants were really exercised.
    if neon() {
        println!("aarch64: NEON enabled: neon variants are tested directly");
    } else {
        println!("aarch64: NEON NOT enabled in this build: neon variant tests are SKIPPED");
    }
    if neon() {
        assert!(std::arch::is_aarch64_feature_detected!("neon"), "built for NEON, CPU lacks it");
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[test]
fn report_cpu_features() {
    // Printed so a CI log shows that no SIMD variant was exercised.
    println!(
        "no SIMD variants for this architecture: every kernels::<fn> is generic, SIMD tests check nothing"
    );
}

/// `PICOFORMER_REQUIRE_SIMD=avx2,avx512,neon` (any of them, comma-separated) names the SIMD variants
/// this machine must test: a variant whose tests would be skipped because the CPU lacks it fails
/// here instead. CI sets it from what its machine's `/proc/cpuinfo` lists (`.ci/run`).
#[test]
fn required_simd_variants_are_tested() {
    let want = std::env::var("PICOFORMER_REQUIRE_SIMD").unwrap_or_default();
    for f in want.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        #[cfg(target_arch = "x86_64")]
        let have = match f {
            "avx2" => avx2_fma_f16c(),
            "avx512" => avx512(),
            "neon" => false,
            other => panic!("PICOFORMER_REQUIRE_SIMD: unknown variant {other:?} (avx2, avx512, neon)"),
        };
        #[cfg(target_arch = "aarch64")]
        let have = match f {
            "neon" => neon(),
            "avx2" | "avx512" => false,
            other => panic!("PICOFORMER_REQUIRE_SIMD: unknown variant {other:?} (avx2, avx512, neon)"),
        };
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let have = false;
        assert!(
            have,
            "PICOFORMER_REQUIRE_SIMD names {f:?}, but its kernel tests are skipped on this machine"
        );
        println!("PICOFORMER_REQUIRE_SIMD: {f} variants are tested");
    }
}

// ------------------------------------------------------------------------------------------------
// Matmul inputs.

#[derive(Debug, Clone)]
struct Mm {
    m: usize,
    k: usize,
    n: usize,
    x: Vec<f32>,
    w: Vec<f32>,
}

fn mm_case() -> impl Strategy<Value = Mm> {
    (0usize..70, kdim(), dim())
        .prop_flat_map(|(m, k, n)| (Just(m), Just(k), Just(n), vals(m * k), vals(n * k)))
        .prop_map(|(m, k, n, x, w)| Mm { m, k, n, x, w })
}

fn to_f16(w: &[f32]) -> Vec<f16> {
    w.iter().map(|&v| f16::from_f32(v)).collect()
}

type MatmulF32 = fn(&mut [f32], &[f32], &[f32], usize, usize, usize);
type MatmulF16 = fn(&mut [f32], &[f32], &[f16], usize, usize, usize);

fn check_matmul_f32_vs_generic(f: MatmulF32, c: &Mm, what: &str) {
    let mut want = vec![f32::NAN; c.m * c.n];
    generic::matmul_f32(&mut want, &c.x, &c.w, c.m, c.k, c.n);
    let mut got = vec![f32::NAN; c.m * c.n];
    f(&mut got, &c.x, &c.w, c.m, c.k, c.n);
    let (_, mag) = matmul_f64(&c.x, &c.w, c.m, c.k, c.n);
    assert_close(&got, &to_f64(&want), &mag, SIMD_REL, what);
}

fn check_matmul_f16_vs_generic(f: MatmulF16, c: &Mm, what: &str) {
    let w16 = to_f16(&c.w);
    let mut want = vec![f32::NAN; c.m * c.n];
    generic::matmul_f16(&mut want, &c.x, &w16, c.m, c.k, c.n);
    let mut got = vec![f32::NAN; c.m * c.n];
    f(&mut got, &c.x, &w16, c.m, c.k, c.n);
    let wf: Vec<f32> = w16.iter().map(|v| v.to_f32()).collect();
    let (_, mag) = matmul_f64(&c.x, &wf, c.m, c.k, c.n);
    assert_close(&got, &to_f64(&want), &mag, SIMD_REL, what);
}

// ------------------------------------------------------------------------------------------------
// Matmul properties.

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn generic_matmul_f32_vs_f64(c in mm_case()) {
        let mut got = vec![f32::NAN; c.m * c.n];
        generic::matmul_f32(&mut got, &c.x, &c.w, c.m, c.k, c.n);
        let (want, mag) = matmul_f64(&c.x, &c.w, c.m, c.k, c.n);
        assert_close(&got, &want, &mag, gen_tol(c.k), "generic::matmul_f32");
        // The spec: every output is exactly generic::dot_f32 of its rows.
        for i in 0..c.m {
            for j in 0..c.n {
                let d = generic::dot_f32(&c.x[i * c.k..(i + 1) * c.k], &c.w[j * c.k..(j + 1) * c.k]);
                prop_assert_eq!(got[i * c.n + j].to_bits(), d.to_bits());
            }
        }
    }

    #[test]
    fn generic_matmul_f16_vs_f64(c in mm_case()) {
        let w16 = to_f16(&c.w);
        let wf: Vec<f32> = w16.iter().map(|v| v.to_f32()).collect();
        let mut got = vec![f32::NAN; c.m * c.n];
        generic::matmul_f16(&mut got, &c.x, &w16, c.m, c.k, c.n);
        // Bit-identical to the f32 kernel on the widened weights (the spec).
        let mut want32 = vec![f32::NAN; c.m * c.n];
        generic::matmul_f32(&mut want32, &c.x, &wf, c.m, c.k, c.n);
        assert_bits_eq(&got, &want32, "generic::matmul_f16 vs generic::matmul_f32(widened)");
        let (want, mag) = matmul_f64(&c.x, &wf, c.m, c.k, c.n);
        assert_close(&got, &want, &mag, gen_tol(c.k), "generic::matmul_f16");
    }
}

#[cfg(target_arch = "aarch64")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn neon_matmul_f32(c in mm_case()) {
        if neon() {
            check_matmul_f32_vs_generic(kernels::neon::matmul_f32, &c, "neon::matmul_f32");
        }
    }

    #[test]
    fn neon_matmul_f16(c in mm_case()) {
        if neon() {
            check_matmul_f16_vs_generic(kernels::neon::matmul_f16, &c, "neon::matmul_f16");
        }
    }
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn x86_matmul_f32(c in mm_case()) {
        if avx2_fma() {
            check_matmul_f32_vs_generic(kernels::x86::matmul_f32, &c, "x86::matmul_f32");
        }
    }

    #[test]
    fn x86_matmul_f16(c in mm_case()) {
        if avx2_fma_f16c() {
            check_matmul_f16_vs_generic(kernels::x86::matmul_f16, &c, "x86::matmul_f16");
        }
    }

    #[test]
    fn x86_avx512_matmul_f32(c in mm_case()) {
        if avx512() {
            check_matmul_f32_vs_generic(kernels::x86_avx512::matmul_f32, &c, "x86_avx512::matmul_f32");
        }
    }

    #[test]
    fn x86_avx512_matmul_f16(c in mm_case()) {
        if avx512() {
            check_matmul_f16_vs_generic(kernels::x86_avx512::matmul_f16, &c, "x86_avx512::matmul_f16");
        }
    }

    #[test]
    fn x86_matmul_f32_gemm(c in mm_case()) {
        if avx2_fma() {
            check_matmul_f32_vs_generic(kernels::x86::matmul_f32_gemm, &c, "x86::matmul_f32_gemm");
        }
    }

    #[test]
    fn x86_matmul_f16_gemm(c in mm_case()) {
        if avx2_fma_f16c() {
            check_matmul_f16_vs_generic(kernels::x86::matmul_f16_gemm, &c, "x86::matmul_f16_gemm");
        }
    }

    #[test]
    fn x86_avx512_matmul_f32_gemm(c in mm_case()) {
        if avx512() {
            let f = kernels::x86_avx512::matmul_f32_gemm;
            check_matmul_f32_vs_generic(f, &c, "x86_avx512::matmul_f32_gemm");
        }
    }

    #[test]
    fn x86_avx512_matmul_f16_gemm(c in mm_case()) {
        if avx512() {
            let f = kernels::x86_avx512::matmul_f16_gemm;
            check_matmul_f16_vs_generic(f, &c, "x86_avx512::matmul_f16_gemm");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Matmul edge cases.

/// The `matmul_f32` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_matmul_f32() -> Vec<(&'static str, MatmulF32)> {
    let mut v: Vec<(&'static str, MatmulF32)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::matmul_f32` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched", kernels::matmul_f32));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86", kernels::x86::matmul_f32));
        v.push(("x86 gemm", kernels::x86::matmul_f32_gemm));
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        v.push(("x86_avx512", kernels::x86_avx512::matmul_f32));
        v.push(("x86_avx512 gemm", kernels::x86_avx512::matmul_f32_gemm));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon", kernels::neon::matmul_f32));
    }
    v
}

/// The `matmul_f16` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_matmul_f16() -> Vec<(&'static str, MatmulF16)> {
    let mut v: Vec<(&'static str, MatmulF16)> = Vec::new();
    // Only where it is a SIMD variant (x86 needs F16C too): elsewhere `kernels::matmul_f16` is generic.
    if kernels::dispatches_simd_f16() {
        v.push(("dispatched", kernels::matmul_f16));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma_f16c() {
        v.push(("x86", kernels::x86::matmul_f16));
        v.push(("x86 gemm", kernels::x86::matmul_f16_gemm));
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        v.push(("x86_avx512", kernels::x86_avx512::matmul_f16));
        v.push(("x86_avx512 gemm", kernels::x86_avx512::matmul_f16_gemm));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon", kernels::neon::matmul_f16));
    }
    v
}

#[test]
fn matmul_degenerate_sizes() {
    let generic_f32: (&'static str, MatmulF32) = ("generic", generic::matmul_f32);
    for (name, f) in [generic_f32].into_iter().chain(simd_matmul_f32()) {
        // m = 0: nothing to write.
        f(&mut [], &[], &[1.0, 2.0], 0, 2, 1);
        // n = 0.
        f(&mut [], &[1.0, 2.0], &[], 1, 2, 0);
        // k = 0: empty sums are 0.
        let mut out = [f32::NAN; 6];
        f(&mut out, &[], &[], 2, 0, 3);
        assert_eq!(out, [0.0; 6], "{name}: k = 0");
        // k = 1: outer product.
        let mut out = [0.0; 6];
        f(&mut out, &[2.0, -3.0], &[1.0, 0.5, -4.0], 2, 1, 3);
        assert_eq!(out, [2.0, 1.0, -8.0, -3.0, -1.5, 12.0], "{name}: k = 1");
    }
    let generic_f16: (&'static str, MatmulF16) = ("generic", generic::matmul_f16);
    for (name, f) in [generic_f16].into_iter().chain(simd_matmul_f16()) {
        f(&mut [], &[], &[f16::ONE], 0, 1, 1);
        let mut out = [f32::NAN; 2];
        f(&mut out, &[], &[], 1, 0, 2);
        assert_eq!(out, [0.0; 2], "{name}: k = 0");
        let mut out = [0.0; 2];
        f(&mut out, &[3.0], &[f16::from_f32(0.5), f16::from_f32(-2.0)], 1, 1, 2);
        assert_eq!(out, [1.5, -6.0], "{name}: k = 1");
    }
}

#[test]
fn matmul_f32_minilm_shapes() {
    let (p32, p16) = (simd_matmul_f32(), simd_matmul_f16());
    if p32.is_empty() && p16.is_empty() {
        println!(
            "matmul_f32_minilm_shapes: no SIMD matmul runs here, so there is nothing to compare with generic"
        );
        return;
    }
    // The shapes the benches use, with deterministic pseudo-random data.
    for &(m, k, n) in &[(16, 384, 384), (7, 384, 1536), (9, 1536, 384)] {
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 250.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 997) as f32 - 498.0) / 500.0).collect();
        let c = Mm { m, k, n, x, w };
        for &(name, f) in &p32 {
            check_matmul_f32_vs_generic(f, &c, name);
        }
        for &(name, f) in &p16 {
            check_matmul_f16_vs_generic(f, &c, name);
        }
    }
}

/// The GEMM variants' block edges: depth blocks of 256 (exactly one, two, and two plus a tail of
/// 5), panels of 16 (AVX2) and 32 (AVX-512) rows of `w` with every kind of column tail, row tiles of
/// 6 with every row tail.
#[test]
fn matmul_gemm_block_edges() {
    let (p32, p16) = (simd_matmul_f32(), simd_matmul_f16());
    if p32.is_empty() && p16.is_empty() {
        println!(
            "matmul_gemm_block_edges: no SIMD matmul runs here, so there is nothing to compare with generic"
        );
        return;
    }
    for &k in &[7, 256, 512, 517, 1100] {
        for &(m, n) in &[(1, 33), (5, 17), (6, 16), (7, 31), (12, 32), (13, 47), (20, 65), (64, 8), (3, 1)] {
            let x: Vec<f32> = (0..m * k).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 250.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 104_729 % 997) as f32 - 498.0) / 500.0).collect();
            let c = Mm { m, k, n, x, w };
            for &(name, f) in &p32 {
                check_matmul_f32_vs_generic(f, &c, &format!("{name} m {m} k {k} n {n}"));
            }
            for &(name, f) in &p16 {
                check_matmul_f16_vs_generic(f, &c, &format!("{name} m {m} k {k} n {n}"));
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Quantizer: bit-exact everywhere.

type Quant = fn(&mut [i8], &[f32]) -> f32;

/// The `quantize_row_i8` paths besides generic (which `check_quant_exact` compares them with):
/// dispatched, and each SIMD variant this CPU runs.
fn simd_quant() -> Vec<(&'static str, Quant)> {
    let mut v: Vec<(&'static str, Quant)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::quantize_row_i8` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched", kernels::quantize_row_i8));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86", kernels::x86::quantize_row_i8));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon", kernels::neon::quantize_row_i8));
    }
    v
}

fn check_quant_exact(src: &[f32]) {
    let mut want = vec![0i8; src.len()];
    let ws = generic::quantize_row_i8(&mut want, src);
    for (name, f) in simd_quant() {
        let mut got = vec![99i8; src.len()];
        let s = f(&mut got, src);
        assert_eq!(s.to_bits(), ws.to_bits(), "{name}: scale differs for {src:?}");
        assert_eq!(got, want, "{name}: values differ for {src:?}");
    }
}

/// Any f32 bit pattern (NaN, ±inf, subnormals, ±0) as well as ordinary values.
fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => val(),
        1 => any::<u32>().prop_map(f32::from_bits),
        1 => (-300i32..300).prop_map(|h| h as f32 * 0.5), // exact halves: rounding ties
    ]
}

type Quant16 = fn(&mut [i16], &[f32], i32) -> f32;

/// The `quantize_row_i16` paths besides generic (which `check_quant16_exact` compares them with):
/// dispatched, and each SIMD variant this CPU runs.
fn simd_quant16() -> Vec<(&'static str, Quant16)> {
    let mut v: Vec<(&'static str, Quant16)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::quantize_row_i16` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched", kernels::quantize_row_i16));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86", kernels::x86::quantize_row_i16));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon", kernels::neon::quantize_row_i16));
    }
    v
}

/// The 16-bit activation quantizer: every other path equal to generic, scale bits included.
fn check_quant16_exact(src: &[f32], qmax: i32) {
    let mut want = vec![0i16; src.len()];
    let ws = generic::quantize_row_i16(&mut want, src, qmax);
    for (name, f) in simd_quant16() {
        let mut got = vec![99i16; src.len()];
        let s = f(&mut got, src, qmax);
        assert_eq!(s.to_bits(), ws.to_bits(), "{name}: i16 scale differs (qmax {qmax}) for {src:?}");
        assert_eq!(got, want, "{name}: i16 values differ (qmax {qmax}) for {src:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn quantize_bit_exact(src in proptest::collection::vec(any_f32(), 0..300)) {
        check_quant_exact(&src);
    }

    #[test]
    fn quantize_i16_bit_exact(
        src in proptest::collection::vec(any_f32(), 0..300),
        qmax in prop_oneof![Just(32767), Just(1), Just(100), 1i32..=32767],
    ) {
        check_quant16_exact(&src, qmax);
    }

    #[test]
    fn quantize_i16_ties_bit_exact(
        halves in proptest::collection::vec((-2000i32..=2000).prop_map(|h| h as f32 * 0.5), 0..40),
        at in any::<proptest::sample::Index>(),
        neg in any::<bool>(),
    ) {
        // amax = qmax = 1000 makes inv = 1: every x.5 element is an exact rounding tie.
        let mut src = halves;
        let pos = at.index(src.len() + 1);
        src.insert(pos, if neg { -1000.0 } else { 1000.0 });
        check_quant16_exact(&src, 1000);
    }

    #[test]
    fn quantize_ties_bit_exact(
        halves in proptest::collection::vec((-254i32..=254).prop_map(|h| h as f32 * 0.5), 0..40),
        at in any::<proptest::sample::Index>(),
        neg in any::<bool>(),
    ) {
        // amax = 127 makes inv = 1, so every x.5 element is an exact rounding tie.
        let mut src = halves;
        let pos = at.index(src.len() + 1);
        src.insert(pos, if neg { -127.0 } else { 127.0 });
        check_quant_exact(&src);
    }

    #[test]
    fn generic_quantize_properties(src in proptest::collection::vec(val(), 1..300)) {
        let mut q = vec![0i8; src.len()];
        let s = generic::quantize_row_i8(&mut q, &src);
        let amax = src.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if amax == 0.0 {
            prop_assert_eq!(s, 0.0);
            prop_assert!(q.iter().all(|&v| v == 0));
        } else {
            prop_assert_eq!(s, amax / 127.0);
            for (&qv, &x) in q.iter().zip(&src) {
                prop_assert!((-127..=127).contains(&qv));
                // Round to nearest: the dequantized error is at most half a step (plus rounding slack).
                let t = x as f64 * (127.0 / amax as f64);
                prop_assert!((qv as f64 - t).abs() <= 0.5 + 1e-5, "q {} vs exact {}", qv, t);
            }
            prop_assert!(q.iter().any(|&v| v.abs() == 127));
        }
    }
}

#[test]
fn quantize_named_cases() {
    // Ties round half away from zero (amax = 127 makes inv = 1); 16+3 elements cover SIMD body and tail.
    let src = [
        127.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        2.5,
        -2.5,
        0.49999997,
        -0.49999997,
        126.5,
        -126.5,
        3.5,
        0.0,
        -0.0,
        4.5,
        -4.5,
        5.5,
        -5.5,
        0.5,
    ];
    let mut q = [0i8; 19];
    let s = generic::quantize_row_i8(&mut q, &src);
    assert_eq!(s, 1.0);
    assert_eq!(q, [127, 1, -1, 2, -2, 3, -3, 0, 0, 127, -127, 4, 0, 0, 5, -5, 6, -6, 1]);
    check_quant_exact(&src);

    // All-zero row (and empty row): zeros, scale 0.
    for len in [0usize, 1, 8, 17] {
        let mut q = vec![5i8; len];
        assert_eq!(generic::quantize_row_i8(&mut q, &vec![0.0; len]), 0.0);
        assert!(q.iter().all(|&v| v == 0));
        check_quant_exact(&vec![-0.0; len]);
    }

    // ±max values, infinities (amax not finite -> zeros), NaNs (ignored by the max, quantized to 0),
    // subnormal amax (127 / amax overflows to inf).
    let mut cases: Vec<Vec<f32>> = vec![
        vec![f32::MAX, -f32::MAX, 1.0, 0.0, -1.0, 3.0, f32::MIN_POSITIVE, 2.0, -f32::MAX],
        vec![f32::INFINITY, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        vec![f32::NAN, 1.0, -2.0, 3.0, f32::NAN, 5.0, 6.0, 7.0, -8.0, f32::NAN],
        vec![f32::NAN; 9],
        vec![1e-45, -1e-45, 0.0, 1e-45, 0.0, 0.0, 0.0, 0.0, 1e-45],
        vec![1e-40, -3e-41, 0.0, 5e-42, 1e-40, -1e-40, 7e-41, 0.0, 2e-45, 1e-38],
    ];
    cases.push((0..40).map(|i| (i as f32 - 20.0) * 1e30).collect());
    for c in &cases {
        check_quant_exact(c);
    }
    let mut q = [0i8; 9];
    assert_eq!(generic::quantize_row_i8(&mut q, &cases[1]), 0.0);
    assert_eq!(q, [0; 9]);
    let mut q = [0i8; 10];
    let s = generic::quantize_row_i8(&mut q, &cases[2]);
    assert_eq!(s, 8.0 / 127.0);
    assert_eq!(q, [0, 16, -32, 48, 0, 79, 95, 111, -127, 0]);
    let mut q = [0i8; 9];
    generic::quantize_row_i8(&mut q, &cases[0]);
    assert_eq!((q[0], q[1], q[2], q[8]), (127, -127, 0, -127));
    for c in &cases {
        for qmax in [1, 127, 511, 32767] {
            check_quant16_exact(c, qmax);
        }
    }
    // Ties at 16 bits (amax = qmax makes inv = 1), in the SIMD body and the tail.
    let ties: Vec<f32> =
        [32767.0, 0.5, -0.5, 1.5, -1.5, 32766.5, -32766.5, 0.49999997, 7.5, -7.5, 2.5].into_iter().collect();
    let mut q = vec![0i16; ties.len()];
    assert_eq!(generic::quantize_row_i16(&mut q, &ties, 32767), 1.0);
    assert_eq!(q, [32767, 1, -1, 2, -2, 32767, -32767, 0, 8, -8, 3]);
    check_quant16_exact(&ties, 32767);
}

// ------------------------------------------------------------------------------------------------
// Vector kernels.

type Dot = fn(&[f32], &[f32]) -> f32;
type Axpy = fn(&mut [f32], f32, &[f32]);

/// The `dot_f32` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_dot() -> Vec<(&'static str, Dot)> {
    let mut v: Vec<(&'static str, Dot)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::dot_f32` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched", kernels::dot_f32));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86", kernels::x86::dot_f32));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon", kernels::neon::dot_f32));
    }
    v
}

/// The `axpy_f32` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_axpy() -> Vec<(&'static str, Axpy)> {
    let mut v: Vec<(&'static str, Axpy)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::axpy_f32` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched", kernels::axpy_f32));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86", kernels::x86::axpy_f32));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon", kernels::neon::axpy_f32));
    }
    v
}

type Act = fn(&mut [f32]);

/// Absolute part of the tolerance of [`assert_act_close`].
const ACT_ATOL: f64 = 3e-7;

/// The `softmax` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_softmax() -> Vec<(&'static str, Act)> {
    let mut v: Vec<(&'static str, Act)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::softmax` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched softmax", kernels::softmax));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86::softmax", kernels::x86::softmax));
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        v.push(("x86_avx512::softmax", kernels::x86_avx512::softmax));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon::softmax", kernels::neon::softmax));
    }
    v
}

/// The `gelu_erf` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_gelu() -> Vec<(&'static str, Act)> {
    let mut v: Vec<(&'static str, Act)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::gelu_erf` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched gelu_erf", kernels::gelu_erf));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86::gelu_erf", kernels::x86::gelu_erf));
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        v.push(("x86_avx512::gelu_erf", kernels::x86_avx512::gelu_erf));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon::gelu_erf", kernels::neon::gelu_erf));
    }
    v
}

/// Polynomial activations vs the libm-based generic ones: `|Δ| <= ATOL · s + 4 ulp · |want|`, with
/// `s = 1` for softmax (`xs` empty) and `max(1, |x|)` for GELU (its `1 + erf` cancels for x < 0, so
/// an absolute erf error is scaled by `x/2`; the polynomial erf is within 2.5e-7 absolute of libm's,
/// worst near |x/√2| = 3.9). NaN must match NaN.
fn assert_act_close(got: &[f32], want: &[f32], xs: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() || g.is_nan() {
            assert!(w.is_nan() && g.is_nan(), "{what}[{i}]: got {g}, want {w}");
            continue;
        }
        if w.is_infinite() || g.is_infinite() {
            assert_eq!(g, w, "{what}[{i}]");
            continue;
        }
        let s = xs.get(i).map_or(1.0, |x| x.abs().max(1.0)) as f64;
        let tol = ACT_ATOL * s + 4.0 * f32::EPSILON as f64 * (w as f64).abs();
        let d = (g as f64 - w as f64).abs();
        assert!(d <= tol, "{what}[{i}] (x = {:?}): got {g}, want {w}, |diff| {d} > tol {tol}", xs.get(i));
    }
}

/// GELU over a sweep of the whole f32 range (every 2^11-th bit pattern: ~2 M values, both signs,
/// subnormals, ±inf, NaNs) plus a dense grid over [-12, 12].
#[test]
fn gelu_erf_sweep() {
    let mut x: Vec<f32> = (0..=u32::MAX).step_by(1 << 11).map(f32::from_bits).collect();
    x.extend((-120_000..=120_000).map(|i| i as f32 * 1e-4));
    x.extend([f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN, 3.92, -3.92, 3.9199998, -3.9199998]);
    let paths = simd_gelu();
    if paths.is_empty() {
        println!("gelu_erf_sweep: no SIMD gelu_erf runs here, so there is nothing to compare with generic");
        return;
    }
    let mut want = x.clone();
    generic::gelu_erf(&mut want);
    for (name, f) in paths {
        let mut got = x.clone();
        f(&mut got);
        assert_act_close(&got, &want, &x, name);
    }
}

type SiluMul = fn(&mut [f32], &[f32]);

/// The `silu_mul` paths besides generic: dispatched, and each SIMD variant this CPU runs.
fn simd_silu_mul() -> Vec<(&'static str, SiluMul)> {
    let mut v: Vec<(&'static str, SiluMul)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::silu_mul` is generic.
    if kernels::dispatches_simd() {
        v.push(("dispatched silu_mul", kernels::silu_mul));
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_fma() {
        v.push(("x86::silu_mul", kernels::x86::silu_mul));
    }
    #[cfg(target_arch = "aarch64")]
    if neon() {
        v.push(("neon::silu_mul", kernels::neon::silu_mul));
    }
    v
}

/// SwiGLU over a sweep of the whole f32 range for the gate (every 2^11-th bit pattern: both signs,
/// subnormals, ±inf, NaNs) and a dense grid over [-100, 100], times `up` values of both signs and
/// magnitudes; every length tail. Tolerance as for GELU, scaled by `max(1, |gate · up|)`.
#[test]
fn silu_mul_sweep() {
    let mut g: Vec<f32> = (0..=u32::MAX).step_by(1 << 11).map(f32::from_bits).collect();
    g.extend((-100_000..=100_000).map(|i| i as f32 * 1e-3));
    g.extend([f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN, 88.7, -88.7, 103.9, -103.9]);
    let up: Vec<f32> = (0..g.len()).map(|i| [1.0, -0.75, 3.0, 1e-3, -20.0][i % 5]).collect();
    let paths = simd_silu_mul();
    if paths.is_empty() {
        println!("silu_mul_sweep: no SIMD silu_mul runs here, so there is nothing to compare with generic");
        return;
    }
    let mut want = g.clone();
    generic::silu_mul(&mut want, &up);
    let scale: Vec<f32> = g.iter().zip(&up).map(|(a, b)| a * b).collect();
    for (name, f) in paths {
        let mut got = g.clone();
        f(&mut got, &up);
        assert_act_close(&got, &want, &scale, name);
        for len in 0..=17 {
            let mut got = g[1000..1000 + len].to_vec();
            f(&mut got, &up[1000..1000 + len]);
            assert_act_close(&got, &want[1000..1000 + len], &scale[1000..1000 + len], name);
        }
    }
}

/// Softmax of rows that push `exp` over its whole range: spreads from 1e-3 to 200, lengths 1..=40
/// (every tail), a row with ±inf and one with NaN.
#[test]
fn softmax_sweep() {
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for len in 1..=40usize {
        for spread in [1e-3f32, 1.0, 10.0, 50.0, 88.0, 104.0, 120.0, 200.0] {
            rows.push((0..len).map(|i| ((i * 7919 % 101) as f32 / 50.0 - 1.0) * spread).collect());
        }
    }
    rows.push(vec![1.0, f32::NEG_INFINITY, 2.0, 0.5]);
    rows.push(vec![1.0, f32::NAN, 2.0]);
    rows.push(vec![f32::NEG_INFINITY; 3]);
    let paths = simd_softmax();
    if paths.is_empty() {
        println!("softmax_sweep: no SIMD softmax runs here, so there is nothing to compare with generic");
        return;
    }
    for x in rows {
        let mut want = x.clone();
        generic::softmax(&mut want);
        for &(name, f) in &paths {
            let mut got = x.clone();
            f(&mut got);
            assert_act_close(&got, &want, &[], name);
        }
    }
}

fn pair(max: usize) -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    (0usize..max).prop_flat_map(|len| (vals(len), vals(len)))
}

fn row(max: usize) -> impl Strategy<Value = Vec<f32>> {
    (0usize..max).prop_flat_map(vals)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn dot(ab in prop_oneof![pair(70), pair(2049)]) {
        let (a, b) = ab;
        let mag: f64 = a.iter().zip(&b).map(|(&x, &y)| (x as f64 * y as f64).abs()).sum();
        let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
        let g = generic::dot_f32(&a, &b);
        assert_close(&[g], &[exact], &[mag], gen_tol(a.len()), "generic::dot_f32");
        for (name, f) in simd_dot() {
            assert_close(&[f(&a, &b)], &[g as f64], &[mag], SIMD_REL, name);
        }
    }

    #[test]
    fn axpy(ab in prop_oneof![pair(70), pair(2049)], s in val()) {
        let (y0, x) = ab;
        let mut want = y0.clone();
        generic::axpy_f32(&mut want, s, &x);
        let exact: Vec<f64> = y0.iter().zip(&x).map(|(&y, &x)| y as f64 + s as f64 * x as f64).collect();
        let mag: Vec<f64> = y0.iter().zip(&x).map(|(&y, &x)| y.abs() as f64 + (s as f64 * x as f64).abs()).collect();
        assert_close(&want, &exact, &mag, 2.0 * f32::EPSILON as f64, "generic::axpy_f32");
        for (name, f) in simd_axpy() {
            let mut got = y0.clone();
            f(&mut got, s, &x);
            assert_close(&got, &to_f64(&want), &mag, 2.0 * f32::EPSILON as f64, name);
        }
    }

    #[test]
    fn layer_norm(x in row(800), eps in prop_oneof![Just(1e-12f32), Just(1e-5f32)]) {
        let n = x.len();
        let gamma: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
        let beta: Vec<f32> = (0..n).map(|i| (i % 5) as f32 * 0.1 - 0.2).collect();
        // (`kernels::layer_norm` has no SIMD variant: it is `generic::layer_norm`, checked here.)
        let mut got = x.clone();
        generic::layer_norm(&mut got, &gamma, &beta, eps);
        if n > 0 {
            let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
            let rstd = 1.0 / (var + eps as f64).sqrt();
            let want: Vec<f64> = (0..n).map(|i| (x[i] as f64 - mean) * rstd * gamma[i] as f64 + beta[i] as f64).collect();
            // Error relative to the scale of the normalized value (|x - mean| * rstd, plus beta).
            let max_abs = x.iter().fold(0.0f64, |m, &v| m.max((v as f64 - mean).abs()));
            let mag: Vec<f64> = (0..n).map(|i| (max_abs * rstd + 1.0) * gamma[i] as f64 + beta[i].abs() as f64).collect();
            assert_close(&got, &want, &mag, 1e-4, "generic::layer_norm");
        }
    }

    #[test]
    fn softmax(x in row(800)) {
        let mut got = x.clone();
        generic::softmax(&mut got);
        for (name, f) in simd_softmax() {
            let mut d = x.clone();
            f(&mut d);
            assert_act_close(&d, &got, &x, name);
        }
        if !x.is_empty() {
            let max = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
            let e: Vec<f64> = x.iter().map(|&v| (v as f64 - max).exp()).collect();
            let s: f64 = e.iter().sum();
            let want: Vec<f64> = e.iter().map(|v| v / s).collect();
            let mag = vec![1.0; x.len()];
            assert_close(&got, &want, &mag, 1e-5, "generic::softmax");
            let total: f64 = got.iter().map(|&v| v as f64).sum();
            prop_assert!((total - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn gelu_tanh(x in row(300)) {
        let mut g = x.clone();
        generic::gelu_erf(&mut g);
        for (name, f) in simd_gelu() {
            let mut d = x.clone();
            f(&mut d);
            assert_act_close(&d, &g, &x, name);
        }
        let want: Vec<f64> = x.iter().map(|&v| 0.5 * v as f64 * (1.0 + libm::erf(v as f64 / 2f64.sqrt()))).collect();
        let mag: Vec<f64> = x.iter().map(|&v| v.abs() as f64 + 1e-6).collect();
        assert_close(&g, &want, &mag, 1e-5, "generic::gelu_erf");

        // (`kernels::tanh_inplace` has no SIMD variant: it is `generic::tanh_inplace`.)
        let mut t = x.clone();
        generic::tanh_inplace(&mut t);
        let want: Vec<f64> = x.iter().map(|&v| (v as f64).tanh()).collect();
        let mag = vec![1.0; x.len()];
        assert_close(&t, &want, &mag, 1e-6, "generic::tanh_inplace");
    }

    #[test]
    fn elementwise(rows in 0usize..9, b in row(70), s in val()) {
        let n = b.len();
        let x: Vec<f32> = (0..rows * n).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        // add_bias
        let mut g = x.clone();
        generic::add_bias(&mut g, &b);
        let want: Vec<f32> = x.iter().enumerate().map(|(i, &v)| v + b[i % n.max(1)]).collect();
        assert_bits_eq(&g, &want, "generic::add_bias");
        let mut d = x.clone();
        kernels::add_bias(&mut d, &b);
        assert_bits_eq(&d, &want, "kernels::add_bias");
        // add_inplace
        let y: Vec<f32> = (0..n).map(|i| i as f32 - 3.5).collect();
        let want: Vec<f32> = y.iter().zip(&b).map(|(a, c)| a + c).collect();
        let mut g = y.clone();
        generic::add_inplace(&mut g, &b);
        assert_bits_eq(&g, &want, "generic::add_inplace");
        let mut d = y.clone();
        kernels::add_inplace(&mut d, &b);
        assert_bits_eq(&d, &want, "kernels::add_inplace");
        // scale_inplace
        let want: Vec<f32> = b.iter().map(|v| v * s).collect();
        let mut g = b.clone();
        generic::scale_inplace(&mut g, s);
        assert_bits_eq(&g, &want, "generic::scale_inplace");
        let mut d = b.clone();
        kernels::scale_inplace(&mut d, s);
        assert_bits_eq(&d, &want, "kernels::scale_inplace");
    }

    #[test]
    fn l2_normalize(x in row(800)) {
        // (`kernels::l2_normalize` has no SIMD variant: it is `generic::l2_normalize`.)
        let mut g = x.clone();
        generic::l2_normalize(&mut g);
        let norm = x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt().max(1e-12);
        let want: Vec<f64> = x.iter().map(|&v| v as f64 / norm).collect();
        let mag = vec![1.0; x.len()];
        assert_close(&g, &want, &mag, 1e-6, "generic::l2_normalize");
    }
}

#[test]
fn vector_named_cases() {
    // Empty inputs.
    let generic_dot: (&'static str, Dot) = ("generic", generic::dot_f32);
    for (name, f) in [generic_dot].into_iter().chain(simd_dot()) {
        assert_eq!(f(&[], &[]), 0.0, "{name}");
        assert_eq!(f(&[3.0], &[-2.0]), -6.0, "{name}");
    }
    let mut y: [f32; 0] = [];
    let generic_axpy: (&'static str, Axpy) = ("generic", generic::axpy_f32);
    for (_, f) in [generic_axpy].into_iter().chain(simd_axpy()) {
        f(&mut y, 2.0, &[]);
    }
    let mut e: [f32; 0] = [];
    kernels::softmax(&mut e);
    kernels::layer_norm(&mut e, &[], &[], 1e-12);
    kernels::l2_normalize(&mut e);
    kernels::add_bias(&mut e, &[]);
    // Softmax: large magnitudes do not overflow; a constant row is uniform.
    let mut s = [1e4f32, -1e4, 1e4, 0.0];
    kernels::softmax(&mut s);
    assert_eq!(s, [0.5, 0.0, 0.5, 0.0]);
    let mut s = [7.0f32; 5];
    kernels::softmax(&mut s);
    assert!(s.iter().all(|&v| (v - 0.2).abs() < 1e-7));
    // l2_normalize: zero row stays zero (eps clamp), unit vector unchanged.
    let mut z = [0.0f32; 9];
    kernels::l2_normalize(&mut z);
    assert_eq!(z, [0.0; 9]);
    let mut u = [0.0f32, 3.0, 4.0];
    kernels::l2_normalize(&mut u);
    assert_eq!(u, [0.0, 0.6, 0.8]);
    // LayerNorm of a constant row: beta.
    let mut c = [5.0f32; 6];
    kernels::layer_norm(&mut c, &[2.0; 6], &[0.25; 6], 1e-12);
    assert_eq!(c, [0.25; 6]);
    // GELU fixed points.
    let mut g = [0.0f32, 10.0, -10.0];
    kernels::gelu_erf(&mut g);
    assert_eq!(g, [0.0, 10.0, -0.0]);
}

#[test]
fn f16_to_f32_exhaustive() {
    // Against the `half` crate's widening (`kernels::f16_to_f32` has no SIMD variant: it is
    // `generic::f16_to_f32`, so the two are not compared with each other).
    let src: Vec<f16> = (0..=u16::MAX).map(f16::from_bits).collect();
    let mut dst = vec![0.0f32; src.len()];
    generic::f16_to_f32(&mut dst, &src);
    for (i, (&d, s)) in dst.iter().zip(&src).enumerate() {
        let want = s.to_f32();
        assert!(
            d.to_bits() == want.to_bits() || (d.is_nan() && want.is_nan()),
            "f16 bits {i:#06x}: {d} vs {want}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// Dispatch: `kernels::<fn>` calls the SIMD variant the CPU supports.

/// The variant `kernels::matmul_f32` calls for `m` rows, as its dispatcher chooses (AVX-512 before
/// AVX2 + FMA, each with its GEMM kernel from `GEMM_MIN_M_F32` rows on; NEON); `None`: generic.
fn selected_matmul_f32(m: usize) -> Option<(&'static str, MatmulF32)> {
    #[cfg(target_arch = "x86_64")]
    {
        use kernels::{x86, x86_avx512};
        if kernels::has_avx512() {
            return Some(if m >= x86_avx512::GEMM_MIN_M_F32 {
                ("x86_avx512::matmul_f32_gemm", x86_avx512::matmul_f32_gemm)
            } else {
                ("x86_avx512::matmul_f32", x86_avx512::matmul_f32)
            });
        }
        if kernels::has_avx2_fma() {
            return Some(if m >= x86::GEMM_MIN_M_F32 {
                ("x86::matmul_f32_gemm", x86::matmul_f32_gemm)
            } else {
                ("x86::matmul_f32", x86::matmul_f32)
            });
        }
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::matmul_f32", kernels::neon::matmul_f32));
    }
    let _ = m;
    None
}

/// The variant `kernels::matmul_f16` calls for `m` rows (AVX-512 before AVX2 + FMA + F16C, each with
/// its GEMM kernel from `GEMM_MIN_M_F16` rows on; NEON); `None`: generic.
fn selected_matmul_f16(m: usize) -> Option<(&'static str, MatmulF16)> {
    #[cfg(target_arch = "x86_64")]
    {
        use kernels::{x86, x86_avx512};
        if kernels::has_avx512() {
            return Some(if m >= x86_avx512::GEMM_MIN_M_F16 {
                ("x86_avx512::matmul_f16_gemm", x86_avx512::matmul_f16_gemm)
            } else {
                ("x86_avx512::matmul_f16", x86_avx512::matmul_f16)
            });
        }
        if kernels::has_avx2_fma_f16c() {
            return Some(if m >= x86::GEMM_MIN_M_F16 {
                ("x86::matmul_f16_gemm", x86::matmul_f16_gemm)
            } else {
                ("x86::matmul_f16", x86::matmul_f16)
            });
        }
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::matmul_f16", kernels::neon::matmul_f16));
    }
    let _ = m;
    None
}

/// The variant `kernels::dot_f32` calls (AVX2 + FMA, no AVX-512 one; NEON); `None`: generic.
fn selected_dot() -> Option<(&'static str, Dot)> {
    #[cfg(target_arch = "x86_64")]
    if kernels::has_avx2_fma() {
        return Some(("x86::dot_f32", kernels::x86::dot_f32));
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::dot_f32", kernels::neon::dot_f32));
    }
    None
}

/// The variant `kernels::axpy_f32` calls (AVX2 + FMA, no AVX-512 one; NEON); `None`: generic.
fn selected_axpy() -> Option<(&'static str, Axpy)> {
    #[cfg(target_arch = "x86_64")]
    if kernels::has_avx2_fma() {
        return Some(("x86::axpy_f32", kernels::x86::axpy_f32));
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::axpy_f32", kernels::neon::axpy_f32));
    }
    None
}

/// The variant `kernels::softmax` calls (AVX-512 before AVX2 + FMA; NEON); `None`: generic.
fn selected_softmax() -> Option<(&'static str, Act)> {
    #[cfg(target_arch = "x86_64")]
    {
        if kernels::has_avx512() {
            return Some(("x86_avx512::softmax", kernels::x86_avx512::softmax));
        }
        if kernels::has_avx2_fma() {
            return Some(("x86::softmax", kernels::x86::softmax));
        }
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::softmax", kernels::neon::softmax));
    }
    None
}

/// The variant `kernels::gelu_erf` calls (AVX-512 before AVX2 + FMA; NEON); `None`: generic.
fn selected_gelu_erf() -> Option<(&'static str, Act)> {
    #[cfg(target_arch = "x86_64")]
    {
        if kernels::has_avx512() {
            return Some(("x86_avx512::gelu_erf", kernels::x86_avx512::gelu_erf));
        }
        if kernels::has_avx2_fma() {
            return Some(("x86::gelu_erf", kernels::x86::gelu_erf));
        }
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::gelu_erf", kernels::neon::gelu_erf));
    }
    None
}

/// The variant `kernels::silu_mul` calls (AVX2 + FMA, no AVX-512 one; NEON); `None`: generic.
fn selected_silu_mul() -> Option<(&'static str, SiluMul)> {
    #[cfg(target_arch = "x86_64")]
    if kernels::has_avx2_fma() {
        return Some(("x86::silu_mul", kernels::x86::silu_mul));
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        return Some(("neon::silu_mul", kernels::neon::silu_mul));
    }
    None
}

/// One dispatched float kernel on `cases` (each run by `run(kernel, case)`): bit-identical to the
/// variant `selected` names for the case. Not required to equal generic, from which the SIMD
/// variants differ in rounding (FMA, summation order, polynomial `exp` / `erf`): the cases are
/// chosen so that some output differs from generic's, which shows that generic was not the kernel
/// called. Prints a line and checks nothing where the dispatcher calls generic.
fn check_dispatch<F: Copy, C>(
    what: &str,
    dispatched: F,
    generic: F,
    selected: impl Fn(&C) -> Option<(&'static str, F)>,
    cases: &[C],
    run: impl Fn(F, &C) -> Vec<f32>,
) {
    let mut differs_from_generic = false;
    for (i, c) in cases.iter().enumerate() {
        let Some((name, simd)) = selected(c) else {
            println!(
                "dispatch: {what} calls generic on this CPU (its SIMD variant needs a feature it lacks)"
            );
            return;
        };
        let got = run(dispatched, c);
        assert_bits_eq(&got, &run(simd, c), &format!("{what} vs {name} (case {i})"));
        differs_from_generic |= got.iter().zip(run(generic, c)).any(|(a, b)| a.to_bits() != b.to_bits());
    }
    assert!(
        differs_from_generic,
        "{what}: bit-identical to generic on every case: the cases cannot tell its SIMD variant from it"
    );
}

/// Deterministic values in about `[-2, 2)` (a fixed integer hash).
fn pseudo(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| (((i + seed) * 7919 + seed * 104_729) % 1000) as f32 / 250.0 - 2.0).collect()
}

#[test]
fn dispatch_selects_the_simd_variant() {
    if !kernels::dispatches_simd() {
        println!(
            "dispatch: no SIMD variant on this CPU or build (kernels::<fn> are generic): nothing to compare"
        );
        return;
    }
    // Matmuls: decode (m = 1), and one row under and at each GEMM threshold (24 and 32 rows).
    let mms: Vec<Mm> =
        [(1, 384, 67), (23, 300, 37), (24, 300, 37), (31, 300, 37), (32, 300, 37), (40, 600, 33)]
            .iter()
            .enumerate()
            .map(|(s, &(m, k, n))| Mm { m, k, n, x: pseudo(m * k, s), w: pseudo(n * k, s + 100) })
            .collect();
    check_dispatch(
        "kernels::matmul_f32",
        kernels::matmul_f32 as MatmulF32,
        generic::matmul_f32,
        |c: &Mm| selected_matmul_f32(c.m),
        &mms,
        |f, c| {
            let mut out = vec![f32::NAN; c.m * c.n];
            f(&mut out, &c.x, &c.w, c.m, c.k, c.n);
            out
        },
    );
    check_dispatch(
        "kernels::matmul_f16",
        kernels::matmul_f16 as MatmulF16,
        generic::matmul_f16,
        |c: &Mm| selected_matmul_f16(c.m),
        &mms,
        |f, c| {
            let mut out = vec![f32::NAN; c.m * c.n];
            f(&mut out, &c.x, &to_f16(&c.w), c.m, c.k, c.n);
            out
        },
    );
    // Vectors: several lengths (a dot gives one output per case), every tail of 8 and 16 lanes.
    let pairs: Vec<(Vec<f32>, Vec<f32>)> =
        (0..16).map(|s| (pseudo(1000 + s, s), pseudo(1000 + s, s + 50))).collect();
    check_dispatch(
        "kernels::dot_f32",
        kernels::dot_f32 as Dot,
        generic::dot_f32,
        |_| selected_dot(),
        &pairs,
        |f, (a, b)| vec![f(a, b)],
    );
    check_dispatch(
        "kernels::axpy_f32",
        kernels::axpy_f32 as Axpy,
        generic::axpy_f32,
        |_| selected_axpy(),
        &pairs,
        |f, (y, x)| {
            let mut y = y.clone();
            f(&mut y, 0.3, x);
            y
        },
    );
    // Activations: rows whose spread takes `exp` / `erf` over their range.
    let rows: Vec<Vec<f32>> = [1.0f32, 5.0, 20.0]
        .iter()
        .enumerate()
        .map(|(s, &a)| pseudo(1000, s).iter().map(|v| v * a).collect())
        .collect();
    let act = |f: Act, x: &Vec<f32>| {
        let mut x = x.clone();
        f(&mut x);
        x
    };
    check_dispatch(
        "kernels::softmax",
        kernels::softmax as Act,
        generic::softmax,
        |_| selected_softmax(),
        &rows,
        act,
    );
    check_dispatch(
        "kernels::gelu_erf",
        kernels::gelu_erf as Act,
        generic::gelu_erf,
        |_| selected_gelu_erf(),
        &rows,
        act,
    );
    check_dispatch(
        "kernels::silu_mul",
        kernels::silu_mul as SiluMul,
        generic::silu_mul,
        |_| selected_silu_mul(),
        &rows,
        |f, g| {
            let up = pseudo(g.len(), 7);
            let mut g = g.clone();
            f(&mut g, &up);
            g
        },
    );
}

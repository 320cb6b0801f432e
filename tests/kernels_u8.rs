//! 8-bit asymmetric activations × int8 weights: `matmul_i8_u8` on every path is bit-exact with the
//! generic kernel, with an i64 reference of the spec and with `matmul_i8_i16` of the centered
//! activations; `quantize_row_u8` and `quantize_row_u8_centered` on every path are bit-exact with
//! the generic quantizers, and the centered form is the 8-bit one minus its zero point.
//!
//! The dispatched kernels are the SIMD ones where the CPU has them (and are checked only there:
//! elsewhere they are generic), and the SIMD variants are also called directly (with AVX-512 VNNI
//! `x86_avx512_u8::matmul_i8_u8`, both of its kernels `_tiles` and `_gemm`, and `quantize_row_u8`;
//! with AVX2 + FMA `x86::quantize_row_u8_centered`); a variant this CPU lacks is reported as not
//! exercised, and `PICOFORMER_REQUIRE_SIMD` (see tests/kernels.rs) turns that into a failure.

use picoformer::kernels::{self, generic};
use proptest::prelude::*;

// ------------------------------------------------------------------------------------------------
// Which SIMD variants this machine runs.

#[cfg(target_arch = "x86_64")]
fn avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    avx2_fma()
        && std::is_x86_feature_detected!("f16c")
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl")
        && std::is_x86_feature_detected!("avx512vnni")
}

/// `PICOFORMER_REQUIRE_SIMD=avx2,avx512,neon`: the x86 variants named must run here (`avx2`: the
/// AVX2 centered quantizer; `avx512`: the VNNI matmul and the AVX-512 quantizer). There is no NEON
/// variant of these kernels (aarch64 takes the centered 16-bit form and the NEON `matmul_i8_i16`),
/// so `neon` requires nothing of this file.
#[test]
fn required_simd_variants_are_tested() {
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(kernels::has_avx512(), avx512(), "AVX-512 probe disagrees with std detection");
        assert_eq!(kernels::has_fast_u8_matmul(), avx512());
    }
    let want = std::env::var("PICOFORMER_REQUIRE_SIMD").unwrap_or_default();
    for f in want.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        #[cfg(target_arch = "x86_64")]
        let have = match f {
            "avx2" => avx2_fma(),
            "avx512" => avx512(),
            "neon" => false,
            other => panic!("PICOFORMER_REQUIRE_SIMD: unknown variant {other:?} (avx2, avx512, neon)"),
        };
        #[cfg(not(target_arch = "x86_64"))]
        let have = match f {
            "neon" => {
                println!("PICOFORMER_REQUIRE_SIMD: no NEON variant of the u8 kernels (generic only)");
                continue;
            }
            "avx2" | "avx512" => false,
            other => panic!("PICOFORMER_REQUIRE_SIMD: unknown variant {other:?} (avx2, avx512, neon)"),
        };
        assert!(
            have,
            "PICOFORMER_REQUIRE_SIMD names {f:?}, but its u8 kernel tests are skipped on this machine"
        );
        println!("PICOFORMER_REQUIRE_SIMD: {f} variants of the u8 kernels are tested");
    }
}

// ------------------------------------------------------------------------------------------------
// matmul_i8_u8.

#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    xu: Vec<u8>,
    zp: Vec<u8>,
    xs: Vec<f32>,
    w: Vec<i8>,
    ws: Vec<f32>,
}

fn scale() -> impl Strategy<Value = f32> {
    prop_oneof![4 => 1e-6f32..1.0, 1 => Just(0.0f32), 1 => 1.0f32..1e3, 1 => -1.0f32..0.0]
}

/// Bytes, often at the extremes.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![4 => any::<u8>(), 1 => Just(0u8), 1 => Just(255u8)]
}

fn weight() -> impl Strategy<Value = i8> {
    prop_oneof![4 => any::<i8>(), 1 => Just(-128i8), 1 => Just(127i8)]
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..40, prop_oneof![6 => 0usize..=300, 1 => 300usize..=1600], 0usize..40)
        .prop_flat_map(|(m, k, n)| {
            (
                (Just(m), Just(k), Just(n)),
                // Some cases with every activation 255 (the largest products).
                prop_oneof![
                    6 => proptest::collection::vec(byte(), m * k),
                    1 => Just(vec![255u8; m * k]),
                ],
                proptest::collection::vec(byte(), m),
                proptest::collection::vec(scale(), m),
                proptest::collection::vec(weight(), n * k),
                proptest::collection::vec(scale(), n),
            )
        })
        .prop_map(|((m, k, n), xu, zp, xs, w, ws)| Case { m, k, n, xu, zp, xs, w, ws })
}

/// The spec with i64 accumulation, reduced modulo 2^32 to the i32 the kernels wrap to (exact below
/// `k = 65793`), and the same float order; empty sums (`k = 0`) give 0.0.
fn reference(c: &Case) -> Vec<f32> {
    let mut out = vec![0.0; c.m * c.n];
    if c.k == 0 {
        return out;
    }
    for i in 0..c.m {
        for j in 0..c.n {
            let acc: i64 =
                (0..c.k).map(|p| (c.xu[i * c.k + p] as i64 - c.zp[i] as i64) * c.w[j * c.k + p] as i64).sum();
            out[i * c.n + j] = (acc as i32 as f32 * c.xs[i]) * c.ws[j];
        }
    }
    out
}

type MatmulI16 = fn(&mut [f32], &[i16], &[f32], &[i8], &[f32], usize, usize, usize);
type Matmul = fn(&mut [f32], &[u8], &[u8], &[f32], &[i8], &[f32], usize, usize, usize);

/// The matmuls to check: generic, dispatched (where that is a SIMD variant), and each SIMD variant
/// this CPU runs, called directly.
fn paths() -> Vec<(&'static str, Matmul)> {
    let mut v: Vec<(&'static str, Matmul)> = vec![("generic", generic::matmul_i8_u8)];
    // Only with AVX-512 VNNI, the one SIMD variant: elsewhere `kernels::matmul_i8_u8` is generic.
    if kernels::has_fast_u8_matmul() {
        v.push(("dispatched", kernels::matmul_i8_u8));
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        v.push(("x86_avx512_u8", kernels::x86_avx512_u8::matmul_i8_u8));
        v.push(("x86_avx512_u8 tiles", kernels::x86_avx512_u8::matmul_i8_u8_tiles));
        v.push(("x86_avx512_u8 gemm", kernels::x86_avx512_u8::matmul_i8_u8_gemm));
    } else {
        println!("CPU lacks AVX-512 F/BW/VL/VNNI: x86_avx512_u8::matmul_i8_u8 not exercised");
    }
    v
}

fn assert_bits(got: &[f32], want: &[f32], what: &str, c: &Case) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.to_bits(), w.to_bits(), "{what}[{i}]: {g} vs {w} (m {} k {} n {})", c.m, c.k, c.n);
    }
}

fn check(c: &Case) {
    let want = reference(c);
    for (name, f) in paths() {
        let mut got = vec![f32::NAN; c.m * c.n];
        f(&mut got, &c.xu, &c.zp, &c.xs, &c.w, &c.ws, c.m, c.k, c.n);
        assert_bits(&got, &want, name, c);
    }
    // The centered 16-bit form gives the same bits (generic, and dispatched `matmul_i8_i16` where that
    // is a SIMD variant: elsewhere it is generic).
    let xq: Vec<i16> =
        c.xu.iter().enumerate().map(|(p, &x)| x as i16 - c.zp[p / c.k.max(1)] as i16).collect();
    let mut i16_paths = vec![("generic::matmul_i8_i16(centered)", generic::matmul_i8_i16 as MatmulI16)];
    if kernels::dispatches_simd() {
        i16_paths.push(("kernels::matmul_i8_i16(centered)", kernels::matmul_i8_i16));
    }
    for (name, f) in i16_paths {
        // (k = 0 left out: the SIMD `matmul_i8_i16` variants give `0 · xs · ws` there, -0.0 for a
        // negative scale, where the generic kernels give 0.0.)
        if c.k == 0 && !name.starts_with("generic") {
            continue;
        }
        let mut got = vec![f32::NAN; c.m * c.n];
        f(&mut got, &xq, &c.xs, &c.w, &c.ws, c.m, c.k, c.n);
        assert_bits(&got, &want, name, c);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn matmul_every_path_is_bit_exact(c in case()) {
        check(&c);
    }
}

#[test]
fn matmul_extreme_values() {
    // Tails of k around the 64-byte step, MiniLM's k, and odd m and n edges.
    for k in [1, 2, 3, 63, 64, 65, 127, 128, 129, 300, 384, 1536, 1600, 4099] {
        for (m, n) in [(1, 1), (3, 5), (5, 3), (4, 4), (9, 7)] {
            let base = Case {
                m,
                k,
                n,
                xu: vec![255; m * k],
                zp: vec![0; m],
                xs: (0..m).map(|i| 0.5 + i as f32).collect(),
                w: vec![-128; n * k],
                ws: (0..n).map(|j| 0.25 * (j + 1) as f32).collect(),
            };
            check(&base);
            // zp 255 with activations 0: (0 - 255) * -128 = +32640 per term.
            check(&Case { xu: vec![0; m * k], zp: vec![255; m], ..base.clone() });
            // Alternating extremes, mixed zero points.
            check(&Case {
                xu: (0..m * k).map(|p| if p % 3 == 0 { 0 } else { 255 }).collect(),
                zp: (0..m).map(|i| [0, 255, 128, 1][i % 4]).collect(),
                w: (0..n * k).map(|p| if p % 2 == 0 { -128 } else { 127 }).collect(),
                ..base.clone()
            });
        }
    }
}

#[test]
fn matmul_wraps_like_generic() {
    // Σ (255 - 0) · (-128) over k = 70_000 is -2.28e9: past i32::MIN, so the i32 sum wraps; every
    // path wraps the same way (arithmetic modulo 2^32), and so does the reduced i64 reference.
    let (m, k, n) = (2, 70_000, 3);
    let c = Case {
        m,
        k,
        n,
        xu: vec![255; m * k],
        zp: vec![0, 3],
        xs: vec![1.0, 0.5],
        w: (0..n * k).map(|p| if p < k { -128 } else { (p % 251) as i8 }).collect(),
        ws: vec![1.0, 2.0, 0.125],
    };
    let exact = -128i64 * 255 * k as i64;
    assert!(exact < i32::MIN as i64, "the test must wrap");
    check(&c);
}

#[test]
fn matmul_degenerate_sizes() {
    for (name, f) in paths() {
        // m = 0 and n = 0: nothing to write.
        f(&mut [], &[], &[], &[], &[1], &[1.0], 0, 1, 1);
        f(&mut [], &[1, 2], &[0], &[1.0], &[], &[], 1, 2, 0);
        // k = 0: empty sums are 0.0, whatever the scales (even infinite or NaN ones).
        let mut out = [f32::NAN; 4];
        f(&mut out, &[], &[7, 9], &[1.0, f32::INFINITY], &[], &[f32::NAN, -1.0], 2, 0, 2);
        assert_eq!(out.map(f32::to_bits), [0.0f32.to_bits(); 4], "{name}: k = 0");
        // k = 1 with the extreme values (exact in i32 and in f32).
        let mut out = [0.0; 2];
        f(&mut out, &[0], &[255], &[0.5], &[-128, 127], &[1.0, 2.0], 1, 1, 2);
        assert_eq!(out, [16_320.0, -32_385.0], "{name}: k = 1, extreme values");
    }
}

// ------------------------------------------------------------------------------------------------
// quantize_row_u8 and quantize_row_u8_centered.

/// Values across magnitudes, with zeros, denormals, NaN and infinities.
fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -1.0f32..1.0,
        3 => -1e4f32..1e4,
        1 => -1e30f32..1e30,
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
        1 => -1e-38f32..1e-38, // mostly denormal
        1 => prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY)],
        1 => prop_oneof![Just(0.5f32), Just(-0.5f32), Just(1.5f32), Just(-2.5f32)],
    ]
}

/// Smoothing factors: mostly moderate, some 1, 0, tiny and huge.
fn factor() -> impl Strategy<Value = f32> {
    prop_oneof![6 => 0.01f32..100.0, 2 => Just(1.0f32), 1 => Just(0.0f32), 1 => 1e-30f32..1e-20, 1 => 1e20f32..1e30]
}

/// A row and its factors: random values, or all zero, all negative, all positive, finite only.
fn row() -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    let random = (0usize..=300).prop_flat_map(|len| {
        (
            prop_oneof![
                8 => proptest::collection::vec(value(), len),
                2 => proptest::collection::vec(-1e3f32..1e3, len),
                1 => Just(vec![0.0f32; len]),
                1 => proptest::collection::vec(-1e3f32..-1e-3, len),
                1 => proptest::collection::vec(1e-3f32..1e3, len),
                1 => proptest::collection::vec(-1e-40f32..1e-40, len),
            ],
            prop_oneof![
                4 => proptest::collection::vec(factor(), len),
                1 => Just(vec![1.0f32; len]),
            ],
        )
    });
    // Multiples of 0.5 in [-100, 155] ending with both ends: range 255, so `inv = 1` and every
    // half-integer value is a rounding tie.
    let ties =
        proptest::collection::vec((-200i32..=310).prop_map(|h| h as f32 * 0.5), 0..=300).prop_map(|mut v| {
            v.extend([-100.0, 155.0]);
            let ones = vec![1.0f32; v.len()];
            (v, ones)
        });
    prop_oneof![6 => random, 1 => ties]
}

type QuantizeU8 = fn(&mut [u8], &[f32], &[f32]) -> (f32, u8);
type QuantizeCentered = fn(&mut [i16], &[f32], &[f32]) -> f32;
type Named<F> = Vec<(&'static str, F)>;

/// The quantizers to check besides generic: the SIMD variants this CPU runs, and the dispatched ones
/// where they are SIMD variants (only x86_64 has any; elsewhere both lists are empty).
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
fn quantize_paths() -> (Named<QuantizeU8>, Named<QuantizeCentered>) {
    let mut u8s: Named<QuantizeU8> = Vec::new();
    let mut centered: Named<QuantizeCentered> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        // The dispatched quantizers only where they call a SIMD variant (`quantize_row_u8`: AVX-512;
        // `quantize_row_u8_centered`: AVX2 + FMA): elsewhere they are generic.
        if kernels::has_avx512() {
            u8s.push(("dispatched", kernels::quantize_row_u8));
        }
        if kernels::has_avx2_fma() {
            centered.push(("dispatched", kernels::quantize_row_u8_centered));
        }
        if avx512() {
            u8s.push(("x86_avx512_u8", kernels::x86_avx512_u8::quantize_row_u8));
        } else {
            println!("CPU lacks AVX-512 F/BW/VL/VNNI: x86_avx512_u8::quantize_row_u8 not exercised");
        }
        if avx2_fma() {
            centered.push(("x86", kernels::x86::quantize_row_u8_centered));
        } else {
            println!("CPU lacks AVX2+FMA: x86::quantize_row_u8_centered not exercised");
        }
    }
    (u8s, centered)
}

fn check_quantize(src: &[f32], f: &[f32]) {
    let len = src.len();
    let mut want = vec![0xa5u8; len];
    let (ws, wz) = generic::quantize_row_u8(&mut want, src, f);
    let mut want_c = vec![0x5a5ai16; len];
    let wsc = generic::quantize_row_u8_centered(&mut want_c, src, f);
    // The centered form is the 8-bit one minus its zero point, with the same scale.
    assert_eq!(wsc.to_bits(), ws.to_bits(), "generic centered scale (len {len})");
    let centered: Vec<i16> = want.iter().map(|&q| q as i16 - wz as i16).collect();
    assert_eq!(want_c, centered, "generic centered levels (len {len})");
    // A range so small that `255 / range` overflows (denormal rows) gives `inv = inf` and scale 0.
    assert!(ws.is_finite() && ws >= 0.0, "scale {ws} (len {len})");
    let (u8s, cs) = quantize_paths();
    for (name, q) in u8s {
        let mut got = vec![0x3cu8; len];
        let (s, z) = q(&mut got, src, f);
        assert_eq!((s.to_bits(), z), (ws.to_bits(), wz), "{name}: scale, zero point (len {len})");
        assert_eq!(got, want, "{name}: levels (len {len})");
    }
    for (name, q) in cs {
        let mut got = vec![0x7777i16; len];
        let s = q(&mut got, src, f);
        assert_eq!(s.to_bits(), wsc.to_bits(), "{name}: centered scale (len {len})");
        assert_eq!(got, want_c, "{name}: centered levels (len {len})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn quantize_every_path_is_bit_exact((src, f) in row()) {
        check_quantize(&src, &f);
    }
}

#[test]
fn quantize_edge_rows() {
    let ones = |len: usize| vec![1.0f32; len];
    let rows: Vec<Vec<f32>> = vec![
        vec![],
        vec![0.0; 17],
        vec![-0.0; 33],
        vec![f32::NAN; 17],
        vec![1.0, f32::INFINITY, 2.0],
        vec![f32::NEG_INFINITY; 5],
        vec![3.0e38, -3.0e38],           // range overflows to inf
        vec![1e-45, -1e-45, 0.0, 1e-45], // range 2e-45: inv = 255 / range is inf
        vec![1e-40; 40],
        vec![-1e-40; 40],
        vec![f32::NAN, 1.0, -1.0, f32::NAN],
        (0..1536).map(|p| ((p * 7919) % 1000) as f32 / 100.0 - 5.0).collect(),
        (0..1536).map(|p| if p % 97 == 0 { f32::NAN } else { (p as f32).sin() * 30.0 }).collect(),
    ];
    for r in &rows {
        check_quantize(r, &ones(r.len()));
    }
    // Every tail length around the 16-lane (and 8-lane) step.
    for len in 0..=70 {
        let src: Vec<f32> = (0..len).map(|p| (p as f32 * 0.37).cos() * 4.0 - 1.0).collect();
        let f: Vec<f32> = (0..len).map(|p| 0.5 + (p % 5) as f32 * 0.3).collect();
        check_quantize(&src, &f);
    }
    // Range exactly 255 (inv = 1, zp = 100): ties round away from zero.
    let src = [-100.0f32, 155.0, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 0.49999997, 154.5, -99.5, f32::NAN];
    let mut q = [0u8; 12];
    let (_, z) = generic::quantize_row_u8(&mut q, &src, &ones(12));
    assert_eq!(z, 100);
    assert_eq!(q, [0, 255, 103, 97, 101, 99, 102, 98, 100, 255, 0, 100]);
    check_quantize(&src, &ones(12));
}

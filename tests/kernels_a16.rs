//! 16-bit activations × int8 weights: `matmul_i8_i16` on every path is bit-exact with an i64
//! reference, and `quantize_row_i16` keeps activations within the bound that makes i32 exact.

use picoformer::kernels::{self, generic};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    xq: Vec<i16>,
    xs: Vec<f32>,
    w: Vec<i8>,
    ws: Vec<f32>,
}

fn scale() -> impl Strategy<Value = f32> {
    prop_oneof![4 => 1e-6f32..1.0, 1 => Just(0.0f32), 1 => 1.0f32..1e3]
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..40, prop_oneof![4 => 1usize..70, 1 => 70usize..1600], 1usize..40)
        .prop_flat_map(|(m, k, n)| {
            let q = kernels::i16_act_max(k) as i16;
            (
                Just(m),
                Just(k),
                Just(n),
                proptest::collection::vec(-q..=q, m * k),
                proptest::collection::vec(scale(), m),
                proptest::collection::vec(any::<i8>(), n * k),
                proptest::collection::vec(scale(), n),
            )
        })
        .prop_map(|(m, k, n, xq, xs, w, ws)| Case { m, k, n, xq, xs, w, ws })
}

/// The spec with i64 accumulation (which never overflows) and the same float order.
fn reference(c: &Case) -> Vec<f32> {
    let mut out = vec![0.0; c.m * c.n];
    for i in 0..c.m {
        for j in 0..c.n {
            let acc: i64 = (0..c.k).map(|p| c.xq[i * c.k + p] as i64 * c.w[j * c.k + p] as i64).sum();
            assert!(acc.unsigned_abs() <= i32::MAX as u64, "bound violated");
            out[i * c.n + j] = (acc as i32 as f32 * c.xs[i]) * c.ws[j];
        }
    }
    out
}

type Matmul = fn(&mut [f32], &[i16], &[f32], &[i8], &[f32], usize, usize, usize);

/// The matmuls to check: generic, dispatched (where that is a SIMD variant), and each SIMD variant
/// this CPU runs, called directly.
fn paths() -> Vec<(&'static str, Matmul)> {
    let mut v: Vec<(&'static str, Matmul)> = vec![("generic", generic::matmul_i8_i16)];
    // Only where it is a SIMD variant: elsewhere `kernels::matmul_i8_i16` is generic, checked already.
    if kernels::dispatches_simd() {
        v.push(("dispatched", kernels::matmul_i8_i16));
    }
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        v.push(("x86", kernels::x86::matmul_i8_i16));
    } else {
        println!("CPU lacks AVX2+FMA: x86::matmul_i8_i16 not exercised");
    }
    #[cfg(target_arch = "x86_64")]
    if kernels::has_avx512() {
        v.push(("x86_avx512", kernels::x86_avx512::matmul_i8_i16));
    } else {
        println!("CPU lacks AVX-512 F/BW/VL/VNNI: x86_avx512::matmul_i8_i16 not exercised");
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        v.push(("neon", kernels::neon::matmul_i8_i16));
    } else {
        println!("build lacks NEON: neon::matmul_i8_i16 not exercised");
    }
    v
}

fn check(c: &Case) {
    let want = reference(c);
    for (name, f) in paths() {
        let mut got = vec![f32::NAN; c.m * c.n];
        f(&mut got, &c.xq, &c.xs, &c.w, &c.ws, c.m, c.k, c.n);
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.to_bits(), w.to_bits(), "{name}: {g} vs {w} (m {} k {} n {})", c.m, c.k, c.n);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_path_is_bit_exact(c in case()) {
        check(&c);
    }

    #[test]
    fn quantize_row_i16_bounds_and_error(src in proptest::collection::vec(-1e3f32..1e3, 1..2000)) {
        let k = src.len();
        let qmax = kernels::i16_act_max(k);
        let mut q = vec![0i16; k];
        let s = kernels::quantize_row_i16(&mut q, &src, qmax);
        let amax = src.iter().fold(0f32, |a, v| a.max(v.abs()));
        prop_assert!(q.iter().all(|&v| (v as i32).abs() <= qmax));
        if amax > 0.0 {
            prop_assert!(q.iter().any(|&v| (v as i32).abs() == qmax));
            for (&x, &v) in src.iter().zip(&q) {
                prop_assert!((x - v as f32 * s).abs() <= s * 0.5001 + amax * 1e-6);
            }
        }
    }
}

#[test]
fn extreme_values_at_the_bound() {
    // Odd `k % 16` / `k % 32` tails and long rows (where the bound shrinks to a few hundred).
    for k in [1, 15, 16, 17, 31, 33, 384, 511, 512, 1536, 3072, 4096, 4099, 65_537] {
        let q = kernels::i16_act_max(k) as i16;
        assert!(k as i64 * q as i64 * 128 <= i32::MAX as i64);
        let (m, n) = (3, 5);
        let c = Case {
            m,
            k,
            n,
            xq: (0..m * k).map(|i| if i % 3 == 0 { -q } else { q }).collect(),
            xs: vec![1.0; m],
            w: (0..n * k).map(|i| if i % 2 == 0 { -128 } else { 127 }).collect(),
            ws: vec![1.0; n],
        };
        check(&c);
        let all_max = Case { xq: vec![-q; m * k], w: vec![-128; n * k], ..c };
        check(&all_max);
    }
}

#[test]
fn degenerate_sizes() {
    for (name, f) in paths() {
        // m = 0 and n = 0: nothing to write.
        f(&mut [], &[], &[], &[1], &[1.0], 0, 1, 1);
        f(&mut [], &[1, 2], &[1.0], &[], &[], 1, 2, 0);
        // k = 0: empty sums are 0.
        let mut out = [f32::NAN; 2];
        f(&mut out, &[], &[1.0], &[], &[1.0, 1.0], 1, 0, 2);
        assert_eq!(out, [0.0; 2], "{name}: k = 0");
        // k = 1 with the extreme i16 and i8 values (exact in i32 and in f32).
        let mut out = [0.0; 2];
        f(&mut out, &[i16::MIN], &[0.5], &[-128, 127], &[1.0, 2.0], 1, 1, 2);
        assert_eq!(out, [2_097_152.0, -4_161_536.0], "{name}: k = 1, extreme values");
    }
}

#[test]
fn zero_and_nonfinite_rows_quantize_to_zero() {
    let mut q = [7i16; 4];
    assert_eq!(kernels::quantize_row_i16(&mut q, &[0.0; 4], 100), 0.0);
    assert_eq!(q, [0; 4]);
    let mut q = [7i16; 3];
    assert_eq!(kernels::quantize_row_i16(&mut q, &[1.0, f32::INFINITY, 2.0], 100), 0.0);
    assert_eq!(q, [0; 3]);
    let mut q = [0i16; 3];
    let s = kernels::quantize_row_i16(&mut q, &[0.5, -2.0, 1.0], 100);
    assert_eq!(q, [25, -100, 50]);
    assert_eq!(s, 0.02);
}

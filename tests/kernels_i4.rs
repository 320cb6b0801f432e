//! 16-bit activations × group-wise int4 weights: `generic::matmul_i4_i16` is bit-exact with an
//! i64 reference of the spec; every other path (x86, x86_avx512, neon, and the dispatched kernel where
//! it is one of them) is within the float tolerance of the module docs and, as documented, bit-exact
//! too.

use half::f16;
use picoformer::kernels::{self, generic};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    m: usize,
    k: usize,
    n: usize,
    group: usize,
    xq: Vec<i16>,
    xs: Vec<f32>,
    /// One nibble `0..=15` per weight value, row-major `[n, k]` (packed by [`pack`]).
    u: Vec<u8>,
    /// Per-group scales and offsets (mins), `[n, k / group]` each: value `p` of row `j` is
    /// `u · ws[j, p / group] + wm[j, p / group]`.
    ws: Vec<f16>,
    wm: Vec<f16>,
}

/// Packs nibbles `u[n, k]` into the kernel layout: per block of 32 values of a row, byte `t` holds
/// value `t` in its low nibble and value `16 + t` in its high nibble.
fn pack(u: &[u8], n: usize, k: usize) -> Vec<u8> {
    let mut w = vec![0u8; n * k / 2];
    for j in 0..n {
        for b in 0..k / 32 {
            for t in 0..16 {
                let lo = u[j * k + 32 * b + t];
                let hi = u[j * k + 32 * b + 16 + t];
                assert!(lo < 16 && hi < 16);
                w[j * k / 2 + 16 * b + t] = lo | (hi << 4);
            }
        }
    }
    w
}

/// Exact group sums in i64 (asserted to fit i32): `(Σ x·u, Σ x)` of row `i` of `x` and row `j` of
/// `w` over group `g`.
fn group_sums(c: &Case, i: usize, j: usize, g: usize) -> (i64, i64) {
    let (mut d, mut sx) = (0i64, 0i64);
    for p in g * c.group..(g + 1) * c.group {
        let x = c.xq[i * c.k + p] as i64;
        d += x * c.u[j * c.k + p] as i64;
        sx += x;
    }
    assert!(d.unsigned_abs() <= i32::MAX as u64 && sx.unsigned_abs() <= i32::MAX as u64, "out of i32");
    (d, sx)
}

/// The spec with i64 group sums and the same f32 operations in the same order: per group
/// `acc = acc + ((d_g as f32 * s_g) + (sx_g as f32 * m_g))` (each operation rounded, never fused),
/// then `acc * xs[i]`.
fn reference(c: &Case) -> Vec<f32> {
    let gpr = c.k / c.group;
    let mut out = vec![0.0; c.m * c.n];
    for i in 0..c.m {
        for j in 0..c.n {
            let mut acc = 0.0f32;
            for g in 0..gpr {
                let (d, sx) = group_sums(c, i, j, g);
                let (s, mn) = (f32::from(c.ws[j * gpr + g]), f32::from(c.wm[j * gpr + g]));
                let a = d as f32 * s;
                let b = sx as f32 * mn;
                let t = a + b;
                acc += t;
            }
            out[i * c.n + j] = acc * c.xs[i];
        }
    }
    out
}

/// The tolerance of a non-generic path: `1e-5 · Σ_g (|d_g · s_g| + |sx_g · m_g|) · |xs[i]|` plus a
/// tiny absolute term.
fn tolerance(c: &Case) -> Vec<f64> {
    let gpr = c.k / c.group;
    let mut tol = vec![0.0; c.m * c.n];
    for i in 0..c.m {
        for j in 0..c.n {
            let mut sum = 0.0f64;
            for g in 0..gpr {
                let (d, sx) = group_sums(c, i, j, g);
                sum += (d as f64 * f32::from(c.ws[j * gpr + g]) as f64).abs();
                sum += (sx as f64 * f32::from(c.wm[j * gpr + g]) as f64).abs();
            }
            tol[i * c.n + j] = 1e-5 * sum * (c.xs[i] as f64).abs() + 1e-30;
        }
    }
    tol
}

type Matmul = fn(&mut [f32], &[i16], &[f32], &[u8], &[f16], &[f16], usize, usize, usize, usize);

#[cfg(target_arch = "x86_64")]
fn avx2_fma_f16c() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c")
}

#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    avx2_fma_f16c()
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vnni")
}

/// The non-generic paths on this CPU (printing which are SKIPPED, so a CI log shows it).
fn other_paths() -> Vec<(&'static str, Matmul)> {
    let mut v: Vec<(&'static str, Matmul)> = Vec::new();
    // Only where it is a SIMD variant: elsewhere `kernels::matmul_i4_i16` is generic, checked already.
    if kernels::dispatches_simd_f16() {
        v.push(("dispatched", kernels::matmul_i4_i16));
    }
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(
            kernels::has_avx2_fma_f16c(),
            avx2_fma_f16c(),
            "dispatch probe disagrees with std detection"
        );
        if avx2_fma_f16c() {
            v.push(("x86", kernels::x86::matmul_i4_i16));
        } else {
            println!("x86: AVX2+FMA+F16C NOT supported on this CPU: x86::matmul_i4_i16 tests are SKIPPED");
        }
        assert_eq!(kernels::has_avx512(), avx512(), "AVX-512 probe disagrees with std detection");
        if avx512() {
            v.push(("x86_avx512", kernels::x86_avx512::matmul_i4_i16));
        } else {
            println!("x86: AVX-512 F/BW/VL/VNNI NOT supported: x86_avx512::matmul_i4_i16 tests are SKIPPED");
        }
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        v.push(("neon", kernels::neon::matmul_i4_i16));
    } else {
        println!("aarch64: NEON NOT enabled in this build: neon::matmul_i4_i16 tests are SKIPPED");
    }
    v
}

fn run(f: Matmul, c: &Case) -> Vec<f32> {
    let w = pack(&c.u, c.n, c.k);
    let mut got = vec![f32::NAN; c.m * c.n];
    f(&mut got, &c.xq, &c.xs, &w, &c.ws, &c.wm, c.group, c.m, c.k, c.n);
    got
}

/// `a` and `b` are the same float (any two NaNs count as the same).
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Generic bit for bit; every other path within the tolerance and (as documented) bit for bit.
fn check(c: &Case) {
    assert!(c.k.is_multiple_of(c.group), "test case breaks the contract");
    let want = reference(c);
    let dims = format!("m {} k {} n {} group {}", c.m, c.k, c.n, c.group);
    let got = run(generic::matmul_i4_i16, c);
    for (idx, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(same(*g, *w), "generic [{idx}]: {g:e} vs {w:e} ({dims})");
    }
    let tol = tolerance(c);
    for (name, f) in other_paths() {
        let got = run(f, c);
        for (idx, ((g, w), t)) in got.iter().zip(&want).zip(&tol).enumerate() {
            let close = same(*g, *w) || ((*g as f64) - (*w as f64)).abs() <= *t;
            assert!(close, "{name} [{idx}]: {g:e} vs {w:e}, tol {t:e} ({dims})");
            assert!(same(*g, *w), "{name} [{idx}]: not bit-exact: {g:e} vs {w:e} ({dims})");
        }
    }
}

fn scale_f16() -> impl Strategy<Value = f16> {
    prop_oneof![
        6 => (1e-4f32..4.0).prop_map(f16::from_f32),
        1 => Just(f16::ZERO),
        1 => (1u16..0x400).prop_map(f16::from_bits), // subnormals
        1 => (1u16..0x400).prop_map(|b| f16::from_bits(b | 0x8000)),
        1 => (-4.0f32..-1e-4).prop_map(f16::from_f32),
    ]
}

/// Group offsets: mostly negative (as GGUF `Q4_1` mins are), zero, subnormals, large magnitudes.
fn min_f16() -> impl Strategy<Value = f16> {
    prop_oneof![
        5 => (-8.0f32..-1e-4).prop_map(f16::from_f32),
        2 => (1e-4f32..8.0).prop_map(f16::from_f32),
        1 => Just(f16::ZERO),
        1 => Just(f16::NEG_ZERO),
        1 => (1u16..0x400).prop_map(f16::from_bits), // subnormals
        1 => (1u16..0x400).prop_map(|b| f16::from_bits(b | 0x8000)),
        1 => (1e3f32..65504.0).prop_map(f16::from_f32),
        1 => (-65504.0f32..-1e3).prop_map(f16::from_f32),
    ]
}

fn act_scale() -> impl Strategy<Value = f32> {
    prop_oneof![4 => 1e-6f32..1.0, 1 => Just(0.0f32), 1 => 1.0f32..1e3]
}

fn case() -> impl Strategy<Value = Case> {
    (0usize..10, 1usize..20, prop_oneof![Just(32usize), Just(64usize)], 0usize..=25)
        .prop_flat_map(|(m, n, group, groups)| {
            let k = (groups * group).min(1600 / group * group);
            (
                Just(m),
                Just(k),
                Just(n),
                Just(group),
                proptest::collection::vec(-32767i16..=32767, m * k),
                proptest::collection::vec(act_scale(), m),
                proptest::collection::vec(0u8..=15, n * k),
                proptest::collection::vec(scale_f16(), n * (k / group)),
                proptest::collection::vec(min_f16(), n * (k / group)),
            )
        })
        .prop_map(|(m, k, n, group, xq, xs, u, ws, wm)| Case { m, k, n, group, xq, xs, u, ws, wm })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generic_is_the_spec_and_other_paths_agree(c in case()) {
        check(&c);
    }
}

/// A deterministic case of the given shape (xorshift), scales in `[2^-10, 2]`, offsets in `[-2, 2)`
/// (mostly negative), activations full range.
fn pseudo_random(m: usize, k: usize, n: usize, group: usize, seed: u64) -> Case {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    Case {
        m,
        k,
        n,
        group,
        xq: (0..m * k).map(|_| next() as i16).collect(),
        xs: (0..m).map(|_| (next() % 1000 + 1) as f32 * 1e-3).collect(),
        u: (0..n * k).map(|_| (next() % 16) as u8).collect(),
        ws: (0..n * (k / group)).map(|_| f16::from_f32((next() % 2048 + 1) as f32 / 1024.0)).collect(),
        wm: (0..n * (k / group)).map(|_| f16::from_f32(((next() % 2560) as f32 - 2048.0) / 1024.0)).collect(),
    }
}

#[test]
fn report_cpu_features() {
    // Printed so a CI log shows whether the x86 or NEON variant was really exercised.
    #[cfg(target_arch = "x86_64")]
    if avx2_fma_f16c() {
        println!("x86: AVX2+FMA+F16C supported: x86::matmul_i4_i16 is tested directly");
    } else {
        println!("x86: AVX2+FMA+F16C NOT supported on this CPU: x86::matmul_i4_i16 tests are SKIPPED");
    }
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        println!("x86: AVX-512 F/BW/VL/VNNI supported: x86_avx512::matmul_i4_i16 is tested directly");
    } else {
        println!("x86: AVX-512 F/BW/VL/VNNI NOT supported: x86_avx512::matmul_i4_i16 tests are SKIPPED");
    }
    #[cfg(target_arch = "aarch64")]
    if kernels::has_neon() {
        println!("aarch64: NEON enabled: neon::matmul_i4_i16 is tested directly");
    } else {
        println!("aarch64: NEON NOT enabled in this build: neon::matmul_i4_i16 tests are SKIPPED");
    }
}

#[test]
fn extremes() {
    // Nibbles 0 and 15 against the extreme activations: |Σ x·u| = 15 · 32768 · group at most, and
    // |Σ x| = 32768 · group.
    for group in [32, 64] {
        for k in [group, 2 * group, 1536] {
            for (m, n) in [(1, 5), (3, 4), (2, 9)] {
                for x in [i16::MIN, i16::MAX] {
                    let gpr = k / group;
                    // All nibbles 15, no offset: out = the f32 sum of the gpr group terms 15 · x · group
                    // (each exact in f32).
                    let c = Case {
                        m,
                        k,
                        n,
                        group,
                        xq: vec![x; m * k],
                        xs: vec![1.0; m],
                        u: vec![15; n * k],
                        ws: vec![f16::ONE; n * gpr],
                        wm: vec![f16::ZERO; n * gpr],
                    };
                    check(&c);
                    let term = (15 * x as i32 * group as i32) as f32;
                    let want = (0..gpr).fold(0.0f32, |acc, _| acc + term);
                    assert!(run(generic::matmul_i4_i16, &c).iter().all(|&v| v == want), "k {k} x {x} u 15");
                    // All nibbles 0 with offset -8 (the old symmetric `u - 8`): out = -8 · x · k.
                    let c = Case { u: vec![0; n * k], wm: vec![f16::from_f32(-8.0); n * gpr], ..c };
                    check(&c);
                    let want = -8.0 * x as f32 * k as f32;
                    assert!(run(generic::matmul_i4_i16, &c).iter().all(|&v| v == want), "k {k} x {x} u 0");
                    // Nibble 15 alternating with 0 along the row, the largest f16 scale and offset of
                    // either sign.
                    let big = [f16::MAX, f16::MIN, f16::from_f32(-1e-3), f16::from_bits(1)];
                    let alt = Case {
                        u: (0..n * k).map(|p| if p % 2 == 0 { 15 } else { 0 }).collect(),
                        ws: (0..n * gpr).map(|i| big[(i + 2) % 4]).collect(),
                        wm: (0..n * gpr).map(|i| big[i % 4]).collect(),
                        ..c
                    };
                    check(&alt);
                }
            }
        }
    }
}

#[test]
fn decoder_shapes() {
    // m = 1 (token generation) and m = 64 (prompt) at SmolLM2-135M shapes, n not a multiple of the
    // tile widths, k with a partial last chunk of groups (576 / 32 = 18, 576 / 64 = 9).
    for group in [32, 64] {
        for (m, k, n) in [
            (1, 576, 192),
            (1, 576, 67),
            (1, 1536, 37),
            (64, 576, 35),
            (64, 1536, 19),
            (5, 192, 3),
            (3, 576, 14),
        ] {
            check(&pseudo_random(m, k, n, group, (m * 7919 + k * 31 + n + group) as u64));
        }
    }
}

/// A deterministic case of extremes: activations `±i16_act_max(group)` and `i16::MIN`, nibbles 0 and
/// 15, scales and offsets as in [`pseudo_random`].
fn extreme(m: usize, k: usize, n: usize, group: usize, seed: u64) -> Case {
    let mut c = pseudo_random(m, k, n, group, seed);
    let a = kernels::i16_act_max(group) as i16;
    let xv = [a, -a, i16::MIN];
    for (p, x) in c.xq.iter_mut().enumerate() {
        *x = xv[(*x as u16 as usize + p) % 3];
    }
    for u in c.u.iter_mut() {
        *u = if *u % 2 == 0 { 0 } else { 15 };
    }
    c
}

#[test]
fn every_k_and_tile_edge() {
    // Every k that is a multiple of the group up to 416 (13 groups of 32: steps of 4 groups with every
    // tail, 1 to 3 groups), every m and n up to 9 (the 4 × 4 tiles of the AVX-512 kernel, the 2 × 4,
    // 1 × 8 and 1 × 4 tiles of the AVX2 one and all their edges), random data and extremes.
    for group in [32, 64] {
        for k in (group..=416).step_by(group) {
            for m in 1..=9 {
                for n in 1..=9 {
                    let seed = (group * 100_003 + k * 1009 + m * 31 + n) as u64;
                    check(&pseudo_random(m, k, n, group, seed));
                    check(&extreme(m, k, n, group, seed ^ 0x5555));
                }
            }
        }
    }
}

#[test]
fn long_rows_row_blocks_and_fallback() {
    // Both x86 kernels keep Σx of up to 4096 (row, group) pairs. AVX2: 1024 and 2048 groups per row
    // give blocks of 4 and 2 rows of x (so m = 5 takes 2 and 3 blocks); 2049 groups take the generic
    // fallback. AVX-512: 1024 groups give blocks of 4 rows, 2048 of 2, 2049 and 4096 of 1 row; 4097
    // groups take the generic fallback. n = 11, 9, 5 and 3 leave edge rows of w.
    for (m, k, n, group) in [
        (5, 32 * 1024, 11, 32),
        (5, 64 * 1024, 11, 64),
        (5, 32 * 2048, 9, 32),
        (2, 32 * 2049, 5, 32),
        (3, 32 * 4096, 3, 32),
        (2, 64 * 4096, 3, 64),
        (2, 32 * 4097, 3, 32),
    ] {
        check(&pseudo_random(m, k, n, group, (k + m + n) as u64));
    }
}

#[test]
fn odd_chunk_tails_with_infinite_neighbour_values() {
    // 9 groups per row (a chunk of 8, then 1), rows of w 12 (tiles of 8 and 4 rows) and m = 1, 3
    // (1-row and 2-row tiles). Every row's first scale (then, separately, its first offset) is ±inf,
    // so that values read into unused lanes (the next row's) would turn ±inf outputs into NaN if they
    // were ever used.
    for group in [32, 64] {
        for m in [1, 3] {
            for offsets in [false, true] {
                let mut c = pseudo_random(m, 9 * group, 12, group, (m * group) as u64);
                for j in 0..c.n {
                    let inf = if j % 2 == 0 { f16::INFINITY } else { f16::NEG_INFINITY };
                    if offsets {
                        c.wm[j * 9] = inf;
                    } else {
                        c.ws[j * 9] = inf;
                    }
                }
                check(&c);
                assert!(reference(&c).iter().all(|v| v.is_infinite()), "the case should give ±inf");
            }
        }
    }
}

#[test]
fn every_f16_scale_and_offset_bit_pattern() {
    // x = 1 at position 0 and 0 elsewhere: group 0 has sx = 1 and d = u(j, 0), the other group
    // d = sx = 0. Sweep 1: u = 1, offset 0, so out = scale; sweep 2: u = 0, scale 1, so out = offset
    // (each plus zeros). Every f16 value (subnormals, infinities, NaNs) is widened as `f32::from(f16)`
    // does, as a scale and as an offset.
    let (m, k, group) = (1, 64, 32);
    let n = 1 << 16;
    let mut xq = vec![0i16; k];
    xq[0] = 1;
    for sweep_offsets in [false, true] {
        let mut u = vec![0u8; n * k];
        if !sweep_offsets {
            for j in 0..n {
                u[j * k] = 1;
            }
        }
        let v = |b: usize| f16::from_bits(b as u16);
        let (ws, wm): (Vec<f16>, Vec<f16>) = if sweep_offsets {
            ((0..2 * n).map(|_| f16::ONE).collect(), (0..n).flat_map(|b| [v(b), f16::ZERO]).collect())
        } else {
            ((0..n).flat_map(|b| [v(b), f16::ONE]).collect(), (0..2 * n).map(|_| f16::ZERO).collect())
        };
        let c = Case { m, k, n, group, xq: xq.clone(), xs: vec![1.0], u, ws, wm };
        check(&c);
        let got = run(kernels::matmul_i4_i16, &c);
        for (b, g) in got.iter().enumerate() {
            // The spec: group 0 gives `x · 1 + 1 · 0` (scales) or `0 · 1 + 1 · x` (offsets), group 1
            // `0 + 0`, then `· xs = 1`: the widened value itself, with -0 turned to +0.
            let want = f32::from(v(b)) + 0.0;
            assert!(same(*g, want), "bits {b:#06x} (offsets {sweep_offsets}): {g:e} vs {want:e}");
        }
    }
}

#[test]
fn nibble_order_and_scale_indexing() {
    // One weight value at a time, offsets 0: a path that swaps nibbles, blocks, groups or scale
    // indices puts the value on the wrong activation (all distinct) or scale, far off any tolerance.
    for group in [32, 64] {
        let (m, k, n) = (1, 256, 9);
        let xq: Vec<i16> = (0..k).map(|p| ((p % 14) as i16 + 1) * if p % 3 == 0 { -1 } else { 1 }).collect();
        let gpr = k / group;
        let ws: Vec<f16> =
            (0..n * gpr).map(|i| f16::from_f32((1 + i % 5) as f32 * 0.25 + i as f32)).collect();
        for p in (0..k).step_by(7).chain([15, 16, 31, 32, 33, 63, 64, 255]) {
            let mut u = vec![0u8; n * k];
            for j in 0..n {
                u[j * k + p] = 1 + ((j + 7 * (p % 2)) % 15) as u8; // 1..=15
            }
            let wm = vec![f16::ZERO; n * gpr];
            let c = Case { m, k, n, group, xq: xq.clone(), xs: vec![1.0], u: u.clone(), ws: ws.clone(), wm };
            check(&c);
            let got = run(kernels::matmul_i4_i16, &c);
            for (j, g) in got.iter().enumerate() {
                let want = xq[p] as f32 * u[j * k + p] as f32 * f32::from(ws[j * gpr + p / group]);
                assert_eq!(*g, want, "p {p} j {j} group {group}");
            }
        }
    }
}

#[test]
fn offset_indexing() {
    // One activation x_p != 0 at a time, random nibbles, distinct scales and offsets: out[j] =
    // x_p · u(j, p) · s(j, g) + x_p · m(j, g) for g = p / group only. An offset dropped, taken from
    // the wrong row or group, or swapped with the scale, gives a different value.
    for group in [32, 64] {
        let (m, k, n) = (1, 576, 13);
        let gpr = k / group;
        let mut c = pseudo_random(m, k, n, group, 777 + group as u64);
        c.xs = vec![1.0];
        c.ws = (0..n * gpr).map(|i| f16::from_f32(0.5 + i as f32 / 64.0)).collect();
        c.wm = (0..n * gpr).map(|i| f16::from_f32(-3.0 - i as f32 / 16.0)).collect();
        for p in (0..k).step_by(5).chain([31, 32, 63, 64, 575]) {
            let xp = if p % 2 == 0 { -1000 - p as i16 } else { 999 + p as i16 };
            c.xq = vec![0; k];
            c.xq[p] = xp;
            check(&c);
            let got = run(kernels::matmul_i4_i16, &c);
            for (j, g) in got.iter().enumerate() {
                let jg = j * gpr + p / group;
                let d = xp as i32 * c.u[j * k + p] as i32;
                let t = d as f32 * f32::from(c.ws[jg]) + xp as f32 * f32::from(c.wm[jg]);
                assert_eq!(*g, t, "p {p} j {j} group {group}");
            }
        }
    }
}

#[test]
fn large_case_breaks_on_any_layout_error() {
    // A large pseudo-random case: the x86 path must match the spec; compared with deliberately
    // wrong layouts (nibbles swapped, offsets dropped or taken from the neighbouring group), the
    // error would be of the order of the values themselves, far beyond the tolerance.
    for group in [32, 64] {
        let c = pseudo_random(7, 1536, 29, group, 12345 + group as u64);
        check(&c);
        let want = reference(&c);
        let tol = tolerance(&c);
        let gpr = c.k / group;
        let mut swapped = c.clone();
        for j in 0..c.n {
            for b in 0..c.k / 32 {
                for t in 0..16 {
                    swapped.u.swap(j * c.k + 32 * b + t, j * c.k + 32 * b + 16 + t);
                }
            }
        }
        let no_offsets = Case { wm: vec![f16::ZERO; c.wm.len()], ..c.clone() };
        let mut shifted = c.clone();
        for j in 0..c.n {
            shifted.wm[j * gpr..(j + 1) * gpr].rotate_left(1);
        }
        for (what, bad) in [("nibble swap", swapped), ("no offsets", no_offsets), ("offset group", shifted)] {
            let bad = reference(&bad);
            let far = want
                .iter()
                .zip(&bad)
                .zip(&tol)
                .filter(|((w, b), t)| ((**w - **b) as f64).abs() > 100.0 * **t);
            assert!(far.count() > want.len() * 9 / 10, "the tolerance would not catch: {what}");
        }
    }
}

#[test]
fn degenerate_sizes() {
    let mut paths: Vec<(&'static str, Matmul)> = vec![("generic", generic::matmul_i4_i16)];
    paths.extend(other_paths());
    for (name, f) in paths {
        // m = 0 and n = 0: nothing to write.
        f(&mut [], &[], &[], &[0x88; 16], &[f16::ONE], &[f16::ONE], 32, 0, 32, 1);
        f(&mut [], &[1; 32], &[1.0], &[], &[], &[], 32, 1, 32, 0);
        // k = 0: empty sums are 0 (even with xs = NaN).
        let mut out = [f32::NAN; 2];
        f(&mut out, &[], &[f32::NAN], &[], &[], &[], 32, 1, 0, 2);
        assert_eq!(out, [0.0; 2], "{name}: k = 0");
    }
}

#[test]
#[cfg(not(debug_assertions))]
fn broken_contract_never_panics_in_release() {
    let xq = [3i16; 100];
    let xs = [1.0f32; 3];
    let w = [0x5Au8; 70];
    let ws = [f16::ONE; 9];
    let wm = [f16::NEG_ONE; 9];
    let mut out = [0.0f32; 12];
    let mut paths: Vec<(&'static str, Matmul)> = vec![("generic", generic::matmul_i4_i16)];
    paths.extend(other_paths());
    for (_, f) in paths {
        for group in [0, 1, 2, 16, 31, 32, 48, 64, 96, 128, usize::MAX] {
            for (m, k, n) in [(1, 32, 1), (2, 64, 3), (3, 33, 4), (1, 1, 1), (4, 96, 3), (usize::MAX, 2, 2)] {
                f(&mut out, &xq, &xs, &w, &ws, &wm, group, m, k, n);
                f(&mut out[..5], &xq[..7], &xs[..1], &w[..3], &ws[..1], &wm[..1], group, m, k, n);
                f(&mut out, &xq, &xs, &w, &ws, &wm[..2], group, m, k, n);
            }
        }
        // The contract holds except for the offsets (fewer than the scales, or none): the kernel
        // must not read past them.
        let (m, k, n) = (3, 64, 4);
        let (xq, xs, w) = (vec![-7i16; m * k], vec![1.0f32; m], vec![0xA5u8; n * k / 2]);
        let ws = vec![f16::ONE; n * 2];
        let mut out = vec![0.0f32; m * n];
        for wm_len in [0, 1, n * 2 - 1] {
            f(&mut out, &xq, &xs, &w, &ws, &vec![f16::ONE; wm_len], 32, m, k, n);
        }
    }
}

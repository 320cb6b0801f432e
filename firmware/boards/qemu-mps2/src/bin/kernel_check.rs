//! Checks the dispatched `kernels::matmul_i8_i16` (the SXTB16/SMLAD kernel on Armv7E-M, unless
//! built with `PICOFORMER_NO_DSP=1`) against `kernels::generic::matmul_i8_i16` on pseudo-random
//! cases: every m in 1..=6 (the kernel's row tiles of 4, 2 and 1 and their combinations) for every
//! k in 1..=70 (all k % 4 tails and all entries into the unrolled loops), k = 72..=136 in steps of
//! 8 (the one-row tile's entries), and k around the kernel's activation chunks (128 values for 4
//! rows, 256 for 2, 512 for 1) and at model sizes; n in 1..=11 (the direct path below 3 columns,
//! odd column tails); random and extreme values (±i16_act_max(k) activations, -128/127 weights);
//! word-aligned and misaligned weights and activation rows.
//!
//! Then the dispatched `kernels::matmul_i4_i16` (the AND/SMLAD int4 kernel with its VFP epilogue)
//! against `kernels::generic::matmul_i4_i16`: groups of 32 and 64, every m in 1..=6, every k
//! multiple of 32 (of 64 for groups of 64) up to 640 (the kernel's activation chunk is 512
//! values), n from 1 to 11 (every n at the model's k = 128 and 384); random and extreme values
//! (±i16_act_max(group) activations, nibbles 0 and 15), random finite f16 scales and offsets of
//! either sign (subnormals included), weights at byte offsets 0 to 2 and scale planes at even and
//! odd halfword offsets. Exits 0 only if every output of both kernels is bit-identical; logs
//! `KERNEL_CHECK OK cases=.. outputs=..` (both kernels together).
#![no_std]
#![no_main]

use cortex_m as _; // critical-section implementation (single core)
use cortex_m_rt::entry;
use half::f16;
use picoformer::kernels::{self, generic, i16_act_max};
use picoformer_qemu_mps2::{self as fw, Lcg};

const MAX_M: usize = 6;
const MAX_N: usize = 11;
const MAX_K: usize = 520;

/// Weights, word-aligned at offset 0 (plus room for a misaligned start).
#[repr(C, align(4))]
struct Weights([i8; MAX_N * MAX_K + 4]);

#[entry]
fn main() -> ! {
    let mut rng = Lcg(0x1234_5678);
    let mut xbuf = [0i16; MAX_M * MAX_K + 2];
    let mut wbuf = Weights([0; MAX_N * MAX_K + 4]);
    let mut xs = [0f32; MAX_M];
    let mut ws = [0f32; MAX_N];
    let mut got = [0f32; MAX_M * MAX_N];
    let mut want = [0f32; MAX_M * MAX_N];
    let (mut cases, mut outputs, mut bad) = (0usize, 0usize, 0usize);

    let chunks = [127, 128, 129, 131, 132, 255, 256, 257, 260, 384, 504, 511, 512, 513, 516, 520];
    let ks = (1..=70usize).chain((72..=136).step_by(8)).chain(chunks);
    for k in ks {
        for m in 1..=MAX_M {
            for variant in 0..4u32 {
                let n = 1 + (k * 7 + m * 3 + variant as usize) % MAX_N;
                // Misaligned weights (by one byte) and activations (by one i16) in some cases.
                let woff = (k + m).is_multiple_of(5) as usize;
                let xoff = (k + variant as usize).is_multiple_of(3) as usize;
                let xq = &mut xbuf[xoff..xoff + m * k];
                let w = &mut wbuf.0[woff..woff + n * k];
                fill(&mut rng, variant, xq, w, k);
                for v in xs[..m].iter_mut().chain(ws[..n].iter_mut()) {
                    *v = (rng.range(1, 1 << 20) as f32) * 1.0e-7;
                }
                let o = m * n;
                got[..o].fill(f32::NAN);
                want[..o].fill(f32::NAN);
                kernels::matmul_i8_i16(&mut got[..o], xq, &xs[..m], w, &ws[..n], m, k, n);
                generic::matmul_i8_i16(&mut want[..o], xq, &xs[..m], w, &ws[..n], m, k, n);
                cases += 1;
                for (i, (g, e)) in got[..o].iter().zip(&want[..o]).enumerate() {
                    outputs += 1;
                    if g.to_bits() != e.to_bits() {
                        bad += 1;
                        if bad <= 10 {
                            defmt::error!(
                                "MISMATCH m={} k={} n={} variant={} woff={} xoff={} out[{}]: dsp {} generic {}",
                                m,
                                k,
                                n,
                                variant,
                                woff,
                                xoff,
                                i,
                                g,
                                e
                            );
                        }
                    }
                }
            }
        }
    }
    let (i4_cases, i4_outputs, i4_bad) = check_i4(&mut rng);
    defmt::info!("int4: {} cases, {} outputs, {} differ", i4_cases, i4_outputs, i4_bad);
    let (cases, outputs, bad) = (cases + i4_cases, outputs + i4_outputs, bad + i4_bad);
    if bad != 0 {
        defmt::error!("KERNEL_CHECK FAILED: {} of {} outputs differ ({} cases)", bad, outputs, cases);
        fw::exit(1)
    }
    defmt::info!(
        "KERNEL_CHECK OK cases={} outputs={} (dispatched vs generic, bit-identical)",
        cases,
        outputs
    );
    fw::exit(0)
}

/// Activations within ±i16_act_max(k) and int8 weights: random (variant 0), all at the extremes
/// with the same sign (1: `+amax` × `-128`, 2: `-amax` × `127`) or random extremes (3).
fn fill(rng: &mut Lcg, variant: u32, xq: &mut [i16], w: &mut [i8], k: usize) {
    let amax = i16_act_max(k);
    for v in xq.iter_mut() {
        *v = match variant {
            0 => rng.range(-amax, amax),
            1 => amax,
            2 => -amax,
            _ => {
                if rng.next() & 0x8000 != 0 {
                    amax
                } else {
                    -amax
                }
            }
        } as i16;
    }
    for v in w.iter_mut() {
        *v = match variant {
            0 => rng.range(-128, 127),
            1 => -128,
            2 => 127,
            _ => {
                if rng.next() & 0x8000 != 0 {
                    127
                } else {
                    -128
                }
            }
        } as i8;
    }
}

/// Largest `k` of the int4 cases.
const I4_MAX_K: usize = 640;

/// Compares the dispatched `kernels::matmul_i4_i16` with the generic one on every case described
/// in the crate docs; returns `(cases, outputs, outputs that differ)`.
fn check_i4(rng: &mut Lcg) -> (usize, usize, usize) {
    let mut xbuf = [0i16; MAX_M * I4_MAX_K + 1];
    let mut wbuf = [0u8; MAX_N * I4_MAX_K / 2 + 4];
    let mut sbuf = [f16::ZERO; MAX_N * I4_MAX_K / 32 + 1];
    let mut mbuf = [f16::ZERO; MAX_N * I4_MAX_K / 32 + 1];
    let mut xs = [0f32; MAX_M];
    let mut got = [0f32; MAX_M * MAX_N];
    let mut want = [0f32; MAX_M * MAX_N];
    let (mut cases, mut outputs, mut bad) = (0usize, 0usize, 0usize);
    for group in [32usize, 64] {
        for k in (group..=I4_MAX_K).step_by(group) {
            for m in 1..=MAX_M {
                for variant in 0..4u32 {
                    let model_k = k == 128 || k == 384;
                    let ns = if model_k && variant == 0 {
                        1..=MAX_N
                    } else {
                        let n = 1 + (k / 32 * 7 + m * 3 + variant as usize) % MAX_N;
                        n..=n
                    };
                    for n in ns {
                        let gn = n * (k / group);
                        let woff = (k / 32 + m + n) % 3;
                        let xoff = (m + variant as usize) % 2;
                        let soff = (n + variant as usize) % 2;
                        let xq = &mut xbuf[xoff..xoff + m * k];
                        let w = &mut wbuf[woff..woff + n * k / 2];
                        let ws = &mut sbuf[soff..soff + gn];
                        let wm = &mut mbuf[1 - soff..1 - soff + gn];
                        fill_i4(rng, variant, xq, w, group);
                        for v in ws.iter_mut().chain(wm.iter_mut()) {
                            *v = random_f16(rng);
                        }
                        for v in xs[..m].iter_mut() {
                            *v = (rng.range(1, 1 << 20) as f32) * 1.0e-7;
                        }
                        let o = m * n;
                        got[..o].fill(f32::NAN);
                        want[..o].fill(f32::NAN);
                        let (ws, wm) = (&*ws, &*wm);
                        kernels::matmul_i4_i16(&mut got[..o], xq, &xs[..m], w, ws, wm, group, m, k, n);
                        generic::matmul_i4_i16(&mut want[..o], xq, &xs[..m], w, ws, wm, group, m, k, n);
                        cases += 1;
                        for (i, (g, e)) in got[..o].iter().zip(&want[..o]).enumerate() {
                            outputs += 1;
                            if g.to_bits() != e.to_bits() {
                                bad += 1;
                                if bad <= 10 {
                                    defmt::error!(
                                        "MISMATCH i4 group={} m={} k={} n={} variant={} woff={} out[{}]: dsp {} generic {}",
                                        group,
                                        m,
                                        k,
                                        n,
                                        variant,
                                        woff,
                                        i,
                                        g,
                                        e
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    (cases, outputs, bad)
}

/// A finite f16 of random sign, exponent (subnormals included) and mantissa: at most 2^14.
fn random_f16(rng: &mut Lcg) -> f16 {
    let r = rng.next() >> 8;
    let (sign, exp, mant) = ((r & 1) << 15, (r >> 1) % 30, (r >> 6) & 0x3ff);
    f16::from_bits((sign | (exp << 10) | mant) as u16)
}

/// Activations within ±i16_act_max(group) and int4 nibbles (two per byte): random (variant 0),
/// `+amax` with nibbles 15 (1), `-amax` with nibbles 15 (2), random `±amax` with random nibbles 0
/// or 15 (3).
fn fill_i4(rng: &mut Lcg, variant: u32, xq: &mut [i16], w: &mut [u8], group: usize) {
    let amax = i16_act_max(group);
    for v in xq.iter_mut() {
        *v = match variant {
            0 => rng.range(-amax, amax),
            1 => amax,
            2 => -amax,
            _ => {
                if rng.next() & 0x8000 != 0 {
                    amax
                } else {
                    -amax
                }
            }
        } as i16;
    }
    for v in w.iter_mut() {
        *v = match variant {
            0 => rng.range(0, 255) as u8,
            1 | 2 => 0xff,
            _ => [0x00, 0x0f, 0xf0, 0xff][(rng.next() >> 20) as usize & 3],
        };
    }
}

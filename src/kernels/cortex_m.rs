//! Armv7E-M / Armv8-M Mainline DSP kernels (Cortex-M4, M7, M33 with DSP): `SXTB16` + `SMLAD`.
//!
//! Compiled only with the `picoformer_dsp` cfg, which the root `build.rs` sets for `thumbv7em-*`
//! and `thumbv8m.main-*` targets (unless `PICOFORMER_NO_DSP=1`). Stable Rust has no DSP intrinsics
//! and no Arm `target_feature` cfg, hence the inline `asm!`.
//!
//! Same names, signatures and results as [`super::generic`] (bit-exact: the i32 sum wraps the same
//! way whatever the order, and the float epilogue is the same `((acc as f32) * xs[i]) * ws[j]`).
#![allow(unsafe_code)]

use core::arch::asm;

/// `[sext(b0), sext(b2)]` as two i16 halves.
#[inline(always)]
fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: a pure register-to-register DSP instruction (present on every target this file is
    // compiled for); it touches no memory and no stack.
    unsafe { asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack)) };
    r
}

/// `[sext(b1), sext(b3)]` as two i16 halves.
#[inline(always)]
fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: as in `sxtb16`: register-only DSP instruction, no memory, no stack.
    unsafe {
        asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack))
    };
    r
}

/// `[lo(a), lo(b)]`: low halfword of `a`, low halfword of `b` into the top half.
#[inline(always)]
fn pkhbt_lsl16(a: u32, b: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only DSP instruction, no memory, no stack.
    unsafe {
        asm!("pkhbt {r}, {a}, {b}, lsl #16", r = lateout(reg) r, a = in(reg) a, b = in(reg) b,
             options(pure, nomem, nostack))
    };
    r
}

/// `[hi(a), hi(b)]`: high halfword of `a` into the low half, high halfword of `b` on top.
#[inline(always)]
fn pkhtb_asr16(b: u32, a: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only DSP instruction, no memory, no stack.
    unsafe {
        asm!("pkhtb {r}, {b}, {a}, asr #16", r = lateout(reg) r, b = in(reg) b, a = in(reg) a,
             options(pure, nomem, nostack))
    };
    r
}

/// `acc + lo(x)·lo(y) + hi(x)·hi(y)` (signed 16×16 products, wrapping i32 sum; SMLAD only sets the
/// Q flag on overflow, which nothing here reads).
#[inline(always)]
fn smlad(x: u32, y: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only DSP instruction, no memory, no stack (the Q flag it may set is sticky
    // state in APSR that no code in this crate depends on; `preserves_flags` is not claimed).
    unsafe {
        asm!("smlad {r}, {x}, {y}, {a}", r = lateout(reg) r, x = in(reg) x, y = in(reg) y, a = in(reg) acc,
             options(pure, nomem, nostack))
    };
    r
}

/// Two i16 activations as one word: `[x0, x1]`.
#[inline(always)]
fn pair(x: &[i16; 2]) -> u32 {
    (x[0] as u16 as u32) | ((x[1] as u16 as u32) << 16)
}

/// Four activations `[x0, x1, x2, x3]` rearranged for SXTB16's lanes: `([x0, x2], [x1, x3])`.
#[inline(always)]
fn x_lanes(x: &[i16]) -> (u32, u32) {
    let a = pair(&[x[0], x[1]]);
    let b = pair(&[x[2], x[3]]);
    (pkhbt_lsl16(a, b), pkhtb_asr16(b, a))
}

/// Four int8 weights as one little-endian word.
#[inline(always)]
fn w_word(w: &[i8]) -> u32 {
    u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8])
}

/// `acc + Σ x[p]·w[p]` over one group of 4, with `(xe, xo) = x_lanes(x)`.
#[inline(always)]
fn mac4(acc: i32, xe: u32, xo: u32, w: &[i8]) -> i32 {
    let ww = w_word(w);
    smlad(xo, sxtb16_ror8(ww), smlad(xe, sxtb16(ww), acc))
}

/// Scalar tail: `acc + Σ a[p]·b[p]` (wrapping).
#[inline(always)]
fn tail(acc: i32, a: &[i16], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(acc, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32))
}

/// DSP variant of [`super::generic::matmul_i8_i16`] (same contract, bit-exact). Four weight rows
/// (then two, then one) share each rearranged activation group. A violated length contract falls back to the generic
/// kernel (which then behaves as documented there).
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
    let ok = m.checked_mul(k) == Some(xq.len())
        && n.checked_mul(k) == Some(w.len())
        && m.checked_mul(n) == Some(out.len())
        && xs.len() == m
        && ws.len() == n;
    if !ok || n == 0 || k == 0 {
        return super::generic::matmul_i8_i16(out, xq, xs, w, ws, m, k, n);
    }
    let k4 = k & !3;
    for ((orow, xrow), &sx) in out.chunks_exact_mut(n).zip(xq.chunks_exact(k)).zip(xs) {
        let (xv, xt) = xrow.split_at(k4);
        // Four columns at a time: each rearranged activation group (2 loads + 2 packs) serves
        // four weight words (1 load + 2 SXTB16 + 2 SMLAD each).
        let n4 = n & !3;
        for (o4, (w4, s4)) in
            orow[..n4].chunks_exact_mut(4).zip(w[..n4 * k].chunks_exact(4 * k).zip(ws[..n4].chunks_exact(4)))
        {
            let (w0, rest) = w4.split_at(k);
            let (w1, rest) = rest.split_at(k);
            let (w2, w3) = rest.split_at(k);
            let (w0v, w0t) = w0.split_at(k4);
            let (w1v, w1t) = w1.split_at(k4);
            let (w2v, w2t) = w2.split_at(k4);
            let (w3v, w3t) = w3.split_at(k4);
            let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
            let groups = xv.chunks_exact(4).zip(w0v.chunks_exact(4)).zip(w1v.chunks_exact(4));
            for (((x4, g0), g1), (g2, g3)) in groups.zip(w2v.chunks_exact(4).zip(w3v.chunks_exact(4))) {
                let (xe, xo) = x_lanes(x4);
                a0 = mac4(a0, xe, xo, g0);
                a1 = mac4(a1, xe, xo, g1);
                a2 = mac4(a2, xe, xo, g2);
                a3 = mac4(a3, xe, xo, g3);
            }
            let acc = [tail(a0, xt, w0t), tail(a1, xt, w1t), tail(a2, xt, w2t), tail(a3, xt, w3t)];
            for ((o, a), s) in o4.iter_mut().zip(acc).zip(s4) {
                *o = (a as f32 * sx) * s;
            }
        }
        let (orow, w, ws) = (&mut orow[n4..], &w[n4 * k..], &ws[n4..]);
        let n = n - n4;
        let mut j = 0;
        // Then two columns at a time.
        for (o2, (w2, s2)) in orow.chunks_exact_mut(2).zip(w.chunks_exact(2 * k).zip(ws.chunks_exact(2))) {
            let (w0, w1) = w2.split_at(k);
            let (w0v, w0t) = w0.split_at(k4);
            let (w1v, w1t) = w1.split_at(k4);
            let (mut a0, mut a1) = (0i32, 0i32);
            for ((x4, g0), g1) in xv.chunks_exact(4).zip(w0v.chunks_exact(4)).zip(w1v.chunks_exact(4)) {
                let (xe, xo) = x_lanes(x4);
                a0 = mac4(a0, xe, xo, g0);
                a1 = mac4(a1, xe, xo, g1);
            }
            a0 = tail(a0, xt, w0t);
            a1 = tail(a1, xt, w1t);
            o2[0] = (a0 as f32 * sx) * s2[0];
            o2[1] = (a1 as f32 * sx) * s2[1];
            j += 2;
        }
        // The odd last column.
        if j < n {
            let w0 = &w[j * k..(j + 1) * k];
            let (w0v, w0t) = w0.split_at(k4);
            let mut a0 = 0i32;
            for (x4, g0) in xv.chunks_exact(4).zip(w0v.chunks_exact(4)) {
                let (xe, xo) = x_lanes(x4);
                a0 = mac4(a0, xe, xo, g0);
            }
            a0 = tail(a0, xt, w0t);
            orow[j] = (a0 as f32 * sx) * ws[j];
        }
    }
}

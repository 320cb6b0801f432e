//! Armv7E-M / Armv8-M Mainline DSP kernels (Cortex-M4, M7, M33 with DSP): `SXTB16` + `SMLAD` for
//! int8 weights, `AND` nibble masks + `SMLAD` for group-wise int4 weights.
//!
//! Compiled only with the `picoformer_dsp` cfg, which the root `build.rs` sets for `thumbv7em-*`
//! and `thumbv8m.main-*` targets (unless `PICOFORMER_NO_DSP=1`). Stable Rust has no DSP intrinsics
//! and no Arm `target_feature` cfg, hence the inline `asm!`.
//!
//! Same names, signatures and results as [`super::generic`] (bit-exact: the i32 sum wraps the same
//! way whatever the order, and the float epilogue is the same `((acc as f32) * xs[i]) * ws[j]`;
//! for int4 the per-group sums are exact too, and the f32 operations after them the same, in the
//! same order).
//!
//! # `matmul_i8_i16`: permuted activations, register tiles
//! `SXTB16` of a weight word `[w0, w1, w2, w3]` gives the pair `[w0, w2]`, `SXTB16 ROR 8` gives
//! `[w1, w3]`; `SMLAD` multiplies them with the activation pairs `[x0, x2]` and `[x1, x3]`. The
//! activation rows are copied once per call, a chunk of `k` at a time, into a 1 KiB stack buffer
//! with each group of four values permuted to `(x0, x2, x1, x3)` and the rows of a tile
//! interleaved, so that plain word loads (`LDRD`) give exactly those pairs; the copy is amortised
//! over the `n` weight rows. The weights stay as they are in the blob. Per group of four `k`:
//! - 4 activation rows × 1 weight row (`m >= 4`): 1 `LDR` + 2 `SXTB16` + 4 `LDRD` + 8 `SMLAD`
//!   = 15 instructions per 16 MACs (each weight word serves four rows);
//! - 3 × 1 (3 rows left): 1 `LDR` + 2 `SXTB16` + 3 `LDRD` + 6 `SMLAD` = 12 per 12 MACs;
//! - 2 × 2 (2 rows left, e.g. BERT's `m = 2`): 2 `LDRD` + 2 `LDR` + 4 `SXTB16` + 8 `SMLAD` = 16;
//! - 1 × 2 (one row: the decoder's step), two groups at a time: 2 `LDRD` (activations) + 2 ×
//!   (`LDRD` + 4 `SXTB16` + 4 `SMLAD`) = 20 per 16 MACs; its float epilogue is in VFP.
//!
//! Each tile's whole column loop is one `asm!` block; its `k` loop is unrolled 8 steps deep (16
//! for 1 × 2) and entered at the step that leaves a whole number of iterations (Duff's device),
//! its bounds kept on the stack (a Cortex-M `asm!` block has 12 core registers, the tiles use them
//! all). The tiles of 2 to 4 rows leave raw `i32` sums in `out` (as bits), carried over the chunks
//! of `k` (128 values for 4 rows, 168 for 3, 256 for 2) and scaled in Rust after the last one,
//! with the `k % 4` tail. Column tails use the same buffer from plain Rust. The direct path, which
//! pairs the activations in registers (`PKHBT`/`PKHTB`), takes calls with `n < 3` (one attention
//! value channel at a time) or `k < 4`, and single rows the 1 × 2 tile does not take (`k` not a
//! multiple of 8 or above 512, weights not word-aligned, or a soft-float target).
//!
//! Measured under QEMU (Cortex-M4, `firmware/icount.sh`): 1.31-1.38 instructions per MAC for one
//! row (k = 128 or 384), 1.08-1.17 for two or three rows, 1.03-1.09 for 4 to 64 rows.
//!
//! Single weight words are loaded with `LDR`, which Armv7-M allows at any alignment (rows of odd
//! `k`) unless the firmware sets `CCR.UNALIGN_TRP`; the compiled scalar code relies on the same.
//!
//! # `matmul_i4_i16`
//! In [`i4`] (nibble masks, `SMLAD`, a VFP epilogue).
#![allow(unsafe_code)]

use core::arch::asm;
use core::mem::MaybeUninit;

use crate::bounded::{head, head_mut, rows, span, tail as after};

mod i4;
pub use i4::matmul_i4_i16;

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

/// Two i16 activations as one word: `[a, b]` (`a` in the low half).
#[inline(always)]
fn pair(a: i16, b: i16) -> u32 {
    (a as u16 as u32) | ((b as u16 as u32) << 16)
}

/// Four activations `[x0, x1, x2, x3]` rearranged for SXTB16's lanes: `([x0, x2], [x1, x3])`.
#[inline(always)]
fn x_lanes(x: &[i16]) -> (u32, u32) {
    let a = pair(x[0], x[1]);
    let b = pair(x[2], x[3]);
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

/// `s.split_at(at)`, or all of `s` and nothing when `at` is past its end (never, by the shapes).
#[inline(always)]
fn split<T>(s: &[T], at: usize) -> (&[T], &[T]) {
    s.split_at_checked(at).unwrap_or((s, &[]))
}

/// Scalar tail: `acc + Σ a[p]·b[p]` (wrapping).
#[inline(always)]
fn tail(acc: i32, a: &[i16], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(acc, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32))
}

/// DSP variant of [`super::generic::matmul_i8_i16`] (same contract, bit-exact): the tiled path for
/// `n >= 3` and `k >= 4`, the direct one otherwise (see the module docs). A violated length
/// contract falls back to the generic kernel (which then behaves as documented there). Never
/// inlined: the symbol is how a firmware build shows it contains this kernel (firmware/ci.sh).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
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
    if n < 3 || k < 4 {
        return direct(out, xq, xs, w, ws, k, n);
    }
    tiled(out, xq, xs, w, ws, m, k, n)
}

// ------------------------------------------------------------------------------------------------
// Tiled path

/// Words of the stack buffer of permuted activations (1 KiB): a chunk of `512 / rows` values of `k`
/// (down to a multiple of 4) for tiles of 1 to 4 activation rows.
const XBUF_WORDS: usize = 256;

/// Row blocks of 4 activation rows (the rest: 3, 2 or 1); per block of 2 to 4 rows, chunks of `k`
/// that fit the buffer, their sums carried over in `out` as raw `i32` bits until the last chunk
/// scales them.
#[allow(clippy::too_many_arguments)]
fn tiled(out: &mut [f32], xq: &[i16], xs: &[f32], w: &[i8], ws: &[f32], m: usize, k: usize, n: usize) {
    let k4 = k & !3;
    let mut buf = [MaybeUninit::<u32>::uninit(); XBUF_WORDS];
    let (mut out, mut xq, mut xs) = (out, xq, xs);
    let mut left = m;
    while left > 0 {
        let r = left.min(4);
        // the shapes are checked by the caller: the splits always succeed
        let Some((o, orest)) = core::mem::take(&mut out).split_at_mut_checked(r * n) else { return };
        let (Some((x, xrest)), Some((s, srest))) = (xq.split_at_checked(r * k), xs.split_at_checked(r))
        else {
            return;
        };
        if let (1, Some(&s0)) = (r, s.first()) {
            row1(o, &mut buf, x, s0, w, ws, k);
        } else {
            o.fill(0.0); // the raw sums start at 0 (the bits of 0.0)
            let kc_max = (2 * XBUF_WORDS / r) & !3;
            let mut k0 = 0;
            while k0 < k4 {
                let kc = (k4 - k0).min(kc_max);
                match r {
                    4 => sums_4x1(o, permute::<4>(&mut buf, x, k, k0, kc), w, k, k0, n),
                    3 => sums_3x1(o, permute::<3>(&mut buf, x, k, k0, kc), w, k, k0, n),
                    _ => sums_2x2(o, permute::<2>(&mut buf, x, k, k0, kc), w, k, k0, n),
                }
                k0 += kc;
            }
            for ((orow, xrow), &sx) in o.chunks_exact_mut(n.max(1)).zip(x.chunks_exact(k.max(1))).zip(s) {
                finish(orow, after(xrow, k4), sx, w, ws, k);
            }
        }
        (out, xq, xs, left) = (orest, xrest, srest, left - r);
    }
}

/// `out[j] = ((sum_j + Σ_{p >= k4} x[p]·w[j, p]) as f32 · sx) · ws[j]`, `sum_j` the raw `i32` bits
/// in `out[j]`, `xt = x[k4..]` the `k % 4` tail of the activation row.
fn finish(out: &mut [f32], xt: &[i16], sx: f32, w: &[i8], ws: &[f32], k: usize) {
    if xt.is_empty() {
        for (o, &sw) in out.iter_mut().zip(ws) {
            *o = (o.to_bits() as i32 as f32 * sx) * sw;
        }
    } else {
        let k4 = k - xt.len();
        for (o, (wr, &sw)) in out.iter_mut().zip(w.chunks_exact(k.max(1)).zip(ws)) {
            *o = (tail(o.to_bits() as i32, xt, after(wr, k4)) as f32 * sx) * sw;
        }
    }
}

/// Fills `buf` with `x[r, k0..k0 + kc]` of the `R` activation rows `x` (`[R, k]`): per group of
/// four `k`, `[x0, x2]` of rows `0..R`, then `[x1, x3]` of rows `0..R`. Returns the filled words
/// (`2 R · kc / 4`, fewer only if `x` or the buffer is too short).
#[inline(always)]
fn permute<'b, const R: usize>(
    buf: &'b mut [MaybeUninit<u32>; XBUF_WORDS],
    x: &[i16],
    k: usize,
    k0: usize,
    kc: usize,
) -> &'b [u32] {
    let fits = x.len() >= R * k && k0 + kc <= k;
    let groups = if fits { (kc / 4).min(XBUF_WORDS / (2 * R)) } else { 0 };
    let len = 2 * R * groups;
    let dst = &mut buf[..len];
    for (r, xr) in x.chunks_exact(k.max(1)).take(R).enumerate() {
        let xr = span(xr, k0, 4 * groups);
        for (d, x4) in dst.chunks_exact_mut(2 * R).zip(xr.chunks_exact(4)) {
            d[r].write(pair(x4[0], x4[2]));
            d[R + r].write(pair(x4[1], x4[3]));
        }
    }
    // SAFETY: `dst` is `groups` chunks of `2R` words; when `groups > 0` there are `R` rows of at
    // least `k0 + 4 groups` values, so the loop above wrote words `r` and `R + r` of every chunk
    // for every `r < R`: all `len` words are initialised.
    unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u32>(), len) }
}

/// `R` rows × 1 column over the permuted buffer in plain Rust (column tails): `acc[r] + Σ_p
/// x_r[p]·w[p]` over the groups of `xb`.
#[inline(always)]
fn dot_buf<const R: usize>(mut acc: [i32; R], xb: &[u32], w: &[i8]) -> [i32; R] {
    for (g, w4) in xb.chunks_exact(2 * R).zip(w.chunks_exact(4)) {
        let ww = w_word(w4);
        let (we, wo) = (sxtb16(ww), sxtb16_ror8(ww));
        for (r, a) in acc.iter_mut().enumerate() {
            *a = smlad(g[R + r], wo, smlad(g[r], we, *a));
        }
    }
    acc
}

/// One group of the 4 × 1 tile: the weight word, then per lane pair (`SXTB16`, `SXTB16 ROR 8`)
/// the four rows' activation pairs (two `LDRD`).
macro_rules! group_4x1 {
    () => {
        concat!(
            "ldr {w}, [{wp}], #4\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a0}, {xa}, {t}, {a0}\n",
            "smlad {a1}, {xb}, {t}, {a1}\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smlad {a2}, {xa}, {t}, {a2}\n",
            "smlad {a3}, {xb}, {t}, {a3}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smlad {a0}, {xa}, {w}, {a0}\n",
            "smlad {a1}, {xb}, {w}, {a1}\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smlad {a2}, {xa}, {w}, {a2}\n",
            "smlad {a3}, {xb}, {w}, {a3}\n",
        )
    };
}

/// The `k` loop of a tile (Duff's device): enters its unrolled body of `$n` steps at the address in
/// `[sp]` (stored by `k_entry!`: the first iteration runs the `steps % $n` steps beyond a multiple
/// of `$n`, or all `$n`), then runs whole iterations until `x` reaches the address in `[sp, #4]`.
/// Every instruction of a step has a 32-bit encoding (`.w` where a 16-bit one exists), so that all
/// steps have the same size. The steps are written out (`unrolled!`), not left to the assembler's
/// `.rept`: LLVM sizes an `asm!` block by its lines, and places branches and the function's
/// constant pools by that size.
macro_rules! k_loop {
    ($step:ident, $n:tt) => {
        concat!(
            "ldr pc, [sp]\n",
            "4:\n",
            unrolled!($n, $step),
            "ldr {t}, [sp, #4]\n",
            "cmp {x}, {t}\n",
            "bne 4b\n",
        )
    };
}

/// `$n` (8 or 16) copies of the step `$step!()`.
macro_rules! unrolled {
    (8, $step:ident) => {
        concat!($step!(), $step!(), $step!(), $step!(), $step!(), $step!(), $step!(), $step!())
    };
    (16, $step:ident) => {
        concat!(unrolled!(8, $step), unrolled!(8, $step))
    };
}

/// Stores at `[sp]` the entry into the unrolled body of the next `k_loop!` (label `4`), as many
/// bytes in as the operand `$skip` holds (from `k_entry`, Thumb bit included); clobbers `{t}`.
macro_rules! k_entry {
    ($skip:literal) => {
        concat!("adr.w {t}, 4f\n", "add {t}, {t}, {", $skip, "}\n", "str {t}, [sp]\n")
    };
}

/// For a `k` loop of `steps` steps (`steps > 0`) of `words` buffer words and `bytes` bytes of code
/// each, `n` per iteration, over `xb`: the offset into the unrolled body where it starts (Thumb
/// bit set), and the address at which `x` has passed all steps.
#[inline(always)]
fn k_entry(xb: &[u32], steps: usize, words: usize, bytes: usize, n: usize) -> (usize, *const u32) {
    ((n - 1 - (steps + n - 1) % n) * bytes + 1, xb.as_ptr().wrapping_add(steps * words))
}

/// Adds to the raw `i32` sums in `o` (`[4, n]`, as bits) the products of the 4 activation rows in
/// `xb` (per group `[e0 e1 e2 e3 o0 o1 o2 o3]`, `e = [x0, x2]`, `o = [x1, x3]`) with
/// `w[j, k0..k0 + 4 · groups]` for every column `j < n`: one weight word serves four rows. The
/// whole column loop is one `asm!` block.
fn sums_4x1(o: &mut [f32], xb: &[u32], w: &[i8], k: usize, k0: usize, n: usize) {
    let groups = xb.len() / 8;
    let fits = groups > 0 && n > 0 && o.len() >= 4 * n && k0 + 4 * groups <= k && w.len() >= n * k;
    if !fits {
        debug_assert!(false, "sums_4x1: shapes");
        return;
    }
    let (skip, end) = k_entry(xb, groups, 8, 60, 8);
    let op = o.as_mut_ptr();
    let oend = op.wrapping_add(n);
    // From the end of one column's chunk to the start of the next one's.
    let adv = k - 4 * groups;
    // SAFETY: reads `xb[..8 groups]` (word-aligned, as LDRD needs) and, for each column `j < n`,
    // `w[j k + k0..j k + k0 + 4 groups]` (LDR, any alignment on Armv7-M), within `w` as checked
    // above; reads and writes `o[r n + j]` for `r < 4`, `j < n` (`ns` = `4n` bytes), within `o`.
    // `x` advances 32 bytes and `wp` 4 per group; each column's `k` loop enters its unrolled body
    // so that it runs exactly `groups` groups (`k_entry`) and stops when `x` reaches `end`; the
    // column loop stops when `o` reaches `oend`. Uses 24 bytes of stack below `sp`, restored
    // before the end; writes nothing else but the declared registers.
    unsafe {
        asm!(
            "sub sp, sp, #24",
            "str {a1}, [sp, #4]",        // end
            k_entry!("a0"),
            "strd {a2}, {a3}, [sp, #8]", // xb, adv
            "str {xa}, [sp, #16]",       // oend
            "6:",
            "ldr {a0}, [{o}]",
            "ldr {a1}, [{o}, {ns}]",
            "ldr {a2}, [{o}, {ns}, lsl #1]",
            "add {t}, {o}, {ns}, lsl #1",
            "ldr {a3}, [{t}, {ns}]",
            k_loop!(group_4x1, 8),
            "str {a1}, [{o}, {ns}]",
            "str {a2}, [{o}, {ns}, lsl #1]",
            "add {t}, {o}, {ns}, lsl #1",
            "str {a3}, [{t}, {ns}]",
            "str {a0}, [{o}], #4",
            "ldr {t}, [sp, #12]",
            "add {wp}, {wp}, {t}",
            "ldr {x}, [sp, #8]",
            "ldr {t}, [sp, #16]",
            "cmp {o}, {t}",
            "bne 6b",
            "add sp, sp, #24",
            a0 = inout(reg) skip => _,
            a1 = inout(reg) end => _,
            a2 = inout(reg) xb.as_ptr() => _,
            a3 = inout(reg) adv => _,
            xa = inout(reg) oend => _,
            xb = out(reg) _,
            w = out(reg) _,
            t = out(reg) _,
            x = inout(reg) xb.as_ptr() => _,
            wp = inout(reg) w.as_ptr().wrapping_add(k0) => _,
            o = inout(reg) op => _,
            ns = in(reg) 4 * n,
        )
    };
}

/// One group of the 3 × 1 tile (`xb` per group: `[e0 e1 e2 o0 o1 o2]`): the weight word, its low
/// lanes against rows 0 to 2, its high lanes against rows 0 to 2.
macro_rules! group_3x1 {
    () => {
        concat!(
            "ldr {w}, [{wp}], #4\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a0}, {xa}, {t}, {a0}\n",
            "smlad {a1}, {xb}, {t}, {a1}\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smlad {a2}, {xa}, {t}, {a2}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a0}, {xb}, {w}, {a0}\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "smlad {a1}, {xa}, {w}, {a1}\n",
            "smlad {a2}, {xb}, {w}, {a2}\n",
        )
    };
}

/// As [`sums_4x1`] for 3 activation rows (per group `[e0 e1 e2 o0 o1 o2]`).
fn sums_3x1(o: &mut [f32], xb: &[u32], w: &[i8], k: usize, k0: usize, n: usize) {
    let groups = xb.len() / 6;
    let fits = groups > 0 && n > 0 && o.len() >= 3 * n && k0 + 4 * groups <= k && w.len() >= n * k;
    if !fits {
        debug_assert!(false, "sums_3x1: shapes");
        return;
    }
    let (skip, end) = k_entry(xb, groups, 6, 48, 8);
    let op = o.as_mut_ptr();
    let oend = op.wrapping_add(n);
    // From the end of one column's chunk to the start of the next one's.
    let adv = k - 4 * groups;
    // SAFETY: as in `sums_4x1`, with 3 rows: reads `xb[..6 groups]` (word-aligned, as LDRD needs)
    // and, for each column `j < n`, `w[j k + k0..j k + k0 + 4 groups]` (LDR, any alignment on
    // Armv7-M), within `w` as checked above; reads and writes `o[r n + j]` for `r < 3`, `j < n`
    // (`ns` = `4n` bytes), within `o`. `x` advances 24 bytes and `wp` 4 per group; each column's
    // `k` loop runs exactly `groups` groups (`k_entry`) and stops when `x` reaches `end`; the
    // column loop stops when `o` reaches `oend`. Uses 24 bytes of stack below `sp`, restored
    // before the end; writes nothing else but the declared registers.
    unsafe {
        asm!(
            "sub sp, sp, #24",
            "str {a1}, [sp, #4]", // end
            k_entry!("a0"),
            "strd {a2}, {xa}, [sp, #8]", // xb, adv
            "str {xb}, [sp, #16]",       // oend
            "6:",
            "ldr {a0}, [{o}]",
            "ldr {a1}, [{o}, {ns}]",
            "ldr {a2}, [{o}, {ns}, lsl #1]",
            k_loop!(group_3x1, 8),
            "str {a1}, [{o}, {ns}]",
            "str {a2}, [{o}, {ns}, lsl #1]",
            "str {a0}, [{o}], #4",
            "ldr {t}, [sp, #12]",
            "add {wp}, {wp}, {t}",
            "ldr {x}, [sp, #8]",
            "ldr {t}, [sp, #16]",
            "cmp {o}, {t}",
            "bne 6b",
            "add sp, sp, #24",
            a0 = inout(reg) skip => _,
            a1 = inout(reg) end => _,
            a2 = inout(reg) xb.as_ptr() => _,
            xa = inout(reg) adv => _,
            xb = inout(reg) oend => _,
            w = out(reg) _,
            t = out(reg) _,
            x = inout(reg) xb.as_ptr() => _,
            wp = inout(reg) w.as_ptr().wrapping_add(k0) => _,
            o = inout(reg) op => _,
            ns = in(reg) 4 * n,
        )
    };
}

/// One group of the 2 × 2 tile: both weight words (the second `k` bytes on), the rows' `[x0, x2]`
/// pairs against the low lanes, then their `[x1, x3]` pairs against the high lanes.
macro_rules! group_2x2 {
    () => {
        concat!(
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "ldr.w {v}, [{wp}, {k}]\n",
            "ldr {w}, [{wp}], #4\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a00}, {xa}, {t}, {a00}\n",
            "smlad {a10}, {xb}, {t}, {a10}\n",
            "sxtb16 {t}, {v}\n",
            "smlad {a01}, {xa}, {t}, {a01}\n",
            "smlad {a11}, {xb}, {t}, {a11}\n",
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a00}, {xa}, {w}, {a00}\n",
            "smlad {a10}, {xb}, {w}, {a10}\n",
            "sxtb16 {v}, {v}, ror #8\n",
            "smlad {a01}, {xa}, {v}, {a01}\n",
            "smlad {a11}, {xb}, {v}, {a11}\n",
        )
    };
}

/// Adds to the raw `i32` sums in `o` (`[2, n]`, as bits) the products of the 2 activation rows in
/// `xb` (per group `[e0 e1 o0 o1]`) with `w[j, k0..k0 + 4 · groups]` for every column `j < n`:
/// columns in pairs in one `asm!` block (each weight word serves two rows, each activation pair two
/// columns), then the odd last one in Rust.
fn sums_2x2(o: &mut [f32], xb: &[u32], w: &[i8], k: usize, k0: usize, n: usize) {
    let groups = xb.len() / 4;
    let n2 = n & !1;
    let fits = groups > 0 && n2 > 0 && o.len() >= 2 * n && k0 + 4 * groups <= k && w.len() >= n * k;
    if !fits {
        debug_assert!(false, "sums_2x2: shapes");
        return;
    }
    let (skip, end) = k_entry(xb, groups, 4, 64, 8);
    let (o0, o1) = o.split_at_mut(n);
    let (p0, p1) = (o0.as_mut_ptr(), o1.as_mut_ptr());
    let oend = p0.wrapping_add(n2);
    // From the end of one column pair's chunk to the start of the next pair's.
    let adv = 2 * k - 4 * groups;
    // SAFETY: reads `xb[..4 groups]` (word-aligned, as LDRD needs) and, for each column `j < n2`,
    // `w[j k + k0..j k + k0 + 4 groups]` (LDR, any alignment on Armv7-M), within `w` as checked
    // above; reads and writes `o0[..n2]`, `o1[..n2]` (LDRD/STRD: `f32` slices are word-aligned).
    // `x` advances 16 bytes and `wp` 4 per group; each pair's `k` loop enters its unrolled body so
    // that it runs exactly `groups` groups (`k_entry`) and stops when `x` reaches `end`; the pair
    // loop stops when the row-0 pointer reaches `oend`. Uses 32 bytes of stack below `sp`,
    // restored before the end; writes nothing else but the declared registers.
    unsafe {
        asm!(
            "sub sp, sp, #32",
            "str {a01}, [sp, #4]",         // end
            k_entry!("a00"),
            "strd {a10}, {a11}, [sp, #8]", // xb, adv
            "strd {xa}, {xb}, [sp, #16]",  // row pointers
            "str {w}, [sp, #24]",          // oend
            "6:",
            "ldrd {xa}, {xb}, [sp, #16]",
            "ldrd {a00}, {a01}, [{xa}]",
            "ldrd {a10}, {a11}, [{xb}]",
            k_loop!(group_2x2, 8),
            "ldrd {xa}, {xb}, [sp, #16]",
            "strd {a00}, {a01}, [{xa}], #8",
            "strd {a10}, {a11}, [{xb}], #8",
            "strd {xa}, {xb}, [sp, #16]",
            "ldr {t}, [sp, #12]",
            "add {wp}, {wp}, {t}",
            "ldr {x}, [sp, #8]",
            "ldr {t}, [sp, #24]",
            "cmp {xa}, {t}",
            "bne 6b",
            "add sp, sp, #32",
            a00 = inout(reg) skip => _,
            a01 = inout(reg) end => _,
            a10 = inout(reg) xb.as_ptr() => _,
            a11 = inout(reg) adv => _,
            xa = inout(reg) p0 => _,
            xb = inout(reg) p1 => _,
            w = inout(reg) oend => _,
            v = out(reg) _,
            t = out(reg) _,
            x = inout(reg) xb.as_ptr() => _,
            wp = inout(reg) w.as_ptr().wrapping_add(k0) => _,
            k = in(reg) k,
        )
    };
    if let (true, Some(a), Some(b)) = (n2 < n, o0.get_mut(n2), o1.get_mut(n2)) {
        let acc = dot_buf::<2>([a.to_bits() as i32, b.to_bits() as i32], xb, after(w, n2 * k + k0));
        (*a, *b) = (f32::from_bits(acc[0] as u32), f32::from_bits(acc[1] as u32));
    }
}

/// One activation row against every weight row: the 1 × 2 tile (`gemv_1x2`) where it applies
/// (`k` a multiple of 8 up to the buffer's 512, word-aligned weights, an `eabihf` target for its
/// VFP epilogue), else the direct path.
fn row1(
    o: &mut [f32],
    buf: &mut [MaybeUninit<u32>; XBUF_WORDS],
    x: &[i16],
    sx: f32,
    w: &[i8],
    ws: &[f32],
    k: usize,
) {
    let n = o.len();
    let fast = cfg!(target_abi = "eabihf")
        && k.is_multiple_of(8)
        && k <= 2 * XBUF_WORDS
        && (w.as_ptr() as usize).is_multiple_of(4)
        && x.len() == k
        && w.len() == n * k
        && ws.len() == n;
    if !fast {
        return direct(o, x, &[sx], w, ws, k, n);
    }
    let xb = permute::<1>(buf, x, k, 0, k);
    let n2 = n & !1;
    gemv_1x2(head_mut(o, n2), xb, head(w, n2 * k), head(ws, n2), sx, k);
    if let (Some(o), Some(&s)) = (o.get_mut(n2), ws.get(n2)) {
        let [a] = dot_buf::<1>([0], xb, after(w, n2 * k));
        *o = (a as f32 * sx) * s;
    }
}

/// Two groups of the 1 × 2 tile: the row's activation pairs of both groups, then per weight row
/// (`wp0`, `wp1`) two weight words at once (`LDRD`) against them.
#[cfg(target_abi = "eabihf")]
macro_rules! step_1x2 {
    () => {
        concat!(
            "ldrd {xa}, {xb}, [{x}], #8\n",
            "ldrd {xc}, {xd}, [{x}], #8\n",
            "ldrd {wl}, {wh}, [{wp0}], #8\n",
            "sxtb16 {t}, {wl}\n",
            "smlad {a0}, {xa}, {t}, {a0}\n",
            "sxtb16 {wl}, {wl}, ror #8\n",
            "smlad {a0}, {xb}, {wl}, {a0}\n",
            "sxtb16 {t}, {wh}\n",
            "smlad {a0}, {xc}, {t}, {a0}\n",
            "sxtb16 {wh}, {wh}, ror #8\n",
            "smlad {a0}, {xd}, {wh}, {a0}\n",
            "ldrd {wl}, {wh}, [{wp1}], #8\n",
            "sxtb16 {t}, {wl}\n",
            "smlad {a1}, {xa}, {t}, {a1}\n",
            "sxtb16 {wl}, {wl}, ror #8\n",
            "smlad {a1}, {xb}, {wl}, {a1}\n",
            "sxtb16 {t}, {wh}\n",
            "smlad {a1}, {xc}, {t}, {a1}\n",
            "sxtb16 {wh}, {wh}, ror #8\n",
            "smlad {a1}, {xd}, {wh}, {a1}\n",
        )
    };
}

/// `o[j] = ((Σ_p x[p]·w[j, p]) as f32 · sx) · ws[j]` for the `o.len()` (even) columns, one
/// activation row (`xb`: per group `[e, o]`, an even number of groups covering all of `k`):
/// columns in pairs, each activation word pair serving two weight rows, the float epilogue in
/// VFP. The whole column loop is one `asm!` block.
#[cfg(target_abi = "eabihf")]
fn gemv_1x2(o: &mut [f32], xb: &[u32], w: &[i8], ws: &[f32], sx: f32, k: usize) {
    let steps = xb.len() / 4; // two groups each
    let n2 = o.len() & !1;
    let fits = steps > 0
        && 8 * steps == k
        && n2 > 0
        && w.len() >= n2 * k
        && ws.len() >= n2
        && (w.as_ptr() as usize).is_multiple_of(4);
    if !fits {
        debug_assert!(false, "gemv_1x2: shapes");
        return;
    }
    let (skip, end) = k_entry(xb, steps, 4, 80, 16);
    let op = o.as_mut_ptr();
    let oend = op.wrapping_add(n2);
    // SAFETY: reads `xb[..4 steps]` (word-aligned) and, for each column `j < n2`, `w[j k..j k + k]`
    // with LDRD (word-aligned: `w` is, and `k` is a multiple of 8), `ws[..n2]`, and writes
    // `o[..n2]`, all within their slices as checked above. `x` advances 16 bytes and `wp0`, `wp1`
    // (two rows) 8 per step; each pair's `k` loop enters its unrolled body so that it runs exactly
    // `steps` steps (`k_entry`) and stops when `x` reaches `end`, after which the row pointers move
    // on by `k` to the next pair; the pair loop stops when the output
    // pointer reaches `oend`. Saves s0-s4 (which `asm!` cannot declare as clobbered on a
    // single-precision FPU) and uses 32 more bytes of stack below `sp`, all restored before the
    // end; writes nothing else but the declared registers.
    unsafe {
        asm!(
            "vpush {{s0-s4}}",
            "vmov s4, {wh}",               // sx
            "sub sp, sp, #32",
            "str {a1}, [sp, #4]",          // end
            k_entry!("a0"),
            "strd {xa}, {xb}, [sp, #8]",   // xb, k
            "strd {xc}, {xd}, [sp, #16]",  // o, ws
            "str {wl}, [sp, #24]",         // oend
            "6:",
            "mov {a0}, #0",
            "mov {a1}, #0",
            k_loop!(step_1x2, 16),
            "vmov s0, s1, {a0}, {a1}",
            "vcvt.f32.s32 s0, s0",
            "vcvt.f32.s32 s1, s1",
            "vmul.f32 s0, s0, s4",
            "vmul.f32 s1, s1, s4",
            "ldrd {xa}, {xb}, [sp, #16]",
            "vldmia {xb}!, {{s2, s3}}",
            "vmul.f32 s0, s0, s2",
            "vmul.f32 s1, s1, s3",
            "vstmia {xa}!, {{s0, s1}}",
            "strd {xa}, {xb}, [sp, #16]",
            "ldr {t}, [sp, #12]",
            "add {wp0}, {wp0}, {t}",
            "add {wp1}, {wp1}, {t}",
            "ldr {x}, [sp, #8]",
            "ldr {t}, [sp, #24]",
            "cmp {xa}, {t}",
            "bne 6b",
            "add sp, sp, #32",
            "vpop {{s0-s4}}",
            a0 = inout(reg) skip => _,
            a1 = inout(reg) end => _,
            xa = inout(reg) xb.as_ptr() => _,
            xb = inout(reg) k => _,
            xc = inout(reg) op => _,
            xd = inout(reg) ws.as_ptr() => _,
            wl = inout(reg) oend => _,
            wh = inout(reg) sx.to_bits() => _,
            t = out(reg) _,
            x = inout(reg) xb.as_ptr() => _,
            wp0 = inout(reg) w.as_ptr() => _,
            wp1 = inout(reg) w.as_ptr().wrapping_add(k) => _,
        )
    };
}

/// Never called: `row1` takes the direct path without an FPU calling convention.
#[cfg(not(target_abi = "eabihf"))]
fn gemv_1x2(_: &mut [f32], _: &[u32], _: &[i8], _: &[f32], _: f32, _: usize) {}

// ------------------------------------------------------------------------------------------------
// Direct path (n < 3: one attention value channel at a time; k < 4)

/// Row by row, the activation pairs made in registers (`PKHBT`/`PKHTB`); four weight rows (then
/// two, then one) share each pair.
fn direct(out: &mut [f32], xq: &[i16], xs: &[f32], w: &[i8], ws: &[f32], k: usize, n: usize) {
    let k4 = k & !3;
    for ((orow, xrow), &sx) in out.chunks_exact_mut(n.max(1)).zip(xq.chunks_exact(k.max(1))).zip(xs) {
        let (xv, xt) = xrow.split_at(k4.min(xrow.len()));
        // Four columns at a time: each rearranged activation group (2 loads + 2 packs) serves
        // four weight words (1 load + 2 SXTB16 + 2 SMLAD each).
        let n4 = n & !3;
        for (o4, (w4, s4)) in head_mut(orow, n4)
            .chunks_exact_mut(4)
            .zip(head(w, n4 * k).chunks_exact((4 * k).max(1)).zip(head(ws, n4).chunks_exact(4)))
        {
            let mut w4 = w4.chunks_exact(k.max(1));
            let (Some(w0), Some(w1), Some(w2), Some(w3)) = (w4.next(), w4.next(), w4.next(), w4.next())
            else {
                continue;
            };
            let ((w0v, w0t), (w1v, w1t)) = (split(w0, k4), split(w1, k4));
            let ((w2v, w2t), (w3v, w3t)) = (split(w2, k4), split(w3, k4));
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
        let (orow, w, ws) = (orow.get_mut(n4..).unwrap_or_default(), after(w, n4 * k), after(ws, n4));
        let n = n - n4;
        let mut j = 0;
        // Then two columns at a time.
        for (o2, (w2, s2)) in
            orow.chunks_exact_mut(2).zip(w.chunks_exact((2 * k).max(1)).zip(ws.chunks_exact(2)))
        {
            let (w0, w1) = split(w2, k);
            let ((w0v, w0t), (w1v, w1t)) = (split(w0, k4), split(w1, k4));
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
        if let (true, Some(o), Some(&s)) = (j < n, orow.get_mut(j), ws.get(j)) {
            let (w0v, w0t) = split(rows(w, j, 1, k), k4);
            let mut a0 = 0i32;
            for (x4, g0) in xv.chunks_exact(4).zip(w0v.chunks_exact(4)) {
                let (xe, xo) = x_lanes(x4);
                a0 = mac4(a0, xe, xo, g0);
            }
            a0 = tail(a0, xt, w0t);
            *o = (a0 as f32 * sx) * s;
        }
    }
}

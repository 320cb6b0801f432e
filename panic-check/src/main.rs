//! The inference path, linked with a panic handler that calls an undefined symbol: the binary only
//! links if the optimiser removed every panic (bounds checks, divisions, unwraps) from it.
//!
//! Inputs come through [`core::hint::black_box`], so nothing about the blob, the text, the arena
//! size or the sampler settings is known at compile time: every check the library makes on them has
//! to be one the optimiser can prove, or a typed error. The binary is never run.
#![no_std]
#![no_main]

use core::hint::black_box;
use picoformer::{
    Bert, Decoder, Generator, GeneratorOptions, KvPrecision, Limits, Prediction, Sampler, SamplerSettings,
    Session, SessionOptions,
};

/// Stands for a model blob in flash: its contents and length are opaque to the compiler.
static BLOB: [u8; 64] = [0; 64];
/// Stands for the caller's arena.
static mut ARENA: [u8; 1 << 16] = [0; 1 << 16];

fn blob() -> &'static [u8] {
    black_box(&BLOB[..])
}

fn arena() -> &'static mut [u8] {
    // SAFETY: called once per run of `inference`, which the entry point calls once; no other
    // reference to ARENA exists while the returned one lives.
    let arena = unsafe { &mut *core::ptr::addr_of_mut!(ARENA) };
    black_box(arena)
}

fn text() -> &'static str {
    black_box("an opaque sentence of [MASK] length")
}

/// Encoder: parse, check, arena size, session, tokenize, classify, embed, fill-mask.
fn encoder() -> u32 {
    let mut acc = 0u32;
    let Ok(model) = Bert::from_bytes(blob()) else { return 1 };
    if model.check_finite().is_err() {
        return 2;
    }
    let opts: SessionOptions = black_box(SessionOptions::new(black_box(64)).with_kv(KvPrecision::I8));
    if model.arena_len_with(&opts).is_err() {
        return 3;
    }
    let Ok(mut session) = Session::with_options(&model, arena(), &opts) else { return 4 };
    if let Ok(enc) = session.tokenize(text()) {
        acc += enc.len as u32;
    }
    if let Ok(c) = session.classify(text()) {
        acc += c.label as u32 + c.probs.len() as u32;
        acc += model.label(c.label).map_or(0, str::len) as u32;
    }
    if let Ok(e) = session.embed(text()) {
        acc += e.len() as u32;
    }
    let mut positions = [0usize; 4];
    if let Ok(masked) = session.run_masked(text(), &mut positions) {
        let first = masked.first().copied();
        let mut top = [Prediction::default(); 5];
        if let Some(pos) = first {
            if let Ok(p) = session.fill_mask_at(pos, &mut top) {
                acc += p.len() as u32;
            }
        }
    }
    if let Ok(l) = session.mlm_logits(black_box(0)) {
        acc += l.len() as u32;
    }
    acc
}

/// Decoder: parse, check, arena size, generator, prompt, sampled steps, detokenized pieces.
fn decoder() -> u32 {
    let mut acc = 0u32;
    let Ok(model) = Decoder::from_bytes(blob()) else { return 1 };
    if model.check_finite().is_err() {
        return 2;
    }
    let opts: GeneratorOptions = black_box(GeneratorOptions::new(black_box(32)));
    if model.arena_len(&opts).is_err() {
        return 3;
    }
    let Ok(mut generator) = Generator::new(&model, arena(), &opts) else { return 4 };
    let Ok(mut sampler) = Sampler::new(black_box(SamplerSettings::GREEDY)) else { return 5 };
    if generator.feed_text(text()).is_err() {
        return 6;
    }
    let _ = generator.feed(black_box(&[1, 2, 3]));
    let stop = black_box([7u32]);
    let limits = Limits { max_tokens: black_box(4), stop_ids: &stop };
    for _ in 0..black_box(4) {
        match generator.next(&mut sampler, &limits) {
            Ok(step) => acc += step.text.len() as u32,
            Err(_) => break,
        }
    }
    if let Ok(rest) = generator.finish() {
        acc += rest.len() as u32;
    }
    acc
}

fn inference() -> u32 {
    encoder().wrapping_add(decoder())
}

#[cfg(target_os = "none")]
#[no_mangle]
pub extern "C" fn _start() -> ! {
    black_box(inference());
    loop {}
}

#[cfg(not(target_os = "none"))]
#[link(name = "c")]
extern "C" {}

#[cfg(not(target_os = "none"))]
#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    black_box(inference()) as i32
}

#[cfg(not(panic_check_locate))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    extern "C" {
        /// Defined nowhere: a panic path left in the inference path makes the link fail here.
        fn picoformer_inference_path_can_panic() -> !;
    }
    // SAFETY: never linked; the build fails before anything could call it.
    unsafe { picoformer_inference_path_can_panic() }
}

/// `--cfg panic_check_locate`: the binary links, so the remaining panic calls can be listed with
/// their source lines (check.sh --locate).
#[cfg(panic_check_locate)]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

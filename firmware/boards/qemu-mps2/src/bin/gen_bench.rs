//! Instruction-count benchmark of the tiny GPT: feeds BOS and the prompt "Call me", then calls
//! greedy `Generator::next` until the context is full (`Stop::ContextFull` after position
//! `GPT_CONTEXT - 1`; an end-of-text token does not stop it), with [`app::icount_mark`] right
//! before (`2 * k`) and right after (`2 * k + 1`) the `k`-th call. Logs `STEP k=.. pos=.. id=..`
//! for every call (`pos`: the position of the new token, whose forward step attends over
//! `pos + 1` keys), so `firmware/icount.sh` and `ci.sh` can pick the counts of given positions.
#![no_std]
#![no_main]

use cortex_m as _; // critical-section implementation (single core)
use cortex_m_rt::entry;
use picoformer::format::Aligned;
use picoformer::{Decoder, Generator, Limits, Sampler, SamplerSettings, Stop};
use picoformer_app::{self as app, GPT_ARENA_LEN, GPT_CONTEXT, GPT_MODEL};
use picoformer_qemu_mps2 as fw;

/// The prompt (with BOS, fewer than 16 tokens: position 16 is a generated one).
const PROMPT: &str = "Call me";

#[entry]
fn main() -> ! {
    let arena: &'static mut Aligned<[u8; GPT_ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; GPT_ARENA_LEN]> = Aligned([0; GPT_ARENA_LEN])).unwrap();
    let model = Decoder::from_bytes(&GPT_MODEL.0).unwrap_or_else(|e| fail("model", e));
    let opts = app::generator_options();
    let mut gen = Generator::new(&model, &mut arena.0, &opts).unwrap_or_else(|e| fail("generator", e));
    let mut sampler = Sampler::new(SamplerSettings::GREEDY).unwrap_or_else(|e| fail("sampler", e));

    if let (true, Some(bos)) = (model.add_bos(), model.bos()) {
        gen.feed(&[bos]).unwrap_or_else(|e| fail("feed BOS", e));
    }
    gen.feed_text(PROMPT).unwrap_or_else(|e| fail("feed_text", e));
    let prompt = gen.ids().len();
    defmt::info!(
        "BENCH prompt={=str:?} prompt_tokens={=usize} context={=usize}",
        PROMPT,
        prompt,
        GPT_CONTEXT
    );
    if prompt >= 16 {
        defmt::error!("BENCH the prompt has {=usize} tokens, expected fewer than 16", prompt);
        fw::exit(fw::EXIT_ERROR);
    }

    // No token limit: only a full context ends the loop (an end-of-text token is stepped over).
    let limits = Limits { max_tokens: 0, stop_ids: &[] };
    let mut k = 0u32;
    let stop = loop {
        let pos = gen.ids().len();
        app::icount_mark(2 * k);
        let step = gen.next(&mut sampler, &limits);
        app::icount_mark(2 * k + 1);
        let step = step.unwrap_or_else(|e| fail("next", e));
        defmt::info!("STEP k={=u32} pos={=usize} id={=u32}", k, pos, step.id);
        k += 1;
        match step.stop {
            Some(Stop::Eos) | None => {}
            Some(stop) => break stop,
        }
    };
    let len = gen.ids().len();
    if stop != Stop::ContextFull || len != GPT_CONTEXT {
        defmt::error!(
            "BENCH stopped with {} at {=usize} tokens, expected ContextFull at {=usize}",
            stop,
            len,
            GPT_CONTEXT
        );
        fw::exit(fw::EXIT_ERROR);
    }
    defmt::info!("BENCH DONE steps={=u32} tokens={=usize}", k, len);
    fw::exit(0)
}

fn fail(what: &str, e: picoformer::Error) -> ! {
    defmt::error!("{=str} failed: {}", what, e);
    fw::exit(fw::EXIT_ERROR)
}

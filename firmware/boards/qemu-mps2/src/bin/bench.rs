//! Instruction-count benchmark: classifies inputs of exactly 16, 32 and 64 tokens ([CLS] and [SEP]
//! included; the text is made of words that are single tokens in the bundled model's vocabulary,
//! and the count is checked on device) and calls [`app::icount_mark`] right before and right after each
//! `Session::classify` (tokenize + encoder + pooler + head). `firmware/icount.sh` runs it under QEMU
//! with the instruction-counting plugin and reads the counts between those marks.
#![no_std]
#![no_main]

use cortex_m as _; // critical-section implementation (single core)
use cortex_m_rt::entry;
use picoformer::format::Aligned;
use picoformer::{Bert, Session};
use picoformer_app::{self as app, ARENA_LEN, MODEL};
use picoformer_qemu_mps2 as fw;

/// Words cycled to build the inputs (each must be one token; checked via the total count).
const WORDS: [&str; 8] = ["the", "movie", "was", "good", "and", "the", "story", "fun"];
/// Token counts measured, in order.
const LENS: [usize; 3] = [16, 32, 64];

#[entry]
fn main() -> ! {
    let arena: &'static mut Aligned<[u8; ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; ARENA_LEN]> = Aligned([0; ARENA_LEN])).unwrap();
    let model = Bert::from_bytes(&MODEL.0).unwrap_or_else(|e| fail("model", e));
    let opts = app::session_options();
    let mut session =
        Session::with_options(&model, &mut arena.0, &opts).unwrap_or_else(|e| fail("session", e));

    let mut buf = [0u8; 1024];
    for (i, &want) in LENS.iter().enumerate() {
        // want - 2 words ([CLS] and [SEP] are added by the tokenizer).
        let mut len = 0;
        for w in 0..want - 2 {
            if w > 0 {
                buf[len] = b' ';
                len += 1;
            }
            let word = WORDS[w % WORDS.len()].as_bytes();
            buf[len..len + word.len()].copy_from_slice(word);
            len += word.len();
        }
        let text = core::str::from_utf8(&buf[..len]).unwrap();
        app::icount_mark(2 * i as u32);
        let label = match session.classify(text) {
            Ok(c) => c.label,
            Err(e) => fail("classify", e),
        };
        app::icount_mark(2 * i as u32 + 1);
        let tokens = session.ids().len();
        defmt::info!("BENCH tokens={=usize} label={=str}", tokens, model.label(label).unwrap_or("?"));
        if tokens != want {
            defmt::error!("BENCH expected {=usize} tokens, got {=usize}", want, tokens);
            fw::exit(fw::EXIT_ERROR);
        }
    }
    defmt::info!("BENCH DONE");
    fw::exit(0)
}

fn fail(what: &str, e: picoformer::Error) -> ! {
    defmt::error!("{=str} failed: {}", what, e);
    fw::exit(fw::EXIT_ERROR)
}

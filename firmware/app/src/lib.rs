//! The picoformer firmware application, written only against traits so that every board runs the
//! same code: sentences come in through an [`embedded_io::Read`] stream (a UART), each result goes
//! out on [`embedded_hal::digital::OutputPin`]s (a busy pin, one pin per label) and in the defmt
//! log, time comes from an [`embedded_hal::delay::DelayNs`] and a [`CycleCounter`].
//!
//! ```text
//! UART (embedded_hal_nb serial) -> IdleRead (+ DelayNs: silence = end of stream) -> LineReader
//!   -> App::run: each line (or, when none came, the compiled-in SENTENCES)
//!        -> Session::classify (MODEL in flash, the board's static arena of ARENA_LEN bytes)
//!        -> busy / label pins, `RESULT idx=.. label=.. cycles=..` log line
//! ```
//! A board crate (`firmware/boards/*`) only builds those parts from its HAL, picks the defmt
//! transport and the panic handler, and calls [`App::run`]. No board type appears here; the
//! `cortex-m` feature adds [`Dwt`], the cycle counter all Cortex-M boards share.
//!
//! The same plumbing runs the bundled tiny GPT ([`GenApp`]): prompts in over the UART (or the
//! compiled-in [`PROMPTS`]), greedy tokens out in the defmt log, one `TOKEN` line each.
//! ```text
//! LineReader -> GenApp::run: each line (or PROMPTS) -> Generator (GPT_MODEL in flash, an arena of
//!   GPT_ARENA_LEN bytes): reset, BOS, feed_text, next() x up to MAX_NEW -> `TOKEN` / `GEN` lines
//! ```
#![no_std]
#![deny(missing_docs)]

mod app;
#[cfg(feature = "cortex-m")]
mod dwt;
mod gen;
mod lines;

pub use app::{App, Config, CycleCounter, Indicators, NoCycles, NoPin, LINE_LEN, MAX_LABELS};
#[cfg(feature = "cortex-m")]
pub use dwt::Dwt;
pub use gen::{GenApp, Generation, MAX_NEW};
pub use lines::{IdleRead, LineReader};

use picoformer::format::Aligned;
use picoformer::{GeneratorOptions, KvPrecision, SessionOptions};

include!(concat!(env!("OUT_DIR"), "/arena.rs"));

/// The bundled sentiment model (int4), in flash, 32-byte aligned as the format requires.
pub static MODEL: Aligned<[u8; MODEL_LEN]> = Aligned(*include_bytes!("../../../models/sentiment.pfm"));

/// The sentences classified when no UART input arrives (one per line; ci.sh feeds the same file
/// to the host).
pub const SENTENCES: &str = include_str!("../../sentences.txt");

/// The options `ARENA_LEN` was computed for: 64 tokens, 2 rows at a time, int8 keys and values.
pub const fn session_options() -> SessionOptions {
    SessionOptions::new(MAX_SEQ).with_chunk(CHUNK).with_kv(KvPrecision::I8)
}

/// The bundled tiny GPT (Llama architecture, int8 weights: models/tiny-gpt-int8.pfm), in flash,
/// 32-byte aligned; another blob when built with `PICOFORMER_GPT_BLOB=/path/to/blob.pfm` (build.rs
/// copies the chosen blob into `OUT_DIR` and sizes the arena for it).
pub static GPT_MODEL: Aligned<[u8; GPT_MODEL_LEN]> =
    Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/tiny-gpt.pfm")));

/// The prompts continued when no UART input arrives (one per line; ci.sh feeds the same file to
/// the host).
pub const PROMPTS: &str = include_str!("../../prompts.txt");

/// The options `GPT_ARENA_LEN` was computed for: a context of `GPT_CONTEXT` (256) positions,
/// prompts run `GPT_CHUNK` (4) tokens per step, int8 keys and values, greedy decoding only (no
/// sampling scratch). build.rs writes both constants; `Generator::new` fails with `ArenaTooSmall`
/// if these options need more than it measured.
pub const fn generator_options() -> GeneratorOptions {
    GeneratorOptions::new(GPT_CONTEXT).with_chunk(GPT_CHUNK).with_kv(KvPrecision::I8).with_sampling(false)
}

/// The marker the QEMU instruction-count plugin watches (`mark=0x<address>`, from `nm`): it counts
/// the guest instructions between consecutive calls. [`App`] calls it right before (`2 * idx`) and
/// right after (`2 * idx + 1`) each `Session::classify`, [`GenApp`] right before (`2 * k`) and
/// right after (`2 * k + 1`) the `k`-th `Generator::next` of the run (all prompts together). On
/// hardware it costs a call and a return.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_mark(id: u32) {
    // Keep the call and the argument from being optimised away.
    core::hint::black_box(id);
}

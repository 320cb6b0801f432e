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
#![no_std]
#![deny(missing_docs)]

mod app;
#[cfg(feature = "cortex-m")]
mod dwt;
mod lines;

pub use app::{App, Config, CycleCounter, Indicators, NoCycles, NoPin, LINE_LEN, MAX_LABELS};
#[cfg(feature = "cortex-m")]
pub use dwt::Dwt;
pub use lines::{IdleRead, LineReader};

use picoformer::format::Aligned;
use picoformer::{KvPrecision, SessionOptions};

include!(concat!(env!("OUT_DIR"), "/arena.rs"));

/// The bundled int8 sentiment model, in flash, 32-byte aligned as the format requires.
pub static MODEL: Aligned<[u8; MODEL_LEN]> = Aligned(*include_bytes!("../../../models/sentiment-int8.pfm"));

/// The sentences classified when no UART input arrives (one per line; ci.sh feeds the same file
/// to the host).
pub const SENTENCES: &str = include_str!("../../sentences.txt");

/// The options `ARENA_LEN` was computed for: 64 tokens, 2 rows at a time, int8 keys and values.
pub const fn session_options() -> SessionOptions {
    SessionOptions::new(MAX_SEQ).with_chunk(CHUNK).with_kv(KvPrecision::I8)
}

/// The marker the QEMU instruction-count plugin watches (`mark=0x<address>`, from `nm`): it counts
/// the guest instructions between consecutive calls. [`App`] calls it right before (`2 * idx`) and
/// right after (`2 * idx + 1`) each `Session::classify`. On hardware it costs a call and a return.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_mark(id: u32) {
    // Keep the call and the argument from being optimised away.
    core::hint::black_box(id);
}

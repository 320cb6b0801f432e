//! NUCLEO-H743ZI (STM32H743ZI, Cortex-M7F at 400 MHz): [`picoformer_app::App`] on embassy-stm32,
//! used blocking (no executor); the board setup is in the crate's library ([`picoformer_stm32h743::init`]).
//!
//! - Input: USART3 on PD8 (TX) / PD9 (RX), the ST-LINK virtual COM port, 115200 8N1. Lines typed
//!   within 2 s of reset are classified; after 2 s of silence the compiled-in sentences are, then
//!   every later line.
//! - Output: LD2 (yellow, PE1) high while an inference runs; LD3 (red, PB14) = negative, LD1
//!   (green, PB0) = positive; the defmt log over RTT (`probe-rs run` prints it, with `cycles=`
//!   from the DWT cycle counter).
//! - Memory: the model in flash, the arena in DTCM (`memory.x`); I- and D-cache on.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt_rtt as _; // defmt over RTT
use embassy_time::Delay;
use panic_probe as _; // panics print over defmt and halt for the probe
use picoformer::format::Aligned;
use picoformer::Bert;
use picoformer_app::{App, Config, IdleRead, Indicators, ARENA_LEN, MODEL};

/// UART silence that ends an input stream, in ms.
const IDLE_MS: u32 = 2000;
/// Pause after each result so the LEDs can be seen, in ms.
const HOLD_MS: u32 = 300;

#[entry]
fn main() -> ! {
    let board = picoformer_stm32h743::init();

    // The arena: taken exactly once, no heap; DTCM (the RAM region of memory.x).
    let arena: &'static mut Aligned<[u8; ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; ARENA_LEN]> = Aligned([0; ARENA_LEN])).unwrap();
    let model = Bert::from_bytes(&MODEL.0).unwrap_or_else(|e| defmt::panic!("model: {}", e));
    let out = Indicators { busy: board.busy, labels: board.labels };
    let cfg = Config { hold_ms: HOLD_MS };
    let mut app = App::new(&model, &mut arena.0, out, Delay, board.cycles, cfg)
        .unwrap_or_else(|e| defmt::panic!("session: {}", e));

    let mut input = IdleRead::new(board.uart, Delay, IDLE_MS);
    if let Err(e) = app.run(&mut input) {
        defmt::panic!("classify: {}", e);
    }
    loop {
        if let Err(e) = app.serve(&mut input) {
            defmt::panic!("classify: {}", e);
        }
    }
}

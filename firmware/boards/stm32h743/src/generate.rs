//! NUCLEO-H743ZI (STM32H743ZI, Cortex-M7F at 400 MHz): the bundled tiny GPT with
//! [`picoformer_app::GenApp`], greedy, on the board setup of [`picoformer_stm32h743::init`].
//!
//! - Input: USART3 on PD8 (TX) / PD9 (RX), the ST-LINK virtual COM port, 115200 8N1. Prompts typed
//!   within 2 s of reset are continued; after 2 s of silence the compiled-in prompts are, then
//!   every later line.
//! - Output: LD2 (yellow, PE1) high while a prompt is continued; the tokens in the defmt log over
//!   RTT (`TOKEN .. cycles=..`: DWT cycles of each `Generator::next`).
//! - Memory: the model in flash, the arena (`GPT_ARENA_LEN`, int8 key/value cache for 256
//!   positions included) in DTCM with the stack (`memory.x`); I- and D-cache on.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt_rtt as _; // defmt over RTT
use embassy_time::Delay;
use panic_probe as _; // panics print over defmt and halt for the probe
use picoformer::format::Aligned;
use picoformer::Decoder;
use picoformer_app::{GenApp, IdleRead, GPT_ARENA_LEN, GPT_MODEL};

/// UART silence that ends an input stream, in ms.
const IDLE_MS: u32 = 2000;

#[entry]
fn main() -> ! {
    let board = picoformer_stm32h743::init();

    // The arena: taken exactly once, no heap; DTCM (the RAM region of memory.x).
    let arena: &'static mut Aligned<[u8; GPT_ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; GPT_ARENA_LEN]> = Aligned([0; GPT_ARENA_LEN])).unwrap();
    let model = Decoder::from_bytes(&GPT_MODEL.0).unwrap_or_else(|e| defmt::panic!("model: {}", e));
    let mut app = GenApp::new(&model, &mut arena.0, board.busy, board.cycles)
        .unwrap_or_else(|e| defmt::panic!("generator: {}", e));

    let mut input = IdleRead::new(board.uart, Delay, IDLE_MS);
    if let Err(e) = app.run(&mut input) {
        defmt::panic!("generate: {}", e);
    }
    loop {
        if let Err(e) = app.serve(&mut input) {
            defmt::panic!("generate: {}", e);
        }
    }
}

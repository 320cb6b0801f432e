//! Raspberry Pi Pico 2 (RP2350, Cortex-M33 at 150 MHz, 4 MiB flash): [`picoformer_app::App`] on
//! rp235x-hal; the board setup is in the crate's library ([`picoformer_rp2350::init`]). The core's
//! SXTB16/SMLAD kernels run here (`target-cpu=cortex-m33` in `.cargo/config.toml` enables the DSP
//! extension; the root build script sets `picoformer_dsp`).
//!
//! - Input: UART0 on GP0 (TX) / GP1 (RX), 115200 8N1. Lines typed within 2 s of reset are
//!   classified; after 2 s of silence the compiled-in sentences are, then every later line.
//! - Output: the on-board LED (GP25) is lit while an inference runs; GP14 = negative, GP15 =
//!   positive (an LED with a resistor on each); the defmt log over RTT (`probe-rs run` prints it,
//!   with `cycles=` from the DWT cycle counter).
//! - Memory: the model stays in flash (execute-in-place), the arena in SRAM.
#![no_std]
#![no_main]

use defmt_rtt as _; // defmt over RTT
use panic_probe as _; // panics print over defmt and halt for the probe
use picoformer::format::Aligned;
use picoformer::Bert;
use picoformer_app::{App, Config, IdleRead, Indicators, ARENA_LEN, MODEL};
use rp235x_hal as hal;

/// Tells the boot ROM this is a secure Arm executable (`.start_block`, placed by memory.x).
#[link_section = ".start_block"]
#[used]
pub static IMAGE_DEF: hal::block::ImageDef = hal::block::ImageDef::secure_exe();

/// UART silence that ends an input stream, in ms.
const IDLE_MS: u32 = 2000;
/// Pause after each result so the LEDs can be seen, in ms.
const HOLD_MS: u32 = 300;

#[hal::entry]
fn main() -> ! {
    let board = picoformer_rp2350::init();

    // The arena: taken exactly once, no heap.
    let arena: &'static mut Aligned<[u8; ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; ARENA_LEN]> = Aligned([0; ARENA_LEN])).unwrap();
    let model = Bert::from_bytes(&MODEL.0).unwrap_or_else(|e| defmt::panic!("model: {}", e));
    let out = Indicators { busy: board.busy, labels: board.labels };
    let cfg = Config { hold_ms: HOLD_MS };
    let mut app = App::new(&model, &mut arena.0, out, board.timer, board.cycles, cfg)
        .unwrap_or_else(|e| defmt::panic!("session: {}", e));

    let mut input = IdleRead::new(board.uart, board.timer, IDLE_MS);
    if let Err(e) = app.run(&mut input) {
        defmt::panic!("classify: {}", e);
    }
    loop {
        if let Err(e) = app.serve(&mut input) {
            defmt::panic!("classify: {}", e);
        }
    }
}

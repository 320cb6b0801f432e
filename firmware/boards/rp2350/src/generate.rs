//! Raspberry Pi Pico 2 (RP2350, Cortex-M33 at 150 MHz): the bundled tiny GPT with
//! [`picoformer_app::GenApp`], greedy, on the board setup of [`picoformer_rp2350::init`]; the
//! core's SXTB16/SMLAD kernels run here as for `rp2350-classify`.
//!
//! - Input: UART0 on GP0 (TX) / GP1 (RX), 115200 8N1. Prompts typed within 2 s of reset are
//!   continued; after 2 s of silence the compiled-in prompts are, then every later line.
//! - Output: the on-board LED (GP25) is lit while a prompt is continued; the tokens in the defmt
//!   log over RTT (`TOKEN .. cycles=..`: DWT cycles of each `Generator::next`).
//! - Memory: the model stays in flash (execute-in-place), the arena (`GPT_ARENA_LEN`, int8
//!   key/value cache for 256 positions included) in SRAM.
#![no_std]
#![no_main]

use defmt_rtt as _; // defmt over RTT
use panic_probe as _; // panics print over defmt and halt for the probe
use picoformer::format::Aligned;
use picoformer::Decoder;
use picoformer_app::{GenApp, IdleRead, GPT_ARENA_LEN, GPT_MODEL};
use rp235x_hal as hal;

/// Tells the boot ROM this is a secure Arm executable (`.start_block`, placed by memory.x).
#[link_section = ".start_block"]
#[used]
pub static IMAGE_DEF: hal::block::ImageDef = hal::block::ImageDef::secure_exe();

/// UART silence that ends an input stream, in ms.
const IDLE_MS: u32 = 2000;

#[hal::entry]
fn main() -> ! {
    let board = picoformer_rp2350::init();

    // The arena: taken exactly once, no heap.
    let arena: &'static mut Aligned<[u8; GPT_ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; GPT_ARENA_LEN]> = Aligned([0; GPT_ARENA_LEN])).unwrap();
    let model = Decoder::from_bytes(&GPT_MODEL.0).unwrap_or_else(|e| defmt::panic!("model: {}", e));
    let mut app = GenApp::new(&model, &mut arena.0, board.busy, board.cycles)
        .unwrap_or_else(|e| defmt::panic!("generator: {}", e));

    let mut input = IdleRead::new(board.uart, board.timer, IDLE_MS);
    if let Err(e) = app.run(&mut input) {
        defmt::panic!("generate: {}", e);
    }
    loop {
        if let Err(e) = app.serve(&mut input) {
            defmt::panic!("generate: {}", e);
        }
    }
}

//! QEMU mps2-an386: continues UART0 lines (until 500 ms of silence), or the compiled-in prompts
//! when none arrive, with the bundled tiny GPT and [`picoformer_app::GenApp`] (greedy, up to
//! `MAX_NEW` tokens each, one `TOKEN` defmt line per token, a `GEN` line per prompt). Logs the
//! stack high-water mark at the end (`STACK used=.. B`, measured in the 64 KiB below the top). Exit status: 0 done, 1 model/generator
//! error, 101 panic, 102 HardFault.
#![no_std]
#![no_main]

use cortex_m::peripheral::Peripherals;
use cortex_m_rt::entry;
use picoformer::format::Aligned;
use picoformer::Decoder;
use picoformer_app::{Dwt, GenApp, IdleRead, NoPin, GPT_ARENA_LEN, GPT_MODEL};
use picoformer_qemu_mps2::{self as board, stack, CmsdkUart, SysTickDelay, CORE_HZ};

/// UART silence that ends the input, in ms (`-serial none` in CI: nothing ever arrives).
const IDLE_MS: u32 = 500;

#[entry]
fn main() -> ! {
    let cp = Peripherals::take().unwrap();
    let cycles = Dwt::new(cp.DCB, cp.DWT);
    let delay = SysTickDelay::start(cp.SYST, CORE_HZ);
    // SAFETY: UART0 of the mps2 boards, used by nothing else.
    let uart = unsafe { CmsdkUart::new(CmsdkUart::UART0) };
    stack::paint();

    // The arena: taken exactly once, no heap.
    let arena: &'static mut Aligned<[u8; GPT_ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; GPT_ARENA_LEN]> = Aligned([0; GPT_ARENA_LEN])).unwrap();
    let model = Decoder::from_bytes(&GPT_MODEL.0).unwrap_or_else(|e| fail("model", e));
    let mut app = GenApp::new(&model, &mut arena.0, NoPin, cycles).unwrap_or_else(|e| fail("generator", e));

    if let Err(e) = app.run(IdleRead::new(uart, delay, IDLE_MS)) {
        fail("generate", e);
    }
    match stack::used() {
        Some(used) => defmt::info!("STACK used={=usize} B (arena {=usize} B static)", used, GPT_ARENA_LEN),
        None => defmt::warn!("STACK used more than the measured window"),
    }
    board::exit(0)
}

fn fail(what: &str, e: picoformer::Error) -> ! {
    defmt::error!("{=str} failed: {}", what, e);
    board::exit(board::EXIT_ERROR)
}

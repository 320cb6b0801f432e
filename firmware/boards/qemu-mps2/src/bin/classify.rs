//! QEMU mps2-an386: classifies UART0 lines (until 500 ms of silence), or the compiled-in sentences
//! when none arrive, with [`picoformer_app::App`]. LED 0 / LED 1 of the FPGA IO show the latest
//! label (negative / positive); at the end the `LED0` register is read back and must hold exactly
//! the last label's bit. Exit status: 0 done, 1 model/session/LED error, 101 panic, 102 HardFault.
#![no_std]
#![no_main]

use cortex_m::peripheral::Peripherals;
use cortex_m_rt::entry;
use picoformer::format::Aligned;
use picoformer::Bert;
use picoformer_app::{App, Config, Dwt, IdleRead, Indicators, NoPin, ARENA_LEN, MODEL};
use picoformer_qemu_mps2::{self as board, CmsdkUart, FpgaLed, SysTickDelay, CORE_HZ};

/// UART silence that ends the input, in ms (`-serial none` in CI: nothing ever arrives).
const IDLE_MS: u32 = 500;

#[entry]
fn main() -> ! {
    let cp = Peripherals::take().unwrap();
    let cycles = Dwt::new(cp.DCB, cp.DWT);
    // SysTick runs free from here on; the input reader and the app each get a copy of the delay.
    let delay = SysTickDelay::start(cp.SYST, CORE_HZ);
    // SAFETY: UART0 and the FPGAIO LEDs of the mps2 boards, used by nothing else.
    let (uart, leds) = unsafe { (CmsdkUart::new(CmsdkUart::UART0), [FpgaLed::new(0), FpgaLed::new(1)]) };

    // The arena: taken exactly once, no heap.
    let arena: &'static mut Aligned<[u8; ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; ARENA_LEN]> = Aligned([0; ARENA_LEN])).unwrap();
    let model = Bert::from_bytes(&MODEL.0).unwrap_or_else(|e| fail("model", e));
    let out = Indicators { busy: NoPin, labels: leds };
    let mut app = App::new(&model, &mut arena.0, out, delay, cycles, Config { hold_ms: 0 })
        .unwrap_or_else(|e| fail("session", e));

    let input = IdleRead::new(uart, delay, IDLE_MS);
    let last = match app.run(input) {
        Ok(_) => app.last_label(),
        Err(e) => fail("classify", e),
    };
    let led0 = FpgaLed::led0();
    let want = last.map_or(0, |l| 1 << l);
    defmt::info!("LEDS led0={=u32:#04b} last_label={=?}", led0, last);
    if led0 != want {
        defmt::error!("LED0 reads {=u32:#04b}, expected {=u32:#04b}", led0, want);
        board::exit(board::EXIT_ERROR);
    }
    board::exit(0)
}

fn fail(what: &str, e: picoformer::Error) -> ! {
    defmt::error!("{=str} failed: {}", what, e);
    board::exit(board::EXIT_ERROR)
}

//! NUCLEO-H743ZI (STM32H743ZI, Cortex-M7F at 400 MHz): [`picoformer_app::App`] on embassy-stm32,
//! used blocking (no executor).
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
use embassy_stm32::gpio::{Level, Output, Speed};
use embassy_stm32::usart::{self, Uart};
use embassy_time::Delay;
use panic_probe as _; // panics print over defmt and halt for the probe
use picoformer::format::Aligned;
use picoformer::Bert;
use picoformer_app::{App, Config, Dwt, IdleRead, Indicators, ARENA_LEN, MODEL};

/// UART silence that ends an input stream, in ms.
const IDLE_MS: u32 = 2000;
/// Pause after each result so the LEDs can be seen, in ms.
const HOLD_MS: u32 = 300;

#[entry]
fn main() -> ! {
    let p = embassy_stm32::init(clocks());
    let mut cp = cortex_m::Peripherals::take().unwrap();
    cp.SCB.enable_icache();
    cp.SCB.enable_dcache(&mut cp.CPUID);
    let cycles = Dwt::new(cp.DCB, cp.DWT);

    let busy = Output::new(p.PE1, Level::Low, Speed::Low);
    let labels = [Output::new(p.PB14, Level::Low, Speed::Low), Output::new(p.PB0, Level::Low, Speed::Low)];
    let uart = match Uart::new_blocking(p.USART3, p.PD9, p.PD8, usart::Config::default()) {
        Ok(u) => u,
        Err(_) => defmt::panic!("USART3 configuration"),
    };

    // The arena: taken exactly once, no heap; DTCM (the RAM region of memory.x).
    let arena: &'static mut Aligned<[u8; ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; ARENA_LEN]> = Aligned([0; ARENA_LEN])).unwrap();
    let model = Bert::from_bytes(&MODEL.0).unwrap_or_else(|e| defmt::panic!("model: {}", e));
    let out = Indicators { busy, labels };
    let cfg = Config { hold_ms: HOLD_MS };
    let mut app = App::new(&model, &mut arena.0, out, Delay, cycles, cfg)
        .unwrap_or_else(|e| defmt::panic!("session: {}", e));

    let mut input = IdleRead::new(uart, Delay, IDLE_MS);
    if let Err(e) = app.run(&mut input) {
        defmt::panic!("classify: {}", e);
    }
    loop {
        if let Err(e) = app.serve(&mut input) {
            defmt::panic!("classify: {}", e);
        }
    }
}

/// 400 MHz from the internal 64 MHz HSI through PLL1 (no crystal needed), VOS1.
fn clocks() -> embassy_stm32::Config {
    use embassy_stm32::rcc::*;
    let mut config = embassy_stm32::Config::default();
    config.rcc.hsi = Some(HSIPrescaler::DIV1);
    config.rcc.pll1 = Some(Pll {
        source: PllSource::HSI,
        prediv: PllPreDiv::DIV4, // 16 MHz
        mul: PllMul::MUL50,      // 800 MHz VCO
        fracn: None,
        divp: Some(PllDiv::DIV2), // 400 MHz
        divq: Some(PllDiv::DIV8), // 100 MHz
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV2; // 200 MHz
    config.rcc.apb1_pre = APBPrescaler::DIV2; // 100 MHz
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config.rcc.apb3_pre = APBPrescaler::DIV2;
    config.rcc.apb4_pre = APBPrescaler::DIV2;
    config.rcc.voltage_scale = VoltageScale::Scale1;
    config
}

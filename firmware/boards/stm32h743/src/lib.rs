//! Board layer for the NUCLEO-H743ZI (STM32H743ZI, Cortex-M7F at 400 MHz) on embassy-stm32, used
//! blocking (no executor): [`init`] sets the clocks and caches up and hands out the parts both
//! firmware bins use ([`Board`]).
//!
//! - USART3 on PD8 (TX) / PD9 (RX), the ST-LINK virtual COM port, 115200 8N1;
//! - LD2 (yellow, PE1): the busy pin; LD3 (red, PB14) and LD1 (green, PB0): the label pins;
//! - the DWT cycle counter; `embassy_time::Delay` (TIM time driver) for delays.
#![no_std]
#![deny(missing_docs)]

use embassy_stm32::gpio::{Level, Output, Speed};
use embassy_stm32::mode::Blocking;
use embassy_stm32::usart::{self, Uart};
use picoformer_app::Dwt;

/// The parts the firmware bins use.
pub struct Board {
    /// LD2 (yellow, PE1), low.
    pub busy: Output<'static>,
    /// LD3 (red, PB14), LD1 (green, PB0), low: the sentiment labels (negative, positive).
    pub labels: [Output<'static>; 2],
    /// USART3 (PD8 TX, PD9 RX), 115200 8N1.
    pub uart: Uart<'static, Blocking>,
    /// The DWT cycle counter, running.
    pub cycles: Dwt,
}

/// Clocks at 400 MHz, I- and D-cache on, the pins and the UART. Call once.
pub fn init() -> Board {
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
    Board { busy, labels, uart, cycles }
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

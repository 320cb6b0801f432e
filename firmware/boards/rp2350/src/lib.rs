//! Board layer for the Raspberry Pi Pico 2 (RP2350, Cortex-M33 at 150 MHz) on rp235x-hal: [`init`]
//! sets the clocks up and hands out the parts both firmware bins use ([`Board`]).
//!
//! - UART0 on GP0 (TX) / GP1 (RX), 115200 8N1;
//! - the on-board LED (GP25): the busy pin; GP14, GP15: the label pins (an LED with a resistor on
//!   each);
//! - the DWT cycle counter; TIMER0 for delays.
//!
//! Each bin also holds the image definition block the boot ROM needs (`IMAGE_DEF`).
#![no_std]
#![deny(missing_docs)]

use picoformer_app::Dwt;
use rp235x_hal as hal;

use hal::fugit::RateExtU32;
use hal::gpio::bank0::{Gpio0, Gpio1};
use hal::gpio::{DynPinId, FunctionSioOutput, FunctionUart, Pin, Pins, PullDown};
use hal::timer::CopyableTimer0;
use hal::uart::{DataBits, Enabled, StopBits, UartConfig, UartPeripheral};
use hal::Clock;

/// The Pico 2's crystal.
const XTAL_HZ: u32 = 12_000_000;

/// A push-pull output.
pub type OutPin = Pin<DynPinId, FunctionSioOutput, PullDown>;
/// UART0 on GP0 (TX) / GP1 (RX).
pub type Uart0 = UartPeripheral<
    Enabled,
    hal::pac::UART0,
    (Pin<Gpio0, FunctionUart, PullDown>, Pin<Gpio1, FunctionUart, PullDown>),
>;

/// The parts the firmware bins use.
pub struct Board {
    /// The on-board LED (GP25), low.
    pub busy: OutPin,
    /// GP14, GP15, low: the sentiment labels (negative, positive).
    pub labels: [OutPin; 2],
    /// UART0, 115200 8N1.
    pub uart: Uart0,
    /// TIMER0 (a `DelayNs`; copies share it).
    pub timer: hal::Timer<CopyableTimer0>,
    /// The DWT cycle counter, running.
    pub cycles: Dwt,
}

/// Clocks and PLLs from the 12 MHz crystal (150 MHz system clock), the pins, the UART and the
/// timer. Call once.
pub fn init() -> Board {
    let mut pac = hal::pac::Peripherals::take().unwrap();
    let cp = cortex_m::Peripherals::take().unwrap();
    let mut watchdog = hal::Watchdog::new(pac.WATCHDOG);
    let clocks = hal::clocks::init_clocks_and_plls(
        XTAL_HZ,
        pac.XOSC,
        pac.CLOCKS,
        pac.PLL_SYS,
        pac.PLL_USB,
        &mut pac.RESETS,
        &mut watchdog,
    )
    .unwrap_or_else(|_| defmt::panic!("clock setup"));
    let timer = hal::Timer::new_timer0(pac.TIMER0, &mut pac.RESETS, &clocks);
    let cycles = Dwt::new(cp.DCB, cp.DWT);

    let sio = hal::Sio::new(pac.SIO);
    let pins = Pins::new(pac.IO_BANK0, pac.PADS_BANK0, sio.gpio_bank0, &mut pac.RESETS);
    let busy = pins.gpio25.into_push_pull_output().into_dyn_pin();
    let labels = [
        pins.gpio14.into_push_pull_output().into_dyn_pin(),
        pins.gpio15.into_push_pull_output().into_dyn_pin(),
    ];
    let uart_pins = (pins.gpio0.into_function::<FunctionUart>(), pins.gpio1.into_function::<FunctionUart>());
    let uart = UartPeripheral::new(pac.UART0, uart_pins, &mut pac.RESETS)
        .enable(
            UartConfig::new(115_200.Hz(), DataBits::Eight, None, StopBits::One),
            clocks.peripheral_clock.freq(),
        )
        .unwrap_or_else(|_| defmt::panic!("UART0 configuration"));
    Board { busy, labels, uart, timer, cycles }
}

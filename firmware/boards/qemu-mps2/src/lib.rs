//! Board layer for QEMU mps2-an386 (Cortex-M4F), the board CI runs: the CMSDK UART0 as a
//! non-blocking serial receiver, the two FPGAIO LEDs as output pins, a delay over a free-running
//! SysTick, the defmt logger over semihosting, the panic and HardFault handlers, [`exit`] and a
//! stack high-water mark ([`stack`]).
#![no_std]
#![deny(missing_docs)]

use cortex_m_rt::{exception, ExceptionFrame};
use defmt_semihosting as _; // global defmt logger over semihosting stdout

mod delay;
mod led;
pub mod stack;
mod uart;
pub use delay::SysTickDelay;
pub use led::FpgaLed;
pub use uart::CmsdkUart;

/// SysTick (core) clock of the mps2 boards in QEMU, in Hz.
pub const CORE_HZ: u32 = 25_000_000;

/// Exit code after a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit code after a HardFault.
pub const EXIT_HARDFAULT: i32 = 102;
/// Exit code after a model, session or board error.
pub const EXIT_ERROR: i32 = 1;

/// A 32-bit LCG (Numerical Recipes constants) for the test data of the check and bench bins; the
/// top bits are the output.
pub struct Lcg(pub u32);

impl Lcg {
    /// The next 32-bit state.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }

    /// Uniform-ish in `lo..=hi`.
    pub fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + ((self.next() >> 8) % ((hi - lo + 1) as u32)) as i32
    }
}

/// Ends the program: under QEMU (or a probe with semihosting) `code` becomes the exit status.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("panic: {}", defmt::Display2Format(info));
    exit(EXIT_PANIC)
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#010x} lr={=u32:#010x}", ef.pc(), ef.lr());
    exit(EXIT_HARDFAULT)
}

//! The user LEDs of the mps2 FPGA IO block (`LED0` register at `0x4002_8000`, one bit per LED;
//! QEMU keeps the value, so it reads back) as [`OutputPin`]s.

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

use embedded_hal::digital::{ErrorType, OutputPin};

/// Address of the FPGAIO `LED0` register on mps2-an385/an386/an500.
const LED0: *mut u32 = 0x4002_8000 as *mut u32;

/// One FPGAIO LED (bit `bit` of `LED0`; mps2-an386 has LEDs 0 and 1).
pub struct FpgaLed {
    mask: u32,
}

impl FpgaLed {
    /// LED `bit`.
    ///
    /// # Safety
    /// Only the mps2 boards have the FPGAIO block; each bit must have at most one `FpgaLed`, and
    /// nothing else may write `LED0` (the update is a read-modify-write, single core, no interrupt
    /// touches it).
    pub unsafe fn new(bit: u32) -> Self {
        FpgaLed { mask: 1 << bit }
    }

    /// The whole `LED0` register (bit i = LED i).
    pub fn led0() -> u32 {
        // SAFETY: a read of the FPGAIO LED register, no side effects.
        unsafe { read_volatile(LED0) }
    }

    fn update(&mut self, on: bool) {
        let v = Self::led0();
        let v = if on { v | self.mask } else { v & !self.mask };
        // SAFETY: `new`'s contract: this bit is ours and only FpgaLeds write LED0.
        unsafe { write_volatile(LED0, v) }
    }
}

impl ErrorType for FpgaLed {
    type Error = Infallible;
}

impl OutputPin for FpgaLed {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.update(false);
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.update(true);
        Ok(())
    }
}

//! CMSDK APB UART (UART0 of the mps2 boards at `0x4000_4000`), polled, behind the non-blocking
//! [`embedded_hal_nb::serial::Read`] that the HALs' UARTs implement too.

use core::ptr::{read_volatile, write_volatile};

use embedded_hal_nb::serial::{ErrorKind, ErrorType, Read};

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;

/// A CMSDK UART in polled mode.
pub struct CmsdkUart {
    base: usize,
}

impl CmsdkUart {
    /// Base address of UART0 on mps2-an385/an386/an500.
    pub const UART0: usize = 0x4000_4000;

    /// Enables the receiver and transmitter of the UART at `base`.
    ///
    /// # Safety
    /// `base` must be a CMSDK UART that nothing else uses.
    pub unsafe fn new(base: usize) -> Self {
        write_volatile((base + CTRL) as *mut u32, CTRL_RX_EN | CTRL_TX_EN);
        CmsdkUart { base }
    }
}

impl ErrorType for CmsdkUart {
    type Error = ErrorKind;
}

impl Read<u8> for CmsdkUart {
    /// The received byte, or `WouldBlock` while the receive buffer is empty.
    fn read(&mut self) -> nb::Result<u8, ErrorKind> {
        // SAFETY: `new` was given a CMSDK UART; these are its STATE and DATA registers.
        unsafe {
            if read_volatile((self.base + STATE) as *const u32) & STATE_RX_FULL == 0 {
                return Err(nb::Error::WouldBlock);
            }
            Ok(read_volatile((self.base + DATA) as *const u32) as u8)
        }
    }
}

//! CMSDK APB UART (UART0 of the mps2 boards at `0x4000_4000`) behind [`embedded_io::Read`], and a
//! line reader written only against that trait.

use core::ptr::{read_volatile, write_volatile};

use embedded_io::{ErrorKind, ErrorType, Read};

const DATA: usize = 0x00;
const STATE: usize = 0x04;
const CTRL: usize = 0x08;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;

/// A CMSDK UART in polled mode. A stream that stays silent for `idle_polls` status reads is
/// treated as ended (`read` returns `Ok(0)`): with QEMU's `-serial none` no byte ever arrives.
pub struct CmsdkUart {
    base: usize,
    idle_polls: u32,
}

impl CmsdkUart {
    /// Base address of UART0 on mps2-an385/an386/an500.
    pub const UART0: usize = 0x4000_4000;

    /// Enables the receiver and transmitter of the UART at `base`.
    ///
    /// # Safety
    /// `base` must be a CMSDK UART that nothing else uses.
    pub unsafe fn new(base: usize, idle_polls: u32) -> Self {
        write_volatile((base + CTRL) as *mut u32, CTRL_RX_EN | CTRL_TX_EN);
        CmsdkUart { base, idle_polls }
    }

    fn try_byte(&mut self) -> Option<u8> {
        // SAFETY: `new` was given a CMSDK UART; these are its STATE and DATA registers.
        unsafe {
            if read_volatile((self.base + STATE) as *const u32) & STATE_RX_FULL == 0 {
                return None;
            }
            Some(read_volatile((self.base + DATA) as *const u32) as u8)
        }
    }
}

impl ErrorType for CmsdkUart {
    type Error = ErrorKind;
}

impl Read for CmsdkUart {
    /// Blocks for the first byte (up to the idle limit, then `Ok(0)`: end of stream), then takes
    /// whatever else is already waiting.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut polls = 0;
        let first = loop {
            if let Some(b) = self.try_byte() {
                break b;
            }
            polls += 1;
            if polls >= self.idle_polls {
                return Ok(0);
            }
        };
        buf[0] = first;
        let mut n = 1;
        while n < buf.len() {
            match self.try_byte() {
                Some(b) => {
                    buf[n] = b;
                    n += 1;
                }
                None => break,
            }
        }
        Ok(n)
    }
}

/// Splits any [`Read`] stream into `\n`-terminated lines (`\r` dropped) in a fixed buffer.
pub struct LineReader<R, const N: usize> {
    reader: R,
    buf: [u8; N],
    eof: bool,
}

impl<R: Read, const N: usize> LineReader<R, N> {
    /// Wraps `reader`.
    pub fn new(reader: R) -> Self {
        LineReader { reader, buf: [0; N], eof: false }
    }

    /// The next line (without its terminator; a longer line is cut at `N` bytes and the rest read
    /// as the next line), or `None` at end of stream. Invalid UTF-8 becomes an empty line.
    pub fn next_line(&mut self) -> Option<&str> {
        if self.eof {
            return None;
        }
        let mut len = 0;
        let mut byte = [0u8; 1];
        while len < N {
            match self.reader.read(&mut byte) {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) if byte[0] == b'\r' => {}
                Ok(1) => {
                    self.buf[len] = byte[0];
                    len += 1;
                }
                _ => {
                    self.eof = true;
                    if len == 0 {
                        return None;
                    }
                    break;
                }
            }
        }
        Some(core::str::from_utf8(&self.buf[..len]).unwrap_or(""))
    }
}

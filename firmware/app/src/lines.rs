//! Input plumbing, written against traits only: [`IdleRead`] turns a non-blocking serial receiver
//! (`embedded_hal_nb::serial::Read`, which the HALs' UARTs implement) and a [`DelayNs`] into an
//! [`embedded_io::Read`] stream that ends after a stretch of silence; [`LineReader`] splits any
//! such stream into lines.

use embedded_hal::delay::DelayNs;
use embedded_hal_nb::serial;
use embedded_io::{ErrorKind, ErrorType, Read};

use crate::LINE_LEN;

/// Poll period while waiting for the first byte of a read, in microseconds.
const POLL_US: u32 = 10;

/// A non-blocking serial receiver as a blocking [`Read`] stream: `read` waits for the first byte,
/// polling every 10 µs, and reports the end of the stream (`Ok(0)`) once `idle_ms` pass without
/// one; then it takes whatever else is already waiting. A receive error (overrun, framing,
/// parity, noise) drops that byte and is logged.
pub struct IdleRead<S, D> {
    serial: S,
    delay: D,
    idle_us: u32,
}

impl<S: serial::Read<u8>, D: DelayNs> IdleRead<S, D> {
    /// Wraps `serial`; `idle_ms` (at most 4,294,967) is the silence that ends the stream.
    pub fn new(serial: S, delay: D, idle_ms: u32) -> Self {
        IdleRead { serial, delay, idle_us: idle_ms.saturating_mul(1000) }
    }

    /// The next byte if one is waiting (receive errors are logged and skipped).
    fn try_byte(&mut self) -> Option<u8> {
        loop {
            match self.serial.read() {
                Ok(b) => return Some(b),
                Err(nb::Error::WouldBlock) => return None,
                Err(nb::Error::Other(_)) => defmt::warn!("UART receive error: byte dropped"),
            }
        }
    }
}

impl<S, D> ErrorType for IdleRead<S, D> {
    type Error = ErrorKind;
}

impl<S: serial::Read<u8>, D: DelayNs> Read for IdleRead<S, D> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let Some(first_slot) = buf.first_mut() else {
            return Ok(0);
        };
        let mut waited = 0u32;
        *first_slot = loop {
            if let Some(b) = self.try_byte() {
                break b;
            }
            if waited >= self.idle_us {
                return Ok(0);
            }
            self.delay.delay_us(POLL_US);
            waited = waited.saturating_add(POLL_US);
        };
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

/// The input of both apps: every non-empty line (trimmed) of `uart` goes to `f` until the stream
/// ends; when it ended before any, every non-empty line of the compiled-in `fallback` does
/// (logged as `no UART input: <job> the N compiled-in <items>`). Logs `DONE n=..` and returns how many lines `f` got;
/// stops at the first error `f` returns.
pub fn serve_or_fallback<R: Read, E>(
    uart: R,
    fallback: &str,
    (job, items): (&str, &str),
    mut f: impl FnMut(&str) -> Result<(), E>,
) -> Result<usize, E> {
    let mut n = each_line(uart, &mut f)?;
    if n == 0 {
        let count = fallback.lines().filter(|l| !l.trim().is_empty()).count();
        defmt::info!("no UART input: {=str} the {=usize} compiled-in {=str}", job, count, items);
        for line in fallback.lines().map(str::trim).filter(|l| !l.is_empty()) {
            f(line)?;
            n += 1;
        }
    }
    defmt::info!("DONE n={=usize}", n);
    Ok(n)
}

/// Every non-empty line (trimmed) of `uart` to `f` until the stream ends; returns how many.
pub fn each_line<R: Read, E>(uart: R, mut f: impl FnMut(&str) -> Result<(), E>) -> Result<usize, E> {
    let mut lines = LineReader::<R, LINE_LEN>::new(uart);
    let mut n = 0;
    while let Some(line) = lines.next_line() {
        let text = line.trim();
        if !text.is_empty() {
            f(text)?;
            n += 1;
        }
    }
    Ok(n)
}

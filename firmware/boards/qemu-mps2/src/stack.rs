//! Stack high-water mark: [`paint`] fills a window of free RAM below the current stack pointer
//! with a pattern, [`used`] later finds the lowest word the stack overwrote. Measured under QEMU,
//! it tells how much stack the application needs beside its static arena (the real boards' RAM
//! budgets rest on it).

use core::ptr::{read_volatile, write_volatile};

/// The fill word.
const PATTERN: u32 = 0xA5A5_5A5A;
/// Bytes below the stack pointer left alone while painting (`paint`'s own frame and calls).
const MARGIN: usize = 256;
/// Bytes of stack the measurement covers (more than any real board here leaves for the stack;
/// painting all of QEMU's 4 MiB would delay the start by a noticeable time).
const WINDOW: usize = 64 * 1024;

extern "C" {
    /// End of the statics (`.bss`, `.uninit`), from cortex-m-rt's `link.x`.
    static __sheap: u32;
    /// Top of the stack (initial stack pointer), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
}

/// Lowest painted address: `WINDOW` bytes below the top of the stack, not below the statics (only
/// the symbols' addresses are taken, never their values).
fn bottom() -> usize {
    let statics = core::ptr::addr_of!(__sheap) as usize;
    (top().saturating_sub(WINDOW) & !3).max(statics)
}

/// One past the top of the stack.
fn top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Fills the words from [`bottom`] up to `MARGIN` bytes below the stack pointer. Call once, early
/// in `main`.
#[inline(never)]
pub fn paint() {
    let end = cortex_m::register::msp::read() as usize - MARGIN;
    let mut p = bottom();
    while p + 4 <= end {
        // SAFETY: free RAM between the statics and the live stack (below the stack pointer, minus
        // a margin for this frame); nothing else uses it (no heap), word aligned.
        unsafe { write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
}

/// Bytes of stack used since [`paint`]: from the top of the stack down to the lowest word that
/// no longer holds the pattern; `None` when even the lowest painted word was overwritten (the
/// stack reached beyond the measured window).
pub fn used() -> Option<usize> {
    let (start, top) = (bottom(), top());
    let mut p = start;
    // SAFETY: reads of RAM between the statics and the stack top, word aligned.
    while p < top && unsafe { read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    (p > start).then(|| top - p)
}

//! Stack high-water mark: [`paint`] fills the free RAM between the statics and the current stack
//! pointer with a pattern, [`used`] later finds the lowest word the stack overwrote. Measured
//! under QEMU, it tells how much stack the application needs beside its static arena (the real
//! boards' RAM budgets rest on it).

use core::ptr::{read_volatile, write_volatile};

/// The fill word.
const PATTERN: u32 = 0xA5A5_5A5A;
/// Bytes below the stack pointer left alone while painting (`paint`'s own frame and calls).
const MARGIN: usize = 256;

extern "C" {
    /// End of the statics (`.bss`, `.uninit`), from cortex-m-rt's `link.x`.
    static __sheap: u32;
    /// Top of the stack (initial stack pointer), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
}

/// First byte after the statics (only the symbol's address is taken, never its value).
fn bottom() -> usize {
    core::ptr::addr_of!(__sheap) as usize
}

/// One past the top of the stack.
fn top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Fills the words from the end of the statics up to `MARGIN` bytes below the stack pointer.
/// Call once, early in `main`.
#[inline(never)]
pub fn paint() {
    let end = cortex_m::register::msp::read() as usize - MARGIN;
    let mut p = bottom();
    while p + 4 <= end {
        // SAFETY: free RAM between the statics and the live stack (below the stack pointer, minus
        // a margin for this frame); nothing else uses it (no heap), word aligned (`__sheap` is).
        unsafe { write_volatile(p as *mut u32, PATTERN) };
        p += 4;
    }
}

/// Bytes of stack used since [`paint`]: from the top of the stack down to the lowest word that
/// no longer holds the pattern.
pub fn used() -> usize {
    let mut p = bottom();
    let top = top();
    // SAFETY: reads of RAM between the statics and the stack top, word aligned.
    while p < top && unsafe { read_volatile(p as *const u32) } == PATTERN {
        p += 4;
    }
    top - p
}

//! Shared pieces of the picoformer firmware: the defmt logger (semihosting), the panic and
//! HardFault handlers, [`exit`], the CMSDK UART0 reader of the mps2 boards and the session
//! options the arena was sized for (`OUT_DIR/arena.rs`, written by `build.rs`).
#![no_std]
#![deny(missing_docs)]

use cortex_m_rt::{exception, ExceptionFrame};
use defmt_semihosting as _; // global defmt logger over semihosting stdout
use picoformer::{KvPrecision, SessionOptions};

mod uart;
pub use uart::{CmsdkUart, LineReader};

include!(concat!(env!("OUT_DIR"), "/arena.rs"));

/// The sentences classified when no UART input arrives (one per line; ci.sh feeds the same file
/// to the host tool).
pub const SENTENCES: &str = include_str!("../sentences.txt");

/// Exit code after a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit code after a HardFault.
pub const EXIT_HARDFAULT: i32 = 102;
/// Exit code after a model or session error.
pub const EXIT_ERROR: i32 = 1;

/// The options `ARENA_LEN` was computed for: 64 tokens, 2 rows at a time, int8 keys and values.
pub const fn session_options() -> SessionOptions {
    SessionOptions::new(MAX_SEQ).with_chunk(CHUNK).with_kv(KvPrecision::I8)
}

/// The marker the QEMU instruction-count plugin watches (`mark=0x<address>`, from `nm`): it counts
/// the guest instructions between consecutive calls. `id` only shows up in a debugger; on hardware
/// it costs a call and a return.
#[inline(never)]
#[no_mangle]
pub extern "C" fn icount_mark(id: u32) {
    // Keep the call and the argument from being optimised away.
    core::hint::black_box(id);
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

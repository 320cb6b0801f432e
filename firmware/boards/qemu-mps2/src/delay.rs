//! [`DelayNs`] over a free-running SysTick. It never stops the counter: under QEMU the SysTick
//! timer also wakes the emulator's main loop, which otherwise may never hand stdin bytes to the
//! polled UART.

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use embedded_hal::delay::DelayNs;

/// SysTick counts down from this value and wraps (24 bits).
const RELOAD: u32 = 0x00ff_ffff;

/// Busy-waits on the SysTick current value, counting wraps, so delays of any length work. A copy
/// only reads the counter, so the input reader and the app can each hold one.
#[derive(Clone, Copy)]
pub struct SysTickDelay {
    ticks_per_us: u32,
}

impl SysTickDelay {
    /// Starts SysTick free-running on the core clock (`core_hz`, at least 1 MHz), no interrupt,
    /// for good: `syst` is consumed.
    pub fn start(mut syst: SYST, core_hz: u32) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_counter();
        SysTickDelay { ticks_per_us: (core_hz / 1_000_000).max(1) }
    }

    fn wait_ticks(&mut self, mut ticks: u64) {
        let mut last = SYST::get_current();
        while ticks > 0 {
            let now = SYST::get_current();
            let passed = last.wrapping_sub(now) & RELOAD;
            ticks = ticks.saturating_sub(u64::from(passed));
            last = now;
        }
    }
}

impl DelayNs for SysTickDelay {
    fn delay_ns(&mut self, ns: u32) {
        let ticks = (u64::from(ns) * u64::from(self.ticks_per_us)).div_ceil(1000);
        self.wait_ticks(ticks);
    }

    fn delay_us(&mut self, us: u32) {
        self.wait_ticks(u64::from(us) * u64::from(self.ticks_per_us));
    }
}

//! The DWT cycle counter (CYCCNT) of Cortex-M3/M4/M7/M33 cores as a [`CycleCounter`].

use cortex_m::peripheral::{DCB, DWT};

use crate::app::CycleCounter;

/// CYCCNT, enabled by [`Dwt::new`]. Reports `None` when the counter does not run (QEMU does not
/// model it; a core may lack it).
pub struct Dwt {
    _dcb: DCB,
    _dwt: DWT,
    running: bool,
}

impl Dwt {
    /// Enables tracing and the cycle counter (removing the software lock some Cortex-M7 parts set,
    /// a no-op elsewhere) and checks that it counts.
    pub fn new(mut dcb: DCB, mut dwt: DWT) -> Self {
        dcb.enable_trace();
        DWT::unlock();
        dwt.enable_cycle_counter();
        let running = DWT::has_cycle_counter() && DWT::cycle_count() != DWT::cycle_count();
        Dwt { _dcb: dcb, _dwt: dwt, running }
    }
}

impl CycleCounter for Dwt {
    fn cycles(&mut self) -> Option<u32> {
        self.running.then(DWT::cycle_count)
    }
}

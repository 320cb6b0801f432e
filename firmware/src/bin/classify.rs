//! Classifies sentences with the bundled int8 sentiment model: lines from UART0 if any arrive,
//! else the compiled-in `sentences.txt`. One defmt line per sentence:
//! `RESULT idx=.. label=.. tokens=.. truncated=.. cycles=.. probs=[..] logits=[..]`.
//! [`fw::icount_mark`] is called right before and right after each `Session::classify`, so that under
//! QEMU the instruction-count plugin (`ci.sh`) reports the instructions of each inference.
#![no_std]
#![no_main]

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{Peripherals, DWT};
use cortex_m_rt::entry;
use picoformer::format::Aligned;
use picoformer::{Bert, Session};
use picoformer_firmware::{self as fw, CmsdkUart, LineReader, ARENA_LEN, SENTENCES};

const MODEL_BYTES: &[u8; fw::MODEL_LEN] = include_bytes!("../../../models/sentiment-int8.pfm");
/// The model, in flash, 32-byte aligned as the format requires.
static MODEL: Aligned<[u8; fw::MODEL_LEN]> = Aligned(*MODEL_BYTES);
/// Most labels a classification head may have here (the bundled model has 2).
const MAX_LABELS: usize = 8;

#[entry]
fn main() -> ! {
    let mut cp = Peripherals::take().unwrap();
    cp.DCB.enable_trace();
    cp.DWT.enable_cycle_counter();
    let cycles_ok = DWT::has_cycle_counter() && DWT::cycle_count() != DWT::cycle_count();
    if !cycles_ok {
        defmt::warn!("DWT cycle counter not running (QEMU does not model it): cycles=0");
    }

    // The arena: taken exactly once, no heap.
    let arena: &'static mut Aligned<[u8; ARENA_LEN]> =
        cortex_m::singleton!(: Aligned<[u8; ARENA_LEN]> = Aligned([0; ARENA_LEN])).unwrap();

    let model = match Bert::from_bytes(&MODEL.0) {
        Ok(m) => m,
        Err(e) => fail("model", e),
    };
    let opts = fw::session_options();
    let mut session = match Session::with_options(&model, &mut arena.0, &opts) {
        Ok(s) => s,
        Err(e) => fail("session", e),
    };
    defmt::info!(
        "model {=usize} B, arena {=usize} B, {}, labels {=usize}",
        fw::MODEL_LEN,
        ARENA_LEN,
        opts,
        model.n_labels()
    );

    // A free-running SysTick (no interrupt). Under QEMU its timer also wakes the emulator's main
    // loop, which otherwise may never hand stdin bytes to the UART while the guest polls.
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(0x00ff_ffff);
    cp.SYST.clear_current();
    cp.SYST.enable_counter();
    // SAFETY: UART0 of the mps2 boards, used by nothing else.
    let uart = unsafe { CmsdkUart::new(CmsdkUart::UART0, 2_000_000) };
    let mut lines = LineReader::<_, 256>::new(uart);
    let mut idx = 0;
    while let Some(line) = lines.next_line() {
        if !line.trim().is_empty() {
            classify(&mut session, &model, idx, line.trim(), cycles_ok);
            idx += 1;
        }
    }
    if idx == 0 {
        defmt::info!(
            "no UART input: classifying the {=usize} compiled-in sentences",
            SENTENCES.lines().count()
        );
        for line in SENTENCES.lines().map(str::trim).filter(|l| !l.is_empty()) {
            classify(&mut session, &model, idx, line, cycles_ok);
            idx += 1;
        }
    }
    defmt::info!("DONE n={=usize}", idx);
    fw::exit(0)
}

fn classify(session: &mut Session, model: &Bert, idx: usize, text: &str, cycles_ok: bool) {
    let mut probs = [0f32; MAX_LABELS];
    let mut logits = [0f32; MAX_LABELS];
    fw::icount_mark(2 * idx as u32);
    let t0 = DWT::cycle_count();
    let result = session.classify(text);
    let t1 = DWT::cycle_count();
    fw::icount_mark(2 * idx as u32 + 1);
    let (label, truncated, n) = match result {
        Ok(c) => {
            let n = c.probs.len().min(MAX_LABELS);
            probs[..n].copy_from_slice(&c.probs[..n]);
            logits[..n].copy_from_slice(&c.logits[..n]);
            (c.label, c.truncated, n)
        }
        Err(e) => fail("classify", e),
    };
    let cycles = if cycles_ok { t1.wrapping_sub(t0) } else { 0 };
    defmt::info!(
        "RESULT idx={=usize} label={=str} tokens={=usize} truncated={=bool} cycles={=u32} probs={=[?]} logits={=[?]}",
        idx,
        model.label(label).unwrap_or("?"),
        session.ids().len(),
        truncated,
        cycles,
        probs[..n],
        logits[..n]
    );
}

fn fail(what: &str, e: picoformer::Error) -> ! {
    defmt::error!("{=str} failed: {}", what, e);
    fw::exit(fw::EXIT_ERROR)
}

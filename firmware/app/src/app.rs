//! [`App`]: one classification session and the board's outputs, written against traits only.

use core::convert::Infallible;

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType, OutputPin};
use embedded_io::Read;
use picoformer::{Bert, Error, Session};

use crate::lines::{each_line, serve_or_fallback};
use crate::{icount_mark, session_options, MODEL_LEN, SENTENCES};

/// Most labels a classification head may have here (the bundled model has 2).
pub const MAX_LABELS: usize = 8;
/// Longest input line in bytes; a longer line is cut and the rest read as the next line.
pub const LINE_LEN: usize = 256;

/// A free-running 32-bit cycle counter, read right before and right after each inference.
pub trait CycleCounter {
    /// The current count, or `None` where no counter runs (QEMU does not model the DWT one).
    fn cycles(&mut self) -> Option<u32>;
}

/// No cycle counter: the log reports `cycles=0`.
pub struct NoCycles;

impl CycleCounter for NoCycles {
    fn cycles(&mut self) -> Option<u32> {
        None
    }
}

/// An output that goes nowhere, for boards without a pin to spare.
pub struct NoPin;

impl ErrorType for NoPin {
    type Error = Infallible;
}

impl OutputPin for NoPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// The pins the app drives: `busy` is high while an inference runs; `labels[i]` is high while
/// label `i` is the latest result (a label index `>= N` lights none of them).
pub struct Indicators<B, L, const N: usize> {
    /// High during `Session::classify`.
    pub busy: B,
    /// One pin per label, in the model's label order (the bundled model: 0 negative, 1 positive).
    pub labels: [L; N],
}

/// What a board chooses.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Milliseconds to pause after each result so that a person can see the label pins (0: no
    /// pause; the pins keep showing the latest result either way).
    pub hold_ms: u32,
}

/// The application: a session on the bundled model in the board's arena, plus the board's pins,
/// delay and cycle counter.
pub struct App<'m, 'a, B, L, D, C, const N: usize> {
    model: &'m Bert<'m>,
    session: Session<'m, 'a>,
    out: Indicators<B, L, N>,
    delay: D,
    clock: C,
    cfg: Config,
    /// Sentences classified so far: the `idx` of the next one.
    count: usize,
    /// The latest result's label index.
    last: Option<usize>,
}

impl<'m, 'a, B, L, D, C, const N: usize> App<'m, 'a, B, L, D, C, N>
where
    B: OutputPin,
    L: OutputPin,
    D: DelayNs,
    C: CycleCounter,
{
    /// Opens a session with [`session_options`] on `model` in `arena` (at least `ARENA_LEN` bytes,
    /// 32-byte aligned), turns every pin off and logs the model, arena and options.
    pub fn new(
        model: &'m Bert<'m>,
        arena: &'a mut [u8],
        out: Indicators<B, L, N>,
        delay: D,
        clock: C,
        cfg: Config,
    ) -> Result<Self, Error> {
        let opts = session_options();
        let arena_len = arena.len();
        let session = Session::with_options(model, arena, &opts)?;
        let mut app = App { model, session, out, delay, clock, cfg, count: 0, last: None };
        if app.clock.cycles().is_none() {
            defmt::warn!("DWT cycle counter not running (QEMU does not model it): cycles=0");
        }
        set(&mut app.out.busy, false);
        app.show(None);
        defmt::info!(
            "model {=usize} B, arena {=usize} B, {}, labels {=usize}",
            MODEL_LEN,
            arena_len,
            opts,
            model.n_labels()
        );
        Ok(app)
    }

    /// Classifies every line of `uart` until it ends; if it ended before any non-empty line, the
    /// compiled-in [`SENTENCES`]. Logs `DONE n=..` and returns the number of sentences.
    pub fn run<R: Read>(&mut self, uart: R) -> Result<usize, Error> {
        serve_or_fallback(uart, SENTENCES, ("classifying", "sentences"), |text| self.classify(text).map(drop))
    }

    /// Classifies every non-empty line of `uart` until the stream ends; returns how many.
    pub fn serve<R: Read>(&mut self, uart: R) -> Result<usize, Error> {
        each_line(uart, |text| self.classify(text).map(drop))
    }

    /// Classifies one sentence: busy pin high around the inference, `icount_mark` right before and
    /// right after `Session::classify`, then the label pins and one log line
    /// `RESULT idx=.. label=.. tokens=.. truncated=.. cycles=.. probs=[..] logits=[..]`.
    /// Returns the label index.
    pub fn classify(&mut self, text: &str) -> Result<usize, Error> {
        let idx = self.count;
        let mut probs = [0f32; MAX_LABELS];
        let mut logits = [0f32; MAX_LABELS];

        set(&mut self.out.busy, true);
        let t0 = self.clock.cycles();
        icount_mark(2 * idx as u32);
        let result = self.session.classify(text);
        icount_mark(2 * idx as u32 + 1);
        let t1 = self.clock.cycles();
        set(&mut self.out.busy, false);

        let c = result?;
        let n = c.probs.len().min(MAX_LABELS);
        probs[..n].copy_from_slice(&c.probs[..n]);
        logits[..n].copy_from_slice(&c.logits[..n]);
        let (label, truncated) = (c.label, c.truncated);
        let cycles = match (t0, t1) {
            (Some(a), Some(b)) => b.wrapping_sub(a),
            _ => 0,
        };

        self.show(Some(label));
        defmt::info!(
            "RESULT idx={=usize} label={=str} tokens={=usize} truncated={=bool} cycles={=u32} probs={=[?]} logits={=[?]}",
            idx,
            self.model.label(label).unwrap_or("?"),
            self.session.ids().len(),
            truncated,
            cycles,
            probs[..n],
            logits[..n]
        );
        self.count += 1;
        self.last = Some(label);
        if self.cfg.hold_ms > 0 {
            self.delay.delay_ms(self.cfg.hold_ms);
        }
        Ok(label)
    }

    /// The label index of the latest result (`None` before the first).
    pub fn last_label(&self) -> Option<usize> {
        self.last
    }

    /// Label pin `label` high, the others low (`None`: all low).
    fn show(&mut self, label: Option<usize>) {
        for (i, pin) in self.out.labels.iter_mut().enumerate() {
            set(pin, label == Some(i));
        }
    }
}

/// Drives `pin`; a pin error is logged and otherwise ignored (the result is in the log anyway).
pub(crate) fn set<P: OutputPin>(pin: &mut P, high: bool) {
    let r = if high { pin.set_high() } else { pin.set_low() };
    if r.is_err() {
        defmt::warn!("output pin error");
    }
}

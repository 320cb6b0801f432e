//! [`GenApp`]: greedy text generation with the bundled tiny GPT, written against traits only.

use embedded_hal::digital::OutputPin;
use embedded_io::Read;
use picoformer::sampler::argmax;
use picoformer::{Decoder, Error, Generator, Limits, Sampler, SamplerSettings, Stop};

use crate::app::{set, CycleCounter};
use crate::lines::{each_line, serve_or_fallback};
use crate::{generator_options, icount_mark, GPT_MODEL_LEN, PROMPTS};

/// Most new tokens per prompt (fewer when the model ends the text or the context fills up).
pub const MAX_NEW: usize = 32;

/// What one prompt gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// Prompt tokens in the context, BOS included.
    pub prompt_tokens: usize,
    /// Tokens generated after them.
    pub new_tokens: usize,
    /// Why generation stopped.
    pub stop: Stop,
}

/// The generation application: a generator on the tiny GPT in the board's arena, greedy
/// decoding, plus the board's busy pin and cycle counter.
pub struct GenApp<'m, 'a, B, C> {
    model: &'m Decoder<'m>,
    gen: Generator<'m, 'a>,
    sampler: Sampler,
    busy: B,
    clock: C,
    /// Prompts continued so far: the `idx` of the next one.
    count: usize,
    /// `Generator::next` calls so far (all prompts): the next token's `icount_mark` pair.
    steps: u32,
}

impl<'m, 'a, B: OutputPin, C: CycleCounter> GenApp<'m, 'a, B, C> {
    /// Carves a generator with [`generator_options`] from `arena` (at least `GPT_ARENA_LEN` bytes,
    /// 32-byte aligned), turns the busy pin off and logs the model, arena and options.
    pub fn new(model: &'m Decoder<'m>, arena: &'a mut [u8], busy: B, clock: C) -> Result<Self, Error> {
        let opts = generator_options();
        let arena_len = arena.len();
        let gen = Generator::new(model, arena, &opts)?;
        let sampler = Sampler::new(SamplerSettings::GREEDY)?;
        let mut app = GenApp { model, gen, sampler, busy, clock, count: 0, steps: 0 };
        if app.clock.cycles().is_none() {
            defmt::warn!("DWT cycle counter not running (QEMU does not model it): cycles=0");
        }
        set(&mut app.busy, false);
        defmt::info!(
            "model {=usize} B, arena {=usize} B, {}, vocab {=usize}, bos {=?} (added: {=bool}), greedy, max {=usize} new tokens",
            GPT_MODEL_LEN,
            arena_len,
            opts,
            model.config().vocab_size,
            model.bos(),
            model.add_bos(),
            MAX_NEW
        );
        Ok(app)
    }

    /// Continues every line of `uart` until it ends; if it ended before any non-empty line, the
    /// compiled-in [`PROMPTS`]. Logs `DONE n=..` and returns the number of prompts.
    pub fn run<R: Read>(&mut self, uart: R) -> Result<usize, Error> {
        serve_or_fallback(uart, PROMPTS, ("continuing", "prompts"), |text| self.take(text))
    }

    /// Continues every non-empty line of `uart` until the stream ends; returns how many lines
    /// came. A line the generator cannot take (more tokens than the context, a word longer than
    /// `max_word` bytes) is reported as `GEN idx=.. skipped: <error>` and the next one is served.
    pub fn serve<R: Read>(&mut self, uart: R) -> Result<usize, Error> {
        each_line(uart, |text| self.take(text))
    }

    /// One line of input: generated from, or reported and skipped when the generator cannot take it.
    fn take(&mut self, text: &str) -> Result<(), Error> {
        if let Err(e) = self.generate(text) {
            defmt::warn!("GEN idx={=usize} skipped: {}", self.count, e);
            self.count += 1;
        }
        Ok(())
    }

    /// Continues one prompt, busy pin high throughout: empties the context, feeds BOS (when the
    /// model adds one) and the prompt, then greedy `Generator::next` until a stop (end of text,
    /// [`MAX_NEW`] tokens, a full context). Logs one line per token
    /// `TOKEN idx=.. pos=.. id=.. logit=0x.. cycles=.. text=".."` (`logit`: the bits of the largest
    /// logit, the chosen token's; `cycles`: that `next` call), then
    /// `GEN idx=.. prompt_tokens=.. new_tokens=.. stop=.. ids=[..]` (every id in the context).
    pub fn generate(&mut self, prompt: &str) -> Result<Generation, Error> {
        let idx = self.count;
        set(&mut self.busy, true);
        let result = self.continue_prompt(idx, prompt);
        set(&mut self.busy, false);
        let g = result?;
        defmt::info!(
            "GEN idx={=usize} prompt_tokens={=usize} new_tokens={=usize} stop={} ids={=[?]}",
            idx,
            g.prompt_tokens,
            g.new_tokens,
            g.stop,
            self.gen.ids()
        );
        self.count += 1;
        Ok(g)
    }

    /// The work of [`generate`](Self::generate) before its `GEN` line.
    fn continue_prompt(&mut self, idx: usize, prompt: &str) -> Result<Generation, Error> {
        self.gen.reset();
        if let (true, Some(bos)) = (self.model.add_bos(), self.model.bos()) {
            self.gen.feed(&[bos])?;
        }
        self.gen.feed_text(prompt)?;
        let prompt_tokens = self.gen.ids().len();
        if prompt_tokens >= self.gen.options().context {
            return Ok(Generation { prompt_tokens, new_tokens: 0, stop: Stop::ContextFull });
        }
        let limits = Limits { max_tokens: MAX_NEW, stop_ids: &[] };
        let mut new_tokens = 0;
        let stop = loop {
            let pos = self.gen.ids().len();
            let logits = self.gen.logits();
            // Greedy picks the first largest logit: its bits make the parity check exact.
            let best = argmax(logits).unwrap_or(0);
            let logit = logits.get(best as usize).map_or(0, |l| l.to_bits());

            let t0 = self.clock.cycles();
            icount_mark(2 * self.steps);
            let step = self.gen.next(&mut self.sampler, &limits);
            icount_mark(2 * self.steps + 1);
            let t1 = self.clock.cycles();
            self.steps = self.steps.wrapping_add(1);

            let step = step?;
            new_tokens += 1;
            let cycles = match (t0, t1) {
                (Some(a), Some(b)) => b.wrapping_sub(a),
                _ => 0,
            };
            defmt::info!(
                "TOKEN idx={=usize} pos={=usize} id={=u32} logit={=u32:#010x} cycles={=u32} text={=str:?}",
                idx,
                pos,
                step.id,
                logit,
                cycles,
                step.text
            );
            if let Some(stop) = step.stop {
                break stop;
            }
        };
        let tail = self.gen.finish()?;
        if !tail.is_empty() {
            defmt::info!("TAIL idx={=usize} text={=str:?}", idx, tail);
        }
        Ok(Generation { prompt_tokens, new_tokens, stop })
    }
}

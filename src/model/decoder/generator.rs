//! Running a decoder: a [`Generator`] owns the carved arena (key/value cache included), takes a
//! prompt, and produces one token at a time with a [`Sampler`], each with its text piece, into
//! the arena: nothing is allocated.

use core::ops::ControlFlow;

use super::arena::State;
use super::forward::{forward, logits};
use super::model::Decoder;
use crate::bounded::{copy, head, span_mut};
use crate::model::{arena, GeneratorOptions};
use crate::sampler::Sampler;
use crate::tokenizer::bpe::Decoder as TextDecoder;
use crate::{Error, Result};

/// Why generation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Stop {
    /// The model produced its end-of-sequence token.
    Eos,
    /// The model produced one of the caller's stop tokens.
    StopToken,
    /// [`Limits::max_tokens`] tokens were produced.
    MaxTokens,
    /// The context is full: every position of the key/value cache holds a token. A longer
    /// generation needs a larger [`GeneratorOptions::context`] (nothing is evicted or wrapped).
    ContextFull,
}

/// When to stop, besides the end-of-sequence token and a full context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits<'s> {
    /// Most tokens to produce after the prompt (0: no limit but the context).
    pub max_tokens: usize,
    /// More ids that end the generation (e.g. ChatML's `<|im_end|>`).
    pub stop_ids: &'s [u32],
}

/// One generated token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'s> {
    /// The token id.
    pub id: u32,
    /// The text that became complete with it (UTF-8, possibly empty while a character spans
    /// tokens; special tokens give none).
    pub text: &'s str,
    /// Set on the last token of the generation.
    pub stop: Option<Stop>,
}

/// One decoder bound to one arena: a context of up to [`GeneratorOptions::context`] tokens.
pub struct Generator<'m, 'a> {
    model: &'m Decoder<'m>,
    st: State<'a>,
    opts: GeneratorOptions,
    /// Tokens in the context (positions used).
    len: usize,
    /// Tokens produced since the last prompt.
    produced: usize,
    text: TextDecoder<'m, 'm>,
}

impl<'m, 'a> Generator<'m, 'a> {
    /// Carves `arena` by `opts`. Needs [`Decoder::arena_len`]`(opts)` bytes, else
    /// `ArenaTooSmall` with the full need.
    pub fn new(model: &'m Decoder<'m>, arena: &'a mut [u8], opts: &GeneratorOptions) -> Result<Self> {
        model.check(opts)?;
        let st = arena::carve(arena, |c| State::layout(c, model, opts))?;
        let c = model.config();
        if c.uses_rope() {
            crate::model::ops::rope::inv_freq(st.inv_freq, c.rope_theta, c.rope_scaling);
        }
        st.logits.fill(0.0);
        let text = model.tokenizer().decoder(true);
        Ok(Generator { model, st, opts: *opts, len: 0, produced: 0, text })
    }

    /// The model.
    pub fn model(&self) -> &'m Decoder<'m> {
        self.model
    }

    /// The options the arena was carved for.
    pub fn options(&self) -> &GeneratorOptions {
        &self.opts
    }

    /// The tokens in the context, prompt and generated.
    pub fn ids(&self) -> &[u32] {
        &self.st.ids[..self.len]
    }

    /// Empties the context (the arena is reused as it is).
    pub fn reset(&mut self) {
        self.len = 0;
        self.produced = 0;
        self.text = self.model.tokenizer().decoder(true);
    }

    /// Next-token logits `[vocab]` after the last token fed or produced.
    pub fn logits(&self) -> &[f32] {
        self.st.logits
    }

    /// Appends `ids` to the context, `chunk` tokens per forward step; afterwards
    /// [`logits`](Self::logits) predicts the token after the last one. Fails (feeding nothing)
    /// with `BadSequenceLength` when they do not fit in the context, with `BadVocab` for an id
    /// outside the vocabulary.
    pub fn feed(&mut self, ids: &[u32]) -> Result<()> {
        self.check_room(ids)?;
        for chunk in ids.chunks(self.opts.chunk.max(1)) {
            self.run(chunk);
        }
        if !ids.is_empty() {
            // the last chunk's rows are in st.x: the last id is row (len - 1) % chunk
            logits(self.model, &mut self.st, (ids.len() - 1) % self.opts.chunk.max(1));
        }
        self.produced = 0;
        Ok(())
    }

    /// As [`feed`](Self::feed), calling `f(position, logits)` with the next-token logits at every
    /// position fed (for perplexity; costs one LM head per token).
    pub fn feed_with(&mut self, ids: &[u32], mut f: impl FnMut(usize, &[f32])) -> Result<()> {
        self.check_room(ids)?;
        for chunk in ids.chunks(self.opts.chunk.max(1)) {
            let p0 = self.len;
            self.run(chunk);
            for row in 0..chunk.len() {
                logits(self.model, &mut self.st, row);
                f(p0 + row, self.st.logits);
            }
        }
        self.produced = 0;
        Ok(())
    }

    /// Tokenizes `text` (no BOS: feed `model.bos()` first where the model wants one) and feeds
    /// the ids, up to `chunk` per forward step. Returns how many. Fails with `BufferTooSmall` for
    /// a word longer than [`GeneratorOptions::max_word`] bytes, `BadSequenceLength` when the prompt
    /// does not fit (the ids before the first that did not fit were fed).
    pub fn feed_text(&mut self, text: &str) -> Result<usize> {
        let (model, start, cap) = (self.model, self.len, self.opts.context);
        let word = core::mem::take(&mut self.st.word);
        let (mut pending, mut n, mut last) = ([0u32; 16], 0usize, 0usize);
        let step = pending.len().min(self.opts.chunk).max(1);
        let mut overflow = false;
        let r = model.tokenizer().for_each_id(text, word, |id| {
            if self.len + n >= cap {
                overflow = true;
                return ControlFlow::Break(());
            }
            if let Some(slot) = pending.get_mut(n) {
                *slot = id;
                n += 1;
            }
            if n >= step {
                self.run(head(&pending, n));
                (last, n) = (n, 0);
            }
            ControlFlow::Continue(())
        });
        if n > 0 {
            self.run(head(&pending, n));
            last = n;
        }
        self.st.word = word;
        if last > 0 {
            logits(self.model, &mut self.st, last - 1);
        }
        self.produced = 0;
        r?;
        if overflow {
            return Err(Error::BadSequenceLength { asked: cap + 1, max: cap });
        }
        Ok(self.len - start)
    }

    /// Samples the next token from [`logits`](Self::logits), appends it to the context and runs
    /// it, so that the logits predict the one after. The step says when to stop (end of sequence,
    /// a stop id, `max_tokens`, a full context); calling again after a stop continues if the
    /// context has room, else fails with `BadSequenceLength`. Nothing fed yet: `BadSequenceLength`;
    /// NaN or infinite logits: `NonFiniteOutput`.
    pub fn next(&mut self, sampler: &mut Sampler, limits: &Limits<'_>) -> Result<Step<'_>> {
        let cap = self.opts.context;
        if self.len == 0 || self.len >= cap {
            return Err(Error::BadSequenceLength { asked: self.len + 1, max: cap });
        }
        if !self.st.logits.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteOutput);
        }
        let recent = head(self.st.ids, self.len);
        let id = sampler.sample(self.st.logits, recent, self.st.sample)?;
        self.run(&[id]);
        logits(self.model, &mut self.st, 0);
        self.produced += 1;
        let stop = if Some(id) == self.model.eos() {
            Some(Stop::Eos)
        } else if limits.stop_ids.contains(&id) {
            Some(Stop::StopToken)
        } else if limits.max_tokens != 0 && self.produced >= limits.max_tokens {
            Some(Stop::MaxTokens)
        } else if self.len >= cap {
            Some(Stop::ContextFull)
        } else {
            None
        };
        let text = self.text.push(id, self.st.text)?;
        Ok(Step { id, text, stop })
    }

    /// The text held back at the end of a generation (an unfinished character: U+FFFD), after
    /// the last [`next`](Self::next).
    pub fn finish(&mut self) -> Result<&str> {
        self.text.finish(self.st.text)
    }

    /// Checks that `ids` fit in the context and the vocabulary.
    fn check_room(&self, ids: &[u32]) -> Result<()> {
        let cap = self.opts.context;
        if self.len + ids.len() > cap {
            return Err(Error::BadSequenceLength { asked: self.len + ids.len(), max: cap });
        }
        if ids.iter().any(|&id| id as usize >= self.model.config().vocab_size) {
            return Err(Error::BadVocab);
        }
        Ok(())
    }

    /// Runs `ids` (fitting, checked) at the next positions; their final hidden states are then
    /// in `st.x`.
    fn run(&mut self, ids: &[u32]) {
        let p0 = self.len;
        forward(self.model, &mut self.st, ids, p0);
        copy(span_mut(self.st.ids, p0, ids.len()), ids);
        self.len += ids.len();
    }
}

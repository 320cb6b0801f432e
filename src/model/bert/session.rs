//! Running a model: a [`Session`] owns the carved arena and turns text into embeddings, class
//! probabilities or masked-word predictions.

use super::arena::State;
use super::encoder::forward;
use super::model::{Bert, Head};
use crate::bounded::{copy, head, head_mut, rows};
use crate::format::Pooling;
use crate::kernels;
use crate::lexicon;
use crate::model::arena;
use crate::model::ops::linear::{linear, Observer};
use crate::model::SessionOptions;
use crate::tokenizer::Encoding;
use crate::{Error, Result};

/// One model bound to one arena, for sequences of up to `max_seq` tokens.
///
/// The arena holds the hidden states and the keys and values of all `max_seq` positions, plus
/// scratch for `chunk` rows ([`SessionOptions`]). With f32 keys and values ([`Session::new`]) the
/// first three take `3 * max_seq * H * 4` bytes; [`KvPrecision::I8`](crate::KvPrecision::I8) cuts keys
/// and values to `max_seq * (H + 4 * heads)` bytes each (about a quarter) at a small cost in
/// accuracy, and a small `chunk` shrinks the scratch. [`Bert::arena_len_with`] gives the exact size.
pub struct Session<'m, 'a> {
    model: &'m Bert<'m>,
    st: State<'a>,
    opts: SessionOptions,
    len: usize,
}

/// The result of [`Session::classify`].
#[derive(Debug, Clone, Copy)]
pub struct Classification<'s> {
    /// Index of the most probable label.
    pub label: usize,
    /// Softmax probabilities, one per label.
    pub probs: &'s [f32],
    /// Raw logits, one per label.
    pub logits: &'s [f32],
    /// Whether the input was cut to the maximum sequence length.
    pub truncated: bool,
}

/// One masked-word candidate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prediction {
    /// Token id.
    pub id: u32,
    /// Softmax probability over the vocabulary.
    pub prob: f32,
}

impl<'m, 'a> Session<'m, 'a> {
    /// Carves `arena` for sequences of up to `max_seq` tokens, all rows at once.
    /// Needs [`Bert::arena_len`]`(max_seq)` bytes.
    pub fn new(model: &'m Bert<'m>, arena: &'a mut [u8], max_seq: usize) -> Result<Self> {
        Session::with_chunk(model, arena, max_seq, max_seq)
    }

    /// As [`Session::new`], processing `chunk` rows at a time (see [`Bert::arena_len_chunked`]).
    pub fn with_chunk(
        model: &'m Bert<'m>,
        arena: &'a mut [u8],
        max_seq: usize,
        chunk: usize,
    ) -> Result<Self> {
        Session::with_options(model, arena, &SessionOptions::new(max_seq).with_chunk(chunk))
    }

    /// Carves `arena` by `opts` (sequence length, chunk, key/value precision). Needs
    /// [`Bert::arena_len_with`]`(opts)` bytes, else `ArenaTooSmall` with the full need.
    pub fn with_options(model: &'m Bert<'m>, arena: &'a mut [u8], opts: &SessionOptions) -> Result<Self> {
        model.check(opts)?;
        let st = arena::carve(arena, |c| State::layout(c, model, opts))?;
        Ok(Session { model, st, opts: *opts, len: 0 })
    }

    /// The options the arena was carved for.
    pub fn options(&self) -> &SessionOptions {
        &self.opts
    }

    /// The model.
    pub fn model(&self) -> &'m Bert<'m> {
        self.model
    }

    /// Maximum sequence length (including `[CLS]` and `[SEP]`).
    pub fn max_seq(&self) -> usize {
        self.opts.max_seq
    }

    /// Tokenizes `text` into the session's id buffer (no forward pass).
    pub fn tokenize(&mut self, text: &str) -> Result<Encoding> {
        let enc = self.model.tokenizer().encode(text, head_mut(self.st.ids, self.opts.max_seq))?;
        self.len = enc.len;
        Ok(enc)
    }

    /// Token ids of the last input.
    pub fn ids(&self) -> &[u32] {
        head(self.st.ids, self.len)
    }

    /// Tokenizes `text` and runs the encoder; the hidden states are then in [`Session::hidden`].
    pub fn run(&mut self, text: &str) -> Result<Encoding> {
        self.run_observed(text, &mut ())
    }

    /// As [`Session::run`], showing `obs` the input rows of every linear layer of the encoder
    /// (how the host tool calibrates activation smoothing).
    pub fn run_observed(&mut self, text: &str, obs: &mut impl Observer) -> Result<Encoding> {
        let enc = self.tokenize(text)?;
        forward(self.model, &mut self.st, enc.len, self.opts.chunk, obs);
        Ok(enc)
    }

    /// Final hidden states of the last run, `[len, H]` row-major.
    pub fn hidden(&self) -> &[f32] {
        head(self.st.x, self.len * self.model.config().hidden)
    }

    /// Sentence embedding `[H]` of `text` with the model's default pooling and normalization.
    pub fn embed(&mut self, text: &str) -> Result<&[f32]> {
        self.embed_with(text, self.model.pooling(), self.model.normalize())
    }

    /// Sentence embedding `[H]` with explicit pooling and L2 normalization.
    pub fn embed_with(&mut self, text: &str, pooling: Pooling, normalize: bool) -> Result<&[f32]> {
        if pooling == Pooling::Pooler && self.model.pooler().is_none() {
            return Err(Error::WrongTask);
        }
        self.run(text)?;
        self.pool(pooling);
        if normalize {
            kernels::l2_normalize(self.st.pooled);
        }
        if !self.st.pooled.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteOutput);
        }
        Ok(self.st.pooled)
    }

    /// Pools the hidden states into `st.pooled [H]`.
    fn pool(&mut self, pooling: Pooling) {
        let (h, len) = (self.model.config().hidden, self.len);
        let x = head(self.st.x, len * h);
        let pooled = &mut *self.st.pooled;
        match pooling {
            Pooling::Cls => copy(pooled, x),
            Pooling::Mean => {
                pooled.fill(0.0);
                for row in x.chunks_exact(h.max(1)) {
                    kernels::add_inplace(pooled, row);
                }
                kernels::scale_inplace(pooled, 1.0 / len.max(1) as f32);
            }
            Pooling::Pooler => {
                if let Some(p) = self.model.pooler() {
                    linear(pooled, head(x, h), p, self.st.xq, self.st.xs, 1);
                    kernels::tanh_inplace(pooled);
                }
            }
        }
    }

    /// Classifies `text`: `softmax(classifier(pooler(h_cls)))`; with a lexicon gate the two logits
    /// first move by -/+ half of `max * sigmoid(gate . pooled + bias) * compound(text)`.
    pub fn classify(&mut self, text: &str) -> Result<Classification<'_>> {
        let Head::Classifier(cls, gate) = *self.model.head() else {
            return Err(Error::WrongTask);
        };
        let enc = self.run(text)?;
        self.pool(Pooling::Pooler);
        let n = self.model.n_labels();
        let out = head_mut(self.st.out, 2 * n);
        let (logits, probs) = out.split_at_mut(n.min(out.len()));
        linear(logits, self.st.pooled, &cls, self.st.xq, self.st.xs, 1);
        if let Some(g) = gate {
            // margin += max * sigmoid(gate . pooled + bias) * compound: -/+ half on the two logits
            let mut z = [0.0f32];
            linear(&mut z, self.st.pooled, &g.gate, self.st.xq, self.st.xs, 1);
            let weight = g.max * (1.0 / (1.0 + libm::expf(-z[0])));
            let half = weight * lexicon::compound(&g.lexicon, text) as f32 * 0.5;
            if let [neg, pos] = logits {
                *neg -= half;
                *pos += half;
            }
        }
        copy(probs, logits);
        kernels::softmax(probs);
        if !logits.iter().chain(probs.iter()).all(|v| v.is_finite()) {
            return Err(Error::NonFiniteOutput);
        }
        let label = argmax(probs);
        Ok(Classification { label, probs, logits, truncated: enc.truncated })
    }

    /// Runs `text` and returns the positions of its `[MASK]` tokens (at most `out.len()`), or
    /// `NoMaskToken`.
    pub fn run_masked<'o>(&mut self, text: &str, out: &'o mut [usize]) -> Result<&'o [usize]> {
        if !matches!(self.model.head(), Head::Mlm(_)) {
            return Err(Error::WrongTask);
        }
        self.run(text)?;
        let mask = self.model.tokenizer().config().mask;
        let mut n = 0;
        for (pos, _) in self.ids().iter().enumerate().filter(|(_, &id)| id == mask) {
            if let Some(slot) = out.get_mut(n) {
                *slot = pos;
                n += 1;
            }
        }
        if n == 0 {
            return Err(Error::NoMaskToken);
        }
        Ok(head(out, n))
    }

    /// Vocabulary logits `[vocab]` at position `pos` of the last run (masked-LM models).
    pub fn mlm_logits(&mut self, pos: usize) -> Result<&[f32]> {
        let Head::Mlm(mlm) = *self.model.head() else {
            return Err(Error::WrongTask);
        };
        let (h, c) = (self.model.config().hidden, self.model.config());
        if pos >= self.len {
            return Err(Error::BufferTooSmall { needed: pos + 1, got: self.len });
        }
        let x = rows(self.st.x, pos, 1, h);
        linear(self.st.head, x, &mlm.transform, self.st.xq, self.st.xs, 1);
        kernels::gelu_erf(self.st.head);
        kernels::layer_norm(self.st.head, mlm.norm.weight, mlm.norm.bias, c.eps);
        linear(self.st.out, self.st.head, &mlm.decoder, self.st.xq, self.st.xs, 1);
        let logits = head(self.st.out, c.vocab_size);
        if !logits.iter().all(|v| v.is_finite()) {
            return Err(Error::NonFiniteOutput);
        }
        Ok(logits)
    }

    /// The `top.len()` most probable tokens at position `pos`, best first.
    pub fn fill_mask_at<'o>(&mut self, pos: usize, top: &'o mut [Prediction]) -> Result<&'o [Prediction]> {
        let logits = self.mlm_logits(pos)?;
        Ok(top_k(logits, top))
    }
}

/// Index of the first largest value (0 for an empty slice).
fn argmax(v: &[f32]) -> usize {
    let Some(&first) = v.first() else { return 0 };
    let (mut best, mut best_value) = (0, first);
    for (i, &x) in v.iter().enumerate() {
        if x > best_value {
            (best, best_value) = (i, x);
        }
    }
    best
}

/// Top-k of `softmax(logits)` into `top`, best first.
fn top_k<'o>(logits: &[f32], top: &'o mut [Prediction]) -> &'o [Prediction] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| libm::expf(l - max)).sum();
    let k = top.len().min(logits.len());
    let top = &mut top[..k];
    top.fill(Prediction { id: 0, prob: -1.0 });
    for (id, &l) in logits.iter().enumerate() {
        let p = libm::expf(l - max) / sum;
        if top.last().is_some_and(|last| p > last.prob) {
            // insert before the first lower probability; the last one drops out
            let at = top.iter().position(|t| t.prob < p).unwrap_or(k);
            let mut carry = Prediction { id: id as u32, prob: p };
            for slot in top.iter_mut().skip(at) {
                core::mem::swap(slot, &mut carry);
            }
        }
    }
    top
}

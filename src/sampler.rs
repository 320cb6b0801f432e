//! Next-token sampling: greedy, temperature, top-k, top-p (nucleus), min-p, repetition penalty and
//! a seeded RNG, allocation-free, with caller-owned scratch.
//!
//! ## Order of the processors
//! The same as Hugging Face `generate` (`GenerationMixin._get_logits_processor`, transformers 5.24):
//! repetition penalty (a logits processor, applied with or without sampling), then the sampling
//! warpers in the order temperature, top-k, top-p, min-p, then one draw from the softmax of what
//! is left. Greedy (`temperature == 0` or `top_k == 1`) is the argmax after the repetition penalty.
//!
//! | step | Hugging Face class | what it does here |
//! |---|---|---|
//! | repetition penalty | `RepetitionPenaltyLogitsProcessor` | each distinct id of `recent` (ids `>= vocab` ignored): `l < 0 ? l * r : l / r` |
//! | temperature | `TemperatureLogitsWarper` | `l / t` |
//! | top-k | `TopKLogitsWarper` | keep every id whose logit is `>=` the k-th largest (ties with the k-th are kept) |
//! | top-p | `TopPLogitsWarper` | keep id `i` (in descending order) while the mass of the ids before it is `< top_p` (at least one id) |
//! | min-p | `MinPLogitsWarper` | keep ids with `p >= min_p * p_max` |
//!
//! ## Numbers that are not numbers
//! A NaN logit is treated as `-inf` (never chosen while any other logit is a number). If every
//! logit is NaN or `-inf`, id 0 is returned (the first maximum). If some logits are `+inf`, they
//! share all the probability (sampling picks uniformly among them; greedy takes the first).
//!
//! ## Cost (V = vocabulary size, W = `recent.len()`, k = top-k)
//! - Greedy without a repetition penalty: one O(V) pass over `logits`, no scratch, no RNG draw.
//! - Otherwise: O(V) to clean the logits and fill the id scratch, O(W) for the penalty (duplicates
//!   are found with a mark bit in the scratch, not by searching `recent`).
//! - Top-k: O(V) expected partial selection (`select_nth_unstable`), never a full sort.
//! - Top-p: the softmax normaliser over the top-k set (O(k) exponentials, O(V) without top-k), then
//!   only the ids that can be in the nucleus (probability above `(1 - top_p) / k`) and pass min-p
//!   are sorted: O(c log c) for those c candidates.
//! - Min-p without top-p: exponentials only for ids within `ln(min_p)` of the maximum.
//! - Temperature alone: O(V) exponentials (the exact softmax needs them all).
//! - One 32-bit RNG draw per sampled token (PCG-XSH-RR 64/32, `rand_pcg::Pcg32`).
//!
//! ## Example
//! ```
//! use picoformer::sampler::{Sampler, SamplerSettings};
//! # fn run() -> Result<(), picoformer::Error> {
//! let settings = SamplerSettings { temperature: 0.7, top_k: 40, top_p: 0.9, ..SamplerSettings::GREEDY };
//! let mut sampler = Sampler::new(settings)?;
//! let mut logits = [0.5f32, 2.0, -1.0, 1.5];              // one row from the model's head
//! let mut scratch = [0u32; 4];                            // sampler.scratch_len(4) words
//! let id = sampler.sample(&mut logits, &[], &mut scratch)?;
//! assert!(id < 4);
//! # Ok(()) }
//! # run().unwrap();
//! ```

use crate::error::{Error, Result};
use rand_pcg::rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg32;

/// Vocabulary sizes above this are refused (the top bit of a scratch word marks penalised ids).
pub const MAX_VOCAB: usize = 1 << 31;

/// Bit set on a scratch word while its id has been penalised once in this call.
const MARK: u32 = 1 << 31;

/// Sampling settings: plain public fields, no builder.
///
/// Plain fields because every setting is an independent number with the same name and meaning as in
/// Hugging Face's `GenerationConfig`, a `const` value can live in firmware flash, and struct update
/// syntax (`..SamplerSettings::GREEDY`) already gives defaults. [`SamplerSettings::validate`] (called
/// by [`Sampler::new`]) checks the ranges below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplerSettings {
    /// Softmax temperature. `0.0` = greedy (argmax); otherwise finite and `>= f32::MIN_POSITIVE`
    /// (normal). `1.0` leaves the logits as they are.
    pub temperature: f32,
    /// Keep only the `top_k` most likely ids (plus ids tied with the k-th). `0` = off; `1` = greedy.
    pub top_k: usize,
    /// Nucleus sampling: keep the most likely ids until their mass reaches `top_p`. Range `(0, 1]`;
    /// `1.0` = off.
    pub top_p: f32,
    /// Keep only ids whose probability is at least `min_p` times the largest one. Range `[0, 1]`;
    /// `0.0` = off.
    pub min_p: f32,
    /// Repetition penalty over the `recent` ids given to [`Sampler::sample`]: positive logits are
    /// divided by it, negative ones multiplied. Finite and `> 0`; `1.0` = off, `> 1` discourages
    /// repeats.
    pub repetition_penalty: f32,
    /// Seed of the random number generator (any value). Same seed, settings and logits give the
    /// same ids.
    pub seed: u64,
}

impl SamplerSettings {
    /// Greedy decoding, no penalty: what `generate(do_sample=False)` does.
    pub const GREEDY: Self =
        Self { temperature: 0.0, top_k: 0, top_p: 1.0, min_p: 0.0, repetition_penalty: 1.0, seed: 0 };

    /// True when these settings pick the argmax (`temperature == 0` or `top_k == 1`).
    pub const fn is_greedy(&self) -> bool {
        self.temperature == 0.0 || self.top_k == 1
    }

    /// The number of `u32` words of scratch [`Sampler::sample`] needs for a vocabulary of `vocab`:
    /// `0` for greedy without a repetition penalty, `vocab` otherwise.
    pub const fn scratch_len(&self, vocab: usize) -> usize {
        if self.is_greedy() && self.repetition_penalty == 1.0 {
            0
        } else {
            vocab
        }
    }

    /// Checks every field against its documented range.
    ///
    /// # Errors
    /// [`Error::BadSamplerSettings`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        let t = self.temperature;
        if !(t == 0.0 || (t.is_finite() && t >= f32::MIN_POSITIVE)) {
            return Err(Error::BadSamplerSettings { field: "temperature" });
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(Error::BadSamplerSettings { field: "top_p" });
        }
        if !(self.min_p >= 0.0 && self.min_p <= 1.0) {
            return Err(Error::BadSamplerSettings { field: "min_p" });
        }
        let r = self.repetition_penalty;
        if !(r.is_finite() && r > 0.0) {
            return Err(Error::BadSamplerSettings { field: "repetition_penalty" });
        }
        Ok(())
    }
}

impl Default for SamplerSettings {
    /// [`SamplerSettings::GREEDY`].
    fn default() -> Self {
        Self::GREEDY
    }
}

/// A validated [`SamplerSettings`] and its random number generator.
#[derive(Debug, Clone)]
pub struct Sampler {
    settings: SamplerSettings,
    rng: Pcg32,
}

impl Sampler {
    /// Validates `settings` and seeds the generator with `settings.seed`.
    ///
    /// # Errors
    /// [`Error::BadSamplerSettings`] if a field is out of range.
    pub fn new(settings: SamplerSettings) -> Result<Self> {
        settings.validate()?;
        Ok(Self { settings, rng: Pcg32::seed_from_u64(settings.seed) })
    }

    /// The settings this sampler was made with.
    pub const fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    /// `u32` words of scratch [`Sampler::sample`] needs for `vocab` logits (see
    /// [`SamplerSettings::scratch_len`]).
    pub const fn scratch_len(&self, vocab: usize) -> usize {
        self.settings.scratch_len(vocab)
    }

    /// Restarts the random sequence from `seed`.
    pub fn reseed(&mut self, seed: u64) {
        self.settings.seed = seed;
        self.rng = Pcg32::seed_from_u64(seed);
    }

    /// Picks the next id from one row of `logits` (vocab = `logits.len()`).
    ///
    /// `recent` is the window of ids the repetition penalty looks at (the caller chooses it, e.g. the
    /// prompt and the ids generated so far, as Hugging Face does); ids `>= vocab` are ignored.
    /// `logits` is working memory: its contents are unspecified afterwards. `scratch` needs at least
    /// [`Sampler::scratch_len`] words; extra words are left alone.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `logits` is empty (`needed: 1`) or `scratch` is short;
    /// [`Error::BadSamplerSettings`] `{ field: "vocab" }` if `logits.len() > MAX_VOCAB`.
    pub fn sample(&mut self, logits: &mut [f32], recent: &[u32], scratch: &mut [u32]) -> Result<u32> {
        let vocab = logits.len();
        if vocab == 0 {
            return Err(Error::BufferTooSmall { needed: 1, got: 0 });
        }
        if vocab > MAX_VOCAB {
            return Err(Error::BadSamplerSettings { field: "vocab" });
        }
        let s = self.settings;
        let needed = self.scratch_len(vocab);
        let got = scratch.len();
        let Some(ids) = scratch.get_mut(..needed) else {
            return Err(Error::BufferTooSmall { needed, got });
        };
        if needed == 0 {
            return Ok(argmax(logits).unwrap_or(0));
        }
        clean(logits);
        fill_ids(ids);
        if s.repetition_penalty != 1.0 {
            penalize(logits, recent, ids, s.repetition_penalty);
        }
        if s.is_greedy() {
            return Ok(argmax(logits).unwrap_or(0));
        }
        let u = unit_f32(self.rng.next_u32());
        Ok(draw(logits, ids, &s, u))
    }
}

/// Index of the largest logit, the first one on ties; NaN counts as `-inf`. `None` if empty.
/// If every logit is NaN or `-inf`, that is index 0.
pub fn argmax(logits: &[f32]) -> Option<u32> {
    let mut best: Option<(u32, f32)> = None;
    for (i, &l) in logits.iter().enumerate() {
        let l = if l.is_nan() { f32::NEG_INFINITY } else { l };
        match best {
            Some((_, b)) if l <= b => {}
            _ => best = Some((i as u32, l)),
        }
    }
    best.map(|(i, _)| i)
}

/// NaN -> `-inf`, `-0.0` -> `0.0` (so comparisons and the total order agree).
fn clean(logits: &mut [f32]) {
    for l in logits.iter_mut() {
        if l.is_nan() {
            *l = f32::NEG_INFINITY;
        } else if *l == 0.0 {
            *l = 0.0;
        }
    }
}

/// `ids[i] = i`: the candidate list, identity order. ids: (vocab)
fn fill_ids(ids: &mut [u32]) {
    for (i, id) in ids.iter_mut().enumerate() {
        *id = i as u32;
    }
}

/// Hugging Face's repetition penalty, once per distinct id of `recent`; `ids` is the identity list,
/// whose top bit marks ids already penalised (cleared again before returning).
fn penalize(logits: &mut [f32], recent: &[u32], ids: &mut [u32], penalty: f32) {
    for &id in recent {
        let i = id as usize;
        let (Some(l), Some(word)) = (logits.get_mut(i), ids.get_mut(i)) else { continue };
        if *word & MARK != 0 {
            continue;
        }
        *word |= MARK;
        *l = if *l < 0.0 { *l * penalty } else { *l / penalty };
    }
    for &id in recent {
        if let Some(word) = ids.get_mut(id as usize) {
            *word &= !MARK;
        }
    }
}

/// A uniform float in `[0, 1)` from the top 24 bits of `x`.
fn unit_f32(x: u32) -> f32 {
    (x >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// The logit of `id` (`-inf` for an id outside `logits`, which the callers never pass).
fn val(logits: &[f32], id: u32) -> f32 {
    logits.get(id as usize).copied().unwrap_or(f32::NEG_INFINITY)
}

fn set(logits: &mut [f32], id: u32, v: f32) {
    if let Some(l) = logits.get_mut(id as usize) {
        *l = v;
    }
}

/// Descending by value, then ascending by id: a total order, so unstable sorts are deterministic.
fn by_value_desc(logits: &[f32], a: u32, b: u32) -> core::cmp::Ordering {
    val(logits, b).total_cmp(&val(logits, a)).then(a.cmp(&b))
}

/// Temperature, top-k, top-p, min-p, then one draw with `u` in `[0, 1)`. `logits` are clean (no NaN),
/// `ids` the full candidate list; weights `exp((l - max) / t)` are written over the logits.
fn draw(logits: &mut [f32], ids: &mut [u32], s: &SamplerSettings, u: f32) -> u32 {
    let mut lmax = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if lmax == f32::NEG_INFINITY {
        return 0;
    }
    if lmax == f32::INFINITY {
        for l in logits.iter_mut() {
            *l = if *l == f32::INFINITY { 0.0 } else { f32::NEG_INFINITY };
        }
        lmax = 0.0;
    }
    let mut m = ids.len();
    if s.top_k > 0 && s.top_k < m {
        m = top_k(logits, ids, s.top_k);
    }
    let inv_t = 1.0 / s.temperature; // finite: temperature >= f32::MIN_POSITIVE
    let weight = |l: f32| libm::expf((l - lmax) * inv_t); // in [0, 1], 1 for the maximum
    let Some(cands) = ids.get_mut(..m) else { return 0 };
    let n = if s.top_p < 1.0 {
        nucleus(logits, cands, s, weight)
    } else if s.min_p > 0.0 {
        min_p_only(logits, cands, s.min_p, lmax, inv_t)
    } else {
        for &id in cands.iter() {
            set(logits, id, weight(val(logits, id)));
        }
        m
    };
    pick(logits, cands.get(..n).unwrap_or(&[]), u)
}

/// Moves the ids of the `k` largest logits, and any tied with the k-th, to the front of `ids`;
/// returns how many that is. `0 < k < ids.len()`. O(V log k).
fn top_k(logits: &[f32], ids: &mut [u32], k: usize) -> usize {
    crate::rank::select_first(ids, k, |a, b| by_value_desc(logits, a, b).is_lt());
    // the k-th largest is at the front
    let v = ids.first().map_or(f32::NEG_INFINITY, |&id| val(logits, id));
    let mut m = k;
    for i in k..ids.len() {
        if m <= i && ids.get(i).is_some_and(|&id| val(logits, id) == v) {
            ids.swap(i, m);
            m += 1;
        }
    }
    m
}

/// Top-p then min-p over `cands` (the top-k set). Writes weights over the logits, leaves the kept ids
/// first in descending order, returns how many are kept (at least 1).
fn nucleus(logits: &mut [f32], cands: &mut [u32], s: &SamplerSettings, weight: impl Fn(f32) -> f32) -> usize {
    let mut z = 0.0f32;
    for &id in cands.iter() {
        let w = weight(val(logits, id));
        set(logits, id, w);
        z += w;
    }
    // An id whose probability p satisfies m * p <= 1 - top_p has at most that much mass at or below
    // it, so the mass above it is >= top_p: it cannot be in the nucleus. The 1e-3 margin keeps ids
    // at the boundary for the exact test below.
    let floor = (1.0 - s.top_p) * z / cands.len() as f32 * (1.0 - 1e-3);
    let c = retain(cands, |id| {
        let w = val(logits, id);
        w >= floor && w >= s.min_p
    });
    let Some(kept) = cands.get_mut(..c) else { return 1 };
    crate::rank::sort(kept, |a, b| by_value_desc(logits, a, b).is_lt());
    let mass = s.top_p * z;
    let mut above = 0.0f32;
    let mut n = 0;
    for &id in kept.iter() {
        if n > 0 && above >= mass {
            break;
        }
        above += val(logits, id);
        n += 1;
    }
    n.max(1)
}

/// Min-p alone: exponentials only for ids within `ln(min_p)` (+ a small margin) of the maximum.
fn min_p_only(logits: &mut [f32], cands: &mut [u32], min_p: f32, lmax: f32, inv_t: f32) -> usize {
    let ln_min_p = libm::logf(min_p) - 1e-3;
    retain(cands, |id| {
        let d = (val(logits, id) - lmax) * inv_t;
        if d < ln_min_p {
            return false;
        }
        let w = libm::expf(d);
        set(logits, id, w);
        w >= min_p
    })
}

/// Keeps the ids for which `keep` is true at the front of `ids` (order kept); returns their count.
fn retain(ids: &mut [u32], mut keep: impl FnMut(u32) -> bool) -> usize {
    let mut n = 0;
    for i in 0..ids.len() {
        let Some(&id) = ids.get(i) else { break };
        if keep(id) && n <= i {
            ids.swap(i, n);
            n += 1;
        }
    }
    n
}

/// One draw from `cands` with weights `logits[id]` (>= 0, the maximum 1 among them).
fn pick(weights: &[f32], cands: &[u32], u: f32) -> u32 {
    let total: f32 = cands.iter().map(|&id| val(weights, id)).sum();
    let target = u * total;
    let mut cum = 0.0f32;
    let mut last = cands.first().copied().unwrap_or(0);
    for &id in cands {
        let w = val(weights, id);
        if w > 0.0 {
            cum += w;
            last = id;
            if target < cum {
                return id;
            }
        }
    }
    last
}

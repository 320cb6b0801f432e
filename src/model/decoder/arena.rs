//! A generator's working memory, carved once from the caller's arena. With `S` = context
//! (positions), `C` = rows per forward step (prompt chunk; 1 while decoding), `H` = hidden,
//! `Q = n_heads * d`, `KV = n_kv_heads * d`, `I` = intermediate, `V` = vocabulary, `L` = layers:
//!
//! ```text
//! x       f32 [C, H]              residual stream
//! xn      f32 [C, H]              normed rows, then each block's output projection
//! q       f32 [C, Q]              queries (then attention scratch)
//! k, v    f32 [C, KV] each        this step's keys and values
//! qkv     f32 [C, Q + 2 KV]       GPT-2's fused projection (0 for Llama)
//! ctx     f32 [C, Q]              attention output
//! ffn     f32 [C, I]              MLP inner activations (Llama: the gate)
//! up      f32 [C, I]              Llama's up projection (0 for GPT-2)
//! scores  f32 [min(C, 64), S]     attention weights of one head, 64 query rows at a time
//! xq      i16 [C, max(H, Q, I, S)] 16-bit activations for int8 weights and int8 keys/values
//! xs      f32 [C]                 their per-row scales
//! rope    f32 [3, d/2]            inverse frequencies, cosines, sines of one position (Llama)
//! logits  f32 [V]                 next-token logits
//! kv      [L, S, KV] keys and values, f32 / f16 / int8 (+ f32 scales [L, kv_heads, S])
//! ids     u32 [S]                 the tokens in the context (repetition penalty, replay)
//! sample  u32 [V or 0]            sampler scratch (0 for greedy-only generators)
//! text    u8  [piece]             one decoded text piece
//! word    u32 [2 * max_word]      tokenizer scratch for one word
//! ```
//! Each buffer starts on a 32-byte boundary; [`State::layout`] declares them once, for both the
//! size ([`Decoder::arena_len`](super::Decoder::arena_len)) and the carving.

use super::model::Decoder;
use crate::format::Arch;
use crate::model::arena::Carver;
use crate::model::ops::attention::scores_len;
use crate::model::ops::kv::KvCache;
use crate::model::GeneratorOptions;
use crate::Result;

/// The carved buffers (shapes above).
pub(crate) struct State<'a> {
    pub x: &'a mut [f32],
    pub xn: &'a mut [f32],
    pub q: &'a mut [f32],
    pub k: &'a mut [f32],
    pub v: &'a mut [f32],
    pub qkv: &'a mut [f32],
    pub ctx: &'a mut [f32],
    pub ffn: &'a mut [f32],
    pub up: &'a mut [f32],
    pub scores: &'a mut [f32],
    pub xq: &'a mut [i16],
    pub xs: &'a mut [f32],
    pub inv_freq: &'a mut [f32],
    pub cos: &'a mut [f32],
    pub sin: &'a mut [f32],
    pub logits: &'a mut [f32],
    pub kv: KvCache<'a>,
    pub ids: &'a mut [u32],
    pub sample: &'a mut [u32],
    pub text: &'a mut [u8],
    pub word: &'a mut [u32],
}

impl<'a> State<'a> {
    /// Every buffer of a generator of `model` with `opts` (checked by the caller), from `c`.
    pub(crate) fn layout(
        c: &mut Carver<'a>,
        model: &Decoder<'_>,
        opts: &GeneratorOptions,
    ) -> Result<State<'a>> {
        let cfg = model.config();
        let (s, ch, h, i, v) = (opts.context, opts.chunk, cfg.hidden, cfg.intermediate, cfg.vocab_size);
        let (q, kv) = (cfg.q_dim(), cfg.kv_dim());
        let gpt2 = cfg.arch == Arch::Gpt2;
        let half = if cfg.uses_rope() { cfg.head_dim / 2 } else { 0 };
        let piece = model.tokenizer().decoder(false).max_output_len();
        Ok(State {
            x: c.f32s(ch * h)?,
            xn: c.f32s(ch * h)?,
            q: c.f32s(ch * q)?,
            k: c.f32s(ch * kv)?,
            v: c.f32s(ch * kv)?,
            qkv: c.f32s(if gpt2 { ch * (q + 2 * kv) } else { 0 })?,
            ctx: c.f32s(ch * q)?,
            ffn: c.f32s(ch * i)?,
            up: c.f32s(if gpt2 { 0 } else { ch * i })?,
            scores: c.f32s(scores_len(ch, s))?,
            xq: c.i16s(ch * h.max(q).max(i).max(s))?,
            xs: c.f32s(ch)?,
            inv_freq: c.f32s(half)?,
            cos: c.f32s(half)?,
            sin: c.f32s(half)?,
            logits: c.f32s(v)?,
            kv: KvCache::carve(c, opts.kv, cfg.heads(), cfg.n_layers, s)?,
            ids: c.u32s(s)?,
            sample: c.u32s(if opts.sampling { v } else { 0 })?,
            text: c.u8s(piece)?,
            word: c.u32s(2 * opts.max_word)?,
        })
    }
}

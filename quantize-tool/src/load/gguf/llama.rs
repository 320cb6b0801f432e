//! A Llama-family GGUF (`general.architecture = "llama"`, e.g. SmolLM2) seen as a Hugging Face
//! `LlamaForCausalLM`: the config, the tokenizer vectors, and the tensors under their state-dict
//! names and shapes.
//!
//! llama.cpp's converter permutes the rows of `q_proj` and `k_proj` (per head, the two rotary
//! halves are interleaved: row `2i + j` of a head holds Hugging Face row `j * head_dim / 2 + i`).
//! [`hf_tensors`] undoes this as transformers' GGUF loader does (`reverse_permute_weights` with
//! `n_head` for q and `n_head_kv` for k), so the tensors equal the state dict of
//! `AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)`.

use anyhow::{anyhow, bail, Result};

use super::Gguf;

/// The model hyper-parameters, named as in Hugging Face's `LlamaConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaParams {
    /// Rows of the token embedding (`{arch}.vocab_size`, else the number of tokens).
    pub vocab_size: usize,
    /// Model width, `hidden_size` (`{arch}.embedding_length`).
    pub hidden: usize,
    /// Decoder layers (`{arch}.block_count`).
    pub n_layers: usize,
    /// Query heads (`{arch}.attention.head_count`).
    pub n_heads: usize,
    /// Key/value heads (`{arch}.attention.head_count_kv`, default `n_heads`); divides `n_heads`.
    pub n_kv_heads: usize,
    /// Width of one head (`{arch}.attention.key_length`, default `hidden / n_heads`).
    pub head_dim: usize,
    /// MLP width, `intermediate_size` (`{arch}.feed_forward_length`).
    pub intermediate: usize,
    /// Training context, `max_position_embeddings` (`{arch}.context_length`).
    pub context_length: usize,
    /// RoPE base (`{arch}.rope.freq_base`, default 10000 as in `LlamaConfig`).
    pub rope_theta: f32,
    /// RoPE frequency scaling.
    pub rope_scaling: RopeScaling,
    /// RMSNorm epsilon (`{arch}.attention.layer_norm_rms_epsilon`).
    pub rms_norm_eps: f32,
    /// `lm_head` shares the token embedding (the file has no `output.weight`).
    pub tied_embeddings: bool,
}

/// How RoPE frequencies are scaled.
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    /// Plain RoPE.
    None,
    /// Positions divided by `factor` (`{arch}.rope.scaling.type = "linear"`, `.scaling.factor`).
    Linear {
        /// Scale factor, > 0.
        factor: f32,
    },
    /// Llama 3 scaling as llama.cpp stores it: the `rope_freqs.weight` tensor, one divisor per
    /// rotary frequency (`head_dim / 2` values; frequency `i` is `theta^(-2i/head_dim) / f[i]`).
    /// llama.cpp keeps no `low_freq_factor` / `high_freq_factor` keys, only these factors.
    FreqFactors(Vec<f32>),
}

/// The tokenizer as llama.cpp stores it (`tokenizer.ggml.*`).
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTokenizer {
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
    pub model: String,
    /// `tokenizer.ggml.pre`: the pre-tokenizer (`smollm`, `llama-bpe`, `gpt-2`, ...), if given.
    pub pre: Option<String>,
    /// `tokenizer.ggml.tokens`, indexed by id.
    pub tokens: Vec<String>,
    /// `tokenizer.ggml.merges` (`"a b"`, highest priority first); empty for SentencePiece.
    pub merges: Vec<String>,
    /// `tokenizer.ggml.token_type` per id (1 normal, 2 unknown, 3 control, 4 user-defined,
    /// 5 unused, 6 byte); empty when absent.
    pub token_types: Vec<i32>,
    /// `tokenizer.ggml.scores` per id (SentencePiece); empty when absent.
    pub scores: Vec<f32>,
    /// `tokenizer.ggml.bos_token_id`.
    pub bos: Option<u32>,
    /// `tokenizer.ggml.eos_token_id`.
    pub eos: Option<u32>,
    /// `tokenizer.ggml.padding_token_id`.
    pub padding: Option<u32>,
    /// `tokenizer.ggml.unknown_token_id`.
    pub unknown: Option<u32>,
    /// `tokenizer.ggml.add_bos_token`, if given.
    pub add_bos: Option<bool>,
    /// `tokenizer.ggml.add_eos_token`, if given.
    pub add_eos: Option<bool>,
    /// `tokenizer.chat_template` (Jinja), if given.
    pub chat_template: Option<String>,
}

/// Config and tokenizer of a Llama-family GGUF.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaGguf {
    /// Hyper-parameters.
    pub config: LlamaParams,
    /// Tokenizer vectors and special ids.
    pub tokenizer: GgufTokenizer,
}

impl LlamaGguf {
    /// Reads config and tokenizer; errors name the file and the missing or invalid key.
    pub fn from_gguf(g: &Gguf) -> Result<LlamaGguf> {
        let tokenizer = tokenizer(g)?;
        let config = params(g, tokenizer.tokens.len())?;
        for (what, id) in [("bos", tokenizer.bos), ("eos", tokenizer.eos), ("padding", tokenizer.padding)] {
            if id.is_some_and(|id| id as usize >= tokenizer.tokens.len()) {
                bail!(
                    "{}: tokenizer.ggml.{what}_token_id {id:?} is not below the {} tokens",
                    g.path().display(),
                    tokenizer.tokens.len()
                );
            }
        }
        Ok(LlamaGguf { config, tokenizer })
    }
}

/// The architecture prefix of the `{arch}.*` keys; only `llama` is accepted.
fn arch(g: &Gguf) -> Result<&str> {
    match g.architecture() {
        Some("llama") => Ok("llama"),
        Some(other) => {
            bail!("{}: general.architecture is {other:?}; only \"llama\" is supported", g.path().display())
        }
        None => bail!("{}: general.architecture is missing", g.path().display()),
    }
}

/// `key` as a usize, or an error naming the file and key.
fn req_usize(g: &Gguf, key: &str) -> Result<usize> {
    g.u32(key)
        .map(|v| v as usize)
        .ok_or_else(|| anyhow!("{}: {key} is missing or not an integer", g.path().display()))
}

/// `LlamaParams` from the `{arch}.*` keys; `n_tokens` is the tokenizer's vocabulary size.
fn params(g: &Gguf, n_tokens: usize) -> Result<LlamaParams> {
    let a = arch(g)?;
    let path = g.path().display();
    let k = |s: &str| format!("{a}.{s}");
    let hidden = req_usize(g, &k("embedding_length"))?;
    let n_heads = req_usize(g, &k("attention.head_count"))?;
    let n_kv_heads = g.u32(&k("attention.head_count_kv")).map_or(n_heads, |v| v as usize);
    if n_heads == 0 || n_kv_heads == 0 || n_heads % n_kv_heads != 0 || hidden % n_heads != 0 {
        bail!("{path}: {n_heads} heads, {n_kv_heads} kv heads and width {hidden} do not divide");
    }
    let rms_norm_eps = g.f32(&k("attention.layer_norm_rms_epsilon"));
    Ok(LlamaParams {
        vocab_size: g.u32(&k("vocab_size")).map_or(n_tokens, |v| v as usize),
        hidden,
        n_layers: req_usize(g, &k("block_count"))?,
        n_heads,
        n_kv_heads,
        head_dim: g.u32(&k("attention.key_length")).map_or(hidden / n_heads, |v| v as usize),
        intermediate: req_usize(g, &k("feed_forward_length"))?,
        context_length: req_usize(g, &k("context_length"))?,
        rope_theta: g.f32(&k("rope.freq_base")).unwrap_or(10000.0),
        rope_scaling: rope_scaling(g, a)?,
        rms_norm_eps: rms_norm_eps
            .ok_or_else(|| anyhow!("{path}: {a}.attention.layer_norm_rms_epsilon is missing"))?,
        tied_embeddings: g.tensor_info("output.weight").is_none(),
    })
}

/// RoPE scaling from `{arch}.rope.scaling.*` (or the older `{arch}.rope.scale_linear`) and the
/// `rope_freqs.weight` tensor.
fn rope_scaling(g: &Gguf, a: &str) -> Result<RopeScaling> {
    let path = g.path().display();
    if g.tensor_info("rope_freqs.weight").is_some() {
        return Ok(RopeScaling::FreqFactors(g.tensor_f32("rope_freqs.weight")?.1));
    }
    let factor =
        g.f32(&format!("{a}.rope.scaling.factor")).or_else(|| g.f32(&format!("{a}.rope.scale_linear")));
    let kind = g.str(&format!("{a}.rope.scaling.type"));
    match (kind, factor) {
        (None | Some("none"), None) | (Some("none"), _) => Ok(RopeScaling::None),
        (None | Some("linear"), Some(factor)) if factor > 0.0 => {
            Ok(if factor == 1.0 { RopeScaling::None } else { RopeScaling::Linear { factor } })
        }
        (kind, factor) => {
            bail!("{path}: {a}.rope.scaling type {kind:?} with factor {factor:?} is not supported")
        }
    }
}

/// The `tokenizer.ggml.*` vectors and ids.
fn tokenizer(g: &Gguf) -> Result<GgufTokenizer> {
    let path = g.path().display();
    let model =
        g.str("tokenizer.ggml.model").ok_or_else(|| anyhow!("{path}: tokenizer.ggml.model is missing"))?;
    let tokens = g
        .strings("tokenizer.ggml.tokens")
        .ok_or_else(|| anyhow!("{path}: tokenizer.ggml.tokens is missing or not strings"))?;
    let optional = |key: &str, present: bool, ok: bool| match (present, ok) {
        (true, false) => Err(anyhow!("{path}: {key} has the wrong type or length")),
        _ => Ok(()),
    };
    let merges = g.strings("tokenizer.ggml.merges");
    optional("tokenizer.ggml.merges", g.meta("tokenizer.ggml.merges").is_some(), merges.is_some())?;
    let token_types = g.i32s("tokenizer.ggml.token_type");
    let n = tokens.len();
    optional(
        "tokenizer.ggml.token_type",
        g.meta("tokenizer.ggml.token_type").is_some(),
        token_types.as_ref().is_some_and(|t| t.len() == n),
    )?;
    let scores = g.f32s("tokenizer.ggml.scores");
    optional(
        "tokenizer.ggml.scores",
        g.meta("tokenizer.ggml.scores").is_some(),
        scores.as_ref().is_some_and(|s| s.len() == n),
    )?;
    Ok(GgufTokenizer {
        model: model.to_owned(),
        pre: g.str("tokenizer.ggml.pre").map(str::to_owned),
        tokens,
        merges: merges.unwrap_or_default(),
        token_types: token_types.unwrap_or_default(),
        scores: scores.unwrap_or_default(),
        bos: g.u32("tokenizer.ggml.bos_token_id"),
        eos: g.u32("tokenizer.ggml.eos_token_id"),
        padding: g.u32("tokenizer.ggml.padding_token_id"),
        unknown: g.u32("tokenizer.ggml.unknown_token_id"),
        add_bos: g.bool("tokenizer.ggml.add_bos_token"),
        add_eos: g.bool("tokenizer.ggml.add_eos_token"),
        chat_template: g.str("tokenizer.chat_template").map(str::to_owned),
    })
}

/// The Hugging Face `LlamaForCausalLM` name of a GGUF tensor, and the heads to un-permute its rows
/// by (q and k only); `None` for tensors HF does not hold (`rope_freqs.weight`).
pub fn hf_name(gguf_name: &str, n_heads: usize, n_kv_heads: usize) -> Option<(String, Option<usize>)> {
    let top = match gguf_name {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(name) = top {
        return Some((name.to_owned(), None));
    }
    let rest = gguf_name.strip_prefix("blk.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (part, suffix) = rest.rsplit_once('.')?;
    let (hf, heads) = match part {
        "attn_q" => ("self_attn.q_proj", Some(n_heads)),
        "attn_k" => ("self_attn.k_proj", Some(n_kv_heads)),
        "attn_v" => ("self_attn.v_proj", None),
        "attn_output" => ("self_attn.o_proj", None),
        "ffn_gate" => ("mlp.gate_proj", None),
        "ffn_up" => ("mlp.up_proj", None),
        "ffn_down" => ("mlp.down_proj", None),
        "attn_norm" => ("input_layernorm", None),
        "ffn_norm" => ("post_attention_layernorm", None),
        _ => return None,
    };
    matches!(suffix, "weight" | "bias").then(|| (format!("model.layers.{layer}.{hf}.{suffix}"), heads))
}

/// Every tensor of a Llama GGUF under its Hugging Face name and shape, dequantized exactly and with
/// q/k rows un-permuted, one at a time in file order. `rope_freqs.weight` (see
/// [`RopeScaling::FreqFactors`]) is skipped; any other unknown name is an error naming it.
pub fn hf_tensors(g: &Gguf) -> impl Iterator<Item = Result<(String, Vec<usize>, Vec<f32>)>> + '_ {
    let heads = arch(g).and_then(|_| params(g, 0)).map(|p| (p.n_heads, p.n_kv_heads));
    let mut failed = false;
    g.tensors().filter(|t| t.name != "rope_freqs.weight").map_while(move |t| {
        if failed {
            return None;
        }
        let item = heads.as_ref().map_err(|e| anyhow!("{e:#}")).and_then(|&(nh, nkv)| {
            let path = g.path().display();
            let (name, permute) = hf_name(&t.name, nh, nkv)
                .ok_or_else(|| anyhow!("{path}: tensor {:?} has no Hugging Face Llama name", t.name))?;
            let (shape, mut values) = g.tensor_f32(&t.name)?;
            if let Some(n_head) = permute {
                values = unpermute_rows(&values, shape.first().copied().unwrap_or(0), n_head).ok_or_else(
                    || {
                        anyhow!(
                            "{path}: tensor {:?}: {} rows do not split into {n_head} heads of rotary pairs",
                            t.name,
                            shape.first().copied().unwrap_or(0)
                        )
                    },
                )?;
            }
            Ok((name, shape, values))
        });
        failed = item.is_err();
        Some(item)
    })
}

/// Reverses llama.cpp's q/k row permutation: `rows` rows of `x` form `n_head` heads of `2 * half`
/// rows; GGUF row `h, i, j` (`i < half`, `j < 2`) becomes row `h, j, i`. `None` if shapes do not fit
/// (an empty tensor included: rows without columns).
pub fn unpermute_rows(x: &[f32], rows: usize, n_head: usize) -> Option<Vec<f32>> {
    if x.is_empty() || rows == 0 || n_head == 0 || rows % (2 * n_head) != 0 || x.len() % rows != 0 {
        return None;
    }
    let (cols, half) = (x.len() / rows, rows / n_head / 2);
    let mut out = vec![0f32; x.len()];
    for (r, dst) in out.chunks_exact_mut(cols).enumerate() {
        let (h, j, i) = (r / (2 * half), (r / half) % 2, r % half);
        let src_row = h * 2 * half + 2 * i + j;
        dst.copy_from_slice(x.get(src_row * cols..(src_row + 1) * cols)?);
    }
    Some(out)
}

//! A decoder's hyper-parameters, from a Hugging Face `config.json` (`LlamaForCausalLM`,
//! `GPT2LMHeadModel`) or a Llama-family GGUF, checked against the `.pfm` header's ranges.
//!
//! RoPE settings are read from transformers 5's `rope_parameters` (`rope_theta`, `rope_type`,
//! `factor`, ...) or the older top-level `rope_theta` and `rope_scaling` (`type` or `rope_type`).
//! Errors name the file and the key.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use picoformer::format::{Activation, Arch, DecoderParams, RopeScaling};
use serde_json::Value;

use crate::load::gguf::{LlamaParams, RopeScaling as GgufRope};

/// The decoder `config.json` describes: `architectures[0]` `LlamaForCausalLM` / `GPT2LMHeadModel`,
/// or `model_type` `llama` / `gpt2`; `None` for anything else (BERT).
pub fn decoder_arch(v: &Value) -> Option<Arch> {
    let class = v.get("architectures").and_then(|a| a.get(0)).and_then(Value::as_str);
    match (class, v.get("model_type").and_then(Value::as_str)) {
        (Some("LlamaForCausalLM"), _) | (_, Some("llama")) => Some(Arch::Llama),
        (Some("GPT2LMHeadModel"), _) | (_, Some("gpt2")) => Some(Arch::Gpt2),
        _ => None,
    }
}

/// What the converter needs of a decoder checkpoint's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderConfig {
    /// The file read (for messages).
    pub path: PathBuf,
    /// Llama or GPT-2.
    pub arch: Arch,
    /// Hyper-parameters as the header stores them (`tied_head` included).
    pub params: DecoderParams,
    /// `bos_token_id` of `config.json`, if any.
    pub bos: Option<u32>,
    /// `eos_token_id` (the first one when a list), if any.
    pub eos: Option<u32>,
    /// `pad_token_id`, if any.
    pub pad: Option<u32>,
}

impl DecoderConfig {
    /// Reads `config.json` of a Llama or GPT-2 checkpoint.
    pub fn read(path: &Path) -> Result<DecoderConfig> {
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        DecoderConfig::from_bytes(path, &bytes)
    }

    /// [`read`](Self::read) on the bytes of a `config.json`; `path` is only named in messages.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<DecoderConfig> {
        let v = crate::load::parse_json(path, bytes)?;
        DecoderConfig::from_json(path, &v).with_context(|| path.display().to_string())
    }

    /// [`read`](Self::read) on parsed JSON; `path` is only named in messages.
    pub fn from_json(path: &Path, v: &Value) -> Result<DecoderConfig> {
        let arch = decoder_arch(v).ok_or_else(|| {
            anyhow!(
                "architectures {} / model_type {} is not a supported decoder",
                v["architectures"],
                v["model_type"]
            )
        })?;
        let params = match arch {
            Arch::Gpt2 => gpt2(v)?,
            _ => llama(v)?,
        };
        check_ranges(&params)?;
        Ok(DecoderConfig {
            path: path.to_path_buf(),
            arch,
            params,
            bos: token_id(v, "bos_token_id")?,
            eos: token_id(v, "eos_token_id")?,
            pad: token_id(v, "pad_token_id")?,
        })
    }

    /// The hyper-parameters of a Llama-family GGUF. Llama 3 RoPE stored as llama.cpp's
    /// `rope_freqs.weight` factors is refused.
    pub fn from_gguf(path: &Path, c: &LlamaParams) -> Result<DecoderConfig> {
        let ctx = || path.display().to_string();
        let rope_scaling = match &c.rope_scaling {
            GgufRope::None => RopeScaling::None,
            GgufRope::Linear { factor } => RopeScaling::Linear { factor: *factor },
            GgufRope::FreqFactors(_) => bail!(
                "{}: RoPE frequency factors (tensor rope_freqs.weight, Llama 3 scaling) are not supported yet",
                ctx()
            ),
        };
        let u = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        let params = DecoderParams {
            vocab_size: u(c.vocab_size),
            hidden: u(c.hidden),
            n_layers: u(c.n_layers),
            n_heads: u(c.n_heads),
            intermediate: u(c.intermediate),
            max_position: u(c.context_length),
            n_kv_heads: u(c.n_kv_heads),
            norm_eps: c.rms_norm_eps,
            activation: Activation::SwiGlu,
            head_dim: u(c.head_dim),
            rope_theta: c.rope_theta,
            rope_scaling,
            tied_head: c.tied_embeddings,
        };
        check_ranges(&params).with_context(ctx)?;
        Ok(DecoderConfig {
            path: path.to_path_buf(),
            arch: Arch::Llama,
            params,
            bos: None,
            eos: None,
            pad: None,
        })
    }
}

/// `LlamaForCausalLM` (defaults as `LlamaConfig`'s).
fn llama(v: &Value) -> Result<DecoderParams> {
    for key in ["attention_bias", "mlp_bias"] {
        if v.get(key).is_some_and(|b| b != false && !b.is_null()) {
            bail!("{key} is {}: biases in the Llama projections are not supported", v[key]);
        }
    }
    let act = v.get("hidden_act").and_then(Value::as_str).unwrap_or("silu");
    if act != "silu" {
        bail!("hidden_act {act:?} is not supported (only \"silu\": SwiGLU)");
    }
    let hidden = size(v, "hidden_size")?;
    let n_heads = size(v, "num_attention_heads")?;
    let n_kv_heads = opt_size(v, "num_key_value_heads")?.unwrap_or(n_heads);
    let head_dim = match opt_size(v, "head_dim")? {
        Some(d) => d,
        None if hidden % n_heads == 0 => hidden / n_heads,
        None => {
            bail!("hidden_size {hidden} is not a multiple of num_attention_heads {n_heads} (and no head_dim)")
        }
    };
    let (rope_theta, rope_scaling) = rope(v)?;
    Ok(DecoderParams {
        vocab_size: size(v, "vocab_size")?,
        hidden,
        n_layers: size(v, "num_hidden_layers")?,
        n_heads,
        intermediate: size(v, "intermediate_size")?,
        max_position: opt_size(v, "max_position_embeddings")?.unwrap_or(2048),
        n_kv_heads,
        norm_eps: positive(v, "rms_norm_eps", 1e-6)?,
        activation: Activation::SwiGlu,
        head_dim,
        rope_theta,
        rope_scaling,
        tied_head: flag(v, "tie_word_embeddings", false)?,
    })
}

/// `GPT2LMHeadModel` (defaults as `GPT2Config`'s where the key may be absent).
fn gpt2(v: &Value) -> Result<DecoderParams> {
    let act = v.get("activation_function").and_then(Value::as_str).unwrap_or("gelu_new");
    if !matches!(act, "gelu_new" | "gelu_pytorch_tanh") {
        bail!("activation_function {act:?} is not supported (gelu_new or gelu_pytorch_tanh)");
    }
    let unsupported = [
        ("tie_word_embeddings", false, "an untied GPT-2 LM head"),
        ("scale_attn_weights", false, "attention without the 1/sqrt(head_dim) scale"),
        ("scale_attn_by_inverse_layer_idx", true, "attention scaled by the inverse layer index"),
        ("reorder_and_upcast_attn", true, "reordered attention"),
        ("add_cross_attention", true, "cross-attention"),
    ];
    for (key, bad, what) in unsupported {
        if v.get(key).and_then(Value::as_bool) == Some(bad) {
            bail!("{key} is {bad}: {what} is not supported");
        }
    }
    let hidden = size(v, "n_embd")?;
    let n_heads = size(v, "n_head")?;
    if hidden % n_heads != 0 {
        bail!("n_embd {hidden} is not a multiple of n_head {n_heads}");
    }
    Ok(DecoderParams {
        vocab_size: size(v, "vocab_size")?,
        hidden,
        n_layers: size(v, "n_layer")?,
        n_heads,
        // saturating: a width past the header's range is reported as such, not an overflow
        intermediate: opt_size(v, "n_inner")?.unwrap_or(hidden.saturating_mul(4)),
        max_position: size(v, "n_positions")?,
        n_kv_heads: n_heads,
        norm_eps: positive(v, "layer_norm_epsilon", 1e-5)?,
        activation: Activation::GeluTanh,
        head_dim: hidden / n_heads,
        rope_theta: 0.0,
        rope_scaling: RopeScaling::None,
        tied_head: true,
    })
}

/// `(rope_theta, scaling)` from `rope_parameters`, else top-level `rope_theta` / `rope_scaling`.
fn rope(v: &Value) -> Result<(f32, RopeScaling)> {
    let (theta, scaling, where_) = match v.get("rope_parameters").filter(|p| !p.is_null()) {
        Some(p) => (p.get("rope_theta").or(v.get("rope_theta")), Some(p), "rope_parameters"),
        None => (v.get("rope_theta"), v.get("rope_scaling").filter(|s| !s.is_null()), "rope_scaling"),
    };
    let theta = match theta {
        None | Some(Value::Null) => 10000.0,
        Some(t) => t
            .as_f64()
            .and_then(finite_f32)
            .filter(|t| *t > 1.0)
            .ok_or_else(|| anyhow!("rope_theta {t} must be a number above 1 (and finite as f32)"))?,
    };
    let Some(s) = scaling else { return Ok((theta, RopeScaling::None)) };
    let kind = s.get("rope_type").or(s.get("type")).and_then(Value::as_str).unwrap_or("default");
    let num = |key: &str| -> Result<f32> {
        let x = s.get(key).and_then(Value::as_f64).and_then(finite_f32);
        x.ok_or_else(|| anyhow!("{where_}.{key} is missing or not a number finite as f32 ({kind} RoPE)"))
    };
    let scaling = match kind {
        "default" => RopeScaling::None,
        "linear" => RopeScaling::Linear { factor: num("factor")? },
        "llama3" => RopeScaling::Llama3 {
            factor: num("factor")?,
            low_freq_factor: num("low_freq_factor")?,
            high_freq_factor: num("high_freq_factor")?,
            original_max_position: s
                .get("original_max_position_embeddings")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    anyhow!("{where_}.original_max_position_embeddings is missing or not a positive integer")
                })?,
        },
        other => bail!("{where_}: RoPE type {other:?} is not supported (default, linear, llama3)"),
    };
    let ok = match scaling {
        RopeScaling::Linear { factor } => factor >= 1.0,
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, .. } => {
            factor >= 1.0 && low_freq_factor > 0.0 && high_freq_factor > low_freq_factor
        }
        _ => true,
    };
    if !ok {
        bail!("{where_}: {kind} RoPE needs factor >= 1 (and 0 < low_freq_factor < high_freq_factor): {s}");
    }
    Ok((theta, scaling))
}

/// The `.pfm` header's limits, reported with the header's field names.
fn check_ranges(p: &DecoderParams) -> Result<()> {
    let limits = [
        ("vocab_size", p.vocab_size, 1, 1 << 24),
        ("hidden size", p.hidden, 1, 1 << 16),
        ("layers", p.n_layers, 1, picoformer::model::MAX_LAYERS as u32),
        ("attention heads", p.n_heads, 1, p.hidden),
        ("key/value heads", p.n_kv_heads, 1, p.n_heads),
        ("intermediate size", p.intermediate, 1, 1 << 18),
        ("context (max positions)", p.max_position, 2, 1 << 20),
        ("head_dim", p.head_dim, 2, 1024),
    ];
    for (what, v, lo, hi) in limits {
        if !(lo..=hi).contains(&v) {
            bail!("{what} {v} outside the supported range {lo}..={hi}");
        }
    }
    if p.n_heads % p.n_kv_heads != 0 {
        bail!("{} attention heads are not a multiple of {} key/value heads", p.n_heads, p.n_kv_heads);
    }
    if p.head_dim % 2 != 0 {
        bail!("head_dim {} is odd", p.head_dim);
    }
    if !(p.norm_eps.is_finite() && p.norm_eps > 0.0) {
        bail!("norm epsilon {} must be positive", p.norm_eps);
    }
    if p.activation == Activation::SwiGlu && !(p.rope_theta.is_finite() && p.rope_theta > 1.0) {
        bail!("rope_theta {} must be above 1", p.rope_theta);
    }
    Ok(())
}

/// A required positive integer (u32).
fn size(v: &Value, key: &str) -> Result<u32> {
    opt_size(v, key)?.ok_or_else(|| anyhow!("missing field {key:?}"))
}

/// An optional positive integer (absent or null: `None`).
fn opt_size(v: &Value, key: &str) -> Result<Option<u32>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => match x.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n >= 1 => Ok(Some(n)),
            _ => bail!("field {key:?} must be a positive integer, found {x}"),
        },
    }
}

/// A positive float with a default (positive and finite as the f32 the header stores).
fn positive(v: &Value, key: &str, default: f32) -> Result<f32> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => match x.as_f64().and_then(finite_f32).filter(|e| *e > 0.0) {
            Some(e) => Ok(e),
            None => bail!("field {key:?} must be a positive number (finite and above 0 as f32), found {x}"),
        },
    }
}

/// `x` as the f32 the header stores, if that is finite (1e300 is not; 1e-300 becomes 0).
fn finite_f32(x: f64) -> Option<f32> {
    Some(x as f32).filter(|x| x.is_finite())
}

/// A boolean with a default.
fn flag(v: &Value, key: &str, default: bool) -> Result<bool> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => x.as_bool().ok_or_else(|| anyhow!("field {key:?} must be true or false, found {x}")),
    }
}

/// A token id field: absent/null, an id, or a list of ids (the first is taken).
pub(crate) fn token_id(v: &Value, key: &str) -> Result<Option<u32>> {
    let x = match v.get(key) {
        Some(Value::Array(a)) => a.first(),
        other => other,
    };
    match x {
        None | Some(Value::Null) => Ok(None),
        Some(x) => match x.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(id) => Ok(Some(id)),
            None => bail!("field {key:?} must be a token id, found {x}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llama_cfg(extra: &str) -> Result<DecoderConfig> {
        let text = format!(
            r#"{{"architectures":["LlamaForCausalLM"],"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16{extra}}}"#
        );
        DecoderConfig::from_json(Path::new("config.json"), &serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn llama_defaults_and_rope_forms() {
        let c = llama_cfg("").unwrap().params;
        assert_eq!((c.n_kv_heads, c.head_dim, c.max_position, c.tied_head), (2, 4, 2048, false));
        assert_eq!((c.rope_theta, c.rope_scaling, c.norm_eps), (10000.0, RopeScaling::None, 1e-6));
        let legacy =
            llama_cfg(r#","rope_theta":500000.0,"rope_scaling":{"type":"linear","factor":2.0}"#).unwrap();
        assert_eq!(legacy.params.rope_theta, 500000.0);
        assert_eq!(legacy.params.rope_scaling, RopeScaling::Linear { factor: 2.0 });
        let v5 = llama_cfg(r#","rope_parameters":{"rope_type":"linear","factor":3.0,"rope_theta":20000.0}"#)
            .unwrap();
        assert_eq!(
            (v5.params.rope_theta, v5.params.rope_scaling),
            (20000.0, RopeScaling::Linear { factor: 3.0 })
        );
        let e = llama_cfg(r#","rope_scaling":{"rope_type":"yarn","factor":2.0}"#).unwrap_err();
        assert!(format!("{e:#}").contains("yarn"), "{e:#}");
        let e = llama_cfg(r#","rope_scaling":{"rope_type":"llama3","factor":2.0}"#).unwrap_err();
        assert!(format!("{e:#}").contains("low_freq_factor"), "{e:#}");
        let e = llama_cfg(r#","mlp_bias":true"#).unwrap_err();
        assert!(format!("{e:#}").contains("mlp_bias"), "{e:#}");
        let e = llama_cfg(r#","num_key_value_heads":3"#).unwrap_err();
        assert!(format!("{e:#}").contains("key/value heads"), "{e:#}");
    }

    /// Values that overflow or round away in the header's u32 / f32 fields are errors naming the
    /// key: a GPT-2 width whose default MLP width (4x) overflows u32 used to panic (debug builds);
    /// floats finite as f64 but infinite or zero as f32 used to pass the reader and reach the
    /// header.
    #[test]
    fn header_overflow_and_f32_rounding_are_errors() {
        let gpt2 = |extra: &str| {
            let text = format!(
                r#"{{"architectures":["GPT2LMHeadModel"],"vocab_size":10,"n_layer":1,"n_positions":8{extra}}}"#
            );
            DecoderConfig::from_json(Path::new("config.json"), &serde_json::from_str(&text).unwrap())
        };
        let e = gpt2(r#","n_embd":2147483648,"n_head":1"#).unwrap_err();
        assert!(format!("{e:#}").contains("hidden size 2147483648"), "{e:#}");
        let e = gpt2(r#","n_embd":8,"n_head":2,"layer_norm_epsilon":1e-300"#).unwrap_err();
        assert!(format!("{e:#}").contains("layer_norm_epsilon"), "{e:#}");
        let e = llama_cfg(r#","rms_norm_eps":1e300"#).unwrap_err();
        assert!(format!("{e:#}").contains("rms_norm_eps"), "{e:#}");
        let e = llama_cfg(r#","rope_theta":1e300"#).unwrap_err();
        assert!(format!("{e:#}").contains("rope_theta"), "{e:#}");
        let e = llama_cfg(r#","rope_scaling":{"type":"linear","factor":1e300}"#).unwrap_err();
        assert!(format!("{e:#}").contains("rope_scaling.factor"), "{e:#}");
        let llama3 = r#","rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
            "high_freq_factor":1e39,"original_max_position_embeddings":8192}"#;
        let e = llama_cfg(llama3).unwrap_err();
        assert!(format!("{e:#}").contains("high_freq_factor"), "{e:#}");
    }

    #[test]
    fn token_id_forms() {
        let v: Value = serde_json::from_str(r#"{"a":[5,6],"b":null,"c":3,"d":"x"}"#).unwrap();
        assert_eq!(token_id(&v, "a").unwrap(), Some(5));
        assert_eq!(token_id(&v, "b").unwrap(), None);
        assert_eq!(token_id(&v, "c").unwrap(), Some(3));
        assert_eq!(token_id(&v, "e").unwrap(), None);
        assert!(token_id(&v, "d").is_err());
    }
}

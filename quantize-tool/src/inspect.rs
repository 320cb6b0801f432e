//! `inspect`: header fields, sections and totals of a `.pfm` blob.

use std::fmt::Write as _;

use anyhow::Result;
use picoformer::format::{Activation, Arch, ArchParams, Blob, DType, Header, RopeScaling, TokenizerParams};
use picoformer::tokenizer::bpe::PreTokenizer;
use picoformer::{Bert, Decoder, GeneratorOptions, KvPrecision, SessionOptions};
use serde_json::{json, Value};

use crate::escape;
use crate::report::{dtype_name, pooling_name, task_name};

/// The run plan whose arena `inspect` reports: sequence length (decoders: context; default the
/// blob's), rows per pass (default all) and key/value precision.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArenaPlan {
    /// Tokens (encoders) or context (decoders).
    pub context: Option<usize>,
    /// Rows of the sequence processed at a time.
    pub chunk: Option<usize>,
    /// Keys and values in int8.
    pub kv_int8: bool,
}

/// Everything `inspect` shows, as one JSON object.
pub fn inspect_json(blob: &Blob, plan: ArenaPlan) -> Result<Value> {
    let context = plan.context;
    let kv = if plan.kv_int8 { KvPrecision::I8 } else { KvPrecision::F32 };
    let h = blob.header();
    let mut sections = Vec::new();
    let (mut tensor_params, mut tensor_bytes) = (0usize, 0usize);
    for s in blob.sections() {
        let s = s?;
        let shape = &s.shape[..s.ndim as usize];
        if matches!(s.dtype, DType::F32 | DType::F16 | DType::I8Row | DType::I4 { .. })
            && !s.name().starts_with("tokenizer.")
        {
            tensor_params += shape.iter().map(|&d| d as usize).product::<usize>();
            tensor_bytes += s.len;
        }
        sections.push(json!({
            "name": s.name(), "dtype": dtype_name(s.dtype), "shape": shape, "offset": s.offset, "bytes": s.len,
        }));
    }
    // the arena size, or why there is none (the model does not load, or `context` is out of range)
    let (labels, arena, error) = match h.arch.is_decoder() {
        true => match Decoder::from_blob(*blob) {
            // the arena of a generator with the blob's default context and options
            Ok(m) => {
                let ctx = context.unwrap_or(m.default_context());
                let opts = GeneratorOptions::new(ctx).with_chunk(plan.chunk.unwrap_or(ctx)).with_kv(kv);
                (Vec::new(), Ok(m.arena_len(&opts)), None)
            }
            Err(e) => (Vec::new(), Err(()), Some(e.to_string())),
        },
        false => match Bert::from_blob(*blob) {
            Ok(m) => {
                let labels: Vec<&str> = (0..m.n_labels()).map(|i| m.label(i).unwrap_or("")).collect();
                let seq = context.unwrap_or(m.default_max_seq());
                let opts = SessionOptions::new(seq).with_chunk(plan.chunk.unwrap_or(seq)).with_kv(kv);
                (labels, Ok(m.arena_len_with(&opts)), None)
            }
            Err(e) => (Vec::new(), Err(()), Some(e.to_string())),
        },
    };
    let arena_at = context.unwrap_or(h.task_params.default_max_seq as usize);
    let (arena, arena_error) = match (arena, plan.chunk) {
        (Ok(_), Some(c)) if !(1..=arena_at).contains(&c) => {
            (None, Some(format!("--chunk {c} is outside 1..={arena_at}")))
        }
        (Ok(Ok(n)), _) => (Some(n), None),
        (Ok(Err(e)), _) => (None, Some(e.to_string())),
        (Err(()), _) => (None, None),
    };
    Ok(json!({
        "version": format!("{}.{}", picoformer::format::VERSION_MAJOR, h.version_minor),
        "file_len": h.file_len,
        "arch": arch_name(h.arch),
        "task": task_name(h.task),
        "params": params_json(h),
        "task_params": {
            "n_labels": h.task_params.n_labels,
            "pooling": pooling_name(h.task_params.pooling),
            "normalize": h.task_params.normalize,
            "has_pooler": h.task_params.has_pooler,
            "lexicon_gate": h.task_params.lexicon_gate,
            "default_max_seq": h.task_params.default_max_seq,
        },
        "tokenizer": tokenizer_json(h),
        "labels": labels,
        "sections": sections,
        "totals": { "sections": h.section_count, "tensor_params": tensor_params, "tensor_bytes": tensor_bytes, "file_bytes": h.file_len },
        "arena_bytes": arena,
        "arena_at": arena_at,
        "arena_chunk": plan.chunk,
        "arena_kv": if plan.kv_int8 { "int8" } else { "f32" },
        "arena_error": arena_error,
        "model_error": error,
    }))
}

fn params_json(h: &Header) -> Value {
    match &h.params {
        ArchParams::Bert(p) => json!({
            "vocab_size": p.vocab_size, "hidden": p.hidden, "n_layers": p.n_layers, "n_heads": p.n_heads,
            "intermediate": p.intermediate, "max_position": p.max_position, "type_vocab_size": p.type_vocab_size,
            "layer_norm_eps": shortest(p.layer_norm_eps), "activation": "gelu",
        }),
        ArchParams::Decoder(p) => {
            let rope = match p.rope_scaling {
                RopeScaling::Linear { factor } => json!({ "type": "linear", "factor": shortest(factor) }),
                RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position } => {
                    json!({
                        "type": "llama3", "factor": shortest(factor), "low_freq_factor": shortest(low_freq_factor),
                        "high_freq_factor": shortest(high_freq_factor), "original_max_position": original_max_position,
                    })
                }
                _ => Value::Null,
            };
            json!({
                "vocab_size": p.vocab_size, "hidden": p.hidden, "n_layers": p.n_layers, "n_heads": p.n_heads,
                "n_kv_heads": p.n_kv_heads, "head_dim": p.head_dim, "intermediate": p.intermediate,
                "max_position": p.max_position, "norm_eps": shortest(p.norm_eps),
                "activation": activation_name(p.activation), "rope_theta": shortest(p.rope_theta),
                "rope_scaling": rope, "tied_head": p.tied_head,
            })
        }
        _ => Value::Null,
    }
}

fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::GeluErf => "gelu",
        Activation::SwiGlu => "swiglu",
        Activation::GeluTanh => "gelu_tanh",
        _ => "?",
    }
}

/// The architecture's name as the CLI prints it.
pub fn arch_name(a: Arch) -> &'static str {
    match a {
        Arch::Bert => "bert",
        Arch::Llama => "llama",
        Arch::Gpt2 => "gpt2",
        _ => "?",
    }
}

/// An f32 as the JSON number with its shortest decimal (not the f64 widening's digits).
fn shortest(x: f32) -> Value {
    x.to_string().parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

fn tokenizer_json(h: &Header) -> Value {
    match &h.tokenizer {
        TokenizerParams::WordPiece(t) => json!({
            "kind": "wordpiece", "lowercase": t.lowercase, "strip_accents": t.strip_accents,
            "tokenize_cjk": t.tokenize_cjk, "clean_text": t.clean_text,
            "unk": t.unk, "cls": t.cls, "sep": t.sep, "pad": t.pad, "mask": t.mask,
            "max_chars_per_word": t.max_chars_per_word,
        }),
        TokenizerParams::Bpe(t) => json!({
            "kind": "bpe",
            "pre_tokenizer": match t.config.pre_tokenizer { PreTokenizer::Gpt2 => "gpt2", _ => "gpt2_digits" },
            "ignore_merges": t.config.ignore_merges, "unk": t.config.unk, "bos": t.config.bos,
            "eos": t.config.eos, "pad": t.pad, "add_bos": t.add_bos, "chat_ml": t.chat_ml,
        }),
        _ => Value::Null,
    }
}

/// The human rendering of [`inspect_json`]; strings read from the blob are escaped for a terminal.
pub fn inspect_text(v: &Value) -> String {
    let mut s = String::new();
    let _ = write_text(&mut s, v);
    s
}

fn write_text(s: &mut String, v: &Value) -> std::fmt::Result {
    writeln!(
        s,
        "format {}, {} bytes, {} / {}",
        v["version"].as_str().unwrap_or("?"),
        v["file_len"],
        v["arch"].as_str().unwrap_or("?"),
        v["task"].as_str().unwrap_or("?")
    )?;
    for key in ["params", "task_params", "tokenizer"] {
        let fields: Vec<String> =
            v[key].as_object().into_iter().flatten().map(|(k, x)| format!("{k}={x}")).collect();
        writeln!(s, "{key}: {}", fields.join(" "))?;
    }
    if let Some(l) = v["labels"].as_array().filter(|l| !l.is_empty()) {
        let names: Vec<_> = l.iter().filter_map(Value::as_str).map(escape::line).collect();
        writeln!(s, "labels: {}", names.join(", "))?;
    }
    let sections = v["sections"].as_array().cloned().unwrap_or_default();
    let w = sections.iter().filter_map(|x| x["name"].as_str()).map(str::len).max().unwrap_or(4);
    writeln!(s, "{:<w$}  {:<5}  {:<14}  {:>10}  {:>10}", "name", "dtype", "shape", "offset", "bytes")?;
    for x in &sections {
        let shape = x["shape"].to_string();
        let (off, len) = (x["offset"].as_u64().unwrap_or(0), x["bytes"].as_u64().unwrap_or(0));
        writeln!(
            s,
            "{:<w$}  {:<5}  {:<14}  {off:>10}  {len:>10}",
            x["name"].as_str().unwrap_or(""),
            x["dtype"].as_str().unwrap_or(""),
            shape
        )?;
    }
    let t = &v["totals"];
    writeln!(
        s,
        "sections: {}, tensor parameters: {}, tensor bytes: {}, file bytes: {}",
        t["sections"], t["tensor_params"], t["tensor_bytes"], t["file_bytes"]
    )?;
    match inspect_error(v) {
        Some(e) => write!(s, "{}", escape::line(&e)),
        None => {
            let chunk = v["arena_chunk"].as_u64().map(|c| format!(", chunk {c}")).unwrap_or_default();
            let kv = if v["arena_kv"] == "int8" { ", int8 KV" } else { "" };
            write!(s, "arena bytes at {} tokens{chunk}{kv}: {}", v["arena_at"], v["arena_bytes"])
        }
    }
}

/// Why the blob inspected in `v` cannot run, if it cannot: it does not load, or has no arena at
/// the asked context (`inspect` prints its report, then fails with this).
pub fn inspect_error(v: &Value) -> Option<String> {
    match (v["model_error"].as_str(), v["arena_error"].as_str()) {
        (Some(e), _) => Some(format!("the model does not load: {e}")),
        (None, Some(e)) => Some(format!("no arena at {} tokens: {e}", v["arena_at"])),
        (None, None) => None,
    }
}

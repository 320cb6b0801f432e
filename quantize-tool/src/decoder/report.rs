//! The conversion report of a decoder: one row per tensor with its quantization error, the
//! hyper-parameters and tokenizer settings recorded, and totals.

use std::fmt;

use picoformer::format::{Arch, DecoderParams, RopeScaling};
use serde::Serialize;

use super::tokenizer::DecoderTokenizer;
use crate::escape::line;
use crate::quantize::WeightDtype;
use crate::report::{embeddings_note, total_params, worst_errors, write_unused, TensorReport};
use crate::QuantizeOptions;

/// What `quantize` did to a decoder checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct DecoderReport {
    /// `llama` or `gpt2`.
    pub arch: &'static str,
    /// Always `causal-lm`.
    pub task: &'static str,
    /// Weight dtype asked for.
    pub weight_dtype: &'static str,
    /// Token-embedding dtype asked for (`--embeddings`), if any.
    pub embeddings_dtype: Option<&'static str>,
    /// The checkpoint read (`model.safetensors` or the `.gguf`).
    pub source: String,
    /// Vocabulary (embedding rows).
    pub vocab_size: u32,
    /// Hidden size.
    pub hidden: u32,
    /// Layers.
    pub n_layers: u32,
    /// Query heads.
    pub n_heads: u32,
    /// Key/value heads.
    pub n_kv_heads: u32,
    /// Width of one head.
    pub head_dim: u32,
    /// Feed-forward inner size.
    pub intermediate: u32,
    /// Longest context of the model.
    pub max_position: u32,
    /// RoPE base (0: none).
    pub rope_theta: f32,
    /// RoPE scaling, spelled out (`none`, `linear x2`, `llama3 ...`).
    pub rope_scaling: String,
    /// The LM head is the token embedding.
    pub tied_head: bool,
    /// Tokens in the tokenizer.
    pub tokenizer_tokens: usize,
    /// Merges.
    pub tokenizer_merges: usize,
    /// Added (special and user) tokens.
    pub tokenizer_added: usize,
    /// bos / eos / pad ids.
    pub bos: Option<u32>,
    /// See `bos`.
    pub eos: Option<u32>,
    /// See `bos`.
    pub pad: Option<u32>,
    /// Prompts start with bos.
    pub add_bos: bool,
    /// The chat template is ChatML.
    pub chat_ml: bool,
    /// Default context recorded (`--max-seq`).
    pub max_seq: usize,
    /// Converted tensors in blob order.
    pub tensors: Vec<TensorReport>,
    /// Checkpoint tensors not used.
    pub unused: Vec<String>,
    /// Blob size in bytes.
    pub blob_bytes: usize,
    /// Arena bytes a generator needs at `max_seq` (default `GeneratorOptions`: prompt chunks of
    /// 64, f32 keys and values, sampling), from the core on the blob loaded back.
    pub arena_bytes: usize,
}

impl DecoderReport {
    /// The report before tensors are converted.
    pub fn new(
        arch: Arch,
        p: &DecoderParams,
        tok: &DecoderTokenizer,
        opts: &QuantizeOptions,
        source: String,
        max_seq: usize,
    ) -> DecoderReport {
        let c = &tok.bpe.config;
        DecoderReport {
            arch: if arch == Arch::Gpt2 { "gpt2" } else { "llama" },
            task: "causal-lm",
            weight_dtype: opts.dtype.as_str(),
            embeddings_dtype: opts.embeddings.map(WeightDtype::as_str),
            source,
            vocab_size: p.vocab_size,
            hidden: p.hidden,
            n_layers: p.n_layers,
            n_heads: p.n_heads,
            n_kv_heads: p.n_kv_heads,
            head_dim: p.head_dim,
            intermediate: p.intermediate,
            max_position: p.max_position,
            rope_theta: p.rope_theta,
            rope_scaling: rope_name(&p.rope_scaling),
            tied_head: p.tied_head,
            tokenizer_tokens: tok.n_vocab(),
            tokenizer_merges: tok.bpe.merges.len() / 4,
            tokenizer_added: tok.bpe.added.len() / 3,
            bos: c.bos,
            eos: c.eos,
            pad: tok.pad,
            add_bos: tok.add_bos,
            chat_ml: tok.chat_ml,
            max_seq,
            tensors: Vec::new(),
            unused: Vec::new(),
            blob_bytes: 0,
            arena_bytes: 0,
        }
    }

    /// Total number of weights converted.
    pub fn params(&self) -> usize {
        total_params(&self.tensors)
    }

    /// Blob bytes per parameter.
    pub fn bytes_per_param(&self) -> f64 {
        self.blob_bytes as f64 / self.params().max(1) as f64
    }

    /// The largest `max_abs_err` and `rel_rmse` over all tensors.
    pub fn worst(&self) -> (f32, f32) {
        worst_errors(&self.tensors)
    }

    /// The report as one line of JSON, with the totals (`params`, `bytes_per_param`,
    /// `max_abs_err`, `max_rel_rmse`).
    pub fn to_json(&self) -> String {
        let (max_abs_err, max_rel_rmse) = self.worst();
        let v = Json {
            report: self,
            params: self.params(),
            bytes_per_param: self.bytes_per_param(),
            max_abs_err,
            max_rel_rmse,
        };
        // strings from the checkpoint (tensor names, the source path) may hold DEL, C1 or bidi
        // controls
        crate::escape::json(&v).unwrap_or_default()
    }

    /// Writes the unused-tensor list (for `--verbose`).
    pub fn fmt_unused(&self, f: &mut impl fmt::Write) -> fmt::Result {
        write_unused(f, &self.unused)
    }
}

/// `none`, `linear x2`, `llama3 x8 low 1 high 4 original 8192`.
fn rope_name(r: &RopeScaling) -> String {
    match *r {
        RopeScaling::Linear { factor } => format!("linear x{factor}"),
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position } => format!(
            "llama3 x{factor} low {low_freq_factor} high {high_freq_factor} original {original_max_position}"
        ),
        _ => "none".into(),
    }
}

impl fmt::Display for DecoderReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.tensors.iter().map(|t| line(&t.name).len()).max().unwrap_or(4).max(4);
        writeln!(
            f,
            "{:<w$}  {:<14}  {:<5}  {:>11}  {:>9}",
            "name", "shape", "dtype", "max |err|", "rel RMSE"
        )?;
        for t in &self.tensors {
            let shape = format!("{:?}", t.shape);
            writeln!(
                f,
                "{:<w$}  {:<14}  {:<5}  {:>11.3e}  {:>9.3e}",
                line(&t.name),
                shape,
                t.dtype,
                t.max_abs_err,
                t.rel_rmse
            )?;
        }
        let (a, r) = self.worst();
        writeln!(f, "worst: max |err| {a:.3e}, rel RMSE {r:.3e}")?;
        writeln!(f, "source: {}", line(&self.source))?;
        let emb = embeddings_note(self.embeddings_dtype);
        writeln!(f, "arch: {}, task: {}, weights: {}{emb}", self.arch, self.task, self.weight_dtype)?;
        writeln!(
            f,
            "hidden {}, layers {}, heads {} (kv {}, head_dim {}), intermediate {}, context {}, rope theta {} scaling {}, head {}",
            self.hidden,
            self.n_layers,
            self.n_heads,
            self.n_kv_heads,
            self.head_dim,
            self.intermediate,
            self.max_position,
            self.rope_theta,
            self.rope_scaling,
            if self.tied_head { "tied" } else { "untied" }
        )?;
        let id = |x: Option<u32>| x.map_or("-".to_owned(), |i| i.to_string());
        writeln!(
            f,
            "tokenizer: {} tokens ({} embedding rows), {} merges, {} added; bos {} eos {} pad {}, add_bos {}, chat_ml {}",
            self.tokenizer_tokens,
            self.vocab_size,
            self.tokenizer_merges,
            self.tokenizer_added,
            id(self.bos),
            id(self.eos),
            id(self.pad),
            self.add_bos,
            self.chat_ml
        )?;
        writeln!(f, "unused tensors: {} (--verbose lists them)", self.unused.len())?;
        writeln!(f, "parameters: {}", self.params())?;
        writeln!(
            f,
            "blob size: {} bytes ({:.3} bytes per parameter)",
            self.blob_bytes,
            self.bytes_per_param()
        )?;
        write!(f, "arena bytes at max_seq {} (default generator options): {}", self.max_seq, self.arena_bytes)
    }
}

/// [`DecoderReport`] with its totals, as printed by `quantize --json`.
#[derive(Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a DecoderReport,
    params: usize,
    bytes_per_param: f64,
    max_abs_err: f32,
    max_rel_rmse: f32,
}

//! The conversion report: one row per tensor with its quantization error, and totals.

use std::fmt;

use picoformer::format::{DType, Header, Pooling, Task, TokenizerParams};
use serde::Serialize;

use crate::escape::line;
use crate::load::HfDir;
use crate::map::{Mapping, TensorSpec};
use crate::prune::PruneReport;
use crate::quantize::{Encoded, WeightDtype};
use crate::QuantizeOptions;

/// One converted tensor.
#[derive(Debug, Clone, Serialize)]
pub struct TensorReport {
    /// Section name.
    pub name: String,
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Stored dtype (`f32`, `f16`, `i8row`).
    pub dtype: &'static str,
    /// Number of values.
    pub params: usize,
    /// Bytes in the blob (without alignment padding).
    pub bytes: usize,
    /// `max |w - deq(q(w))|`.
    pub max_abs_err: f32,
    /// `||w - deq(q(w))|| / ||w||`.
    pub rel_rmse: f32,
}

impl TensorReport {
    /// The row for `spec` encoded as `enc`.
    pub fn new(spec: &TensorSpec, enc: &Encoded) -> TensorReport {
        TensorReport {
            name: spec.name.clone(),
            shape: spec.shape.clone(),
            dtype: dtype_name(enc.dtype),
            params: spec.shape.iter().product(),
            bytes: enc.bytes.len(),
            max_abs_err: enc.stats.max_abs,
            rel_rmse: enc.stats.rel_rmse,
        }
    }
}

/// What `quantize` did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The Hugging Face class converted.
    pub task: &'static str,
    /// Weight dtype asked for.
    pub weight_dtype: &'static str,
    /// Token-embedding dtype asked for (`--embeddings`), if any.
    pub embeddings_dtype: Option<&'static str>,
    /// Default pooling recorded.
    pub pooling: &'static str,
    /// Default L2 normalization recorded.
    pub normalize: bool,
    /// The pooler is included.
    pub has_pooler: bool,
    /// The MLM decoder is stored (not tied).
    pub untied_decoder: bool,
    /// Class labels in id order (classifiers).
    pub labels: Vec<String>,
    /// Tokenizer: vocabulary size and flags.
    pub vocab_size: usize,
    /// Lowercase / strip accents / split CJK / clean text.
    pub tokenizer_flags: [bool; 4],
    /// Default maximum sequence length recorded.
    pub max_seq: usize,
    /// Converted tensors in blob order.
    pub tensors: Vec<TensorReport>,
    /// Checkpoint tensors not used.
    pub unused: Vec<String>,
    /// Blob size in bytes.
    pub blob_bytes: usize,
    /// Arena bytes needed at `max_seq` (from the core, on the blob loaded back).
    pub arena_bytes: usize,
    /// What vocabulary pruning did, if asked for.
    pub prune: Option<PruneReport>,
    /// Calibration inputs the activation smoothing was measured on (0: none; the int8 matrices
    /// then take 16-bit activations).
    pub calibration_texts: usize,
    /// Entries of the lexicon a gated classifier carries (`lexicon.tsv`), if any.
    pub lexicon_entries: Option<usize>,
}

impl Report {
    /// The report before tensors are converted.
    pub fn new(hf: &HfDir, mapping: &Mapping, h: &Header, opts: &QuantizeOptions) -> Report {
        let flags = match &h.tokenizer {
            TokenizerParams::WordPiece(t) => [t.lowercase, t.strip_accents, t.tokenize_cjk, t.clean_text],
            _ => [false; 4],
        };
        Report {
            task: task_name(h.task),
            weight_dtype: opts.dtype.as_str(),
            embeddings_dtype: opts.embeddings.map(WeightDtype::as_str),
            pooling: pooling_name(h.task_params.pooling),
            normalize: h.task_params.normalize,
            has_pooler: mapping.has_pooler,
            untied_decoder: mapping.untied_decoder,
            labels: if h.task == Task::Classification { hf.config.labels.clone() } else { Vec::new() },
            vocab_size: h.params.vocab_size() as usize,
            tokenizer_flags: flags,
            max_seq: h.task_params.default_max_seq as usize,
            tensors: Vec::new(),
            unused: mapping.unused.clone(),
            blob_bytes: 0,
            arena_bytes: 0,
            prune: None,
            calibration_texts: 0,
            lexicon_entries: None,
        }
    }

    /// Total number of weights and biases converted.
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
        let v = ReportJson {
            report: self,
            params: self.params(),
            bytes_per_param: self.bytes_per_param(),
            max_abs_err,
            max_rel_rmse,
        };
        // strings from the checkpoint (labels, tensor names) may hold DEL, C1 or bidi controls
        crate::escape::json(&v).unwrap_or_default()
    }

    /// Writes the unused-tensor list (for `--verbose`).
    pub fn fmt_unused(&self, f: &mut impl fmt::Write) -> fmt::Result {
        write_unused(f, &self.unused)
    }
}

impl fmt::Display for Report {
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
        writeln!(
            f,
            "task: {}, weights: {}{}, pooling: {}{}",
            self.task,
            self.weight_dtype,
            embeddings_note(self.embeddings_dtype),
            self.pooling,
            if self.normalize { " + L2 normalize" } else { "" }
        )?;
        if !self.labels.is_empty() {
            let labels: Vec<_> = self.labels.iter().map(|l| line(l)).collect();
            writeln!(f, "labels: {}", labels.join(", "))?;
        }
        let [lc, sa, cjk, clean] = self.tokenizer_flags;
        writeln!(
            f,
            "tokenizer: {} tokens, lowercase {lc}, strip accents {sa}, split CJK {cjk}, clean text {clean}",
            self.vocab_size
        )?;
        writeln!(f, "unused tensors: {} (--verbose lists them)", self.unused.len())?;
        writeln!(f, "parameters: {}", self.params())?;
        writeln!(
            f,
            "blob size: {} bytes ({:.3} bytes per parameter)",
            self.blob_bytes,
            self.bytes_per_param()
        )?;
        if self.calibration_texts > 0 {
            writeln!(
                f,
                "activations: 8-bit for the encoder's int8 matrices, smoothing calibrated on {} inputs",
                self.calibration_texts
            )?;
        }
        if let Some(n) = self.lexicon_entries {
            writeln!(f, "lexicon gate: VADER's compound score weighed in, {n} lexicon entries")?;
        }
        write!(f, "arena bytes at max_seq {}: {}", self.max_seq, self.arena_bytes)?;
        match &self.prune {
            Some(p) => write!(f, "\n{p}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for PruneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (old, new) = (self.old_vocab_size, self.new_vocab_size);
        writeln!(f, "vocabulary pruned: {old} -> {new} tokens ({} removed)", old - new)?;
        writeln!(f, "  special tokens: {}", self.special_tokens)?;
        writeln!(
            f,
            "  needed by the corpus: {} ({}: {} lines, {} words, {} tokens)",
            self.corpus_vocab,
            line(&self.corpus),
            self.corpus_lines,
            self.corpus_words,
            self.corpus_tokens
        )?;
        writeln!(
            f,
            "  single characters and ## forms (--keep-chars {}): {} more ({} ASCII)",
            self.keep_chars, self.char_tokens, self.ascii_char_tokens
        )?;
        if let Some(file) = &self.keep_words {
            writeln!(
                f,
                "  whole words (--keep-words {}): {} more (its words are {} tokens; {} words are not one \
                 token and are left out)",
                line(file),
                self.word_tokens,
                self.keep_words_whole,
                self.keep_words_split
            )?;
        }
        writeln!(f, "  required set: {} tokens", self.required)?;
        if let Some(n) = self.vocab_size_asked {
            match self.dropped {
                0 if new >= n => {
                    writeln!(f, "  filled to --vocab-size {n}: {} lowest remaining ids", self.filled)?
                }
                0 => {
                    // every token filling may take was taken: say how many and why no more
                    write!(
                        f,
                        "  --vocab-size {n} not reached: vocabulary {new} tokens ({} short): the checkpoint has \
                         only {} tokens to fill with beyond the {} required",
                        n - new,
                        self.fill_available,
                        self.required
                    )?;
                    match self.unused_placeholders {
                        0 => writeln!(f, " (it has {old} tokens in all)")?,
                        u => writeln!(
                            f,
                            " ({u} of its {old} tokens are [unused*] placeholders, never used to fill)"
                        )?,
                    }
                }
                d => writeln!(f, "  capped at --vocab-size {n}: {d} least frequent corpus tokens left out")?,
            }
        }
        writeln!(f, "  bytes saved: {}", self.bytes_saved)?;
        write!(
            f,
            "  corpus coverage: {:.4}% of corpus tokens unchanged, {:.4}% of corpus words tokenized identically",
            self.coverage * 100.0,
            self.word_coverage * 100.0
        )
    }
}

/// [`Report`] with its totals, as printed by `quantize --json` (f32 fields stay shortest-form).
#[derive(Serialize)]
struct ReportJson<'a> {
    #[serde(flatten)]
    report: &'a Report,
    params: usize,
    bytes_per_param: f64,
    max_abs_err: f32,
    max_rel_rmse: f32,
}

/// `", token embeddings: int4"` after the weight dtype when `--embeddings` was given.
pub fn embeddings_note(dtype: Option<&str>) -> String {
    dtype.map(|d| format!(", token embeddings: {d}")).unwrap_or_default()
}

/// Lowercase name of a dtype.
pub fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::F16 => "f16",
        DType::I8Row => "i8row",
        DType::I4 { group: 32 } => "i4g32",
        DType::I4 { group: 64 } => "i4g64",
        DType::U8 => "u8",
        DType::U32 => "u32",
        _ => "unknown",
    }
}

/// Lowercase name of a task.
pub fn task_name(t: Task) -> &'static str {
    match t {
        Task::Embedding => "embedding",
        Task::Classification => "classification",
        Task::MaskedLm => "masked-lm",
        Task::CausalLm => "causal-lm",
        _ => "unknown",
    }
}

/// Lowercase name of a pooling.
pub fn pooling_name(p: Pooling) -> &'static str {
    match p {
        Pooling::Cls => "cls",
        Pooling::Mean => "mean",
        Pooling::Pooler => "pooler",
    }
}

/// Parameters of the converted tensors.
pub(crate) fn total_params(tensors: &[TensorReport]) -> usize {
    tensors.iter().map(|t| t.params).sum()
}

/// The largest `max_abs_err` and `rel_rmse` over `tensors`.
pub(crate) fn worst_errors(tensors: &[TensorReport]) -> (f32, f32) {
    tensors.iter().fold((0.0, 0.0), |(a, r), t| (a.max(t.max_abs_err), r.max(t.rel_rmse)))
}

/// The unused-tensor list (for `--verbose`).
pub(crate) fn write_unused(f: &mut impl fmt::Write, unused: &[String]) -> fmt::Result {
    writeln!(f, "unused tensors ({}):", unused.len())?;
    for n in unused {
        writeln!(f, "  {}", line(n))?;
    }
    Ok(())
}

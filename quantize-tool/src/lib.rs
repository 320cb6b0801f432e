//! # picoformer-tool
//!
//! The host side of picoformer: converts a Hugging Face BERT directory into a `.pfm` blob, and
//! inspects and runs blobs with the core.
//!
//! ```text
//! HF dir --load (config.json, model.safetensors, vocab/tokenizer, sentence-transformers)-->
//!        --map (state-dict names -> sections, shapes checked)-->
//!        --quantize (f32 / f16 / int8 rows with the core's reference quantizer, error per tensor)-->
//!        --picoformer::format::write_blob--> blob --self-check (Bert::from_bytes, arena_len)-->
//!        --write (temp file, fsync, rename)--> model.pfm
//! ```
//! [`quantize_dir`] is the whole pipeline without the file writing; [`prune`] optionally keeps only
//! the tokens a corpus needs (before the map step's rows are encoded); [`run`] holds the
//! `inspect` / `tokenize` / `embed` / `classify` / `fill-mask` commands, [`eval`] the `eval` one.

pub mod bench;
pub mod bench_decoder;
pub mod calibrate;
pub mod decoder;
pub mod escape;
pub mod eval;
pub mod generate;
pub mod inspect;
pub mod load;
pub mod map;
pub mod prompts;
pub mod prune;
pub mod quantize;
pub mod report;
pub mod run;
pub mod write;

use std::path::Path;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use picoformer::format::{
    align_up, f32_bytes, u32_bytes, write_blob, Activation, AlignedBuf, Arch, ArchParams, BertParams, Blob,
    DType, Header, PendingSection, Pooling, Task, TaskParams, TokenizerParams, WordPieceParams,
};
use picoformer::Bert;

use crate::load::{HfArch, HfConfig, HfDir};
use crate::map::{map_tensors, Kind, Mapping};
pub use crate::prune::{KeepChars, PruneOptions, PruneReport, VocabMap};
pub use crate::quantize::WeightDtype;
use crate::quantize::{encode_matrix, encode_vector, matrix_dtype};
pub use crate::report::{Report, TensorReport};

/// Sequence length used when neither the caller nor sentence-transformers sets one (capped by the
/// model's position table).
pub const DEFAULT_MAX_SEQ: usize = 128;

/// Options of [`quantize_dir`].
#[derive(Debug, Clone, Default)]
pub struct QuantizeOptions {
    /// Storage dtype of 2-D weight matrices (1-D tensors stay f32).
    pub dtype: WeightDtype,
    /// Storage dtype of the token-embedding table, when not the one `dtype` implies (see
    /// [`quantize::matrix_dtype`]): e.g. int4 embeddings beside int8 layers.
    pub embeddings: Option<WeightDtype>,
    /// Default maximum sequence length recorded in the blob (and used for the arena figure).
    /// `None`: sentence-transformers' `max_seq_length` if present, else
    /// `min(max_position_embeddings, 128)`.
    pub max_seq: Option<usize>,
    /// Override the default pooling of embedding models.
    pub pooling: Option<Pooling>,
    /// Override the default L2 normalization of embeddings.
    pub normalize: Option<bool>,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// Keep only the tokens a corpus needs (see [`prune`]).
    pub prune: Option<PruneOptions>,
    /// Calibration inputs (one text each): with int8 weights, every encoder matrix gets activation
    /// smoothing and takes 8-bit activations (see [`calibrate`]).
    pub calibration: Option<Vec<String>>,
}

/// Sections whose outer dimension is the vocabulary (their rows follow a pruned vocabulary).
const VOCAB_TENSORS: [&str; 3] =
    ["embeddings.word_embeddings.weight", "cls.predictions.decoder.weight", "cls.predictions.bias"];

impl QuantizeOptions {
    /// Options with this weight dtype, everything else default.
    pub fn new(dtype: WeightDtype) -> QuantizeOptions {
        QuantizeOptions { dtype, ..QuantizeOptions::default() }
    }
}

/// Converts the Hugging Face model in `dir` into a validated `.pfm` blob (nothing is written).
pub fn quantize_dir(dir: &Path, opts: &QuantizeOptions) -> Result<(Vec<u8>, Report)> {
    let hf = HfDir::open(dir)?;
    let mapping = map_tensors(&hf.config, &hf.checkpoint)?;
    let mut header = header(&hf, &mapping, opts)?;
    let (ArchParams::Bert(params), TokenizerParams::WordPiece(wordpiece)) =
        (&mut header.params, &mut header.tokenizer)
    else {
        bail!("{}: not a BERT header (converter bug)", dir.display());
    };
    let pruning = match &opts.prune {
        Some(p) => Some(prune::plan(&hf.tokenizer.vocab, wordpiece, p)?),
        None => None,
    };
    let vmap = pruning.as_ref().map(|(m, _)| m);
    if let Some(m) = vmap {
        params.vocab_size = m.len() as u32;
        *wordpiece = prune::remap_specials(wordpiece, m)?;
    }
    let ranges = match &opts.calibration {
        Some(texts) => Some(calibration_ranges(dir, opts, texts)?),
        None => None,
    };
    let mut report = Report::new(&hf, &mapping, &header, opts);
    report.calibration_texts = ranges.as_ref().map_or(0, |r| r.texts);
    let mut saved = 0;
    let mut sections = tensor_sections(&hf, &mapping, opts, vmap, ranges.as_ref(), &mut report, &mut saved)?;
    sections.extend(tokenizer_sections(&hf, vmap, &mut saved));
    if header.task == Task::Classification {
        sections.extend(string_planes("task.labels", &hf.config.labels));
    }
    if let (Some(max), Some(entries)) = (mapping.lexicon_gate, &hf.lexicon) {
        sections.extend(lexicon_sections(&hf.dir, max, entries)?);
        report.lexicon_entries = Some(entries.len());
    }
    let blob = write_blob(header, &sections).context("assembling the blob")?;
    let max_seq = header.task_params.default_max_seq as usize;
    report.blob_bytes = blob.len();
    report.prune = pruning.map(|(_, r)| PruneReport { bytes_saved: saved, ..r });
    report.arena_bytes = self_check(&blob, max_seq).with_context(|| format!("{}", dir.display()))?;
    Ok((blob, report))
}

/// The input ranges of the f32 model's matrices over the calibration `texts` (int8 weights only).
fn calibration_ranges(dir: &Path, opts: &QuantizeOptions, texts: &[String]) -> Result<calibrate::Ranges> {
    if opts.dtype != WeightDtype::Int8 {
        bail!(
            "--calibrate needs --dtype int8 (8-bit activations multiply int8 weights), not {}",
            opts.dtype.as_str()
        );
    }
    let f32_opts =
        QuantizeOptions { dtype: WeightDtype::F32, calibration: None, progress: false, ..opts.clone() };
    let (blob, _) = quantize_dir(dir, &f32_opts)?;
    calibrate::ranges(&blob, texts)
}

/// What [`quantize_path`] converted, with its report.
#[derive(Debug, Clone)]
pub enum Converted {
    /// A BERT directory ([`quantize_dir`]).
    Bert(Report),
    /// A decoder directory or GGUF file ([`decoder`]).
    Decoder(decoder::DecoderReport),
}

impl Converted {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        match self {
            Converted::Bert(r) => r.to_json(),
            Converted::Decoder(r) => r.to_json(),
        }
    }

    /// Writes the unused-tensor list (for `--verbose`).
    pub fn fmt_unused(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        match self {
            Converted::Bert(r) => r.fmt_unused(f),
            Converted::Decoder(r) => r.fmt_unused(f),
        }
    }
}

impl std::fmt::Display for Converted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Converted::Bert(r) => r.fmt(f),
            Converted::Decoder(r) => r.fmt(f),
        }
    }
}

/// Converts `path` into a validated blob (nothing is written): a `.gguf` file goes to
/// [`decoder::quantize_gguf`], a directory whose `config.json` names a Llama or GPT-2 causal LM
/// to [`decoder::quantize_decoder_dir`], anything else to [`quantize_dir`] (BERT).
pub fn quantize_path(path: &Path, opts: &QuantizeOptions) -> Result<(Vec<u8>, Converted)> {
    let is_gguf = path.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf"));
    let config = path.join("config.json");
    let is_decoder = is_gguf
        || (path.is_dir() && config.is_file() && decoder::decoder_arch(&load::read_json(&config)?).is_some());
    if is_decoder && opts.calibration.is_some() {
        bail!("{}: --calibrate applies to BERT encoders only", path.display());
    }
    if is_gguf {
        let (blob, r) = decoder::quantize_gguf(path, opts)?;
        return Ok((blob, Converted::Decoder(r)));
    }
    if is_decoder {
        let (blob, r) = decoder::quantize_decoder_dir(path, opts)?;
        return Ok((blob, Converted::Decoder(r)));
    }
    let (blob, r) = quantize_dir(path, opts)?;
    Ok((blob, Converted::Bert(r)))
}

/// A zeroed, 32-byte-aligned buffer of `len` bytes, or an error "cannot allocate `len` bytes for
/// `what()`" where the allocator cannot provide it (`AlignedBuf::zeroed` would abort the process).
pub fn alloc_zeroed(len: usize, what: impl FnOnce() -> String) -> Result<AlignedBuf> {
    AlignedBuf::try_zeroed(len).with_context(|| format!("cannot allocate {len} bytes for {}", what()))
}

/// An aligned copy of `bytes`, failing as [`alloc_zeroed`] does.
pub fn aligned_copy(bytes: &[u8], what: impl FnOnce() -> String) -> Result<AlignedBuf> {
    let mut buf = alloc_zeroed(bytes.len(), what)?;
    buf.as_mut_bytes().copy_from_slice(bytes);
    Ok(buf)
}

/// The largest `.pfm` file [`load_blob`] reads: 4 GiB (the whole file is read into memory).
pub const MAX_BLOB_BYTES: u64 = 4 << 30;

/// Reads a `.pfm` file into a 32-byte-aligned buffer and validates its header and section table.
/// Only a regular file (or a link to one) of at most [`MAX_BLOB_BYTES`] is read: a FIFO would block
/// the open, and a device such as `/dev/zero` has no size to trust.
pub fn load_blob(path: &Path) -> Result<AlignedBuf> {
    let name = path.display();
    let check = |meta: &std::fs::Metadata| -> Result<u64> {
        let kind = meta.file_type();
        if !kind.is_file() {
            let what =
                if kind.is_dir() { "a directory" } else { "not a regular file (a device, FIFO or socket)" };
            bail!("{name}: {what}; a model must be a .pfm file");
        }
        if meta.len() > MAX_BLOB_BYTES {
            bail!(
                "{name}: {} bytes, larger than any model this tool reads ({MAX_BLOB_BYTES} bytes, 4 GiB)",
                meta.len()
            );
        }
        Ok(meta.len())
    };
    // the file's kind is checked before it is opened (opening a FIFO waits for a writer), and again
    // on the open file (the path may have been replaced in between)
    check(&std::fs::metadata(path).with_context(|| format!("{name}: cannot read"))?)?;
    let mut file = std::fs::File::open(path).with_context(|| format!("{name}: cannot read"))?;
    let len = check(&file.metadata().with_context(|| format!("{name}: cannot read"))?)?;
    let len = usize::try_from(len).with_context(|| format!("{name}: too large"))?;
    // read straight into the aligned buffer: the weights are held once (peak memory ~ blob size)
    let mut buf = alloc_zeroed(len, || format!("the model file {name}"))?;
    std::io::Read::read_exact(&mut file, buf.as_mut_bytes())
        .with_context(|| format!("{name}: cannot read"))?;
    Blob::parse(buf.as_bytes()).with_context(|| format!("{name}: invalid model file"))?;
    Ok(buf)
}

/// Loads the blob back as the core would and returns the arena size at `max_seq`; a NaN or
/// infinite value in the checkpoint is an error naming the tensor.
fn self_check(blob: &[u8], max_seq: usize) -> Result<usize> {
    let buf = aligned_copy(blob, || "the self-check's copy of the blob".into())?;
    let check = || -> picoformer::Result<Bert<'_>> { Bert::from_bytes(buf.as_bytes()) };
    let model = check().context("self-check: the core rejects the blob just written (converter bug)")?;
    model.check_finite().context("the checkpoint holds a NaN or infinite value")?;
    model.arena_len(max_seq).context("self-check: no arena for the recorded max_seq (converter bug)")
}

/// The header: hyper-parameters, task, pooling and tokenizer settings.
fn header(hf: &HfDir, mapping: &Mapping, opts: &QuantizeOptions) -> Result<Header> {
    let c = &hf.config;
    check_ranges(c)?;
    let task = match c.arch {
        HfArch::BertModel => Task::Embedding,
        HfArch::SequenceClassification => Task::Classification,
        HfArch::MaskedLm => Task::MaskedLm,
    };
    let (pooling, normalize) = pooling(hf, task, mapping.has_pooler, opts)?;
    let t = &hf.tokenizer;
    Ok(Header {
        version_minor: 0,
        file_len: 0,
        section_count: 0,
        arch: Arch::Bert,
        task,
        params: ArchParams::Bert(BertParams {
            vocab_size: c.vocab_size as u32,
            hidden: c.hidden as u32,
            n_layers: c.n_layers as u32,
            n_heads: c.n_heads as u32,
            intermediate: c.intermediate as u32,
            max_position: c.max_position as u32,
            type_vocab_size: c.type_vocab_size as u32,
            layer_norm_eps: c.layer_norm_eps,
            activation: Activation::GeluErf,
        }),
        task_params: TaskParams {
            n_labels: if task == Task::Classification { c.labels.len() as u32 } else { 0 },
            pooling,
            normalize,
            has_pooler: mapping.has_pooler,
            lexicon_gate: mapping.lexicon_gate.is_some(),
            default_max_seq: max_seq(hf, opts)? as u32,
        },
        tokenizer: TokenizerParams::WordPiece(WordPieceParams {
            lowercase: t.lowercase,
            strip_accents: t.strip_accents,
            tokenize_cjk: t.tokenize_cjk,
            clean_text: t.clean_text,
            unk: t.special.unk,
            cls: t.special.cls,
            sep: t.special.sep,
            pad: t.special.pad,
            mask: t.special.mask,
            max_chars_per_word: t.max_chars_per_word,
        }),
    })
}

/// The format's limits on the hyper-parameters, reported against `config.json`.
fn check_ranges(c: &HfConfig) -> Result<()> {
    let limits = [
        ("vocab_size", c.vocab_size, 1, 1 << 24),
        ("hidden_size", c.hidden, 1, 1 << 16),
        ("num_hidden_layers", c.n_layers, 1, picoformer::model::MAX_LAYERS),
        ("intermediate_size", c.intermediate, 1, 1 << 18),
        ("max_position_embeddings", c.max_position, 2, 1 << 16),
        ("type_vocab_size", c.type_vocab_size, 1, 16),
    ];
    for (key, v, lo, hi) in limits {
        if !(lo..=hi).contains(&v) {
            bail!("{}: {key} {v} outside the supported range {lo}..={hi}", c.path.display());
        }
    }
    if c.arch == HfArch::SequenceClassification && c.labels.len() > 1024 {
        bail!("{}: {} labels, at most 1024 supported", c.path.display(), c.labels.len());
    }
    if c.arch == HfArch::SequenceClassification && c.labels.iter().all(String::is_empty) {
        bail!("{}: id2label names are all empty", c.path.display());
    }
    Ok(())
}

/// Default pooling and normalization: classifiers use the pooler; embedding models follow
/// sentence-transformers, else the pooler when present, else `[CLS]`.
fn pooling(hf: &HfDir, task: Task, has_pooler: bool, opts: &QuantizeOptions) -> Result<(Pooling, bool)> {
    let (default, normalize) = match task {
        Task::Classification => (Pooling::Pooler, false),
        Task::Embedding => match hf.st.pooling {
            Some(p) => (p, hf.st.normalize),
            None if has_pooler => (Pooling::Pooler, hf.st.normalize),
            None => (Pooling::Cls, hf.st.normalize),
        },
        _ => (Pooling::Cls, false),
    };
    let pooling = opts.pooling.unwrap_or(default);
    if pooling == Pooling::Pooler && !has_pooler {
        bail!(
            "{}: pooling \"pooler\" asked for, but the checkpoint has no pooler",
            hf.checkpoint.path().display()
        );
    }
    Ok((pooling, opts.normalize.unwrap_or(normalize)))
}

/// The recorded default sequence length (see [`QuantizeOptions::max_seq`]).
fn max_seq(hf: &HfDir, opts: &QuantizeOptions) -> Result<usize> {
    let max = hf.config.max_position;
    match opts.max_seq {
        Some(n) if (2..=max).contains(&n) => Ok(n),
        Some(n) => {
            bail!("--max-seq {n} outside 2..={max} (max_position_embeddings in {})", hf.config.path.display())
        }
        None => Ok(hf.st.max_seq_length.unwrap_or(DEFAULT_MAX_SEQ).clamp(2, max)),
    }
}

/// Converts every mapped tensor, recording its error in `report`. With a pruned vocabulary,
/// keeps only its rows of the vocabulary tensors and adds the bytes that saves to `saved`. With
/// calibration `ranges`, each calibrated matrix is smoothed and followed by its `.act_smooth`.
fn tensor_sections(
    hf: &HfDir,
    mapping: &Mapping,
    opts: &QuantizeOptions,
    vmap: Option<&VocabMap>,
    ranges: Option<&calibrate::Ranges>,
    report: &mut Report,
    saved: &mut usize,
) -> Result<Vec<PendingSection>> {
    let bar = progress_bar(mapping.tensors.len(), opts.progress);
    let mut out = Vec::with_capacity(mapping.tensors.len());
    for spec in &mapping.tensors {
        bar.set_message(spec.name.clone());
        let mut data = hf.checkpoint.tensor(&spec.source)?.data;
        let mut spec = spec.clone();
        let cols = spec.shape.get(1).copied().unwrap_or(1);
        let old_rows = spec.shape[0];
        if let Some(m) = vmap.filter(|_| VOCAB_TENSORS.contains(&spec.name.as_str())) {
            data = m.gather_rows(&data, cols);
            spec.shape[0] = m.len();
        }
        let amax = ranges
            .and_then(|r| r.amax.get(&spec.name))
            .filter(|a| a.len() == cols)
            .filter(|_| calibrate::takes_8bit(&spec.name));
        let mut smooth = None;
        if let (Some(amax), Kind::Matrix) = (amax, spec.kind) {
            let s = calibrate::factors(&data, cols, amax);
            calibrate::scale_columns(&mut data, &s);
            smooth = calibrate::smooth_section(&spec.name).map(|name| (name, s));
        }
        let enc = match spec.kind {
            Kind::Matrix => {
                let dtype = matrix_dtype(opts.dtype, opts.embeddings, &spec.name, cols);
                encode_matrix(&data, spec.shape[0], cols, dtype)
            }
            Kind::Vector => encode_vector(&data),
        };
        if old_rows != spec.shape[0] {
            let old = enc.dtype.byte_len(old_rows, cols).unwrap_or(0);
            *saved += aligned(old) - aligned(enc.bytes.len());
        }
        report.tensors.push(TensorReport::new(&spec, &enc));
        let shape = spec.shape.iter().map(|&d| d as u32).collect();
        out.push(PendingSection { name: spec.name.clone(), dtype: enc.dtype, shape, bytes: enc.bytes });
        if let Some((name, s)) = smooth {
            let inv: Vec<f32> = s.iter().map(|&f| 1.0 / f).collect();
            out.push(PendingSection {
                name,
                dtype: DType::F32,
                shape: vec![cols as u32],
                bytes: f32_bytes(&inv),
            });
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

pub(crate) fn progress_bar(n: usize, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}

/// `tokenizer.vocab.{strings,offsets,sorted}` of the whole or the pruned vocabulary (adding the
/// bytes pruning saves to `saved`).
fn tokenizer_sections(hf: &HfDir, vmap: Option<&VocabMap>, saved: &mut usize) -> Vec<PendingSection> {
    let full: Vec<&str> = hf.tokenizer.vocab.iter().map(String::as_str).collect();
    let (strings, offsets, sorted) = match vmap {
        None => picoformer::tokenizer::build_planes(&full),
        Some(m) => {
            let (s, o, x) = picoformer::tokenizer::build_planes(&full);
            let old = aligned(s.len()) + aligned(o.len() * 4) + aligned(x.len() * 4);
            let (s, o, x) = picoformer::tokenizer::build_planes(&m.tokens(&full));
            *saved += old - (aligned(s.len()) + aligned(o.len() * 4) + aligned(x.len() * 4));
            (s, o, x)
        }
    };
    vec![
        u8_section("tokenizer.vocab.strings", strings),
        u32_section("tokenizer.vocab.offsets", &offsets),
        u32_section("tokenizer.vocab.sorted", &sorted),
    ]
}

/// `{prefix}.strings` and `{prefix}.offsets` for a list of strings.
fn string_planes(prefix: &str, items: &[String]) -> Vec<PendingSection> {
    let tokens: Vec<&str> = items.iter().map(String::as_str).collect();
    let (strings, offsets, _) = picoformer::tokenizer::build_planes(&tokens);
    vec![
        u8_section(&format!("{prefix}.strings"), strings),
        u32_section(&format!("{prefix}.offsets"), &offsets),
    ]
}

/// The gate's bound and the lexicon table (`picoformer::lexicon`); a word the table cannot hold
/// is an error naming the file.
fn lexicon_sections(dir: &Path, max: f32, entries: &[(String, i8)]) -> Result<Vec<PendingSection>> {
    let refs: Vec<(&str, i8)> = entries.iter().map(|(w, t)| (w.as_str(), *t)).collect();
    let (words, blocks) = picoformer::lexicon::encode(&refs)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join("lexicon.tsv").display()))?;
    Ok(vec![
        PendingSection {
            name: map::GATE_MAX.into(),
            dtype: DType::F32,
            shape: vec![1],
            bytes: f32_bytes(&[max]),
        },
        u8_section(picoformer::lexicon::WORDS, words),
        u32_section(picoformer::lexicon::BLOCKS, &blocks),
    ])
}

/// Bytes a section of `n` bytes takes in the blob (sections start on 32-byte boundaries).
fn aligned(n: usize) -> usize {
    align_up(n).unwrap_or(n)
}

fn u8_section(name: &str, bytes: Vec<u8>) -> PendingSection {
    PendingSection { name: name.into(), dtype: DType::U8, shape: vec![bytes.len() as u32], bytes }
}

fn u32_section(name: &str, v: &[u32]) -> PendingSection {
    PendingSection { name: name.into(), dtype: DType::U32, shape: vec![v.len() as u32], bytes: u32_bytes(v) }
}

//! Decoder checkpoints (`LlamaForCausalLM`, `GPT2LMHeadModel` directories; Llama-family GGUF files)
//! to `.pfm` blobs.
//!
//! ```text
//! config.json | GGUF metadata --config--> DecoderParams (header ranges checked)
//! tokenizer.json | vocab.json+merges.txt | tokenizer.ggml.* --tokenizer--> BPE planes, bos/eos/pad
//! model.safetensors | GGUF tensors --map (schema::{LLAMA, GPT2}: names, order, shapes)-->
//!     --transpose GPT-2 Conv1D--> --quantize (f32 / f16 / int8 rows, error per tensor)-->
//!     --write_blob--> blob --self-check (Decoder::from_bytes, arena_len)-->
//! ```
//! GGUF tensors are dequantized one at a time and encoded at once, so only the blob being built
//! and one f32 tensor are in memory.

pub mod chat;
mod check;
pub mod config;
pub mod map;
pub mod report;
pub mod tokenizer;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use picoformer::format::{
    write_blob, ArchParams, Header, PendingSection, Pooling, Task, TaskParams, TokenizerParams,
};
use picoformer::model::schema::{Dims, Kind};

pub use self::check::self_check;
pub use self::config::{decoder_arch, DecoderConfig};
use self::map::{map_decoder, transpose, DecoderMapping, Mapped};
pub use self::report::DecoderReport;
pub use self::tokenizer::DecoderTokenizer;
use crate::load::gguf::{llama, Gguf, LlamaGguf};
use crate::load::Checkpoint;
use crate::quantize::{encode_matrix, encode_vector, matrix_dtype};
use crate::report::TensorReport;
use crate::QuantizeOptions;

/// Default context recorded when `--max-seq` is not given (capped by the model's context).
pub const DEFAULT_MAX_SEQ: usize = 2048;

/// Converts the `LlamaForCausalLM` / `GPT2LMHeadModel` directory `dir` into a validated blob.
pub fn quantize_decoder_dir(dir: &Path, opts: &QuantizeOptions) -> Result<(Vec<u8>, DecoderReport)> {
    check_options(opts)?;
    let cfg = DecoderConfig::read(&dir.join("config.json"))?;
    let tok = DecoderTokenizer::from_dir(dir, &cfg)?;
    let ck = Checkpoint::open(&crate::load::weights_file(dir)?)?;
    let header = header(&cfg, &tok, opts)?;
    let available: Vec<(String, Vec<usize>)> =
        ck.names().into_iter().map(|n| (n.clone(), ck.shape(&n).unwrap_or(&[]).to_vec())).collect();
    let mapping = mapping(&cfg, &header, ck.path(), &available)?;
    let mut report = new_report(&cfg, &tok, &header, opts, ck.path(), &mapping);
    let bar = crate::progress_bar(mapping.tensors.len(), opts.progress);
    let mut sections = Vec::with_capacity(mapping.tensors.len());
    for m in &mapping.tensors {
        bar.set_message(m.spec.name.clone());
        let data = ck.tensor(&m.spec.source)?.data;
        let (section, row) = encode(m, data, opts);
        report.tensors.push(row);
        sections.push(section);
        bar.inc(1);
    }
    bar.finish_and_clear();
    finish(header, sections, &tok, report)
}

/// Converts a Llama-family GGUF file (byte-level BPE tokenizer) into a validated blob; tensors are
/// dequantized exactly, one at a time.
pub fn quantize_gguf(path: &Path, opts: &QuantizeOptions) -> Result<(Vec<u8>, DecoderReport)> {
    check_options(opts)?;
    let g = Gguf::open(path)?;
    let lg = LlamaGguf::from_gguf(&g)?;
    let cfg = DecoderConfig::from_gguf(path, &lg.config)?;
    let tok = DecoderTokenizer::from_gguf(path, &lg.tokenizer, &cfg)?;
    let header = header(&cfg, &tok, opts)?;
    let (nh, nkv) = (lg.config.n_heads, lg.config.n_kv_heads);
    let mut available = Vec::new();
    for t in g.tensors().filter(|t| t.name != "rope_freqs.weight") {
        let Some((name, _)) = llama::hf_name(&t.name, nh, nkv) else {
            bail!("{}: tensor {:?} has no Hugging Face Llama name", path.display(), t.name);
        };
        available.push((name, t.shape()));
    }
    let mapping = mapping(&cfg, &header, path, &available)?;
    let mut report = new_report(&cfg, &tok, &header, opts, path, &mapping);
    let index: HashMap<&str, usize> =
        mapping.tensors.iter().enumerate().map(|(i, m)| (m.spec.source.as_str(), i)).collect();
    let mut slots: Vec<Option<(PendingSection, TensorReport)>> = vec![None; mapping.tensors.len()];
    let bar = crate::progress_bar(available.len(), opts.progress);
    for item in llama::hf_tensors(&g) {
        let (name, shape, values) = item?;
        bar.set_message(name.clone());
        if let Some(&i) = index.get(name.as_str()) {
            let m = &mapping.tensors[i];
            if shape != m.stored_shape() {
                bail!(
                    "{}: tensor {name:?}: expected shape {:?}, found {shape:?}",
                    path.display(),
                    m.spec.shape
                );
            }
            slots[i] = Some(encode(m, values, opts));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut sections = Vec::with_capacity(slots.len());
    for (slot, m) in slots.into_iter().zip(&mapping.tensors) {
        let (section, row) =
            slot.with_context(|| format!("{}: tensor {:?} was not produced", path.display(), m.spec.source))?;
        report.tensors.push(row);
        sections.push(section);
    }
    finish(header, sections, &tok, report)
}

/// BERT-only options are refused rather than ignored.
fn check_options(opts: &QuantizeOptions) -> Result<()> {
    let bert_only = [
        ("--prune-vocab", opts.prune.is_some()),
        ("--pooling", opts.pooling.is_some()),
        ("--normalize/--no-normalize", opts.normalize.is_some()),
    ];
    if let Some((flag, _)) = bert_only.iter().find(|(_, set)| *set) {
        bail!("{flag} applies to BERT models only, not to decoders");
    }
    Ok(())
}

/// The header of a decoder blob (the writer records minor version 1 itself).
fn header(cfg: &DecoderConfig, tok: &DecoderTokenizer, opts: &QuantizeOptions) -> Result<Header> {
    let max = cfg.params.max_position as usize;
    let max_seq = match opts.max_seq {
        Some(n) if (2..=max).contains(&n) => n,
        Some(n) => bail!("--max-seq {n} outside 2..={max} (the model's context, {})", cfg.path.display()),
        None => DEFAULT_MAX_SEQ.min(max),
    };
    Ok(Header {
        version_minor: 0,
        file_len: 0,
        section_count: 0,
        arch: cfg.arch,
        task: Task::CausalLm,
        params: ArchParams::Decoder(cfg.params),
        task_params: TaskParams {
            n_labels: 0,
            pooling: Pooling::Cls,
            normalize: false,
            has_pooler: false,
            lexicon_gate: false,
            default_max_seq: max_seq as u32,
        },
        tokenizer: TokenizerParams::Bpe(tok.params()),
    })
}

/// Maps the checkpoint's tensors through the architecture's schema, sized by the header.
fn mapping(
    cfg: &DecoderConfig,
    header: &Header,
    file: &Path,
    available: &[(String, Vec<usize>)],
) -> Result<DecoderMapping> {
    let dims = Dims::from_header(header);
    map_decoder(cfg.arch, &dims, cfg.params.n_layers as usize, file, available)
}

fn new_report(
    cfg: &DecoderConfig,
    tok: &DecoderTokenizer,
    header: &Header,
    opts: &QuantizeOptions,
    source: &Path,
    mapping: &DecoderMapping,
) -> DecoderReport {
    let max_seq = header.task_params.default_max_seq as usize;
    let source = source.display().to_string();
    let mut r = DecoderReport::new(cfg.arch, &cfg.params, tok, opts, source, max_seq);
    r.unused = mapping.unused.clone();
    r
}

/// One tensor (as the checkpoint stores it, row-major) transposed if needed and encoded.
fn encode(m: &Mapped, data: Vec<f32>, opts: &QuantizeOptions) -> (PendingSection, TensorReport) {
    let spec = &m.spec;
    let (rows, cols) = (spec.shape[0], spec.shape.get(1).copied().unwrap_or(1));
    let data = if m.transposed { transpose(&data, cols, rows) } else { data };
    let enc = match spec.kind {
        Kind::Matrix => {
            encode_matrix(&data, rows, cols, matrix_dtype(opts.dtype, opts.embeddings, &spec.name, cols))
        }
        Kind::Vector => encode_vector(&data),
    };
    let row = TensorReport::new(spec, &enc);
    let shape = spec.shape.iter().map(|&d| d as u32).collect();
    (PendingSection { name: spec.name.clone(), dtype: enc.dtype, shape, bytes: enc.bytes }, row)
}

/// Adds the tokenizer planes, writes the blob and loads it back.
fn finish(
    header: Header,
    mut sections: Vec<PendingSection>,
    tok: &DecoderTokenizer,
    mut report: DecoderReport,
) -> Result<(Vec<u8>, DecoderReport)> {
    sections.extend(tok.sections());
    let blob = write_blob(header, &sections).context("assembling the blob")?;
    drop(sections);
    report.blob_bytes = blob.len();
    report.arena_bytes = self_check(&blob)?;
    Ok((blob, report))
}

//! `picoformer`: convert Hugging Face BERT checkpoints to `.pfm` blobs, inspect and run them.
//! This file is the command line only; the work is in the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use picoformer::format::{Blob, Pooling};
use picoformer::{KvPrecision, SamplerSettings};
use picoformer_tool::run::{self, Command, RunOptions};
use picoformer_tool::{
    bench, bench_decoder, escape, eval, generate, inspect, load_blob, prompts, prune, quantize_path, write,
    KeepChars, PruneOptions, QuantizeOptions, WeightDtype,
};

#[derive(Parser)]
#[command(name = "picoformer", version, about = "Convert, inspect and run picoformer (.pfm) models")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Threads for the matrix products of encoders and prompts (1: single-threaded; results are
    /// identical for any count).
    #[arg(
        long,
        global = true,
        default_value_t = 1,
        value_parser = clap::value_parser!(u16).range(1..=64),
        allow_negative_numbers = true
    )]
    threads: u16,
}

#[derive(Subcommand)]
enum Cmd {
    /// Convert a Hugging Face directory (BERT, Llama, GPT-2: config.json, model.safetensors,
    /// tokenizer) or a Llama-family .gguf file to a .pfm blob.
    Quantize {
        /// The Hugging Face model directory, or a .gguf file.
        dir: PathBuf,
        /// Storage of 2-D weight matrices (biases and LayerNorm stay f32).
        #[arg(long, value_enum, default_value = "f32")]
        dtype: DtypeArg,
        /// Storage of the token-embedding table alone [default: as --dtype implies: int8 for
        /// int4]. `--dtype int8 --embeddings int4` halves the table (a row per vocabulary entry) in
        /// groups of 32 with an f16 scale and offset each, the rest int8.
        #[arg(long, value_enum, value_name = "DTYPE")]
        embeddings: Option<DtypeArg>,
        /// Output file. Written to a temporary file and renamed into place only once every output
        /// is complete (an existing file is either kept or replaced whole); never an input, nor a
        /// path inside the input directory.
        #[arg(short, long)]
        output: PathBuf,
        /// Default maximum sequence length [default: sentence-transformers' max_seq_length, else min(max_position_embeddings, 128)].
        #[arg(long, allow_negative_numbers = true)]
        max_seq: Option<usize>,
        /// Default pooling of an embedding model [default: sentence-transformers' Pooling, else pooler if present, else cls].
        #[arg(long, value_enum)]
        pooling: Option<PoolingArg>,
        #[command(flatten)]
        normalize: NormalizeArgs,
        /// Keep only the vocabulary this corpus (one input per line) needs, plus special tokens and
        /// single characters (with their ## forms, see --keep-chars).
        #[arg(long, value_name = "CORPUS.txt")]
        prune_vocab: Option<PathBuf>,
        /// With --prune-vocab: target vocabulary size. Below it, fill with the lowest remaining
        /// ids; above it, drop the least frequent corpus tokens (coverage is then reported).
        #[arg(long, value_name = "N", requires = "prune_vocab", allow_negative_numbers = true)]
        vocab_size: Option<usize>,
        /// With --prune-vocab: single-character tokens (and ## forms) kept regardless of the
        /// corpus: all, ASCII, Latin scripts (U+0000..U+024F), or those the corpus uses.
        #[arg(long, value_enum, default_value = "all", requires = "prune_vocab")]
        keep_chars: KeepCharsArg,
        /// With --prune-vocab: words (one per line, e.g. a sentiment lexicon) kept as whole
        /// tokens whether or not the corpus has them, where the vocabulary has them as one token.
        #[arg(long, value_name = "FILE", requires = "prune_vocab")]
        keep_words: Option<PathBuf>,
        /// With --prune-vocab: also write the pruned vocabulary as a vocab.txt (one token per
        /// line, new id order; written together with -o, as -o is).
        #[arg(long, value_name = "FILE", requires = "prune_vocab")]
        vocab_out: Option<PathBuf>,
        /// With --dtype int8 (BERT): calibrate activation smoothing on these inputs (one per line,
        /// blank lines skipped; a few hundred typical sentences) and give the encoder's matrices
        /// 8-bit activations (faster where the CPU multiplies 8-bit pairs; see README).
        #[arg(long, value_name = "TEXT.txt")]
        calibrate: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also list the checkpoint tensors that are not used.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Show a .pfm blob's header, sections, totals and arena size.
    Inspect {
        /// The .pfm file (a regular file of at most 4 GiB, as for every model the tool reads).
        model: PathBuf,
        /// Arena size for this sequence length (decoders: context) [default: the blob's].
        #[arg(long, allow_negative_numbers = true)]
        context: Option<usize>,
        /// Arena size when this many rows are processed at a time [default: all].
        #[arg(long, allow_negative_numbers = true)]
        chunk: Option<usize>,
        /// Arena size with int8 attention keys and values (the firmware's plan: `--context 64
        /// --chunk 2 --kv-int8` for the bundled classifier).
        #[arg(long)]
        kv_int8: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Token ids of each input.
    Tokenize(RunArgs),
    /// Sentence embedding of each input.
    Embed {
        #[command(flatten)]
        run: RunArgs,
        /// Pooling [default: the model's].
        #[arg(long, value_enum)]
        pooling: Option<PoolingArg>,
        #[command(flatten)]
        normalize: NormalizeArgs,
    },
    /// Class label and probabilities of each input.
    Classify(RunArgs),
    /// Single-thread speed: encoders' latency at given sequence lengths (tokenizer + encoder),
    /// decoders' prompt and decode tokens per second.
    Bench {
        /// The .pfm models (regular files of at most 4 GiB).
        #[arg(short, long = "model", required = true)]
        models: Vec<PathBuf>,
        /// Sequence lengths in tokens, [CLS] and [SEP] included [default: 16,64,128; those above
        /// the model's max_position replaced by it].
        #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
        seq: Option<Vec<usize>>,
        /// Seconds of timed runs per model and length (0 to 3600; at least one run is timed).
        #[arg(long, default_value_t = 3.0, value_parser = bench::parse_seconds, allow_hyphen_values = true)]
        seconds: f64,
        /// Least number of timed runs.
        #[arg(long, default_value_t = 20, allow_negative_numbers = true)]
        min_iters: usize,
        /// One JSON object per row.
        #[arg(long)]
        json: bool,
        /// Decoders: prompt tokens processed per round [default: 64, fewer where the model's
        /// context is shorter].
        #[arg(long, allow_negative_numbers = true)]
        prompt: Option<usize>,
        /// Decoders: tokens generated per round [default: 64, fewer where the model's context is
        /// shorter].
        #[arg(long, allow_negative_numbers = true)]
        decode: Option<usize>,
    },
    /// Accuracy and per-class precision / recall / F1 of a classifier on a labelled TSV file, or
    /// the perplexity of a decoder on a text file.
    Eval {
        /// The .pfm model [default: the bundled sentiment model; with --perplexity, the bundled
        /// tiny GPT].
        #[arg(short, long)]
        model: Option<PathBuf>,
        /// Examples, one `label<TAB>text` per line (labels are the model's label names).
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "perplexity",
            conflicts_with = "perplexity"
        )]
        tsv: Option<PathBuf>,
        /// A UTF-8 text file: the decoder's perplexity on it, in non-overlapping windows of
        /// --ctx tokens (no BOS; the first token of each window is not scored).
        #[arg(long, value_name = "FILE")]
        perplexity: Option<PathBuf>,
        /// Window of --perplexity in tokens [default: 256].
        #[arg(long, allow_negative_numbers = true)]
        ctx: Option<usize>,
        /// With --perplexity: use at most this many tokens of the text (0: all).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        max_tokens: usize,
        /// With --perplexity: key/value cache precision.
        #[arg(long, value_enum, default_value = "f32")]
        kv: KvArg,
        /// Also compare with this model: label agreement and logit differences.
        #[arg(long, value_name = "REF.pfm")]
        reference: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Maximum sequence length [default: each model's].
        #[arg(long, allow_negative_numbers = true)]
        max_seq: Option<usize>,
    },
    /// Continue a prompt with a decoder model (Llama family, GPT-2), streaming the text.
    Generate {
        /// The .pfm decoder model [default: the bundled tiny GPT].
        #[arg(short, long)]
        model: Option<PathBuf>,
        /// The prompt (no BOS or chat template is added unless the model asks for BOS, or --chat);
        /// it may start with '-'.
        #[arg(long, allow_hyphen_values = true, required_unless_present = "prompts")]
        prompt: Option<String>,
        /// Many prompts, one JSON line out for each: a file of JSON lines, each a string or
        /// {"prompt": "...", "seed": N} (each as its own `--prompt`, the model loaded once).
        #[arg(long, conflicts_with = "prompt")]
        prompts: Option<PathBuf>,
        /// Stop once the text holds this string (the text ends before it); may be repeated.
        #[arg(long, allow_hyphen_values = true, value_parser = non_empty)]
        stop: Vec<String>,
        /// Most new tokens (0: until the end-of-sequence token or a full context).
        #[arg(long, default_value_t = 64, allow_negative_numbers = true)]
        max_tokens: usize,
        /// Softmax temperature; 0 is greedy.
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        temperature: f32,
        /// Keep the K most likely tokens (0: off).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        top_k: usize,
        /// Nucleus sampling mass (1: off).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        top_p: f32,
        /// Keep tokens at least this fraction as likely as the best (0: off).
        #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
        min_p: f32,
        /// Repetition penalty over the context (1: off).
        #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
        repetition_penalty: f32,
        /// Random seed of the sampler.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        seed: u64,
        /// Wrap the prompt in the model's chat template.
        #[arg(long)]
        chat: bool,
        /// Print one JSON line at the end instead of streaming text.
        #[arg(long)]
        json: bool,
        /// Context length in tokens [default: prompt + --max-tokens, at most the model's].
        #[arg(long, allow_negative_numbers = true)]
        context: Option<usize>,
        /// Key/value cache precision.
        #[arg(long, value_enum, default_value = "f32")]
        kv: KvArg,
    },
    /// Predictions for each [MASK] of each input.
    FillMask {
        #[command(flatten)]
        run: RunArgs,
        /// Predictions per mask.
        #[arg(
            long,
            default_value_t = 5,
            value_parser = clap::value_parser!(u16).range(1..),
            allow_negative_numbers = true
        )]
        top_k: u16,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The .pfm model (a regular file of at most 4 GiB) [default: the bundled sentiment model].
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// One JSON object per input, one per line.
    #[arg(long)]
    json: bool,
    /// Maximum sequence length [default: the model's].
    #[arg(long, allow_negative_numbers = true)]
    max_seq: Option<usize>,
    /// Rows of the sequence processed at a time [default: all]: less arena, same results.
    #[arg(long, allow_negative_numbers = true)]
    chunk: Option<usize>,
    /// Keep attention keys and values in int8, as the firmware does (less arena, tiny differences).
    #[arg(long)]
    kv_int8: bool,
    /// Input texts; without any, one input per line of stdin. Texts that start with '-' go after
    /// `--` (`-- -x`): every argument after `--` is a text.
    text: Vec<String>,
}

#[derive(Args)]
struct NormalizeArgs {
    /// L2-normalize embeddings.
    #[arg(long, overrides_with = "no_normalize")]
    normalize: bool,
    /// Do not L2-normalize embeddings.
    #[arg(long)]
    no_normalize: bool,
}

impl NormalizeArgs {
    fn value(&self) -> Option<bool> {
        match (self.normalize, self.no_normalize) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum DtypeArg {
    F32,
    F16,
    Int8,
    /// int4 in groups of 32 for the layers' matrices, int8 for embeddings and heads (see
    /// --embeddings).
    Int4,
    /// int4 in groups of 64 (half the scales), as int4 otherwise; e.g. `--embeddings int4-g64`.
    #[value(name = "int4-g64")]
    Int4G64,
}

impl From<DtypeArg> for WeightDtype {
    fn from(d: DtypeArg) -> WeightDtype {
        match d {
            DtypeArg::F32 => WeightDtype::F32,
            DtypeArg::F16 => WeightDtype::F16,
            DtypeArg::Int8 => WeightDtype::Int8,
            DtypeArg::Int4 => WeightDtype::Int4,
            DtypeArg::Int4G64 => WeightDtype::Int4G64,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum KvArg {
    F32,
    F16,
    Int8,
}

impl From<KvArg> for KvPrecision {
    fn from(k: KvArg) -> KvPrecision {
        match k {
            KvArg::F32 => KvPrecision::F32,
            KvArg::F16 => KvPrecision::F16,
            KvArg::Int8 => KvPrecision::I8,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum PoolingArg {
    Cls,
    Mean,
    Pooler,
}

impl From<PoolingArg> for Pooling {
    fn from(p: PoolingArg) -> Pooling {
        match p {
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Pooler => Pooling::Pooler,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum KeepCharsArg {
    All,
    Ascii,
    Latin,
    Corpus,
}

impl From<KeepCharsArg> for KeepChars {
    fn from(k: KeepCharsArg) -> KeepChars {
        match k {
            KeepCharsArg::All => KeepChars::All,
            KeepCharsArg::Ascii => KeepChars::Ascii,
            KeepCharsArg::Latin => KeepChars::Latin,
            KeepCharsArg::Corpus => KeepChars::Corpus,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    picoformer::kernels::threads::set_threads(cli.threads as usize);
    match dispatch(cli.cmd) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", escape::line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// A closed stdout (`picoformer ... | head`) ends the command quietly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The non-blank lines of a UTF-8 text file.
fn read_lines(path: &std::path::Path) -> Result<Vec<String>> {
    let text = run::read_text(path)?;
    Ok(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect())
}

/// Runs one command; `Ok(false)` when some inputs failed (already reported).
fn dispatch(cmd: Cmd) -> Result<bool> {
    match cmd {
        Cmd::Quantize {
            dir,
            dtype,
            embeddings,
            output,
            max_seq,
            pooling,
            normalize,
            prune_vocab,
            vocab_size,
            keep_chars,
            keep_words,
            vocab_out,
            calibrate,
            json,
            verbose,
        } => {
            // before anything is read or written: no output over an input (or inside the input
            // directory) or over the other output, and every output directory exists
            let model_noun = if dir.is_dir() { "input directory" } else { "input model" };
            let mut inputs = vec![(model_noun, dir.as_path())];
            inputs.extend(prune_vocab.as_deref().map(|p| ("--prune-vocab corpus", p)));
            inputs.extend(keep_words.as_deref().map(|p| ("--keep-words file", p)));
            inputs.extend(calibrate.as_deref().map(|p| ("--calibrate text", p)));
            let mut outputs = vec![("-o", output.as_path())];
            outputs.extend(vocab_out.as_deref().map(|p| ("--vocab-out", p)));
            let targets = write::check_outputs(&outputs, &inputs)?;
            let opts = QuantizeOptions {
                dtype: dtype.into(),
                embeddings: embeddings.map(Into::into),
                max_seq,
                pooling: pooling.map(Into::into),
                normalize: normalize.value(),
                progress: true,
                prune: prune_vocab.map(|corpus| PruneOptions {
                    corpus,
                    vocab_size,
                    keep_chars: keep_chars.into(),
                    keep_words,
                }),
                calibration: calibrate.as_deref().map(read_lines).transpose()?,
            };
            let (blob, report) = quantize_path(&dir, &opts)?;
            let vocab_txt = vocab_out.as_ref().map(|_| prune::vocab_txt(&blob)).transpose()?;
            // all outputs staged as temporary files, then renamed into place together
            let mut staged = write::Outputs::new();
            staged.stage(&targets[0], &blob)?;
            if let (Some(path), Some(text)) = (targets.get(1), &vocab_txt) {
                staged.stage(path, text.as_bytes())?;
            }
            staged.commit()?;
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", report.to_json())?;
            } else {
                writeln!(out, "{report}")?;
                if verbose {
                    let mut s = String::new();
                    report.fmt_unused(&mut s)?;
                    write!(out, "{s}")?;
                }
                writeln!(out, "wrote {}", escape::line(&output.display().to_string()))?;
                if let Some(path) = &vocab_out {
                    writeln!(out, "wrote {}", escape::line(&path.display().to_string()))?;
                }
            }
            Ok(true)
        }
        Cmd::Inspect { model, json, context, chunk, kv_int8 } => {
            let buf = load_blob(&model)?;
            let plan = inspect::ArenaPlan { context, chunk, kv_int8 };
            let v = inspect::inspect_json(&Blob::parse(buf.as_bytes())?, plan)?;
            let mut out = std::io::stdout().lock();
            match json {
                true => writeln!(out, "{}", escape::json(&v)?)?,
                false => writeln!(out, "{}", inspect::inspect_text(&v))?,
            }
            // the report is printed either way; a blob that cannot run fails the command
            if let Some(e) = inspect::inspect_error(&v) {
                out.flush()?;
                eprintln!("error: {}", escape::line(&format!("{}: {e}", model.display())));
                return Ok(false);
            }
            Ok(true)
        }
        Cmd::Bench { models, seq, seconds, min_iters, json, prompt, decode } => {
            let opts = bench::BenchOptions { seqs: seq, seconds, min_iters };
            let dopts = bench_decoder::DecoderBenchOptions { prompt, decode, seconds, min_iters };
            let (mut rows, mut drows) = (Vec::new(), Vec::new());
            for m in &models {
                let blob = load_blob(m)?;
                match Blob::parse(blob.as_bytes())?.header().arch.is_decoder() {
                    true => drows.push(bench_decoder::bench_decoder(m, &blob, &dopts)?),
                    false => rows.extend(bench::bench_model(m, &blob, &opts)?),
                }
            }
            let mut out = std::io::stdout().lock();
            match json {
                true => {
                    rows.iter().try_for_each(|r| writeln!(out, "{}", escape::json(r)?))?;
                    drows.iter().try_for_each(|r| writeln!(out, "{}", escape::json(r)?))?;
                }
                false => {
                    if !rows.is_empty() {
                        write!(out, "{}", bench::table(&rows))?;
                    }
                    if !drows.is_empty() {
                        write!(out, "{}", bench_decoder::table(&drows))?;
                    }
                }
            }
            Ok(true)
        }
        Cmd::Eval { model, tsv: _, perplexity: Some(text), ctx, max_tokens, kv, json, .. } => {
            let (path, blob) = run::decoder_or_default(model.as_deref())?;
            let m = generate::decoder(&path, &blob)?;
            let text = run::read_text(&text)?;
            let mut ids = generate::encode(m.tokenizer(), &text)?;
            if max_tokens > 0 {
                ids.truncate(max_tokens);
            }
            let window =
                generate::perplexity_window(&m, ctx).with_context(|| format!("{}", path.display()))?;
            let p = generate::perplexity(&m, &ids, window, kv.into())
                .with_context(|| format!("{}", path.display()))?;
            let mut out = std::io::stdout().lock();
            match json {
                true => writeln!(out, "{}", escape::json(&p)?)?,
                false => writeln!(
                    out,
                    "perplexity {:.4} over {} scored tokens ({} tokens, windows of {}), {:.0} tok/s",
                    p.perplexity, p.scored, p.tokens, p.window, p.tok_per_s
                )?,
            }
            Ok(true)
        }
        Cmd::Eval { model, tsv, reference, json, max_seq, .. } => {
            let tsv = tsv.context("--tsv or --perplexity is required")?;
            let (model, blob) = run::model_or_default(model.as_deref())?;
            let ref_blob = reference.as_deref().map(load_blob).transpose()?;
            let r = reference.as_deref().zip(ref_blob.as_ref());
            let report = eval::evaluate((&model, &blob), &tsv, r, max_seq)?;
            let mut out = std::io::stdout().lock();
            match json {
                true => writeln!(out, "{}", escape::json(&report)?)?,
                false => writeln!(out, "{report}")?,
            }
            Ok(true)
        }
        Cmd::Generate {
            model,
            prompt,
            prompts,
            stop,
            max_tokens,
            temperature,
            top_k,
            top_p,
            min_p,
            repetition_penalty,
            seed,
            chat,
            json,
            context,
            kv,
        } => {
            let (model, blob) = run::decoder_or_default(model.as_deref())?;
            let sampler = SamplerSettings { temperature, top_k, top_p, min_p, repetition_penalty, seed };
            let opts = generate::GenerateOptions {
                prompt: prompt.unwrap_or_default(),
                max_tokens,
                sampler,
                chat,
                context,
                kv: kv.into(),
                stream: !json,
                stop,
            };
            let mut out = std::io::stdout().lock();
            if let Some(file) = prompts {
                return prompts::generate_prompts(&model, &blob, &file, &opts, &mut out);
            }
            let g = generate::generate(&model, &blob, &opts, &mut out)?;
            if json {
                writeln!(out, "{}", escape::json(&g)?)?;
            } else {
                eprintln!(
                    "[{} prompt tokens at {:.1} tok/s, {} generated at {:.1} tok/s, stop: {}]",
                    g.prompt_ids.len(),
                    g.prompt_tok_per_s,
                    g.ids.len(),
                    g.decode_tok_per_s,
                    g.stop
                );
            }
            Ok(true)
        }
        Cmd::Tokenize(a) if is_decoder(a.model.as_deref())? => tokenize_decoder(a),
        Cmd::Tokenize(a) => run_cmd(a, Command::Tokenize),
        Cmd::Embed { run, pooling, normalize } => {
            run_cmd(run, Command::Embed { pooling: pooling.map(Into::into), normalize: normalize.value() })
        }
        Cmd::Classify(a) => run_cmd(a, Command::Classify),
        Cmd::FillMask { run, top_k } => run_cmd(run, Command::FillMask { top_k: top_k as usize }),
    }
}

/// A `--stop` string: not empty (an empty one would end generation before it starts).
fn non_empty(s: &str) -> Result<String, &'static str> {
    match s.is_empty() {
        true => Err("the stop string is empty"),
        false => Ok(s.to_string()),
    }
}

/// Whether `-m` names a decoder blob (the bundled default model is an encoder).
fn is_decoder(model: Option<&Path>) -> Result<bool> {
    let Some(path) = model else { return Ok(false) };
    let buf = load_blob(path)?;
    Ok(Blob::parse(buf.as_bytes())?.header().arch.is_decoder())
}

/// `tokenize` for a decoder: the BPE ids of each input (no BOS), `{"ids", "truncated"}`.
fn tokenize_decoder(a: RunArgs) -> Result<bool> {
    let path = a.model.context("-m is required")?;
    let blob = load_blob(&path)?;
    let m = generate::decoder(&path, &blob)?;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for (n, input) in run::inputs(&a.text, std::io::stdin().lock()).enumerate() {
        // a line that is not text fails alone, as an input of the encoder commands does
        let text = match input? {
            Ok(text) => text,
            Err(unreadable) => {
                failed += 1;
                out.flush()?;
                eprintln!("error: input {}: {}", n + 1, escape::line(&unreadable));
                if a.json {
                    writeln!(out, "{}", escape::json(&serde_json::json!({ "error": unreadable }))?)?;
                }
                continue;
            }
        };
        let ids = generate::encode(m.tokenizer(), &text)?;
        match a.json {
            true => {
                writeln!(out, "{}", escape::json(&serde_json::json!({ "ids": ids, "truncated": false }))?)?
            }
            false => writeln!(out, "{}", ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" "))?,
        }
    }
    Ok(failed == 0)
}

fn run_cmd(a: RunArgs, cmd: Command) -> Result<bool> {
    let (path, blob) = run::model_or_default(a.model.as_deref())?;
    let path: &Path = &path;
    let opts = RunOptions { json: a.json, max_seq: a.max_seq, chunk: a.chunk, kv_int8: a.kv_int8 };
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    let failed = run::run(path, &blob, cmd, &opts, run::inputs(&a.text, stdin), &mut out)?;
    Ok(failed == 0)
}

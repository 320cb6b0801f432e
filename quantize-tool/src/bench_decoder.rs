//! `picoformer bench` for decoders: single-thread prompt processing and decode speed.
//!
//! Prompt: exactly `prompt` tokens of a fixed English text, fed from position 0 (fresh context)
//! in one call (`Generator::feed`, chunks of 64). Decode: after that prompt, `decode` greedy tokens
//! (`Generator::next`), each one forward step of one token at a growing position. Warm-up, then
//! timed rounds until the time budget is spent (at least `min_iters`, and always at least one);
//! medians reported, with the process's peak resident memory (Linux `VmHWM`).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use picoformer::format::{AlignedBuf, DType};
use picoformer::{Decoder, Generator, GeneratorOptions, Limits, Sampler, SamplerSettings};
use serde::Serialize;

use crate::generate::{decoder, encode};

/// One row of the decoder benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct DecoderBenchRow {
    /// Model file name.
    pub model: String,
    /// Weight dtype of the layer matrices.
    pub dtype: String,
    /// Blob size in bytes.
    pub blob_bytes: usize,
    /// Arena bytes (context = prompt + decode tokens).
    pub arena_bytes: usize,
    /// Prompt tokens per round.
    pub prompt_tokens: usize,
    /// Median prompt-processing speed.
    pub prompt_tok_per_s: f64,
    /// Tokens generated per round.
    pub decode_tokens: usize,
    /// Median decode speed.
    pub decode_tok_per_s: f64,
    /// Timed rounds.
    pub iters: usize,
    /// Peak resident memory of the process so far, bytes (0 where unknown).
    pub peak_rss_bytes: u64,
    /// How the lengths were chosen when not as asked: default lengths lowered to fit the model's
    /// context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Decoder benchmark settings.
#[derive(Debug, Clone)]
pub struct DecoderBenchOptions {
    /// Prompt tokens (`--prompt`); `None`: [`DEFAULT_PROMPT`], lowered to fit the model's context.
    pub prompt: Option<usize>,
    /// Generated tokens (`--decode`); `None`: [`DEFAULT_DECODE`], lowered to fit the model's
    /// context.
    pub decode: Option<usize>,
    /// Time budget, `0..=`[`MAX_SECONDS`](crate::bench::MAX_SECONDS) (checked by
    /// [`budget`](crate::bench::budget)).
    pub seconds: f64,
    /// Least number of timed rounds.
    pub min_iters: usize,
}

/// Prompt tokens when `--prompt` is not given (fewer where the model's context is shorter).
pub const DEFAULT_PROMPT: usize = 64;

/// Generated tokens when `--decode` is not given (fewer where the model's context is shorter).
pub const DEFAULT_DECODE: usize = 64;

const TEXT: &str = "The old lighthouse keeper climbed the spiral stairs every evening, carrying a lamp, \
a book and a cup of tea. From the top he could see the whole bay: fishing boats coming home, gulls \
circling over the harbour, and the long shadow of the cliffs falling across the water. ";

/// Measures one decoder blob.
pub fn bench_decoder(path: &Path, blob: &AlignedBuf, opts: &DecoderBenchOptions) -> Result<DecoderBenchRow> {
    let budget = crate::bench::budget(opts.seconds)?;
    if opts.prompt == Some(0) {
        bail!("--prompt 0: the benchmark needs at least one prompt token");
    }
    let model = decoder(path, blob)?;
    // the lengths are checked against the context before the prompt text is built: a huge
    // --prompt fails here rather than building a text of that many tokens
    let max = model.config().max_position;
    let lengths = lengths(opts.prompt, opts.decode, max).with_context(|| format!("{}", path.display()))?;
    let (n_prompt, n_decode) = (lengths.prompt, lengths.decode);
    let given = match (opts.prompt, opts.decode) {
        (None, None) => format!("prompt {n_prompt}, decode {n_decode} tokens"),
        _ => format!("--prompt {n_prompt} --decode {n_decode}"),
    };
    let gopts = GeneratorOptions::new(n_prompt + n_decode + 1).with_sampling(false);
    let arena_bytes = model.arena_len(&gopts).with_context(|| format!("{}: {given}", path.display()))?;
    let prompt = prompt_ids(&model, n_prompt)?;
    let mut arena =
        crate::alloc_zeroed(arena_bytes, || format!("the arena (model {}, {given})", path.display()))?;
    let mut g = Generator::new(&model, arena.as_mut_bytes(), &gopts)?;
    let round = |g: &mut Generator<'_, '_>| -> Result<(f64, f64)> {
        g.reset();
        let t = Instant::now();
        g.feed(&prompt)?;
        let prefill = t.elapsed().as_secs_f64();
        let mut sampler = Sampler::new(SamplerSettings::GREEDY)?;
        let limits = Limits { max_tokens: 0, stop_ids: &[] };
        let t = Instant::now();
        for _ in 0..n_decode {
            g.next(&mut sampler, &limits)?;
        }
        Ok((n_prompt as f64 / prefill.max(1e-9), n_decode as f64 / t.elapsed().as_secs_f64().max(1e-9)))
    };
    round(&mut g)?;
    let start = Instant::now();
    let (mut pre, mut dec) = (Vec::new(), Vec::new());
    while pre.len() < opts.min_iters.max(1) || start.elapsed() < budget {
        let (p, d) = round(&mut g)?;
        pre.push(p);
        dec.push(d);
    }
    Ok(DecoderBenchRow {
        model: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        dtype: dtype_name(&model).to_string(),
        blob_bytes: blob.as_bytes().len(),
        arena_bytes,
        prompt_tokens: n_prompt,
        prompt_tok_per_s: median(&mut pre),
        decode_tokens: n_decode,
        decode_tok_per_s: median(&mut dec),
        iters: pre.len(),
        peak_rss_bytes: peak_rss(),
        note: lengths.note,
    })
}

/// The prompt and decode lengths of one benchmark round, and how they were chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Lengths {
    /// Prompt tokens (at least 1).
    pub prompt: usize,
    /// Generated tokens.
    pub decode: usize,
    /// Set when a default length was lowered to fit the model's context.
    pub note: Option<String>,
}

/// The lengths for `--prompt` and `--decode` (each `None` when not given) on a model of context
/// `max` (`max_position`): a round needs `prompt + decode + 1 <= max`. Given lengths are checked
/// (the error names only those given); a default one is lowered to fit, with a note.
pub fn lengths(prompt: Option<usize>, decode: Option<usize>, max: usize) -> Result<Lengths> {
    // prompt and decode tokens a round has room for
    let room = max.saturating_sub(1);
    let fits = |p: usize, d: usize| p <= room && d <= room - p;
    let too_long = |what: String| -> anyhow::Error {
        anyhow::anyhow!(
            "{what}: more than the model's max_position {max} allows (at most {room} prompt and decode \
             tokens together, at least one of them a prompt token)"
        )
    };
    let (p, d) = match (prompt, decode) {
        (Some(p), Some(d)) if fits(p, d) => (p, d),
        (Some(p), Some(d)) => return Err(too_long(format!("--prompt {p} --decode {d}"))),
        (Some(p), None) if fits(p, 0) => (p, DEFAULT_DECODE.min(room - p)),
        (Some(p), None) => return Err(too_long(format!("--prompt {p}"))),
        (None, Some(d)) if fits(1, d) => (DEFAULT_PROMPT.min(room - d), d),
        (None, Some(d)) => return Err(too_long(format!("--decode {d}"))),
        (None, None) if fits(DEFAULT_PROMPT, DEFAULT_DECODE) => (DEFAULT_PROMPT, DEFAULT_DECODE),
        (None, None) if room >= 1 => (room.div_ceil(2), room / 2),
        (None, None) => bail!("the model's max_position {max} leaves no room for a prompt token"),
    };
    let lowered = |what: &str, n: usize, default: usize| {
        (n < default).then(|| format!("{what} {n} in place of the default {default}"))
    };
    let changes: Vec<String> = [
        prompt.is_none().then(|| lowered("prompt", p, DEFAULT_PROMPT)).flatten(),
        decode.is_none().then(|| lowered("decode", d, DEFAULT_DECODE)).flatten(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let note = (!changes.is_empty())
        .then(|| format!("{} (the model's maximum context, {max} tokens)", changes.join(", ")));
    Ok(Lengths { prompt: p, decode: d, note })
}

/// The first `n` tokens of the benchmark text (repeated as needed).
fn prompt_ids(model: &Decoder<'_>, n: usize) -> Result<Vec<u32>> {
    let text = TEXT.repeat(n / 16 + 2);
    let mut ids = encode(model.tokenizer(), &text)?;
    if ids.len() < n {
        bail!("the benchmark text gives only {} tokens, {n} asked", ids.len());
    }
    ids.truncate(n);
    Ok(ids)
}

/// The dtype of the first layer's first matrix.
fn dtype_name(model: &Decoder<'_>) -> &'static str {
    let dtype =
        model.blob().sections().flatten().find(|s| s.ndim == 2 && s.name().contains(".0.")).map(|s| s.dtype);
    match dtype {
        Some(DType::F16) => "f16",
        Some(DType::I8Row) => "int8",
        Some(DType::I4 { .. }) => "int4",
        _ => "f32",
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Peak resident set size of this process (Linux `VmHWM`), 0 elsewhere.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok());
    kb.map_or(0, |kb: u64| kb * 1024)
}

/// The human table.
pub fn table(rows: &[DecoderBenchRow]) -> String {
    let mut s = format!(
        "{:<28} {:>5} {:>12} {:>10} {:>14} {:>14} {:>12}\n",
        "model", "dtype", "blob bytes", "arena", "prompt tok/s", "decode tok/s", "peak RSS"
    );
    for r in rows {
        s += &format!(
            "{:<28} {:>5} {:>12} {:>10} {:>14.1} {:>14.1} {:>12}\n",
            crate::escape::line(&r.model),
            r.dtype,
            r.blob_bytes,
            r.arena_bytes,
            r.prompt_tok_per_s,
            r.decode_tok_per_s,
            r.peak_rss_bytes
        );
    }
    for r in rows {
        if let Some(note) = &r.note {
            s += &format!("note: {}: {note}\n", crate::escape::line(&r.model));
        }
    }
    s
}

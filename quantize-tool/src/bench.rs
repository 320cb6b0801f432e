//! `picoformer bench`: single-thread latency of a model at given sequence lengths.
//!
//! Each measurement is tokenizer + encoder (`Session::run`) on a text of exactly `seq` tokens made
//! of whole-word tokens from the model's own vocabulary. Warm-up, then timed runs until the time
//! budget is spent (at least `min_iters`, and always at least one); reports median, p10 and p90.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use picoformer::format::AlignedBuf;
use picoformer::{Bert, Session};
use serde::Serialize;

/// One row of the benchmark table.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// Model file name.
    pub model: String,
    /// Weight dtype of the largest matrices (`f32`, `f16`, `int8`).
    pub dtype: String,
    /// Blob size in bytes.
    pub blob_bytes: usize,
    /// Tokens per input, `[CLS]` and `[SEP]` included.
    pub seq: usize,
    /// Arena bytes at this sequence length.
    pub arena_bytes: usize,
    /// Median latency in milliseconds.
    pub median_ms: f64,
    /// 10th percentile.
    pub p10_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// Timed iterations.
    pub iters: usize,
    /// How `seq` was chosen when it is not what was asked: the model's maximum, in place of default
    /// lengths above it (no `--seq` given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Benchmark settings.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Sequence lengths (`--seq`); `None`: [`DEFAULT_SEQS`], those above the model's maximum
    /// replaced by the maximum.
    pub seqs: Option<Vec<usize>>,
    /// Time budget per sequence length, `0..=`[`MAX_SECONDS`] (checked by [`budget`]).
    pub seconds: f64,
    /// Least number of timed runs.
    pub min_iters: usize,
}

/// Sequence lengths measured when `--seq` is not given (each at most the model's maximum).
pub const DEFAULT_SEQS: [usize; 3] = [16, 64, 128];

/// The longest time budget `--seconds` takes (an hour).
pub const MAX_SECONDS: f64 = 3600.0;

/// `--seconds` as clap parses it: a finite number of seconds in `0..=`[`MAX_SECONDS`].
pub fn parse_seconds(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=MAX_SECONDS).contains(&x) => Ok(x),
        _ => Err(format!("expected a number of seconds from 0 to {MAX_SECONDS}")),
    }
}

/// A time budget of `seconds`; an error unless it is finite and in `0..=`[`MAX_SECONDS`]
/// (`Duration::from_secs_f64` panics on NaN, infinite, negative or huge values).
pub fn budget(seconds: f64) -> Result<Duration> {
    if !(0.0..=MAX_SECONDS).contains(&seconds) {
        bail!("--seconds {seconds} outside 0..={MAX_SECONDS}");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Measures one model at every sequence length.
pub fn bench_model(path: &Path, blob: &AlignedBuf, opts: &BenchOptions) -> Result<Vec<BenchRow>> {
    let budget = budget(opts.seconds)?;
    let model = Bert::from_bytes(blob.as_bytes()).with_context(|| format!("{}", path.display()))?;
    model.check_finite().with_context(|| format!("{}: unusable weights", path.display()))?;
    let dtype = dtype_name(&model);
    let seqs = seq_lengths(opts.seqs.as_deref(), model.config().max_position)
        .with_context(|| format!("{}", path.display()))?;
    let mut rows = Vec::new();
    for (seq, note) in seqs {
        let given = match opts.seqs {
            Some(_) => format!("--seq {seq}"),
            None => format!("seq {seq}"),
        };
        let arena_bytes = model.arena_len(seq).with_context(|| format!("{}: {given}", path.display()))?;
        let what = || format!("the arena (model {}, {given})", path.display());
        let mut arena = crate::alloc_zeroed(arena_bytes, what)?;
        let mut session = Session::new(&model, arena.as_mut_bytes(), seq)?;
        let text = text_of_len(&mut session, seq)?;
        let times = measure(&mut session, &text, budget, opts.min_iters)?;
        rows.push(BenchRow {
            model: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            dtype: dtype.to_string(),
            blob_bytes: blob.as_bytes().len(),
            seq,
            arena_bytes,
            median_ms: percentile(&times, 0.5),
            p10_ms: percentile(&times, 0.1),
            p90_ms: percentile(&times, 0.9),
            iters: times.len(),
            note,
        });
    }
    Ok(rows)
}

/// The lengths to measure, each with its note: the `--seq` lengths as given, each checked to be in
/// `2..=max` (`max`: the model's `max_position`); else [`DEFAULT_SEQS`], those above `max`
/// replaced by one row at `max`, noted as the model's maximum.
pub fn seq_lengths(given: Option<&[usize]>, max: usize) -> Result<Vec<(usize, Option<String>)>> {
    if let Some(seqs) = given {
        if let Some(&bad) = seqs.iter().find(|&&n| !(2..=max).contains(&n)) {
            bail!("--seq {bad} is outside 2..={max} (the model's max_position)");
        }
        return Ok(seqs.iter().map(|&n| (n, None)).collect());
    }
    let mut out: Vec<(usize, Option<String>)> =
        DEFAULT_SEQS.iter().filter(|&&n| n <= max).map(|&n| (n, None)).collect();
    let above: Vec<String> = DEFAULT_SEQS.iter().filter(|&&n| n > max).map(usize::to_string).collect();
    if !above.is_empty() {
        let note = format!("seq {max} (the model's maximum) in place of the default {}", above.join(","));
        match out.last_mut() {
            // the maximum is itself a default length: that row stands for the longer ones too
            Some((n, slot)) if *n == max => *slot = Some(note),
            _ => out.push((max, Some(note))),
        }
    }
    Ok(out)
}

/// The dtype of the first layer's query matrix (the tool stores the layers' matrices in one
/// dtype); `int8-a8` when it takes 8-bit activations (`quantize --calibrate`).
fn dtype_name(model: &Bert<'_>) -> &'static str {
    let blob = model.blob();
    let a8 = blob.section("encoder.layer.0.attention.self.query.act_smooth").is_some();
    match blob.section("encoder.layer.0.attention.self.query.weight").map(|(_, s)| s.dtype) {
        Some(picoformer::format::DType::F16) => "f16",
        Some(picoformer::format::DType::I8Row) if a8 => "int8-a8",
        Some(picoformer::format::DType::I8Row) => "int8",
        Some(picoformer::format::DType::I4 { .. }) => "int4",
        _ => "f32",
    }
}

/// A text that tokenizes to exactly `seq` ids: whole-word vocabulary tokens joined by spaces.
fn text_of_len(session: &mut Session<'_, '_>, seq: usize) -> Result<String> {
    let vocab = session.model().tokenizer().vocab();
    let words: Vec<&str> = (0..vocab.len() as u32)
        .filter_map(|id| vocab.token(id))
        .filter(|t| t.len() >= 3 && t.bytes().all(|b| b.is_ascii_lowercase()))
        .take(500)
        .collect();
    if words.is_empty() {
        bail!("the vocabulary has no plain lowercase words to build a benchmark text from");
    }
    let text: Vec<&str> = words.iter().cycle().take(seq.saturating_sub(2)).copied().collect();
    let text = text.join(" ");
    let enc = session.tokenize(&text)?;
    if enc.len != seq {
        bail!("benchmark text tokenized to {} ids, wanted {seq}", enc.len);
    }
    Ok(text)
}

/// Timings in milliseconds, sorted: at least `min_iters` runs and at least one (a zero budget
/// and `min_iters` 0 still time one run, so that every row has a median).
fn measure(
    session: &mut Session<'_, '_>,
    text: &str,
    budget: Duration,
    min_iters: usize,
) -> Result<Vec<f64>> {
    let warmup = Instant::now();
    let mut n = 0;
    while n < 5 || warmup.elapsed() < budget / 10 {
        session.run(text)?;
        n += 1;
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < min_iters.max(1) || start.elapsed() < budget {
        let t = Instant::now();
        session.run(text)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// The `q` quantile (nearest rank) of `sorted`; NaN when it is empty.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = (sorted.len().saturating_sub(1) as f64 * q).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

/// The human table.
pub fn table(rows: &[BenchRow]) -> String {
    let mut s = format!(
        "{:<28} {:>5} {:>12} {:>4} {:>12} {:>10} {:>10} {:>10} {:>6}\n",
        "model", "dtype", "blob bytes", "seq", "arena bytes", "median ms", "p10 ms", "p90 ms", "iters"
    );
    for r in rows {
        s += &format!(
            "{:<28} {:>5} {:>12} {:>4} {:>12} {:>10.3} {:>10.3} {:>10.3} {:>6}\n",
            crate::escape::line(&r.model),
            r.dtype,
            r.blob_bytes,
            r.seq,
            r.arena_bytes,
            r.median_ms,
            r.p10_ms,
            r.p90_ms,
            r.iters
        );
    }
    for r in rows {
        if let Some(note) = &r.note {
            s += &format!("note: {}: {note}\n", crate::escape::line(&r.model));
        }
    }
    s
}

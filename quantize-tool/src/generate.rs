//! The decoder commands: `generate` (streamed text completion), perplexity (`eval --perplexity`)
//! and `tokenize` for decoder blobs. Each runs the core's [`Generator`] in an arena sized by
//! [`Decoder::arena_len`].

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use picoformer::format::{AlignedBuf, Blob};
use picoformer::tokenizer::bpe::Bpe;
use picoformer::{Decoder, Generator, GeneratorOptions, KvPrecision, Limits, Sampler, SamplerSettings, Stop};
use serde::Serialize;

use crate::escape;

/// Options of [`generate`].
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The prompt text.
    pub prompt: String,
    /// Most new tokens (0: until the end-of-sequence token or a full context).
    pub max_tokens: usize,
    /// Sampling settings (temperature 0: greedy).
    pub sampler: SamplerSettings,
    /// Wrap the prompt in the model's chat template (section `tokenizer.chat`).
    pub chat: bool,
    /// Context length [default: prompt + `max_tokens`, at most the blob's default context].
    pub context: Option<usize>,
    /// Key/value cache precision.
    pub kv: KvPrecision,
    /// Stream the text to the output as it is produced (else only the final JSON line).
    pub stream: bool,
    /// Stop once the text holds one of these (non-empty) strings; the text ends before it.
    pub stop: Vec<String>,
}

/// What [`generate`] produced.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    /// The prompt's ids (with BOS when the model adds one).
    pub prompt_ids: Vec<u32>,
    /// The generated ids.
    pub ids: Vec<u32>,
    /// Their text (cut before the stop string when one ended generation).
    pub text: String,
    /// Why generation stopped.
    pub stop: &'static str,
    /// Prompt tokens per second (prefill).
    pub prompt_tok_per_s: f64,
    /// Generated tokens per second.
    pub decode_tok_per_s: f64,
}

/// Loads a decoder blob, naming the file on failure (a BERT blob is named as such rather than as
/// an unsupported architecture code), and checks that its weights are finite.
pub fn decoder<'b>(path: &Path, blob: &'b AlignedBuf) -> Result<Decoder<'b>> {
    if let Ok(b) = Blob::parse(blob.as_bytes()) {
        let h = b.header();
        if !h.arch.is_decoder() {
            let (arch, task) = (crate::inspect::arch_name(h.arch), crate::report::task_name(h.task));
            bail!("{}: not a decoder model: the model is a {arch} encoder ({task})", path.display());
        }
    }
    let model = Decoder::from_bytes(blob.as_bytes())
        .with_context(|| format!("{}: not a decoder model", path.display()))?;
    model.check_finite().with_context(|| format!("{}: unusable weights", path.display()))?;
    Ok(model)
}

/// The prompt's ids: BOS (when the model adds one), then the tokens of `text` (wrapped in the
/// model's chat template with `chat`).
pub fn prompt_ids(path: &Path, model: &Decoder<'_>, text: &str, chat: bool) -> Result<Vec<u32>> {
    let text = match chat {
        true => {
            let (prefix, suffix) = chat_template(path, model)?;
            format!("{prefix}{text}{suffix}")
        }
        false => text.to_string(),
    };
    let mut ids: Vec<u32> = model.add_bos().then(|| model.bos()).flatten().into_iter().collect();
    ids.extend(encode(model.tokenizer(), &text)?);
    Ok(ids)
}

/// All ids of `text` (no BOS).
pub fn encode(bpe: &Bpe<'_>, text: &str) -> Result<Vec<u32>> {
    let mut scratch = vec![0u32; Bpe::scratch_len(text.len())];
    let mut ids = Vec::new();
    bpe.for_each_id(text, &mut scratch, |id| {
        ids.push(id);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(ids)
}

/// The text before and after the user's message in the model's chat template (section
/// `tokenizer.chat`: prefix, NUL, suffix; rendered by the tool from the checkpoint's template).
fn chat_template<'b>(path: &Path, model: &Decoder<'b>) -> Result<(&'b str, &'b str)> {
    let (blob, name) = (model.blob(), crate::decoder::chat::SECTION);
    let Some((i, s)) = blob.section(name) else {
        bail!("{}: the model has no chat template (section {name}); drop --chat", path.display());
    };
    let text = std::str::from_utf8(blob.u8s(i, &s)?)
        .with_context(|| format!("{}: section {name} is not UTF-8", path.display()))?;
    text.split_once('\0').with_context(|| format!("{}: section {name} has no NUL separator", path.display()))
}

/// Generates from `opts.prompt`, streaming text pieces to `out` as they come.
pub fn generate(
    path: &Path,
    blob: &AlignedBuf,
    opts: &GenerateOptions,
    out: &mut dyn Write,
) -> Result<Generated> {
    let model = decoder(path, blob)?;
    generate_with(path, &model, opts, out)
}

/// [`generate`] with a loaded model (`path` names it in messages).
pub fn generate_with(
    path: &Path,
    model: &Decoder<'_>,
    opts: &GenerateOptions,
    out: &mut dyn Write,
) -> Result<Generated> {
    let prompt_ids = prompt_ids(path, model, &opts.prompt, opts.chat)?;
    let wanted = match opts.max_tokens {
        0 => model.default_context(),
        n => prompt_ids.len().saturating_add(n).clamp(2, model.default_context().max(prompt_ids.len() + 1)),
    };
    let context = opts.context.unwrap_or(wanted);
    // messages name --context only when it was given, else say where the context came from
    let (p, default) = (prompt_ids.len(), model.default_context());
    let given = match (opts.context, opts.max_tokens) {
        (Some(c), _) => format!("--context {c}"),
        (None, 0) => format!("the model's default context {default}"),
        (None, n) => format!(
            "context {context} (the prompt's {p} tokens + {n} new ones, at most the model's default \
             context {default})"
        ),
    };
    let max = model.config().max_position;
    let out_of_range = !(2..=max).contains(&context);
    if opts.context.is_some() && out_of_range {
        bail!("{given} is outside 2..={max} (the model's max_position)");
    }
    if prompt_ids.is_empty() {
        bail!("the prompt is empty and the model adds no BOS token: nothing to continue");
    }
    if p >= max {
        bail!("the prompt has {p} tokens; the model's max_position {max} leaves no room for a new token");
    }
    if p >= context {
        bail!(
            "the prompt has {p} tokens; {given} leaves no room for a new token (use a --context above {p})"
        );
    }
    if out_of_range {
        bail!("{given} is outside 2..={max} (the model's max_position)");
    }
    let gopts = GeneratorOptions::new(context).with_kv(opts.kv).with_sampling(!opts.sampler.is_greedy());
    let bytes = model.arena_len(&gopts).with_context(|| given.clone())?;
    let mut arena = crate::alloc_zeroed(bytes, || format!("the arena (model {}, {given})", path.display()))?;
    let mut g = Generator::new(model, arena.as_mut_bytes(), &gopts)?;
    let t0 = Instant::now();
    g.feed(&prompt_ids)?;
    let prefill = t0.elapsed().as_secs_f64();
    let mut sampler = Sampler::new(opts.sampler)?;
    let limits = Limits { max_tokens: opts.max_tokens, stop_ids: &[] };
    let (mut ids, mut text, t1) = (Vec::new(), String::new(), Instant::now());
    let mut printed = 0; // bytes of `text` written to `out`
    let mut stop = loop {
        let step = g.next(&mut sampler, &limits)?;
        ids.push(step.id);
        let before = text.len();
        text.push_str(step.text);
        if let Some(cut) = stop_text_at(&text, before, &opts.stop) {
            text.truncate(cut);
            break STOP_TEXT;
        }
        if let Some(stop) = step.stop {
            break stop_name(stop);
        }
        if opts.stream {
            // generated text is escaped for the terminal (newlines and tabs kept); an ending that
            // may start a stop string waits for the next piece
            let settled = settled_len(&text, &opts.stop);
            out.write_all(escape::text(&text[printed..settled]).as_bytes())?;
            out.flush()?;
            printed = settled;
        }
    };
    let decode = t1.elapsed().as_secs_f64();
    if stop != STOP_TEXT {
        let before = text.len();
        text.push_str(g.finish()?);
        if let Some(cut) = stop_text_at(&text, before, &opts.stop) {
            text.truncate(cut);
            stop = STOP_TEXT;
        }
    }
    if opts.stream {
        writeln!(out, "{}", escape::text(&text[printed.min(text.len())..]))?;
    }
    Ok(Generated {
        prompt_tok_per_s: prompt_ids.len() as f64 / prefill.max(1e-9),
        decode_tok_per_s: ids.len() as f64 / decode.max(1e-9),
        prompt_ids,
        ids,
        text,
        stop,
    })
}

/// [`Generated::stop`] when a `--stop` string ended generation.
pub const STOP_TEXT: &str = "stop_text";

/// Where the first of `stops` begins in `text`, if one occurs, given that none did in its first
/// `before` bytes (so only the new ending and the stop strings' length before it are searched).
fn stop_text_at(text: &str, before: usize, stops: &[String]) -> Option<usize> {
    let longest = stops.iter().map(String::len).max()?;
    let mut from = before.saturating_sub(longest.saturating_sub(1));
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let at = |s: &String| text[from..].find(s.as_str()).map(|i| from + i);
    stops.iter().filter(|s| !s.is_empty()).filter_map(at).min()
}

/// The bytes of `text` that no stop string can still claim: all but its longest ending that is
/// the start of a stop string (a char boundary, as the ending is itself text).
fn settled_len(text: &str, stops: &[String]) -> usize {
    let starts_stop = |s: &String| {
        (1..s.len()).rev().find(|&k| s.is_char_boundary(k) && text.ends_with(&s[..k])).unwrap_or(0)
    };
    text.len() - stops.iter().map(starts_stop).max().unwrap_or(0)
}

fn stop_name(s: Stop) -> &'static str {
    match s {
        Stop::Eos => "eos",
        Stop::StopToken => "stop_token",
        Stop::MaxTokens => "max_tokens",
        Stop::ContextFull => "context_full",
        _ => "other",
    }
}

/// Perplexity of a decoder on a text.
#[derive(Debug, Clone, Serialize)]
pub struct Perplexity {
    /// Tokens of the text used (at most `max_tokens`).
    pub tokens: usize,
    /// Tokens scored (the first of each window has no context and is not).
    pub scored: usize,
    /// Window (context) length.
    pub window: usize,
    /// Sum of the negative log-likelihoods (nats).
    pub nll_sum: f64,
    /// `exp(nll_sum / scored)`.
    pub perplexity: f64,
    /// Tokens per second through the model (every position's logits computed).
    pub tok_per_s: f64,
}

/// Window of `eval --perplexity` when `--ctx` is not given.
pub const DEFAULT_WINDOW: usize = 256;

/// The perplexity window: `--ctx` when given, else [`DEFAULT_WINDOW`]; checked against the model's
/// context (`2..=max_position`) with a message that names `--ctx` only when it was given.
pub fn perplexity_window(model: &Decoder<'_>, ctx: Option<usize>) -> Result<usize> {
    let max = model.config().max_position;
    match ctx {
        Some(c) if !(2..=max).contains(&c) => {
            bail!("--ctx {c} is outside 2..={max} (the model's max_position)")
        }
        Some(c) => Ok(c),
        None if DEFAULT_WINDOW > max => bail!(
            "the default window of {DEFAULT_WINDOW} tokens is longer than the model's max_position {max}; \
             give a --ctx of at most {max}"
        ),
        None => Ok(DEFAULT_WINDOW),
    }
}

/// Perplexity of `ids` in non-overlapping windows of `window` tokens, each run from position 0;
/// the first token of each window is not scored (no BOS is added).
pub fn perplexity(model: &Decoder<'_>, ids: &[u32], window: usize, kv: KvPrecision) -> Result<Perplexity> {
    let opts = GeneratorOptions::new(window).with_kv(kv).with_sampling(false);
    let bytes = model.arena_len(&opts)?;
    let mut arena = crate::alloc_zeroed(bytes, || format!("the arena (a window of {window} tokens)"))?;
    let mut g = Generator::new(model, arena.as_mut_bytes(), &opts)?;
    let (mut nll_sum, mut scored, t0) = (0f64, 0usize, Instant::now());
    for w in ids.chunks(window) {
        g.reset();
        g.feed_with(w, |pos, logits| {
            if let Some(&target) = w.get(pos + 1) {
                nll_sum += nll(logits, target);
                scored += 1;
            }
        })?;
    }
    Ok(Perplexity {
        tokens: ids.len(),
        scored,
        window,
        nll_sum,
        perplexity: (nll_sum / scored.max(1) as f64).exp(),
        tok_per_s: ids.len() as f64 / t0.elapsed().as_secs_f64().max(1e-9),
    })
}

/// `-log softmax(logits)[target]`, in f64.
pub fn nll(logits: &[f32], target: u32) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    max + sum.ln() - logits.get(target as usize).copied().unwrap_or(f32::NEG_INFINITY) as f64
}

#[cfg(test)]
mod tests {
    use super::{settled_len, stop_text_at};

    fn stops(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn stop_strings_are_found_across_pieces() {
        let s = stops(&["\n", "END"]);
        assert_eq!(stop_text_at("abc", 0, &s), None);
        assert_eq!(stop_text_at("abc\ndef", 3, &s), Some(3));
        // "EN" came before, "D" now: found though it began before the new piece
        assert_eq!(stop_text_at("xxENDyy", 4, &s), Some(2));
        assert_eq!(stop_text_at("a END b\n", 0, &s), Some(2));
        // a multi-byte ending: the search starts on a character boundary
        assert_eq!(stop_text_at("ééEND", 4, &stops(&["ééEND"])), Some(0));
        assert_eq!(stop_text_at("éEND", 3, &stops(&["END", "zz"])), Some(2));
        assert_eq!(stop_text_at("abc", 2, &[]), None);
    }

    #[test]
    fn the_start_of_a_stop_string_is_held_back() {
        let s = stops(&["END", "\n\n"]);
        assert_eq!(settled_len("text E", &s), 5);
        assert_eq!(settled_len("text EN", &s), 5);
        assert_eq!(settled_len("text\n", &s), 4);
        assert_eq!(settled_len("text ENx", &s), 8);
        assert_eq!(settled_len("café", &stops(&["é!"])), 3);
        assert_eq!(settled_len("text", &[]), 4);
    }
}

//! The run commands: `tokenize`, `embed`, `classify`, `fill-mask`. Each reads inputs (arguments,
//! else stdin lines), runs each in a [`Session`] sized for it (`InputArena`) and prints one line
//! per input: a JSON object with `--json`, else a human line. An input that fails prints its error
//! (as `{"error": ..}` with `--json`) and the command goes on; the command then fails at the end.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use picoformer::format::{AlignedBuf, Blob, Pooling};
use picoformer::{Bert, KvPrecision, Prediction, Session, SessionOptions};
use serde::Serialize;
use serde_json::json;

use crate::escape;

/// Options shared by the run commands.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// One JSON object per input instead of human lines.
    pub json: bool,
    /// Maximum sequence length (default: the blob's).
    pub max_seq: Option<usize>,
    /// Rows processed at a time (default: all); fewer use less arena, same results.
    pub chunk: Option<usize>,
    /// Keep attention keys and values in int8 (as a microcontroller build does to save RAM).
    pub kv_int8: bool,
}

/// What to do with each input.
#[derive(Debug, Clone, Copy)]
pub enum Command {
    /// Token ids: `{"ids", "truncated"}`.
    Tokenize,
    /// Sentence embedding: `{"ids", "embedding"}`; pooling and normalization default to the model's.
    Embed {
        /// Pooling override.
        pooling: Option<Pooling>,
        /// Normalization override.
        normalize: Option<bool>,
    },
    /// Class probabilities: `{"label", "probs", "logits"}`.
    Classify,
    /// Masked-word predictions: `{"ids", "masks": [{"position", "predictions": [{"token", "id", "prob"}]}]}`.
    FillMask {
        /// Predictions per mask.
        top_k: usize,
    },
}

impl Command {
    /// The subcommand's name as typed on the command line (for messages).
    pub fn name(self) -> &'static str {
        match self {
            Command::Tokenize => "tokenize",
            Command::Embed { .. } => "embed",
            Command::Classify => "classify",
            Command::FillMask { .. } => "fill-mask",
        }
    }
}

/// Where the bundled default model comes from (for messages).
pub const DEFAULT_MODEL_NAME: &str = "bundled sentiment model (models/sentiment.pfm)";

/// The bundled default model: the int8 sentiment student, compiled into the binary.
pub static DEFAULT_MODEL: &[u8] = include_bytes!("../../models/sentiment.pfm");

/// Where the bundled default text-completion model comes from (for messages).
pub const DEFAULT_GPT_NAME: &str = "bundled tiny GPT (models/tiny-gpt-int8.pfm)";

/// The bundled default text-completion model: the project's tiny Llama-architecture GPT (int8),
/// compiled into the binary.
pub static DEFAULT_GPT: &[u8] = include_bytes!("../../models/tiny-gpt-int8.pfm");

/// The model to run: the file given with `-m`, else the bundled default model.
pub fn model_or_default(m: Option<&Path>) -> Result<(PathBuf, AlignedBuf)> {
    file_or_bundled(m, DEFAULT_MODEL_NAME, DEFAULT_MODEL)
}

/// The decoder to run: the file given with `-m`, else the bundled tiny GPT.
pub fn decoder_or_default(m: Option<&Path>) -> Result<(PathBuf, AlignedBuf)> {
    file_or_bundled(m, DEFAULT_GPT_NAME, DEFAULT_GPT)
}

/// `m` read from disk, else the bundled `bytes` under the display name `name`.
fn file_or_bundled(m: Option<&Path>, name: &str, bytes: &[u8]) -> Result<(PathBuf, AlignedBuf)> {
    match m {
        Some(path) => Ok((path.to_path_buf(), crate::load_blob(path)?)),
        None => {
            Ok((PathBuf::from(name), crate::aligned_copy(bytes, || format!("the bundled model {name}"))?))
        }
    }
}

/// One input: its text, or why it is not text (an input that failed: the command reports it and
/// goes on with the next).
pub type Input = std::result::Result<String, String>;

/// Inputs from the arguments, else one per line of `stdin` (a trailing `\r` removed). A line
/// that is not UTF-8 is that input's failure, `stdin line N: invalid UTF-8 at byte K` (both
/// counted from 1); an error reading stdin itself is the outer error, which ends the command.
pub fn inputs<'a>(
    args: &'a [String],
    stdin: impl BufRead + 'a,
) -> Box<dyn Iterator<Item = Result<Input>> + 'a> {
    if !args.is_empty() {
        return Box::new(args.iter().cloned().map(|a| Ok(Ok(a))));
    }
    Box::new(stdin.split(b'\n').enumerate().map(|(i, l)| {
        let mut l = l.context("reading stdin")?;
        // `\r\n` as `BufRead::lines` strips it, then one more `\r`
        for _ in 0..2 {
            if l.last() == Some(&b'\r') {
                l.pop();
            }
        }
        Ok(String::from_utf8(l).map_err(|e| {
            format!("stdin line {}: invalid UTF-8 at byte {}", i + 1, e.utf8_error().valid_up_to() + 1)
        }))
    }))
}

/// Text inputs (`eval --tsv`/`--perplexity`, `--prune-vocab`, `--calibrate`) larger than this are
/// refused unread.
pub const MAX_TEXT_BYTES: u64 = 1 << 30;

/// The contents of a UTF-8 text file: a regular file (or a link to one) of at most
/// [`MAX_TEXT_BYTES`], so `/dev/zero` or a FIFO is an error, not an endless read or a hang.
/// Errors name the file; bytes that are not UTF-8 also name the line, `FILE:LINE: invalid UTF-8
/// at byte K` (both counted from 1).
pub fn read_text(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if !meta.is_file() {
        anyhow::bail!("{}: not a regular file", path.display());
    }
    if meta.len() > MAX_TEXT_BYTES {
        anyhow::bail!("{}: {} bytes, larger than the 1 GiB text inputs may have", path.display(), meta.len());
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        anyhow!("{}:{line}: invalid UTF-8 at byte {}", path.display(), at - start + 1)
    })
}

/// Runs `cmd` over `inputs` with the model in `blob` (from [`crate::load_blob`]); `model` names
/// it in errors. Returns the number of inputs that failed.
pub fn run(
    model: &Path,
    blob: &AlignedBuf,
    cmd: Command,
    opts: &RunOptions,
    inputs: impl Iterator<Item = Result<Input>>,
    out: &mut dyn Write,
) -> Result<usize> {
    let name = model.display();
    let bert = encoder(model, blob, cmd.name())?;
    bert.check_finite().with_context(|| format!("{name}: unusable weights"))?;
    check_task(&bert, cmd).with_context(|| format!("{name}"))?;
    let kv = if opts.kv_int8 { KvPrecision::I8 } else { KvPrecision::F32 };
    let (session_opts, given) =
        session_options(&bert, opts.max_seq, opts.chunk, kv).with_context(|| format!("{name}"))?;
    let mut arena = InputArena::new(&bert, session_opts).with_context(|| format!("{name}: {given}"))?;
    let mut failed = 0;
    for (n, input) in inputs.enumerate() {
        let result = match &input? {
            Ok(text) => arena
                .session(text)
                .with_context(|| format!("{name}"))
                .and_then(|mut s| one(&mut s, cmd, text)),
            Err(unreadable) => Err(anyhow!("{unreadable}")),
        };
        match result {
            Ok((v, _)) if opts.json => writeln!(out, "{v}")?,
            Ok((_, human)) => writeln!(out, "{human}")?,
            Err(e) => {
                failed += 1;
                eprintln!("error: input {}: {}", n + 1, escape::line(&format!("{e:#}")));
                if opts.json {
                    writeln!(out, "{}", escape::json(&json!({ "error": format!("{e:#}") }))?)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(failed)
}

/// The session options of a run command or of `eval`, checked against the model, and how they
/// were given, for messages. Messages name only the options the user gave: `--max-seq N` (in
/// `2..=max_position`) when given, else "the model's default max_seq N"; `--chunk C` (in
/// `1..=max_seq`) only when given, else the chunk is the whole sequence and is not mentioned.
pub(crate) fn session_options(
    bert: &Bert,
    max_seq: Option<usize>,
    chunk: Option<usize>,
    kv: KvPrecision,
) -> Result<(SessionOptions, String)> {
    let max = bert.config().max_position;
    let (seq, mut given) = match max_seq {
        Some(n) => (n, format!("--max-seq {n}")),
        None => (bert.default_max_seq(), format!("the model's default max_seq {}", bert.default_max_seq())),
    };
    if !(2..=max).contains(&seq) {
        bail!("{given} is outside 2..={max} (the model's max_position)");
    }
    if let Some(c) = chunk {
        if !(1..=seq).contains(&c) {
            bail!("--chunk {c} is outside 1..={seq} ({given})");
        }
        given = format!("{given}, --chunk {c}");
    }
    Ok((SessionOptions::new(seq).with_chunk(chunk.unwrap_or(seq)).with_kv(kv), given))
}

/// The BERT encoder in `blob`, for the command `what` (as typed, for messages): a decoder blob is
/// named as such rather than as an unsupported architecture code.
pub(crate) fn encoder<'b>(path: &Path, blob: &'b AlignedBuf, what: &str) -> Result<Bert<'b>> {
    let name = path.display();
    if let Ok(b) = Blob::parse(blob.as_bytes()) {
        let arch = b.header().arch;
        if arch.is_decoder() {
            bail!(
                "{name}: the model is a {} decoder; {what} needs a BERT encoder",
                crate::inspect::arch_name(arch)
            );
        }
    }
    Bert::from_bytes(blob.as_bytes()).with_context(|| format!("{name}: invalid model"))
}

/// An arena sized for the inputs actually given rather than for the longest sequence allowed.
///
/// A blob's default sequence length may be as large as its position table (65536 for a converted
/// `--max-seq 65536`), and an arena for it is allocated whole. Instead each input is tokenized
/// first, with the model's tokenizer alone, giving `len`, its length under the asked `max_seq`
/// (truncation included), and runs in a session for `seq >= len` tokens: `SessionOptions {
/// max_seq: seq, chunk: min(chunk, seq), kv }`. The encoder reads only the first `len` positions,
/// so the results are those of a session for the full `max_seq`. The buffer grows (at least
/// doubling, at most to the asked `max_seq`) when a longer input comes, and is reused for shorter
/// ones.
pub(crate) struct InputArena<'m> {
    bert: &'m Bert<'m>,
    /// The options asked for: `max_seq` bounds every session, `chunk` and `kv` apply to each.
    opts: SessionOptions,
    /// The arena (none before the first input, or after a failed allocation).
    buf: Option<AlignedBuf>,
    /// Sequence length `buf` is sized for (0 when there is none).
    seq: usize,
    /// Ids of the input being measured.
    ids: Vec<u32>,
}

impl<'m> InputArena<'m> {
    /// Checks `opts` against the model (`max_seq` in `2..=max_position`, `chunk` in
    /// `1..=max_seq`); allocates nothing yet.
    pub(crate) fn new(bert: &'m Bert<'m>, opts: SessionOptions) -> Result<Self> {
        bert.arena_len_with(&opts)?;
        Ok(InputArena { bert, opts, buf: None, seq: 0, ids: Vec::new() })
    }

    /// A session whose arena holds `text` (cut to the asked `max_seq`, as a full session cuts it).
    pub(crate) fn session(&mut self, text: &str) -> Result<Session<'m, '_>> {
        let len = self.tokens(text)?;
        if len > self.seq {
            let seq = len.max(self.seq.saturating_mul(2)).min(self.opts.max_seq);
            let bytes = self.bert.arena_len_with(&self.carved(seq))?;
            // the old arena is freed before the new one is made; should that fail, the next input
            // starts from no arena
            (self.buf, self.seq) = (None, 0);
            let what = || match seq == len {
                true => format!("the arena ({seq} tokens)"),
                false => format!("the arena ({seq} tokens, for an input of {len})"),
            };
            self.buf = Some(crate::alloc_zeroed(bytes, what)?);
            self.seq = seq;
        }
        let opts = self.carved(self.seq);
        let arena = self.buf.as_mut().map_or(&mut [][..], AlignedBuf::as_mut_bytes);
        Ok(Session::with_options(self.bert, arena, &opts)?)
    }

    /// The asked options with `max_seq` lowered to `seq` (`2..=opts.max_seq`).
    fn carved(&self, seq: usize) -> SessionOptions {
        SessionOptions::new(seq).with_chunk(self.opts.chunk.min(seq)).with_kv(self.opts.kv)
    }

    /// Tokens of `text` under the asked `max_seq`, `[CLS]` and `[SEP]` included. The id buffer
    /// starts at the text's byte length + 2 (enough in practice: a WordPiece token spans at least
    /// one byte) and doubles while the encoding is cut short by it rather than by `max_seq`.
    fn tokens(&mut self, text: &str) -> Result<usize> {
        let max = self.opts.max_seq;
        let mut n = text.len().saturating_add(2).clamp(2, max);
        loop {
            self.ids.resize(n, 0);
            let enc = self.bert.tokenizer().encode(text, &mut self.ids)?;
            if !enc.truncated || n == max {
                return Ok(enc.len.clamp(2, max));
            }
            n = n.saturating_mul(2).min(max);
        }
    }
}

/// Fails early when the model has no head for the command.
fn check_task(bert: &Bert, cmd: Command) -> Result<()> {
    use picoformer::format::Task;
    let task = bert.task();
    let needs = match cmd {
        Command::Tokenize | Command::Embed { .. } => return Ok(()),
        Command::Classify => Task::Classification,
        Command::FillMask { .. } => Task::MaskedLm,
    };
    if task != needs {
        let (name, has) = (crate::report::task_name, crate::report::task_name(task));
        bail!("the model's task is {has}; {} needs a {} model", cmd.name(), name(needs));
    }
    Ok(())
}

/// One input: the JSON line and the human line.
fn one(s: &mut Session, cmd: Command, text: &str) -> Result<(String, String)> {
    match cmd {
        Command::Tokenize => {
            let enc = s.tokenize(text)?;
            let ids = s.ids();
            let human = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
            let human = if enc.truncated { human + "  (truncated)" } else { human };
            Ok((to_json(&TokenizeOut { ids, truncated: enc.truncated })?, human))
        }
        Command::Embed { pooling, normalize } => {
            let model = s.model();
            let (p, nz) = (pooling.unwrap_or(model.pooling()), normalize.unwrap_or(model.normalize()));
            let embedding = s.embed_with(text, p, nz)?.to_vec();
            let human = embedding.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join(" ");
            Ok((to_json(&EmbedOut { ids: s.ids(), embedding: &embedding })?, human))
        }
        Command::Classify => {
            let model = s.model();
            let c = s.classify(text)?;
            let label = model.label(c.label).unwrap_or("?");
            let human = format!("{}  {:.3}  {}", escape::line(label), c.probs[c.label], escape::line(text));
            Ok((to_json(&ClassifyOut { label, probs: c.probs, logits: c.logits })?, human))
        }
        Command::FillMask { top_k } => fill_mask(s, text, top_k),
    }
}

fn fill_mask(s: &mut Session, text: &str, top_k: usize) -> Result<(String, String)> {
    let mut positions = vec![0usize; s.max_seq()];
    let positions = s.run_masked(text, &mut positions)?.to_vec();
    let ids = s.ids().to_vec();
    let vocab = *s.model().tokenizer().vocab();
    let token = |id: u32| vocab.token(id).unwrap_or("?");
    let mut top = vec![Prediction::default(); top_k.max(1)];
    let (mut masks, mut human) = (Vec::new(), escape::line(text).into_owned());
    for position in positions {
        let preds = s.fill_mask_at(position, &mut top)?;
        let predictions: Vec<PredictionOut> =
            preds.iter().map(|p| PredictionOut { token: token(p.id), id: p.id, prob: p.prob }).collect();
        let line: Vec<String> =
            preds.iter().map(|p| format!("{} {:.3}", escape::line(token(p.id)), p.prob)).collect();
        human.push_str(&format!("\n  [MASK] @{position}: {}", line.join(" | ")));
        masks.push(MaskOut { position, predictions });
    }
    Ok((to_json(&FillMaskOut { ids: &ids, masks })?, human))
}

/// serde_json prints `f32` fields in their shortest round-tripping form; strings are escaped for a
/// terminal ([`escape::json`]).
fn to_json(v: &impl Serialize) -> Result<String> {
    Ok(escape::json(v)?)
}

#[derive(Serialize)]
struct TokenizeOut<'a> {
    ids: &'a [u32],
    truncated: bool,
}

#[derive(Serialize)]
struct EmbedOut<'a> {
    ids: &'a [u32],
    embedding: &'a [f32],
}

#[derive(Serialize)]
struct ClassifyOut<'a> {
    label: &'a str,
    probs: &'a [f32],
    logits: &'a [f32],
}

#[derive(Serialize)]
struct FillMaskOut<'a> {
    ids: &'a [u32],
    masks: Vec<MaskOut<'a>>,
}

#[derive(Serialize)]
struct MaskOut<'a> {
    position: usize,
    predictions: Vec<PredictionOut<'a>>,
}

#[derive(Serialize)]
struct PredictionOut<'a> {
    token: &'a str,
    id: u32,
    prob: f32,
}

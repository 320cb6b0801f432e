//! Reading a Hugging Face model directory: `config.json`, `model.safetensors`, the vocabulary and
//! tokenizer settings, and the sentence-transformers pooling modules. Every error names its file.

pub mod bpe;
mod config;
pub mod gguf;
mod pooling;
mod safetensors;
mod tokenizer;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use self::config::{HfArch, HfConfig};
pub use self::pooling::SentenceTransformers;
pub use self::safetensors::{Checkpoint, Tensor};
pub use self::tokenizer::{parse_vocab_txt, SpecialIds, TokenizerFiles, TokenizerSpec};

/// Everything read from one model directory.
#[derive(Debug)]
pub struct HfDir {
    /// The directory.
    pub dir: PathBuf,
    /// `config.json`.
    pub config: HfConfig,
    /// `model.safetensors` (tensors are converted to f32 on demand).
    pub checkpoint: Checkpoint,
    /// Vocabulary and tokenizer settings.
    pub tokenizer: TokenizerSpec,
    /// sentence-transformers files, when present.
    pub st: SentenceTransformers,
    /// `lexicon.tsv` (word, rating in tenths), read when config.json has `lexicon_gate_max`.
    pub lexicon: Option<Vec<(String, i8)>>,
}

impl HfDir {
    /// Reads every file the converter needs from `dir`.
    pub fn open(dir: &Path) -> Result<HfDir> {
        anyhow::ensure!(dir.is_dir(), "{}: not a directory", dir.display());
        let config = HfConfig::read(&dir.join("config.json"))?;
        let st = SentenceTransformers::read(dir)?;
        let tokenizer = TokenizerSpec::read(dir, st.do_lower_case)?;
        anyhow::ensure!(
            tokenizer.vocab.len() == config.vocab_size,
            "{}: {} tokens, but config.json says vocab_size {}",
            tokenizer.vocab_file.display(),
            tokenizer.vocab.len(),
            config.vocab_size
        );
        let checkpoint = Checkpoint::open(&weights_file(dir)?)?;
        let lexicon = match config.lexicon_gate_max {
            Some(_) => Some(read_lexicon(&dir.join("lexicon.tsv"))?),
            None => None,
        };
        Ok(HfDir { dir: dir.to_path_buf(), config, checkpoint, tokenizer, st, lexicon })
    }
}

/// A lexicon file: `word<TAB>rating` lines, ratings in tenths (VADER's -3.9..3.4); errors name
/// the file and line.
pub fn read_lexicon(path: &Path) -> Result<Vec<(String, i8)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read (config.json has lexicon_gate_max)", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let at = || format!("{}:{}", path.display(), i + 1);
        let Some((word, rating)) = line.split_once('\t') else {
            anyhow::bail!("{}: expected word<TAB>rating, found {line:?}", at());
        };
        let tenths =
            rating.trim().parse::<f64>().ok().map(|r| r * 10.0).filter(|t| (t - t.round()).abs() < 1e-6);
        match tenths {
            Some(t) if (-64.0..=63.0).contains(&t.round()) => out.push((word.to_string(), t.round() as i8)),
            _ => anyhow::bail!("{}: rating {rating:?} is not a multiple of 0.1 in -6.4..=6.3", at()),
        }
    }
    Ok(out)
}

/// `dir/model.safetensors`, or an error that says what to do instead.
pub(crate) fn weights_file(dir: &Path) -> Result<PathBuf> {
    let path = dir.join("model.safetensors");
    if path.is_file() {
        return Ok(path);
    }
    let hint = if dir.join("model.safetensors.index.json").exists() {
        "sharded checkpoints are not supported; merge the shards into one model.safetensors"
    } else if dir.join("pytorch_model.bin").exists() {
        "only pytorch_model.bin found; convert it to model.safetensors first"
    } else {
        "not found"
    };
    anyhow::bail!("{}: {hint}", path.display())
}

/// Reads and parses a JSON file, naming it in errors.
pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    parse_json(path, &bytes)
}

/// The bytes of `path` if it is a regular file (or a link to one), `None` if it is absent or not
/// a file; errors name the file.
pub(crate) fn read_if_file(path: &Path) -> Result<Option<Vec<u8>>> {
    if !path.is_file() {
        return Ok(None);
    }
    std::fs::read(path).map(Some).with_context(|| format!("{}: cannot read", path.display()))
}

/// Parses the bytes of a JSON file (UTF-8); `path` is only named in errors.
pub fn parse_json(path: &Path, bytes: &[u8]) -> Result<serde_json::Value> {
    let text = utf8(path, bytes)?;
    serde_json::from_str(text).with_context(|| format!("{}: invalid JSON", path.display()))
}

/// The bytes of a text file as UTF-8, or an error naming the file and the first bad byte.
pub(crate) fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{}: invalid UTF-8 at byte {}", path.display(), e.valid_up_to()))
}

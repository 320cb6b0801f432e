//! The vocabulary (`vocab.txt`, else `tokenizer.json`) and the WordPiece settings
//! (`tokenizer_config.json`, else the `tokenizer.json` normalizer, else BERT's defaults).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::{parse_json, read_if_file, utf8};

/// Ids of the special tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    /// `[UNK]`.
    pub unk: u32,
    /// `[CLS]`.
    pub cls: u32,
    /// `[SEP]`.
    pub sep: u32,
    /// `[PAD]`.
    pub pad: u32,
    /// `[MASK]`.
    pub mask: u32,
}

/// Vocabulary and WordPiece settings.
#[derive(Debug, Clone)]
pub struct TokenizerSpec {
    /// Where the vocabulary came from.
    pub vocab_file: PathBuf,
    /// Tokens in id order.
    pub vocab: Vec<String>,
    /// Lowercase input.
    pub lowercase: bool,
    /// Strip accents (HF: when unset, follows `lowercase`).
    pub strip_accents: bool,
    /// Split CJK ideographs.
    pub tokenize_cjk: bool,
    /// Remove control characters, normalize whitespace.
    pub clean_text: bool,
    /// Special token ids.
    pub special: SpecialIds,
    /// Words longer than this become `[UNK]`.
    pub max_chars_per_word: u32,
}

/// The optional JSON files, parsed.
struct Files {
    config: Option<Value>,
    fast: Option<(PathBuf, Value)>,
}

/// The bytes of a model directory's tokenizer files (`None`: the file is absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenizerFiles<'a> {
    /// `tokenizer_config.json`.
    pub tokenizer_config: Option<&'a [u8]>,
    /// `tokenizer.json`.
    pub tokenizer_json: Option<&'a [u8]>,
    /// `vocab.txt`.
    pub vocab_txt: Option<&'a [u8]>,
}

impl TokenizerSpec {
    /// Reads the tokenizer files of `dir`. `force_lowercase` is sentence-transformers'
    /// `do_lower_case`, which lowercases before the tokenizer.
    pub fn read(dir: &Path, force_lowercase: bool) -> Result<TokenizerSpec> {
        let optional = |name: &str| read_if_file(&dir.join(name));
        let config = optional("tokenizer_config.json")?;
        let fast = optional("tokenizer.json")?;
        let vocab_txt = optional("vocab.txt")?;
        let files = TokenizerFiles {
            tokenizer_config: config.as_deref(),
            tokenizer_json: fast.as_deref(),
            vocab_txt: vocab_txt.as_deref(),
        };
        TokenizerSpec::parse(dir, &files, force_lowercase)
    }

    /// [`read`](Self::read) on the files' bytes; `dir` is only named in messages (as the
    /// directory holding the files).
    pub fn parse(dir: &Path, files: &TokenizerFiles<'_>, force_lowercase: bool) -> Result<TokenizerSpec> {
        let config_path = dir.join("tokenizer_config.json");
        let config = files.tokenizer_config.map(|b| parse_json(&config_path, b)).transpose()?;
        let fast_path = dir.join("tokenizer.json");
        let fast = files.tokenizer_json.map(|b| parse_json(&fast_path, b)).transpose()?;
        let fast = fast.map(|v| (fast_path, v));
        let vocab_txt = files.vocab_txt;
        let files = Files { config, fast };
        files.check_supported(&config_path)?;
        let (vocab_file, vocab) = read_vocab(dir, vocab_txt, files.fast.as_ref())?;
        let flag = |cfg_key: &str, norm_key: &str| files.flag(cfg_key, norm_key);
        let lowercase = flag("do_lower_case", "lowercase").unwrap_or(true) || force_lowercase;
        let strip_accents = flag("strip_accents", "strip_accents").unwrap_or(lowercase);
        let tokenize_cjk = flag("tokenize_chinese_chars", "handle_chinese_chars").unwrap_or(true);
        let clean_text = files.normalizer().and_then(|n| n.get("clean_text")).and_then(Value::as_bool);
        let special = files.special_ids(&vocab_file, &vocab)?;
        Ok(TokenizerSpec {
            special,
            max_chars_per_word: files.max_chars_per_word()?,
            vocab_file,
            vocab,
            lowercase,
            strip_accents,
            tokenize_cjk,
            clean_text: clean_text.unwrap_or(true),
        })
    }
}

impl Files {
    /// The `tokenizer.json` normalizer if it is a `BertNormalizer`.
    fn normalizer(&self) -> Option<&Value> {
        let n = self.fast.as_ref()?.1.get("normalizer")?;
        (n.get("type")?.as_str()? == "BertNormalizer").then_some(n)
    }

    /// A boolean setting: `tokenizer_config.json` wins (transformers rebuilds the fast normalizer
    /// from it), then the normalizer; `None` when neither sets it (or sets it to null).
    fn flag(&self, cfg_key: &str, norm_key: &str) -> Option<bool> {
        let from_cfg = self.config.as_ref().and_then(|c| c.get(cfg_key)).and_then(Value::as_bool);
        from_cfg.or_else(|| self.normalizer()?.get(norm_key)?.as_bool())
    }

    /// Settings the WordPiece tokenizer of the core cannot follow.
    fn check_supported(&self, config_path: &Path) -> Result<()> {
        let Some(c) = &self.config else { return Ok(()) };
        if c.get("do_basic_tokenize").and_then(Value::as_bool) == Some(false) {
            bail!("{}: do_basic_tokenize false is not supported", config_path.display());
        }
        if let Some(class) = c.get("tokenizer_class").and_then(Value::as_str) {
            if !class.starts_with("BertTokenizer") {
                bail!(
                    "{}: tokenizer_class {class:?} is not supported (BertTokenizer)",
                    config_path.display()
                );
            }
        }
        Ok(())
    }

    fn max_chars_per_word(&self) -> Result<u32> {
        let Some((path, v)) = &self.fast else {
            return Ok(100);
        };
        let Some(n) = v.pointer("/model/max_input_chars_per_word") else {
            return Ok(100);
        };
        match n.as_u64() {
            Some(n @ 1..=200) => Ok(n as u32),
            _ => bail!("{}: model.max_input_chars_per_word {n} outside 1..=200", path.display()),
        }
    }

    /// The special token strings from `tokenizer_config.json` (string or `{"content": ..}`),
    /// BERT's defaults otherwise, looked up in the vocabulary.
    fn special_ids(&self, vocab_file: &Path, vocab: &[String]) -> Result<SpecialIds> {
        let id = |key: &str, default: &str| -> Result<u32> {
            let v = self.config.as_ref().and_then(|c| c.get(key));
            let s = v.and_then(|v| v.as_str().or_else(|| v.get("content")?.as_str())).unwrap_or(default);
            // vocab.txt maps a repeated token to its last line, as the reference loader does.
            match vocab.iter().rposition(|t| t == s) {
                Some(i) => Ok(i as u32),
                None => bail!("{}: special token {s:?} ({key}) not in the vocabulary", vocab_file.display()),
            }
        };
        Ok(SpecialIds {
            unk: id("unk_token", "[UNK]")?,
            cls: id("cls_token", "[CLS]")?,
            sep: id("sep_token", "[SEP]")?,
            pad: id("pad_token", "[PAD]")?,
            mask: id("mask_token", "[MASK]")?,
        })
    }
}

/// `vocab.txt` (one token per line, id = line number), else `tokenizer.json`'s `model.vocab`.
fn read_vocab(
    dir: &Path,
    vocab_txt: Option<&[u8]>,
    fast: Option<&(PathBuf, Value)>,
) -> Result<(PathBuf, Vec<String>)> {
    if let Some(bytes) = vocab_txt {
        let txt = dir.join("vocab.txt");
        let vocab = parse_vocab_txt(&txt, bytes)?;
        return Ok((txt, vocab));
    }
    let Some((path, v)) = fast else {
        bail!("{}: no vocab.txt or tokenizer.json", dir.display());
    };
    let ctx = || path.display().to_string();
    if let Some(kind) = v.pointer("/model/type").and_then(Value::as_str) {
        if kind != "WordPiece" {
            bail!("{}: model.type {kind:?} is not supported (only WordPiece)", ctx());
        }
    }
    let map = v
        .pointer("/model/vocab")
        .and_then(Value::as_object)
        .with_context(|| format!("{}: no model.vocab", ctx()))?;
    let mut vocab = vec![None; map.len()];
    for (token, id) in map {
        let slot = id.as_u64().and_then(|i| vocab.get_mut(i as usize));
        let Some(slot) = slot else {
            bail!("{}: model.vocab: id {id} of {token:?} is not in 0..{}", ctx(), map.len());
        };
        *slot = Some(token.clone());
    }
    let vocab: Option<Vec<String>> = vocab.into_iter().collect();
    let vocab = vocab.with_context(|| format!("{}: model.vocab ids are not contiguous", ctx()))?;
    if vocab.is_empty() {
        bail!("{}: empty vocabulary", ctx());
    }
    Ok((path.clone(), vocab))
}

/// The tokens of a `vocab.txt` (one per line, id = line number); `path` is only named in errors.
pub fn parse_vocab_txt(path: &Path, bytes: &[u8]) -> Result<Vec<String>> {
    let vocab: Vec<String> = utf8(path, bytes)?.lines().map(str::to_string).collect();
    if vocab.is_empty() {
        bail!("{}: empty vocabulary", path.display());
    }
    Ok(vocab)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From bytes, as from files: `vocab.txt` wins over `tokenizer.json`, errors name the file
    /// (a byte that is not UTF-8 by its offset).
    #[test]
    fn parse_from_bytes_names_the_files() {
        let dir = Path::new("model");
        let vocab = b"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n";
        let files = TokenizerFiles {
            vocab_txt: Some(vocab),
            tokenizer_json: Some(b"not json"),
            ..Default::default()
        };
        let e = TokenizerSpec::parse(dir, &files, false).unwrap_err();
        assert!(format!("{e:#}").contains("tokenizer.json: invalid JSON"), "{e:#}");
        let files = TokenizerFiles { vocab_txt: Some(vocab), ..Default::default() };
        let t = TokenizerSpec::parse(dir, &files, false).unwrap();
        assert_eq!(
            (t.vocab.len(), t.special.mask, t.vocab_file.as_path()),
            (6, 4, Path::new("model/vocab.txt"))
        );
        let e = parse_vocab_txt(Path::new("model/vocab.txt"), b"[PAD]\n\xff\n").unwrap_err();
        assert_eq!(format!("{e:#}"), "model/vocab.txt: invalid UTF-8 at byte 6");
    }
}

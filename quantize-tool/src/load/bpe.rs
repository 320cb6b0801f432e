//! Byte-level BPE tokenizers, read into the core's planes ([`BpeOwned`]) from three sources:
//! - a Hugging Face `tokenizer.json` whose model is BPE ([`from_tokenizer_json`]);
//! - GPT-2's `encoder.json` + `vocab.bpe` ([`from_gpt2_files`]), with `<|endoftext|>` special;
//! - the `tokenizer.ggml.*` vectors of a GGUF ([`from_gguf`]), built as `transformers` builds a
//!   tokenizer from a GGUF (`AutoTokenizer.from_pretrained(dir, gguf_file=...)`).
//!
//! Token strings are GPT-2's byte-to-unicode spelling; each becomes its raw bytes (a string with a
//! char outside that alphabet stands for its own UTF-8 bytes, as the reference's decoder reads it,
//! and no word can match it). Every error names the file or the key.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, ensure, Context, Result};
use picoformer::tokenizer::bpe::{
    byte_level_to_bytes, AddedToken, BpeBuilder, BpeConfig, BpeOwned, PreTokenizer,
};
use serde_json::Value;

use super::{parse_json, utf8};

/// GGUF `tokenizer.ggml.pre` values for which `transformers` swaps GPT-2's regex for another
/// split (Llama 3, Qwen 2, GPT-4o, ...): not supported by the core yet.
const OTHER_SPLITS: [&str; 23] = [
    "llama3",
    "llama-v3",
    "llama-bpe",
    "falcon3",
    "falcon-h1",
    "pixtral",
    "midm-2.0",
    "lfm2",
    "jina-v5-nano",
    "dbrx",
    "smaug-bpe",
    "tekken",
    "qwen2",
    "deepseek-r1-qwen",
    "kormo",
    "f2llmv2",
    "megrez",
    "qwen35",
    "gpt-4o",
    "llama4",
    "kanana2",
    "talkie",
    "minimax-m2",
];

/// GGUF token types (`tokenizer.ggml.token_type`).
const GGUF_CONTROL: i32 = 3;
/// See [`GGUF_CONTROL`].
const GGUF_USER_DEFINED: i32 = 4;

/// The `tokenizer.ggml.*` vectors of a GGUF whose `tokenizer.ggml.model` is `gpt2`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GgufBpe<'a> {
    /// `tokenizer.ggml.tokens`, by id (byte-level spelling).
    pub tokens: &'a [String],
    /// `tokenizer.ggml.merges`: `"a b"`, highest priority first.
    pub merges: &'a [String],
    /// `tokenizer.ggml.token_type` by id (1 normal, 3 control, 4 user-defined, 6 byte); may be empty.
    pub token_types: &'a [i32],
    /// `tokenizer.ggml.pre` (`gpt-2`, `smollm`, ...).
    pub pre: Option<&'a str>,
    /// `tokenizer.ggml.bos_token_id`.
    pub bos: Option<u32>,
    /// `tokenizer.ggml.eos_token_id`.
    pub eos: Option<u32>,
    /// `tokenizer.ggml.unknown_token_id` (a special token only: byte-level BPE has no unk).
    pub unknown: Option<u32>,
    /// `tokenizer.ggml.padding_token_id`.
    pub padding: Option<u32>,
}

impl<'a> GgufBpe<'a> {
    /// The vectors of a GGUF's tokenizer.
    pub fn of(t: &'a super::gguf::GgufTokenizer) -> GgufBpe<'a> {
        GgufBpe {
            tokens: &t.tokens,
            merges: &t.merges,
            token_types: &t.token_types,
            pre: t.pre.as_deref(),
            bos: t.bos,
            eos: t.eos,
            unknown: t.unknown,
            padding: t.padding,
        }
    }
}

/// Builds the planes from GGUF vectors, exactly as `transformers` builds its tokenizer: the
/// vocabulary maps each token's spelling to its id (a repeated spelling keeps the last id; the
/// earlier ids decode to nothing), GPT-2's pre-tokenizer (every `tokenizer.ggml.pre` but the ones
/// that bring another split, which are refused; `smollm` included: transformers ignores its
/// digit split, and SmolLM2's merges hold no ASCII digit), special added tokens for the control
/// tokens, `<|endoftext|>` and the bos/eos/unk/padding tokens, plain added tokens for the
/// user-defined ones.
pub fn from_gguf(g: &GgufBpe<'_>) -> Result<BpeOwned> {
    if let Some(pre) = g.pre.filter(|p| OTHER_SPLITS.contains(p)) {
        bail!("tokenizer.ggml.pre {pre:?}: its pre-tokenizer split is not supported (only GPT-2's regex is)");
    }
    ensure!(
        g.token_types.is_empty() || g.token_types.len() == g.tokens.len(),
        "tokenizer.ggml.token_type has {} entries for {} tokens",
        g.token_types.len(),
        g.tokens.len()
    );
    let mut vocab = Vocab::default();
    for (id, token) in g.tokens.iter().enumerate() {
        let id = u32::try_from(id).context("tokenizer.ggml.tokens: over u32::MAX tokens")?;
        vocab.insert(&byte_level_spelling(token), id);
    }
    let merges = g
        .merges
        .iter()
        .enumerate()
        .map(|(i, m)| match m.split(' ').collect::<Vec<_>>()[..] {
            [a, b] => Ok((a.to_owned(), b.to_owned())),
            _ => Err(anyhow!("tokenizer.ggml.merges[{i}] {m:?} is not two tokens separated by one space")),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut added = Vec::new();
    let types = |id: usize| g.token_types.get(id).copied();
    for (id, token) in g.tokens.iter().enumerate() {
        if types(id) == Some(GGUF_CONTROL) && byte_level_to_bytes(token).is_some() {
            added.push(Added { content: token.clone(), id: None, special: true, normalized: false });
        }
    }
    // GPT2Tokenizer's own default special token, then the ones named by id.
    let named = [g.bos, g.eos, g.unknown, g.padding].into_iter().flatten();
    let named = named
        .map(|id| g.tokens.get(id as usize).cloned().ok_or_else(|| anyhow!("special id {id} not a token")));
    for content in std::iter::once(Ok("<|endoftext|>".to_owned())).chain(named) {
        added.push(Added { content: content?, id: None, special: true, normalized: false });
    }
    for (id, token) in g.tokens.iter().enumerate() {
        if types(id) == Some(GGUF_USER_DEFINED) && vocab.by_string.contains_key(token.as_str()) {
            added.push(Added { content: token.clone(), id: None, special: false, normalized: false });
        }
    }
    let mut config = BpeConfig::new(PreTokenizer::Gpt2);
    config.bos = g.bos;
    config.eos = g.eos;
    vocab.build(&merges, added, config)
}

/// Builds the planes from GPT-2's `encoder.json` (token -> id) and `vocab.bpe` (merges, after
/// a `#version` line), with `<|endoftext|>` as a special token (bos and eos) and GPT-2's
/// pre-tokenizer, as `tokenizers.Tokenizer(BPE.from_file(...))` with those settings runs.
pub fn from_gpt2_files(encoder_json: &Path, vocab_bpe: &Path) -> Result<BpeOwned> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()));
    let encoder = read(encoder_json)?;
    let merges = read(vocab_bpe)?;
    parse_gpt2_files((encoder_json, &encoder), (vocab_bpe, &merges))
}

/// [`from_gpt2_files`] on the files' bytes, each with its path (only named in errors).
pub fn parse_gpt2_files(encoder_json: (&Path, &[u8]), vocab_bpe: (&Path, &[u8])) -> Result<BpeOwned> {
    let ((encoder_json, encoder_bytes), (vocab_bpe, merges_bytes)) = (encoder_json, vocab_bpe);
    let map = parse_json(encoder_json, encoder_bytes)?;
    let map = map.as_object().ok_or_else(|| anyhow!("{}: not a JSON object", encoder_json.display()))?;
    let vocab =
        Vocab::from_json_map(map, id_limit(map.len())).with_context(|| encoder_json.display().to_string())?;
    let text = utf8(vocab_bpe, merges_bytes)?;
    let mut merges = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.starts_with("#version") && !l.is_empty()) {
        let Some((a, b)) = line.split_once(' ').filter(|(_, b)| !b.contains(' ')) else {
            bail!("{}:{}: {line:?} is not two tokens separated by one space", vocab_bpe.display(), i + 1);
        };
        merges.push((a.to_owned(), b.to_owned()));
    }
    let eot = Added { content: "<|endoftext|>".into(), id: None, special: true, normalized: false };
    let mut config = BpeConfig::new(PreTokenizer::Gpt2);
    let eot_id = vocab.by_string.get("<|endoftext|>").copied();
    (config.bos, config.eos) = (eot_id, eot_id);
    vocab.build(&merges, vec![eot], config).with_context(|| vocab_bpe.display().to_string())
}

/// Builds the planes from a Hugging Face `tokenizer.json` with a `BPE` model, no normalizer,
/// and a pre-tokenizer the core implements: `ByteLevel(add_prefix_space=false, use_regex=true)`
/// or `Sequence[Digits(individual_digits=true), ByteLevel(...)]`. Other settings are refused
/// with an error that names them.
pub fn from_tokenizer_json(path: &Path) -> Result<BpeOwned> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    parse_tokenizer_json(path, &bytes)
}

/// [`from_tokenizer_json`] on the file's bytes; `path` is only named in errors.
pub fn parse_tokenizer_json(path: &Path, bytes: &[u8]) -> Result<BpeOwned> {
    from_tokenizer_value(path, &parse_json(path, bytes)?)
}

/// [`from_tokenizer_json`] on the parsed file; `path` is only named in errors.
pub(crate) fn from_tokenizer_value(path: &Path, json: &Value) -> Result<BpeOwned> {
    tokenizer_json(json).with_context(|| path.display().to_string())
}

/// [`from_tokenizer_json`] on parsed JSON.
fn tokenizer_json(json: &Value) -> Result<BpeOwned> {
    ensure!(json["normalizer"].is_null(), "normalizer {} is not supported", json["normalizer"]);
    let model = &json["model"];
    ensure!(model["type"] == "BPE", "model type {} is not BPE", model["type"]);
    ensure!(model["dropout"].is_null(), "BPE dropout is not supported");
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
        ensure!(model[key].is_null() || model[key] == "", "{key} {} is not supported", model[key]);
    }
    ensure!(model["byte_fallback"] != true, "byte_fallback is not supported");
    let decoder = &json["decoder"];
    ensure!(decoder.is_null() || decoder["type"] == "ByteLevel", "decoder {decoder} is not ByteLevel");
    let map = model["vocab"].as_object().ok_or_else(|| anyhow!("model.vocab is not an object"))?;
    let added_tokens = json["added_tokens"].as_array().map_or(&[][..], Vec::as_slice);
    let max_id = id_limit(map.len().saturating_add(added_tokens.len()));
    let mut vocab = Vocab::from_json_map(map, max_id)?;
    let merges = json_merges(&model["merges"])?;
    let mut config = BpeConfig::new(pre_tokenizer(&json["pre_tokenizer"])?);
    config.ignore_merges = model["ignore_merges"] == true;
    if let Some(unk) = model["unk_token"].as_str() {
        let id =
            vocab.by_string.get(unk).ok_or_else(|| anyhow!("unk_token {unk:?} is not in the vocabulary"))?;
        config.unk = Some(*id);
    }
    let mut added = Vec::new();
    for t in added_tokens {
        for flag in ["single_word", "lstrip", "rstrip"] {
            ensure!(t[flag] != true, "added token {}: {flag} is not supported", t["content"]);
        }
        let content = t["content"].as_str().ok_or_else(|| anyhow!("added token without content"))?;
        let id = t["id"].as_u64().and_then(|id| u32::try_from(id).ok());
        let id = id.ok_or_else(|| anyhow!("added token {content:?}: bad id"))?;
        ensure!(id < max_id, "added token {content:?}: id {id} is not below {max_id} ({})", ID_LIMIT);
        vocab.ensure_id(id, content);
        let (special, normalized) = (t["special"] == true, t["normalized"] == true);
        added.push(Added { content: content.to_owned(), id: Some(id), special, normalized });
    }
    vocab.build(&merges, added, config)
}

/// The core's pre-tokenizer for a `tokenizer.json` `pre_tokenizer` value.
fn pre_tokenizer(pre: &Value) -> Result<PreTokenizer> {
    let byte_level =
        |v: &Value| v["type"] == "ByteLevel" && v["add_prefix_space"] != true && v["use_regex"] != false;
    if byte_level(pre) {
        return Ok(PreTokenizer::Gpt2);
    }
    if let Some([digits, bl]) = pre["pretokenizers"].as_array().map(Vec::as_slice) {
        if pre["type"] == "Sequence"
            && digits["type"] == "Digits"
            && digits["individual_digits"] == true
            && byte_level(bl)
        {
            return Ok(PreTokenizer::Gpt2Digits);
        }
    }
    bail!("pre_tokenizer {pre} is not supported (ByteLevel, or Digits then ByteLevel, are)")
}

/// Merges as `"a b"` strings or `["a", "b"]` pairs.
fn json_merges(merges: &Value) -> Result<Vec<(String, String)>> {
    let list = merges.as_array().ok_or_else(|| anyhow!("model.merges is not a list"))?;
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let pair = match m {
                Value::String(s) => s.split_once(' ').filter(|(_, b)| !b.contains(' ')),
                Value::Array(a) => match &a[..] {
                    [Value::String(x), Value::String(y)] => Some((x.as_str(), y.as_str())),
                    _ => None,
                },
                _ => None,
            };
            let (a, b) = pair.ok_or_else(|| anyhow!("model.merges[{i}] {m} is not a pair of tokens"))?;
            Ok((a.to_owned(), b.to_owned()))
        })
        .collect()
}

/// What [`id_limit`] allows, for messages.
const ID_LIMIT: &str = "ids may leave holes, but at most twice the number of tokens named, plus 1024";

/// The ids a file naming `n` tokens (vocabulary entries and added tokens) may use: `0..limit`.
/// The planes hold one entry per id up to the largest, so the largest id, not the number of
/// tokens, sets the memory a file asks for; holes (decoded as nothing) are allowed, but a short
/// file cannot ask for billions of entries.
fn id_limit(n: usize) -> u32 {
    u32::try_from(n.saturating_mul(2).saturating_add(1024)).unwrap_or(u32::MAX)
}

/// An added token before its id is resolved.
struct Added {
    /// The text matched.
    content: String,
    /// Its id (`None`: the vocabulary's id of `content`, else a new id at the end).
    id: Option<u32>,
    /// Special token.
    special: bool,
    /// Matched in the second pass.
    normalized: bool,
}

/// Token strings by id and ids by string, as the reference's BPE model holds them.
#[derive(Default)]
struct Vocab {
    /// Token string of each id (`None`: a hole, decoded as nothing).
    strings: Vec<Option<String>>,
    /// The id each string maps to.
    by_string: HashMap<String, u32>,
}

impl Vocab {
    /// From a JSON object `{token: id}`, every id below `max_id` (see [`id_limit`]).
    fn from_json_map(map: &serde_json::Map<String, Value>, max_id: u32) -> Result<Vocab> {
        let mut vocab = Vocab::default();
        for (token, id) in map {
            let id = id.as_u64().and_then(|id| u32::try_from(id).ok());
            let id = id.ok_or_else(|| anyhow!("token {token:?}: id is not a u32"))?;
            ensure!(id < max_id, "token {token:?}: id {id} is not below {max_id} ({})", ID_LIMIT);
            vocab.insert(token, id);
        }
        Ok(vocab)
    }

    /// Maps `token` to `id` (a string seen before moves to the new id; its old id becomes a hole).
    fn insert(&mut self, token: &str, id: u32) {
        if let Some(old) = self.by_string.insert(token.to_owned(), id) {
            if let Some(slot) = self.strings.get_mut(old as usize) {
                *slot = None;
            }
        }
        self.ensure_id(id, token);
        self.strings[id as usize] = Some(token.to_owned());
    }

    /// Makes room for `id`; a hole there takes `content` (for decoding only: no word matches it).
    fn ensure_id(&mut self, id: u32, content: &str) {
        let i = id as usize;
        if self.strings.len() <= i {
            self.strings.resize(i + 1, None);
        }
        if self.strings[i].is_none() {
            self.strings[i] = Some(content.to_owned());
        }
    }

    /// Resolves merges and added tokens, and builds the planes.
    fn build(
        mut self,
        merges: &[(String, String)],
        added: Vec<Added>,
        config: BpeConfig,
    ) -> Result<BpeOwned> {
        let mut pairs = Vec::with_capacity(merges.len());
        for (rank, (a, b)) in merges.iter().enumerate() {
            let id = |s: &str| {
                self.by_string.get(s).copied().ok_or_else(|| anyhow!("merge {rank}: {s:?} is not a token"))
            };
            pairs.push((id(a)?, id(b)?));
        }
        let mut added_tokens: Vec<AddedToken> = Vec::new();
        for a in added {
            let id = match a.id.or_else(|| self.by_string.get(&a.content).copied()) {
                Some(id) => id,
                None => {
                    // Not in the vocabulary: the reference appends it.
                    let id = u32::try_from(self.strings.len()).context("over u32::MAX tokens")?;
                    self.ensure_id(id, &a.content);
                    id
                }
            };
            if added_tokens.iter().any(|t| t.content == a.content.as_bytes()) {
                continue;
            }
            added_tokens.push(AddedToken {
                content: a.content.into_bytes(),
                id,
                special: a.special,
                normalized: a.normalized,
            });
        }
        let word_ids: std::collections::HashSet<u32> = self.by_string.values().copied().collect();
        let mut tokens = Vec::with_capacity(self.strings.len());
        let mut word_token = Vec::with_capacity(self.strings.len());
        for (id, s) in self.strings.iter().enumerate() {
            let s = s.as_deref().unwrap_or("");
            let bytes = byte_level_to_bytes(s);
            word_token.push(bytes.is_some() && !s.is_empty() && word_ids.contains(&(id as u32)));
            tokens.push(bytes.unwrap_or_else(|| s.as_bytes().to_vec()));
        }
        let mut builder = BpeBuilder::new(tokens, config).merges(pairs);
        builder.word_token = word_token;
        builder.added = added_tokens;
        builder.build().map_err(|e| anyhow!("{e}"))
    }
}

/// A GGUF token as `transformers` spells it in the vocabulary: itself when every char is in the
/// byte-level alphabet, else the byte-level spelling of its UTF-8 bytes.
fn byte_level_spelling(token: &str) -> String {
    if byte_level_to_bytes(token).is_some() {
        return token.to_owned();
    }
    let chars = picoformer::tokenizer::bpe::byte_level_chars();
    token.bytes().map(|b| chars[usize::from(b)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpe_json(vocab: &str, added: &str) -> Vec<u8> {
        format!(
            r#"{{"model":{{"type":"BPE","vocab":{vocab},"merges":[]}},"pre_tokenizer":{{"type":"ByteLevel"}},
            "added_tokens":[{added}]}}"#
        )
        .into_bytes()
    }

    /// An id far past the tokens named is an error naming the file and the token, not a table of
    /// billions of entries (it used to allocate one `Option<String>` per id up to it).
    #[test]
    fn huge_ids_are_errors_not_huge_tables() {
        let path = Path::new("dir/tokenizer.json");
        let e = parse_tokenizer_json(path, &bpe_json(r#"{"a":0,"b":4000000000}"#, "")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("dir/tokenizer.json") && msg.contains("\"b\"") && msg.contains("4000000000"),
            "{msg}"
        );
        let added = r#"{"id":4294967295,"content":"<x>","special":true}"#;
        let e = parse_tokenizer_json(path, &bpe_json(r#"{"a":0}"#, added)).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("dir/tokenizer.json") && msg.contains("<x>") && msg.contains("4294967295"),
            "{msg}"
        );
        let encoder = (Path::new("dir/vocab.json"), &br#"{"a":0,"b":2000000000}"#[..]);
        let e = parse_gpt2_files(encoder, (Path::new("dir/merges.txt"), b"#version: 0.2\n")).unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("dir/vocab.json") && msg.contains("2000000000"), "{msg}");
    }

    /// Holes below the limit still load (they decode as nothing), as before.
    #[test]
    fn small_holes_are_kept() {
        let path = Path::new("tokenizer.json");
        let bpe = parse_tokenizer_json(path, &bpe_json(r#"{"a":0,"b":1000}"#, "")).unwrap();
        assert_eq!(bpe.token_offsets.len(), 1002);
        let e = parse_tokenizer_json(path, &bpe_json(r#"{"a":0,"b":1028}"#, "")).unwrap_err();
        assert!(format!("{e:#}").contains("not below 1028"), "{e:#}");
    }
}

//! A decoder's byte-level BPE tokenizer and its header settings: the `tokenizer.bpe.*` planes
//! (from `tokenizer.json`, GPT-2's `vocab.json` + `merges.txt`, or a GGUF's `tokenizer.ggml.*`),
//! the bos/eos/pad ids, whether a prompt starts with bos, and whether the chat template is ChatML.
//!
//! Special ids, first found wins: bos/eos from `generation_config.json`, `config.json`, then
//! `tokenizer_config.json`'s `bos_token`/`eos_token`; pad from `tokenizer_config.json`'s
//! `pad_token`, `generation_config.json`, then `config.json`. `add_bos` is
//! `tokenizer_config.json`'s `add_bos_token`, else whether `tokenizer.json`'s post-processor is a
//! template that starts with a special token (a `ByteLevel` post-processor adds nothing).
//! `chat_ml`: the chat template (`tokenizer_config.json`'s `chat_template`, `chat_template.jinja`,
//! or the GGUF's `tokenizer.chat_template`) contains `<|im_start|>`.

use std::path::{Path, PathBuf};

use super::chat;
use anyhow::{anyhow, bail, Context, Result};
use picoformer::format::{u32_bytes, BpeParams, DType, PendingSection};
use picoformer::tokenizer::bpe::{byte_level_to_bytes, BpeOwned, PLANES};
use serde_json::Value;

use super::config::{token_id, DecoderConfig};
use crate::load::bpe::{from_gguf, from_tokenizer_value, parse_gpt2_files, GgufBpe};
use crate::load::gguf::GgufTokenizer;
use crate::load::{parse_json, read_if_file};

/// The chat template (empty: none) rendered around one user message, with the tokenizer's bos
/// and eos texts; errors name the file the template came from.
fn render_chat(template: &str, bpe: &BpeOwned, source: &Path) -> Result<Option<(String, String)>> {
    if template.trim().is_empty() {
        return Ok(None);
    }
    let text = |id: Option<u32>| -> String {
        id.and_then(|i| {
            let (lo, hi) = (*bpe.token_offsets.get(i as usize)?, *bpe.token_offsets.get(i as usize + 1)?);
            String::from_utf8(bpe.token_bytes.get(lo as usize..hi as usize)?.to_vec()).ok()
        })
        .unwrap_or_default()
    };
    let (bos, eos) = (text(bpe.config.bos), text(bpe.config.eos));
    let parts = chat::prefix_suffix(template, &bos, &eos)
        .with_context(|| format!("{}: chat template", source.display()))?;
    Ok(Some(parts))
}

/// ChatML's turn marker.
const IM_START: &str = "<|im_start|>";

/// The tokenizer of a decoder, ready for the blob.
#[derive(Debug, Clone)]
pub struct DecoderTokenizer {
    /// The file the vocabulary came from (for messages).
    pub source: PathBuf,
    /// The planes, with bos/eos set in their config.
    pub bpe: BpeOwned,
    /// Padding id.
    pub pad: Option<u32>,
    /// Prepend bos to prompts.
    pub add_bos: bool,
    /// The chat template is ChatML.
    pub chat_ml: bool,
    /// The chat template rendered around one user message: `(prefix, suffix)`.
    pub chat: Option<(String, String)>,
}

/// The bytes of a decoder directory's tokenizer files (`None`: the file is absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct DecoderTokenizerFiles<'a> {
    /// `tokenizer.json`.
    pub tokenizer_json: Option<&'a [u8]>,
    /// GPT-2's `vocab.json` (read with `merges.txt` when there is no `tokenizer.json`).
    pub vocab_json: Option<&'a [u8]>,
    /// GPT-2's `merges.txt`.
    pub merges_txt: Option<&'a [u8]>,
    /// `tokenizer_config.json`.
    pub tokenizer_config: Option<&'a [u8]>,
    /// `generation_config.json`.
    pub generation_config: Option<&'a [u8]>,
    /// `chat_template.jinja` (used when `tokenizer_config.json` has no `chat_template`).
    pub chat_template: Option<&'a [u8]>,
}

impl DecoderTokenizer {
    /// Reads the tokenizer of the Hugging Face directory `dir` (see the module docs).
    pub fn from_dir(dir: &Path, cfg: &DecoderConfig) -> Result<DecoderTokenizer> {
        let optional = |name: &str| read_if_file(&dir.join(name));
        let tokenizer_json = optional("tokenizer.json")?;
        let (vocab_json, merges_txt) = match tokenizer_json {
            Some(_) => (None, None),
            None => (optional("vocab.json")?, optional("merges.txt")?),
        };
        let tokenizer_config = optional("tokenizer_config.json")?;
        let generation_config = optional("generation_config.json")?;
        // optional: an unreadable chat_template.jinja counts as none
        let chat_template = optional("chat_template.jinja").ok().flatten();
        let files = DecoderTokenizerFiles {
            tokenizer_json: tokenizer_json.as_deref(),
            vocab_json: vocab_json.as_deref(),
            merges_txt: merges_txt.as_deref(),
            tokenizer_config: tokenizer_config.as_deref(),
            generation_config: generation_config.as_deref(),
            chat_template: chat_template.as_deref(),
        };
        DecoderTokenizer::from_files(dir, &files, cfg)
    }

    /// [`from_dir`](Self::from_dir) on the files' bytes; `dir` is only named in messages (as the
    /// directory holding the files).
    pub fn from_files(
        dir: &Path,
        files: &DecoderTokenizerFiles<'_>,
        cfg: &DecoderConfig,
    ) -> Result<DecoderTokenizer> {
        let (source, mut bpe, post) = match files.tokenizer_json {
            Some(bytes) => {
                let p = dir.join("tokenizer.json");
                let json = parse_json(&p, bytes)?;
                let bpe = from_tokenizer_value(&p, &json)?;
                (p, bpe, json["post_processor"].clone())
            }
            None => {
                let (vocab, merges) = (dir.join("vocab.json"), dir.join("merges.txt"));
                let (Some(vocab_bytes), Some(merges_bytes)) = (files.vocab_json, files.merges_txt) else {
                    bail!("{}: no tokenizer.json, nor vocab.json + merges.txt", dir.display());
                };
                let bpe = parse_gpt2_files((&vocab, vocab_bytes), (&merges, merges_bytes))?;
                (vocab, bpe, Value::Null)
            }
        };
        let tc_path = dir.join("tokenizer_config.json");
        let tc = optional_json(&tc_path, files.tokenizer_config)?;
        let gen_path = dir.join("generation_config.json");
        let gen = optional_json(&gen_path, files.generation_config)?;
        let special = |key: &str| -> Result<Option<u32>> {
            let Some(s) = tc.get(key).and_then(|t| t.as_str().or_else(|| t["content"].as_str())) else {
                return Ok(None);
            };
            let id = lookup(&bpe, s).ok_or_else(|| {
                anyhow!("{}: {key} {s:?} is not a token of {}", tc_path.display(), source.display())
            })?;
            Ok(Some(id))
        };
        let ids = |key: &str| -> Result<Option<u32>> {
            token_id(&gen, &format!("{key}_token_id")).with_context(|| gen_path.display().to_string())
        };
        let bos = ids("bos")?.or(cfg.bos).or(special("bos_token")?).or(bpe.config.bos);
        let eos = ids("eos")?.or(cfg.eos).or(special("eos_token")?).or(bpe.config.eos);
        let pad = special("pad_token")?.or(ids("pad")?).or(cfg.pad);
        (bpe.config.bos, bpe.config.eos) = (bos, eos);
        let add_bos = match tc.get("add_bos_token").and_then(Value::as_bool) {
            Some(b) => b,
            None => template_adds_special(&post),
        };
        let template = match &tc["chat_template"] {
            Value::String(s) => s.clone(),
            Value::Array(list) => list.iter().filter_map(|t| t["template"].as_str()).collect(),
            _ => files.chat_template.and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default().to_owned(),
        };
        let chat = render_chat(&template, &bpe, &tc_path)?;
        let mut t =
            DecoderTokenizer { source, bpe, pad, add_bos, chat_ml: template.contains(IM_START), chat };
        t.fit(cfg)?;
        Ok(t)
    }

    /// The tokenizer of a GGUF (`tokenizer.ggml.model` must be `gpt2`: byte-level BPE).
    pub fn from_gguf(path: &Path, t: &GgufTokenizer, cfg: &DecoderConfig) -> Result<DecoderTokenizer> {
        let ctx = || path.display().to_string();
        if t.model != "gpt2" {
            bail!(
                "{}: tokenizer.ggml.model {:?}: only byte-level BPE (\"gpt2\") is supported",
                ctx(),
                t.model
            );
        }
        let input = GgufBpe::of(t);
        let bpe = from_gguf(&input).with_context(ctx)?;
        let chat_ml = t.chat_template.as_deref().is_some_and(|s| s.contains(IM_START));
        let add_bos = t.add_bos.unwrap_or(false);
        let chat = render_chat(t.chat_template.as_deref().unwrap_or(""), &bpe, path)?;
        let mut out =
            DecoderTokenizer { source: path.to_path_buf(), bpe, pad: t.padding, add_bos, chat_ml, chat };
        out.fit(cfg)?;
        Ok(out)
    }

    /// Number of token ids.
    pub fn n_vocab(&self) -> usize {
        self.bpe.token_offsets.len().saturating_sub(1)
    }

    /// The header's tokenizer block.
    pub fn params(&self) -> BpeParams {
        BpeParams { config: self.bpe.config, pad: self.pad, add_bos: self.add_bos, chat_ml: self.chat_ml }
    }

    /// The `tokenizer.bpe.*` sections ([`PLANES`] order; a plane without elements is left out:
    /// readers take an absent plane as empty).
    pub fn sections(&self) -> Vec<PendingSection> {
        let b = &self.bpe;
        let u8s = |v: &[u8]| (DType::U8, vec![v.len() as u32], v.to_vec());
        let u32s = |v: &[u32], width: usize| {
            let shape = match width {
                1 => vec![v.len() as u32],
                w => vec![(v.len() / w) as u32, w as u32],
            };
            (DType::U32, shape, u32_bytes(v))
        };
        let planes = [
            u8s(&b.token_bytes),
            u32s(&b.token_offsets, 1),
            u32s(&b.merges, 4),
            u32s(&b.byte_ids, 1),
            u32s(&b.sorted, 1),
            u8s(&b.added_bytes),
            u32s(&b.added, 3),
        ];
        let mut out: Vec<PendingSection> = PLANES
            .iter()
            .zip(planes)
            .filter(|(_, (_, _, bytes))| !bytes.is_empty())
            .map(|(&(name, _, _), (dtype, shape, bytes))| PendingSection {
                name: name.into(),
                dtype,
                shape,
                bytes,
            })
            .collect();
        if let Some((prefix, suffix)) = &self.chat {
            let bytes = chat::section_bytes(prefix, suffix);
            out.push(PendingSection {
                name: chat::SECTION.into(),
                dtype: DType::U8,
                shape: vec![bytes.len() as u32],
                bytes,
            });
        }
        out
    }

    /// Checks that the vocabulary fits the embedding and that the special ids are tokens, then
    /// gives the embedding rows past the tokenizer's last token (padding rows of some
    /// checkpoints) empty tokens, so that token ids and embedding rows match one to one (the
    /// core requires it); they decode to nothing and no text encodes to them.
    fn fit(&mut self, cfg: &DecoderConfig) -> Result<()> {
        let (n, vocab) = (self.n_vocab(), cfg.params.vocab_size as usize);
        if n > vocab {
            bail!(
                "{}: {n} tokens, but {} says vocab_size {vocab} (embedding rows)",
                self.source.display(),
                cfg.path.display()
            );
        }
        let c = &self.bpe.config;
        for (what, id) in [("bos", c.bos), ("eos", c.eos), ("pad", self.pad), ("unk", c.unk)] {
            if let Some(id) = id.filter(|&id| id as usize >= n) {
                bail!("{}: {what} id {id} is not below the {n} tokens", self.source.display());
            }
        }
        if self.add_bos && c.bos.is_none() {
            bail!("{}: add_bos_token is set but there is no bos token", self.source.display());
        }
        let end = self.bpe.token_bytes.len() as u32;
        self.bpe.token_offsets.resize(vocab + 1, end);
        Ok(())
    }
}

/// A JSON file that may be absent (`Null` then).
fn optional_json(path: &Path, bytes: Option<&[u8]>) -> Result<Value> {
    bytes.map_or(Ok(Value::Null), |b| parse_json(path, b))
}

/// Whether a `tokenizer.json` post-processor prepends a special token to a single sequence
/// (`TemplateProcessing` whose `single` starts with a `SpecialToken`, alone or in a `Sequence`).
fn template_adds_special(post: &Value) -> bool {
    match post["type"].as_str() {
        Some("TemplateProcessing") => {
            post["single"].as_array().and_then(|s| s.first()).is_some_and(|p| p.get("SpecialToken").is_some())
        }
        Some("Sequence") => {
            post["processors"].as_array().is_some_and(|ps| ps.iter().any(template_adds_special))
        }
        _ => false,
    }
}

/// The id of token `s`: an added token with that content, else a vocabulary token spelled `s`
/// (byte-level spelling, or its raw bytes).
pub fn lookup(bpe: &BpeOwned, s: &str) -> Option<u32> {
    let mut start = 0usize;
    for entry in bpe.added.chunks_exact(3) {
        let (id, end) = (entry[0], entry[1] as usize);
        if bpe.added_bytes.get(start..end) == Some(s.as_bytes()) {
            return Some(id);
        }
        start = end;
    }
    let wanted = [byte_level_to_bytes(s), Some(s.as_bytes().to_vec())];
    let token = |i: usize| {
        let (a, b) = (*bpe.token_offsets.get(i)? as usize, *bpe.token_offsets.get(i + 1)? as usize);
        bpe.token_bytes.get(a..b)
    };
    wanted.iter().flatten().find_map(|w| {
        (0..bpe.token_offsets.len().saturating_sub(1))
            .find(|&i| token(i) == Some(w.as_slice()))
            .map(|i| i as u32)
    })
}

//! sentence-transformers files: `modules.json`, the Pooling module's `config.json`, Normalize, and
//! `sentence_bert_config.json`.

use std::path::Path;

use anyhow::{bail, Result};
use picoformer::format::Pooling;
use serde_json::Value;

use super::read_json;

/// What the sentence-transformers files ask for (all defaults when the files are absent).
#[derive(Debug, Clone, Default)]
pub struct SentenceTransformers {
    /// Pooling of the Pooling module, if `modules.json` lists one.
    pub pooling: Option<Pooling>,
    /// A Normalize module follows.
    pub normalize: bool,
    /// `sentence_bert_config.json` `max_seq_length`.
    pub max_seq_length: Option<usize>,
    /// `sentence_bert_config.json` `do_lower_case` (lowercases before the tokenizer).
    pub do_lower_case: bool,
}

impl SentenceTransformers {
    /// Reads the files under `dir` that exist.
    pub fn read(dir: &Path) -> Result<SentenceTransformers> {
        let mut st = SentenceTransformers::default();
        let sbert = dir.join("sentence_bert_config.json");
        if sbert.is_file() {
            let v = read_json(&sbert)?;
            st.max_seq_length = v.get("max_seq_length").and_then(Value::as_u64).map(|n| n as usize);
            st.do_lower_case = v.get("do_lower_case").and_then(Value::as_bool).unwrap_or(false);
        }
        let modules = dir.join("modules.json");
        if !modules.is_file() {
            return Ok(st);
        }
        let v = read_json(&modules)?;
        let Some(list) = v.as_array() else { bail!("{}: expected a list of modules", modules.display()) };
        for m in list {
            let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
            let sub = m.get("path").and_then(Value::as_str).unwrap_or("");
            match kind.rsplit('.').next().unwrap_or("") {
                "Transformer" => {}
                "Pooling" => st.pooling = Some(read_pooling(&dir.join(sub).join("config.json"))?),
                "Normalize" => st.normalize = true,
                other => bail!(
                    "{}: module {other:?} is not supported (Transformer, Pooling, Normalize)",
                    modules.display()
                ),
            }
        }
        Ok(st)
    }
}

/// A Pooling module's `config.json`: exactly one of mean or CLS pooling.
fn read_pooling(path: &Path) -> Result<Pooling> {
    let v = read_json(path)?;
    let on = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let unsupported = [
        "pooling_mode_max_tokens",
        "pooling_mode_mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens",
        "pooling_mode_lasttoken",
    ];
    if let Some(k) = unsupported.iter().find(|k| on(k)) {
        bail!("{}: {k} is not supported (mean or CLS pooling only)", path.display());
    }
    match (on("pooling_mode_mean_tokens"), on("pooling_mode_cls_token")) {
        (true, false) => Ok(Pooling::Mean),
        (false, true) => Ok(Pooling::Cls),
        _ => bail!(
            "{}: expected exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token",
            path.display()
        ),
    }
}

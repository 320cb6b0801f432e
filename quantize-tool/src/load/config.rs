//! `config.json`: architecture, hyper-parameters, labels.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The Hugging Face model classes the converter understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HfArch {
    /// `BertModel`: sentence embeddings.
    BertModel,
    /// `BertForSequenceClassification`.
    SequenceClassification,
    /// `BertForMaskedLM` (also `BertForPreTraining`, whose next-sentence head is dropped).
    MaskedLm,
}

/// The fields of `config.json` the converter uses.
#[derive(Debug, Clone)]
pub struct HfConfig {
    /// The file read.
    pub path: PathBuf,
    /// `architectures[0]`.
    pub arch: HfArch,
    /// `vocab_size`.
    pub vocab_size: usize,
    /// `hidden_size`.
    pub hidden: usize,
    /// `num_hidden_layers`.
    pub n_layers: usize,
    /// `num_attention_heads`.
    pub n_heads: usize,
    /// `intermediate_size`.
    pub intermediate: usize,
    /// `max_position_embeddings`.
    pub max_position: usize,
    /// `type_vocab_size`.
    pub type_vocab_size: usize,
    /// `layer_norm_eps`.
    pub layer_norm_eps: f32,
    /// `id2label` in id order (empty if absent).
    pub labels: Vec<String>,
    /// `lexicon_gate_max`: the classifier weighs VADER's score in through a gate bounded by it
    /// (`lexicon_gate.*` tensors, `lexicon.tsv` beside the config).
    pub lexicon_gate_max: Option<f32>,
}

impl HfConfig {
    /// Reads and checks `path` (a `config.json`).
    pub fn read(path: &Path) -> Result<HfConfig> {
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        HfConfig::from_bytes(path, &bytes)
    }

    /// Parses and checks the bytes of a `config.json`; `path` is only named in messages.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<HfConfig> {
        let v = super::parse_json(path, bytes)?;
        HfConfig::from_json(path, &v).with_context(|| path.display().to_string())
    }

    fn from_json(path: &Path, v: &Value) -> Result<HfConfig> {
        let arch = parse_arch(v)?;
        if let Some(t) = v.get("model_type").and_then(Value::as_str) {
            if t != "bert" {
                bail!("model_type {t:?} is not supported (only \"bert\")");
            }
        }
        let act = v.get("hidden_act").and_then(Value::as_str).unwrap_or("gelu");
        if act != "gelu" {
            bail!("hidden_act {act:?} is not supported: only \"gelu\" (exact erf GELU)");
        }
        let pos = v.get("position_embedding_type").and_then(Value::as_str).unwrap_or("absolute");
        if pos != "absolute" {
            bail!("position_embedding_type {pos:?} is not supported (only \"absolute\")");
        }
        let eps = v.get("layer_norm_eps").map(|e| e.as_f64()).unwrap_or(Some(1e-12));
        // checked as the f32 the header stores: 1e300 is finite as f64 but not as f32, and
        // 1e-300 rounds to 0
        let Some(eps) = eps.map(|e| e as f32).filter(|e| e.is_finite() && *e > 0.0) else {
            bail!("layer_norm_eps must be a positive number (finite and above 0 as f32)");
        };
        let cfg = HfConfig {
            path: path.to_path_buf(),
            arch,
            vocab_size: size(v, "vocab_size")?,
            hidden: size(v, "hidden_size")?,
            n_layers: size(v, "num_hidden_layers")?,
            n_heads: size(v, "num_attention_heads")?,
            intermediate: size(v, "intermediate_size")?,
            max_position: size(v, "max_position_embeddings")?,
            type_vocab_size: v.get("type_vocab_size").map_or(Ok(2), |_| size(v, "type_vocab_size"))?,
            layer_norm_eps: eps,
            labels: labels(v)?,
            lexicon_gate_max: lexicon_gate_max(v)?,
        };
        if cfg.hidden % cfg.n_heads != 0 {
            bail!("hidden_size {} is not a multiple of num_attention_heads {}", cfg.hidden, cfg.n_heads);
        }
        if cfg.arch == HfArch::SequenceClassification && cfg.labels.is_empty() {
            bail!("BertForSequenceClassification without id2label");
        }
        let gated = v.pointer("/architectures/0").and_then(Value::as_str) == Some("BertWithLexiconGate");
        if gated != cfg.lexicon_gate_max.is_some() {
            bail!("BertWithLexiconGate and lexicon_gate_max go together (one of them is missing)");
        }
        if gated && cfg.labels.len() != 2 {
            bail!("BertWithLexiconGate needs two labels (its gate moves the margin between them)");
        }
        Ok(cfg)
    }
}

fn parse_arch(v: &Value) -> Result<HfArch> {
    let Some(name) = v.get("architectures").and_then(|a| a.get(0)).and_then(Value::as_str) else {
        bail!("missing \"architectures\" (expected [\"BertModel\"], [\"BertForSequenceClassification\"] or [\"BertForMaskedLM\"])");
    };
    Ok(match name {
        "BertModel" => HfArch::BertModel,
        // scripts/sentiment/lexicon_gate.py: a classifier with VADER's score gated into its margin
        "BertForSequenceClassification" | "BertWithLexiconGate" => HfArch::SequenceClassification,
        "BertForMaskedLM" | "BertForPreTraining" => HfArch::MaskedLm,
        other => bail!(
            "architecture {other:?} is not supported (BertModel, BertForSequenceClassification, BertWithLexiconGate, BertForMaskedLM)"
        ),
    })
}

/// `lexicon_gate_max`, if present: finite and above 0 as f32.
fn lexicon_gate_max(v: &Value) -> Result<Option<f32>> {
    let Some(x) = v.get("lexicon_gate_max") else { return Ok(None) };
    match x.as_f64().map(|g| g as f32) {
        Some(g) if g.is_finite() && g > 0.0 => Ok(Some(g)),
        _ => bail!("lexicon_gate_max must be a positive number, found {x}"),
    }
}

/// A required positive integer field.
fn size(v: &Value, key: &str) -> Result<usize> {
    match v.get(key) {
        None => bail!("missing field {key:?}"),
        Some(x) => match x.as_u64() {
            Some(n) if n >= 1 && n <= u32::MAX as u64 => Ok(n as usize),
            _ => bail!("field {key:?} must be a positive integer, found {x}"),
        },
    }
}

/// `id2label` as a list in id order; ids must be exactly `0..n`.
fn labels(v: &Value) -> Result<Vec<String>> {
    let Some(map) = v.get("id2label").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut labels = vec![None; map.len()];
    for (k, name) in map {
        let id: usize = k.parse().with_context(|| format!("id2label: key {k:?} is not an integer"))?;
        let Some(slot) = labels.get_mut(id) else {
            bail!("id2label: ids are not 0..{}", map.len());
        };
        let Some(name) = name.as_str() else { bail!("id2label[{k}] is not a string") };
        *slot = Some(name.to_string());
    }
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| l.with_context(|| format!("id2label: id {i} missing")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Result<HfConfig> {
        let text = format!(
            r#"{{"architectures":["BertModel"],"vocab_size":10,"hidden_size":8,"num_hidden_layers":1,
            "num_attention_heads":2,"intermediate_size":16,"max_position_embeddings":32{extra}}}"#
        );
        HfConfig::from_json(Path::new("config.json"), &serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn defaults_and_checks() {
        let c = cfg("").unwrap();
        assert_eq!((c.type_vocab_size, c.layer_norm_eps), (2, 1e-12));
        assert!(cfg(r#","hidden_act":"gelu_new""#).unwrap_err().to_string().contains("gelu_new"));
        assert!(cfg(r#","num_attention_heads":3"#).is_err());
        let c = cfg(r#","id2label":{"1":"b","0":"a"}"#).unwrap();
        assert_eq!(c.labels, ["a", "b"]);
        assert!(cfg(r#","id2label":{"2":"b","0":"a"}"#).is_err());
    }

    /// `layer_norm_eps` is checked as the f32 the header stores (it used to be checked as f64, so
    /// 1e300 became an infinite and 1e-300 a zero epsilon in the header).
    #[test]
    fn layer_norm_eps_checked_as_f32() {
        for eps in ["1e300", "1e-300", "0", "-1e-12"] {
            let e = cfg(&format!(r#","layer_norm_eps":{eps}"#)).unwrap_err();
            assert!(e.to_string().contains("layer_norm_eps"), "{eps}: {e:#}");
        }
        assert_eq!(cfg(r#","layer_norm_eps":1e-5"#).unwrap().layer_norm_eps, 1e-5);
    }
}

//! `generate --prompts FILE`: many prompts through one loaded model, a JSON line out for each.
//!
//! Each non-blank line of the file is a JSON string (the prompt) or an object
//! `{"prompt": "...", "seed": N}` (`seed` optional: the `--seed` otherwise). Every prompt starts
//! from an empty context with its own sampler, so its line is what `generate --prompt P --seed S
//! --json` prints for it; the model is read and checked once, which is most of a short
//! generation's time for a large blob.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use picoformer::format::AlignedBuf;
use serde::Deserialize;

use crate::escape;
use crate::generate::{decoder, generate_with, GenerateOptions};

/// One line of a prompts file in object form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    prompt: String,
    seed: Option<u64>,
}

/// Runs every prompt of `file` with `opts` (its `prompt` and `stream` unused), writing one JSON
/// line per prompt to `out`: the [`Generated`](crate::generate::Generated) fields, or
/// `{"error": "..."}` for a line that fails (also reported on stderr as `FILE:LINE: ...`).
/// Returns whether every line succeeded.
pub fn generate_prompts(
    path: &Path,
    blob: &AlignedBuf,
    file: &Path,
    opts: &GenerateOptions,
    out: &mut dyn Write,
) -> Result<bool> {
    let text = crate::run::read_text(file)?;
    let model = decoder(path, blob)?;
    let mut failed = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let run = parse(line).and_then(|(prompt, seed)| {
            let sampler =
                picoformer::SamplerSettings { seed: seed.unwrap_or(opts.sampler.seed), ..opts.sampler };
            let o = GenerateOptions { prompt, sampler, stream: false, ..opts.clone() };
            generate_with(path, &model, &o, &mut std::io::sink())
        });
        match run {
            Ok(g) => writeln!(out, "{}", escape::json(&g)?)?,
            Err(e) => {
                failed += 1;
                let msg = format!("{e:#}");
                out.flush()?;
                eprintln!("error: {}:{}: {}", file.display(), n + 1, escape::line(&msg));
                writeln!(out, "{}", escape::json(&serde_json::json!({ "error": msg }))?)?;
            }
        }
    }
    Ok(failed == 0)
}

/// The prompt and seed of a line: a JSON string, or `{"prompt", "seed"}`.
fn parse(line: &str) -> Result<(String, Option<u64>)> {
    let v: serde_json::Value = serde_json::from_str(line).context("not a JSON line")?;
    match v {
        serde_json::Value::String(prompt) => Ok((prompt, None)),
        v @ serde_json::Value::Object(_) => {
            let e: Entry = serde_json::from_value(v).context("not a prompt object {\"prompt\", \"seed\"}")?;
            Ok((e.prompt, e.seed))
        }
        _ => bail!("a line is a JSON string or an object {{\"prompt\": \"...\", \"seed\": N}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn lines_are_strings_or_prompt_objects() {
        assert_eq!(parse(r#""a\nb""#).unwrap(), ("a\nb".into(), None));
        assert_eq!(parse(r#"{"prompt": "x", "seed": 7}"#).unwrap(), ("x".into(), Some(7)));
        assert_eq!(parse(r#"{"prompt": "x"}"#).unwrap(), ("x".into(), None));
        let err = |l: &str| format!("{:#}", parse(l).unwrap_err());
        assert!(err(r#"{"prompt": "x", "temp": 1}"#).contains("unknown field `temp`"));
        assert!(err(r#"{"seed": 1}"#).contains("missing field `prompt`"));
        assert!(err(r#"{"prompt": "x", "seed": -1}"#).contains("prompt object"));
        assert!(err("[1]").contains("JSON string or an object"));
        assert!(err("plain text").contains("not a JSON line"));
    }
}

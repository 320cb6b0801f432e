//! Tiny random-init Hugging Face fixtures (made with transformers, see tests/data/PROVENANCE.md):
//! the f32 blob's logits match PyTorch's within 1e-5.

use std::path::PathBuf;

use picoformer::format::AlignedBuf;
use picoformer::{Bert, Session};
use picoformer_tool::{quantize_dir, QuantizeOptions, WeightDtype};
use serde::Deserialize;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(name)
}

#[derive(Deserialize)]
struct ClsGolden {
    max_len: usize,
    cases: Vec<ClsCase>,
}

#[derive(Deserialize)]
struct ClsCase {
    text: String,
    ids: Vec<u32>,
    logits: Vec<f32>,
    pooled: Vec<f32>,
}

#[derive(Deserialize)]
struct MlmGolden {
    cases: Vec<MlmCase>,
}

#[derive(Deserialize)]
struct MlmCase {
    text: String,
    ids: Vec<u32>,
    mask_positions: Vec<usize>,
    mask_logits: Vec<Vec<f32>>,
    top5: Vec<Vec<u32>>,
}

fn blob(dir: &str, dtype: WeightDtype, max_seq: usize) -> AlignedBuf {
    let opts = QuantizeOptions { dtype, max_seq: Some(max_seq), ..QuantizeOptions::default() };
    let (bytes, _report) = quantize_dir(&data(dir), &opts).expect("quantize fixture");
    AlignedBuf::from_bytes(&bytes)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn classifier_logits_match_pytorch() {
    let g: ClsGolden =
        serde_json::from_str(&std::fs::read_to_string(data("tiny-bert-cls/golden.json")).unwrap()).unwrap();
    let buf = blob("tiny-bert-cls", WeightDtype::F32, g.max_len);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let mut arena = AlignedBuf::zeroed(m.arena_len(g.max_len).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), g.max_len).unwrap();
    let (mut worst_logit, mut worst_pooled) = (0f32, 0f32);
    for c in &g.cases {
        let r = s.classify(&c.text).unwrap();
        let logits = r.logits.to_vec();
        assert_eq!(s.ids(), &c.ids[..], "ids of {:?}", c.text);
        worst_logit = worst_logit.max(max_abs_diff(&logits, &c.logits));
        let pooled = s.embed_with(&c.text, picoformer::format::Pooling::Pooler, false).unwrap();
        worst_pooled = worst_pooled.max(max_abs_diff(pooled, &c.pooled));
    }
    println!("tiny-bert-cls f32: {} cases, max |logit diff| {worst_logit:.2e}, max |pooled diff| {worst_pooled:.2e}", g.cases.len());
    assert!(worst_logit <= 1e-5, "logits differ by {worst_logit}");
    assert!(worst_pooled <= 1e-5, "pooled differ by {worst_pooled}");
}

#[test]
fn classifier_quantized_labels_agree() {
    let g: ClsGolden =
        serde_json::from_str(&std::fs::read_to_string(data("tiny-bert-cls/golden.json")).unwrap()).unwrap();
    for (dtype, tol) in [(WeightDtype::F16, 2e-2), (WeightDtype::Int8, 0.25)] {
        let buf = blob("tiny-bert-cls", dtype, g.max_len);
        let m = Bert::from_bytes(buf.as_bytes()).unwrap();
        let mut arena = AlignedBuf::zeroed(m.arena_len(g.max_len).unwrap());
        let mut s = Session::new(&m, arena.as_mut_bytes(), g.max_len).unwrap();
        let mut worst = 0f32;
        for c in &g.cases {
            let r = s.classify(&c.text).unwrap();
            worst = worst.max(max_abs_diff(r.logits, &c.logits));
        }
        println!("tiny-bert-cls {dtype:?}: max |logit diff| {worst:.3e}");
        assert!(worst <= tol, "{dtype:?}: logits differ by {worst}");
    }
}

#[test]
fn masked_lm_logits_match_pytorch() {
    let g: MlmGolden =
        serde_json::from_str(&std::fs::read_to_string(data("tiny-bert-mlm/golden.json")).unwrap()).unwrap();
    let buf = blob("tiny-bert-mlm", WeightDtype::F32, 64);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    let mut arena = AlignedBuf::zeroed(m.arena_len(64).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), 64).unwrap();
    let mut worst = 0f32;
    for c in &g.cases {
        let mut pos = [0usize; 8];
        let got = s.run_masked(&c.text, &mut pos).unwrap().to_vec();
        assert_eq!(s.ids(), &c.ids[..], "ids of {:?}", c.text);
        assert_eq!(got, c.mask_positions);
        for (k, &p) in got.iter().enumerate() {
            let logits = s.mlm_logits(p).unwrap().to_vec();
            worst = worst.max(max_abs_diff(&logits, &c.mask_logits[k]));
            let mut top = [picoformer::Prediction::default(); 5];
            let top = s.fill_mask_at(p, &mut top).unwrap();
            let ids: Vec<u32> = top.iter().map(|p| p.id).collect();
            assert_eq!(ids, c.top5[k], "top-5 of {:?} at {p}", c.text);
        }
    }
    println!("tiny-bert-mlm f32: {} cases, max |logit diff| {worst:.2e}", g.cases.len());
    assert!(worst <= 1e-5, "logits differ by {worst}");
}

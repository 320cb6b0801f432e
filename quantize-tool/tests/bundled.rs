//! The bundled default model (models/sentiment.pfm, the distilled sentiment student): it fits a
//! microcontroller, it is exactly what the converter makes from the committed student checkpoint,
//! it agrees with the student's f32 PyTorch original, and its evaluation numbers reproduce.

use std::path::PathBuf;

use picoformer::format::AlignedBuf;
use picoformer::model::{KvPrecision, SessionOptions};
use picoformer::{Bert, Session};
use picoformer_tool::run::DEFAULT_MODEL;
use picoformer_tool::{quantize_dir, QuantizeOptions, WeightDtype};
use serde::Deserialize;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Deserialize)]
struct Golden {
    max_len: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    logits: Vec<f32>,
    label: String,
}

fn golden() -> Golden {
    let text = std::fs::read_to_string(root().join("data/sentiment/student_golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The golden file's largest |logit|: the scale the quantized blobs' logit tolerances follow.
fn largest_golden_logit(g: &Golden) -> f32 {
    g.cases.iter().flat_map(|c| &c.logits).fold(0f32, |m, x| m.max(x.abs()))
}

/// How the bundled blob is converted (scripts/sentiment/build_model.sh `BUNDLE_FLAGS`: `--dtype int4
/// --embeddings int4-g64`).
const BUNDLED: (WeightDtype, Option<WeightDtype>) = (WeightDtype::Int4, Some(WeightDtype::Int4G64));

fn student_blob(dtype: WeightDtype) -> AlignedBuf {
    student_blob_with(dtype, None)
}

/// The student converted with `dtype` weights and, if given, `embeddings` token embeddings.
fn student_blob_with(dtype: WeightDtype, embeddings: Option<WeightDtype>) -> AlignedBuf {
    let opts = QuantizeOptions { dtype, embeddings, max_seq: Some(64), ..QuantizeOptions::default() };
    let (bytes, _) = quantize_dir(&root().join("models/sentiment-student"), &opts).expect("quantize student");
    AlignedBuf::from_bytes(&bytes)
}

#[test]
fn bundled_model_fits_a_microcontroller() {
    let buf = AlignedBuf::from_bytes(DEFAULT_MODEL);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    assert!(DEFAULT_MODEL.len() <= 1_500_000, "blob is {} bytes", DEFAULT_MODEL.len());
    let opts = SessionOptions::new(64).with_chunk(2).with_kv(KvPrecision::I8);
    let arena_len = m.arena_len_with(&opts).unwrap();
    println!(
        "bundled model: {} bytes, arena at 64 tokens (int8 KV, chunk 2): {arena_len} bytes",
        DEFAULT_MODEL.len()
    );
    assert!(arena_len <= 64 * 1024, "arena {arena_len}");
    let mut arena = AlignedBuf::zeroed(arena_len);
    let mut s = Session::with_options(&m, arena.as_mut_bytes(), &opts).unwrap();
    let long = "a truly wonderful , moving and funny film . ".repeat(20);
    let c = s.classify(&long).unwrap();
    assert!(c.truncated);
    assert_eq!(m.label(c.label), Some("positive"));
}

/// `picoformer inspect --context 64 --chunk 2 --kv-int8` reports the firmware's arena, the core's
/// own figure for that plan; a chunk longer than the sequence is an error naming `--chunk`.
#[test]
fn inspect_reports_the_firmware_arena_plan() {
    let m = Bert::from_bytes(AlignedBuf::from_bytes(DEFAULT_MODEL).as_bytes())
        .unwrap()
        .arena_len_with(&SessionOptions::new(64).with_chunk(2).with_kv(KvPrecision::I8));
    let model = root().join("models/sentiment.pfm");
    let inspect = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(["inspect", "--json", model.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = inspect(&["--context", "64", "--chunk", "2", "--kv-int8"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["arena_bytes"].as_u64(), Some(m.unwrap() as u64));
    assert_eq!((v["arena_chunk"].as_u64(), v["arena_kv"].as_str()), (Some(2), Some("int8")));
    assert_eq!(v["task_params"]["lexicon_gate"].as_bool(), Some(true));
    assert!(v["sections"].as_array().unwrap().iter().any(|s| s["name"] == "lexicon.words"));
    let o = inspect(&["--chunk", "65"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--chunk 65 is outside 1..=64"));
}

#[test]
fn bundled_blob_is_what_the_converter_makes() {
    let buf = student_blob_with(BUNDLED.0, BUNDLED.1);
    assert!(buf.as_bytes() == DEFAULT_MODEL, "models/sentiment.pfm differs from a fresh conversion");
}

/// Half the student's lexicon gate bound (config.json `lexicon_gate_max`), the most its gated
/// VADER score can move a logit; 0 without a gate.
fn gate_half_range() -> f32 {
    let text = std::fs::read_to_string(root().join("models/sentiment-student/config.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["lexicon_gate_max"].as_f64().map_or(0.0, |g| g as f32 / 2.0)
}

/// Labels and logits of the f32 PyTorch student: identical ids; f32 blob within 1e-4 and the same
/// label on every sentence; the bundled int4 blob's logits within 10% of the logits' scale (int4's
/// error grows with it): the golden file's largest |logit|, or the lexicon gate's range where that
/// is larger (int4's error in the pooled output moves the gate, and the gate moves a logit by up
/// to half its bound); so its label can differ only where PyTorch's two logits are closer than
/// twice that (it must agree everywhere else).
#[test]
fn bundled_model_matches_its_pytorch_original() {
    let g = golden();
    let bundled = AlignedBuf::from_bytes(DEFAULT_MODEL);
    let f32_blob = student_blob(WeightDtype::F32);
    let scale = largest_golden_logit(&g).max(gate_half_range());
    // (name, blob, logit tolerance, every label as PyTorch's)
    for (name, buf, tol, all_labels) in
        [("f32", &f32_blob, 1e-4f32, true), ("bundled int4", &bundled, 0.1 * scale, false)]
    {
        let m = Bert::from_bytes(buf.as_bytes()).unwrap();
        let mut arena = AlignedBuf::zeroed(m.arena_len(g.max_len).unwrap());
        let mut s = Session::new(&m, arena.as_mut_bytes(), g.max_len).unwrap();
        let (mut worst, mut same_label, mut close_flips) = (0f32, 0, 0);
        for c in &g.cases {
            let r = s.classify(&c.text).unwrap();
            let (label, logits) = (m.label(r.label).unwrap(), r.logits.to_vec());
            assert_eq!(s.ids(), &c.ids[..], "ids of {:?}", c.text);
            assert_eq!(logits.len(), c.logits.len(), "logits of {:?}", c.text);
            let d = logits.iter().zip(&c.logits).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            worst = worst.max(d);
            let margin = (c.logits[1] - c.logits[0]).abs();
            if label == c.label {
                same_label += 1;
            } else {
                assert!(
                    margin < 2.0 * tol,
                    "{name}: label of {:?} flipped with a margin of {margin}",
                    c.text
                );
                close_flips += 1;
            }
        }
        println!(
            "student {name}: {same_label}/{} labels as PyTorch ({close_flips} flipped, each within a margin of {}), max |logit diff| {worst:.2e}",
            g.cases.len(),
            2.0 * tol
        );
        if all_labels {
            assert_eq!(same_label, g.cases.len(), "{name}: labels differ from PyTorch");
        }
        assert!(worst <= tol, "{name}: logits differ by {worst}");
    }
}

#[derive(Deserialize)]
struct EvalRow {
    model: String,
    dtype: String,
    domain: String,
    eval: EvalNumbers,
}

#[derive(Deserialize)]
struct EvalNumbers {
    correct: usize,
    examples: usize,
}

/// The test split of each sentiment domain (scripts/sentiment/build_model.sh `split_file`).
fn test_split(domain: &str) -> PathBuf {
    match domain {
        "rt" => root().join("data/sentiment/test.tsv"),
        d => root().join(format!("data/sentiment/{d}/test.tsv")),
    }
}

/// The student rows of scripts/sentiment/results/eval.json (the README table) come out again, for
/// every weight variant of build_model.sh `eval` and every domain's test split.
#[test]
fn student_evaluation_reproduces() {
    let text = std::fs::read_to_string(root().join("scripts/sentiment/results/eval.json")).unwrap();
    let rows: Vec<EvalRow> = serde_json::from_str(&text).unwrap();
    let variants = [
        ("f32", WeightDtype::F32, None),
        ("f16", WeightDtype::F16, None),
        ("int8", WeightDtype::Int8, None),
        ("int8-e4", WeightDtype::Int8, Some(WeightDtype::Int4G64)),
        ("int4", WeightDtype::Int4, Some(WeightDtype::Int4G64)),
    ];
    for (dtype, wd, embeddings) in variants {
        let buf = student_blob_with(wd, embeddings);
        let path = PathBuf::from(format!("student-{dtype}.pfm"));
        for domain in ["rt", "amazon", "tweets", "nyt"] {
            let want = rows
                .iter()
                .find(|r| r.model == "student" && r.dtype == dtype && r.domain == domain)
                .unwrap_or_else(|| panic!("no student {dtype} row for {domain} in eval.json"));
            let tsv = test_split(domain);
            let report = picoformer_tool::eval::evaluate((path.as_path(), &buf), &tsv, None, None).unwrap();
            println!(
                "student {dtype} {domain}: accuracy {}/{} (recorded {}/{})",
                report.correct, report.examples, want.eval.correct, want.eval.examples
            );
            assert_eq!((report.correct, report.examples), (want.eval.correct, want.eval.examples));
        }
    }
}

/// The README quick start: `picoformer classify "I loved this film"` with no flags.
#[test]
fn quick_start_classifies_with_no_flags() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(["classify", "I loved this film"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8(out.stdout).unwrap();
    println!("{line}");
    let mut fields = line.split_whitespace();
    assert_eq!(fields.next(), Some("positive"), "{line}");
    let p: f32 = fields.next().unwrap().parse().unwrap();
    assert!(p > 0.5 && p <= 1.0, "{line}");
}

/// `--kv-int8 --chunk 2` (the firmware's arena plan) gives the labels of the default plan and logits
/// within 0.5% of the golden file's largest |logit| (int8 keys and values keep about 1/254 of each
/// row's range, an error that grows with the logits' scale; 0.2% measured on the bundled blob).
#[test]
fn firmware_arena_plan_from_the_cli() {
    let g = golden();
    let scale = largest_golden_logit(&g) as f64;
    let texts: Vec<&str> = g.cases.iter().map(|c| c.text.as_str()).filter(|t| !t.contains('\n')).collect();
    let run = |extra: &[&str]| -> Vec<serde_json::Value> {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(["classify", "--json"])
            .args(extra)
            .args(&texts)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let (plain, small) = (run(&[]), run(&["--kv-int8", "--chunk", "2"]));
    assert_eq!((plain.len(), small.len()), (texts.len(), texts.len()), "one output line per input");
    let mut worst = 0f64;
    for (a, b) in plain.iter().zip(&small) {
        assert_eq!(a["label"], b["label"]);
        let (la, lb) = (a["logits"].as_array().unwrap(), b["logits"].as_array().unwrap());
        assert_eq!((la.len(), lb.len()), (2, 2), "two logits each");
        for (x, y) in la.iter().zip(lb) {
            worst = worst.max((x.as_f64().unwrap() - y.as_f64().unwrap()).abs());
        }
    }
    println!(
        "int8 KV + chunk 2 vs default plan: {} inputs, max |logit diff| {worst:.2e} ({:.2}% of the largest golden |logit|)",
        texts.len(),
        100.0 * worst / scale
    );
    assert!(worst <= 0.005 * scale, "{worst} > 0.5% of {scale}");
}

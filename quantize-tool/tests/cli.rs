//! End-to-end tests of the `picoformer` binary on the tiny Hugging Face fixtures
//! (`tests/data/tiny-bert-{cls,mlm}` at the workspace root).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_picoformer");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("data").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run picoformer")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn picoformer");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stderr(&o), stdout(&o));
    stdout(&o)
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// Quantizes `fixture` at `dtype` into `dir`; returns the blob path and the report text.
fn quantize(dir: &Path, fixture_name: &str, dtype: &str) -> (PathBuf, String) {
    let out = dir.join(format!("{fixture_name}-{dtype}.pfm"));
    let src = fixture(fixture_name);
    let report = ok(run(&["quantize", src.to_str().unwrap(), "--dtype", dtype, "-o", out.to_str().unwrap()]));
    (out, report)
}

fn golden(fixture_name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(fixture_name).join("golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

/// Files in `dir` whose name contains `.tmp.` (left-over temporaries).
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect()
}

#[test]
fn quantize_every_dtype_then_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, task) in [("tiny-bert-cls", "classification"), ("tiny-bert-mlm", "masked-lm")] {
        for (dtype, stored) in [("f32", "f32"), ("f16", "f16"), ("int8", "i8row")] {
            let (blob, report) = quantize(tmp.path(), name, dtype);
            assert!(report.contains("max |err|") && report.contains("rel RMSE"), "{report}");
            assert!(report.contains("arena bytes at max_seq 64: "), "{report}");
            assert!(report.contains("parameters: ") && report.contains("bytes per parameter"), "{report}");
            let v = &json_lines(&ok(run(&["inspect", "--json", blob.to_str().unwrap()])))[0];
            assert_eq!(v["task"], task);
            assert_eq!(v["file_len"].as_u64().unwrap(), std::fs::metadata(&blob).unwrap().len());
            assert!(v["model_error"].is_null(), "{v}");
            assert!(v["arena_bytes"].as_u64().unwrap() > 0);
            let sections = v["sections"].as_array().unwrap();
            let find = |n: &str| sections.iter().find(|s| s["name"] == n).cloned();
            let word = find("embeddings.word_embeddings.weight").unwrap();
            assert_eq!(
                (word["dtype"].as_str().unwrap(), &word["shape"]),
                (stored, &serde_json::json!([3000, 32]))
            );
            assert_eq!(find("embeddings.LayerNorm.weight").unwrap()["dtype"], "f32");
            assert!(find("tokenizer.vocab.sorted").is_some());
            // The MLM fixture's decoder is tied: no separate decoder section.
            assert!(find("cls.predictions.decoder.weight").is_none());
            assert_eq!(find("task.labels.strings").is_some(), task == "classification");
            let text = ok(run(&["inspect", blob.to_str().unwrap()]));
            assert!(
                text.contains("embeddings.word_embeddings.weight") && text.contains("arena bytes"),
                "{text}"
            );
        }
    }
    assert!(temp_files(tmp.path()).is_empty());
}

/// `--embeddings int4` stores the word table alone in int4 (the report and `inspect` say so); the
/// blob classifies as the int8 one does.
#[test]
fn int4_token_embeddings_beside_int8_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let (int8, _) = quantize(tmp.path(), "tiny-bert-cls", "int8");
    let out = tmp.path().join("e4.pfm");
    let src = fixture("tiny-bert-cls");
    let args = ["quantize", src.to_str().unwrap(), "--dtype", "int8", "--embeddings", "int4", "-o"];
    let report = ok(run(&[&args[..], &[out.to_str().unwrap()]].concat()));
    assert!(report.contains("weights: int8, token embeddings: int4"), "{report}");
    let v = &json_lines(&ok(run(&["inspect", "--json", out.to_str().unwrap()])))[0];
    let dtype_of =
        |n: &str| v["sections"].as_array().unwrap().iter().find(|s| s["name"] == n).unwrap()["dtype"].clone();
    assert_eq!(dtype_of("embeddings.word_embeddings.weight"), "i4g32");
    assert_eq!(dtype_of("embeddings.position_embeddings.weight"), "i8row");
    assert_eq!(dtype_of("encoder.layer.0.attention.self.query.weight"), "i8row");
    assert!(std::fs::metadata(&out).unwrap().len() < std::fs::metadata(&int8).unwrap().len());
    let texts = ["a great film", "dull and slow"];
    let labels = |blob: &Path| -> Vec<Value> {
        let o = ok(run(&[&["classify", "--json", "-m", blob.to_str().unwrap()][..], &texts[..]].concat()));
        json_lines(&o).iter().map(|l| l["label"].clone()).collect()
    };
    assert_eq!(labels(&out).len(), texts.len());
    assert_eq!(labels(&out), labels(&int8));
}

#[test]
fn int8_report_has_nonzero_error_and_f32_has_none() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.pfm");
    let src = fixture("tiny-bert-cls");
    for (dtype, exact) in [("f32", true), ("int8", false)] {
        let o = ok(run(&[
            "quantize",
            src.to_str().unwrap(),
            "--dtype",
            dtype,
            "-o",
            out.to_str().unwrap(),
            "--json",
        ]));
        let r = &json_lines(&o)[0];
        let max = r["max_abs_err"].as_f64().unwrap();
        assert_eq!(max == 0.0, exact, "{dtype}: {max}");
        assert!(r["max_rel_rmse"].as_f64().unwrap() < 0.05);
        assert_eq!(r["tensors"].as_array().unwrap().len(), 5 + 2 * 16 + 4);
        assert_eq!(r["labels"], serde_json::json!(["negative", "neutral", "positive"]));
    }
}

/// `--calibrate`: the int8 matrices of every layer but the feed-forward down projection get
/// `.act_smooth` sections and 8-bit activations, the logits stay near PyTorch's, and the flag is
/// refused with other dtypes and with decoders, naming it.
#[test]
fn calibrated_int8_takes_8bit_activations() {
    let tmp = tempfile::tempdir().unwrap();
    let g = golden("tiny-bert-cls");
    let cases = &g["cases"].as_array().unwrap()[..4];
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let calib = tmp.path().join("calib.txt");
    std::fs::write(&calib, "a first calibration line\n\nthe second one, with more words in it\n").unwrap();
    let (src, out) = (fixture("tiny-bert-cls"), tmp.path().join("a8.pfm"));
    let (src, out, calib) = (src.to_str().unwrap(), out.to_str().unwrap(), calib.to_str().unwrap());
    let report = ok(run(&["quantize", src, "--dtype", "int8", "--calibrate", calib, "-o", out]));
    assert!(
        report
            .contains("activations: 8-bit for the encoder's int8 matrices, smoothing calibrated on 2 inputs"),
        "{report}"
    );
    let sections = json_lines(&ok(run(&["inspect", out, "--json"])))[0]["sections"].clone();
    let names: Vec<&str> = sections.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"encoder.layer.0.attention.self.query.act_smooth"), "{names:?}");
    assert!(names.contains(&"encoder.layer.1.intermediate.dense.act_smooth"), "{names:?}");
    assert!(!names.iter().any(|n| n.ends_with(".layer.0.output.dense.act_smooth")), "{names:?}");
    let mut args = vec!["classify", "-m", out, "--json"];
    args.extend(&texts);
    for (v, case) in json_lines(&ok(run(&args))).iter().zip(cases) {
        for (a, b) in f32s(&v["logits"]).iter().zip(f32s(&case["logits"])) {
            assert!((a - b).abs() < 0.1, "{}: {a} vs {b}", case["text"]);
        }
    }
    let f16 = run(&["quantize", src, "--dtype", "f16", "--calibrate", calib, "-o", out]);
    assert!(
        !f16.status.success() && stderr(&f16).contains("--calibrate needs --dtype int8"),
        "{}",
        stderr(&f16)
    );
    let llama = fixture("tiny-llama");
    let dec = run(&["quantize", llama.to_str().unwrap(), "--dtype", "int8", "--calibrate", calib, "-o", out]);
    assert!(
        !dec.status.success() && stderr(&dec).contains("--calibrate applies to BERT encoders only"),
        "{}",
        stderr(&dec)
    );
}

#[test]
fn classify_matches_the_reference_and_prints_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let g = golden("tiny-bert-cls");
    let cases = &g["cases"].as_array().unwrap()[..4];
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    for dtype in ["f32", "f16", "int8"] {
        let (blob, _) = quantize(tmp.path(), "tiny-bert-cls", dtype);
        let mut args = vec!["classify", "-m", blob.to_str().unwrap(), "--json"];
        args.extend(&texts);
        let lines = json_lines(&ok(run(&args)));
        assert_eq!(lines.len(), texts.len());
        for (v, case) in lines.iter().zip(cases) {
            let (probs, logits) = (f32s(&v["probs"]), f32s(&v["logits"]));
            assert_eq!((probs.len(), logits.len()), (3, 3));
            assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(["negative", "neutral", "positive"].contains(&v["label"].as_str().unwrap()));
            let tol = if dtype == "f32" { 1e-4 } else { 0.1 };
            for (a, b) in logits.iter().zip(f32s(&case["logits"])) {
                assert!((a - b).abs() < tol, "{dtype} {}: {a} vs {b}", case["text"]);
            }
        }
    }
    let (blob, _) = quantize(tmp.path(), "tiny-bert-cls", "f32");
    let human = ok(run(&["classify", "-m", blob.to_str().unwrap(), texts[0]]));
    let fields: Vec<&str> = human.trim_end().splitn(3, "  ").collect();
    assert_eq!(fields.len(), 3, "{human}");
    assert!(fields[1].parse::<f32>().is_ok() && fields[2] == texts[0], "{human}");
}

#[test]
fn tokenize_matches_the_reference_and_truncates() {
    let tmp = tempfile::tempdir().unwrap();
    let (blob, _) = quantize(tmp.path(), "tiny-bert-cls", "int8");
    let m = blob.to_str().unwrap();
    let g = golden("tiny-bert-cls");
    let case = &g["cases"][0];
    let v = &json_lines(&ok(run(&["tokenize", "-m", m, "--json", case["text"].as_str().unwrap()])))[0];
    assert_eq!(u32s(&v["ids"]), u32s(&case["ids"]));
    assert_eq!(v["truncated"], false);
    let v = &json_lines(&ok(run(&[
        "tokenize",
        "-m",
        m,
        "--json",
        "--max-seq",
        "4",
        case["text"].as_str().unwrap(),
    ])))[0];
    let ids = u32s(&v["ids"]);
    assert_eq!((ids.len(), ids[0], ids[3], &v["truncated"]), (4, 101, 102, &Value::Bool(true)));
}

#[test]
fn embed_shapes_pooling_and_normalization() {
    let tmp = tempfile::tempdir().unwrap();
    let (blob, _) = quantize(tmp.path(), "tiny-bert-cls", "f16");
    let m = blob.to_str().unwrap();
    let embed = |extra: &[&str]| {
        let mut args = vec!["embed", "-m", m, "--json"];
        args.extend(extra);
        args.push("a short sentence");
        let v = json_lines(&ok(run(&args))).remove(0);
        assert!(!u32s(&v["ids"]).is_empty());
        f32s(&v["embedding"])
    };
    let norm = |e: &[f32]| e.iter().map(|x| x * x).sum::<f32>().sqrt();
    let default = embed(&[]);
    assert_eq!(default.len(), 32);
    assert_eq!(default, embed(&["--pooling", "pooler"]), "default pooling of a classifier is the pooler");
    assert!(default.iter().all(|x| x.abs() <= 1.0), "pooler output is tanh");
    for pooling in ["cls", "mean", "pooler"] {
        let e = embed(&["--pooling", pooling, "--normalize"]);
        assert!((norm(&e) - 1.0).abs() < 1e-4, "{pooling}");
    }
    assert_ne!(embed(&["--pooling", "cls"]), embed(&["--pooling", "mean"]));
}

#[test]
fn fill_mask_matches_the_reference_top_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let (blob, _) = quantize(tmp.path(), "tiny-bert-mlm", "f32");
    let g = golden("tiny-bert-mlm");
    let case = &g["cases"][0];
    let text = case["text"].as_str().unwrap();
    let out = ok(run(&["fill-mask", "-m", blob.to_str().unwrap(), "--json", "--top-k", "5", text]));
    let v = &json_lines(&out)[0];
    assert_eq!(u32s(&v["ids"]), u32s(&case["ids"]));
    let masks = v["masks"].as_array().unwrap();
    let positions: Vec<u32> = masks.iter().map(|m| m["position"].as_u64().unwrap() as u32).collect();
    assert_eq!(positions, u32s(&case["mask_positions"]));
    for (m, want) in masks.iter().zip(case["top5"].as_array().unwrap()) {
        let preds = m["predictions"].as_array().unwrap();
        assert_eq!(preds.len(), 5);
        let ids: Vec<u32> = preds.iter().map(|p| p["id"].as_u64().unwrap() as u32).collect();
        assert_eq!(ids, u32s(want));
        assert!(preds.iter().all(|p| p["token"].is_string() && p["prob"].as_f64().unwrap() > 0.0));
    }
    let human = ok(run(&["fill-mask", "-m", blob.to_str().unwrap(), text]));
    assert!(human.contains("[MASK] @"), "{human}");
}

#[test]
fn stdin_gives_one_json_line_per_input_and_reports_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let (cls, _) = quantize(tmp.path(), "tiny-bert-cls", "int8");
    let o = run_stdin(
        &["classify", "-m", cls.to_str().unwrap(), "--json"],
        "first line\r\nsecond line\n\nfourth\n",
    );
    let lines = json_lines(&ok(o));
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|v| f32s(&v["probs"]).len() == 3));
    let o = run_stdin(&["tokenize", "-m", cls.to_str().unwrap()], "hello world\n");
    assert_eq!(ok(o).lines().count(), 1);

    let (mlm, _) = quantize(tmp.path(), "tiny-bert-mlm", "int8");
    let o = run_stdin(
        &["fill-mask", "-m", mlm.to_str().unwrap(), "--json", "--top-k", "2"],
        "a [MASK] b\nno mask\n",
    );
    assert!(!o.status.success());
    let lines = json_lines(&stdout(&o));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["masks"][0]["predictions"].as_array().unwrap().len(), 2);
    assert!(lines[1]["error"].as_str().unwrap().contains("MASK"));
    assert!(stderr(&o).contains("input 2"), "{}", stderr(&o));
}

#[test]
fn wrong_task_and_missing_model_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (mlm, _) = quantize(tmp.path(), "tiny-bert-mlm", "f16");
    let o = run(&["classify", "-m", mlm.to_str().unwrap(), "hi"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("masked-lm"), "{}", stderr(&o));
    let o = run(&["fill-mask", "hi [MASK]"]);
    assert!(!o.status.success(), "the bundled default model is a classifier, not a masked LM");
    let bogus = tmp.path().join("bogus.pfm");
    std::fs::write(&bogus, b"not a model at all").unwrap();
    let o = run(&["inspect", bogus.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("bogus.pfm"), "{}", stderr(&o));
}

/// A copy of a fixture directory whose safetensors file is rewritten by `edit`.
fn edited_fixture(
    root: &Path,
    name: &str,
    edit: impl Fn(&str, Vec<usize>, Vec<u8>) -> Option<(Vec<usize>, Vec<u8>)>,
) -> PathBuf {
    let dir = root.join(format!("{name}-edited"));
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let bytes = std::fs::read(fixture(name).join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut kept: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (n, t) in st.tensors() {
        if let Some((shape, data)) = edit(&n, t.shape().to_vec(), t.data().to_vec()) {
            kept.push((n, shape, data));
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView)> = kept
        .iter()
        .map(|(n, s, d)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d).unwrap())
        })
        .collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    dir
}

/// Runs `quantize` expecting failure: checks the message, and that nothing was written.
fn quantize_fails(src: &Path, out_dir: &Path, must_contain: &[&str]) {
    let out = out_dir.join("out.pfm");
    std::fs::write(&out, b"previous contents").unwrap();
    let o = run(&["quantize", src.to_str().unwrap(), "--dtype", "int8", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    for s in must_contain {
        assert!(err.contains(s), "{s:?} not in: {err}");
    }
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents", "output clobbered");
    assert!(temp_files(out_dir).is_empty(), "temporary files left: {:?}", temp_files(out_dir));
}

#[test]
fn missing_tensor_names_file_and_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = "bert.encoder.layer.1.output.dense.weight";
    let dir = edited_fixture(tmp.path(), "tiny-bert-cls", |n, s, d| (n != gone).then_some((s, d)));
    quantize_fails(&dir, tmp.path(), &["model.safetensors", gone, "missing"]);
}

#[test]
fn wrong_shape_names_expected_and_found() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "bert.encoder.layer.0.output.dense.weight";
    let dir = edited_fixture(tmp.path(), "tiny-bert-cls", |n, s, d| {
        Some(if n == name { (vec![64, 32], d) } else { (s, d) })
    });
    quantize_fails(&dir, tmp.path(), &["model.safetensors", name, "expected shape [32, 64], found [64, 32]"]);
}

#[test]
fn non_finite_weight_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "bert.pooler.dense.bias";
    let dir = edited_fixture(tmp.path(), "tiny-bert-cls", |n, s, mut d| {
        if n == name {
            d[..4].copy_from_slice(&f32::NAN.to_le_bytes());
        }
        Some((s, d))
    });
    quantize_fails(&dir, tmp.path(), &["model.safetensors", name, "not finite"]);
}

#[test]
fn bad_config_names_config_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = edited_fixture(tmp.path(), "tiny-bert-cls", |_, s, d| Some((s, d)));
    let config = dir.join("config.json");
    let original = std::fs::read_to_string(&config).unwrap();

    std::fs::write(&config, original.replace("\"gelu\"", "\"relu\"")).unwrap();
    quantize_fails(&dir, tmp.path(), &["config.json", "hidden_act", "relu"]);

    std::fs::write(&config, original.replace("\"hidden_size\": 32,", "")).unwrap();
    quantize_fails(&dir, tmp.path(), &["config.json", "hidden_size"]);

    std::fs::write(&config, "{ not json").unwrap();
    quantize_fails(&dir, tmp.path(), &["config.json"]);

    std::fs::write(&config, &original).unwrap();
    std::fs::write(dir.join("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n").unwrap();
    quantize_fails(&dir, tmp.path(), &["vocab.txt", "vocab_size"]);
}

#[test]
fn max_seq_option_is_recorded_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixture("tiny-bert-cls");
    let out = tmp.path().join("m.pfm");
    let r = ok(run(&["quantize", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--max-seq", "16"]));
    assert!(r.contains("arena bytes at max_seq 16: "), "{r}");
    let v = &json_lines(&ok(run(&["inspect", "--json", out.to_str().unwrap()])))[0];
    assert_eq!(v["task_params"]["default_max_seq"], 16);
    let o = run(&["quantize", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--max-seq", "65"]);
    assert!(!o.status.success() && stderr(&o).contains("65"), "{}", stderr(&o));
}

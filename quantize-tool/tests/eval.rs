//! `picoformer eval` on the tiny classification fixture: the metrics equal a hand computation
//! from `classify --json`; reference mode against itself (agreement 1, no difference) and f32
//! against int8; malformed lines and unknown labels name the file and line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_picoformer");
const LABELS: [&str; 3] = ["negative", "neutral", "positive"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("data").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run picoformer")
}

fn ok(o: Output) -> String {
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "failed: {}\n{text}", String::from_utf8_lossy(&o.stderr));
    text
}

fn quantize(dir: &Path, dtype: &str) -> String {
    let out = dir.join(format!("cls-{dtype}.pfm"));
    let src = fixture("tiny-bert-cls");
    ok(run(&["quantize", src.to_str().unwrap(), "--dtype", dtype, "-o", out.to_str().unwrap()]));
    out.to_str().unwrap().to_string()
}

/// Twelve texts from the fixture's golden cases, with gold labels cycling through the three.
fn examples() -> Vec<(&'static str, String)> {
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tiny-bert-cls").join("golden.json")).unwrap())
            .unwrap();
    let cases = g["cases"].as_array().unwrap();
    let texts =
        cases.iter().map(|c| c["text"].as_str().unwrap()).filter(|t| !t.is_empty() && !t.contains('\t'));
    texts.take(12).enumerate().map(|(i, t)| (LABELS[i % 3], t.replace('\n', " "))).collect()
}

fn write_tsv(dir: &Path, rows: &[(&str, String)]) -> String {
    let path = dir.join("eval.tsv");
    let body: String = rows.iter().map(|(l, t)| format!("{l}\t{t}\n")).collect();
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_string()
}

fn eval_json(args: &[&str]) -> Value {
    let mut a = vec!["eval", "--json"];
    a.extend(args);
    serde_json::from_str(ok(run(&a)).trim()).unwrap()
}

#[test]
fn metrics_equal_a_hand_computation_from_classify() {
    let tmp = tempfile::tempdir().unwrap();
    let model = quantize(tmp.path(), "f32");
    let rows = examples();
    let tsv = write_tsv(tmp.path(), &rows);
    let mut args = vec!["classify", "-m", model.as_str(), "--json"];
    args.extend(rows.iter().map(|(_, t)| t.as_str()));
    let predicted: Vec<String> = ok(run(&args))
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(predicted.len(), rows.len());

    let v = eval_json(&["-m", &model, "--tsv", &tsv]);
    let n = rows.len();
    let correct = rows.iter().zip(&predicted).filter(|((g, _), p)| g == p).count();
    assert_eq!(v["examples"], n);
    assert_eq!(v["correct"], correct);
    assert!((v["accuracy"].as_f64().unwrap() - correct as f64 / n as f64).abs() < 1e-12);
    let mut macro_f1 = 0.0;
    for (c, label) in LABELS.iter().enumerate() {
        let tp = rows.iter().zip(&predicted).filter(|((g, _), p)| g == label && p == label).count() as f64;
        let support = rows.iter().filter(|(g, _)| g == label).count() as f64;
        let pred = predicted.iter().filter(|p| p == label).count() as f64;
        let precision = if pred > 0.0 { tp / pred } else { 0.0 };
        let recall = if support > 0.0 { tp / support } else { 0.0 };
        let f1 = if tp > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        macro_f1 += f1 / 3.0;
        let m = &v["classes"][c];
        assert_eq!(m["label"], *label);
        assert_eq!(m["support"].as_f64().unwrap(), support);
        assert_eq!(m["predicted"].as_f64().unwrap(), pred);
        for (key, want) in [("precision", precision), ("recall", recall), ("f1", f1)] {
            assert!((m[key].as_f64().unwrap() - want).abs() < 1e-12, "{label} {key}: {m} vs {want}");
        }
    }
    assert!((v["macro_f1"].as_f64().unwrap() - macro_f1).abs() < 1e-12);
    assert!(v["reference"].is_null());

    let text = ok(run(&["eval", "-m", &model, "--tsv", &tsv]));
    assert!(text.contains(&format!("accuracy: {:.4} ({correct}/{n})", correct as f64 / n as f64)), "{text}");
    assert!(text.contains("precision") && text.contains("support") && text.contains("positive"), "{text}");
}

#[test]
fn reference_mode_against_itself_and_int8() {
    let tmp = tempfile::tempdir().unwrap();
    let f32_model = quantize(tmp.path(), "f32");
    let int8_model = quantize(tmp.path(), "int8");
    let tsv = write_tsv(tmp.path(), &examples());
    let v = eval_json(&["-m", &f32_model, "--tsv", &tsv, "--reference", &f32_model]);
    let r = &v["reference"];
    assert_eq!((r["agreement"].as_f64(), r["agree"].as_u64()), (Some(1.0), Some(12)));
    assert_eq!((r["max_abs_logit_diff"].as_f64(), r["mean_abs_logit_diff"].as_f64()), (Some(0.0), Some(0.0)));
    assert_eq!(r["reference_accuracy"], v["accuracy"]);

    let v = eval_json(&["-m", &int8_model, "--tsv", &tsv, "--reference", &f32_model]);
    let r = &v["reference"];
    let (max, mean) = (r["max_abs_logit_diff"].as_f64().unwrap(), r["mean_abs_logit_diff"].as_f64().unwrap());
    assert!(max > 0.0 && max < 0.5 && mean > 0.0 && mean <= max, "{r}");
    assert!(r["agreement"].as_f64().unwrap() >= 0.75, "{r}");
    let text = ok(run(&["eval", "-m", &int8_model, "--tsv", &tsv, "--reference", &f32_model]));
    assert!(text.contains("label agreement") && text.contains("|logit diff| max"), "{text}");
}

#[test]
fn a_header_line_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let model = quantize(tmp.path(), "int8");
    let plain = write_tsv(tmp.path(), &examples());
    let body = std::fs::read_to_string(&plain).unwrap();
    let with_header = tmp.path().join("header.tsv");
    std::fs::write(&with_header, format!("Label\ttext\r\n{body}")).unwrap();
    let a = eval_json(&["-m", &model, "--tsv", &plain]);
    let b = eval_json(&["-m", &model, "--tsv", with_header.to_str().unwrap()]);
    assert_eq!(a["examples"], b["examples"], "{b}");
    assert_eq!(a["accuracy"], b["accuracy"]);
    // only the first line may be a header: a later `label` line is an unknown label
    let late = tmp.path().join("late.tsv");
    std::fs::write(&late, format!("{body}label\ttext\n")).unwrap();
    let o = run(&["eval", "-m", &model, "--tsv", late.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("unknown label \"label\""));
}

#[test]
fn malformed_lines_and_unknown_labels_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let model = quantize(tmp.path(), "int8");
    let path = tmp.path().join("bad.tsv");
    let p = path.to_str().unwrap();
    for (body, want) in [
        ("positive\tgood\n\nno tab here\n", "bad.tsv:3: expected `label<TAB>text`"),
        (
            "positive\tgood\r\nhappy\tgreat\n",
            "bad.tsv:2: unknown label \"happy\" (the model's labels: negative, neutral, positive)",
        ),
        ("\n\n", "bad.tsv: no examples"),
    ] {
        std::fs::write(&path, body).unwrap();
        let o = run(&["eval", "-m", &model, "--tsv", p]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(want), "{err}");
    }
    let mlm = tmp.path().join("mlm.pfm");
    let src = fixture("tiny-bert-mlm");
    ok(run(&["quantize", src.to_str().unwrap(), "-o", mlm.to_str().unwrap()]));
    std::fs::write(&path, "positive\tgood\n").unwrap();
    let o = run(&["eval", "-m", mlm.to_str().unwrap(), "--tsv", p]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("eval needs a classifier"));
}

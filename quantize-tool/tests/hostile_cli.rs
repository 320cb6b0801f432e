//! The `picoformer` binary on hostile input: option values that used to panic, blobs that ask for
//! huge arenas, model paths that are not regular files, labels and texts holding terminal control
//! characters, blobs that parse but do not load. Every case must end with exit status 0, 1 or 2
//! and a message, never a panic (101) or a hang.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Quantizes the fixture directory `src` at `dtype` into `out` with extra arguments.
fn quantize_to(src: &Path, dtype: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["quantize", src.to_str().unwrap(), "--dtype", dtype, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(run(&args));
}

/// The tiny classifier at int8, in `dir`.
fn tiny_cls(dir: &Path) -> PathBuf {
    let out = dir.join("tiny-bert-cls-int8.pfm");
    quantize_to(&fixture("tiny-bert-cls"), "int8", &out, &[]);
    out
}

/// A copy of fixture `name` in `root/dir_name`: `config` edits config.json, `edit` rewrites each
/// tensor of model.safetensors (name, shape, f32 bytes).
fn edited_fixture(
    root: &Path,
    name: &str,
    dir_name: &str,
    config: impl Fn(&mut Value),
    edit: impl Fn(&str, Vec<usize>, Vec<u8>) -> (Vec<usize>, Vec<u8>),
) -> PathBuf {
    let dir = root.join(dir_name);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    config(&mut cfg);
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let bytes = std::fs::read(fixture(name).join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| {
            let (shape, data) = edit(&n, t.shape().to_vec(), t.data().to_vec());
            (n, shape, data)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = kept
        .iter()
        .map(|(n, s, d)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d).unwrap())
        })
        .collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    dir
}

/// The tiny classifier with `max_position_embeddings` 65536: its 64 position rows repeated (the
/// first 64 as in the fixture, so short inputs give the fixture's results), converted at int8 with
/// `--max-seq 65536`, so the blob's default sequence length is 65536.
fn huge_max_seq_blob(dir: &Path) -> PathBuf {
    const POSITIONS: usize = 65536;
    let src = edited_fixture(
        dir,
        "tiny-bert-cls",
        "tiny-bert-cls-65536",
        |c| c["max_position_embeddings"] = POSITIONS.into(),
        |n, shape, data| match n.ends_with("position_embeddings.weight") {
            true => {
                let rows = POSITIONS.div_ceil(shape[0]);
                let data = data.repeat(rows)[..POSITIONS * shape[1] * 4].to_vec();
                (vec![POSITIONS, shape[1]], data)
            }
            false => (shape, data),
        },
    );
    let out = dir.join("tiny-bert-cls-65536.pfm");
    quantize_to(&src, "int8", &out, &["--max-seq", "65536"]);
    out
}

/// The bundled tiny GPT, as a file.
fn tiny_gpt() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("models").join("tiny-gpt-int8.pfm")
}

#[test]
fn bench_with_no_budget_times_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cls = tiny_cls(tmp.path());
    for m in [cls, tiny_gpt()] {
        let args = ["bench", "-m", m.to_str().unwrap(), "--seq", "16", "--seconds", "0", "--min-iters", "0"];
        let out = ok(run(&args));
        assert!(out.contains("int8"), "{out}");
        let mut json = args.to_vec();
        json.push("--json");
        let row: Value = serde_json::from_str(ok(run(&json)).lines().next().unwrap()).unwrap();
        assert_eq!(row["iters"], 1, "{row}");
    }
}

#[test]
fn bench_seconds_out_of_range_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let cls = tiny_cls(tmp.path());
    for m in [cls, tiny_gpt()] {
        for s in ["NaN", "inf", "-inf", "1e30", "-1", "3601", "abc", ""] {
            let o = run(&["bench", "-m", m.to_str().unwrap(), "--seq", "16", "--seconds", s]);
            let err = fails(&o, 2, &["--seconds"]);
            assert!(err.contains("from 0 to 3600") || s.is_empty(), "{s:?}: {err}");
        }
    }
}

#[test]
fn bench_decoder_rejects_empty_and_overflowing_lengths() {
    let gpt = tiny_gpt();
    let gpt = gpt.to_str().unwrap();
    let max = usize::MAX.to_string();
    fails(&run(&["bench", "-m", gpt, "--seconds", "0", "--prompt", "0"]), 1, &["--prompt 0"]);
    fails(&run(&["bench", "-m", gpt, "--seconds", "0", "--prompt", &max]), 1, &["--prompt"]);
    fails(&run(&["bench", "-m", gpt, "--seconds", "0", "--decode", &max]), 1, &["--decode"]);
    fails(&run(&["bench", "-m", gpt, "--seconds", "0", "--prompt", "100000000"]), 1, &["--prompt"]);
}

#[test]
fn negative_numbers_are_invalid_values_not_unknown_arguments() {
    let cases: &[&[&str]] = &[
        &["classify", "--max-seq", "-1", "hi"],
        &["embed", "--chunk", "-3", "hi"],
        &["tokenize", "--max-seq", "-1", "hi"],
        &["fill-mask", "--top-k", "-1", "hi [MASK]"],
        &["inspect", "--context", "-1", "m.pfm"],
        &["bench", "-m", "m.pfm", "--seconds", "-1"],
        &["bench", "-m", "m.pfm", "--seq", "16,-1"],
        &["bench", "-m", "m.pfm", "--min-iters", "-1"],
        &["bench", "-m", "m.pfm", "--prompt", "-1"],
        &["eval", "--tsv", "x.tsv", "--max-seq", "-1"],
        &["eval", "--perplexity", "x.txt", "--ctx", "-1"],
        &["generate", "--prompt", "a", "--max-tokens", "-1"],
        &["generate", "--prompt", "a", "--context", "-1"],
        &["generate", "--prompt", "a", "--seed", "-1"],
        &["--threads", "-1", "classify", "hi"],
    ];
    for args in cases {
        let flag = args[args.iter().position(|a| a.ends_with("-1") || *a == "-3").unwrap() - 1];
        let o = run(args);
        let err = fails(&o, 2, &["invalid value '-", &format!("' for '{flag}")]);
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
    // negative floats reach the sampler's own range check
    let o = run(&["generate", "--prompt", "a", "--temperature", "-1"]);
    fails(&o, 1, &["temperature"]);
}

/// Runs `args`, killing the command after `limit` (a hang fails the test instead of blocking it).
fn run_with_timeout(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn picoformer");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let o = child.wait_with_output().unwrap();
            panic!("{args:?} still running after {limit:?}: {}", stderr(&o));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn model_paths_that_are_not_regular_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("model.fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
    assert!(st.success());
    let dir = tmp.path().join("a-directory.pfm");
    std::fs::create_dir(&dir).unwrap();
    let cases = [
        ("/dev/zero", "not a regular file"),
        (fifo.to_str().unwrap(), "not a regular file"),
        (dir.to_str().unwrap(), "a directory"),
    ];
    for (path, why) in cases {
        let runs: [&[&str]; 6] = [
            &["classify", "-m", path, "hi"],
            &["tokenize", "-m", path, "hi"],
            &["inspect", path],
            &["bench", "-m", path, "--seconds", "0"],
            &["generate", "-m", path, "--prompt", "hi"],
            &["eval", "--tsv", "x.tsv", "--reference", path],
        ];
        for args in runs {
            let o = run_with_timeout(args, Duration::from_secs(20));
            fails(&o, 1, &[path, why]);
        }
    }
}

#[test]
fn model_files_over_the_size_cap_are_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    // a sparse file one byte over 4 GiB: refused from its size, before anything is read
    let big = tmp.path().join("big.pfm");
    let f = std::fs::File::create(&big).unwrap();
    if f.set_len((4 << 30) + 1).is_err() {
        return; // the file system cannot hold it; nothing to test
    }
    let o = run_with_timeout(&["classify", "-m", big.to_str().unwrap(), "hi"], Duration::from_secs(20));
    fails(&o, 1, &["big.pfm", "4 GiB"]);
}

/// Recomputes the checksum of a patched blob (CRC-32 of bytes 16..file length, at bytes 12..16).
fn reseal(blob: &mut [u8]) {
    let len = u64::from_le_bytes(blob[16..24].try_into().unwrap()) as usize;
    let crc = picoformer::format::crc32(&blob[16..len]);
    blob[12..16].copy_from_slice(&crc.to_le_bytes());
}

/// Offset of the section table entry named `name` (entries of 96 bytes from byte 256, the name
/// NUL-padded in the first 56).
fn section_entry(blob: &[u8], name: &str) -> usize {
    let count = u32::from_le_bytes(blob[28..32].try_into().unwrap()) as usize;
    (0..count)
        .map(|i| 256 + 96 * i)
        .find(|&at| {
            let raw = &blob[at..at + 56];
            &raw[..raw.iter().position(|&b| b == 0).unwrap_or(56)] == name.as_bytes()
        })
        .unwrap_or_else(|| panic!("no section {name}"))
}

#[test]
fn inspect_fails_after_its_report_when_the_model_does_not_load() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tiny_cls(tmp.path());
    let mut blob = std::fs::read(&good).unwrap();
    // "classifier.bias" becomes "classifier.biaz": the header and the section table still parse,
    // the checksum is right, but a required tensor is missing
    let at = section_entry(&blob, "classifier.bias");
    blob[at + "classifier.bia".len()] = b'z';
    reseal(&mut blob);
    let bad = tmp.path().join("renamed.pfm");
    std::fs::write(&bad, &blob).unwrap();
    let bad = bad.to_str().unwrap();

    let o = run(&["inspect", bad]);
    fails(&o, 1, &["renamed.pfm", "does not load"]);
    let out = stdout(&o);
    assert!(out.contains("classifier.biaz") && out.contains("the model does not load"), "{out}");

    let o = run(&["inspect", "--json", bad]);
    fails(&o, 1, &["renamed.pfm", "does not load"]);
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["model_error"].is_string(), "{v}");
    assert!(v["arena_bytes"].is_null(), "{v}");

    // the intact blob still passes, and an arena out of its range fails the same way
    ok(run(&["inspect", good.to_str().unwrap()]));
    let o = run(&["inspect", "--json", "--context", "100000", good.to_str().unwrap()]);
    fails(&o, 1, &["no arena at 100000 tokens"]);
    let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v["arena_error"].is_string() && v["model_error"].is_null(), "{v}");
}

/// `picoformer args..` under a virtual memory limit of `kib` KiB (`ulimit -v`).
fn run_limited(kib: u64, args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', "'\\''"))).collect();
    let script = format!("ulimit -v {kib} && exec '{BIN}' {}", quoted.join(" "));
    Command::new("bash").args(["-c", &script]).output().expect("run bash")
}

/// `args` with `-m model` after the command name.
fn with_model<'a>(args: &[&'a str], model: &'a str) -> Vec<&'a str> {
    let mut a = args.to_vec();
    a.splice(1..1, ["-m", model]);
    a
}

#[test]
fn a_huge_default_max_seq_does_not_size_the_arena() {
    // 64 MiB of address space: the tool on a tiny model needs far less, the arena of the blob's
    // default sequence length alone (65536 tokens) more
    const LIMIT_KIB: u64 = 64 << 10;
    let tmp = tempfile::tempdir().unwrap();
    let small = tiny_cls(tmp.path());
    let huge = huge_max_seq_blob(tmp.path());
    let (small, huge) = (small.to_str().unwrap(), huge.to_str().unwrap());
    let v: Value = serde_json::from_str(&ok(run(&["inspect", "--json", huge]))).unwrap();
    assert_eq!(v["task_params"]["default_max_seq"], 65536);
    assert!(v["arena_bytes"].as_u64().unwrap() > LIMIT_KIB << 10, "{}", v["arena_bytes"]);

    let tsv = tmp.path().join("ex.tsv");
    std::fs::write(&tsv, "positive\thi there\nnegative\tawful, just awful\n").unwrap();
    let tsv = tsv.to_str().unwrap();
    let cases: [&[&str]; 7] = [
        &["classify", "hi there", "the quick brown fox"],
        &["classify", "--json", "hi there", ""],
        &["classify", "--json", "--chunk", "3", "--kv-int8", "a longer input of a few more words"],
        &["embed", "--json", "hi there"],
        &["tokenize", "--json", "hi there"],
        &["eval", "--json", "--tsv", tsv],
        &["eval", "--tsv", tsv, "--max-seq", "40"],
    ];
    for args in cases {
        let expected = ok(run(&with_model(args, small)));
        let o = run_limited(LIMIT_KIB, &with_model(args, huge));
        // the same output but for the model's name and its default length (eval reports it)
        let got = ok(o).replace(huge, small).replace("\"max_seq\":65536", "\"max_seq\":64");
        assert_eq!(got, expected, "{args:?}");
    }
}

/// Characters that rewrite a terminal line: C0 controls, DEL, C1 controls, bidi controls.
fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Asserts that `out` has no unsafe character but the newlines that end its lines.
fn assert_terminal_safe(what: &str, out: &str) {
    for line in out.split('\n') {
        assert!(!line.chars().any(is_unsafe), "{what}: raw control character in {line:?}");
        assert!(!line.starts_with("fake"), "{what}: injected line {line:?}");
    }
}

const EVIL_LABEL: &str = "\x1b[2Jevil\nfake";
const BIDI_LABEL: &str = "ok\u{202e}lave\u{2066}";
const EVIL_TEXT: &str = "hi\x1b[31m red\r\nfake \u{202e}desrever\u{85}\u{7f}\t[MASK] end";

#[test]
fn text_output_escapes_control_and_bidi_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let src = edited_fixture(
        tmp.path(),
        "tiny-bert-cls",
        "tiny-bert-cls-evil-labels",
        |c| {
            c["id2label"] = serde_json::json!({ "0": EVIL_LABEL, "1": "neutral", "2": BIDI_LABEL });
            c["label2id"] = serde_json::json!({ EVIL_LABEL: 0, "neutral": 1, BIDI_LABEL: 2 });
        },
        |_, shape, data| (shape, data),
    );
    // a file name that is itself an escape sequence
    let cls = tmp.path().join("m\x1b[2J\u{202e}.pfm");
    quantize_to(&src, "int8", &cls, &[]);
    let mlm = tmp.path().join("mlm.pfm");
    quantize_to(&fixture("tiny-bert-mlm"), "int8", &mlm, &[]);
    let (cls, mlm) = (cls.to_str().unwrap(), mlm.to_str().unwrap());
    let v: Value = serde_json::from_str(&ok(run(&["inspect", "--json", cls]))).unwrap();
    assert_eq!(v["labels"], serde_json::json!([EVIL_LABEL, "neutral", BIDI_LABEL]));
    let tsv = tmp.path().join("ex.tsv");
    // one line of the TSV file: no newline or tab in the text
    let tsv_text = "hi\x1b[31m red \u{202e}desrever\u{85}\u{7f}\x08 end";
    std::fs::write(&tsv, format!("neutral\t{tsv_text}\nneutral\thi there\n")).unwrap();
    let tsv = tsv.to_str().unwrap();

    let texts = [EVIL_TEXT, "awful, just awful", "great, just great"];
    let runs: Vec<Vec<&str>> = vec![
        [&["classify", "-m", cls][..], &texts].concat(),
        [&["embed", "-m", cls][..], &texts].concat(),
        [&["tokenize", "-m", cls][..], &texts].concat(),
        vec!["fill-mask", "-m", mlm, EVIL_TEXT],
        vec!["inspect", cls],
        vec!["eval", "-m", cls, "--tsv", tsv],
        vec!["bench", "-m", cls, "--seq", "8", "--seconds", "0", "--min-iters", "1"],
        vec!["generate", "--prompt", EVIL_TEXT, "--max-tokens", "8"],
    ];
    let mut labels_seen = 0;
    for args in &runs {
        let o = run(args);
        let out = ok(o.clone());
        assert_terminal_safe(&format!("{args:?} stdout"), &out);
        assert_terminal_safe(&format!("{args:?} stderr"), &stderr(&o));
        labels_seen += out.contains("\\x1b[2Jevil\\nfake") as usize;
    }
    // classify shows some inputs as the escaped labels; inspect and eval list all labels
    assert!(labels_seen >= 2, "{labels_seen}");
    let out = ok(run(&["classify", "-m", cls, EVIL_TEXT]));
    assert!(out.contains("hi\\x1b[31m red\\r\\nfake \\u{202e}desrever\\u{85}\\x7f\\t[MASK] end"), "{out}");

    // JSON output stays exact (the strings decode to the labels) and terminal-safe
    let o = ok(run(&["classify", "--json", "-m", cls, EVIL_TEXT, "great, just great"]));
    assert_terminal_safe("classify --json", &o);
    let got: Vec<String> = o
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["label"].as_str().unwrap().to_string())
        .collect();
    assert!(got.iter().all(|l| [EVIL_LABEL, "neutral", BIDI_LABEL].contains(&l.as_str())), "{got:?}");
    for args in [vec!["inspect", "--json", cls], vec!["eval", "--json", "-m", cls, "--tsv", tsv]] {
        assert_terminal_safe(&format!("{args:?}"), &ok(run(&args)));
    }
    // errors that echo labels are escaped too
    std::fs::write(tmp.path().join("bad.tsv"), "nope\thi\n").unwrap();
    let o = run(&["eval", "-m", cls, "--tsv", tmp.path().join("bad.tsv").to_str().unwrap()]);
    let err = fails(&o, 1, &["unknown label", "\\x1b[2Jevil\\nfake"]);
    assert_terminal_safe("eval error", &err);
}

#[test]
fn generate_with_the_largest_max_tokens_fills_the_context() {
    let max = usize::MAX.to_string();
    let out = ok(run(&["generate", "--prompt", "hello there", "--max-tokens", &max, "--json"]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["stop"], "context_full", "{v}");
}

/// A NaN in the checkpoint: `quantize` refuses it naming the file and the tensor (the
/// safetensors reader; the self-check's `check_finite` backs it up) and writes nothing. A NaN patched into a valid blob (checksum resealed): every run command refuses it
/// naming the section, instead of printing `"probs":[null,null]`.
#[test]
fn non_finite_weights_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let bias = "bert.encoder.layer.1.attention.self.query.bias";
    let nan = edited_fixture(
        tmp.path(),
        "tiny-bert-cls",
        "nan",
        |_| (),
        |n, s, mut d| {
            if n.ends_with("encoder.layer.1.attention.self.query.bias") {
                d[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
            }
            (s, d)
        },
    );
    let out = tmp.path().join("nan.pfm");
    let o = run(&["quantize", nan.to_str().unwrap(), "--dtype", "f32", "-o", out.to_str().unwrap()]);
    fails(&o, 1, &["model.safetensors", bias, "not finite"]);
    assert!(!out.exists(), "nothing is written");
    // the same NaN in a valid f32 blob
    let good = tmp.path().join("good.pfm");
    quantize_to(&fixture("tiny-bert-cls"), "f32", &good, &[]);
    let mut blob = std::fs::read(&good).unwrap();
    let entry = section_entry(&blob, "encoder.layer.1.attention.self.query.bias");
    let offset = u64::from_le_bytes(blob[entry + 80..entry + 88].try_into().unwrap()) as usize;
    blob[offset + 8..offset + 12].copy_from_slice(&f32::NAN.to_le_bytes());
    reseal(&mut blob);
    let bad = tmp.path().join("bad.pfm");
    std::fs::write(&bad, &blob).unwrap();
    let bad = bad.to_str().unwrap();
    for cmd in ["classify", "embed", "tokenize"] {
        let o = run(&[cmd, "-m", bad, "--json", "hello world"]);
        fails(&o, 1, &["bad.pfm", "encoder.layer.1.attention.self.query.bias holds a NaN or infinite value"]);
        assert!(!stdout(&o).contains("null"), "{cmd}: {}", stdout(&o));
    }
}

/// Text inputs (`eval --tsv`, `--calibrate`, `--prune-vocab`) that are not regular files are
/// refused at once, instead of reading `/dev/zero` until memory runs out or blocking on a FIFO.
#[test]
fn text_inputs_that_are_not_regular_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (fifo, out) = (fifo.to_str().unwrap(), tmp.path().join("x.pfm"));
    let src = fixture("tiny-bert-cls");
    let limit = Duration::from_secs(20);
    let o = run_with_timeout(&["eval", "--tsv", "/dev/zero"], limit);
    fails(&o, 1, &["/dev/zero: not a regular file"]);
    for flag in ["--calibrate", "--prune-vocab"] {
        let args =
            ["quantize", src.to_str().unwrap(), "--dtype", "int8", flag, fifo, "-o", out.to_str().unwrap()];
        let o = run_with_timeout(&args, limit);
        fails(&o, 1, &[fifo, "not a regular file"]);
        assert!(!out.exists());
    }
}

/// An arena (or a model file) larger than the memory the process may have is an error naming its
/// size and what it was for, with exit status 1, instead of an abort on the failed allocation.
#[test]
fn allocation_failures_are_errors_not_aborts() {
    // 64 MiB of address space: enough for the tiny model, less than its arena at 65536 tokens
    const LIMIT_KIB: u64 = 64 << 10;
    let tmp = tempfile::tempdir().unwrap();
    let huge = huge_max_seq_blob(tmp.path());
    let huge = huge.to_str().unwrap();
    let v: Value =
        serde_json::from_str(&ok(run(&["inspect", "--json", "--context", "65536", huge]))).unwrap();
    assert!(v["arena_bytes"].as_u64().unwrap() > LIMIT_KIB << 10, "{}", v["arena_bytes"]);
    let o = run_limited(LIMIT_KIB, &["bench", "-m", huge, "--seq", "65536", "--seconds", "0"]);
    let err = fails(
        &o,
        1,
        &["cannot allocate ", " bytes for the arena (model ", "tiny-bert-cls-65536.pfm, --seq 65536)"],
    );
    assert!(!err.contains("memory allocation of"), "{err}");
    // an input of 65536 tokens (one per comma) under the blob's default max_seq of 65536
    let commas = ",".repeat(70_000);
    for cmd in ["classify", "embed", "tokenize"] {
        let o = run_limited(LIMIT_KIB, &[cmd, "-m", huge, "--json", &commas]);
        let want = [
            "error: input 1: ",
            "tiny-bert-cls-65536.pfm: cannot allocate ",
            " bytes for the arena (65536 tokens)",
        ];
        fails(&o, 1, &want);
    }
    // a model file larger than the memory left: refused before it is read
    let big = tmp.path().join("big.pfm");
    let f = std::fs::File::create(&big).unwrap();
    if f.set_len(1 << 30).is_ok() {
        let o = run_limited(LIMIT_KIB, &["classify", "-m", big.to_str().unwrap(), "hi"]);
        fails(&o, 1, &["cannot allocate 1073741824 bytes for the model file ", "big.pfm"]);
    }
}

/// A prompt may start with '-'; input texts that do go after `--` (a text-taking positional that
/// took hyphens would also take any option written after the first text).
#[test]
fn prompts_and_texts_may_start_with_a_hyphen() {
    for prompt in ["-x", "--not-an-option", "-", "--json"] {
        let out = ok(run(&["generate", "--prompt", prompt, "--max-tokens", "2", "--json"]));
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert!(v["prompt_ids"].as_array().is_some_and(|ids| !ids.is_empty()), "{prompt}: {v}");
        let out = ok(run(&["generate", &format!("--prompt={prompt}"), "--max-tokens", "2", "--json"]));
        assert!(out.starts_with('{'), "{out}");
    }
    let out = ok(run(&["classify", "--json", "--", "-x", "--not-an-option"]));
    assert_eq!(out.lines().count(), 2, "{out}");
    let out = ok(run(&["tokenize", "--json", "--", "-x"]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["ids"].as_array().unwrap().len(), 4, "[CLS] - x [SEP]: {v}");
    // without `--`, the hint names it; an option after a text is still an option
    fails(&run(&["classify", "-x"]), 2, &["'-x'", "-- -x"]);
    let out = ok(run(&["classify", "hi there", "--json"]));
    assert!(out.trim().starts_with('{') && out.lines().count() == 1, "{out}");
}

/// `quantize --json` escapes DEL, C1 and bidi controls of labels as the run commands do (the JSON
/// decodes to the same labels), and the text report escapes them for the terminal.
#[test]
fn quantize_report_escapes_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let del_label = "del\u{7f}c1\u{85}";
    let src = edited_fixture(
        tmp.path(),
        "tiny-bert-cls",
        "tiny-bert-cls-bidi-labels",
        |c| {
            c["id2label"] = serde_json::json!({ "0": EVIL_LABEL, "1": del_label, "2": BIDI_LABEL });
            c["label2id"] = serde_json::json!({ EVIL_LABEL: 0, del_label: 1, BIDI_LABEL: 2 });
        },
        |_, shape, data| (shape, data),
    );
    let out = tmp.path().join("m\u{202e}.pfm");
    let (src, out) = (src.to_str().unwrap(), out.to_str().unwrap());
    let json = ok(run(&["quantize", src, "--dtype", "int8", "-o", out, "--json"]));
    assert_terminal_safe("quantize --json", &json);
    assert!(json.contains("\\u202e") && json.contains("\\u007f") && json.contains("\\u0085"), "{json}");
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["labels"], serde_json::json!([EVIL_LABEL, del_label, BIDI_LABEL]));
    let text = ok(run(&["quantize", src, "--dtype", "int8", "-o", out, "--verbose"]));
    assert_terminal_safe("quantize", &text);
    assert!(
        text.contains("ok\\u{202e}lave\\u{2066}")
            && text.contains("wrote ")
            && text.contains("m\\u{202e}.pfm"),
        "{text}"
    );
}

//! The `picoformer` binary's error and report messages: each names the command and the options
//! the way the user typed them (never Rust debug text of an internal value), says where a value
//! came from when the user did not give it, names the line of an input that cannot be read, and
//! reports what was actually done.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_picoformer");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("data").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run picoformer")
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

/// Asserts the command failed with exit status `code` (not a panic) and stderr holding every one
/// of `needles`; returns stderr.
fn fails(o: &Output, code: i32, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}\nstdout: {}", stdout(o));
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Asserts `err` does not hold `needle`.
fn lacks(err: &str, needle: &str) {
    assert!(!err.contains(needle), "{needle:?} in: {err}");
}

/// Quantizes the fixture directory `src` at `dtype` into `out` with extra arguments.
fn quantize_to(src: &Path, dtype: &str, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["quantize", src.to_str().unwrap(), "--dtype", dtype, "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    ok(run(&args))
}

/// The fixture `name` at int8, in `dir`.
fn tiny(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(format!("{name}-int8.pfm"));
    quantize_to(&fixture(name), "int8", &out, &[]);
    out
}

#[test]
fn quantize_numeric_options_take_negative_values_as_invalid_values() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.pfm");
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "hello world\n").unwrap();
    let src = fixture("tiny-bert-cls");
    let (src, out, corpus) = (src.to_str().unwrap(), out.to_str().unwrap(), corpus.to_str().unwrap());
    let o = run(&["quantize", src, "-o", out, "--max-seq", "-1"]);
    let err = fails(&o, 2, &["invalid value '-1' for '--max-seq"]);
    lacks(&err, "unexpected argument");
    let o = run(&["quantize", src, "-o", out, "--prune-vocab", corpus, "--vocab-size", "-1"]);
    let err = fails(&o, 2, &["invalid value '-1' for '--vocab-size"]);
    lacks(&err, "unexpected argument");
    assert!(!Path::new(out).exists());
}

#[test]
fn wrong_model_errors_name_the_command_as_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let cls = tiny(tmp.path(), "tiny-bert-cls");
    let mlm = tiny(tmp.path(), "tiny-bert-mlm");
    let gpt = tiny(tmp.path(), "tiny-gpt2");
    let (cls, mlm, gpt) = (cls.to_str().unwrap(), mlm.to_str().unwrap(), gpt.to_str().unwrap());
    // no Rust debug text of an internal value: the command's own name, no braces
    let no_debug = |err: &str| {
        for debug in ["FillMask", "Classify", "top_k", "{", "}", "architecture 1", "architecture 3"] {
            lacks(err, debug);
        }
    };
    let want_mlm = ["the model's task is classification; fill-mask needs a masked-lm model"];
    no_debug(&fails(&run(&["fill-mask", "-m", cls, "a [MASK] b"]), 1, &want_mlm));
    no_debug(&fails(&run(&["fill-mask", "-m", cls, "--json", "--top-k", "3", "a [MASK] b"]), 1, &want_mlm));
    no_debug(&fails(&run(&["fill-mask", "a [MASK] b"]), 1, &want_mlm));
    let want_cls = ["the model's task is masked-lm; classify needs a classification model"];
    no_debug(&fails(&run(&["classify", "-m", mlm, "a b"]), 1, &want_cls));
    for cmd in ["classify", "embed", "fill-mask"] {
        let o = run(&[cmd, "-m", gpt, "a [MASK] b"]);
        no_debug(&fails(&o, 1, &[&format!("the model is a gpt2 decoder; {cmd} needs a BERT encoder")]));
    }
    let tsv = tmp.path().join("x.tsv");
    std::fs::write(&tsv, "positive\tgood\n").unwrap();
    let o = run(&["eval", "-m", gpt, "--tsv", tsv.to_str().unwrap()]);
    no_debug(&fails(&o, 1, &["the model is a gpt2 decoder; eval --tsv needs a BERT encoder"]));
    let o = run(&["generate", "-m", cls, "--prompt", "hi"]);
    no_debug(&fails(&o, 1, &["not a decoder model: the model is a bert encoder (classification)"]));
}

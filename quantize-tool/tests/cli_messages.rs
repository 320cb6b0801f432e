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

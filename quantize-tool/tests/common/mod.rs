//! Helpers shared by the tests that run the `picoformer` binary (each test file uses some).
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_picoformer");

/// A fixture directory of `tests/data` at the workspace root.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("data").join(name)
}

pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run picoformer")
}

/// Runs with `input` (raw bytes) on stdin.
pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn picoformer");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().expect("wait for picoformer")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success; returns stdout.
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stderr(&o), stdout(&o));
    stdout(&o)
}

/// Asserts the command failed with exit status `code` (not a panic) and stderr holding every one
/// of `needles`; returns stderr.
pub fn fails(o: &Output, code: i32, needles: &[&str]) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}\nstdout: {}", stdout(o));
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

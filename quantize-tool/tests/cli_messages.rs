//! The `picoformer` binary's error and report messages: each names the command and the options
//! the way the user typed them (never Rust debug text of an internal value), says where a value
//! came from when the user did not give it, names the line of an input that cannot be read, and
//! reports what was actually done.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_picoformer");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("data").join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run picoformer")
}

/// Runs with `input` (raw bytes) on stdin.
fn run_stdin(args: &[&str], input: &[u8]) -> Output {
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

#[test]
fn sequence_errors_name_only_the_options_given() {
    let tmp = tempfile::tempdir().unwrap();
    let cls = tiny(tmp.path(), "tiny-bert-cls");
    let cls = cls.to_str().unwrap();
    // --chunk alone: max_seq is the model's default, and said so
    let err = fails(
        &run(&["classify", "-m", cls, "--chunk", "0", "a b"]),
        1,
        &["--chunk 0 is outside 1..=64 (the model's default max_seq 64)"],
    );
    lacks(&err, "--max-seq");
    let err = fails(
        &run(&["embed", "--chunk", "100000", "a b"]),
        1,
        &["bundled sentiment model", "--chunk 100000 is outside 1..=", "(the model's default max_seq "],
    );
    lacks(&err, "--max-seq");
    // --max-seq alone: the chunk was never given and is not named
    let err = fails(
        &run(&["classify", "-m", cls, "--max-seq", "100000", "a b"]),
        1,
        &["--max-seq 100000 is outside 2..=64 (the model's max_position)"],
    );
    lacks(&err, "chunk");
    let err = fails(&run(&["fill-mask", "--max-seq", "1", "a [MASK]"]), 1, &[]);
    lacks(&err, "chunk");
    // both given: both named
    fails(
        &run(&["classify", "-m", cls, "--max-seq", "32", "--chunk", "40", "a b"]),
        1,
        &["--chunk 40 is outside 1..=32 (--max-seq 32)"],
    );
    // eval has no --chunk at all
    let tsv = tmp.path().join("x.tsv");
    std::fs::write(&tsv, "positive\tgood\n").unwrap();
    let err = fails(
        &run(&["eval", "-m", cls, "--tsv", tsv.to_str().unwrap(), "--max-seq", "1000"]),
        1,
        &["--max-seq 1000 is outside 2..=64"],
    );
    lacks(&err, "chunk");

    // decoders: tiny-gpt2 has 128 positions; this copy's default context is 16
    let gpt = tmp.path().join("gpt-16.pfm");
    quantize_to(&fixture("tiny-gpt2"), "int8", &gpt, &["--max-seq", "16"]);
    let gpt = gpt.to_str().unwrap();
    let text = tmp.path().join("text.txt");
    std::fs::write(&text, "the quick brown fox jumps over the lazy dog. ".repeat(20)).unwrap();
    let text = text.to_str().unwrap();
    let err = fails(
        &run(&["eval", "--perplexity", text, "-m", gpt]),
        1,
        &["the default window of 256 tokens is longer than the model's max_position 128"],
    );
    lacks(&err, "--ctx 256");
    fails(
        &run(&["eval", "--perplexity", text, "-m", gpt, "--ctx", "300"]),
        1,
        &["--ctx 300 is outside 2..=128 (the model's max_position)"],
    );
    ok(run(&["eval", "--perplexity", text, "-m", gpt, "--ctx", "64"]));
    let long = "the quick brown fox jumps over the lazy dog. ".repeat(20);
    let err = fails(
        &run(&["generate", "-m", gpt, "--prompt", &long]),
        1,
        &["tokens; the model's max_position 128 leaves no room for a new token"],
    );
    lacks(&err, "--context");
    let prompt = "the quick brown fox jumps over the lazy dog. ".repeat(2);
    let err = fails(
        &run(&["generate", "-m", gpt, "--prompt", &prompt, "--max-tokens", "0"]),
        1,
        &["tokens; the model's default context 16 leaves no room for a new token (use a --context above"],
    );
    lacks(&err, "--context 16");
    fails(
        &run(&["generate", "-m", gpt, "--prompt", &prompt, "--context", "4"]),
        1,
        &["tokens; --context 4 leaves no room for a new token"],
    );
    fails(
        &run(&["generate", "-m", gpt, "--prompt", "hi", "--context", "1000"]),
        1,
        &["--context 1000 is outside 2..=128 (the model's max_position)"],
    );
    ok(run(&["generate", "-m", gpt, "--prompt", &prompt, "--max-tokens", "2"]));
}

#[test]
fn invalid_utf8_lines_are_named_and_the_other_inputs_still_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cls = tiny(tmp.path(), "tiny-bert-cls");
    let gpt = tiny(tmp.path(), "tiny-gpt2");
    let (cls, gpt) = (cls.to_str().unwrap(), gpt.to_str().unwrap());
    let input: &[u8] = b"good\nab\xff\xfe bad\r\nfine";
    // human lines: the two good inputs print, the bad one is reported with its line
    let o = run_stdin(&["classify", "-m", cls], input);
    fails(&o, 1, &["input 2: stdin line 2: invalid UTF-8 at byte 3"]);
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    // JSON: one line per input, the bad one an error object
    for (cmd, model) in [("classify", cls), ("embed", cls), ("tokenize", cls), ("tokenize", gpt)] {
        let o = run_stdin(&[cmd, "-m", model, "--json"], input);
        fails(&o, 1, &["input 2: stdin line 2: invalid UTF-8 at byte 3"]);
        let lines: Vec<serde_json::Value> =
            stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3, "{cmd}: {}", stdout(&o));
        assert_eq!(lines[1]["error"], "stdin line 2: invalid UTF-8 at byte 3", "{cmd}");
        assert!(lines[0].get("error").is_none() && lines[2].get("error").is_none(), "{cmd}");
    }

    // files: the file and the line
    let tsv = tmp.path().join("bad.tsv");
    std::fs::write(&tsv, b"positive\tgood\n\nnegative\tb\xffad\n").unwrap();
    fails(
        &run(&["eval", "-m", cls, "--tsv", tsv.to_str().unwrap()]),
        1,
        &["bad.tsv:3: invalid UTF-8 at byte 11"],
    );
    let text = tmp.path().join("bad.txt");
    std::fs::write(&text, b"hello\nwor\xffld\n").unwrap();
    let text = text.to_str().unwrap();
    let o = run(&["eval", "--perplexity", text, "-m", gpt, "--ctx", "64"]);
    fails(&o, 1, &["bad.txt:2: invalid UTF-8 at byte 4"]);
    let out = tmp.path().join("out.pfm");
    let (src, out_s) = (fixture("tiny-bert-cls"), out.to_str().unwrap());
    let src = src.to_str().unwrap();
    let o = run(&["quantize", src, "-o", out_s, "--prune-vocab", text]);
    fails(&o, 1, &["bad.txt:2: invalid UTF-8 at byte 4"]);
    let o = run(&["quantize", src, "-o", out_s, "--dtype", "int8", "--calibrate", text]);
    fails(&o, 1, &["bad.txt:2: invalid UTF-8 at byte 4"]);
    assert!(!out.exists());
}

#[test]
fn prune_report_states_the_real_vocabulary_size_and_why_it_is_short() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "the cat sat on the mat\nhello world\n").unwrap();
    let (out, vocab) = (tmp.path().join("p.pfm"), tmp.path().join("vocab.txt"));
    let args = |n: &'static str, json: bool| {
        let mut a = vec!["--prune-vocab", corpus.to_str().unwrap(), "--vocab-size", n];
        a.extend(["--vocab-out", vocab.to_str().unwrap()]);
        if json {
            a.push("--json");
        }
        a
    };
    // tiny-bert-cls: 3000 tokens, 994 of them [unused*]; the required set is 1041 tokens
    let text = quantize_to(&fixture("tiny-bert-cls"), "f32", &out, &args("3000", false));
    assert_eq!(std::fs::read_to_string(&vocab).unwrap().lines().count(), 2006);
    for want in [
        "vocabulary pruned: 3000 -> 2006 tokens",
        "--vocab-size 3000 not reached: vocabulary 2006 tokens (994 short): the checkpoint has only 965 \
         tokens to fill with beyond the 1041 required (994 of its 3000 tokens are [unused*] placeholders, \
         never used to fill)",
    ] {
        assert!(text.contains(want), "{want:?} not in: {text}");
    }
    lacks(&text, "filled to --vocab-size 3000");
    let v: serde_json::Value =
        serde_json::from_str(&quantize_to(&fixture("tiny-bert-cls"), "f32", &out, &args("3000", true)))
            .unwrap();
    let p = &v["prune"];
    assert_eq!(p["vocab_size_asked"], 3000, "{p}");
    assert_eq!(p["new_vocab_size"], 2006, "{p}");
    assert_eq!((p["filled"].clone(), p["fill_available"].clone()), (965.into(), 965.into()), "{p}");
    assert_eq!(p["unused_placeholders"], 994, "{p}");
    assert_eq!(v["vocab_size"], 2006, "{v}");
    // a target the checkpoint can fill is reached and said so
    let text = quantize_to(&fixture("tiny-bert-cls"), "f32", &out, &args("2000", false));
    assert!(text.contains("vocabulary pruned: 3000 -> 2000 tokens"), "{text}");
    assert!(text.contains("filled to --vocab-size 2000: 959 lowest remaining ids"), "{text}");
    lacks(&text, "not reached");
}

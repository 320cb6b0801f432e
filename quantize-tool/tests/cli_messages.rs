//! The `picoformer` binary's error and report messages: each names the command and the options
//! the way the user typed them (never Rust debug text of an internal value), says where a value
//! came from when the user did not give it, names the line of an input that cannot be read, and
//! reports what was actually done.

mod common;

use common::*;
use std::path::{Path, PathBuf};

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

/// `blob` with the little-endian u32 `edits` (byte offset, value) applied and the checksum
/// resealed: CRC-32 of bytes `16..file_len` (the file length as the patched header gives it,
/// at most the blob's), stored at `12..16`.
fn patched(blob: &[u8], edits: &[(usize, u32)]) -> Vec<u8> {
    let mut b = blob.to_vec();
    for &(at, v) in edits {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    let len = u64::from_le_bytes(b[16..24].try_into().unwrap()).clamp(16, b.len() as u64) as usize;
    let crc = picoformer::format::crc32(&b[16..len]);
    b[12..16].copy_from_slice(&crc.to_le_bytes());
    b
}

/// The header field `Blob::parse` names for `blob` patched with `edits`.
fn bad_field(blob: &[u8], edits: &[(usize, u32)]) -> &'static str {
    let buf = picoformer::format::AlignedBuf::from_bytes(&patched(blob, edits));
    match picoformer::format::Blob::parse(buf.as_bytes()) {
        Err(picoformer::Error::BadHeader { field }) => field,
        other => panic!("{edits:?}: expected BadHeader, got {:?}", other.map(|b| *b.header())),
    }
}

#[test]
fn each_invalid_header_field_is_named_by_the_field_at_its_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let read = |name: &str| std::fs::read(tiny(tmp.path(), name)).unwrap();
    let (cls, mlm, llama, gpt) =
        (read("tiny-bert-cls"), read("tiny-bert-mlm"), read("tiny-llama"), read("tiny-gpt2"));
    let f = |x: f32| x.to_bits();
    for (blob, edits, field) in [
        // identity and layout (offsets of the table in src/format/mod.rs)
        (&cls, &[(8, 255)][..], "header_len"),
        (&cls, &[(16, 100), (20, 0)], "file_len"),
        (&cls, &[(28, 0)], "section_count"),
        (&cls, &[(32, 512)], "section_table_offset"),
        (&cls, &[(40, 3)], "task"),
        // BERT architecture block
        (&cls, &[(48, 0)], "vocab_size"),
        (&cls, &[(52, 0)], "hidden"),
        (&cls, &[(56, 0)], "n_layers"),
        (&cls, &[(60, 0)], "n_heads"),
        (&cls, &[(60, 3)], "n_heads"),
        (&cls, &[(64, 0)], "intermediate"),
        (&cls, &[(68, 1)], "max_position"),
        (&cls, &[(72, 0)], "type_vocab_size"),
        (&cls, &[(76, f(0.0))], "layer_norm_eps"),
        (&cls, &[(80, 2)], "activation"),
        // task block
        (&cls, &[(128, 0)], "n_labels"),
        (&mlm, &[(128, 1)], "n_labels"),
        (&cls, &[(132, 3)], "pooling"),
        (&mlm, &[(132, 2), (136, 0)], "pooling"),
        (&cls, &[(136, 4)], "task_flags"),
        (&cls, &[(136, 0)], "task_flags"),
        (&cls, &[(140, 1)], "default_max_seq"),
        (&cls, &[(140, 65)], "default_max_seq"),
        // WordPiece block (tiny-bert-cls has 3000 tokens)
        (&cls, &[(160, 3)], "tokenizer_kind"),
        (&cls, &[(164, 16)], "wordpiece_flags"),
        (&cls, &[(168, 3000)], "unk"),
        (&cls, &[(172, 3000)], "cls"),
        (&cls, &[(176, 3000)], "sep"),
        (&cls, &[(180, 3000)], "pad"),
        (&cls, &[(184, 3000)], "mask"),
        (&cls, &[(188, 0)], "max_chars_per_word"),
        // decoder architecture block (tiny-llama: 4 heads, 2 key/value heads; 128 positions)
        (&llama, &[(40, 1)], "task"),
        (&llama, &[(48, 0)], "vocab_size"),
        (&llama, &[(52, 0)], "hidden"),
        (&llama, &[(56, 0)], "n_layers"),
        (&llama, &[(60, 0)], "n_heads"),
        (&llama, &[(64, 0)], "intermediate"),
        (&llama, &[(68, 1)], "max_position"),
        (&llama, &[(72, 0)], "n_kv_heads"),
        (&llama, &[(72, 3)], "n_kv_heads"),
        (&llama, &[(76, f(f32::NAN))], "norm_eps"),
        (&llama, &[(80, 3)], "activation"),
        (&llama, &[(84, 15)], "head_dim"),
        (&llama, &[(88, f(1.0))], "rope_theta"),
        (&llama, &[(92, 3)], "rope_scaling"),
        (&llama, &[(92, 1), (96, f(0.5))], "rope_factor"),
        (&llama, &[(92, 2), (96, f(0.5)), (100, f(1.0)), (104, f(4.0)), (108, 64)], "rope_factor"),
        (&llama, &[(92, 2), (96, f(8.0)), (100, f(0.0)), (104, f(4.0)), (108, 64)], "rope_low_freq_factor"),
        (&llama, &[(92, 2), (96, f(8.0)), (100, f(1.0)), (104, f(1.0)), (108, 64)], "rope_high_freq_factor"),
        (
            &llama,
            &[(92, 2), (96, f(8.0)), (100, f(1.0)), (104, f(4.0)), (108, 0)],
            "rope_original_max_position",
        ),
        (&llama, &[(112, 2)], "head_flags"),
        (&llama, &[(128, 1)], "n_labels"),
        (&llama, &[(132, 1)], "pooling"),
        (&llama, &[(136, 1)], "task_flags"),
        (&llama, &[(140, 129)], "default_max_seq"),
        (&gpt, &[(80, 2)], "activation"),
        (&gpt, &[(88, f(10000.0))], "rope_theta"),
        (&gpt, &[(92, 1)], "rope_scaling"),
        // byte-level BPE block (tiny-gpt2 has 448 tokens)
        (&gpt, &[(160, 3)], "tokenizer_kind"),
        (&gpt, &[(164, 7)], "pre_tokenizer"),
        (&gpt, &[(168, 2)], "bpe_flags"),
        (&gpt, &[(172, 448)], "unk"),
        (&gpt, &[(176, 448)], "bos"),
        (&gpt, &[(180, 448)], "eos"),
        (&gpt, &[(184, 448)], "pad"),
        (&gpt, &[(188, 4)], "generation_flags"),
        (&gpt, &[(176, u32::MAX), (188, 1)], "generation_flags"),
    ] {
        assert_eq!(bad_field(blob, edits), field, "{edits:?}");
    }
    // the tool prints the same name
    let bad = tmp.path().join("no-pooler-flag.pfm");
    std::fs::write(&bad, patched(&cls, &[(136, 0)])).unwrap();
    fails(&run(&["inspect", bad.to_str().unwrap()]), 1, &["invalid header field task_flags"]);
    fails(&run(&["classify", "-m", bad.to_str().unwrap(), "hi"]), 1, &["invalid header field task_flags"]);
}

/// JSON rows of `bench` with `args` (timed once).
fn bench_rows(args: &[&str]) -> Vec<serde_json::Value> {
    let all = [&["bench", "--seconds", "0", "--min-iters", "1", "--json"][..], args].concat();
    ok(run(&all)).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `bench` without `--seq` (`--prompt`, `--decode`) on a model whose context is shorter than the
/// defaults measures at the model's maximum and says so; a length given too long is an error
/// naming that option and the model's maximum, not a default.
#[test]
fn bench_defaults_fit_the_model_and_errors_name_the_lengths_given() {
    let tmp = tempfile::tempdir().unwrap();
    // the tiny BERT has 64 positions: the default 128 becomes 64
    let cls = tiny(tmp.path(), "tiny-bert-cls");
    let cls = cls.to_str().unwrap();
    let rows = bench_rows(&["-m", cls]);
    let seqs: Vec<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [16, 64]);
    assert!(rows[0].get("note").is_none(), "{}", rows[0]);
    assert_eq!(rows[1]["note"], "seq 64 (the model's maximum) in place of the default 128");
    let out = ok(run(&["bench", "-m", cls, "--seconds", "0", "--min-iters", "1"]));
    assert!(out.contains("seq 64 (the model's maximum) in place of the default 128"), "{out}");
    let fast = ["bench", "-m", cls, "--seconds", "0", "--min-iters", "1"];
    let err = fails(
        &run(&[&fast[..], &["--seq", "16,1000"]].concat()),
        1,
        &["--seq 1000 is outside 2..=64 (the model's max_position)"],
    );
    lacks(&err, "128");
    fails(&run(&[&fast[..], &["--seq", "1"]].concat()), 1, &["--seq 1 is outside 2..=64"]);
    // a copy converted with --max-seq 16 still measures up to its 64 positions
    let short = tmp.path().join("cls-16.pfm");
    quantize_to(&fixture("tiny-bert-cls"), "int8", &short, &["--max-seq", "16"]);
    let rows = bench_rows(&["-m", short.to_str().unwrap(), "--seq", "64"]);
    assert_eq!(rows[0]["seq"], 64);

    // tiny-gpt2 has 128 positions: a round of 64 + 64 tokens (+ 1) does not fit
    let gpt = tiny(tmp.path(), "tiny-gpt2");
    let gpt = gpt.to_str().unwrap();
    let row = &bench_rows(&["-m", gpt])[0];
    assert_eq!((row["prompt_tokens"].as_u64(), row["decode_tokens"].as_u64()), (Some(64), Some(63)), "{row}");
    assert_eq!(row["note"], "decode 63 in place of the default 64 (the model's maximum context, 128 tokens)");
    let row = &bench_rows(&["-m", gpt, "--prompt", "100"])[0];
    assert_eq!(
        (row["prompt_tokens"].as_u64(), row["decode_tokens"].as_u64()),
        (Some(100), Some(27)),
        "{row}"
    );
    let row = &bench_rows(&["-m", gpt, "--decode", "120"])[0];
    assert_eq!((row["prompt_tokens"].as_u64(), row["decode_tokens"].as_u64()), (Some(7), Some(120)), "{row}");
    assert_eq!(row["note"], "prompt 7 in place of the default 64 (the model's maximum context, 128 tokens)");
    let row = &bench_rows(&["-m", gpt, "--prompt", "10", "--decode", "10"])[0];
    assert!(row.get("note").is_none(), "{row}");
    let out = ok(run(&["bench", "-m", gpt, "--seconds", "0", "--min-iters", "1"]));
    assert!(out.contains("note: tiny-gpt2-int8.pfm: decode 63 in place of the default 64"), "{out}");
    let gfast = ["bench", "-m", gpt, "--seconds", "0"];
    let too_long =
        "more than the model's max_position 128 allows (at most 127 prompt and decode tokens together";
    fails(
        &run(&[&gfast[..], &["--prompt", "100", "--decode", "100"]].concat()),
        1,
        &["--prompt 100 --decode 100: ", too_long],
    );
    let err = fails(&run(&[&gfast[..], &["--prompt", "200"]].concat()), 1, &["--prompt 200: ", too_long]);
    lacks(&err, "--decode");
    let err = fails(&run(&[&gfast[..], &["--decode", "127"]].concat()), 1, &["--decode 127: ", too_long]);
    lacks(&err, "--prompt");
}

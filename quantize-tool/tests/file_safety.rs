//! `picoformer quantize` never loses or half-writes a user's file: an output that equals or sits
//! inside an input (the model directory or .gguf file, the --prune-vocab corpus, the --calibrate
//! text), or equals the other output, is refused before anything is read or written; a missing
//! output directory fails before any output is written; outputs are renamed into place together,
//! so a failure or a SIGKILL leaves each existing output either as it was or complete.
//! Uses the tiny fixtures in `tests/data` (copied, since some checks point `-o` inside them) and a
//! larger synthetic BERT made here for the kill test.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use picoformer::format::AlignedBuf;
use picoformer::Bert;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Copies a fixture directory (flat) into `into`; returns the copy.
fn copy_fixture(name: &str, into: &Path) -> PathBuf {
    let dst = into.join(name);
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    dst
}

/// Every file under `dir` (recursively, symlinks not followed) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.insert(e.path(), std::fs::read(e.path()).unwrap());
            } else {
                out.insert(e.path(), Vec::new());
            }
        }
    }
    out
}

/// Files in `dir` whose name contains `.tmp.` (left-over temporaries).
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect()
}

/// Runs `quantize` with `args`; asserts it fails with a message naming `flag` and every string of
/// `names` and saying it refuses, and that nothing under `root` changed (no file written, none
/// altered, no temporaries).
fn assert_refused(root: &Path, args: &[&str], flag: &str, names: &[&str]) -> String {
    let before = snapshot(root);
    let o = run(&[&["quantize"], args].concat());
    let err = stderr(&o);
    assert!(!o.status.success(), "accepted {args:?}: {err}");
    assert!(err.contains(&format!("{flag} ")), "{flag} not named: {err}");
    assert!(err.contains("refusing to"), "{err}");
    for n in names {
        assert!(err.contains(n), "{n} not named: {err}");
    }
    assert!(before == snapshot(root), "files changed by {args:?}");
    err
}

/// `-o` anywhere inside the input directory (an existing file, a new one, spelled with `..`, or
/// the directory itself): refused, input unchanged byte for byte.
#[test]
fn output_inside_input_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let hf = copy_fixture("tiny-bert-cls", tmp.path());
    let llama = copy_fixture("tiny-llama", tmp.path());
    for (dir, file) in [
        (&hf, "model.safetensors"),
        (&hf, "config.json"),
        (&hf, "vocab.txt"),
        (&hf, "new.pfm"),
        (&llama, "model.safetensors"),
        (&llama, "tokenizer.json"),
    ] {
        let out = dir.join(file);
        let err = assert_refused(tmp.path(), &[s(dir), "-o", s(&out)], "-o", &[s(&out), s(dir)]);
        assert!(err.contains("is inside the input directory"), "{err}");
        assert!(err.contains("refusing to overwrite an input"), "{err}");
    }
    let dotted = hf.join("..").join("tiny-bert-cls").join("model.safetensors");
    assert_refused(tmp.path(), &[s(&hf), "-o", s(&dotted)], "-o", &[s(&dotted)]);
    let sub = hf.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let nested = sub.join("..").join("..").join("tiny-bert-cls").join("sub").join("m.pfm");
    assert_refused(tmp.path(), &[s(&hf), "-o", s(&nested)], "-o", &[s(&nested)]);
    // the directory itself (a directory is no output file either way)
    assert!(!run(&["quantize", s(&hf), "-o", s(&hf)]).status.success());
    // relative paths, from the parent of the input
    let o = Command::new(BIN)
        .current_dir(tmp.path())
        .args(["quantize", "tiny-bert-cls", "-o", "./tiny-bert-cls/../tiny-bert-cls/config.json"])
        .output()
        .unwrap();
    assert!(!o.status.success() && stderr(&o).contains("refusing to overwrite an input"), "{}", stderr(&o));
    // --vocab-out inside the input too
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "the movie was great\n").unwrap();
    let out = tmp.path().join("m.pfm");
    let vocab = hf.join("vocab.txt");
    let args = [s(&hf), "-o", s(&out), "--prune-vocab", s(&corpus), "--vocab-out", s(&vocab)];
    assert_refused(tmp.path(), &args, "--vocab-out", &[s(&vocab), s(&hf)]);
}

/// The same through symlinks: a link to the input directory, and an output that is a link to an
/// input file.
#[cfg(unix)]
#[test]
fn output_through_symlink_into_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let hf = copy_fixture("tiny-bert-cls", tmp.path());
    let link_dir = tmp.path().join("link-dir");
    std::os::unix::fs::symlink(&hf, &link_dir).unwrap();
    let out = link_dir.join("model.safetensors");
    assert_refused(tmp.path(), &[s(&hf), "-o", s(&out)], "-o", &[s(&out)]);
    // the input given through the link, the output through the real path
    let real = hf.join("config.json");
    assert_refused(tmp.path(), &[s(&link_dir), "-o", s(&real)], "-o", &[s(&real)]);
    let link_file = tmp.path().join("model.pfm");
    std::os::unix::fs::symlink(hf.join("model.safetensors"), &link_file).unwrap();
    assert_refused(tmp.path(), &[s(&hf), "-o", s(&link_file)], "-o", &[s(&link_file)]);
}

/// `-o` equal to a .gguf input (also spelled differently): refused, file unchanged.
#[test]
fn output_equal_to_gguf_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let gguf = tmp.path().join("model.gguf");
    std::fs::copy(fixture("gguf").join("quants.gguf"), &gguf).unwrap();
    let err = assert_refused(tmp.path(), &[s(&gguf), "-o", s(&gguf)], "-o", &[s(&gguf)]);
    assert!(err.contains("is the input model"), "{err}");
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    let other = tmp.path().join("d").join("..").join("model.gguf");
    assert_refused(tmp.path(), &[s(&gguf), "-o", s(&other)], "-o", &[s(&other), s(&gguf)]);
}

/// `-o` (or `--vocab-out`) equal to the `--prune-vocab` corpus, `-o` equal to the `--calibrate`
/// text: refused, the text unchanged.
#[test]
fn output_equal_to_corpus_or_calibration_text_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let hf = fixture("tiny-bert-cls");
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "the movie was great\nterrible acting\n").unwrap();
    let out = tmp.path().join("m.pfm");
    let err = assert_refused(
        tmp.path(),
        &[s(&hf), "-o", s(&corpus), "--prune-vocab", s(&corpus)],
        "-o",
        &[s(&corpus)],
    );
    assert!(err.contains("--prune-vocab corpus"), "{err}");
    let args = [s(&hf), "-o", s(&out), "--prune-vocab", s(&corpus), "--vocab-out", s(&corpus)];
    assert_refused(tmp.path(), &args, "--vocab-out", &[s(&corpus), "--prune-vocab corpus"]);
    let calib = tmp.path().join("calib.txt");
    std::fs::write(&calib, "a typical sentence\nanother one\n").unwrap();
    let err = assert_refused(
        tmp.path(),
        &[s(&hf), "--dtype", "int8", "--calibrate", s(&calib), "-o", s(&calib)],
        "-o",
        &[s(&calib)],
    );
    assert!(err.contains("--calibrate text"), "{err}");
}

/// `--vocab-out X -o X`: refused, whether X exists or not; an existing X is unchanged.
#[test]
fn vocab_out_equal_to_output_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let hf = fixture("tiny-bert-cls");
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "the movie was great\n").unwrap();
    let x = tmp.path().join("x.pfm");
    let args = [s(&hf), "-o", s(&x), "--prune-vocab", s(&corpus), "--vocab-out", s(&x)];
    let err = assert_refused(tmp.path(), &args, "--vocab-out", &[s(&x), "-o "]);
    assert!(err.contains("same file"), "{err}");
    assert!(!x.exists());
    std::fs::write(&x, b"an older model").unwrap();
    assert_refused(tmp.path(), &args, "--vocab-out", &[s(&x)]);
    std::fs::create_dir(tmp.path().join("d")).unwrap();
    let x2 = tmp.path().join("d").join("..").join("x.pfm");
    let args = [s(&hf), "-o", s(&x), "--prune-vocab", s(&corpus), "--vocab-out", s(&x2)];
    assert_refused(tmp.path(), &args, "--vocab-out", &[s(&x2), s(&x)]);
}

/// An output into a missing directory fails before any output is written: a pre-existing `-o`
/// file is unchanged byte for byte, and no temporary file is left.
#[test]
fn missing_output_directory_fails_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let hf = fixture("tiny-bert-cls");
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "the movie was great\n").unwrap();
    let out = tmp.path().join("m.pfm");
    std::fs::write(&out, b"an older model, kept").unwrap();
    let vocab = tmp.path().join("missing").join("vocab.txt");
    let before = snapshot(tmp.path());
    let o = run(&["quantize", s(&hf), "-o", s(&out), "--prune-vocab", s(&corpus), "--vocab-out", s(&vocab)]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("--vocab-out") && err.contains(s(&vocab)) && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"an older model, kept");
    assert!(before == snapshot(tmp.path()));
    assert!(temp_files(tmp.path()).is_empty(), "{:?}", temp_files(tmp.path()));
    // -o into a missing directory
    let out2 = tmp.path().join("missing").join("m.pfm");
    let o = run(&["quantize", s(&hf), "-o", s(&out2)]);
    let err = stderr(&o);
    assert!(!o.status.success() && err.contains("-o ") && err.contains(s(&out2)), "{err}");
    assert!(before == snapshot(tmp.path()));
}

/// A successful run replaces both existing outputs whole and leaves no temporaries.
#[test]
fn successful_run_writes_both_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let hf = fixture("tiny-bert-cls");
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "the movie was great\nterrible acting\n").unwrap();
    let out = tmp.path().join("m.pfm");
    let vocab = tmp.path().join("vocab.txt");
    std::fs::write(&out, b"old").unwrap();
    std::fs::write(&vocab, b"old").unwrap();
    let o = run(&["quantize", s(&hf), "-o", s(&out), "--prune-vocab", s(&corpus), "--vocab-out", s(&vocab)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let blob = std::fs::read(&out).unwrap();
    let buf = AlignedBuf::from_bytes(&blob);
    let bert = Bert::from_bytes(buf.as_bytes()).expect("a valid blob");
    let text = std::fs::read_to_string(&vocab).unwrap();
    assert_eq!(text.lines().count(), bert.config().vocab_size);
    assert!(text.starts_with("[PAD]\n"), "{}", &text[..20.min(text.len())]);
    assert!(temp_files(tmp.path()).is_empty(), "{:?}", temp_files(tmp.path()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // same permissions as a plain create (the temporary files' own 0600 is not kept)
        let probe = tmp.path().join("probe");
        std::fs::write(&probe, b"").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out), mode(&probe));
        assert_eq!(mode(&vocab), mode(&probe));
    }
}

/// A BERT encoder large enough that quantizing it takes a while (8 layers, hidden 512,
/// intermediate 2048: about 27 M f32 weights), with the tiny fixture's tokenizer; pseudo-random
/// weights.
fn make_large_bert(dir: &Path) {
    std::fs::create_dir(dir).unwrap();
    let tiny = fixture("tiny-bert-cls");
    for f in ["tokenizer.json", "tokenizer_config.json", "vocab.txt"] {
        std::fs::copy(tiny.join(f), dir.join(f)).unwrap();
    }
    let (h, ff, layers, vocab, pos) = (512usize, 2048usize, 8usize, 3000usize, 512usize);
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tiny.join("config.json")).unwrap()).unwrap();
    config["hidden_size"] = h.into();
    config["intermediate_size"] = ff.into();
    config["num_hidden_layers"] = layers.into();
    config["num_attention_heads"] = 8.into();
    config["max_position_embeddings"] = pos.into();
    config["vocab_size"] = vocab.into();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();

    // (name, shape); vectors named *LayerNorm.weight are ones, other vectors zeros
    let mut tensors: Vec<(String, Vec<usize>)> = vec![
        ("bert.embeddings.word_embeddings.weight".into(), vec![vocab, h]),
        ("bert.embeddings.position_embeddings.weight".into(), vec![pos, h]),
        ("bert.embeddings.token_type_embeddings.weight".into(), vec![2, h]),
        ("bert.embeddings.LayerNorm.weight".into(), vec![h]),
        ("bert.embeddings.LayerNorm.bias".into(), vec![h]),
    ];
    for l in 0..layers {
        let p = format!("bert.encoder.layer.{l}.");
        for m in
            ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]
        {
            tensors.push((format!("{p}{m}.weight"), vec![h, h]));
            tensors.push((format!("{p}{m}.bias"), vec![h]));
        }
        for m in ["attention.output.LayerNorm", "output.LayerNorm"] {
            tensors.push((format!("{p}{m}.weight"), vec![h]));
            tensors.push((format!("{p}{m}.bias"), vec![h]));
        }
        tensors.push((format!("{p}intermediate.dense.weight"), vec![ff, h]));
        tensors.push((format!("{p}intermediate.dense.bias"), vec![ff]));
        tensors.push((format!("{p}output.dense.weight"), vec![h, ff]));
        tensors.push((format!("{p}output.dense.bias"), vec![h]));
    }
    tensors.push(("bert.pooler.dense.weight".into(), vec![h, h]));
    tensors.push(("bert.pooler.dense.bias".into(), vec![h]));
    tensors.push(("classifier.weight".into(), vec![3, h]));
    tensors.push(("classifier.bias".into(), vec![3]));

    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape) in &tensors {
        let bytes = shape.iter().product::<usize>() * 4;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let mut header = serde_json::Value::Object(header).to_string();
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("model.safetensors")).unwrap());
    f.write_all(&(header.len() as u64).to_le_bytes()).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for (name, shape) in &tensors {
        let n: usize = shape.iter().product();
        for _ in 0..n {
            let v = if shape.len() == 2 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
            } else if name.ends_with("LayerNorm.weight") {
                1.0
            } else {
                0.0
            };
            f.write_all(&v.to_le_bytes()).unwrap();
        }
    }
    f.flush().unwrap();
}

/// SIGKILL `quantize` at several points of its run, `-o` pointing at an existing file: the file
/// is afterwards either byte for byte the old content or the complete new blob (the same bytes as
/// an uninterrupted run, and loadable), never anything else; the temporary files the killed runs
/// leave are removed by the next successful run (Linux).
#[test]
fn killed_run_leaves_old_or_complete_output() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("large-bert");
    make_large_bert(&model);
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("model.pfm");
    let old: &[u8] = b"the previous model: not a blob, and not to be lost";

    // the uninterrupted run: the expected new content, and how long a run takes
    let reference = tmp.path().join("reference.pfm");
    let t = Instant::now();
    let o = run(&["quantize", s(&model), "-o", s(&reference)]);
    let full = t.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = std::fs::read(&reference).unwrap();
    let buf = AlignedBuf::from_bytes(&expected);
    Bert::from_bytes(buf.as_bytes()).expect("the reference blob loads");

    // fixed delays (reading and converting), fractions of the uninterrupted run, and delays after
    // the temporary output first appears (writing it, fsync, rename)
    let mut kills: Vec<(Duration, bool)> =
        [50, 150, 400].iter().map(|&ms| (Duration::from_millis(ms), false)).collect();
    kills.extend([0.3, 0.6, 0.9].iter().map(|f| (full.mul_f64(*f), false)));
    kills.extend([0, 2, 10, 30, 100].iter().map(|&ms| (Duration::from_millis(ms), true)));
    let (mut outcomes, mut last_pid) = (Vec::new(), 0);
    for (delay, after_temp) in kills {
        std::fs::write(&out, old).unwrap();
        let mut child = Command::new(BIN)
            .args(["quantize", s(&model), "-o", s(&out)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // this run's temporary (earlier killed runs' may still be there)
        let own = format!("model.pfm.tmp.{}.", child.id());
        if after_temp {
            let t = Instant::now();
            let has_own = || temp_files(&out_dir).iter().any(|n| n.starts_with(&own));
            while !has_own() && t.elapsed() < Duration::from_secs(60) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; Ok also when it has already exited
        let status = child.wait().unwrap();
        let got = std::fs::read(&out).unwrap();
        let outcome = if got == old {
            "old"
        } else {
            assert!(
                got == expected,
                "after a kill at {delay:?} the output is neither the old file nor the complete blob ({} bytes)",
                got.len()
            );
            let buf = AlignedBuf::from_bytes(&got);
            Bert::from_bytes(buf.as_bytes()).expect("the new blob loads");
            "new"
        };
        let when = if after_temp { "after the temporary appeared" } else { "after the start" };
        outcomes.push(format!("{delay:?} {when}: {outcome} ({status})"));
        // a killed run may leave its temporary file (`model.pfm.tmp.<pid>.<random>`); nothing else
        for e in std::fs::read_dir(&out_dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name != "model.pfm" {
                assert!(name.starts_with("model.pfm.tmp."), "unexpected file {name}");
            }
        }
        last_pid = child.id();
    }
    eprintln!("uninterrupted run {full:?}; {}", outcomes.join(", "));

    // the next run to the same output removes the temporaries the killed runs left (their
    // processes are gone), says so, and leaves none of its own
    let mut stale = temp_files(&out_dir);
    eprintln!("temporaries left by the killed runs: {stale:?}");
    if stale.is_empty() {
        // every kill happened to leave nothing: one as a killed run would leave it
        let name = format!("model.pfm.tmp.{last_pid}.AbC123");
        std::fs::write(out_dir.join(&name), &expected[..expected.len() / 2]).unwrap();
        stale.push(name);
    }
    let o = run(&["quantize", s(&model), "-o", s(&out)]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    if cfg!(target_os = "linux") {
        assert!(temp_files(&out_dir).is_empty(), "left: {:?}", temp_files(&out_dir));
        for name in &stale {
            let path = std::fs::canonicalize(&out_dir).unwrap().join(name);
            let line = format!("removed stale temporary file {} from an interrupted run", s(&path));
            assert!(err.contains(&line), "{line:?} not in: {err}");
        }
    }
}

//! The library API the golden tests use: `quantize_dir`, `load_blob`, and the conversion rules
//! (sentence-transformers pooling, tokenizer sources, tied decoders) on edited copies of the fixtures.

use std::path::{Path, PathBuf};

use picoformer::format::{Blob, DType, Pooling, Task};
use picoformer::{Bert, Session};
use picoformer_tool::{load_blob, quantize_dir, QuantizeOptions, WeightDtype};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("tests").join("data").join(name)
}

/// A copy of fixture `name` in `root`, with `model.safetensors` filtered/renamed by `edit`.
fn copy_fixture(root: &Path, name: &str, edit: impl Fn(&str) -> Option<String>) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(fixture(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    let bytes = std::fs::read(fixture(name).join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let views: Vec<(String, safetensors::tensor::TensorView)> =
        st.tensors().into_iter().filter_map(|(n, t)| edit(&n).map(|n| (n, t))).collect();
    safetensors::serialize_to_file(views, None, &dir.join("model.safetensors")).unwrap();
    dir
}

fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, v.to_string()).unwrap();
}

#[test]
fn quantize_dir_is_deterministic_and_loads() {
    for dtype in [WeightDtype::F32, WeightDtype::F16, WeightDtype::Int8] {
        let opts = QuantizeOptions::new(dtype);
        let (a, report) = quantize_dir(&fixture("tiny-bert-cls"), &opts).unwrap();
        let (b, _) = quantize_dir(&fixture("tiny-bert-cls"), &opts).unwrap();
        assert!(a == b, "{dtype:?}: two runs differ");
        assert_eq!(report.blob_bytes, a.len());
        assert_eq!(report.max_seq, 64);
        let (max_abs, _) = report.worst();
        assert_eq!(max_abs == 0.0, dtype == WeightDtype::F32);

        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.pfm");
        picoformer_tool::write::write_atomic(&path, &a).unwrap();
        let buf = load_blob(&path).unwrap();
        assert_eq!(buf.as_bytes(), &a[..]);
        assert_eq!(buf.as_bytes().as_ptr() as usize % 32, 0);
        let m = Bert::from_bytes(buf.as_bytes()).unwrap();
        assert_eq!(m.arena_len(64).unwrap(), report.arena_bytes);
        assert_eq!((m.task(), m.n_labels(), m.label(2)), (Task::Classification, 3, Some("positive")));
        let word =
            Blob::parse(buf.as_bytes()).unwrap().section("embeddings.word_embeddings.weight").unwrap().1;
        assert_eq!(word.dtype, dtype.dtype());
    }
}

#[test]
fn tokenizer_settings_follow_the_files() {
    let (blob, r) = quantize_dir(&fixture("tiny-bert-mlm"), &QuantizeOptions::default()).unwrap();
    assert_eq!(r.tokenizer_flags, [false, false, true, true], "cased fixture");
    let h = *Blob::parse(picoformer::format::AlignedBuf::from_bytes(&blob).as_bytes()).unwrap().header();
    let picoformer::format::TokenizerParams::WordPiece(t) = h.tokenizer else { panic!("not WordPiece") };
    assert_eq!((t.unk, t.cls, t.sep, t.pad, t.mask), (100, 101, 102, 0, 103));
    assert_eq!(t.max_chars_per_word, 100);

    // Without vocab.txt and tokenizer_config.json: vocabulary and flags from tokenizer.json.
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture(tmp.path(), "tiny-bert-cls", |n| Some(n.to_string()));
    std::fs::remove_file(dir.join("vocab.txt")).unwrap();
    std::fs::remove_file(dir.join("tokenizer_config.json")).unwrap();
    let (blob2, r2) = quantize_dir(&dir, &QuantizeOptions::default()).unwrap();
    let (blob1, _) = quantize_dir(&fixture("tiny-bert-cls"), &QuantizeOptions::default()).unwrap();
    assert_eq!(r2.tokenizer_flags, [true, true, true, true]);
    assert!(blob1 == blob2, "tokenizer.json gives the same blob as vocab.txt");

    // strip_accents unset follows lowercase; an explicit false wins.
    edit_json(&dir.join("tokenizer.json"), |v| v["normalizer"]["strip_accents"] = false.into());
    let (_, r3) = quantize_dir(&dir, &QuantizeOptions::default()).unwrap();
    assert_eq!(r3.tokenizer_flags, [true, false, true, true]);

    // A special token missing from the vocabulary names the vocabulary file.
    std::fs::write(dir.join("tokenizer_config.json"), r#"{"mask_token": "<mask>"}"#).unwrap();
    let err = format!("{:#}", quantize_dir(&dir, &QuantizeOptions::default()).unwrap_err());
    assert!(err.contains("tokenizer.json") && err.contains("<mask>"), "{err}");
}

#[test]
fn sentence_transformers_pooling_and_max_seq() {
    let tmp = tempfile::tempdir().unwrap();
    // A BertModel as sentence-transformers saves it: no `bert.` prefix, no classifier.
    let dir = copy_fixture(tmp.path(), "tiny-bert-cls", |n| n.strip_prefix("bert.").map(str::to_string));
    edit_json(&dir.join("config.json"), |v| {
        v["architectures"] = serde_json::json!(["BertModel"]);
    });
    let (_, r) = quantize_dir(&dir, &QuantizeOptions::default()).unwrap();
    assert_eq!((r.task, r.pooling, r.normalize), ("embedding", "pooler", false));

    std::fs::write(
        dir.join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
            {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"word_embedding_dimension":32,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true}"#,
    )
    .unwrap();
    std::fs::write(dir.join("sentence_bert_config.json"), r#"{"max_seq_length":24,"do_lower_case":false}"#)
        .unwrap();
    let (blob, r) = quantize_dir(&dir, &QuantizeOptions::new(WeightDtype::Int8)).unwrap();
    assert_eq!((r.pooling, r.normalize, r.max_seq), ("mean", true, 24));

    let buf = picoformer::format::AlignedBuf::from_bytes(&blob);
    let m = Bert::from_bytes(buf.as_bytes()).unwrap();
    assert_eq!((m.pooling(), m.normalize(), m.default_max_seq()), (Pooling::Mean, true, 24));
    let mut arena = picoformer::format::AlignedBuf::zeroed(m.arena_len(24).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), 24).unwrap();
    let e = s.embed("a sentence").unwrap();
    assert!((e.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-4);

    // Options override the files; the pooler is optional for embedding models.
    let opts = QuantizeOptions {
        pooling: Some(Pooling::Cls),
        normalize: Some(false),
        max_seq: Some(8),
        ..Default::default()
    };
    let (_, r) = quantize_dir(&dir, &opts).unwrap();
    assert_eq!((r.pooling, r.normalize, r.max_seq), ("cls", false, 8));

    std::fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":false,"pooling_mode_max_tokens":true}"#,
    )
    .unwrap();
    let err = format!("{:#}", quantize_dir(&dir, &QuantizeOptions::default()).unwrap_err());
    assert!(err.contains("1_Pooling") && err.contains("pooling_mode_max_tokens"), "{err}");
}

#[test]
fn untied_decoder_is_stored_and_tied_one_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    // Tied: a decoder identical to the word embeddings is dropped.
    let tied = copy_fixture(tmp.path(), "tiny-bert-mlm", |n| Some(n.to_string()));
    let bytes = std::fs::read(fixture("tiny-bert-mlm").join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut views = st.tensors();
    let word = st.tensor("bert.embeddings.word_embeddings.weight").unwrap();
    views.push(("cls.predictions.decoder.weight".into(), word.clone()));
    safetensors::serialize_to_file(views.clone(), None, &tied.join("model.safetensors")).unwrap();
    let (blob, r) = quantize_dir(&tied, &QuantizeOptions::default()).unwrap();
    assert!(!r.untied_decoder);
    let buf = picoformer::format::AlignedBuf::from_bytes(&blob);
    assert!(Blob::parse(buf.as_bytes()).unwrap().section("cls.predictions.decoder.weight").is_none());

    // Untied: a different decoder is kept, in the weight dtype.
    let other = st
        .tensor("bert.embeddings.word_embeddings.weight")
        .unwrap()
        .data()
        .iter()
        .map(|b| b ^ 1)
        .collect::<Vec<u8>>();
    let other_view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3000, 32], &other).unwrap();
    views.pop();
    views.push(("cls.predictions.decoder.weight".into(), other_view));
    safetensors::serialize_to_file(views, None, &tied.join("model.safetensors")).unwrap();
    let (blob, r) = quantize_dir(&tied, &QuantizeOptions::new(WeightDtype::F16)).unwrap();
    assert!(r.untied_decoder);
    let buf = picoformer::format::AlignedBuf::from_bytes(&blob);
    let dec = Blob::parse(buf.as_bytes()).unwrap().section("cls.predictions.decoder.weight").unwrap().1;
    assert_eq!(dec.dtype, DType::F16);
}

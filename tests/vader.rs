//! The device's VADER against vaderSentiment 3.3.2 itself: the compound score of every sentence of
//! the twelve data/sentiment TSV files and of hand-written texts that reach each rule, equal to the
//! last bit (data/sentiment/vader/golden.json, scripts/sentiment/vader_golden.py).

mod common;

use picoformer::lexicon::{compound, Lexicon};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Golden {
    files: BTreeMap<String, Vec<f64>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    compound: f64,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(|l| l.split_once('\t').unwrap().1.to_string()).collect()
}

#[test]
fn compound_equals_vader_on_every_sentence() {
    let entries = common::vader_entries();
    let (words, blocks) = common::vader_table();
    let lex = Lexicon::new(&words, &blocks).unwrap();
    assert_eq!(lex.len(), 7_488);
    for (w, t) in &entries {
        assert_eq!(lex.tenths(w.as_bytes()), Some(*t), "{w}");
    }
    let golden: Golden = serde_json::from_str(
        &std::fs::read_to_string(repo().join("data/sentiment/vader/golden.json")).unwrap(),
    )
    .unwrap();
    let (mut checked, mut wrong) = (0, Vec::new());
    let mut check = |text: &str, want: f64| {
        let got = compound(&lex, text);
        checked += 1;
        if got != want {
            wrong.push(format!("{got} != {want}: {text:?}"));
        }
    };
    for case in &golden.cases {
        check(&case.text, case.compound);
    }
    assert_eq!(golden.files.len(), 12);
    for (path, want) in &golden.files {
        let texts = texts(&repo().join(path));
        assert_eq!(texts.len(), want.len(), "{path}");
        for (t, w) in texts.iter().zip(want) {
            check(t, *w);
        }
    }
    assert_eq!(checked, 23_320 + golden.cases.len());
    assert!(
        wrong.is_empty(),
        "{} of {checked} differ:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
}

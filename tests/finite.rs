//! Hostile blobs that are well formed: non-finite weights are found by `check_finite` and named,
//! non-finite outputs are an error instead of NaN probabilities, broken tokenizer and label tables
//! are named.

mod common;

use common::{header, sections, Tiny};
use picoformer::format::{write_blob, AlignedBuf, DType, PendingSection, Task};
use picoformer::{Bert, Error, Session};

/// The tiny model of `t` with `edit` applied to its sections.
fn blob_with(t: &Tiny, edit: impl FnOnce(&mut Vec<PendingSection>)) -> AlignedBuf {
    let mut s = sections(t);
    edit(&mut s);
    AlignedBuf::from_bytes(&write_blob(header(t), &s).unwrap())
}

fn section<'s>(s: &'s mut [PendingSection], name: &str) -> &'s mut PendingSection {
    s.iter_mut().find(|p| p.name == name).unwrap_or_else(|| panic!("no section {name}"))
}

/// Sets f32 element `i` of section `name`.
fn poke(s: &mut [PendingSection], name: &str, i: usize, v: f32) {
    section(s, name).bytes[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
}

fn classifier(dtype: DType) -> Tiny {
    Tiny { dtype, task: Task::Classification, ..Tiny::default() }
}

#[test]
fn non_finite_weights_are_named_and_outputs_refused() {
    let t = classifier(DType::F32);
    let nan = blob_with(&t, |s| poke(s, "encoder.layer.1.attention.self.query.bias", 3, f32::NAN));
    let m = Bert::from_bytes(nan.as_bytes()).expect("a NaN is well formed");
    assert_eq!(
        m.check_finite(),
        Err(Error::NonFinite { prefix: "encoder.layer.", layer: Some(1), name: "attention.self.query.bias" })
    );
    assert_eq!(
        m.check_finite().unwrap_err().to_string(),
        "section encoder.layer.1.attention.self.query.bias holds a NaN or infinite value"
    );
    let mut arena = AlignedBuf::zeroed(m.arena_len(16).unwrap());
    let mut session = Session::new(&m, arena.as_mut_bytes(), 16).unwrap();
    assert_eq!(session.classify("hello world").unwrap_err(), Error::NonFiniteOutput);
    assert_eq!(session.embed("hello world").unwrap_err(), Error::NonFiniteOutput);
    // an infinite weight outside the layers
    let inf = blob_with(&t, |s| poke(s, "classifier.weight", 0, f32::INFINITY));
    let m = Bert::from_bytes(inf.as_bytes()).unwrap();
    assert_eq!(
        m.check_finite(),
        Err(Error::NonFinite { prefix: "", layer: None, name: "classifier.weight" })
    );
    // the clean model passes
    let clean = blob_with(&t, |_| ());
    assert_eq!(Bert::from_bytes(clean.as_bytes()).unwrap().check_finite(), Ok(()));
}

#[test]
fn a_non_finite_int8_scale_is_named() {
    let t = classifier(DType::I8Row);
    let (rows, cols) = (t.inter as usize, t.hidden as usize);
    // int8 matrix layout: rows*cols values, padded to 32 bytes, then one f32 scale per row
    let scales_at = (rows * cols).div_ceil(32) * 32;
    let blob = blob_with(&t, |s| {
        let p = section(s, "encoder.layer.0.intermediate.dense.weight");
        p.bytes[scales_at..scales_at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    let m = Bert::from_bytes(blob.as_bytes()).unwrap();
    assert_eq!(
        m.check_finite(),
        Err(Error::NonFinite { prefix: "encoder.layer.", layer: Some(0), name: "intermediate.dense.weight" })
    );
    assert_eq!(Bert::from_bytes(blob_with(&t, |_| ()).as_bytes()).unwrap().check_finite(), Ok(()));
}

#[test]
fn broken_tables_are_named() {
    let t = classifier(DType::F32);
    // label offsets that run past the strings
    let labels = blob_with(&t, |s| {
        section(s, "task.labels.offsets").bytes[8..12].copy_from_slice(&99u32.to_le_bytes())
    });
    assert_eq!(Bert::from_bytes(labels.as_bytes()).unwrap_err(), Error::BadTable { name: "task.labels" });
    assert_eq!(
        Bert::from_bytes(labels.as_bytes()).unwrap_err().to_string(),
        "table task.labels is missing or inconsistent"
    );
    // a missing tokenizer plane
    let vocab = blob_with(&t, |s| s.retain(|p| p.name != "tokenizer.vocab.sorted"));
    assert_eq!(Bert::from_bytes(vocab.as_bytes()).unwrap_err(), Error::BadTable { name: "tokenizer.vocab" });
    // unsorted token order
    let sorted = blob_with(&t, |s| section(s, "tokenizer.vocab.sorted").bytes[..8].rotate_left(4));
    assert_eq!(Bert::from_bytes(sorted.as_bytes()).unwrap_err(), Error::BadTable { name: "tokenizer.vocab" });
}

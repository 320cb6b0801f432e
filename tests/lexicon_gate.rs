//! A classifier with a lexicon gate: the margin moves by exactly max * sigmoid(gate . pooled + bias)
//! * VADER's compound, and every malformed gate or table is refused by name at load.

mod common;

use common::{reseal, Tiny};
use picoformer::format::*;
use picoformer::lexicon::{compound, Lexicon};
use picoformer::{Bert, Error, Session};

const MAX: f32 = 16.0;
const BIAS: f32 = 0.3;

fn gated_header(t: &Tiny) -> Header {
    let mut h = common::header(t);
    h.task_params.lexicon_gate = true;
    h
}

/// The tiny classifier's sections (the same tensors as the ungated one: the gate's come after
/// the layers, pooler and classifier), its gate set to weight 0, `bias`, `max`, and the lexicon.
fn gated_sections(t: &Tiny, bias: f32, max: f32) -> Vec<PendingSection> {
    let h = gated_header(t);
    let mut rng = common::Lcg(42);
    let mut s = common::tensors(&picoformer::model::schema::BERT, &h, t.dtype, &mut rng);
    for sec in &mut s {
        match sec.name.as_str() {
            "lexicon_gate.weight" => sec.bytes = f32_bytes(&vec![0.0; t.hidden as usize]),
            "lexicon_gate.bias" => sec.bytes = f32_bytes(&[bias]),
            "lexicon_gate.max" => sec.bytes = f32_bytes(&[max]),
            _ => {}
        }
    }
    let plain = common::sections(t);
    let tensors =
        common::tensors(&picoformer::model::schema::BERT, &common::header(t), t.dtype, &mut common::Lcg(42));
    s.extend(plain.into_iter().skip(tensors.len())); // labels and vocabulary planes
    let (words, blocks) = common::vader_table();
    s.push(common::u8_plane("lexicon.words", words));
    s.push(common::u32_plane("lexicon.blocks", &blocks));
    s
}

fn gated_blob(bias: f32, max: f32) -> AlignedBuf {
    let t = Tiny::default();
    AlignedBuf::from_bytes(&write_blob(gated_header(&t), &gated_sections(&t, bias, max)).unwrap())
}

fn logits(blob: &[u8], text: &str) -> [f32; 2] {
    let model = Bert::from_bytes(blob).unwrap();
    let mut arena = AlignedBuf::zeroed(model.arena_len(16).unwrap());
    let mut s = Session::new(&model, arena.as_mut_bytes(), 16).unwrap();
    let c = s.classify(text).unwrap();
    [c.logits[0], c.logits[1]]
}

#[test]
fn the_margin_moves_by_the_gated_compound() {
    let plain = common::blob(&Tiny::default());
    let gated = gated_blob(BIAS, MAX);
    let b = Blob::parse(gated.as_bytes()).unwrap();
    assert_eq!(b.header().version_minor, 4);
    assert!(b.header().task_params.lexicon_gate);
    let (words, blocks) = common::vader_table();
    let lex = Lexicon::new(&words, &blocks).unwrap();
    let weight = MAX / (1.0 + (-BIAS).exp());
    let mut moved = 0;
    for text in
        ["i loved the movie!", "the film was bad.", "not great", "a b c", "", "I LOVED it :) but it was bad"]
    {
        let (p, g) = (logits(plain.as_bytes(), text), logits(gated.as_bytes(), text));
        let half = weight * compound(&lex, text) as f32 * 0.5;
        assert!(
            (g[0] - (p[0] - half)).abs() < 1e-4 && (g[1] - (p[1] + half)).abs() < 1e-4,
            "{text:?}: {p:?} {g:?} {half}"
        );
        moved += (half != 0.0) as usize;
    }
    assert_eq!(moved, 4);
}

#[test]
fn a_bad_gate_or_table_is_refused_by_name() {
    let t = Tiny::default();
    let load = |sections: &[PendingSection], h: Header| {
        let bytes = write_blob(h, sections).unwrap();
        Bert::from_bytes(AlignedBuf::from_bytes(&bytes).as_bytes()).map(|_| ())
    };
    let good = gated_sections(&t, BIAS, MAX);
    assert_eq!(load(&good, gated_header(&t)), Ok(()));
    let without = |name: &str| good.iter().filter(|s| s.name != name).cloned().collect::<Vec<_>>();
    assert_eq!(load(&without("lexicon.words"), gated_header(&t)), Err(Error::BadTable { name: "lexicon" }));
    assert_eq!(load(&without("lexicon.blocks"), gated_header(&t)), Err(Error::BadTable { name: "lexicon" }));
    assert_eq!(
        load(&without("lexicon_gate.bias"), gated_header(&t)),
        Err(Error::MissingSection { prefix: "", layer: None, name: "lexicon_gate.bias" })
    );
    let mut scrambled = good.clone();
    let words = scrambled.iter_mut().find(|s| s.name == "lexicon.words").unwrap();
    words.bytes.swap(10, 40);
    assert_eq!(load(&scrambled, gated_header(&t)), Err(Error::BadTable { name: "lexicon" }));
    assert_eq!(
        load(&gated_sections(&t, BIAS, -1.0), gated_header(&t)),
        Err(Error::BadTable { name: "lexicon_gate" })
    );
    assert_eq!(
        load(&gated_sections(&t, BIAS, f32::NAN), gated_header(&t)),
        Err(Error::NonFinite { prefix: "", layer: None, name: "lexicon_gate.max" })
    );
    // the task flag without the feature bit (or the other way round) is a bad header
    let bytes = write_blob(gated_header(&t), &good).unwrap();
    let mut v = bytes.clone();
    v[24..28].copy_from_slice(&0u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(
        Blob::parse(AlignedBuf::from_bytes(&v).as_bytes()).unwrap_err(),
        Error::BadHeader { field: "features" }
    );
    let plain = common::blob(&t);
    let mut v = plain.as_bytes().to_vec();
    v[24..28].copy_from_slice(&FEATURE_LEXICON_GATE.to_le_bytes());
    reseal(&mut v);
    assert_eq!(
        Blob::parse(AlignedBuf::from_bytes(&v).as_bytes()).unwrap_err(),
        Error::BadHeader { field: "features" }
    );
    // a gate on a model that is not a two-label classifier
    let mut v = bytes;
    v[128..132].copy_from_slice(&3u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(
        Blob::parse(AlignedBuf::from_bytes(&v).as_bytes()).unwrap_err(),
        Error::BadHeader { field: "task_flags" }
    );
}

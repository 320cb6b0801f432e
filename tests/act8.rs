//! 8-bit activations in BERT: `.act_smooth` sections (made by `quantize --calibrate`) are checked
//! at load and switch their int8 matrix to [`kernels::quantize_row_u8`] +
//! [`kernels::matmul_i8_u8`]; [`Session::run_observed`] shows every linear layer's input.

mod common;

use common::{header, sections, Tiny};
use picoformer::format::{f32_bytes, write_blob, AlignedBuf, DType, PendingSection, Task};
use picoformer::model::Observer;
use picoformer::{Bert, Error, Session};

/// The tiny model of `dtype` with unit smoothing factors for the listed layer matrices.
fn with_smoothing(dtype: DType, smoothed: &[(usize, &str, usize)]) -> AlignedBuf {
    let t = Tiny { dtype, task: Task::Embedding, ..Tiny::default() };
    let mut s = sections(&t);
    for &(layer, name, k) in smoothed {
        s.push(PendingSection {
            name: format!("encoder.layer.{layer}.{name}.act_smooth"),
            dtype: DType::F32,
            shape: vec![k as u32],
            bytes: f32_bytes(&vec![1.0; k]),
        });
    }
    AlignedBuf::from_bytes(&write_blob(header(&t), &s).unwrap())
}

const ALL: [(&str, usize); 6] = [
    ("attention.self.query", 16),
    ("attention.self.key", 16),
    ("attention.self.value", 16),
    ("attention.output.dense", 16),
    ("intermediate.dense", 16),
    ("output.dense", 32),
];

fn embed(blob: &AlignedBuf, text: &str) -> Vec<f32> {
    let m = Bert::from_bytes(blob.as_bytes()).unwrap();
    let mut arena = AlignedBuf::zeroed(m.arena_len(16).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), 16).unwrap();
    s.embed(text).unwrap().to_vec()
}

#[test]
fn smoothing_sets_the_feature_bit_and_minor_version() {
    let plain = with_smoothing(DType::I8Row, &[]);
    let a8 = with_smoothing(DType::I8Row, &[(0, "attention.self.query", 16)]);
    let field = |b: &AlignedBuf, at: usize| u32::from_le_bytes(b.as_bytes()[at..at + 4].try_into().unwrap());
    assert_eq!(field(&plain, 24), 0);
    assert_eq!(field(&a8, 24), picoformer::format::FEATURE_ACT_SMOOTH);
    let minor =
        |b: &AlignedBuf| picoformer::format::Blob::parse(b.as_bytes()).unwrap().header().version_minor;
    assert_eq!((minor(&plain), minor(&a8)), (0, 3));
}

#[test]
fn smoothing_beside_a_float_matrix_is_refused_by_name() {
    let blob = with_smoothing(DType::F32, &[(1, "attention.self.key", 16)]);
    assert_eq!(
        Bert::from_bytes(blob.as_bytes()).unwrap_err(),
        Error::ShapeMismatch {
            prefix: "encoder.layer.",
            layer: Some(1),
            name: "attention.self.key.act_smooth"
        }
    );
    // a factor per input column: the down projection's is [I], not [H]
    let blob = with_smoothing(DType::I8Row, &[(0, "output.dense", 16)]);
    assert_eq!(
        Bert::from_bytes(blob.as_bytes()).unwrap_err(),
        Error::ShapeMismatch { prefix: "encoder.layer.", layer: Some(0), name: "output.dense.act_smooth" }
    );
}

#[test]
fn eight_bit_activations_stay_close_to_sixteen_bit_ones() {
    let plain = with_smoothing(DType::I8Row, &[]);
    let layers: Vec<(usize, &str, usize)> = (0..2).flat_map(|l| ALL.map(|(n, k)| (l, n, k))).collect();
    let a8 = with_smoothing(DType::I8Row, &layers);
    for text in ["hello world", "the quick brown fox jumps over the lazy dog", ""] {
        let (e16, e8) = (embed(&plain, text), embed(&a8, text));
        let dot: f32 = e16.iter().zip(&e8).map(|(a, b)| a * b).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cos = dot / (norm(&e16) * norm(&e8));
        // 8 bits per activation on a random tiny model: a few parts in a thousand
        assert!(cos > 0.99, "{text:?}: cosine {cos}");
        assert_ne!(e16, e8, "{text:?}: the 8-bit path was not taken");
    }
}

#[derive(Default)]
struct Seen(Vec<(usize, &'static str, usize, usize)>);

impl Observer for Seen {
    fn linear_input(&mut self, layer: usize, weight: &'static str, x: &[f32], k: usize) {
        self.0.push((layer, weight, x.len() / k, k));
    }
}

#[test]
fn the_observer_sees_every_linear_input() {
    let blob = with_smoothing(DType::F32, &[]);
    let m = Bert::from_bytes(blob.as_bytes()).unwrap();
    let mut arena = AlignedBuf::zeroed(m.arena_len(16).unwrap());
    let mut s = Session::new(&m, arena.as_mut_bytes(), 16).unwrap();
    let mut seen = Seen::default();
    let enc = s.run_observed("hello world", &mut seen).unwrap();
    let want: Vec<_> = (0..2)
        .flat_map(|l| {
            let rows = enc.len;
            [
                (l, "attention.self.key.weight", rows, 16),
                (l, "attention.self.value.weight", rows, 16),
                (l, "attention.self.query.weight", rows, 16),
                (l, "attention.output.dense.weight", rows, 16),
                (l, "intermediate.dense.weight", rows, 16),
                (l, "output.dense.weight", rows, 32),
            ]
        })
        .collect();
    assert_eq!(seen.0, want);
}

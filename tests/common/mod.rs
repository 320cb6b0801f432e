//! A small synthetic BERT blob built with the core's writer, for format and arena tests.
#![allow(dead_code)]

use picoformer::format::*;
use picoformer::model::schema::{self, Dims, Kind, Schema};

/// Deterministic pseudo-random numbers in [-scale, scale).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_f32(&mut self, scale: f32) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale
    }
    pub fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next_f32(scale)).collect()
    }
}

pub const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "great", "bad", "!", ".", "i",
    "loved", "it", "##s", "##ing", "a", "b", "c", "film", "not",
];

pub struct Tiny {
    /// Vocabulary size: [`VOCAB`], padded with made-up words `w0`, `w1`, ... when larger.
    pub vocab: u32,
    pub hidden: u32,
    pub layers: u32,
    pub heads: u32,
    pub inter: u32,
    pub max_pos: u32,
    pub task: Task,
    pub dtype: DType,
}

impl Default for Tiny {
    fn default() -> Self {
        Tiny {
            vocab: VOCAB.len() as u32,
            hidden: 16,
            layers: 2,
            heads: 2,
            inter: 32,
            max_pos: 24,
            task: Task::Classification,
            dtype: DType::F32,
        }
    }
}

/// The tokens of `t`'s vocabulary: [`VOCAB`], then `w0`, `w1`, ... up to `t.vocab`.
pub fn vocab(t: &Tiny) -> Vec<String> {
    let extra = (t.vocab as usize).saturating_sub(VOCAB.len());
    VOCAB.iter().map(|w| w.to_string()).chain((0..extra).map(|i| format!("w{i}"))).collect()
}

/// Group-wise int4 of `w` (groups of `group` along the rows), the starting point of the tool's
/// quantizer (without its least-squares refits): `min = f16(min)`, `scale = f16((max - min) / 15)`,
/// `u = clamp(round((x - min) / scale), 0, 15)`.
pub fn int4_bytes(w: &[f32], group: usize) -> Vec<u8> {
    let (mut u, mut scales) = (vec![], vec![]);
    for g in w.chunks(group) {
        let lo = g.iter().fold(f32::INFINITY, |m, &v| m.min(v));
        let hi = g.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let (s, mn) = (half::f16::from_f32((hi - lo) / 15.0), half::f16::from_f32(lo));
        let (sf, mf) = (s.to_f32(), mn.to_f32());
        u.extend(
            g.iter().map(|&v| if sf > 0.0 { ((v - mf) / sf).round().clamp(0.0, 15.0) as u8 } else { 0 }),
        );
        scales.push((s, mn));
    }
    i4_group_bytes(&u, &scales)
}

fn matrix(name: String, rows: u32, cols: u32, dtype: DType, rng: &mut Lcg) -> PendingSection {
    let w = rng.vec((rows * cols) as usize, 0.5);
    // int4 needs rows that are whole groups; other matrices fall back to int8 (as the tool does).
    let dtype = match dtype {
        DType::I4 { group } if !cols.is_multiple_of(group) => DType::I8Row,
        d => d,
    };
    let bytes = match dtype {
        DType::F32 => f32_bytes(&w),
        DType::I4 { group } => int4_bytes(&w, group as usize),
        DType::F16 => w.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect(),
        _ => {
            let mut q = vec![0i8; w.len()];
            let scales: Vec<f32> = w
                .chunks(cols as usize)
                .zip(q.chunks_mut(cols as usize))
                .map(|(r, qr)| picoformer::kernels::quantize_row_i8(qr, r))
                .collect();
            i8_row_bytes(&q, &scales)
        }
    };
    PendingSection { name, dtype, shape: vec![rows, cols], bytes }
}

fn vector(name: String, n: u32, base: f32, rng: &mut Lcg) -> PendingSection {
    let v: Vec<f32> = (0..n).map(|_| base + rng.next_f32(0.2)).collect();
    PendingSection { name, dtype: DType::F32, shape: vec![n], bytes: f32_bytes(&v) }
}

pub fn header(t: &Tiny) -> Header {
    Header {
        version_minor: 0,
        file_len: 0,
        section_count: 0,
        arch: Arch::Bert,
        task: t.task,
        params: ArchParams::Bert(BertParams {
            vocab_size: vocab(t).len() as u32,
            hidden: t.hidden,
            n_layers: t.layers,
            n_heads: t.heads,
            intermediate: t.inter,
            max_position: t.max_pos,
            type_vocab_size: 2,
            layer_norm_eps: 1e-12,
            activation: Activation::GeluErf,
        }),
        task_params: TaskParams {
            n_labels: if t.task == Task::Classification { 2 } else { 0 },
            pooling: Pooling::Mean,
            normalize: true,
            has_pooler: t.task == Task::Classification,
            lexicon_gate: false,
            default_max_seq: t.max_pos,
        },
        tokenizer: TokenizerParams::WordPiece(WordPieceParams {
            lowercase: true,
            strip_accents: true,
            tokenize_cjk: true,
            clean_text: true,
            unk: 1,
            cls: 2,
            sep: 3,
            pad: 0,
            mask: 4,
            max_chars_per_word: 100,
        }),
    }
}

/// Random tensors for every section `schema` asks of a model with `header` (matrices in `dtype`,
/// norm scales around 1, everything else around 0), in schema order: globals, then each layer.
pub fn tensors(schema: &Schema, header: &Header, dtype: DType, rng: &mut Lcg) -> Vec<PendingSection> {
    let dims = Dims::from_header(header);
    let layers = match &header.params {
        ArchParams::Bert(p) => p.n_layers,
        ArchParams::Decoder(p) => p.n_layers,
        _ => 0,
    };
    let mut out = vec![];
    for (scope, def) in schema.blob_order(layers as usize) {
        if dims.required(def) != Some(true) {
            continue;
        }
        let (rows, cols) = dims.shape(def);
        let name = schema.section_name(scope, def);
        out.push(match def.kind {
            Kind::Matrix => matrix(name, rows as u32, cols as u32, dtype, rng),
            Kind::Vector => {
                let base = if def.name.ends_with("norm.weight")
                    || def.name.ends_with("Norm.weight")
                    || def.name.ends_with("ln_1.weight")
                    || def.name.ends_with("ln_2.weight")
                    || def.name.ends_with("ln_f.weight")
                {
                    1.0
                } else {
                    0.0
                };
                vector(name, rows as u32, base, rng)
            }
        });
    }
    out
}

pub fn sections(t: &Tiny) -> Vec<PendingSection> {
    let mut rng = Lcg(42);
    let words = vocab(t);
    let mut s = tensors(&schema::BERT, &header(t), t.dtype, &mut rng);
    if t.task == Task::Classification {
        let labels = ["negative", "positive"];
        let strings: Vec<u8> = labels.concat().into_bytes();
        let offsets = [0u32, 8, 16];
        s.push(PendingSection {
            name: "task.labels.strings".into(),
            dtype: DType::U8,
            shape: vec![strings.len() as u32],
            bytes: strings,
        });
        s.push(PendingSection {
            name: "task.labels.offsets".into(),
            dtype: DType::U32,
            shape: vec![3],
            bytes: u32_bytes(&offsets),
        });
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let (strings, offsets, sorted) = picoformer::tokenizer::build_planes(&words);
    s.push(u8_plane("tokenizer.vocab.strings", strings));
    s.push(u32_plane("tokenizer.vocab.offsets", &offsets));
    s.push(u32_plane("tokenizer.vocab.sorted", &sorted));
    s
}

/// A byte section.
pub fn u8_plane(name: &str, bytes: Vec<u8>) -> PendingSection {
    PendingSection { name: name.into(), dtype: DType::U8, shape: vec![bytes.len() as u32], bytes }
}

/// A `u32` section.
pub fn u32_plane(name: &str, v: &[u32]) -> PendingSection {
    PendingSection { name: name.into(), dtype: DType::U32, shape: vec![v.len() as u32], bytes: u32_bytes(v) }
}

/// The project's VADER lexicon (data/sentiment/vader/lexicon.tsv) as (word, rating in tenths).
pub fn vader_entries() -> Vec<(String, i8)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sentiment/vader/lexicon.tsv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let (w, r) = l.split_once('\t').unwrap();
            (w.to_string(), (r.parse::<f64>().unwrap() * 10.0).round() as i8)
        })
        .collect()
}

/// The lexicon's two sections' contents (`lexicon.words`, `lexicon.blocks`).
pub fn vader_table() -> (Vec<u8>, Vec<u32>) {
    let e = vader_entries();
    let refs: Vec<(&str, i8)> = e.iter().map(|(w, t)| (w.as_str(), *t)).collect();
    picoformer::lexicon::encode(&refs).unwrap()
}

/// The blob of a tiny model, in a 32-byte-aligned buffer.
pub fn blob(t: &Tiny) -> AlignedBuf {
    let bytes = write_blob(header(t), &sections(t)).expect("valid tiny blob");
    AlignedBuf::from_bytes(&bytes)
}

/// Rewrites the checksum after a deliberate edit, so that the edit itself is what gets tested.
pub fn reseal(b: &mut [u8]) {
    let crc = crc32(&b[CHECKSUM_START..]);
    b[12..16].copy_from_slice(&crc.to_le_bytes());
}

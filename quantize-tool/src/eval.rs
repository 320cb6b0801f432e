//! `eval`: accuracy and per-class precision / recall / F1 of a classifier on a labelled TSV file
//! (`label<TAB>text` per line), and optionally how closely a reference model agrees with it
//! (label agreement, logit differences), e.g. a pruned or int8 model against its f32 original.

use std::fmt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use picoformer::format::{AlignedBuf, Task};
use picoformer::KvPrecision;
use serde::Serialize;

use crate::escape;
use crate::run::{session_options, InputArena};

/// One labelled example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// 1-based line number in the file.
    pub line: usize,
    /// Index of the gold label in the model's labels.
    pub label: usize,
    /// The input text.
    pub text: String,
}

/// Reads `label<TAB>text` lines (blank lines skipped, a trailing `\r` removed); every label must be
/// one of `labels`. The first line may be a header: it is skipped when its first field is `label`
/// (any case) and not one of `labels`. Errors name the file and line.
pub fn read_tsv(path: &Path, labels: &[String]) -> Result<Vec<Example>> {
    let text = crate::run::read_text(path)?;
    let mut out = Vec::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let Some((label, text)) = line.split_once('\t') else {
            bail!("{}: expected `label<TAB>text`, found no tab", at());
        };
        if std::mem::take(&mut first) && is_header(label, labels) {
            continue;
        }
        let Some(label) = labels.iter().position(|l| l == label) else {
            bail!("{}: unknown label {label:?} (the model's labels: {})", at(), labels.join(", "));
        };
        out.push(Example { line: i + 1, label, text: text.to_string() });
    }
    if out.is_empty() {
        bail!("{}: no examples", path.display());
    }
    Ok(out)
}

/// Whether the first field of a file's first line names the column rather than a label.
fn is_header(field: &str, labels: &[String]) -> bool {
    field.trim().eq_ignore_ascii_case("label") && !labels.iter().any(|l| l == field)
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassMetrics {
    /// The label name.
    pub label: String,
    /// `tp / (tp + fp)`; 0 when the class is never predicted.
    pub precision: f64,
    /// `tp / support`; 0 when the class has no examples.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
    /// Examples with this gold label.
    pub support: usize,
    /// Examples predicted as this label.
    pub predicted: usize,
}

/// How the reference model compares with the evaluated one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agreement {
    /// The reference model file.
    pub reference: String,
    /// Fraction of examples where both models predict the same label.
    pub agreement: f64,
    /// Examples where they agree.
    pub agree: usize,
    /// `max |logit - reference logit|` over all examples and labels.
    pub max_abs_logit_diff: f32,
    /// Mean of `|logit - reference logit|` over all examples and labels.
    pub mean_abs_logit_diff: f64,
    /// The reference model's accuracy.
    pub reference_accuracy: f64,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvalReport {
    /// The model file.
    pub model: String,
    /// The TSV file.
    pub file: String,
    /// Number of examples.
    pub examples: usize,
    /// Examples predicted correctly.
    pub correct: usize,
    /// `correct / examples`.
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1.
    pub macro_f1: f64,
    /// Inputs cut to the maximum sequence length.
    pub truncated: usize,
    /// The sequence length used.
    pub max_seq: usize,
    /// One entry per label, in label order.
    pub classes: Vec<ClassMetrics>,
    /// `confusion[gold][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// The comparison with `--reference`, if given.
    pub reference: Option<Agreement>,
}

/// A model file: its path (for messages) and its bytes (from [`crate::load_blob`]).
pub type ModelFile<'a> = (&'a Path, &'a AlignedBuf);

/// Evaluates `model` on the examples of `tsv`, and compares `reference` with it when given.
/// `max_seq` defaults to each model's own.
pub fn evaluate(
    model: ModelFile,
    tsv: &Path,
    reference: Option<ModelFile>,
    max_seq: Option<usize>,
) -> Result<EvalReport> {
    let labels = label_names(model)?;
    let examples = read_tsv(tsv, &labels)?;
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let out = classify_all(model, &texts, max_seq)?;
    let gold: Vec<usize> = examples.iter().map(|e| e.label).collect();
    let reference = match reference {
        Some(r) => {
            let ref_labels = label_names(r)?;
            if ref_labels != labels {
                bail!(
                    "{}: labels [{}] differ from the model's [{}]",
                    r.0.display(),
                    ref_labels.join(", "),
                    labels.join(", ")
                );
            }
            Some(agreement(r.0, &out, &classify_all(r, &texts, max_seq)?, &gold))
        }
        None => None,
    };
    let n = labels.len();
    let mut confusion = vec![vec![0usize; n]; n];
    for (&g, &p) in gold.iter().zip(&out.predicted) {
        confusion[g][p] += 1;
    }
    let classes: Vec<ClassMetrics> =
        labels.iter().enumerate().map(|(c, l)| class_metrics(l, c, &confusion)).collect();
    let correct = (0..n).map(|c| confusion[c][c]).sum();
    Ok(EvalReport {
        model: model.0.display().to_string(),
        file: tsv.display().to_string(),
        examples: examples.len(),
        correct,
        accuracy: correct as f64 / examples.len() as f64,
        macro_f1: classes.iter().map(|c| c.f1).sum::<f64>() / n as f64,
        truncated: out.truncated,
        max_seq: out.max_seq,
        classes,
        confusion,
        reference,
    })
}

/// The label names of a classifier (an error for any other task).
fn label_names((path, blob): ModelFile) -> Result<Vec<String>> {
    let bert = crate::run::encoder(path, blob, "eval --tsv")?;
    if bert.task() != Task::Classification {
        bail!(
            "{}: the model's task is {}, eval needs a classifier",
            path.display(),
            crate::report::task_name(bert.task())
        );
    }
    Ok((0..bert.n_labels()).map(|i| bert.label(i).unwrap_or("").to_string()).collect())
}

/// Predictions and logits of one model over all inputs.
struct Outputs {
    predicted: Vec<usize>,
    /// One row per input, `n_labels` each.
    logits: Vec<Vec<f32>>,
    truncated: usize,
    max_seq: usize,
}

fn classify_all((path, blob): ModelFile, texts: &[&str], max_seq: Option<usize>) -> Result<Outputs> {
    let name = path.display();
    let bert = crate::run::encoder(path, blob, "eval --tsv")?;
    bert.check_finite().with_context(|| format!("{name}: unusable weights"))?;
    let (opts, given) =
        session_options(&bert, max_seq, None, KvPrecision::F32).with_context(|| format!("{name}"))?;
    let max_seq = opts.max_seq;
    // each example runs in an arena sized for its own length, not for max_seq (same results)
    let mut arena = InputArena::new(&bert, opts).with_context(|| format!("{name}: {given}"))?;
    let mut out = Outputs { predicted: Vec::new(), logits: Vec::new(), truncated: 0, max_seq };
    for (i, text) in texts.iter().enumerate() {
        let example = || format!("{name}: example {}", i + 1);
        let mut s = arena.session(text).with_context(example)?;
        let c = s.classify(text).with_context(example)?;
        out.predicted.push(c.label);
        out.logits.push(c.logits.to_vec());
        out.truncated += c.truncated as usize;
    }
    Ok(out)
}

fn class_metrics(label: &str, c: usize, confusion: &[Vec<usize>]) -> ClassMetrics {
    let tp = confusion[c][c];
    let support: usize = confusion[c].iter().sum();
    let predicted: usize = confusion.iter().map(|row| row[c]).sum();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    ClassMetrics { label: label.to_string(), precision, recall, f1, support, predicted }
}

fn agreement(path: &Path, model: &Outputs, reference: &Outputs, gold: &[usize]) -> Agreement {
    let n = gold.len();
    let agree = model.predicted.iter().zip(&reference.predicted).filter(|(a, b)| a == b).count();
    let ref_correct = reference.predicted.iter().zip(gold).filter(|(a, b)| a == b).count();
    let diffs = model.logits.iter().zip(&reference.logits).flat_map(|(a, b)| a.iter().zip(b));
    let (mut max, mut sum, mut count) = (0f32, 0f64, 0usize);
    for (a, b) in diffs {
        let d = (a - b).abs();
        max = max.max(d);
        sum += d as f64;
        count += 1;
    }
    Agreement {
        reference: path.display().to_string(),
        agreement: agree as f64 / n as f64,
        agree,
        max_abs_logit_diff: max,
        mean_abs_logit_diff: sum / count.max(1) as f64,
        reference_accuracy: ref_correct as f64 / n as f64,
    }
}

/// The human report; labels and file names are escaped for a terminal ([`escape::line`]).
impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "model: {}", escape::line(&self.model))?;
        writeln!(
            f,
            "examples: {} ({}), max_seq {}, truncated {}",
            self.examples,
            escape::line(&self.file),
            self.max_seq,
            self.truncated
        )?;
        writeln!(f, "accuracy: {:.4} ({}/{})", self.accuracy, self.correct, self.examples)?;
        let labels: Vec<_> = self.classes.iter().map(|c| escape::line(&c.label)).collect();
        let w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(5).max(9);
        writeln!(f, "{:<w$}  {:>9}  {:>9}  {:>9}  {:>7}", "label", "precision", "recall", "f1", "support")?;
        for (c, label) in self.classes.iter().zip(&labels) {
            writeln!(
                f,
                "{:<w$}  {:>9.4}  {:>9.4}  {:>9.4}  {:>7}",
                label, c.precision, c.recall, c.f1, c.support
            )?;
        }
        write!(f, "{:<w$}  {:>9}  {:>9}  {:>9.4}  {:>7}", "macro avg", "", "", self.macro_f1, self.examples)?;
        if let Some(r) = &self.reference {
            write!(
                f,
                "\nreference {}: accuracy {:.4}, label agreement {:.4} ({}/{}), |logit diff| max {:.3e}, mean {:.3e}",
                escape::line(&r.reference),
                r.reference_accuracy,
                r.agreement,
                r.agree,
                self.examples,
                r.max_abs_logit_diff,
                r.mean_abs_logit_diff
            )?;
        }
        Ok(())
    }
}

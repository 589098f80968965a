//! Scoring predictions: the exact-match normalisation, exact match, ROUGE-L.
//!
//! Exact match follows the public code (SuperNI's `compute_metrics.py`, used by O-LoRA and
//! GainLoRA, "adapted from SQuAD v1.1 without removing the articles"):
//! `normalize_answer(s) = white_space_fix(remove_punc(lower(s)))` — lower-case, delete every
//! character of Python's `string.punctuation` (the 32 ASCII punctuation characters), then
//! join the whitespace-separated words with single spaces. A prediction scores 1 when its
//! normalised form equals that of any reference.
//!
//! ROUGE-L is `rouge_score`'s (see [`rouge_l`] and [`RougeTokenizer`]); corpus scores are
//! means over examples × 100, as in SuperNI's `compute_metrics`.
//!
//! [`Metric::Accuracy`] (TRACE multiple choice / numeric answers) is scored as exact match
//! after the same normalisation. TRACE's own script compares raw strings, and for ScienceQA
//! extracts the answer letter first; apply such post-processing to predictions and
//! references before calling this if exact TRACE numbers are needed.
//! [`Metric::EditSimilarity`] and [`Metric::Sari`] are not implemented
//! ([`DataError::UnsupportedMetric`]).

mod porter;
mod rouge;

pub use porter::porter_stem;
pub use rouge::{
    RougeScore, RougeTokenizer, lcs_len, rouge_l, rouge_l_max, rouge_l_tokens, rouge_tokenize,
};

use rayon::prelude::*;

use crate::error::{DataError, Result};
use crate::loaders::Example;
use crate::registry::Metric;

/// Python's `str.split()` whitespace: Unicode White_Space plus the separators U+001C–U+001F.
fn is_py_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Lower-cases, removes ASCII punctuation and collapses whitespace (SuperNI's `normalize_answer`).
pub fn normalize_answer(s: &str) -> String {
    let cleaned: String = s
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    cleaned
        .split(is_py_whitespace)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `prediction` equals `reference` after [`normalize_answer`].
pub fn exact_match(prediction: &str, reference: &str) -> bool {
    normalize_answer(prediction) == normalize_answer(reference)
}

/// Whether `prediction` matches any of `references` after normalisation.
pub fn exact_match_any<'a>(
    prediction: &str,
    references: impl IntoIterator<Item = &'a str>,
) -> bool {
    let p = normalize_answer(prediction);
    references.into_iter().any(|r| normalize_answer(r) == p)
}

/// The score in `[0, 1]` of one prediction against its references under `metric`
/// (the best over the references).
///
/// # Errors
/// [`DataError::UnsupportedMetric`] for edit similarity and SARI.
pub fn score<'a>(
    metric: Metric,
    prediction: &str,
    references: impl IntoIterator<Item = &'a str>,
) -> Result<f64> {
    match metric {
        Metric::ExactMatch | Metric::Accuracy => {
            Ok(f64::from(u8::from(exact_match_any(prediction, references))))
        }
        Metric::RougeL => Ok(rouge_l_max(
            prediction,
            references,
            RougeTokenizer::default(),
        )),
        Metric::EditSimilarity | Metric::Sari => {
            Err(DataError::UnsupportedMetric(metric.to_string()))
        }
    }
}

/// The corpus score (mean over examples × 100) of `predictions` against the references of
/// `examples` (all of [`Example::references`]), in parallel. 0 for no examples.
///
/// # Errors
/// [`DataError::Config`] if the lengths differ; [`DataError::UnsupportedMetric`].
pub fn corpus_score(metric: Metric, predictions: &[String], examples: &[Example]) -> Result<f64> {
    if predictions.len() != examples.len() {
        return Err(DataError::Config(format!(
            "{} predictions for {} examples",
            predictions.len(),
            examples.len()
        )));
    }
    if examples.is_empty() {
        return Ok(0.0);
    }
    let scores: Vec<f64> = predictions
        .par_iter()
        .zip(examples)
        .map(|(p, e)| score(metric, p, e.references()))
        .collect::<Result<_>>()?;
    Ok(100.0 * scores.iter().sum::<f64>() / scores.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_follows_superni() {
        assert_eq!(
            normalize_answer("  The  Answer, is: 'B'!\n"),
            "the answer is b"
        );
        assert_eq!(
            normalize_answer("Science or Technology"),
            "science or technology"
        );
        assert_eq!(normalize_answer("Society & Culture"), "society culture");
        // Articles are kept (SuperNI does not remove them, unlike SQuAD).
        assert_eq!(normalize_answer("a dog"), "a dog");
        // Non-ASCII punctuation is not in Python's string.punctuation.
        assert_eq!(normalize_answer("«Ja»"), "«ja»");
        assert_eq!(normalize_answer("x\u{1f}y\u{a0}z"), "x y z");
        assert_eq!(normalize_answer(""), "");
    }

    #[test]
    fn exact_match_cases() {
        assert!(exact_match("very negative", "Very Negative."));
        assert!(!exact_match("negative", "very negative"));
        assert!(exact_match(
            "Science or Technology ",
            "science or technology"
        ));
        assert!(!exact_match("", "neutral"));
        // MNLI's test labels `-` normalise to the empty string, as does an empty (or
        // all-punctuation) prediction: the public rule counts that as a match.
        assert!(exact_match("", "-"));
        assert!(exact_match("?", "-"));
        assert!(exact_match_any("b", ["a", "B"]));
        assert!(!exact_match_any("c", ["a", "B"]));
    }

    #[test]
    fn score_dispatch() {
        assert_eq!(score(Metric::ExactMatch, "Good", ["good"]).unwrap(), 1.0);
        assert_eq!(score(Metric::Accuracy, "A", ["B"]).unwrap(), 0.0);
        assert!((score(Metric::RougeL, "the cat", ["the cat sat"]).unwrap() - 0.8).abs() < 1e-12);
        assert!(matches!(
            score(Metric::Sari, "a", ["b"]),
            Err(DataError::UnsupportedMetric(_))
        ));
        assert!(matches!(
            score(Metric::EditSimilarity, "a", ["b"]),
            Err(DataError::UnsupportedMetric(_))
        ));
    }

    #[test]
    fn corpus_score_is_a_percentage_over_all_references() {
        let ex = vec![
            Example::new("q1", "POS"),
            Example {
                alternatives: vec!["the cat".into()],
                ..Example::new("q2", "a dog")
            },
            Example::new("q3", "NEG"),
            Example::new("q4", "NEG"),
        ];
        let preds: Vec<String> = ["pos", "The cat.", "POS", "neg"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(corpus_score(Metric::ExactMatch, &preds, &ex).unwrap(), 75.0);
        assert!(matches!(
            corpus_score(Metric::ExactMatch, &preds[..2], &ex),
            Err(DataError::Config(_))
        ));
        assert_eq!(corpus_score(Metric::RougeL, &[], &[]).unwrap(), 0.0);
    }
}

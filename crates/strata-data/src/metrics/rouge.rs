//! ROUGE-L as `rouge_score` computes it (the implementation SuperNI's and GainLoRA's
//! `compute_metrics.py` call: `RougeScorer(["rougeL"], use_stemmer=True)`).
//!
//! Tokenisation ([`RougeTokenizer::RougeScore`], the default): lower-case; replace every run
//! of characters outside `[a-z0-9]` by a space (so non-ASCII letters separate tokens and are
//! dropped); split on whitespace; stem tokens longer than 3 characters with NLTK's Porter
//! stemmer; drop empty tokens. Score: with `L` the length of the longest common subsequence
//! of the token lists, `P = L / |prediction|`, `R = L / |target|`,
//! `F = 2PR / (P + R)` (0 when `P + R = 0`, and all three 0 when either list is empty).

use serde::{Deserialize, Serialize};

use super::porter::porter_stem;

/// How text is split into ROUGE tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RougeTokenizer {
    /// `rouge_score`'s default tokenizer (see the module doc); `stem`: Porter-stem tokens of
    /// more than 3 characters (`use_stemmer=True`, as SuperNI does).
    RougeScore {
        /// Apply the Porter stemmer.
        stem: bool,
    },
    /// Lower-case and split on whitespace only; punctuation stays attached to words.
    Whitespace,
}

impl Default for RougeTokenizer {
    /// `RougeScore { stem: true }`: SuperNI's default track.
    fn default() -> Self {
        RougeTokenizer::RougeScore { stem: true }
    }
}

/// ROUGE precision, recall and F-measure, each in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RougeScore {
    /// LCS length over prediction length.
    pub precision: f64,
    /// LCS length over target length.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub fmeasure: f64,
}

/// The tokens of `text` under `tokenizer`.
pub fn rouge_tokenize(text: &str, tokenizer: RougeTokenizer) -> Vec<String> {
    match tokenizer {
        RougeTokenizer::Whitespace => text
            .to_lowercase()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        RougeTokenizer::RougeScore { stem } => {
            let lower = text.to_lowercase();
            lower
                .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
                .filter(|t| !t.is_empty())
                .map(|t| {
                    if stem && t.len() > 3 {
                        porter_stem(t)
                    } else {
                        t.to_string()
                    }
                })
                .filter(|t| !t.is_empty())
                .collect()
        }
    }
}

/// Length of the longest common subsequence of `a` and `b` (O(|a|·|b|) time, O(|b|) memory).
pub fn lcs_len<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// ROUGE-L of already tokenised texts.
pub fn rouge_l_tokens<T: PartialEq>(prediction: &[T], target: &[T]) -> RougeScore {
    if prediction.is_empty() || target.is_empty() {
        return RougeScore::default();
    }
    let l = lcs_len(target, prediction) as f64;
    let precision = l / prediction.len() as f64;
    let recall = l / target.len() as f64;
    let fmeasure = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    RougeScore {
        precision,
        recall,
        fmeasure,
    }
}

/// ROUGE-L of `prediction` against one `target`.
pub fn rouge_l(prediction: &str, target: &str, tokenizer: RougeTokenizer) -> RougeScore {
    rouge_l_tokens(
        &rouge_tokenize(prediction, tokenizer),
        &rouge_tokenize(target, tokenizer),
    )
}

/// The best ROUGE-L F-measure of `prediction` over `references` (SuperNI's
/// `metric_max_over_ground_truths`); 0 for no references.
pub fn rouge_l_max<'a>(
    prediction: &str,
    references: impl IntoIterator<Item = &'a str>,
    tokenizer: RougeTokenizer,
) -> f64 {
    let pred = rouge_tokenize(prediction, tokenizer);
    references
        .into_iter()
        .map(|r| rouge_l_tokens(&pred, &rouge_tokenize(r, tokenizer)).fmeasure)
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: RougeTokenizer = RougeTokenizer::Whitespace;
    const NO_STEM: RougeTokenizer = RougeTokenizer::RougeScore { stem: false };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn lcs_by_hand() {
        let a: Vec<char> = "ABCBDAB".chars().collect();
        let b: Vec<char> = "BDCABA".chars().collect();
        assert_eq!(lcs_len(&a, &b), 4); // BCBA
        assert_eq!(lcs_len::<char>(&[], &b), 0);
        assert_eq!(lcs_len(&a, &a), 7);
    }

    #[test]
    fn hand_computed_scores() {
        // target: "the cat sat on the mat" (6), prediction: "the cat on mat" (4); LCS = 4.
        let s = rouge_l("the cat on mat", "the cat sat on the mat", WS);
        assert!(
            close(s.precision, 1.0) && close(s.recall, 4.0 / 6.0),
            "{s:?}"
        );
        assert!(
            close(s.fmeasure, 2.0 * (4.0 / 6.0) / (1.0 + 4.0 / 6.0)),
            "{s:?}"
        ); // 0.8
        assert!(close(s.fmeasure, 0.8));
        // "police killed the gunman" vs "police kill the gunman": LCS 3 ("police the gunman").
        let s = rouge_l(
            "police kill the gunman",
            "police killed the gunman",
            NO_STEM,
        );
        assert!(close(s.fmeasure, 0.75), "{s:?}");
        // With the stemmer, killed → kill: a perfect match.
        let s = rouge_l(
            "police kill the gunman",
            "police killed the gunman",
            RougeTokenizer::default(),
        );
        assert!(close(s.fmeasure, 1.0), "{s:?}");
        // Order matters: LCS of "a b c d" and "d c b a" is 1 → P = R = F = 1/4.
        let s = rouge_l("d c b a", "a b c d", WS);
        assert!(close(s.fmeasure, 0.25), "{s:?}");
    }

    #[test]
    fn empty_sides_score_zero() {
        assert_eq!(rouge_l("", "a b", WS), RougeScore::default());
        assert_eq!(rouge_l("a b", "", WS), RougeScore::default());
        assert_eq!(rouge_l("!!!", "a", NO_STEM), RougeScore::default());
        assert_eq!(rouge_l_max("a", std::iter::empty(), WS), 0.0);
    }

    #[test]
    fn rouge_score_tokenizer_drops_punctuation_and_non_ascii() {
        assert_eq!(
            rouge_tokenize("Hello, World! It's 2024.", NO_STEM),
            vec!["hello", "world", "it", "s", "2024"]
        );
        assert_eq!(
            rouge_tokenize("Zürich café", NO_STEM),
            vec!["z", "rich", "caf"]
        );
        assert_eq!(
            rouge_tokenize("Running dogs", RougeTokenizer::default()),
            vec!["run", "dog"]
        );
        assert_eq!(rouge_tokenize("A, b\tC", WS), vec!["a,", "b", "c"]);
    }

    #[test]
    fn max_over_references() {
        let f = rouge_l_max("the cat", ["a dog", "the cat", "the"], WS);
        assert!(close(f, 1.0));
        let f = rouge_l_max("the cat", ["a dog", "the"], WS);
        assert!(close(f, 2.0 * 0.5 / 1.5));
    }

    /// Cases scored by `rouge_score` 0.1.2 (`RougeScorer(["rougeL"], use_stemmer=...)`) on
    /// SuperNI test outputs: `[prediction, target, f_stemmed, f_unstemmed]`.
    #[test]
    fn matches_rouge_score_on_reference_cases() {
        let cases: Vec<(String, String, f64, f64)> =
            serde_json::from_str(include_str!("rouge_cases.json")).unwrap();
        assert!(cases.len() >= 50);
        for (pred, target, f_stem, f_plain) in &cases {
            let a = rouge_l(pred, target, RougeTokenizer::RougeScore { stem: true }).fmeasure;
            let b = rouge_l(pred, target, NO_STEM).fmeasure;
            assert!(
                (a - f_stem).abs() < 1e-9,
                "stemmed: {a} vs {f_stem} for {pred:?} / {target:?}"
            );
            assert!(
                (b - f_plain).abs() < 1e-9,
                "plain: {b} vs {f_plain} for {pred:?} / {target:?}"
            );
        }
    }
}

//! The Porter stemmer as NLTK implements it in its default `NLTK_EXTENSIONS` mode — the
//! stemmer `rouge_score` uses with `use_stemmer=True`, hence the one behind SuperNI's and
//! GainLoRA's ROUGE-L numbers.
//!
//! A rule-by-rule port of `nltk/stem/porter.py` (NLTK 3.2.2 and later): the irregular-forms
//! table, words of ≤ 2 characters left alone, steps 1a–5b with NLTK's extensions
//! (`ies`/`ied` of 4-letter words, the `(*c and not c) Y → I` rule, `alli` first in step 2,
//! `fulli`, `logi`, the 2-letter `*o` case). NLTK's rule lists stop at the first suffix that
//! matches, whether or not its condition holds; so does this port.

/// A rule's suffix: a literal, or NLTK's `*d` (any double consonant).
#[derive(Clone, Copy)]
enum Suffix {
    Lit(&'static str),
    DoubleConsonant,
}

type Cond<'a> = Option<&'a dyn Fn(&[char]) -> bool>;

fn is_consonant(w: &[char], i: usize) -> bool {
    match w[i] {
        'a' | 'e' | 'i' | 'o' | 'u' => false,
        'y' => i == 0 || !is_consonant(w, i - 1),
        _ => true,
    }
}

/// Porter's measure m: the number of vowel→consonant transitions.
fn measure(stem: &[char]) -> usize {
    (1..stem.len())
        .filter(|&i| !is_consonant(stem, i - 1) && is_consonant(stem, i))
        .count()
}

fn contains_vowel(stem: &[char]) -> bool {
    (0..stem.len()).any(|i| !is_consonant(stem, i))
}

fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1)
}

/// `*o`: ends consonant–vowel–consonant, the last not w, x or y; or (NLTK) a 2-letter vowel–consonant word.
fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    (n >= 3
        && is_consonant(w, n - 3)
        && !is_consonant(w, n - 2)
        && is_consonant(w, n - 1)
        && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1))
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

fn with_replacement(stem: &[char], replacement: &str) -> Vec<char> {
    let mut out = stem.to_vec();
    out.extend(replacement.chars());
    out
}

/// NLTK's `_apply_rule_list`: the first rule whose suffix matches decides (applied if its
/// condition holds on the stem, otherwise the word is returned unchanged).
fn apply_rules(word: &[char], rules: &[(Suffix, &str, Cond<'_>)]) -> Vec<char> {
    for &(suffix, replacement, cond) in rules {
        let stem_len = match suffix {
            Suffix::DoubleConsonant if ends_double_consonant(word) => word.len() - 2,
            Suffix::DoubleConsonant => continue,
            Suffix::Lit(s) if ends_with(word, s) => word.len() - s.chars().count(),
            Suffix::Lit(_) => continue,
        };
        let stem = &word[..stem_len];
        return if cond.is_none_or(|c| c(stem)) {
            with_replacement(stem, replacement)
        } else {
            word.to_vec()
        };
    }
    word.to_vec()
}

fn positive(stem: &[char]) -> bool {
    measure(stem) > 0
}

fn step1a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ies") && w.len() == 4 {
        return with_replacement(&w[..1], "ie");
    }
    apply_rules(
        &w,
        &[
            (Suffix::Lit("sses"), "ss", None),
            (Suffix::Lit("ies"), "i", None),
            (Suffix::Lit("ss"), "ss", None),
            (Suffix::Lit("s"), "", None),
        ],
    )
}

fn step1b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ied") {
        let stem = &w[..w.len() - 3];
        return with_replacement(stem, if w.len() == 4 { "ie" } else { "i" });
    }
    if ends_with(&w, "eed") {
        let stem = &w[..w.len() - 3];
        return if measure(stem) > 0 {
            with_replacement(stem, "ee")
        } else {
            w
        };
    }
    let mut intermediate = None;
    for suffix in ["ed", "ing"] {
        if ends_with(&w, suffix) {
            let stem = &w[..w.len() - suffix.len()];
            if contains_vowel(stem) {
                intermediate = Some(stem.to_vec());
                break;
            }
        }
    }
    let Some(stem) = intermediate else { return w };
    let last = stem[stem.len() - 1];
    let last_s = last.to_string();
    let not_lsz = |_: &[char]| !matches!(last, 'l' | 's' | 'z');
    let short = |s: &[char]| measure(s) == 1 && ends_cvc(s);
    let rules: [(Suffix, &str, Cond<'_>); 5] = [
        (Suffix::Lit("at"), "ate", None),
        (Suffix::Lit("bl"), "ble", None),
        (Suffix::Lit("iz"), "ize", None),
        (Suffix::DoubleConsonant, &last_s, Some(&not_lsz)),
        (Suffix::Lit(""), "e", Some(&short)),
    ];
    apply_rules(&stem, &rules)
}

fn step1c(w: Vec<char>) -> Vec<char> {
    let cond = |s: &[char]| s.len() > 1 && is_consonant(s, s.len() - 1);
    apply_rules(&w, &[(Suffix::Lit("y"), "i", Some(&cond))])
}

fn step2(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "alli") && positive(&w[..w.len() - 4]) {
        return step2(with_replacement(&w[..w.len() - 4], "al"));
    }
    let p: &dyn Fn(&[char]) -> bool = &positive;
    let logi_word = w.clone();
    let logi = move |_: &[char]| positive(&logi_word[..logi_word.len() - 3]);
    let rules: [(Suffix, &str, Cond<'_>); 22] = [
        (Suffix::Lit("ational"), "ate", Some(p)),
        (Suffix::Lit("tional"), "tion", Some(p)),
        (Suffix::Lit("enci"), "ence", Some(p)),
        (Suffix::Lit("anci"), "ance", Some(p)),
        (Suffix::Lit("izer"), "ize", Some(p)),
        (Suffix::Lit("bli"), "ble", Some(p)),
        (Suffix::Lit("alli"), "al", Some(p)),
        (Suffix::Lit("entli"), "ent", Some(p)),
        (Suffix::Lit("eli"), "e", Some(p)),
        (Suffix::Lit("ousli"), "ous", Some(p)),
        (Suffix::Lit("ization"), "ize", Some(p)),
        (Suffix::Lit("ation"), "ate", Some(p)),
        (Suffix::Lit("ator"), "ate", Some(p)),
        (Suffix::Lit("alism"), "al", Some(p)),
        (Suffix::Lit("iveness"), "ive", Some(p)),
        (Suffix::Lit("fulness"), "ful", Some(p)),
        (Suffix::Lit("ousness"), "ous", Some(p)),
        (Suffix::Lit("aliti"), "al", Some(p)),
        (Suffix::Lit("iviti"), "ive", Some(p)),
        (Suffix::Lit("biliti"), "ble", Some(p)),
        (Suffix::Lit("fulli"), "ful", Some(p)),
        (Suffix::Lit("logi"), "log", Some(&logi)),
    ];
    apply_rules(&w, &rules)
}

fn step3(w: Vec<char>) -> Vec<char> {
    let p: &dyn Fn(&[char]) -> bool = &positive;
    apply_rules(
        &w,
        &[
            (Suffix::Lit("icate"), "ic", Some(p)),
            (Suffix::Lit("ative"), "", Some(p)),
            (Suffix::Lit("alize"), "al", Some(p)),
            (Suffix::Lit("iciti"), "ic", Some(p)),
            (Suffix::Lit("ical"), "ic", Some(p)),
            (Suffix::Lit("ful"), "", Some(p)),
            (Suffix::Lit("ness"), "", Some(p)),
        ],
    )
}

fn step4(w: Vec<char>) -> Vec<char> {
    let gt1 = |s: &[char]| measure(s) > 1;
    let ion = |s: &[char]| measure(s) > 1 && matches!(s.last(), Some('s' | 't'));
    let g: &dyn Fn(&[char]) -> bool = &gt1;
    let rules: [(Suffix, &str, Cond<'_>); 19] = [
        (Suffix::Lit("al"), "", Some(g)),
        (Suffix::Lit("ance"), "", Some(g)),
        (Suffix::Lit("ence"), "", Some(g)),
        (Suffix::Lit("er"), "", Some(g)),
        (Suffix::Lit("ic"), "", Some(g)),
        (Suffix::Lit("able"), "", Some(g)),
        (Suffix::Lit("ible"), "", Some(g)),
        (Suffix::Lit("ant"), "", Some(g)),
        (Suffix::Lit("ement"), "", Some(g)),
        (Suffix::Lit("ment"), "", Some(g)),
        (Suffix::Lit("ent"), "", Some(g)),
        (Suffix::Lit("ion"), "", Some(&ion)),
        (Suffix::Lit("ou"), "", Some(g)),
        (Suffix::Lit("ism"), "", Some(g)),
        (Suffix::Lit("ate"), "", Some(g)),
        (Suffix::Lit("iti"), "", Some(g)),
        (Suffix::Lit("ous"), "", Some(g)),
        (Suffix::Lit("ive"), "", Some(g)),
        (Suffix::Lit("ize"), "", Some(g)),
    ];
    apply_rules(&w, &rules)
}

fn step5a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "e") {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            return stem.to_vec();
        }
    }
    w
}

fn step5b(w: Vec<char>) -> Vec<char> {
    let word = w.clone();
    let cond = move |_: &[char]| measure(&word[..word.len() - 1]) > 1;
    apply_rules(&w, &[(Suffix::Lit("ll"), "l", Some(&cond))])
}

/// NLTK's irregular forms (`NLTK_EXTENSIONS` mode).
fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "sky" | "skies" => "sky",
        "dying" => "die",
        "lying" => "lie",
        "tying" => "tie",
        "news" => "news",
        "innings" | "inning" => "inning",
        "outings" | "outing" => "outing",
        "cannings" | "canning" => "canning",
        "howe" => "howe",
        "proceed" => "proceed",
        "exceed" => "exceed",
        "succeed" => "succeed",
        _ => return None,
    })
}

/// Stems one word as `nltk.stem.porter.PorterStemmer().stem(word)` does (lower-casing first).
pub fn porter_stem(word: &str) -> String {
    if let Some(s) = irregular(word) {
        return s.to_string();
    }
    let lower = word.to_lowercase();
    if word.chars().count() <= 2 {
        return lower;
    }
    let mut w: Vec<char> = lower.chars().collect();
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    w.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs produced by NLTK 3.10.4 `PorterStemmer()` (default mode).
    const NLTK_PAIRS: &[(&str, &str)] = include!("porter_cases.in");

    #[test]
    fn matches_nltk_on_reference_words() {
        let mut bad = Vec::new();
        for &(w, want) in NLTK_PAIRS {
            let got = porter_stem(w);
            if got != want {
                bad.push(format!("{w}: got {got}, nltk {want}"));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
        assert!(NLTK_PAIRS.len() > 300);
    }

    #[test]
    fn paper_examples() {
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("dying", "die"),
            ("skies", "sky"),
        ] {
            assert_eq!(porter_stem(w), s, "{w}");
        }
    }
}

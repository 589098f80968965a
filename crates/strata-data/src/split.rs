//! Seeded train / validation / test preparation.
//!
//! Policy (defaults in brackets):
//!
//! 1. **Test** is the published test split, untouched: never sampled, filtered or reordered.
//!    Where a task has no test split (yelp), [`MissingTest`] decides: fail with
//!    [`DataError::MissingSplit`] [default], or carve a seeded, stratified held-out test part
//!    out of train ([`MissingTest::HeldOut`], [20% capped at 1000]) and mark it
//!    [`TestSource::HeldOutFromTrain`] so that results carry that fact.
//! 2. **Train** is the published train split. Where it is missing (TRACE MeetingBank),
//!    [`MissingTrain`] decides: fail [default], or train on the published `eval` split
//!    ([`MissingTrain::UseEval`], marked [`TrainSource::EvalSplit`]).
//! 3. **Validation** is carved from train (the sources' dev files equal their test files):
//!    [5%] of train, capped at [500] examples, stratified by label for classification tasks
//!    (largest-remainder allocation over labels in sorted order). Those examples leave train.
//! 4. **Sampling** (optional, [none]) then reduces train to N examples per class or N per
//!    task, seeded. Validation and test are not sampled.
//!
//! Everything is deterministic given [`SplitConfig::seed`] [42]: each step draws from its
//! own stream (seed × task name × purpose, see the `rng` module), so changing one setting
//! does not move the others' selections. Selected examples keep their file order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::loaders::{Example, Split};
use crate::registry::TaskData;
use crate::rng::{shuffle, stream};

/// How to carve validation out of train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValidationConfig {
    /// Fraction of train moved to validation, in `[0, 1)`. Default: `0.05`.
    pub fraction: f64,
    /// Upper bound on the validation size. Default: `500`.
    pub max: usize,
    /// Stratify by label for classification tasks. Default: `true`.
    pub stratify: bool,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            fraction: 0.05,
            max: 500,
            stratify: true,
        }
    }
}

/// How large a held-out test part carved from train is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeldOutConfig {
    /// Fraction of train moved to the held-out test part, in `(0, 1)`. Default: `0.2`.
    pub fraction: f64,
    /// Upper bound on its size. Default: `1000`.
    pub max: usize,
    /// Stratify by label for classification tasks. Default: `true`.
    pub stratify: bool,
}

impl Default for HeldOutConfig {
    fn default() -> Self {
        Self {
            fraction: 0.2,
            max: 1000,
            stratify: true,
        }
    }
}

/// What to do when a task has no published test split.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum MissingTest {
    /// Return [`DataError::MissingSplit`]; the caller may skip the task with that message. Default.
    #[default]
    Fail,
    /// Carve a seeded held-out test part out of train and mark it [`TestSource::HeldOutFromTrain`].
    HeldOut(HeldOutConfig),
}

/// What to do when a task has no published train split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MissingTrain {
    /// Return [`DataError::MissingSplit`]. Default.
    #[default]
    Fail,
    /// Train on the published `eval` split (TRACE), marked [`TrainSource::EvalSplit`].
    UseEval,
}

/// Seeded reduction of the training set for smaller runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sampling {
    /// At most N examples of every label (classification tasks only).
    PerClass(usize),
    /// At most N examples in total, uniformly.
    PerTask(usize),
}

/// All split options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// The seed of every random choice. Default: `42`.
    pub seed: u64,
    /// Validation carving. Default: [`ValidationConfig::default`].
    pub validation: ValidationConfig,
    /// Missing test policy. Default: [`MissingTest::Fail`].
    pub missing_test: MissingTest,
    /// Missing train policy. Default: [`MissingTrain::Fail`].
    pub missing_train: MissingTrain,
    /// Training-set sampling. Default: `None` (all of train).
    pub train_sampling: Option<Sampling>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            validation: ValidationConfig::default(),
            missing_test: MissingTest::Fail,
            missing_train: MissingTrain::Fail,
            train_sampling: None,
        }
    }
}

/// Where the test examples came from; results must carry it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TestSource {
    /// The published test split.
    Published,
    /// Carved from train because the task has no test split.
    HeldOutFromTrain {
        /// The fraction asked for.
        fraction: f64,
        /// The cap.
        max: usize,
        /// The seed used.
        seed: u64,
    },
}

/// Where the training examples came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrainSource {
    /// The published train split.
    Published,
    /// The published eval split, because the task has no train split.
    EvalSplit,
}

/// A task ready for training and evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedTask {
    /// Canonical task name.
    pub name: &'static str,
    /// Training examples (after validation carving and sampling), in file order.
    pub train: Vec<Example>,
    /// Validation examples, in file order.
    pub validation: Vec<Example>,
    /// Test examples: the published split untouched, or the held-out part in file order.
    pub test: Vec<Example>,
    /// Provenance of `test`.
    pub test_source: TestSource,
    /// Provenance of `train`.
    pub train_source: TrainSource,
    /// The label set, where the task has one.
    pub labels: Option<Vec<String>>,
}

fn check_fraction(what: &str, f: f64, allow_zero: bool) -> Result<()> {
    let ok = f.is_finite() && f < 1.0 && (f > 0.0 || (allow_zero && f == 0.0));
    if ok {
        Ok(())
    } else {
        Err(DataError::Config(format!(
            "{what} fraction must be in {}0, 1), got {f}",
            if allow_zero { "[" } else { "(" }
        )))
    }
}

/// The size of a carved part: `round(fraction × n)`, at most `max`.
pub fn carve_size(n: usize, fraction: f64, max: usize) -> usize {
    ((fraction * n as f64).round() as usize).min(max).min(n)
}

/// Chooses `k` of the indices `0..labels.len()`, seeded by `rng`; stratified by label when
/// `stratify` (largest-remainder allocation, labels in sorted order, ties to the earlier
/// label). Returns the chosen indices sorted.
fn choose<R: rand::Rng>(rng: &mut R, labels: &[&str], k: usize, stratify: bool) -> Vec<usize> {
    let n = labels.len();
    let k = k.min(n);
    let mut chosen = Vec::with_capacity(k);
    if stratify && k > 0 && k < n {
        let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, l) in labels.iter().enumerate() {
            by_label.entry(l).or_default().push(i);
        }
        let mut quotas: Vec<(usize, u128)> = by_label
            .values()
            .map(|idx| {
                let exact = (k as u128) * (idx.len() as u128);
                ((exact / n as u128) as usize, exact % n as u128)
            })
            .collect();
        let assigned: usize = quotas.iter().map(|q| q.0).sum();
        let mut order: Vec<usize> = (0..quotas.len()).collect();
        order.sort_by(|&a, &b| quotas[b].1.cmp(&quotas[a].1).then(a.cmp(&b)));
        for &c in order.iter().take(k - assigned) {
            quotas[c].0 += 1;
        }
        for (mut idx, (q, _)) in by_label.into_values().zip(quotas) {
            shuffle(rng, &mut idx);
            chosen.extend_from_slice(&idx[..q]);
        }
    } else {
        let mut idx: Vec<usize> = (0..n).collect();
        shuffle(rng, &mut idx);
        idx.truncate(k);
        chosen = idx;
    }
    chosen.sort_unstable();
    chosen
}

/// Splits `examples` into (rest, carved) where `carved` holds the indices in `chosen` (sorted).
fn partition(examples: Vec<Example>, chosen: &[usize]) -> (Vec<Example>, Vec<Example>) {
    let mut rest = Vec::with_capacity(examples.len() - chosen.len());
    let mut carved = Vec::with_capacity(chosen.len());
    let mut next = chosen.iter().peekable();
    for (i, e) in examples.into_iter().enumerate() {
        if next.peek() == Some(&&i) {
            next.next();
            carved.push(e);
        } else {
            rest.push(e);
        }
    }
    (rest, carved)
}

/// Carves `carve_size(len, fraction, max)` examples out of `examples` for `task`/`purpose`.
/// Returns `(rest, carved)`, both in input order.
pub fn carve(
    examples: Vec<Example>,
    fraction: f64,
    max: usize,
    stratify: bool,
    seed: u64,
    task: &str,
    purpose: &str,
) -> (Vec<Example>, Vec<Example>) {
    let k = carve_size(examples.len(), fraction, max);
    let labels: Vec<&str> = examples.iter().map(|e| e.target.as_str()).collect();
    let chosen = choose(&mut stream(seed, task, purpose), &labels, k, stratify);
    partition(examples, &chosen)
}

/// At most `n` examples of every target label, seeded; input order kept.
pub fn sample_per_class(examples: Vec<Example>, n: usize, seed: u64, task: &str) -> Vec<Example> {
    let mut rng = stream(seed, task, "sampling");
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        by_label.entry(e.target.as_str()).or_default().push(i);
    }
    let mut chosen: Vec<usize> = Vec::new();
    for mut idx in by_label.into_values() {
        shuffle(&mut rng, &mut idx);
        idx.truncate(n);
        chosen.extend(idx);
    }
    chosen.sort_unstable();
    partition(examples, &chosen).1
}

/// At most `n` examples in total, uniformly, seeded; input order kept.
pub fn sample_per_task(examples: Vec<Example>, n: usize, seed: u64, task: &str) -> Vec<Example> {
    let labels: Vec<&str> = vec![""; examples.len()];
    let chosen = choose(&mut stream(seed, task, "sampling"), &labels, n, false);
    partition(examples, &chosen).1
}

/// Prepares train / validation / test of a loaded task according to `cfg` (see the module doc).
///
/// # Errors
/// [`DataError::MissingSplit`] for a missing test (with [`MissingTest::Fail`]) or a missing
/// train (with [`MissingTrain::Fail`], or no eval split to fall back on);
/// [`DataError::Config`] for out-of-range fractions, or per-class sampling of a task that is
/// not a classification task.
pub fn prepare(task: &TaskData, cfg: &SplitConfig) -> Result<PreparedTask> {
    check_fraction("validation", cfg.validation.fraction, true)?;
    if let MissingTest::HeldOut(h) = cfg.missing_test {
        check_fraction("held-out test", h.fraction, false)?;
    }
    let name = task.name();
    let classification = task.spec.classification;

    let (mut train, train_source) = match (task.split(Split::Train), cfg.missing_train) {
        (Ok(s), _) => (s.examples.clone(), TrainSource::Published),
        (Err(_), MissingTrain::UseEval) if task.has(Split::Eval) => (
            task.split(Split::Eval)?.examples.clone(),
            TrainSource::EvalSplit,
        ),
        (Err(e), _) => return Err(e),
    };

    let (test, test_source) = match (task.split(Split::Test), cfg.missing_test) {
        (Ok(s), _) => (s.examples.clone(), TestSource::Published),
        (Err(_), MissingTest::HeldOut(h)) => {
            let (rest, held) = carve(
                train,
                h.fraction,
                h.max,
                h.stratify && classification,
                cfg.seed,
                name,
                "heldout-test",
            );
            train = rest;
            (
                held,
                TestSource::HeldOutFromTrain {
                    fraction: h.fraction,
                    max: h.max,
                    seed: cfg.seed,
                },
            )
        }
        (Err(e), MissingTest::Fail) => return Err(e),
    };

    let v = cfg.validation;
    let (mut train, validation) = carve(
        train,
        v.fraction,
        v.max,
        v.stratify && classification,
        cfg.seed,
        name,
        "validation",
    );

    match cfg.train_sampling {
        None => {}
        Some(Sampling::PerTask(n)) => train = sample_per_task(train, n, cfg.seed, name),
        Some(Sampling::PerClass(n)) => {
            if !classification {
                return Err(DataError::Config(format!(
                    "per-class sampling needs a classification task; \"{name}\" is not one (use per-task sampling)"
                )));
            }
            train = sample_per_class(train, n, cfg.seed, name);
        }
    }

    Ok(PreparedTask {
        name,
        train,
        validation,
        test,
        test_source,
        train_source,
        labels: task.labels.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loaders::{Layout, LoadedSplit};
    use crate::registry::lookup;
    use std::collections::HashSet;
    use std::path::PathBuf;

    fn examples(n: usize, labels: &[&str]) -> Vec<Example> {
        (0..n)
            .map(|i| Example::new(format!("x{i}"), labels[i % labels.len()]))
            .collect()
    }

    fn task(
        name: &str,
        train: Option<Vec<Example>>,
        test: Option<Vec<Example>>,
        eval: Option<Vec<Example>>,
    ) -> TaskData {
        let spec = lookup(name).unwrap();
        let mut splits = BTreeMap::new();
        let mut missing = BTreeMap::new();
        for (split, ex) in [
            (Split::Train, train),
            (Split::Test, test),
            (Split::Eval, eval),
        ] {
            match ex {
                Some(examples) => {
                    splits.insert(
                        split,
                        LoadedSplit {
                            split,
                            path: PathBuf::from("x"),
                            definition: None,
                            examples,
                        },
                    );
                }
                None => {
                    missing.insert(split, vec![PathBuf::from(format!("{split}.json"))]);
                }
            }
        }
        TaskData {
            spec,
            dir: PathBuf::from("d"),
            layout: Layout::OLora,
            labels: None,
            definition: None,
            splits,
            missing,
        }
    }

    fn count(ex: &[Example], label: &str) -> usize {
        ex.iter().filter(|e| e.target == label).count()
    }

    #[test]
    fn validation_is_five_percent_stratified_and_disjoint() {
        // 3000 examples, labels 50% a, 30% b, 20% c.
        let mut ex = Vec::new();
        for i in 0..3000 {
            let l = if i % 10 < 5 {
                "a"
            } else if i % 10 < 8 {
                "b"
            } else {
                "c"
            };
            ex.push(Example::new(format!("x{i}"), l));
        }
        let t = task("mnli", Some(ex), Some(examples(10, &["a"])), None);
        let p = prepare(&t, &SplitConfig::default()).unwrap();
        assert_eq!(p.validation.len(), 150);
        assert_eq!(p.train.len(), 2850);
        assert_eq!(
            (
                count(&p.validation, "a"),
                count(&p.validation, "b"),
                count(&p.validation, "c")
            ),
            (75, 45, 30)
        );
        let v: HashSet<_> = p.validation.iter().map(|e| &e.input).collect();
        assert!(p.train.iter().all(|e| !v.contains(&e.input)));
        assert_eq!(p.test_source, TestSource::Published);
        assert_eq!(p.test.len(), 10);
    }

    #[test]
    fn validation_is_capped_at_500() {
        let t = task(
            "dbpedia",
            Some(examples(20_000, &["a", "b"])),
            Some(vec![]),
            None,
        );
        let p = prepare(&t, &SplitConfig::default()).unwrap();
        assert_eq!(p.validation.len(), 500);
        assert_eq!(p.train.len(), 19_500);
    }

    #[test]
    fn deterministic_given_the_seed_and_different_across_seeds() {
        let t = task(
            "agnews",
            Some(examples(1000, &["a", "b", "c", "d"])),
            Some(vec![]),
            None,
        );
        let a = prepare(&t, &SplitConfig::default()).unwrap();
        let b = prepare(&t, &SplitConfig::default()).unwrap();
        let c = prepare(
            &t,
            &SplitConfig {
                seed: 7,
                ..SplitConfig::default()
            },
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a.validation, c.validation);
    }

    #[test]
    fn selections_keep_file_order() {
        let t = task(
            "agnews",
            Some(examples(400, &["a", "b"])),
            Some(vec![]),
            None,
        );
        let p = prepare(&t, &SplitConfig::default()).unwrap();
        let idx = |e: &Example| e.input[1..].parse::<usize>().unwrap();
        assert!(p.validation.windows(2).all(|w| idx(&w[0]) < idx(&w[1])));
        assert!(p.train.windows(2).all(|w| idx(&w[0]) < idx(&w[1])));
    }

    #[test]
    fn missing_test_fails_by_default_and_held_out_is_marked() {
        let t = task(
            "yelp",
            Some(examples(5000, &["a", "b", "c", "d", "e"])),
            None,
            None,
        );
        let err = prepare(&t, &SplitConfig::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::MissingSplit {
                    split: Split::Test,
                    ..
                }
            ),
            "{err:?}"
        );
        let cfg = SplitConfig {
            missing_test: MissingTest::HeldOut(HeldOutConfig::default()),
            ..SplitConfig::default()
        };
        let p = prepare(&t, &cfg).unwrap();
        assert_eq!(p.test.len(), 1000);
        assert_eq!(count(&p.test, "a"), 200);
        assert_eq!(p.validation.len(), 200); // 5% of the remaining 4000
        assert_eq!(p.train.len(), 3800);
        assert_eq!(
            p.test_source,
            TestSource::HeldOutFromTrain {
                fraction: 0.2,
                max: 1000,
                seed: 42
            }
        );
        let t_in: HashSet<_> = p.test.iter().map(|e| &e.input).collect();
        assert!(
            p.train
                .iter()
                .chain(&p.validation)
                .all(|e| !t_in.contains(&e.input))
        );
    }

    #[test]
    fn held_out_test_does_not_move_when_validation_changes() {
        let t = task("yelp", Some(examples(2000, &["a", "b"])), None, None);
        let mut cfg = SplitConfig {
            missing_test: MissingTest::HeldOut(HeldOutConfig::default()),
            ..SplitConfig::default()
        };
        let a = prepare(&t, &cfg).unwrap();
        cfg.validation.fraction = 0.1;
        let b = prepare(&t, &cfg).unwrap();
        assert_eq!(a.test, b.test);
        assert_ne!(a.validation.len(), b.validation.len());
    }

    #[test]
    fn published_test_is_never_touched() {
        let test = examples(333, &["a", "b", "c"]);
        let t = task(
            "agnews",
            Some(examples(1000, &["a", "b", "c"])),
            Some(test.clone()),
            None,
        );
        let cfg = SplitConfig {
            train_sampling: Some(Sampling::PerClass(5)),
            ..SplitConfig::default()
        };
        let p = prepare(&t, &cfg).unwrap();
        assert_eq!(p.test, test);
        assert_eq!(p.train.len(), 15);
        assert_eq!(count(&p.train, "b"), 5);
    }

    #[test]
    fn missing_train_fails_or_uses_eval() {
        let t = task(
            "MeetingBank",
            None,
            Some(examples(100, &["s"])),
            Some(examples(100, &["s"])),
        );
        let err = prepare(&t, &SplitConfig::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DataError::MissingSplit {
                    split: Split::Train,
                    ..
                }
            ),
            "{err:?}"
        );
        let cfg = SplitConfig {
            missing_train: MissingTrain::UseEval,
            ..SplitConfig::default()
        };
        let p = prepare(&t, &cfg).unwrap();
        assert_eq!(p.train_source, TrainSource::EvalSplit);
        assert_eq!(p.train.len() + p.validation.len(), 100);
    }

    #[test]
    fn sampling_per_task_and_per_class_rules() {
        let t = task(
            "MeetingBank",
            Some(examples(300, &["s1", "s2"])),
            Some(vec![]),
            None,
        );
        let cfg = SplitConfig {
            train_sampling: Some(Sampling::PerTask(50)),
            ..SplitConfig::default()
        };
        assert_eq!(prepare(&t, &cfg).unwrap().train.len(), 50);
        let cfg = SplitConfig {
            train_sampling: Some(Sampling::PerClass(5)),
            ..SplitConfig::default()
        };
        assert!(matches!(prepare(&t, &cfg), Err(DataError::Config(_))));
        let ex = examples(10, &["a", "a", "b"]);
        let s = sample_per_class(ex.clone(), 100, 1, "t");
        assert_eq!(s, ex, "asking for more than there is keeps everything");
    }

    #[test]
    fn fractions_are_checked() {
        let t = task("agnews", Some(examples(10, &["a"])), Some(vec![]), None);
        let mut cfg = SplitConfig::default();
        cfg.validation.fraction = 1.0;
        assert!(matches!(prepare(&t, &cfg), Err(DataError::Config(_))));
        cfg.validation.fraction = 0.0;
        assert_eq!(prepare(&t, &cfg).unwrap().validation.len(), 0);
        cfg.missing_test = MissingTest::HeldOut(HeldOutConfig {
            fraction: 0.0,
            ..HeldOutConfig::default()
        });
        assert!(matches!(prepare(&t, &cfg), Err(DataError::Config(_))));
    }

    #[test]
    fn stratified_allocation_sums_exactly() {
        // 7 labels with uneven counts; k must come out exact and every quota within its class.
        let mut labels = Vec::new();
        for (l, c) in [
            ("a", 1),
            ("b", 2),
            ("c", 3),
            ("d", 50),
            ("e", 7),
            ("f", 11),
            ("g", 13),
        ] {
            labels.extend(std::iter::repeat_n(l, c));
        }
        for k in 0..=labels.len() {
            let chosen = choose(&mut stream(1, "t", "v"), &labels, k, true);
            assert_eq!(chosen.len(), k);
            let distinct: HashSet<_> = chosen.iter().collect();
            assert_eq!(distinct.len(), k);
        }
    }

    #[test]
    fn carve_size_rounds_and_caps() {
        assert_eq!(carve_size(250, 0.05, 500), 13);
        assert_eq!(carve_size(10_943, 0.05, 500), 500);
        assert_eq!(carve_size(5, 0.05, 500), 0);
        assert_eq!(carve_size(3, 0.9, 500), 3);
    }
}

//! Integration tests on the real shared data (`<workspace>/../shared/data`).
//! Each test prints a skip message and returns when that directory is absent.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use strata_data::prompt::{PromptConfig, PromptStyle, Prompter};
use strata_data::registry::Source;
use strata_data::split::{HeldOutConfig, MissingTest, MissingTrain, SplitConfig, prepare};
use strata_data::{
    Benchmark, DataError, Example, Registry, Split, TaskData, TestSource, metrics, orders, tasks,
};

fn registry() -> Option<Registry> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if root.is_dir() {
        Some(Registry::new(root))
    } else {
        eprintln!("SKIP: shared data not found at {}", root.display());
        None
    }
}

/// Every registered task, loaded once (in parallel) and shared by the tests.
fn all_tasks(reg: &Registry) -> &'static BTreeMap<&'static str, TaskData> {
    static ALL: OnceLock<BTreeMap<&'static str, TaskData>> = OnceLock::new();
    ALL.get_or_init(|| {
        let names: Vec<&str> = tasks().iter().map(|t| t.name).collect();
        reg.load_tasks(&names)
            .unwrap()
            .into_iter()
            .map(|t| (t.name(), t))
            .collect()
    })
}

/// A task from the shared cache, by any accepted name.
fn task(reg: &Registry, name: &str) -> &'static TaskData {
    &all_tasks(reg)[strata_data::lookup(name).unwrap().name]
}

macro_rules! registry_or_skip {
    () => {
        match registry() {
            Some(r) => r,
            None => return,
        }
    };
}

/// (task, train, test) from the data README; `None`: no such split.
const CL_COUNTS: &[(&str, usize, Option<usize>)] = &[
    ("agnews", 4000, Some(7600)),
    ("amazon", 5000, Some(7600)),
    ("dbpedia", 10943, Some(7600)),
    ("yahoo", 9295, Some(7600)),
    ("yelp", 5000, None),
    ("imdb", 2000, Some(7600)),
    ("sst2", 2000, Some(872)),
    ("mnli", 3000, Some(7600)),
    ("cb", 250, Some(56)),
    ("rte", 2000, Some(277)),
    ("qqp", 2000, Some(7600)),
    ("boolq", 2000, Some(3270)),
    ("copa", 400, Some(100)),
    ("multirc", 2000, Some(4848)),
    ("wic", 2000, Some(638)),
];

#[test]
fn cl_benchmark_counts_match_the_readme_and_load_fast() {
    let reg = registry_or_skip!();
    let names: Vec<&str> = CL_COUNTS.iter().map(|c| c.0).collect();
    let start = Instant::now();
    let loaded = reg.load_tasks(&names).unwrap();
    let elapsed = start.elapsed();
    eprintln!("loaded all 15 CL_Benchmark tasks in {elapsed:?}");
    assert!(
        elapsed.as_secs_f64() < 10.0,
        "loading CL_Benchmark took {elapsed:?}"
    );
    for (task, &(name, train, test)) in loaded.iter().zip(CL_COUNTS) {
        assert_eq!(task.name(), name);
        assert_eq!(
            task.examples(Split::Train).unwrap().len(),
            train,
            "{name} train"
        );
        match test {
            Some(n) => assert_eq!(task.examples(Split::Test).unwrap().len(), n, "{name} test"),
            None => assert!(
                matches!(task.split(Split::Test), Err(DataError::MissingSplit { .. })),
                "{name}"
            ),
        }
        assert!(
            task.labels.as_ref().is_some_and(|l| !l.is_empty()),
            "{name} labels"
        );
    }
}

#[test]
fn every_target_is_in_the_label_set_except_mnli_dashes() {
    let reg = registry_or_skip!();
    for &(name, ..) in CL_COUNTS {
        let task = task(&reg, name);
        let labels: HashSet<&str> = task
            .labels
            .as_ref()
            .unwrap()
            .iter()
            .map(String::as_str)
            .collect();
        for (split, s) in &task.splits {
            let outside: BTreeMap<&str, usize> = s
                .examples
                .iter()
                .filter(|e| !labels.contains(e.target.as_str()))
                .fold(BTreeMap::new(), |mut m, e| {
                    *m.entry(e.target.as_str()).or_default() += 1;
                    m
                });
            if task.name() == "mnli" && *split == Split::Test {
                assert_eq!(outside, BTreeMap::from([("-", 131)]));
            } else {
                assert!(
                    outside.is_empty(),
                    "{} {split}: labels outside labels.json: {outside:?}",
                    task.name()
                );
            }
        }
    }
}

#[test]
fn yelp_test_and_meetingbank_train_are_missing_splits() {
    let reg = registry_or_skip!();
    let err = reg.load_split("yelp", Split::Test).unwrap_err();
    match &err {
        DataError::MissingSplit {
            task,
            split,
            looked_for,
        } => {
            assert_eq!((task.as_str(), *split), ("yelp", Split::Test));
            assert!(
                looked_for[0].ends_with("CL_Benchmark/SC/yelp/test.json"),
                "{looked_for:?}"
            );
            assert!(
                looked_for[1].ends_with("CL_Benchmark/SC/yelp/test.json.gz"),
                "{looked_for:?}"
            );
        }
        other => panic!("expected MissingSplit, got {other:?}"),
    }
    let mb = task(&reg, "MeetingBank");
    assert!(matches!(
        mb.split(Split::Train),
        Err(DataError::MissingSplit {
            split: Split::Train,
            ..
        })
    ));
    assert_eq!(mb.examples(Split::Test).unwrap().len(), 100);
    // The default split policy refuses; the opt-in policies proceed and say so.
    assert!(matches!(
        prepare(mb, &SplitConfig::default()),
        Err(DataError::MissingSplit { .. })
    ));
    let p = prepare(
        mb,
        &SplitConfig {
            missing_train: MissingTrain::UseEval,
            ..SplitConfig::default()
        },
    )
    .unwrap();
    assert_eq!(p.train.len() + p.validation.len(), 100);
}

#[test]
fn yelp_held_out_test_is_carved_from_train_and_marked() {
    let reg = registry_or_skip!();
    let yelp = task(&reg, "yelp");
    let cfg = SplitConfig {
        missing_test: MissingTest::HeldOut(HeldOutConfig::default()),
        ..SplitConfig::default()
    };
    let p = prepare(yelp, &cfg).unwrap();
    assert_eq!(p.test.len(), 1000);
    assert_eq!(p.validation.len(), 200);
    assert_eq!(p.train.len(), 3800);
    assert!(matches!(
        p.test_source,
        TestSource::HeldOutFromTrain { seed: 42, .. }
    ));
    assert_eq!(prepare(yelp, &cfg).unwrap(), p, "deterministic");
}

#[test]
fn agnews_split_defaults() {
    let reg = registry_or_skip!();
    let t = task(&reg, "agnews");
    let p = prepare(t, &SplitConfig::default()).unwrap();
    assert_eq!(p.validation.len(), 200);
    assert_eq!(p.train.len(), 3800);
    assert_eq!(p.test, t.examples(Split::Test).unwrap(), "test untouched");
    assert_eq!(p.test_source, TestSource::Published);
}

#[test]
fn every_task_of_every_order_resolves_and_exists_on_disk() {
    let reg = registry_or_skip!();
    for o in orders() {
        for spec in o.resolve().unwrap() {
            assert!(
                reg.root().join(spec.dir).is_dir(),
                "{}: {} has no directory {}",
                o.name,
                spec.name,
                spec.dir
            );
        }
    }
}

#[test]
fn superni_and_trace_load_with_expected_counts() {
    let reg = registry_or_skip!();
    let counts: &[(&str, usize, usize)] = &[
        ("task1572", 160, 20),
        ("task1590", 126, 16),
        ("task181", 338, 43),
        ("task639", 142, 18),
        ("task073", 975, 100),
        ("task002", 1000, 100),
        ("task875", 1000, 100),
    ];
    for &(name, train, test) in counts {
        let t = task(&reg, name);
        assert_eq!(t.examples(Split::Train).unwrap().len(), train, "{name}");
        assert_eq!(t.examples(Split::Test).unwrap().len(), test, "{name}");
        assert!(
            t.definition.as_ref().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
        assert!(
            t.examples(Split::Test)
                .unwrap()
                .iter()
                .all(|e| e.id.as_deref().is_some_and(|i| i.starts_with("task")))
        );
    }
    // task002 keeps every reference: 17 of its 100 test instances have more than one.
    let t = task(&reg, "task002");
    let multi = t
        .examples(Split::Test)
        .unwrap()
        .iter()
        .filter(|e| !e.alternatives.is_empty())
        .count();
    assert_eq!(multi, 17);
    for name in [
        "C-STANCE",
        "FOMC",
        "Py150",
        "ScienceQA",
        "NumGLUE-ds",
        "20Minuten",
    ] {
        let t = task(&reg, name);
        let n: Vec<usize> = [Split::Train, Split::Eval, Split::Test]
            .iter()
            .map(|&s| t.examples(s).unwrap().len())
            .collect();
        assert_eq!(n, vec![500, 100, 100], "{name}");
    }
    let t = task(&reg, "NumGLUE-cm");
    assert_eq!(t.examples(Split::Eval).unwrap().len(), 41);
    assert_eq!(t.examples(Split::Test).unwrap().len(), 81);
    assert_eq!(t.examples(Split::Train).unwrap()[0].target, "17.48");
}

#[test]
fn every_registered_task_loads() {
    let reg = registry_or_skip!();
    let all = all_tasks(&reg);
    assert_eq!(all.len(), tasks().len());
    for t in all.values() {
        assert!(!t.splits.is_empty(), "{}", t.name());
        assert!(
            t.splits.values().all(|s| !s.examples.is_empty()),
            "{}",
            t.name()
        );
        let expected_missing: Vec<Split> = match t.name() {
            "yelp" => vec![Split::Test],
            "MeetingBank" => vec![Split::Train],
            _ => vec![],
        };
        assert_eq!(
            t.missing_splits().collect::<Vec<_>>(),
            expected_missing,
            "{}",
            t.name()
        );
    }
}

#[test]
fn long_sequence_copies_equal_cl_benchmark() {
    let reg = registry_or_skip!();
    for name in ["cb", "copa", "rte", "sst2", "wic"] {
        let a = task(&reg, name);
        let b = reg.load_task_from(name, Source::LongSequence).unwrap();
        for split in [Split::Train, Split::Test] {
            assert_eq!(
                a.examples(split).unwrap(),
                b.examples(split).unwrap(),
                "{name} {split}"
            );
        }
        assert_eq!(a.labels, b.labels, "{name}");
        assert!(b.definition.is_some());
    }
}

#[test]
fn olora_prompts_equal_the_expected_strings() {
    let reg = registry_or_skip!();
    let p = Prompter::from_registry(&reg, PromptConfig::default()).unwrap();
    let mnli = task(&reg, "mnli");
    let e = &mnli.examples(Split::Train).unwrap()[0];
    assert_eq!(e.target, "neutral");
    assert_eq!(
        p.render(mnli, e).unwrap(),
        "Task:NLI\nDataset:MNLI\nWhat is the logical relationship between the \"sentence 1\" and the \"sentence 2\"? \
         Choose one from the option.\nOption: neutral, entailment, contradiction \nsentence 1: You are not being rude.\n\
         sentence 2: You think before you speak.\nAnswer:"
    );
    let sst2 = task(&reg, "SST-2");
    let e = &sst2.examples(Split::Train).unwrap()[0];
    assert_eq!(
        p.render(sst2, e).unwrap(),
        "Task:SC\nDataset:SST-2\nWhat is the sentiment of the following paragraph? Choose one from the option.\n\
         Option: Good, Bad \nText: does n't deserve a passing grade ( even on a curve ) . \nAnswer:"
    );
    let copa = task(&reg, "copa");
    let e = &copa.examples(Split::Test).unwrap()[0];
    assert_eq!(
        p.render(copa, e).unwrap(),
        "Task:COPA\nDataset:COPA\nWhich sentence is the effect of \"The man turned on the faucet.\"? Choose one between \
         A and B.\nA: The toilet filled with water.\nB: Water flowed from the spout.\nAnswer:"
    );
    // Every CL_Benchmark task gets an O-LoRA prompt (every task type has an instruction).
    for (name, ..) in CL_COUNTS {
        let t = task(&reg, name);
        let e = &t.examples(Split::Train).unwrap()[0];
        let prompt = p.render(t, e).unwrap();
        assert!(prompt.starts_with(&format!(
            "Task:{}\nDataset:{}\n",
            t.spec.task_type,
            t.spec.dataset_name()
        )));
        assert!(prompt.ends_with(&format!("{}\nAnswer:", e.input)));
    }
}

#[test]
fn gainlora_superni_and_raw_prompts_equal_the_expected_strings() {
    let reg = registry_or_skip!();
    let g = Prompter::from_registry(&reg, PromptConfig::with_style(PromptStyle::GainLora)).unwrap();
    // mnli is not in Long_Sequence/: the definition comes from definitions.json.
    let mnli = task(&reg, "mnli");
    assert_eq!(
        g.render(mnli, &mnli.examples(Split::Train).unwrap()[0])
            .unwrap(),
        "What is the logical relationship (contradiction, entailment or neutral) between the \"sentence 1\" and the \
         \"sentence 2\"? Choose one from the option.\nsentence 1: You are not being rude.\nsentence 2: You think before \
         you speak.\nOutput: "
    );
    // cb from Long_Sequence/: the definition comes from the file; both routes agree.
    let cb_long = reg.load_task_from("cb", Source::LongSequence).unwrap();
    let cb = task(&reg, "cb");
    let e = &cb_long.examples(Split::Test).unwrap()[0];
    let expected = "Given a pair of sentences 1 and 2, identify the relationship between them.\nsentence 1: Valence the \
                    void-brain, Valence the virtuous valet. Why couldn't the figger choose his own portion of titanic \
                    anatomy to shaft? Did he think he was helping?\nsentence 2: Valence was helping\nOutput: ";
    assert_eq!(g.render(&cb_long, e).unwrap(), expected);
    assert_eq!(g.render(cb, e).unwrap(), expected);
    // copa's definition is empty.
    let copa = task(&reg, "copa");
    let e = &copa.examples(Split::Test).unwrap()[0];
    assert_eq!(g.render(copa, e).unwrap(), format!("{}\nOutput: ", e.input));

    let s = Prompter::from_registry(&reg, PromptConfig::with_style(PromptStyle::SuperNi)).unwrap();
    let t = task(&reg, "task363");
    assert_eq!(
        s.render(t, &t.examples(Split::Test).unwrap()[0]).unwrap(),
        "Definition: In this task, you are given sentences from movie reviews. The task is to classify a sentence as \
         \"POS\" if the sentiment of the sentence is positive or as \"NEG\" if the sentiment of the sentence is \
         negative\n\nNow complete the following example -\nInput: Making such a tragedy the backdrop to a love story \
         risks trivializing it , though Chouraqui no doubt intended the film to affirm love 's power to help people \
         endure almost unimaginable horror .\nOutput: "
    );

    let r = Prompter::from_registry(&reg, PromptConfig::with_style(PromptStyle::Raw)).unwrap();
    let t = task(&reg, "NumGLUE-cm");
    let e = &t.examples(Split::Train).unwrap()[0];
    assert_eq!(
        r.render(t, e).unwrap(),
        "Solve the following math problem.\nQuestion:\nJason runs at a constant speed of 460 m/s. How many km can he \
         cover in 38 seconds\nAnswer:"
    );
}

#[test]
fn default_prompt_style_renders_every_task_of_every_order() {
    let reg = registry_or_skip!();
    let prompters: BTreeMap<&str, Prompter> = [
        ("cl", Benchmark::ClBenchmark),
        ("ni", Benchmark::SuperNi),
        ("trace", Benchmark::Trace),
    ]
    .into_iter()
    .map(|(k, b)| {
        (
            k,
            Prompter::from_registry(&reg, PromptConfig::with_style(PromptStyle::default_for(b)))
                .unwrap(),
        )
    })
    .collect();
    for o in orders() {
        for spec in o.resolve().unwrap() {
            let t = task(&reg, spec.name);
            let p = &prompters[match spec.benchmark {
                Benchmark::ClBenchmark => "cl",
                Benchmark::SuperNi => "ni",
                Benchmark::Trace => "trace",
            }];
            let split = t.splits.values().next().unwrap();
            p.render(t, &split.examples[0])
                .unwrap_or_else(|e| panic!("{}: {e}", o.name));
        }
    }
}

#[test]
fn gold_targets_score_perfectly() {
    let reg = registry_or_skip!();
    for name in ["agnews", "task002", "task1290", "FOMC"] {
        let t = task(&reg, name);
        let ex: &[Example] = t.examples(Split::Test).unwrap();
        let preds: Vec<String> = ex.iter().map(|e| e.target.clone()).collect();
        let score = metrics::corpus_score(t.spec.metric, &preds, ex).unwrap();
        assert!((score - 100.0).abs() < 1e-9, "{name}: {score}");
    }
}

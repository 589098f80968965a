//! The task registry: every task's name, benchmark, type, metric, directory and layout, and
//! loading a task's splits (and label set) from a data root.
//!
//! Names are matched leniently: case-insensitively and ignoring `-`, `_` and spaces, against
//! the canonical name and the aliases. So the task orders' lowercase names (`mnli`, `boolq`,
//! `sst2`), the directory names (`MNLI`, `BoolQA`, `SST-2`) and SuperNI's short ids
//! (`task1572`) all resolve.
//!
//! Data paths are configuration: a [`Registry`] is built on a data root (the directory that
//! holds `CL_Benchmark/`, `Long_Sequence/`, `SuperNI/`, `TRACE/`). [`Registry::discover`]
//! finds `$STRATA_DATA_DIR` or a `shared/data` directory above the working directory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::loaders::{Example, Layout, LoadedSplit, Split, load_labels, load_split};

/// Environment variable naming the data root for [`Registry::discover`].
pub const DATA_DIR_ENV: &str = "STRATA_DATA_DIR";

/// Which benchmark collection a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Benchmark {
    /// O-LoRA's CL_Benchmark: the 4 Standard tasks and the 15 Long-Sequence tasks.
    ClBenchmark,
    /// The 15 SuperNI tasks of GainLoRA (SAPT's selection).
    SuperNi,
    /// TRACE, 500-example version.
    Trace,
}

impl fmt::Display for Benchmark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Benchmark::ClBenchmark => "CL_Benchmark",
            Benchmark::SuperNi => "SuperNI",
            Benchmark::Trace => "TRACE",
        })
    }
}

/// The kind of task. For CL_Benchmark these are O-LoRA's task types, whose names
/// ([`TaskType::as_str`]) appear in the O-LoRA prompt (`Task:SC`) and key its instruction file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskType {
    /// Sentiment classification (amazon, yelp, IMDB, SST-2).
    Sc,
    /// Topic classification (agnews, dbpedia, yahoo).
    Tc,
    /// Natural-language inference (MNLI, CB, RTE).
    Nli,
    /// Paraphrase detection (QQP).
    Qqp,
    /// Boolean question answering (BoolQ).
    BoolQa,
    /// Choice of plausible alternatives (COPA).
    Copa,
    /// Multi-sentence reading comprehension (MultiRC).
    MultiRc,
    /// Word in context (WiC).
    Wic,
    /// Question answering (SuperNI).
    QuestionAnswering,
    /// Summarisation (SuperNI, TRACE MeetingBank).
    Summarization,
    /// Information extraction (SuperNI).
    InformationExtraction,
    /// Dialogue generation (SuperNI).
    DialogueGeneration,
    /// Sentiment analysis (SuperNI).
    SentimentAnalysis,
    /// Multiple choice answered by a letter (TRACE C-STANCE, FOMC, ScienceQA).
    MultipleChoice,
    /// Code completion (TRACE Py150).
    CodeCompletion,
    /// Arithmetic word problems (TRACE NumGLUE).
    Math,
    /// Text simplification (TRACE 20Minuten).
    Simplification,
    /// General instruction following (TRACE Lima).
    Instruction,
}

impl TaskType {
    /// The name used in prompts and instruction files: O-LoRA's `SC`, `TC`, `NLI`, `QQP`,
    /// `BoolQA`, `COPA`, `MultiRC`, `WiC` for CL_Benchmark; a descriptive name otherwise.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::Sc => "SC",
            TaskType::Tc => "TC",
            TaskType::Nli => "NLI",
            TaskType::Qqp => "QQP",
            TaskType::BoolQa => "BoolQA",
            TaskType::Copa => "COPA",
            TaskType::MultiRc => "MultiRC",
            TaskType::Wic => "WiC",
            TaskType::QuestionAnswering => "QuestionAnswering",
            TaskType::Summarization => "Summarization",
            TaskType::InformationExtraction => "InformationExtraction",
            TaskType::DialogueGeneration => "DialogueGeneration",
            TaskType::SentimentAnalysis => "SentimentAnalysis",
            TaskType::MultipleChoice => "MultipleChoice",
            TaskType::CodeCompletion => "CodeCompletion",
            TaskType::Math => "Math",
            TaskType::Simplification => "Simplification",
            TaskType::Instruction => "Instruction",
        }
    }
}

impl fmt::Display for TaskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a task is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Exact match after normalisation ([`crate::metrics::normalize_answer`]); the
    /// classification metric of O-LoRA / GainLoRA ("accuracy" in their tables).
    ExactMatch,
    /// ROUGE-L F-measure, best over the references ([`crate::metrics::rouge_l`]).
    RougeL,
    /// Accuracy of multiple-choice / numeric answers (TRACE). Scored as exact match after
    /// normalisation; TRACE's own script compares raw strings.
    Accuracy,
    /// Edit similarity (TRACE Py150, fuzzywuzzy ratio). Not implemented here.
    EditSimilarity,
    /// SARI (TRACE 20Minuten). Not implemented here.
    Sari,
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metric::ExactMatch => "exact-match",
            Metric::RougeL => "rouge-l",
            Metric::Accuracy => "accuracy",
            Metric::EditSimilarity => "edit-similarity",
            Metric::Sari => "sari",
        })
    }
}

/// The static description of one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpec {
    /// Canonical name (the name used in the task orders).
    pub name: &'static str,
    /// Other accepted names (directory names, short ids).
    pub aliases: &'static [&'static str],
    /// The benchmark collection.
    pub benchmark: Benchmark,
    /// The task type.
    pub task_type: TaskType,
    /// The metric.
    pub metric: Metric,
    /// The task's directory, relative to the data root.
    pub dir: &'static str,
    /// The layout of `dir`.
    pub layout: Layout,
    /// Whether targets are drawn from a small label set (drives stratified splitting).
    pub classification: bool,
    /// The same task in GainLoRA's layout, where the data root has it (`Long_Sequence/<task>`).
    pub long_sequence_dir: Option<&'static str>,
}

impl TaskSpec {
    /// The dataset name shown in O-LoRA prompts (`Dataset:<name>`): the directory's last component.
    pub fn dataset_name(&self) -> &'static str {
        self.dir.rsplit('/').next().unwrap_or(self.dir)
    }
}

macro_rules! cl {
    ($name:literal, [$($alias:literal),*], $ty:ident, $dir:literal, $long:expr) => {
        TaskSpec {
            name: $name,
            aliases: &[$($alias),*],
            benchmark: Benchmark::ClBenchmark,
            task_type: TaskType::$ty,
            metric: Metric::ExactMatch,
            dir: $dir,
            layout: Layout::OLora,
            classification: true,
            long_sequence_dir: $long,
        }
    };
}

macro_rules! ni {
    ($name:literal, $short:literal, $ty:ident, $cls:expr) => {
        TaskSpec {
            name: $name,
            aliases: &[$short],
            benchmark: Benchmark::SuperNi,
            task_type: TaskType::$ty,
            metric: Metric::RougeL,
            dir: concat!("SuperNI/", $name),
            layout: Layout::SuperNi,
            classification: $cls,
            long_sequence_dir: None,
        }
    };
}

macro_rules! trace {
    ($name:literal, $ty:ident, $metric:ident, $cls:expr) => {
        TaskSpec {
            name: $name,
            aliases: &[],
            benchmark: Benchmark::Trace,
            task_type: TaskType::$ty,
            metric: Metric::$metric,
            dir: concat!("TRACE/", $name),
            layout: Layout::Trace,
            classification: $cls,
            long_sequence_dir: None,
        }
    };
}

/// Every registered task.
static TASKS: &[TaskSpec] = &[
    // CL_Benchmark (O-LoRA layout). Canonical names are the task orders' names.
    cl!("agnews", [], Tc, "CL_Benchmark/TC/agnews", None),
    cl!("amazon", [], Sc, "CL_Benchmark/SC/amazon", None),
    cl!("dbpedia", [], Tc, "CL_Benchmark/TC/dbpedia", None),
    cl!("yahoo", [], Tc, "CL_Benchmark/TC/yahoo", None),
    cl!("yelp", [], Sc, "CL_Benchmark/SC/yelp", None),
    cl!("imdb", [], Sc, "CL_Benchmark/SC/IMDB", None),
    cl!(
        "sst2",
        ["SST-2"],
        Sc,
        "CL_Benchmark/SC/SST-2",
        Some("Long_Sequence/sst2")
    ),
    cl!("mnli", [], Nli, "CL_Benchmark/NLI/MNLI", None),
    cl!(
        "cb",
        [],
        Nli,
        "CL_Benchmark/NLI/CB",
        Some("Long_Sequence/cb")
    ),
    cl!(
        "rte",
        [],
        Nli,
        "CL_Benchmark/NLI/RTE",
        Some("Long_Sequence/rte")
    ),
    cl!("qqp", [], Qqp, "CL_Benchmark/QQP/QQP", None),
    cl!(
        "boolq",
        ["BoolQA"],
        BoolQa,
        "CL_Benchmark/BoolQA/BoolQA",
        None
    ),
    cl!(
        "copa",
        [],
        Copa,
        "CL_Benchmark/COPA/COPA",
        Some("Long_Sequence/copa")
    ),
    cl!("multirc", [], MultiRc, "CL_Benchmark/MultiRC/MultiRC", None),
    cl!(
        "wic",
        [],
        Wic,
        "CL_Benchmark/WiC/WiC",
        Some("Long_Sequence/wic")
    ),
    // SuperNI: types follow SAPT's grouping of the 15 tasks; all scored with ROUGE-L.
    ni!(
        "task002_quoref_answer_generation",
        "task002",
        QuestionAnswering,
        false
    ),
    ni!(
        "task073_commonsenseqa_answer_generation",
        "task073",
        QuestionAnswering,
        false
    ),
    ni!(
        "task591_sciq_answer_generation",
        "task591",
        QuestionAnswering,
        false
    ),
    ni!(
        "task1290_xsum_summarization",
        "task1290",
        Summarization,
        false
    ),
    ni!("task1572_samsum_summary", "task1572", Summarization, false),
    ni!(
        "task511_reddit_tifu_long_text_summarization",
        "task511",
        Summarization,
        false
    ),
    ni!(
        "task181_outcome_extraction",
        "task181",
        InformationExtraction,
        false
    ),
    ni!(
        "task748_glucose_reverse_cause_event_detection",
        "task748",
        InformationExtraction,
        false
    ),
    ni!(
        "task1510_evalution_relation_extraction",
        "task1510",
        InformationExtraction,
        false
    ),
    ni!(
        "task639_multi_woz_user_utterance_generation",
        "task639",
        DialogueGeneration,
        false
    ),
    ni!(
        "task1590_diplomacy_text_generation",
        "task1590",
        DialogueGeneration,
        false
    ),
    ni!(
        "task1729_personachat_generate_next",
        "task1729",
        DialogueGeneration,
        false
    ),
    ni!(
        "task363_sst2_polarity_classification",
        "task363",
        SentimentAnalysis,
        true
    ),
    ni!(
        "task875_emotion_classification",
        "task875",
        SentimentAnalysis,
        true
    ),
    ni!(
        "task1687_sentiment140_classification",
        "task1687",
        SentimentAnalysis,
        true
    ),
    // TRACE. Lima is general instruction data (not in the TRACE order); it is registered
    // for completeness and would be scored with ROUGE-L if scored at all.
    trace!("C-STANCE", MultipleChoice, Accuracy, true),
    trace!("FOMC", MultipleChoice, Accuracy, true),
    trace!("MeetingBank", Summarization, RougeL, false),
    trace!("Py150", CodeCompletion, EditSimilarity, false),
    trace!("ScienceQA", MultipleChoice, Accuracy, false),
    trace!("NumGLUE-cm", Math, Accuracy, false),
    trace!("NumGLUE-ds", Math, Accuracy, false),
    trace!("20Minuten", Simplification, Sari, false),
    trace!("Lima", Instruction, RougeL, false),
];

/// Every registered task, CL_Benchmark first, then SuperNI, then TRACE.
pub fn tasks() -> &'static [TaskSpec] {
    TASKS
}

/// Lower-cases and drops `-`, `_` and whitespace, so `SST-2` and `sst2` compare equal.
fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '-' | '_') && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The task called `name` (canonical name or alias, matched leniently, see the module doc).
///
/// # Errors
/// [`DataError::UnknownTask`] listing every canonical name.
pub fn lookup(name: &str) -> Result<&'static TaskSpec> {
    let key = name_key(name);
    TASKS
        .iter()
        .find(|t| name_key(t.name) == key || t.aliases.iter().any(|a| name_key(a) == key))
        .ok_or_else(|| DataError::UnknownTask {
            name: name.to_string(),
            known: TASKS.iter().map(|t| t.name.to_string()).collect(),
        })
}

/// Where a task's data is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Source {
    /// The task's primary directory ([`TaskSpec::dir`]).
    #[default]
    Primary,
    /// The GainLoRA-layout copy in `Long_Sequence/` ([`TaskSpec::long_sequence_dir`]); same
    /// examples as the O-LoRA files, rewrapped, with the GainLoRA `Definition` inside.
    LongSequence,
}

/// A task's data as loaded from disk: the splits that exist, the ones that do not, the label
/// set and the definition.
#[derive(Debug, Clone)]
pub struct TaskData {
    /// The task.
    pub spec: &'static TaskSpec,
    /// The directory read.
    pub dir: PathBuf,
    /// Its layout.
    pub layout: Layout,
    /// The label set from `labels.json`, in file order, where the layout has one.
    pub labels: Option<Vec<String>>,
    /// The `Definition` of the data file (GainLoRA / SuperNI layouts; from the first split read).
    pub definition: Option<Vec<String>>,
    /// The splits found.
    pub splits: BTreeMap<Split, LoadedSplit>,
    /// The splits of the layout that have no file, with the paths looked for.
    pub missing: BTreeMap<Split, Vec<PathBuf>>,
}

impl TaskData {
    /// Canonical task name.
    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    /// Whether `split` was found.
    pub fn has(&self, split: Split) -> bool {
        self.splits.contains_key(&split)
    }

    /// The loaded `split`.
    ///
    /// # Errors
    /// [`DataError::MissingSplit`] when the task has no such file.
    pub fn split(&self, split: Split) -> Result<&LoadedSplit> {
        self.splits
            .get(&split)
            .ok_or_else(|| DataError::MissingSplit {
                task: self.spec.name.to_string(),
                split,
                looked_for: self.missing.get(&split).cloned().unwrap_or_else(|| {
                    crate::io::json_candidates(
                        &self.dir.join(format!("{}.json", split.file_stem())),
                    )
                }),
            })
    }

    /// The examples of `split`.
    ///
    /// # Errors
    /// [`DataError::MissingSplit`] when the task has no such file.
    pub fn examples(&self, split: Split) -> Result<&[Example]> {
        self.split(split).map(|s| s.examples.as_slice())
    }

    /// The splits of the layout that are missing on disk.
    pub fn missing_splits(&self) -> impl Iterator<Item = Split> + '_ {
        self.missing.keys().copied()
    }
}

/// The task registry bound to a data root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    root: PathBuf,
}

impl Registry {
    /// A registry reading from `root` (the directory holding `CL_Benchmark/`, `SuperNI/`, …).
    /// Nothing is read until a task is loaded.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$STRATA_DATA_DIR` if set, else the first `shared/data` directory found in the working
    /// directory or one of its ancestors. `None` if neither exists.
    pub fn discover() -> Option<Self> {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV) {
            let dir = PathBuf::from(dir);
            return dir.is_dir().then(|| Self::new(dir));
        }
        let cwd = std::env::current_dir().ok()?;
        cwd.ancestors()
            .map(|a| a.join("shared").join("data"))
            .find(|p| p.is_dir())
            .map(Self::new)
    }

    /// The data root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The task called `name` (see [`lookup`]).
    ///
    /// # Errors
    /// [`DataError::UnknownTask`].
    pub fn spec(&self, name: &str) -> Result<&'static TaskSpec> {
        lookup(name)
    }

    /// The absolute directory of a task for `source`.
    ///
    /// # Errors
    /// [`DataError::Config`] when the task has no copy for `source`.
    pub fn task_dir(&self, spec: &TaskSpec, source: Source) -> Result<PathBuf> {
        match source {
            Source::Primary => Ok(self.root.join(spec.dir)),
            Source::LongSequence => spec
                .long_sequence_dir
                .map(|d| self.root.join(d))
                .ok_or_else(|| {
                    DataError::Config(format!(
                        "task \"{}\" has no GainLoRA-layout copy in Long_Sequence/",
                        spec.name
                    ))
                }),
        }
    }

    /// The label set of task `name` from its `labels.json`; `None` for layouts without one.
    ///
    /// # Errors
    /// Unknown task, missing or malformed `labels.json`.
    pub fn labels(&self, name: &str) -> Result<Option<Vec<String>>> {
        let spec = lookup(name)?;
        if !spec.layout.has_labels_file() {
            return Ok(None);
        }
        load_labels(&self.root.join(spec.dir)).map(Some)
    }

    /// One split of task `name` from its primary directory.
    ///
    /// # Errors
    /// [`DataError::MissingSplit`] when the file does not exist; I/O, JSON and schema errors.
    pub fn load_split(&self, name: &str, split: Split) -> Result<LoadedSplit> {
        let spec = lookup(name)?;
        load_split(spec.layout, &self.root.join(spec.dir), spec.name, split)
    }

    /// Every split of task `name` (from its primary directory) and its label set.
    ///
    /// Splits that do not exist are recorded in [`TaskData::missing`]; asking for one with
    /// [`TaskData::split`] is a [`DataError::MissingSplit`] error.
    ///
    /// # Errors
    /// Unknown task; any I/O, JSON or schema error; [`DataError::NotFound`] if no split of the
    /// task exists at all (a wrong data root, most likely).
    pub fn load_task(&self, name: &str) -> Result<TaskData> {
        self.load_task_from(name, Source::Primary)
    }

    /// Like [`Registry::load_task`], from the chosen [`Source`].
    ///
    /// # Errors
    /// As [`Registry::load_task`]; [`DataError::Config`] if the task has no copy for `source`.
    pub fn load_task_from(&self, name: &str, source: Source) -> Result<TaskData> {
        let spec = lookup(name)?;
        let dir = self.task_dir(spec, source)?;
        let layout = match source {
            Source::Primary => spec.layout,
            Source::LongSequence => Layout::GainLora,
        };
        let results: Vec<(Split, Result<LoadedSplit>)> = layout
            .splits()
            .par_iter()
            .map(|&s| (s, load_split(layout, &dir, spec.name, s)))
            .collect();
        let mut splits = BTreeMap::new();
        let mut missing = BTreeMap::new();
        for (split, r) in results {
            match r {
                Ok(loaded) => {
                    splits.insert(split, loaded);
                }
                Err(DataError::MissingSplit { looked_for, .. }) => {
                    missing.insert(split, looked_for);
                }
                Err(e) => return Err(e),
            }
        }
        if splits.is_empty() {
            return Err(DataError::NotFound {
                looked_for: missing.into_values().flatten().collect(),
            });
        }
        let labels = if layout.has_labels_file() {
            Some(load_labels(&dir)?)
        } else {
            None
        };
        let definition = splits.values().find_map(|s| s.definition.clone());
        Ok(TaskData {
            spec,
            dir,
            layout,
            labels,
            definition,
            splits,
            missing,
        })
    }

    /// Loads several tasks in parallel (rayon), in the order given.
    ///
    /// # Errors
    /// The first error in `names` order.
    pub fn load_tasks<S: AsRef<str> + Sync>(&self, names: &[S]) -> Result<Vec<TaskData>> {
        names
            .par_iter()
            .map(|n| self.load_task(n.as_ref()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn lookup_accepts_order_names_directory_names_and_short_ids() {
        assert_eq!(lookup("mnli").unwrap().dir, "CL_Benchmark/NLI/MNLI");
        assert_eq!(lookup("MNLI").unwrap().name, "mnli");
        assert_eq!(lookup("boolq").unwrap().dir, "CL_Benchmark/BoolQA/BoolQA");
        assert_eq!(lookup("BoolQA").unwrap().name, "boolq");
        assert_eq!(lookup("sst2").unwrap().dir, "CL_Benchmark/SC/SST-2");
        assert_eq!(lookup("SST-2").unwrap().name, "sst2");
        assert_eq!(lookup("IMDB").unwrap().name, "imdb");
        assert_eq!(lookup("task1572").unwrap().name, "task1572_samsum_summary");
        assert_eq!(
            lookup("task1572_samsum_summary").unwrap().benchmark,
            Benchmark::SuperNi
        );
        assert_eq!(lookup("numglue_cm").unwrap().name, "NumGLUE-cm");
        assert_eq!(lookup("c-stance").unwrap().metric, Metric::Accuracy);
    }

    #[test]
    fn unknown_task_is_an_error_listing_known_names() {
        let e = lookup("mnli2").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("unknown task \"mnli2\"; known tasks: agnews, amazon"),
            "{msg}"
        );
        assert!(matches!(e, DataError::UnknownTask { .. }));
    }

    #[test]
    fn names_and_aliases_are_unambiguous() {
        let mut seen = HashSet::new();
        for t in tasks() {
            let mut own = HashSet::new();
            for n in std::iter::once(&t.name).chain(t.aliases) {
                own.insert(name_key(n));
            }
            for k in own {
                assert!(seen.insert(k.clone()), "name key {k} used twice");
            }
        }
        assert_eq!(tasks().len(), 15 + 15 + 9);
    }

    #[test]
    fn dataset_name_is_the_directory_leaf() {
        assert_eq!(lookup("sst2").unwrap().dataset_name(), "SST-2");
        assert_eq!(lookup("boolq").unwrap().dataset_name(), "BoolQA");
        assert_eq!(lookup("agnews").unwrap().dataset_name(), "agnews");
    }

    #[test]
    fn metrics_follow_the_readme() {
        assert_eq!(lookup("Py150").unwrap().metric, Metric::EditSimilarity);
        assert_eq!(lookup("20Minuten").unwrap().metric, Metric::Sari);
        assert_eq!(lookup("MeetingBank").unwrap().metric, Metric::RougeL);
        for t in tasks().iter().filter(|t| t.benchmark == Benchmark::SuperNi) {
            assert_eq!(t.metric, Metric::RougeL);
        }
    }

    fn fixture() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let yelp = d.path().join("CL_Benchmark/SC/yelp");
        std::fs::create_dir_all(&yelp).unwrap();
        std::fs::write(
            yelp.join("train.json"),
            r#"[{"sentence": "great", "label": "positive"}]"#,
        )
        .unwrap();
        std::fs::write(yelp.join("labels.json"), r#"["negative", "positive"]"#).unwrap();
        d
    }

    #[test]
    fn load_task_records_missing_splits_and_errors_on_access() {
        let d = fixture();
        let reg = Registry::new(d.path());
        let t = reg.load_task("yelp").unwrap();
        assert_eq!(t.examples(Split::Train).unwrap().len(), 1);
        assert_eq!(
            t.labels.as_deref(),
            Some(&["negative".to_string(), "positive".to_string()][..])
        );
        assert!(!t.has(Split::Test));
        assert_eq!(t.missing_splits().collect::<Vec<_>>(), vec![Split::Test]);
        let err = t.split(Split::Test).unwrap_err();
        assert!(
            matches!(err, DataError::MissingSplit { split: Split::Test, ref looked_for, .. } if looked_for.len() == 2)
        );
        assert!(
            err.to_string()
                .starts_with("task \"yelp\" has no test split: looked for "),
            "{err}"
        );
        let err = reg.load_split("yelp", Split::Test).unwrap_err();
        assert!(matches!(err, DataError::MissingSplit { .. }));
        // A split the layout does not have (eval, for CL_Benchmark) still names the files.
        let err = t.split(Split::Eval).unwrap_err().to_string();
        assert!(
            err.starts_with("task \"yelp\" has no eval split: looked for ")
                && err.ends_with("eval.json.gz"),
            "{err}"
        );
    }

    #[test]
    fn load_task_with_no_data_at_all_is_not_found() {
        let d = tempfile::tempdir().unwrap();
        let err = Registry::new(d.path()).load_task("agnews").unwrap_err();
        assert!(
            matches!(err, DataError::NotFound { ref looked_for } if looked_for.len() == 4),
            "{err:?}"
        );
    }

    #[test]
    fn long_sequence_source_only_where_it_exists() {
        let reg = Registry::new("/nonexistent");
        assert!(
            reg.task_dir(lookup("cb").unwrap(), Source::LongSequence)
                .is_ok()
        );
        assert!(matches!(
            reg.task_dir(lookup("mnli").unwrap(), Source::LongSequence),
            Err(DataError::Config(_))
        ));
    }
}

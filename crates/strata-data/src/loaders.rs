//! One loader per on-disk layout, all producing [`Example`]s.
//!
//! | layout | files | one example |
//! |---|---|---|
//! | [`Layout::OLora`] (CL_Benchmark) | `<dir>/{train,test}.json[.gz]`, `labels.json` | list of `{"sentence", "label"}` |
//! | [`Layout::GainLora`] (Long_Sequence) | `<dir>/{train,test}.json[.gz]`, `labels.json` | `{"Definition": [..], "Instances": [{"input", "output"}]}` |
//! | [`Layout::SuperNi`] | `<dir>/{train,test}.json[.gz]` | native task JSON: `Definition`, `Instances: [{"id", "input", "output": [..]}]` |
//! | [`Layout::Trace`] | `<dir>/{train,eval,test}.json[.gz]` | list of `{"prompt", "answer"}` |
//!
//! `input` is the raw text of the example (sentence / input / prompt) — prompt templates are
//! applied later by [`crate::prompt`]. `target` is the gold output used for training; where a
//! file gives several acceptable outputs (SuperNI), the first is the target and the others
//! are kept in [`Example::alternatives`] so that evaluation can take the best match over all
//! references, as SuperNI's `metric_max_over_ground_truths` does. (GainLoRA's loader draws a
//! random reference as the training target every time; we take the first, deterministically.)
//!
//! A split whose file does not exist is an error, [`DataError::MissingSplit`], never an
//! empty list.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DataError, Result};
use crate::io::{Doc, parse_json, read_bytes, read_string_list, resolve_json_path};

/// One example: the raw input text, the gold target and, where the file has them, an id and
/// further acceptable references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// The raw input (O-LoRA `sentence`, GainLoRA/SuperNI `input`, TRACE `prompt`).
    pub input: String,
    /// The gold output used as the training target (the label string for classification).
    pub target: String,
    /// The example's id where the file has one (SuperNI); `None` otherwise.
    pub id: Option<String>,
    /// Further acceptable outputs beyond `target` (SuperNI instances with several
    /// references); empty for almost every task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

impl Example {
    /// An example with no id and a single reference.
    pub fn new(input: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            input: input.into(),
            target: target.into(),
            id: None,
            alternatives: Vec::new(),
        }
    }

    /// Every gold reference: `target` first, then the alternatives.
    pub fn references(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.target.as_str()).chain(self.alternatives.iter().map(String::as_str))
    }
}

/// A data split as stored on disk. (Validation is carved from train by [`crate::split`]:
/// the sources' `dev.json` files equal their `test.json` and are not shipped.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// `train.json[.gz]`.
    Train,
    /// `eval.json[.gz]` (TRACE only).
    Eval,
    /// `test.json[.gz]`.
    Test,
}

impl Split {
    /// The file stem: `train`, `eval` or `test`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Eval => "eval",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_stem())
    }
}

impl FromStr for Split {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "eval" => Ok(Split::Eval),
            "test" => Ok(Split::Test),
            _ => Err(DataError::Config(format!(
                "unknown split \"{s}\" (expected train, eval or test)"
            ))),
        }
    }
}

/// The on-disk layout of a task directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layout {
    /// O-LoRA's CL_Benchmark: list of `{"sentence", "label"}`, plus `labels.json`.
    OLora,
    /// GainLoRA's Long_Sequence: `{"Definition", "Instances": [{"input", "output"}]}`, plus `labels.json`.
    GainLora,
    /// Native SuperNI task JSON (`Definition`, `Instances` with `id`, `input`, `output`).
    SuperNi,
    /// TRACE: list of `{"prompt", "answer"}`, splits train/eval/test.
    Trace,
}

impl Layout {
    /// The splits a directory of this layout may hold.
    pub fn splits(self) -> &'static [Split] {
        match self {
            Layout::Trace => &[Split::Train, Split::Eval, Split::Test],
            _ => &[Split::Train, Split::Test],
        }
    }

    /// Whether directories of this layout carry a `labels.json`.
    pub fn has_labels_file(self) -> bool {
        matches!(self, Layout::OLora | Layout::GainLora)
    }
}

/// One split of one task, as read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedSplit {
    /// Which split.
    pub split: Split,
    /// The file actually read (`.json` or `.json.gz`).
    pub path: PathBuf,
    /// The file's `Definition` (GainLoRA and SuperNI layouts); `None` for the list layouts.
    pub definition: Option<Vec<String>>,
    /// The examples, in file order.
    pub examples: Vec<Example>,
}

/// Loads `split` of the task in `dir` (layout `layout`); `task` names the task in errors.
///
/// # Errors
/// [`DataError::MissingSplit`] when neither `<split>.json` nor `<split>.json.gz` exists;
/// otherwise any I/O, JSON or schema error, naming the file, item and field.
pub fn load_split(layout: Layout, dir: &Path, task: &str, split: Split) -> Result<LoadedSplit> {
    let base = dir.join(format!("{}.json", split.file_stem()));
    let path = resolve_json_path(&base).map_err(|e| match e {
        DataError::NotFound { looked_for } => DataError::MissingSplit {
            task: task.to_string(),
            split,
            looked_for,
        },
        other => other,
    })?;
    let bytes = read_bytes(&path)?;
    let value = parse_json(&path, &bytes)?;
    drop(bytes);
    let (definition, examples) = parse_layout(layout, &path, value)?;
    Ok(LoadedSplit {
        split,
        path,
        definition,
        examples,
    })
}

/// Interprets an already parsed document of layout `layout` read from `path`.
///
/// Returns the `Definition` (GainLoRA / SuperNI) and the examples.
///
/// # Errors
/// [`DataError::Schema`] naming `path`, the item index and the field.
pub fn parse_layout(
    layout: Layout,
    path: &Path,
    value: Value,
) -> Result<(Option<Vec<String>>, Vec<Example>)> {
    let doc = Doc::new(path);
    match layout {
        Layout::OLora => Ok((None, parse_pairs(doc, value, "sentence", "label")?)),
        Layout::Trace => Ok((None, parse_pairs(doc, value, "prompt", "answer")?)),
        Layout::GainLora => parse_instances(doc, value, false),
        Layout::SuperNi => parse_instances(doc, value, true),
    }
}

/// A top-level list of objects with two string fields.
fn parse_pairs(doc: Doc<'_>, value: Value, input: &str, target: &str) -> Result<Vec<Example>> {
    doc.top_list(value)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let mut m = doc.item_object(i, v)?;
            let input = doc.take_string(&mut m, Some(i), input)?;
            let target = doc.take_string(&mut m, Some(i), target)?;
            Ok(Example {
                input,
                target,
                id: None,
                alternatives: Vec::new(),
            })
        })
        .collect()
}

/// `{"Definition", "Instances": [{"id"?, "input", "output"}]}`; SuperNI requires the
/// definition and the ids, GainLoRA makes both optional (its loader uses
/// `data.get("Definition", [])`).
fn parse_instances(
    doc: Doc<'_>,
    value: Value,
    superni: bool,
) -> Result<(Option<Vec<String>>, Vec<Example>)> {
    let mut top = doc.top_object(value)?;
    let definition = doc.take_opt_string_or_list(&mut top, None, "Definition")?;
    if superni && definition.is_none() {
        return Err(doc.error(
            None,
            Some("Definition"),
            crate::error::SchemaProblem::Missing,
        ));
    }
    let instances = doc.take_list(&mut top, None, "Instances")?;
    let examples = instances
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let mut m = doc.item_object(i, v)?;
            // SuperNI instances must have an id; GainLoRA ones may.
            let id = if superni || m.contains_key("id") {
                Some(doc.take_string(&mut m, Some(i), "id")?)
            } else {
                None
            };
            let input = doc.take_string(&mut m, Some(i), "input")?;
            let mut outputs = doc.take_string_or_list(&mut m, Some(i), "output")?;
            let target = outputs.remove(0);
            Ok(Example {
                input,
                target,
                id,
                alternatives: outputs,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((definition, examples))
}

/// Reads `<dir>/labels.json` (a list of label strings, in the order of the prompt's
/// `Option:` line).
///
/// # Errors
/// [`DataError::NotFound`] if absent; JSON and schema errors naming the file.
pub fn load_labels(dir: &Path) -> Result<Vec<String>> {
    read_string_list(&dir.join("labels.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &str) {
        std::fs::write(dir.join(name), content).unwrap();
    }

    #[test]
    fn olora_layout_loads_sentence_and_label() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "train.json",
            r#"[{"sentence": "s1", "label": "a"}, {"label": "b", "sentence": "s2", "extra": 1}]"#,
        );
        let s = load_split(Layout::OLora, d.path(), "t", Split::Train).unwrap();
        assert_eq!(
            s.examples,
            vec![Example::new("s1", "a"), Example::new("s2", "b")]
        );
        assert_eq!(s.definition, None);
        assert_eq!(s.path, d.path().join("train.json"));
    }

    #[test]
    fn olora_missing_field_names_file_item_and_field() {
        let d = tempfile::tempdir().unwrap();
        let mut items: Vec<String> = (0..20)
            .map(|i| format!(r#"{{"sentence": "s{i}", "label": "a"}}"#))
            .collect();
        items[17] = r#"{"sentence": "s17"}"#.to_string();
        write(d.path(), "train.json", &format!("[{}]", items.join(",")));
        let err = load_split(Layout::OLora, d.path(), "t", Split::Train).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.ends_with("train.json: item 17: field \"label\" missing"),
            "{msg}"
        );
        assert!(matches!(err, DataError::Schema { item: Some(17), .. }));
    }

    #[test]
    fn olora_wrong_type_names_expected_and_found() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "test.json",
            r#"[{"sentence": "s", "label": "a"}, {"sentence": "s", "label": 3}]"#,
        );
        let msg = load_split(Layout::OLora, d.path(), "t", Split::Test)
            .unwrap_err()
            .to_string();
        assert!(msg.ends_with("test.json: item 1: field \"label\" has the wrong type: expected string, found number"), "{msg}");
        write(
            d.path(),
            "test.json",
            r#"[{"sentence": "s", "label": "a"}, ["not", "an", "object"]]"#,
        );
        let msg = load_split(Layout::OLora, d.path(), "t", Split::Test)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with(
                "test.json: item 1: item has the wrong type: expected object, found list"
            ),
            "{msg}"
        );
        write(d.path(), "test.json", r#"{"sentence": "s", "label": "a"}"#);
        let msg = load_split(Layout::OLora, d.path(), "t", Split::Test)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with(
                "test.json: top-level value has the wrong type: expected list, found object"
            ),
            "{msg}"
        );
    }

    #[test]
    fn truncated_file_is_invalid_json_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "train.json",
            r#"[{"sentence": "s", "label": "a"}, {"sentence": "#,
        );
        let err = load_split(Layout::OLora, d.path(), "t", Split::Train).unwrap_err();
        assert!(
            matches!(err, DataError::InvalidJson { line: 1, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("train.json: invalid JSON at line 1, column"),
            "{err}"
        );
    }

    #[test]
    fn missing_split_is_typed_and_lists_candidates() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "train.json", "[]");
        let err = load_split(Layout::OLora, d.path(), "yelp", Split::Test).unwrap_err();
        match &err {
            DataError::MissingSplit {
                task,
                split,
                looked_for,
            } => {
                assert_eq!(task, "yelp");
                assert_eq!(*split, Split::Test);
                assert_eq!(
                    looked_for,
                    &vec![d.path().join("test.json"), d.path().join("test.json.gz")]
                );
            }
            other => panic!("expected MissingSplit, got {other:?}"),
        }
    }

    #[test]
    fn gainlora_layout_keeps_definition_and_allows_empty_one() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "train.json",
            r#"{"Definition": ["Def one. "], "Positive Examples": [], "Negative Examples": [],
                "Instances": [{"input": "i1", "output": "o1"}, {"input": "i2", "output": ["o2", "o2b"]}]}"#,
        );
        let s = load_split(Layout::GainLora, d.path(), "t", Split::Train).unwrap();
        assert_eq!(s.definition, Some(vec!["Def one. ".to_string()]));
        assert_eq!(s.examples[0], Example::new("i1", "o1"));
        assert_eq!(s.examples[1].alternatives, vec!["o2b"]);
        write(
            d.path(),
            "test.json",
            r#"{"Definition": [], "Instances": []}"#,
        );
        let s = load_split(Layout::GainLora, d.path(), "t", Split::Test).unwrap();
        assert_eq!(s.definition, Some(vec![]));
        assert!(s.examples.is_empty());
    }

    #[test]
    fn gainlora_schema_errors() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "train.json", r#"{"Definition": ["d"]}"#);
        let msg = load_split(Layout::GainLora, d.path(), "t", Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with("train.json: field \"Instances\" missing"),
            "{msg}"
        );
        write(
            d.path(),
            "train.json",
            r#"{"Definition": ["d"], "Instances": [{"input": "a", "output": []}]}"#,
        );
        let msg = load_split(Layout::GainLora, d.path(), "t", Split::Train)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with("train.json: item 0: field \"output\" is an empty list"),
            "{msg}"
        );
        write(
            d.path(),
            "train.json",
            r#"{"Definition": [1], "Instances": []}"#,
        );
        let msg = load_split(Layout::GainLora, d.path(), "t", Split::Train)
            .unwrap_err()
            .to_string();
        assert!(msg.ends_with("train.json: field \"Definition[0]\" has the wrong type: expected string, found number"), "{msg}");
    }

    #[test]
    fn superni_keeps_ids_and_all_references_and_requires_ids() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "test.json",
            r#"{"Definition": ["Answer it."], "Instances": [
                {"id": "task1-a", "input": "q1", "output": ["r1", "r1b", "r1c"]},
                {"id": "task1-b", "input": "q2", "output": "POS"}]}"#,
        );
        let s = load_split(Layout::SuperNi, d.path(), "task1", Split::Test).unwrap();
        assert_eq!(s.examples[0].id.as_deref(), Some("task1-a"));
        assert_eq!(
            s.examples[0].references().collect::<Vec<_>>(),
            vec!["r1", "r1b", "r1c"]
        );
        assert_eq!(s.examples[1].target, "POS");
        write(
            d.path(),
            "test.json",
            r#"{"Definition": ["d"], "Instances": [{"input": "q", "output": ["r"]}]}"#,
        );
        let msg = load_split(Layout::SuperNi, d.path(), "task1", Split::Test)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with("test.json: item 0: field \"id\" missing"),
            "{msg}"
        );
        write(d.path(), "test.json", r#"{"Instances": []}"#);
        let msg = load_split(Layout::SuperNi, d.path(), "task1", Split::Test)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with("test.json: field \"Definition\" missing"),
            "{msg}"
        );
    }

    #[test]
    fn trace_layout_and_eval_split() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "eval.json", r#"[{"prompt": "p", "answer": "A"}]"#);
        let s = load_split(Layout::Trace, d.path(), "FOMC", Split::Eval).unwrap();
        assert_eq!(s.examples, vec![Example::new("p", "A")]);
        write(
            d.path(),
            "eval.json",
            r#"[{"prompt": "p", "answer": null}]"#,
        );
        let msg = load_split(Layout::Trace, d.path(), "FOMC", Split::Eval)
            .unwrap_err()
            .to_string();
        assert!(msg.ends_with("eval.json: item 0: field \"answer\" has the wrong type: expected string, found null"), "{msg}");
    }

    #[test]
    fn split_names_round_trip() {
        for s in [Split::Train, Split::Eval, Split::Test] {
            assert_eq!(s.to_string().parse::<Split>().unwrap(), s);
        }
        assert!("dev".parse::<Split>().is_err());
    }
}

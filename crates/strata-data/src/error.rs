//! The error type of every fallible operation in this crate.
//!
//! Every variant names the file (or the task) it is about, so that a message read in a log
//! is enough to find the problem: `…/CL_Benchmark/SC/amazon/train.json.gz: item 17: field
//! "label" missing`.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use crate::loaders::Split;

/// What went wrong while locating, reading, parsing or interpreting benchmark data.
#[derive(Debug, Error)]
pub enum DataError {
    /// None of the candidate files exists (`x.json` and `x.json.gz` were both looked for).
    #[error("file not found: looked for {}", join_paths(.looked_for))]
    NotFound {
        /// Every path that was tried, in the order tried.
        looked_for: Vec<PathBuf>,
    },
    /// The file exists but could not be read or decompressed.
    #[error("{}: cannot read: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error (a gzip error shows up here as well).
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON (for `.json.gz`, line and column refer to the decompressed text).
    #[error("{}: invalid JSON at line {line}, column {column}: {message}", .path.display())]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error, as reported by serde_json.
        line: usize,
        /// 1-based column of the error, as reported by serde_json.
        column: usize,
        /// serde_json's description of the problem.
        message: String,
    },
    /// The JSON is valid but does not have the layout's shape.
    #[error("{}: {}{}", .path.display(), schema_location(.item, .field), .problem)]
    Schema {
        /// The file.
        path: PathBuf,
        /// Index of the offending item in the file's list of examples (`None`: top level).
        item: Option<usize>,
        /// The offending field (`None`: the item or the document itself).
        field: Option<String>,
        /// What is wrong with it.
        problem: SchemaProblem,
    },
    /// A task has no file for a split (e.g. `yelp` has no test split, `MeetingBank` no train split).
    #[error("task \"{task}\" has no {split} split: looked for {}", join_paths(.looked_for))]
    MissingSplit {
        /// Canonical task name.
        task: String,
        /// The missing split.
        split: Split,
        /// Every path that was tried.
        looked_for: Vec<PathBuf>,
    },
    /// A task name that the registry does not know.
    #[error("unknown task \"{name}\"; known tasks: {}", .known.join(", "))]
    UnknownTask {
        /// The name asked for.
        name: String,
        /// Canonical names of every registered task.
        known: Vec<String>,
    },
    /// A task-order name that is not defined.
    #[error("unknown task order \"{name}\"; known orders: {}", .known.join(", "))]
    UnknownOrder {
        /// The name asked for.
        name: String,
        /// Every defined order name.
        known: Vec<String>,
    },
    /// A prompt cannot be built for this task in this style (e.g. O-LoRA style for a SuperNI task,
    /// or no instruction / definition is available).
    #[error("task \"{task}\": cannot build a {style} prompt: {reason}")]
    Prompt {
        /// Canonical task name.
        task: String,
        /// The prompt style asked for, in words.
        style: String,
        /// Why not.
        reason: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A metric that this crate does not implement (yet).
    #[error("metric {0} is not implemented in strata-data")]
    UnsupportedMetric(String),
}

/// What is wrong with a field or an item of a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaProblem {
    /// A required field is absent.
    Missing,
    /// A value has the wrong JSON type.
    WrongType {
        /// What the layout requires, in words ("string", "list of strings", …).
        expected: &'static str,
        /// The JSON type found ("number", "null", …).
        found: &'static str,
    },
    /// A list that must not be empty is empty.
    Empty,
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaProblem::Missing => f.write_str("missing"),
            SchemaProblem::WrongType { expected, found } => {
                write!(f, "has the wrong type: expected {expected}, found {found}")
            }
            SchemaProblem::Empty => f.write_str("is an empty list"),
        }
    }
}

/// The `item 17: field "label" ` prefix of a schema error.
fn schema_location<'a>(item: &Option<usize>, field: &'a Option<String>) -> SchemaLocation<'a> {
    SchemaLocation {
        item: *item,
        field: field.as_deref(),
    }
}

struct SchemaLocation<'a> {
    item: Option<usize>,
    field: Option<&'a str>,
}

impl fmt::Display for SchemaLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.item {
            write!(f, "item {i}: ")?;
        }
        match (self.field, self.item) {
            (Some(field), _) => write!(f, "field \"{field}\" "),
            (None, Some(_)) => f.write_str("item "),
            (None, None) => f.write_str("top-level value "),
        }
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shorthand for this crate's results.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_messages_name_file_item_and_field() {
        let e = DataError::Schema {
            path: PathBuf::from("CL_Benchmark/SC/amazon/train.json.gz"),
            item: Some(17),
            field: Some("label".into()),
            problem: SchemaProblem::Missing,
        };
        assert_eq!(
            e.to_string(),
            "CL_Benchmark/SC/amazon/train.json.gz: item 17: field \"label\" missing"
        );
        let e = DataError::Schema {
            path: PathBuf::from("a.json"),
            item: None,
            field: None,
            problem: SchemaProblem::WrongType {
                expected: "list",
                found: "object",
            },
        };
        assert_eq!(
            e.to_string(),
            "a.json: top-level value has the wrong type: expected list, found object"
        );
        let e = DataError::Schema {
            path: PathBuf::from("a.json"),
            item: Some(3),
            field: None,
            problem: SchemaProblem::WrongType {
                expected: "object",
                found: "string",
            },
        };
        assert_eq!(
            e.to_string(),
            "a.json: item 3: item has the wrong type: expected object, found string"
        );
    }

    #[test]
    fn missing_split_lists_what_was_looked_for() {
        let e = DataError::MissingSplit {
            task: "yelp".into(),
            split: Split::Test,
            looked_for: vec![
                PathBuf::from("d/test.json"),
                PathBuf::from("d/test.json.gz"),
            ],
        };
        assert_eq!(
            e.to_string(),
            "task \"yelp\" has no test split: looked for d/test.json, d/test.json.gz"
        );
    }
}

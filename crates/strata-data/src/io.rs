//! Reading `x.json` and `x.json.gz` transparently, and schema checks that never panic.
//!
//! The shared data keeps files above 20 kB gzip-compressed, so any file may be either
//! `x.json` or `x.json.gz`. [`resolve_json_path`] finds whichever exists; [`read_json`]
//! reads, decompresses (detected by the gzip magic bytes, not the name) and parses it.
//! Errors name the file and, for schema problems, the item index and the field
//! (see [`DataError`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde_json::{Map, Value};

use crate::error::{DataError, Result, SchemaProblem};

/// The files that may hold the JSON document `path`, in the order they are tried.
///
/// - `x.json` → `x.json`, `x.json.gz`
/// - `x.json.gz` → `x.json.gz`, `x.json`
/// - anything else (`x`) → `x.json`, `x.json.gz`
pub fn json_candidates(path: &Path) -> Vec<PathBuf> {
    let s = path.as_os_str().to_string_lossy();
    if let Some(stem) = s.strip_suffix(".json.gz") {
        vec![path.to_path_buf(), PathBuf::from(format!("{stem}.json"))]
    } else if s.ends_with(".json") {
        vec![path.to_path_buf(), PathBuf::from(format!("{s}.gz"))]
    } else {
        vec![
            PathBuf::from(format!("{s}.json")),
            PathBuf::from(format!("{s}.json.gz")),
        ]
    }
}

/// The first of [`json_candidates`] that exists as a file.
///
/// # Errors
/// [`DataError::NotFound`] listing every candidate when none exists.
pub fn resolve_json_path(path: &Path) -> Result<PathBuf> {
    let candidates = json_candidates(path);
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => Err(DataError::NotFound {
            looked_for: candidates,
        }),
    }
}

/// The bytes of `path`, gunzipped if they start with the gzip magic bytes.
///
/// # Errors
/// [`DataError::Io`] naming the file when it cannot be read or decompressed.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let io_err = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io_err)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(io_err)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses `bytes` (the content of `path`) as JSON.
///
/// # Errors
/// [`DataError::InvalidJson`] with serde_json's line and column.
pub fn parse_json(path: &Path, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| DataError::InvalidJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

/// serde_json's message ends with " at line L column C"; the error carries those separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Resolves `path` (with or without `.gz`), reads and parses it.
/// Returns the path actually read with the document.
///
/// # Errors
/// [`DataError::NotFound`], [`DataError::Io`] or [`DataError::InvalidJson`].
pub fn read_json(path: &Path) -> Result<(PathBuf, Value)> {
    let found = resolve_json_path(path)?;
    let bytes = read_bytes(&found)?;
    let value = parse_json(&found, &bytes)?;
    Ok((found, value))
}

/// Reads a JSON list of strings, such as a `labels.json` file.
///
/// # Errors
/// Any error of [`read_json`], or [`DataError::Schema`] if the document is not a list of strings.
pub fn read_string_list(path: &Path) -> Result<Vec<String>> {
    let (found, value) = read_json(path)?;
    let doc = Doc::new(&found);
    doc.string_list(value, None, None)
}

/// The JSON type of `v`, in the words used by schema errors.
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Schema-checking accessors bound to one file, so every error names it.
///
/// Values are taken out of the parsed document (no copies of the strings).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Doc<'a> {
    path: &'a Path,
}

impl<'a> Doc<'a> {
    pub(crate) fn new(path: &'a Path) -> Self {
        Self { path }
    }

    pub(crate) fn error(
        &self,
        item: Option<usize>,
        field: Option<&str>,
        problem: SchemaProblem,
    ) -> DataError {
        DataError::Schema {
            path: self.path.to_path_buf(),
            item,
            field: field.map(str::to_string),
            problem,
        }
    }

    fn wrong_type(
        &self,
        item: Option<usize>,
        field: Option<&str>,
        expected: &'static str,
        v: &Value,
    ) -> DataError {
        self.error(
            item,
            field,
            SchemaProblem::WrongType {
                expected,
                found: json_type_name(v),
            },
        )
    }

    /// The top-level value as a list.
    pub(crate) fn top_list(&self, v: Value) -> Result<Vec<Value>> {
        match v {
            Value::Array(items) => Ok(items),
            other => Err(self.wrong_type(None, None, "list", &other)),
        }
    }

    /// The top-level value as an object.
    pub(crate) fn top_object(&self, v: Value) -> Result<Map<String, Value>> {
        match v {
            Value::Object(m) => Ok(m),
            other => Err(self.wrong_type(None, None, "object", &other)),
        }
    }

    /// Item `i` of a list as an object.
    pub(crate) fn item_object(&self, i: usize, v: Value) -> Result<Map<String, Value>> {
        match v {
            Value::Object(m) => Ok(m),
            other => Err(self.wrong_type(Some(i), None, "object", &other)),
        }
    }

    /// Removes and returns the required string field `field`.
    pub(crate) fn take_string(
        &self,
        m: &mut Map<String, Value>,
        item: Option<usize>,
        field: &str,
    ) -> Result<String> {
        match m.remove(field) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.wrong_type(item, Some(field), "string", &other)),
            None => Err(self.error(item, Some(field), SchemaProblem::Missing)),
        }
    }

    /// Removes and returns the required field `field`, a string or a non-empty list of strings.
    pub(crate) fn take_string_or_list(
        &self,
        m: &mut Map<String, Value>,
        item: Option<usize>,
        field: &str,
    ) -> Result<Vec<String>> {
        match m.remove(field) {
            Some(Value::String(s)) => Ok(vec![s]),
            Some(v @ Value::Array(_)) => {
                let list = self.string_list(v, item, Some(field))?;
                if list.is_empty() {
                    Err(self.error(item, Some(field), SchemaProblem::Empty))
                } else {
                    Ok(list)
                }
            }
            Some(other) => {
                Err(self.wrong_type(item, Some(field), "string or list of strings", &other))
            }
            None => Err(self.error(item, Some(field), SchemaProblem::Missing)),
        }
    }

    /// Removes the optional field `field`: absent → `None`; a string → one element; a list of strings.
    pub(crate) fn take_opt_string_or_list(
        &self,
        m: &mut Map<String, Value>,
        item: Option<usize>,
        field: &str,
    ) -> Result<Option<Vec<String>>> {
        match m.remove(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s])),
            Some(v @ Value::Array(_)) => self.string_list(v, item, Some(field)).map(Some),
            Some(other) => {
                Err(self.wrong_type(item, Some(field), "string or list of strings", &other))
            }
        }
    }

    /// Removes the required list field `field`.
    pub(crate) fn take_list(
        &self,
        m: &mut Map<String, Value>,
        item: Option<usize>,
        field: &str,
    ) -> Result<Vec<Value>> {
        match m.remove(field) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.wrong_type(item, Some(field), "list", &other)),
            None => Err(self.error(item, Some(field), SchemaProblem::Missing)),
        }
    }

    /// `v` as a list of strings. Elements that are not strings are reported with the
    /// element's index in the field (`field[2]`).
    pub(crate) fn string_list(
        &self,
        v: Value,
        item: Option<usize>,
        field: Option<&str>,
    ) -> Result<Vec<String>> {
        let items = match v {
            Value::Array(items) => items,
            other => return Err(self.wrong_type(item, field, "list of strings", &other)),
        };
        items
            .into_iter()
            .enumerate()
            .map(|(k, e)| match e {
                Value::String(s) => Ok(s),
                other => {
                    let name = match field {
                        Some(f) => format!("{f}[{k}]"),
                        None => format!("[{k}]"),
                    };
                    Err(self.wrong_type(item, Some(&name), "string", &other))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_gz(path: &Path, content: &str) {
        let f = std::fs::File::create(path).unwrap();
        let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        enc.write_all(content.as_bytes()).unwrap();
        enc.finish().unwrap();
    }

    #[test]
    fn candidates_cover_both_forms() {
        let c = json_candidates(Path::new("d/train.json"));
        assert_eq!(
            c,
            vec![
                PathBuf::from("d/train.json"),
                PathBuf::from("d/train.json.gz")
            ]
        );
        let c = json_candidates(Path::new("d/train.json.gz"));
        assert_eq!(
            c,
            vec![
                PathBuf::from("d/train.json.gz"),
                PathBuf::from("d/train.json")
            ]
        );
        let c = json_candidates(Path::new("d/train"));
        assert_eq!(
            c,
            vec![
                PathBuf::from("d/train.json"),
                PathBuf::from("d/train.json.gz")
            ]
        );
    }

    #[test]
    fn reads_plain_and_gzipped_whichever_exists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), r#"["x"]"#).unwrap();
        write_gz(&dir.path().join("b.json.gz"), r#"["y", "z"]"#);
        // Asking for the .gz of a plain file, and for the plain name of a .gz file, both work.
        assert_eq!(
            read_string_list(&dir.path().join("a.json.gz")).unwrap(),
            vec!["x"]
        );
        assert_eq!(
            read_string_list(&dir.path().join("b.json")).unwrap(),
            vec!["y", "z"]
        );
        assert_eq!(
            read_string_list(&dir.path().join("b")).unwrap(),
            vec!["y", "z"]
        );
    }

    #[test]
    fn gzip_is_detected_by_content_not_name() {
        let dir = tempfile::tempdir().unwrap();
        write_gz(&dir.path().join("c.json"), r#"["gz inside"]"#);
        assert_eq!(
            read_string_list(&dir.path().join("c.json")).unwrap(),
            vec!["gz inside"]
        );
    }

    #[test]
    fn missing_file_lists_both_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_json(&dir.path().join("nope.json")).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, DataError::NotFound { ref looked_for } if looked_for.len() == 2),
            "{msg}"
        );
        assert!(
            msg.contains("nope.json,") && msg.contains("nope.json.gz"),
            "{msg}"
        );
    }

    #[test]
    fn truncated_json_reports_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json");
        std::fs::write(
            &p,
            "[\n {\"sentence\": \"a\", \"label\": \"b\"},\n {\"sentence\": \"c\"",
        )
        .unwrap();
        let err = read_json(&p).unwrap_err();
        match &err {
            DataError::InvalidJson {
                path, line, column, ..
            } => {
                assert_eq!(path, &p);
                assert_eq!(*line, 3);
                assert!(*column > 0);
            }
            other => panic!("expected InvalidJson, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("t.json: invalid JSON at line 3, column"),
            "{msg}"
        );
        assert!(msg.contains("EOF"), "{msg}");
    }

    #[test]
    fn truncated_gzip_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.json.gz");
        write_gz(&p, &format!("[{}]", vec!["\"abcdefgh\""; 2000].join(",")));
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_json(&p).unwrap_err();
        assert!(matches!(err, DataError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains("t.json.gz: cannot read"), "{err}");
    }

    #[test]
    fn labels_with_a_non_string_name_the_element() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("labels.json");
        std::fs::write(&p, r#"["a", 3]"#).unwrap();
        let msg = read_string_list(&p).unwrap_err().to_string();
        assert!(
            msg.ends_with(
                "labels.json: field \"[1]\" has the wrong type: expected string, found number"
            ),
            "{msg}"
        );
        std::fs::write(&p, r#"{"a": 1}"#).unwrap();
        let msg = read_string_list(&p).unwrap_err().to_string();
        assert!(msg.ends_with("labels.json: top-level value has the wrong type: expected list of strings, found object"), "{msg}");
    }
}

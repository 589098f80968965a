//! Metadata values (the 13 GGUF value types, arrays possibly nested) and the key → value
//! table with typed getters.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::GgufError;

/// The type id of a GGUF metadata value (`u32` on disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum GgufValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl GgufValueType {
    /// The type for an on-disk id, `None` for ids outside 0..=12.
    pub fn from_id(id: u32) -> Option<Self> {
        use GgufValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// The on-disk id.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// Bytes of a scalar of this type; strings and arrays give their minimal size
    /// (8-byte length; 4-byte type + 8-byte count).
    pub fn min_size(self) -> u64 {
        use GgufValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }
}

impl fmt::Display for GgufValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            GgufValueType::U8 => "u8",
            GgufValueType::I8 => "i8",
            GgufValueType::U16 => "u16",
            GgufValueType::I16 => "i16",
            GgufValueType::U32 => "u32",
            GgufValueType::I32 => "i32",
            GgufValueType::F32 => "f32",
            GgufValueType::Bool => "bool",
            GgufValueType::String => "string",
            GgufValueType::Array => "array",
            GgufValueType::U64 => "u64",
            GgufValueType::I64 => "i64",
            GgufValueType::F64 => "f64",
        };
        f.write_str(s)
    }
}

/// A GGUF array: one element type, then that many values (which may themselves be arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct GgufArray {
    pub elem_type: GgufValueType,
    pub values: Vec<GgufValue>,
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum GgufValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(GgufArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl GgufValue {
    /// The value's type id.
    pub fn value_type(&self) -> GgufValueType {
        match self {
            GgufValue::U8(_) => GgufValueType::U8,
            GgufValue::I8(_) => GgufValueType::I8,
            GgufValue::U16(_) => GgufValueType::U16,
            GgufValue::I16(_) => GgufValueType::I16,
            GgufValue::U32(_) => GgufValueType::U32,
            GgufValue::I32(_) => GgufValueType::I32,
            GgufValue::F32(_) => GgufValueType::F32,
            GgufValue::Bool(_) => GgufValueType::Bool,
            GgufValue::String(_) => GgufValueType::String,
            GgufValue::Array(_) => GgufValueType::Array,
            GgufValue::U64(_) => GgufValueType::U64,
            GgufValue::I64(_) => GgufValueType::I64,
            GgufValue::F64(_) => GgufValueType::F64,
        }
    }

    /// Builds a typed array from scalars; all values must share `elem_type` (not checked
    /// here; the writer checks it).
    pub fn array(elem_type: GgufValueType, values: Vec<GgufValue>) -> GgufValue {
        GgufValue::Array(GgufArray { elem_type, values })
    }

    /// A string array.
    pub fn str_array<S: AsRef<str>>(items: &[S]) -> GgufValue {
        GgufValue::array(
            GgufValueType::String,
            items
                .iter()
                .map(|s| GgufValue::String(s.as_ref().to_owned()))
                .collect(),
        )
    }

    /// Any integer type, as `i128` (lossless for every integer type).
    pub fn as_integer(&self) -> Option<i128> {
        Some(match *self {
            GgufValue::U8(v) => v as i128,
            GgufValue::I8(v) => v as i128,
            GgufValue::U16(v) => v as i128,
            GgufValue::I16(v) => v as i128,
            GgufValue::U32(v) => v as i128,
            GgufValue::I32(v) => v as i128,
            GgufValue::U64(v) => v as i128,
            GgufValue::I64(v) => v as i128,
            _ => return None,
        })
    }

    /// Any numeric type (integers and floats) as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            GgufValue::F32(v) => Some(v as f64),
            GgufValue::F64(v) => Some(v),
            _ => self.as_integer().map(|v| v as f64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            GgufValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            GgufValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&GgufArray> {
        match self {
            GgufValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A short type description for error messages (`"array of string"`).
    pub fn describe(&self) -> String {
        match self {
            GgufValue::Array(a) => {
                format!("array of {} ({} elements)", a.elem_type, a.values.len())
            }
            v => v.value_type().to_string(),
        }
    }
}

/// The metadata key → value table of a GGUF file, in file order, with typed getters.
///
/// Integer getters accept any integer type whose value fits the target (converters write
/// `u32` fields as `i32` at times); float getters accept any numeric type.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    path: PathBuf,
    entries: Vec<(String, GgufValue)>,
    index: HashMap<String, usize>,
}

impl Metadata {
    /// An empty table; `path` is only used in error messages.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Metadata {
            path: path.into(),
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds a key; returns `false` (and keeps the old value) if the key already exists.
    pub fn insert(&mut self, key: String, value: GgufValue) -> bool {
        if self.index.contains_key(&key) {
            return false;
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
        true
    }

    /// The file this table came from (empty for an in-memory table).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &GgufValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// The raw value, if present.
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    fn missing(&self, key: &str) -> GgufError {
        GgufError::MissingKey {
            path: self.path.clone(),
            key: key.to_owned(),
            hint: String::new(),
        }
    }

    fn wrong(&self, key: &str, expected: &str, found: &GgufValue) -> GgufError {
        GgufError::WrongType {
            path: self.path.clone(),
            key: key.to_owned(),
            expected: expected.to_owned(),
            found: describe_with_value(found),
        }
    }

    /// The value, or [`GgufError::MissingKey`].
    pub fn require(&self, key: &str) -> Result<&GgufValue, GgufError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    fn int_opt<T: TryFrom<i128>>(&self, key: &str, expected: &str) -> Result<Option<T>, GgufError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_integer()
                .and_then(|i| T::try_from(i).ok())
                .map(Some)
                .ok_or_else(|| self.wrong(key, expected, v)),
        }
    }

    /// `Ok(None)` if absent; error if present with a non-integer or out-of-range value.
    pub fn get_u32_opt(&self, key: &str) -> Result<Option<u32>, GgufError> {
        self.int_opt(key, "an integer fitting u32")
    }
    pub fn get_u64_opt(&self, key: &str) -> Result<Option<u64>, GgufError> {
        self.int_opt(key, "an integer fitting u64")
    }
    pub fn get_i64_opt(&self, key: &str) -> Result<Option<i64>, GgufError> {
        self.int_opt(key, "an integer fitting i64")
    }
    pub fn get_u32(&self, key: &str) -> Result<u32, GgufError> {
        self.get_u32_opt(key)?.ok_or_else(|| self.missing(key))
    }
    pub fn get_u64(&self, key: &str) -> Result<u64, GgufError> {
        self.get_u64_opt(key)?.ok_or_else(|| self.missing(key))
    }
    pub fn get_i64(&self, key: &str) -> Result<i64, GgufError> {
        self.get_i64_opt(key)?.ok_or_else(|| self.missing(key))
    }

    /// Any numeric value as `f64`; `Ok(None)` if absent.
    pub fn get_f64_opt(&self, key: &str) -> Result<Option<f64>, GgufError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a number", v)),
        }
    }
    pub fn get_f64(&self, key: &str) -> Result<f64, GgufError> {
        self.get_f64_opt(key)?.ok_or_else(|| self.missing(key))
    }
    pub fn get_f32_opt(&self, key: &str) -> Result<Option<f32>, GgufError> {
        Ok(self.get_f64_opt(key)?.map(|v| v as f32))
    }
    pub fn get_f32(&self, key: &str) -> Result<f32, GgufError> {
        self.get_f32_opt(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn get_bool_opt(&self, key: &str) -> Result<Option<bool>, GgufError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "bool", v)),
        }
    }
    pub fn get_bool(&self, key: &str) -> Result<bool, GgufError> {
        self.get_bool_opt(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn get_str_opt(&self, key: &str) -> Result<Option<&str>, GgufError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "string", v)),
        }
    }
    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        self.get_str_opt(key)?.ok_or_else(|| self.missing(key))
    }

    /// The array, whatever its element type.
    pub fn get_array(&self, key: &str) -> Result<&GgufArray, GgufError> {
        let v = self.require(key)?;
        v.as_array().ok_or_else(|| self.wrong(key, "array", v))
    }

    fn typed_array<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        f: impl Fn(&'a GgufValue) -> Option<T>,
    ) -> Result<Vec<T>, GgufError> {
        let v = self.require(key)?;
        let arr = v.as_array().ok_or_else(|| self.wrong(key, expected, v))?;
        arr.values
            .iter()
            .map(|e| f(e).ok_or_else(|| self.wrong(key, expected, v)))
            .collect()
    }

    /// A string array (`tokenizer.ggml.tokens`, `.merges`).
    pub fn get_str_array(&self, key: &str) -> Result<Vec<&str>, GgufError> {
        self.typed_array(key, "array of string", |e| e.as_str())
    }
    /// A numeric array as `f32` (`tokenizer.ggml.scores`).
    pub fn get_f32_array(&self, key: &str) -> Result<Vec<f32>, GgufError> {
        self.typed_array(key, "array of numbers", |e| e.as_f64().map(|x| x as f32))
    }
    /// An integer array as `i64` (`tokenizer.ggml.token_type`).
    pub fn get_i64_array(&self, key: &str) -> Result<Vec<i64>, GgufError> {
        self.typed_array(key, "array of integers fitting i64", |e| {
            e.as_integer().and_then(|i| i64::try_from(i).ok())
        })
    }
    /// An integer array as `u32`.
    pub fn get_u32_array(&self, key: &str) -> Result<Vec<u32>, GgufError> {
        self.typed_array(key, "array of integers fitting u32", |e| {
            e.as_integer().and_then(|i| u32::try_from(i).ok())
        })
    }
}

fn describe_with_value(v: &GgufValue) -> String {
    match v {
        GgufValue::Array(_) => v.describe(),
        GgufValue::String(s) if s.len() > 40 => format!("string ({} bytes)", s.len()),
        GgufValue::String(s) => format!("string {s:?}"),
        other => format!("{} {}", other.value_type(), scalar_text(other)),
    }
}

fn scalar_text(v: &GgufValue) -> String {
    match *v {
        GgufValue::F32(x) => x.to_string(),
        GgufValue::F64(x) => x.to_string(),
        GgufValue::Bool(b) => b.to_string(),
        _ => v.as_integer().map(|i| i.to_string()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Metadata {
        let mut m = Metadata::new("mem.gguf");
        m.insert("a.u32".into(), GgufValue::U32(7));
        m.insert("a.i32".into(), GgufValue::I32(9));
        m.insert("a.neg".into(), GgufValue::I32(-1));
        m.insert("a.big".into(), GgufValue::U64(1 << 40));
        m.insert("a.f32".into(), GgufValue::F32(1.5));
        m.insert("a.str".into(), GgufValue::String("llama".into()));
        m.insert("a.strs".into(), GgufValue::str_array(&["x", "y"]));
        m.insert(
            "a.ints".into(),
            GgufValue::array(
                GgufValueType::I32,
                vec![GgufValue::I32(1), GgufValue::I32(-2)],
            ),
        );
        m
    }

    #[test]
    fn typed_getters_convert_losslessly_and_reject_the_rest() {
        let m = table();
        assert_eq!(m.get_u32("a.u32").unwrap(), 7);
        assert_eq!(m.get_u32("a.i32").unwrap(), 9);
        assert_eq!(m.get_i64("a.neg").unwrap(), -1);
        assert_eq!(m.get_u64("a.big").unwrap(), 1 << 40);
        assert_eq!(m.get_f32("a.f32").unwrap(), 1.5);
        assert_eq!(m.get_f32("a.u32").unwrap(), 7.0);
        assert_eq!(m.get_str("a.str").unwrap(), "llama");
        assert_eq!(m.get_str_array("a.strs").unwrap(), vec!["x", "y"]);
        assert_eq!(m.get_i64_array("a.ints").unwrap(), vec![1, -2]);
        assert_eq!(m.get_f32_array("a.ints").unwrap(), vec![1.0, -2.0]);
        assert!(m.get_u32_opt("nope").unwrap().is_none());

        let e = m.get_u32("a.neg").unwrap_err().to_string();
        assert!(
            e.contains("mem.gguf") && e.contains("a.neg") && e.contains("i32 -1"),
            "{e}"
        );
        let e = m.get_u32("a.big").unwrap_err().to_string();
        assert!(e.contains("fitting u32"), "{e}");
        let e = m.get_str("a.u32").unwrap_err().to_string();
        assert!(e.contains("expected string") && e.contains("u32 7"), "{e}");
        let e = m.get_u32("nope").unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("`nope`"), "{e}");
        let e = m.get_str_array("a.ints").unwrap_err().to_string();
        assert!(e.contains("array of i32"), "{e}");
        let e = m.get_u32_array("a.ints").unwrap_err().to_string();
        assert!(e.contains("fitting u32"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let mut m = table();
        assert!(!m.insert("a.u32".into(), GgufValue::U32(1)));
        assert_eq!(m.get_u32("a.u32").unwrap(), 7);
        assert_eq!(m.len(), 8);
        assert_eq!(m.iter().next().unwrap().0, "a.u32");
    }
}

//! GGUF v3 writer (little-endian) for fixtures and exports: metadata of every value type,
//! tensors as F32/F16/BF16, quantized with the reference quantizers, or as raw ggml blocks;
//! tensor data aligned to `general.alignment` (default 32).

use std::path::{Path, PathBuf};

use super::error::GgufError;
use super::ggml_type::GgmlType;
use super::quantize::quantize;
use super::reader::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT, GGUF_MAGIC};
use super::value::{GgufValue, GgufValueType};

#[derive(Debug, Clone)]
struct PendingTensor {
    name: String,
    ggml_type: GgmlType,
    /// GGUF order (innermost first).
    dims: Vec<u64>,
    data: Vec<u8>,
}

/// Builds a GGUF v3 file in memory; [`GgufWriter::write`] puts it on disk.
///
/// Shapes passed in are row-major (`[out, in]`, like PyTorch); they are stored reversed as
/// GGUF dims.
#[derive(Debug, Clone)]
pub struct GgufWriter {
    metadata: Vec<(String, GgufValue)>,
    tensors: Vec<PendingTensor>,
    alignment: u64,
}

impl Default for GgufWriter {
    fn default() -> Self {
        Self::new()
    }
}

fn invalid(detail: String) -> GgufError {
    GgufError::InvalidInput {
        path: PathBuf::from("<gguf writer>"),
        detail,
    }
}

impl GgufWriter {
    pub fn new() -> Self {
        GgufWriter {
            metadata: Vec::new(),
            tensors: Vec::new(),
            alignment: DEFAULT_ALIGNMENT,
        }
    }

    /// Uses `alignment` (a power of two) and records it as `general.alignment` if not 32.
    pub fn with_alignment(mut self, alignment: u64) -> Result<Self, GgufError> {
        if alignment == 0 || !alignment.is_power_of_two() || alignment > u32::MAX as u64 {
            return Err(invalid(format!(
                "alignment must be a power of two, found {alignment}"
            )));
        }
        self.alignment = alignment;
        Ok(self)
    }

    /// Adds a metadata entry (keys must be unique; checked in [`GgufWriter::to_bytes`]).
    pub fn add_metadata(&mut self, key: impl Into<String>, value: GgufValue) -> &mut Self {
        self.metadata.push((key.into(), value));
        self
    }

    /// Adds an already-encoded tensor: `data` must be exactly the ggml blocks of `ty` for
    /// `shape` (row-major).
    pub fn add_tensor_raw(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        ty: GgmlType,
        data: Vec<u8>,
    ) -> Result<&mut Self, GgufError> {
        let name = name.into();
        let (block, _) = ty
            .block_layout()
            .ok_or_else(|| invalid(format!("tensor `{name}`: unknown ggml type {ty}")))?;
        let dims: Vec<u64> = shape.iter().rev().map(|&d| d as u64).collect();
        let inner = dims.first().copied().unwrap_or(1);
        if inner % block as u64 != 0 {
            return Err(invalid(format!(
                "tensor `{name}`: innermost dimension {inner} is not a multiple of the {} block \
                 size {block}",
                ty.name()
            )));
        }
        let n: u64 = dims.iter().product();
        let expected = ty.bytes_for(n);
        if expected != Some(data.len() as u64) {
            return Err(invalid(format!(
                "tensor `{name}`: {} data for shape {shape:?} should take {expected:?} bytes, \
                 found {}",
                ty.name(),
                data.len()
            )));
        }
        self.tensors.push(PendingTensor {
            name,
            ggml_type: ty,
            dims,
            data,
        });
        Ok(self)
    }

    /// Adds `data` (row-major, `shape`) encoded as `ty` (F32, F16, BF16 or any quantized type
    /// the reference quantizers support).
    pub fn add_tensor(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        ty: GgmlType,
        data: &[f32],
    ) -> Result<&mut Self, GgufError> {
        let name = name.into();
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(invalid(format!(
                "tensor `{name}`: shape {shape:?} holds {n} values, found {}",
                data.len()
            )));
        }
        if let Some((block, _)) = ty.block_layout() {
            let inner = shape.last().copied().unwrap_or(1);
            if inner % block != 0 {
                return Err(invalid(format!(
                    "tensor `{name}`: innermost dimension {inner} is not a multiple of the {} \
                     block size {block}",
                    ty.name()
                )));
            }
        }
        let bytes = quantize(ty, data).map_err(|e| invalid(format!("tensor `{name}`: {e}")))?;
        self.add_tensor_raw(name, shape, ty, bytes)
    }

    /// Adds an F32 tensor.
    pub fn add_tensor_f32(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        data: &[f32],
    ) -> Result<&mut Self, GgufError> {
        self.add_tensor(name, shape, GgmlType::F32, data)
    }

    /// Adds an F16 tensor (values rounded to nearest half).
    pub fn add_tensor_f16(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        data: &[f32],
    ) -> Result<&mut Self, GgufError> {
        self.add_tensor(name, shape, GgmlType::F16, data)
    }

    /// The complete file as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, GgufError> {
        let mut metadata: Vec<(&str, &GgufValue)> =
            self.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        for (i, (k, _)) in metadata.iter().enumerate() {
            if metadata[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(invalid(format!("metadata key `{k}` added twice")));
            }
        }
        let align_value = GgufValue::U32(self.alignment as u32);
        match metadata.iter().find(|(k, _)| *k == ALIGNMENT_KEY) {
            Some((_, v)) if v.as_integer() != Some(self.alignment as i128) => {
                return Err(invalid(format!(
                    "`{ALIGNMENT_KEY}` is {v:?} but the writer aligns to {}; use with_alignment",
                    self.alignment
                )));
            }
            Some(_) => {}
            None if self.alignment != DEFAULT_ALIGNMENT => {
                metadata.push((ALIGNMENT_KEY, &align_value))
            }
            None => {}
        }
        for (i, t) in self.tensors.iter().enumerate() {
            if self.tensors[..i].iter().any(|t2| t2.name == t.name) {
                return Err(invalid(format!("tensor `{}` added twice", t.name)));
            }
        }

        let mut out = Vec::new();
        out.extend_from_slice(&GGUF_MAGIC);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
        for (k, v) in &metadata {
            write_string(&mut out, k);
            out.extend_from_slice(&v.value_type().id().to_le_bytes());
            write_value(&mut out, v).map_err(|e| invalid(format!("metadata key `{k}`: {e}")))?;
        }
        let mut offset = 0u64;
        let mut offsets = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            write_string(&mut out, &t.name);
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&t.ggml_type.id().to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + t.data.len() as u64).div_ceil(self.alignment) * self.alignment;
        }
        pad_to(&mut out, self.alignment);
        let data_start = out.len() as u64;
        for (t, off) in self.tensors.iter().zip(offsets) {
            out.resize((data_start + off) as usize, 0);
            out.extend_from_slice(&t.data);
        }
        pad_to(&mut out, self.alignment);
        Ok(out)
    }

    /// Writes the file to `path`.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), GgufError> {
        let path = path.as_ref();
        let bytes = self.to_bytes().map_err(|e| match e {
            GgufError::InvalidInput { detail, .. } => GgufError::InvalidInput {
                path: path.to_path_buf(),
                detail,
            },
            e => e,
        })?;
        std::fs::write(path, bytes).map_err(|source| GgufError::Io {
            path: path.to_path_buf(),
            context: "writing the GGUF file".into(),
            source,
        })
    }
}

fn pad_to(out: &mut Vec<u8>, alignment: u64) {
    let len = (out.len() as u64).div_ceil(alignment) * alignment;
    out.resize(len as usize, 0);
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn write_value(out: &mut Vec<u8>, v: &GgufValue) -> Result<(), String> {
    match v {
        GgufValue::U8(x) => out.push(*x),
        GgufValue::I8(x) => out.push(*x as u8),
        GgufValue::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::Bool(x) => out.push(*x as u8),
        GgufValue::String(s) => write_string(out, s),
        GgufValue::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
        GgufValue::Array(a) => {
            out.extend_from_slice(&a.elem_type.id().to_le_bytes());
            out.extend_from_slice(&(a.values.len() as u64).to_le_bytes());
            for (i, e) in a.values.iter().enumerate() {
                if e.value_type() != a.elem_type {
                    return Err(format!(
                        "array element {i} has type {}, the array declares {}",
                        e.value_type(),
                        a.elem_type
                    ));
                }
                write_value(out, e)?;
            }
        }
    }
    Ok(())
}

/// Shorthand for a typed array of scalars: `array_of(GgufValueType::I32, [1, 2].map(GgufValue::I32))`.
pub fn array_of(
    elem_type: GgufValueType,
    values: impl IntoIterator<Item = GgufValue>,
) -> GgufValue {
    GgufValue::array(elem_type, values.into_iter().collect())
}

//! GGUF v3 (and v2) reader. Layout (little-endian): `"GGUF"`, `u32` version, `u64` tensor
//! count, `u64` metadata count, metadata `(string key, u32 type, value)*`, tensor infos
//! `(string name, u32 n_dims, u64 dims[n_dims] innermost-first, u32 ggml type, u64 offset)*`,
//! zero padding to `general.alignment` (default 32), then the data section; tensor offsets
//! are relative to the data section and multiples of the alignment.
//!
//! The header is parsed through a buffered reader; tensor bytes are read on demand with a
//! seek, so a file is never held in memory whole.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::error::GgufError;
use super::ggml_type::GgmlType;
use super::quant;
use super::value::{GgufArray, GgufValue, GgufValueType, Metadata};

/// `"GGUF"` as the first four bytes.
pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";
/// Alignment of the data section and of tensor offsets when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// The metadata key overriding the alignment.
pub const ALIGNMENT_KEY: &str = "general.alignment";
/// Most dimensions a tensor info may have (ggml uses 4; a little headroom).
pub const MAX_DIMS: u32 = 8;
/// Deepest nesting of arrays accepted (guards the recursion against hostile files).
pub const MAX_ARRAY_DEPTH: usize = 8;

/// One tensor's entry in the header.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub ggml_type: GgmlType,
    /// GGUF / ggml order: innermost (contiguous) dimension first — `[in, out]` for a matrix.
    pub dims: Vec<u64>,
    /// Byte offset relative to the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Row-major shape like PyTorch (the reversed `dims`): `[out, in]` for a matrix.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// Number of values (product of the dims; validated not to overflow when the file opened).
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Bytes in the data section; `None` for unknown types.
    pub fn n_bytes(&self) -> Option<u64> {
        self.ggml_type.bytes_for(self.n_elements())
    }
}

/// An open GGUF file: header, metadata and tensor infos in memory, tensor data on disk.
#[derive(Debug)]
pub struct GgufFile {
    path: PathBuf,
    version: u32,
    metadata: Metadata,
    tensors: Vec<TensorInfo>,
    index: HashMap<String, usize>,
    alignment: u64,
    data_offset: u64,
    file_len: u64,
    file: Mutex<File>,
}

impl GgufFile {
    /// Opens and validates a GGUF v2/v3 file: header, metadata, tensor infos, alignment,
    /// and that every tensor of a known type lies inside the file.
    pub fn open(path: impl AsRef<Path>) -> Result<GgufFile, GgufError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |context: &str, source| GgufError::Io {
            path: path.clone(),
            context: context.to_owned(),
            source,
        };
        let file = File::open(&path).map_err(|e| io_err("opening the file", e))?;
        let file_len = file
            .metadata()
            .map_err(|e| io_err("reading the file size", e))?
            .len();
        let header_file = file
            .try_clone()
            .map_err(|e| io_err("duplicating the file handle", e))?;
        let mut r = HeaderReader {
            inner: BufReader::with_capacity(1 << 16, header_file),
            pos: 0,
            len: file_len,
            path: &path,
            context: String::from("the header"),
        };

        let magic: [u8; 4] = r.array("magic")?;
        if magic != GGUF_MAGIC {
            return Err(GgufError::BadMagic { path, found: magic });
        }
        let version = r.u32("version")?;
        if version != 2 && version != 3 {
            let hint = if version == 1 {
                " — GGUF v1 used 32-bit counts; re-convert the model with a current llama.cpp"
                    .to_owned()
            } else if version.swap_bytes() == 2 || version.swap_bytes() == 3 {
                format!(
                    " — this looks like a big-endian GGUF v{}, which strata does not read",
                    version.swap_bytes()
                )
            } else {
                String::new()
            };
            return Err(GgufError::UnsupportedVersion {
                path,
                found: version,
                hint,
            });
        }
        let n_tensors = r.u64("tensor count")?;
        let n_kv = r.u64("metadata count")?;
        // Each kv needs at least 8 (key len) + 4 (type) + 1 bytes, each tensor info 8+4+4+8.
        r.check_count(n_kv, 13, "metadata entries")?;
        r.check_count(n_tensors, 24, "tensor infos")?;

        let mut metadata = Metadata::new(&path);
        for i in 0..n_kv {
            r.context = format!("metadata entry #{i}");
            let key = r.string("key")?;
            r.context = format!("metadata key `{key}`");
            let type_id = r.u32("value type")?;
            let ty =
                GgufValueType::from_id(type_id).ok_or_else(|| GgufError::UnknownValueType {
                    path: path.clone(),
                    key: key.clone(),
                    type_id,
                })?;
            let value = r.value(ty, &key, 0)?;
            if !metadata.insert(key.clone(), value) {
                return Err(r.corrupt(format!("metadata key `{key}` appears twice")));
            }
        }

        let alignment = match metadata.get_u64_opt(ALIGNMENT_KEY)? {
            None => DEFAULT_ALIGNMENT,
            Some(a) if a > 0 && a.is_power_of_two() => a,
            Some(a) => {
                return Err(r.corrupt(format!(
                    "`{ALIGNMENT_KEY}` must be a non-zero power of two, found {a}"
                )));
            }
        };

        let mut tensors = Vec::with_capacity(n_tensors as usize);
        let mut index = HashMap::with_capacity(n_tensors as usize);
        for i in 0..n_tensors {
            r.context = format!("tensor info #{i}");
            let name = r.string("name")?;
            r.context = format!("tensor info #{i} (`{name}`)");
            let n_dims = r.u32("dimension count")?;
            if n_dims > MAX_DIMS {
                return Err(r.corrupt(format!(
                    "tensor `{name}` has {n_dims} dimensions (at most {MAX_DIMS} supported)"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(r.u64("dimension")?);
            }
            let type_id = r.u32("ggml type")?;
            let offset = r.u64("data offset")?;
            let info = TensorInfo {
                name,
                ggml_type: GgmlType::from_id(type_id),
                dims,
                offset,
            };
            if index.insert(info.name.clone(), tensors.len()).is_some() {
                return Err(r.corrupt(format!("tensor `{}` appears twice", info.name)));
            }
            tensors.push(info);
        }

        let header_end = r.pos;
        let data_offset = header_end.div_ceil(alignment) * alignment;
        let file = GgufFile {
            path,
            version,
            metadata,
            tensors,
            index,
            alignment,
            data_offset,
            file_len,
            file: Mutex::new(file),
        };
        for t in &file.tensors {
            file.validate_tensor(t)?;
        }
        Ok(file)
    }

    fn validate_tensor(&self, t: &TensorInfo) -> Result<(), GgufError> {
        let corrupt = |detail: String| GgufError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        let n = t
            .dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                corrupt(format!(
                    "tensor `{}` dims {:?} overflow the element count",
                    t.name, t.dims
                ))
            })?;
        if t.offset % self.alignment != 0 {
            return Err(corrupt(format!(
                "tensor `{}` offset {} is not a multiple of the alignment {}",
                t.name, t.offset, self.alignment
            )));
        }
        let Some((block, _)) = t.ggml_type.block_layout() else {
            return Ok(()); // unknown type: size unknown, reported when dequantized
        };
        let row = t.dims.first().copied().unwrap_or(1);
        if row % block as u64 != 0 {
            return Err(GgufError::ShapeMismatch {
                path: self.path.clone(),
                tensor: t.name.clone(),
                what: format!("innermost dimension of a {} tensor", t.ggml_type.name()),
                expected: format!("a multiple of the block size {block}"),
                found: row.to_string(),
            });
        }
        let size = t
            .ggml_type
            .bytes_for(n)
            .ok_or_else(|| corrupt(format!("tensor `{}` byte size overflows", t.name)))?;
        let start = self.data_offset.checked_add(t.offset);
        let end = start.and_then(|s| s.checked_add(size));
        match (start, end) {
            (Some(_), Some(end)) if end <= self.file_len => Ok(()),
            _ => Err(GgufError::TensorOutOfBounds {
                path: self.path.clone(),
                tensor: t.name.clone(),
                start: self.data_offset.saturating_add(t.offset),
                end: self
                    .data_offset
                    .saturating_add(t.offset)
                    .saturating_add(size),
                file_len: self.file_len,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The GGUF version (2 or 3).
    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Tensor infos in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.index.get(name).map(|&i| &self.tensors[i])
    }

    /// Data-section alignment (`general.alignment`, default 32).
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Absolute file offset of the data section.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// `general.architecture` (`"llama"`, `"qwen2"`, ...).
    pub fn architecture(&self) -> Result<&str, GgufError> {
        self.metadata.get_str("general.architecture")
    }

    fn info_or_err(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.tensor_info(name)
            .ok_or_else(|| GgufError::TensorNotFound {
                path: self.path.clone(),
                name: name.to_owned(),
            })
    }

    /// The tensor's raw bytes (ggml blocks) as stored.
    pub fn tensor_bytes(&self, name: &str) -> Result<Vec<u8>, GgufError> {
        let t = self.info_or_err(name)?;
        let size = t.n_bytes().ok_or_else(|| {
            quant::unsupported(t.ggml_type, "the GGUF reader").in_tensor(&self.path, &t.name)
        })?;
        let start = self.data_offset + t.offset; // validated in `open`
        let io_err = |source| GgufError::Io {
            path: self.path.clone(),
            context: format!("reading tensor `{name}` ({size} bytes at offset {start})"),
            source,
        };
        let mut buf = vec![0u8; size as usize];
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.seek(SeekFrom::Start(start)).map_err(io_err)?;
        file.read_exact(&mut buf).map_err(io_err)?;
        Ok(buf)
    }

    /// Dequantizes a tensor to `f32`; returns the values and the row-major shape
    /// (`[out, in]` for a matrix).
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), GgufError> {
        let t = self.info_or_err(name)?;
        if !quant::is_supported(t.ggml_type) {
            return Err(quant::unsupported(t.ggml_type, "dequantize").in_tensor(&self.path, name));
        }
        let bytes = self.tensor_bytes(name)?;
        let data = quant::dequantize(t.ggml_type, &bytes, t.n_elements() as usize)
            .map_err(|e| e.in_tensor(&self.path, name))?;
        Ok((data, t.shape()))
    }
}

/// Bounds-checked little-endian reads over the header, tracking the offset for errors.
struct HeaderReader<'a> {
    inner: BufReader<File>,
    pos: u64,
    len: u64,
    path: &'a Path,
    /// What is being parsed ("metadata key `x`"), for error messages.
    context: String,
}

impl HeaderReader<'_> {
    fn truncated(&self, what: &str, needed: u64) -> GgufError {
        GgufError::Truncated {
            path: self.path.to_path_buf(),
            what: format!("the {what} of {}", self.context),
            offset: self.pos,
            needed,
            file_len: self.len,
        }
    }

    fn corrupt(&self, detail: String) -> GgufError {
        GgufError::Corrupt {
            path: self.path.to_path_buf(),
            detail,
        }
    }

    /// Fails unless `count` items of at least `min_size` bytes could fit in the rest of the file.
    fn check_count(&self, count: u64, min_size: u64, what: &str) -> Result<(), GgufError> {
        let remaining = self.len.saturating_sub(self.pos);
        match count.checked_mul(min_size) {
            Some(n) if n <= remaining => Ok(()),
            _ => Err(self.truncated(
                &format!("{count} {what} (at least {min_size} bytes each)"),
                count.saturating_mul(min_size),
            )),
        }
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, GgufError> {
        if self.len.saturating_sub(self.pos) < n {
            return Err(self.truncated(what, n));
        }
        let mut buf = vec![0u8; n as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|source| GgufError::Io {
                path: self.path.to_path_buf(),
                context: format!(
                    "reading the {what} of {} at offset {}",
                    self.context, self.pos
                ),
                source,
            })?;
        self.pos += n;
        Ok(buf)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let v = self.bytes(N as u64, what)?;
        Ok(v.try_into().expect("length checked"))
    }

    fn u8(&mut self, what: &str) -> Result<u8, GgufError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, GgufError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// `u64` length + UTF-8 bytes.
    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let len = self.u64(&format!("{what} length"))?;
        let start = self.pos;
        let bytes = self.bytes(len, what)?;
        String::from_utf8(bytes).map_err(|e| {
            self.corrupt(format!(
                "the {what} of {} at offset {start} is not valid UTF-8 ({e})",
                self.context
            ))
        })
    }

    fn value(
        &mut self,
        ty: GgufValueType,
        key: &str,
        depth: usize,
    ) -> Result<GgufValue, GgufError> {
        use GgufValueType as T;
        Ok(match ty {
            T::U8 => GgufValue::U8(self.u8("u8 value")?),
            T::I8 => GgufValue::I8(self.u8("i8 value")? as i8),
            T::U16 => GgufValue::U16(self.u16("u16 value")?),
            T::I16 => GgufValue::I16(self.u16("i16 value")? as i16),
            T::U32 => GgufValue::U32(self.u32("u32 value")?),
            T::I32 => GgufValue::I32(self.u32("i32 value")? as i32),
            T::F32 => GgufValue::F32(f32::from_bits(self.u32("f32 value")?)),
            T::U64 => GgufValue::U64(self.u64("u64 value")?),
            T::I64 => GgufValue::I64(self.u64("i64 value")? as i64),
            T::F64 => GgufValue::F64(f64::from_bits(self.u64("f64 value")?)),
            T::Bool => match self.u8("bool value")? {
                0 => GgufValue::Bool(false),
                1 => GgufValue::Bool(true),
                b => {
                    return Err(self.corrupt(format!(
                        "metadata key `{key}`: bool value must be 0 or 1, found {b}"
                    )));
                }
            },
            T::String => GgufValue::String(self.string("string value")?),
            T::Array => {
                if depth >= MAX_ARRAY_DEPTH {
                    return Err(self.corrupt(format!(
                        "metadata key `{key}`: arrays nested deeper than {MAX_ARRAY_DEPTH}"
                    )));
                }
                let elem_id = self.u32("array element type")?;
                let elem_type =
                    GgufValueType::from_id(elem_id).ok_or_else(|| GgufError::UnknownValueType {
                        path: self.path.to_path_buf(),
                        key: format!("{key} (array element)"),
                        type_id: elem_id,
                    })?;
                let count = self.u64("array length")?;
                self.check_count(
                    count,
                    elem_type.min_size(),
                    &format!("{elem_type} array elements"),
                )?;
                let mut values = Vec::with_capacity(count as usize);
                for _ in 0..count {
                    values.push(self.value(elem_type, key, depth + 1)?);
                }
                GgufValue::Array(GgufArray { elem_type, values })
            }
        })
    }
}

//! Where model weights come from: a [`WeightSource`] yields host tensors by Hugging Face name;
//! [`SafetensorsSource`] reads `model.safetensors` or a sharded set with its index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Param;
use burn::tensor::{Tensor, TensorData, backend::Backend};
use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};

use crate::error::{ModelError, Result};
use strata_adapters::AdaptedLinear;

/// A tensor on the host: row-major f32 data and its shape (PyTorch layout, `[out, in]`).
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Shape, outermost first.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// A provider of named weights (HF names such as `model.layers.0.self_attn.q_proj.weight`).
pub trait WeightSource {
    /// The file or directory, for error messages.
    fn describe(&self) -> String;
    /// Whether the tensor exists.
    fn contains(&self, name: &str) -> bool;
    /// Loads one tensor as f32.
    fn load(&self, name: &str) -> Result<HostTensor>;
    /// `Some(std)` for a source that asks the [`Loader`] to initialise tensors at random.
    fn random_std(&self) -> Option<f64> {
        None
    }
}

/// Safetensors weights: one file, or shards listed by `model.safetensors.index.json`.
/// Files are read into memory once; f32, f16 and bf16 tensors are converted to f32.
pub struct SafetensorsSource {
    root: PathBuf,
    /// Shard file name → bytes.
    shards: BTreeMap<String, Vec<u8>>,
    /// Tensor name → shard file name.
    index: BTreeMap<String, String>,
}

impl SafetensorsSource {
    /// Opens `path`: a `.safetensors` file, or a directory holding `model.safetensors` or
    /// `model.safetensors.index.json` and its shards.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |p: &Path, e: std::io::Error| ModelError::Io { path: p.display().to_string(), msg: e.to_string() };
        let (root, files): (PathBuf, Vec<String>) = if path.is_file() {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            (path.parent().unwrap_or(Path::new(".")).to_path_buf(), vec![name])
        } else if path.join("model.safetensors").is_file() {
            (path.to_path_buf(), vec!["model.safetensors".into()])
        } else if path.join("model.safetensors.index.json").is_file() {
            let index_path = path.join("model.safetensors.index.json");
            let index: serde_json::Value = crate::config::read_json(&index_path)?;
            let map = index.get("weight_map").and_then(|m| m.as_object()).ok_or_else(|| ModelError::Corrupt {
                path: index_path.display().to_string(),
                msg: "no `weight_map` object".into(),
            })?;
            let mut files: Vec<String> = map.values().filter_map(|v| v.as_str().map(String::from)).collect();
            files.sort();
            files.dedup();
            (path.to_path_buf(), files)
        } else {
            return Err(ModelError::Io {
                path: path.display().to_string(),
                msg: "no model.safetensors or model.safetensors.index.json here".into(),
            });
        };
        let mut shards = BTreeMap::new();
        let mut index = BTreeMap::new();
        for file in files {
            let p = root.join(&file);
            let bytes = std::fs::read(&p).map_err(|e| io(&p, e))?;
            let names = SafeTensors::deserialize(&bytes)
                .map_err(|e| ModelError::Corrupt { path: p.display().to_string(), msg: e.to_string() })?
                .names()
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>();
            for n in names {
                index.insert(n, file.clone());
            }
            shards.insert(file, bytes);
        }
        Ok(Self { root, shards, index })
    }

    /// Every tensor name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.index.keys().cloned().collect()
    }
}

impl WeightSource for SafetensorsSource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn load(&self, name: &str) -> Result<HostTensor> {
        let file = self.index.get(name).ok_or_else(|| ModelError::MissingTensor { source_desc: self.describe(), name: name.into() })?;
        let path = self.root.join(file);
        let st = SafeTensors::deserialize(&self.shards[file]).map_err(|e| ModelError::Corrupt { path: path.display().to_string(), msg: e.to_string() })?;
        let view = st.tensor(name).map_err(|e| ModelError::Corrupt { path: path.display().to_string(), msg: e.to_string() })?;
        let bytes = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            Dtype::F16 => bytes.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Dtype::BF16 => bytes.chunks_exact(2).map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Dtype::I32 => bytes.chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32).collect(),
            Dtype::I64 => bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32).collect(),
            other => return Err(ModelError::UnsupportedDtype { source_desc: path.display().to_string(), name: name.into(), dtype: format!("{other:?}") }),
        };
        Ok(HostTensor { shape: view.shape().to_vec(), data })
    }
}

/// Builds burn modules from a [`WeightSource`], checking every shape against the config.
pub struct Loader<'a, B: Backend> {
    source: &'a dyn WeightSource,
    device: B::Device,
}

/// A [`WeightSource`] with no tensors: [`Loader::random`] initialises every weight instead
/// (for speed benchmarks and tests of model shapes without a checkpoint).
pub struct RandomInit {
    /// Standard deviation of matrix entries (default 0.02, as HF's `initializer_range`).
    pub std: f64,
}

impl WeightSource for RandomInit {
    fn describe(&self) -> String {
        format!("random init (std {})", self.std)
    }
    fn contains(&self, _name: &str) -> bool {
        false
    }
    fn load(&self, name: &str) -> Result<HostTensor> {
        Err(ModelError::MissingTensor { source_desc: self.describe(), name: name.into() })
    }
    fn random_std(&self) -> Option<f64> {
        Some(self.std)
    }
}

impl<'a, B: Backend> Loader<'a, B> {
    /// A loader placing tensors on `device`.
    pub fn new(source: &'a dyn WeightSource, device: &B::Device) -> Self {
        Self { source, device: device.clone() }
    }

    /// A loader that initialises every tensor at random instead of reading it: norm scales
    /// 1, biases 0, everything else N(0, std²) from the backend's RNG. Tied heads stay tied
    /// (`contains` is false for every name).
    pub fn random(init: &'a RandomInit, device: &B::Device) -> Self {
        Self { source: init, device: device.clone() }
    }

    fn random_tensor<const D: usize>(&self, name: &str, shape: [usize; D], std: f64) -> Tensor<B, D> {
        if name.ends_with("norm.weight") || name.ends_with("layer_norm.weight") {
            Tensor::ones(shape, &self.device)
        } else if name.ends_with(".bias") {
            Tensor::zeros(shape, &self.device)
        } else {
            Tensor::random(shape, burn::tensor::Distribution::Normal(0.0, std), &self.device)
        }
    }

    /// The target device.
    pub fn device(&self) -> &B::Device {
        &self.device
    }

    /// Whether the source has `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.source.contains(name)
    }

    /// Loads `name`, which must have shape `expected`.
    pub fn tensor<const D: usize>(&self, name: &str, expected: [usize; D]) -> Result<Tensor<B, D>> {
        if let Some(std) = self.source.random_std() {
            return Ok(self.random_tensor(name, expected, std));
        }
        let t = self.load_checked(name, &expected)?;
        Ok(Tensor::from_data(TensorData::new(t.data, expected), &self.device))
    }

    /// `name`, stored as `[rows, cols]`, transposed to `[cols, rows]` on the host so the
    /// device tensor is contiguous. burn-ndarray copies matmul operands either way, but a
    /// lazily transposed view costs more per call (SmolLM2 CPU generation 1.8 → 2.4 tokens/s
    /// with contiguous weights, docs/benchmarks.md).
    pub fn tensor_transposed(&self, name: &str, [rows, cols]: [usize; 2]) -> Result<Tensor<B, 2>> {
        if let Some(std) = self.source.random_std() {
            return Ok(self.random_tensor(name, [cols, rows], std));
        }
        let t = self.load_checked(name, &[rows, cols])?;
        let mut data = vec![0f32; rows * cols];
        for (r, row) in t.data.chunks_exact(cols).enumerate() {
            for (c, &x) in row.iter().enumerate() {
                data[c * rows + r] = x;
            }
        }
        Ok(Tensor::from_data(TensorData::new(data, [cols, rows]), &self.device))
    }

    /// Loads `name` and checks its shape against `expected`.
    fn load_checked(&self, name: &str, expected: &[usize]) -> Result<HostTensor> {
        let t = self.source.load(name)?;
        if t.shape != expected {
            return Err(ModelError::ShapeMismatch { source_desc: self.source.describe(), name: name.into(), expected: expected.to_vec(), found: t.shape });
        }
        Ok(t)
    }

    /// A parameter from `name` with shape `expected`.
    pub fn param<const D: usize>(&self, name: &str, expected: [usize; D]) -> Result<Param<Tensor<B, D>>> {
        Ok(Param::from_tensor(self.tensor(name, expected)?))
    }

    /// `{prefix}.weight` (`[d_out, d_in]` in the file, transposed to burn's `[d_in, d_out]`)
    /// and, if `bias`, `{prefix}.bias`.
    pub fn linear(&self, prefix: &str, d_in: usize, d_out: usize, bias: bool) -> Result<AdaptedLinear<B>> {
        let w = self.tensor_transposed(&format!("{prefix}.weight"), [d_out, d_in])?;
        let b = if bias { Some(self.tensor::<1>(&format!("{prefix}.bias"), [d_out])?) } else { None };
        Ok(AdaptedLinear::new(w, b))
    }
}

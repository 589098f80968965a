//! GGUF v3 reader with dequantization (plain Rust, no burn).
//!
//! - [`reader`]: header, metadata, tensor infos, per-tensor reads ([`GgufFile`]).
//! - [`value`]: metadata values and the typed-getter table ([`Metadata`]).
//! - [`ggml_type`]: ggml type ids and block layouts ([`GgmlType`]).
//! - [`quant`]: dequantization of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K.
//! - [`quantize`]: reference round-to-nearest quantizers for the same types.
//! - [`names`]: llama.cpp → Hugging Face names and the Q/K row un-permute.
//! - [`hparams`]: decoder hyper-parameters from metadata ([`HParams`]).
//! - [`writer`]: GGUF v3 writer for fixtures ([`GgufWriter`]).
//!
//! Shapes are row-major like PyTorch (`[out, in]` for a matrix); GGUF stores dims
//! innermost-first, [`TensorInfo::dims`] keeps that raw order. See `docs/gguf.md`.
//!
//! ```no_run
//! use strata_models::gguf::GgufFile;
//! let f = GgufFile::open("model.gguf")?;
//! let hp = f.hparams()?;
//! let (values, shape) = f.tensor_f32("blk.0.attn_q.weight")?; // GGUF layout, [out, in]
//! let q = f.hf_tensor("blk.0.attn_q.weight", &hp)?; // HF name and rotate-half rows
//! # Ok::<(), strata_models::gguf::GgufError>(())
//! ```

pub mod error;
pub mod ggml_type;
pub mod hparams;
pub mod names;
pub mod quant;
pub mod quantize;
pub mod reader;
pub mod value;
pub mod writer;

#[cfg(test)]
mod tests;

pub use error::{DataError, GgufError};
pub use ggml_type::{GgmlType, QK_K};
pub use hparams::HParams;
pub use names::{HfTensor, hf_name, unpermute_qk_rows};
pub use quant::{SUPPORTED_TYPES, dequantize};
pub use quantize::quantize;
pub use reader::{DEFAULT_ALIGNMENT, GgufFile, TensorInfo};
pub use value::{GgufArray, GgufValue, GgufValueType, Metadata};
pub use writer::GgufWriter;

//! Checkpoints after every task, written atomically, and resume.
//!
//! Layout under `<run_dir>/checkpoint/`: `tensors-<k>.safetensors` (every model parameter by
//! module path, plus the method's tensors under `method.`), and `state.json` (the commit
//! point: config, tasks done, method state, results so far, the tensor file's name). Each
//! file is written to a temporary name, synced and renamed, and `state.json` last, so a
//! crash at any point leaves the previous checkpoint intact.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{ClError, Result};
use crate::params::HostTensor;

/// Prefix of method tensors in the tensor file.
pub const METHOD_PREFIX: &str = "method.";

/// The JSON part of a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Format version (1).
    pub version: u32,
    /// Tasks finished.
    pub tasks_done: usize,
    /// The run configuration that wrote it (a resume must use the same).
    pub config: serde_json::Value,
    /// The method's JSON state.
    pub method: serde_json::Value,
    /// Results so far (the engine's own record).
    pub progress: serde_json::Value,
    /// Name of the tensor file beside `state.json`.
    pub tensors_file: String,
    /// How the RNG is reseeded: `(seed, task index)` determine every stream, so resuming at
    /// task k reproduces what an uninterrupted run does.
    pub rng: String,
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| ClError::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| ClError::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| ClError::io(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| ClError::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| ClError::io(path, e.error))?;
    Ok(())
}

/// Serialises host tensors as an f32 safetensors file.
pub fn safetensors_bytes(tensors: &BTreeMap<String, HostTensor>) -> Result<Vec<u8>> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors.iter().map(|(n, t)| (n.clone(), t.shape.clone(), t.data.iter().flat_map(|v| v.to_le_bytes()).collect())).collect();
    let views = bytes
        .iter()
        .map(|(n, shape, b)| TensorView::new(Dtype::F32, shape.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClError::config(format!("cannot build a tensor view: {e}")))?;
    safetensors::serialize(views, None).map_err(|e| ClError::config(format!("cannot serialise tensors: {e}")))
}

/// Reads an f32 safetensors file written by [`safetensors_bytes`].
pub fn read_safetensors(path: &Path) -> Result<BTreeMap<String, HostTensor>> {
    let bytes = std::fs::read(path).map_err(|e| ClError::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| ClError::Checkpoint { path: path.into(), msg: format!("not a safetensors file: {e}") })?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(ClError::Checkpoint { path: path.into(), msg: format!("tensor {name} is {:?}, expected F32", view.dtype()) });
        }
        let data = view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        out.insert(name, HostTensor { shape: view.shape().to_vec(), data });
    }
    Ok(out)
}

/// The checkpoint directory of a run directory.
pub fn checkpoint_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("checkpoint")
}

/// Writes a checkpoint: the tensor file, then `state.json`; removes older tensor files.
pub fn save(run_dir: &Path, mut state: CheckpointState, tensors: &BTreeMap<String, HostTensor>) -> Result<()> {
    let dir = checkpoint_dir(run_dir);
    state.tensors_file = format!("tensors-{}.safetensors", state.tasks_done);
    write_atomic(&dir.join(&state.tensors_file), &safetensors_bytes(tensors)?)?;
    let json = serde_json::to_vec_pretty(&state).map_err(|e| ClError::io(dir.join("state.json"), e))?;
    write_atomic(&dir.join("state.json"), &json)?;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("tensors-") && name != state.tensors_file {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// Loads the last checkpoint of a run directory, if there is one.
pub fn load(run_dir: &Path) -> Result<Option<(CheckpointState, BTreeMap<String, HostTensor>)>> {
    let dir = checkpoint_dir(run_dir);
    let state_path = dir.join("state.json");
    if !state_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&state_path).map_err(|e| ClError::io(&state_path, e))?;
    let state: CheckpointState = serde_json::from_str(&text).map_err(|e| ClError::Checkpoint { path: state_path.clone(), msg: format!("unreadable: {e}") })?;
    if state.version != 1 {
        return Err(ClError::Checkpoint { path: state_path, msg: format!("format version {} is not supported (expected 1)", state.version) });
    }
    let tensors = read_safetensors(&dir.join(&state.tensors_file))?;
    Ok(Some((state, tensors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_round_trip_and_old_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = BTreeMap::new();
        t.insert("a.b".to_string(), HostTensor { shape: vec![2, 3], data: vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5] });
        let state = |k| CheckpointState { version: 1, tasks_done: k, config: serde_json::json!({}), method: serde_json::Value::Null, progress: serde_json::Value::Null, tensors_file: String::new(), rng: "test".into() };
        save(dir.path(), state(1), &t).unwrap();
        save(dir.path(), state(2), &t).unwrap();
        let (s, back) = load(dir.path()).unwrap().unwrap();
        assert_eq!(s.tasks_done, 2);
        assert_eq!(back, t);
        let files: Vec<_> = std::fs::read_dir(checkpoint_dir(dir.path())).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert!(!files.contains(&"tensors-1.safetensors".to_string()), "{files:?}");
    }

    #[test]
    fn corrupt_state_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(checkpoint_dir(dir.path())).unwrap();
        std::fs::write(checkpoint_dir(dir.path()).join("state.json"), "{not json").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("state.json"), "{err}");
    }
}

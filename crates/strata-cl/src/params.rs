//! Parameter bookkeeping over any burn module: paths, counts, host copies, and loading by
//! path with shape checks (checkpoints).

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData, backend::Backend};
use serde::{Deserialize, Serialize};

use crate::error::{ClError, Result};

/// A float tensor on the host, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostTensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Values.
    pub data: Vec<f32>,
}

impl HostTensor {
    /// Copies a device tensor to the host.
    pub fn from_tensor<B: Backend, const D: usize>(t: &Tensor<B, D>) -> Self {
        Self { shape: t.dims().to_vec(), data: t.to_data().convert::<f32>().to_vec().expect("float tensor data") }
    }

    /// Uploads to `device`; the shape must have rank `D`.
    pub fn to_tensor<B: Backend, const D: usize>(&self, device: &B::Device) -> Tensor<B, D> {
        Tensor::from_data(TensorData::new(self.data.clone(), self.shape.clone()), device)
    }
}

/// One float parameter: its module path (`lm.model.layers.0.self_attn.q_proj.weight`), id,
/// shape and whether it receives gradients.
#[derive(Debug, Clone)]
pub struct ParamInfo {
    /// Dotted module path.
    pub path: String,
    /// The parameter id (keys gradients and optimizer state).
    pub id: ParamId,
    /// Shape.
    pub shape: Vec<usize>,
    /// Whether it requires gradients (always false on a non-autodiff backend).
    pub trainable: bool,
}

impl ParamInfo {
    /// Number of scalars.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Default)]
struct PathStack(Vec<String>);

impl PathStack {
    fn enter(&mut self, name: &str) {
        self.0.push(name.to_owned());
    }
    fn exit(&mut self) {
        self.0.pop();
    }
    fn path(&self) -> String {
        self.0.join(".")
    }
}

struct InfoVisitor {
    stack: PathStack,
    out: Vec<ParamInfo>,
}

impl<B: Backend> ModuleVisitor<B> for InfoVisitor {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.stack.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.stack.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let t = param.val();
        self.out.push(ParamInfo { path: self.stack.path(), id: param.id, shape: t.dims().to_vec(), trainable: t.is_require_grad() });
    }
}

/// Every float parameter of `module`, in visiting order.
pub fn param_infos<B: Backend, M: Module<B>>(module: &M) -> Vec<ParamInfo> {
    let mut v = InfoVisitor { stack: PathStack::default(), out: Vec::new() };
    module.visit(&mut v);
    v.out
}

/// `(trainable, total)` scalar counts.
pub fn param_counts<B: Backend, M: Module<B>>(module: &M) -> (usize, usize) {
    param_infos::<B, M>(module).iter().fold((0, 0), |(t, n), p| (t + if p.trainable { p.numel() } else { 0 }, n + p.numel()))
}

struct HostVisitor<'a> {
    stack: PathStack,
    filter: &'a dyn Fn(&str) -> bool,
    out: BTreeMap<String, HostTensor>,
}

impl<B: Backend> ModuleVisitor<B> for HostVisitor<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.stack.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.stack.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let path = self.stack.path();
        if (self.filter)(&path) {
            self.out.insert(path, HostTensor::from_tensor(&param.val()));
        }
    }
}

/// Host copies of the float parameters whose path passes `filter`.
pub fn host_params<B: Backend, M: Module<B>>(module: &M, filter: &dyn Fn(&str) -> bool) -> BTreeMap<String, HostTensor> {
    let mut v = HostVisitor { stack: PathStack::default(), filter, out: BTreeMap::new() };
    module.visit(&mut v);
    v.out
}

struct LoadMapper<'a> {
    stack: PathStack,
    tensors: &'a BTreeMap<String, HostTensor>,
    used: usize,
    missing: Vec<String>,
    mismatched: Vec<String>,
}

impl<B: Backend> ModuleMapper<B> for LoadMapper<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.stack.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.stack.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let path = self.stack.path();
        let Some(host) = self.tensors.get(&path) else {
            self.missing.push(path);
            return param;
        };
        let (id, tensor, mapper) = param.consume();
        if host.shape != tensor.dims() {
            self.mismatched.push(format!("{path}: checkpoint {:?}, model {:?}", host.shape, tensor.dims()));
            return Param::from_mapped_value(id, tensor, mapper);
        }
        self.used += 1;
        let trainable = tensor.is_require_grad();
        let new = host.to_tensor::<B, D>(&tensor.device()).set_require_grad(trainable);
        Param::from_mapped_value(id, new, mapper)
    }
}

/// Replaces every float parameter of `module` by the tensor of the same path. Errors (naming
/// `source`) if a parameter is missing, a shape differs, or a tensor is left over.
pub fn load_params<B: Backend, M: Module<B>>(module: M, tensors: &BTreeMap<String, HostTensor>, source: &std::path::Path) -> Result<M> {
    let mut m = LoadMapper { stack: PathStack::default(), tensors, used: 0, missing: Vec::new(), mismatched: Vec::new() };
    let module = module.map(&mut m);
    let err = |msg: String| Err(ClError::Checkpoint { path: source.into(), msg });
    if !m.mismatched.is_empty() {
        return err(format!("{} tensors have the wrong shape: {}", m.mismatched.len(), m.mismatched.join("; ")));
    }
    if !m.missing.is_empty() {
        return err(format!("{} model parameters are not in the checkpoint, e.g. {}", m.missing.len(), m.missing[..m.missing.len().min(3)].join(", ")));
    }
    if m.used != tensors.len() {
        return err(format!("the checkpoint holds {} tensors but the model has {} parameters: it was written by another model or method", tensors.len(), m.used));
    }
    Ok(module)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::nn::{Linear, LinearConfig};

    type B = NdArray<f32>;

    fn layer() -> Linear<B> {
        LinearConfig::new(3, 2).init(&Default::default())
    }

    #[test]
    fn paths_counts_and_round_trip() {
        let l = layer();
        let infos = param_infos::<B, _>(&l);
        let paths: Vec<&str> = infos.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["weight", "bias"]);
        assert_eq!(param_counts::<B, _>(&l), (0, 8), "nothing trains on a backend without autodiff");
        let saved = host_params::<B, _>(&l, &|_| true);
        let fresh = load_params(layer(), &saved, std::path::Path::new("x.safetensors")).unwrap();
        assert_eq!(host_params::<B, _>(&fresh, &|_| true), saved);
    }

    #[test]
    fn wrong_shape_missing_and_extra_tensors_are_named() {
        let path = std::path::Path::new("ck/tensors-2.safetensors");
        let mut saved = host_params::<B, _>(&layer(), &|_| true);
        saved.insert("weight".into(), HostTensor { shape: vec![4, 2], data: vec![0.0; 8] });
        let err = load_params(layer(), &saved, path).unwrap_err().to_string();
        assert!(err.contains("ck/tensors-2.safetensors") && err.contains("weight") && err.contains("[4, 2]") && err.contains("[3, 2]"), "{err}");

        let mut missing = host_params::<B, _>(&layer(), &|_| true);
        missing.remove("bias");
        let err = load_params(layer(), &missing, path).unwrap_err().to_string();
        assert!(err.contains("bias"), "{err}");

        let mut extra = host_params::<B, _>(&layer(), &|_| true);
        extra.insert("lora.0.a".into(), HostTensor { shape: vec![1], data: vec![0.0] });
        let err = load_params(layer(), &extra, path).unwrap_err().to_string();
        assert!(err.contains("another model or method"), "{err}");
    }
}

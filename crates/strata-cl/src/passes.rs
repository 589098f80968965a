//! Data passes methods run between tasks: forward the task's examples through the model and
//! record layer inputs (covariances for InfLoRA, samples for OSFT's importance).

use std::collections::BTreeMap;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use strata_models::strata_adapters::{AdaptableModel, CaptureConfig, CapturedInputs, InputCapture, LinearName};

use crate::encode::{EncodedExample, TrainBatch};
use crate::error::Result;
use crate::model::ClModel;
use crate::progress;

/// Forwards up to `max_examples` of `examples` (prompt and target, padding excluded)
/// without gradients and returns what the selected layers saw. Batches are padded to a
/// multiple of `pad_multiple` tokens (the padding is masked out of what is captured).
#[allow(clippy::too_many_arguments)]
pub fn capture_inputs<B: AutodiffBackend>(model: &mut ClModel<B>, examples: &[EncodedExample], batch_size: usize, pad_id: u32, pad_multiple: usize, select: &dyn Fn(&LinearName) -> bool, config: CaptureConfig, max_examples: usize) -> Result<BTreeMap<LinearName, CapturedInputs>> {
    let mut handles = BTreeMap::new();
    model.visit_linears_mut(&mut |name, layer| {
        if select(name) {
            let capture = InputCapture::new(config);
            handles.insert(name.clone(), capture.clone());
            layer.capture = Some(capture);
        }
    });
    let valid = model.valid();
    let n = examples.len().min(max_examples);
    let bar = progress::bar(n as u64, "collect layer inputs");
    let outcome = (|| -> Result<()> {
        for chunk in examples[..n].chunks(batch_size.max(1)) {
            let refs: Vec<&EncodedExample> = chunk.iter().collect();
            let batch = TrainBatch::from_examples_padded(&refs, pad_id, pad_multiple)?;
            let ctx = valid.context(&batch.tokens, &batch.tokens.mask)?;
            let _ = valid.lm.hidden(&batch.tokens, None, &ctx);
            bar.inc(chunk.len() as u64);
        }
        Ok(())
    })();
    bar.finish_and_clear();
    model.visit_linears_mut(&mut |_, layer| layer.capture = None);
    outcome?;
    Ok(handles.into_iter().map(|(k, v)| (k, v.snapshot())).collect())
}

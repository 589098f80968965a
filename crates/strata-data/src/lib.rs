//! Continual-learning benchmark data for strata. No model or backend dependency.
//!
//! This crate will hold (issue 4): loaders for CL_Benchmark (O-LoRA layout), Long_Sequence
//! (GainLoRA layout), SuperNI and TRACE, `.json` and `.json.gz` alike, with schema errors
//! that name the file, item and field; the task registry (types, label sets, metrics) and
//! task orders; O-LoRA and GainLoRA prompt templates; seeded validation splits and
//! per-class sampling; tokenisation and length-bucketed batching.

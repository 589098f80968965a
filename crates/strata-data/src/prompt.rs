//! Prompt templates: O-LoRA, GainLoRA, SuperNI and TRACE's raw prompts.
//!
//! Reproduced from the authors' public code:
//!
//! - [`PromptStyle::OLora`] (O-LoRA's `uie_dataset_lora.py` + `uie_collator.py`):
//!   `"Task:<type>\nDataset:<name>\n<instruction>Option: <l1>, <l2>, ... \n<sentence>\nAnswer:"`.
//!   `<type>` is O-LoRA's task type (`SC`, `TC`, `NLI`, `QQP`, `BoolQA`, `COPA`, `MultiRC`,
//!   `WiC`), `<name>` the dataset directory (`amazon`, `SST-2`, `MNLI`, …), the labels come from
//!   `labels.json` in file order, and the instruction from `CL_Benchmark/instruction_config.json`,
//!   which maps a task type to a list of `{"instruction_type": "zero-shot" | "few-shot",
//!   "instruction": str}`. O-LoRA's `single` strategy (used in its scripts) takes the first
//!   zero-shot instruction; that is [`InstructionChoice::First`], the default. Its
//!   `multiple` strategy draws one at random per example; [`InstructionChoice::Seeded`] draws
//!   one per example deterministically from the seed and the example's input (FNV-1a hash),
//!   so a prompt never changes between runs. COPA has no instruction and no `Option:` line in
//!   O-LoRA's code: its prompt is `"Task:COPA\nDataset:COPA\n<sentence>\nAnswer:"`.
//! - [`PromptStyle::GainLora`] (GainLoRA's Long-Sequence loader):
//!   `"<Definition[0].strip()>\n<input>\nOutput: "`, and just `"<input>\nOutput: "` when the
//!   definition list is empty (copa). The definition comes from the task file's
//!   `Definition` when the task was loaded from `Long_Sequence/`, else from
//!   `Long_Sequence/definitions.json` (which has all 15 Long-Sequence tasks).
//! - [`PromptStyle::SuperNi`] (GainLoRA's SuperNI loader, zero-shot):
//!   `"Definition: <Definition[0].strip()>\n\nNow complete the following example -\nInput: <input>\nOutput: "`.
//! - [`PromptStyle::Raw`]: the example's input unchanged (TRACE files hold complete prompts).
//!
//! Targets are the label / output strings themselves ([`crate::loaders::Example::target`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DataError, Result};
use crate::io::{Doc, read_json};
use crate::loaders::Example;
use crate::registry::{Benchmark, Registry, TaskData, TaskSpec, TaskType};

/// Path of O-LoRA's instruction file, relative to the data root.
pub const INSTRUCTION_CONFIG_PATH: &str = "CL_Benchmark/instruction_config.json";
/// Path of GainLoRA's Long-Sequence definitions, relative to the data root.
pub const DEFINITIONS_PATH: &str = "Long_Sequence/definitions.json";

/// Which prompt template to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PromptStyle {
    /// O-LoRA's: task type, dataset name, instruction and options in the prompt.
    OLora,
    /// GainLoRA's Long-Sequence template: definition, input, `Output: ` (no task name).
    GainLora,
    /// SuperNI's zero-shot template, as GainLoRA uses it for the SuperNI benchmark.
    SuperNi,
    /// The example's input as is (TRACE).
    Raw,
}

impl PromptStyle {
    /// The style the papers use for a benchmark: O-LoRA for CL_Benchmark (GainLoRA is the
    /// alternative), SuperNI for SuperNI, raw for TRACE.
    pub fn default_for(benchmark: Benchmark) -> Self {
        match benchmark {
            Benchmark::ClBenchmark => PromptStyle::OLora,
            Benchmark::SuperNi => PromptStyle::SuperNi,
            Benchmark::Trace => PromptStyle::Raw,
        }
    }
}

impl fmt::Display for PromptStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PromptStyle::OLora => "O-LoRA",
            PromptStyle::GainLora => "GainLoRA",
            PromptStyle::SuperNi => "SuperNI",
            PromptStyle::Raw => "raw",
        })
    }
}

/// How an O-LoRA instruction is chosen when the instruction file lists several for a task type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum InstructionChoice {
    /// The first zero-shot instruction (O-LoRA's `single` strategy). Default.
    #[default]
    First,
    /// One per example, chosen by `FNV-1a(seed, input) mod n` (a deterministic stand-in for
    /// O-LoRA's `multiple` strategy, which calls `random.choice`).
    Seeded(u64),
}

/// Prompt options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptConfig {
    /// The template. Default: [`PromptStyle::OLora`].
    pub style: PromptStyle,
    /// O-LoRA instruction choice. Default: [`InstructionChoice::First`].
    pub instruction: InstructionChoice,
    /// O-LoRA: prefix `Task:<type>\n`. Default: `true` (O-LoRA's scripts pass `--add_task_name True`).
    pub add_task_name: bool,
    /// O-LoRA: prefix `Dataset:<name>\n`. Default: `true` (`--add_dataset_name True`).
    pub add_dataset_name: bool,
}

impl Default for PromptConfig {
    fn default() -> Self {
        Self {
            style: PromptStyle::OLora,
            instruction: InstructionChoice::First,
            add_task_name: true,
            add_dataset_name: true,
        }
    }
}

impl PromptConfig {
    /// The default options with another style.
    pub fn with_style(style: PromptStyle) -> Self {
        Self {
            style,
            ..Self::default()
        }
    }
}

/// O-LoRA's instruction file: task type → instructions, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstructionConfig {
    zero_shot: BTreeMap<String, Vec<String>>,
    few_shot: BTreeMap<String, Vec<String>>,
}

impl InstructionConfig {
    /// Reads and validates an instruction file (`x.json` or `x.json.gz`).
    ///
    /// # Errors
    /// I/O, JSON and schema errors naming the file and the offending entry
    /// (e.g. `field "NLI[0].instruction" missing`).
    pub fn load(path: &Path) -> Result<Self> {
        let (found, value) = read_json(path)?;
        Self::from_value(&found, value)
    }

    /// Validates an already parsed instruction document read from `path`.
    ///
    /// # Errors
    /// Schema errors naming `path` and the entry.
    pub fn from_value(path: &Path, value: Value) -> Result<Self> {
        let doc = Doc::new(path);
        let mut out = Self::default();
        for (ty, entries) in doc.top_object(value)? {
            let entries = match entries {
                Value::Array(e) => e,
                other => {
                    return Err(doc.error(
                        None,
                        Some(&ty),
                        crate::error::SchemaProblem::WrongType {
                            expected: "list",
                            found: crate::io::json_type_name(&other),
                        },
                    ));
                }
            };
            for (k, entry) in entries.into_iter().enumerate() {
                let mut m = match entry {
                    Value::Object(m) => m,
                    other => {
                        return Err(doc.error(
                            None,
                            Some(&format!("{ty}[{k}]")),
                            crate::error::SchemaProblem::WrongType {
                                expected: "object",
                                found: crate::io::json_type_name(&other),
                            },
                        ));
                    }
                };
                let kind = take_renamed(&doc, &mut m, &ty, k, "instruction_type")?;
                let text = take_renamed(&doc, &mut m, &ty, k, "instruction")?;
                let map = match kind.as_str() {
                    "zero-shot" => &mut out.zero_shot,
                    "few-shot" => &mut out.few_shot,
                    _ => {
                        return Err(DataError::Schema {
                            path: path.to_path_buf(),
                            item: None,
                            field: Some(format!("{ty}[{k}].instruction_type")),
                            problem: crate::error::SchemaProblem::WrongType {
                                expected: "\"zero-shot\" or \"few-shot\"",
                                found: "another string",
                            },
                        });
                    }
                };
                map.entry(ty.clone()).or_default().push(text);
            }
        }
        Ok(out)
    }

    /// The zero-shot instructions of a task type (`"SC"`, `"NLI"`, …), in file order.
    pub fn zero_shot(&self, task_type: &str) -> Option<&[String]> {
        self.zero_shot.get(task_type).map(Vec::as_slice)
    }

    /// The few-shot instructions of a task type, in file order.
    pub fn few_shot(&self, task_type: &str) -> Option<&[String]> {
        self.few_shot.get(task_type).map(Vec::as_slice)
    }
}

/// Takes the string field `name` of entry `ty[k]`, reporting it as `ty[k].name`.
fn take_renamed(
    doc: &Doc<'_>,
    m: &mut serde_json::Map<String, Value>,
    ty: &str,
    k: usize,
    name: &str,
) -> Result<String> {
    let full = format!("{ty}[{k}].{name}");
    match m.remove(name) {
        Some(v) => {
            let mut tmp = serde_json::Map::new();
            tmp.insert(full.clone(), v);
            doc.take_string(&mut tmp, None, &full)
        }
        None => Err(doc.error(None, Some(&full), crate::error::SchemaProblem::Missing)),
    }
}

/// GainLoRA's task definitions (`Long_Sequence/definitions.json`): task name → `Definition` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Definitions {
    by_task: BTreeMap<String, Vec<String>>,
}

impl Definitions {
    /// Reads and validates a definitions file.
    ///
    /// # Errors
    /// I/O, JSON and schema errors naming the file and the task entry.
    pub fn load(path: &Path) -> Result<Self> {
        let (found, value) = read_json(path)?;
        let doc = Doc::new(&found);
        let mut by_task = BTreeMap::new();
        for (task, v) in doc.top_object(value)? {
            let list = doc.string_list(v, None, Some(&task))?;
            by_task.insert(task.to_ascii_lowercase(), list);
        }
        Ok(Self { by_task })
    }

    /// The definition list of a task by canonical name (case-insensitive); `Some(&[])` for a
    /// task with an empty definition (copa), `None` for a task that is not listed.
    pub fn get(&self, task: &str) -> Option<&[String]> {
        self.by_task
            .get(&task.to_ascii_lowercase())
            .map(Vec::as_slice)
    }
}

/// The `Task:<type>\nDataset:<name>\n` prefix of O-LoRA's collator.
pub fn olora_prefix(
    task_type: &str,
    dataset: &str,
    add_task_name: bool,
    add_dataset_name: bool,
) -> String {
    let mut prefix = String::new();
    if add_task_name {
        prefix.push_str("Task:");
        prefix.push_str(task_type);
        prefix.push('\n');
    }
    if add_dataset_name {
        prefix.push_str("Dataset:");
        prefix.push_str(dataset);
        prefix.push('\n');
    }
    prefix
}

/// O-LoRA's prompt body after the prefix: `<instruction>Option: <l1>, <l2> \n<sentence>\nAnswer:`;
/// with `instruction = None` (COPA) just `<sentence>\nAnswer:`.
pub fn olora_body(instruction: Option<&str>, labels: &[String], sentence: &str) -> String {
    match instruction {
        Some(ins) => format!("{ins}Option: {} \n{sentence}\nAnswer:", labels.join(", ")),
        None => format!("{sentence}\nAnswer:"),
    }
}

/// GainLoRA's prompt: `<definition.trim()>\n<input>\nOutput: `, or `<input>\nOutput: ` when
/// `definition` is `None`.
pub fn gainlora_prompt(definition: Option<&str>, input: &str) -> String {
    match definition {
        Some(d) => format!("{}\n{input}\nOutput: ", d.trim()),
        None => format!("{input}\nOutput: "),
    }
}

/// SuperNI's zero-shot prompt:
/// `Definition: <definition.trim()>\n\nNow complete the following example -\nInput: <input>\nOutput: `.
pub fn superni_prompt(definition: &str, input: &str) -> String {
    format!(
        "Definition: {}\n\nNow complete the following example -\nInput: {input}\nOutput: ",
        definition.trim()
    )
}

/// FNV-1a, 64-bit: a hash whose values are fixed by its definition (unlike std's hasher).
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Renders prompts for tasks in one [`PromptConfig`].
#[derive(Debug, Clone, Default)]
pub struct Prompter {
    config: PromptConfig,
    instructions: Option<InstructionConfig>,
    definitions: Option<Definitions>,
}

impl Prompter {
    /// A prompter with no instruction or definition files (enough for SuperNI, raw and
    /// GainLoRA prompts of tasks loaded from `Long_Sequence/`, and O-LoRA prompts of COPA).
    pub fn new(config: PromptConfig) -> Self {
        Self {
            config,
            instructions: None,
            definitions: None,
        }
    }

    /// Reads the files the style needs from the registry's data root: the instruction file for
    /// O-LoRA, the definitions for GainLoRA.
    ///
    /// # Errors
    /// I/O, JSON and schema errors of those files.
    pub fn from_registry(registry: &Registry, config: PromptConfig) -> Result<Self> {
        let mut p = Self::new(config);
        match config.style {
            PromptStyle::OLora => {
                p.instructions = Some(InstructionConfig::load(
                    &registry.root().join(INSTRUCTION_CONFIG_PATH),
                )?);
            }
            PromptStyle::GainLora => {
                p.definitions = Some(Definitions::load(&registry.root().join(DEFINITIONS_PATH))?);
            }
            PromptStyle::SuperNi | PromptStyle::Raw => {}
        }
        Ok(p)
    }

    /// Uses `instructions` for O-LoRA prompts.
    pub fn with_instructions(mut self, instructions: InstructionConfig) -> Self {
        self.instructions = Some(instructions);
        self
    }

    /// Uses `definitions` for GainLoRA prompts of tasks whose files have no definition.
    pub fn with_definitions(mut self, definitions: Definitions) -> Self {
        self.definitions = Some(definitions);
        self
    }

    /// The options.
    pub fn config(&self) -> &PromptConfig {
        &self.config
    }

    /// The prompt of `example` of the loaded `task`.
    ///
    /// # Errors
    /// [`DataError::Prompt`] when the style does not apply to the task or a needed
    /// instruction, label set or definition is missing.
    pub fn render(&self, task: &TaskData, example: &Example) -> Result<String> {
        self.render_parts(
            task.spec,
            task.labels.as_deref(),
            task.definition.as_deref(),
            example,
        )
    }

    /// The prompts of `examples` of `task`, in order.
    ///
    /// # Errors
    /// As [`Prompter::render`].
    pub fn render_all(&self, task: &TaskData, examples: &[Example]) -> Result<Vec<String>> {
        examples.iter().map(|e| self.render(task, e)).collect()
    }

    /// The prompt of `example` given the task's parts: its spec, label set and the
    /// `Definition` found in its data file.
    ///
    /// # Errors
    /// As [`Prompter::render`].
    pub fn render_parts(
        &self,
        spec: &TaskSpec,
        labels: Option<&[String]>,
        file_definition: Option<&[String]>,
        example: &Example,
    ) -> Result<String> {
        let fail = |reason: String| DataError::Prompt {
            task: spec.name.to_string(),
            style: self.config.style.to_string(),
            reason,
        };
        match self.config.style {
            PromptStyle::Raw => Ok(example.input.clone()),
            PromptStyle::OLora => {
                if spec.benchmark != Benchmark::ClBenchmark {
                    return Err(fail(
                        "O-LoRA prompts exist for CL_Benchmark tasks only".into(),
                    ));
                }
                let ty = spec.task_type.as_str();
                let prefix = olora_prefix(
                    ty,
                    spec.dataset_name(),
                    self.config.add_task_name,
                    self.config.add_dataset_name,
                );
                if spec.task_type == TaskType::Copa {
                    return Ok(prefix + &olora_body(None, &[], &example.input));
                }
                let labels =
                    labels.ok_or_else(|| fail("no label set (labels.json) loaded".into()))?;
                let instructions = self.instructions.as_ref().ok_or_else(|| {
                    fail(format!(
                        "no instruction file loaded ({INSTRUCTION_CONFIG_PATH})"
                    ))
                })?;
                let list = instructions
                    .zero_shot(ty)
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| {
                        fail(format!(
                            "the instruction file has no zero-shot instruction for \"{ty}\""
                        ))
                    })?;
                let instruction = match self.config.instruction {
                    InstructionChoice::First => &list[0],
                    InstructionChoice::Seeded(seed) => {
                        let h = fnv1a(&[&seed.to_le_bytes(), example.input.as_bytes()]);
                        &list[(h % list.len() as u64) as usize]
                    }
                };
                Ok(prefix + &olora_body(Some(instruction), labels, &example.input))
            }
            PromptStyle::GainLora => {
                let list = match file_definition {
                    Some(d) => d,
                    None => self
                        .definitions
                        .as_ref()
                        .and_then(|d| d.get(spec.name))
                        .ok_or_else(|| {
                            fail(format!(
                                "no definition in the data file nor in {DEFINITIONS_PATH}"
                            ))
                        })?,
                };
                Ok(gainlora_prompt(
                    list.first().map(String::as_str),
                    &example.input,
                ))
            }
            PromptStyle::SuperNi => {
                let def = file_definition
                    .and_then(|d| d.first())
                    .ok_or_else(|| fail("the data file has no Definition".into()))?;
                Ok(superni_prompt(def, &example.input))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::lookup;

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    fn instructions() -> InstructionConfig {
        let v = serde_json::json!({
            "SC": [{"instruction_type": "zero-shot", "instruction": "What is the sentiment? Choose one from the option.\n"},
                   {"instruction_type": "zero-shot", "instruction": "Second one.\n"}],
            "NLI": [{"instruction_type": "few-shot", "instruction": "few\n"}]
        });
        InstructionConfig::from_value(Path::new("ic.json"), v).unwrap()
    }

    #[test]
    fn olora_prompt_matches_the_template_exactly() {
        let p = Prompter::new(PromptConfig::default()).with_instructions(instructions());
        let spec = lookup("sst2").unwrap();
        let out = p
            .render_parts(
                spec,
                Some(&labels(&["Good", "Bad"])),
                None,
                &Example::new("a fine film", "Good"),
            )
            .unwrap();
        assert_eq!(
            out,
            "Task:SC\nDataset:SST-2\nWhat is the sentiment? Choose one from the option.\nOption: Good, Bad \na fine film\nAnswer:"
        );
    }

    #[test]
    fn olora_prefix_flags() {
        assert_eq!(
            olora_prefix("SC", "amazon", true, true),
            "Task:SC\nDataset:amazon\n"
        );
        assert_eq!(
            olora_prefix("SC", "amazon", false, true),
            "Dataset:amazon\n"
        );
        assert_eq!(olora_prefix("SC", "amazon", true, false), "Task:SC\n");
        assert_eq!(olora_prefix("SC", "amazon", false, false), "");
    }

    #[test]
    fn copa_has_no_instruction_and_no_options() {
        let p = Prompter::new(PromptConfig::default());
        let out = p
            .render_parts(
                lookup("copa").unwrap(),
                None,
                None,
                &Example::new("Q?\nA: x\nB: y", "A"),
            )
            .unwrap();
        assert_eq!(out, "Task:COPA\nDataset:COPA\nQ?\nA: x\nB: y\nAnswer:");
    }

    #[test]
    fn seeded_choice_is_deterministic_and_uses_several_instructions() {
        let cfg = PromptConfig {
            instruction: InstructionChoice::Seeded(7),
            ..PromptConfig::default()
        };
        let p = Prompter::new(cfg).with_instructions(instructions());
        let spec = lookup("amazon").unwrap();
        let l = labels(&["a", "b"]);
        let mut seen = std::collections::HashSet::new();
        for i in 0..40 {
            let e = Example::new(format!("text {i}"), "a");
            let a = p.render_parts(spec, Some(&l), None, &e).unwrap();
            let b = p.render_parts(spec, Some(&l), None, &e).unwrap();
            assert_eq!(a, b);
            seen.insert(a.contains("Second one."));
        }
        assert_eq!(
            seen.len(),
            2,
            "both instructions should be drawn over 40 inputs"
        );
    }

    #[test]
    fn olora_errors_name_what_is_missing() {
        let p = Prompter::new(PromptConfig::default()).with_instructions(instructions());
        let e = Example::new("x", "y");
        let msg = p
            .render_parts(lookup("mnli").unwrap(), Some(&labels(&["a"])), None, &e)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "task \"mnli\": cannot build a O-LoRA prompt: the instruction file has no zero-shot instruction for \"NLI\""
        );
        let msg = p
            .render_parts(lookup("amazon").unwrap(), None, None, &e)
            .unwrap_err()
            .to_string();
        assert!(msg.ends_with("no label set (labels.json) loaded"), "{msg}");
        let msg = p
            .render_parts(lookup("task363").unwrap(), None, None, &e)
            .unwrap_err()
            .to_string();
        assert!(
            msg.ends_with("O-LoRA prompts exist for CL_Benchmark tasks only"),
            "{msg}"
        );
    }

    #[test]
    fn gainlora_prompt_strips_the_definition_and_handles_empty() {
        assert_eq!(
            gainlora_prompt(Some("  Classify it.\n"), "text"),
            "Classify it.\ntext\nOutput: "
        );
        assert_eq!(gainlora_prompt(None, "text"), "text\nOutput: ");
        let p = Prompter::new(PromptConfig::with_style(PromptStyle::GainLora));
        let spec = lookup("copa").unwrap();
        let out = p
            .render_parts(spec, None, Some(&[]), &Example::new("in", "A"))
            .unwrap();
        assert_eq!(out, "in\nOutput: ");
        let err = p
            .render_parts(
                lookup("mnli").unwrap(),
                None,
                None,
                &Example::new("in", "A"),
            )
            .unwrap_err();
        assert!(err.to_string().contains("no definition"), "{err}");
    }

    #[test]
    fn superni_prompt_matches_the_template_exactly() {
        let p = Prompter::new(PromptConfig::with_style(PromptStyle::SuperNi));
        let def = vec!["Classify the review. ".to_string()];
        let out = p
            .render_parts(
                lookup("task363").unwrap(),
                None,
                Some(&def),
                &Example::new("Good film .", "POS"),
            )
            .unwrap();
        assert_eq!(
            out,
            "Definition: Classify the review.\n\nNow complete the following example -\nInput: Good film .\nOutput: "
        );
        let err = p
            .render_parts(
                lookup("task363").unwrap(),
                None,
                Some(&[]),
                &Example::new("x", "y"),
            )
            .unwrap_err();
        assert!(
            err.to_string().ends_with("the data file has no Definition"),
            "{err}"
        );
    }

    #[test]
    fn raw_is_the_input() {
        let p = Prompter::new(PromptConfig::with_style(PromptStyle::Raw));
        let out = p
            .render_parts(
                lookup("FOMC").unwrap(),
                None,
                None,
                &Example::new("Q\nAnswer:", "A"),
            )
            .unwrap();
        assert_eq!(out, "Q\nAnswer:");
    }

    #[test]
    fn instruction_config_schema_errors() {
        let bad = serde_json::json!({"SC": [{"instruction_type": "zero-shot"}]});
        let msg = InstructionConfig::from_value(Path::new("ic.json"), bad)
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "ic.json: field \"SC[0].instruction\" missing");
        let bad = serde_json::json!({"SC": [{"instruction_type": "zero-shot", "instruction": 5}]});
        let msg = InstructionConfig::from_value(Path::new("ic.json"), bad)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "ic.json: field \"SC[0].instruction\" has the wrong type: expected string, found number"
        );
        let bad = serde_json::json!({"SC": {"instruction": "x"}});
        let msg = InstructionConfig::from_value(Path::new("ic.json"), bad)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "ic.json: field \"SC\" has the wrong type: expected list, found object"
        );
        let bad = serde_json::json!({"SC": [{"instruction_type": "one-shot", "instruction": "x"}]});
        assert!(InstructionConfig::from_value(Path::new("ic.json"), bad).is_err());
    }

    #[test]
    fn few_shot_entries_are_kept_apart() {
        let ic = instructions();
        assert_eq!(ic.zero_shot("SC").unwrap().len(), 2);
        assert_eq!(ic.zero_shot("NLI"), None);
        assert_eq!(ic.few_shot("NLI").unwrap(), &["few\n".to_string()]);
    }
}

//! Tokenizers against reference encodings from the Python `tokenizers` package
//! (`tests/fixtures/tokenizer/tokenizer_reference.json`, made by `make_fixture.py` there).
//!
//! The vocabularies are not in the repository; each test reads its file from the environment
//! and prints a skip line when the variable is unset:
//!
//! | variable | file |
//! |---|---|
//! | `STRATA_SMOLLM2_GGUF` | SmolLM2-135M-Instruct GGUF (tokenizer rebuilt from its metadata) |
//! | `STRATA_T5_TOKENIZER` | T5 `tokenizer.json` (`cargo xtask fetch-model t5-tokenizer`) |
//! | `STRATA_QWEN_TOKENIZER` | Qwen2 `tokenizer.json` (`cargo xtask fetch-model qwen-tokenizer`) |
//! | `STRATA_QWEN25_GGUF` | Qwen2.5 GGUF: its rebuilt tokenizer must match Qwen's `tokenizer.json` references |

use std::path::PathBuf;

use serde::Deserialize;
use strata_models::Tokenizer;

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    ids_with_special: Vec<u32>,
    decoded: String,
    decoded_skip_special: String,
}

#[derive(Debug, Deserialize)]
struct Fixture {
    smollm2_gguf: Vec<Case>,
    t5_tokenizer_json: Vec<Case>,
    qwen2_tokenizer_json: Vec<Case>,
}

fn fixture() -> Fixture {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tokenizer/tokenizer_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn env_path(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            println!("skipped: set {var} to run this test on the real vocabulary");
            None
        }
    }
}

fn check(tk: &Tokenizer, cases: &[Case], what: &str) {
    for c in cases {
        assert_eq!(tk.encode(&c.text, false).unwrap(), c.ids, "{what}: encode({:?})", c.text);
        assert_eq!(tk.encode(&c.text, true).unwrap(), c.ids_with_special, "{what}: encode({:?}, add_special)", c.text);
        assert_eq!(tk.decode(&c.ids_with_special, false).unwrap(), c.decoded, "{what}: decode of {:?}", c.text);
        assert_eq!(tk.decode(&c.ids_with_special, true).unwrap(), c.decoded_skip_special, "{what}: decode(skip_special) of {:?}", c.text);
    }
    println!("{what}: {} reference encodings match", cases.len());
}

#[test]
fn fixture_is_well_formed() {
    let f = fixture();
    for cases in [&f.smollm2_gguf, &f.t5_tokenizer_json, &f.qwen2_tokenizer_json] {
        assert_eq!(cases.len(), 12);
        assert!(cases.iter().any(|c| c.text.contains("<|im_start|>")));
    }
}

#[test]
fn smollm2_gguf_tokenizer_matches_reference() {
    let Some(path) = env_path("STRATA_SMOLLM2_GGUF") else { return };
    let tk = Tokenizer::from_gguf_path(&path).unwrap();
    assert_eq!(tk.vocab_size(), 49152);
    assert_eq!((tk.bos_id(), tk.eos_id(), tk.pad_id()), (Some(1), Some(2), Some(2)));
    assert_eq!(tk.token_to_id("<|im_start|>"), Some(1));
    assert_eq!(tk.encode("<|im_start|><|im_end|>", false).unwrap(), vec![1, 2]);
    check(&tk, &fixture().smollm2_gguf, "SmolLM2 (GGUF)");
}

#[test]
fn t5_tokenizer_json_matches_reference() {
    let Some(path) = env_path("STRATA_T5_TOKENIZER") else { return };
    let tk = Tokenizer::from_file(&path).unwrap();
    assert_eq!(tk.vocab_size(), 32100);
    assert_eq!((tk.eos_id(), tk.pad_id()), (Some(1), Some(0)));
    assert_eq!(tk.token_to_id("<extra_id_0>"), Some(32099));
    // The shipped file pads to 256: from_file must have switched that off.
    assert_eq!(tk.encode("Hello", true).unwrap().len(), 2);
    check(&tk, &fixture().t5_tokenizer_json, "T5 (tokenizer.json)");
}

#[test]
fn qwen_tokenizer_json_matches_reference() {
    let Some(path) = env_path("STRATA_QWEN_TOKENIZER") else { return };
    let tk = Tokenizer::from_file(&path).unwrap();
    assert_eq!(tk.vocab_size(), 151_669);
    assert_eq!((tk.eos_id(), tk.pad_id()), (Some(151_645), Some(151_643)));
    check(&tk, &fixture().qwen2_tokenizer_json, "Qwen2 (tokenizer.json)");
}

/// The `qwen2` pre-tokenizer rebuilt from GGUF metadata reproduces Qwen's own tokenizer.json.
#[test]
fn qwen25_gguf_tokenizer_matches_qwen_tokenizer_json_reference() {
    let Some(path) = env_path("STRATA_QWEN25_GGUF") else { return };
    let tk = Tokenizer::from_gguf_path(&path).unwrap();
    assert_eq!(tk.vocab_size(), 151_936);
    assert_eq!((tk.eos_id(), tk.pad_id()), (Some(151_645), Some(151_643)));
    check(&tk, &fixture().qwen2_tokenizer_json, "Qwen2.5 (GGUF)");
}

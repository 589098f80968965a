//! Tokenizers: a thin wrapper over the `tokenizers` crate that loads Hugging Face
//! `tokenizer.json` files and rebuilds GPT-2 byte-level BPE tokenizers from GGUF metadata.
//!
//! - [`Tokenizer::from_file`]: any `tokenizer.json` (BPE, Unigram/SentencePiece such as T5,
//!   WordPiece). Padding and truncation stored in the file are switched off (ids are never
//!   padded behind the caller's back). Special ids come from a sibling
//!   `tokenizer_config.json` when there is one, else from well-known token strings.
//! - [`Tokenizer::from_gguf`]: `tokenizer.ggml.model == "gpt2"` files (SmolLM2, Qwen2,
//!   LLaMA-3, ...): vocabulary `tokenizer.ggml.tokens`, `tokenizer.ggml.merges`, control and
//!   user-defined tokens (`tokenizer.ggml.token_type` 3 and 4) as added tokens that always
//!   encode to one id, and the pre-tokenizer named by `tokenizer.ggml.pre`, reproducing the
//!   Hugging Face `tokenizer.json` of that family (see [`GGUF_PRE_TOKENIZERS`]).
//!
//! Special tokens written in the text (`<|im_start|>`, `</s>`, `<extra_id_0>`) are always
//! recognised as single ids; `add_special` only controls the post-processor (BOS/EOS that
//! the model family adds on its own, e.g. T5's trailing `</s>`).

use std::path::{Path, PathBuf};

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::normalizers::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior};

use crate::error::{ModelError, Result};
use crate::gguf::GgufFile;

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
mod token_type {
    pub const CONTROL: i64 = 3;
    pub const USER_DEFINED: i64 = 4;
}

/// The Qwen2 split regex (HF `tokenizer.json` of Qwen2/2.5; llama.cpp `qwen2`).
pub const QWEN2_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The LLaMA-3 split regex (HF `tokenizer.json` of LLaMA-3; llama.cpp `llama-bpe`).
pub const LLAMA3_REGEX: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// `tokenizer.ggml.pre` values [`Tokenizer::from_gguf`] understands, and what they build:
///
/// | `pre` | normalizer | pre-tokenizer (as in the family's HF `tokenizer.json`) |
/// |---|---|---|
/// | `smollm`, `starcoder`, `refact` | — | `Digits(individual)`, then `ByteLevel` with the GPT-2 regex |
/// | `qwen2`, `deepseek-r1-qwen` | NFC | `Split(`[`QWEN2_REGEX`]`, Isolated)`, then `ByteLevel` without regex |
/// | `llama-bpe`, `llama3` | — | `Split(`[`LLAMA3_REGEX`]`, Isolated)`, then `ByteLevel` without regex |
/// | `gpt2`, `default`, absent | — | `ByteLevel` with the GPT-2 regex |
///
/// llama.cpp's regex lists for these names are equivalent (`smollm` = `\p{N}` then the GPT-2
/// regex; `qwen2` = the regex above with case-insensitive contractions spelled out).
pub const GGUF_PRE_TOKENIZERS: &[&str] = &["smollm", "starcoder", "refact", "qwen2", "deepseek-r1-qwen", "llama-bpe", "llama3", "gpt2", "default"];

/// A text tokenizer with its special ids.
#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    bos: Option<u32>,
    eos: Option<u32>,
    pad: Option<u32>,
    vocab_size: usize,
    source: String,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("source", &self.source)
            .field("vocab_size", &self.vocab_size)
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("pad", &self.pad)
            .finish()
    }
}

fn config_err(path: &Path, msg: impl Into<String>) -> ModelError {
    ModelError::Config { path: path.display().to_string(), msg: msg.into() }
}

/// `"<s>"` or `{"content": "<s>", ...}` in a `tokenizer_config.json`.
fn token_string(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("content")?.as_str().map(String::from),
        _ => None,
    }
}

impl Tokenizer {
    /// Loads a Hugging Face `tokenizer.json` (or a directory holding one). Padding and
    /// truncation configured in the file are removed. BOS/EOS/PAD ids come from a sibling
    /// `tokenizer_config.json` (`bos_token`, `eos_token`, `pad_token`) if present, else from
    /// the first known token string in the vocabulary (`<s>`/`<|begin_of_text|>`/`<bos>`;
    /// `</s>`/`<|endoftext|>`/`<|end_of_text|>`/`<eos>`; `<pad>`/`[PAD]`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let mut path: PathBuf = path.as_ref().to_path_buf();
        if path.is_dir() {
            path = path.join("tokenizer.json");
        }
        if !path.is_file() {
            return Err(ModelError::Io { path: path.display().to_string(), msg: "no such tokenizer file".into() });
        }
        let mut inner = tokenizers::Tokenizer::from_file(&path).map_err(|e| config_err(&path, format!("cannot load tokenizer: {e}")))?;
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| config_err(&path, e.to_string()))?;

        let config_path = path.with_file_name("tokenizer_config.json");
        let config: Option<serde_json::Value> = if config_path.is_file() { Some(crate::config::read_json(&config_path)?) } else { None };
        let from_config = |key: &str| -> Option<Option<u32>> {
            let cfg = config.as_ref()?;
            let v = cfg.get(key)?;
            Some(token_string(Some(v)).and_then(|s| inner.token_to_id(&s)))
        };
        let first_known = |cands: &[&str]| cands.iter().find_map(|c| inner.token_to_id(c));
        let bos = from_config("bos_token").unwrap_or_else(|| first_known(&["<s>", "<|begin_of_text|>", "<bos>"]));
        let eos = from_config("eos_token").unwrap_or_else(|| first_known(&["</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>"]));
        let pad = from_config("pad_token").unwrap_or_else(|| first_known(&["<pad>", "[PAD]"]));
        let vocab_size = inner.get_vocab_size(true);
        Ok(Self { inner, bos, eos, pad, vocab_size, source: path.display().to_string() })
    }

    /// A byte-level tokenizer with no merges: ids 0–255 are the bytes, 256 is
    /// `<|endoftext|>` (EOS and BOS), 257 is `<pad>`. For tiny random models in tests and the
    /// smoke preset, where no tokenizer file exists.
    pub fn byte_level() -> Self {
        let mut vocab = Vocab::default();
        for b in 0..=255u8 {
            vocab.insert(gpt2_byte_char(b).to_string(), b as u32);
        }
        let bpe = BPE::builder().vocab_and_merges(vocab, Vec::new()).build().expect("a merge-free byte vocabulary is a valid BPE");
        let mut inner = tokenizers::Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(ByteLevel::new(false, false, false)));
        inner.with_decoder(Some(ByteLevelDecoder::new(false, false, false)));
        inner.add_special_tokens(&[AddedToken::from("<|endoftext|>", true), AddedToken::from("<pad>", true)]);
        Self { inner, bos: Some(256), eos: Some(256), pad: Some(257), vocab_size: 258, source: "byte-level (built in)".into() }
    }

    /// Opens a GGUF file and builds its tokenizer (see [`Tokenizer::from_gguf`]).
    pub fn from_gguf_path(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_gguf(&GgufFile::open(path)?)
    }

    /// Rebuilds the GPT-2 byte-level BPE tokenizer stored in a GGUF file's metadata
    /// (`tokenizer.ggml.model == "gpt2"`); SentencePiece (`llama`) GGUF vocabularies are not
    /// supported (use the model's `tokenizer.json`). The vocabulary size is the number of
    /// `tokenizer.ggml.tokens` (it equals the embedding rows, padding tokens included).
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let path = file.path();
        let meta = file.metadata();
        let model = meta.get_str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(config_err(
                path,
                format!("tokenizer.ggml.model = `{model}` is not supported: only `gpt2` (byte-level BPE) vocabularies are rebuilt from GGUF; load the model's tokenizer.json instead"),
            ));
        }
        let tokens = meta.get_str_array("tokenizer.ggml.tokens")?;
        let merges_raw = meta.get_str_array("tokenizer.ggml.merges")?;
        let types: Vec<i64> = if meta.contains_key("tokenizer.ggml.token_type") { meta.get_i64_array("tokenizer.ggml.token_type")? } else { vec![1; tokens.len()] };
        if types.len() != tokens.len() {
            return Err(config_err(path, format!("tokenizer.ggml.token_type has {} entries for {} tokens", types.len(), tokens.len())));
        }
        let pre = meta.get_str_opt("tokenizer.ggml.pre")?.unwrap_or("default").to_owned();

        // First occurrence wins if a token string repeats (ids stay those of the file).
        let mut vocab = Vocab::default();
        for (i, t) in tokens.iter().enumerate() {
            vocab.entry((*t).to_owned()).or_insert(i as u32);
        }
        let mut merges = Vec::with_capacity(merges_raw.len());
        for (i, m) in merges_raw.iter().enumerate() {
            let (a, b) = m.split_once(' ').ok_or_else(|| config_err(path, format!("tokenizer.ggml.merges[{i}] = {m:?} is not `left right`")))?;
            merges.push((a.to_owned(), b.to_owned()));
        }
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| config_err(path, format!("cannot build the BPE model: {e}")))?;
        let mut inner = tokenizers::Tokenizer::new(bpe);

        match pre.as_str() {
            "smollm" | "starcoder" | "refact" => {
                inner.with_pre_tokenizer(Some(Sequence::new(vec![Digits::new(true).into(), ByteLevel::new(false, true, true).into()])));
            }
            "qwen2" | "deepseek-r1-qwen" | "llama-bpe" | "llama3" => {
                let regex = if pre.starts_with("llama") { LLAMA3_REGEX } else { QWEN2_REGEX };
                let split = Split::new(SplitPattern::Regex(regex.into()), SplitDelimiterBehavior::Isolated, false).map_err(|e| config_err(path, format!("bad pre-tokenizer regex: {e}")))?;
                if !pre.starts_with("llama") {
                    inner.with_normalizer(Some(NFC));
                }
                inner.with_pre_tokenizer(Some(Sequence::new(vec![PreTokenizerWrapper::Split(split), ByteLevel::new(false, false, false).into()])));
            }
            "gpt2" | "default" => {
                inner.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
            }
            other => {
                return Err(config_err(path, format!("tokenizer.ggml.pre = `{other}` is not supported (known: {GGUF_PRE_TOKENIZERS:?})")));
            }
        }
        inner.with_decoder(Some(ByteLevelDecoder::new(false, true, true)));

        let added: Vec<AddedToken> = tokens
            .iter()
            .zip(&types)
            .filter(|(_, t)| **t == token_type::CONTROL || **t == token_type::USER_DEFINED)
            .map(|(tok, t)| AddedToken::from(*tok, *t == token_type::CONTROL).normalized(false))
            .collect();
        inner.add_special_tokens(&added);

        let id = |key: &str| -> Result<Option<u32>> {
            Ok(meta.get_u64_opt(key)?.map(|v| v as u32).filter(|&v| (v as usize) < tokens.len()))
        };
        let (bos, eos, pad) = (id("tokenizer.ggml.bos_token_id")?, id("tokenizer.ggml.eos_token_id")?, id("tokenizer.ggml.padding_token_id")?);
        let add_bos = meta.get_bool_opt("tokenizer.ggml.add_bos_token")?.unwrap_or(false);
        let add_eos = meta.get_bool_opt("tokenizer.ggml.add_eos_token")?.unwrap_or(false);
        let mut template = String::new();
        let mut specials = Vec::new();
        if add_bos && let Some(b) = bos {
            template.push_str(tokens[b as usize]);
            template.push(' ');
            specials.push((tokens[b as usize].to_owned(), b));
        }
        template.push_str("$A");
        if add_eos && let Some(e) = eos {
            template.push(' ');
            template.push_str(tokens[e as usize]);
            specials.push((tokens[e as usize].to_owned(), e));
        }
        if !specials.is_empty() {
            let tp = TemplateProcessing::builder()
                .try_single(template.as_str())
                .map_err(|e| config_err(path, format!("bad BOS/EOS template: {e}")))?
                .special_tokens(specials)
                .build()
                .map_err(|e| config_err(path, format!("bad BOS/EOS template: {e}")))?;
            inner.with_post_processor(Some(tp));
        }
        Ok(Self { inner, bos, eos, pad, vocab_size: tokens.len(), source: path.display().to_string() })
    }

    /// Token ids of `text`. Special tokens written in the text always map to their single
    /// id; `add_special` adds what the post-processor adds (T5's `</s>`, a BOS if the GGUF
    /// says `add_bos_token`).
    pub fn encode(&self, text: &str, add_special: bool) -> Result<Vec<u32>> {
        let enc = self.inner.encode(text, add_special).map_err(|e| ModelError::Input(format!("{}: cannot encode {text:?}: {e}", self.source)))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Text of `ids`; `skip_special` drops special tokens (control tokens, `</s>`, ...).
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.inner.decode(ids, skip_special).map_err(|e| ModelError::Input(format!("{}: cannot decode {ids:?}: {e}", self.source)))
    }

    /// Beginning-of-sequence id, if the tokenizer has one.
    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    /// End-of-sequence id, if known.
    pub fn eos_id(&self) -> Option<u32> {
        self.eos
    }

    /// Padding id, if known.
    pub fn pad_id(&self) -> Option<u32> {
        self.pad
    }

    /// Overrides the special ids (e.g. with a model config's `eos_token_id`).
    pub fn with_special_ids(mut self, bos: Option<u32>, eos: Option<u32>, pad: Option<u32>) -> Self {
        self.bos = bos;
        self.eos = eos;
        self.pad = pad;
        self
    }

    /// Vocabulary size: added tokens included for `tokenizer.json`, the length of
    /// `tokenizer.ggml.tokens` for GGUF. May be smaller than the model's embedding rows
    /// (Qwen2.5's `tokenizer.json` knows 151 669 tokens, its embeddings have 151 936 rows).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The id of token string `token` (e.g. `"<|im_end|>"`).
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The token string of `id`.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The file it was loaded from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The underlying `tokenizers` tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::value::{GgufValue, GgufValueType};
    use crate::gguf::writer::array_of;
    use crate::gguf::{GgmlType, GgufWriter};

    #[test]
    fn byte_level_round_trips_any_text() {
        let tok = Tokenizer::byte_level();
        let text = "Héllo, wörld!\n\tSpaces  and ✓ emoji 🙂";
        let ids = tok.encode(text, false).unwrap();
        assert_eq!(ids, text.bytes().map(u32::from).collect::<Vec<_>>());
        assert_eq!(tok.decode(&ids, true).unwrap(), text);
        let with_eos = [ids.clone(), vec![256]].concat();
        assert_eq!(tok.decode(&with_eos, true).unwrap(), text);
        assert_eq!(tok.encode("<|endoftext|>", false).unwrap(), vec![256]);
        assert_eq!((tok.eos_id(), tok.pad_id(), tok.vocab_size()), (Some(256), Some(257), 258));
    }

    /// GPT-2 byte-to-unicode of printable ASCII is the identity; space is `Ġ`, `\n` is `Ċ`.
    fn tiny_bpe_file(dir: &Path, pre: &str, add_bos: bool) -> PathBuf {
        let mut tokens: Vec<String> = vec!["<|endoftext|>".into(), "<|im_start|>".into(), "<|im_end|>".into()];
        // Single characters (all printable ASCII, space and newline in byte-level form).
        for c in (b'!'..=b'~').map(char::from) {
            tokens.push(c.to_string());
        }
        tokens.push("Ġ".into());
        tokens.push("Ċ".into());
        let merges = ["l o", "lo w", "Ġ low", "e r", "Ġlow er", "h e", "he l", "hel lo", "Ġ w", "Ġw o", "Ġwo r", "Ġwor l", "Ġworl d"];
        for m in merges {
            tokens.push(m.replace(' ', ""));
        }
        tokens.push("<tool>".into());
        let mut types = vec![3i32, 3, 3];
        types.extend(std::iter::repeat_n(1, tokens.len() - 4));
        types.push(4);

        let mut w = GgufWriter::new();
        w.add_metadata("general.architecture", GgufValue::String("llama".into()));
        w.add_metadata("tokenizer.ggml.model", GgufValue::String("gpt2".into()));
        w.add_metadata("tokenizer.ggml.pre", GgufValue::String(pre.into()));
        w.add_metadata("tokenizer.ggml.tokens", GgufValue::str_array(&tokens));
        w.add_metadata("tokenizer.ggml.token_type", array_of(GgufValueType::I32, types.into_iter().map(GgufValue::I32)));
        w.add_metadata("tokenizer.ggml.merges", GgufValue::str_array(&merges));
        w.add_metadata("tokenizer.ggml.bos_token_id", GgufValue::U32(1));
        w.add_metadata("tokenizer.ggml.eos_token_id", GgufValue::U32(2));
        w.add_metadata("tokenizer.ggml.padding_token_id", GgufValue::U32(0));
        w.add_metadata("tokenizer.ggml.add_bos_token", GgufValue::Bool(add_bos));
        w.add_tensor("token_embd.weight", &[tokens.len(), 4], GgmlType::F32, &vec![0.0; tokens.len() * 4]).unwrap();
        let path = dir.join(format!("tok-{pre}-{add_bos}.gguf"));
        w.write(&path).unwrap();
        path
    }

    #[test]
    fn tiny_gguf_bpe_encodes_merges_specials_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let tk = Tokenizer::from_gguf_path(tiny_bpe_file(dir.path(), "smollm", false)).unwrap();
        let id = |s: &str| tk.token_to_id(s).unwrap_or_else(|| panic!("no token {s:?}"));
        assert_eq!(tk.vocab_size(), 3 + 94 + 2 + 13 + 1);
        assert_eq!((tk.bos_id(), tk.eos_id(), tk.pad_id()), (Some(1), Some(2), Some(0)));

        // Merges apply in rank order: "hello" → hel+lo, " lower" → Ġlower, " world" → Ġworld.
        assert_eq!(tk.encode("hello lower world", false).unwrap(), vec![id("hello"), id("Ġlower"), id("Ġworld")]);
        // Special tokens written in text are single ids, with or without add_special.
        let chat = "<|im_start|>low<|im_end|>\n";
        let ids = tk.encode(chat, true).unwrap();
        assert_eq!(ids, vec![1, id("low"), 2, id("Ċ")]);
        assert_eq!(tk.encode("<tool>lo", false).unwrap(), vec![id("<tool>"), id("lo")]);
        // Digits split one by one under the smollm pre-tokenizer.
        assert_eq!(tk.encode("42", false).unwrap(), vec![id("4"), id("2")]);
        // Round trips.
        assert_eq!(tk.decode(&ids, false).unwrap(), chat);
        assert_eq!(tk.decode(&ids, true).unwrap(), "low\n");
        for text in ["hello lower world", "  spaced  out\n\nlines", "a+b=c; {x}", "<tool> user-defined"] {
            let ids = tk.encode(text, false).unwrap();
            assert_eq!(tk.decode(&ids, false).unwrap(), text, "{ids:?}");
        }
        // User-defined (type 4) tokens are not special: kept by skip_special.
        assert_eq!(tk.decode(&[id("<tool>")], true).unwrap(), "<tool>");
    }

    #[test]
    fn gguf_add_bos_and_pre_tokenizer_variants() {
        let dir = tempfile::tempdir().unwrap();
        let tk = Tokenizer::from_gguf_path(tiny_bpe_file(dir.path(), "qwen2", true)).unwrap();
        let id = |s: &str| tk.token_to_id(s).unwrap();
        assert_eq!(tk.encode("hello", true).unwrap(), vec![1, id("hello")]);
        assert_eq!(tk.encode("hello", false).unwrap(), vec![id("hello")]);
        // qwen2 regex: a letter run absorbs one preceding non-letter (" world" stays whole),
        // digits are single.
        assert_eq!(tk.encode(" world 12", false).unwrap(), vec![id("Ġworld"), id("Ġ"), id("1"), id("2")]);
        for pre in ["gpt2", "llama-bpe"] {
            let tk = Tokenizer::from_gguf_path(tiny_bpe_file(dir.path(), pre, false)).unwrap();
            let text = "hello lower world 123\n";
            assert_eq!(tk.decode(&tk.encode(text, false).unwrap(), false).unwrap(), text, "{pre}");
        }
        let err = Tokenizer::from_gguf_path(tiny_bpe_file(dir.path(), "nonesuch", false)).unwrap_err().to_string();
        assert!(err.contains("tokenizer.ggml.pre = `nonesuch`") && err.contains("tok-nonesuch"), "{err}");
    }

    #[test]
    fn gguf_without_gpt2_vocab_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = GgufWriter::new();
        w.add_metadata("general.architecture", GgufValue::String("llama".into()));
        w.add_metadata("tokenizer.ggml.model", GgufValue::String("llama".into()));
        w.add_metadata("tokenizer.ggml.tokens", GgufValue::str_array(&["<unk>", "a"]));
        let path = dir.path().join("spm.gguf");
        w.write(&path).unwrap();
        let err = Tokenizer::from_gguf_path(&path).unwrap_err().to_string();
        assert!(err.contains("spm.gguf") && err.contains("`llama` is not supported"), "{err}");
    }

    #[test]
    fn tokenizer_json_special_ids_and_padding_removed() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::json!({
            "version": "1.0",
            "truncation": {"direction": "Right", "max_length": 3, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": 16}, "direction": "Right", "pad_to_multiple_of": null, "pad_id": 0, "pad_type_id": 0, "pad_token": "<pad>"},
            "added_tokens": [
                {"id": 0, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 1, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
            ],
            "normalizer": null,
            "pre_tokenizer": {"type": "WhitespaceSplit"},
            "post_processor": null,
            "decoder": null,
            "model": {"type": "WordLevel", "vocab": {"<pad>": 0, "</s>": 1, "<unk>": 2, "a": 3, "b": 4}, "unk_token": "<unk>"}
        });
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, json.to_string()).unwrap();
        let tk = Tokenizer::from_file(dir.path()).unwrap();
        assert_eq!(tk.encode("a b a b a", false).unwrap(), vec![3, 4, 3, 4, 3]);
        assert_eq!((tk.bos_id(), tk.eos_id(), tk.pad_id()), (None, Some(1), Some(0)));
        std::fs::write(dir.path().join("tokenizer_config.json"), r#"{"eos_token": {"content": "a"}, "pad_token": null, "bos_token": "b"}"#).unwrap();
        let tk = Tokenizer::from_file(&path).unwrap();
        assert_eq!((tk.bos_id(), tk.eos_id(), tk.pad_id()), (Some(4), Some(3), None));
        let err = Tokenizer::from_file(dir.path().join("missing.json")).unwrap_err().to_string();
        assert!(err.contains("missing.json"), "{err}");
    }
}

/// GPT-2's printable stand-in for a byte: printable Latin-1 bytes map to themselves, the
/// others to `U+0100 + n` in byte order.
fn gpt2_byte_char(b: u8) -> char {
    let printable = |c: u8| (b'!'..=b'~').contains(&c) || (0xA1..=0xAC).contains(&c) || (0xAE..=0xFF).contains(&c);
    if printable(b) {
        return b as char;
    }
    let n = (0..b).filter(|&c| !printable(c)).count() as u32;
    char::from_u32(256 + n).expect("valid code point")
}

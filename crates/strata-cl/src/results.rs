//! Run results: the record of a run and its files `results.{json,csv,md}`.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checkpoint::write_atomic;
use crate::error::{ClError, Result};
use crate::eval::EvalOutcome;
use crate::metrics::{AccuracyMatrix, Summary};
use crate::train::TrainStats;

/// A task of the run as evaluated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskInfo {
    /// Canonical name.
    pub name: String,
    /// Metric (`exact-match`, `rouge-l`, …).
    pub metric: String,
    /// Where its test examples came from (published split, or held out from train).
    pub test_source: String,
    /// Training examples used.
    pub n_train: usize,
    /// Test examples scored.
    pub n_test: usize,
}

/// What happened while training one task (or the joint phase of MTL).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskRecord {
    /// The task trained.
    pub task: String,
    /// Optimizer statistics.
    pub train: TrainStats,
    /// Trainable parameters during this task.
    pub trainable_params: usize,
    /// All parameters of the model (base and adapters) during this task.
    pub total_params: usize,
    /// Evaluations after this task (task i ≤ this one).
    pub evals: Vec<EvalOutcome>,
    /// Method-specific facts (effective ranks, parameters used).
    pub method_report: serde_json::Value,
    /// Seconds for training, consolidation and evaluation.
    pub seconds: f64,
}

/// Everything a run produced.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResults {
    /// Method name.
    pub method: String,
    /// The full configuration.
    pub config: serde_json::Value,
    /// `git rev-parse HEAD` of the source tree (or `unknown`).
    pub git_commit: String,
    /// The device, in words.
    pub device: String,
    /// The prompt style used (the table must say).
    pub prompt_style: String,
    /// The tasks in order.
    pub tasks: Vec<TaskInfo>,
    /// `a[j][i]`.
    pub matrix: AccuracyMatrix,
    /// Whether the method trained jointly (MTL): one row scoring every task.
    pub joint: bool,
    /// AA / BWT / FT (FWT when single-task scores were given).
    pub summary: Option<Summary>,
    /// Per-task records.
    pub records: Vec<TaskRecord>,
    /// Wall time of the whole run (this process; a resumed run adds its earlier time).
    pub seconds: f64,
    /// Peak resident memory of the process in MiB (host; `None` where unknown).
    pub peak_rss_mib: Option<f64>,
    /// False when the run stopped early (`stop_after`).
    pub finished: bool,
}

impl RunResults {
    /// Writes `results.json`, `results.csv` (the matrix) and `results.md`, each atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| ClError::io(dir.join("results.json"), e))?;
        write_atomic(&dir.join("results.json"), &json)?;
        write_atomic(&dir.join("results.csv"), self.csv().as_bytes())?;
        write_atomic(&dir.join("results.md"), self.markdown().as_bytes())?;
        Ok(())
    }

    /// Reads the `results.json` that [`RunResults::write`] put in `dir`; `Ok(None)` when there
    /// is none, an error naming the file when it cannot be read or parsed.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join("results.json");
        match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClError::io(path, e)),
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| ClError::io(path, format!("not a results file: {e}"))),
        }
    }

    /// The accuracy matrix as CSV: `after_task,<task 1>,…`.
    pub fn csv(&self) -> String {
        let mut s = String::from("after_task");
        for t in &self.tasks {
            s.push(',');
            s.push_str(&t.name);
        }
        s.push('\n');
        for (j, row) in self.matrix.rows.iter().enumerate() {
            let label = if self.joint { "joint".to_string() } else { self.tasks[j].name.clone() };
            s.push_str(&label);
            for i in 0..self.tasks.len() {
                s.push(',');
                if let Some(v) = row.get(i) {
                    let _ = write!(s, "{v:.2}");
                }
            }
            s.push('\n');
        }
        s
    }

    /// A human-readable report.
    pub fn markdown(&self) -> String {
        let mut s = format!("# {} — {}\n\n", self.method, self.config["name"].as_str().unwrap_or("run"));
        let _ = writeln!(s, "- device: {}\n- commit: {}\n- prompt style: {}\n- wall time: {:.1} s{}\n", self.device, self.git_commit, self.prompt_style, self.seconds, if self.finished { "" } else { " (stopped early)" });
        if let Some(sum) = &self.summary {
            let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
            let _ = writeln!(s, "| AA | BWT | FT | FWT |\n|---|---|---|---|\n| {:.2} | {} | {} | {} |\n", sum.aa, f(sum.bwt), f(sum.ft), f(sum.fwt));
        }
        s.push_str("Accuracy matrix (row: after training; column: task scored):\n\n| after \\ task |");
        for t in &self.tasks {
            let _ = write!(s, " {} |", t.name);
        }
        s.push_str("\n|---|");
        s.push_str(&"---|".repeat(self.tasks.len()));
        s.push('\n');
        for line in self.csv().lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        s.push_str("\n| task | metric | test source | train | test |\n|---|---|---|---|---|\n");
        for t in &self.tasks {
            let _ = writeln!(s, "| {} | {} | {} | {} | {} |", t.name, t.metric, t.test_source, t.n_train, t.n_test);
        }
        s.push_str("\n| trained | steps | loss start → end | trainable / total params | seconds | method report |\n|---|---|---|---|---|---|\n");
        for r in &self.records {
            let report = if r.method_report.is_null() { String::new() } else { compact_report(&r.method_report) };
            let _ = writeln!(s, "| {} | {} | {:.3} → {:.3} | {} / {} | {:.1} | {report} |", r.task, r.train.steps, r.train.loss_start, r.train.loss_end, r.trainable_params, r.total_params, r.seconds);
        }
        s
    }
}

/// The scalar fields of a method report, `key: value` joined (per-layer maps are in the JSON).
fn compact_report(report: &serde_json::Value) -> String {
    match report.as_object() {
        Some(map) => map.iter().filter(|(_, v)| v.is_number()).map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "),
        None => report.to_string(),
    }
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The commit this binary was built from (recorded by the build script), else
/// `git rev-parse HEAD` in the current directory, else `unknown`.
pub fn git_commit() -> String {
    if let Some(commit) = option_env!("STRATA_BUILD_COMMIT").filter(|c| *c != "unknown") {
        return commit.to_owned();
    }
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_commit_is_a_full_hash_or_unknown() {
        let c = git_commit();
        assert!(c == "unknown" || (c.len() == 40 && c.chars().all(|x| x.is_ascii_hexdigit())), "{c}");
    }

    #[test]
    fn read_returns_what_write_wrote_and_names_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(RunResults::read(dir.path()).unwrap().is_none(), "no results yet");
        let res = RunResults {
            method: "SeqFT".into(),
            config: serde_json::json!({"name": "x"}),
            git_commit: "abc".into(),
            device: "ndarray".into(),
            prompt_style: "OLora".into(),
            tasks: Vec::new(),
            matrix: AccuracyMatrix::new(vec!["a".into()]),
            joint: false,
            summary: None,
            records: Vec::new(),
            seconds: 1.5,
            peak_rss_mib: None,
            finished: true,
        };
        res.write(dir.path()).unwrap();
        assert_eq!(RunResults::read(dir.path()).unwrap(), Some(res));
        std::fs::write(dir.path().join("results.json"), b"{ not json").unwrap();
        let err = RunResults::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("results.json") && err.contains("not a results file"), "{err}");
    }
}

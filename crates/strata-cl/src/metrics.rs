//! The accuracy matrix `a[j][i]` (score on task i after training task j) and the
//! continual-learning metrics computed from it, per task (never pooled over examples).

use serde::{Deserialize, Serialize};

/// Scores in percent; row `j` is filled after training task `j` for tasks `0..=j`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AccuracyMatrix {
    /// Task names, in training order.
    pub tasks: Vec<String>,
    /// `rows[j][i]`, `i ≤ j`.
    pub rows: Vec<Vec<f64>>,
}

/// Summary metrics of a finished (or partial) run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// AA = `(1/T) Σ_i a[T][i]`.
    pub aa: f64,
    /// BWT = `(1/(T−1)) Σ_{i<T} (a[T][i] − a[i][i])` (None for T = 1).
    pub bwt: Option<f64>,
    /// FT = `(1/(T−1)) Σ_{i<T} max_{l<T} (a[l][i] − a[T][i])` (None for T = 1).
    pub ft: Option<f64>,
    /// FWT = `(1/T) Σ_i (a[i][i] − ã_i)` given single-task scores ã (None without them).
    pub fwt: Option<f64>,
}

impl AccuracyMatrix {
    /// An empty matrix for `tasks`.
    pub fn new(tasks: Vec<String>) -> Self {
        Self { tasks, rows: Vec::new() }
    }

    /// Appends the row after training task `rows.len()`; it must score tasks `0..=j`.
    pub fn push_row(&mut self, row: Vec<f64>) {
        assert_eq!(row.len(), self.rows.len() + 1, "row j of the accuracy matrix scores tasks 0..=j");
        self.rows.push(row);
    }

    /// Tasks trained so far.
    pub fn finished(&self) -> usize {
        self.rows.len()
    }

    /// `a[j][i]`.
    pub fn get(&self, j: usize, i: usize) -> f64 {
        self.rows[j][i]
    }

    /// AA, BWT, FT (and FWT given single-task scores) over the tasks finished so far.
    pub fn summary(&self, single_task: Option<&[f64]>) -> Option<Summary> {
        let t = self.rows.len();
        let last = self.rows.last()?;
        let aa = last.iter().sum::<f64>() / t as f64;
        let (bwt, ft) = if t > 1 {
            let bwt = (0..t - 1).map(|i| last[i] - self.rows[i][i]).sum::<f64>() / (t - 1) as f64;
            let ft = (0..t - 1).map(|i| (i..t - 1).map(|l| self.rows[l][i] - last[i]).fold(f64::NEG_INFINITY, f64::max)).sum::<f64>() / (t - 1) as f64;
            (Some(bwt), Some(ft))
        } else {
            (None, None)
        };
        let fwt = single_task.filter(|s| s.len() >= t).map(|s| (0..t).map(|i| self.rows[i][i] - s[i]).sum::<f64>() / t as f64);
        Some(Summary { aa, bwt, ft, fwt })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-task example computed by hand:
    /// a = [[80], [60, 90], [50, 70, 85]].
    /// AA = (50 + 70 + 85)/3 = 68.333…; BWT = ((50−80) + (70−90))/2 = −25;
    /// FT = (max(80, 60) − 50 + max(90) − 70)/2 = (30 + 20)/2 = 25;
    /// FWT with ã = [75, 90, 80]: ((80−75) + (90−90) + (85−80))/3 = 10/3.
    #[test]
    fn hand_computed_metrics() {
        let mut m = AccuracyMatrix::new(vec!["a".into(), "b".into(), "c".into()]);
        m.push_row(vec![80.0]);
        m.push_row(vec![60.0, 90.0]);
        m.push_row(vec![50.0, 70.0, 85.0]);
        let s = m.summary(Some(&[75.0, 90.0, 80.0])).unwrap();
        assert!((s.aa - 205.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.bwt, Some(-25.0));
        assert_eq!(s.ft, Some(25.0));
        assert!((s.fwt.unwrap() - 10.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn forgetting_uses_the_best_earlier_score_not_the_diagonal() {
        let mut m = AccuracyMatrix::new(vec!["a".into(), "b".into(), "c".into()]);
        m.push_row(vec![50.0]);
        m.push_row(vec![70.0, 90.0]); // task a improved after task b (positive backward transfer)
        m.push_row(vec![60.0, 90.0, 80.0]);
        let s = m.summary(None).unwrap();
        assert_eq!(s.bwt, Some((10.0 + 0.0) / 2.0));
        assert_eq!(s.ft, Some((10.0 + 0.0) / 2.0));
        assert_eq!(s.fwt, None);
    }

    #[test]
    fn one_task_has_no_transfer_metrics() {
        let mut m = AccuracyMatrix::new(vec!["a".into()]);
        m.push_row(vec![42.0]);
        let s = m.summary(None).unwrap();
        assert_eq!((s.aa, s.bwt, s.ft), (42.0, None, None));
    }
}

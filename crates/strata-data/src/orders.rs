//! The task orders of the benchmarks, exactly as in the data README.
//!
//! | name | tasks |
//! |---|---|
//! | `standard-1` | dbpedia → amazon → yahoo → agnews |
//! | `standard-2` | dbpedia → amazon → agnews → yahoo |
//! | `standard-3` | yahoo → amazon → agnews → dbpedia |
//! | `long-4` | mnli, cb, wic, copa, qqp, boolq, rte, imdb, yelp, amazon, sst2, dbpedia, agnews, multirc, yahoo |
//! | `long-5` | multirc, boolq, wic, mnli, cb, copa, qqp, rte, imdb, sst2, dbpedia, agnews, yelp, amazon, yahoo |
//! | `long-6` | yelp, amazon, mnli, cb, copa, qqp, rte, imdb, sst2, dbpedia, agnews, yahoo, multirc, boolq, wic |
//! | `superni-1` | task1572, task363, task1290, task181, task002, task1510, task639, task1729, task073, task1590, task748, task511, task591, task1687, task875 |
//! | `superni-2` | task748, task073, task1590, task639, task1572, task1687, task591, task363, task1510, task1729, task181, task511, task002, task1290, task875 |
//! | `trace` | C-STANCE, FOMC, MeetingBank, Py150, ScienceQA, NumGLUE-cm, NumGLUE-ds, 20Minuten |
//!
//! The Standard orders 1–3 and Long orders 4–6 are O-LoRA's (used unchanged by GainLoRA);
//! the SuperNI orders are GainLoRA's. The TRACE order is the one of the TRACE paper
//! (Wang et al., 2023), which trains the eight tasks in this sequence; Lima (general
//! instruction data) is not part of it.
//!
//! Note that yelp (Long orders) has no test split in the shared data and MeetingBank (TRACE)
//! has no train split: see [`crate::split`] for how that is handled.

use std::fmt;

use serde::Serialize;

use crate::error::{DataError, Result};
use crate::registry::{TaskSpec, lookup};

/// The family an order belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Suite {
    /// Standard CL benchmark (4 tasks).
    Standard,
    /// Long Sequence benchmark (15 tasks).
    Long,
    /// SuperNI benchmark of GainLoRA (15 tasks).
    SuperNi,
    /// TRACE (8 tasks).
    Trace,
}

/// A named sequence of tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskOrder {
    /// The lookup name (`standard-1`, `long-4`, `superni-1`, `trace`, …).
    pub name: &'static str,
    /// The family.
    pub suite: Suite,
    /// Task names in training order, spelled as in the papers (resolve with [`TaskOrder::resolve`]).
    pub tasks: &'static [&'static str],
}

impl TaskOrder {
    /// The registry entries of the tasks, in order.
    ///
    /// # Errors
    /// [`DataError::UnknownTask`] if a name does not resolve (a bug: tested for every order).
    pub fn resolve(&self) -> Result<Vec<&'static TaskSpec>> {
        self.tasks.iter().map(|t| lookup(t)).collect()
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the order is empty (never, for the defined orders).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl fmt::Display for TaskOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.tasks.join(" → "))
    }
}

static ORDERS: &[TaskOrder] = &[
    TaskOrder {
        name: "standard-1",
        suite: Suite::Standard,
        tasks: &["dbpedia", "amazon", "yahoo", "agnews"],
    },
    TaskOrder {
        name: "standard-2",
        suite: Suite::Standard,
        tasks: &["dbpedia", "amazon", "agnews", "yahoo"],
    },
    TaskOrder {
        name: "standard-3",
        suite: Suite::Standard,
        tasks: &["yahoo", "amazon", "agnews", "dbpedia"],
    },
    TaskOrder {
        name: "long-4",
        suite: Suite::Long,
        tasks: &[
            "mnli", "cb", "wic", "copa", "qqp", "boolq", "rte", "imdb", "yelp", "amazon", "sst2",
            "dbpedia", "agnews", "multirc", "yahoo",
        ],
    },
    TaskOrder {
        name: "long-5",
        suite: Suite::Long,
        tasks: &[
            "multirc", "boolq", "wic", "mnli", "cb", "copa", "qqp", "rte", "imdb", "sst2",
            "dbpedia", "agnews", "yelp", "amazon", "yahoo",
        ],
    },
    TaskOrder {
        name: "long-6",
        suite: Suite::Long,
        tasks: &[
            "yelp", "amazon", "mnli", "cb", "copa", "qqp", "rte", "imdb", "sst2", "dbpedia",
            "agnews", "yahoo", "multirc", "boolq", "wic",
        ],
    },
    TaskOrder {
        name: "superni-1",
        suite: Suite::SuperNi,
        tasks: &[
            "task1572", "task363", "task1290", "task181", "task002", "task1510", "task639",
            "task1729", "task073", "task1590", "task748", "task511", "task591", "task1687",
            "task875",
        ],
    },
    TaskOrder {
        name: "superni-2",
        suite: Suite::SuperNi,
        tasks: &[
            "task748", "task073", "task1590", "task639", "task1572", "task1687", "task591",
            "task363", "task1510", "task1729", "task181", "task511", "task002", "task1290",
            "task875",
        ],
    },
    TaskOrder {
        name: "trace",
        suite: Suite::Trace,
        tasks: &[
            "C-STANCE",
            "FOMC",
            "MeetingBank",
            "Py150",
            "ScienceQA",
            "NumGLUE-cm",
            "NumGLUE-ds",
            "20Minuten",
        ],
    },
];

/// Every defined order.
pub fn orders() -> &'static [TaskOrder] {
    ORDERS
}

/// The order called `name`, case-insensitively; `_` and ` ` count as `-`
/// (`standard-1`, `Long_4`, `superni-2`, `trace`).
///
/// # Errors
/// [`DataError::UnknownOrder`] listing the defined names.
pub fn order(name: &str) -> Result<&'static TaskOrder> {
    let key: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '_' || c == ' ' {
                '-'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    ORDERS
        .iter()
        .find(|o| o.name == key)
        .ok_or_else(|| DataError::UnknownOrder {
            name: name.to_string(),
            known: ORDERS.iter().map(|o| o.name.to_string()).collect(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_task_of_every_order_resolves() {
        for o in orders() {
            let specs = o.resolve().unwrap_or_else(|e| panic!("{}: {e}", o.name));
            assert_eq!(specs.len(), o.len());
            let distinct: HashSet<_> = specs.iter().map(|s| s.name).collect();
            assert_eq!(distinct.len(), o.len(), "{} repeats a task", o.name);
        }
    }

    #[test]
    fn sizes_and_first_tasks() {
        let sizes: Vec<_> = orders().iter().map(|o| (o.name, o.len())).collect();
        assert_eq!(
            sizes,
            vec![
                ("standard-1", 4),
                ("standard-2", 4),
                ("standard-3", 4),
                ("long-4", 15),
                ("long-5", 15),
                ("long-6", 15),
                ("superni-1", 15),
                ("superni-2", 15),
                ("trace", 8)
            ]
        );
        assert_eq!(
            order("long-4").unwrap().resolve().unwrap()[0].dir,
            "CL_Benchmark/NLI/MNLI"
        );
        assert_eq!(
            order("superni-1").unwrap().resolve().unwrap()[0].name,
            "task1572_samsum_summary"
        );
    }

    #[test]
    fn long_orders_are_permutations_of_the_same_fifteen() {
        let set = |n: &str| {
            order(n)
                .unwrap()
                .tasks
                .iter()
                .copied()
                .collect::<HashSet<_>>()
        };
        assert_eq!(set("long-4"), set("long-5"));
        assert_eq!(set("long-4"), set("long-6"));
        assert_eq!(set("superni-1"), set("superni-2"));
        assert_eq!(set("standard-1"), set("standard-3"));
    }

    #[test]
    fn lookup_is_lenient_and_errors_list_names() {
        assert_eq!(order("Standard_1").unwrap().name, "standard-1");
        assert_eq!(order("TRACE").unwrap().suite, Suite::Trace);
        let msg = order("long-1").unwrap_err().to_string();
        assert!(
            msg.starts_with("unknown task order \"long-1\"; known orders: standard-1, standard-2"),
            "{msg}"
        );
    }

    #[test]
    fn display_shows_the_sequence() {
        assert_eq!(
            order("standard-1").unwrap().to_string(),
            "standard-1: dbpedia → amazon → yahoo → agnews"
        );
    }
}

//! Progress bars on stderr (hidden when stderr is not a terminal, e.g. in CI logs).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `what`.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(ProgressStyle::with_template("{msg:>32} [{bar:30}] {pos}/{len} {elapsed}<{eta} {per_sec}").expect("valid template").progress_chars("=> "));
    bar.set_message(what.to_owned());
    bar
}

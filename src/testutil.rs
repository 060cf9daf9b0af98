//! Helpers shared by the crate's unit tests.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;

/// `../shared/flink-corpus` (or `$FLINK_CHK_CORPUS`), or `None` with a message when absent.
pub fn corpus() -> Option<PathBuf> {
    let p = std::env::var_os("FLINK_CHK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/flink-corpus")
        });
    if p.join("MANIFEST.tsv").is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: shared Flink corpus not found at {} (set FLINK_CHK_CORPUS)",
            p.display()
        );
        None
    }
}

/// A current-thread runtime with I/O and timers, for unit tests of async
/// code.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

//! Parse throughput benchmark (`cargo bench`).
//!
//! 1. A large real `_metadata` (>= 20 MB, made by
//!    `tests/fixtures/generator/generate.sh big`; path from
//!    `FLINK_CHK_BIG_METADATA` or the generator's default under
//!    `target/bench-fixtures/`). Skipped with a message when absent.
//! 2. Every committed fixture plus the shared corpus, parsed back to back.
//!
//! Reports the best of several timed rounds as MB/s (1 MB = 10^6 bytes) and
//! writes the figures to `target/bench-results/parse.txt`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn find_files(root: &Path, name_is: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_files(&p, name_is, out);
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(name_is) {
            out.push(p);
        }
    }
}

/// Best time of `rounds` rounds, each running `f` at least once and for at least `min` time.
fn best_per_iter(min: Duration, rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let mut iters = 0u32;
        while iters == 0 || start.elapsed() < min {
            f();
            iters += 1;
        }
        best = best.min(start.elapsed() / iters);
    }
    best
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut report = String::new();
    let mut line = |s: String| {
        println!("{s}");
        report.push_str(&s);
        report.push('\n');
    };

    // 1. The large file.
    let big = std::env::var_os("FLINK_CHK_BIG_METADATA")
        .map(PathBuf::from)
        .or_else(|| {
            let mut v = Vec::new();
            find_files(
                &repo.join("target/bench-fixtures"),
                &|n| n == "_metadata",
                &mut v,
            );
            v.into_iter()
                .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        });
    match big {
        Some(path) => {
            let bytes = std::fs::read(&path).unwrap();
            let m = flink_chk::metadata::parse(&bytes).expect("big file parses");
            // Warm the allocator up (the first parse maps fresh pages for ~28 MB of inline state).
            for _ in 0..20 {
                black_box(flink_chk::metadata::parse(black_box(&bytes)).unwrap());
            }
            let t = best_per_iter(Duration::from_millis(500), 5, || {
                let m = black_box(flink_chk::metadata::parse(black_box(&bytes)).unwrap());
                black_box(m.operators.len());
            });
            line(format!(
                "parse large file: {} ({:.1} MB, {} operators): {:.2} ms, {:.0} MB/s",
                path.display(),
                bytes.len() as f64 / 1e6,
                m.operators.len(),
                t.as_secs_f64() * 1e3,
                mb_per_s(bytes.len(), t)
            ));
        }
        None => line(
            "SKIPPED large-file benchmark: no target/bench-fixtures/**/_metadata \
             (run tests/fixtures/generator/generate.sh big, or set FLINK_CHK_BIG_METADATA)"
                .into(),
        ),
    }

    // 2. Many small real files.
    let mut files = Vec::new();
    find_files(
        &repo.join("tests/fixtures/flink"),
        &|n| n == "_metadata",
        &mut files,
    );
    find_files(
        &repo.join("../shared/flink-corpus"),
        &|n| n == "_metadata",
        &mut files,
    );
    let blobs: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| flink_chk::metadata::parse(b).is_ok())
        .collect();
    let total: usize = blobs.iter().map(Vec::len).sum();
    if !blobs.is_empty() {
        let t = best_per_iter(Duration::from_millis(500), 5, || {
            for b in &blobs {
                black_box(flink_chk::metadata::parse(black_box(b)).unwrap());
            }
        });
        line(format!(
            "parse {} real files ({:.1} MB): {:.2} ms total, {:.1} µs/file, {:.0} MB/s",
            blobs.len(),
            total as f64 / 1e6,
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e6 / blobs.len() as f64,
            mb_per_s(total, t)
        ));
    }
    let out = repo.join("target/bench-results");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("parse.txt"), report).unwrap();
}

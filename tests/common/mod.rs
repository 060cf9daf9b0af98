//! Shared test helpers: locating the shared corpus and committed fixtures.
#![allow(dead_code)]

pub mod inventory;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/flink-corpus`, or `None` (with a message) when it is absent.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FLINK_CHK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/flink-corpus"));
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: shared Flink corpus not found at {} (set FLINK_CHK_CORPUS)",
            dir.display()
        );
        None
    }
}

/// Rows of the corpus MANIFEST.tsv as header→value maps.
pub fn manifest(corpus: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('\t')
        .map(str::to_owned)
        .collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The metadata file of a corpus dir (`_metadata`, or the single legacy file).
pub fn corpus_metadata_file(dir: &Path) -> PathBuf {
    let m = dir.join("_metadata");
    if m.is_file() {
        return m;
    }
    std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

/// Every file under `d`, sorted.
pub fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&p) else {
            continue;
        };
        for e in rd.flatten() {
            let e = e.path();
            if e.is_dir() {
                stack.push(e);
            } else {
                out.push(e);
            }
        }
    }
    out.sort();
    out
}

/// Copies a fixture tree (for tests that modify it).
pub fn copy_tree(from: &Path, to: &Path) {
    for e in walk(from) {
        let rel = e.strip_prefix(from).unwrap();
        let dst = to.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&e, &dst).unwrap();
        set_flink_order_mtime(&dst);
    }
}

/// Copies (and git checkouts) lose Flink's write order. Restores its
/// essence: every file one day old, each `chk-N/_metadata` N seconds
/// younger, so each checkpoint's `_metadata` is newer than its files.
pub fn set_flink_order_mtime(file: &Path) {
    let base = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    let n = file
        .file_name()
        .is_some_and(|n| n == "_metadata")
        .then(|| {
            file.parent()?
                .file_name()?
                .to_str()?
                .strip_prefix("chk-")?
                .parse::<u64>()
                .ok()
        })
        .flatten()
        .unwrap_or(0);
    let f = std::fs::File::options().write(true).open(file).unwrap();
    f.set_modified(base + std::time::Duration::from_secs(n))
        .unwrap();
}

/// Every `_metadata` under `root`, sorted.
pub fn find_metadata(root: &Path) -> Vec<PathBuf> {
    walk(root)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "_metadata"))
        .collect()
}

/// The `_metadata` files of one generated scenario (`2.3`, `rocksdb-incremental`), sorted.
pub fn fixture_metadata(version: &str, scenario: &str) -> Vec<PathBuf> {
    find_metadata(
        &repo()
            .join("tests/fixtures/flink")
            .join(version)
            .join(scenario),
    )
}

/// The newest retained checkpoint of a scenario (highest chk-N).
pub fn newest_checkpoint(version: &str, scenario: &str) -> PathBuf {
    fixture_metadata(version, scenario)
        .into_iter()
        .filter_map(|p| {
            let n: u64 = p
                .parent()?
                .file_name()?
                .to_str()?
                .strip_prefix("chk-")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .max()
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no checkpoint fixture for {version}/{scenario}"))
}

/// Every committed fixture tree whose checkpoints root holds files (some
/// hold only savepoints): `(version, scenario)`, sorted.
pub fn checkpoint_trees() -> Vec<(String, String)> {
    let base = repo().join("tests/fixtures/flink");
    let mut out = Vec::new();
    for v in std::fs::read_dir(&base).unwrap() {
        let v = v.unwrap().path();
        for s in std::fs::read_dir(&v).unwrap() {
            let s = s.unwrap().path();
            if walk(&s.join("checkpoints")).is_empty() {
                continue;
            }
            let name = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_owned();
            out.push((name(&v), name(&s)));
        }
    }
    out.sort();
    out
}

/// The newest completed `chk-N/` (by N) under a job directory.
pub fn newest_checkpoint_in(job: &Path) -> PathBuf {
    find_metadata(job)
        .into_iter()
        .filter_map(|p| {
            let dir = p.parent()?.to_path_buf();
            let n: u64 = dir
                .file_name()?
                .to_str()?
                .strip_prefix("chk-")?
                .parse()
                .ok()?;
            Some((n, dir))
        })
        .max()
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("no completed checkpoint under {}", job.display()))
}

/// The oracle truth JSON beside a fixture `_metadata`.
pub fn truth(metadata: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(metadata.with_file_name("_metadata.oracle.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A `flink-chk` command with a clean environment.
pub fn flink_chk() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("flink-chk").unwrap();
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

/// A committed fixture scenario: its directory and the root Flink wrote it
/// under (`generated_root` in its scenario.json).
pub fn scenario(version: &str, name: &str) -> (PathBuf, String) {
    let dir = repo().join(format!("tests/fixtures/flink/{version}/{name}"));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("scenario.json")).unwrap()).unwrap();
    (dir, s["generated_root"].as_str().unwrap().to_owned())
}

/// The (first) job directory under a checkpoints root.
pub fn job_dir(checkpoints: &Path) -> PathBuf {
    std::fs::read_dir(checkpoints)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap()
}

/// A root path of exactly `len` bytes under `base` (`base/r` padded with `x`).
pub fn root_of_length(base: &Path, len: usize) -> String {
    let mut s = format!("{}/r", base.display());
    assert!(s.len() <= len, "{s}: longer than {len} bytes");
    while s.len() < len {
        s.push('x');
    }
    s
}

/// A scratch directory with a short path (the recorded roots written into
/// copies of the fixtures must be as long as the generator's).
pub fn short_tempdir() -> tempfile::TempDir {
    let env = std::env::temp_dir();
    let base = if env.as_os_str().len() <= 16 {
        env
    } else {
        PathBuf::from("/tmp")
    };
    tempfile::Builder::new()
        .prefix("fc")
        .tempdir_in(base)
        .unwrap()
}

/// Copies the scenario tree `dir` to `to` and rewrites every `_metadata` in
/// the copy to record `recorded` where Flink recorded `generated` (the same
/// length, so every Java string keeps its length prefix). The copy is then
/// what Flink would have written under `recorded`.
pub fn copy_recorded_at(dir: &Path, generated: &str, to: &Path, recorded: &str) {
    assert_eq!(generated.len(), recorded.len());
    copy_tree(dir, to);
    for m in find_metadata(to) {
        let mut bytes = std::fs::read(&m).unwrap();
        let (from, into) = (generated.as_bytes(), recorded.as_bytes());
        let mut i = 0;
        while let Some(at) = bytes[i..].windows(from.len()).position(|w| w == from) {
            bytes[i + at..i + at + from.len()].copy_from_slice(into);
            i += at + from.len();
        }
        std::fs::write(&m, &bytes).unwrap();
        set_flink_order_mtime(&m);
    }
}

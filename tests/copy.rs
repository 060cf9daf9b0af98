//! `flink-chk copy` and `relocate` on the committed real-Flink fixtures:
//! every copy is checked against Flink's own loader output (the truth file
//! of its source, every path mapped) with the source gone, a second run
//! copies nothing, and the hostile cases (a killed run, a file that
//! vanishes or is corrupted mid-copy, a different `_metadata` already at the
//! destination, a symbolic link in the destination, crash points at random)
//! never leave a published `_metadata` whose files are incomplete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use flink_chk::analysis::deps;
use flink_chk::analysis::snapshot::{self, Rebase};
use flink_chk::storage::faults::Faulty;
use flink_chk::storage::{Location, MemoryStorage, Storage};
use flink_chk::transfer::Plan;
use flink_chk::transfer::plan::{self, Layout, Request};
use flink_chk::transfer::record::Journal;
use flink_chk::transfer::run::{self, FileOutcome, Observer, Options, Published, Quiet, Verify};
use serde_json::Value;

use crate::common::{self, flink_chk, repo, scenario, truth, walk};
use crate::oracle::{Mapping, compare_mapped};

/// `cp -r` that recreates the scenario's empty directories.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    common::copy_tree(from, to);
    if let Ok(s) = std::fs::read_to_string(from.join("scenario.json")) {
        let v: Value = serde_json::from_str(&s).unwrap();
        for d in v["empty_dirs"].as_array().into_iter().flatten() {
            std::fs::create_dir_all(to.join(d.as_str().unwrap())).unwrap();
        }
    }
}

/// Path → contents of every file below `dir`.
pub(crate) fn snapshot_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The newest checkpoint of a committed scenario, as `<job>/chk-N`
/// relative to its checkpoints root.
fn newest_chk(version: &str, name: &str) -> PathBuf {
    let (dir, _) = scenario(version, name);
    let meta = crate::common::newest_checkpoint(version, name);
    meta.parent()
        .unwrap()
        .strip_prefix(dir.join("checkpoints"))
        .unwrap()
        .to_owned()
}

/// Directories holding a `_metadata` (relative to `root`).
pub(crate) fn metadata_dirs(root: &Path) -> Vec<PathBuf> {
    common::find_metadata(root)
        .into_iter()
        .map(|p| p.parent().unwrap().strip_prefix(root).unwrap().to_owned())
        .collect()
}

pub(crate) fn run_json(args: &[&str]) -> (Value, i32, String) {
    let out = flink_chk().args(args).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: exit {code}: {e}\n{err}"));
    (v, code, err)
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Where a file Flink recorded under the scenario's generation root lands
/// in a mirror copy to `dst` (`checkpoints/` and `savepoints/` both replaced
/// by `dst`, `dstl/` mapped to `dst/dstl`).
pub(crate) fn mirror_path(generated: &str, dst: &Path) -> impl Fn(&str) -> String {
    let generated = generated.to_owned();
    let dst = dst.to_owned();
    move |p: &str| {
        let rest = p
            .strip_prefix(&generated)
            .unwrap_or_else(|| panic!("{p} outside {generated}"));
        let rest = rest.trim_start_matches('/');
        let (top, tail) = rest.split_once('/').unwrap_or((rest, ""));
        match top {
            "checkpoints" | "savepoints" => format!("{}/{tail}", dst.display()),
            _ => format!("{}/{top}/{tail}", dst.display()),
        }
    }
}

/// Every scenario of every version: all its snapshots copied in one run,
/// then the source deleted; each copy verifies and matches Flink's truth of
/// its source, paths mapped; nothing else was copied; the source tree was
/// not touched; a second run copies nothing.
#[test]
fn every_fixture_copies_and_matches_flinks_truth_with_the_source_gone() {
    let fixtures = repo().join("tests/fixtures/flink");
    let mut checked = 0;
    let mut failures = Vec::new();
    for version in ["1.19", "1.20", "2.0", "2.3"] {
        let Ok(rd) = std::fs::read_dir(fixtures.join(version)) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let (dir, generated) = scenario(version, &name);
            let tmp = tempfile::tempdir().unwrap();
            let src = tmp.path().join("src");
            let dst = tmp.path().join("dst");
            copy_tree(&dir, &src);
            let before = snapshot_of(&src);
            let snaps = metadata_dirs(&src);
            let mut args: Vec<String> = vec!["copy".into(), "--json".into()];
            args.extend(snaps.iter().map(|d| s(&src.join(d)).to_owned()));
            args.extend([
                "--to".into(),
                s(&dst).into(),
                "--rebase".into(),
                format!("{generated}={}", src.display()),
                "--map".into(),
                format!("{}/dstl={}/dstl", src.display(), dst.display()),
                "--journal".into(),
                s(&tmp.path().join("journal")).into(),
            ]);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let (v, code, err) = run_json(&argv);
            let label = format!("{version}/{name}");
            if code != 0 {
                failures.push(format!("{label}: exit {code}: {v}\n{err}"));
                continue;
            }
            let files = v["totals"]["files"].as_u64().unwrap();
            assert_eq!(v["totals"]["copied_files"].as_u64(), Some(files), "{label}");
            assert_eq!(
                v["snapshots"].as_array().unwrap().len(),
                snaps.len(),
                "{label}"
            );
            // Nothing written at the source.
            assert!(snapshot_of(&src) == before, "{label}: the source changed");
            // Exactly the closure and the _metadata files, nothing else,
            // and the totals count them all.
            let landed = walk(&dst);
            let metadata = v["totals"]["metadata_files"].as_u64().unwrap();
            assert_eq!(metadata, snaps.len() as u64, "{label}");
            assert_eq!(v["totals"]["metadata_written"].as_u64(), Some(metadata));
            assert_eq!(
                landed.len() as u64,
                files + metadata,
                "{label}: {landed:#?}"
            );
            // Idempotent.
            let (again, code, _) = run_json(&argv);
            assert_eq!(code, 0, "{label}");
            assert_eq!(again["totals"]["copied_files"], 0, "{label}");
            assert_eq!(again["totals"]["copied_bytes"], 0, "{label}");
            assert_eq!(again["totals"]["metadata_written"], 0, "{label}");
            assert_eq!(
                again["totals"]["metadata_files"],
                v["totals"]["metadata_files"]
            );
            assert_eq!(
                again["totals"]["skipped_files"].as_u64(),
                Some(files),
                "{label}"
            );
            for sp in again["snapshots"].as_array().unwrap() {
                assert_eq!(sp["status"], "already_published", "{label}");
            }
            // The source gone, each copy against Flink's truth of its source.
            std::fs::remove_dir_all(&src).unwrap();
            let map = mirror_path(&generated, &dst);
            for sp in v["snapshots"].as_array().unwrap() {
                let source = sp["source"].as_str().unwrap();
                let rel = Path::new(source).strip_prefix(&src).unwrap();
                let t = truth(&dir.join(rel));
                let meta = PathBuf::from(sp["destination"].as_str().unwrap());
                let m = Mapping {
                    dir: Location::parse(s(meta.parent().unwrap())).unwrap(),
                    path: &map,
                    relative_ok: false,
                };
                let d = compare_mapped(&meta, &t, Some(&m));
                if !d.is_empty() {
                    failures.push(format!("{label} {}: {}", rel.display(), d.join("\n  ")));
                }
                let (dv, dcode, derr) =
                    run_json(&["deps", "--verify", "--json", s(meta.parent().unwrap())]);
                if dcode != 0 {
                    failures.push(format!("{label}: deps --verify exit {dcode}: {dv}\n{derr}"));
                }
                // No path points back at the source or its recorded root.
                let snap = flink_chk::metadata::parse(&std::fs::read(&meta).unwrap()).unwrap();
                flink_chk::analysis::refs::visit(&snap, |r| {
                    if let flink_chk::analysis::refs::Ref::File { path, .. } = r {
                        assert!(
                            !path.contains(generated.as_str()) && !path.contains(s(&src)),
                            "{label}: {path}"
                        );
                    }
                });
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 60, "only {checked} snapshots copied");
}

/// `--layout self-contained`: every file in the snapshot's directory, every
/// handle relative; a plain `cp -r` of that one directory still verifies and
/// still matches Flink's truth. File-merging snapshots are refused.
#[test]
fn self_contained_copies_move_again_with_a_plain_directory_copy() {
    let mut checked = 0;
    for (version, name) in [
        ("2.3", "rocksdb-incremental"),
        ("2.3", "hashmap"),
        ("2.3", "changelog"),
        ("2.3", "unaligned"),
        ("2.3", "restore-claim"),
        ("1.20", "rocksdb-incremental"),
        ("1.20", "rocksdb-full"),
    ] {
        let (dir, generated) = scenario(version, name);
        let tmp = tempfile::tempdir().unwrap();
        for rel in metadata_dirs(&dir) {
            let dst = tmp.path().join(format!("dst{checked}"));
            let (v, code, err) = run_json(&[
                "copy",
                "--json",
                "--layout",
                "self-contained",
                s(&dir.join(&rel)),
                "--to",
                s(&dst),
                "--rebase",
                &format!("{generated}={}", dir.display()),
                "--map",
                &format!("{}/dstl={}/dstl", dir.display(), dst.display()),
                "--journal",
                s(&tmp.path().join("j")),
            ]);
            assert_eq!(code, 0, "{version}/{name} {}: {v}\n{err}", rel.display());
            let meta = PathBuf::from(v["snapshots"][0]["destination"].as_str().unwrap());
            let own = meta.parent().unwrap();
            assert_eq!(
                walk(&dst).len() as u64,
                v["totals"]["files"].as_u64().unwrap() + 1,
                "everything in one directory"
            );
            assert!(walk(&dst).iter().all(|p| p.parent() == Some(own)));
            // Moved again with a plain directory copy.
            let moved = tmp.path().join(format!("moved{checked}"));
            copy_tree(own, &moved);
            std::fs::remove_dir_all(&dst).unwrap();
            let (dv, dcode, _) = run_json(&["deps", "--verify", "--json", s(&moved)]);
            assert_eq!(dcode, 0, "{dv}");
            let (pv, _, _) = run_json(&[
                "copy",
                "--dry-run",
                "--json",
                s(&moved),
                "--to",
                s(&tmp.path().join("unused")),
            ]);
            assert_eq!(
                pv["snapshots"][0]["portability"]["self_contained"], true,
                "{pv}"
            );
            // Flink's truth of the source, every file now beside _metadata.
            let t = truth(&dir.join(&rel).join("_metadata"));
            let by_name =
                |p: &str| format!("{}/{}", moved.display(), p.rsplit('/').next().unwrap());
            let m = Mapping {
                dir: Location::parse(s(&moved)).unwrap(),
                path: &by_name,
                relative_ok: true,
            };
            let d = compare_mapped(&moved.join("_metadata"), &t, Some(&m));
            assert!(d.is_empty(), "{version}/{name}: {}", d.join("\n"));
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
    // File merging has no relative segment handle: refused, nothing written.
    let (dir, generated) = scenario("2.3", "file-merging");
    let tmp = tempfile::tempdir().unwrap();
    let rel = &metadata_dirs(&dir)[0];
    let out = flink_chk()
        .args([
            "copy",
            "--layout",
            "self-contained",
            s(&dir.join(rel)),
            "--to",
            s(&tmp.path().join("d")),
            "--rebase",
            &format!("{generated}={}", dir.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot hold file-merging snapshots"), "{err}");
    assert!(!tmp.path().join("d").exists());
}

/// Files changed hands with another tool: `relocate` writes only the
/// rewritten `_metadata`, after finding every file with its recorded size;
/// a missing file or an existing `_metadata` stops it.
#[test]
fn relocate_after_a_plain_copy_and_its_refusals() {
    let (dir, generated) = scenario("2.3", "restore-claim");
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("new");
    copy_tree(&dir.join("checkpoints"), &new);
    let chk = newest_chk("2.3", "restore-claim");
    let moved_meta = new.join(&chk).join("_metadata");
    let rb = format!("{generated}={}", dir.display());
    let map = format!("{}={}", dir.join("checkpoints").display(), new.display());
    let snapshot = dir.join("checkpoints").join(&chk);
    let relocate = || {
        run_json(&[
            "relocate",
            "--json",
            s(&snapshot),
            "--map",
            &map,
            "--rebase",
            &rb,
        ])
    };
    // The copied _metadata is still there, different from the rewrite: refused.
    let original = std::fs::read(&moved_meta).unwrap();
    let (v, code, _) = relocate();
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["snapshots"][0]["status"], "not_published");
    assert!(
        v["snapshots"][0]["error"]
            .as_str()
            .unwrap()
            .contains("not overwritten")
    );
    assert_eq!(std::fs::read(&moved_meta).unwrap(), original);
    std::fs::remove_file(&moved_meta).unwrap();
    // One file the snapshot needs is missing: nothing written.
    let d = deps::collect(
        &tokio_rt()
            .block_on(snapshot::load(
                &flink_chk::storage::LocalStorage,
                &Location::parse(s(&snapshot)).unwrap(),
            ))
            .unwrap(),
        &Rebase::parse(std::slice::from_ref(&rb)).unwrap(),
    );
    let victim = d
        .files
        .iter()
        .find(|f| f.location.path().contains("/shared/"))
        .unwrap();
    let rel_victim = Path::new(victim.location.path())
        .strip_prefix(dir.join("checkpoints"))
        .unwrap()
        .to_owned();
    let saved = std::fs::read(new.join(&rel_victim)).unwrap();
    std::fs::remove_file(new.join(&rel_victim)).unwrap();
    let (v, code, _) = relocate();
    assert_eq!(code, 1, "{v}");
    assert!(!moved_meta.exists());
    assert!(
        v["failures"][0]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{v}"
    );
    std::fs::write(new.join(&rel_victim), saved).unwrap();
    // Everything there: published, and it verifies where it is.
    let (v, code, _) = relocate();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["snapshots"][0]["status"], "published");
    assert_eq!(v["totals"]["copied_files"], 0);
    let (dv, dcode, _) = run_json(&[
        "deps",
        "--verify",
        "--json",
        s(moved_meta.parent().unwrap()),
    ]);
    assert_eq!(dcode, 0, "{dv}");
    // Relocating onto the snapshot's own place would overwrite its source.
    let out = flink_chk()
        .args([
            "relocate",
            s(&snapshot),
            "--map",
            &format!("{}={}", dir.display(), dir.display()),
            "--rebase",
            &rb,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("onto itself"));
}

pub(crate) fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A different `_metadata` already at the destination stays untouched and
/// the snapshot is not published; an unmapped path stops the run before
/// anything is copied; `--plan-out` and `--dry-run` copy nothing.
#[test]
fn refusals_existing_metadata_unmapped_paths_and_dry_runs() {
    let (dir, generated) = scenario("2.3", "changelog");
    let tmp = tempfile::tempdir().unwrap();
    let rb = format!("{generated}={}", dir.display());
    let chk = newest_chk("2.3", "changelog");
    let snapshot = dir.join("checkpoints").join(&chk);
    let dst = tmp.path().join("dst");
    // Unmapped changelog files: exit 3, the --map to give, nothing written.
    let out = flink_chk()
        .args(["copy", s(&snapshot), "--to", s(&dst), "--rebase", &rb])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "--map {}/dstl={}/dstl",
            dir.display(),
            dst.display()
        )),
        "{err}"
    );
    assert!(!dst.exists());
    let map = format!("{}/dstl={}/dstl", dir.display(), dst.display());
    // Dry run with a plan CSV: nothing copied, every data file listed.
    let csv = tmp.path().join("plan.csv");
    let (v, code, _) = run_json(&[
        "copy",
        "--dry-run",
        "--json",
        s(&snapshot),
        "--to",
        s(&dst),
        "--rebase",
        &rb,
        "--map",
        &map,
        "--plan-out",
        s(&csv),
        "--bwlimit",
        "1M",
    ]);
    assert_eq!(code, 0);
    assert!(!dst.exists());
    assert_eq!(v["snapshots"][0]["status"], "planned");
    let bytes = v["totals"]["bytes"].as_f64().unwrap();
    let est = v["estimated_seconds"].as_f64().unwrap();
    assert!((est - bytes / 1_048_576.0).abs() < 1e-6, "{est} {bytes}");
    let lines: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines[0], "source,target");
    assert_eq!(
        lines.len() as u64 - 1,
        v["totals"]["files"].as_u64().unwrap()
    );
    assert!(
        lines
            .iter()
            .skip(1)
            .all(|l| l.starts_with(s(&dir)) && l.contains(s(&dst)))
    );
    // A different _metadata at the destination.
    let meta = dst.join(&chk).join("_metadata");
    std::fs::create_dir_all(meta.parent().unwrap()).unwrap();
    std::fs::write(&meta, b"not this one").unwrap();
    let (v, code, _) = run_json(&[
        "copy",
        "--json",
        s(&snapshot),
        "--to",
        s(&dst),
        "--rebase",
        &rb,
        "--map",
        &map,
        "--journal",
        s(&tmp.path().join("j")),
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["snapshots"][0]["status"], "not_published");
    assert!(
        v["snapshots"][0]["error"]
            .as_str()
            .unwrap()
            .contains("different content")
    );
    assert_eq!(std::fs::read(&meta).unwrap(), b"not this one");
}

/// A symbolic link inside the destination tree: nothing is written through it.
#[cfg(unix)]
#[test]
fn never_writes_through_a_symbolic_link_in_the_destination() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let rb = format!("{generated}={}", dir.display());
    let chk = newest_chk("2.3", "rocksdb-incremental");
    let job = chk.parent().unwrap();
    let dst = tmp.path().join("dst");
    let victim = tmp.path().join("victim");
    std::fs::create_dir_all(dst.join(job)).unwrap();
    std::fs::create_dir_all(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, dst.join(job).join("shared")).unwrap();
    let (v, code, _) = run_json(&[
        "copy",
        "--json",
        s(&dir.join("checkpoints").join(&chk)),
        "--to",
        s(&dst),
        "--rebase",
        &rb,
        "--journal",
        s(&tmp.path().join("j")),
    ]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["failures"][0].as_str().unwrap().contains("symbolic link"),
        "{v}"
    );
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
    assert!(!dst.join(&chk).join("_metadata").exists());
}

/// SIGKILL in the middle of a throttled copy: no `_metadata` is published,
/// and the re-run skips what the journal recorded as verified.
#[cfg(unix)]
#[test]
fn a_killed_copy_resumes_without_copying_verified_files_again() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let rb = format!("{generated}={}", dir.display());
    let chk = newest_chk("2.3", "rocksdb-incremental");
    let snapshot = dir.join("checkpoints").join(&chk);
    let dst = tmp.path().join("dst");
    let journal = tmp.path().join("journal.jsonl");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flink-chk"))
        .env_clear()
        .args([
            "copy",
            s(&snapshot),
            "--to",
            s(&dst),
            "--rebase",
            &rb,
            "--journal",
            s(&journal),
            "--bwlimit",
            "24K",
            "--concurrency",
            "2",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let verified = |j: &Path| {
        std::fs::read_to_string(j)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"verified\""))
            .count()
    };
    let start = std::time::Instant::now();
    while verified(&journal) < 3 && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = verified(&journal);
    assert!(done >= 3, "{done}");
    assert!(
        !dst.join(&chk).join("_metadata").exists(),
        "published before its files"
    );
    let (v, code, _) = run_json(&[
        "copy",
        "--json",
        s(&snapshot),
        "--to",
        s(&dst),
        "--rebase",
        &rb,
        "--journal",
        s(&journal),
    ]);
    assert_eq!(code, 0, "{v}");
    let skipped = v["totals"]["skipped_files"].as_u64().unwrap();
    assert!(skipped >= done as u64, "{skipped} < {done}");
    assert_eq!(
        skipped + v["totals"]["copied_files"].as_u64().unwrap(),
        v["totals"]["files"].as_u64().unwrap()
    );
    let (dv, dcode, _) = run_json(&["deps", "--verify", "--json", s(&dst.join(&chk))]);
    assert_eq!(dcode, 0, "{dv}");
    // No temporary files left.
    assert!(
        walk(&dst)
            .iter()
            .all(|p| !p.to_string_lossy().contains(".flink-chk"))
    );
}

/// Loads a committed scenario into memory at the path Flink wrote it under.
pub(crate) fn memory_scenario(version: &str, name: &str) -> (MemoryStorage, String, Vec<Location>) {
    let (dir, generated) = scenario(version, name);
    let mem = MemoryStorage::new();
    for f in walk(&dir) {
        let rel = f.strip_prefix(&dir).unwrap();
        let at = Location::parse(&format!("{generated}/{}", rel.display())).unwrap();
        mem.put(&at, std::fs::read(&f).unwrap());
    }
    let snaps = metadata_dirs(&dir)
        .into_iter()
        .map(|d| Location::parse(&format!("{generated}/{}", d.display())).unwrap())
        .collect();
    (mem, generated, snaps)
}

/// Every published `_metadata` under `dest` has its whole closure at the
/// destination with the recorded sizes.
pub(crate) fn published_are_complete(dst: &MemoryStorage, dest: &str) -> usize {
    let rt = tokio_rt();
    let metas: Vec<String> = dst
        .lock()
        .files
        .keys()
        .filter(|k| k.starts_with(dest) && k.ends_with("/_metadata"))
        .cloned()
        .collect();
    for m in &metas {
        let s = rt
            .block_on(snapshot::load(dst, &Location::parse(m).unwrap()))
            .unwrap();
        let d = deps::collect(&s, &Rebase::default());
        let problems = rt.block_on(deps::verify(dst, &d, 4, |_| {}));
        assert!(problems.is_empty(), "{m} published with {problems:?}");
    }
    metas.len()
}

fn request(snaps: &[Location], generated: &str, dest: &str) -> Request {
    Request {
        snapshots: snaps.to_vec(),
        rebase: Rebase::default(),
        dest: Some(Location::parse(dest).unwrap()),
        savepoint_dest: None,
        maps: vec![(
            Location::parse(&format!("{generated}/dstl")).unwrap(),
            Location::parse(&format!("{dest}/dstl")).unwrap(),
        )],
        layout: Layout::Mirror,
    }
}

fn options() -> Options {
    Options {
        concurrency: 4,
        chunk: 4096,
        verify: Verify::Standard,
        limiter: None,
        dest_roots: vec![],
        memory: 64 << 20,
        server_side: false,
        ..Options::default()
    }
}

/// A source file deleted after planning (a checkpoint Flink subsumed) and a
/// destination that corrupts what it stores: those snapshots are not
/// published, the corrupted file is removed, the others are.
/// The 2.3 RocksDB incremental fixture in memory, planned to `dest`: the
/// source, the plan and the snapshots.
fn planned_in_memory(
    rt: &tokio::runtime::Runtime,
    dest: &str,
) -> (MemoryStorage, Plan, Vec<Location>) {
    let (src, generated, snaps) = memory_scenario("2.3", "rocksdb-incremental");
    let req = request(&snaps, &generated, dest);
    let p = rt.block_on(plan::plan(&src, &req, true, 4)).unwrap();
    (src, p, snaps)
}

/// A file of the plan that snapshot `k` needs and no other does.
fn only_needed_by(p: &Plan, k: usize) -> usize {
    p.snapshots[k]
        .files
        .iter()
        .copied()
        .find(|&i| {
            p.snapshots
                .iter()
                .enumerate()
                .all(|(j, s)| j == k || !s.files.contains(&i))
        })
        .unwrap()
}

#[test]
fn source_deleted_mid_copy_and_corrupted_writes_are_never_published() {
    let rt = tokio_rt();
    let dest = "/copy/dst";
    let (src, p, snaps) = planned_in_memory(&rt, dest);
    // A file only the newest checkpoint needs disappears after planning.
    let newest = p
        .snapshots
        .iter()
        .position(|s| s.source.path().contains("chk-6"))
        .unwrap();
    let only_newest = only_needed_by(&p, newest);
    let gone = p.files[only_newest].source.clone();
    rt.block_on(src.delete_files(std::slice::from_ref(&gone)));
    let dst = MemoryStorage::new();
    let r = rt.block_on(run::copy(&p, &src, &dst, None, &options(), &Quiet));
    match &r.files[only_newest] {
        FileOutcome::Failed(e) => assert!(e.contains("deleted while it was copied"), "{e}"),
        o => panic!("{o:?}"),
    }
    assert!(
        matches!(r.snapshots[newest], Published::Not(_)),
        "{:?}",
        r.snapshots
    );
    assert!(
        r.snapshots
            .iter()
            .enumerate()
            .all(|(k, s)| k == newest || *s == Published::New)
    );
    assert_eq!(published_are_complete(&dst, dest), snaps.len() - 1);

    // A destination that flips a byte of every shared/ file it stores.
    let (src, generated, snaps) = memory_scenario("2.3", "rocksdb-incremental");
    let req = request(&snaps, &generated, dest);
    let p = rt.block_on(plan::plan(&src, &req, true, 4)).unwrap();
    let dst = Faulty::new(MemoryStorage::new()).corrupt_writes_containing("/shared/");
    let r = rt.block_on(run::copy(&p, &src, &dst, None, &options(), &Quiet));
    let failed: Vec<&String> = r
        .files
        .iter()
        .filter_map(|o| match o {
            FileOutcome::Failed(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed.iter().all(|e| e.contains("reports MD5")),
        "{failed:?}"
    );
    assert!(
        !dst.inner()
            .lock()
            .files
            .keys()
            .any(|k| k.contains("/shared/")),
        "corrupt files removed"
    );
    assert_eq!(
        published_are_complete(dst.inner(), dest),
        1,
        "only the savepoint has no shared/ files"
    );
}

/// The crash property: whatever write the run dies at (every write from
/// the n-th on fails) and whichever data files fail to land, no published
/// `_metadata` has an incomplete closure, and a resumed run (same journal)
/// completes without copying a verified file again.
#[test]
fn no_crash_point_publishes_an_incomplete_snapshot() {
    use proptest::prelude::*;
    let rt = tokio_rt();
    let cases: Vec<(&str, &str)> = vec![
        ("2.3", "rocksdb-incremental"),
        ("2.3", "restore-claim"),
        ("2.3", "changelog"),
        ("2.3", "file-merging"),
        ("1.20", "unaligned"),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    let strategy = (
        0..cases.len(),
        proptest::option::of(0usize..200),
        proptest::collection::vec(proptest::bool::weighted(0.05), 1..64),
        1usize..8,
    );
    runner
        .run(&strategy, |(case, crash_at, fail_mask, conc)| {
            let (version, name) = cases[case];
            let (src, generated, snaps) = memory_scenario(version, name);
            let dest = "/copy/dst";
            let req = request(&snaps, &generated, dest);
            let p = rt.block_on(plan::plan(&src, &req, true, 4)).unwrap();
            let tmp = tempfile::tempdir().unwrap();
            let jpath = tmp.path().join("j");
            let dst = std::sync::Arc::new(MemoryStorage::new());
            let mut opts = options();
            opts.concurrency = conc;
            {
                let mut faulty = Faulty::new(dst.clone());
                if let Some(n) = crash_at {
                    faulty = faulty.fail_writes_from(n);
                }
                for (i, f) in p.files.iter().enumerate() {
                    if fail_mask[i % fail_mask.len()] {
                        faulty = faulty.fail_writes_containing(f.target.to_string());
                    }
                }
                let j = Journal::open(&jpath).unwrap();
                let _ = rt.block_on(run::copy(&p, &src, &faulty, Some(&j), &opts, &Quiet));
            }
            published_are_complete(&dst, dest);
            let j = Journal::open(&jpath).unwrap();
            let verified_before: BTreeSet<String> = std::fs::read_to_string(&jpath)
                .unwrap()
                .lines()
                .filter(|l| l.contains("\"verified\""))
                .map(|l| {
                    serde_json::from_str::<Value>(l).unwrap()["target"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            let r = rt.block_on(run::copy(&p, &src, dst.as_ref(), Some(&j), &opts, &Quiet));
            for (f, o) in p.files.iter().zip(&r.files) {
                prop_assert!(!matches!(o, FileOutcome::Failed(_)), "{o:?}");
                if verified_before.contains(&f.target.to_string()) {
                    prop_assert_eq!(o, &FileOutcome::Skipped);
                }
            }
            prop_assert_eq!(published_are_complete(&dst, dest), snaps.len());
            Ok(())
        })
        .unwrap();
}

/// The checkpoint id of snapshot `k`'s destination directory (`None`: not
/// a `chk-N`).
fn chk_id(p: &Plan, k: usize) -> Option<u64> {
    flink_chk::names::checkpoint_id(p.snapshots[k].destination.parent().file_name())
}

/// The plan's checkpoints as `(id, index)`, by id.
fn checkpoints_by_id(p: &Plan) -> Vec<(u64, usize)> {
    let mut v: Vec<(u64, usize)> = (0..p.snapshots.len())
        .filter_map(|k| chk_id(p, k).map(|id| (id, k)))
        .collect();
    v.sort_unstable();
    v
}

/// One file at a time, the highest checkpoint id at the highest priority
/// (as `replicate` gives a job's snapshots theirs): the newest checkpoint's
/// files complete first.
fn newest_first(p: &Plan) -> Options {
    let mut o = options();
    o.concurrency = 1;
    o.priorities = (0..p.snapshots.len())
        .map(|k| chk_id(p, k).map_or(0, |id| u8::try_from(id + 1).unwrap()))
        .collect();
    o
}

/// The `_metadata` paths `put_if_absent` wrote into `dst` under `chk-N/`
/// directories, in order.
fn checkpoint_puts(dst: &MemoryStorage) -> Vec<String> {
    dst.lock()
        .puts
        .iter()
        .filter(|x| x.contains("/chk-"))
        .cloned()
        .collect()
}

/// What an observer saw of a run into a memory destination.
#[derive(Debug, Default)]
struct Seen {
    /// Files done so far.
    done: usize,
    /// Per snapshot: the files done when all of its files were first in
    /// place at the destination.
    complete_at: Vec<Option<usize>>,
    /// Snapshots as settled: (index, outcome, files done by then).
    settled: Vec<(usize, Published, usize)>,
}

struct Watch<'a> {
    plan: &'a Plan,
    dst: &'a MemoryStorage,
    seen: std::sync::Mutex<Seen>,
}

impl<'a> Watch<'a> {
    fn new(plan: &'a Plan, dst: &'a MemoryStorage) -> Self {
        let seen = Seen {
            complete_at: vec![None; plan.snapshots.len()],
            ..Seen::default()
        };
        Self {
            plan,
            dst,
            seen: std::sync::Mutex::new(seen),
        }
    }
}

impl Observer for Watch<'_> {
    fn bytes(&self, _: u64) {}

    fn file_done(&self) {
        let mut seen = self.seen.lock().unwrap();
        seen.done += 1;
        let done = seen.done;
        let fs = self.dst.lock();
        for (k, s) in self.plan.snapshots.iter().enumerate() {
            if seen.complete_at[k].is_none()
                && s.files
                    .iter()
                    .all(|&i| fs.files.contains_key(self.plan.files[i].target.path()))
            {
                seen.complete_at[k] = Some(done);
            }
        }
    }

    fn published(&self, k: usize, outcome: &Published) {
        let mut seen = self.seen.lock().unwrap();
        let done = seen.done;
        seen.settled.push((k, outcome.clone(), done));
    }
}

/// chk-4, chk-5 and chk-6 of one job in one run, chk-6 made to finish
/// first and chk-4 last: the `_metadata` are still written by ascending id
/// (`put_if_absent` order and observer order), chk-6 only after chk-4's
/// last file, when the lower ones were published.
#[test]
fn checkpoints_of_one_job_are_published_by_id_when_the_newest_finishes_first() {
    let rt = tokio_rt();
    let dest = "/copy/dst";
    let (src, p, snaps) = planned_in_memory(&rt, dest);
    let chks = checkpoints_by_id(&p);
    let [(4, k4), (5, k5), (6, k6)] = chks[..] else {
        panic!("{chks:?}")
    };
    let dst = MemoryStorage::new();
    let watch = Watch::new(&p, &dst);
    let r = rt.block_on(run::copy(&p, &src, &dst, None, &newest_first(&p), &watch));
    assert!(
        r.snapshots.iter().all(|s| *s == Published::New),
        "{:?}",
        r.snapshots
    );
    let seen = watch.seen.into_inner().unwrap();
    // The case under test: chk-6's files were in place first, chk-4's last.
    let complete = |k: usize| seen.complete_at[k].unwrap();
    assert!(
        complete(k6) < complete(k5) && complete(k5) < complete(k4),
        "{:?}",
        seen.complete_at
    );
    let settled: Vec<(u64, usize)> = seen
        .settled
        .iter()
        .filter_map(|(k, _, done)| chk_id(&p, *k).map(|id| (id, *done)))
        .collect();
    let at = complete(k4);
    assert_eq!(settled, [(4, at), (5, at), (6, at)], "{:?}", seen.settled);
    let by_id: Vec<String> = chks
        .iter()
        .map(|&(_, k)| p.snapshots[k].destination.path().to_owned())
        .collect();
    assert_eq!(checkpoint_puts(&dst), by_id);
    assert_eq!(published_are_complete(&dst, dest), snaps.len());
}

/// The hostile case: chk-5 fails (a file only it needs vanished from the
/// source after planning) while chk-6 had finished first and chk-4 is still
/// copying. chk-6 waits for chk-4, is not held back by the failed chk-5,
/// and is published; chk-5 is reported not published, with the reason.
#[test]
fn a_failed_lower_checkpoint_does_not_hold_back_the_higher_one() {
    let rt = tokio_rt();
    let dest = "/copy/dst";
    let (src, p, snaps) = planned_in_memory(&rt, dest);
    let chks = checkpoints_by_id(&p);
    let [(4, k4), (5, k5), (6, k6)] = chks[..] else {
        panic!("{chks:?}")
    };
    let only_chk5 = only_needed_by(&p, k5);
    let gone = p.files[only_chk5].source.clone();
    rt.block_on(src.delete_files(std::slice::from_ref(&gone)));
    let dst = MemoryStorage::new();
    let watch = Watch::new(&p, &dst);
    let r = rt.block_on(run::copy(&p, &src, &dst, None, &newest_first(&p), &watch));
    match &r.files[only_chk5] {
        FileOutcome::Failed(e) => assert!(e.contains(run::SOURCE_GONE), "{e}"),
        o => panic!("{o:?}"),
    }
    match &r.snapshots[k5] {
        Published::Not(e) => {
            assert!(e.contains(run::SOURCE_GONE), "{e}");
            assert!(e.contains("its _metadata was not written"), "{e}");
        }
        o => panic!("chk-5: {o:?}"),
    }
    for (k, o) in r.snapshots.iter().enumerate() {
        if k != k5 {
            assert_eq!(*o, Published::New, "{}", p.snapshots[k].destination);
        }
    }
    let seen = watch.seen.into_inner().unwrap();
    let complete = |k: usize| seen.complete_at[k].unwrap();
    assert!(complete(k6) < complete(k4), "{:?}", seen.complete_at);
    let settled: Vec<(u64, bool, usize)> = seen
        .settled
        .iter()
        .filter_map(|(k, o, done)| chk_id(&p, *k).map(|id| (id, *o == Published::New, *done)))
        .collect();
    let at = complete(k4);
    assert_eq!(
        settled,
        [(4, true, at), (5, false, at), (6, true, at)],
        "{:?}",
        seen.settled
    );
    assert_eq!(
        checkpoint_puts(&dst),
        [k4, k6].map(|k| p.snapshots[k].destination.path().to_owned())
    );
    assert!(
        !dst.lock()
            .files
            .contains_key(p.snapshots[k5].destination.path())
    );
    assert_eq!(published_are_complete(&dst, dest), snaps.len() - 1);
}

/// A crash at each write of that run (every write from the n-th on fails,
/// as if the process had died there): the checkpoints published are always
/// the lowest ones — never chk-6 without chk-5 and chk-4 — each complete;
/// the run resumed from its journal publishes the rest, by id too.
#[test]
fn no_crash_point_leaves_a_higher_checkpoint_published_without_a_lower_one() {
    let rt = tokio_rt();
    let dest = "/copy/dst";
    let (src, p, snaps) = planned_in_memory(&rt, dest);
    let chks = checkpoints_by_id(&p);
    let metas: Vec<String> = chks
        .iter()
        .map(|&(_, k)| p.snapshots[k].destination.path().to_owned())
        .collect();
    let opts = newest_first(&p);
    // One `create` per data file, one `put_if_absent` per snapshot.
    let writes = p.files.len() + p.snapshots.len();
    let mut prefixes = BTreeSet::new();
    for n in 0..=writes {
        let tmp = tempfile::tempdir().unwrap();
        let jpath = tmp.path().join("j");
        let dst = std::sync::Arc::new(MemoryStorage::new());
        {
            let faulty = Faulty::new(dst.clone()).fail_writes_from(n);
            let j = Journal::open(&jpath).unwrap();
            let _ = rt.block_on(run::copy(&p, &src, &faulty, Some(&j), &opts, &Quiet));
        }
        let there: Vec<bool> = {
            let fs = dst.lock();
            metas.iter().map(|m| fs.files.contains_key(m)).collect()
        };
        let published = there.iter().take_while(|&&b| b).count();
        assert!(
            there[published..].iter().all(|&b| !b),
            "crash at write {n}: published {there:?} (chk-4, chk-5, chk-6)"
        );
        prefixes.insert(published);
        published_are_complete(&dst, dest);
        // Resumed: the rest published, by id.
        let j = Journal::open(&jpath).unwrap();
        let r = rt.block_on(run::copy(&p, &src, dst.as_ref(), Some(&j), &opts, &Quiet));
        assert!(
            r.snapshots.iter().all(|s| !matches!(s, Published::Not(_))),
            "crash at write {n}, resumed: {:?}",
            r.snapshots
        );
        assert_eq!(checkpoint_puts(&dst), metas, "crash at write {n}");
        assert_eq!(published_are_complete(&dst, dest), snaps.len());
    }
    assert_eq!(
        prefixes,
        BTreeSet::from([0, 1, 2, 3]),
        "every prefix reached"
    );
}

/// `copy` of the snapshots `snaps` (relative to the fixture copy `dir`)
/// to `dst`, the generator's root rebased onto `dir`, with a journal.
fn copy_args(
    dir: &Path,
    snaps: &[PathBuf],
    generated: &str,
    dst: &Path,
    journal: &Path,
) -> Vec<String> {
    let mut args: Vec<String> = vec!["copy".into()];
    args.extend(snaps.iter().map(|d| s(&dir.join(d)).to_owned()));
    args.extend([
        "--to".into(),
        s(dst).into(),
        "--rebase".into(),
        format!("{generated}={}", dir.display()),
        "--journal".into(),
        s(journal).into(),
    ]);
    args
}

/// The human summary of a run copying chk-4, chk-5, chk-6 and a savepoint
/// counts every file that lands: the data files and the four `_metadata`
/// apart, adding up to what is at the destination (the `_metadata` used
/// to be left out: "65 files" where 69 landed).
#[test]
fn the_summary_counts_the_metadata_files_it_writes() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("dst");
    let args = copy_args(
        &dir,
        &metadata_dirs(&dir),
        &generated,
        &dst,
        &tmp.path().join("j"),
    );
    let run = |extra: &[&str]| {
        let out = flink_chk().args(&args).args(extra).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let (plan, _, _) = run_json(
        &[
            args.iter().map(String::as_str).collect::<Vec<_>>(),
            vec!["--json", "--dry-run"],
        ]
        .concat(),
    );
    let data = plan["totals"]["files"].as_u64().unwrap();
    assert_eq!(plan["totals"]["metadata_files"], 4);
    assert_eq!(plan["totals"]["metadata_written"], 0);
    let dry = run(&["--dry-run"]);
    assert!(
        dry.starts_with(&format!(
            "Plan: 4 snapshot(s), {data} data files + 4 _metadata, "
        )),
        "{dry}"
    );
    let first = run(&[]);
    let landed = walk(&dst).len() as u64;
    assert_eq!(landed, data + 4);
    let head = format!(
        "Published 4 snapshot(s) at {}: {data} data files + 4 _metadata, ",
        dst.display()
    );
    assert!(first.starts_with(&head), "{first}");
    assert!(first.contains(&format!("({data} copied, ")), "{first}");
    let again = run(&[]);
    let head = format!(
        "4 snapshot(s) already published at {}: {data} data files + 4 _metadata, ",
        dst.display()
    );
    assert!(again.starts_with(&head), "{again}");
    assert!(
        again.contains(&format!("(0 copied, 0 B; {data} already there)")),
        "{again}"
    );
}

/// Through the CLI: a different `_metadata` already at chk-5's place at
/// the destination. chk-5 is reported not published (and why), chk-4 and
/// chk-6 are published, the summary says 3 of 4 `_metadata` were written,
/// and the run exits 1.
#[test]
fn a_lower_checkpoint_refused_at_the_destination_is_reported_and_the_higher_one_published() {
    let (dir, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("dst");
    let snaps = metadata_dirs(&dir);
    let chk5 = snaps
        .iter()
        .find(|d| d.ends_with("chk-5"))
        .unwrap()
        .strip_prefix("checkpoints")
        .unwrap()
        .to_owned();
    let taken = dst.join(&chk5).join("_metadata");
    std::fs::create_dir_all(taken.parent().unwrap()).unwrap();
    std::fs::write(&taken, b"not this one").unwrap();
    let args = copy_args(&dir, &snaps, &generated, &dst, &tmp.path().join("j"));
    let out = flink_chk().args(&args).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("1 of 4 snapshot(s) NOT published"),
        "{text}"
    );
    assert!(text.contains("; 3 of 4 _metadata written"), "{text}");
    let refused = text
        .lines()
        .find(|l| l.starts_with("not published: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(refused.contains("chk-5/_metadata"), "{refused}");
    assert!(refused.contains("different content"), "{refused}");
    assert_eq!(std::fs::read(&taken).unwrap(), b"not this one");
    let job = chk5.parent().unwrap();
    for n in [4, 6] {
        let meta = dst.join(job).join(format!("chk-{n}/_metadata"));
        assert!(meta.is_file(), "chk-{n} not published: {text}");
    }
}

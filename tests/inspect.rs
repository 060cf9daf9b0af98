//! `flink-chk inspect` and `flink-chk uid` as a user runs them.

use predicates::prelude::*;
use serde_json::Value;

use crate::common::{self, flink_chk};

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out).expect("stdout is JSON")
}

#[test]
fn inspect_corpus_file_matches_format_spec_example() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // FORMAT.md §11: a Flink 2.3 canonical savepoint, checkpoint id 54, 5 operators.
    let dir = corpus.join("operatorstate-nonKeyed-flink2.3");
    let out = flink_chk().arg("inspect").arg(&dir).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("version 6"), "{text}");
    assert!(text.contains("checkpoint  54"), "{text}");
    assert!(text.contains("savepoint (canonical)"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("6730ef7375fb60f9d9bbdfdfd174d803"))
        .expect("operator row");
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cols[1..5], ["second", "Map", "4", "128"], "{line}");
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
}

#[test]
fn inspect_json_equals_flinks_loader() {
    let meta = common::newest_checkpoint("2.3", "rocksdb-incremental");
    let truth = common::truth(&meta);
    let out = flink_chk()
        .args(["inspect", "--json", "--files"])
        .arg(&meta)
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    assert_eq!(v["metadata_version"], truth["metadata_version"]);
    assert_eq!(v["checkpoint_id"], truth["checkpoint_id"]);
    assert_eq!(v["kind"], "checkpoint");
    let ops = v["operators"].as_array().unwrap();
    let tops = truth["operators"].as_array().unwrap();
    assert_eq!(ops.len(), tops.len());
    for (o, t) in ops.iter().zip(tops) {
        for k in [
            "id",
            "uid",
            "name",
            "parallelism",
            "max_parallelism",
            "state_size",
        ] {
            assert_eq!(o[k], t[k], "operator {} field {k}", t["id"]);
        }
    }
    // Every file Flink resolves, with the size its handle records.
    let norm = |p: &str| {
        p.trim_start_matches("file:")
            .trim_start_matches("//")
            .to_owned()
    };
    let pairs = |a: &Value, base: Option<&str>| -> Vec<(String, i64)> {
        let mut v: Vec<(String, i64)> = a
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let p = norm(f["path"].as_str().unwrap());
                (
                    base.map_or(p.clone(), |b| p.replace(b, "<root>")),
                    f["size"].as_i64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let here = meta.parent().unwrap().display().to_string();
    let there = truth["external_pointer"].as_str().unwrap().to_owned();
    let ours = pairs(&v["files"], Some(&here));
    let flink = pairs(&truth["files"], Some(&there));
    // Relative handles resolve against where the snapshot is now; absolute
    // (shared/) ones keep the location Flink wrote.
    assert_eq!(ours, flink);
    assert!(
        ours.iter().any(|(p, _)| p.contains("/shared/")),
        "incremental checkpoint references shared/ files"
    );
    assert_eq!(
        v["inline"].as_array().unwrap().len(),
        truth["inline"].as_array().unwrap().len()
    );
}

#[test]
fn inspect_states_lists_the_jobs_state_names() {
    let meta = common::newest_checkpoint("2.3", "rocksdb-incremental");
    let out = flink_chk()
        .args(["inspect", "--states", "--json"])
        .arg(&meta)
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    let states = |uid: &str| -> Vec<(String, String)> {
        let op = v["operators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["uid"] == uid)
            .unwrap();
        op["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().into(),
                    s["kind"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let keyed = states("keyed-state");
    for (name, kind) in [("count", "value"), ("recent", "list"), ("buckets", "map")] {
        assert!(keyed.contains(&(name.into(), kind.into())), "{keyed:?}");
    }
    assert!(
        keyed
            .iter()
            .any(|(n, k)| n == "_timer_state/event_user-timers" && k == "priority_queue"),
        "{keyed:?}"
    );
    let join = states("broadcast-join");
    assert!(
        join.contains(&("rules".into(), "broadcast".into())),
        "{join:?}"
    );
    assert!(
        join.contains(&("last-rule".into(), "value".into())),
        "{join:?}"
    );
    let throttle = states("source-throttle");
    assert!(
        throttle.contains(&("throttle-union".into(), "union_list".into())),
        "{throttle:?}"
    );
    assert!(
        throttle.contains(&("throttle-counts".into(), "operator_list".into())),
        "{throttle:?}"
    );
    let window = states("window-reduce");
    assert!(
        window.contains(&("window-contents".into(), "reducing".into())),
        "{window:?}"
    );
}

#[test]
fn inspect_names_operators_from_a_uid_list_for_pre_2_0_files() {
    let meta = common::newest_checkpoint("1.20", "hashmap");
    let truth = common::truth(&meta);
    assert_eq!(truth["metadata_version"], 4);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("uids.txt");
    std::fs::write(
        &list,
        "# uids of the job\nsource\nkeyed-state\nwindow-reduce\nbroadcast-join\n",
    )
    .unwrap();
    let out = flink_chk()
        .args(["inspect", "--json", "--uids"])
        .arg(&list)
        .arg(&meta)
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    let ops = v["operators"].as_array().unwrap();
    for uid in ["source", "keyed-state", "window-reduce", "broadcast-join"] {
        let id = flink_chk::uid::operator_id(uid).to_hex();
        let op = ops
            .iter()
            .find(|o| o["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{uid} ({id}) not in snapshot"));
        assert_eq!(op["uid"], uid);
        assert_eq!(op["uid_source"], "uids-file");
    }
}

#[test]
fn uid_prints_flinks_operator_ids() {
    flink_chk()
        .args(["uid", "source", "second"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "e5a72f353fc1e6bbf3bd96a41384998c  source",
        ))
        .stdout(predicate::str::contains(
            "6730ef7375fb60f9d9bbdfdfd174d803  second",
        ));
    let out = flink_chk()
        .args(["uid", "--json", "source"])
        .assert()
        .success();
    let v = json_of(&out.get_output().stdout);
    assert_eq!(v[0]["operator_id"], "e5a72f353fc1e6bbf3bd96a41384998c");
}

#[test]
fn bad_input_gets_a_clear_error_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    flink_chk()
        .arg("inspect")
        .arg(dir.path().join("nope"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nope"));
    flink_chk()
        .arg("inspect")
        .arg(dir.path())
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no _metadata in this directory"));
    // A real file, cut short.
    let meta = common::newest_checkpoint("2.3", "hashmap");
    let bytes = std::fs::read(&meta).unwrap();
    let cut = dir.path().join("_metadata");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    flink_chk()
        .arg("inspect")
        .arg(&cut)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(cut.display().to_string()))
        .stderr(predicate::str::contains("byte offset"))
        .stderr(predicate::str::contains("operators["));
    std::fs::write(&cut, b"PK\x03\x04 not a checkpoint").unwrap();
    flink_chk()
        .arg("inspect")
        .arg(&cut)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("magic number"));
    flink_chk().args(["inspect", "--bogus"]).assert().code(64);
}

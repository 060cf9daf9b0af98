//! `completions/` and `man/` are generated from the CLI definition and
//! committed; this fails when they drift. `UPDATE_GENERATED=1 cargo test`
//! rewrites them.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

use crate::common;

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    rd.flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn check(what: &str, committed: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("flink-chk")
        .unwrap()
        .args(["generate", what, "--out-dir"])
        .arg(tmp.path())
        .assert()
        .success();
    let fresh = read_dir(tmp.path());
    assert!(!fresh.is_empty());
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        let _ = std::fs::remove_dir_all(committed);
        std::fs::create_dir_all(committed).unwrap();
        for (name, bytes) in &fresh {
            std::fs::write(committed.join(name), bytes).unwrap();
        }
        return;
    }
    let old = read_dir(committed);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&old),
        names(&fresh),
        "{what}: file set drifted; run UPDATE_GENERATED=1 cargo test"
    );
    for (name, bytes) in &fresh {
        assert!(
            old.get(name) == Some(bytes),
            "{}/{name} drifted from the CLI; run UPDATE_GENERATED=1 cargo test",
            committed.display()
        );
    }
}

#[test]
fn completions_are_up_to_date() {
    check("completions", &common::repo().join("completions"));
}

#[test]
fn man_pages_are_up_to_date() {
    check("man", &common::repo().join("man"));
}

#[test]
fn man_pages_cover_every_subcommand() {
    let man = common::repo().join("man");
    for sub in ["inspect", "uid", "completions"] {
        assert!(
            man.join(format!("flink-chk-{sub}.1")).is_file(),
            "missing man page for {sub}"
        );
    }
    assert!(
        !man.join("flink-chk-generate.1").exists(),
        "hidden command has a man page"
    );
}

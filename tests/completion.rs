//! Dynamic tab completion through real bash: the script `COMPLETE=bash
//! flink-chk` prints is sourced and its completion function called the way
//! bash calls it, with a profiles file in a temporary config directory.

use std::process::Command;

use crate::common::repo;

#[test]
fn bash_completes_profile_names_aliases_and_checkpoint_ids() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipping: bash not found");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("flink-chk");
    let cfg = tempfile::tempdir().unwrap();
    let dir = cfg.path().join("flink-chk");
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = repo().join("tests/fixtures/flink/2.3/rocksdb-incremental/checkpoints");
    std::fs::write(
        dir.join("profiles.yaml"),
        format!(
            "default: prod\nprofiles:\n  prod:\n    checkpoints: {}\n    jobs:\n      orders: 8cf2f5c78be81ea408e71c6d59570d77\n  staging:\n    checkpoints: s3://bucket/checkpoints\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let script = r#"
source <(COMPLETE=bash flink-chk)
comp() {
  COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
  _clap_complete_flink_chk flink-chk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "$(printf '%s ' "${COMPREPLY[@]}")"
}
comp flink-chk --profile ""
comp flink-chk -p st
comp flink-chk deps ord
comp flink-chk inspect orders@
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.parent().unwrap().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("XDG_CONFIG_HOME", cfg.path())
        .env("HOME", cfg.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().map(str::trim_end).collect();
    assert_eq!(
        lines,
        [
            "prod staging",
            "staging",
            "orders",
            "orders@latest orders@chk-6 orders@chk-5 orders@chk-4"
        ],
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

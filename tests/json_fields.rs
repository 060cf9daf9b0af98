//! The JSON field names of every command with `--json` are a public
//! interface: these tests pin the set of key paths (`/a/[]/b`: `[]` is any
//! element of an array) that each command prints on committed fixtures.
//! A changed name, an added or a removed field fails here; update the
//! expected list only on purpose (and say so in the release notes).
//!
//! Keys of the metadata model under `inspect`'s `/model` are pinned one
//! level deep: below that they are the parser's own model, checked against
//! Flink's loader by the oracle tests, and vary with the handle kinds a
//! snapshot holds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    copy_recorded_at, copy_tree, flink_chk, job_dir, repo, root_of_length, scenario, short_tempdir,
};

/// Every key path of `v`, sorted.
pub(crate) fn key_paths(v: &Value) -> String {
    fn walk(v: &Value, path: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{path}/{k}");
                    out.insert(p.clone());
                    if p.starts_with("/model/") {
                        continue;
                    }
                    walk(x, &p, out);
                }
            }
            Value::Array(a) => {
                for x in a {
                    walk(x, &format!("{path}/[]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(v, "", &mut out);
    out.into_iter().collect::<Vec<_>>().join("\n")
}

/// Runs `flink-chk ARGS`, checks its exit code, and compares the key paths
/// of the JSON it printed with `expected` (one path a line).
fn check(args: &[&str], code: i32, expected: &str) {
    check_in(None, args, code, expected);
}

fn check_in(config: Option<&Path>, args: &[&str], code: i32, expected: &str) {
    let mut cmd = flink_chk();
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.args(args).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = key_paths(&v);
    assert!(
        got == expected.trim(),
        "{args:?}: the JSON field names changed; the key paths now are:\n{got}"
    );
}

fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures/flink").join(rel)
}

const JOB: &str = "2.0/hashmap/checkpoints/35434a9bb7b5d911c043166724837080";
/// A copy of a job whose snapshots record a root that does not exist (so
/// `--verify` finds every file missing there, whatever this machine holds
/// where the generator ran): the scratch directory and the job directory.
fn moved_job() -> (tempfile::TempDir, PathBuf) {
    let (dir, generated) = scenario("1.20", "rocksdb-incremental");
    let tmp = short_tempdir();
    let recorded = root_of_length(tmp.path(), generated.len());
    let copy = tmp.path().join("copy");
    copy_recorded_at(&dir, &generated, &copy, &recorded);
    assert!(!Path::new(&recorded).exists());
    let job = job_dir(&copy.join("checkpoints"));
    (tmp, job)
}

fn p(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_owned()
}

/// A private copy of the committed 2.3 RocksDB incremental tree: (its
/// temporary directory, the tree, the `--rebase` of its recorded paths).
fn ri_tree() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ri");
    copy_tree(&src, &root);
    let rebase = format!("file:{generated}={}", root.display());
    (tmp, root, rebase)
}

#[test]
fn inspect() {
    check(
        &[
            "inspect",
            &p(&format!("{JOB}/chk-6")),
            "--json",
            "--files",
            "--states",
        ],
        0,
        INSPECT,
    );
}

#[test]
fn ls_root() {
    check(&["ls", &p("2.0/hashmap/checkpoints"), "--json"], 0, LS_ROOT);
}

#[test]
fn ls_job() {
    let (_tmp, job) = moved_job();
    check(
        &["ls", job.to_str().unwrap(), "--json", "--verify"],
        1,
        LS_JOB,
    );
}

#[test]
fn deps() {
    check(
        &["deps", &p(&format!("{JOB}/chk-6")), "--json", "--files"],
        0,
        DEPS,
    );
}

#[test]
fn deps_verify() {
    let (_tmp, job) = moved_job();
    check(
        &[
            "deps",
            job.join("chk-6").to_str().unwrap(),
            "--json",
            "--verify",
        ],
        1,
        DEPS_VERIFY,
    );
}

#[test]
fn why() {
    check(
        &[
            "why",
            &p(&format!("{JOB}/chk-6/0a8c4784-bbae-4793-bdee-3a88c727381e")),
            "--in",
            &p("2.0/hashmap/checkpoints"),
            "--json",
        ],
        0,
        WHY,
    );
}

#[test]
fn why_elsewhere() {
    check(
        &["why", &p("1.20/rocksdb-incremental"), "--json"],
        0,
        WHY_ELSEWHERE,
    );
}

#[test]
fn uid() {
    check(&["uid", "source", "--json"], 0, UID);
}

#[test]
fn diff() {
    check(
        &[
            "diff",
            &p("1.20/diff-changed-uid/savepoints/savepoint-38e420-f079354f7b94"),
            &p("1.20/diff-changed-uid/savepoints/savepoint-a87ca8-5dc6513fc098"),
            "--json",
        ],
        1,
        DIFF,
    );
}

#[test]
fn diff_files() {
    check(
        &[
            "diff",
            &p(&format!("{JOB}/chk-3")),
            &p(&format!("{JOB}/chk-6")),
            "--json",
            "--files",
        ],
        0,
        DIFF_FILES,
    );
}

#[test]
fn safe_to_delete_dry_run() {
    let (_tmp, root, rebase) = ri_tree();
    check(
        &[
            "safe-to-delete",
            root.join("checkpoints").to_str().unwrap(),
            "--dry-run",
            "--json",
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--rebase",
            &rebase,
        ],
        0,
        SAFE_TO_DELETE,
    );
}

/// A run that deletes: the plan's fields as for `--dry-run`, and `applied`.
#[test]
fn safe_to_delete_yes() {
    let (tmp, root, rebase) = ri_tree();
    let log = tmp.path().join("deletions.log");
    let checkpoints = root.join("checkpoints");
    let args = [
        "safe-to-delete",
        checkpoints.to_str().unwrap(),
        "--yes",
        "--json",
        "--log",
        log.to_str().unwrap(),
        "--keep-last",
        "1",
        "--min-age",
        "0s",
        "--rebase",
        &rebase,
    ];
    let out = flink_chk().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got = key_paths(&v);
    let (applied, plan): (Vec<&str>, Vec<&str>) =
        got.lines().partition(|l| l.starts_with("/applied"));
    assert_eq!(plan.join("\n"), SAFE_TO_DELETE.trim(), "the plan's fields");
    let applied = applied.join("\n");
    assert!(
        applied == APPLIED.trim(),
        "the JSON field names changed; the key paths now are:\n{applied}"
    );
    // Nothing on an object store: never throttled, no window.
    assert_eq!(v["applied"]["throttled"]["responses"], 0);
    assert!(v["applied"]["throttled"]["lowest_window"].is_null());
}

#[test]
fn refs_export() {
    let (tmp, root, rebase) = ri_tree();
    let out = tmp.path().join("refs.csv");
    check(
        &[
            "refs",
            "export",
            root.join("checkpoints").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
            "--keep-last",
            "1",
            "--min-age",
            "0s",
            "--rebase",
            &rebase,
        ],
        0,
        REFS_EXPORT,
    );
}

const REFS_EXPORT: &str = "
/cutoff
/format
/inventory
/kept_dirs
/out
/references
/references_read
/root
/scope
/snapshots_read
/sql
";

#[test]
fn profile_list_and_show() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("profiles.yaml");
    std::fs::write(
        &config,
        format!(
            "default: t\nprofiles:\n  t:\n    checkpoints: {}\n    savepoints: {}\n    \
             jobs:\n      hm:\n        id: 35434a9bb7b5d911c043166724837080\n        \
             uids: [source]\n",
            p("2.0/hashmap/checkpoints"),
            p("2.0/hashmap/savepoints"),
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    check_in(
        Some(&config),
        &["profile", "list", "--json"],
        0,
        PROFILE_LIST,
    );
    check_in(
        Some(&config),
        &["profile", "show", "--json"],
        0,
        PROFILE_SHOW,
    );
}

const INSPECT: &str = r"
/checkpoint_id
/files
/files/[]/handle
/files/[]/local_path
/files/[]/operator
/files/[]/part
/files/[]/path
/files/[]/role
/files/[]/size
/files/[]/start
/files/[]/stored_path
/files/[]/subtask
/inline
/inline/[]/name
/inline/[]/operator
/inline/[]/part
/inline/[]/role
/inline/[]/size
/inline/[]/subtask
/kind
/metadata_version
/model
/model/checkpoint_id
/model/dialect
/model/master_states
/model/operators
/model/properties
/model/version
/operators
/operators/[]/coordinator_state_size
/operators/[]/finished
/operators/[]/handle_kinds
/operators/[]/id
/operators/[]/max_parallelism
/operators/[]/name
/operators/[]/parallelism
/operators/[]/state_notes
/operators/[]/state_size
/operators/[]/states
/operators/[]/states/[]/heuristic
/operators/[]/states/[]/kind
/operators/[]/states/[]/name
/operators/[]/states/[]/scope
/operators/[]/states/[]/serializers
/operators/[]/subtasks
/operators/[]/uid
/operators/[]/uid_source
/path
/properties
/properties/discard
/properties/forced
/properties/snapshot_type
/properties/snapshot_type/class
/properties/snapshot_type/name
/properties/snapshot_type/sharing
/properties/unclaimed
/totals
/totals/file_bytes
/totals/file_references
/totals/inline_bytes
/totals/inline_handles
/totals/metadata_bytes
/totals/operators
/totals/state_size
/trailing_bytes
";

const LS_ROOT: &str = r"
/jobs
/jobs/[]/abandoned
/jobs/[]/age_seconds
/jobs/[]/alias
/jobs/[]/bytes
/jobs/[]/completed_checkpoints
/jobs/[]/files
/jobs/[]/in_progress
/jobs/[]/job_id
/jobs/[]/latest
/jobs/[]/latest/id
/jobs/[]/latest/location
/jobs/[]/latest/time
/jobs/[]/location
/jobs/[]/newest_file_time
/jobs/[]/shared
/jobs/[]/shared/bytes
/jobs/[]/shared/files
/jobs/[]/taskowned
/jobs/[]/taskowned/bytes
/jobs/[]/taskowned/files
/other
/other/bytes
/other/files
/root
/savepoints
/savepoints_root
/total
/total/bytes
/total/files
";

const LS_JOB: &str = r"
/age_seconds
/alias
/bytes
/checkpoints
/checkpoints/[]/bytes
/checkpoints/[]/files
/checkpoints/[]/id
/checkpoints/[]/kind
/checkpoints/[]/location
/checkpoints/[]/metadata_readable
/checkpoints/[]/name
/checkpoints/[]/replica_of
/checkpoints/[]/restorable
/checkpoints/[]/savepoint
/checkpoints/[]/state_size
/checkpoints/[]/status
/checkpoints/[]/time
/checkpoints/[]/verify
/checkpoints/[]/verify/checked
/checkpoints/[]/verify/ok
/checkpoints/[]/verify/problems
/checkpoints/[]/verify/problems/[]/path
/checkpoints/[]/verify/problems/[]/problem
/files
/job_id
/location
/newest_file_time
/savepoints
/shared
/shared/bytes
/shared/files
/taskowned
/taskowned/bytes
/taskowned/files
";

const DEPS: &str = r"
/bytes_total
/checkpoint_id
/files
/files/[]/bytes
/files/[]/exact_size
/files/[]/group
/files/[]/label
/files/[]/label/kind
/files/[]/min_size
/files/[]/path
/files/[]/references
/files_total
/groups
/groups/[]/bytes
/groups/[]/dir
/groups/[]/files
/groups/[]/label
/groups/[]/label/kind
/inline
/inline/bytes
/inline/handles
/kind
/metadata_bytes
/other_jobs
/portability
/portability/absolute_handles
/portability/entropy_like
/portability/foreign_relative
/portability/self_contained
/recorded_job_dir
/recorded_root
/snapshot
/suggested_rebase
/unresolved
/verify
";

const DEPS_VERIFY: &str = r"
/bytes_total
/checkpoint_id
/files
/files/[]/bytes
/files/[]/exact_size
/files/[]/group
/files/[]/label
/files/[]/label/kind
/files/[]/min_size
/files/[]/path
/files/[]/references
/files_total
/groups
/groups/[]/bytes
/groups/[]/dir
/groups/[]/files
/groups/[]/label
/groups/[]/label/kind
/inline
/inline/bytes
/inline/handles
/kind
/metadata_bytes
/other_jobs
/portability
/portability/absolute_handles
/portability/entropy_like
/portability/foreign_relative
/portability/self_contained
/recorded_job_dir
/recorded_root
/snapshot
/suggested_rebase
/unresolved
/verify
/verify/checked
/verify/ok
/verify/problems
/verify/problems/[]/path
/verify/problems/[]/problem
";

const WHY: &str = r"
/recorded_elsewhere
/referenced
/references
/references/[]/checkpoint_id
/references/[]/operator
/references/[]/path
/references/[]/role
/references/[]/snapshot
/references/[]/subtask
/scopes
/snapshots
/snapshots_read
/target
/unreadable
/verdict
";

const WHY_ELSEWHERE: &str = r"
/recorded_elsewhere
/recorded_elsewhere/[]/actual_root
/recorded_elsewhere/[]/recorded_root
/recorded_elsewhere/[]/snapshots
/recorded_elsewhere/[]/suggested_rebase
/recorded_elsewhere/[]/would_reference
/referenced
/references
/references/[]/checkpoint_id
/references/[]/operator
/references/[]/path
/references/[]/role
/references/[]/snapshot
/references/[]/subtask
/scopes
/snapshots
/snapshots_read
/target
/unreadable
/verdict
";

const UID: &str = r"
/[]/operator_id
/[]/uid
";

const DIFF: &str = r"
/allow_non_restored_state
/dropped
/dropped/[]/bytes
/dropped/[]/name
/dropped/[]/operator
/dropped/[]/states
/dropped/[]/uid
/exit_code
/files
/new
/new/backend
/new/checkpoint_id
/new/keyed_format
/new/kind
/new/metadata_version
/new/operators
/new/source
/new/state_bytes
/notes
/notes/[]/code
/notes/[]/message
/notes/[]/operator
/notes/[]/severity
/old
/old/backend
/old/checkpoint_id
/old/keyed_format
/old/kind
/old/metadata_version
/old/operators
/old/source
/old/state_bytes
/operators
/operators/[]/id
/operators/[]/key_groups
/operators/[]/key_groups/new
/operators/[]/key_groups/old
/operators/[]/name
/operators/[]/new
/operators/[]/new/channel_bytes
/operators/[]/new/coordinator_bytes
/operators/[]/new/keyed
/operators/[]/new/max_parallelism
/operators/[]/new/parallelism
/operators/[]/new/state_bytes
/operators/[]/new/states
/operators/[]/new/states/[]/kind
/operators/[]/new/states/[]/name
/operators/[]/new/states/[]/scope
/operators/[]/old
/operators/[]/old/channel_bytes
/operators/[]/old/coordinator_bytes
/operators/[]/old/keyed
/operators/[]/old/max_parallelism
/operators/[]/old/parallelism
/operators/[]/old/state_bytes
/operators/[]/old/states
/operators/[]/old/states/[]/kind
/operators/[]/old/states/[]/name
/operators/[]/old/states/[]/scope
/operators/[]/state_delta
/operators/[]/states
/operators/[]/status
/operators/[]/uid
/reasons
/reasons/[]/code
/reasons/[]/message
/reasons/[]/operator
/reasons/[]/severity
/totals
/totals/delta
/totals/new_state_bytes
/totals/old_state_bytes
/verdict
/warnings
";

const DIFF_FILES: &str = r"
/allow_non_restored_state
/dropped
/exit_code
/files
/files/added
/files/added/[]/bytes
/files/added/[]/label
/files/added/[]/label/kind
/files/added/[]/path
/files/added_bytes
/files/dropped
/files/dropped/[]/bytes
/files/dropped/[]/label
/files/dropped/[]/label/kind
/files/dropped/[]/path
/files/dropped_bytes
/files/new_inline_bytes
/files/old_inline_bytes
/files/reused
/files/reused_bytes
/new
/new/backend
/new/checkpoint_id
/new/keyed_format
/new/kind
/new/metadata_version
/new/operators
/new/source
/new/state_bytes
/notes
/notes/[]/code
/notes/[]/message
/notes/[]/operator
/notes/[]/severity
/old
/old/backend
/old/checkpoint_id
/old/keyed_format
/old/kind
/old/metadata_version
/old/operators
/old/source
/old/state_bytes
/operators
/operators/[]/id
/operators/[]/key_groups
/operators/[]/key_groups/new
/operators/[]/key_groups/old
/operators/[]/name
/operators/[]/new
/operators/[]/new/channel_bytes
/operators/[]/new/coordinator_bytes
/operators/[]/new/keyed
/operators/[]/new/max_parallelism
/operators/[]/new/parallelism
/operators/[]/new/state_bytes
/operators/[]/new/states
/operators/[]/new/states/[]/kind
/operators/[]/new/states/[]/name
/operators/[]/new/states/[]/scope
/operators/[]/old
/operators/[]/old/channel_bytes
/operators/[]/old/coordinator_bytes
/operators/[]/old/keyed
/operators/[]/old/max_parallelism
/operators/[]/old/parallelism
/operators/[]/old/state_bytes
/operators/[]/old/states
/operators/[]/old/states/[]/kind
/operators/[]/old/states/[]/name
/operators/[]/old/states/[]/scope
/operators/[]/state_delta
/operators/[]/states
/operators/[]/states/[]/name
/operators/[]/states/[]/new_kind
/operators/[]/states/[]/old_kind
/operators/[]/states/[]/scope
/operators/[]/states/[]/status
/operators/[]/status
/operators/[]/uid
/reasons
/totals
/totals/delta
/totals/new_state_bytes
/totals/old_state_bytes
/verdict
/warnings
";

/// `safe-to-delete --emit-manifest --json`: the `manifest` object (the
/// plan around it is [`SAFE_TO_DELETE`]'s), with one candidate dropped by
/// the re-check. Checked on real stores by `object_stores::manifest_on`
/// through [`manifest_fields`].
const SAFE_TO_DELETE_MANIFEST: &str = r"
/manifest
/manifest/bytes
/manifest/conditional
/manifest/dropped
/manifest/dropped/[]/detail
/manifest/dropped/[]/detail/detail
/manifest/dropped/[]/detail/kind
/manifest/dropped/[]/path
/manifest/dropped/[]/why
/manifest/files
/manifest/format
/manifest/lifecycle
/manifest/log
/manifest/operation
/manifest/path
/manifest/skipped
/manifest/snapshots_rechecked
/manifest/tag
";

/// Checks the `manifest` key paths of `safe-to-delete --emit-manifest
/// --json` output against [`SAFE_TO_DELETE_MANIFEST`].
pub(crate) fn manifest_fields(v: &Value) {
    let paths = key_paths(v);
    let got: Vec<&str> = paths
        .lines()
        .filter(|l| l.starts_with("/manifest"))
        .collect();
    let got = got.join("\n");
    assert!(
        got == SAFE_TO_DELETE_MANIFEST.trim(),
        "the JSON field names of --emit-manifest changed; the key paths now are:\n{got}"
    );
}

const SAFE_TO_DELETE: &str = r"
/candidates
/candidates/[]/bytes
/candidates/[]/files
/candidates/[]/is_dir
/candidates/[]/job
/candidates/[]/metadata
/candidates/[]/newest
/candidates/[]/path
/candidates/[]/reason
/deleted
/dirs
/dirs/[]/bytes
/dirs/[]/candidates
/dirs/[]/files
/dirs/[]/path
/dirs/[]/reason
/format
/jobs
/jobs/8cf2f5c78be81ea408e71c6d59570d77
/jobs/8cf2f5c78be81ea408e71c6d59570d77/candidate_bytes
/jobs/8cf2f5c78be81ea408e71c6d59570d77/candidate_files
/jobs/8cf2f5c78be81ea408e71c6d59570d77/kept_bytes
/jobs/8cf2f5c78be81ea408e71c6d59570d77/kept_checkpoints
/jobs/8cf2f5c78be81ea408e71c6d59570d77/kept_files
/kept
/kept/[]/bytes
/kept/[]/files
/kept/[]/path
/kept/[]/reason
/policy
/policy/drop_jobs
/policy/include_savepoints
/policy/keep
/policy/keep_last
/policy/min_age_seconds
/policy/planned_at
/policy/rebase
/policy/stopped
/read
/read/[]/metadata_bytes
/read/[]/metadata_modified
/read/[]/path
/root
/savepoints
/scope
/totals
/totals/candidate_bytes
/totals/candidate_files
/totals/candidates
/totals/files_listed
/totals/referenced_files
/totals/snapshots_read
";

const APPLIED: &str = r"
/applied
/applied/deleted_bytes
/applied/deleted_files
/applied/dirs_left
/applied/dirs_removed
/applied/dropped
/applied/failed
/applied/log
/applied/skipped
/applied/snapshots_rechecked
/applied/throttled
/applied/throttled/final_window
/applied/throttled/lowest_window
/applied/throttled/max_window
/applied/throttled/responses
";

const PROFILE_LIST: &str = r"
/path
/profiles
/profiles/[]/checkpoints
/profiles/[]/default
/profiles/[]/description
/profiles/[]/jobs
/profiles/[]/jobs/[]/alias
/profiles/[]/jobs/[]/id
/profiles/[]/name
/profiles/[]/savepoints
";

const PROFILE_SHOW: &str = r"
/changelog
/checkpoints
/description
/jobs
/jobs/[]/alias
/jobs/[]/id
/jobs/[]/uids
/name
/retention
/retention/keep
/retention/keep_last
/retention/min_age_seconds
/savepoints
/storage
";

const COPY: &str = r"
/destination
/destination_profile
/dry_run
/estimated_seconds
/failures
/journal
/seconds
/snapshots
/snapshots/[]/bytes
/snapshots/[]/destination
/snapshots/[]/error
/snapshots/[]/files
/snapshots/[]/portability
/snapshots/[]/portability/absolute_handles
/snapshots/[]/portability/entropy_like
/snapshots/[]/portability/foreign_relative
/snapshots/[]/portability/self_contained
/snapshots/[]/source
/snapshots/[]/status
/totals
/totals/bytes
/totals/copied_bytes
/totals/copied_files
/totals/failed_files
/totals/files
/totals/metadata_files
/totals/metadata_written
/totals/skipped_files
";

#[test]
fn copy_and_relocate() {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("dst");
    let journal = tmp.path().join("j");
    let snap = p(&format!("{JOB}/chk-6"));
    // Flink recorded the paths under its generation root (scenario.json).
    let (dir, generated) = scenario("2.0", "hashmap");
    let rebase = format!("{generated}={}", dir.display());
    let base = [
        "copy",
        &snap,
        "--to",
        dst.to_str().unwrap(),
        "--rebase",
        &rebase,
        "--json",
    ];
    check(&[&base[..], &["--dry-run"]].concat(), 0, COPY);
    check(
        &[&base[..], &["--journal", journal.to_str().unwrap()]].concat(),
        0,
        COPY,
    );
    let new = dst.join("35434a9bb7b5d911c043166724837080");
    std::fs::remove_file(new.join("chk-6/_metadata")).unwrap();
    let map = format!(
        "{}={}",
        fixture("2.0/hashmap/checkpoints").display(),
        dst.display()
    );
    check(
        &[
            "relocate", &snap, "--map", &map, "--rebase", &rebase, "--json",
        ],
        0,
        COPY,
    );
}

/// `replicate` (a round, `--status`, `--promote`) and `ls` on a replica job.
#[test]
fn replicate_round_status_promote_and_ls_on_the_replica() {
    let c = crate::replicate::copied("2.3", "rocksdb-incremental");
    let (dst, ck, rebase) = (&c.dst, &c.ck, &c.rebase);
    let journal = c.tmp.path().join("j");
    let base = [
        "replicate",
        ck.to_str().unwrap(),
        "--to",
        dst.to_str().unwrap(),
        "--rebase",
        rebase,
        "--json",
    ];
    let mut round = base.to_vec();
    round.extend([
        "--journal",
        journal.to_str().unwrap(),
        "--keep",
        "1",
        "--yes",
    ]);
    check(&round, 0, REPLICATE_ROUND);
    let mut status = base.to_vec();
    status.push("--status");
    check(&status, 0, REPLICATE_STATUS);
    let name = c.name.as_str();
    check(
        &[
            "replicate",
            "--to",
            dst.to_str().unwrap(),
            "--promote",
            name,
            "--json",
        ],
        0,
        REPLICATE_PROMOTE,
    );
    check(
        &["ls", dst.join(name).to_str().unwrap(), "--json"],
        0,
        LS_REPLICA,
    );
}

const REPLICATE_ROUND: &str = r"
/copied_bytes
/copied_files
/destination
/failed_files
/foreign
/prune
/prune/candidate_bytes
/prune/candidate_files
/prune/deleted_bytes
/prune/deleted_files
/prune/failed
/prune/skipped
/seconds
/skipped_files
/snapshots
/snapshots/[]/bytes
/snapshots/[]/checkpoint_id
/snapshots/[]/destination
/snapshots/[]/error
/snapshots/[]/files
/snapshots/[]/job
/snapshots/[]/kind
/snapshots/[]/lag_seconds
/snapshots/[]/source
/snapshots/[]/status
/source_snapshots
/started
/stopped
/up_to_date
";

const REPLICATE_STATUS: &str = r"
/behind
/destination
/foreign
/jobs
/jobs/[]/alias
/jobs/[]/bytes_behind
/jobs/[]/in_flight
/jobs/[]/job
/jobs/[]/lag_seconds
/jobs/[]/replica_age_seconds
/jobs/[]/replica_newest
/jobs/[]/replica_newest/bytes
/jobs/[]/replica_newest/checkpoint_id
/jobs/[]/replica_newest/files
/jobs/[]/replica_newest/published
/jobs/[]/replica_newest/snapshot
/jobs/[]/replica_newest/source
/jobs/[]/replica_newest/source_completed
/jobs/[]/source_newest
/jobs/[]/source_newest/checkpoint_id
/jobs/[]/source_newest/completed
/jobs/[]/source_newest/snapshot
/jobs/[]/up_to_date
/savepoints
/savepoints/missing
/savepoints/replicated
/savepoints/source
";

const REPLICATE_PROMOTE: &str = r"
/changelog
/claim_mode
/files
/flink_run
/job
/problems
/restore_path
/snapshot
/source
/source_completed
/verified
";

const LS_REPLICA: &str = r"
/age_seconds
/alias
/bytes
/checkpoints
/checkpoints/[]/bytes
/checkpoints/[]/files
/checkpoints/[]/id
/checkpoints/[]/kind
/checkpoints/[]/location
/checkpoints/[]/metadata_readable
/checkpoints/[]/name
/checkpoints/[]/replica_of
/checkpoints/[]/replica_of/bytes
/checkpoints/[]/replica_of/checkpoint_id
/checkpoints/[]/replica_of/files
/checkpoints/[]/replica_of/format
/checkpoints/[]/replica_of/job
/checkpoints/[]/replica_of/kind
/checkpoints/[]/replica_of/planned_at
/checkpoints/[]/replica_of/source
/checkpoints/[]/replica_of/source_completed
/checkpoints/[]/replica_of/source_metadata_bytes
/checkpoints/[]/replica_of/source_metadata_crc32c
/checkpoints/[]/restorable
/checkpoints/[]/savepoint
/checkpoints/[]/state_size
/checkpoints/[]/status
/checkpoints/[]/time
/checkpoints/[]/verify
/files
/job_id
/location
/newest_file_time
/savepoints
/shared
/shared/bytes
/shared/files
/taskowned
/taskowned/bytes
/taskowned/files
";

//! Hostile trees (issue 11 §4): copies of real Flink fixtures bent the way
//! users and storage bend them — symlinks out of the root, symlink loops,
//! directories that are not jobs, a `--rebase` one level off, typos in
//! `--keep`/`--drop-job`, FIFOs and `/dev/zero` where `_metadata` should be,
//! odd file names, a savepoints root holding the checkpoints root.
//!
//! Every case runs the commands on its tree (each killed after
//! [`TIMEOUT`], under a memory limit) and asserts three things:
//!
//! 1. the victim — a directory beside the root, never named to the tool —
//!    is byte-for-byte unchanged (paths, contents, modes, symlink targets);
//! 2. every snapshot the case keeps still verifies (`deps --verify`);
//! 3. nothing panics (exit 101, "panicked"), crashes (a signal) or hangs;
//!
//! plus its own expectations (exit codes, messages, what must survive).
//! Failures are collected, not raised at once, so a failing case reports
//! everything it saw (e.g. both "deleted 134 files" and "victim lost 3").
//!
//! Adding a case is one function: `Case::new(scenario)`, bend the tree, run
//! commands (`every_command`, `clean`, `run`), `finish()`.
//!
//! A module of the single test binary: `cargo test --test cli hostile::`.
//! Not covered here: a checkpoint completing during apply (no deterministic
//! black-box way; a unit test covers it).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{copy_tree, scenario};

/// A command still running after this is a hang (killed, a failure).
const TIMEOUT: Duration = Duration::from_secs(30);
/// The timeout once a case has seen a hang (its other commands still run,
/// to show which of them hang too).
const TIMEOUT_AFTER_HANG: Duration = Duration::from_secs(10);
/// Address-space limit for each run (KiB): reading `/dev/zero` to the end
/// must fail the run, not the machine.
const MEMORY_KIB: u64 = 4 << 20;
/// The completed savepoint of `2.3/rocksdb-incremental`.
const SAVEPOINT: &str = "savepoint-8cf2f5-bdf036506494";

// ---------------------------------------------------------------- trees

/// One entry of a tree, as `lstat` sees it (symlinks not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
    Link(PathBuf),
    Other { mode: u32 },
}

/// A directory tree: relative path → entry. Empty if the directory is gone.
type Tree = BTreeMap<PathBuf, Node>;

fn tree(dir: &Path) -> Tree {
    tree_except(dir, &[])
}

/// The tree under `dir`, leaving out the subtrees `except`.
fn tree_except(dir: &Path, except: &[&Path]) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if except.iter().any(|e| p == *e) {
            continue;
        }
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let rel = p.strip_prefix(dir).unwrap().to_path_buf();
        let mode = md.mode();
        let node = if md.file_type().is_symlink() {
            Node::Link(std::fs::read_link(&p).unwrap())
        } else if md.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
            Node::Dir { mode }
        } else if md.is_file() {
            Node::File {
                mode,
                bytes: std::fs::read(&p).unwrap_or_default(),
            }
        } else {
            Node::Other { mode }
        };
        out.insert(rel, node);
    }
    out
}

/// What changed between two trees, briefly ("" if nothing).
fn tree_diff(before: &Tree, after: &Tree) -> String {
    let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let changed: Vec<_> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k)
        .collect();
    if gone.is_empty() && new.is_empty() && changed.is_empty() {
        return String::new();
    }
    let show = |v: &[&PathBuf]| {
        let mut s: Vec<String> = v.iter().take(5).map(|p| p.display().to_string()).collect();
        if v.len() > 5 {
            s.push("…".into());
        }
        s.join(", ")
    };
    format!(
        "{} gone [{}], {} new [{}], {} changed [{}]",
        gone.len(),
        show(&gone),
        new.len(),
        show(&new),
        changed.len(),
        show(&changed)
    )
}

/// Regular files and symlinks of a tree (what a deletion removes).
fn leaves(t: &Tree) -> usize {
    t.values()
        .filter(|n| !matches!(n, Node::Dir { .. }))
        .count()
}

// ---------------------------------------------------------------- runs

/// One finished (or killed) run of `flink-chk`.
#[derive(Debug)]
struct Out {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Files and symlinks gone from the case's base directory (for `clean`).
    removed: Option<usize>,
    fails: Rc<RefCell<Vec<String>>>,
}

impl Out {
    fn fail(&self, msg: String) {
        self.fails.borrow_mut().push(format!(
            "{}: {msg}\n    stderr: {}",
            self.what,
            self.stderr
                .trim()
                .lines()
                .take(6)
                .collect::<Vec<_>>()
                .join("\n            ")
        ));
    }

    /// The exit code is one of `codes`.
    fn code(&self, codes: &[i32]) -> &Self {
        if !self.code.is_some_and(|c| codes.contains(&c)) {
            self.fail(format!("exit {:?}, expected one of {codes:?}", self.code));
        }
        self
    }

    /// stderr mentions `s`.
    fn says(&self, s: &str) -> &Self {
        self.says_one_of(&[s])
    }

    /// stderr mentions one of `any`.
    fn says_one_of(&self, any: &[&str]) -> &Self {
        if !any.iter().any(|s| self.stderr.contains(s)) {
            self.fail(format!("stderr mentions none of {any:?}"));
        }
        self
    }

    /// Exactly `n` files (and symlinks) disappeared.
    fn deleted(&self, n: usize) -> &Self {
        if self.removed != Some(n) {
            self.fail(format!("deleted {:?} files, expected {n}", self.removed));
        }
        self
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.stdout).ok()
    }
}

/// Runs the binary with a clean environment under `env/`, in `cwd`, with a
/// timeout and a memory limit. A hang, a crash or a panic is a failure.
fn run_binary(
    env: &Path,
    cwd: &Path,
    args: &[OsString],
    timeout: Duration,
    fails: &Rc<RefCell<Vec<String>>>,
) -> Out {
    let what = format!(
        "`flink-chk {}`",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let bin = assert_cmd::cargo::cargo_bin!("flink-chk");
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(bin)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.join("home"))
        .env("XDG_CONFIG_HOME", env.join("config"))
        .env("XDG_STATE_HOME", env.join("state"))
        .env("NO_COLOR", "1")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = Out {
        what,
        code: status.and_then(|s| s.code()),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        removed: None,
        fails: fails.clone(),
    };
    use std::os::unix::process::ExitStatusExt;
    match status {
        None => out.fail(format!("HANG: killed after {} s", timeout.as_secs())),
        Some(s) if s.signal().is_some() => {
            out.fail(format!("CRASH: killed by signal {:?}", s.signal()))
        }
        Some(_) if out.code == Some(101) || out.stderr.contains("panicked") => {
            out.fail("PANIC".into())
        }
        Some(_) if out.stderr.contains("out of memory") => out.fail(format!(
            "MEMORY: read until the {} GiB limit",
            MEMORY_KIB >> 20
        )),
        Some(_) => {}
    }
    out
}

fn os(args: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

// ---------------------------------------------------------------- cases

/// A hostile case: a copy of a fixture under `base/root`, a victim beside
/// it, what must still verify at the end, and the failures seen so far.
#[derive(Debug)]
struct Case {
    _tmp: tempfile::TempDir,
    /// The temporary directory holding everything.
    base: PathBuf,
    /// Where the fixture was copied.
    root: PathBuf,
    /// The checkpoints root inside it.
    ck: PathBuf,
    /// The job with the most completed checkpoints (before any bending).
    job: PathBuf,
    /// Its completed checkpoints, oldest first.
    chks: Vec<PathBuf>,
    /// `--rebase` mappings that make the recorded paths point into the copy.
    rebase: Vec<String>,
    /// A `shared/` file the newest checkpoint needs (for `why`).
    why: PathBuf,
    victim: PathBuf,
    victim_before: Tree,
    /// Snapshots that must verify at the end (default: the newest
    /// completed checkpoint of every job).
    keep: Vec<PathBuf>,
    hung: std::cell::Cell<bool>,
    fails: Rc<RefCell<Vec<String>>>,
    /// Every run: the command, its exit code, the first line of stderr.
    transcript: RefCell<Vec<String>>,
}

impl Case {
    /// The whole scenario directory (`checkpoints/`, `savepoints/`) copied
    /// to `base/root`.
    fn new(name: &str) -> Case {
        Case::build(name, "", "")
    }

    /// Only the scenario's `checkpoints/` copied, to `base/root` itself.
    fn checkpoints_only(name: &str) -> Case {
        Case::build(name, "checkpoints", "")
    }

    /// The scenario's `sub` copied to `base/root/into`.
    fn build(name: &str, sub: &str, into: &str) -> Case {
        let (src, generated) = scenario("2.3", name);
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let root = base.join("root");
        let dest = if into.is_empty() {
            root.clone()
        } else {
            root.join(into)
        };
        copy_tree(&src.join(sub), &dest);
        for d in ["home", "config", "state"] {
            std::fs::create_dir_all(base.join("env").join(d)).unwrap();
        }
        let ck = if sub.is_empty() {
            root.join("checkpoints")
        } else {
            dest.clone()
        };
        let rebase = vec![format!(
            "file:{generated}{}={}",
            if sub.is_empty() {
                String::new()
            } else {
                format!("/{sub}")
            },
            dest.display()
        )];
        let jobs = completed_by_job(&ck);
        let (job, chks) = jobs
            .iter()
            .max_by_key(|(_, c)| c.len())
            .map(|(j, c)| (j.clone(), c.clone()))
            .unwrap();
        let keep = jobs.values().filter_map(|c| c.last().cloned()).collect();
        let why = needed_shared_file(chks.last().unwrap(), &rebase);
        let victim = base.join("victim");
        make_victim(&victim, &chks[0].join("_metadata"));
        let victim_before = tree(&victim);
        Case {
            _tmp: tmp,
            base,
            root,
            ck,
            job,
            chks,
            rebase,
            why,
            victim,
            victim_before,
            keep,
            hung: Default::default(),
            fails: Default::default(),
            transcript: Default::default(),
        }
    }

    /// The completed checkpoint `chk-N` of the main job.
    fn chk(&self, n: u64) -> PathBuf {
        self.job.join(format!("chk-{n}"))
    }

    fn newest(&self) -> PathBuf {
        self.chks.last().unwrap().clone()
    }

    fn rebase_args(&self) -> Vec<OsString> {
        self.rebase
            .iter()
            .flat_map(|m| [OsString::from("--rebase"), OsString::from(m)])
            .collect()
    }

    /// `safe-to-delete CK --keep-last 1 --min-age 0s --stopped --dry-run
    /// --plan-out PLAN` with the case's rebase.
    fn plan_out_args(&self, plan: &Path) -> Vec<OsString> {
        [
            os(&[
                &"safe-to-delete",
                &self.ck,
                &"--keep-last",
                &"1",
                &"--min-age",
                &"0s",
            ]),
            os(&[&"--stopped", &"--dry-run", &"--plan-out", &plan]),
            self.rebase_args(),
        ]
        .concat()
    }

    fn fail(&self, msg: impl Into<String>) {
        self.fails.borrow_mut().push(msg.into());
    }

    /// Fails the case (at `finish`) unless `cond`.
    fn check(&self, cond: bool, msg: impl Into<String>) {
        if !cond {
            self.fail(msg);
        }
    }

    /// Runs `flink-chk args` in `base/`.
    fn run(&self, args: Vec<OsString>) -> Out {
        self.run_in(&self.base, args)
    }

    fn run_in(&self, cwd: &Path, args: Vec<OsString>) -> Out {
        let timeout = if self.hung.get() {
            TIMEOUT_AFTER_HANG
        } else {
            TIMEOUT
        };
        let before = self.fails.borrow().len();
        let out = run_binary(&self.base.join("env"), cwd, &args, timeout, &self.fails);
        if out.code.is_none() && self.fails.borrow().len() > before {
            self.hung.set(true);
        }
        self.note(&out);
        out
    }

    fn note(&self, out: &Out) {
        let first = out.stderr.lines().find(|l| !l.trim().is_empty());
        let applied = out.json().and_then(|v| {
            let a = &v["applied"];
            (!a.is_null()).then(|| {
                format!(
                    " applied: {} deleted, {} dropped, {} failed",
                    a["deleted_files"],
                    a["dropped"].as_array().map_or(0, |d| d.len()),
                    a["failed"].as_array().map_or(0, |d| d.len())
                )
            })
        });
        self.transcript.borrow_mut().push(format!(
            "{} -> exit {:?}{} | {}",
            out.what,
            out.code,
            applied.unwrap_or_default(),
            first.unwrap_or("")
        ));
    }

    /// Runs a command that may delete, counting what disappeared under base/.
    fn run_counting(&self, args: Vec<OsString>) -> Out {
        self.run_counting_in(&self.base, args)
    }

    fn run_counting_in(&self, cwd: &Path, args: Vec<OsString>) -> Out {
        let env = self.base.join("env");
        let before = tree_except(&self.base, &[&env]);
        let mut out = self.run_in(cwd, args);
        let removed = leaves(&before) - leaves(&before_still(&before, &self.base));
        out.removed = Some(removed);
        self.transcript
            .borrow_mut()
            .push(format!("    ({removed} files gone from disk)"));
        out
    }

    /// The read-only commands, on this case's tree: `ls` of the root and of
    /// the job, `inspect` and `deps --verify` of the newest checkpoint, `why`
    /// of a shared file it needs, `diff` of the two newest checkpoints, and
    /// a `safe-to-delete --dry-run --json` plan. Nothing may change.
    fn every_command(&self) -> Vec<(String, Option<i32>)> {
        let newest = self.newest();
        let older = self.chks[self.chks.len().saturating_sub(2)].clone();
        let rb = self.rebase_args();
        let cmds: Vec<(&str, Vec<OsString>)> = vec![
            ("ls root", os(&[&"ls", &self.ck])),
            ("ls job", os(&[&"ls", &self.job])),
            ("inspect", os(&[&"inspect", &newest])),
            (
                "deps --verify",
                [os(&[&"deps", &newest, &"--verify"]), rb.clone()].concat(),
            ),
            ("why", [os(&[&"why", &self.why]), rb.clone()].concat()),
            (
                "diff",
                [os(&[&"diff", &older, &newest]), rb.clone()].concat(),
            ),
            (
                "safe-to-delete --dry-run",
                [
                    os(&[&"safe-to-delete", &self.ck]),
                    os(&[&"--keep-last", &"1", &"--min-age", &"0s", &"--stopped"]),
                    os(&[&"--dry-run", &"--json"]),
                    rb,
                ]
                .concat(),
            ),
        ];
        let env = self.base.join("env");
        let before = tree_except(&self.base, &[&env]);
        let mut codes = Vec::new();
        for (name, args) in cmds {
            let out = self.run(args);
            codes.push((name.to_owned(), out.code));
        }
        let d = tree_diff(&before, &tree_except(&self.base, &[&env]));
        self.check(
            d.is_empty(),
            format!("read-only commands changed the tree: {d}"),
        );
        codes
    }

    /// `safe-to-delete <ck> --keep-last 1 --min-age 0s --stopped --yes --json`
    /// with the case's `--rebase` and `extra` arguments.
    fn clean(&self, extra: &[&dyn AsRef<OsStr>]) -> Out {
        self.clean_at(&self.ck.clone(), extra)
    }

    fn clean_at(&self, target: &dyn AsRef<OsStr>, extra: &[&dyn AsRef<OsStr>]) -> Out {
        self.run_counting(self.clean_args(target, extra))
    }

    fn clean_args(&self, target: &dyn AsRef<OsStr>, extra: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
        [
            os(&[&"safe-to-delete", target]),
            os(&[&"--keep-last", &"1", &"--min-age", &"0s", &"--stopped"]),
            os(&[&"--yes", &"--json"]),
            self.rebase_args(),
            os(extra),
        ]
        .concat()
    }

    /// Every command's exit code equals the one on an unbent copy of the
    /// same fixture: what the case added is never an error.
    fn same_codes_as_pristine(&self, name: &str) {
        let pristine = Case::new(name).every_command();
        let here = self.every_command();
        for ((cmd, want), (_, got)) in pristine.iter().zip(&here) {
            self.check(
                want == got,
                format!("{cmd}: exit {got:?}, on the unbent tree {want:?}"),
            );
        }
    }

    /// `path` is still a symlink.
    fn still_a_link(&self, path: &Path) {
        self.check(
            path.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink()),
            format!("symlink {} is gone", path.display()),
        );
    }

    /// Asserts the victim is unchanged, every kept snapshot verifies, and no
    /// failure was recorded.
    fn finish(self) {
        let d = tree_diff(&self.victim_before, &tree(&self.victim));
        self.check(d.is_empty(), format!("VICTIM CHANGED: {d}"));
        for snap in &self.keep {
            let out = run_binary(
                &self.base.join("env"),
                &self.base,
                &[os(&[&"deps", snap, &"--verify"]), self.rebase_args()].concat(),
                TIMEOUT,
                &self.fails,
            );
            self.note(&out);
            if out.code != Some(0) {
                let problems: Vec<&str> = out
                    .stdout
                    .lines()
                    .filter(|l| l.contains("missing") || l.contains("NOT RESTORABLE"))
                    .take(4)
                    .collect();
                self.fail(format!(
                    "KEPT SNAPSHOT BROKEN: {} (exit {:?}): {}",
                    snap.display(),
                    out.code,
                    problems.join(" | ")
                ));
            }
        }
        let transcript = self.transcript.borrow().join("\n    ");
        let fails = self.fails.borrow();
        if fails.is_empty() {
            eprintln!("transcript:\n    {transcript}");
        }
        assert!(
            fails.is_empty(),
            "{} failure(s):\n  - {}\ntranscript:\n    {transcript}",
            fails.len(),
            fails.join("\n  - ")
        );
    }
}

/// A `shared/` file the checkpoint `chk` references (Flink's own list),
/// where it is in the copy.
fn needed_shared_file(chk: &Path, rebase: &[String]) -> PathBuf {
    let t = crate::common::truth(&chk.join("_metadata"));
    let recorded = t["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["part"] == "shared")
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = recorded.strip_prefix("file:").unwrap_or(&recorded);
    for m in rebase {
        let (from, to) = m.split_once('=').unwrap();
        let from = from.strip_prefix("file:").unwrap_or(from);
        if let Some(rest) = p.strip_prefix(from) {
            return PathBuf::from(format!("{to}{rest}"));
        }
    }
    PathBuf::from(p)
}

/// The entries of `before` still present under `base`.
fn before_still(before: &Tree, base: &Path) -> Tree {
    before
        .iter()
        .filter(|(k, _)| base.join(k).symlink_metadata().is_ok())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Per job directory under `ck`: its completed checkpoints (`chk-N/` with a
/// `_metadata`), oldest first.
fn completed_by_job(ck: &Path) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let mut out = BTreeMap::new();
    for j in std::fs::read_dir(ck).unwrap().flatten() {
        let j = j.path();
        if !j.is_dir() {
            continue;
        }
        let mut chks: Vec<(u64, PathBuf)> = std::fs::read_dir(&j)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                let n = p
                    .file_name()?
                    .to_str()?
                    .strip_prefix("chk-")?
                    .parse()
                    .ok()?;
                p.join("_metadata").is_file().then_some((n, p))
            })
            .collect();
        chks.sort();
        out.insert(j, chks.into_iter().map(|(_, p)| p).collect());
    }
    out
}

/// A directory that looks worth deleting: a `chk-1/` with a real
/// `_metadata`, `shared/` and `taskowned/` files, a symlink, deep files.
fn make_victim(dir: &Path, metadata: &Path) {
    let w = |rel: &str, bytes: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    w("precious.txt", b"irreplaceable\n");
    w("chk-1/_metadata", &std::fs::read(metadata).unwrap());
    w("chk-1/0b5e0f3a-private", &[7u8; 3000]);
    w("shared/00000000-0000-0000-0000-000000000000", &[1u8; 4096]);
    w(
        "taskowned/11111111-1111-1111-1111-111111111111",
        &[2u8; 512],
    );
    w("deep/er/still/file.bin", &[3u8; 100]);
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    symlink("precious.txt", dir.join("link-to-precious")).unwrap();
}

fn mkfifo(p: &Path) {
    let _ = std::fs::remove_file(p);
    let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
    assert!(ok, "mkfifo {}", p.display());
}

fn write(p: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

// ------------------------------------------------------------- controls

/// The harness itself: an unbent copy cleans 75 files, chk-6 verifies.
#[test]
fn control_unbent_tree() {
    let c = Case::new("rocksdb-incremental");
    for (cmd, code) in c.every_command() {
        c.check(code == Some(0), format!("{cmd}: exit {code:?}"));
    }
    c.clean(&[]).code(&[0]).deleted(75);
    c.finish();
}

// ------------------------------------------------- 1. rebase one level off

/// `checkpoints/` copied to `root`, rebased as if the scenario directory had
/// been: every reference lands under `root/checkpoints/…`, which does not
/// exist. The plan must be refused and the right `--rebase` suggested.
#[test]
fn rebase_one_level_off_is_refused() {
    let mut c = Case::checkpoints_only("rocksdb-incremental");
    let (_, generated) = scenario("2.3", "rocksdb-incremental");
    c.rebase = vec![format!("file:{generated}={}", c.root.display())];
    c.every_command();
    let missing_at = format!("{}/checkpoints/", c.root.display());
    let recorded = format!("{generated}/checkpoints/");
    c.clean(&[])
        .code(&[3])
        .deleted(0)
        .says("--rebase")
        .says_one_of(&[&missing_at, &recorded]);
    c.rebase = vec![format!("file:{generated}/checkpoints={}", c.root.display())];
    c.finish();
}

/// The same through `--plan-out` and `--apply`: planning refuses (or, if a
/// plan file is written anyway, applying it deletes nothing).
#[test]
fn rebase_one_level_off_via_plan_file_is_refused() {
    let mut c = Case::checkpoints_only("rocksdb-incremental");
    let (_, generated) = scenario("2.3", "rocksdb-incremental");
    let wrong = format!("file:{generated}={}", c.root.display());
    let right = format!("file:{generated}/checkpoints={}", c.root.display());
    let plan = c.base.join("plan.json");
    c.rebase = vec![wrong];
    let args = c.plan_out_args(&plan);
    c.run(args).code(&[3]).says("--rebase");
    c.run_counting(os(&[&"safe-to-delete", &"--yes", &"--apply", &plan]))
        .code(&[3])
        .deleted(0);
    c.rebase = vec![right];
    c.finish();
}

/// A plan made with the right mapping, applied with the mapping one level
/// off: planning again under it must refuse.
#[test]
fn good_plan_applied_with_rebase_one_level_off_is_refused() {
    let mut c = Case::checkpoints_only("rocksdb-incremental");
    let (_, generated) = scenario("2.3", "rocksdb-incremental");
    let wrong = format!("file:{generated}={}", c.root.display());
    let right = format!("file:{generated}/checkpoints={}", c.root.display());
    let plan = c.base.join("plan.json");
    c.rebase = vec![right];
    let args = c.plan_out_args(&plan);
    c.run(args).code(&[0]);
    c.run_counting(os(&[
        &"safe-to-delete",
        &"--yes",
        &"--apply",
        &plan,
        &"--rebase",
        &wrong,
    ]))
    .code(&[3])
    .deleted(0);
    c.finish();
}

/// Control: the right mapping for that layout cleans the usual 75 files.
#[test]
fn rebase_of_a_copied_checkpoints_dir_cleans() {
    let c = Case::checkpoints_only("rocksdb-incremental");
    c.clean(&[]).code(&[0]).deleted(75);
    c.finish();
}

// ------------------------------------------------------------ 2. symlinks

#[test]
fn symlinked_dir_in_shared() {
    let c = Case::new("rocksdb-incremental");
    let link = c.job.join("shared/evil");
    symlink(&c.victim, &link).unwrap();
    c.same_codes_as_pristine("rocksdb-incremental");
    c.clean(&[]).code(&[0]).deleted(75);
    c.still_a_link(&link);
    c.finish();
}

#[test]
fn symlinked_dir_in_taskowned() {
    let c = Case::new("rocksdb-incremental");
    std::fs::create_dir_all(c.job.join("taskowned")).unwrap();
    let link = c.job.join("taskowned/evil");
    symlink(&c.victim, &link).unwrap();
    c.same_codes_as_pristine("rocksdb-incremental");
    c.clean(&[]).code(&[0]).deleted(75);
    c.still_a_link(&link);
    c.finish();
}

/// In `chk-4/`, a checkpoint beyond retention (a whole-directory candidate).
#[test]
fn symlinked_dir_in_candidate_checkpoint() {
    let c = Case::new("rocksdb-incremental");
    let link = c.chk(4).join("evil");
    symlink(&c.victim, &link).unwrap();
    c.same_codes_as_pristine("rocksdb-incremental");
    c.clean(&[]).code(&[0]);
    c.still_a_link(&link);
    c.finish();
}

/// `chk-3` (below the newest) is a symlink to the victim, which holds a
/// `chk-1/_metadata` and files.
#[test]
fn checkpoint_dir_that_is_a_symlink() {
    let c = Case::new("rocksdb-incremental");
    let link = c.job.join("chk-3");
    symlink(&c.victim, &link).unwrap();
    c.same_codes_as_pristine("rocksdb-incremental");
    c.clean(&[]).code(&[0]).deleted(75);
    c.still_a_link(&link);
    c.finish();
}

/// Same with a checkpoint number above the newest (would be "in progress").
#[test]
fn newer_checkpoint_dir_that_is_a_symlink() {
    let c = Case::new("rocksdb-incremental");
    let link = c.job.join("chk-9");
    symlink(c.victim.join("chk-1"), &link).unwrap();
    c.every_command();
    c.clean(&[]).code(&[0]);
    c.still_a_link(&link);
    c.finish();
}

/// restore-claim: job A (only `shared/` left) gets a `chk-1/_metadata` that
/// is a symlink to B's newest `_metadata`; A is dropped. B's `_metadata`
/// survives and B's newest checkpoint verifies.
#[test]
fn metadata_symlinked_to_other_jobs_metadata_with_drop_job() {
    let c = Case::new("restore-claim");
    let target = c.newest().join("_metadata");
    let a = std::fs::read_dir(&c.ck)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| *p != c.job)
        .unwrap();
    std::fs::create_dir_all(a.join("chk-1")).unwrap();
    let link = a.join("chk-1/_metadata");
    symlink(&target, &link).unwrap();
    let before = std::fs::read(&target).unwrap();
    c.every_command();
    let a_id = a.file_name().unwrap().to_owned();
    c.clean(&[&"--drop-job", &a_id]).code(&[0]);
    c.check(
        std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file())
            && std::fs::read(&target).is_ok_and(|b| b == before),
        format!("{} deleted or changed", target.display()),
    );
    c.still_a_link(&link);
    c.finish();
}

/// `shared/loop -> ..`, `shared/a -> b -> a`, `chk-4/up -> ../..`: every
/// command behaves as without them, and they stay.
#[test]
fn symlink_loops() {
    let c = Case::new("rocksdb-incremental");
    let links = [
        (PathBuf::from(".."), c.job.join("shared/loop")),
        (PathBuf::from("b"), c.job.join("shared/a")),
        (PathBuf::from("a"), c.job.join("shared/b")),
        (PathBuf::from("../.."), c.chk(4).join("up")),
        (PathBuf::from("self"), c.job.join("self")),
    ];
    for (to, at) in &links {
        symlink(to, at).unwrap();
    }
    c.same_codes_as_pristine("rocksdb-incremental");
    c.clean(&[]).code(&[0]);
    for (_, at) in &links {
        c.still_a_link(at);
    }
    c.finish();
}

// -------------------------------------------- 3. directories that are not jobs

/// `my-backups/` (copies of `chk-*` and a NOTES.txt) and `old-copy/` (with a
/// `shared/` too) beside the job: untouched by a cleanup.
#[test]
fn backup_dirs_that_are_not_jobs() {
    let c = Case::new("rocksdb-incremental");
    let backups = c.ck.join("my-backups");
    let old = c.ck.join("old-copy");
    for chk in &c.chks {
        let name = chk.file_name().unwrap();
        copy_tree(chk, &backups.join(name));
        copy_tree(chk, &old.join(name));
    }
    copy_tree(&c.job.join("shared"), &old.join("shared"));
    write(
        &backups.join("NOTES.txt"),
        b"chk-4..6 copied before the upgrade\n",
    );
    let (b0, o0) = (tree(&backups), tree(&old));
    // The copies are snapshots too (Flink restores from them if pointed
    // there): what they reference stays, so only chk-4/ and chk-5/ go.
    let mut c = c;
    for chk in ["chk-4", "chk-5", "chk-6"] {
        c.keep.push(backups.join(chk));
    }
    c.every_command();
    c.clean(&[]).code(&[0]).deleted(16);
    let d = tree_diff(&b0, &tree(&backups));
    c.check(d.is_empty(), format!("my-backups/ changed: {d}"));
    let d = tree_diff(&o0, &tree(&old));
    c.check(d.is_empty(), format!("old-copy/ changed: {d}"));
    c.finish();
}

/// `x/` holding only `shared/file`, beside the victim and the fixture copy:
/// `safe-to-delete x` reads and plans nothing above `x`.
#[test]
fn dir_with_only_shared_does_not_reach_its_parent() {
    let c = Case::new("rocksdb-incremental");
    let x = c.base.join("x");
    write(&x.join("shared/3f2a9c1e-orphan"), &[9u8; 2048]);
    let env = c.base.join("env");
    let outside = tree_except(&c.base, &[&x, &env]);
    let parent = c.base.display().to_string();
    let mentions_parent = |o: &Out| {
        let text = format!("{}{}", o.stdout, o.stderr).replace(&x.display().to_string(), "<X>");
        text.contains(&parent)
    };
    let dry = c.run(
        [
            os(&[
                &"safe-to-delete",
                &x,
                &"--keep-last",
                &"1",
                &"--min-age",
                &"0s",
            ]),
            os(&[&"--stopped", &"--dry-run", &"--json"]),
        ]
        .concat(),
    );
    c.check(
        !mentions_parent(&dry),
        format!("dry run mentions {parent}: {}{}", dry.stdout, dry.stderr),
    );
    let yes = c.run(
        [
            os(&[
                &"safe-to-delete",
                &x,
                &"--keep-last",
                &"1",
                &"--min-age",
                &"0s",
            ]),
            os(&[&"--stopped", &"--yes", &"--json"]),
        ]
        .concat(),
    );
    c.check(
        !mentions_parent(&yes),
        format!("--yes mentions {parent}: {}{}", yes.stdout, yes.stderr),
    );
    let d = tree_diff(&outside, &tree_except(&c.base, &[&x, &env]));
    c.check(d.is_empty(), format!("outside x/ changed: {d}"));
    c.finish();
}

// ----------------------------------------------------- 4. --keep, names

#[test]
fn keep_typo_is_refused() {
    let c = Case::new("rocksdb-incremental");
    c.clean(&[&"--keep", &"chk-111"]).code(&[3, 64]).deleted(0);
    c.clean(&[&"--keep", &c.job.join("chk-111")])
        .code(&[3, 64])
        .deleted(0);
    c.finish();
}

/// `--keep` a snapshot outside the scanned root: chk-5 copied to
/// `base/outside/chk-5` (its own files are relative handles, so they resolve
/// into the copy; its `shared/` handles point into the root). The shared
/// files it needs (12 that chk-6 does not) must survive and the copy verify.
#[test]
fn keep_snapshot_outside_root_keeps_its_shared_files() {
    let mut c = Case::new("rocksdb-incremental");
    let outside = c.base.join("outside/chk-5");
    copy_tree(&c.chk(5), &outside);
    c.keep.push(outside.clone());
    let out = c.clean(&[&"--keep", &outside]);
    out.code(&[0]);
    c.check(
        out.removed.is_some_and(|n| n < 75),
        format!("deleted {:?} files: as many as without --keep", out.removed),
    );
    c.finish();
}

#[test]
fn include_savepoint_nosuch_is_refused() {
    let c = Case::new("rocksdb-incremental");
    c.clean(&[&"--include-savepoint", &"nosuch"])
        .code(&[3, 64])
        .deleted(0);
    c.finish();
}

#[test]
fn drop_job_nosuch_is_refused() {
    let c = Case::new("rocksdb-incremental");
    c.clean(&[&"--drop-job", &"nosuch"])
        .code(&[3, 64])
        .deleted(0);
    c.clean(&[&"--drop-job", &"0123456789abcdef0123456789abcdef"])
        .code(&[3, 64])
        .deleted(0);
    c.finish();
}

// ------------------------------- 6. savepoints root holding the checkpoints root

/// A profile with savepoints = `root`, checkpoints = `root/checkpoints`:
/// `base/root/{checkpoints/<job>/…, savepoint-…/}`.
fn nested_roots() -> Case {
    let mut c = Case::build("rocksdb-incremental", "checkpoints", "checkpoints");
    let (src, generated) = scenario("2.3", "rocksdb-incremental");
    copy_tree(
        &src.join("savepoints").join(SAVEPOINT),
        &c.root.join(SAVEPOINT),
    );
    c.rebase
        .push(format!("file:{generated}/savepoints={}", c.root.display()));
    c.keep.push(c.root.join(SAVEPOINT));
    c.run(os(&[
        &"profile",
        &"init",
        &"--checkpoints",
        &c.ck,
        &"--savepoints",
        &c.root,
    ]))
    .code(&[0]);
    c
}

/// Candidates are counted once; applying twice finds nothing the second
/// time, and nothing is dropped as "changed since planning" the first.
#[test]
fn savepoints_root_containing_checkpoints_root() {
    let mut c = nested_roots();
    c.keep.pop(); // the savepoint is included: it goes
    let rb = c.rebase_args();
    let plan = c.run(
        [
            os(&[&"safe-to-delete", &"--keep-last", &"1", &"--min-age", &"0s"]),
            os(&[&"--stopped", &"--dry-run", &"--json"]),
            os(&[&"--include-savepoint", &SAVEPOINT]),
            rb.clone(),
        ]
        .concat(),
    );
    plan.code(&[0]);
    if let Some(v) = plan.json() {
        let mut distinct = std::collections::BTreeSet::new();
        for cand in v["candidates"].as_array().unwrap() {
            let p = PathBuf::from(cand["path"].as_str().unwrap());
            if cand["is_dir"] == true {
                distinct.extend(crate::common::walk(&p));
            } else {
                distinct.insert(p);
            }
        }
        c.check(
            v["totals"]["candidate_files"] == distinct.len(),
            format!(
                "totals.candidate_files {} but {} distinct candidate files",
                v["totals"]["candidate_files"],
                distinct.len()
            ),
        );
        c.check(
            distinct.len() == 75 + 8,
            format!("{} distinct candidates, expected 75 + 8", distinct.len()),
        );
    }
    let yes = [
        os(&[&"safe-to-delete", &"--keep-last", &"1", &"--min-age", &"0s"]),
        os(&[&"--stopped", &"--yes", &"--json"]),
        os(&[&"--include-savepoint", &SAVEPOINT]),
        rb,
    ]
    .concat();
    let first = c.run_counting(yes.clone());
    first.code(&[0]).deleted(75 + 8);
    if let Some(v) = first.json() {
        let dropped = &v["applied"]["dropped"];
        c.check(
            dropped.as_array().is_none_or(|d| d.is_empty()),
            format!("first run dropped candidates: {dropped}"),
        );
    }
    // The savepoint is gone now: naming it again is an error (a name that
    // matches nothing is never ignored), so the re-run leaves it out.
    let again = c.run_counting(yes.clone());
    again.code(&[3]).deleted(0);
    let second = c.run_counting(
        [
            os(&[&"safe-to-delete", &"--keep-last", &"1", &"--min-age", &"0s"]),
            os(&[&"--stopped", &"--yes", &"--json"]),
            c.rebase_args(),
        ]
        .concat(),
    );
    second.code(&[0]).deleted(0);
    if let Some(v) = second.json() {
        let n = v["candidates"].as_array().map_or(0, |a| a.len());
        c.check(n == 0, format!("second run still plans {n} candidates"));
    }
    c.finish();
}

/// `--include-savepoint checkpoints`: the checkpoints root is inside the
/// savepoints root but is no savepoint.
#[test]
fn include_savepoint_naming_the_checkpoints_root_is_refused() {
    let c = nested_roots();
    let out = c.run_counting(
        [
            os(&[&"safe-to-delete", &"--keep-last", &"1", &"--min-age", &"0s"]),
            os(&[
                &"--stopped",
                &"--yes",
                &"--include-savepoint",
                &"checkpoints",
            ]),
            c.rebase_args(),
        ]
        .concat(),
    );
    out.code(&[3, 64]).deleted(0);
    c.finish();
}

// --------------------------------------------------------- 7. variants

/// File names with `\r`, ESC sequences and a newline in `shared/`: orphans
/// like any other, and the human output never writes the raw control
/// characters to the terminal.
#[test]
fn control_characters_in_shared_names() {
    let c = Case::new("rocksdb-incremental");
    let names: [&[u8]; 3] = [b"evil\rname", b"\x1b[2J\x1b]0;pwned\x07esc", b"new\nline"];
    for n in names {
        write(&c.job.join("shared").join(OsStr::from_bytes(n)), b"x");
    }
    c.every_command();
    let human = c.run(
        [
            os(&[
                &"safe-to-delete",
                &c.ck,
                &"--keep-last",
                &"1",
                &"--min-age",
                &"0s",
            ]),
            os(&[&"--stopped", &"--dry-run", &"--all"]),
            c.rebase_args(),
        ]
        .concat(),
    );
    human.code(&[0]);
    c.check(
        !human.stdout.contains(['\x1b', '\r', '\x07']),
        "raw control characters in the plan output",
    );
    c.clean(&[]).code(&[0]);
    c.finish();
}

/// A name that is not UTF-8 in `shared/` (no Flink handle can name it): an
/// unknown entry like any other, not a reason to refuse the whole plan.
#[test]
fn non_utf8_name_in_shared() {
    let c = Case::new("rocksdb-incremental");
    write(
        &c.job
            .join("shared")
            .join(OsStr::from_bytes(b"not-utf8-\xff\xfe")),
        b"x",
    );
    c.every_command();
    c.clean(&[]).code(&[0]);
    c.finish();
}

/// `chk-4/_metadata` (a checkpoint beyond retention) is a FIFO.
#[test]
fn fifo_metadata_in_old_checkpoint() {
    let c = Case::new("rocksdb-incremental");
    mkfifo(&c.chk(4).join("_metadata"));
    c.every_command();
    c.clean(&[]).code(&[0, 3]);
    c.finish();
}

/// `chk-6/_metadata` (the newest) is a FIFO: either chk-6 is not complete
/// (chk-5 is the newest) or the plan is refused; chk-5 verifies either way.
#[test]
fn fifo_metadata_in_newest_checkpoint() {
    let mut c = Case::new("rocksdb-incremental");
    mkfifo(&c.chk(6).join("_metadata"));
    c.keep = vec![c.chk(5)];
    c.every_command();
    c.clean(&[]).code(&[0, 3]);
    c.finish();
}

/// A FIFO among the `shared/` files.
#[test]
fn fifo_in_shared() {
    let c = Case::new("rocksdb-incremental");
    mkfifo(&c.job.join("shared/7a7a7a7a-fifo"));
    c.every_command();
    c.clean(&[]).code(&[0]);
    c.finish();
}

/// `_metadata` symlinked to `/dev/zero`, in an old and in the newest
/// checkpoint: no endless read, no memory blow-up.
#[test]
fn metadata_symlink_to_dev_zero() {
    let mut c = Case::new("rocksdb-incremental");
    for n in [4, 6] {
        let m = c.chk(n).join("_metadata");
        std::fs::remove_file(&m).unwrap();
        symlink("/dev/zero", &m).unwrap();
    }
    c.keep = vec![c.chk(5)];
    c.every_command();
    c.clean(&[]).code(&[0, 3]);
    for n in [4, 6] {
        c.still_a_link(&c.chk(n).join("_metadata"));
    }
    c.finish();
}

/// Hard links are not symlinks: a victim file hard-linked into `shared/`
/// (an orphan there) may be unlinked from `shared/`; the victim's own name
/// and bytes stay. And an orphan hard-linked into the victim stays there.
#[test]
fn hard_links_in_and_out_of_shared() {
    let mut c = Case::new("rocksdb-incremental");
    std::fs::hard_link(
        c.victim.join("precious.txt"),
        c.job.join("shared/0c0c0c0c-hardlink"),
    )
    .unwrap();
    let orphan = c.job.join("shared/3368ae10-a755-464b-90c1-72f914b84294");
    std::fs::hard_link(&orphan, c.victim.join("hardlinked-orphan")).unwrap();
    c.victim_before = tree(&c.victim);
    c.every_command();
    c.clean(&[]).code(&[0]);
    c.finish();
}

#[test]
fn root_with_trailing_slash() {
    let c = Case::new("rocksdb-incremental");
    let root = format!("{}/", c.ck.display());
    c.clean_at(&root, &[]).code(&[0]).deleted(75);
    c.finish();
}

#[test]
fn root_with_dot_components() {
    let c = Case::new("rocksdb-incremental");
    let root = format!("{}/../checkpoints/./", c.ck.display());
    c.clean_at(&root, &[]).code(&[0]).deleted(75);
    c.finish();
}

#[test]
fn relative_root() {
    let c = Case::new("rocksdb-incremental");
    c.run_counting_in(&c.root, c.clean_args(&"checkpoints", &[]))
        .code(&[0])
        .deleted(75);
    c.finish();
}

/// The root is named through a symlink to it: either it is resolved (and the
/// cleanup is the usual one) or refused; chk-6 verifies.
#[test]
fn root_reached_through_a_symlink() {
    let c = Case::new("rocksdb-incremental");
    let link = c.base.join("ck-link");
    symlink(&c.ck, &link).unwrap();
    let out = c.clean_at(&link, &[]);
    out.code(&[0, 3]);
    if out.code == Some(0) {
        out.deleted(75);
    }
    c.still_a_link(&link);
    c.finish();
}

/// A second "job" that is a symlink to the real job directory: not a job;
/// the real job is cleaned once.
#[test]
fn job_dir_symlink_to_other_job() {
    let c = Case::new("rocksdb-incremental");
    let link = c.ck.join("ffffffffffffffffffffffffffffffff");
    symlink(&c.job, &link).unwrap();
    c.same_codes_as_pristine("rocksdb-incremental");
    c.clean(&[]).code(&[0]).deleted(75);
    c.still_a_link(&link);
    c.finish();
}

/// `--drop-job` naming a "job" whose directory is a symlink to the real job:
/// no job of that id exists under the root, so it is refused and nothing is
/// deleted.
#[test]
fn drop_job_on_a_job_symlinked_to_another_job() {
    let c = Case::new("rocksdb-incremental");
    let id = "ffffffffffffffffffffffffffffffff";
    symlink(&c.job, c.ck.join(id)).unwrap();
    c.clean(&[&"--drop-job", &id]).code(&[3, 64]).deleted(0);
    c.still_a_link(&c.ck.join(id));
    c.finish();
}

/// The same with the symlink pointing at the victim (which looks like a job).
#[test]
fn drop_job_on_a_job_symlinked_to_the_victim() {
    let c = Case::new("rocksdb-incremental");
    let id = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
    symlink(&c.victim, c.ck.join(id)).unwrap();
    c.every_command();
    c.clean(&[&"--drop-job", &id]).code(&[3, 64]).deleted(0);
    c.still_a_link(&c.ck.join(id));
    c.finish();
}

// ------------------------------------------------------------ all at once

/// Every bending above in one tree; every command runs on it, then a
/// cleanup. No panic, no hang, the victim unchanged, chk-6 verifies.
#[test]
fn every_command_on_the_worst_tree() {
    let c = Case::new("rocksdb-incremental");
    let (job, v) = (&c.job, &c.victim);
    for chk in &c.chks {
        copy_tree(chk, &c.ck.join("my-backups").join(chk.file_name().unwrap()));
    }
    std::fs::create_dir_all(job.join("taskowned")).unwrap();
    for (to, at) in [
        (v.clone(), job.join("shared/evil")),
        (v.clone(), job.join("taskowned/evil")),
        (v.clone(), c.chk(4).join("evil")),
        (v.clone(), job.join("chk-3")),
        (v.join("chk-1"), job.join("chk-2")),
        (v.join("chk-1"), job.join("chk-9")),
        (PathBuf::from(".."), job.join("shared/loop")),
        (PathBuf::from("b"), job.join("shared/a")),
        (PathBuf::from("a"), job.join("shared/b")),
        (job.clone(), c.ck.join("ffffffffffffffffffffffffffffffff")),
        (v.clone(), c.ck.join("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")),
        (c.root.clone(), c.ck.join("up")),
    ] {
        symlink(to, at).unwrap();
    }
    std::fs::create_dir_all(job.join("chk-1")).unwrap();
    symlink("/dev/zero", job.join("chk-1/_metadata")).unwrap();
    mkfifo(&c.chk(4).join("_metadata"));
    mkfifo(&job.join("shared/7a7a7a7a-fifo"));
    for n in [&b"evil\rname"[..], b"\x1b[2Jesc", b"not-utf8-\xff"] {
        write(&job.join("shared").join(OsStr::from_bytes(n)), b"x");
    }
    write(&c.ck.join("my-backups/NOTES.txt"), b"backups\n");
    write(&c.ck.join("x/shared/orphan"), b"x");
    std::fs::hard_link(v.join("precious.txt"), job.join("shared/0c0c-hardlink")).unwrap();
    c.every_command();
    c.clean(&[]);
    c.finish();
}

//! Turns what a user types into a location: a path or URI, a job alias or id
//! from the profile, `ALIAS@latest`, `ALIAS@chk-42` / `ALIAS@42`, or a
//! savepoint name — and tells whether it is a root, a job directory, a
//! snapshot or a single file.
#![warn(missing_docs)]

use futures_util::StreamExt;

use crate::names::{checkpoint_id, is_job_id, is_savepoint_dir};
use crate::storage::{self, Location, Storage};

/// Errors resolving a reference.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// Nothing matched.
    #[error("{0}")]
    Unknown(String),
    /// A snapshot was asked for, and the job has no completed checkpoint.
    #[error("{arg}: no completed checkpoint")]
    NoCompletedCheckpoint {
        /// What the user typed.
        arg: String,
    },
    /// A snapshot was asked for, and the argument names a root.
    #[error(
        "{location}: no _metadata in this directory (give a chk-N/ or savepoint-…/ directory, \
         the _metadata file or a job); to pick a snapshot under a root: `flink-chk ls {location}`"
    )]
    RootNotSnapshot {
        /// The root.
        location: Location,
    },
}

/// What the profile knows (a view, so this module does not depend on the
/// profile file format).
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// Profile name (for messages).
    pub profile: Option<String>,
    /// Checkpoints root.
    pub checkpoints: Option<Location>,
    /// Savepoints root.
    pub savepoints: Option<Location>,
    /// Job aliases: (alias, job id).
    pub jobs: Vec<(String, String)>,
}

impl Places {
    /// The alias of a job id.
    pub fn alias_of(&self, id: &str) -> Option<&str> {
        self.jobs
            .iter()
            .find(|(_, j)| j.eq_ignore_ascii_case(id))
            .map(|(a, _)| a.as_str())
    }

    fn job_id(&self, name: &str) -> Option<String> {
        self.jobs
            .iter()
            .find(|(a, _)| a == name)
            .map(|(_, id)| id.clone())
            .or_else(|| is_job_id(name).then(|| name.to_ascii_lowercase()))
    }
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A directory of job directories (or of savepoints).
    Root(Location),
    /// One job's directory.
    Job {
        /// The directory.
        location: Location,
        /// The job id (directory name), when it looks like one.
        id: Option<String>,
    },
    /// One snapshot: a directory with `_metadata`, or the `_metadata` file.
    Snapshot(Location),
    /// Any other file.
    File(Location),
}

impl Target {
    /// The location.
    pub fn location(&self) -> &Location {
        match self {
            Target::Root(l) | Target::Snapshot(l) | Target::File(l) => l,
            Target::Job { location, .. } => location,
        }
    }
}

/// A snapshot argument resolved by [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotArg {
    /// The snapshot directory, its `_metadata`, or another file as given.
    pub location: Location,
    /// The argument named a job, and this is its latest completed checkpoint.
    pub latest_of_job: bool,
}

/// Resolves an argument that must name one snapshot. The rule for a job:
/// **a job means its latest completed checkpoint** (the newest `chk-N` with
/// a `_metadata`, as `JOB@latest`). A snapshot or a file is taken as is; a
/// root is an error that says how to pick a snapshot under it.
pub async fn snapshot(
    arg: &str,
    places: &Places,
    storage: &dyn Storage,
) -> Result<SnapshotArg, Error> {
    let given = |location| SnapshotArg {
        location,
        latest_of_job: false,
    };
    match resolve(arg, places, storage).await? {
        Target::Snapshot(l) | Target::File(l) => Ok(given(l)),
        Target::Job { location, .. } => {
            match resolve(&format!("{location}@latest"), places, storage).await? {
                Target::Snapshot(location) => Ok(SnapshotArg {
                    location,
                    latest_of_job: true,
                }),
                _ => Err(Error::NoCompletedCheckpoint {
                    arg: arg.to_owned(),
                }),
            }
        }
        Target::Root(location) => Err(Error::RootNotSnapshot { location }),
    }
}

/// Which checkpoint of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    Latest,
    Id(u64),
}

fn split_selector(arg: &str) -> (&str, Option<Select>) {
    if let Some((base, sel)) = arg.rsplit_once('@') {
        let s = match sel {
            "latest" => Some(Select::Latest),
            s => s
                .strip_prefix("chk-")
                .unwrap_or(s)
                .parse()
                .ok()
                .map(Select::Id),
        };
        if let Some(s) = s
            && !base.is_empty()
        {
            return (base, Some(s));
        }
    }
    (arg, None)
}

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || s.starts_with('.') || s.starts_with('~') || s.contains("://")
}

/// Resolves `arg`.
pub async fn resolve(arg: &str, places: &Places, storage: &dyn Storage) -> Result<Target, Error> {
    let (base, select) = split_selector(arg);
    let target = resolve_base(base, places, storage).await?;
    match (select, target) {
        (None, t) => Ok(t),
        (Some(sel), Target::Job { location, .. }) | (Some(sel), Target::Root(location)) => {
            pick(&location, sel, storage, arg).await
        }
        (Some(_), t) => Err(Error::Unknown(format!(
            "{arg}: @latest / @chk-N select a checkpoint of a job, but {} is not a job directory",
            t.location()
        ))),
    }
}

async fn resolve_base(base: &str, places: &Places, storage: &dyn Storage) -> Result<Target, Error> {
    if !looks_like_path(base) {
        if let (Some(id), Some(root)) = (places.job_id(base), &places.checkpoints) {
            let location = root.join(&id);
            return Ok(Target::Job {
                location,
                id: Some(id),
            });
        }
        if is_savepoint_dir(base)
            && let Some(sp) = &places.savepoints
        {
            return Ok(Target::Snapshot(sp.join(base)));
        }
        if !std::path::Path::new(base).exists() {
            let known: Vec<&str> = places.jobs.iter().map(|(a, _)| a.as_str()).collect();
            let profile = places.profile.as_deref().map_or_else(
                || "no profile is in use (see `flink-chk profile init`)".to_owned(),
                |p| {
                    if known.is_empty() {
                        format!("profile {p} has no job aliases")
                    } else {
                        format!("job aliases in profile {p}: {}", known.join(", "))
                    }
                },
            );
            return Err(Error::Unknown(format!(
                "{base}: no such file, job alias or job id ({profile})"
            )));
        }
    }
    let expanded = crate::storage::expand_home(base);
    classify(Location::parse(&expanded)?, storage).await
}

/// Whether `loc` is a snapshot, a job directory, a root or a file.
pub async fn classify(loc: Location, storage: &dyn Storage) -> Result<Target, Error> {
    if loc.file_name() == "_metadata" {
        return Ok(Target::Snapshot(loc));
    }
    if storage.stat(&loc.join("_metadata")).await?.is_some() {
        return Ok(Target::Snapshot(loc));
    }
    if let Some(e) = storage.stat(&loc).await?
        && !e.is_dir
    {
        return Ok(Target::File(loc));
    }
    let name = loc.file_name();
    if is_job_id(name) {
        return Ok(Target::Job {
            id: Some(name.to_ascii_lowercase()),
            location: loc,
        });
    }
    if checkpoint_id(name).is_some() || is_savepoint_dir(name) {
        // A checkpoint directory without _metadata (in progress or broken).
        return Ok(Target::Snapshot(loc));
    }
    // Only a directory named by a job id is a job directory: anything else
    // (a backup folder holding copied chk-N/, a folder with a shared/) is a
    // root of its own, so no command reads above the path it was given.
    if !loc.scheme().is_object_store() && storage.stat(&loc).await?.is_none() {
        return Err(storage::Error::NotFound {
            location: loc.to_string(),
        }
        .into());
    }
    Ok(Target::Root(loc))
}

/// `chk-<n>` ids under a job directory, ascending.
async fn checkpoint_dirs(
    job: &Location,
    storage: &dyn Storage,
) -> Result<Vec<u64>, storage::Error> {
    let mut ids = Vec::new();
    let mut children = storage.list(job, false);
    while let Some(e) = children.next().await {
        if let Some(id) = checkpoint_id(e?.location.file_name()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

async fn has_metadata(
    job: &Location,
    id: u64,
    storage: &dyn Storage,
) -> Result<bool, storage::Error> {
    Ok(storage
        .stat(&job.join(&format!("chk-{id}/_metadata")))
        .await?
        .is_some())
}

/// Checkpoint ids under a job directory, ascending, with whether `_metadata` exists.
pub async fn checkpoints(
    job: &Location,
    storage: &dyn Storage,
) -> Result<Vec<(u64, bool)>, storage::Error> {
    let mut out = Vec::new();
    for id in checkpoint_dirs(job, storage).await? {
        out.push((id, has_metadata(job, id, storage).await?));
    }
    Ok(out)
}

async fn pick(
    job: &Location,
    sel: Select,
    storage: &dyn Storage,
    arg: &str,
) -> Result<Target, Error> {
    let ids = checkpoint_dirs(job, storage).await?;
    // Only the checkpoints needed are stat'ed: newest first for @latest.
    let found = match sel {
        Select::Latest => {
            let mut found = None;
            for id in ids.iter().rev() {
                if has_metadata(job, *id, storage).await? {
                    found = Some(*id);
                    break;
                }
            }
            found
        }
        Select::Id(id) if ids.contains(&id) && has_metadata(job, id, storage).await? => Some(id),
        Select::Id(_) => None,
    };
    if let Some(id) = found {
        return Ok(Target::Snapshot(job.join(&format!("chk-{id}"))));
    }
    // Not found: explain, listing what is there.
    let done: Vec<String> = checkpoints(job, storage)
        .await?
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(id, _)| format!("chk-{id}"))
        .collect();
    let list = if done.is_empty() {
        "no completed checkpoints".to_owned()
    } else {
        format!("completed: {}", done.join(", "))
    };
    Err(Error::Unknown(match sel {
        Select::Latest => format!("{arg}: {job} has no completed checkpoint (no chk-N/_metadata)"),
        Select::Id(id) if ids.contains(&id) => format!(
            "{arg}: chk-{id} has no _metadata (in progress, failed or being deleted); {list}"
        ),
        Select::Id(id) => format!("{arg}: no chk-{id} under {job}; {list}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(
            split_selector("orders@latest"),
            ("orders", Some(Select::Latest))
        );
        assert_eq!(
            split_selector("orders@chk-42"),
            ("orders", Some(Select::Id(42)))
        );
        assert_eq!(
            split_selector("orders@42"),
            ("orders", Some(Select::Id(42)))
        );
        assert_eq!(split_selector("user@host/x"), ("user@host/x", None));
        assert_eq!(split_selector("@latest"), ("@latest", None));
    }
}

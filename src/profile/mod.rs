//! Per-user profiles: named Flink deployments in `profiles.yaml`, so commands
//! take `--profile prod` instead of repeating roots, storage settings and job
//! ids.
//!
//! ```yaml
//! default: prod
//! profiles:
//!   prod:
//!     checkpoints: s3://flink-prod/checkpoints
//!     savepoints: s3://flink-prod/savepoints
//!     storage:
//!       s3: { region: eu-west-1 }
//!     jobs:
//!       orders: 5f3c0a1d9e8b7c6a5f4e3d2c1b0a9f8e
//! ```
//!
//! [`template()`] is the documented schema. The file is strict: unknown keys,
//! repeated keys (at any level) and wrong types are errors with line and
//! column, and so are invalid values (locations, job ids, aliases, `min_age`,
//! a `default` naming no profile). Only `checkpoints` is required in a
//! profile.
//!
//! Profiles and job aliases keep the order of the file (not sorted): listings
//! and `profile show` then read like the file the user wrote, and since the
//! parser rejects repeated keys the names are unique. Profile files are
//! small, so lookups scan.
//!
//! Nothing here prints: the CLI shows [`Error`]s and the text returned by
//! [`secrets_readable_by_others`].
#![warn(missing_docs)]

mod error;
mod mask;
mod paths;
mod raw;
mod render;
mod template;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::storage::{Location, Settings};

pub use error::{Error, Position};
pub use paths::{
    APP_DIR, CONFIG_ENV, Env, FILE_NAME, PROFILE_ENV, SystemEnv, config_file, config_file_in,
};
pub use render::{
    NewProfile, append_profile, init_text, render_profile, secrets_readable_by_others,
};
pub use template::template;

/// A loaded and validated `profiles.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    path: PathBuf,
    default: Option<String>,
    profiles: Vec<(String, Profile)>,
}

/// One profile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// Free text for listings.
    pub description: Option<String>,
    /// Flink's `execution.checkpointing.dir` (`state.checkpoints.dir` before 2.0).
    pub checkpoints: Location,
    /// Flink's `execution.checkpointing.savepoint-dir` (`state.savepoints.dir`).
    pub savepoints: Option<Location>,
    /// Flink's `state.changelog.dstl.dfs.base-path`.
    pub changelog: Option<Location>,
    /// How to reach storage.
    pub storage: Settings,
    /// Job aliases, in file order; aliases and ids are unique.
    pub jobs: Vec<Job>,
    /// What a cleanup keeps (empty when the file has no `retention:`).
    pub retention: Retention,
    /// How `replicate` copies this profile's snapshots (empty when the
    /// file has no `replication:`).
    pub replication: Replication,
}

/// The `replication:` section, used by `replicate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replication {
    /// The default `--to` (a path, URI, `PROFILE:` or `PROFILE:PATH`).
    pub to: Option<String>,
    /// Replicated checkpoints kept per job (`--keep`).
    pub keep: Option<u32>,
    /// The shared byte budget (`--bwlimit`), re-read on SIGHUP.
    pub bwlimit: Option<String>,
    /// Each job's own cap (`--job-bwlimit`), re-read on SIGHUP.
    pub job_bwlimit: Option<String>,
    /// The priority (0–9) of this profile's jobs.
    pub priority: Option<u8>,
    /// Per job alias or id: its priority (0–9).
    pub priorities: Vec<(String, u8)>,
}

/// A job alias.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Job {
    /// The alias.
    pub alias: String,
    /// The job id: 32 lowercase hex characters.
    pub id: String,
    /// The job's operator uids (any order; may be empty).
    pub uids: Vec<String>,
    /// Free text.
    pub description: Option<String>,
}

/// A job named by alias or id, as resolved by [`Profile::job`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef<'a> {
    /// The job id (32 lowercase hex characters).
    pub id: String,
    /// The alias, when the profile has one for this job.
    pub alias: Option<&'a str>,
    /// The operator uids from the profile (empty when unknown).
    pub uids: &'a [String],
}

/// The `retention:` section, used by cleanup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retention {
    /// Completed checkpoints to keep per job (at least 1).
    pub keep_last: Option<u32>,
    /// Files younger than this are never deleted.
    pub min_age: Option<Duration>,
    /// Explicit keeps (`alias@chk-N`, URIs, …), verbatim.
    pub keep: Vec<String>,
}

impl Retention {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.keep_last.is_none() && self.min_age.is_none() && self.keep.is_empty()
    }
}

impl Config {
    /// Reads and validates `path`. A missing file is [`Error::NotFound`].
    pub fn load(path: &Path) -> Result<Self, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound {
                path: path.to_path_buf(),
            }),
            Err(source) => Err(Error::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses and validates the text of a `profiles.yaml`; `path` is used in
    /// messages. An empty file (or only comments) has no profiles.
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        raw::parse(text, path)
    }

    /// The file this came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `default:` profile name.
    pub fn default_name(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// The profiles, in file order.
    pub fn profiles(&self) -> impl Iterator<Item = (&str, &Profile)> {
        self.profiles.iter().map(|(n, p)| (n.as_str(), p))
    }

    /// The profile names, in file order.
    pub fn names(&self) -> Vec<String> {
        self.profiles.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The profile called `name`.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }

    /// The profile to use: `name` (from `--profile` or `FLINK_CHK_PROFILE`)
    /// when given, else `default:`, else the only profile. Errors list the
    /// available names.
    pub fn profile(&self, name: Option<&str>) -> Result<(&str, &Profile), Error> {
        let chosen = match name.or(self.default.as_deref()) {
            Some(n) => n,
            None => match self.profiles.as_slice() {
                [(n, _)] => n.as_str(),
                _ => {
                    return Err(Error::NoProfileSelected {
                        path: self.path.clone(),
                        available: self.names(),
                    });
                }
            },
        };
        self.profiles
            .iter()
            .find(|(n, _)| n == chosen)
            .map(|(n, p)| (n.as_str(), p))
            .ok_or_else(|| Error::UnknownProfile {
                path: self.path.clone(),
                name: chosen.to_owned(),
                available: self.names(),
            })
    }

    /// Names of the secrets set in each profile, as `(profile, ["s3.secret_access_key", …])`,
    /// for profiles that have any.
    pub fn secrets(&self) -> Vec<(&str, Vec<&'static str>)> {
        self.profiles
            .iter()
            .map(|(n, p)| (n.as_str(), p.storage.secrets_set()))
            .filter(|(_, s)| !s.is_empty())
            .collect()
    }
}

impl Profile {
    /// Resolves what the user typed: an alias, or a job id (any case). For
    /// an id without an alias the result has no alias and no uids. `None`
    /// when it is neither an alias nor a job id.
    pub fn job(&self, alias_or_id: &str) -> Option<JobRef<'_>> {
        fn known(j: &Job) -> JobRef<'_> {
            JobRef {
                id: j.id.clone(),
                alias: Some(j.alias.as_str()),
                uids: &j.uids,
            }
        }
        if let Some(j) = self.jobs.iter().find(|j| j.alias == alias_or_id) {
            return Some(known(j));
        }
        let id = normalize_job_id(alias_or_id)?;
        Some(match self.jobs.iter().find(|j| j.id == id) {
            Some(j) => known(j),
            None => JobRef {
                id,
                alias: None,
                uids: &[],
            },
        })
    }

    /// The alias of a job id (any case).
    pub fn alias_of(&self, job_id: &str) -> Option<&str> {
        let id = normalize_job_id(job_id)?;
        self.jobs
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.alias.as_str())
    }

    /// The operator uids listed for a job id (empty when none are).
    pub fn uids(&self, job_id: &str) -> &[String] {
        normalize_job_id(job_id)
            .and_then(|id| self.jobs.iter().find(|j| j.id == id))
            .map_or(&[], |j| j.uids.as_slice())
    }

    /// The jobs a savepoint directory named `name` may belong to, in file
    /// order: those whose id starts with the name's job-id prefix (see
    /// [`savepoint_job_prefix`]). Six hex digits can be shared by several
    /// jobs, so a caller that needs *the* job takes it only when it is the
    /// only one ([`Profile::uids_of_savepoint`]); a listing may show the first.
    pub fn jobs_of_savepoint<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Job> + 'a {
        let prefix = savepoint_job_prefix(name);
        self.jobs
            .iter()
            .filter(move |j| prefix.as_deref().is_some_and(|p| j.id.starts_with(p)))
    }

    /// The operator uids of the job a savepoint named `name` belongs to:
    /// those of the one profile job [`Profile::jobs_of_savepoint`] finds, and
    /// none when no job or several jobs match.
    pub fn uids_of_savepoint(&self, name: &str) -> &[String] {
        let mut matching = self.jobs_of_savepoint(name);
        match (matching.next(), matching.next()) {
            (Some(j), None) => &j.uids,
            _ => &[],
        }
    }
}

/// The job-id prefix in a savepoint directory name, lowercase.
///
/// This is the one rule that ties savepoints to jobs: Flink names a
/// savepoint directory `savepoint-<first 6 hex digits of the job id>-<12
/// random hex digits>`, so a savepoint belongs to the jobs whose id starts
/// with those six digits. `None` when `name` is not of that form.
pub fn savepoint_job_prefix(name: &str) -> Option<String> {
    let prefix = name.strip_prefix("savepoint-")?.split('-').next()?;
    (prefix.len() == 6).then(|| prefix.to_ascii_lowercase())
}

/// A job id in canonical form (lowercase), if `s` is 32 hex characters.
pub fn normalize_job_id(s: &str) -> Option<String> {
    crate::names::is_job_id(s).then(|| s.to_ascii_lowercase())
}

/// Parses `90s`, `30m`, `1h`, `7d`: a whole number and one unit.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "`{s}` is not a duration: use a whole number and s, m, h or d (e.g. 90s, 30m, 1h, 7d)"
        )
    };
    let t = s.trim();
    let unit = t.chars().last().ok_or_else(bad)?;
    let secs_per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let digits = &t[..t.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(secs_per)
        .filter(|&secs| secs <= MAX_DURATION_SECS)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long a duration (at most 36500d)"))
}

/// The longest duration accepted: 100 years.
const MAX_DURATION_SECS: u64 = 36_500 * 86_400;

/// Parses `keep_last` (profile and `--keep-last` alike): a whole number, at
/// least 1.
pub fn parse_keep_last(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(0) => Err(KEEP_LAST_ZERO.to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number of checkpoints")),
    }
}

/// Why `keep_last: 0` is refused.
pub(crate) const KEEP_LAST_ZERO: &str =
    "must be at least 1 (the latest checkpoint is what a restart restores)";

/// Writes a duration as [`parse_duration`] reads it, in the largest unit
/// that divides it (`3600s` → `1h`). Sub-second parts are dropped.
pub fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, per) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s != 0 && s.is_multiple_of(per) {
            return format!("{}{unit}", s / per);
        }
    }
    format!("{s}s")
}

/// Checks a profile name: non-empty; no whitespace, `@`, `/`; not `-…`.
pub(crate) fn check_profile_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty".to_owned());
    }
    if name.starts_with('-') {
        return Err("must not start with `-`".to_owned());
    }
    match name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '/'))
    {
        Some(c) => Err(format!("must not contain {c:?}")),
        None => Ok(()),
    }
}

/// Checks a job alias: non-empty; no `@`, `/`, `:`, whitespace; not a job id.
pub(crate) fn check_alias(alias: &str) -> Result<(), String> {
    if alias.is_empty() {
        return Err("empty".to_owned());
    }
    if normalize_job_id(alias).is_some() {
        return Err("an alias cannot itself look like a job id".to_owned());
    }
    match alias
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '/' | ':'))
    {
        Some(c) => Err(format!("must not contain {c:?}")),
        None => Ok(()),
    }
}

/// Parses a root directory. Relative paths are refused: a profile is used
/// from any directory (and `~` is not expanded).
pub(crate) fn parse_root(s: &str) -> Result<Location, String> {
    let has_scheme = s.split_once(':').is_some_and(|(scheme, _)| {
        scheme.len() > 1
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    });
    if !has_scheme && !s.starts_with('/') {
        return Err(format!(
            "`{s}` is a relative path; write an absolute path or a URI (profiles are used from any directory, and `~` is not expanded)"
        ));
    }
    Location::parse(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod savepoint_tests {
    use super::savepoint_job_prefix;

    #[test]
    fn savepoint_names_carry_six_digits_of_the_job_id() {
        assert_eq!(
            savepoint_job_prefix("savepoint-35434a-bbc23606a9d9").as_deref(),
            Some("35434a")
        );
        assert_eq!(
            savepoint_job_prefix("savepoint-35434A-bbc23606a9d9").as_deref(),
            Some("35434a")
        );
        assert_eq!(savepoint_job_prefix("savepoint-35434-x"), None);
        assert_eq!(savepoint_job_prefix("savepoint-35434a9"), None);
        assert_eq!(savepoint_job_prefix("chk-3"), None);
    }
}

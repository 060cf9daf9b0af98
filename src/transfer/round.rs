//! One replication round: find each job's newest completed checkpoint (and
//! the savepoints) the replica lacks, plan their copies (each snapshot on
//! its own, so one that cannot be planned — a checkpoint Flink subsumed
//! meanwhile — does not stop the others), and write each replica
//! snapshot's [`Identity`] before any of its data. [`super::run::copy`]
//! then copies and publishes; the CLI drives rounds, pruning and output.

use std::collections::BTreeMap;

use futures_util::StreamExt;

use super::plan::{self, Layout, Plan, PlanError, Request};
use super::replica::{self, IDENTITY, Identity, Kind, Replica, SourceSnapshot};
use crate::analysis::snapshot::Rebase;
use crate::storage::{Location, Storage};

/// What to replicate from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Checkpoints roots: every job directory under them.
    pub roots: Vec<Location>,
    /// Single job directories.
    pub jobs: Vec<Location>,
    /// Savepoints roots: every completed savepoint under them.
    pub savepoints: Vec<Location>,
}

/// Where the replica is.
#[derive(Debug, Clone)]
pub struct Target {
    /// Checkpoints land under it (`<root>/<job>/chk-N`).
    pub checkpoints: Location,
    /// Savepoints land under it (else under `checkpoints`).
    pub savepoints: Option<Location>,
}

impl Target {
    /// Where savepoints land.
    pub fn savepoints_root(&self) -> &Location {
        self.savepoints.as_ref().unwrap_or(&self.checkpoints)
    }
}

/// The newest completed checkpoint of every job, and every completed
/// savepoint, at the sources; jobs without a completed checkpoint are left
/// out.
pub async fn discover(
    src: &dyn Storage,
    sources: &Sources,
    concurrency: usize,
) -> Result<Vec<SourceSnapshot>, replica::Error> {
    let mut jobs: Vec<Location> = sources.jobs.clone();
    for r in &sources.roots {
        jobs.extend(replica::jobs(src, r).await?);
    }
    jobs.sort();
    jobs.dedup();
    let newest: Vec<_> =
        futures_util::stream::iter(jobs.iter().map(|j| replica::newest_checkpoint(src, j)))
            .buffered(concurrency.max(1))
            .collect()
            .await;
    let mut out = Vec::new();
    for n in newest {
        out.extend(n?);
    }
    for r in &sources.savepoints {
        out.extend(replica::savepoints(src, r).await?);
    }
    Ok(out)
}

/// What the replica holds: per job directory name, and its savepoints.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Per job (only the jobs asked for).
    pub jobs: BTreeMap<String, Replica>,
    /// Savepoints.
    pub savepoints: Replica,
}

impl State {
    /// Reads the replica's directories for `jobs` and its savepoints root.
    /// `known` (identities this machine's journal recorded writing) saves
    /// reading them back; then a job's directories are looked into only for
    /// the checkpoint id `want` gives it (none given: all).
    pub async fn read(
        dst: &dyn Storage,
        target: &Target,
        jobs: impl IntoIterator<Item = String>,
        known: &replica::Known,
        want: &BTreeMap<String, u64>,
        concurrency: usize,
    ) -> Result<Self, replica::Error> {
        let names: Vec<String> = jobs.into_iter().collect();
        let read: Vec<_> = futures_util::stream::iter(names.iter().map(|j| {
            let dir = target.checkpoints.join(j);
            let w = want.get(j).copied();
            async move { replica::replica_job(dst, &dir, known, w).await }
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
        let mut out = State::default();
        for (name, r) in names.into_iter().zip(read) {
            out.jobs.insert(name, r?);
        }
        out.savepoints = replica::replica_savepoints(dst, target.savepoints_root(), known).await?;
        Ok(out)
    }

    /// Every snapshot directory someone else wrote, with its job (`None`:
    /// the savepoints root).
    pub fn foreign(&self) -> Vec<(Option<&str>, &replica::ReplicaSnapshot)> {
        let mut out: Vec<(Option<&str>, &replica::ReplicaSnapshot)> = self
            .jobs
            .iter()
            .flat_map(|(j, r)| r.foreign().into_iter().map(move |s| (Some(j.as_str()), s)))
            .collect();
        // In the savepoints root only a published one counts (no ids).
        out.extend(
            self.savepoints
                .snapshots
                .iter()
                .filter(|s| s.identity.is_none() && s.published())
                .map(|s| (None, s)),
        );
        out
    }

    /// Whether the replica has `s` published.
    pub fn has(&self, s: &SourceSnapshot) -> bool {
        match (&s.kind, &s.job) {
            (Kind::Checkpoint, Some(j)) => self.jobs.get(j).is_some_and(|r| r.has(s)),
            _ => self.savepoints.has(s),
        }
    }
}

/// A snapshot that could not be planned this round.
#[derive(Debug)]
pub struct Unplanned {
    /// The source snapshot.
    pub snapshot: SourceSnapshot,
    /// Why.
    pub error: PlanError,
    /// Its files vanished meanwhile (Flink subsumed it): the next round
    /// takes the job's newer checkpoint.
    pub vanished: bool,
}

/// One snapshot planned: its source, the identity its replica gets, its
/// copy plan.
#[derive(Debug)]
pub struct Part {
    /// The source snapshot.
    pub source: SourceSnapshot,
    /// The identity file's content.
    pub identity: Identity,
    /// Its copy plan (one snapshot).
    pub plan: Plan,
}

/// A round's plan: the snapshots planned, and those that could not be.
#[derive(Debug, Default)]
pub struct RoundPlan {
    /// Planned, in the order found.
    pub parts: Vec<Part>,
    /// Not planned.
    pub unplanned: Vec<Unplanned>,
}

/// A round ready to copy: identities written, the plans merged.
#[derive(Debug)]
pub struct Prepared {
    /// The copy plan (snapshots index for index with `parts`).
    pub plan: Plan,
    /// Per snapshot of `plan`: source and identity.
    pub parts: Vec<(SourceSnapshot, Identity)>,
    /// Snapshots whose identity could not be written (not copied).
    pub failed: Vec<(SourceSnapshot, String)>,
}

/// Whether a planning error means the snapshot's files are gone (Flink
/// subsumed the checkpoint): the next round takes the job's newer one.
fn vanished(e: &PlanError) -> bool {
    use crate::analysis::snapshot::Error as Load;
    match e {
        PlanError::Missing { .. } | PlanError::WrongSize { .. } => true,
        PlanError::Load(Load::NoMetadata(_)) => true,
        PlanError::Load(Load::Storage(s)) | PlanError::Storage(s) => s.is_not_found(),
        _ => false,
    }
}

/// Plans the copies of `wanted` into `target` (mirror layout), each
/// snapshot alone.
pub async fn plan_round(
    src: &dyn Storage,
    wanted: Vec<SourceSnapshot>,
    target: &Target,
    rebase: &Rebase,
    maps: &[(Location, Location)],
    concurrency: usize,
) -> RoundPlan {
    let planned: Vec<(SourceSnapshot, Result<Plan, PlanError>)> =
        futures_util::stream::iter(wanted.into_iter().map(|s| async move {
            let req = Request {
                snapshots: vec![s.dir.clone()],
                rebase: rebase.clone(),
                dest: Some(target.checkpoints.clone()),
                savepoint_dest: Some(target.savepoints_root().clone()),
                maps: maps.to_vec(),
                layout: Layout::Mirror,
            };
            // Each snapshot's files are stat-ed a few at a time; many
            // snapshots are planned at once.
            let p = plan::plan(src, &req, true, 8).await;
            (s, p)
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let now = jiff::Timestamp::now();
    let mut out = RoundPlan::default();
    for (s, p) in planned {
        // The `_metadata` read when planning must be the one discovered.
        let same = |p: &Plan| {
            p.snapshots.first().is_some_and(|sp| {
                sp.source_size == s.metadata.size
                    && super::stat::same_time(sp.source_modified, s.metadata.modified)
            })
        };
        match p {
            Ok(p) if same(&p) => {
                let Some(sp) = p.snapshots.first() else {
                    continue;
                };
                let identity = Identity {
                    format: 1,
                    kind: s.kind,
                    job: s.job.clone(),
                    checkpoint_id: sp.checkpoint_id,
                    source: s.dir.to_string(),
                    source_metadata_bytes: s.metadata.size,
                    source_metadata_crc32c: format!("{:08x}", sp.source_crc32c),
                    source_completed: s.metadata.modified,
                    files: sp.files.len(),
                    bytes: sp.files.iter().filter_map(|&i| p.files[i].size).sum(),
                    planned_at: now,
                };
                out.parts.push(Part {
                    source: s,
                    identity,
                    plan: p,
                });
            }
            Ok(_) => out.unplanned.push(Unplanned {
                error: PlanError::Missing {
                    snapshot: s.dir.to_string(),
                    location: s.dir.join("_metadata").to_string(),
                },
                snapshot: s,
                vanished: true,
            }),
            Err(e) => out.unplanned.push(Unplanned {
                vanished: vanished(&e),
                snapshot: s,
                error: e,
            }),
        }
    }
    out
}

impl RoundPlan {
    /// Writes each snapshot's identity into its replica directory before
    /// any of its data (a directory with data and no identity is never
    /// left by flink-chk), then merges the plans of those written.
    pub async fn prepare(
        self,
        dst: &dyn Storage,
        dest_roots: &[Location],
        journal: Option<&super::record::Journal>,
    ) -> Result<Prepared, PlanError> {
        let mut plans = Vec::new();
        let mut parts = Vec::new();
        let mut failed = Vec::new();
        for p in self.parts {
            let Some(s) = p.plan.snapshots.first() else {
                continue;
            };
            let at = s.destination.parent().join(IDENTITY);
            // A published replica of another source keeps its identity.
            match dst.stat(&s.destination).await {
                Ok(None) => {}
                Ok(Some(_)) => {
                    failed.push((
                        p.source,
                        format!(
                            "{} exists already and is not a replica of this source snapshot; not overwritten",
                            s.destination
                        ),
                    ));
                    continue;
                }
                Err(e) => {
                    failed.push((p.source, e.to_string()));
                    continue;
                }
            }
            let written = match serde_json::to_vec_pretty(&p.identity) {
                Ok(bytes) => super::run::write_small(dst, dest_roots, &at, bytes).await,
                Err(e) => Err(e.to_string()),
            };
            let written =
                written.and_then(|()| match (journal, serde_json::to_value(&p.identity)) {
                    (Some(j), Ok(identity)) => j
                        .record(&super::record::Record::Replica {
                            dir: s.destination.parent().to_string(),
                            identity,
                        })
                        .map_err(|e| format!("writing the journal {}: {e}", j.path().display())),
                    _ => Ok(()),
                });
            match written {
                Ok(()) => {
                    parts.push((p.source, p.identity));
                    plans.push(p.plan);
                }
                Err(e) => failed.push((p.source, e)),
            }
        }
        Ok(Prepared {
            plan: Plan::merge(plans)?,
            parts,
            failed,
        })
    }
}

/// The prune of a replica: what the cleanup planner (the `safe-to-delete`
/// engine) finds under the replica roots when each job keeps its newest
/// `keep` checkpoints and every savepoint; nothing a kept snapshot
/// references is a candidate.
pub async fn prune_plan(
    dst: &dyn Storage,
    target: &Target,
    keep: usize,
    concurrency: usize,
) -> Result<crate::analysis::cleanup::PlanFile, crate::analysis::cleanup::Error> {
    use crate::analysis::cleanup::{self, Policy, Roots};
    let policy = Policy {
        keep_last: keep.max(1),
        // The replica is written by this process only (one replication per
        // destination): nothing in it is a checkpoint being taken.
        min_age: std::time::Duration::ZERO,
        keep: Vec::new(),
        include_savepoints: Default::default(),
        drop_jobs: Default::default(),
        stopped: false,
        now: jiff::Timestamp::now(),
    };
    let plan = cleanup::plan(
        dst,
        Roots {
            checkpoints: &target.checkpoints,
            scope: &target.checkpoints,
            savepoints: target.savepoints.as_ref(),
        },
        &policy,
        &Rebase::default(),
        concurrency,
        |_, _| {},
    )
    .await?;
    Ok(cleanup::PlanFile::new(plan, &policy, &[]))
}

/// Applies a prune plan: re-checked against the replica as it is now
/// (`safe-to-delete`'s re-check), then deleted, `_metadata` first.
pub async fn prune_apply(
    dst: &dyn Storage,
    plan: &crate::analysis::cleanup::PlanFile,
    concurrency: usize,
    on: impl FnMut(crate::analysis::cleanup::apply::Event<'_>),
) -> Result<crate::analysis::cleanup::apply::Applied, crate::analysis::cleanup::Error> {
    use crate::analysis::cleanup::{apply, revalidate};
    let validated = revalidate::revalidate(
        dst,
        plan,
        plan.candidates.to_vec()?,
        &Rebase::default(),
        concurrency,
        |_, _| {},
    )
    .await?;
    Ok(apply::apply(dst, &validated, on).await)
}

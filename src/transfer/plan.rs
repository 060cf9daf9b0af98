//! What a copy will do, decided before any byte moves: each snapshot's
//! closure (the files its `_metadata` needs, as `deps` finds them), where
//! every file goes, the rewritten `_metadata` (checked by parsing it back),
//! and each source file's size and time as the copy's pin.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::StreamExt;

use crate::analysis::deps::{self, Label};
use crate::analysis::refs::FileKind;
use crate::analysis::snapshot::{self, Rebase, Resolver, Snapshot};
use crate::names;
use crate::storage::{self, Location, Storage};

use super::map::{PathMap, common_dir};
use super::rewrite::{self, NewRef, Refusal, Relocation, RewriteError};

/// How the destination is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// The source tree under the destination root: `<DEST>/<job>/chk-N`,
    /// `<DEST>/<job>/shared/…`, other jobs in their own directories.
    #[default]
    Mirror,
    /// Every file in the snapshot's own directory, written as relative handles.
    SelfContained,
}

/// What to copy where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The snapshots (directories or `_metadata` files), as read.
    pub snapshots: Vec<Location>,
    /// `--rebase` rules for reading them.
    pub rebase: Rebase,
    /// The destination root for checkpoints (takes the place of the
    /// directory above the job directories); `None` for `relocate`, where
    /// `--map` says everything.
    pub dest: Option<Location>,
    /// The destination root for savepoints (the place of the directory
    /// holding `savepoint-…`), if not `dest`.
    pub savepoint_dest: Option<Location>,
    /// `--map` rules.
    pub maps: Vec<(Location, Location)>,
    /// Layout.
    pub layout: Layout,
}

/// What a file must look like: the size its handles record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// Whole-file handles record this exact size.
    pub exact: Option<u64>,
    /// Segments end here: the file is at least this long.
    pub min: u64,
}

impl Expect {
    /// Whether a file of `size` bytes is what the handles record.
    pub fn accepts(&self, size: u64) -> bool {
        self.exact.is_none_or(|e| e == size) && size >= self.min
    }

    /// "12,345 bytes" or "at least 12,345 bytes".
    pub fn describe(&self) -> String {
        match self.exact {
            Some(e) => format!("{e} bytes"),
            None => format!("at least {} bytes", self.min),
        }
    }
}

/// One file to copy (or, for `relocate`, to find at its target).
#[derive(Debug, Clone)]
pub struct FilePlan {
    /// Where it is read.
    pub source: Location,
    /// Where it goes.
    pub target: Location,
    /// What the handles record.
    pub expect: Expect,
    /// The source's size when planned (`None` when sources are not read).
    pub size: Option<u64>,
    /// The source's modification time when planned.
    pub modified: Option<jiff::Timestamp>,
}

/// One snapshot to publish.
#[derive(Debug)]
pub struct SnapshotPlan {
    /// The source `_metadata`.
    pub source: Location,
    /// The `_metadata` to publish.
    pub destination: Location,
    /// Indices into [`Plan::files`].
    pub files: Vec<usize>,
    /// The bytes of the new `_metadata`, checked (the model is not kept:
    /// a run of thousands of snapshots holds only their bytes).
    pub metadata: Vec<u8>,
    /// Portability of the source as it is (see [`Portability`]).
    pub portability: Portability,
    /// The checkpoint id the source `_metadata` records.
    pub checkpoint_id: i64,
    /// Size of the source `_metadata`.
    pub source_size: u64,
    /// Modification time of the source `_metadata`.
    pub source_modified: Option<jiff::Timestamp>,
    /// CRC32C of the source `_metadata` as read.
    pub source_crc32c: u32,
}

/// Whether a snapshot survives a plain directory copy: every handle
/// relative to its own directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Portability {
    /// No absolute handle, no relative handle leaving the directory.
    pub self_contained: bool,
    /// Absolute handles (file and segment) in `_metadata`.
    pub absolute_handles: u64,
    /// Relative handles whose file is not in the snapshot's own directory,
    /// or relative handles in a checkpoint's shared state (written by a
    /// savepoint and carried over by a CLAIM restore, FLINK-39964).
    pub foreign_relative: Vec<String>,
    /// Absolute handles into the snapshot's own directory written outside
    /// the job layout (entropy injection): paths that break a naive copy.
    pub entropy_like: Vec<String>,
}

/// Everything a run will do.
#[derive(Debug)]
pub struct Plan {
    /// Snapshots in the order given.
    pub snapshots: Vec<SnapshotPlan>,
    /// Distinct files (each copied once however many snapshots need it).
    pub files: Vec<FilePlan>,
    /// The rules used, longest first.
    pub map: PathMap,
}

impl Plan {
    /// One plan of several (made separately, so one snapshot that cannot be
    /// planned does not stop the others): snapshots in order, each file
    /// once.
    pub fn merge(plans: Vec<Plan>) -> Result<Plan, PlanError> {
        let mut files: Vec<FilePlan> = Vec::new();
        let mut by_target: HashMap<Location, usize> = HashMap::new();
        let mut snapshots = Vec::new();
        let mut rules: Vec<(Location, Location)> = Vec::new();
        for p in plans {
            for r in p.map.rules() {
                if !rules.contains(r) {
                    rules.push(r.clone());
                }
            }
            let mut index = Vec::with_capacity(p.files.len());
            for f in p.files {
                let i = match by_target.get(&f.target) {
                    Some(&i) if files[i].source == f.source => i,
                    Some(&i) => {
                        return Err(PlanError::Collision {
                            target: f.target.to_string(),
                            a: files[i].source.to_string(),
                            b: f.source.to_string(),
                        });
                    }
                    None => {
                        by_target.insert(f.target.clone(), files.len());
                        files.push(f);
                        files.len() - 1
                    }
                };
                index.push(i);
            }
            for mut s in p.snapshots {
                for i in &mut s.files {
                    *i = index[*i];
                }
                snapshots.push(s);
            }
        }
        Ok(Plan {
            snapshots,
            files,
            map: PathMap::new(rules),
        })
    }

    /// Bytes of all files (planned sizes, else the recorded ones).
    pub fn bytes(&self) -> u64 {
        self.files
            .iter()
            .map(|f| f.size.or(f.expect.exact).unwrap_or(f.expect.min))
            .sum()
    }
}

/// A plan that cannot be made; nothing was copied.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A snapshot could not be read.
    #[error(transparent)]
    Load(#[from] snapshot::Error),
    /// Handles whose path is not a location.
    #[error("{snapshot}: cannot locate {path:?}: {reason}")]
    Unresolved {
        /// The snapshot.
        snapshot: String,
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// Files no rule maps.
    #[error(
        "{count} location(s) the snapshot needs lie outside its root and no --map covers them, e.g. {example}; nothing was copied. Give {suggestions}"
    )]
    Unmapped {
        /// How many.
        count: usize,
        /// One of them.
        example: String,
        /// The `--map` options to give, one per directory.
        suggestions: String,
    },
    /// The rewrite was refused.
    #[error("{snapshot}: {source}")]
    Rewrite {
        /// The snapshot.
        snapshot: String,
        /// Why.
        #[source]
        source: RewriteError,
    },
    /// Two different files would land on one target.
    #[error("{a} and {b} would both be copied to {target}; give a --map that keeps them apart")]
    Collision {
        /// The target.
        target: String,
        /// One source.
        a: String,
        /// The other.
        b: String,
    },
    /// A target is a source file: the copy would overwrite its own source.
    #[error(
        "{0} would be copied onto itself: the destination overlaps the source; nothing is overwritten at a copy's source"
    )]
    OntoSource(String),
    /// A source file is missing.
    #[error("{snapshot} needs {location}, which does not exist; nothing was copied")]
    Missing {
        /// The snapshot.
        snapshot: String,
        /// The file.
        location: String,
    },
    /// A source file is not what the handles record.
    #[error(
        "{snapshot} needs {location} of {expected}, but it has {size} bytes; nothing was copied"
    )]
    WrongSize {
        /// The snapshot.
        snapshot: String,
        /// The file.
        location: String,
        /// What the handles record.
        expected: String,
        /// What it has.
        size: u64,
    },
    /// A source file is a directory, link or device.
    #[error("{snapshot} needs {location}, which is not a regular file; nothing was copied")]
    NotRegular {
        /// The snapshot.
        snapshot: String,
        /// The file.
        location: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] storage::Error),
}

/// The directory a snapshot's destination replaces: above the job
/// directory for `chk-N`, the directory holding it otherwise.
pub fn snapshot_root(dir: &Location) -> Location {
    if names::checkpoint_id(dir.file_name()).is_some() {
        dir.parent().parent()
    } else {
        dir.parent()
    }
}

/// Where one snapshot's references go.
struct Targets<'a> {
    resolver: Resolver<'a>,
    map: &'a PathMap,
    /// Self-contained: source location → name in the new directory.
    names: Option<&'a HashMap<Location, String>>,
}

impl Relocation for Targets<'_> {
    fn file(&self, kind: FileKind, path: &str) -> Result<NewRef, Refusal> {
        let src = self
            .resolver
            .resolve(kind, path)
            .map_err(|e| Refusal::Bad(e.to_string()))?;
        if let Some(names) = self.names {
            return names
                .get(&src)
                .map(|n| NewRef::Relative(n.clone()))
                .ok_or_else(|| Refusal::Unmapped(src.to_string()));
        }
        if kind == FileKind::Relative {
            // Stays relative: the file moves with the directory.
            return Ok(NewRef::Relative(path.to_owned()));
        }
        self.map
            .map(&src)
            .map(NewRef::Absolute)
            .ok_or_else(|| Refusal::Unmapped(src.to_string()))
    }

    fn dir(&self, path: &str) -> Result<Location, Refusal> {
        let src = Location::parse(path).map_err(|e| Refusal::Bad(e.to_string()))?;
        let src = self.resolver.rebase.apply(src);
        self.map
            .map(&src)
            .ok_or_else(|| Refusal::Unmapped(src.to_string()))
    }
}

/// How a snapshot fares under a plain directory copy.
pub fn portability(s: &Snapshot, rebase: &Rebase) -> Portability {
    let own = rebase.apply(s.dir.clone());
    let is_checkpoint = names::checkpoint_id(s.dir.file_name()).is_some();
    let mut p = Portability::default();
    let resolver = Resolver {
        dir: &s.dir,
        rebase,
    };
    crate::analysis::refs::visit(&s.metadata, |r| {
        let crate::analysis::refs::Ref::File {
            kind, path, origin, ..
        } = r
        else {
            return;
        };
        match kind {
            FileKind::Absolute | FileKind::Segment => {
                p.absolute_handles += 1;
                if let Ok(l) = resolver.resolve(kind, path)
                    && l.starts_with(&own)
                    && matches!(
                        crate::analysis::layout::area(&l),
                        crate::analysis::layout::Area::Other
                    )
                    && p.entropy_like.len() < 20
                    && !p.entropy_like.iter().any(|x| x == path)
                {
                    p.entropy_like.push(path.to_owned());
                }
            }
            FileKind::Relative => {
                let outside = resolver
                    .resolve(kind, path)
                    .is_ok_and(|l| !l.starts_with(&own));
                let shared_in_checkpoint =
                    is_checkpoint && origin.part == crate::analysis::refs::Part::Shared;
                if (outside || shared_in_checkpoint)
                    && p.foreign_relative.len() < 20
                    && !p.foreign_relative.iter().any(|x| x == path)
                {
                    p.foreign_relative.push(path.to_owned());
                }
            }
        }
    });
    p.self_contained = p.absolute_handles == 0 && p.foreign_relative.is_empty();
    p
}

/// Reads the snapshots and decides everything. With `read_sources`, every
/// source file is stat-ed (it must exist with the size its handles record);
/// `relocate` does not read sources.
pub async fn plan(
    storage: &dyn Storage,
    req: &Request,
    read_sources: bool,
    concurrency: usize,
) -> Result<Plan, PlanError> {
    // Read at once (a copy of many snapshots would otherwise wait on one
    // round trip after another), in the order given.
    let loaded: Vec<Snapshot> =
        futures_util::stream::iter(req.snapshots.iter().map(|l| snapshot::load(storage, l)))
            .buffered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
    // One rule per snapshot root, plus --map: each FROM as given and, under
    // --rebase, where it is read (a FROM may name the path Flink recorded).
    let mut rules: Vec<(Location, Location)> = Vec::new();
    for (from, to) in &req.maps {
        rules.push((from.clone(), to.clone()));
        let read_at = req.rebase.apply(from.clone());
        if &read_at != from && !rules.iter().any(|(f, _)| f == &read_at) {
            rules.push((read_at, to.clone()));
        }
    }
    let snapshot_roots: Vec<Location> = loaded
        .iter()
        .map(|s| snapshot_root(&req.rebase.apply(s.dir.clone())))
        .collect();
    for s in &loaded {
        let dir = req.rebase.apply(s.dir.clone());
        let root = snapshot_root(&dir);
        let is_savepoint = names::checkpoint_id(dir.file_name()).is_none();
        let to = match (&req.savepoint_dest, &req.dest, is_savepoint) {
            (Some(d), _, true) => d.clone(),
            (_, Some(d), _) => d.clone(),
            (_, None, _) => continue,
        };
        if !rules.iter().any(|(f, _)| f == &root) {
            rules.push((root, to));
        }
    }
    let map = PathMap::new(rules);
    let source_roots: Vec<Location> = map.rules().iter().map(|(f, _)| f.clone()).collect();
    let dest_roots: Vec<Location> = map.rules().iter().map(|(_, t)| t.clone()).collect();

    let mut files: Vec<FilePlan> = Vec::new();
    let mut by_target: HashMap<Location, usize> = HashMap::new();
    let mut unmapped: BTreeSet<Location> = BTreeSet::new();
    let mut snapshots = Vec::new();
    // The first snapshot needing each file, for messages.
    let mut owners: Vec<String> = Vec::new();
    for s in &loaded {
        let d = deps::collect(s, &req.rebase);
        if let Some((path, reason)) = d.unresolved.first() {
            return Err(PlanError::Unresolved {
                snapshot: s.metadata_location.to_string(),
                path: path.clone(),
                reason: reason.clone(),
            });
        }
        let dir = req.rebase.apply(s.dir.clone());
        let Some(new_dir) = map.map(&dir) else {
            unmapped.insert(dir.clone());
            continue;
        };
        // Self-contained: one name per distinct source file.
        let names = (req.layout == Layout::SelfContained).then(|| {
            let mut names: HashMap<Location, String> = HashMap::new();
            let mut used: BTreeSet<String> = BTreeSet::new();
            // The snapshot's own relative files keep their names first.
            let mut ordered: Vec<&deps::Dep> = d.files.iter().collect();
            ordered
                .sort_by_key(|f| !(f.location.starts_with(&dir) && f.label != Label::FileMerging));
            for f in ordered {
                let base = match f.location.relative_to(&dir) {
                    Some(rel) if !rel.is_empty() => rel.to_owned(),
                    _ => f.location.file_name().to_owned(),
                };
                let mut name = base.clone();
                let mut n = 2;
                while used.contains(&name) || name == "_metadata" {
                    name = format!("{n}-{base}");
                    n += 1;
                }
                used.insert(name.clone());
                names.insert(f.location.clone(), name);
            }
            names
        });
        let targets = Targets {
            resolver: Resolver {
                dir: &s.dir,
                rebase: &req.rebase,
            },
            map: &map,
            names: names.as_ref(),
        };
        let mut idx = Vec::new();
        let mut expected = BTreeSet::new();
        for f in &d.files {
            let target = match &names {
                Some(n) => n.get(&f.location).map(|name| new_dir.join(name)),
                None => map.map(&f.location),
            };
            let Some(target) = target else {
                unmapped.insert(f.location.clone());
                continue;
            };
            expected.insert(target.clone());
            let expect = Expect {
                exact: f.exact_size,
                min: f.min_size,
            };
            let i = match by_target.get(&target) {
                Some(&i) => {
                    if files[i].source != f.location {
                        return Err(PlanError::Collision {
                            target: target.to_string(),
                            a: files[i].source.to_string(),
                            b: f.location.to_string(),
                        });
                    }
                    let e = &mut files[i].expect;
                    e.min = e.min.max(expect.min);
                    e.exact = e.exact.or(expect.exact);
                    i
                }
                None => {
                    files.push(FilePlan {
                        source: f.location.clone(),
                        target: target.clone(),
                        expect,
                        size: None,
                        modified: None,
                    });
                    by_target.insert(target, files.len() - 1);
                    owners.push(s.metadata_location.to_string());
                    files.len() - 1
                }
            };
            idx.push(i);
        }
        if !unmapped.is_empty() {
            continue;
        }
        let rewritten =
            rewrite::rewrite(&s.metadata, &targets).map_err(|source| PlanError::Rewrite {
                snapshot: s.metadata_location.to_string(),
                source,
            })?;
        rewrite::check(
            &rewritten.bytes,
            &new_dir,
            &expected,
            &source_roots,
            &dest_roots,
        )
        .map_err(|source| PlanError::Rewrite {
            snapshot: s.metadata_location.to_string(),
            source,
        })?;
        snapshots.push(SnapshotPlan {
            source: s.metadata_location.clone(),
            destination: new_dir.join("_metadata"),
            files: idx,
            metadata: rewritten.bytes,
            portability: portability(s, &req.rebase),
            checkpoint_id: s.metadata.checkpoint_id,
            source_size: s.metadata_size,
            source_modified: s.modified,
            source_crc32c: s.metadata_crc32c,
        });
    }
    if !unmapped.is_empty() {
        let roots: Vec<Location> = source_roots
            .iter()
            .chain(&snapshot_roots)
            .cloned()
            .collect();
        return Err(unmapped_error(&unmapped, req.dest.as_ref(), &roots));
    }
    // Never onto a source: no target may be a file of the copy set, nor a
    // source `_metadata`.
    let sources: BTreeSet<&Location> = files
        .iter()
        .map(|f| &f.source)
        .chain(loaded.iter().map(|s| &s.metadata_location))
        .collect();
    for t in files
        .iter()
        .map(|f| &f.target)
        .chain(snapshots.iter().map(|s| &s.destination))
    {
        if sources.contains(t) {
            return Err(PlanError::OntoSource(t.to_string()));
        }
    }
    if read_sources {
        stat_sources(storage, &mut files, &owners, concurrency).await?;
    }
    Ok(Plan {
        snapshots,
        files,
        map,
    })
}

/// The directory to suggest a `--map` for: below the deepest directory it
/// shares with a snapshot root, the first directory on its way
/// (`<scenario>/dstl` for a changelog file beside `<scenario>/checkpoints`).
fn suggest_dir(d: Location, roots: &[Location]) -> Location {
    roots
        .iter()
        .filter_map(|r| {
            let shared = common_dir([r, &d].into_iter())?;
            let rest = d.relative_to(&shared)?;
            let first = rest.split('/').next().filter(|f| !f.is_empty())?;
            Some(shared.join(first))
        })
        .max_by_key(|l| l.path().len())
        .unwrap_or(d)
}

fn unmapped_error(
    unmapped: &BTreeSet<Location>,
    dest: Option<&Location>,
    roots: &[Location],
) -> PlanError {
    // One suggestion per store and top-level directory under it.
    let mut groups: BTreeMap<String, Vec<&Location>> = BTreeMap::new();
    for l in unmapped {
        let top = l.path().split('/').nth(1).unwrap_or_default();
        groups
            .entry(format!(
                "{}|{}|{top}",
                l.scheme().canonical(),
                l.authority()
            ))
            .or_default()
            .push(l);
    }
    let suggestions: Vec<String> = groups
        .values()
        .filter_map(|ls| common_dir(ls.iter().copied()))
        .map(|d| suggest_dir(d, roots))
        .map(|d| {
            let name = match d.file_name() {
                "" => "other",
                n => n,
            };
            match dest {
                Some(dest) => format!("--map {}={}", d, dest.join(name)),
                None => format!("--map {d}=<new place of {name}>"),
            }
        })
        .collect();
    PlanError::Unmapped {
        count: unmapped.len(),
        example: unmapped
            .iter()
            .next()
            .map(ToString::to_string)
            .unwrap_or_default(),
        suggestions: suggestions.join(" "),
    }
}

/// Stats every source: it must be a regular file with the recorded size.
async fn stat_sources(
    storage: &dyn Storage,
    files: &mut [FilePlan],
    owners: &[String],
    concurrency: usize,
) -> Result<(), PlanError> {
    let who = |i: usize| owners.get(i).cloned().unwrap_or_default();
    let locations: Vec<Location> = files.iter().map(|f| f.source.clone()).collect();
    let stats = super::stat::stat_many(storage, &locations, concurrency).await;
    for (i, r) in stats.into_iter().enumerate() {
        let f = &mut files[i];
        match r? {
            None => {
                return Err(PlanError::Missing {
                    snapshot: who(i),
                    location: f.source.to_string(),
                });
            }
            Some(e) if !e.is_file() => {
                return Err(PlanError::NotRegular {
                    snapshot: who(i),
                    location: f.source.to_string(),
                });
            }
            Some(e) => {
                if !f.expect.accepts(e.size) {
                    return Err(PlanError::WrongSize {
                        snapshot: who(i),
                        location: f.source.to_string(),
                        expected: f.expect.describe(),
                        size: e.size,
                    });
                }
                f.size = Some(e.size);
                f.modified = e.modified;
            }
        }
    }
    Ok(())
}

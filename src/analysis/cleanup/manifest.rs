//! A manifest for the store's own batch service instead of deleting:
//! exactly the files that passed the re-check ([`super::revalidate`]),
//! whole-directory candidates expanded into their files and each file
//! checked as [`super::apply`] checks it before deleting, one row each,
//! streamed to a writer (the manifest of a plan over 10⁸ files is never
//! held in memory).
//!
//! Two formats:
//! - [`Format::S3BatchTags`]: an S3 Batch Operations CSV manifest
//!   (`S3BatchOperations_CSV_20180820`: `bucket,key` rows, keys
//!   URL-encoded, no header) for a "Replace all object tags" job; a
//!   lifecycle rule expiring that tag deletes. S3 Batch Operations has no
//!   delete operation.
//! - [`Format::GcsBatch`]: a Cloud Storage batch operations manifest
//!   (`bucket,name,generation` with that header) for a delete-object job;
//!   the generation makes GCS delete only the generation that was checked.
//!
//! Rows come in the order [`super::apply`] deletes: every `_metadata` of a
//! directory candidate first, then the other files of each directory, then
//! file candidates. The batch services do not promise to keep that order.

use std::collections::HashSet;
use std::io::Write;

use futures_util::StreamExt;

use super::apply::{leave_alone, listed_version};
use super::revalidate::Validated;
use super::{Candidate, Error};
use crate::storage::{Location, Scheme, Storage};

/// A manifest format (`--emit-manifest FORMAT FILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// An S3 Batch Operations CSV manifest (`S3BatchOperations_CSV_20180820`).
    S3BatchTags,
    /// A Cloud Storage batch operations manifest (`bucket,name,generation`).
    GcsBatch,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 2] = [Format::S3BatchTags, Format::GcsBatch];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::S3BatchTags => "s3-batch-tags",
            Format::GcsBatch => "gcs-batch",
        }
    }

    /// The format named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Format::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The roots this format can describe, in words.
    fn accepted(self) -> &'static str {
        match self {
            Format::S3BatchTags => "s3://, s3a://, s3n://, s3p:// or oss://",
            Format::GcsBatch => "gs://",
        }
    }

    /// Whether files under `root` can be listed in this format.
    pub fn check_root(self, root: &Location) -> Result<(), ManifestError> {
        let ok = match self {
            Format::S3BatchTags => matches!(root.scheme(), Scheme::S3 | Scheme::Oss),
            Format::GcsBatch => root.scheme() == Scheme::Gcs,
        };
        if ok {
            return Ok(());
        }
        let shown = root.to_string();
        let scheme = match (root.scheme(), shown.split_once("://")) {
            (Scheme::Local, _) => "a local path (file://)".to_owned(),
            (_, Some((written, _))) => format!("a {written}:// location"),
            (s, None) => format!("a {}:// location", s.canonical()),
        };
        Err(ManifestError::Scheme {
            format: self.name(),
            root: root.to_string(),
            scheme,
            accepted: self.accepted(),
        })
    }
}

/// Why a manifest cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The root is not in a store the format is for.
    #[error(
        "--emit-manifest {format}: {root} is {scheme}; {format} manifests are only for {accepted} roots"
    )]
    Scheme {
        /// The format.
        format: &'static str,
        /// The checkpoints root.
        root: String,
        /// Its scheme, in words.
        scheme: String,
        /// The schemes the format takes.
        accepted: &'static str,
    },
    /// A file outside the root's bucket (cannot happen: candidates lie
    /// under the root; checked so that it never reaches a manifest).
    #[error("{file} is not in the bucket of the checkpoints root {root}; no manifest written")]
    OtherBucket {
        /// The file.
        file: String,
        /// The checkpoints root.
        root: String,
    },
    /// Listing or reading failed.
    #[error(transparent)]
    Cleanup(#[from] Error),
    /// Writing a row failed.
    #[error("writing the manifest")]
    Write(#[source] std::io::Error),
}

/// Writes manifest rows in one [`Format`] for files under one root.
#[derive(Debug)]
pub struct ManifestWriter<W: Write> {
    format: Format,
    root: Location,
    csv: csv::Writer<W>,
}

fn csv_err(e: csv::Error) -> ManifestError {
    ManifestError::Write(std::io::Error::other(e))
}

impl<W: Write> ManifestWriter<W> {
    /// A manifest of files under `root` (refused when the format is not
    /// for its store), its header written.
    pub fn new(format: Format, root: &Location, w: W) -> Result<Self, ManifestError> {
        format.check_root(root)?;
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(w);
        if format == Format::GcsBatch {
            csv.write_record(["bucket", "name", "generation"])
                .map_err(csv_err)?;
        }
        Ok(ManifestWriter {
            format,
            root: root.clone(),
            csv,
        })
    }

    /// One row: `file` and, for GCS, its generation (`version`).
    pub fn push(&mut self, file: &Location, version: Option<&str>) -> Result<(), ManifestError> {
        if file.scheme() != self.root.scheme() || file.authority() != self.root.authority() {
            return Err(ManifestError::OtherBucket {
                file: file.to_string(),
                root: self.root.to_string(),
            });
        }
        let bucket = file.authority();
        let r = match self.format {
            Format::S3BatchTags => {
                let key = crate::analysis::inventory::url_encode(file.key());
                self.csv.write_record([bucket, key.as_str()])
            }
            Format::GcsBatch => {
                self.csv
                    .write_record([bucket, file.key(), version.unwrap_or_default()])
            }
        };
        r.map_err(csv_err)
    }

    /// Flushes the rows; the writer back.
    pub fn finish(self) -> Result<W, ManifestError> {
        self.csv
            .into_inner()
            .map_err(|e| ManifestError::Write(e.into_error()))
    }
}

/// What [`expand`] found.
#[derive(Debug, Default, Clone)]
pub struct Expanded {
    /// Files in the manifest.
    pub files: u64,
    /// Their bytes, as listed.
    pub bytes: u64,
    /// Files of approved directories left out: (path, why).
    pub skipped: Vec<(String, String)>,
}

/// Hands every file of `v`'s approved candidates to `row` (its location,
/// size and version as listed now), in deletion order: the `_metadata`
/// files first, then each directory candidate listed again, its files
/// checked as [`super::apply`] checks them (special, referenced, written
/// after planning: left out, in [`Expanded::skipped`]), then file
/// candidates. A directory gone meanwhile has no rows; a listing that
/// fails stops with its error.
pub async fn expand(
    storage: &dyn Storage,
    v: &Validated,
    mut row: impl FnMut(&Location, u64, Option<&str>) -> Result<(), ManifestError>,
) -> Result<Expanded, ManifestError> {
    let mut out = Expanded::default();
    let mut emit = |out: &mut Expanded, l: &Location, bytes: u64, version: Option<&str>| {
        row(l, bytes, version)?;
        out.files += 1;
        out.bytes = out.bytes.saturating_add(bytes);
        Ok::<_, ManifestError>(())
    };
    // 1. Every `_metadata`: of directory candidates, and file candidates.
    for a in &v.approved {
        let c = &a.candidate;
        if c.is_dir {
            for m in &a.metadata {
                emit(&mut out, &m.location, m.size, m.version.as_deref())?;
            }
        } else if is_metadata(c) {
            emit(&mut out, &c.path, c.bytes, listed_version(a).as_deref())?;
        }
    }
    // 2. The other files of directory candidates, listed again.
    for a in v.approved.iter().filter(|a| a.candidate.is_dir) {
        let c = &a.candidate;
        let meta: HashSet<String> = a.metadata.iter().map(|m| m.location.canonical()).collect();
        let mut stream = storage.list(&c.path, true);
        while let Some(e) = stream.next().await {
            let e = match e {
                Ok(e) => e,
                Err(e) if e.is_not_found() => break,
                Err(e) => return Err(Error::from(e).into()),
            };
            if e.is_dir {
                continue;
            }
            let key = e.location.canonical();
            if meta.contains(&key) {
                continue;
            }
            if let Some(why) = leave_alone(&e, &key, c, &v.refs) {
                out.skipped.push((e.location.to_string(), why.to_owned()));
                continue;
            }
            emit(&mut out, &e.location, e.size, e.version.as_deref())?;
        }
    }
    // 3. File candidates.
    for a in &v.approved {
        let c = &a.candidate;
        if !c.is_dir && !is_metadata(c) {
            emit(&mut out, &c.path, c.bytes, listed_version(a).as_deref())?;
        }
    }
    Ok(out)
}

fn is_metadata(c: &Candidate) -> bool {
    c.path.file_name() == "_metadata"
}

#[cfg(test)]
mod tests {
    //! Rows of both formats, on hand-made locations.

    use super::*;

    fn rows(format: Format, root: &str, files: &[(&str, Option<&str>)]) -> String {
        let root = Location::parse(root).unwrap();
        let mut w = ManifestWriter::new(format, &root, Vec::new()).unwrap();
        for (f, v) in files {
            w.push(&Location::parse(f).unwrap(), *v).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn s3_rows_are_bucket_and_url_encoded_key_without_header() {
        let got = rows(
            Format::S3BatchTags,
            "s3a://b/ck",
            &[
                ("s3a://b/ck/j/shared/a b=c+d,e", Some("\"etag\"")),
                ("s3://b/ck/j/chk-1/_metadata", None),
            ],
        );
        assert_eq!(
            got,
            "b,ck/j/shared/a%20b%3Dc%2Bd%2Ce\nb,ck/j/chk-1/_metadata\n"
        );
    }

    #[test]
    fn gcs_rows_have_a_header_the_name_as_is_and_the_generation() {
        let got = rows(
            Format::GcsBatch,
            "gs://b/ck",
            &[
                ("gs://b/ck/j/shared/a b,c", Some("1700000000000001")),
                ("gs://b/ck/j/shared/x", None),
            ],
        );
        assert_eq!(
            got,
            "bucket,name,generation\nb,\"ck/j/shared/a b,c\",1700000000000001\nb,ck/j/shared/x,\n"
        );
    }

    #[test]
    fn other_stores_and_buckets_are_refused() {
        let e = Format::S3BatchTags
            .check_root(&Location::parse("gs://b/ck").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("gs://") && e.contains("s3-batch-tags"), "{e}");
        let e = Format::GcsBatch
            .check_root(&Location::parse("/tmp/ck").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("local path"), "{e}");
        let e = Format::GcsBatch
            .check_root(&Location::parse("hdfs://nn:8020/ck").unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("hdfs://"), "{e}");
        assert!(
            Format::S3BatchTags
                .check_root(&Location::parse("oss://b/ck").unwrap())
                .is_ok()
        );
        let root = Location::parse("s3://b/ck").unwrap();
        let mut w = ManifestWriter::new(Format::S3BatchTags, &root, Vec::new()).unwrap();
        assert!(matches!(
            w.push(&Location::parse("s3://other/ck/x").unwrap(), None),
            Err(ManifestError::OtherBucket { .. })
        ));
        assert_eq!(Format::parse("gcs-batch"), Some(Format::GcsBatch));
        assert_eq!(Format::parse("s3"), None);
    }
}

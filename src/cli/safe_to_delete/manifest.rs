//! `safe-to-delete --emit-manifest FORMAT FILE`: instead of deleting, the
//! files that pass the re-check go to a manifest for the store's own batch
//! service (S3 Batch Operations with a tag and a lifecycle rule, Cloud
//! Storage batch operations), written whole or not at all; the deletion
//! log records it. Nothing is deleted.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::super::context::Ctx;
use super::super::output::{self, BOLD, DIM};
use super::render::{DroppedReport, SkippedReport};
use crate::analysis::cleanup::PlanFile;
use crate::analysis::cleanup::apply::{LogEvent, LogRecord};
use crate::analysis::cleanup::manifest::{self, Format, ManifestWriter};
use crate::analysis::cleanup::revalidate::Validated;
use crate::journal;

/// The tag key an S3 batch job sets; the lifecycle rule expires objects
/// that carry it with the plan's value.
const TAG_KEY: &str = "flink-chk-delete";

/// What `--emit-manifest` asks for.
#[derive(Debug)]
pub(super) struct Emit {
    pub(super) format: Format,
    pub(super) file: PathBuf,
}

impl Emit {
    /// From the two values of `--emit-manifest`.
    pub(super) fn parse(values: &[String]) -> Result<Self> {
        let [format, file] = values else {
            bail!(
                "--emit-manifest takes a format and a file: --emit-manifest s3-batch-tags|gcs-batch FILE"
            );
        };
        let Some(f) = Format::parse(format) else {
            bail!(
                "--emit-manifest {format}: not a manifest format; one of {}",
                Format::ALL.map(Format::name).join(", ")
            );
        };
        Ok(Emit {
            format: f,
            file: PathBuf::from(file),
        })
    }

    /// The tag (`key=value`) an S3 batch job sets for this plan.
    fn tag(&self, plan: &PlanFile) -> Option<(String, String)> {
        (self.format == Format::S3BatchTags)
            .then(|| (TAG_KEY.to_owned(), plan.policy.planned_at.to_string()))
    }

    /// The manifest's absolute path.
    fn path(&self) -> PathBuf {
        std::path::absolute(&self.file).unwrap_or_else(|_| self.file.clone())
    }

    /// `FILE.SUFFIX`, beside the manifest (absolute).
    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut s = self.path().into_os_string();
        s.push(suffix);
        PathBuf::from(s)
    }
}

/// `manifest` in the JSON output. Fields in alphabetical order, as the
/// other reports have them.
#[derive(serde::Serialize)]
pub(super) struct ManifestReport<'a> {
    bytes: u64,
    /// Deletions by the batch service are checked against the generation
    /// listed (GCS), or not at all (S3 tags and lifecycle).
    conditional: bool,
    dropped: Vec<DroppedReport<'a>>,
    files: u64,
    format: Format,
    lifecycle: Option<PathBuf>,
    log: &'a Path,
    operation: Option<PathBuf>,
    path: PathBuf,
    skipped: Vec<SkippedReport<'a>>,
    snapshots_rechecked: usize,
    tag: Option<String>,
}

/// The S3 Batch Operations operation: replace every tag with the plan's.
fn operation_json(key: &str, value: &str) -> serde_json::Value {
    serde_json::json!({
        "S3PutObjectTagging": { "TagSet": [ { "Key": key, "Value": value } ] }
    })
}

/// A lifecycle configuration that expires objects with the plan's tag (on
/// versioned buckets the version made noncurrent too).
fn lifecycle_json(key: &str, value: &str) -> serde_json::Value {
    serde_json::json!({
        "Rules": [ {
            "ID": format!("{key}-{value}"),
            "Filter": { "Tag": { "Key": key, "Value": value } },
            "Status": "Enabled",
            "Expiration": { "Days": 1 },
            "NoncurrentVersionExpiration": { "NoncurrentDays": 1 }
        } ]
    })
}

fn write_json_file(path: &Path, v: &serde_json::Value) -> Result<()> {
    output::write_whole(path, |w| {
        serde_json::to_writer_pretty(&mut *w, v)?;
        writeln!(w)?;
        Ok(())
    })
}

/// Writes the manifest of what `v` approved (and for S3 the operation and
/// lifecycle files beside it), logs it, and reports. Deletes nothing.
pub(super) fn emit(
    e: &Emit,
    ctx: &Ctx,
    plan: &PlanFile,
    v: &Validated,
    log_path: &Path,
    json: bool,
) -> Result<()> {
    // Refused before anything is written (checked before planning too).
    e.format.check_root(&plan.root)?;
    let mut log = journal::Writer::open(log_path, "the deletion log")?;
    let tag = e.tag(plan);
    let (operation, lifecycle) = match &tag {
        Some((key, value)) => {
            let (op, lc) = (e.sibling(".operation.json"), e.sibling(".lifecycle.json"));
            write_json_file(&op, &operation_json(key, value))?;
            write_json_file(&lc, &lifecycle_json(key, value))?;
            (Some(op), Some(lc))
        }
        None => (None, None),
    };
    let pb = output::progress_bar(v.files(), "writing the manifest");
    let storage = ctx.storages.clone();
    let expanded = output::write_whole(&e.file, |w| {
        let mut m = ManifestWriter::new(e.format, &plan.root, w)?;
        let expanded = ctx.block_on(manifest::expand(storage.as_ref(), v, |l, _, version| {
            if let Some(pb) = &pb {
                pb.inc(1);
            }
            m.push(l, version)
        }))?;
        m.finish()?;
        Ok(expanded)
    })
    .with_context(|| format!("nothing written to {}", e.file.display()))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let path = e.path();
    let tag_text = tag.as_ref().map(|(k, v)| format!("{k}={v}"));
    log.append(&LogRecord::Manifest {
        bytes: expanded.bytes,
        event: LogEvent::Manifest,
        files: expanded.files,
        format: e.format.name().to_owned(),
        manifest: path.display().to_string(),
        planned_at: plan.policy.planned_at.to_string(),
        root: plan.root.clone(),
        scope: plan.scope.clone(),
        tag: tag_text.clone(),
        time: jiff::Timestamp::now().to_string(),
    })
    .with_context(|| format!("writing the deletion log {}", log_path.display()))?;
    output::warn(&freshness_note(e.format));
    let report = ManifestReport {
        bytes: expanded.bytes,
        conditional: e.format == Format::GcsBatch,
        dropped: v
            .dropped
            .iter()
            .map(|(c, w)| DroppedReport::of(c, w))
            .collect(),
        files: expanded.files,
        format: e.format,
        lifecycle,
        log: log_path,
        operation,
        path,
        skipped: expanded
            .skipped
            .iter()
            .map(|(path, why)| SkippedReport { path, why })
            .collect(),
        snapshots_rechecked: v.snapshots_read,
        tag: tag_text,
    };
    if json {
        super::render::print_json_manifest(plan, report)
    } else {
        human(&mut anstream::stdout(), plan, &report)
    }
}

/// What the re-check is worth by the time the batch service acts.
fn freshness_note(format: Format) -> String {
    match format {
        Format::S3BatchTags => "the tag-and-lifecycle route is not conditional: the batch job tags whatever object holds each key when it runs (no ETag or version check), and the rule expires what carries the tag at a daily lifecycle run, a day or more later. The re-check proved these files unreferenced now; run the job soon, and emit a new manifest rather than reuse an old one".to_owned(),
        Format::GcsBatch => "the batch job deletes only the generation listed for each file (an object rewritten since keeps its new one), but the re-check proved these files unreferenced now, not when the job runs: run it soon, and emit a new manifest rather than reuse an old one".to_owned(),
    }
}

/// The verdict, a table, and the commands that hand the manifest to the
/// store.
fn human(out: &mut impl Write, plan: &PlanFile, r: &ManifestReport<'_>) -> Result<()> {
    writeln!(
        out,
        "\n{BOLD}Manifest written, nothing deleted:{BOLD:#} {} file(s), {} for the store's batch service",
        r.files,
        output::bytes(r.bytes as i64)
    )?;
    let mut t = output::table(["FORMAT", "FILES", "BYTES", "LEFT OUT", "MANIFEST"]);
    t.add_row([
        r.format.name().to_owned(),
        r.files.to_string(),
        output::bytes(r.bytes as i64),
        format!(
            "{} candidate(s), {} file(s)",
            r.dropped.len(),
            r.skipped.len()
        ),
        output::printable(&r.path.display().to_string()).into_owned(),
    ]);
    output::write_table(out, &t)?;
    if let Some(s) = r.skipped.first() {
        writeln!(
            out,
            "  left out: {} file(s) of approved directories, e.g. {} ({})",
            r.skipped.len(),
            output::printable(s.path),
            s.why
        )?;
    }
    writeln!(out, "  log: {}", r.log.display())?;
    let bucket = plan.root.authority();
    let file = r.path.display();
    writeln!(
        out,
        "\n{BOLD}Next{BOLD:#} {DIM}(upload the manifest, then start the job; see the README){DIM:#}"
    )?;
    match (r.format, &r.tag, &r.operation, &r.lifecycle) {
        (Format::S3BatchTags, Some(tag), Some(op), Some(lc)) => {
            writeln!(out, "  tag: {tag}")?;
            writeln!(
                out,
                "  aws s3 cp {file} s3://{bucket}/flink-chk/manifest.csv   # note the ETag it prints with: aws s3api head-object"
            )?;
            writeln!(
                out,
                "  aws s3control create-job --account-id ACCOUNT --role-arn arn:aws:iam::ACCOUNT:role/ROLE --priority 10 --no-confirmation-required \\\n    --operation file://{} \\\n    --manifest '{{\"Spec\":{{\"Format\":\"S3BatchOperations_CSV_20180820\",\"Fields\":[\"Bucket\",\"Key\"]}},\"Location\":{{\"ObjectArn\":\"arn:aws:s3:::{bucket}/flink-chk/manifest.csv\",\"ETag\":\"ETAG\"}}}}' \\\n    --report '{{\"Enabled\":false}}'",
                op.display()
            )?;
            writeln!(
                out,
                "  aws s3api put-bucket-lifecycle-configuration --bucket {bucket} --lifecycle-configuration file://{}   # replaces the bucket's rules: merge in the existing ones first",
                lc.display()
            )?;
        }
        _ => {
            writeln!(
                out,
                "  gcloud storage cp {file} gs://{bucket}/flink-chk/manifest.csv"
            )?;
            writeln!(
                out,
                "  gcloud storage batch-operations jobs create JOB --bucket={bucket} --manifest-location=gs://{bucket}/flink-chk/manifest.csv --delete-object"
            )?;
        }
    }
    Ok(())
}

//! Which column of a report holds what: each kind names its columns
//! (candidates in order of preference, matched case-insensitively), and a
//! header row, an S3 `fileSchema` or a Parquet schema resolves them to
//! positions.

use super::Kind;

/// When a row is not a current file: its flag column is…
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    /// The value is `false` (S3 `IsLatest`, Azure `IsCurrentVersion`).
    False,
    /// The value is `true` (delete markers, soft-deleted blobs, folders).
    True,
    /// The value is not empty (GCS `timeDeleted`, Azure `Snapshot`).
    NonEmpty,
}

impl Skip {
    /// Whether a text value means the row is skipped.
    pub(super) fn text(self, v: &str) -> bool {
        match self {
            Skip::False => v.trim().eq_ignore_ascii_case("false"),
            Skip::True => v.trim().eq_ignore_ascii_case("true"),
            Skip::NonEmpty => !v.trim().is_empty(),
        }
    }

    /// Whether a boolean value means the row is skipped.
    pub(super) fn boolean(self, v: bool) -> bool {
        match self {
            Skip::False => !v,
            Skip::True | Skip::NonEmpty => v,
        }
    }
}

/// The columns a kind reads, by name.
#[derive(Debug)]
pub(super) struct Wanted {
    path: &'static [&'static str],
    size: &'static [&'static str],
    modified: &'static [&'static str],
    /// GCS: rows name their bucket.
    bucket: &'static [&'static str],
    skips: &'static [(&'static str, Skip)],
    /// What to tell a user whose report lacks a column.
    hint: &'static str,
}

/// S3 Inventory CSV (`fileSchema` names, no header).
pub(super) const S3_CSV: Wanted = Wanted {
    path: &["Key"],
    size: &["Size"],
    modified: &["LastModifiedDate"],
    bucket: &[],
    skips: &[("IsLatest", Skip::False), ("IsDeleteMarker", Skip::True)],
    hint: "flink-chk needs Key, Size and LastModifiedDate: add the optional fields Size and LastModifiedDate to the inventory configuration",
};

/// S3 Inventory Parquet (lower snake case, as the Parquet `fileSchema`).
pub(super) const S3_PARQUET: Wanted = Wanted {
    path: &["key"],
    size: &["size"],
    modified: &["last_modified_date"],
    bucket: &[],
    skips: &[("is_latest", Skip::False), ("is_delete_marker", Skip::True)],
    hint: "flink-chk needs key, size and last_modified_date: add the optional fields Size and LastModifiedDate to the inventory configuration",
};

/// `hdfs oiv -p Delimited` (header row).
pub(super) const OIV: Wanted = Wanted {
    path: &["Path"],
    size: &["FileSize"],
    modified: &["ModificationTime"],
    bucket: &[],
    skips: &[],
    hint: "an oiv Delimited dump has Path, ModificationTime and FileSize",
};

/// The generic CSV and Parquet (`path,size,last_modified`).
pub(super) const GENERIC: Wanted = Wanted {
    path: &["path"],
    size: &["size"],
    modified: &["last_modified"],
    bucket: &[],
    skips: &[],
    hint: "the columns are path, size and last_modified",
};

/// GCS Storage Insights inventory reports (CSV with a header, or Parquet).
pub(super) const GCS: Wanted = Wanted {
    path: &["name"],
    size: &["size"],
    modified: &["updated", "timeCreated"],
    bucket: &["bucket"],
    skips: &[("timeDeleted", Skip::NonEmpty)],
    hint: "flink-chk needs the metadata fields bucket, name, size and updated (or timeCreated) in the report configuration",
};

/// Azure blob inventory (CSV with a schema row, or Parquet).
pub(super) const AZURE: Wanted = Wanted {
    path: &["Name"],
    size: &["Content-Length"],
    modified: &["Last-Modified", "Creation-Time"],
    bucket: &[],
    skips: &[
        ("IsCurrentVersion", Skip::False),
        ("Deleted", Skip::True),
        ("hdi_isfolder", Skip::True),
        ("Snapshot", Skip::NonEmpty),
    ],
    hint: "flink-chk needs the schema fields Name, Content-Length and Last-Modified in the inventory rule",
};

/// Which column holds what.
#[derive(Debug, Clone)]
pub struct Columns {
    pub(super) kind: Kind,
    pub(super) wanted: &'static Wanted,
    pub(super) names: Vec<String>,
    pub(super) path: usize,
    pub(super) size: usize,
    pub(super) modified: usize,
    pub(super) bucket: Option<usize>,
    pub(super) skips: Vec<(usize, Skip)>,
    /// oiv: `d` prefix for directories.
    pub(super) permission: Option<usize>,
    /// oiv: 0 for directories and symbolic links.
    pub(super) block_size: Option<usize>,
    pub(super) delimiter: u8,
    /// Text: the first row names the columns (resolved again from each
    /// data file's own header).
    pub(super) header: bool,
}

fn find(names: &[String], want: &[&str]) -> Option<usize> {
    want.iter()
        .find_map(|w| names.iter().position(|n| n.eq_ignore_ascii_case(w)))
}

impl Columns {
    /// Resolves `wanted` against the column `names` of a report.
    pub(super) fn resolve(
        kind: Kind,
        wanted: &'static Wanted,
        names: Vec<String>,
    ) -> Result<Columns, String> {
        let need = |w: &[&str]| {
            find(&names, w).ok_or_else(|| {
                format!(
                    "no {} column (the columns are {}); {}",
                    w.join(" or "),
                    names.join(","),
                    wanted.hint
                )
            })
        };
        let bucket = if wanted.bucket.is_empty() {
            None
        } else {
            Some(need(wanted.bucket)?)
        };
        Ok(Columns {
            kind,
            wanted,
            path: need(wanted.path)?,
            size: need(wanted.size)?,
            modified: need(wanted.modified)?,
            bucket,
            skips: wanted
                .skips
                .iter()
                .filter_map(|(n, s)| Some((find(&names, &[n])?, *s)))
                .collect(),
            permission: (kind == Kind::HdfsOiv)
                .then(|| find(&names, &["Permission"]))
                .flatten(),
            block_size: (kind == Kind::HdfsOiv)
                .then(|| find(&names, &["PreferredBlockSize"]))
                .flatten(),
            delimiter: b',',
            header: true,
            names,
        })
    }

    /// The same wants resolved against another file's columns.
    pub(super) fn again(&self, names: Vec<String>) -> Result<Columns, String> {
        let mut c = Columns::resolve(self.kind, self.wanted, names)?;
        c.delimiter = self.delimiter;
        c.header = self.header;
        Ok(c)
    }

    /// S3 Inventory CSV columns, in `fileSchema` order (no header row).
    pub(super) fn s3(schema: &str) -> Result<Columns, String> {
        let names: Vec<String> = schema.split(',').map(|s| s.trim().to_owned()).collect();
        let mut c = Columns::resolve(Kind::S3, &S3_CSV, names)
            .map_err(|e| format!("{e} (fileSchema is {schema:?})"))?;
        c.header = false;
        Ok(c)
    }

    /// S3 Inventory Parquet columns: the fields a Parquet `fileSchema`
    /// (`message s3.inventory { required binary key (STRING); … }`) names;
    /// each data file's own schema places them.
    pub(super) fn s3_parquet(schema: &str) -> Result<Columns, String> {
        let names: Vec<String> = schema
            .split(';')
            .filter_map(|field| {
                let field = field.split('(').next()?;
                let name = field.split_whitespace().last()?;
                let name = name.rsplit('{').next()?;
                (!name.is_empty() && name != "}").then(|| name.to_owned())
            })
            .collect();
        Columns::resolve(Kind::S3, &S3_PARQUET, names)
            .map_err(|e| format!("{e} (fileSchema is {schema:?})"))
    }

    /// The generic Parquet file's columns (each file's schema places them).
    pub(super) fn generic_parquet() -> Result<Columns, String> {
        let names = GENERIC
            .path
            .iter()
            .chain(GENERIC.size)
            .chain(GENERIC.modified);
        let names = names.map(|s| (*s).to_owned()).collect();
        Columns::resolve(Kind::Parquet, &GENERIC, names)
    }

    /// A manifest's columns before a data file places them: `wanted`'s
    /// first names.
    pub(super) fn named(kind: Kind, wanted: &'static Wanted) -> Result<Columns, String> {
        let names = [wanted.path, wanted.size, wanted.modified, wanted.bucket]
            .iter()
            .filter_map(|w| w.first())
            .map(|s| (*s).to_owned())
            .collect();
        Columns::resolve(kind, wanted, names)
    }

    /// The name of column `i` (for messages).
    pub(super) fn name(&self, i: usize) -> String {
        self.names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("#{i}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_schemas() {
        let c = Columns::s3("Bucket, Key, Size, LastModifiedDate, ETag").unwrap();
        assert_eq!((c.path, c.size, c.modified), (1, 2, 3));
        assert!(
            Columns::s3("Bucket, Key, Size")
                .unwrap_err()
                .contains("LastModifiedDate")
        );
        // The schema of AWS's example manifest (S3 User Guide, "Amazon S3
        // Inventory", Parquet manifest).
        let c = Columns::s3_parquet("message s3.inventory { required binary bucket (UTF8); required binary key (UTF8); optional binary version_id (UTF8); optional boolean is_latest; optional boolean is_delete_marker;  optional int64 size;  optional int64 last_modified_date (TIMESTAMP_MILLIS);  optional binary e_tag (UTF8);}").unwrap();
        assert_eq!(
            c.names,
            [
                "bucket",
                "key",
                "version_id",
                "is_latest",
                "is_delete_marker",
                "size",
                "last_modified_date",
                "e_tag"
            ]
        );
        assert_eq!(c.skips, [(3, Skip::False), (4, Skip::True)]);
        let e = Columns::s3_parquet(
            "message s3.inventory { required binary bucket (STRING); required binary key (STRING);}",
        )
        .unwrap_err();
        assert!(e.contains("no size column"), "{e}");
    }

    #[test]
    fn alternatives_and_skips() {
        let names = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        let c = Columns::resolve(
            Kind::Gcs,
            &GCS,
            names("project,bucket,name,size,timeCreated,timeDeleted"),
        )
        .unwrap();
        assert_eq!((c.bucket, c.path, c.modified), (Some(1), 2, 4));
        assert_eq!(c.skips, [(5, Skip::NonEmpty)]);
        let c = Columns::resolve(
            Kind::Azure,
            &AZURE,
            names("Name,Creation-Time,Last-Modified,Content-Length,hdi_isfolder"),
        )
        .unwrap();
        assert_eq!((c.path, c.size, c.modified), (0, 3, 2));
        assert_eq!(c.skips, [(4, Skip::True)]);
        assert!(Skip::NonEmpty.text(" x") && !Skip::NonEmpty.text(""));
        assert!(Skip::False.boolean(false) && !Skip::True.boolean(false));
    }
}

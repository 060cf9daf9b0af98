//! The anti-join "inventory minus references" as a SQL script for an engine
//! (Flink batch SQL, Spark SQL, Trino): DDL for the inventory report's data
//! files and for an export, the layout rules of the planner
//! ([`crate::analysis::cleanup`]'s classify pass, file by file, as from an
//! inventory) and the output `path,size,last_modified`, the generic
//! inventory CSV, sorted, with its header.
//!
//! The script is a pre-filter: it cannot read `_metadata` files, so it
//! trusts the export for what is referenced and kept, and leaves out what
//! it cannot decide (a time in a form it does not parse, a symbolic link).
//! Every row it outputs is checked again live by flink-chk before anything
//! is deleted.
//!
//! Times are compared as fixed-width UTC strings
//! (`yyyy-MM-ddTHH:mm:ss.fffffffffZ`), so no engine time zone or timestamp
//! precision is involved; only CSV rows in epoch milliseconds go through a
//! date function (with the session time zone set to UTC).

use std::fmt::Write as _;

use crate::analysis::inventory;
use crate::analysis::snapshot::Rebase;
use crate::storage::{Location, Scheme};

pub use super::describe::{ColType, Report};
use super::{Error, Format};

/// Which engine's dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Apache Flink batch SQL (SQL client or `TableEnvironment`).
    Flink,
    /// Spark SQL.
    Spark,
    /// Trino with a Hive catalog.
    Trino,
}

impl Engine {
    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Flink => "flink",
            Engine::Spark => "spark",
            Engine::Trino => "trino",
        }
    }

    fn ident(self, name: &str) -> String {
        match self {
            Engine::Trino => format!("\"{}\"", name.replace('"', "\"\"")),
            _ => format!("`{}`", name.replace('`', "``")),
        }
    }

    fn lit(self, s: &str) -> String {
        let s = s.replace('\'', "''");
        // Spark's string literals take backslash escapes.
        let s = if self == Engine::Spark {
            s.replace('\\', "\\\\")
        } else {
            s
        };
        format!("'{s}'")
    }

    fn matches(self, e: &str, pattern: &str) -> String {
        let p = self.lit(pattern);
        match self {
            Engine::Flink => format!("REGEXP({e}, {p})"),
            Engine::Spark => format!("({e} RLIKE {p})"),
            Engine::Trino => format!("regexp_like({e}, {p})"),
        }
    }

    fn extract(self, e: &str, pattern: &str, group: u32) -> String {
        // Spark answers '' where the others answer NULL.
        format!(
            "NULLIF(REGEXP_EXTRACT({e}, {}, {group}), '')",
            self.lit(pattern)
        )
    }

    fn len(self, e: &str) -> String {
        match self {
            Engine::Trino => format!("length({e})"),
            _ => format!("CHAR_LENGTH({e})"),
        }
    }

    fn url_decode(self, e: &str) -> String {
        match self {
            Engine::Flink => format!("URL_DECODE({e})"),
            _ => format!("url_decode({e})"),
        }
    }

    /// Epoch milliseconds (a string of digits) as `yyyy-MM-ddTHH:mm:ss.SSS` in UTC.
    fn millis_to_text(self, e: &str) -> String {
        match self {
            Engine::Flink => format!(
                "DATE_FORMAT(TO_TIMESTAMP_LTZ(CAST({e} AS BIGINT), 3), 'yyyy-MM-dd''T''HH:mm:ss.SSS')"
            ),
            Engine::Spark => format!(
                "date_format(timestamp_millis(CAST({e} AS BIGINT)), \"yyyy-MM-dd'T'HH:mm:ss.SSS\")"
            ),
            Engine::Trino => format!(
                "format_datetime(from_unixtime(CAST({e} AS BIGINT) / 1000e0, 'UTC'), 'yyyy-MM-dd''T''HH:mm:ss.SSS')"
            ),
        }
    }

    /// A timestamp (session time zone UTC) as `yyyy-MM-ddTHH:mm:ss.SSSSSS`.
    fn micros_text(self, e: &str) -> String {
        match self {
            Engine::Flink => {
                format!("DATE_FORMAT({e}, 'yyyy-MM-dd''T''HH:mm:ss.SSSSSS')")
            }
            Engine::Spark => format!("date_format({e}, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSS\")"),
            Engine::Trino => format!(
                "format_datetime(CAST({e} AS timestamp(6) with time zone) AT TIME ZONE 'UTC', 'yyyy-MM-dd''T''HH:mm:ss.SSSSSS')"
            ),
        }
    }

    /// A location as the engine's file systems name it.
    pub fn uri(self, l: &Location) -> String {
        match (self, l.scheme()) {
            (_, Scheme::Local) => format!("file://{}", l.path()),
            // Hadoop's S3A is what open-source Spark reads S3 with.
            (Engine::Spark, Scheme::S3) => format!("s3a://{}{}", l.authority(), l.path()),
            (_, s) => format!("{}://{}{}", s.canonical(), l.authority(), l.path()),
        }
    }
}

/// Everything the script is made of.
#[derive(Debug, Clone)]
pub struct Script<'a> {
    /// The dialect.
    pub engine: Engine,
    /// The checkpoints root (canonical form is what paths are compared in).
    pub root: &'a Location,
    /// Where candidates may be (the root or one job directory).
    pub scope: &'a Location,
    /// The inventory report.
    pub report: &'a Report,
    /// The reference export, as the engine reads it.
    pub refs: &'a Location,
    /// Its form.
    pub refs_format: Format,
    /// Where the engine writes the candidates (a directory).
    pub out: &'a Location,
    /// Files modified after this are kept (inventory time − min-age).
    pub cutoff: jiff::Timestamp,
    /// Per job directory name: its newest completed checkpoint's
    /// `_metadata` time (shared files written after it are kept unless
    /// `stopped`).
    pub jobs: &'a [(String, jiff::Timestamp)],
    /// Job directory names given by `--drop-job`.
    pub dropped: &'a [String],
    /// `--stopped`.
    pub stopped: bool,
    /// `--rebase` rules (rows of another store are mapped by them).
    pub rebase: &'a Rebase,
    /// Lines for the header comment (the command and policy).
    pub about: &'a [String],
}

/// `yyyy-MM-ddTHH:mm:ss.fffffffffZ` in UTC: the form every time is
/// compared in.
pub fn time_key(t: jiff::Timestamp) -> String {
    let z = t.to_zoned(jiff::tz::TimeZone::UTC);
    format!(
        "{}.{:09}Z",
        z.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_nanosecond().max(0)
    )
}

/// A canonical directory key (ends with `/`).
fn dir_key(l: &Location) -> String {
    let mut s = l.canonical();
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// The canonical prefix of `l`'s store (`s3://bucket`, `hdfs://nn:8020`,
/// empty for local paths).
fn store_prefix(l: &Location) -> String {
    let c = l.canonical();
    c[..c.len() - l.path().len()].to_owned()
}

const RFC3339_MS_Z: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$";
const RFC3339_UTC: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+]00:00)$";
const OIV_MINUTE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$";

impl Script<'_> {
    /// The whole script.
    pub fn render(&self) -> Result<String, Error> {
        let e = self.engine;
        let r = self.report;
        if r.is_parquet() && e != Engine::Spark {
            return Err(Error::Report(format!(
                "{}: a {} in Parquet: --emit-sql writes Parquet reports for spark only so far ({}); use --emit-sql spark, or plan with safe-to-delete --inventory",
                r.source,
                r.kind.label(),
                if e == Engine::Flink {
                    "Flink reads Parquet only with the flink-sql-parquet jar, and that script is untested"
                } else {
                    "the Trino script is untested on Parquet"
                }
            )));
        }
        let mut s = String::new();
        self.header(&mut s);
        match e {
            Engine::Spark if r.is_parquet() => s.push_str(
                "SET spark.sql.session.timeZone = UTC;\n\
                 -- Keys written as plain BYTE_ARRAY (no UTF8 annotation) are strings too.\n\
                 SET spark.sql.parquet.binaryAsString = true;\n\n",
            ),
            Engine::Flink => {
                s.push_str("SET 'execution.runtime-mode' = 'batch';\n");
                s.push_str("SET 'table.local-time-zone' = 'UTC';\n\n");
            }
            Engine::Spark => s.push_str("SET spark.sql.session.timeZone = UTC;\n\n"),
            Engine::Trino => s.push_str(
                "-- Tables are created in the catalog `hive`, schema `flink_chk` (CREATE SCHEMA hive.flink_chk first);\n\
                 -- rename both throughout if yours differ.\n\n",
            ),
        }
        self.inventory_ddl(&mut s)?;
        self.refs_ddl(&mut s);
        self.jobs_view(&mut s);
        self.files_view(&mut s)?;
        self.layout_view(&mut s);
        self.candidates(&mut s);
        Ok(s)
    }

    fn table(&self, name: &str) -> String {
        match self.engine {
            Engine::Trino => format!("hive.flink_chk.{name}"),
            _ => name.to_owned(),
        }
    }

    fn header(&self, s: &mut String) {
        let r = self.report;
        let _ = writeln!(
            s,
            "-- flink-chk {}: files under {} that no kept snapshot needs, as {} SQL.",
            env!("CARGO_PKG_VERSION"),
            dir_key(self.scope),
            self.engine.name()
        );
        for a in self.about {
            let _ = writeln!(s, "-- {a}");
        }
        let _ = writeln!(
            s,
            "-- Inventory: {} ({}), taken {}; {} data file(s).",
            r.source,
            r.kind.label(),
            r.time,
            r.files.len()
        );
        let _ = writeln!(
            s,
            "-- Cutoff: files modified after {} (inventory time − min-age) are kept.",
            self.cutoff
        );
        s.push_str(
            "--\n\
             -- THIS IS A PRE-FILTER. It deletes nothing. Its output (CSV: path,size,last_modified)\n\
             -- lists files that look unreferenced in the inventory; flink-chk checks every row\n\
             -- again live before deleting any (safe-to-delete --apply-candidates FILE): kept\n\
             -- snapshots re-read, files re-listed, anything new or changed dropped.\n\
             -- Paths are compared in flink-chk's canonical form (s3a:// and s3n:// are s3://,\n\
             -- file:///p is /p); the reference export holds them so.\n\n",
        );
    }

    fn inventory_ddl(&self, s: &mut String) -> Result<(), Error> {
        let e = self.engine;
        let r = self.report;
        let cols: Vec<String> = r
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let ty = if e == Engine::Trino {
                    "varchar"
                } else {
                    "STRING"
                };
                format!("  {} {ty}", e.ident(&column_name(i, c)))
            })
            .collect();
        let files: Vec<String> = r.files.iter().map(|f| e.uri(f)).collect();
        let dir = common_dir(&r.files);
        let dir_uri = format!("{}/", e.uri(&dir).trim_end_matches('/'));
        let header = r.kind != inventory::Kind::S3;
        let oiv = r.kind == inventory::Kind::HdfsOiv;
        // Neither Hadoop's nor Flink's `Path` can name a listed file whose
        // name has a `:` (GCS shards carry their snapshot time,
        // `…_2026-11-02T00:00_0.csv`): Flink and Spark then read each file
        // by its own path, one table or view each, unioned.
        let per_file = e != Engine::Trino
            && files.len() > 1
            && r.files.iter().any(|f| f.file_name().contains(':'));
        let paths_read: Vec<String> = if per_file {
            files.clone()
        } else if files.len() == 1 {
            vec![files[0].clone()]
        } else {
            let names: Vec<&str> = files
                .iter()
                .map(|f| f.strip_prefix(&dir_uri).unwrap_or(f))
                .collect();
            vec![format!("{dir_uri}{{{}}}", names.join(","))]
        };
        let table_name = |i: usize| {
            if paths_read.len() == 1 {
                "inventory_rows".to_owned()
            } else {
                format!("inventory_rows_{i}")
            }
        };
        let union_view = |s: &mut String| {
            if paths_read.len() > 1 {
                let parts: Vec<String> = (0..paths_read.len())
                    .map(|i| format!("SELECT * FROM {}", table_name(i)))
                    .collect();
                let _ = writeln!(
                    s,
                    "CREATE TEMPORARY VIEW inventory_rows AS\n{};",
                    parts.join("\nUNION ALL\n")
                );
            }
        };
        if r.is_parquet() {
            // Spark only (render refuses the others): the files' own schema.
            let _ = writeln!(
                s,
                "-- The inventory's rows, as the Parquet files name and type them ({}).",
                r.kind.label()
            );
            for (i, path) in paths_read.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "CREATE TEMPORARY VIEW {} USING parquet OPTIONS (",
                    table_name(i)
                );
                write_spark_options(s, &[("path", e.lit(path))]);
            }
            union_view(s);
            s.push('\n');
            return Ok(());
        }
        // GCS reports may name another delimiter.
        let other_delimiter = !oiv && r.delimiter != ',';
        let _ = writeln!(
            s,
            "-- The inventory's rows, every field as text ({}).",
            r.kind.label()
        );
        match e {
            Engine::Flink => {
                let tables: Vec<Vec<(&str, String)>> = if per_file {
                    files.iter().map(|f| vec![("path", e.lit(f))]).collect()
                } else if files.len() == 1 {
                    vec![vec![("path", e.lit(&files[0]))]]
                } else {
                    // Only this report's data files (data/ holds every run's),
                    // by path: Flink matches `file:/p` for `file:///p`.
                    let alternatives: Vec<String> =
                        r.files.iter().map(|f| regex_escape(f.path())).collect();
                    vec![vec![
                        ("path", e.lit(&dir_uri)),
                        (
                            "source.path.regex-pattern",
                            e.lit(&format!(".*({})", alternatives.join("|"))),
                        ),
                    ]]
                };
                for (i, paths) in tables.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "CREATE TEMPORARY TABLE {} (\n{}\n) WITH (",
                        table_name(i),
                        cols.join(",\n")
                    );
                    let mut opts = vec![("connector", e.lit("filesystem"))];
                    opts.extend(paths.iter().cloned());
                    opts.push(("format", e.lit("csv")));
                    if oiv || other_delimiter {
                        opts.push(("csv.field-delimiter", delimiter_literal(e, r.delimiter)));
                    }
                    if oiv {
                        opts.push(("csv.disable-quote-character", e.lit("true")));
                    }
                    // Header lines are rows here; no path under the root is named "path".
                    let _ = header;
                    write_options(s, &opts);
                }
                union_view(s);
            }
            Engine::Spark => {
                for (i, path) in paths_read.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "CREATE TEMPORARY VIEW {} (\n{}\n) USING csv OPTIONS (",
                        table_name(i),
                        cols.join(",\n")
                    );
                    let mut opts = vec![
                        ("path", e.lit(path)),
                        ("header", e.lit(if header { "true" } else { "false" })),
                        ("mode", e.lit("FAILFAST")),
                    ];
                    if oiv || other_delimiter {
                        opts.push(("sep", delimiter_literal(e, r.delimiter)));
                    }
                    if oiv {
                        opts.push(("quote", e.lit("\u{0}")));
                    } else {
                        // RFC 4180: a quote inside a quoted field is doubled
                        // (Spark's default escape is a backslash).
                        opts.push(("escape", e.lit("\"")));
                    }
                    write_spark_options(s, &opts);
                }
                union_view(s);
            }
            Engine::Trino => {
                let _ = writeln!(
                    s,
                    "CREATE TABLE {} (\n{}\n) WITH (",
                    self.table("inventory_rows"),
                    cols.join(",\n")
                );
                let mut opts = vec![("external_location", e.lit(&dir_uri))];
                if oiv {
                    opts.push(("format", e.lit("TEXTFILE")));
                    opts.push((
                        "textfile_field_separator",
                        delimiter_literal(e, r.delimiter),
                    ));
                } else {
                    opts.push(("format", e.lit("CSV")));
                    if other_delimiter {
                        opts.push(("csv_separator", delimiter_literal(e, r.delimiter)));
                    }
                }
                if header {
                    opts.push(("skip_header_line_count", "1".to_owned()));
                }
                write_trino_options(s, &opts);
            }
        }
        s.push('\n');
        Ok(())
    }

    fn refs_ddl(&self, s: &mut String) {
        let e = self.engine;
        let uri = e.uri(self.refs);
        let _ = writeln!(
            s,
            "-- The reference export (flink-chk refs export): kind 'ref' = a file a kept snapshot\n\
             -- references, kind 'kept_dir' = a kept snapshot directory (everything under it stays)."
        );
        let cols = match e {
            Engine::Trino => "  kind varchar,\n  path varchar,\n  snapshot varchar",
            _ => "  kind STRING,\n  path STRING,\n  snapshot STRING",
        };
        let parquet = self.refs_format == Format::Parquet;
        match e {
            Engine::Flink => {
                let _ = writeln!(s, "CREATE TEMPORARY TABLE refs (\n{cols}\n) WITH (");
                let mut opts = vec![("connector", e.lit("filesystem")), ("path", e.lit(&uri))];
                // The CSV header is a row of kind 'kind': matched by nothing.
                opts.push(("format", e.lit(if parquet { "parquet" } else { "csv" })));
                write_options(s, &opts);
            }
            Engine::Spark => {
                let _ = writeln!(
                    s,
                    "CREATE TEMPORARY VIEW refs (\n{cols}\n) USING {} OPTIONS (",
                    if parquet { "parquet" } else { "csv" }
                );
                let mut opts = vec![("path", e.lit(&uri))];
                if !parquet {
                    opts.push(("header", e.lit("true")));
                    opts.push(("escape", e.lit("\"")));
                }
                write_spark_options(s, &opts);
            }
            Engine::Trino => {
                let dir = self.refs.parent();
                let _ = writeln!(
                    s,
                    "-- Trino reads a table from a directory: keep the export alone in {}.",
                    e.uri(&dir)
                );
                let _ = writeln!(s, "CREATE TABLE {} (\n{cols}\n) WITH (", self.table("refs"));
                let mut opts = vec![("external_location", e.lit(&e.uri(&dir)))];
                if parquet {
                    opts.push(("format", e.lit("PARQUET")));
                } else {
                    opts.push(("format", e.lit("CSV")));
                    opts.push(("skip_header_line_count", "1".to_owned()));
                }
                write_trino_options(s, &opts);
            }
        }
        s.push('\n');
    }

    fn view(&self, name: &str) -> String {
        match self.engine {
            Engine::Trino => format!("CREATE VIEW {} AS", self.table(name)),
            _ => format!("CREATE TEMPORARY VIEW {name} AS"),
        }
    }

    fn jobs_view(&self, s: &mut String) {
        let e = self.engine;
        let _ = writeln!(
            s,
            "-- Per job: the time of its newest completed checkpoint's _metadata. Unless the jobs are\n\
             -- stated stopped, shared/ files written after it may belong to a checkpoint in progress."
        );
        let _ = writeln!(s, "{}", self.view("jobs"));
        if self.jobs.is_empty() {
            let _ = writeln!(
                s,
                "SELECT job, newest FROM (VALUES ('', '')) AS t(job, newest) WHERE 1 = 0;\n"
            );
            return;
        }
        let rows: Vec<String> = self
            .jobs
            .iter()
            .map(|(j, t)| format!("  ({}, {})", e.lit(j), e.lit(&time_key(*t))))
            .collect();
        let _ = writeln!(
            s,
            "SELECT job, newest FROM (VALUES\n{}\n) AS t(job, newest);\n",
            rows.join(",\n")
        );
    }

    /// Rows as files: canonical path, size, time (output form and
    /// comparison key).
    fn files_view(&self, s: &mut String) -> Result<(), Error> {
        let e = self.engine;
        let r = self.report;
        let f = match r.kind {
            inventory::Kind::S3 => self.s3_files()?,
            inventory::Kind::Gcs => self.gcs_files()?,
            inventory::Kind::Azure => self.azure_files()?,
            inventory::Kind::HdfsOiv => self.oiv_files()?,
            inventory::Kind::Csv | inventory::Kind::Parquet => self.generic_files()?,
        };
        let mut filters = f.filters;
        if e == Engine::Trino {
            if r.files.len() > 1 {
                let list: Vec<String> = r.files.iter().map(|f| e.lit(&e.uri(f))).collect();
                filters.push(format!("\"$path\" IN ({})", list.join(", ")));
            } else {
                filters.push(format!("\"$path\" = {}", e.lit(&e.uri(&r.files[0]))));
            }
        }
        let _ = writeln!(
            s,
            "-- Files as flink-chk names them (canonical), with their size and time; the time also as\n\
             -- a fixed-width UTC key (NULL when not in a form this script reads: never a candidate)."
        );
        let _ = writeln!(s, "{}", self.view("inventory_files"));
        let _ = writeln!(
            s,
            "SELECT\n  {} AS path,\n  {} AS size,\n  {} AS last_modified,\n  {} AS ts\nFROM {}{};\n",
            f.path,
            f.size,
            f.out_time,
            f.key,
            self.table("inventory_rows"),
            if filters.is_empty() {
                String::new()
            } else {
                format!("\nWHERE {}", filters.join("\n  AND "))
            }
        );
        Ok(())
    }

    /// Column `i` as the inventory table names it (Parquet: the file's
    /// name; text: the declared one).
    fn cref(&self, i: usize) -> String {
        let r = self.report;
        if r.is_parquet() {
            self.engine.ident(&r.columns[i])
        } else {
            self.engine.ident(&column_name(i, &r.columns[i]))
        }
    }

    /// The first of `want` the report has, and its type.
    fn find(&self, want: &[&str]) -> Result<(String, ColType), Error> {
        let i = self.report.column_any(want)?;
        Ok((self.cref(i), self.report.type_of(i)))
    }

    fn size(&self, (c, t): &(String, ColType)) -> Result<String, Error> {
        let text = if self.engine == Engine::Trino {
            "varchar"
        } else {
            "STRING"
        };
        match t {
            ColType::Text => Ok(format!("TRIM({c})")),
            ColType::Integer => Ok(format!("CAST({c} AS {text})")),
            t => Err(Error::Report(format!(
                "{}: the size column {c} is {t:?}, not a number",
                self.report.source
            ))),
        }
    }

    /// A time column: its output form and its comparison key.
    fn time(&self, (c, t): &(String, ColType), rule: TextTime) -> Result<(String, String), Error> {
        let e = self.engine;
        Ok(match t {
            ColType::Text => {
                let lm = format!("TRIM({c})");
                let key = match rule {
                    TextTime::S3 => format!(
                        "CASE WHEN {} THEN SUBSTR({lm}, 1, 23) || '000000Z' END",
                        e.matches(&lm, RFC3339_MS_Z)
                    ),
                    TextTime::Oiv => format!(
                        "CASE WHEN {} THEN REPLACE({lm}, ' ', 'T') || ':59.999000000Z' END",
                        e.matches(&lm, OIV_MINUTE)
                    ),
                    TextTime::Rfc3339 | TextTime::MillisOrRfc3339 => {
                        let rfc = format!(
                            "WHEN {} THEN SUBSTR({lm}, 1, 19) || '.' || RPAD(COALESCE({}, ''), 9, '0') || 'Z'",
                            e.matches(&lm, RFC3339_UTC),
                            e.extract(&lm, "[.]([0-9]+)", 1),
                        );
                        if rule == TextTime::MillisOrRfc3339 {
                            format!(
                                "CASE WHEN {} THEN {} || '000000Z' {rfc} END",
                                e.matches(&lm, "^[0-9]{1,15}$"),
                                e.millis_to_text(&lm),
                            )
                        } else {
                            format!("CASE {rfc} END")
                        }
                    }
                };
                let out = if rule == TextTime::Oiv {
                    format!("REPLACE({lm}, ' ', 'T') || ':59.999Z'")
                } else {
                    lm
                };
                (out, key)
            }
            // A plain INT64 time is epoch milliseconds (as flink-chk reads it).
            ColType::Integer => {
                let t = e.millis_to_text(c);
                (format!("{t} || 'Z'"), format!("{t} || '000000Z'"))
            }
            ColType::Timestamp => {
                let t = e.micros_text(c);
                (format!("{t} || 'Z'"), format!("{t} || '000Z'"))
            }
            t => {
                return Err(Error::Report(format!(
                    "{}: the time column {c} is {t:?}, which {} SQL does not read as a time; plan with safe-to-delete --inventory instead",
                    self.report.source,
                    e.name()
                )));
            }
        })
    }

    /// The condition that keeps a row by flag column `want` (absent: none).
    fn keep_unless(&self, want: &str, flag: Flag) -> Option<String> {
        let (c, t) = self.find(&[want]).ok()?;
        Some(match (t, flag) {
            (ColType::Text, Flag::False) => format!("COALESCE(LOWER(TRIM({c})), '') <> 'false'"),
            (ColType::Text, Flag::True) => format!("COALESCE(LOWER(TRIM({c})), '') <> 'true'"),
            (ColType::Text, Flag::NonEmpty) => format!("COALESCE(TRIM({c}), '') = ''"),
            (ColType::Boolean, Flag::False) => format!("COALESCE({c}, TRUE)"),
            (ColType::Boolean, _) => format!("NOT COALESCE({c}, FALSE)"),
            // A time or number is set (GCS timeDeleted); other flags ignore it.
            (_, Flag::NonEmpty) => format!("{c} IS NULL"),
            (_, _) => return None,
        })
    }

    /// A key not ending with `/` (object stores: a "directory" marker).
    fn not_marker(&self, key: &str) -> String {
        format!("SUBSTR({key}, {}) <> '/'", self.engine.len(key))
    }

    fn s3_files(&self) -> Result<Files, Error> {
        let e = self.engine;
        let r = self.report;
        let pq = r.is_parquet();
        let (k, _) = self.find(&["Key"])?;
        let bucket = r.bucket.clone().unwrap_or_default();
        // Parquet keys are not URL-encoded.
        let key = if pq { k.clone() } else { e.url_decode(&k) };
        // Rows of the root's bucket are the root's store (any object store
        // with the bucket's name: OSS, OBS and others copy the layout).
        let same = self.root.scheme().is_object_store() && self.root.authority() == bucket;
        let path = if same {
            format!(
                "{} || {key}",
                e.lit(&format!("{}/", store_prefix(self.root)))
            )
        } else {
            self.rebased(
                &format!("{} || {key}", e.lit(&format!("s3://{bucket}/"))),
                |from| from.scheme().is_object_store() && from.authority() == bucket,
            )
        };
        let name = |csv: &'static str, parquet: &'static str| if pq { parquet } else { csv };
        let mut filters = vec![self.not_marker(&k)];
        filters.extend(self.keep_unless(name("IsLatest", "is_latest"), Flag::False));
        filters.extend(self.keep_unless(name("IsDeleteMarker", "is_delete_marker"), Flag::True));
        let rule = if pq { TextTime::Rfc3339 } else { TextTime::S3 };
        let (out_time, key) = self.time(
            &self.find(&[name("LastModifiedDate", "last_modified_date")])?,
            rule,
        )?;
        Ok(Files {
            path,
            size: self.size(&self.find(&[name("Size", "size")])?)?,
            out_time,
            key,
            filters,
        })
    }

    fn gcs_files(&self) -> Result<Files, Error> {
        let e = self.engine;
        let (b, _) = self.find(&["bucket"])?;
        let (n, _) = self.find(&["name"])?;
        let root_bucket = (self.root.scheme() == Scheme::Gcs).then(|| self.root.authority());
        let foreign = self.rebased(&format!("'gs://' || {b} || '/' || {n}"), |from| {
            from.scheme() == Scheme::Gcs && Some(from.authority()) != root_bucket
        });
        let path = match root_bucket {
            Some(rb) => format!(
                "CASE WHEN {b} = {} THEN {} || {n} ELSE {foreign} END",
                e.lit(rb),
                e.lit(&format!("{}/", store_prefix(self.root)))
            ),
            None => foreign,
        };
        let mut filters = vec![self.not_marker(&n)];
        filters.extend(self.keep_unless("timeDeleted", Flag::NonEmpty));
        let (out_time, key) =
            self.time(&self.find(&["updated", "timeCreated"])?, TextTime::Rfc3339)?;
        Ok(Files {
            path,
            size: self.size(&self.find(&["size"])?)?,
            out_time,
            key,
            filters,
        })
    }

    fn azure_files(&self) -> Result<Files, Error> {
        let e = self.engine;
        let r = self.report;
        let host = r
            .host
            .clone()
            .ok_or_else(|| Error::Report(format!("{}: no endpoint", r.source)))?;
        let account = |h: &str| h.split('.').next().unwrap_or(h).to_owned();
        // `container@host` of an Azure location of this account.
        let container_of = |l: &Location| -> Option<String> {
            if !matches!(l.scheme(), Scheme::AzureBlob | Scheme::AzureDfs) {
                return None;
            }
            let (c, h) = l.authority().split_once('@')?;
            (account(h) == account(&host)).then(|| c.to_owned())
        };
        let (n, _) = self.find(&["Name"])?;
        let root_container = container_of(self.root);
        // `Name` is `container/blob`.
        // (No `$1` in a replacement: Flink's REGEXP_REPLACE takes it literally.)
        let listed = format!(
            "'wasbs://' || {} || {} || SUBSTR({n}, POSITION('/' IN {n}))",
            e.extract(&n, "^([^/]*)/", 1),
            e.lit(&format!("@{host}"))
        );
        let foreign = self.rebased(&listed, |from| {
            container_of(from).is_some_and(|c| Some(&c) != root_container.as_ref())
        });
        let path = match &root_container {
            Some(c) => {
                let n_c = c.chars().count();
                format!(
                    "CASE WHEN SUBSTR({n}, 1, {}) = {} THEN {} || SUBSTR({n}, {}) ELSE {foreign} END",
                    n_c + 1,
                    e.lit(&format!("{c}/")),
                    e.lit(&store_prefix(self.root)),
                    n_c + 1
                )
            }
            None => foreign,
        };
        let mut filters = vec![self.not_marker(&n)];
        filters.extend(self.keep_unless("IsCurrentVersion", Flag::False));
        filters.extend(self.keep_unless("Deleted", Flag::True));
        filters.extend(self.keep_unless("hdi_isfolder", Flag::True));
        filters.extend(self.keep_unless("Snapshot", Flag::NonEmpty));
        let (out_time, key) = self.time(
            &self.find(&["Last-Modified", "Creation-Time"])?,
            TextTime::Rfc3339,
        )?;
        Ok(Files {
            path,
            size: self.size(&self.find(&["Content-Length"])?)?,
            out_time,
            key,
            filters,
        })
    }

    fn oiv_files(&self) -> Result<Files, Error> {
        let e = self.engine;
        let (p, _) = self.find(&["Path"])?;
        let p = format!("TRIM({p})");
        let path = format!("{} || {p}", e.lit(&store_prefix(self.root)));
        let mut filters = vec![format!("SUBSTR({p}, 1, 1) = '/'")];
        if let Ok((c, _)) = self.find(&["Permission"]) {
            // Directories and symbolic links are no candidates.
            filters.push(format!("SUBSTR({c}, 1, 1) NOT IN ('d', 'l')"));
        }
        if let Ok((c, _)) = self.find(&["PreferredBlockSize"]) {
            filters.push(format!("TRIM({c}) <> '0'"));
        }
        let (out_time, key) = self.time(&self.find(&["ModificationTime"])?, TextTime::Oiv)?;
        Ok(Files {
            path,
            size: self.size(&self.find(&["FileSize"])?)?,
            out_time,
            key,
            filters,
        })
    }

    /// The generic CSV and Parquet: paths absolute (the root's store) or
    /// URIs (the root's store, or another one through --rebase).
    fn generic_files(&self) -> Result<Files, Error> {
        let e = self.engine;
        let (p, _) = self.find(&["path"])?;
        let p = format!("TRIM({p})");
        let root_store = store_prefix(self.root);
        let root_scheme = self.root.scheme();
        let normalised = format!(
            "REGEXP_REPLACE(REGEXP_REPLACE(REGEXP_REPLACE(REGEXP_REPLACE({p}, '^[sS]3[aAnNpP]?://', 's3://'), '^wasbs?://', 'wasbs://'), '^abfss?://', 'abfss://'), '^file:(//localhost|//)?/', '/')"
        );
        let same_store = format!(
            "SUBSTR({normalised}, 1, {}) = {}",
            root_store.chars().count() + 1,
            e.lit(&format!("{root_store}/"))
        );
        let foreign = self.rebased(&normalised, |from| {
            store_prefix(from) != root_store
                || (from.scheme() != root_scheme && root_scheme == Scheme::Local)
        });
        let path = format!(
            "CASE WHEN SUBSTR({p}, 1, 1) = '/' THEN {} || {p} WHEN {same_store} THEN {normalised} ELSE {foreign} END",
            e.lit(&root_store)
        );
        // Only the CSV reads a string of digits as epoch milliseconds.
        let rule = if self.report.kind == inventory::Kind::Csv {
            TextTime::MillisOrRfc3339
        } else {
            TextTime::Rfc3339
        };
        let (out_time, key) = self.time(&self.find(&["last_modified"])?, rule)?;
        Ok(Files {
            path,
            size: self.size(&self.find(&["size"])?)?,
            out_time,
            key,
            filters: vec![],
        })
    }

    /// `expr` mapped by the first `--rebase` rule (among those `applies`
    /// keeps) whose FROM contains it, as flink-chk maps rows of another store.
    fn rebased(&self, expr: &str, applies: impl Fn(&Location) -> bool) -> String {
        let e = self.engine;
        let mut arms = String::new();
        for (from, to) in self.rebase.rules().iter().filter(|(f, _)| applies(f)) {
            let f = dir_key(from);
            let t = dir_key(to);
            let n = f.chars().count();
            let _ = write!(
                arms,
                " WHEN SUBSTR({expr}, 1, {n}) = {} THEN {} || SUBSTR({expr}, {})",
                e.lit(&f),
                e.lit(&t),
                n + 1
            );
        }
        if arms.is_empty() {
            expr.to_owned()
        } else {
            format!("CASE{arms} ELSE {expr} END")
        }
    }

    fn layout_view(&self, s: &mut String) {
        let e = self.engine;
        let root = dir_key(self.root);
        let scope = dir_key(self.scope);
        let n = root.chars().count();
        let rel = format!("SUBSTR(path, {})", n + 1);
        let job = "[0-9a-fA-F]{32}";
        let _ = writeln!(
            s,
            "-- Files in Flink's layout under the scope {scope}: <job>/shared/…, <job>/taskowned/…,\n\
             -- <job>/chk-N/… (job = 32 hex digits); paths not in normal form (//, ., ..) are left out."
        );
        let _ = writeln!(s, "{}", self.view("layout_files"));
        let _ = writeln!(
            s,
            "SELECT path, size, last_modified, ts, SUBSTR(rel, 1, 32) AS job,\n  \
             CASE WHEN {} THEN 'shared' WHEN {} THEN 'taskowned' WHEN {} THEN 'chk' END AS area,\n  \
             CASE WHEN {} THEN {} || {} END AS chk_dir\n\
             FROM (SELECT path, size, last_modified, ts, {rel} AS rel FROM {}\n      \
             WHERE SUBSTR(path, 1, {}) = {}) AS f\n\
             WHERE NOT {};\n",
            e.matches("rel", &format!("^{job}/shared/.")),
            e.matches("rel", &format!("^{job}/taskowned/.")),
            e.matches("rel", &format!("^{job}/chk-[0-9]+/.")),
            e.matches("rel", &format!("^{job}/chk-[0-9]+/.")),
            e.lit(&root),
            e.extract("rel", &format!("^({job}/chk-[0-9]+/)"), 1),
            self.table("inventory_files"),
            scope.chars().count(),
            e.lit(&scope),
            e.matches("rel", "^/|//|(^|/)[.]{1,2}(/|$)|/$"),
        );
    }

    fn candidates(&self, s: &mut String) {
        let e = self.engine;
        let cutoff = e.lit(&time_key(self.cutoff));
        let dropped = if self.dropped.is_empty() {
            "FALSE".to_owned()
        } else {
            let l: Vec<String> = self.dropped.iter().map(|d| e.lit(d)).collect();
            format!("l.job IN ({})", l.join(", "))
        };
        let (shared, taskowned) = if self.stopped {
            ("TRUE".to_owned(), "TRUE".to_owned())
        } else {
            (
                format!("({dropped} OR (j.newest IS NOT NULL AND l.ts <= j.newest))"),
                dropped.clone(),
            )
        };
        let select = format!(
            "SELECT l.path, l.size, l.last_modified\n\
             FROM {} AS l LEFT JOIN {} AS j ON l.job = j.job\n\
             WHERE l.ts IS NOT NULL AND l.ts <= {cutoff}\n  \
             AND (l.area = 'chk'\n       \
             OR (l.area = 'shared' AND {shared})\n       \
             OR (l.area = 'taskowned' AND {taskowned}))\n  \
             AND NOT EXISTS (SELECT 1 FROM {refs} AS r WHERE r.kind = 'ref' AND r.path = l.path)\n  \
             AND NOT EXISTS (SELECT 1 FROM {refs} AS k WHERE k.kind = 'kept_dir' AND k.path = l.chk_dir)",
            self.table("layout_files"),
            self.table("jobs"),
            refs = self.table("refs"),
        );
        let _ = writeln!(
            s,
            "-- Candidates: old enough (not after the cutoff), in a chk-N/ that is not kept, or an\n\
             -- unreferenced shared/ file (taskowned/ only when stopped or the job is dropped), and\n\
             -- referenced by no kept snapshot. One CSV with the header path,size,last_modified."
        );
        let out = e.uri(self.out);
        match e {
            Engine::Flink => {
                let _ = writeln!(
                    s,
                    "CREATE TEMPORARY TABLE candidates (\n  path STRING,\n  size STRING,\n  last_modified STRING\n) WITH ("
                );
                write_options(
                    s,
                    &[
                        ("connector", e.lit("filesystem")),
                        ("path", e.lit(&out)),
                        ("format", e.lit("csv")),
                        ("sink.parallelism", e.lit("1")),
                    ],
                );
                let _ = writeln!(
                    s,
                    "\n-- The header is a row sorted first; with one writer the output is one file in {out}.\n\
                     INSERT INTO candidates\n\
                     SELECT path, size, last_modified FROM (\n\
                     SELECT 0 AS o, 'path' AS path, 'size' AS size, 'last_modified' AS last_modified\n\
                     UNION ALL\n\
                     SELECT 1 AS o, c.* FROM (\n{select}\n) AS c\n\
                     ) AS t\nORDER BY o, path;"
                );
            }
            Engine::Spark => {
                let _ = writeln!(
                    s,
                    "INSERT OVERWRITE DIRECTORY {} USING csv OPTIONS (header 'true')\n\
                     SELECT /*+ COALESCE(1) */ * FROM (\n{select}\nORDER BY path\n) AS c;",
                    e.lit(&out)
                );
            }
            Engine::Trino => {
                let _ = writeln!(
                    s,
                    "-- Trino writes the column names as a header line (skip_header_line_count = 1).\n\
                     CREATE TABLE {} WITH (format = 'CSV', skip_header_line_count = 1, external_location = {}) AS\n\
                     {select}\nORDER BY l.path;",
                    self.table("candidates"),
                    e.lit(&out)
                );
            }
        }
    }
}

/// A row's file: the view's expressions.
struct Files {
    path: String,
    size: String,
    out_time: String,
    key: String,
    filters: Vec<String>,
}

/// How a time written as text is read (as flink-chk's reader does, for
/// the forms this script can compare).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextTime {
    /// S3 Inventory CSV: `yyyy-MM-ddTHH:mm:ss.SSSZ`.
    S3,
    /// `hdfs oiv`: `yyyy-MM-dd HH:mm`, the end of that minute.
    Oiv,
    /// RFC 3339 in UTC (`Z` or `+00:00`), 0 to 9 fraction digits.
    Rfc3339,
    /// The generic CSV: epoch milliseconds, or RFC 3339.
    MillisOrRfc3339,
}

/// When a flag column marks a row that is no current file.
#[derive(Debug, Clone, Copy)]
enum Flag {
    /// `false` (S3 `IsLatest`, Azure `IsCurrentVersion`).
    False,
    /// `true` (delete markers, deleted blobs, folders).
    True,
    /// Any value (GCS `timeDeleted`, Azure `Snapshot`).
    NonEmpty,
}

/// A column name usable as an identifier (the header's, else `c<i>`).
fn column_name(i: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with(|c: char| c.is_ascii_digit()) {
        format!("c{i}")
    } else {
        clean
    }
}

fn common_dir(files: &[Location]) -> Location {
    let mut dir = files[0].parent();
    while !files.iter().all(|f| f.relative_to(&dir).is_some()) && dir.path() != "/" {
        dir = dir.parent();
    }
    dir
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            out.push('[');
            if c == '\\' || c == '^' || c == ']' || c == '[' {
                out.push('\\');
            }
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

fn delimiter_literal(e: Engine, d: char) -> String {
    match (e, d) {
        (Engine::Spark, '\t') => "'\\t'".to_owned(),
        (_, '\t') => "U&'\\0009'".to_owned(),
        _ => e.lit(&d.to_string()),
    }
}

fn write_options(s: &mut String, opts: &[(&str, String)]) {
    let lines: Vec<String> = opts.iter().map(|(k, v)| format!("  '{k}' = {v}")).collect();
    let _ = writeln!(s, "{}\n);", lines.join(",\n"));
}

fn write_spark_options(s: &mut String, opts: &[(&str, String)]) {
    let lines: Vec<String> = opts.iter().map(|(k, v)| format!("  {k} {v}")).collect();
    let _ = writeln!(s, "{}\n);", lines.join(",\n"));
}

fn write_trino_options(s: &mut String, opts: &[(&str, String)]) {
    let lines: Vec<String> = opts.iter().map(|(k, v)| format!("  {k} = {v}")).collect();
    let _ = writeln!(s, "{}\n);", lines.join(",\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_sort_as_times() {
        let a: jiff::Timestamp = "2026-01-02T03:04:05.123Z".parse().unwrap();
        assert_eq!(time_key(a), "2026-01-02T03:04:05.123000000Z");
        let b: jiff::Timestamp = "2026-01-02T03:04:05.1230001Z".parse().unwrap();
        assert!(time_key(a) < time_key(b));
    }

    #[test]
    fn regex_escaping() {
        assert_eq!(regex_escape("a.b(c)"), "a[.]b[(]c[)]");
    }

    #[test]
    fn store_prefixes() {
        let l = |s: &str| Location::parse(s).unwrap();
        assert_eq!(store_prefix(&l("s3a://b/x/y")), "s3://b");
        assert_eq!(store_prefix(&l("/x/y")), "");
        assert_eq!(store_prefix(&l("hdfs://nn:8020/x")), "hdfs://nn:8020");
    }
}

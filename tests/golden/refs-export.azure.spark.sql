-- flink-chk $VERSION: files under $TMP/rocksdb-incremental/checkpoints/ that no kept snapshot needs, as spark SQL.
-- Policy: keep-last 1, min-age 7200s.
-- Export: $TMP/refs-azure-spark.csv (65 references of 1 kept snapshots, 1 kept directories).
-- Inventory: $TMP/azure/2026/11/02/00-00-00/flinkchk/flinkchk-manifest.json (Azure blob inventory), taken 2026-11-02T00:00:00Z; 2 data file(s).
-- Cutoff: files modified after 2026-11-01T22:00:00Z (inventory time − min-age) are kept.
--
-- THIS IS A PRE-FILTER. It deletes nothing. Its output (CSV: path,size,last_modified)
-- lists files that look unreferenced in the inventory; flink-chk checks every row
-- again live before deleting any (safe-to-delete --apply-candidates FILE): kept
-- snapshots re-read, files re-listed, anything new or changed dropped.
-- Paths are compared in flink-chk's canonical form (s3a:// and s3n:// are s3://,
-- file:///p is /p); the reference export holds them so.

SET spark.sql.session.timeZone = UTC;

-- The inventory's rows, every field as text (Azure blob inventory).
CREATE TEMPORARY VIEW inventory_rows (
  `name` STRING,
  `creation_time` STRING,
  `last_modified` STRING,
  `etag` STRING,
  `content_length` STRING,
  `blobtype` STRING,
  `accesstier` STRING
) USING csv OPTIONS (
  path 'file://$TMP/azure/2026/11/02/00-00-00/flinkchk/{flinkchk_1000000_0.csv,flinkchk_1000000_1.csv}',
  header 'true',
  mode 'FAILFAST',
  escape '"'
);

-- The reference export (flink-chk refs export): kind 'ref' = a file a kept snapshot
-- references, kind 'kept_dir' = a kept snapshot directory (everything under it stays).
CREATE TEMPORARY VIEW refs (
  kind STRING,
  path STRING,
  snapshot STRING
) USING csv OPTIONS (
  path 'file://$TMP/refs-azure-spark.csv',
  header 'true',
  escape '"'
);

-- Per job: the time of its newest completed checkpoint's _metadata. Unless the jobs are
-- stated stopped, shared/ files written after it may belong to a checkpoint in progress.
CREATE TEMPORARY VIEW jobs AS
SELECT job, newest FROM (VALUES
  ('8cf2f5c78be81ea408e71c6d59570d77', '2026-11-01T00:07:00.000000000Z')
) AS t(job, newest);

-- Files as flink-chk names them (canonical), with their size and time; the time also as
-- a fixed-width UTC key (NULL when not in a form this script reads: never a candidate).
CREATE TEMPORARY VIEW inventory_files AS
SELECT
  CASE WHEN SUBSTR('wasbs://' || NULLIF(REGEXP_EXTRACT(`name`, '^([^/]*)/', 1), '') || '@fixtureacct.blob.core.windows.net' || SUBSTR(`name`, POSITION('/' IN `name`)), 1, 107) = 'wasbs://fixture-container@fixtureacct.blob.core.windows.net$TMP/rocksdb-incremental/checkpoints/' THEN '$TMP/rocksdb-incremental/checkpoints/' || SUBSTR('wasbs://' || NULLIF(REGEXP_EXTRACT(`name`, '^([^/]*)/', 1), '') || '@fixtureacct.blob.core.windows.net' || SUBSTR(`name`, POSITION('/' IN `name`)), 108) ELSE 'wasbs://' || NULLIF(REGEXP_EXTRACT(`name`, '^([^/]*)/', 1), '') || '@fixtureacct.blob.core.windows.net' || SUBSTR(`name`, POSITION('/' IN `name`)) END AS path,
  TRIM(`content_length`) AS size,
  TRIM(`last_modified`) AS last_modified,
  CASE WHEN (TRIM(`last_modified`) RLIKE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?(Z|[+]00:00)$') THEN SUBSTR(TRIM(`last_modified`), 1, 19) || '.' || RPAD(COALESCE(NULLIF(REGEXP_EXTRACT(TRIM(`last_modified`), '[.]([0-9]+)', 1), ''), ''), 9, '0') || 'Z' END AS ts
FROM inventory_rows
WHERE SUBSTR(`name`, CHAR_LENGTH(`name`)) <> '/';

-- Files in Flink's layout under the scope $TMP/rocksdb-incremental/checkpoints/: <job>/shared/…, <job>/taskowned/…,
-- <job>/chk-N/… (job = 32 hex digits); paths not in normal form (//, ., ..) are left out.
CREATE TEMPORARY VIEW layout_files AS
SELECT path, size, last_modified, ts, SUBSTR(rel, 1, 32) AS job,
  CASE WHEN (rel RLIKE '^[0-9a-fA-F]{32}/shared/.') THEN 'shared' WHEN (rel RLIKE '^[0-9a-fA-F]{32}/taskowned/.') THEN 'taskowned' WHEN (rel RLIKE '^[0-9a-fA-F]{32}/chk-[0-9]+/.') THEN 'chk' END AS area,
  CASE WHEN (rel RLIKE '^[0-9a-fA-F]{32}/chk-[0-9]+/.') THEN '$TMP/rocksdb-incremental/checkpoints/' || NULLIF(REGEXP_EXTRACT(rel, '^([0-9a-fA-F]{32}/chk-[0-9]+/)', 1), '') END AS chk_dir
FROM (SELECT path, size, last_modified, ts, SUBSTR(path, 49) AS rel FROM inventory_files
      WHERE SUBSTR(path, 1, 48) = '$TMP/rocksdb-incremental/checkpoints/') AS f
WHERE NOT (rel RLIKE '^/|//|(^|/)[.]{1,2}(/|$)|/$');

-- Candidates: old enough (not after the cutoff), in a chk-N/ that is not kept, or an
-- unreferenced shared/ file (taskowned/ only when stopped or the job is dropped), and
-- referenced by no kept snapshot. One CSV with the header path,size,last_modified.
INSERT OVERWRITE DIRECTORY 'file://$TMP/refs-azure-spark.csv.candidates' USING csv OPTIONS (header 'true')
SELECT /*+ COALESCE(1) */ * FROM (
SELECT l.path, l.size, l.last_modified
FROM layout_files AS l LEFT JOIN jobs AS j ON l.job = j.job
WHERE l.ts IS NOT NULL AND l.ts <= '2026-11-01T22:00:00.000000000Z'
  AND (l.area = 'chk'
       OR (l.area = 'shared' AND (FALSE OR (j.newest IS NOT NULL AND l.ts <= j.newest)))
       OR (l.area = 'taskowned' AND FALSE))
  AND NOT EXISTS (SELECT 1 FROM refs AS r WHERE r.kind = 'ref' AND r.path = l.path)
  AND NOT EXISTS (SELECT 1 FROM refs AS k WHERE k.kind = 'kept_dir' AND k.path = l.chk_dir)
ORDER BY path
) AS c;

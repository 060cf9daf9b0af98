#!/usr/bin/env bash
# The cleanup's anti-join on a real engine: `flink-chk refs export --emit-sql flink`
# run by Flink's own batch SQL engine (or `--emit-sql spark` by Spark SQL), its
# candidates compared with `flink-chk safe-to-delete --dry-run --json --inventory`
# on the same tree and report.
#
#   benches/engine-sql.sh [VERSION/SCENARIO]     (default 2.3/rocksdb-incremental)
#   ENGINE=spark benches/engine-sql.sh [...]     (default ENGINE=flink)
#   REPORTS="gcs azure" benches/engine-sql.sh    (a subset of the report kinds below)
#
# 1. The committed fixture tree is copied to a temporary directory; every file
#    gets a time 72 h ago (a whole minute) and each chk-N/_metadata N+1 minutes
#    later (Flink's write order at a resolution every report keeps).
# 2. Inventory reports of the copy, taken "24 h ago" (python3; the same layouts
#    as tests/common/inventory.rs):
#      csv            the generic CSV path,size,last_modified
#      oiv            an `hdfs oiv -p Delimited` dump
#      s3             an S3 Inventory (manifest.json + manifest.checksum, 3 CSV.gz data
#                     files, keys URL-encoded, bucket fixture-bucket)
#      gcs            a GCS Storage Insights report (manifest, 3 CSV shards with a header,
#                     bucket fixture-bucket; plus a soft-deleted row (timeDeleted) and a
#                     `…/` placeholder, both to be skipped)
#      azure          an Azure blob inventory run (<rule>-manifest.json + checksum, 2 CSV
#                     files with the schema row, Name = container/blob, account
#                     fixtureacct, container fixture-container; plus a noncurrent
#                     version (IsCurrentVersion false) and a deleted blob (Deleted true))
#      s3-parquet     S3 Inventory in Parquet (3 files, keys not encoded, is_latest /
#                     is_delete_marker, last_modified_date TIMESTAMP(MILLIS); plus a
#                     noncurrent version, a delete marker and a `…/` placeholder)
#      parquet        the generic Parquet path,size,last_modified (TIMESTAMP(MICROS))
#      gcs-parquet    the GCS report in Parquet shards (updated/timeDeleted TIMESTAMP(MICROS))
#      azure-parquet  the Azure run in Parquet (dates TIMESTAMP(MILLIS), flags BOOLEAN)
#    Object-store rows are mapped onto the local copy with --rebase. Parquet files are
#    written with pyarrow from PyPI, in a venv (ENGINE_SQL_VENV, default under the work
#    directory).
# 3. For each report and each policy (jobs running / --stopped), with
#    --keep-last 1 --min-age 1h:
#      flink-chk refs export ROOT --out refs.csv --emit-sql flink --sql-out q.sql ...
#      generate.sh engine-sql q.sql           (Flink 2.3 from PyPI, local batch TableEnvironment)
#      or, ENGINE=spark: --emit-sql spark, then
#      spark-sql --master 'local[2]' -f q.sql (pyspark from PyPI: $SPARK_HOME/bin/spark-sql,
#      else the spark-sql on PATH)
#      flink-chk safe-to-delete ROOT --dry-run --json --inventory ...
#    and the engine's rows (path) must equal the plan's candidates exactly;
#    every row's size must be the file's.
# The export is CSV here, and Parquet reports run on Spark only (the default REPORTS
# of ENGINE=flink are the text ones): Flink reads Parquet only with flink-sql-parquet,
# a Maven Central jar that apache-flink-libraries does not ship, and flink-chk
# refuses --emit-sql flink (and trino) for a Parquet report.
#
# Env: FLINK_CHK_BIN (default $CARGO_TARGET_DIR/debug/flink-chk, else target/debug/flink-chk),
#      FLINK_VERSION (default 2.3.0), KEEP=1 keeps the work directory,
#      ENGINE (flink or spark), SPARK_SQL (default $SPARK_HOME/bin/spark-sql, else spark-sql),
#      REPORTS (default: all text kinds for flink, all kinds for spark),
#      ENGINE_SQL_VENV (a venv with pyarrow, made when missing; only for Parquet kinds).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
case_="${1:-2.3/rocksdb-incremental}"
flink_version="${FLINK_VERSION:-2.3.0}"
engine="${ENGINE:-flink}"
case $engine in
  flink) reports="${REPORTS:-csv oiv s3 gcs azure}" ;;
  spark) reports="${REPORTS:-csv oiv s3 gcs azure s3-parquet parquet gcs-parquet azure-parquet}"
    spark_sql="${SPARK_SQL:-${SPARK_HOME:+$SPARK_HOME/bin/}spark-sql}" ;;
  *) echo "ENGINE=$engine: flink or spark" >&2; exit 64 ;;
esac
for r in $reports; do
  case $r in
    csv|oiv|s3|gcs|azure) ;;
    s3-parquet|parquet|gcs-parquet|azure-parquet)
      [ "$engine" = spark ] || { echo "REPORTS: $r runs on ENGINE=spark only" >&2; exit 64; } ;;
    *) echo "REPORTS: unknown kind $r" >&2; exit 64 ;;
  esac
done
bin="${FLINK_CHK_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/flink-chk}"
[ -x "$bin" ] || (cd "$repo" && cargo build --quiet)
src="$repo/tests/fixtures/flink/$case_"
generated="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generated_root"])' "$src/scenario.json")"
work="$(mktemp -d /tmp/flink-chk-engine-sql.XXXXXX)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
tree="$work/tree"
cp -r "$src" "$tree"
ck="$tree/checkpoints"
ms() { date +%s%3N; }

# 1 + 2: times and reports.
time_="$(python3 - "$tree" "$ck" "$work" <<'PY'
import gzip, hashlib, json, os, sys, time, urllib.parse
tree, ck, work = sys.argv[1:4]
now = time.time()
t0 = int((now - 72 * 3600) // 60 * 60)
taken = int(now - 24 * 3600)
for d, _, files in os.walk(tree):
    for f in files:
        p = os.path.join(d, f)
        n = 0
        if f == "_metadata" and os.path.basename(d).startswith("chk-"):
            n = int(os.path.basename(d)[4:]) + 1
        os.utime(p, (t0 + 60 * n, t0 + 60 * n))
rows = []
for d, dirs, files in os.walk(ck):
    for x in dirs:
        p = os.path.join(d, x)
        rows.append((p, 0, int(os.lstat(p).st_mtime * 1000), True))
    for x in files:
        p = os.path.join(d, x)
        st = os.lstat(p)
        rows.append((p, st.st_size, st.st_mtime_ns // 1_000_000, False))
rows.sort()
iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
minute = lambda ms: time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms // 1000))
with open(os.path.join(work, "inventory.csv"), "w") as f:
    f.write("path,size,last_modified\n")
    for p, s, m, d in rows:
        if not d:
            f.write(f"{p},{s},{iso(m)}\n")
with open(os.path.join(work, "fsimage.tsv"), "w") as f:
    f.write("Path\tReplication\tModificationTime\tAccessTime\tPreferredBlockSize\tBlocksCount\tFileSize\tNSQUOTA\tDSQUOTA\tPermission\tUserName\tGroupName\n")
    for p, s, m, d in rows:
        if d:
            f.write(f"{p}\t0\t{minute(m)}\t1970-01-01 00:00\t0\t0\t0\t-1\t-1\tdrwxr-xr-x\tflink\tsupergroup\n")
        else:
            f.write(f"{p}\t3\t{minute(m)}\t{minute(m)}\t134217728\t{-(-s // 134217728)}\t{s}\t0\t0\t-rw-r--r--\tflink\tsupergroup\n")
# S3 Inventory: <dest>/fixture-bucket/flink-chk-inventory/{<stamp>/manifest.json, data/*.csv.gz}
bucket = "fixture-bucket"
config = os.path.join(work, "s3", bucket, "flink-chk-inventory")
stamp = time.strftime("%Y-%m-%dT%H-%MZ", time.gmtime(taken))
os.makedirs(os.path.join(config, stamp)); os.makedirs(os.path.join(config, "data"))
files = [r for r in rows if not r[3]]
listed = []
per = -(-len(files) // 3)
for i in range(3):
    name = f"data/{stamp}-{i:04}.csv.gz"
    body = "".join(
        '"%s","%s","%d","%s","%s"\n' % (bucket, urllib.parse.quote_plus(p.lstrip("/"), safe="/-_.*"), s, iso(m),
                                       hashlib.md5(p.encode()).hexdigest())
        for p, s, m, _ in files[i * per:(i + 1) * per])
    data = gzip.compress(body.encode())
    open(os.path.join(config, name), "wb").write(data)
    listed.append({"key": f"inventory/{bucket}/flink-chk-inventory/{name}", "size": len(data),
                   "MD5checksum": hashlib.md5(data).hexdigest()})
manifest = json.dumps({"sourceBucket": bucket, "destinationBucket": "arn:aws:s3:::inventory-destination",
                       "version": "2016-11-30", "creationTimestamp": str(taken * 1000), "fileFormat": "CSV",
                       "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag", "files": listed}, indent=2).encode()
open(os.path.join(config, stamp, "manifest.json"), "wb").write(manifest)
open(os.path.join(config, stamp, "manifest.checksum"), "w").write(hashlib.md5(manifest).hexdigest())
# GCS Storage Insights: <dir>/<config>_<stamp>_<i>.csv + <config>_<stamp>_manifest.json.
config_id = "6b8c0e2d-1f3a-4c5b-9d7e-0a1b2c3d4e5f"
gstamp = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(taken))
rfc = lambda ms: iso(ms)
def gcs_rows():
    # (name, size, updated ms, deleted ms or None); the extra rows are skipped by flink-chk.
    out = [(p.lstrip("/"), s, m, None) for p, s, m, _ in files]
    p0, s0, m0, _ = files[0]
    d0 = os.path.dirname(p0).lstrip("/")
    out.append((p0.lstrip("/"), s0 + 1, m0 - 60000, m0))            # a soft-deleted version
    out.append((d0 + "/placeholder/", 0, m0 - 60000, None))        # a "directory" object
    return out
gdir = os.path.join(work, "gcs"); os.makedirs(gdir)
grows = gcs_rows()
gper = -(-len(grows) // 3)
names = []
for i in range(3):
    name = f"{config_id}_{gstamp}_{i}.csv"
    with open(os.path.join(gdir, name), "w") as f:
        f.write("project,bucket,name,location,size,timeCreated,timeDeleted,updated,storageClass,etag,generation\n")
        for n, s, m, dl in grows[i * gper:(i + 1) * gper]:
            f.write('123456789,%s,"%s",US,%d,%s,%s,%s,STANDARD,CJ+ecJ/ZzYQDEAE=,%d\n'
                    % (bucket, n.replace('"', '""'), s, rfc(m), rfc(dl) if dl else "", rfc(m), m * 1000))
    names.append("reports/" + name)
json.dump({"report_config": {"name": f"projects/123456789/locations/us/reportConfigs/{config_id}",
                             "csv_options": {"record_separator": "\n", "delimiter": ",", "header_required": True}},
           "records_processed": len(grows), "snapshot_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken)),
           "shard_count": 3, "report_shards_file_names": names},
          open(os.path.join(gdir, f"{config_id}_{gstamp}_manifest.json"), "w"), indent=2)
# Azure blob inventory: <dest>/YYYY/MM/DD/HH-MM-SS/<rule>/{<rule>_1000000_<i>.csv, <rule>-manifest.json, .checksum}.
def azure_rows():
    # (blob, size, ms, current, deleted); the extra rows are skipped by flink-chk.
    out = [(p.lstrip("/"), s, m, True, False) for p, s, m, _ in files]
    p0, s0, m0, _ = files[0]
    d0 = os.path.dirname(p0).lstrip("/")
    out.append((p0.lstrip("/"), s0 + 1, m0 - 60000, False, False))  # a noncurrent version
    out.append((d0 + "/deleted-blob", 7, m0 - 60000, True, True))   # a soft-deleted blob
    return out
container, account = "fixture-container", "fixtureacct"
afields = ["Name", "Creation-Time", "Last-Modified", "ETag", "Content-Length", "BlobType", "AccessTier",
           "IsCurrentVersion", "Deleted"]
def azure_run(rule, fmt, write):
    rel = time.strftime("%Y/%m/%d/%H-%M-%S", time.gmtime(taken)) + "/" + rule
    d = os.path.join(work, "azure", rel); os.makedirs(d)
    arows = azure_rows()
    per = -(-len(arows) // 2)
    listed = []
    for i in range(2):
        name = f"{rule}_1000000_{i}.{fmt}"
        write(os.path.join(d, name), arows[i * per:(i + 1) * per])
        listed.append({"blob": f"{rel}/{name}", "size": os.path.getsize(os.path.join(d, name))})
    man = json.dumps({"destinationContainer": "inventory-destination", "endpoint": f"https://{account}.blob.core.windows.net",
                      "files": listed, "inventoryStartTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken)),
                      "inventoryCompletionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken + 600)),
                      "ruleDefinition": {"filters": {"blobTypes": ["blockBlob"], "includeBlobVersions": True,
                                                     "includeDeleted": True, "prefixMatch": [container]},
                                         "format": fmt, "objectType": "blob", "schedule": "daily", "schemaFields": afields},
                      "ruleName": rule, "status": "Succeeded",
                      "summary": {"objectCount": len(files), "totalObjectSize": sum(r[1] for r in files)},
                      "version": "1.0"}, indent=2).encode()
    open(os.path.join(d, f"{rule}-manifest.json"), "wb").write(man)
    open(os.path.join(d, f"{rule}-manifest.checksum"), "w").write(hashlib.md5(man).hexdigest())
def azure_csv(path, rows_):
    with open(path, "w") as f:
        f.write(",".join(afields) + "\n")
        for n, s, m, cur, dl in rows_:
            t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(m // 1000)) + ".%07dZ" % (m % 1000 * 10000)
            f.write('"%s/%s",%s,%s,0x%X,%d,BlockBlob,Hot,%s,%s\n' % (container, n.replace('"', '""'), t, t, m, s,
                                                                    str(cur).lower(), str(dl).lower()))
azure_run("flinkchk", "csv", azure_csv)
json.dump({"bucket": bucket, "container": container, "account": account, "stamp": stamp, "taken": taken,
           "files": files, "gcs": grows, "azure": azure_rows(), "afields": afields, "config_id": config_id,
           "gstamp": gstamp}, open(os.path.join(work, "rows.json"), "w"))
print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken)))
PY
)"
case " $reports " in
  *-parquet*|*" parquet "*)
    venv="${ENGINE_SQL_VENV:-$work/venv}"
    if ! "$venv/bin/python" -c 'import pyarrow' 2>/dev/null; then
      python3 -m venv "$venv" && nice -n 19 "$venv/bin/pip" install --quiet pyarrow
    fi
    "$venv/bin/python" - "$work" <<'PY'
# The Parquet reports, from the same rows (pyarrow).
import hashlib, json, os, sys, time
import pyarrow as pa, pyarrow.parquet as pq
work = sys.argv[1]
r = json.load(open(os.path.join(work, "rows.json")))
bucket, files, taken, stamp = r["bucket"], r["files"], r["taken"], r["stamp"]
md5 = lambda b: hashlib.md5(b).hexdigest()
ts_ms, ts_us = pa.timestamp("ms", tz="UTC"), pa.timestamp("us", tz="UTC")
# S3 Inventory Parquet: <dest>/fixture-bucket/flink-chk-inventory-parquet/{<stamp>/manifest.json, data/*.parquet}
schema_text = ("message s3.inventory {  required binary bucket (STRING);  required binary key (STRING);  "
               "optional binary version_id (STRING);  optional boolean is_latest;  optional boolean is_delete_marker;  "
               "optional int64 size;  optional int64 last_modified_date (TIMESTAMP(MILLIS,true));  "
               "optional binary e_tag (STRING);}")
config = os.path.join(work, "s3", bucket, "flink-chk-inventory-parquet")
os.makedirs(os.path.join(config, stamp)); os.makedirs(os.path.join(config, "data"))
per = -(-len(files) // 3)
listed = []
for i in range(3):
    chunk = files[i * per:(i + 1) * per]
    rows = [(p.lstrip("/"), True, False, s, m) for p, s, m, _ in chunk]
    p0, s0, m0, _ = chunk[0]
    d0 = os.path.dirname(p0).lstrip("/")
    rows += [(p0.lstrip("/"), False, False, s0 + 1, m0 - 60000),          # a noncurrent version
             (f"{d0}/deleted-since-{i}", True, True, None, m0 - 60000),    # a delete marker
             (f"{d0}/placeholder-{i}/", True, False, 0, m0 - 60000)]       # a "directory" object
    t = pa.table({"bucket": pa.array([bucket] * len(rows), pa.string()),
                  "key": pa.array([x[0] for x in rows], pa.string()),
                  "version_id": pa.array([f"v{x[4]}" for x in rows], pa.string()),
                  "is_latest": pa.array([x[1] for x in rows], pa.bool_()),
                  "is_delete_marker": pa.array([x[2] for x in rows], pa.bool_()),
                  "size": pa.array([x[3] for x in rows], pa.int64()),
                  "last_modified_date": pa.array([x[4] for x in rows], pa.int64()).cast(ts_ms),
                  "e_tag": pa.array([md5(x[0].encode()) for x in rows], pa.string())})
    name = f"data/{stamp}-{i:04}.parquet"
    pq.write_table(t, os.path.join(config, name))
    data = open(os.path.join(config, name), "rb").read()
    listed.append({"key": f"inventory/{bucket}/flink-chk-inventory-parquet/{name}", "size": len(data),
                   "MD5checksum": md5(data)})
man = json.dumps({"sourceBucket": bucket, "destinationBucket": "arn:aws:s3:::inventory-destination",
                  "version": "2016-11-30", "creationTimestamp": str(taken * 1000), "fileFormat": "Parquet",
                  "fileSchema": schema_text, "files": listed}, indent=2).encode()
open(os.path.join(config, stamp, "manifest.json"), "wb").write(man)
open(os.path.join(config, stamp, "manifest.checksum"), "w").write(md5(man))
# The generic Parquet: path, size, last_modified TIMESTAMP(MICROS).
pq.write_table(pa.table({"path": pa.array([f[0] for f in files], pa.string()),
                         "size": pa.array([f[1] for f in files], pa.int64()),
                         "last_modified": pa.array([f[2] * 1000 for f in files], pa.int64()).cast(ts_us)}),
               os.path.join(work, "inventory.parquet"))
# GCS in Parquet shards.
gdir = os.path.join(work, "gcs-parquet"); os.makedirs(gdir)
g = r["gcs"]
gper = -(-len(g) // 2)
names = []
for i in range(2):
    c = g[i * gper:(i + 1) * gper]
    name = f"{r['config_id']}_{r['gstamp']}_{i}.parquet"
    pq.write_table(pa.table({"bucket": pa.array([bucket] * len(c), pa.string()),
                             "name": pa.array([x[0] for x in c], pa.string()),
                             "size": pa.array([x[1] for x in c], pa.int64()),
                             "updated": pa.array([x[2] * 1000 for x in c], pa.int64()).cast(ts_us),
                             "timeDeleted": pa.array([x[3] * 1000 if x[3] else None for x in c], pa.int64()).cast(ts_us)}),
                   os.path.join(gdir, name))
    names.append("reports/" + name)
json.dump({"report_config": {"name": f"projects/123456789/locations/us/reportConfigs/{r['config_id']}",
                             "parquet_options": {}},
           "records_processed": len(g), "snapshot_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken)),
           "shard_count": 2, "report_shards_file_names": names},
          open(os.path.join(gdir, f"{r['config_id']}_{r['gstamp']}_manifest.json"), "w"), indent=2)
# Azure in Parquet.
a = r["azure"]
rule = "flinkchkparquet"
rel = time.strftime("%Y/%m/%d/%H-%M-%S", time.gmtime(taken)) + "/" + rule
d = os.path.join(work, "azure", rel); os.makedirs(d)
aper = -(-len(a) // 2)
listed = []
for i in range(2):
    c = a[i * aper:(i + 1) * aper]
    name = f"{rule}_1000000_{i}.parquet"
    ms = pa.array([x[2] for x in c], pa.int64()).cast(ts_ms)
    pq.write_table(pa.table({"Name": pa.array([f"{r['container']}/{x[0]}" for x in c], pa.string()),
                             "Creation-Time": ms, "Last-Modified": ms,
                             "ETag": pa.array(["0x%X" % x[2] for x in c], pa.string()),
                             "Content-Length": pa.array([x[1] for x in c], pa.int64()),
                             "BlobType": pa.array(["BlockBlob"] * len(c), pa.string()),
                             "AccessTier": pa.array(["Hot"] * len(c), pa.string()),
                             "IsCurrentVersion": pa.array([x[3] for x in c], pa.bool_()),
                             "Deleted": pa.array([x[4] for x in c], pa.bool_())}),
                   os.path.join(d, name))
    listed.append({"blob": f"{rel}/{name}", "size": os.path.getsize(os.path.join(d, name))})
man = json.dumps({"destinationContainer": "inventory-destination", "endpoint": f"https://{r['account']}.blob.core.windows.net",
                  "files": listed, "inventoryStartTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken)),
                  "inventoryCompletionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken + 600)),
                  "ruleDefinition": {"filters": {"blobTypes": ["blockBlob"], "includeBlobVersions": True,
                                                 "includeDeleted": True, "prefixMatch": [r["container"]]},
                                     "format": "parquet", "objectType": "blob", "schedule": "daily",
                                     "schemaFields": r["afields"]},
                  "ruleName": rule, "status": "Succeeded",
                  "summary": {"objectCount": len(files), "totalObjectSize": sum(f[1] for f in files)},
                  "version": "1.0"}, indent=2).encode()
open(os.path.join(d, f"{rule}-manifest.json"), "wb").write(man)
open(os.path.join(d, f"{rule}-manifest.checksum"), "w").write(md5(man))
PY
    ;;
esac
manifest="$(ls "$work"/s3/fixture-bucket/flink-chk-inventory/*/manifest.json)"
echo "tree $ck ($(find "$ck" -type f | wc -l) files), reports taken $time_"

policy=(--keep-last 1 --min-age 1h --rebase "file:$generated=$tree")
fail=0
printf '%-13s %-8s %6s %6s %6s %9s %9s %9s  %s\n' report policy refs engine plan export_ms "${engine}_ms" plan_ms match
azure_host=fixtureacct.blob.core.windows.net
for fmt in $reports; do
  case $fmt in
    csv) inv=(--inventory "$work/inventory.csv" --inventory-time "$time_") ;;
    oiv) inv=(--inventory "$work/fsimage.tsv" --inventory-time "$time_") ;;
    s3) inv=(--inventory "$manifest" --rebase "s3://fixture-bucket$ck=$ck") ;;
    gcs) inv=(--inventory "$(ls "$work"/gcs/*_manifest.json)" --rebase "gs://fixture-bucket$ck=$ck") ;;
    azure) inv=(--inventory "$(ls "$work"/azure/*/*/*/*/flinkchk/flinkchk-manifest.json)"
                --rebase "wasbs://fixture-container@$azure_host$ck=$ck") ;;
    s3-parquet) inv=(--inventory "$(ls "$work"/s3/fixture-bucket/flink-chk-inventory-parquet/*/manifest.json)"
                     --rebase "s3://fixture-bucket$ck=$ck") ;;
    parquet) inv=(--inventory "$work/inventory.parquet" --inventory-time "$time_") ;;
    gcs-parquet) inv=(--inventory "$(ls "$work"/gcs-parquet/*_manifest.json)" --rebase "gs://fixture-bucket$ck=$ck") ;;
    azure-parquet) inv=(--inventory "$(ls "$work"/azure/*/*/*/*/flinkchkparquet/flinkchkparquet-manifest.json)"
                        --rebase "wasbs://fixture-container@$azure_host$ck=$ck") ;;
  esac
  for stopped in no yes; do
    extra=(); [ $stopped = yes ] && extra=(--stopped)
    c="$work/$fmt-$stopped"
    mkdir -p "$c"
    t=$(ms)
    "$bin" refs export "$ck" "${policy[@]}" "${inv[@]}" "${extra[@]}" --out "$c/refs.csv" \
      --emit-sql "$engine" --sql-out "$c/candidates.sql" --sql-candidates "file://$c/candidates" --json > "$c/export.json"
    t_export=$(( $(ms) - t ))
    t=$(ms)
    if [ "$engine" = flink ]; then
      bash "$repo/tests/fixtures/generator/generate.sh" engine-sql "$c/candidates.sql" "$flink_version" > "$c/$engine.log" 2>&1 \
        || { tail -30 "$c/$engine.log"; exit 1; }
    else
      # Local mode, 2 cores, no UI; the metastore and warehouse stay in the case directory.
      # The raw local file system: Hadoop's checksummed one looks for `.NAME.crc` beside
      # each file and cannot name it when NAME has a `:` (GCS shards carry their time);
      # -e, as the CLI reads a -f FILE through the checksummed one.
      (cd "$c" && "$spark_sql" --master 'local[2]' --driver-memory 1g --conf spark.ui.enabled=false \
        --conf spark.hadoop.fs.file.impl=org.apache.hadoop.fs.RawLocalFileSystem \
        --conf "spark.sql.warehouse.dir=$c/warehouse" --conf spark.sql.shuffle.partitions=2 \
        -e "$(cat "$c/candidates.sql")") > "$c/$engine.log" 2>&1 || { tail -30 "$c/$engine.log"; exit 1; }
    fi
    t_engine=$(( $(ms) - t ))
    t=$(ms)
    "$bin" safe-to-delete "$ck" "${policy[@]}" "${inv[@]}" "${extra[@]}" --dry-run --json > "$c/plan.json"
    t_plan=$(( $(ms) - t ))
    out="$(ls "$c"/candidates/part-* | grep -v '[.]crc$')"
    python3 - "$c" "$out" "$work" > "$c/compare.txt" <<'PY' && ok=yes || { ok=NO; fail=1; }
import csv, json, os, sys
c, out, work = sys.argv[1:4]
rows = list(csv.reader(open(out)))
assert rows[0] == ["path", "size", "last_modified"], rows[0]
engine = {r[0]: (r[1], r[2]) for r in rows[1:]}
plan = json.load(open(os.path.join(c, "plan.json")))
cands = plan["candidates"]
assert not any(x["is_dir"] for x in cands)
want = {x["path"] for x in cands}
got = set(engine)
refs = sum(1 for r in csv.reader(open(os.path.join(c, "refs.csv"))) if r[0] == "ref")
listed = {}
for r in list(csv.reader(open(os.path.join(work, "inventory.csv"))))[1:]:
    listed[r[0]] = r[1]
bad_size = [p for p, (s, _) in engine.items() if listed.get(p) != s]
print(refs, len(got), len(want), "yes" if got == want and not bad_size else "NO")
for p in sorted(want - got): print("only in plan:", p, file=sys.stderr)
for p in sorted(got - want): print("only in engine:", p, file=sys.stderr)
for p in bad_size: print("size differs:", p, file=sys.stderr)
sys.exit(0 if got == want and not bad_size else 1)
PY
    read -r nrefs neng nplan _ < "$c/compare.txt" || true
    printf '%-13s %-8s %6s %6s %6s %9s %9s %9s  %s\n' "$fmt" "$([ $stopped = yes ] && echo stopped || echo running)" \
      "$nrefs" "$neng" "$nplan" "$t_export" "$t_engine" "$t_plan" "$ok"
  done
done
[ "$engine" = spark ] && echo "$("$spark_sql" --version 2>&1 | grep -m1 -o 'version [0-9.]*' | sed 's/^/Spark /')"
grep -h "engine-sql\] total" "$work"/*/flink.log 2>/dev/null | head -1 | sed "s/^/one Flink run, inside the JVM: /" || true
exit $fail

#!/usr/bin/env bash
# The cleanup's anti-join on a real engine: `flink-chk refs export --emit-sql flink`
# run by Flink's own batch SQL engine (or `--emit-sql spark` by Spark SQL), its
# candidates compared with `flink-chk safe-to-delete --dry-run --json --inventory`
# on the same tree and report.
#
#   benches/engine-sql.sh [VERSION/SCENARIO]     (default 2.3/rocksdb-incremental)
#   ENGINE=spark benches/engine-sql.sh [...]     (default ENGINE=flink)
#
# 1. The committed fixture tree is copied to a temporary directory; every file
#    gets a time 72 h ago (a whole minute) and each chk-N/_metadata N+1 minutes
#    later (Flink's write order at a resolution every report keeps).
# 2. Three inventory reports of the copy, taken "24 h ago" (python3; the same
#    layouts as tests/common/inventory.rs): the generic CSV path,size,last_modified,
#    an `hdfs oiv -p Delimited` dump, and an S3 Inventory (manifest.json +
#    manifest.checksum, 3 CSV.gz data files, keys URL-encoded, bucket
#    fixture-bucket, mapped onto the local copy with --rebase).
# 3. For each report and each policy (jobs running / --stopped), with
#    --keep-last 1 --min-age 1h:
#      flink-chk refs export ROOT --out refs.csv --emit-sql flink --sql-out q.sql ...
#      generate.sh engine-sql q.sql           (Flink 2.3 from PyPI, local batch TableEnvironment)
#      or, ENGINE=spark: --emit-sql spark, then
#      spark-sql --master 'local[2]' -f q.sql (pyspark from PyPI: $SPARK_HOME/bin/spark-sql,
#      else the spark-sql on PATH)
#      flink-chk safe-to-delete ROOT --dry-run --json --inventory ...
#    and the engine's rows (path) must equal the plan's candidates exactly;
#    every row's size and time must be the report's.
# The export is CSV here: Flink reads Parquet only with flink-sql-parquet, a
# Maven Central jar that apache-flink-libraries does not ship.
#
# Env: FLINK_CHK_BIN (default $CARGO_TARGET_DIR/debug/flink-chk, else target/debug/flink-chk),
#      FLINK_VERSION (default 2.3.0), KEEP=1 keeps the work directory,
#      ENGINE (flink or spark), SPARK_SQL (default $SPARK_HOME/bin/spark-sql, else spark-sql).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
case_="${1:-2.3/rocksdb-incremental}"
flink_version="${FLINK_VERSION:-2.3.0}"
engine="${ENGINE:-flink}"
case $engine in
  flink) ;;
  spark) spark_sql="${SPARK_SQL:-${SPARK_HOME:+$SPARK_HOME/bin/}spark-sql}" ;;
  *) echo "ENGINE=$engine: flink or spark" >&2; exit 64 ;;
esac
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
print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(taken)))
PY
)"
manifest="$(ls "$work"/s3/fixture-bucket/flink-chk-inventory/*/manifest.json)"
echo "tree $ck ($(find "$ck" -type f | wc -l) files), reports taken $time_"

policy=(--keep-last 1 --min-age 1h --rebase "file:$generated=$tree")
fail=0
printf '%-5s %-8s %6s %6s %6s %9s %9s %9s  %s\n' report policy refs engine plan export_ms "${engine}_ms" plan_ms match
for fmt in csv oiv s3; do
  case $fmt in
    csv) inv=(--inventory "$work/inventory.csv" --inventory-time "$time_") ;;
    oiv) inv=(--inventory "$work/fsimage.tsv" --inventory-time "$time_") ;;
    s3) inv=(--inventory "$manifest" --rebase "s3://fixture-bucket$ck=$ck") ;;
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
      (cd "$c" && "$spark_sql" --master 'local[2]' --driver-memory 1g --conf spark.ui.enabled=false \
        --conf "spark.sql.warehouse.dir=$c/warehouse" --conf spark.sql.shuffle.partitions=2 \
        -f "$c/candidates.sql") > "$c/$engine.log" 2>&1 || { tail -30 "$c/$engine.log"; exit 1; }
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
    printf '%-5s %-8s %6s %6s %6s %9s %9s %9s  %s\n' "$fmt" "$([ $stopped = yes ] && echo stopped || echo running)" \
      "$nrefs" "$neng" "$nplan" "$t_export" "$t_engine" "$t_plan" "$ok"
  done
done
[ "$engine" = spark ] && echo "$("$spark_sql" --version 2>&1 | grep -m1 -o 'version [0-9.]*' | sed 's/^/Spark /')"
grep -h "engine-sql\] total" "$work"/*/flink.log 2>/dev/null | head -1 | sed "s/^/one Flink run, inside the JVM: /" || true
exit $fail

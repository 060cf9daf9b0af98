#!/usr/bin/env bash
# Planning time and peak memory of the cleanup planner,
# `flink-chk safe-to-delete --dry-run --json ROOT`, on a local root of
# >= 1,000,000 files and on SeaweedFS (S3, started by tests/servers/) with
# >= 100,000 objects, beside `find`, `flink-chk ls` and `aws s3 ls` on the
# same trees. Writes target/bench-results/cleanup.md.
#
#   benches/cleanup.sh [LOCAL_COPIES [S3_COPIES]]
#     defaults 7050 copies (7051 jobs x 142 files = 1,001,242 files)
#     and 705 copies (706 jobs x 142 = 100,252 objects)
#   tests/servers/with-servers.sh benches/cleanup.sh     to include S3
#
# Env: FLINK_CHK_BIN=PATH uses that binary instead of building
# target/release/flink-chk; FLINK_CHK_BENCH_DIR (default
# /tmp/flink-chk-bench-cleanup) holds the cached trees; FLINK_CHK_BENCH_RUNS
# (default 3) hyperfine runs per command, after one warm-up run.
#
# Each root holds the committed 2.3 rocksdb-incremental job (real Flink
# files: chk-4, chk-5, chk-6, 118 shared/ files) under its own id plus COPIES
# hard-linked copies under fresh 32-hex job ids. Each copy's `_metadata` files
# are private copies whose recorded paths name the copy's own job id (same
# length, so every length prefix stays valid), so the planner reads 7,051
# distinct kept snapshots whose references land in their own job directories.
# Recorded paths start with the scenario's generated_root and are mapped into
# the root with --rebase.
#
# Policy: no profile (XDG_CONFIG_HOME is an empty directory; for S3 a profile
# holding only the endpoint and credentials), `--keep-last 1 --min-age 0s --stopped`
# (the hard-linked files keep git checkout times, not Flink's write order, so
# without --stopped shared/ files "newer than the newest checkpoint" would wait):
# per job chk-6 is kept, chk-4/ and chk-5/ are whole-directory candidates and
# the 59 shared/ files chk-6 no longer references are file candidates.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
copies="${1:-7050}"
s3copies="${2:-705}"
runs="${FLINK_CHK_BENCH_RUNS:-3}"
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)" >&2; exit 2; }
if [ -n "${FLINK_CHK_BIN:-}" ]; then
  bin="$FLINK_CHK_BIN"
else
  cargo build --release --locked --quiet
  bin="$repo/target/release/flink-chk"
fi
out="$repo/target/bench-results"
mkdir -p "$out"
scen="$repo/tests/fixtures/flink/2.3/rocksdb-incremental"
gen="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["generated_root"])' "$scen/scenario.json")"
job="$(ls "$scen/checkpoints")"
work="${FLINK_CHK_BENCH_DIR:-/tmp/flink-chk-bench-cleanup}"
mkdir -p "$work/config-none"
unset FLINK_CHK_CONFIG FLINK_CHK_PROFILE
policy=(--keep-last 1 --min-age 0s --stopped)
md="$out/cleanup.md"

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
  echo "building $dir: $n copies" >&2
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
print("rewrote %d _metadata files in %d copies" % (len(tmpl) * len(open(ids).read().split()), len(open(ids).read().split())), file=sys.stderr)
PY
  echo "$n" > "$work/$name.done"
}

# verify ROOT REBASE ID: deps --verify of copy ID's chk-6 passes and every
# file it needs is under ROOT/ID/.
verify() {
  "$bin" deps --verify --json --rebase "$2" "$1/$3/chk-6" > "$work/verify.json"
  python3 - "$work/verify.json" "$1/$3/" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2].split("://", 1)[-1]
paths = [f["path"] for f in d["files"]]
bad = [p for p in paths if want not in p]
assert d["verify"]["ok"] and paths and not bad, (d["verify"], bad[:3])
print("verified %s: %d files, all under %s" % (d["snapshot"], len(paths), sys.argv[2]), file=sys.stderr)
PY
}

# totals PLAN.json: the plan's totals as one markdown line.
totals() {
  python3 - "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
t = p["totals"]
kinds = {}
for c in p["candidates"]:
    k = kinds.setdefault(c["reason"], [0, 0, 0])
    k[0] += 1; k[1] += c["files"]; k[2] += c["bytes"]
print("Plan totals: candidate_files %d, candidate_bytes %d (%.1f MiB), files_listed %d, "
      "snapshots_read %d, referenced_files %d; %d candidates (%s)." % (
    t["candidate_files"], t["candidate_bytes"], t["candidate_bytes"] / 2**20, t["files_listed"],
    t["snapshots_read"], t["referenced_files"], len(p["candidates"]),
    ", ".join("%s: %d, %d files" % (r, n, f) for r, (n, f, _) in sorted(kinds.items()))))
PY
}

# phases LABEL CMD: one run with stderr on a pseudo-terminal (so the progress
# spinner is drawn), timed per output chunk by script(1); prints when each
# progress phase was first shown.
phases() {
  command -v script >/dev/null || { echo "(script(1) not installed: no phase breakdown)"; return; }
  script -q -e --log-timing "$work/phases.timing" --log-out "$work/phases.out" \
    -c "$2 >/dev/null" </dev/null >/dev/null
  python3 - "$work/phases.timing" "$work/phases.out" "$1" <<'PY'
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
    for m in re.finditer(r"(planning|listing savepoints|listing|reading kept snapshots|classifying) \d", chunk):
        first.setdefault(m.group(1), t)
order = sorted(first.items(), key=lambda kv: kv[1])
parts = []
for i, (name, start) in enumerate(order):
    end = order[i + 1][1] if i + 1 < len(order) else t
    parts.append("%s %.1f s" % (name if i + 1 < len(order) else name + " + JSON output", end - start))
print("Phases (%s, one run, from the progress display, +-0.12 s): %s; total %.1f s." % (label, "; ".join(parts), t))
PY
}

# rss LABEL CMD...: peak RSS and wall time of one run.
rss() {
  local label="$1"; shift
  /usr/bin/time -f "%M KiB max RSS, %e s" "$@" 2>"$work/rss.txt" >/dev/null
  echo "- $label: $(tail -1 "$work/rss.txt")"
}

# ---- local disk -------------------------------------------------------------
make_root local "$copies"
root="$work/local/checkpoints"
rb="$gen/checkpoints=$root"
files=$(find "$root" -type f | wc -l)
echo "root $root: $files files" >&2
export XDG_CONFIG_HOME="$work/config-none"   # no profile
verify "$root" "$rb" "$(tail -1 "$work/local.ids")"
plan="$bin safe-to-delete --dry-run --json ${policy[*]} --rebase $rb $root"
$plan > "$work/plan-local.json"
{
  echo "# Cleanup planner benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $("$bin" --version))"
  echo
  echo "\`flink-chk safe-to-delete --dry-run --json ${policy[*]} --rebase GENERATED_ROOT/checkpoints=ROOT ROOT\`,"
  echo "no profile. Each root: the committed Flink 2.3 RocksDB incremental job plus hard-linked copies"
  echo "under fresh job ids, each copy's \`_metadata\` rewritten to name its own id."
  echo
  echo "## Local disk: $files files in $((copies + 1)) job directories"
  echo
  totals "$work/plan-local.json"
  echo
} > "$md"
hyperfine -w 1 -r "$runs" --export-markdown "$work/cleanup-local.md" \
  -n "safe-to-delete --dry-run --json (local)" "$plan" \
  -n "safe-to-delete --dry-run, human output (local)" "${plan/ --json/}" \
  -n "flink-chk ls (local)" "$bin ls $root" \
  -n "find -type f -printf '%s %T@ %p' | wc -l (local; stats every file, as the plan must)" \
  "find $root -type f -printf '%s %T@ %p\\n' | wc -l" \
  -n "find -type f | wc -l (local)" "find $root -type f | wc -l" >&2
{
  cat "$work/cleanup-local.md"
  echo
  echo "Peak memory (one run each):"
  echo
  # shellcheck disable=SC2086
  rss "safe-to-delete --dry-run --json" $plan
  # shellcheck disable=SC2086
  rss "safe-to-delete --dry-run, human output" ${plan/ --json/}
  # shellcheck disable=SC2086
  rss "safe-to-delete --dry-run --json scoped to one job (whole-root listing and kept-snapshot reads, 142 files classified)" \
    $plan/"$(tail -1 "$work/local.ids")"
  rss "flink-chk ls" "$bin" ls "$root"
  echo
  phases "local" "$plan"
  echo
  echo "(\"planning\": the directory levels listed before the recursive listing; \"listing\": the recursive"
  echo "listing folded into jobs; \"reading kept snapshots\": the kept \`_metadata\` files; \"classifying\":"
  echo "a second recursive listing of the scope, each file classified, then the plan sorted and printed.)"
} >> "$md"

# ---- SeaweedFS (S3) ---------------------------------------------------------
if [ -n "${FLINK_CHK_TEST_S3_ENDPOINT:-}" ]; then
  make_root s3 "$s3copies"
  bucket="$FLINK_CHK_TEST_S3_BUCKET"
  prefix="bench-cleanup"
  s3root="s3://$bucket/$prefix/checkpoints"
  s0=$(date +%s)
  FLINK_CHK_UPLOAD_JOBS=32 FLINK_CHK_UPLOAD_S3_TOOL=python bash tests/servers/upload.sh s3 "$work/s3" "$prefix" >&2
  s1=$(date +%s)
  export XDG_CONFIG_HOME="$work/config-s3"
  cfg="$XDG_CONFIG_HOME/flink-chk"; mkdir -p "$cfg"
  cat > "$cfg/profiles.yaml" <<YAML
default: bench
profiles:
  bench:
    checkpoints: $s3root
    storage:
      s3:
        endpoint: $FLINK_CHK_TEST_S3_ENDPOINT
        region: us-east-1
        path_style: true
        access_key_id: $FLINK_CHK_TEST_S3_ACCESS_KEY
        secret_access_key: $FLINK_CHK_TEST_S3_SECRET_KEY
YAML
  chmod 600 "$cfg/profiles.yaml"
  objects=$(bash tests/servers/aws.sh s3 ls --recursive "s3://$bucket/$prefix/" | wc -l)
  echo "$s3root: $objects objects" >&2
  s3rb="$gen/checkpoints=$s3root"
  verify "$s3root" "$s3rb" "$(tail -1 "$work/s3.ids")"
  s3plan="$bin safe-to-delete --dry-run --json ${policy[*]} --rebase $s3rb $s3root"
  $s3plan > "$work/plan-s3.json"
  {
    echo
    echo "## SeaweedFS (S3 on 127.0.0.1): $objects objects in $((s3copies + 1)) job directories (upload took $((s1 - s0)) s)"
    echo
    echo "Profile with only the endpoint and credentials (retention from the flags above)."
    echo
    totals "$work/plan-s3.json"
    echo
  } >> "$md"
  hyperfine -w 1 -r "$runs" --export-markdown "$work/cleanup-s3.md" \
    -n "safe-to-delete --dry-run --json (s3)" "$s3plan" \
    -n "flink-chk ls (s3)" "$bin ls $s3root" \
    -n "aws s3 ls --recursive (s3)" "bash tests/servers/aws.sh s3 ls --recursive s3://$bucket/$prefix/ >/dev/null" >&2
  {
    cat "$work/cleanup-s3.md"
    echo
    echo "Peak memory (one run each):"
    echo
    # shellcheck disable=SC2086
    rss "safe-to-delete --dry-run --json" $s3plan
    # shellcheck disable=SC2086
    rss "safe-to-delete --dry-run --json scoped to one job" $s3plan/"$(tail -1 "$work/s3.ids")"
    rss "flink-chk ls" "$bin" ls "$s3root"
    echo
    phases "S3" "$s3plan"
  } >> "$md"
else
  echo -e "\n(S3 skipped: run under tests/servers/with-servers.sh to include it.)" >> "$md"
fi
cat "$md"

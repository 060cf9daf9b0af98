#!/usr/bin/env bash
# `ls` and `deps --verify` on a root of >= 100,000 files, on local disk and on
# SeaweedFS (S3, started by tests/servers/), beside `aws s3 ls --recursive` on
# the same bucket. Writes target/bench-results/storage.md.
#
#   benches/storage.sh [COPIES]      (default 705 copies x 142 files = 100,110 files)
#
# The root holds the committed 2.3 rocksdb-incremental job (real Flink files)
# under its own id plus COPIES hard-linked copies under fresh job ids, so
# every job directory is a real Flink layout with real file sizes. The
# snapshot checked by `deps --verify` is the original job's newest checkpoint,
# whose recorded paths are mapped into the root with --rebase.
# Run it under tests/servers/with-servers.sh to include the S3 figures.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
copies="${1:-705}"
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --locked --quiet
bin="$repo/target/release/flink-chk"
out="$repo/target/bench-results"
mkdir -p "$out"
scen="$repo/tests/fixtures/flink/2.3/rocksdb-incremental"
gen="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["generated_root"])' "$scen/scenario.json")"
job="$(ls "$scen/checkpoints")"
work="${FLINK_CHK_BENCH_DIR:-/tmp/flink-chk-bench}"
root="$work/root/checkpoints"
if [ ! -f "$work/.done-$copies" ]; then
  rm -rf "$work"; mkdir -p "$root"
  cp -a "$scen/checkpoints/$job" "$root/$job"
  for i in $(seq 1 "$copies"); do
    cp -al "$scen/checkpoints/$job" "$root/$(printf '%08x%024x' "$i" "$RANDOM$RANDOM")"
  done
  touch "$work/.done-$copies"
fi
files=$(find "$root" -type f | wc -l)
echo "root $root: $files files" >&2
env -u FLINK_CHK_CONFIG true
export XDG_CONFIG_HOME="$work/config"   # no profile
rb="$gen/checkpoints=$root"
snap="$root/$job/chk-6"
{
  echo "# Storage benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  echo
  echo "Root: $files files in $((copies + 1)) job directories (real Flink 2.3 RocksDB incremental layout)."
  echo
  echo "## Local disk"
  echo
} > "$out/storage.md"
hyperfine -w 1 -r 5 --export-markdown "$out/storage-local.md" \
  -n "flink-chk ls (local)" "$bin ls $root" \
  -n "flink-chk ls --json (local)" "$bin ls --json $root" \
  -n "flink-chk deps --verify (local)" "$bin deps --verify --rebase $rb $snap" \
  -n "find -type f | wc -l (local)" "find $root -type f | wc -l" \
  -n "find -type f -printf %s (local, stats every file)" "find $root -type f -printf '%s\n' | wc -l" >&2
cat "$out/storage-local.md" >> "$out/storage.md"
/usr/bin/time -f "%M KiB max RSS, %e s" "$bin" ls "$root" 2>"$out/rss-local.txt" >/dev/null
echo -e "\nPeak memory, \`flink-chk ls\` local: $(tail -1 "$out/rss-local.txt")" >> "$out/storage.md"

if [ -n "${FLINK_CHK_TEST_S3_ENDPOINT:-}" ]; then
  prefix="bench"
  bucket="$FLINK_CHK_TEST_S3_BUCKET"
  s0=$(date +%s)
  FLINK_CHK_UPLOAD_JOBS=32 FLINK_CHK_UPLOAD_S3_TOOL=python bash tests/servers/upload.sh s3 "$work/root" "$prefix" >&2
  s1=$(date +%s)
  cfg="$work/config/flink-chk"; mkdir -p "$cfg"
  cat > "$cfg/profiles.yaml" <<YAML
default: bench
profiles:
  bench:
    checkpoints: s3://$bucket/$prefix/checkpoints
    storage:
      s3:
        endpoint: $FLINK_CHK_TEST_S3_ENDPOINT
        region: us-east-1
        path_style: true
        access_key_id: $FLINK_CHK_TEST_S3_ACCESS_KEY
        secret_access_key: $FLINK_CHK_TEST_S3_SECRET_KEY
YAML
  chmod 600 "$cfg/profiles.yaml"
  s3root="s3://$bucket/$prefix/checkpoints"
  objects=$(bash tests/servers/aws.sh s3 ls --recursive "s3://$bucket/$prefix/" | wc -l)
  {
    echo
    echo "## SeaweedFS (S3 on 127.0.0.1), $objects objects (upload took $((s1 - s0)) s)"
    echo
  } >> "$out/storage.md"
  hyperfine -w 1 -r 5 --export-markdown "$out/storage-s3.md" \
    -n "flink-chk ls (s3)" "$bin ls $s3root" \
    -n "flink-chk deps --verify (s3)" "$bin deps --verify --rebase $gen/checkpoints=$s3root $s3root/$job/chk-6" \
    -n "aws s3 ls --recursive (s3)" "bash tests/servers/aws.sh s3 ls --recursive s3://$bucket/$prefix/ >/dev/null" >&2
  cat "$out/storage-s3.md" >> "$out/storage.md"
  /usr/bin/time -f "%M KiB max RSS, %e s" "$bin" ls "$s3root" 2>"$out/rss-s3.txt" >/dev/null
  echo -e "\nPeak memory, \`flink-chk ls\` on S3: $(tail -1 "$out/rss-s3.txt")" >> "$out/storage.md"
fi
cat "$out/storage.md"

#!/usr/bin/env bash
# End-to-end comparison on one small real _metadata: `flink-chk inspect`
# (release build) vs Flink's own loader on the JVM (the generator's Oracle,
# Checkpoints.loadCheckpointMetadata) vs the heuristic scanner operators use
# today (../shared/baselines/heuristic_scanner.py). Uses hyperfine (Debian
# package `hyperfine`). Writes target/bench-results/e2e.md.
#
#   benches/e2e.sh [METADATA_FILE]
#
# Needs Java 17 and the generator's Flink cache (tests/fixtures/generator/
# generate.sh fixtures has run once); without them only flink-chk and the
# heuristic scanner are timed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
file="${1:-$(ls -d tests/fixtures/flink/2.3/rocksdb-incremental/checkpoints/*/chk-* | sort -V | tail -1)/_metadata}"
command -v hyperfine >/dev/null || { echo "install hyperfine (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release --locked --quiet
bin="$repo/target/release/flink-chk"
out="$repo/target/bench-results"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cmds=(-n "flink-chk inspect" "$bin inspect $file"
      -n "flink-chk inspect --json --files" "$bin inspect --json --files $file"
      -n "heuristic_scanner.py" "python3 ../shared/baselines/heuristic_scanner.py $file /tmp file")
if oracle="$(tests/fixtures/generator/generate.sh oracle-cmd 2>/dev/null | tail -1)" && [ -n "$oracle" ]; then
  oracle="${oracle/<_metadata or dir>/$file}"
  oracle="${oracle/<out.json>/$tmp/oracle.json}"
  oracle="${oracle/\[external-pointer\]/}"
  cmds+=(-n "JVM: Checkpoints.loadCheckpointMetadata" "$oracle")
else
  echo "note: Flink cache not found; skipping the JVM loader" >&2
fi
hyperfine -N --warmup 3 --min-runs 10 --export-markdown "$out/e2e.md" "${cmds[@]}"
echo "file: $file ($(stat -c %s "$file") bytes)" >> "$out/e2e.md"
cat "$out/e2e.md"

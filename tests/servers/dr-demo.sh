#!/usr/bin/env bash
# The README's DR setup as a new user tries it, against SeaweedFS: prod and dr
# are two buckets with two identities (dr's keys cannot read prod's bucket).
# Run: cargo build && tests/servers/with-servers.sh tests/servers/dr-demo.sh
# (F=path/to/flink-chk to try another binary). Prints every command and its output.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
F=${F:-$REPO/target/debug/flink-chk}
T=$(mktemp -d "${TMPDIR:-/tmp}/flink-chk-dr-demo.XXXXXX")
export XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
G=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"generated_root\"])" "$REPO/tests/fixtures/flink/2.3/rocksdb-incremental/scenario.json")
FIX=$REPO/tests/fixtures/flink/2.3/rocksdb-incremental
J=$(ls $FIX/checkpoints)
P=dr-try-$$
mkdir -p $XDG_CONFIG_HOME/flink-chk
cat > $XDG_CONFIG_HOME/flink-chk/profiles.yaml <<YAML
default: prod
profiles:
  prod:
    checkpoints: s3://$FLINK_CHK_TEST_S3_BUCKET/$P/prod/checkpoints
    storage:
      s3: { endpoint: "$FLINK_CHK_TEST_S3_ENDPOINT", region: "$FLINK_CHK_TEST_S3_REGION", path_style: true, access_key_id: "$FLINK_CHK_TEST_S3_ACCESS_KEY", secret_access_key: "$FLINK_CHK_TEST_S3_SECRET_KEY" }
    jobs: { orders: $J }
    replication:
      to: "dr:"
      keep: 1
      priorities: { orders: 9 }
  dr:
    checkpoints: s3://$FLINK_CHK_TEST_S3_BUCKET2/$P/dr/checkpoints
    storage:
      s3: { endpoint: "$FLINK_CHK_TEST_S3_ENDPOINT", region: "$FLINK_CHK_TEST_S3_REGION", path_style: true, access_key_id: "$FLINK_CHK_TEST_S3_ACCESS_KEY2", secret_access_key: "$FLINK_CHK_TEST_S3_SECRET_KEY2" }
    jobs: { orders: $J }
YAML
chmod 600 $XDG_CONFIG_HOME/flink-chk/profiles.yaml
run() { echo; echo "\$ flink-chk $*"; "$F" "$@"; echo "[exit $?]"; }
# "Flink" writes chk-4 and chk-5 into prod (a copy of the real-Flink fixture).
run copy $FIX/checkpoints/$J/chk-4 $FIX/checkpoints/$J/chk-5 --to prod: --rebase $G=$FIX
run profile check dr
run replicate
run replicate --status
# Continuously, while chk-6 completes in prod.
"$F" replicate --watch --interval 2s --yes > $T/watch.out 2> $T/watch.err &
W=$!
sleep 4
run copy $FIX/checkpoints/$J/chk-6 --to prod: --rebase $G=$FIX
sleep 8
run replicate --status
kill -TERM $W; wait $W; echo "[watch exit $?]"
echo "--- watch stderr"; cat $T/watch.err
echo "--- watch stdout"; cat $T/watch.out
run -p dr ls orders
run -p dr replicate --to dr: --promote orders
run -p dr deps orders@latest --verify

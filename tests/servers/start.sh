#!/usr/bin/env bash
# Start real storage servers on 127.0.0.1 for flink-chk integration tests:
#   S3     SeaweedFS `weed mini` (SigV4 with a fixed test key, path-style)
#   GCS    fake-gcs-server (http, in-memory, no auth)
#   Azure  Azurite blob (in-memory, SharedKey with the devstoreaccount1 key)
# and create the bucket/container `flink-chk-test` in each, plus a second S3
# bucket `flink-chk-test2` that a second S3 identity (only) may use.
#
# Usage: start.sh [RUN_DIR]
#   RUN_DIR defaults to $FLINK_CHK_SERVERS_RUN_DIR or a new mktemp dir. It gets
#   the data dirs, logs (*.log), PIDs and the env file `RUN_DIR/env`, whose path
#   is the only thing printed on stdout. Source it, run tests, then stop.sh.
# Env: FLINK_CHK_SERVERS_TIMEOUT (readiness timeout per server, default 60 s).
set -euo pipefail
SERVERS_TAG=start
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TIMEOUT="${FLINK_CHK_SERVERS_TIMEOUT:-60}"

for b in weed fake-gcs-server azurite-blob; do
    [[ -x "$SERVERS_BIN/$b" ]] || srv_die "$SERVERS_BIN/$b missing: run tests/servers/install.sh first"
done
command -v curl >/dev/null || srv_die "curl not found"

RUN_DIR="${1:-${FLINK_CHK_SERVERS_RUN_DIR:-}}"
if [[ -z "$RUN_DIR" ]]; then
    RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/flink-chk-servers.XXXXXX")"
fi
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
[[ ! -f "$RUN_DIR/pids" ]] || srv_die "$RUN_DIR already has running servers (pids file); stop.sh it first"
# weed puts unix sockets here; sun_path is limited to 107 bytes.
((${#RUN_DIR} < 80)) || srv_die "RUN_DIR path too long for unix sockets: $RUN_DIR"
mkdir -p "$RUN_DIR/s3" "$RUN_DIR/azure"
: >"$RUN_DIR/pids"

# If anything below fails, stop what was started.
started_ok=0
cleanup_on_fail() {
    if ((started_ok == 0)); then
        srv_log "start failed; stopping what was started (logs kept in $RUN_DIR)"
        FLINK_CHK_SERVERS_KEEP=1 "$SERVERS_SCRIPT_DIR/stop.sh" "$RUN_DIR" >&2 || true
    fi
}
trap cleanup_on_fail EXIT

# Serialise port picking + startup between concurrent start.sh runs on this
# machine, so two runs do not both grab a port that looked free.
mkdir -p "$SERVERS_DIR"
if command -v flock >/dev/null; then
    exec 9>"$SERVERS_DIR/.start.lock"
    flock -w 120 9 || srv_die "timed out waiting for $SERVERS_DIR/.start.lock"
fi

t_start=$(date +%s.%N)

# ---- ports -------------------------------------------------------------------
pick_port 8333;  S3_PORT=$SRV_PORT
pick_port 18333; S3_GRPC_PORT=$SRV_PORT
pick_port 9333;  W_MASTER_PORT=$SRV_PORT
pick_port 19333; W_MASTER_GRPC_PORT=$SRV_PORT
pick_port 9340;  W_VOLUME_PORT=$SRV_PORT
pick_port 19340; W_VOLUME_GRPC_PORT=$SRV_PORT
pick_port 8888;  W_FILER_PORT=$SRV_PORT
pick_port 18888; W_FILER_GRPC_PORT=$SRV_PORT
pick_port 23646; W_ADMIN_PORT=$SRV_PORT
pick_port 33646; W_ADMIN_GRPC_PORT=$SRV_PORT
pick_port 4443;  GCS_PORT=$SRV_PORT
pick_port 10000; AZURE_PORT=$SRV_PORT

# launch NAME LOG NEEDLE CMD...: start CMD in the background, detached from
# our stdio and from the lock fd, and record its PID. NEEDLE is a string in its
# command line that stop.sh checks before killing. No setsid on purpose: the
# servers stay in the caller's process group, so killing that group (CI
# timeout, `kill -- -PGID`) takes them down too.
launch() {
    local name="$1" logf="$2" needle="$3"
    shift 3
    nohup "$@" >"$logf" 2>&1 </dev/null 9>&- &
    local pid=$!
    printf '%s %s %s\n' "$name" "$pid" "$needle" >>"$RUN_DIR/pids"
    printf -v "${name}_PID" '%s' "$pid"
}

# ---- SeaweedFS (S3) ------------------------------------------------------------
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY make `weed mini` create an admin
# identity with that key; then unsigned requests get 403 and SigV4 is checked.
# -s3.config adds the identities of s3-identities.json: the same admin key
# (identity 1, every bucket) and identity 2, whose actions name only
# $TEST_BUCKET2 (anything on another bucket gets 403 AccessDenied).
cat >"$RUN_DIR/s3-identities.json" <<JSON
{
  "identities": [
    {
      "name": "flinkchk",
      "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    },
    {
      "name": "flinkchk2",
      "credentials": [{"accessKey": "$S3_ACCESS_KEY2", "secretKey": "$S3_SECRET_KEY2"}],
      "actions": ["Read:$TEST_BUCKET2", "List:$TEST_BUCKET2", "Tagging:$TEST_BUCKET2", "Write:$TEST_BUCKET2"]
    }
  ]
}
JSON
# Admin UI, WebDAV, Iceberg and Lance endpoints are off; the admin server
# itself still listens (no switch for it), so it gets a free port too.
launch S3 "$RUN_DIR/s3.log" "-dir=$RUN_DIR/s3" env \
    AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    "$SERVERS_BIN/weed" mini \
    -dir="$RUN_DIR/s3" \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.telemetry=false -admin.ui=false \
    -bucket="$TEST_BUCKET,$TEST_BUCKET2" -s3.config="$RUN_DIR/s3-identities.json" \
    -s3.port="$S3_PORT" -s3.port.grpc="$S3_GRPC_PORT" \
    -master.port="$W_MASTER_PORT" -master.port.grpc="$W_MASTER_GRPC_PORT" \
    -volume.port="$W_VOLUME_PORT" -volume.port.grpc="$W_VOLUME_GRPC_PORT" \
    -filer.port="$W_FILER_PORT" -filer.port.grpc="$W_FILER_GRPC_PORT" \
    -admin.port="$W_ADMIN_PORT" -admin.port.grpc="$W_ADMIN_GRPC_PORT" \
    -admin.dataDir="$RUN_DIR/s3/admin" \
    -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -filer.localSocket="$RUN_DIR/s3/filer.sock" -s3.localSocket="$RUN_DIR/s3/s3.sock"

# ---- fake-gcs-server (GCS) -------------------------------------------------------
launch GCS "$RUN_DIR/gcs.log" "-port $GCS_PORT" \
    "$SERVERS_BIN/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$GCS_PORT" \
    -backend memory -external-url "http://127.0.0.1:$GCS_PORT" -log-level warn

# ---- Azurite (Azure Blob) --------------------------------------------------------
# (--location cannot be combined with --inMemoryPersistence: run it in its own
# cwd so that nothing it might write lands elsewhere.)
cd "$RUN_DIR/azure"
launch AZURE "$RUN_DIR/azure.log" "--blobPort $AZURE_PORT" \
    "$SERVERS_BIN/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZURE_PORT" \
    --inMemoryPersistence --skipApiVersionCheck --loose --disableTelemetry --silent
cd "$RUN_DIR"

# ---- env file ------------------------------------------------------------------
S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
GCS_ENDPOINT="http://127.0.0.1:$GCS_PORT"
AZURE_ENDPOINT="http://127.0.0.1:$AZURE_PORT/$AZURE_ACCOUNT"
{
    echo "# flink-chk test storage servers, started $(date -u +%Y-%m-%dT%H:%M:%SZ) by tests/servers/start.sh"
    echo "export FLINK_CHK_SERVERS_RUN_DIR='$RUN_DIR'"
    echo "export FLINK_CHK_SERVERS_BIN='$SERVERS_BIN'"
    echo "export FLINK_CHK_TEST_S3_ENDPOINT='$S3_ENDPOINT'"
    echo "export FLINK_CHK_TEST_S3_BUCKET='$TEST_BUCKET'"
    echo "export FLINK_CHK_TEST_S3_ACCESS_KEY='$S3_ACCESS_KEY'"
    echo "export FLINK_CHK_TEST_S3_SECRET_KEY='$S3_SECRET_KEY'"
    echo "export FLINK_CHK_TEST_S3_REGION='$S3_REGION'"
    echo "export FLINK_CHK_TEST_S3_BUCKET2='$TEST_BUCKET2'"
    echo "export FLINK_CHK_TEST_S3_ACCESS_KEY2='$S3_ACCESS_KEY2'"
    echo "export FLINK_CHK_TEST_S3_SECRET_KEY2='$S3_SECRET_KEY2'"
    echo "export FLINK_CHK_TEST_GCS_ENDPOINT='$GCS_ENDPOINT'"
    echo "export FLINK_CHK_TEST_GCS_BUCKET='$TEST_BUCKET'"
    echo "export FLINK_CHK_TEST_AZURE_ENDPOINT='$AZURE_ENDPOINT'"
    echo "export FLINK_CHK_TEST_AZURE_ACCOUNT='$AZURE_ACCOUNT'"
    echo "export FLINK_CHK_TEST_AZURE_KEY='$AZURE_KEY'"
    echo "export FLINK_CHK_TEST_AZURE_CONTAINER='$TEST_BUCKET'"
    echo "export FLINK_CHK_TEST_AZURE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=$AZURE_ACCOUNT;AccountKey=$AZURE_KEY;BlobEndpoint=$AZURE_ENDPOINT;'"
    echo "export FLINK_CHK_TEST_S3_PID='$S3_PID'"
    echo "export FLINK_CHK_TEST_GCS_PID='$GCS_PID'"
    echo "export FLINK_CHK_TEST_AZURE_PID='$AZURE_PID'"
} >"$RUN_DIR/env"

# ---- readiness ----------------------------------------------------------------
fail_with_log() {
    local name="$1" logf="$2" msg="$3"
    srv_log "$name: $msg; last lines of $logf:"
    tail -n 30 "$logf" >&2 || true
    exit 1
}

# wait_http NAME PID LOG URL: until URL answers with any HTTP status.
wait_http() {
    local name="$1" pid="$2" logf="$3" url="$4" deadline code
    deadline=$(($(date +%s) + TIMEOUT))
    while :; do
        code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)"
        [[ "$code" == 000 || -z "$code" ]] || return 0
        kill -0 "$pid" 2>/dev/null || fail_with_log "$name" "$logf" "process $pid exited during startup"
        (($(date +%s) < deadline)) || fail_with_log "$name" "$logf" "not answering at $url after ${TIMEOUT}s"
        sleep 0.1
    done
}

# retry NAME PID LOG CMD...: run CMD until it succeeds (output of the last failure shown).
retry() {
    local name="$1" pid="$2" logf="$3" deadline out
    shift 3
    deadline=$(($(date +%s) + TIMEOUT))
    until out="$("$@" 2>&1)"; do
        kill -0 "$pid" 2>/dev/null || fail_with_log "$name" "$logf" "process $pid exited during startup"
        (($(date +%s) < deadline)) || { printf '%s\n' "$out" >&2; fail_with_log "$name" "$logf" "'$*' kept failing for ${TIMEOUT}s"; }
        sleep 0.2
    done
}

PY="$(srv_python)"
STORAGE_PY="$SERVERS_SCRIPT_DIR/storage.py"
# shellcheck disable=SC1091
source "$RUN_DIR/env"

wait_http S3 "$S3_PID" "$RUN_DIR/s3.log" "$S3_ENDPOINT/"
wait_http GCS "$GCS_PID" "$RUN_DIR/gcs.log" "$GCS_ENDPOINT/storage/v1/b"
wait_http AZURE "$AZURE_PID" "$RUN_DIR/azure.log" "$AZURE_ENDPOINT?comp=list"

# Bucket/container creation doubles as an auth check (S3 SigV4, Azure SharedKey).
retry S3 "$S3_PID" "$RUN_DIR/s3.log" "$PY" "$STORAGE_PY" mkbucket s3
retry S3 "$S3_PID" "$RUN_DIR/s3.log" "$PY" "$STORAGE_PY" list s3
# Bucket 2 (also created by -bucket) and identity 2, which may only use bucket 2.
retry S3 "$S3_PID" "$RUN_DIR/s3.log" env FLINK_CHK_TEST_S3_BUCKET="$TEST_BUCKET2" \
    "$PY" "$STORAGE_PY" mkbucket s3
retry S3 "$S3_PID" "$RUN_DIR/s3.log" env FLINK_CHK_TEST_S3_BUCKET="$TEST_BUCKET2" \
    FLINK_CHK_TEST_S3_ACCESS_KEY="$S3_ACCESS_KEY2" FLINK_CHK_TEST_S3_SECRET_KEY="$S3_SECRET_KEY2" \
    "$PY" "$STORAGE_PY" list s3
retry GCS "$GCS_PID" "$RUN_DIR/gcs.log" "$PY" "$STORAGE_PY" mkbucket gcs
retry GCS "$GCS_PID" "$RUN_DIR/gcs.log" "$PY" "$STORAGE_PY" list gcs
retry AZURE "$AZURE_PID" "$RUN_DIR/azure.log" "$PY" "$STORAGE_PY" mkbucket azure
retry AZURE "$AZURE_PID" "$RUN_DIR/azure.log" "$PY" "$STORAGE_PY" list azure

started_ok=1
ln -sfn "$RUN_DIR" "$SERVERS_DIR/last-run"
elapsed="$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
srv_log "ready in ${elapsed}s: S3 $S3_ENDPOINT (pid $S3_PID), GCS $GCS_ENDPOINT (pid $GCS_PID), Azure $AZURE_ENDPOINT (pid $AZURE_PID)"
srv_log "env file (source it): $RUN_DIR/env ; stop with: tests/servers/stop.sh $RUN_DIR"
printf '%s\n' "$RUN_DIR/env"

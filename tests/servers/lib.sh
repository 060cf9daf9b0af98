# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts that source this file
# Shared helpers for tests/servers/*.sh (sourced, not executed).

SERVERS_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVERS_DIR="${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}"
SERVERS_BIN="$SERVERS_DIR/bin"

# Azurite's well-known development account (public, documented by Microsoft).
AZURE_ACCOUNT=devstoreaccount1
AZURE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

# Fixed test credentials for SeaweedFS (they only exist in the throwaway server).
S3_ACCESS_KEY=flinkchk
S3_SECRET_KEY=flinkchk-secret-key
S3_REGION=us-east-1
TEST_BUCKET=flink-chk-test
# A second SeaweedFS identity, allowed only on a second bucket (for tests that
# need two buckets with different credentials). Identity 1 stays an admin.
S3_ACCESS_KEY2=flinkchk2
S3_SECRET_KEY2=flinkchk2-secret-key
TEST_BUCKET2=flink-chk-test2

srv_log() { printf '[%s] %s\n' "${SERVERS_TAG:-servers}" "$*" >&2; }
srv_die() { printf '[%s] ERROR: %s\n' "${SERVERS_TAG:-servers}" "$*" >&2; exit 1; }

# python3 used for helper scripts: the venv's if installed, else the system one.
srv_python() {
    if [[ -x "$SERVERS_DIR/venv/bin/python" ]]; then
        printf '%s\n' "$SERVERS_DIR/venv/bin/python"
    else
        command -v python3
    fi
}

# port_is_free PORT: true if nothing is bound to 127.0.0.1:PORT (same check a
# server doing SO_REUSEADDR+bind would hit).
port_is_free() {
    "$(srv_python)" - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# An OS-assigned free port on 127.0.0.1.
os_free_port() {
    "$(srv_python)" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pick_port PREFERRED: prints PREFERRED if free and not already taken by this
# run (SRV_TAKEN_PORTS), else an OS-assigned free port. Appends the result to
# SRV_TAKEN_PORTS (call it without a subshell: result is in SRV_PORT).
SRV_TAKEN_PORTS=" "
pick_port() {
    local want="$1" p tries=0
    p="$want"
    while [[ "$SRV_TAKEN_PORTS" == *" $p "* ]] || ! port_is_free "$p"; do
        tries=$((tries + 1))
        ((tries < 50)) || srv_die "could not find a free port (wanted $want)"
        p="$(os_free_port)"
    done
    if [[ "$p" != "$want" ]]; then
        srv_log "port $want is busy, using $p"
    fi
    SRV_TAKEN_PORTS+="$p "
    SRV_PORT="$p"
}

# pid_matches PID NEEDLE: PID is alive and its command line contains NEEDLE
# (guards against killing a recycled PID).
pid_matches() {
    local pid="$1" needle="$2" args
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        args="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    else
        args="$(ps -o args= -p "$pid" 2>/dev/null)" || return 1
    fi
    [[ "$args" == *"$needle"* ]]
}

# load_env: make sure the FLINK_CHK_TEST_* variables are set, sourcing the env
# file of $FLINK_CHK_SERVERS_RUN_DIR or of the last run if they are not.
load_env() {
    [[ -n "${FLINK_CHK_TEST_S3_ENDPOINT:-}" ]] && return 0
    local f=""
    if [[ -n "${FLINK_CHK_SERVERS_RUN_DIR:-}" ]]; then
        f="$FLINK_CHK_SERVERS_RUN_DIR/env"
    elif [[ -L "$SERVERS_DIR/last-run" ]]; then
        f="$SERVERS_DIR/last-run/env"
    fi
    [[ -n "$f" && -f "$f" ]] || srv_die "no servers running: FLINK_CHK_TEST_* not set and no env file found (run start.sh)"
    # shellcheck disable=SC1090
    source "$f"
}

# aws_cli ARGS...: awscli v1 from the cache dir, pointed at the SeaweedFS
# endpoint with the test key, path-style, 32 parallel S3 transfers. Does not
# touch ~/.aws (own config file, no shared credentials file).
aws_cli() {
    load_env
    local cfg="${FLINK_CHK_SERVERS_RUN_DIR:-${TMPDIR:-/tmp}}/aws-config"
    if [[ ! -f "$cfg" ]]; then
        printf '[default]\nregion = %s\ns3 =\n    addressing_style = path\n    max_concurrent_requests = 32\n    max_queue_size = 10000\n' \
            "$FLINK_CHK_TEST_S3_REGION" >"$cfg.tmp.$$"
        mv "$cfg.tmp.$$" "$cfg"
    fi
    env -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
        AWS_CONFIG_FILE="$cfg" AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        AWS_ACCESS_KEY_ID="$FLINK_CHK_TEST_S3_ACCESS_KEY" \
        AWS_SECRET_ACCESS_KEY="$FLINK_CHK_TEST_S3_SECRET_KEY" \
        AWS_DEFAULT_REGION="$FLINK_CHK_TEST_S3_REGION" AWS_EC2_METADATA_DISABLED=true \
        "$SERVERS_BIN/aws" --endpoint-url "$FLINK_CHK_TEST_S3_ENDPOINT" "$@"
}

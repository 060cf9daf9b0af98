#!/usr/bin/env bash
# Run a command with the test storage servers up, e.g.
#   tests/servers/with-servers.sh cargo test --test storage
# Installs them if needed (install.sh), starts them (start.sh), exports the
# FLINK_CHK_TEST_* variables from the env file, runs the command, always stops
# the servers (stop.sh) and exits with the command's status.
# Env: FLINK_CHK_SERVERS_KEEP=1 keeps the run dir (logs) after stopping.
set -euo pipefail
SERVERS_TAG=with-servers
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# > 0)) || srv_die "usage: with-servers.sh CMD [ARGS...]"

"$SERVERS_SCRIPT_DIR/install.sh" >&2

RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/flink-chk-servers.XXXXXX")"
started=0
# shellcheck disable=SC2317  # invoked by the trap
stop_servers() {
    if ((started)); then
        "$SERVERS_SCRIPT_DIR/stop.sh" "$RUN_DIR" >&2 || true
    else # start.sh failed and already stopped what it started: keep the logs
        srv_log "servers did not start; logs kept in $RUN_DIR"
    fi
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

env_file="$("$SERVERS_SCRIPT_DIR/start.sh" "$RUN_DIR")"
started=1
# shellcheck disable=SC1090
source "$env_file"

status=0
"$@" || status=$?
exit "$status"

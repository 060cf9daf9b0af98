#!/usr/bin/env bash
# awscli v1 (from install.sh) aimed at the local SeaweedFS S3 server with the
# test credentials, e.g.: tests/servers/aws.sh s3 ls --recursive s3://flink-chk-test/
# Uses the FLINK_CHK_TEST_* env (or the env file of the last start.sh run).
set -euo pipefail
SERVERS_TAG=aws
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
aws_cli "$@"

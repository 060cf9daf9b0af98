#!/usr/bin/env bash
# The README's "From a storage inventory" as a new user tries it, against
# SeaweedFS: the real-Flink fixture on S3, an S3 Inventory report of the
# bucket, then dry run, plan file, apply, verify.
# Run: cargo build && tests/servers/with-servers.sh tests/servers/inventory-demo.sh
# (F=path/to/flink-chk to try another binary). Prints every command and its output.
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
F=${F:-${CARGO_TARGET_DIR:-$REPO/target}/debug/flink-chk}
T=$(mktemp -d "${TMPDIR:-/tmp}/flink-chk-inventory-demo.XXXXXX")
export XDG_STATE_HOME=$T/state XDG_CONFIG_HOME=$T/config
FIX=$REPO/tests/fixtures/flink/2.3/rocksdb-incremental
G=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"generated_root\"])" "$FIX/scenario.json")
J=$(ls "$FIX/checkpoints")
B=$FLINK_CHK_TEST_S3_BUCKET
P=inventory-try-$$
ROOT=s3://$B/$P/checkpoints
mkdir -p "$XDG_CONFIG_HOME/flink-chk"
cat > "$XDG_CONFIG_HOME/flink-chk/profiles.yaml" <<YAML
default: prod
profiles:
  prod:
    checkpoints: $ROOT
    storage:
      s3: { endpoint: "$FLINK_CHK_TEST_S3_ENDPOINT", region: "$FLINK_CHK_TEST_S3_REGION", path_style: true, access_key_id: "$FLINK_CHK_TEST_S3_ACCESS_KEY", secret_access_key: "$FLINK_CHK_TEST_S3_SECRET_KEY" }
    jobs: { orders: $J }
YAML
chmod 600 "$XDG_CONFIG_HOME/flink-chk/profiles.yaml"
run() { echo; echo "\$ flink-chk $*"; "$F" "$@"; echo "[exit $?]"; }
# "Flink" writes chk-4, chk-5, chk-6 into the bucket (a copy of the real-Flink
# fixture), one after the other: one `copy` of all three may publish them in
# any order, and a `_metadata` written after chk-6's keeps its checkpoint
# ("written after the newest checkpoint"). S3 times are whole seconds.
for c in 4 5 6; do
    run copy "$FIX/checkpoints/$J/chk-$c" --to prod: --rebase "$G=$FIX"
    sleep 1
done
# SeaweedFS has no inventory service: this stands in for the report S3
# Inventory delivers (S3 User Guide, "Amazon S3 Inventory"), written like
# tests/common/inventory.rs write_s3 from a listing of the bucket:
# inventory/<bucket>/<config>/<YYYY-MM-DDTHH-MMZ>/manifest.json + manifest.checksum,
# data in inventory/<bucket>/<config>/data/<uuid>.csv.gz (fields quoted, keys URL-encoded).
sleep 1
"$REPO/tests/servers/aws.sh" s3api list-objects-v2 --bucket "$B" --prefix "$P/" --output json > "$T/listing.json"
python3 - "$T/listing.json" "$T/report" "$B" <<'PY'
import datetime, gzip, hashlib, json, os, sys, time, urllib.parse, uuid
listing, out, bucket = sys.argv[1:4]
now = time.time() + 1  # the scan starts after the listing's last write
stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H-%MZ")
config = os.path.join(out, bucket, "daily")
os.makedirs(os.path.join(config, stamp)); os.makedirs(os.path.join(config, "data"))
rows = []
for o in json.load(open(listing)).get("Contents", []):
    key = urllib.parse.quote_plus(o["Key"], safe="/*")
    t = datetime.datetime.fromisoformat(o["LastModified"].replace("Z", "+00:00"))
    t = t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    rows.append('"%s","%s","%d","%s","%s"\n' % (bucket, key, o["Size"], t, o["ETag"].strip('"')))
name = "data/%s.csv.gz" % uuid.uuid4()
data = gzip.compress("".join(rows).encode())
open(os.path.join(config, name), "wb").write(data)
manifest = {
    "sourceBucket": bucket, "destinationBucket": "arn:aws:s3:::" + bucket,
    "version": "2016-11-30", "creationTimestamp": str(int(now * 1000)),
    "fileFormat": "CSV", "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
    "files": [{"key": "inventory/%s/daily/%s" % (bucket, name), "size": len(data),
               "MD5checksum": hashlib.md5(data).hexdigest()}],
}
m = json.dumps(manifest, indent=2).encode()
open(os.path.join(config, stamp, "manifest.json"), "wb").write(m)
open(os.path.join(config, stamp, "manifest.checksum"), "w").write(hashlib.md5(m).hexdigest())
print("%d rows, stamp %s" % (len(rows), stamp), file=sys.stderr)
PY
"$REPO/tests/servers/upload.sh" s3 "$T/report" inventory > /dev/null
M=$(cd "$T/report" && ls "$B"/daily/*/manifest.json)
INV=s3://$B/inventory/$M
echo "report: $INV"
# A file Flink writes after the report: not in it, so never a candidate.
echo late > "$T/late.sst"
"$REPO/tests/servers/aws.sh" s3 cp "$T/late.sst" "s3://$B/$P/checkpoints/$J/shared/late.sst" > /dev/null
POLICY=(--keep-last 1 --min-age 0s --stopped --rebase "$G/checkpoints=$ROOT")
run safe-to-delete --inventory "$INV" "${POLICY[@]}" --dry-run
run safe-to-delete --inventory "$INV" "${POLICY[@]}" --dry-run --plan-out "$T/plan.jsonl"
sleep 2  # a report older than --max-inventory-age is refused
run safe-to-delete --inventory "$INV" "${POLICY[@]}" --dry-run --max-inventory-age 1s
run safe-to-delete --apply "$T/plan.jsonl" --yes
run deps orders@latest --verify --rebase "$G/checkpoints=$ROOT"
run ls orders
"$REPO/tests/servers/aws.sh" s3 ls --recursive "$ROOT/" | awk '{print $4}' | sed "s|^$P/checkpoints/||" > "$T/left"
echo; echo "--- left under $ROOT: $(wc -l < "$T/left") objects, chk-6 and the file written after the report:"
grep -v '/shared/[0-9a-f-]\{36\}$' "$T/left"
rm -rf "$T"

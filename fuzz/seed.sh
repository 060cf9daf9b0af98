#!/usr/bin/env bash
# Build the seed corpora under fuzz/corpus/<target>/ (not committed).
#
#   parse_metadata: every `_metadata` under tests/fixtures/flink/ and
#                   ../shared/flink-corpus/, plus the Flink 1.1/1.2 single-file
#                   savepoints there (files not named `_metadata` that start
#                   with the metadata magic 49 60 67 2D).
#   parse_proxies:  every other file, truncated to its first 64 KiB.
#
# Seeds are named by the SHA-1 of their content, so identical files collapse.
# Usage: fuzz/seed.sh [SOURCE_DIR...]   (defaults to the two trees above)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
if [ "$#" -gt 0 ]; then
    sources=("$@")
else
    sources=("$repo/tests/fixtures/flink" "$repo/../shared/flink-corpus")
fi
meta="$here/corpus/parse_metadata"
proxies="$here/corpus/parse_proxies"
mkdir -p "$meta" "$proxies"

limit=65536
magic="4960672d"
n_meta=0
n_proxy=0
for src in "${sources[@]}"; do
    if [ ! -d "$src" ]; then
        echo "seed.sh: skipping missing $src" >&2
        continue
    fi
    while IFS= read -r -d '' f; do
        if [ "$(basename "$f")" = _metadata ] ||
            [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" = "$magic" ]; then
            sum="$(sha1sum <"$f" | cut -d' ' -f1)"
            cp "$f" "$meta/$sum"
            n_meta=$((n_meta + 1))
        fi
        if [ "$(basename "$f")" != _metadata ]; then
            tmp="$proxies/.tmp"
            head -c "$limit" "$f" >"$tmp"
            sum="$(sha1sum <"$tmp" | cut -d' ' -f1)"
            mv "$tmp" "$proxies/$sum"
            n_proxy=$((n_proxy + 1))
        fi
    done < <(find "$src" -type f ! -name MANIFEST.tsv ! -name README.md -print0)
done
echo "parse_metadata: $n_meta files -> $(find "$meta" -type f | wc -l) unique seeds"
echo "parse_proxies:  $n_proxy files -> $(find "$proxies" -type f | wc -l) unique seeds"

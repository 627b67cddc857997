#!/usr/bin/env bash
# noise-vectors-corrupt.sh RUNNER VECTORS: proves the vector runner can fail. Copies the vector
# file to a scratch place with one hex digit of the first SHA-256 vector's first ciphertext
# changed, and requires the runner to exit non-zero reporting exactly one failed vector.
set -euo pipefail
runner=$1 vectors=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '
	/"protocol_name": ".*_SHA256"/ { armed = 1 }
	armed && !done && match($0, /"ciphertext": "[0-9a-f]/) {
		c = substr($0, RSTART + RLENGTH - 1, 1)
		$0 = substr($0, 1, RSTART + RLENGTH - 2) (c == "0" ? "1" : "0") substr($0, RSTART + RLENGTH)
		done = 1
	}
	{ print }
	END { if (!done) exit 1 }' "$vectors" >"$tmp/corrupt.json"
if out=$("$runner" "$tmp/corrupt.json" 2>&1); then
	echo "the runner accepted a corrupted vector file:"
	echo "$out"
	exit 1
fi
last=$(tail -n1 <<<"$out")
if [[ ! $last =~ ^[0-9]+\ passed,\ 1\ failed$ ]]; then
	echo "expected exactly one failed vector, got: $last"
	exit 1
fi
echo "runner refused the corrupted vector: $last"

#!/usr/bin/env bash
# run-fuzzer.sh BINARY SEED_DIR SECONDS: runs a libFuzzer target for a bounded time on a scratch
# copy of its seed corpus (the repo's corpus stays as committed); any crash fails the test and
# leaves the reproducer in fuzz-artifacts/ of the build directory.
set -euo pipefail
bin=$1 seeds=$2 secs=$3
[ -d "$seeds" ] || { echo "run-fuzzer: no seed corpus at $seeds" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/
mkdir -p fuzz-artifacts
# not exec: the EXIT trap must run to remove the scratch corpus (exec left one in /tmp per run)
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="fuzz-artifacts/$(basename "$bin")-" "$work"

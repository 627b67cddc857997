#!/usr/bin/env bash
# long-run.sh [SECONDS_PER_TARGET] [TARGET...]: the long fuzzing campaign, outside CI. Builds every
# libFuzzer target with clang (ASan+UBSan, coverage in the libraries too), runs each for the given
# time (default 600 s) on its committed seed corpus, and adds to tests/fuzz/corpus/<target>/ only
# the inputs that reach new coverage (libFuzzer -merge=1), so the named seeds stay and the corpus
# stays small. A crash stops the run and
# leaves its reproducer in build-fuzz-long/fuzz-artifacts/; fix it, add the reproducer to the
# corpus, run again.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}
shift || true
build=build-fuzz-long
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQTTIP_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	mapfile -t targets < <(ls tests/fuzz/corpus)
fi
mkdir -p "$build/fuzz-artifacts"
for t in "${targets[@]}"; do
	bin="$build/tests/$t"
	[ -x "$bin" ] || { echo "long-run: no fuzz target $t in $build/tests" >&2; exit 1; }
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/$t/." "$work/"
	echo "== $t: ${secs}s =="
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-artifacts/$t-" "$work" 2>&1 | tail -n 12
	"$bin" -merge=1 "tests/fuzz/corpus/$t" "$work" >/dev/null 2>&1
	rm -rf "$work"
	echo "corpus: $(ls "tests/fuzz/corpus/$t" | wc -l) files"
done

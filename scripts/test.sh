#!/usr/bin/env bash
# The whole test suite, as the README's Quick start and CI run it (as root on Debian 12):
# installs what is missing, then builds and tests three configurations:
#   build/       gcc, -Werror: unit, integration, adversarial and cluster tests (every label)
#   build-asan/  gcc with AddressSanitizer + UndefinedBehaviorSanitizer: the same tests except
#                those that measure time or CPU, or only wait, and run no code the others do not
#                (ASAN_SKIP below: the RabbitMQ cluster, the flood and soak loads, the 3.5 s-delay
#                link, the benchmark smoke test, the demo, the package build); about 8 minutes
#   build-fuzz/  clang with libFuzzer: the fuzz targets alone, each for a short time
# and ends with one line "N passed, N failed, N skipped" over all three. CTest runs twice as many
# tests at once as there are cores: most lab tests wait on timers, and those that measure time
# or CPU are RUN_SERIAL.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

bash scripts/install-deps.sh

jobs=$(($(nproc) * 2))
ASAN_SKIP='^(cluster_rabbitmq|adv_attack_flood|adv_load_soak|field_latency|agent_lab_smoke|demo_.*|package_build)$'
passed=0 failed=0 skipped=0 skipped_names=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_ctest DIR [ctest args]: runs CTest and adds its counts to the totals.
run_ctest() {
	local dir=$1
	shift
	local rc=0
	(cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") 2>&1 | tee "$log" || rc=$?
	local line
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n1 || true)
	if [ -z "$line" ]; then
		echo "test.sh: CTest in $dir printed no summary (exit $rc)" >&2
		failed=$((failed + 1))
		return
	fi
	local total nfail skips
	total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
	nfail=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
	# CTest counts a skipped test (exit 77) as passed; name it instead
	skips=$(sed -n '/The following tests did not run:/,/^$/p' "$log" |
		sed -nE 's/^[[:space:]]*[0-9]+ - ([^ ]+) \(Skipped\)$/\1/p')
	if [ -n "$skips" ]; then
		skipped=$((skipped + $(wc -l <<<"$skips")))
		skipped_names+=" $(tr '\n' ' ' <<<"$skips")($dir)"
	fi
	passed=$((passed + total - nfail - $(grep -c . <<<"$skips" || true)))
	failed=$((failed + nfail))
}

section() { printf '\n=== %s ===\n' "$*"; }

section "build (gcc, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
section "tests (build/)"
run_ctest build

section "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMQTTIP_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
section "tests under sanitizers (build-asan/)"
run_ctest build-asan -E "$ASAN_SKIP"

section "fuzz targets (clang, libFuzzer)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQTTIP_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets
jobs=$(nproc) # each fuzzer wants a core of its own
run_ctest build-fuzz -L fuzz

section "summary"
[ "$skipped" -eq 0 ] || echo "skipped (each printed why):$skipped_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# core.sh [BUILD_DIR]: builds the portable core's microbenchmarks with optimisation (Release) and
# prints their figures: transport seal+open against raw ChaCha20-Poly1305 at 64 B and 1400 B,
# and full handshakes per second against X25519 and Ed25519 measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-bench}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_transport bench_handshake >/dev/null
echo "== transport (one core) =="
"$build"/tests/bench_transport
echo
echo "== handshake (one core) =="
"$build"/tests/bench_handshake

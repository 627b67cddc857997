#!/usr/bin/env bash
# rv32_cycles.sh [BUILD_DIR]: instructions the ESP32-C3's ISA (rv32imc) executes for one full
# handshake on each side and one 1400-byte seal + open, with the time they would take at 160 MHz
# (an estimate: one instruction per cycle). Builds common/, libsodium (from Debian's source) and
# tests/bench/rv32_cycles.c for rv32imc/ilp32 bare metal into BUILD_DIR/tests/rv32-bench (default
# BUILD_DIR: build), then runs it under qemu-system-riscv32 with -icount shift=0, where the
# instret CSR counts executed instructions. RV32_OPT sets the optimisation level (default -Os).
# Needs what the rv32 unit tests need (scripts/install-deps.sh); exits 77 naming what is missing.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
opt=${RV32_OPT:--Os}
out=$build/tests/rv32-bench$opt
unit=$top/tests/tools/rv32-unit.sh

mkdir -p "$build/tests"
rc=0
RV32_OPT=$opt "$unit" build "$top" "$top/../shared/vectors" "$out" rv32_cycles >"$out.log" 2>&1 ||
	rc=$?
if [ $rc -ne 0 ]; then
	cat "$out.log"
	exit $rc
fi
echo "common/ and libsodium $opt, $(riscv64-unknown-elf-gcc --version | head -n1)"
echo "qemu: $(qemu-system-riscv32 --version | head -n1), -machine virt -icount shift=0"
RV32_QEMU_OPTS="-icount shift=0" "$unit" run "$out" rv32_cycles 2>&1

#!/usr/bin/env bash
# mcu-build.sh COMMON_DIR OUT_DIR PROBE.c: compiles every common/*.c as objects for rv32imc/ilp32
# (ESP32-C3) against picolibc with -Werror, then reports static RAM (.data/.bss) of each object,
# the largest stack frames (-fstack-usage), and the size of one peer's state and of a 16-peer
# table (from PROBE.c). Fails when a peer table exceeds the budget below.
set -euo pipefail
common=$1 out=$2 probe=$3
budget_one_peer=2560 # bytes: docs/PROTOCOL.md "Memory"
budget_16_peers=$((16 * budget_one_peer))

cc=riscv64-unknown-elf-gcc
if ! command -v $cc >/dev/null; then
	echo "mcu-build: $cc not found: install gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf" \
		"(scripts/install-deps.sh does)" >&2
	exit 1
fi
rm -rf "$out" && mkdir -p "$out/shim"
# libsodium's headers are target-neutral; only they are taken from the host, never libc's.
ln -s /usr/include/sodium.h "$out/shim/sodium.h"
ln -s /usr/include/sodium "$out/shim/sodium"

flags=(-march=rv32imc -mabi=ilp32 --specs=picolibc.specs -std=c11 -Os -ffunction-sections
	-fdata-sections -fstack-usage -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wvla -Wstack-usage=2048 -I "$common" -isystem "$out/shim")

for src in "$common"/*.c "$probe"; do
	obj="$out/$(basename "${src%.c}").o"
	(cd "$out" && $cc "${flags[@]}" -c "$src" -o "$obj")
done

echo "static RAM per object (bytes):"
riscv64-unknown-elf-size --format=berkeley "$out"/*.o | awk 'NR==1 || $2+$3 > 0 {print "  " $0}'
echo "largest stack frames (bytes):"
cat "$out"/*.su | sort -t$'\t' -k2 -n -r | sed -n '1,8s/^/  /p'

sym_size() {
	local hex
	hex=$(riscv64-unknown-elf-nm -S "$out/mcu_ram_probe.o" | awk -v s="$1" '$4 == s {print $2}')
	[ -n "$hex" ] || { echo "mcu-build: symbol $1 missing in the probe" >&2; exit 1; }
	echo $((16#$hex))
}
one=$(sym_size mcu_one_peer)
table=$(sym_size mcu_peer_table)
echo "one peer's state: $one bytes (budget $budget_one_peer)"
echo "16-peer table:    $table bytes (budget $budget_16_peers)"
echo "handshake rate limiter: $(sym_size mcu_ratelimit) bytes; legacy nonce cache: $(sym_size mcu_legacy_nonces) bytes"
[ "$one" -le "$budget_one_peer" ] && [ "$table" -le "$budget_16_peers" ] || {
	echo "mcu-build: peer state over the RAM budget" >&2
	exit 1
}

#!/usr/bin/env bash
# mcu-build.sh COMMON_DIR OUT_DIR PROBE.c: compiles every common/*.c as objects for rv32imc/ilp32
# (ESP32-C3) against picolibc with -Werror, then reports static RAM (.data/.bss) of each object,
# the largest stack frames (-fstack-usage), and the size of one peer's state and of a 16-peer
# table (from PROBE.c). Fails when a peer table exceeds the budget below.
set -euo pipefail
common=$1 out=$2 probe=$3
budget_one_peer=1344 # bytes: docs/PROTOCOL.md "Memory"
budget_16_peers=$((16 * budget_one_peer))
. "$(dirname "$0")/rv32.sh"

rv32_setup "$out"
for src in "$common"/*.c "$probe"; do
	rv32_cc "$out" "$src" -I "$common"
done
rv32_report "$out" 8

p="$out/mcu_ram_probe.o"
one=$(rv32_sym_size "$p" mcu_one_peer)
table=$(rv32_sym_size "$p" mcu_peer_table)
echo "one peer's state: $one bytes (budget $budget_one_peer)"
echo "16-peer table:    $table bytes (budget $budget_16_peers)"
echo "handshake state: $(rv32_sym_size "$p" mcu_handshake) bytes;" \
	"handshake rate limiter (64 senders): $(rv32_sym_size "$p" mcu_ratelimit) bytes;" \
	"legacy nonce cache: $(rv32_sym_size "$p" mcu_legacy_nonces) bytes;" \
	"revocation list held: $(rv32_sym_size "$p" mcu_revocation) bytes"
[ "$one" -le "$budget_one_peer" ] && [ "$table" -le "$budget_16_peers" ] || {
	echo "mcu-build: peer state over the RAM budget" >&2
	exit 1
}

#!/usr/bin/env bash
# attack_inner.sh: a legitimate node turned hostile (roguenode, built on the portable core, with
# node 3's real files) completes a real handshake with node 2, then
#   - sends packets whose inner source is node 1's address: decrypted, then refused (drops.source)
#   - sends counters out of order: one 2189 behind the highest (beyond the 1024-counter window:
#     refused, drops.replay) and one 9 behind (within: accepted).
set -euo pipefail
. "$(dirname "$0")/common.sh"

lab_up 3 2
nd3="$LAB_DIR/pki/nodes/node3"
rogue() { lab_exec 3 "$ROGUENODE" run "$nd3" "$(lab_addr 2)" "$@"; }

s0=$(lab_drops 2 source 3)
out=$(rogue spoof "$(lab_addr 1)") || lab_fail "spoof scenario: $out"
echo "$out"
v=$(drops_wait 2 source 3 $((s0 + 5))) || lab_fail "spoofed sources counted $((v - s0)) of 5"
lab_ok "5 packets with node 1's address as inner source from node 3: refused (source +$((v - s0)))"

r0=$(lab_drops 2 replay 3)
out=$(rogue reorder) || lab_fail "reorder scenario: $out"
echo "$out"
v=$(drops_wait 2 replay 3 $((r0 + 1))) || lab_fail "counter beyond the window not counted"
lab_ok "counter beyond the window refused (replay +$((v - r0)))"
lab_ping 1 2 || lab_fail "1 -> 2 broken"
lab_agent_alive 2 || lab_fail "node 2 died"

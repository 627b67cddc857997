#!/usr/bin/env bash
# attack_tamper.sh: the broker alters messages in flight (it publishes tampered copies of
# recorded ones): bit flips in the header (type, reserved, receiver index, counter), the body
# and the tag, truncation, extension, an oversize payload, and a flipped handshake initiation.
# Each is refused with the reason the protocol names, counted in `mqttip status --json`, and
# delivers nothing; the session keeps working.
set -euo pipefail
. "$(dirname "$0")/common.sh"

lab_up 2 2 --spy
lab_exec 1 ping -n -q -c 3 -i 0.2 "$(lab_addr 2)" >/dev/null || lab_fail "pings lost"
sleep 0.5
rec="$LAB_DIR/rec"
cp "$SPY_REC" "$rec"
topic=$(data_topic 2 1)
# A fresh message: bit flips in the counter must move it forward, past what was received.
len=$(mitm extract -t "$topic" -y 4 "$rec" "$LAB_DIR/last.bin" && stat -c %s "$LAB_DIR/last.bin")
[ "$len" -gt 32 ] || lab_fail "no transport message with a body recorded"

# tamper REASON DESCRIPTION EDIT...: publish one tampered copy, expect REASON +1 at node 2.
tamper() {
	local reason=$1 what=$2 before v rx0
	shift 2
	before=$(lab_drops 2 "$reason")
	rx0=$(peer_value 2 1 rx_packets)
	mitm mutate -t "$topic" -y 4 "$@" "$rec" >/dev/null
	v=$(drops_wait 2 "$reason" - $((before + 1))) ||
		lab_fail "$what: not counted as $reason ($before -> $v); log: $(tail -3 "$LAB_DIR/node2.log")"
	[ "$(peer_value 2 1 rx_packets)" = "$rx0" ] || lab_fail "$what: delivered a packet"
	lab_ok "$what: refused as $reason"
}

tamper malformed "flip type byte (offset 0)" --flip 0:2
tamper malformed "flip a reserved byte (offset 2)" --flip 2:0
tamper unknown_index "flip receiver index (offset 5)" --flip 5:3
tamper auth "flip counter bit 40 (offset 13): a fresh counter, bad tag" --flip 13:0
# A counter already received is refused by the window before any cryptography (replay); with
# a counter moved forward (bit 40, offset 13) the tag check is what refuses (auth).
tamper replay "flip body byte (offset 20), counter as recorded" --flip 20:5
tamper replay "flip tag byte (offset -1), counter as recorded" --flip -1:0
tamper auth "flip body byte (offset 20), fresh counter" --flip 20:5 --flip 13:0
tamper auth "flip last ciphertext byte (offset -17), fresh counter" --flip -17:7 --flip 13:0
tamper auth "flip tag byte (offset -1), fresh counter" --flip -1:0 --flip 13:0
tamper malformed "truncate to 20 bytes (shorter than header + tag)" --truncate 20
tamper auth "truncate by one byte, fresh counter" --truncate -1 --flip 13:0
tamper auth "extend by 16 zero bytes, fresh counter" --extend 16 --flip 13:0
tamper malformed "oversize: extended to 17000 bytes (max 16416)" --extend $((17000 - len))
tamper malformed "oversize: 1 MiB" --extend $((1048576 - len))

# The replay window is untouched by forgeries: the genuine last message is still a replay, and
# a message with a forged high counter did not move the window (new pings still pass).
r0=$(lab_drops 2 replay)
mitm replay -t "$topic" -y 4 -i -1 "$rec" >/dev/null
drops_wait 2 replay - $((r0 + 1)) >/dev/null || lab_fail "genuine replay not refused"
lab_exec 1 ping -n -q -c 3 -i 0.2 -W 2 "$(lab_addr 2)" >/dev/null ||
	lab_fail "session broken by forged messages"
lab_ok "session intact after the forgeries; replay still refused"

# Handshake messages: a flipped initiation (mac1 or decrypt fails), a truncated one.
kx=$(kx_topic 2 1)
for edit in "--flip 40:0" "--flip -1:0" "--flip 8:0" "--truncate 100" "--extend 400"; do
	h0=$(drops_sum 2 handshake handshake_mac1)
	m0=$(lab_drops 2 malformed)
	# shellcheck disable=SC2086
	mitm mutate -t "$kx" -y 1 $edit "$rec" >/dev/null
	# until node 2 has counted it (it arrives a while after mitm returns on a loaded machine)
	end=$((SECONDS + 10))
	while :; do
		h1=$(drops_sum 2 handshake handshake_mac1)
		m1=$(lab_drops 2 malformed)
		if [ $((h1 + m1 - h0 - m0)) -ge 1 ] || [ "$SECONDS" -ge "$end" ]; then break; fi
		sleep 0.2
	done
	[ $((h1 + m1 - h0 - m0)) -ge 1 ] || lab_fail "initiation with $edit not counted"
	lab_ok "initiation $edit: refused (handshake/handshake_mac1 +$((h1 - h0)), malformed +$((m1 - m0)))"
done
nr=$(mitm count -t "$(kx_topic 1 2)" -y 2 "$SPY_REC")
[ "$nr" = "$(mitm count -t "$(kx_topic 1 2)" -y 2 "$rec")" ] ||
	lab_fail "node 2 answered a tampered initiation"
lab_ok "no response to any tampered initiation"
lab_agent_alive 1 && lab_agent_alive 2 || lab_fail "an agent died"

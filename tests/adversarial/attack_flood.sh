#!/usr/bin/env bash
# attack_flood.sh: the broker floods node 2 with handshake initiations while nodes 1 and 2 keep
# pinging each other: (a) junk without a valid mac1, (b) initiations with a valid mac1 (made from
# node 2's public directory entry) from 200 forged sender addresses, (c) the same impersonating
# node 1's address; then (d) node 1 is flooded with forged responses to a pending initiation of
# its own, with its index and a valid mac1. The floods are refused and counted (handshake_mac1,
# handshake, ratelimit); the pair's ping keeps working with bounded extra latency, and the
# victim's CPU stays bounded.
# Bounds (loose, 2-core CI machine): loss <= 10 %, average RTT <= baseline + 25 ms, node 2 CPU
# <= 60 % of one core. Figures are printed for docs/SECURITY.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"
RATE=${FLOOD_RATE:-3000}
SECONDS_FLOOD=${FLOOD_SECONDS:-6}

lab_up 3 3 --spy
mitm extract -t "mqttip/cert/$(lab_taddr 2)" "$SPY_REC" "$LAB_DIR/cert2"
pid2=$(lab_agent_pid 2)
[ "$(cat /proc/$pid2/comm)" = mqttip ] || lab_fail "pid $pid2 is not the agent"
hz=$(getconf CLK_TCK)

# rtt_probe: 40 pings 1 -> 2, 0.1 s apart; prints "loss_percent avg_ms max_ms"
rtt_probe() {
	lab_exec 1 ping -n -q -c 40 -i 0.1 -W 1 "$(lab_addr 2)" 2>/dev/null |
		awk -F'[ /%]+' '/packet loss/ { for (i = 1; i <= NF; i++) if ($i == "packet") loss = $(i - 1) }
			/^rtt/ { avg = $8; max = $9 } END { printf "%s %s %s\n", loss, avg, max }'
}

read -r loss0 avg0 max0 <<<"$(rtt_probe)"
echo "baseline: loss ${loss0}% avg ${avg0} ms max ${max0} ms"

# flood_case KIND WHAT TOPIC [mitm flood flags]: KIND junk (no valid mac1: every initiation
# must be counted as handshake_mac1) or mac1 (valid mac1: none may be).
flood_case() {
	local kind=$1 what=$2 topic=$3 h0 m0 r0 c0 c1 b0 b1 out loss avg max cpu bcpu hd md rd
	shift 3
	h0=$(drops_sum 2 handshake handshake_mac1)
	m0=$(lab_drops 2 handshake_mac1)
	r0=$(lab_drops 2 ratelimit)
	c0=$(cpu_ticks "$pid2")
	b0=$(cpu_ticks "$(lab_broker_pid)")
	mitm flood -R "$RATE" -d "$SECONDS_FLOOD" "$@" "$topic" >"$LAB_DIR/flood.out" &
	local fpid=$!
	sleep 1
	read -r loss avg max <<<"$(rtt_probe)"
	wait "$fpid" || lab_fail "$what: flood tool failed"
	c1=$(cpu_ticks "$pid2")
	b1=$(cpu_ticks "$(lab_broker_pid)")
	sleep 1
	hd=$(($(drops_sum 2 handshake handshake_mac1) - h0))
	md=$(($(lab_drops 2 handshake_mac1) - m0))
	rd=$(($(lab_drops 2 ratelimit) - r0))
	out=$(cat "$LAB_DIR/flood.out")
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$SECONDS_FLOOD" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
	bcpu=$(awk -v t=$((b1 - b0)) -v hz="$hz" -v s="$SECONDS_FLOOD" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
	echo "figure: $what: $out; node2 refused handshake +$hd (of which mac1 +$md) ratelimit +$rd;" \
		"ping loss ${loss}% avg ${avg} ms max ${max} ms; node2 CPU ${cpu}%, broker CPU ${bcpu}%"
	sent=$(echo "$out" | awk '{ print $3 }')
	[ $((hd + rd)) -ge $((sent * 9 / 10)) ] ||
		lab_fail "$what: only $((hd + rd)) of $sent initiations counted"
	if [ "$kind" = junk ]; then
		[ "$md" -ge $((sent * 9 / 10)) ] || lab_fail "$what: only $md of $sent counted as mac1"
	else
		[ "$md" -eq 0 ] || lab_fail "$what: $md valid-mac1 initiations counted as mac1 failures"
	fi
	awk -v l="$loss" 'BEGIN { exit !(l <= 10) }' || lab_fail "$what: ping loss ${loss}%"
	awk -v a="$avg" -v b="$avg0" 'BEGIN { exit !(a <= b + 25) }' ||
		lab_fail "$what: avg RTT ${avg} ms vs baseline ${avg0} ms"
	[ "$cpu" -le 60 ] || lab_fail "$what: node 2 used ${cpu}% CPU"
	lab_ok "$what: refused and counted, pair unaffected within bounds"
}

flood_case junk "junk initiations (no valid mac1)" "$(kx_topic 2 1)"
flood_case mac1 "valid-mac1 initiations from 200 forged senders" "mqttip/kx/$(lab_taddr 2)/10-77-1-{n}" \
	-k "$LAB_DIR/cert2" -P 200
flood_case mac1 "valid-mac1 initiations impersonating node 1" "$(kx_topic 2 1)" -k "$LAB_DIR/cert2"
[ "$(lab_drops 2 ratelimit)" -gt 0 ] || lab_fail "the rate limit never refused anything"

# (d) Node 3 is frozen, so node 1's initiation towards it stays pending (retried every 5 s with a
# new index). The broker copies that initiation's index into forged responses with a valid mac1
# (node 1's public entry): each would cost node 1 a DH. Its rate limit must take all but a few.
mitm extract -t "mqttip/cert/$(lab_taddr 1)" "$SPY_REC" "$LAB_DIR/cert1"
kill -STOP "$(lab_agent_pid 3)"
lab_exec 1 ping -n -q -c 1 -W 1 "$(lab_addr 3)" >/dev/null 2>&1 || true
mitm extract -t "$(kx_topic 3 1)" -y 1 "$SPY_REC" "$LAB_DIR/init13" ||
	lab_fail "no initiation 1 -> 3 recorded"
pid1=$(lab_agent_pid 1)
refused0=$(grep -c "handshake response from node3 refused" "$LAB_DIR/node1.log" || true)
r0=$(lab_drops 1 ratelimit)
h0=$(lab_drops 1 handshake)
c0=$(cpu_ticks "$pid1")
out=$(mitm flood -R "$RATE" -d 3 -I "$LAB_DIR/init13" -k "$LAB_DIR/cert1" "$(kx_topic 1 3)")
c1=$(cpu_ticks "$pid1")
sleep 1
refused=$(($(grep -c "handshake response from node3 refused" "$LAB_DIR/node1.log" || true) - refused0))
rd=$(($(lab_drops 1 ratelimit) - r0))
# handshake drops: the responses Noise refused, and those that arrived after node 1's 5 s retry
# replaced the pending index (no initiation of that index: refused before Noise)
hd=$(($(lab_drops 1 handshake) - h0))
cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.0f", 100 * t / hz / 3 }')
sent=$(echo "$out" | awk '{ print $3 }')
echo "figure: forged responses to node 1's pending initiation: $out; node 1 ran Noise on" \
	"$refused (refused), ratelimit +$rd, handshake +$hd; node 1 CPU ${cpu}%"
[ "$refused" -ge 1 ] || lab_fail "no forged response reached Noise: the case tests nothing"
[ "$refused" -le 150 ] || lab_fail "$refused forged responses reached the DH (rate limit: ~80 in 4 s)"
[ $((rd + hd)) -ge $((sent * 9 / 10)) ] || lab_fail "only $((rd + hd)) of $sent counted"
kill -CONT "$(lab_agent_pid 3)"
lab_wait_ping 1 3 20 >/dev/null || lab_fail "1 -> 3 never completed its handshake after the flood"
lab_ok "forged responses: $rd rate-limited, $refused refused by Noise; 1 -> 3 works once node 3 runs"
lab_ping 1 2 || lab_fail "1 -> 2 broken after the floods"
lab_agent_alive 2 || lab_fail "node 2 died"

#!/usr/bin/env bash
# fault_link.sh: node 1's link to the broker is cut (ip link set eth0 down in its namespace) for
# CUT seconds (default 10) and restored; then every broker link gets 5 % loss and 50 ms delay
# (tc netem, both directions; on kernels without sch_netem, as here: nftables random loss on both
# directions of every node's link and a relay that delays the broker connections by 50 ms each
# way, see lab.sh lab_impair). Traffic resumes after the cut without an agent restart, the
# tunnel keeps working under loss and delay (MQTT's TCP turns loss into delay), it is back to
# normal once netem is removed, and RSS stays flat (+2 MiB). Prints "figure:" lines.
set -euo pipefail
LAB_RELAY=1
. "$(dirname "$0")/common.sh"
CUT=${CUT:-10}
BOUND_S=${RECOVERY_BOUND:-25}

lab_up 2 2 --mqtt-keepalive 5
rss_baseline

# 1. Link cut.
lab_link_down 1
sleep "$CUT"
lab_ping 1 2 1 1 && lab_fail "ping went through a cut link"
lab_link_up 1
traffic_resumed "link cut ${CUT} s"
same_agents "link cut"
lab_ok "link cut and restored: traffic resumed in ${RESUMED_S} s"

# 2. 5 % loss and 50 ms delay on every broker link (each ping crosses two links each way).
lab_impair 5 50
stats=$(lab_exec 1 ping -n -q -c 40 -i 0.25 -W 3 "$(lab_addr 2)" 2>/dev/null |
	awk -F'[ /%]+' '/packet loss/ { for (i = 1; i <= NF; i++) if ($i == "packet") loss = $(i - 1) }
		/^rtt/ { avg = $8; max = $9 } END { printf "%s %s %s\n", loss, avg, max }')
read -r loss avg max <<<"$stats"
echo "figure: 5% loss + 50 ms delay on the broker links: ping loss ${loss}% avg ${avg} ms max ${max} ms"
awk -v l="$loss" 'BEGIN { exit !(l <= 25) }' || lab_fail "ping loss ${loss}% under loss + delay"
awk -v a="$avg" 'BEGIN { exit !(a >= 150) }' || lab_fail "avg RTT ${avg} ms: the delay is not applied"
# A TCP transfer through the tunnel under loss + delay.
lab_exec 2 iperf3 -s -1 -B "$(lab_addr 2)" >/dev/null 2>&1 &
ipid=$!
lab_wait_listen 2 5201
out=$(lab_exec 1 timeout 60 iperf3 -c "$(lab_addr 2)" -n 1M -f k 2>&1) ||
	lab_fail "iperf3 transfer under loss + delay failed: $out"
wait "$ipid" || true
rate=$(echo "$out" | awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i ~ /bits\/sec/) print $(i - 1), $i }')
echo "figure: 1 MB TCP transfer through the tunnel under loss + delay: $rate"
lab_impair_clear
t=$(lab_wait_ping 1 2 10) || lab_fail "no ping after the impairment removed"
lab_exec 1 ping -n -q -c 20 -i 0.05 -W 1 "$(lab_addr 2)" >/dev/null || lab_fail "loss after impairment removed"
lab_ok "5 % loss + 50 ms delay: tunnel kept working; clean again once removed"

rss_flat
same_agents "impairment"
lab_ok "no agent restart, RSS flat"

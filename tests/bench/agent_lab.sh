#!/usr/bin/env bash
# agent_lab.sh BUILD_DIR [SECONDS]: the agent benchmark of issue 5, as root. Builds the lab of
# tests/integration/lib/agent_lab.sh (broker namespace + two node namespaces joined by veth,
# mosquitto 2.0 with the mqttip plugin and TLS) and reports, in one run:
#   ceiling   raw broker ceiling: 1400 B QoS 0 messages/s from node a's namespace to node b's,
#             through the same broker, TLS and plugin (tests/bench/mqtt_ceiling, node
#             certificates, on the tunnel's own topic) -> bytes/s = messages/s * 1400
#   tunnel    iperf3 TCP throughput a -> b through two `mqttip up` agents (SECONDS, default 10)
#   ratio     tunnel / ceiling (issue 5's target: >= 0.6)
#   ping      200 pings a -> b through the tunnel, 10 ms apart: min / median / p99 RTT (target:
#             median < 1 ms)
# Figures go to stdout as "name value" lines.
set -euo pipefail
BUILD=${1:?usage: agent_lab.sh BUILD_DIR [SECONDS]}
SECS=${2:-10}
MQTTIP="$BUILD/agent/mqttip"
PLUGIN="$BUILD/plugin/mqttip_plugin.so"
CEILING="$BUILD/tests/mqtt_ceiling"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib/agent_lab.sh"
command -v iperf3 >/dev/null || lab_cannot_run "iperf3 not installed"
[ -x "$CEILING" ] || lab_cannot_run "$CEILING not built (target mqtt_ceiling)"

lab_init
lab_broker_start
A="$PKI/nodes/a"
B="$PKI/nodes/b"
out=$("$CEILING" "/var/run/netns/$NS_A" "/var/run/netns/$NS_B" 10.99.1.1 10.99.2.1 "$LAB_PORT" \
	"$A/ca.crt" "$A/client.crt" "$A/client.key" "$B/client.crt" "$B/client.key" \
	mqttip/10-0-1-2/10-0-1-1 'mqttip/10-0-1-2/+' 1400 5)
ceil_msgs=$(sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p' <<<"$out")
ceil_bytes=$(sed -n 's/.*bytes_per_s=\([0-9]*\).*/\1/p' <<<"$out")
echo "ceiling_msgs_per_s $ceil_msgs"
echo "ceiling_MB_per_s $(awk -v b="$ceil_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"

lab_agent_start a
lab_agent_start b
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping through the tunnel"

lab_in a ping -c 200 -i 0.01 -W 1 10.0.1.2 >"$TB_DIR/ping" || true
sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$TB_DIR/ping" | sort -n >"$TB_DIR/rtt"
n=$(wc -l <"$TB_DIR/rtt")
[ "$n" -gt 0 ] || tb_fail "no ping answered"
echo "ping_count $n"
echo "ping_min_ms $(head -1 "$TB_DIR/rtt")"
echo "ping_median_ms $(sed -n "$(((n + 1) / 2))p" "$TB_DIR/rtt")"
echo "ping_p99_ms $(sed -n "$(((n * 99 + 99) / 100))p" "$TB_DIR/rtt")"

ip netns exec "$NS_B" iperf3 -s -1 -B 10.0.1.2 >/dev/null 2>&1 &
TB_PIDS+=("$!")
sleep 0.5
lab_in a iperf3 -c 10.0.1.2 -t "$SECS" -f m >"$TB_DIR/iperf" 2>&1 || {
	cat "$TB_DIR/iperf" >&2
	tb_fail "iperf3 failed"
}
mbit=$(awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") print $i }' \
	"$TB_DIR/iperf" | tail -1)
echo "tunnel_Mbit_per_s $mbit"
echo "tunnel_MB_per_s $(awk -v m="$mbit" 'BEGIN { printf "%.1f", m / 8 }')"
echo "ratio $(awk -v m="$mbit" -v c="$ceil_bytes" 'BEGIN { printf "%.2f", m * 1e6 / 8 / c }')"
json=$(lab_status a --json)
txp=$(grep -o '"tx_packets":[0-9]*' <<<"$json" | tail -1 | cut -d: -f2)
txm=$(grep -o '"tx_messages":[0-9]*' <<<"$json" | tail -1 | cut -d: -f2)
echo "packets_per_message_a_to_b $(awk -v p="$txp" -v m="$txm" 'BEGIN { printf "%.1f", p / m }')"
lab_agent_stop a
lab_agent_stop b

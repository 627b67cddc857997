#!/usr/bin/env bash
# dashboard-record.sh MQTTIP PLUGIN OUT: records the plugin's Prometheus textfile during a real run
# (as root, in network namespaces of tests/integration/lib/agent_lab.sh: mosquitto with the plugin
# and TLS, agents a, b and c), one snapshot every 2 s appended to OUT after a line
# "# mqttip-recording time=UNIX". scripts/dashboard.py render draws the Grafana dashboard's panels
# from it (docs/METRICS.md shows the picture). About 90 s:
#   0 s   agents a and b; a pings b
#   15 s  iperf3 a -> b, 5 s at 20 Mbit/s
#   25 s  agent c joins and pings a
#   35 s  a rogue client (a node certificate of its own) forges sources and subscribes to others'
#         inboxes: denied publishes and subscriptions
#   45 s  agent b stops; 60 s it comes back and handshakes again
#   90 s  end
# Usage: sudo scripts/dashboard-record.sh build/agent/mqttip build/plugin/mqttip_plugin.so \
#            docs/metrics-recording.prom
set -euo pipefail
MQTTIP=$(realpath "$1")
# shellcheck disable=SC2034 # read by agent_lab.sh
PLUGIN=$(realpath "$2")
OUT=$(realpath -m "$3")
. "$(dirname "$0")/../tests/integration/lib/agent_lab.sh"

lab_init
"$MQTTIP" pki issue "$PKI" c --addr 10.0.1.3 --addr fd00:1::3 >/dev/null
"$MQTTIP" pki issue "$PKI" rogue --addr 10.0.1.66 >/dev/null
mkdir "$TB_DIR/prom"
lab_broker_start metrics_interval=1 prometheus_file="$TB_DIR/prom/mqttip.prom"

: >"$OUT"
(
	while :; do
		# HELP and TYPE lines once, in the first snapshot: the rest are the same
		if [ -f "$TB_DIR/prom/mqttip.prom" ]; then
			echo "# mqttip-recording time=$(date +%s)"
			if [ -s "$OUT" ]; then
				grep -v '^# ' "$TB_DIR/prom/mqttip.prom"
			else
				cat "$TB_DIR/prom/mqttip.prom"
			fi
		fi >>"$OUT"
		sleep 2
	done
) &
recorder=$!
TB_PIDS+=("$recorder")
start=$SECONDS
at() { # at SECONDS: sleep until that many seconds after the start
	local d=$(($1 - (SECONDS - start)))
	[ "$d" -le 0 ] || sleep "$d"
}

lab_agent_start a
lab_agent_start b
lab_wait_ping a 10.0.1.2 20 || tb_fail "a cannot reach b"
lab_in a ping -q -i 0.2 -w 85 10.0.1.2 >/dev/null 2>&1 &
TB_PIDS+=($!)
at 15
lab_in b iperf3 -s -1 -D -B 10.0.1.2 >/dev/null
sleep 0.5
lab_in a iperf3 -c 10.0.1.2 -t 5 -b 20M >/dev/null || echo "iperf3 failed" >&2
at 25
lab_agent_start c
lab_wait_ping c 10.0.1.1 20 || echo "c cannot reach a" >&2
lab_in c ping -q -i 0.5 -w 60 10.0.1.1 >/dev/null 2>&1 &
TB_PIDS+=($!)
at 35
r=$PKI/nodes/rogue
# A first, harmless session makes the node known (a series that appears with its first increase
# already counted would show no rate, in Prometheus as here); then the attempts, spread out.
lab_in br mosquitto_sub -h 10.99.1.1 -p "$LAB_PORT" --cafile "$r/ca.crt" --cert "$r/client.crt" \
	--key "$r/client.key" -t "mqttip/cert/+" -W 1 >/dev/null 2>&1 || true
sleep 3
for i in $(seq 1 10); do
	sleep 0.5
	lab_in br mosquitto_pub -h 10.99.1.1 -p "$LAB_PORT" --cafile "$r/ca.crt" --cert "$r/client.crt" \
		--key "$r/client.key" -t "mqttip/10-0-1-2/10-0-1-1" -m "forged $i" 2>/dev/null || true
	lab_in br mosquitto_sub -h 10.99.1.1 -p "$LAB_PORT" --cafile "$r/ca.crt" --cert "$r/client.crt" \
		--key "$r/client.key" -t "mqttip/10-0-1-2/+" -W 1 2>/dev/null || true
done
at 45
lab_agent_stop b
at 60
lab_agent_start b
at 90
kill "$recorder"
echo "$OUT: $(grep -c '^# mqttip-recording' "$OUT") snapshots"

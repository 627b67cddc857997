#!/usr/bin/env bash
# agent_lab.sh BUILD_DIR [SECONDS]: the agent benchmark (issues 5 and 16), as root. Builds the lab
# of tests/integration/lib/agent_lab.sh (a broker namespace and two node namespaces joined by
# veth) and measures, in one run, for the broker with TLS and the mqttip plugin ("tls") and for a
# plain mosquitto without TLS and plugin ("plain"):
#   ceiling_1400, ceiling_16k   the raw broker ceiling: QoS 0 messages of 1400 B and 16 KB from node
#                               a's namespace to node b's (tests/bench/mqtt_ceiling), MB/s
#   mqttip, mqttip_nooffload    two `mqttip up` (TUN offload on, and off with --no-offload):
#                               iperf3 TCP a -> b for SECONDS (default 8): Mbit/s, ratio to the
#                               1400 B ceiling, node CPU (user + system time of both agents per
#                               GB carried), broker CPU per GB, IP packets per MQTT message a -> b;
#                               and the ping median through the tunnel against the raw MQTT round
#                               trip a -> broker -> b -> broker -> a (64 B, tests/bench/mqtt_rtt,
#                               two client processes as two nodes are), measured interleaved: 4
#                               times 50 round trips then 50 pings, 10 ms apart, pooled, so that
#                               both see the same machine; and, interleaved too, pings to a TUN
#                               device in a's namespace whose reader answers them itself
#                               (tests/bench/tun_echo): the two process wake-ups and TUN passes any
#                               TUN tunnel adds to its transport's round trip ("tun floor")
# and once, as a reference without broker: Debian's wireguard-go between the two node namespaces
# (direct UDP, routed by the broker namespace), same iperf3, ping and node CPU.
# Figures go to stdout as "mode.name value" lines, then a table with the targets of issue 16:
# node CPU <= 4 s/GB, broker CPU <= 2 s/GB, throughput >= 3x the 1400 B ceiling, ping median
# <= 1.5x the raw round trip. Repeat runs and compare ranges: the machine is shared.
# AGENT_LAB_MODES (default "tls plain") picks the broker modes; AGENT_LAB_WG=0 skips wireguard-go;
# AGENT_LAB_QUICK=1 measures briefly (1 s ceilings, 10 round trips and pings): the smoke test.
set -euo pipefail
BUILD=${1:?usage: agent_lab.sh BUILD_DIR [SECONDS]}
SECS=${2:-8}
MODES=${AGENT_LAB_MODES:-tls plain}
MQTTIP="$BUILD/agent/mqttip"
PLUGIN="$BUILD/plugin/mqttip_plugin.so"
CEILING="$BUILD/tests/mqtt_ceiling"
RTT="$BUILD/tests/mqtt_rtt"
ECHO="$BUILD/tests/tun_echo"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib/agent_lab.sh"
command -v iperf3 >/dev/null || lab_cannot_run "iperf3 not installed"
command -v python3 >/dev/null || lab_cannot_run "python3 not installed"
[ -x "$CEILING" ] || lab_cannot_run "$CEILING not built (target mqtt_ceiling)"
[ -x "$RTT" ] || lab_cannot_run "$RTT not built (target mqtt_rtt)"
[ -x "$ECHO" ] || lab_cannot_run "$ECHO not built (target tun_echo)"
WG=${AGENT_LAB_WG:-1}
QUICK=${AGENT_LAB_QUICK:-0}
CEIL_SECS=4 ROUNDS=4 SAMPLES=50
[ "$QUICK" = 1 ] && CEIL_SECS=1 ROUNDS=1 SAMPLES=10
if [ "$WG" = 1 ] && ! command -v wireguard-go >/dev/null; then
	echo "wireguard-go not installed (scripts/install-deps.sh): no reference" >&2
	WG=0
fi
HAS_NOOFFLOAD=0
"$MQTTIP" up --help 2>&1 | grep -q -- --no-offload && HAS_NOOFFLOAD=1

declare -A R=() # mode.name -> value

put() {
	R[$1]=$2
	echo "$1 $2"
}

# cpu_ticks PID...: user + system time of the processes (all threads), clock ticks.
cpu_ticks() {
	local sum=0 pid f
	for pid in "$@"; do
		read -r -a f <"/proc/$pid/stat"
		# fields 14 and 15 (utime, stime), counted after the ")" that ends the command name
		sum=$((sum + f[13] + f[14]))
	done
	echo "$sum"
}

# ceiling MODE SIZE NAME
ceiling() {
	local mode=$1 size=$2 name=$3 out mbs
	if [ "$mode" = tls ]; then
		out=$("$CEILING" "/var/run/netns/$NS_A" "/var/run/netns/$NS_B" 10.99.1.1 10.99.2.1 \
			"$PORT" "$PKI/nodes/a/ca.crt" "$PKI/nodes/a/client.crt" \
			"$PKI/nodes/a/client.key" "$PKI/nodes/b/client.crt" "$PKI/nodes/b/client.key" \
			mqttip/10-0-1-2/10-0-1-1 'mqttip/10-0-1-2/+' "$size" "$CEIL_SECS")
	else
		out=$("$CEILING" "/var/run/netns/$NS_A" "/var/run/netns/$NS_B" 10.99.1.1 10.99.2.1 \
			"$PORT" - - - - - mqttip/10-0-1-2/10-0-1-1 'mqttip/10-0-1-2/+' "$size" "$CEIL_SECS")
	fi
	mbs=$(sed -n 's/.*bytes_per_s=\([0-9]*\).*/\1/p' <<<"$out")
	put "$mode.${name}_MB_per_s" "$(awk -v b="$mbs" 'BEGIN { printf "%.1f", b / 1e6 }')"
}

# rtt MODE N: N raw MQTT round trips, appended to $TB_DIR/rtt.samples (ms, one a line). With the
# plugin the clients are nodes c and d (10.0.1.3, .4) of the lab's PKI: a or b's certificate
# would disconnect the agent running with it (one live session per identity).
rtt() {
	local mode=$1 n=$2
	if [ "$mode" = tls ]; then
		"$RTT" "/var/run/netns/$NS_A" "/var/run/netns/$NS_B" 10.99.1.1 10.99.2.1 "$PORT" \
			"$PKI/nodes/c/ca.crt" "$PKI/nodes/c/client.crt" "$PKI/nodes/c/client.key" \
			"$PKI/nodes/d/client.crt" "$PKI/nodes/d/client.key" mqttip/10-0-1-4/10-0-1-3 \
			mqttip/10-0-1-3/10-0-1-4 "$n" 10 "$TB_DIR/rtt.samples" >/dev/null
	else
		"$RTT" "/var/run/netns/$NS_A" "/var/run/netns/$NS_B" 10.99.1.1 10.99.2.1 "$PORT" \
			- - - - - mqttip/10-0-1-2/10-0-1-1 mqttip/10-0-1-1/10-0-1-2 "$n" 10 \
			"$TB_DIR/rtt.samples" >/dev/null
	fi
}

# pings ADDR N [FILE]: N pings from a, 10 ms apart, appended to FILE (default ping.samples)
pings() {
	lab_in a ping -c "$2" -i 0.01 -W 1 "$1" >"$TB_DIR/ping" || true
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$TB_DIR/ping" >>"${3:-$TB_DIR/ping.samples}"
}

# median FILE
median() {
	local n
	n=$(wc -l <"$1")
	[ "$n" -gt 0 ] || return 1
	sort -n "$1" | sed -n "$(((n + 1) / 2))p"
}

# latency PREFIX MODE ADDR: pings through the tunnel and raw round trips (MODE "": none),
# interleaved
latency() {
	local prefix=$1 mode=$2 addr=$3
	rm -f "$TB_DIR/rtt.samples" "$TB_DIR/ping.samples" "$TB_DIR/echo.samples"
	for _ in $(seq 1 "$ROUNDS"); do
		[ -z "$mode" ] || rtt "$mode" "$SAMPLES" || tb_fail "$prefix: mqtt_rtt failed"
		pings "$addr" "$SAMPLES"
		pings 10.0.8.2 "$SAMPLES" "$TB_DIR/echo.samples"
	done
	put "$prefix.tun_floor_ms" "$(median "$TB_DIR/echo.samples")"
	median "$TB_DIR/ping.samples" >/dev/null || tb_fail "$prefix: no ping answered"
	put "$prefix.ping_median_ms" "$(median "$TB_DIR/ping.samples")"
	[ -z "$mode" ] || put "$prefix.rtt_median_ms" "$(median "$TB_DIR/rtt.samples")"
}

# iperf PREFIX ADDR NODE_PIDS BROKER_PID(or "")
iperf() {
	local prefix=$1 addr=$2 nodes=$3 broker=$4 srv n0 n1 b0=0 b1=0 bytes secs hz
	hz=$(getconf CLK_TCK)
	ip netns exec "$NS_B" iperf3 -s -1 -B "$addr" >/dev/null 2>&1 &
	srv=$!
	sleep 0.5
	# shellcheck disable=SC2086
	n0=$(cpu_ticks $nodes)
	[ -z "$broker" ] || b0=$(cpu_ticks "$broker")
	lab_in a iperf3 -c "$addr" -t "$SECS" -J >"$TB_DIR/iperf.json" 2>&1 || {
		cat "$TB_DIR/iperf.json" >&2
		tb_fail "$prefix: iperf3 failed"
	}
	# shellcheck disable=SC2086
	n1=$(cpu_ticks $nodes)
	[ -z "$broker" ] || b1=$(cpu_ticks "$broker")
	wait "$srv" 2>/dev/null || true
	read -r bytes secs < <(python3 -c 'import json,sys
e = json.load(open(sys.argv[1]))["end"]["sum_received"]
print(e["bytes"], e["seconds"])' "$TB_DIR/iperf.json")
	put "$prefix.Mbit_per_s" "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", b * 8 / s / 1e6 }')"
	put "$prefix.node_cpu_s_per_GB" "$(awk -v t=$((n1 - n0)) -v hz="$hz" -v b="$bytes" \
		'BEGIN { printf "%.2f", t / hz / (b / 1e9) }')"
	[ -z "$broker" ] || put "$prefix.broker_cpu_s_per_GB" "$(awk -v t=$((b1 - b0)) -v hz="$hz" \
		-v b="$bytes" 'BEGIN { printf "%.2f", t / hz / (b / 1e9) }')"
	R[$prefix.bytes_per_s]=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", b / s }')
}

plain_broker_start() {
	local conf="$TB_DIR/plain.conf"
	broker_conf_base "$conf"
	echo "listener $PORT 0.0.0.0" >>"$conf"
	ip netns exec "$NS_BR" mosquitto -c "$conf" >>"$TB_DIR/broker.log" 2>&1 &
	LAB_BROKER_PID=$!
	for _ in $(seq 1 100); do
		lab_in br ss -Htln "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	tb_fail "plain broker did not start"
}

# mqttip MODE NAME [agent flags...]
mqttip_run() {
	local mode=$1 name=$2 url_a url_b json txp txm
	shift 2
	if [ "$mode" = tls ]; then
		url_a="mqtts://10.99.1.1:$PORT" url_b="mqtts://10.99.2.1:$PORT"
	else
		url_a="mqtt://10.99.1.1:$PORT" url_b="mqtt://10.99.2.1:$PORT"
	fi
	lab_agent_start a -b "$url_a" "$@"
	lab_agent_start b -b "$url_b" "$@"
	lab_wait_ping a 10.0.1.2 20 || tb_fail "$mode.$name: no ping through the tunnel"
	latency "$mode.$name" "$mode" 10.0.1.2
	iperf "$mode.$name" 10.0.1.2 "${LAB_PID[a]} ${LAB_PID[b]}" "$LAB_BROKER_PID"
	put "$mode.$name.ratio" "$(awk -v t="${R[$mode.$name.bytes_per_s]}" \
		-v c="${R[$mode.ceiling_1400_MB_per_s]}" 'BEGIN { printf "%.2f", t / (c * 1e6) }')"
	json=$(lab_status a --json)
	txp=$(grep -o '"tx_packets":[0-9]*' <<<"$json" | tail -1 | cut -d: -f2)
	txm=$(grep -o '"tx_messages":[0-9]*' <<<"$json" | tail -1 | cut -d: -f2)
	put "$mode.$name.packets_per_message" "$(awk -v p="$txp" -v m="$txm" \
		'BEGIN { printf "%.1f", m ? p / m : 0 }')"
	lab_agent_stop a
	lab_agent_stop b
}

wireguard_run() {
	local ka kb pa pb wa="wga$LAB_ID" wb="wgb$LAB_ID" pida pidb
	lab_in br sysctl -qw net.ipv4.ip_forward=1
	ka=$(wg genkey)
	kb=$(wg genkey)
	pa=$(wg pubkey <<<"$ka")
	pb=$(wg pubkey <<<"$kb")
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 ip netns exec "$NS_A" wireguard-go -f "$wa" \
		>"$TB_DIR/wga.log" 2>&1 &
	pida=$!
	TB_PIDS+=("$pida")
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 ip netns exec "$NS_B" wireguard-go -f "$wb" \
		>"$TB_DIR/wgb.log" 2>&1 &
	pidb=$!
	TB_PIDS+=("$pidb")
	for _ in $(seq 1 50); do
		[ -S "/var/run/wireguard/$wa.sock" ] && [ -S "/var/run/wireguard/$wb.sock" ] && break
		sleep 0.1
	done
	lab_in a wg set "$wa" private-key <(echo "$ka") listen-port 51820 peer "$pb" \
		endpoint 10.99.2.2:51820 allowed-ips 10.0.9.2/32
	lab_in b wg set "$wb" private-key <(echo "$kb") listen-port 51820 peer "$pa" \
		endpoint 10.99.1.2:51820 allowed-ips 10.0.9.1/32
	lab_in a ip addr add 10.0.9.1/24 dev "$wa"
	lab_in b ip addr add 10.0.9.2/24 dev "$wb"
	lab_in a ip link set "$wa" mtu 1400 up
	lab_in b ip link set "$wb" mtu 1400 up
	lab_wait_ping a 10.0.9.2 20 || tb_fail "wireguard-go: no ping"
	latency wireguard_go "" 10.0.9.2
	iperf wireguard_go 10.0.9.2 "$pida $pidb" ""
	kill "$pida" "$pidb" 2>/dev/null || true
	wait "$pida" "$pidb" 2>/dev/null || true
}

lab_init
ip netns exec "$NS_A" "$ECHO" echo0 &
TB_PIDS+=("$!")
for _ in $(seq 1 50); do
	lab_in a ip link show echo0 >/dev/null 2>&1 && break
	sleep 0.1
done
lab_in a ip addr add 10.0.8.1/24 dev echo0
lab_in a ip link set echo0 up
"$MQTTIP" pki issue "$PKI" c --addr 10.0.1.3 >/dev/null
"$MQTTIP" pki issue "$PKI" d --addr 10.0.1.4 >/dev/null
chmod -R go+rX "$PKI/broker"
for mode in $MODES; do
	if [ "$mode" = tls ]; then
		PORT=$LAB_PORT
		lab_broker_start
	else
		PORT=1883
		plain_broker_start
	fi
	ceiling "$mode" 1400 ceiling_1400
	ceiling "$mode" 16384 ceiling_16k
	mqttip_run "$mode" mqttip
	if [ "$HAS_NOOFFLOAD" = 1 ]; then
		mqttip_run "$mode" mqttip_nooffload --no-offload
	fi
	lab_broker_stop
done
[ "$WG" = 1 ] && wireguard_run

# The table: one line per measured tunnel, the targets of issue 16 beside.
echo
printf '%-28s %9s %7s %9s %9s %11s %11s\n' "" Mbit/s ratio ping_ms rtt_ms node_s/GB broker_s/GB
for mode in $MODES; do
	for name in mqttip mqttip_nooffload; do
		[ -n "${R[$mode.$name.Mbit_per_s]:-}" ] || continue
		printf '%-28s %9s %7s %9s %9s %11s %11s\n' "$mode.$name" \
			"${R[$mode.$name.Mbit_per_s]}" "${R[$mode.$name.ratio]}" \
			"${R[$mode.$name.ping_median_ms]}" "${R[$mode.$name.rtt_median_ms]}" \
			"${R[$mode.$name.node_cpu_s_per_GB]}" "${R[$mode.$name.broker_cpu_s_per_GB]}"
		printf '%-28s %9s %7s %9s  (ping - raw round trip %s ms, tun floor %s ms)\n' \
			"  ping / raw round trip" "" "" \
			"$(awk -v p="${R[$mode.$name.ping_median_ms]}" \
				-v r="${R[$mode.$name.rtt_median_ms]}" 'BEGIN { printf "%.2f", p / r }')" \
			"$(awk -v p="${R[$mode.$name.ping_median_ms]}" \
				-v r="${R[$mode.$name.rtt_median_ms]}" 'BEGIN { printf "%.3f", p - r }')" \
			"${R[$mode.$name.tun_floor_ms]}"
	done
	printf '%-28s %9s %7s\n' "$mode raw broker (1400 B)" \
		"$(awk -v c="${R[$mode.ceiling_1400_MB_per_s]}" 'BEGIN { printf "%.0f", c * 8 }')" 1.00
done
if [ "$WG" = 1 ]; then
	printf '%-28s %9s %7s %9s %9s %11s\n' wireguard_go "${R[wireguard_go.Mbit_per_s]}" - \
		"${R[wireguard_go.ping_median_ms]}" - "${R[wireguard_go.node_cpu_s_per_GB]}"
fi
echo "targets (issue 16): ratio >= 3, ping / raw round trip <= 1.5, node <= 4 s/GB, broker <= 2 s/GB"

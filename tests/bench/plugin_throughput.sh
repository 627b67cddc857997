#!/usr/bin/env bash
# plugin_throughput.sh BUILD_DIR [SECONDS] - broker throughput with and without mqttip_plugin.so,
# same broker, same TLS transport and certificates, same run: 1 publisher -> 1 subscriber, QoS 0,
# 1400 B and 100 B payloads, on mqttip/10-9-0-2/10-9-0-1. Runs alternate (off, on, off, on, ...)
# and the best of REPEAT runs counts, to damp the noise of a shared machine.
# Prints messages/s for each case and the ratio with/without (target >= 0.95).
set -euo pipefail
build=${1:?usage: plugin_throughput.sh BUILD_DIR [SECONDS]}
seconds=${2:-3}
REPEAT=${REPEAT:-3}
source "$(dirname "$0")/../integration/lib/broker.sh"
tb_init
D=$TB_DIR
pki_ca "$D" ca
pki_server "$D" ca server
pki_client "$D" ca node-a 10.9.0.1
pki_client "$D" ca node-b 10.9.0.2
bench=$build/tests/mqtt_ceiling
# With two or more CPUs the broker gets CPU 0 and the clients the others, so the two cases
# compete less with each other for the same core.
bench_cpus=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	export TB_BROKER_CPU=0
	bench_cpus="1-$(($(nproc) - 1))"
fi

run() { # run on|off SIZE -> messages/s
	local port conf=$D/$1.conf log=$D/$1.log rate
	port=$(tb_free_port)
	broker_conf_base "$conf"
	sed -i '/^log_type/d; /^connection_messages/d' "$conf"
	broker_conf_tls "$conf" "$port" "$D" ca server
	[ "$1" = off ] || broker_conf_plugin "$conf" "$build/plugin/mqttip_plugin.so"
	broker_start "$conf" "$log" "$port"
	rate=$(${bench_cpus:+taskset -c "$bench_cpus"} "$bench" - - 127.0.0.1 127.0.0.1 "$port" \
		"$D/ca.crt" "$D/node-a.crt" "$D/node-a.key" "$D/node-b.crt" "$D/node-b.key" \
		mqttip/10-9-0-2/10-9-0-1 mqttip/10-9-0-2/+ "$2" "$seconds" |
		sed -E 's/^msgs_per_s=([0-9]+) .*/\1/')
	broker_stop "$log"
	echo "$rate"
}

for size in 1400 100; do
	best_off=0 best_on=0
	for _ in $(seq 1 "$REPEAT"); do
		r=$(run off "$size")
		[ "$r" -le "$best_off" ] || best_off=$r
		r=$(run on "$size")
		[ "$r" -le "$best_on" ] || best_on=$r
	done
	awk -v s="$size" -v off="$best_off" -v on="$best_on" 'BEGIN {
		printf "%5d B QoS 0: without plugin %7d msg/s, with plugin %7d msg/s, ratio %.3f\n",
			s, off, on, on / off }'
done

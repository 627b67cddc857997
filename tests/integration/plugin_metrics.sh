#!/usr/bin/env bash
# plugin_metrics.sh - the metrics document: it appears on $SYS/broker/mqttip/metrics for an
# admin, parses as JSON, and its counters equal the traffic this test sends (accepted,
# delivered, handshake, denials, connects); the Prometheus file carries the same numbers.
set -euo pipefail
source "$(dirname "$0")/lib/plugin_env.sh"
tb_init
plugin_env_pki
plugin_env_start policy_file="$D/policy" metrics_interval=1 prometheus_file="$D/mqttip.prom"
GET=${MQTTIP_METRICS_GET:?}

listen node-b "$D/b.out" 5 'mqttip/10-9-0-2/+' 'mqttip/kx/10-9-0-2/+'
B=$LISTEN_PID
# node-a, four sessions: 5 data messages of 10 bytes, 2 handshake messages of 6 bytes,
# 3 forged sources (denied publishes), 2 foreign filters (denied subscriptions).
printf '0123456789\n%.0s' 1 2 3 4 5 | mosquitto_pub $(as node-a) -l -t mqttip/10-9-0-2/10-9-0-1
printf 'kxkxkx\n%.0s' 1 2 | mosquitto_pub $(as node-a) -l -q 1 -t mqttip/kx/10-9-0-2/10-9-0-1
printf 'forged\n%.0s' 1 2 3 | mosquitto_pub $(as node-a) -V 5 -l -q 1 -t mqttip/10-9-0-2/10-9-0-3
mosquitto_sub $(as node-a) -E -t 'mqttip/10-9-0-2/+' -t 'mqttip/#' >/dev/null 2>&1
# A client without certificate: one denied subscription, counted as anonymous.
mosquitto_sub $(as -) -E -t 'mqttip/cert/+' >/dev/null 2>&1
wait "$B" || true
[ "$(wc -l <"$D/b.out")" = 7 ] || tb_fail "node-b received $(wc -l <"$D/b.out") messages, not 7"

# Documents are published every second; take the second one to come, which follows the traffic.
mosquitto_sub $(as ops) -C 2 -W 6 -t '$SYS/broker/mqttip/metrics' >"$D/docs"
tail -n 1 "$D/docs" >"$D/metrics.json"

check() { # check SCOPE FIELD EXPECTED
	local got
	got=$("$GET" "$D/metrics.json" "$1" "$2") || tb_fail "metrics: no $1.$2 in $(cat "$D/metrics.json")"
	[ "$got" = "$3" ] || tb_fail "metrics: $1.$2 = $got, expected $3"
	tb_ok "metrics $1.$2 = $3"
}
check node-a published_msgs 7
check node-a published_bytes 62
check node-a handshake_msgs 2
check node-a denied_publish 3
check node-a denied_subscribe 2
check node-a connects 4
check node-a disconnects 4
check node-a online 0
check node-b delivered_msgs 7
check node-b delivered_bytes 62
check node-b published_msgs 0
check node-b connects 1
check node-b disconnects 1
check anonymous denied_subscribe 1
check total published_msgs 7
check total published_bytes 62
check total denied_subscribe 3
check total denied_publish 3
check total nodes 3
a_last=$("$GET" "$D/metrics.json" node-a last_activity)
now=$(date +%s)
[ "$a_last" -gt $((now - 30)) ] && [ "$a_last" -le "$now" ] || tb_fail "last_activity $a_last"
tb_ok "last_activity is recent"

# Prometheus textfile: written by rename, same counters, node label.
P=$D/mqttip.prom
[ ! -e "$P.tmp" ] || tb_fail "temporary Prometheus file left behind"
grep -qx 'mqttip_published_messages_total{node="node-a"} 7' "$P" || tb_fail "prom: $(cat "$P")"
grep -qx 'mqttip_delivered_bytes_total{node="node-b"} 62' "$P" || tb_fail "prom delivered"
grep -qx 'mqttip_denied_subscribe_total{node=""} 1' "$P" || tb_fail "prom anonymous"
grep -qx '# TYPE mqttip_denied_publish_total counter' "$P" || tb_fail "prom TYPE line"
tb_ok "Prometheus textfile matches"

# mqttip top --once: one table from the admin certificate; refused for a non-admin.
if [ -n "${MQTTIP_AGENT:-}" ]; then
	top_args=(--broker "mqtts://127.0.0.1:$TLS" --cafile "$D/ca.crt" --once --timeout 10)
	"$MQTTIP_AGENT" top "${top_args[@]}" --cert "$D/ops.crt" --key "$D/ops.key" >"$D/top.out" ||
		tb_fail "mqttip top failed"
	grep -Eq "^node-a +0 +10.9.0.1 " "$D/top.out" || tb_fail "mqttip top: $(cat "$D/top.out")"
	grep -Eq "^TOTAL " "$D/top.out" || tb_fail "mqttip top: no TOTAL row"
	if "$MQTTIP_AGENT" top "${top_args[@]}" --cert "$D/node-a.crt" --key "$D/node-a.key" \
		>/dev/null 2>"$D/top.err"; then
		tb_fail "mqttip top worked with a non-admin certificate"
	fi
	grep -q "admin" "$D/top.err" || tb_fail "mqttip top: unclear refusal: $(cat "$D/top.err")"
	tb_ok "mqttip top --once shows the nodes; refused for non-admins"
fi

broker_alive || tb_fail "broker died"
broker_stop "$LOG" || tb_fail "sanitizer report in the broker log"
echo "plugin_metrics: all checks passed"

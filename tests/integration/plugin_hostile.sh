#!/usr/bin/env bash
# plugin_hostile.sh - the plugin under hostile input: malformed and huge topics and filters,
# clients without certificate or without SAN, 1000 TLS connect/disconnect cycles; the broker must
# stay up, refuse everything malformed, and still carry legitimate traffic afterwards.
set -euo pipefail
source "$(dirname "$0")/lib/plugin_env.sh"
tb_init
plugin_env_pki
plugin_env_start policy_file="$D/policy" metrics_interval=1 legacy=on
LOOP=${MQTTIP_CONNECT_LOOP:?}

huge=$(head -c 60000 /dev/zero | tr '\0' 'a')
for t in 'mqttip/' 'mqttip//' 'mqttip/kx//10-9-0-1' 'mqttip/10-9-0-2/' 'mqttip//10-9-0-1' \
	'mqttip/999-1-1-1/10-9-0-1' 'mqttip/10-9-0-2/010-9-0-1' 'mqttip/10-9-0-2/10-9-0-1 ' \
	'mqttip/FD00::2/fd00::1' 'mqttip/fd00:0::2/fd00::1' 'mqttip/fd00::2/10-9-0-1' \
	'mqttip/cert/' 'mqttip/cert/10-9-0-1/x' 'mqttip/kx/10-9-0-2' 'mqttip/é/10-9-0-1' \
	"mqttip/10-9-0-2/$huge" "mqttip/$huge"; do
	EXPECT=135 expect_puback node-a "$t" x >/dev/null
done
tb_ok "17 malformed or huge topics refused"
for f in "mqttip/$huge/+" "mqttip/10-9-0-1/$huge" 'mqttip/+/#' 'mqttip/kx/+/#' 'mqttip/cert/+/+' \
	'mqttip//+' 'mqttip/10-9-0-1/+/+' 'mqttip/kx/10-9-0-1' '+' '+/+' '+/10-9-0-2/+' 'mqttip/10.9.0.1/+'; do
	[ "$(suback node-a "$f")" = 128 ] || tb_fail "filter '${f:0:40}' granted"
done
tb_ok "11 malformed, huge or overbroad filters refused"

# No certificate (plain listener) and no SAN: nothing under the prefix.
EXPECT=135 expect_puback - mqttip/10-9-0-2/10-9-0-1 anon
EXPECT=135 expect_puback - mqttip/cert/10-9-0-1 anon -r
EXPECT=135 expect_puback nosan mqttip/cert/10-9-0-1 nosan -r

# 1000 connections with a certificate, 200 without SAN: the cache must not grow or crash.
"$LOOP" 1000 "$TLS" "$D/ca.crt" "$D/node-a.crt" "$D/node-a.key" || tb_fail "connect loop"
"$LOOP" 200 "$TLS" "$D/ca.crt" "$D/nosan.crt" "$D/nosan.key" || tb_fail "nosan connect loop"
tb_ok "1200 TLS connect/disconnect cycles"
broker_alive || tb_fail "broker died during the loop"

# Still serving: a legitimate message is delivered, and the counters show the loop.
listen node-b "$D/b.out" 3 'mqttip/10-9-0-2/+'
B=$LISTEN_PID
EXPECT=0 expect_puback node-a mqttip/10-9-0-2/10-9-0-1 after-loop
wait "$B" || true
grep -qxF "mqttip/10-9-0-2/10-9-0-1 after-loop" "$D/b.out" || tb_fail "no delivery after the loop"
sleep 1.2
mosquitto_sub $(as ops) -C 1 -W 4 -t '$SYS/broker/mqttip/metrics' >"$D/metrics.json"
c=$("$MQTTIP_METRICS_GET" "$D/metrics.json" node-a connects)
o=$("$MQTTIP_METRICS_GET" "$D/metrics.json" node-a online)
[ "$c" -ge 1000 ] || tb_fail "node-a connects $c < 1000"
[ "$o" = 0 ] || tb_fail "node-a online $o after all disconnected"
tb_ok "metrics after the loop: $c connects, $o online"

broker_alive || tb_fail "broker died"
broker_stop "$LOG" || tb_fail "sanitizer report in the broker log"
echo "plugin_hostile: all checks passed"

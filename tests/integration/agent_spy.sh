#!/usr/bin/env bash
# agent_spy.sh MQTTIP PLUGIN: the broker operator's view. The broker gets a second, plain listener
# without the plugin, where a spy subscribes to '#' and records every payload (hex). A TCP transfer
# of a text full of a known marker, and pings whose payload is the marker, go through the tunnel:
# the recording holds the tunnel's messages but not the marker. A positive control (the marker
# published in clear by the spy itself) shows that the search finds it when it is there.
# Then the agents run over that plain listener (tcp://): they warn that the broker cannot
# authenticate them, and still tunnel end to end.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
TCPCAT=${MQTTIP_TCPCAT:?set MQTTIP_TCPCAT to the agent_tcpcat program}
. "$(dirname "$0")/lib/agent_lab.sh"

MARKER="mqttip-spy-marker-QX7Z"
marker_hex=$(printf '%s' "$MARKER" | od -An -tx1 | tr -d ' \n')

lab_init
LAB_SPY=1 lab_broker_start
ip netns exec "$NS_A" mosquitto_sub -h 10.99.1.1 -p "$LAB_SPY_PORT" -t '#' -F '%t %x' >"$TB_DIR/rec" 2>&1 &
spy=$!
TB_PIDS+=("$spy")
lab_agent_start a
lab_agent_start b
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b"

for _ in $(seq 1 20000); do echo "$MARKER $MARKER $MARKER"; done >"$TB_DIR/in"
ip netns exec "$NS_B" "$TCPCAT" listen 10.0.1.2 5003 "$TB_DIR/out" &
sink=$!
TB_PIDS+=("$sink")
lab_in a timeout 30 "$TCPCAT" send 10.0.1.2 5003 "$TB_DIR/in" || tb_fail "transfer failed"
wait "$sink" || tb_fail "receiver failed"
cmp -s "$TB_DIR/in" "$TB_DIR/out" || tb_fail "transfer corrupted"
lab_in a ping -c 3 -i 0.2 -p "$(printf '%s' "${MARKER:0:16}" | od -An -tx1 | tr -d ' \n')" \
	10.0.1.2 >/dev/null || tb_fail "ping with the marker failed"
lab_in a mosquitto_pub -h 10.99.1.1 -p "$LAB_SPY_PORT" -t control/clear -m "$MARKER"
# mosquitto_pub returns once the broker has the message, not once the spy has written it: wait
# for the control (it comes after every tunnel message the spy gets) before stopping the spy;
# the checks below then judge the recording as before
tb_wait_log 10 "^control/clear $marker_hex" "$TB_DIR/rec" || true
kill "$spy" 2>/dev/null || true
wait "$spy" 2>/dev/null || true

tunnel=$(grep -c '^mqttip/10-0-1-2/10-0-1-1 ' "$TB_DIR/rec" || true)
[ "$tunnel" -gt 50 ] || tb_fail "the spy recorded only $tunnel tunnel messages a -> b"
grep -q "^control/clear $marker_hex" "$TB_DIR/rec" || tb_fail "positive control not found"
if grep -v '^control/clear ' "$TB_DIR/rec" | grep -q "$marker_hex"; then
	tb_fail "the marker appears in clear in the broker's traffic"
fi
if grep -v '^control/clear ' "$TB_DIR/rec" | grep -q "${marker_hex:0:24}"; then
	tb_fail "part of the marker appears in clear in the broker's traffic"
fi
tb_ok "$tunnel tunnel messages recorded by the spy, no marker in them (control found)"
lab_agent_stop a
lab_agent_stop b

lab_agent_start a -b "tcp://10.99.1.1:$LAB_SPY_PORT"
lab_agent_start b -b "tcp://10.99.1.1:$LAB_SPY_PORT"
grep -q "warning: plain MQTT" "$TB_DIR/a.log" || tb_fail "no warning for a plain broker"
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping over a plain broker"
lab_in b ping -c 2 -W 2 fd00:1::1 >/dev/null || tb_fail "no IPv6 ping over a plain broker"
tb_ok "plain broker: warning logged, tunnel works"
lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

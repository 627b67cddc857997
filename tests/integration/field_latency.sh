#!/usr/bin/env bash
# field_latency.sh: issue 14 case 8, a broker link with a long round trip, in the namespace lab.
# node1 reaches the broker through tests/adversarial/delayrelay with 3.5 s one-way delay (each
# direction; the kernel here has no tc netem): its TLS handshake and CONNECT/CONNACK take about
# 14 s, more than the first attempt's 10 s connect timeout. The timeout doubles after each
# timeout, so the second attempt (20 s) connects: node1 connects within 90 s, says once which
# phase timed out, and its status shows the grown timeout. `--connect-timeout 30` connects at
# the first attempt.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET, DELAYRELAY (tests/field.cmake).
set -euo pipefail
LAB_RELAY=1
LAB_DELAY_MS=3500
. "$(dirname "$0")/lib/lab.sh"
[ -x "${DELAYRELAY:-}" ] || lab_fail "DELAYRELAY must name tests/adversarial delayrelay"

lab_init 2
lab_broker_start
kill -USR1 "$LAB_RELAY_PID" # the delay on

# wait_connected I SECONDS: prints the seconds until node I had a session
wait_connected() {
	local i=$1 t=$2 start=$SECONDS
	while [ $((SECONDS - start)) -lt "$t" ]; do
		if [ "$(lab_json "$i" broker.connected 2>/dev/null)" = true ]; then
			echo $((SECONDS - start))
			return 0
		fi
		sleep 0.5
	done
	return 1
}

lab_agent_start 1
lab_wait_agent 1
s=$(wait_connected 1 90) || lab_fail "node1 did not connect in 90 s: $(cat "$LAB_DIR/node1.log")"
echo "figure: connected after $s s through a 3.5 s one-way delay"
[ "$(lab_json 1 broker.failures)" -ge 1 ] || lab_fail "the first attempt did not time out: nothing tested"
n=$(grep -cE "(TLS handshake not finished|no CONNACK) within 10 s" "$LAB_DIR/node1.log" || true)
[ "$n" = 1 ] || lab_fail "the timeout's phase was logged $n times: $(cat "$LAB_DIR/node1.log")"
[ "$(lab_json 1 broker.connect_timeout_s)" = 10 ] || lab_fail "the timeout was not reset after the session started"
grep -q "next connect timeout 20 s" "$LAB_DIR/node1.log" || lab_fail "the timeout did not grow"
lab_ok "3.5 s one-way delay: connected after $s s ($(lab_json 1 broker.failures) timed-out attempt(s)), timeout grew to 20 s"
lab_agent_stop 1

lab_agent_start 1 --connect-timeout 30
lab_wait_agent 1
s=$(wait_connected 1 60) || lab_fail "node1 with --connect-timeout 30 did not connect"
[ "$(lab_json 1 broker.failures)" = 0 ] || lab_fail "--connect-timeout 30: an attempt failed"
lab_ok "--connect-timeout 30: connected at the first attempt after $s s"

# The tunnel over that link: a handshake round trip node2 -> broker -> node1 -> broker -> node2
# takes 7 s, longer than the first retry (5 s); the engine's retry timer doubles (5, 10, 20 s,
# PROTOCOL.md 8.3), so the second initiation's response arrives before the third replaces it.
# A ping's echo takes the same 7 s, hence -W 10.
LAB_RELAY="" lab_agent_start 2
lab_wait_agent 2
start=$SECONDS
until lab_exec 2 ping -n -q -c 1 -W 10 "$(lab_addr 1)" >/dev/null 2>&1; do
	[ $((SECONDS - start)) -lt 90 ] ||
		lab_fail "no ping 2 -> 1 answered within 90 s over the 7 s round trip: $(lab_status 2)"
done
echo "figure: first ping 2 -> 1 answered after $((SECONDS - start)) s over a 7 s round trip"
lab_ok "the handshake completes over a 7 s round trip (retry backoff)"

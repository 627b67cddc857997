#!/usr/bin/env bash
# field_fallback.sh: a broker that does not speak MQTT v5 (RabbitMQ 3.10, for instance), in the
# namespace lab with a plain broker (LAB_PLAIN) behind tests/integration/v311gate.c, which
# refuses a v5 CONNECT as a 3.1.1 broker does (CONNACK return code 1) or, with --silent, closes
# the connection without a word, and relays 3.1.1 connections to mosquitto.
#  1. node1 behind the refusing gate: one info line, then a 3.1.1 session (status protocol 3.1.1);
#  2. node2 behind the silent gate: the same after the silent close;
#  3. they ping each other; node3, straight to mosquitto, speaks v5;
#  4. node4 behind a gate that closes its first two connections after the CONNECT whatever the
#     version (a broker that refuses the client for a while, or a TLS 1.3 refusal whose alert is
#     lost): after the silent v5 close it tries 3.1.1, and when 3.1.1 is closed the same way it
#     says so and goes back to v5, instead of staying on 3.1.1 with a v5 broker for good;
#  5. node5 behind a gate that closes only its first connection: 3.1.1 for that session (the
#     silent close is only a guess), v5 again once the broker restarts; node2 behind the silent
#     gate is back on 3.1.1 after the restart too.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET, V311GATE (tests/field.cmake).
set -euo pipefail
LAB_PLAIN=1
. "$(dirname "$0")/lib/lab.sh"
[ -x "${V311GATE:-}" ] || lab_fail "V311GATE must name the tool"

lab_init 5
lab_broker_start
lab_bg ip netns exec "$(lab_bns)" "$V311GATE" "$LAB_BROKER_IP" 1885 "$LAB_BROKER_IP" "$LAB_PLAIN_PORT"
lab_bg ip netns exec "$(lab_bns)" "$V311GATE" --silent "$LAB_BROKER_IP" 1886 "$LAB_BROKER_IP" \
	"$LAB_PLAIN_PORT"
lab_bg ip netns exec "$(lab_bns)" "$V311GATE" --mute 2 "$LAB_BROKER_IP" 1887 "$LAB_BROKER_IP" \
	"$LAB_PLAIN_PORT"
lab_bg ip netns exec "$(lab_bns)" "$V311GATE" --mute 1 "$LAB_BROKER_IP" 1888 "$LAB_BROKER_IP" \
	"$LAB_PLAIN_PORT"
for _ in $(seq 1 50); do
	lab_listening 1885 && lab_listening 1886 && lab_listening 1887 && lab_listening 1888 && break
	sleep 0.1
done
for port in 1885 1886 1887 1888; do
	lab_listening "$port" || lab_fail "v311gate does not listen on $port"
done

# start_behind I PORT: node I with the gate at PORT as its only broker.
start_behind() {
	LAB_NO_URL=1 lab_agent_start "$1" -b "tcp://$LAB_BROKER_IP:$2"
}
start_behind 1 1885
start_behind 2 1886
lab_agent_start 3
for i in 1 2 3; do
	lab_wait_agent "$i"
	lab_wait_json "$i" broker.connected true
done
[ "$(lab_json 1 broker.protocol)" = 3.1.1 ] && [ "$(lab_json 2 broker.protocol)" = 3.1.1 ] ||
	lab_fail "nodes behind the gate: protocol $(lab_json 1 broker.protocol) / $(lab_json 2 broker.protocol)"
[ "$(lab_json 3 broker.protocol)" = 5 ] || lab_fail "node3 does not speak v5"
grep -q "does not speak MQTT v5: using 3.1.1" "$LAB_DIR/node1.log" || lab_fail "node1: no line"
grep -q "closed the connection without answering an MQTT v5 CONNECT: trying 3.1.1" \
	"$LAB_DIR/node2.log" || lab_fail "node2: no line"
lab_ok "refused v5 and silently closed v5: both fell back to 3.1.1; node3 speaks v5"
lab_wait_ping 1 2 20 >/dev/null || lab_fail "no ping 1 -> 2 over 3.1.1"
lab_wait_ping 2 3 20 >/dev/null || lab_fail "no ping 2 -> 3 (3.1.1 to v5)"
lab_ok "pings between 3.1.1 and v5 sessions"

start_behind 4 1887
lab_wait_agent 4
lab_wait_json 4 broker.connected true 20
grep -q "closed the connection without answering an MQTT v5 CONNECT: trying 3.1.1" \
	"$LAB_DIR/node4.log" || lab_fail "node4: no fallback line: $(cat "$LAB_DIR/node4.log")"
grep -q "without an answer, in MQTT v5 and in 3.1.1: it refuses this client" "$LAB_DIR/node4.log" ||
	lab_fail "node4 does not say that 3.1.1 was closed too: $(cat "$LAB_DIR/node4.log")"
[ "$(lab_json 4 broker.protocol)" = 5 ] ||
	lab_fail "node4 stayed on MQTT $(lab_json 4 broker.protocol) after both versions were closed alike"
lab_ok "closed in v5 and in 3.1.1 alike: node4 names the refusal and connects with v5 when let in"

# broker.protocol is null between sessions: waiting for it is waiting for a session
start_behind 5 1888
lab_wait_agent 5
lab_wait_json 5 broker.protocol 3.1.1 20
lab_broker_kill
lab_broker_start
lab_wait_json 5 broker.protocol 5 20
lab_wait_json 2 broker.protocol 3.1.1 20
lab_wait_json 3 broker.protocol 5 20
[ "$(grep -c "closed the connection without answering an MQTT v5 CONNECT" "$LAB_DIR/node2.log")" = 1 ] ||
	lab_fail "node2 announced the guess more than once: $(grep -c "without answering" "$LAB_DIR/node2.log")"
lab_ok "a 3.1.1 guessed from a silent close lasts one session: node5 speaks v5 after the restart"

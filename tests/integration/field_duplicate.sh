#!/usr/bin/env bash
# field_duplicate.sh: issue 14 case 1, two clients with one identity, in the namespace lab
# (tests/integration/lib/lab.sh: mosquitto 2.0.11 with the plugin and TLS, per_listener_settings
# false as the README prescribes).
#  1. Newest session wins: node2's bundle runs twice with different client ids; when the second
#     connects, the plugin's tick disconnects the first (broker log, and the first agent reads the
#     v5 DISCONNECT reason 0x98 "administrative action").
#  2. A copied bundle: node1's bundle runs in two namespaces with the same client id (the broker's
#     session takeover closes the older connection at every connect). Over 30 s each agent
#     connects at most 9 times (growing backoff; before: 31-34 times a minute), at least one of
#     them logs one line "another client uses node name node1 (this certificate)" and its status
#     shows it in broker.conflict.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET (tests/field.cmake).
set -euo pipefail
. "$(dirname "$0")/lib/lab.sh"

lab_init 4
lab_broker_start
B2="$LAB_DIR/pki/nodes/node2/node2.bundle"
B1="$LAB_DIR/pki/nodes/node1/node1.bundle"

# connects I: the broker.connects of agent I
connects() { lab_json "$1" broker.connects; }

# --- 1. newest session wins -------------------------------------------------------------------
lab_agent_start 2 -n n2-old
lab_wait_agent 2
for _ in $(seq 1 50); do
	[ "$(connects 2)" -ge 1 ] && break
	sleep 0.1
done
[ "$(connects 2)" -ge 1 ] || lab_fail "node2 (n2-old) did not connect: $(tail -5 "$LAB_DIR/node2.log")"
lab_agent_start 4 --bundle "$B2" -n n2-new
lab_wait_agent 4
for _ in $(seq 1 60); do
	grep -q "Client n2-old been disconnected by administrative action" "$LAB_DIR/broker.log" &&
		break
	sleep 0.1
done
grep -q "node node2: new session n2-new replaces n2-old" "$LAB_DIR/broker.log" ||
	lab_fail "the plugin did not see the takeover: $(tail -20 "$LAB_DIR/broker.log")"
grep -q "Client n2-old been disconnected by administrative action" "$LAB_DIR/broker.log" ||
	lab_fail "the older session was not disconnected: $(tail -20 "$LAB_DIR/broker.log")"
for _ in $(seq 1 30); do
	grep -q "reason 0x98" "$LAB_DIR/node2.log" && break
	sleep 0.1
done
grep -q "the broker closed the session: Administrative action (reason 0x98)" \
	"$LAB_DIR/node2.log" || lab_fail "n2-old does not say why it lost the session: $(cat "$LAB_DIR/node2.log")"
[ "$(lab_json 2 broker.losses)" -ge 1 ] || lab_fail "n2-old counts no lost session"
lab_ok "newest session wins: the plugin's tick disconnected n2-old (reason 0x98 in its log)"
lab_agent_stop 2
lab_agent_stop 4

# --- 2. one bundle on two hosts -----------------------------------------------------------------
lab_agent_start 1
lab_agent_start 3 --bundle "$B1"
lab_wait_agent 1
lab_wait_agent 3
sleep 30
c1=$(connects 1)
c3=$(connects 3)
echo "figure: connects in 30 s with one identity on two hosts: $c1 and $c3 (before: 15-17 each)"
[ "$c1" -le 9 ] && [ "$c3" -le 9 ] || lab_fail "reconnecting too fast: $c1 and $c3 connects in 30 s"
[ "$((c1 + c3))" -ge 4 ] || lab_fail "the two clients did not fight ($c1, $c3): nothing tested"
n=$(cat "$LAB_DIR/node1.log" "$LAB_DIR/node3.log" |
	grep -c "another client uses node name node1 (this certificate)" || true)
[ "$n" -ge 1 ] || lab_fail "no log line names the cause: $(tail -5 "$LAB_DIR/node1.log")"
for i in 1 3; do
	m=$(grep -c "another client uses node name node1" "$LAB_DIR/node$i.log" || true)
	[ "$m" -le 1 ] || lab_fail "node$i logged the conflict $m times"
done
conflict=""
for i in 1 3; do
	v=$(lab_json "$i" broker.conflict)
	[ "$v" = null ] || conflict=$v
done
[ "$conflict" = "another client uses node name node1 (this certificate)" ] ||
	lab_fail "no status shows the conflict: $(lab_status 1 --json | head -c 600)"
lab_ok "one identity on two hosts: $c1 and $c3 connects in 30 s, cause logged once and in status"

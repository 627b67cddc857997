#!/usr/bin/env bash
# field_brokers.sh: several broker URLs (a cluster), in the namespace lab. The first URL of each
# list has nobody listening; the agents try the URLs in turn and connect through the second:
#  1. node1 with `-b DEAD -b GOOD` on the command line;
#  2. node2 with `broker = DEAD GOOD` in its config file;
#  3. after the broker is killed and restarted both come back (a lost session moves to the next
#     URL, so each passes the dead one again), and ping each other.
# The refused attempts are logged once each ("TCP: Connection refused"), not at every retry.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET (tests/field.cmake).
set -euo pipefail
. "$(dirname "$0")/lib/lab.sh"

lab_init 2
lab_broker_start
DEAD="mqtts://$LAB_BROKER_IP:9"
GOOD=$(lab_url)
printf 'broker = %s %s\n' "$DEAD" "$GOOD" >"$LAB_DIR/node2.conf"

# The lab's own -b comes first: the first -b replaces the file's list, the others are added.
ip netns exec "$(lab_ns 1)" "$MQTTIP" up --bundle "$LAB_DIR/pki/nodes/node1/node1.bundle" \
	-b "$DEAD" -b "$GOOD" -i mqttip0 --status-socket "$(lab_sock 1)" \
	--state-file "$LAB_DIR/node1.state" >>"$LAB_DIR/node1.log" 2>&1 &
LAB_AGENT_PIDS[1]=$!
ip netns exec "$(lab_ns 2)" "$MQTTIP" up -c "$LAB_DIR/node2.conf" \
	--bundle "$LAB_DIR/pki/nodes/node2/node2.bundle" -i mqttip0 \
	--status-socket "$(lab_sock 2)" --state-file "$LAB_DIR/node2.state" >>"$LAB_DIR/node2.log" 2>&1 &
LAB_AGENT_PIDS[2]=$!
lab_wait_agent 1
lab_wait_agent 2

# connected_via I URL SECONDS
connected_via() {
	for _ in $(seq 1 $(($3 * 10))); do
		[ "$(lab_json "$1" broker.connected)" = true ] && [ "$(lab_json "$1" broker.url)" = "$2" ] &&
			return 0
		sleep 0.1
	done
	lab_fail "node$1 is not connected through $2: $(lab_status "$1")"
}
for i in 1 2; do
	connected_via "$i" "$GOOD" 10
	[ "$(lab_json "$i" broker.failures)" -ge 1 ] || lab_fail "node$i did not try $DEAD first"
	[ "$(lab_json "$i" broker.urls.1)" = "$GOOD" ] || lab_fail "node$i: urls"
done
lab_ok "the second URL after the dead first one: from -b -b and from 'broker = A B'"

lab_broker_kill
sleep 2
lab_broker_start
for i in 1 2; do
	connected_via "$i" "$GOOD" 30
	n=$(grep -c "$DEAD: TCP: Connection refused" "$LAB_DIR/node$i.log" || true)
	[ "$n" -le 2 ] || lab_fail "node$i logged the dead URL's refusal $n times"
done
lab_wait_ping 1 2 20 >/dev/null || lab_fail "no ping after the broker restart"
lab_ok "after a broker restart both came back through the list ($(lab_json 1 broker.failures) and $(lab_json 2 broker.failures) failed attempts)"

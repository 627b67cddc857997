#!/usr/bin/env bash
# revocation_e2e.sh: the VPN revocation list protects the nodes on a broker that enforces nothing
# (plain mosquitto, TLS, no plugin, no CRL): three agents and a host-port device in the namespace
# lab; node 3 is revoked with `mqttip pki revoke`, and only node 1 is handed the new list (its
# refreshed bundle, then SIGHUP). Within one rekey interval every other node refuses node 3: its
# pings fail and a `revoked` counter rises. Then the broker serves the old, pre-revocation list
# retained (a hostile broker can), node 3 comes back with its old bundle and no state, and each
# other node restarts alone from its old, pre-revocation bundle: node 3 stays refused by each,
# because each kept the newest list it had verified (its state file; the device's --state file,
# NVS on a board), PROTOCOL.md 8.11. The old list is put back on the broker before each restart,
# since a node that holds the newest list publishes it there.
# Environment (tests/node.cmake): MQTTIP MQTTIP_PLUGIN JSONGET DEVICE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LAB_PLAIN_BROKER=1
. "$here/lib/lab.sh"
[ -x "${DEVICE:-}" ] || lab_fail "DEVICE must name mqttip-device"
[ -x "${JSONGET:-}" ] || lab_fail "JSONGET must name jsonget"
command -v mosquitto_pub >/dev/null || lab_fail "mosquitto_pub (mosquitto-clients) missing"

REKEY=(--rekey-after 10 --reject-after 15)
lab_init 3
TB_DIR=$LAB_DIR
TB_PIDS=()
. "$here/lib/firmware_device.sh"
tb_fail() { lab_fail "$@"; }
P=$LAB_DIR/pki
DEV_ADDR=10.77.0.9
"$MQTTIP" pki issue "$P" dev --addr "$DEV_ADDR" >/dev/null
lab_broker_start

dev_up() {
	rm -f "$LAB_DIR/dev.in"
	dev_start dev ip netns exec "$(lab_ns 3)" "$DEVICE" --bundle "$P/nodes/dev/dev.bundle" \
		--broker "mqtts://$LAB_BROKER_IP:$LAB_BROKER_PORT" --state "$LAB_DIR/dev.state"
	dev_wait dev log "broker connected" 20 || lab_fail "the device did not connect"
}

# ping_fails I ADDR: node I gets no answer from ADDR in 3 tries.
ping_fails() {
	! lab_exec "$1" ping -n -q -c 3 -i 0.5 -W 1 "$2" >/dev/null 2>&1
}

# agent_start_bundle I BUNDLE: node I's agent with another bundle than its own.
agent_start_bundle() {
	ip netns exec "$(lab_ns "$1")" "$MQTTIP" up --bundle "$2" \
		-b "mqtts://$LAB_BROKER_IP:$LAB_BROKER_PORT" -i mqttip0 --status-socket "$(lab_sock "$1")" \
		--state-file "$LAB_DIR/node$1.state" "${REKEY[@]}" >>"$LAB_DIR/node$1.log" 2>&1 &
	LAB_AGENT_PIDS[$1]=$!
}

for i in 1 2 3; do lab_agent_start "$i" "${REKEY[@]}"; done
dev_up
for i in 1 2 3; do lab_wait_agent "$i"; done
for i in 1 2; do
	lab_wait_ping 3 "$i" 20 >/dev/null || lab_fail "node 3 cannot reach node $i"
done
lab_exec 3 ping -n -q -c 2 -W 2 "$DEV_ADDR" >/dev/null || lab_fail "node 3 cannot reach the device"
lab_ok "node 3 talks to nodes 1, 2 and the device"

# --- revoke node 3; hand the new list to node 1 only ---
cp "$P/revocation.bin" "$LAB_DIR/revocation-old.bin"
for n in node1 node2 node3 dev; do cp "$P/nodes/$n/$n.bundle" "$LAB_DIR/$n-old.bundle"; done
"$MQTTIP" pki revoke "$P" node3 >/dev/null
kill -HUP "$(lab_agent_pid 1)"
start=$SECONDS
refused=0
while [ $((SECONDS - start)) -lt 10 ]; do
	if ping_fails 3 "$(lab_addr 2)" && ping_fails 3 "$(lab_addr 1)" && ping_fails 3 "$DEV_ADDR"; then
		refused=1
		break
	fi
done
[ "$refused" = 1 ] || lab_fail "node 3 still reaches a node 10 s (one rekey interval) after the revocation"
for i in 1 2; do
	[ "$(lab_drops "$i" revoked)" -ge 1 ] || lab_fail "node $i counts no 'revoked' drop"
done
dev_cmd dev status
dev_wait dev out "^total:" 5 || lab_fail "no status from the device"
grep -q "revoked [1-9]" "$LAB_DIR/dev.out" || lab_fail "the device counts no 'revoked' drop: $(grep drops "$LAB_DIR/dev.out")"
lab_exec 1 ping -n -q -c 2 -W 2 "$(lab_addr 2)" >/dev/null || lab_fail "nodes 1 and 2 lost each other"
lab_ok "only node 1 was told; within $((SECONDS - start)) s nodes 1, 2 and the device refuse node 3"

# --- each node restarts alone, from its old bundle, while the broker serves the old list ---
for i in 1 2 3; do lab_agent_stop "$i"; done
dev_stop dev || lab_fail "the device did not stop cleanly"
# serve_old_list: the pre-revocation list, retained (node 3's client certificate is still good for
# this broker: it publishes the old list itself)
serve_old_list() {
	ip netns exec "$(lab_bns)" mosquitto_pub -h "$LAB_BROKER_IP" -p "$LAB_BROKER_PORT" \
		--cafile "$P/broker/ca.crt" --cert "$P/nodes/node3/client.crt" \
		--key "$P/nodes/node3/client.key" -t mqttip/revocation -r -q 1 -f "$LAB_DIR/revocation-old.bin"
}
# fresh_node3: node 3 from its old bundle with no state, after serve_old_list, so it knows nothing
# of its revocation (a node it meets may tell it: it is restarted before each check, so that it
# never puts the newest list back on the broker)
fresh_node3() {
	[ -z "$(lab_agent_pid 3)" ] || ! lab_agent_alive 3 || lab_agent_stop 3
	rm -f "$LAB_DIR/node3.state"
	agent_start_bundle 3 "$LAB_DIR/node3-old.bundle"
	lab_wait_agent 3
}
serve_old_list
fresh_node3

dev_up_old() {
	rm -f "$LAB_DIR/dev.in"
	dev_start dev ip netns exec "$(lab_ns 3)" "$DEVICE" --bundle "$LAB_DIR/dev-old.bundle" \
		--broker "mqtts://$LAB_BROKER_IP:$LAB_BROKER_PORT" --state "$LAB_DIR/dev.state"
	dev_wait dev log "broker connected" 20 || lab_fail "the device did not connect"
}
dev_up_old
sleep 2
ping_fails 3 "$DEV_ADDR" || lab_fail "the device, restarted from its old bundle, accepts node 3 again"
dev_cmd dev status
dev_wait dev out "^total:" 5 || lab_fail "no status from the device"
grep -q "revoked [1-9]" "$LAB_DIR/dev.out" ||
	lab_fail "the device counts no 'revoked' drop after its restart: $(grep drops "$LAB_DIR/dev.out")"
lab_ok "the device, restarted from its old bundle with the old list on the broker, refuses node 3"
dev_stop dev || lab_fail "the device did not stop cleanly"

for i in 1 2; do
	serve_old_list
	fresh_node3
	agent_start_bundle "$i" "$LAB_DIR/node$i-old.bundle"
	lab_wait_agent "$i"
	sleep 2
	ping_fails 3 "$(lab_addr "$i")" ||
		lab_fail "node $i, restarted from its old bundle, accepts node 3 again"
	[ "$(lab_drops "$i" revocation)" -ge 1 ] || lab_fail "node $i did not refuse the old list on the broker"
	[ "$(lab_drops "$i" revoked)" -ge 1 ] || lab_fail "node $i counts no 'revoked' drop after its restart"
	lab_ok "node $i, restarted from its old bundle with the old list on the broker, refuses node 3"
	[ "$i" = 2 ] || lab_agent_stop "$i"
done
ip netns exec "$(lab_bns)" mosquitto_sub -h "$LAB_BROKER_IP" -p "$LAB_BROKER_PORT" \
	--cafile "$P/broker/ca.crt" --cert "$P/nodes/node1/client.crt" --key "$P/nodes/node1/client.key" \
	-t mqttip/revocation -C 1 -W 5 -N >"$LAB_DIR/retained.bin" || lab_fail "no retained list"
cmp -s "$LAB_DIR/retained.bin" "$P/revocation.bin" || lab_fail "the broker's retained list is not the newest"
lab_ok "node 2 put the newest list back on the broker"

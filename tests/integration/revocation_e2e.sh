#!/usr/bin/env bash
# revocation_e2e.sh: the VPN revocation list protects the nodes on a broker that enforces nothing
# (plain mosquitto, TLS, no plugin, no CRL): three agents and a host-port device in the namespace
# lab; node 3 is revoked with `mqttip pki revoke`, and only node 1 is handed the new list (its
# refreshed bundle, then SIGHUP). Within one rekey interval every other node refuses node 3: its
# pings fail and a `revoked` counter rises. Then the broker serves the old, pre-revocation list
# retained (a hostile broker can), and each node restarts, node 2 even from its old bundle: node 3
# stays refused, because every node kept the newest list it had verified (PROTOCOL.md 8.11).
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
cp "$P/nodes/node2/node2.bundle" "$LAB_DIR/node2-old.bundle"
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

# --- every node restarts while the broker serves the old list retained ---
# (every node that holds the newest list would put it back at once: all stop first)
for i in 1 2 3; do lab_agent_stop "$i"; done
dev_stop dev || lab_fail "the device did not stop cleanly"
# (node 3's client certificate is still good for this broker: it publishes the old list itself)
ip netns exec "$(lab_bns)" mosquitto_pub -h "$LAB_BROKER_IP" -p "$LAB_BROKER_PORT" \
	--cafile "$P/broker/ca.crt" --cert "$P/nodes/node3/client.crt" --key "$P/nodes/node3/client.key" \
	-t mqttip/revocation -r -q 1 -f "$LAB_DIR/revocation-old.bin"
agent_start_bundle 2 "$LAB_DIR/node2-old.bundle"
lab_wait_agent 2
sleep 1
lab_agent_start 3 "${REKEY[@]}"
lab_wait_agent 3
sleep 2
ping_fails 3 "$(lab_addr 2)" || lab_fail "node 2, restarted from its old bundle, accepts node 3 again"
[ "$(lab_drops 2 revocation)" -ge 1 ] || lab_fail "node 2 did not refuse the old list on the broker"
[ "$(lab_drops 2 revoked)" -ge 1 ] || lab_fail "node 2 counts no 'revoked' drop after its restart"
lab_ok "node 2, restarted from its old bundle with the old list on the broker, refuses node 3"
lab_agent_start 1 "${REKEY[@]}"
dev_up
lab_wait_agent 1
lab_wait_ping 1 2 20 >/dev/null || lab_fail "nodes 1 and 2 do not find each other after restarting"
ping_fails 3 "$(lab_addr 1)" || lab_fail "node 1 accepts node 3 again after its restart"
ping_fails 3 "$DEV_ADDR" || lab_fail "the device accepts node 3 again after its restart"
ip netns exec "$(lab_bns)" mosquitto_sub -h "$LAB_BROKER_IP" -p "$LAB_BROKER_PORT" \
	--cafile "$P/broker/ca.crt" --cert "$P/nodes/node1/client.crt" --key "$P/nodes/node1/client.key" \
	-t mqttip/revocation -C 1 -W 5 -N >"$LAB_DIR/retained.bin" || lab_fail "no retained list"
cmp -s "$LAB_DIR/retained.bin" "$P/revocation.bin" || lab_fail "the broker's retained list is not the newest"
lab_ok "nodes 1 and the device refuse node 3 after restarting; the nodes put the newest list back on the broker"
dev_stop dev || lab_fail "the device did not stop cleanly"

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

# dev_up BUNDLE: the host-port device in node 3's namespace, with its state file, connected.
dev_up() {
	rm -f "$LAB_DIR/dev.in"
	dev_start dev ip netns exec "$(lab_ns 3)" "$DEVICE" --bundle "$1" \
		--broker "mqtts://$LAB_BROKER_IP:$LAB_BROKER_PORT" --state "$LAB_DIR/dev.state"
	dev_wait dev log "broker connected" 20 || lab_fail "the device did not connect"
}

# ping_fails I ADDR: node I gets no answer from ADDR in 3 tries. Each answer gets 2 s: on a
# loaded machine (sanitizers, parallel tests) a genuine answer can take more than 1 s, and a
# shorter wait would then pass for a refusal.
ping_fails() {
	! lab_exec "$1" ping -n -q -c 3 -i 0.5 -W 2 "$2" >/dev/null 2>&1
}

# wait_ping_addr I ADDR SECONDS: until one ping from node I to ADDR gets through (lab_wait_ping
# takes node numbers; the device is not one).
wait_ping_addr() {
	local end=$((SECONDS + $3))
	until lab_exec "$1" ping -n -q -c 1 -W 1 "$2" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# now_ms: wall clock in milliseconds (EPOCHREALTIME is seconds with 6 decimals).
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# dev_revoked: true when the device's status counts a 'revoked' drop.
dev_revoked() {
	dev_cmd dev status
	dev_wait dev out "^total:" 10 || lab_fail "no status from the device"
	grep -q "revoked [1-9]" "$LAB_DIR/dev.out"
}

# node_revoked I: true when node I counts a 'revoked' drop.
node_revoked() {
	[ "$(lab_drops "$1" revoked)" -ge 1 ]
}

# refused_after_restart WHAT REVOKED_CMD...: node 3 (fresh, old bundle) tries to reach WHAT
# (an address) until REVOKED_CMD says WHAT counted its refusal; any answer on the way fails.
# Node 3 needs its connection, the directory entry of WHAT and a handshake before WHAT sees it,
# which on a loaded machine takes seconds: the deadline (30 s) is only for that; a single
# answer from WHAT is the failure this checks, and it is caught whenever it comes.
refused_after_restart() {
	local addr=$1 end=$((SECONDS + 30))
	shift
	until "$@"; do
		! lab_exec 3 ping -n -q -c 1 -W 2 "$addr" >/dev/null 2>&1 ||
			lab_fail "$addr, restarted from its old bundle, answers node 3 again"
		[ "$SECONDS" -lt "$end" ] || return 1
	done
	ping_fails 3 "$addr" || lab_fail "$addr, restarted from its old bundle, answers node 3 again"
}

# agent_start_bundle I BUNDLE: node I's agent with another bundle than its own.
agent_start_bundle() {
	ip netns exec "$(lab_ns "$1")" "$MQTTIP" up --bundle "$2" \
		-b "mqtts://$LAB_BROKER_IP:$LAB_BROKER_PORT" -i mqttip0 --status-socket "$(lab_sock "$1")" \
		--state-file "$LAB_DIR/node$1.state" "${REKEY[@]}" >>"$LAB_DIR/node$1.log" 2>&1 &
	LAB_AGENT_PIDS[$1]=$!
}

for i in 1 2 3; do lab_agent_start "$i" "${REKEY[@]}"; done
dev_up "$P/nodes/dev/dev.bundle"
for i in 1 2 3; do lab_wait_agent "$i" 30; done
for i in 1 2; do
	lab_wait_ping 3 "$i" 20 >/dev/null || lab_fail "node 3 cannot reach node $i"
done
# the first packets wait for the directory entry and a handshake with a (slow, under sanitizers)
# device: retry, like lab_wait_ping
wait_ping_addr 3 "$DEV_ADDR" 20 || lab_fail "node 3 cannot reach the device"
lab_ok "node 3 talks to nodes 1, 2 and the device"

# --- revoke node 3; hand the new list to node 1 only ---
cp "$P/revocation.bin" "$LAB_DIR/revocation-old.bin"
for n in node1 node2 node3 dev; do cp "$P/nodes/$n/$n.bundle" "$LAB_DIR/$n-old.bundle"; done
"$MQTTIP" pki revoke "$P" node3 >/dev/null
# The claim: within one rekey interval (--rekey-after 10 s) of the SIGHUP, every node refuses
# node 3. The mechanism (8.11: node 1 publishes the list retained after a delay of up to
# MQTTIP_REVOCATION_PUBLISH_DELAY_MS, 2 s; the others take it from the topic and tear node 3
# down at once) took 1.6-2.0 s in every run under sanitizers on a loaded machine, so the bound
# is the interval itself, with no margin.
# It is checked on what each node reports (its 'revoked' drop, counted when it tears node 3
# down), polled every 0.2 s, and then by pings: timing the pings themselves, as this test once
# did, spent 2 s on each refused ping and 6 s of the 10 on the measurement.
start=$(now_ms)
kill -HUP "$(lab_agent_pid 1)"
while :; do
	left=""
	for i in 1 2; do
		[ "$(lab_drops "$i" revoked)" -ge 1 ] || left+=" node$i"
	done
	dev_revoked || left+=" device"
	[ -n "$left" ] || break
	[ $(($(now_ms) - start)) -le 10000 ] ||
		lab_fail "10 s (one rekey interval) after the SIGHUP, no 'revoked' drop on:$left"
	sleep 0.2
done
took=$(($(now_ms) - start))
[ "$took" -le 10000 ] ||
	lab_fail "10 s (one rekey interval) after the SIGHUP, not all refuse node 3 yet ($took ms)"
# They count the refusal; node 3 must now get no answer from any of them.
ping_fails 3 "$(lab_addr 2)" || lab_fail "node 2 counts node 3 revoked but still answers it"
ping_fails 3 "$(lab_addr 1)" || lab_fail "node 1 counts node 3 revoked but still answers it"
ping_fails 3 "$DEV_ADDR" || lab_fail "the device counts node 3 revoked but still answers it"
lab_exec 1 ping -n -q -c 2 -W 2 "$(lab_addr 2)" >/dev/null || lab_fail "nodes 1 and 2 lost each other"
lab_ok "only node 1 was told; $took ms after its SIGHUP, nodes 1, 2 and the device refuse node 3"

# --- each node restarts alone, from its old bundle, while the broker serves the old list ---
for i in 1 2 3; do lab_agent_stop "$i"; done
dev_stop dev || lab_fail "the device did not stop cleanly"
# serve_old_list: the pre-revocation list, retained (node 3's client certificate is still good for
# this broker: it publishes the old list itself). Node 3 goes first: after a check it holds the
# newest list (the node it met told it), and seeing the old one on the topic it would put the
# newest back at once; that raced with its restart, and the next node then found no old list
# to refuse (failed so under load: "node 1 did not refuse the old list on the broker").
serve_old_list() {
	[ -z "$(lab_agent_pid 3)" ] || lab_agent_stop 3
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
	lab_wait_agent 3 30
}
# retained_list FILE: the list the broker serves retained, into FILE.
retained_list() {
	ip netns exec "$(lab_bns)" mosquitto_sub -h "$LAB_BROKER_IP" -p "$LAB_BROKER_PORT" \
		--cafile "$P/broker/ca.crt" --cert "$P/nodes/node1/client.crt" \
		--key "$P/nodes/node1/client.key" -t mqttip/revocation -C 1 -W 5 -N >"$1" ||
		lab_fail "no retained list"
}
# old_list_served: what the next node to start must find on the broker, checked so that a node
# that put the newest list back cannot make a check pass or fail for the wrong reason
old_list_served() {
	retained_list "$LAB_DIR/retained.bin"
	cmp -s "$LAB_DIR/retained.bin" "$LAB_DIR/revocation-old.bin" ||
		lab_fail "the broker does not serve the old list before the restart (a node put another back)"
}
serve_old_list
fresh_node3
old_list_served

dev_up "$LAB_DIR/dev-old.bundle"
# the device reads the old list on the topic and keeps its own (its --state file)
dev_wait dev log "revocation list from the directory refused" 20 ||
	lab_fail "the device, restarted from its old bundle, did not refuse the old list on the broker"
refused_after_restart "$DEV_ADDR" dev_revoked ||
	lab_fail "the device counts no 'revoked' drop after its restart: $(grep drops "$LAB_DIR/dev.out")"
lab_ok "the device, restarted from its old bundle with the old list on the broker, refuses node 3"
dev_stop dev || lab_fail "the device did not stop cleanly"

for i in 1 2; do
	serve_old_list
	fresh_node3
	old_list_served
	agent_start_bundle "$i" "$LAB_DIR/node$i-old.bundle"
	lab_wait_agent "$i" 30
	# node i gets the old list from the topic once connected and subscribed, and refuses it
	t0=$SECONDS
	until [ "$(lab_drops "$i" revocation)" -ge 1 ]; do
		[ $((SECONDS - t0)) -lt 20 ] || lab_fail "node $i did not refuse the old list on the broker"
		sleep 0.2
	done
	refused_after_restart "$(lab_addr "$i")" node_revoked "$i" ||
		lab_fail "node $i counts no 'revoked' drop after its restart"
	lab_ok "node $i, restarted from its old bundle with the old list on the broker, refuses node 3"
	[ "$i" = 2 ] || lab_agent_stop "$i"
done
# node 2 publishes right after it refused the old list, which the loop above waited for; on a
# loaded machine that publish can still be in flight: read the topic until it is the newest
t0=$SECONDS
until cmp -s "$LAB_DIR/retained.bin" "$P/revocation.bin"; do
	[ $((SECONDS - t0)) -lt 20 ] || lab_fail "the broker's retained list is not the newest"
	retained_list "$LAB_DIR/retained.bin"
	cmp -s "$LAB_DIR/retained.bin" "$P/revocation.bin" || sleep 0.2
done
lab_ok "node 2 put the newest list back on the broker"

#!/usr/bin/env bash
# cluster_bridge.sh MQTTIP PLUGIN: two mosquitto brokers, each with the plugin, joined by a bridge
# (docs/SCALING.md "Bridged mosquitto brokers", conf/mosquitto-bridge.conf). Broker A
# (192.0.2.1) serves agents 1 and 2, broker B (192.0.2.2) agent 3; A runs the bridge to B with the
# client certificate "bridge-a", which B's policy lets speak for A's nodes only
# ("bridge bridge-a PREFIX"). The bridge carries each broker's nodes' inboxes to the other side
# and the directory both ways, nothing else. Checks:
#   - agents on different brokers ping each other (IPv4 and IPv6), agents on A too;
#   - traffic between agents on A does not cross the bridge (B's metrics for bridge-a stand
#     still), traffic to agent 3 does;
#   - ACL violations are refused on either side: node1 forging node3's source on A, node3
#     forging node1's on B, and the bridge identity stepping outside its prefixes on B.
set -euo pipefail
MQTTIP=$1
MQTTIP_PLUGIN=$2
export MQTTIP MQTTIP_PLUGIN
. "$(dirname "$0")/lib/lab.sh"

B_IP=192.0.2.2
lab_init 3 --server-ip "$B_IP"
P="$LAB_DIR/pki"

# The bridge's client certificate: CN bridge-a, no address of its own, from the broker CA.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bridge-a \
	-keyout "$LAB_DIR/bridge-a.key" -out "$LAB_DIR/bridge-a.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$LAB_DIR/bridge.ext"
openssl x509 -req -in "$LAB_DIR/bridge-a.csr" -CA "$P/broker/ca.crt" -CAkey "$P/broker-ca.key" \
	-CAcreateserial -days 2 -extfile "$LAB_DIR/bridge.ext" -out "$LAB_DIR/bridge-a.crt" 2>/dev/null
chmod a+r "$LAB_DIR/bridge-a.key"

# Broker B: the lab's broker configuration on its own address, with a policy that bridges A's
# nodes (1 and 2) to bridge-a.
ns_b="mqbb$LAB_ID"
ip netns add "$ns_b" && LAB_NETS+=("$ns_b")
ip -n "$ns_b" link set lo up
ip link add "vbb$LAB_ID" netns "$(lab_bns)" type veth peer name eth0 netns "$ns_b"
ip -n "$(lab_bns)" link set "vbb$LAB_ID" master br0 up
ip -n "$ns_b" addr add "$B_IP/24" dev eth0
ip -n "$ns_b" link set eth0 up
{
	cat "$P/broker/policy"
	for i in 1 2; do
		echo "bridge bridge-a $(lab_addr "$i")/32"
		echo "bridge bridge-a $(lab_addr6 "$i")/128"
	done
} >"$LAB_DIR/policy-b"
lab_broker_conf "$LAB_DIR/b.conf" "prometheus_file=$LAB_DIR/b.prom" metrics_interval=1
sed -i "s#^listener .*#listener $LAB_BROKER_PORT $B_IP#; s#^plugin_opt_policy_file .*#plugin_opt_policy_file $LAB_DIR/policy-b#" \
	"$LAB_DIR/b.conf"
# The metrics tick (and with it the Prometheus file) needs global plugin settings (DESIGN.md).
sed -i '/^plugin_opt_metrics_interval 2$/d; s/^per_listener_settings true$/per_listener_settings false/' \
	"$LAB_DIR/b.conf"
# broker NS CONF LOG: mosquitto in NS, with the ASan runtime first in a sanitizer build.
broker() {
	if [ -n "${MQTTIP_BROKER_PRELOAD:-}" ]; then
		LD_PRELOAD="$MQTTIP_BROKER_PRELOAD" \
			ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1" \
			ip netns exec "$1" mosquitto -c "$2" >>"$3" 2>&1 &
	else
		ip netns exec "$1" mosquitto -c "$2" >>"$3" 2>&1 &
	fi
}
broker "$ns_b" "$LAB_DIR/b.conf" "$LAB_DIR/broker-b.log"
LAB_PIDS+=($!)

# Broker A: the lab's broker plus the bridge (conf/mosquitto-bridge.conf, this lab's nodes).
lab_broker_conf "$LAB_DIR/mosquitto.conf"
{
	echo "connection to-b"
	echo "address $B_IP:$LAB_BROKER_PORT"
	echo "bridge_cafile $P/broker/ca.crt"
	echo "bridge_certfile $LAB_DIR/bridge-a.crt"
	echo "bridge_keyfile $LAB_DIR/bridge-a.key"
	echo "remote_clientid bridge-a"
	echo "cleansession true"
	echo "notifications false"
	echo "restart_timeout 1 5"
	for a in "$(lab_taddr 3)" "$(lab_addr6 3)"; do # B's node: its inboxes go out to B
		echo "topic mqttip/$a/+ out 0"
		echo "topic mqttip/kx/$a/+ out 1"
	done
	for i in 1 2; do # A's nodes: their inboxes on B come in
		for a in "$(lab_taddr "$i")" "$(lab_addr6 "$i")"; do
			echo "topic mqttip/$a/+ in 0"
			echo "topic mqttip/kx/$a/+ in 1"
		done
	done
	echo "topic mqttip/cert/+ both 1"
} >>"$LAB_DIR/mosquitto.conf"
broker "$(lab_bns)" "$LAB_DIR/mosquitto.conf" "$LAB_DIR/broker.log"
LAB_BROKER_PID=$!
for _ in $(seq 1 100); do
	grep -q "as bridge-a" "$LAB_DIR/broker-b.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "as bridge-a" "$LAB_DIR/broker-b.log" ||
	lab_fail "the bridge did not connect to B: $(tail -3 "$LAB_DIR/broker.log" "$LAB_DIR/broker-b.log")"
lab_ok "broker A bridged to broker B as bridge-a"

for i in 1 2; do
	lab_agent_start "$i"
	lab_wait_agent "$i"
done
LAB_BROKER_IP=$B_IP lab_agent_start 3
lab_wait_agent 3

for pair in "1 3" "3 2" "1 2"; do
	set -- $pair
	t=$(lab_wait_ping "$1" "$2" 20) || lab_fail "no ping $1 -> $2: $(tail -3 "$LAB_DIR/node$1.log")"
	lab_ping "$2" "$1" 3 2 || lab_fail "no ping $2 -> $1"
	lab_exec "$1" ping -n -q -c 2 -W 2 "$(lab_addr6 "$2")" >/dev/null ||
		lab_fail "no IPv6 ping $1 -> $2"
	lab_ok "ping $1 <-> $2, IPv4 and IPv6 (first answer ${t} s)"
done

# What crosses the bridge: B counts bridge-a's publishes (Prometheus file, rewritten every
# second). bridged: the count once settled (two rewrites); bridged_min N: waits (at most 10 s)
# until it is at least N and prints it.
bridged() {
	awk '/^mqttip_published_messages_total\{node="bridge-a"\}/ { print $2 }' "$LAB_DIR/b.prom"
}
bridged_settled() {
	sleep 2.5
	bridged
}
bridged_min() {
	local v end=$((SECONDS + 10))
	while v=$(bridged) && [ "${v:-0}" -lt "$1" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
	echo "$v"
}
n0=$(bridged_settled)
lab_exec 1 ping -n -q -c 20 -i 0.05 -W 2 "$(lab_addr 2)" >/dev/null || lab_fail "ping 1 -> 2 lost"
n1=$(bridged_settled)
# 20 pings are 40 messages between 1 and 2; keepalives of the 1/2 <-> 3 sessions may cross.
[ -n "$n0" ] && [ -n "$n1" ] || lab_fail "no bridge-a counter in B's metrics"
[ $((n1 - n0)) -lt 5 ] ||
	lab_fail "20 pings between agents on A crossed the bridge: bridge-a published $n0 -> $n1 on B"
# 20 requests 1 -> 3 cross as 20 messages, or fewer when node 1 reads two of them in one wake-up
# and batches them (PROTOCOL.md 8.5): paced at 0.2 s, and 15 are asked for.
lab_exec 1 ping -n -q -c 20 -i 0.2 -W 2 "$(lab_addr 3)" >/dev/null || lab_fail "ping 1 -> 3 lost"
n2=$(bridged_min $((n1 + 15)))
[ "$n2" -ge $((n1 + 15)) ] || lab_fail "20 pings 1 -> 3 gave only $((n2 - n1)) bridged messages"
lab_ok "traffic inside A stays on A (bridge-a: $n0 -> $n1 on B); 20 pings 1 -> 3 crossed ($((n2 - n1)) messages)"

# ACL violations, refused on either side (MQTT v5 PUBACK reason 135, not authorized).
refused_pub() { # NS HOST CERT_DIR_OR_PREFIX CLIENT_ID TOPIC [-r]
	local ns=$1 host=$2 cred=$3 id=$4 topic=$5 out
	shift 5
	out=$(ip netns exec "$ns" mosquitto_pub -h "$host" -p "$LAB_BROKER_PORT" -V mqttv5 -q 1 \
		--cafile "$P/broker/ca.crt" --cert "$cred.crt" --key "$cred.key" -i "$id" \
		-t "$topic" -m forged "$@" 2>&1 || true)
	grep -q "Not authorized" <<<"$out" || lab_fail "$id may publish $topic on $host: $out"
}
nd() { echo "$P/nodes/node$1/client"; }
refused_pub "$(lab_bns)" "$LAB_BROKER_IP" "$(nd 1)" node1 "mqttip/$(lab_taddr 2)/$(lab_taddr 3)"
refused_pub "$ns_b" "$B_IP" "$(nd 3)" node3 "mqttip/$(lab_taddr 3)/$(lab_taddr 1)"
refused_pub "$ns_b" "$B_IP" "$(nd 3)" node3 "mqttip/cert/$(lab_taddr 1)" -r
lab_ok "A refuses node1 forging node3's source; B refuses node3 forging node1's (data, directory)"
# The bridge identity on B: A's nodes only. (This session replaces the bridge's own for a
# moment; mosquitto reconnects it.)
refused_pub "$ns_b" "$B_IP" "$LAB_DIR/bridge-a" bridge-a "mqttip/$(lab_taddr 1)/$(lab_taddr 3)"
refused_pub "$ns_b" "$B_IP" "$LAB_DIR/bridge-a" bridge-a "mqttip/cert/$(lab_taddr 3)" -r
out=$(ip netns exec "$ns_b" mosquitto_sub -h "$B_IP" -p "$LAB_BROKER_PORT" -V mqttv5 \
	--cafile "$P/broker/ca.crt" --cert "$LAB_DIR/bridge-a.crt" --key "$LAB_DIR/bridge-a.key" \
	-i bridge-a -t "mqttip/$(lab_taddr 3)/+" -W 2 2>&1 || true)
grep -qi "not authorized\|denied\|0x87\|135" <<<"$out" || lab_fail "bridge-a may read node3's inbox on B: $out"
lab_ok "B refuses bridge-a outside A's nodes (node3's source, directory entry, inbox)"

lab_wait_ping 1 3 20 >/dev/null || lab_fail "no ping 1 -> 3 after the bridge's session came back"
lab_ok "the bridge is back: ping 1 -> 3"

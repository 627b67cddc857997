#!/usr/bin/env bash
# cluster_rabbitmq.sh MQTTIP PLUGIN: mqttip on a three-node RabbitMQ cluster instead of mosquitto
# (docs/SCALING.md "RabbitMQ cluster"). Debian's rabbitmq-server with its MQTT plugin, started by
# the test in three network namespaces and clustered, TLS with x509 login by certificate CN; the
# users and permissions come from `mqttip pki rabbitmq`. One agent on each RabbitMQ node:
#   1. RabbitMQ's permissions refuse a node publishing with another's source or subscribing to
#      another's inbox (the plugin's rules, enforced without the plugin);
#   2. pings (IPv4, IPv6) and an iperf3 between agents on different RabbitMQ nodes;
#   3. RabbitMQ node 3 killed: agents 1 and 2 keep talking; agent 3, whose config lists the three
#      brokers (with subscribe-qos = 0, docs/SCALING.md), reconnects to a surviving node and
#      reaches the others again.
# Agent 3 speaks first to agent 1, whose certificate it cannot have from RabbitMQ's retained
# store (it answers only a subscription to the exact topic, so `<p>/cert/+` brings no stored
# entry): the certificate request of PROTOCOL.md 8.2 must find it. The cluster starts once (its
# cost is printed).
set -euo pipefail
MQTTIP=$1
MQTTIP_PLUGIN=$2
export MQTTIP MQTTIP_PLUGIN
here=$(dirname "$0")
. "$here/lib/lab.sh"
. "$here/lib/rabbitmq.sh"

rmq_require
command -v iperf3 >/dev/null || { echo "SKIP: iperf3 not installed" >&2; exit 77; }
t0=$SECONDS

lab_init 3 --server-ip "$(rmq_ip 1)" --server-ip "$(rmq_ip 2)" --server-ip "$(rmq_ip 3)"
rmq_cluster_start 3
lab_ok "RabbitMQ: 3-node cluster (TLS, x509 login) up in $RMQ_START_S s"

"$MQTTIP" pki rabbitmq "$LAB_DIR/pki" --out "$LAB_DIR/rabbitmq-users.sh" 2>/dev/null
s=$SECONDS
# The script is idempotent: a node still settling into the cluster gets it once more.
for try in 1 2 3; do
	RABBITMQCTL=$(rmq_ctl_cmd 1) sh "$LAB_DIR/rabbitmq-users.sh" >"$LAB_DIR/users.log" 2>&1 && break
	[ "$try" -lt 3 ] || lab_fail "the exported rabbitmqctl script failed: $(tail -5 "$LAB_DIR/users.log")"
	echo "note: the users script failed (try $try), again in 2 s: $(head -n1 "$LAB_DIR/users.log")"
	sleep 2
done
users=$(rmq_ctl 2 -s list_users | cut -f1 | sort | tr '\n' ' ')
[ "$users" = "node1 node2 node3 " ] || lab_fail "users on node 2: '$users', want node1..node3"
lab_ok "users and permissions from 'mqttip pki rabbitmq' ($((SECONDS - s)) s), seen cluster-wide"

# --- 1. RabbitMQ refuses what the plugin refuses -------------------------------------------
# tls1 [K]: mosquitto client options with node1's certificate against RabbitMQ node K (2).
tls1() {
	local d="$LAB_DIR/pki/nodes/node1"
	echo "-h $(rmq_ip "${1:-2}") -p 8883 --cafile $d/ca.crt --cert $d/client.crt" \
		"--key $d/client.key"
}
ns2=$(rmq_ns 2)
# A booted cluster still elects its MQTT client-id tracker (a Raft group over the nodes): until
# then RabbitMQ refuses MQTT connections ("client ID registration timed out"). An allowed publish
# on every node tells when MQTT is up.
s=$SECONDS
for k in 1 2 3; do
	# shellcheck disable=SC2046
	until ip netns exec "$(rmq_ns "$k")" mosquitto_pub $(tls1 "$k") -i node1 -q 1 \
		-t "mqttip/$(lab_taddr 2)/$(lab_taddr 1)" -m allowed 2>/dev/null; do
		[ $((SECONDS - s)) -lt 90 ] || lab_fail "node1 cannot publish its own message on node $k"
		sleep 1
	done
done
lab_ok "MQTT accepted on all three nodes $((SECONDS - s)) s after the users were made"
refused() { # KEY: RabbitMQ node 2 logs (within 5 s) that node1's access to KEY was refused
	local end=$((SECONDS + 5))
	until grep -qF "access to topic '$1' in exchange 'amq.topic' in vhost '/' refused for user 'node1'" \
		"$(rmq_log 2)"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
# shellcheck disable=SC2046
ip netns exec "$ns2" mosquitto_pub $(tls1) -i node1 -q 1 -t "mqttip/$(lab_taddr 3)/$(lab_taddr 2)" \
	-m forged 2>/dev/null && lab_fail "node1 published with node2's source"
refused "mqttip.$(lab_taddr 3).$(lab_taddr 2)" || lab_fail "forged source: no refusal in the log"
# shellcheck disable=SC2046
ip netns exec "$ns2" mosquitto_pub $(tls1) -i node1 -q 1 -r -t "mqttip/cert/$(lab_taddr 2)" \
	-m forged 2>/dev/null && lab_fail "node1 wrote node2's directory entry"
# shellcheck disable=SC2046
timeout 5 ip netns exec "$ns2" mosquitto_sub $(tls1) -i node1 -t "mqttip/$(lab_taddr 2)/+" -d \
	-W 2 >"$LAB_DIR/sub.out" 2>&1 || true
! grep -q "received SUBACK" "$LAB_DIR/sub.out" || lab_fail "node1 subscribed to node2's inbox"
refused "mqttip.$(lab_taddr 2).*" || lab_fail "other inbox: no refusal in the log"
# shellcheck disable=SC2046
timeout 5 ip netns exec "$ns2" mosquitto_sub $(tls1) -i node1 -t "mqttip/kx/+/+" -d -W 2 \
	>"$LAB_DIR/sub.out" 2>&1 || true
! grep -q "received SUBACK" "$LAB_DIR/sub.out" || lab_fail "node1 subscribed to every kx inbox"
lab_ok "RabbitMQ refuses node1: another's source, another's directory entry, another's inbox"

# --- agents, one per RabbitMQ node ----------------------------------------------------------
# agent_start I URL...: agent I with a config file listing the broker URLs.
agent_start() {
	local i=$1 conf
	conf="$LAB_DIR/node$i.conf"
	shift
	{
		echo "broker = $*"
		echo "bundle = $LAB_DIR/pki/nodes/node$i/node$i.bundle"
		echo "interface = mqttip0"
		echo "status-socket = $(lab_sock "$i")"
		echo "state-file = $LAB_DIR/node$i.state"
		echo "mqtt-keepalive = 5"
		echo "subscribe-qos = 0" # docs/SCALING.md: failover on RabbitMQ 3.x
	} >"$conf"
	ip netns exec "$(lab_ns "$i")" "$MQTTIP" up -c "$conf" >>"$LAB_DIR/node$i.log" 2>&1 &
	LAB_AGENT_PIDS[$i]=$!
}
connected() { lab_status "$1" --json 2>/dev/null | grep -q '"connected":true'; }
broker_of() { lab_status "$1" --json | grep -o '"host":"[^"]*"' | cut -d'"' -f4; }
wait_connected() { # I SECONDS
	local end=$((SECONDS + $2))
	until connected "$1"; do
		[ $SECONDS -lt $end ] || return 1
		lab_agent_alive "$1" || return 1
		sleep 0.2
	done
}

# Each agent lists all three RabbitMQ nodes, its own first (broker = URL URL URL).
for i in 1 2 3; do
	# shellcheck disable=SC2046
	agent_start "$i" "$(rmq_url "$i")" $(for k in 1 2 3; do [ "$k" = "$i" ] || rmq_url "$k"; done)
	wait_connected "$i" 20 || lab_fail "agent $i did not connect: $(tail -3 "$LAB_DIR/node$i.log")"
done
for i in 1 2 3; do
	[ "$(broker_of "$i")" = "$(rmq_ip "$i")" ] || lab_fail "agent $i is not on RabbitMQ node $i"
done
lab_ok "agents 1, 2, 3 connected to RabbitMQ nodes 1, 2, 3"

# --- 2. traffic across RabbitMQ nodes -------------------------------------------------------
# The directory: agent 3 started last. Its certificate reached 1 and 2 live; 1's and 2's
# entries, published before 3 subscribed, are stored on RabbitMQ nodes 1 and 2 only, and only an
# exact-topic subscription would fetch them. Agent 3 speaking first shows whether it can learn a
# peer's certificate on this broker.
t=$(lab_wait_ping 3 1 8) ||
	lab_fail "agent 3 could not reach agent 1 first: no certificate without retained wildcards (status: $(lab_status 3 --json | grep -o '"peers":\[[^]]*' | head -c 200))"
lab_ok "agent 3 -> agent 1 first (directory without retained wildcards): ${t} s"
# Agents that started earlier learnt the later ones' certificates live; a handshake carries the
# initiator's certificate, so after 1 -> 3 and 2 -> 3 every pair talks both ways.
for pair in "1 2" "1 3" "2 3"; do
	set -- $pair
	t=$(lab_wait_ping "$1" "$2" 20) || lab_fail "no ping $1 -> $2 across RabbitMQ nodes"
	lab_ping "$2" "$1" 3 2 || lab_fail "no ping $2 -> $1"
	lab_exec "$1" ping -n -q -c 2 -W 2 "$(lab_addr6 "$2")" >/dev/null ||
		lab_fail "no IPv6 ping $1 -> $2"
	lab_ok "ping $1 <-> $2 (RabbitMQ nodes $1 and $2), IPv4 and IPv6, first answer ${t} s"
done
lab_exec 3 iperf3 -s -1 -B "$(lab_addr 3)" >/dev/null 2>&1 &
LAB_PIDS+=($!)
lab_wait_listen 3 5201
lab_exec 1 iperf3 -c "$(lab_addr 3)" -t 3 -J >"$LAB_DIR/iperf.json" ||
	lab_fail "iperf3 1 -> 3 failed: $(tail -3 "$LAB_DIR/iperf.json")"
mbps=$(grep -A8 '"sum_received"' "$LAB_DIR/iperf.json" | grep '"bits_per_second"' | head -n1 |
	tr -d ' \t,' | awk -F: '{ printf "%.0f", $2 / 1e6 }')
[ "${mbps:-0}" -gt 0 ] || lab_fail "iperf3 1 -> 3 carried nothing"
lab_ok "iperf3 agent 1 -> agent 3 (RabbitMQ node 1 -> node 3): $mbps Mbit/s over 3 s"

# --- 3. a RabbitMQ node dies ----------------------------------------------------------------
rmq_kill 3
s=$SECONDS
lab_ping 1 2 3 2 || lab_fail "agents 1 and 2 stopped talking when RabbitMQ node 3 died"
lab_ping 2 1 3 2 || lab_fail "no ping 2 -> 1 after RabbitMQ node 3 died"
lab_ok "RabbitMQ node 3 killed: agents 1 and 2 still talk"
until connected 3 && [ "$(broker_of 3)" != "$(rmq_ip 3)" ]; do
	[ $((SECONDS - s)) -lt 60 ] || lab_fail "agent 3 did not move to another node in 60 s"
	sleep 0.2
done
moved=$((SECONDS - s))
t=$(lab_wait_ping 3 1 30) || lab_fail "agent 3 reconnected but cannot reach agent 1"
lab_wait_ping 3 2 30 >/dev/null || lab_fail "agent 3 reconnected but cannot reach agent 2"
lab_ok "agent 3 moved to $(broker_of 3) in ${moved} s and reaches 1 and 2 (first ping ${t} s)"

# RabbitMQ's own metrics: the Prometheus plugin (docs/SCALING.md) on a surviving node.
ip netns exec "$(rmq_ns 1)" bash -c "exec 3<>/dev/tcp/$(rmq_ip 1)/15692 &&
	printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3" >"$LAB_DIR/metrics.txt" 2>/dev/null ||
	true
grep -q '^rabbitmq_' "$LAB_DIR/metrics.txt" || lab_fail "no Prometheus metrics on node 1:15692"
lab_ok "Prometheus metrics on $(rmq_ip 1):15692 ($(grep -c '^rabbitmq_' "$LAB_DIR/metrics.txt") series)"

echo "cluster test: $((SECONDS - t0)) s in all, of which the RabbitMQ cluster start $RMQ_START_S s"


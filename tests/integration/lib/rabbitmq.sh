# rabbitmq.sh - a RabbitMQ cluster (Debian's rabbitmq-server and its MQTT plugin) inside a lab of
# lib/lab.sh: node k runs in its own namespace mqr<id>-k at 192.0.2.(100+k) on the lab's bridge,
# with MQTT over TLS on 8883 (x509 login by certificate CN, docs/SCALING.md), the Prometheus
# plugin on 15692, and Erlang distribution (epmd 4369, 25672) between the namespaces. The nodes
# find each other from a static list (classic_config) as they boot, one after the other, which
# saves the stop_app/reset/join_cluster/start_app of a manual join. Source after lab.sh; call after lab_init
# (whose PKI must hold the nodes' addresses: --server-ip 192.0.2.10k). Functions:
#   rmq_require                skips the test (exit 77) when rabbitmq-server is not installed
#   rmq_cluster_start N        starts nodes 1..N, waits until each runs and sees all N running;
#                              the seconds it took are in RMQ_START_S
#   rmq_ip K / rmq_url K       address / mqtts:// URL of node K
#   rmq_ctl K ARGS...          rabbitmqctl against node K;  rmq_ctl_cmd K: the same as a command
#                              line (for RABBITMQCTL in `mqttip pki rabbitmq` scripts)
#   rmq_kill K                 SIGKILL node K's Erlang VM (a crash, not a shutdown)
#   rmq_log K                  node K's log file
# Cleanup: the namespaces join LAB_NETS, so lab_cleanup kills beam and epmd with them.
# shellcheck shell=bash

RMQ_HOME=/usr/lib/rabbitmq
RMQ_N=0
RMQ_START_S=""

rmq_require() {
	[ -x "$RMQ_HOME/bin/rabbitmq-server" ] || {
		echo "SKIP: rabbitmq-server is not installed (scripts/install-deps.sh installs it)" >&2
		exit 77
	}
}

rmq_ns() { echo "mqr$LAB_ID-$1"; }
rmq_ip() { echo "192.0.2.$((100 + $1))"; }
rmq_url() { echo "mqtts://$(rmq_ip "$1"):8883"; }
rmq_dir() { echo "$LAB_DIR/rabbit$1"; }
rmq_log() { echo "$(rmq_dir "$1")/log/rabbit.log"; }

rmq_ctl_cmd() {
	echo "env HOME=$(rmq_dir "$1") ip netns exec $(rmq_ns "$1") $RMQ_HOME/bin/rabbitmqctl" \
		"--longnames -n rabbit@$(rmq_ip "$1")"
}

rmq_ctl() {
	local k=$1
	shift
	# shellcheck disable=SC2046
	$(rmq_ctl_cmd "$k") "$@"
}

# rmq_conf K: rabbitmq.conf of node K (the example conf/rabbitmq.conf with the lab's paths).
rmq_conf() {
	local k=$1 j p="$LAB_DIR/pki/broker"
	cat <<EOF
listeners.tcp = none
mqtt.listeners.tcp = none
mqtt.listeners.ssl.default = 8883
ssl_options.cacertfile = $p/ca.crt
ssl_options.certfile = $p/server.crt
ssl_options.keyfile = $p/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
mqtt.ssl_cert_login = true
ssl_cert_login_from = common_name
mqtt.allow_anonymous = false
mqtt.vhost = /
mqtt.exchange = amq.topic
prometheus.tcp.port = 15692
log.file.level = info
cluster_formation.peer_discovery_backend = classic_config
EOF
	# Only the nodes already up: discovery would spend its retries on the others.
	for j in $(seq 1 "$k"); do
		echo "cluster_formation.classic_config.nodes.$j = rabbit@$(rmq_ip "$j")"
	done
}

rmq_node_start() {
	local k=$1 d ns vb
	d=$(rmq_dir "$k")
	ns=$(rmq_ns "$k")
	vb="vr${LAB_ID}x$k"
	ip netns add "$ns" && LAB_NETS+=("$ns")
	ip -n "$ns" link set lo up
	ip link add "$vb" netns "$(lab_bns)" type veth peer name eth0 netns "$ns"
	ip -n "$(lab_bns)" link set "$vb" master br0 up
	ip -n "$ns" addr add "$(rmq_ip "$k")/24" dev eth0
	ip -n "$ns" link set eth0 up
	mkdir -p "$d/mnesia" "$d/log"
	# One cookie for the cluster and the CLI (rabbitmqctl reads $HOME/.erlang.cookie).
	printf 'mqttip-lab-%s' "$LAB_ID" >"$d/.erlang.cookie"
	chmod 400 "$d/.erlang.cookie"
	rmq_conf "$k" >"$d/rabbitmq.conf"
	echo '[rabbitmq_mqtt,rabbitmq_prometheus].' >"$d/enabled_plugins"
	HOME=$d RABBITMQ_USE_LONGNAME=true RABBITMQ_NODENAME="rabbit@$(rmq_ip "$k")" \
		RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
		RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" \
		RABBITMQ_LOGS="$d/log/rabbit.log" RABBITMQ_CONF_ENV_FILE=/dev/null \
		RABBITMQ_PID_FILE="$d/pid" RABBITMQ_DIST_PORT=25672 \
		ip netns exec "$ns" "$RMQ_HOME/bin/rabbitmq-server" >"$d/stdout.log" 2>&1 &
	LAB_PIDS+=($!)
}

# rmq_wait_ready K N: until node K runs and sees N nodes running (120 s).
rmq_wait_ready() {
	local end=$((SECONDS + 120))
	until [ "$(rmq_ctl "$1" -q eval "rabbit:is_running() andalso
		length(rabbit_nodes:all_running()) =:= $2." 2>/dev/null)" = true ]; do
		if [ $SECONDS -ge $end ]; then
			tail -20 "$(rmq_log "$1")" >&2 || true
			lab_fail "RabbitMQ node $1 did not run in a cluster of $2 within 120 s"
		fi
		sleep 0.5
	done
}

rmq_cluster_start() {
	local n=$1 k start
	RMQ_N=$n
	start=$(date +%s.%N)
	# One node after the other: booted together, the nodes race to found the cluster and, in
	# 3.10, to join the MQTT plugin's client-id tracker (a Raft group); a node that loses that
	# race refuses every MQTT connection ("client ID registration timed out").
	for k in $(seq 1 "$n"); do
		rmq_node_start "$k"
		rmq_wait_ready "$k" "$k"
	done
	RMQ_START_S=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
}

# Everything in node K's namespace (beam, epmd, helpers) is that node.
rmq_kill() {
	ip netns pids "$(rmq_ns "$1")" | xargs -r kill -KILL
}

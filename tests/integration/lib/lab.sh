# lab.sh - a network-namespace lab for tests that run real agents through a real broker.
# Source it from a bash script (set -euo pipefail assumed), as root. Layout (names end in the
# lab id, so several labs run side by side):
#
#   namespace mqb<id>    bridge br0 192.0.2.1/24, mosquitto: TLS + plugin on 192.0.2.1:8883
#                        (the nodes' listener), with `per_listener_settings false` as the README
#                        prescribes (mosquitto 2.0.11 ticks plugins only then: metrics, newest
#                        session wins). With LAB_SPY=1 it also bridges every topic both ways to
#                        a second, plugin-less mosquitto on 192.0.2.1:1883: the hostile "spy"
#                        that sees and injects all (a bridge is what a broker operator can
#                        always add; bridged messages pass no ACL). With LAB_PLAIN=1 the broker
#                        is a plain one instead (no TLS, no plugin, anonymous, 192.0.2.1:1884),
#                        as MQTT_VPN users run it: agents then use tcp:// (lab_agent_start does).
#                        LAB_BROKER_OPTS: extra mosquitto.conf lines (newline-separated), e.g.
#                        "max_packet_size 8192".
#   namespace mqn<id>-i  eth0 192.0.2.(10+i)/24, veth to br0; the agent runs here (TUN mqttip0)
#
# Addresses exist only inside these namespaces (TEST-NET-1 for the underlay, 10.77.0.0/16 and
# fd77::/64 for the overlay), so nothing touches the host's network. Functions:
#   lab_init N [pki init flags]  namespaces, bridge, veths, a PKI (mqttip pki) with N nodes
#                                node1..nodeN at 10.77.0.i and fd77::i; trap cleans everything
#   lab_broker_start [name=value...]   mosquitto (TLS, plugin, policy) in the broker namespace;
#                                extra plugin options as name=value; with LAB_PLAIN_BROKER=1
#                                TLS only (no plugin, no CRL: a broker that enforces nothing;
#                                LAB_PLAIN=1 is the one without TLS either)
#   lab_broker_kill / lab_broker_stop / lab_broker_cont   SIGKILL / SIGSTOP / SIGCONT
#   lab_broker_pid               pid of mosquitto (empty if not running)
#   lab_agent_start I [flags]    `mqttip up` for node I in its namespace (log: $LAB_DIR/nodeI.log)
#                                with node I's bundle (none with LAB_NO_BUNDLE=1), the lab's URL
#                                (lab_url), interface mqttip0 and a status socket
#   lab_url                      the URL agents use: mqtts://192.0.2.1:8883, the relay's, or
#                                tcp://192.0.2.1:1884 with LAB_PLAIN=1
#   lab_agent_stop I / lab_agent_kill I   SIGTERM and wait / SIGKILL
#   lab_agent_pid I / lab_agent_alive I
#   lab_status I [--json]        `mqttip status` of node I
#   lab_json I KEYPATH           one value from node I's status JSON (jsonget)
#   lab_drops I REASON [PEER]    drop counter REASON of node I (summed over peers and global
#                                unless PEER, a node number, is given)
#   lab_addr I / lab_addr6 I     overlay addresses of node I
#   lab_ns I / lab_bns           namespace names;  lab_exec I CMD...  run CMD in node I's ns
#   lab_ping I J [count] [timeout]   ping node J's overlay address from node I, quiet
#   lab_wait_ping I J [seconds]  retries until one ping gets through; prints the seconds taken
#   lab_netem I SPEC... / lab_netem_clear I   tc netem on both directions of node I's link
#   lab_link_down I / lab_link_up I            cut / restore node I's link (eth0 in its ns)
#   lab_broker_netem SPEC... / lab_broker_netem_clear   netem on every link at the broker side
#   lab_has_netem                true when the kernel has sch_netem
#   lab_impair LOSS_PCT DELAY_MS / lab_impair_clear   loss and one-way delay on every node's
#                                broker link: tc netem when the kernel has it; else loss by
#                                nftables (numgen random, both directions, in each node ns) and
#                                delay by the delay relay (needs LAB_RELAY=1 before
#                                lab_broker_start: agents then connect through tests/adversarial
#                                delayrelay on port 8884, $DELAYRELAY names the binary)
#   lab_rss PID                  resident set size in KiB
#   lab_bg CMD...                start a helper process whose pid the cleanup kills ($LAB_BG_PID)
#   lab_fail MSG / lab_ok MSG
# Environment: MQTTIP (the mqttip binary), MQTTIP_PLUGIN (mqttip_plugin.so), JSONGET (the
# tests/adversarial jsonget tool) must point at built files; LAB_KEEP=1 keeps $LAB_DIR.

LAB_ID="$$"
LAB_DIR=""
LAB_N=0
LAB_BROKER_PID=""
LAB_BROKER_PORT=8883
LAB_SPY_PORT=1883
LAB_PLAIN_PORT=1884
LAB_SPY_PID=""
LAB_BROKER_IP=192.0.2.1
LAB_RELAY_PORT=8884
LAB_RELAY_PID=""
LAB_NETS=()
LAB_PIDS=()
LAB_BG_PID=""
declare -A LAB_AGENT_PIDS=()

lab_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

lab_ok() {
	echo "ok: $*"
}

lab_bns() { echo "mqb$LAB_ID"; }
lab_ns() { echo "mqn$LAB_ID-$1"; }
lab_addr() { echo "10.77.0.$1"; }
lab_addr6() { echo "fd77::$1"; }
lab_taddr() { echo "10-77-0-$1"; } # lab_addr as secure-mode topics spell it (PROTOCOL.md 2.1)
lab_exec() {
	local i=$1
	shift
	ip netns exec "$(lab_ns "$i")" "$@"
}

lab_cleanup() {
	local pid i ns status=$?
	set +e
	for i in "${!LAB_AGENT_PIDS[@]}"; do
		kill -CONT "${LAB_AGENT_PIDS[$i]}" 2>/dev/null
		kill "${LAB_AGENT_PIDS[$i]}" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	for pid in $LAB_BROKER_PID $LAB_RELAY_PID $LAB_SPY_PID; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	sleep 0.3
	for i in "${!LAB_AGENT_PIDS[@]}"; do
		kill -KILL "${LAB_AGENT_PIDS[$i]}" 2>/dev/null
		wait "${LAB_AGENT_PIDS[$i]}" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}" $LAB_BROKER_PID $LAB_RELAY_PID $LAB_SPY_PID; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "${LAB_NETS[@]}"; do
		# Anything still inside (a helper started by hand) dies with the namespace's last link.
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		# an agent started without --state-file kept its state there (docs/AGENT.md)
		rm -rf "/var/lib/mqttip/$ns"
	done
	# Sanitizer builds: a report in any log (agents, broker) fails the test, once everything
	# has stopped (LeakSanitizer reports at exit).
	if [ -n "$LAB_DIR" ] && grep -lE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" \
		"$LAB_DIR"/*.log >/dev/null 2>&1; then
		grep -hE -A15 "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" \
			"$LAB_DIR"/*.log >&2
		echo "FAIL: sanitizer report in the lab's logs" >&2
		status=1
	fi
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		if [ -n "${LAB_KEEP:-}" ]; then
			echo "kept $LAB_DIR" >&2
		else
			rm -rf "$LAB_DIR"
		fi
	fi
	exit "$status"
}

lab_require() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: the lab needs root (network namespaces)" >&2; exit 77; }
	[ -x "${MQTTIP:-}" ] || lab_fail "MQTTIP must name the mqttip binary"
	[ -f "${MQTTIP_PLUGIN:-}" ] || lab_fail "MQTTIP_PLUGIN must name mqttip_plugin.so"
}

# lab_init N [extra `mqttip pki init` flags]
lab_init() {
	local n=$1 i ns vb
	shift
	lab_require
	LAB_N=$n
	LAB_DIR=$(mktemp -d /tmp/mqttip-lab.XXXXXX)
	chmod 755 "$LAB_DIR"
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM

	ns=$(lab_bns)
	ip netns add "$ns" && LAB_NETS+=("$ns")
	ip -n "$ns" link set lo up
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" addr add "$LAB_BROKER_IP/24" dev br0
	ip -n "$ns" link set br0 up
	for i in $(seq 1 "$n"); do
		ns=$(lab_ns "$i")
		vb="vb${LAB_ID}x$i"
		ip netns add "$ns" && LAB_NETS+=("$ns")
		ip -n "$ns" link set lo up
		ip link add "$vb" netns "$(lab_bns)" type veth peer name eth0 netns "$ns"
		ip -n "$(lab_bns)" link set "$vb" master br0 up
		ip -n "$ns" addr add "192.0.2.$((10 + i))/24" dev eth0
		ip -n "$ns" link set eth0 up
	done

	"$MQTTIP" pki init "$LAB_DIR/pki" --net 10.77.0.0/16 --net fd77::/64 \
		--server-ip "$LAB_BROKER_IP" "$@" >/dev/null
	for i in $(seq 1 "$n"); do
		"$MQTTIP" pki issue "$LAB_DIR/pki" "node$i" --addr "$(lab_addr "$i")" \
			--addr "$(lab_addr6 "$i")" >/dev/null
	done
	chmod -R a+rX "$LAB_DIR/pki"
}

# lab_broker_conf FILE [plugin name=value...]
lab_broker_conf() {
	local file=$1 kv p="$LAB_DIR/pki/broker"
	shift
	{
		echo "per_listener_settings false"
		echo "persistence false"
		echo "log_dest stderr"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "connection_messages true"
		echo "max_queued_messages 10000"
		echo "user root"
		[ -z "${LAB_BROKER_OPTS:-}" ] || printf '%s\n' "$LAB_BROKER_OPTS"
		if [ -n "${LAB_PLAIN:-}" ]; then
			echo "listener $LAB_PLAIN_PORT $LAB_BROKER_IP"
			echo "allow_anonymous true"
			return 0
		fi
		echo "listener $LAB_BROKER_PORT $LAB_BROKER_IP"
		echo "cafile $p/ca.crt"
		echo "certfile $p/server.crt"
		echo "keyfile $p/server.key"
		echo "require_certificate true"
		echo "allow_anonymous true"
		# LAB_PLAIN_BROKER=1: a broker that enforces nothing of mqttip's (no plugin, no CRL)
		if [ -z "${LAB_PLAIN_BROKER:-}" ]; then
			echo "crlfile $p/crl.pem"
			echo "plugin $MQTTIP_PLUGIN"
			echo "plugin_opt_policy_file $p/policy"
			echo "plugin_opt_metrics_interval 2"
			for kv in "$@"; do
				echo "plugin_opt_${kv%%=*} ${kv#*=}"
			done
		fi
		if [ -n "${LAB_SPY:-}" ]; then
			echo "connection spy"
			echo "address $LAB_BROKER_IP:$LAB_SPY_PORT"
			echo "topic # both 1"
			echo "cleansession true"
			echo "notifications false"
			echo "restart_timeout 1"
		fi
	} >"$file"
}

# lab_listening PORT: true when something listens on PORT in the broker namespace.
lab_listening() {
	ip netns exec "$(lab_bns)" ss -Htln "sport = :$1" | grep -q .
}

# lab_wait_listen I PORT: until something in node I's namespace listens on TCP PORT (at most
# 10 s; an iperf3 server started in the background, before its client connects).
lab_wait_listen() {
	local _
	for _ in $(seq 1 100); do
		lab_exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	lab_fail "nothing listens on port $2 in node $1's namespace after 10 s"
}

# The spy: a plugin-less broker that the real one bridges every topic to, both ways.
lab_spy_start() {
	local conf="$LAB_DIR/spy.conf"
	printf '%s\n' "per_listener_settings false" "persistence false" "log_dest stderr" \
		"user root" "listener $LAB_SPY_PORT $LAB_BROKER_IP" "allow_anonymous true" >"$conf"
	# not a job of the test's shell: a test's bare `wait` must not wait for it
	LAB_SPY_PID=$(
		ip netns exec "$(lab_bns)" mosquitto -c "$conf" >>"$LAB_DIR/spy.log" 2>&1 &
		echo $!
	)
	for _ in $(seq 1 50); do
		lab_listening "$LAB_SPY_PORT" && return 0
		sleep 0.1
	done
	cat "$LAB_DIR/spy.log" >&2
	lab_fail "the spy broker did not start"
}

lab_broker_start() {
	local conf="$LAB_DIR/mosquitto.conf" log="$LAB_DIR/broker.log" port=$LAB_BROKER_PORT
	local bridges=0
	[ -z "${LAB_PLAIN:-}" ] || port=$LAB_PLAIN_PORT
	if [ -n "${LAB_SPY:-}" ] && [ -z "$LAB_SPY_PID" ]; then
		lab_spy_start
	fi
	[ -z "${LAB_SPY:-}" ] || bridges=$(grep -c "New bridge connected" "$LAB_DIR/spy.log" || true)
	lab_broker_conf "$conf" "$@"
	if [ -n "${MQTTIP_BROKER_PRELOAD:-}" ]; then
		LD_PRELOAD="$MQTTIP_BROKER_PRELOAD" \
			ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1" \
			ip netns exec "$(lab_bns)" mosquitto -c "$conf" >>"$log" 2>&1 &
	else
		ip netns exec "$(lab_bns)" mosquitto -c "$conf" >>"$log" 2>&1 &
	fi
	LAB_BROKER_PID=$!
	if [ -n "${LAB_RELAY:-}" ] && [ -z "$LAB_RELAY_PID" ]; then
		ip netns exec "$(lab_bns)" "$DELAYRELAY" "$LAB_BROKER_IP" "$LAB_RELAY_PORT" \
			"$LAB_BROKER_IP" "$LAB_BROKER_PORT" "${LAB_DELAY_MS:-50}" &
		LAB_RELAY_PID=$!
	fi
	for _ in $(seq 1 100); do
		if lab_listening "$port"; then
			[ -z "${LAB_SPY:-}" ] || lab_spy_wait_bridge "$bridges"
			return 0
		fi
		kill -0 "$LAB_BROKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	lab_fail "mosquitto did not start"
}

# lab_spy_wait_bridge N: until the spy has seen more than N bridge connections (the broker's
# bridge is up: messages before that would not reach the spy).
lab_spy_wait_bridge() {
	local n
	for _ in $(seq 1 50); do
		n=$(grep -c "New bridge connected" "$LAB_DIR/spy.log" 2>/dev/null || true)
		[ "${n:-0}" -gt "$1" ] && return 0
		sleep 0.1
	done
	cat "$LAB_DIR/broker.log" >&2
	lab_fail "the broker did not bridge to the spy"
}

lab_broker_pid() { echo "$LAB_BROKER_PID"; }

lab_broker_kill() {
	[ -n "$LAB_BROKER_PID" ] || return 0
	kill -KILL "$LAB_BROKER_PID" 2>/dev/null || true
	wait "$LAB_BROKER_PID" 2>/dev/null || true
	LAB_BROKER_PID=""
}

lab_broker_stop() { kill -STOP "$LAB_BROKER_PID"; }
lab_broker_cont() { kill -CONT "$LAB_BROKER_PID"; }

lab_sock() { echo "$LAB_DIR/node$1.sock"; }

lab_url() {
	if [ -n "${LAB_PLAIN:-}" ]; then
		echo "tcp://$LAB_BROKER_IP:$LAB_PLAIN_PORT"
	elif [ -n "${LAB_RELAY:-}" ]; then
		echo "mqtts://$LAB_BROKER_IP:$LAB_RELAY_PORT"
	else
		echo "mqtts://$LAB_BROKER_IP:$LAB_BROKER_PORT"
	fi
}

# lab_agent_start I [extra flags for mqttip up]: LAB_NO_BUNDLE=1 leaves out the node's bundle,
# LAB_NO_URL=1 the lab's broker URL (the flags then name the broker).
lab_agent_start() {
	local i=$1 nd="$LAB_DIR/pki/nodes/node$1"
	shift
	local creds=(--bundle "$nd/node$i.bundle") url=(-b "$(lab_url)")
	[ -z "${LAB_NO_BUNDLE:-}" ] || creds=()
	[ -z "${LAB_NO_URL:-}" ] || url=()
	ip netns exec "$(lab_ns "$i")" "$MQTTIP" up "${creds[@]}" "${url[@]}" -i mqttip0 \
		--status-socket "$(lab_sock "$i")" --state-file "$LAB_DIR/node$i.state" "$@" \
		>>"$LAB_DIR/node$i.log" 2>&1 &
	LAB_AGENT_PIDS[$i]=$!
}

lab_agent_pid() { echo "${LAB_AGENT_PIDS[$1]:-}"; }
lab_agent_alive() { [ -n "${LAB_AGENT_PIDS[$1]:-}" ] && kill -0 "${LAB_AGENT_PIDS[$1]}" 2>/dev/null; }

lab_agent_stop() {
	local pid=${LAB_AGENT_PIDS[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "LAB_AGENT_PIDS[$1]"
}

lab_agent_kill() {
	local pid=${LAB_AGENT_PIDS[$1]:-}
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "LAB_AGENT_PIDS[$1]"
}

# lab_wait_agent I [seconds]: until the status socket answers.
lab_wait_agent() {
	local i=$1 t=${2:-10}
	for _ in $(seq 1 $((t * 10))); do
		if "$MQTTIP" status --socket "$(lab_sock "$i")" >/dev/null 2>&1; then
			return 0
		fi
		lab_agent_alive "$i" || break
		sleep 0.1
	done
	tail -20 "$LAB_DIR/node$i.log" >&2
	lab_fail "agent node$i did not come up"
}

lab_status() {
	local i=$1
	shift
	"$MQTTIP" status --socket "$(lab_sock "$i")" "$@"
}

# lab_json I PATH: PATH as jsonget takes it.
lab_json() {
	lab_status "$1" --json | "$JSONGET" "$2"
}

# lab_drops I REASON [PEER]
lab_drops() {
	local i=$1 reason=$2 peer=${3:-}
	if [ -n "$peer" ]; then
		lab_status "$i" --json | "$JSONGET" --peer "$(lab_addr "$peer")" --drop "$reason"
	else
		lab_status "$i" --json | "$JSONGET" --drop "$reason"
	fi
}

lab_ping() {
	local i=$1 j=$2 c=${3:-1} w=${4:-2}
	lab_exec "$i" ping -n -q -c "$c" -W "$w" "$(lab_addr "$j")" >/dev/null 2>&1
}

# lab_wait_json I PATH VALUE [seconds]: until node I's status has VALUE at PATH (as lab_json
# reads it); fails with the status after SECONDS (default 10).
lab_wait_json() {
	local i=$1 path=$2 want=$3 t=${4:-10}
	for _ in $(seq 1 $((t * 10))); do
		[ "$(lab_json "$i" "$path")" = "$want" ] && return 0
		sleep 0.1
	done
	lab_fail "node$i: $path is not $want after $t s: $(lab_status "$i" --json | head -c 800)"
}

# lab_wait_ping I J [seconds]: prints the time until the first answer (seconds, 0.1 s steps).
lab_wait_ping() {
	local i=$1 j=$2 t=${3:-20} start now
	start=$(date +%s.%N)
	while true; do
		if lab_exec "$i" ping -n -q -c 1 -W 1 "$(lab_addr "$j")" >/dev/null 2>&1; then
			now=$(date +%s.%N)
			awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f\n", b - a }'
			return 0
		fi
		now=$(date +%s.%N)
		if awk -v a="$start" -v b="$now" -v t="$t" 'BEGIN { exit !(b - a > t) }'; then
			return 1
		fi
		sleep 0.1
	done
}

lab_netem() {
	local i=$1
	shift
	lab_exec "$i" tc qdisc replace dev eth0 root netem "$@"
	ip netns exec "$(lab_bns)" tc qdisc replace dev "vb${LAB_ID}x$i" root netem "$@"
}

lab_netem_clear() {
	local i=$1
	lab_exec "$i" tc qdisc del dev eth0 root 2>/dev/null || true
	ip netns exec "$(lab_bns)" tc qdisc del dev "vb${LAB_ID}x$i" root 2>/dev/null || true
}

lab_broker_netem() {
	local i
	for i in $(seq 1 "$LAB_N"); do
		lab_netem "$i" "$@"
	done
}

lab_broker_netem_clear() {
	local i
	for i in $(seq 1 "$LAB_N"); do
		lab_netem_clear "$i"
	done
}

lab_has_netem() {
	local ns
	ns=$(lab_bns)
	if ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
		ip netns exec "$ns" tc qdisc del dev lo root 2>/dev/null
		return 0
	fi
	return 1
}

# lab_impair LOSS_PCT DELAY_MS
lab_impair() {
	local loss=$1 delay=$2 i
	if lab_has_netem; then
		lab_broker_netem delay "${delay}ms" loss "${loss}%"
		return 0
	fi
	[ -n "$LAB_RELAY_PID" ] || lab_fail "no tc netem in this kernel: set LAB_RELAY=1 for the delay"
	[ "$delay" = "${LAB_DELAY_MS:-50}" ] || lab_fail "the relay's delay is fixed at start (LAB_DELAY_MS)"
	for i in $(seq 1 "$LAB_N"); do
		lab_exec "$i" nft -f - <<-NFT
			table inet labloss {
				chain in { type filter hook input priority 0; iifname "eth0" numgen random mod 1000 < $((loss * 10)) drop; }
				chain out { type filter hook output priority 0; oifname "eth0" numgen random mod 1000 < $((loss * 10)) drop; }
			}
		NFT
	done
	kill -USR1 "$LAB_RELAY_PID"
}

lab_impair_clear() {
	local i
	if lab_has_netem; then
		lab_broker_netem_clear
		return 0
	fi
	for i in $(seq 1 "$LAB_N"); do
		lab_exec "$i" nft delete table inet labloss 2>/dev/null || true
	done
	[ -z "$LAB_RELAY_PID" ] || kill -USR2 "$LAB_RELAY_PID"
}

lab_link_down() { lab_exec "$1" ip link set eth0 down; }
lab_link_up() {
	lab_exec "$1" ip link set eth0 up
	lab_exec "$1" ip addr replace "192.0.2.$((10 + $1))/24" dev eth0
}

lab_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

lab_bg() {
	"$@" &
	LAB_BG_PID=$!
	LAB_PIDS+=("$LAB_BG_PID")
}

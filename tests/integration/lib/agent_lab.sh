# agent_lab.sh - a three-namespace lab for agent tests and benchmarks: a broker namespace and two
# node namespaces (a, b) joined to it by veth pairs, mosquitto with the mqttip plugin and TLS in
# the broker namespace, one `mqttip up` per node namespace. Source it from bash (set -euo
# pipefail) after setting MQTTIP (the program) and PLUGIN (mqttip_plugin.so). It provides:
#   lab_init             checks root, /dev/net/tun and netns (fails with the reason otherwise),
#                        makes $TB_DIR, the namespaces, a PKI with nodes a and b, cleanup traps
#   lab_broker_start [plugin_opt=value...]   mosquitto (TLS on 8883 with the plugin; with LAB_SPY=1
#                        also a plain listener 10.99.1.1:1883 without it) in the broker namespace
#   lab_broker_stop / lab_broker_kill9
#   lab_agent_start NODE [flags...]   mqttip up in NODE's namespace, log $TB_DIR/NODE.log
#   lab_agent_stop NODE  SIGTERM, and fails unless it exits 0
#   lab_agent_kill9 NODE
#   lab_in NODE CMD...   runs CMD in NODE's namespace (NODE: a, b or br; a node c, if a test
#                        issues one, runs in the broker namespace)
#   lab_status NODE [--json]
#   lab_wait_ping NODE ADDR SECONDS   until one ping answers (fails after SECONDS)
# Addresses: broker 10.99.1.1 (seen from a) / 10.99.2.1 (from b); overlay a = 10.0.1.1 and
# fd00:1::1, b = 10.0.1.2 and fd00:1::2.
# shellcheck shell=bash

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=broker.sh
. "$LAB_LIB_DIR/broker.sh"

LAB_ID=$((($$ % 50000) + RANDOM % 10000))
NS_BR="mqlr$LAB_ID"
NS_A="mqla$LAB_ID"
NS_B="mqlb$LAB_ID"
LAB_PORT=8883
LAB_SPY_PORT=1883
declare -A LAB_PID=()
LAB_BROKER_PID=""
LAB_VALGRIND=${LAB_VALGRIND:-}

lab_ns() {
	case $1 in
	a) echo "$NS_A" ;;
	b) echo "$NS_B" ;;
	br | c) echo "$NS_BR" ;;
	*) echo "$1" ;;
	esac
}

lab_in() {
	local ns
	ns=$(lab_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

lab_cleanup() {
	local n pid
	for n in "${!LAB_PID[@]}"; do
		pid=${LAB_PID[$n]}
		kill "$pid" 2>/dev/null || true
	done
	for n in "${!LAB_PID[@]}"; do
		wait "${LAB_PID[$n]}" 2>/dev/null || true
	done
	if [ -n "$LAB_BROKER_PID" ]; then
		kill "$LAB_BROKER_PID" 2>/dev/null || true
		wait "$LAB_BROKER_PID" 2>/dev/null || true
	fi
	if [ -n "${LAB_NS_OURS:-}" ]; then
		for n in "$NS_A" "$NS_B" "$NS_BR"; do
			ip netns del "$n" 2>/dev/null || true
			rm -rf "/var/lib/mqttip/$n" # an agent's default state, without --state-file
		done
	fi
	tb_cleanup
}

lab_cannot_run() {
	echo "FAIL: cannot run: $*" >&2
	exit 1
}

lab_init() {
	[ "$(id -u)" = 0 ] || lab_cannot_run "needs root (network namespaces, TUN devices)"
	[ -c /dev/net/tun ] || lab_cannot_run "no /dev/net/tun"
	command -v ip >/dev/null || lab_cannot_run "iproute2 (ip) not installed"
	command -v mosquitto >/dev/null || lab_cannot_run "mosquitto not installed"
	[ -x "$MQTTIP" ] || lab_cannot_run "program $MQTTIP not built"
	[ -f "$PLUGIN" ] || lab_cannot_run "plugin $PLUGIN not built"
	tb_init
	trap lab_cleanup EXIT
	# Namespace names must not collide with a concurrent test's: take the first free id. (The
	# prefixes mqlr/mqla/mqlb are this library's; lab.sh names its namespaces mqb<pid>, mqn<pid>-i.)
	local try
	for try in $(seq 1 20); do
		if ip netns add "$NS_BR" 2>/dev/null; then
			LAB_NS_OURS=1
			break
		fi
		[ "$try" -lt 20 ] || lab_cannot_run "ip netns add failed"
		LAB_ID=$((RANDOM % 60000))
		NS_BR="mqlr$LAB_ID"
		NS_A="mqla$LAB_ID"
		NS_B="mqlb$LAB_ID"
	done
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	local n
	for n in "$NS_BR" "$NS_A" "$NS_B"; do
		ip -n "$n" link set lo up
	done
	ip link add "va$LAB_ID" netns "$NS_A" type veth peer name "vba$LAB_ID" netns "$NS_BR"
	ip link add "vb$LAB_ID" netns "$NS_B" type veth peer name "vbb$LAB_ID" netns "$NS_BR"
	ip -n "$NS_A" addr add 10.99.1.2/24 dev "va$LAB_ID"
	ip -n "$NS_BR" addr add 10.99.1.1/24 dev "vba$LAB_ID"
	ip -n "$NS_B" addr add 10.99.2.2/24 dev "vb$LAB_ID"
	ip -n "$NS_BR" addr add 10.99.2.1/24 dev "vbb$LAB_ID"
	ip -n "$NS_A" link set "va$LAB_ID" up
	ip -n "$NS_B" link set "vb$LAB_ID" up
	ip -n "$NS_BR" link set "vba$LAB_ID" up
	ip -n "$NS_BR" link set "vbb$LAB_ID" up
	ip -n "$NS_A" route add default via 10.99.1.1
	ip -n "$NS_B" route add default via 10.99.2.1
	PKI="$TB_DIR/pki"
	"$MQTTIP" pki init "$PKI" --net 10.0.1.0/24 --net fd00:1::/64 --server-ip 10.99.1.1 \
		--server-ip 10.99.2.1 >/dev/null
	"$MQTTIP" pki issue "$PKI" a --addr 10.0.1.1 --addr fd00:1::1 >/dev/null
	"$MQTTIP" pki issue "$PKI" b --addr 10.0.1.2 --addr fd00:1::2 >/dev/null
	chmod -R go+rX "$PKI/broker"
}

# lab_broker_start [plugin_opt=value...]
lab_broker_start() {
	local conf="$TB_DIR/mosquitto.conf" kv
	broker_conf_base "$conf"
	if [ -n "${LAB_SPY:-}" ]; then
		# The plugin only on the TLS listener: per-listener settings.
		sed -i 's/^per_listener_settings false/per_listener_settings true/' "$conf"
	fi
	{
		echo "listener $LAB_PORT 0.0.0.0"
		echo "allow_anonymous true"
		echo "cafile $PKI/broker/ca.crt"
		echo "certfile $PKI/broker/server.crt"
		echo "keyfile $PKI/broker/server.key"
		echo "require_certificate true"
		echo "plugin $PLUGIN"
		echo "plugin_opt_policy_file $PKI/broker/policy"
		for kv in "$@"; do
			echo "plugin_opt_${kv%%=*} ${kv#*=}"
		done
		if [ -n "${LAB_SPY:-}" ]; then
			# What a broker operator can always add: a listener that sees every message.
			echo "listener $LAB_SPY_PORT 10.99.1.1"
			echo "allow_anonymous true"
		fi
	} >>"$conf"
	if [ -n "${MQTTIP_BROKER_PRELOAD:-}" ]; then
		LD_PRELOAD="$MQTTIP_BROKER_PRELOAD" \
			ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1" \
			ip netns exec "$NS_BR" mosquitto -c "$conf" >>"$TB_DIR/broker.log" 2>&1 &
	else
		ip netns exec "$NS_BR" mosquitto -c "$conf" >>"$TB_DIR/broker.log" 2>&1 &
	fi
	LAB_BROKER_PID=$!
	for _ in $(seq 1 100); do
		if lab_in br ss -Htln "sport = :$LAB_PORT" | grep -q .; then
			return 0
		fi
		kill -0 "$LAB_BROKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TB_DIR/broker.log" >&2
	tb_fail "broker did not start"
}

lab_broker_stop() {
	[ -n "$LAB_BROKER_PID" ] || return 0
	kill "$LAB_BROKER_PID" 2>/dev/null || true
	wait "$LAB_BROKER_PID" 2>/dev/null || true
	LAB_BROKER_PID=""
}

lab_broker_kill9() {
	[ -n "$LAB_BROKER_PID" ] || return 0
	kill -9 "$LAB_BROKER_PID" 2>/dev/null || true
	wait "$LAB_BROKER_PID" 2>/dev/null || true
	LAB_BROKER_PID=""
}

lab_broker_url() {
	case $1 in
	a) echo "mqtts://10.99.1.1:$LAB_PORT" ;;
	b) echo "mqtts://10.99.2.1:$LAB_PORT" ;;
	c) echo "mqtts://10.99.1.1:$LAB_PORT" ;;
	esac
}

# lab_agent_start NODE [flags...]: secure mode with NODE's bundle unless flags say otherwise
# (LAB_NO_BUNDLE=1 leaves the credentials to the flags).
lab_agent_start() {
	local node=$1 ns
	shift
	ns=$(lab_ns "$node")
	local args=(up -i mqttip0 -b "$(lab_broker_url "$node")"
		--status-socket "$TB_DIR/$node.sock" --state-file "$TB_DIR/$node.state")
	[ -n "${LAB_NO_BUNDLE:-}" ] || args+=(--bundle "$PKI/nodes/$node/$node.bundle")
	if [ -n "$LAB_VALGRIND" ]; then
		ip netns exec "$ns" valgrind --leak-check=full --show-leak-kinds=definite,indirect \
			--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
			--log-file="$TB_DIR/$node.valgrind" "$MQTTIP" "${args[@]}" "$@" \
			>>"$TB_DIR/$node.log" 2>&1 &
	else
		ip netns exec "$ns" "$MQTTIP" "${args[@]}" "$@" >>"$TB_DIR/$node.log" 2>&1 &
	fi
	LAB_PID[$node]=$!
	for _ in $(seq 1 100); do
		if lab_in "$node" ip link show mqttip0 >/dev/null 2>&1 && [ -S "$TB_DIR/$node.sock" ]; then
			return 0
		fi
		kill -0 "${LAB_PID[$node]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TB_DIR/$node.log" >&2
	tb_fail "agent $node did not start"
}

lab_agent_stop() {
	local node=$1 rc=0 pid=${LAB_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	unset "LAB_PID[$node]"
	if [ "$rc" != 0 ]; then
		tail -20 "$TB_DIR/$node.log" >&2
		tb_fail "agent $node exited $rc after SIGTERM"
	fi
	if lab_in "$node" ip link show mqttip0 >/dev/null 2>&1; then
		tb_fail "agent $node left its interface behind"
	fi
}

lab_agent_kill9() {
	local node=$1 pid=${LAB_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "LAB_PID[$node]"
}

lab_status() {
	local node=$1
	shift
	"$MQTTIP" status --socket "$TB_DIR/$node.sock" "$@"
}

lab_wait_ping() {
	local node=$1 addr=$2 secs=$3 end
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		if lab_in "$node" ping -c 1 -W 1 "$addr" >/dev/null 2>&1; then
			return 0
		fi
	done
	return 1
}

lab_sanitizer_clean() {
	! grep -Eq "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$@"
}

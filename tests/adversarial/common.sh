# common.sh - shared by the adversarial scripts: the lab (tests/integration/lib/lab.sh), the
# hostile client (mitm) on the broker's listener without the plugin, and counter assertions.
# Environment (set by tests/adversarial.cmake): MQTTIP MQTTIP_PLUGIN JSONGET MITM ROGUENODE.
ADV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SPY=1
. "$ADV_DIR/../integration/lib/lab.sh"
for tool in MITM ROGUENODE JSONGET; do
	[ -x "${!tool:-}" ] || lab_fail "$tool must name the built tool"
done

SPY_REC=""

# Under ASan (ADV_SANITIZE=1, set by tests/adversarial.cmake in sanitizer builds) freed memory
# sits in the allocator's quarantine (up to 256 MiB), so RSS says nothing about leaks or growth:
# the memory bounds are then reported but not asserted.
rss_bound_checked() { [ -z "${ADV_SANITIZE:-}" ]; }

# mitm ARGS...: the hostile client, from inside the broker's namespace.
mitm() {
	ip netns exec "$(lab_bns)" "$MITM" -H "$LAB_BROKER_IP" -p "$LAB_SPY_PORT" "$@"
}

# spy_start: records every message the broker carries into $SPY_REC.
spy_start() {
	SPY_REC="$LAB_DIR/spy.rec"
	lab_bg ip netns exec "$(lab_bns)" "$MITM" -H "$LAB_BROKER_IP" -p "$LAB_SPY_PORT" \
		record "$SPY_REC"
	for _ in $(seq 1 50); do
		[ -f "$SPY_REC" ] && break
		sleep 0.1
	done
	sleep 0.3
}

# topics between nodes I (destination) and J (source)
data_topic() { echo "mqttip/$(lab_taddr "$1")/$(lab_taddr "$2")"; }
kx_topic() { echo "mqttip/kx/$(lab_taddr "$1")/$(lab_taddr "$2")"; }

# drops_wait I REASON PEER TARGET [seconds]: until node I's drop counter REASON (for peer node
# PEER, or "-" for the sum over all) reaches TARGET; prints the final value, fails on timeout.
drops_wait() {
	local i=$1 reason=$2 peer=$3 target=$4 t=${5:-5} v=0
	[ "$peer" = - ] && peer=""
	for _ in $(seq 1 $((t * 10))); do
		v=$(lab_drops "$i" "$reason" $peer)
		[ "$v" -ge "$target" ] && { echo "$v"; return 0; }
		sleep 0.1
	done
	echo "$v"
	return 1
}

# peer_value I PEER KEY: a member of node I's status entry for node PEER (0 when missing).
peer_value() {
	lab_status "$1" --json | "$JSONGET" --peer "$(lab_addr "$2")" "$3" 2>/dev/null || echo 0
}

# sum of several drop reasons of node I
drops_sum() {
	local i=$1 total=0 r json
	shift
	json=$(lab_status "$i" --json)
	for r in "$@"; do
		total=$((total + $(echo "$json" | "$JSONGET" --drop "$r")))
	done
	echo "$total"
}

# cpu_ticks PID: utime + stime in clock ticks
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# agents_up N [flags]: agents 1..N started with the agent flags, each waited for.
agents_up() {
	local n=$1 i
	shift
	for i in $(seq 1 "$n"); do
		lab_agent_start "$i" "$@"
	done
	for i in $(seq 1 "$n"); do
		lab_wait_agent "$i"
	done
}

# lab_up NODES AGENTS [--spy] [flags]: a lab of NODES namespaces, the broker, the spy (with
# --spy; before the agents, so it records their first messages), agents 1..AGENTS with the agent
# flags, and a first ping 1 -> 2 (the session).
lab_up() {
	local nodes=$1 agents=$2
	shift 2
	lab_init "$nodes"
	lab_broker_start
	if [ "${1:-}" = --spy ]; then
		shift
		spy_start
	fi
	agents_up "$agents" "$@"
	lab_wait_ping 1 2 20 >/dev/null || lab_fail "no ping 1 -> 2"
}

# rss_baseline: after a warm-up burst, records the pids of agents 1 and 2 (P1 P2) and their RSS.
rss_baseline() {
	P1=$(lab_agent_pid 1)
	P2=$(lab_agent_pid 2)
	lab_exec 1 ping -n -q -c 20 -i 0.05 "$(lab_addr 2)" >/dev/null || true
	RSS1=$(lab_rss "$P1")
	RSS2=$(lab_rss "$P2")
}

# same_agents WHAT: agents 1 and 2 still run with the pids of rss_baseline (no restart).
same_agents() {
	[ "$(lab_agent_pid 1)" = "$P1" ] && kill -0 "$P1" && [ "$(lab_agent_pid 2)" = "$P2" ] &&
		kill -0 "$P2" || lab_fail "$1: an agent restarted or died"
}

# rss_flat: prints the RSS of agents 1 and 2 against rss_baseline and fails beyond +2 MiB.
rss_flat() {
	local r1 r2
	r1=$(lab_rss "$P1")
	r2=$(lab_rss "$P2")
	echo "figure: agent RSS before/after: node1 ${RSS1}/${r1} KiB, node2 ${RSS2}/${r2} KiB"
	if rss_bound_checked && { [ $((r1 - RSS1)) -gt 2048 ] || [ $((r2 - RSS2)) -gt 2048 ]; }; then
		lab_fail "RSS grew by more than 2 MiB"
	fi
}

# traffic_resumed WHAT: pings 1 -> 2 and then 2 -> 1 go through again within BOUND_S seconds;
# prints the figure and leaves the seconds 1 -> 2 took in RESUMED_S.
traffic_resumed() {
	local t2
	RESUMED_S=$(lab_wait_ping 1 2 "$BOUND_S") ||
		lab_fail "1 -> 2 did not resume within $BOUND_S s ($1)"
	t2=$(lab_wait_ping 2 1 "$BOUND_S") || lab_fail "2 -> 1 did not resume ($1)"
	echo "figure: $1: 1 -> 2 resumed ${RESUMED_S} s after it ended (then 2 -> 1 in ${t2} s)"
}

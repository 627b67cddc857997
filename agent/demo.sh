#!/usr/bin/env bash
# demo.sh - the tour of `mqttip demo` (copied beside the binary as mqttip-demo.sh). demo.c
# checks the command line and runs `bash mqttip-demo.sh up|down` with:
#   MQTTIP_DEMO_BIN      the mqttip binary          MQTTIP_DEMO_PLUGIN   mqttip_plugin.so
#   MQTTIP_DEMO_NAME     namespace / state prefix   MQTTIP_DEMO_NODES    2 or 3 agents
#   MQTTIP_DEMO_SECONDS  iperf3 duration            MQTTIP_DEMO_KEEP     1: leave it running
# and, for sanitizer builds only, MQTTIP_BROKER_PRELOAD (libasan.so for the uninstrumented
# mosquitto, as in the tests).
#
# Layout (every address exists only inside the namespaces made here):
#   NAME-broker  bridge br0 192.0.2.1/24 (TEST-NET-1); mosquitto with mqttip_plugin.so, TLS on
#                192.0.2.1:8883; a second, plugin-less mosquitto on 127.0.0.1:1884 that the first
#                one bridges mqttip/# to: the "spy", everything a broker operator can see
#   NAME-nI      eth0 192.0.2.(10+I)/24 on br0; `mqttip up` with TUN mqttip0, overlay 10.0.1.I
#                and <ula>::I
# State (PKI, configs, logs, pids, status sockets) lives in /run/NAME until the teardown, which
# runs on every exit (end of the tour, failure, Ctrl-C, SIGTERM, SIGHUP) unless --keep asked to
# stay up, and then on `mqttip demo --down`.
# shellcheck disable=SC2317 # functions called by traps and wait_until are reachable
set -uo pipefail

BIN=$MQTTIP_DEMO_BIN
PLUGIN=$MQTTIP_DEMO_PLUGIN
NAME=$MQTTIP_DEMO_NAME
NODES=$MQTTIP_DEMO_NODES
IPERF_SECONDS=$MQTTIP_DEMO_SECONDS
KEEP=$MQTTIP_DEMO_KEEP

STATE=/run/$NAME
P=$STATE/pki
NS_BR=$NAME-broker
BROKER_IP=192.0.2.1
PORT=8883
SPY_PORT=1884
METRICS_INTERVAL=2
NET4=10.0.1
STEPS=10
PING_COUNT=10

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
	B="" G="" R="" D="" N=""
fi

ns_node() { echo "$NAME-n$1"; }
addr4() { echo "$NET4.$1"; }
taddr4() { addr4 "$1" | tr . -; } # as secure-mode topics spell it (docs/PROTOCOL.md 2.1)
addr6() { echo "${ULA}$1"; }
in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

step_no=0
step_started=0
step() {
	step_no=$((step_no + 1))
	step_started=$(date +%s%N)
	printf '\n%s[%d/%d] %s%s\n' "$B" "$step_no" "$STEPS" "$*" "$N"
}
say() { printf '      %s\n' "$*"; }
cmd() { printf '      %s$ %s%s\n' "$D" "$*" "$N"; }
cmd_more() { printf '      %s      %s%s\n' "$D" "$*" "$N"; }
ok() {
	local ms=$((($(date +%s%N) - step_started) / 1000000))
	printf '      %sok%s %s (%d.%01d s)\n' "$G" "$N" "$*" $((ms / 1000)) $((ms % 1000 / 100))
}
indent() { sed 's/^/      /'; }

FAILED=""
fail() {
	FAILED=$1
	printf '\n%sFAILED%s at step %d: %s\n' "$R" "$N" "$step_no" "$1" >&2
	shift
	local log
	for log in "$@"; do
		[ -s "$log" ] || continue
		printf '  last lines of %s:\n' "$log" >&2
		tail -n 15 "$log" | sed 's/^/    /' >&2
	done
	exit 1
}

# start_bg NAME LOG CMD...: a long-running process of the demo, in its own session (so that
# --keep leaves it running when this script ends); recorded for the teardown as "pid comm name".
start_bg() {
	local name=$1 log=$2
	shift 2
	setsid "$@" >"$log" 2>&1 </dev/null 3>&- 4>&- &
	local pid=$!
	local comm=$1
	[ "$comm" != ip ] || comm=$5 # ip netns exec NS PROGRAM ...
	echo "$pid ${comm##*/} $name" >>"$STATE/pids"
	LAST_PID=$pid
}

# is_ours PID COMM: the pid still runs the program we started (pids are reused).
is_ours() {
	[ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "${2:0:15}" ]
}

teardown() {
	local pid comm name
	[ -d "$STATE" ] || return 0
	if [ -f "$STATE/pids" ]; then
		tac "$STATE/pids" | while read -r pid comm name; do
			is_ours "$pid" "$comm" && kill -TERM "$pid" 2>/dev/null
		done
		for _ in $(seq 1 30); do
			local alive=0
			while read -r pid comm name; do
				is_ours "$pid" "$comm" && alive=1
			done <"$STATE/pids"
			[ "$alive" = 1 ] || break
			sleep 0.1
		done
		while read -r pid comm name; do
			if is_ours "$pid" "$comm"; then
				echo "  $name (pid $pid) did not stop on SIGTERM: SIGKILL" >&2
				kill -KILL "$pid" 2>/dev/null
			fi
		done <"$STATE/pids"
	fi
	if [ -f "$STATE/namespaces" ]; then
		while read -r name; do
			ip netns del "$name" 2>/dev/null
		done <"$STATE/namespaces"
	fi
	rm -rf "$STATE"
}

on_exit() {
	local rc=$? children
	trap - EXIT INT TERM HUP
	exec >&3 2>&4
	if [ "$KEEP" = 1 ] && [ -z "$FAILED" ] && [ "$rc" = 0 ]; then
		return
	fi
	printf '\n%s[teardown]%s stopping the agents and brokers, deleting the namespaces ... ' \
		"$B" "$N"
	mapfile -t children < <(jobs -p)
	teardown
	# Reap what this shell started, so that no zombie outlives the demo.
	[ ${#children[@]} = 0 ] || wait "${children[@]}" 2>/dev/null
	echo "done"
	exit "$rc"
}

on_signal() {
	# A trap runs inside the redirections of the command it interrupted (e.g. >/dev/null):
	# write to the demo's own output, saved on fds 3 and 4.
	exec >&3 2>&4
	FAILED="interrupted"
	printf '\n%sinterrupted%s\n' "$R" "$N" >&2
	exit 130
}

down() {
	if [ ! -d "$STATE" ]; then
		echo "mqttip demo: no demo named $NAME is running (no $STATE)" >&2
		exit 1
	fi
	echo "mqttip demo: stopping the demo $NAME ($STATE)"
	teardown
	echo "mqttip demo: done"
	exit 0
}

# wait_until SECONDS CMD...: retries CMD every 0.1 s.
wait_until() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# These checks read a command's whole output first: with pipefail, "cmd | grep -q" fails whenever grep
# exits before cmd has written everything (SIGPIPE).
listening() { [ -n "$(in_ns "$1" ss -Htln "sport = :$2" 2>/dev/null)" ]; }
alive() { kill -0 "$1" 2>/dev/null; }

# TLS arguments (mosquitto_sub/pub, mqttip top) of the admin node "observer".
OBSERVER_TLS="--cafile $P/nodes/observer/ca.crt --cert $P/nodes/observer/client.crt"
OBSERVER_TLS+=" --key $P/nodes/observer/client.key"
# mosquitto_sub/pub arguments of the observer, from inside the broker namespace.
observer() { echo "-h 127.0.0.1 -p $PORT $OBSERVER_TLS"; }

human_bytes() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1e9) printf "%.2f GB", b / 1e9; else if (b >= 1e6) printf "%.1f MB", b / 1e6;
		else if (b >= 1e3) printf "%.1f kB", b / 1e3; else printf "%d B", b }'
}

# json_num TEXT KEY: the first number for "KEY": in TEXT (the metrics document is flat enough).
json_num() {
	grep -o "\"$2\":[0-9.e+-]*" <<<"$1" | head -n1 | cut -d: -f2
}

preflight() {
	local tool missing=()
	for tool in ip ss mosquitto mosquitto_sub mosquitto_pub iperf3 ping setsid od; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "mqttip demo: missing programs: ${missing[*]}; run scripts/install-deps.sh" >&2
		exit 1
	fi
	if [ ! -c /dev/net/tun ]; then
		echo "mqttip demo: /dev/net/tun is missing: the agents need TUN devices" >&2
		exit 1
	fi
	if [ -e "$STATE" ] || [ -e "/run/netns/$NS_BR" ]; then
		local down="mqttip demo --down"
		[ "$NAME" = mqttip-demo ] || down+=" --name $NAME"
		echo "mqttip demo: a demo named $NAME is already up ($STATE); stop it with" \
			"'$down' or pick another --name" >&2
		exit 1
	fi
	if ! ip netns add "$NS_BR" 2>/dev/null; then
		echo "mqttip demo: cannot create network namespaces (ip netns add failed)" >&2
		exit 1
	fi
	ip netns del "$NS_BR"
}

[ "${1:-}" = down ] && down

preflight
exec 3>&1 4>&2
trap on_exit EXIT
trap on_signal INT TERM HUP
install -d -m 0700 "$STATE"
: >"$STATE/pids"
: >"$STATE/namespaces"

nodes_list=""
for i in $(seq 1 "$NODES"); do nodes_list+=" n$i"; done
printf '%smqttip demo%s: a broker and %d agents in network namespaces on this machine\n' \
	"$B" "$N" "$NODES"
say "state: $STATE; Ctrl-C at any time stops and removes everything"

# ---------------------------------------------------------------------------------------------
step "PKI: two certificate authorities and the nodes' certificates (mqttip pki)"
cmd "mqttip pki init $P --server-ip $BROKER_IP"
"$BIN" pki init "$P" --server-ip "$BROKER_IP" >"$STATE/pki.log" 2>&1 ||
	fail "mqttip pki init failed" "$STATE/pki.log"
ULA=$(awk '$1 == "net" && $2 ~ /:/ { sub(/::\/64$/, "::", $2); print $2 }' "$P/network.txt")
[ -n "$ULA" ] || fail "no IPv6 network in $P/network.txt"
for i in $(seq 1 "$NODES"); do
	cmd "mqttip pki issue $P n$i --addr $(addr4 "$i")/24 --addr $(addr6 "$i")/64"
	"$BIN" pki issue "$P" "n$i" --addr "$(addr4 "$i")/24" --addr "$(addr6 "$i")/64" \
		>>"$STATE/pki.log" 2>&1 || fail "mqttip pki issue n$i failed" "$STATE/pki.log"
done
cmd "mqttip pki issue $P observer --addr $NET4.100/24 --admin"
"$BIN" pki issue "$P" observer --addr "$NET4.100/24" --admin >>"$STATE/pki.log" 2>&1 ||
	fail "mqttip pki issue observer failed" "$STATE/pki.log"
cmd "mqttip pki issue $P mallory --addr $NET4.66/24"
"$BIN" pki issue "$P" mallory --addr "$NET4.66/24" >>"$STATE/pki.log" 2>&1 ||
	fail "mqttip pki issue mallory failed" "$STATE/pki.log"
say "broker PKI (X.509): who may connect and use which topics; VPN PKI (Ed25519): who is who"
say "end to end. observer may read the metrics (admin); mallory is a valid node with no agent."
ok "nodes$nodes_list observer mallory, overlay $NET4.0/24 and ${ULA}/64"

# ---------------------------------------------------------------------------------------------
step "network: namespaces joined by a bridge, 192.0.2.0/24 (only inside them)"
ip netns add "$NS_BR" || fail "ip netns add $NS_BR failed"
echo "$NS_BR" >>"$STATE/namespaces"
ip -n "$NS_BR" link set lo up
ip -n "$NS_BR" link add br0 type bridge
ip -n "$NS_BR" addr add "$BROKER_IP/24" dev br0
ip -n "$NS_BR" link set br0 up
for i in $(seq 1 "$NODES"); do
	ns=$(ns_node "$i")
	ip netns add "$ns" || fail "ip netns add $ns failed"
	echo "$ns" >>"$STATE/namespaces"
	ip -n "$ns" link set lo up
	ip -n "$NS_BR" link add "n$i" type veth peer name eth0 netns "$ns" ||
		fail "cannot create the veth pair of n$i"
	ip -n "$NS_BR" link set "n$i" master br0 up
	ip -n "$ns" addr add "192.0.2.$((10 + i))/24" dev eth0
	ip -n "$ns" link set eth0 up
done
joined=""
for i in $(seq 1 "$NODES"); do joined+=" $(ns_node "$i") (192.0.2.$((10 + i)))"; done
ok "$NS_BR (192.0.2.1) and$joined"

# ---------------------------------------------------------------------------------------------
step "broker: mosquitto with mqttip_plugin.so, TLS with client certificates, $BROKER_IP:$PORT"
cat >"$STATE/spy.conf" <<-EOF
	# The spy: a plain broker without the plugin that the real one copies mqttip/# to.
	per_listener_settings false
	persistence false
	log_dest stderr
	user root
	listener $SPY_PORT 127.0.0.1
	allow_anonymous true
EOF
cat >"$STATE/mosquitto.conf" <<-EOF
	# mosquitto for \`mqttip demo\`; conf/mosquitto.conf is the commented production example.
	per_listener_settings false
	persistence false
	log_dest stderr
	log_type error
	log_type warning
	log_type notice
	log_type information
	connection_messages true
	# The demo's files are root's (in $STATE); a real broker drops to user mosquitto.
	user root

	# Every address of the namespace: $BROKER_IP for the nodes, 127.0.0.1 for the observer.
	listener $PORT
	cafile $P/broker/ca.crt
	certfile $P/broker/server.crt
	keyfile $P/broker/server.key
	crlfile $P/broker/crl.pem
	require_certificate true
	allow_anonymous false
	plugin $PLUGIN
	plugin_opt_policy_file $P/broker/policy
	plugin_opt_metrics_interval $METRICS_INTERVAL

	# What a curious operator can do: copy every mqttip message to another broker.
	connection spy
	address 127.0.0.1:$SPY_PORT
	topic mqttip/# out 0
	cleansession true
	try_private false
	notifications false
	bridge_protocol_version mqttv311
EOF
broker_env=()
if [ -n "${MQTTIP_BROKER_PRELOAD:-}" ]; then
	broker_env=(env "LD_PRELOAD=$MQTTIP_BROKER_PRELOAD"
		"ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:halt_on_error=1"
		"UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
fi
start_bg spy "$STATE/spy.log" ip netns exec "$NS_BR" mosquitto -c "$STATE/spy.conf"
wait_until 5 listening "$NS_BR" "$SPY_PORT" || fail "the spy broker did not start" "$STATE/spy.log"
start_bg broker "$STATE/broker.log" ip netns exec "$NS_BR" "${broker_env[@]}" mosquitto \
	-c "$STATE/mosquitto.conf"
BROKER_PID=$LAST_PID
if [ ${#broker_env[@]} -gt 0 ]; then
	# ip netns exec runs env, which runs mosquitto: the recorded program name is env's.
	sed -i "s/^$BROKER_PID [^ ]* broker$/$BROKER_PID mosquitto broker/" "$STATE/pids"
fi
wait_until 10 listening "$NS_BR" "$PORT" || fail "mosquitto did not start" "$STATE/broker.log"
wait_until 5 grep -q "New client connected" "$STATE/spy.log" ||
	fail "the broker did not connect to the spy" "$STATE/broker.log"
grep -m1 "mqttip: prefix" "$STATE/broker.log" | sed 's/^[0-9]*: /plugin: /' | indent
grep -E "^(listener|require_certificate|plugin)" "$STATE/mosquitto.conf" | indent
# The spy subscribes to everything from now on; step 6 shows what it got.
start_bg spy-sub "$STATE/spy.out" ip netns exec "$NS_BR" mosquitto_sub -h 127.0.0.1 \
	-p "$SPY_PORT" -t '#' -F '%t %l %x'
SPY_SUB_PID=$LAST_PID
version=$(mosquitto -h 2>/dev/null | awk '/^mosquitto version/ { print $3 }')
ok "mosquitto $version and the spy are up"

# ---------------------------------------------------------------------------------------------
step "agents: mqttip up in each node namespace"
declare -A AGENT_PID=()
for i in $(seq 1 "$NODES"); do
	ns=$(ns_node "$i")
	cmd "ip netns exec $ns mqttip up --bundle $P/nodes/n$i/n$i.bundle \\"
	cmd_more "-b mqtts://$BROKER_IP:$PORT -i mqttip0 --status-socket $STATE/n$i.sock \\"
	cmd_more "--state-file $STATE/n$i.state"
	start_bg "n$i" "$STATE/n$i.log" ip netns exec "$ns" "$BIN" up \
		--bundle "$P/nodes/n$i/n$i.bundle" -b "mqtts://$BROKER_IP:$PORT" -i mqttip0 \
		--status-socket "$STATE/n$i.sock" --state-file "$STATE/n$i.state"
	AGENT_PID[$i]=$LAST_PID
done
has_addr() {
	[[ $(ip -n "$(ns_node "$1")" -4 addr show dev mqttip0 2>/dev/null) == *"inet $(addr4 "$1")/"* ]]
}
for i in $(seq 1 "$NODES"); do
	wait_until 10 has_addr "$i" || {
		alive "${AGENT_PID[$i]}" || fail "the agent of n$i exited" "$STATE/n$i.log"
		fail "n$i has no mqttip0 with $(addr4 "$i") after 10 s" "$STATE/n$i.log"
	}
done
# Each agent publishes its certificate (retained) under each address: the directory.
expected_entries=()
for i in $(seq 1 "$NODES"); do
	expected_entries+=("mqttip/cert/$(taddr4 "$i")" "mqttip/cert/$(addr6 "$i")")
done
directory_complete() {
	local got e
	# shellcheck disable=SC2046
	got=$(in_ns "$NS_BR" mosquitto_sub $(observer) -t 'mqttip/cert/+' -F %t -W 1 2>/dev/null)
	for e in "${expected_entries[@]}"; do
		grep -qx "$e" <<<"$got" || return 1
	done
	for i in $(seq 1 "$NODES"); do
		alive "${AGENT_PID[$i]}" || fail "the agent of n$i exited" "$STATE/n$i.log"
	done
}
wait_until 20 directory_complete ||
	fail "the agents' certificates did not all reach the directory (mqttip/cert/+) in 20 s" \
		"$STATE/n1.log" "$STATE/broker.log"
for i in $(seq 1 "$NODES"); do
	ns=$(ns_node "$i")
	say "n$i: $(ip -n "$ns" -o addr show dev mqttip0 | awk '{printf "%s ", $4}')on mqttip0, connected"
done
ok "${#expected_entries[@]} certificates in the directory (mqttip/cert/<address>, retained)"

# ---------------------------------------------------------------------------------------------
step "ping through the tunnel (the first packet waits for the Noise handshake)"
pairs=("1 2")
[ "$NODES" -lt 3 ] || pairs+=("1 3" "2 3")
PING_SUMMARY=()
PINGS_OK=1
has_addr6() {
	[[ $(ip -n "$(ns_node "$1")" -6 addr show dev mqttip0 2>/dev/null) == *"inet6 $(addr6 "$1")/"* ]]
}
for pair in "${pairs[@]}"; do
	read -r a b <<<"$pair"
	for fam in 4 6; do
		if [ "$fam" = 4 ]; then dst=$(addr4 "$b"); else dst=$(addr6 "$b"); fi
		[ "$fam" = 4 ] || { has_addr6 "$a" && has_addr6 "$b"; } || continue
		t0=$(date +%s%N)
		first_ping() { in_ns "$(ns_node "$a")" ping -c 1 -W 1 "$dst" >/dev/null 2>&1; }
		wait_until 15 first_ping || fail "n$a cannot reach n$b ($dst) within 15 s" \
			"$STATE/n$a.log" "$STATE/n$b.log"
		first_ms=$((($(date +%s%N) - t0) / 1000000))
		cmd "ip netns exec $(ns_node "$a") ping -c $PING_COUNT -i 0.2 $dst"
		out=$(in_ns "$(ns_node "$a")" ping -c "$PING_COUNT" -i 0.2 -W 2 -q "$dst" 2>&1)
		stats=$(grep "packets transmitted" <<<"$out")
		rtt=$(grep "^rtt" <<<"$out")
		say "$stats"
		say "$rtt"
		tx=$(awk '{print $1}' <<<"$stats")
		rx=$(awk '{print $4}' <<<"$stats")
		avg=$(awk -F'[/ ]' '{print $8}' <<<"$rtt")
		[ -n "$tx" ] && [ "$tx" = "$rx" ] || PINGS_OK=0
		line=$(printf 'ping   n%s -> n%s %-27s %s/%s answered, rtt avg %s ms' "$a" "$b" \
			"$dst:" "${rx:-0}" "${tx:-0}" "${avg:-?}")
		PING_SUMMARY+=("$line (first reply after $first_ms ms)")
	done
done
[ "$PINGS_OK" = 1 ] || fail "some pings were not answered (see above)"
ok "every ping answered"

# ---------------------------------------------------------------------------------------------
step "what the broker sees: ciphertext only"
MARKER="mqttip-demo-secret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
MARKER_HEX=$(printf %s "$MARKER" | od -An -tx1 | tr -d ' \n')
say "n1 sends \"$MARKER\" to n2 in UDP datagrams, through the tunnel"
for _ in 1 2 3; do
	in_ns "$(ns_node 1)" bash -c "printf %s '$MARKER' >/dev/udp/$(addr4 2)/9" 2>/dev/null
done
# The control: mallory, a valid node, publishes the marker in the clear under her own address.
# The broker lets her (the topic is hers), n2 drops it, and the spy must see it: that shows the
# search below would find the marker if it travelled in the clear.
CONTROL_TOPIC="mqttip/$(taddr4 2)/$(taddr4 66)"
# shellcheck disable=SC2046
in_ns "$NS_BR" mosquitto_pub $(observer | sed 's#/observer/#/mallory/#g') -i mallory \
	-t "$CONTROL_TOPIC" -m "$MARKER" 2>/dev/null
sleep 1
kill -TERM "$SPY_SUB_PID" 2>/dev/null
wait "$SPY_SUB_PID" 2>/dev/null
spy_total=$(wc -l <"$STATE/spy.out")
spy_cert=$(grep -c '^mqttip/cert/' "$STATE/spy.out")
spy_kx=$(grep -c '^mqttip/kx/' "$STATE/spy.out")
spy_data=$(grep -vE '^mqttip/(cert|kx)/' "$STATE/spy.out" | grep -vc "^$CONTROL_TOPIC ")
say "the spy got $spy_total messages: $spy_cert directory entries (public certificates)," \
	"$spy_kx handshake, $spy_data data"
say "a few data messages (header: type 4, 3 zero bytes, receiver index, counter; then the"
say "ChaCha20-Poly1305 ciphertext and its 16-byte tag):"
grep -vE '^mqttip/(cert|kx)/' "$STATE/spy.out" | grep -v "^$CONTROL_TOPIC " | head -n 4 |
	while read -r topic len hex; do
		counter=$(sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\8\7\6\5\4\3\2\1/' <<<"${hex:16:16}")
		printf '      %-28s %4s B  %s %s %s %s  %s...\n' "$topic" "$len" "${hex:0:2}" \
			"${hex:2:6}" "${hex:8:8}" "$((16#$counter))" "${hex:32:32}"
	done
leaks=$(grep -v "^$CONTROL_TOPIC " "$STATE/spy.out" | grep -c "$MARKER_HEX")
control=$(grep "^$CONTROL_TOPIC " "$STATE/spy.out" | grep -c "$MARKER_HEX")
grep "^$CONTROL_TOPIC " "$STATE/spy.out" | head -n 1 | while read -r topic len hex; do
	printf '      %-28s %4s B  %s...  (mallory'"'"'s control, in the clear)\n' "$topic" "$len" \
		"${hex:0:48}"
done
say "marker in the clear in tunnel traffic: $leaks message(s);" \
	"in mallory's cleartext control: $control"
say "what the broker does see: who talks to whom (the topics), when, and how much"
[ "$spy_data" -gt 0 ] || fail "the spy saw no data message: the bridge to it does not work" \
	"$STATE/broker.log"
[ "$control" -ge 1 ] || fail "the spy did not see the cleartext control: the check cannot work"
[ "$leaks" = 0 ] || fail "the marker crossed the broker in the clear"
ok "the broker forwards ciphertext it cannot read"

# ---------------------------------------------------------------------------------------------
step "the broker refuses what a certificate does not allow (the plugin's ACL)"
MALLORY="$(observer | sed 's#/observer/#/mallory/#g') -i mallory -V mqttv5"
cmd "mosquitto_pub <mallory's certificate> -t mqttip/$(taddr4 2)/$(taddr4 1) -m forged"
# shellcheck disable=SC2086
out=$(in_ns "$NS_BR" mosquitto_pub $MALLORY -q 1 -t "mqttip/$(taddr4 2)/$(taddr4 1)" -m forged 2>&1)
indent <<<"$out"
grep -q "Not authorized" <<<"$out" || fail "the broker did not refuse mallory's forged source"
cmd "mosquitto_sub <mallory's certificate> -t 'mqttip/$(taddr4 2)/+'"
# shellcheck disable=SC2086
out=$(in_ns "$NS_BR" mosquitto_sub $MALLORY -t "mqttip/$(taddr4 2)/+" -W 2 2>&1)
indent <<<"$out"
grep -q "denied" <<<"$out" || fail "the broker let mallory subscribe to n2's inbox"
say "(mallory may only publish from $NET4.66 and read what is addressed to $NET4.66)"
ok "forged source and foreign inbox refused"

# ---------------------------------------------------------------------------------------------
step "iperf3 through the tunnel, n1 -> n2, $IPERF_SECONDS s"
start_bg iperf3 "$STATE/iperf3-server.log" ip netns exec "$(ns_node 2)" iperf3 -s -1 \
	-B "$(addr4 2)"
wait_until 5 listening "$(ns_node 2)" 5201 || fail "iperf3 -s did not start" \
	"$STATE/iperf3-server.log"
cmd "ip netns exec $(ns_node 1) iperf3 -c $(addr4 2) -t $IPERF_SECONDS"
iperf_out=$(in_ns "$(ns_node 1)" timeout $((IPERF_SECONDS + 20)) iperf3 -c "$(addr4 2)" \
	-t "$IPERF_SECONDS" -f m 2>&1)
grep -E "sender|receiver" <<<"$iperf_out" | indent
MBITS=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' \
	<<<"$iperf_out")
[ -n "$MBITS" ] || fail "iperf3 failed: $(tail -n 3 <<<"$iperf_out" | tr '\n' ' ')" \
	"$STATE/n1.log" "$STATE/n2.log"
awk -v m="$MBITS" 'BEGIN { exit !(m > 0) }' || fail "iperf3 moved no data"
ok "$MBITS Mbit/s (TCP, as received by n2)"

# ---------------------------------------------------------------------------------------------
step "mqttip status of n1 (like wg show)"
cmd "mqttip status --socket $STATE/n1.sock"
"$BIN" status --socket "$STATE/n1.sock" >"$STATE/status.out" 2>&1 ||
	fail "mqttip status failed: $(head -n1 "$STATE/status.out")"
indent <"$STATE/status.out"
ok "n1 knows its peers"

# ---------------------------------------------------------------------------------------------
step "metrics: the plugin's \$SYS/broker/mqttip/metrics (every $METRICS_INTERVAL s, admins only)"
cmd "mqttip top --broker mqtts://127.0.0.1:$PORT <observer's certificate> --once"
# shellcheck disable=SC2086
in_ns "$NS_BR" "$BIN" top --broker "mqtts://127.0.0.1:$PORT" $OBSERVER_TLS --once \
	--timeout $((METRICS_INTERVAL + 10)) >"$STATE/top.out" 2>&1 ||
	fail "mqttip top failed: $(tail -n 3 "$STATE/top.out" | tr '\n' ' ')" "$STATE/broker.log"
indent <"$STATE/top.out"
say "(--once shows one document, rates over its window; without --once it refreshes like top, q quits)"
cmd "mosquitto_sub <observer's certificate> -t '\$SYS/broker/mqttip/metrics' -C 1"
# shellcheck disable=SC2046,SC2016
METRICS=$(in_ns "$NS_BR" mosquitto_sub $(observer) -t '$SYS/broker/mqttip/metrics' -C 1 \
	-W $((METRICS_INTERVAL + 10)) 2>/dev/null)
[ -n "$METRICS" ] || fail "no metrics document within $((METRICS_INTERVAL + 10)) s" \
	"$STATE/broker.log"
TOTAL=$(grep -o '"total":{[^}]*}' <<<"$METRICS")
cut -c1-60 <<<"$METRICS" | sed 's/$/ .../' | indent
fold -w 92 <<<"$TOTAL" | indent
PUB_MSGS=$(json_num "$TOTAL" published_msgs)
PUB_BYTES=$(json_num "$TOTAL" published_bytes)
KX_MSGS=$(json_num "$TOTAL" handshake_msgs)
DENIED=$(($(json_num "$TOTAL" denied_subscribe) + $(json_num "$TOTAL" denied_publish) +
	$(json_num "$TOTAL" denied_read)))
ok "the broker counted $PUB_MSGS messages, $(human_bytes "$PUB_BYTES")"

# ---------------------------------------------------------------------------------------------
printf '\n%s== summary ==%s\n' "$B" "$N"
for line in "${PING_SUMMARY[@]}"; do
	echo "$line"
done
echo "iperf3 n1 -> n2:  $MBITS Mbit/s over $IPERF_SECONDS s (TCP through the tunnel)"
echo "broker:           $PUB_MSGS messages published, $(human_bytes "$PUB_BYTES");" \
	"$KX_MSGS handshake messages; $DENIED denials"
seen=no
[ "$leaks" = 0 ] || seen=YES
echo "spy:              $spy_total messages seen, marker in the clear: $seen"
echo "result:           all checks passed"

if [ "$KEEP" = 1 ]; then
	printf '\n%sThe network stays up.%s Try:\n' "$B" "$N"
else
	printf '\n%sTry next:%s  %s demo --keep   (the same, left running), then:\n' "$B" "$N" "$BIN"
fi
down_cmd="$BIN demo --down$([ "$NAME" = mqttip-demo ] || echo " --name $NAME")"
cat <<-EOF
	  # ping through the tunnel; a shell on node n1 (its own network: eth0, mqttip0)
	  ip netns exec $(ns_node 1) ping $(addr4 2)
	  ip netns exec $(ns_node 1) bash
	  # an agent's view: peers, handshakes, traffic, drops
	  $BIN status --socket $STATE/n2.sock
	  # the broker's metrics, refreshed like top, and the raw document (observer is an admin;
	  # one at a time: a second connection with the same certificate replaces the first)
	  ip netns exec $NS_BR $BIN top --broker mqtts://127.0.0.1:$PORT \\
	      $OBSERVER_TLS
	  ip netns exec $NS_BR mosquitto_sub -t '\$SYS/broker/mqttip/metrics' $(observer)
	  # what the broker operator sees
	  ip netns exec $NS_BR mosquitto_sub -p $SPY_PORT -t '#' -v
	  # logs, then stop and remove everything
	  less $STATE/n1.log $STATE/broker.log
	  $down_cmd
	The README explains each part: the plugin's options, the PKI, the agent, the metrics.
EOF
[ "$KEEP" = 1 ] || say "(removing the demo network now)"
exit 0

#!/usr/bin/env bash
# agent_statussock.sh MQTTIP PLUGIN - issue 17 item 5: one agent's status socket is never taken
# over or deleted by another.
#  - two agents in two network namespaces with the same interface name and default settings get
#    a socket each (/run/mqttip/NETNS/mqttip0.sock); `ip netns exec NETNS mqttip status` shows
#    that namespace's node; in the host's namespace `mqttip status` names both namespaces;
#  - a second agent given a socket path in use refuses to start (exit 1) naming the process
#    that holds it, and the first keeps its socket;
#  - an agent stopping never unlinks a socket that replaced its own;
#  - a socket left by a SIGKILLed agent does not stop the next one.
# /run is private to this test (lib/private_run.sh): the host's /run/mqttip is not touched.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/private_run.sh"
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
lab_broker_start

# up NODE [flags]: an agent with the lab's broker and NODE's bundle, default status socket.
up() {
	local node=$1
	shift
	ip netns exec "$(lab_ns "$node")" "$MQTTIP" up -b "$(lab_broker_url "$node")" \
		--bundle "$PKI/nodes/$node/$node.bundle" "$@" >>"$TB_DIR/$node.log" 2>&1 &
	LAB_PID[$node]=$!
}

# node_of NODE [status flags]: the node name `mqttip status` in NODE's namespace reports.
node_of() {
	local node=$1
	shift
	lab_in "$node" "$MQTTIP" status "$@" 2>/dev/null | sed -n 's/^  node: //p'
}

wait_node() { # wait_node NODE WANT [status flags]
	local node=$1 want=$2
	shift 2
	for _ in $(seq 1 50); do
		[ "$(node_of "$node" "$@")" = "$want" ] && return 0
		sleep 0.1
	done
	tb_fail "status in $node's namespace shows '$(node_of "$node" "$@")', want $want; log: $(tail -3 "$TB_DIR/$node.log")"
}

# 1. Same interface name, two namespaces, defaults.
up a
wait_node a a
up b
wait_node b b
sleep 0.5
[ "$(node_of a)" = a ] || tb_fail "after b started, a's namespace shows '$(node_of a)'"
[ -S "/run/mqttip/$NS_A/mqttip0.sock" ] && [ -S "/run/mqttip/$NS_B/mqttip0.sock" ] ||
	tb_fail "sockets: $(find /run/mqttip 2>/dev/null | tr '\n' ' ')"
tb_ok "one socket per namespace: /run/mqttip/$NS_A/mqttip0.sock, /run/mqttip/$NS_B/mqttip0.sock"
rc=0
"$MQTTIP" status >/dev/null 2>"$TB_DIR/host.err" || rc=$?
[ "$rc" = 1 ] || tb_fail "host namespace: mqttip status exited $rc"
grep -q "ip netns exec $NS_A mqttip status" "$TB_DIR/host.err" &&
	grep -q "ip netns exec $NS_B mqttip status" "$TB_DIR/host.err" ||
	tb_fail "host namespace: no hint for the agents: $(cat "$TB_DIR/host.err")"
tb_ok "host namespace: mqttip status names both namespaces"
lab_agent_stop a
[ "$(node_of b)" = b ] || tb_fail "stopping a took b's status away"
tb_ok "stopping a leaves b's socket"
lab_agent_stop b

# 2. Both told to use one path: the second refuses and names the first.
P=$TB_DIR/shared.sock
up a --status-socket "$P"
wait_node a a --socket "$P"
rc=0
lab_in b "$MQTTIP" up -b "$(lab_broker_url b)" --bundle "$PKI/nodes/b/b.bundle" \
	--status-socket "$P" >"$TB_DIR/b2.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || tb_fail "second agent on a live socket exited $rc, want 1: $(cat "$TB_DIR/b2.log")"
grep -q "status socket $P is in use by process ${LAB_PID[a]} (mqttip)" "$TB_DIR/b2.log" ||
	tb_fail "refusal does not name the holder (pid ${LAB_PID[a]}): $(cat "$TB_DIR/b2.log")"
[ "$(node_of a --socket "$P")" = a ] || tb_fail "a lost its socket to the refused agent"
tb_ok "refused: $(grep -o 'status socket .*' "$TB_DIR/b2.log" | cut -c1-110)..."

# 3. Someone replaces a's socket; a stops: the new socket stays.
rm -f "$P"
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); time.sleep(60)' "$P" &
TB_PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$P" ] && break; sleep 0.1; done
lab_agent_stop a
[ -S "$P" ] || tb_fail "stopping a deleted a socket that was not its own"
tb_ok "a stopped without unlinking the socket that replaced its own"
kill "${TB_PIDS[-1]}" 2>/dev/null || true
rm -f "$P"

# 4. SIGKILL leaves the socket file; the next agent takes the path.
up a --status-socket "$P"
wait_node a a --socket "$P"
lab_agent_kill9 a
[ -S "$P" ] || tb_fail "expected the killed agent's socket file to remain"
up a --status-socket "$P"
wait_node a a --socket "$P"
lab_agent_stop a
[ ! -e "$P" ] || tb_fail "a clean stop left $P"
tb_ok "a stale socket of a killed agent is replaced; a clean stop removes the socket"
echo "agent_statussock: all checks passed"

#!/usr/bin/env bash
# agent_restart.sh MQTTIP PLUGIN: sessions survive the broker and recover from a dead agent.
#  1. A paced 24 MB TCP transfer a -> b runs while the broker is killed (SIGKILL) and started
#     again 2 s later: the agents reconnect by themselves, pings pass again within 20 s of the
#     broker's restart, and the transfer completes with the right SHA-256; no agent restarted.
#  2. Agent b is killed with SIGKILL and started again: pings both ways pass again within 10 s
#     (b's old keys are gone; a new handshake is made).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
TCPCAT=${MQTTIP_TCPCAT:?set MQTTIP_TCPCAT to the agent_tcpcat program}
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
lab_broker_start
lab_agent_start a
lab_agent_start b
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b"
pid_a=${LAB_PID[a]}
pid_b=${LAB_PID[b]}

head -c 24M /dev/urandom >"$TB_DIR/in"
want=$(sha256sum <"$TB_DIR/in" | cut -d' ' -f1)
ip netns exec "$NS_B" "$TCPCAT" listen 10.0.1.2 5002 "$TB_DIR/out" &
sink=$!
TB_PIDS+=("$sink")
ip netns exec "$NS_A" timeout 90 "$TCPCAT" send 10.0.1.2 5002 "$TB_DIR/in" 2048 &
source=$!
TB_PIDS+=("$source")
sleep 3
lab_broker_kill9
tb_ok "broker killed in the middle of the transfer"
sleep 2
lab_broker_start
restart=$SECONDS
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b within 20 s of the broker restart (reconnect backoff 1, 2, 4 s +-25 %)"
tb_ok "ping a -> b again $((SECONDS - restart)) s after the broker restart"
lab_wait_ping b 10.0.1.1 5 || tb_fail "no ping b -> a after the broker restart"
wait "$source" || tb_fail "sender failed across the broker restart"
wait "$sink" || tb_fail "receiver failed across the broker restart"
got=$(sha256sum <"$TB_DIR/out" | cut -d' ' -f1)
[ "$got" = "$want" ] || tb_fail "transfer across the broker restart: SHA-256 differs"
tb_ok "24 MB transfer across the broker restart complete, SHA-256 equal"
[ "${LAB_PID[a]}" = "$pid_a" ] && [ "${LAB_PID[b]}" = "$pid_b" ] && kill -0 "$pid_a" "$pid_b" ||
	tb_fail "an agent died"
lab_status a --json | grep -Eq '"connects":[2-9]' || tb_fail "status of a shows no reconnection"
tb_ok "same agent processes, reconnected"

lab_agent_kill9 b
lab_agent_start b
restart=$SECONDS
lab_wait_ping a 10.0.1.2 10 || tb_fail "no ping a -> b within 10 s of b's restart: $(tail -5 "$TB_DIR/a.log")"
tb_ok "ping a -> b again $((SECONDS - restart)) s after b was killed and restarted"
lab_wait_ping b 10.0.1.1 5 || tb_fail "no ping b -> a after b's restart"
tb_ok "ping b -> a after b's restart"
grep -q "handshake with a" "$TB_DIR/b.log" || tb_fail "restarted b made no handshake"

lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

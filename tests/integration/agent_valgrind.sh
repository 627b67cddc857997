#!/usr/bin/env bash
# agent_valgrind.sh MQTTIP PLUGIN: both agents under valgrind (memcheck): handshake, pings both
# ways, a 2 MB transfer, a status query, a SIGHUP reload, then SIGTERM: each must exit 0 with no
# memory error and no definite or indirect leak (valgrind's exit code 99 otherwise).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
TCPCAT=${MQTTIP_TCPCAT:?set MQTTIP_TCPCAT to the agent_tcpcat program}
. "$(dirname "$0")/lib/agent_lab.sh"
command -v valgrind >/dev/null || lab_cannot_run "valgrind not installed"
if ldd "$MQTTIP" | grep -q libasan; then
	lab_cannot_run "$MQTTIP is an ASan build; valgrind needs a normal build"
fi

lab_init
lab_broker_start
LAB_VALGRIND=1 lab_agent_start a
LAB_VALGRIND=1 lab_agent_start b
lab_wait_ping a 10.0.1.2 30 || tb_fail "no ping a -> b under valgrind"
lab_in b ping -c 2 -W 2 fd00:1::1 >/dev/null || tb_fail "no ping b -> a under valgrind"
head -c 2M /dev/urandom >"$TB_DIR/in"
ip netns exec "$NS_B" "$TCPCAT" listen 10.0.1.2 5004 "$TB_DIR/out" &
sink=$!
TB_PIDS+=("$sink")
lab_in a timeout 60 "$TCPCAT" send 10.0.1.2 5004 "$TB_DIR/in" || tb_fail "transfer failed"
wait "$sink" || tb_fail "receiver failed"
cmp -s "$TB_DIR/in" "$TB_DIR/out" || tb_fail "transfer corrupted"
lab_status a >/dev/null
lab_status b --json >/dev/null
kill -HUP "${LAB_PID[a]}"
sleep 2
lab_wait_ping a 10.0.1.2 30 || tb_fail "no ping after SIGHUP"
grep -q "reloaded" "$TB_DIR/a.log" || tb_fail "SIGHUP did not reload: $(tail -3 "$TB_DIR/a.log")"
tb_ok "traffic, status and reload under valgrind"
lab_agent_stop a
lab_agent_stop b
for n in a b; do
	grep -q "ERROR SUMMARY: 0 errors" "$TB_DIR/$n.valgrind" ||
		tb_fail "valgrind errors in agent $n: $(grep -A20 'lost in loss record\|Invalid' "$TB_DIR/$n.valgrind" | head -40)"
	grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$TB_DIR/$n.valgrind" | sed "s/^/$n: /"
done
tb_ok "no memory error and no leak after a clean shutdown"

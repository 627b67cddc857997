#!/usr/bin/env bash
# fault_broker.sh: the broker is killed (SIGKILL) and restarted, then frozen (SIGSTOP) for
# PAUSE seconds (default 30) and resumed. After each, traffic between nodes 1 and 2 resumes by
# itself (no agent restart: same pids), the sessions recover, and the agents' RSS stays flat
# (bound: +2 MiB). Prints the measured recovery times ("figure:" lines, docs/SECURITY.md).
set -euo pipefail
. "$(dirname "$0")/common.sh"
PAUSE=${PAUSE:-30}
BOUND_S=${RECOVERY_BOUND:-20}

lab_up 2 2 --mqtt-keepalive 5
lab_ping 2 1 || lab_fail "no ping 2 -> 1"
rss_baseline

# 1. SIGKILL, 2 s down, restart (retained directory entries are lost: persistence is off).
lab_broker_kill
sleep 2
lab_ping 1 2 1 1 && lab_fail "ping went through without a broker"
lab_broker_start
traffic_resumed "broker SIGKILL + restart"
same_agents "broker restart"
c=$(lab_json 1 broker.connects)
[ "$c" -ge 2 ] || lab_fail "node 1 did not reconnect (connects $c)"
lab_ok "broker killed and restarted: traffic resumed in ${RESUMED_S} s, agents kept running"

# 2. SIGSTOP for PAUSE s: TCP stays up but nothing moves; the agents' MQTT keepalive notices.
lab_broker_stop
sleep "$PAUSE"
lab_ping 1 2 1 1 && lab_fail "ping went through a frozen broker"
lab_broker_cont
traffic_resumed "broker SIGSTOP ${PAUSE} s + SIGCONT"
same_agents "broker pause"
lab_ok "broker paused ${PAUSE} s: traffic resumed in ${RESUMED_S} s after it continued"

# Sessions: both sides hold a usable keypair again, and a burst goes through loss-free.
lab_exec 1 ping -n -q -c 20 -i 0.05 "$(lab_addr 2)" >/dev/null || lab_fail "burst after faults lost packets"
[ "$(lab_json 1 peers.0.session)" = true ] && [ "$(lab_json 2 peers.0.session)" = true ] ||
	lab_fail "sessions not re-established"
rss_flat
lab_ok "sessions recovered, RSS flat"

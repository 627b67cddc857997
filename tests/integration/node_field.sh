#!/usr/bin/env bash
# node_field.sh: three failures seen in the field, fixed in the node engine (common/node*.c), run
# as a user met them: real agents and a host-port device (the firmware over lwIP) through
# mosquitto with TLS and the plugin, in the namespace lab (tests/integration/lib/lab.sh).
#  1. Key rotation seen by a device: node 2 stops, is revoked, and node "2b" is issued with
#     node 2's addresses and started. 2b pings the device and the device pings 2b; the device
#     keeps one peer at that address (2b), and drops nothing as "source".
#  2. A peer restarts with its wall clock 4 minutes behind (libfaketime) after the pair was idle
#     for 20 s: the other side refuses its initiations for their timestamp and initiates itself,
#     so pings from the restarted node get through; once with an agent refusing, once with the
#     device refusing.
#  3. A broker path with 1.6 s of delay each way on every node's link (delayrelay): a handshake
#     round trip takes 6.4 s, more than the first retry interval; pings still get through.
# Environment (tests/node.cmake): MQTTIP MQTTIP_PLUGIN JSONGET DELAYRELAY DEVICE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Agents connect through the delay relay; its delay stays off until part 3.
LAB_RELAY=1
LAB_DELAY_MS=1600
. "$here/lib/lab.sh"
[ -x "${DEVICE:-}" ] || lab_fail "DEVICE must name mqttip-device"
[ -x "${DELAYRELAY:-}" ] || lab_fail "DELAYRELAY must name the delay relay"
[ -x "${JSONGET:-}" ] || lab_fail "JSONGET must name jsonget"
FAKETIME_LIB=$(find /usr/lib -path '*/faketime/libfaketime.so.1' 2>/dev/null | head -n1)
[ -n "$FAKETIME_LIB" ] || { echo "SKIP: libfaketime.so.1 (Debian package libfaketime) missing" >&2; exit 77; }

lab_init 3
TB_DIR=$LAB_DIR
TB_PIDS=()
. "$here/lib/firmware_device.sh"
tb_fail() { lab_fail "$@"; }
DEV_ADDR=10.77.0.9
"$MQTTIP" pki issue "$LAB_DIR/pki" dev --addr "$DEV_ADDR" --addr fd77::9 >/dev/null
lab_broker_start

# dev_up: the device in node 3's namespace (its own lwIP stack is in-process).
dev_up() {
	dev_start dev ip netns exec "$(lab_ns 3)" "$DEVICE" \
		--bundle "$LAB_DIR/pki/nodes/dev/dev.bundle" \
		--broker "mqtts://$LAB_BROKER_IP:$LAB_RELAY_PORT"
	dev_wait dev log "broker connected" 20 || lab_fail "the device did not connect"
}

# agent_ping I ADDR COUNT: node I pings ADDR; prints how many answered. -w: ping waits for all
# COUNT replies (up to the deadline), not only two round trips after the last request, so a reply
# late on a loaded machine is counted, not lost.
agent_ping() {
	lab_exec "$1" ping -n -q -c "$3" -i 0.3 -W 2 -w $(($3 + 5)) "$2" 2>/dev/null |
		sed -nE 's/.* ([0-9]+) received.*/\1/p'
}

# wait_reach I ADDR SECONDS [REPLY_WAIT]: until node I gets one ping answered by ADDR (each ping
# waits REPLY_WAIT seconds, default 1); prints the seconds taken.
wait_reach() {
	local start=$SECONDS
	while [ $((SECONDS - start)) -lt "$3" ]; do
		if lab_exec "$1" ping -n -q -c 1 -W "${4:-1}" "$2" >/dev/null 2>&1; then
			echo $((SECONDS - start))
			return 0
		fi
	done
	return 1
}

# agent_start_skewed I OFFSET: node I's agent with its wall clock moved by OFFSET (libfaketime's
# FAKETIME syntax, "-4m"). The library is preloaded by hand, not through the faketime wrapper:
# the wrapper keeps a semaphore and a shared-memory file named by its pid in /dev/shm and
# removes them only when its child exits by itself, so each agent stopped by a signal left two
# files behind, and a later wrapper that drew the same pid refused to start ("sem_open: File
# exists"). In a sanitizer build ASan's runtime is then not first in the library list: ASan is
# told that is fine (as pki_deploy.sh does).
agent_start_skewed() {
	local i=$1 off=$2 nd="$LAB_DIR/pki/nodes/node$1"
	ip netns exec "$(lab_ns "$i")" env "LD_PRELOAD=$FAKETIME_LIB" "FAKETIME=$off" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 \
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$MQTTIP" up --bundle "$nd/node$i.bundle" -b "mqtts://$LAB_BROKER_IP:$LAB_RELAY_PORT" \
		-i mqttip0 --status-socket "$(lab_sock "$i")" --state-file "$LAB_DIR/node$i.state" \
		>>"$LAB_DIR/node$i.log" 2>&1 &
	LAB_AGENT_PIDS[$i]=$!
}

for i in 1 2 3; do lab_agent_start "$i"; done
dev_up
for i in 1 2 3; do lab_wait_agent "$i"; done

# --- 1. key rotation seen by a device ---
t=$(lab_wait_ping 2 1 20) || lab_fail "node 2 cannot reach node 1"
lab_exec 2 ping -n -q -c 2 -W 2 "$DEV_ADDR" >/dev/null || lab_fail "node 2 cannot ping the device"
# dev_ping_ok (firmware_device.sh): the device's ping stops counting 1 s after its last
# request, so a late reply on a loaded machine is lost; a run with all replies is asked for.
dev_ping_ok dev "$(lab_addr 2)" 2 2 || lab_fail "the device cannot ping node 2"
lab_ok "node 2 and the device have a session"
lab_agent_stop 2
"$MQTTIP" pki revoke "$LAB_DIR/pki" node2 >/dev/null
kill -HUP "$LAB_BROKER_PID"
"$MQTTIP" pki issue "$LAB_DIR/pki" node2b --addr "$(lab_addr 2)" --addr "$(lab_addr6 2)" >/dev/null
ip netns exec "$(lab_ns 2)" "$MQTTIP" up --bundle "$LAB_DIR/pki/nodes/node2b/node2b.bundle" \
	-b "mqtts://$LAB_BROKER_IP:$LAB_RELAY_PORT" -i mqttip0 --status-socket "$(lab_sock 2)" \
	--state-file "$LAB_DIR/node2b.state" \
	>>"$LAB_DIR/node2b.log" 2>&1 &
LAB_AGENT_PIDS[2]=$!
lab_wait_agent 2
wait_reach 2 "$DEV_ADDR" 30 >/dev/null || lab_fail "node 2b never reached the device: $(grep -E 'peer|refused|replaces' "$LAB_DIR/dev.log" | tail -5)"
n=$(agent_ping 2 "$DEV_ADDR" 10)
[ "$n" = 10 ] || lab_fail "node 2b -> device: $n/10"
dev_ping_ok dev "$(lab_addr 2)" 10 10 ||
	lab_fail "device -> node 2b: $(grep '^ping:' "$LAB_DIR/dev.out" | tail -n1)"
dev_cmd dev status
dev_wait dev out "^total:" 5 || lab_fail "no status from the device"
grep -q "^peer: node2b $(lab_addr 2) " "$LAB_DIR/dev.out" || lab_fail "the device does not list node2b"
! grep -q "^peer: node2 " "$LAB_DIR/dev.out" || lab_fail "the device still lists node2: $(grep '^peer' "$LAB_DIR/dev.out")"
! grep -q "source [0-9]" "$LAB_DIR/dev.out" || lab_fail "the device dropped packets as source"
lab_ok "key rotation: node2b <-> device 10/10 both ways; the device lists node2b only"

# --- 2. a peer restarts with its clock 4 minutes behind ---
# node 3 initiates, so node 1 remembers its timestamp
lab_wait_ping 3 1 20 >/dev/null || lab_fail "node 3 cannot reach node 1"
sleep 20
lab_agent_stop 3
agent_start_skewed 3 -4m
lab_wait_agent 3
t=$(lab_wait_ping 3 1 30) || lab_fail "the restarted node 3 (clock 4 min behind) never reached node 1: $(grep -E 'handshake' "$LAB_DIR/node1.log" | tail -3)"
n=$(agent_ping 3 "$(lab_addr 1)" 20)
[ "$n" = 20 ] || lab_fail "node 3 -> node 1 after its restart: $n/20"
[ "$(lab_drops 1 handshake_replay)" -ge 1 ] || lab_fail "node 1 never refused a stale timestamp"
grep -q "initiating instead" "$LAB_DIR/node1.log" || lab_fail "node 1 did not say it initiated"
lab_ok "node 3 restarted 4 minutes behind: node 1 initiated after ${t} s, 20/20 pings"

# node 1 initiates, so the device remembers its timestamp
wait_reach 1 "$DEV_ADDR" 20 >/dev/null || lab_fail "node 1 cannot reach the device"
sleep 20
lab_agent_stop 1
agent_start_skewed 1 -4m
lab_wait_agent 1
t=$(wait_reach 1 "$DEV_ADDR" 30) ||
	lab_fail "node 1 (clock 4 min behind) never reached the device: $(grep -E 'handshake' "$LAB_DIR/dev.log" | tail -3)"
n=$(agent_ping 1 "$DEV_ADDR" 20)
[ "$n" = 20 ] || lab_fail "node 1 -> device after its restart: $n/20"
grep -q "initiating instead" "$LAB_DIR/dev.log" || lab_fail "the device did not initiate"
lab_ok "node 1 restarted 4 minutes behind: the device initiated, 20/20 pings"

# --- 3. 1.6 s each way on every link: handshake round trip 6.4 s ---
# Node 3 restarts (no session) while the path is fast, then the delay comes on: its handshake
# with node 1 needs 6.4 s, more than the 5 s before the first retry.
lab_agent_stop 3
lab_agent_start 3
lab_wait_agent 3
sleep 2
kill -USR1 "$LAB_RELAY_PID"
t=$(wait_reach 3 "$(lab_addr 1)" 60 8) ||
	lab_fail "no ping through the slow path in 60 s: $(grep -E 'handshake' "$LAB_DIR/node3.log" | tail -3)"
lab_ok "slow path (6.4 s handshake round trip): first ping answered after $t s"
n=$(lab_exec 3 ping -n -q -c 5 -i 1 -W 8 "$(lab_addr 1)" 2>/dev/null | sed -nE 's/.* ([0-9]+) received.*/\1/p')
[ "$n" -ge 4 ] || lab_fail "slow path: $n/5 pings"
lab_ok "slow path: $n/5 pings with a 6.4 s round trip"
kill -USR2 "$LAB_RELAY_PID"
dev_stop dev || lab_fail "the device did not stop cleanly"

#!/usr/bin/env bash
# agent_adversary.sh MQTTIP PLUGIN: what the broker operator can do to a running pair, through a
# plain listener without the plugin (publish anything anywhere): replay a recorded transport
# message (refused, counted as replay), tamper one byte of it (auth), move it to another source
# topic (topic), and publish garbage of every size on the data, handshake and directory topics
# (malformed / unknown_index / handshake / cert). Nothing of it reaches the TUN device, the agents
# keep running and the tunnel still works both ways.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
LAB_SPY=1 lab_broker_start
lab_agent_start a
lab_agent_start b
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b"

spy_pub() { # TOPIC FILE
	lab_in a mosquitto_pub -h 10.99.1.1 -p "$LAB_SPY_PORT" -t "$1" -f "$2"
}
# drops NODE REASON: the sum of that drop reason over NODE's status (global and per peer).
drops() {
	lab_status "$1" --json | grep -o "\"$2\":[0-9]*" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'
}
wait_drops() { # NODE REASON MIN
	for _ in $(seq 1 50); do
		[ "$(drops "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	tb_fail "$1 counts $(drops "$1" "$2") '$2' drops, want >= $3: $(lab_status "$1")"
}

# Record one genuine transport message a -> b.
ip netns exec "$NS_A" mosquitto_sub -h 10.99.1.1 -p "$LAB_SPY_PORT" -t mqttip/10-0-1-2/10-0-1-1 \
	-C 1 -W 10 -F '%x' >"$TB_DIR/rec.hex" &
sub=$!
TB_PIDS+=("$sub")
sleep 0.5
lab_in a ping -c 2 -W 2 10.0.1.2 >/dev/null || tb_fail "ping during recording failed"
wait "$sub" || tb_fail "nothing recorded"
hex=$(tr -d '\n' <"$TB_DIR/rec.hex")
printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$TB_DIR/msg"
[ "$(stat -c %s "$TB_DIR/msg")" -ge 32 ] || tb_fail "recorded message too short"
rx0=$(lab_status b --json | grep -o '"rx_packets":[0-9]*' | tail -1 | cut -d: -f2)

spy_pub mqttip/10-0-1-2/10-0-1-1 "$TB_DIR/msg"
wait_drops b replay 1
tb_ok "replayed transport message refused (replay)"

# Tamper with the counter (byte 14, authenticated as AD): a counter never seen, so the replay
# check passes and the tag must refuse it. (A tampered copy of a seen counter is a replay.)
cp "$TB_DIR/msg" "$TB_DIR/bad"
printf '\x5a' | dd of="$TB_DIR/bad" bs=1 seek=14 conv=notrunc status=none
spy_pub mqttip/10-0-1-2/10-0-1-1 "$TB_DIR/bad"
wait_drops b auth 1
tb_ok "tampered transport message refused (auth)"

spy_pub mqttip/10-0-1-2/10-0-1-3 "$TB_DIR/msg"
wait_drops b topic 1
tb_ok "message moved to another source topic refused (topic)"

: >"$TB_DIR/empty"
head -c 1 /dev/urandom >"$TB_DIR/r1"
head -c 40 /dev/urandom >"$TB_DIR/r40"
head -c 20000 /dev/urandom >"$TB_DIR/r20k"
{ printf '\x04\x00\x00\x00'; head -c 60 /dev/urandom; } >"$TB_DIR/t4"
{ printf '\x01\x02\x00\x00'; head -c 300 /dev/urandom; } >"$TB_DIR/t1"
{ printf '\x02\x02\x00\x00'; head -c 72 /dev/urandom; } >"$TB_DIR/t2"
for f in empty r1 r40 r20k t4; do
	spy_pub mqttip/10-0-1-2/10-0-1-1 "$TB_DIR/$f"
done
for f in empty r1 r40 t1 t2 r20k; do
	spy_pub mqttip/kx/10-0-1-2/10-0-1-1 "$TB_DIR/$f"
done
spy_pub mqttip/cert/10-0-1-9 "$TB_DIR/r40"
wait_drops b malformed 3
wait_drops b unknown_index 1
wait_drops b handshake_mac1 1
wait_drops b handshake 1
wait_drops b cert 1
tb_ok "garbage on data, handshake and directory topics counted as drops"

rx1=$(lab_status b --json | grep -o '"rx_packets":[0-9]*' | tail -1 | cut -d: -f2)
[ "$rx1" = "$rx0" ] || tb_fail "b delivered $((rx1 - rx0)) packets of the adversary"
kill -0 "${LAB_PID[a]}" "${LAB_PID[b]}" || tb_fail "an agent died"
lab_in a ping -c 2 -W 2 10.0.1.2 >/dev/null || tb_fail "tunnel a -> b broken after the attack"
lab_in b ping -c 2 -W 2 10.0.1.1 >/dev/null || tb_fail "tunnel b -> a broken after the attack"
tb_ok "nothing delivered, tunnel still works both ways"
lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

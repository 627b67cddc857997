#!/usr/bin/env bash
# firmware_agent.sh MQTTIP PLUGIN_SO DEVICE: Linux agents (`mqttip up`, nodes a and b, each in its
# network namespace) and a host-port device (the firmware app over lwIP, 10.0.1.3 and fd00:1::3)
# through mosquitto with TLS and the plugin, in secure mode:
#  - the device pings a first: it looks a's certificate up in the directory and initiates;
#  - b pings the device over IPv4 and IPv6: b initiates, the device answers (it learns b's
#    certificate from the initiation);
#  - a TCP exchange from b with the device's shell on port 23 (echo, status, quit);
#  - the device pings b back over b's session, IPv4 and IPv6, and a pings the device over the
#    session the device started;
#  - b batches to the device within what the device announces (2048 bytes a message): bursts of
#    small packets arrive several to a message, bursts of large ones all arrive (a batch above the
#    device's limit would be skipped there, and logged);
#  - no drops on the device, and everything stops cleanly.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
DEVICE=$3
here=$(dirname "$0")
# shellcheck source=lib/firmware_lab.sh
. "$here/lib/firmware_lab.sh"

fw_lab_init
lab_broker_start
lab_agent_start a
lab_agent_start b
fw_dev_start

# the first request waits for the directory entry and the handshake: 2 of 3 will do
dev_ping_ok dev 10.0.1.1 3 "[23]" || tb_fail "device -> a ping"
grep -q "handshake with a (10.0.1.1) done as initiator" "$TB_DIR/dev.log" ||
	tb_fail "the device did not initiate the handshake with a"
tb_ok "the device pings a first (directory lookup, device initiates)"

lab_wait_ping b 10.0.1.3 20 || tb_fail "b cannot ping the device: $(tail -5 "$TB_DIR/b.log")"
lab_in b ping -c 3 -i 0.2 -W 2 10.0.1.3 >/dev/null || tb_fail "b -> device IPv4 ping"
grep -q "handshake with b (10.0.1.2) done as responder" "$TB_DIR/dev.log" ||
	tb_fail "device log shows no handshake with b as responder"
tb_ok "b pings the device (IPv4, b initiates)"
lab_in b ping -c 3 -i 0.2 -W 2 fd00:1::3 >/dev/null || tb_fail "b -> device IPv6 ping"
tb_ok "b pings the device (IPv6)"

out=$(fw_tcp b 10.0.1.3 23 $'echo hello-from-the-agent\nstatus\nquit\n')
echo "$out" | grep -qx "hello-from-the-agent" || tb_fail "shell echo over TCP: '$out'"
echo "$out" | grep -q "^node: dev" || tb_fail "shell status over TCP: '$out'"
echo "$out" | grep -q "^peer: b 10.0.1.2 handshake" || tb_fail "status lacks peer b: '$out'"
tb_ok "TCP exchange with the device's shell on port 23"

dev_ping_ok dev 10.0.1.2 3 3 || tb_fail "device -> b ping"
tb_ok "the device pings b back (IPv4)"
dev_ping_ok dev fd00:1::2 2 2 || tb_fail "device -> b IPv6 ping"
tb_ok "the device pings b back (IPv6)"
lab_in a ping -c 2 -i 0.2 -W 2 10.0.1.3 >/dev/null || tb_fail "a -> device ping"
tb_ok "a pings the device over the session the device started"

# packets b received from the device so far (rx N pkt ... in M msg on b's status line)
rx_of_b() {
	dev_cmd dev status
	dev_wait dev out "^total:" 10 || tb_fail "the device's status has no totals"
	sed -n 's/^peer: b .* rx \([0-9]*\) pkt [0-9]* B in \([0-9]*\) msg.*/\1 \2/p' "$TB_DIR/dev.out"
}
# wait_rx_of_b MIN: rx_of_b once the device has counted MIN packets from b. ping returns when
# its replies are in, or 2 s (-W) after its last request: a request still on its way through a
# loaded broker then is counted a little later. Waiting for it adds no slack to what is checked:
# the counts are then compared as before.
wait_rx_of_b() {
	local end=$((SECONDS + 15)) p m
	while :; do
		read -r p m <<<"$(rx_of_b)"
		if [ "${p:-0}" -ge "$1" ] || [ "$SECONDS" -ge "$end" ]; then
			echo "$p $m"
			return 0
		fi
		sleep 0.2
	done
}
read -r p0 m0 <<<"$(rx_of_b)"
[ -n "$m0" ] || tb_fail "no rx counts for b in the device's status: $(cat "$TB_DIR/dev.out")"
# eight echo requests at once (-l 8) reach b's TUN together: b reads and batches them. That
# they are all queued when b wakes up is up to the scheduler: on a loaded machine b can be woken
# by the first and read it alone, and so on (seen: 24 packets in 24 messages). A burst that
# found nothing to batch is sent again (at most 3): every packet must arrive each time, and an
# agent that never batches still fails.
p1=$p0 m1=$m0
for burst in 1 2 3; do
	lab_in b ping -c 24 -l 8 -i 0.3 -s 100 -W 2 10.0.1.3 >/dev/null || tb_fail "b -> device burst"
	read -r p m <<<"$(wait_rx_of_b $((p1 + 24)))"
	[ $((p - p1)) -ge 24 ] || tb_fail "the device got $((p - p1)) of 24 packets from b (burst $burst)"
	p1=$p m1=$m
	[ $((m1 - m0)) -ge $((p1 - p0)) ] || break
done
[ $((m1 - m0)) -lt $((p1 - p0)) ] ||
	tb_fail "b did not batch to the device: $((p1 - p0)) packets in $((m1 - m0)) messages"
tb_ok "b batches small packets to the device ($((p1 - p0)) packets in $((m1 - m0)) messages)"
lab_in b ping -c 16 -l 8 -i 0.3 -s 1200 -W 2 10.0.1.3 >/dev/null ||
	tb_fail "b -> device burst of large packets (batches above the device's limit?)"
# all 16 in before the log is read: a batch the device skipped would be logged on arrival
read -r p2 _ <<<"$(wait_rx_of_b $((p1 + 16)))"
[ $((p2 - p1)) -ge 16 ] ||
	tb_fail "the device got $((p2 - p1)) of 16 large packets from b: $(grep skipped "$TB_DIR/dev.log" | head -3)"
! grep -q "skipped: the device takes at most" "$TB_DIR/dev.log" ||
	tb_fail "b sent the device messages above its limit: $(grep skipped "$TB_DIR/dev.log" | head -3)"
tb_ok "b keeps its batches within the device's limit (bursts of 1228-byte packets all arrive)"

dev_cmd dev status
dev_wait dev out "^total:" 10 || tb_fail "the device's status has no totals"
! grep -q "drops:" "$TB_DIR/dev.out" || tb_fail "the device counted drops: $(grep 'drops:' "$TB_DIR/dev.out")"
lab_agent_stop a
lab_agent_stop b
dev_stop dev || tb_fail "device did not stop cleanly"
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"
tb_ok "clean shutdown"

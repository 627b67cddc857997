#!/usr/bin/env bash
# agent_offload.sh MQTTIP PLUGIN: TUN offloads between real agents (docs/AGENT.md "Offloads",
# PROTOCOL.md 7.4.1). Both agents with offloads: 30 MB of TCP over IPv4 and 5 MB over IPv6, and
# one UDP super-packet (UDP_SEGMENT: 8 datagrams in one send), each checked at the receiver (TCP:
# SHA-256 against the sender's file; UDP: every datagram's bytes), and the status counters show
# super-packets went whole. Then b restarts with --no-offload: a cuts its super-packets into plain
# packets for b (30 MB and the UDP datagrams checked again), and coalesces what b sends it (20 MB
# b -> a checked).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
TCPCAT=${MQTTIP_TCPCAT:?set MQTTIP_TCPCAT to the agent_tcpcat program}
. "$(dirname "$0")/lib/agent_lab.sh"
command -v python3 >/dev/null || lab_cannot_run "python3 not installed"

# transfer FROM TO SIZE_MB LISTEN_ADDR
transfer() {
	local from=$1 to=$2 mb=$3 addr=$4 want got sink
	head -c "${mb}M" /dev/urandom >"$TB_DIR/in"
	want=$(sha256sum <"$TB_DIR/in" | cut -d' ' -f1)
	rm -f "$TB_DIR/out"
	lab_in "$to" "$TCPCAT" listen "$addr" 5001 "$TB_DIR/out" &
	sink=$!
	TB_PIDS+=("$sink")
	lab_in "$from" timeout 60 "$TCPCAT" send "$addr" 5001 "$TB_DIR/in" ||
		tb_fail "sender failed ($mb MB $from -> $to)"
	wait "$sink" || tb_fail "receiver failed ($mb MB $from -> $to)"
	got=$(sha256sum <"$TB_DIR/out" | cut -d' ' -f1)
	[ "$got" = "$want" ] || tb_fail "$mb MB $from -> $to ($addr): SHA-256 differs"
	tb_ok "$mb MB $from -> $to ($addr), SHA-256 equal"
}

# udp_gso: a sends 8 datagrams of 1000 bytes to b in one sendto with UDP_SEGMENT (a super-packet
# for a's TUN device); b must receive all 8, each with its bytes.
udp_gso() {
	lab_in b python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.1.2", 7001))
s.settimeout(5)
open(sys.argv[1], "w").close()
got = []
try:
    while len(got) < 8:
        got.append(s.recv(2000))
except socket.timeout:
    pass
ok = len(got) == 8 and all(d == bytes([i]) * 1000 for i, d in enumerate(got))
print("ok" if ok else "bad: %d datagrams, sizes %s" % (len(got), [len(d) for d in got]))
' "$TB_DIR/udp.ready" >"$TB_DIR/udp.out" 2>&1 &
	local sink=$!
	TB_PIDS+=("$sink")
	for _ in $(seq 1 50); do
		[ -e "$TB_DIR/udp.ready" ] && break
		sleep 0.1
	done
	lab_in a python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(17, 103, 1000)  # SOL_UDP, UDP_SEGMENT
s.sendto(b"".join(bytes([i]) * 1000 for i in range(8)), ("10.0.1.2", 7001))
' || tb_fail "UDP_SEGMENT send failed"
	wait "$sink" || true
	rm -f "$TB_DIR/udp.ready"
	grep -qx ok "$TB_DIR/udp.out" || tb_fail "UDP super-packet a -> b: $(cat "$TB_DIR/udp.out")"
	tb_ok "8 UDP datagrams of one UDP_SEGMENT send arrived intact"
}

# counter NODE NAME: the node's offload counter
counter() {
	lab_status "$1" --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}

lab_init
lab_broker_start
lab_agent_start a
lab_agent_start b
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b"
grep -q "(offloads)" "$TB_DIR/a.log" || lab_cannot_run "the kernel refused TUN offloads"

transfer a b 30 10.0.1.2
transfer a b 5 fd00:1::2
udp_gso
super=$(counter a tx_super)
[ "${super:-0}" -gt 100 ] || tb_fail "a sent only ${super:-0} super-packets whole"
[ "$(counter b rx_super)" -gt 100 ] || tb_fail "b wrote only $(counter b rx_super) whole"
tb_ok "a sent $super super-packets whole"

lab_agent_stop b
lab_agent_start b --no-offload
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b after b's restart"
lab_status b --json | grep -q '"offload":{"enabled":false' ||
	tb_fail "b has offloads despite --no-offload: $(lab_status b --json | grep -o '"offload":{[^}]*}')"
transfer a b 30 10.0.1.2
udp_gso
[ "$(counter a tx_segmented)" -gt 100 ] || tb_fail "a cut only $(counter a tx_segmented) for b"
transfer b a 20 10.0.1.1
[ "$(counter a rx_merged)" -gt 100 ] || tb_fail "a coalesced only $(counter a rx_merged)"
tb_ok "a cut $(counter a tx_segmented) super-packets for b, coalesced $(counter a rx_merged)"
[ "$(lab_status a --json | grep -o '"bad_packet":[0-9]*' | head -1)" = '"bad_packet":0' ] ||
	tb_fail "a dropped packets as bad: $(lab_status a --json)"
lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

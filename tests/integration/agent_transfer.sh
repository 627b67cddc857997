#!/usr/bin/env bash
# agent_transfer.sh MQTTIP PLUGIN: a 50 MB TCP transfer from a to b through the tunnel (IPv4),
# and 5 MB over IPv6, each checked on the receiving side with sha256sum against the sender's
# file; the status counters show the traffic went through the tunnel in batched messages.
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

# transfer SIZE_MB LISTEN_ADDR
transfer() {
	local mb=$1 addr=$2 want got start
	head -c "${mb}M" /dev/urandom >"$TB_DIR/in"
	want=$(sha256sum <"$TB_DIR/in" | cut -d' ' -f1)
	ip netns exec "$NS_B" "$TCPCAT" listen "$addr" 5001 "$TB_DIR/out" &
	local sink=$!
	TB_PIDS+=("$sink")
	start=$SECONDS
	lab_in a timeout 60 "$TCPCAT" send "$addr" 5001 "$TB_DIR/in" ||
		tb_fail "sender failed ($mb MB to $addr)"
	wait "$sink" || tb_fail "receiver failed ($mb MB to $addr)"
	got=$(sha256sum <"$TB_DIR/out" | cut -d' ' -f1)
	[ "$got" = "$want" ] || tb_fail "$mb MB to $addr: SHA-256 differs ($got != $want)"
	tb_ok "$mb MB to $addr, SHA-256 equal, $((SECONDS - start)) s"
}

transfer 50 10.0.1.2
transfer 5 fd00:1::2

json=$(lab_status a --json)
txp=$(echo "$json" | grep -o '"tx_packets":[0-9]*' | tail -1 | cut -d: -f2)
txm=$(echo "$json" | grep -o '"tx_messages":[0-9]*' | tail -1 | cut -d: -f2)
[ "${txp:-0}" -gt 30000 ] || tb_fail "a sent only ${txp:-0} packets through the tunnel: $json"
tb_ok "a sent $txp packets in $txm messages"
lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

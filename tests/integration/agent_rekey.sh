#!/usr/bin/env bash
# agent_rekey.sh MQTTIP PLUGIN: keypair rotation under traffic. Both agents run with
# --rekey-after 10 --reject-after 15 (seconds); pings flow both ways for 32 s, i.e. across three
# rekeys and past the reject time of the first keypairs: at most 2% of the pings may be lost, the
# agents log new handshakes, and their status shows no authentication, replay or expiry drop of
# data (packets in flight across a rekey land with the previous keypair). Debug logs (-d) show
# the rekeys.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
lab_broker_start
lab_agent_start a -d --rekey-after 10 --reject-after 15
lab_agent_start b -d --rekey-after 10 --reject-after 15
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b"
ip netns exec "$NS_B" ping -c 160 -i 0.2 -W 1 10.0.1.1 >"$TB_DIR/ping_b" 2>&1 &
pb=$!
TB_PIDS+=("$pb")
lab_in a ping -c 160 -i 0.2 -W 1 10.0.1.2 >"$TB_DIR/ping_a" 2>&1 || true
wait "$pb" || true
for n in a b; do
	got=$(grep -c "bytes from" "$TB_DIR/ping_$n" || true)
	[ "$got" -ge 157 ] || tb_fail "$n: only $got of 160 pings answered across rekeys"
	tb_ok "$n: $got of 160 pings answered across rekeys"
done
hs=$(grep -c "handshake with" "$TB_DIR/a.log" "$TB_DIR/b.log" | awk -F: '{ s += $2 } END { print s }')
[ "$hs" -ge 6 ] || tb_fail "only $hs handshakes logged in 32 s with rekey-after 10"
tb_ok "$hs handshakes logged"
for n in a b; do
	json=$(lab_status "$n" --json)
	if echo "$json" | grep -Eq '"(auth|replay|expired|unknown_index)":[1-9]'; then
		tb_fail "$n counts drops across rekeys: $json"
	fi
done
tb_ok "no auth, replay, expiry or unknown-index drop"
lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

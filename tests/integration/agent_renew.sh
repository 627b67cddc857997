#!/usr/bin/env bash
# agent_renew.sh MQTTIP PLUGIN: `mqttip pki renew` of a node under traffic. b pings a 5 times a
# second (and a pings b) while a's certificates are renewed with its keys kept and a reloads them
# (SIGHUP): not one ping may be lost, b takes a's new certificate by its higher serial
# (PROTOCOL.md 4.9) without a new key exchange being needed, and a's directory entry carries the
# new certificate.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/agent_lab.sh"

serial_of() { "$MQTTIP" pki show "$1" | awk '$1 == "serial" { print $2; exit }'; }

lab_init
lab_broker_start
lab_agent_start a
lab_agent_start b
lab_wait_ping b 10.0.1.1 20 || tb_fail "no ping b -> a"
lab_wait_ping a 10.0.1.2 20 || tb_fail "no ping a -> b"
old=$(serial_of "$PKI/nodes/a/node.cert")
key_before=$("$MQTTIP" pki show "$PKI/nodes/a/node.cert" | awk '$1 == "x25519" { print $3 }')

lab_in b ping -c 60 -i 0.2 -W 2 -w 25 10.0.1.1 >"$TB_DIR/ping_b" 2>&1 &
pb=$!
TB_PIDS+=("$pb")
lab_in a ping -c 60 -i 0.2 -W 2 -w 25 10.0.1.2 >"$TB_DIR/ping_a" 2>&1 &
pa=$!
TB_PIDS+=("$pa")
sleep 3
"$MQTTIP" pki renew "$PKI" a >"$TB_DIR/renew.out" || tb_fail "renew failed: $(cat "$TB_DIR/renew.out")"
new=$(serial_of "$PKI/nodes/a/node.cert")
[ "$new" -gt "$old" ] || tb_fail "renewed serial $new is not above $old"
[ "$("$MQTTIP" pki show "$PKI/nodes/a/node.cert" | awk '$1 == "x25519" { print $3 }')" = "$key_before" ] ||
	tb_fail "renew changed the X25519 key"
kill -HUP "${LAB_PID[a]}"
wait "$pb" || true
wait "$pa" || true
for n in a b; do
	got=$(grep -c "bytes from" "$TB_DIR/ping_$n" || true)
	[ "$got" = 60 ] || tb_fail "$n: $got of 60 pings answered while a was renewed"
done
tb_ok "60 of 60 pings answered each way while a's certificates were renewed and reloaded"
grep -q "reloaded credentials" "$TB_DIR/a.log" || tb_fail "a did not reload: $(tail -5 "$TB_DIR/a.log")"
grep -q "certificate of a updated (serial $new)" "$TB_DIR/b.log" ||
	tb_fail "b did not take a's renewed certificate (serial $new): $(grep directory "$TB_DIR/b.log")"
tb_ok "b switched to a's certificate with serial $new (was $old)"

# the retained directory entry is the renewed certificate (read by a third node, so that a and
# b keep their one session each)
"$MQTTIP" pki issue "$PKI" c --addr 10.0.1.3 >/dev/null
sed -n '/^-----BEGIN MQTTIP NODE CERTIFICATE-----$/,/^-----END/p' "$PKI/nodes/a/node.cert" |
	sed '1d;$d' | base64 -d >"$TB_DIR/a.raw"
lab_in c mosquitto_sub -h 10.99.1.1 -p "$LAB_PORT" --cafile "$PKI/nodes/c/ca.crt" \
	--cert "$PKI/nodes/c/client.crt" --key "$PKI/nodes/c/client.key" -i c \
	-t mqttip/cert/10-0-1-1 -C 1 -W 5 -N >"$TB_DIR/entry.raw" 2>/dev/null || true
cmp -s "$TB_DIR/a.raw" "$TB_DIR/entry.raw" || tb_fail "a's directory entry is not the renewed certificate"
tb_ok "a's retained directory entry is the renewed certificate"
lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"

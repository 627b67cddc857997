#!/usr/bin/env bash
# agent_legacy.sh MQTTIP PLUGIN: legacy MQTT_VPN mode (-k) on a broker with plugin_opt_legacy on.
#  1. Legacy-only agents a (10.0.1.1) and b (10.0.1.2), -k secret, receive the messages captured
#     from the real mqtt_vpn (../shared/vectors/mqtt_vpn/encrypted-secret.txt), published again
#     on their topics by a third legacy node c: each opens every one of its messages (status
#     counts them); publishing one a second time is refused as a replay (counted), no packet.
#  2. Two legacy-only agents ping each other both ways.
#  3. Side by side: a runs with its bundle and -k; c (10.0.1.3) is a secure agent, b stays
#     legacy-only: a reaches c through the secure tunnel and b through legacy messages.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
VECTORS=${MQTTIP_VECTORS:?set MQTTIP_VECTORS to the shared vectors directory}
CAPTURE="$VECTORS/mqtt_vpn/encrypted-secret.txt"
. "$(dirname "$0")/lib/agent_lab.sh"
[ -r "$CAPTURE" ] || lab_cannot_run "no capture file $CAPTURE"

lab_init
"$MQTTIP" pki issue "$PKI" c --addr 10.0.1.3 >/dev/null
printf 'legacy a\nlegacy b\nlegacy c\n' >>"$PKI/broker/policy"
lab_broker_start legacy=on

legacy_flags() {
	local node=$1 addr=$2 d="$PKI/nodes/$1"
	echo "-k secret -a $addr --cafile $d/ca.crt --cert $d/client.crt --key $d/client.key"
}

# json_field NODE NAME: the first numeric field NAME of NODE's status.
json_field() {
	lab_status "$1" --json | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}

# pub_hex TOPIC HEX: publishes the bytes on TOPIC as node c (a legacy publisher).
pub_hex() {
	printf '%b' "$(sed 's/../\\x&/g' <<<"$2")" >"$TB_DIR/msg"
	local d="$PKI/nodes/c"
	lab_in a mosquitto_pub -h 10.99.1.1 -p "$LAB_PORT" --cafile "$d/ca.crt" \
		--cert "$d/client.crt" --key "$d/client.key" -i capture-replayer -t "$1" \
		-f "$TB_DIR/msg"
}

# feed NODE ADDR: publishes the captures for ADDR; NODE must open all of them.
feed() {
	local node=$1 addr=$2 n=0 topic hex got
	while read -r topic hex; do
		[ "$topic" = "mqttip/$addr" ] || continue
		pub_hex "$topic" "$hex"
		n=$((n + 1))
		first=$hex
	done <"$CAPTURE"
	[ "$n" -gt 0 ] || tb_fail "no capture for $addr in $CAPTURE"
	for _ in $(seq 1 50); do
		[ "$(json_field "$node" rx_packets)" = "$n" ] && break
		sleep 0.1
	done
	got=$(json_field "$node" rx_packets)
	[ "$got" = "$n" ] || tb_fail "$node opened $got of the $n captured messages: $(lab_status "$node")"
	tb_ok "legacy agent $node opened all $n messages captured from mqtt_vpn for $addr"
}

# wait_subscribed NODE ADDR: until NODE takes messages on mqttip/ADDR. The captures are not
# retained, so one published before the agent's subscription is in place is lost; a probe of
# random bytes (refused as legacy_auth: it carries no valid MAC) shows that it is.
wait_subscribed() {
	local node=$1 addr=$2 t
	for t in $(seq 1 50); do
		[ "$(json_field "$node" legacy_auth)" -ge 1 ] 2>/dev/null && return 0
		[ $((t % 5)) = 1 ] && pub_hex "mqttip/$addr" "$(head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n')"
		sleep 0.2
	done
	tb_fail "$node never took a message on mqttip/$addr: $(lab_status "$node")"
}

first=""
# shellcheck disable=SC2046
LAB_NO_BUNDLE=1 lab_agent_start a $(legacy_flags a 10.0.1.1)
wait_subscribed a 10.0.1.1
feed a 10.0.1.1
# shellcheck disable=SC2046
LAB_NO_BUNDLE=1 lab_agent_start b $(legacy_flags b 10.0.1.2)
wait_subscribed b 10.0.1.2
feed b 10.0.1.2
n=$(json_field b rx_packets)
pub_hex mqttip/10.0.1.2 "$first"
for _ in $(seq 1 50); do
	[ "$(json_field b legacy_replay)" = 1 ] && break
	sleep 0.1
done
[ "$(json_field b legacy_replay)" = 1 ] || tb_fail "replayed message not counted as a replay"
[ "$(json_field b rx_packets)" = "$n" ] || tb_fail "replayed message was delivered"
tb_ok "replayed legacy message refused and counted"

lab_wait_ping a 10.0.1.2 20 || tb_fail "legacy a cannot ping legacy b: $(tail -3 "$TB_DIR/a.log")"
tb_ok "legacy a -> b"
lab_in b ping -c 3 -i 0.2 -W 2 10.0.1.1 >/dev/null || tb_fail "legacy b cannot ping legacy a"
tb_ok "legacy b -> a"
lab_agent_stop a
lab_agent_start a -k secret
lab_agent_start c
lab_wait_ping a 10.0.1.3 20 || tb_fail "secure+legacy a cannot ping secure c"
lab_wait_ping a 10.0.1.2 20 || tb_fail "secure+legacy a cannot ping legacy b"
lab_in c ping -c 2 -W 2 10.0.1.1 >/dev/null || tb_fail "secure c cannot ping a"
lab_in b ping -c 2 -W 2 10.0.1.1 >/dev/null || tb_fail "legacy b cannot ping a"
json=$(lab_status a --json)
echo "$json" | grep -q '"name":"c","address":"10.0.1.3","session":true' ||
	tb_fail "a has no secure session with c: $json"
echo "$json" | grep -Eq '"legacy":\{"enabled":true,"rx_packets":[1-9]' ||
	tb_fail "a received nothing over legacy: $json"
tb_ok "side by side: a <-> c secure, a <-> b legacy"
lab_agent_stop a
lab_agent_stop b
lab_agent_stop c
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" "$TB_DIR/c.log" || tb_fail "sanitizer report in agent logs"

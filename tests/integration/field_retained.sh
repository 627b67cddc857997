#!/usr/bin/env bash
# field_retained.sh: issue 14 case 6, retained junk on inboxes, in the namespace lab with a plain
# broker (LAB_PLAIN: the plugin refuses retained messages on inboxes, a plain broker does not).
#  1. Legacy: the MQTT_VPN capture (vectors/mqtt_vpn/encrypted-secret.txt, an ICMP echo request
#     10.0.1.1 -> 10.0.1.2 sealed with password "secret") published retained on mqttip/10.0.1.2.
#     A legacy agent 10.0.1.2 started twice must not answer it (no echo reply on
#     mqttip/10.0.1.1) and counts it as a `retained` drop each time.
#  2. Secure: node3's first handshake initiation to node2, captured and published retained on
#     mqttip/kx/<node2>/<node3>. node2 started twice must not answer it (no response on
#     mqttip/kx/<node3>/<node2>) and counts it; the retained directory still works (node2 knows
#     node3 from it).
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET, MQTTIP_VECTORS (tests/field.cmake).
set -euo pipefail
LAB_PLAIN=1
. "$(dirname "$0")/lib/lab.sh"
CAPTURE="${MQTTIP_VECTORS:-}/mqtt_vpn/encrypted-secret.txt"
[ -r "$CAPTURE" ] || lab_fail "no capture file $CAPTURE (MQTTIP_VECTORS)"

lab_init 3
lab_broker_start

# pub_hex TOPIC HEX [-r]: publishes the bytes on the plain broker
pub_hex() {
	printf '%b' "$(sed 's/../\\x&/g' <<<"$2")" >"$LAB_DIR/msg"
	ip netns exec "$(lab_bns)" mosquitto_pub -h "$LAB_BROKER_IP" -p "$LAB_PLAIN_PORT" \
		-t "$1" -f "$LAB_DIR/msg" ${3:-}
}

# record TOPIC FILE: every message on TOPIC into FILE (background)
record() {
	lab_bg ip netns exec "$(lab_bns)" mosquitto_sub -h "$LAB_BROKER_IP" -p "$LAB_PLAIN_PORT" \
		-t "$1" -F '%t %x' >"$2"
}

# start_twice I FLAGS...: starts node I, waits 3 s and until it counts a retained drop (at most
# 30 s: connecting and subscribing can take more than 3 s on a loaded machine), stops it, twice;
# RETAINED: the smaller of the two starts' retained drop counts. The 3 s stay a minimum: they
# are the time an answer to the retained message (the failure checked) has to show up.
start_twice() {
	local i=$1 r t0
	shift
	RETAINED=""
	for _ in 1 2; do
		lab_agent_start "$i" "$@"
		lab_wait_agent "$i"
		t0=$SECONDS
		sleep 3
		until [ "$(lab_drops "$i" retained)" -ge 1 ] || [ $((SECONDS - t0)) -ge 30 ]; do
			sleep 0.2
		done
		r=$(lab_drops "$i" retained)
		lab_agent_stop "$i"
		[ -n "$RETAINED" ] && [ "$RETAINED" -le "$r" ] || RETAINED=$r
	done
}

# --- 1. legacy -----------------------------------------------------------------------------------
hex=$(awk '$1 == "mqttip/10.0.1.2" { print $2; exit }' "$CAPTURE")
pub_hex mqttip/10.0.1.2 "$hex" -r
record mqttip/10.0.1.1 "$LAB_DIR/replies"
sleep 0.5
LAB_NO_BUNDLE=1 start_twice 1 -k secret -a 10.0.1.2
[ ! -s "$LAB_DIR/replies" ] ||
	lab_fail "the legacy node answered the retained packet: $(wc -l <"$LAB_DIR/replies") replies"
[ "$RETAINED" -ge 1 ] || lab_fail "node1 did not count the retained message"
lab_ok "legacy: the retained packet was ignored at both starts (retained drops: $RETAINED)"

# --- 2. secure ---------------------------------------------------------------------------------
KX23="mqttip/kx/$(lab_taddr 2)/$(lab_taddr 3)"
KX32="mqttip/kx/$(lab_taddr 3)/$(lab_taddr 2)"
record "$KX23" "$LAB_DIR/init"
sleep 0.5
lab_agent_start 2
lab_agent_start 3
lab_wait_agent 2
lab_wait_agent 3
lab_wait_ping 3 2 20 >/dev/null || lab_fail "no ping 3 -> 2"
lab_agent_stop 2
lab_agent_stop 3
# The first message on the topic can be a certificate request (type 3, PROTOCOL.md 6.16: node3
# asks for node2's certificate when it started before the retained directory reached it).
init=$(awk 'substr($2, 1, 2) == "01" { print $2; exit }' "$LAB_DIR/init")
[ -n "$init" ] || lab_fail "no initiation captured: $(head -c 200 "$LAB_DIR/init")"
pub_hex "$KX23" "$init" -r
record "$KX32" "$LAB_DIR/responses"
sleep 0.5
start_twice 2
[ ! -s "$LAB_DIR/responses" ] ||
	lab_fail "node2 answered the retained initiation: $(wc -l <"$LAB_DIR/responses") responses"
[ "$RETAINED" -ge 1 ] || lab_fail "node2 did not count the retained message"
grep -q "peer node3 ($(lab_addr 3)) added" "$LAB_DIR/node2.log" ||
	lab_fail "node2 did not learn node3 from the retained directory"
lab_ok "secure: the retained initiation was not answered at either start (retained drops: $RETAINED); the directory still works"

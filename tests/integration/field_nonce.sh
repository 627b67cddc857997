#!/usr/bin/env bash
# field_nonce.sh: issue 14 case 7, two MQTT_VPN nodes started in the same second, in the namespace
# lab with a plain broker (LAB_PLAIN). MQTT_VPN draws its nonces from rand() seeded with
# time(NULL): the stand-in (tests/integration/mqttvpn_emu.c) gets the same seed for both
# (--seed, what starting in the same second gives), so their k-th messages carry the same
# nonce. The mqttip legacy node must accept both nodes' pings (its replay cache is keyed by the
# sealed source address), and still refuse a message replayed from the broker.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET, MQTTVPN_EMU (tests/field.cmake).
set -euo pipefail
LAB_PLAIN=1
. "$(dirname "$0")/lib/lab.sh"
[ -x "${MQTTVPN_EMU:-}" ] || lab_fail "MQTTVPN_EMU must name the tool"

lab_init 3
lab_broker_start
A2=$(lab_addr 2)
for i in 1 3; do
	lab_bg ip netns exec "$(lab_ns "$i")" "$MQTTVPN_EMU" -i tun0 -a "$(lab_addr "$i")" \
		-b "$(lab_url)" -k secret -n "vpn$i" --seed 1796000000 2>>"$LAB_DIR/vpn$i.log"
done
LAB_NO_BUNDLE=1 lab_agent_start 2 -k secret -a "$A2"
lab_wait_agent 2
sleep 1

# Record what reaches node2's legacy topic, for the replay below.
lab_bg ip netns exec "$(lab_bns)" mosquitto_sub -h "$LAB_BROKER_IP" -p "$LAB_PLAIN_PORT" \
	-t "mqttip/$A2" -F '%x' >"$LAB_DIR/rec"
sleep 0.5
lab_exec 1 ping -n -q -c 3 -i 0.3 -W 2 "$A2" >/dev/null || lab_fail "node1 (MQTT_VPN) pings lost"
lab_exec 3 ping -n -q -c 3 -i 0.3 -W 2 "$A2" >/dev/null ||
	lab_fail "node3's pings lost (same nonces as node1's): replay drops $(lab_drops 2 legacy_replay)"
[ "$(lab_drops 2 legacy_replay)" = 0 ] || lab_fail "replay drops: $(lab_drops 2 legacy_replay)"
# the two nodes really sent equal nonces: the first message of each
n1=$(sed -n 1p "$LAB_DIR/rec" | cut -c1-48)
n3=$(sed -n 4p "$LAB_DIR/rec" | cut -c1-48)
[ -n "$n1" ] && [ "$n1" = "$n3" ] || lab_fail "the nodes' nonces differ ($n1 / $n3): nothing tested"
lab_ok "two MQTT_VPN nodes with equal nonces ($n1...) both reach the mqttip node"

# a replay of node1's first message is still refused
printf '%b' "$(sed -n 1p "$LAB_DIR/rec" | sed 's/../\\x&/g')" >"$LAB_DIR/m1"
ip netns exec "$(lab_bns)" mosquitto_pub -h "$LAB_BROKER_IP" -p "$LAB_PLAIN_PORT" \
	-t "mqttip/$A2" -f "$LAB_DIR/m1"
for _ in $(seq 1 30); do
	[ "$(lab_drops 2 legacy_replay)" = 1 ] && break
	sleep 0.1
done
[ "$(lab_drops 2 legacy_replay)" = 1 ] || lab_fail "the replayed message was not refused"
lab_ok "a replayed message is still refused (legacy_replay 1)"

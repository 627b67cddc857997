#!/usr/bin/env bash
# field_legacy.sh: issue 14 case 5, legacy broadcast and multicast both ways between a real
# MQTT_VPN node and `mqttip up -k`, in the namespace lab with a plain broker (LAB_PLAIN: no TLS,
# no plugin, as MQTT_VPN nodes have no certificates). The MQTT_VPN node is tests/integration/
# mqttvpn_emu.c, which behaves as martin-ger/MQTT_VPN's mqtt_vpn.c does (its header says how):
# it subscribes to mqttip/<its address> and mqttip/255.255.255.255 only, and publishes every
# packet on its destination's topic.
#  1. unicast pings both ways (the baseline);
#  2. limited broadcast: a ping to 255.255.255.255 from the MQTT_VPN node is answered by the
#     mqttip node, and the other way;
#  3. multicast: a UDP datagram to group 239.1.2.3 from the MQTT_VPN node reaches a receiver
#     that joined the group on the mqttip node (which follows the interface's memberships), and
#     one to 239.1.2.4 from the mqttip node reaches a receiver on the MQTT_VPN node.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET, MQTTVPN_EMU, MCASTCAT (tests/field.cmake).
set -euo pipefail
LAB_PLAIN=1
. "$(dirname "$0")/lib/lab.sh"
[ -x "${MQTTVPN_EMU:-}" ] && [ -x "${MCASTCAT:-}" ] || lab_fail "MQTTVPN_EMU and MCASTCAT must name the tools"

lab_init 2
lab_broker_start
A1=$(lab_addr 1)
A2=$(lab_addr 2)
lab_bg ip netns exec "$(lab_ns 1)" "$MQTTVPN_EMU" -i tun0 -a "$A1" -b "$(lab_url)" -k secret \
	-n vpn1 2>>"$LAB_DIR/vpn1.log"
LAB_NO_BUNDLE=1 lab_agent_start 2 -k secret -a "$A2"
lab_wait_agent 2
for i in 1 2; do
	lab_exec "$i" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
done

# --- 1. unicast --------------------------------------------------------------------------------
lab_wait_ping 1 2 20 >/dev/null || lab_fail "MQTT_VPN -> mqttip ping: $(cat "$LAB_DIR/vpn1.log")"
lab_wait_ping 2 1 20 >/dev/null || lab_fail "mqttip -> MQTT_VPN ping"
lab_ok "unicast pings both ways"

# --- 2. limited broadcast ----------------------------------------------------------------------
lab_exec 1 ping -n -b -I tun0 -c 2 -W 2 255.255.255.255 >"$LAB_DIR/b1" 2>&1 || true
grep -q "from $A2" "$LAB_DIR/b1" || lab_fail "MQTT_VPN's broadcast ping not answered: $(cat "$LAB_DIR/b1")"
lab_ok "broadcast MQTT_VPN -> mqttip answered"
lab_exec 2 ping -n -b -I mqttip0 -c 2 -W 2 255.255.255.255 >"$LAB_DIR/b2" 2>&1 || true
grep -q "from $A1" "$LAB_DIR/b2" || lab_fail "mqttip's broadcast ping not answered: $(cat "$LAB_DIR/b2")"
lab_ok "broadcast mqttip -> MQTT_VPN answered"

# --- 3. multicast ------------------------------------------------------------------------------
# mcast_both FROM TO FROMADDR TOADDR GROUP PORT: a receiver joined on TO, datagrams from FROM
# every 0.5 s until it got one (at most 10 s)
mcast() {
	local from=$1 to=$2 fa=$3 ta=$4 group=$5 port=$6 rx
	lab_exec "$to" "$MCASTCAT" recv "$ta" "$group" "$port" 12 >"$LAB_DIR/m$port" 2>/dev/null &
	rx=$!
	for _ in $(seq 1 20); do
		sleep 0.5
		kill -0 "$rx" 2>/dev/null || break
		lab_exec "$from" "$MCASTCAT" send "$fa" "$group" "$port" "hello-$port" || true
	done
	wait "$rx" || true
	grep -q "hello-$port" "$LAB_DIR/m$port"
}
mcast 1 2 "$A1" "$A2" 239.1.2.3 5000 || lab_fail "multicast MQTT_VPN -> mqttip not received"
lab_ok "multicast 239.1.2.3 MQTT_VPN -> mqttip received"
mcast 2 1 "$A2" "$A1" 239.1.2.4 5001 || lab_fail "multicast mqttip -> MQTT_VPN not received"
lab_ok "multicast 239.1.2.4 mqttip -> MQTT_VPN received"
echo "figure: mqttip node legacy counters: $(lab_json 2 legacy)"

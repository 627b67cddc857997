#!/usr/bin/env bash
# firmware_pair.sh MQTTIP PLUGIN_SO DEVICE: two host-port devices (the firmware app over lwIP)
# talk through a real mosquitto with TLS and the mqttip plugin, with certificates from
# `mqttip pki init/issue`. No namespaces needed: each device's IP stack lives in its process.
#  - d1 pings d2: directory lookup of d2's certificate, handshake, the queued echo requests, and
#    d2's lwIP answers through the tunnel;
#  - d2 pings d1 back over the session d1 started;
#  - both report the peer and no authentication drops in `status`;
#  - legacy mode: two devices with the same MQTT_VPN password ping each other; a third with
#    another password gets nothing through (and counts authentication drops).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
DEVICE=$3
here=$(dirname "$0")
# shellcheck source=lib/broker.sh
. "$here/lib/broker.sh"
# shellcheck source=lib/firmware_device.sh
. "$here/lib/firmware_device.sh"
tb_init

P=$TB_DIR/pki
"$MQTTIP" pki init "$P" >/dev/null
for n in 2 3 4; do
	"$MQTTIP" pki issue "$P" "d$n" --addr "10.0.1.$n/24" >/dev/null
	echo "legacy d$n" >>"$P/broker/policy"
done
port=$(tb_free_port)
conf=$TB_DIR/mosquitto.conf
broker_conf_base "$conf"
broker_conf_tls "$conf" "$port" "$P/broker" ca server
broker_conf_plugin "$conf" "$PLUGIN" "policy_file=$P/broker/policy" legacy=on
broker_start "$conf" "$TB_DIR/mosquitto.log" "$port" || tb_fail "mosquitto did not start"
url=mqtts://127.0.0.1:$port

dev_start d2 "$DEVICE" --bundle "$P/nodes/d2/d2.bundle" --broker "$url"
dev_start d3 "$DEVICE" --bundle "$P/nodes/d3/d3.bundle" --broker "$url"
dev_wait d2 log "broker connected" || tb_fail "d2 did not connect"
dev_wait d3 log "broker connected" || tb_fail "d3 did not connect"
tb_ok "both devices connected over TLS with their bundles"

# the first request waits for the lookup and the handshake; a device queues one packet per peer
# (PROTOCOL.md 8), so a handshake slower than the 1 s ping period leaves 2 of 3 (as in
# firmware_agent.sh); the queue itself is checked in test_node
dev_ping_ok d2 10.0.1.3 3 "[23]" || tb_fail "d2 -> d3 ping"
grep -q "handshake with d3 (10.0.1.3) done as initiator" "$TB_DIR/d2.log" ||
	tb_fail "d2 did not initiate the handshake"
tb_ok "d2 pings d3 (directory lookup, handshake, queued packets)"

dev_ping_ok d3 10.0.1.2 2 2 || tb_fail "d3 -> d2 ping"
tb_ok "d3 pings d2 back over the same session"

dev_cmd d3 "status"
dev_wait d3 out "^peer: d2 10.0.1.2 handshake" 5 || tb_fail "d3 status shows no peer d2"
dev_wait d3 out "^total:" 5 || tb_fail "d3 status has no totals"
! grep -q "drops:" "$TB_DIR/d3.out" || tb_fail "d3 counted drops: $(grep 'drops:' "$TB_DIR/d3.out")"
tb_ok "status names the peer and counts no drops"
dev_stop d2 || tb_fail "d2 did not stop cleanly"
dev_stop d3 || tb_fail "d3 did not stop cleanly"

# Legacy MQTT_VPN mode: the bundle only gives the broker credentials.
pw=correct-horse-battery-staple-0123456789
dev_start l2 "$DEVICE" --bundle "$P/nodes/d2/d2.bundle" --broker "$url" --legacy-psk "$pw" \
	--addr 10.0.1.2/24
dev_start l3 "$DEVICE" --bundle "$P/nodes/d3/d3.bundle" --broker "$url" --legacy-psk "$pw" \
	--addr 10.0.1.3/24
dev_start l4 "$DEVICE" --bundle "$P/nodes/d4/d4.bundle" --broker "$url" --legacy-psk "wrong-$pw" \
	--addr 10.0.1.4/24
for d in l2 l3 l4; do
	dev_wait "$d" log "broker connected" || tb_fail "$d did not connect"
done
dev_ping_ok l2 10.0.1.3 2 2 || tb_fail "legacy l2 -> l3 ping"
dev_ping_ok l3 10.0.1.2 1 1 || tb_fail "legacy l3 -> l2 ping"
tb_ok "legacy mode: two devices with the same password ping each other"
dev_cmd l3 "ping 10.0.1.4 2"
dev_wait l3 out "ping: 2 sent, 0 received" 10 || tb_fail "l4 with another password answered"
dev_cmd l4 "status"
dev_wait l4 out "^  drops: .*legacy_auth [1-9]" 5 || tb_fail "l4 counted no legacy_auth drops"
tb_ok "legacy mode: another password gets nothing through"
for d in l2 l3 l4; do
	dev_stop "$d" || tb_fail "$d did not stop cleanly"
done
broker_stop "$TB_DIR/mosquitto.log" || tb_fail "broker log has sanitizer reports"

#!/usr/bin/env bash
# agent_ping.sh MQTTIP PLUGIN: two agents in two namespaces, mosquitto with the plugin and TLS in a
# third; ping both ways over IPv4 and IPv6, the status socket shows the peer with a handshake and
# counted traffic, a limited-broadcast ping reaches the established peer, and both agents shut
# down cleanly on SIGTERM (interface removed, exit 0).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
lab_broker_start
lab_agent_start a
lab_agent_start b

lab_wait_ping a 10.0.1.2 20 || tb_fail "a cannot ping b over IPv4: $(tail -5 "$TB_DIR/a.log")"
tb_ok "a -> b IPv4"
lab_in b ping -c 3 -i 0.2 -W 2 10.0.1.1 >/dev/null || tb_fail "b cannot ping a over IPv4"
tb_ok "b -> a IPv4"
lab_in a ping -c 3 -i 0.2 -W 2 fd00:1::2 >/dev/null || tb_fail "a cannot ping b over IPv6"
tb_ok "a -> b IPv6"
lab_in b ping -c 3 -i 0.2 -W 2 fd00:1::1 >/dev/null || tb_fail "b cannot ping a over IPv6"
tb_ok "b -> a IPv6"

# A large ICMP packet (fills one transport message nearly to the MTU).
lab_in a ping -c 2 -s 1350 -W 2 10.0.1.2 >/dev/null || tb_fail "1350-byte ping failed"
tb_ok "1350-byte ping"

# Limited broadcast goes to established peers: b answers a ping to 255.255.255.255 sent on the
# tunnel interface.
lab_in b sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
lab_in a ping -b -I mqttip0 -c 2 -W 2 255.255.255.255 >"$TB_DIR/bping" 2>&1 || true
grep -q "from 10.0.1.2" "$TB_DIR/bping" || tb_fail "broadcast ping not answered by b"
tb_ok "broadcast ping answered by the established peer"

json=$(lab_status a --json)
echo "$json" | grep -q '"name":"b","address":"10.0.1.2","session":true' ||
	tb_fail "status of a does not show b with a session: $json"
echo "$json" | grep -Eq '"rx_packets":[1-9]' || tb_fail "status of a counts no packet: $json"
echo "$json" | grep -q '"connected":true' || tb_fail "status: broker not connected: $json"
lab_status a | grep -q "^peer: b" || tb_fail "text status lacks 'peer: b'"
lab_status a | grep -q "latest handshake" || tb_fail "text status lacks the handshake age"
tb_ok "status shows peer, handshake and traffic"

lab_agent_stop a
lab_agent_stop b
lab_sanitizer_clean "$TB_DIR/a.log" "$TB_DIR/b.log" || tb_fail "sanitizer report in agent logs"
tb_ok "clean shutdown"

#!/usr/bin/env bash
# firmware_agent_legacy.sh MQTTIP PLUGIN_SO DEVICE: legacy MQTT_VPN mode between the Linux agent
# (`mqttip up -k PASSWORD -a 10.0.1.1`, broker credentials only) and a host-port device in legacy
# mode (--legacy-psk), through mosquitto with TLS and the plugin (legacy=on, both nodes allowed
# by policy): the agent pings the device, a TCP exchange with the device's shell, the device pings
# the agent back.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
DEVICE=$3
here=$(dirname "$0")
# shellcheck source=lib/firmware_lab.sh
. "$here/lib/firmware_lab.sh"

pw=firmware-legacy-test-0123456789abcdef
fw_lab_init
printf '%s\n' "legacy a" "legacy dev" >>"$PKI/broker/policy"
lab_broker_start legacy=on
n=$PKI/nodes/a
LAB_NO_BUNDLE=1 lab_agent_start a --cert "$n/client.crt" --key "$n/client.key" \
	--cafile "$n/ca.crt" -k "$pw" -a 10.0.1.1
fw_dev_start --legacy-psk "$pw" --addr 10.0.1.3/24

lab_wait_ping a 10.0.1.3 20 || tb_fail "agent cannot ping the device: $(tail -5 "$TB_DIR/a.log")"
lab_in a ping -c 3 -i 0.2 -W 2 10.0.1.3 >/dev/null || tb_fail "agent -> device ping"
tb_ok "legacy: the agent pings the device"

out=$(fw_tcp a 10.0.1.3 23 $'echo legacy-hello\nstatus\nquit\n')
echo "$out" | grep -qx "legacy-hello" || tb_fail "shell echo over TCP: '$out'"
echo "$out" | grep -q "^mode: legacy" || tb_fail "shell status over TCP: '$out'"
tb_ok "legacy: TCP exchange with the device's shell"

dev_ping_ok dev 10.0.1.1 3 3 || tb_fail "device -> agent ping"
tb_ok "legacy: the device pings the agent back"

lab_agent_stop a
dev_stop dev || tb_fail "device did not stop cleanly"
tb_ok "clean shutdown"

# firmware_lab.sh - the agent lab (agent_lab.sh: broker namespace, node namespaces a and b, PKI,
# mosquitto with TLS and the plugin) plus one host-port device "dev" (10.0.1.3, fd00:1::3) whose
# process runs in namespace b (its IP stack is its own lwIP, inside the process; b only gives it
# a route to the broker). Source after setting MQTTIP, PLUGIN and DEVICE. Adds:
#   fw_lab_init                    lab_init, then issues the device's certificates
#   fw_dev_start [device flags]    starts the device (console and log as firmware_device.sh)
#   fw_tcp NODE ADDR PORT TEXT     sends TEXT to ADDR:PORT from NODE's namespace and prints what
#                                  comes back until the peer closes (at most 20 s: it returns
#                                  as soon as the peer closes; the rest is for a loaded machine)
# shellcheck shell=bash
FW_LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=agent_lab.sh
. "$FW_LAB_DIR/agent_lab.sh"
# shellcheck source=firmware_device.sh
. "$FW_LAB_DIR/firmware_device.sh"

fw_lab_init() {
	[ -x "$DEVICE" ] || lab_cannot_run "device $DEVICE not built"
	lab_init
	"$MQTTIP" pki issue "$PKI" dev --addr 10.0.1.3 --addr fd00:1::3 >/dev/null
}

fw_dev_start() {
	dev_start dev ip netns exec "$NS_B" "$DEVICE" --bundle "$PKI/nodes/dev/dev.bundle" \
		--broker "$(lab_broker_url b)" "$@"
	dev_wait dev log "broker connected" 15 || tb_fail "device did not connect to the broker"
}

fw_tcp() {
	local node=$1 addr=$2 port=$3 text=$4
	# shellcheck disable=SC2016
	lab_in "$node" timeout 20 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "%s" "$2" >&3 &&
		cat <&3' "$addr" "$port" "$text" || true
}

#!/usr/bin/env bash
# field_ipv6.sh: issue 14 case 4, IPv4-only and IPv6-only operation, in the namespace lab (every
# node's certificate has an IPv4 and an IPv6 address).
#  1. node1's namespace has IPv6 disabled (net.ipv6.conf.{all,default}.disable_ipv6 = 1):
#     `mqttip up` starts with one warning, the interface gets only its IPv4 address, and pings
#     over IPv4 go through; with an explicit `-6 ADDR` it exits 1 naming the cause and `-6 none`.
#  2. `--mtu 1200` with IPv6: refused up front (exit 2, IPv6's 1280 minimum named); with
#     `-6 none` it runs, and 1100-byte pings go through.
#  3. IPv6 only: `-a none` on node3; node2 <-> node3 pings over IPv6, node3 has no IPv4 address.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET (tests/field.cmake).
set -euo pipefail
. "$(dirname "$0")/lib/lab.sh"

lab_init 3
lab_broker_start
lab_exec 1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

# run_up I FLAGS...: `mqttip up` for node I in the foreground (it must exit); prints the exit
# status, output in $LAB_DIR/upI.out
run_up() {
	local i=$1 rc=0
	shift
	lab_exec "$i" timeout 10 "$MQTTIP" up --bundle "$LAB_DIR/pki/nodes/node$i/node$i.bundle" \
		-b "$(lab_url)" -i mqttipx --status-socket "$LAB_DIR/x$i.sock" "$@" \
		>"$LAB_DIR/up$i.out" 2>&1 || rc=$?
	echo "$rc"
}

# --- 1. a host without IPv6 --------------------------------------------------------------------
rc=$(run_up 1 -6 "$(lab_addr6 1)")
[ "$rc" = 1 ] && grep -q "cannot give the interface IPv6 address fd77::1: IPv6 is disabled" \
	"$LAB_DIR/up1.out" && grep -q -- "-6 none" "$LAB_DIR/up1.out" ||
	lab_fail "explicit -6 on a host without IPv6: exit $rc: $(cat "$LAB_DIR/up1.out")"
lab_ok "explicit -6 on a host without IPv6: exit 1, $(tail -1 "$LAB_DIR/up1.out")"

lab_agent_start 1
lab_agent_start 2
lab_wait_agent 1
lab_wait_agent 2
lab_wait_ping 1 2 20 >/dev/null || lab_fail "no IPv4 ping from the host without IPv6"
lab_wait_ping 2 1 20 >/dev/null || lab_fail "no IPv4 ping to the host without IPv6"
n=$(grep -c "IPv6 is disabled on this host" "$LAB_DIR/node1.log" || true)
[ "$n" = 1 ] || lab_fail "expected one warning, got $n: $(cat "$LAB_DIR/node1.log")"
! lab_exec 1 ip -6 addr show dev mqttip0 2>/dev/null | grep -q inet6 ||
	lab_fail "the interface has an IPv6 address"
lab_ok "host without IPv6: one warning, IPv4 only, pings both ways"
lab_agent_stop 2

# --- 2. an MTU below IPv6's minimum --------------------------------------------------------------
rc=$(run_up 2 --mtu 1200)
[ "$rc" = 2 ] && grep -q "mtu 1200 is below IPv6's minimum of 1280 bytes" "$LAB_DIR/up2.out" ||
	lab_fail "--mtu 1200 with IPv6: exit $rc: $(cat "$LAB_DIR/up2.out")"
! lab_exec 2 ip link show mqttipx >/dev/null 2>&1 || lab_fail "an interface was left behind"
lab_ok "--mtu 1200 with IPv6 refused up front: $(tail -1 "$LAB_DIR/up2.out")"
lab_agent_start 2 --mtu 1200 -6 none
lab_wait_agent 2
lab_wait_ping 2 1 20 >/dev/null || lab_fail "no ping with --mtu 1200 -6 none"
lab_exec 2 ping -n -q -c 2 -W 2 -s 1100 "$(lab_addr 1)" >/dev/null ||
	lab_fail "1100-byte ping lost with mtu 1200"
lab_ok "--mtu 1200 -6 none runs: 1100-byte pings go through"
lab_agent_stop 2

# --- 3. IPv6 only ------------------------------------------------------------------------------
lab_agent_start 2
lab_agent_start 3 -a none
lab_wait_agent 2
lab_wait_agent 3
! lab_exec 3 ip -4 addr show dev mqttip0 | grep -q inet || lab_fail "node3 has an IPv4 address"
ok=""
for _ in $(seq 1 20); do
	if lab_exec 3 ping -n -q -c 1 -W 1 "$(lab_addr6 2)" >/dev/null 2>&1; then
		ok=1
		break
	fi
done
[ -n "$ok" ] || lab_fail "no IPv6 ping from the IPv6-only node3"
lab_exec 2 ping -n -q -c 2 -W 2 "$(lab_addr6 3)" >/dev/null || lab_fail "no IPv6 ping to node3"
lab_ok "IPv6 only (-a none): pings over IPv6 both ways, no IPv4 address"

#!/usr/bin/env bash
# attack_rollback.sh: the broker replays what the nodes have moved past (PROTOCOL.md 4.8.4, 4.9):
#  - node 2's certificate from before its renewal (`mqttip pki renew`: same key, higher serial),
#    published retained on its directory topic: nodes 1 and 3 refuse it (cert_serial) and keep
#    talking to node 2 under the renewed certificate;
#  - the VPN revocation list from before node 3 was revoked, published retained on
#    <p>/revocation: nodes 1 and 2 refuse it (revocation) and node 3 stays refused.
set -euo pipefail
. "$(dirname "$0")/common.sh"

lab_init 3
lab_broker_start
spy_start
agents_up 3
lab_wait_ping 1 2 20 >/dev/null || lab_fail "no ping 1 -> 2"
lab_wait_ping 3 1 20 >/dev/null || lab_fail "no ping 3 -> 1"
f="$LAB_DIR/old"
mkdir -p "$f"
cert2="mqttip/cert/$(lab_taddr 2)"
mitm extract -t "$cert2" "$SPY_REC" "$f/cert2"
cp "$LAB_DIR/pki/revocation.bin" "$f/list"

# --- an older certificate of a renewed node ---
"$MQTTIP" pki renew "$LAB_DIR/pki" node2 >/dev/null
kill -HUP "$(lab_agent_pid 2)"
for i in 1 3; do
	for _ in $(seq 1 50); do
		grep -q "certificate of node2 updated" "$LAB_DIR/node$i.log" && break
		sleep 0.2
	done
	grep -q "certificate of node2 updated" "$LAB_DIR/node$i.log" ||
		lab_fail "node $i never took node 2's renewed certificate"
done
c1=$(lab_drops 1 cert_serial)
c3=$(lab_drops 3 cert_serial)
mitm publish -r "$cert2" "$f/cert2"
drops_wait 1 cert_serial - $((c1 + 1)) >/dev/null || lab_fail "node 1 did not refuse the older certificate"
drops_wait 3 cert_serial - $((c3 + 1)) >/dev/null || lab_fail "node 3 did not refuse the older certificate"
lab_ping 1 2 2 3 || lab_fail "node 1 lost node 2 after the replay"
lab_ok "node 2's certificate from before its renewal: refused by nodes 1 and 3 (cert_serial), 1 -> 2 works"

# --- an older revocation list ---
"$MQTTIP" pki revoke "$LAB_DIR/pki" node3 >/dev/null
kill -HUP "$(lab_agent_pid 1)"
for _ in $(seq 1 50); do
	lab_ping 3 2 1 1 || break
	sleep 0.2
done
lab_ping 3 2 1 1 && lab_fail "node 2 never learnt the new list"
r1=$(lab_drops 1 revocation)
r2=$(lab_drops 2 revocation)
mitm publish -r mqttip/revocation "$f/list"
drops_wait 1 revocation - $((r1 + 1)) >/dev/null || lab_fail "node 1 did not refuse the older list"
drops_wait 2 revocation - $((r2 + 1)) >/dev/null || lab_fail "node 2 did not refuse the older list"
for i in 1 2; do
	lab_ping 3 "$i" 2 2 && lab_fail "node $i accepts the revoked node 3 again"
done
lab_ping 1 2 2 3 || lab_fail "node 1 lost node 2"
lab_ok "the revocation list from before node 3's revocation: refused by nodes 1 and 2 (revocation), node 3 stays refused"
for i in 1 2; do lab_agent_alive "$i" || lab_fail "node $i died"; done

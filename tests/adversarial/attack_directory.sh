#!/usr/bin/env bash
# attack_directory.sh: the broker serves forged directory entries (retained <p>/cert/<addr>) for
# node 3 while node 1 talks to it: a certificate from another network CA (made with `mqttip pki`),
# an expired and a not-yet-valid one (genuinely signed by the network CA: old or stolen
# entries), a tampered one (one byte of the validity edited), one for another address, and
# node 2's valid certificate republished under node 3's topic. Each is refused and counted
# (drops.cert) by every node that reads it, node 1's session with node 3 is untouched, and
# node 3 stays reachable, also for a node that starts after the forgeries.
set -euo pipefail
. "$(dirname "$0")/common.sh"
# shellcheck source=../tools/flip.sh
. "$(dirname "$0")/../tools/flip.sh"

lab_init 3
lab_broker_start
spy_start
agents_up 3
lab_wait_ping 1 3 20 >/dev/null || lab_fail "no ping 1 -> 3"
f="$LAB_DIR/forged"
mkdir -p "$f"
now=$(date +%s)
addr3=$(lab_addr 3)
cert3="mqttip/cert/$(lab_taddr 3)"

# Another PKI with the same networks and a node of the same name and address.
"$MQTTIP" pki init "$LAB_DIR/other" --net 10.77.0.0/16 --net fd77::/64 >/dev/null
"$MQTTIP" pki issue "$LAB_DIR/other" node3 --addr "$addr3" >/dev/null
"$ROGUENODE" block "$LAB_DIR/other/nodes/node3/node.cert" "MQTTIP NODE CERTIFICATE" "$f/wrong-ca"
cakey="$LAB_DIR/pki/network-ca.key"
"$ROGUENODE" forge "$cakey" node3 "$addr3" $((now - 7200)) $((now - 3600)) "$f/expired"
"$ROGUENODE" forge "$cakey" node3 "$addr3" $((now + 3600)) $((now + 7200)) "$f/not-yet-valid"
"$ROGUENODE" forge "$cakey" node9 10.77.0.9 $((now - 60)) $((now + 3600)) "$f/other-address"
# The genuine entries, as the spy saw them.
mitm extract -t "$cert3" "$SPY_REC" "$f/genuine3"
mitm extract -t "mqttip/cert/$(lab_taddr 2)" "$SPY_REC" "$f/genuine2"
# Tampered: the last byte of not_after in node 3's genuine certificate (PROTOCOL.md 4.1: the
# layout ends with not_after(8) serial(8) ca_key_id(8) signature(64)): a forger that changes
# the validity breaks the signature.
cp "$f/genuine3" "$f/edited"
size=$(stat -c %s "$f/edited")
flip_byte "$f/edited" $((size - 64 - 8 - 8 - 1))
cmp -s "$f/edited" "$f/genuine3" && lab_fail "edit did not change the certificate"

forge() {
	local what=$1 file=$2 topic=$3 i before=() v
	for i in 1 2; do before[$i]=$(lab_drops "$i" cert); done
	mitm publish -r "$topic" "$file"
	for i in 1 2; do
		v=$(drops_wait "$i" cert - $((before[i] + 1))) ||
			lab_fail "$what: node $i did not refuse it (cert $v)"
	done
	lab_ping 1 3 2 3 || lab_fail "$what: node 1 lost node 3"
	lab_ok "$what: refused by nodes 1 and 2 (drops.cert), 1 -> 3 still works"
}

forge "certificate from another network CA" "$f/wrong-ca" "$cert3"
forge "expired certificate (CA-signed)" "$f/expired" "$cert3"
forge "not-yet-valid certificate (CA-signed)" "$f/not-yet-valid" "$cert3"
forge "edited validity byte" "$f/edited" "$cert3"
forge "valid certificate for another address" "$f/other-address" "$cert3"
forge "node 2's valid certificate under node 3's topic" "$f/genuine2" "$cert3"
head -c 7 /dev/urandom >"$f/junk"
forge "7 random bytes" "$f/junk" "$cert3"

# The forged entry is now the retained one: a node that starts now reads it and refuses it, and
# still reaches node 3 (node 3's handshake carries its certificate; and node 3 republishes its
# entry when it reconnects). Restore the genuine entry as the broker would.
lab_agent_stop 1
lab_agent_start 1
lab_wait_agent 1
drops_wait 1 cert - 1 >/dev/null || lab_fail "restarted node 1 did not refuse the retained forgery"
lab_ok "a node started after the forgery refuses the retained forged entry"
if t=$(lab_wait_ping 3 1 15); then
	lab_ok "node 3 reaches the restarted node 1 despite the forged entry (${t} s)"
fi
mitm publish -r "$cert3" "$f/genuine3"
t=$(lab_wait_ping 1 3 20) || lab_fail "1 -> 3 does not work with the genuine entry back"
lab_ok "genuine entry back: 1 -> 3 (${t} s)"
for i in 1 2 3; do lab_agent_alive "$i" || lab_fail "node $i died"; done

#!/usr/bin/env bash
# field_tls.sh: issue 14 case 3, TLS refused, in the namespace lab (mosquitto 2.0.11, plugin,
# TLS with crlfile). Three agents that can never connect:
#  1. node1 runs a bundle from another PKI: its broker CA did not sign the broker's certificate;
#  2. node2 is revoked (`mqttip pki revoke`: the broker's CRL lists its client certificate);
#  3. node3 is fine, but the broker's server certificate names 192.0.2.99, not 192.0.2.1.
# Each retries with backoff (3 attempts or more), logs exactly one line with the cause in words,
# its status shows the last attempt's cause (one of the lines logged) as broker.last_error with
# its time, and counts failed attempts, not losses.
# Environment: MQTTIP, MQTTIP_PLUGIN, JSONGET (tests/field.cmake).
set -euo pipefail
. "$(dirname "$0")/lib/lab.sh"

lab_init 3
P="$LAB_DIR/pki"

# expect_cause I TEXT: node I failed 3 times or more, logged TEXT once, shows it in status.
expect_cause() {
	local i=$1 text=$2 n last
	# a revoked node's attempt may end in a reset that swallowed the broker's alert (TLS 1.3:
	# the CONNECT is on its way when the broker refuses the certificate), so wait for the
	# cause as well: backoff 1, 2, 4, 8 s gives 5 attempts in 15 s
	for _ in $(seq 1 300); do
		[ "$(lab_json "$i" broker.failures)" -ge 3 ] && grep -qF "$text" "$LAB_DIR/node$i.log" &&
			break
		sleep 0.1
	done
	[ "$(lab_json "$i" broker.failures)" -ge 3 ] ||
		lab_fail "node$i: fewer than 3 attempts: $(lab_status "$i")"
	n=$(grep -cF "$text" "$LAB_DIR/node$i.log" || true)
	[ "$n" = 1 ] || lab_fail "node$i logged '$text' $n times: $(cat "$LAB_DIR/node$i.log")"
	# (the status shows the last attempt's cause, which is one of those logged)
	last=$(lab_json "$i" broker.last_error)
	grep -qF "warning: broker $(lab_url): $last" "$LAB_DIR/node$i.log" ||
		lab_fail "node$i: status last_error '$last' is not a logged cause"
	[[ $last == *"$text"* ]] || [ "$i" = 2 ] ||
		lab_fail "node$i: status last_error is not the cause: $(lab_status "$i")"
	[ "$(lab_json "$i" broker.losses)" = 0 ] && [ "$(lab_json "$i" broker.connects)" = 0 ] ||
		lab_fail "node$i: losses/connects counted for attempts that never connected"
	[ "$(lab_json "$i" broker.last_error_age_s)" != null ] || lab_fail "node$i: no error time"
	lab_ok "node$i: $(lab_json "$i" broker.failures) attempts, one line: $text"
}

# 1. a bundle from another PKI
"$MQTTIP" pki init "$LAB_DIR/other" --net 10.77.0.0/16 --server-ip "$LAB_BROKER_IP" >/dev/null
"$MQTTIP" pki issue "$LAB_DIR/other" node1 --addr "$(lab_addr 1)" >/dev/null
# 2. node2 revoked
"$MQTTIP" pki revoke "$P" node2 >/dev/null
lab_broker_start
lab_agent_start 1 --bundle "$LAB_DIR/other/nodes/node1/node1.bundle"
lab_agent_start 2
lab_wait_agent 1
lab_wait_agent 2
expect_cause 1 "TLS: the broker's certificate is not signed by this node's broker CA"
expect_cause 2 "TLS: the broker refused this node's certificate as revoked"
lab_agent_stop 1
lab_agent_stop 2

# 3. a server certificate without the broker's address
lab_broker_kill
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=broker \
	-keyout "$P/broker/server.key" -out "$LAB_DIR/bad.csr" 2>/dev/null
printf '%s\n' basicConstraints=CA:FALSE extendedKeyUsage=serverAuth \
	subjectAltName=IP:192.0.2.99 >"$LAB_DIR/bad.ext"
openssl x509 -req -in "$LAB_DIR/bad.csr" -CA "$P/broker/ca.crt" -CAkey "$P/broker-ca.key" \
	-set_serial "0x$(openssl rand -hex 8)" -days 2 -extfile "$LAB_DIR/bad.ext" \
	-out "$P/broker/server.crt" 2>/dev/null
chmod a+r "$P/broker/server.key" "$P/broker/server.crt"
lab_broker_start
lab_agent_start 3
lab_wait_agent 3
expect_cause 3 "TLS: the broker's certificate does not contain IP $LAB_BROKER_IP (IP address mismatch)"

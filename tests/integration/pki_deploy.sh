#!/usr/bin/env bash
# pki_deploy.sh MQTTIP PLUGIN_SO [REPO]: the deployment that README.md and docs/PKI.md describe,
# run on a real mosquitto started from the example conf/mosquitto.conf itself:
#  - every listener line README.md and docs/PKI.md show is in conf/mosquitto.conf, active
#    (crlfile included: a copied example must apply the CRL);
#  - the example config (its paths pointed at a test directory) with the files installed as
#    docs/PKI.md says accepts the issued nodes;
#  - `mqttip pki revoke --broker-dir` + SIGHUP: the revoked node is refused at the TLS handshake
#    (the broker's own copy of the CRL was updated), the others still connect;
#  - CRL skew: a revocation signed on a clock 2 minutes ahead of the broker's (faketime), SIGHUP:
#    every other client still connects (the CRL is dated back like the certificates).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
REPO=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=lib/broker.sh
. "$(dirname "$0")/lib/broker.sh"
CONF=$REPO/conf/mosquitto.conf
# at_time OFFSET CMD...: CMD on a clock moved by OFFSET (libfaketime, preloaded: in a sanitizer
# build ASan must accept not being first in the library list)
at_time() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime "$@"
}
DIRECTIVES='^(per_listener_settings|allow_anonymous|listener|cafile|certfile|keyfile|crlfile|require_certificate|plugin|plugin_opt_policy_file) '

# --- the documents agree with the example ---
for doc in README.md docs/PKI.md; do
	awk '/^```/ { inside = !inside; next } inside' "$REPO/$doc" | grep -E "$DIRECTIVES" |
		sort -u >"/tmp/pki-deploy-$$.lines" || true
	[ -s "/tmp/pki-deploy-$$.lines" ] || tb_fail "$doc shows no mosquitto listener lines"
	while IFS= read -r line; do
		grep -qxF "$line" "$CONF" || tb_fail "$doc shows '$line', conf/mosquitto.conf does not have it active"
	done <"/tmp/pki-deploy-$$.lines"
	rm -f "/tmp/pki-deploy-$$.lines"
done
grep -q '^crlfile /etc/mosquitto/mqttip/crl.pem$' "$CONF" || tb_fail "conf/mosquitto.conf: crlfile is not active"
tb_ok "README.md, docs/PKI.md and conf/mosquitto.conf show the same listener, crlfile active"

command -v faketime >/dev/null || { echo "SKIP: faketime not installed (scripts/install-deps.sh)"; exit 77; }
tb_init
P=$TB_DIR/pki
E=$TB_DIR/etc/mosquitto/mqttip
"$MQTTIP" pki init "$P" >/dev/null
for n in 1 2 3; do
	"$MQTTIP" pki issue "$P" "n$n" --addr "10.0.1.$((n + 1))/24" >/dev/null
done
# docs/PKI.md "Deployment"
install -d -m 0755 "$TB_DIR/etc" "$TB_DIR/etc/mosquitto" "$E"
install -m 0644 "$P/broker/ca.crt" "$P/broker/server.crt" "$P/broker/crl.pem" "$P/broker/policy" "$E/"
if id mosquitto >/dev/null 2>&1; then
	install -m 0640 -g mosquitto "$P/broker/server.key" "$E/"
else
	install -m 0600 "$P/broker/server.key" "$E/"
fi

port=$(tb_free_port)
conf=$TB_DIR/mosquitto.conf
log=$TB_DIR/mosquitto.log
{
	# what every test broker adds (broker.sh): the build tree is not readable by user mosquitto
	[ "$(id -u)" != 0 ] || echo "user root"
	echo "log_dest stderr"
	echo "log_type all"
	echo "connection_messages true"
	echo "persistence false"
	sed -e "s|/etc/mosquitto/mqttip|$E|g" -e "s|/usr/lib/mosquitto/mqttip_plugin.so|$PLUGIN|" \
		-e "s|^listener 8883\$|listener $port 127.0.0.1|" "$CONF"
} >"$conf"
grep -q "^crlfile $E/crl.pem\$" "$conf" || tb_fail "the example's crlfile did not survive: $(grep crl "$conf")"
broker_start "$conf" "$log" "$port" || tb_fail "mosquitto does not start from the example config"

# connects NODE: true when NODE's client certificate gets through TLS and CONNECT (a QoS 1
# publish completes: MQTT 3.1.1 acknowledges even a publish the ACL drops)
connects() {
	# shellcheck disable=SC2046
	mosquitto_pub $(tls_opts "$P/nodes/$1" ca client "$port") -i "$1" -q 1 -t t -m x 2>/dev/null
}
reload() {
	local before
	before=$(grep -c "policy reloaded" "$log" || true)
	kill -HUP "$BROKER_PID"
	for _ in $(seq 1 50); do
		[ "$(grep -c "policy reloaded" "$log" || true)" -gt "$before" ] && return 0
		sleep 0.1
	done
	tb_fail "mosquitto did not reload: $(tail -5 "$log")"
}
for n in n1 n2 n3; do
	connects "$n" || tb_fail "$n refused by the example broker: $(tail -5 "$log")"
done
tb_ok "the example config with the files installed as docs/PKI.md says accepts n1, n2, n3"

"$MQTTIP" pki revoke "$P" n1 --broker-dir "$E" >"$TB_DIR/out" 2>&1 ||
	tb_fail "revoke --broker-dir failed: $(cat "$TB_DIR/out")"
reload
verify_failed=$(grep -c "certificate verify failed" "$log" || true)
connects n1 && tb_fail "revoked n1 still connects after revoke --broker-dir and SIGHUP"
# mosquitto writes the log line after it sent the alert that ended the client: wait for it
tb_wait_log 10 "certificate verify failed" "$log" $((verify_failed + 1)) ||
	tb_fail "n1 was not refused at the TLS handshake (is the CRL applied?)"
for n in n2 n3; do
	connects "$n" || tb_fail "$n refused after n1's revocation"
done
tb_ok "revoke --broker-dir, SIGHUP: n1 refused by TLS (the broker's CRL), n2 and n3 connect"

at_time '+2 minutes' "$MQTTIP" pki revoke "$P" n2 --broker-dir "$E" >"$TB_DIR/out" 2>&1 ||
	tb_fail "revoke on a clock 2 minutes ahead failed: $(cat "$TB_DIR/out")"
reload
sleep 1
connects n3 || tb_fail "n3 refused after a revocation signed 2 minutes ahead: $(grep -i "crl\|verify" "$log" | tail -3)"
connects n2 && tb_fail "revoked n2 still connects"
tb_ok "revocation signed on a clock 2 minutes ahead, SIGHUP: n3 still connects, n2 is refused"
broker_stop "$log" || tb_fail "sanitizer report in the broker log"
echo "pki deploy checks passed"

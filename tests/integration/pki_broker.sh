#!/usr/bin/env bash
# pki_broker.sh MQTTIP PLUGIN_SO: the certificates of `mqttip pki init/issue` on a real mosquitto
# with TLS (require_certificate) and the mqttip plugin:
#  - the issued node is accepted, and the plugin sees its addresses: it may publish its retained
#    directory entry mqttip/cert/<own addr> (IPv4 and IPv6), not mqttip/cert/<other addr>;
#  - a node certificate of another `pki init` is refused by TLS;
#  - after `mqttip pki revoke` and SIGHUP the node is refused: by TLS on a listener with the CRL,
#    by the plugin's deny rule on a listener without it;
#  - the deployment of docs/PKI.md (mosquitto dropping to user mosquitto, server.key group
#    readable, no "user root") loads the files and applies the CRL on SIGHUP.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
# shellcheck source=lib/broker.sh
. "$(dirname "$0")/lib/broker.sh"
tb_init

P=$TB_DIR/pki
"$MQTTIP" pki init "$P" >/dev/null
ula=$(awk '$1 == "net" && $2 ~ /:/ { print $2 }' "$P/network.txt")
n1_v6="${ula%::/64}::2"
"$MQTTIP" pki issue "$P" n1 --addr 10.0.1.2/24 --addr "$n1_v6/64" >/dev/null
"$MQTTIP" pki issue "$P" n2 --addr 10.0.1.3/24 >/dev/null
"$MQTTIP" pki init "$TB_DIR/other" >/dev/null
"$MQTTIP" pki issue "$TB_DIR/other" n1 --addr 10.0.1.2/24 >/dev/null

port_crl=$(tb_free_port)
port_nocrl=$(tb_free_port)
[ "$port_crl" != "$port_nocrl" ] || port_nocrl=$(tb_free_port)
conf=$TB_DIR/mosquitto.conf
log=$TB_DIR/mosquitto.log
broker_conf_base "$conf"
broker_conf_tls "$conf" "$port_crl" "$P/broker" ca server "$P/broker/crl.pem"
broker_conf_tls "$conf" "$port_nocrl" "$P/broker" ca server
broker_conf_plugin "$conf" "$PLUGIN" "policy_file=$P/broker/policy"
broker_start "$conf" "$log" "$port_crl" || tb_fail "mosquitto did not start"
node() { tls_opts "$P/nodes/$1" ca client "$2"; }

# The node's directory entry is its VPN certificate (raw bytes).
sed -n '/^-----BEGIN MQTTIP NODE CERTIFICATE-----$/,/^-----END/p' "$P/nodes/n1/node.cert" |
	sed '1d;$d' | base64 -d >"$TB_DIR/n1.raw"
cert_len=$(stat -c %s "$TB_DIR/n1.raw")
# shellcheck disable=SC2046
for addr in 10-0-1-2 "$n1_v6"; do
	mosquitto_pub $(node n1 "$port_crl") -i n1 -V mqttv5 -q 1 -r -t "mqttip/cert/$addr" \
		-f "$TB_DIR/n1.raw" 2>"$TB_DIR/pub.err" || tb_fail "n1 cannot publish its entry $addr"
	! grep -q "failed" "$TB_DIR/pub.err" || tb_fail "n1 publishing $addr: $(cat "$TB_DIR/pub.err")"
done
# shellcheck disable=SC2046
mosquitto_pub $(node n1 "$port_crl") -i n1 -V mqttv5 -q 1 -r -t mqttip/cert/10-0-1-3 \
	-f "$TB_DIR/n1.raw" 2>"$TB_DIR/pub.err" || true
grep -q "Not authorized" "$TB_DIR/pub.err" ||
	tb_fail "n1 publishing n2's entry was not refused: $(cat "$TB_DIR/pub.err")"
tb_ok "n1 publishes its own entries (IPv4, IPv6) and is refused another's"

# shellcheck disable=SC2046
mosquitto_sub $(node n2 "$port_crl") -i n2 -t mqttip/cert/10-0-1-2 -t "mqttip/cert/$n1_v6" \
	-t mqttip/cert/10-0-1-3 -F '%t %l' -C 3 -W 2 >"$TB_DIR/sub.out" 2>/dev/null || true
sort "$TB_DIR/sub.out" >"$TB_DIR/got"
printf '%s\n' "mqttip/cert/10-0-1-2 $cert_len" "mqttip/cert/$n1_v6 $cert_len" | sort >"$TB_DIR/want"
diff -u "$TB_DIR/want" "$TB_DIR/got" || tb_fail "n2 read other directory entries than n1's own"
tb_ok "n2 reads exactly n1's two entries"

# shellcheck disable=SC2046
if mosquitto_pub $(tls_opts "$TB_DIR/other/nodes/n1" ca client "$port_crl") -i foreign -q 1 \
	-t mqttip/cert/10-0-1-2 -m x 2>/dev/null; then
	tb_fail "a node certificate of another CA was accepted"
fi
tb_wait_log 10 "unknown ca|certificate verify failed" "$log" || tb_fail "no TLS refusal in the log"
tb_ok "node certificate of another CA refused by TLS"

"$MQTTIP" pki revoke "$P" n2 >/dev/null
kill -HUP "$BROKER_PID"
for _ in $(seq 1 50); do
	grep -q "policy reloaded" "$log" && break
	sleep 0.1
done
grep -q "Reloading config" "$log" || tb_fail "mosquitto did not reload"
before=$(grep -c "certificate verify failed" "$log" || true)
for port in "$port_crl" "$port_nocrl"; do
	# shellcheck disable=SC2046
	if mosquitto_pub $(node n2 "$port") -i n2 -q 1 -t mqttip/10-0-1-2/10-0-1-3 -m x \
		2>"$TB_DIR/rev.err"; then
		tb_fail "revoked n2 accepted on port $port"
	fi
	# shellcheck disable=SC2046
	mosquitto_pub $(node n1 "$port") -i n1 -q 1 -t mqttip/10-0-1-3/10-0-1-2 -m x ||
		tb_fail "n1 refused on port $port after n2's revocation"
done
tb_wait_log 10 "certificate verify failed" "$log" $((before + 1)) ||
	tb_fail "the CRL did not refuse n2 at the TLS handshake"
grep -qi "not authori" "$TB_DIR/rev.err" ||
	tb_fail "the plugin did not refuse n2 without CRL: $(cat "$TB_DIR/rev.err")"
tb_ok "revoked n2 refused after SIGHUP (CRL on one listener, policy deny on the other)"
broker_stop "$log" || tb_fail "sanitizer report in the broker log"

# Deployment as docs/PKI.md says: broker files owned by root, server.key group mosquitto 0640.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
	E=$TB_DIR/etc
	install -d -m 0755 "$E"
	install -m 0644 "$P/broker/ca.crt" "$P/broker/server.crt" "$P/broker/crl.pem" "$E/"
	install -m 0640 -g mosquitto "$P/broker/server.key" "$E/"
	port=$(tb_free_port)
	conf2=$TB_DIR/prod.conf
	log2=$TB_DIR/prod.log
	broker_conf_base "$conf2"
	sed -i '/^user root$/d' "$conf2"
	broker_conf_tls "$conf2" "$port" "$E" ca server "$E/crl.pem"
	broker_start "$conf2" "$log2" "$port" || tb_fail "mosquitto as user mosquitto did not start"
	# shellcheck disable=SC2046
	mosquitto_pub $(node n1 "$port") -i n1 -q 1 -t t -m x || tb_fail "n1 refused by prod broker"
	"$MQTTIP" pki revoke "$P" n1 >/dev/null
	install -m 0644 "$P/broker/crl.pem" "$E/"
	reloads=$(grep -c "Reloading config" "$log2" || true)
	kill -HUP "$BROKER_PID"
	# mosquitto is single-threaded: a connection it accepts after this line sees the new CRL
	tb_wait_log 10 "Reloading config" "$log2" $((reloads + 1)) || tb_fail "mosquitto did not reload"
	# shellcheck disable=SC2046
	if mosquitto_pub $(node n1 "$port") -i n1 -q 1 -t t -m x 2>/dev/null; then
		tb_fail "revoked n1 accepted by the broker running as user mosquitto"
	fi
	! grep -q "Unable to load" "$log2" || tb_fail "prod broker: $(grep "Unable" "$log2")"
	broker_stop "$log2" || tb_fail "sanitizer report in the broker log"
	tb_ok "deployment with user mosquitto and a group-readable server.key"
fi
echo "pki broker checks passed"

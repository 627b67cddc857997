# plugin_env.sh - common set-up for the plugin's integration tests (sources broker.sh): a PKI,
# a policy file, one broker with a TLS listener ($TLS) and a plain one ($PLAIN), and helpers
# to act as a node with mosquitto_sub/mosquitto_pub.
# Nodes: node-a 10.9.0.1 + fd00::1 (legacy), node-b 10.9.0.2 + fd00::2, node-c 10.9.0.3 (policy deny),
# ops 10.9.0.100 (admin), gw1 10.9.0.5 (route 192.168.5.0/24), nosan (no SAN), node-r 10.9.0.9
# (revoked by the CRL), evil 10.9.0.2 (issued by another CA).
source "$(dirname "${BASH_SOURCE[0]}")/broker.sh"

: "${MQTTIP_PLUGIN:?set MQTTIP_PLUGIN to mqttip_plugin.so}"

plugin_env_pki() {
	D=$TB_DIR
	pki_ca "$D" ca
	pki_ca "$D" otherca
	pki_server "$D" ca server
	pki_client "$D" ca node-a 10.9.0.1 fd00::1
	pki_client "$D" ca node-b 10.9.0.2 fd00::2
	pki_client "$D" ca node-c 10.9.0.3
	pki_client "$D" ca ops 10.9.0.100
	pki_client "$D" ca gw1 10.9.0.5
	pki_client "$D" ca nosan
	pki_client "$D" ca node-r 10.9.0.9
	pki_client "$D" otherca evil 10.9.0.2
	pki_crl "$D" ca "$D/node-r.crt"
	printf '%s\n' "# test policy" "admin ops" "deny node-c" "legacy node-a" \
		"route gw1 192.168.5.0/24" >"$D/policy"
}

# plugin_env_start [plugin options...]: writes the config and starts the broker.
plugin_env_start() {
	TLS=$(tb_free_port)
	PLAIN=$(tb_free_port)
	CONF=$D/mosquitto.conf
	LOG=$D/broker.log
	broker_conf_base "$CONF"
	# listen waits for its subscription in the log
	echo "log_type subscribe" >>"$CONF"
	broker_conf_tls "$CONF" "$TLS" "$D" ca server "$D/ca.crl"
	broker_conf_plain "$CONF" "$PLAIN"
	broker_conf_plugin "$CONF" "$MQTTIP_PLUGIN" "$@"
	broker_start "$CONF" "$LOG" "$TLS" || tb_fail "broker did not start"
	ss -Htln "sport = :$PLAIN" | grep -q . || sleep 0.3
}

# as NAME: mosquitto client options for node NAME ("-" = plain listener, no certificate).
as() {
	if [ "$1" = - ]; then
		echo "-h 127.0.0.1 -p $PLAIN"
	elif [ "$1" = evil ]; then
		echo "-h 127.0.0.1 -p $TLS --cafile $D/ca.crt --cert $D/evil.crt --key $D/evil.key"
	else
		tls_opts "$D" ca "$1" "$TLS"
	fi
}

# suback NAME FILTER: prints the granted QoS (0) or 128 for a refused filter.
suback() {
	# shellcheck disable=SC2046
	mosquitto_sub $(as "$1") -d -E -t "$2" 2>&1 | sed -n 's/^Subscribed (mid: [0-9]*): //p'
}

expect_suback() {
	local got
	got=$(suback "$1" "$2")
	[ "$got" = "$3" ] || tb_fail "$1 subscribing to '$2': SUBACK '$got', expected '$3'"
	tb_ok "$1 subscribe '$2' -> $3"
}

# puback NAME TOPIC PAYLOAD [extra mosquitto_pub args]: MQTT v5 QoS 1, prints the reason code.
puback() {
	local who=$1 topic=$2 payload=$3
	shift 3
	# shellcheck disable=SC2046
	mosquitto_pub $(as "$who") -V 5 -q 1 -d -t "$topic" -m "$payload" "$@" 2>&1 |
		sed -n 's/.*received PUBACK (Mid: [0-9]*, RC:\([0-9]*\)).*/\1/p'
}

expect_puback() {
	local got
	got=$(puback "$@")
	# 16 = "no matching subscribers": accepted as well.
	[ "$EXPECT" != 0 ] || [ "$got" != 16 ] || got=0
	[ "$got" = "$EXPECT" ] || tb_fail "$1 publishing '$2': PUBACK '$got', expected '$EXPECT'"
	tb_ok "$1 publish '$2' -> $EXPECT"
}

# listen NAME OUTFILE SECONDS FILTER...: background subscriber printing "topic payload" lines;
# returns once the broker has taken the subscription (its "log_type subscribe" line for the last
# FILTER: mosquitto logs it while it handles the SUBSCRIBE, before any later publish), so that
# a message published next is not lost to a subscriber still connecting. mosquitto logs granted
# filters only: the last FILTER must be one the broker grants, unless it refuses them all (then
# mosquitto_sub exits and there is nothing to wait for).
listen() {
	local who=$1 out=$2 secs=$3 f args=() n0 end
	shift 3
	for f in "$@"; do
		args+=(-t "$f")
	done
	n0=$(awk -v f="$f" '$NF == f' "$LOG" | wc -l)
	# shellcheck disable=SC2046
	mosquitto_sub $(as "$who") -v -W "$secs" "${args[@]}" >"$out" 2>"$out.err" &
	LISTEN_PID=$!
	TB_PIDS+=("$LISTEN_PID")
	end=$((SECONDS + 10))
	until [ "$(awk -v f="$f" '$NF == f' "$LOG" | wc -l)" -gt "$n0" ] || ! kill -0 "$LISTEN_PID" 2>/dev/null; do
		[ "$SECONDS" -lt "$end" ] || tb_fail "$who's subscription to $f not in the broker log: $(cat "$out.err")"
		sleep 0.05
	done
}

# connack NAME: prints mosquitto_pub's outcome of connecting ("ok" or the error line).
connack() {
	# shellcheck disable=SC2046
	if mosquitto_pub $(as "$1") -t outside/probe -m x >"$D/connack.out" 2>&1; then
		echo ok
	else
		head -n 1 "$D/connack.out"
	fi
}

#!/usr/bin/env bash
# pki_cli.sh MQTTIP files|errors: `mqttip pki` from the outside.
#   files:  command line and usage, files and modes of init/issue, the X.509 chains and the
#           bundle checked by the openssl CLI (independent of our code), no private key in `show`.
#   errors: every user error as one line on stderr with a non-zero exit; revocation in CRL and
#           policy; a certificate of another PKI.
set -euo pipefail
MQTTIP=$1
PART=$2
W=$(mktemp -d /tmp/mqttip-pki-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect_error STATUS PATTERN CMD...: CMD exits with STATUS, prints nothing on stdout and exactly
# one line on stderr that matches PATTERN (what went wrong and what to do).
expect_error() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		bad "'$*' exited $rc, want $want: $(cat "$W/err")"
	elif [ -s "$W/out" ] || [ "$(wc -l <"$W/err")" != 1 ]; then
		bad "'$*' must print one line on stderr only; got: $(cat "$W/out" "$W/err")"
	elif ! grep -Eq -- "$pattern" "$W/err"; then
		bad "'$*' said '$(cat "$W/err")', want /$pattern/"
	else
		ok "$(cat "$W/err")"
	fi
}

# expect_usage CMD...: exit 2, usage text on stderr, nothing on stdout.
expect_usage() {
	local rc=0
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	if [ "$rc" != 2 ] || [ -s "$W/out" ] || ! grep -q "Usage:" "$W/err"; then
		bad "'$*' exited $rc, want 2 with usage on stderr"
	else
		ok "usage for '$*'"
	fi
}

mode() { stat -c %a "$1"; }

# setup: a PKI in $D with gw1 (gateway, admin, IPv4 + IPv6) and n2.
setup() {
	D=$W/pki
	"$MQTTIP" pki init "$D" --net 10.0.1.0/24 --server-name broker.example --server-ip 192.0.2.7 \
		>/dev/null || bad "init failed"
	ula=$(awk '$1 == "net" && $2 ~ /:/ { print $2 }' "$D/network.txt")
	"$MQTTIP" pki issue "$D" gw1 --addr 10.0.1.2/24 --addr "${ula%/64}2/64" --route 192.168.5.0/24 \
		--admin >/dev/null || bad "issue gw1 failed"
	"$MQTTIP" pki issue "$D" n2 --addr 10.0.1.3 --days 30 >/dev/null || bad "issue n2 failed"
	N=$D/nodes/gw1
}

part_files() {
	# --- program and command line ---
	expect_usage "$MQTTIP"
	expect_usage "$MQTTIP" no-such-command
	expect_usage "$MQTTIP" pki
	expect_usage "$MQTTIP" pki no-such-subcommand
	expect_usage "$MQTTIP" pki init "$W/x" --no-such-flag
	expect_usage "$MQTTIP" pki issue "$W/x" n1 --addr
	expect_usage "$MQTTIP" pki init
	"$MQTTIP" --help | grep -q "pki" || bad "mqttip --help lists no pki"
	"$MQTTIP" pki --help | grep -q "mqttip pki issue" || bad "pki --help lists no issue"
	"$MQTTIP" pki issue --help | grep -q -- "--route" || bad "pki issue --help lists no --route"

	for f in broker-ca.key network-ca.key broker/server.key; do
		[ "$(mode "$D/$f")" = 600 ] || bad "$f has mode $(mode "$D/$f"), want 600"
	done
	for f in broker/ca.crt broker/server.crt broker/crl.pem broker/policy network-ca.pub \
		network.txt nodes.txt; do
		[ -f "$D/$f" ] || bad "init made no $f"
	done
	case "$ula" in
	fd*::/64 | fd*:*/64) ok "random ULA $ula" ;;
	*) bad "no ULA /64 network in network.txt: '$ula'" ;;
	esac
	openssl verify -purpose sslserver -CAfile "$D/broker/ca.crt" "$D/broker/server.crt" >/dev/null ||
		bad "openssl does not accept the server chain"
	san=$(openssl x509 -in "$D/broker/server.crt" -noout -ext subjectAltName)
	for want in "DNS:localhost" "DNS:broker.example" "IP Address:127.0.0.1" "IP Address:192.0.2.7"; do
		grep -q "$want" <<<"$san" || bad "server SAN lacks $want: $san"
	done
	openssl x509 -in "$D/broker/ca.crt" -noout -text | grep -q "ASN1 OID: prime256v1" ||
		bad "broker CA key is not P-256"
	openssl crl -in "$D/broker/crl.pem" -CAfile "$D/broker/ca.crt" -noout 2>&1 | grep -q "verify OK" ||
		bad "openssl does not accept the CRL's signature"
	ok "init: files, modes, server chain, CRL"

	for f in client.key node.key gw1.bundle; do
		[ "$(mode "$N/$f")" = 600 ] || bad "$f has mode $(mode "$N/$f"), want 600"
	done
	openssl verify -purpose sslclient -CAfile "$N/ca.crt" "$N/client.crt" >/dev/null ||
		bad "openssl does not accept the client chain"
	[ "$(openssl x509 -in "$N/client.crt" -noout -subject)" = "subject=CN = gw1" ] || bad "client CN"
	csan=$(openssl x509 -in "$N/client.crt" -noout -ext subjectAltName)
	grep -q "IP Address:10.0.1.2" <<<"$csan" || bad "client SAN lacks 10.0.1.2: $csan"
	[ "$(grep -o "IP Address" <<<"$csan" | wc -l)" = 2 ] ||
		bad "client SAN must hold exactly the two addresses: $csan"
	openssl x509 -in "$N/client.crt" -noout -ext extendedKeyUsage | grep -q "Client Authentication" ||
		bad "client certificate lacks clientAuth"
	[ "$(openssl pkey -in "$N/client.key" -pubout)" = "$(openssl x509 -in "$N/client.crt" -noout -pubkey)" ] ||
		bad "client.key does not match client.crt"
	# The bundle's X.509 blocks are DER: the openssl CLI must take them as they are.
	block() { sed -n "/^-----BEGIN $2-----\$/,/^-----END $2-----\$/p" "$1" | sed '1d;$d' | base64 -d; }
	block "$N/gw1.bundle" "MQTTIP CLIENT CERTIFICATE" >"$W/b-client.der"
	block "$N/gw1.bundle" "MQTTIP BROKER CA" >"$W/b-ca.der"
	block "$N/gw1.bundle" "MQTTIP CLIENT KEY" >"$W/b-key.der"
	openssl x509 -inform DER -in "$W/b-ca.der" -out "$W/b-ca.pem"
	openssl x509 -inform DER -in "$W/b-client.der" -out "$W/b-client.pem"
	openssl verify -purpose sslclient -CAfile "$W/b-ca.pem" "$W/b-client.pem" >/dev/null ||
		bad "openssl does not accept the bundle's client chain"
	cmp -s "$W/b-client.pem" "$N/client.crt" || bad "bundle client certificate differs from client.crt"
	[ "$(openssl pkey -inform DER -in "$W/b-key.der" -pubout)" = "$(openssl x509 -in "$N/client.crt" -noout -pubkey)" ] ||
		bad "bundle client key does not match the certificate"
	grep -qx "admin gw1" "$D/broker/policy" || bad "no 'admin gw1' in policy"
	grep -qx "route gw1 192.168.5.0/24" "$D/broker/policy" || bad "no route line in policy"
	grep -q "^admin n2" "$D/broker/policy" && bad "n2 became admin"
	"$MQTTIP" pki verify "$D" "$N/gw1.bundle" >/dev/null || bad "verify rejects the fresh bundle"
	"$MQTTIP" pki verify "$D" "$N/node.cert" >/dev/null || bad "verify rejects node.cert"
	ok "issue: modes, client chain, SAN, bundle blocks, policy"

	# Keys are never printed: no line of any key block may appear in `show` output.
	"$MQTTIP" pki show "$N/gw1.bundle" >"$W/show" || bad "show bundle failed"
	for label in "MQTTIP CLIENT KEY" "MQTTIP NODE KEY"; do
		sed -n "/^-----BEGIN $label-----\$/,/^-----END $label-----\$/p" "$N/gw1.bundle" | sed '1d;$d' |
			while read -r line; do
				grep -qF -- "$line" "$W/show" && echo leak
			done | grep -q leak && bad "show printed a line of $label"
	done
	grep -q "private key (MQTTIP NODE KEY): not shown" "$W/show" || bad "show does not name the node key"
	grep -q "name         gw1" "$W/show" || bad "show does not print the node name"
	grep -q "route        192.168.5.0/24" "$W/show" || bad "show does not print the route"
	for f in client.key node.key; do
		"$MQTTIP" pki show "$N/$f" >"$W/show" || bad "show $f failed"
		grep -q "not shown" "$W/show" || bad "show $f"
		[ "$(wc -l <"$W/show")" = 1 ] || bad "show $f printed more than the key's name"
	done
	"$MQTTIP" pki show "$D/broker-ca.key" | grep -q "not shown" || bad "show broker-ca.key"
	"$MQTTIP" pki show "$D/network-ca.key" | grep -q "not shown" || bad "show network-ca.key"
	ok "show never prints keys"
}

part_errors() {
	expect_error 1 "already holds a PKI.*another directory" "$MQTTIP" pki init "$D"
	expect_error 2 "--net 10.0.1.1/24 is not a network prefix" "$MQTTIP" pki init "$W/p2" --net 10.0.1.1/24
	expect_error 2 "--net banana is not a network prefix" "$MQTTIP" pki init "$W/p2" --net banana
	expect_error 2 "--days 0: give a whole number" "$MQTTIP" pki init "$W/p2" --days 0
	expect_error 2 "--server-ip 10.0.0.01 is not an address" "$MQTTIP" pki init "$W/p2" --server-ip 10.0.0.01
	expect_error 1 "cannot create $W/no/such/dir" "$MQTTIP" pki init "$W/no/such/dir"

	expect_error 1 "node gw1 already exists.*choose another name" "$MQTTIP" pki issue "$D" gw1 --addr 10.0.1.9
	expect_error 1 "address 10.0.1.3 is already held by node n2" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.3
	expect_error 1 "address 10.9.9.9 is outside the VPN networks.*pick one inside" \
		"$MQTTIP" pki issue "$D" n3 --addr 10.9.9.9/24
	expect_error 1 "address 2001:db8::1 is outside" "$MQTTIP" pki issue "$D" n3 --addr 2001:db8::1
	expect_error 1 "the prefix length must be /24" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4/16
	expect_error 1 "10.0.1.0 is the network address" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.0
	expect_error 1 "10.0.1.255 is the broadcast address" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.255
	expect_error 1 "address 10.0.1.4 given twice" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --addr 10.0.1.4/24
	expect_error 1 "--route 10.0.0.0/16 overlaps the VPN network" \
		"$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --route 10.0.0.0/16
	expect_error 1 "--route 192.168.5.128/25 overlaps a route of node gw1" \
		"$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --route 192.168.5.128/25
	expect_error 2 "--days 40000: give a whole number" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --days 40000
	expect_error 1 "--days 3660 outlives the CAs.*give at most" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --days 3660
	expect_error 2 "--addr banana is not an address" "$MQTTIP" pki issue "$D" n3 --addr banana
	expect_error 2 "--addr 10.0.1.04 is not an address" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.04
	expect_error 2 "--route 192.168.6.1/24 is not a network prefix" \
		"$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --route 192.168.6.1/24
	expect_error 2 "--days x: give a whole number" "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4 --days x
	expect_error 2 "node name 'bad name' is not valid" "$MQTTIP" pki issue "$D" "bad name" --addr 10.0.1.4
	expect_error 2 "node name '.hidden' is not valid" "$MQTTIP" pki issue "$D" .hidden --addr 10.0.1.4
	expect_error 2 "--net 224.1.0.0/16 is multicast" "$MQTTIP" pki init "$W/p2" --net 224.1.0.0/16
	expect_error 2 "give the node's address with --addr" "$MQTTIP" pki issue "$D" n3
	expect_error 1 "PKI directory $W/none does not exist.*mqttip pki init" \
		"$MQTTIP" pki issue "$W/none" n3 --addr 10.0.1.4
	mkdir "$W/empty"
	expect_error 1 "cannot read the broker CA .*is $W/empty a PKI" "$MQTTIP" pki issue "$W/empty" n3 --addr 10.0.1.4
	# An unreadable directory: as an unprivileged user (root reads everything).
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chmod 755 "$W"
		expect_error 1 "cannot read the broker CA key .*run as the PKI's owner" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups "$MQTTIP" pki issue "$D" n3 --addr 10.0.1.4
		chmod 700 "$D/broker"
		expect_error 1 "cannot read the broker CA $D/broker/ca.crt" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups "$MQTTIP" pki revoke "$D" n2
		chmod 755 "$D/broker"
	fi
	expect_error 1 "no node nobody in $D/nodes.txt" "$MQTTIP" pki revoke "$D" nobody
	expect_error 1 "cannot read $W/none.pem" "$MQTTIP" pki show "$W/none.pem"
	echo "just text" >"$W/text"
	expect_error 1 "holds no certificate of ours" "$MQTTIP" pki show "$W/text"
	expect_error 1 "holds no node, client or server certificate or revocation list to verify" \
		"$MQTTIP" pki verify "$D" "$D/nodes/gw1/node.key"

	# Expired CAs: the network CA's record, and (separately) the X.509 CA re-signed already expired.
	cp -a "$D" "$W/exp1"
	sed -i 's/^expires .*/expires 1000000000/' "$W/exp1/network.txt"
	expect_error 1 "the CAs of $W/exp1 expired on 2001-09-09.*mqttip pki init" \
		"$MQTTIP" pki issue "$W/exp1" n3 --addr 10.0.1.4
	cp -a "$D" "$W/exp2"
	openssl x509 -in "$D/broker/ca.crt" -signkey "$D/broker-ca.key" -days -1 -out "$W/exp2/broker/ca.crt" 2>/dev/null
	expect_error 1 "the CAs of $W/exp2 expired on" "$MQTTIP" pki issue "$W/exp2" n3 --addr 10.0.1.4

	# --- revoke ---
	"$MQTTIP" pki revoke "$D" n2 >/dev/null || bad "revoke n2 failed"
	grep -qx "deny n2" "$D/broker/policy" || bad "no 'deny n2' in policy"
	out=$(openssl verify -crl_check -CRLfile "$D/broker/crl.pem" -CAfile "$D/broker/ca.crt" \
		"$D/nodes/n2/client.crt" 2>&1) && bad "openssl accepts the revoked certificate"
	grep -q "certificate revoked" <<<"$out" || bad "openssl: $out"
	openssl verify -crl_check -CRLfile "$D/broker/crl.pem" -CAfile "$D/broker/ca.crt" \
		"$N/client.crt" >/dev/null || bad "revoking n2 broke gw1"
	openssl crl -in "$D/broker/crl.pem" -noout -text | grep -q "X509v3 CRL Number:" || bad "CRL number"
	expect_error 1 "node n2 is already revoked" "$MQTTIP" pki revoke "$D" n2
	"$MQTTIP" pki verify "$D" "$D/nodes/n2/n2.bundle" >"$W/out" && bad "verify accepts a revoked node"
	grep -q "X.509 certificate n2: INVALID: certificate revoked" "$W/out" ||
		bad "verify does not say the client certificate is revoked: $(cat "$W/out")"
	grep -q "VPN node certificate n2: INVALID: revoked by the revocation list of $D (version 2)" "$W/out" ||
		bad "verify does not say the node certificate is revoked: $(cat "$W/out")"
	expect_error 1 "node n2 already exists" "$MQTTIP" pki issue "$D" n2 --addr 10.0.1.3
	# A revoked node's address may be given again.
	"$MQTTIP" pki issue "$D" n4 --addr 10.0.1.3 >/dev/null || bad "revoked address not reusable"

	# A certificate of another PKI.
	"$MQTTIP" pki init "$W/other" >/dev/null
	"$MQTTIP" pki issue "$W/other" gw1 --addr 10.0.1.2 >/dev/null
	"$MQTTIP" pki verify "$D" "$W/other/nodes/gw1/gw1.bundle" >"$W/out" && bad "verify accepts a foreign bundle"
	grep -q "VPN node certificate: INVALID: " "$W/out" || bad "verify: $(cat "$W/out")"
	openssl verify -CAfile "$D/broker/ca.crt" "$W/other/nodes/gw1/client.crt" >/dev/null 2>&1 &&
		bad "openssl accepts a foreign client certificate"
	ok "revocation and foreign certificates"
}

setup
case "$PART" in
files) part_files ;;
errors) part_errors ;;
*) bad "unknown part '$PART'" ;;
esac

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "all pki cli checks passed"

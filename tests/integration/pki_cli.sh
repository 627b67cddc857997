#!/usr/bin/env bash
# pki_cli.sh MQTTIP files|errors|revocation|renew|brokerdir|full: `mqttip pki` from the outside.
#   files:  command line and usage, files and modes of init/issue, the X.509 chains and the
#           bundle checked by the openssl CLI (independent of our code), no private key in `show`.
#   errors: every user error as one line on stderr with a non-zero exit; revocation in CRL and
#           policy; a certificate of another PKI.
#   revocation: the VPN revocation list (PROTOCOL.md 4.8) read byte by byte and its signature
#           checked by the openssl CLI; serials strictly increasing; the list in bundles, in
#           `pki revocation`, `show`, `verify`; the CRL dated back like the certificates; warnings
#           of `show`/`verify` about CRLs and certificates not yet valid or about to expire.
#   renew:  new certificates with a higher serial, same keys (or new ones, the old revoked).
#   brokerdir: --broker-dir writes the broker's copies keeping owner, group and mode; without it
#           the printed copy commands work as printed.
#   full:   a list that would exceed 2048 bytes is refused and nothing changes; entries of
#           expired certificates leave the list.
set -euo pipefail
MQTTIP=$1
PART=$2
W=$(mktemp -d /tmp/mqttip-pki-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
# shellcheck source=../tools/flip.sh
. "$(dirname "$0")/../tools/flip.sh"
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

# at_time OFFSET CMD...: CMD on a clock moved by OFFSET (libfaketime, preloaded: in a sanitizer
# build ASan must accept not being first in the library list)
at_time() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" faketime "$@"
}

# --- VPN revocation list, read as PROTOCOL.md 4.8.1 lays it out ---

# be FILE OFFSET LEN: the big-endian integer at OFFSET
be() { od -A n -t u1 -j "$2" -N "$3" "$1" | awk '{ for (i = 1; i <= NF; i++) v = v * 256 + $i } END { printf "%d\n", v }'; }
hexat() { od -A n -t x1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
# rl_check FILE PKI: magic, format, key id of the PKI's network CA, counts matching the length,
# and the Ed25519 signature checked by openssl (the network CA's raw key wrapped as SPKI).
rl_check() {
	local f=$1 p=$2 len ns nk
	len=$(stat -c %s "$f")
	[ "$(hexat "$f" 0 4)" = 4d515201 ] || { bad "$f: magic/format $(hexat "$f" 0 4)"; return; }
	block "$p/network-ca.pub" "MQTTIP NETWORK CA" >"$W/ca.raw"
	[ "$(hexat "$f" 4 8)" = "$(sha256sum "$W/ca.raw" | cut -c1-16)" ] || bad "$f: key id"
	ns=$(be "$f" 28 2)
	nk=$(be "$f" 30 2)
	[ "$len" = $((96 + 8 * ns + 32 * nk)) ] || bad "$f: $len bytes for $ns serials and $nk keys"
	{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; cat "$W/ca.raw"; } >"$W/ca.der"
	head -c $((len - 64)) "$f" >"$W/rl.msg"
	tail -c 64 "$f" >"$W/rl.sig"
	openssl pkeyutl -verify -pubin -inkey "$W/ca.der" -keyform DER -rawin -in "$W/rl.msg" \
		-sigfile "$W/rl.sig" >/dev/null 2>&1 || bad "$f: openssl does not accept the signature"
}
show_field() { "$MQTTIP" pki show "$1" | awk -v k="$2" '$1 == k { print $NF; exit }'; }
x25519_of() { "$MQTTIP" pki show "$1" | awk '$1 == "x25519" { print $3; exit }'; }
block() { sed -n "/^-----BEGIN $2-----\$/,/^-----END $2-----\$/p" "$1" | sed '1d;$d' | base64 -d; }
epoch() { date -d "$1" +%s; }

part_revocation() {
	local R=$D/revocation.bin t0 last nb
	[ -f "$R" ] && [ -f "$D/revoked.txt" ] || bad "init wrote no revocation.bin / revoked.txt"
	rl_check "$R" "$D"
	[ "$(be "$R" 12 8)" = 1 ] && [ "$(stat -c %s "$R")" = 96 ] || bad "init's list is not version 1, empty"
	[ "$(show_field "$D/nodes/gw1/node.cert" serial)" = 1 ] &&
		[ "$(show_field "$D/nodes/n2/node.cert" serial)" = 2 ] || bad "serials are not 1, 2"
	block "$N/gw1.bundle" "MQTTIP REVOCATION LIST" | cmp -s - "$R" || bad "gw1.bundle lacks the list"
	ok "init: list version 1, empty, signed by the network CA; serials 1, 2; bundles carry it"

	key=$(x25519_of "$D/nodes/n2/node.cert")
	t0=$(date +%s)
	"$MQTTIP" pki revoke "$D" n2 >"$W/out" || bad "revoke n2 failed"
	rl_check "$R" "$D"
	[ "$(be "$R" 12 8)" = 2 ] || bad "revoke did not make version 2: $(be "$R" 12 8)"
	[ "$(be "$R" 28 2) $(be "$R" 30 2)" = "0 1" ] || bad "list holds not exactly one key"
	[ "$(hexat "$R" 32 32)" = "$key" ] || bad "the listed key is not n2's ($key)"
	issued=$(be "$R" 20 8)
	[ "$issued" -ge "$t0" ] && [ "$issued" -le $((t0 + 5)) ] || bad "issued_at $issued, revoked at $t0"
	block "$N/gw1.bundle" "MQTTIP REVOCATION LIST" | cmp -s - "$R" || bad "gw1.bundle has an old list"
	block "$N/revocation.list" "MQTTIP REVOCATION LIST" | cmp -s - "$R" || bad "gw1/revocation.list is old"
	"$MQTTIP" pki verify "$D" "$N/gw1.bundle" >/dev/null || bad "gw1's bundle no longer verifies"
	ok "revoke: list version 2 names n2's key, signed; gw1's bundle and revocation.list updated"

	"$MQTTIP" pki revocation "$D" >"$W/rev.list" || bad "pki revocation failed"
	block "$W/rev.list" "MQTTIP REVOCATION LIST" | cmp -s - "$R" || bad "pki revocation printed another list"
	grep -q "^# key $key n2\$" "$W/rev.list" || bad "pki revocation does not name n2: $(cat "$W/rev.list")"
	[ "$(show_field "$W/rev.list" version)" = 2 ] || bad "show does not read the printed list"
	"$MQTTIP" pki show "$R" | grep -q "key          $key" || bad "show revocation.bin lacks the key"
	"$MQTTIP" pki verify "$D" "$W/rev.list" | grep -q "VPN revocation list version 2: valid" ||
		bad "verify does not accept the list"
	block "$D/nodes/n2/n2.bundle" "MQTTIP REVOCATION LIST" >"$W/v1.bin"
	"$MQTTIP" pki verify "$D" "$W/v1.bin" >"$W/out"
	grep -q "WARNING: $D holds version 2" "$W/out" || bad "verify does not flag an older list: $(cat "$W/out")"
	ok "pki revocation prints the list (names its entries); show and verify read it"

	last=$(epoch "$(openssl crl -in "$D/broker/crl.pem" -noout -lastupdate | cut -d= -f2)")
	[ "$last" -ge $((t0 - 305)) ] && [ "$last" -le $((t0 - 295)) ] ||
		bad "the CRL's lastUpdate is $((t0 - last)) s before the revocation, want 300"
	nb=$(epoch "$(openssl x509 -in "$N/client.crt" -noout -startdate | cut -d= -f2)")
	made=$(stat -c %Y "$N/client.crt")
	[ "$nb" -ge $((made - 305)) ] && [ "$nb" -le $((made - 295)) ] ||
		bad "the client certificate is dated $((made - nb)) s back, want 300 as the CRL"
	ok "the CRL is dated 300 s back, as the certificates"

	# tampered list: refused wherever it is read, with what to do
	cp -a "$D" "$W/t1"
	flip_byte "$W/t1/revocation.bin" 40
	expect_error 1 "revocation.bin: bad revocation list signature; restore the file" \
		"$MQTTIP" pki issue "$W/t1" n3 --addr 10.0.1.9
	expect_error 1 "revocation.bin: bad revocation list signature" "$MQTTIP" pki revoke "$W/t1" gw1
	# another network's list
	"$MQTTIP" pki init "$W/other" >/dev/null
	"$MQTTIP" pki verify "$D" "$W/other/revocation.bin" >"$W/out" && bad "verify accepts a foreign list"
	grep -q "VPN revocation list: INVALID: revocation list signed by another CA" "$W/out" ||
		bad "verify: $(cat "$W/out")"
	ok "tampered and foreign lists refused"

	# warnings: a certificate about to expire, a CRL dated in the future
	"$MQTTIP" pki issue "$D" n3 --addr 10.0.1.9 --days 10 >/dev/null
	"$MQTTIP" pki show "$D/nodes/n3/node.cert" | grep -Eq "WARNING: this certificate expires in (9|10) days" ||
		bad "show does not warn about a node certificate expiring in 10 days"
	"$MQTTIP" pki verify "$D" "$D/nodes/n3/n3.bundle" >"$W/out" || bad "verify: $(cat "$W/out")"
	[ "$(grep -Ec "WARNING: this .* expires in (9|10) days" "$W/out")" = 2 ] ||
		bad "verify does not warn about both certificates of n3: $(cat "$W/out")"
	"$MQTTIP" pki show "$N/client.crt" | grep -q WARNING && bad "show warns about a valid certificate"
	cp -a "$D" "$W/skew"
	at_time '+10 minutes' "$MQTTIP" pki revoke "$W/skew" n3 >/dev/null
	"$MQTTIP" pki show "$W/skew/broker/crl.pem" >"$W/out"
	grep -Eq "WARNING: the CRL's this update .* lies [0-9]+ (seconds|minutes) in the future: a broker with this clock refuses every client" \
		"$W/out" || bad "show says nothing about a CRL dated in the future: $(cat "$W/out")"
	"$MQTTIP" pki verify "$W/skew" "$N/client.crt" >"$W/out" && bad "verify accepts with a future CRL"
	grep -q "$W/skew/broker/crl.pem: WARNING: the CRL's this update" "$W/out" ||
		bad "verify says nothing about the CRL: $(cat "$W/out")"
	at_time '-1 days' "$MQTTIP" pki show "$N/node.cert" | grep -q "WARNING: this certificate is not valid before" ||
		bad "show does not warn about a certificate not yet valid"
	ok "show and verify warn about a CRL and a certificate not yet valid"
	ok "show and verify warn about certificates expiring within 30 days"
}

part_renew() {
	local n2key old_pub
	cp "$N/node.cert" "$W/gw1-old.cert"
	cp "$N/client.crt" "$W/gw1-old.crt"
	key=$(x25519_of "$N/node.cert")
	"$MQTTIP" pki renew "$D" gw1 >"$W/out" || bad "renew gw1 failed: $(cat "$W/out")"
	grep -q "node gw1 renewed: VPN serial 1 -> 3" "$W/out" || bad "renew said: $(cat "$W/out")"
	[ "$(show_field "$N/node.cert" serial)" = 3 ] || bad "renewed serial is not 3"
	[ "$(x25519_of "$N/node.cert")" = "$key" ] || bad "renew changed the X25519 key"
	diff <("$MQTTIP" pki show "$W/gw1-old.cert" | grep -E "name|address|route") \
		<("$MQTTIP" pki show "$N/node.cert" | grep -E "name|address|route") >/dev/null ||
		bad "renew changed the name, addresses or routes"
	[ "$(openssl x509 -in "$N/client.crt" -noout -pubkey)" = "$(openssl x509 -in "$W/gw1-old.crt" -noout -pubkey)" ] ||
		bad "renew changed the client key"
	[ "$(openssl x509 -in "$N/client.crt" -noout -serial)" != "$(openssl x509 -in "$W/gw1-old.crt" -noout -serial)" ] ||
		bad "the client certificate kept its serial"
	[ "$(openssl x509 -in "$N/client.crt" -noout -ext subjectAltName)" = "$(openssl x509 -in "$W/gw1-old.crt" -noout -ext subjectAltName)" ] ||
		bad "renew changed the client certificate's addresses"
	[ "$(openssl pkey -in "$N/client.key" -pubout)" = "$(openssl x509 -in "$N/client.crt" -noout -pubkey)" ] ||
		bad "client.key no longer matches client.crt"
	openssl verify -purpose sslclient -CAfile "$D/broker/ca.crt" "$N/client.crt" >/dev/null ||
		bad "openssl does not accept the renewed client certificate"
	"$MQTTIP" pki verify "$D" "$N/gw1.bundle" >/dev/null || bad "the renewed bundle does not verify"
	"$MQTTIP" pki verify "$D" "$W/gw1-old.cert" >/dev/null || bad "a same-key renewal revoked the old certificate"
	grep -q "^node gw1 valid .* 3 .*$key\$" "$D/nodes.txt" || bad "nodes.txt: $(grep gw1 "$D/nodes.txt")"
	[ "$(be "$D/revocation.bin" 12 8)" = 1 ] || bad "a same-key renewal changed the revocation list"
	ok "renew: serial 1 -> 3 (above every serial), same keys, name, addresses, routes; old certificate not revoked"

	"$MQTTIP" pki renew "$D" gw1 --days 10 >/dev/null || bad "renew --days 10 failed"
	[ "$(show_field "$N/node.cert" serial)" = 4 ] || bad "second renewal's serial is not 4"
	"$MQTTIP" pki show "$N/gw1.bundle" | grep -Eq "WARNING: this certificate expires in (9|10) days" ||
		bad "show does not warn about the 10-day certificate"

	n2key=$(x25519_of "$D/nodes/n2/node.cert")
	cp "$D/nodes/n2/n2.bundle" "$W/n2-old.bundle"
	cp "$D/nodes/n2/client.crt" "$W/n2-old.crt"
	"$MQTTIP" pki renew "$D" n2 --new-key >"$W/out" || bad "renew --new-key failed: $(cat "$W/out")"
	[ "$(x25519_of "$D/nodes/n2/node.cert")" != "$n2key" ] || bad "--new-key kept the X25519 key"
	[ "$(openssl x509 -in "$D/nodes/n2/client.crt" -noout -pubkey)" != "$(openssl x509 -in "$W/n2-old.crt" -noout -pubkey)" ] ||
		bad "--new-key kept the client key"
	rl_check "$D/revocation.bin" "$D"
	[ "$(be "$D/revocation.bin" 12 8)" = 2 ] && [ "$(hexat "$D/revocation.bin" 32 32)" = "$n2key" ] ||
		bad "--new-key did not put the old key on list version 2"
	out=$(openssl verify -crl_check -CRLfile "$D/broker/crl.pem" -CAfile "$D/broker/ca.crt" "$W/n2-old.crt" 2>&1) &&
		bad "the old client certificate is not on the CRL"
	grep -q "certificate revoked" <<<"$out" || bad "openssl: $out"
	openssl verify -crl_check -CRLfile "$D/broker/crl.pem" -CAfile "$D/broker/ca.crt" \
		"$D/nodes/n2/client.crt" >/dev/null || bad "the new client certificate is refused"
	"$MQTTIP" pki verify "$D" "$D/nodes/n2/n2.bundle" >/dev/null || bad "the new n2 bundle does not verify"
	"$MQTTIP" pki verify "$D" "$W/n2-old.bundle" >"$W/out" && bad "the old n2 bundle still verifies"
	grep -q "VPN node certificate n2: INVALID: revoked by the revocation list" "$W/out" || bad "verify: $(cat "$W/out")"
	ok "renew --new-key: new keys; old key on the revocation list, old client certificate on the CRL"

	# keys only in the bundle: renewed from there, no key file put back; no keys at all: certificates only
	rm "$N/node.key" "$N/client.key"
	"$MQTTIP" pki renew "$D" gw1 >/dev/null || bad "renew from the bundle's keys failed"
	[ ! -e "$N/node.key" ] && [ ! -e "$N/client.key" ] || bad "renew put back removed key files"
	"$MQTTIP" pki verify "$D" "$N/gw1.bundle" >/dev/null || bad "bundle renewed from its own keys does not verify"
	rm "$N/gw1.bundle"
	"$MQTTIP" pki renew "$D" gw1 >"$W/out" || bad "renew without private keys failed"
	grep -q "no bundle was written" "$W/out" && [ ! -e "$N/gw1.bundle" ] || bad "renew without keys: $(cat "$W/out")"
	[ "$(x25519_of "$N/node.cert")" = "$key" ] || bad "renew without keys changed the key"
	ok "renew with the keys only in the bundle, or nowhere (certificates only)"

	"$MQTTIP" pki revoke "$D" n2 >/dev/null
	expect_error 1 "node n2 is revoked and cannot be renewed" "$MQTTIP" pki renew "$D" n2
	expect_error 1 "no node nobody in $D/nodes.txt" "$MQTTIP" pki renew "$D" nobody
	expect_error 2 "--days 40000: give a whole number" "$MQTTIP" pki renew "$D" gw1 --days 40000
	expect_error 1 "--days 3660 outlives the CAs" "$MQTTIP" pki renew "$D" gw1 --days 3660
	expect_error 2 "'bad name' is not a node name" "$MQTTIP" pki renew "$D" "bad name"
	expect_error 1 "node gw1 already exists" "$MQTTIP" pki issue "$D" gw1 --addr 10.0.1.9
	rm "$N/client.crt"
	expect_error 1 "cannot read $N/client.crt .*renew with --new-key" "$MQTTIP" pki renew "$D" gw1
	"$MQTTIP" pki renew --help | grep -q -- "--new-key" || bad "renew --help lacks --new-key"
	ok "renew refusals"
}

part_brokerdir() {
	local E=$W/etc E2=$W/etc2 before
	install -d -m 0755 "$E" "$E2"
	install -m 0644 "$D/broker/ca.crt" "$D/broker/crl.pem" "$D/broker/policy" "$E/"
	install -m 0644 "$D/broker/ca.crt" "$D/broker/crl.pem" "$D/broker/policy" "$E2/"
	if [ "$(id -u)" = 0 ]; then
		chown nobody:nogroup "$E/policy"
		chgrp nogroup "$E/crl.pem"
	fi
	chmod 0640 "$E/policy"
	chmod 0604 "$E/crl.pem"
	before=$(stat -c '%n %U:%G %a' "$E"/*)

	"$MQTTIP" pki revoke "$D" n2 --broker-dir "$E" >"$W/out" || bad "revoke --broker-dir failed: $(cat "$W/out")"
	for f in ca.crt crl.pem policy; do
		cmp -s "$D/broker/$f" "$E/$f" || bad "--broker-dir did not write $f"
	done
	grep -qx "deny n2" "$E/policy" || bad "the broker's policy lacks deny n2"
	[ "$(stat -c '%n %U:%G %a' "$E"/*)" = "$before" ] ||
		bad "owner, group or mode changed: $before -> $(stat -c '%n %U:%G %a' "$E"/*)"
	grep -q "written to $E (owner, group and mode kept)" "$W/out" || bad "revoke said: $(cat "$W/out")"
	ls "$E" | grep -q tmp && bad "temporary files left in $E"
	ok "revoke --broker-dir: crl.pem, policy, ca.crt written there, owner/group/mode kept"

	# without --broker-dir: the printed commands, run as printed (to another directory)
	"$MQTTIP" pki issue "$D" gw2 --addr 10.0.1.7 --route 192.168.9.0/24 >"$W/out"
	"$MQTTIP" pki revoke "$D" gw2 >>"$W/out"
	grep -q "^  cp $D/broker/crl.pem $D/broker/policy /etc/mosquitto/mqttip/\$" "$W/out" ||
		bad "revoke prints no copy command: $(cat "$W/out")"
	grep -q "^  systemctl reload mosquitto\$" "$W/out" || bad "no reload command printed"
	grep "^  cp " "$W/out" | tail -1 | sed "s|/etc/mosquitto/mqttip/|$E2/|" | sh -e
	cmp -s "$D/broker/crl.pem" "$E2/crl.pem" && cmp -s "$D/broker/policy" "$E2/policy" ||
		bad "the printed copy command did not bring the files over"
	"$MQTTIP" pki issue "$D" n9 --addr 10.0.1.8 >"$W/out"
	grep -q "cp " "$W/out" && bad "issue of a plain node prints copy commands: $(cat "$W/out")"
	ok "without --broker-dir: the printed copy command works; nothing printed when nothing changed"

	"$MQTTIP" pki issue "$D" gw3 --addr 10.0.1.10 --route 192.168.7.0/24 --broker-dir "$E" >/dev/null ||
		bad "issue --broker-dir failed"
	grep -qx "route gw3 192.168.7.0/24" "$E/policy" || bad "issue --broker-dir: no route line there"
	"$MQTTIP" pki renew "$D" gw3 --new-key --broker-dir "$E" >/dev/null || bad "renew --broker-dir failed"
	cmp -s "$D/broker/crl.pem" "$E/crl.pem" || bad "renew --new-key --broker-dir did not write the CRL"
	[ "$(stat -c '%n %U:%G %a' "$E"/*)" = "$before" ] || bad "issue/renew changed owner, group or mode"
	ok "issue and renew --broker-dir"

	cp "$D/nodes.txt" "$W/nodes.before"
	expect_error 1 "--broker-dir $W/none is not a directory; give the directory mosquitto reads" \
		"$MQTTIP" pki revoke "$D" gw1 --broker-dir "$W/none"
	cmp -s "$D/nodes.txt" "$W/nodes.before" || bad "a refused --broker-dir still revoked gw1"
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		chmod 755 "$W"
		expect_error 1 "--broker-dir $E is not writable" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups "$MQTTIP" pki revoke "$D" gw1 --broker-dir "$E"
	fi
}

part_full() {
	local F=$W/full i
	"$MQTTIP" pki init "$F" --net 10.5.0.0/24 >/dev/null
	for i in $(seq 1 61); do
		"$MQTTIP" pki issue "$F" "n$i" --addr "10.5.0.$((i + 1))" >/dev/null || bad "issue n$i"
	done
	"$MQTTIP" pki issue "$F" n62 --addr 10.5.0.63 --days 730 >/dev/null || bad "issue n62"
	# bundles are refreshed at every revocation: without them the loop is fast
	rm -f "$F"/nodes/*/*.bundle "$F"/nodes/*/revocation.list
	for i in $(seq 1 61); do
		"$MQTTIP" pki revoke "$F" "n$i" >/dev/null || bad "revoke n$i"
	done
	[ "$(stat -c %s "$F/revocation.bin")" = 2048 ] || bad "61 keys do not fill 2048 bytes"
	rl_check "$F/revocation.bin" "$F"
	cp -a "$F" "$W/full.before"
	expect_error 1 "the VPN revocation list would hold 62 keys and 0 serials \(2080 bytes, more than its 2048\); nothing was changed" \
		"$MQTTIP" pki revoke "$F" n62
	diff -r "$F" "$W/full.before" >/dev/null || bad "a refused revocation changed files"
	ok "a list over 2048 bytes is refused and nothing changes"
	# a year and two days later n1 .. n61 have expired (365 days), n62 not (730)
	at_time '+367 days' "$MQTTIP" pki revoke "$F" n62 >/dev/null || bad "revoke after expiry"
	[ "$(be "$F/revocation.bin" 30 2)" = 1 ] && [ "$(be "$F/revocation.bin" 12 8)" = 63 ] ||
		bad "entries of expired certificates stayed: $(be "$F/revocation.bin" 30 2) keys"
	ok "entries of certificates expired for a day leave the list"
}

case "$PART" in
revocation | full)
	command -v faketime >/dev/null ||
		{ echo "SKIP: faketime not installed (scripts/install-deps.sh): it dates the PKI's files"; exit 77; }
	;;
esac
setup
case "$PART" in
files) part_files ;;
errors) part_errors ;;
revocation) part_revocation ;;
renew) part_renew ;;
brokerdir) part_brokerdir ;;
full) part_full ;;
*) bad "unknown part '$PART'" ;;
esac

if [ "$fails" -ne 0 ]; then
	echo "$fails failure(s)" >&2
	exit 1
fi
echo "all pki cli checks passed"

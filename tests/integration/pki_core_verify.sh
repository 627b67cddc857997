#!/usr/bin/env bash
# pki_core_verify.sh MQTTIP TEST_TOOL: issues a node with `mqttip pki`, then checks its VPN node
# certificate with the portable core and plain libsodium (TEST_TOOL, see test_pki_nodecert.c),
# and that `mqttip pki verify` takes the raw certificate and refuses it with a byte inverted in each
# of its parts (the tool itself tries every bit of every byte).
set -euo pipefail
MQTTIP=$1
TOOL=$2
W=$(mktemp -d /tmp/mqttip-pki-core.XXXXXX)
trap 'rm -rf "$W"' EXIT
D=$W/pki
"$MQTTIP" pki init "$D" >/dev/null
"$MQTTIP" pki issue "$D" gw7 --addr 10.0.1.7/24 --route 192.168.5.0/24 --route 10.9.0.0/16 \
	>/dev/null
N=$D/nodes/gw7
"$TOOL" "$N/node.cert" "$D/network-ca.pub" "$N/node.key" gw7 10.0.1.7/24

sed -n '/^-----BEGIN MQTTIP NODE CERTIFICATE-----$/,/^-----END/p' "$N/node.cert" | sed '1d;$d' |
	base64 -d >"$W/raw"
"$MQTTIP" pki verify "$D" "$W/raw" >/dev/null || { echo "FAIL: verify rejects the raw certificate" >&2; exit 1; }
len=$(stat -c %s "$W/raw")
mapfile -t bytes < <(od -An -v -tu1 -w1 "$W/raw")
# magic, version, name, first address, end of the fields, CA key id, signature
for i in 0 3 5 8 $((len - 73)) $((len - 70)) $((len - 64)) $((len - 1)); do
	{
		head -c "$i" "$W/raw"
		# shellcheck disable=SC2059 # the format is the octal escape of the inverted byte
		printf "\\$(printf '%03o' $((255 - bytes[i])))"
		tail -c +$((i + 2)) "$W/raw"
	} >"$W/flipped"
	if "$MQTTIP" pki verify "$D" "$W/flipped" >/dev/null 2>&1; then
		echo "FAIL: mqttip pki verify accepts the certificate with byte $i inverted" >&2
		exit 1
	fi
done
echo "mqttip pki verify refused every inverted byte"

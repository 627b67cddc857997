#!/usr/bin/env bash
# agent_statusjson.sh MQTTIP: the bytes `mqttip status --json` reads from a running agent's socket
# parse as JSON, and strings with quotes and backslashes come back as they were given. A node
# name cannot hold either (common/cert.c: A-Z a-z 0-9 . _ -), but an interface name can (Linux
# refuses only '/', ':' and blanks) and so can a broker host: the agent runs in a network
# namespace of its own as interface q"b\c, in legacy mode (no PKI needed), with a broker URL whose
# host is h"o\st (it never resolves: the agent keeps retrying). The status socket is the default
# one (/run is private to this test, lib/private_run.sh). Needs root, /dev/net/tun and JSONGET
# (tests/adversarial/jsonget.c).
set -euo pipefail
MQTTIP=$1
: "${JSONGET:?JSONGET must name the jsonget tool}"
. "$(dirname "$0")/lib/private_run.sh"
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }

IFNAME='q"b\c'
HOST='h"o\st'
URL="mqtt://$HOST:1883"
NS=mqsj$$
W=$(mktemp -d /tmp/mqttip-statusjson.XXXXXX)
PID=""
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W" "/var/lib/mqttip/$NS"
}
trap cleanup EXIT
# shellcheck source=../tools/checks.sh
. "$(dirname "$0")/../tools/checks.sh"

ip netns add "$NS"
ip netns exec "$NS" "$MQTTIP" up -i "$IFNAME" -b "$URL" -k secret -a 10.77.0.1 \
	--state-file "$W/state" >"$W/up.log" 2>&1 &
PID=$!
for _ in $(seq 1 50); do
	ip netns exec "$NS" "$MQTTIP" status -i "$IFNAME" --json >"$W/status.json" 2>"$W/err" &&
		[ -s "$W/status.json" ] && break
	sleep 0.1
done
[ -s "$W/status.json" ] || {
	echo "FAIL: no status from the agent: $(cat "$W/err") / log: $(tail -n3 "$W/up.log")" >&2
	exit 1
}

# field PATH WANT: the string at PATH is WANT, byte for byte.
field() {
	local got rc=0
	got=$("$JSONGET" "$1" <"$W/status.json" 2>"$W/jerr") || rc=$?
	if [ "$rc" != 0 ]; then
		bad "$1: jsonget failed ($(cat "$W/jerr")) on: $(head -c 300 "$W/status.json")"
	elif [ "$got" != "$2" ]; then
		bad "$1 is '$got', want '$2'"
	else
		ok "$1 = $got"
	fi
}

field interface "$IFNAME"
field broker.host "$HOST"
field broker.url "$URL"
field broker.urls.0 "$URL"
field addresses.0 10.77.0.1
field legacy.enabled true
[ "$(wc -l <"$W/status.json")" = 1 ] && ok "one line" || bad "not one line: $(cat "$W/status.json")"

checks_done

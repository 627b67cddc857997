#!/usr/bin/env bash
# demo_check.sh MQTTIP tour|keep|interrupt: `mqttip demo` run non-interactively, as root.
#   tour       the whole tour exits 0; its figures come from the tools themselves: every ping
#              statistics line printed by ping says all packets were answered, iperf3's own
#              receiver line shows data moved, the plugin's metrics document counts published
#              bytes and the two refusals, the spy saw data and no marker in the clear;
#              nothing is left afterwards (namespaces, state directory, processes).
#   keep       --keep leaves a working network: this script pings through the tunnel by itself
#              and asks an agent for its status; `--down` then removes everything.
#   interrupt  SIGTERM in the middle of the tour: exit 130 and nothing is left.
# MQTTIP_PLUGIN names the plugin; MQTTIP_BROKER_PRELOAD is passed on (sanitizer builds).
set -euo pipefail
MQTTIP=$1
PART=$2
NAME=mqdt-$$
W=$(mktemp -d /tmp/mqttip-demo-check.XXXXXX)
cleanup() {
	# Only if a check failed half-way: the demo's own teardown is what the checks look at.
	if [ -d "/run/$NAME" ]; then
		"$MQTTIP" demo --down --name "$NAME" >/dev/null 2>&1 || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: mqttip demo needs root (network namespaces, TUN)" >&2
	exit 1
fi

# nothing_left: no namespace, state directory or process of the demo remains.
nothing_left() {
	local left
	left=$(ip netns list | awk -v n="$NAME-" 'index($1, n) == 1 { print $1 }')
	[ -z "$left" ] || bad "namespaces left behind: $left"
	[ ! -e "/run/$NAME" ] || bad "/run/$NAME left behind"
	left=$(pgrep -af -- "/run/$NAME/" || true)
	[ -z "$left" ] || bad "processes left behind: $left"
	[ -n "$left" ] || ok "nothing left behind"
}

case $PART in
tour)
	rc=0
	timeout 80 "$MQTTIP" demo --name "$NAME" --nodes 3 --seconds 2 >"$W/out" 2>&1 || rc=$?
	cat "$W/out"
	echo "--- checks"
	[ "$rc" = 0 ] || bad "mqttip demo exited $rc"
	# ping's own statistics lines: 3 pairs over IPv4 and IPv6.
	stats=$(grep -E '^ +[0-9]+ packets transmitted, [0-9]+ received' "$W/out" || true)
	[ "$(wc -l <<<"$stats")" -ge 6 ] || bad "want 6 ping statistics lines, got: $stats"
	while read -r tx _ _ rx _; do
		if [ "$tx" != 10 ] || [ "$rx" != 10 ]; then
			bad "ping: $tx transmitted, $rx received"
		fi
	done <<<"$stats"
	grep -q "10/10 answered" "$W/out" || bad "no '10/10 answered' in the summary"
	! grep -E "^ping .* answered" "$W/out" | grep -v "10/10 answered" ||
		bad "the summary shows unanswered pings"
	ok "$(wc -l <<<"$stats") ping runs, every packet answered"
	# iperf3's receiver line: "[ ID] 0.00-2.00 sec  25.0 MBytes  105 Mbits/sec  receiver".
	recv=$(grep -E 'sec +[0-9.]+ [KMG]?Bytes +[0-9.]+ Mbits/sec.*receiver' "$W/out" || true)
	bytes=$(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) ~ /Bytes$/) print $i }' <<<"$recv")
	awk -v b="${bytes:-0}" 'BEGIN { exit !(b > 0) }' || bad "iperf3 received nothing: '$recv'"
	ok "iperf3: $recv"
	# The plugin's document as printed (first 150 characters) and the summary built from it.
	grep -q '"version":1' "$W/out" || bad "no metrics document in the output"
	pub=$(sed -nE 's/^broker: +([0-9]+) messages published.*/\1/p' "$W/out")
	[ "${pub:-0}" -gt 100 ] || bad "the broker counted ${pub:-no} published messages"
	denials=$(sed -nE 's/^broker: .* ([0-9]+) denials$/\1/p' "$W/out")
	[ "${denials:-0}" -ge 2 ] || bad "want at least mallory's 2 denials, got '${denials:-}'"
	grep -q "Not authorized" "$W/out" || bad "mallory's forged publish was not refused"
	grep -q "subscription requests were denied" "$W/out" || bad "mallory's subscription passed"
	ok "metrics: $pub messages published, $denials denials"
	grep -qE "^spy: +[1-9][0-9]* messages seen, marker in the clear: no$" "$W/out" ||
		bad "spy line missing or marker seen: $(grep '^spy:' "$W/out")"
	grep -qE "in mallory's cleartext control: [1-9]" "$W/out" ||
		bad "the spy did not see the cleartext control"
	ok "the spy saw ciphertext only (and the cleartext control)"
	grep -q "Try next:" "$W/out" || bad "no commands to try next"
	grep -q "\[teardown\].* done" "$W/out" || bad "no teardown"
	nothing_left
	;;
keep)
	rc=0
	timeout 80 "$MQTTIP" demo --name "$NAME" --nodes 2 --seconds 1 --keep >"$W/out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || { cat "$W/out"; bad "mqttip demo --keep exited $rc"; }
	grep -q "The network stays up" "$W/out" || bad "--keep did not say the network stays up"
	! grep -q "\[teardown\]" "$W/out" || bad "--keep tore the network down"
	if ip netns exec "$NAME-n1" ping -c 3 -i 0.2 -W 2 10.0.1.2 >"$W/ping" 2>&1; then
		ok "after the demo: $(grep 'packets transmitted' "$W/ping")"
	else
		bad "no ping through the kept network: $(cat "$W/ping")"
	fi
	if "$MQTTIP" status --socket "/run/$NAME/n2.sock" >"$W/status" 2>&1 &&
		grep -q "10.0.1.1" "$W/status"; then
		ok "n2's status names its peer n1"
	else
		bad "status of the kept n2: $(cat "$W/status")"
	fi
	rc=0
	"$MQTTIP" demo --down --name "$NAME" >"$W/down" 2>&1 || rc=$?
	[ "$rc" = 0 ] || bad "mqttip demo --down exited $rc: $(cat "$W/down")"
	nothing_left
	rc=0
	"$MQTTIP" demo --down --name "$NAME" >"$W/down" 2>&1 || rc=$?
	[ "$rc" = 1 ] || bad "a second --down exited $rc, want 1"
	;;
interrupt)
	"$MQTTIP" demo --name "$NAME" --nodes 2 --seconds 1 >"$W/out" 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do
		grep -q '^\[5/' "$W/out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q '^\[5/' "$W/out" || bad "the demo did not reach step 5: $(tail -n 20 "$W/out")"
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 130 ] || bad "after SIGTERM the demo exited $rc, want 130"
	grep -q "interrupted" "$W/out" ||
		bad "the demo did not say it was interrupted: $(tail -n 5 "$W/out")"
	grep -q "\[teardown\].* done" "$W/out" || bad "no teardown after SIGTERM"
	nothing_left
	;;
*)
	echo "usage: $0 MQTTIP tour|keep|interrupt" >&2
	exit 2
	;;
esac
[ "$fails" = 0 ] && echo "demo $PART: all checks passed"
[ "$fails" = 0 ]

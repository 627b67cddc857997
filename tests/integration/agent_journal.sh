#!/usr/bin/env bash
# agent_journal.sh MQTTIP: `mqttip up` under the journal writes syslog priorities. systemd connects
# a service's stderr to journald and sets JOURNAL_STREAM to that stream's "DEV:INODE"; journald
# reads a leading "<N>" as the line's priority (what `journalctl -p warning` selects on). No
# journald runs here, so stderr is a file and JOURNAL_STREAM names it, which is all the agent can
# see of the journal. The agent (root, TUN, in a network namespace of its own without a broker)
# logs warnings (plain MQTT, cannot connect), info lines, debug lines (-d: a ping into the tunnel),
# and an error when a SIGHUP reload meets a bad setting. Checked:
#  - JOURNAL_STREAM = stderr: every line is "<N>LEVEL: ..." with N 3 error, 4 warning, 6 info,
#    7 debug, and all four occur;
#  - JOURNAL_STREAM names another file, or is malformed, or is absent: plain "mqttip: LEVEL: ..."
#    lines and no "<N>" (a child whose stderr was redirected must not prefix).
set -euo pipefail
MQTTIP=$1

if [ "$(id -u)" -ne 0 ]; then
	echo "agent_journal: needs root (TUN in a network namespace); skipped" >&2
	exit 77
fi
[ -c /dev/net/tun ] || {
	echo "agent_journal: no /dev/net/tun; skipped" >&2
	exit 77
}

W=$(mktemp -d /tmp/mqttip-journal.XXXXXX)
agent=
cleanup() {
	[ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=../tools/checks.sh
. "$(dirname "$0")/../tools/checks.sh"

"$MQTTIP" pki init "$W/pki" >/dev/null
"$MQTTIP" pki issue "$W/pki" n1 --addr 10.0.1.2/24 >/dev/null

# wait_for FILE REGEX SECONDS
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# run_agent NAME JOURNAL_STREAM-VALUE|unset: runs the agent with stderr on $W/NAME.log until it has
# logged a refused reload, then stops it.
run_agent() {
	local name=$1 stream=$2 log=$W/$1.log conf=$W/$1.conf
	printf 'broker = mqtt://127.0.0.1:1\nbundle = %s\ninterface = mqj%s\nstatus-socket = %s\nstate-file = %s\n' \
		"$W/pki/nodes/n1/n1.bundle" "$$" "$W/$name.sock" "$W/$name.state" >"$conf"
	: >"$log"
	[ "$stream" = self ] && stream=$(stat -c '%d:%i' "$log")
	if [ "$stream" = unset ]; then
		env -u JOURNAL_STREAM unshare -n -- "$MQTTIP" up -c "$conf" -d 2>>"$log" &
	else
		JOURNAL_STREAM=$stream unshare -n -- "$MQTTIP" up -c "$conf" -d 2>>"$log" &
	fi
	agent=$!
	wait_for "$log" 'cannot connect' 10 || bad "$name: no 'cannot connect' line: $(tail -n3 "$log")"
	# a packet into the tunnel: a debug line (-d)
	nsenter -t "$agent" -n ping -c 1 -W 1 10.0.1.9 >/dev/null 2>&1 || true
	wait_for "$log" 'debug: ' 5 || bad "$name: no debug line: $(tail -n3 "$log")"
	echo 'mtu = 99999' >>"$conf"
	kill -HUP "$agent"
	wait_for "$log" 'reload refused' 10 || bad "$name: no 'reload refused' line: $(tail -n3 "$log")"
	kill -TERM "$agent"
	wait "$agent" || bad "$name: the agent exited $? after SIGTERM"
	agent=
}

# Under the journal.
run_agent journal self
log=$W/journal.log
bad_lines=$(grep -Evc '^<[3467]>(error|warning|info|debug): ' "$log" || true)
[ "$bad_lines" = 0 ] || bad "lines without a priority prefix: $(grep -Ev '^<[3467]>' "$log" | head -n3)"
for pair in 3:error 4:warning 6:info 7:debug; do
	prio=${pair%%:*} level=${pair#*:}
	n=$(grep -c "^<$prio>$level: " "$log" || true)
	wrong=$(grep -E "^<[0-9]>$level: " "$log" | grep -vc "^<$prio>" || true)
	if [ "$n" -gt 0 ] && [ "$wrong" = 0 ]; then
		ok "journal: $n $level lines, all <$prio>"
	else
		bad "journal: $level lines: $n with <$prio>, $wrong with another priority"
	fi
done
# What `journalctl -p warning` would show: priorities 0..4.
sel=$(grep -E '^<[0-4]>' "$log")
if grep -q 'reload refused' <<<"$sel" && grep -q 'cannot connect' <<<"$sel" &&
	! grep -q 'retrying in' <<<"$sel"; then
	ok "-p warning keeps the error and warnings, not info"
else
	bad "-p warning selection wrong: $sel"
fi

# Not the journal: plain lines.
other=$(stat -c '%d:%i' "$W/pki/broker/policy")
for case in "other:$other" "malformed:12:34:x" "absent:unset"; do
	name=${case%%:*} stream=${case#*:}
	run_agent "$name" "$stream"
	log=$W/$name.log
	if grep -q '^<' "$log"; then
		bad "$name JOURNAL_STREAM: priority prefix on stderr that is not the journal: $(grep -m1 '^<' "$log")"
	elif [ "$(grep -Evc '^mqttip: (error|warning|info|debug): ' "$log" || true)" != 0 ]; then
		bad "$name JOURNAL_STREAM: unexpected lines: $(grep -Ev '^mqttip: ' "$log" | head -n3)"
	elif ! grep -q '^mqttip: error: reload refused' "$log"; then
		bad "$name JOURNAL_STREAM: no plain error line"
	else
		ok "$name JOURNAL_STREAM: plain 'mqttip: LEVEL:' lines ($(wc -l <"$log"))"
	fi
done

checks_done

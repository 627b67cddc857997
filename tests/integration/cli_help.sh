#!/usr/bin/env bash
# cli_help.sh MQTTIP: the command line of every command, read from `mqttip --help` itself (so a
# new row in main.c's table is checked without touching this test), and of every subcommand a
# command lists as "mqttip CMD SUB" lines in its own --help (pki):
#  - `mqttip --help` exits 0 and lists the commands; no argument, an unknown command or an
#    unknown global flag exits 2 with the usage on stderr;
#  - `CMD --help` exits 0, prints "Usage:" and "mqttip CMD" on stdout, nothing on stderr;
#  - `CMD --no-such-flag` exits 2 at once (a command that ignored the flag and started working
#    would hit the timeout), nothing on stdout, and the usage on stderr.
set -euo pipefail
MQTTIP=$1
W=$(mktemp -d /tmp/mqttip-cli-help.XXXXXX)
trap 'rm -rf "$W"' EXIT
# shellcheck source=../tools/checks.sh
. "$(dirname "$0")/../tools/checks.sh"

run() {
	local rc=0
	timeout 10 "$MQTTIP" "$@" >"$W/out" 2>"$W/err" </dev/null || rc=$?
	echo "$rc"
}

# expect_help WORDS...: `mqttip WORDS --help`.
expect_help() {
	local rc
	rc=$(run "$@" --help)
	checked=$((checked + 1))
	if [ "$rc" != 0 ]; then
		bad "'mqttip $* --help' exited $rc: $(head -n3 "$W/err")"
	elif ! grep -q "Usage:" "$W/out" || ! grep -q "mqttip $*" "$W/out"; then
		bad "'mqttip $* --help' does not show its usage on stdout: $(head -n3 "$W/out")"
	elif [ -s "$W/err" ]; then
		bad "'mqttip $* --help' wrote to stderr: $(head -n3 "$W/err")"
	else
		ok "mqttip $* --help"
	fi
}

# expect_usage_error ARGS...: `mqttip ARGS` is a bad command line.
expect_usage_error() {
	local rc
	rc=$(run "$@")
	checked=$((checked + 1))
	if [ "$rc" != 2 ]; then
		bad "'mqttip $*' exited $rc, want 2: $(head -n3 "$W/err")"
	elif ! grep -q "Usage:" "$W/err"; then
		bad "'mqttip $*' did not print the usage: $(head -n3 "$W/err")"
	elif [ -s "$W/out" ]; then
		bad "'mqttip $*' wrote to stdout: $(head -n3 "$W/out")"
	else
		ok "mqttip $* -> 2: $(head -n1 "$W/err")"
	fi
}

rc=$(run --help)
[ "$rc" = 0 ] || bad "'mqttip --help' exited $rc"
cp "$W/out" "$W/top"
commands=$(awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }' "$W/top")
[ -n "$commands" ] || bad "'mqttip --help' lists no commands: $(cat "$W/top")"
for c in pki up status demo; do
	grep -qx "$c" <<<"$commands" || bad "'mqttip --help' does not list '$c'"
done

expect_usage_error
expect_usage_error no-such-command
expect_usage_error --no-such-flag
for c in $commands; do
	grep -qw "$c" "$W/err" || bad "the usage after 'mqttip --no-such-flag' does not list '$c'"
done

for c in $commands; do
	expect_help "$c"
	subs=$(awk -v c="$c" '$1 == "mqttip" && $2 == c && NF > 2 && $3 !~ /^[-\[]/ { print $3 }' \
		"$W/out" | sort -u)
	expect_usage_error "$c" --no-such-flag
	for s in $subs; do
		expect_help "$c" "$s"
		expect_usage_error "$c" "$s" --no-such-flag
	done
done

checks_done

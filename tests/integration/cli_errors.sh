#!/usr/bin/env bash
# cli_errors.sh MQTTIP: every command and subcommand refuses a bad command line the same way
# (agent/cli.h): exit status 2, nothing on stdout, and on stderr
#     mqttip WORDS: unknown option '--no-such-option'     (or: option 'FLAG' needs a value,
#     Usage: ...                                             unexpected argument 'stray')
#     Try 'mqttip help WORDS' or 'man mqttip-WORDS'.
# The commands come from `mqttip --help`, the subcommands from each command's --help ("mqttip CMD
# SUB" lines), as in cli_help.sh. For each: an unknown option; a flag that takes a value given
# last, without it (the first "FLAG VALUE" of its Usage line; a command without one is said); its
# Usage line's arguments (DIR NAME ...) and one more. The hint must work (`mqttip help WORDS`
# exits 0). mqttip itself and `mqttip help`: unknown option, unknown command, exit status 2.
set -euo pipefail
MQTTIP=$1
W=$(mktemp -d /tmp/mqttip-cli-errors.XXXXXX)
trap 'rm -rf "$W"' EXIT
# shellcheck source=../tools/checks.sh
. "$(dirname "$0")/../tools/checks.sh"

valued=0 # commands whose Usage line showed a flag that takes a value, and was checked

# refused FIRST_LINE HINT ARGS...: `mqttip ARGS` exits 2, prints nothing on stdout, FIRST_LINE as
# the first line of stderr, a Usage line after it and, unless HINT is empty, HINT as the last.
refused() {
	local first=$1 hint=$2 rc=0
	shift 2
	timeout 10 "$MQTTIP" "$@" >"$W/out" 2>"$W/err" </dev/null || rc=$?
	checked=$((checked + 1))
	if [ "$rc" != 2 ]; then
		bad "'mqttip $*' exited $rc, want 2: $(head -n3 "$W/err")"
	elif [ -s "$W/out" ]; then
		bad "'mqttip $*' wrote to stdout: $(head -n3 "$W/out")"
	elif [ "$(head -n1 "$W/err")" != "$first" ]; then
		bad "'mqttip $*' said '$(head -n1 "$W/err")', want '$first'"
	elif ! sed -n 2p "$W/err" | grep -q '^Usage:'; then
		bad "'mqttip $*': no Usage line after the error: $(sed -n 2p "$W/err")"
	elif [ -n "$hint" ] && [ "$(tail -n1 "$W/err")" != "$hint" ]; then
		bad "'mqttip $*' ends with '$(tail -n1 "$W/err")', want '$hint'"
	else
		ok "mqttip $* -> 2: $first"
	fi
}

# usage_line WORDS...: the first line of `mqttip WORDS --help`, without "Usage:".
usage_line() {
	"$MQTTIP" "$@" --help | sed -n '1s/^Usage: *//p'
}

# check WORDS...: a command or subcommand without subcommands of its own.
check() {
	local words="$*" hint usage flag n args=()
	hint="Try 'mqttip help $words' or 'man mqttip-${words// /-}'."
	checked=$((checked + 1))
	if "$MQTTIP" help "$@" >/dev/null 2>&1; then
		ok "the hint 'mqttip help $words' works"
	else
		bad "'mqttip help $words' fails"
	fi
	refused "mqttip $words: unknown option '--no-such-option'" "$hint" "$@" --no-such-option
	usage=$(usage_line "$@")
	flag=$(grep -oE -- "(^|[[ ])--?[a-z0-9][-a-z0-9]* +([A-Z][A-Z0-9_]*|mqtts?://)" <<<"$usage" |
		head -n1 | sed -E 's/^[[ ]//' | awk '{ print $1 }' || true)
	if [ -n "$flag" ]; then
		valued=$((valued + 1))
		refused "mqttip $words: option '$flag' needs a value" "$hint" "$@" "$flag"
	else
		echo "note: 'mqttip $words' has no flag that takes a value (Usage: $usage)"
	fi
	# the arguments of the Usage line: the upper-case words before the first flag
	n=$(awk -v skip=$(($# + 1)) '{ k = 0; for (i = skip + 1; i <= NF; i++) {
		if ($i ~ /^[-\[]/) break; k++ } print k }' <<<"$usage")
	for ((i = 1; i <= n; i++)); do
		args+=("$W/arg$i")
	done
	refused "mqttip $words: unexpected argument 'stray'" "$hint" "$@" "${args[@]}" stray
}

"$MQTTIP" --help >"$W/top"
commands=$(awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }' "$W/top")
[ -n "$commands" ] || bad "'mqttip --help' lists no commands"

refused "mqttip: unknown option '--no-such-option'" "" --no-such-option
refused "mqttip: unknown command 'no-such-command'" "" no-such-command
refused "mqttip: missing COMMAND" ""
refused "mqttip help: unknown command 'no-such-command'" "" help no-such-command

for c in $commands; do
	subs=$("$MQTTIP" "$c" --help |
		awk -v c="$c" '$1 == "mqttip" && $2 == c && NF > 2 && $3 !~ /^[-\[]/ { print $3 }' | sort -u)
	if [ -z "$subs" ]; then
		check "$c"
		refused "mqttip help: unexpected argument 'stray'" "" help "$c" stray
		continue
	fi
	hint="Try 'mqttip help $c' or 'man mqttip-$c'."
	refused "mqttip $c: unknown option '--no-such-option'" "$hint" "$c" --no-such-option
	refused "mqttip $c: unknown subcommand 'stray'" "$hint" "$c" stray
	refused "mqttip $c: missing SUBCOMMAND" "$hint" "$c"
	refused "mqttip $c: unknown subcommand 'stray'" "$hint" help "$c" stray
	for s in $subs; do
		check "$c" "$s"
	done
done

[ "$valued" -gt 0 ] || bad "no Usage line showed a flag that takes a value: the pattern no longer matches"
checks_done

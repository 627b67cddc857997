#!/usr/bin/env bash
# check-completion.sh MQTTIP COMPLETION: the bash completion (agent/completion/mqttip.bash) run as
# bash runs it on TAB (COMP_WORDS / COMP_CWORD set, the function called, COMPREPLY read) against
# the real program: commands, `help`, subcommands, flags of every command and subcommand (all the
# long flags their --help names), and values: files, directories only, interfaces, node names.
set -uo pipefail
MQTTIP=$1
COMPLETION=$2
W=$(mktemp -d /tmp/mqttip-completion.XXXXXX)
trap 'rm -rf "$W"' EXIT
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

# shellcheck source=/dev/null
. "$COMPLETION" || {
	echo "check-completion: cannot source $COMPLETION" >&2
	exit 1
}
complete -p mqttip >/dev/null 2>&1 || bad "the completion does not register itself for 'mqttip'"

# offered LINE: what TAB offers at the end of LINE ("mqttip " completes an empty word), sorted.
offered() {
	local line=$1
	read -r -a COMP_WORDS <<<"$line"
	COMP_WORDS[0]=$MQTTIP
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_mqttip mqttip "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | grep -v '^$' | sort
}

# expect LINE WORD...: TAB after LINE offers exactly WORDS.
expect() {
	local line=$1 got want
	shift
	got=$(offered "$line" | tr '\n' ' ')
	want=
	[ $# -gt 0 ] && want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	checked=$((checked + 1))
	if [ "$got" = "$want" ]; then
		ok "'$line' -> $got"
	else
		bad "'$line' offers '$got', want '$want'"
	fi
}

# expect_has LINE WORD...: TAB after LINE offers at least WORDS.
expect_has() {
	local line=$1 got w
	shift
	got=$(offered "$line")
	checked=$((checked + 1))
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" || {
			bad "'$line' does not offer '$w' (offers: $(tr '\n' ' ' <<<"$got"))"
			return
		}
	done
	ok "'$line' offers $*"
}

commands=$("$MQTTIP" --help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }')
# shellcheck disable=SC2086
expect "mqttip " help $commands
expect "mqttip st" status
expect "mqttip --v" --version
# shellcheck disable=SC2086
expect "mqttip help " $commands
expect "mqttip help pki " init issue rabbitmq renew revocation revoke show verify
expect "mqttip pki " init issue rabbitmq renew revocation revoke show verify
expect "mqttip pki issue --a" --addr --admin
expect "mqttip up --bu" --bundle
expect "mqttip up --max" --max-message --max-peers
expect "mqttip up --max-p" --max-peers
expect "mqttip top --b" --broker
expect "mqttip status --" --help --json --socket

# Every long flag that a command's or subcommand's --help names is offered after "--".
for c in $commands; do
	subs=$("$MQTTIP" "$c" --help | awk -v c="$c" '$1 == "mqttip" && $2 == c && NF > 2 && $3 !~ /^[-\[]/ { print $3 }' | sort -u)
	for words in "$c" $(for s in $subs; do echo "$c:$s"; done); do
		words=${words/:/ }
		# shellcheck disable=SC2086
		long=$("$MQTTIP" $words --help | grep -oE -- "--[a-z0-9][-a-z0-9]*" | sort -u)
		# shellcheck disable=SC2086
		[ -n "$long" ] && expect_has "mqttip $words --" $long
	done
done

# Values.
mkdir -p "$W/dir1" "$W/pki/nodes/n1" "$W/pki/nodes/gw2"
: >"$W/file1"
: >"$W/n1.bundle"
expect "mqttip up --bundle $W/n1" "$W/n1.bundle"
expect "mqttip up -c $W/fi" "$W/file1"
expect "mqttip up --status-socket $W/fi" "$W/file1"
expect "mqttip up --state-file $W/fi" "$W/file1"
expect "mqttip up -b " # a URL: nothing to offer
expect "mqttip pki init $W/di" "$W/dir1"
expect "mqttip pki init $W/f" # a directory is wanted, not a file
expect "mqttip pki issue $W/pki --addr 10.0.1.2/24 --days 3 " # NAME of a new node: none
expect "mqttip pki revoke $W/pki " gw2 n1
expect "mqttip pki revoke $W/pki g" gw2
expect "mqttip pki revoke $W/pki --broker-dir $W/d" "$W/dir1" # a directory, not a file
expect "mqttip pki revoke $W/pki --broker-dir $W/dir1 " gw2 n1
expect "mqttip pki renew $W/pki " gw2 n1
expect "mqttip pki rabbitmq $W/pki --out $W/fi" "$W/file1"
expect "mqttip pki show $W/fi" "$W/file1"
expect "mqttip pki verify $W/pk" "$W/pki"
expect "mqttip pki verify $W/pki $W/n1" "$W/n1.bundle"
expect_has "mqttip status -i " lo
expect "mqttip top --cafile $W/n1" "$W/n1.bundle"
expect "mqttip demo --plugin $W/fi" "$W/file1"

checks_done

#!/usr/bin/env bash
# check-man.sh MQTTIP MANDIR PLUGIN_OPTIONS: the man pages (rendered from docs/man/*.scd into
# MANDIR) and the programs say the same. The commands are read from `mqttip --help` and the
# subcommands from each command's --help ("mqttip CMD SUB" lines), as cli_help.sh does, so a new
# command or subcommand without a page fails here. For `mqttip`, every command and subcommand:
#  - the page mqttip[-CMD[-SUB]].1 exists and `man --warnings -l` renders it without a warning;
#  - `mqttip help CMD [SUB]` prints exactly what `mqttip CMD [SUB] --help` prints;
#  - the flags --help names (every -x / --word in its text, -h and --help aside) are the flags of
#    the page: those in its SYNOPSIS and those its OPTIONS section defines (lines that start an
#    entry), both ways, so a flag added to one and not the other fails;
#  - mqttip.1's COMMANDS section defines exactly the commands of `mqttip --help`.
# For the plugin, the options it accepts (PLUGIN_OPTIONS prints the plugin's own list) are the
# plugin_opt_ entries of mqttip-plugin.5.
set -euo pipefail
MQTTIP=$1
MANDIR=$2
PLUGIN_OPTIONS=${3:-}
W=$(mktemp -d /tmp/mqttip-check-man.XXXXXX)
trap 'rm -rf "$W"' EXIT
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"

command -v man >/dev/null || {
	echo "check-man: 'man' not found: install man-db (scripts/install-deps.sh)" >&2
	exit 1
}

# flags_in: the -x / --word flags of stdin, one a line, sorted, without -h and --help.
flags_in() {
	grep -oE "(^|[][ |,('])--?[A-Za-z0-9][-A-Za-z0-9]*" | sed -E "s/^[][ |,(']//" |
		grep -vxE -- '-h|--help' | sort -u || true
}

# render PAGE: the page as text, wide enough that no line wraps.
render() {
	MANWIDTH=250 MAN_KEEP_FORMATTING='' man -l "$1" 2>/dev/null | col -bx
}

# section NAME < text: the lines of one section (headings are unindented capitals).
section() {
	awk -v want="$1" '/^[A-Z][A-Z ]*$/ { on = ($0 == want); next } on'
}

# entries < section text: the lines that start an entry of a definition list (indented 7).
entries() {
	grep -E '^ {7}[^ ]' || true
}

# compare WHAT HELP_FLAGS_FILE PAGE_FLAGS_FILE
compare() {
	local what=$1 only_help only_page
	only_help=$(comm -23 "$2" "$3" | tr '\n' ' ')
	only_page=$(comm -13 "$2" "$3" | tr '\n' ' ')
	checked=$((checked + 1))
	if [ -n "$only_help" ]; then
		bad "$what: the program names ${only_help}but the man page does not define them"
	fi
	if [ -n "$only_page" ]; then
		bad "$what: the man page defines ${only_page}but the program does not name them"
	fi
	[ -z "$only_help$only_page" ] && ok "$what: $(wc -l <"$2") flags agree"
	return 0
}

# check WORDS...: `mqttip WORDS --help` against its page.
check() {
	local words="$*" page name
	name=mqttip${words:+-${words// /-}}
	page=$MANDIR/$name.1
	checked=$((checked + 1))
	if [ ! -f "$page" ]; then
		bad "'mqttip $words' has no man page $name.1 (write docs/man/$name.1.scd)"
		return
	fi
	if man --warnings -l "$page" 2>"$W/warn" >/dev/null && [ ! -s "$W/warn" ]; then
		ok "$name.1 renders without warnings"
	else
		bad "$name.1: man --warnings: $(head -n3 "$W/warn")"
	fi
	"$MQTTIP" "$@" --help >"$W/help"
	if [ $# -gt 0 ]; then
		checked=$((checked + 1))
		if "$MQTTIP" help "$@" >"$W/help2" 2>"$W/help2.err" && cmp -s "$W/help" "$W/help2"; then
			ok "'mqttip help $words' = 'mqttip $words --help'"
		else
			bad "'mqttip help $words' differs from 'mqttip $words --help': $(diff "$W/help" "$W/help2" | head -n4)"
		fi
	fi
	flags_in <"$W/help" >"$W/hflags"
	render "$page" >"$W/page"
	{
		section SYNOPSIS <"$W/page"
		section OPTIONS <"$W/page" | entries
	} | flags_in >"$W/pflags"
	compare "mqttip${words:+ $words}" "$W/hflags" "$W/pflags"
}

"$MQTTIP" --help >"$W/top"
commands=$(awk '/^Commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }' "$W/top")
[ -n "$commands" ] || bad "'mqttip --help' lists no commands"
check
if [ -f "$MANDIR/mqttip.1" ]; then
	render "$MANDIR/mqttip.1" | section COMMANDS | entries | awk '{ print $1 }' | sort >"$W/pcmds"
	sort <<<"$commands" >"$W/hcmds"
	checked=$((checked + 1))
	if cmp -s "$W/hcmds" "$W/pcmds"; then
		ok "mqttip.1 COMMANDS = 'mqttip --help' commands"
	else
		bad "mqttip.1 COMMANDS differ from 'mqttip --help': $(diff "$W/hcmds" "$W/pcmds" | grep '^[<>]' | tr '\n' ' ')"
	fi
fi
for c in $commands; do
	check "$c"
	subs=$("$MQTTIP" "$c" --help |
		awk -v c="$c" '$1 == "mqttip" && $2 == c && NF > 2 && $3 !~ /^[-\[]/ { print $3 }' | sort -u)
	for s in $subs; do
		check "$c" "$s"
	done
done

if [ -n "$PLUGIN_OPTIONS" ]; then
	page=$MANDIR/mqttip-plugin.5
	checked=$((checked + 1))
	if [ ! -f "$page" ]; then
		bad "no man page mqttip-plugin.5"
	else
		man --warnings -l "$page" 2>"$W/warn" >/dev/null
		[ -s "$W/warn" ] && bad "mqttip-plugin.5: man --warnings: $(head -n3 "$W/warn")"
		"$PLUGIN_OPTIONS" | tr -s ', ' '\n' | grep -v '^$' | sed 's/^/plugin_opt_/' | sort -u >"$W/hopts"
		render "$page" | section OPTIONS | entries | awk '$1 ~ /^plugin_opt_/ { print $1 }' | sort -u >"$W/popts"
		[ -s "$W/hopts" ] || bad "$PLUGIN_OPTIONS printed no option"
		compare "mqttip-plugin.5 options" "$W/hopts" "$W/popts"
	fi
fi

checks_done

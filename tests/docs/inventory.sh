#!/usr/bin/env bash
# inventory.sh SRC_DIR - every example of README.md and docs/*.md is accounted for (issue 17):
#  - every fenced block names its language (sh for commands to run; text, conf, json, abnf, ...),
#    so that a command block cannot hide among the others;
#  - every sh block is run by a test: README.md's "Deploy by hand" blocks by docs_readme_deploy
#    (tests/integration/docs_readme.sh, as written), the others as tests/docs/examples.txt says:
#    "scratch" (docs_readme_deploy runs it in a fresh directory), "walkthrough" (each of its
#    command lines is a line of a Deploy by hand block, so it runs there), or "not run: WHY";
#  - no line of examples.txt names a block that is gone;
#  - the configuration README.md shows for mosquitto is in conf/mosquitto.conf, active.
# Indented (unfenced) code blocks are not inventoried: they hold output and synopses.
set -euo pipefail
SRC=$1
cd "$SRC"
T=$(mktemp -d /tmp/mqttip-docs-inventory.XXXXXX)
trap 'rm -rf "$T"' EXIT
EX=tests/docs/examples.txt
fails=0
count=0
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

awk -v out="$T" -f tests/docs/mdblocks.awk README.md docs/*.md >"$T/index"
# The lines docs_readme_deploy runs.
awk -F'\037' '$2 == "README.md" && $4 ~ /^sh( |$)/ && $5 ~ /^Deploy by hand/ { print $1 }' "$T/index" |
	while read -r id; do cat "$T/$id"; done >"$T/deploy-lines"
grep -v '^#' "$EX" | grep . >"$T/examples" || true
: >"$T/used"

while IFS=$'\037' read -r id file line info h2 _; do
	count=$((count + 1))
	where="$file:$line"
	if [ "$info" = UNCLOSED ]; then
		bad "$where: fenced block never closed"
		continue
	fi
	if [ -z "$info" ]; then
		bad "$where: fenced block without a language (sh for commands to run; text, conf, json, ...)"
		continue
	fi
	[ "${info%% *}" = sh ] || continue
	first=$(head -n1 "$T/$id")
	if [ "$file" = README.md ] && [[ $h2 == "Deploy by hand"* ]]; then
		ok "$where: run by docs_readme_deploy (Deploy by hand)"
		continue
	fi
	how=$(awk -F'\t' -v f="$file" -v l="$first" '$1 == f && $2 == l { print $3; exit }' "$T/examples")
	[ -z "$how" ] || printf '%s\t%s\n' "$file" "$first" >>"$T/used"
	case $how in
	"")
		bad "$where: a command block no test runs ('$first'): put it in README.md's Deploy by hand, or list it in $EX with how it is covered"
		;;
	scratch)
		if [ "$file" = README.md ]; then
			ok "$where: run by docs_readme_deploy in a scratch directory"
		else
			bad "$where: 'scratch' is for README.md blocks (docs_readme_deploy reads README.md)"
		fi
		;;
	walkthrough)
		missing=$(grep -v '^#' "$T/$id" | grep . | while IFS= read -r l; do
			grep -qxF -- "$l" "$T/deploy-lines" || echo "$l"
		done)
		if [ -n "$missing" ]; then
			bad "$where: not in README.md's Deploy by hand any more: $missing"
		else
			ok "$where: its commands run in README.md's Deploy by hand"
		fi
		;;
	"not run: "*)
		ok "$where: $how"
		;;
	*)
		bad "$EX: '$how' for $where: want scratch, walkthrough or 'not run: WHY'"
		;;
	esac
done <"$T/index"

while IFS=$'\t' read -r file first _; do
	grep -qxF -- "$(printf '%s\t%s' "$file" "$first")" "$T/used" ||
		bad "$EX: no sh block of $file starts with '$first' (stale line)"
done <"$T/examples"

# README's excerpt of the broker configuration: active lines of conf/mosquitto.conf.
conf_id=$(awk -F'\037' '$2 == "README.md" && $4 == "conf" && $5 == "Load the plugin in mosquitto" { print $1; exit }' "$T/index")
if [ -z "$conf_id" ]; then
	bad "README.md: no conf block in 'Load the plugin in mosquitto'"
else
	while IFS= read -r l; do
		[ -n "$l" ] || continue
		grep -qxF -- "$l" conf/mosquitto.conf || bad "README.md shows '$l', which conf/mosquitto.conf does not set"
	done <"$T/$conf_id"
	ok "README.md's mosquitto configuration is conf/mosquitto.conf's"
fi

[ "$count" -gt 0 ] || bad "no fenced blocks found"
[ "$fails" = 0 ] || { echo "docs inventory: $fails problems in $count blocks" >&2; exit 1; }
echo "docs inventory: $count blocks, all accounted for"

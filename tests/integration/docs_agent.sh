#!/usr/bin/env bash
# docs_agent.sh MQTTIP PLUGIN SRC_DIR PART - docs/AGENT.md says what `mqttip up --help` and
# `mqttip status` say (issue 17 item 8).
#   help    (unit) every key of AGENT.md's settings table is in `mqttip up --help`, and where both
#           give a default they agree: a default the table derives from the certificate is not a
#           fixed value in --help, and a fixed value in --help is the table's
#   status  (integration, root) two agents with a session: every line label of `mqttip status`
#           (as "up:") and every key of `mqttip status --json` (as `uptime_s`) is documented in
#           AGENT.md's "mqttip status" section; the fields of docs/STATUS.md's tables are the
#           keys of `mqttip status --json`, both ways; and a flag wins over the certificate
#           (-x alone)
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
SRC=$3
PART=$4
DOC=$SRC/docs/AGENT.md
fails=0
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
ok() { echo "ok: $*"; }

part_help() {
	local help entries key default entry hdef
	help=$("$MQTTIP" up --help)
	# One line per flag: continuation lines (deeply indented) joined to their flag's line.
	entries=$(awk '/^  -/ { if (e != "") print e; e = $0; next } /^      / { sub(/^ +/, " "); e = e $0; next } END { if (e != "") print e }' <<<"$help")
	while IFS='|' read -r _ key _ default _; do
		key=$(sed 's/^ *`//; s/`.*//' <<<"$key")
		[ -n "$key" ] || continue
		# Placeholders as --help writes them; no Markdown quotes.
		default=$(sed 's/^ *//; s/ *$//; s/`//g; s/<interface>/IFNAME/g; s/<netns>/NETNS/g' <<<"$default")
		if ! grep -qE -- "\\(${key}[;,) ]|--${key}( |$)" <<<"$entries"; then
			bad "AGENT.md key '$key' is not in 'mqttip up --help'"
			continue
		fi
		entry=$(grep -E -- "\\(${key}[;,) ]" <<<"$entries" | head -n1 || true)
		[ -n "$entry" ] || continue
		hdef=$(sed -nE "s/.*\\(${key}[;,] *default:? *([^)]*)\\).*/\\1/p" <<<"$entry")
		[ -n "$hdef" ] || continue
		if grep -qi "certificate" <<<"$default" && ! grep -qi "certificate" <<<"$hdef"; then
			bad "$key: AGENT.md's default is '$default', --help says 'default $hdef'"
		elif ! grep -qi "certificate" <<<"$hdef" && ! grep -qF -- "${hdef%%[ ;,:]*}" <<<"$default"; then
			bad "$key: --help says 'default $hdef', AGENT.md '$default'"
		else
			ok "$key: --help 'default $hdef' = AGENT.md '$default'"
		fi
	done < <(awk '/^## Settings/ { on = 1 } /^## / && !/^## Settings/ { on = 0 } on && /^\| `/' "$DOC")
}

part_status() {
	. "$(dirname "$0")/lib/agent_lab.sh"
	lab_init
	lab_broker_start
	lab_agent_start a -x 112
	lab_agent_start b
	lab_wait_ping a 10.0.1.2 20 || tb_fail "a cannot reach b"
	local section text json label key
	section=$(awk '/^## `mqttip status`/ { on = 1; next } /^## / { on = 0 } on' "$DOC")
	text=$(lab_status a)
	json=$(lab_status a --json)
	while IFS= read -r label; do
		grep -qF -- "$label:" <<<"$section" || bad "'mqttip status' prints '$label:', which AGENT.md does not show"
	done < <(sed -nE 's/^ *([a-z][a-z ]*[a-z]): .*/\1/p' <<<"$text" | sort -u)
	ok "text labels: $(sed -nE 's/^ *([a-z][a-z ]*[a-z]): .*/\1/p' <<<"$text" | sort -u | tr '\n' ',' | sed 's/,$//')"
	while IFS= read -r key; do
		grep -qF -- "\`$key\`" <<<"$section" || bad "'mqttip status --json' has '$key', which AGENT.md does not name"
	done < <(grep -oE '"[a-z0-9_]+":' <<<"$json" | tr -d '":' | sort -u)
	ok "JSON keys: $(grep -oE '"[a-z0-9_]+":' <<<"$json" | tr -d '":' | sort -u | wc -l) checked"
	# docs/STATUS.md, the schema: its tables' fields are the document's keys, both ways
	grep -oE '"[a-z0-9_]+":' <<<"$json" | tr -d '":' | sort -u >"$TB_DIR/json-keys"
	awk -F'|' '/^\| `/ { print $2 }' "$SRC/docs/STATUS.md" | grep -oE '`[a-z0-9_]+(\[\])?`' |
		tr -d '`[]' | sort -u >"$TB_DIR/schema-keys"
	# drop reasons are members of "drops", listed in the text, not in the tables
	while IFS= read -r key; do
		grep -qF -- "\`$key\`" "$SRC/docs/STATUS.md" ||
			bad "'mqttip status --json' has '$key', which docs/STATUS.md does not name"
	done <"$TB_DIR/json-keys"
	while IFS= read -r key; do
		grep -qx -- "$key" "$TB_DIR/json-keys" ||
			bad "docs/STATUS.md defines '$key', which 'mqttip status --json' does not have"
	done <"$TB_DIR/schema-keys"
	ok "docs/STATUS.md: $(wc -l <"$TB_DIR/schema-keys") fields = the document's keys"
	# AGENT.md: flags win over the certificate; -x alone (a's certificate says /64).
	lab_in a ip -6 addr show dev mqttip0 | grep -q "inet6 fd00:1::1/112" ||
		bad "-x 112 did not set the prefix length: $(lab_in a ip -6 addr show dev mqttip0)"
	ok "-x 112 wins over the certificate's /64"
	lab_agent_stop a
	lab_agent_stop b
}

case $PART in
help) part_help ;;
status) part_status ;;
*)
	echo "unknown part '$PART'" >&2
	exit 2
	;;
esac
[ "$fails" = 0 ] || { echo "docs_agent $PART: $fails mismatches" >&2; exit 1; }
echo "docs_agent $PART: all checks passed"

#!/usr/bin/env bash
# plugin_top.sh - issue 17 item 7, `mqttip top` against a real broker with the plugin:
#  - interactive (on a terminal, here a pty made by script(1)): a line on the screen at once,
#    "waiting for the first metrics document from HOST:PORT", before any document;
#  - `q` quits at once, with exit status 0, and the terminal is given back;
#  - --once shows rates (numbers, not "-") from its single document while traffic flows;
#  - the first document comes without waiting a metrics interval (the plugin retains it).
set -euo pipefail
source "$(dirname "$0")/lib/plugin_env.sh"
: "${MQTTIP_AGENT:?set MQTTIP_AGENT to the mqttip program}"
command -v script >/dev/null || { echo "SKIP: script(1) (util-linux) missing" >&2; exit 77; }
tb_init
plugin_env_pki
# A long interval: every document a viewer gets quickly is the retained one.
plugin_env_start policy_file="$D/policy" metrics_interval=4
TOP=("$MQTTIP_AGENT" top --broker "mqtts://127.0.0.1:$TLS" --cafile "$D/ca.crt"
	--cert "$D/ops.crt" --key "$D/ops.key")

# Interactive, on a pty: the waiting line at once, then the table, and q after 3 s.
start=$(date +%s.%N)
(sleep 3; printf q; sleep 6) |
	timeout 12 script -qfec "${TOP[*]}; echo top-exit=\$? \$(date +%s.%N)" /dev/null >"$D/pty.out" 2>&1 || true
end=$(sed -n 's/.*top-exit=\([0-9]*\) \([0-9.]*\).*/\1 \2/p' "$D/pty.out")
[ -n "$end" ] || tb_fail "mqttip top did not exit within 12 s (q did not quit): $(tr -d '\033' <"$D/pty.out" | tail -5)"
rc=${end%% *}
took=$(awk -v a="$start" -v b="${end#* }" 'BEGIN { printf "%.1f", b - a }')
[ "$rc" = 0 ] || tb_fail "mqttip top exited $rc after q: $(tr -d '\033' <"$D/pty.out" | tail -5)"
awk -v t="$took" 'BEGIN { exit !(t < 5) }' || tb_fail "q took until $took s to quit"
tb_ok "q quits (exit 0, $took s after start, q sent at 3 s)"
grep -q "waiting for the first metrics document from 127.0.0.1:$TLS" "$D/pty.out" ||
	tb_fail "no waiting line on the screen: $(tr -d '\033' <"$D/pty.out" | head -5)"
tb_ok "waiting line: $(grep -o 'waiting for the first metrics document from [^ ]*' "$D/pty.out" | head -1)"
grep -q "^TOTAL " <(tr '\r' '\n' <"$D/pty.out") || tb_fail "no table within 3 s: $(tr -d '\033' <"$D/pty.out" | tail -5)"
tb_ok "the table came within 3 s (metrics_interval 4 s)"

# --once while node-a publishes 20 messages a second: its rates are numbers from one document.
(for _ in $(seq 1 160); do echo 0123456789; sleep 0.05; done) |
	mosquitto_pub $(as node-a) -l -t mqttip/10-9-0-2/10-9-0-1 &
PUB=$!
TB_PIDS+=("$PUB")
sleep 5 # one full window of traffic
"${TOP[@]}" --once --timeout 10 >"$D/once.out" || tb_fail "mqttip top --once failed"
row=$(grep -E "^node-a " "$D/once.out") || tb_fail "no node-a row: $(cat "$D/once.out")"
pub=$(awk '{ print $4 }' <<<"$row")
bytes=$(awk '{ print $6 }' <<<"$row")
awk -v r="$pub" 'BEGIN { exit !(r + 0 > 5 && r + 0 < 40) }' ||
	tb_fail "--once: node-a PUB/s '$pub', want about 20: $row"
awk -v r="$bytes" 'BEGIN { exit !(r + 0 > 50 && r + 0 < 400) }' ||
	tb_fail "--once: node-a PUB B/s '$bytes', want about 200: $row"
tb_ok "--once rates from one document: node-a $pub msg/s, $bytes B/s"
wait "$PUB" || true

broker_alive || tb_fail "broker died"
broker_stop "$LOG" || tb_fail "sanitizer report in the broker log"
echo "plugin_top: all checks passed"

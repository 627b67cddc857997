#!/usr/bin/env bash
# plugin_noticks.sh - issue 17 item 4: with `per_listener_settings true`, mosquitto before 2.0.15
# (Debian 12 has 2.0.11) never ticks the plugin, so it never publishes metrics after its first
# document and never kicks superseded sessions. The plugin must say so, naming the setting, in
# the broker's log, and `mqttip top` must name that cause; with `per_listener_settings false`
# neither says anything. (Skipped on a mosquitto that does tick per-listener plugins: there is
# nothing to detect.)
set -euo pipefail
source "$(dirname "$0")/lib/plugin_env.sh"
: "${MQTTIP_AGENT:?set MQTTIP_AGENT to the mqttip program}"
tb_init
plugin_env_pki

# start_broker true|false: a TLS listener with the plugin after it (per-listener settings attach
# the plugin to the listener above its line).
start_broker() {
	TLS=$(tb_free_port)
	CONF=$D/mosquitto-$1.conf
	LOG=$D/broker-$1.log
	broker_conf_base "$CONF"
	sed -i "s/^per_listener_settings .*/per_listener_settings $1/" "$CONF"
	broker_conf_tls "$CONF" "$TLS" "$D" ca server "$D/ca.crl"
	broker_conf_plugin "$CONF" "$MQTTIP_PLUGIN" policy_file="$D/policy" metrics_interval=1
	broker_start "$CONF" "$LOG" "$TLS" || tb_fail "broker did not start"
}

top_once() {
	"$MQTTIP_AGENT" top --broker "mqtts://127.0.0.1:$TLS" --cafile "$D/ca.crt" \
		--cert "$D/ops.crt" --key "$D/ops.key" --once --timeout 8 >"$D/top.out" 2>"$D/top.err" || true
}

version=$( (mosquitto -h 2>&1 || true) | sed -n 's/^mosquitto version \([0-9.]*\).*/\1/p' | head -n1)
if [ "$(printf '%s\n' "$version" 2.0.15 | sort -V | head -n1)" = 2.0.15 ]; then
	echo "SKIP: mosquitto $version ticks per-listener plugins; nothing to detect" >&2
	exit 77
fi

# per_listener_settings true: an event more than 5 s after start finds no tick.
start_broker true
sleep 6
top_once
grep -q "per_listener_settings" "$LOG" ||
	tb_fail "broker log does not name per_listener_settings: $(grep mqttip "$LOG")"
grep -q "mqttip: mosquitto has not ticked the plugin.*per_listener_settings false" "$LOG" ||
	tb_fail "no warning line in the broker log: $(grep mqttip "$LOG")"
tb_ok "plugin log: $(grep -o 'mqttip: mosquitto has not.*' "$LOG" | head -n1)"
grep -q "per_listener_settings" "$D/top.out" "$D/top.err" ||
	tb_fail "mqttip top does not name per_listener_settings: $(cat "$D/top.out" "$D/top.err")"
tb_ok "mqttip top: $(grep -h per_listener_settings "$D/top.out" "$D/top.err" | head -n1 | cut -c1-100)..."
broker_stop "$LOG" || tb_fail "sanitizer report in the broker log"

# per_listener_settings false: ticks arrive; no warning anywhere, and documents keep coming.
start_broker false
sleep 6
top_once
! grep -q "per_listener_settings" "$LOG" || tb_fail "warning with ticks: $(grep mqttip "$LOG")"
! grep -q "per_listener_settings\|WARNING\|NOTE" "$D/top.out" ||
	tb_fail "mqttip top warns with a ticking broker: $(cat "$D/top.out")"
grep -q "^TOTAL " "$D/top.out" || tb_fail "mqttip top showed no table: $(cat "$D/top.out" "$D/top.err")"
tb_ok "per_listener_settings false: no warning, mqttip top shows the table"
broker_stop "$LOG" || tb_fail "sanitizer report in the broker log"
echo "plugin_noticks: all checks passed"

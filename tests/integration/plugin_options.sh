#!/usr/bin/env bash
# plugin_options.sh - option handling: every bad option or unreadable file stops mosquitto with
# a non-zero exit and a log line naming the problem; outside_prefix defer leaves other topics to
# mosquitto's acl_file, deny refuses them.
set -euo pipefail
source "$(dirname "$0")/lib/plugin_env.sh"
tb_init
plugin_env_pki
printf 'bogus node-a\n' >"$D/bad.policy"

refuses() { # refuses WHAT-THE-LOG-MUST-SAY option=value...
	local want=$1 conf=$D/bad.conf port rc=0
	shift
	port=$(tb_free_port)
	broker_conf_base "$conf"
	broker_conf_tls "$conf" "$port" "$D" ca server
	broker_conf_plugin "$conf" "$MQTTIP_PLUGIN" "$@"
	timeout 10 bash -c "source \"$(dirname "$0")/lib/broker.sh\"; broker_run \"$conf\"" >"$D/bad.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || tb_fail "mosquitto started (rc $rc) with $*"
	grep -q "mqttip: refusing to start: .*$want" "$D/bad.log" ||
		{ cat "$D/bad.log"; tb_fail "no clear log line for $*"; }
	tb_ok "refused ($rc): $(grep -o 'mqttip: refusing.*' "$D/bad.log" | head -c 110)"
}
refuses "unknown option plugin_opt_colour" colour=blue
refuses "metrics_interval" metrics_interval=ten
refuses "metrics_interval" metrics_interval=-1
refuses "metrics_interval" metrics_interval=86401
refuses "outside_prefix" outside_prefix=maybe
refuses "legacy" legacy=yes
refuses "prefix" prefix=a/b
refuses "prefix" 'prefix=mq#'
refuses "prefix" 'prefix=$SYS'
refuses "cannot open $D/missing" policy_file="$D/missing"
refuses "line 1: unknown keyword" policy_file="$D/bad.policy"
refuses "cannot create $D/nodir/x.prom.tmp" prometheus_file="$D/nodir/x.prom"

# outside_prefix: an acl_file grants "other/#"; defer lets it decide, deny overrides it.
printf 'topic readwrite other/#\n' >"$D/acl"
for mode in defer deny; do
	plugin_env_start outside_prefix=$mode
	echo "acl_file $D/acl" >>"$CONF"
	kill "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null || true
	broker_start "$CONF" "$LOG" "$TLS" || tb_fail "broker did not start"
	got=$(suback node-a 'other/x')
	want=0
	[ $mode = defer ] || want=128
	[ "$got" = "$want" ] || tb_fail "outside_prefix=$mode: other/x SUBACK $got, expected $want"
	[ "$(suback node-a 'mqttip/10-9-0-2/+')" = 128 ] || tb_fail "prefix not enforced"
	tb_ok "outside_prefix=$mode: other/x -> $got"
	broker_stop "$LOG" || tb_fail "sanitizer report"
done
echo "plugin_options: all checks passed"

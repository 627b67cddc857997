#!/usr/bin/env bash
# dashboard_series.sh DASHBOARD: the Grafana dashboard (conf/grafana-mqttip.json) queries what the
# plugin writes. A real mosquitto with the plugin writes its Prometheus textfile every second while
# node-a publishes data and handshake messages to node-b, forges a source, subscribes to a foreign
# inbox, and a node the policy denies tries to connect; two textfiles taken 2 s apart then go to
# `scripts/dashboard.py check`: every query of the dashboard parses, every series it selects is in
# the plugin's output (with the labels it matches on), and evaluated over the two files every query
# gives a value (rates included). A dashboard that names a series the plugin does not write, or a
# label it does not set, fails.
set -euo pipefail
DASHBOARD=$1
RENDER=$(dirname "$0")/../../scripts/dashboard.py
source "$(dirname "$0")/lib/plugin_env.sh"
[ -x /usr/bin/python3 ] || {
	echo "dashboard_series: /usr/bin/python3 not found (scripts/install-deps.sh); skipped" >&2
	exit 77
}
tb_init
plugin_env_pki
plugin_env_start policy_file="$D/policy" metrics_interval=1 prometheus_file="$D/mqttip.prom"

# shellcheck disable=SC2046 # as NAME prints several arguments
traffic() {
	listen node-b "$D/b.out" 3 'mqttip/10-9-0-2/+' 'mqttip/kx/10-9-0-2/+'
	local b=$LISTEN_PID
	printf 'data\n%.0s' 1 2 | mosquitto_pub $(as node-a) -l -t mqttip/10-9-0-2/10-9-0-1
	mosquitto_pub $(as node-a) -q 1 -t mqttip/kx/10-9-0-2/10-9-0-1 -m kx
	mosquitto_pub $(as node-a) -q 1 -t mqttip/10-9-0-2/10-9-0-3 -m forged || true
	mosquitto_sub $(as node-a) -E -t 'mqttip/10-9-0-2/+' >/dev/null 2>&1 || true
	mosquitto_sub $(as node-c) -E -t 'mqttip/10-9-0-3/+' >/dev/null 2>&1 || true
	wait "$b" || true
}

# snapshot N: the textfile once the plugin has rewritten it after the traffic.
snapshot() {
	sleep 1.5
	cp "$D/mqttip.prom" "$D/snap$1.prom"
}

traffic
snapshot 1
traffic
snapshot 2
grep -q '^mqttip_published_messages_total{node="node-a"} [1-9]' "$D/snap2.prom" ||
	tb_fail "the plugin counted no traffic: $(head -n 20 "$D/snap2.prom")"
"$RENDER" check "$DASHBOARD" "$D/snap1.prom" "$D/snap2.prom" || tb_fail "dashboard and plugin output disagree"
tb_ok "every query of the dashboard selects series of the plugin's textfile and gives a value"

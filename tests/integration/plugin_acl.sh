#!/usr/bin/env bash
# plugin_acl.sh - the plugin's ACLs on a real mosquitto with TLS client certificates:
# inbox isolation (also through wildcards), foreign <src>, directory ownership, admin-only
# $SYS/broker/mqttip, legitimate flows with delivery, revocation (policy deny, CRL, SIGHUP),
# newest session wins, clients without certificate or SAN.
set -euo pipefail
source "$(dirname "$0")/lib/plugin_env.sh"
tb_init
plugin_env_pki
plugin_env_start policy_file="$D/policy" metrics_interval=1 legacy=on

# --- legitimate flows, with delivery -----------------------------------------------------------
listen node-b "$D/b.out" 4 'mqttip/10-9-0-2/+' 'mqttip/fd00::2/+' 'mqttip/kx/10-9-0-2/+' 'mqttip/10.9.0.2'
B=$LISTEN_PID
EXPECT=0 expect_puback node-a mqttip/10-9-0-2/10-9-0-1 data-a
EXPECT=0 expect_puback node-a mqttip/fd00::2/fd00::1 data-a6
EXPECT=0 expect_puback node-a mqttip/kx/10-9-0-2/10-9-0-1 kx-a
EXPECT=0 expect_puback node-a mqttip/10.9.0.2 legacy-a
EXPECT=0 expect_puback gw1 mqttip/10-9-0-2/192-168-5-7 data-gw
# --- refused publishes: foreign <src>, malformed, legacy without permission, retained data -----
EXPECT=135 expect_puback node-a mqttip/10-9-0-2/10-9-0-3 forged-src
EXPECT=135 expect_puback node-a mqttip/kx/10-9-0-2/10-9-0-3 forged-kx
EXPECT=135 expect_puback node-a mqttip/10-9-0-2/10-09-0-1 noncanonical
EXPECT=135 expect_puback node-a mqttip/10.9.0.2/10.9.0.1 protocol-1-spelling
EXPECT=135 expect_puback node-a mqttip/10-9-0-2/10-9-0-1/x deeper
EXPECT=135 expect_puback node-b mqttip/10.9.0.2 legacy-b
EXPECT=135 expect_puback node-a mqttip/10-9-0-2/10-9-0-1 retained-data -r
EXPECT=135 expect_puback gw1 mqttip/10-9-0-2/192-168-6-1 gw-outside-route
EXPECT=135 expect_puback nosan mqttip/10-9-0-2/10-9-0-1 nosan
EXPECT=135 expect_puback node-a '$SYS/broker/mqttip/metrics' fake-metrics
wait "$B" || true
for want in "mqttip/10-9-0-2/10-9-0-1 data-a" "mqttip/fd00::2/fd00::1 data-a6" \
	"mqttip/kx/10-9-0-2/10-9-0-1 kx-a" "mqttip/10.9.0.2 legacy-a" \
	"mqttip/10-9-0-2/192-168-5-7 data-gw"; do
	grep -qxF "$want" "$D/b.out" || tb_fail "node-b did not receive '$want'"
done
[ "$(wc -l <"$D/b.out")" = 5 ] || { cat "$D/b.out"; tb_fail "node-b received refused messages"; }
tb_ok "node-b received exactly the 5 legitimate messages"

# --- inbox isolation: node-a cannot subscribe to node-b's inbox, directly or by wildcard --------
for f in 'mqttip/10-9-0-2/+' 'mqttip/10-9-0-2/#' 'mqttip/10.9.0.2' 'mqttip/kx/10-9-0-2/+' \
	'mqttip/#' 'mqttip/+/+' 'mqttip/+/10-9-0-1' 'mqttip/kx/+/+' 'mqttip/kx/#' '#' '+/+/+' \
	'+/#' 'mqttip/+' '$share/g/mqttip/10-9-0-2/+' '$share/g/#' 'mqttip' 'mqttip/cert' \
	'$SYS/broker/mqttip/#' '$SYS/broker/mqttip/metrics'; do
	expect_suback node-a "$f" 128
done
for f in 'mqttip/10-9-0-1/+' 'mqttip/fd00::1/+' 'mqttip/10-9-0-1/#' 'mqttip/kx/10-9-0-1/+' \
	'mqttip/cert/+' 'mqttip/cert/#' 'mqttip/10.9.0.1' 'mqttip/255-255-255-255/+' \
	'$share/g/mqttip/10-9-0-1/+'; do
	expect_suback node-a "$f" 0
done
expect_suback gw1 'mqttip/192-168-5-7/+' 0
expect_suback gw1 'mqttip/192-168-6-7/+' 128
expect_suback ops '$SYS/broker/mqttip/#' 0
expect_suback nosan 'mqttip/cert/+' 0
expect_suback nosan 'mqttip/10-9-0-1/+' 128
expect_suback - 'mqttip/cert/+' 128
expect_suback - 'mqttip/10-9-0-2/+' 128
expect_suback - '#' 128

# Even broad filters that mosquitto grants elsewhere must not deliver another node's traffic or
# the metrics: node-a listens on everything it may ask for while node-b's traffic flows.
listen node-a "$D/a.out" 3 '#' 'mqttip/#' '$SYS/#' 'mqttip/10-9-0-1/+'
A=$LISTEN_PID
listen - "$D/anon.out" 3 '#' '$SYS/#'
N=$LISTEN_PID
EXPECT=0 expect_puback node-b mqttip/10-9-0-1/10-9-0-2 to-a
EXPECT=0 expect_puback ops mqttip/10-9-0-100/10-9-0-100 self
wait "$A" "$N" || true
grep -qxF "mqttip/10-9-0-1/10-9-0-2 to-a" "$D/a.out" || tb_fail "node-a missed its own message"
if grep -v '^mqttip/10-9-0-1/' "$D/a.out" | grep -q .; then
	cat "$D/a.out"
	tb_fail "node-a received foreign traffic or metrics"
fi
grep -q . "$D/anon.out" && tb_fail "client without certificate received: $(cat "$D/anon.out")"
tb_ok "wildcards deliver nothing foreign; no metrics for non-admins"

# --- directory: own entry retained, foreign entry refused, readable by every node --------------
EXPECT=0 expect_puback node-a mqttip/cert/10-9-0-1 cert-a -r
EXPECT=0 expect_puback node-b mqttip/cert/10-9-0-2 cert-b -r
EXPECT=135 expect_puback node-a mqttip/cert/10-9-0-2 overwrite-b -r
EXPECT=135 expect_puback gw1 mqttip/cert/192-168-5-1 cert-route -r
mosquitto_sub $(as node-b) -v -W 2 -C 2 -t 'mqttip/cert/+' >"$D/dir.out" 2>&1 || true
grep -qxF "mqttip/cert/10-9-0-1 cert-a" "$D/dir.out" || tb_fail "directory: cert-a missing"
grep -qxF "mqttip/cert/10-9-0-2 cert-b" "$D/dir.out" || tb_fail "directory: cert-b overwritten"
tb_ok "directory entries: own retained, foreign refused, readable"

# --- admin metrics -----------------------------------------------------------------------------
mosquitto_sub $(as ops) -C 1 -W 4 -t '$SYS/broker/mqttip/metrics' >"$D/metrics.json"
"$MQTTIP_METRICS_GET" "$D/metrics.json" total connects >/dev/null || tb_fail "metrics not JSON"
tb_ok "admin receives the metrics document"

# --- revocation: policy deny, CRL, other CA ----------------------------------------------------
r=$(connack node-c)
[[ $r == *"not authorised"* ]] || tb_fail "node-c (policy deny) connected: $r"
tb_ok "policy deny refused: $r"
for who in node-r evil; do
	r=$(connack "$who")
	[ "$r" != ok ] || tb_fail "$who connected"
	tb_ok "$who refused by TLS: $r"
done
[ "$(connack node-a)" = ok ] || tb_fail "node-a cannot connect"

# --- newest session wins -----------------------------------------------------------------------
mosquitto_sub $(as node-b) -i b-old -W 6 -t 'mqttip/10-9-0-2/+' >"$D/old.out" 2>&1 &
OLD=$!
TB_PIDS+=("$OLD")
# b-old must be in before b-new comes; then the broker's log lines, which follow the clients'
# connections by a while on a loaded machine. The waits end well before b-old's own -W 6 exit,
# whose log line would otherwise pass for the takeover's disconnection.
tb_wait_log 3 "as b-old " "$LOG" || tb_fail "b-old did not connect"
mosquitto_sub $(as node-b) -i b-new -W 3 -t 'mqttip/10-9-0-2/+' >"$D/new.out" 2>&1 &
NEW=$!
TB_PIDS+=("$NEW")
tb_wait_log 2 "node node-b: new session b-new replaces b-old" "$LOG" || tb_fail "no takeover logged"
tb_wait_log 1 "Client b-old .*disconnected|Client b-old disconnected" "$LOG" ||
	{ cat "$LOG"; tb_fail "older session b-old not disconnected"; }
tb_ok "newest session wins; older one disconnected"
kill "$OLD" "$NEW" 2>/dev/null || true

# --- reload: a node that loses its rights is disconnected --------------------------------------
mosquitto_sub $(as gw1) -i gw-live -W 8 -t 'mqttip/192-168-5-7/+' >"$D/gw.out" 2>&1 &
GW=$!
TB_PIDS+=("$GW")
# gw-live must be in before the reload; the waits end before its own -W 8 exit (see above)
tb_wait_log 3 "as gw-live " "$LOG" || tb_fail "gw-live did not connect"
printf '%s\n' "admin ops" "deny node-c" "legacy node-a" >"$D/policy"
kill -HUP "$BROKER_PID"
tb_wait_log 3 "node gw1 lost rights on reload" "$LOG" || tb_fail "reload did not revoke gw1"
tb_wait_log 1 "Client gw-live .*disconnected" "$LOG" ||
	tb_fail "gw1 not disconnected on reload"
expect_suback gw1 'mqttip/192-168-5-7/+' 128
printf '%s\n' "deny node-a" >>"$D/policy"
reloads=$(grep -c "policy reloaded" "$LOG" || true)
kill -HUP "$BROKER_PID"
# the reload must be done before node-a tries (a try before it would still get in)
tb_wait_log 10 "policy reloaded" "$LOG" $((reloads + 1)) || tb_fail "the broker did not reload"
r=$(connack node-a)
[[ $r == *"not authorised"* ]] || tb_fail "node-a still connects after deny + SIGHUP: $r"
tb_ok "SIGHUP: lost rights disconnected, deny refused"
kill "$GW" 2>/dev/null || true

broker_alive || tb_fail "broker died"
broker_stop "$LOG" || tb_fail "sanitizer report in the broker log"
echo "plugin_acl: all checks passed"

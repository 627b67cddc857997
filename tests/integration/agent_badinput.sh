#!/usr/bin/env bash
# agent_badinput.sh MQTTIP PLUGIN: `mqttip up` refuses bad input with exactly one line on stderr
# and a non-zero exit (2 for usage errors, 1 for the rest), without crashing, and retries an
# unreachable broker instead of exiting:
#   unknown option, missing value, no broker, bad broker URL, missing bundle, unreadable
#   (garbage) bundle, node certificate of another network CA, client certificate of another
#   broker CA, no TUN permission (unprivileged user), unreachable broker (retries, logged with
#   growing delays, clean exit 0 on SIGTERM); its interface deleted under it (exit 1, one error
#   line); `mqttip status` without a daemon.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
"$MQTTIP" pki init "$TB_DIR/other" --net 10.0.1.0/24 >/dev/null
"$MQTTIP" pki issue "$TB_DIR/other" x --addr 10.0.1.1 >/dev/null
A="$PKI/nodes/a"
O="$TB_DIR/other/nodes/x"

# expect STATUS PATTERN CMD...: exit STATUS, nothing on stdout, one stderr line matching PATTERN.
expect() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$@" >"$TB_DIR/out" 2>"$TB_DIR/err" </dev/null || rc=$?
	if [ "$rc" != "$want" ]; then
		tb_fail "'$*' exited $rc, want $want: $(cat "$TB_DIR/err")"
	elif [ -s "$TB_DIR/out" ] || [ "$(wc -l <"$TB_DIR/err")" != 1 ]; then
		tb_fail "'$*' must print exactly one line on stderr; got: $(cat "$TB_DIR/out" "$TB_DIR/err")"
	elif ! grep -Eq -- "$pattern" "$TB_DIR/err"; then
		tb_fail "'$*' said '$(cat "$TB_DIR/err")', want /$pattern/"
	fi
	tb_ok "$(cat "$TB_DIR/err")"
}

# expect_usage PATTERN CMD...: a command line that does not parse: exit 2, nothing on stdout, a
# first stderr line matching PATTERN, then the usage.
expect_usage() {
	local pattern=$1 rc=0 first
	shift
	"$@" >"$TB_DIR/out" 2>"$TB_DIR/err" </dev/null || rc=$?
	first=$(head -n1 "$TB_DIR/err")
	if [ "$rc" != 2 ] || [ -s "$TB_DIR/out" ]; then
		tb_fail "'$*' exited $rc (want 2) or wrote to stdout: $(cat "$TB_DIR/out" "$TB_DIR/err")"
	elif ! grep -Eq -- "$pattern" <<<"$first"; then
		tb_fail "'$*' said '$first', want /$pattern/"
	elif ! grep -q '^Usage: mqttip up' "$TB_DIR/err"; then
		tb_fail "'$*' printed no usage after its error: $(cat "$TB_DIR/err")"
	fi
	tb_ok "$first (and the usage)"
}

URL=mqtts://127.0.0.1:1
expect_usage "unknown option '--bogus'" "$MQTTIP" up --bogus
expect_usage "unknown option '-Z'" "$MQTTIP" up -Z
expect_usage "needs a value" "$MQTTIP" up -b
expect 2 "no broker given" "$MQTTIP" up --bundle "$A/a.bundle"
expect 2 "broker URL" "$MQTTIP" up -b http://x --bundle "$A/a.bundle"
expect 2 "no credentials" "$MQTTIP" up -b "$URL"
expect 1 "cannot read .*/missing.bundle: No such file" "$MQTTIP" up -b "$URL" \
	--bundle "$TB_DIR/missing.bundle"
head -c 300 /dev/urandom | base64 >"$TB_DIR/garbage.bundle"
chmod 600 "$TB_DIR/garbage.bundle" # private, as a bundle must be: no warning line
expect 1 "garbage.bundle: no valid" "$MQTTIP" up -b "$URL" --bundle "$TB_DIR/garbage.bundle"
expect 1 "wrong CA" "$MQTTIP" up -b "$URL" --cert "$A/client.crt" --key "$A/client.key" \
	--cafile "$A/ca.crt" --node-cert "$O/node.cert" --node-key "$O/node.key" \
	--network-ca "$A/network-ca.pub"
expect 1 "does not verify against the broker CA" "$MQTTIP" up -b "$URL" --cert "$A/client.crt" \
	--key "$A/client.key" --cafile "$O/ca.crt" --node-cert "$A/node.cert" \
	--node-key "$A/node.key" --network-ca "$A/network-ca.pub"
expect 1 "node key does not match" "$MQTTIP" up -b "$URL" --cert "$A/client.crt" \
	--key "$A/client.key" --cafile "$A/ca.crt" --node-cert "$A/node.cert" \
	--node-key "$PKI/nodes/b/node.key" --network-ca "$A/network-ca.pub"
expect 1 "cannot read config file" "$MQTTIP" up -c "$TB_DIR/none.conf"
printf 'broker = %s\nmtu = 99999\n' "$URL" >"$TB_DIR/bad.conf"
expect 2 "bad.conf:2: mtu" "$MQTTIP" up -c "$TB_DIR/bad.conf"
# max-message against what one packet of the MTU needs in the modes in use (config_min_message)
expect 2 "max-message 1400 is below the 1434 bytes one packet of mtu 1400 needs" \
	"$MQTTIP" up -b "$URL" --bundle "$A/a.bundle" --mtu 1400 --max-message 1400
expect 2 "max-message 1440 is below the 1456 bytes one packet of mtu 1400 needs" \
	"$MQTTIP" up -b "$URL" --bundle "$A/a.bundle" --mtu 1400 --max-message 1440 -k secret

# No TUN permission: an unprivileged user with its own private (0600) credentials.
install -m 0600 -o nobody "$A/a.bundle" "$TB_DIR/readable.bundle"
command -v setpriv >/dev/null || lab_cannot_run "setpriv (util-linux) missing"
expect 1 "(/dev/net/tun|TUN interface).*(Permission denied|Operation not permitted).*root" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$MQTTIP" up -b "$URL" \
	--bundle "$TB_DIR/readable.bundle" -i mqttipx0 --status-socket "$TB_DIR/x.sock"

expect 1 "cannot connect to .*none.sock" "$MQTTIP" status --socket "$TB_DIR/none.sock"

# Broker unreachable: the agent keeps retrying with growing delays, and stops cleanly.
ip netns exec "$NS_A" "$MQTTIP" up -b mqtts://10.99.1.1:8883 --bundle "$A/a.bundle" \
	--status-socket "$TB_DIR/a.sock" >"$TB_DIR/a.log" 2>&1 &
pid=$!
LAB_PID[a]=$pid
# two failed attempts: the first at once, the second after the first delay (1 s +-25 %); waited
# for (at most 15 s), not assumed after a fixed time: an ASan agent on a loaded machine can take
# a second or two to come up
t0=$SECONDS
tries=0
while [ "${tries:-0}" -lt 2 ] && [ $((SECONDS - t0)) -lt 15 ]; do
	sleep 0.2
	kill -0 "$pid" 2>/dev/null || tb_fail "agent exited with the broker unreachable: $(cat "$TB_DIR/a.log")"
	tries=$(lab_status a --json 2>/dev/null | grep -o '"failures":[0-9]*' | cut -d: -f2 || true)
done
[ "${tries:-0}" -ge 2 ] || tb_fail "agent made ${tries:-0} attempts in 15 s: $(cat "$TB_DIR/a.log")"
lab_status a | grep -q "not connected" || tb_fail "status does not say 'not connected'"
lab_status a | grep -q "last broker error: TCP: Connection refused" ||
	tb_fail "status does not give the cause: $(lab_status a)"
causes=$(grep -c "Connection refused" "$TB_DIR/a.log" || true)
[ "$causes" = 1 ] || tb_fail "the cause was logged $causes times, not once: $(cat "$TB_DIR/a.log")"
lab_agent_stop a
tb_ok "unreachable broker: $tries attempts in $((SECONDS - t0)) s, the cause logged once, still running, clean stop"

# The interface deleted under a running agent: a fatal runtime error, exit 1.
ip netns exec "$NS_A" "$MQTTIP" up -b mqtts://10.99.1.1:8883 --bundle "$A/a.bundle" \
	--status-socket "$TB_DIR/a.sock" >"$TB_DIR/a2.log" 2>&1 &
pid=$!
LAB_PID[a]=$pid
# deleted once the agent is up (its "up:" line comes after the interface is configured and the
# signals are handled), not while it still configures it
tb_wait_log 10 "up: interface mqttip0" "$TB_DIR/a2.log" || tb_fail "the agent did not come up: $(cat "$TB_DIR/a2.log")"
lab_in a ip link del mqttip0
rc=0
wait "$pid" || rc=$?
unset "LAB_PID[a]"
[ "$rc" = 1 ] || tb_fail "agent exited $rc after its interface was deleted, want 1"
grep -q "error: TUN interface mqttip0" "$TB_DIR/a2.log" || tb_fail "no error line: $(cat "$TB_DIR/a2.log")"
tb_ok "interface deleted: $(grep 'error:' "$TB_DIR/a2.log"), exit 1"

#!/usr/bin/env bash
# agent_keyperms.sh MQTTIP PLUGIN - issue 17 item 6: private key files that group or others can
# access (bundle, client key, node key, PSK) are used with a warning that names the file and the
# chmod that fixes it, like ssh; `--strict-perms` (or `strict-perms = true` in the config file)
# refuses them: exit 1, one line. Private (0600) files give no warning. `mqttip top --key` alike.
# The agents run in the lab's namespace a with no broker (they retry), so nothing leaves the lab.
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
. "$(dirname "$0")/lib/agent_lab.sh"

lab_init
A="$PKI/nodes/a"
K=$TB_DIR/keys
mkdir -p "$K"
URL=mqtts://10.99.1.1:8883

# run_warned LOG FLAGS...: an agent in namespace a until it is up (its "up:" line, logged once
# SIGTERM is handled), then SIGTERM; must exit 0.
run_warned() {
	local log=$1 pid rc=0
	shift
	ip netns exec "$NS_A" "$MQTTIP" up -b "$URL" --status-socket "$TB_DIR/a.sock" "$@" \
		>"$log" 2>&1 &
	pid=$!
	LAB_PID[a]=$pid
	tb_wait_log 10 "up: interface" "$log" || tb_fail "the agent did not come up: $(cat "$log")"
	kill "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	unset "LAB_PID[a]"
	[ "$rc" = 0 ] || tb_fail "agent exited $rc with a warned key file: $(cat "$log")"
}

# expect_warning LOG FILE MODE
expect_warning() {
	grep -qF "warning: $2 holds" "$1" && grep -qF "(mode $3): chmod 600 $2" "$1" ||
		tb_fail "no warning for $2 (mode $3): $(cat "$1")"
	tb_ok "warned: $(grep -F "warning: $2" "$1" | sed "s|$TB_DIR/||g")"
}

# expect_refusal FILE CMD...: exit 1, exactly one line naming FILE, the chmod and --strict-perms.
expect_refusal() {
	local file=$1 rc=0
	shift
	ip netns exec "$NS_A" "$@" >"$TB_DIR/out" 2>"$TB_DIR/err" </dev/null || rc=$?
	[ "$rc" = 1 ] || tb_fail "'$*' exited $rc, want 1: $(cat "$TB_DIR/err")"
	[ "$(wc -l <"$TB_DIR/err")" = 1 ] && [ ! -s "$TB_DIR/out" ] ||
		tb_fail "'$*' must print one line: $(cat "$TB_DIR/out" "$TB_DIR/err")"
	grep -qF "$file holds" "$TB_DIR/err" && grep -qF "chmod 600 $file" "$TB_DIR/err" &&
		grep -q -- "--strict-perms" "$TB_DIR/err" || tb_fail "refusal unclear: $(cat "$TB_DIR/err")"
	! lab_in a ip link show mqttip0 >/dev/null 2>&1 || tb_fail "refused agent left mqttip0"
	tb_ok "refused: $(sed "s|$TB_DIR/||g" "$TB_DIR/err")"
}

# A bundle readable by everybody: used, with a warning.
install -m 0644 "$A/a.bundle" "$K/open.bundle"
run_warned "$TB_DIR/w1.log" --bundle "$K/open.bundle"
expect_warning "$TB_DIR/w1.log" "$K/open.bundle" 0644
expect_refusal "$K/open.bundle" "$MQTTIP" up -b "$URL" --bundle "$K/open.bundle" --strict-perms \
	--status-socket "$TB_DIR/a.sock"
printf 'broker = %s\nbundle = %s\nstrict-perms = true\n' "$URL" "$K/open.bundle" >"$K/agent.conf"
expect_refusal "$K/open.bundle" "$MQTTIP" up -c "$K/agent.conf" --status-socket "$TB_DIR/a.sock"

# Separate files: the client key readable by the group, the node key by others, the PSK by all.
install -m 0644 "$A/ca.crt" "$A/client.crt" "$A/node.cert" "$A/network-ca.pub" "$K/"
install -m 0640 "$A/client.key" "$K/client.key"
install -m 0604 "$A/node.key" "$K/node.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$K/psk"
chmod 0644 "$K/psk"
SEP=(--cafile "$K/ca.crt" --cert "$K/client.crt" --key "$K/client.key" --network-ca
	"$K/network-ca.pub" --node-cert "$K/node.cert" --node-key "$K/node.key" --psk "$K/psk")
run_warned "$TB_DIR/w2.log" "${SEP[@]}"
expect_warning "$TB_DIR/w2.log" "$K/client.key" 0640
expect_warning "$TB_DIR/w2.log" "$K/node.key" 0604
expect_warning "$TB_DIR/w2.log" "$K/psk" 0644
expect_refusal "$K/client.key" "$MQTTIP" up -b "$URL" "${SEP[@]}" --strict-perms \
	--status-socket "$TB_DIR/a.sock"

# Private files: no warning, also with --strict-perms.
install -m 0600 "$A/a.bundle" "$K/private.bundle"
run_warned "$TB_DIR/w3.log" --bundle "$K/private.bundle" --strict-perms
! grep -q "holds" "$TB_DIR/w3.log" || tb_fail "warning for a 0600 bundle: $(cat "$TB_DIR/w3.log")"
tb_ok "a 0600 bundle: no warning, accepted with --strict-perms"

# mqttip top: the same check of --key, before connecting.
TOP=("$MQTTIP" top --broker "$URL" --cafile "$K/ca.crt" --cert "$K/client.crt" --key "$K/client.key"
	--once --timeout 1)
ip netns exec "$NS_A" "${TOP[@]}" >/dev/null 2>"$TB_DIR/top.err" || true
expect_warning "$TB_DIR/top.err" "$K/client.key" 0640
expect_refusal "$K/client.key" "${TOP[@]}" --strict-perms
echo "agent_keyperms: all checks passed"

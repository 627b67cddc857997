#!/usr/bin/env bash
# docs_readme.sh MQTTIP PLUGIN SRC_DIR PART - README.md's deployment, run as written (issue 17).
#
# The README's "Deploy by hand" section is a sequence of fenced `sh` blocks, each starting with
# "# on MACHINE" (the PKI machine, the broker host, n1, n2, ops, or every machine). This script
# extracts them from SRC_DIR/README.md (tests/docs/mdblocks.awk) and runs each, unchanged, with
# bash -e on its machine, top to bottom, one second apart (a person reads in between). A machine
# is a network namespace plus a mount namespace of its own: /etc, /usr and /var are overlays of the
# host's (so Debian's real /etc/mosquitto, /usr/sbin/mosquitto and user mosquitto are there, and
# nothing is written to the host), /run is an empty tmpfs (as at boot, without systemd). The
# machines share one working directory, which holds the checkout's build/ (MQTTIP, PLUGIN) and
# conf/, and stands in for the copies of pki/ the README asks for. broker.example.net is the
# broker host's address in every machine's /etc/hosts. Each block's output (its terminal) is in
# the log; a block that fails fails the test, with that output.
#
# PART:
#   install  (item 2) the README block that installs the plugin, run on the broker host: the file
#            must end up where conf/mosquitto.conf's `plugin` line says, readable by mosquitto
#   broker   (item 3) the section up to the block that starts mosquitto without systemd: the
#            broker runs, writes its pid file, and its log is on the terminal; run again with an
#            unreadable server key, the same block shows mosquitto's error on the terminal
#   deploy   the whole section, then: step 1's `apt install` lines name every Debian package
#            each machine needs (an `apt` stand-in checks the names and records them), n1 pinged n2, the metrics arrived (mosquitto_sub and mqttip
#            top), and after the revocation steps n2 is disconnected and refused (its agent
#            retries and stays "not connected"; n1 stays connected and no longer reaches n2); then
#            the README blocks tests/docs/examples.txt marks "scratch", each in a fresh directory
#            on the PKI machine
# Needs root, overlayfs, mosquitto and Debian's /etc/mosquitto (else: skip, exit 77).
set -euo pipefail
MQTTIP=$1
PLUGIN=$2
SRC=$3
PART=$4
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/private_run.sh"

HOSTS=(pki broker n1 n2 ops)
declare -A HOST_IP=([broker]=192.0.2.1 [n1]=192.0.2.11 [n2]=192.0.2.12 [ops]=192.0.2.13)
ID=$$
L=""
FAILED=""

skip() {
	echo "SKIP: $*" >&2
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }

ns_of() { echo "mqd$ID-$1"; }

cleanup() {
	local status=$? h pid
	set +e
	for h in "${HOSTS[@]}"; do
		ip netns pids "$(ns_of "$h")" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.5
	for h in "${HOSTS[@]}"; do
		for pid in $(ip netns pids "$(ns_of "$h")" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$(ns_of "$h")" 2>/dev/null
	done
	if [ -n "$L" ]; then
		if [ "$status" != 0 ] && [ "$status" != 77 ] && [ -d "$L/logs" ]; then
			echo "--- machine logs (kept only for this report) ---" >&2
			for h in "${HOSTS[@]}"; do
				echo "=== $h" >&2
				terminal "$h" | tail -n 25 >&2
			done
		fi
		[ -z "${DOCS_KEEP:-}" ] || cp -r "$L/logs" "$DOCS_KEEP"
		umount -l "$L" 2>/dev/null
		rmdir "$L" 2>/dev/null
	fi
	exit "$status"
}

[ "$(id -u)" = 0 ] || skip "needs root"
command -v mosquitto >/dev/null || skip "mosquitto is not installed"
[ -f /etc/mosquitto/mosquitto.conf ] || skip "no /etc/mosquitto/mosquitto.conf (Debian's mosquitto package)"
id mosquitto >/dev/null 2>&1 || skip "no user mosquitto"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlayfs"
grep -qw overlay /proc/filesystems || skip "no overlayfs"
command -v nsenter >/dev/null || skip "nsenter (util-linux) missing"
[ -f "$SRC/README.md" ] || fail "no README.md in $SRC"

L=$(mktemp -d /tmp/mqttip-docs.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
mount -t tmpfs -o mode=0755 tmpfs "$L"
W=$L/work
mkdir -p "$L/logs" "$L/blocks" "$W/build/agent" "$W/build/plugin"
cp "$MQTTIP" "$W/build/agent/mqttip"
cp "$PLUGIN" "$W/build/plugin/mqttip_plugin.so"
cp -r "$SRC/conf" "$W/conf"
chmod -R a+rX "$W"

# The README's blocks: index lines "ID FILE LINE INFO H2 H3" (tab-separated).
awk -v out="$L/blocks" -f "$SRC/tests/docs/mdblocks.awk" "$SRC/README.md" >"$L/blocks/index"

# `apt install PKG...` in a block: the lab has no network and its /usr is the host's, so an `apt`
# early in every machine's PATH checks that each package is installed on the host (a name the
# README gets wrong fails the block) and records it for that machine ($L/apt-HOST); part_deploy
# then checks that the packages named are the ones the programs need.
mkdir -p "$L/apt"
cat >"$L/apt/apt" <<-EOF
	#!/bin/sh
	[ "\$1" = install ] || { echo "apt (docs lab): only 'apt install' is simulated" >&2; exit 100; }
	shift
	for p in "\$@"; do
		case \$p in -*) continue ;; esac
		dpkg-query -W -f='\${Status}' "\$p" 2>/dev/null | grep -q "install ok installed" ||
			{ echo "E: Unable to locate package \$p (not installed where the docs lab runs)" >&2; exit 100; }
		echo "\$p" >>"$L/apt-\$DOCS_HOST"
		echo "\$p is already the newest version"
	done
EOF
chmod 755 "$L/apt/apt"
# Sanitizer builds: the instrumented plugin needs the ASan runtime loaded first into the
# (uninstrumented) mosquitto; a wrapper early in the broker's PATH does that.
EXTRA_PATH="$L/apt:"
if [ -n "${MQTTIP_BROKER_PRELOAD:-}" ]; then
	mkdir -p "$L/asan"
	cat >"$L/asan/mosquitto" <<-EOF
		#!/bin/sh
		LD_PRELOAD=$MQTTIP_BROKER_PRELOAD ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:halt_on_error=1 exec /usr/sbin/mosquitto "\$@"
	EOF
	chmod 755 "$L/asan/mosquitto"
	EXTRA_PATH="$L/apt:$L/asan:"
fi

# --- the machines -----------------------------------------------------------------------------
ip netns add "$(ns_of broker)"
ip -n "$(ns_of broker)" link set lo up
ip -n "$(ns_of broker)" link add br0 type bridge
ip -n "$(ns_of broker)" addr add 192.0.2.1/24 dev br0
ip -n "$(ns_of broker)" link set br0 up
i=0
for h in "${HOSTS[@]}"; do
	[ "$h" != broker ] || continue
	i=$((i + 1))
	ip netns add "$(ns_of "$h")"
	ip -n "$(ns_of "$h")" link set lo up
	[ -n "${HOST_IP[$h]:-}" ] || continue # the PKI machine has no network
	ip link add "vd$ID$i" netns "$(ns_of broker)" type veth peer name eth0 netns "$(ns_of "$h")"
	ip -n "$(ns_of broker)" link set "vd$ID$i" master br0 up
	ip -n "$(ns_of "$h")" addr add "${HOST_IP[$h]}/24" dev eth0
	ip -n "$(ns_of "$h")" link set eth0 up
done
# Each machine's mount namespace is held by a sleeping process in its network namespace.
declare -A HOLDER=()
for h in "${HOSTS[@]}"; do
	for d in etc usr var; do
		mkdir -p "$L/$h/$d.up" "$L/$h/$d.wk"
	done
	ip netns exec "$(ns_of "$h")" unshare -m --propagation private sh -ec "
		for d in etc usr var; do
			mount -t overlay overlay -o lowerdir=/\$d,upperdir=$L/$h/\$d.up,workdir=$L/$h/\$d.wk /\$d
		done
		mount -t tmpfs -o mode=0755 tmpfs /run
		echo '192.0.2.1 broker.example.net' >>/etc/hosts
		touch $L/ready-$h
		exec sleep 2147483647" &
	HOLDER[$h]=$!
	for _ in $(seq 1 50); do
		[ -e "$L/ready-$h" ] && break
		kill -0 "${HOLDER[$h]}" 2>/dev/null || fail "cannot set up machine $h"
		sleep 0.1
	done
	[ -e "$L/ready-$h" ] || fail "machine $h not ready"
done

# on HOST CMD...: CMD on machine HOST (its namespaces), in the working directory.
on() {
	local h=$1
	shift
	nsenter --mount="/proc/${HOLDER[$h]}/ns/mnt" --net="/run/netns/$(ns_of "$h")" --wd="$W" -- \
		env -i PATH="${EXTRA_PATH}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		HOME=/root LANG=C.UTF-8 TERM=dumb DOCS_HOST="$h" "$@"
}

# hosts_of FIRSTLINE: the machines a block's "# on ..." comment names.
hosts_of() {
	local c=$1
	case $c in
	"# on every machine"*) echo "${HOSTS[@]}" ;;
	"# on the PKI machine"*) echo pki ;;
	"# on the broker host"*) echo broker ;;
	"# on n1"*) echo n1 ;;
	"# on n2"*) echo n2 ;;
	"# on ops"*) echo ops ;;
	*) return 1 ;;
	esac
}

# run_block ID HOST [DIR]: the block's text, as written, with bash -e on HOST (in DIR, default the
# working directory); its output (its terminal) goes to $L/logs/ID-HOST.log.
run_block() {
	local id=$1 h=$2 dir=${3:-$W} log="$L/logs/$1-$2.log" rc=0
	# A file, not a pipe: processes the block leaves running (mosquitto, mqttip up) keep
	# writing to it, as to a terminal.
	on "$h" bash -c 'cd "$1" && exec bash -e -o pipefail -x "$2"' _ "$dir" "$L/blocks/$id" \
		>>"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" != 0 ]; then
		echo "--- README.md:$(block_line "$id"), on $h, exited $rc; its terminal:" >&2
		cat "$log" >&2
		FAILED="README.md:$(block_line "$id") exited $rc on $h"
		return 1
	fi
}

# terminal HOST: everything the blocks run on HOST have written so far (also what the processes
# they left running write), block after block.
terminal() {
	local f
	for f in "$L"/logs/[0-9]*-"$1".log; do
		[ -e "$f" ] || continue
		echo "### $(basename "$f" .log)"
		cat "$f"
	done
}

block_line() { awk -F'\037' -v id="$1" '$1 == id { print $3 }' "$L/blocks/index"; }

# deploy_blocks: the IDs of the sh blocks of "## Deploy by hand", in order.
deploy_blocks() {
	awk -F'\037' '$4 ~ /^sh( |$)/ && $5 ~ /^Deploy by hand/ { print $1 }' "$L/blocks/index"
}

# first_matching PATTERN IDS...: the first of IDS whose block has a line matching PATTERN (an
# extended regex); fails when none has.
first_matching() {
	local pattern=$1 id
	shift
	for id in "$@"; do
		if grep -Eq "$pattern" "$L/blocks/$id"; then
			echo "$id"
			return 0
		fi
	done
	fail "README.md's deployment has no block with a line matching /$pattern/"
}

# run_blocks IDS...: each block on the machines its first line names, in order, a second apart.
run_blocks() {
	local id first hosts h
	for id in "$@"; do
		first=$(head -n1 "$L/blocks/$id")
		hosts=$(hosts_of "$first") ||
			fail "README.md:$(block_line "$id"): the block does not start with '# on MACHINE' (the PKI machine, the broker host, n1, n2, ops, every machine): '$first'"
		for h in $hosts; do
			run_block "$id" "$h" || fail "$FAILED"
		done
		sleep 1
	done
}

# deploy_ids: sets IDS to the section's blocks; fails when the README has no such section.
deploy_ids() {
	mapfile -t IDS < <(deploy_blocks)
	[ "${#IDS[@]}" -gt 0 ] || fail "README.md has no 'Deploy by hand' section with sh blocks"
}

# index_of ID: position of ID in IDS.
index_of() {
	local i
	for i in "${!IDS[@]}"; do
		[ "${IDS[$i]}" != "$1" ] || { echo "$i"; return 0; }
	done
	return 1
}

broker_listening() {
	on broker ss -Htln "sport = :8883" | grep -q .
}

wait_broker() {
	for _ in $(seq 1 50); do
		broker_listening && return 0
		sleep 0.2
	done
	return 1
}

status_of() { on "$1" mqttip status 2>&1 || true; }

# --- parts --------------------------------------------------------------------------------------
part_install() {
	local id plugin_path
	id=$(awk -F'\037' '{ print $1 }' "$L/blocks/index" | while read -r b; do
		if grep -q "mqttip_plugin.so" "$L/blocks/$b" && grep -Eq "^(install|cp) " "$L/blocks/$b"; then
			echo "$b"
			break
		fi
	done)
	[ -n "$id" ] || fail "README.md has no block that installs mqttip_plugin.so"
	run_block "$id" broker || fail "the README's plugin install (README.md:$(block_line "$id")) fails on Debian 12: $(tail -n 2 "$L/logs/$id-broker.log" | tr '\n' ' ')"
	plugin_path=$(awk '$1 == "plugin" { print $2; exit }' "$W/conf/mosquitto.conf")
	[ -n "$plugin_path" ] || fail "conf/mosquitto.conf has no plugin line"
	on broker test -f "$plugin_path" ||
		fail "README.md:$(block_line "$id") did not put the plugin at $plugin_path (conf/mosquitto.conf)"
	on broker setpriv --reuid=mosquitto --regid=mosquitto --clear-groups cat "$plugin_path" >/dev/null ||
		fail "user mosquitto cannot read $plugin_path"
	ok "README.md:$(block_line "$id") installs the plugin at $plugin_path, readable by mosquitto"
}

part_broker() {
	local id pid log k
	deploy_ids
	id=$(first_matching '^mosquitto ' "${IDS[@]}")
	k=$(index_of "$id")
	run_blocks "${IDS[@]:0:k+1}"
	log="$L/logs/$id-broker.log"
	wait_broker || fail "mosquitto started by README.md:$(block_line "$id") does not listen on 8883: $(cat "$log")"
	pid=$(on broker cat /run/mosquitto/mosquitto.pid 2>/dev/null) ||
		fail "no /run/mosquitto/mosquitto.pid after README.md:$(block_line "$id")"
	on broker kill -0 "$pid" || fail "the pid file names no live process ($pid)"
	ok "README.md:$(block_line "$id"): mosquitto runs without systemd (pid $pid, pid file written)"
	grep -q "mosquitto version .* running" "$log" && grep -q "mqttip: plugin [^ ]*: prefix" "$log" ||
		fail "mosquitto's log is not on the terminal: $(cat "$log")"
	ok "its log is on the terminal: $(grep -o 'mqttip: plugin.*' "$log" | cut -c1-80)..."

	# A mistake: a server key mosquitto cannot read. The same block must show why it stops.
	on broker kill "$pid"
	for _ in $(seq 1 50); do on broker kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	on broker chmod 0600 /etc/mosquitto/mqttip/server.key
	run_block "$id" broker || fail "$FAILED"
	for _ in $(seq 1 30); do
		grep -qi "server key" "$log" && break
		sleep 0.1
	done
	grep -qi "error.*server key" "$log" ||
		fail "an unreadable server key does not show on the terminal: $(cat "$log")"
	ok "a broken start shows on the terminal: $(grep -i 'error.*server key' "$log" | head -n1)"
}

part_deploy() {
	local n2_mark broker_mark since id k retries
	deploy_ids
	id=$(first_matching 'mqttip pki revoke' "${IDS[@]}")
	k=$(index_of "$id")
	run_blocks "${IDS[@]:0:k}"
	# Step 1 named what each machine needs from Debian: the packages of the libraries mqttip
	# loads (ldd, then dpkg -S; the C runtime and a sanitizer build's runtime aside), mosquitto
	# on the broker host, mosquitto_sub's package on ops.
	local h lib pkg need
	for h in "${HOSTS[@]}"; do
		need=$(for lib in $(ldd "$MQTTIP" | awk '/=> \// { print $3 }'); do
			dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib"
		done | cut -d: -f1 | sort -u | grep -vxE 'libc6|libgcc-s1|libstdc\+\+6|lib(a|ub)san[0-9]+')
		[ -n "$need" ] || fail "no Debian package found for the libraries of $MQTTIP (ldd, dpkg -S)"
		[ "$h" != broker ] || need+=$'\nmosquitto'
		[ "$h" != ops ] || need+=$'\n'$(dpkg -S "$(command -v mosquitto_sub)" | cut -d: -f1)
		for pkg in $need; do
			grep -qx "$pkg" "$L/apt-$h" 2>/dev/null ||
				fail "Deploy by hand, step 1: $h needs Debian package $pkg, which no 'apt install' on $h names"
		done
	done
	ok "step 1's apt install lines name every package each machine needs"
	# Before the revocation: the walkthrough worked.
	terminal n1 | grep -q "bytes from 10.0.1.3" || fail "n1 did not reach n2: $(terminal n1 | tail -20)"
	ok "n1 pinged n2 through the tunnel ($(terminal n1 | grep -c 'bytes from 10.0.1.3') replies)"
	terminal ops | grep -q '"version":1' || fail "no metrics document in ops' terminal"
	terminal ops | grep -Eq "^n1 +1 +10\.0\.1\.2 " ||
		fail "mqttip top shows no row for n1: $(terminal ops | tail)"
	ok "the metrics arrived: mosquitto_sub and mqttip top on ops"
	status_of n2 | grep -q "broker: .*, connected" || fail "n2 not connected before the revocation"
	n2_mark=$(terminal n2 | wc -l)
	broker_mark=$(terminal broker | wc -l)

	# The revocation steps, as written: the rest of the section.
	run_blocks "${IDS[@]:k}"

	# n2 is refused from now on: within 15 s not connected, and still not 8 s later (its
	# retries, 1 s then doubling, are refused), with the broker's refusals in its log (n1's
	# certificate is valid: every failed verification after the reload is n2's); n1 stays.
	since=$SECONDS
	until status_of n2 | grep -q "not connected"; do
		[ $((SECONDS - since)) -lt 15 ] || fail "n2 still connected 15 s after the revocation: $(status_of n2 | head -5)"
		sleep 0.5
	done
	ok "n2 disconnected $((SECONDS - since)) s after the revocation steps"
	sleep 8
	status_of n2 | grep -q "not connected" || fail "n2 connected again after the revocation"
	# retries: each cause is logged once (agent/broker.h), the attempts are counted in status
	retries=$(status_of n2 | grep -Eo "[0-9]+ failed attempts" | grep -Eo "^[0-9]+" || echo 0)
	[ "$retries" -ge 2 ] ||
		fail "n2's agent does not retry: $(status_of n2 | head -5; terminal n2 | tail -n +"$n2_mark" | tail)"
	terminal n2 | tail -n +"$n2_mark" | grep -q "warning: broker .*: " ||
		fail "n2's agent logged no cause: $(terminal n2 | tail -n +"$n2_mark" | tail)"
	! terminal n2 | tail -n +"$n2_mark" | grep -q ": connected (TLS" ||
		fail "n2 connected again after the revocation"
	terminal broker | tail -n +"$broker_mark" |
		grep -Eq "certificate verify failed|node n2 refused" ||
		fail "the broker's log shows no refusal of n2: $(terminal broker | tail -n +"$broker_mark" | tail)"
	ok "n2 refused: $retries failed attempts, none connected; broker: $(terminal broker | tail -n +"$broker_mark" | grep -Eo "[^:]*: .*certificate verify failed.*|node n2 refused.*" | head -n1)"
	status_of n1 | grep -q "broker: .*, connected" || fail "n1 lost the broker: $(status_of n1 | head -5)"
	! on n1 ping -c 2 -w 4 10.0.1.3 >/dev/null 2>&1 || fail "n1 still reaches the revoked n2"
	ok "n1 stays connected and no longer reaches n2"

	# README blocks outside the walkthrough that tests/docs/examples.txt marks "scratch".
	local file line how n=0
	while IFS=$'\t' read -r file line how; do
		[ "$file" = README.md ] && [ "$how" = scratch ] || continue
		id=$(for b in $(awk -F'\037' '$4 ~ /^sh/ { print $1 }' "$L/blocks/index"); do
			[ "$(head -n1 "$L/blocks/$b")" = "$line" ] && echo "$b" && break
		done || true)
		[ -n "$id" ] || fail "tests/docs/examples.txt: no README block starts with '$line'"
		n=$((n + 1))
		mkdir -p "$W/scratch$n"
		run_block "$id" pki "$W/scratch$n" || fail "$FAILED"
		ok "README.md:$(block_line "$id") ran in a scratch directory on the PKI machine"
	done < <(grep -v '^#' "$SRC/tests/docs/examples.txt")
}

case $PART in
install) part_install ;;
broker) part_broker ;;
deploy) part_deploy ;;
*) fail "unknown part '$PART' (install, broker, deploy)" ;;
esac
echo "docs_readme $PART: all checks passed"

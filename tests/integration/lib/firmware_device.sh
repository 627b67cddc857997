# firmware_device.sh - shell functions for tests that run host-port devices (mqttip-device), sourced after
# broker.sh (uses TB_DIR and TB_PIDS):
#   dev_start NAME CMD...   runs CMD (mqttip-device ...) with its console on a fifo: output in
#                           $TB_DIR/NAME.out, log in $TB_DIR/NAME.log
#   dev_cmd NAME LINE       types LINE on the device's serial console; NAME.out then holds only
#                           what came after it (so dev_wait sees this command's answer)
#   dev_wait NAME FILE RE [SECONDS]   waits until $TB_DIR/NAME.FILE (out or log) matches RE
#   dev_ping_ok NAME ADDR COUNT ERE [TRIES]   the device's `ping ADDR COUNT` until a run counts
#                           a number of replies that matches ERE (at most TRIES runs, default 3)
#   dev_stop NAME           SIGTERM, and checks that it exits 0 with a clean sanitizer log
declare -A DEV_PID DEV_FD

dev_start() {
	local name=$1 fd
	shift
	mkfifo "$TB_DIR/$name.in"
	# Appending, so that dev_cmd can empty the file under the running device.
	"$@" <"$TB_DIR/$name.in" >>"$TB_DIR/$name.out" 2>"$TB_DIR/$name.log" &
	DEV_PID[$name]=$!
	TB_PIDS+=("$!")
	exec {fd}>"$TB_DIR/$name.in"
	DEV_FD[$name]=$fd
}

dev_cmd() {
	: >"$TB_DIR/$1.out"
	echo "$2" >&"${DEV_FD[$1]}"
}

dev_wait() {
	local name=$1 file=$2 re=$3 secs=${4:-10} i
	for i in $(seq 1 $((secs * 10))); do
		grep -Eq -- "$re" "$TB_DIR/$name.$file" && return 0
		kill -0 "${DEV_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "--- $name.log" >&2
	cat "$TB_DIR/$name.log" >&2
	echo "--- $name.out" >&2
	cat "$TB_DIR/$name.out" >&2
	return 1
}

# The device's ping counts the replies one period (1 s) after its last request; on a loaded
# machine (sanitizers, tests in parallel) a reply through the broker and an agent can take
# longer, and that run then counts one short. Such a run is repeated: every run must finish, and
# one must count what the caller asks (ERE "3" for 3 requests: all of one run).
dev_ping_ok() {
	local name=$1 addr=$2 count=$3 ere=$4 tries=${5:-3} t
	for t in $(seq 1 "$tries"); do
		dev_cmd "$name" "ping $addr $count"
		dev_wait "$name" out "^ping: $count sent" $((count * 3 + 5)) || return 1
		grep -Eq "^ping: $count sent, ($ere) received" "$TB_DIR/$name.out" && return 0
		echo "dev_ping_ok: $(grep '^ping:' "$TB_DIR/$name.out") (run $t of $tries)" >&2
	done
	return 1
}

dev_stop() {
	local name=$1 rc=0
	kill "${DEV_PID[$name]}" 2>/dev/null || true
	wait "${DEV_PID[$name]}" || rc=$?
	if [ "$rc" != 0 ] || grep -Eq "ERROR: AddressSanitizer|runtime error:|LeakSanitizer" \
		"$TB_DIR/$name.log"; then
		cat "$TB_DIR/$name.log" >&2
		return 1
	fi
}

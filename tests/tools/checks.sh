# checks.sh - counted checks for the test scripts that report every failure before they exit:
# source it, call `ok TEXT` and `bad TEXT` (and count `checked` where a script counts its checks),
# and end with `checks_done` (the summary line; its status is the script's).
fails=0
checked=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
checks_done() {
	if [ "$checked" -gt 0 ]; then
		echo "$checked checks, $fails failed"
	else
		echo "$fails failed"
	fi
	[ "$fails" = 0 ]
}

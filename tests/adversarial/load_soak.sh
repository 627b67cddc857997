#!/usr/bin/env bash
# load_soak.sh [AGENTS] [SOAK_SECONDS]: AGENTS agents (default 20) in one lab; an all-to-all ping
# round (every ordered pair) together with concurrent iperf3 transfers (AGENTS/4 pairs); then a
# soak of SOAK_SECONDS (default 60) of continuous traffic (every node pings every other node
# once per round; an iperf3 burst every round) with the RSS of every agent and of mosquitto
# sampled every SAMPLE seconds into $LAB_DIR/rss.csv (printed at the end).
# Pass: every ping round complete (no pair lost: sessions hold), no agent restarted, each agent's
# RSS grows by at most 1 MiB and the broker's by at most 8 MiB between the first sample after
# the first round and the end. Prints "figure:" lines: agents, packets/s, memory.
set -euo pipefail
. "$(dirname "$0")/common.sh"
N=${1:-20}
SOAK=${2:-60}
SAMPLE=${SAMPLE:-10}
AGENT_BOUND_KB=${AGENT_BOUND_KB:-1024}
BROKER_BOUND_KB=${BROKER_BOUND_KB:-8192}

lab_init "$N"
lab_broker_start
agents_up "$N" --max-peers 64
declare -A pid
for i in $(seq 1 "$N"); do pid[$i]=$(lab_agent_pid "$i"); done

# round FILE: every node pings every other node once (nodes in parallel); failures in FILE.
round() {
	local out=$1 i j
	: >"$out"
	for i in $(seq 1 "$N"); do
		(
			for j in $(seq 1 "$N"); do
				[ "$i" = "$j" ] && continue
				lab_exec "$i" ping -n -q -c 1 -W 3 "$(lab_addr "$j")" >/dev/null 2>&1 ||
					lab_exec "$i" ping -n -q -c 1 -W 3 "$(lab_addr "$j")" >/dev/null 2>&1 ||
					echo "$i -> $j" >>"$out"
			done
		) &
	done
	wait_children
}

# wait for the background jobs of this shell except the lab's long-running ones
wait_children() {
	local p
	for p in $(jobs -p); do
		[ "$p" = "$(lab_broker_pid)" ] && continue
		is_agent=0
		for i in $(seq 1 "$N"); do [ "$p" = "${pid[$i]}" ] && is_agent=1; done
		[ "$is_agent" = 1 ] || wait "$p" || true
	done
}

transfers() {
	local secs=$1 k half=$((N / 2)) pairs=$((N / 4))
	for k in $(seq 1 "$pairs"); do
		lab_exec $((k + half)) timeout $((secs + 10)) iperf3 -s -1 -B "$(lab_addr $((k + half)))" \
			>/dev/null 2>&1 &
	done
	for k in $(seq 1 "$pairs"); do
		lab_wait_listen $((k + half)) 5201
	done
	for k in $(seq 1 "$pairs"); do
		lab_exec "$k" timeout $((secs + 10)) iperf3 -c "$(lab_addr $((k + half)))" -t "$secs" \
			-f m >"$LAB_DIR/iperf$k.out" 2>&1 &
	done
}

total_rx() {
	local i s=0
	for i in $(seq 1 "$N"); do
		s=$((s + $(lab_status "$i" --json | "$JSONGET" --sum rx_packets)))
	done
	echo "$s"
}

# 1. First contact: all-to-all with transfers running.
t0=$(date +%s.%N)
transfers 8
round "$LAB_DIR/round0.fail"
wait_children
t1=$(date +%s.%N)
[ ! -s "$LAB_DIR/round0.fail" ] || lab_fail "first all-to-all round lost pairs: $(tr '\n' ' ' <"$LAB_DIR/round0.fail")"
mbps=$(cat "$LAB_DIR"/iperf*.out | awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") s += $(i - 1) } END { printf "%.0f", s }')
echo "figure: $N agents: all-to-all ($((N * (N - 1))) ordered pairs, first contact incl. handshakes)" \
	"in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s with $((N / 4)) concurrent iperf3 transfers totalling ${mbps} Mbit/s"
lab_ok "all-to-all round 0 complete"

# 2. Soak.
csv="$LAB_DIR/rss.csv"
{
	printf "t,broker"
	for i in $(seq 1 "$N"); do printf ",node%s" "$i"; done
	echo
} >"$csv"
sample() {
	local t=$1 i
	{
		printf "%s,%s" "$t" "$(lab_rss "$(lab_broker_pid)")"
		for i in $(seq 1 "$N"); do printf ",%s" "$(lab_rss "${pid[$i]}")"; done
		echo
	} >>"$csv"
}
rx0=$(total_rx)
start=$(date +%s)
sample 0
next=$SAMPLE
r=0
while [ $(($(date +%s) - start)) -lt "$SOAK" ]; do
	r=$((r + 1))
	transfers 3
	round "$LAB_DIR/round$r.fail"
	wait_children
	[ ! -s "$LAB_DIR/round$r.fail" ] ||
		lab_fail "soak round $r lost pairs: $(tr '\n' ' ' <"$LAB_DIR/round$r.fail")"
	el=$(($(date +%s) - start))
	if [ "$el" -ge "$next" ]; then
		sample "$el"
		next=$((el + SAMPLE))
	fi
done
el=$(($(date +%s) - start))
sample "$el"
rx1=$(total_rx)
cat "$csv"
for i in $(seq 1 "$N"); do
	[ "$(lab_agent_pid "$i")" = "${pid[$i]}" ] && kill -0 "${pid[$i]}" ||
		lab_fail "agent $i restarted or died"
done
# Growth from the first sample to the last.
awk -F, -v ab="$AGENT_BOUND_KB" -v bb="$BROKER_BOUND_KB" '
	NR == 2 { for (i = 2; i <= NF; i++) first[i] = $i }
	NR > 2 { for (i = 2; i <= NF; i++) last[i] = $i; n = NF }
	END {
		worst = 0; sum = 0
		for (i = 3; i <= n; i++) { g = last[i] - first[i]; if (g > worst) worst = g; sum += last[i] }
		bg = last[2] - first[2]
		printf "figure: soak RSS: agents %d..%d KiB at the end (mean %.0f), largest agent growth %d KiB; broker %d -> %d KiB (%+d)\n",
			min(last, 3, n), max(last, 3, n), sum / (n - 2), worst, first[2], last[2], bg
		if (worst > ab || bg > bb) exit 1
	}
	function min(a, f, t,   i, m) { m = a[f]; for (i = f; i <= t; i++) if (a[i] < m) m = a[i]; return m }
	function max(a, f, t,   i, m) { m = a[f]; for (i = f; i <= t; i++) if (a[i] > m) m = a[i]; return m }
' "$csv" || ! rss_bound_checked || lab_fail "RSS grew beyond the bound (agents $AGENT_BOUND_KB KiB, broker $BROKER_BOUND_KB KiB)"
echo "figure: soak $el s, $r rounds of $((N * (N - 1))) pings + $((N / 4)) transfers: $(((rx1 - rx0) / el)) packets/s delivered through the tunnels (all agents)"
lab_ok "soak: every round complete, no restart, RSS within bounds"

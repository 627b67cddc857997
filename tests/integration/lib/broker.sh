# broker.sh - shared shell functions for integration tests that run a real mosquitto with TLS.
# Source it from a bash script (set -euo pipefail is assumed). It provides:
#   tb_init                      temp dir in $TB_DIR, trap that stops brokers and removes it
#   tb_free_port                 prints a TCP port nobody listens on (127.0.0.1)
#   tb_fail MSG / tb_ok MSG       report; tb_fail exits 1
#   pki_ca DIR NAME              DIR/NAME.crt + DIR/NAME.key, a self-signed ECDSA P-256 CA
#   pki_server DIR CA NAME       server cert for 127.0.0.1 (SAN IP:127.0.0.1, DNS:localhost)
#   pki_client DIR CA NAME [IP...]  client cert CN=NAME with one SAN IP entry per IP (none: no SAN)
#   pki_crl DIR CA CERT...       DIR/CA.crl revoking the given certificates
#   broker_conf_base FILE        global settings (no persistence, log to stderr)
#   broker_conf_tls FILE PORT DIR CA SERVER [CRL]   TLS listener, require_certificate
#   broker_conf_plain FILE PORT  plain listener on 127.0.0.1 (clients without certificate)
#   broker_conf_plugin FILE SO [name=value...]       plugin line and its plugin_opt_ lines
#   broker_run CONF              runs mosquitto in the foreground
#   broker_start CONF LOG PORT   starts mosquitto (as $BROKER_PID) and waits until PORT listens
#   broker_alive                 true while the last started broker runs
#   broker_stop                  SIGTERM, wait; fails if a sanitizer reported in the log
#   tls_opts DIR CA NAME PORT    mosquitto_pub/sub arguments to connect as client NAME
# Sanitizer builds: MQTTIP_BROKER_PRELOAD (path of libasan.so) is preloaded into mosquitto,
# which is not instrumented, with ASAN_OPTIONS suited to that (no leak check of the host).
# As root, mosquitto would drop to user "mosquitto" before loading the plugin, and the build
# tree is usually not readable by it: the test configs set "user root" (see conf/mosquitto.conf
# for the permissions a real deployment needs).

TB_DIR=""
TB_PIDS=()

tb_cleanup() {
	local pid
	for pid in "${TB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${TB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$TB_DIR" ] && [ -d "$TB_DIR" ]; then
		if [ -n "${TB_KEEP:-}" ]; then
			echo "kept $TB_DIR" >&2
		else
			rm -rf "$TB_DIR"
		fi
	fi
}

tb_init() {
	TB_DIR=$(mktemp -d /tmp/mqttip-test.XXXXXX)
	chmod 755 "$TB_DIR"
	trap tb_cleanup EXIT
	trap 'exit 130' INT TERM
}

tb_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

tb_ok() {
	echo "ok: $*"
}

# tb_wait_log SECONDS ERE FILE [MIN]: waits until FILE has at least MIN (default 1) lines matching
# ERE; fails (returns 1) after SECONDS. A client's exit says nothing about when the broker writes
# its side of the story: on a loaded machine the log line comes later.
tb_wait_log() {
	local end=$((SECONDS + $1)) n
	while :; do
		n=$(grep -Ec "$2" "$3" 2>/dev/null || true)
		[ "${n:-0}" -ge "${4:-1}" ] && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# Ports come from below the kernel's ephemeral range, so that no outgoing connection of a test
# running in parallel can take the port between this check and the broker's bind.
tb_free_port() {
	local port low
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	[ "$low" -gt 11000 ] || low=32768
	for _ in $(seq 1 200); do
		port=$((10000 + RANDOM % (low - 10000)))
		if ! ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

pki_ca() {
	local dir=$1 name=$2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-keyout "$dir/$name.key" -out "$dir/$name.crt" -subj "/CN=$name" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>/dev/null
}

# pki_sign DIR CA NAME EXTFILE: key + CSR for CN=NAME, signed by CA with the extensions file.
pki_sign() {
	local dir=$1 ca=$2 name=$3 ext=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$ext" \
		-out "$dir/$name.crt" 2>/dev/null
	rm -f "$dir/$name.csr" "$ext"
	chmod 644 "$dir/$name.key" "$dir/$name.crt"
}

pki_server() {
	local dir=$1 ca=$2 name=$3
	printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
		"subjectAltName=IP:127.0.0.1,DNS:localhost" >"$dir/$name.ext"
	pki_sign "$dir" "$ca" "$name" "$dir/$name.ext"
}

pki_client() {
	local dir=$1 ca=$2 name=$3 san="" ip
	shift 3
	for ip in "$@"; do
		san="${san:+$san,}IP:$ip"
	done
	printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth" >"$dir/$name.ext"
	[ -z "$san" ] || echo "subjectAltName=$san" >>"$dir/$name.ext"
	pki_sign "$dir" "$ca" "$name" "$dir/$name.ext"
}

pki_crl() {
	local dir=$1 ca=$2 cert db
	db="$dir/$ca.db"
	shift 2
	mkdir -p "$db"
	: >"$db/index.txt"
	echo 01 >"$db/crlnumber"
	cat >"$db/ca.cnf" <<-CNF
		[ca]
		default_ca = tb
		[tb]
		database = $db/index.txt
		crlnumber = $db/crlnumber
		certificate = $dir/$ca.crt
		private_key = $dir/$ca.key
		default_md = sha256
		default_crl_days = 30
	CNF
	for cert in "$@"; do
		openssl ca -config "$db/ca.cnf" -revoke "$cert" 2>/dev/null
	done
	openssl ca -config "$db/ca.cnf" -gencrl -out "$dir/$ca.crl" 2>/dev/null
	chmod 644 "$dir/$ca.crl"
}

broker_conf_base() {
	local file=$1
	{
		echo "per_listener_settings false"
		echo "persistence false"
		echo "set_tcp_nodelay true"
		echo "allow_anonymous true"
		echo "log_dest stderr"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "connection_messages true"
		[ "$(id -u)" != 0 ] || echo "user root"
	} >"$file"
}

broker_conf_tls() {
	local file=$1 port=$2 dir=$3 ca=$4 server=$5 crl=${6:-}
	{
		echo "listener $port 127.0.0.1"
		echo "cafile $dir/$ca.crt"
		echo "certfile $dir/$server.crt"
		echo "keyfile $dir/$server.key"
		echo "require_certificate true"
		[ -z "$crl" ] || echo "crlfile $crl"
	} >>"$file"
}

broker_conf_plain() {
	echo "listener $2 127.0.0.1" >>"$1"
}

broker_conf_plugin() {
	local file=$1 so=$2 kv
	shift 2
	echo "plugin $so" >>"$file"
	for kv in "$@"; do
		echo "plugin_opt_${kv%%=*} ${kv#*=}" >>"$file"
	done
}

BROKER_PID=""

# broker_run CONF: execs mosquitto (with the sanitizer runtime when set; pinned to CPU
# $TB_BROKER_CPU when set); run it in a subshell.
broker_run() {
	local pin=()
	[ -z "${TB_BROKER_CPU:-}" ] || pin=(taskset -c "$TB_BROKER_CPU")
	if [ -n "${MQTTIP_BROKER_PRELOAD:-}" ]; then
		LD_PRELOAD="$MQTTIP_BROKER_PRELOAD" \
		ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0:halt_on_error=1:abort_on_error=0" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
			exec "${pin[@]}" mosquitto -c "$1"
	else
		exec "${pin[@]}" mosquitto -c "$1"
	fi
}

broker_start() {
	local conf=$1 log=$2 port=$3
	broker_run "$conf" >"$log" 2>&1 &
	BROKER_PID=$!
	TB_PIDS+=("$BROKER_PID")
	for _ in $(seq 1 100); do
		if ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	return 1
}

broker_alive() {
	[ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null
}

broker_sanitizer_clean() {
	! grep -Eq "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$1"
}

broker_stop() {
	local log=$1
	[ -n "$BROKER_PID" ] || return 0
	kill "$BROKER_PID" 2>/dev/null || true
	wait "$BROKER_PID" 2>/dev/null || true
	BROKER_PID=""
	broker_sanitizer_clean "$log" || { cat "$log" >&2; return 1; }
}

tls_opts() {
	local dir=$1 ca=$2 name=$3 port=$4
	echo "-h 127.0.0.1 -p $port --cafile $dir/$ca.crt --cert $dir/$name.crt --key $dir/$name.key"
}

#!/usr/bin/env bash
# Installs the Debian 12 packages mqttip builds, tests and runs with.
# Idempotent: asks apt only for what is missing, and says nothing when all is there.
set -euo pipefail

packages=(
	build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
	libsodium-dev libssl-dev openssl libuv1-dev
	mosquitto mosquitto-clients libmosquitto-dev mosquitto-dev
	libcjson-dev liblwip-dev
	gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
	# the unit tests of common/ run on rv32 under qemu (tests/rv32.cmake)
	qemu-system-misc
	iproute2 iputils-ping iperf3 procps psmisc valgrind nftables
	# the agent benchmark's reference tunnel (tests/bench/agent_lab.sh)
	wireguard-go wireguard-tools
	faketime
	rabbitmq-server
	# Debian packages (debian/, test package_build), man pages (scdoc renders them; man-db,
	# groff-base and bsdextrautils' col read them back in tests), the dashboard's renderer
	dpkg-dev debhelper lintian scdoc man-db groff-base bsdextrautils python3 python3-matplotlib
)

# tests/tools/rv32-sodium.sh builds libsodium for rv32 from Debian's source package, which
# `apt-get source` finds only through deb-src entries: this adds one beside each entry apt reads
# Debian main binaries from, a copy of it (same address, suites and Signed-By) typed deb-src.
src_file=/etc/apt/sources.list.d/mqttip-deb-src
need_src=false
[ -n "$(apt-get indextargets 'Identifier: Sources' 2>/dev/null)" ] ||
	[ -e "$src_file.sources" ] || [ -e "$src_file.list" ] || need_src=true

# add_deb_src: writes the copies; an entry is FILE:N, stanza N of a deb822 FILE.sources or line
# N of a one-line FILE.list.
add_deb_src() {
	local entry file n
	apt-get indextargets --format '$(SOURCESENTRY)' 'Identifier: Packages' 'Origin: Debian' \
		'Component: main' | sort -u | while read -r entry; do
		file=${entry%:*} n=${entry##*:}
		case $file in
		*.sources)
			awk -v n="$n" 'BEGIN { RS = ""; ORS = "\n\n" } NR == n {
				sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' \
				"$file" >>"$src_file.sources" ;;
		*) sed -n "${n}s/^deb[[:space:]]/deb-src /p" "$file" >>"$src_file.list" ;;
		esac
	done
}

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && ! $need_src && exit 0

if [ "$(id -u)" -ne 0 ]; then
	[ ${#missing[@]} -eq 0 ] || echo "install-deps: missing packages: ${missing[*]}" >&2
	! $need_src || echo "install-deps: apt has no deb-src entries (for 'apt-get source')" >&2
	echo "install-deps: run this script as root (or install them with apt-get) and try again" >&2
	exit 1
fi
if $need_src; then
	add_deb_src
	if [ -e "$src_file.sources" ] || [ -e "$src_file.list" ]; then
		echo "install-deps: added deb-src entries ($src_file.*) for the rv32 libsodium build"
	else
		echo "install-deps: apt reads no Debian main binaries, so no deb-src entry was added;" \
			"the rv32 tests will skip (they need 'apt-get source libsodium')" >&2
	fi
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

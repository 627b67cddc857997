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
	iproute2 iputils-ping iperf3 procps psmisc valgrind nftables
	faketime
	rabbitmq-server
	# Debian packages (debian/, test package_build), man pages (scdoc renders them; man-db,
	# groff-base and bsdextrautils' col read them back in tests), the dashboard's renderer
	dpkg-dev debhelper lintian scdoc man-db groff-base bsdextrautils python3 python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run this script as root (or install them with apt-get) and try again" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# rv32-unit.sh: the unit tests of common/ on the ESP32-C3's ISA (rv32imc/ilp32), bare metal with
# picolibc and semihosting, under qemu-system-riscv32's virt machine. Two steps (tests/rv32.cmake
# makes the first a CTest fixture of the others):
#   rv32-unit.sh build SRC VECTORS OUT TEST...
#                                       builds libsodium and cJSON (rv32-libs.sh, kept in
#                                       OUT/libs), common/*.c, and OUT/TEST.elf from TEST.c in
#                                       tests/unit, tests/tools or tests/bench; the tests open
#                                       files under VECTORS through semihosting. RV32_OPT sets
#                                       the optimisation level (default -Os)
#   rv32-unit.sh run OUT TEST [ARG...]  runs OUT/TEST.elf with ARGs; its exit status is the
#                                       program's (semihosting exit), so a failed CHECK fails.
#                                       RV32_QEMU_OPTS adds qemu options (e.g. -icount shift=0)
# A missing package makes both print "SKIP: ..." naming it and exit 77 (run repeats what build
# found missing, kept in OUT/skipped).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/rv32.sh"
QEMU=qemu-system-riscv32

skip() {
	echo "SKIP: $*"
	exit 77
}

need_qemu() {
	command -v $QEMU >/dev/null ||
		skip "$QEMU not found (Debian package qemu-system-misc; scripts/install-deps.sh" \
			"installs it)"
}

# RV32_LINK: picolibc's linker script with the virt machine's RAM at 0x80000000 (qemu's
# reset code jumps there with -bios none): 4 MiB for code and constants, then 60 MiB of RAM with
# a 1 MiB stack (the host tests keep large structures on the stack); semihosting for stdio and
# exit.
RV32_LINK=(--oslib=semihost --crt0=semihost -Wl,--defsym=__flash=0x80000000
	-Wl,--defsym=__flash_size=0x400000 -Wl,--defsym=__ram=0x80400000
	-Wl,--defsym=__ram_size=0x3c00000 -Wl,--defsym=__stack_size=0x100000)

# rv32_qemu ELF [ARG...]: runs ELF on the virt machine with ARGs (picolibc takes the semihosting
# command line as argv[1..]: by default qemu makes it the ELF's path, so it is always given,
# empty when there are no ARGs); RV32_QEMU_OPTS (words) adds qemu options. The program's stdout
# and stderr come out on qemu's stderr, its exit status is qemu's. One core, no devices, and a
# watchdog of 5 minutes in case it never exits (each test takes seconds).
rv32_qemu() {
	local elf=$1 cfg=enable=on,target=native a
	shift
	[ $# -gt 0 ] || cfg+=,arg=
	for a in "$@"; do
		cfg+=,arg=${a//,/,,}
	done
	timeout 300 $QEMU -machine virt -bios none -m 64M -nographic -monitor none -serial none \
		-semihosting-config "$cfg" ${RV32_QEMU_OPTS:-} -kernel "$elf" </dev/null
}

build() {
	local src=$1 vectors=$2 out=$3
	shift 3
	rm -rf "$out/obj" "$out/lab" "$out/skipped" "$out"/*.a "$out"/*.elf
	mkdir -p "$out/obj"
	local rc=0 libs=$out/libs start=$SECONDS
	(need_qemu && "$here/rv32-libs.sh" "$libs") >"$out/libs.log" 2>&1 || rc=$?
	cat "$out/libs.log"
	if [ $rc -eq 77 ]; then
		grep '^SKIP:' "$out/libs.log" >"$out/skipped"
		exit 77
	fi
	[ $rc -eq 0 ] || exit $rc
	RV32_FLAGS=(-march=rv32imc -mabi=ilp32 --specs=picolibc.specs -std=c11 "${RV32_OPT:--Os}" -g
		-ffunction-sections -fdata-sections -Wall -Wextra -Werror -Wshadow
		-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
		-I "$src/common" -I "$src/tests/unit" -isystem "$libs/sodium/include"
		-isystem "$libs/cjson/include"
		-DMQTTIP_VECTORS_DIR="\"$vectors\""
		-DMQTTIP_LEGACY_CAPTURE="\"$vectors/mqtt_vpn/encrypted-secret.txt\"")
	for c in "$src"/common/*.c; do
		rv32_cc "$out/obj" "$c"
	done
	riscv64-unknown-elf-ar rcs "$out/libmqttip_common.a" "$out"/obj/*.o
	rv32_cc "$out/obj" "$here/rv32_testrng.c"
	# the in-memory broker of test_node, an archive so that other tests leave it out
	mkdir -p "$out/lab"
	rv32_cc "$out/lab" "$src/tests/unit/node_lab.c"
	riscv64-unknown-elf-ar rcs "$out/libnode_lab.a" "$out/lab/node_lab.o"
	local t c
	for t in "$@"; do
		c=$src/tests/unit/$t.c
		[ -e "$c" ] || c=$src/tests/tools/$t.c
		[ -e "$c" ] || c=$src/tests/bench/$t.c
		rv32_cc "$out/obj" "$c"
		$RV32_CC "${RV32_FLAGS[@]}" "${RV32_LINK[@]}" -o "$out/$t.elf" "$out/obj/$t.o" \
			"$out/obj/rv32_testrng.o" "$out/libnode_lab.a" "$out/libmqttip_common.a" \
			"$libs/sodium/lib/libsodium.a" "$libs/cjson/lib/libcjson.a" -lm
	done
	echo "rv32-unit: built $* in $((SECONDS - start)) s"
}

run() {
	local out=$1 t=$2
	shift 2
	need_qemu
	if [ -e "$out/skipped" ]; then
		cat "$out/skipped"
		exit 77
	fi
	[ -e "$out/$t.elf" ] || {
		echo "rv32-unit: $out/$t.elf not built (the rv32_build test makes it)" >&2
		exit 1
	}
	local rc=0
	rv32_qemu "$out/$t.elf" "$@" || rc=$?
	[ $rc -ne 124 ] || echo "rv32-unit: $t did not exit within 5 minutes under qemu" >&2
	exit $rc
}

case ${1:-} in
build) shift && build "$@" ;;
run) shift && run "$@" ;;
*)
	echo "usage: rv32-unit.sh build SRC VECTORS OUT TEST... | run OUT TEST [ARG...]" >&2
	exit 2
	;;
esac

# rv32.sh - shell functions for compiling C for the ESP32-C3's ISA (rv32imc/ilp32) against
# picolibc and reading sizes off the objects; sourced by tests/tools/mcu-build.sh (the portable
# core) and firmware/tools/mcu-check.sh (the firmware app).
#   rv32_setup OUT             checks the toolchain, makes OUT with a shim of libsodium's headers
#   RV32_FLAGS                 compiler flags (-Werror, -fstack-usage; add -I/-D as needed)
#   rv32_cc OUT SRC [FLAGS]    compiles SRC into OUT/<name>.o
#   rv32_report OUT N          prints .data/.bss per object and the N largest stack frames
#   rv32_sym_size OBJ SYMBOL   size of a symbol in bytes
RV32_CC=riscv64-unknown-elf-gcc

rv32_setup() {
	local out=$1
	if ! command -v $RV32_CC >/dev/null; then
		echo "$RV32_CC not found: install gcc-riscv64-unknown-elf and" \
			"picolibc-riscv64-unknown-elf (scripts/install-deps.sh does)" >&2
		exit 1
	fi
	rm -rf "$out" && mkdir -p "$out/shim"
	# libsodium's headers are target-neutral; only they are taken from the host, never libc's.
	ln -s /usr/include/sodium.h "$out/shim/sodium.h"
	ln -s /usr/include/sodium "$out/shim/sodium"
	RV32_FLAGS=(-march=rv32imc -mabi=ilp32 --specs=picolibc.specs -std=c11 -Os
		-ffunction-sections -fdata-sections -fstack-usage -Wall -Wextra -Werror -Wshadow
		-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Wstack-usage=2048
		-isystem "$out/shim")
}

rv32_cc() {
	local out=$1 src=$2
	shift 2
	(cd "$out" && $RV32_CC "${RV32_FLAGS[@]}" "$@" -c "$src" -o "$out/$(basename "${src%.c}").o")
}

rv32_report() {
	local out=$1 n=$2
	echo "static RAM per object (bytes, objects with none left out):"
	riscv64-unknown-elf-size --format=berkeley "$out"/*.o | awk 'NR==1 || $2+$3 > 0 {print "  " $0}'
	echo "largest stack frames (bytes):"
	# sed reads all its input, so sort never dies of SIGPIPE under pipefail
	cat "$out"/*.su | sort -t$'\t' -k2 -n -r | sed -n "1,${n}s/^/  /p"
}

rv32_sym_size() {
	local hex
	hex=$(riscv64-unknown-elf-nm -S "$1" | awk -v s="$2" '$4 == s {print $2}')
	[ -n "$hex" ] || { echo "symbol $2 missing in $1" >&2; exit 1; }
	echo $((16#$hex))
}

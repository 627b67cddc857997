#!/usr/bin/env bash
# mcu-check.sh ROOT OUT_DIR: compiles common/*.c, the firmware app (firmware/app/fw_*.c, the lwIP
# files against Debian's lwIP 2.1 headers) and the probe of the firmware's static state for the
# ESP32-C3's ISA (rv32imc/ilp32, picolibc) with -Werror; prints .data/.bss per object, the largest
# stack frames (-fstack-usage) and the static RAM total; fails above the budget of
# firmware/README.md "Memory".
set -euo pipefail
root=$1 out=$2
budget_static=73728 # bytes of .data + .bss (72 KiB): firmware/README.md "Memory"
budget_frame=2048   # bytes: the largest stack frame of any function

cc=riscv64-unknown-elf-gcc
if ! command -v $cc >/dev/null; then
	echo "mcu-check: $cc not found: install gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf" \
		"(scripts/install-deps.sh does)" >&2
	exit 1
fi
rm -rf "$out" && mkdir -p "$out/shim"
# Only target-neutral headers come from the host: libsodium's and lwIP's (its arch/ port there
# is generic: opaque pointer types for the OS objects, which ESP-IDF's FreeRTOS port also uses).
ln -s /usr/include/sodium.h "$out/shim/sodium.h"
ln -s /usr/include/sodium "$out/shim/sodium"

flags=(-march=rv32imc -mabi=ilp32 --specs=picolibc.specs -std=c11 -Os -ffunction-sections
	-fdata-sections -fstack-usage -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wformat=2 -Wvla -Wstack-usage=$budget_frame -I "$root/common"
	-I "$root/firmware/app" -isystem "$out/shim")
lwip=(-D_POSIX_C_SOURCE=200809L -isystem /usr/include/lwip)

for src in "$root"/common/*.c "$root"/firmware/app/fw_bundle.c "$root"/firmware/app/fw_outbox.c \
	"$root"/firmware/app/fw_tunnel.c \
	"$root"/firmware/tools/mcu_probe.c; do
	(cd "$out" && $cc "${flags[@]}" -c "$src" -o "$out/$(basename "${src%.c}").o")
done
for src in "$root"/firmware/app/fw_netif.c "$root"/firmware/app/fw_shell.c; do
	(cd "$out" && $cc "${flags[@]}" "${lwip[@]}" -c "$src" -o "$out/$(basename "${src%.c}").o")
done

echo "static RAM per object (bytes, objects with none left out):"
riscv64-unknown-elf-size --format=berkeley "$out"/*.o | awk 'NR==1 || $2+$3 > 0 {print "  " $0}'
echo "largest stack frames (bytes):"
cat "$out"/*.su | sort -t$'\t' -k2 -n -r | sed -n 1,10p | sed 's/^/  /'

sym_size() {
	local hex
	hex=$(riscv64-unknown-elf-nm -S "$out/mcu_probe.o" | awk -v s="$1" '$4 == s {print $2}')
	[ -n "$hex" ] || { echo "mcu-check: symbol $1 missing in the probe" >&2; exit 1; }
	echo $((16#$hex))
}
echo "tunnel state (8 peers): $(sym_size mcu_tunnel) bytes; bundle: $(sym_size mcu_bundle) bytes;" \
	"MQTT reassembly buffer: $(sym_size mcu_rx_buffer) bytes; outbox: $(sym_size mcu_outbox) bytes"
total=$(riscv64-unknown-elf-size --format=berkeley "$out"/*.o | awk 'NR > 1 {s += $2 + $3} END {print s}')
echo "static RAM total (.data + .bss): $total bytes (budget $budget_static)"
[ "$total" -le "$budget_static" ] || {
	echo "mcu-check: static RAM over the budget" >&2
	exit 1
}

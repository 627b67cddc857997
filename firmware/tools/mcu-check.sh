#!/usr/bin/env bash
# mcu-check.sh ROOT OUT_DIR: compiles common/*.c, the firmware app (firmware/app/fw_*.c, the lwIP
# files against Debian's lwIP 2.1 headers) and the probe of the firmware's static state for the
# ESP32-C3's ISA (rv32imc/ilp32, picolibc) with -Werror; prints .data/.bss per object, the largest
# stack frames (-fstack-usage) and the static RAM total; fails above the budget of
# firmware/README.md "Memory".
set -euo pipefail
root=$1 out=$2
budget_static=24576 # bytes of .data + .bss (24 KiB) with 8 peers: firmware/README.md "Memory"
budget_frame=2048   # bytes: the largest stack frame of any function

. "$root/tests/tools/rv32.sh"

rv32_setup "$out"
RV32_FLAGS+=(-Wstack-usage=$budget_frame -I "$root/common" -I "$root/firmware/app")
# lwIP's headers are target-neutral too (its arch/ port there is generic: opaque pointer types
# for the OS objects, which ESP-IDF's FreeRTOS port also uses).
lwip=(-D_POSIX_C_SOURCE=200809L -isystem /usr/include/lwip)

for src in "$root"/common/*.c "$root"/firmware/app/fw_creds.c "$root"/firmware/app/fw_outbox.c \
	"$root"/firmware/app/fw_tunnel.c "$root"/firmware/tools/mcu_probe.c; do
	rv32_cc "$out" "$src"
done
for src in "$root"/firmware/app/fw_netif.c "$root"/firmware/app/fw_shell.c; do
	rv32_cc "$out" "$src" "${lwip[@]}"
done
rv32_report "$out" 10

sym_size() { rv32_sym_size "$out/mcu_probe.o" "$1"; }
echo "tunnel state (8 peers): $(sym_size mcu_tunnel) bytes; outbox: $(sym_size mcu_outbox) bytes;" \
	"TLS credentials: $(sym_size mcu_creds) bytes"
total=$(riscv64-unknown-elf-size --format=berkeley "$out"/*.o | awk 'NR > 1 {s += $2 + $3} END {print s}')
echo "static RAM total (.data + .bss): $total bytes (budget $budget_static)"
[ "$total" -le "$budget_static" ] || {
	echo "mcu-check: static RAM over the budget" >&2
	exit 1
}

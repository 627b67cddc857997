#!/usr/bin/env bash
# idf-check.sh OUT_DIR: configures the ESP-IDF project (firmware/esp32) with ESP-IDF's own Kconfig
# tooling for each uplink and target, and compiles its ESP layer (esp32/main/*.c) with the app and
# core (firmware/app, common/) against that ESP-IDF's headers and generated sdkconfig.h, with
# -Werror. A local check, not part of CI (no ESP-IDF toolchain here): it needs local copies of
#   IDF_PATH     an ESP-IDF tree (any version >= 5.1)
#   IDF_KCONFIG  an esp-idf-kconfig tree (its kconfgen runs with PYTHONPATH set to it)
#   IDF_LWIP     an esp-lwip tree (ESP-IDF's lwip submodule)
#   IDF_MQTT     an esp-mqtt tree (ESP-IDF's mqtt submodule before v6, a registry component since)
# and skips (exit 77) saying which is missing. Configurations (CONFIGS, default all):
#   wifi, eth-openeth on esp32c3 and esp32; eth-w5500 on esp32c3 (v5.x: W5500 is in ESP-IDF);
#   eth-emac on esp32.
# Compilers: Debian's riscv64-unknown-elf-gcc for esp32c3 (-march=rv32imc_zicsr_zifencei, full
# compile) and xtensa-lx106-elf-gcc for esp32 (compiled to assembly only: lx106 is the ESP8266's
# Xtensa core, so the ESP32's inline assembly is not assembled); newlib's headers from Debian's
# newlib-source, as ESP-IDF v5 builds on newlib. What this cannot see: link errors, the registry
# components' own code (libsodium: Debian's headers stand in), and anything that runs.
set -euo pipefail
out=${1:?usage: idf-check.sh OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
proj=$root/firmware/esp32

skip() {
	echo "idf-check: skipped: $*" >&2
	exit 77
}
for v in IDF_PATH IDF_KCONFIG IDF_LWIP IDF_MQTT; do
	[ -n "${!v:-}" ] && [ -d "${!v}" ] || skip "set $v to a local copy (see the header of $0)"
done
[ -f "$IDF_PATH/tools/kconfig_new/prepare_kconfig_files.py" ] || skip "$IDF_PATH is not an ESP-IDF tree"
[ -f /usr/src/newlib/newlib-3.3.0.tar.xz ] || skip "newlib headers: apt-get install newlib-source"
command -v riscv64-unknown-elf-gcc >/dev/null || skip "apt-get install gcc-riscv64-unknown-elf"
command -v xtensa-lx106-elf-gcc >/dev/null || skip "apt-get install gcc-xtensa-lx106"

idf_version=$(awk '/define ESP_IDF_VERSION_(MAJOR|MINOR|PATCH)/ {v = v (v ? "." : "") $3} END {print v}' \
	"$IDF_PATH/components/esp_common/include/esp_idf_version.h")
major=${idf_version%%.*}
mkdir -p "$out"
out=$(cd "$out" && pwd)
newlib=$out/newlib
if [ ! -f "$newlib/stdio.h" ]; then
	mkdir -p "$out/newlib-src"
	tar -xJf /usr/src/newlib/newlib-3.3.0.tar.xz -C "$out/newlib-src" --wildcards '*/newlib/libc/include/*'
	mv "$out"/newlib-src/*/newlib/libc/include "$newlib"
	rm -rf "$out/newlib-src"
	# newlib 4.3 (ESP-IDF v5.5 on) dropped the const that 3.3 has here; ESP-IDF redeclares it.
	sed -i 's/struct _reent \*const _global_impure_ptr/struct _reent *_global_impure_ptr/' \
		"$newlib/sys/reent.h"
	# newlib.h is generated when newlib is built: the options of Espressif's toolchain build.
	cat >"$newlib/newlib.h" <<-EOF
		#ifndef __NEWLIB_H__
		#define __NEWLIB_H__ 1
		#include <_newlib_version.h>
		#define _RETARGETABLE_LOCKING 1
		#define _WANT_IO_C99_FORMATS 1
		#define _WANT_IO_LONG_LONG 1
		#define _WANT_IO_POS_ARGS 1
		#define _ATEXIT_DYNAMIC_ALLOC 1
		#define _REENT_CHECK_VERIFY 1
		#define _HAVE_INITFINI_ARRAY 1
		#define _MB_LEN_MAX 1
		#endif
	EOF
fi
# libsodium comes from the component registry: its headers are target-neutral, Debian's stand in.
mkdir -p "$out/sodium"
ln -sfn /usr/include/sodium.h "$out/sodium/sodium.h"
ln -sfn /usr/include/sodium "$out/sodium/sodium"

# kconfgen as ESP-IDF's tools/cmake/kconfig.cmake runs it: every component's Kconfig, ours, and
# the defaults files; writes sdkconfig and sdkconfig.h into $1.
configure() {
	local dir=$1 target=$2
	shift 2
	local kconfigs projbuilds renames defaults=()
	mkdir -p "$dir"
	kconfigs=$(ls "$IDF_PATH"/components/*/Kconfig | tr '\n' ';')
	[ "$major" -ge 6 ] && kconfigs+="$IDF_MQTT/Kconfig;"
	projbuilds=$(ls "$IDF_PATH"/components/*/Kconfig.projbuild | tr '\n' ';')
	projbuilds+="$proj/main/Kconfig.projbuild"
	renames=$(ls "$IDF_PATH"/components/*/sdkconfig.rename "$IDF_PATH"/components/*/sdkconfig.rename."$target" \
		2>/dev/null | tr '\n' ';')
	cat >"$dir/config.env" <<-EOF
		{"COMPONENT_KCONFIGS": "${kconfigs%;}", "COMPONENT_KCONFIGS_PROJBUILD": "$projbuilds",
		 "COMPONENT_SDKCONFIG_RENAMES": "${renames%;}", "IDF_TARGET": "$target",
		 "IDF_TOOLCHAIN": "gcc", "IDF_VERSION": "$idf_version", "IDF_INIT_VERSION": "$idf_version",
		 "IDF_ENV_FPGA": "", "IDF_PATH": "$IDF_PATH",
		 "COMPONENT_KCONFIGS_SOURCE_FILE": "$dir/kconfigs.in",
		 "COMPONENT_KCONFIGS_PROJBUILD_SOURCE_FILE": "$dir/kconfigs_projbuild.in",
		 "KCONFIG_PROMPTLESS_NO_WARN": "IDF_TARGET"}
	EOF
	for f in "$proj/sdkconfig.defaults" "$@"; do
		defaults+=(--defaults "$f")
	done
	python3 "$IDF_PATH/tools/kconfig_new/prepare_kconfig_files.py" --list-separator=semicolon \
		--env-file "$dir/config.env"
	rm -f "$dir/sdkconfig"
	PYTHONPATH=$IDF_KCONFIG python3 -m kconfgen --list-separator=semicolon \
		--kconfig "$IDF_PATH/Kconfig" --sdkconfig-rename "$IDF_PATH/sdkconfig.rename" \
		--config "$dir/sdkconfig" "${defaults[@]}" --env-file "$dir/config.env" \
		--env IDF_MINIMAL_BUILD=n --output header "$dir/sdkconfig.h" \
		--output config "$dir/sdkconfig" >"$dir/kconfgen.log" 2>&1 ||
		{ cat "$dir/kconfgen.log" >&2; return 1; }
}

# The public include directories of the components the port uses, for one target and arch:
# each component's include dirs without those of other targets, other archs, tests and hosts.
include_dirs() {
	local target=$1 arch=$2 other_arch
	[ "$arch" = riscv ] && other_arch=xtensa || other_arch=riscv
	echo "$IDF_PATH/components/newlib/platform_include"
	echo "$IDF_PATH/components/esp_libc/platform_include"
	# freertos/CMakeLists.txt: "freertos/x.h" and bare "x.h" includes, config/ from v5.3.
	for d in config/include config/include/freertos config/$arch/include \
		FreeRTOS-Kernel/include FreeRTOS-Kernel/portable/$arch/include \
		FreeRTOS-Kernel/portable/$arch/include/freertos esp_additions/include/freertos \
		esp_additions/include esp_additions/arch/$arch/include; do
		echo "$IDF_PATH/components/freertos/$d"
	done
	find "$IDF_PATH/components" "$IDF_LWIP/src" "$IDF_MQTT" -type d \
		\( -name include -o -name platform_port -o -name register \) \
		-not -path '*/test*' -not -path '*/host_test*' -not -path '*/linux*' -not -path '*/sim/*' \
		-not -path '*/FreeRTOS-Kernel*' -not -path '*/freertos/esp_additions*' \
		-not -path "*/$other_arch/*" -not -path '*/examples/*' -not -path '*/bt/*' \
		-not -path '*/openthread/*' -not -path '*/tinyusb/*' -not -path '*/mbedtls/mbedtls/*' |
		grep -E -v "/esp32[a-z0-9]*(/|$)" | sort
	find "$IDF_PATH/components" -type d \( -path "*/$target/include" -o -path "*/$target/register" \) \
		-not -path '*/test*' | sort
	find "$IDF_PATH/components" -type d -path "*/$target" -path '*/include/*' -not -path '*/test*' | sort
	echo "$IDF_PATH/components/lwip/port/include"
	echo "$IDF_PATH/components/lwip/port/freertos/include"
	echo "$IDF_PATH/components/lwip/port/esp32xx/include"
	echo "$IDF_PATH/components/lwip/port/esp32xx/include/arch"
	echo "$IDF_PATH/components/esp_rom/$target"
	echo "$IDF_PATH/components/soc/$target"
	echo "$IDF_PATH/components/$arch/include"
}

check_one() {
	local target=$1 net=$2 arch cc flags defaults=() dir srcs=() n=0 libc specs
	dir=$out/$target-$net
	case $net in
	wifi) ;;
	eth-*) printf 'CONFIG_MQTTIP_UPLINK_ETHERNET=y\nCONFIG_MQTTIP_ETH_%s=y\n' \
		"$(echo "${net#eth-}" | tr a-z A-Z)" >"$out/$net.defaults"
		defaults+=("$out/$net.defaults") ;;
	esac
	[ "$net" = eth-w5500 ] && echo "CONFIG_ETH_SPI_ETHERNET_W5500=y" >>"$out/$net.defaults"
	configure "$dir" "$target" "${defaults[@]}"
	# The choice took: the Kconfig in main/ and the defaults agree.
	case $net in
	wifi) grep -q '^CONFIG_MQTTIP_UPLINK_WIFI=y' "$dir/sdkconfig" ;;
	*) grep -q "^CONFIG_MQTTIP_ETH_$(echo "${net#eth-}" | tr a-z A-Z)=y" "$dir/sdkconfig" ;;
	esac || { echo "idf-check: $target $net: menuconfig did not take the uplink" >&2; return 1; }

	if [ "$target" = esp32 ]; then
		arch=xtensa cc=xtensa-lx106-elf-gcc flags=(-S -mlongcalls)
	else
		arch=riscv cc=riscv64-unknown-elf-gcc flags=(-c -march=rv32imc_zicsr_zifencei -mabi=ilp32)
	fi
	flags+=(-std=gnu17 -Os -ffunction-sections -fdata-sections -nostdinc
		-Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-sign-compare
		-DESP_PLATFORM "-DIDF_VER=\"v$idf_version\"" -D_GNU_SOURCE -D_POSIX_READER_WRITER_LOCKS
		-DMBEDTLS_CONFIG_FILE=\"mbedtls/esp_config.h\"
		-I "$dir" -I "$proj/main" -I "$root/firmware/app" -I "$root/common")
	while read -r d; do
		[ -d "$d" ] && flags+=(-isystem "$d")
	done < <(include_dirs "$target" "$arch")
	# ESP-IDF v5 builds on newlib; v6 defaults to picolibc (CONFIG_LIBC_PICOLIBC).
	libc=$newlib
	if grep -q '^CONFIG_LIBC_PICOLIBC=y' "$dir/sdkconfig"; then
		for specs in picolibc.specs /usr/lib/"$($cc -dumpmachine)"/picolibc.specs; do
			libc=$($cc --specs="$specs" -xc -E -v /dev/null 2>&1 |
				sed -n '/<...> search starts/{n;s/^ *//;p;q}')
			[ -f "$libc/picolibc.h" ] && break
		done
		[ -f "$libc/picolibc.h" ] || skip "picolibc headers: apt-get install picolibc-$($cc -dumpmachine)"
		# Debian's picolibc 1.8 declares ssize_t in sys/types.h only; ESP-IDF's stdio.h wants it.
		flags+=(-include sys/types.h)
	fi
	flags+=(-isystem "$out/sodium" -isystem "$libc"
		-isystem "$($cc -print-file-name=include)" -isystem "$($cc -print-file-name=include-fixed)")
	srcs=("$proj"/main/main.c "$proj"/main/provision.c "$proj"/main/port.c
		"$root"/firmware/app/*.c "$root"/common/*.c)
	if [ "$net" = wifi ]; then srcs+=("$proj/main/wifi.c"); else srcs+=("$proj/main/eth.c"); fi
	mkdir -p "$dir/obj"
	for s in "${srcs[@]}"; do
		if ! $cc "${flags[@]}" "$s" -o "$dir/obj/$(basename "${s%.c}").o" 2>>"$dir/errors.log"; then
			n=$((n + 1))
		fi
	done
	if [ "$n" -ne 0 ]; then
		echo "idf-check: ESP-IDF $idf_version $target $net: $n of ${#srcs[@]} files failed:" >&2
		grep -E 'error|warning' "$dir/errors.log" | head -40 >&2
		return 1
	fi
	echo "idf-check: ESP-IDF $idf_version $target $net: configured, ${#srcs[@]} files compiled without warnings"
}

configs=${CONFIGS:-"esp32c3:wifi esp32c3:eth-openeth esp32c3:eth-w5500 esp32:wifi esp32:eth-emac esp32:eth-openeth"}
failed=0
for c in $configs; do
	target=${c%%:*} net=${c#*:}
	if [ "$net" = eth-openeth ] && [ "$target" = esp32c3 ] &&
		[ ! -f "$IDF_PATH/components/esp_eth/include/esp_eth_mac_openeth.h" ]; then
		echo "idf-check: ESP-IDF $idf_version $target $net: skipped (OpenCores Ethernet on the ESP32-C3 needs v5.3)"
		continue
	fi
	if [ "$net" = eth-w5500 ] && [ "$major" -ge 6 ]; then
		echo "idf-check: ESP-IDF $idf_version $target $net: skipped (W5500 is a registry component from v6)"
		continue
	fi
	rm -f "$out/$target-$net/errors.log"
	check_one "$target" "$net" || failed=1
done
exit $failed

#!/usr/bin/env bash
# rv32-libs.sh OUT: builds the two libraries the core's tests link, for the ESP32-C3's ISA
# (rv32imc/ilp32, bare metal, picolibc), from Debian's source packages of the versions the host
# has (`apt-get source`, which needs deb-src entries: scripts/install-deps.sh adds them):
#   OUT/sodium/{include,lib/libsodium.a}  libsodium (common/ and every test)
#   OUT/cjson/{include/cjson,lib/libcjson.a}  cJSON (the Noise vector runner reads JSON)
# RV32_OPT sets the optimisation level (default -Os). Kept across runs: a library whose version
# and flags match its stamp is not rebuilt. Exits 77
# with a "SKIP: ..." line naming the missing piece when the toolchain or a source package cannot
# be had.
#
# libsodium: the Debian source is the upstream git tree (no generated configure), so it is built
# the way embedded ports of it (ESP-IDF's component among them) build it: every src/libsodium/*.c
# compiled with CONFIGURED=1 and the target's few facts as defines, version.h made from
# version.h.in. Code for
# other CPUs (SSE, AVX, NEON) is behind its own HAVE_* defines and compiles to nothing. The two
# random sources that read /dev/urandom are left out: this libsodium has no default random source
# (randombytes_*() before randombytes_set_implementation() faults), as on a device, where the
# chip's generator is installed (ESP-IDF's port: esp_random()); the tests install
# tests/tools/rv32_testrng.c.
set -euo pipefail
out=$1
. "$(dirname "$0")/rv32.sh"
export RV32_CC

skip() {
	echo "SKIP: $*"
	exit 77
}

command -v $RV32_CC >/dev/null ||
	skip "$RV32_CC not found (Debian packages gcc-riscv64-unknown-elf and" \
		"picolibc-riscv64-unknown-elf; scripts/install-deps.sh installs them)"
[ -e /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ] ||
	skip "picolibc for riscv not found (Debian package picolibc-riscv64-unknown-elf)"

# RV32_OPT: the optimisation level (default -Os, ESP-IDF's "optimize for size").
base_flags=(-march=rv32imc -mabi=ilp32 --specs=picolibc.specs "${RV32_OPT:--Os}" -g
	-ffunction-sections -fdata-sections -w)

# fresh DIR STAMP: true when DIR was built with STAMP; otherwise empties DIR for a new build.
fresh() {
	if [ -e "$1/stamp" ] && [ "$(cat "$1/stamp")" = "$2" ]; then
		return 0
	fi
	rm -rf "$1" && mkdir -p "$1/src" "$1/obj" "$1/lib" "$1/include"
	return 1
}

# fetch SOURCE VERSION DIR: unpacks Debian's source package SOURCE=VERSION in DIR/src and sets
# tree to its path.
fetch() {
	local src=$1 version=$2 dir=$3
	if ! (cd "$dir/src" && apt-get source -qq "$src=$version" >../apt-source.log 2>&1); then
		cat "$dir/apt-source.log" >&2
		skip "'apt-get source $src=$version' failed (no deb-src entry for Debian main?" \
			"scripts/install-deps.sh adds them; apt's log is above)"
	fi
	tree=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name "$src-*" | head -n1)
	[ -n "$tree" ] || skip "'apt-get source $src' unpacked no tree in $dir/src"
}

# host_version DEVPKG: sets version to the source version of the host's DEVPKG (the host's tests
# and the rv32 ones then run against the same library).
host_version() {
	version=$(dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null) ||
		skip "$1 is not installed: its version names the source package to build"
}

# compile_all DIR SOURCE-ROOT FLAGS...: compiles the .c files listed in DIR/sources (two
# compilers at a time: CI has two cores; flags through a response file) into DIR/obj.
compile_all() {
	local dir=$1 root=$2
	shift 2
	printf '%s\n' "$@" >"$dir/cflags"
	awk -v root="$root/" -v o="$dir/obj" '{
		name = substr($0, length(root) + 1); gsub(/\//, "_", name)
		print $0; print o "/" substr(name, 1, length(name) - 2) ".o" }' \
		"$dir/sources" >"$dir/objects"
	RV32_CFLAGS="$dir/cflags" xargs -d '\n' -n2 -P2 \
		sh -c '"$RV32_CC" @"$RV32_CFLAGS" -c "$1" -o "$2" || exit 255' sh <"$dir/objects"
}

build_sodium() {
	local dir=$out/sodium lib upstream major minor start=$SECONDS
	host_version libsodium-dev
	local flags=("${base_flags[@]}" -std=gnu11 -DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1
		-DHAVE_WEAK_SYMBOLS=1 -D__STDC_LIMIT_MACROS -D__STDC_CONSTANT_MACROS
		-DRANDOMBYTES_DEFAULT_IMPLEMENTATION=NULL)
	local stamp="libsodium $version: ${flags[*]}"
	fresh "$dir" "$stamp" && return 0
	fetch libsodium "$version" "$dir"
	lib=$tree/src/libsodium
	[ -d "$lib" ] || skip "no src/libsodium in $tree"

	# version.h: the values configure would substitute, read from configure.ac.
	upstream=${version%%-*}
	upstream=${upstream#*:}
	major=$(sed -n 's/^SODIUM_LIBRARY_VERSION_MAJOR=//p' "$tree/configure.ac")
	minor=$(sed -n 's/^SODIUM_LIBRARY_VERSION_MINOR=//p' "$tree/configure.ac")
	cp -r "$lib/include/." "$dir/include/"
	rm "$dir/include/sodium/version.h.in"
	sed -e "s/@VERSION@/$upstream/" -e "s/@SODIUM_LIBRARY_VERSION_MAJOR@/$major/" \
		-e "s/@SODIUM_LIBRARY_VERSION_MINOR@/$minor/" -e "s/@SODIUM_LIBRARY_MINIMAL_DEF@//" \
		"$lib/include/sodium/version.h.in" >"$dir/include/sodium/version.h"
	# randombytes.c includes this when RANDOMBYTES_DEFAULT_IMPLEMENTATION is set (1.0.18 has no
	# such file); it would declare the internal source, which is left out.
	mkdir -p "$dir/private"
	echo "/* empty: see tests/tools/rv32-libs.sh */" >"$dir/private/randombytes_internal.h"

	find "$lib" -name '*.c' ! -path '*/randombytes/sysrandom/*' \
		! -path '*/randombytes/internal/*' | sort >"$dir/sources"
	compile_all "$dir" "$lib" "${flags[@]}" -I"$dir/include/sodium" -I"$dir/include" \
		-I"$dir/private" || {
		echo "rv32-libs: building libsodium $version for rv32 failed" >&2
		exit 1
	}
	riscv64-unknown-elf-ar rcs "$dir/lib/libsodium.a" "$dir"/obj/*.o
	echo "$stamp" >"$dir/stamp"
	echo "rv32-libs: libsodium $version built for rv32imc/ilp32 in $((SECONDS - start)) s" \
		"($(wc -l <"$dir/sources") sources)"
}

build_cjson() {
	local dir=$out/cjson start=$SECONDS
	host_version libcjson-dev
	local flags=("${base_flags[@]}" -std=c89)
	local stamp="cjson $version: ${flags[*]}"
	fresh "$dir" "$stamp" && return 0
	fetch cjson "$version" "$dir"
	[ -e "$tree/cJSON.c" ] || skip "no cJSON.c in $tree"
	mkdir -p "$dir/include/cjson"
	cp "$tree/cJSON.h" "$dir/include/cjson/"
	echo "$tree/cJSON.c" >"$dir/sources"
	compile_all "$dir" "$tree" "${flags[@]}" || {
		echo "rv32-libs: building cJSON $version for rv32 failed" >&2
		exit 1
	}
	riscv64-unknown-elf-ar rcs "$dir/lib/libcjson.a" "$dir"/obj/*.o
	echo "$stamp" >"$dir/stamp"
	echo "rv32-libs: cJSON $version built for rv32imc/ilp32 in $((SECONDS - start)) s"
}

build_sodium
build_cjson

# flip_byte FILE OFFSET: invert the low bit of the byte at OFFSET (bytes from 0), in place.
# Tests that tamper with a signed or authenticated record use it rather than writing a fixed
# value: a fixed value equals the byte already there once in 256 runs, and the "tampered" record
# is then the genuine one.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || { echo "flip_byte: $1 has no byte at offset $2" >&2; return 1; }
	# shellcheck disable=SC2059 # the format is the escaped byte
	printf "\\x$(printf %02x $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

#!/usr/bin/env bash
# check-format.sh CLANG_FORMAT: lists the C files that differ from .clang-format and fails if any.
set -euo pipefail
cf=$1
bad=0
while IFS= read -r f; do
	if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run: clang-format -i $f)"
		bad=1
	fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null || find common plugin agent firmware tests -name '*.[ch]')
[ "$bad" -eq 0 ] && echo "all C files formatted"
exit "$bad"

#!/usr/bin/env bash
# The README's first Quick start command (as root on Debian 12): installs what is missing, builds
# the program and the broker plugin in build/, and runs `mqttip demo` (a broker and three agents
# in network namespaces, shown step by step and removed at the end). Arguments go to the demo,
# e.g. `bash scripts/demo.sh --keep`; `build/agent/mqttip demo --help` lists them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run it as root (it installs packages and makes network namespaces)" >&2
	exit 1
fi
bash scripts/install-deps.sh
echo "demo.sh: building mqttip and mqttip_plugin.so in build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if ! cmake --build build -j"$(nproc)" --target mqttip mqttip_plugin >build/demo-build.log 2>&1; then
	tail -n 30 build/demo-build.log >&2
	echo "demo.sh: the build failed (whole log: build/demo-build.log)" >&2
	exit 1
fi
exec build/agent/mqttip demo "$@"

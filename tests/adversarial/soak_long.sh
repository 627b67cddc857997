#!/usr/bin/env bash
# soak_long.sh DURATION_SECONDS [AGENTS]: the long soak, outside CTest (at least 300 s): the
# same lab and checks as load_soak.sh (CTest adv_load_soak runs it for 60 s), with the same
# environment (MQTTIP MQTTIP_PLUGIN JSONGET MITM ROGUENODE DELAYRELAY), e.g. from a build dir B:
#   B=build; MQTTIP=$B/agent/mqttip MQTTIP_PLUGIN=$B/plugin/mqttip_plugin.so \
#   JSONGET=$B/tests/jsonget MITM=$B/tests/mitm ROGUENODE=$B/tests/roguenode \
#   DELAYRELAY=$B/tests/delayrelay tests/adversarial/soak_long.sh 600
set -euo pipefail
d=${1:?usage: soak_long.sh DURATION_SECONDS [AGENTS]}
[ "$d" -ge 300 ] || { echo "soak_long.sh: at least 300 s (CTest runs the short one)" >&2; exit 2; }
SAMPLE=${SAMPLE:-30} exec bash "$(dirname "$0")/load_soak.sh" "${2:-20}" "$d"

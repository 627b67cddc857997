# private_run.sh - runs the sourcing test script in a mount namespace of its own in which /run is
# a fresh tmpfs (only /run/netns, where `ip netns` keeps the named network namespaces, is carried
# over), so that what the programs under test create under /run (status sockets such as
# /run/mqttip/..., pid files) never touches the host and no other test sees it.
# Source it from bash before anything else; it re-executes "$0" "$@" inside the namespace (as
# root; otherwise it exits 77, skip).
# shellcheck shell=bash

if [ -z "${MQTTIP_PRIVATE_RUN:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespace)" >&2; exit 77; }
	command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) missing" >&2; exit 77; }
	MQTTIP_PRIVATE_RUN=1 exec unshare -m --propagation private bash "$0" "$@"
fi

private_run_setup() {
	local keep=""
	if [ -d /run/netns ]; then
		keep=$(mktemp -d /tmp/mqttip-netns.XXXXXX)
		mount --rbind /run/netns "$keep"
	fi
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir /run/netns
	if [ -n "$keep" ]; then
		mount --move "$keep" /run/netns
		rmdir "$keep"
	fi
}
private_run_setup

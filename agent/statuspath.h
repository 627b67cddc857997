/* statuspath.h - the default path of an agent's status socket, computed the same way by `mqttip
 * up` and `mqttip status`. Interface names repeat across network namespaces, so an agent outside
 * the host's namespace gets a directory of its own and never meets another agent's socket:
 *   /run/mqttip/IFNAME.sock             in the network namespace of PID 1 (the host's), or
 *                                       when that cannot be told
 *   /run/mqttip/NETNS/IFNAME.sock       in a namespace named by `ip netns` (/run/netns/NETNS)
 *   /run/mqttip/net-INODE/IFNAME.sock   in an unnamed one (INODE: its /proc/self/ns/net inode)
 * docs/AGENT.md "mqttip status". The state file of `mqttip up` follows the same rule. */
#ifndef MQTTIP_STATUSPATH_H
#define MQTTIP_STATUSPATH_H

#include <stddef.h>

#define STATUSPATH_DIR "/run/mqttip"

/* Writes the default socket path of ifname into out[cap]. Returns 0, or -1 when it does not fit. */
int statuspath_default(const char *ifname, char *out, size_t cap);
/* The same rule for another per-agent file: DIR/[NETNS/]IFNAME EXT (the state file:
 * /var/lib/mqttip/[NETNS/]IFNAME.state). */
int statuspath_in(const char *dir, const char *ifname, const char *ext, char *out, size_t cap);

#endif

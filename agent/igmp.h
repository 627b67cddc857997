/* igmp.h - the IPv4 multicast groups an interface has joined, as the kernel lists them in
 * /proc/net/igmp; legacy mode follows them (node_legacy_set_groups, PROTOCOL.md 9). */
#ifndef MQTTIP_IGMP_H
#define MQTTIP_IGMP_H

#include <stddef.h>

#include "netaddr.h"

/* Fills out[0..cap) with ifname's groups and returns how many; 0 when the file cannot be read
 * (no IPv4, no procfs) or lists none. */
size_t igmp_groups(const char *ifname, struct netaddr *out, size_t cap);

#endif

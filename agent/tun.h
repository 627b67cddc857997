/* tun.h - the TUN interface: opened non-blocking (IFF_TUN | IFF_NO_PI, so each read is one IP
 * packet), addressed, MTU set and brought up with ioctls (no external tools). The interface is
 * not persistent: it disappears when the daemon closes the descriptor or dies. */
#ifndef MQTTIP_TUN_H
#define MQTTIP_TUN_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* Returns the descriptor, or -1 with a one-line reason in err. */
int tun_open(const char *ifname, char *err, size_t cap);
/* a4 / a6 may be NULL. Returns 0, or -1 with a one-line reason in err. */
int tun_configure(const char *ifname, const struct netaddr *a4, uint8_t prefix4,
		  const struct netaddr *a6, uint8_t prefix6, unsigned mtu, char *err, size_t cap);

#endif

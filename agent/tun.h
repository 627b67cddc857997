/* tun.h - the TUN interface: opened non-blocking (IFF_TUN | IFF_NO_PI, so each read is one IP
 * packet), addressed, MTU set and brought up with ioctls (no external tools). The interface is
 * not persistent: it disappears when the daemon closes the descriptor or dies. */
#ifndef MQTTIP_TUN_H
#define MQTTIP_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

/* True when this host (network namespace) can give a new interface an IPv6 address; false with
 * the reason in why (no IPv6 in the kernel, or net.ipv6.conf.{all,default}.disable_ipv6 = 1). */
bool tun_ipv6_available(char *why, size_t cap);
/* Returns the descriptor, or -1 with a one-line reason in err. */
int tun_open(const char *ifname, char *err, size_t cap);
/* a4 / a6 may be NULL. Returns 0, or -1 with a one-line reason in err. */
int tun_configure(const char *ifname, const struct netaddr *a4, uint8_t prefix4,
		  const struct netaddr *a6, uint8_t prefix6, unsigned mtu, char *err, size_t cap);

#endif

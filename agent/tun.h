/* tun.h - the TUN interface: opened non-blocking (IFF_TUN | IFF_NO_PI, so each read is one IP
 * packet), addressed, MTU set and brought up with ioctls (no external tools). The interface is
 * not persistent: it disappears when the daemon closes the descriptor or dies.
 * Offloads (Linux 2.6.27 TSO, 6.2 USO): with IFF_VNET_HDR every read and write starts with a
 * struct virtio_net_hdr (TUN_VNET_HDR_LEN bytes), and TUNSETOFFLOAD lets the kernel hand over
 * super-packets (TCP up to the device's gso_max_size, UDP segments) with partial checksums, and
 * take them back: one read or write for many packets. Where the kernel refuses, the device is
 * opened without them. */
#ifndef MQTTIP_TUN_H
#define MQTTIP_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gso.h"
#include "netaddr.h"

/* True when this host (network namespace) can give a new interface an IPv6 address; false with
 * the reason in why (no IPv6 in the kernel, or net.ipv6.conf.{all,default}.disable_ipv6 = 1). */
bool tun_ipv6_available(char *why, size_t cap);
#define TUN_VNET_HDR_LEN 10 /* sizeof(struct virtio_net_hdr) */

/* Returns the descriptor, or -1 with a one-line reason in err. offload: ask for the virtio-net
 * header and offloads; *offloaded says whether the device has them (false when the kernel refused
 * them: the device works without, and what it said is in note, "" otherwise). */
int tun_open(const char *ifname, bool offload, bool *offloaded, char *note, char *err, size_t cap);
/* Caps the super-packets the kernel builds for the device at max bytes (IFLA_GSO_MAX_SIZE over
 * rtnetlink), so that one fits a message. 0, or -1 with a reason in err. */
int tun_set_gso_max(const char *ifname, unsigned max, char *err, size_t cap);
/* A virtio-net header as the kernel wrote it before a packet (hdr, TUN_VNET_HDR_LEN bytes) into
 * the engine's metadata (type, flags, size; gso.h). pkt, len: the packet. A partial checksum that
 * is not the TCP or UDP field the engine finds by itself is completed here, and the packet is then
 * plain. Returns false for a kind the device was not asked for (counted by the caller). */
bool tun_vnet_read(const uint8_t *hdr, uint8_t *pkt, size_t len, struct gso_info *g);
/* The header to write before a packet the engine described (g from gso_check or gso_merge). */
void tun_vnet_write(const struct gso_info *g, uint8_t hdr[TUN_VNET_HDR_LEN]);
/* a4 / a6 may be NULL. Returns 0, or -1 with a one-line reason in err. */
int tun_configure(const char *ifname, const struct netaddr *a4, uint8_t prefix4,
		  const struct netaddr *a6, uint8_t prefix6, unsigned mtu, char *err, size_t cap);

#endif

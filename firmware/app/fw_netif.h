/* fw_netif.h - the tunnel as an lwIP network interface: a point-to-point netif without a link
 * layer whose output hands each IP packet to a callback (in place; a pbuf chain joined in lwIP's
 * memory for the call), and whose input takes packets from any thread through the netif's input
 * function (tcpip_input), since the MQTT client's task is not lwIP's thread. Uses only lwIP's API
 * (no ESP-IDF), so the ESP32 build and the Linux host port share it.
 *
 * The netif lives in an lwIP that ESP-IDF shares (firmware/README.md "ESP-IDF contracts"), so it
 * keeps to what lwIP's other users may assume of a netif they did not make:
 *  - netif->state stays NULL and the client-data slots untouched: esp_netif reads netif->state (or
 *    a client-data slot) of every netif as its esp_netif_t from its lwIP ext-callback, and lwIP
 *    keeps DHCP/IGMP/MLD state in the slots. Our context is the struct around the netif.
 *  - with IPv6 addresses, address slot 0 holds a link-local address: ESP-IDF's default IPv6 input
 *    hook drops IPv6 on a netif without one.
 *  - lwIP calls are made in lwIP's thread (tcpip_callback), never as the default route on the
 *    device. */
#ifndef MQTTIP_FW_NETIF_H
#define MQTTIP_FW_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"

#include "cert.h"

struct fw_netif {
	struct netif netif; /* first: the callbacks find the struct from it */
	void (*output)(void *ctx, const uint8_t *pkt, size_t len); /* in lwIP's thread */
	void *ctx;
	uint16_t mtu;
};

/* Adds and brings up the interface with the given addresses (IPv4: the first one is the
 * interface address with its prefix as netmask; IPv6: each one, on-link /64 as lwIP assumes, in
 * slots 1.. after fe80::1 in slot 0; LWIP_IPV6_NUM_ADDRESSES - 1 of them at most).
 * make_default: also the default route (the host port, where it is the only interface; never on
 * the ESP32, whose default route must stay WiFi: the broker is reached through it). Call from any
 * thread but lwIP's (it waits for lwIP's thread). Returns 0 or -1. */
int fw_netif_start(struct fw_netif *n, const struct cert_prefix *addrs, size_t n_addrs,
		   uint16_t mtu, bool make_default);
/* Copies pkt into a pbuf and queues it for lwIP's thread; -1 when lwIP has no memory or its
 * queue is full (the packet is dropped, as a full NIC ring would). */
int fw_netif_input(struct fw_netif *n, const uint8_t *pkt, size_t len);

#endif

/* fw_netif.h - the tunnel as an lwIP network interface: a point-to-point netif without a link
 * layer whose output hands each IP packet (copied out of its pbuf chain) to a callback, and whose
 * input takes packets from any thread through the netif's input function (tcpip_input), since the
 * MQTT client's task is not lwIP's thread. Uses only lwIP's API (no ESP-IDF), so the ESP32 build
 * and the Linux host port share it. */
#ifndef MQTTIP_FW_NETIF_H
#define MQTTIP_FW_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"

#include "cert.h"

struct fw_netif {
	struct netif netif;
	void (*output)(void *ctx, const uint8_t *pkt, size_t len); /* in lwIP's thread */
	void *ctx;
	uint16_t mtu;
};

/* Adds and brings up the interface with the given addresses (IPv4: the first one is the
 * interface address with its prefix as netmask; IPv6: each one, on-link /64 as lwIP assumes).
 * make_default: also the default route (the host port, where it is the only interface; never on
 * the ESP32, whose default route must stay WiFi: the broker is reached through it). Call from any
 * thread but lwIP's (it waits for lwIP's thread). Returns 0 or -1. */
int fw_netif_start(struct fw_netif *n, const struct cert_prefix *addrs, size_t n_addrs,
		   uint16_t mtu, bool make_default);
/* Copies pkt into a pbuf and queues it for lwIP's thread; -1 when lwIP has no memory or its
 * queue is full (the packet is dropped, as a full NIC ring would). */
int fw_netif_input(struct fw_netif *n, const uint8_t *pkt, size_t len);

#endif

/* fw_port.h - everything the firmware app needs from its host, as a table of functions: the
 * ESP-IDF port (esp-mqtt, lwIP netif, SNTP) and the Linux host port (libmosquitto, Debian's lwIP)
 * each fill one. The app calls them with its own lock held (see fw_tunnel.h), so none of them may
 * call back into the app; they must not block for long either (queue, don't wait).
 * Randomness is not here: the app takes it from libsodium's randombytes_buf, which the ESP-IDF
 * libsodium component backs with esp_random (the hardware RNG). */
#ifndef MQTTIP_FW_PORT_H
#define MQTTIP_FW_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fw_port {
	void *ctx; /* passed back to every function */
	/* Queues one MQTT message; 0 or -1 when it was dropped (not connected, queue full). */
	int (*publish)(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
		       bool retain);
	int (*subscribe)(void *ctx, const char *filter, int qos);
	int (*unsubscribe)(void *ctx, const char *filter);
	/* Hands an authenticated IP packet to the device's IP stack; pkt is reused after the call
	 * returns, so the port copies it (into a pbuf for tcpip_input). 0, or -1 when the stack
	 * refused it (out of pbufs): counted as a drop ("deliver"). */
	int (*deliver)(void *ctx, const uint8_t *pkt, size_t len);
	/* Unix time of the wall clock (SNTP); false while it is not set. Certificates are checked
	 * against it and handshake timestamps made from it. */
	bool (*wall_clock)(void *ctx, uint64_t *unix_seconds, uint32_t *nanoseconds);
	/* One line of log, without a newline. */
	void (*log)(void *ctx, const char *line);
	/* Keeps the newest VPN revocation list (len bytes) where it survives a reboot (NVS on
	 * ESP-IDF, a file on the host port); the port hands it back with
	 * fw_tunnel_offer_revocation() at boot. 0 or -1. May be NULL (nothing kept). */
	int (*persist)(void *ctx, const uint8_t *list, size_t len);
};

#endif

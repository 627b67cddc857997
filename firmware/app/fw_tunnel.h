/* fw_tunnel.h - the tunnel of one device: the node engine (common/node.h) with the device's
 * policy and fixed-size storage, no allocation at all, so that it fits a microcontroller (docs in
 * firmware/README.md "Memory"). The node behaviour (handshakes, timers, queues, directory,
 * certificate rules) is the engine's, the same code the Linux agent runs; this file only holds
 * the device's settings and storage. The port (ESP-IDF: esp-mqtt, lwIP, SNTP, NVS; the Linux host
 * port: libmosquitto, Debian's lwIP) is the engine's own callback table, struct node_ops: its
 * functions are called with the port's lock held (below), so they must not call back into the
 * tunnel, nor block for long (queue, don't wait). Randomness is libsodium's randombytes_buf, which
 * the ESP-IDF libsodium component backs with esp_random (the hardware RNG).
 *
 * The device's policy (struct node_settings): the directory looked up on demand (subscribe
 * <p>/cert/<dst> while a packet waits), a full peer table evicts the least recently used peer,
 * FW_PENDING packets may wait per peer, broadcast and multicast are neither sent nor accepted
 * (counted), one packet per message sent (the device cannot know when a burst from lwIP ends),
 * messages of up to FW_RX_MSG_MAX received (announced to every peer, which batches within it).
 * Legacy mode (a config switch): martin-ger's MQTT_VPN with a password, topic <p>/<dst>, no
 * handshakes and no peers: the bundle then only gives the broker credentials.
 *
 * Concurrency: none inside. The port calls every function with one lock held (esp-mqtt's task,
 * lwIP's tcpip thread and the timer all enter here). Time: every function takes the port's
 * monotonic millisecond clock. */
#ifndef MQTTIP_FW_TUNNEL_H
#define MQTTIP_FW_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "bundle.h"
#include "node.h"
#include "proto.h"
#include "topic.h"

#define FW_MAX_PEERS  8	   /* peers with keys at the same time; the least recently used goes */
#define FW_MTU	      1400 /* the netif's MTU: an IP packet the device sends is at most this */
#define FW_PENDING    1	   /* packets waiting for a handshake or a certificate, all together */
#define FW_HANDSHAKES 2	   /* handshake states: initiations in flight and the responder's */
#define FW_WANTED     2	   /* directory lookups in flight */
#define FW_RATELIMIT  8	   /* senders with a rate-limit bucket of their own (ratelimit.h) */
/* The largest transport message the device sends: one full packet (or a legacy message, the
 * larger of the two); it never batches (fw_tunnel.h above). */
#define FW_TX_MSG_MAX MQTTIP_NODE_MESSAGE_LEN(MQTTIP_MAX_IP_PACKET, 1)
/* The largest MQTT payload the device publishes: that, or the revocation list it hands on (on the
 * retained topic, or with its key-exchange header to a peer, PROTOCOL.md 8.11). */
#define FW_TX_PAYLOAD_MAX                                                                          \
	(FW_TX_MSG_MAX > MQTTIP_KX_HEADER_LEN + MQTTIP_REVOCATION_MAX_LEN                          \
	     ? FW_TX_MSG_MAX                                                                       \
	     : MQTTIP_KX_HEADER_LEN + MQTTIP_REVOCATION_MAX_LEN)
/* The largest transport message the device accepts, which it announces in both handshake messages
 * (CAPS_MAX_MESSAGE, PROTOCOL.md 6.15): peers batch to it up to this size, a packet of 1400 bytes
 * and a few small ones, or a dozen small packets (acknowledgements, pings). */
#define FW_RX_MSG_MAX 2048
/* The largest MQTT payload the device accepts: such a message, or a revocation list with its
 * key-exchange header. Ports refuse (and log) larger messages; esp-mqtt's receive buffer holds a
 * whole message of this size with its topic, so the device decrypts in place there (port.c). */
#define FW_RX_PAYLOAD_MAX                                                                          \
	(FW_RX_MSG_MAX > MQTTIP_KX_HEADER_LEN + MQTTIP_REVOCATION_MAX_LEN                          \
	     ? FW_RX_MSG_MAX                                                                       \
	     : MQTTIP_KX_HEADER_LEN + MQTTIP_REVOCATION_MAX_LEN)

struct fw_config {
	char prefix[TOPIC_PREFIX_MAX + 1]; /* "" = MQTTIP_TOPIC_PREFIX */
	bool legacy;			   /* MQTT_VPN mode instead of the secure tunnel */
	char legacy_password[128];	   /* legacy: the MQTT_VPN -k password */
	struct netaddr legacy_addr;	   /* legacy: the device's address ... */
	uint8_t legacy_prefix_len;	   /* ... and its prefix length */
	bool has_psk;
	uint8_t psk[MQTTIP_KEY_LEN]; /* secure: optional network PSK (Noise psk2) */
};

/* Totals for the port's periodic log line. */
struct fw_counters {
	uint64_t rx_packets, tx_packets, handshakes, drops;
};

struct fw_tunnel {
	/* of struct fw_config, what the tunnel needs after fw_tunnel_init (which takes the rest) */
	bool legacy;
	struct netaddr legacy_addr;
	uint8_t legacy_prefix_len;
	struct node node;
	/* the engine's storage: a device is either secure or legacy, never both */
	union {
		struct {
			struct peer peers[FW_MAX_PEERS];
			struct peer_handshake handshakes[FW_HANDSHAKES];
			struct node_packet packets[FW_PENDING];
			struct node_wanted wanted[FW_WANTED];
			struct revocation revocation;
			struct ratelimit_sender senders[FW_RATELIMIT];
		} secure;
		struct node_legacy legacy;
	} mem;
	uint8_t batch[MQTTIP_MIN_MESSAGE]; /* one packet per message */
};

/* Sets t up from cfg and the bundle (secure mode needs its node certificate, key and network CA;
 * legacy mode ignores them). Returns 0, or -1 after logging why (bad certificate or key). */
int fw_tunnel_init(struct fw_tunnel *t, const struct fw_config *cfg, const struct bundle *b,
		   const struct node_ops *port, uint64_t now_ms);
/* A VPN revocation list the port kept (NVS) or found in the bundle: adopted when newer than the
 * one held (node_revocation_offer). Returns REVOCATION_NEWER, REVOCATION_SAME or an error. */
int fw_tunnel_offer_revocation(struct fw_tunnel *t, const uint8_t *list, size_t len,
			       uint64_t now_ms);
/* The broker session is up (again): subscribe the inboxes, publish our certificate. */
void fw_tunnel_connected(struct fw_tunnel *t, uint64_t now_ms);
void fw_tunnel_disconnected(struct fw_tunnel *t);
/* One MQTT message. The payload is writable: transport messages are decrypted in place.
 * retained: the broker sent a stored message on subscription (ignored on inboxes). */
void fw_tunnel_input(struct fw_tunnel *t, const char *topic, size_t topic_len, uint8_t *payload,
		     size_t len, bool retained, uint64_t now_ms);
/* One IP packet from the device's IP stack. */
void fw_tunnel_output(struct fw_tunnel *t, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Timers: call every NODE_TICK_MS (100 ms). */
void fw_tunnel_tick(struct fw_tunnel *t, uint64_t now_ms);
/* The device's addresses (secure: the certificate's; legacy: the configured one). */
size_t fw_tunnel_addresses(const struct fw_tunnel *t, struct cert_prefix *out, size_t cap);
/* Takes a piece of text (not NUL-terminated; pieces end anywhere, lines span several). */
typedef void (*fw_emit_fn)(void *arg, const char *text, size_t len);
/* Human-readable state for the shell ("status"), handed to emit piece by piece as it is written,
 * so that no buffer holds all of it (8 peers make about 1.5 KB); returns its length. Drop reasons
 * use the names of drop.h, as `mqttip status` does. */
size_t fw_tunnel_status(const struct fw_tunnel *t, fw_emit_fn emit, void *arg, uint64_t now_ms);
struct fw_counters fw_tunnel_counters(const struct fw_tunnel *t);
/* Wipes every key. */
void fw_tunnel_wipe(struct fw_tunnel *t);

#endif

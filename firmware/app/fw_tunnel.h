/* fw_tunnel.h - the tunnel of one device: what the Linux agent does, with fixed-size state and no
 * allocation at all, so that it fits a microcontroller (docs in firmware/README.md "Memory").
 *
 * Secure mode (the default): the node's VPN certificate and X25519 key from the bundle; its
 * certificate is published retained on <p>/cert/<addr> for every own address, and it listens on
 * its inboxes <p>/<addr>/+ (transport) and <p>/kx/<addr>/+ (handshakes). An outbound IP packet for
 * a peer without keys waits in a small queue while the app fetches the peer's certificate from the
 * directory (subscribing to <p>/cert/<dst>) and initiates a handshake; an inbound initiation is
 * answered at once (mac1, rate limit, certificate, timestamp: handshake.h). A transport message
 * is opened in place, its body may carry several packets (batch.h), and every packet must come
 * from an address of the sender's certificate and go to one of ours before it reaches the IP
 * stack. The device sends one packet per message: its traffic is small, and it cannot know when a
 * burst from lwIP ends.
 * Legacy mode (a config switch): martin-ger's MQTT_VPN with a password, topic <p>/<dst>, no
 * handshakes and no peers (legacy.h): the bundle then only gives the broker credentials.
 *
 * Concurrency: none inside. The port calls every function with one lock held (esp-mqtt's task,
 * lwIP's tcpip thread and the timer all enter here). Time: every function takes the port's
 * monotonic millisecond clock, so timers are a pure function of it (fw_tunnel_tick). */
#ifndef MQTTIP_FW_TUNNEL_H
#define MQTTIP_FW_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "fw_bundle.h"
#include "fw_port.h"
#include "handshake.h"
#include "legacy.h"
#include "netaddr.h"
#include "peer.h"
#include "proto.h"
#include "ratelimit.h"
#include "topic.h"

#define FW_MAX_PEERS	  8    /* peers with keys at the same time; the least recently used goes */
#define FW_MTU		  1400 /* the netif's MTU: an IP packet the device sends is at most this */
#define FW_PENDING	  4    /* packets waiting for a handshake, all peers together */
#define FW_WANTED	  4    /* directory lookups in flight */
#define FW_TX_MSG_MAX	  (MQTTIP_TRANSPORT_OVERHEAD + MQTTIP_BATCH_RECORD_HEADER + FW_MTU)
#define FW_LEGACY_MSG_MAX (MQTTIP_LEGACY_OVERHEAD + FW_MTU)
/* The largest MQTT payload the device accepts: a full transport message (other nodes batch up to
 * MQTTIP_MAX_BODY). Ports reassemble into a buffer of this size. */
#define FW_RX_MSG_MAX MQTTIP_MAX_TRANSPORT_MSG

struct fw_config {
	char prefix[TOPIC_PREFIX_MAX + 1]; /* "" = MQTTIP_TOPIC_PREFIX */
	bool legacy;			   /* MQTT_VPN mode instead of the secure tunnel */
	char legacy_password[128];	   /* legacy: the MQTT_VPN -k password */
	struct netaddr legacy_addr;	   /* legacy: the device's address ... */
	uint8_t legacy_prefix_len;	   /* ... and its prefix length */
	bool has_psk;
	uint8_t psk[MQTTIP_KEY_LEN]; /* secure: optional network PSK (Noise psk2) */
};

struct fw_counters {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t handshakes;	 /* completed, either role */
	uint64_t drop_malformed; /* bad topic, header, batch or IP header */
	uint64_t drop_auth;	 /* AEAD, mac1, legacy tag, handshake refused */
	uint64_t drop_replay;	 /* counter, timestamp or legacy nonce seen before */
	uint64_t drop_source;	 /* inner source not the sender's, or destination not ours */
	uint64_t drop_multicast; /* multicast from a peer: the device joins no group */
	uint64_t drop_no_peer;	 /* no keys and no room to wait for them */
	uint64_t drop_rate;	 /* handshake rate limit */
	uint64_t drop_timeout;	 /* waited too long for a handshake */
	uint64_t publish_failed; /* the port refused a message */
};

struct fw_peer_info {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t last_handshake_ms; /* 0: never */
	uint64_t last_used_ms;
};

struct fw_pending {
	bool used;
	struct netaddr dst;
	uint64_t since_ms;
	uint16_t len;
	uint8_t pkt[FW_MTU];
};

struct fw_wanted {
	bool used;
	struct netaddr addr;
	uint64_t since_ms;
};

struct fw_tunnel {
	struct fw_config cfg;
	const struct fw_port *port;
	bool connected;
	uint64_t started_ms;
	/* secure mode: who we are */
	struct cert self;
	uint8_t self_cert[MQTTIP_CERT_MAX_LEN];
	size_t self_cert_len;
	uint8_t static_private[MQTTIP_KEY_LEN];
	uint8_t static_public[MQTTIP_KEY_LEN];
	uint8_t network_id[MQTTIP_NETWORK_ID_LEN];
	uint8_t last_timestamp[MQTTIP_TIMESTAMP_LEN]; /* newest we sent: ours strictly increase */
	struct keypair_params params;
	struct peer peers[FW_MAX_PEERS];
	struct fw_peer_info info[FW_MAX_PEERS];
	struct peer_table table;
	struct ratelimit ratelimit;
	struct handshake responder; /* between consuming an initiation and answering it */
	struct fw_pending pending[FW_PENDING];
	struct fw_wanted wanted[FW_WANTED];
	/* legacy mode */
	uint8_t legacy_key[MQTTIP_KEY_LEN];
	struct legacy_nonce_cache legacy_nonces;
	/* scratch for outgoing messages (the port copies what it publishes) */
	union {
		uint8_t transport[FW_TX_MSG_MAX];
		uint8_t handshake[MQTTIP_INITIATION_MAX_LEN];
		uint8_t legacy[FW_LEGACY_MSG_MAX];
	} out;
	uint8_t legacy_packet[MQTTIP_MAX_IP_PACKET]; /* an opened legacy packet */
	struct fw_counters counters;
};

/* Sets t up from cfg and the bundle (secure mode needs its node certificate, key and network CA;
 * legacy mode ignores them). Returns 0, or -1 after logging why (bad certificate or key). */
int fw_tunnel_init(struct fw_tunnel *t, const struct fw_config *cfg, const struct fw_bundle *b,
		   const struct fw_port *port, uint64_t now_ms);
/* The broker session is up (again): subscribe the inboxes, publish our certificate. */
void fw_tunnel_connected(struct fw_tunnel *t, uint64_t now_ms);
void fw_tunnel_disconnected(struct fw_tunnel *t);
/* One MQTT message. The payload is writable: transport messages are decrypted in place. */
void fw_tunnel_input(struct fw_tunnel *t, const char *topic, size_t topic_len, uint8_t *payload,
		     size_t len, uint64_t now_ms);
/* One IP packet from the device's IP stack. */
void fw_tunnel_output(struct fw_tunnel *t, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* Timers: handshake retries and give-up, key expiry, queue timeouts. Call every 100 ms or so. */
void fw_tunnel_tick(struct fw_tunnel *t, uint64_t now_ms);
/* The device's addresses (secure: the certificate's; legacy: the configured one). */
size_t fw_tunnel_addresses(const struct fw_tunnel *t, struct cert_prefix *out, size_t cap);
/* Human-readable state for the shell ("status"), NUL-terminated; returns its length. */
size_t fw_tunnel_status(const struct fw_tunnel *t, char *buf, size_t cap, uint64_t now_ms);
/* Wipes every key. */
void fw_tunnel_wipe(struct fw_tunnel *t);

#endif

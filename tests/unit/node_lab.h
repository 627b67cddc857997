/* node_lab.h - a lab for the node engine (common/node.h) without a network: nodes wired through
 * an in-memory broker (subscriptions with '+' levels, retained messages, a delay per message) and
 * driven by one fake millisecond clock, so that minutes of protocol time run in milliseconds.
 * Each node has its own wall clock offset (a board whose clock is behind) and can be cut off
 * from the broker. Certificates come from a CA made at lab_init. Allocation-free, so the same lab
 * runs on the host and on rv32 under qemu. */
#ifndef MQTTIP_NODE_LAB_H
#define MQTTIP_NODE_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

#define LAB_NODES	4
#define LAB_PEERS	8
#define LAB_HANDSHAKES	(LAB_PEERS + 1) /* a host's pool: one per peer and the responder */
#define LAB_PACKETS	16
#define LAB_SUBS	12
#define LAB_MSGS	96
#define LAB_DELIVERED	400
#define LAB_WALL_BASE	1790000000ull /* unix seconds at lab time 0 */
#define LAB_BATCH_SLOTS 2
#define LAB_STREAM	65536 /* TCP payload bytes a node's stack received, in order */

struct lab_node {
	bool used, connected;
	struct node n;
	struct peer peers[LAB_PEERS];
	struct peer_handshake handshakes[LAB_HANDSHAKES];
	struct node_packet packets[LAB_PACKETS];
	uint8_t batch_mem[LAB_BATCH_SLOTS * MQTTIP_MAX_TRANSPORT_MSG];
	struct node_wanted wanted[4];
	struct node_route routes[32];
	struct revocation revocation;
	struct node_legacy legacy;
	struct ratelimit_sender senders[RATELIMIT_SENDERS];
	struct node_settings set;
	/* what the node asked its host to keep (ops.persist) */
	uint8_t saved[MQTTIP_REVOCATION_MAX_LEN];
	size_t saved_len;
	/* credentials */
	uint8_t cert[MQTTIP_CERT_MAX_LEN];
	size_t cert_len;
	uint8_t key[MQTTIP_KEY_LEN];
	/* broker side */
	char subs[LAB_SUBS][TOPIC_MAX];
	int64_t wall_offset_ms; /* added to the lab's wall clock for this node */
	bool cut;		/* the broker neither delivers to nor accepts from it */
	uint64_t delay_ms;	/* one way, node <-> broker, per message */
	/* what reached its IP stack: the marker (bytes 28..31) of each packet */
	uint32_t delivered[LAB_DELIVERED];
	unsigned n_delivered;
	unsigned published;	/* messages it published */
	size_t largest_data_in; /* the largest transport message delivered to it */
	bool log;
	/* offloads (node_storage.offload): set before lab_start */
	bool offload;
	struct node_offload offload_mem;
	/* what its stack received, as a kernel would see it: deliveries (one per write), the IP
	 * packets they stand for, super-packets among them, TCP payload in arrival order, and
	 * packets that would fail the kernel's checks (a bad checksum, metadata that does not fit)
	 */
	unsigned deliveries, delivered_packets, delivered_super, bad_deliveries;
	uint8_t stream[LAB_STREAM];
	size_t stream_len;
};

extern struct lab_node lab[LAB_NODES];
extern uint64_t lab_now; /* ms */
/* Retained messages go only to subscriptions of their exact topic, as RabbitMQ does: a '+'
 * filter gets none. */
extern bool lab_retained_exact_only;
/* The broker drops what is published on <p>/revocation (it may withhold the list). */
extern bool lab_withhold_revocation;
/* The host refuses publishes above this many bytes (NODE_PUBLISH_OVERSIZE); 0: no limit. */
extern size_t lab_publish_max;
/* Nodes started while it is set run legacy mode (MQTT_VPN -k) with this password. */
extern const char *lab_legacy_password;
/* Handshake states the next lab_start gives its node (a device's few); 0: LAB_HANDSHAKES. */
extern size_t lab_pool;

/* Fresh CA, empty broker, clock at 1000 ms. */
void lab_init(void);
/* A certificate for name with address addr4 ("10.0.0.1"), serial, key (random when NULL, and
 * returned in key_out when not NULL); valid from the lab's wall time - 1 h for days. */
size_t lab_cert(uint8_t out[MQTTIP_CERT_MAX_LEN], const char *name, const char *addr4,
		uint64_t serial, const uint8_t *key, uint8_t key_out[MQTTIP_KEY_LEN]);
/* A revocation list signed by the lab's CA (serials and keys sorted by the caller). */
size_t lab_revocation(uint8_t out[MQTTIP_REVOCATION_MAX_LEN], uint64_t version,
		      const uint64_t *serials, size_t n_serials,
		      const uint8_t (*keys)[MQTTIP_KEY_LEN], size_t n_keys);
/* Starts node i with the given credentials (from lab_cert) and settings (NULL: host defaults) and
 * connects it. Returns node_init's result. */
int lab_start(int i, const uint8_t *cert, size_t cert_len, const uint8_t key[MQTTIP_KEY_LEN],
	      const struct node_settings *set);
/* The device's policy: on-demand directory, evict, small queue, no broadcast. */
struct node_settings lab_device_settings(void);
/* Messages node i published on topics of this kind so far (its handshake/kx or data traffic). */
unsigned lab_published_kind(int i, enum topic_kind kind);
/* Stops node i (its subscriptions go, its retained entries stay), wiping its state. */
void lab_stop(int i);
/* An IPv4/UDP packet from src to dst carrying marker; returns its length (len bytes). */
size_t lab_packet(uint8_t *buf, const char *src, const char *dst, uint32_t marker, size_t len);
/* Node i sends one packet (node_send + node_flush). */
void lab_send(int i, const char *src, const char *dst, uint32_t marker);
/* An IPv4/TCP packet src:40000 -> dst:5201, sequence number seq, ACK, payload bytes
 * payload_at(seq + k) each, checksum complete, or partial (the pseudo-header sum, as a TUN device
 * with offloads hands it over); returns its length. */
size_t lab_tcp(uint8_t *buf, const char *src, const char *dst, uint32_t seq, size_t payload,
	       bool partial);
uint8_t lab_payload_at(uint32_t seq);
/* Node i sends n packets of len bytes in one wake-up (one node_flush), markers first.. */
void lab_send_burst(int i, const char *src, const char *dst, uint32_t first, unsigned n,
		    size_t len);
/* Runs the lab for ms milliseconds: delivers messages when due, ticks nodes every NODE_TICK_MS. */
void lab_run(uint64_t ms);
/* Publishes a message as if from outside (a hostile broker or a stale retained entry). */
void lab_inject(const char *topic, const uint8_t *payload, size_t len, bool retain);
bool lab_has_delivered(int i, uint32_t marker);
struct peer *lab_peer(int i, const char *name);
/* Total of drop counter why at node i. */
uint64_t lab_drops(int i, enum drop_reason why);
uint64_t lab_handshakes(int i);

#endif

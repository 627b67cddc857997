/* node.h - the node engine: everything a node does on the broker beyond the message formats
 * (docs/PROTOCOL.md section 8), written once and hosted by the Linux agent (TUN, libuv,
 * libmosquitto) and the device firmware (lwIP, esp-mqtt), as wireguard-go's device/ is hosted by
 * every platform. The engine is a state machine driven by events and a clock:
 *
 *   node_connected / node_disconnected   the MQTT session came up (subscribe, publish ours) / went
 *   node_input     one MQTT message (transport, handshake, directory, legacy), payload writable:
 *                  transport messages are opened in place
 *   node_send      one IP packet from the local stack; node_flush at the end of a wake-up seals
 *                  and publishes the batches it filled (PROTOCOL.md 8.5: never held across
 *                  wake-ups, so batching adds no latency). A host with offloads (a TUN device
 *                  with virtio_net_hdr) reads straight into the batch a packet goes to
 *                  (node_send_area, node_send_area_done) and hands over super-packets with their
 *                  segmentation metadata (gso.h), carried whole to peers that accept them
 *   node_tick      timers (node_timers.c); call every NODE_TICK_MS or more often
 *
 * and its I/O goes through the small table of callbacks in struct node_ops. Every entry point takes
 * the host's monotonic clock in milliseconds; the wall clock (certificate validity, handshake
 * timestamps) comes from node_ops.wall_clock, which a device without SNTP may answer with false.
 * Nothing allocates: the caller provides all storage (struct node_storage) sized for its platform,
 * and the differences between a Linux host and a device are settings (struct node_settings), not
 * code. Concurrency: none inside; the host serialises every call (one loop thread, or one lock).
 *
 * Files, named for the data path as WireGuard's are: node.c (life cycle, dispatch, accounting),
 * node_send.c (routing, queues, batches), node_receive.c (transport messages in, delivery checks),
 * node_handshake.c (initiations and responses), node_timers.c (every timer rule, once),
 * node_directory.c (certificates: acceptance, the serial rule, peers in and out), node_legacy.c
 * (MQTT_VPN mode). Peers live in a peer table (peer.h) whose entries carry the engine's per-peer
 * state and counters; hosts read them for status (read only). */
#ifndef MQTTIP_NODE_H
#define MQTTIP_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "cert.h"
#include "drop.h"
#include "gso.h"
#include "handshake.h"
#include "keypair.h"
#include "legacy.h"
#include "netaddr.h"
#include "peer.h"
#include "proto.h"
#include "ratelimit.h"
#include "revocation.h"
#include "topic.h"

#define NODE_NONE	      UINT32_MAX /* no slot, no index */
#define NODE_TICK_MS	      100	 /* node_tick granularity the timer rules are written for */
#define NODE_BATCH_SLOTS_MAX  8		 /* peers with an open batch in one wake-up */
#define NODE_OWN_MAX	      (MQTTIP_CERT_MAX_ADDRS + 2)
#define NODE_PUBLISH_OVERSIZE (-2) /* node_ops.publish: the message is too large to send */
#define NODE_MAX_MESSAGE_MIN  1024 /* the lowest max_message setting, bytes */
#define NODE_LEGACY_GROUPS    16   /* IPv4 multicast groups whose legacy topics are followed */
enum node_log_level { NODE_LOG_DEBUG, NODE_LOG_INFO, NODE_LOG_WARN, NODE_LOG_ERROR };

/* The host's side. None of these may call back into the engine. */
struct node_ops {
	void *ctx; /* passed back to every function */
	/* Queues one MQTT message; 0, -1 when the client refused it (not connected: counted
	 * broker_down) or NODE_PUBLISH_OVERSIZE when it is above what the broker takes (counted
	 * oversize; the host should have said so with node_set_broker_limit). */
	int (*publish)(void *ctx, const char *topic, const uint8_t *payload, size_t len, int qos,
		       bool retain);
	int (*subscribe)(void *ctx, const char *filter, int qos);
	int (*unsubscribe)(void *ctx, const char *filter);
	/* Hands an authenticated, checked IP packet to the local IP stack (TUN, lwIP); pkt is
	 * reused after the call. 0, or -1 when the stack refused it (counted deliver). */
	int (*deliver)(void *ctx, const uint8_t *pkt, size_t len);
	/* Unix time; false while the clock is not set (certificates then cannot be checked and
	 * handshakes wait). */
	bool (*wall_clock)(void *ctx, uint64_t *unix_seconds, uint32_t *nanoseconds);
	/* One line of log without a newline; may be NULL. */
	void (*log)(void *ctx, enum node_log_level level, const char *line);
	/* Stores the newest VPN revocation list (len bytes, PROTOCOL.md 4.8) where it survives a
	 * restart (a state file, NVS), before the node acts on it; the host hands it back with
	 * node_revocation_offer() at start, so a broker cannot roll the node back. 0 or -1 (logged;
	 * the node enforces the list anyway). May be NULL (nothing kept). */
	int (*persist)(void *ctx, const uint8_t *list, size_t len);
};

enum node_directory_mode {
	/* Subscribe <p>/cert/+ once: every certificate is known before its first packet (hosts). */
	NODE_DIRECTORY_ALL,
	/* Subscribe <p>/cert/<addr> only while a packet for addr waits (devices, small tables). */
	NODE_DIRECTORY_ON_DEMAND,
};

/* Policy: what differs between a Linux host and a device. node_settings_default() gives the
 * host's values (docs/AGENT.md); the device's are in firmware/app/fw_tunnel.c. */
struct node_settings {
	char prefix[TOPIC_PREFIX_MAX + 1]; /* topic prefix; "" means MQTTIP_TOPIC_PREFIX */
	struct keypair_params params;	   /* rekey and reject times and counts */
	uint32_t queue_per_peer;	   /* packets that may wait for one peer's handshake */
	uint32_t broadcast_peers;	   /* peers a broadcast is copied to; 0: none (counted) */
	bool accept_multicast;		   /* inbound broadcast/multicast delivered, else counted */
	bool evict_lru;			   /* peer table full: evict the least recently used peer
					    * (devices) instead of refusing the new one (hosts) */
	enum node_directory_mode directory;
	size_t max_message; /* largest transport message published, bytes (NODE_MAX_MESSAGE_MIN ..
			     * MQTTIP_MAX_TRANSPORT_MSG); lowered by node_set_broker_limit() and
			     * by each peer's own limit (its handshake capabilities): a packet
			     * that alone does not fit is dropped (oversize) */
	size_t max_receive; /* largest transport message the node accepts (announced), bytes */
	int subscribe_qos;  /* highest QoS the node subscribes with (1; 0 where a broker makes
			     * QoS 1 subscriptions durable queues, RabbitMQ 3.x: docs/SCALING.md) */
	bool debug;	    /* format and log debug lines (per packet: costly) */
};

/* Who the node is. Secure mode needs cert, static_private and network_id; a legacy-only node
 * (MQTT_VPN mode without VPN credentials) leaves cert NULL and names its address in extra_own. */
struct node_credentials {
	const uint8_t *cert; /* encoded node certificate, signed by the network CA */
	size_t cert_len;
	const uint8_t *static_private; /* X25519, MQTTIP_KEY_LEN; must match the certificate */
	const uint8_t *network_id;     /* the network CA's Ed25519 public key */
	const uint8_t *psk;	       /* Noise psk2, MQTTIP_KEY_LEN; NULL: none */
	const char *legacy_password;   /* MQTT_VPN -k password; NULL: legacy mode off */
	size_t legacy_password_len;
	const struct netaddr *extra_own; /* addresses beyond the certificate's (interface -a) */
	size_t n_extra_own;
};

/* A packet waiting for a handshake (queued on its peer) or for a certificate (unrouted). */
struct node_packet {
	uint32_t next;
	uint32_t seq;	   /* arrival order: the oldest gives way when the pool runs out */
	uint64_t since_ms; /* when it was queued */
	struct netaddr dst;
	uint16_t len;
	uint8_t data[MQTTIP_MAX_IP_PACKET];
};

/* A directory lookup in flight: a packet waits for addr's certificate. */
struct node_wanted {
	bool used;
	struct netaddr addr;
	uint64_t since_ms; /* when the lookup started */
	uint64_t asked_ms; /* last certificate request sent to addr (0: none yet) */
};

/* One entry of the optional route cache in front of the peer table scan. */
struct node_route {
	struct netaddr addr;
	uint32_t peer;
	uint32_t generation;
};

/* Legacy (MQTT_VPN) state: only nodes with legacy mode need it. */
struct node_legacy {
	uint8_t key[MQTTIP_KEY_LEN];
	struct legacy_nonce_cache nonces;
	uint8_t buf[MQTTIP_MAX_IP_PACKET + MQTTIP_LEGACY_OVERHEAD];
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	struct netaddr groups[NODE_LEGACY_GROUPS]; /* joined IPv4 groups (node_legacy_set_groups) */
	size_t n_groups;
};

/* What offloads need, from a host whose local stack takes super-packets (a TUN device with
 * virtio_net_hdr). With it the node announces MQTTIP_FEATURE_OFFLOAD. */
struct node_offload {
	/* Hands a checked packet with its offload metadata to the local stack in one piece: the
	 * chunks, in order, are the packet (a super-packet, a packet with a partial checksum, or
	 * segments coalesced under the first one's rewritten headers); g->type MQTTIP_GSO_NONE
	 * without flags is a plain packet. ctx is node_ops.ctx. 0 or -1 (counted deliver). */
	int (*deliver)(void *ctx, const struct gso_info *g, const struct gso_chunk *chunks,
		       size_t n);
	uint8_t segment[MQTTIP_MAX_IP_PACKET]; /* one packet cut from a super-packet */
	struct gso_merge merge;		       /* TCP segments being coalesced on the way in */
};

/* Offload and zero-copy counters of the node (records or packets, not bytes). */
struct node_offload_stats {
	uint64_t tx_super;     /* super-packets sent whole in an offload record */
	uint64_t tx_split;     /* super-packets too large for the message, sent in several */
	uint64_t tx_segmented; /* super-packets cut into plain packets (peer without offloads,
				* legacy, queue, broadcast) */
	uint64_t tx_csum;      /* partial checksums completed for a peer without offloads */
	uint64_t rx_super;     /* super-packets received and delivered whole */
	uint64_t rx_merged;    /* super-packets delivered coalesced from plain segments */
	/* reads into node_send_area (with or without offloads): sent from where they were read,
	 * or moved once (a batch with room, another peer, a queue, cutting) */
	uint64_t read_in_place, read_moved;
};

/* What the host provides. Arrays are owned by the host and must outlive the node. */
struct node_storage {
	struct peer *peers; /* the peer table, 1..PEER_TABLE_MAX entries */
	size_t n_peers;
	/* handshake states shared by the peers and the responder (peer.h), at least 1 with a peer
	 * table: n_peers + 1 never takes one away, a device keeps a few */
	struct peer_handshake *handshakes;
	size_t n_handshakes;
	struct node_packet *packets; /* the queue pool, shared by all peers; may be 0 entries */
	size_t n_packets;
	/* n_batches slots of batch_size bytes: each one transport message; the last one is also
	 * where handshake and directory messages are built, after the open batches went out */
	uint8_t *batch_mem;
	size_t batch_size;	    /* bytes, MQTTIP_MIN_MESSAGE .. MQTTIP_MAX_TRANSPORT_MSG */
	size_t n_batches;	    /* 1..NODE_BATCH_SLOTS_MAX */
	struct node_wanted *wanted; /* lookups in flight (at least 1 in secure mode) */
	size_t n_wanted;
	struct revocation *revocation; /* secure mode: the VPN revocation list held */
	/* secure mode: the handshake rate limiter's table of senders (ratelimit.h), at least 1 */
	struct ratelimit_sender *ratelimit_senders;
	size_t n_ratelimit_senders;
	struct node_route *routes; /* optional route cache (NULL, 0: none) */
	size_t n_routes;
	struct node_legacy *legacy;   /* required when the credentials enable legacy mode */
	struct node_offload *offload; /* NULL: no offloads (a device) */
};

struct node_batch {
	uint32_t peer;	  /* table slot, NODE_NONE when free */
	size_t used;	  /* body bytes */
	uint32_t packets; /* records in the body, and their bytes */
	size_t bytes;
	uint8_t *buf;  /* batch_size bytes: header, body, tag */
	bool reserved; /* holds the packet being sent (node_send_area_done): not taken, not sent */
};

/* Who the node is (from struct node_credentials, checked). */
struct node_identity {
	bool secure; /* false: legacy-only */
	struct cert cert;
	uint8_t cert_bytes[MQTTIP_CERT_MAX_LEN];
	size_t cert_len;
	uint8_t static_private[MQTTIP_KEY_LEN];
	uint8_t static_public[MQTTIP_KEY_LEN];
	uint8_t network_id[MQTTIP_NETWORK_ID_LEN];
	bool has_psk;
	uint8_t psk[MQTTIP_KEY_LEN];
	struct netaddr own[NODE_OWN_MAX]; /* certificate addresses, then extra ones */
	size_t n_own;
};

struct node {
	struct node_settings set;
	struct node_ops ops;
	struct node_identity id;
	struct handshake_local local; /* points into id */
	struct node_legacy *legacy;   /* NULL: legacy mode off */
	/* broker */
	bool connected;
	size_t broker_limit; /* node_set_broker_limit(); 0: none known */
	size_t max_message;  /* effective: settings, broker limit and batch slot size */
	/* peers and their routes */
	struct peer_table peers;
	uint32_t generation; /* bumped when a certificate enters, changes or leaves */
	struct node_route *routes;
	size_t n_routes;
	/* packets waiting */
	struct node_packet *packets;
	size_t n_packets;
	uint32_t free_packets, packet_seq;
	struct packet_queue unrouted; /* waiting for a certificate (NODE_DIRECTORY_ON_DEMAND) */
	struct node_wanted *wanted;
	size_t n_wanted;
	/* outbound batches of the current wake-up (a free one doubles as node_kx_scratch) */
	struct node_batch batches[NODE_BATCH_SLOTS_MAX];
	size_t n_batches, batch_size;
	uint32_t batch_evict;
	/* the host's next read (node_send_area): into a batch's tail or a free slot */
	uint8_t *area;
	size_t area_cap;
	uint32_t area_slot, area_peer; /* the slot it lies in; the peer it was meant for */
	bool area_tail;		       /* after area_peer's records */
	uint32_t hint_peer;	       /* the peer the last packet went to, and its length */
	size_t hint_len;
	struct node_offload *offload; /* NULL: no offloads */
	struct node_offload_stats offload_stats;
	/* handshakes (their states are in the peer table's pool) */
	struct ratelimit ratelimit;
	uint8_t last_tai64n[MQTTIP_TIMESTAMP_LEN]; /* newest we sent: ours strictly increase */
	uint8_t caps[MQTTIP_HANDSHAKE_EXT_MAX];	   /* ours, as sent in handshakes */
	size_t caps_len;
	/* the revocation list's retained topic (node_revocation.c) */
	struct revocation *revocation;
	uint64_t revocation_topic_version; /* newest version seen on <p>/revocation */
	uint64_t revocation_publish_ms;	   /* publish ours there then, unless a newer came */
	bool clock_unset_said;		   /* "clock not set" logged, not repeated */
	/* accounting */
	uint64_t drops[DROP_MAX]; /* not attributable to a peer */
	uint64_t started_ms;
};

struct node_settings node_settings_default(void);

/* Sets n up. cred is copied (the host may wipe its copy). Secure mode: the certificate must
 * decode, be signed by network_id and carry static_private's public key (its validity window is
 * checked at use, since a device may not know the time yet). Returns 0, or -1 after logging why
 * (bad credentials, storage out of range). */
int node_init(struct node *n, const struct node_settings *set, const struct node_credentials *cred,
	      const struct node_storage *st, const struct node_ops *ops, uint64_t now_ms);
/* SIGHUP: new credentials and settings for a running node. The node's addresses and mode must not
 * change (-1, logged, nothing changed); a new static key resets every session; a new certificate
 * is published when connected. Storage sizes stay. Returns 0 or -1. */
int node_reload(struct node *n, const struct node_settings *set,
		const struct node_credentials *cred, uint64_t now_ms);
/* The broker session is up (again): subscriptions (PROTOCOL.md 8.1) and our directory entries. */
void node_connected(struct node *n, uint64_t now_ms);
void node_disconnected(struct node *n);
/* The largest PUBLISH payload the broker or client takes (MQTT v5 Maximum Packet Size less the
 * PUBLISH overhead, or what a size probe found), bytes; 0: no limit known. Batches never exceed
 * it; a packet that alone exceeds it is dropped (oversize). Cheap: hosts may call it at every
 * tick. */
void node_set_broker_limit(struct node *n, size_t max_payload);
/* One MQTT message on one of our subscriptions. Retained messages count only on the directory. */
void node_input(struct node *n, const char *topic, size_t topic_len, uint8_t *payload, size_t len,
		bool retained, uint64_t now_ms);
/* One IP packet from the local stack (len bytes, trailing bytes past its total length ignored). */
void node_send(struct node *n, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* The same with offload metadata (g: type, flags and size as the host's stack gave them; NULL: a
 * plain packet): a super-packet goes whole to a peer that accepts offload records, cut into
 * smaller ones when the message cannot hold it, into plain packets otherwise; a partial checksum
 * is completed for a peer without offloads. pkt is len bytes, exactly the IP packet. */
void node_send_gso(struct node *n, const uint8_t *pkt, size_t len, const struct gso_info *g,
		   uint64_t now_ms);
/* Zero-copy reads: where the host should read its next packet, *cap bytes at the returned
 * pointer, inside the batch it will most likely join (the tail of the batch the last packet
 * joined, or a free slot). NULL: no place now (read elsewhere, then node_send_gso). The area is
 * valid until the next call into the engine. A packet longer than *cap does not fit: the host
 * reads the rest elsewhere and hands the whole over with node_send_gso. */
uint8_t *node_send_area(struct node *n, size_t *cap);
/* The packet (len bytes, at most the area's capacity) was read into the area node_send_area
 * returned; g as for node_send_gso. */
void node_send_area_done(struct node *n, size_t len, const struct gso_info *g, uint64_t now_ms);
/* End of a wake-up: seals and publishes every open batch. */
void node_flush(struct node *n, uint64_t now_ms);
/* Timers: expiry, handshake retries and give-up, keepalives, lookups. */
void node_tick(struct node *n, uint64_t now_ms);
/* A VPN revocation list from the host (its persisted state, its bundle): verified against the
 * network CA and adopted when newer than the one held (PROTOCOL.md 4.8, 8.11), which removes
 * every peer it revokes. Returns REVOCATION_NEWER, REVOCATION_SAME or a revocation_error. */
int node_revocation_offer(struct node *n, const uint8_t *list, size_t len, uint64_t now_ms);

/* Legacy mode: the IPv4 multicast groups the local interface has joined (IGMP), whose topics
 * <p>/<group> MQTT_VPN nodes publish on (PROTOCOL.md 9). The node follows the set: subscribes
 * the new groups, unsubscribes the left ones. At most NODE_LEGACY_GROUPS are kept; non-IPv4 or
 * non-multicast entries are ignored. No effect without legacy mode, or when the settings refuse
 * multicast (accept_multicast false: then not even the broadcast topic is followed). */
void node_legacy_set_groups(struct node *n, const struct netaddr *groups, size_t count);

/* Status helpers (read only). */
bool node_peer_has_session(struct node *n, struct peer *p, uint64_t now_ms);
/* The peer claiming a most specifically (PROTOCOL.md 8.9), through the route cache. */
struct peer *node_route(struct node *n, const struct netaddr *a);
bool node_is_own(const struct node *n, const struct netaddr *a);
/* Sum of a drop counter over the node and all its peers. */
uint64_t node_drops_total(const struct node *n, enum drop_reason why);
/* Wipes every key and the whole struct. */
void node_wipe(struct node *n);

#endif

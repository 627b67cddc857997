/* daemon.h - the state of a running `mqttip up`, shared by the modules that make up the daemon:
 * tunnel.c (packet path), kx.c (handshakes and timers), directory.c (peers' certificates),
 * legacy_link.c (MQTT_VPN mode), status.c (the status socket) and up.c (start, signals, stop).
 * Everything is allocated once at start; the packet path only uses the preallocated buffers,
 * the peer table (common/peer.h) and its parallel array of per-peer agent data below. */
#ifndef MQTTIP_DAEMON_H
#define MQTTIP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "broker.h"
#include "config.h"
#include "identity.h"
#include "keypair.h"
#include "legacy.h"
#include "peer.h"
#include "ratelimit.h"
#include "topic.h"

/* Why a packet or message was dropped; counted per peer when the peer is known, else globally. */
enum drop_reason {
	DROP_BAD_PACKET,	/* an IP packet whose header does not parse (TUN or decrypted) */
	DROP_NO_PEER,		/* no certificate in the directory owns the destination */
	DROP_QUEUE_FULL,	/* waiting for a handshake, the peer's queue was full */
	DROP_HANDSHAKE_TIMEOUT, /* queued packets when the handshake gave up */
	DROP_BROKER_DOWN,	/* publish impossible: not connected */
	DROP_MALFORMED,		/* transport or handshake message of bad size or type */
	DROP_UNKNOWN_INDEX,	/* no keypair for the receiver index */
	DROP_AUTH,		/* AEAD tag did not verify */
	DROP_REPLAY,		/* counter already seen or too old */
	DROP_EXPIRED,		/* keypair past reject-after */
	DROP_TOPIC,		/* message's topic source is not the keypair's peer */
	DROP_SOURCE,		/* inner source not in the sender's certificate */
	DROP_DESTINATION,	/* inner destination is not ours */
	DROP_BODY,		/* malformed batch body */
	DROP_TUN_WRITE,		/* the kernel refused the packet */
	DROP_HANDSHAKE,		/* handshake message refused (decrypt, certificate, index, ...) */
	DROP_HANDSHAKE_MAC1,	/* handshake message without our mac1: junk, no DH */
	DROP_HANDSHAKE_REPLAY,	/* initiation whose timestamp is not newer than the last one */
	DROP_RATELIMIT,		/* initiation or response over the per-sender or global rate */
	DROP_CERT,		/* directory certificate refused */
	DROP_LEGACY_AUTH,	/* legacy message that does not open */
	DROP_LEGACY_REPLAY,	/* legacy nonce seen before */
	DROP_FOREIGN_SOURCE,	/* outbound packet whose source is not ours (peers would drop it) */
	DROP_OVERSIZE,		/* message above the broker's size limit (broker_max_payload) */
	DROP_RETAINED,		/* retained message on an inbox (only the directory is retained) */
	DROP_MAX
};

extern const char *const drop_names[DROP_MAX];

#define NO_SLOT UINT32_MAX

/* Agent data of one peer, at the same index as its struct peer in the table. */
struct peer_extra {
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets, rx_msgs, tx_msgs;
	uint64_t drops[DROP_MAX];
	uint64_t handshake_done_ms;   /* last completed handshake (either role); 0 never */
	uint64_t last_rx_ms;	      /* last authenticated message from it */
	uint64_t first_unanswered_ms; /* first message sent since the last one received; 0 none */
	uint64_t keepalive_due_ms;    /* send a keepalive then unless we sent something; 0 none */
	uint32_t queue_head, queue_tail; /* packet pool indices, NO_SLOT when empty */
	uint32_t queued;
	uint32_t batch; /* open batch slot for this wake-up, NO_SLOT none */
	uint32_t cert_generation;
	char data_topic[TOPIC_MAX]; /* <p>/<peer>/<self> */
	char kx_topic[TOPIC_MAX];   /* <p>/kx/<peer>/<self> */
};

/* Packets waiting for a handshake: a pool shared by all peers, each peer bounded. */
struct queued_packet {
	uint32_t next;
	uint16_t len;
	uint8_t data[MQTTIP_MAX_IP_PACKET];
};

#define BATCH_SLOTS	   8
#define TUN_READS_PER_WAKE 128
#define ROUTE_CACHE_SIZE   256
#define LEGACY_GROUPS_MAX  16

struct batch_slot {
	uint32_t peer; /* table index, NO_SLOT when free */
	size_t used;   /* body bytes */
	uint8_t buf[MQTTIP_MAX_TRANSPORT_MSG];
};

struct route_cache_entry {
	struct netaddr addr;
	uint32_t peer;
	uint32_t generation;
};

struct daemon {
	uv_loop_t *loop;
	struct config cfg;
	struct identity id;
	bool secure, legacy;
	struct netaddr self; /* our address in topics (the certificate's first, or -a) */
	struct netaddr own[MQTTIP_CERT_MAX_ADDRS + 2];
	size_t n_own;
	struct handshake_local local;
	struct keypair_params params;

	int tun_fd;
	uv_poll_t tun_poll;
	bool tun_reading;
	struct broker broker;
	uv_timer_t tick;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_pipe_t status_server;
	bool status_open;
	bool stopping;
	int exit_status;

	struct peer_table peers;
	struct peer *peer_storage;
	struct peer_extra *extra;
	uint32_t generation; /* bumped whenever a certificate enters, changes or leaves */
	struct route_cache_entry route_cache[ROUTE_CACHE_SIZE];

	struct queued_packet *pool;
	uint32_t pool_free;
	uint32_t pool_size;

	struct batch_slot *batches; /* BATCH_SLOTS */
	uint32_t batch_next_evict;
	uint8_t pkt[MQTTIP_MAX_IP_PACKET + 64];
	uint8_t rx[MQTTIP_MAX_TRANSPORT_MSG];
	uint8_t kx_buf[MQTTIP_INITIATION_MAX_LEN];
	struct handshake responder; /* scratch for answering initiations */
	struct ratelimit ratelimit;
	uint8_t last_tai64n[MQTTIP_TIMESTAMP_LEN];

	uint8_t legacy_key[MQTTIP_KEY_LEN];
	struct legacy_nonce_cache legacy_nonces;
	uint8_t legacy_buf[MQTTIP_MAX_IP_PACKET + MQTTIP_LEGACY_OVERHEAD];
	uint64_t legacy_rx_packets, legacy_tx_packets, legacy_rx_bytes, legacy_tx_bytes;
	struct netaddr legacy_groups[LEGACY_GROUPS_MAX]; /* multicast topics subscribed */
	size_t n_legacy_groups;
	unsigned legacy_ticks;

	uint64_t drops[DROP_MAX]; /* not attributable to a peer */
	uint64_t start_ms;
};

static inline uint32_t peer_index(const struct daemon *d, const struct peer *p)
{
	return (uint32_t)(p - d->peers.peers);
}

static inline struct peer_extra *peer_extra_of(struct daemon *d, const struct peer *p)
{
	return &d->extra[peer_index(d, p)];
}

uint64_t daemon_now_ms(const struct daemon *d);
/* Stops the daemon after an unrecoverable runtime error: `mqttip up` then exits with status 1. */
void daemon_fatal(struct daemon *d);
uint64_t daemon_unix_now(void);
void daemon_drop(struct daemon *d, struct peer *p, enum drop_reason why);
bool daemon_is_own(const struct daemon *d, const struct netaddr *a);

/* tunnel.c */
void tunnel_on_readable(struct daemon *d);
void tunnel_on_data(struct daemon *d, const struct topic *t, const uint8_t *payload, size_t len);
/* Sends what waits in p's queue (after a handshake); a keepalive if nothing waited and
 * keepalive_if_empty. */
void tunnel_flush_queue(struct daemon *d, struct peer *p, bool keepalive_if_empty);
void tunnel_send_keepalive(struct daemon *d, struct peer *p);
void tunnel_drop_queue(struct daemon *d, struct peer *p, enum drop_reason why);
int tunnel_write(struct daemon *d, const uint8_t *pkt, size_t len);
void tunnel_start_reading(struct daemon *d);
void tunnel_stop_reading(struct daemon *d);
void tunnel_invalidate_routes(struct daemon *d);

/* kx.c */
void kx_initiate(struct daemon *d, struct peer *p, bool force);
void kx_on_message(struct daemon *d, const struct topic *t, const uint8_t *payload, size_t len);
void kx_tick(struct daemon *d);

/* directory.c */
void directory_on_cert(struct daemon *d, const struct topic *t, const uint8_t *payload, size_t len);
void directory_publish_own(struct daemon *d);
void peer_extra_init(struct daemon *d, struct peer *p);
/* Rebuilds the peer's topics after its topic address (p->addr) changed. */
void peer_extra_topics(struct daemon *d, struct peer *p);

/* legacy_link.c */
void legacy_link_init(struct daemon *d);
/* Subscribes the broadcast topic and the multicast groups the interface has joined. */
void legacy_link_on_connect(struct daemon *d);
/* Every tick: follows the interface's IPv4 multicast memberships (/proc/net/igmp). */
void legacy_link_tick(struct daemon *d);
void legacy_link_send(struct daemon *d, const uint8_t *pkt, size_t len, const struct netaddr *dst);
void legacy_link_on_message(struct daemon *d, const struct topic *t, const uint8_t *payload,
			    size_t len);

/* status.c */
int status_server_start(struct daemon *d, char *err, size_t cap);
void status_server_stop(struct daemon *d);

#endif

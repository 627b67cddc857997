/* daemon.h - the state of a running `mqttip up`: the host of the node engine (common/node.h) on
 * Linux. up.c wires the libuv loop (TUN readiness, the broker connection, the tick, signals) to
 * the engine; tunnel.c moves packets between the TUN descriptor and the engine; status.c answers
 * `mqttip status` from the engine's peers and counters. Everything is allocated once at start;
 * the packet path uses only the engine's preallocated storage. */
#ifndef MQTTIP_DAEMON_H
#define MQTTIP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "broker.h"
#include "config.h"
#include "identity.h"
#include "node.h"

#define TUN_READS_PER_WAKE 128	 /* packets read in one wake-up before yielding to the loop */
#define TUN_READ_MAX	   65536 /* the largest super-packet a TUN read may return */
#define ROUTE_CACHE_SIZE   256
#define BATCH_SLOTS	   8
#define LOOKUPS		   64	/* directory lookups in flight */
#define IGMP_POLL_MS	   2000 /* the interface's multicast groups are read this often */

struct daemon {
	uv_loop_t *loop;
	struct config cfg;
	struct identity id;

	int tun_fd;
	bool tun_offload; /* virtio-net header and offloads (tun.h) */
	unsigned gso_max; /* gso_max_size last asked of the TUN device, bytes; 0: not yet */
	uv_poll_t tun_poll;
	bool tun_reading;
	struct broker broker;
	uv_timer_t tick;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_pipe_t status_server;
	bool status_open;
	bool stopping;
	int exit_status;

	struct node node;
	/* the engine's storage, allocated once at start */
	struct peer *peers;
	struct peer_handshake *handshakes;
	struct node_packet *packets;
	uint8_t *batch_mem;
	struct node_route *routes;
	struct node_legacy *legacy;
	struct node_wanted *wanted;
	struct revocation *revocation;
	struct ratelimit_sender *senders;

	uint64_t igmp_polled_ms;     /* last read of the interface's groups */
	struct node_offload offload; /* used when tun_offload */

	/* A TUN read goes into the engine's batch (node_send_area); what does not fit there goes
	 * on here, after room to make the packet whole in front of it. */
	uint8_t spill[MQTTIP_MAX_BODY + TUN_READ_MAX];
	uint64_t start_ms;
};

/* tunnel.c */
/* Reads up to TUN_READS_PER_WAKE packets into the engine and flushes its batches. Returns 0, or
 * -1 when the TUN device failed (logged): the daemon must stop. */
int tunnel_read(struct daemon *d);
/* Writes one packet to the TUN device; 0 or -1. */
int tunnel_write(struct daemon *d, const uint8_t *pkt, size_t len);
/* node_offload.deliver: one packet with its offload metadata, in chunks, in one write. */
int tunnel_write_gso(void *ctx, const struct gso_info *g, const struct gso_chunk *chunks, size_t n);

/* status.c */
int status_server_start(struct daemon *d, char *err, size_t cap);
void status_server_stop(struct daemon *d);

#endif

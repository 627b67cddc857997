/* node_internal.h - what the node engine's files (node*.c) share among themselves; hosts use
 * node.h only. Each function lives in the file its prefix names. */
#ifndef MQTTIP_NODE_INTERNAL_H
#define MQTTIP_NODE_INTERNAL_H

#include "node.h"

#if defined(__GNUC__)
#define NODE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define NODE_PRINTF(f, a)
#endif

/* node.c */
void node_log(struct node *n, enum node_log_level level, const char *fmt, ...) NODE_PRINTF(3, 4);
#define node_debug_on(n) ((n)->set.debug)
void node_drop(struct node *n, struct peer *p, enum drop_reason why);
void node_drop_n(struct node *n, struct peer *p, enum drop_reason why, uint64_t count);
/* Subscribes through the host at qos, at most the settings' subscribe_qos. */
int node_subscribe(struct node *n, const char *filter, int qos);
/* The drop reason of a failed node_publish: oversize or broker_down. */
enum drop_reason node_publish_drop(int rc);
/* Publishes through the host: 0, -1 when not connected or refused, NODE_PUBLISH_OVERSIZE. */
int node_publish(struct node *n, const char *topic, const uint8_t *msg, size_t len, int qos,
		 bool retain);
const char *node_prefix(const struct node *n);
bool node_wall_clock(struct node *n, uint64_t *sec, uint32_t *ns);
const char *node_addr_text(const struct netaddr *a, char buf[NETADDR_STR_MAX]);
static inline uint32_t node_slot(const struct node *n, const struct peer *p)
{
	return (uint32_t)(p - n->peers.peers);
}
/* The pair's topic addresses (PROTOCOL.md 8.1): the peer's first certificate address of a family
 * we have, and our first certificate address of that family. false: no family in common. */
bool node_pair_addresses(const struct node *n, const struct cert *peer, struct netaddr *peer_addr,
			 struct netaddr *self_addr);
/* The peer whose certificate owns a exactly (one of its node addresses), or NULL. */
struct peer *node_owner(struct node *n, const struct netaddr *a);
void node_routes_changed(struct node *n);

/* node_directory.c */
/* A verified certificate met in the directory or a handshake: applies the serial rule and the
 * newest-holder rule (PROTOCOL.md 8.2) and returns its peer (added, updated or unchanged), or
 * NULL after counting why it was refused. */
struct peer *node_directory_accept(struct node *n, const struct cert *c, uint64_t now_ms);
void node_directory_input(struct node *n, const struct topic *t, const uint8_t *payload, size_t len,
			  uint64_t now_ms);
void node_directory_connected(struct node *n);
/* NODE_DIRECTORY_ON_DEMAND: look addr up (subscribe its directory topic) unless in flight. */
void node_directory_want(struct node *n, const struct netaddr *addr, uint64_t now_ms);
void node_directory_tick(struct node *n, uint64_t now_ms);
/* Removes p (keys wiped). requeue: its waiting packets go to whoever owns their destinations
 * next (key rotation); else they are dropped (no_peer). */
void node_directory_remove(struct node *n, struct peer *p, bool requeue);

/* A certificate request (type 3) or answer (type 5) on our key-exchange inbox. */
void node_directory_kx_input(struct node *n, const struct topic *t, const uint8_t *msg, size_t len,
			     uint64_t now_ms);

/* node_revocation.c */
/* True when the held revocation list revokes c (counted and logged by the caller). */
bool node_revoked(const struct node *n, const struct cert *c);
/* A list from the network (the retained topic, or a peer's type-6 message); from: the peer it
 * came from (for the counters), or NULL. */
void node_revocation_input(struct node *n, const uint8_t *list, size_t len, struct peer *from,
			   bool from_topic, uint64_t now_ms);
void node_revocation_connected(struct node *n, uint64_t now_ms);
void node_revocation_tick(struct node *n, uint64_t now_ms);
/* After a handshake: hands our list to p when p announced an older one. */
void node_revocation_handshake(struct node *n, struct peer *p, uint64_t now_ms);
/* Our capabilities (caps.h) as the handshakes carry them, re-encoded after a change. */
void node_caps_update(struct node *n);

/* node_handshake.c */
/* Our topic address towards a peer address: our first certificate address of its family. */
bool node_self_for(const struct node *n, const struct netaddr *peer, struct netaddr *self);
/* A message of the key-exchange family: type | version | 0 0 | body, of at least len bytes. */
bool node_kx_header_ok(const uint8_t *msg, size_t len, uint8_t type);
/* Where handshake and directory messages (PROTOCOL.md 6.16) are built: a batch slot (n->batch_size
 * bytes) taken as a batch takes one (a free slot, else the next in turn sent first), never a
 * reserved one, so a node needs no buffer of its own for them and the packet being sent survives.
 * Valid until the next batch is filled: build, publish, done. (A revocation message goes out from
 * struct revocation's own header room.) (node_send.c) */
uint8_t *node_kx_scratch(struct node *n, uint64_t now_ms);
/* Publishes type | version | 0 0 | body on <p>/kx/<dst>/<self>, built in the scratch; 0 or -1. */
int node_kx_publish(struct node *n, const struct netaddr *dst, uint8_t type, const uint8_t *body,
		    size_t body_len, uint64_t now_ms);
/* Writes the 4-byte header type | version | 0 0 of a key-exchange message. */
void node_kx_header(uint8_t *out, uint8_t type);
/* Publishes a whole key-exchange message (header included) on <p>/kx/<dst>/<self>; 0 or -1. */
int node_kx_send(struct node *n, const struct netaddr *dst, const uint8_t *msg, size_t len);
/* Sends an initiation to p if the pacing rule allows one now (node_timers_initiation_due), or
 * regardless with force (the peer stopped answering: its keys are gone). */
void node_handshake_initiate(struct node *n, struct peer *p, bool force, uint64_t now_ms);
void node_handshake_input(struct node *n, const struct topic *t, const uint8_t *msg, size_t len,
			  uint64_t now_ms);

/* node_send.c */
void node_send_queue_flush(struct node *n, struct peer *p, bool keepalive_if_empty,
			   uint64_t now_ms);
void node_send_queue_drop(struct node *n, struct peer *p, enum drop_reason why);
void node_send_keepalive(struct node *n, struct peer *p, uint64_t now_ms);
/* A peer appeared: packets that waited for its certificate move to its queue. */
void node_send_adopt_unrouted(struct node *n, struct peer *p, uint64_t now_ms);
void node_send_unrouted_expire(struct node *n, uint64_t now_ms);
/* p leaves the table: its open batch is dropped, its queue dropped or moved to the unrouted
 * queue (requeue). */
void node_send_forget(struct node *n, struct peer *p, bool requeue);
void node_send_init(struct node *n, const struct node_storage *st);

/* node_receive.c */
void node_receive_transport(struct node *n, const struct topic *t, uint8_t *msg, size_t len,
			    uint64_t now_ms);
/* Checks one inner packet (header, destination ours; source claimed by sender unless NULL) and
 * hands it to the host. Returns true when delivered. */
bool node_receive_deliver(struct node *n, struct peer *sender, const uint8_t *pkt, size_t len);

/* node_timers.c: the hooks are named for protocol events, as in WireGuard's timers.c. */
void node_timers_data_sent(struct node *n, struct peer *p, bool data, uint64_t now_ms);
void node_timers_message_received(struct node *n, struct peer *p, bool data, uint64_t now_ms);
void node_timers_handshake_initiated(struct node *n, struct peer *p, uint64_t now_ms);
void node_timers_handshake_complete(struct node *n, struct peer *p, bool initiator,
				    uint64_t now_ms);
bool node_timers_initiation_due(const struct node *n, const struct peer *p, uint64_t now_ms);
/* A session that carried traffic from the peer lately: a stale initiation is then a replay. */
bool node_timers_session_alive(struct node *n, struct peer *p, uint64_t now_ms);

/* node_legacy.c */
void node_legacy_init(struct node *n, const char *password, size_t len);
void node_legacy_send(struct node *n, const uint8_t *pkt, size_t len, const struct netaddr *dst);
void node_legacy_input(struct node *n, const struct topic *t, const uint8_t *payload, size_t len);
void node_legacy_connected(struct node *n);

#endif

/* node.c - the node engine's life cycle (init, reload, broker session), the dispatch of incoming
 * MQTT messages by topic (PROTOCOL.md 8.1), the route cache, and the accounting every other part
 * of the engine uses (drops, log lines). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "node_internal.h"

#define LOG_LINE_MAX 200

/* A batch slot (at least MQTTIP_MIN_MESSAGE bytes) is also the scratch for key-exchange messages
 * (node_kx_scratch). */
_Static_assert(MQTTIP_MIN_MESSAGE >= MQTTIP_INITIATION_MAX_LEN &&
		   MQTTIP_MIN_MESSAGE >= MQTTIP_KX_HEADER_LEN + MQTTIP_CERT_MAX_LEN &&
		   MQTTIP_MIN_MESSAGE >= MQTTIP_RESPONSE_MAX_LEN,
	       "a batch slot holds initiations, responses and certificate answers");

struct node_settings node_settings_default(void)
{
	struct node_settings s;

	memset(&s, 0, sizeof(s));
	s.params = keypair_params_default();
	s.queue_per_peer = 64;
	s.broadcast_peers = 32;
	s.accept_multicast = true;
	s.evict_lru = false;
	s.directory = NODE_DIRECTORY_ALL;
	s.max_message = MQTTIP_MAX_TRANSPORT_MSG;
	s.subscribe_qos = 1;
	s.max_receive = MQTTIP_MAX_TRANSPORT_MSG;
	return s;
}

void node_log(struct node *n, enum node_log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (!n->ops.log || (level == NODE_LOG_DEBUG && !n->set.debug))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n->ops.log(n->ops.ctx, level, line);
}

void node_drop_n(struct node *n, struct peer *p, enum drop_reason why, uint64_t count)
{
	if (count == 0)
		return;
	if (p)
		p->stats.drops[why] += count;
	else
		n->drops[why] += count;
	if (n->set.debug)
		node_log(n, NODE_LOG_DEBUG, "drop: %s%s%s", drop_name(why), p ? " from/to " : "",
			 p ? p->cert.name : "");
}

void node_drop(struct node *n, struct peer *p, enum drop_reason why)
{
	node_drop_n(n, p, why, 1);
}

int node_publish(struct node *n, const char *topic, const uint8_t *msg, size_t len, int qos,
		 bool retain)
{
	int rc;

	if (!n->connected)
		return -1;
	rc = n->ops.publish(n->ops.ctx, topic, msg, len, qos, retain);
	return rc == 0 || rc == NODE_PUBLISH_OVERSIZE ? rc : -1;
}

int node_subscribe(struct node *n, const char *filter, int qos)
{
	return n->ops.subscribe(n->ops.ctx, filter,
				qos < n->set.subscribe_qos ? qos : n->set.subscribe_qos);
}

enum drop_reason node_publish_drop(int rc)
{
	return rc == NODE_PUBLISH_OVERSIZE ? DROP_OVERSIZE : DROP_BROKER_DOWN;
}

const char *node_prefix(const struct node *n)
{
	return n->set.prefix[0] ? n->set.prefix : MQTTIP_TOPIC_PREFIX;
}

bool node_wall_clock(struct node *n, uint64_t *sec, uint32_t *ns)
{
	uint32_t unused;

	return n->ops.wall_clock(n->ops.ctx, sec, ns ? ns : &unused);
}

const char *node_addr_text(const struct netaddr *a, char buf[NETADDR_STR_MAX])
{
	if (netaddr_format(a, buf, NETADDR_STR_MAX) == 0)
		strcpy(buf, "?");
	return buf;
}

bool node_is_own(const struct node *n, const struct netaddr *a)
{
	for (size_t i = 0; i < n->id.n_own; i++) {
		if (netaddr_equal(&n->id.own[i], a))
			return true;
	}
	return false;
}

bool node_pair_addresses(const struct node *n, const struct cert *peer, struct netaddr *peer_addr,
			 struct netaddr *self_addr)
{
	for (size_t i = 0; i < peer->n_addrs; i++) {
		for (size_t j = 0; j < n->id.cert.n_addrs; j++) {
			if (peer->addrs[i].addr.family != n->id.cert.addrs[j].addr.family)
				continue;
			if (peer_addr)
				*peer_addr = peer->addrs[i].addr;
			if (self_addr)
				*self_addr = n->id.cert.addrs[j].addr;
			return true;
		}
	}
	return false;
}

struct peer *node_owner(struct node *n, const struct netaddr *a)
{
	struct peer *p = peer_table_find_addr(&n->peers, a);

	/* exact owners beat every route in find_addr, so if anyone owns a, p does */
	return p && cert_held_owns(&p->cert, a) == CERT_OK ? p : NULL;
}

void node_routes_changed(struct node *n)
{
	if (++n->generation == 0)
		n->generation = 1; /* 0 marks never-filled cache entries */
}

static uint32_t addr_hash(const struct netaddr *a)
{
	uint32_t h = 2166136261u ^ a->family;

	for (size_t i = 0; i < (a->family == 4 ? 4u : 16u); i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h;
}

/* Direct-mapped cache in front of the O(peers) scan; negative answers are cached too, so an
 * unknown destination costs one scan per change of the table. */
struct peer *node_route(struct node *n, const struct netaddr *a)
{
	struct node_route *e;
	struct peer *p;

	if (n->n_routes == 0)
		return peer_table_find_addr(&n->peers, a);
	e = &n->routes[addr_hash(a) % n->n_routes];
	if (e->generation == n->generation && netaddr_equal(&e->addr, a))
		return e->peer == NODE_NONE ? NULL : &n->peers.peers[e->peer];
	p = peer_table_find_addr(&n->peers, a);
	e->addr = *a;
	e->generation = n->generation;
	e->peer = p ? node_slot(n, p) : NODE_NONE;
	return p;
}

static void add_own(struct node_identity *id, const struct netaddr *a)
{
	for (size_t i = 0; i < id->n_own; i++) {
		if (netaddr_equal(&id->own[i], a))
			return;
	}
	if (id->n_own < NODE_OWN_MAX)
		id->own[id->n_own++] = *a;
}

static void update_max_message(struct node *n)
{
	size_t m = n->set.max_message;

	if (m > n->batch_size)
		m = n->batch_size;
	/* below one full packet: the larger packets are dropped (oversize), the others go */
	if (n->broker_limit && m > n->broker_limit)
		m = n->broker_limit;
	n->max_message = m;
}

/* Checks the credentials and fills id; logs and returns -1 when they do not hold together. */
static int make_identity(struct node *n, const struct node_credentials *c, struct node_identity *id)
{
	int err;

	memset(id, 0, sizeof(*id));
	id->secure = c->cert != NULL;
	if (id->secure) {
		if (!c->static_private || !c->network_id || c->cert_len > sizeof(id->cert_bytes)) {
			node_log(n, NODE_LOG_ERROR, "node credentials incomplete");
			return -1;
		}
		/* Signed by the network CA; the validity window is checked at use, since a device
		 * may not know the time yet (time 0 passes the signature, then fails not_before).
		 */
		err = cert_verify(c->cert, c->cert_len, c->network_id, 0, &id->cert);
		if (err == CERT_ERR_NOT_YET_VALID)
			err = cert_decode(c->cert, c->cert_len, &id->cert);
		if (err != CERT_OK) {
			node_log(n, NODE_LOG_ERROR, "node certificate refused: %s",
				 cert_strerror(err));
			return -1;
		}
		crypto_scalarmult_base(id->static_public, c->static_private);
		if (sodium_memcmp(id->static_public, id->cert.x25519_public, MQTTIP_KEY_LEN) != 0) {
			node_log(n, NODE_LOG_ERROR, "node key does not match the node certificate");
			return -1;
		}
		memcpy(id->cert_bytes, c->cert, c->cert_len);
		id->cert_len = c->cert_len;
		memcpy(id->static_private, c->static_private, MQTTIP_KEY_LEN);
		memcpy(id->network_id, c->network_id, MQTTIP_NETWORK_ID_LEN);
		id->has_psk = c->psk != NULL;
		if (c->psk)
			memcpy(id->psk, c->psk, MQTTIP_KEY_LEN);
		for (size_t i = 0; i < id->cert.n_addrs; i++)
			add_own(id, &id->cert.addrs[i].addr);
	}
	for (size_t i = 0; i < c->n_extra_own; i++)
		add_own(id, &c->extra_own[i]);
	if (id->n_own == 0) {
		node_log(n, NODE_LOG_ERROR, "the node has no address");
		return -1;
	}
	return 0;
}

/* Takes id (wiping the caller's copy) and points the handshake's view at it. */
static void set_identity(struct node *n, struct node_identity *id)
{
	sodium_memzero(&n->id, sizeof(n->id));
	n->id = *id;
	sodium_memzero(id, sizeof(*id));
	n->local.static_private = n->id.static_private;
	memcpy(n->local.static_public, n->id.static_public, MQTTIP_KEY_LEN);
	n->local.network_id = n->id.network_id;
	n->local.cert = n->id.cert_bytes;
	n->local.cert_len = n->id.cert_len;
}

static bool settings_ok(struct node *n, const struct node_settings *set)
{
	if (set->max_message < NODE_MAX_MESSAGE_MIN ||
	    set->max_message > MQTTIP_MAX_TRANSPORT_MSG || set->max_receive < MQTTIP_MIN_MESSAGE ||
	    set->max_receive > MQTTIP_MAX_TRANSPORT_MSG) {
		node_log(n, NODE_LOG_ERROR,
			 "max message %zu (%u..%u) or max receive %zu (%u..%u) out of range",
			 set->max_message, (unsigned)NODE_MAX_MESSAGE_MIN,
			 (unsigned)MQTTIP_MAX_TRANSPORT_MSG, set->max_receive,
			 (unsigned)MQTTIP_MIN_MESSAGE, (unsigned)MQTTIP_MAX_TRANSPORT_MSG);
		return false;
	}
	if (set->subscribe_qos < 0 || set->subscribe_qos > 1) {
		node_log(n, NODE_LOG_ERROR, "subscribe QoS %d: 0 or 1", set->subscribe_qos);
		return false;
	}
	return true;
}

int node_init(struct node *n, const struct node_settings *set, const struct node_credentials *cred,
	      const struct node_storage *st, const struct node_ops *ops, uint64_t now_ms)
{
	struct node_identity id;

	memset(n, 0, sizeof(*n));
	n->ops = *ops;
	n->set = *set;
	n->started_ms = now_ms;
	n->generation = 1;
	if (!settings_ok(n, set))
		return -1;
	if (make_identity(n, cred, &id))
		goto fail;
	set_identity(n, &id);
	/* a legacy-only node has no peers: its host may leave the table out */
	if (st->n_batches == 0 || st->n_batches > NODE_BATCH_SLOTS_MAX ||
	    st->batch_size < MQTTIP_MIN_MESSAGE || st->batch_size > MQTTIP_MAX_TRANSPORT_MSG ||
	    ((n->id.secure || st->n_peers) && peer_table_init(&n->peers, st->peers, st->n_peers,
							      st->handshakes, st->n_handshakes)) ||
	    (n->id.secure &&
	     (st->n_wanted == 0 || !st->revocation || st->n_ratelimit_senders == 0))) {
		node_log(n, NODE_LOG_ERROR, "node storage out of range");
		goto fail;
	}
	if (cred->legacy_password) {
		if (!st->legacy) {
			node_log(n, NODE_LOG_ERROR, "legacy mode needs its storage");
			goto fail;
		}
		n->legacy = st->legacy;
		node_legacy_init(n, cred->legacy_password, cred->legacy_password_len);
	}
	if (!n->id.secure && !n->legacy) {
		node_log(n, NODE_LOG_ERROR, "neither a node certificate nor legacy mode");
		goto fail;
	}
	n->routes = st->routes;
	n->n_routes = st->n_routes;
	if (n->routes)
		memset(n->routes, 0, n->n_routes * sizeof(*n->routes));
	n->wanted = st->wanted;
	n->n_wanted = st->n_wanted;
	if (n->wanted)
		memset(n->wanted, 0, n->n_wanted * sizeof(*n->wanted));
	if (n->id.secure) {
		n->revocation = st->revocation;
		memset(n->revocation, 0, sizeof(*n->revocation));
	}
	node_send_init(n, st);
	update_max_message(n);
	node_caps_update(n);
	if (n->id.secure)
		ratelimit_init(&n->ratelimit, st->ratelimit_senders, st->n_ratelimit_senders);
	return 0;
fail:
	sodium_memzero(&id, sizeof(id));
	node_wipe(n);
	return -1;
}

int node_reload(struct node *n, const struct node_settings *set,
		const struct node_credentials *cred, uint64_t now_ms)
{
	struct node_identity id;
	bool new_key;

	(void)now_ms;
	if (!settings_ok(n, set) || (cred->legacy_password != NULL) != (n->legacy != NULL)) {
		node_log(n, NODE_LOG_ERROR, "reload refused: the node's mode changed; restart it");
		return -1;
	}
	if (make_identity(n, cred, &id)) {
		sodium_memzero(&id, sizeof(id));
		node_log(n, NODE_LOG_ERROR, "reload refused, keeping the running credentials");
		return -1;
	}
	/* Peers address us by our certificate's addresses: changing them needs a restart. */
	if (id.secure != n->id.secure || id.n_own != n->id.n_own ||
	    memcmp(id.own, n->id.own, id.n_own * sizeof(id.own[0])) != 0) {
		sodium_memzero(&id, sizeof(id));
		node_log(n, NODE_LOG_ERROR,
			 "reload refused: the node's addresses changed; restart it");
		return -1;
	}
	new_key = memcmp(id.static_public, n->id.static_public, MQTTIP_KEY_LEN) != 0;
	set_identity(n, &id);
	n->set = *set;
	update_max_message(n);
	node_caps_update(n);
	if (cred->legacy_password)
		node_legacy_init(n, cred->legacy_password, cred->legacy_password_len);
	if (new_key) {
		for (size_t i = 0; i < n->peers.cap; i++) {
			struct peer *p = &n->peers.peers[i];

			if (!p->used)
				continue;
			session_wipe(&p->session);
			peer_handshake_end(&n->peers, p);
			p->handshake_first_ms = 0;
			p->handshake_attempts = 0;
		}
	}
	if (n->connected && n->id.secure)
		node_directory_connected(n);
	node_log(n, NODE_LOG_INFO, "reloaded credentials and settings%s",
		 new_key ? " (new node key: sessions reset)" : "");
	return 0;
}

void node_connected(struct node *n, uint64_t now_ms)
{
	char topic[TOPIC_MAX];

	n->connected = true;
	for (size_t i = 0; n->id.secure && i < n->id.cert.n_addrs; i++) {
		const struct netaddr *a = &n->id.cert.addrs[i].addr;

		if (topic_data_inbox(topic, sizeof(topic), node_prefix(n), a))
			node_subscribe(n, topic, 0);
		if (topic_kx_inbox(topic, sizeof(topic), node_prefix(n), a))
			node_subscribe(n, topic, 1);
	}
	if (n->id.secure) {
		node_directory_connected(n);
		node_revocation_connected(n, now_ms);
	}
	if (n->legacy)
		node_legacy_connected(n);
}

void node_disconnected(struct node *n)
{
	n->connected = false;
}

void node_set_broker_limit(struct node *n, size_t max_payload)
{
	n->broker_limit = max_payload;
	update_max_message(n);
}

void node_input(struct node *n, const char *topic, size_t topic_len, uint8_t *payload, size_t len,
		bool retained, uint64_t now_ms)
{
	struct topic t;

	switch (topic_parse(node_prefix(n), topic, topic_len, &t)) {
	case TOPIC_DATA:
	case TOPIC_KX:
		if (!n->id.secure)
			return;
		if (!node_is_own(n, &t.dst)) {
			node_drop(n, NULL, DROP_TOPIC);
			return;
		}
		/* An inbox message the broker kept is stale by definition: a retained initiation
		 * would be answered, and retained data delivered again, at every reconnection. */
		if (retained) {
			node_drop(n, NULL, DROP_RETAINED);
			return;
		}
		if (t.kind == TOPIC_DATA)
			node_receive_transport(n, &t, payload, len, now_ms);
		else
			node_handshake_input(n, &t, payload, len, now_ms);
		return;
	case TOPIC_CERT:
		if (n->id.secure)
			node_directory_input(n, &t, payload, len, now_ms);
		return;
	case TOPIC_REVOCATION:
		if (n->id.secure && len)
			node_revocation_input(n, payload, len, NULL, true, now_ms);
		return;
	case TOPIC_LEGACY:
		if (!n->legacy)
			return;
		if (retained) {
			node_drop(n, NULL, DROP_RETAINED);
			return;
		}
		node_legacy_input(n, &t, payload, len);
		return;
	default:
		node_drop(n, NULL, DROP_MALFORMED);
		return;
	}
}

bool node_peer_has_session(struct node *n, struct peer *p, uint64_t now_ms)
{
	return session_sending_keypair(&p->session, now_ms, &n->set.params) != NULL;
}

uint64_t node_drops_total(const struct node *n, enum drop_reason why)
{
	uint64_t sum = n->drops[why];

	for (size_t i = 0; i < n->peers.cap; i++) {
		if (n->peers.peers[i].used)
			sum += n->peers.peers[i].stats.drops[why];
	}
	return sum;
}

void node_wipe(struct node *n)
{
	if (n->peers.peers) {
		for (size_t i = 0; i < n->peers.cap; i++) {
			if (n->peers.peers[i].used)
				peer_table_remove(&n->peers, &n->peers.peers[i]);
		}
		sodium_memzero(n->peers.pool, n->peers.n_pool * sizeof(*n->peers.pool));
	}
	if (n->legacy) {
		legacy_nonce_cache_wipe(&n->legacy->nonces);
		sodium_memzero(n->legacy, sizeof(*n->legacy));
	}
	sodium_memzero(n, sizeof(*n));
}

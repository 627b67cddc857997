/* plugin.c - mosquitto 2.0 plugin API v5 entry points: option parsing at init, event callbacks
 * (authentication, ACL, message counting, disconnect, tick, reload), cleanup. The decisions live
 * in acl.c, the per-connection cache in clients.c, counters in metrics.c. It builds against the
 * headers of mosquitto 2.0 and 2.1 (README: broker versions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
/* mosquitto 2.1 declares the broker and plugin API in <mosquitto.h> and turns the 2.0 headers into
 * stubs that only carry a #warning (an error under -Werror); 2.0 declares them separately. */
#if LIBMOSQUITTO_VERSION_NUMBER < 2001000
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#endif
#include <openssl/x509.h>

#include "acl.h"
#include "clients.h"
#include "identity.h"
#include "kicks.h"
#include "metrics.h"
#include "options.h"
#include "policy.h"
#include "proto.h"
#include "topic.h"

#define PLUGIN_API_VERSION 5
#define LOG_TAG		   "mqttip: "
/* mosquitto's loop ticks plugins at least every 100 ms; an event this long after start with no
 * tick yet means the broker never ticks this plugin. */
#define TICK_GRACE_S 5

struct plugin {
	mosquitto_plugin_id_t *id;
	struct plugin_options opt;
	struct acl_config acl;
	struct policy policy;
	struct clients clients;
	struct metrics metrics;
	struct kicks kicks;
	int64_t now;	      /* unix seconds, refreshed on every tick */
	int64_t next_publish; /* when the next metrics document is due */
	int64_t started;      /* unix seconds of mosquitto_plugin_init */
	bool ticked;	      /* a tick has arrived */
	bool tick_warned;     /* the no-tick warning has been given */
};

static void publish_metrics(struct plugin *p, const char *warning);

/* mosquitto before 2.0.15 never ticks a plugin when per_listener_settings is true (its
 * plugin__handle_tick only walks the global plugins), and the plugin cannot see that setting at
 * init. Without ticks no metrics document is published and superseded sessions are never kicked,
 * so the first event that finds no tick long after start says so in the log and in a retained
 * metrics document, where `mqttip top` shows it. */
static void no_tick_check(struct plugin *p)
{
	static const char why[] =
	    "mosquitto has not ticked the plugin since it started: a broker before 2.0.15 does "
	    "not tick plugins when per_listener_settings is true, so no metrics are published "
	    "and superseded sessions are not disconnected; set per_listener_settings false";
	int64_t now = (int64_t)time(NULL);

	if (now - p->started < TICK_GRACE_S)
		return;
	p->tick_warned = true;
	mosquitto_log_printf(MOSQ_LOG_WARNING, LOG_TAG "%s", why);
	if (p->opt.metrics_interval > 0) {
		p->now = now;
		publish_metrics(p, why);
	}
}

/* Every event callback: cheap once the first tick has come. */
static inline void watch_ticks(struct plugin *p)
{
	if (!p->ticked && !p->tick_warned)
		no_tick_check(p);
}

static const struct acl_subject nobody;

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for (int i = 0; i < supported_version_count; i++) {
		if (supported_versions[i] == PLUGIN_API_VERSION)
			return PLUGIN_API_VERSION;
	}
	return -1;
}

static void touch(struct plugin *p, struct metrics_counters *c)
{
	c->last_activity = p->now;
}

/* mosquitto re-authenticates every live client after a reload (after the RELOAD event): the
 * connection keeps its entry, and one that was revoked or lost rights is refused, which makes
 * mosquitto disconnect it at once. */
static struct client_entry *readmit(struct plugin *p, struct client_entry *e, bool *refused)
{
	struct policy_rights now;

	if (!e->has_identity)
		return e;
	policy_lookup(&p->policy, e->id.name, &now);
	if (e->subject.revoked || policy_rights_lost(&e->rights, &now)) {
		e->subject.revoked = true;
		*refused = true;
		return e;
	}
	e->rights = now;
	return e;
}

/* Builds the cache entry of a connection from its certificate and the policy. Returns the entry
 * (NULL when out of memory); *refused is set when the policy denies the node. */
static struct client_entry *admit(struct plugin *p, struct mosquitto *client, bool *refused)
{
	struct client_entry *e, *old;
	X509 *cert = mosquitto_client_certificate(client);
	struct identity id;
	struct policy_rights rights;
	char why[128];

	*refused = false;
	e = clients_find(&p->clients, client);
	if (e != NULL) {
		X509_free(cert);
		return readmit(p, e, refused);
	}
	if (cert == NULL)
		return clients_add(&p->clients, client, mosquitto_client_id(client));
	if (identity_from_x509(cert, &id, why, sizeof(why)) != 0) {
		X509_free(cert);
		mosquitto_log_printf(MOSQ_LOG_WARNING, LOG_TAG "client %s (%s): %s; no access",
				     mosquitto_client_id(client) ? mosquitto_client_id(client)
								 : "?",
				     mosquitto_client_address(client), why);
		return clients_add(&p->clients, client, mosquitto_client_id(client));
	}
	X509_free(cert);
	policy_lookup(&p->policy, id.name, &rights);
	if (rights.deny) {
		struct metrics_node *n = metrics_node(&p->metrics, id.name);

		if (n != NULL) {
			n->c.refused++;
			touch(p, &n->c);
		}
		mosquitto_log_printf(MOSQ_LOG_NOTICE, LOG_TAG "node %s refused: denied by policy",
				     id.name);
		*refused = true;
		clients_remove(&p->clients, client);
		return NULL;
	}
	e = clients_add(&p->clients, client, mosquitto_client_id(client));
	if (e == NULL)
		return NULL;
	e->has_identity = true;
	e->id = id;
	e->rights = rights;
	e->subject.id = &e->id;
	e->node = metrics_node(&p->metrics, id.name);
	if (e->node == NULL)
		return e;
	e->node->online++;
	e->node->c.connects++;
	touch(p, &e->node->c);
	e->node->naddrs = id.naddrs;
	memcpy(e->node->addrs, id.addrs, sizeof(id.addrs));
	/* Newest session wins: the older one loses all rights now and is kicked on the next tick,
	 * unless it uses the same client id, which mosquitto's own session takeover closes. */
	old = e->node->session;
	if (old != NULL && old != e) {
		old->subject.revoked = true;
		if (old->client_id != NULL &&
		    (e->client_id == NULL || strcmp(old->client_id, e->client_id) != 0))
			kicks_push(&p->kicks, old->client_id);
		mosquitto_log_printf(MOSQ_LOG_NOTICE, LOG_TAG "node %s: new session %s replaces %s",
				     id.name, e->client_id ? e->client_id : "?",
				     old->client_id ? old->client_id : "?");
	}
	e->node->session = e;
	return e;
}

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ev = event_data;
	struct plugin *p = userdata;
	struct client_entry *e;
	bool refused;

	(void)event;
	watch_ticks(p);
	e = admit(p, ev->client, &refused);
	if (refused)
		return MOSQ_ERR_AUTH;
	/* The certificate, verified by the TLS layer against cafile (and crlfile), is the
	 * credential; clients without one are left to mosquitto's other mechanisms. */
	if (e != NULL && e->has_identity)
		return MOSQ_ERR_SUCCESS;
	return MOSQ_ERR_PLUGIN_DEFER;
}

static int to_mosq(enum acl_verdict v)
{
	switch (v) {
	case ACL_ALLOW:
		return MOSQ_ERR_SUCCESS;
	case ACL_DEFER:
		return MOSQ_ERR_PLUGIN_DEFER;
	case ACL_DENY:
	default:
		return MOSQ_ERR_ACL_DENIED;
	}
}

/* mosquitto re-checks the WRITE right of a retained message's publisher before serving it to a
 * new subscriber (check_retain_source), with a stand-in client that has no connection and hence
 * no certificate. The only retained topics the plugin ever admitted are directory entries,
 * checked when they were published, so those pass. */
static int retained_source_check(struct plugin *p, const char *topic)
{
	struct topic t;
	enum topic_kind kind = topic_parse(p->opt.prefix, topic, strlen(topic), &t);

	if (kind == TOPIC_CERT)
		return MOSQ_ERR_SUCCESS;
	if (kind == TOPIC_OUTSIDE && strncmp(topic, MQTTIP_SYS_PREFIX, strlen(MQTTIP_SYS_PREFIX)))
		return to_mosq(p->opt.outside_deny ? ACL_DENY : ACL_DEFER);
	return MOSQ_ERR_ACL_DENIED;
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ev = event_data;
	struct plugin *p = userdata;
	struct client_entry *e = clients_find(&p->clients, ev->client);
	const struct acl_subject *s;
	struct metrics_counters *c;
	size_t len = strlen(ev->topic);
	enum acl_verdict v;

	(void)event;
	watch_ticks(p);
	if (e == NULL) {
		bool refused;

		if (mosquitto_client_address(ev->client) == NULL)
			return ev->access == MOSQ_ACL_WRITE ? retained_source_check(p, ev->topic)
							    : MOSQ_ERR_ACL_DENIED;
		e = admit(p, ev->client, &refused);
	}
	s = e != NULL ? &e->subject : &nobody;
	c = e != NULL && e->node != NULL ? &e->node->c : &p->metrics.anonymous;
	switch (ev->access) {
	case MOSQ_ACL_READ:
		v = acl_read(&p->acl, s, ev->topic, len);
		if (v == ACL_ALLOW) {
			c->delivered_msgs++;
			c->delivered_bytes += ev->payloadlen;
			touch(p, c);
		} else if (v == ACL_DENY) {
			c->denied_read++;
		}
		return to_mosq(v);
	case MOSQ_ACL_WRITE:
		v = acl_write(&p->acl, s, ev->topic, len, ev->retain);
		if (v == ACL_DENY) {
			c->denied_publish++;
			touch(p, c);
		}
		return to_mosq(v);
	case MOSQ_ACL_SUBSCRIBE:
		v = acl_subscribe(&p->acl, s, ev->topic, len);
		if (v == ACL_DENY) {
			c->denied_subscribe++;
			touch(p, c);
		}
		return to_mosq(v);
	case MOSQ_ACL_UNSUBSCRIBE:
		return to_mosq(acl_unsubscribe(&p->acl, ev->topic, len));
	default:
		return MOSQ_ERR_ACL_DENIED;
	}
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ev = event_data;
	struct plugin *p = userdata;
	struct client_entry *e = clients_find(&p->clients, ev->client);
	struct metrics_counters *c =
	    e != NULL && e->node != NULL ? &e->node->c : &p->metrics.anonymous;
	(void)event;
	watch_ticks(p);
	/* The WRITE check has already admitted the topic: only the prefix and the kx level need
	 * looking at, not a second full parse. */
	if (strncmp(ev->topic, p->opt.prefix, p->opt.prefix_len) != 0 ||
	    ev->topic[p->opt.prefix_len] != '/')
		return MOSQ_ERR_SUCCESS;
	c->published_msgs++;
	c->published_bytes += ev->payloadlen;
	if (strncmp(ev->topic + p->opt.prefix_len + 1, "kx/", 3) == 0)
		c->handshake_msgs++;
	touch(p, c);
	return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ev = event_data;
	struct plugin *p = userdata;
	struct client_entry *e = clients_find(&p->clients, ev->client);

	(void)event;
	watch_ticks(p);
	if (e == NULL)
		return MOSQ_ERR_SUCCESS;
	if (e->node != NULL) {
		if (e->node->online > 0)
			e->node->online--;
		e->node->c.disconnects++;
		touch(p, &e->node->c);
		if (e->node->session == e)
			e->node->session = NULL;
	}
	clients_remove(&p->clients, ev->client);
	return MOSQ_ERR_SUCCESS;
}

static void kick_one(const char *client_id, void *arg)
{
	struct plugin *p = arg;

	/* The id may have been taken over by a newer, legitimate session meanwhile. */
	if (clients_find_live_id(&p->clients, client_id) != NULL)
		return;
	mosquitto_kick_client_by_clientid(client_id, false);
}

/* Retained, so that a viewer has the latest document as soon as it subscribes; its "window"
 * counts since the previous document give rates from that one document. */
static void publish_metrics(struct plugin *p, const char *warning)
{
	char *doc =
	    metrics_json(&p->metrics, p->opt.prefix, p->opt.metrics_interval, p->now, warning);
	char err[256];

	if (doc == NULL) {
		mosquitto_log_printf(MOSQ_LOG_WARNING, LOG_TAG "metrics document: out of memory");
	} else {
		mosquitto_broker_publish_copy(NULL, MQTTIP_METRICS_TOPIC, (int)strlen(doc), doc, 0,
					      true, NULL);
		free(doc);
		metrics_mark_window(&p->metrics, p->now);
	}
	if (p->opt.prometheus_file[0] != '\0' &&
	    prometheus_write(&p->metrics, p->opt.prometheus_file, err, sizeof(err)) != 0)
		mosquitto_log_printf(MOSQ_LOG_WARNING, LOG_TAG "prometheus_file: %s", err);
}

static int on_tick(int event, void *event_data, void *userdata)
{
	struct plugin *p = userdata;

	(void)event;
	(void)event_data;
	p->now = (int64_t)time(NULL);
	p->ticked = true;
	if (p->kicks.count > 0)
		kicks_drain(&p->kicks, kick_one, p);
	if (p->opt.metrics_interval > 0 && p->now >= p->next_publish) {
		publish_metrics(p, NULL);
		p->next_publish = p->now + p->opt.metrics_interval;
	}
	return MOSQ_ERR_SUCCESS;
}

static void reapply_rights(struct client_entry *e, void *arg)
{
	struct plugin *p = arg;
	struct policy_rights now;

	if (!e->has_identity || e->subject.revoked)
		return;
	policy_lookup(&p->policy, e->id.name, &now);
	if (policy_rights_lost(&e->rights, &now)) {
		e->subject.revoked = true;
		if (e->client_id != NULL)
			kicks_push(&p->kicks, e->client_id);
		mosquitto_log_printf(MOSQ_LOG_NOTICE,
				     LOG_TAG "node %s lost rights on reload: disconnecting %s",
				     e->id.name, e->client_id ? e->client_id : "?");
		return;
	}
	e->rights = now;
}

static int on_reload(int event, void *event_data, void *userdata)
{
	struct plugin *p = userdata;
	struct policy fresh;
	char err[256];

	(void)event;
	(void)event_data;
	if (p->opt.policy_file[0] == '\0')
		return MOSQ_ERR_SUCCESS;
	if (policy_load(p->opt.policy_file, &fresh, err, sizeof(err)) != 0) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
				     LOG_TAG "policy reload failed, keeping the old: %s", err);
		return MOSQ_ERR_SUCCESS;
	}
	policy_free(&p->policy);
	p->policy = fresh;
	clients_each(&p->clients, reapply_rights, p);
	mosquitto_log_printf(MOSQ_LOG_INFO, LOG_TAG "policy reloaded (%zu nodes)", p->policy.count);
	return MOSQ_ERR_SUCCESS;
}

static const struct {
	int event;
	MOSQ_FUNC_generic_callback cb;
} callbacks[] = {
    {MOSQ_EVT_BASIC_AUTH, on_basic_auth},
    {MOSQ_EVT_ACL_CHECK, on_acl_check},
    {MOSQ_EVT_MESSAGE, on_message},
    {MOSQ_EVT_DISCONNECT, on_disconnect},
    {MOSQ_EVT_TICK, on_tick},
    {MOSQ_EVT_RELOAD, on_reload},
};
#define NCALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))

static void plugin_free(struct plugin *p, size_t nregistered)
{
	for (size_t i = 0; i < nregistered; i++)
		mosquitto_callback_unregister(p->id, callbacks[i].event, callbacks[i].cb, NULL);
	clients_free(&p->clients);
	metrics_free(&p->metrics);
	policy_free(&p->policy);
	kicks_free(&p->kicks);
	free(p);
}

static int load_options(struct plugin *p, struct mosquitto_opt *options, int option_count)
{
	const char **keys = calloc((size_t)option_count + 1, sizeof(*keys));
	const char **values = calloc((size_t)option_count + 1, sizeof(*values));
	char err[256];
	int rc = -1;

	if (keys == NULL || values == NULL) {
		snprintf(err, sizeof(err), "out of memory");
	} else {
		for (int i = 0; i < option_count; i++) {
			keys[i] = options[i].key;
			values[i] = options[i].value;
		}
		rc = options_parse(&p->opt, keys, values, (size_t)option_count, err, sizeof(err));
	}
	free(keys);
	free(values);
	if (rc == 0 && p->opt.policy_file[0] != '\0')
		rc = policy_load(p->opt.policy_file, &p->policy, err, sizeof(err));
	if (rc == 0 && p->opt.prometheus_file[0] != '\0')
		rc = prometheus_write(&p->metrics, p->opt.prometheus_file, err, sizeof(err));
	if (rc != 0)
		mosquitto_log_printf(MOSQ_LOG_ERR, LOG_TAG "refusing to start: %s", err);
	return rc;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
			  struct mosquitto_opt *options, int option_count)
{
	struct plugin *p = calloc(1, sizeof(*p));
	size_t i;

	if (p == NULL)
		return MOSQ_ERR_NOMEM;
	p->id = identifier;
	metrics_init(&p->metrics);
	if (load_options(p, options, option_count) != 0) {
		plugin_free(p, 0);
		return MOSQ_ERR_INVAL;
	}
	p->acl.prefix = p->opt.prefix;
	p->acl.prefix_len = p->opt.prefix_len;
	p->acl.legacy = p->opt.legacy;
	p->acl.outside_deny = p->opt.outside_deny;
	p->now = (int64_t)time(NULL);
	p->started = p->now;
	p->next_publish = p->now + p->opt.metrics_interval;
	metrics_mark_window(&p->metrics, p->now);
	for (i = 0; i < NCALLBACKS; i++) {
		if (mosquitto_callback_register(identifier, callbacks[i].event, callbacks[i].cb,
						NULL, p) != MOSQ_ERR_SUCCESS) {
			mosquitto_log_printf(MOSQ_LOG_ERR, LOG_TAG "cannot register callback %d",
					     callbacks[i].event);
			plugin_free(p, i);
			return MOSQ_ERR_UNKNOWN;
		}
	}
	*userdata = p;
#if LIBMOSQUITTO_VERSION_NUMBER >= 2001000
	/* 2.1 lists loaded plugins with their versions ($CONTROL/broker/v1 listPlugins). */
	mosquitto_plugin_set_info(identifier, "mqttip", MQTTIP_VERSION);
#endif
	mosquitto_log_printf(
	    MOSQ_LOG_INFO,
	    LOG_TAG "plugin %s: prefix %s, policy %s (%zu nodes), metrics every %u s, "
		    "outside prefix %s, legacy %s",
	    MQTTIP_VERSION, p->opt.prefix, p->opt.policy_file[0] ? p->opt.policy_file : "none",
	    p->policy.count, p->opt.metrics_interval, p->opt.outside_deny ? "deny" : "defer",
	    p->opt.legacy ? "on" : "off");
	/* A first (empty) document at once, retained: a viewer never waits a whole interval, and
	 * if the broker never ticks the plugin, this document's age shows it. */
	if (p->opt.metrics_interval > 0)
		publish_metrics(p, NULL);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)options;
	(void)option_count;
	if (userdata != NULL)
		plugin_free(userdata, NCALLBACKS);
	return MOSQ_ERR_SUCCESS;
}

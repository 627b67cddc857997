/* acl.c - access decisions. The READ path runs for every delivered message: one topic_parse and
 * a scan of at most IDENTITY_MAX_ADDRS + POLICY_MAX_ROUTES entries, nothing allocated. */
#include "acl.h"

#include <string.h>

#include "proto.h"

#define SYS_PREFIX_LEN	(sizeof(MQTTIP_SYS_PREFIX) - 1)
#define SHARE_PREFIX	"$share/"
#define REST_MAX_LEVELS 4

struct level {
	const char *p;
	size_t len;
};

enum prefix_match {
	PM_OUTSIDE,  /* the filter cannot match any topic under the prefix */
	PM_EXACT,    /* the prefix levels are matched literally */
	PM_WILDCARD, /* a '+' stands for a prefix level: matches inside and outside */
	PM_ALL,	     /* a '#' within the prefix levels: matches everything under it */
};

static bool usable(const struct acl_subject *s)
{
	return s != NULL && s->id != NULL && !s->revoked;
}

static bool owns_san(const struct acl_subject *s, const struct netaddr *a)
{
	for (uint8_t i = 0; i < s->id->naddrs; i++) {
		if (netaddr_equal(&s->id->addrs[i], a))
			return true;
	}
	return false;
}

bool acl_owns(const struct acl_subject *s, const struct netaddr *a)
{
	if (!usable(s))
		return false;
	if (owns_san(s, a))
		return true;
	for (uint8_t i = 0; i < s->rights->nroutes; i++) {
		if (netaddr_in_prefix(a, &s->rights->routes[i].prefix, s->rights->routes[i].len))
			return true;
	}
	return false;
}

/* A bridge publishes the directory entries of the nodes it carries (policy "bridge"). */
static bool bridges(const struct acl_subject *s, const struct netaddr *a)
{
	for (uint8_t i = 0; i < s->rights->nroutes; i++) {
		if (s->rights->routes[i].bridge &&
		    netaddr_in_prefix(a, &s->rights->routes[i].prefix, s->rights->routes[i].len))
			return true;
	}
	return false;
}

static bool may_read_inbox(const struct acl_subject *s, const struct netaddr *dst)
{
	return acl_owns(s, dst) || netaddr_is_broadcast(dst);
}

static enum acl_verdict outside(const struct acl_config *cfg)
{
	return cfg->outside_deny ? ACL_DENY : ACL_DEFER;
}

static enum acl_verdict allow_if(bool ok)
{
	return ok ? ACL_ALLOW : ACL_DENY;
}

/* $SYS/broker/mqttip or anything below it. */
static bool is_sys_topic(const char *t, size_t len)
{
	return len >= SYS_PREFIX_LEN && memcmp(t, MQTTIP_SYS_PREFIX, SYS_PREFIX_LEN) == 0 &&
	       (len == SYS_PREFIX_LEN || t[SYS_PREFIX_LEN] == '/');
}

enum acl_verdict acl_write(const struct acl_config *cfg, const struct acl_subject *s,
			   const char *topic, size_t len, bool retain)
{
	struct topic t;

	if (is_sys_topic(topic, len))
		return ACL_DENY;
	switch (topic_parse(cfg->prefix, topic, len, &t)) {
	case TOPIC_OUTSIDE:
		return outside(cfg);
	case TOPIC_DATA:
	case TOPIC_KX:
		return allow_if(!retain && acl_owns(s, &t.src));
	case TOPIC_CERT:
		return allow_if(usable(s) && (owns_san(s, &t.dst) || bridges(s, &t.dst)));
	case TOPIC_LEGACY:
		return allow_if(!retain && cfg->legacy && usable(s) && s->rights->legacy);
	case TOPIC_REVOCATION:
		/* signed by the network CA: no node can forge it, any node may hand it on */
		return allow_if(usable(s));
	case TOPIC_INVALID:
	default:
		return ACL_DENY;
	}
}

enum acl_verdict acl_read(const struct acl_config *cfg, const struct acl_subject *s,
			  const char *topic, size_t len)
{
	struct topic t;

	if (is_sys_topic(topic, len))
		return allow_if(usable(s) && s->rights->admin);
	switch (topic_parse(cfg->prefix, topic, len, &t)) {
	case TOPIC_OUTSIDE:
		return outside(cfg);
	case TOPIC_DATA:
		return allow_if(may_read_inbox(s, &t.dst));
	case TOPIC_KX:
		return allow_if(acl_owns(s, &t.dst));
	case TOPIC_CERT:
		return allow_if(usable(s));
	case TOPIC_LEGACY:
		return allow_if(cfg->legacy && may_read_inbox(s, &t.dst));
	case TOPIC_REVOCATION:
		return allow_if(usable(s));
	case TOPIC_INVALID:
	default:
		return ACL_DENY;
	}
}

/* Next '/'-separated level of f[0..len) from *pos; false when there is none left. */
static bool next_level(const char *f, size_t len, size_t *pos, bool *done, struct level *out)
{
	const char *slash;

	if (*done)
		return false;
	out->p = f + *pos;
	slash = memchr(f + *pos, '/', len - *pos);
	if (slash == NULL) {
		out->len = len - *pos;
		*done = true;
	} else {
		out->len = (size_t)(slash - out->p);
		*pos += out->len + 1;
	}
	return true;
}

static bool level_is(const struct level *l, const char *word)
{
	return l->len == strlen(word) && memcmp(l->p, word, l->len) == 0;
}

/* Matches the filter's leading levels against prefix; on PM_EXACT/PM_WILDCARD, *pos and *done
 * describe the rest of the filter (done: nothing follows the prefix levels). */
static enum prefix_match match_prefix(const char *prefix, size_t plen, const char *f, size_t flen,
				      size_t *pos, bool *done)
{
	size_t ppos = 0;
	bool pdone = false, wild = false;
	struct level pl, fl;

	*pos = 0;
	*done = false;
	while (next_level(prefix, plen, &ppos, &pdone, &pl)) {
		if (!next_level(f, flen, pos, done, &fl))
			return PM_OUTSIDE;
		if (level_is(&fl, "#"))
			return PM_ALL;
		if (level_is(&fl, "+"))
			wild = true;
		else if (fl.len != pl.len || memcmp(fl.p, pl.p, pl.len) != 0)
			return PM_OUTSIDE;
	}
	return wild ? PM_WILDCARD : PM_EXACT;
}

/* An address level of a secure-mode filter, in the topic spelling (netaddr_topic_parse). */
static bool level_address(const struct level *l, struct netaddr *a)
{
	return netaddr_topic_parse(l->p, l->len, a) == 0;
}

/* The legacy inbox level keeps MQTT_VPN's dotted quad (topic.h). */
static bool legacy_level_address(const struct level *l, struct netaddr *a)
{
	return netaddr_parse(l->p, l->len, a) == 0;
}

/* A last level that stands for "any sender": '+', '#' or one canonical address. */
static bool any_sender_level(const struct level *l)
{
	struct netaddr a;

	return level_is(l, "+") || level_is(l, "#") || level_address(l, &a);
}

/* The filter levels after the prefix. Allowed (for a usable subject):
 *   <own>/+  <own>/#  <own>/<addr>        data inbox (own: SAN, route or broadcast)
 *   <own>                                 legacy inbox, when legacy is on
 *   kx/<own>/+  kx/<own>/#  kx/<own>/<addr>
 *   cert/+  cert/#  cert/<addr>           the directory
 *   revocation                            the VPN revocation list
 * Everything else (a wildcard where <dst> stands, kx/+, '#' alone, deeper levels) could match
 * another node's inbox or matches nothing valid: denied. */
static bool inside_filter_ok(const struct acl_config *cfg, const struct acl_subject *s,
			     const char *f, size_t len, size_t pos, bool done)
{
	struct level l[REST_MAX_LEVELS];
	struct netaddr a;
	size_t n = 0;

	if (done || !usable(s))
		return false;
	while (next_level(f, len, &pos, &done, &l[n])) {
		if (++n == REST_MAX_LEVELS)
			return false;
	}
	if (level_is(&l[0], "kx"))
		return n == 3 && level_address(&l[1], &a) && acl_owns(s, &a) &&
		       any_sender_level(&l[2]);
	if (level_is(&l[0], "cert"))
		return n == 2 && any_sender_level(&l[1]);
	if (n == 1 && level_is(&l[0], "revocation"))
		return true;
	if (n == 1)
		return cfg->legacy && legacy_level_address(&l[0], &a) && may_read_inbox(s, &a);
	return n == 2 && level_address(&l[0], &a) && may_read_inbox(s, &a) &&
	       any_sender_level(&l[1]);
}

enum acl_verdict acl_subscribe(const struct acl_config *cfg, const struct acl_subject *s,
			       const char *filter, size_t len)
{
	size_t pos;
	bool done;

	/* A shared subscription is checked on the filter it carries: "$share/<group>/<filter>". */
	if (len > strlen(SHARE_PREFIX) && memcmp(filter, SHARE_PREFIX, strlen(SHARE_PREFIX)) == 0) {
		const char *group = filter + strlen(SHARE_PREFIX);
		const char *slash = memchr(group, '/', len - strlen(SHARE_PREFIX));

		if (slash == NULL || slash == group)
			return ACL_DENY;
		len -= (size_t)(slash + 1 - filter);
		filter = slash + 1;
	}
	/* '$' topics are never matched by a leading wildcard, so only a literal $SYS/broker/mqttip
	 * filter reaches the metrics; broader $SYS filters are left to the READ check. */
	if (match_prefix(MQTTIP_SYS_PREFIX, SYS_PREFIX_LEN, filter, len, &pos, &done) == PM_EXACT)
		return allow_if(usable(s) && s->rights->admin);
	switch (match_prefix(cfg->prefix, cfg->prefix_len, filter, len, &pos, &done)) {
	case PM_OUTSIDE:
		return outside(cfg);
	case PM_EXACT:
		return allow_if(inside_filter_ok(cfg, s, filter, len, pos, done));
	case PM_WILDCARD:
		if (!inside_filter_ok(cfg, s, filter, len, pos, done))
			return ACL_DENY;
		return cfg->outside_deny ? ACL_DENY : ACL_ALLOW;
	case PM_ALL:
	default:
		return ACL_DENY;
	}
}

enum acl_verdict acl_unsubscribe(const struct acl_config *cfg, const char *filter, size_t len)
{
	size_t pos;
	bool done;

	if (match_prefix(MQTTIP_SYS_PREFIX, SYS_PREFIX_LEN, filter, len, &pos, &done) !=
		PM_OUTSIDE ||
	    match_prefix(cfg->prefix, cfg->prefix_len, filter, len, &pos, &done) != PM_OUTSIDE)
		return ACL_ALLOW;
	return outside(cfg);
}

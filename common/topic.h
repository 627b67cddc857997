/* topic.h - the topic scheme of DESIGN.md, built and parsed (prefix configurable, default
 * "mqttip"):
 *   <p>/<dst>/<src>      transport messages          TOPIC_DATA
 *   <p>/kx/<dst>/<src>   handshake messages          TOPIC_KX
 *   <p>/cert/<addr>      retained VPN certificate    TOPIC_CERT (address in .dst)
 *   <p>/<dst>            legacy MQTT_VPN packets     TOPIC_LEGACY
 *   <p>/revocation       retained VPN revocation list TOPIC_REVOCATION
 * Addresses must be canonical (netaddr.h): in DATA, KX and CERT topics and the inbox filters in
 * the topic spelling (netaddr_topic_format: "10-0-1-2", IPv6 as RFC 5952); in the LEGACY topic
 * in MQTT_VPN's dotted quad (netaddr_format). The other spelling in either place is INVALID. A
 * topic under the prefix that matches none of these is TOPIC_INVALID; a topic outside the prefix is
 * TOPIC_OUTSIDE. Parsing never allocates, reads only topic[0..len) and is O(length). Also
 * TOPIC_INVALID (see topic.c and PROTOCOL.md): the topic equal to the prefix, a filter whose first
 * level is "+" or "#", any '+', '#' or NUL under the prefix, DATA/KX with <dst> and <src> of
 * different families, IPv4-mapped IPv6 addresses, and every topic when the prefix is unusable
 * (empty, over TOPIC_PREFIX_MAX, or holding '/', '+',
 * '#'). */
#ifndef MQTTIP_TOPIC_H
#define MQTTIP_TOPIC_H

#include "netaddr.h"

#define TOPIC_MAX	 160 /* longest topic we build, with the NUL, for a prefix of up to 64 bytes */
#define TOPIC_PREFIX_MAX 64

enum topic_kind {
	TOPIC_OUTSIDE = 0,
	TOPIC_INVALID,
	TOPIC_DATA,
	TOPIC_KX,
	TOPIC_CERT,
	TOPIC_LEGACY,
	TOPIC_REVOCATION,
};

struct topic {
	enum topic_kind kind;
	struct netaddr dst; /* TOPIC_DATA, TOPIC_KX, TOPIC_LEGACY; the owner for TOPIC_CERT */
	struct netaddr src; /* TOPIC_DATA, TOPIC_KX */
};

/* Classifies topic[0..len) under prefix; fills out and returns its kind. */
enum topic_kind topic_parse(const char *prefix, const char *topic, size_t len, struct topic *out);

/* Builders write a NUL-terminated topic; return its length, or 0 if cap is too small or the
 * topic would not parse back (unusable prefix, mixed families, IPv4-mapped or bogus address). */
size_t topic_data(char *buf, size_t cap, const char *prefix, const struct netaddr *dst,
		  const struct netaddr *src);
size_t topic_kx(char *buf, size_t cap, const char *prefix, const struct netaddr *dst,
		const struct netaddr *src);
size_t topic_cert(char *buf, size_t cap, const char *prefix, const struct netaddr *owner);
size_t topic_legacy(char *buf, size_t cap, const char *prefix, const struct netaddr *dst);
/* Subscription filters a node uses for its own inboxes: "<p>/<own>/+" and "<p>/kx/<own>/+". */
size_t topic_data_inbox(char *buf, size_t cap, const char *prefix, const struct netaddr *own);
size_t topic_kx_inbox(char *buf, size_t cap, const char *prefix, const struct netaddr *own);
/* The revocation list's topic: "<p>/revocation". */
size_t topic_revocation(char *buf, size_t cap, const char *prefix);
/* The whole directory: "<p>/cert/+". */
size_t topic_cert_filter(char *buf, size_t cap, const char *prefix);

#endif

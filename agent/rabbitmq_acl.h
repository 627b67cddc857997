/* rabbitmq_acl.h - the plugin's topic rules (plugin/acl.h) for one node, written as RabbitMQ
 * permissions (docs/SCALING.md "RabbitMQ cluster"). RabbitMQ's MQTT plugin publishes to the topic
 * exchange amq.topic with the MQTT topic as routing key, '/' turned into '.' and a filter's '+'
 * into '*'; it checks a user's topic permission regexes against that routing key: the write
 * pattern at every PUBLISH, the read pattern once at SUBSCRIBE (queue.bind), against the filter.
 * It also needs vhost permissions on the client's own subscription queues
 * ("mqtt-subscription-<client id>qos0|qos1"; the agent's client id is its node name).
 *
 * Rules encoded (routing keys of protocol-2 topics, prefix P, addresses in the topic spelling):
 *   topic write: P.<dst>.<src>, P.kx.<dst>.<src>   <src> = an own address or inside a route
 *                P.cert.<a>                          <a> = an own address
 *                P.revocation                        any node (the list is CA-signed)
 *   topic read:  P.<dst>.X  (<dst> own, routed or 255-255-255-255), P.kx.<dst>.X (own, routed),
 *                P.cert.X   with X = '*', '#' or one address, P.revocation: the subscription
 * filters the plugin allows (acl_subscribe), legacy topics excepted (RabbitMQ splits them). What
 * RabbitMQ cannot be told (documented in SCALING.md): the retain flag (the plugin refuses retained
 * data), the canonical form of <dst> (any level of address characters passes), admin and $SYS (no
 * metrics topic there), revocation on reload (delete the user instead). IPv6 routes have no pattern
 * here: their canonical text is not a fixed prefix (zero compression), so a node with one gets an
 * error, not a wider grant.
 *
 * Patterns use only ^ $ | ( ) [ ] ? and escaped '.', read alike by Erlang's re (PCRE) and POSIX
 * ERE, so tests can check them with regcomp. */
#ifndef MQTTIP_AGENT_RABBITMQ_ACL_H
#define MQTTIP_AGENT_RABBITMQ_ACL_H

#include <stddef.h>

#include "cert.h"

#define RABBITMQ_PATTERN_MAX 8192

struct rabbitmq_node {
	const char *name; /* certificate CN = RabbitMQ user = MQTT client id */
	const struct cert_prefix *addrs;
	size_t n_addrs;
	const struct cert_prefix *routes; /* IPv4 only */
	size_t n_routes;
};

struct rabbitmq_perms {
	char configure[256], write[256], read[256]; /* vhost permissions (queues, exchange) */
	char topic_write[RABBITMQ_PATTERN_MAX];	    /* on exchange amq.topic */
	char topic_read[RABBITMQ_PATTERN_MAX];
};

/* Fills out for node under prefix (the plugin's plugin_opt_prefix). Returns 0, or -1 with the
 * reason in err: a prefix or name RabbitMQ would split ('.'), an IPv6 route, a pattern too long. */
int rabbitmq_permissions(const char *prefix, const struct rabbitmq_node *node,
			 struct rabbitmq_perms *out, char *err, size_t errlen);

/* The routing key RabbitMQ's MQTT plugin makes of an MQTT topic or filter: '/' -> '.',
 * '+' -> '*' ('#' stays). Writes a NUL; returns 0, or -1 if cap is too small. */
int rabbitmq_routing_key(const char *topic, char *out, size_t cap);

#endif

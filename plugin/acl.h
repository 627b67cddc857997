/* acl.h - the plugin's access decisions, pure functions of (options, subject, topic).
 * Under the prefix (DESIGN.md topic table; addresses spelt as topic.h says: "10-0-1-2" in secure
 * topics and filters, MQTT_VPN's "10.0.1.2" in the legacy topic):
 *   WRITE <p>/<dst>/<src>, <p>/kx/<dst>/<src>: the subject owns <src> (SAN address or policy
 *         route); not retained.
 *   WRITE <p>/cert/<a>: <a> is one of the subject's SAN addresses, or inside a prefix the policy
 *         bridges to it ("bridge" rule); retained allowed.
 *   WRITE <p>/<dst>: legacy on and the subject has the policy's legacy right; not retained.
 *   READ  data/legacy: the subject owns <dst>, or <dst> is 255.255.255.255; kx: owns <dst>;
 *         cert: any subject with an identity. Legacy topics only when legacy is on.
 *   SUBSCRIBE: only filters every match of which the subject may READ (acl.c lists them).
 *   UNSUBSCRIBE: always allowed.
 * $SYS/broker/mqttip[/...]: READ and SUBSCRIBE for admins only, WRITE never.
 * A subject without identity, or revoked, gets nothing under the prefix. Outside the prefix:
 * ACL_DEFER, or ACL_DENY when outside_deny. No allocation; O(topic length). */
#ifndef MQTTIP_PLUGIN_ACL_H
#define MQTTIP_PLUGIN_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "identity.h"
#include "policy.h"
#include "topic.h"

enum acl_verdict {
	ACL_ALLOW,
	ACL_DENY,
	ACL_DEFER,
};

struct acl_config {
	const char *prefix;
	size_t prefix_len;
	bool legacy;
	bool outside_deny;
};

struct acl_subject {
	const struct identity *id;	    /* NULL: no certificate or no usable identity */
	const struct policy_rights *rights; /* never NULL when id is set */
	bool revoked; /* policy deny, superseded by a newer session, or lost rights on reload */
};

enum acl_verdict acl_write(const struct acl_config *cfg, const struct acl_subject *s,
			   const char *topic, size_t len, bool retain);
enum acl_verdict acl_read(const struct acl_config *cfg, const struct acl_subject *s,
			  const char *topic, size_t len);
enum acl_verdict acl_subscribe(const struct acl_config *cfg, const struct acl_subject *s,
			       const char *filter, size_t len);
enum acl_verdict acl_unsubscribe(const struct acl_config *cfg, const char *filter, size_t len);

/* True when the subject's certificate or policy routes cover a. */
bool acl_owns(const struct acl_subject *s, const struct netaddr *a);

#endif

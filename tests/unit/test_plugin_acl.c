/* test_plugin_acl - the plugin's pure decisions (acl.c) and policy parser (policy.c), with
 * identities built by hand: every row of the ACL table in acl.h, the subscription filters that
 * could reach another node's inbox, and the policy file grammar. */
#include <string.h>

#include "acl.h"
#include "check.h"
#include "policy.h"

static struct identity id_a;
static struct policy_rights rights_a, rights_gw;
static struct identity id_gw, id_nosan;
static const struct acl_config cfg = {"mqttip", 6, true, false};
static const struct acl_config cfg_strict = {"mqttip", 6, false, true};

static void addr(struct netaddr *a, const char *text)
{
	CHECK(netaddr_parse(text, strlen(text), a) == 0);
}

static enum acl_verdict rd(const struct acl_subject *s, const char *t)
{
	return acl_read(&cfg, s, t, strlen(t));
}

static enum acl_verdict wr(const struct acl_subject *s, const char *t, bool retain)
{
	return acl_write(&cfg, s, t, strlen(t), retain);
}

static enum acl_verdict sub(const struct acl_config *c, const struct acl_subject *s, const char *f)
{
	return acl_subscribe(c, s, f, strlen(f));
}

int main(void)
{
	struct acl_subject a = {&id_a, &rights_a, false}, gw = {&id_gw, &rights_gw, false};
	struct acl_subject nosan = {&id_nosan, &rights_a, false}, none = {NULL, NULL, false};
	struct acl_subject revoked = {&id_a, &rights_a, true};
	struct policy p;
	struct policy_rights r;
	char err[128];
	const char *text = "# comment\n\nadmin ops\nroute gw1 192.168.5.0/24 # gateway\n"
			   "legacy node-a\r\ndeny old\nroute gw1 fd00:5::/64\n";

	strcpy(id_a.name, "node-a");
	id_a.naddrs = 2;
	addr(&id_a.addrs[0], "10.9.0.1");
	addr(&id_a.addrs[1], "fd00::1");
	rights_a.legacy = true;
	strcpy(id_gw.name, "gw1");
	id_gw.naddrs = 1;
	addr(&id_gw.addrs[0], "10.9.0.5");
	rights_gw.nroutes = 1;
	addr(&rights_gw.routes[0].prefix, "192.168.5.0");
	rights_gw.routes[0].len = 24;
	strcpy(id_nosan.name, "nosan");

	/* WRITE */
	CHECK_EQ_INT(wr(&a, "mqttip/10-9-0-2/10-9-0-1", false), ACL_ALLOW);
	CHECK_EQ_INT(wr(&a, "mqttip/fd00::2/fd00::1", false), ACL_ALLOW);
	CHECK_EQ_INT(wr(&a, "mqttip/10-9-0-2/10-9-0-3", false), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "mqttip/10-9-0-2/10-9-0-1", true), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "mqttip/kx/10-9-0-2/10-9-0-1", false), ACL_ALLOW);
	CHECK_EQ_INT(wr(&a, "mqttip/kx/10-9-0-2/10-9-0-3", false), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "mqttip/cert/10-9-0-1", true), ACL_ALLOW);
	CHECK_EQ_INT(wr(&a, "mqttip/cert/10-9-0-2", true), ACL_DENY);
	CHECK_EQ_INT(wr(&gw, "mqttip/cert/192-168-5-1", true), ACL_DENY);
	CHECK_EQ_INT(wr(&gw, "mqttip/10-9-0-1/192-168-5-1", false), ACL_ALLOW);
	CHECK_EQ_INT(wr(&a, "mqttip/10.9.0.2", false), ACL_ALLOW);
	CHECK_EQ_INT(wr(&gw, "mqttip/10.9.0.2", false), ACL_DENY);
	/* the revocation list: CA-signed, so any identified node may hand it on */
	CHECK_EQ_INT(wr(&a, "mqttip/revocation", true), ACL_ALLOW);
	CHECK_EQ_INT(wr(&revoked, "mqttip/revocation", true), ACL_DENY);
	CHECK_EQ_INT(wr(&none, "mqttip/revocation", true), ACL_DENY);
	CHECK_EQ_INT(rd(&gw, "mqttip/revocation"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/revocation"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/revocation/+"), ACL_DENY);
	CHECK_EQ_INT(acl_write(&cfg_strict, &a, "mqttip/10.9.0.2", 15, false), ACL_DENY);
	CHECK_EQ_INT(wr(&none, "mqttip/10-9-0-2/10-9-0-1", false), ACL_DENY);
	CHECK_EQ_INT(wr(&revoked, "mqttip/10-9-0-2/10-9-0-1", false), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "$SYS/broker/mqttip/metrics", false), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "other/topic", false), ACL_DEFER);
	CHECK_EQ_INT(acl_write(&cfg_strict, &a, "other/topic", 11, false), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "mqttip/10-9-0-2/10-9-0-1/x", false), ACL_DENY);
	/* protocol 1's dotted spelling in secure topics, the dashed one in legacy: refused */
	CHECK_EQ_INT(wr(&a, "mqttip/10.9.0.2/10.9.0.1", false), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "mqttip/cert/10.9.0.1", true), ACL_DENY);
	CHECK_EQ_INT(wr(&a, "mqttip/10-9-0-2", false), ACL_DENY);

	/* READ */
	CHECK_EQ_INT(rd(&a, "mqttip/10-9-0-1/10-9-0-2"), ACL_ALLOW);
	CHECK_EQ_INT(rd(&a, "mqttip/10-9-0-2/10-9-0-1"), ACL_DENY);
	CHECK_EQ_INT(rd(&a, "mqttip/255-255-255-255/10-9-0-2"), ACL_ALLOW);
	CHECK_EQ_INT(rd(&a, "mqttip/kx/10-9-0-1/10-9-0-2"), ACL_ALLOW);
	CHECK_EQ_INT(rd(&a, "mqttip/kx/10-9-0-2/10-9-0-1"), ACL_DENY);
	CHECK_EQ_INT(rd(&nosan, "mqttip/cert/10-9-0-2"), ACL_ALLOW);
	CHECK_EQ_INT(rd(&none, "mqttip/cert/10-9-0-2"), ACL_DENY);
	CHECK_EQ_INT(rd(&gw, "mqttip/192-168-5-9/10-9-0-1"), ACL_ALLOW);
	CHECK_EQ_INT(rd(&gw, "mqttip/192-168-6-9/10-9-0-1"), ACL_DENY);
	CHECK_EQ_INT(rd(&a, "$SYS/broker/mqttip/metrics"), ACL_DENY);
	rights_a.admin = true;
	CHECK_EQ_INT(rd(&a, "$SYS/broker/mqttip/metrics"), ACL_ALLOW);
	CHECK_EQ_INT(rd(&revoked, "$SYS/broker/mqttip/metrics"), ACL_DENY);
	rights_a.admin = false;
	CHECK_EQ_INT(rd(&a, "$SYS/broker/load"), ACL_DEFER);

	/* SUBSCRIBE: own inboxes and the directory, nothing that reaches another inbox */
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10-9-0-1/+"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10-9-0-1/#"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10-9-0-1/10-9-0-7"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/kx/10-9-0-1/+"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/cert/+"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10.9.0.1"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg_strict, &a, "mqttip/10.9.0.1"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "$share/grp/mqttip/10-9-0-1/+"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg, &a, "$share/grp/mqttip/10-9-0-2/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "$share//mqttip/10-9-0-1/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10-9-0-2/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/#"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/+/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/+/10-9-0-1"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/kx/+/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "#"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "+/+/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "+/10-9-0-1/+"), ACL_ALLOW);
	CHECK_EQ_INT(sub(&cfg_strict, &a, "+/10-9-0-1/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10-9-0-1/+/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10.9.0.1/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/kx/10.9.0.1/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "mqttip/10-9-0-1"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &none, "mqttip/cert/+"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "$SYS/broker/mqttip/#"), ACL_DENY);
	CHECK_EQ_INT(sub(&cfg, &a, "$SYS/#"), ACL_DEFER);
	CHECK_EQ_INT(sub(&cfg, &a, "other/#"), ACL_DEFER);
	CHECK_EQ_INT(sub(&cfg, &gw, "mqttip/192-168-5-3/+"), ACL_ALLOW);
	CHECK_EQ_INT(acl_unsubscribe(&cfg, "mqttip/#", 8), ACL_ALLOW);

	/* Policy grammar */
	CHECK(policy_parse(text, strlen(text), &p, err, sizeof(err)) == 0);
	CHECK_EQ_INT((int)p.count, 4);
	policy_lookup(&p, "gw1", &r);
	CHECK_EQ_INT(r.nroutes, 2);
	CHECK_EQ_INT(r.routes[0].len, 24);
	CHECK_EQ_INT(r.routes[1].len, 64);
	policy_lookup(&p, "ops", &r);
	CHECK(r.admin && !r.deny && !r.legacy);
	policy_lookup(&p, "node-a", &r);
	CHECK(r.legacy && !r.admin);
	policy_lookup(&p, "old", &r);
	CHECK(r.deny);
	policy_lookup(&p, "unknown", &r);
	CHECK(!r.deny && !r.admin && !r.legacy && r.nroutes == 0);
	{
		struct policy_rights before = r, after = r;

		before.admin = true;
		CHECK(policy_rights_lost(&before, &after));
		CHECK(!policy_rights_lost(&after, &before));
	}
	policy_free(&p);
	CHECK(policy_parse("deny\n", 5, &p, err, sizeof(err)) != 0);
	CHECK(strstr(err, "line 1") != NULL);
	CHECK(policy_parse("admin a\nallow b\n", 16, &p, err, sizeof(err)) != 0);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK(policy_parse("route g 10.0.0.0/33\n", 20, &p, err, sizeof(err)) != 0);
	CHECK(policy_parse("route g 010.0.0.0/8\n", 20, &p, err, sizeof(err)) != 0);
	CHECK(policy_parse("admin a b\n", 10, &p, err, sizeof(err)) != 0);
	CHECK(policy_parse("admin a\0b\n", 10, &p, err, sizeof(err)) != 0);
	CHECK(policy_parse("bridge b\n", 9, &p, err, sizeof(err)) != 0);

	/* A bridge (policy "bridge"): speaks for the other broker's nodes inside its prefix, their
	 * directory entries included, and for nothing outside it; a route does not cover entries.
	 */
	{
		const char *btext = "bridge br-a 10.9.1.0/24\nbridge br-a fd00:1::/64\n";
		struct identity id_br = {0};
		struct policy_rights rights_br;
		struct acl_subject br = {&id_br, &rights_br, false};

		strcpy(id_br.name, "br-a");
		CHECK(policy_parse(btext, strlen(btext), &p, err, sizeof(err)) == 0);
		policy_lookup(&p, "br-a", &rights_br);
		CHECK(rights_br.nroutes == 2 && rights_br.routes[0].bridge);
		CHECK_EQ_INT(wr(&br, "mqttip/10-9-0-2/10-9-1-7", false), ACL_ALLOW);
		CHECK_EQ_INT(wr(&br, "mqttip/kx/fd00::2/fd00:1::7", false), ACL_ALLOW);
		CHECK_EQ_INT(wr(&br, "mqttip/cert/10-9-1-7", true), ACL_ALLOW);
		CHECK_EQ_INT(wr(&br, "mqttip/cert/fd00:1::7", true), ACL_ALLOW);
		CHECK_EQ_INT(wr(&br, "mqttip/10-9-1-7/10-9-0-2", false), ACL_DENY);
		CHECK_EQ_INT(wr(&br, "mqttip/cert/10-9-0-2", true), ACL_DENY);
		CHECK_EQ_INT(sub(&cfg, &br, "mqttip/10-9-1-7/+"), ACL_ALLOW);
		CHECK_EQ_INT(sub(&cfg, &br, "mqttip/kx/10-9-1-7/+"), ACL_ALLOW);
		CHECK_EQ_INT(sub(&cfg, &br, "mqttip/10-9-0-2/+"), ACL_DENY);
		CHECK_EQ_INT(rd(&br, "mqttip/10-9-1-7/10-9-0-2"), ACL_ALLOW);
		CHECK_EQ_INT(rd(&br, "mqttip/10-9-0-7/10-9-0-2"), ACL_DENY);
		{
			struct policy_rights as_route = rights_br;

			as_route.routes[0].bridge = false;
			CHECK(policy_rights_lost(&rights_br, &as_route));
			br.rights = &as_route;
			CHECK_EQ_INT(wr(&br, "mqttip/cert/10-9-1-7", true), ACL_DENY);
			CHECK_EQ_INT(wr(&br, "mqttip/10-9-0-2/10-9-1-7", false), ACL_ALLOW);
		}
		policy_free(&p);
	}
	return check_done();
}

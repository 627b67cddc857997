/* test_agent_config.c - the settings of `mqttip up` (agent/config.c) and the broker URL parser
 * (agent/broker.c): defaults, every value kind with its limits, the file format, flags over the
 * file whatever their order, and the required-settings check. Expected values are written by hand
 * (e.g. 255.255.240.0 = /20). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "check.h"
#include "config.h"

static char err[512];

static int set(struct config *c, const char *k, const char *v)
{
	return config_set(c, k, v, err, sizeof(err));
}

static void test_defaults_and_values(void)
{
	struct config c;

	config_defaults(&c);
	CHECK(!strcmp(c.ifname, "mqttip0"));
	CHECK(!strcmp(c.prefix, "mqttip"));
	CHECK_EQ_INT(c.mtu, 1400);
	CHECK_EQ_INT(c.prefix4, 24);
	CHECK_EQ_INT(c.prefix6, 64);
	CHECK_EQ_INT(c.rekey_after_ms, 120000);
	CHECK_EQ_INT(c.reject_after_ms, 180000);

	CHECK_EQ_INT(set(&c, "netmask", "255.255.240.0"), 0);
	CHECK_EQ_INT(c.prefix4, 20);
	CHECK_EQ_INT(set(&c, "netmask", "255.255.255.255"), 0);
	CHECK_EQ_INT(c.prefix4, 32);
	CHECK_EQ_INT(set(&c, "netmask", "0.0.0.0"), 0);
	CHECK_EQ_INT(c.prefix4, 0);
	CHECK(set(&c, "netmask", "255.0.255.0") < 0); /* not contiguous */
	CHECK(set(&c, "netmask", "fe80::1") < 0);

	CHECK_EQ_INT(set(&c, "address", "10.0.1.7"), 0);
	CHECK(c.has_addr4 && c.addr4.family == 4 && c.addr4.bytes[3] == 7);
	CHECK(set(&c, "address", "10.0.1.07") < 0); /* not canonical */
	CHECK(set(&c, "address", "fd00::1") < 0);
	CHECK_EQ_INT(set(&c, "address6", "fd00:1::2"), 0);
	CHECK(c.has_addr6 && c.addr6.bytes[15] == 2);
	CHECK(set(&c, "address6", "FD00::1") < 0);
	CHECK(set(&c, "prefix6", "129") < 0);

	CHECK_EQ_INT(set(&c, "mtu", "1500"), 0);
	CHECK(set(&c, "mtu", "1501") < 0);
	CHECK(set(&c, "mtu", "575") < 0);
	CHECK(set(&c, "mtu", "14x") < 0);
	CHECK(set(&c, "mtu", "-1") < 0);
	CHECK_EQ_INT(set(&c, "rekey-after", "30"), 0);
	CHECK_EQ_INT(c.rekey_after_ms, 30000);
	CHECK_EQ_INT(set(&c, "debug", "yes"), 0);
	CHECK(c.debug);
	CHECK_EQ_INT(set(&c, "debug", "off"), 0);
	CHECK(!c.debug);
	CHECK(set(&c, "debug", "maybe") < 0);
	CHECK(set(&c, "no-such-key", "1") < 0);
	CHECK(strstr(err, "no-such-key") != NULL);
	CHECK_EQ_INT(set(&c, "node_cert", "/x"), 0); /* '_' = '-' */
	CHECK(!strcmp(c.node_cert, "/x"));
	CHECK_EQ_INT(set(&c, "ca_file", "/ca"), 0); /* first-draft alias */
	CHECK(!strcmp(c.cafile, "/ca"));
	CHECK(set(&c, "interface", "a-name-longer-than-15") < 0);
}

static void test_file_and_flags(void)
{
	char path[] = "/tmp/test_agent_config.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct config c;
	char *argv_a[] = {"up", "-m", "255.255.0.0", "-c", path, "--mtu", "1300", NULL};
	char *argv_b[] = {"up", "--bogus", NULL};
	char *argv_c[] = {"up", "-c", path, "-d", NULL};

	fputs("# comment\n\n  broker = mqtts://h:1 \n"
	      "interface\ttun7\n"
	      "netmask=255.255.255.128\n"
	      "mtu = 1200\n"
	      "password = a=b c\n",
	      f);
	fclose(f);

	config_defaults(&c);
	CHECK_EQ_INT(config_parse_args(&c, 7, argv_a, err, sizeof(err)), CONFIG_OK);
	CHECK_EQ_INT(c.n_brokers, 1);
	CHECK(!strcmp(c.broker[0], "mqtts://h:1"));
	CHECK(!strcmp(c.ifname, "tun7"));
	CHECK(!strcmp(c.password, "a=b c"));
	CHECK_EQ_INT(c.mtu, 1300);   /* flag after -c wins */
	CHECK_EQ_INT(c.prefix4, 16); /* flag before -c wins too */

	config_defaults(&c);
	CHECK_EQ_INT(config_parse_args(&c, 2, argv_b, err, sizeof(err)), CONFIG_USAGE);
	CHECK(strstr(err, "--bogus") != NULL);

	config_defaults(&c);
	CHECK_EQ_INT(config_parse_args(&c, 4, argv_c, err, sizeof(err)), CONFIG_OK);
	CHECK(c.debug);
	CHECK_EQ_INT(c.mtu, 1200);
	CHECK(config_finish(&c, err, sizeof(err)) < 0); /* no credentials */
	CHECK(strstr(err, "credentials") != NULL);
	CHECK_EQ_INT(set(&c, "legacy-psk", "pw"), 0);
	CHECK(config_finish(&c, err, sizeof(err)) < 0); /* legacy needs -a */
	CHECK_EQ_INT(set(&c, "address", "10.0.0.1"), 0);
	CHECK_EQ_INT(config_finish(&c, err, sizeof(err)), 0);
	CHECK(!strcmp(c.status_socket, "/run/mqttip/tun7.sock"));

	f = fopen(path, "w");
	fputs("mtu = 1200\nbogus line\n", f);
	fclose(f);
	config_defaults(&c);
	CHECK(config_load_file(&c, path, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":2:") != NULL);
	unlink(path);
	config_defaults(&c);
	CHECK(config_load_file(&c, path, err, sizeof(err)) < 0);
}

/* A '#' after a blank starts a comment at the end of a line too (issue 17: it used to become part
 * of the value, and "broker = mqtts://h:8883  # ours" failed as a bad port); a '#' inside a value
 * stays; a comment with no value before it is an error naming the key. */
static void test_trailing_comments(void)
{
	char path[] = "/tmp/test_agent_config.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct config c;
	char host[64];
	bool tls;
	int port;

	fputs("broker = mqtts://h:8883   # the broker\n"
	      "mtu = 1300\t# why\n"
	      "password = a#b\n"
	      "debug = true # packet log\n",
	      f);
	fclose(f);
	config_defaults(&c);
	CHECK_EQ_INT(config_load_file(&c, path, err, sizeof(err)), 0);
	CHECK(!strcmp(c.broker[0], "mqtts://h:8883"));
	CHECK_EQ_INT(
	    broker_parse_url(c.broker[0], &tls, host, sizeof(host), &port, err, sizeof(err)), 0);
	CHECK(tls && port == 8883 && !strcmp(host, "h"));
	CHECK_EQ_INT(c.mtu, 1300);
	CHECK(!strcmp(c.password, "a#b"));
	CHECK(c.debug);

	f = fopen(path, "w");
	fputs("mtu = 1300\nbundle =   # later\n", f);
	fclose(f);
	config_defaults(&c);
	CHECK(config_load_file(&c, path, err, sizeof(err)) < 0);
	CHECK(strstr(err, ":2: bundle: no value before the comment") != NULL);
	unlink(path);
}

static void test_broker_url(void)
{
	char host[64];
	bool tls;
	int port;

	CHECK_EQ_INT(broker_parse_url("mqtts://broker.example", &tls, host, sizeof(host), &port,
				      err, sizeof(err)),
		     0);
	CHECK(tls && port == 8883 && !strcmp(host, "broker.example"));
	CHECK_EQ_INT(broker_parse_url("tcp://10.0.0.1:1999", &tls, host, sizeof(host), &port, err,
				      sizeof(err)),
		     0);
	CHECK(!tls && port == 1999 && !strcmp(host, "10.0.0.1"));
	CHECK_EQ_INT(broker_parse_url("ssl://[fd00::1]:8884", &tls, host, sizeof(host), &port, err,
				      sizeof(err)),
		     0);
	CHECK(tls && port == 8884 && !strcmp(host, "fd00::1"));
	CHECK_EQ_INT(
	    broker_parse_url("mqtt://h", &tls, host, sizeof(host), &port, err, sizeof(err)), 0);
	CHECK(!tls && port == 1883);
	CHECK(broker_parse_url("http://h", &tls, host, sizeof(host), &port, err, sizeof(err)) < 0);
	CHECK(broker_parse_url("mqtts://h:0", &tls, host, sizeof(host), &port, err, sizeof(err)) <
	      0);
	CHECK(broker_parse_url("mqtts://h:70000", &tls, host, sizeof(host), &port, err,
			       sizeof(err)) < 0);
	CHECK(broker_parse_url("mqtts://:1", &tls, host, sizeof(host), &port, err, sizeof(err)) <
	      0);
	CHECK(broker_parse_url("mqtts://[::1", &tls, host, sizeof(host), &port, err, sizeof(err)) <
	      0);
}

/* Several brokers: `broker` in the file takes a space-separated list; the first -b on the command
 * line replaces it and further -b add to it. */
static void test_brokers(void)
{
	char path[] = "/tmp/test_agent_config.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct config c;
	char *argv_file[] = {"up", "-c", path, NULL};
	char *argv_flags[] = {"up", "-c", path, "-b", "tcp://x:1", "--broker", "mqtts://y", NULL};

	fputs("broker = mqtts://a:8883  mqtts://b:8883\tmqtts://[fd00::1]:8883\n"
	      "legacy-psk = pw\naddress = 10.0.0.1\n",
	      f);
	fclose(f);
	config_defaults(&c);
	CHECK_EQ_INT(config_parse_args(&c, 3, argv_file, err, sizeof(err)), CONFIG_OK);
	CHECK_EQ_INT(c.n_brokers, 3);
	CHECK(!strcmp(c.broker[1], "mqtts://b:8883"));
	CHECK(!strcmp(c.broker[2], "mqtts://[fd00::1]:8883"));
	CHECK_EQ_INT(config_finish(&c, err, sizeof(err)), 0);

	config_defaults(&c);
	CHECK_EQ_INT(config_parse_args(&c, 7, argv_flags, err, sizeof(err)), CONFIG_OK);
	CHECK_EQ_INT(c.n_brokers, 2);
	CHECK(!strcmp(c.broker[0], "tcp://x:1"));
	CHECK(!strcmp(c.broker[1], "mqtts://y"));

	CHECK(set(&c, "broker", "   ") < 0);
	CHECK(set(&c, "broker", "a b c d e f g h i") < 0); /* nine */
	CHECK(strstr(err, "at most 8") != NULL);
	CHECK_EQ_INT(set(&c, "broker", "mqtts://ok http://bad"), 0);
	CHECK(config_finish(&c, err, sizeof(err)) < 0); /* each URL is checked */
	CHECK(strstr(err, "http://bad") != NULL);
	unlink(path);
}

/* max-message, connect-timeout, "none" addresses and the checks between settings. */
static void test_limits_and_families(void)
{
	struct config c;

	config_defaults(&c);
	CHECK_EQ_INT(c.max_message, 16416);
	CHECK_EQ_INT(c.connect_timeout_ms, 10000);
	CHECK_EQ_INT(set(&c, "broker", "mqtts://h"), 0);
	CHECK_EQ_INT(set(&c, "legacy-psk", "pw"), 0);
	CHECK_EQ_INT(set(&c, "address", "10.0.0.1"), 0);
	CHECK_EQ_INT(set(&c, "connect-timeout", "45"), 0);
	CHECK_EQ_INT(c.connect_timeout_ms, 45000);
	CHECK(set(&c, "connect-timeout", "0") < 0);
	CHECK(set(&c, "max-message", "16417") < 0);
	CHECK(set(&c, "max-message", "1023") < 0);
	CHECK_EQ_INT(set(&c, "max-message", "1400"), 0);
	CHECK(config_finish(&c, err, sizeof(err)) < 0); /* below mtu 1400 + 56 */
	CHECK(strstr(err, "max-message") != NULL);
	CHECK_EQ_INT(set(&c, "mtu", "1300"), 0);
	CHECK_EQ_INT(config_finish(&c, err, sizeof(err)), 0);

	CHECK_EQ_INT(set(&c, "address6", "none"), 0);
	CHECK(c.no_addr6 && !c.has_addr6);
	CHECK_EQ_INT(set(&c, "address6", "fd00::1"), 0);
	CHECK(!c.no_addr6 && c.has_addr6);
	CHECK_EQ_INT(set(&c, "address", "none"), 0);
	CHECK(c.no_addr4 && !c.has_addr4);
	CHECK(config_finish(&c, err, sizeof(err)) < 0); /* legacy needs IPv4 */
	CHECK(set(&c, "address", "nine") < 0);
}

/* The example shipped in conf/ must stay a valid config: it is what users copy. */
static void test_shipped_example(void)
{
	struct config c;
	char why[256] = "";
	char *argv[] = {"up", "-c", MQTTIP_EXAMPLE_CONF, NULL};

	config_defaults(&c);
	CHECK_EQ_INT(config_parse_args(&c, 3, argv, why, sizeof(why)), CONFIG_OK);
	if (why[0])
		fprintf(stderr, "%s: %s\n", MQTTIP_EXAMPLE_CONF, why);
	CHECK(!strcmp(c.bundle, "/etc/mqttip/n1/n1.bundle"));
	CHECK(!strcmp(c.ifname, "mqttip0"));
	CHECK_EQ_INT(c.mtu, 1400);
}

int main(void)
{
	test_defaults_and_values();
	test_file_and_flags();
	test_trailing_comments();
	test_broker_url();
	test_brokers();
	test_limits_and_families();
	test_shipped_example();
	return check_done();
}

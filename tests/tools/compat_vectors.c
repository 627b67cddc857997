/* compat_vectors [--password P] FILE - checks captured MQTT_VPN traffic against our decoders.
 * FILE has one message a line, "<topic> <payload hex>" (mosquitto_sub -F '%t %x'). Each topic
 * must be a legacy topic under "mqttip"; with a password the payload is opened with legacy_open,
 * without one it is the raw packet; the packet must parse as IPv4 whose destination is the
 * topic's address and whose total length is the packet's length. Prints one line per failure, then
 * "N passed, N failed"; exits non-zero if any failed or none passed. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "iphdr.h"
#include "legacy.h"
#include "topic.h"

#define MAX_MSG (MQTTIP_MAX_IP_PACKET + MQTTIP_LEGACY_OVERHEAD)

struct checker {
	const uint8_t *key; /* NULL: plaintext captures */
	unsigned passed, failed;
};

static void fail(struct checker *c, unsigned line, const char *why)
{
	printf("line %u: %s\n", line, why);
	c->failed++;
}

static void check_line(struct checker *c, unsigned line, char *text, size_t len)
{
	static uint8_t msg[MAX_MSG], pkt[MQTTIP_MAX_IP_PACKET];
	const uint8_t *packet = msg;
	size_t msg_len = 0, pkt_len;
	char *space = memchr(text, ' ', len);
	struct topic topic;
	struct iphdr_info ip;
	int err;

	if (space == NULL) {
		fail(c, line, "no space between topic and payload");
		return;
	}
	if (topic_parse(MQTTIP_TOPIC_PREFIX, text, (size_t)(space - text), &topic) !=
	    TOPIC_LEGACY) {
		fail(c, line, "topic is not a legacy topic <prefix>/<dst>");
		return;
	}
	if (sodium_hex2bin(msg, sizeof(msg), space + 1, len - (size_t)(space - text) - 1, NULL,
			   &msg_len, NULL) != 0 ||
	    msg_len * 2 != len - (size_t)(space - text) - 1) {
		fail(c, line, "payload is not hex or longer than a legacy message");
		return;
	}
	pkt_len = msg_len;
	if (c->key != NULL) {
		err = legacy_open(c->key, msg, msg_len, pkt, sizeof(pkt), &pkt_len);
		if (err != LEGACY_OK) {
			printf("line %u: legacy_open: %s\n", line, legacy_strerror(err));
			c->failed++;
			return;
		}
		packet = pkt;
	}
	err = iphdr_parse(packet, pkt_len, &ip);
	if (err != IPHDR_OK) {
		printf("line %u: iphdr_parse: %s\n", line, iphdr_strerror(err));
		c->failed++;
		return;
	}
	if (ip.version != 4) {
		fail(c, line, "packet is not IPv4 (MQTT_VPN tunnels IPv4 only)");
		return;
	}
	if (ip.total_len != pkt_len) {
		fail(c, line, "IPv4 total length differs from the packet's length");
		return;
	}
	if (!netaddr_equal(&ip.dst, &topic.dst)) {
		fail(c, line, "packet destination differs from the topic address");
		return;
	}
	c->passed++;
}

int main(int argc, char **argv)
{
	uint8_t key[MQTTIP_KEY_LEN];
	struct checker c = {NULL, 0, 0};
	const char *path;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t n;
	unsigned line_no = 0;
	FILE *f;

	if (sodium_init() < 0)
		return 2;
	if (argc == 4 && strcmp(argv[1], "--password") == 0) {
		legacy_key_from_password(argv[2], strlen(argv[2]), key);
		c.key = key;
		path = argv[3];
	} else if (argc == 2) {
		path = argv[1];
	} else {
		fprintf(stderr, "usage: compat_vectors [--password P] FILE\n");
		return 2;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return 2;
	}
	while ((n = getline(&line, &line_cap, f)) >= 0) {
		size_t len = (size_t)n;

		line_no++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		check_line(&c, line_no, line, len);
	}
	free(line);
	fclose(f);
	sodium_memzero(key, sizeof(key));
	printf("%u passed, %u failed\n", c.passed, c.failed);
	return (c.failed != 0 || c.passed == 0) ? 1 : 0;
}

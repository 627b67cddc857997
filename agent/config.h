/* config.h - the settings of `mqttip up`: defaults, a config file of "key = value" lines ('#'
 * starts a comment) and command-line flags, which take the same names as the file's keys (plus
 * MQTT_VPN's short flags). Flags override the file. Every key and its default: docs/AGENT.md.
 * Errors are reported as one line in err; the caller prints it and exits with status 2. */
#ifndef MQTTIP_CONFIG_H
#define MQTTIP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netaddr.h"
#include "topic.h"

#define CONFIG_PATH_MAX	   1024
#define CONFIG_STR_MAX	   256
#define CONFIG_IFNAME_MAX  16 /* IFNAMSIZ */
#define CONFIG_BROKERS_MAX 8  /* = BROKER_MAX_URLS (checked in config.c) */

struct config {
	char ifname[CONFIG_IFNAME_MAX];
	struct netaddr addr4, addr6;
	bool has_addr4, has_addr6, has_prefix4, has_prefix6;
	bool no_addr4, no_addr6; /* "none": the interface gets no address of that family */
	uint8_t prefix4, prefix6;
	char broker[CONFIG_BROKERS_MAX][CONFIG_STR_MAX]; /* tried in turn */
	unsigned n_brokers;
	char client_id[CONFIG_STR_MAX];
	char username[CONFIG_STR_MAX];
	char password[CONFIG_STR_MAX];
	char legacy_psk[CONFIG_STR_MAX];
	char prefix[TOPIC_PREFIX_MAX + 1];
	bool debug;
	bool strict_perms; /* secret files others can read: an error, not a warning */
	bool no_offload;   /* TUN without virtio-net header and offloads (docs/AGENT.md) */
	char bundle[CONFIG_PATH_MAX];
	char cert[CONFIG_PATH_MAX], key[CONFIG_PATH_MAX], cafile[CONFIG_PATH_MAX];
	char node_cert[CONFIG_PATH_MAX], node_key[CONFIG_PATH_MAX], network_ca[CONFIG_PATH_MAX];
	char psk[CONFIG_PATH_MAX];
	char status_socket[CONFIG_PATH_MAX];
	char state_file[CONFIG_PATH_MAX]; /* the newest VPN revocation list, kept across restarts */
	char config_file[CONFIG_PATH_MAX];
	unsigned mtu;
	unsigned max_peers;
	unsigned queue_per_peer;
	unsigned mqtt_keepalive;
	unsigned broadcast_peers;
	unsigned max_message;	/* bytes of MQTT payload */
	unsigned subscribe_qos; /* highest subscription QoS: 1, or 0 (RabbitMQ 3.x clusters) */
	uint64_t rekey_after_ms, reject_after_ms, connect_timeout_ms;
};

enum config_result {
	CONFIG_OK = 0,
	CONFIG_HELP = 1,	/* -h: usage printed, exit 0 */
	CONFIG_ERROR = -1,	/* a bad setting: exit 2 */
	CONFIG_USAGE = -3,	/* the command line does not parse: usage, exit 2 */
	CONFIG_FILE_ERROR = -2, /* the config file cannot be read: exit 1 */
};

void config_defaults(struct config *c);
/* Sets one key (long flag name, without the dashes) from its text value. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t cap);
/* Reads a config file; err names file and line. */
int config_load_file(struct config *c, const char *path, char *err, size_t cap);
/* Parses argv (argv[0] = "up"): -c FILE first, then every flag on top. */
enum config_result config_parse_args(struct config *c, int argc, char **argv, char *err,
				     size_t cap);
/* Fills the values that depend on others (status socket path); checks required keys, the broker
 * URLs and the settings that constrain each other. */
int config_finish(struct config *c, char *err, size_t cap);
/* Bytes of the largest message one packet of the interface MTU makes in the modes in use (secure,
 * and legacy when a legacy key is set): the least max-message and a broker's limit may allow. */
size_t config_min_message(const struct config *c);
/* The text of `mqttip up --help` (ctx unused: the shape of struct cli's usage, cli.h). */
void config_usage(FILE *out, const void *ctx);
/* Wipes the secrets (passwords). */
void config_wipe(struct config *c);

#endif

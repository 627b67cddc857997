/* mitm - the hostile broker's hands, for the adversarial tests. It connects (libmosquitto) to a
 * broker listener WITHOUT the mqttip plugin, where it may subscribe to '#' and publish on any
 * topic, and records, replays, tampers with and forges mqttip messages. Run `mitm --help`.
 *
 * Recording format (text, one message a line, flushed at once so tests can read it live):
 *   <unix time ms> <qos> <retain 0|1> <topic> <payload as lowercase hex, "-" when empty>
 * A message's "type" is its first payload byte (1 initiation, 2 response, 4 transport). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <sodium.h>

#include "cert.h"
#include "handshake.h"
#include "proto.h"

#define MAX_PAYLOAD (1u << 20)
#define MAX_TOPIC   512

struct conn {
	const char *host;
	int port;
	const char *cafile, *cert, *key;
	struct mosquitto *mosq;
};

struct record {
	uint64_t ms;
	int qos;
	bool retain;
	char topic[MAX_TOPIC];
	uint8_t *payload;
	size_t len;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR && !stop_requested)
		;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: mitm [connection] COMMAND [args]\n"
	    "The hostile broker's client: connects to a listener without the mqttip plugin.\n"
	    "Connection: -H HOST (127.0.0.1)  -p PORT (1883)  [--cafile F --cert F --key F] (TLS)\n"
	    "Commands:\n"
	    "  record FILE [-s FILTER]... [-d SECONDS]\n"
	    "      subscribe to FILTER (default '#') and append every message to FILE, one line:\n"
	    "      <unix ms> <qos> <retain> <topic> <hex payload>; until SIGTERM/SIGINT or "
	    "SECONDS\n"
	    "  count FILE [-t FILTER] [-y TYPE]\n"
	    "      print how many recorded messages match (topic filter with + and #, first byte)\n"
	    "  extract FILE OUT [-t FILTER] [-y TYPE] [-i INDEX]\n"
	    "      write the payload of the INDEX-th match (0 first, -1 last: the default) to OUT\n"
	    "  replay FILE [-t FILTER] [-y TYPE] [-i INDEX] [-n MAX] [-D DELAY_MS] [-g GAP_MS] "
	    "[-r]\n"
	    "      republish matching messages (all, or the INDEX-th only, or the last MAX) in "
	    "their\n"
	    "      order, after DELAY_MS, GAP_MS apart, with their QoS; -r keeps the retain flag\n"
	    "  mutate FILE [-t FILTER] [-y TYPE] [-i INDEX] EDIT... [-c COPIES]\n"
	    "      publish a tampered copy of one match. EDIT: --flip OFF[:BIT] (up to 8; negative "
	    "OFF\n"
	    "      counts from the end; BIT 0..7, default 0), --truncate LEN (keep LEN bytes; "
	    "negative:\n"
	    "      drop that many), --extend N [--fill BYTE] (append N bytes), --set OFF:BYTE\n"
	    "  publish TOPIC FILE [-r] [-q QOS]\n"
	    "      publish FILE's bytes (e.g. a forged directory entry), retained with -r\n"
	    "  flood TOPIC -R RATE -d SECONDS [-k CERT_FILE] [-S SIZE] [-q QOS] [-I INITIATION]\n"
	    "      publish RATE random handshake initiations per second (type 1, this protocol "
	    "version, SIZE\n"
	    "      bytes, default 278) for SECONDS; with -k (the victim's encoded node "
	    "certificate,\n"
	    "      e.g. extracted from its directory entry) each carries a valid mac1 for it, so "
	    "it\n"
	    "      passes the cheap check and reaches the rate limit. '{n}' in TOPIC is replaced "
	    "by\n"
	    "      1 + (message number mod SPREAD) with -P SPREAD (many sender addresses).\n"
	    "      -I: forged responses (type 2, 76 bytes) to the recorded initiation in the file\n"
	    "      instead: their receiver index is its sender index; -k then names the\n"
	    "      initiator's certificate, for a valid mac1.\n"
	    "      Prints the number sent and the rate achieved.\n");
}

/* Reads the next record of f; false at the end. rec->payload is malloc'd. */
static bool read_record(FILE *f, struct record *rec, char **line, size_t *cap)
{
	ssize_t n;
	char *hex;
	int ret, off = 0;
	unsigned long long ms;

	while ((n = getline(line, cap, f)) > 0) {
		char *l = *line;

		if (sscanf(l, "%llu %d %d %511s %n", &ms, &rec->qos, &ret, rec->topic, &off) < 4 ||
		    !off)
			continue;
		rec->ms = ms;
		rec->retain = ret != 0;
		hex = l + off;
		hex[strcspn(hex, "\r\n ")] = 0;
		rec->len = 0;
		rec->payload = malloc(strlen(hex) / 2 + 1);
		if (!rec->payload)
			return false;
		if (strcmp(hex, "-"))
			sodium_hex2bin(rec->payload, strlen(hex) / 2 + 1, hex, strlen(hex), NULL,
				       &rec->len, NULL);
		return true;
	}
	return false;
}

struct match {
	const char *filter; /* NULL = all */
	int type;	    /* -1 = any */
};

static bool matches(const struct match *m, const struct record *r)
{
	bool ok = true;

	if (m->filter && (mosquitto_topic_matches_sub(m->filter, r->topic, &ok) || !ok))
		return false;
	if (m->type >= 0 && (r->len == 0 || r->payload[0] != m->type))
		return false;
	return true;
}

/* Loads every matching record of path; returns the count, -1 on error. */
static long load_matches(const char *path, const struct match *m, struct record **out)
{
	FILE *f = fopen(path, "r");
	struct record rec, *all = NULL;
	size_t n = 0, cap = 0, lcap = 0;
	char *line = NULL;

	if (!f) {
		fprintf(stderr, "mitm: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (read_record(f, &rec, &line, &lcap)) {
		if (!matches(m, &rec)) {
			free(rec.payload);
			continue;
		}
		if (n == cap) {
			struct record *bigger;

			cap = cap ? cap * 2 : 64;
			bigger = realloc(all, cap * sizeof(*all));
			if (!bigger) {
				free(rec.payload);
				break;
			}
			all = bigger;
		}
		all[n++] = rec;
	}
	free(line);
	fclose(f);
	*out = all;
	return (long)n;
}

static void free_records(struct record *r, long n)
{
	for (long i = 0; i < n; i++)
		free(r[i].payload);
	free(r);
}

/* Resolves a possibly negative index among n; -1 if out of range. */
static long pick(long index, long n)
{
	if (index < 0)
		index += n;
	return index >= 0 && index < n ? index : -1;
}

static FILE *record_file;

static void on_message(struct mosquitto *mosq, void *arg, const struct mosquitto_message *msg)
{
	const uint8_t *p = msg->payload;

	(void)mosq;
	(void)arg;
	fprintf(record_file, "%" PRIu64 " %d %d %s ", now_ms(), msg->qos, msg->retain ? 1 : 0,
		msg->topic);
	if (msg->payloadlen <= 0)
		fputc('-', record_file);
	for (int i = 0; i < msg->payloadlen; i++)
		fprintf(record_file, "%02x", p[i]);
	fputc('\n', record_file);
	fflush(record_file);
}

static int conn_open(struct conn *c)
{
	int rc;

	mosquitto_lib_init();
	c->mosq = mosquitto_new(NULL, true, NULL);
	if (!c->mosq)
		return -1;
	if (c->cafile && mosquitto_tls_set(c->mosq, c->cafile, NULL, c->cert, c->key, NULL) !=
			     MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mitm: TLS setup failed\n");
		return -1;
	}
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(c->mosq, 0);
	mosquitto_message_callback_set(c->mosq, on_message);
	rc = mosquitto_connect(c->mosq, c->host, c->port, 30);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mitm: cannot connect to %s:%d: %s\n", c->host, c->port,
			mosquitto_strerror(rc));
		return -1;
	}
	return mosquitto_loop_start(c->mosq) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static void conn_close(struct conn *c)
{
	/* Let QoS 0 messages leave the socket before the disconnect. */
	sleep_s(0.3);
	mosquitto_disconnect(c->mosq);
	mosquitto_loop_stop(c->mosq, false);
	mosquitto_destroy(c->mosq);
	mosquitto_lib_cleanup();
}

static int publish(struct conn *c, const char *topic, const uint8_t *p, size_t len, int qos,
		   bool retain)
{
	int rc = mosquitto_publish(c->mosq, NULL, topic, (int)len, p, qos, retain);

	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mitm: publish on %s failed: %s\n", topic, mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

static int cmd_record(struct conn *c, int argc, char **argv)
{
	const char *filters[32];
	int nf = 0, opt;
	double seconds = 0, start;

	optind = 1;
	while ((opt = getopt(argc, argv, "s:d:")) != -1) {
		if (opt == 's' && nf < 32)
			filters[nf++] = optarg;
		else if (opt == 'd')
			seconds = atof(optarg);
		else
			return 2;
	}
	if (optind != argc - 1)
		return 2;
	if (!nf)
		filters[nf++] = "#";
	record_file = fopen(argv[optind], "a");
	if (!record_file) {
		fprintf(stderr, "mitm: cannot write %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (conn_open(c))
		return 1;
	for (int i = 0; i < nf; i++)
		mosquitto_subscribe(c->mosq, NULL, filters[i], 0);
	start = mono_s();
	while (!stop_requested && (seconds <= 0 || mono_s() - start < seconds))
		sleep_s(0.05);
	conn_close(c);
	fclose(record_file);
	return 0;
}

struct select_opts {
	struct match m;
	long index;
	bool has_index;
	long max;
	double delay_ms, gap_ms;
	bool retain;
	int copies;
	/* edits */
	long flip_off[8];
	int flip_bit[8];
	int n_flips;
	long truncate;
	bool has_truncate;
	long extend;
	int fill;
	long set_off;
	int set_byte;
	bool has_set;
};

static int parse_select(int argc, char **argv, struct select_opts *o, int *first_arg)
{
	static const struct option longopts[] = {
	    {"flip", required_argument, NULL, 'F'},   {"truncate", required_argument, NULL, 'T'},
	    {"extend", required_argument, NULL, 'E'}, {"fill", required_argument, NULL, 'L'},
	    {"set", required_argument, NULL, 'V'},    {NULL, 0, NULL, 0}};
	int opt;

	memset(o, 0, sizeof(*o));
	o->m.type = -1;
	o->copies = 1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "t:y:i:n:D:g:rc:", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			o->m.filter = optarg;
			break;
		case 'y':
			o->m.type = atoi(optarg);
			break;
		case 'i':
			o->index = atol(optarg);
			o->has_index = true;
			break;
		case 'n':
			o->max = atol(optarg);
			break;
		case 'D':
			o->delay_ms = atof(optarg);
			break;
		case 'g':
			o->gap_ms = atof(optarg);
			break;
		case 'r':
			o->retain = true;
			break;
		case 'c':
			o->copies = atoi(optarg);
			break;
		case 'F': {
			char *colon = strchr(optarg, ':');

			if (o->n_flips == 8)
				return 2;
			o->flip_off[o->n_flips] = atol(optarg);
			o->flip_bit[o->n_flips++] = colon ? atoi(colon + 1) & 7 : 0;
			break;
		}
		case 'T':
			o->truncate = atol(optarg);
			o->has_truncate = true;
			break;
		case 'E':
			o->extend = atol(optarg);
			break;
		case 'L':
			o->fill = (int)strtol(optarg, NULL, 0);
			break;
		case 'V': {
			char *colon = strchr(optarg, ':');

			if (!colon)
				return 2;
			o->set_off = atol(optarg);
			o->set_byte = (int)strtol(colon + 1, NULL, 0);
			o->has_set = true;
			break;
		}
		default:
			return 2;
		}
	}
	*first_arg = optind;
	return 0;
}

/* Parses the selection options and loads the records of the capture named after them that
 * match; nargs counts that file and the arguments after it. Returns the number of records, -2 on
 * a usage error, -1 when the capture cannot be read. */
static long load_selection(int argc, char **argv, int nargs, struct select_opts *o,
			   struct record **r, int *first)
{
	if (parse_select(argc, argv, o, first) || *first != argc - nargs)
		return -2;
	return load_matches(argv[*first], &o->m, r);
}

/* The selected record among n (index < 0 counts from the end); when there is none, says so, frees
 * the records and returns -1. */
static long select_one(struct record *r, long n, long index)
{
	long k = pick(index, n);

	if (k < 0) {
		fprintf(stderr, "mitm: no such message (%ld match)\n", n);
		free_records(r, n);
	}
	return k;
}

static int cmd_count(int argc, char **argv)
{
	struct select_opts o;
	struct record *r;
	long n;
	int first;

	n = load_selection(argc, argv, 1, &o, &r, &first);
	if (n < 0)
		return n == -2 ? 2 : 1;
	printf("%ld\n", n);
	free_records(r, n);
	return 0;
}

static int cmd_extract(int argc, char **argv)
{
	struct select_opts o;
	struct record *r;
	long n, k;
	int first;
	FILE *f;

	n = load_selection(argc, argv, 2, &o, &r, &first);
	if (n < 0)
		return n == -2 ? 2 : 1;
	k = select_one(r, n, o.has_index ? o.index : -1);
	if (k < 0)
		return 1;
	f = fopen(argv[first + 1], "wb");
	if (!f || fwrite(r[k].payload, 1, r[k].len, f) != r[k].len || fclose(f)) {
		fprintf(stderr, "mitm: cannot write %s\n", argv[first + 1]);
		free_records(r, n);
		return 1;
	}
	free_records(r, n);
	return 0;
}

static int cmd_replay(struct conn *c, int argc, char **argv)
{
	struct select_opts o;
	struct record *r;
	long n, from = 0, to, sent = 0;
	int first, rc = 0;

	n = load_selection(argc, argv, 1, &o, &r, &first);
	if (n < 0)
		return n == -2 ? 2 : 1;
	to = n;
	if (o.has_index) {
		from = select_one(r, n, o.index);
		if (from < 0)
			return 1;
		to = from + 1;
	} else if (o.max > 0 && o.max < n) {
		from = n - o.max;
	}
	if (conn_open(c)) {
		free_records(r, n);
		return 1;
	}
	sleep_s(o.delay_ms / 1000);
	for (long i = from; i < to && !stop_requested; i++) {
		for (int k = 0; k < o.copies; k++) {
			if (publish(c, r[i].topic, r[i].payload, r[i].len, r[i].qos,
				    o.retain && r[i].retain))
				rc = 1;
			else
				sent++;
		}
		sleep_s(o.gap_ms / 1000);
	}
	conn_close(c);
	printf("replayed %ld\n", sent);
	free_records(r, n);
	return rc;
}

static int cmd_mutate(struct conn *c, int argc, char **argv)
{
	struct select_opts o;
	struct record *r;
	uint8_t *buf;
	size_t len;
	long n, k;
	int first, rc = 0;

	n = load_selection(argc, argv, 1, &o, &r, &first);
	if (n < 0)
		return n == -2 ? 2 : 1;
	k = select_one(r, n, o.has_index ? o.index : -1);
	if (k < 0)
		return 1;
	len = r[k].len;
	buf = calloc(1, len + (size_t)(o.extend > 0 ? o.extend : 0) + 1);
	if (!buf) {
		free_records(r, n);
		return 1;
	}
	memcpy(buf, r[k].payload, len);
	for (int i = 0; i < o.n_flips; i++) {
		long off = o.flip_off[i] < 0 ? (long)len + o.flip_off[i] : o.flip_off[i];

		if (off < 0 || off >= (long)len) {
			fprintf(stderr, "mitm: flip offset %ld outside %zu bytes\n", o.flip_off[i],
				len);
			rc = 1;
		} else {
			buf[off] ^= (uint8_t)(1u << o.flip_bit[i]);
		}
	}
	if (o.has_set) {
		long off = o.set_off < 0 ? (long)len + o.set_off : o.set_off;

		if (off < 0 || off >= (long)len)
			rc = 1;
		else
			buf[off] = (uint8_t)o.set_byte;
	}
	if (o.has_truncate) {
		long keep = o.truncate < 0 ? (long)len + o.truncate : o.truncate;

		if (keep < 0 || keep > (long)len)
			rc = 1;
		else
			len = (size_t)keep;
	}
	if (o.extend > 0) {
		memset(buf + len, o.fill, (size_t)o.extend);
		len += (size_t)o.extend;
	}
	if (!rc && !conn_open(c)) {
		for (int i = 0; i < o.copies; i++)
			rc |= publish(c, r[k].topic, buf, len, r[k].qos, false);
		conn_close(c);
		printf("published %d tampered copies (%zu bytes) on %s\n", o.copies, len,
		       r[k].topic);
	} else {
		rc = 1;
	}
	free(buf);
	free_records(r, n);
	return rc;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;

	if (!f) {
		fprintf(stderr, "mitm: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_PAYLOAD);
	if (buf)
		*len = fread(buf, 1, MAX_PAYLOAD, f);
	fclose(f);
	return buf;
}

static int cmd_publish(struct conn *c, int argc, char **argv)
{
	bool retain = false;
	int qos = 1, opt, rc;
	uint8_t *buf;
	size_t len = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "rq:")) != -1) {
		if (opt == 'r')
			retain = true;
		else if (opt == 'q')
			qos = atoi(optarg);
		else
			return 2;
	}
	if (optind != argc - 2)
		return 2;
	buf = read_file(argv[optind + 1], &len);
	if (!buf)
		return 1;
	if (conn_open(c)) {
		free(buf);
		return 1;
	}
	rc = publish(c, argv[optind], buf, len, qos, retain);
	conn_close(c);
	free(buf);
	return rc ? 1 : 0;
}

/* TOPIC with "{n}" replaced by v. */
static void topic_subst(char *out, size_t cap, const char *tmpl, unsigned v)
{
	const char *at = strstr(tmpl, "{n}");

	if (!at)
		snprintf(out, cap, "%s", tmpl);
	else
		snprintf(out, cap, "%.*s%u%s", (int)(at - tmpl), tmpl, v, at + 3);
}

static int cmd_flood(struct conn *c, int argc, char **argv)
{
	double rate = 1000, seconds = 1, start, elapsed;
	const char *cert_file = NULL, *initiation_file = NULL;
	uint8_t victim_key[MQTTIP_KEY_LEN], receiver_index[4] = {0};
	uint8_t msg[MQTTIP_INITIATION_MAX_LEN];
	char topic[MAX_TOPIC];
	size_t size = 278;
	unsigned spread = 1;
	int qos = 0, opt;
	uint64_t sent = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "R:d:k:S:q:P:I:")) != -1) {
		switch (opt) {
		case 'R':
			rate = atof(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'k':
			cert_file = optarg;
			break;
		case 'S':
			size = (size_t)atol(optarg);
			break;
		case 'q':
			qos = atoi(optarg);
			break;
		case 'P':
			spread = (unsigned)atoi(optarg);
			break;
		case 'I':
			initiation_file = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind != argc - 1 || size < 20 || size > sizeof(msg) || rate <= 0 || !spread)
		return 2;
	if (initiation_file) {
		size_t len = 0;
		uint8_t *raw = read_file(initiation_file, &len);

		if (!raw || len < 8 || raw[0] != MQTTIP_MSG_INITIATION) {
			fprintf(stderr, "mitm: %s is not a recorded initiation\n", initiation_file);
			free(raw);
			return 1;
		}
		memcpy(receiver_index, raw + 4, sizeof(receiver_index));
		free(raw);
		size = MQTTIP_RESPONSE_MIN_LEN;
	}
	if (cert_file) {
		struct cert vc;
		size_t len = 0;
		uint8_t *raw = read_file(cert_file, &len);

		if (!raw || cert_decode(raw, len, &vc) != CERT_OK) {
			fprintf(stderr, "mitm: %s is not an encoded node certificate\n", cert_file);
			free(raw);
			return 1;
		}
		memcpy(victim_key, vc.x25519_public, sizeof(victim_key));
		free(raw);
	}
	if (conn_open(c))
		return 1;
	start = mono_s();
	while (!stop_requested && (elapsed = mono_s() - start) < seconds) {
		uint64_t due = (uint64_t)(elapsed * rate);

		while (sent < due && !stop_requested) {
			randombytes_buf(msg, size);
			msg[0] = initiation_file ? MQTTIP_MSG_RESPONSE : MQTTIP_MSG_INITIATION;
			msg[1] = MQTTIP_PROTOCOL_VERSION;
			msg[2] = msg[3] = 0;
			if (initiation_file)
				memcpy(msg + 8, receiver_index, sizeof(receiver_index));
			if (cert_file)
				handshake_mac1_write(msg, size, victim_key);
			topic_subst(topic, sizeof(topic), argv[optind],
				    1u + (unsigned)(sent % spread));
			if (publish(c, topic, msg, size, qos, false))
				break;
			sent++;
		}
		sleep_s(0.001);
	}
	elapsed = mono_s() - start;
	conn_close(c);
	printf("flood sent %" PRIu64 " in %.2f s (%.0f/s)\n", sent, elapsed,
	       elapsed > 0 ? (double)sent / elapsed : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"cafile", required_argument, NULL, 'a'},
						 {"cert", required_argument, NULL, 'C'},
						 {"key", required_argument, NULL, 'K'},
						 {"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	struct conn c = {.host = "127.0.0.1", .port = 1883};
	const char *cmd;
	int opt, rc;

	if (sodium_init() < 0)
		return 1;
	while ((opt = getopt_long(argc, argv, "+H:p:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			c.host = optarg;
			break;
		case 'p':
			c.port = atoi(optarg);
			break;
		case 'a':
			c.cafile = optarg;
			break;
		case 'C':
			c.cert = optarg;
			break;
		case 'K':
			c.key = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "record"))
		rc = cmd_record(&c, argc, argv);
	else if (!strcmp(cmd, "count"))
		rc = cmd_count(argc, argv);
	else if (!strcmp(cmd, "extract"))
		rc = cmd_extract(argc, argv);
	else if (!strcmp(cmd, "replay"))
		rc = cmd_replay(&c, argc, argv);
	else if (!strcmp(cmd, "mutate"))
		rc = cmd_mutate(&c, argc, argv);
	else if (!strcmp(cmd, "publish"))
		rc = cmd_publish(&c, argc, argv);
	else if (!strcmp(cmd, "flood"))
		rc = cmd_flood(&c, argc, argv);
	else
		rc = 2;
	if (rc == 2) {
		fprintf(stderr, "mitm: bad command line for '%s'\n", cmd);
		usage(stderr);
	}
	return rc;
}

/* prometheus.c - node_exporter textfile collector output: written to "<path>.tmp", fsync'ed and
 * renamed over <path>, so the collector never reads a half-written file. One series per node
 * (label node="<CN>"); clients without identity use node="". */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct series {
	const char *name;
	const char *type;
	const char *help;
	size_t offset; /* of the uint64_t counter in struct metrics_counters */
};

#define COUNTER(n, field, h)                                                                       \
	{                                                                                          \
		"mqttip_" n, "counter", h, offsetof(struct metrics_counters, field)                \
	}

static const struct series all_series[] = {
    COUNTER("published_messages_total", published_msgs, "PUBLISH packets accepted from the node"),
    COUNTER("published_bytes_total", published_bytes, "Payload bytes published by the node"),
    COUNTER("delivered_messages_total", delivered_msgs, "Messages delivered to the node"),
    COUNTER("delivered_bytes_total", delivered_bytes, "Payload bytes delivered to the node"),
    COUNTER("handshake_messages_total", handshake_msgs, "Handshake messages published"),
    COUNTER("denied_subscribe_total", denied_subscribe, "SUBSCRIBE filters denied"),
    COUNTER("denied_publish_total", denied_publish, "PUBLISH packets denied"),
    COUNTER("denied_read_total", denied_read, "Deliveries denied"),
    COUNTER("connects_total", connects, "Connections accepted"),
    COUNTER("refused_total", refused, "Connections refused by the policy"),
    COUNTER("disconnects_total", disconnects, "Disconnections"),
};

static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static uint64_t counter_at(const struct metrics_counters *c, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)c + offset, sizeof(v));
	return v;
}

static void write_series(FILE *f, const struct metrics *m)
{
	for (size_t s = 0; s < sizeof(all_series) / sizeof(all_series[0]); s++) {
		const struct series *d = &all_series[s];

		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name, d->type);
		for (size_t i = 0; i < m->count; i++) {
			fprintf(f, "%s{node=\"", d->name);
			label_value(f, m->nodes[i]->name);
			fprintf(f, "\"} %llu\n",
				(unsigned long long)counter_at(&m->nodes[i]->c, d->offset));
		}
		fprintf(f, "%s{node=\"\"} %llu\n", d->name,
			(unsigned long long)counter_at(&m->anonymous, d->offset));
	}
	fputs("# HELP mqttip_online Live connections of the node\n# TYPE mqttip_online gauge\n", f);
	for (size_t i = 0; i < m->count; i++) {
		fputs("mqttip_online{node=\"", f);
		label_value(f, m->nodes[i]->name);
		fprintf(f, "\"} %u\n", m->nodes[i]->online);
	}
	fputs("# HELP mqttip_last_activity_seconds Unix time of the node's last activity\n"
	      "# TYPE mqttip_last_activity_seconds gauge\n",
	      f);
	for (size_t i = 0; i < m->count; i++) {
		fputs("mqttip_last_activity_seconds{node=\"", f);
		label_value(f, m->nodes[i]->name);
		fprintf(f, "\"} %lld\n", (long long)m->nodes[i]->c.last_activity);
	}
}

int prometheus_write(const struct metrics *m, const char *path, char *err, size_t errlen)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + sizeof(".tmp"));
	FILE *f;
	int failed;

	if (tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", sizeof(".tmp"));
	f = fopen(tmp, "w");
	if (f == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	write_series(f, m);
	failed = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
	if (fclose(f) != 0 || failed) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

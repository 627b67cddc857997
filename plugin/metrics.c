/* metrics.c - the node table behind the counters. */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

static size_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h % METRICS_BUCKETS;
}

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void metrics_free(struct metrics *m)
{
	for (size_t i = 0; i < m->count; i++)
		free(m->nodes[i]);
	free(m->nodes);
	memset(m, 0, sizeof(*m));
}

struct metrics_node *metrics_node(struct metrics *m, const char *name)
{
	size_t b = name_hash(name), len = strlen(name);
	struct metrics_node *n;

	for (n = m->buckets[b]; n != NULL; n = n->hash_next) {
		if (strcmp(n->name, name) == 0)
			return n;
	}
	if (m->count == METRICS_MAX_NODES || len >= POLICY_NAME_MAX)
		return NULL;
	if (m->count == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct metrics_node **grown = realloc(m->nodes, ncap * sizeof(*grown));

		if (grown == NULL)
			return NULL;
		m->nodes = grown;
		m->cap = ncap;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	memcpy(n->name, name, len + 1);
	n->hash_next = m->buckets[b];
	m->buckets[b] = n;
	m->nodes[m->count++] = n;
	return n;
}

static void add_counters(struct metrics_counters *to, const struct metrics_counters *c)
{
	to->published_msgs += c->published_msgs;
	to->published_bytes += c->published_bytes;
	to->delivered_msgs += c->delivered_msgs;
	to->delivered_bytes += c->delivered_bytes;
	to->handshake_msgs += c->handshake_msgs;
	to->denied_subscribe += c->denied_subscribe;
	to->denied_publish += c->denied_publish;
	to->denied_read += c->denied_read;
	to->connects += c->connects;
	to->refused += c->refused;
	to->disconnects += c->disconnects;
	if (c->last_activity > to->last_activity)
		to->last_activity = c->last_activity;
}

void metrics_total(const struct metrics *m, struct metrics_counters *out, uint32_t *online)
{
	memset(out, 0, sizeof(*out));
	*online = 0;
	for (size_t i = 0; i < m->count; i++) {
		add_counters(out, &m->nodes[i]->c);
		*online += m->nodes[i]->online;
	}
	add_counters(out, &m->anonymous);
}

static void mark(struct metrics_mark *k, const struct metrics_counters *c)
{
	k->published_msgs = c->published_msgs;
	k->published_bytes = c->published_bytes;
	k->delivered_msgs = c->delivered_msgs;
	k->delivered_bytes = c->delivered_bytes;
}

void metrics_mark_window(struct metrics *m, int64_t now)
{
	for (size_t i = 0; i < m->count; i++)
		mark(&m->nodes[i]->mark, &m->nodes[i]->c);
	mark(&m->anonymous_mark, &m->anonymous);
	m->window_start = now;
}

/* clients.c - the per-connection hash table (chained; entries allocated at connect only). */
#include "clients.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t bucket_of(const void *key)
{
	uint64_t v = (uint64_t)(uintptr_t)key;

	/* Fibonacci hashing; the low bits of heap pointers are alignment zeros. */
	return (size_t)((v * UINT64_C(0x9E3779B97F4A7C15)) >> 52) % CLIENTS_BUCKETS;
}

struct client_entry *clients_find(const struct clients *c, const void *key)
{
	struct client_entry *e;

	for (e = c->buckets[bucket_of(key)]; e != NULL; e = e->hash_next) {
		if (e->key == key)
			return e;
	}
	return NULL;
}

static void entry_free(struct client_entry *e)
{
	free(e->client_id);
	free(e);
}

void clients_remove(struct clients *c, const void *key)
{
	struct client_entry **pp = &c->buckets[bucket_of(key)];

	for (; *pp != NULL; pp = &(*pp)->hash_next) {
		if ((*pp)->key == key) {
			struct client_entry *e = *pp;

			*pp = e->hash_next;
			entry_free(e);
			c->count--;
			return;
		}
	}
}

struct client_entry *clients_add(struct clients *c, const void *key, const char *client_id)
{
	struct client_entry *e;
	size_t b = bucket_of(key);

	clients_remove(c, key);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	if (client_id != NULL) {
		e->client_id = strdup(client_id);
		if (e->client_id == NULL) {
			free(e);
			return NULL;
		}
	}
	e->key = key;
	e->subject.rights = &e->rights;
	e->hash_next = c->buckets[b];
	c->buckets[b] = e;
	c->count++;
	return e;
}

struct client_entry *clients_find_live_id(const struct clients *c, const char *client_id)
{
	for (size_t b = 0; b < CLIENTS_BUCKETS; b++) {
		for (struct client_entry *e = c->buckets[b]; e != NULL; e = e->hash_next) {
			if (e->has_identity && !e->subject.revoked && e->client_id != NULL &&
			    strcmp(e->client_id, client_id) == 0)
				return e;
		}
	}
	return NULL;
}

void clients_each(struct clients *c, void (*fn)(struct client_entry *, void *), void *arg)
{
	for (size_t b = 0; b < CLIENTS_BUCKETS; b++) {
		for (struct client_entry *e = c->buckets[b]; e != NULL; e = e->hash_next)
			fn(e, arg);
	}
}

void clients_free(struct clients *c)
{
	for (size_t b = 0; b < CLIENTS_BUCKETS; b++) {
		while (c->buckets[b] != NULL) {
			struct client_entry *e = c->buckets[b];

			c->buckets[b] = e->hash_next;
			entry_free(e);
		}
	}
	c->count = 0;
}

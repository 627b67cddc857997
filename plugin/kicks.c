/* kicks.c - the deferred disconnect queue. */
#include "kicks.h"

#include <stdlib.h>
#include <string.h>

int kicks_push(struct kicks *k, const char *client_id)
{
	char *copy;

	if (k->count == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 16;
		char **grown = realloc(k->ids, ncap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		k->ids = grown;
		k->cap = ncap;
	}
	copy = strdup(client_id);
	if (copy == NULL)
		return -1;
	k->ids[k->count++] = copy;
	return 0;
}

void kicks_drain(struct kicks *k, void (*fn)(const char *client_id, void *), void *arg)
{
	/* fn may queue more (a kick can trigger callbacks); take the batch first. */
	char **ids = k->ids;
	size_t count = k->count;

	k->ids = NULL;
	k->count = k->cap = 0;
	for (size_t i = 0; i < count; i++) {
		fn(ids[i], arg);
		free(ids[i]);
	}
	free(ids);
}

void kicks_free(struct kicks *k)
{
	for (size_t i = 0; i < k->count; i++)
		free(k->ids[i]);
	free(k->ids);
	k->ids = NULL;
	k->count = k->cap = 0;
}

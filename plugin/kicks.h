/* kicks.h - client ids to disconnect from the next tick. mosquitto must not free a client from
 * inside one of its own callbacks about that client, so connections that lost the right to stay
 * (superseded by a newer session of the same identity, revoked on reload) are queued here. */
#ifndef MQTTIP_PLUGIN_KICKS_H
#define MQTTIP_PLUGIN_KICKS_H

#include <stddef.h>

struct kicks {
	char **ids;
	size_t count, cap;
};

/* Queues a copy of client_id; returns 0, or -1 when out of memory. */
int kicks_push(struct kicks *k, const char *client_id);
/* Calls fn for every queued id in order, then empties the queue. */
void kicks_drain(struct kicks *k, void (*fn)(const char *client_id, void *), void *arg);
void kicks_free(struct kicks *k);

#endif

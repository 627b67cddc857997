/* status_json.h - the document `mqttip status --json` prints: the daemon's state as one JSON
 * object, built with cJSON so that every string (interface and node names, broker URLs and
 * hosts, error texts) is escaped, whatever bytes it holds. Schema: docs/STATUS.md. */
#ifndef MQTTIP_STATUS_JSON_H
#define MQTTIP_STATUS_JSON_H

#include <stddef.h>
#include <stdint.h>

struct daemon;

/* The document, one line ending in '\n', NUL-terminated, in a buffer the caller frees (free);
 * its length (without the NUL) in *len. now is the loop's time (ms, the clock of the engine's
 * timestamps). NULL when out of memory: no partial document is ever returned. */
char *status_json(struct daemon *d, uint64_t now, size_t *len);

#endif

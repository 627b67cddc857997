/* state.h - what `mqttip up` keeps across restarts: the newest VPN revocation list the node has
 * verified (PROTOCOL.md 8.11), so that after a restart a broker cannot hand it an older one.
 * The state file is text, one block (common/bundle.h: "MQTTIP REVOCATION LIST") with a comment
 * line; written atomically (temporary file, rename), mode 0600, its directory made 0700 when
 * missing. Failures are one line in err naming the file. */
#ifndef MQTTIP_STATE_H
#define MQTTIP_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Reads the list into out (cap bytes); *len 0 when the file does not exist yet. 0, or -1 with the
 * reason (unreadable, no valid block). */
int state_load(const char *path, uint8_t *out, size_t cap, size_t *len, char *err, size_t errcap);
/* Replaces the file with list (len bytes, version for the comment). 0, or -1 with the reason. */
int state_save(const char *path, const uint8_t *list, size_t len, uint64_t version, char *err,
	       size_t errcap);

#endif

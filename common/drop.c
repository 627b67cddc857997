/* drop.c - the names of the drop reasons and their status line (drop.h). */
#include "drop.h"

#include <stdbool.h>
#include <stdio.h>

static const char *const names[DROP_MAX] = {
    [DROP_BAD_PACKET] = "bad_packet",
    [DROP_NO_PEER] = "no_peer",
    [DROP_QUEUE_FULL] = "queue_full",
    [DROP_HANDSHAKE_TIMEOUT] = "handshake_timeout",
    [DROP_BROKER_DOWN] = "broker_down",
    [DROP_MALFORMED] = "malformed",
    [DROP_UNKNOWN_INDEX] = "unknown_index",
    [DROP_AUTH] = "auth",
    [DROP_REPLAY] = "replay",
    [DROP_EXPIRED] = "expired",
    [DROP_TOPIC] = "topic",
    [DROP_SOURCE] = "source",
    [DROP_DESTINATION] = "destination",
    [DROP_BODY] = "body",
    [DROP_DELIVER] = "deliver",
    [DROP_HANDSHAKE] = "handshake",
    [DROP_HANDSHAKE_MAC1] = "handshake_mac1",
    [DROP_HANDSHAKE_REPLAY] = "handshake_replay",
    [DROP_RATELIMIT] = "ratelimit",
    [DROP_CERT] = "cert",
    [DROP_CERT_SERIAL] = "cert_serial",
    [DROP_TABLE_FULL] = "table_full",
    [DROP_MULTICAST] = "multicast",
    [DROP_RETAINED] = "retained",
    [DROP_LEGACY_AUTH] = "legacy_auth",
    [DROP_LEGACY_REPLAY] = "legacy_replay",
    [DROP_FOREIGN_SOURCE] = "foreign_source",
    [DROP_REVOKED] = "revoked",
    [DROP_REVOCATION] = "revocation",
    [DROP_CERT_REQUEST] = "cert_request",
    [DROP_OVERSIZE] = "oversize",
};

const char *drop_name(enum drop_reason why)
{
	return (unsigned)why < DROP_MAX && names[why] ? names[why] : "?";
}

void drop_list_text(const uint64_t drops[DROP_MAX],
		    void (*emit)(void *arg, const char *piece, size_t len), void *arg)
{
	bool any = false;

	for (int i = 0; i < DROP_MAX; i++) {
		char piece[64];
		int n;

		if (!drops[i])
			continue;
		n = snprintf(piece, sizeof(piece), "%s%s %llu",
			     any ? ", " : "  drops: ", drop_name((enum drop_reason)i),
			     (unsigned long long)drops[i]);
		if (n > 0)
			emit(arg, piece, (size_t)n < sizeof(piece) ? (size_t)n : sizeof(piece) - 1);
		any = true;
	}
	if (any)
		emit(arg, "\n", 1);
}

/* netaddr.h - IPv4/IPv6 addresses as the protocol writes them.
 * Text form is canonical only: IPv4 dotted decimal without leading zeros, IPv6 in RFC 5952 form
 * (lower case, longest run of zero groups compressed, leftmost on a tie, no "::" for one group,
 * IPv4-mapped shown as ::ffff:a.b.c.d; no other address is written with a dotted quad, so
 * ::192.0.2.1 and 64:ff9b::192.0.2.1 are refused). The parser refuses every other spelling, so one
 * address has exactly one topic name: canonical text is exactly what netaddr_format writes. */
#ifndef MQTTIP_NETADDR_H
#define MQTTIP_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETADDR_STR_MAX 46 /* longest text form plus the terminating NUL */

struct netaddr {
	uint8_t family;	   /* 4 or 6 */
	uint8_t bytes[16]; /* IPv4 uses the first 4 bytes; the rest are zero */
};

/* Parses exactly len bytes of canonical text. Returns 0, or -1 if not canonical. */
int netaddr_parse(const char *text, size_t len, struct netaddr *out);
/* Writes the canonical text and a NUL; returns its length, or 0 if cap is too small. */
size_t netaddr_format(const struct netaddr *a, char *buf, size_t cap);
/* The topic-level spelling of PROTOCOL.md section 2.1 (secure-mode topics, protocol 2): IPv4 as
 * the canonical dotted quad with '-' for '.' ("10-0-1-2"), IPv6 canonical as above. No brokers
 * split or rewrite it (RabbitMQ turns '.' into a level separator). IPv4-mapped IPv6 addresses
 * have no such spelling (their text holds a dotted quad): formatting gives 0, parsing refuses.
 * netaddr_topic_parse reads exactly len bytes and accepts only what netaddr_topic_format writes;
 * returns 0, or -1. netaddr_topic_format returns the length, or 0 (cap too small, unusable). */
int netaddr_topic_parse(const char *text, size_t len, struct netaddr *out);
size_t netaddr_topic_format(const struct netaddr *a, char *buf, size_t cap);
/* "a.b.c.d/len" or "v6/len" (canonical address, decimal length without leading zeros, at most
 * 32 or 128). Host bits may be set: "10.1.2.3/24" is the address 10.1.2.3 with its prefix. */
int netaddr_parse_prefix(const char *text, size_t len, struct netaddr *out, uint8_t *prefix_len);
bool netaddr_equal(const struct netaddr *a, const struct netaddr *b);
/* True when a lies inside prefix/prefix_len of the same family. */
bool netaddr_in_prefix(const struct netaddr *a, const struct netaddr *prefix, uint8_t prefix_len);
bool netaddr_is_broadcast(const struct netaddr *a); /* 255.255.255.255 */
bool netaddr_is_multicast(const struct netaddr *a);
/* 16-byte form used in the handshake prologue: IPv6 as is, IPv4 as ::ffff:a.b.c.d. */
void netaddr_to16(const struct netaddr *a, uint8_t out[16]);

#endif

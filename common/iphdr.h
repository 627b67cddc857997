/* iphdr.h - the fixed IPv4/IPv6 header of a packet, checked and read without copying.
 * iphdr_parse accepts a packet when its fixed header is complete and self-consistent: version 4
 * or 6, IPv4 IHL >= 5 and total length between the header length and the bytes given, IPv6
 * payload length within the bytes given and no jumbogram. Bytes after total_len are allowed
 * (link padding) and left to the caller to trim. Not checked: the IPv4 header checksum (the
 * receiving stack checks it, and the AEAD already protects integrity end to end), options and
 * IPv6 extension headers (protocol is the first next-header value). */
#ifndef MQTTIP_IPHDR_H
#define MQTTIP_IPHDR_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define IPHDR_V4_MIN_LEN 20
#define IPHDR_V6_LEN	 40

enum iphdr_error {
	IPHDR_OK = 0,
	IPHDR_ERR_SHORT = -1,	  /* fewer bytes than the fixed header of its version */
	IPHDR_ERR_VERSION = -2,	  /* version nibble is neither 4 nor 6 */
	IPHDR_ERR_IHL = -3,	  /* IPv4 header length below 20 bytes */
	IPHDR_ERR_TOTAL_LEN = -4, /* IPv4 total length smaller than the header */
	IPHDR_ERR_TRUNCATED = -5, /* header or total length runs past the bytes given */
	IPHDR_ERR_JUMBOGRAM = -6, /* IPv6 payload length 0 with a hop-by-hop header (RFC 2675) */
	IPHDR_ERR_TOO_LONG = -7,  /* IPv6 header plus payload above 65535 bytes */
};

struct iphdr_info {
	uint8_t version; /* 4 or 6 */
	struct netaddr src, dst;
	uint8_t protocol;    /* IPv4 protocol or IPv6 next header */
	uint16_t header_len; /* IPv4: IHL * 4; IPv6: 40 */
	uint16_t total_len;  /* IPv4 total length; IPv6: 40 + payload length */
};

/* Reads pkt[0..len); returns IPHDR_OK and fills out, or a negative enum iphdr_error (out is then
 * zeroed). */
int iphdr_parse(const uint8_t *pkt, size_t len, struct iphdr_info *out);
/* A short static English description of an iphdr_parse result. */
const char *iphdr_strerror(int err);

#endif

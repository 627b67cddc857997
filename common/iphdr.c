/* iphdr.c - fixed IPv4/IPv6 header checks (see iphdr.h). */
#include "iphdr.h"
#include "bytes.h"

#include <string.h>

#define IPV6_NEXT_HOP_BY_HOP 0

static int parse_v4(const uint8_t *pkt, size_t len, struct iphdr_info *out)
{
	unsigned header_len, total_len;

	if (len < IPHDR_V4_MIN_LEN)
		return IPHDR_ERR_SHORT;
	header_len = (pkt[0] & 0x0fu) * 4u;
	if (header_len < IPHDR_V4_MIN_LEN)
		return IPHDR_ERR_IHL;
	if (header_len > len)
		return IPHDR_ERR_TRUNCATED;
	total_len = load_be16(pkt + 2);
	if (total_len < header_len)
		return IPHDR_ERR_TOTAL_LEN;
	if (total_len > len)
		return IPHDR_ERR_TRUNCATED;
	out->version = 4;
	out->protocol = pkt[9];
	out->header_len = (uint16_t)header_len;
	out->total_len = (uint16_t)total_len;
	out->src.family = 4;
	memcpy(out->src.bytes, pkt + 12, 4);
	out->dst.family = 4;
	memcpy(out->dst.bytes, pkt + 16, 4);
	return IPHDR_OK;
}

static int parse_v6(const uint8_t *pkt, size_t len, struct iphdr_info *out)
{
	unsigned payload_len;

	if (len < IPHDR_V6_LEN)
		return IPHDR_ERR_SHORT;
	payload_len = load_be16(pkt + 4);
	if (payload_len == 0 && pkt[6] == IPV6_NEXT_HOP_BY_HOP)
		return IPHDR_ERR_JUMBOGRAM;
	if (payload_len > UINT16_MAX - IPHDR_V6_LEN)
		return IPHDR_ERR_TOO_LONG;
	if (payload_len > len - IPHDR_V6_LEN)
		return IPHDR_ERR_TRUNCATED;
	out->version = 6;
	out->protocol = pkt[6];
	out->header_len = IPHDR_V6_LEN;
	out->total_len = (uint16_t)(IPHDR_V6_LEN + payload_len);
	out->src.family = 6;
	memcpy(out->src.bytes, pkt + 8, 16);
	out->dst.family = 6;
	memcpy(out->dst.bytes, pkt + 24, 16);
	return IPHDR_OK;
}

int iphdr_parse(const uint8_t *pkt, size_t len, struct iphdr_info *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 1)
		return IPHDR_ERR_SHORT;
	switch (pkt[0] >> 4) {
	case 4:
		rc = parse_v4(pkt, len, out);
		break;
	case 6:
		rc = parse_v6(pkt, len, out);
		break;
	default:
		rc = IPHDR_ERR_VERSION;
		break;
	}
	if (rc != IPHDR_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

const char *iphdr_strerror(int err)
{
	switch (err) {
	case IPHDR_OK:
		return "ok";
	case IPHDR_ERR_SHORT:
		return "shorter than the fixed IP header";
	case IPHDR_ERR_VERSION:
		return "IP version is neither 4 nor 6";
	case IPHDR_ERR_IHL:
		return "IPv4 header length below 20 bytes";
	case IPHDR_ERR_TOTAL_LEN:
		return "IPv4 total length smaller than its header";
	case IPHDR_ERR_TRUNCATED:
		return "IP packet truncated";
	case IPHDR_ERR_JUMBOGRAM:
		return "IPv6 jumbogram refused";
	case IPHDR_ERR_TOO_LONG:
		return "IPv6 packet longer than 65535 bytes";
	default:
		return "unknown IP header error";
	}
}

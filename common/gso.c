/* gso.c - super-packets: checks, checksums, segmentation and coalescing (gso.h). */
#include "gso.h"

#include <string.h>

#include "bytes.h"
#include "iphdr.h"

#define PROTO_TCP	 6
#define PROTO_UDP	 17
#define TCP_MIN_LEN	 20
#define UDP_LEN		 8
#define TCP_FLAG_FIN	 0x01
#define TCP_FLAG_PSH	 0x08
#define TCP_FLAG_ACK	 0x10
#define TCP_FLAG_CWR	 0x80
#define TCP_FLAGS_NO_GSO 0x26 /* SYN, RST, URG */
#define IPV4_DF		 0x4000
#define IPV4_MF_OFF	 0x3fff /* more fragments, fragment offset */

/* ---- checksums ---- */

uint64_t gso_sum(uint64_t sum, const uint8_t *p, size_t len)
{
	/* big-endian 32-bit words: 2^16 = 1 modulo 2^16 - 1, so they fold to the 16-bit sum */
	while (len >= 4) {
		sum += load_be32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += load_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t gso_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t gso_pseudo_sum(const uint8_t *pkt, uint8_t version, uint8_t protocol, size_t l4_len)
{
	if (version == 4)
		return gso_sum(0, pkt + 12, 8) + protocol + l4_len;
	return gso_sum(0, pkt + 8, 32) + protocol + l4_len;
}

/* ---- checks ---- */

/* IPv6 extension headers a TCP or UDP header may follow (RFC 8200 4.1): hop-by-hop options,
 * routing, destination options. A fragment header ends the search (a fragment has no complete L4
 * header); so do ESP, AH and anything else. */
#define IPV6_HOP_BY_HOP 0
#define IPV6_ROUTING	43
#define IPV6_DEST_OPTS	60
#define IPV6_EXT_MAX	4

/* The L4 protocol and its offset: the IPv4 protocol after the header, or the IPv6 next header
 * after the extension headers above; 0 when not found within len. */
static size_t l4_offset(const uint8_t *pkt, size_t len, const struct iphdr_info *ip, uint8_t *proto)
{
	size_t off = ip->header_len;
	uint8_t next = ip->protocol;

	for (int i = 0; ip->version == 6 && i < IPV6_EXT_MAX; i++) {
		if (next != IPV6_HOP_BY_HOP && next != IPV6_ROUTING && next != IPV6_DEST_OPTS)
			break;
		if (len - off < 8)
			return 0;
		next = pkt[off];
		off += 8 + (size_t)pkt[off + 1] * 8;
		if (off > len)
			return 0;
	}
	*proto = next;
	return off;
}

/* The TCP or UDP header of pkt (want: that protocol, or 0 for either): fills version, l4_off,
 * csum_off, hdr_len; 0, GSO_ERR_IP or GSO_ERR_L4. */
static int find_l4(const uint8_t *pkt, size_t len, uint8_t want, struct gso_info *g)
{
	struct iphdr_info ip;
	uint8_t proto = 0;
	size_t off;

	if (iphdr_parse(pkt, len, &ip) != IPHDR_OK || ip.total_len != len)
		return GSO_ERR_IP;
	off = l4_offset(pkt, len, &ip, &proto);
	if (!off || (proto != want && !(want == 0 && (proto == PROTO_TCP || proto == PROTO_UDP))))
		return GSO_ERR_L4;
	if (ip.version == 4 && (load_be16(pkt + 6) & IPV4_MF_OFF))
		return GSO_ERR_L4;
	g->version = ip.version;
	g->l4_off = (uint16_t)off;
	if (proto == PROTO_TCP) {
		size_t th;

		if (len - off < TCP_MIN_LEN)
			return GSO_ERR_L4;
		th = (size_t)(pkt[off + 12] >> 4) * 4;
		if (th < TCP_MIN_LEN || th > len - off)
			return GSO_ERR_L4;
		g->csum_off = GSO_TCP_CSUM_OFFSET;
		g->hdr_len = (uint16_t)(off + th);
	} else {
		if (len - off < UDP_LEN)
			return GSO_ERR_L4;
		g->csum_off = GSO_UDP_CSUM_OFFSET;
		g->hdr_len = (uint16_t)(off + UDP_LEN);
	}
	g->protocol = proto;
	return 0;
}

int gso_check(const uint8_t *pkt, size_t len, struct gso_info *g)
{
	struct iphdr_info ip;
	size_t payload;
	int rc;

	g->version = g->protocol = 0;
	g->l4_off = g->csum_off = g->hdr_len = 0;
	g->segments = 1;
	g->last_size = 0;
	if (iphdr_parse(pkt, len, &ip) != IPHDR_OK || ip.total_len != len)
		return GSO_ERR_IP;
	g->version = ip.version;
	if (g->flags & ~MQTTIP_GSO_FLAG_CSUM)
		return GSO_ERR_META;
	switch (g->type) {
	case MQTTIP_GSO_NONE:
		if (g->size != 0)
			return GSO_ERR_META;
		if (len > MQTTIP_MAX_IP_PACKET)
			return GSO_ERR_SIZE;
		if (g->flags & MQTTIP_GSO_FLAG_CSUM)
			return find_l4(pkt, len, 0, g);
		return 0;
	case MQTTIP_GSO_TCP:
	case MQTTIP_GSO_UDP:
		/* a super-packet's checksum is always partial: each segment gets its own */
		if (!(g->flags & MQTTIP_GSO_FLAG_CSUM))
			return GSO_ERR_META;
		rc = find_l4(pkt, len, g->type == MQTTIP_GSO_TCP ? PROTO_TCP : PROTO_UDP, g);
		if (rc)
			return rc;
		break;
	default:
		return GSO_ERR_META;
	}
	if (g->size == 0 || (size_t)g->hdr_len + g->size > MQTTIP_MAX_IP_PACKET ||
	    len <= g->hdr_len)
		return GSO_ERR_SIZE;
	payload = len - g->hdr_len;
	if ((payload + g->size - 1) / g->size > MQTTIP_OFFLOAD_MAX_SEGMENTS)
		return GSO_ERR_SIZE;
	if (g->type == MQTTIP_GSO_UDP && load_be16(pkt + g->l4_off + 4) != len - g->l4_off)
		return GSO_ERR_SIZE;
	/* the kernel never segments these: connection set-up and teardown, urgent data */
	if (g->type == MQTTIP_GSO_TCP && (pkt[g->l4_off + 13] & TCP_FLAGS_NO_GSO))
		return GSO_ERR_L4;
	g->segments = (uint16_t)((payload + g->size - 1) / g->size);
	g->last_size = (uint16_t)(payload - (size_t)(g->segments - 1) * g->size);
	return 0;
}

/* ---- segmentation ---- */

static void set_ip_length(uint8_t *out, uint8_t version, size_t len)
{
	if (version == 4) {
		store_be16(out + 2, (uint16_t)len);
		store_be16(out + 10, 0);
		store_be16(out + 10,
			   (uint16_t)~gso_fold(gso_sum(0, out, (size_t)(out[0] & 0x0f) * 4)));
	} else {
		store_be16(out + 4, (uint16_t)(len - IPHDR_V6_LEN));
	}
}

/* Writes the L4 checksum field of a packet whose headers and payload are in place. */
static void set_l4_checksum(uint8_t *pkt, size_t len, const struct gso_info *g, uint8_t protocol,
			    bool complete)
{
	size_t l4_len = len - g->l4_off;
	uint8_t *field = pkt + g->l4_off + g->csum_off;
	uint64_t sum = gso_pseudo_sum(pkt, g->version, protocol, l4_len);
	uint16_t c;

	if (!complete) {
		store_be16(field, gso_fold(sum));
		return;
	}
	store_be16(field, 0);
	c = (uint16_t)~gso_fold(gso_sum(sum, pkt + g->l4_off, l4_len));
	if (c == 0 && protocol == PROTO_UDP)
		c = 0xffff; /* 0 means "no checksum" in UDP */
	store_be16(field, c);
}

size_t gso_build(const uint8_t *pkt, const struct gso_info *g, unsigned first, unsigned count,
		 bool complete, uint8_t *out)
{
	bool last = first + count >= g->segments;
	size_t payload =
	    last ? (size_t)(count - 1) * g->size + g->last_size : (size_t)count * g->size;
	size_t len = g->hdr_len + payload;
	uint8_t protocol = g->protocol;
	uint8_t *l4 = out + g->l4_off;

	memcpy(out, pkt, g->hdr_len);
	memcpy(out + g->hdr_len, pkt + g->hdr_len + (size_t)first * g->size, payload);
	if (g->version == 4)
		store_be16(out + 4,
			   (uint16_t)(load_be16(pkt + 4) + first)); /* as the kernel numbers them */
	set_ip_length(out, g->version, len);
	if (protocol == PROTO_TCP) {
		store_be32(l4 + 4, load_be32(l4 + 4) + (uint32_t)(first * g->size));
		if (!last)
			l4[13] &= (uint8_t) ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
		if (first > 0)
			l4[13] &= (uint8_t)~TCP_FLAG_CWR;
	} else {
		store_be16(l4 + 4, (uint16_t)(len - g->l4_off));
	}
	set_l4_checksum(out, len, g, protocol, complete);
	return len;
}

void gso_complete(uint8_t *pkt, size_t len, const struct gso_info *g)
{
	uint8_t *field = pkt + g->l4_off + g->csum_off;
	uint16_t c = (uint16_t)~gso_fold(gso_sum(0, pkt + g->l4_off, len - g->l4_off));

	if (c == 0 && g->protocol == PROTO_UDP)
		c = 0xffff;
	store_be16(field, c);
}

static bool l4_sum_ok(const uint8_t *pkt, size_t len, const struct gso_info *g)
{
	uint64_t sum = gso_pseudo_sum(pkt, g->version, g->protocol, len - g->l4_off);

	return gso_fold(gso_sum(sum, pkt + g->l4_off, len - g->l4_off)) == 0xffff;
}

bool gso_tcp_checksum_ok(const uint8_t *pkt, size_t len)
{
	struct gso_info g = {0};

	return find_l4(pkt, len, PROTO_TCP, &g) == 0 && l4_sum_ok(pkt, len, &g);
}

/* ---- coalescing ---- */

/* The fields two segments of one run must share, compared whole: IPv4 TOS and flags (DF, no
 * fragment), TTL, protocol, addresses; IPv6 traffic class, flow label, next header, hop limit,
 * addresses; then the ports, the acknowledgement, the header length and flags byte, the options. */
static bool same_flow(const uint8_t *a, const uint8_t *b, size_t l4_off, size_t hdr_len)
{
	if (a[0] >> 4 == 4) {
		if (a[1] != b[1] || memcmp(a + 6, b + 6, 4) || memcmp(a + 12, b + 12, 8))
			return false;
	} else if (memcmp(a, b, 4) || memcmp(a + 6, b + 6, 34)) {
		return false;
	}
	/* ports; acknowledgement; data offset and flags byte (PSH checked by the caller); options
	 */
	return !memcmp(a + l4_off, b + l4_off, 4) && !memcmp(a + l4_off + 8, b + l4_off + 8, 5) &&
	       (a[l4_off + 13] & ~TCP_FLAG_PSH) == (b[l4_off + 13] & ~TCP_FLAG_PSH) &&
	       !memcmp(a + l4_off + TCP_MIN_LEN, b + l4_off + TCP_MIN_LEN,
		       hdr_len - l4_off - TCP_MIN_LEN);
}

/* A segment that may join a run: TCP over IPv4 without options (DF set) or IPv6 without extension
 * headers, flags ACK or ACK|PSH, some payload, a verified checksum. */
static bool mergeable(const uint8_t *pkt, size_t len, struct gso_info *g)
{
	uint8_t flags;

	g->flags = 0;
	if (find_l4(pkt, len, PROTO_TCP, g))
		return false;
	if (g->version == 4 && (g->l4_off != IPHDR_V4_MIN_LEN ||
				(load_be16(pkt + 6) & (IPV4_DF | IPV4_MF_OFF)) != IPV4_DF))
		return false;
	if (g->version == 6 && g->l4_off != IPHDR_V6_LEN)
		return false;
	flags = pkt[g->l4_off + 13];
	if ((flags & ~TCP_FLAG_PSH) != TCP_FLAG_ACK || len <= g->hdr_len)
		return false;
	return l4_sum_ok(pkt, len, g);
}

bool gso_merge_start(struct gso_merge *m, uint8_t *pkt, size_t len)
{
	struct gso_info g;

	if (!mergeable(pkt, len, &g))
		return false;
	m->head = pkt;
	m->l4_off = g.l4_off;
	m->hdr_len = g.hdr_len;
	m->size = (uint16_t)(len - g.hdr_len);
	m->chunks[0].p = pkt;
	m->chunks[0].len = len;
	m->n = 1;
	m->total = len;
	m->next_seq = load_be32(pkt + g.l4_off + 4) + m->size;
	m->last_flags = pkt[g.l4_off + 13];
	m->closed = (m->last_flags & TCP_FLAG_PSH) != 0;
	return true;
}

bool gso_merge_add(struct gso_merge *m, const uint8_t *pkt, size_t len)
{
	struct gso_info g;
	size_t payload;

	if (m->closed || m->n >= GSO_MERGE_MAX || len <= m->hdr_len ||
	    (pkt[0] >> 4) != (m->head[0] >> 4))
		return false;
	payload = len - m->hdr_len;
	if (payload > m->size || m->total + payload > UINT16_MAX)
		return false;
	/* cheap comparisons first, the checksum last */
	if (!same_flow(m->head, pkt, m->l4_off, m->hdr_len) ||
	    load_be32(pkt + m->l4_off + 4) != m->next_seq)
		return false;
	if (!mergeable(pkt, len, &g) || g.hdr_len != m->hdr_len)
		return false;
	m->chunks[m->n].p = pkt + m->hdr_len;
	m->chunks[m->n].len = payload;
	m->n++;
	m->total += payload;
	m->next_seq += (uint32_t)payload;
	m->last_flags = pkt[m->l4_off + 13];
	m->closed = payload < m->size || (m->last_flags & TCP_FLAG_PSH);
	return true;
}

size_t gso_merge_finish(struct gso_merge *m, struct gso_info *g)
{
	uint8_t *h = m->head;

	memset(g, 0, sizeof(*g));
	g->segments = 1;
	if (m->n == 1)
		return 1;
	h[m->l4_off + 13] |= m->last_flags & TCP_FLAG_PSH; /* the last segment's PSH is the run's */
	g->type = MQTTIP_GSO_TCP;
	g->flags = MQTTIP_GSO_FLAG_CSUM;
	g->size = m->size;
	g->version = (uint8_t)(h[0] >> 4);
	g->protocol = PROTO_TCP;
	g->l4_off = m->l4_off;
	g->csum_off = GSO_TCP_CSUM_OFFSET;
	g->hdr_len = m->hdr_len;
	g->segments = (uint16_t)m->n;
	g->last_size = (uint16_t)m->chunks[m->n - 1].len;
	set_ip_length(h, g->version, m->total);
	set_l4_checksum(h, m->total, g, PROTO_TCP, false);
	return m->n;
}

/* fuzz_offload.c - a hostile peer's transport body as a node with offloads reads it: records
 * (batch_next_record with offload records), each offload record's metadata checked against its
 * packet (gso_check) and, when accepted, cut into every segment and into two-segment super-packets
 * as the node and the kernel would; the plain records coalesced as the receive path does
 * (gso_merge_*). Every packet built must stay within its buffer and the IP packet limit, carry
 * the metadata gso_check derived, and a complete TCP segment's checksum must verify. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t body[MQTTIP_MAX_BODY];
static uint8_t seg[MQTTIP_MAX_IP_PACKET];
static uint8_t chunk[2 * MQTTIP_MAX_IP_PACKET];
static uint8_t whole[GSO_MERGE_MAX * MQTTIP_MAX_IP_PACKET];
static struct gso_merge merge;

static void offload_record(const struct batch_record *rec)
{
	struct gso_info g = {0}, h;
	size_t total = 0;

	g.type = rec->gso_type;
	g.flags = rec->flags;
	g.size = rec->segment_size;
	if (gso_check(rec->pkt, rec->len, &g))
		return;
	if (g.segments < 1 || g.segments > MQTTIP_OFFLOAD_MAX_SEGMENTS || g.hdr_len > rec->len ||
	    ((g.flags & MQTTIP_GSO_FLAG_CSUM) && (size_t)g.l4_off + g.csum_off + 2 > g.hdr_len))
		abort();
	if (g.type == MQTTIP_GSO_NONE)
		return;
	for (unsigned i = 0; i < g.segments; i++) {
		size_t n = gso_build(rec->pkt, &g, i, 1, true, seg);

		if (n > MQTTIP_MAX_IP_PACKET || n <= g.hdr_len)
			abort();
		if (g.protocol == 6 && !gso_tcp_checksum_ok(seg, n))
			abort();
		total += n - g.hdr_len;
	}
	if (total != rec->len - g.hdr_len)
		abort();
	for (unsigned first = 0; first + 1 < g.segments; first += 2) {
		size_t n = gso_build(rec->pkt, &g, first, 2, false, chunk);

		h = g;
		if (n > sizeof(chunk) || gso_check(chunk, n, &h) || h.segments != 2 ||
		    h.hdr_len != g.hdr_len)
			abort();
	}
}

static void merge_flush(void)
{
	struct gso_info g, check;
	size_t n = gso_merge_finish(&merge, &g), len = 0;

	if (n == 0 || n > GSO_MERGE_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		memcpy(whole + len, merge.chunks[i].p, merge.chunks[i].len);
		len += merge.chunks[i].len;
	}
	if (len != merge.total || len > UINT16_MAX)
		abort();
	if (n > 1) {
		check = g;
		if (gso_check(whole, len, &check) || check.segments != n ||
		    check.hdr_len != g.hdr_len || check.l4_off != g.l4_off)
			abort();
	}
	merge.n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_reader r;
	struct batch_record rec;

	if (size > sizeof(body))
		return 0;
	memcpy(body, data, size); /* the receive path rewrites heads in the message */
	batch_reader_init(&r, body, size);
	merge.n = 0;
	while (batch_next_record(&r, true, &rec) == 1) {
		uint8_t *pkt = body + (rec.pkt - body);

		if (rec.pkt < body || rec.pkt + rec.len > body + size)
			abort();
		if (rec.offload) {
			if (merge.n)
				merge_flush();
			offload_record(&rec);
			continue;
		}
		if (merge.n && gso_merge_add(&merge, pkt, rec.len))
			continue;
		if (merge.n)
			merge_flush();
		gso_merge_start(&merge, pkt, rec.len);
	}
	if (merge.n)
		merge_flush();
	return 0;
}

/* tunnel.c - the TUN side of the packet path: each wake-up drains the TUN descriptor (up to
 * TUN_READS_PER_WAKE reads) into the engine, which batches packets for the same peer, and ends
 * with node_flush, so a batch is never held across wake-ups; it stops early when the broker's
 * socket is congested (the loop resumes reading once it drains). Each read goes straight into the
 * batch the engine expects the packet to join (node_send_area), so a packet is read once into the
 * buffer it is sealed in; only what does not fit there goes on into the spill buffer. With
 * offloads every read and write carries a virtio-net header (tun.h): a read may be a super-packet
 * of many TCP segments, and a write hands the kernel one. Inbound packets arrive through the
 * engine's deliver callbacks and are written from the message they came in. Nothing here
 * allocates. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "tun.h"

/* One read: into the engine's area (when it has one) and on into the spill buffer. Returns the
 * packet's length, 0 when there is nothing to read, -1 on a device error; *whole: the packet, in
 * one piece, when it did not fit the area (NULL: it lies in the area). */
static ssize_t read_one(struct daemon *d, uint8_t *vnet, uint8_t *area, size_t cap, uint8_t **whole)
{
	uint8_t *spill = d->spill + MQTTIP_MAX_BODY;
	struct iovec iov[3];
	int k = 0;
	ssize_t n;
	size_t head = d->tun_offload ? TUN_VNET_HDR_LEN : 0;

	if (head)
		iov[k++] = (struct iovec){vnet, head};
	if (area)
		iov[k++] = (struct iovec){area, cap};
	iov[k++] = (struct iovec){spill, TUN_READ_MAX};
	do {
		n = readv(d->tun_fd, iov, k);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	if ((size_t)n <= head)
		return 0; /* nothing but a header: not a packet */
	n -= (ssize_t)head;
	*whole = NULL;
	if (!area)
		*whole = spill;
	else if ((size_t)n > cap) {
		/* the area's part goes in front of the rest: one piece in the spill buffer */
		*whole = spill - cap;
		memcpy(*whole, area, cap);
	}
	return n;
}

int tunnel_read(struct daemon *d)
{
	uint64_t now = uv_now(d->loop);
	uint8_t vnet[TUN_VNET_HDR_LEN];

	for (int i = 0; i < TUN_READS_PER_WAKE; i++) {
		size_t cap = 0;
		uint8_t *area = node_send_area(&d->node, &cap), *whole;
		struct gso_info g, *gp = NULL;
		ssize_t n = read_one(d, vnet, area, cap, &whole);

		if (n < 0) {
			log_error("TUN read: %s (interface %s gone?)", strerror(errno),
				  d->cfg.ifname);
			return -1;
		}
		if (n == 0)
			break;
		if (d->tun_offload) {
			gp = &g;
			if (!tun_vnet_read(vnet, whole ? whole : area, (size_t)n, &g))
				g.type = 0xff; /* the engine counts it as a bad packet */
		}
		if (!whole)
			node_send_area_done(&d->node, (size_t)n, gp, now);
		else
			node_send_gso(&d->node, whole, (size_t)n, gp, now);
		if (broker_congested(&d->broker))
			break;
	}
	node_flush(&d->node, now);
	broker_flush(&d->broker);
	return 0;
}

/* 0, or -1 with errno set (EIO for a short write). */
static int write_all(struct daemon *d, struct iovec *iov, int n, size_t len)
{
	ssize_t w;

	do {
		w = writev(d->tun_fd, iov, n);
	} while (w < 0 && errno == EINTR);
	if (w == (ssize_t)len)
		return 0;
	if (w >= 0)
		errno = EIO;
	return -1;
}

int tunnel_write(struct daemon *d, const uint8_t *pkt, size_t len)
{
	static const uint8_t plain[TUN_VNET_HDR_LEN];
	struct iovec iov[2] = {{(void *)plain, TUN_VNET_HDR_LEN}, {(void *)pkt, len}};

	if (d->tun_offload)
		return write_all(d, iov, 2, TUN_VNET_HDR_LEN + len);
	return write_all(d, iov + 1, 1, len);
}

/* A kernel that refuses a kind of super-packet (UDP segmentation before Linux 6.2, say) gets
 * the segments one by one, cut here (the spill buffer is free outside tunnel_read). */
static int write_cut(struct daemon *d, const struct gso_info *g, const struct gso_chunk *chunks,
		     size_t n)
{
	uint8_t *whole = d->spill, *seg = d->spill + TUN_READ_MAX;
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (len + chunks[i].len > TUN_READ_MAX)
			return -1;
		memcpy(whole + len, chunks[i].p, chunks[i].len);
		len += chunks[i].len;
	}
	for (unsigned i = 0; i < g->segments; i++) {
		if (tunnel_write(d, seg, gso_build(whole, g, i, 1, true, seg)))
			return -1;
	}
	return 0;
}

int tunnel_write_gso(void *ctx, const struct gso_info *g, const struct gso_chunk *chunks, size_t n)
{
	struct daemon *d = ctx;
	struct iovec iov[1 + GSO_MERGE_MAX];
	uint8_t vnet[TUN_VNET_HDR_LEN];
	size_t len = TUN_VNET_HDR_LEN;

	if (n > GSO_MERGE_MAX)
		return -1;
	tun_vnet_write(g, vnet);
	iov[0] = (struct iovec){vnet, TUN_VNET_HDR_LEN};
	for (size_t i = 0; i < n; i++) {
		iov[1 + i] = (struct iovec){(void *)chunks[i].p, chunks[i].len};
		len += chunks[i].len;
	}
	if (write_all(d, iov, (int)(1 + n), len) == 0)
		return 0;
	if (errno == EINVAL && g->type != MQTTIP_GSO_NONE && g->segments > 1)
		return write_cut(d, g, chunks, n);
	return -1;
}

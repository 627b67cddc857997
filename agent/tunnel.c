/* tunnel.c - the TUN side of the packet path: each wake-up drains the TUN descriptor (up to
 * TUN_READS_PER_WAKE packets) into the engine, which batches packets for the same peer, and ends
 * with node_flush, so a batch is never held across wake-ups; it stops early when the broker's
 * socket is congested (the loop resumes reading once it drains). Inbound packets arrive through
 * the engine's deliver callback and are written here. Nothing here allocates. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

int tunnel_read(struct daemon *d)
{
	uint64_t now = uv_now(d->loop);

	for (int i = 0; i < TUN_READS_PER_WAKE; i++) {
		ssize_t n = read(d->tun_fd, d->pkt, sizeof(d->pkt));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				log_error("TUN read: %s (interface %s gone?)", strerror(errno),
					  d->cfg.ifname);
				return -1;
			}
			break;
		}
		node_send(&d->node, d->pkt, (size_t)n, now);
		if (broker_congested(&d->broker))
			break;
	}
	node_flush(&d->node, now);
	broker_flush(&d->broker);
	return 0;
}

int tunnel_write(struct daemon *d, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	do {
		n = write(d->tun_fd, pkt, len);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

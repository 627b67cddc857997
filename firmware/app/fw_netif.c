#include "fw_netif.h"

#include <stddef.h>
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "proto.h"

/* netif->state and the client-data slots belong to ESP-IDF and lwIP (fw_netif.h): our context is
 * the struct fw_netif around the netif, its first member. */
_Static_assert(offsetof(struct fw_netif, netif) == 0, "struct netif must come first");

static struct fw_netif *fw_netif_of(struct netif *netif)
{
	return (struct fw_netif *)(void *)netif;
}

/* The packet goes out where it lies when it is one piece (ICMP, raw sends, TCP segments of
 * copied data); a chain (TCP headers before referenced data) is joined in one pbuf from lwIP's
 * own memory for the length of the call, so the netif keeps no packet buffer of its own. */
static err_t output_pbuf(struct netif *netif, struct pbuf *p)
{
	struct fw_netif *n = fw_netif_of(netif);
	struct pbuf *whole;

	if (p->tot_len > MQTTIP_MAX_IP_PACKET)
		return ERR_BUF;
	if (p->len == p->tot_len) {
		n->output(n->ctx, p->payload, p->tot_len);
		return ERR_OK;
	}
	whole = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
	if (whole == NULL)
		return ERR_MEM; /* lwIP counts it; TCP sends again */
	n->output(n->ctx, whole->payload, whole->tot_len);
	pbuf_free(whole);
	return ERR_OK;
}

#if LWIP_IPV4
static err_t output4(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop)
{
	(void)next_hop;
	return output_pbuf(netif, p);
}
#endif

#if LWIP_IPV6
static err_t output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *next_hop)
{
	(void)next_hop;
	return output_pbuf(netif, p);
}
#endif

static err_t netif_setup(struct netif *netif)
{
	struct fw_netif *n = fw_netif_of(netif);

	netif->name[0] = 'm';
	netif->name[1] = 'q';
	netif->mtu = n->mtu;
#if LWIP_IPV4
	netif->output = output4;
#endif
#if LWIP_IPV6
	netif->output_ip6 = output6;
#if LWIP_ND6_ALLOW_RA_UPDATES
	netif->mtu6 = n->mtu;
#endif
#endif
	netif->flags = 0; /* point to point: no ARP, no broadcast */
	return ERR_OK;
}

struct start_call {
	struct fw_netif *n;
	const struct cert_prefix *addrs;
	size_t n_addrs;
	bool make_default;
	int result;
	sys_sem_t done;
};

#if LWIP_IPV4
static void ip4_from(const struct netaddr *a, ip4_addr_t *out)
{
	IP4_ADDR(out, a->bytes[0], a->bytes[1], a->bytes[2], a->bytes[3]);
}
#endif

#if LWIP_IPV6
static bool have_v6(const struct start_call *c)
{
	for (size_t i = 0; i < c->n_addrs; i++)
		if (c->addrs[i].addr.family == 6)
			return true;
	return false;
}

/* ESP-IDF's default IPv6 input hook (the default from v5.5) eats every IPv6 packet arriving on a
 * netif whose address slot 0, the link-local one, is unset; netif_add_ip6_address never fills
 * slot 0 with a global address. So a tunnel with IPv6 addresses holds fe80::1 there, preferred
 * at once (no duplicate detection: nobody else is on this link). It is never a source for overlay
 * traffic (lwIP picks a source of the destination's scope) and no peer owns fe80::/10. */
static void set_link_local(struct netif *netif)
{
	ip6_addr_t ll;

	IP6_ADDR(&ll, PP_HTONL(0xfe800000ul), 0, 0, PP_HTONL(1ul));
	ip6_addr_assign_zone(&ll, IP6_UNICAST, netif);
	netif_ip6_addr_set(netif, 0, &ll);
	netif_ip6_addr_set_state(netif, 0, IP6_ADDR_PREFERRED);
}
#endif

static void start_in_lwip(void *arg)
{
	struct start_call *c = arg;
	struct netif *netif = &c->n->netif;
	bool have_v4 = false;

	c->result = -1;
#if LWIP_IPV4
	ip4_addr_t ip, mask, gw;

	ip4_addr_set_zero(&ip);
	ip4_addr_set_zero(&mask);
	ip4_addr_set_zero(&gw);
	for (size_t i = 0; i < c->n_addrs && !have_v4; i++) {
		if (c->addrs[i].addr.family != 4)
			continue;
		ip4_from(&c->addrs[i].addr, &ip);
		ip4_addr_set_u32(
		    &mask, c->addrs[i].len ? lwip_htonl(0xffffffffu << (32 - c->addrs[i].len)) : 0);
		have_v4 = true;
	}
	if (netif_add(netif, &ip, &mask, &gw, NULL, netif_setup, tcpip_input) == NULL)
		goto out;
#else
	if (netif_add(netif, NULL, netif_setup, tcpip_input) == NULL)
		goto out;
#endif
#if LWIP_IPV6
	if (have_v6(c))
		set_link_local(netif);
	for (size_t i = 0; i < c->n_addrs; i++) {
		ip6_addr_t ip6;
		s8_t idx;

		if (c->addrs[i].addr.family != 6)
			continue;
		memcpy(&ip6.addr, c->addrs[i].addr.bytes, 16);
		ip6_addr_clear_zone(&ip6);
		if (netif_add_ip6_address(netif, &ip6, &idx) == ERR_OK)
			netif_ip6_addr_set_state(netif, idx, IP6_ADDR_PREFERRED);
	}
#endif
	(void)have_v4;
	if (c->make_default)
		netif_set_default(netif);
	netif_set_link_up(netif);
	netif_set_up(netif);
#if LWIP_IPV6 && LWIP_IPV6_SEND_ROUTER_SOLICIT
	/* No router answers on the tunnel: netif_set_up armed router solicitations, which would
	 * only be dropped as multicast by the tunnel. */
	netif->rs_count = 0;
#endif
	c->result = 0;
out:
	sys_sem_signal(&c->done);
}

int fw_netif_start(struct fw_netif *n, const struct cert_prefix *addrs, size_t n_addrs,
		   uint16_t mtu, bool make_default)
{
	struct start_call c = {
	    .n = n, .addrs = addrs, .n_addrs = n_addrs, .make_default = make_default, .result = -1};

	n->mtu = mtu;
	if (sys_sem_new(&c.done, 0) != ERR_OK)
		return -1;
	if (tcpip_callback(start_in_lwip, &c) != ERR_OK) {
		sys_sem_free(&c.done);
		return -1;
	}
	sys_sem_wait(&c.done);
	sys_sem_free(&c.done);
	return c.result;
}

int fw_netif_input(struct fw_netif *n, const uint8_t *pkt, size_t len)
{
	struct pbuf *p;

	if (len > 0xffff)
		return -1;
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
	if (p == NULL)
		return -1;
	if (pbuf_take(p, pkt, (u16_t)len) != ERR_OK || n->netif.input(p, &n->netif) != ERR_OK) {
		pbuf_free(p);
		return -1;
	}
	return 0;
}

/* test_firmware_netif.c - the tunnel netif (firmware/app/fw_netif.c) against what ESP-IDF does to
 * every lwIP netif, played on Debian's lwIP, which has no esp_netif (firmware/README.md "ESP-IDF
 * contracts"):
 *  - esp_netif registers an lwIP netif ext-callback that fires for every netif; on IPv4 changes,
 *    link/status changes (master) and IPv6 addresses turning valid it reads netif->state as its own
 *    esp_netif_t (unless LWIP_ESP_NETIF_DATA, then a client-data slot) and dereferences it when it
 *    is not NULL. A netif that keeps its own context there crashes the device (issue 18: Load
 *    access fault in esp_netif_internal_dhcpc_cb).
 *  - lwIP keeps DHCP, IGMP and MLD state in client-data slots and ESP-IDF walks them
 *    (netif_dhcp_data in its DHCP option hook): the tunnel netif leaves them all to lwIP.
 *  - ESP-IDF's default IPv6 input hook (the default from v5.5) drops every IPv6 packet that
 *    arrives on a netif whose address slot 0 (the link-local one) is unset.
 * Debian's liblwip is built without LWIP_NETIF_EXT_STATUS_CALLBACK, so this program links
 * fw_netif with --wrap on the netif functions it calls and plays lwIP's dispatch itself: after each
 * call it compares the netif before and after and invokes the registered callbacks with the
 * reasons and arguments lwIP's netif.c gives. The callback below then does what esp_netif does
 * with netif->state. A second netif, made like esp_netif makes WiFi's, checks that the callback
 * really tells an esp_netif from anything else. */
#include <stdbool.h>
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"

#include "check.h"
#include "fw_netif.h"
#include "netaddr.h"

/* ---- lwIP's ext-callback dispatch, for a build of lwIP without it ---- */

struct netif_snapshot {
	bool listed;
	u8_t flags;
	ip_addr_t ip4, mask4, gw4;
	ip_addr_t ip6[LWIP_IPV6_NUM_ADDRESSES];
	u8_t state6[LWIP_IPV6_NUM_ADDRESSES];
};

#define MAX_CALLBACKS 2
static netif_ext_callback_fn callbacks[MAX_CALLBACKS];
static int n_callbacks;

static void ext_callback_add(netif_ext_callback_fn fn)
{
	callbacks[n_callbacks++] = fn;
}

static void invoke(struct netif *netif, netif_nsc_reason_t reason,
		   const netif_ext_callback_args_t *args)
{
	for (int i = 0; i < n_callbacks; i++)
		callbacks[i](netif, reason, args);
}

static void snapshot(struct netif *netif, struct netif_snapshot *s)
{
	struct netif *it;

	memset(s, 0, sizeof(*s));
	NETIF_FOREACH(it)
	{
		if (it == netif)
			s->listed = true;
	}
	if (!s->listed)
		return; /* what netif_add starts from, whatever the memory held */
	s->flags = netif->flags;
	s->ip4 = netif->ip_addr;
	s->mask4 = netif->netmask;
	s->gw4 = netif->gw;
	for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		s->ip6[i] = netif->ip6_addr[i];
		s->state6[i] = netif->ip6_addr_state[i];
	}
}

/* What lwIP 2.1's netif.c reports for the change from *before to now: IPv4 settings (netif_add
 * reports them before LWIP_NSC_NETIF_ADDED), IPv6 addresses and their states, status, link. */
static void dispatch(struct netif *netif, const struct netif_snapshot *before)
{
	struct netif_snapshot now;
	netif_ext_callback_args_t args;
	netif_nsc_reason_t reason = LWIP_NSC_NONE;

	snapshot(netif, &now);
	if (!ip_addr_cmp(&before->ip4, &now.ip4))
		reason |= LWIP_NSC_IPV4_ADDRESS_CHANGED;
	if (!ip_addr_cmp(&before->mask4, &now.mask4))
		reason |= LWIP_NSC_IPV4_NETMASK_CHANGED;
	if (!ip_addr_cmp(&before->gw4, &now.gw4))
		reason |= LWIP_NSC_IPV4_GATEWAY_CHANGED;
	if (reason != LWIP_NSC_NONE) {
		memset(&args, 0, sizeof(args));
		args.ipv4_changed.old_address = &before->ip4;
		args.ipv4_changed.old_netmask = &before->mask4;
		args.ipv4_changed.old_gw = &before->gw4;
		invoke(netif, reason | LWIP_NSC_IPV4_SETTINGS_CHANGED, &args);
	}
	if (!before->listed && now.listed)
		invoke(netif, LWIP_NSC_NETIF_ADDED, NULL);
	for (s8_t i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		memset(&args, 0, sizeof(args));
		if (!ip_addr_cmp(&before->ip6[i], &now.ip6[i])) {
			args.ipv6_set.addr_index = i;
			args.ipv6_set.old_address = &before->ip6[i];
			invoke(netif, LWIP_NSC_IPV6_SET, &args);
		}
		if (before->state6[i] != now.state6[i]) {
			args.ipv6_addr_state_changed.addr_index = i;
			args.ipv6_addr_state_changed.old_state = before->state6[i];
			args.ipv6_addr_state_changed.address = &netif->ip6_addr[i];
			invoke(netif, LWIP_NSC_IPV6_ADDR_STATE_CHANGED, &args);
		}
	}
	if ((before->flags ^ now.flags) & NETIF_FLAG_UP) {
		memset(&args, 0, sizeof(args));
		args.status_changed.state = (now.flags & NETIF_FLAG_UP) != 0;
		invoke(netif, LWIP_NSC_STATUS_CHANGED, &args);
	}
	if ((before->flags ^ now.flags) & NETIF_FLAG_LINK_UP) {
		memset(&args, 0, sizeof(args));
		args.link_changed.state = (now.flags & NETIF_FLAG_LINK_UP) != 0;
		invoke(netif, LWIP_NSC_LINK_CHANGED, &args);
	}
}

/* The netif functions fw_netif (and this test) call, wrapped at link time (tests/firmware.cmake).
 */
struct netif *__real_netif_add(struct netif *netif, const ip4_addr_t *ipaddr,
			       const ip4_addr_t *netmask, const ip4_addr_t *gw, void *state,
			       netif_init_fn init, netif_input_fn input);
struct netif *__wrap_netif_add(struct netif *netif, const ip4_addr_t *ipaddr,
			       const ip4_addr_t *netmask, const ip4_addr_t *gw, void *state,
			       netif_init_fn init, netif_input_fn input);
void __real_netif_set_addr(struct netif *netif, const ip4_addr_t *ipaddr, const ip4_addr_t *netmask,
			   const ip4_addr_t *gw);
void __wrap_netif_set_addr(struct netif *netif, const ip4_addr_t *ipaddr, const ip4_addr_t *netmask,
			   const ip4_addr_t *gw);
void __real_netif_set_up(struct netif *netif);
void __wrap_netif_set_up(struct netif *netif);
void __real_netif_set_link_up(struct netif *netif);
void __wrap_netif_set_link_up(struct netif *netif);
void __real_netif_ip6_addr_set(struct netif *netif, s8_t addr_idx, const ip6_addr_t *addr6);
void __wrap_netif_ip6_addr_set(struct netif *netif, s8_t addr_idx, const ip6_addr_t *addr6);
void __real_netif_ip6_addr_set_state(struct netif *netif, s8_t addr_idx, u8_t state);
void __wrap_netif_ip6_addr_set_state(struct netif *netif, s8_t addr_idx, u8_t state);
err_t __real_netif_add_ip6_address(struct netif *netif, const ip6_addr_t *ip6addr,
				   s8_t *chosen_idx);
err_t __wrap_netif_add_ip6_address(struct netif *netif, const ip6_addr_t *ip6addr,
				   s8_t *chosen_idx);

struct netif *__wrap_netif_add(struct netif *netif, const ip4_addr_t *ipaddr,
			       const ip4_addr_t *netmask, const ip4_addr_t *gw, void *state,
			       netif_init_fn init, netif_input_fn input)
{
	struct netif_snapshot before;
	struct netif *r;

	snapshot(netif, &before);
	r = __real_netif_add(netif, ipaddr, netmask, gw, state, init, input);
	if (r != NULL)
		dispatch(netif, &before);
	return r;
}

void __wrap_netif_set_addr(struct netif *netif, const ip4_addr_t *ipaddr, const ip4_addr_t *netmask,
			   const ip4_addr_t *gw)
{
	struct netif_snapshot before;

	snapshot(netif, &before);
	__real_netif_set_addr(netif, ipaddr, netmask, gw);
	dispatch(netif, &before);
}

void __wrap_netif_set_up(struct netif *netif)
{
	struct netif_snapshot before;

	snapshot(netif, &before);
	__real_netif_set_up(netif);
	dispatch(netif, &before);
}

void __wrap_netif_set_link_up(struct netif *netif)
{
	struct netif_snapshot before;

	snapshot(netif, &before);
	__real_netif_set_link_up(netif);
	dispatch(netif, &before);
}

void __wrap_netif_ip6_addr_set(struct netif *netif, s8_t addr_idx, const ip6_addr_t *addr6)
{
	struct netif_snapshot before;

	snapshot(netif, &before);
	__real_netif_ip6_addr_set(netif, addr_idx, addr6);
	dispatch(netif, &before);
}

void __wrap_netif_ip6_addr_set_state(struct netif *netif, s8_t addr_idx, u8_t state)
{
	struct netif_snapshot before;

	snapshot(netif, &before);
	__real_netif_ip6_addr_set_state(netif, addr_idx, state);
	dispatch(netif, &before);
}

err_t __wrap_netif_add_ip6_address(struct netif *netif, const ip6_addr_t *ip6addr, s8_t *chosen_idx)
{
	struct netif_snapshot before;
	err_t r;

	snapshot(netif, &before);
	r = __real_netif_add_ip6_address(netif, ip6addr, chosen_idx);
	dispatch(netif, &before);
	return r;
}

/* ---- esp_netif, as far as it touches other netifs ---- */

/* esp_netif_lwip.c: the reasons its callback treats as "DHCP client changed the address". */
#define DHCP_CB_CHANGE                                                                             \
	(LWIP_NSC_IPV4_SETTINGS_CHANGED | LWIP_NSC_IPV4_ADDRESS_CHANGED |                          \
	 LWIP_NSC_IPV4_GATEWAY_CHANGED | LWIP_NSC_IPV4_NETMASK_CHANGED)

/* Stands in for an esp_netif_t: the one kind of object esp_netif expects behind netif->state. */
struct esp_netif_obj {
	const char *if_key;
	int ip4_events, ip6_events, status_events;
};

static struct esp_netif_obj wifi_sta = {.if_key = "WIFI_STA_DEF"};
static struct netif wifi_netif;

struct seen {
	int ip4, ip6_valid, status, misread;
};
static struct seen seen_tunnel, seen_wifi;

/* esp_netif's lwip_get_esp_netif() without LWIP_ESP_NETIF_DATA, and what it does with the result:
 * NULL means "not configured yet" and is skipped; anything else is used as an esp_netif_t. */
static struct esp_netif_obj *esp_netif_of(struct netif *netif, struct seen *s)
{
	void *state = netif->state;

	if (state == NULL)
		return NULL;
	if (state != &wifi_sta) {
		fprintf(stderr,
			"netif %c%c: netif->state is %p, not an esp_netif_t; esp_netif would "
			"dereference it (on the device: Load access fault)\n",
			netif->name[0], netif->name[1], state);
		s->misread++;
		return NULL;
	}
	return state;
}

static void esp_netif_callback(struct netif *netif, netif_nsc_reason_t reason,
			       const netif_ext_callback_args_t *args)
{
	struct seen *s = netif == &wifi_netif ? &seen_wifi : &seen_tunnel;
	struct esp_netif_obj *e;

	if (reason & DHCP_CB_CHANGE) {
		s->ip4++;
		if ((e = esp_netif_of(netif, s)) != NULL)
			e->ip4_events++;
	}
	if (reason & (LWIP_NSC_LINK_CHANGED | LWIP_NSC_STATUS_CHANGED)) {
		s->status++;
		if ((e = esp_netif_of(netif, s)) != NULL)
			e->status_events++;
	}
	if ((reason & LWIP_NSC_IPV6_ADDR_STATE_CHANGED) && args != NULL) {
		s8_t idx = args->ipv6_addr_state_changed.addr_index;

		if (netif_ip6_addr_state(netif, idx) & IP6_ADDR_VALID) {
			s->ip6_valid++;
			if ((e = esp_netif_of(netif, s)) != NULL)
				e->ip6_events++;
		}
	}
}

/* ESP-IDF's default lwip_hook_ip6_input: 1 = eaten, for a netif without address slot 0. */
static int esp_default_ip6_input_hook(struct netif *inp)
{
	return ip6_addr_isany(ip_2_ip6(&inp->ip6_addr[0])) ? 1 : 0;
}

/* ---- the tunnel's ends ---- */

static struct fw_netif tun;
static int ctx_token;
static uint8_t sent[3][256];
static size_t sent_len[3];
static int n_sent, bad_ctx;

static void tun_output(void *ctx, const uint8_t *pkt, size_t len)
{
	if (ctx != &ctx_token)
		bad_ctx++;
	if (n_sent < 3 && len <= sizeof(sent[0])) {
		memcpy(sent[n_sent], pkt, len);
		sent_len[n_sent] = len;
	}
	n_sent++;
}

static char received[3][16];
static int n_received;

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
		   u16_t port)
{
	(void)arg;
	(void)pcb;
	(void)addr;
	(void)port;
	if (n_received < 3)
		pbuf_copy_partial(p, received[n_received], sizeof(received[0]) - 1, 0);
	n_received++;
	pbuf_free(p);
}

/* The WiFi netif's driver: nothing is sent there in this test (lwIP's router solicitations). */
static err_t wifi_output4(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop)
{
	(void)netif;
	(void)p;
	(void)next_hop;
	return ERR_OK;
}

static err_t wifi_output6(struct netif *netif, struct pbuf *p, const ip6_addr_t *next_hop)
{
	(void)netif;
	(void)p;
	(void)next_hop;
	return ERR_OK;
}

static err_t wifi_init(struct netif *netif)
{
	netif->output = wifi_output4;
	netif->output_ip6 = wifi_output6;
	netif->name[0] = 's';
	netif->name[1] = 't';
	netif->mtu = 1500;
	return ERR_OK;
}

static void ready(void *arg)
{
	sys_sem_signal(arg);
}

/* The packet back from the peer: addresses and ports swapped, which keeps every checksum. */
static void reflect(uint8_t *pkt, size_t len)
{
	uint8_t tmp[16];
	size_t alen = (pkt[0] >> 4) == 4 ? 4 : 16, src = (pkt[0] >> 4) == 4 ? 12 : 8;
	size_t l4 = (pkt[0] >> 4) == 4 ? (size_t)(pkt[0] & 0x0f) * 4 : 40;

	CHECK(len >= l4 + 8);
	memcpy(tmp, pkt + src, alen);
	memcpy(pkt + src, pkt + src + alen, alen);
	memcpy(pkt + src + alen, tmp, alen);
	memcpy(tmp, pkt + l4, 2);
	memcpy(pkt + l4, pkt + l4 + 2, 2);
	memcpy(pkt + l4 + 2, tmp, 2);
}

/* chained: the payload by reference (PBUF_REF), so lwIP puts its headers in a pbuf of their own
 * in front of it and the netif's output gets a chain (as TCP does with data it did not copy). */
static void udp_round_trip(int i, const char *self, const char *peer, const char *text,
			   bool chained)
{
	struct udp_pcb *pcb;
	ip_addr_t self_ip, peer_ip;
	struct pbuf *p;

	CHECK(ipaddr_aton(self, &self_ip) && ipaddr_aton(peer, &peer_ip));
	LOCK_TCPIP_CORE();
	pcb = udp_new_ip_type(IP_GET_TYPE(&self_ip));
	CHECK(pcb != NULL && udp_bind(pcb, &self_ip, 4000) == ERR_OK);
	udp_recv(pcb, on_udp, NULL);
	if (chained) {
		p = pbuf_alloc(PBUF_RAW, (u16_t)strlen(text), PBUF_REF);
		CHECK(p != NULL);
		p->payload = (void *)(uintptr_t)text;
	} else {
		p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(text), PBUF_RAM);
		CHECK(p != NULL && pbuf_take(p, text, (u16_t)strlen(text)) == ERR_OK);
	}
	CHECK(udp_sendto(pcb, p, &peer_ip, 5000) == ERR_OK);
	pbuf_free(p);
	UNLOCK_TCPIP_CORE();

	/* Out through the netif's output, which must find its context without netif->state. */
	CHECK_EQ_INT(n_sent, i + 1);
	CHECK_EQ_INT(bad_ctx, 0);
	/* In through fw_netif_input (tcpip_input from another thread), to the pcb. */
	reflect(sent[i], sent_len[i]);
	CHECK_EQ_INT(fw_netif_input(&tun, sent[i], sent_len[i]), 0);
	for (int w = 0; w < 200 && n_received < i + 1; w++)
		sys_msleep(5);
	CHECK_EQ_INT(n_received, i + 1);
	CHECK(strcmp(received[i], text) == 0);
	LOCK_TCPIP_CORE();
	udp_remove(pcb);
	UNLOCK_TCPIP_CORE();
}

int main(void)
{
	struct cert_prefix addrs[2];
	sys_sem_t sem;
	ip4_addr_t ip, mask, gw;
	ip6_addr_t ll6;
	bool global6 = false;

	CHECK(netaddr_parse_prefix("10.0.1.3/24", 11, &addrs[0].addr, &addrs[0].len) == 0);
	CHECK(netaddr_parse_prefix("fd00:1::3/64", 12, &addrs[1].addr, &addrs[1].len) == 0);
	CHECK(sys_sem_new(&sem, 0) == ERR_OK);
	tcpip_init(ready, &sem);
	sys_sem_wait(&sem);
	sys_sem_free(&sem);

	/* esp_netif_init() registers its callback first; then the WiFi netif, made as esp_netif
	 * makes it (its esp_netif_t as netif->state), gets its DHCP address and comes up. */
	ext_callback_add(esp_netif_callback);
	IP4_ADDR(&ip, 192, 168, 4, 2);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 192, 168, 4, 1);
	IP6_ADDR(&ll6, PP_HTONL(0xfe800000ul), 0, PP_HTONL(0x00000000ul), PP_HTONL(0x00000001ul));
	LOCK_TCPIP_CORE();
	CHECK(netif_add(&wifi_netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &wifi_sta,
			wifi_init, tcpip_input) != NULL);
	netif_set_link_up(&wifi_netif);
	netif_set_up(&wifi_netif);
	netif_set_addr(&wifi_netif, &ip, &mask, &gw);
	netif_ip6_addr_set(&wifi_netif, 0, &ll6);
	netif_ip6_addr_set_state(&wifi_netif, 0, IP6_ADDR_PREFERRED);
	UNLOCK_TCPIP_CORE();
	/* The emulation is not vacuous: esp_netif found its own object behind the WiFi netif. */
	CHECK(wifi_sta.ip4_events > 0 && wifi_sta.ip6_events > 0 && wifi_sta.status_events > 0);
	CHECK_EQ_INT(seen_wifi.misread, 0);

	tun.output = tun_output;
	tun.ctx = &ctx_token;
	CHECK_EQ_INT(fw_netif_start(&tun, addrs, 2, 1400, false), 0);

	/* esp_netif's callback ran for the tunnel netif's address, status and IPv6 changes... */
	CHECK(seen_tunnel.ip4 > 0);
	CHECK(seen_tunnel.status > 0);
	CHECK(seen_tunnel.ip6_valid > 0);
	/* ...and found nothing of its own there (issue 18's crash). */
	CHECK_EQ_INT(seen_tunnel.misread, 0);
	CHECK(tun.netif.state == NULL);
#ifdef netif_get_client_data
	/* lwIP's and esp_netif's client-data slots stay untouched (NULL: no DHCP, IGMP or MLD state
	 * on the tunnel). */
	for (size_t i = 0; i < LWIP_ARRAYSIZE(tun.netif.client_data); i++)
		CHECK(tun.netif.client_data[i] == NULL);
#endif
	/* Never the default route on the device: the broker is reached over WiFi or Ethernet. */
	CHECK(netif_default != &tun.netif);

	/* ESP-IDF's default IPv6 input hook lets IPv6 into the tunnel: slot 0 holds a valid
	 * link-local address, and the overlay address is valid in another slot. */
	CHECK_EQ_INT(esp_default_ip6_input_hook(&tun.netif), 0);
	CHECK(ip6_addr_islinklocal(netif_ip6_addr(&tun.netif, 0)) &&
	      ip6_addr_isvalid(netif_ip6_addr_state(&tun.netif, 0)));
	for (int i = 1; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
		const ip6_addr_t *a = netif_ip6_addr(&tun.netif, i);

		if (memcmp(a->addr, addrs[1].addr.bytes, 16) == 0 &&
		    ip6_addr_isvalid(netif_ip6_addr_state(&tun.netif, i)))
			global6 = true;
	}
	CHECK(global6);

	/* Both directions work with the context recovered from the netif itself. */
	udp_round_trip(0, "10.0.1.3", "10.0.1.2", "over IPv4", false);
	udp_round_trip(1, "fd00:1::3", "fd00:1::2", "over IPv6", false);
	udp_round_trip(2, "10.0.1.3", "10.0.1.2", "in two pieces", true);
	return check_done();
}

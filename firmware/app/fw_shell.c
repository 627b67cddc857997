#include "fw_shell.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/def.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/icmp6.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/raw.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/timeouts.h"

#define PING_ID	       0x6d71 /* "mq" */
#define PING_DATA      32
#define PING_MAX       10
#define PING_PERIOD_MS 1000

/* Where a command's output goes: the console (session NULL) or a TCP session. */
struct session {
	struct tcp_pcb *pcb;
	char line[FW_SHELL_LINE_MAX];
	size_t len;
	bool overlong;
};

static struct fw_shell_ops shell_ops;
static struct session sessions[FW_SHELL_SESSIONS];

static struct {
	bool active;
	struct session *out; /* NULL: console */
	struct raw_pcb *pcb4, *pcb6;
	ip_addr_t target;
	uint16_t seq;
	unsigned sent, received, count;
	uint32_t sent_ms;
} ping;

/* Queues text for the session (lwIP copies it into its send buffer), without sending: that may
 * enter the tunnel's output, which takes the app's lock. The console writes at once. */
static void queue_out(void *arg, const char *text, size_t len)
{
	struct session *s = arg;

	if (s == NULL)
		shell_ops.console_write(shell_ops.ctx, text, len);
	else if (s->pcb)
		tcp_write(s->pcb, text, (u16_t)len, TCP_WRITE_FLAG_COPY);
}

static void send_out(struct session *s)
{
	if (s && s->pcb)
		tcp_output(s->pcb);
}

static void write_out(struct session *s, const char *text, size_t len)
{
	queue_out(s, text, len);
	send_out(s);
}

static void say(struct session *s, const char *text)
{
	write_out(s, text, strlen(text));
}

/* ---- ping ---- */

/* Same family and bytes (lwIP's ip_addr_cmp was renamed in 2.2; this works with both). */
static bool ip_addr_same(const ip_addr_t *a, const ip_addr_t *b)
{
	if (IP_IS_V6(a) != IP_IS_V6(b))
		return false;
	if (IP_IS_V6(a))
		return memcmp(ip_2_ip6(a)->addr, ip_2_ip6(b)->addr, 16) == 0;
	return ip4_addr_get_u32(ip_2_ip4(a)) == ip4_addr_get_u32(ip_2_ip4(b));
}

static void ping_finish(void)
{
	char line[64];

	snprintf(line, sizeof(line), "ping: %u sent, %u received\n", ping.sent, ping.received);
	say(ping.out, line);
	ping.active = false;
}

static void ping_send(void)
{
	struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
	bool v6 = IP_IS_V6_VAL(ping.target);
	struct icmp_echo_hdr *h;

	if (p == NULL)
		return;
	h = p->payload;
	/* ICMPv6 echo has the same layout; its checksum covers a pseudo header, so lwIP's raw pcb
	 * computes it (chksum_reqd); the ICMPv4 one is ours. */
	ICMPH_TYPE_SET(h, v6 ? ICMP6_TYPE_EREQ : ICMP_ECHO);
	ICMPH_CODE_SET(h, 0);
	h->id = lwip_htons(PING_ID);
	h->seqno = lwip_htons(++ping.seq);
	h->chksum = 0;
	for (size_t i = 0; i < PING_DATA; i++)
		((uint8_t *)p->payload)[sizeof(*h) + i] = (uint8_t)i;
	if (!v6)
		h->chksum = inet_chksum(h, p->len);
	ping.sent_ms = sys_now();
	if (raw_sendto(v6 ? ping.pcb6 : ping.pcb4, p, &ping.target) == ERR_OK)
		ping.sent++;
	pbuf_free(p);
}

static void ping_timer(void *arg)
{
	(void)arg;
	if (!ping.active)
		return;
	if (ping.sent >= ping.count) {
		ping_finish();
		return;
	}
	ping_send();
	sys_timeout(PING_PERIOD_MS, ping_timer, NULL);
}

/* Raw pcbs see the whole packet, IP header first (IPv6: no extension headers expected). */
static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	struct icmp_echo_hdr h;
	uint8_t ver_ihl;
	uint16_t hdr_len;
	bool v6;
	char line[96], a[IPADDR_STRLEN_MAX];

	(void)arg;
	(void)pcb;
	if (!ping.active || pbuf_copy_partial(p, &ver_ihl, 1, 0) != 1)
		return 0;
	v6 = (ver_ihl >> 4) == 6;
	hdr_len = v6 ? IP6_HLEN : (uint16_t)((ver_ihl & 0x0f) * 4);
	if (pbuf_copy_partial(p, &h, sizeof(h), hdr_len) != sizeof(h) ||
	    ICMPH_TYPE(&h) != (v6 ? ICMP6_TYPE_EREP : ICMP_ER) || h.id != lwip_htons(PING_ID) ||
	    !ip_addr_same(addr, &ping.target))
		return 0;
	ping.received++;
	ipaddr_ntoa_r(addr, a, sizeof(a));
	snprintf(line, sizeof(line), "reply from %s: seq=%u time=%lu ms\n", a,
		 (unsigned)lwip_ntohs(h.seqno), (unsigned long)(sys_now() - ping.sent_ms));
	say(ping.out, line);
	pbuf_free(p);
	return 1;
}

static struct raw_pcb *ping_pcb(bool v6)
{
	struct raw_pcb **slot = v6 ? &ping.pcb6 : &ping.pcb4;

	if (*slot == NULL) {
		*slot =
		    v6 ? raw_new_ip_type(IPADDR_TYPE_V6, IP6_NEXTH_ICMP6) : raw_new(IP_PROTO_ICMP);
		if (*slot == NULL)
			return NULL;
		if (v6) {
			(*slot)->chksum_reqd = 1;
			(*slot)->chksum_offset = 2; /* RFC 3542: where the ICMPv6 checksum goes */
		}
		raw_recv(*slot, ping_recv, NULL);
		raw_bind(*slot, v6 ? IP6_ADDR_ANY : IP_ADDR_ANY);
	}
	return *slot;
}

static void cmd_ping(struct session *s, const char *args)
{
	char target[64];
	int count = 3;

	if (ping.active) {
		say(s, "ping: one is already running\n");
		return;
	}
	if (sscanf(args, "%63s %d", target, &count) < 1 || count < 1 || count > PING_MAX ||
	    !ipaddr_aton(target, &ping.target)) {
		say(s, "usage: ping ADDRESS [COUNT 1..10]\n");
		return;
	}
	if (ping_pcb(IP_IS_V6_VAL(ping.target)) == NULL) {
		say(s, "ping: out of memory\n");
		return;
	}
	ping.active = true;
	ping.out = s;
	ping.sent = ping.received = 0;
	ping.count = (unsigned)count;
	ping_send();
	sys_timeout(PING_PERIOD_MS, ping_timer, NULL);
}

/* ---- commands ---- */

/* Returns false when the session should close. */
static bool run_line(struct session *s, char *line)
{
	char *args;
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	args = strchr(line, ' ');
	if (args)
		*args++ = '\0';
	else
		args = line + n;
	if (strcmp(line, "help") == 0) {
		say(s, "commands: help, status, echo TEXT, ping ADDR [N], quit\n");
	} else if (strcmp(line, "status") == 0) {
		/* piece by piece into lwIP's send buffer (no status buffer here), sent after */
		shell_ops.status(shell_ops.ctx, queue_out, s);
		send_out(s);
	} else if (strcmp(line, "echo") == 0) {
		say(s, args);
		say(s, "\n");
	} else if (strcmp(line, "ping") == 0) {
		cmd_ping(s, args);
	} else if (strcmp(line, "quit") == 0) {
		return false;
	} else if (line[0] != '\0') {
		say(s, "unknown command; try help\n");
	}
	return true;
}

/* ---- TCP sessions ---- */

/* Returns ERR_ABRT when the pcb had to be aborted (a recv callback must then say so). */
static err_t session_close(struct session *s)
{
	err_t result = ERR_OK;

	if (ping.out == s)
		ping.out = NULL; /* the rest of its output goes to the console */
	if (s->pcb) {
		tcp_arg(s->pcb, NULL);
		tcp_recv(s->pcb, NULL);
		tcp_err(s->pcb, NULL);
		if (tcp_close(s->pcb) != ERR_OK) {
			tcp_abort(s->pcb);
			result = ERR_ABRT;
		}
	}
	memset(s, 0, sizeof(*s));
	return result;
}

static void session_error(void *arg, err_t err)
{
	struct session *s = arg;

	(void)err;
	if (ping.out == s)
		ping.out = NULL;
	memset(s, 0, sizeof(*s)); /* lwIP has freed the pcb already */
}

static err_t session_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct session *s = arg;
	bool keep = true;

	if (p == NULL || err != ERR_OK) {
		if (p)
			pbuf_free(p);
		return session_close(s);
	}
	for (u16_t i = 0; i < p->tot_len && keep; i++) {
		char c = (char)pbuf_get_at(p, i);

		if (c == '\n') {
			s->line[s->len] = '\0';
			if (s->overlong)
				say(s, "line too long\n");
			else
				keep = run_line(s, s->line);
			s->len = 0;
			s->overlong = false;
		} else if (s->len + 1 < sizeof(s->line)) {
			s->line[s->len++] = c;
		} else {
			s->overlong = true;
		}
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return keep ? ERR_OK : session_close(s);
}

static err_t session_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct session *s = NULL;

	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	for (size_t i = 0; i < FW_SHELL_SESSIONS && s == NULL; i++) {
		if (sessions[i].pcb == NULL)
			s = &sessions[i];
	}
	if (s == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	memset(s, 0, sizeof(*s));
	s->pcb = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, session_recv);
	tcp_err(pcb, session_error);
	say(s, "mqttip device shell; try help\n");
	return ERR_OK;
}

/* ---- entry points ---- */

struct call {
	const char *line;
	int result;
	sys_sem_t done;
};

static void start_in_lwip(void *arg)
{
	struct call *c = arg;
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY), *listener;

	c->result = -1;
	if (pcb == NULL)
		goto out;
	if (tcp_bind(pcb, IP_ANY_TYPE, FW_SHELL_PORT) != ERR_OK) {
		tcp_close(pcb);
		goto out;
	}
	listener = tcp_listen(pcb);
	if (listener == NULL) {
		tcp_close(pcb);
		goto out;
	}
	tcp_accept(listener, session_accept);
	c->result = 0;
out:
	sys_sem_signal(&c->done);
}

static void line_in_lwip(void *arg)
{
	struct call *c = arg;
	char line[FW_SHELL_LINE_MAX];

	snprintf(line, sizeof(line), "%s", c->line);
	run_line(NULL, line);
	sys_sem_signal(&c->done);
}

static int call_in_lwip(tcpip_callback_fn fn, struct call *c)
{
	if (sys_sem_new(&c->done, 0) != ERR_OK)
		return -1;
	if (tcpip_callback(fn, c) != ERR_OK) {
		sys_sem_free(&c->done);
		return -1;
	}
	sys_sem_wait(&c->done);
	sys_sem_free(&c->done);
	return 0;
}

int fw_shell_start(const struct fw_shell_ops *ops)
{
	struct call c = {.result = -1};

	shell_ops = *ops;
	if (call_in_lwip(start_in_lwip, &c) != 0)
		return -1;
	return c.result;
}

void fw_shell_console_line(const char *line)
{
	struct call c = {.line = line};

	call_in_lwip(line_in_lwip, &c);
}

/* fw_shell.h - the device's demo service, as MQTT_VPN's users expect one: a telnet-like status
 * shell on TCP port 23 of the tunnel address, and the same commands on the serial console.
 *   help              the commands
 *   status            the tunnel's state (fw_tunnel_status): node, addresses, broker, peers
 *   echo TEXT         TEXT back (a TCP exchange for tests)
 *   ping ADDR [N]     N (default 3, at most 10) ICMP echo requests (IPv4 or IPv6), 1 s
 *                     apart; prints one line per reply and "ping: S sent, R received"
 *   quit              closes the TCP session
 * Built on lwIP's raw API only (no ESP-IDF); everything runs in lwIP's thread. At most
 * FW_SHELL_SESSIONS TCP sessions at a time, one ping at a time. */
#ifndef MQTTIP_FW_SHELL_H
#define MQTTIP_FW_SHELL_H

#include <stddef.h>

#define FW_SHELL_PORT	  23
#define FW_SHELL_SESSIONS 2
#define FW_SHELL_LINE_MAX 128

struct fw_shell_ops {
	void *ctx;
	/* The tunnel's status text, through emit as it is written: the port calls fw_tunnel_status
	 * with its lock held (emit must not take it: it only queues text). */
	void (*status)(void *ctx, void (*emit)(void *arg, const char *text, size_t len), void *arg);
	/* Console output (UART, stdout). */
	void (*console_write)(void *ctx, const char *text, size_t len);
};

/* Starts the TCP service. Call once, from any thread but lwIP's. Returns 0 or -1. */
int fw_shell_start(const struct fw_shell_ops *ops);
/* Runs one console line (without its newline), from any thread but lwIP's. */
void fw_shell_console_line(const char *line);

#endif

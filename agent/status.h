/* status.h - `mqttip status`: the client side of the daemon's status socket. The daemon
 * (status.c) listens on a unix socket (mode 0600); a client sends one line, "text" or "json",
 * and reads the answer until the daemon closes the connection. Format: docs/AGENT.md. */
#ifndef MQTTIP_STATUS_H
#define MQTTIP_STATUS_H

int cmd_status(int argc, char **argv);

#endif

/* status.h - `mqttip status`: the client side of the daemon's status socket. The daemon
 * (status.c) listens on a unix socket (mode 0600); a client sends one line, "text" or "json",
 * and reads the answer until the daemon closes the connection. Format: docs/AGENT.md (text),
 * docs/STATUS.md (JSON, built by status_json.c). */
#ifndef MQTTIP_STATUS_H
#define MQTTIP_STATUS_H

/* status_server_start (daemon.h) returns this when another live process holds the socket's lock
 * (PATH.lock): the agent refuses to start rather than take the socket over. Its other failures
 * (-1) leave the agent running without a status socket. */
#define STATUS_SOCKET_IN_USE (-2)

int cmd_status(int argc, char **argv);

#endif

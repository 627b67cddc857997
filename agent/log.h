/* log.h - the daemon's log: one line per event on stderr, "mqttip: LEVEL: text". Debug lines
 * (packet level) are printed only after log_set_debug(true), and callers test log_debug_on()
 * before building them so that the packet path pays nothing when debugging is off. */
#ifndef MQTTIP_LOG_H
#define MQTTIP_LOG_H

#include <stdbool.h>

void log_set_debug(bool on);
bool log_debug_on(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

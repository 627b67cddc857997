/* log.h - the daemon's log: one line per event on stderr, "mqttip: LEVEL: text"; when stderr is
 * the systemd journal (log_stderr_is_journal), "<N>LEVEL: text" instead, N the syslog priority
 * (3 error, 4 warning, 6 info, 7 debug), so `journalctl -p warning` selects by level. Debug lines
 * (packet level) are printed only after log_set_debug(true), and callers test log_debug_on()
 * before building them so that the packet path pays nothing when debugging is off.
 * Functions that refuse their input describe why in a caller's buffer instead (set_error), so
 * the caller decides whether it is a log line or the one line a command exits with. */
#ifndef MQTTIP_LOG_H
#define MQTTIP_LOG_H

#include <stdbool.h>
#include <stddef.h>

void log_set_debug(bool on);
/* True when JOURNAL_STREAM ("DEV:INODE", set by systemd) names the file that stderr is. Read once,
 * at the first log line. */
bool log_stderr_is_journal(void);
bool log_debug_on(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formats the reason into err[0..cap) and returns -1, for "return set_error(...)". */
int set_error(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

/* log.c - one line per event on stderr, written with a single write so lines of concurrent
 * processes (tests run two agents) do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static bool debug_enabled;

void log_set_debug(bool on)
{
	debug_enabled = on;
}

bool log_debug_on(void)
{
	return debug_enabled;
}

__attribute__((format(printf, 2, 0))) static void log_line(const char *level, const char *fmt,
							   va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "mqttip: %s: ", level);
	int m;

	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#define LOG_FN(name, level, cond)                                                                  \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		if (!(cond))                                                                       \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		log_line(level, fmt, ap);                                                          \
		va_end(ap);                                                                        \
	}

LOG_FN(log_error, "error", true)
LOG_FN(log_warn, "warning", true)
LOG_FN(log_info, "info", true)
LOG_FN(log_debug, "debug", debug_enabled)

int set_error(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}

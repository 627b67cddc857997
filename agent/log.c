/* log.c - one line per event on stderr, written with a single write so lines of concurrent
 * processes (tests run two agents) do not interleave. Under systemd, when stderr is the journal,
 * each line starts with its syslog priority instead of the program's name (sd-daemon(3)). */
#define _POSIX_C_SOURCE 200809L /* fstat */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* syslog priorities as journald reads them from a "<N>" line prefix */
#define PRIO_ERR     3
#define PRIO_WARNING 4
#define PRIO_INFO    6
#define PRIO_DEBUG   7

static bool debug_enabled;
static int journal_stderr = -1; /* unknown until the first line */

void log_set_debug(bool on)
{
	debug_enabled = on;
}

bool log_debug_on(void)
{
	return debug_enabled;
}

bool log_stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	/* systemd.exec(5): "DEV:INODE" of the stream it connected to stdout/stderr. A child whose
	 * stderr was redirected inherits the variable, hence the comparison with stderr itself. */
	if (stream == NULL || sscanf(stream, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

__attribute__((format(printf, 3, 0))) static void log_line(int prio, const char *level,
							   const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	if (journal_stderr < 0)
		journal_stderr = log_stderr_is_journal();
	/* journald takes the priority from the prefix and the program's name from the unit. */
	if (journal_stderr)
		n = snprintf(line, sizeof(line), "<%d>%s: ", prio, level);
	else
		n = snprintf(line, sizeof(line), "mqttip: %s: ", level);

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

#define LOG_FN(name, prio, level, cond)                                                            \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		if (!(cond))                                                                       \
			return;                                                                    \
		va_start(ap, fmt);                                                                 \
		log_line(prio, level, fmt, ap);                                                    \
		va_end(ap);                                                                        \
	}

LOG_FN(log_error, PRIO_ERR, "error", true)
LOG_FN(log_warn, PRIO_WARNING, "warning", true)
LOG_FN(log_info, PRIO_INFO, "info", true)
LOG_FN(log_debug, PRIO_DEBUG, "debug", debug_enabled)

int set_error(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -1;
}

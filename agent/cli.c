/* cli.c - getopt_long and the one shape of a usage error (cli.h). */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

void cli_begin(struct cli *c, int argc, char **argv)
{
	c->argc = argc;
	c->argv = argv;
	opterr = 0;
	optind = 0; /* glibc: 0 starts over completely, also after another command's parse */
}

/* The synopsis: the usage's "Usage:" line and the indented lines right after it. */
static void print_synopsis(const struct cli *c, FILE *out)
{
	char *text = NULL, *line, *next;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem == NULL)
		return;
	c->usage(mem, c->ctx);
	if (fclose(mem) != 0) {
		free(text);
		return;
	}
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line != text && line[0] != ' ' && line[0] != '\t')
			break;
		fprintf(out, "%s\n", line);
	}
	free(text);
}

static void vprint_error(const struct cli *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vprint_error(const struct cli *c, const char *fmt, va_list ap)
{
	fprintf(stderr, "mqttip%s%s: ", c->command[0] ? " " : "", c->command);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	char page[64];

	va_start(ap, fmt);
	vprint_error(c, fmt, ap);
	va_end(ap);
	if (c->whole_usage) {
		c->usage(stderr, c->ctx);
		return MQTTIP_EXIT_USAGE;
	}
	print_synopsis(c, stderr);
	snprintf(page, sizeof(page), "mqttip%s%s", c->command[0] ? "-" : "", c->command);
	for (char *p = page; *p; p++)
		*p = *p == ' ' ? '-' : *p;
	fprintf(stderr, "Try 'mqttip help%s%s' or 'man %s'.\n", c->command[0] ? " " : "",
		c->command, page);
	return MQTTIP_EXIT_USAGE;
}

int cli_value_error(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(c, fmt, ap);
	va_end(ap);
	return MQTTIP_EXIT_USAGE;
}

/* "--name" of "--name=value" into buf. */
static void long_name(const char *arg, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s", (int)strcspn(arg, "="), arg);
}

/* The long options that start with name (without its "--"), ", "-separated, into buf; how many. */
static int candidates(const struct option *longopts, const char *name, char *buf, size_t cap)
{
	size_t n = strlen(name), used = 0;
	int found = 0;

	buf[0] = '\0';
	for (const struct option *o = longopts; o && o->name; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used, "%s--%s",
						 found ? ", " : "", o->name);
		found++;
	}
	return found;
}

/* Whether a long option that name (without "--") abbreviates has the value val. */
static bool long_has_val(const struct option *longopts, const char *name, int val)
{
	for (const struct option *o = longopts; o && o->name; o++) {
		if (!strncmp(o->name, name, strlen(name)) && o->val == val)
			return true;
	}
	return false;
}

void cli_describe(int opt, int argc, char **argv, const struct option *longopts, char *buf,
		  size_t cap)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	char name[128], alts[256];
	bool is_long = false;

	/* getopt_long tells a long option by optopt 0 (unknown, ambiguous) or by optopt = its
	 * value, and argv[optind - 1] is that option; a short one in the middle of a group ("-Zd")
	 * leaves optind on the group, so argv[optind - 1] is then another argument. */
	if (!strncmp(arg, "--", 2) && arg[2]) {
		long_name(arg, name, sizeof(name));
		is_long = optopt == 0 || long_has_val(longopts, name + 2, optopt);
	}
	if (!is_long)
		snprintf(name, sizeof(name), "-%c", optopt);
	if (opt == ':') {
		snprintf(buf, cap, "option '%s' needs a value", name);
	} else if (is_long && optopt == 0 &&
		   candidates(longopts, name + 2, alts, sizeof(alts)) > 1) {
		snprintf(buf, cap, "option '%s' is ambiguous (%s)", name, alts);
	} else if (is_long && optopt != 0 && strchr(arg, '=')) {
		/* glibc: '?' with the option's value in optopt for "--switch=value" */
		snprintf(buf, cap, "option '%s' takes no value", name);
	} else {
		snprintf(buf, cap, "unknown option '%s'", name);
	}
}

int cli_next(struct cli *c)
{
	int opt = getopt_long(c->argc, c->argv, c->shortopts, c->longopts, NULL);
	char what[512];

	if (opt == -1)
		return CLI_END;
	if (opt == 'h') {
		c->usage(stdout, c->ctx);
		return CLI_HELP;
	}
	if (opt == '?' || opt == ':') {
		cli_describe(opt, c->argc, c->argv, c->longopts, what, sizeof(what));
		cli_usage_error(c, "%s", what);
		return CLI_BAD;
	}
	return opt;
}

int cli_arguments(const struct cli *c, int min, int max, const char *names)
{
	int n = c->argc - optind;
	const char *missing = names;

	if (n > max) {
		cli_usage_error(c, "unexpected argument '%s'", c->argv[optind + max]);
		return CLI_BAD;
	}
	if (n < min) {
		/* skip the names of the arguments given */
		for (int i = 0; i < n && missing; i++) {
			missing = strchr(missing, ' ');
			if (missing)
				missing++;
		}
		cli_usage_error(c, "missing %s", missing && *missing ? missing : names);
		return CLI_BAD;
	}
	return n;
}

int cli_exit_status(int result)
{
	return result == CLI_HELP ? 0 : MQTTIP_EXIT_USAGE;
}

/* pki_args.c - parsing the flags of pki subcommands; usage text generated from the same table,
 * so help and parser never disagree. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "pki_args.h"

static void print_usage(const struct pki_command_line *cl, FILE *out)
{
	fprintf(out, "Usage: %s %s", cl->command, cl->positional_names);
	for (size_t i = 0; i < cl->n_flags; i++)
		fprintf(out, " [%s%s]%s", cl->flags[i].name, cl->flags[i].takes_value ? " V" : "",
			cl->flags[i].max > 1 ? "..." : "");
	fprintf(out, "\n%s\n", cl->description);
	for (size_t i = 0; i < cl->n_flags; i++)
		fprintf(out, "  %-16s %s\n", cl->flags[i].name, cl->flags[i].help);
}

int pki_args_usage_error(const struct pki_command_line *cl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cl->command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	print_usage(cl, stderr);
	return MQTTIP_EXIT_USAGE;
}

int pki_args_exit_status(enum pki_args_result r)
{
	if (r == PKI_ARGS_HELP_SHOWN)
		return 0;
	if (r == PKI_ARGS_BAD)
		return MQTTIP_EXIT_USAGE;
	return -1;
}

static struct pki_flag *find_flag(struct pki_command_line *cl, const char *arg, size_t name_len)
{
	for (size_t i = 0; i < cl->n_flags; i++) {
		if (strlen(cl->flags[i].name) == name_len &&
		    !strncmp(cl->flags[i].name, arg, name_len))
			return &cl->flags[i];
	}
	return NULL;
}

enum pki_args_result pki_args_parse(struct pki_command_line *cl, int argc, char **argv)
{
	size_t n_pos = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			print_usage(cl, stdout);
			return PKI_ARGS_HELP_SHOWN;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			if (n_pos >= cl->n_positional) {
				pki_args_usage_error(cl, "unexpected argument '%s'", arg);
				return PKI_ARGS_BAD;
			}
			cl->positional[n_pos++] = arg;
			continue;
		}
		const char *eq = strchr(arg, '=');
		size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		struct pki_flag *f = find_flag(cl, arg, name_len);

		if (!f) {
			pki_args_usage_error(cl, "unknown flag '%.*s'", (int)name_len, arg);
			return PKI_ARGS_BAD;
		}
		if (f->count >= f->max || f->count >= PKI_FLAG_MAX_VALUES) {
			pki_args_usage_error(cl, "%s given more than %zu time(s)", f->name, f->max);
			return PKI_ARGS_BAD;
		}
		if (!f->takes_value) {
			if (eq) {
				pki_args_usage_error(cl, "%s takes no value", f->name);
				return PKI_ARGS_BAD;
			}
			f->count++;
			continue;
		}
		const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);

		if (!value || !*value) {
			pki_args_usage_error(cl, "%s needs a value", f->name);
			return PKI_ARGS_BAD;
		}
		f->values[f->count++] = value;
	}
	if (n_pos < cl->n_positional) {
		pki_args_usage_error(cl, "missing %s", cl->positional_names);
		return PKI_ARGS_BAD;
	}
	return PKI_ARGS_OK;
}

int pki_args_days(const char *text, long *days)
{
	char *end;

	errno = 0;
	*days = strtol(text, &end, 10);
	if (errno || *end || end == text || *days < 1 || *days > PKI_MAX_DAYS)
		return -1;
	return 0;
}

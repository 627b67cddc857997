/* pki_args.c - the flags of pki subcommands through getopt_long (cli.h); the usage text is made
 * from the same table, so help and parser never disagree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "pki_args.h"

#define FLAG_VAL 1000 /* getopt_long's value of flags[i]: FLAG_VAL + i */

static void print_usage(FILE *out, const void *ctx)
{
	const struct pki_command_line *cl = ctx;

	fprintf(out, "Usage: %s %s", cl->command, cl->positional_names);
	for (size_t i = 0; i < cl->n_flags; i++)
		fprintf(out, " [%s%s%s]%s", cl->flags[i].name, cl->flags[i].value ? " " : "",
			cl->flags[i].value ? cl->flags[i].value : "",
			cl->flags[i].max > 1 ? "..." : "");
	fprintf(out, "\n%s\n", cl->description);
	for (size_t i = 0; i < cl->n_flags; i++)
		fprintf(out, "  %-16s %s\n", cl->flags[i].name, cl->flags[i].help);
}

int pki_args_exit_status(enum pki_args_result r)
{
	if (r == PKI_ARGS_HELP_SHOWN)
		return 0;
	if (r == PKI_ARGS_BAD)
		return MQTTIP_EXIT_USAGE;
	return -1;
}

enum pki_args_result pki_args_parse(struct pki_command_line *cl, int argc, char **argv)
{
	struct option longopts[PKI_ARGS_MAX_FLAGS + 2];
	struct cli c = {
	    .command = cl->command + strlen("mqttip "),
	    .usage = print_usage,
	    .ctx = cl,
	    .shortopts = ":h",
	    .longopts = longopts,
	};
	size_t n = 0;
	int opt, n_args;

	if (cl->n_flags > PKI_ARGS_MAX_FLAGS || cl->n_positional > 4) {
		fprintf(stderr,
			"%s: internal error: more flags or arguments than pki_args.h allows\n",
			cl->command);
		return PKI_ARGS_BAD;
	}
	for (size_t i = 0; i < cl->n_flags; i++)
		longopts[n++] = (struct option){
		    cl->flags[i].name + 2, cl->flags[i].value ? required_argument : no_argument,
		    NULL, FLAG_VAL + (int)i};
	longopts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n] = (struct option){NULL, 0, NULL, 0};

	cli_begin(&c, argc, argv);
	while ((opt = cli_next(&c)) != CLI_END) {
		struct pki_flag *f;

		if (opt == CLI_HELP)
			return PKI_ARGS_HELP_SHOWN;
		if (opt < FLAG_VAL || opt >= FLAG_VAL + (int)cl->n_flags)
			return PKI_ARGS_BAD; /* CLI_BAD: said */
		f = &cl->flags[opt - FLAG_VAL];
		if (f->count >= f->max || f->count >= PKI_FLAG_MAX_VALUES) {
			cli_usage_error(&c, "option '%s' may be given at most %zu time%s", f->name,
					f->max, f->max == 1 ? "" : "s");
			return PKI_ARGS_BAD;
		}
		if (f->value && !*optarg) {
			cli_usage_error(&c, "option '%s' needs a value", f->name);
			return PKI_ARGS_BAD;
		}
		if (f->value)
			f->values[f->count] = optarg;
		f->count++;
	}
	n_args =
	    cli_arguments(&c, (int)cl->n_positional, (int)cl->n_positional, cl->positional_names);
	if (n_args == CLI_BAD)
		return PKI_ARGS_BAD;
	for (int i = 0; i < n_args; i++)
		cl->positional[i] = argv[optind + i];
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

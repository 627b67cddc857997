/* pki_args.h - the command line of one pki subcommand, described by a table: positional
 * arguments and flags written "--name VALUE", "--name=VALUE" or "--name" (switches), in any order
 * (getopt_long, cli.h), each repeatable up to its own limit, a value never empty. Anything else
 * is a usage error in the style of cli.h; --help prints the usage the table makes. */
#ifndef MQTTIP_PKI_ARGS_H
#define MQTTIP_PKI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define PKI_FLAG_MAX_VALUES 16
#define PKI_ARGS_MAX_FLAGS  16

struct pki_flag {
	const char *name;  /* with the leading "--" */
	const char *value; /* its value's name in the usage ("DIR"); NULL: a switch */
	size_t max;	   /* how often it may be given */
	const char *help;
	const char *values[PKI_FLAG_MAX_VALUES]; /* filled by pki_args_parse */
	size_t count;
};

struct pki_command_line {
	const char *command;	      /* "mqttip pki issue" */
	const char *positional_names; /* "DIR NAME" */
	size_t n_positional;
	const char *description;
	struct pki_flag *flags;
	size_t n_flags;
	const char *positional[4];
};

enum pki_args_result { PKI_ARGS_OK = 0, PKI_ARGS_HELP_SHOWN, PKI_ARGS_BAD };

/* Fills the table's values and positional from argv[1..argc); prints the usage (HELP_SHOWN) or
 * the usage error (BAD). */
enum pki_args_result pki_args_parse(struct pki_command_line *cl, int argc, char **argv);
/* Maps a parse result to the subcommand's exit status, or -1 to go on. */
int pki_args_exit_status(enum pki_args_result r);

#define PKI_MAX_DAYS 36500
/* A whole number of days, 1..PKI_MAX_DAYS; 0 or -1. */
int pki_args_days(const char *text, long *days);

#endif

/* cli.h - the command line of every mqttip command: getopt_long (GNU: options and arguments in any
 * order, "--name=VALUE" or "--name VALUE", unambiguous abbreviations, "--" ends the options) and
 * one way to refuse a command line, so that all commands say it alike. A usage error is, on
 * stderr, nothing on stdout, exit status MQTTIP_EXIT_USAGE (2):
 *
 *   mqttip pki issue: unknown option '--adress'
 *   Usage: mqttip pki issue DIR NAME [--addr ADDR[/LEN]]... ...  (the Usage lines of --help)
 *   Try 'mqttip help pki issue' or 'man mqttip-pki-issue'.
 *
 * the first line being one of "unknown option '--x'" / "unknown option '-x'", "option '--x' is
 * ambiguous (--xa, --xb)", "option '--x' needs a value", "option '--x' takes no value",
 * "unexpected argument 'w'", "missing DIR" (or what the command adds: "unknown command 'w'"). A
 * value of the right shape that is not acceptable ("--days 0") is one line instead, saying what
 * to give (cli_value_error). -h / --help prints the whole usage on stdout, exit status 0. */
#ifndef MQTTIP_CLI_H
#define MQTTIP_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli {
	/* the words after "mqttip" ("pki issue"), "" for mqttip itself */
	const char *command;
	/* prints the --help text; its first lines, "Usage: ..." and the indented ones after it,
	 * are the synopsis that follows a usage error */
	void (*usage)(FILE *out, const void *ctx);
	const void *ctx;
	/* getopt_long's; shortopts starts with ':' (after '+' for a command whose first argument
	 * is a subcommand: options end there), so that a missing value is told from an unknown
	 * option, and holds 'h', which longopts maps "help" to */
	const char *shortopts;
	const struct option *longopts;
	/* a usage error shows the whole usage rather than its synopsis and the hint (mqttip
	 * itself: the usage is the list of commands) */
	bool whole_usage;
	int argc;
	char **argv;
};

/* cli_next's results besides the options' own values. */
#define CLI_END	 (-1) /* no more options; the arguments are argv[optind..argc) */
#define CLI_HELP (-2) /* -h / --help: the usage is printed on stdout */
#define CLI_BAD	 (-3) /* a usage error: printed on stderr */

/* Starts parsing argv[1..argc) (argv[0] is the command's name); resets getopt's state. */
void cli_begin(struct cli *c, int argc, char **argv);

/* The next option: its value in longopts / shortopts (optarg set for one that takes a value), or
 * CLI_END, CLI_HELP or CLI_BAD. */
int cli_next(struct cli *c);

/* After CLI_END: the arguments that follow, between min and max of them, checked. names spells
 * them for "missing ..." ("DIR NAME": one given is "missing NAME"). Returns how many there are
 * (they are argv[optind..]) or CLI_BAD. */
int cli_arguments(const struct cli *c, int min, int max, const char *names);

/* Maps CLI_HELP to 0 and CLI_BAD to MQTTIP_EXIT_USAGE: the command's exit status. */
int cli_exit_status(int result);

/* Prints a usage error (first line from fmt, then the synopsis and the hint); returns
 * MQTTIP_EXIT_USAGE. */
int cli_usage_error(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "mqttip CMD: " and fmt, one line (a value the command cannot take); returns
 * MQTTIP_EXIT_USAGE. */
int cli_value_error(const struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first line of the usage error after getopt_long returned '?' or ':' (opt) for argv, into
 * buf; for a parser that cannot print (the daemon re-reads its command line on SIGHUP). */
void cli_describe(int opt, int argc, char **argv, const struct option *longopts, char *buf,
		  size_t cap);

#endif

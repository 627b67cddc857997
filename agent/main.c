/* main.c - entry point of the mqttip program: dispatches to one command per file through a static
 * table (name, function, one-line help), in the manner of wireguard-tools' wg. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "status.h"
#include "top.h"
#include "up.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
	bool has_subcommands; /* `mqttip help CMD SUB` */
} commands[] = {
    {"pki", cmd_pki, "create the broker and VPN certificates and manage nodes", true},
    {"up", cmd_up, "run the tunnel daemon (TUN interface, broker, end-to-end encryption)", false},
    {"status", cmd_status, "show the running tunnel: broker, peers, handshakes, traffic, drops",
     false},
    {"top", cmd_top, "show the broker plugin's metrics: nodes, rates, denials (admin certificate)",
     false},
    {"demo", cmd_demo, "run a broker and agents in network namespaces and show them at work",
     false},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out, const void *ctx)
{
	(void)ctx;
	fprintf(out, "Usage: mqttip COMMAND [ARGS]...\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\n'mqttip COMMAND --help' (or 'mqttip help COMMAND') describes a command, as does "
		"its\nman page mqttip-COMMAND(1); 'mqttip --version' prints %s.\n",
		MQTTIP_VERSION);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	}
	return NULL;
}

/* `mqttip help [CMD [SUB]]` is `mqttip CMD [SUB] --help`: one text per command, the command's
 * own. argv[0] is "help". */
static int help(int argc, char **argv)
{
	const struct cli c = {.command = "help", .usage = usage, .whole_usage = true};
	const struct command *cmd;
	char *args[4];

	if (argc == 1 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout, NULL);
		return 0;
	}
	cmd = find(argv[1]);
	if (cmd == NULL)
		return cli_usage_error(&c, "unknown command '%s'", argv[1]);
	if (argc > (cmd->has_subcommands ? 3 : 2))
		return cli_usage_error(&c, "unexpected argument '%s'",
				       argv[cmd->has_subcommands ? 3 : 2]);
	args[0] = argv[1];
	args[1] = argc == 3 ? argv[2] : "--help";
	args[2] = argc == 3 ? "--help" : NULL;
	args[3] = NULL;
	return cmd->run(argc == 3 ? 3 : 2, args);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli c = {.command = "",
			.usage = usage,
			.shortopts = "+:h",
			.longopts = longopts,
			.whole_usage = true};
	const struct command *cmd;
	int opt;

	cli_begin(&c, argc, argv);
	while ((opt = cli_next(&c)) != CLI_END) {
		if (opt == CLI_HELP || opt == CLI_BAD)
			return cli_exit_status(opt);
		if (opt == 'V') {
			printf("mqttip %s\n", MQTTIP_VERSION);
			return 0;
		}
	}
	if (optind >= argc)
		return cli_usage_error(&c, "missing COMMAND");
	if (!strcmp(argv[optind], "help"))
		return help(argc - optind, argv + optind);
	cmd = find(argv[optind]);
	if (cmd == NULL)
		return cli_usage_error(&c, "unknown command '%s'", argv[optind]);
	return cmd->run(argc - optind, argv + optind);
}

/* main.c - entry point of the mqttip program: dispatches to one command per file through a static
 * table (name, function, one-line help), in the manner of wireguard-tools' wg. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "demo.h"
#include "status.h"
#include "top.h"
#include "up.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
    {"pki", cmd_pki, "create the broker and VPN certificates and manage nodes"},
    {"up", cmd_up, "run the tunnel daemon (TUN interface, broker, end-to-end encryption)"},
    {"status", cmd_status, "show the running tunnel: broker, peers, handshakes, traffic, drops"},
    {"top", cmd_top, "show the broker plugin's metrics: nodes, rates, denials (admin certificate)"},
    {"demo", cmd_demo, "run a broker and agents in network namespaces and show them at work"},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: mqttip COMMAND [ARGS]...\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out,
		"\n'mqttip COMMAND --help' (or 'mqttip help COMMAND') describes a command, as does "
		"its\nman page mqttip-COMMAND(1); 'mqttip --version' prints %s.\n",
		MQTTIP_VERSION);
}

/* `mqttip help CMD [SUB]` is `mqttip CMD [SUB] --help`: one text per command, the command's own. */
static int help(int argc, char **argv)
{
	char *args[4];

	if (argc > 3) {
		fprintf(stderr, "mqttip help: too many arguments\n\n");
		usage(stderr);
		return MQTTIP_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		args[0] = argv[1];
		args[1] = argc == 3 ? argv[2] : "--help";
		args[2] = argc == 3 ? "--help" : NULL;
		args[3] = NULL;
		return commands[i].run(argc == 3 ? 3 : 2, args);
	}
	fprintf(stderr, "mqttip help: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return MQTTIP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return MQTTIP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version")) {
		printf("mqttip %s\n", MQTTIP_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "mqttip: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return MQTTIP_EXIT_USAGE;
}

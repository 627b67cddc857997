/* demo.c - `mqttip demo`: command line, then the tour itself is a shell script, because it is a
 * sequence of other programs (ip netns, mosquitto, mqttip up, ping, iperf3) run with traps that
 * remove everything on failure or Ctrl-C. The script and the plugin are found from the path of
 * this binary in the build tree (nothing needs installing):
 *   build/agent/mqttip, build/agent/mqttip-demo.sh (copied by cmake), build/plugin/mqttip_plugin.so
 * unless --plugin or $MQTTIP_PLUGIN names the plugin; failing that, where `cmake --install` (the
 * Debian packages) puts them: MQTTIP_INSTALLED_DEMO_SCRIPT and MQTTIP_INSTALLED_PLUGIN. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "demo.h"

#define DEMO_NAME_MAX 20
#define DEMO_SCRIPT   "mqttip-demo.sh"
#define DEMO_PLUGIN   "mqttip_plugin.so"

struct demo_options {
	bool keep, down;
	unsigned long nodes, seconds;
	const char *name, *plugin;
};

static void demo_usage(FILE *out, const void *ctx)
{
	(void)ctx;
	fprintf(out,
		"Usage: mqttip demo [--keep] [--nodes N] [--seconds S] [--name NAME]\n"
		"                   [--plugin FILE]\n"
		"       mqttip demo --down [--name NAME]\n"
		"Runs a whole mqttip network on this machine, as root: a temporary PKI\n"
		"(mqttip pki), mosquitto with mqttip_plugin.so and TLS in its own network\n"
		"namespace, N agents (mqttip up) in theirs; then pings and iperf3 through the\n"
		"tunnel, mqttip status, the metrics topic, what the broker sees, and a summary.\n"
		"Everything is removed at the end, also on Ctrl-C or failure. Needs mosquitto,\n"
		"mosquitto-clients, iperf3, iproute2 and ping (scripts/install-deps.sh).\n"
		"  --keep         leave the network running afterwards, for exploring\n"
		"  --down         stop and remove a network left by --keep\n"
		"  --nodes N      agents to start, 2 or 3 (default 3)\n"
		"  --seconds S    iperf3 duration in seconds, 1..60 (default 3)\n"
		"  --name NAME    prefix of the namespaces (NAME-broker, NAME-n1, ...) and\n"
		"                 the state directory /run/NAME (default mqttip-demo);\n"
		"                 a-z 0-9 '-', starting with a letter, at most %d characters\n"
		"  --plugin FILE  the broker plugin (default: $MQTTIP_PLUGIN, else\n"
		"                 ../plugin/%s from this program's directory,\n"
		"                 as in the build tree, else %s)\n"
		"Exit status: 0 every check passed, 1 a step failed, 2 bad command line,\n"
		"130 interrupted.\n",
		DEMO_NAME_MAX, DEMO_PLUGIN, MQTTIP_INSTALLED_PLUGIN);
}

static bool parse_number(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	*out = strtoul(text, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > DEMO_NAME_MAX || name[0] < 'a' || name[0] > 'z')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* -1: options set, go on; else the exit status (help shown, or a usage error said). */
static int parse_args(struct demo_options *o, int argc, char **argv)
{
	enum { O_KEEP = 1000, O_DOWN, O_NODES, O_SECONDS, O_NAME, O_PLUGIN };
	static const struct option opts[] = {
	    {"keep", no_argument, NULL, O_KEEP},
	    {"down", no_argument, NULL, O_DOWN},
	    {"nodes", required_argument, NULL, O_NODES},
	    {"seconds", required_argument, NULL, O_SECONDS},
	    {"name", required_argument, NULL, O_NAME},
	    {"plugin", required_argument, NULL, O_PLUGIN},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli c = {
	    .command = "demo", .usage = demo_usage, .shortopts = ":h", .longopts = opts};
	int opt;

	cli_begin(&c, argc, argv);
	while ((opt = cli_next(&c)) != CLI_END) {
		switch (opt) {
		case O_KEEP:
			o->keep = true;
			break;
		case O_DOWN:
			o->down = true;
			break;
		case O_NODES:
			if (!parse_number(optarg, 2, 3, &o->nodes))
				return cli_value_error(&c, "--nodes must be 2 or 3, not '%s'",
						       optarg);
			break;
		case O_SECONDS:
			if (!parse_number(optarg, 1, 60, &o->seconds))
				return cli_value_error(&c, "--seconds must be 1..60, not '%s'",
						       optarg);
			break;
		case O_NAME:
			if (!valid_name(optarg))
				return cli_value_error(
				    &c,
				    "--name must be a-z 0-9 '-', starting with a "
				    "letter, at most %d characters, not '%s'",
				    DEMO_NAME_MAX, optarg);
			o->name = optarg;
			break;
		case O_PLUGIN:
			o->plugin = optarg;
			break;
		default:
			return cli_exit_status(opt);
		}
	}
	if (cli_arguments(&c, 0, 0, "") == CLI_BAD)
		return MQTTIP_EXIT_USAGE;
	if (o->down && o->keep)
		return cli_usage_error(&c, "--down and --keep exclude each other");
	return -1;
}

/* The running binary (/proc/self/exe) into self, its directory into dir. */
static int binary_paths(char *self, char *dir, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", self, cap - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= cap - 1)
		return -1;
	memcpy(dir, self, (size_t)n + 1);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	return 0;
}

/* dir/rel as an absolute path without "..", into out (PATH_MAX bytes); -1 when it does not
 * exist. */
static int find_beside(const char *dir, const char *rel, char *out)
{
	char path[PATH_MAX];
	int len = snprintf(path, sizeof(path), "%s/%s", dir, rel);

	if (len <= 0 || (size_t)len >= sizeof(path) || access(path, R_OK) != 0)
		return -1;
	return realpath(path, out) != NULL ? 0 : -1;
}

int cmd_demo(int argc, char **argv)
{
	struct demo_options o = {.nodes = 3, .seconds = 3, .name = "mqttip-demo"};
	char dir[PATH_MAX], self[PATH_MAX], script[PATH_MAX], plugin[PATH_MAX], number[24];
	int rc = parse_args(&o, argc, argv);

	if (rc >= 0)
		return rc;
	if (geteuid() != 0) {
		fprintf(stderr, "mqttip demo: needs root (network namespaces, TUN devices, "
				"mosquitto); run it as root or with sudo\n");
		return MQTTIP_EXIT_FAILED;
	}
	if (binary_paths(self, dir, sizeof(dir)) != 0) {
		fprintf(stderr, "mqttip demo: cannot find this program's path in /proc/self/exe\n");
		return MQTTIP_EXIT_FAILED;
	}
	if (find_beside(dir, DEMO_SCRIPT, script) != 0 &&
	    find_beside("/", MQTTIP_INSTALLED_DEMO_SCRIPT, script) != 0) {
		fprintf(stderr,
			"mqttip demo: %s not found in %s nor at %s; rebuild (cmake copies "
			"agent/demo.sh there) or reinstall the package mqttip\n",
			DEMO_SCRIPT, dir, MQTTIP_INSTALLED_DEMO_SCRIPT);
		return MQTTIP_EXIT_FAILED;
	}
	if (o.plugin == NULL)
		o.plugin = getenv("MQTTIP_PLUGIN");
	if (o.down) {
		plugin[0] = '\0'; /* stopping needs none */
	} else if (o.plugin != NULL && o.plugin[0] != '\0') {
		if (realpath(o.plugin, plugin) == NULL) {
			fprintf(stderr, "mqttip demo: plugin %s: %s\n", o.plugin, strerror(errno));
			return MQTTIP_EXIT_FAILED;
		}
	} else if (find_beside(dir, "../plugin/" DEMO_PLUGIN, plugin) != 0 &&
		   find_beside("/", MQTTIP_INSTALLED_PLUGIN, plugin) != 0) {
		fprintf(stderr,
			"mqttip demo: %s not found in %s/../plugin nor at %s; build it (cmake "
			"--build build --target mqttip_plugin), install the package "
			"mosquitto-plugin-mqttip, or give --plugin FILE\n",
			DEMO_PLUGIN, dir, MQTTIP_INSTALLED_PLUGIN);
		return MQTTIP_EXIT_FAILED;
	}

	snprintf(number, sizeof(number), "%lu", o.nodes);
	setenv("MQTTIP_DEMO_NODES", number, 1);
	snprintf(number, sizeof(number), "%lu", o.seconds);
	setenv("MQTTIP_DEMO_SECONDS", number, 1);
	setenv("MQTTIP_DEMO_BIN", self, 1);
	setenv("MQTTIP_DEMO_PLUGIN", plugin, 1);
	setenv("MQTTIP_DEMO_NAME", o.name, 1);
	setenv("MQTTIP_DEMO_KEEP", o.keep ? "1" : "0", 1);
	fflush(NULL);
	execlp("bash", "bash", script, o.down ? "down" : "up", (char *)NULL);
	fprintf(stderr, "mqttip demo: cannot run bash %s: %s\n", script, strerror(errno));
	return MQTTIP_EXIT_FAILED;
}

/* pki.c - `mqttip pki SUBCOMMAND`: dispatch, one file per subcommand (pki_*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "pki.h"

static const struct pki_subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
} pki_subcommands[] = {
    {"init", pki_init,
     "DIR [--net PREFIX]... [--server-name NAME]... [--server-ip ADDR]... [--days N]"},
    {"issue", pki_issue,
     "DIR NAME --addr ADDR[/LEN]... [--route PREFIX]... [--days N] [--admin] [--broker-dir DIR]"},
    {"revoke", pki_revoke, "DIR NAME [--broker-dir DIR]"},
    {"renew", pki_renew, "DIR NAME [--days N] [--new-key] [--broker-dir DIR]"},
    {"revocation", pki_revocation, "DIR"},
    {"rabbitmq", pki_rabbitmq, "DIR [--prefix PREFIX] [--vhost VHOST] [--out FILE]"},
    {"show", pki_show, "FILE"},
    {"verify", pki_verify, "DIR FILE"},
};

static void pki_usage(FILE *out, const void *ctx)
{
	(void)ctx;
	fprintf(out, "Usage:\n");
	for (size_t i = 0; i < sizeof(pki_subcommands) / sizeof(pki_subcommands[0]); i++)
		fprintf(out, "  mqttip pki %s %s\n", pki_subcommands[i].name,
			pki_subcommands[i].synopsis);
	fprintf(out, "\n'mqttip pki SUBCOMMAND --help' describes one; docs/PKI.md describes the "
		     "files.\n");
}

int cmd_pki(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli c = {
	    .command = "pki", .usage = pki_usage, .shortopts = "+:h", .longopts = longopts};
	int opt;

	cli_begin(&c, argc, argv);
	while ((opt = cli_next(&c)) != CLI_END) {
		if (opt == CLI_HELP || opt == CLI_BAD)
			return cli_exit_status(opt);
	}
	if (optind >= argc)
		return cli_usage_error(&c, "missing SUBCOMMAND");
	for (size_t i = 0; i < sizeof(pki_subcommands) / sizeof(pki_subcommands[0]); i++) {
		if (!strcmp(argv[optind], pki_subcommands[i].name))
			return pki_subcommands[i].run(argc - optind, argv + optind);
	}
	return cli_usage_error(&c, "unknown subcommand '%s'", argv[optind]);
}

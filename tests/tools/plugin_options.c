/* plugin_options.c - prints the options the plugin accepts, comma-separated, as its own parser
 * names them when it refuses an unknown one (plugin/options.c), for tests/tools/check-man.sh. */
#include <stdio.h>
#include <string.h>

#include "options.h"

int main(void)
{
	const char *key = "-", *value = "";
	struct plugin_options o;
	char err[512];
	const char *list, *end;

	if (options_parse(&o, &key, &value, 1, err, sizeof(err)) == 0) {
		fprintf(stderr, "plugin_options: the parser accepted an unknown option\n");
		return 1;
	}
	list = strstr(err, "(known: ");
	end = list ? strchr(list, ')') : NULL;
	if (end == NULL) {
		fprintf(stderr, "plugin_options: no list of options in \"%s\"\n", err);
		return 1;
	}
	list += strlen("(known: ");
	printf("%.*s\n", (int)(end - list), list);
	return 0;
}

/* jsonget - reads one JSON document (`mqttip status --json`) on stdin and prints one number or
 * string from it, so that shell tests need no python or jq:
 *   jsonget PATH                  value at PATH, dot-separated keys and array indices
 *                                 (peers.0.address); objects and arrays are printed as JSON
 *   jsonget --drop REASON         sum of every "drops" object's REASON member, wherever it is
 *                                 (the global drops and every peer's)
 *   jsonget --peer ADDR --drop R  drops.R of the peer whose "address" is ADDR (0 if no such peer)
 *   jsonget --peer ADDR PATH      PATH inside that peer's object
 *   jsonget --sum KEY             sum of every numeric member named KEY, at any depth
 * Exit status 1 when PATH is missing or the input is not JSON. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static double sum_named(const cJSON *node, const char *outer, const char *key)
{
	double total = 0;
	const cJSON *child;

	cJSON_ArrayForEach(child, node)
	{
		if (outer && child->string && !strcmp(child->string, outer) &&
		    cJSON_IsObject(child)) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(child, key);

			if (cJSON_IsNumber(v))
				total += v->valuedouble;
		} else if (!outer && child->string && !strcmp(child->string, key) &&
			   cJSON_IsNumber(child)) {
			total += child->valuedouble;
		}
		if (cJSON_IsObject(child) || cJSON_IsArray(child))
			total += sum_named(child, outer, key);
	}
	return total;
}

static const cJSON *find_peer(const cJSON *root, const char *addr)
{
	const cJSON *peers = cJSON_GetObjectItemCaseSensitive(root, "peers");
	const cJSON *p;

	cJSON_ArrayForEach(p, peers)
	{
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "address");

		if (cJSON_IsString(a) && !strcmp(a->valuestring, addr))
			return p;
	}
	return NULL;
}

static const cJSON *walk(const cJSON *node, const char *path)
{
	char buf[512];
	char *save = NULL;

	if (strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	for (char *part = strtok_r(buf, ".", &save); part && node;
	     part = strtok_r(NULL, ".", &save)) {
		if (cJSON_IsArray(node)) {
			char *end;
			long i = strtol(part, &end, 10);

			node = *end ? NULL : cJSON_GetArrayItem(node, (int)i);
		} else {
			node = cJSON_GetObjectItemCaseSensitive(node, part);
		}
	}
	return node;
}

static void print_value(const cJSON *v)
{
	if (cJSON_IsNumber(v)) {
		printf("%.0f\n", v->valuedouble);
	} else if (cJSON_IsString(v)) {
		printf("%s\n", v->valuestring);
	} else {
		char *s = cJSON_PrintUnformatted(v);

		printf("%s\n", s ? s : "null");
		free(s);
	}
}

static char *read_all(FILE *f)
{
	size_t cap = 65536, len = 0, n;
	char *buf = malloc(cap);

	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

int main(int argc, char **argv)
{
	const char *peer = NULL, *drop = NULL, *sum = NULL, *path = NULL;
	const cJSON *scope;
	cJSON *root;
	char *text;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--peer") && i + 1 < argc)
			peer = argv[++i];
		else if (!strcmp(argv[i], "--drop") && i + 1 < argc)
			drop = argv[++i];
		else if (!strcmp(argv[i], "--sum") && i + 1 < argc)
			sum = argv[++i];
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else {
			fprintf(stderr,
				"usage: jsonget [--peer ADDR] (PATH | --drop R | --sum K)\n");
			return 2;
		}
	}
	text = read_all(stdin);
	root = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!root) {
		fprintf(stderr, "jsonget: input is not JSON\n");
		return 1;
	}
	scope = root;
	if (peer) {
		scope = find_peer(root, peer);
		if (!scope) {
			if (drop || sum) {
				printf("0\n");
			} else {
				fprintf(stderr, "jsonget: no peer %s\n", peer);
				rc = 1;
			}
			cJSON_Delete(root);
			return rc;
		}
	}
	if (drop && peer) {
		const cJSON *v = walk(scope, "drops");

		v = cJSON_GetObjectItemCaseSensitive(v, drop);
		printf("%.0f\n", cJSON_IsNumber(v) ? v->valuedouble : 0.0);
	} else if (drop) {
		printf("%.0f\n", sum_named(scope, "drops", drop));
	} else if (sum) {
		printf("%.0f\n", sum_named(scope, NULL, sum));
	} else if (path) {
		const cJSON *v = walk(scope, path);

		if (v)
			print_value(v);
		else
			rc = 1;
	} else {
		rc = 2;
	}
	cJSON_Delete(root);
	return rc;
}

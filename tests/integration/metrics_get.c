/* metrics_get - prints one counter of a plugin metrics document, checking the document's shape
 * on the way (it must parse as JSON and have total, anonymous and nodes).
 * Usage: metrics_get FILE total|anonymous|<node-name> FIELD
 * Exit 0 with the value on stdout; 1 when the node or field is absent; 2 when the document is
 * not valid. Independent of the plugin's code: it only uses cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	if (buf != NULL)
		buf[len] = '\0';
	fclose(f);
	return buf;
}

static const cJSON *find_node(const cJSON *nodes, const char *name)
{
	const cJSON *n;

	cJSON_ArrayForEach(n, nodes)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(n, "name");

		if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0)
			return n;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char *text;
	cJSON *doc;
	const cJSON *scope, *value, *nodes;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: metrics_get FILE total|anonymous|NODE FIELD\n");
		return 2;
	}
	text = read_all(argv[1]);
	doc = text ? cJSON_Parse(text) : NULL;
	free(text);
	nodes = cJSON_GetObjectItemCaseSensitive(doc, "nodes");
	if (doc == NULL || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "total")) ||
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "anonymous")) ||
	    !cJSON_IsArray(nodes)) {
		fprintf(stderr, "metrics_get: %s is not a metrics document\n", argv[1]);
		cJSON_Delete(doc);
		return 2;
	}
	if (strcmp(argv[2], "total") == 0 || strcmp(argv[2], "anonymous") == 0)
		scope = cJSON_GetObjectItemCaseSensitive(doc, argv[2]);
	else
		scope = find_node(nodes, argv[2]);
	value = scope ? cJSON_GetObjectItemCaseSensitive(scope, argv[3]) : NULL;
	if (cJSON_IsNumber(value)) {
		printf("%.0f\n", value->valuedouble);
		rc = 0;
	}
	cJSON_Delete(doc);
	return rc;
}

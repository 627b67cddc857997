/* policy.c - strict parser and lookup for the policy file. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_MAX_FIELDS 4

struct field {
	const char *p;
	size_t len;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Splits one line into at most POLICY_MAX_FIELDS fields; returns the count, or -1 if more. */
static int split_fields(const char *line, size_t len, struct field *f)
{
	int n = 0;
	size_t i = 0;

	while (i < len) {
		size_t start;

		while (i < len && is_space(line[i]))
			i++;
		if (i == len || line[i] == '#')
			break;
		start = i;
		while (i < len && !is_space(line[i]) && line[i] != '#')
			i++;
		if (n == POLICY_MAX_FIELDS)
			return -1;
		f[n].p = line + start;
		f[n].len = i - start;
		n++;
	}
	return n;
}

static bool field_is(const struct field *f, const char *word)
{
	return f->len == strlen(word) && memcmp(f->p, word, f->len) == 0;
}

static int compare_nodes(const void *a, const void *b)
{
	return strcmp(((const struct policy_node *)a)->name, ((const struct policy_node *)b)->name);
}

static struct policy_node *find_or_add(struct policy *p, size_t *cap, const struct field *name)
{
	struct policy_node *n;

	for (size_t i = 0; i < p->count; i++) {
		if (strlen(p->nodes[i].name) == name->len &&
		    memcmp(p->nodes[i].name, name->p, name->len) == 0)
			return &p->nodes[i];
	}
	if (p->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct policy_node *grown;

		if (ncap > POLICY_MAX_NODES)
			return NULL;
		grown = realloc(p->nodes, ncap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		p->nodes = grown;
		*cap = ncap;
	}
	n = &p->nodes[p->count++];
	memset(n, 0, sizeof(*n));
	memcpy(n->name, name->p, name->len);
	return n;
}

static int parse_line(struct policy *p, size_t *cap, const char *line, size_t len, char *why,
		      size_t whylen)
{
	struct field f[POLICY_MAX_FIELDS];
	struct policy_node *node;
	int n = split_fields(line, len, f);
	int want;

	if (n == 0)
		return 0;
	if (n < 0) {
		snprintf(why, whylen, "too many fields");
		return -1;
	}
	if (field_is(&f[0], "deny") || field_is(&f[0], "admin") || field_is(&f[0], "legacy")) {
		want = 2;
	} else if (field_is(&f[0], "route") || field_is(&f[0], "bridge")) {
		want = 3;
	} else {
		snprintf(why, whylen, "unknown keyword (deny, admin, legacy, route, bridge)");
		return -1;
	}
	if (n != want) {
		snprintf(why, whylen, "expected %d fields, got %d", want, n);
		return -1;
	}
	if (f[1].len >= POLICY_NAME_MAX) {
		snprintf(why, whylen, "node name longer than %d bytes", POLICY_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < f[1].len; i++) {
		if ((unsigned char)f[1].p[i] < 0x20 || f[1].p[i] == 0x7f) {
			snprintf(why, whylen, "control character in node name");
			return -1;
		}
	}
	node = find_or_add(p, cap, &f[1]);
	if (node == NULL) {
		snprintf(why, whylen, "too many nodes or out of memory");
		return -1;
	}
	if (field_is(&f[0], "deny")) {
		node->rights.deny = true;
	} else if (field_is(&f[0], "admin")) {
		node->rights.admin = true;
	} else if (field_is(&f[0], "legacy")) {
		node->rights.legacy = true;
	} else {
		struct policy_route r;

		r.bridge = field_is(&f[0], "bridge");
		if (netaddr_parse_prefix(f[2].p, f[2].len, &r.prefix, &r.len) != 0) {
			snprintf(why, whylen, "bad prefix (canonical address/length expected)");
			return -1;
		}
		if (node->rights.nroutes == POLICY_MAX_ROUTES) {
			snprintf(why, whylen, "more than %d routes for one node",
				 POLICY_MAX_ROUTES);
			return -1;
		}
		node->rights.routes[node->rights.nroutes++] = r;
	}
	return 0;
}

int policy_parse(const char *text, size_t len, struct policy *out, char *err, size_t errlen)
{
	size_t cap = 0, lineno = 0, pos = 0;

	out->nodes = NULL;
	out->count = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		char why[96];

		lineno++;
		if (memchr(text + pos, '\0', end - pos) != NULL) {
			snprintf(err, errlen, "line %zu: NUL byte", lineno);
			policy_free(out);
			return -1;
		}
		if (parse_line(out, &cap, text + pos, end - pos, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "line %zu: %s", lineno, why);
			policy_free(out);
			return -1;
		}
		pos = end + 1;
	}
	if (out->count > 1)
		qsort(out->nodes, out->count, sizeof(*out->nodes), compare_nodes);
	return 0;
}

int policy_load(const char *path, struct policy *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(POLICY_MAX_FILE + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory reading %s", path);
		return -1;
	}
	len = fread(buf, 1, POLICY_MAX_FILE + 1, f);
	if (ferror(f) || len > POLICY_MAX_FILE) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 ferror(f) ? strerror(errno) : "larger than 4 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	{
		char why[160];

		rc = policy_parse(buf, len, out, why, sizeof(why));
		if (rc != 0)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	free(buf);
	return rc;
}

void policy_lookup(const struct policy *p, const char *name, struct policy_rights *out)
{
	struct policy_node key;
	const struct policy_node *hit;
	size_t len = strlen(name);

	memset(out, 0, sizeof(*out));
	if (p->count == 0 || len >= POLICY_NAME_MAX)
		return;
	memset(&key, 0, sizeof(key));
	memcpy(key.name, name, len);
	hit = bsearch(&key, p->nodes, p->count, sizeof(*p->nodes), compare_nodes);
	if (hit != NULL)
		*out = hit->rights;
}

static bool has_route(const struct policy_rights *r, const struct policy_route *route)
{
	for (uint8_t i = 0; i < r->nroutes; i++) {
		if (r->routes[i].len == route->len && r->routes[i].bridge == route->bridge &&
		    netaddr_equal(&r->routes[i].prefix, &route->prefix))
			return true;
	}
	return false;
}

bool policy_rights_lost(const struct policy_rights *before, const struct policy_rights *after)
{
	if (after->deny || (before->admin && !after->admin) || (before->legacy && !after->legacy))
		return true;
	for (uint8_t i = 0; i < before->nroutes; i++) {
		if (!has_route(after, &before->routes[i]))
			return true;
	}
	return false;
}

void policy_free(struct policy *p)
{
	free(p->nodes);
	p->nodes = NULL;
	p->count = 0;
}

/* pki_registry.c - network.txt, nodes.txt and the policy file of a PKI directory. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "pki_block.h"
#include "pki_files.h"
#include "pki_registry.h"

#define LINE_MAX_LEN 2048

void pki_prefix_format(const struct cert_prefix *p, char *buf, size_t cap)
{
	char a[NETADDR_STR_MAX];

	if (!netaddr_format(&p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, cap, "%s/%u", a, p->len);
}

bool pki_prefix_parse(const char *text, struct cert_prefix *out)
{
	memset(out, 0, sizeof(*out));
	return netaddr_parse_prefix(text, strlen(text), &out->addr, &out->len) == 0;
}

bool pki_prefix_is_network(const struct cert_prefix *p)
{
	size_t bytes = p->addr.family == 4 ? 4 : 16;

	for (size_t bit = p->len; bit < bytes * 8; bit++) {
		if (p->addr.bytes[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	}
	return true;
}

bool pki_prefix_overlap(const struct cert_prefix *a, const struct cert_prefix *b)
{
	return a->addr.family == b->addr.family && (netaddr_in_prefix(&a->addr, &b->addr, b->len) ||
						    netaddr_in_prefix(&b->addr, &a->addr, a->len));
}

bool pki_name_valid(const char *name)
{
	size_t n = strlen(name);

	/* cert.h's rule: no leading '.' or '-' (a name must not look like a flag or a path). */
	if (n < 1 || n > MQTTIP_CERT_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int write_text(const char *dir, const char *file, const struct pki_text *t)
{
	char path[PKI_PATH_MAX];

	if (t->overflow || !pki_path(path, "%s/%s", dir, file))
		return pki_fail("%s/%s: too much to write", dir, file);
	if (pki_write_file(path, t->buf, t->len, PKI_MODE_PUBLIC) < 0)
		return pki_fail("cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Splits the next line off *cursor (modified in place); NULL at the end. Comments and blank
 * lines are skipped. */
static char *next_line(char **cursor, unsigned *lineno)
{
	while (*cursor && **cursor) {
		char *line = *cursor, *nl = strchr(line, '\n'), *hash;

		*cursor = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		(*lineno)++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line)
			return line;
	}
	return NULL;
}

int pki_network_write(const char *dir, const struct pki_network *n)
{
	struct pki_text t;
	char p[NETADDR_STR_MAX + 8];

	memset(&t, 0, sizeof(t));
	pki_text_printf(&t, "# mqttip VPN network, written by `mqttip pki init`.\n"
			    "# expires UNIX-TIME: the network CA's end of validity\n"
			    "# net PREFIX: an overlay network; node addresses come from these\n");
	pki_text_printf(&t, "expires %lld\n", (long long)n->expires);
	for (size_t i = 0; i < n->n_nets; i++) {
		pki_prefix_format(&n->nets[i], p, sizeof(p));
		pki_text_printf(&t, "net %s\n", p);
	}
	return write_text(dir, PKI_F_NETWORK, &t);
}

int pki_network_read(const char *dir, struct pki_network *n)
{
	char path[PKI_PATH_MAX], *text, *cursor, *line;
	unsigned lineno = 0;
	size_t len;
	int r = 0;

	memset(n, 0, sizeof(*n));
	if (!pki_path(path, "%s/%s", dir, PKI_F_NETWORK))
		return pki_fail("%s: path too long", dir);
	if (pki_read_file(path, (unsigned char **)&text, &len) < 0)
		return pki_fail("cannot read %s: %s; is %s a PKI made by `mqttip pki init`?", path,
				strerror(errno), dir);
	cursor = text;
	while (r == 0 && (line = next_line(&cursor, &lineno))) {
		char key[16], value[128];
		long long t;

		if (sscanf(line, "%15s %127s", key, value) != 2) {
			r = pki_fail("%s:%u: expected 'KEY VALUE'; restore the file", path, lineno);
		} else if (!strcmp(key, "expires") && sscanf(value, "%lld", &t) == 1) {
			n->expires = (time_t)t;
		} else if (!strcmp(key, "net") && n->n_nets < PKI_MAX_NETWORKS &&
			   pki_prefix_parse(value, &n->nets[n->n_nets])) {
			n->n_nets++;
		} else {
			r = pki_fail("%s:%u: bad line '%s'; restore the file", path, lineno, line);
		}
	}
	free(text);
	if (r == 0 && (n->n_nets == 0 || n->expires == 0))
		r = pki_fail("%s: no 'net' or 'expires' line; restore the file", path);
	return r;
}

static bool parse_prefix_list(char *list, struct cert_prefix *out, uint8_t *n, size_t cap)
{
	char *save = NULL;

	*n = 0;
	if (!strcmp(list, "-"))
		return true;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= cap || !pki_prefix_parse(tok, &out[*n]))
			return false;
		(*n)++;
	}
	return *n > 0;
}

/* "-" or 64 hex digits */
static bool parse_key(const char *text, struct pki_node *node)
{
	size_t bin_len;

	if (!strcmp(text, "-"))
		return true;
	if (strlen(text) != 2 * sizeof(node->x25519_public) ||
	    sodium_hex2bin(node->x25519_public, sizeof(node->x25519_public), text, strlen(text),
			   NULL, &bin_len, NULL) != 0 ||
	    bin_len != sizeof(node->x25519_public))
		return false;
	node->has_key = true;
	return true;
}

static bool parse_node(char *line, struct pki_node *node)
{
	char *save = NULL, *f[10];
	size_t n = 0;
	unsigned long long vpn_serial;
	long long not_after, revoked_at;

	memset(node, 0, sizeof(*node));
	for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == 10)
			return false;
		f[n++] = tok;
	}
	/* 9 fields: a line written before the KEY field existed */
	if (n < 9 || (n == 10 && !parse_key(f[9], node)) || strcmp(f[0], "node") ||
	    !pki_name_valid(f[1]) || strlen(f[3]) >= sizeof(node->x509_serial) ||
	    sscanf(f[4], "%llu", &vpn_serial) != 1 || sscanf(f[5], "%lld", &not_after) != 1 ||
	    sscanf(f[6], "%lld", &revoked_at) != 1)
		return false;
	strcpy(node->name, f[1]);
	if (!strcmp(f[2], "revoked"))
		node->revoked = true;
	else if (strcmp(f[2], "valid"))
		return false;
	strcpy(node->x509_serial, f[3]);
	node->vpn_serial = vpn_serial;
	node->not_after = (time_t)not_after;
	node->revoked_at = (time_t)revoked_at;
	return parse_prefix_list(f[7], node->addrs, &node->n_addrs, MQTTIP_CERT_MAX_ADDRS) &&
	       node->n_addrs > 0 &&
	       parse_prefix_list(f[8], node->routes, &node->n_routes, MQTTIP_CERT_MAX_ROUTES);
}

int pki_registry_read(const char *dir, struct pki_registry *r)
{
	char path[PKI_PATH_MAX], *text, *cursor, *line;
	unsigned lineno = 0;
	size_t len;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!pki_path(path, "%s/%s", dir, PKI_F_NODES))
		return pki_fail("%s: path too long", dir);
	if (pki_read_file(path, (unsigned char **)&text, &len) < 0)
		return pki_fail("cannot read %s: %s; is %s a PKI made by `mqttip pki init`?", path,
				strerror(errno), dir);
	cursor = text;
	while (rc == 0 && (line = next_line(&cursor, &lineno))) {
		struct pki_node node;

		if (!parse_node(line, &node))
			rc = pki_fail("%s:%u: bad node line; restore the file", path, lineno);
		else
			rc = pki_registry_add(r, &node);
	}
	free(text);
	if (rc)
		pki_registry_free(r);
	return rc;
}

static void format_list(struct pki_text *t, const struct cert_prefix *p, size_t n)
{
	char buf[NETADDR_STR_MAX + 8];

	if (n == 0)
		pki_text_printf(t, " -");
	for (size_t i = 0; i < n; i++) {
		pki_prefix_format(&p[i], buf, sizeof(buf));
		pki_text_printf(t, "%s%s", i ? "," : " ", buf);
	}
}

int pki_registry_write(const char *dir, const struct pki_registry *r)
{
	char path[PKI_PATH_MAX];
	FILE *f;
	int rc = 0;

	/* The registry can outgrow a pki_text: written line by line, then renamed. */
	if (!pki_path(path, "%s/%s.tmp", dir, PKI_F_NODES))
		return pki_fail("%s: path too long", dir);
	f = fopen(path, "w");
	if (!f)
		return pki_fail("cannot write %s: %s", path, strerror(errno));
	if (fchmod(fileno(f), PKI_MODE_PUBLIC) < 0)
		rc = -1;
	fprintf(f, "# mqttip nodes, kept by `mqttip pki issue/renew/revoke`:\n"
		   "# node NAME valid|revoked X509-SERIAL VPN-SERIAL NOT-AFTER REVOKED-AT ADDRS "
		   "ROUTES KEY\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct pki_node *n = &r->nodes[i];
		struct pki_text t;

		memset(&t, 0, sizeof(t));
		pki_text_printf(&t, "node %s %s %s %" PRIu64 " %lld %lld", n->name,
				n->revoked ? "revoked" : "valid", n->x509_serial, n->vpn_serial,
				(long long)n->not_after, (long long)n->revoked_at);
		format_list(&t, n->addrs, n->n_addrs);
		format_list(&t, n->routes, n->n_routes);
		if (n->has_key) {
			char hex[2 * MQTTIP_KEY_LEN + 1];

			sodium_bin2hex(hex, sizeof(hex), n->x25519_public, MQTTIP_KEY_LEN);
			pki_text_printf(&t, " %s", hex);
		} else {
			pki_text_printf(&t, " -");
		}
		fprintf(f, "%.*s\n", (int)t.len, t.buf);
	}
	if (fflush(f) != 0 || ferror(f))
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0) {
		char final[PKI_PATH_MAX];

		if (!pki_path(final, "%s/%s", dir, PKI_F_NODES) || rename(path, final) < 0)
			rc = -1;
	}
	if (rc)
		return pki_fail("cannot write %s: %s", path, strerror(errno));
	return 0;
}

struct pki_node *pki_registry_find(struct pki_registry *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		if (!strcmp(r->nodes[i].name, name))
			return &r->nodes[i];
	}
	return NULL;
}

int pki_registry_add(struct pki_registry *r, const struct pki_node *node)
{
	struct pki_node *grown = realloc(r->nodes, (r->n + 1) * sizeof(*grown));

	if (!grown)
		return pki_fail("out of memory");
	r->nodes = grown;
	r->nodes[r->n++] = *node;
	return 0;
}

int pki_registry_next_serial(const struct pki_registry *r, uint64_t *serial)
{
	uint64_t max = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (r->nodes[i].vpn_serial > max)
			max = r->nodes[i].vpn_serial;
	}
	if (max == UINT64_MAX)
		return pki_fail("the VPN certificate serials of this PKI are used up; create a new "
				"PKI with `mqttip pki init`");
	*serial = max + 1;
	return 0;
}

void pki_registry_free(struct pki_registry *r)
{
	free(r->nodes);
	r->nodes = NULL;
	r->n = 0;
}

int pki_policy_append(const char *dir, const char *lines)
{
	char path[PKI_PATH_MAX];
	unsigned char *old = NULL;
	size_t old_len = 0, add = strlen(lines);
	char *joined;
	int rc = 0;

	if (!pki_path(path, "%s/%s", dir, PKI_F_POLICY))
		return pki_fail("%s: path too long", dir);
	if (pki_read_file(path, &old, &old_len) < 0 && errno != ENOENT)
		return pki_fail("cannot read %s: %s", path, strerror(errno));
	joined = malloc(old_len + add + 2);
	if (!joined) {
		free(old);
		return pki_fail("out of memory");
	}
	if (old_len)
		memcpy(joined, old, old_len);
	/* An operator's last line may lack its newline; our rule must not join it. */
	if (old_len && old[old_len - 1] != '\n')
		joined[old_len++] = '\n';
	memcpy(joined + old_len, lines, add);
	if (pki_write_file(path, joined, old_len + add, PKI_MODE_PUBLIC) < 0)
		rc = pki_fail("cannot write %s: %s", path, strerror(errno));
	free(joined);
	free(old);
	return rc;
}

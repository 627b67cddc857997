/* state.c - the state file of `mqttip up` (state.h). */
#define _GNU_SOURCE
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "pki_block.h"
#include "pki_files.h"

int state_load(const char *path, uint8_t *out, size_t cap, size_t *len, char *err, size_t errcap)
{
	unsigned char *data = NULL;
	size_t n = 0;
	long got;

	*len = 0;
	if (pki_read_file(path, &data, &n) < 0) {
		if (errno == ENOENT)
			return 0;
		return set_error(err, errcap, "cannot read the state file %s: %s", path,
				 strerror(errno));
	}
	got = bundle_block_find((const char *)data, n, BUNDLE_LABEL_REVOCATION, out, cap);
	pki_free_wiped(data, n);
	if (got <= 0)
		return set_error(
		    err, errcap,
		    "state file %s holds no valid '%s' block: remove it (the node then "
		    "starts from its bundle's list) or restore it",
		    path, BUNDLE_LABEL_REVOCATION);
	*len = (size_t)got;
	return 0;
}

int state_save(const char *path, const uint8_t *list, size_t len, uint64_t version, char *err,
	       size_t errcap)
{
	struct pki_text *t = calloc(1, sizeof(*t));
	char dir[PKI_PATH_MAX], *slash;
	int rc;

	if (!t)
		return set_error(err, errcap, "out of memory");
	/* the directory and, per network namespace, its parent (/var/lib/mqttip/NETNS/) */
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			free(t);
			return set_error(err, errcap, "cannot create %s: %s", dir, strerror(errno));
		}
		*slash = '/';
	}
	pki_text_printf(t,
			"# mqttip node state: the newest VPN revocation list seen (version %llu)\n",
			(unsigned long long)version);
	pki_text_block(t, BUNDLE_LABEL_REVOCATION, list, len);
	rc = t->overflow ? -1 : pki_write_file(path, t->buf, t->len, 0600);
	if (rc)
		set_error(err, errcap, "cannot write the state file %s: %s", path,
			  t->overflow ? "too long" : strerror(errno));
	free(t);
	return rc;
}
